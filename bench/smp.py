#!/usr/bin/env python3
"""SMP speedup: a CPU-bound job split over 2 harts vs the same job on 1 hart, vessel and QEMU.

In the Debian guest (guests/cache/debian, 512M, OpenSBI fw_jump), bench/guest/smp_job.sh runs
JOBS sha256sum of one MIB MiB file in tmpfs at once (`&` and `wait`) and times them inside the
guest (/proc/uptime). The same job runs on vessel --cpus 1 and --cpus 2 and on QEMU -smp 1 and
-smp 2 (MTTCG, one host thread per vCPU like vessel), in the same run; the speedup is the
1-hart time over the 2-hart time. On a 2-core host the target for vessel is 1.7x or more.

  bench/smp.py [--runs 3] [--jobs 2] [--mib 32] [--firmware jump|builtin] [--quick]
               [--json FILE]
"""

import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib as gl  # noqa: E402

SMP_LINE = re.compile(r"vessel-smp-bench: jobs=(\d+) mib=(\d+) harts=(\d+) "
                      r"start=([0-9.]+) end=([0-9.]+) end")
TARGET = 1.7


def measure(argv, harts, runs, timeout, name):
    entry = {"command": argv, "seconds": [], "host_cpus_busy": [], "others_cpus": []}
    for i in range(runs):
        print(f"  {name:<18} run {i + 1}/{runs} ...", end="", file=sys.stderr, flush=True)
        run = gl.run_guest(argv, timeout)
        found = SMP_LINE.search(run.out)
        if not found or run.status != 0:
            print(" failed", file=sys.stderr)
            entry["error"] = run.describe_failure() + f"; console tail {run.tail()!r}"
            break
        seen_harts = int(found.group(3))
        if seen_harts != harts:
            print(" failed", file=sys.stderr)
            entry["error"] = f"the guest saw {seen_harts} hart(s), not {harts}"
            break
        seconds = float(found.group(5)) - float(found.group(4))
        entry["seconds"].append(round(seconds, 2))
        # Over the whole run (boot included): how many host CPUs the emulator kept busy, and
        # how many the rest of the host took meanwhile (on 2 CPUs, above ~0.2 it competes).
        entry["host_cpus_busy"].append(round(run.cpu_seconds / run.seconds, 2))
        entry["others_cpus"].append(run.others_cpus)
        print(f" {seconds:.2f} s (host CPUs busy over the run: {entry['host_cpus_busy'][-1]}, "
              f"by other work: {run.others_cpus})", file=sys.stderr)
    if entry["seconds"]:
        entry["median_seconds"] = statistics.median(entry["seconds"])
        entry["median_host_cpus_busy"] = statistics.median(entry["host_cpus_busy"])
    return entry


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2, help="sha256sum processes at once")
    parser.add_argument("--mib", type=int, default=32, help="size of the file each one hashes")
    parser.add_argument("--quick", action="store_true", help="one run of 8 MiB jobs")
    parser.add_argument("--firmware", choices=["jump", "builtin"], default="jump",
                        help="vessel's firmware: OpenSBI fw_jump or the builtin SBI")
    parser.add_argument("--memory", default="512M")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    parser.add_argument("--vessel", default=os.path.join(gl.REPO, "build", "vessel"))
    parser.add_argument("--qemu", default="qemu-system-riscv64")
    parser.add_argument("--no-qemu", action="store_true", help="vessel only")
    parser.add_argument("--guest-dir", default=gl.GUEST_DIR)
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.mib = 1, 8
    for name in ("runs", "jobs", "mib"):
        if getattr(args, name) < 1:
            parser.error(f"--{name}: must be at least 1")

    kernel = os.path.join(args.guest_dir, "Image")
    fw_jump = os.path.join(args.guest_dir, "fw_jump.bin")
    for path in (kernel, fw_jump):
        if not os.path.isfile(path):
            sys.exit(f"smp.py: {path} is missing (run guests/debian/build.sh)")
    if not os.access(args.vessel, os.X_OK):
        sys.exit(f"smp.py: {args.vessel}: no vessel binary there (build it, or --vessel)")
    if not gl.vessel_smp_works(args.vessel):
        sys.exit("smp.py: this vessel refuses --cpus 2 (SMP has not landed in it)")
    host = gl.host_info(args.vessel, None if args.no_qemu else args.qemu)
    append = f"console=ttyS0 vessel.run=/bench/smp_job.sh,{args.jobs},{args.mib}"
    vessel_fw = fw_jump if args.firmware == "jump" else "builtin"

    results = {}
    with tempfile.TemporaryDirectory(prefix="smp-bench-") as work:
        try:
            initrd = gl.extended_initrd(
                os.path.join(args.guest_dir, "initrd.cpio.gz"),
                os.path.join(work, "initrd-smp.cpio.gz"),
                [("/bench/smp_job.sh", os.path.join(gl.REPO, "bench", "guest", "smp_job.sh"))])
        except gl.BenchError as error:
            sys.exit(f"smp.py: {error}")
        print(f"{args.jobs} x sha256sum of {args.mib} MiB in the guest", file=sys.stderr)
        emulators = {"vessel": lambda n: gl.vessel_argv(
            args.vessel, vessel_fw, kernel, initrd=initrd, append=append, memory=args.memory,
            cpus=n, timeout=args.timeout, stats=False)}
        if not args.no_qemu and shutil.which(args.qemu):
            emulators["qemu"] = lambda n: gl.qemu_argv(args.qemu, fw_jump, kernel, initrd=initrd,
                                                       append=append, memory=args.memory, smp=n)
        for name, argv_for in emulators.items():
            entry = {}
            for harts in (1, 2):
                entry[f"harts_{harts}"] = measure(argv_for(harts), harts, args.runs, args.timeout,
                                                  f"{name} {harts} hart(s)")
            one = entry["harts_1"].get("median_seconds")
            two = entry["harts_2"].get("median_seconds")
            entry["speedup"] = round(one / two, 2) if one and two else None
            results[name] = entry

    print(f"\n{args.jobs} x sha256sum of {args.mib} MiB, Debian guest, median of {args.runs} "
          f"run(s), seconds inside the guest")
    print(f"{'emulator':<8} {'1 hart s':>10} {'2 harts s':>10} {'speedup':>8}   CPUs taken by "
          "other work during the runs (1 hart; 2 harts)")
    for name, entry in results.items():
        cells = [entry[f"harts_{h}"].get("median_seconds") for h in (1, 2)]
        others = "; ".join(", ".join(f"{c:.2f}" for c in entry[f"harts_{h}"]["others_cpus"])
                           for h in (1, 2))
        print(f"{name:<8} " + " ".join(f"{c:>10.2f}" if c else f"{'-':>10}" for c in cells)
              + f" {entry['speedup'] if entry['speedup'] else '-':>8}   {others}")
        for h in (1, 2):
            if "error" in entry[f"harts_{h}"]:
                print(f"  {name} {h} hart(s): {entry[f'harts_{h}']['error']}")
    speedup = results["vessel"]["speedup"]
    if speedup:
        print(f"vessel speedup {speedup}x: {'meets' if speedup >= TARGET else 'misses'} the "
              f"{TARGET}x target")
    if "qemu" in results and speedup and results["qemu"]["speedup"]:
        print(f"vessel/QEMU speedup ratio: {speedup / results['qemu']['speedup']:.2f}")
        for h in (1, 2):
            v = results["vessel"][f"harts_{h}"].get("median_seconds")
            q = results["qemu"][f"harts_{h}"].get("median_seconds")
            if v and q:
                print(f"vessel/QEMU time, {h} hart(s): {v / q:.2f}")

    gl.host_load_after(host)
    print(f"host load average at the start {host['load_average']}, at the end "
          f"{host['load_average_end']}; busy at the end: "
          f"{', '.join(host['busy_processes_end']) or 'nothing else'}")
    if args.json:
        now = datetime.datetime.now(datetime.timezone.utc)
        report = {"date": now.isoformat(timespec="seconds"),
                  "host": host, "jobs": args.jobs, "mib": args.mib, "runs": args.runs,
                  "vessel_firmware": args.firmware, "memory": args.memory, "target": TARGET,
                  "results": results}
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
    failed = any("error" in e[f"harts_{h}"] for e in results.values() for h in (1, 2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
