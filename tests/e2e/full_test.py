#!/usr/bin/env python3
"""End-to-end: the full Debian 13 system (guests/debian/build.sh --full) on vessel.

Boots full.ext4 through an overlay (the built image stays pristine) with Debian's kernel and
initrd-modules.cpio.gz, root=/dev/vda, user networking with ssh forwarded from a free host
port, and checks:
  login     systemd reaches multi-user.target, the serial getty's prompt takes user `vessel`
            with its password, `systemctl --failed` lists nothing, ssh with the user's key runs
            a command, and `systemctl poweroff` ends vessel with status 0
  full      all of login, then `apt-get update && apt-get install -y hello` inside the guest
            through user networking (the host's mirror), and `systemctl reboot` coming back
            to the login prompt with a new boot id, before the poweroff
  nested    KVM on Vessel's H extension: the guest loads kvm.ko, and Debian's own
            qemu-system-riscv64 -accel kvm boots the same kernel and busybox initrd (from a
            second disk) as a nested guest to its shell; the nested guest reports its ISA and
            powers off, and QEMU exits

  full_test.py --vessel PATH --guest-dir DIR [--firmware builtin|jump] [--case login|full|nested]
               [--qemu qemu-system-riscv64]   (the same checks on QEMU, for reference)
"""

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from boot_test import Console, Failure  # noqa: E402
from virtio_test import free_port  # noqa: E402

USER = "vessel"
LOGIN = re.compile(r"vessel-full login: ")
SHELL = re.compile(r"vessel@vessel-full:[^\n]*\$ ")
STEP_TIMEOUT = 120.0
APT_TIMEOUT = 900.0
NESTED_TIMEOUT = 600.0
NESTED_PROMPT = re.compile(r"vessel:/# ")


def qemu_argv(qemu, guest, image, port):
    """The same boot on QEMU's virt board (fw_jump; -snapshot for the overlay), the reference
    a failure on vessel is compared with."""
    return [qemu, "-M", "virt", "-m", "1G", "-nographic", "-bios", os.path.join(guest, "fw_jump.bin"),
            "-kernel", os.path.join(guest, "Image"),
            "-initrd", os.path.join(guest, "initrd-modules.cpio.gz"),
            "-append", "console=ttyS0 root=/dev/vda rw", "-snapshot",
            "-drive", f"file={image},if=none,format=raw,id=hd0",
            "-device", "virtio-blk-device,drive=hd0",
            "-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:22",
            "-device", "virtio-net-device,netdev=n0"]


