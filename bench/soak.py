#!/usr/bin/env python3
"""Soak: a high-rate test for minutes, sampling the generator's RSS every second.

nginx runs one worker pinned to one core; `chaperon quick` runs one thread on the other core, either
closed (--sessions, as fast as it can) or open (--rate R/s, arrivals on a schedule). Every second the
script reads VmRSS of the chaperon process from /proc. After the warm-up (the first --warmup seconds)
the RSS must stay flat: histograms are bounded and nothing grows per request. It prints the RSS at
the end of the warm-up, the largest RSS after it, the growth between the two, the least-squares slope
of the samples after warm-up (KiB per minute), the requests done and the growth per million requests,
then FLAT or GROWING. The verdict looks at the second half of the time after warm-up: a leak grows
all along and shows there, while a single step earlier (an open-model pool that grew by a few
sessions during a hiccup) is capacity, not growth per request. Exits 1 when GROWING.

  bench/soak.py --build build --duration 300                 # closed, 50 sessions, 5 minutes
  bench/soak.py --build build --duration 300 --rate 20000    # open model at 20k arrivals/s
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

from http_vs_wrk import HERE, bench_nginx


def rss_kib(pid):
    """VmRSS of pid once it is chaperon (taskset execs it), else None."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            if f.read().strip() != "chaperon":
                return None
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        return None
    return None


def slope_per_minute(samples):
    """Least-squares slope of (seconds, KiB) samples, in KiB per minute."""
    n = len(samples)
    if n < 2:
        return 0.0
    mt = sum(t for t, _ in samples) / n
    mr = sum(r for _, r in samples) / n
    var = sum((t - mt) ** 2 for t, _ in samples)
    cov = sum((t - mt) * (r - mr) for t, r in samples)
    return 60.0 * cov / var if var else 0.0


def chaperon_cmd(binary, url, args, core, out_path):
    load = ["--rate", f"{args.rate}/s"] if args.rate else ["--sessions", str(args.sessions)]
    return ["taskset", "-c", str(core), binary, "quick", url, *load, "--duration",
            f"{args.duration}s", "--threads", "1", "--no-progress", "--format", "json",
            "--output", out_path]


def sample_run(cmd, duration):
    """Runs cmd, sampling its RSS every second; returns [(seconds since start, KiB)] and output."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    start = time.monotonic()
    samples = []
    deadline = start + duration + 120  # bounded: the run ends on its own after --duration
    while proc.poll() is None and time.monotonic() < deadline:
        kib = rss_kib(proc.pid)
        if kib is not None:
            samples.append((time.monotonic() - start, kib))
        time.sleep(1.0)
    if proc.poll() is None:
        proc.kill()
        sys.exit("chaperon did not finish within its duration plus 120 s")
    out = proc.communicate()[0]
    if proc.returncode != 0:
        sys.exit(f"chaperon exited with {proc.returncode}:\n{out}")
    return samples, out


def summarize(results):
    """Requests, errors and metric count from chaperon's JSON export."""
    requests = sum(e["metrics"]["total_count"] for e in results
                   if e.get("action") == "get" and "error" not in e)
    errors = sum(e["metrics"]["total_count"] for e in results if "error" in e)
    return requests, errors, len(results)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--duration", type=int, default=300, help="seconds (default 300)")
    ap.add_argument("--warmup", type=int, default=30, help="seconds not judged (default 30)")
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--rate", type=int, default=0, help="open model: arrivals per second")
    ap.add_argument("--tolerance-kib", type=int, default=1024,
                    help="largest RSS growth in the second half still called flat (default 1024)")
    args = ap.parse_args()
    if args.warmup >= args.duration:
        sys.exit("--warmup must be shorter than --duration")
    if not shutil.which("nginx"):
        sys.exit("needs nginx (scripts/setup.sh installs it)")
    binary = os.path.join(args.build, "chaperon")
    server_core, client_core = (0, 1) if os.cpu_count() > 1 else (0, 0)

    prefix, url, nginx = bench_nginx(server_core, "chaperon-soak-")
    out_path = os.path.join(prefix, "results.json")
    try:
        cmd = chaperon_cmd(binary, url, args, client_core, out_path)
        samples, _ = sample_run(cmd, args.duration)
        with open(out_path) as f:
            requests, errors, metrics = summarize(json.load(f))
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        shutil.rmtree(prefix, ignore_errors=True)

    after = [(t, r) for t, r in samples if t >= args.warmup]
    if not after:
        sys.exit("no RSS samples after the warm-up")
    at_warmup = after[0][1]
    peak_after = max(r for _, r in after)
    growth = peak_after - at_warmup
    mode = f"open {args.rate}/s" if args.rate else f"closed {args.sessions} sessions"
    print(f"soak: {mode}, {args.duration} s, warm-up {args.warmup} s, {len(samples)} RSS samples")
    for t, r in samples[:: max(1, len(samples) // 10)]:
        print(f"  t={t:6.0f} s  RSS {r / 1024:7.1f} MiB")
    print(f"requests {requests}  ({requests / args.duration:.0f}/s), errors {errors}, "
          f"metric rows {metrics}")
    print(f"RSS at warm-up end {at_warmup / 1024:.1f} MiB, peak after {peak_after / 1024:.1f} MiB, "
          f"growth {growth} KiB, slope {slope_per_minute(after):+.1f} KiB/min, "
          f"{growth / max(requests / 1e6, 1e-9):.1f} KiB per million requests")
    mid = (args.warmup + after[-1][0]) / 2
    late = [r for t, r in after if t >= mid]
    late_growth = max(late) - late[0]
    print(f"second half (from t={mid:.0f} s): growth {late_growth} KiB, "
          f"slope {slope_per_minute([(t, r) for t, r in after if t >= mid]):+.1f} KiB/min")
    flat = late_growth <= args.tolerance_kib
    print("FLAT" if flat else f"GROWING (more than {args.tolerance_kib} KiB in the second half)")
    sys.exit(0 if flat else 1)


if __name__ == "__main__":
    main()
