#!/usr/bin/env python3
"""Writes the seed corpus of fuzz/fuzz_verify.c.

usage: mkseeds-verify.py CVMATTEST_BINARY FUZZ_DIR   (e.g. build/cvmattest fuzz)

Simulated SEV-SNP reports and TDX quotes with their test roots and collateral from
`cvmattest sim snp|tdx`; a TPM quote and an SVSM vTPM bundle taken apart from the seeds of
fuzz/fuzz_tpm_quote.c and fuzz/fuzz_vtpm_svsm.c (fuzz/mkseeds-tpm.py), a small CCEL made here. Each seed is verified as of the time it was made, so it stays good. The
input layout is the one the target's header describes; keep the two in step.
"""
import base64
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

TAGS = ["evidence", "root", "policy", "report_data", "nonce", "store", "previous",
        "provider", "registry", "proof", "tpm_quote", "tpm_signature", "tpm_ak", "tpm_pcrs", "event_log", "svsm_manifest",
        "vcek.der", "vcek.pem", "vlek.der", "vlek.pem", "ask.pem", "asvk.pem", "ark.pem",
        "cert_chain.pem", "crl.der", "tcb_info.json", "tcb_info.sig.hex", "qe_identity.json",
        "qe_identity.sig.hex", "tcb_info_issuer_chain.pem", "qe_identity_issuer_chain.pem",
        "pck_crl.der", "root_ca_crl.der"]
KINDS = [None, "sev-snp", "tdx", "tpm", "azure-snp", "azure-tdx", "svsm-vtpm", "snp"]
F_TRAILING, F_REPORT_DATA, F_NONCE, F_STORE, F_PREVIOUS = 1, 2, 4, 8, 16


def seed(flags, kind, at, parts):
    out = bytes([flags, KINDS.index(kind)]) + struct.pack(">Q", at)
    for name, data in parts:
        assert len(data) <= 0xFFFF, name
        out += bytes([TAGS.index(name)]) + struct.pack(">H", len(data)) + data
    return out


def sim(cvm, kind, out, *args):
    subprocess.run([cvm, "sim", kind, "--out", out, *args], check=True,
                   stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "bundle.json")) as f:
        b = json.load(f)
    parts = []
    for p in b["parts"]:
        name = "evidence" if p["role"] == "evidence" else p.get("name", p["role"])
        parts.append((name, base64.b64decode(p["data"])))
    return parts


def parts_of(d):
    """The parts of the bundle `cvmattest sim` wrote in d."""
    with open(os.path.join(d, "bundle.json")) as f:
        b = json.load(f)
    return [("evidence" if p["role"] == "evidence" else p.get("name", p["role"]),
             base64.b64decode(p["data"])) for p in b["parts"]]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def shared(data, fetched):
    """A value of the fleet's shared store: fetch time, expiry (0: none), the bytes."""
    return struct.pack(">qq", fetched, 0) + data


def pcs_framed(body, chain):
    """A PCS answer as the collateral cache keeps it (collateral/pcs.h): magic, u64be body
    length, body, u64be issuer chain length, chain."""
    return b"CVMAPCS1" + struct.pack(">Q", len(body)) + body + struct.pack(">Q", len(chain)) + chain


def make_ccel():
    """A small TDX CCEL (TCG PC Client PFP: the SHA-1 format Spec ID event, then
    TCG_PCR_EVENT2 records in SHA-384, MR index 1..3 for RTMR 0..2) whose EFI variable and
    separator events hash their data, so that it replays: SecureBoot = 1 and a separator in
    RTMR 0, a boot application in RTMR 1, a command line in RTMR 2."""
    spec = (b"Spec ID Event03\0" + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, 1) +
            struct.pack("<HH", 0x000C, 48) + b"\0")
    out = struct.pack("<II", 0, 3) + bytes(20) + struct.pack("<I", len(spec)) + spec
    guid = bytes.fromhex("61dfe48bca93d211aa0d00e098032b8c")
    name = "SecureBoot".encode("utf-16-le")
    var = guid + struct.pack("<QQ", 10, 1) + name + b"\x01"
    image = struct.pack("<QQQQ", 0x1000, 0x2000, 0, 0)
    events = [(1, 0x80000001, var, None), (1, 4, bytes(4), None),
              (2, 0x80000003, image, b"\x07" * 48),
              (3, 0xD, b"grub_cmd: linux /vmlinuz ro quiet\0", None)]
    for mr, etype, data, digest in events:
        digest = digest or hashlib.sha384(data).digest()
        out += struct.pack("<IIIH", mr, etype, 1, 0x000C) + digest + struct.pack("<I", len(data))
        out += data
    return out


def split_parts(b, n):
    """n big-endian u16-prefixed parts (fuzz/tpm_check.h, next_part)."""
    out = []
    for _ in range(n):
        k = struct.unpack(">H", b[:2])[0]
        out.append(b[2:2 + k])
        b = b[2 + k:]
    return out


