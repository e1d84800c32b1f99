#!/usr/bin/env python3
"""cli_test: the vessel binary as a script or a person meets it.

  cli_test.py --vessel BUILD/vessel --guest-dir BUILD/tests/cli/guests
              [--debian-dir guests/cache/debian] [-k SUBSTRING] [--part all|basic|hostile]

Three groups of cases, each run as a child process with stdin from /dev/null unless said:
  bad input   exit status 2, stderr exactly one line "vessel: ..." naming the file or option
              and the problem, nothing on stdout, and the --dump-dtb target never created;
  --dump-dtb  the blob passes dtc, and fdtget finds the ISA, the RAM size, bootargs and the
              initrd range that the command line asked for;
  guests      bare-metal ELFs from guests/*.S run with --firmware none and a --timeout, so
              that nothing can hang the test: trap loop, random code, MMIO to nothing, a spin
              loop stopped by --timeout, fail codes through the SiFive test device and HTIF,
              HTIF console output, stdin that is not a terminal;
  hostile     guests that attack the code cache and the translator, on each engine (--engine
              jit and interp) with --stats: fresh random code before every entry, code that
              rewrites itself, more blocks than --jit-cache 1M holds, jumps to where no code
              is, trap loops through a device or the boot ROM, PMP boundaries inside a page,
              and random valid code whose checksum must not depend on the engine.
Standard library only, plus dtc/fdtget (device-tree-compiler). Exit status 0 when every case
passes (a case in KNOWN_BUGS must still fail, as described there); each failure is printed
with the command line and what the child printed.
"""

import argparse
import json
import os
import platform
import re
import shlex
import socket
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

GUEST_TIMEOUT = 20  # --timeout given to every guest run
CHILD_TIMEOUT = 40  # our own limit on any child, in case --timeout itself is broken
ISA_RE = re.compile(r"^rv64imafdch?(_z[a-z0-9]+)*(_s[a-z0-9]+)*$")


# Whether this host (and so the vessel built on it) can run the translator: --engine jit.
JIT_HOST = platform.machine() in ("x86_64", "AMD64")
# What makes an engine translate every block before its first run (the default waits until a
# block is hot, so code that runs once would only meet the interpreter).
JIT_AT_ONCE = {"jit": ["--jit-threshold", "1"], "interp": []}

# Cases that state the right behaviour but fail today, with what is wrong. They still run: a
# failure is reported as a known bug, and a pass fails the run until the entry goes.
KNOWN_BUGS = {}

# The firmware Debian's opensbi package installs (scripts/deps.sh installs it).
HOST_FW_DYNAMIC = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"


class Run:
    def __init__(self, argv, status, out, err, seconds):
        self.argv, self.status, self.out, self.err, self.seconds = argv, status, out, err, seconds

    def describe(self):
        return (f"  $ {shlex.join(self.argv)}\n  status {self.status} after {self.seconds:.2f} s\n"
                f"  stdout: {self.out[:400]!r}\n  stderr: {self.err[:400]!r}")


