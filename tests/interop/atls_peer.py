#!/usr/bin/env python3
"""An attested-TLS peer that is not cvmattest: pyOpenSSL (python3-openssl) makes the TLS 1.3
connection and reads the RFC 8446 section 7.5 exporter (OpenSSL.SSL.Connection.
export_keying_material), hashlib computes the binding and python3-cryptography checks or
makes the report's signature. It follows docs/atls.md ("Exporter", "Binding", "Frames",
"Server-only mode") and the vendors' report layouts as the shared reference notes give them
(snp-report.md: SEV-SNP ATTESTATION_REPORT, REPORT_DATA at 0x50, ECDSA P-384 signature over
0x000..0x29F, r and s little-endian; tdx-quote.md: TDX quote v4/v5, REPORTDATA at TD-report
body offset 0x208, ECDSA P-256 quote signature by the attestation key); nothing of cvmattest's
code computes what it checks. Used by tests/e2e/interop_atls.sh.

  atls_peer.py client PORT [--role N] [--other-nonce] [--send TEXT]
      connects to `cvmattest atls-server`, sends a NONCE, reads the EVIDENCE and exits 0 when
      its REPORT_DATA (under a signature that verifies) equals the binding computed here
      (role 1, the server's leaf SPKI, this session's exporter, the nonce sent), 1 otherwise.
      --role N / --other-nonce compute the expected value with another role byte / a nonce
      other than the one sent (negative checks: they must exit 1). It also checks that a
      second session's exporter differs and does not match the evidence.
  atls_peer.py server --sim DIR MODE...
      serves one connection per MODE, in order, to `cvmattest atls-client`: answers the
      NONCE with DIR's report or quote (`cvmattest sim snp|tdx --keep-keys`), its REPORT_DATA
      set and signed again here. MODE: good (bound to this session), other-session (bound to
      the previous connection's exporter), role-client (role byte 0x02), other-nonce (bound to
      a nonce other than the one received). Prints "listening 127.0.0.1:PORT" first, then
      one line per connection saying how the peer ended it.
"""
import argparse
import base64
import datetime
import hashlib
import json
import os
import signal
import socket
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.x509.oid import NameOID
from OpenSSL import SSL, crypto

# docs/atls.md, "Exporter" and "Binding"
EXPORTER_LABEL = b"EXPORTER-cvmattest-atls-v1"  # 26 bytes
EXPORTER_CONTEXT = b""                          # present, zero length
EXPORTER_LEN = 32
BINDING_LABEL = b"cvmattest-atls-v1"            # 17 bytes, no NUL
ROLE_SERVER, ROLE_CLIENT = 0x01, 0x02
NONCE_LEN = 32
# docs/atls.md, "Frames"
F_NONCE, F_EVIDENCE, F_ERROR, F_DATA = 1, 2, 3, 4
FRAME_LIMIT = {F_NONCE: 32, F_EVIDENCE: 8388608, F_ERROR: 4096, F_DATA: 8388608}

assert len(EXPORTER_LABEL) == 26 and len(BINDING_LABEL) == 17


def binding(role, spki_der, exporter, nonce):
    """The 64-byte REPORT_DATA of docs/atls.md: SHA-512(label || role || SHA-256(SPKI) ||
    exporter || nonce)."""
    assert len(exporter) == EXPORTER_LEN and len(nonce) == NONCE_LEN
    return hashlib.sha512(BINDING_LABEL + bytes([role]) + hashlib.sha256(spki_der).digest()
                          + exporter + nonce).digest()


def exporter_of(conn):
    return conn.export_keying_material(EXPORTER_LABEL, EXPORTER_LEN, EXPORTER_CONTEXT)


# --- the leaf's SubjectPublicKeyInfo, as the certificate carries it (DER, not re-encoded) ---
def der_element(buf, off):
    """(tag, content start, end) of the DER element at off."""
    tag, n = buf[off], buf[off + 1]
    off += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[off:off + k], "big")
        off += k
    return tag, off, off + n


