#!/usr/bin/env python3
"""100,000 idle WebSocket sessions from one master and several workers on this machine.

One process may hold at most 20,000 open files here, so neither the generator nor the target can
be one process: the target is several chaperon-demo processes (one port each), the generator a
master (--no-work) and several workers, all on 127.0.0.1. The load test (bench/cluster_ws_tests.cpp,
built as bench_cluster_ws) gives every target the same number of sessions; each session connects,
makes one echo round trip, holds its connection idle, makes a second round trip and closes.

Reported:
- the time from `schedule` to every session connected (established connections on the targets'
  ports, read with ss);
- RSS per session, summed over the master and the workers: (RSS while all are connected - RSS
  after the workers joined) / sessions;
- the master's CPU per second per worker while the sessions are held (it receives every
  worker's interval report, merges them and checks thresholds);
- the test's own figures: sessions completed, errors, echo round trips.

  bench/cluster_ws.py --build build --sessions 100000 --targets 7 --workers 6 --hold 30
"""
import argparse
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TOKEN = "cluster-ws-bench"


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def build(build_dir):
    subprocess.run(["cmake", "-S", ROOT, "-B", build_dir, "-DCHAPERON_BUILD_BENCH=ON"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build_dir, "-j", os.environ.get("CHAPERON_JOBS", "2"),
                    "--target", "bench_cluster_ws", "chaperon-demo"], check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(build_dir, "bench_cluster_ws")


def start_target(build_dir, core):
    cmd = ["taskset", "-c", str(core), os.path.join(build_dir, "chaperon-demo"), "--port", "0",
           "--threads", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, preexec_fn=raise_nofile)
    line = proc.stdout.readline()  # bounded: the demo prints this line or exits
    m = re.search(r"listening on (http://\S+)", line)
    if not m:
        sys.exit(f"demo did not start: {line!r}")
    return proc, m.group(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def established(ports):
    out = subprocess.run(["ss", "-Htn", "state", "established"], capture_output=True, text=True,
                         timeout=60).stdout
    wanted = {f"127.0.0.1:{p}" for p in ports}
    return sum(1 for line in out.splitlines() if line.split()[2] in wanted)


def wait_for(what, predicate, timeout, every=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)  # polling a condition, bounded by the deadline
    sys.exit(f"timed out after {timeout} s waiting for {what}")


def cli(binary, *args, timeout=60):
    out = subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        sys.exit(f"{binary} {' '.join(args)} failed ({out.returncode}): {out.stderr[-2000:]}")
    return out.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--sessions", type=int, default=100000)
    ap.add_argument("--targets", type=int, default=7)
    ap.add_argument("--workers", type=int, default=6)
    ap.add_argument("--hold", type=int, default=30, help="seconds each session holds its socket")
    ap.add_argument("--spread", type=int, default=10000,
                    help="sessions start at random within this many ms (connect bursts)")
    args = ap.parse_args()
    per_target = -(-args.sessions // args.targets)
    sessions = per_target * args.targets
    if -(-sessions // args.workers) > 19000:
        sys.exit("more than 19,000 sessions per worker: add workers (20,000 open files each)")
    os.environ["CHAPERON_CLUSTER_TOKEN"] = TOKEN  # for every node and client started here
    binary = build(args.build)
    out_dir = tempfile.mkdtemp(prefix="cluster-ws-")
    procs = []
    try:
        targets = []
        for i in range(args.targets):
            proc, url = start_target(args.build, i % 2)
            procs.append(proc)
            targets.append(url)
        ports = [int(u.rsplit(":", 1)[1].strip("/")) for u in targets]
        env = dict(os.environ, CLUSTER_WS_TARGETS=",".join(targets),
                   CLUSTER_WS_SESSIONS=str(per_target))
        port = free_port()
        master_log = open(os.path.join(out_dir, "master.log"), "w")
        master = subprocess.Popen([binary, "master", "--listen", f"127.0.0.1:{port}", "--no-work",
                                   "--output", os.path.join(out_dir, "results.json"), "--format", "json"],
                                  env=env, stdout=master_log, stderr=subprocess.STDOUT,
                                  preexec_fn=raise_nofile)
        procs.append(master)
        workers = []
        for i in range(args.workers):
            w = subprocess.Popen([binary, "worker", "--master", f"127.0.0.1:{port}", "--threads",
                                  "1", "--name", f"worker-{i}"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 preexec_fn=raise_nofile)
            procs.append(w)
            workers.append(w)
        master_address = f"127.0.0.1:{port}"
        wait_for("the workers to join",
                 lambda: cli(binary, "status", "--master", master_address).count("worker-")
                 >= args.workers, 60)
        generators = [master, *workers]
        rss_before = sum(rss_kib(p.pid) for p in generators)
        start = time.monotonic()
        cli(binary, "schedule", "Bench.ClusterWs", "--master", master_address,
            "-c", f"hold={args.hold}s", "-c", f"random_delay={args.spread}")
        wait_for(f"{sessions} connections", lambda: established(ports) >= sessions,
                 args.spread / 1000 + args.hold + 60)
        connected_s = time.monotonic() - start
        rss_all = sum(rss_kib(p.pid) for p in generators)
        cpu0, t0 = cpu_seconds(master.pid), time.monotonic()
        wait_for("the sessions to start closing", lambda: established(ports) < sessions,
                 args.hold + args.spread / 1000 + 60)
        master_cpu = (cpu_seconds(master.pid) - cpu0) / (time.monotonic() - t0)
        # The master writes results-<test id>.json when the test has ended.
        wait_for("the test to end",
                 lambda: [f for f in os.listdir(out_dir) if f.startswith("results-")], 120)
        print(f"sessions: {sessions} on {args.targets} targets, {args.workers} workers")
        print(f"schedule -> all connected: {connected_s:.1f} s "
              f"(session starts spread over {args.spread / 1000:.0f} s)")
        print(f"RSS per session, master + workers: "
              f"{(rss_all - rss_before) * 1024 / sessions:.0f} B "
              f"(total {rss_all / 1024:.0f} MiB)")
        print(f"master CPU while holding: {master_cpu * 100:.2f}% of a core, "
              f"{master_cpu / args.workers * 1000:.2f} ms per second per worker")
        print(open(os.path.join(out_dir, "master.log")).read()[-3000:])
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(out_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
