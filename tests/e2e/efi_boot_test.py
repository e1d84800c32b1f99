#!/usr/bin/env python3
"""End-to-end: the boot chain of distribution images, from a partitioned disk.

Boots guests/cache/debian/efi.img (guests/debian/efi.sh, from `build.sh --efi`) with no kernel
of Debian's on vessel's command line: --kernel is U-Boot (qemu-riscv64_smode u-boot.bin),
which finds GRUB on the disk's EFI system partition; GRUB reads grub.cfg, Debian's kernel and
the busybox initramfs from the ext4 boot partition. Cases:
  fw_jump   OpenSBI fw_jump -> U-Boot in S-mode -> GRUB -> Linux, to the shell prompt; the
            kernel's command line is grub.cfg's (its vessel.boot=efi-grub marker, GRUB's
            BOOT_IMAGE=/vmlinuz), the kernel says U-Boot's EFI started it; reboot -f goes
            through the whole chain again to the prompt; poweroff -f ends vessel with status 0
  builtin   the same with --firmware builtin (vessel's SBI starts U-Boot in S-mode) and 2 harts
  extlinux, extlinux_builtin
            extlinux.img under fw_jump, and the builtin SBI with 2 harts: U-Boot reads
            extlinux/extlinux.conf from the bootable partition and starts the same kernel with
            booti (no GRUB, no EFI), the command line extlinux.conf's (vessel.boot=extlinux)
  corrupt   copies of the disk with a broken GPT (garbage headers, under fw_jump and the builtin
            SBI; a table whose partitions lie past the disk's end, with valid checksums) or an
            ESP whose GRUB is garbage: U-Boot reports it inside the guest and stops at its
            prompt; vessel keeps running, answers U-Boot's read across the disk's end with an
            I/O error and one of the last sector with its data, and U-Boot's poweroff ends
            vessel with status 0

  efi_boot_test.py --vessel PATH --guest-dir DIR [--case fw_jump|builtin|extlinux|...]
                   [--engine jit|interp] [--qemu qemu-system-riscv64]   (QEMU: for reference)
"""

import os
import re
import shutil
import struct
import sys
import time
import uuid
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from boot_test import PROMPT, USERSPACE_UP, Console, Failure  # noqa: E402
from virtio_test import run_cases  # noqa: E402

BOOT_TIMEOUT = 180.0  # for each stage of the boot (the interpreter under load is slow)
STEP_TIMEOUT = 60.0
UBOOT_PROMPT = re.compile(r"\n=> ")
MARKER = "vessel.boot=efi-grub"
SECTOR = 512


def guest_files(args):
    paths = {name: os.path.join(args.guest_dir, name) for name in ("efi.img", "extlinux.img", "u-boot.bin", "fw_jump.bin")}
    for path in paths.values():
        if not os.path.exists(path):
            raise Failure(f"{path} is missing (run guests/debian/build.sh --efi)")
    return paths


def argv_for(args, firmware, disk, cpus=1):
    """vessel (or QEMU's virt board, with --qemu) started with U-Boot as its kernel and the disk
    read-only: no kernel, initrd or command line of Linux's."""
    files = guest_files(args)
    if args.qemu:
        bios = "none" if firmware == "builtin" else files["fw_jump.bin"]
        return [args.qemu, "-M", "virt", "-m", "512M", "-smp", str(cpus), "-nographic",
                "-bios", bios, "-kernel", files["u-boot.bin"],
                "-drive", f"file={disk},if=none,format=raw,id=hd0,readonly=on",
                "-device", "virtio-blk-device,drive=hd0"]
    fw = "builtin" if firmware == "builtin" else files["fw_jump.bin"]
    engine = ["--engine", args.engine] if args.engine else []
    return [args.vessel, "run", "--firmware", fw, "--kernel", files["u-boot.bin"],
            "--disk", f"{disk},readonly", "--memory", "512M", "--cpus", str(cpus), "--timeout", "600"] + engine


