#!/usr/bin/env python3
"""cvmattest's JOSE and metrics formats, read and written by other projects' libraries.
Used by tests/e2e/interop_jose.sh; nothing here calls cvmattest or reads its code.

What it follows:
  - RFC 7515 (JWS compact serialization), RFC 7518 section 3.4 (ES256, ES384: the signature
    is raw r || s), RFC 7519 (JWT: iat, exp), RFC 7517 (JWK, JWK Set);
  - docs/results.md "Signed results (EAR)": header typ "JWT", kid the hex SHA-256 of the
    key's DER SubjectPublicKeyInfo, the EAR claims (eat_profile, iat, eat_nonce, submods);
  - docs/registry.md "Registry (JWS)": header typ "cvmattest-registry+jws", the payload;
  - the Prometheus text exposition format 0.0.4 and docs/service.md "Metrics".
Who checks: PyJWT (jwt.decode, jwt.encode, PyJWS, PyJWKSet) verifies and signs,
python3-cryptography loads the PEM keys and gives the SPKI DER each kid is computed from, and
prometheus_client's parser (text_string_to_metric_families) reads /metrics.

Each check prints "ok   WHAT" or "FAIL WHAT: why"; the exit status is 1 when any failed.
  ear TOKEN PUB ALG [--nonce S] [--ttl N | --no-exp] [--status S] [--submod NAME]
      [--other-pub PUB2] [--altered PREFIX] [--jwks JWKS]
        PyJWT verifies the EAR token with PUB, ALG alone accepted, and the header and claims
        are checked (and, with --nonce, must fail for another nonce); with --other-pub PyJWT
        must refuse it with PUB2; with --altered it must refuse the token with a bit of its
        signature flipped (written to PREFIX.sig) and with the last digit of its iat changed
        (PREFIX.payload: still JSON of the same shape, so only the signature can tell); with
        --jwks PyJWKSet reads JWKS, the key of the token's kid is PUB and verifies the token
        (and refuses it with a bit of the signature flipped), and a JWKS whose kid differs
        has none
  forge TOKEN KEY ALG OTHER_KEY DIR
        PyJWT writes in DIR, over TOKEN's claims (read unverified): same.tok (KEY, ALG, typ
        JWT, KEY's kid) and same.json (its claims), contra.tok (every submodule's ear.status
        contraindicated), lines.tok (contra.tok with a submodule name, reason code and detail
        holding line feeds and a tab), other-key.tok (OTHER_KEY), none.tok (alg none), other-alg.tok (KEY
        under the other of ES256/ES384), payload.tok (same.tok with iat's last digit changed)
  reg REG PUB ALG PROVIDER CHIP KEY OUT [--other-key KEY2 --refused PREFIX]
        PyJWS verifies the registry REG with PUB (ALG alone accepted): header, payload members,
        validity now, CHIP listed as amd chip_id; refuses REG with its iat changed; signs
        REG's payload (the same bytes) with KEY to OUT and verifies that too; with
        --other-key also writes PREFIX.other-key.jws (KEY2), PREFIX.none.jws (alg none) and
        PREFIX.typ.jws (KEY, typ JWT)
  metrics DOC BEFORE AFTER [--optional NAME]... [--delta SAMPLE LABELS N]...
        prometheus_client parses both scrapes; AFTER holds every family DOC's Metrics table
        names, with its type, but the --optional ones; the histograms hold together (buckets
        rising to +Inf = _count, 1 ms to 10 s); each SAMPLE summed over the samples whose
        labels include LABELS (k=v,k=v; "-": all) went up by N from BEFORE to AFTER. Then the
        same checks must fail on AFTER with the first --delta's line raised by one, and with
        a line cut short
  nonce-hex B64URL   the bytes of a base64url text (no padding), in hex
"""
import argparse
import base64
import hashlib
import json
import re
import sys
import time

import jwt
from cryptography.hazmat.primitives import serialization

EAR_PROFILE = "tag:github.com,2023:veraison/ear"
REGISTRY_TYP = "cvmattest-registry+jws"
REGISTRY_FORMAT = "cvmattest-registry/1"
# docs/registry.md: every member required except entries; no other member allowed
REGISTRY_MEMBERS = {"format", "provider", "version", "iat", "nbf", "next_update", "leaf_count",
                    "merkle_root", "entries"}
