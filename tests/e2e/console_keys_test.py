#!/usr/bin/env python3
"""End-to-end: the console's escapes other than the monitor.
  sysrq     Ctrl-A b sends a break on the serial line, and Debian's kernel takes the key
            after it as a magic SysRq command (h: the SysRq help line)
  snapshot  with --snapshot, what the guest writes to its disk stays out of the image until
            Ctrl-A s writes it back; what it writes after that is gone when the VM ends

  console_keys_test.py [--vessel PATH] [--guest-dir DIR]
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from boot_test import Failure  # noqa: E402
from virtio_test import Guest, run_cases  # noqa: E402

SECTOR = 8  # where the guest writes its markers (bytes 4096..), well inside the image


def keys(g, data):
    g.console.proc.stdin.write(data)
    g.console.proc.stdin.flush()


def run(args, _tmp):
    g = Guest(args, [])
    try:
        g.check("echo 1 > /proc/sys/kernel/sysrq", "enable every SysRq function")
        keys(g, b"\x01b")
        time.sleep(0.3)
        keys(g, b"h")
        g.console.expect(r"sysrq: HELP : loglevel\(0-9\)", 20, "the SysRq help after Ctrl-A b, h")
        # Without a break, h is an ordinary key for the shell.
        out = g.check("echo plain-h-ok", "the shell after SysRq")
        if "plain-h-ok" not in out:
            g.console.fail(f"the shell did not answer after SysRq: {out!r}")
        g.poweroff()
    finally:
        g.close()
    return "Ctrl-A b then h printed the kernel's SysRq help"


def image_has(image, marker):
    with open(image, "rb") as f:
        f.seek(SECTOR * 512)
        return f.read(len(marker)) == marker.encode()


def snapshot(args, tmp):
    image = os.path.join(tmp, "disk.img")
    with open(image, "wb") as f:
        f.truncate(8 << 20)
    g = Guest(args, ["--snapshot", "--disk", image])
    try:
        def put(marker):
            g.check(f"printf {marker} > /tmp/m && dd if=/tmp/m of=/dev/vda bs=512 seek={SECTOR} "
                    "conv=fsync 2>/dev/null && sync", f"write {marker} to /dev/vda")
        put("snapmark-one")
        if image_has(image, "snapmark-one"):
            raise Failure("the guest's write reached the image before Ctrl-A s")
        keys(g, b"\x01s")
        g.console.expect(r"--snapshot, [a-z_]+\): 64K written back", 30, "Ctrl-A s's report")
        if not image_has(image, "snapmark-one"):
            raise Failure("Ctrl-A s reported a write-back, but the image lacks the marker")
        out = g.check(f"dd if=/dev/vda bs=512 skip={SECTOR} count=1 2>/dev/null | head -c 12",
                      "read the marker back")
        if "snapmark-one" not in out:
            g.console.fail(f"the guest lost its own write after the write-back: {out!r}")
        put("snapmark-two")
        g.poweroff()
    finally:
        g.close()
    if not image_has(image, "snapmark-one"):
        raise Failure("the written-back marker is gone after the VM ended")
    leftovers = [n for n in os.listdir(os.environ.get("TMPDIR", "/var/tmp"))
                 if n.startswith("vessel-snapshot-")]
    if leftovers:
        raise Failure(f"temporary overlays left behind: {leftovers}")
    return "Ctrl-A s wrote the guest's disk back (64K); the later write was dropped at exit"


if __name__ == "__main__":
    sys.exit(run_cases(__doc__, {"sysrq": run, "snapshot": snapshot}))
