#!/usr/bin/env python3
"""Writes the seed corpus for the fuzz targets (corpus/elf, corpus/htif). Run from anywhere;
the files are checked in, so this only needs rerunning when the input formats change."""
import gzip
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
RAM = 0x80000000


def elf(segments, entry=RAM, symbols=(), machine=243):
    """segments: [(vaddr, paddr, bytes, memsz)]; symbols: [(name, value)]."""
    ph = b""
    data = b""
    off = 64 + 56 * len(segments)
    for vaddr, paddr, body, memsz in segments:
        ph += struct.pack("<IIQQQQQQ", 1, 7, off + len(data), vaddr, paddr, len(body), memsz, 8)
        data += body
    body = ph + data
    shoff, shnum = 0, 0
    if symbols:
        strtab = b"\0"
        symtab = bytes(24)
        for name, value in symbols:
            symtab += struct.pack("<IBBHQQ", len(strtab), 0x10, 0, 1, value, 0)
            strtab += name.encode() + b"\0"
        symoff = 64 + len(body)
        stroff = symoff + len(symtab)
        body += symtab + strtab
        shoff = 64 + len(body)
        shdrs = bytes(64)
        shdrs += struct.pack("<IIQQQQIIQQ", 0, 2, 0, 0, symoff, len(symtab), 2, 1, 8, 24)
        shdrs += struct.pack("<IIQQQQIIQQ", 0, 3, 0, 0, stroff, len(strtab), 0, 0, 1, 0)
        body += shdrs
        shnum = 3
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, entry, 64, shoff, 0, 64, 56,
                               len(segments), 64, shnum, 0)
    return ehdr + body


def image(text_offset, image_size, body_len, old_magic=False):
    hdr = struct.pack("<IIQQQIIQ", 0x6F, 0, text_offset, image_size, 0, 2, 0, 0)
    hdr += b"RISCV\0\0\0" + (b"\0\0\0\0" if old_magic else b"RSC\x05") + bytes(4)
    return hdr + bytes((i * 7) & 0xFF for i in range(body_len))


def htif(steps, ram_init=None, tohost=0x1000, fromhost=0x1008):
    ram = bytearray(4096)
    for off, b in (ram_init or {}).items():
        ram[off:off + len(b)] = b
    out = struct.pack("<QQ", tohost, fromhost) + bytes(ram)
    for flags, cmd in steps:
        out += bytes([flags]) + struct.pack("<Q", cmd)
    return out


def cmd(dev, c, payload):
    return dev << 56 | c << 48 | payload


def main():
    files = {
        "elf/two_segments.elf": elf([(RAM, RAM, b"\x13\x00\x00\x00" * 4, 0x40),
                                     (RAM + 0x1000, RAM + 0x1000, b"\0" * 16, 16)],
                                    entry=RAM, symbols=[("tohost", RAM + 0x1000),
                                                        ("fromhost", RAM + 0x1008)]),
        "elf/virtual_entry.elf": elf([(0xFFFFFFFF80000000, RAM + 0x2000, b"\x6f\x00\x00\x00",
                                       0x100)], entry=0xFFFFFFFF80000000),
        "elf/no_symbols.elf": elf([(RAM, RAM, b"\x73\x00\x10\x00", 4)]),
        "elf/Image": image(0x80000, 0x10000, 256),
        "elf/Image_old_magic": image(0x80000, 0x10000, 256, old_magic=True),
        "elf/Image.gz": gzip.compress(image(0x80000, 0x10000, 2048), mtime=0),
        "elf/raw.gz": gzip.compress(b"raw kernel bytes" * 16, mtime=0),
        "elf/raw.bin": bytes(range(256)),
        "htif/exit_pass": htif([(0, 1)]),
        "htif/exit_fail": htif([(0, 3 << 1 | 1)]),
        "htif/putchar": htif([(0, cmd(1, 1, ord(c))) for c in "hi\n"]),
        "htif/getchar": htif([(0, cmd(1, 0, 0))]),
        "htif/syscall_write": htif(
            [(0, cmd(0, 0, 0x100)), (1, cmd(0, 0, 0x100)), (1, cmd(0, 0, 0x140))],
            ram_init={0x100: struct.pack("<QQQQ", 64, 1, RAM + 0x200, 5),
                      0x140: struct.pack("<QQ", 93, 0),
                      0x200: b"hello"}),
        "htif/syscall_bad_pointer": htif(
            [(1, cmd(0, 0, 0x100)), (1, cmd(0, 0, 0x180))],
            ram_init={0x100: struct.pack("<QQQQ", 64, 1, 0x10, 1 << 40),
                      0x180: struct.pack("<QQQQ", 1234, 0, 0, 0)}),
        "htif/fromhost_busy": htif([(0, cmd(0, 0, 0x100))] * 4,
                                   ram_init={0x100: struct.pack("<QQQQ", 64, 2, RAM, 16)}),
    }
    for name, data in files.items():
        path = os.path.join(HERE, "corpus", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
