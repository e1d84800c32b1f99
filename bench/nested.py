#!/usr/bin/env python3
"""Nested virtualization on Vessel's H extension: a guest inside the Vessel guest, run by three
engines there: Debian's own qemu-system-riscv64 with KVM (hardware-assisted, on Vessel's emulated
H) and with TCG (QEMU's binary translator, running on Vessel's), and Vessel's own KVM backend
(the static riscv64 vessel with --accel kvm), beside the same programs in the Vessel guest.

The Vessel guest is the full Debian system (guests/debian/build.sh --full: it has
qemu-system-riscv). A second disk carries the nested guest's kernel (the same Debian Image),
its initrd (the busybox one with bench/cpu's cpubench added), the riscv64 vessel
(scripts/riscv64-build.sh, or --guest-vessel) and nested-run.sh, which starts the engine and
samples KVM's exit counters (debugfs, /sys/kernel/debug/kvm) every second while it runs.
Figures per engine (--accels: kvm and tcg are qemu's, vessel is Vessel's --accel kvm):
  boot      seconds from starting the engine to the nested guest's "userspace up" line
  cpu       cpubench's CPU-bound benchmarks (crc, matrix, state): ns per op
  syscall   cpubench's getppid loop: ns per system call
  exits     KVM's exits per second over the whole nested run, and of which kind (KVM only);
            for vessel also the exits KVM handed to it in user space (its --stats), by kind
The same cpubench runs in the Vessel guest too (the "guest" column) for reference.

  bench/nested.py [--vessel PATH] [--guest-dir DIR] [--guest-vessel PATH] [--seconds S]
                  [--accels kvm,vessel,tcg] [--firmware jump|builtin] [--markdown FILE]
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import cpu as cpubench_build  # noqa: E402
import guestlib as gl  # noqa: E402
from boot_test import Failure  # noqa: E402
from full_test import SHELL, FullGuest  # noqa: E402
from kvm_nested_test import guest_vessel, nested_stats  # noqa: E402

CPU_BENCHES = ("crc", "matrix", "state")
USERSPACE_UP = "vessel-guest: userspace up"
RESULT = re.compile(r"vessel-cpu-bench: name=(\w+) op=\w+ ops=(\d+) units=\d+ ns=(\d+)")
# Each to its line's end: a match on the part of a line that has come in so far would cut it.
STATS = re.compile(r"nested-kvm-stats: seconds=([\d.]+)((?: \w+=\d+)*)\r*\n")
CAUSES = re.compile(r"nested-kvm-causes: lost=(\d+)((?: 0x[0-9a-f]+=\d+)*)\r*\n")
VIRTUAL_INSNS = re.compile(r"nested-kvm-virtual-insns:((?: 0x[0-9a-f]+=\d+)*)\r*\n")
# The traps that left the nested guest (scause), as the privileged manual names them.
INTERRUPT = 1 << 63
CAUSE_NAMES = {
    INTERRUPT | 1: "IPI (supervisor software interrupt)", INTERRUPT | 5: "timer interrupt",
    INTERRUPT | 9: "external interrupt", INTERRUPT | 12: "guest external interrupt",
    INTERRUPT | 13: "counter overflow", 2: "illegal instruction", 8: "ecall from VU",
    10: "ecall from VS (SBI call)", 20: "instruction guest-page fault",
    21: "load guest-page fault", 22: "virtual instruction", 23: "store guest-page fault",
}

# Runs one nested guest (ACCEL: kvm or tcg under qemu, vessel for Vessel's --accel kvm, whose
# --stats line comes out at its end) with the kernel command line's extra words after it; while
# it runs, KVM's counters over every VM (debugfs) are sampled each second, and the last sample
# is printed when it ends (a VM's counters go with it).
NESTED_RUN = r"""#!/bin/sh
accel=$1
shift
kvm=/sys/kernel/debug/kvm
# KVM's kvm_exit tracepoint gives each exit's scause, which the debugfs counters mostly leave
# unnamed (interrupts, guest-page faults, SBI calls KVM answers itself).
tr=/sys/kernel/debug/tracing
ev=$tr/events/kvm/kvm_exit
if [ -d "$ev" ]; then
	echo 0 >"$tr/tracing_on"
	echo 16384 >"$tr/buffer_size_kb"
	echo >"$tr/trace"
	echo 1 >"$ev/enable"
	echo 1 >"$tr/tracing_on"