def spki_of(cert_der):
    """The DER bytes of the certificate's subjectPublicKeyInfo (RFC 5280 4.1: tbsCertificate =
    [0] version, serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo)."""
    _, c, _ = der_element(cert_der, 0)       # Certificate
    _, off, _ = der_element(cert_der, c)     # tbsCertificate
    tag, _, end = der_element(cert_der, off)
    if tag == 0xA0:                          # version
        off = end
    for _ in range(5):                       # serial, signature, issuer, validity, subject
        off = der_element(cert_der, off)[2]
    tag, _, end = der_element(cert_der, off)
    assert tag == 0x30, "subjectPublicKeyInfo is not a SEQUENCE"
    spki = cert_der[off:end]
    # the same key as cryptography reads it (a check of the walk, not of cvmattest)
    again = x509.load_der_x509_certificate(cert_der).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert spki == again, "SPKI walk disagrees with cryptography"
    return spki


# --- frames ---
def recv_exact(conn, n):
    b = b""
    while len(b) < n:
        try:
            c = conn.recv(n - len(b))
        except (SSL.ZeroReturnError, SSL.SysCallError):
            c = b""
        if not c:
            return None
        b += c
    return b


def read_frame(conn):
    """(type, payload), or (None, None) when the peer closes."""
    h = recv_exact(conn, 5)
    if h is None:
        return None, None
    t, n = h[0], int.from_bytes(h[1:], "big")
    if t not in FRAME_LIMIT or n > FRAME_LIMIT[t]:
        raise ValueError("frame of type %d announces %d bytes" % (t, n))
    p = recv_exact(conn, n)
    if p is None:
        return None, None
    return t, p


def send_frame(conn, t, payload):
    conn.sendall(bytes([t]) + len(payload).to_bytes(4, "big") + payload)


# --- evidence: docs/bundle.md, snp-report.md, tdx-quote.md ---
SNP_SIZE = 0x4A0
SNP_RD = slice(0x50, 0x90)
SNP_SIGNED = 0x2A0
SNP_R, SNP_S = slice(0x2A0, 0x2E8), slice(0x2E8, 0x330)  # 72 bytes each, little-endian
TDX_RD_IN_BODY = 0x208


def tdx_layout(q):
    """(body offset, signed length) of a TDX quote v4 or v5."""
    ver = int.from_bytes(q[0:2], "little")
    assert int.from_bytes(q[4:8], "little") == 0x81, "not a TDX quote (tee_type)"
    if ver == 4:
        return 0x30, 0x30 + 584
    assert ver == 5, "TDX quote version %d" % ver
    size = int.from_bytes(q[0x32:0x36], "little")
    return 0x36, 0x36 + size


def bundle_parts(blob):
    b = json.loads(blob)
    assert b["cvmattest_bundle"] == 1, "not a version-1 bundle"
    ev = [p for p in b["parts"] if p["role"] == "evidence"]
    assert len(ev) == 1, "%d evidence parts" % len(ev)
    coll = {p["name"]: base64.b64decode(p["data"], validate=True)
            for p in b["parts"] if p["role"] == "collateral"}
    return b.get("kind"), base64.b64decode(ev[0]["data"], validate=True), coll


