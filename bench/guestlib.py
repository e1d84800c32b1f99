"""What bench/full-vs-para and bench/smp.py share: cross-building guest programs, adding files
to the Debian guest's initramfs, running an emulator to its end while watching its console,
and describing the host a figure was measured on.

Linux unpacks every cpio archive it finds one after another in the initramfs, a later file
replacing an earlier one, so the cached guests/cache/debian/initrd.cpio.gz is left as it is and
a small gzip'd cpio with the programs (and this worktree's guests/debian/init, which has the
vessel.run= hook) is appended to a copy of it.
"""

import argparse
import datetime
import gzip
import json
import os
import platform
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # keep bench/ and guests/ free of __pycache__
sys.path.insert(0, os.path.join(REPO, "guests", "debian"))
from guesttool import NewcWriter  # noqa: E402

GUEST_DIR = os.path.join(REPO, "guests", "cache", "debian")
GUEST_INIT = os.path.join(REPO, "guests", "debian", "init")
CROSS_CC = "riscv64-linux-gnu-gcc"
USERSPACE_UP = "vessel-guest: userspace up"

# Bare-metal guests (bench/guest/*.c, *.S): no C library, one PT_LOAD at LOAD_ADDR.
BARE_FLAGS = [
    "-march=rv64imac_zicsr", "-mabi=lp64", "-mcmodel=medany", "-O2", "-ffreestanding",
    "-fno-builtin", "-nostdlib", "-nostartfiles", "-static", "-fno-pic", "-no-pie",
    "-Wall", "-Wextra", "-Werror", "-Wl,--build-id=none", "-Wl,--no-warn-rwx-segments",
    "-T", os.path.join(REPO, "bench", "guest", "link.ld"),
]


class BenchError(Exception):
    """A problem that stops the benchmark, said in one line."""


def cross_compile(sources, out, flags):
    if not shutil.which(CROSS_CC):
        raise BenchError(f"{CROSS_CC} not found (scripts/deps.sh installs gcc-riscv64-linux-gnu)")
    argv = [CROSS_CC, *flags, *sources, "-o", out]
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        raise BenchError(f"building {os.path.basename(out)} failed:\n{done.stdout.strip()}")
    return out


def build_bare(source, out, load_addr):
    return cross_compile([source], out, BARE_FLAGS + [f"-Wl,--defsym=LOAD_ADDR={load_addr:#x}"])


def build_static(source, out):
    """A static riscv64 Linux program for the guest's userspace (glibc from
    libc6-dev-riscv64-cross)."""
    return cross_compile([source], out, ["-static", "-O2", "-Wall", "-Wextra", "-Werror"])


def extended_initrd(base, out, files):
    """Writes base + a gzip'd newc cpio holding this tree's /init and `files`, a list of
    (guest path, host file) pairs; directories on the way are created."""
    if not os.path.isfile(base):
        raise BenchError(f"{base} is missing (run guests/debian/build.sh)")
    entries = [("init", GUEST_INIT)] + [(path.lstrip("/"), host) for path, host in files]
    with open(out, "wb") as f:
        with open(base, "rb") as src:
            shutil.copyfileobj(src, f)
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as gz:
            writer = NewcWriter(gz)
            made = set()
            for path, host in entries:
                parts = path.split("/")[:-1]
                for i in range(1, len(parts) + 1):
                    directory = "/".join(parts[:i])
                    if directory not in made:
                        writer.entry(directory, stat.S_IFDIR | 0o755)
                        made.add(directory)
                with open(host, "rb") as data:
                    writer.entry(path, stat.S_IFREG | 0o755, data.read())
            writer.trailer()
    return out


class GuestRun:
    """How one emulator run ended: exit status, console text, stderr, seconds to the end and
    to the first sight of each watched pattern, and the emulator's peak RSS and CPU time."""

    def __init__(self, argv):
        self.argv = argv
        self.status = None
        self.out = ""
        self.err = ""
        self.seconds = None
        self.seen = {}
        self.timed_out = False
        self.max_rss_kib = None
        self.cpu_seconds = None  # user + system, all of the emulator's threads
        self.others_cpus = None  # host CPUs the rest of the host kept busy meanwhile, on average

    def tail(self, chars=400):
        text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", self.out[-chars:]).replace("\r", "")
        return "".join(c if c.isprintable() or c in "\n\t" else "?" for c in text)

    def describe_failure(self):
        if self.timed_out:
            return f"still running after the time limit; console tail: {self.tail()!r}"
        # The last line that is not --stats' JSON: vessel's one-line reason, if it gave one.
        err = [line for line in self.err.strip().splitlines() if not line.startswith("{")]
        last = err[-1] if err else ""
        return f"exit status {self.status}{': ' + last if last else ''}"


