#!/usr/bin/env python3
"""End-to-end: host faults under a running Debian guest, which must survive them.

  enospc  the disk image sits on a small tmpfs that fills up: the guest's writes fail with
          I/O errors (in its dmesg), the VM runs on, and once the host frees space the same
          writes succeed and land in the image
  eio     an NBD disk whose server (nbdkit's error filter) fails reads while a trigger file
          exists: I/O errors in the guest's dmesg, the VM runs on, reads work again after
  kill9   20 rounds of: boot, check every write synced before the last kill is there, write
          and sync in a loop, kill -9 Vessel at a random moment. One raw disk and one overlay
          disk; at the end both file systems are checked clean by e2fsck on the host

  host_faults_test.py [--vessel PATH] [--guest-dir DIR] [--case NAME ...] [--rounds N]
"""

import os
import random
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from boot_test import Failure  # noqa: E402
from virtio_test import Guest, make_ext4, run_cases  # noqa: E402


def io_errors(g):
    out = g.check("dmesg | grep -c 'I/O error' || true", "count I/O errors in dmesg")
    lines = out.strip().splitlines()
    return int(lines[-1]) if lines and lines[-1].isdigit() else 0


def alive(g, what):
    if "still-alive" not in g.check("echo still-$((1+0))alive | tr -d 1", what):
        g.console.fail(f"{what}: the guest did not answer")


class Tmpfs:
    """A size-limited tmpfs mounted for the test (CI runs as root)."""

    def __init__(self, path, size):
        os.makedirs(path)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path], check=True)
        self.path = path

    def close(self):
        subprocess.run(["umount", "-l", self.path], check=False)


def case_enospc(args, tmp):
    fs = Tmpfs(os.path.join(tmp, "small"), "24M")
    try:
        img = os.path.join(fs.path, "disk.img")
        with open(img, "wb") as f:
            f.truncate(64 << 20)  # sparse: blocks are taken as the guest writes
        filler = os.path.join(fs.path, "filler")
        # Leave about 2 MiB free.
        subprocess.run(["fallocate", "-l", str(22 << 20), filler], check=True)
        g = Guest(args, ["--disk", img])
        try:
            write = "dd if=/dev/zero of=/dev/vda bs=1M count=8 seek=16 oflag=direct conv=fsync"
            _, rc = g.run(write, "write more than the host has room for")
            if rc == 0:
                g.console.fail("an 8 MiB write succeeded on a disk with 2 MiB of host space")
            if io_errors(g) == 0:
                g.console.fail("no I/O error in the guest's dmesg after ENOSPC")
            alive(g, "after ENOSPC")
            os.unlink(filler)  # space returns
            g.check(write.replace("/dev/zero", "/dev/urandom").replace("dd ", "dd 2>&1 "),
                    "the same write once the host has space")
            g.check("dd if=/dev/vda bs=1M count=1 skip=23 iflag=direct 2>/dev/null | md5sum "
                    "> /tmp/sum; cat /tmp/sum", "read it back")
            g.poweroff()
        finally:
            g.close()
        with open(img, "rb") as f:
            f.seek(16 << 20)
            if f.read(8 << 20) == bytes(8 << 20):
                raise Failure("the retried write did not reach the image")
    finally:
        fs.close()
    return "ENOSPC gave the guest I/O errors; the VM ran on and the retry landed"


def case_eio(args, tmp):
    img = os.path.join(tmp, "disk.img")
    with open(img, "wb") as f:
        f.write(os.urandom(1 << 20) * 8)
    trigger = os.path.join(tmp, "fail-now")
    sock = os.path.join(tmp, "nbd.sock")
    # nbdkit writes its pidfile once it accepts connections; the socket's file exists earlier.
    pidfile = os.path.join(tmp, "nbd.pid")
    server = subprocess.Popen(["nbdkit", "--foreground", "--pidfile", pidfile, "--unix", sock,
                               "--filter=error", "file",
                               img, "error=EIO", "error-pread-rate=100%",
                               f"error-file={trigger}"])
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(pidfile) or os.path.getsize(pidfile) == 0:
            if server.poll() is not None or time.monotonic() > deadline:
                raise Failure("nbdkit did not start")
            time.sleep(0.05)
        g = Guest(args, ["--disk", f"nbd+unix:///?socket={sock}"])
        try:
            read = "dd if=/dev/vda of=/dev/null bs=4096 count=8 skip={} iflag=direct"
            g.check(read.format(10), "read while the server is healthy")
            open(trigger, "w").close()
            _, rc = g.run(read.format(100), "read while the server fails reads")
            if rc == 0:
                g.console.fail("a read succeeded while the server returned EIO")
            if io_errors(g) == 0:
                g.console.fail("no I/O error in the guest's dmesg after EIO")
            alive(g, "after EIO")
            os.unlink(trigger)
            g.check(read.format(200), "read once the server is healthy again")
            g.poweroff()
        finally:
            g.close()
    finally:
        server.kill()
        server.wait()
    return "EIO from the server reached the guest's dmesg; the VM ran on and recovered"


