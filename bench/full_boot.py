#!/usr/bin/env python3
"""Boot benchmark of the full Debian 13 system: seconds from start to the serial login prompt.

Boots guests/cache/debian/full.ext4 (guests/debian/build.sh --full) with Debian's kernel and
initrd-modules.cpio.gz, root=/dev/vda, 1 GiB, one hart and user networking, on vessel (builtin
SBI and fw_jump) and on qemu-system-riscv64 -M virt (fw_jump) when installed. Each run writes
to a throwaway overlay (vessel's ,overlay=, QEMU's -snapshot), so every boot is the image's
first as built, and is killed once "vessel-full login:" appears. Reports the median over --runs.

  bench/full_boot.py [--runs 3] [--json FILE]
"""

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib  # noqa: E402

LOGIN = re.compile(rb"vessel-full login: ")
# systemd's own account, printed as it reaches its default target (Startup finished ... in
# userspace) is not on the console; the login prompt is what a person waits for.


def time_to_login(argv, timeout):
    """Seconds from start to the login prompt; the emulator is killed then."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    seen = threading.Event()
    out = bytearray()

    def read():
        while chunk := os.read(proc.stdout.fileno(), 65536):
            out.extend(chunk)
            if LOGIN.search(out[-4096 - len(chunk):]):
                seen.set()
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    elapsed = time.monotonic() - start
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdin.close()
    if not seen.is_set():
        tail = out[-400:].decode(errors="replace")
        raise guestlib.BenchError(f"no login prompt within {timeout:g} s "
                                  f"(exit status {proc.returncode}); console tail: {tail!r}")
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument("--vessel", default=os.path.join(guestlib.REPO, "build", "vessel"))
    parser.add_argument("--qemu", default="qemu-system-riscv64")
    parser.add_argument("--guest-dir", default=guestlib.GUEST_DIR)
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()

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
    results = {}
    try:
        for name, (binary, argv) in emulators.items():
            if not shutil.which(binary):
                results[name] = {"error": f"{binary} not found"}
                continue
            times = []
            for i in range(args.runs):
                if os.path.exists(overlay):
                    os.unlink(overlay)
                print(f"  {name} run {i + 1}/{args.runs} ...", end="", flush=True, file=sys.stderr)
                try:
                    times.append(round(time_to_login(argv, args.timeout), 2))
                except guestlib.BenchError as error:
                    print(" failed", file=sys.stderr)
                    results[name] = {"error": str(error), "login_s": times}
                    break
                print(f" {times[-1]:.2f} s", file=sys.stderr)
            else:
                results[name] = {"login_s": times, "median_login_s": statistics.median(times),
                                 "command": argv}
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
        report = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                  "runs": args.runs, "host": guestlib.host_info(args.vessel, args.qemu),
                  "results": results}
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
    return 1 if any("error" in e for e in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
