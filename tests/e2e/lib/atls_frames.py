"""The frames of attested TLS (docs/atls.md, "Frames"): a type byte, a 4-byte big-endian length,
the payload. Used by the python3 peers of tests/e2e/atls_harden.sh and atls_collect.sh (they
import it with sys.dont_write_bytecode set, so no __pycache__ lands in the source tree).
"""


def frame(t, payload):
    """One frame of type t carrying payload (bytes)."""
    return bytes([t]) + len(payload).to_bytes(4, "big") + payload


def recv_exact(s, n):
    """n bytes from the socket s, or None when the peer closes first."""
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            return None
        b += c
    return b


def read_frame(s):
    """The next frame from s as (type, payload): (None, None) when the peer closes before its
    header, (type, None) when it closes inside the payload."""
    h = recv_exact(s, 5)
    if h is None:
        return None, None
    return h[0], recv_exact(s, int.from_bytes(h[1:], "big"))
