#!/usr/bin/env python3
"""Snapshot benchmark: create and restore times of a paused Debian guest (docs/snapshot.md).

Boots guests/cache/debian (busybox initramfs, builtin SBI) with --api-sock and --memory
(512M by default), waits for its shell, and takes --creates Full snapshots of the paused
guest with `vessel snapshot --stay-paused` (create time: the CLI's whole run, pause to
written; the memory file's apparent and allocated sizes). Then restores the snapshot --runs
times with `vessel run --restore DIR --stats` and reports, as p50/p90/p99:
  restore_ms  from the start of the restore, before the state file is read, to the harts'
              threads starting, i.e. the first guest instruction (the VM's own --stats);
  reply_*_ms  from starting the `vessel run` process to the guest's answer on its console, so
              it counts the process's start (exec, dynamic linking) and the guest's own work,
              for two probes, each from a snapshot of its own:
              cat    the guest saved while busybox cat reads its console: a line written as
                     the process starts comes back from cat (the UART driver, the tty, a
                     read and a write in user space);
              shell  the guest saved at its shell prompt: a command (`echo $((6*7))@@`)
                     computed by busybox ash, whose line editor sleeps some 20 ms after each
                     Enter, on QEMU as here.
Each restored guest then powers itself off, and the process's wall time is reported for scale.
The same restores are also timed as Firecracker times its own: in a `vessel run --api-sock`
process started beforehand and waiting (a warm pool's), from sending PUT /snapshot/load with
resume_vm to
  load_restore_ms     the first guest instruction (--stats' restore_ms, from the request);
  load_reply_*_ms     the guest's reply to each probe.

QEMU beside it (unless --no-qemu): the same kernel and initramfs on qemu-system-riscv64 (-M
virt, TCG, its default OpenSBI), booted to the same shell and saved with QMP's `migrate` to
`exec:cat > FILE`, which stops the guest for its last pass (QEMU 7.2 has no file: URI; savevm would need a qcow2 disk),
then restored --qemu-runs times with `-incoming exec:cat FILE`, its replies timed the same way
(one saved guest per probe). The command is written once QMP says the guest
runs (QEMU's UART drops what arrives while the state loads; vessel's console holds it).

Between the two, Diff snapshots (`vessel snapshot --diff`) of the same guest: one after it ran
idle for 2 s at its shell, one after it wrote --dirty-mib MiB (dd from /dev/urandom into its
tmpfs): their create times and memory files' data (pages written, not holes).

  bench/snapshot.py [--vessel build/vessel] [--runs 100] [--memory 512M] [--json FILE]
                    [--qemu qemu-system-riscv64] [--qemu-runs 10] [--no-qemu]
"""

import argparse
import json
import os
import re
import select
import shutil
import socket
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


class Probe:
    """A guest-visible reply to time after a restore: what the guest runs when it is saved,
    what is written to its console as the restoring process starts, the bytes whose
    `count`-th appearance on the console is the reply, and what then powers the guest off."""

    def __init__(self, name, running, ask, reply, count, end):
        self.name, self.running, self.ask = name, running, ask
        self.reply, self.count, self.end = reply, count, end


PROBES = [
    # A program blocked in read() on the console (busybox cat, the tty in canonical mode):
    # the line comes back twice, the tty's echo and then cat's own write.
    Probe("cat", "cat", b"42@@\n", b"42@@", 2, b"\x04poweroff -f\n"),
    # The shell computes the answer, so neither the typed line's echo nor a buffered old screen
    # can match it. busybox ash's line editor sleeps some 20 ms after each Enter, on QEMU too
    # (docs/snapshot.md), so this one cannot come in under 20 ms.
    Probe("shell", None, b"echo $((6*7))@@; poweroff -f\n", b"42@@", 1, b""),
]


def start_and_ask(argv, probe, until_running=None):
    """Starts a restoring emulator and writes the probe's line: at once, or once
    until_running() (which polls) returns. (process, start time)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    if until_running:
        until_running()
    proc.stdin.write(probe.ask)
    proc.stdin.flush()
    return proc, t0


def qemu_running(path):
    """Polls QEMU's QMP socket until its guest runs (the incoming state loaded): input that
    reaches its UART before that is lost, where vessel's console holds it."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if qmp(path, {"execute": "query-status"})[0].get("status") == "running":
                return
        except OSError:
            pass  # the socket is not there yet
        time.sleep(0.001)
    sys.exit("QEMU's restored guest did not run within 60 s")


