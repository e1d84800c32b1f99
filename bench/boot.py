#!/usr/bin/env python3
"""Boot benchmark: Debian reference guest to "vessel-guest: userspace up".

Boots guests/cache/debian (guests/debian/build.sh) with vessel.bench=1, so
the guest powers off as soon as userspace is up, on vessel (with --stats)
and on qemu-system-riscv64 when installed, with the same kernel, initrd,
firmware and memory. Reports the median wall time to the userspace line
over --runs runs, vessel's MIPS and max RSS, and vessel_time / qemu_time.

  bench/boot.py [--runs 3] [--firmware jump|dynamic] [--json FILE]
"""

import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib  # noqa: E402
from guestlib import USERSPACE_UP, vessel_stats  # noqa: E402

REPO = guestlib.REPO


class RunError(Exception):
    pass


def run_once(argv, timeout):
    """One boot; returns seconds to the userspace line, seconds to exit,
    the child's max RSS (KiB) from wait4, and its stderr."""
    run = guestlib.run_guest(argv, timeout, {"up": re.escape(USERSPACE_UP)})
    tail = run.out[-300:]
    if run.timed_out:
        raise RunError(f"no poweroff within {timeout:g} s "
                       f"(userspace line {'seen' if 'up' in run.seen else 'not seen'}); "
                       f"console tail: {tail!r}")
    if "up" not in run.seen:
        raise RunError(f"exited with status {run.status} before the userspace line; "
                       f"console tail: {tail!r}")
    if run.status != 0:
        raise RunError(f"exited with status {run.status} after the userspace line")
    return run.seen["up"], run.seconds, run.max_rss_kib, run.err


def bench(name, argv, runs, timeout):
    entry = {"available": True, "command": argv, "userspace_s": [], "poweroff_s": [],
             "max_rss_kib": [], "stats": []}
    for i in range(runs):
        print(f"  {name} run {i + 1}/{runs} ...", end="", flush=True, file=sys.stderr)
        try:
            up, done, rss, stderr = run_once(argv, timeout)
        except RunError as error:
            print(" failed", file=sys.stderr)
            entry["error"] = str(error)
            break
        print(f" {up:.2f} s", file=sys.stderr)
        entry["userspace_s"].append(round(up, 3))
        entry["poweroff_s"].append(round(done, 3))
        entry["max_rss_kib"].append(rss)
        stats = vessel_stats(stderr) if name == "vessel" else None
        if stats:
            entry["stats"].append(stats)
    if entry["userspace_s"]:
        entry["median_userspace_s"] = statistics.median(entry["userspace_s"])
        entry["median_poweroff_s"] = statistics.median(entry["poweroff_s"])
        entry["median_max_rss_kib"] = statistics.median(entry["max_rss_kib"])
        if entry["stats"]:
            entry["median_mips"] = statistics.median(s.get("mips", 0) for s in entry["stats"])
            entry["median_stats_max_rss_kib"] = statistics.median(
                s.get("max_rss_kib", 0) for s in entry["stats"])
            entry["median_guest_resident_kib"] = statistics.median(
                s.get("guest_resident_kib", 0) for s in entry["stats"])
            entry["median_overhead_kib"] = statistics.median(
                s.get("overhead_kib", 0) for s in entry["stats"])
    return entry


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--firmware", choices=["jump", "dynamic"], default="jump")
    parser.add_argument("--memory", default="512M")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument("--vessel", default=os.path.join(REPO, "build", "vessel"))
    parser.add_argument("--qemu", default="qemu-system-riscv64")
    parser.add_argument("--guest-dir", default=os.path.join(REPO, "guests", "cache", "debian"))
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()

    guest = args.guest_dir
    kernel = os.path.join(guest, "Image")
    initrd = os.path.join(guest, "initrd.cpio.gz")
    firmware = os.path.join(guest, f"fw_{args.firmware}.bin")
    for path in (kernel, initrd, firmware):
        if not os.path.isfile(path):
            sys.exit(f"boot.py: {path} is missing (run guests/debian/build.sh)")
    append = "console=ttyS0 vessel.bench=1"
    try:
        kver = open(os.path.join(guest, "kernel-version")).read().strip()
    except OSError:
        kver = "unknown"

    emulators = {
        "vessel": (args.vessel, [args.vessel, "run", "--firmware", firmware, "--kernel", kernel,
                                 "--initrd", initrd, "--append", append, "--memory", args.memory,
                                 "--timeout", str(int(args.timeout)), "--stats"]),
        "qemu": (args.qemu, [args.qemu, "-M", "virt", "-m", args.memory, "-nographic",
                             "-bios", firmware, "-kernel", kernel, "-initrd", initrd,
                             "-append", append]),
    }
    results = {}
    for name, (binary, argv) in emulators.items():
        if not shutil.which(binary):
            results[name] = {"available": False, "error": f"{binary} not found"}
            continue
        results[name] = bench(name, argv, args.runs, args.timeout)

    v = results["vessel"].get("median_userspace_s")
    q = results["qemu"].get("median_userspace_s")
    ratio = round(v / q, 2) if v and q else None

    print(f'\nBoot to "{USERSPACE_UP}": Debian kernel {kver}, fw_{args.firmware}, '
          f"{args.memory}, median of {args.runs} run(s)")
    print(f"{'emulator':<8}  {'userspace s':>11}  {'poweroff s':>10}  {'MIPS':>8}  {'max RSS MiB':>11}"
          f"  {'guest RAM MiB':>13}  {'overhead MiB':>12}")
    for name, entry in results.items():
        if "median_userspace_s" not in entry:
            print(f"{name:<8}  unavailable: {entry.get('error', 'no successful run')}")
            continue
        mips = f"{entry['median_mips']:.1f}" if "median_mips" in entry else "-"
        rss = entry.get("median_stats_max_rss_kib") or entry["median_max_rss_kib"]
        # vessel reports the guest RAM the host backs (mincore) and the rest of its resident
        # memory, its fixed overhead; for QEMU only the total is known.
        guest_ram = (f"{entry['median_guest_resident_kib'] / 1024:.1f}"
                     if "median_guest_resident_kib" in entry else "-")
        overhead = (f"{entry['median_overhead_kib'] / 1024:.1f}"
                    if "median_overhead_kib" in entry else "-")
        print(f"{name:<8}  {entry['median_userspace_s']:>11.2f}  {entry['median_poweroff_s']:>10.2f}  "
              f"{mips:>8}  {rss / 1024:>11.1f}  {guest_ram:>13}  {overhead:>12}")
        if "error" in entry:
            print(f"{'':<8}  (a later run failed: {entry['error']})")
    print(f"vessel/qemu time ratio: {ratio if ratio is not None else 'n/a'}")

    if args.json:
        report = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                  "kernel": kver, "firmware": f"fw_{args.firmware}.bin", "memory": args.memory,
                  "runs": args.runs, "results": results, "vessel_over_qemu": ratio}
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
    # A missing emulator is reported, not an error; a failed run is.
    return 1 if any("error" in e and e.get("available") for e in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
