#!/usr/bin/env python3
"""A tiny stand-in for Intel PCS (or a PCCS) for cvmattest's tests.

Listens on 127.0.0.1 only, on a port the OS picks; prints that port as the first line of
stdout, then serves until killed or until --max-seconds have passed.

  pcs_server.py [--dir DIR] [--route PATH=FILE]... [--hex-route PATH=FILE]...
                [--header 'PATH|NAME|FILE']... [--redirect PATH=LOCATION]... [--log FILE]
                [--max-seconds N]

--route PATH=FILE      answer GET PATH with the bytes of FILE (relative to --dir unless
                       absolute). A PATH containing '?' must match the request's path and query
                       exactly; otherwise the query string is ignored. The split is at the last
                       '='. Unrouted paths get 404.
--hex-route PATH=FILE  the same, but the body is FILE's bytes hex-encoded (lower case), as a
                       PCCS serves /sgx/certification/v4/rootcacrl.
--header 'PATH|NAME|FILE'
                       with the answer to PATH (matched as for --route), send the header NAME
                       whose value is FILE's text URL-encoded (every byte outside
                       A-Z a-z 0-9 -_.~ as %XX), as PCS sends issuer chains. Repeatable.
--redirect PATH=LOCATION
                       answer GET PATH (matched as for --route, before the routes) with 302
                       and Location: LOCATION, taken as given. The split is at the first '='.
--log FILE             append one line per request: "<status> <path?query>".
--max-seconds N        exit by itself after N seconds (default 120).

Standard library only. Files are read when requested.
"""

import argparse
import os
import sys
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import standin_http  # noqa: E402  (tests/standin_http.py, beside this file)


def parse_args(argv):
    ap = argparse.ArgumentParser(description="local PCS stand-in for tests")
    ap.add_argument("--dir", default=".")
    ap.add_argument("--route", action="append", default=[], metavar="PATH=FILE")
    ap.add_argument("--hex-route", action="append", default=[], metavar="PATH=FILE")
    ap.add_argument("--header", action="append", default=[], metavar="PATH|NAME|FILE")
    ap.add_argument("--redirect", action="append", default=[], metavar="PATH=LOCATION")
    ap.add_argument("--log", default=None)
    ap.add_argument("--max-seconds", type=float, default=120.0)
    args = ap.parse_args(argv)

    def resolve(f):
        return f if os.path.isabs(f) else os.path.join(args.dir, f)

    routes = {}
    for r, hexed in [(r, False) for r in args.route] + [(r, True) for r in args.hex_route]:
        path, sep, file = r.rpartition("=")
        if not sep or not path.startswith("/") or not file:
            ap.error("--route wants PATH=FILE with PATH starting with '/': %r" % r)
        routes[path] = (resolve(file), hexed)
    headers = {}
    for h in args.header:
        parts = h.split("|")
        if len(parts) != 3 or not parts[0].startswith("/") or not parts[1] or not parts[2]:
            ap.error("--header wants 'PATH|NAME|FILE': %r" % h)
        headers.setdefault(parts[0], []).append((parts[1], resolve(parts[2])))
    redirects = {}
    for r in args.redirect:
        path, sep, loc = r.partition("=")
        if not sep or not path.startswith("/") or not loc:
            ap.error("--redirect wants PATH=LOCATION with PATH starting with '/': %r" % r)
        redirects[path] = loc
    args.routes = routes
    args.headers = headers
    args.redirects = redirects
    return args


def lookup(table, path):
    if path in table:
        return table[path]
    return table.get(path.split("?", 1)[0])


def make_handler(args):
    class Handler(standin_http.base_handler(args.log, "pcs-test")):
        def do_GET(self):
            loc = lookup(args.redirects, self.path)
            if loc is not None:
                self._send(302, b"moved\n", [("Location", loc)])
                return
            route = lookup(args.routes, self.path)
            if route is None:
                self._send(404, b"not found\n")
                return
            file, hexed = route
            try:
                with open(file, "rb") as f:
                    body = f.read()
                extra = [("Content-Type", "application/octet-stream")]
                for name, hfile in lookup(args.headers, self.path) or []:
                    with open(hfile, "rb") as f:
                        extra.append((name, urllib.parse.quote(f.read(), safe="")))
            except OSError:
                self._send(404, b"not found\n")
                return
            if hexed:
                body = body.hex().encode("ascii")
            self._send(200, body, extra)

    return Handler


def main(argv):
    args = parse_args(argv)
    return standin_http.serve(make_handler(args), args.max_seconds)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
