#!/usr/bin/env python3
"""End-to-end: the serial console on a Unix socket (--console-socket) and on disk (--console-log).

Boots the Debian reference guest with both and no terminal, then checks:
  - the socket is there with mode 0600; vessel reads nothing from its stdin and writes nothing
    to its stdout;
  - two viewers, `vessel attach` and a plain socket, both see the boot; `echo hello-$((6*7))`
    typed into one answers hello-42 on both;
  - the log holds the boot messages, rotates (PATH.1) under more output and stays within its
    size, and `vessel logs --file` prints it in order;
  - a guest reboot keeps both viewers connected, and they see the second boot;
  - Ctrl-A x detaches `vessel attach` (one line, status 0) while the VM runs on;
  - `poweroff -f` ends vessel with status 0, the socket is gone, and the log has the last words.

  console_test.py [--vessel PATH] [--guest-dir DIR]
"""

import argparse
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from boot_test import PROMPT, REPO, USERSPACE_UP, Console, Failure  # noqa: E402

BOOT_TIMEOUT = 240.0
STEP_TIMEOUT = 60.0
LOG_SIZE = 64 * 1024  # --console-log ...,size=64K: PATH and PATH.1 at most 32K each


class SocketConnection:
    """A connection to the console socket, in the shape of the process a Console reads."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.stdout = self.sock  # read through its fileno(), as a pipe is
        self.stdin = self.sock.makefile("wb")
        self.returncode = "(connection closed)"

    def wait(self, timeout=None):
        return self.returncode

    def poll(self):
        return self.returncode


class SocketViewer(Console):
    """A viewer connected straight to the console socket, with a Console's expect()."""

    def __init__(self, path):
        super().__init__(["socket", path], stdin_eof=False, proc=SocketConnection(path))

    def wait_eof(self, timeout, what):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.eof:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.fail(f"{what}: the connection is still open after {timeout:g} s")
                self.cond.wait(left)

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # closed by the other side already
        self.reader.join(timeout=5)
        self.proc.sock.close()


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise Failure(f"{what}: not within {timeout:g} s")
        time.sleep(0.05)


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def size(path):
    return os.path.getsize(path) if os.path.exists(path) else 0


def check_log_bound(log):
    for path in (log, log + ".1"):
        if size(path) > LOG_SIZE // 2:
            raise Failure(f"{path} holds {size(path)} bytes, more than half of {LOG_SIZE}")