# What each disk's boot shows on the console, in order, up to the kernel's command line; and
# the words /proc/cmdline must hold.
GRUB_EFI = {
    "disk": "efi.img",
    "stages": [(r"U-Boot 20\d\d", "U-Boot's banner"),
               (r"(?i)Booting /efi\\boot\\bootriscv64\.efi", "U-Boot starting GRUB from the ESP"),
               (r"Booting `Debian", "GRUB's menu entry from grub.cfg"),
               (r"EFI stub: Booting Linux Kernel", "the kernel's EFI stub"),
               (r"efi: EFI v[0-9.]+ by Das U-Boot", "the kernel seeing U-Boot's EFI"),
               (r"Kernel command line: BOOT_IMAGE=/vmlinuz [^\n]*" + re.escape(MARKER),
                "grub.cfg's kernel command line")],
    "cmdline": ["BOOT_IMAGE=/vmlinuz", MARKER],
}
EXTLINUX = {
    "disk": "extlinux.img",
    "stages": [(r"U-Boot 20\d\d", "U-Boot's banner"),
               (r"Found /extlinux/extlinux\.conf", "U-Boot finding extlinux.conf"),
               (r"Retrieving file: /vmlinuz", "U-Boot reading the kernel from the disk"),
               (r"Starting kernel \.\.\.", "U-Boot's booti starting the kernel"),
               (r"Kernel command line: [^\n]*vessel\.boot=extlinux", "extlinux.conf's command line")],
    "cmdline": ["vessel.boot=extlinux"],
}


def boot_to_shell(args, firmware, cpus=1, loader=GRUB_EFI):
    start = time.monotonic()
    c = Console(argv_for(args, firmware, guest_files(args)[loader["disk"]], cpus), stdin_eof=False)
    try:
        for pattern, what in loader["stages"]:
            c.expect(pattern, BOOT_TIMEOUT, what)
        c.expect(re.escape(USERSPACE_UP), BOOT_TIMEOUT, "the initramfs's /init")
        c.expect(PROMPT, STEP_TIMEOUT, "shell prompt")
        seconds = time.monotonic() - start
        c.send("echo @@\"cmdline\"@@ $(cat /proc/cmdline) @@end@@")
        line = c.expect(r"@@cmdline@@ ([^\n]*) @@end@@", STEP_TIMEOUT, "/proc/cmdline").group(1)
        if any(word not in line.split() for word in loader["cmdline"]):
            c.fail(f"/proc/cmdline is {line!r}, not the boot loader's ({loader['cmdline']})")
        c.send("echo @@\"harts\"@@ $(grep -c '^processor' /proc/cpuinfo) @@end@@")
        harts = int(c.expect(r"@@harts@@ (\d+) @@end@@", STEP_TIMEOUT, "/proc/cpuinfo").group(1))
        if harts != cpus:
            c.fail(f"the kernel runs on {harts} harts, not {cpus}")
        # A reset starts the whole chain again: the firmware, U-Boot, the loader, the kernel.
        c.send("reboot -f")
        for pattern, what in loader["stages"]:
            c.expect(pattern, BOOT_TIMEOUT, f"{what}, after reboot -f")
        c.expect(PROMPT, BOOT_TIMEOUT, "shell prompt after reboot -f")
        c.send("poweroff -f")
        status = c.wait_exit(STEP_TIMEOUT, "poweroff -f")
        if status != 0:
            c.fail(f"poweroff -f: exit status {status}, expected 0")
        return f"shell prompt in {seconds:.1f} s, /proc/cmdline: {line}; again after reboot -f"
    finally:
        c.close()


def case_fw_jump(args, tmp):
    return boot_to_shell(args, "jump")


def case_builtin(args, tmp):
    return boot_to_shell(args, "builtin", cpus=2)


def case_extlinux(args, tmp):
    return boot_to_shell(args, "jump", loader=EXTLINUX)


def case_extlinux_builtin(args, tmp):
    return boot_to_shell(args, "builtin", cpus=2, loader=EXTLINUX)


# ---- Broken disks ---------------------------------------------------------------------------

