#!/usr/bin/env python3
"""One user flow, written for chaperon, wrk and Locust, against the same demo target, in one run.

The flow (4 requests per iteration): log in with a form POST (the server sets a session cookie),
GET the JSON message list, POST a JSON message with the cookie, GET the list with a query string.
chaperon runs it as a C++ scenario (bench/scenario_driver.cpp, built here), wrk as a Lua script
(bench/peers/flow.lua), Locust as a FastHttpUser (bench/peers/locustfile.py; Debian python3-locust,
installed by `scripts/setup.sh --bench`). The demo target runs one thread pinned to core 0; each
generator runs in turn on core 1 with the same number of users (connections for wrk). Reported per
generator: iterations per second, iterations per generator CPU-second (user+sys), peak RSS, errors,
and the ratio to chaperon's iterations per CPU-second. Medians over the rounds.

  bench/scenario_vs_peers.py --build build-bench --duration 5 --rounds 3
"""
import argparse
import csv
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from demo_target import start_demo

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LOCUST = "/usr/bin/locust"  # Debian's, whatever python3 is first on PATH


def build_driver(build):
    start = time.monotonic()
    subprocess.run(["cmake", "-S", ROOT, "-B", build, "-DCHAPERON_BUILD_BENCH=ON",
                    "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build, "-j", os.environ.get("CHAPERON_JOBS", "2"),
                    "--target", "bench_scenario_driver", "chaperon-demo"], check=True)
    print(f"built bench/scenario_driver.cpp in {time.monotonic() - start:.1f} s", flush=True)
    return os.path.join(build, "bench_scenario_driver")



def measured(cmd, timeout, ok_codes=(0,)):
    """Runs cmd; returns (stdout+stderr, CPU seconds, peak RSS KiB) of that child alone."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M"] + cmd, capture_output=True,
                         text=True, timeout=timeout)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode not in ok_codes:
        sys.exit(f"{cmd[0]} failed ({out.returncode}):\n{out.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rss = int(re.findall(r"MAXRSS (\d+)", out.stderr)[-1])
    return out.stdout + out.stderr, cpu, rss


def run_chaperon(driver, url, users, duration, core):
    out, cpu, rss = measured(["taskset", "-c", str(core), driver, str(users), str(duration), url],
                             timeout=duration + 60)
    m = re.search(r'\{"requests":(\d+),"errors":(\d+)\}', out)
    return int(m.group(1)), int(m.group(2)), cpu, rss


def run_wrk(url, users, duration, core):
    out, cpu, rss = measured(["taskset", "-c", str(core), "wrk", "-t1", f"-c{users}",
                              f"-d{duration}s", "-s", os.path.join(HERE, "peers", "flow.lua"), url],
                             timeout=duration + 60)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors += sum(int(x) for x in re.findall(r"Socket errors: connect (\d+), read (\d+), "
                                             r"write (\d+), timeout (\d+)", out)[0]) \
        if "Socket errors" in out else 0
    return total, errors, cpu, rss


def run_locust(url, users, duration, core):
    folder = tempfile.mkdtemp(prefix="chaperon-locust-")
    try:
        prefix = os.path.join(folder, "run")
        # Locust exits 1 when a request failed: the failures are counted below, not fatal.
        _, cpu, rss = measured(["taskset", "-c", str(core), LOCUST, "-f",
                                os.path.join(HERE, "peers", "locustfile.py"), "--headless",
                                "-u", str(users), "-r", str(users), "-t", f"{duration}s",
                                "--host", url, "--csv", prefix, "--only-summary",
                                "--loglevel", "WARNING", "--stop-timeout", "5"],
                               timeout=duration + 120, ok_codes=(0, 1))
        with open(prefix + "_stats.csv") as f:
            total = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
        return int(total["Request Count"]), int(total["Failure Count"]), cpu, rss
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--users", type=int, default=50)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("needs wrk (scripts/setup.sh installs it)")
    driver = build_driver(args.build)
    peers = {"chaperon": lambda url: run_chaperon(driver, url, args.users, args.duration, 1),
             "wrk": lambda url: run_wrk(url, args.users, args.duration, 1)}
    if os.path.exists(LOCUST):
        peers["locust"] = lambda url: run_locust(url, args.users, args.duration, 1)
    else:
        print("locust: not installed (scripts/setup.sh --bench installs python3-locust), skipped")

    rows = {name: [] for name in peers}
    for r in range(args.rounds):
        for name, run in peers.items():
            demo, url = start_demo(args.build, 0)  # a fresh target per run: same state for all
            try:
                requests, errors, cpu, rss = run(url)
            finally:
                demo.terminate()
                demo.wait(timeout=30)
            iterations = requests / 4
            rows[name].append((iterations / args.duration, iterations / cpu, rss, errors))
            print(f"round {r + 1} {name:8s} {iterations / args.duration:9.0f} it/s "
                  f"{iterations / cpu:9.0f} it/CPU-s  peak RSS {rss / 1024:6.1f} MiB  "
                  f"errors {errors}", flush=True)

    def med(name, i):
        return statistics.median(row[i] for row in rows[name])

    print(f"\nmedians over {args.rounds} rounds of {args.duration} s, {args.users} users, "
          "4 requests per iteration:")
    base = [row[1] for row in rows["chaperon"]]
    for name in peers:
        ratios = [b / row[1] for b, row in zip(base, rows[name])]
        print(f"  {name:8s} {med(name, 0):9.0f} it/s {med(name, 1):9.0f} it/CPU-s  "
              f"peak RSS {med(name, 2) / 1024:6.1f} MiB  errors {med(name, 3):.0f}  "
              f"chaperon/{name} {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
