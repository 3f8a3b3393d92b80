#!/usr/bin/env python3
"""An independent model of the launch measurements `cvmattest measure` computes, written from
the specifications (not from src/measure), with the synthetic firmware images of
tests/unit/test_measure.c, so that the C code is checked against something other than itself.

  launch_model.py image sev FILE [--no-caa]  the unit test's img_sev(SEV_SECS, hashes entry)
                                             (--no-caa: without the SVSM_CAA section)
  launch_model.py image tdx FILE             the unit test's img_tdx(0x4000)
  launch_model.py snp FILE --vcpus N [--vcpu-sig HEX] [--features HEX] [--vmm qemu|ec2|gce]
                  [--kernel FILE [--initrd FILE] [--append TEXT]]
                  [--kernel-sha256 HEX [--initrd-sha256 HEX]]
                                             the SEV-SNP launch digest, hex
  launch_model.py mrtd FILE [--page-order single|two]   the TDX MRTD, hex
  launch_model.py pinned                     the values tests/unit/test_measure.c pins

SEV-SNP (SEV-SNP ABI specification, SNP_LAUNCH_UPDATE and the PAGE_INFO structure): the
launch digest starts as 48 zero bytes; each page the VMM hands the firmware replaces it with
SHA-384(PAGE_INFO), PAGE_INFO being 0x70 bytes: DIGEST_CUR (48), CONTENTS (48: the SHA-384 of
a normal or VMSA page, zeros for the other types), LENGTH u16 = 0x70, PAGE_TYPE u8 (normal 1,
VMSA 2, zero 3, unmeasured 4, secrets 5, CPUID 6), IMI_PAGE u8, VMPL3/2/1_PERMS u8 each, a
reserved byte, GPA u64. QEMU's order: the firmware's pages (mapped to end at 4 GiB), the
OVMF SEV metadata sections in their order, one VMSA per vCPU (GPA 0xFFFFFFFFF000). The VMSA
is the SEV-ES save area of AMD64 APM vol. 2, table B-4, laid out below from its field list.
The kernel hashes table is QEMU's SevHashTable (its GUIDs as virtee/sev-snp-measure names
them).

TDX (Intel TDX module ABI, TDH.MEM.PAGE.ADD and TDH.MR.EXTEND): MRTD is one SHA-384 over, per
page added, a 128-byte block "MEM.PAGE.ADD" + GPA (u64 at offset 16), and per 256-byte chunk
extended a 128-byte block "MR.EXTEND" + GPA followed by the chunk. Page order single: each
page added then extended; two: every page of a section added, then every page extended.
"""
import hashlib
import struct
import sys
import uuid

PAGE = 4096
IMG_LEN = 64 * 1024


def guid(s):
    return uuid.UUID(s).bytes_le


# OVMF footer table entries (OvmfPkg/ResetVector) and the TDVF metadata descriptor.
G_FOOTER = guid("96b582de-1fb2-45f7-baea-a366c55a082d")
G_RESET = guid("00f771de-1a7e-4fcb-890e-68c77e2fb44e")
G_HASHES = guid("7255371f-3a3b-4b04-927b-1da6efa8d454")
G_SEV_META = guid("dc886566-984a-4798-a75e-5585a7bf67cc")
G_TDX_OFF = guid("e47a6535-984a-4798-865e-4685a7bf8ec2")
G_TDX_META = guid("e9eaf9f3-168e-44d5-a8eb-7f4d8738f6ae")

# ---- the unit test's images (tests/unit/test_measure.c: img_init, img_entry, img_sev,
# img_tdx_n): a 64 KiB pattern, a footer table whose entries run backwards from the footer
# entry that ends 32 bytes before the image's end ----


class Image:
    def __init__(self):
        self.b = bytearray((i * 7 + 3) & 0xFF for i in range(IMG_LEN))
        self.footer = IMG_LEN - 32 - 18
        self.end = self.footer  # where the next entry ends
        struct.pack_into("<H", self.b, self.footer, 18)
        self.b[self.footer + 2:self.footer + 18] = G_FOOTER

    def entry(self, g, data):
        start = self.end - (len(data) + 18)
        self.b[start:start + len(data)] = data
        struct.pack_into("<H", self.b, start + len(data), len(data) + 18)
        self.b[start + len(data) + 2:start + len(data) + 18] = g
        self.end = start
        struct.pack_into("<H", self.b, self.footer, 18 + self.footer - self.end)


