#!/usr/bin/env python3
"""Writes a prepared host tree for `cvmattest host-check --root DIR` (docs/host-check.md).

usage: mktree.py snp|tdx DIR [--without ITEM | --variant VARIANT]

snp: a ready SEV-SNP host (EPYC Genoa, SMEE and SNPEn set, RMP reserved, Linux 6.11, kvm_amd
sev_snp=Y, SEV firmware 1.55, SNP initialized, QEMU with sev-snp-guest, OVMF with SEV metadata).
tdx: a ready TDX host (Xeon Emerald Rapids, TME locked and enabled, SEAMRR, 32 TDX KeyIDs,
Linux 6.16, kvm_intel tdx=Y, QEMU with tdx-guest, TDVF with TDX metadata, qgs running).
--without ITEM leaves one requirement out (ITEMS lists them with the check that must catch it).
--variant VARIANT writes a ready host that differs from the plain one in a way that must not
make it fail (VARIANTS lists them with the check that must still pass).
"""
import os
import struct
import sys

# item -> (the check id that must then say fail, or unknown for the msr module)
ITEMS = {
    "snp": {
        "amd-cpu": "snp.cpu.vendor",
        "epyc": "snp.cpu.generation",
        "bare-metal": "snp.cpu.bare_metal",
        "cpuid-snp": "snp.cpu.sev_snp",
        "smee": "snp.bios.smee",
        "snp-en": "snp.bios.snp_en",
        "rmp": "snp.bios.rmp",
        "msr-module": "snp.bios.smee",  # unknown, not fail
        "kernel-6.11": "snp.kernel.version",
        "config-kvm-amd-sev": "snp.kernel.config.KVM_AMD_SEV",
        "config-amd-mem-encrypt": "snp.kernel.config.AMD_MEM_ENCRYPT",
        "kvm-amd": "snp.kernel.kvm_amd.sev_snp",
        "sev-snp-param": "snp.kernel.kvm_amd.sev_snp",
        "dev-sev": "snp.firmware.dev_sev",
        "firmware-1.51": "snp.firmware.version",
        "snp-init": "snp.firmware.snp_init",
        "tcb-reported-above": "snp.firmware.tcb",
        "microcode": "snp.firmware.microcode",
        "qemu": "snp.vmm.qemu",
        "qemu-snp": "snp.vmm.qemu",
        "ovmf-sev": "snp.vmm.ovmf",
        # the footer table names SEV metadata, but it points outside the image
        "ovmf-sev-metadata-in-image": "snp.vmm.ovmf",
    },
    "tdx": {
        "intel-cpu": "tdx.cpu.vendor",
        "xeon-5th-gen": "tdx.cpu.generation",
        "tme-cpuid": "tdx.cpu.tme",
        "not-a-td": "tdx.cpu.not_a_td",
        "tme-bios": "tdx.bios.tme",
        "seamrr": "tdx.bios.seamrr",
        "keyids": "tdx.bios.keyids",
        "msr-module": "tdx.bios.keyids",  # unknown, not fail
        "kernel-6.16": "tdx.kernel.version",
        "config-kvm-intel-tdx": "tdx.kernel.config.KVM_INTEL_TDX",
        "config-intel-tdx-host": "tdx.kernel.config.INTEL_TDX_HOST",
        "config-vhost-vsock": "tdx.kernel.config.VHOST_VSOCK",
        "kvm-intel-tdx": "tdx.kernel.kvm_intel.tdx",
        "qemu-tdx": "tdx.vmm.qemu",
        "ovmf-tdx": "tdx.vmm.ovmf",
        # a code-only image (as Debian's OVMF_CODE.fd): its TDX metadata has the offsets of
        # the unified image, past its end
        "ovmf-tdx-unified": "tdx.vmm.ovmf",
        "qgs": "tdx.attestation.qgs",  # attestation: the host stays ready
    },
}

