#!/usr/bin/env python3
"""End-to-end snapshot and restore of Debian's kernel on vessel (docs/snapshot.md).

Boots the reference guest (busybox initramfs) with --api-sock, starts a counter loop that
prints `tick N` on the serial console, takes a snapshot with `vessel snapshot --stay-paused`
(PATCH /vm Paused, PUT /snapshot/create), resumes the VM (PATCH /vm Resumed), lets it print a
few more ticks and kills it, then restores the snapshot with `vessel run --restore DIR` and
checks that the ticks printed before the pause and after the restore run on without a gap or
a repeat, and that the restored shell still takes input. Both VMs run with seccomp enforce (the
default): every thread of both processes is checked to have its filter.

With --balloon the guest has a virtio-balloon of 64 MiB: MemTotal after the restore is what it
was before the snapshot (the balloon's pages stay given), and the restored balloon deflates when
the monitor's `balloon 512` asks it to (MemTotal grows back by its 64 MiB).

With --diff a Full snapshot is taken, the guest runs on (its loop dirties memory), then a Diff
snapshot (`vessel snapshot --diff`); the Diff's memory file is layered onto a copy of the
Full's with `vessel rebase-snap`, and the restore from the Diff's state file goes on from the
Diff's tick. The Diff's memory file must hold less data than the Full's.

  snapshot_test.py --vessel PATH --guest-dir DIR [--engine jit|interp] [--cpus N] [--balloon]
                   [--diff]
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


def mem_total_kib(console, what):
    """MemTotal in the guest, through its shell (the loop not running)."""
    console.send("grep Mem""Total /proc/meminfo")
    return int(console.expect(r"MemTotal:\s+(\d+) kB", STEP_TIMEOUT, what).group(1))


def settled_mem_total(console):
    """MemTotal once the balloon driver has taken its pages (two reads a second apart agree)."""
    last = None
    for _ in range(60):
        now = mem_total_kib(console, "MemTotal while the balloon inflates")
        if now == last:
            return now
        last = now
        time.sleep(1)
    raise Failure(f"MemTotal still changing after 60 s ({last} kB)")


def check_balloon_after_restore(console, before_kib):
    """The restored guest keeps its balloon, and the restored device still deflates."""
    after = mem_total_kib(console, "MemTotal after the restore")
    if after != before_kib:
        raise Failure(f"MemTotal {after} kB after the restore, {before_kib} kB before")
    console.proc.stdin.write(b"\x01cballoon 512\r\x01c")
    console.proc.stdin.flush()
    deadline = time.monotonic() + STEP_TIMEOUT
    while time.monotonic() < deadline:
        time.sleep(1)
        now = mem_total_kib(console, "MemTotal while the balloon deflates")
        if now >= before_kib + 60 * 1024:
            return f"MemTotal {before_kib} kB kept, {now} kB after deflating"
    raise Failure(f"the restored balloon did not deflate (MemTotal {now} kB)")


def check_filtered(console, what):
    """Every thread of the VM process runs under its seccomp filter (the default, enforce)."""
    pid = console.proc.pid
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            mode = re.search(r"^Seccomp:\s*(\d)", f.read(), re.M)
        if mode is None or mode.group(1) != "2":
            console.fail(f"{what}: thread {tid} has no seccomp filter ({mode and mode.group(0)})")


def data_bytes(path):
    """Bytes a sparse file holds as data (its allocated blocks)."""
    return os.stat(path).st_blocks * 512


def take_snapshot(args, console, sock, directory, extra):
    cmd = [args.vessel, "snapshot", "--api-sock", sock, "--stay-paused"] + extra + [directory]
    started = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=STEP_TIMEOUT)
    if done.returncode != 0:
        console.fail(f"vessel snapshot {extra}: status {done.returncode}: {done.stderr.strip()}")
    memory = os.path.join(directory, "memory")
    print(f"snapshot {' '.join(extra) or 'Full'} taken in {time.monotonic() - started:.2f} s "
          f"(memory file {os.path.getsize(memory) >> 20} MiB apparent, "
          f"{data_bytes(memory) / 2**20:.1f} MiB data)")


def layer_diff(args, console, full, diff, merged):
    """merged = the Full's memory with the Diff's pages on it, and the Diff's state file."""
    if data_bytes(os.path.join(diff, "memory")) >= data_bytes(os.path.join(full, "memory")):
        console.fail("the Diff's memory file holds as much data as the Full's")
    os.makedirs(merged)
    shutil.copy(os.path.join(diff, "vmstate"), os.path.join(merged, "vmstate"))
    subprocess.run(["cp", "--sparse=always", os.path.join(full, "memory"),
                    os.path.join(merged, "memory")], check=True)
    done = subprocess.run([args.vessel, "rebase-snap", "--base-file",
                           os.path.join(merged, "memory"), "--diff-file",
                           os.path.join(diff, "memory")], capture_output=True, text=True)
    if done.returncode != 0:
        console.fail(f"vessel rebase-snap: status {done.returncode}: {done.stderr.strip()}")


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
    ap.add_argument("--balloon", action="store_true")
    ap.add_argument("--diff", action="store_true")
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
        if args.balloon:
            argv += ["--balloon", "amount=64"]
        first = Console(argv, stdin_eof=False)
        first.expect(re.escape(USERSPACE_UP), BOOT_TIMEOUT, "boot to userspace")
        first.expect(PROMPT, STEP_TIMEOUT, "shell prompt")
        mem_before = settled_mem_total(first) if args.balloon else None
        check_filtered(first, "the VM snapshotted")
        # The loop's text is split so that its echo is no tick line.
        first.send('i=0; while true; do i=$((i+1)); echo "ti""ck $i"; sleep 0.2; done')
        first.expect(rf"\ntick {TICKS_BEFORE}\r*\n", STEP_TIMEOUT, f"tick {TICKS_BEFORE}")

        if args.diff:
            full = os.path.join(tmp, "full")
            take_snapshot(args, first, sock, full, [])
            api(sock, "PATCH", "/vm", {"state": "Resumed"})
            seen = ticks(first.text)[-1]
            first.expect(rf"\ntick {seen + 3}\r*\n", STEP_TIMEOUT, f"tick {seen + 3} after the Full")
            diff = os.path.join(tmp, "diff")
            take_snapshot(args, first, sock, diff, ["--diff"])
            layer_diff(args, first, full, diff, snap)
        else:
            take_snapshot(args, first, sock, snap, [])
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
        check_filtered(restored, "the restored VM")
        numbers = ticks(before + restored.text)
        check_run_on(numbers, "ticks across the snapshot")
        # The restored guest still takes input: Ctrl-C ends the loop, and its shell answers.
        restored.proc.stdin.write(b"\x03")
        restored.proc.stdin.flush()
        restored.expect(PROMPT, STEP_TIMEOUT, "the shell after Ctrl-C")
        restored.send("echo @@\"alive\"@@")
        restored.expect(r"@@alive@@", STEP_TIMEOUT, "the restored guest's shell")
        balloon = check_balloon_after_restore(restored, mem_before) if args.balloon else ""
        print(f"ok: ticks 1..{numbers[-1]} run on across the restore "
              f"(engine {args.engine}, {args.cpus} harts) {balloon}")
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
