#!/usr/bin/env python3
"""Writes the seed corpora of fuzz/fuzz_tpm_quote.c, fuzz/fuzz_vtpm_svsm.c and
fuzz/fuzz_vtpm_weak.c.

usage: mkseeds-tpm.py CVMATTEST_BINARY FUZZ_DIR   (e.g. build/cvmattest fuzz)

Software AKs and EKs (python3-cryptography), TPM structures marshalled by hand (TCG TPM 2.0
Library Part 2), SEV-SNP reports and TDX quotes from `cvmattest sim snp|tdx`. The input layouts
are the ones the targets' headers describe; keep them in step.
"""
import hashlib
import os
import struct
import subprocess
import sys
import tempfile
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

ALG_RSA, ALG_ECC, ALG_NULL = 0x0001, 0x0023, 0x0010
ALG_SHA1, ALG_SHA256, ALG_SHA384 = 0x0004, 0x000B, 0x000C
ALG_RSASSA, ALG_RSAPSS, ALG_ECDSA = 0x0014, 0x0016, 0x0018
ALG_AES, ALG_CFB = 0x0006, 0x0043
FIXED_TPM, FIXED_PARENT, SDO, USER_AUTH, ADMIN_POLICY = 0x2, 0x10, 0x20, 0x40, 0x80
RESTRICTED, DECRYPT, SIGN = 0x10000, 0x20000, 0x40000
AK_ATTRS = FIXED_TPM | FIXED_PARENT | SDO | USER_AUTH | RESTRICTED | SIGN
EK_ATTRS = FIXED_TPM | FIXED_PARENT | SDO | ADMIN_POLICY | RESTRICTED | DECRYPT
HASHES = {ALG_SHA1: hashes.SHA1, ALG_SHA256: hashes.SHA256, ALG_SHA384: hashes.SHA384}
HASHLIB = {ALG_SHA1: "sha1", ALG_SHA256: "sha256", ALG_SHA384: "sha384"}


def b2(b):
    return struct.pack(">H", len(b)) + b