SEV_SECS = [(0x800000, 0x9000, 1), (0x809000, 0x1000, 2), (0x80A000, 0x1000, 3),
            (0x80B000, 0x1000, 4), (0x80D000, 0x1000, 0x10)]
RESET_EIP = 0x8000B004
HASHES_GPA = 0x80D400


def image_sev(caa=True):
    secs = SEV_SECS if caa else [s for s in SEV_SECS if s[2] != 4]
    m = Image()
    md = b"ASEV" + struct.pack("<III", 16 + 12 * len(secs), 1, len(secs))
    md += b"".join(struct.pack("<III", *s) for s in secs)
    m.b[0x1000:0x1000 + len(md)] = md
    m.entry(G_SEV_META, struct.pack("<I", IMG_LEN - 0x1000))
    m.entry(G_RESET, struct.pack("<I", RESET_EIP))
    m.entry(G_HASHES, struct.pack("<II", HASHES_GPA, 0x400))
    return bytes(m.b)


# (data offset, raw size, GPA, memory size, type, attributes): BFV (measured), TD_HOB,
# TEMP_MEM; the fourth descriptor slot is written but not counted.
TDX_SECS = [(0x4000, 0x2000, 0xFFFFE000, 0x2000, 0, 1), (0, 0, 0x809000, 0x1000, 2, 0),
            (0, 0, 0x900000, 0x2000, 3, 0), (0, 0, 0xA00000, 0x100000, 4, 2)]


def image_tdx(n=3):
    m = Image()
    d = 0x2000
    m.b[d:d + 16 + 4 * 32] = bytes(16 + 4 * 32)
    m.b[d - 16:d] = G_TDX_META
    m.b[d:d + 16] = b"TDVF" + struct.pack("<III", 16 + 32 * n, 1, n)
    for i, s in enumerate(TDX_SECS):
        struct.pack_into("<IIQQII", m.b, d + 16 + 32 * i, *s)
    m.entry(G_TDX_OFF, struct.pack("<I", IMG_LEN - d))
    return bytes(m.b)


# ---- reading a firmware image: the footer table, the SEV metadata, the TDVF metadata ----


def footer_table(img):
    n = len(img)
    f = n - 32 - 18
    if img[f + 2:f + 18] != G_FOOTER:
        return {}
    size = struct.unpack_from("<H", img, f)[0]
    start, end, table = f - (size - 18), f, {}
    while end - start >= 18:
        esize = struct.unpack_from("<H", img, end - 18)[0]
        g = bytes(img[end - 16:end])
        assert 18 <= esize <= end - start, "bad footer entry"
        assert g not in table, "footer entry named twice"
        table[g] = bytes(img[end - esize:end - 18])
        end -= esize
    return table


def sev_sections(img):
    off = struct.unpack_from("<I", footer_table(img)[G_SEV_META])[0]
    at = len(img) - off
    sig, _, version, count = struct.unpack_from("<4sIII", img, at)
    assert sig == b"ASEV" and version == 1
    return [struct.unpack_from("<III", img, at + 16 + 12 * i) for i in range(count)]


def tdvf_sections(img):
    off = struct.unpack_from("<I", footer_table(img)[G_TDX_OFF])[0]
    at = len(img) - off
    assert img[at - 16:at] == G_TDX_META
    sig, _, version, count = struct.unpack_from("<4sIII", img, at)
    assert sig == b"TDVF" and version == 1
    return [struct.unpack_from("<IIQQII", img, at + 16 + 32 * i) for i in range(count)]


# ---- SEV-SNP ----

NORMAL, VMSA, ZERO, UNMEASURED, SECRETS, CPUID = 1, 2, 3, 4, 5, 6
VMSA_GPA = 0xFFFFFFFFF000


