// The master's dashboard: the queue's tests (running, scheduled, ended), a form that schedules a
// load test, and the selected test's report, live while it runs. It uses only the HTTP API of
// the same origin (the browser sends the credentials it logged in with) and renders reports
// with the HTML report's own code (chaperonReport.render). Text from the master goes into the
// page through textContent only.
(function () {
  "use strict";
  var LIST_PERIOD_MS = 2000;
  var dash = { selected: null, state: null, source: null, liveUpdates: 0, ready: false };
  window.chaperonDashboard = dash;

  function $(id) { return document.getElementById(id); }
  var el = window.chaperonReport.el;  // the report's own: text goes in as textContent
  function testPath(id, rest) { return "/load_tests/" + encodeURIComponent(id) + (rest || ""); }

  // Resolves to the parsed JSON body (or the text); rejects with the API's message.
  function api(method, path, body) {
    var init = { method: method, credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (r) {
      return r.text().then(function (text) {
        var parsed = text;
        try { parsed = JSON.parse(text); } catch (e) { /* plain text */ }
        if (!r.ok) {
          var why = parsed && parsed.message ? parsed.message : parsed && parsed.error;
          throw new Error(method + " " + path + ": " + r.status + (why ? " " + why : ""));
        }
        return parsed;
      });
    });
  }

  function problem(text) {
    var box = $("dash-problem");
    box.textContent = text || "";
    box.hidden = !text;
  }

  // --- the lists -------------------------------------------------------------------------

  function stateBadge(state) { return el("span", { class: "state " + state, text: state }); }

  function listRow(t, kind) {
    var actions = el("td", {});
    var view = el("button", { type: "button", class: "view", text: "view" });
    view.addEventListener("click", function () { select(t.id); });
    actions.appendChild(view);
    if (kind !== "ended") {
      var cancel = el("button", { type: "button", class: "cancel", text: "cancel" });
      cancel.addEventListener("click", function () { cancelTest(t.id); });
      actions.appendChild(document.createTextNode(" "));
      actions.appendChild(cancel);
    }
    var tr = el("tr", { "data-id": t.id, class: t.id === dash.selected ? "current" : "" }, [
      el("td", { text: t.id }), el("td", { text: t.name + (t.tag ? " [" + t.tag + "]" : "") }),
      el("td", {}, [stateBadge(t.state)]),
      el("td", { text: t.error || "" }), actions]);
    return tr;
  }

  function fillList(id, tests, kind) {
    var table = $(id);
    table.textContent = "";
    if (!tests.length) {
      table.appendChild(el("tbody", {}, [el("tr", {}, [el("td", { class: "empty", text: "none" })])]));
      return;
    }
    table.appendChild(el("tbody", {}, tests.map(function (t) { return listRow(t, kind); })));
  }

  function refreshLists() {
    return Promise.all([api("GET", "/load_tests"), api("GET", "/load_tests/ended")])
      .then(function (both) {
        var lists = { running: both[0].running, scheduled: both[0].scheduled,
          ended: both[1].ended.slice(0, 20) };
        dash.lists = lists;
        fillList("dash-running", lists.running, "running");
        fillList("dash-scheduled", lists.scheduled, "scheduled");
        fillList("dash-ended", lists.ended, "ended");
        $("dash-updated").textContent = new Date().toLocaleTimeString();
        problem("");
        if (dash.selected === null && lists.running.length) select(lists.running[0].id);
        else if (dash.selected !== null) followState();
      })
      .catch(function (e) { problem("The master did not answer: " + e.message); });
  }

  // The selected test's state as the lists say; a test that ended since is shown ended.
  function followState() {
    var t = find(dash.selected);
    if (!t || t.state === dash.state) return;
    if (dash.state === "scheduled" && t.state === "running") select(t.id);
    else if (t.state !== "running" && t.state !== "scheduled" && !dash.source) select(t.id);
  }

  function cancelTest(id) {
    api("DELETE", testPath(id)).then(refreshLists)
      .catch(function (e) { problem(e.message); refreshLists(); });
  }

  // --- the selected test -----------------------------------------------------------------

  function closeStream() {
    if (dash.source) dash.source.close();
    dash.source = null;
  }

  function showTest(t, note) {
    dash.state = t.state;
    $("dash-view").hidden = false;
    $("dash-view-title").textContent = t.name + " (" + t.id + ")";
    var badge = $("dash-view-state");
    badge.className = "state " + t.state;
    badge.textContent = t.state;
    $("dash-view-cancel").hidden = !(t.state === "running" || t.state === "scheduled");
    $("dash-view-note").textContent = note || t.error || "";
  }

  function showNodes(nodes) {
    var table = $("dash-nodes");
    table.textContent = "";
    $("dash-nodes-wrap").hidden = !nodes || !nodes.length;
    if (!nodes || !nodes.length) return;
    var head = ["node", "requests", "errors", "sessions active", "done", "total"];
    table.appendChild(el("thead", {}, [el("tr", {}, head.map(function (h) {
      return el("th", { text: h }); }))]));
    table.appendChild(el("tbody", {}, nodes.map(function (n) {
      return el("tr", {}, [n.name, n.requests, n.errors, n.sessions_active, n.sessions_done,
        n.sessions_total].map(function (v) { return el("td", { text: String(v) }); }));
    })));
  }

  function showReport(data) {
    $("dash-report").hidden = false;
    window.chaperonReport.render(data);
    if (data.live) showNodes(data.live.nodes);
    else if (data.cluster) showNodes(data.cluster.nodes.map(function (name) {
      return { name: name, requests: "-", errors: "-", sessions_active: "-", sessions_done: "-",
        sessions_total: "-" };
    }));
  }

  function loadReport(id) {
    return api("GET", testPath(id, "/report")).then(function (data) {
      if (dash.selected !== id) return;
      showTest({ id: id, name: data.load_test, state: data.state, error: data.error });
      showReport(data);
      if (data.state !== "running") {
        var link = $("dash-view-report");
        link.href = testPath(id, "/results?format=html");
        link.hidden = false;
      }
      return data;
    });
  }

  function follow(id) {
    var source = new EventSource(testPath(id, "/events"));
    dash.source = source;
    source.addEventListener("live", function () {
      if (dash.source !== source) return;
      loadReport(id).then(function () { dash.liveUpdates += 1; })
        .catch(function (e) { problem(e.message); });
    });
    source.addEventListener("end", function (event) {
      source.close();
      if (dash.source === source) dash.source = null;
      var status = JSON.parse(event.data);
      showTest({ id: id, name: status.name || id, state: status.state, error: status.error });
      refreshLists();
      if (status.state !== "unknown") loadReport(id).catch(function () {
        $("dash-view-note").textContent = "This test has no results.";
      });
    });
  }

  function find(id) {
    var l = dash.lists || { running: [], scheduled: [], ended: [] };
    return l.running.concat(l.scheduled, l.ended).filter(function (t) { return t.id === id; })[0];
  }

  function select(id) {
    closeStream();
    dash.selected = id;
    $("dash-view-report").hidden = true;
    $("dash-report").hidden = true;
    $("dash-nodes-wrap").hidden = true;
    Array.prototype.forEach.call(document.querySelectorAll(".dash-list tr"), function (tr) {
      tr.classList.toggle("current", tr.getAttribute("data-id") === id);
    });
    var t = find(id) || { id: id, name: id, state: "scheduled" };
    showTest(t, t.state === "scheduled" ? "Waiting for its turn in the queue." : "");
    if (t.state === "running" || t.state === "scheduled") {
      if (t.state === "running") follow(id);
      return;
    }
    if (t.results === false) {
      $("dash-view-note").textContent = t.error || "This test has no results.";
      return;
    }
    loadReport(id).catch(function (e) { problem(e.message); });
  }

  // --- scheduling ------------------------------------------------------------------------

  function schedule(event) {
    event.preventDefault();
    var message = $("dash-schedule-message");
    var options;
    try {
      options = JSON.parse($("dash-options").value || "{}");
    } catch (e) {
      message.textContent = "options: not valid JSON (" + e.message + ")";
      return;
    }
    var body = { load_tests: [{ test: $("dash-test").value, options: options }] };
    message.textContent = "scheduling ...";
    api("POST", "/load_tests", body).then(function (r) {
      var id = r.scheduled[0];
      message.textContent = "scheduled as " + id;
      return refreshLists().then(function () { select(id); });
    }).catch(function (e) { message.textContent = e.message; });
  }

  function start() {
    $("dash-schedule-form").addEventListener("submit", schedule);
    $("dash-view-cancel").addEventListener("click", function () {
      if (dash.selected !== null) cancelTest(dash.selected);
    });
    var picker = $("dash-test");
    Promise.all([api("GET", "/version"), api("GET", "/load_tests/registered")])
      .then(function (r) {
        $("dash-master").textContent = "chaperon " + r[0];
        r[1].load_tests.forEach(function (name) {
          picker.appendChild(el("option", { value: name, text: name }));
        });
        return refreshLists();
      })
      .then(function () { dash.ready = true; })
      .catch(function (e) { problem(e.message); });
    setInterval(refreshLists, LIST_PERIOD_MS);
  }

  start();
})();