fi
start=$(cut -d' ' -f1 /proc/uptime)
if [ "$accel" = vessel ]; then
	/mnt/vessel run --accel kvm --memory 256M --cpus 1 --kernel /mnt/Image \
		--initrd /mnt/initrd-bench.cpio.gz --append "console=ttyS0 quiet $*" --stats </dev/null &
else
	cpu=rv64
	[ "$accel" = kvm ] && cpu=host
	qemu-system-riscv64 -M virt -accel "$accel" -cpu "$cpu" -m 256M -smp 1 -nographic \
		-monitor none -kernel /mnt/Image -initrd /mnt/initrd-bench.cpio.gz \
		-append "console=ttyS0 quiet $*" </dev/null &
fi
pid=$!
last=""
while kill -0 "$pid" 2>/dev/null; do
	if [ -d "$kvm" ]; then
		sample=""
		for f in "$kvm"/*; do
			[ -f "$f" ] && sample="$sample $(basename "$f")=$(cat "$f" 2>/dev/null)"
		done
		# The VM's counters leave with it, before qemu exits: keep the last sample taken
		# while the VM was there (one with exits counted).
		case "$sample" in *" exits=0 "* | *" exits=0") ;; *) last=$sample ;; esac
	fi
	sleep 1
done
wait "$pid"
now=$(cut -d' ' -f1 /proc/uptime)
echo "nested-kvm-stats: seconds=$(echo "$now $start" | awk '{print $1 - $2}')$last"
if [ -d "$ev" ]; then
	echo 0 >"$tr/tracing_on"
	echo 0 >"$ev/enable"
	lost=$(cat "$tr"/per_cpu/cpu*/stats | awk '/^overrun/ {n += $2} END {print n + 0}')
	causes=$(sed -n 's/.*SCAUSE:\(0x[0-9a-f]*\).*/\1/p' "$tr/trace" | sort | uniq -c |
		awk '{printf " %s=%s", $2, $1}')
	echo "nested-kvm-causes: lost=$lost$causes"
	# A virtual-instruction exit's stval is the instruction: the commonest ones.
	insns=$(sed -n 's/.*SCAUSE:0x16, STVAL:\(0x[0-9a-f]*\).*/\1/p' "$tr/trace" | sort |
		uniq -c | sort -rn | head -4 | awk '{printf " %s=%s", $2, $1}')
	echo "nested-kvm-virtual-insns:$insns"
	echo >"$tr/trace"
else
	echo "nested-kvm-causes: lost=0"
fi
"""


def make_disk(guest, work, inner_vessel):
    """The nested guest's files on an ext4 image: Image, the bench initrd, nested-run.sh and,
    when given, the riscv64 vessel."""
    files = os.path.join(work, "nested")
    os.mkdir(files)
    cpubench = cpubench_build.build(work, cross=True)
    gl.extended_initrd(os.path.join(guest, "initrd.cpio.gz"),
                       os.path.join(files, "initrd-bench.cpio.gz"), [("/cpubench", cpubench)])
    shutil.copyfile(os.path.join(guest, "Image"), os.path.join(files, "Image"))
    shutil.copyfile(cpubench, os.path.join(files, "cpubench"))
    if inner_vessel:
        shutil.copyfile(inner_vessel, os.path.join(files, "vessel"))
        os.chmod(os.path.join(files, "vessel"), 0o755)
    with open(os.path.join(files, "nested-run.sh"), "w") as f:
        f.write(NESTED_RUN)
    os.chmod(os.path.join(files, "nested-run.sh"), 0o755)
    os.chmod(os.path.join(files, "cpubench"), 0o755)
    image = os.path.join(work, "nested.ext4")
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", files, image, "256M"], check=True,
                   stdout=subprocess.DEVNULL)
    return image


def parse_results(text):
    """{benchmark: ns per op} from cpubench's lines."""
    return {m.group(1): int(m.group(3)) / int(m.group(2)) for m in RESULT.finditer(text)}