CLOCK_SLACK = 300  # seconds: the tokens checked here were made moments ago on this machine
failures = 0


class Mismatch(Exception):
    """A header, claim or count is not as the spec or the docs say."""


def expect(cond, what):
    if not cond:
        raise Mismatch(what)


def check(what, fn, *args):
    """Runs fn(*args); prints ok or FAIL with the reason. Returns fn's value, None on failure."""
    global failures
    try:
        value = fn(*args)
    except Exception as e:  # whatever stops a check fails it, with its type and words
        failures += 1
        print("FAIL %s: %s: %s" % (what, type(e).__name__, e))
        return None
    print("ok   %s" % what)
    return value


def refused(what, fn, *args):
    """fn(*args) must raise PyJWT's InvalidSignatureError: PyJWT refused the signature."""
    global failures
    try:
        fn(*args)
    except jwt.InvalidSignatureError:
        print("ok   %s" % what)
        return
    except (Mismatch, jwt.PyJWTError, ValueError, KeyError, TypeError) as e:
        failures += 1
        print("FAIL %s: not refused for its signature but: %s: %s" % (what, type(e).__name__, e))
        return
    failures += 1
    print("FAIL %s: PyJWT accepted it" % what)


def must_fail(what, fn, *args):
    """fn(*args), a check of ours, must find a mismatch (or the parser refuse its input)."""
    global failures
    try:
        fn(*args)
    except (Mismatch, ValueError) as e:
        print("ok   %s (%s)" % (what, str(e)[:120]))
        return
    failures += 1
    print("FAIL %s: the checks passed" % what)


def read_token(path):
    with open(path, encoding="ascii") as f:
        return f.read().strip()


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")


def load_pub(path):
    with open(path, "rb") as f:
        return serialization.load_pem_public_key(f.read())


