#!/usr/bin/env python3
"""End-to-end boot test: Debian's OpenSBI + Linux + busybox initramfs.

Boots the reference guest (guests/debian/build.sh) on an emulator, drives
its serial console through stdin/stdout and checks that the shell answers,
that /proc/cpuinfo reports an rv64 ISA and that `poweroff -f` ends the
emulator with status 0.

  boot_test.py [--emulator vessel|qemu] [--vessel PATH] [--firmware jump|dynamic|builtin]
               [--case interactive|stdin-eof|reboot|smp|smp-once ...] [--cpus N] [--expect-isa ISA]
               [--engine jit|interp]

--engine runs vessel with that engine and --stats, and checks that the statistics vessel
prints as it exits name that engine (under jit, with blocks translated).

--emulator qemu runs the same checks on qemu-system-riscv64, which is how
the test itself is validated. Exits 1 on any failure, a missing guest or
emulator binary included (CI builds both first).
"""

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
USERSPACE_UP = "vessel-guest: userspace up"
PROMPT = re.compile(r"vessel:[^\n]*# ")
TAIL_CHARS = 3000


class Failure(Exception):
    pass


class Console:
    """The emulator's stdout (and stderr) gathered by a reader thread, so a
    wait can time out without blocking on a read."""

    def __init__(self, argv, stdin_eof, proc=None):
        """proc: something already started that looks like a Popen (stdin, stdout, wait)."""
        self.argv = argv
        self.proc = proc or subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL if stdin_eof else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.text = ""
        self.pos = 0  # where the next expect() starts looking
        self.eof = False
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        fd = self.proc.stdout.fileno()
        while True:
            chunk = os.read(fd, 4096)
            with self.cond:
                if not chunk:
                    self.eof = True
                    self.cond.notify_all()
                    return
                self.text += chunk.decode("utf-8", "replace")
                self.cond.notify_all()

    def tail(self):
        tail = self.text[-TAIL_CHARS:]
        # Escape sequences (busybox's cursor queries) would garble a terminal.
        tail = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", tail).replace("\r", "")
        return "".join(c if c.isprintable() or c in "\n\t" else "?" for c in tail)

    def fail(self, message):
        raise Failure(f"{message}\ncommand: {shlex.join(self.argv)}\n----- console tail -----\n{self.tail()}\n------------------------")

    def expect(self, pattern, timeout, what):
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                match = regex.search(self.text, self.pos)
                if match:
                    self.pos = match.end()
                    return match
                if self.eof:
                    self.proc.wait()
                    self.fail(f"{what}: emulator exited with status {self.proc.returncode} first")
                left = deadline - time.monotonic()
                if left <= 0:
                    self.fail(f"{what}: not seen within {timeout:g} s")
                self.cond.wait(left)

    def send(self, line):
        try:
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            self.fail(f"sending {line!r}: emulator closed its stdin")

    def wait_exit(self, timeout, what):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.fail(f"{what}: emulator still running after {timeout:g} s")

    def close(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        if self.proc.stdin:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        self.reader.join(timeout=5)


def emulator_argv(args, firmware, append):
    guest = args.guest_dir
    kernel = os.path.join(guest, "Image")
    initrd = os.path.join(guest, "initrd.cpio.gz")
    if args.emulator == "qemu":
        return [args.qemu, "-M", "virt", "-m", args.memory, "-smp", str(args.cpus), "-nographic",
                "-bios", firmware, "-kernel", kernel, "-initrd", initrd,
                "-append", append]
    # vessel's own limit backs up ours in case this script is killed.
    limit = int(2 * args.boot_timeout + 6 * args.step_timeout + 60)
    argv = [args.vessel, "run", "--firmware", firmware, "--kernel", kernel,
            "--initrd", initrd, "--append", append, "--memory", args.memory,
            "--cpus", str(args.cpus), "--timeout", str(limit)]
    if args.engine:
        argv += ["--engine", args.engine, "--stats"]
    return argv


def check_engine(console, args):
    """With --engine, after the emulator exited: its --stats line (stderr, merged into the
    console's output) names that engine, and under jit the translator compiled blocks."""
    if not args.engine:
        return ""
    line = console.expect(r'\{"[^\n]*"engine":[^\n]*\}', args.step_timeout, "the --stats line")
    try:
        stats = json.loads(line.group(0))
    except ValueError:
        console.fail(f"the --stats line is not JSON: {line.group(0)[:200]!r}")
    if stats.get("engine") != args.engine:
        console.fail(f"--stats says engine {stats.get('engine')!r}, want {args.engine!r}")
    jit = stats.get("jit")
    if args.engine == "jit":
        if not isinstance(jit, dict) or jit.get("blocks_translated", 0) <= 0:
            console.fail(f"--engine jit, but --stats shows no blocks translated: {jit!r}")
        return f", engine jit ({jit['blocks_translated']} blocks translated)"
    if jit is not None:
        console.fail(f"--engine {args.engine}, but --stats has a 'jit' object: {jit!r}")
    return f", engine {args.engine}"


def case_interactive(args, firmware):
    """Shell answers, cpuinfo names an rv64 ISA, poweroff exits 0."""
    console = Console(emulator_argv(args, firmware, "console=ttyS0"), stdin_eof=False)
    try:
        start = time.monotonic()
        console.expect(re.escape(USERSPACE_UP), args.boot_timeout, "boot to userspace")
        booted = time.monotonic() - start
        console.expect(PROMPT, args.step_timeout, "shell prompt")
        console.send("echo vessel-$((6*7))")
        console.expect(r"vessel-42\r?\n", args.step_timeout, "echo vessel-$((6*7)) answering vessel-42")
        console.expect(PROMPT, args.step_timeout, "prompt after echo")
        # busybox time reads the clock with rdtime in U-mode (the vDSO): scounteren.TM must be
        # set whichever firmware is in M-mode.
        console.send("time true")
        console.expect(r"real\s+\d+m", args.step_timeout, "time true reporting real time")
        console.expect(PROMPT, args.step_timeout, "prompt after time")
        console.send("cat /proc/cpuinfo")
        match = console.expect(r"(?m)^isa\s*:\s*(\S+)\r?\n", args.step_timeout, "isa line of /proc/cpuinfo")
        isa = match.group(1)
        if not isa.startswith("rv64"):
            console.fail(f"/proc/cpuinfo isa is {isa!r}, expected rv64...")
        if args.expect_isa and isa != args.expect_isa:
            console.fail(f"/proc/cpuinfo isa is {isa!r}, expected {args.expect_isa!r}")
        console.expect(PROMPT, args.step_timeout, "prompt after cat /proc/cpuinfo")
        if "_sscofpmf" in isa and args.emulator == "vessel":
            # Sscofpmf listed: the perf driver (riscv_pmu_sbi) found mcycle, minstret and the
            # eight programmable counters, through OpenSBI or the builtin SBI alike, and did
            # not turn sampling off for want of overflow interrupts.
            console.send("dmesg | grep riscv-pmu-sbi")
            console.expect(r"riscv-pmu-sbi: \d+ firmware and 10 hardware counters", args.step_timeout,
                           "the SBI PMU's 10 hardware counters in dmesg")
            console.expect(PROMPT, args.step_timeout, "prompt after dmesg")
            console.send("dmesg | grep -c 'sscof extension is not available'")
            console.expect(r"(?m)^0\r?\n", args.step_timeout, "no 'sscof extension is not available'")
            console.expect(PROMPT, args.step_timeout, "prompt after dmesg")
        console.send("poweroff -f")
        status = console.wait_exit(args.step_timeout, "poweroff -f")
        if status != 0:
            console.fail(f"poweroff -f: emulator exited with status {status}, expected 0")
        return f"userspace after {booted:.1f} s, isa {isa}" + check_engine(console, args)
    finally:
        console.close()


def case_stdin_eof(args, firmware):
    """The console's stdin at EOF from the start must not stop the VM: the
    guest still boots and powers itself off (vessel.bench=1) with status 0."""
    console = Console(emulator_argv(args, firmware, "console=ttyS0 vessel.bench=1"), stdin_eof=True)
    try:
        console.expect(re.escape(USERSPACE_UP), args.boot_timeout, "boot to userspace with stdin at EOF")
        status = console.wait_exit(args.step_timeout, "self poweroff (vessel.bench=1)")
        if status != 0:
            console.fail(f"self poweroff: emulator exited with status {status}, expected 0")
        return "booted and powered off with stdin closed" + check_engine(console, args)
    finally:
        console.close()


def case_reboot(args, firmware):
    """`reboot -f` restarts the machine (syscon-reboot on the SiFive test device): the
    firmware and kernel come up a second time, and the rebooted guest still powers off
    with status 0."""
    console = Console(emulator_argv(args, firmware, "console=ttyS0"), stdin_eof=False)
    try:
        console.expect(re.escape(USERSPACE_UP), args.boot_timeout, "first boot to userspace")
        console.expect(PROMPT, args.step_timeout, "shell prompt")
        console.send("reboot -f")
        console.expect(r"reboot: Restarting system", args.step_timeout, "reboot -f restarting")
        console.expect(r"OpenSBI v", args.step_timeout, "firmware starting again")
        console.expect(re.escape(USERSPACE_UP), args.boot_timeout, "second boot to userspace")
        console.expect(PROMPT, args.step_timeout, "shell prompt after reboot")
        console.send("poweroff -f")
        status = console.wait_exit(args.step_timeout, "poweroff -f after reboot")
        if status != 0:
            console.fail(f"poweroff -f after reboot: exit status {status}, expected 0")
        return "rebooted and powered off" + check_engine(console, args)
    finally:
        console.close()


def shell(console, args, command, answer, what):
    """Runs one command at the prompt and waits for `answer` (a regex) and the next prompt."""
    console.send(command)
    match = console.expect(answer, args.step_timeout, what)
    console.expect(PROMPT, args.step_timeout, f"prompt after {what}")
    return match


def case_smp(args, firmware, reboot=True):
    """With --cpus N: the kernel brings up N CPUs, nproc says N, four sha256sum of the same
    file run in parallel and agree, `reboot -f` brings the same N CPUs up again (not in
    smp-once, which costs half as much), and `poweroff -f` ends the emulator with status 0."""
    n = args.cpus
    console = Console(emulator_argv(args, firmware, "console=ttyS0"), stdin_eof=False)
    try:
        start = time.monotonic()
        console.expect(rf"smp: Brought up 1 node, {n} CPUs?", args.boot_timeout,
                       f"the kernel bringing up {n} CPUs")
        console.expect(re.escape(USERSPACE_UP), args.boot_timeout, "boot to userspace")
        booted = time.monotonic() - start
        console.expect(PROMPT, args.step_timeout, "shell prompt")
        shell(console, args, "echo cpus=$(nproc)", rf"cpus={n}\r?\n", f"nproc answering {n}")
        shell(console, args, "dd if=/dev/urandom of=/tmp/big bs=64k count=64 2>/dev/null; echo made",
              r"made\r?\n", "a 4 MiB random file")
        # Four checksums at once, spread over the harts by the guest's scheduler; all must agree
        # with one another and with a fifth computed alone afterwards.
        shell(console, args,
              "for i in 1 2 3 4; do sha256sum /tmp/big > /tmp/s$i & done; wait; sha256sum /tmp/big"
              " > /tmp/s5; echo distinct=$(cut -d' ' -f1 /tmp/s? | sort -u | wc -l)"
              " lines=$(cat /tmp/s? | wc -l)",
              r"distinct=1 lines=5\r?\n", "parallel sha256sum agreeing")
        if reboot:
            console.send("reboot -f")
            console.expect(r"reboot: Restarting system", args.step_timeout, "reboot -f restarting")
            console.expect(r"Linux version", args.boot_timeout, "the kernel starting again")
            console.expect(rf"smp: Brought up 1 node, {n} CPUs?", args.boot_timeout,
                           f"{n} CPUs again after reboot")
            console.expect(PROMPT, args.boot_timeout, "shell prompt after reboot")
            shell(console, args, "echo cpus=$(nproc)", rf"cpus={n}\r?\n", "nproc after reboot")
        console.send("poweroff -f")
        status = console.wait_exit(args.step_timeout, "poweroff -f")
        if status != 0:
            console.fail(f"poweroff -f: emulator exited with status {status}, expected 0")
        return (f"{n} harts: userspace after {booted:.1f} s, parallel checksums agree"
                + (", rebooted" if reboot else "") + check_engine(console, args))
    finally:
        console.close()


CASES = {"interactive": case_interactive, "stdin-eof": case_stdin_eof, "reboot": case_reboot,
         "smp": case_smp, "smp-once": lambda args, firmware: case_smp(args, firmware, reboot=False)}


# Extensions vessel advertises that /proc/cpuinfo of the guest's kernel (6.12) leaves out.
KERNEL_DOES_NOT_LIST = {"zicbop"}


def isa_from_dtb(args):
    """The riscv,isa string vessel puts in the device tree it generates (via --dump-dtb and
    fdtget), so the test holds /proc/cpuinfo to what the machine advertises."""
    with tempfile.TemporaryDirectory() as tmp:
        dtb = os.path.join(tmp, "vessel.dtb")
        guest = args.guest_dir
        subprocess.run([args.vessel, "run", "--firmware", os.path.join(guest, "fw_dynamic.bin"),
                        "--kernel", os.path.join(guest, "Image"), "--memory", args.memory,
                        "--dump-dtb", dtb], check=True)
        out = subprocess.run(["fdtget", "-t", "s", dtb, "/cpus/cpu@0", "riscv,isa"], check=True,
                             capture_output=True, text=True)
        # The kernel lists only the extensions it knows: Debian's 6.12 has no Zicbop.
        names = out.stdout.strip().split("_")
        return "_".join(n for n in names if n not in KERNEL_DOES_NOT_LIST)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emulator", choices=["vessel", "qemu"], default="vessel")
    parser.add_argument("--vessel", default=os.path.join(REPO, "build", "vessel"),
                        help="vessel binary (default: build/vessel)")
    parser.add_argument("--qemu", default="qemu-system-riscv64")
    parser.add_argument("--guest-dir", default=os.path.join(REPO, "guests", "cache", "debian"))
    parser.add_argument("--firmware", choices=["jump", "dynamic", "builtin"], action="append",
                        help="OpenSBI flavour; repeatable (default: both)")
    parser.add_argument("--case", choices=sorted(CASES), action="append",
                        help="repeatable (default: interactive)")
    parser.add_argument("--expect-isa", help="exact isa string /proc/cpuinfo must show")
    parser.add_argument("--expect-isa-from-dtb", action="store_true",
                        help="expect the riscv,isa string of vessel's own device tree")
    parser.add_argument("--memory", default="512M")
    parser.add_argument("--cpus", type=int, default=1, help="harts (vessel --cpus, qemu -smp)")
    parser.add_argument("--boot-timeout", type=float, default=120.0)
    parser.add_argument("--step-timeout", type=float, default=30.0)
    parser.add_argument("--engine", choices=["jit", "interp"],
                        help="vessel --engine (default: vessel's own), checked in its --stats")
    args = parser.parse_args()
    if args.engine and args.emulator != "vessel":
        parser.error("--engine is vessel's: not with --emulator qemu")

    missing = [f for f in ("Image", "initrd.cpio.gz", "fw_jump.bin", "fw_dynamic.bin")
               if not os.path.isfile(os.path.join(args.guest_dir, f))]
    # A missing guest or emulator is a failure, not a skip: CI builds both before testing.
    if missing:
        print(f"FAIL: {args.guest_dir} lacks {', '.join(missing)} (run guests/debian/build.sh)")
        return 1
    binary = args.qemu if args.emulator == "qemu" else args.vessel
    if not shutil.which(binary):
        print(f"FAIL: emulator {binary} not found")
        return 1
    if args.expect_isa_from_dtb and args.emulator == "vessel":
        args.expect_isa = isa_from_dtb(args)

    passed = failed = 0
    for flavour in args.firmware or ["jump", "dynamic"]:
        firmware = ("builtin" if flavour == "builtin"
                    else os.path.join(args.guest_dir, f"fw_{flavour}.bin"))
        for name in args.case or ["interactive"]:
            label = f"{args.emulator} fw_{flavour} {name}"
            try:
                detail = CASES[name](args, firmware)
                print(f"PASS {label}: {detail}", flush=True)
                passed += 1
            except Failure as failure:
                print(f"FAIL {label}: {failure}", flush=True)
                failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
