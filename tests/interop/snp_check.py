#!/usr/bin/env python3
"""Checks a simulated AMD SEV-SNP report (`cvmattest sim snp --out DIR`) without cvmattest's code.

Follows AMD's SEV-SNP Firmware ABI spec (pub. 56860, ATTESTATION_REPORT) and the VCEK/VLEK
Certificate and KDS Interface spec (pub. 57230), as summarised with their cross-checks in the
shared docs' snp-report.md: the report layout, the signature over bytes 0x000..0x29F (ECDSA
P-384 with SHA-384, R and S little-endian in 72-byte fields), the TCB_VERSION layouts
(Milan/Genoa and Turin), the VCEK/VLEK extensions (arc 1.3.6.1.4.1.3704.1) and the
ARK -> ASK/ASVK -> VCEK/VLEK chain (RSASSA-PSS, SHA-384, salt 48) with the ARK's CRL.
The checking is done by python3-cryptography (every signature) and the openssl CLI
(`openssl verify` of the chain, `openssl crl` of the CRL, `openssl verify -crl_check` of the
ASK/ASVK). The offsets and rules below were written from the docs, not from cvmattest's
parser or its simulator.

usage: snp_check.py DIR --product milan|genoa|turin [--expect NAME=VALUE]... [--claims FILE]
  --product      the product the simulator was asked for (a v2 report carries no CPUID)
  --expect       a field this report must hold, as the simulator was told (NAME as printed
                 by --dump: measurement, report_data, host_data, chip_id, bl_spl, ...)
  --claims       `cvmattest verify --json` output on the same report: every claim it shares
                 with this parser must agree
  --dump         print the parsed fields
Prints "ok   CHECK" or "FAIL CHECK: why" per check; exit 0 when all pass, 1 if any fails.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from checks import Checks  # tests/interop/checks.py, beside this file

REPORT_SIZE = 0x4A0
SIGNED_END = 0x2A0  # the signature covers 0x000..0x29F
SIG_R = (0x2A0, 72)
SIG_S = (0x2E8, 72)
SIG_RESERVED = 0x330  # 0x330..0x49F: reserved, unsigned, must be zero

AMD = "1.3.6.1.4.1.3704.1."

# product -> (KDS name, CPUID family, models it covers (virtee/sev identify_cpu ranges))
PRODUCTS = {
    "milan": ("Milan", 0x19, set(range(0x00, 0x10))),
    "genoa": ("Genoa", 0x19, set(range(0x10, 0x20)) | set(range(0xA0, 0xB0))),
    "turin": ("Turin", 0x1A, set(range(0x00, 0x12))),
}




def u32(b, off):
    return int.from_bytes(b[off:off + 4], "little")


def u64(b, off):
    return int.from_bytes(b[off:off + 8], "little")


def der_int(v):
    """A DER INTEGER (tag 0x02, short length), as the AMD SPL extensions carry."""
    if len(v) < 3 or v[0] != 0x02 or v[1] != len(v) - 2:
        raise ValueError("not a DER INTEGER: %s" % v.hex())
    return int.from_bytes(v[2:], "big", signed=True)


def der_ia5(v):
    if len(v) < 2 or v[0] != 0x16 or v[1] != len(v) - 2:
        raise ValueError("not a DER IA5String: %s" % v.hex())
    return v[2:].decode("ascii")


def openssl(*args):
    p = subprocess.run(["openssl"] + list(args), capture_output=True, text=True)
    return p.returncode, (p.stdout + p.stderr).strip()


def cn(name):
    attrs = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return attrs[0].value if attrs else None


def pss_verify(issuer, cert):
    """RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48 (snp-report.md section 7)."""
    issuer.public_key().verify(cert.signature, cert.tbs_certificate_bytes,
                               padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48),
                               hashes.SHA384())


def load_pem(path):
    return x509.load_pem_x509_certificate(open(path, "rb").read())


def parse_tcb(raw, turin):
    """TCB_VERSION (snp-report.md section 3): byte i = bits 8i+7..8i of the LE u64."""
    b = raw.to_bytes(8, "little")
    if turin:
        return {"fmc": b[0], "bootloader": b[1], "tee": b[2], "snp": b[3], "microcode": b[7],
                "reserved": {"3.5": b[4], "3.6": b[5], "3.7": b[6]}}
    return {"bootloader": b[0], "tee": b[1], "snp": b[6], "microcode": b[7],
            "reserved": {"3.4": b[2], "3.5": b[3], "3.6": b[4], "3.7": b[5]}}


def parse_report(rep, turin):
    f = {}
    f["version"] = u32(rep, 0x000)
    f["guest_svn"] = u32(rep, 0x004)
    f["policy"] = u64(rep, 0x008)
    f["family_id"] = rep[0x010:0x020].hex()
    f["image_id"] = rep[0x020:0x030].hex()
    f["vmpl"] = u32(rep, 0x030)
    f["signature_algo"] = u32(rep, 0x034)
    f["current_tcb"] = u64(rep, 0x038)
    f["platform_info"] = u64(rep, 0x040)
    f["signer_info"] = u32(rep, 0x048)
    f["report_data"] = rep[0x050:0x090].hex()
    f["measurement"] = rep[0x090:0x0C0].hex()
    f["host_data"] = rep[0x0C0:0x0E0].hex()
    f["id_key_digest"] = rep[0x0E0:0x110].hex()
    f["author_key_digest"] = rep[0x110:0x140].hex()
    f["report_id"] = rep[0x140:0x160].hex()
    f["report_id_ma"] = rep[0x160:0x180].hex()
    f["reported_tcb"] = u64(rep, 0x180)
    if f["version"] >= 3:
        f["cpuid_fam_id"], f["cpuid_mod_id"], f["cpuid_step"] = rep[0x188], rep[0x189], rep[0x18A]
    f["chip_id"] = rep[0x1A0:0x1E0].hex()
    f["committed_tcb"] = u64(rep, 0x1E0)
    f["current_build"], f["current_minor"], f["current_major"] = rep[0x1E8], rep[0x1E9], rep[0x1EA]
    f["committed_build"], f["committed_minor"], f["committed_major"] = (rep[0x1EC], rep[0x1ED],
                                                                         rep[0x1EE])
    f["launch_tcb"] = u64(rep, 0x1F0)
    if f["version"] >= 5:
        f["launch_mit_vector"] = u64(rep, 0x1F8)
        f["current_mit_vector"] = u64(rep, 0x200)
    f["sig_r"] = int.from_bytes(rep[SIG_R[0]:SIG_R[0] + SIG_R[1]], "little")
    f["sig_s"] = int.from_bytes(rep[SIG_S[0]:SIG_S[0] + SIG_S[1]], "little")
    # flattened: the decoded reported TCB, and the policy/signer bits the checks use
    for k, v in parse_tcb(f["reported_tcb"], turin).items():
        if k != "reserved":
            f["reported_" + k] = v
    f["debug"] = bool(f["policy"] >> 19 & 1)
    f["signing_key"] = f["signer_info"] >> 2 & 7
    f["mask_chip_key"] = bool(f["signer_info"] >> 1 & 1)
    return f


def reserved_ranges(version):
    """Reserved bytes inside the signed part (snp-report.md section 1)."""
    r = [(0x04C, 0x050), (0x1EB, 0x1EC), (0x1EF, 0x1F0)]
    r.append((0x188, 0x1A0) if version == 2 else (0x18B, 0x1A0))
    r.append((0x208, 0x2A0) if version >= 5 else (0x1F8, 0x2A0))
    return r


def compare_claims(c, claims, f, leaf_kind, leaf_exts, product, turin):
    """Every claim cvmattest gives that this parser also reads must agree."""
    snp = claims.get("claims", {}).get("snp")
    if not c.ok("claims: cvmattest verify gave claims.snp", isinstance(snp, dict),
                "status %s, no claims.snp" % claims.get("status")):
        return
    want = []  # (claim path, cvmattest's value, ours)
    top = claims["claims"]
    want += [("claims.measurement", top.get("measurement"), f["measurement"]),
             ("claims.report_data", top.get("report_data"), f["report_data"]),
             ("claims.debug", top.get("debug"), f["debug"])]
    for k in ("version", "guest_svn", "family_id", "image_id", "vmpl", "signature_algo",
              "report_data", "measurement", "host_data", "id_key_digest", "author_key_digest",
              "report_id", "report_id_ma", "chip_id", "current_build", "current_minor",
              "current_major", "committed_build", "committed_minor", "committed_major",
              "cpuid_fam_id", "cpuid_mod_id", "cpuid_step"):
        if k in f:
            want.append(("snp." + k, snp.get(k), f[k]))
    for k in ("launch_mit_vector", "current_mit_vector"):
        if k in f:
            want.append(("snp." + k, snp.get(k), "%016x" % f[k]))
    want.append(("snp.product", snp.get("product"), product))
    want.append(("snp.policy.raw", (snp.get("policy") or {}).get("raw"), "%016x" % f["policy"]))
    want.append(("snp.policy.debug", (snp.get("policy") or {}).get("debug"), f["debug"]))
    want.append(("snp.platform_info.raw", (snp.get("platform_info") or {}).get("raw"),
                 "%016x" % f["platform_info"]))
    si = snp.get("signer_info") or {}
    want.append(("snp.signer_info.raw", si.get("raw"), f["signer_info"]))
    want.append(("snp.signer_info.signing_key", si.get("signing_key"), leaf_kind))
    for t in ("current_tcb", "reported_tcb", "committed_tcb", "launch_tcb"):
        ct = snp.get(t) or {}
        want.append(("snp.%s.raw" % t, ct.get("raw"), "%016x" % f[t]))
        for k, v in parse_tcb(f[t], turin).items():
            if k != "reserved":
                want.append(("snp.%s.%s" % (t, k), ct.get(k), v))
    sig = snp.get("signature") or {}
    want.append(("snp.signature.r", sig.get("r"), "%096x" % f["sig_r"]))
    want.append(("snp.signature.s", sig.get("s"), "%096x" % f["sig_s"]))
    want.append(("snp.cert_product_name", snp.get("cert_product_name"), leaf_exts["2"]))
    plat = claims.get("platform") or {}
    if leaf_kind == "vcek":
        masked = not any(bytes.fromhex(f["chip_id"]))  # MASK_CHIP_ID: no chip to name
        want += [("platform.id_type", plat.get("id_type"), "chip_id"),
                 ("platform.id", plat.get("id"), None if masked else f["chip_id"])]
    else:
        csp = leaf_exts["5"]
        want += [("snp.csp_id", snp.get("csp_id"), csp),
                 ("platform.id_type", plat.get("id_type"), "vlek"),
                 ("platform.id", plat.get("id"), csp[3:] if csp.startswith("CN=") else csp)]
    bad = [(p, theirs, ours) for p, theirs, ours in want if theirs != ours]
    for p, theirs, ours in bad:
        c.ok("claims: " + p, False, "cvmattest %r, python %r" % (theirs, ours))
    if not bad:
        c.ok("claims: %d values agree with cvmattest verify --json" % len(want), True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--product", required=True, choices=sorted(PRODUCTS))
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--claims")
    ap.add_argument("--dump", action="store_true")
    a = ap.parse_args()
    d = a.dir
    c = Checks()
    line, want_fam, models = PRODUCTS[a.product]
    turin = a.product == "turin"

    rep = open(os.path.join(d, "report.bin"), "rb").read()
    if not c.ok("report size 0x4A0", len(rep) == REPORT_SIZE, "%d bytes" % len(rep)):
        return 1
    f = parse_report(rep, turin)
    if a.dump:
        for k, v in f.items():
            print("  %s = %s" % (k, v))

    # Which key signed: SIGNING_KEY (signer info bits 4:2) 0 = VCEK, 1 = VLEK.
    kinds = {0: ("vcek", "ask"), 1: ("vlek", "asvk")}
    if not c.ok("SIGNING_KEY is VCEK or VLEK, MASK_CHIP_KEY clear",
                f["signing_key"] in kinds and not f["mask_chip_key"],
                "signer_info 0x%08x" % f["signer_info"]):
        return 1
    leaf_kind, ca_kind = kinds[f["signing_key"]]
    other = "vlek" if leaf_kind == "vcek" else "vcek"
    c.ok("the directory holds the %s (and no %s)" % (leaf_kind.upper(), other.upper()),
         os.path.exists(os.path.join(d, leaf_kind + ".der")) and
         not os.path.exists(os.path.join(d, other + ".der")), sorted(os.listdir(d)))

    ark = load_pem(os.path.join(d, "ark.pem"))
    ca = load_pem(os.path.join(d, ca_kind + ".pem"))
    leaf = x509.load_der_x509_certificate(open(os.path.join(d, leaf_kind + ".der"), "rb").read())
    leaf_pem = load_pem(os.path.join(d, leaf_kind + ".pem"))
    c.ok("%s.pem and %s.der are one certificate" % (leaf_kind, leaf_kind), leaf == leaf_pem)
    chain_pem = open(os.path.join(d, "cert_chain.pem"), "rb").read()
    chain = [x509.load_pem_x509_certificate(m) for m in
             re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", chain_pem,
                        re.S)]
    c.ok("cert_chain.pem is %s then ARK (KDS cert_chain order)" % ca_kind.upper(),
         chain == [ca, ark], "%d certificates: %s" % (len(chain), [cn(x.subject) for x in chain]))

    # The chain, by cryptography: RSA-PSS signatures.
    c.run("ARK self-signed (RSA-PSS SHA-384, cryptography)", lambda: pss_verify(ark, ark))
    c.run("%s signed by ARK (cryptography)" % ca_kind.upper(), lambda: pss_verify(ark, ca))
    c.run("%s signed by %s (cryptography)" % (leaf_kind.upper(), ca_kind.upper()),
          lambda: pss_verify(ca, leaf))
    ca_cn = ("SEV-VLEK-" if leaf_kind == "vlek" else "SEV-") + line
    leaf_cn = "SEV-" + leaf_kind.upper()
    c.ok("subject CNs ARK-%s, %s, %s" % (line, ca_cn, leaf_cn),
         (cn(ark.subject), cn(ca.subject), cn(leaf.subject)) == ("ARK-" + line, ca_cn, leaf_cn),
         "%s, %s, %s" % (cn(ark.subject), cn(ca.subject), cn(leaf.subject)))
    # ... and by openssl (not -x509_strict: AMD's leaves carry no AKI, snp-report.md section 7)
    rc, out = openssl("verify", "-CAfile", os.path.join(d, "ark.pem"), "-untrusted",
                      os.path.join(d, ca_kind + ".pem"), os.path.join(d, leaf_kind + ".pem"))
    c.ok("openssl verify ARK -> %s -> %s" % (ca_kind.upper(), leaf_kind.upper()), rc == 0, out)

    # The CRL: signed by the ARK, and must not list the ASK/ASVK.
    with tempfile.TemporaryDirectory() as tmp:
        crl_pem = os.path.join(tmp, "crl.pem")
        rc, out = openssl("crl", "-inform", "DER", "-in", os.path.join(d, "crl.der"),
                          "-CAfile", os.path.join(d, "ark.pem"), "-noout")
        # openssl crl exits 0 on a bad signature too; it prints "verify failure"
        c.ok("openssl crl: CRL signed by the ARK", rc == 0 and "verify OK" in out, out)
        rc, out = openssl("crl", "-inform", "DER", "-in", os.path.join(d, "crl.der"), "-out",
                          crl_pem)
        if c.ok("openssl crl: CRL to PEM", rc == 0, out):
            rc, out = openssl("verify", "-crl_check", "-CRLfile", crl_pem, "-CAfile",
                              os.path.join(d, "ark.pem"), os.path.join(d, ca_kind + ".pem"))
            c.ok("openssl verify -crl_check: %s not revoked" % ca_kind.upper(), rc == 0, out)
    crl = x509.load_der_x509_crl(open(os.path.join(d, "crl.der"), "rb").read())
    c.ok("CRL issuer is the ARK", crl.issuer == ark.subject, crl.issuer.rfc4514_string())
    c.ok("CRL (cryptography) does not list the %s serial" % ca_kind.upper(),
         crl.get_revoked_certificate_by_serial_number(ca.serial_number) is None,
         "serial %x listed" % ca.serial_number)

    # The report signature: r, s little-endian in 72-byte fields; P-384 uses 48 bytes.
    c.ok("signature R, S fit 48 bytes; bytes 0x330..0x49F zero",
         f["sig_r"] < 1 << 384 and f["sig_s"] < 1 << 384 and not any(rep[SIG_RESERVED:]))
    c.ok("signature_algo 1 (ECDSA P-384 SHA-384)", f["signature_algo"] == 1,
         f["signature_algo"])
    pub = leaf.public_key()
    c.ok("%s key is EC P-384" % leaf_kind.upper(),
         isinstance(pub, ec.EllipticCurvePublicKey) and pub.curve.name == "secp384r1")
    c.run("report signature over 0x000..0x29F with the %s (cryptography)" % leaf_kind.upper(),
          lambda: pub.verify(encode_dss_signature(f["sig_r"], f["sig_s"]), rep[:SIGNED_END],
                             ec.ECDSA(hashes.SHA384())))

    # Layout landmarks the signature does not prove: reserved bytes as the spec has them.
    nz = [("0x%03X" % i) for lo, hi in reserved_ranges(f["version"]) for i in range(lo, hi)
          if rep[i]]
    c.ok("reserved bytes of the v%d layout are zero" % f["version"], not nz, nz[:8])
    c.ok("version 2..5", 2 <= f["version"] <= 5, f["version"])

    # Product: the CPUID bytes (v3+), the leaf's productName, the ARK.
    exts = {}
    for e in leaf.extensions:
        o = e.oid.dotted_string
        if o.startswith(AMD):
            exts[o[len(AMD):]] = e.value.value
    if f["version"] >= 3:
        c.ok("CPUID family/model is a %s" % line,
             f["cpuid_fam_id"] == want_fam and f["cpuid_mod_id"] in models,
             "family 0x%02x model 0x%02x" % (f["cpuid_fam_id"], f["cpuid_mod_id"]))
    try:
        pname = der_ia5(exts["2"])
        exts["2"] = pname
    except (KeyError, ValueError) as e:
        pname = None
        c.ok("productName extension", False, e)
    c.ok("productName %r is the %s line" % (pname, line),
         pname is not None and pname.split("-")[0] == line)
    try:
        sv = der_int(exts["1"])
    except (KeyError, ValueError) as e:
        sv = e
    c.ok("structVersion %s" % (1 if turin else 0), sv == (1 if turin else 0), sv)

    # The leaf's TCB extensions equal REPORTED_TCB, component by component.
    tcb = parse_tcb(f["reported_tcb"], turin)
    names = {"3.1": "bootloader", "3.2": "tee", "3.3": "snp", "3.8": "microcode"}
    if turin:
        names["3.9"] = "fmc"
    bad = []
    for oid, comp in sorted(names.items()):
        try:
            v = der_int(exts[oid])
        except (KeyError, ValueError) as e:
            bad.append("%s: %s" % (oid, e))
            continue
        if v != tcb[comp]:
            bad.append("%s (%s) cert %d, report %d" % (oid, comp, v, tcb[comp]))
    for oid, byte in sorted(tcb["reserved"].items()):
        v = der_int(exts[oid]) if oid in exts else None
        if v is None and not (turin and oid == "3.4"):
            bad.append("%s missing" % oid)
        elif v not in (None, byte) or byte != 0:
            bad.append("reserved %s cert %s, report byte %d" % (oid, v, byte))
    if turin and "3.4" in exts:
        bad.append("Turin leaf has 3.4")
    c.ok("REPORTED_TCB = the %s's SPL extensions (%s)" % (
        leaf_kind.upper(), ", ".join("%s %d" % (k, v) for k, v in tcb.items() if k != "reserved")),
        not bad, "; ".join(bad))
    same = [t for t in ("current_tcb", "committed_tcb", "launch_tcb") if f[t] != f["reported_tcb"]]
    c.ok("current, committed and launch TCB = reported (as the simulator makes them)", not same,
         same)

    # chip_id vs hwID (VCEK) or csp_id (VLEK).
    chip = bytes.fromhex(f["chip_id"])
    if leaf_kind == "vcek" and not any(chip):
        c.ok("chip_id masked (all zero): hwID not compared", True)
    elif leaf_kind == "vcek":
        hw = exts.get("4")
        want = chip[:8] if turin else chip
        c.ok("hwID = chip_id%s" % ("[0..7]" if turin else ""), hw == want,
             "hwID %s, chip_id %s" % (hw.hex() if hw else None, chip.hex()))
        if turin:
            c.ok("Turin chip_id bytes 8..63 zero", not any(chip[8:]))
        c.ok("a VCEK has no csp_id", "5" not in exts)
    else:
        try:
            exts["5"] = der_ia5(exts["5"])
            c.ok("VLEK csp_id %r starts with CN=" % exts["5"], exts["5"].startswith("CN="))
        except (KeyError, ValueError) as e:
            c.ok("VLEK csp_id", False, e)
        c.ok("a VLEK has no hwID", "4" not in exts)

    for e in a.expect:
        k, _, v = e.partition("=")
        got = f.get(k)
        c.ok("expected %s = %s" % (k, v), str(got).lower() == v.lower(), "report has %s" % got)

    if a.claims:
        compare_claims(c, json.load(open(a.claims)), f, leaf_kind, exts, line, turin)
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
