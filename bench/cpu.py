#!/usr/bin/env python3
"""CPU benchmark set: Vessel's jit and interpreter beside QEMU TCG and native, in one run.

bench/cpu/ is a set of small self-checking C programs (one static binary, cpubench, and noop
for fork/exec; docs/cpu-bench.md says what each measures): integer code (list, matrix, state,
crc), floating point (nbody, dgemm), branch-heavy code (sort), memory-bound loops (stream,
chase), a system-call loop (syscall) and fork/exec/wait (forkexec). Each benchmark runs for a
fixed wall time (--seconds) after one warm-up unit and reports time per op from the guest's
clock_gettime, so a slow engine just does fewer units; every unit returns a checksum that must
match the warm-up's, and the checksums must agree across every column (native, the x86-64
build of the same source, is the reference), which catches a miscompiled or misexecuted guest.

Columns, each round running every one of them in turn (--runs rounds, median per figure):
  jit      vessel run --engine jit      Debian guest (guests/cache/debian, 512M, OpenSBI
  interp   vessel run --engine interp   fw_jump), cpubench started by init's vessel.run= hook
  qemu     qemu-system-riscv64 -M virt, the same kernel, initrd and fw_jump (MTTCG, 1 vCPU)
  native   the same programs built with gcc -O2 for this host, run directly
A vessel without --engine (the translator has not landed) is said so in one line; its one
engine is then the interp column, run without the flag, and the jit column is left out.

Figures are speeds relative to the jit (other's time / jit's time: above 1 the jit is faster);
the targets: the geometric mean of the CPU-bound benchmarks (list, matrix, state, crc, nbody,
dgemm, sort) at 1.5x QEMU or better and at least 0.2x native, and syscall no slower than QEMU.
Also reported from the jit's --stats "jit" object: translation time per boot (a separate boot
to userspace with vessel.bench=1) and over the whole benchmark run, host code bytes per guest
instruction, and the code cache's use.

  bench/cpu.py [--runs 3] [--seconds 1.0] [--quick] [--only list,crc,...] [--engines jit,interp]
               [--no-qemu] [--no-native] [--json FILE]
"""

import argparse
import datetime
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guestlib as gl  # noqa: E402

SOURCES = os.path.join(gl.REPO, "bench", "cpu")
# Every benchmark cpubench knows, in its order, by kind: the targets are the CPU-bound ones'.
KINDS = {"list": "cpu", "matrix": "cpu", "state": "cpu", "crc": "cpu", "nbody": "cpu",
         "dgemm": "cpu", "sort": "cpu", "stream": "memory", "chase": "memory",
         "syscall": "system", "forkexec": "system"}