class LaunchDigest:
    def __init__(self):
        self.ld = bytes(48)

    def page(self, page_type, gpa, contents=bytes(48)):
        info = struct.pack("<48s48sHBBBBBBQ", self.ld, contents, 0x70, page_type, 0, 0, 0, 0,
                           0, gpa)
        assert len(info) == 0x70
        self.ld = hashlib.sha384(info).digest()

    def data(self, gpa, data):
        assert len(data) % PAGE == 0
        for o in range(0, len(data), PAGE):
            self.page(NORMAL, gpa + o, hashlib.sha384(data[o:o + PAGE]).digest())

    def empty(self, page_type, gpa, size):
        for o in range(0, size, PAGE):
            self.page(page_type, gpa + o)


# The SEV-ES save area (AMD64 APM vol. 2, table B-4, as far as the VMM sets it): each field's
# name and size in bytes, in order; offsets follow from the sizes.
SAVE_AREA = ([(s, 16) for s in ("es", "cs", "ss", "ds", "fs", "gs", "gdtr", "ldtr", "idtr",
                                "tr")] +
             [("vmpl0_ssp", 8), ("vmpl1_ssp", 8), ("vmpl2_ssp", 8), ("vmpl3_ssp", 8),
              ("u_cet", 8), ("rsvd1", 2), ("vmpl", 1), ("cpl", 1), ("rsvd2", 4), ("efer", 8),
              ("rsvd3", 104), ("xss", 8), ("cr4", 8), ("cr3", 8), ("cr0", 8), ("dr7", 8),
              ("dr6", 8), ("rflags", 8), ("rip", 8)] +
             [(r, 8) for r in ("dr0", "dr1", "dr2", "dr3", "dr0_mask", "dr1_mask", "dr2_mask",
                               "dr3_mask")] +
             [("rsvd4", 24)] +
             [(r, 8) for r in ("rsp", "s_cet", "ssp", "isst_addr", "rax", "star", "lstar",
                               "cstar", "sfmask", "kernel_gs_base", "sysenter_cs",
                               "sysenter_esp", "sysenter_eip", "cr2")] +
             [("rsvd5", 32), ("g_pat", 8), ("dbgctl", 8), ("br_from", 8), ("br_to", 8),
              ("lastexcp_from", 8), ("lastexcp_to", 8), ("rsvd6", 80), ("pkru", 4),
              ("tsc_aux", 4), ("rsvd7", 24), ("rcx", 8), ("rdx", 8), ("rbx", 8), ("rsvd8", 8),
              ("rbp", 8), ("rsi", 8), ("rdi", 8)] +
             [("r%d" % i, 8) for i in range(8, 16)] +
             [("rsvd9", 16), ("exit_info_1", 8), ("exit_info_2", 8), ("exit_int_info", 8),
              ("nrip", 8), ("sev_features", 8), ("vintr_ctrl", 8), ("exit_code", 8),
              ("virtual_tom", 8), ("tlb_id", 8), ("pcpu_id", 8), ("event_inj", 8),
              ("xcr0", 8), ("rsvd10", 16), ("x87_dp", 8), ("mxcsr", 4), ("x87_ftw", 2),
              ("x87_fsw", 2), ("x87_fcw", 2)])
OFFSET, SIZE = {}, {}
_at = 0
for _name, _size in SAVE_AREA:
    OFFSET[_name], SIZE[_name] = _at, _size
    _at += _size
# landmarks of table B-4
assert OFFSET["efer"] == 0xD0 and OFFSET["rip"] == 0x178 and OFFSET["g_pat"] == 0x268
assert OFFSET["rdx"] == 0x310 and OFFSET["sev_features"] == 0x3B0 and OFFSET["xcr0"] == 0x3E8
assert OFFSET["mxcsr"] == 0x408 and OFFSET["x87_fcw"] == 0x410


