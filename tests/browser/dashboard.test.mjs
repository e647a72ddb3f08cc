// The master's dashboard in real headless Chromium, against real processes: the demo target, a
// master serving the HTTP API with a token, and one worker. Without credentials the page is
// refused; logged in (the browser's basic-auth answer: user chaperon, the token), a test is
// scheduled from the page's form, its charts grow for several intervals with both nodes'
// figures, it is cancelled from the page and listed as cancelled, and its report opens. No
// console errors, no request leaves the master's origin; screenshots are saved.
//
//   node dashboard.test.mjs --cli BIN --demo BIN --out DIR
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].slice(2)] = process.argv[i + 1];
for (const name of ["cli", "demo", "out"]) if (!args[name]) throw new Error(`missing --${name}`);
mkdirSync(args.out, { recursive: true });

const CHROMIUM = {
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run"],
};
const API_TOKEN = "dashboard-test-token";
const CLUSTER_TOKEN = "dashboard-cluster-token";

// Starts a program; resolves to the process and the first match of `pattern` in its output.
function startUntil(file, argv, pattern, what) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { stdio: ["ignore", "pipe", "pipe"] });
    const timer = setTimeout(() => { child.kill(); reject(new Error(`${what} did not start in 15 s`)); }, 15000);
    let out = "";
    const seen = (chunk) => {
      out += chunk;
      const m = out.match(pattern);
      if (m) { clearTimeout(timer); resolve({ child, match: m, output: () => out }); }
    };
    child.stdout.on("data", seen);
    child.stderr.on("data", seen);
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`${what} exited (${code}): ${out}`)); });
  });
}

const processes = [];
let browser;
test.after(async () => {
  if (browser) await browser.close();
  for (const p of processes.reverse()) p.kill("SIGKILL");
});

test("schedule, watch, cancel and read a test on the dashboard", async () => {
  const demo = await startUntil(args.demo, ["--port", "0"], /listening on (http:\/\/\S+)/, "demo target");
  processes.push(demo.child);
  const master = await startUntil(args.cli, ["master", "--listen", "127.0.0.1:0", "--token", CLUSTER_TOKEN,
    "--api-listen", "127.0.0.1:0", "--api-token", API_TOKEN, "--expect-workers", "1",
    "--expect-workers-wait", "20s"], /listening on (\S+):(\d+)[^\n]*\n[^]*api listening on (http:\/\/\S+)/, "master");
  processes.push(master.child);
  const api = master.match[3];
  const worker = await startUntil(args.cli, ["worker", "--master", `127.0.0.1:${master.match[2]}`,
    "--token", CLUSTER_TOKEN, "--threads", "1", "--name", "worker-1"], /joining the master/, "worker");
  processes.push(worker.child);

  // Without credentials: refused, with the challenge that makes a browser ask for them.
  const refused = await fetch(`${api}/dashboard`, { signal: AbortSignal.timeout(10000) });
  assert.equal(refused.status, 401);
  assert.match(refused.headers.get("www-authenticate"), /^Basic /);

  browser = await chromium.launch(CHROMIUM);
  // Logged in: the basic-auth answer the browser would get from its prompt.
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 },
    httpCredentials: { username: "chaperon", password: API_TOKEN } });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (msg) => { if (msg.type() === "error") problems.push(`console: ${msg.text()}`); });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("request", (req) => { if (!req.url().startsWith(api)) problems.push(`request: ${req.url()}`); });
  await page.goto(`${api}/dashboard`, { waitUntil: "load", timeout: 30000 });
  await page.waitForFunction(() => window.chaperonDashboard && window.chaperonDashboard.ready,
    null, { timeout: 30000 });
  assert.ok((await page.$$eval("#dash-test option", (os) => os.map((o) => o.value))).includes("Demo.Rest"));

  // Schedule from the form: Demo.Rest against the demo target, long enough to be cancelled.
  await page.selectOption("#dash-test", "Demo.Rest");
  await page.fill("#dash-options", JSON.stringify({ interval: "500ms",
    tag: "from-the-form", config: { base_url: demo.match[1], rounds: 2000, think_time: "20ms" } }));
  await page.click("#dash-schedule-button");
  await page.waitForFunction(() => /scheduled as/.test(
    document.getElementById("dash-schedule-message").textContent), null, { timeout: 10000 });
  const id = (await page.textContent("#dash-schedule-message")).replace("scheduled as ", "").trim();

  // The charts grow interval by interval, with both nodes in the table.
  const points = () => page.evaluate(() => {
    const c = window.chaperonReport.charts.throughput;
    return c ? c.data[0].length : 0;
  });
  await page.waitForFunction(() => window.chaperonDashboard.liveUpdates >= 3 &&
    window.chaperonReport.charts.throughput, null, { timeout: 30000 });
  const early = await points();
  await page.waitForFunction((n) => window.chaperonReport.charts.throughput.data[0].length >= n + 3,
    early, { timeout: 30000 });
  const later = await points();
  assert.ok(later >= early + 3, `points ${early} then ${later}`);
  const live = await page.evaluate(() => window.chaperonReport.data);
  assert.equal(live.state, "running");
  assert.equal(live.id, id);
  assert.ok(live.totals.requests > 0, "requests counted");
  const nodes = await page.$$eval("#dash-nodes tbody tr", (trs) => trs.map((tr) => tr.cells[0].textContent));
  assert.deepEqual(nodes.sort(), ["master", "worker-1"]);
  assert.equal(await page.textContent("#dash-view-state"), "running");
  assert.ok(await page.isVisible(`#dash-running tr[data-id="${id}"]`));
  assert.match(await page.textContent(`#dash-running tr[data-id="${id}"]`), /Demo\.Rest \[from-the-form\]/);
  assert.equal(live.tag, "from-the-form");
  await page.screenshot({ path: join(args.out, "dashboard.png"), fullPage: true });

  // Cancel from the page: the test is listed as cancelled and its report opens.
  await page.click("#dash-view-cancel");
  await page.waitForFunction((tid) => {
    const row = document.querySelector(`#dash-ended tr[data-id="${tid}"]`);
    return row && row.textContent.includes("cancelled") &&
      document.getElementById("dash-view-state").textContent === "cancelled" &&
      !document.getElementById("dash-view-report").hidden;
  }, id, { timeout: 30000 });
  const ended = await page.evaluate(() => window.chaperonReport.data);
  assert.equal(ended.state, "cancelled");
  assert.ok(ended.totals.requests >= live.totals.requests);
  assert.ok(ended.series.intervals >= later, `${ended.series.intervals} intervals`);
  await page.screenshot({ path: join(args.out, "dashboard_cancelled.png"), fullPage: true });

  const href = await page.getAttribute("#dash-view-report", "href");
  const report = await context.newPage();
  report.on("console", (msg) => { if (msg.type() === "error") problems.push(`report console: ${msg.text()}`); });
  report.on("pageerror", (err) => problems.push(`report page error: ${err.message}`));
  await report.goto(new URL(href, api).href, { waitUntil: "load", timeout: 30000 });
  await report.waitForFunction(() => window.chaperonReport && window.chaperonReport.ready, null,
    { timeout: 30000 });
  const data = await report.evaluate(() => window.chaperonReport.data);
  assert.equal(data.load_test, "Demo.Rest");
  assert.equal(data.totals.requests, ended.totals.requests);
  assert.ok(data.series && data.series.intervals >= later, "the report has the series");
  await report.screenshot({ path: join(args.out, "dashboard_report.png"), fullPage: true });
  assert.deepEqual(problems, []);
});
