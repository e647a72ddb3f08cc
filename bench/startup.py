#!/usr/bin/env python3
"""Start-up time: from launching a generator to its first request on the wire, chaperon and wrk.

The script listens on 127.0.0.1 itself, takes the monotonic clock just before it starts the
generator, and again when the first request's header has arrived: that difference is the start-up
(process start, dynamic linking, static initialisers, option parsing, thread start, connect, first
write). It answers, stops the generator, and repeats. Medians over the runs; both tools take turns.

  bench/startup.py --build build --runs 20
"""
import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def listen():
    """A fresh listener per run, so that no connection of the run before is taken for this one."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(10)
    return listener


def first_request_ms(tool, listener):
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    cmd = [arg.replace("URL", url) for arg in tool]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(3):  # wrk opens and closes a probe connection first
            conn, _ = listener.accept()  # bounded by the listener's timeout
            with conn:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                if b"\r\n\r\n" not in data:
                    continue
                elapsed = (time.monotonic() - start) * 1000
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                return elapsed
        sys.exit(f"{cmd[0]} sent no whole request on its first 3 connections")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    tools = {"chaperon": [os.path.join(args.build, "chaperon"), "quick", "URL", "--sessions", "1",
                          "--duration", "10s", "--no-progress", "--output", os.devnull],
             "wrk": ["wrk", "-t1", "-c1", "-d10s", "URL"]}
    times = {name: [] for name in tools}
    for _ in range(args.runs):
        for name, cmd in tools.items():
            with listen() as listener:
                times[name].append(first_request_ms(cmd, listener))
    for name, values in times.items():
        print(f"{name:8s} first request after: median {statistics.median(values):6.1f} ms, "
              f"min {min(values):6.1f} ms, max {max(values):6.1f} ms ({args.runs} runs)")


if __name__ == "__main__":
    main()
