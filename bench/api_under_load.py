#!/usr/bin/env python3
"""The master's HTTP API under load: its latency during a heavy test, its CPU for 10 dashboards.

1. API latency. nginx (one worker on core 0) and a master that runs the test itself (no workers,
   pinned to core 1, the test on one engine thread) with --api-listen. A Demo.Rest test scheduled
   with POST /load_tests (rounds without end, think_time 0ms) drives nginx as hard as it can; the
   window starts once it has run --warmup seconds and lasts --duration. Meanwhile a client on one
   keep-alive connection sends GET /load_tests at a fixed pace (--rate) and records each latency.
   The test's req/s over the window is the slope of its live figures (GET /load_tests/<id> ->
   live, read once a second), once with the client and once without (the order alternates
   between rounds), so the ratio shows whether the API slows the test. The config's `rounds`
   reaches both of Demo.Rest's scenarios, so its 2 anonymous sessions loop GET /account without
   pause; nginx answers "ok" to everything, so the JSON decode after each POST fails: about a
   third of the requests are errors by design, requests all the same.
2. The master's CPU for dashboards. A master with --no-work and one worker (both on core 1) runs
   Demo.BackgroundNoise (10 sessions reading the message list every --light-think-time) against
   the demo target (core 0). The master's CPU time, summed over its threads with ns resolution
   (/proc/PID/task/*/schedstat; utime+stime of /proc/PID/stat is printed beside it, in 10 ms
   ticks), is read over --window seconds with no watcher, then with --watchers watchers. A watcher
   does what the dashboard page does: it holds GET /load_tests/<id>/events and on each
   `event: live` fetches GET /load_tests/<id>/report (GET /load_tests/<id> where /report answers
   404; the output says so) and GET /load_tests.

The script's client and watchers run where the scheduler puts them (--client-core pins them).
Each round also prints the cores used by processes the script did not start (/proc/stat minus
its own process tree): the machine is shared. Medians over --rounds.

  bench/api_under_load.py --cli build/chaperon --demo build/chaperon-demo --rounds 3
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cluster_ws import cli, cpu_seconds, free_port, wait_for  # noqa: E402
from http_vs_wrk import bench_nginx  # noqa: E402

API_TOKEN = "api-under-load-bench"
ENDLESS = 100_000_000  # Demo.Rest rounds: the test runs until it is cancelled


class api:
    """One keep-alive connection to the master's API; every call bounded by `timeout`."""

    IDLE_CUT = 4  # seconds: the API closes connections idle for 5 s; reconnect before that

    def __init__(self, port, timeout=5):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.last_use = time.monotonic()

    def call(self, method, path, body=None):
        """(status, body text)."""
        if time.monotonic() - self.last_use > self.IDLE_CUT:
            self.conn.close()  # http.client connects again on the next request
        self.last_use = time.monotonic()
        headers = {"Authorization": f"Bearer {API_TOKEN}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(body)
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            return resp.status, resp.read().decode()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # the next call reconnects
            raise

    def get_json(self, path):
        status, text = self.call("GET", path)
        if status != 200:
            sys.exit(f"GET {path} answered {status}: {text[:500]}")
        return json.loads(text)

    def close(self):
        self.conn.close()


def start_master(binary, core, out_dir, extra):
    """A master with the API on a free port, pinned to `core`: (process, grpc address, api port)."""
    grpc = f"127.0.0.1:{free_port()}"
    log_path = os.path.join(out_dir, f"master-{len(os.listdir(out_dir))}.log")
    log = open(log_path, "w")
    proc = subprocess.Popen(["taskset", "-c", str(core), binary, "master", "--listen", grpc,
                             "--api-listen", "127.0.0.1:0", "--api-token", API_TOKEN,
                             "--no-progress", "--format", "json",
                             "--output", os.path.join(out_dir, "results.json"), *extra],
                            stdout=log, stderr=subprocess.STDOUT)

    def api_port():
        with open(log_path) as f:
            text = f.read()
        if proc.poll() is not None:
            sys.exit(f"the master exited with {proc.returncode}: {text[-2000:]}")
        m = re.search(r"api listening on http://127\.0\.0\.1:(\d+)", text)
        return m and int(m.group(1))

    return proc, grpc, wait_for("the master's API", api_port, 20, every=0.05)


def schedule(client, test, config, threads):
    status, text = client.call("POST", "/load_tests", {"load_tests": [
        {"test": test, "options": {"config": config, "threads": threads}}]})
    if status != 200:
        sys.exit(f"POST /load_tests answered {status}: {text[:500]}")
    return json.loads(text)["scheduled"][0]


def live_after(client, test_id, seconds):
    """The test's live figures once it has run `seconds` (bounded)."""
    def ready():
        live = client.get_json(f"/load_tests/{test_id}").get("live")
        return live if live and live["elapsed_s"] >= seconds else None
    return wait_for(f"{test_id} to run {seconds} s", ready, seconds + 30, every=0.1)


def cancel(client, test_id):
    status, text = client.call("DELETE", f"/load_tests/{test_id}")
    if status != 202:
        sys.exit(f"DELETE /load_tests/{test_id} answered {status}: {text[:500]}")
    wait_for(f"{test_id} to end", lambda: not client.get_json("/load_tests")["running"], 60, 0.1)


def rate_between(a, b):
    return (b["requests"] - a["requests"]) / max(1e-9, b["elapsed_s"] - a["elapsed_s"])


class rate_sampler(threading.Thread):
    """Reads the test's live figures once a second on a connection of its own.

    A node's interval report may reach the master just after its tick, so one snapshot can lag an
    interval behind and the next catch up (requests_per_second 0, then double): the test's rate
    is the least-squares slope of requests over elapsed_s, not the difference of two snapshots."""

    def __init__(self, port, test_id, done):
        super().__init__(daemon=True)
        self.port, self.test_id, self.done, self.samples = port, test_id, done, {}

    def run(self):
        client = api(self.port)
        try:
            while not self.done.wait(1.0):  # bounded: the window ends and sets `done`
                live = client.get_json(f"/load_tests/{self.test_id}").get("live")
                if live:
                    self.samples[live["elapsed_s"]] = live["requests"]
        finally:
            client.close()

    def rate(self):
        xs, ys = list(self.samples), list(self.samples.values())
        if len(xs) < 2:
            sys.exit(f"fewer than 2 live snapshots of {self.test_id} in the window")
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / \
            sum((x - mx) ** 2 for x in xs)


def pace_requests(port, rate, count, expect):
    """GET /load_tests `count` times at `rate` per second on one connection.

    Returns the latencies (s) and the errors (no answer, not 200, or `expect` not in the body)."""
    client, latencies, errors = api(port), [], 0
    start = time.monotonic()
    try:
        for i in range(count):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # the pace of the requests, not a synchronisation
            t0 = time.perf_counter()
            try:
                status, text = client.call("GET", "/load_tests")
            except (OSError, http.client.HTTPException):
                errors += 1
                continue
            latencies.append(time.perf_counter() - t0)
            if status != 200 or expect not in text:
                errors += 1
    finally:
        client.close()
    return latencies, errors


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def busy_seconds():
    """CPU time all cores spent busy since boot (/proc/stat)."""
    with open("/proc/stat") as f:
        user, nice, system, _, _, irq, softirq, steal = map(int, f.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_seconds():
    """CPU time of this script and every process it started (nginx's worker is a grandchild)."""
    parents = {}
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
        except (ValueError, OSError):
            pass  # not a process, or one that ended
    tree, grew = {os.getpid()}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    total = 0.0
    for pid in tree:
        try:
            total += cpu_seconds(pid)
        except OSError:
            pass
    return total


class other_load:
    """Cores used by processes this script did not start, over a `with` block: the machine is
    shared, and figures taken while something else runs are not comparable."""

    def __enter__(self):
        self.busy, self.own, self.t = busy_seconds(), own_seconds(), time.monotonic()
        return self

    def __exit__(self, *_):
        seconds = time.monotonic() - self.t
        self.cores = max(0.0, (busy_seconds() - self.busy) - (own_seconds() - self.own)) / seconds


def latency_run(port, args, base_url, with_client):
    """One heavy test: (req/s over the window, latency figures in ms, API errors)."""
    control = api(port)
    config = {"base_url": base_url.rstrip("/"), "rounds": ENDLESS, "think_time": "0ms"}
    try:
        test_id = schedule(control, "Demo.Rest", config, args.threads)
        live_after(control, test_id, args.warmup)
        done = threading.Event()
        sampler = rate_sampler(port, test_id, done)
        sampler.start()
        figures, errors = None, 0
        try:
            with other_load() as others:
                if with_client:
                    lat, errors = pace_requests(port, args.rate,
                                                int(args.rate * args.duration), test_id)
                    figures = latency_figures(lat)
                else:
                    time.sleep(args.duration)  # the measuring window itself
        finally:
            done.set()
            sampler.join(timeout=10)
        cancel(control, test_id)
        return sampler.rate(), figures, errors, others.cores
    finally:
        control.close()


def latency_figures(latencies):
    return {p: percentile(latencies, p) * 1000 for p in (50, 90, 99, 100)}


def measure_latency(args, out_dir):
    prefix, base_url, nginx = bench_nginx(0, name="api-under-load-")
    master = None
    rows = []
    try:
        master, _, port = start_master(args.cli, 1, out_dir, [])
        for r in range(args.rounds):
            # The same client with no test running: what the machine alone gives.
            quiet, _ = pace_requests(port, args.rate, int(args.rate * args.duration), "running")
            order = (True, False) if r % 2 == 0 else (False, True)
            runs = {w: latency_run(port, args, base_url, w) for w in order}
            rps_api, lat, errors, busy_api = runs[True]
            rps_alone, _, _, busy_alone = runs[False]
            rows.append((lat, rps_api, rps_alone, errors, max(busy_api, busy_alone),
                         latency_figures(quiet)))
            print(f"round {r + 1}: API p50 {lat[50]:.3f} p90 {lat[90]:.3f} p99 {lat[99]:.3f} "
                  f"max {lat[100]:.3f} ms (no test: p50 {rows[-1][5][50]:.3f} p99 "
                  f"{rows[-1][5][99]:.3f}), errors {errors}; test {rps_api:,.0f} req/s with the "
                  f"client, {rps_alone:,.0f} without ({rps_api / rps_alone:.3f}); other "
                  f"processes {busy_api:.2f} / {busy_alone:.2f} cores", flush=True)
    finally:
        stop(master)
        nginx.terminate()
        nginx.wait(timeout=10)
        shutil.rmtree(prefix, ignore_errors=True)
    return rows


class watcher(threading.Thread):
    """A dashboard: the event stream, and on each live event the report and the list."""

    def __init__(self, port, test_id, report_path, done):
        super().__init__(daemon=True)
        self.port, self.test_id, self.report_path, self.done = port, test_id, report_path, done
        self.events, self.fetches, self.errors, self.failure = 0, 0, 0, None

    def run(self):
        stream = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        fetch = api(self.port)
        try:
            stream.request("GET", f"/load_tests/{self.test_id}/events",
                           headers={"Authorization": f"Bearer {API_TOKEN}"})
            resp = stream.getresponse()
            if resp.status != 200:
                raise RuntimeError(f"events answered {resp.status}")
            while not self.done.is_set():
                line = resp.readline()  # bounded by the socket timeout (events come every 1 s)
                if not line:
                    raise RuntimeError("the event stream ended")
                if line.strip() == b"event: live":
                    self.events += 1
                    self.fetch(fetch, self.report_path)
                    self.fetch(fetch, "/load_tests")
        except (OSError, http.client.HTTPException, RuntimeError) as e:
            if not self.done.is_set():
                self.failure = repr(e)
        finally:
            stream.close()
            fetch.close()

    def fetch(self, client, path):
        status, _ = client.call("GET", path)
        self.fetches += 1
        self.errors += status != 200


def report_route(port, test_id):
    client = api(port)
    status, _ = client.call("GET", f"/load_tests/{test_id}/report")
    client.close()
    return (f"/load_tests/{test_id}/report", True) if status == 200 else \
        (f"/load_tests/{test_id}", False)


def thread_cpu_seconds(pid):
    """CPU time of the process's live threads in ns resolution (/proc/PID/task/*/schedstat);
    /proc/PID/stat counts 10 ms ticks, too coarse for a master that uses a few ms per second."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that ended between the listing and the read
    return total / 1e9


def master_cpu(pid, window):
    """The master's CPU over `window` seconds in ms per second: (schedstat, utime+stime)."""
    c0, s0, t0 = thread_cpu_seconds(pid), cpu_seconds(pid), time.monotonic()
    time.sleep(window)  # the measuring window itself
    seconds = time.monotonic() - t0
    return ((thread_cpu_seconds(pid) - c0) / seconds * 1000,
            (cpu_seconds(pid) - s0) / seconds * 1000)


def cpu_round(master, port, test_id, args, report_path):
    with other_load() as others_idle:
        idle = master_cpu(master.pid, args.window)
    done = threading.Event()
    watchers = [watcher(port, test_id, report_path, done) for _ in range(args.watchers)]
    for w in watchers:
        w.start()
    try:
        wait_for("every watcher's first live event",
                 lambda: all(w.events > 0 or w.failure for w in watchers), 15, every=0.05)
        with other_load() as others_busy:
            busy = master_cpu(master.pid, args.window)
    finally:
        done.set()
        for w in watchers:
            w.join(timeout=10)
    failures = [w.failure for w in watchers if w.failure]
    others = max(others_idle.cores, others_busy.cores)
    return idle, busy, others, (sum(w.events for w in watchers), sum(w.errors for w in watchers),
                                failures)


def measure_cpu(args, out_dir):
    demo = subprocess.Popen(["taskset", "-c", "0", args.demo, "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    master = worker = None
    rows = []
    try:
        m = re.search(r"listening on (http://\S+)", demo.stdout.readline())  # or exits
        if not m:
            sys.exit("the demo target did not start")
        master, grpc, port = start_master(args.cli, 1, out_dir, ["--no-work"])
        worker = subprocess.Popen(["taskset", "-c", "1", args.cli, "worker", "--master", grpc,
                                   "--threads", "1", "--name", "bench-worker"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for("the worker to join", lambda: "bench-worker" in cli(args.cli, "status",
                                                                     "--master", grpc), 30)
        control = api(port)
        long = f"{3600 + args.rounds * args.window * 3:.0f}s"  # outlasts every window
        test_id = schedule(control, "Demo.BackgroundNoise",
                           {"base_url": m.group(1).rstrip("/"), "think_time": args.light_think_time,
                            "noise_duration": long, "timeout": long}, 1)
        first = live_after(control, test_id, args.warmup)
        report_path, has_report = report_route(port, test_id)
        if not has_report:
            print(f"GET /load_tests/{test_id}/report answered 404: the watchers fetch "
                  f"GET /load_tests/{test_id} instead", flush=True)
        for r in range(args.rounds):
            idle, busy, others, (events, errors, failures) = cpu_round(master, port, test_id, args,
                                                                       report_path)
            rows.append((idle[0], busy[0], others))
            print(f"round {r + 1}: master CPU {idle[0]:.2f} ms/s with 0 watchers, {busy[0]:.2f} "
                  f"ms/s with {args.watchers} (utime+stime: {idle[1]:.1f}, {busy[1]:.1f}); "
                  f"{events} live events, {errors} fetch errors"
                  f"{', failures: ' + '; '.join(failures) if failures else ''}; other "
                  f"processes up to {others:.2f} cores", flush=True)
        last = control.get_json(f"/load_tests/{test_id}")["live"]
        cancel(control, test_id)
        control.close()
        return rows, rate_between(first, last), has_report
    finally:
        for p in (worker, master, demo):
            stop(p)


def stop(proc):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def summary(args, lat_rows, cpu_rows, light_rps, has_report):
    med = statistics.median
    print(f"\nmedians over {args.rounds} rounds")
    if lat_rows:
        print(f"1. GET /load_tests at {args.rate:g}/s for {args.duration:g} s during Demo.Rest "
              f"against nginx ({args.threads} engine thread):")
        print("        during the test   no test running")
        for p, name in ((50, "p50"), (90, "p90"), (99, "p99"), (100, "max")):
            print(f"   {name:4s} {med(r[0][p] for r in lat_rows):8.3f} ms "
                  f"{med(r[5][p] for r in lat_rows):14.3f} ms")
        print(f"   API errors: {sum(r[3] for r in lat_rows)}")
        print(f"   test req/s with the client {med(r[1] for r in lat_rows):10,.0f}")
        print(f"   test req/s without         {med(r[2] for r in lat_rows):10,.0f}")
        print(f"   ratio with/without: {med(r[1] / r[2] for r in lat_rows):.3f}")
        print(f"   other processes on the machine: {med(r[4] for r in lat_rows):.2f} cores")
    if cpu_rows:
        idle, busy = med(r[0] for r in cpu_rows), med(r[1] for r in cpu_rows)
        diff = med(r[1] - r[0] for r in cpu_rows)
        fallback = "" if has_report else ", /report absent: GET /load_tests/<id> instead"
        print(f"2. master CPU (--no-work, 1 worker, Demo.BackgroundNoise at {light_rps:,.0f} "
              f"req/s), {args.window:g} s windows{fallback}:")
        print(f"   0 watchers  {idle:7.2f} ms/s")
        print(f"   {args.watchers} watchers {busy:7.2f} ms/s")
        print(f"   difference  {diff:7.2f} ms/s = {diff / 10:.2f}% of a core, "
              f"{diff / args.watchers:.2f} ms/s per watcher")
        print(f"   other processes on the machine: {med(r[2] for r in cpu_rows):.2f} cores")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cli", default=os.path.join("build", "chaperon"))
    ap.add_argument("--demo", default=os.path.join("build", "chaperon-demo"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=10, help="seconds of each latency window")
    ap.add_argument("--warmup", type=float, default=2, help="seconds a test runs before a window")
    ap.add_argument("--rate", type=float, default=100, help="API requests per second")
    ap.add_argument("--threads", type=int, default=1, help="engine threads of the heavy test")
    ap.add_argument("--window", type=float, default=10, help="seconds of each CPU window")
    ap.add_argument("--watchers", type=int, default=10)
    ap.add_argument("--light-think-time", default="10ms")
    ap.add_argument("--client-core", choices=("any", "0", "1"), default="any",
                    help="core of this script's API client and watchers (0: the peer's, 1: the "
                         "master's)")
    ap.add_argument("--only", choices=("latency", "cpu"))
    args = ap.parse_args()
    if not shutil.which("nginx") or not shutil.which("taskset"):
        sys.exit("needs nginx and taskset (scripts/setup.sh installs them)")
    for path in (args.cli, args.demo):
        if not os.access(path, os.X_OK):
            sys.exit(f"not an executable: {path} (see --cli, --demo)")
    if os.cpu_count() < 2:
        sys.exit("needs 2 cores: the peer on core 0, the master on core 1")
    if args.client_core != "any":
        os.sched_setaffinity(0, {int(args.client_core)})
    os.environ["CHAPERON_CLUSTER_TOKEN"] = "api-under-load-cluster"
    out_dir = tempfile.mkdtemp(prefix="api-under-load-")
    try:
        lat_rows = measure_latency(args, out_dir) if args.only != "cpu" else []
        cpu_rows, light_rps, has_report = measure_cpu(args, out_dir) if args.only != "latency" \
            else ([], 0, True)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    summary(args, lat_rows, cpu_rows, light_rps, has_report)


if __name__ == "__main__":
    main()
