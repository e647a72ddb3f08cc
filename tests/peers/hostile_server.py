#!/usr/bin/env python3
"""A target that fails on purpose, for the hostile-peer integration tests.

Every connection gets a thread and a blocking socket, so that each misbehaviour is written as
plainly as it happens on the wire. The request path picks the misbehaviour:

  /ok                        200 with a small body (keep-alive), to prove the server itself works
  /stats                     {"path": requests seen, ...} as JSON, then close (not counted)
  /invalid-status            "HTTP/1.1 abc nonsense", then silence
  /bad-chunk                 a chunked body whose first chunk size is "zz", then silence
  /huge-chunk                a chunk size of "ffffffffffffffffff" (beyond 64 bits), then silence
  /reset-mid-body            Content-Length 100000, 1000 bytes, then a TCP reset
  /short-body                Content-Length 1000, 10 bytes, then a clean close
  /header-bomb               "X-a: b" header lines until the client leaves (capped at 10 MB)
  /huge-body                 Content-Length 200 MB, streamed until the client leaves
  /huge-body-chunked         the same amount as 1 MB chunks (no length announced up front)
  /stall                     reads the request, never answers, keeps the socket open
  /slowloris                 a valid response, one byte per second
  /ws/invalid-frame          a correct upgrade, then a frame with the reserved bits set
  /ws/masked-frame           a correct upgrade, then a masked server frame
  /ws/close-during-upgrade   reads the upgrade request, closes without answering
  /ws/garbage-upgrade        101 with a wrong Sec-WebSocket-Accept

A second listener answers every connection with bytes that are not TLS, so that a TLS
handshake against it fails.

Only 127.0.0.1 is ever bound. Every endless mode is bounded, so a client that never leaves
cannot keep the server busy forever.
"""

import argparse
import base64
import hashlib
import json
import socket
import struct
import sys
import threading
import time

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_REQUEST_HEAD = 64 * 1024
HEADER_BOMB_CAP = 10 * 1024 * 1024
HUGE_BODY_SIZE = 200 * 1024 * 1024
SILENCE_CAP_S = 120  # the longest any connection is held open waiting for the client to go
SLOWLORIS_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


