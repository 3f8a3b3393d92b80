#!/usr/bin/env python3
"""Writes the seed corpus of fuzz/fuzz_probes.c.

usage: mkseeds-probes.py CVMATTEST_BINARY FUZZ_DIR   (e.g. build/cvmattest fuzz)

Guest trees from `cvmattest sim snp|tdx --report-data 5a... --tsm-tree --dev-tree` (the target
asks for the nonce 5a...5a), host trees from tests/host/mktree.py (its OVMF image, larger than
a part, replaced by one of fuzz/corpus/ovmf). The file tables are the target's; keep them in
step.
"""
import hashlib
import os
import struct
import subprocess
import sys
import tempfile

TPL = "tsm/report/.template/"
TSM = [TPL + f for f in ["provider", "generation", "outblob", "auxblob", "manifestblob",
                         "privlevel_floor", "service_provider", "service_guid",
                         "service_manifest_version"]]
DEV = ["dev/sev-guest", "dev/sev-guest.ext-report", "dev/sev-guest.certs", "dev/tdx_guest",
       "dev/tdx_guest.report0", "dev/tpmrm0"]
HOST = ["proc/cpuinfo", "proc/sys/kernel/osrelease", "boot/config-6.11.0-test",
        "boot/config-6.16.0-test", "sys/module/kvm_amd/parameters/sev",
        "sys/module/kvm_amd/parameters/sev_es", "sys/module/kvm_amd/parameters/sev_snp",
        "sys/module/kvm_intel/parameters/tdx", "sys/module/kvm_intel/parameters/nested",
        "cvmattest-cpuid/0x00000000", "cvmattest-cpuid/0x00000001", "cvmattest-cpuid/0x00000007",
        "cvmattest-cpuid/0x00000021", "cvmattest-cpuid/0x80000000", "cvmattest-cpuid/0x80000002",
        "cvmattest-cpuid/0x80000003", "cvmattest-cpuid/0x80000004", "cvmattest-cpuid/0x8000001f",
        "cvmattest-msr/0xc0010010", "cvmattest-msr/0xc0010132", "cvmattest-msr/0xc0010133",
        "cvmattest-msr/0xc0010136", "cvmattest-msr/0x00000982", "cvmattest-msr/0x00001401",
        "cvmattest-msr/0x00000087", "dev/cpu/0/msr", "dev/sev",
        "cvmattest-ioctl/sev_platform_status", "cvmattest-ioctl/snp_platform_status",
        "usr/bin/qemu-system-x86_64", "usr/share/ovmf/OVMF.fd", "usr/share/OVMF/OVMF_CODE.fd",
        "proc/4242/comm", "var/run/tdx-qgs/qgs.socket"]
S_TSM, S_DEV, S_GUEST, S_HOST = 0, 1, 2, 3
HERE = os.path.dirname(os.path.abspath(__file__))
NONCE = b"\x5a" * 64


def seed(sel, flags, files, table):
    out = bytes([sel, flags])
    for rel, data in files:
        assert len(data) <= 0xFFFF, rel
        out += bytes([table.index(rel)]) + struct.pack(">H", len(data)) + data
    return out


def tree_files(root, prefix, table):
    out = []
    for dirpath, _, names in os.walk(root):
        for n in sorted(names):
            rel = prefix + os.path.relpath(os.path.join(dirpath, n), root)
            if rel in table:
                with open(os.path.join(dirpath, n), "rb") as f:
                    out.append((rel, f.read()))
    return out


def main():
    cvm, fuzz = sys.argv[1], sys.argv[2]
    corpus = os.path.join(fuzz, "corpus", "probes")
    os.makedirs(corpus, exist_ok=True)
    seeds = {}
    with tempfile.TemporaryDirectory() as t:
        def sim(kind, name, *args):
            d = os.path.join(t, name)
            subprocess.run([cvm, "sim", kind, "--out", d, "--tsm-tree", d + "/tsm", "--dev-tree",
                            d + "/dev", *args], check=True, stdout=subprocess.DEVNULL)
            return (tree_files(d + "/tsm", "tsm/", TSM), tree_files(d + "/dev", "dev/", DEV))
        tsm, dev = sim("snp", "snp", "--report-data", NONCE.hex())
        seeds["tsm-snp"] = seed(S_TSM, 0, tsm, TSM)
        seeds["dev-snp"] = seed(S_DEV, 0, dev, DEV)
        seeds["guest-snp"] = seed(S_GUEST, 0, tsm + dev + [("proc/cpuinfo",
                                  b"processor\t: 0\nflags\t\t: fpu sev sev_es sev_snp\n")],
                                  TSM + DEV + ["proc/cpuinfo"])
        tsm, dev = sim("tdx", "tdx", "--report-data", NONCE.hex())
        seeds["tsm-tdx"] = seed(S_TSM, 0, tsm, TSM)
        seeds["dev-tdx"] = seed(S_DEV, 0, dev + [("dev/tdx_guest.report0", bytes(128) + NONCE +
                                                  bytes(1024 - 192))], DEV)
        # The SVSM's vTPM service report: REPORT_DATA = SHA-512(nonce || manifest).
        manifest = b"\x00\x01\x00\x0b" + bytes(60)
        with open(os.path.join(t, "manifest"), "wb") as f:
            f.write(manifest)
        tsm, dev = sim("snp", "svsm", "--report-data",
                       hashlib.sha512(NONCE + manifest).hexdigest(), "--privlevel-floor", "2",
                       "--tsm-manifest", os.path.join(t, "manifest"))
        seeds["tsm-snp-svsm"] = seed(S_TSM, 1, tsm, TSM)
        # Host trees; their OVMF replaced by a small image of fuzz_ovmf's corpus.
        for kind, image in [("snp", "sev"), ("tdx", "tdx")]:
            d = os.path.join(t, "host-" + kind)
            subprocess.run([sys.executable, os.path.join(HERE, "..", "tests", "host", "mktree.py"),
                            kind, d], check=True)
            files = [f for f in tree_files(d, "", HOST) if len(f[1]) <= 0xFFFF]
            with open(os.path.join(fuzz, "corpus", "ovmf", image), "rb") as f:
                files.append(("usr/share/ovmf/OVMF.fd", f.read()))
            seeds["host-" + kind] = seed(S_HOST, 0, files, HOST)
        # The ready SEV-SNP host with a SYSCFG stand-in that is no value ("0x"): a later part
        # replaces the file; snp.bios.smee must be unknown, not read as 0.
        seeds["host-snp-syscfg-0x"] = seeds["host-snp"] + seed(
            S_HOST, 0, [("cvmattest-msr/0xc0010010", b"0x\n")], HOST)[2:]
    for name, data in seeds.items():
        with open(os.path.join(corpus, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(seeds)} seeds to {corpus}")


if __name__ == "__main__":
    main()
