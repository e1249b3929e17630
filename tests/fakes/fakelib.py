"""What every fake server in tests/fakes shares (test support only).

The command line (`--state FILE [--port 0] [--host 127.0.0.1] [--no-stdin-watch]
[--verbose]`), loopback-only binding, the `READY http://HOST:PORT` line, exiting on stdin
EOF / SIGTERM / SIGINT, and a request handler base that reads bodies (chunked too) and
writes responses with exact control over status, headers and Content-Length.
"""

import argparse
import http.server
import ipaddress
import json
import signal
import socket
import sys
import threading
import time


class BadState(Exception):
    """The state file is not what the fake expects."""


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True


class Handler(http.server.BaseHTTPRequestHandler):
    """Base request handler. `server.name` prefixes log lines; HTTP/1.1 keep-alive."""

    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("%s: %s\n" % (self.server.name, fmt % args))

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send(self, status, headers, body, head_only=False, declared_len=None):
        """Write a whole response. 204 has no body and no Content-Length; `declared_len`
        announces a different length than is sent (for truncation faults)."""
        reason = http.HTTPStatus(status).phrase if status in http.HTTPStatus._value2member_map_ else ""
        hs = {"Date": self.date_time_string(), "Server": self.server.name}
        hs.update(headers)
        if status == 204:
            body = b""
        else:
            hs["Content-Length"] = str(len(body) if declared_len is None else declared_len)
        if self.close_connection:
            hs["Connection"] = "close"
        head = "\r\n".join([f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in hs.items()])
        data = (head + "\r\n\r\n").encode("latin-1")
        if not head_only:
            data += body
        self.log_request(status, len(body))
        self.wfile.write(data)
        self.wfile.flush()


def json_response(status, obj):
    return status, {"Content-Type": "application/json"}, dumps(obj)


class Recorder:
    """What every fake's state has: the token it requires (`self.token`), faults to
    inject and a log of requests, read from the common part of its state file.

    A fault is an object with `times` (default 1; -1 = forever), an optional
    `path_contains`, and optional attributes (`op`, `method`) that must match the request's
    when present; the first matching fault with times left is used up and returned.

    So that tests wait on events instead of guessing at timings, a fault may also hold its
    request (see `hold`): `"barrier": N` until N requests matching it have arrived, or
    `"hold": true` until a later request of the same op has been answered (`answered`).
    Every log entry carries `at`, the fake's monotonic clock in seconds when the request
    arrived, so tests can check waits from the server's side.
    """

    # How long a held request waits at most: a test that never sends the awaited request
    # fails on what it then sees, instead of hanging.
    HOLD_LIMIT = 30.0

    def __init__(self, data):
        if not isinstance(data, dict):
            raise BadState("state must be a JSON object")
        self.token = data.get("token")
        if not isinstance(self.token, str) or not self.token:
            raise BadState("state needs a non-empty string 'token'")
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.answers = {}
        self.faults = self.check_faults(data.get("faults") or [])
        self.log = []

    @staticmethod
    def check_faults(faults):
        if not isinstance(faults, list) or not all(isinstance(f, dict) for f in faults):
            raise BadState("faults must be a list of objects")
        out = []
        for f in faults:
            f = dict(f, times=f.get("times", 1))
            if f.get("barrier") is not None:
                if not isinstance(f["barrier"], int) or f["barrier"] < 1:
                    raise BadState("a fault's barrier must be a positive integer")
                # Shared by the copies take_fault hands out; not shown by GET /_fake/faults.
                f["_barrier"] = threading.Barrier(f["barrier"], timeout=Recorder.HOLD_LIMIT)
            out.append(f)
        return out

    def hold(self, fault, op):
        """Hold a request that met `fault` as the fault says (see the class comment)."""
        if fault.get("_barrier") is not None:
            try:
                fault["_barrier"].wait()
            except threading.BrokenBarrierError:
                pass
        if fault.get("hold"):
            with self.changed:
                seen = self.answers.get(op, 0)
                self.changed.wait_for(lambda: self.answers.get(op, 0) > seen, Recorder.HOLD_LIMIT)

    def answered(self, op):
        """Count an answered request of `op`, releasing requests held until one was."""
        with self.changed:
            self.answers[op] = self.answers.get(op, 0) + 1
            self.changed.notify_all()

    def take_fault(self, path, **request):
        with self.lock:
            for f in self.faults:
                if any(f.get(k, "any") not in ("any", v) for k, v in request.items()):
                    continue
                if f.get("path_contains") and f["path_contains"] not in path:
                    continue
                if f["times"] == 0:
                    continue
                if f["times"] > 0:
                    f["times"] -= 1
                return dict(f)
        return None

    def control(self, method, path, body):
        """The control endpoints every fake has; None for any other path."""
        if path == "/_fake/faults" and method == "POST":
            try:
                faults = self.check_faults(json.loads(body or b"[]"))
            except (ValueError, BadState) as e:
                return json_response(400, {"message": f"bad faults: {e}", "code": 400})
            with self.lock:
                self.faults = faults
            return json_response(200, {"ok": True})
        if path == "/_fake/faults" and method == "GET":
            with self.lock:
                return json_response(200, [{k: v for k, v in f.items() if not k.startswith("_")} for f in self.faults])
        if path == "/_fake/requests" and method == "GET":
            with self.lock:
                return json_response(200, self.log)
        if path == "/_fake/reset-log" and method == "POST":
            with self.lock:
                self.log = []
            return json_response(200, {"ok": True})
        return None


def is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(name, description, make_state, handler, argv=None, state_errors=()):
    """Parse the command line, load the state with `make_state(json)`, serve until stdin
    closes or a signal arrives. Returns the exit code."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--state", required=True, help="state JSON file")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1", help="loopback address only")
    ap.add_argument("--no-stdin-watch", action="store_true", help="do not exit when stdin reaches EOF")
    ap.add_argument("--verbose", action="store_true", help="log request lines to stderr")
    args = ap.parse_args(argv)

    if not is_loopback(args.host):
        ap.error("--host must be a loopback address")
    try:
        with open(args.state, encoding="utf-8") as f:
            state = make_state(json.load(f))
    except (OSError, ValueError, BadState) + tuple(state_errors) as e:
        print(f"{name}: bad state file {args.state}: {e}", file=sys.stderr)
        return 2

    host = "127.0.0.1" if args.host == "localhost" else args.host
    server_cls = type("Server6", (Server,), {"address_family": socket.AF_INET6}) if ":" in host else Server
    srv = server_cls((host, args.port), handler)
    srv.state = state
    srv.verbose = args.verbose
    srv.name = name
    port = srv.server_address[1]
    shown = f"[{host}]" if ":" in host else host

    def stop(*_):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    t.start()
    sys.stdout.write(f"READY http://{shown}:{port}\n")
    sys.stdout.flush()
    try:
        if args.no_stdin_watch:
            while True:
                time.sleep(3600)
        else:
            while sys.stdin.buffer.read1(65536):
                pass
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        srv.server_close()
    return 0
