#!/usr/bin/env python3
"""Boot benchmark of the full Debian 13 system: seconds from start to the serial login prompt.

Boots guests/cache/debian/full.ext4 (guests/debian/build.sh --full) with Debian's kernel and
initrd-modules.cpio.gz, root=/dev/vda, 1 GiB, one hart and user networking, on vessel (builtin
SBI and fw_jump) and on qemu-system-riscv64 -M virt (fw_jump) when installed. Each run writes
to a throwaway overlay (vessel's ,overlay=, QEMU's -snapshot), so every boot is the image's
first as built, and is killed once "vessel-full login:" appears. Reports the median over --runs.

  bench/full_boot.py [--runs 3] [--json FILE]
"""

import os
import re
import shutil
import statistics
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib  # noqa: E402

LOGIN = re.compile(rb"vessel-full login: ")
# systemd's own account, printed as it reaches its default target (Startup finished ... in
# userspace) is not on the console; the login prompt is what a person waits for.


def main():
    args = guestlib.boot_bench_parser(__doc__, 600.0).parse_args()

    guest = args.guest_dir
    kernel, initrd = os.path.join(guest, "Image"), os.path.join(guest, "initrd-modules.cpio.gz")
    image, fw_jump = os.path.join(guest, "full.ext4"), os.path.join(guest, "fw_jump.bin")
    for path in (kernel, initrd, image, fw_jump):
        if not os.path.isfile(path):
            sys.exit(f"full_boot.py: {path} is missing (run guests/debian/build.sh --full)")
    append = "console=ttyS0 root=/dev/vda rw"
    tmp = tempfile.mkdtemp(prefix="vessel-full-bench-")
    overlay = os.path.join(tmp, "overlay")

    def vessel(firmware):
        argv = [args.vessel, "run", "--kernel", kernel, "--initrd", initrd, "--append", append,
                "--memory", "1G", "--disk", f"{image},overlay={overlay}", "--net", "user",
                "--timeout", str(int(args.timeout))]
        return argv + (["--firmware", fw_jump] if firmware else [])

    emulators = {
        "vessel builtin SBI": (args.vessel, vessel(None)),
        "vessel fw_jump": (args.vessel, vessel(fw_jump)),
        "qemu fw_jump": (args.qemu, [
            args.qemu, "-M", "virt", "-m", "1G", "-smp", "1", "-nographic", "-bios", fw_jump,
            "-kernel", kernel, "-initrd", initrd, "-append", append, "-snapshot",
            "-drive", f"file={image},if=none,format=raw,id=hd0",
            "-device", "virtio-blk-device,drive=hd0",
            "-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0"]),
    }

    def fresh_overlay():
        if os.path.exists(overlay):
            os.unlink(overlay)

    try:
        runs = guestlib.repeat_runs(emulators, args.runs,
                                    lambda argv: guestlib.time_to_marks(argv, {"login": LOGIN}, args.timeout)["login"],
                                    lambda seconds: f"{seconds:.2f} s", fresh_overlay)
        results = {}
        for name, entry in runs.items():
            if "error" in entry:
                results[name] = {"error": entry["error"], "login_s": entry.get("runs", [])}
            else:
                results[name] = {"login_s": entry["runs"],
                                 "median_login_s": statistics.median(entry["runs"]),
                                 "command": entry["command"]}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nBoot of full.ext4 to the serial login prompt, 1 GiB, 1 hart, median of {args.runs}")
    qemu = results.get("qemu fw_jump", {}).get("median_login_s")
    for name, entry in results.items():
        if "median_login_s" not in entry:
            print(f"{name:<20}  failed: {entry['error']}")
            continue
        ratio = f"  ({entry['median_login_s'] / qemu:.2f}x QEMU)" if qemu else ""
        print(f"{name:<20}  {entry['median_login_s']:7.2f} s{ratio}")
    if args.json:
        guestlib.write_report(args.json, args.runs, guestlib.host_info(args.vessel, args.qemu), results)
    return 1 if any("error" in e for e in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
