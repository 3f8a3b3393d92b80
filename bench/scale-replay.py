#!/usr/bin/env python3
"""Replay check of bench/scale-out.sh.

scale-replay.py REPORT VCEK_KEY COUNT FRONT_URL INSTANCE_URL...

COUNT times: get a nonce at FRONT_URL (nginx), make the SEV-SNP report's REPORT_DATA that
nonce (zero-padded to 64 bytes) and sign it again with the simulated VCEK key, and POST it
once to FRONT_URL/v1/verify (it must be answered 200 and affirming). Then every nonce accepted
is replayed once at the front and once at each instance directly. Prints one line:
  REPLAY first=N affirming=N replays=M accepted=K refused_409=R other=O
It exits 0 only when every nonce was accepted once (affirming) and every replay refused 409.
"""
import base64
import http.client
import json
import sys
import urllib.parse

import os

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e", "lib"))
from snp_resign import load_key, resign  # noqa: E402


class Client:
    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.conn = None

    def call(self, method, path, body=None):
        """(status, body); (None, b"") for a POST whose answer was lost.

        A GET is tried again once after any failure (one reconnect when the server closed a
        kept-alive connection). A POST spends its nonce: it goes on a new connection and is
        sent again only when that connection failed before the request was sent; a time-out
        or reset after that may come after the instance handled it (a replay wrongly
        accepted whose answer was lost would be resent, refused 409 and counted refused), so
        it is no answer (counted other), never retried.
        """
        hdr = {"Content-Type": "application/json"} if body is not None else {}
        for attempt in (0, 1):
            if method == "POST" and self.conn is not None:
                self.conn.close()
                self.conn = None
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
            try:
                if method == "POST":
                    self.conn.connect()
            except OSError:
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
                continue
            try:
                self.conn.request(method, path, body=body, headers=hdr)
                r = self.conn.getresponse()
                return r.status, r.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if method == "POST":
                    return None, b""
                if attempt == 1:
                    raise
        raise AssertionError


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def main():
    report_file, key_file, count, front = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    instances = sys.argv[5:]
    report = bytearray(open(report_file, "rb").read())
    key = load_key(key_file)
    fc = Client(front)
    first = affirming = 0
    spent = []  # request bodies whose nonce was accepted once
    for _ in range(count):
        st, body = fc.call("GET", "/v1/nonce")
        if st != 200:
            continue
        nonce = json.loads(body)["nonce"]
        signed = resign(report, key, b64url_decode(nonce))
        req = json.dumps({"evidence": base64.b64encode(signed).decode(), "nonce": nonce})
        st, out = fc.call("POST", "/v1/verify", req)
        if st == 200:
            first += 1
            spent.append(req)
            if json.loads(out).get("status") == "affirming":
                affirming += 1
    replays = accepted = refused = other = 0
    for url in [front] + instances:
        c = Client(url)
        for req in spent:
            st, _ = c.call("POST", "/v1/verify", req)
            replays += 1
            if st is not None and 200 <= st < 300:
                accepted += 1
            elif st == 409:
                refused += 1
            else:
                other += 1
    print("REPLAY first=%d affirming=%d replays=%d accepted=%d refused_409=%d other=%d"
          % (first, affirming, replays, accepted, refused, other))
    # A check that proves something: every nonce was first accepted (bound to its evidence)
    # and every replay refused as a replay, not lost to some other error.
    ok = first == count and affirming == count and replays > 0 and refused == replays
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
