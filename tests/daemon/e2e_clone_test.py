#!/usr/bin/env python3
"""e2e_clones: ten clones of one Debian snapshot running at once under `vessel daemon`, each
with its own overlay and its own forwarded port (docs/snapshot.md, "The daemon's snapshots").

  e2e_clone_test.py --vessel BUILD/vessel --guest-dir guests/cache/debian [--clones 10]

One guest boots (128 MiB, busybox initramfs, a 16 MiB scratch disk, a user network with a
forwarded port); it takes its DHCP lease, writes a generated file to its disk (synced) and
serves it and a 4 MiB one with busybox httpd on port 8080. `vessel snapshot src s1` while the
host downloads the 4 MiB file slowly through the forwarded port: the download spans the
snapshot and completes with the guest's MD5; the file the guest wrote is in the snapshot's
frozen disk, checked on the host (its MD5 against the guest's own). Then `vessel clone s1 cN
--hostfwd tcp::PORT-:8080` ten times, and with all ten running: each serves the file on its
own port (the host downloads it, MD5 checked), each console answers a command of its own, each
writes its own mark to its disk and reads back its own (not another clone's), and the
snapshot's disk is unchanged. The clones' RSS and PSS against the source's are printed (the
figures in docs/snapshot.md come from bench/clones.py).
"""

import argparse
import hashlib
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_daemon_test import USERSPACE_UP, expect, log, shell, wait_for  # noqa: E402
from vessel_daemon import Daemon  # noqa: E402

FILE_KIB = 256
BIG_KIB = 4096  # the download that spans the snapshot
MARK_SECTOR = 4096  # the clones' marks, past the file


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(port, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/f", timeout=20) as r:
                return r.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def memory_of(pid):
    """(RSS, PSS) in bytes of a VM's process (the jailed child when there is one)."""
    children = []
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(c) for c in f.read().split()]
    except OSError:
        pass
    target = children[0] if children else pid
    rss = pss = 0
    with open(f"/proc/{target}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Rss:"):
                rss = int(line.split()[1]) * 1024
            elif line.startswith("Pss:"):
                pss = int(line.split()[1]) * 1024
    return rss, pss


def end_all(d):
    """Every VM of the daemon killed, then the daemon stopped: nothing outlives the run."""
    for vm in d.vms().values():
        if vm.get("pid"):
            try:
                os.kill(vm["pid"], 9)
            except OSError:
                pass
    d.stop()


def prepare_source(d, sd):
    script = ("#!/bin/sh\\n[ \"$1\" = bound ] || exit 0\\nip addr add $ip/$mask dev $interface\\n"
              "ip link set $interface up\\nip route add default via $router\\n")
    shell(d, "src", f"printf '{script}' > /tmp/dhcp.sh && chmod +x /tmp/dhcp.sh && echo "
          "dhcp-$((1+1))", b"dhcp-2")
    shell(d, "src", "ip link set eth0 up && udhcpc -i eth0 -n -q -t 5 -s /tmp/dhcp.sh; "
          "echo lease-$((3*3))", b"lease-9", 120)
    out = shell(d, "src", f"mkdir -p /www && dd if=/dev/urandom of=/www/f bs=1k count={FILE_KIB} "
                "2>/dev/null && dd if=/www/f of=/dev/vda bs=1k conv=fsync 2>/dev/null && "
                f"dd if=/dev/urandom of=/www/big bs=1k count={BIG_KIB} 2>/dev/null && "
                "md5sum /www/f /www/big | sed 's/^/SUM=/' && httpd -p 8080 -h /www && "
                "echo ok-$((40+2))", b"ok-42", 120)
    found = re.findall(rb"SUM=([0-9a-f]{32})", out)
    expect(len(found) == 2, f"no checksums from the guest: {out[-400:]!r}")
    return found[0].decode(), found[1].decode()


