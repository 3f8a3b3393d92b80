#!/usr/bin/env python3
"""What one small send over loopback costs the sender's CPU on this machine.

A verification request to `cvmattest serve` makes two such sends besides the verification:
the spent-nonce command to Redis and the answer to the client. On loopback each also runs
the receiver's side of TCP in the sender's context and, when the receiver sleeps on another
core, wakes it. This prints the sender's CPU time per 1-byte send (its thread CPU clock around
the send) over TCP on 127.0.0.1, to a receiver that sleeps in recv on the other core or on
the same core, and over a Unix socket the same and to a receiver that spins on the other core
without sleeping (no wake-up needed: the difference is the wake-up's cost to the sender). The
sender stays busy between sends, as a loaded service worker does. docs/operations.md uses it
to tell this machine's kernel costs from the service's.

Usage: bench/loopback-cost.py [--sends N]   (Linux; the sender runs on the first core this
process may use, the other-core lines need a second one)
"""
import argparse
import os
import socket
import sys
import time

GAP = 0.0003  # seconds between two sends


def receiver(sock, n, core, spin):
    os.sched_setaffinity(0, {core})
    got = 0
    if spin:
        sock.setblocking(False)
    while got < n:
        try:
            b = sock.recv(4096)
        except BlockingIOError:
            continue
        if not b:
            break
        got += len(b)
    os._exit(0 if got == n else 1)


def measure(kind, n, here, core, spin):
    if kind == "tcp":
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        client = socket.create_connection(lsock.getsockname())
        server, _ = lsock.accept()
        lsock.close()
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    else:
        server, client = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:
        try:
            server.close()
            receiver(client, n, core, spin)
        finally:
            os._exit(1)  # never back into the parent's code
    client.close()
    os.sched_setaffinity(0, {here})
    time.sleep(0.2)
    spent = 0
    for _ in range(n):
        # Between sends the sender stays busy, as a service worker under load does (sleeping
        # would let its core idle and its caches cool), for long enough that the receiver has
        # read the byte and gone back to sleep.
        until = time.perf_counter() + GAP
        while time.perf_counter() < until:
            pass
        t0 = time.thread_time_ns()
        server.send(b"x")
        spent += time.thread_time_ns() - t0
    _, status = os.waitpid(pid, 0)
    server.close()
    if status != 0:
        sys.exit("loopback-cost: the receiver failed")
    return spent / n / 1000.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sends", type=int, default=5000)
    a = ap.parse_args()
    if a.sends < 100:
        ap.error("--sends: at least 100")
    cores = sorted(os.sched_getaffinity(0))
    here = cores[0]
    other = cores[1] if len(cores) > 1 else None
    # The cost of the clock reads and the call itself, with nobody to deliver to.
    os.sched_setaffinity(0, {here})
    r, w = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    spent = 0
    for _ in range(a.sends):
        t0 = time.thread_time_ns()
        w.send(b"x")
        spent += time.thread_time_ns() - t0
        r.recv(1)
    print("unix, nobody waiting (the call's own cost)      %6.2f us" % (spent / a.sends / 1000.0))
    for kind in ("tcp", "unix"):
        rows = [("same core, receiver sleeping", here, False)]
        if other is not None:
            rows = [("other core, receiver sleeping", other, False)] + rows
            if kind == "unix":
                # no wake-up needed; over TCP a spinning receiver would also take over part of
                # the delivery (segments queue to its backlog while it holds the socket), so
                # the wake-up's cost is read from the Unix lines only
                rows.insert(1, ("other core, receiver spinning", other, True))
        for label, core, spin in rows:
            us = measure(kind, a.sends, here, core, spin)
            print("%-4s %-42s %6.2f us" % (kind, label + ":", us))


if __name__ == "__main__":
    main()
