#!/usr/bin/env python3
"""End-to-end: the virtio memory balloon with Debian's virtio_balloon driver.

Boots with --balloon amount=64,stats=1 and 512 MiB, then checks:
  - the driver takes the 64 MiB at boot (the monitor's `info balloon` says actual=448);
  - the monitor's `balloon 320` makes the guest give up 128 MiB more (MemTotal drops by it);
  - the statistics the driver reports reach --stats (SIGUSR1), under Firecracker's names;
  - `balloon 512` gives it all back (MemTotal returns), and 300 MiB of it can be used.

  balloon_test.py [--vessel PATH] [--guest-dir DIR]
"""

import json
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from boot_test import Failure  # noqa: E402
from virtio_test import Guest, run_cases  # noqa: E402


def mem_total_kib(g):
    out = g.check("grep MemTotal /proc/meminfo", "MemTotal")
    m = re.search(r"MemTotal:\s+(\d+) kB", out)
    if not m:
        g.console.fail(f"no MemTotal in {out!r}")
    return int(m.group(1))


def monitor(g, command):
    """One command through Ctrl-A c's monitor; returns to the guest console afterwards."""
    start = len(g.console.text)
    g.console.proc.stdin.write(b"\x01c" + command.encode() + b"\r\x01c")
    g.console.proc.stdin.flush()
    time.sleep(0.5)
    return g.console.text[start:]


def wait_for(what, cond, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.5)
    raise Failure(f"{what}: not within {timeout} s")


def stats(g):
    start = len(g.console.text)
    os.kill(g.console.proc.pid, signal.SIGUSR1)
    time.sleep(1.5)  # the supervisor answers within its 1 s tick
    for line in g.console.text[start:].splitlines():
        line = line.strip()
        if line.startswith("{") and '"balloon"' in line:
            return json.loads(line)["balloon"]
    return None


def run(args, _tmp):
    g = Guest(args, ["--balloon", "amount=64,stats=1"])
    try:
        wait_for("the balloon inflating to 64 MiB at boot",
                 lambda: "balloon: actual=448" in monitor(g, "info balloon"))
        before = mem_total_kib(g)
        monitor(g, "balloon 320")
        wait_for("the guest giving up 128 MiB more",
                 lambda: "balloon: actual=320" in monitor(g, "info balloon"))
        after = mem_total_kib(g)
        if not 120 * 1024 <= before - after <= 136 * 1024:
            g.console.fail(f"MemTotal went from {before} to {after} kB, not down by 128 MiB")
        b = wait_for("balloon statistics in --stats", lambda: (s := stats(g)) and
                     "free_memory" in s and s)
        if b["target_mib"] != 192 or b["actual_mib"] != 192 or b["released_pages"] < 192 * 256:
            g.console.fail(f"balloon figures: {b}")
        if not 0 < b["free_memory"] <= b["total_memory"] <= 512 << 20:
            g.console.fail(f"implausible statistics: {b}")
        monitor(g, "balloon 512")
        wait_for("the balloon deflating", lambda: "balloon: actual=512" in monitor(g, "info balloon"))
        back = mem_total_kib(g)
        if back - after < 180 * 1024:
            g.console.fail(f"MemTotal only came back to {back} kB from {after} kB")
        # The pages given back are usable: 300 MiB in a tmpfs, then freed.
        g.check("mkdir -p /big && mount -t tmpfs -o size=320M none /big && "
                "dd if=/dev/zero of=/big/fill bs=1M count=300 2>/dev/null && rm /big/fill && "
                "umount /big", "fill 300 MiB of the memory given back")
        g.poweroff()
    finally:
        g.close()
    return (f"inflated 64 then 192 MiB (MemTotal {before} -> {after} kB), stats "
            f"free={b['free_memory']}, deflated back to {back} kB")


if __name__ == "__main__":
    sys.exit(run_cases(__doc__, {"balloon": run}))