# variant -> the check that must still pass (and the host stays ready, exit 0)
VARIANTS = {
    "snp": {
        # REPORTED_TCB set below CURRENT_TCB with SNP_SET_CONFIG: a host's legitimate choice
        "reported-tcb-lower": "snp.firmware.tcb",
        # CONFIG_SEV_GUEST is the guest driver: not a host requirement
        "no-sev-guest": "snp.kernel.config",
        # segmented RMP (RMP_CFG bit 0, Turin and later): RMP_END reads zero by design
        "segmented-rmp": "snp.bios.rmp",
    },
    "tdx": {
        # a distribution kernel older than 6.16 with the TDX host support backported
        "backported-kernel": "tdx.kernel.version",
    },
}

# OVMF footer table GUIDs as stored (edk2 OvmfPkg ResetVector), and the TDVF descriptor's
GUID_FOOTER = bytes.fromhex("de82b596b21ff745baeaa366c55a082d")
GUID_SEV = bytes.fromhex("666588dc4a989847a75e5585a7bf67cc")
GUID_TDX = bytes.fromhex("35657ae44a989847865e4685a7bf8ec2")
GUID_TDX_DESC = bytes.fromhex("f3f9eae98e16d544a8eb7f4d8738f6ae")

VARS_LEN = 0x8000  # the unified image: a variable store, then the code (CODE_LEN)
CODE_LEN = 0x10000


def ovmf(sev=True, tdx=True, sev_in_image=True, code_only=False):
    """A small OVMF image in the unified layout (variables, then code ending in the footer
    table), with SEV metadata (SEC_MEM, SECRETS, CPUID) and TDX metadata (a measured section
    of the code, and the TD_HOB QEMU requires) as host-check and measure read them. code_only: the code part alone,
    whose TDX section then points past the image's end, as in Debian's OVMF_CODE.fd."""
    img = bytearray(b"\xff" * VARS_LEN + bytes((i * 7 + 3) & 0xff for i in range(CODE_LEN)))
    n = len(img)
    entries = b""  # written backwards from the footer: data, u16 size, GUID
    if sev:
        at = n - 0x1000  # "ASEV" in the code part
        secs = [(0x800000, 0x9000, 1), (0x80d000, 0x1000, 2), (0x80e000, 0x1000, 3)]
        img[at:at + 16] = b"ASEV" + struct.pack("<III", 16 + 12 * len(secs), 1, len(secs))
        for k, sec in enumerate(secs):
            img[at + 16 + 12 * k:at + 28 + 12 * k] = struct.pack("<III", *sec)
        off = n - at if sev_in_image else n + 0x1000
        entries = struct.pack("<IH", off, 22) + GUID_SEV + entries
    if tdx:
        at = n - 0x2000  # "TDVF" in the code part, after its GUID
        img[at - 16:at] = GUID_TDX_DESC
        img[at:at + 16] = b"TDVF" + struct.pack("<III", 16 + 2 * 32, 1, 2)
        img[at + 16:at + 48] = struct.pack("<IIQQII", VARS_LEN, CODE_LEN, 0x100000000 - CODE_LEN,
                                           CODE_LEN, 1, 1)  # CFV, MR.EXTEND
        # the TD_HOB QEMU requires: no bytes in the image
        img[at + 48:at + 80] = struct.pack("<IIQQII", 0, 0, 0x809000, 0x2000, 2, 0)
        entries = struct.pack("<IH", n - at, 22) + GUID_TDX + entries
    table = entries + struct.pack("<H", 18 + len(entries)) + GUID_FOOTER
    img[n - 32 - len(table):n - 32] = table
    return bytes(img[VARS_LEN:] if code_only else img)


def put(root, rel, data, mode="w"):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode + ("b" if isinstance(data, bytes) else "")) as f:
        f.write(data)


def regs(vendor, eax1, ecx1):
    """CPUID leaves 0 and 1."""
    b = vendor.encode()
    ebx, edx, ecx = struct.unpack("<III", b[0:4] + b[4:8] + b[8:12])
    return {0: (0x20, ebx, ecx, edx), 1: (eax1, 0, ecx1, 0)}


