#!/usr/bin/env python3
"""HTTP memory per session: N keep-alive sessions against nginx, with and without think time.

nginx runs one worker pinned to one core; the generator (bench/http_driver.cpp, built here as
the CMake target bench_http_driver) runs one thread on the other. Each session loops GET +
delay(think) for the hold time. Reported: peak RSS of the generator and (peak RSS - peak RSS of
a 1-session run) / N, i.e. user-space bytes each session adds, for each think time; the same from
the resident size sampled 1 s before the end ("late").

  bench/http_memory.py --build build --sessions 3000 --thinks 1000,0 --hold 4
"""
import argparse
import os
import shutil
import sys

from http_vs_wrk import HERE, bench_nginx
from ws_bench import compile_driver, measured


def run(driver, url, n, hold, think, core):
    """Returns the driver's JSON line, its peak RSS and its RSS sampled 1 s before the end."""
    result, _, rss, _, sampled = measured(["taskset", "-c", str(core), driver, str(n), str(hold),
                                           url, str(think)], timeout=hold + 120,
                                          sample_at=max(hold - 1, 0.5))
    return result, rss, sampled


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--sessions", type=int, default=3000, help="below nginx's 4096 connections")
    ap.add_argument("--thinks", default="1000,0", help="think times in ms")
    ap.add_argument("--hold", type=int, default=4)
    args = ap.parse_args()
    if not shutil.which("nginx"):
        sys.exit("needs nginx (scripts/setup.sh installs it)")
    driver = compile_driver(args.build, "http_driver")
    server_core, client_core = (0, 1) if os.cpu_count() > 1 else (0, 0)
    prefix, url, nginx = bench_nginx(server_core)
    try:
        print(f"{'sessions':>9} {'think ms':>8} {'requests':>9} {'errors':>6} "
              f"{'peak RSS KiB':>12} {'(RSS-base)/N B':>14} {'late (RSS-base)/N B':>19}")
        for think in (int(t) for t in args.thinks.split(",")):
            _, base, base_late = run(driver, url, 1, 2, think, client_core)
            result, rss, late = run(driver, url, args.sessions, args.hold, think, client_core)
            added = (rss - base) * 1024 / args.sessions
            late_added = (late - base_late) * 1024 / args.sessions if late else float("nan")
            print(f"{args.sessions:>9} {think:>8} {result['requests']:>9} {result['errors']:>6} "
                  f"{rss:>12} {added:>14.0f} {late_added:>19.0f}")
    finally:
        nginx.terminate()
        nginx.wait()
        shutil.rmtree(prefix, ignore_errors=True)


if __name__ == "__main__":
    main()