def rsa_public(key, attrs, scheme, hash_alg, sym=False):
    n = key.public_key().public_numbers().n.to_bytes(key.key_size // 8, "big")
    params = struct.pack(">HHH", ALG_AES, 128, ALG_CFB) if sym else struct.pack(">H", ALG_NULL)
    if scheme == ALG_NULL:
        params += struct.pack(">H", ALG_NULL)
    else:
        params += struct.pack(">HH", scheme, hash_alg)
    params += struct.pack(">HI", key.key_size, 0)
    policy = b"\x5a" * 32 if attrs & ADMIN_POLICY else b""
    return struct.pack(">HHI", ALG_RSA, ALG_SHA256, attrs) + b2(policy) + params + b2(n)


def ecc_public(key, curve_id, hash_alg):
    nums = key.public_key().public_numbers()
    fs = (key.curve.key_size + 7) // 8
    params = struct.pack(">HHHHH", ALG_NULL, ALG_ECDSA, hash_alg, curve_id, ALG_NULL)
    return (struct.pack(">HHI", ALG_ECC, ALG_SHA256, AK_ATTRS) + b2(b"") + params +
            b2(nums.x.to_bytes(fs, "big")) + b2(nums.y.to_bytes(fs, "big")))


def attest(nonce, selection, pcr_digest):
    """A TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE; selection: [(hash, [pcr indices])]."""
    sel = struct.pack(">I", len(selection))
    for alg, idxs in selection:
        bits = bytearray(3)
        for i in idxs:
            bits[i // 8] |= 1 << (i % 8)
        sel += struct.pack(">HB", alg, 3) + bytes(bits)
    return (struct.pack(">IH", 0xFF544347, 0x8018) + b2(b"\x00\x0b" + b"\x11" * 32) + b2(nonce) +
            struct.pack(">QIIB", 123456789, 3, 1, 1) + struct.pack(">Q", 0x0002000100000000) +
            sel + b2(pcr_digest))


def sign(key, msg, scheme, hash_alg):
    h = HASHES[hash_alg]()
    if scheme == ALG_ECDSA:
        r, s = utils.decode_dss_signature(key.sign(msg, ec.ECDSA(h)))
        fs = (key.curve.key_size + 7) // 8
        return struct.pack(">HH", scheme, hash_alg) + b2(r.to_bytes(fs, "big")) + b2(
            s.to_bytes(fs, "big"))
    pad = (padding.PSS(padding.MGF1(h), padding.PSS.DIGEST_LENGTH) if scheme == ALG_RSAPSS else
           padding.PKCS1v15())
    return struct.pack(">HH", scheme, hash_alg) + b2(key.sign(msg, pad, h))


def pcr_digest(hash_alg, selection, values):
    h = hashlib.new(HASHLIB[hash_alg])
    for alg, idxs in selection:
        for i in sorted(idxs):
            h.update(values[(alg, i)])
    return h.digest()


def pcrs_json(values):
    banks = {}
    for (alg, i), v in sorted(values.items()):
        banks.setdefault(HASHLIB[alg], []).append('"%d": "%s"' % (i, v.hex()))
    return ("{" + ", ".join('"%s": {%s}' % (b, ", ".join(e)) for b, e in banks.items()) +
            "}").encode()


def event_log(digests):
    """A TCG PC Client crypto-agile log (SHA-256 only) extending PCR 0 with digests."""
    spec = (b"Spec ID Event03\x00" + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, 1) +
            struct.pack("<HH", ALG_SHA256, 32) + b"\x00")
    log = struct.pack("<II", 0, 3) + b"\x00" * 20 + struct.pack("<I", len(spec)) + spec
    pcr = b"\x00" * 32
    for d in digests:
        log += struct.pack("<IIIH", 0, 1, 1, ALG_SHA256) + d + struct.pack("<I", 4) + b"seed"
        pcr = hashlib.sha256(pcr + d).digest()
    return log, pcr


def parts(*ps):
    return b"".join(b2(p) for p in ps)


def write(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def quote_seeds(out):
    nonce = bytes(range(32))
    sel = [(ALG_SHA256, [0, 7])]
    vals = {(ALG_SHA256, 0): b"\x00" * 32, (ALG_SHA256, 7): hashlib.sha256(b"7").digest()}
    rsa_k = rsa.generate_private_key(65537, 2048)
    # flags: 1 nonce, 2 allow trailing, 4 AK bound, 8 PCRs given, 16 event log given
    # 1. RSA AK (TPMT_PUBLIC, RSASSA-SHA256), nonce, two PCRs: verifies.
    msg = attest(nonce, sel, pcr_digest(ALG_SHA256, sel, vals))
    write(out, "rsa_tpmt_rsassa", bytes([1 | 4 | 8]) + parts(
        msg, sign(rsa_k, msg, ALG_RSASSA, ALG_SHA256),
        rsa_public(rsa_k, AK_ATTRS, ALG_RSASSA, ALG_SHA256), pcrs_json(vals), nonce, b""))
    # 2. The same AK as TPM2B_PUBLIC with no scheme, RSAPSS-SHA384, a TPM2B_ATTEST, two banks.
    sel2 = [(ALG_SHA1, [0]), (ALG_SHA256, [0, 7])]
    vals2 = dict(vals)
    vals2[(ALG_SHA1, 0)] = b"\x00" * 20
    msg = attest(nonce[:20], sel2, pcr_digest(ALG_SHA384, sel2, vals2))
    write(out, "rsa_tpm2b_rsapss", bytes([1 | 2 | 4 | 8]) + parts(
        b2(msg), sign(rsa_k, msg, ALG_RSAPSS, ALG_SHA384),
        b2(rsa_public(rsa_k, AK_ATTRS, ALG_NULL, 0)), pcrs_json(vals2), nonce[:20], b""))
    # 3. ECC P-256 AK, ECDSA-SHA256, no PCRs, not bound.
    ec_k = ec.generate_private_key(ec.SECP256R1())
    msg = attest(nonce, sel, pcr_digest(ALG_SHA256, sel, vals))
    write(out, "ecc_p256", bytes([1]) + parts(
        msg, sign(ec_k, msg, ALG_ECDSA, ALG_SHA256), ecc_public(ec_k, 0x0003, ALG_SHA256), b"",
        nonce, b""))
    # 4. A PEM P-384 AK (attributes unknown), ECDSA-SHA384.
    ec_k = ec.generate_private_key(ec.SECP384R1())
    msg = attest(b"", sel, pcr_digest(ALG_SHA384, sel, vals))
    pem = ec_k.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    write(out, "ecc_p384_pem", bytes([1 | 4 | 8]) + parts(
        msg, sign(ec_k, msg, ALG_ECDSA, ALG_SHA384), pem, pcrs_json(vals), b"", b""))
    # 5. An event log replayed to PCR 0, quoted with the RSA AK.
    log, pcr0 = event_log([hashlib.sha256(b"first").digest(), hashlib.sha256(b"second").digest()])
    sel5 = [(ALG_SHA256, [0])]
    vals5 = {(ALG_SHA256, 0): pcr0}
    msg = attest(nonce, sel5, pcr_digest(ALG_SHA256, sel5, vals5))
    write(out, "rsa_eventlog", bytes([1 | 4 | 8 | 16]) + parts(
        msg, sign(rsa_k, msg, ALG_RSASSA, ALG_SHA256),
        rsa_public(rsa_k, AK_ATTRS, ALG_RSASSA, ALG_SHA256), pcrs_json(vals5), nonce, log))


def svsm_seeds(cvmattest, out):
    nonce = bytes(range(0x40, 0x60))  # 32 bytes: the quote's extraData, zero-padded for the SVSM
    ek_k = rsa.generate_private_key(65537, 2048)
    manifest = rsa_public(ek_k, EK_ATTRS, ALG_NULL, 0, sym=True)
    rd = hashlib.sha512(nonce + b"\x00" * 32 + manifest).digest()
    ak_k = rsa.generate_private_key(65537, 2048)
    ak = rsa_public(ak_k, AK_ATTRS, ALG_RSASSA, ALG_SHA256)
    sel = [(ALG_SHA256, [0])]
    vals = {(ALG_SHA256, 0): b"\x00" * 32}
    msg = attest(nonce, sel, pcr_digest(ALG_SHA256, sel, vals))
    sig = sign(ak_k, msg, ALG_RSASSA, ALG_SHA256)
    # the last: a debug guest's report, refused for what it says (binds no EK)
    for name, vmpl, flags, extra in (("two_step", 0, 1 | 4, []), ("one_shot", 0, 0, []),
                                     ("two_step_wrong", 0, 3, []), ("vmpl1", 1, 1 | 4, []),
                                     ("debug", 0, 1 | 4, ["--debug"])):
        with tempfile.TemporaryDirectory() as d:
            subprocess.run([cvmattest, "sim", "snp", "--out", d, "--report-data", rd.hex(),
                            "--vmpl", str(vmpl)] + extra, check=True, stdout=subprocess.DEVNULL)
            at = int(time.time())
            rd_ = lambda n: open(os.path.join(d, n), "rb").read()
            # flags: 1 the two-step flow (challenge, then the secret back), 2 a wrong secret, 4
            # the binding alone too
            write(out, name, bytes([flags]) + struct.pack(">Q", at) + parts(
                rd_("report.bin"), manifest, msg, sig, ak, pcrs_json(vals), nonce,
                rd_("ark.pem"), rd_("ask.pem"), rd_("vcek.der"), rd_("crl.der")))


def weak_seeds(cvmattest, out):
    nonce = bytes(range(0x20, 0x40))
    ak = rsa_public(rsa.generate_private_key(65537, 2048), AK_ATTRS, ALG_RSASSA, ALG_SHA256)
    rd = hashlib.sha512(nonce + ak).digest()
    snp_names = ("ask.pem", "vcek.der", "crl.der")
    tdx_names = ("tcb_info.json", "tcb_info_issuer_chain.pem", "qe_identity.json",
                 "qe_identity_issuer_chain.pem", "pck_crl.der", "root_ca_crl.der")
    # (name, sim arguments, the AK given): the AK the report names, another one, and reports
    # that verify but are refused for what they say (a debug guest, an out-of-date TCB).
    for name, sim, given in (("snp_bound", ["snp"], ak), ("snp_other_ak", ["snp"], ak[:-1]),
                             ("snp_debug", ["snp", "--debug"], ak),
                             ("tdx_bound", ["tdx"], ak), ("tdx_v5_bound", ["tdx", "--version", "5"], ak),
                             ("tdx_out_of_date", ["tdx", "--tcb-status", "outofdate"], ak)):
        with tempfile.TemporaryDirectory() as d:
            subprocess.run([cvmattest, "sim"] + sim + ["--out", d, "--report-data", rd.hex()],
                           check=True, stdout=subprocess.DEVNULL)
            at = int(time.time())
            rd_ = lambda n: open(os.path.join(d, n), "rb").read()
            if sim[0] == "snp":
                ps = [rd_("report.bin"), given, nonce, rd_("ark.pem")] + [rd_(n) for n in snp_names]
            else:
                ps = ([rd_("quote.bin"), given, nonce, rd_("root_ca.pem"), b"", b"", b""] +
                      [rd_(n) for n in tdx_names])
            # flags: 1 trailing data allowed
            write(out, name, bytes([0]) + struct.pack(">Q", at) + parts(*ps))


def main():
    cvmattest, fuzz = sys.argv[1], sys.argv[2]
    quote_seeds(os.path.join(fuzz, "corpus", "tpm_quote"))
    svsm_seeds(cvmattest, os.path.join(fuzz, "corpus", "vtpm_svsm"))
    weak_seeds(cvmattest, os.path.join(fuzz, "corpus", "vtpm_weak"))


if __name__ == "__main__":
    main()