# A watched pattern is looked for in what arrived since the last look and this much before it,
# so that one split across two reads is still found.
WATCH_OVERLAP = 4096


def run_guest(argv, timeout, watch=None):
    """Runs argv to its end (or kills its process group after `timeout` seconds), recording when
    each regex in `watch` ({name: pattern}) first matches the console output."""
    watch = {name: re.compile(p.encode() if isinstance(p, str) else p)
             for name, p in (watch or {}).items()}
    run = GuestRun(argv)
    busy_before = host_busy_seconds()
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    out, err = bytearray(), bytearray()

    def read_out():
        while chunk := os.read(proc.stdout.fileno(), 65536):
            window = bytes(out[-WATCH_OVERLAP:]) + chunk
            out.extend(chunk)
            for name, regex in watch.items():
                if name not in run.seen and regex.search(window):
                    run.seen[name] = time.monotonic() - start

    def read_err():
        while chunk := os.read(proc.stderr.fileno(), 65536):
            err.extend(chunk)

    def reap():
        # wait4 gives this child's own rusage, unlike RUSAGE_CHILDREN.
        _, status, rusage = os.wait4(proc.pid, 0)
        run.status = os.waitstatus_to_exitcode(status)
        run.max_rss_kib = rusage.ru_maxrss
        run.cpu_seconds = rusage.ru_utime + rusage.ru_stime
        run.seconds = time.monotonic() - start

    threads = [threading.Thread(target=f, daemon=True) for f in (read_out, read_err, reap)]
    for thread in threads:
        thread.start()
    threads[2].join(timeout)
    if threads[2].is_alive():
        run.timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)
        threads[2].join()
    proc.returncode = run.status
    # /proc/stat counts in 10 ms ticks: too coarse for a run shorter than a second.
    if run.cpu_seconds is not None and run.seconds >= 1.0:
        others = host_busy_seconds() - busy_before - run.cpu_seconds
        run.others_cpus = round(min(max(0.0, others) / run.seconds, os.cpu_count()), 2)
    for reader in threads[:2]:
        reader.join(5)
    proc.stdin.close()
    run.out = out.decode(errors="replace")
    run.err = err.decode(errors="replace")
    return run


def time_to_marks(argv, marks, timeout):
    """Seconds from start to the first console match of each regex in `marks` ({name: bytes
    pattern}), looked for in order, each after where the one before it matched; the emulator
    is killed at the last one. Raises BenchError if it does not come within `timeout`."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    pending = [(name, re.compile(p)) for name, p in marks.items()]
    seen, out, at = {}, bytearray(), 0

    def read():
        nonlocal at
        while pending and (chunk := os.read(proc.stdout.fileno(), 65536)):
            out.extend(chunk)
            while pending and (match := pending[0][1].search(out, at)):
                seen[pending.pop(0)[0]] = round(time.monotonic() - start, 2)
                at = match.end()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdin.close()
    if pending:
        tail = out[-400:].decode(errors="replace")
        raise BenchError(f"no {pending[0][0]} within {timeout:g} s (exit status {proc.returncode}); "
                         f"console tail: {tail!r}")
    return seen


def boot_bench_parser(doc, timeout):
    """The options every boot benchmark takes."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=timeout, help="seconds per run")
    parser.add_argument("--vessel", default=os.path.join(REPO, "build", "vessel"))
    parser.add_argument("--qemu", default="qemu-system-riscv64")
    parser.add_argument("--guest-dir", default=GUEST_DIR)
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    return parser


def repeat_runs(emulators, runs, measure, show, before_run=None):
    """Measures each emulator ({name: (binary, argv)}) `runs` times with measure(argv), saying
    each run's progress and show(result) on stderr. Returns {name: {"runs": [...], "command":
    argv}}, or {"error": ..., "runs": [those before it]} when a run raised BenchError or the
    binary is not installed."""
    results = {}
    for name, (binary, argv) in emulators.items():
        if not shutil.which(binary):
            results[name] = {"error": f"{binary} not found"}
            continue
        done = []
        for i in range(runs):
            if before_run:
                before_run()
            print(f"  {name} run {i + 1}/{runs} ...", end="", flush=True, file=sys.stderr)
            try:
                done.append(measure(argv))
            except BenchError as error:
                print(" failed", file=sys.stderr)
                results[name] = {"error": str(error), "runs": done}
                break
            print(f" {show(done[-1])}", file=sys.stderr)
        else:
            results[name] = {"runs": done, "command": argv}
    return results