def await_reply(proc, t0, probe, response=None):
    """(ms from t0 to the guest's reply, ms to the process's end, stderr); the probe's end
    command is written once the reply is in. `response`: a socket on which an HTTP response
    comes meanwhile, which must be a 2xx (a refused load never gives a reply)."""
    seen, reply_ms = b"", None
    fd = proc.stdout.fileno()
    watched = [fd] + ([response] if response is not None else [])
    while reply_ms is None:
        ready, _, _ = select.select(watched, [], [], 30)
        if not ready:
            break
        if response is not None and response in ready:
            status = response.recv(4096).split(b" ", 2)
            if len(status) < 2 or not status[1].startswith(b"2"):
                proc.kill()
                sys.exit(f"PUT /snapshot/load: {b' '.join(status)[:300]!r}")
            watched.remove(response)
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        seen += chunk
        if seen.count(probe.reply) >= probe.count:
            reply_ms = (time.monotonic() - t0) * 1000
    rest_out, err = proc.communicate(probe.end or None, timeout=60)
    wall_ms = (time.monotonic() - t0) * 1000
    if reply_ms is None:
        sys.exit(f"restored guest gave no reply to {probe.name}; console: "
                 f"{(seen + rest_out)[-400:]!r}, stderr: {err[-400:]!r}")
    return reply_ms, wall_ms, err


def restore_once(args, snap, probe):
    """One restore: (restore_ms from --stats, ms to the guest's reply, ms of the whole run)."""
    proc, t0 = start_and_ask([args.vessel, "run", "--restore", snap, "--stats", "--timeout", "20"],
                             probe)
    reply_ms, wall_ms, err = await_reply(proc, t0, probe)
    stats = json.loads(err.decode().strip().splitlines()[-1])
    return stats["restore_ms"], reply_ms, wall_ms