class FullGuest:
    """full.ext4 booted on vessel, driven through its serial console and over ssh."""

    def __init__(self, args, tmp, extra_disks=()):
        guest = args.guest_dir
        self.image = os.path.join(guest, "full.ext4")
        self.key = os.path.join(guest, "vessel_ed25519")
        for path in (self.image, self.key):
            if not os.path.exists(path):
                raise Failure(f"{path} is missing (run guests/debian/build.sh --full)")
        self.image_stat = os.stat(self.image)
        self.port = free_port()
        self.boot_timeout = args.boot_timeout
        argv = [args.vessel, "run", "--kernel", os.path.join(guest, "Image"),
                "--initrd", os.path.join(guest, "initrd-modules.cpio.gz"),
                "--disk", f"{self.image},overlay={os.path.join(tmp, 'overlay')}",
                "--append", "console=ttyS0 root=/dev/vda rw", "--memory", "1G",
                "--net", f"user,hostfwd=tcp:127.0.0.1:{self.port}-:22", "--timeout", "3000"]
        if args.firmware == "jump":
            argv += ["--firmware", os.path.join(guest, "fw_jump.bin")]
        for disk in extra_disks:
            argv += ["--disk", f"{disk},readonly"]
        if args.qemu:
            argv = qemu_argv(args.qemu, guest, self.image, self.port)
        self.console = Console(argv, stdin_eof=False)
        self.counter = 0
        self.logged_in = False

    def login(self):
        """Waits for the serial getty's prompt and logs in with the password."""
        self.console.expect(LOGIN, self.boot_timeout, "serial login prompt")
        self.console.send(USER)
        self.console.expect(r"Password: ", STEP_TIMEOUT, "password prompt")
        self.console.send(USER)
        self.console.expect(SHELL, STEP_TIMEOUT, "shell prompt after login")
        # Without the echo and bash's bracketed-paste sequences, a command's output is what
        # lies between the prompt and the marker.
        self.console.send("stty -echo; bind 'set enable-bracketed-paste off'")
        self.console.expect(SHELL, STEP_TIMEOUT, "shell prompt after stty -echo")
        self.logged_in = True

    def run(self, command, what, timeout=STEP_TIMEOUT):
        """Runs command on the console; returns its output and exit status."""
        self.counter += 1
        marker = f"@@done-{self.counter}@@"
        # The marker's text is split in the command, so its echo never matches.
        start = self.console.pos
        self.console.send(f"{command}; echo @@\"done-{self.counter}\"@@ rc=$?")
        match = self.console.expect(re.escape(marker) + r" rc=(\d+)", timeout, what)
        out = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", self.console.text[start:match.start()])
        self.console.expect(SHELL, STEP_TIMEOUT, f"{what}: shell prompt")
        return out.replace("\r", ""), int(match.group(1))

    def check(self, command, what, timeout=STEP_TIMEOUT):
        out, rc = self.run(command, what, timeout)
        if rc != 0:
            self.console.fail(f"{what}: `{command}` exited with {rc}; output: {out!r}")
        return out

    def ssh(self, command, what, timeout=STEP_TIMEOUT):
        argv = ["ssh", "-i", self.key, "-p", str(self.port), "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "ConnectTimeout=30", "-o", "LogLevel=ERROR", f"{USER}@127.0.0.1", command]
        try:
            run = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                 stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            self.console.fail(f"{what}: `{shlex.join(argv)}` still running after {timeout:g} s")
        if run.returncode != 0:
            self.console.fail(f"{what}: `{shlex.join(argv)}` exited with {run.returncode}\n"
                              f"stdout: {run.stdout[-2000:]}\nstderr: {run.stderr[-2000:]}")
        return run.stdout

    def check_system(self):
        """systemd up with nothing failed, checked from the console."""
        out = self.check("systemctl is-system-running --wait", "systemctl is-system-running",
                         self.boot_timeout)
        if "running" not in out.split():
            self.console.fail(f"systemctl is-system-running: {out!r}, expected running")
        self.check("systemctl is-active multi-user.target", "multi-user.target active")
        out = self.check("systemctl --failed --no-legend --plain | wc -l", "systemctl --failed")
        if out.strip().split()[-1:] != ["0"]:
            self.console.fail(f"systemctl --failed lists units: {out!r}")

    def boot_id(self):
        return self.check("cat /proc/sys/kernel/random/boot_id", "boot id").strip().split()[-1]

    def poweroff(self):
        self.console.send("sudo systemctl poweroff")
        status = self.console.wait_exit(STEP_TIMEOUT, "systemctl poweroff")
        if status != 0:
            self.console.fail(f"systemctl poweroff: vessel exited with status {status}, expected 0")
        stat = os.stat(self.image)
        if (stat.st_size, stat.st_mtime_ns) != (self.image_stat.st_size, self.image_stat.st_mtime_ns):
            raise Failure(f"{self.image} changed although the guest wrote to an overlay")

    def close(self):
        self.console.close()


def nested_disk(guest, tmp):
    """An ext4 image holding the nested guest's kernel and initrd (/dev/vdb in the guest)."""
    files = os.path.join(tmp, "nested")
    os.mkdir(files)
    for name in ("Image", "initrd.cpio.gz"):
        shutil.copyfile(os.path.join(guest, name), os.path.join(files, name))
    image = os.path.join(tmp, "nested.ext4")
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", files, image, "128M"], check=True,
                   stdout=subprocess.DEVNULL)
    return image