class Tester:
    def __init__(self, args, tmp):
        self.vessel = args.vessel
        self.guests = args.guest_dir
        self.debian = args.debian_dir
        self.only = args.k
        self.tmp = tmp
        self.failures = []
        self.passed = 0
        self.known = []  # known bugs that still fail as described (KNOWN_BUGS)
        self.counter = 0

    # ---- plumbing ----

    def run(self, argv, stdin=subprocess.DEVNULL, input_bytes=None):
        full = [self.vessel] + argv
        t0 = time.monotonic()
        try:
            p = subprocess.run(full, stdin=stdin if input_bytes is None else None,
                               input=input_bytes, capture_output=True, timeout=CHILD_TIMEOUT)
            status = p.returncode
            out, err = p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            status, out, err = "hung", e.stdout or b"", e.stderr or b""
        seconds = time.monotonic() - t0
        return Run(full, status, out.decode(errors="replace"), err.decode(errors="replace"), seconds)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def file(self, name, data):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def guest(self, name):
        return os.path.join(self.guests, name + ".elf")

    def case(self, name, fn, known_bug=None):
        """known_bug: a case that states the right behaviour but is known to fail (a key of
        KNOWN_BUGS): failing, it is reported as a known bug and does not fail the run; passing,
        it fails the run, so that the mark is removed with the fix."""
        if self.only and self.only not in name:
            return
        problems = []
        started = time.monotonic()
        try:
            fn(problems)
        except Exception as e:  # a broken case is a failure, not a crash of the whole test
            problems.append(f"  exception: {type(e).__name__}: {e}")
        fatal = any(p.startswith("  fatal:") for p in problems)
        if known_bug is not None and not fatal:  # a known bug never excuses a crash or a hang
            if problems:
                self.known.append(name)
                print(f"KNOWN BUG {name}: {KNOWN_BUGS[known_bug]}\n" + "\n".join(problems),
                      flush=True)
            else:
                self.failures.append(name)
                print(f"FAIL {name}: passes now; remove {known_bug!r} from KNOWN_BUGS", flush=True)
            return
        if problems:
            self.failures.append(name)
            print(f"FAIL {name}\n" + "\n".join(problems), flush=True)
        else:
            self.passed += 1
            print(f"PASS {name} ({time.monotonic() - started:.1f} s)", flush=True)

    @staticmethod
    def one_line_error(r, needles, problems):
        """stderr is exactly one line, "vessel: ...", containing every needle."""
        lines = r.err.split("\n")
        if len(lines) != 2 or lines[1] != "" or not lines[0].startswith("vessel: ") or "\r" in r.err:
            problems.append("  stderr is not exactly one line starting with 'vessel: '\n" + r.describe())
            return
        for n in needles:
            if n.lower() not in lines[0].lower():
                problems.append(f"  stderr does not mention {n!r}\n" + r.describe())

    # ---- bad input ----

    def bad(self, name, argv, needles, status=2, dump=True):
        """A case that must be refused. With dump, --dump-dtb comes first in argv, so that the
        test can see that a refused command line writes nothing."""
        def check(problems):
            self.counter += 1
            dtb = self.path(f"bad{self.counter}.dtb")
            r = self.run(["run"] + (["--dump-dtb", dtb] if dump else []) + argv)
            if r.status != status:
                problems.append(f"  status {r.status}, want {status}\n" + r.describe())
            self.one_line_error(r, needles, problems)
            if r.out:
                problems.append("  something on stdout\n" + r.describe())
            for leftover in (dtb, dtb + ".tmp"):
                if os.path.exists(leftover):
                    problems.append(f"  {leftover} was written\n" + r.describe())
        self.case("bad: " + name, check)

    def bad_input_cases(self):
        none = ["--firmware", "none"]
        spin = self.guest("spin")
        missing = self.path("no-such-kernel")
        self.bad("missing kernel", none + ["--kernel", missing], [missing, "no such file"])
        a_dir = self.path("a-directory")
        os.mkdir(a_dir)
        self.bad("kernel is a directory", none + ["--kernel", a_dir], [a_dir, "not a regular file"])
        if os.geteuid() != 0:  # root reads anything: the directory case stands in for it
            locked = self.file("locked", b"\0" * 64)
            os.chmod(locked, 0)
            self.bad("unreadable kernel", none + ["--kernel", locked], [locked, "permission denied"])
        empty = self.file("empty", b"")
        self.bad("empty kernel", ["--kernel", empty], [empty, "empty"])
        # --accel kvm on this (x86-64) host: no /dev/kvm, or one that runs no RISC-V guests.
        kvm_problem = "does not run RISC-V guests" if os.path.exists("/dev/kvm") else "cannot open /dev/kvm"
        self.bad("--accel kvm on a host without RISC-V KVM", ["--accel", "kvm", "--kernel", spin],
                 ["--accel kvm", kvm_problem])
        self.bad("unknown --accel", ["--accel", "hvf", "--kernel", spin], ["--accel", "hvf"])
        self.bad("--accel kvm with --gdb", ["--accel", "kvm", "--gdb", "tcp:0", "--kernel", spin],
                 ["--gdb", "--accel kvm"])
        # An empty initrd is refused like any empty image: Linux would find no cpio archive,
        # and an empty file given on purpose is more likely a mistake than a request.
        self.bad("empty initrd", none + ["--kernel", spin, "--initrd", empty], [empty, "empty"])

        image = synthetic_image(file_size=0x10000)
        cut = self.file("cut-Image", image[:0x4000])
        self.bad("truncated Image (PE sections)", ["--kernel", cut], [cut, "truncated"])
        head = self.file("cut-header-Image", image[:0x3c])
        self.bad("truncated Image (header)", ["--kernel", head], [head, "truncated"])
        real = os.path.join(self.debian, "Image") if self.debian else ""
        if real and os.path.isfile(real):
            with open(real, "rb") as f:
                cut_real = self.file("cut-debian-Image", f.read(1 << 20))
            self.bad("truncated Debian Image", ["--kernel", cut_real], [cut_real, "truncated"])
        else:
            print(f"note: no Debian Image in {self.debian!r}: the truncated-Debian-Image case is skipped")

        self.bad("x86-64 ELF as kernel", none + ["--kernel", "/bin/true"],
                 ["/bin/true", "wrong machine"])
        missing_fw = self.path("no-such-firmware.bin")
        raw_kernel = self.file("raw-kernel.bin", bytes(range(256)) * 16)
        self.bad("missing firmware", ["--firmware", missing_fw, "--kernel", raw_kernel],
                 [missing_fw, "no such file"])

        for size, needle in (("1M", "too small"), ("12Q", "suffix"), ("0", "too small"),
                             ("99999999999999999999", "too large"), ("20000001", "multiple of 4K"),
                             ("1T", "at most"), ("", "empty")):
            self.bad(f"--memory {size!r}", none + ["--kernel", spin, "--memory", size],
                     ["--memory", needle])

        big = self.path("big-initrd")
        with open(big, "wb") as f:
            f.truncate(17 << 20)  # sparse: costs nothing
        self.bad("initrd larger than RAM",
                 none + ["--kernel", spin, "--memory", "16M", "--initrd", big],
                 ["memory 16M is too small", "initrd"])
        initrd = self.file("initrd-2M", b"\x5a" * (2 << 20))
        self.bad("initrd overlaps the kernel's .bss",
                 none + ["--kernel", self.guest("big_bss"), "--memory", "16M", "--initrd", initrd],
                 ["initrd", "overlaps", "kernel ELF"])
        self.bad("ELF kernel overlaps the firmware",
                 ["--firmware", HOST_FW_DYNAMIC, "--kernel", spin],
                 ["kernel ELF", "overlaps firmware"])
        self.bad("initrd without a kernel", ["--initrd", initrd], ["initrd", "kernel"])
        self.bad("nothing to run", none, ["nothing to run", "--kernel"])

        # Paravirtual devices: the same rule, and a failure never leaves an overlay behind.
        odd = self.path("odd.img")
        with open(odd, "wb") as f:
            f.truncate(1000)
        disk_a = self.path("a.img")
        disk_b = self.path("b.img")
        for path, size in ((disk_a, 1 << 20), (disk_b, 2 << 20)):
            with open(path, "wb") as f:
                f.truncate(size)
        missing_disk = self.path("no-such-disk.img")
        self.bad("missing disk", ["--kernel", raw_kernel, "--disk", missing_disk],
                 [missing_disk, "no such file"])
        self.bad("directory as disk", ["--kernel", raw_kernel, "--disk", self.tmp],
                 [self.tmp, "not a regular file"])
        self.bad("disk size not a multiple of 512", ["--kernel", raw_kernel, "--disk", odd],
                 [odd, "multiple of 512"])
        self.bad("unknown --disk key", ["--kernel", raw_kernel, "--disk", f"{disk_a},bogus"],
                 ["--disk", "bogus"])
        self.bad("malformed hostfwd", ["--kernel", raw_kernel, "--net", "user,hostfwd=tcp:bad"],
                 ["--net", "hostfwd", "tcp:bad"])
        self.bad("unknown --net backend", ["--kernel", raw_kernel, "--net", "frob"],
                 ["--net", "frob"])
        self.bad("--net restrict=maybe", ["--kernel", raw_kernel, "--net", "user,restrict=maybe"],
                 ["--net", "restrict 'maybe'", "on or off"])
        self.bad("--net loopback twice",
                 ["--kernel", raw_kernel, "--net", "user,loopback=off,loopback=on"],
                 ["--net", "loopback given twice"])
        self.bad("--net restrict on a tap", ["--kernel", raw_kernel, "--net", "tap=t0,restrict=on"],
                 ["--net", "unknown key 'restrict' for tap"])
        not_json = self.path("metadata-not.json")
        with open(not_json, "w") as f:
            f.write('{"a":')
        self.bad("--metadata not JSON", ["--kernel", raw_kernel, "--metadata", not_json, "--net",
                                         "user,mmds=on"], ["--metadata", not_json, "not valid JSON"])
        self.bad("--metadata missing", ["--kernel", raw_kernel, "--metadata", missing_disk, "--net",
                                        "user,mmds=on"], ["--metadata", missing_disk])
        self.bad("--metadata with no mmds=on net", ["--kernel", raw_kernel, "--metadata", not_json],
                 ["--metadata", "mmds=on"])
        self.bad("--virtio-console not unix:", ["--kernel", raw_kernel, "--virtio-console", "tcp:1"],
                 ["--virtio-console", "unix:PATH"])
        self.bad("--api-allow-dir without --api-sock",
                 ["--kernel", raw_kernel, "--api-allow-dir", self.tmp],
                 ["--api-allow-dir", "only with --api-sock"])
        self.bad("--api-allow-dir that is not there",
                 ["--api-sock", self.path("allow.sock"), "--api-allow-dir", missing_disk],
                 ["--api-allow-dir", missing_disk, "no such file"], dump=False)
        new_overlay = self.path("new.overlay")
        self.bad("a bad --net leaves no overlay behind",
                 ["--kernel", raw_kernel, "--disk", f"{disk_a},overlay={new_overlay}",
                  "--net", "user,hostfwd=tcp:x"], ["--net", "hostfwd"])

        def no_overlay_left(problems):
            if os.path.exists(new_overlay):
                problems.append(f"  {new_overlay} was created by a refused command line")
        self.case("bad: no overlay left behind", no_overlay_left)
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            self.bad("hostfwd port in use",
                     ["--kernel", raw_kernel, "--net", f"user,hostfwd=tcp:127.0.0.1:{port}-:80"],
                     [f"127.0.0.1:{port}", "port in use"])
            self.bad("--gdb port in use", ["--kernel", raw_kernel, "--gdb", f"tcp:{port}"],
                     ["--gdb", f"tcp:{port}", "in use"])
        self.bad("--gdb bogus", ["--kernel", raw_kernel, "--gdb", "bogus"],
                 ["--gdb bogus", "tcp:PORT or unix:PATH"])
        self.bad("--gdb port out of range", ["--kernel", raw_kernel, "--gdb", "tcp:70000"],
                 ["--gdb tcp:70000", "1 to 65535"])
        self.bad("--gdb unix: on a regular file",
                 ["--kernel", raw_kernel, "--gdb", "unix:" + self.file("not-a-gdb-socket", b"x")],
                 ["--gdb", "not a socket"])
        self.bad("--gdb-wait without --gdb", ["--kernel", raw_kernel, "--gdb-wait"],
                 ["--gdb-wait", "only with --gdb"])
        overlay = self.path("a.overlay")

        def make_overlay(problems):
            made = self.run(["run", "--kernel", raw_kernel, "--dump-dtb", self.path("made.dtb"),
                             "--disk", f"{disk_a},overlay={overlay}"])
            if made.status != 0 or not os.path.isfile(overlay):
                problems.append(f"  creating an overlay for {disk_a} failed\n" + made.describe())
        self.case("overlay created for a base", make_overlay)
        self.bad("overlay of another base",
                 ["--kernel", raw_kernel, "--disk", f"{disk_b},overlay={overlay}"],
                 [overlay, "another base"])

        self.bad("unknown cpu feature", ["--kernel", raw_kernel, "--cpu-features", "+avx"],
                 ["--cpu-features", "avx"])
        self.bad("cpu feature without a sign", ["--kernel", raw_kernel, "--cpu-features", "sstc"],
                 ["--cpu-features", "sstc"])
        self.bad("cpu feature not a name vessel knows",
                 ["--kernel", raw_kernel, "--cpu-features", "-zba,-zbc"],
                 ["--cpu-features", "zbc", "zicond"])

        self.engine_bad_cases(spin)

        self.bad("unknown option", ["--frobnicate"], ["--frobnicate"])
        self.bad("option without its value", none + ["--kernel"], ["--kernel"])
        self.bad("--cpus 0", none + ["--kernel", spin, "--cpus", "0"],
                 ["--cpus 0", "between 1 and 32"])
        self.bad("--cpus 33", none + ["--kernel", spin, "--cpus", "33"],
                 ["--cpus 33", "between 1 and 32"])
        self.bad("--smp 1000 (alias)", none + ["--kernel", spin, "--smp", "1000"],
                 ["--cpus 1000", "between 1 and 32"])
        self.bad("--cpus -1", none + ["--kernel", spin, "--cpus", "-1"], ["--cpus"])
        self.bad("--cpus 32 in 16M", none + ["--kernel", spin, "--cpus", "32", "--memory", "16M"],
                 ["--cpus 32", "at least 78M", "--memory"])
        self.bad("--cpus not a number", none + ["--kernel", spin, "--cpus", "two"], ["--cpus"])
        self.bad("--timeout -1", none + ["--kernel", spin, "--timeout", "-1"],
                 ["--timeout", "negative"])
        self.bad("--timeout not a number", none + ["--kernel", spin, "--timeout", "soon"],
                 ["--timeout"])

        def no_subcommand(problems):
            r = self.run([])
            if r.status != 2:
                problems.append(f"  status {r.status}, want 2\n" + r.describe())
            self.one_line_error(r, ["subcommand"], problems)
        self.case("bad: no subcommand", no_subcommand)

        def help_text(problems):
            r = self.run(["run", "--help"])
            if r.status != 0 or "--dump-dtb" not in r.out or r.err:
                problems.append("  run --help: want status 0 and usage on stdout\n" + r.describe())
            for option in ("--engine", "--jit-cache", "--jit-threshold"):
                if option not in r.out:
                    problems.append(f"  run --help does not document {option}\n" + r.describe())
        self.case("run --help", help_text)

    def engine_bad_cases(self, spin):
        none = ["--firmware", "none", "--kernel", spin]
        for value in ("bogus", "JIT", ""):
            self.bad(f"--engine {value!r}", none + ["--engine", value],
                     ["--engine", f"'{value}'", "jit or interp"])
        self.bad("--engine without its value", none + ["--engine"], ["--engine"])
        if not JIT_HOST:
            self.bad("--engine jit off x86-64", none + ["--engine", "jit"],
                     ["--engine", "jit", "x86-64 host"])
        for size, needle in (("1K", "between 1M and 2G"), ("1023K", "between 1M and 2G"),
                             ("0", "between 1M and 2G"), ("3G", "between 1M and 2G"),
                             ("2049M", "between 1M and 2G"), ("12Q", "suffix"), ("", "empty"),
                             ("lots", "does not start with a number")):
            self.bad(f"--jit-cache {size!r}", none + ["--jit-cache", size],
                     ["--jit-cache", needle])
        for runs in ("0", "256", "-1", "4x", "", "lots"):
            self.bad(f"--jit-threshold {runs!r}", none + ["--jit-threshold", runs],
                     ["--jit-threshold", f"'{runs}'", "from 1 to 255"])

    # ---- the console: --console-socket, --console-log, attach, logs ----

    def console_cases(self):
        kernel = self.file("console-kernel.bin", bytes(range(256)) * 16)
        run = ["--kernel", kernel]
        no_dir = self.path("no-such-dir")
        self.bad("--console-socket in a missing directory",
                 run + ["--console-socket", os.path.join(no_dir, "c.sock")],
                 ["--console-socket", no_dir, "no such file"])
        long_path = os.path.join(self.tmp, "s" * 120)
        self.bad("--console-socket too long for sun_path", run + ["--console-socket", long_path],
                 ["--console-socket", "too long", "at most 107"])
        regular = self.file("not-a-socket", b"keep me\n")
        self.bad("--console-socket on a regular file", run + ["--console-socket", regular],
                 ["--console-socket", regular, "not a socket"])
        self.bad("--console-socket empty", run + ["--console-socket", ""],
                 ["--console-socket", "empty"])
        log = self.path("c.log")
        for size, needle in (("abc", "does not start with a number"), ("1K", "between 4K and 1G"),
                             ("2G", "between 4K and 1G"), ("12Q", "suffix")):
            self.bad(f"--console-log size={size}", run + ["--console-log", f"{log},size={size}"],
                     ["--console-log", f"size={size}", needle])
        self.bad("--console-log unknown setting", run + ["--console-log", f"{log},frob=1"],
                 ["--console-log", "frob=1"])
        self.bad("--console-log in a missing directory",
                 run + ["--console-log", os.path.join(no_dir, "c.log")],
                 ["--console-log", no_dir, "no such file"])
        self.bad("--console-log on a directory", run + ["--console-log", self.tmp],
                 ["--console-log", self.tmp, "not a regular file"])

        # Someone else's file under PATH or PATH.1: refused before the guest prints a byte,
        # and left as it was (content and mode).
        theirs = b"not a console log\n" * 1000
        notes = self.file("notes.txt", theirs)
        ring = self.path("ring.log")
        older = self.file("ring.log.1", theirs)

        def refused(name, log, path):
            def check(problems):
                os.chmod(path, 0o644)
                r = self.guest_run("htif_hello", ["--console-log", f"{log},size=4K"])
                if r.status != 2:
                    problems.append(f"  status {r.status}, want 2\n" + r.describe())
                self.one_line_error(r, ["--console-log", path, "not a Vessel console log"],
                                    problems)
                with open(path, "rb") as f:
                    if f.read() != theirs:
                        problems.append(f"  {path} changed\n" + r.describe())
                if os.stat(path).st_mode & 0o777 != 0o644:
                    problems.append(f"  {path}: mode {os.stat(path).st_mode & 0o777:o}, was 644")
            self.case("bad: --console-log " + name, check)
        refused("on someone else's file", notes, notes)
        refused("whose PATH.1 is someone else's file", ring, older)

        sock = self.path("left.sock")
        self.bad("a bad --disk with a console socket and log", run + [
            "--console-socket", sock, "--console-log", log, "--disk", self.path("no-disk.img")],
            ["no-disk.img", "no such file"], dump=False)

        def nothing_left(problems):
            for path in (sock, log, log + ".1"):
                if os.path.exists(path):
                    problems.append(f"  {path} was left behind by a refused command line")
            with open(regular, "rb") as f:
                if f.read() != b"keep me\n":
                    problems.append(f"  {regular} changed")
        self.case("bad: console files not left behind", nothing_left)

        def attach_nothing(problems):
            r = self.run(["attach", self.path("nobody.sock")])
            if r.status != 2:
                problems.append(f"  status {r.status}, want 2\n" + r.describe())
            self.one_line_error(r, ["attach", "nobody.sock", "cannot connect"], problems)
        self.case("bad: attach to no socket", attach_nothing)

        def logs_nothing(problems):
            r = self.run(["logs", "--file", self.path("nothing.log")])
            if r.status != 2:
                problems.append(f"  status {r.status}, want 2\n" + r.describe())
            self.one_line_error(r, ["logs", "nothing.log", "no console log"], problems)
        self.case("bad: logs of no log", logs_nothing)

        def htif_to_log(problems):
            # The console's output goes to the log and the socket's viewers, never to stdout.
            csock, clog = self.path("h.sock"), self.path("h.log")
            r = self.guest_run("htif_hello", ["--console-socket", csock, "--console-log", clog])
            if r.status != 0 or r.out or r.err:
                problems.append("  want status 0 and nothing on stdout or stderr\n" + r.describe())
            if os.path.exists(csock):
                problems.append(f"  {csock} is still there after the run")
            printed = self.run(["logs", "--file", clog])
            if printed.status != 0 or printed.out != "hello\n":
                problems.append("  vessel logs: want the guest's hello\n" + printed.describe())
        self.case("guest: HTIF hello into --console-log, nothing on stdout", htif_to_log)

        def terminal_and_log(problems):
            # Without a socket the terminal keeps the console, and the log gets a copy.
            clog = self.path("t.log")
            r = self.guest_run("htif_hello", ["--console-log", f"{clog},size=4K"])
            if r.status != 0 or r.out != "hello\n" or r.err:
                problems.append("  want status 0 and hello on stdout\n" + r.describe())
            printed = self.run(["logs", "--file", clog])
            if printed.status != 0 or printed.out != "hello\n":
                problems.append("  vessel logs: want the guest's hello\n" + printed.describe())
        self.case("guest: HTIF hello on stdout and in --console-log", terminal_and_log)

    # ---- --dump-dtb ----

    def fdtget(self, dtb, node, prop, typ=None):
        argv = ["fdtget"] + (["-t", typ] if typ else []) + [dtb, node, prop]
        p = subprocess.run(argv, capture_output=True, text=True)
        return p.stdout.strip() if p.returncode == 0 else None

    def dump(self, name, argv, problems):
        dtb = self.path(name + ".dtb")
        r = self.run(["run", "--dump-dtb", dtb] + argv)
        if r.status != 0 or r.err or r.out:
            problems.append("  want status 0 and no output\n" + r.describe())
            return None
        if not os.path.isfile(dtb) or os.path.exists(dtb + ".tmp"):
            problems.append(f"  {dtb} missing, or its .tmp left behind\n" + r.describe())
            return None
        p = subprocess.run(["dtc", "-I", "dtb", "-O", "dts", "-o", os.devnull, dtb],
                           capture_output=True, text=True)
        if p.returncode != 0 or "ERROR" in p.stderr.upper():
            problems.append(f"  dtc rejects {dtb} (status {p.returncode}): {p.stderr.strip()}")
        return dtb

    def check_memory(self, dtb, size, problems):
        reg = self.fdtget(dtb, "/memory@80000000", "reg", "x")
        want = f"0 80000000 {size >> 32:x} {size & 0xffffffff:x}"
        if reg != want:
            problems.append(f"  /memory@80000000 reg is {reg!r}, want {want!r}")
        isa = self.fdtget(dtb, "/cpus/cpu@0", "riscv,isa")
        if isa is None or not ISA_RE.match(isa):
            problems.append(f"  /cpus/cpu@0 riscv,isa is {isa!r}")

    def dtb_cases(self):
        if not shutil.which("dtc") or not shutil.which("fdtget"):
            self.failures.append("dtb: dtc/fdtget not found (install device-tree-compiler)")
            print("FAIL dtb: dtc/fdtget not found (install device-tree-compiler)")
            return
        initrd_data = os.urandom(300001)  # odd length: initrd-end is exact, not rounded
        initrd = self.file("initrd.bin", initrd_data)
        kernel = self.file("kernel.bin", b"\x6f\x00\x00\x00" * 1024)  # raw: j .
        bootargs = "console=ttyS0 earlycon=sbi vessel.test=\"a b\""

        def full(problems):
            dtb = self.dump("full", ["--kernel", kernel, "--initrd", initrd, "--append", bootargs,
                                     "--memory", "256M"], problems)
            if dtb is None:
                return
            self.check_memory(dtb, 256 << 20, problems)
            got = self.fdtget(dtb, "/chosen", "bootargs")
            if got != bootargs:
                problems.append(f"  /chosen bootargs {got!r}, want {bootargs!r}")
            start = self.fdtget(dtb, "/chosen", "linux,initrd-start", "x")
            end = self.fdtget(dtb, "/chosen", "linux,initrd-end", "x")
            try:
                s = int("".join(f"{int(w, 16):08x}" for w in start.split()), 16)
                e = int("".join(f"{int(w, 16):08x}" for w in end.split()), 16)
            except (AttributeError, ValueError):
                problems.append(f"  /chosen initrd-start/end are {start!r}/{end!r}")
                return
            if e - s != len(initrd_data):
                problems.append(f"  initrd range {s:#x}-{e:#x} is not {len(initrd_data)} bytes")
            if not (0x80000000 + (2 << 20) + len(kernel) <= s and e <= 0x80000000 + (256 << 20)):
                problems.append(f"  initrd range {s:#x}-{e:#x} is not in RAM above the kernel")
        self.case("dtb: --kernel --initrd --append --memory 256M", full)

        def bare(problems):
            dtb = self.dump("bare", ["--firmware", "none", "--kernel", self.guest("spin"),
                                     "--memory", "5G"], problems)
            if dtb is None:
                return
            self.check_memory(dtb, 5 << 30, problems)
            for prop in ("bootargs", "linux,initrd-start", "linux,initrd-end"):
                if self.fdtget(dtb, "/chosen", prop) is not None:
                    problems.append(f"  /chosen has {prop} that nobody asked for")
        self.case("dtb: --firmware none, --memory 5G, no --append/--initrd", bare)

        def sstc_toggle(problems):
            on = self.dump("sstc-on", ["--kernel", kernel], problems)
            off = self.dump("sstc-off", ["--kernel", kernel, "--cpu-features", "-sstc"], problems)
            if on is None or off is None:
                return
            isa_on = self.fdtget(on, "/cpus/cpu@0", "riscv,isa") or ""
            isa_off = self.fdtget(off, "/cpus/cpu@0", "riscv,isa") or ""
            if "_sstc" not in isa_on or "sstc" in isa_off:
                problems.append(f"  riscv,isa with Sstc {isa_on!r}, without {isa_off!r}")
            ext_off = self.fdtget(off, "/cpus/cpu@0", "riscv,isa-extensions") or ""
            if "sstc" in ext_off.split():
                problems.append(f"  -sstc still lists sstc in riscv,isa-extensions: {ext_off!r}")
        self.case("dtb: --cpu-features -sstc drops Sstc from the device tree", sstc_toggle)

        def sdtrig_toggle(problems):
            # In riscv,isa-extensions only: riscv,isa stays what Linux 6.12 prints in cpuinfo.
            on = self.dump("sdtrig-on", ["--kernel", kernel], problems)
            off = self.dump("sdtrig-off", ["--kernel", kernel, "--cpu-features", "-sdtrig"],
                            problems)
            if on is None or off is None:
                return
            isa_on = self.fdtget(on, "/cpus/cpu@0", "riscv,isa") or ""
            isa_off = self.fdtget(off, "/cpus/cpu@0", "riscv,isa") or ""
            if "sdtrig" in isa_on or isa_on != isa_off:
                problems.append(f"  riscv,isa with Sdtrig {isa_on!r}, without {isa_off!r}")
            ext_on = (self.fdtget(on, "/cpus/cpu@0", "riscv,isa-extensions") or "").split()
            ext_off = (self.fdtget(off, "/cpus/cpu@0", "riscv,isa-extensions") or "").split()
            # Sdtrig is the first S extension, before Sscofpmf; nothing else goes with it.
            first_s = next((e for e in ext_on if e.startswith("s")), None)
            if first_s != "sdtrig" or ext_on[ext_on.index("sdtrig") + 1] != "sscofpmf" or \
                    [e for e in ext_on if e != "sdtrig"] != ext_off:
                problems.append(f"  -sdtrig: riscv,isa-extensions {ext_on!r} -> {ext_off!r}")
        self.case("dtb: --cpu-features -sdtrig drops Sdtrig from riscv,isa-extensions",
                  sdtrig_toggle)

        def sscofpmf_toggle(problems):
            # In both properties, between Sdtrig and Sstc (Linux's order), and the riscv,pmu
            # node that tells OpenSBI which counters count what stays (it is Zihpm's).
            on = self.dump("sscofpmf-on", ["--kernel", kernel], problems)
            off = self.dump("sscofpmf-off", ["--kernel", kernel, "--cpu-features", "-sscofpmf"],
                            problems)
            if on is None or off is None:
                return
            isa_on = self.fdtget(on, "/cpus/cpu@0", "riscv,isa") or ""
            isa_off = self.fdtget(off, "/cpus/cpu@0", "riscv,isa") or ""
            if "_sscofpmf_sstc" not in isa_on or "sscofpmf" in isa_off:
                problems.append(f"  riscv,isa with Sscofpmf {isa_on!r}, without {isa_off!r}")
            ext_on = (self.fdtget(on, "/cpus/cpu@0", "riscv,isa-extensions") or "").split()
            ext_off = (self.fdtget(off, "/cpus/cpu@0", "riscv,isa-extensions") or "").split()
            if "sscofpmf" not in ext_on or [e for e in ext_on if e != "sscofpmf"] != ext_off:
                problems.append(f"  -sscofpmf: riscv,isa-extensions {ext_on!r} -> {ext_off!r}")
            pmu = self.fdtget(on, "/pmu", "riscv,event-to-mhpmcounters")
            if pmu is None or pmu.split()[:3] != ["1", "1", "2041"]:
                problems.append(f"  /pmu riscv,event-to-mhpmcounters: {pmu!r}")
        self.case("dtb: --cpu-features -sscofpmf drops Sscofpmf from the device tree",
                  sscofpmf_toggle)

        def bitmanip_toggle(problems):
            # All on by default, in Linux's order; each one off drops only itself.
            on = self.dump("zb-on", ["--kernel", kernel], problems)
            off = self.dump("zb-off", ["--kernel", kernel, "--cpu-features", "-zbb,-zicond"],
                            problems)
            if on is None or off is None:
                return
            isa_on = self.fdtget(on, "/cpus/cpu@0", "riscv,isa") or ""
            want = ("rv64imafdch_zicbom_zicbop_zicboz_zicntr_zicond_zicsr_zifencei_zihintntl"
                    "_zihintpause_zihpm_zacas_zfhmin_zca_zcb_zcd_zba_zbb_zbs_zkt_sscofpmf_sstc"
                    "_svinval_svnapot_svpbmt")
            if isa_on != want:
                problems.append(f"  riscv,isa is {isa_on!r}, want {want!r}")
            isa_off = self.fdtget(off, "/cpus/cpu@0", "riscv,isa") or ""
            if isa_off != want.replace("_zicond", "").replace("_zbb", ""):
                problems.append(f"  -zbb,-zicond: riscv,isa is {isa_off!r}")
            ext_on = (self.fdtget(on, "/cpus/cpu@0", "riscv,isa-extensions") or "").split()
            ext_off = (self.fdtget(off, "/cpus/cpu@0", "riscv,isa-extensions") or "").split()
            if not {"zba", "zbb", "zbs", "zicond"} <= set(ext_on):
                problems.append(f"  riscv,isa-extensions lacks Zb*/Zicond: {ext_on!r}")
            if set(ext_on) - set(ext_off) != {"zbb", "zicond"}:
                problems.append(f"  -zbb,-zicond: riscv,isa-extensions is {ext_off!r}")
        self.case("dtb: --cpu-features -zbb,-zicond drops them from the device tree",
                  bitmanip_toggle)

        def hypervisor_toggle(problems):
            # H is on by default: 'h' after 'c' in riscv,isa and in riscv,isa-extensions.
            on = self.dump("h-on", ["--kernel", kernel], problems)
            off = self.dump("h-off", ["--kernel", kernel, "--cpu-features", "-h"], problems)
            if on is None or off is None:
                return
            isa_on = self.fdtget(on, "/cpus/cpu@0", "riscv,isa") or ""
            isa_off = self.fdtget(off, "/cpus/cpu@0", "riscv,isa") or ""
            if not isa_on.startswith("rv64imafdch_") or isa_off != isa_on.replace("dch_", "dc_"):
                problems.append(f"  riscv,isa with H {isa_on!r}, without {isa_off!r}")
            ext_on = (self.fdtget(on, "/cpus/cpu@0", "riscv,isa-extensions") or "").split()
            ext_off = (self.fdtget(off, "/cpus/cpu@0", "riscv,isa-extensions") or "").split()
            if ext_on[:7] != ["i", "m", "a", "f", "d", "c", "h"] or \
                    [e for e in ext_on if e != "h"] != ext_off:
                problems.append(f"  -h: riscv,isa-extensions {ext_on!r} -> {ext_off!r}")
        self.case("dtb: H is advertised by default and --cpu-features -h drops it",
                  hypervisor_toggle)

        def rva22_toggle(problems):
            # Zicbom, Zicbop and Zicboz carry their 64-byte block sizes; off, those go too.
            names = {"zicbom", "zicbop", "zicboz", "zihintntl", "zkt", "svinval", "svnapot",
                     "svpbmt", "zihpm"}
            on = self.dump("rva22-on", ["--kernel", kernel], problems)
            off = self.dump("rva22-off", ["--kernel", kernel, "--cpu-features",
                                          ",".join("-" + n for n in sorted(names))], problems)
            if on is None or off is None:
                return
            for prop in ("riscv,cbom-block-size", "riscv,cbop-block-size",
                         "riscv,cboz-block-size"):
                if self.fdtget(on, "/cpus/cpu@0", prop) != "64":
                    problems.append(f"  /cpus/cpu@0 {prop} is not 64")
                if self.fdtget(off, "/cpus/cpu@0", prop) is not None:
                    problems.append(f"  {prop} with its extension off")
            ext_on = (self.fdtget(on, "/cpus/cpu@0", "riscv,isa-extensions") or "").split()
            ext_off = (self.fdtget(off, "/cpus/cpu@0", "riscv,isa-extensions") or "").split()
            if set(ext_on) - set(ext_off) != names:
                problems.append(f"  riscv,isa-extensions on {ext_on!r}, off {ext_off!r}")
        self.case("dtb: --cpu-features drops the RVA22 extensions and their block sizes",
                  rva22_toggle)

        def rva23_toggle(problems):
            # Zcb, Zacas and Zfhmin: on by default, and each one off drops only itself.
            names = {"zcb", "zacas", "zfhmin"}
            on = self.dump("rva23-on", ["--kernel", kernel], problems)
            off = self.dump("rva23-off", ["--kernel", kernel, "--cpu-features",
                                          "-zcb,-zacas,-zfhmin"], problems)
            if on is None or off is None:
                return
            ext_on = (self.fdtget(on, "/cpus/cpu@0", "riscv,isa-extensions") or "").split()
            ext_off = (self.fdtget(off, "/cpus/cpu@0", "riscv,isa-extensions") or "").split()
            if set(ext_on) - set(ext_off) != names:
                problems.append(f"  riscv,isa-extensions on {ext_on!r}, off {ext_off!r}")
            isa_off = self.fdtget(off, "/cpus/cpu@0", "riscv,isa") or ""
            if any(f"_{n}" in isa_off for n in names) or "_zca_zcd_" not in isa_off:
                problems.append(f"  riscv,isa without them is {isa_off!r}")
        self.case("dtb: --cpu-features -zcb,-zacas,-zfhmin drops them from the device tree",
                  rva23_toggle)

        def replaces(problems):
            dtb = self.file("old.dtb", b"old contents")
            r = self.run(["run", "--dump-dtb", dtb, "--firmware", "none", "--kernel",
                          self.guest("spin"), "--memory", "64M"])
            if r.status != 0:
                problems.append("  want status 0\n" + r.describe())
            with open(dtb, "rb") as f:
                if f.read(4) != b"\xd0\x0d\xfe\xed":
                    problems.append("  the existing file was not replaced by a device tree blob")
        self.case("dtb: replaces an existing file", replaces)

        missing_dir = self.path("no-such-dir/out.dtb")
        self.bad("--dump-dtb into a missing directory",
                 ["--dump-dtb", missing_dir, "--firmware", "none", "--kernel", self.guest("spin")],
                 [missing_dir], dump=False)

        def onto_directory(problems):
            target = self.path("dtb-is-a-dir")
            os.mkdir(target)
            r = self.run(["run", "--dump-dtb", target, "--firmware", "none", "--kernel",
                          self.guest("spin")])
            if r.status != 2:
                problems.append(f"  status {r.status}, want 2\n" + r.describe())
            self.one_line_error(r, [target], problems)
            if os.listdir(target) or os.path.exists(target + ".tmp"):
                problems.append("  something was written\n" + r.describe())
        self.case("bad: --dump-dtb onto a directory", onto_directory)

    # ---- hostile guests ----

    def guest_run(self, name, extra=(), timeout=GUEST_TIMEOUT, **kw):
        return self.run(["run", "--firmware", "none", "--kernel", self.guest(name),
                         "--memory", "64M", "--timeout", str(timeout)] + list(extra), **kw)

    def guest_case(self, title, name, status, stdout="", err_needles=None, max_seconds=10,
                   min_seconds=0.0, timeout=GUEST_TIMEOUT, **kw):
        def check(problems):
            r = self.guest_run(name, timeout=timeout, **kw)
            if r.status != status:
                problems.append(f"  status {r.status}, want {status}\n" + r.describe())
            if stdout is not None and r.out != stdout:
                problems.append(f"  stdout {r.out[:200]!r}, want {stdout!r}\n" + r.describe())
            if err_needles is None:
                if r.err:
                    problems.append("  unexpected stderr\n" + r.describe())
            else:
                self.one_line_error(r, err_needles, problems)
            if not min_seconds <= r.seconds <= max_seconds:
                problems.append(f"  took {r.seconds:.2f} s, want {min_seconds}-{max_seconds} s\n"
                                + r.describe())
        self.case("guest: " + title, check)

    def guest_cases(self):
        self.guest_case("jump to unmapped memory, mtvec unset: trap loop", "unmapped", 1,
                        err_needles=["trap loop"], max_seconds=5)
        self.guest_case("random code in U-mode, 50000 traps then pass", "garbage", 0)
        self.guest_case("load/store to nothing: access faults with mtval", "mmio_nothing", 0)
        self.guest_case("j . with --timeout 2: status 124", "spin", 124,
                        err_needles=["timeout"], min_seconds=1.9, max_seconds=6,
                        timeout=2)
        self.guest_case("SiFive test fail code 7", "test_fail7", 7)
        self.guest_case("SiFive test fail code 256 is not a pass", "test_fail256", 1)
        self.guest_case("HTIF pass", "htif_pass", 0)
        self.guest_case("HTIF fail code 5", "htif_fail5", 5)
        self.guest_case("HTIF fail code 256 is not a pass", "htif_fail256", 1)
        self.guest_case("HTIF SYS_write hello, stdin /dev/null", "htif_hello", 0, stdout="hello\n")
        self.guest_case("--cpus 2: hart 1 spins with interrupts off, hart 0 prints and passes",
                        "smp_hog", 0, stdout="hart 0 runs\n", extra=["--cpus", "2"])
        self.guest_case("HTIF hello, stdin a pipe with input", "htif_hello", 0, stdout="hello\n",
                        input_bytes=b"some keys\n" * 1000)
        self.guest_case("HTIF hello, stdin an empty pipe", "htif_hello", 0, stdout="hello\n",
                        input_bytes=b"")

        def open_pipe(problems):
            # stdin a pipe that nobody closes: vessel must still end when the guest does.
            r_fd, w_fd = os.pipe()
            try:
                r = self.guest_run("htif_hello", stdin=r_fd)
            finally:
                os.close(r_fd)
                os.close(w_fd)
            if r.status != 0 or r.out != "hello\n" or r.err:
                problems.append("  want status 0 and hello\n" + r.describe())
        self.case("guest: HTIF hello, stdin a pipe left open", open_pipe)

        def stats(problems):
            r = self.guest_run("htif_pass", ["--stats"])
            lines = r.err.split("\n")
            if r.status != 0 or len(lines) != 2 or lines[1]:
                problems.append("  want status 0 and one line on stderr\n" + r.describe())
                return
            try:
                s = json.loads(lines[0])
                if s["instructions"] <= 0:
                    problems.append(f"  instructions {s['instructions']}")
            except (ValueError, KeyError) as e:
                problems.append(f"  --stats line is not the expected JSON: {e}\n" + r.describe())
        self.case("guest: --stats prints one JSON line", stats)
        self.engine_guest_cases()
        self.flood_cases()

        def api_vm_signal(sig, kernel):
            def check(problems):
                # `vessel run --api-sock`: a signal ends the process as it would have killed it
                # (status 128 + signal), running or still waiting for InstanceStart, and the
                # socket goes with it.
                self.counter += 1
                sock = self.path(f"api{self.counter}.sock")
                argv = [self.vessel, "run", "--api-sock", sock, "--timeout", str(GUEST_TIMEOUT)]
                if kernel:
                    argv += ["--kernel", self.guest(kernel), "--firmware", "none"]
                p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
                deadline = time.monotonic() + 10
                while not os.path.exists(sock) and time.monotonic() < deadline:
                    time.sleep(0.02)
                time.sleep(0.3)  # the guest runs
                t0 = time.monotonic()
                p.send_signal(sig)
                try:
                    out, err = p.communicate(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    out, err = p.communicate()
                    problems.append(f"  still running 10 s after signal {sig}")
                    return
                r = Run(argv, p.returncode, out.decode(errors="replace"),
                        err.decode(errors="replace"), time.monotonic() - t0)
                if p.returncode != 128 + sig or r.seconds > 2:
                    problems.append(f"  want status {128 + sig} within 2 s\n" + r.describe())
                if os.path.exists(sock):
                    problems.append(f"  {sock} is still there\n" + r.describe())
            return check
        self.case("guest: --api-sock: drives only outside the kernel's files, and only in "
                  "--api-allow-dir when given", self.api_host_files)
        self.case("guest: --api-sock, SIGTERM while the guest runs: status 143",
                  api_vm_signal(signal.SIGTERM, "spin"))
        self.case("guest: --api-sock, SIGINT before InstanceStart: status 130",
                  api_vm_signal(signal.SIGINT, None))


    def api_host_files(self, problems):
        """What a request to `vessel run --api-sock` may name as a drive: never the process's
        own memory (/proc/self/mem, as it once could), and with --api-allow-dir only files in
        those directories, symbolic links followed first."""
        allowed = self.path("allowed")
        os.makedirs(allowed, exist_ok=True)
        inside = os.path.join(allowed, "disk.img")
        with open(inside, "wb") as f:
            f.truncate(1 << 20)
        outside = self.file("outside.img", b"\0" * 4096)
        link = os.path.join(allowed, "link.img")
        if not os.path.islink(link):
            os.symlink(outside, link)
        for extra, path, want in (([], "/proc/self/mem", "a file of the kernel's"),
                                  ([], inside, None),
                                  (["--api-allow-dir", allowed], outside, "outside the directories"),
                                  (["--api-allow-dir", allowed], link, f"({outside}): outside"),
                                  (["--api-allow-dir", allowed], inside, None)):
            self.counter += 1
            sock = self.path(f"files{self.counter}.sock")
            argv = [self.vessel, "run", "--api-sock", sock, *extra]
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            try:
                deadline = time.monotonic() + 10
                while not os.path.exists(sock) and time.monotonic() < deadline:
                    time.sleep(0.02)
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(10)
                s.connect(sock)
                body = json.dumps({"drive_id": "d", "path_on_host": path,
                                   "is_root_device": False}).encode()
                s.sendall(b"PUT /drives/d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                          b"Content-Type: application/json\r\n"
                          + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
                answer = b""
                while chunk := s.recv(4096):
                    answer += chunk
                s.close()
                text = answer.decode(errors="replace")
                status = text.split(" ", 2)[1] if text.startswith("HTTP/1.1 ") else "?"
                if want is None and status != "204":
                    problems.append(f"  {' '.join(argv)}: PUT {path}: want 204, got {text!r}")
                if want is not None and (status != "400" or f"path_on_host: {path}" not in text
                                         or want not in text):
                    problems.append(f"  {' '.join(argv)}: PUT {path}: want 400 naming "
                                    f"path_on_host and {want!r}, got {text!r}")
            finally:
                p.send_signal(signal.SIGTERM)
                p.communicate(timeout=10)

    def engine_guest_cases(self):
        """Each engine runs a guest to its end, and --stats names the engine that ran (with the
        translator's counters under jit only)."""
        jit_keys = {"blocks_translated", "code_bytes", "guest_instructions", "translate_ms",
                    "chained_exits",
                    "unchained_exits", "cold_runs", "cache_flushes", "cache_bytes", "cache_used",
                    "helper_calls"}
        helper_kinds = {"memory", "float", "atomic", "csr", "system", "integer"}

        def engine_run(engine, extra=(), cache_bytes=64 << 20):
            def check(problems):
                r = self.guest_run("garbage", ["--engine", engine, "--stats"] + list(extra))
                lines = r.err.split("\n")
                if r.status != 0 or len(lines) != 2 or lines[1]:
                    problems.append("  want status 0 and one line on stderr\n" + r.describe())
                    return
                s = json.loads(lines[0])
                if s.get("engine") != engine or s.get("instructions", 0) <= 0:
                    problems.append(f"  engine {s.get('engine')!r}, want {engine!r}\n" + r.describe())
                jit = s.get("jit")
                if engine == "interp":
                    if jit is not None:
                        problems.append(f"  a 'jit' object under interp: {jit}")
                    return
                if not isinstance(jit, dict) or set(jit) != jit_keys:
                    problems.append(f"  'jit' is {jit!r}, want the keys {sorted(jit_keys)}")
                    return
                if set(jit["helper_calls"]) != helper_kinds or jit["cache_bytes"] != cache_bytes:
                    problems.append(f"  helper_calls {jit['helper_calls']} / cache_bytes "
                                    f"{jit['cache_bytes']}, want {sorted(helper_kinds)} / {cache_bytes}")
            return check
        self.case("guest: --engine interp runs to the end, --stats says interp",
                  engine_run("interp"))
        if JIT_HOST:
            self.case("guest: --engine jit runs to the end, --stats says jit with its counters",
                      engine_run("jit"))
            self.case("guest: --engine jit --jit-cache 1M (the least)",
                      engine_run("jit", ["--jit-cache", "1M"], 1 << 20))
            self.case("guest: --engine jit --jit-cache 2G (the most)",
                      engine_run("jit", ["--jit-cache", "2G"], 2 << 30))
        else:
            print("note: not an x86-64 host: the --engine jit guest cases are skipped")

        def default_engine(problems):
            r = self.guest_run("htif_pass", ["--stats"])
            want = "jit" if JIT_HOST else "interp"
            try:
                got = json.loads(r.err.split("\n")[0]).get("engine")
            except ValueError:
                got = None
            if r.status != 0 or got != want:
                problems.append(f"  engine {got!r} by default, want {want!r}\n" + r.describe())
        self.case("guest: the default engine is jit on x86-64, interp elsewhere", default_engine)

    def flood_cases(self):
        """A guest that makes a device complain in a loop (virtio_flood.S) must not fill the
        host's disk through stderr: every message a guest can cause is rate-limited, and says
        how many it held back."""
        def flood(problems):
            r = self.guest_run("virtio_flood", timeout=3)
            if r.status != 124:
                problems.append(f"  status {r.status}, want 124 (--timeout)\n" + r.describe())
            if len(r.err) >= 64 << 10:
                problems.append(f"  {len(r.err)} bytes on stderr in 3 s, want under 64 KiB\n" +
                                r.describe())
            for needle in ("device needs reset", "suppressed", "similar messages", "timeout"):
                if needle not in r.err:
                    problems.append(f"  stderr does not mention {needle!r}\n" + r.describe())
            if r.out:
                problems.append("  something on stdout\n" + r.describe())
        self.case("guest: a virtio queue broken and reset in a loop: stderr stays small", flood)

        def log_file(problems):
            # What vessel daemon does with vmm.log: stderr into a ring of PATH and PATH.1. A
            # full PATH left by an earlier run becomes PATH.1 at once (the older PATH.1 goes).
            path = self.path("vmm.log")
            earlier = b"an earlier run\n" * 200
            with open(path, "wb") as f:
                f.write(earlier)
            with open(path + ".1", "wb") as f:
                f.write(b"older still\n")
            r = self.guest_run("virtio_flood", ["--log-file", f"{path},size=4K"], timeout=2)
            if r.status != 124 or r.err or r.out:
                problems.append("  want status 124 and nothing on stdout or stderr\n" +
                                r.describe())
            with open(path + ".1", "rb") as f:
                if f.read() != earlier:
                    problems.append(f"  {path}.1 is not the earlier run's log")
            with open(path, "rb") as f:
                text = f.read().decode(errors="replace")
            for needle in ("device needs reset", "suppressed", "timeout"):
                if needle not in text:
                    problems.append(f"  {path} does not mention {needle!r}: {text[:300]!r}")
            if len(text) > 2048 + 200:
                problems.append(f"  {path} holds {len(text)} bytes, want about 2K at most")
        self.case("guest: --log-file PATH,size=4K rotates PATH to PATH.1", log_file)

        def log_file_bad(problems):
            r = self.run(["run", "--log-file", self.tmp, "--firmware", "none", "--kernel",
                          self.guest("spin")])
            if r.status != 2:
                problems.append(f"  status {r.status}, want 2\n" + r.describe())
            self.one_line_error(r, ["--log-file", self.tmp, "not a regular file"], problems)
        self.case("bad: --log-file on a directory", log_file_bad)

    # ---- hostile guests, on each engine ----

    def hostile_case(self, title, name, engine, status, extra=(), err_needles=None, check=None,
                     max_seconds=GUEST_TIMEOUT, known_bug=None):
        """Runs guest `name` with --engine and --stats. It must end by itself (never killed by
        a signal, never hung) with `status`, print nothing on stdout, and leave on stderr the
        one-line message naming err_needles (or none) followed by the --stats JSON, which names
        the engine; check(stats, problems) looks at the counters."""
        def run_it(problems):
            # Every block translated before its first run: the translator, not the
            # interpreter it hands cold blocks to, meets the hostile code.
            r = self.guest_run(name, ["--engine", engine, "--stats"] + JIT_AT_ONCE[engine] +
                               list(extra))
            if r.status == "hung":
                problems.append(f"  fatal: still running after {CHILD_TIMEOUT} s\n" + r.describe())
                return
            if r.status < 0:
                problems.append(f"  fatal: killed by signal {-r.status} "
                                f"({signal.Signals(-r.status).name})\n" + r.describe())
                return
            if r.status != status:
                problems.append(f"  status {r.status}, want {status}\n" + r.describe())
            if r.out:
                problems.append("  something on stdout\n" + r.describe())
            lines = r.err.split("\n")
            if len(lines) < 2 or lines[-1] != "":
                problems.append("  stderr does not end with the --stats line\n" + r.describe())
                return
            message, stats_line = lines[:-2], lines[-2]
            if err_needles is None:
                if message:
                    problems.append("  unexpected stderr before --stats\n" + r.describe())
            elif len(message) != 1 or not message[0].startswith("vessel: "):
                problems.append("  want one 'vessel: ' line before --stats\n" + r.describe())
            else:
                for n in err_needles:
                    if n not in message[0]:
                        problems.append(f"  the message does not mention {n!r}\n" + r.describe())
            try:
                stats = json.loads(stats_line)
            except ValueError:
                problems.append("  the last stderr line is not JSON\n" + r.describe())
                return
            if stats.get("engine") != engine:
                problems.append(f"  --stats engine {stats.get('engine')!r}, want {engine!r}")
            if engine == "jit" and not isinstance(stats.get("jit"), dict):
                problems.append("  --stats has no 'jit' object under --engine jit")
                return
            if check is not None:
                check(stats, problems)
            if r.seconds > max_seconds:
                problems.append(f"  took {r.seconds:.2f} s, want at most {max_seconds} s")
        self.case(f"hostile [{engine}]: {title}", run_it, known_bug)

    @staticmethod
    def at_least(stats, path, least, problems):
        """stats[path...] >= least."""
        value = stats
        for key in path:
            value = value.get(key, {}) if isinstance(value, dict) else {}
        if not isinstance(value, int) or value < least:
            problems.append(f"  --stats {'.'.join(path)} is {value!r}, want at least {least}")

    def hostile_guest_cases(self):
        """Guests that attack the code cache and the translator, each on both engines (and
        under the translator, its counters show that it did the work)."""
        engines = ("jit", "interp") if JIT_HOST else ("interp",)
        for engine in engines:
            jit = engine == "jit"

            # fresh_garbage.S: ROUNDS handler entries exactly, each before fresh code.
            rounds = 20000

            def fresh(stats, problems, jit=jit):
                if stats.get("traps") != rounds:
                    problems.append(f"  traps {stats.get('traps')}, want exactly {rounds}")
                # At least one new block per round (but for the rare entry at a page's last
                # two bytes, which runs as a lone instruction).
                self.at_least(stats, ["blocks_built"], rounds * 9 // 10, problems)
                if jit:
                    self.at_least(stats, ["jit", "blocks_translated"], rounds * 9 // 10, problems)
            self.hostile_case(f"fresh random code in U/S-mode, {rounds} rounds then pass",
                              "fresh_garbage", engine, 0, check=fresh)

            # smc_loop.S: N iterations, nine parts that each re-decode a block every time.
            n = 1000

            def smc(stats, problems, jit=jit):
                if stats.get("traps") != 0:
                    problems.append(f"  traps {stats.get('traps')}, want 0")
                self.at_least(stats, ["blocks_built"], 9 * n, problems)
                if jit:
                    self.at_least(stats, ["jit", "blocks_translated"], 9 * n, problems)
                    # part D runs the patched jal three times per patch: chained once each
                    # when it jumps to target2 (target1 is within its block: no exit)
                    self.at_least(stats, ["jit", "chained_exits"], n // 2, problems)
                    self.at_least(stats, ["jit", "helper_calls", "atomic"], n, problems)
            self.hostile_case("code rewritten in a loop (same block, other block, other page, "
                              "jal target, compressed/32-bit, no fence.i, AMO, fsw, sd across "
                              "pages, sc.w): sums right",
                              "smc_loop", engine, 0, check=smc)

            # arena_fill.S: COPIES copies of a 2-block template, built again after a rewrite.
            copies = 2048

            def arena(stats, problems, jit=jit):
                # the interpreter ends a block at the loop's jump back, the translator keeps
                # the loop within it: two blocks per copy or one, each built twice
                self.at_least(stats, ["blocks_built"], (2 if jit else 4) * copies, problems)
                if not jit:
                    return
                j = stats["jit"]
                if j.get("cache_bytes") != 1 << 20:
                    problems.append(f"  cache_bytes {j.get('cache_bytes')}, want {1 << 20}")
                # some 4000 blocks of several hundred bytes through 1 MiB: several refills, and
                # blocks compiled again after each
                self.at_least(stats, ["jit", "cache_flushes"], 3, problems)
                if j.get("blocks_translated", 0) <= stats.get("blocks_built", 0):
                    problems.append(f"  blocks_translated {j.get('blocks_translated')} is not "
                                    f"above blocks_built {stats.get('blocks_built')}")
                if not 0 < j.get("cache_used", 0) <= 1 << 20:
                    problems.append(f"  cache_used {j.get('cache_used')} outside the arena")
            self.hostile_case("--jit-cache 1M, 4000 blocks through it: refills, hash right",
                              "arena_fill", engine, 0, extra=["--jit-cache", "1M"], check=arena)

            def traps(count):
                def check(stats, problems):
                    if stats.get("traps") != count:
                        problems.append(f"  traps {stats.get('traps')}, want exactly {count}")
                return check
            self.hostile_case("jumps to nothing, devices, the boot ROM's middle, RAM's end, "
                              "mid-instruction, odd addresses: 13 traps handled",
                              "wild_jumps", engine, 0, check=traps(13))
            self.hostile_case("mtvec unset, jump to unmapped memory: trap loop",
                              "unmapped", engine, 1, max_seconds=5,
                              err_needles=["trap loop", "exception 1", "pc 0x0 ", "mtvec=0x0,"])
            self.hostile_case("mtvec at the SiFive test device: trap loop, device untouched",
                              "trap_loop_device", engine, 1, max_seconds=5,
                              err_needles=["trap loop", "exception 1", "pc 0x100000",
                                           "mtvec=0x100000"])
            self.hostile_case("mtvec in the boot ROM's zeros: trap loop on illegal instructions",
                              "trap_loop_rom", engine, 1, max_seconds=5,
                              err_needles=["trap loop", "exception 2", "pc 0x9000", "mtvec=0x9000"])
            self.hostile_case("U-mode jal into the half of a page PMP does not let it execute",
                              "pmp_split_jump", engine, 0, check=traps(1))
            self.hostile_case("U-mode code running over a PMP boundary inside a page",
                              "pmp_split_span", engine, 0)
            self.hostile_case("U-mode jump across a PMP boundary that moved (after sfence.vma)",
                              "pmp_split_relink", engine, 0)

        def same_answer(problems):
            # random_alu.S: 3000 rounds of random code; its checksum on the UART must not depend
            # on the engine (the interpreter is the reference), nor the traps it took.
            lines = {}
            for engine in engines:
                r = self.guest_run("random_alu",
                                   ["--engine", engine, "--stats"] + JIT_AT_ONCE[engine])
                if not isinstance(r.status, int) or r.status != 0:
                    problems.append(f"  [{engine}] status {r.status}, want 0\n" + r.describe())
                    continue
                if not re.fullmatch(r"[0-9a-f]{16}\n", r.out):
                    problems.append(f"  [{engine}] stdout {r.out!r}, want 16 hex digits\n"
                                    + r.describe())
                stats = json.loads(r.err.split("\n")[-2])
                lines[engine] = (r.out.strip(), stats.get("traps"))
                self.at_least(stats, ["blocks_built"], 3000, problems)
                self.at_least(stats, ["traps"], 3000, problems)  # some 11000
                if engine == "jit":
                    self.at_least(stats, ["jit", "blocks_translated"], 3000, problems)
            if len(set(lines.values())) > 1:
                problems.append(f"  the engines disagree: {lines}")
        self.case("hostile: random code (integer, M, branches, loads/stores, AMOs, minstret, D, "
                  "compressed, and traps of six kinds) gives the same checksum on every engine",
                  same_answer)


def synthetic_image(file_size):
    """A RISC-V Linux Image (boot-image-header.rst) with an EFI stub's PE header whose two
    sections end exactly at file_size, as a distribution kernel's do."""
    b = bytearray(file_size)
    b[0:2] = b"MZ"
    struct.pack_into("<QQQI", b, 0x08, 0x200000, 0x400000, 0, 2)  # text_offset, image_size, flags, version
    b[0x30:0x3c] = b"RISCV\0\0\0RSC\x05"
    pe = 0x40
    struct.pack_into("<I", b, 0x3c, pe)
    b[pe:pe + 4] = b"PE\0\0"
    optional = 0xa0
    struct.pack_into("<HHIIIHH", b, pe + 4, 0x5064, 2, 0, 0, 0, optional, 0x0206)
    table = pe + 24 + optional
    half = file_size // 2
    for i, (name, raw_at) in enumerate(((b".text", 0x1000), (b".data", half))):
        raw_size = (half if i else half - 0x1000)
        struct.pack_into("<8sIIII", b, table + 40 * i, name, raw_size, raw_at, raw_size, raw_at)
    return bytes(b)


def report(t, t0):
    """Prints the tally and the failures; the exit status (0 only when cases ran, all passed)."""
    print(f"{t.passed} passed, {len(t.failures)} failed in {time.monotonic() - t0:.1f} s")
    for f in t.failures:
        print(f"  failed: {f}")
    return 1 if t.failures or t.passed == 0 else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vessel", required=True)
    ap.add_argument("--guest-dir", required=True, help="where the guests/*.S ELFs were built")
    ap.add_argument("--debian-dir", default="", help="guests/cache/debian, for a real Image")
    ap.add_argument("-k", default="", help="run only the cases whose name contains this")
    ap.add_argument("--part", choices=["all", "basic", "hostile"], default="all",
                    help="basic: bad input, console, --dump-dtb and guests; hostile: the hostile "
                         "guests on each engine (ctest runs them as cli_test and cli_test_hostile)")
    args = ap.parse_args()
    missing = [g for g in ("spin", "garbage", "htif_hello")
               if not os.path.isfile(os.path.join(args.guest_dir, g + ".elf"))]
    if missing or not os.access(args.vessel, os.X_OK):
        print(f"cli_test: need {args.vessel} and the guests in {args.guest_dir} "
              f"(missing: {missing}); build the vessel and cli_test_guests targets", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="vessel-cli-") as tmp:
        t = Tester(args, tmp)
        if args.part in ("all", "basic"):
            t.bad_input_cases()
            t.console_cases()
            t.dtb_cases()
            t.guest_cases()
        if args.part in ("all", "hostile"):
            t.hostile_guest_cases()
    for k in t.known:
        print(f"  known bug, still failing: {k}")
    return report(t, t0)


if __name__ == "__main__":
    sys.exit(main())
