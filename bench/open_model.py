#!/usr/bin/env python3
"""Open-model accuracy and cost: chaperon quick --rate against nginx, and wrk's closed mode.

nginx runs one worker pinned to one core; the generators are pinned to the other. For each target
rate (default 1k/s, 10k/s, 50k/s) `chaperon quick --rate R/s` runs one thread for the duration and
we report the arrivals started and dropped, the achieved rate (arrivals started over the schedule's
length plus the largest lag: a lower bound, since the last arrival started at most that late), the
schedule lag p50/p99/max (how late arrivals started against their intended time),
whether chaperon flagged itself as saturated, and generator CPU per request. Then wrk -t1 -c50 runs
closed (as fast as it can) for the same duration, for its CPU per request.

  bench/open_model.py --build build --duration 5 --rates 1000,10000,50000
"""
import argparse
import json
import os
import shutil
import sys

from http_vs_wrk import HERE, bench_nginx, measured, run_wrk


def run_open(binary, url, rate, duration, core, out_path):
    out, cpu, rss = measured(["taskset", "-c", str(core), binary, "quick", url, "--rate",
                              f"{rate}/s", "--duration", f"{duration}s", "--threads", "1",
                              "--no-progress", "--format", "json", "--unit", "us",
                              "--output", out_path])
    with open(out_path) as f:
        results = json.load(f)
    gen = next((e for e in results if "generator" in e), None)
    if gen is None:
        sys.exit(f"no generator figures in {out_path}:\n{out}")
    requests = sum(e["metrics"]["total_count"] for e in results
                   if e.get("action") == "get" and "error" not in e)
    lag = gen["metrics"]
    return {
        "started": gen["generator"]["arrivals_started"],
        "dropped": gen["generator"]["arrivals_dropped"],
        "lag_p50_us": lag["percentile_50.0"],
        "lag_p99_us": lag["percentile_99.0"],
        "lag_max_us": lag["max"],
        "saturated": gen["generator"]["saturated"],
        "requests": requests,
        "cpu": cpu,
        "rss": rss,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--rates", default="1000,10000,50000")
    args = ap.parse_args()
    if not shutil.which("nginx"):
        sys.exit("needs nginx (scripts/setup.sh installs it)")
    binary = os.path.join(args.build, "chaperon")
    server_core, client_core = (0, 1) if os.cpu_count() > 1 else (0, 0)

    prefix, url, nginx = bench_nginx(server_core)
    try:
        print(f"{'target/s':>9} {'started':>8} {'dropped':>8} {'achieved/s':>11} "
              f"{'lag p50 ms':>11} {'lag p99 ms':>11} {'lag max ms':>11} {'saturated':>9} "
              f"{'CPU us/req':>11}")
        for rate in (int(r) for r in args.rates.split(",")):
            r = run_open(binary, url, rate, args.duration, client_core,
                         os.path.join(prefix, f"open-{rate}.json"))
            achieved = r["started"] / (args.duration + r["lag_max_us"] / 1e6)
            per_request = r["cpu"] / max(1, r["requests"]) * 1e6
            print(f"{rate:9d} {r['started']:8d} {r['dropped']:8d} {achieved:11.1f} "
                  f"{r['lag_p50_us'] / 1000:11.3f} {r['lag_p99_us'] / 1000:11.3f} "
                  f"{r['lag_max_us'] / 1000:11.3f} {str(r['saturated']):>9} "
                  f"{per_request:11.2f}", flush=True)
        if shutil.which("wrk"):
            total, cpu, rss, errors = run_wrk(url, args.duration, client_core, 50)
            print(f"\nwrk closed mode (-t1 -c50): {total / args.duration:.0f} req/s, "
                  f"{cpu / max(1, total) * 1e6:.2f} CPU us/req, errors {errors}")
        else:
            print("\nwrk not installed: no closed-mode comparison")
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        shutil.rmtree(prefix, ignore_errors=True)


if __name__ == "__main__":
    main()