def report_data_of(blob):
    """(kind, REPORT_DATA) of an EVIDENCE payload (a bundle), its signature verified."""
    kind, ev, coll = bundle_parts(blob)
    if kind in ("sev-snp", "snp"):
        assert len(ev) == SNP_SIZE, "SEV-SNP report of %d bytes" % len(ev)
        if "vcek.der" in coll:
            vcek = x509.load_der_x509_certificate(coll["vcek.der"])
        else:
            vcek = x509.load_pem_x509_certificate(coll["vcek.pem"])
        sig = encode_dss_signature(int.from_bytes(ev[SNP_R], "little"),
                                   int.from_bytes(ev[SNP_S], "little"))
        vcek.public_key().verify(sig, ev[:SNP_SIGNED], ec.ECDSA(hashes.SHA384()))
        return "sev-snp", ev[SNP_RD]
    if kind == "tdx":
        body, signed = tdx_layout(ev)
        sd = ev[signed + 4:]
        ak = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + sd[64:128])
        sig = encode_dss_signature(int.from_bytes(sd[0:32], "big"), int.from_bytes(sd[32:64], "big"))
        ak.verify(sig, ev[:signed], ec.ECDSA(hashes.SHA256()))
        return "tdx", ev[body + TDX_RD_IN_BODY:body + TDX_RD_IN_BODY + 64]
    raise ValueError("evidence kind %r" % kind)


def resign(kind, ev, key, report_data):
    """DIR's report or quote with REPORT_DATA = report_data, signed again with key."""
    ev = bytearray(ev)
    if kind in ("sev-snp", "snp"):
        ev[SNP_RD] = report_data
        r, s = decode_dss_signature(key.sign(bytes(ev[:SNP_SIGNED]), ec.ECDSA(hashes.SHA384())))
        ev[SNP_R], ev[SNP_S] = r.to_bytes(72, "little"), s.to_bytes(72, "little")
    else:
        body, signed = tdx_layout(ev)
        ev[body + TDX_RD_IN_BODY:body + TDX_RD_IN_BODY + 64] = report_data
        r, s = decode_dss_signature(key.sign(bytes(ev[:signed]), ec.ECDSA(hashes.SHA256())))
        ev[signed + 4:signed + 68] = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return bytes(ev)


# --- TLS ---
def tls13_only(ctx):
    ctx.set_min_proto_version(SSL.TLS1_3_VERSION)
    ctx.set_max_proto_version(SSL.TLS1_3_VERSION)


def connect(port):
    ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
    tls13_only(ctx)
    ctx.set_verify(SSL.VERIFY_NONE, lambda *a: True)  # no CA: the evidence vouches for the key
    s = socket.create_connection(("127.0.0.1", port))  # blocking, as pyOpenSSL wants it
    conn = SSL.Connection(ctx, s)
    conn.set_connect_state()
    conn.do_handshake()
    assert conn.get_protocol_version_name() == "TLSv1.3", conn.get_protocol_version_name()
    return conn


def close(conn):
    try:
        conn.shutdown()
    except SSL.Error:
        pass
    conn.close()  # the socket's close (pyOpenSSL passes it through)


def run_client(a):
    conn = connect(a.port)
    exporter = exporter_of(conn)
    spki = spki_of(crypto.dump_certificate(crypto.FILETYPE_ASN1, conn.get_peer_certificate()))
    nonce = os.urandom(NONCE_LEN)
    send_frame(conn, F_NONCE, nonce)
    t, payload = read_frame(conn)
    if t != F_EVIDENCE:
        print("no EVIDENCE: frame %r %r" % (t, payload))
        return 1
    kind, rd = report_data_of(payload)
    print("evidence: %s, signature verifies, REPORT_DATA %s" % (kind, rd.hex()))
    used = os.urandom(NONCE_LEN) if a.other_nonce else nonce
    want = binding(a.role, spki, exporter, used)
    print("binding (role 0x%02x, %s nonce): %s" % (a.role, "another" if a.other_nonce else "the sent",
                                                   want.hex()))
    if rd != want:
        print("NOT BOUND: REPORT_DATA differs from the binding computed here")
        return 1
    print("bound: REPORT_DATA = SHA-512(label || 0x01 || SHA-256(SPKI) || exporter || nonce)")
    # the value depends on each input: the other role byte, another nonce, another session
    if rd == binding(ROLE_CLIENT, spki, exporter, nonce) or \
            rd == binding(ROLE_SERVER, spki, exporter, os.urandom(NONCE_LEN)):
        print("FAIL: the binding does not depend on the role byte or the nonce")
        return 1
    if a.send is not None:
        send_frame(conn, F_DATA, a.send.encode())
        t, payload = read_frame(conn)
        print("reply: %r" % payload)
        if t != F_DATA or payload != b"echo: " + a.send.encode():
            print("FAIL: the DATA frame was not echoed")
            return 1
    close(conn)
    other = connect(a.port)
    exporter2 = exporter_of(other)
    close(other)
    if exporter2 == exporter or rd == binding(ROLE_SERVER, spki, exporter2, nonce):
        print("FAIL: a second session has the same exporter")
        return 1
    print("a second session's exporter differs, and the evidence is not bound to it")
    return 0


