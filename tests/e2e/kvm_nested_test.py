#!/usr/bin/env python3
"""End-to-end: Vessel's own KVM backend (--accel kvm) inside a Vessel guest.

The outer guest is Debian's kernel on Vessel (the H extension, the builtin SBI); its initramfs
carries kvm.ko, the static riscv64 vessel (scripts/riscv64-build.sh), and Debian's kernel
Image and initramfs again. A script there loads kvm.ko and runs `vessel run --accel kvm` on
/dev/kvm, which boots that kernel as a nested guest to its userspace ("vessel-guest: userspace
up"), where a script says how many harts came online before the guest powers off. The nested
vessel must exit 0, and its --stats line (KVM exits by kind) must show it ran under KVM. With --loop N the nested guest also runs a busybox loop of N rounds
and reports its time (for docs/hardware-assist.md).

  kvm_nested_test.py --vessel PATH --guest-dir DIR [--guest-vessel PATH] [--engine jit|interp]
                     [--nested-memory SIZE] [--nested-cpus N] [--loop N] [--timeout SECONDS]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "bench"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib as gl  # noqa: E402
from kvm_test import extract_modules, fail, kernel_package  # noqa: E402

# The outer guest's vessel.run= script. NESTED is the nested vessel's command line.
OUTER_SCRIPT = """#!/bin/sh
insmod /kvm/irqbypass.ko
insmod /kvm/kvm.ko
if [ ! -c /dev/kvm ]; then echo "kvm-nested: no /dev/kvm"; exit 1; fi
echo "kvm-nested: starting the nested guest"
{nested}
echo "kvm-nested: nested vessel exited with status $?"
"""
# The nested guest's vessel.run= script: how many harts it brought up, and with --loop the
# loop's time from /proc/uptime. The guest's init powers off after it.
NESTED_SCRIPT = """#!/bin/sh
echo "kvm-nested-guest: $(grep -c ^processor /proc/cpuinfo) harts online"
"""
LOOP_SCRIPT = """read t0 rest < /proc/uptime
i=0
while [ $i -lt {rounds} ]; do i=$((i + 1)); done
read t1 rest < /proc/uptime
echo "kvm-nested-loop: {rounds} rounds from $t0 to $t1"
"""
STARTED = "kvm-nested: starting the nested guest"


def guest_vessel(path):
    """The static riscv64 vessel: the one given, or scripts/riscv64-build.sh's."""
    if path:
        return path
    built = subprocess.run([os.path.join(REPO, "scripts", "riscv64-build.sh")],
                           stdout=subprocess.PIPE, text=True)
    if built.returncode != 0:
        fail("scripts/riscv64-build.sh failed (see above)")
    return built.stdout.strip().splitlines()[-1]