def gpt_header(disk_sectors, entries_lba, entries, my_lba, alt_lba):
    """A GPT header (UEFI spec 5.3.2) for `entries` (128 bytes each), with both checksums."""
    array_crc = zlib.crc32(entries)
    fields = [b"EFI PART", 0x10000, 92, 0, 0, my_lba, alt_lba, 34, disk_sectors - 34,
              uuid.UUID("0b0e7e55-0000-4000-8000-00000000dead").bytes_le, entries_lba,
              len(entries) // 128, 128, array_crc]
    fmt = "<8sIIII QQQQ 16s QIII"
    header = struct.pack(fmt, *fields)
    fields[4] = zlib.crc32(header)
    return struct.pack(fmt, *fields).ljust(SECTOR, b"\0")


def write_past_end_table(path):
    """Both GPTs valid by their checksums, with partitions that start and end beyond the disk."""
    disk_sectors = os.path.getsize(path) // SECTOR
    esp_type = uuid.UUID("c12a7328-f81f-11d2-ba4b-00a0c93ec93b").bytes_le
    entries = bytearray(128 * 128)
    for i, (first, last) in enumerate([(disk_sectors + 2048, disk_sectors + 34815),
                                        (2048, (1 << 63) + 5)]):
        struct.pack_into("<16s16sQQQ", entries, i * 128, esp_type, uuid.uuid4().bytes_le, first, last, 0)
    entries = bytes(entries)
    with open(path, "r+b") as f:
        f.seek(SECTOR)
        f.write(gpt_header(disk_sectors, 2, entries, 1, disk_sectors - 1))
        f.write(entries)
        f.seek((disk_sectors - 33) * SECTOR)
        f.write(entries)
        f.write(gpt_header(disk_sectors, disk_sectors - 33, entries, disk_sectors - 1, 1))


def write_garbage_headers(path):
    disk_sectors = os.path.getsize(path) // SECTOR
    noise = bytes((i * 151 + 7) & 0xFF for i in range(33 * SECTOR))
    with open(path, "r+b") as f:
        f.seek(SECTOR)
        f.write(noise)
        f.seek((disk_sectors - 33) * SECTOR)
        f.write(noise)


def write_garbage_grub(path):
    """The ESP's BOOTRISCV64.EFI overwritten with garbage of the same length, so the FAT still
    finds it: U-Boot's EFI loader must refuse it."""
    data = open(path, "rb").read()
    at = data.find(b"MZ", 2048 * SECTOR)
    while at >= 0 and data[at + 0x3c:at + 0x40] and \
            data[at + struct.unpack_from("<I", data, at + 0x3c)[0]:][:4] != b"PE\0\0":
        at = data.find(b"MZ", at + 1)
    if at < 0:
        raise Failure(f"{path}: no PE image found on the ESP")
    with open(path, "r+b") as f:
        f.seek(at)
        f.write(bytes((i * 37 + 11) & 0xFF for i in range(64 * 1024)))


def case_corrupt(args, tmp):
    shown = []
    no_partition = r"Couldn't find partition virtio 0:1"
    for name, corrupt, complaint, firmware in (
            ("garbage GPT headers", write_garbage_headers, no_partition, "jump"),
            ("garbage GPT headers, builtin SBI", write_garbage_headers, no_partition, "builtin"),
            ("partitions past the disk's end", write_past_end_table, no_partition, "jump"),
            ("garbage GRUB on the ESP", write_garbage_grub, r"EFI LOAD FAILED", "jump")):
        disk = os.path.join(tmp, "broken.img")
        shutil.copyfile(guest_files(args)["efi.img"], disk)
        corrupt(disk)
        c = Console(argv_for(args, firmware, disk), stdin_eof=False)
        try:
            c.expect(r"U-Boot 20\d\d", STEP_TIMEOUT, f"{name}: U-Boot's banner")
            if complaint:
                c.expect(complaint, STEP_TIMEOUT, f"{name}: U-Boot's complaint")
            c.expect(UBOOT_PROMPT, BOOT_TIMEOUT, f"{name}: U-Boot's prompt after the failed boot")
            if "Linux version" in c.text or "Booting `" in c.text:
                c.fail(f"{name}: a kernel started from a broken disk")
            # Still running and answering: a read past the disk's end is an I/O error to
            # U-Boot (virtio-blk's IOERR), one inside it still works, then U-Boot's poweroff.
            sectors = os.path.getsize(disk) // SECTOR
            c.send(f"virtio read 84000000 {sectors - 1:x} 2")
            c.expect(r"blocks read: ERROR", STEP_TIMEOUT, f"{name}: a read across the disk's end")
            c.send(f"virtio read 84000000 {sectors - 1:x} 1")
            c.expect(r"1 blocks read: OK", STEP_TIMEOUT, f"{name}: a read of the last sector")
            c.send("poweroff")
            status = c.wait_exit(STEP_TIMEOUT, f"{name}: U-Boot's poweroff")
            if status != 0:
                c.fail(f"{name}: U-Boot's poweroff: exit status {status}, expected 0")
        finally:
            c.close()
        shown.append(name)
    return "U-Boot stopped at its prompt, vessel kept running and powered off: " + "; ".join(shown)


CASES = {"fw_jump": case_fw_jump, "builtin": case_builtin, "extlinux": case_extlinux,
         "extlinux_builtin": case_extlinux_builtin, "corrupt": case_corrupt}


def main():
    def extra(parser):
        parser.add_argument("--qemu")
        parser.add_argument("--engine", choices=["jit", "interp"])
    return run_cases(__doc__, CASES, extra=extra)


if __name__ == "__main__":
    sys.exit(main())