def vmsa_page(eip, bsp, vcpu_sig, features, vmm):
    """The VMSA of a vCPU at reset, as each VMM sets it (docs/measure.md's table)."""
    cs, ss, tr = 0x9B, 0x93, 0x8B
    rdx, mxcsr, fcw, pat = vcpu_sig, 0x1F80, 0x37F, 0x0007040600070406
    if vmm == "ec2":
        cs, ss, tr, rdx, mxcsr, fcw = (0x9A if bsp else 0x9B), 0x92, 0x83, 0x600, 0, 0
    elif vmm == "gce":
        rdx, mxcsr, fcw, pat = 0x600, 0, 0, 0x70106
    v = bytearray(PAGE)

    def seg(name, sel, attr, limit, base):
        struct.pack_into("<HHIQ", v, OFFSET[name], sel, attr, limit, base)

    def put(name, value):
        v[OFFSET[name]:OFFSET[name] + SIZE[name]] = value.to_bytes(SIZE[name], "little")

    for s in ("es", "ds", "fs", "gs"):
        seg(s, 0, 0x93, 0xFFFF, 0)
    seg("cs", 0xF000, cs, 0xFFFF, eip & 0xFFFF0000)
    seg("ss", 0, ss, 0xFFFF, 0)
    seg("gdtr", 0, 0, 0xFFFF, 0)
    seg("idtr", 0, 0, 0xFFFF, 0)
    seg("ldtr", 0, 0x82, 0xFFFF, 0)
    seg("tr", 0, tr, 0xFFFF, 0)
    for name, value in (("efer", 0x1000), ("cr4", 0x40), ("cr0", 0x10), ("dr7", 0x400),
                        ("dr6", 0xFFFF0FF0), ("rflags", 0x2), ("rip", eip & 0xFFFF),
                        ("g_pat", pat), ("rdx", rdx), ("sev_features", features),
                        ("xcr0", 0x1), ("mxcsr", mxcsr), ("x87_fcw", fcw)):
        put(name, value)
    return bytes(v)


def hashes_table(kernel_sha256, initrd_sha256, append):
    """QEMU's SevHashTable: header GUID, u16 length, then the command line (with its NUL),
    initrd (the SHA-256 of nothing without one) and kernel entries, each GUID, u16 length,
    SHA-256; padded with zeros to a multiple of 16."""
    def entry(g, h):
        return guid(g) + struct.pack("<H", 16 + 2 + 32) + h

    cmd = hashlib.sha256((append or "").encode() + b"\0").digest()
    body = (entry("97d02dd8-bd20-4c94-aa78-e7714d36ab2a", cmd) +
            entry("44baf731-3a2f-4bd7-9af1-41e29169781d",
                  initrd_sha256 or hashlib.sha256(b"").digest()) +
            entry("4de79437-abd2-427f-b835-d5b172d2045b", kernel_sha256))
    table = guid("9438d606-4f22-4cc9-b479-a793d411fd21") + struct.pack("<H", 18 + len(body))
    table += body
    return table + bytes(-len(table) % 16)


def snp_launch_digest(img, vcpus, vcpu_sig=0, features=1, vmm="qemu", kernel_sha256=None,
                      initrd_sha256=None, append=None):
    table = footer_table(img)
    reset = struct.unpack_from("<I", table[G_RESET])[0]
    assert reset != 0
    g = LaunchDigest()
    g.data(0x100000000 - len(img), img)
    secs = sev_sections(img)
    for gpa, size, t in secs:
        if t == 1:  # SNP_SEC_MEM
            g.empty(UNMEASURED if vmm == "gce" else ZERO, gpa, size)
        elif t == 2:  # SNP_SECRETS
            g.page(SECRETS, gpa)
        elif t == 3:  # CPUID
            if vmm != "ec2":
                g.page(CPUID, gpa)
        elif t == 4:  # SVSM_CAA
            g.empty(ZERO, gpa, size)
        elif t == 0x10:  # SNP_KERNEL_HASHES
            if kernel_sha256 is None:
                g.empty(ZERO, gpa, size)
            else:
                at = struct.unpack_from("<I", table[G_HASHES])[0]
                assert at & ~(PAGE - 1) == gpa and size == PAGE
                page = bytearray(PAGE)
                t_ = hashes_table(kernel_sha256, initrd_sha256, append)
                page[at % PAGE:at % PAGE + len(t_)] = t_
                g.data(gpa, bytes(page))
        else:
            raise ValueError("section type %d" % t)
    if vmm == "ec2":  # EC2 measures the CPUID page last
        for gpa, _, t in secs:
            if t == 3:
                g.page(CPUID, gpa)
    for i in range(vcpus):
        v = vmsa_page(0xFFFFFFF0 if i == 0 else reset, i == 0, vcpu_sig, features, vmm)
        g.page(VMSA, VMSA_GPA, hashlib.sha384(v).digest())
    return g.ld.hex()