def nested_stats(text):
    """The nested vessel's --stats object (printed on the outer console), or None."""
    for line in text.splitlines():
        line = line.strip()
        start = line.find('{"')
        if start >= 0 and '"kvm_exits"' in line:
            try:
                return json.loads(line[start:])
            except json.JSONDecodeError:
                pass
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vessel", required=True)
    parser.add_argument("--guest-dir", required=True)
    parser.add_argument("--guest-vessel", help="static riscv64 vessel (default: build it)")
    parser.add_argument("--engine", choices=["jit", "interp"], default="jit")
    parser.add_argument("--nested-memory", default="128M")
    parser.add_argument("--nested-cpus", type=int, default=1)
    parser.add_argument("--loop", type=int, default=0)
    parser.add_argument("--timeout", type=int, default=900)
    args = parser.parse_args()

    deb, version = kernel_package(args.guest_dir)
    inner = guest_vessel(args.guest_vessel)
    with tempfile.TemporaryDirectory(prefix="kvm-nested-") as work:
        files = extract_modules(deb, version, work)
        check = os.path.join(work, "nested-check")
        with open(check, "w") as f:
            f.write(NESTED_SCRIPT + (LOOP_SCRIPT.format(rounds=args.loop) if args.loop else ""))
        append = "console=ttyS0 quiet vessel.run=/nested-check"
        nested_initrd = gl.extended_initrd(os.path.join(args.guest_dir, "initrd.cpio.gz"),
                                           os.path.join(work, "nested.cpio.gz"),
                                           [("/nested-check", check)])
        nested = (f"/kvm/vessel run --accel kvm --kernel /kvm/Image --initrd /kvm/nested.cpio.gz "
                  f"--memory {args.nested_memory} --cpus {args.nested_cpus} --append '{append}' --stats "
                  f"--timeout {args.timeout}")
        script = os.path.join(work, "kvm-nested")
        with open(script, "w") as f:
            f.write(OUTER_SCRIPT.format(nested=nested))
        files += [("/kvm/vessel", inner), ("/kvm/Image", os.path.join(args.guest_dir, "Image")),
                  ("/kvm/nested.cpio.gz", nested_initrd), ("/kvm-nested", script)]
        initrd = gl.extended_initrd(os.path.join(args.guest_dir, "initrd.cpio.gz"),
                                    os.path.join(work, "outer.cpio.gz"), files)
        argv = [args.vessel, "run", "--kernel", os.path.join(args.guest_dir, "Image"),
                "--initrd", initrd, "--append", "console=ttyS0 quiet vessel.run=/kvm-nested",
                "--memory", "1G", "--engine", args.engine, "--timeout", str(args.timeout),
                "--stats"]
        run = gl.run_guest(argv, args.timeout + 60, watch={
            "started": re.escape(STARTED),
            "nested_up": re.escape(STARTED) + r"[\s\S]*" + re.escape(gl.USERSPACE_UP)})
    out = run.out.replace("\r", "")
    where = f"{' '.join(argv)}\n--- console (tail) ---\n{run.tail(4000)}\n--- stderr ---\n{run.err[-2000:]}"
    if run.status != 0:
        fail(f"the outer vessel: {run.describe_failure()}\n{where}")
    if STARTED not in out:
        fail(f"the outer guest did not start the nested one\n{where}")
    nested_out = out[out.index(STARTED):]
    if "kvm-nested: nested vessel exited with status 0" not in nested_out:
        fail(f"the nested vessel did not end with status 0\n{where}")
    if gl.USERSPACE_UP not in nested_out:
        fail(f"the nested guest did not reach its userspace\n{where}")
    harts = f"kvm-nested-guest: {args.nested_cpus} harts online"
    if harts not in nested_out:
        fail(f"the nested guest did not say '{harts}'\n{where}")
    stats = nested_stats(nested_out)
    if stats is None or stats.get("engine") != "kvm" or not stats.get("kvm_exits"):
        fail(f"the nested vessel's --stats shows no run under KVM: {stats}\n{where}")
    nested_boot = run.seen["nested_up"] - run.seen["started"]
    print(f"outer boot to the nested start: {run.seen['started']:.1f} s; nested vessel start to "
          f"its userspace: {nested_boot:.1f} s; whole run {run.seconds:.1f} s")
    print(f"nested --stats: seconds {stats.get('seconds')}, exits {stats.get('kvm_exits')} "
          f"({stats.get('kvm_exits_per_second')}/s): {stats.get('kvm_exits_by_kind')}; "
          f"MMIO by device: {stats.get('kvm_mmio_exits_by_device')}")
    if args.loop:
        m = re.search(r"kvm-nested-loop: (\d+) rounds from ([\d.]+) to ([\d.]+)", nested_out)
        if not m:
            fail(f"the nested loop did not report\n{where}")
        print(f"nested loop: {m.group(1)} rounds in {float(m.group(3)) - float(m.group(2)):.2f} s")
    print(f"PASS Vessel --accel kvm booted Debian's kernel to userspace inside a Vessel guest "
          f"({args.engine})")


if __name__ == "__main__":
    main()