def self_signed():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "atls_peer.py")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return key, cert


def run_server(a):
    bundle = json.load(open(os.path.join(a.sim, "bundle.json")))
    kind = bundle["kind"]
    ev_part = [p for p in bundle["parts"] if p["role"] == "evidence"][0]
    template = base64.b64decode(ev_part["data"], validate=True)
    keyfile = "vcek-key.pem" if kind in ("sev-snp", "snp") else "attestation-key.pem"
    sign_key = serialization.load_pem_private_key(
        open(os.path.join(a.sim, keyfile), "rb").read(), password=None)
    tls_key, cert = self_signed()
    spki = spki_of(cert.public_bytes(serialization.Encoding.DER))
    ctx = SSL.Context(SSL.TLS_SERVER_METHOD)
    tls13_only(ctx)
    ctx.use_certificate(crypto.X509.from_cryptography(cert))
    ctx.use_privatekey(crypto.PKey.from_cryptography_key(tls_key))
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(4)
    print("listening 127.0.0.1:%d" % ls.getsockname()[1], flush=True)
    previous = None
    for i, mode in enumerate(a.modes, 1):
        s, _ = ls.accept()
        conn = SSL.Connection(ctx, s)
        conn.set_accept_state()
        try:
            conn.do_handshake()
            exporter = exporter_of(conn)
            t, nonce = read_frame(conn)
            assert t == F_NONCE and len(nonce) == NONCE_LEN, "no NONCE frame: %r" % t
            role, exp, n = ROLE_SERVER, exporter, nonce
            if mode == "other-session":
                assert previous is not None, "other-session needs a connection before it"
                exp = previous
            elif mode == "role-client":
                role = ROLE_CLIENT
            elif mode == "other-nonce":
                n = os.urandom(NONCE_LEN)
            else:
                assert mode == "good", mode
            previous = exporter
            ev_part["data"] = base64.b64encode(resign(kind, template, sign_key,
                                                      binding(role, spki, exp, n))).decode()
            send_frame(conn, F_EVIDENCE, json.dumps(bundle).encode())
            end = "closed"
            while True:
                t, p = read_frame(conn)
                if t is None:
                    break
                if t == F_ERROR:
                    end = "the peer refuses: " + p.decode()
                    break
                if t == F_DATA:
                    send_frame(conn, F_DATA, b"echo: " + p)
                    end = "closed after DATA"
        except (SSL.Error, OSError, AssertionError, ValueError) as e:
            end = "error: %r" % e
        print("connection %d (%s): %s" % (i, mode, end), flush=True)
        close(conn)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("client")
    c.add_argument("port", type=int)
    c.add_argument("--role", type=lambda v: int(v, 0), default=ROLE_SERVER)
    c.add_argument("--other-nonce", action="store_true")
    c.add_argument("--send")
    s = sub.add_parser("server")
    s.add_argument("--sim", required=True)
    s.add_argument("modes", nargs="+",
                   choices=["good", "other-session", "role-client", "other-nonce"])
    a = ap.parse_args()
    signal.alarm(30)  # a peer that stops answering ends this process (SIGALRM), not the test
    return run_client(a) if a.cmd == "client" else run_server(a)


if __name__ == "__main__":
    sys.exit(main())