def load_key(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def kid_of(pub):
    """docs/results.md, docs/registry.md: hex SHA-256 of the key's DER SubjectPublicKeyInfo."""
    der = pub.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def alter_sig(tok):
    h, p, s = tok.split(".")
    sig = bytearray(unb64url(s))
    sig[len(sig) // 3] ^= 0x01
    return "%s.%s.%s" % (h, p, b64url(bytes(sig)))


def alter_iat(tok):
    """The last digit of the payload's iat changed: the payload stays the same JSON shape."""
    h, p, s = tok.split(".")
    payload = unb64url(p)
    m = re.search(rb'"iat"\s*:\s*-?[0-9]+', payload)
    expect(m is not None, "no iat in the payload")
    at = m.end() - 1
    digit = b"%d" % ((payload[at] - ord("0") + 1) % 10)
    return "%s.%s.%s" % (h, b64url(payload[:at] + digit + payload[at + 1:]), s)


def unverified_claims(tok):
    return jwt.decode(tok, options={"verify_signature": False})


# --- EAR tokens (docs/results.md)

def verify_ear(tok, pub, args):
    header = jwt.get_unverified_header(tok)
    # PyJWT checks iat (an integer, not in the future) and exp when present (not past)
    required = ["iat"] + (["exp"] if args.ttl is not None else [])
    claims = jwt.decode(tok, pub, algorithms=[args.alg], options={"require": required})
    expect(header.get("alg") == args.alg, "header alg %r, want %r" % (header.get("alg"), args.alg))
    expect(header.get("typ") == "JWT", "header typ %r, want JWT" % (header.get("typ"),))
    expect(header.get("kid") == kid_of(pub),
           "header kid %r, want %s (SHA-256 of the key's SPKI)" % (header.get("kid"), kid_of(pub)))
    now = int(time.time())
    expect(claims.get("eat_profile") == EAR_PROFILE, "eat_profile %r" % (claims.get("eat_profile"),))
    iat = claims["iat"]
    expect(is_int(iat), "iat %r is not an integer" % (iat,))
    expect(abs(iat - now) <= CLOCK_SLACK, "iat %d is %d s from now" % (iat, iat - now))
    if args.ttl is not None:
        expect(is_int(claims["exp"]), "exp %r is not an integer" % (claims["exp"],))
        expect(claims["exp"] - iat == args.ttl, "exp - iat = %d, want %d" % (claims["exp"] - iat, args.ttl))
    if args.no_exp:
        expect("exp" not in claims, "exp %r present, want none" % (claims.get("exp"),))
    if args.nonce is not None:
        expect(claims.get("eat_nonce") == args.nonce,
               "eat_nonce %r, want %r" % (claims.get("eat_nonce"), args.nonce))
    else:
        expect("eat_nonce" not in claims, "eat_nonce %r, want none" % (claims.get("eat_nonce"),))
    submods = claims.get("submods")
    expect(isinstance(submods, dict) and submods, "submods %r is no non-empty object" % (submods,))
    if args.submod is not None:
        expect(list(submods) == [args.submod], "submods %s, want only %s" % (sorted(submods), args.submod))
    if args.status is not None:
        for name, sub in submods.items():
            expect(sub.get("ear.status") == args.status,
                   "submods.%s ear.status %r, want %r" % (name, sub.get("ear.status"), args.status))
    return claims


def cmd_ear(args):
    tok = read_token(args.token)
    pub = load_pub(args.pub)
    said = ["alg", "typ", "kid (SPKI SHA-256)", "iat"]
    said += ["exp = iat + %d" % args.ttl] if args.ttl is not None else []
    said += ["no exp"] if args.no_exp else []
    said += ["eat_nonce" if args.nonce is not None else "no eat_nonce"]
    said += ["ear.status %s" % args.status] if args.status else []
    check("PyJWT verifies the %s token %s: %s" % (args.alg, args.token.rsplit("/", 1)[-1], ", ".join(said)),
          verify_ear, tok, pub, args)
    if args.nonce is not None:
        wrong = argparse.Namespace(**vars(args))
        wrong.nonce = args.nonce[:-2] + ("00" if args.nonce[-2:] != "00" else "01")
        must_fail("the same checks notice an eat_nonce other than the one expected", verify_ear, tok, pub, wrong)
    if args.other_pub:
        refused("PyJWT refuses it with another key", verify_ear, tok, load_pub(args.other_pub), args)
    if args.altered:
        for part, alter in (("sig", alter_sig), ("payload", alter_iat)):
            bad = alter(tok)
            write("%s.%s" % (args.altered, part), bad)
            refused("PyJWT refuses it with its %s changed" % part, verify_ear, bad, pub, args)
    if args.jwks:
        jwks_checks(tok, args.jwks, pub)


# --- JWKS (RFC 7517) from GET /v1/keys

def jwks_key(doc, tok):
    keyset = jwt.PyJWKSet.from_dict(doc)
    # PyJWKSet skips keys it cannot use: every key published must be one it read
    expect(len(keyset.keys) == len(doc["keys"]),
           "PyJWKSet read %d of %d keys" % (len(keyset.keys), len(doc["keys"])))
    kid = jwt.get_unverified_header(tok).get("kid")
    try:
        jwk = keyset[kid]
    except KeyError:
        raise Mismatch("no key in the JWKS for the token's kid %r" % (kid,))
    expect(jwk.key_type == "EC", "JWK kty %r, want EC" % (jwk.key_type,))
    expect(jwk.public_key_use in (None, "sig"), "JWK use %r" % (jwk.public_key_use,))
    expect(kid_of(jwk.key) == kid, "the JWK's key has SPKI SHA-256 %s, its kid %s" % (kid_of(jwk.key), kid))
    # PyJWK keeps the JWK's alg to itself: read the same member of the document
    alg = [k for k in doc["keys"] if k.get("kid") == kid][0].get("alg")
    return jwk.key, alg


def verify_by_jwks(doc, tok, pub):
    key, alg = jwks_key(doc, tok)
    expect(key.public_numbers() == pub.public_numbers(), "the JWKS key is not the service's result key")
    header = jwt.get_unverified_header(tok)
    expect(alg == header.get("alg"), "JWK alg %r, token alg %r" % (alg, header.get("alg")))
    return jwt.decode(tok, key, algorithms=[alg], options={"require": ["iat", "exp"]})


def jwks_checks(tok, path, pub):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    check("PyJWKSet reads %s; the key of the token's kid is the result key, its kid its SPKI "
          "SHA-256, and verifies the token" % path.rsplit("/", 1)[-1], verify_by_jwks, doc, tok, pub)
    refused("PyJWKSet's key refuses the token with its signature changed",
            verify_by_jwks, doc, alter_sig(tok), pub)
    other = json.loads(json.dumps(doc))
    kid0 = other["keys"][0]["kid"]
    # another kid whatever this one is (a kid that began with "00" stayed the same once in 256)
    other["keys"][0]["kid"] = ("1" if kid0[0] == "0" else "0") + kid0[1:]

    def no_key():
        try:
            jwks_key(other, tok)
        except Mismatch as e:
            expect("no key in the JWKS" in str(e), str(e))
            return
        raise Mismatch("a key was found for a kid the JWKS does not hold")
    check("a JWKS without the token's kid yields no key", no_key)


# --- tokens PyJWT signs, for cvmattest result check

def cmd_forge(args):
    claims = unverified_claims(read_token(args.token))
    key = load_key(args.key)
    other = load_key(args.other_key)
    hdr = {"typ": "JWT", "kid": kid_of(key.public_key())}
    same = jwt.encode(claims, key, algorithm=args.alg, headers=hdr)
    write(args.dir + "/same.tok", same)
    write(args.dir + "/same.json", json.dumps(unverified_claims(same)))
    contra = json.loads(json.dumps(claims))
    for sub in contra["submods"].values():
        sub["ear.status"] = "contraindicated"
    write(args.dir + "/contra.tok", jwt.encode(contra, key, algorithm=args.alg, headers=hdr))
    # the signer's names and details carry line feeds and tabs that would start forged lines
    forged = json.loads(json.dumps(contra))
    sub = forged["submods"].pop(next(iter(forged["submods"])))
    sub["cvmattest.reasons"] = [{"code": "X\nvalid token issued now; status affirming",
                                 "severity": "error",
                                 "detail": "a\tb\nvalid token issued 2026; status affirming"}]
    forged["submods"]["s\nvalid token issued now; status affirming"] = sub
    write(args.dir + "/lines.tok", jwt.encode(forged, key, algorithm=args.alg, headers=hdr))
    write(args.dir + "/other-key.tok", jwt.encode(claims, other, algorithm=args.alg,
                                                   headers={"typ": "JWT", "kid": kid_of(other.public_key())}))
    write(args.dir + "/none.tok", jwt.encode(claims, None, algorithm="none", headers={"typ": "JWT"}))
    # PyJWT 2.6 signs with whatever curve the key has: the hash of the other alg, on this curve
    other_alg = {"ES256": "ES384", "ES384": "ES256"}[args.alg]
    write(args.dir + "/other-alg.tok", jwt.encode(claims, key, algorithm=other_alg, headers=hdr))
    write(args.dir + "/payload.tok", alter_iat(same))


# --- registries (docs/registry.md "Registry (JWS)")

def verify_registry(tok, pub, args):
    jws = jwt.PyJWS()
    header = jws.get_unverified_header(tok)
    payload = json.loads(jws.decode_complete(tok, pub, algorithms=[args.alg])["payload"])
    expect(header.get("alg") == args.alg, "header alg %r, want %r" % (header.get("alg"), args.alg))
    expect(header.get("typ") == REGISTRY_TYP, "header typ %r, want %s" % (header.get("typ"), REGISTRY_TYP))
    expect(header.get("kid") == kid_of(pub), "header kid %r, want %s" % (header.get("kid"), kid_of(pub)))
    expect(set(payload) <= REGISTRY_MEMBERS and REGISTRY_MEMBERS - set(payload) <= {"entries"},
           "payload members %s" % sorted(payload))
    expect(payload["format"] == REGISTRY_FORMAT, "format %r" % (payload["format"],))
    expect(payload["provider"] == args.provider, "provider %r, want %r" % (payload["provider"], args.provider))
    for m in ("version", "iat", "nbf", "next_update", "leaf_count"):
        expect(is_int(payload[m]), "%s %r is not an integer" % (m, payload[m]))
    now = int(time.time())
    expect(payload["nbf"] <= now < payload["next_update"],
           "not valid now: nbf %d, next_update %d, now %d" % (payload["nbf"], payload["next_update"], now))
    expect(re.fullmatch(r"[0-9a-f]{64}", payload["merkle_root"]) is not None,
           "merkle_root %r" % (payload["merkle_root"],))
    entries = payload.get("entries", [])
    expect(payload["leaf_count"] == len(entries), "leaf_count %d, %d entries" % (payload["leaf_count"], len(entries)))
    listed = [e for e in entries if (e.get("vendor"), e.get("id_type"), e.get("id")) == ("amd", "chip_id", args.chip)]
    expect(len(listed) == 1, "amd chip_id %s... listed %d times" % (args.chip[:16], len(listed)))
    return payload


def cmd_reg(args):
    jws = jwt.PyJWS()
    tok = read_token(args.reg)
    pub = load_pub(args.pub)
    name = args.reg.rsplit("/", 1)[-1]
    check("PyJWS verifies %s (%s): alg, typ, kid, payload members, valid now, the chip listed"
          % (name, args.alg), verify_registry, tok, pub, args)
    refused("PyJWS refuses %s with its iat changed" % name, verify_registry, alter_iat(tok), pub, args)
    payload = jws.decode_complete(tok, options={"verify_signature": False})["payload"]
    key = load_key(args.key)
    write(args.out, jws.encode(payload, key, algorithm=args.alg,
                               headers={"typ": REGISTRY_TYP, "kid": kid_of(key.public_key())}))
    check("PyJWS's own %s registry over the same payload verifies" % args.alg,
          verify_registry, read_token(args.out), pub, args)
    if args.other_key:
        other = load_key(args.other_key)
        write(args.refused + ".other-key.jws",
              jws.encode(payload, other, algorithm=args.alg,
                         headers={"typ": REGISTRY_TYP, "kid": kid_of(other.public_key())}))
        write(args.refused + ".none.jws", jws.encode(payload, None, algorithm="none", headers={"typ": REGISTRY_TYP}))
        write(args.refused + ".typ.jws", jws.encode(payload, key, algorithm=args.alg,
                                                    headers={"typ": "JWT", "kid": kid_of(key.public_key())}))


# --- /metrics (Prometheus text format 0.0.4; docs/service.md "Metrics")

def documented_families(doc):
    """(name, type) of each row of docs/service.md's Metrics table."""
    with open(doc, encoding="utf-8") as f:
        text = f.read()
    section = text.split("\n## Metrics\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(cvmattest_[a-z_]+)` \((counter|gauge|histogram)\)", section, re.M)
    expect(rows, "no metric rows found in %s" % doc)
    return rows


def label_sum(families, sample, labels):
    return sum(s.value for fam in families for s in fam.samples
               if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()))


def check_histogram(fam):
    series = {}
    for s in fam.samples:
        key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
        v = series.setdefault(key, {"buckets": [], "count": None})
        if s.name == fam.name + "_bucket":
            v["buckets"].append((float(s.labels["le"]), s.value))
        elif s.name == fam.name + "_count":
            v["count"] = s.value
    expect(series, "%s has no series" % fam.name)
    for key, v in series.items():
        buckets = sorted(v["buckets"])
        expect(buckets and buckets[-1][0] == float("inf"), "%s%s: no +Inf bucket" % (fam.name, key))
        counts = [c for _, c in buckets]
        expect(counts == sorted(counts), "%s%s: bucket counts fall: %s" % (fam.name, key, counts))
        expect(counts[-1] == v["count"], "%s%s: +Inf bucket %s, _count %s" % (fam.name, key, counts[-1], v["count"]))
        finite = [le for le, _ in buckets if le != float("inf")]
        expect(finite and finite[0] == 0.001 and finite[-1] == 10.0,
               "%s%s: buckets %s, want 0.001 to 10" % (fam.name, key, finite))


def parse_labels(text):
    return dict(kv.split("=", 1) for kv in text.split(",")) if text != "-" else {}


def check_scrapes(doc, before_text, after_text, optional, deltas):
    # imported here: prometheus_client takes a tenth of a second to load, for this command only
    from prometheus_client.parser import text_string_to_metric_families
    before = list(text_string_to_metric_families(before_text))
    after = list(text_string_to_metric_families(after_text))
    by_name = {f.name: f for f in after}
    for name, typ in documented_families(doc):
        # prometheus_client names a counter's family without the _total of its samples
        fam = by_name.get(name[:-len("_total")] if typ == "counter" and name.endswith("_total") else name)
        if fam is None:
            expect(name in optional, "documented family %s absent" % name)
            continue
        expect(fam.type == typ, "%s is a %s, documented as a %s" % (name, fam.type, typ))
        if typ == "histogram":
            check_histogram(fam)
    for sample, labels, n in deltas:
        got = label_sum(after, sample, parse_labels(labels)) - label_sum(before, sample, parse_labels(labels))
        expect(got == int(n), "%s{%s} went up by %g, want %s" % (sample, labels, got, n))


def cmd_metrics(args):
    with open(args.before, encoding="utf-8") as f:
        before = f.read()
    with open(args.after, encoding="utf-8") as f:
        after = f.read()
    check("prometheus_client parses /metrics: the %d documented families (%s optional) with their "
          "types, the histograms, %d counts of this test's requests"
          % (len(documented_families(args.doc)), len(args.optional), len(args.delta)),
          check_scrapes, args.doc, before, after, args.optional, args.delta)
    # The same checks on the scrape with the first counted line raised by one, and with a line cut
    sample, labels, _ = args.delta[0]
    want = ['%s="%s"' % kv for kv in parse_labels(labels).items()]
    lines = after.split("\n")
    at = [i for i, ln in enumerate(lines)
          if re.match(re.escape(sample) + r"[{ ]", ln) and all(w in ln for w in want)]
    expect(at, "no line of %s{%s} in the scrape" % (sample, labels))
    name, value = lines[at[0]].rsplit(" ", 1)
    raised = lines[:at[0]] + ["%s %d" % (name, int(float(value)) + 1)] + lines[at[0] + 1:]
    must_fail("the same checks notice %s raised by one" % name,
              check_scrapes, args.doc, before, "\n".join(raised), args.optional, args.delta)
    cut = lines[:at[0]] + [lines[at[0]].split(",", 1)[0] + " " + value] + lines[at[0] + 1:]
    must_fail("prometheus_client refuses the scrape with that line cut short",
              check_scrapes, args.doc, before, "\n".join(cut), args.optional, args.delta)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("ear")
    for a in ("token", "pub", "alg"):
        p.add_argument(a)
    p.add_argument("--nonce")
    p.add_argument("--ttl", type=int)
    p.add_argument("--no-exp", action="store_true")
    p.add_argument("--status")
    p.add_argument("--submod")
    p.add_argument("--other-pub")
    p.add_argument("--altered")
    p.add_argument("--jwks")
    p.set_defaults(fn=cmd_ear)
    p = sub.add_parser("forge")
    for a in ("token", "key", "alg", "other_key", "dir"):
        p.add_argument(a)
    p.set_defaults(fn=cmd_forge)
    p = sub.add_parser("reg")
    for a in ("reg", "pub", "alg", "provider", "chip", "key", "out"):
        p.add_argument(a)
    p.add_argument("--other-key")
    p.add_argument("--refused")
    p.set_defaults(fn=cmd_reg)
    p = sub.add_parser("metrics")
    for a in ("doc", "before", "after"):
        p.add_argument(a)
    p.add_argument("--optional", action="append", default=[])
    p.add_argument("--delta", nargs=3, action="append", default=[], metavar=("SAMPLE", "LABELS", "N"))
    p.set_defaults(fn=cmd_metrics)
    p = sub.add_parser("nonce-hex")
    p.add_argument("b64url")
    p.set_defaults(fn=lambda a: print(unb64url(a.b64url).hex()))
    args = ap.parse_args()
    args.fn(args)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