def restore_via_api(args, snap, probe, tmp):
    """One restore the way Firecracker's are timed: a `vessel run --api-sock` process already
    started and waiting, then PUT /snapshot/load with resume_vm. (ms from sending the request
    to the guest's reply, restore_ms from --stats: from the request to the first instruction)."""
    sock = os.path.join(tmp, "load.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    proc = subprocess.Popen([args.vessel, "run", "--api-sock", sock, "--stats", "--timeout", "20"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not os.path.exists(sock):
        if time.monotonic() > deadline or proc.poll() is not None:
            sys.exit(f"vessel run --api-sock did not open {sock}")
        time.sleep(0.002)
    time.sleep(0.2)  # its threads settled, as a warm pool's would be
    proc.stdin.write(probe.ask)  # held by the console until a guest reads it
    proc.stdin.flush()
    body = json.dumps({"snapshot_path": os.path.join(snap, "vmstate"),
                       "mem_backend": {"backend_type": "File",
                                       "backend_path": os.path.join(snap, "memory")},
                       "resume_vm": True}).encode()
    request = (b"PUT /snapshot/load HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json"
               b"\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(sock)
        t0 = time.monotonic()
        s.sendall(request)
        reply_ms, wall_ms, err = await_reply(proc, t0, probe, response=s)
    stats = json.loads(err.decode().strip().splitlines()[-1])
    return reply_ms, stats["restore_ms"]


def qmp(path, *commands):
    """Runs QMP commands ({"execute": ...} dicts) on QEMU's socket; their returns."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        f = s.makefile("rwb")
        f.readline()  # the greeting
        out = []
        for cmd in ({"execute": "qmp_capabilities"},) + commands:
            f.write(json.dumps(cmd).encode() + b"\n")
            f.flush()
            while True:
                reply = json.loads(f.readline())
                if "return" in reply or "error" in reply:
                    break  # others are events
            if "error" in reply:
                sys.exit(f"QMP {cmd['execute']}: {reply['error']}")
            out.append(reply["return"])
        return out[1:]


def qemu_save(args, argv, qmp_sock, state, probe):
    """Boots QEMU's guest to its shell, starts the probe's program, and saves the guest to
    `state` with QMP's migrate; the save's ms."""
    guest = Console(argv + ["-qmp", f"unix:{qmp_sock},server=on,wait=off"], stdin_eof=False)
    try:
        guest.expect(re.escape(USERSPACE_UP), 600, "QEMU boot")
        guest.expect(PROMPT, 60, "QEMU shell")
        if probe.running:
            guest.send(probe.running)
            time.sleep(0.5)
        t0 = time.monotonic()
        # Not stopped first: QEMU carries the source's run state in the stream (a stopped source
        # restores stopped), and stops the guest itself for the migration's last pass.
        qmp(qmp_sock, {"execute": "migrate", "arguments": {"uri": f"exec:cat > {state}"}})
        while qmp(qmp_sock, {"execute": "query-migrate"})[0].get("status") != "completed":
            time.sleep(0.005)
        return (time.monotonic() - t0) * 1000
    finally:
        guest.close()


def qemu_side(args, tmp):
    """QEMU's save (stop + migrate to a file) and restores of the same guest, timed, for
    each probe."""
    qmp_sock = os.path.join(tmp, "qmp.sock")
    argv = [args.qemu, "-M", "virt", "-m", args.memory, "-smp", "1", "-display", "none",
            "-serial", "stdio", "-monitor", "none", "-kernel",
            os.path.join(args.guest_dir, "Image"), "-initrd",
            os.path.join(args.guest_dir, "initrd.cpio.gz"), "-append", "console=ttyS0"]
    result = {}
    for probe in PROBES:
        state = os.path.join(tmp, "qemu-state-" + probe.name)
        create_ms = qemu_save(args, argv, qmp_sock, state, probe)
        replies = []
        for _ in range(args.qemu_runs):
            if os.path.exists(qmp_sock):
                os.unlink(qmp_sock)
            proc, t0 = start_and_ask(argv + ["-incoming", f"exec:cat {state}", "-qmp",
                                             f"unix:{qmp_sock},server=on,wait=off"],
                                     probe, lambda: qemu_running(qmp_sock))
            replies.append(await_reply(proc, t0, probe)[0])
        result.setdefault("create_ms", round(create_ms, 1))
        result.setdefault("state_file_mib", round(os.path.getsize(state) / 2**20, 1))
        result[f"reply_{probe.name}_ms"] = spread(replies)
    return result


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
    ap.add_argument("--qemu", default="qemu-system-riscv64")
    ap.add_argument("--qemu-runs", type=int, default=10)
    ap.add_argument("--no-qemu", action="store_true")
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
        # The cat probe's snapshot: the same guest, resumed, with cat reading its console.
        snaps = {"shell": snap, "cat": os.path.join(tmp, "snap-cat")}
        api(sock, "PATCH", "/vm", {"state": "Resumed"})
        guest.send("cat")
        time.sleep(0.5)
        subprocess.run([args.vessel, "snapshot", "--api-sock", sock, "--stay-paused",
                        snaps["cat"]], check=True, timeout=120)
        guest.close()
        guest = None
        restores, walls, replies = [], [], {probe.name: [] for probe in PROBES}
        load_restores, load_replies = [], {probe.name: [] for probe in PROBES}
        for _ in range(args.runs):
            for probe in PROBES:
                restore_ms, reply_ms, wall_ms = restore_once(args, snaps[probe.name], probe)
                restores.append(restore_ms)
                replies[probe.name].append(reply_ms)
                walls.append(wall_ms)
                reply_ms, restore_ms = restore_via_api(args, snaps[probe.name], probe, tmp)
                load_restores.append(restore_ms)
                load_replies[probe.name].append(reply_ms)
        result = {
            "memory": args.memory,
            "create_ms": {"p50": round(statistics.median(creates), 1),
                          "max": round(max(creates), 1), "runs": len(creates)},
            "memory_file_mib": {"apparent": st.st_size >> 20,
                                "allocated": (st.st_blocks * 512) >> 20},
            "state_file_bytes": os.path.getsize(os.path.join(snap, "vmstate")),
            "diff": diffs,
            "restore_ms": spread(restores),
            "load_restore_ms": spread(load_restores),
            "restore_process_wall_ms_p50": round(statistics.median(walls), 1),
        }
        for probe in PROBES:
            result[f"reply_{probe.name}_ms"] = spread(replies[probe.name])
            result[f"load_reply_{probe.name}_ms"] = spread(load_replies[probe.name])
        if not args.no_qemu:
            result["qemu"] = qemu_side(args, tmp)
            for probe in PROBES:
                key = f"reply_{probe.name}_ms"
                result[f"reply_{probe.name}_p50_qemu_over_vessel"] = round(
                    result["qemu"][key]["p50"] / result[key]["p50"], 1)
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
