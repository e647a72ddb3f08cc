#!/usr/bin/env python3
"""How long the master takes to merge the final results of many workers.

One real run of Demo.Rest against the demo target (every action measured, one row per session
name) gives a raw results file, the lossless format workers send and `chaperon merge` reads. The
bench merges N copies of it with `chaperon merge` and takes the wall time (parse + exact merge of
every histogram + writing the merged result), median over the rounds; one copy is the baseline of
process start and output.

  bench/merge_many.py --build build --workers 100 --rounds 5
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_target import start_demo  # noqa: E402


def timed(cmd):
    start = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=600)
    return time.monotonic() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--workers", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    chaperon = os.path.join(args.build, "chaperon")
    work = tempfile.mkdtemp(prefix="merge-many-")
    demo, url = start_demo(args.build, 0)
    try:
        base = os.path.join(work, "worker-0.json")
        subprocess.run([chaperon, "run", "Demo.Rest", "-c", f"base_url={url}", "-c", "rounds=5",
                        "-c", "think_time=1ms", "--per-session", "--format", "raw",
                        "--output", base, "--no-progress"],
                       check=True, stdout=subprocess.DEVNULL, timeout=300)
    finally:
        demo.kill()
        demo.wait()
    files = [base]
    for i in range(1, args.workers):
        files.append(os.path.join(work, f"worker-{i}.json"))
        shutil.copyfile(base, files[-1])
    raw = json.load(open(base))
    metrics = len(raw.get("metrics", raw.get("rows", [])))
    size = os.path.getsize(base)
    out = os.path.join(work, "merged.json")
    one, many = [], []
    for _ in range(args.rounds):  # turns, so that both see the same machine load
        one.append(timed([chaperon, "merge", base, "--format", "raw", "--output", out]))
        many.append(timed([chaperon, "merge", *files, "--format", "raw", "--output", out]))
    m1, mn = statistics.median(one), statistics.median(many)
    print(f"one worker's results: {size} B, {metrics} metrics")
    print(f"merge of 1 file: {m1 * 1000:.1f} ms (median of {args.rounds})")
    print(f"merge of {args.workers} files: {mn * 1000:.1f} ms (median of {args.rounds}); "
          f"{(mn - m1) / (args.workers - 1) * 1000:.2f} ms per further worker")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