def run_nested(g, accel, seconds, timeout):
    benches = ",".join((f"{seconds:g}",) + CPU_BENCHES + ("syscall",))
    start = g.console.pos
    started = time.monotonic()
    g.console.send(f"sudo /mnt/nested-run.sh {accel} vessel.run=/cpubench,{benches}")
    g.console.expect(re.escape(USERSPACE_UP), timeout, f"the nested guest's userspace ({accel})")
    boot = time.monotonic() - started
    stats = g.console.expect(STATS, timeout, f"the nested run's end ({accel})")
    text = g.console.text[start:stats.start()]
    counters = dict((k, int(v)) for k, v in (kv.split("=") for kv in stats.group(2).split()))
    traced = g.console.expect(CAUSES, 120, f"the nested run's exit causes ({accel})")
    causes = {"lost": int(traced.group(1))}
    causes.update((int(k, 16), int(v)) for k, v in
                  (kv.split("=") for kv in traced.group(2).split()))
    virtual = g.console.expect(VIRTUAL_INSNS, 120,
                               f"the nested run's virtual instructions ({accel})")
    # The script's end: a command sent before the prompt would go to its sudo, not the shell.
    g.console.expect(SHELL, 120, f"the shell after the nested run ({accel})")
    ns = parse_results(text)
    if not ns:
        # Nothing measured: what the nested guest printed says why.
        print(f"nested {accel}: no cpubench figures; its console:\n{text[-3000:]}", flush=True)
    run = {"boot": boot, "ns": ns, "run_seconds": float(stats.group(1)), "kvm": counters,
           "causes": causes, "virtual_insns": virtual.group(1).split()}
    if accel == "vessel":
        run["vessel"] = nested_stats(re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text))
    return run


def exits_summary(run):
    """Exits per second and the kinds that made them, from KVM's counters."""
    counters, seconds = run["kvm"], run["run_seconds"]
    total = counters.get("exits", 0)
    if total == 0 or seconds <= 0:
        return "-"
    kinds = {k: v for k, v in counters.items()
             if v > 0 and k != "exits" and (k.endswith("_exits") or "exit_" in k)}
    top = sorted(kinds.items(), key=lambda kv: -kv[1])[:5]
    parts = ", ".join(f"{k} {v / seconds:,.0f}/s" for k, v in top)
    return f"{total / seconds:,.0f}/s ({parts})"


def causes_summary(run):
    """Exits per second by scause (KVM's kvm_exit tracepoint), the commonest first."""
    causes, seconds = dict(run["causes"]), run["run_seconds"]
    lost = causes.pop("lost", 0)
    if not causes or seconds <= 0:
        return "-"
    total = sum(causes.values())
    top = sorted(causes.items(), key=lambda kv: -kv[1])[:6]
    parts = ", ".join(f"{CAUSE_NAMES.get(c, hex(c))} {n / seconds:,.0f}/s" for c, n in top)
    return f"{total / seconds:,.0f}/s: {parts}" + (f" ({lost} lost)" if lost else "")


def user_exits_summary(run):
    """The exits KVM handed to the nested vessel (its --stats), per second and by kind."""
    stats = run.get("vessel")
    if not stats or not stats.get("seconds"):
        return "-"
    seconds = float(stats["seconds"])
    kinds = sorted(((k, v) for k, v in stats.get("kvm_exits_by_kind", {}).items() if v),
                   key=lambda kv: -kv[1])
    devices = sorted(((k, v) for k, v in stats.get("kvm_mmio_exits_by_device", {}).items() if v),
                     key=lambda kv: -kv[1])[:4]
    parts = ", ".join(f"{k} {v:,}" for k, v in kinds)
    where = ", ".join(f"{k} {v:,}" for k, v in devices)
    return (f"{stats['kvm_exits']:,} in {seconds:.1f} s, {stats['kvm_exits'] / seconds:,.0f}/s "
            f"({parts}; MMIO: {where})")


def engine_name(accel):
    return "vessel --accel kvm" if accel == "vessel" else f"qemu -accel {accel}"


