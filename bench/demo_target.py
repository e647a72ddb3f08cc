"""The demo target (chaperon-demo) as the benchmarks start it: one process pinned to one core."""
import os
import re
import subprocess
import sys


def start_demo(build, core):
    """Starts build/chaperon-demo on an ephemeral port; returns (process, base URL)."""
    cmd = ["taskset", "-c", str(core), os.path.join(build, "chaperon-demo"), "--port", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # bounded: the demo prints this line or exits
    m = re.search(r"listening on (http://\S+)", line)
    if not m:
        proc.kill()
        sys.exit(f"demo did not start: {line!r}")
    return proc, m.group(1)