KIND_NAMES = {"cpu": "CPU-bound", "memory": "memory-bound", "system": "system"}
# -ffp-contract=off: no fused multiply-adds (riscv64 has them, baseline x86-64 does not), and
# -fno-math-errno: sqrt is one instruction; both keep the floating-point checksums identical.
CFLAGS = ["-O2", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off", "-fno-math-errno"]
RESULT_LINE = re.compile(r"vessel-cpu-bench: name=(\w+) op=(\w+) ops=(\d+) units=(\d+) ns=(\d+) "
                         r"checksum=(0x[0-9a-f]+) end")
ERROR_LINE = re.compile(r"vessel-cpu-bench: name=(\w+) error=(.*?) end")
FATAL_LINE = re.compile(r"vessel-cpu-bench: fatal: ([^\r\n]*)")
DONE_LINE = "vessel-cpu-bench: done"
COLUMNS = ("jit", "interp", "qemu", "native")
TARGET_QEMU = 1.5      # CPU-bound geomean, jit over QEMU
TARGET_NATIVE = 0.20   # CPU-bound geomean, jit over native
TARGET_SYSCALL = 1.0   # syscall, jit over QEMU
# Keys a translator's "jit" statistics might count the guest instructions it translated under.
TRANSLATED_KEYS = ("guest_instructions", "instructions_translated", "translated_instructions",
                   "insns_translated", "instructions")


def log(text, end="\n"):
    print(text, end=end, file=sys.stderr, flush=True)


def build(out_dir, cross):
    """cpubench and noop for the guest (cross) or this host; returns cpubench's path."""
    sources = sorted(os.path.join(SOURCES, f) for f in os.listdir(SOURCES)
                     if f.endswith(".c") and f != "noop.c")
    cpubench, noop = os.path.join(out_dir, "cpubench"), os.path.join(out_dir, "noop")
    if cross:
        gl.cross_compile(sources, cpubench, ["-static", *CFLAGS, "-lm"])
        gl.cross_compile([os.path.join(SOURCES, "noop.c")], noop, ["-static", *CFLAGS])
        return cpubench
    cc = os.environ.get("CC", "gcc")
    if not shutil.which(cc):
        raise gl.BenchError(f"{cc} not found: no native column (or --no-native)")
    for path, srcs, libs in ((cpubench, sources, ["-lm"]),
                             (noop, [os.path.join(SOURCES, "noop.c")], [])):
        # Static like the guest's (and so noop's exec costs alike); dynamic without libc.a.
        for link in (["-static"], []):
            done = subprocess.run([cc, *link, *CFLAGS, *srcs, *libs, "-o", path],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if done.returncode == 0:
                break
        else:
            raise gl.BenchError(f"building native {os.path.basename(path)} failed:\n"
                                f"{done.stdout.strip()}")
    return cpubench


def parse(out):
    """{name: figures} from cpubench's lines, and the problems seen (per name, or '' overall)."""
    figures, problems = {}, {}
    for m in RESULT_LINE.finditer(out):
        ops, ns = int(m.group(3)), int(m.group(5))
        figures[m.group(1)] = {"op": m.group(2), "ops": ops, "units": int(m.group(4)), "ns": ns,
                               "ns_per_op": ns / ops, "checksum": m.group(6)}
    for m in ERROR_LINE.finditer(out):
        problems[m.group(1)] = m.group(2)
    fatal = FATAL_LINE.search(out)
    if fatal:
        problems[""] = f"cpubench: {fatal.group(1)}"
    elif DONE_LINE not in out:
        problems[""] = "cpubench did not finish"
    return figures, problems


class Column:
    """One way of running cpubench, and what its runs measured."""

    def __init__(self, name, argv, label):
        self.name = name
        self.argv = argv
        self.label = label
        self.runs = []          # {bench: figures} per run
        self.stats = []         # vessel --stats per run
        self.boot_stats = []    # vessel --stats of a boot to userspace (the jit's translation)
        self.others_cpus = []
        self.seconds = []
        self.errors = []

    def median(self, bench, key="ns_per_op"):
        values = [run[bench][key] for run in self.runs if bench in run]
        return statistics.median(values) if values else None

    def checksums(self, bench):
        return {run[bench]["checksum"] for run in self.runs if bench in run}


def run_column(column, timeout, round_no, rounds):
    log(f"  {column.name:<7} run {round_no}/{rounds} ...", end="")
    run = gl.run_guest(column.argv, timeout)
    figures, problems = parse(run.out)
    if run.status != 0 or "" in problems:
        why = problems.get("") or run.describe_failure()
        column.errors.append(f"run {round_no}: {why}; console tail {run.tail()!r}"
                             if column.name != "native" else f"run {round_no}: {why}")
        log(" failed")
    else:
        log(f" {run.seconds:.1f} s (other work on the host: {run.others_cpus} CPUs)")
    for name, why in problems.items():
        if name:
            column.errors.append(f"run {round_no}: {name}: {why}")
    column.runs.append(figures)
    column.others_cpus.append(run.others_cpus)
    column.seconds.append(round(run.seconds, 2))
    stats = gl.vessel_stats(run.err) if column.name in ("jit", "interp") else None
    if stats:
        column.stats.append(stats)


def boot_stats(argv, timeout):
    """--stats of a boot to userspace and straight off again (vessel.bench=1)."""
    run = gl.run_guest(argv, timeout, {"up": re.escape(gl.USERSPACE_UP)})
    if run.status != 0 or "up" not in run.seen:
        raise gl.BenchError(f"jit boot: {run.describe_failure()}")
    return gl.vessel_stats(run.err)


def speed(other, subject):
    """How much faster subject is than other (time per op, both); None if either is missing."""
    return other / subject if other and subject else None


def geomean(values):
    values = [v for v in values if v]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None


def per_op(ns, op):
    """A time per op for the table, in a unit that suits it; MiB moved as a rate."""
    if ns is None:
        return "-"
    if op == "MiB":
        return f"{1e9 / ns:,.0f} MiB/s"
    for scale, unit in ((1e6, "ms"), (1e3, "us"), (1, "ns")):
        if ns >= scale or unit == "ns":
            value = ns / scale
            return f"{value:,.{0 if value >= 100 else 1 if value >= 10 else 2}f} {unit}/{op}"
    return "-"


def fmt_ratio(value):
    if not value:
        return "-"
    return f"{value:.2f}x" if value >= 0.1 else f"{value:.3f}x"


def jit_figures(stats, boot):
    """What the jit's statistics say: translation time per boot and over the benchmark run,
    host bytes per guest instruction, the code cache's use."""
    out = {}
    for key, src in (("boot", boot), ("bench", stats)):
        jit = (src or {}).get("jit")
        if not jit:
            continue
        entry = {k: jit[k] for k in ("translate_ms", "code_bytes", "blocks_translated",
                                     "cache_used", "cache_bytes", "cache_flushes",
                                     "chained_exits", "unchained_exits", "helper_calls")
                 if k in jit}
        if "translate_ms" not in entry and "translate_ns" in jit:
            entry["translate_ms"] = jit["translate_ns"] / 1e6
        translated = next((jit[k] for k in TRANSLATED_KEYS if jit.get(k)), None)
        if translated and jit.get("code_bytes"):
            entry["host_bytes_per_guest_instruction"] = round(jit["code_bytes"] / translated, 1)
        if jit.get("blocks_translated") and jit.get("code_bytes"):
            entry["host_bytes_per_block"] = round(jit["code_bytes"] / jit["blocks_translated"], 1)
        entry["guest_instructions_retired"] = src.get("instructions")
        out[key] = entry
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds of every column; medians")
    parser.add_argument("--seconds", type=float, default=1.0,
                        help="wall time each benchmark runs for, after its warm-up unit")
    parser.add_argument("--quick", action="store_true", help="one round of 0.5 s per benchmark")
    parser.add_argument("--only", metavar="NAMES", help="a comma list of benchmarks: "
                        + ",".join(KINDS))
    parser.add_argument("--engines", default="jit,interp",
                        help="vessel's engines to run, a comma list of jit and interp")
    parser.add_argument("--memory", default="512M")
    parser.add_argument("--timeout", type=float,
                        help="seconds per guest run (default: 180 + 30 per benchmark)")
    parser.add_argument("--vessel", default=os.path.join(gl.REPO, "build", "vessel"))
    parser.add_argument("--qemu", default="qemu-system-riscv64")
    parser.add_argument("--no-qemu", action="store_true")
    parser.add_argument("--no-native", action="store_true")
    parser.add_argument("--guest-dir", default=gl.GUEST_DIR)
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.seconds = 1, 0.5
    if args.runs < 1:
        parser.error("--runs: must be at least 1")
    if not 0 < args.seconds <= 60:
        parser.error("--seconds: must be above 0 and at most 60")
    names = [n for n in (args.only or "").split(",") if n] or list(KINDS)
    for name in names:
        if name not in KINDS:
            parser.error(f"--only: no benchmark named {name!r} (known: {','.join(KINDS)})")
    if args.timeout is None:
        args.timeout = 180.0 + 30.0 * len(names)
    engines = [e for e in args.engines.split(",") if e]
    for engine in engines:
        if engine not in ("jit", "interp"):
            parser.error(f"--engines: {engine!r} is neither jit nor interp")
    try:
        return bench(args, names, engines)
    except gl.BenchError as error:
        sys.exit(f"cpu.py: {error}")


def bench(args, names, engines):
    kernel = os.path.join(args.guest_dir, "Image")
    fw_jump = os.path.join(args.guest_dir, "fw_jump.bin")
    base_initrd = os.path.join(args.guest_dir, "initrd.cpio.gz")
    for path in (kernel, fw_jump, base_initrd):
        if not os.path.isfile(path):
            raise gl.BenchError(f"{path} is missing (run guests/debian/build.sh)")
    if engines and not os.access(args.vessel, os.X_OK):
        raise gl.BenchError(f"{args.vessel}: no vessel binary there (build it, or --vessel)")
    has_engine = bool(engines) and gl.vessel_engine_works(args.vessel)
    if engines and not has_engine:
        log(f"cpu.py: {args.vessel} has no --engine option (unknown option: the translator has "
            "not landed there), so its one engine runs as the interp column, without the flag, "
            "and there is no jit column")
        engines = ["interp"]
    host = gl.host_info(args.vessel if engines else None, None if args.no_qemu else args.qemu)
    selection = names if names != list(KINDS) else []
    run_args = [f"{args.seconds:g}", *selection]
    append = "console=ttyS0 vessel.run=" + ",".join(["/bench/cpu/cpubench", *run_args])

    columns = {}
    with tempfile.TemporaryDirectory(prefix="cpu-bench-") as work:
        guest_dir = os.path.join(work, "riscv64")
        os.mkdir(guest_dir)
        guest_bin = build(guest_dir, cross=True)
        initrd = gl.extended_initrd(base_initrd, os.path.join(work, "initrd-cpu.cpio.gz"), [
            ("/bench/cpu/cpubench", guest_bin),
            ("/bench/cpu/noop", os.path.join(guest_dir, "noop"))])
        for engine in ("jit", "interp"):
            if engine in engines:
                columns[engine] = Column(engine, gl.vessel_argv(
                    args.vessel, fw_jump, kernel, initrd=initrd, append=append,
                    memory=args.memory, timeout=args.timeout,
                    engine=engine if has_engine else None),
                    f"vessel --engine {engine}" if has_engine else "vessel (no --engine)")
        if not args.no_qemu:
            if shutil.which(args.qemu):
                columns["qemu"] = Column("qemu", gl.qemu_argv(
                    args.qemu, fw_jump, kernel, initrd=initrd, append=append,
                    memory=args.memory), "QEMU TCG")
            else:
                log(f"cpu.py: {args.qemu} not found: no qemu column")
        if not args.no_native:
            native_dir = os.path.join(work, "native")
            os.mkdir(native_dir)
            try:
                native_bin = build(native_dir, cross=False)
                columns["native"] = Column("native", [native_bin, *run_args],
                                           f"native ({os.uname().machine}, gcc -O2)")
            except gl.BenchError as error:
                log(f"cpu.py: {error}")
        if not columns:
            raise gl.BenchError("nothing to run: no engine, no QEMU and no native build")

        log(f"{len(names)} benchmark(s), {args.seconds:g} s each, {args.runs} round(s) of: "
            f"{', '.join(c.label for c in columns.values())}")
        for round_no in range(1, args.runs + 1):
            for column in columns.values():
                run_column(column, args.timeout, round_no, args.runs)
            if "jit" in columns:
                log(f"  jit boot run {round_no}/{args.runs} (translation per boot) ...", end="")
                try:
                    stats = boot_stats(gl.vessel_argv(
                        args.vessel, fw_jump, kernel, initrd=base_initrd,
                        append="console=ttyS0 vessel.bench=1", memory=args.memory,
                        timeout=args.timeout, engine="jit"), args.timeout)
                    columns["jit"].boot_stats.append(stats)
                    jit = (stats or {}).get("jit") or {}
                    log(f" {jit.get('translate_ms', '-')} ms translating"
                        if jit else " no jit statistics")
                except gl.BenchError as error:
                    columns["jit"].errors.append(str(error))
                    log(" failed")

    report = summarize(args, names, columns, host)
    print_report(args, names, columns, report, host)
    if args.json:
        now = datetime.datetime.now(datetime.timezone.utc)
        out = {"date": now.isoformat(timespec="seconds"), "host": host, "runs": args.runs,
               "seconds": args.seconds, "memory": args.memory, "benchmarks": names,
               "kinds": {n: KINDS[n] for n in names},
               "targets": {"cpu_geomean_over_qemu": TARGET_QEMU,
                           "cpu_geomean_over_native": TARGET_NATIVE,
                           "syscall_over_qemu": TARGET_SYSCALL},
               "columns": {name: {"label": c.label, "command": c.argv, "runs": c.runs,
                                  "seconds": c.seconds, "others_cpus": c.others_cpus,
                                  "stats": c.stats, "boot_stats": c.boot_stats,
                                  "errors": c.errors} for name, c in columns.items()},
               **report}
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
            f.write("\n")
    failed = any(c.errors for c in columns.values()) or report["mismatches"]
    return 1 if failed else 0


def compared(columns, subject):
    """The columns the subject is compared with, in the table's order."""
    return [c for c in ("qemu", "native", "interp", "jit") if c in columns and c != subject]


def summarize(args, names, columns, host):
    # Speeds are the subject's: the jit's, or without one the interpreter's.
    subject = "jit" if "jit" in columns else "interp" if "interp" in columns else None
    medians = {b: {c: columns[c].median(b) for c in columns} for b in names}
    ratios = {}
    for b in names:
        s = medians[b].get(subject) if subject else None
        ratios[b] = {f"over_{c}": speed(medians[b].get(c), s) for c in compared(columns, subject)}
    geomeans = {}
    for kind in ("cpu", "memory", "system"):
        members = [b for b in names if KINDS[b] == kind]
        if members:
            geomeans[kind] = {key: geomean([ratios[b].get(key) for b in members])
                              for key in (f"over_{c}" for c in compared(columns, subject))}
    # The checksums: every column's every run must give native's (or the first one seen).
    mismatches = []
    for b in names:
        seen = {c: columns[c].checksums(b) for c in columns}
        reference = next(iter(seen.get("native") or ()), None) or next(
            (next(iter(v)) for v in seen.values() if v), None)
        for c, sums in seen.items():
            if sums - {reference}:
                mismatches.append(f"{b}: {c} gave {', '.join(sorted(sums))}, "
                                  f"{'native' if seen.get('native') else 'the first'} "
                                  f"{reference}")
    jit = jit_figures(columns["jit"].stats[-1] if "jit" in columns and columns["jit"].stats
                      else None,
                      columns["jit"].boot_stats[-1] if "jit" in columns and
                      columns["jit"].boot_stats else None)
    if "jit" in columns and columns["jit"].boot_stats:
        times = [s["jit"]["translate_ms"] for s in columns["jit"].boot_stats
                 if s and "translate_ms" in s.get("jit", {})]
        if times and "boot" in jit:
            jit["boot"]["median_translate_ms"] = statistics.median(times)
    gl.host_load_after(host)
    return {"subject": subject, "medians_ns_per_op": medians, "speed": ratios,
            "geomeans": geomeans, "mismatches": mismatches, "jit": jit}


def print_report(args, names, columns, report, host):
    subject = report["subject"]
    others = compared(columns, subject)
    print(f"\nCPU benchmark set (bench/cpu), Debian guest, {args.memory}, {args.seconds:g} s per "
          f"benchmark, median of {args.runs} round(s); time per op (stream: MiB/s)")
    for name, c in columns.items():
        print(f"  {name:<7} {c.label}")
    heads = [f"{subject}/{c}" for c in others] if subject else []
    widths = {c: 16 for c in columns}
    print(f"{'benchmark':<10} " + " ".join(f"{c:>{widths[c]}}" for c in columns) + "  "
          + " ".join(f"{h:>13}" for h in heads) + "  checksum")
    for kind in ("cpu", "memory", "system"):
        members = [b for b in names if KINDS[b] == kind]
        for b in members:
            op = next((r[b]["op"] for c in columns.values() for r in c.runs if b in r), "op")
            cells = [per_op(report["medians_ns_per_op"][b][c], op) for c in columns]
            speeds = [fmt_ratio(report["speed"][b].get(f"over_{c}")) for c in others]
            bad = any(m.startswith(f"{b}:") for m in report["mismatches"])
            seen = any(c.checksums(b) for c in columns.values())
            print(f"{b:<10} " + " ".join(f"{v:>{widths[c]}}" for v, c in zip(cells, columns))
                  + "  " + " ".join(f"{s:>13}" for s in speeds)
                  + f"  {'MISMATCH' if bad else 'ok' if seen else '-'}")
        if members and subject and others:
            g = report["geomeans"][kind]
            print(f"{'  geomean':<10} " + " ".join(f"{'':>{widths[c]}}" for c in columns) + "  "
                  + " ".join(f"{fmt_ratio(g.get(f'over_{c}')):>13}" for c in others)
                  + f"  ({KIND_NAMES[kind]})")
    print(f"(ratios are speeds, the other's time over the {subject}'s: above 1 the {subject} "
          "is faster)" if subject else "(no vessel column: no ratios)")

    if subject:
        whose = "" if subject == "jit" else " (the targets are the jit's; here the interpreter's)"
        cpu = report["geomeans"].get("cpu", {})
        lines = [("CPU-bound geomean vs QEMU", cpu.get("over_qemu"), TARGET_QEMU),
                 ("CPU-bound geomean vs native", cpu.get("over_native"), TARGET_NATIVE),
                 ("syscall vs QEMU", report["speed"].get("syscall", {}).get("over_qemu"),
                  TARGET_SYSCALL)]
        for what, value, target in lines:
            if value:
                print(f"{subject} {what}: {fmt_ratio(value)}, "
                      f"{'meets' if value >= target else 'misses'}"
                      f" the {target:g}x target{whose}")

    jit = report["jit"]
    if "jit" in columns:
        if not jit:
            print("jit statistics: this vessel's --stats has no \"jit\" object")
        for key, what in (("boot", "a boot to userspace"), ("bench", "the benchmark run")):
            e = jit.get(key)
            if not e:
                continue
            per_insn = e.get("host_bytes_per_guest_instruction")
            print(f"jit over {what}: {e.get('median_translate_ms', e.get('translate_ms', '-'))} "
                  f"ms translating, {e.get('blocks_translated', '-')} blocks, "
                  f"{e.get('code_bytes', 0) / 1024:,.0f} KiB of host code ("
                  + (f"{per_insn} bytes per guest instruction, " if per_insn else
                     "bytes per guest instruction: no count of translated instructions, ")
                  + f"{e.get('host_bytes_per_block', '-')} per block), code cache "
                  f"{e.get('cache_used', 0) / 1024:,.0f} KiB used of "
                  f"{e.get('cache_bytes', 0) / 1048576:,.0f} MiB, "
                  f"{e.get('cache_flushes', 0)} refill(s)")
    for name in ("jit", "interp"):
        c = columns.get(name)
        if c and c.stats:
            mips = statistics.median(s.get("mips", 0) for s in c.stats)
            rss = statistics.median(s.get("max_rss_kib", 0) for s in c.stats)
            print(f"{name} whole run (boot included): {mips:,.0f} MIPS, max RSS "
                  f"{rss / 1024:,.0f} MiB")

    for m in report["mismatches"]:
        print(f"checksum mismatch: {m}")
    for name, c in columns.items():
        for error in c.errors:
            print(f"{name}: {error}")
    others_cpus = [x for c in columns.values() for x in c.others_cpus if x is not None]
    print("other work on the host during the runs: "
          + (f"{statistics.mean(others_cpus):.2f} CPUs on average, {max(others_cpus):.2f} at most"
             if others_cpus else "not measured")
          + f"; load average at the start {host['load_average']}, at the end "
          f"{host['load_average_end']}; busy at the end: "
          f"{', '.join(host['busy_processes_end']) or 'nothing else'}")


if __name__ == "__main__":
    sys.exit(main())
