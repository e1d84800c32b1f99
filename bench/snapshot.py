#!/usr/bin/env python3
"""Snapshot benchmark: create and restore times of a paused Debian guest (docs/snapshot.md).

Boots guests/cache/debian (busybox initramfs, builtin SBI) with --api-sock and --memory
(512M by default), waits for its shell, and takes --creates Full snapshots of the paused
guest with `vessel snapshot --stay-paused` (create time: the CLI's whole run, pause to
written; the memory file's apparent and allocated sizes). Then restores the snapshot --runs
times with `vessel run --restore DIR --stats` and reports, as p50/p90/p99:
  restore_ms  from the start of the restore, before the state file is read, to the harts'
              threads starting, i.e. the first guest instruction (the VM's own --stats);
  reply_ms    from starting the `vessel run` process to the guest's answer on its console: a
              shell command (`echo $((6*7))@@`) written to the console as the process starts,
              read by the restored guest's UART driver and shell, and its output read back, so
              it counts the process's start (exec, dynamic linking) and the guest's own work.
Each restored guest then powers itself off (the same command line), and the process's wall
time is reported for scale.

Between the two, Diff snapshots (`vessel snapshot --diff`) of the same guest: one after it ran
idle for 2 s at its shell, one after it wrote --dirty-mib MiB (dd from /dev/urandom into its
tmpfs): their create times and memory files' data (pages written, not holes).

  bench/snapshot.py [--vessel build/vessel] [--runs 100] [--memory 512M] [--json FILE]
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
from boot_test import PROMPT, USERSPACE_UP, Console  # noqa: E402
from snapshot_test import api  # noqa: E402


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def diff_snapshot(args, guest, sock, tmp, name, command):
    """Resumes the paused guest, lets it idle 2 s or run `command`, takes a Diff snapshot."""
    api(sock, "PATCH", "/vm", {"state": "Resumed"})
    if command is None:
        time.sleep(2)
    else:
        guest.send(command + "; echo @@dd-""done@@")
        guest.expect("@@dd-done@@", 300, command)
    out = os.path.join(tmp, "diff-" + name)
    t0 = time.monotonic()
    subprocess.run([args.vessel, "snapshot", "--api-sock", sock, "--stay-paused", "--diff", out],
                   check=True, timeout=120)
    ms = (time.monotonic() - t0) * 1000
    st = os.stat(os.path.join(out, "memory"))
    return {"create_ms": round(ms, 1), "memory_data_kib": (st.st_blocks * 512) >> 10,
            "memory_apparent_mib": st.st_size >> 20}


# The restored guest's shell computes the answer, so neither the typed line's echo nor a
# buffered old screen can match it.
REPLY_COMMAND = b"echo $((6*7))@@; poweroff -f\n"
REPLY = b"42@@"


def restore_once(args, snap):
    """One restore: (restore_ms from --stats, ms to the guest's reply, ms of the whole run)."""
    t0 = time.monotonic()
    proc = subprocess.Popen([args.vessel, "run", "--restore", snap, "--stats", "--timeout", "20"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(REPLY_COMMAND)
    proc.stdin.flush()
    seen, reply_ms = b"", None
    fd = proc.stdout.fileno()
    while reply_ms is None:
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        seen += chunk
        if REPLY in seen:
            reply_ms = (time.monotonic() - t0) * 1000
    rest_out, err = proc.communicate(timeout=60)
    wall_ms = (time.monotonic() - t0) * 1000
    if reply_ms is None:
        sys.exit(f"restored guest gave no reply; console: {(seen + rest_out)[-400:]!r}, "
                 f"stderr: {err[-400:]!r}")
    stats = json.loads(err.decode().strip().splitlines()[-1])
    return stats["restore_ms"], reply_ms, wall_ms


def spread(values):
    return {"p50": round(percentile(values, 50), 2), "p90": round(percentile(values, 90), 2),
            "p99": round(percentile(values, 99), 2), "runs": len(values)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", default=os.path.join(REPO, "build", "vessel"))
    ap.add_argument("--guest-dir", default=os.path.join(REPO, "guests", "cache", "debian"))
    ap.add_argument("--memory", default="512M")
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--creates", type=int, default=5)
    ap.add_argument("--dirty-mib", type=int, default=16)
    ap.add_argument("--json")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="vessel-bench-snap-")
    sock, snap = os.path.join(tmp, "api.sock"), os.path.join(tmp, "snap")
    guest = None
    try:
        guest = Console([args.vessel, "run", "--kernel", os.path.join(args.guest_dir, "Image"),
                         "--initrd", os.path.join(args.guest_dir, "initrd.cpio.gz"),
                         "--append", "console=ttyS0", "--memory", args.memory,
                         "--api-sock", sock, "--timeout", "900"], stdin_eof=False)
        guest.expect(re.escape(USERSPACE_UP), 300, "boot")
        guest.expect(PROMPT, 60, "shell")
        creates = []
        for _ in range(args.creates):
            t0 = time.monotonic()
            subprocess.run([args.vessel, "snapshot", "--api-sock", sock, "--stay-paused", snap],
                           check=True, timeout=120)
            creates.append((time.monotonic() - t0) * 1000)
        memory = os.path.join(snap, "memory")
        st = os.stat(memory)
        diffs = {"idle_2s": diff_snapshot(args, guest, sock, tmp, "idle", None),
                 f"after_writing_{args.dirty_mib}_mib": diff_snapshot(
                     args, guest, sock, tmp, "dirty",
                     f"dd if=/dev/urandom of=/tmp/d bs=1M count={args.dirty_mib} 2>/dev/null")}
        guest.close()
        guest = None
        restores, replies, walls = [], [], []
        for _ in range(args.runs):
            restore_ms, reply_ms, wall_ms = restore_once(args, snap)
            restores.append(restore_ms)
            replies.append(reply_ms)
            walls.append(wall_ms)
        result = {
            "memory": args.memory,
            "create_ms": {"p50": round(statistics.median(creates), 1),
                          "max": round(max(creates), 1), "runs": len(creates)},
            "memory_file_mib": {"apparent": st.st_size >> 20,
                                "allocated": (st.st_blocks * 512) >> 20},
            "state_file_bytes": os.path.getsize(os.path.join(snap, "vmstate")),
            "diff": diffs,
            "restore_ms": spread(restores),
            "reply_ms": spread(replies),
            "restore_process_wall_ms_p50": round(statistics.median(walls), 1),
        }
        print(json.dumps(result, indent=2))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(result, f, indent=2)
        return 0
    finally:
        if guest is not None:
            guest.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
