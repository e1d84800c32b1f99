#!/usr/bin/env python3
"""End-to-end: the console's Ctrl-A b sends a break on the serial line, and Debian's kernel
takes the key after it as a magic SysRq command (h: the SysRq help line).

  console_keys_test.py [--vessel PATH] [--guest-dir DIR]
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from virtio_test import Guest, run_cases  # noqa: E402


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


if __name__ == "__main__":
    sys.exit(run_cases(__doc__, {"sysrq": run}))
