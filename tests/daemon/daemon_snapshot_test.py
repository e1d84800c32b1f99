#!/usr/bin/env python3
"""daemon_snapshot_test: the daemon's snapshots (docs/snapshot.md, "The daemon's snapshots")
with the bare-metal uart_echo guest, so that it runs in seconds: `vessel snapshot NAME SNAP`,
the listing with sizes, `vessel restore`, `vessel clone` with forwarded ports of its own, the
refusals (one line, exit status 2, HTTP 400/404/409), and a daemon killed in the middle of a
snapshot leaving nothing under the snapshot's name.

  daemon_snapshot_test.py --vessel BUILD/vessel --guest-dir BUILD/tests/cli/guests [-k SUBSTRING]

The harness (a daemon per case on a fresh state dir) is daemon_api_test's.
"""

import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_api_test as t  # noqa: E402
from daemon_api_test import expect, expect_error, killed_at  # noqa: E402

t.CASES.clear()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_taken(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


def echo(sd, name, text, timeout=20):
    """Types `text` on the VM's console socket; true when the guest echoes it back."""
    path = os.path.join(sd, "vms", name, "console.sock")
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(text.encode() + b"\n")
        seen = b""
        deadline = time.monotonic() + timeout
        while text.encode() not in seen and time.monotonic() < deadline:
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                break
            if not chunk:
                break
            seen += chunk
        return text.encode() in seen


def disk(env, name, fill):
    path = os.path.join(env.tmp, name)
    with open(path, "wb") as f:
        f.write(fill * (1 << 20))
    return path


@t.case
def snapshot_restore_clone(env):
    sd = env.state_dir()
    d = env.daemon(sd)
    port = free_port()
    image = disk(env, "a.img", b"A")
    r = d.post("/api/v1/vms", env.definition("a1", disks=[{"path": image}],
                                             nets=[f"user,hostfwd=tcp::{port}-:80"]))
    expect(r.status == 201, f"create with a hostfwd: {r}")
    t.start(d, "a1")
    expect(echo(sd, "a1", "before"), "a1 does not echo")
    p = env.cli(sd, "snapshot", "a1", "s1", check=0)
    expect(p.stdout.startswith("s1: VM a1, 16.0 MiB of RAM, "), f"snapshot: {p.stdout!r}")
    expect(d.vm("a1")["state"] == "running", "a1 is not running again after its snapshot")
    expect(echo(sd, "a1", "after-snapshot"), "a1 does not echo after its snapshot")
    # The snapshot holds the disk as it was: the VM's disk changing since does not reach it.
    with open(image, "r+b") as f:
        f.write(b"B" * 4096)
    with open(os.path.join(sd, "snapshots", "s1", "disk0.img"), "rb") as f:
        expect(f.read(4096) == b"A" * 4096, "the snapshot's disk changed with the VM's")
    # The listing: every snapshot with its sizes, in the API and the CLI.
    r = d.get("/api/v1/snapshots")
    expect(r.status == 200 and [s["name"] for s in r.json] == ["s1"], f"list: {r}")
    s1 = r.json[0]
    expect(s1["vm"] == "a1" and s1["memory_bytes"] == 16 << 20 and s1["size_bytes"] > 0
           and s1["disks"][0]["kind"] == "copy", f"entry: {s1}")
    expect(d.get("/api/v1/snapshots?vm=zz").json == [], "filter by VM")
    p = env.cli(sd, "snapshots", "a1", check=0)
    lines = p.stdout.splitlines()
    expect(lines[0].split()[:4] == ["SNAPSHOT", "VM", "MEMORY", "ON"]
           and lines[1].split()[:2] == ["s1", "a1"], f"snapshots: {p.stdout!r}")
    p = env.cli(sd, "snapshots", "--json", check=0)
    expect(json.loads(p.stdout)[0]["name"] == "s1", "snapshots --json")
    # A default name: the VM's and the time.
    p = env.cli(sd, "snapshot", "a1", check=0)
    expect(p.stdout.startswith("a1-"), f"snapshot without a name: {p.stdout!r}")

    # Restore: a new process from the snapshot, over an overlay of its own, its own port again.
    old_pid = d.vm("a1")["pid"]
    p = env.cli(sd, "restore", "a1", "s1", check=0)
    vm = d.vm("a1")
    expect(vm["state"] == "running" and vm["pid"] != old_pid, f"restore: {p.stdout!r} {vm}")
    expect(echo(sd, "a1", "restored"), "a1 does not echo after the restore")
    expect(port_taken(port), "the restored VM does not forward its port")
    definition = d.get("/api/v1/vms/a1").json["definition"]
    expect(definition["disks"][0]["path"].endswith("/snapshots/s1/disk0.img")
           and definition["disks"][0]["overlay"].endswith("/vms/a1/disk0.overlay"),
           f"the restored VM's disks: {definition['disks']}")

    # Clones: each a VM of its own, with its own overlay and forwarded port.
    ports = [free_port() for _ in range(2)]
    for i, cport in enumerate(ports):
        p = env.cli(sd, "clone", "s1", f"c{i}", "--hostfwd", f"tcp::{cport}-:80", check=0)
        expect(p.stdout.startswith(f"c{i}: running (pid "), f"clone: {p.stdout!r}")
    for i, cport in enumerate(ports):
        expect(echo(sd, f"c{i}", f"clone{i}"), f"c{i} does not echo")
        expect(port_taken(cport), f"c{i} does not forward port {cport}")
        nets = d.get(f"/api/v1/vms/c{i}").json["definition"]["nets"]
        expect([n["hostfwd"] for n in nets] == [[f"tcp:127.0.0.1:{cport}-:80"]],
               f"c{i}'s nets: {nets}")
        expect(os.path.exists(os.path.join(sd, "vms", f"c{i}", "disk0.overlay")), "no overlay")
    # A snapshot of a clone holds its overlay, over the first snapshot's disk; its clone runs.
    env.cli(sd, "snapshot", "c0", "s2", check=0)
    s2 = d.get("/api/v1/snapshots/s2").json
    expect(s2["disks"][0]["kind"] == "overlay"
           and s2["disks"][0]["base"].endswith("/snapshots/s1/disk0.img"), f"s2: {s2}")
    env.cli(sd, "clone", "s2", "c9", check=0)
    expect(echo(sd, "c9", "second-generation"), "the clone of a clone's snapshot does not echo")
    # A clone forwarding no port: its definition's user network has none.
    nets = d.get("/api/v1/vms/c9").json["definition"]["nets"]
    expect([n["hostfwd"] for n in nets] == [[]], f"c9's nets: {nets}")


@t.case
def snapshot_refusals(env):
    sd = env.state_dir()
    d = env.daemon(sd)
    t.create(d, env, "a1")
    t.create(d, env, "b1")
    t.create(d, env, "n1", nets=["user"])
    for vm, snap in (("b1", "sb"), ("n1", "sn")):
        t.start(d, vm)
        env.cli(sd, "snapshot", vm, snap, check=0)
    # Names: one line, exit status 2, 400 from the API.
    for argv in (["snapshot", "a1", "bad/name"], ["snapshot", "x" * 40], ["restore", "a1", "b@d"],
                 ["clone", "sb", "bad name"], ["clone", "s" * 70, "ok"]):
        p = env.cli(sd, *argv, check=2)
        expect(p.stderr.count("\n") == 1, f"{argv}: {p.stderr!r}")
    expect_error(d.post("/api/v1/vms/a1/snapshot", {"snapshot": "a.b"}), 400, "snapshot name")
    expect_error(d.post("/api/v1/vms/a1/snapshot", {"snap": "x"}), 400, "snap")
    expect_error(d.post("/api/v1/snapshots/sn/clone", {"name": "c1", "hostfwd": ["tcp::x-:80"]}),
                 400, "hostfwd 'tcp::x-:80'")
    expect_error(d.post("/api/v1/snapshots/sn/clone",
                        {"name": "c1", "hostfwd": ["tcp:0.0.0.0:8080-:80"]}), 400, "127.0.0.1")
    # Missing: 404, exit status 2.
    p = env.cli(sd, "restore", "a1", "nope", check=2)
    expect(p.stderr == "vessel: snapshot 'nope': no such snapshot\n", f"{p.stderr!r}")
    env.cli(sd, "clone", "nope", "c1", check=2)
    expect_error(d.get("/api/v1/snapshots/nope"), 404, "no such snapshot")
    expect_error(d.post("/api/v1/vms/zz/snapshot"), 404, "no such VM")
    # The state of things: 409, exit status 1.
    p = env.cli(sd, "snapshot", "a1", "sa", check=1)
    expect("VM 'a1' is stopped: cannot snapshot it" in p.stderr, f"{p.stderr!r}")
    p = env.cli(sd, "snapshot", "b1", "sb", check=1)
    expect("snapshot 'sb' exists" in p.stderr, f"{p.stderr!r}")
    env.cli(sd, "clone", "sb", "a1", check=1)
    # Another VM's snapshot is cloned, not restored.
    p = env.cli(sd, "restore", "a1", "sb", check=2)
    expect("clone it instead" in p.stderr, f"{p.stderr!r}")
    # A clone asking for forwarded ports of a snapshot without a user network.
    expect_error(d.post("/api/v1/snapshots/sb/clone", {"name": "c1", "hostfwd": ["tcp::1234-:80"]}),
                 400, "no user network")
    # A client may not give a disk an overlay: only the daemon's restores and clones do.
    r = d.post("/api/v1/vms", env.definition("o1", disks=[{"path": os.path.join(env.tmp, "x"),
                                                            "overlay": "/tmp/o"}]))
    expect(r.status == 400, f"a client's overlay: {r}")


@t.case
def daemon_killed_during_a_snapshot(env):
    sd = env.state_dir()
    d = env.daemon(sd)
    t.create(d, env, "a1")
    t.start(d, "a1")
    d.kill()
    killed_at(env, sd, "snapshot", lambda dd: dd.post("/api/v1/vms/a1/snapshot", {"snapshot": "k1"}))
    root = os.path.join(sd, "snapshots")
    expect(os.listdir(root) == [".tmp-k1"], f"after the kill: {os.listdir(root)}")
    d = env.daemon(sd)
    expect("snapshot 'k1': it was interrupted" in d.read_log(), f"log: {d.read_log()[-600:]}")
    expect(os.listdir(root) == [] and d.get("/api/v1/snapshots").json == [], "a half snapshot")
    # The VM was left paused by the snapshot; it is adopted so, and goes on.
    expect(d.vm("a1")["state"] == "paused", f"a1: {d.vm('a1')}")
    d.post("/api/v1/vms/a1/resume")
    env.cli(sd, "snapshot", "a1", "k1", check=0)
    expect(echo(sd, "a1", "still-here"), "a1 does not echo")


if __name__ == "__main__":
    sys.exit(t.main())
