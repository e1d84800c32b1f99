#!/usr/bin/env python3
"""End-to-end: a qcow2 disk with a backing file, served by qemu-nbd, as Debian's /dev/vda.

The guest mounts it, reads the host's file, writes its own and syncs. Then qemu-nbd is killed
while the guest reads: the guest sees I/O errors and keeps running, and once qemu-nbd is back
Vessel has reconnected and reads work again. After poweroff, on the host: `qemu-img check` of
the top image is clean, the backing file is unchanged, and the guest's file is read back
through qemu-nbd.

  nbd_test.py [--vessel PATH] [--guest-dir DIR]
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from boot_test import Failure  # noqa: E402
from virtio_test import Guest, debugfs_cat, make_ext4, run_cases, sha256  # noqa: E402


class QemuNbd:
    """qemu-nbd serving one image on a Unix socket, for as many clients as come (-t)."""

    def __init__(self, image, socket_path, extra=()):
        self.socket = socket_path
        # The pidfile is written once the server listens; the socket's file exists before.
        pidfile = socket_path + ".pid"
        for path in (socket_path, pidfile):
            if os.path.exists(path):
                os.unlink(path)
        self.proc = subprocess.Popen(["qemu-nbd", "-t", "-f", "qcow2", "-k", socket_path,
                                      f"--pid-file={pidfile}", *extra, image])
        deadline = time.monotonic() + 10
        while not os.path.exists(pidfile) or os.path.getsize(pidfile) == 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise Failure(f"qemu-nbd did not start serving {image}")
            time.sleep(0.05)

    @property
    def uri(self):
        return f"nbd+unix:///?socket={self.socket}"

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def make_images(tmp):
    raw = os.path.join(tmp, "base.raw")
    make_ext4(raw, {"hello.txt": "hello from the backing file\n"})
    base = os.path.join(tmp, "base.qcow2")
    top = os.path.join(tmp, "top.qcow2")
    subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, base], check=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", top],
                   check=True)
    return base, top


def outage(g, tmp, server, top):
    """Kills qemu-nbd under the guest's reads, then brings it back."""
    server.kill()
    read = "dd if=/dev/vda of=/dev/null bs=4096 count=16 skip={} iflag=direct"
    _, rc = g.run(read.format(1000), "read while the server is gone")
    if rc == 0:
        g.console.fail("a direct read succeeded with the NBD server killed")
    out = g.check("dmesg | grep -c 'I/O error' || true", "dmesg after the failed read")
    if not out.strip().splitlines() or out.strip().splitlines()[-1] == "0":
        g.console.fail(f"no I/O error in the guest's dmesg: {out!r}")
    server = QemuNbd(top, os.path.join(tmp, "sock"))
    for attempt in range(30):
        _, rc = g.run(read.format(2000 + attempt * 16), "read after the server came back")
        if rc == 0:
            return server
        time.sleep(0.5)
    g.console.fail("reads still fail 15 s after qemu-nbd came back")
    return server


def run_case(args, tmp):
    base, top = make_images(tmp)
    base_sum = sha256(base)
    server = QemuNbd(top, os.path.join(tmp, "sock"))
    try:
        g = Guest(args, ["--disk", server.uri + ",timeout=5"])
        try:
            g.check("mkdir -p /mnt && mount -t ext4 /dev/vda /mnt", "mount the NBD disk")
            out = g.check("cat /mnt/hello.txt", "read the backing file's file")
            if "hello from the backing file" not in out:
                g.console.fail(f"cat /mnt/hello.txt gave {out!r}")
            g.check("echo written over nbd > /mnt/guest.txt && sync && umount /mnt",
                    "write and sync")
            server = outage(g, tmp, server, top)
            g.check("dd if=/dev/vda of=/dev/null bs=1M count=4 iflag=direct", "read after outage")
            g.poweroff()
        finally:
            g.close()
    finally:
        server.kill()
    check = subprocess.run(["qemu-img", "check", top], capture_output=True, text=True)
    if check.returncode != 0:
        raise Failure(f"qemu-img check {top}: {check.stdout}{check.stderr}")
    if sha256(base) != base_sum:
        raise Failure("the backing file changed: writes must land in the top image")
    reader = QemuNbd(top, os.path.join(tmp, "sock-read"), ["--read-only"])
    try:
        out = os.path.join(tmp, "readback.raw")
        subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "raw", reader.uri, out],
                       check=True)
    finally:
        reader.kill()
    got = debugfs_cat(out, "guest.txt")
    if "written over nbd" not in got:
        raise Failure(f"the image read back through qemu-nbd lacks the guest's file: {got!r}")
    return "qcow2 over qemu-nbd: read, wrote, survived an outage, qemu-img check clean"


if __name__ == "__main__":
    sys.exit(run_cases(__doc__, {"nbd": run_case}, tools=("qemu-nbd", "qemu-img", "mkfs.ext4", "debugfs")))
