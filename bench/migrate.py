#!/usr/bin/env python3
"""Live migration benchmark (docs/migration.md): total time, rounds, bytes sent and downtime
for an idle guest and for one dirtying memory.

Boots guests/cache/debian (busybox initramfs, builtin SBI, --memory 256M by default, one hart)
with --api-sock, waits for its shell, then migrates it from process to process on this
machine (`vessel run --incoming unix:PATH`, `vessel migrate --api-sock SOCK --to unix:PATH
--json`), --runs times idle at its shell, then --runs times while the guest rewrites a
--dirty-mib MiB file in its RAM-backed root in a loop (`yes | head -c`, text, not zeros: as
fast as the guest goes). Each migration's figures are the source's: total_ms (connection to the destination's
RUNNING), rounds, bytes_sent, final_pages and downtime_ms (the guest's stop at the source to
the destination's RUNNING: the stop-and-copy, the state, the destination's restore and start).

  bench/migrate.py [--vessel build/vessel] [--runs 5] [--memory 256M] [--json FILE]
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
from boot_test import PROMPT, USERSPACE_UP, Console  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vessel", default=os.path.join(REPO, "build", "vessel"))
    ap.add_argument("--guest-dir", default=os.path.join(REPO, "guests", "cache", "debian"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--memory", default="256M")
    ap.add_argument("--dirty-mib", type=int, default=32)
    ap.add_argument("--json")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="vessel-migrate-bench-")
    procs = []
    results = {"idle": [], "dirtying": []}
    try:
        sock = os.path.join(tmp, "vm0.sock")
        vm = Console([args.vessel, "run", "--kernel", os.path.join(args.guest_dir, "Image"),
                      "--initrd", os.path.join(args.guest_dir, "initrd.cpio.gz"),
                      "--append", "console=ttyS0", "--memory", args.memory, "--api-sock", sock],
                     stdin_eof=False)
        procs.append(vm)
        vm.expect(re.escape(USERSPACE_UP), 300, "boot to userspace")
        vm.expect(PROMPT, 60, "shell prompt")
        n = 0
        for kind in ("idle", "dirtying"):
            if kind == "dirtying":
                vm.send(f"mkdir -p /tmp; while true; do yes 0123456789abcdef | head -c "
                        f"{args.dirty_mib << 20} > /tmp/d; done &")
            for _ in range(args.runs):
                n += 1
                incoming = os.path.join(tmp, f"in{n}.sock")
                next_sock = os.path.join(tmp, f"vm{n}.sock")
                dest = Console([args.vessel, "run", "--incoming", f"unix:{incoming}",
                                "--api-sock", next_sock], stdin_eof=False)
                procs.append(dest)
                for _ in range(200):
                    if os.path.exists(incoming):
                        break
                    subprocess.run(["sleep", "0.01"])
                done = subprocess.run([args.vessel, "migrate", "--api-sock", sock, "--to",
                                       f"unix:{incoming}", "--json"], capture_output=True,
                                      text=True, timeout=600)
                if done.returncode != 0:
                    print(f"migration {n} failed: {done.stderr.strip()}")
                    return 1
                figures = json.loads(done.stdout)
                results[kind].append(figures)
                print(f"{kind:9} total {figures['total_ms']:7.1f} ms  rounds {figures['rounds']:2}"
                      f"  sent {figures['bytes_sent'] / 2**20:6.1f} MiB  final pages "
                      f"{figures['final_pages']:5}  downtime {figures['downtime_ms']:6.1f} ms",
                      flush=True)
                vm.proc.wait(timeout=30)  # the source ends once the guest runs at the destination
                vm, sock = dest, next_sock
        vm.send("echo still-he""re")
        vm.expect("still-here", 60, "the last destination's shell")
        for kind, runs in results.items():
            if runs:
                med = {k: statistics.median(r[k] for r in runs)
                       for k in ("total_ms", "rounds", "bytes_sent", "downtime_ms")}
                print(f"{kind} median: total {med['total_ms']:.1f} ms, rounds {med['rounds']}, "
                      f"{med['bytes_sent'] / 2**20:.1f} MiB, downtime {med['downtime_ms']:.1f} ms "
                      f"(max {max(r['downtime_ms'] for r in runs):.1f})")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=2)
    finally:
        for p in procs:
            if p.proc.poll() is None:
                p.proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