WRITER = ("i=$(($(cat /mnt/a/n 2>/dev/null || echo 0)+1)); while true; do "
          "echo $i >> /mnt/a/log; echo $i >> /mnt/b/log; echo $i > /mnt/a/n; sync; "
          "echo synced-$i; i=$((i+1)); done")


def last_line(g, path):
    out = g.check(f"tail -n 1 {path} 2>/dev/null || true", f"the last line of {path}")
    nums = re.findall(r"^(\d+)$", out, re.M)
    return int(nums[-1]) if nums else 0


def kill_round(args, raw, base, overlay, synced, rnd):
    g = Guest(args, ["--disk", raw, "--disk", f"{base},overlay={overlay}"])
    try:
        g.check("mkdir -p /mnt/a /mnt/b && mount -t ext4 /dev/vda /mnt/a && "
                "mount -t ext4 /dev/vdb /mnt/b", "mount both disks")
        for disk in ("a", "b"):
            have = last_line(g, f"/mnt/{disk}/log")
            if have < synced:
                g.console.fail(f"disk {disk}: last line {have}, but {synced} was synced "
                               "before the kill")
        g.console.send(WRITER)
        start = len(g.console.text)
        time.sleep(rnd.uniform(0.3, 1.5))
        found = re.findall(r"synced-(\d+)", g.console.text[start:])
        return int(found[-1]) if found else synced
    finally:
        g.close()  # SIGKILL to the process group


def case_kill9(args, tmp):
    raw = os.path.join(tmp, "raw.ext4")
    base = os.path.join(tmp, "base.ext4")
    overlay = os.path.join(tmp, "disk.overlay")
    make_ext4(raw, {"log": ""})
    make_ext4(base, {"log": ""})
    rnd = random.Random(9)
    synced = 0
    for _ in range(args.rounds):
        synced = kill_round(args, raw, base, overlay, synced, rnd)
    if synced == 0:
        raise Failure("no write was ever synced before a kill")
    # A clean shutdown that also copies the overlay disk, as the guest sees it, to a raw file
    # e2fsck on the host can read.
    flat = os.path.join(tmp, "flat.ext4")
    with open(flat, "wb") as f:
        f.truncate(os.path.getsize(base))
    g = Guest(args, ["--disk", raw, "--disk", f"{base},overlay={overlay}", "--disk", flat])
    try:
        g.check("mkdir -p /mnt/a /mnt/b && mount -t ext4 /dev/vda /mnt/a && "
                "mount -t ext4 /dev/vdb /mnt/b && umount /mnt/a /mnt/b", "replay the journals")
        g.check("dd if=/dev/vdb of=/dev/vdc bs=1M conv=fsync 2>/dev/null", "copy the overlay disk")
        g.poweroff()
    finally:
        g.close()
    for name, image in (("raw", raw), ("overlay", flat)):
        check = subprocess.run(["e2fsck", "-fn", image], capture_output=True, text=True)
        if check.returncode != 0:
            raise Failure(f"e2fsck of the {name} disk: {check.stdout}{check.stderr}")
    return f"{args.rounds} kill -9 rounds, {synced} synced writes kept, e2fsck clean on both"


CASES = {"enospc": case_enospc, "eio": case_eio, "kill9": case_kill9}

if __name__ == "__main__":
    sys.exit(run_cases(__doc__, CASES, extra=lambda p: p.add_argument("--rounds", type=int,
                                                                       default=20)))