def case_nested(g):
    if not g.logged_in:
        g.login()
    g.check("sudo modprobe kvm && test -c /dev/kvm", "kvm.ko and /dev/kvm")
    g.check("sudo mount -o ro /dev/vdb /mnt", "mount the nested guest's disk")
    started = time.monotonic()
    g.console.send("sudo qemu-system-riscv64 -M virt -accel kvm -cpu host -m 256M -smp 1 "
                   "-nographic -kernel /mnt/Image -initrd /mnt/initrd.cpio.gz "
                   "-append 'console=ttyS0 quiet'")
    g.console.expect(re.escape("vessel-guest: userspace up"), NESTED_TIMEOUT,
                     "the nested guest's userspace under qemu -accel kvm")
    booted = time.monotonic() - started
    g.console.expect(NESTED_PROMPT, STEP_TIMEOUT, "the nested guest's shell")
    g.console.send("grep -m1 '^isa' /proc/cpuinfo; poweroff -f")
    isa = g.console.expect(r"isa\s*:\s*(rv64\S*)\r?\n", STEP_TIMEOUT, "the nested guest's ISA")
    g.console.expect(SHELL, STEP_TIMEOUT, "back to the guest's shell after the nested poweroff")
    print(f"full_test: qemu-system-riscv64 -accel kvm in the guest booted the nested guest to "
          f"userspace in {booted:.1f} s ({isa.group(1)})")


def case_login(g):
    g.login()
    g.check_system()
    out = g.ssh("uname -m; cat /etc/hostname; id -un", "ssh with the user's key")
    if out.split() != ["riscv64", "vessel-full", USER]:
        g.console.fail(f"ssh: unexpected output {out!r}")
    print("full_test: login on ttyS0, no failed units, ssh runs commands")


def case_full(g):
    case_login(g)
    out = g.ssh("sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y hello"
                " && hello", "apt-get update and install through user networking", APT_TIMEOUT)
    if "Hello, world!" not in out:
        g.console.fail(f"hello after apt-get install printed {out[-500:]!r}")
    print("full_test: apt-get update && apt-get install -y hello through the host's mirror")
    first = g.boot_id()
    g.console.send("sudo systemctl reboot")
    g.login()
    if g.boot_id() == first:
        g.console.fail("systemctl reboot: the boot id did not change")
    g.check_system()
    print("full_test: systemctl reboot came back to the login prompt")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vessel", required=True)
    parser.add_argument("--guest-dir", required=True)
    parser.add_argument("--firmware", choices=["builtin", "jump"], default="builtin")
    parser.add_argument("--case", choices=["login", "full", "nested"], action="append",
                        help="what to check, in order, in one boot (default: full)")
    parser.add_argument("--qemu", metavar="PATH",
                        help="boot on qemu-system-riscv64 -M virt instead (fw_jump), for reference")
    parser.add_argument("--boot-timeout", type=float, default=400.0)
    args = parser.parse_args()
    args.case = args.case or ["full"]
    with tempfile.TemporaryDirectory(prefix="vessel-full-") as tmp:
        try:
            extra = [nested_disk(args.guest_dir, tmp)] if "nested" in args.case else []
            g = FullGuest(args, tmp, extra)
        except Failure as error:
            print(f"FAIL: {error}", file=sys.stderr)
            return 1
        try:
            for case in args.case:
                {"login": case_login, "full": case_full, "nested": case_nested}[case](g)
            g.poweroff()
        except Failure as error:
            print(f"FAIL: {error}", file=sys.stderr)
            # Two boots of systemd say more than the tail shows.
            log = os.path.join(tempfile.gettempdir(), f"vessel-full-test-{os.getpid()}.log")
            with open(log, "w") as f:
                f.write(g.console.text)
            print(f"whole console output in {log}", file=sys.stderr)
            return 1
        finally:
            g.close()
    where = "qemu, fw_jump" if args.qemu else f"{args.firmware} firmware"
    print(f"full_test: {', '.join(args.case)} passed ({where})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
