#!/usr/bin/env python3
"""A tiny stand-in for AMD KDS (or any collateral server) for cvmattest's tests.

Listens on 127.0.0.1 only, on a port the OS picks; prints that port as the first line of
stdout, then serves until killed or until --max-seconds have passed.

  kds_server.py [--dir DIR] [--route PATH=FILE]... [--redirect PATH=LOCATION]...
                [--fail-first N] [--fail-status CODE] [--delay SECONDS] [--tls CERT KEY]
                [--log FILE] [--max-seconds N]

--route PATH=FILE  answer GET PATH with the bytes of FILE (relative to --dir unless absolute).
                   A PATH containing '?' must match the request's path and query exactly;
                   otherwise the query string is ignored. The split is at the last '='.
                   Repeatable. Unrouted paths get 404.
--redirect PATH=LOCATION
                   answer GET PATH with 302 and "Location: LOCATION" (taken as given: another
                   path, a whole URL, another scheme), POST PATH with 307 (which keeps the
                   method and body). The split is at the first '='.
--tls CERT KEY     speak HTTPS with this certificate and key (PEM files).
--fail-first N     answer the first N requests with --fail-status (default 429), with
                   "Retry-After: 0", whatever their path.
--delay SECONDS    sleep this long before every answer (for client timeout tests).
POST               any path (after --fail-first) answers 200 with "content-type: <its
                   Content-Type>\n" followed by the request body, as application/octet-stream.
HEAD               as GET, without the body.
--log FILE         append one line per request: "<status> <path?query>" for GET,
                   "<status> <METHOD> <path?query>" for the others.
--max-seconds N    exit by itself after N seconds (default 120), so a crashed test never
                   leaves a server behind for long.

Standard library only. Files are read when requested, so a test may change them between
requests.
"""

import argparse
import os
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import standin_http  # noqa: E402  (tests/standin_http.py, beside this file)


def parse_args(argv):
    ap = argparse.ArgumentParser(description="local KDS stand-in for tests")
    ap.add_argument("--dir", default=".")
    ap.add_argument("--route", action="append", default=[], metavar="PATH=FILE")
    ap.add_argument("--redirect", action="append", default=[], metavar="PATH=LOCATION")
    ap.add_argument("--tls", nargs=2, default=None, metavar=("CERT", "KEY"))
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--fail-status", type=int, default=429)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--log", default=None)
    ap.add_argument("--max-seconds", type=float, default=120.0)
    args = ap.parse_args(argv)
    routes = {}
    for r in args.route:
        path, sep, file = r.rpartition("=")
        if not sep or not path.startswith("/") or not file:
            ap.error("--route wants PATH=FILE with PATH starting with '/': %r" % r)
        routes[path] = file if os.path.isabs(file) else os.path.join(args.dir, file)
    args.routes = routes
    redirects = {}
    for r in args.redirect:
        path, sep, loc = r.partition("=")
        if not sep or not path.startswith("/") or not loc:
            ap.error("--redirect wants PATH=LOCATION with PATH starting with '/': %r" % r)
        redirects[path] = loc
    args.redirects = redirects
    return args


def make_handler(args):
    state = {"count": 0}
    lock = threading.Lock()

    class Handler(standin_http.base_handler(args.log, "kds-test")):
        def _failing(self):
            """Counts the request; True when it was answered with --fail-status."""
            with lock:
                state["count"] += 1
                n = state["count"]
            if args.delay > 0:
                time.sleep(args.delay)
            if n <= args.fail_first:
                self._send(args.fail_status, b"try again\n", [("Retry-After", "0")])
                return True
            return False

        def do_POST(self):
            try:
                n = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                n = -1
            if n < 0 or n > (1 << 20):
                self._send(400, b"bad Content-Length\n")
                return
            data = self.rfile.read(n)
            if self._failing():
                return
            loc = args.redirects.get(self.path)
            if loc is not None:
                self._send(307, b"moved\n", [("Location", loc)])
                return
            ct = self.headers.get("Content-Type", "")
            self._send(200, b"content-type: " + ct.encode("latin-1") + b"\n" + data,
                       [("Content-Type", "application/octet-stream")])

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            if self._failing():
                return
            loc = args.redirects.get(self.path)
            if loc is not None:
                self._send(302, b"moved\n", [("Location", loc)])
                return
            file = args.routes.get(self.path)
            if file is None:
                file = args.routes.get(self.path.split("?", 1)[0])
            if file is None:
                self._send(404, b"not found\n")
                return
            try:
                with open(file, "rb") as f:
                    body = f.read()
            except OSError:
                self._send(404, b"not found\n")
                return
            self._send(200, body, [("Content-Type", "application/octet-stream")])

    return Handler


def main(argv):
    args = parse_args(argv)
    return standin_http.serve(make_handler(args), args.max_seconds, args.tls)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
