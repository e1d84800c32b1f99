#!/usr/bin/env python3
"""Clone memory benchmark: the host memory of N clones of one snapshot against N fresh boots
(docs/snapshot.md, "The daemon's snapshots").

Under one `vessel daemon` (its own state dir): N Debian guests (busybox initramfs, 128 MiB,
one hart) boot from scratch and, once each has reached its shell and idled --settle seconds,
each VM process's RSS and PSS (/proc/PID/smaps_rollup) are read; they are stopped. Then one
more guest boots the same way, the daemon snapshots it (`POST /api/v1/vms/src/snapshot`) and
starts N clones of it (`POST /api/v1/snapshots/s1/clone`); once each answers on its console
and they idled --settle seconds, the same figures. RSS counts every page a process maps, the
page cache of the snapshot's memory file that all clones share included; PSS divides each
shared page among the processes that map it, so the clones' PSS sum is what they cost the host.

  bench/clones.py [--vessel build/vessel] [--n 10] [--settle 10] [--json FILE]
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "daemon"))
from e2e_clone_test import end_all, memory_of  # noqa: E402
from e2e_daemon_test import USERSPACE_UP, shell, wait_for  # noqa: E402
from vessel_daemon import Daemon  # noqa: E402


def definition(guest_dir, name):
    return {"name": name, "kernel": os.path.join(guest_dir, "Image"),
            "initrd": os.path.join(guest_dir, "initrd.cpio.gz"), "append": "console=ttyS0",
            "memory_mib": 128}


def measure(d, names):
    vms = d.vms()
    return [memory_of(vms[n]["pid"]) for n in names]


def summary(label, figures):
    rss = sum(f[0] for f in figures)
    pss = sum(f[1] for f in figures)
    print(f"{label:<16} RSS {rss / 2**20:8.1f} MiB in all ({rss / len(figures) / 2**20:6.1f} each)"
          f"   PSS {pss / 2**20:8.1f} MiB in all ({pss / len(figures) / 2**20:6.1f} each)",
          flush=True)
    return {"rss_bytes": rss, "pss_bytes": pss, "n": len(figures)}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--vessel", default=os.path.join(REPO, "build", "vessel"))
    p.add_argument("--guest-dir", default=os.path.join(REPO, "guests", "cache", "debian"))
    p.add_argument("--n", type=int, default=10)
    p.add_argument("--settle", type=float, default=10)
    p.add_argument("--json")
    args = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="vbc-", dir="/tmp")
    d = Daemon(args.vessel, os.path.join(tmp, "s"), extra=["--allow-dir", args.guest_dir])
    results = {}
    try:
        fresh = [f"f{i}" for i in range(args.n)]
        for n in fresh:
            d.post("/api/v1/vms", definition(args.guest_dir, n))
            d.post(f"/api/v1/vms/{n}/start")
        for n in fresh:
            wait_for(f"{n}'s userspace", 1200,
                     lambda n=n: USERSPACE_UP in d.get(f"/api/v1/vms/{n}/logs").data, 2.0)
            shell(d, n, "echo up-$((1+1))", b"up-2")
        time.sleep(args.settle)
        results["fresh"] = summary(f"{args.n} fresh boots", measure(d, fresh))
        for n in fresh:
            d.post(f"/api/v1/vms/{n}/stop")

        d.post("/api/v1/vms", definition(args.guest_dir, "src"))
        d.post("/api/v1/vms/src/start")
        wait_for("src's userspace", 600,
                 lambda: USERSPACE_UP in d.get("/api/v1/vms/src/logs").data, 2.0)
        shell(d, "src", "echo up-$((1+1))", b"up-2")
        r = d.post("/api/v1/vms/src/snapshot", {"snapshot": "s1"})
        if r.status != 201:
            raise RuntimeError(f"snapshot: {r}")
        d.post("/api/v1/vms/src/stop")
        clones = [f"c{i}" for i in range(args.n)]
        t0 = time.monotonic()
        for n in clones:
            r = d.post("/api/v1/snapshots/s1/clone", {"name": n})
            if r.status != 201:
                raise RuntimeError(f"clone {n}: {r}")
        started = time.monotonic() - t0
        for n in clones:
            shell(d, n, "echo up-$((1+1))", b"up-2")
        time.sleep(args.settle)
        results["clones"] = summary(f"{args.n} clones", measure(d, clones))
        results["clones"]["start_seconds"] = round(started, 2)
        print(f"{args.n} clones started in {started:.2f} s (the daemon's requests, one after "
              "another)")
        for n in clones:
            d.post(f"/api/v1/vms/{n}/stop")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=2)
        return 0
    finally:
        end_all(d)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