# ---- TDX ----


def mrtd(img, order="single"):
    h = hashlib.sha384()

    def block(op, gpa):
        h.update(op.ljust(16, b"\0") + struct.pack("<Q", gpa) + bytes(128 - 24))

    for off, _raw, gpa, size, _t, attr in tdvf_sections(img):
        pages = range(size // PAGE)

        def extend(p):
            if attr & 1:  # EXTENDMR: the page's bytes, from the image
                for c in range(0, PAGE, 256):
                    block(b"MR.EXTEND", gpa + p * PAGE + c)
                    h.update(img[off + p * PAGE + c:off + p * PAGE + c + 256])

        for p in pages:
            if not attr & 2:  # not PAGE.AUG
                block(b"MEM.PAGE.ADD", gpa + p * PAGE)
            if order == "single":
                extend(p)
        if order == "two":
            for p in pages:
                extend(p)
    return h.hexdigest()


# ---- what tests/unit/test_measure.c pins ----

KH, IH = bytes([0x11]) * 32, bytes([0x22]) * 32


def pinned():
    sev, no_caa, tdx = image_sev(), image_sev(caa=False), image_tdx()
    base = dict(vcpus=2, vcpu_sig=0xA00F11, features=1)
    return [
        ("snp base (2 vCPUs EPYC-Milan, 0x1, qemu)", snp_launch_digest(sev, **base)),
        ("snp vmm ec2", snp_launch_digest(sev, **dict(base, vmm="ec2"))),
        ("snp vmm gce", snp_launch_digest(sev, **dict(base, vmm="gce"))),
        ("snp kernel 0x11..", snp_launch_digest(sev, kernel_sha256=KH, **base)),
        ("snp kernel, append console=ttyS0",
         snp_launch_digest(sev, kernel_sha256=KH, append="console=ttyS0", **base)),
        ("snp kernel, append, initrd 0x22..",
         snp_launch_digest(sev, kernel_sha256=KH, initrd_sha256=IH, append="console=ttyS0",
                           **base)),
        ("snp no SVSM_CAA section", snp_launch_digest(no_caa, **base)),
        ("tdx mrtd single", mrtd(tdx, "single")),
        ("tdx mrtd two", mrtd(tdx, "two")),
    ]


def main(argv):
    args = argv[1:]

    def opt(name, default=None):
        if name in args:
            i = args.index(name)
            v = args[i + 1]
            del args[i:i + 2]
            return v
        return default

    if args[:1] == ["pinned"]:
        for name, value in pinned():
            print("%s\t%s" % (value, name))
        return 0
    if args[:1] == ["image"] and len(args) >= 3:
        caa = "--no-caa" not in args
        data = image_sev(caa) if args[1] == "sev" else image_tdx()
        with open(args[2], "wb") as f:
            f.write(data)
        return 0
    if args[:1] == ["snp"]:
        kernel, initrd = opt("--kernel"), opt("--initrd")
        ksha, isha = opt("--kernel-sha256"), opt("--initrd-sha256")
        kw = dict(vcpus=int(opt("--vcpus")), vcpu_sig=int(opt("--vcpu-sig", "0"), 16),
                  features=int(opt("--features", "1"), 16), vmm=opt("--vmm", "qemu"),
                  append=opt("--append"))
        if kernel is not None:
            kw["kernel_sha256"] = hashlib.sha256(open(kernel, "rb").read()).digest()
        elif ksha is not None:
            kw["kernel_sha256"] = bytes.fromhex(ksha)
        if initrd is not None:
            kw["initrd_sha256"] = hashlib.sha256(open(initrd, "rb").read()).digest()
        elif isha is not None:
            kw["initrd_sha256"] = bytes.fromhex(isha)
        with open(args[1], "rb") as f:
            print(snp_launch_digest(f.read(), **kw))
        return 0
    if args[:1] == ["mrtd"]:
        order = opt("--page-order", "single")
        with open(args[1], "rb") as f:
            print(mrtd(f.read(), order))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
