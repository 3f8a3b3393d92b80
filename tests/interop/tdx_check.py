#!/usr/bin/env python3
"""Checks a simulated Intel TDX quote and its collateral (`cvmattest sim tdx --out DIR`) without
cvmattest's code.

Follows Intel's TDX DCAP quote format (Quoting Library API, quote v4 and v5: header, TD report
body, ECDSA signature data with the QE report certification data), the SGX PCK Certificate
profile (SGX extensions, OID 1.2.840.113741.1.13.1) and the PCS v4 TCB Info / QE Identity
JSON (ECDSA P-256 signature, hex r||s, over the exact bytes of the signed object), as
summarised with their cross-checks in the shared docs' tdx-quote.md; the TCB evaluation
follows that file's section 4 (Intel's QVL: levels sorted, the module identity when
TEE_TCB_SVN[1] > 0, the QE level, convergence, the TDX 1.5 relaunch rule).
The checking is done by python3-cryptography (every ECDSA signature, SHA-256) and the openssl
CLI (`openssl verify -x509_strict` of each chain to root_ca.pem, with both CRLs; `openssl crl`
of each CRL). The offsets and rules below were written from the docs, not from cvmattest's
parser or its simulator.

usage: tdx_check.py DIR [--expect NAME=VALUE]... [--claims FILE] [--dump]
  --expect   a value this quote must hold, as the simulator was told (NAME as printed by
             --dump: mr_td, rtmr0, report_data, ppid, fmspc, tcb_status, ...)
  --claims   `cvmattest verify --json` output on the same quote: every claim it shares with
             this parser must agree
Prints "ok   CHECK" or "FAIL CHECK: why" per check; exit 0 when all pass, 1 if any fails.
"""
import argparse
import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from checks import Checks  # tests/interop/checks.py, beside this file

INTEL_QE_VENDOR = "939a7233f79c4ca9940a0db3957f0607"
SGX_EXT = "1.2.840.113741.1.13.1"
HEADER = 48
BODY_SIZES = {2: 584, 3: 648}  # v5 body_type -> size; v4 has the 584-byte body, no type




def le(b):
    return int.from_bytes(b, "little")


def p256_sig(rs):
    """r || s, 32 bytes each, big-endian (quote and JSON signatures alike)."""
    if len(rs) != 64:
        raise ValueError("signature of %d bytes" % len(rs))
    return encode_dss_signature(int.from_bytes(rs[:32], "big"), int.from_bytes(rs[32:], "big"))


def openssl(*args):
    p = subprocess.run(["openssl"] + list(args), capture_output=True, text=True)
    return p.returncode, (p.stdout + p.stderr).strip()


