// The HTML report in real headless Chromium: a report written by the CLI for a short run against
// the demo target loads with no console errors and no network requests, its charts have one point
// per interval, its table's counts equal the CSV's; a screenshot is saved. Then the report of a
// made-up 10-minute run with 20 metrics: its size and load time are printed; and that report
// without its series (totals only).
//
//   node report.test.mjs --cli BIN --demo BIN --large-report BIN --out DIR
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].slice(2)] = process.argv[i + 1];
for (const name of ["cli", "demo", "large-report", "out"])
  if (!args[name]) throw new Error(`missing --${name}`);
mkdirSync(args.out, { recursive: true });

const CHROMIUM = {
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run"],
};

function run(file, argv, timeoutMs) {
  return new Promise((resolve, reject) => {
    execFile(file, argv, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${argv.join(" ")} failed: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

// Starts the demo target on a free port; resolves to its URL and the process.
function startDemo() {
  return new Promise((resolve, reject) => {
    const demo = spawn(args.demo, ["--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
    const timer = setTimeout(() => { demo.kill(); reject(new Error("demo target did not start in 10 s")); }, 10000);
    let out = "";
    demo.stdout.on("data", (chunk) => {
      out += chunk;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) { clearTimeout(timer); resolve({ url: m[1], demo }); }
    });
    demo.on("exit", (code) => { clearTimeout(timer); reject(new Error(`demo target exited (${code})`)); });
  });
}

// Quoted-CSV rows as arrays of fields.
function parseCsv(text) {
  const rows = [];
  let row = [], field = "", quoted = false;
  for (let i = 0; i < text.length; ++i) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; ++i; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(field); field = ""; }
    else if (c === "\n") { row.push(field); rows.push(row); row = []; field = ""; }
    else field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

// Opens a report; resolves to the page and what went wrong on it (console errors, requests that
// left the file).
async function openReport(browser, path) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on("console", (msg) => { if (msg.type() === "error") problems.push(`console: ${msg.text()}`); });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("request", (req) => {
    if (!req.url().startsWith("file:")) problems.push(`network request: ${req.url()}`);
  });
  await page.goto(pathToFileURL(path).href, { waitUntil: "load", timeout: 30000 });
  await page.waitForFunction(() => window.chaperonReport && window.chaperonReport.ready,
    null, { timeout: 30000 });
  return { page, problems };
}

// Points of every time chart: one count per series of each chart.
function chartPoints(page) {
  return page.evaluate(() => {
    const r = window.chaperonReport, out = {};
    for (const name of ["throughput", "sessions", "latency"])
      out[name] = r.charts[name] ? r.charts[name].data.map((column) => column.length) : null;
    return out;
  });
}

let browser;
const work = mkdtempSync(join(tmpdir(), "chaperon-browser-"));

test.before(async () => { browser = await chromium.launch(CHROMIUM); });
test.after(async () => {
  if (browser) await browser.close();
  rmSync(work, { recursive: true, force: true });
});

test("the CLI's report of a run against the demo target", async () => {
  const { url, demo } = await startDemo();
  try {
    await run(args.cli, ["quick", url, "-s", "4", "-d", "3s", "--interval", "500ms", "--no-progress",
      "-o", join(work, "r"), "--report", join(work, "r.html")], 60000);
  } finally {
    demo.kill();
  }
  const { page, problems } = await openReport(browser, join(work, "r.html"));
  const data = await page.evaluate(() => window.chaperonReport.data);

  // One point per interval: at least 3 s in 500 ms intervals, the last one ending with the run
  // (so possibly short).
  const points = data.series.t.length;
  assert.equal(data.series.intervals_per_point, 1);
  assert.equal(points, data.series.intervals);
  // The report rounds times to the millisecond, so a run of 3.0004 s reads 3.000 s: compare the
  // count with the unrounded span, and the last point's end with the run's duration.
  const spans = data.duration_s / data.series.interval_s;
  assert.ok(points >= Math.floor(spans + 1e-6) && points <= Math.ceil(spans + 0.01),
    `points: ${points} for ${data.duration_s} s in ${data.series.interval_s} s intervals`);
  assert.ok(Math.abs(data.series.t[points - 1] - data.duration_s) <= 0.002,
    `the last point ends at ${data.series.t[points - 1]}, the run at ${data.duration_s}`);
  assert.ok(points >= 6, `points: ${points}`);
  const charts = await chartPoints(page);
  for (const [name, lengths] of Object.entries(charts)) {
    assert.ok(lengths && lengths.length >= 2, `chart ${name} is drawn`);
    for (const n of lengths) assert.equal(n, points, `chart ${name}: ${lengths}`);
  }

  // The table's counts are the CSV's.
  const csv = parseCsv(readFileSync(join(work, "r.csv"), "utf8"));
  assert.equal(csv[0][1], "total_count");
  const csvCounts = new Map(csv.slice(1).filter((r) => r.length > 1)
    .map((r) => [r[0].trim(), Number(r[1])]));
  const tableRows = await page.$$eval("#summary tbody tr", (trs) =>
    trs.map((tr) => [tr.cells[0].textContent.trim(), Number(tr.cells[1].textContent)]));
  const errorRows = await page.$$eval("#errors-table tbody tr", (trs) =>
    trs.map((tr) => [tr.cells[0].textContent.trim(), Number(tr.cells[1].textContent)]));
  assert.ok(tableRows.length >= 1, "the table has rows");
  for (const [label, count] of tableRows.concat(errorRows))
    assert.equal(count, csvCounts.get(label), `count of ${label}`);
  const csvMetrics = [...csvCounts.keys()].filter((l) => l !== "schedule_lag" && !l.endsWith(" corrected"));
  assert.equal(tableRows.length + errorRows.length, csvMetrics.length, "every CSV metric is in the table");

  await page.screenshot({ path: join(args.out, "report.png"), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test("the report of a 10-minute run with 20 metrics: size and load time", async () => {
  const path = join(args.out, "large_report.html");
  await run(args["large-report"], [path], 60000);
  const bytes = statSync(path).size;
  const times = [];
  let last, problems;
  for (let i = 0; i < 3; ++i) {
    const opened = await openReport(browser, path);
    times.push(await opened.page.evaluate(() => window.chaperonReport.readyMs));
    assert.deepEqual(opened.problems, []);
    if (last) await last.close();
    last = opened.page;
    problems = opened.problems;
  }
  const charts = await chartPoints(last);
  for (const [name, lengths] of Object.entries(charts))
    for (const n of lengths) assert.equal(n, 600, `chart ${name}`);
  assert.equal(await last.$$eval("#summary tbody tr", (trs) => trs.length), 20);
  // Picking another metric redraws its latency charts.
  await last.selectOption("#metric", "5");
  const picked = await last.evaluate(() => {
    const r = window.chaperonReport;
    return { caption: document.getElementById("latency-caption").textContent,
      p99: r.charts.latency.data[3], expected: r.data.series.metrics[5].p99, label: r.data.metrics[5].label };
  });
  assert.ok(picked.caption.endsWith(picked.label), picked.caption);
  assert.deepEqual(picked.p99, picked.expected);
  assert.deepEqual(problems, []);
  await last.screenshot({ path: join(args.out, "large_report.png"), fullPage: true });
  await last.close();
  times.sort((a, b) => a - b);
  console.log(`large report (600 intervals x 20 metrics): ${bytes} bytes, ` +
    `ready ${Math.round(times[1])} ms after navigation start (median of 3: ${times.map(Math.round).join(", ")})`);
  assert.ok(bytes < 4 << 20, `${bytes} bytes`);
});

test("a report without the interval series shows the totals", async () => {
  const path = join(work, "totals_only.html");
  await run(args["large-report"], [path, "--totals-only"], 60000);
  const { page, problems } = await openReport(browser, path);
  assert.deepEqual(await chartPoints(page), { throughput: null, sessions: null, latency: null });
  assert.equal(await page.$$eval("#summary tbody tr", (trs) => trs.length), 20);
  assert.ok(await page.isVisible("#no-series"));
  assert.ok(await page.isVisible("#chart-spectrum"), "the percentile spectrum needs no series");
  assert.deepEqual(problems, []);
  await page.close();
});

test("a value metric shows its numbers without a time unit", async () => {
  const path = join(work, "values.html");
  await run(args["large-report"], [path, "--value-metric"], 60000);
  const { page, problems } = await openReport(browser, path);
  const data = await page.evaluate(() => window.chaperonReport.data);
  const index = data.metrics.findIndex((m) => m.label === "bytes");
  assert.ok(index >= 0, "the value metric is a row");
  assert.equal(data.metrics[index].unit, "value");
  const cells = await page.$$eval("#summary tbody tr", (trs, i) =>
    [...trs[i].cells].map((c) => c.textContent), index);
  // label, count, errors, rps, min, mean, p50, p90, p99, max
  assert.equal(cells[0], "bytes (value)");
  assert.deepEqual(cells.slice(4), ["1000", "1100", "1000", "1000", "2000", "2000"]);
  assert.ok(await page.isVisible("#value-note"));
  await page.selectOption("#metric", String(index));
  const captions = await page.evaluate(() => [
    document.getElementById("latency-caption").textContent,
    document.getElementById("spectrum-caption").textContent]);
  assert.deepEqual(captions, ["Values over time: bytes", "Values by percentile: bytes"]);
  const p99 = await page.evaluate(() => window.chaperonReport.charts.latency.data[3][0]);
  assert.equal(p99, 2000);
  assert.deepEqual(problems, []);
  await page.close();
});
