"""Waits for a `cvmattest serve` instance's own word, shared by the python parts of the serve
e2e scripts (the scripts put this folder on sys.path): a request has ended once its line is in
the log, and requests are in flight once /metrics counts them. Never a fixed sleep: on a loaded
machine (CI, a sanitized build) the server's word can come a moment after the client's."""
import http.client
import re
import time


def ended(log, rid):
    """Waits (10 s at most) for request rid's line in the log: it has ended, counted no more."""
    t0 = time.monotonic()
    while "request_id=%s " % rid not in open(log).read() and time.monotonic() - t0 < 10:
        time.sleep(0.05)


def in_flight(port, log, want):
    """Waits (30 s at most) until /metrics counts want requests in flight besides its own (each
    /metrics request ended before the next is asked); the count seen last."""
    t0 = time.monotonic()
    while True:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/metrics")
        r = c.getresponse()
        text, rid = r.read().decode(errors="replace"), r.getheader("X-Request-Id")
        c.close()
        m = re.search(r"^cvmattest_http_requests_in_flight (\d+)$", text, re.M)
        n = int(m.group(1)) - 1 if m else -1
        ended(log, rid)
        if n >= want or time.monotonic() - t0 > 30:
            return n
        time.sleep(0.05)