def run_test(args, tmp):
    sock = os.path.join(tmp, "console.sock")
    log = os.path.join(tmp, "console.log")
    guest = args.guest_dir
    argv = [args.vessel, "run", "--kernel", os.path.join(guest, "Image"),
            "--initrd", os.path.join(guest, "initrd.cpio.gz"), "--append", "console=ttyS0",
            "--memory", "256M", "--console-socket", sock, "--console-log", f"{log},size=64K",
            "--timeout", "900"]
    vm = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, start_new_session=True)
    attach = viewer = None
    try:
        # Typed on vessel's own stdin: with a console socket nobody reads it.
        vm.stdin.write(b"echo from-stdin-$((1+1))\n")
        vm.stdin.flush()
        wait_for(lambda: os.path.exists(sock) or vm.poll() is not None, STEP_TIMEOUT,
                 "the console socket appearing")
        if vm.poll() is not None:
            raise Failure(f"vessel exited with {vm.returncode}: {vm.stderr.read().decode()}")
        mode = stat.S_IMODE(os.lstat(sock).st_mode)
        if mode != 0o600:
            raise Failure(f"{sock} has mode {mode:o}, expected 600")

        attach = Console([args.vessel, "attach", sock], stdin_eof=False)
        viewer = SocketViewer(sock)
        for v, name in ((attach, "vessel attach"), (viewer, "socket viewer")):
            v.expect(re.escape(USERSPACE_UP), BOOT_TIMEOUT, f"{name}: boot to userspace")
            v.expect(PROMPT, STEP_TIMEOUT, f"{name}: shell prompt")

        # The log has the boot from its first line, within a second or so of its printing.
        wait_for(lambda: "Linux version" in read(log) and USERSPACE_UP in read(log), 10,
                 "the boot messages in the log")
        check_log_bound(log)

        attach.send("echo hello-$((6*7))")
        for v, name in ((attach, "vessel attach"), (viewer, "socket viewer")):
            v.expect(r"hello-42\r?\n", STEP_TIMEOUT, f"{name}: hello-42 from the other's typing")
            v.expect(PROMPT, STEP_TIMEOUT, f"{name}: prompt after echo")

        # Enough output for the log to rotate, typed by the other viewer.
        viewer.send("seq 1 12000; echo seq-$((1+2))-done")
        for v, name in ((viewer, "socket viewer"), (attach, "vessel attach")):
            v.expect(r"\n12000\r?\n", STEP_TIMEOUT, f"{name}: the end of seq")
            v.expect(r"seq-3-done\r?\n", STEP_TIMEOUT, f"{name}: seq done")
        wait_for(lambda: "seq-3-done" in read(log), 10, "the end of seq in the log")
        if not os.path.exists(log + ".1"):
            raise Failure(f"{log}.1 missing after {size(log)} + more bytes of output")
        check_log_bound(log)
        printed = subprocess.run([args.vessel, "logs", "--file", log], capture_output=True,
                                 timeout=STEP_TIMEOUT).stdout.decode("utf-8", "replace")
        if len(printed) > LOG_SIZE or len(printed) < LOG_SIZE // 2:
            raise Failure(f"vessel logs printed {len(printed)} bytes for a {LOG_SIZE}-byte ring")
        # The ring's oldest line may be cut anywhere: it does not count.
        numbers = [int(n) for n in re.findall(r"(?m)^(\d+)\r?$", printed.split("\n", 1)[-1])]
        if not numbers or numbers != list(range(numbers[0], 12001)):
            raise Failure(f"vessel logs: seq's lines not complete and in order (from "
                          f"{numbers[:1]} to {numbers[-1:]}, {len(numbers)} lines)")

        viewer.send("reboot -f")
        for v, name in ((viewer, "socket viewer"), (attach, "vessel attach")):
            v.expect(r"reboot: Restarting system", STEP_TIMEOUT, f"{name}: reboot -f")
            v.expect(r"Linux version", BOOT_TIMEOUT, f"{name}: the kernel again after reboot")
            v.expect(re.escape(USERSPACE_UP), BOOT_TIMEOUT, f"{name}: second boot to userspace")
            v.expect(PROMPT, STEP_TIMEOUT, f"{name}: shell prompt after reboot")

        attach.proc.stdin.write(b"\x01x")
        attach.proc.stdin.flush()
        status = attach.wait_exit(STEP_TIMEOUT, "Ctrl-A x detaching vessel attach")
        attach.reader.join(timeout=5)
        if status != 0:
            attach.fail(f"vessel attach ended with {status} after Ctrl-A x, expected 0")
        if not re.search(r"vessel: detached from .*console\.sock\n$", attach.text):
            attach.fail("vessel attach did not end with one line saying it detached")

        # The VM runs on for the remaining viewer.
        viewer.send("echo still-$((3*3))")
        viewer.expect(r"still-9\r?\n", STEP_TIMEOUT, "the VM still answering after the detach")
        viewer.expect(PROMPT, STEP_TIMEOUT, "prompt after the detach")
        viewer.send("poweroff -f")
        try:
            status = vm.wait(STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Failure("poweroff -f: vessel still running")
        out, err = vm.communicate()
        if status != 0:
            raise Failure(f"poweroff -f: vessel exited with {status}, expected 0; stderr: {err!r}")
        viewer.wait_eof(STEP_TIMEOUT, "the socket viewer after poweroff")
        if os.path.exists(sock):
            raise Failure(f"{sock} still exists after vessel ended")
        if out:
            raise Failure(f"vessel wrote the console to its stdout too: {out[:200]!r}")
        for v, name in ((viewer, "socket viewer"), (attach, "vessel attach")):
            if "from-stdin-2" in v.text:
                raise Failure(f"{name}: vessel read its stdin into the guest")
        if "reboot: Power down" not in read(log):
            raise Failure("the log lacks the last words (reboot: Power down)")
        check_log_bound(log)
        return (f"two viewers, hello-42 on both, log {size(log + '.1')}+{size(log)} bytes "
                f"of {LOG_SIZE}, reboot kept the viewers, detach, poweroff 0, socket removed")
    finally:
        for v in (attach, viewer):
            if v is not None:
                v.close()
        if vm.poll() is None:
            os.killpg(vm.pid, signal.SIGKILL)
            vm.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vessel", default=os.path.join(REPO, "build", "vessel"))
    parser.add_argument("--guest-dir", default=os.path.join(REPO, "guests", "cache", "debian"))
    args = parser.parse_args()
    missing = [f for f in ("Image", "initrd.cpio.gz")
               if not os.path.isfile(os.path.join(args.guest_dir, f))]
    if missing:
        print(f"FAIL: {args.guest_dir} lacks {', '.join(missing)} (run guests/debian/build.sh)")
        return 1
    # A short directory: socket paths must fit in sun_path.
    with tempfile.TemporaryDirectory(prefix="vcon.", dir="/tmp") as tmp:
        try:
            print(f"PASS console: {run_test(args, tmp)}", flush=True)
            return 0
        except Failure as failure:
            print(f"FAIL console: {failure}", flush=True)
            return 1


if __name__ == "__main__":
    sys.exit(main())
