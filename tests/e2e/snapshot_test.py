#!/usr/bin/env python3
"""End-to-end snapshot and restore of Debian's kernel on vessel (docs/snapshot.md).

Boots the reference guest (busybox initramfs) with --api-sock, starts a counter loop that
prints `tick N` on the serial console, takes a snapshot with `vessel snapshot --stay-paused`
(PATCH /vm Paused, PUT /snapshot/create), resumes the VM (PATCH /vm Resumed), lets it print a
few more ticks and kills it, then restores the snapshot with `vessel run --restore DIR` and
checks that the ticks printed before the pause and after the restore run on without a gap or
a repeat, and that the restored shell still takes input.

  snapshot_test.py --vessel PATH --guest-dir DIR [--engine jit|interp] [--cpus N]
"""

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from boot_test import PROMPT, USERSPACE_UP, Console, Failure  # noqa: E402

BOOT_TIMEOUT = 300.0
STEP_TIMEOUT = 60.0
TICKS_BEFORE = 5  # ticks seen before the snapshot
TICKS_AFTER = 5  # ticks the restored guest must print
TICK = re.compile(r"^tick (\d+)\r?$", re.M)


def api(sock, method, path, body):
    """One request to the per-VM API on its Unix socket; raises Failure unless it is 2xx."""
    conn = http.client.HTTPConnection("localhost")
    conn.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.sock.settimeout(STEP_TIMEOUT)
    conn.sock.connect(sock)
    conn.request(method, path, json.dumps(body), {"Content-Type": "application/json"})
    r = conn.getresponse()
    text = r.read().decode()
    conn.close()
    if r.status // 100 != 2:
        raise Failure(f"{method} {path}: {r.status} {text}")


def ticks(text):
    return [int(n) for n in TICK.findall(text.replace("\r", ""))]


def check_run_on(numbers, what):
    if not numbers:
        raise Failure(f"{what}: no ticks at all")
    for a, b in zip(numbers, numbers[1:]):
        if b != a + 1:
            raise Failure(f"{what}: tick {b} after tick {a} (in {numbers})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", required=True)
    ap.add_argument("--guest-dir", required=True)
    ap.add_argument("--engine", default="jit")
    ap.add_argument("--cpus", default="1")
    args = ap.parse_args()
    guest = args.guest_dir
    tmp = tempfile.mkdtemp(prefix="vessel-snapshot-")
    sock = os.path.join(tmp, "api.sock")
    snap = os.path.join(tmp, "snap")
    first = restored = None
    try:
        argv = [args.vessel, "run", "--kernel", os.path.join(guest, "Image"),
                "--initrd", os.path.join(guest, "initrd.cpio.gz"), "--append", "console=ttyS0",
                "--memory", "512M", "--cpus", args.cpus, "--engine", args.engine,
                "--api-sock", sock, "--timeout", "600"]
        first = Console(argv, stdin_eof=False)
        first.expect(re.escape(USERSPACE_UP), BOOT_TIMEOUT, "boot to userspace")
        first.expect(PROMPT, STEP_TIMEOUT, "shell prompt")
        # The loop's text is split so that its echo is no tick line.
        first.send('i=0; while true; do i=$((i+1)); echo "ti""ck $i"; sleep 0.2; done')
        first.expect(rf"\ntick {TICKS_BEFORE}\r*\n", STEP_TIMEOUT, f"tick {TICKS_BEFORE}")

        snap_cmd = [args.vessel, "snapshot", "--api-sock", sock, "--stay-paused", snap]
        started = time.monotonic()
        done = subprocess.run(snap_cmd, capture_output=True, text=True, timeout=STEP_TIMEOUT)
        if done.returncode != 0:
            first.fail(f"vessel snapshot: status {done.returncode}: {done.stderr.strip()}")
        print(f"snapshot taken in {time.monotonic() - started:.2f} s "
              f"(memory file {os.path.getsize(os.path.join(snap, 'memory')) >> 20} MiB apparent)")
        time.sleep(0.5)  # whatever the guest printed before the pause reaches us
        with first.cond:
            before = first.text
        # The source runs on (and changes its memory) before it dies: the restore must not
        # see any of that.
        api(sock, "PATCH", "/vm", {"state": "Resumed"})
        last = ticks(before)[-1]
        first.expect(rf"\ntick {last + 3}\r*\n", STEP_TIMEOUT, f"tick {last + 3} after resuming")
        first.close()
        first = None

        restored = Console([args.vessel, "run", "--restore", snap, "--engine", args.engine,
                            "--timeout", "600"], stdin_eof=False)
        restored.expect(rf"\ntick {last + TICKS_AFTER}\r*\n", STEP_TIMEOUT,
                        f"tick {last + TICKS_AFTER} after the restore")
        numbers = ticks(before + restored.text)
        check_run_on(numbers, "ticks across the snapshot")
        # The restored guest still takes input: Ctrl-C ends the loop, and its shell answers.
        restored.proc.stdin.write(b"\x03")
        restored.proc.stdin.flush()
        restored.expect(PROMPT, STEP_TIMEOUT, "the shell after Ctrl-C")
        restored.send("echo @@\"alive\"@@")
        restored.expect(r"@@alive@@", STEP_TIMEOUT, "the restored guest's shell")
        print(f"ok: ticks 1..{numbers[-1]} run on across the restore "
              f"(engine {args.engine}, {args.cpus} harts)")
        return 0
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    finally:
        for c in (first, restored):
            if c is not None:
                c.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