class RequestCounts:
    """Requests seen per path, so that a test can tell whether the client retried behind its back."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts = {}

    def add(self, path):
        with self._lock:
            self._counts[path] = self._counts.get(path, 0) + 1

    def snapshot(self):
        with self._lock:
            return dict(self._counts)


COUNTS = RequestCounts()


class ClientGone(Exception):
    """The client closed or reset its end; the mode simply stops."""


def send_all(conn, data):
    try:
        conn.sendall(data)
    except OSError as exc:
        raise ClientGone() from exc


def read_head(conn, buffered=b""):
    """The request head (up to the blank line) and whatever followed it; None at EOF."""
    data = buffered
    while b"\r\n\r\n" not in data:
        if len(data) > MAX_REQUEST_HEAD:
            return None, b""
        try:
            chunk = conn.recv(65536)
        except OSError:
            return None, b""
        if not chunk:
            return None, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def parse_head(head):
    lines = head.split("\r\n")
    parts = lines[0].split(" ")
    path = parts[1] if len(parts) >= 2 else "/"
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return path.split("?", 1)[0], headers


def wait_until_client_leaves(conn, limit_s=SILENCE_CAP_S):
    """Holds the connection open, discarding input, until the client closes it (or the cap)."""
    conn.settimeout(limit_s)
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass


def respond_ok(conn):
    send_all(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok")


def invalid_status(conn):
    send_all(conn, b"HTTP/1.1 abc nonsense\r\n\r\n")
    wait_until_client_leaves(conn)


def bad_chunk(conn):
    send_all(conn, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n")
    wait_until_client_leaves(conn)


def huge_chunk(conn):
    send_all(conn, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"ffffffffffffffffff\r\n" + b"x" * 1024)
    wait_until_client_leaves(conn)


def reset_mid_body(conn):
    send_all(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"r" * 1000)
    # Linger with a zero timeout turns close() into an RST instead of a FIN.
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def short_body(conn):
    send_all(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"s" * 10)
    conn.shutdown(socket.SHUT_WR)
    wait_until_client_leaves(conn, 10)


def header_bomb(conn):
    send_all(conn, b"HTTP/1.1 200 OK\r\n")
    block = b"X-a: b\r\n" * 8192
    sent = 0
    while sent < HEADER_BOMB_CAP:
        send_all(conn, block)
        sent += len(block)


def huge_body(conn):
    send_all(conn, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % HUGE_BODY_SIZE)
    block = b"h" * (1024 * 1024)
    for _ in range(HUGE_BODY_SIZE // len(block)):
        send_all(conn, block)


def huge_body_chunked(conn):
    send_all(conn, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    block = b"%x\r\n" % (1024 * 1024) + b"c" * (1024 * 1024) + b"\r\n"
    for _ in range(HUGE_BODY_SIZE // (1024 * 1024)):
        send_all(conn, block)
    send_all(conn, b"0\r\n\r\n")


def stall(conn):
    wait_until_client_leaves(conn)


def slowloris(conn):
    for i in range(len(SLOWLORIS_RESPONSE)):
        send_all(conn, SLOWLORIS_RESPONSE[i:i + 1])
        time.sleep(1)
    wait_until_client_leaves(conn, 10)


def ws_accept_for(key):
    digest = hashlib.sha1((key + WS_GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def ws_upgrade(conn, headers, accept=None):
    key = headers.get("sec-websocket-key", "")
    value = accept if accept is not None else ws_accept_for(key)
    send_all(conn, ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n" % value)
             .encode("ascii"))


def ws_invalid_frame(conn, headers):
    ws_upgrade(conn, headers)
    # FIN, RSV1..3 all set, text opcode: no extension was negotiated, so this is illegal.
    send_all(conn, bytes([0xF1, 0x02]) + b"hi")
    wait_until_client_leaves(conn)


def ws_masked_frame(conn, headers):
    ws_upgrade(conn, headers)
    mask = b"\x11\x22\x33\x44"
    payload = b"masked"
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    send_all(conn, bytes([0x81, 0x80 | len(payload)]) + mask + masked)
    wait_until_client_leaves(conn)


def ws_close_during_upgrade(conn, _headers):
    conn.close()


def ws_garbage_upgrade(conn, headers):
    ws_upgrade(conn, headers, accept=base64.b64encode(b"definitely not the key").decode("ascii"))
    wait_until_client_leaves(conn)


HTTP_MODES = {
    "/invalid-status": invalid_status,
    "/bad-chunk": bad_chunk,
    "/huge-chunk": huge_chunk,
    "/reset-mid-body": reset_mid_body,
    "/short-body": short_body,
    "/header-bomb": header_bomb,
    "/huge-body": huge_body,
    "/huge-body-chunked": huge_body_chunked,
    "/stall": stall,
    "/slowloris": slowloris,
}

WS_MODES = {
    "/ws/invalid-frame": ws_invalid_frame,
    "/ws/masked-frame": ws_masked_frame,
    "/ws/close-during-upgrade": ws_close_during_upgrade,
    "/ws/garbage-upgrade": ws_garbage_upgrade,
}


def serve_http(conn):
    buffered = b""
    while True:
        head, buffered = read_head(conn, buffered)
        if head is None:
            return
        path, headers = parse_head(head)
        if path == "/stats":
            body = json.dumps(COUNTS.snapshot()).encode("ascii")
            send_all(conn, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                           b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
            return
        COUNTS.add(path)
        if path in WS_MODES:
            WS_MODES[path](conn, headers)
            return
        if path in HTTP_MODES:
            HTTP_MODES[path](conn)
            return
        if path == "/ok":
            respond_ok(conn)
            continue
        send_all(conn, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        return


def serve_not_tls(conn):
    conn.settimeout(10)
    try:
        conn.recv(65536)
    except OSError:
        pass
    send_all(conn, b"this is not a TLS server\r\n" * 8)
    wait_until_client_leaves(conn, 10)


def handle(conn, serve):
    try:
        serve(conn)
    except ClientGone:
        pass
    except OSError:
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def listen():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return sock


def accept_loop(sock, serve):
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        threading.Thread(target=handle, args=(conn, serve), daemon=True).start()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls-port", type=int, default=0)
    args = parser.parse_args()

    http_sock = listen()
    http_sock.bind(("127.0.0.1", args.port))
    http_sock.listen(128)
    tls_sock = listen()
    tls_sock.bind(("127.0.0.1", args.tls_port))
    tls_sock.listen(128)

    threading.Thread(target=accept_loop, args=(tls_sock, serve_not_tls), daemon=True).start()
    print("hostile listening on http://127.0.0.1:%d" % http_sock.getsockname()[1], flush=True)
    print("hostile tls on 127.0.0.1:%d" % tls_sock.getsockname()[1], flush=True)
    try:
        accept_loop(http_sock, serve_http)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