def write_report(path, runs, host, results):
    """The JSON file of a benchmark's --json: when, how many runs, the host, the results."""
    report = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "runs": runs, "host": host, "results": results}
    with open(path, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")


def vessel_stats(stderr):
    """The JSON object vessel --stats prints on stderr at exit, or None."""
    for line in reversed(stderr.splitlines()):
        line = line.strip()
        if line.startswith("{") and "instructions" in line:
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                pass
    return None


def options(pairs):
    """[flag, value, ...] for the (flag, value) pairs whose value is given."""
    return [item for flag, value in pairs if value for item in (flag, value)]


def vessel_argv(vessel, firmware, kernel, *, initrd=None, append=None, memory="512M", cpus=1,
                features=None, timeout=600, stats=True, engine=None):
    argv = [vessel, "run", "--firmware", firmware, "--memory", memory, "--cpus", str(cpus),
            "--timeout", str(int(timeout))]
    if engine:
        argv += ["--engine", engine]
    argv += options([("--kernel", kernel), ("--initrd", initrd), ("--append", append)])
    if features:
        argv.append(f"--cpu-features={features}")
    if stats:
        argv.append("--stats")
    return argv


def qemu_argv(qemu, bios, kernel, *, initrd=None, append=None, memory="512M", smp=1):
    # thread=multi: one host thread per vCPU (MTTCG), as vessel runs one per hart.
    argv = [qemu, "-M", "virt", "-m", memory, "-smp", str(smp), "-accel", "tcg,thread=multi",
            "-nographic", "-bios", bios]
    return argv + options([("-kernel", kernel), ("-initrd", initrd), ("-append", append)])


def vessel_smp_works(vessel):
    """Whether this vessel accepts --cpus 2 (SMP landed); checked without booting anything."""
    probe = subprocess.run([vessel, "run", "--cpus", "2", "--firmware", "none", "--kernel",
                            "/nonexistent"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    # Refused, it names the option; accepted, the missing kernel is the complaint.
    return "--cpus 2" not in probe.stdout and "/nonexistent" in probe.stdout


def vessel_engine_works(vessel):
    """Whether this vessel accepts --engine (the translator landed); checked without booting."""
    probe = subprocess.run([vessel, "run", "--engine", "interp", "--firmware", "none", "--kernel",
                            "/nonexistent"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    # Refused, CLI11 names the option ("arguments were not expected: interp --engine");
    # accepted, the missing kernel is the complaint.
    return "--engine" not in probe.stdout and "/nonexistent" in probe.stdout


def host_info(vessel=None, qemu=None):
    """The host a figure was measured on, and what else was keeping its CPUs busy."""
    info = {"machine": platform.machine(), "kernel": platform.release(),
            "cpus": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    info["busy_processes"] = busy_processes()
    try:
        info["vessel_commit"] = subprocess.run(
            ["git", "-C", REPO, "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    if qemu and shutil.which(qemu):
        version = subprocess.run([qemu, "--version"], stdout=subprocess.PIPE, text=True).stdout
        info["qemu"] = version.splitlines()[0] if version else "unknown"
    if vessel:
        info["vessel"] = vessel
    return info


def host_busy_seconds():
    """CPU seconds the whole host has spent busy since boot (/proc/stat: all but idle and
    iowait), for telling how much of a run's time other work took."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def host_load_after(info):
    """Adds the load and the busy processes at the end of a run to host_info()'s answer."""
    info["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    info["busy_processes_end"] = busy_processes()
    return info


def busy_processes(min_percent=20.0):
    """Other processes using a noticeable share of a CPU right now (ps's %CPU is an average over
    each process's life, so this samples /proc twice, half a second apart)."""
    def ticks():
        out = {}
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    stat_line = f.read()
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().decode(errors="replace").split("\0")
                cwd = os.readlink(f"/proc/{pid}/cwd")
            except OSError:
                continue
            # The program's name, the start of its arguments and where it runs (which worktree).
            cmd = f"{os.path.basename(argv[0])} {' '.join(argv[1:]).strip()[:50]} [in {cwd}]"
            fields = stat_line[stat_line.rindex(")") + 2:].split()
            out[pid] = (int(fields[11]) + int(fields[12]), cmd)
        return out

    hz = os.sysconf("SC_CLK_TCK")
    first = ticks()
    time.sleep(0.5)
    second = ticks()
    busy = {}  # the same command in several processes (a parallel build) counts once
    for pid, (t, cmd) in second.items():
        if pid in first and int(pid) != os.getpid():
            percent = (t - first[pid][0]) * 100.0 / hz / 0.5
            if percent >= min_percent:
                count, total = busy.get(cmd, (0, 0.0))
                busy[cmd] = (count + 1, total + percent)
    return [f"{cmd} ({f'{n} processes, ' if n > 1 else ''}{total:.0f}% of a CPU)"
            for cmd, (n, total) in busy.items()]