def brand(text):
    raw = text.encode().ljust(48, b"\0")
    return {0x80000002 + i: struct.unpack("<IIII", raw[16 * i:16 * i + 16]) for i in range(3)}


def write_cpuid(root, leaves):
    for leaf, r in leaves.items():
        put(root, "cvmattest-cpuid/0x%08x" % leaf, "%08x %08x %08x %08x\n" % r)


def write_msrs(root, msrs, without):
    if "msr-module" not in without:
        put(root, "dev/cpu/0/msr", b"")
    for n, v in msrs.items():
        put(root, "cvmattest-msr/0x%08x" % n, "%016x\n" % v)


def kernel(root, release, opts):
    put(root, "proc/sys/kernel/osrelease", release + "\n")
    put(root, "boot/config-" + release,
        "# Linux kernel config\n" + "".join("CONFIG_%s=y\n" % o for o in opts) +
        "# CONFIG_DEBUG_INFO is not set\n")


def snp(root, w):
    # family 19h model 11h stepping 1 (Genoa B1); without "epyc": 17h model 31h (Rome, no SNP)
    fam_model = 0x00830F10 if "epyc" in w else 0x00A10F11
    leaves = regs("GenuineIntel" if "amd-cpu" in w else "AuthenticAMD", fam_model,
                  (1 << 31) if "bare-metal" in w else 0)
    leaves.update(brand("AMD EPYC 9654 96-Core Processor"))
    leaves[0x80000000] = (0x80000028, 0, 0, 0)
    leaves[0x8000001F] = ((0x0B if "cpuid-snp" in w else 0x1B), 0, 0, 0)
    write_cpuid(root, leaves)
    syscfg = 0
    if "smee" not in w:
        syscfg |= 1 << 23
    if "snp-en" not in w:
        syscfg |= 1 << 24
    msrs = {0xC0010010: syscfg, 0xC0010132: 0 if "rmp" in w else 0x100000000,
            0xC0010133: 0 if "rmp" in w or "segmented-rmp" in w else 0x101FFFFFF}
    if "segmented-rmp" in w:
        msrs[0xC0010136] = 0x2401  # SegmentedRMP enabled, 64 GiB segments
    write_msrs(root, msrs, w)
    opts = ["KVM", "KVM_AMD", "KVM_AMD_SEV", "AMD_MEM_ENCRYPT", "CRYPTO_DEV_CCP"]
    if "no-sev-guest" not in w:
        opts.append("SEV_GUEST")
    opts = [o for o in opts if not ("config-" + o.lower().replace("_", "-")) in w]
    kernel(root, "6.10.0-test" if "kernel-6.11" in w else "6.11.0-test", opts)
    if "kvm-amd" not in w:
        for p in ("sev", "sev_es", "sev_snp"):
            put(root, "sys/module/kvm_amd/parameters/" + p,
                "N\n" if p == "sev_snp" and "sev-snp-param" in w else "Y\n")
    if "dev-sev" not in w:
        put(root, "dev/sev", b"")
        major, minor = (1, 49) if "firmware-1.51" in w else (1, 55)
        put(root, "cvmattest-ioctl/sev_platform_status",
            struct.pack("<BBBIBI", major, minor, 1, 0, 21, 0))
        cur = 0xDB18000000000309  # ucode 0xdb, snp 0x18, tee 0, bl 9
        rep = cur
        if "tcb-reported-above" in w:
            rep = 0xDB19000000000309  # snp 0x19 > 0x18
        elif "reported-tcb-lower" in w:
            rep = 0xD315000000000309  # microcode 0xd3, snp 0x15: lower
        # no RMP reserved: SNP_INIT fails, the firmware says not initialized
        state, rmp = (0, 0) if "snp-init" in w or "rmp" in w else (1, 1)
        put(root, "cvmattest-ioctl/snp_platform_status",
            struct.pack("<BBBBIIIQQ", major, minor, state, rmp, 21, 0, 0, cur, rep))
    put(root, "proc/cpuinfo", "processor\t: 0\nvendor_id\t: AuthenticAMD\nmicrocode\t: %s\n" %
        ("0xa101148" if "microcode" in w else "0xa101154"))
    if "qemu" not in w:
        put(root, "usr/bin/qemu-system-x86_64",
            b"\x7fELF..." + (b"sev-guest\0" if "qemu-snp" in w else b"sev-snp-guest\0"))
    put(root, "usr/share/ovmf/OVMF.fd",
        ovmf(sev="ovmf-sev" not in w, sev_in_image="ovmf-sev-metadata-in-image" not in w))


