#!/usr/bin/env python3
"""WebSocket benchmark: memory per idle session, and echo messages per generator CPU-second.

The generator is bench/ws_driver.cpp, built here as the CMake target bench_ws_driver
(-DCHAPERON_BUILD_BENCH=ON) over the library. The target is the demo server (chaperon-demo), one
fresh process per run so that TIME_WAIT ports of one run do not crowd the next.

Idle: N sessions each open one WebSocket (to /ws/silent) and wait. Reported: peak RSS of the
generator, and (peak RSS - peak RSS of a 1-session run) / N, i.e. user-space bytes each idle
session adds. The same figure is also given from the resident size sampled one second before the
hold ends, when all are idle (connects beyond config ws.max_connecting wait for a place, so the
connect burst no longer sets the peak), and the time until the last session had connected.
Echo: S sessions each loop send + receive; messages received per CPU-second (user + sys) of the
generator. Medians over rounds for echo.

  bench/ws_bench.py --build build --sizes 1000,10000,19000 --hold 60
"""
import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import threading
import time

from demo_target import start_demo

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def compile_driver(build, name="ws_driver"):
    """Builds bench/<name>.cpp as the CMake target bench_<name> (CHAPERON_BUILD_BENCH) in build."""
    start = time.monotonic()
    subprocess.run(["cmake", "-S", ROOT, "-B", build, "-DCHAPERON_BUILD_BENCH=ON"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build, "-j", os.environ.get("CHAPERON_JOBS", "2"),
                    "--target", f"bench_{name}"], check=True)
    print(f"built bench/{name}.cpp (a program over the library) in {time.monotonic() - start:.1f} s")
    return os.path.join(build, f"bench_{name}")



def vm_rss_kib(time_pid):
    """VmRSS of the program /usr/bin/time (pid time_pid) runs, or 0 when it is not there."""
    try:
        with open(f"/proc/{time_pid}/task/{time_pid}/children") as f:
            child = f.read().split()[0]
        with open(f"/proc/{child}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
    except (OSError, IndexError, AttributeError):
        return 0


def run_sampled(cmd, timeout, sample_at=None):
    """Runs cmd under /usr/bin/time; returns (stdout, stderr, returncode, resident KiB sampled
    sample_at seconds after the start, 0 without sample_at)."""
    proc = subprocess.Popen(["/usr/bin/time", "-f", "MAXRSS %M"] + cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    sample = [0]
    if sample_at is not None:
        timer = threading.Timer(sample_at, lambda: sample.__setitem__(0, vm_rss_kib(proc.pid)))
        timer.start()
    out, err = proc.communicate(timeout=timeout)
    if sample_at is not None:
        timer.cancel()
    return out, err, proc.returncode, sample[0]


def measured(cmd, timeout, sample_at=None):
    """Runs cmd; returns (its JSON line, CPU seconds, peak RSS KiB, error lines, RSS KiB sampled
    at sample_at)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out, err, rc, sampled = run_sampled(cmd, timeout, sample_at)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if rc != 0:
        sys.exit(f"{cmd} failed ({rc}):\n{err[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rss = int(re.search(r"MAXRSS (\d+)", err).group(1))
    result = json.loads(out.strip().splitlines()[-1])
    errors = [l for l in err.splitlines() if l.startswith("Error")]
    return result, cpu, rss, errors, sampled


def idle_run(args, driver, n, hold, sources):
    demo, url = start_demo(args.build, 0)
    try:
        ws = url.replace("http://", "ws://") + "/ws/silent"
        cmd = ["taskset", "-c", "1", driver, "idle", str(n), str(hold), ws, "1"]
        if sources:
            cmd.append(sources)
        # Sampled one second before the hold ends: every session has connected and is idle.
        return measured(cmd, timeout=hold + 300, sample_at=max(hold - 1, 0.5))
    finally:
        demo.terminate()
        demo.wait(timeout=30)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--sizes", default="1000,10000,19000")
    p.add_argument("--hold", type=int, default=60, help="seconds the largest size is held")
    p.add_argument("--short-hold", type=int, default=5, help="seconds the other sizes are held")
    p.add_argument("--sources", default="127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4")
    p.add_argument("--echo-sessions", type=int, default=50)
    p.add_argument("--echo-seconds", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    driver = compile_driver(args.build)

    sizes = [int(s) for s in args.sizes.split(",")]
    _, _, base_rss, _, base_idle = idle_run(args, driver, 1, 2, "")
    print(f"baseline (1 session): peak RSS {base_rss} KiB, idle RSS {base_idle} KiB")
    print(f"{'sessions':>9} {'hold s':>6} {'connected':>9} {'errors':>6} {'peak RSS KiB':>12} "
          f"{'RSS/N B':>8} {'(RSS-base)/N B':>14} {'idle (RSS-base)/N B':>19} {'connected ms':>12}")
    for n in sizes:
        hold = args.hold if n == max(sizes) else args.short_hold
        result, _, rss, errors, idle = idle_run(args, driver, n, hold, args.sources)
        per = rss * 1024 / n
        added = (rss - base_rss) * 1024 / n
        idle_added = (idle - base_idle) * 1024 / n if idle else float("nan")
        print(f"{n:>9} {hold:>6} {result['ws_connect']:>9} {result['errors']:>6} {rss:>12} "
              f"{per:>8.0f} {added:>14.0f} {idle_added:>19.0f} {result['connected_ms']:>12.0f}")
        for e in errors[:5]:
            print("   ", e)

    rates = []
    for _ in range(args.rounds):
        demo, url = start_demo(args.build, 0)
        try:
            ws = url.replace("http://", "ws://") + "/ws/echo"
            result, cpu, rss, _, _ = measured(["taskset", "-c", "1", driver, "echo",
                                            str(args.echo_sessions), str(args.echo_seconds), ws,
                                            "1"], timeout=args.echo_seconds + 120)
        finally:
            demo.terminate()
            demo.wait(timeout=30)
        rates.append(result["ws_recv"] / cpu if cpu > 0 else 0)
        print(f"echo round: {result['ws_recv']} messages, {cpu:.2f} CPU s, "
              f"{rates[-1]:.0f} msg per CPU-second, peak RSS {rss} KiB")
    if not rates:
        return
    print(f"echo: median {statistics.median(rates):.0f} messages per generator CPU-second "
          f"({args.echo_sessions} sessions, 1 thread, rounds {', '.join(f'{r:.0f}' for r in rates)})")


if __name__ == "__main__":
    main()
