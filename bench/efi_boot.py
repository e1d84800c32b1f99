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

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib  # noqa: E402

# The stages in the order they appear on the console.
STAGES = {
    "uboot": re.compile(rb"U-Boot 20\d\d"),
    "grub": re.compile(rb"(?i)Booting /efi\\boot\\bootriscv64\.efi"),
    "kernel": re.compile(rb"Linux version"),
    "prompt": re.compile(rb"vessel:[^\n]*# "),
}


def stage_times(argv, timeout):
    """Seconds from start to each stage's first line; the emulator is killed at the last."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    seen, out = {}, bytearray()

    def read():
        pending = list(STAGES)
        while pending and (chunk := os.read(proc.stdout.fileno(), 65536)):
            out.extend(chunk)
            # A stage is looked for only after the one before it, from where that one ended.
            while pending and (match := STAGES[pending[0]].search(out, seen.get("_at", 0))):
                seen[pending.pop(0)] = round(time.monotonic() - start, 2)
                seen["_at"] = match.end()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdin.close()
    seen.pop("_at", None)
    if "prompt" not in seen:
        tail = out[-400:].decode(errors="replace")
        raise guestlib.BenchError(f"no shell prompt within {timeout:g} s (reached {sorted(seen)}, "
                                  f"exit status {proc.returncode}); console tail: {tail!r}")
    return seen


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per run")
    parser.add_argument("--vessel", default=os.path.join(guestlib.REPO, "build", "vessel"))
    parser.add_argument("--qemu", default="qemu-system-riscv64")
    parser.add_argument("--guest-dir", default=guestlib.GUEST_DIR)
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()

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
    results = guestlib.repeat_runs(emulators, args.runs, lambda argv: stage_times(argv, args.timeout),
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
