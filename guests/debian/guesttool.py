#!/usr/bin/env python3
"""Host-side helpers for guests/debian/build.sh.

The guest's binaries are riscv64, so nothing here runs them: the busybox
applet list is read from the binary's data, the kernel header is parsed
by hand, and the initramfs is written as a newc cpio directly so that it
can hold /dev/console and root-owned files without root or mknod.

Subcommands:
  applets BUSYBOX           print the applet names compiled into BUSYBOX
  image SRC DST             write SRC as a raw RISC-V Image to DST,
                            decompressing gzip/xz/zstd or EFI zboot wrappers
  pack ROOT OUT.cpio.gz     pack directory ROOT as a gzip'd newc cpio
"""

import gzip
import lzma
import os
import stat
import struct
import subprocess
import sys

# RISC-V Image header (Documentation/arch/riscv/boot-image-header.rst).
IMAGE_MAGIC2_OFFSET = 0x38
IMAGE_MAGIC2 = b"RSC\x05"
IMAGE_SIZE_OFFSET = 0x10


def applets(path):
    """Busybox keeps its applet names as one sorted run of NUL-terminated
    strings beginning with "[" and "[["; reading that run avoids having to
    execute the foreign binary."""
    data = open(path, "rb").read()
    start = data.find(b"[\x00[[\x00")
    if start < 0:
        sys.exit(f"{path}: no busybox applet table found")
    names = []
    pos = start
    while True:
        end = data.index(b"\x00", pos)
        name = data[pos:end]
        if not name:
            break
        names.append(name.decode("ascii"))
        pos = end + 1
    if names != sorted(names) or len(names) < 10:
        sys.exit(f"{path}: busybox applet table looks malformed")
    return names


def decompress(blob, what):
    if blob[:2] == b"\x1f\x8b":
        return gzip.decompress(blob)
    if blob[:6] == b"\xfd7zXZ\x00":
        return lzma.decompress(blob)
    if blob[:4] == b"\x28\xb5\x2f\xfd":
        # Python's standard library has no zstd before 3.14.
        return subprocess.run(["zstd", "-dc"], input=blob, check=True,
                              stdout=subprocess.PIPE).stdout
    sys.exit(f"{what}: unknown compression (magic {blob[:4].hex()})")


def image(src, dst):
    blob = open(src, "rb").read()
    if blob[IMAGE_MAGIC2_OFFSET:IMAGE_MAGIC2_OFFSET + 4] != IMAGE_MAGIC2:
        if blob[:2] == b"MZ" and blob[4:8] == b"zimg":
            # EFI zboot: le32 payload offset and size at 8 and 12.
            offset, size = struct.unpack_from("<II", blob, 8)
            blob = decompress(blob[offset:offset + size], src)
        else:
            blob = decompress(blob, src)
    if blob[IMAGE_MAGIC2_OFFSET:IMAGE_MAGIC2_OFFSET + 4] != IMAGE_MAGIC2:
        sys.exit(f"{src}: not a RISC-V Image (no RSC\\x05 at 0x38)")
    tmp = dst + ".tmp"
    with open(tmp, "wb") as f:
        f.write(blob)
    os.replace(tmp, dst)
    (image_size,) = struct.unpack_from("<Q", blob, IMAGE_SIZE_OFFSET)
    print(f"Image: {len(blob)} bytes in file, image_size (incl. bss) "
          f"{image_size:#x}")


class NewcWriter:
    """SVR4 'newc' cpio: 110-byte ASCII header, name and data each padded
    to 4 bytes, ended by a TRAILER!!! entry."""

    def __init__(self, out):
        self.out = out
        self.ino = 1
        self.mtime = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))

    def _pad(self, n):
        self.out.write(b"\x00" * ((4 - n % 4) % 4))

    def entry(self, name, mode, data=b"", rdev=(0, 0)):
        fields = [self.ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1,
                  self.mtime, len(data), 0, 0, rdev[0], rdev[1],
                  len(name) + 1, 0]
        header = b"070701" + b"".join(b"%08X" % f for f in fields)
        self.out.write(header)
        self.out.write(name.encode() + b"\x00")
        self._pad(len(header) + len(name) + 1)
        self.out.write(data)
        self._pad(len(data))
        self.ino += 1

    def trailer(self):
        self.ino = 0
        self.entry("TRAILER!!!", 0)


def pack(root, out_path):
    tmp = out_path + ".tmp"
    count = 0
    with open(tmp, "wb") as raw, \
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                          compresslevel=9) as gz:
        w = NewcWriter(gz)
        # The kernel opens /dev/console for init's stdio before init
        # can mount devtmpfs, so the node must exist in the archive.
        w.entry("dev", stat.S_IFDIR | 0o755)
        w.entry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1))
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel_dir = os.path.relpath(dirpath, root)
            for name in sorted(dirnames) + sorted(filenames):
                full = os.path.join(dirpath, name)
                rel = os.path.normpath(os.path.join(rel_dir, name))
                if rel == "dev":
                    continue
                st = os.lstat(full)
                if stat.S_ISLNK(st.st_mode):
                    w.entry(rel, stat.S_IFLNK | 0o777,
                            os.readlink(full).encode())
                elif stat.S_ISDIR(st.st_mode):
                    w.entry(rel, stat.S_IFDIR | 0o755)
                elif stat.S_ISREG(st.st_mode):
                    perm = 0o755 if st.st_mode & 0o111 else 0o644
                    with open(full, "rb") as f:
                        w.entry(rel, stat.S_IFREG | perm, f.read())
                else:
                    sys.exit(f"{full}: unsupported file type in initramfs")
                count += 1
        w.trailer()
    os.replace(tmp, out_path)
    print(f"initramfs: {count + 2} entries, "
          f"{os.path.getsize(out_path)} bytes compressed")


def main(argv):
    if len(argv) == 3 and argv[1] == "applets":
        print("\n".join(applets(argv[2])))
    elif len(argv) == 4 and argv[1] == "image":
        image(argv[2], argv[3])
    elif len(argv) == 4 and argv[1] == "pack":
        pack(argv[2], argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