def tdx(root, w):
    model = 0x000806F8 if "xeon-5th-gen" in w else 0x000C06F2  # SPR (0x8F) / EMR (0xCF)
    leaves = regs("AuthenticAMD" if "intel-cpu" in w else "GenuineIntel", model, 0)
    leaves.update(brand("INTEL(R) XEON(R) PLATINUM 8592+"))
    leaves[7] = (0, 0, 0 if "tme-cpuid" in w else (1 << 13), 0)
    if "not-a-td" in w:
        b = b"IntelTDX    "
        leaves[0x21] = (0,) + struct.unpack("<III", b[0:4] + b[8:12] + b[4:8])
    write_cpuid(root, leaves)
    msrs = {0x982: 0 if "tme-bios" in w else 0x3, 0x1401: 0 if "seamrr" in w else 1 << 11,
            0x87: (0 if "keyids" in w else 32) << 32 | 31}
    write_msrs(root, msrs, w)
    opts = ["KVM", "KVM_INTEL", "KVM_INTEL_TDX", "INTEL_TDX_HOST", "VSOCKETS", "VHOST_VSOCK"]
    opts = [o for o in opts if not ("config-" + o.lower().replace("_", "-")) in w]
    release = "6.16.0-test"
    if "kernel-6.16" in w:
        release = "6.15.0-test"
    elif "backported-kernel" in w:
        release = "6.8.0-1028-intel"
    kernel(root, release, opts)
    put(root, "sys/module/kvm_intel/parameters/nested", "Y\n")
    if "kernel-6.16" not in w:  # an upstream kernel before 6.16 has no kvm_intel.tdx
        put(root, "sys/module/kvm_intel/parameters/tdx", "N\n" if "kvm-intel-tdx" in w else "Y\n")
    put(root, "usr/bin/qemu-system-x86_64",
        b"\x7fELF..." + (b"sev-guest\0" if "qemu-tdx" in w else b"tdx-guest\0"))
    if "ovmf-tdx-unified" in w:
        put(root, "usr/share/OVMF/OVMF_CODE.fd", ovmf(code_only=True))
    else:
        put(root, "usr/share/ovmf/OVMF.fd", ovmf(tdx="ovmf-tdx" not in w))
    if "qgs" not in w:
        put(root, "proc/4242/comm", "qgs\n")
        put(root, "var/run/tdx-qgs/qgs.socket", b"")


def main():
    args = sys.argv[1:]
    if len(args) == 1 and args[0] in ("--list", "--list-variants"):
        for tee, items in (ITEMS if args[0] == "--list" else VARIANTS).items():
            for item, check in items.items():
                print(tee, item, check)
        return 0
    if (len(args) not in (2, 4) or args[0] not in ITEMS or
            (len(args) == 4 and args[2] not in ("--without", "--variant"))):
        print(__doc__, file=sys.stderr)
        return 2
    without = set()
    if len(args) == 4:
        known = ITEMS if args[2] == "--without" else VARIANTS
        if args[3] not in known[args[0]]:
            print("unknown item " + args[3], file=sys.stderr)
            return 2
        without.add(args[3])
    os.makedirs(args[1], exist_ok=True)
    (snp if args[0] == "snp" else tdx)(args[1], without)
    return 0


if __name__ == "__main__":
    sys.exit(main())
