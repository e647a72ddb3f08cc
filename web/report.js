// Renders the report from the JSON object embedded in the page (see src/export/html_data.hpp),
// or, on the master's dashboard, from each new object it is given (chaperonReport.render):
// rendering again replaces what was shown and keeps the chosen metric. Everything is built with
// DOM calls and textContent, so no text of the run is parsed as HTML.
(function () {
  "use strict";
  var data = null;
  var report = { data: null, charts: {}, selected: 0, renders: 0 };
  window.chaperonReport = report;

  var COLORS = { requests: "#2563eb", errors: "#dc2626", metric: "#0d9488", sessions: "#7c3aed",
    started: "#f59e0b", p50: "#16a34a", p90: "#f59e0b", p99: "#dc2626", corrected: "#6b7280" };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }
  report.el = el;  // the dashboard builds its parts with it too
  function fixed(x, digits) { return x === null || x === undefined ? "-" : x.toFixed(digits); }
  function ms(x) { return fixed(x, 3); }
  // A value metric's figures are numbers as recorded, not times: no decimals, no unit.
  function isValue(m) { return m.unit === "value"; }
  function plain(x) { return x === null || x === undefined ? "-" : String(x); }
  function figure(m) { return isValue(m) ? plain : ms; }
  function duration(s) {
    if (s < 60) return (Math.round(s * 1000) / 1000) + " s";
    var m = Math.floor(s / 60), rest = Math.round(s - m * 60);
    if (m < 60) return m + " min " + rest + " s";
    return Math.floor(m / 60) + " h " + (m % 60) + " min";
  }
  function elapsed(s) {
    var m = Math.floor(s / 60), sec = s - m * 60;
    var secText = (Math.round(sec * 10) / 10).toString();
    if (m === 0) return secText + "s";
    return m + ":" + (sec < 10 ? "0" : "") + secText;
  }
  function addFact(list, name, value) {
    list.appendChild(el("div", {}, [el("dt", { text: name }), el("dd", { text: value })]));
  }

  function emptied(id) {
    var node = document.getElementById(id);
    node.textContent = "";
    return node;
  }

  function renderHeader() {
    var name = data.load_test || "load test";
    if (!report.inDashboard) document.title = "chaperon report: " + name;
    document.getElementById("title").textContent = name;
    var meta = emptied("meta");
    if (data.tag) addFact(meta, "tag", data.tag);
    if (data.start_unix_ms) addFact(meta, "started", new Date(data.start_unix_ms).toISOString()
      .replace("T", " ").replace(/\.\d+Z$/, " UTC"));
    addFact(meta, "duration", duration(data.duration_s));
    if (data.series) {
      addFact(meta, "interval", duration(data.series.interval_s));
      addFact(meta, "intervals", String(data.series.intervals));
    }
    var banners = emptied("banners");
    var gen = data.generator;
    if (data.state === "running") banners.appendChild(el("div", { class: "banner info" }, [
      el("strong", { text: "Running:" }),
      el("span", { text: "the figures so far, merged over every node, updated each interval." })]));
    else if (data.partial) banners.appendChild(el("div", { class: "banner warn" }, [
      el("strong", { text: "Partial results:" }), el("span", { text: "the run did not complete." })]));
    if (gen.saturated) {
      var reasons = el("ul", {}, gen.saturation.map(function (r) { return el("li", { text: r }); }));
      banners.appendChild(el("div", { class: "banner bad", id: "verdict" }, [
        el("strong", { text: "Generator saturated:" }),
        el("span", { text: "the load generator could not keep up, so latencies include its own delays." }),
        reasons]));
    } else {
      banners.appendChild(el("div", { class: "banner good", id: "verdict" }, [
        el("strong", { text: "Generator kept up:" }),
        el("span", { text: "no sign of saturation (schedule lag, event-loop delay)." })]));
    }
  }

  function renderTiles() {
    var t = data.totals, tiles = emptied("tiles");
    var all = [["requests", String(t.requests)], ["errors", String(t.errors), t.errors > 0],
      ["requests/s", fixed(t.rps, 2)], ["sessions started", String(t.sessions.started)],
      ["sessions completed", String(t.sessions.completed)],
      ["sessions failed", String(t.sessions.failed + t.sessions.aborted + t.sessions.timed_out),
        t.sessions.failed + t.sessions.aborted + t.sessions.timed_out > 0]];
    all.forEach(function (x) {
      tiles.appendChild(el("div", { class: "tile" + (x[2] ? " bad" : "") }, [
        el("div", { class: "value", text: x[1] }), el("div", { class: "name", text: x[0] })]));
    });
  }

  function row(cells, tag) {
    return el("tr", {}, cells.map(function (c) {
      return typeof c === "object" && c !== null ? c : el(tag || "td", { text: String(c) });
    }));
  }

  function renderSummary() {
    var withCorrected = data.metrics.some(function (m) { return m.corrected; });
    var head = ["metric (times in ms)", "count", "errors", "rps", "min", "mean", "p50", "p90", "p99",
      "max"];
    if (withCorrected) head = head.concat(["corr p50", "corr p99"]);
    var table = emptied("summary");
    table.appendChild(el("thead", {}, [row(head, "th")]));
    var body = el("tbody");
    data.metrics.forEach(function (m, i) {
      var f = figure(m);
      var cells = [m.label, m.count,
        el("td", { class: m.errors > 0 ? "errors-nonzero" : "", text: String(m.errors) }),
        fixed(m.rps, 2), f(m.min), f(m.mean), f(m.p50), f(m.p90), f(m.p99), f(m.max)];
      if (isValue(m)) cells[0] = el("td", {}, [document.createTextNode(m.label + " "),
        el("span", { class: "unit-tag", text: "(value)" })]);
      if (withCorrected)
        cells.push(m.corrected ? f(m.corrected.p50) : "-", m.corrected ? f(m.corrected.p99) : "-");
      var tr = row(cells);
      tr.dataset.metric = String(i);
      tr.addEventListener("click", function () { select(i); });
      body.appendChild(tr);
    });
    table.appendChild(body);
    document.getElementById("corrected-note").hidden = !withCorrected;
    document.getElementById("value-note").hidden = !data.metrics.some(isValue);

    var side = emptied("error-tables");
    function smallTable(id, header, rows) {
      if (!rows.length) return;
      side.appendChild(el("table", { id: id }, [el("thead", {}, [row(header, "th")]),
        el("tbody", {}, rows.map(function (r) { return row(r); }))]));
    }
    smallTable("errors-table", ["error", "count"],
      data.error_metrics.map(function (e) { return [e.label, e.count]; }));
    smallTable("session-errors-table", ["session error", "count"],
      Object.keys(data.session_errors).map(function (k) { return [k, data.session_errors[k]]; }));
  }

  function renderThresholds() {
    var list = data.thresholds || [];
    document.getElementById("thresholds-section").hidden = !list.length;
    var table = emptied("thresholds");
    if (!list.length) return;
    table.appendChild(el("thead", {}, [row(["threshold", "status", "measured", "verdict"], "th")]));
    table.appendChild(el("tbody", {}, list.map(function (v) {
      var status = v.status + (v.aborted_run ? " (stopped the run)" : "");
      return row([v.threshold, el("td", { class: "threshold-" + v.status, text: status }),
        v.metric ? v.metric : "all requests", v.text]);
    })));
  }

  function renderRun() {
    var gen = data.generator, facts = emptied("generator");
    addFact(facts, "generator", gen.saturated ? "saturated" : "kept up");
    addFact(facts, "max thread CPU", Math.round(gen.max_thread_cpu * 100) + " %");
    if (gen.schedule_lag) addFact(facts, "schedule lag", "p50 " + ms(gen.schedule_lag.p50) +
      " ms, p99 " + ms(gen.schedule_lag.p99) + " ms, max " + ms(gen.schedule_lag.max) + " ms");
    if (gen.loop_delay) addFact(facts, "event-loop delay", "p99 " + ms(gen.loop_delay.p99) +
      " ms, max " + ms(gen.loop_delay.max) + " ms");
    if (gen.arrivals_started + gen.arrivals_dropped > 0)
      addFact(facts, "arrivals", gen.arrivals_started + " started, " + gen.arrivals_dropped +
        " dropped");
    var s = data.totals.sessions;
    addFact(facts, "sessions", s.started + " started, " + s.completed + " completed, " + s.failed +
      " failed, " + s.aborted + " aborted, " + s.timed_out + " timed out");
    if (data.info && data.info.entries) data.info.entries.forEach(function (e) {
      addFact(facts, "scenario", e.scenario + " x " + e.count +
        (e.session_name ? " (" + e.session_name + ")" : ""));
    });
    var config = document.getElementById("config");
    config.textContent = data.info ? JSON.stringify(data.info, null, 2) : "";
    document.getElementById("config-details").hidden = !data.info;
  }

  // --- charts -----------------------------------------------------------------------------------

  function chartWidth(id) {
    return Math.max(280, document.getElementById(id).clientWidth);
  }
  function line(label, color, extra) {
    var s = { label: label, stroke: color, width: 1.6, points: { show: false } };
    Object.keys(extra || {}).forEach(function (k) { s[k] = extra[k]; });
    return s;
  }
  // Ticks at round numbers of seconds and minutes rather than at 100 s, 200 s ...
  var timeAxis = { incrs: [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600,
    7200, 10800, 21600, 43200, 86400],
    values: function (u, splits) { return splits.map(elapsed); } };
  function valueAxis(label) {
    return { label: label, size: 56, labelSize: 16,
      values: function (u, splits) { return splits.map(function (v) { return +v.toPrecision(6); }); } };
  }

  function makeChart(id, name, series, columns, options) {
    var host = document.getElementById(id);
    host.textContent = "";
    var xText = options.xText || elapsed;
    var opts = { width: chartWidth(id), height: 260, series: [{ label: options.xLabel || "time",
      value: function (u, v) { return v === null ? "-" : xText(v); } }].concat(series),
      scales: { x: { time: false } }, axes: [timeAxis, valueAxis(options.unit)],
      legend: { live: true }, cursor: { drag: { x: true, y: false } } };
    Object.keys(options.extra || {}).forEach(function (k) { opts[k] = options.extra[k]; });
    if (report.charts[name]) report.charts[name].destroy();
    report.charts[name] = new uPlot(opts, columns, host);
  }

  function seriesCharts(i) {
    var s = data.series, m = data.metrics[i], track = s.metrics[i];
    makeChart("chart-throughput", "throughput", [
      line("all requests/s", COLORS.requests, { fill: "rgba(37,99,235,0.08)" }),
      line("errors/s", COLORS.errors),
      line(m.label + " /s", COLORS.metric, { dash: [6, 4] })],
      [s.t, s.requests, s.errors, track.rps], { unit: "per second" });
    makeChart("chart-sessions", "sessions", [
      line("active sessions", COLORS.sessions, { fill: "rgba(124,58,237,0.10)" }),
      line("started/s", COLORS.started, { dash: [6, 4] })],
      [s.t, s.sessions, s.sessions_started], { unit: "sessions" });
    var latency = [line("p50", COLORS.p50), line("p90", COLORS.p90), line("p99", COLORS.p99)];
    var columns = [s.t, track.p50, track.p90, track.p99];
    if (track.corrected_p99) {
      latency.push(line("corrected p99", COLORS.corrected, { dash: [6, 4] }));
      columns.push(track.corrected_p99);
    }
    makeChart("chart-latency", "latency", latency, columns, { unit: isValue(m) ? "value" : "ms" });
    document.getElementById("latency-caption").textContent =
      (isValue(m) ? "Values over time: " : "Latency over time (ms): ") + m.label;
  }

  // Percentiles on a log scale of 1 / (1 - p): 90%, 99%, 99.9% ... are evenly spaced.
  function spectrumChart(i) {
    var m = data.metrics[i];
    var xs = m.spectrum.map(function (p) { return 1 / (1 - p[0] / 100); });
    var series = [line(m.label, COLORS.requests)];
    var columns = [xs, m.spectrum.map(function (p) { return p[1]; })];
    if (m.corrected) {
      series.push(line("corrected", COLORS.corrected, { dash: [6, 4] }));
      columns.push(m.corrected.spectrum.map(function (p) { return p[1]; }));
    }
    // Grid lines and labels at 0%, 90%, 99%, 99.9% ...: one for each power of ten of x.
    function decades(u) {
      var out = [];
      for (var x = 1; x <= u.scales.x.max * 1.0001; x *= 10) out.push(x);
      return out;
    }
    function percentile(x) { return +(100 * (1 - 1 / x)).toPrecision(6) + "%"; }
    var unit = isValue(m) ? "value" : "ms";
    makeChart("chart-spectrum", "spectrum", series, columns, { unit: unit, xText: percentile,
      xLabel: "percentile", extra: {
      scales: { x: { time: false, distr: 3 } },
      axes: [{ splits: decades, values: function (u, splits) { return splits.map(percentile); } },
        valueAxis(unit)],
    } });
    document.getElementById("spectrum-caption").textContent =
      (isValue(m) ? "Values by percentile: " : "Latency by percentile (ms): ") + m.label;
  }

  function select(i) {
    report.selected = i;
    report.selectedLabel = data.metrics[i].label;
    document.getElementById("metric").value = String(i);
    Array.prototype.forEach.call(document.querySelectorAll("#summary tbody tr"), function (tr) {
      tr.classList.toggle("selected", tr.dataset.metric === String(i));
    });
    if (data.series) seriesCharts(i);
    spectrumChart(i);
  }

  function listenOnce() {
    var picker = document.getElementById("metric");
    picker.addEventListener("change", function () { select(Number(picker.value)); });
    window.addEventListener("resize", function () {
      Object.keys(report.charts).forEach(function (name) {
        var c = report.charts[name];
        c.setSize({ width: Math.max(280, c.root.parentNode.clientWidth), height: 260 });
      });
    });
  }

  function renderCharts() {
    var picker = emptied("metric");
    data.metrics.forEach(function (m, i) {
      picker.appendChild(el("option", { value: String(i), text: m.label }));
    });
    document.getElementById("no-series").hidden = !!data.series;
    ["chart-throughput", "chart-sessions", "chart-latency"].forEach(function (id) {
      document.getElementById(id).parentNode.hidden = !data.series;
    });
    document.getElementById("over-time").hidden = !data.metrics.length;
    if (!data.metrics.length) return;
    // The chosen metric stays chosen while a live report grows, as long as it is there.
    var keep = report.renders > 0 && report.selectedLabel !== undefined;
    var at = keep ? data.metrics.map(function (m) { return m.label; }).indexOf(report.selectedLabel)
      : -1;
    select(at >= 0 ? at : 0);
  }

  // Shows `d` (a report's data); shown again, the charts and tables are replaced.
  report.render = function (d) {
    data = d;
    report.data = d;
    renderHeader();
    renderTiles();
    renderSummary();
    renderThresholds();
    renderCharts();
    renderRun();
    report.renders += 1;
  };

  listenOnce();
  var embedded = document.getElementById("chaperon-data");
  report.inDashboard = !embedded;  // the dashboard has a title of its own
  if (embedded) report.render(JSON.parse(embedded.textContent));
  report.readyMs = performance.now();
  report.ready = true;
})();
