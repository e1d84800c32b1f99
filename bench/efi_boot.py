#!/usr/bin/env python3
"""Boot benchmark of the EFI chain: seconds from start to each stage and to the shell prompt.

Boots guests/cache/debian/efi.img (guests/debian/build.sh --efi) the way distribution images
boot: U-Boot (qemu-riscv64_smode u-boot.bin) as the only file given besides the firmware, GRUB
from the disk's EFI system partition, Debian's kernel and initrd from its boot partition. Runs
on vessel (OpenSBI fw_jump, and the builtin SBI) and on qemu-system-riscv64 -M virt (fw_jump)
when installed, 512 MiB and one hart, the disk read-only. Each run is killed at the busybox
shell prompt; U-Boot's 2 s autoboot countdown is part of every figure. Reports, per emulator,
the median over --runs of the time to U-Boot's banner, to GRUB, to the kernel's first line and
to the prompt.

  bench/efi_boot.py [--runs 3] [--json FILE]
"""

import os
import statistics
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib  # noqa: E402

# The stages in the order they appear on the console.
STAGES = {
    "uboot": rb"U-Boot 20\d\d",
    "grub": rb"(?i)Booting /efi\\boot\\bootriscv64\.efi",
    "kernel": rb"Linux version",
    "prompt": rb"vessel:[^\n]*# ",
}


def main():
    args = guestlib.boot_bench_parser(__doc__, 300.0).parse_args()

    guest = args.guest_dir
    disk, uboot, fw_jump = (os.path.join(guest, f) for f in ("efi.img", "u-boot.bin", "fw_jump.bin"))
    for path in (disk, uboot, fw_jump):
        if not os.path.isfile(path):
            sys.exit(f"efi_boot.py: {path} is missing (run guests/debian/build.sh --efi)")

    def vessel(firmware):
        return [args.vessel, "run", "--firmware", firmware, "--kernel", uboot, "--memory", "512M",
                "--disk", f"{disk},readonly", "--timeout", str(int(args.timeout))]

    emulators = {
        "vessel fw_jump": (args.vessel, vessel(fw_jump)),
        "vessel builtin SBI": (args.vessel, vessel("builtin")),
        "qemu fw_jump": (args.qemu, [
            args.qemu, "-M", "virt", "-m", "512M", "-smp", "1", "-nographic", "-bios", fw_jump,
            "-kernel", uboot, "-drive", f"file={disk},if=none,format=raw,id=hd0,readonly=on",
            "-device", "virtio-blk-device,drive=hd0"]),
    }
    results = guestlib.repeat_runs(emulators, args.runs, lambda argv: guestlib.time_to_marks(argv, STAGES, args.timeout),
                                   lambda seen: f"prompt at {seen['prompt']:.2f} s")
    for entry in results.values():
        if "error" not in entry:
            entry["median_s"] = {s: statistics.median(r[s] for r in entry["runs"]) for s in STAGES}

    print(f"\nU-Boot -> GRUB -> Linux from efi.img, 512 MiB, 1 hart: seconds from start, "
          f"median of {args.runs}")
    print(f"{'':<20}  {'U-Boot':>7}  {'GRUB':>7}  {'Linux':>7}  {'prompt':>7}")
    qemu = results.get("qemu fw_jump", {}).get("median_s", {}).get("prompt")
    for name, entry in results.items():
        if "median_s" not in entry:
            print(f"{name:<20}  failed: {entry['error']}")
            continue
        m = entry["median_s"]
        ratio = f"  ({m['prompt'] / qemu:.2f}x QEMU)" if qemu else ""
        print(f"{name:<20}  " + "  ".join(f"{m[s]:7.2f}" for s in STAGES) + ratio)
    if args.json:
        guestlib.write_report(args.json, args.runs, guestlib.host_info(args.vessel, args.qemu), results)
    return 1 if any("error" in e for e in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
