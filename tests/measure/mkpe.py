import struct, sys, random
# A small PE32+ image shaped like an x86 bzImage: "MZ", the setup header ("HdrS") at 0x1f1,
# the PE header at 0x80, sections listed out of file order.
out, seed = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1
rnd = random.Random(seed)
hdr_size = 0x400
secs = [(b".text", 0x1400, 0x600), (b".data", 0x400, 0x1000)]  # (name, raw off, raw size)
img = bytearray(0x1a00)
for i in range(hdr_size, len(img)):
    img[i] = rnd.randrange(256)
img[0:2] = b"MZ"
struct.pack_into("<I", img, 0x3c, 0x80)
# setup header: boot protocol 2.15, LOADED_HIGH, initrd_addr_max, xloadflags
img[0x1f1] = 1
struct.pack_into("<I", img, 0x202, 0x53726448)
struct.pack_into("<H", img, 0x206, 0x020f)
img[0x211] = 0x01
struct.pack_into("<I", img, 0x22c, 0x7fffffff)
struct.pack_into("<H", img, 0x236, 0x7f)
pe = 0x80
img[pe:pe + 4] = b"PE\0\0"
struct.pack_into("<HHIIIHH", img, pe + 4, 0x8664, len(secs), 0, 0, 0, 240, 0x206)
opt = pe + 24
struct.pack_into("<H", img, opt, 0x20b)
struct.pack_into("<I", img, opt + 56, 0x2000)      # SizeOfImage
struct.pack_into("<I", img, opt + 60, hdr_size)    # SizeOfHeaders
struct.pack_into("<I", img, opt + 64, 0x12345678)  # CheckSum (excluded from the digest)
struct.pack_into("<H", img, opt + 68, 10)          # Subsystem EFI application
struct.pack_into("<I", img, opt + 108, 16)         # NumberOfRvaAndSizes
st = opt + 240
for i, (name, off, size) in enumerate(secs):
    b = st + 40 * i
    img[b:b + 8] = name.ljust(8, b"\0")
    struct.pack_into("<IIII", img, b + 8, size, off, size, off)
    struct.pack_into("<I", img, b + 36, 0x60000020)
open(out, "wb").write(img)