class SlowDownload(threading.Thread):
    """GET /big through the forwarded port, read a little at a time so that it lasts seconds."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.data, self.error = port, b"", None
        self.started_at = self.ended_at = None

    def run(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/big", timeout=60) as r:
                self.started_at = time.monotonic()
                while True:
                    chunk = r.read(32 << 10)
                    if not chunk:
                        break
                    self.data += chunk
                    time.sleep(0.03)
            self.ended_at = time.monotonic()
        except OSError as e:
            self.error = e


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--vessel", required=True)
    p.add_argument("--guest-dir", required=True)
    p.add_argument("--clones", type=int, default=10)
    p.add_argument("--boot-timeout", type=float, default=600)
    args = p.parse_args()
    image = os.path.join(args.guest_dir, "Image")
    initrd = os.path.join(args.guest_dir, "initrd.cpio.gz")
    tmp = tempfile.mkdtemp(prefix="vdc-", dir="/tmp")
    sd = os.path.join(tmp, "state")
    os.makedirs(sd)
    disk = os.path.join(tmp, "scratch.img")
    with open(disk, "wb") as f:
        f.truncate(16 << 20)
    d = None
    names = [f"c{i}" for i in range(args.clones)]
    src_port = free_port()
    try:
        d = Daemon(args.vessel, sd, extra=["--allow-dir", args.guest_dir, "--allow-dir", tmp])
        r = d.post("/api/v1/vms", {"name": "src", "kernel": image, "initrd": initrd,
                                   "append": "console=ttyS0", "memory_mib": 128,
                                   "disks": [{"path": disk}],
                                   "nets": [f"user,hostfwd=tcp::{src_port}-:8080"]})
        expect(r.status == 201, f"create src: {r}")
        r = d.post("/api/v1/vms/src/start")
        expect(r.status == 200, f"start src: {r}")
        t0 = time.monotonic()
        wait_for("the source guest's userspace", args.boot_timeout,
                 lambda: USERSPACE_UP in d.get("/api/v1/vms/src/logs").data, 2.0)
        log(f"src reached userspace after {time.monotonic() - t0:.0f} s")
        digest, big_digest = prepare_source(d, sd)
        # A download through the source's forwarded port spans the snapshot (pause, files,
        # resume in the same process): it completes, with the right checksum.
        download = SlowDownload(src_port)
        download.start()
        wait_for("the download to begin", 60, lambda: download.data or download.error, 0.05)
        asked = time.monotonic()
        r = d.post("/api/v1/vms/src/snapshot", {"snapshot": "s1"})
        answered = time.monotonic()
        expect(r.status == 201, f"snapshot: {r}")
        log(f"snapshot s1: {r.json['size_bytes'] >> 10} KiB on disk, {answered - asked:.2f} s")
        download.join(120)
        expect(download.error is None and download.ended_at is not None,
               f"the download across the snapshot: {download.error}")
        expect(download.started_at < asked and download.ended_at > answered,
               "the download did not span the snapshot")
        expect(hashlib.md5(download.data).hexdigest() == big_digest,
               f"the download across the snapshot: {len(download.data)} bytes, wrong checksum")
        log(f"a {BIG_KIB} KiB download through the forwarded port spanned the snapshot, MD5 ok")
        frozen = os.path.join(sd, "snapshots", "s1", "disk0.img")
        with open(frozen, "rb") as f:
            on_host = hashlib.md5(f.read(FILE_KIB << 10)).hexdigest()
        expect(on_host == digest, f"the guest's file on the snapshot's disk: {on_host} != {digest}")
        log("the file the guest wrote to its disk is intact in the snapshot (MD5 on the host)")

        ports = {n: free_port() for n in names}
        t1 = time.monotonic()
        for n in names:
            r = d.post("/api/v1/snapshots/s1/clone",
                       {"name": n, "hostfwd": [f"tcp::{ports[n]}-:8080"]})
            expect(r.status == 201 and r.json["state"] == "running", f"clone {n}: {r}")
        log(f"{len(names)} clones started in {time.monotonic() - t1:.1f} s")
        for n in names:
            body = fetch(ports[n])
            expect(hashlib.md5(body).hexdigest() == digest and len(body) == FILE_KIB << 10,
                   f"{n}: the download through port {ports[n]} is not the file")
        log("every clone served the file on its own port (MD5 checked)")
        for i, n in enumerate(names):
            shell(d, n, f"echo mark-{n}-$(({i}*7)) | dd of=/dev/vda bs=512 seek={MARK_SECTOR} "
                  "conv=fsync 2>/dev/null; echo w-$((5*5))", b"w-25")
        for i, n in enumerate(names):
            shell(d, n, f"dd if=/dev/vda bs=512 skip={MARK_SECTOR} count=1 2>/dev/null | "
                  "head -c 16; echo", f"mark-{n}-{i * 7}".encode())
        with open(frozen, "rb") as f:
            f.seek(MARK_SECTOR * 512)
            expect(f.read(512) == bytes(512), "a clone wrote to the snapshot's disk")
        log("each clone wrote and read back its own mark; the snapshot's disk is unchanged")
        vms = d.vms()
        src_rss, src_pss = memory_of(vms["src"]["pid"])
        clone_mem = [memory_of(vms[n]["pid"]) for n in names]
        log(f"memory: source RSS {src_rss >> 20} MiB PSS {src_pss >> 20} MiB; "
            f"{len(names)} clones RSS {sum(m[0] for m in clone_mem) >> 20} MiB "
            f"PSS {sum(m[1] for m in clone_mem) >> 20} MiB in all")
        for n in names + ["src"]:
            r = d.post(f"/api/v1/vms/{n}/stop")
            expect(r.status == 200, f"stop {n}: {r}")
        print("e2e_clones: all checks passed")
        return 0
    except Exception as e:  # noqa: BLE001 - report with the evidence, then fail
        print(f"FAIL: {e}")
        if d is not None:
            print(f"--- daemon log:\n{d.read_log()[-4000:]}")
        for n in ["src"] + names:
            for name in ("console.log", "vmm.log"):
                path = os.path.join(sd, "vms", n, name)
                if os.path.exists(path):
                    with open(path, "rb") as f:
                        print(f"--- {n} {name}:\n{f.read()[-1200:].decode(errors='replace')}")
        return 1
    finally:
        if d is not None:
            end_all(d)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
