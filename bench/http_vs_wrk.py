#!/usr/bin/env python3
"""chaperon quick vs wrk against the same nginx, in one run.

nginx runs one worker pinned to one core; the generators (wrk -t1 -c50, chaperon quick with one
thread and 50 sessions) are pinned to the other core and take turns. For each we report req/s,
requests per generator CPU-second (user+sys), peak RSS, and the chaperon/wrk ratio of requests per
CPU-second. Several rounds; medians are printed, since single numbers on a shared machine are noise.
With --tls, nginx serves HTTPS with a self-signed P-256 certificate made here with openssl, wrk
requests https:// (it does not verify certificates) and chaperon runs with --insecure; both keep
their connections alive, so this measures TLS records, with one handshake per connection.

  bench/http_vs_wrk.py --build build --duration 5 --rounds 5
  bench/http_vs_wrk.py --build build --duration 5 --rounds 5 --tls
"""
import argparse
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certificate(prefix):
    """A self-signed P-256 certificate for 127.0.0.1: (cert path, key path)."""
    cert, key = os.path.join(prefix, "cert.pem"), os.path.join(prefix, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def start_nginx(prefix, port, core, tls=False):
    with open(os.path.join(HERE, "nginx.conf.in")) as f:
        conf = f.read()
    mask = "".join("1" if i == core else "0" for i in reversed(range(os.cpu_count())))
    conf = conf.replace("@PREFIX@", prefix).replace("@PORT@", str(port)).replace("@AFFINITY@", mask)
    if tls:
        cert, key = make_certificate(prefix)
        listen = f"listen 127.0.0.1:{port} backlog=4096;"
        if listen not in conf:
            sys.exit(f"bench/nginx.conf.in has no '{listen}' line to turn into a TLS listener")
        conf = conf.replace(listen, f"listen 127.0.0.1:{port} ssl backlog=4096;\n"
                                    f"    ssl_certificate {cert};\n    ssl_certificate_key {key};")
    path = os.path.join(prefix, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    proc = subprocess.Popen(["nginx", "-p", prefix, "-c", path], stderr=subprocess.DEVNULL)
    for _ in range(200):  # bounded: up to ~10 s for nginx to accept connections
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.05).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                sys.exit(f"nginx exited with {proc.returncode}; see {prefix}/error.log")
            time.sleep(0.05)
    sys.exit("nginx did not start listening")


def bench_nginx(server_core, name="chaperon-bench-", tls=False):
    """nginx in a fresh temporary prefix on a free port: (prefix, url, process)."""
    prefix = tempfile.mkdtemp(prefix=name)
    for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        os.makedirs(os.path.join(prefix, d))
    port = free_port()
    scheme = "https" if tls else "http"
    return prefix, f"{scheme}://127.0.0.1:{port}/", start_nginx(prefix, port, server_core, tls)


def measured(cmd):
    """Runs cmd, returns (stdout, cpu seconds, peak RSS KiB, user share of the cpu) of that
    child alone."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M"] + cmd, capture_output=True,
                         text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    user = after.ru_utime - before.ru_utime
    cpu = user + (after.ru_stime - before.ru_stime)
    rss = int(re.search(r"MAXRSS (\d+)", out.stderr).group(1))
    return out.stdout + out.stderr, cpu, rss, user / cpu


def run_wrk(url, duration, core, conns):
    out, cpu, rss, user = measured(["taskset", "-c", str(core), "wrk", "-t1", f"-c{conns}",
                              f"-d{duration}s", url])
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    return total, cpu, rss, errors, user


def run_chaperon(binary, url, duration, core, conns):
    # --insecure: the bench's certificate is self-signed, and wrk does not verify either.
    tls = ["--insecure"] if url.startswith("https:") else []
    out, cpu, rss, user = measured(["taskset", "-c", str(core), binary, "quick", url, "--sessions",
                              str(conns), "--duration", f"{duration}s", "--threads", "1",
                              "--no-progress", "--output", os.devnull] + tls)
    total = int(re.search(r"requests: (\d+)", out).group(1))
    errors = int(re.search(r"errors: (\d+)", out).group(1))
    return total, cpu, rss, errors, user


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--tls", action="store_true", help="HTTPS instead of plain HTTP")
    args = ap.parse_args()
    if not shutil.which("wrk") or not shutil.which("nginx"):
        sys.exit("needs wrk and nginx (scripts/setup.sh installs them)")
    if args.tls and not shutil.which("openssl"):
        sys.exit("--tls needs the openssl command")
    binary = os.path.join(args.build, "chaperon")
    server_core, client_core = (0, 1) if os.cpu_count() > 1 else (0, 0)

    prefix, url, nginx = bench_nginx(server_core, tls=args.tls)
    rows = {"wrk": [], "chaperon": []}
    try:
        for r in range(args.rounds):
            for name in ("wrk", "chaperon"):
                if name == "wrk":
                    res = run_wrk(url, args.duration, client_core, args.connections)
                else:
                    res = run_chaperon(binary, url, args.duration, client_core, args.connections)
                total, cpu, rss, errors, user = res
                rows[name].append((total / args.duration, total / cpu, rss, errors, user))
                print(f"round {r + 1} {name:8s} {total / args.duration:10.0f} req/s "
                      f"{total / cpu:10.0f} req/CPU-s  user {user:4.0%}  "
                      f"peak RSS {rss / 1024:6.1f} MiB  errors {errors}", flush=True)
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        shutil.rmtree(prefix, ignore_errors=True)

    def med(name, i):
        return statistics.median(row[i] for row in rows[name])

    print(f"\nmedians over {args.rounds} rounds of {args.duration} s, {args.connections} connections"
          f"{', HTTPS' if args.tls else ''}:")
    for name in ("wrk", "chaperon"):
        print(f"  {name:8s} {med(name, 0):10.0f} req/s {med(name, 1):10.0f} req/CPU-s  "
              f"user {med(name, 4):4.0%}  peak RSS {med(name, 2) / 1024:6.1f} MiB")
    ratios = [c[1] / w[1] for c, w in zip(rows["chaperon"], rows["wrk"])]
    print(f"  ratio chaperon/wrk (requests per CPU-second): median {statistics.median(ratios):.2f}"
          f" (rounds: {', '.join(f'{x:.2f}' for x in ratios)})")


if __name__ == "__main__":
    main()