def main():
    cvm, fuzz = sys.argv[1], sys.argv[2]
    corpus = os.path.join(fuzz, "corpus", "verify")
    os.makedirs(corpus, exist_ok=True)
    now = int(time.time())
    seeds = {}
    with tempfile.TemporaryDirectory() as t:
        # SEV-SNP: Milan v5 (VCEK), Genoa v3 with a VLEK, Turin; the bundle's own collateral.
        for name, args in [("snp-milan", []), ("snp-genoa-vlek", ["--product", "genoa", "--vlek",
                                                                    "--version", "3"]),
                           ("snp-turin-debug", ["--product", "turin", "--debug"])]:
            d = os.path.join(t, name)
            parts = sim(cvm, "snp", d, *args)
            seeds[name] = seed(0, "sev-snp", now, [("root", read(d + "/ark.pem"))] + parts)
        d = os.path.join(t, "snp-milan")
        rep = read(d + "/report.bin")
        # Bare evidence (no bundle): binary, then hex text; its collateral nowhere (undecided).
        seeds["snp-bare"] = seed(0, None, now, [("evidence", rep), ("root", read(d + "/ark.pem"))])
        seeds["snp-hex"] = seed(0, None, now, [("evidence", rep.hex().encode()),
                                               ("root", read(d + "/ark.pem"))])
        # The collateral from the shared store (`serve --redis`): VCEK, cert_chain, CRL, in the
        # order the verification asks for them.
        seeds["snp-store"] = seed(F_STORE, "sev-snp", now, [
            ("evidence", rep), ("root", read(d + "/ark.pem")),
            ("store", shared(read(d + "/vcek.der"), now)),
            ("store", shared(read(d + "/cert_chain.pem"), now)),
            ("store", shared(read(d + "/crl.der"), now))])
        # The expected REPORT_DATA, a policy, and a previous result of another platform.
        d = os.path.join(t, "snp-rd")
        parts = sim(cvm, "snp", d, "--report-data", "ab" * 64)
        policy = json.dumps({"snp": {"allow_debug": False, "vmpl": 0,
                                     "products": ["Milan"], "minimum_guest_svn": 0,
                                     "minimum_tcb": {"snp": 8, "microcode": 100}},
                             "report_data": "ab" * 64}).encode()
        # another machine's result (a random CHIP_ID each): PLATFORM_CHANGED
        previous = subprocess.run([cvm, "verify", os.path.join(t, "snp-milan", "bundle.json"),
                                   "--offline", "--trust-root",
                                   os.path.join(t, "snp-milan", "ark.pem"), "--json"],
                                  capture_output=True).stdout
        seeds["snp-policy-previous"] = seed(
            F_REPORT_DATA | F_PREVIOUS, "sev-snp", now,
            [("root", read(d + "/ark.pem")), ("policy", policy), ("report_data", b"\xab" * 64),
             ("previous", previous)] + parts)

        # Provider binding: the platform's CHIP_ID in a registry with its entries, and in one
        # without them (root only) with the platform's inclusion proof.
        d = os.path.join(t, "snp-milan")
        chip = subprocess.run([cvm, "show", d + "/report.bin", "--json"], check=True,
                              capture_output=True).stdout
        chip = json.loads(chip)["chip_id"]
        entries = os.path.join(t, "entries.txt")
        with open(entries, "w") as f:
            f.write(f"amd chip_id {chip} region=eu-1\namd chip_id {'ab' * 64}\n")
        key = os.path.join(t, "acme")
        subprocess.run([cvm, "registry", "keygen", "--out", key], check=True,
                       stdout=subprocess.DEVNULL)
        for name, extra in [("full", []), ("root", ["--root-only"])]:
            subprocess.run([cvm, "registry", "build", "--provider", "acme", "--key", key + ".key",
                            "--entries", entries, "--version", "3", "--valid-days", "30",
                            "--issued-at", time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                         time.gmtime(now - 3600)),
                            "--out", os.path.join(t, name + ".jws")] + extra, check=True,
                           stdout=subprocess.DEVNULL)
        subprocess.run([cvm, "registry", "prove", "--entries", entries, "--id", chip, "--out",
                        os.path.join(t, "proof.json"), "--registry", os.path.join(t, "root.jws")],
                       check=True, stdout=subprocess.DEVNULL)
        base = [("root", read(d + "/ark.pem")), ("provider", read(key + ".pub"))] + parts_of(d)
        seeds["snp-registry"] = seed(F_STORE, "sev-snp", now,
                                     base + [("registry", read(os.path.join(t, "full.jws")))])
        seeds["snp-registry-proof"] = seed(0, "sev-snp", now, base + [
            ("registry", read(os.path.join(t, "root.jws"))),
            ("proof", read(os.path.join(t, "proof.json")))])

        # TDX: v4 and v5 with their collateral; a quote whose collateral the store gives.
        for name, args in [("tdx-v4", []), ("tdx-v5-outofdate", ["--version", "5",
                                                                  "--tcb-status", "outofdate"])]:
            d = os.path.join(t, name)
            parts = sim(cvm, "tdx", d, *args)
            seeds[name] = seed(0, "tdx", now, [("root", read(d + "/root_ca.pem"))] + parts)
        d = os.path.join(t, "tdx-v4")
        seeds["tdx-store"] = seed(F_STORE, "tdx", now, [
            ("evidence", read(d + "/quote.bin")), ("root", read(d + "/root_ca.pem"))] +
            [("store", shared(pcs_framed(read(os.path.join(d, body)),
                                         read(os.path.join(d, chain)) if chain else b""), now))
             for body, chain in [("tcb_info.json", "tcb_info_issuer_chain.pem"),
                                 ("qe_identity.json", "qe_identity_issuer_chain.pem"),
                                 ("pck_crl.der", "pck_crl_issuer_chain.pem"),
                                 ("root_ca_crl.der", None)]])
        # A TDX quote whose RTMRs are those a CCEL replays to, the CCEL in the bundle, and a
        # policy on its claims (docs/policy.md, eventlog).
        ccel = make_ccel()
        with open(os.path.join(t, "ccel"), "wb") as f:
            f.write(ccel)
        out = subprocess.run([cvm, "eventlog", os.path.join(t, "ccel"), "--json"],
                             check=True, capture_output=True).stdout
        rtmr = json.loads(out)["rtmr"]
        d = os.path.join(t, "tdx-ccel")
        parts = sim(cvm, "tdx", d, *[a for i in range(3) for a in ("--rtmr", f"{i}={rtmr[str(i)]}")])
        policy = json.dumps({"eventlog": {
            "secure_boot": True, "kernel_cmdline_contains": ["quiet", "console=ttyS0"],
            "efi_boot_applications": ["07" * 48],
            "required_events": [{"rtmr": 1, "digest": "07" * 48},
                                {"rtmr": 0, "type": "EV_SEPARATOR", "data": "x",
                                 "before_separator": True}]}}).encode()
        seeds["tdx-ccel-policy"] = seed(0, "tdx", now, [("root", read(d + "/root_ca.pem")),
                                                        ("policy", policy),
                                                        ("event_log", ccel)] + parts)

    # A TPM quote with its event log (fuzz_tpm_quote's layout: flags, quote, signature, AK,
    # PCR values, nonce, event log), its AK pinned by a policy with event-log rules.
    q = read(os.path.join(fuzz, "corpus", "tpm_quote", "rsa_eventlog"))
    quote, sig, ak, pcrs, nonce, log = split_parts(q[1:], 6)
    parts = [("tpm_quote", quote), ("tpm_signature", sig), ("tpm_ak", ak), ("tpm_pcrs", pcrs),
             ("event_log", log)]
    bundle = {"cvmattest_bundle": 1, "kind": "tpm",
              "parts": [{"role": r, "data": base64.b64encode(v).decode()} for r, v in parts]}
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(bundle, f)
        f.flush()
        out = subprocess.run([cvm, "verify", f.name, "--offline", "--nonce", nonce.hex(),
                              "--json"], capture_output=True).stdout
    spki = json.loads(out)["claims"]["tpm"]["ak"]["spki_sha256"]
    policy = json.dumps({"tpm": {"ak_spki_sha256": [spki]},
                         "eventlog": {"secure_boot": True, "kernel_cmdline": "ro quiet",
                                      "required_events": [{"pcr": 0, "type": "EV_POST_CODE",
                                                           "digest": "00" * 32}]}}).encode()
    seeds["tpm-eventlog-policy"] = seed(F_NONCE, "tpm", 0, [("policy", policy),
                                                            ("nonce", nonce)] + parts)

    # An SVSM vTPM bundle (fuzz_vtpm_svsm's layout: flags, time, then the report, manifest,
    # quote, signature, AK, PCR values, nonce, ark.pem, ask.pem, vcek.der, crl.der).
    s = read(os.path.join(fuzz, "corpus", "vtpm_svsm", "one_shot"))
    at = struct.unpack(">Q", s[1:9])[0]
    rep, man, quote, sig, ak, pcrs, nonce, ark, ask, vcek, crl = split_parts(s[9:], 11)
    seeds["svsm-vtpm"] = seed(F_NONCE, "svsm-vtpm", at, [
        ("evidence", rep), ("svsm_manifest", man), ("tpm_quote", quote), ("tpm_signature", sig),
        ("tpm_ak", ak), ("tpm_pcrs", pcrs), ("nonce", nonce), ("root", ark), ("ark.pem", ark),
        ("ask.pem", ask), ("vcek.der", vcek), ("crl.der", crl)])

    for name, data in seeds.items():
        with open(os.path.join(corpus, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(seeds)} seeds to {corpus}")


if __name__ == "__main__":
    main()