def table(guest_ns, runs):
    cols = ["Vessel guest (Vessel JIT)"] + [f"nested, {engine_name(a)} in the guest" for a in runs]
    rows = ["| | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    rows.append("| boot to userspace, s | - | " +
                " | ".join(f"{r['boot']:.1f}" for r in runs.values()) + " |")
    for name in CPU_BENCHES + ("syscall",):
        cells = [guest_ns.get(name)] + [r["ns"].get(name) for r in runs.values()]
        rows.append(f"| {name}, ns/op | " +
                    " | ".join("-" if c is None else f"{c:,.1f}" for c in cells) + " |")
    rows.append("| KVM exits | - | " + " | ".join(exits_summary(r) for r in runs.values()) + " |")
    rows.append("| KVM exits by scause | - | " +
                " | ".join(causes_summary(r) for r in runs.values()) + " |")
    if "vessel" in runs:
        rows.append("| exits to user space (vessel --stats) | - | " +
                    " | ".join(user_exits_summary(r) if a == "vessel" else "-"
                               for a, r in runs.items()) + " |")
    return "\n".join(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vessel", default=os.path.join(gl.REPO, "build", "vessel"))
    ap.add_argument("--guest-dir", default=os.path.join(gl.REPO, "guests", "cache", "debian"))
    ap.add_argument("--seconds", type=float, default=2.0, help="per cpubench benchmark")
    ap.add_argument("--accels", default="kvm,vessel,tcg",
                    help="kvm and tcg: qemu's; vessel: Vessel's --accel kvm")
    ap.add_argument("--guest-vessel", help="the static riscv64 vessel (default: "
                    "scripts/riscv64-build.sh builds it)")
    # OpenSBI by default (the full system as it boots on hardware). Either firmware gives Linux
    # on Vessel the SBI PMU extension (src/sbi/pmu.cpp for the builtin SBI), which KVM passes on
    # to the nested guest (the harts having Sscofpmf), whose PMU driver then lets its user mode
    # read `time` (scounteren.TM): without it the nested vDSO's clock_gettime would be an
    # illegal instruction.
    ap.add_argument("--firmware", choices=["builtin", "jump"], default="jump")
    ap.add_argument("--timeout", type=float, default=1800.0, help="per nested run")
    ap.add_argument("--markdown", metavar="FILE", help="also write the table here")
    args = ap.parse_args()
    accels = args.accels.split(",")
    for accel in accels:
        if accel not in ("kvm", "tcg", "vessel"):
            print(f"nested.py: --accels: unknown engine '{accel}' (kvm, tcg, vessel)",
                  file=sys.stderr)
            return 2
    inner = guest_vessel(args.guest_vessel) if "vessel" in accels else None
    with tempfile.TemporaryDirectory(prefix="vessel-nested-") as work:
        disk = make_disk(args.guest_dir, work, inner)
        fg_args = argparse.Namespace(vessel=args.vessel, guest_dir=args.guest_dir,
                                     firmware=args.firmware, qemu=None, boot_timeout=900.0,
                                     case=[])
        g = FullGuest(fg_args, work, extra_disks=[disk])
        try:
            g.login()
            g.check("sudo mount -o ro /dev/vdb /mnt && sudo modprobe kvm && "
                    "sudo mount -t debugfs none /sys/kernel/debug", "kvm.ko, debugfs, the disk")
            benches = " ".join((f"{args.seconds:g}",) + CPU_BENCHES + ("syscall",))
            out = g.check(f"/mnt/cpubench {benches}", "cpubench in the Vessel guest",
                          timeout=args.timeout)
            guest_ns = parse_results(out)
            runs = {}
            for accel in accels:
                runs[accel] = run_nested(g, accel, args.seconds, args.timeout)
                print(f"nested {accel}: boot {runs[accel]['boot']:.1f} s, {runs[accel]['ns']}, "
                      f"exits {exits_summary(runs[accel])}; by scause "
                      f"{causes_summary(runs[accel])}; virtual instructions "
                      f"{runs[accel]['virtual_insns']}", flush=True)
                if accel == "vessel":
                    print(f"nested vessel --stats: {user_exits_summary(runs[accel])}", flush=True)
        except Failure as e:
            print(f"nested.py: {e}", file=sys.stderr)
            g.close()
            return 1
        text = table(guest_ns, runs)
        print(text, flush=True)
        if args.markdown:
            with open(args.markdown, "w") as f:
                f.write(text + "\n")
        try:
            g.poweroff()
        except Failure as e:
            # The figures are in; a loaded host can make systemd's shutdown outlast the step.
            print(f"nested.py: after the measurements: {e}", file=sys.stderr)
        finally:
            g.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except gl.BenchError as e:
        print(f"nested.py: {e}", file=sys.stderr)
        sys.exit(2)