def pem_certs(data):
    return [x509.load_pem_x509_certificate(m) for m in
            re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", data, re.S)]


def cn(name):
    attrs = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return attrs[0].value if attrs else ""


# --- a minimal DER reader for the SGX extension ---------------------------------------------

def der_items(b):
    """The TLVs of a DER string: [(tag, value)]. Short tags only (the extension uses none else)."""
    out, i = [], 0
    while i < len(b):
        if len(b) - i < 2:
            raise ValueError("DER truncated at %d" % i)
        tag, n = b[i], b[i + 1]
        i += 2
        if n & 0x80:
            k = n & 0x7F
            if k == 0 or k > 4 or len(b) - i < k:
                raise ValueError("DER length at %d" % i)
            n = int.from_bytes(b[i:i + k], "big")
            i += k
        if len(b) - i < n:
            raise ValueError("DER value truncated at %d" % i)
        out.append((tag, b[i:i + n]))
        i += n
    return out


def der_oid(v):
    parts = [min(v[0] // 40, 2), v[0] - 40 * min(v[0] // 40, 2)]
    x = 0
    for c in v[1:]:
        x = x << 7 | (c & 0x7F)
        if not c & 0x80:
            parts.append(x)
            x = 0
    return ".".join(map(str, parts))


def der_dict(seq_value):
    """SEQUENCE OF SEQUENCE { OID, value } -> {oid: (tag, value)}; a repeated OID is an error."""
    out = {}
    for tag, el in der_items(seq_value):
        inner = der_items(el)
        if tag != 0x30 or len(inner) != 2 or inner[0][0] != 0x06:
            raise ValueError("not SEQUENCE { OID, value }")
        o = der_oid(inner[0][1])
        if o in out:
            raise ValueError("OID %s twice" % o)
        out[o] = inner[1]
    return out


def sgx_extension(cert):
    """tdx-quote.md section 5."""
    ext = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(SGX_EXT)).value.value
    (tag, v), = der_items(ext)
    if tag != 0x30:
        raise ValueError("SGX extension is not a SEQUENCE")
    top = der_dict(v)
    p = SGX_EXT + "."

    def octets(oid, n):
        tag, val = top[oid]
        if tag != 0x04 or len(val) != n:
            raise ValueError("%s: tag 0x%02x, %d bytes" % (oid, tag, len(val)))
        return val

    def integer(tv):
        tag, val = tv
        if tag != 0x02:
            raise ValueError("not an INTEGER")
        return int.from_bytes(val, "big", signed=True)

    s = {"ppid": octets(p + "1", 16).hex(), "pceid": octets(p + "3", 2).hex(),
         "fmspc": octets(p + "4", 6).hex()}
    tcb = der_dict(top[p + "2"][1])
    s["sgx_tcb_components"] = [integer(tcb["%s2.%d" % (p, i)]) for i in range(1, 17)]
    s["pcesvn"] = integer(tcb[p + "2.17"])
    tag, cpusvn = tcb[p + "2.18"]
    if tag != 0x04 or len(cpusvn) != 16:
        raise ValueError("CPUSVN")
    s["cpusvn"] = cpusvn.hex()
    tag, t = top[p + "5"]
    if tag != 0x0A or len(t) != 1:
        raise ValueError("SGX Type is not ENUMERATED")
    s["sgx_type"] = {0: "Standard", 1: "Scalable", 2: "ScalableWithIntegrity"}.get(t[0], t[0])
    if p + "6" in top:
        s["platform_instance_id"] = octets(p + "6", 16).hex()
    if p + "7" in top:
        conf = der_dict(top[p + "7"][1])
        names = {"1": "dynamic_platform", "2": "cached_keys", "3": "smt_enabled"}
        s["configuration"] = {}
        for k, name in names.items():
            if p + "7." + k in conf:
                tag, val = conf[p + "7." + k]
                if tag != 0x01 or len(val) != 1:
                    raise ValueError("configuration %s not a BOOLEAN" % name)
                s["configuration"][name] = val[0] != 0
    return s


# --- the signed JSON collateral --------------------------------------------------------------

def top_level_raw(raw, key):
    """The exact bytes of the value of top-level KEY in a JSON object: what Intel signs."""
    text = raw.decode("utf-8")
    dec = json.JSONDecoder()
    ws = re.compile(r"[ \t\r\n]*")
    i = ws.match(text, 0).end()
    if text[i:i + 1] != "{":
        raise ValueError("not a JSON object")
    i, found = ws.match(text, i + 1).end(), None
    while text[i:i + 1] != "}":
        k, i = dec.raw_decode(text, i)
        i = ws.match(text, i).end()
        if text[i:i + 1] != ":":
            raise ValueError("':' expected at %d" % i)
        i = ws.match(text, i + 1).end()
        _, j = dec.raw_decode(text, i)
        if k == key:
            if found is not None:
                raise ValueError("%s twice" % key)
            found = text[i:j]
        i = ws.match(text, j).end()
        if text[i:i + 1] == ",":
            i = ws.match(text, i + 1).end()
    if found is None:
        raise ValueError("no %s" % key)
    return found.encode("utf-8")


def signed_json(c, d, name, key, tmp, root_pem):
    """Check FILE's signature over KEY's exact bytes with its issuer chain's first certificate,
    and that chain with openssl. Returns the parsed KEY object (or None)."""
    raw = open(os.path.join(d, name + ".json"), "rb").read()
    chain_path = os.path.join(d, name + "_issuer_chain.pem")
    chain = pem_certs(open(chain_path, "rb").read())
    try:
        signed = top_level_raw(raw, key)
        doc = json.loads(raw)
        sig = bytes.fromhex(doc["signature"])
    except (ValueError, KeyError) as e:
        c.ok("%s.json parses" % name, False, e)
        return None
    c.run("%s.json: ECDSA P-256 signature over the exact %s bytes (cryptography)" % (name, key),
          lambda: chain[0].public_key().verify(p256_sig(sig), signed,
                                               ec.ECDSA(hashes.SHA256())))
    leaf = os.path.join(tmp, name + "-signer.pem")
    open(leaf, "wb").write(chain[0].public_bytes(serialization.Encoding.PEM))
    c.ok("%s issuer chain ends in root_ca.pem" % name, chain[-1] == root_pem,
         cn(chain[-1].subject))
    rc, out = openssl("verify", "-x509_strict", "-CAfile", os.path.join(d, "root_ca.pem"),
                      "-crl_check", "-CRLfile", os.path.join(tmp, "root_ca_crl.pem"), leaf)
    c.ok("openssl verify -x509_strict -crl_check: %s signer (%s) -> root" % (
        name, cn(chain[0].subject)), rc == 0, out)
    return doc[key]


def in_date(c, what, obj, now):
    def t(s):
        return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
    try:
        good = t(obj["issueDate"]) <= now <= t(obj["nextUpdate"])
    except (KeyError, ValueError) as e:
        good = e
    c.ok("%s: issueDate <= now <= nextUpdate" % what, good is True,
         "%s .. %s" % (obj.get("issueDate"), obj.get("nextUpdate")))


# --- TCB evaluation (tdx-quote.md section 4, steps 10-15) -----------------------------------

OUT_OF_DATE = ("OutOfDate", "OutOfDateConfigurationNeeded")
CONFIG = ("ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded",
          "OutOfDateConfigurationNeeded")


def platform_level(tcb_info, pck, tee_svn):
    def key(lvl):
        t = lvl["tcb"]
        return ([x["svn"] for x in t["sgxtcbcomponents"]], t["pcesvn"],
                [x["svn"] for x in t["tdxtcbcomponents"]])
    start = 2 if tee_svn[1] > 0 else 0
    for lvl in sorted(tcb_info["tcbLevels"], key=key, reverse=True):
        sgx, pcesvn, tdx = key(lvl)
        if (all(pck["sgx_tcb_components"][i] >= sgx[i] for i in range(16)) and
                pck["pcesvn"] >= pcesvn and
                all(tee_svn[i] >= tdx[i] for i in range(start, 16))):
            return lvl
    return None


def module_identity(tcb_info, tee_svn):
    want = "TDX_%02X" % tee_svn[1]
    for ident in tcb_info.get("tdxModuleIdentities", []):
        if ident["id"].upper() == want:
            return ident
    return None


def module_level(ident, tee_svn):
    for lvl in sorted(ident["tcbLevels"], key=lambda x: x["tcb"]["isvsvn"], reverse=True):
        if tee_svn[0] >= lvl["tcb"]["isvsvn"]:
            return lvl
    return None


def converge(plat, qe, module):
    """Returns (status, date, advisories) from the three levels (module may be None)."""
    levels = [x for x in (plat, qe, module) if x is not None]
    status = plat["tcbStatus"]
    if any(x["tcbStatus"] == "OutOfDate" for x in (qe, module) if x is not None):
        if status in ("UpToDate", "SWHardeningNeeded"):
            status = "OutOfDate"
        elif status in ("ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded"):
            status = "OutOfDateConfigurationNeeded"
    if any(x["tcbStatus"] == "Revoked" for x in levels):
        status = "Revoked"
    date = min(x["tcbDate"] for x in levels)
    adv = sorted(set(a for x in levels for a in x.get("advisoryIDs", [])))
    return status, date, adv


def evaluate(tcb_info, pck, qe_lvl, tee_svn):
    plat = platform_level(tcb_info, pck, tee_svn)
    if plat is None:
        return None
    mod = None
    if tee_svn[1] > 0:
        ident = module_identity(tcb_info, tee_svn)
        mod = module_level(ident, tee_svn) if ident else None
        if mod is None:
            return None
    st, date, adv = converge(plat, qe_lvl, mod)
    return {"tcb_status": st, "platform_tcb_status": plat["tcbStatus"],
            "module_tcb_status": mod["tcbStatus"] if mod else None, "tcb_date": date,
            "advisory_ids": adv}


def relaunch(launch, current):
    """TDX 1.5 (body type 3), step 15."""
    if (launch["tcb_status"] in OUT_OF_DATE and
            current["tcb_status"] in ("UpToDate", "SWHardeningNeeded", "ConfigurationNeeded",
                                      "ConfigurationAndSWHardeningNeeded")):
        cfg = launch["tcb_status"] in CONFIG or current["tcb_status"] in CONFIG
        return "TDRelaunchAdvisedConfigurationNeeded" if cfg else "TDRelaunchAdvised"
    return launch["tcb_status"]


# --- the quote -------------------------------------------------------------------------------

def parse_quote(c, q):
    f = {"version": le(q[0:2]), "att_key_type": le(q[2:4]), "tee_type": le(q[4:8]),
         "qe_vendor_id": q[12:28].hex(), "user_data": q[28:48].hex()}
    if f["version"] == 4:
        body_off, size = HEADER, 584
    else:
        f["body_type"], size = le(q[48:50]), le(q[50:54])
        body_off = HEADER + 6
        if not c.ok("v5 body type 2 or 3 with its size", BODY_SIZES.get(f["body_type"]) == size,
                    "type %d size %d" % (f["body_type"], size)):
            return None
    b = q[body_off:body_off + size]
    f["signed_end"] = body_off + size
    f.update({"tee_tcb_svn": b[0x000:0x010].hex(), "mr_seam": b[0x010:0x040].hex(),
              "mr_signer_seam": b[0x040:0x070].hex(), "seam_attributes": le(b[0x070:0x078]),
              "td_attributes": le(b[0x078:0x080]), "xfam": le(b[0x080:0x088]),
              "mr_td": b[0x088:0x0B8].hex(), "mr_config_id": b[0x0B8:0x0E8].hex(),
              "mr_owner": b[0x0E8:0x118].hex(), "mr_owner_config": b[0x118:0x148].hex(),
              "report_data": b[0x208:0x248].hex()})
    for n in range(4):
        f["rtmr%d" % n] = b[0x148 + 48 * n:0x178 + 48 * n].hex()
    if f.get("body_type") == 3:
        f["tee_tcb_svn2"] = b[0x248:0x258].hex()
        f["mr_service_td"] = b[0x258:0x288].hex()
    f["debug"] = f["td_attributes"] & 0xFF != 0

    # signature data (tdx-quote.md section 3), offsets relative to its start
    o = f["signed_end"]
    sd_len = le(q[o:o + 4])
    sd = q[o + 4:o + 4 + sd_len]
    f["trailing"] = len(q) - (o + 4 + sd_len)
    f["quote_sig"], f["attest_key"] = sd[0x00:0x40], sd[0x40:0x80]
    f["cert_type"], f["cert_size"] = le(sd[0x80:0x82]), le(sd[0x82:0x86])
    f["cert_rest"] = len(sd) - 0x86
    qe = sd[0x86:0x86 + 384]
    f["qe_report_bytes"] = qe
    f["qe_report_sig"] = sd[0x206:0x246]
    n = le(sd[0x246:0x248])
    f["qe_auth"] = sd[0x248:0x248 + n]
    i = 0x248 + n
    f["inner_type"], inner_size = le(sd[i:i + 2]), le(sd[i + 2:i + 6])
    f["pck_chain"] = sd[i + 6:i + 6 + inner_size]
    f["inner_rest"] = len(sd) - (i + 6 + inner_size)
    f["qe_report"] = {"cpu_svn": qe[0x000:0x010].hex(), "misc_select": qe[0x010:0x014].hex(),
                      "attributes": qe[0x030:0x040].hex(), "mr_enclave": qe[0x040:0x060].hex(),
                      "mr_signer": qe[0x080:0x0A0].hex(), "isv_prod_id": le(qe[0x100:0x102]),
                      "isv_svn": le(qe[0x102:0x104]), "report_data": qe[0x140:0x180].hex()}
    return f


def qe_identity_level(c, ident, qr):
    """tdx-quote.md step 10: masks, mrsigner, isvprodid, then levels in JSON order."""
    # miscselect is a u32: little-endian in the report, a big-endian hex number in the JSON
    misc = int.from_bytes(bytes.fromhex(qr["misc_select"]), "little")
    c.ok("QE misc_select & mask == QE Identity miscselect",
         misc & int(ident["miscselectMask"], 16) == int(ident["miscselect"], 16), "%08x" % misc)
    # attributes: 16 bytes, compared byte-wise, the expected value not masked
    attr = bytes.fromhex(qr["attributes"])
    want_attr = bytes.fromhex(ident["attributes"])
    mask_attr = bytes.fromhex(ident["attributesMask"])
    c.ok("QE attributes & mask == QE Identity attributes",
         bytes(x & m for x, m in zip(attr, mask_attr)) == want_attr, qr["attributes"])
    c.ok("QE mr_signer == QE Identity mrsigner",
         qr["mr_signer"] == ident.get("mrsigner", qr["mr_signer"]).lower(), qr["mr_signer"])
    c.ok("QE isv_prod_id == QE Identity isvprodid", qr["isv_prod_id"] == ident["isvprodid"],
         qr["isv_prod_id"])
    for lvl in ident["tcbLevels"]:
        if lvl["tcb"]["isvsvn"] <= qr["isv_svn"]:
            return lvl
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--claims")
    ap.add_argument("--dump", action="store_true")
    a = ap.parse_args()
    d = a.dir
    c = Checks()
    q = open(os.path.join(d, "quote.bin"), "rb").read()

    f = parse_quote(c, q)
    if f is None:
        return 1
    c.ok("header: version 4|5, att_key_type 2 (P-256), tee_type 0x81, Intel QE vendor",
         (f["version"] in (4, 5), f["att_key_type"], f["tee_type"], f["qe_vendor_id"]) ==
         (True, 2, 0x81, INTEL_QE_VENDOR),
         "v%d key %d tee 0x%x vendor %s" % (f["version"], f["att_key_type"], f["tee_type"],
                                            f["qe_vendor_id"]))
    c.ok("signature data ends the quote", f["trailing"] == 0, "%d bytes after" % f["trailing"])
    c.ok("certification data type 6, its size = the rest",
         (f["cert_type"], f["cert_size"]) == (6, f["cert_rest"]),
         "type %d size %d of %d" % (f["cert_type"], f["cert_size"], f["cert_rest"]))
    c.ok("inner certification data type 5 (PCK chain), ends the data",
         f["inner_type"] == 5 and f["inner_rest"] == 0,
         "type %d, %d bytes after" % (f["inner_type"], f["inner_rest"]))

    # 1. quote signature: the attestation key over the header and body
    ak = None
    try:
        ak = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(),
                                                          b"\x04" + f["attest_key"])
    except ValueError as e:
        c.ok("attestation key is a P-256 point", False, e)
    if ak is not None:
        c.run("quote signature over bytes 0..0x%X with the attestation key (cryptography)" % (
            f["signed_end"] - 1), lambda: ak.verify(p256_sig(f["quote_sig"]),
                                                    q[:f["signed_end"]],
                                                    ec.ECDSA(hashes.SHA256())))

    # 2. the PCK chain in the quote, the QE report signature, the AK binding
    chain = pem_certs(f["pck_chain"])
    root_pem = x509.load_pem_x509_certificate(open(os.path.join(d, "root_ca.pem"), "rb").read())
    if not c.ok("PCK chain: leaf, CA, root", len(chain) == 3, "%d certificates" % len(chain)):
        return 1
    pck, pck_ca, root = chain
    c.ok("the quote's root is root_ca.pem (byte for byte)", root == root_pem)
    c.ok("PCK leaf CN holds 'SGX PCK Certificate'", "SGX PCK Certificate" in cn(pck.subject),
         cn(pck.subject))
    c.run("QE report signature with the PCK key (cryptography)",
          lambda: pck.public_key().verify(p256_sig(f["qe_report_sig"]), f["qe_report_bytes"],
                                          ec.ECDSA(hashes.SHA256())))
    rd = bytes.fromhex(f["qe_report"]["report_data"])
    want = hashlib.sha256(f["attest_key"] + f["qe_auth"]).digest()
    c.ok("QE REPORT_DATA = SHA-256(attestation key || QE auth data) || 32 zero bytes",
         rd == want + bytes(32), "%s, want %s" % (rd.hex(), want.hex()))

    with tempfile.TemporaryDirectory() as tmp:
        for name, der in (("pck_crl", "pck_crl.der"), ("root_ca_crl", "root_ca_crl.der")):
            rc, out = openssl("crl", "-inform", "DER", "-in", os.path.join(d, der), "-out",
                              os.path.join(tmp, name + ".pem"))
            c.ok("openssl crl: %s to PEM" % der, rc == 0, out)
        for n, cert in (("pck", pck), ("pck_ca", pck_ca)):
            open(os.path.join(tmp, n + ".pem"), "wb").write(
                cert.public_bytes(serialization.Encoding.PEM))
        # each CRL signed by its issuer (openssl crl exits 0 on a bad signature: read its words)
        crl_chain = pem_certs(open(os.path.join(d, "pck_crl_issuer_chain.pem"), "rb").read())
        c.ok("PCK CRL issuer chain: the quote's PCK CA, then root_ca.pem",
             crl_chain == [pck_ca, root_pem], [cn(x.subject) for x in crl_chain])
        rc, out = openssl("crl", "-inform", "DER", "-in", os.path.join(d, "pck_crl.der"),
                          "-CAfile", os.path.join(tmp, "pck_ca.pem"), "-noout")
        c.ok("openssl crl: PCK CRL signed by the PCK CA", rc == 0 and "verify OK" in out, out)
        rc, out = openssl("crl", "-inform", "DER", "-in", os.path.join(d, "root_ca_crl.der"),
                          "-CAfile", os.path.join(d, "root_ca.pem"), "-noout")
        c.ok("openssl crl: root CA CRL signed by the root", rc == 0 and "verify OK" in out, out)
        # the PCK chain, strict (Intel chains pass it), both CRLs, to the given root
        rc, out = openssl("verify", "-x509_strict", "-crl_check_all",
                          "-CRLfile", os.path.join(tmp, "pck_crl.pem"),
                          "-CRLfile", os.path.join(tmp, "root_ca_crl.pem"),
                          "-CAfile", os.path.join(d, "root_ca.pem"),
                          "-untrusted", os.path.join(tmp, "pck_ca.pem"),
                          os.path.join(tmp, "pck.pem"))
        c.ok("openssl verify -x509_strict -crl_check_all: PCK -> PCK CA -> root, none revoked",
             rc == 0, out)

        # 3. the SGX extension of the PCK
        try:
            sgx = sgx_extension(pck)
        except (KeyError, ValueError, x509.ExtensionNotFound) as e:
            c.ok("PCK SGX extension parses", False, e)
            return 1
        c.ok("PCK SGX extension parses (PPID %s, FMSPC %s)" % (sgx["ppid"], sgx["fmspc"]), True)
        f.update(sgx)
        c.ok("QE report CPUSVN = PCK CPUSVN", f["qe_report"]["cpu_svn"] == sgx["cpusvn"],
             "%s vs %s" % (f["qe_report"]["cpu_svn"], sgx["cpusvn"]))

        # 4. TCB Info and QE Identity
        tcb_info = signed_json(c, d, "tcb_info", "tcbInfo", tmp, root_pem)
        qe_ident = signed_json(c, d, "qe_identity", "enclaveIdentity", tmp, root_pem)
    if tcb_info is None or qe_ident is None:
        return 1
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    in_date(c, "TCB Info", tcb_info, now)
    in_date(c, "QE Identity", qe_ident, now)
    c.ok("TCB Info: id TDX, version >= 3, tcbType 0",
         (tcb_info.get("id"), tcb_info.get("version", 0) >= 3, tcb_info.get("tcbType")) ==
         ("TDX", True, 0), (tcb_info.get("id"), tcb_info.get("version"), tcb_info.get("tcbType")))
    c.ok("TCB Info fmspc, pceId = the PCK's",
         (tcb_info.get("fmspc", "").lower(), tcb_info.get("pceId", "").lower()) ==
         (sgx["fmspc"], sgx["pceid"]), (tcb_info.get("fmspc"), tcb_info.get("pceId")))
    c.ok("QE Identity: id TD_QE, version 2",
         (qe_ident.get("id"), qe_ident.get("version")) == ("TD_QE", 2),
         (qe_ident.get("id"), qe_ident.get("version")))
    f["tcb_evaluation_data_number"] = tcb_info.get("tcbEvaluationDataNumber")
    c.ok("TCB Info and QE Identity of one tcbEvaluationDataNumber",
         qe_ident.get("tcbEvaluationDataNumber") == f["tcb_evaluation_data_number"])

    # 5. TDX module identity, QE identity, the TCB levels
    tee_svn = bytes.fromhex(f["tee_tcb_svn"])
    if tee_svn[1] > 0:
        mod = module_identity(tcb_info, tee_svn)
    else:
        mod = tcb_info.get("tdxModule")
    if c.ok("TDX module identity TDX_%02X in TCB Info" % tee_svn[1], mod is not None):
        c.ok("mr_signer_seam = the module identity's mrsigner",
             f["mr_signer_seam"] == mod["mrsigner"].lower(), f["mr_signer_seam"])
        c.ok("seam_attributes & mask = the module identity's attributes",
             f["seam_attributes"] & int(mod["attributesMask"], 16) ==
             int(mod["attributes"], 16), "%016x" % f["seam_attributes"])
    qe_lvl = qe_identity_level(c, qe_ident, f["qe_report"])
    if c.ok("QE TCB level for isv_svn %d" % f["qe_report"]["isv_svn"], qe_lvl is not None):
        f["qe_tcb_status"] = qe_lvl["tcbStatus"]
        ev = evaluate(tcb_info, sgx, qe_lvl, tee_svn)
        if c.ok("platform TCB level found", ev is not None):
            if f.get("body_type") == 3:
                cur = evaluate(tcb_info, sgx, qe_lvl, bytes.fromhex(f["tee_tcb_svn2"]))
                if c.ok("TCB level found for TEE_TCB_SVN2", cur is not None):
                    ev["tcb_status"] = relaunch(ev, cur)
            f.update(ev)
            print("     TCB: %s (platform %s, QE %s, module %s), %s %s" % (
                f["tcb_status"], f["platform_tcb_status"], f["qe_tcb_status"],
                f["module_tcb_status"], f["tcb_date"], ",".join(f["advisory_ids"])))

    if a.dump:
        for k, v in f.items():
            if not isinstance(v, bytes):
                print("  %s = %s" % (k, v))
    for e in a.expect:
        k, _, v = e.partition("=")
        c.ok("expected %s = %s" % (k, v), str(f.get(k)).lower() == v.lower(),
             "quote has %s" % f.get(k))
    if a.claims:
        compare_claims(c, json.load(open(a.claims)), f)
    return 1 if c.failed else 0


def compare_claims(c, claims, f):
    tdx = claims.get("claims", {}).get("tdx")
    if not c.ok("claims: cvmattest verify gave claims.tdx", isinstance(tdx, dict),
                "status %s, no claims.tdx" % claims.get("status")):
        return
    top = claims["claims"]
    want = [("claims.measurement", top.get("measurement"), f["mr_td"]),
            ("claims.report_data", top.get("report_data"), f["report_data"]),
            ("claims.debug", top.get("debug"), f["debug"])]
    for k in ("version", "att_key_type", "tee_type", "qe_vendor_id", "user_data",
              "tee_tcb_svn", "mr_seam", "mr_signer_seam", "mr_td", "mr_config_id", "mr_owner",
              "mr_owner_config", "report_data", "body_type", "tee_tcb_svn2", "mr_service_td",
              "ppid", "fmspc", "pceid", "pcesvn", "cpusvn", "sgx_tcb_components", "sgx_type",
              "platform_instance_id", "configuration", "tcb_evaluation_data_number",
              "tcb_status", "platform_tcb_status", "qe_tcb_status", "module_tcb_status",
              "tcb_date"):
        if k in f:
            want.append(("tdx." + k, tdx.get(k), f[k]))
    want.append(("tdx.advisory_ids (as a set)", sorted(tdx.get("advisory_ids") or []),
                 f.get("advisory_ids")))
    want.append(("tdx.rtmr", tdx.get("rtmr"), [f["rtmr%d" % n] for n in range(4)]))
    want.append(("tdx.td_attributes.raw", (tdx.get("td_attributes") or {}).get("raw"),
                 "%016x" % f["td_attributes"]))
    want.append(("tdx.td_attributes.debug", (tdx.get("td_attributes") or {}).get("debug"),
                 bool(f["td_attributes"] & 1)))
    want.append(("tdx.xfam", tdx.get("xfam"), "%016x" % f["xfam"]))
    want.append(("tdx.seam_attributes", tdx.get("seam_attributes"), "%016x" % f["seam_attributes"]))
    for k, v in f["qe_report"].items():
        want.append(("tdx.qe_report." + k, (tdx.get("qe_report") or {}).get(k), v))
    plat = claims.get("platform") or {}
    want += [("platform.id_type", plat.get("id_type"), "ppid"),
             ("platform.id", plat.get("id"), f["ppid"])]
    bad = [(p, theirs, ours) for p, theirs, ours in want if theirs != ours]
    for p, theirs, ours in bad:
        c.ok("claims: " + p, False, "cvmattest %r, python %r" % (theirs, ours))
    if not bad:
        c.ok("claims: %d values agree with cvmattest verify --json" % len(want), True)


if __name__ == "__main__":
    sys.exit(main())
