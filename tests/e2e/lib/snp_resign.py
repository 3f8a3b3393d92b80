#!/usr/bin/env python3
"""A simulated SEV-SNP report with another REPORT_DATA, signed again with the simulator's VCEK
key (`cvmattest sim snp --keep-keys` writes vcek-key.pem): evidence bound to a nonce or a key
without a TEE. Used by tests/e2e/serve*.sh and bench/scale-replay.py.

  snp_resign.py REPORT KEY HEX OUT   (HEX: up to 64 bytes of REPORT_DATA, zero-padded)
or, from Python: resign(report_bytes, key, report_data) -> bytes
"""
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

REPORT_DATA = slice(0x50, 0x90)  # 64 bytes
SIGNED = 0x2A0                   # the signature covers the report's first 0x2A0 bytes
SIG_R = slice(0x2A0, 0x2E8)      # r and s, 72 bytes little-endian each
SIG_S = slice(0x2E8, 0x330)


def load_key(path):
    return serialization.load_pem_private_key(open(path, "rb").read(), password=None)


def resign(report, key, report_data):
    rep = bytearray(report)
    rep[REPORT_DATA] = bytes(report_data).ljust(64, b"\0")
    r, s = decode_dss_signature(key.sign(bytes(rep[:SIGNED]), ec.ECDSA(hashes.SHA384())))
    rep[SIG_R] = r.to_bytes(72, "little")
    rep[SIG_S] = s.to_bytes(72, "little")
    return bytes(rep)


if __name__ == "__main__":
    report, key, hexdata, out = sys.argv[1:5]
    open(out, "wb").write(resign(open(report, "rb").read(), load_key(key), bytes.fromhex(hexdata)))
