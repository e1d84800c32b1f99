#!/usr/bin/env python3
"""daemon_api_test: every endpoint and phase rule of `vessel daemon` (docs/daemon.md), with
bare-metal guests instead of Linux so that it runs in seconds.

  daemon_api_test.py --vessel BUILD/vessel --guest-dir BUILD/tests/cli/guests [-k SUBSTRING]

The guests (tests/cli/guests, run with firmware "none"): uart_echo says "uart-echo ready" and
echoes what it is sent (a console to talk to); htif_pass ends at once with status 0 (a guest
poweroff); test_fail7 ends with status 7 (a guest failure). Each case runs against a daemon of
its own on a fresh state dir; failures print what was asked and what came back. Standard
library only.
"""

import argparse
import http.client
import json
import platform
import select
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vessel_daemon import Daemon, WebSocket, process_alive  # noqa: E402

CASES = []
# What a definition without "engine" runs: the translator on x86-64 hosts.
DEFAULT_ENGINE = "jit" if platform.machine() in ("x86_64", "AMD64") else "interp"


def case(fn):
    CASES.append(fn)
    return fn


class Env:
    def __init__(self, args, tmp):
        self.vessel, self.guests, self.tmp = args.vessel, args.guest_dir, tmp
        self.daemons = []
        self.counter = 0

    def state_dir(self):
        self.counter += 1
        d = os.path.join(self.tmp, f"s{self.counter}")
        os.makedirs(d)
        return d

    def daemon(self, state_dir=None, **kw):
        # The guests and the scratch files are where definitions may name files.
        kw["extra"] = ["--allow-dir", self.guests, "--allow-dir", self.tmp, *kw.get("extra", ())]
        d = Daemon(self.vessel, state_dir or self.state_dir(), **kw)
        self.daemons.append(d)
        return d

    def guest(self, name):
        return os.path.join(self.guests, name + ".elf")

    def definition(self, name, guest="uart_echo", **extra):
        d = {"name": name, "kernel": self.guest(guest), "firmware": "none", "memory_mib": 16}
        d.update(extra)
        return d

    def cli(self, state_dir, *argv, check=None):
        p = subprocess.run([self.vessel, *argv, "--state-dir", state_dir], capture_output=True,
                           text=True, timeout=120, stdin=subprocess.DEVNULL)
        if check is not None:
            expect(p.returncode == check,
                   f"vessel {' '.join(argv)}: status {p.returncode}, wanted {check}; "
                   f"stdout {p.stdout!r} stderr {p.stderr!r}")
        return p

    def cleanup(self):
        # Every VM of every daemon goes too: nothing outlives the test.
        for d in self.daemons:
            for path in [os.path.join(d.state_dir, "vms", n, "runtime.json")
                         for n in os.listdir(os.path.join(d.state_dir, "vms"))
                         if os.path.isdir(os.path.join(d.state_dir, "vms"))]:
                try:
                    with open(path) as f:
                        rt = json.load(f)
                    if "exit_status" not in rt:
                        os.kill(rt["pid"], signal.SIGKILL)
                except (OSError, ValueError, KeyError):
                    pass
            d.stop()


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


def expect_error(answer, status, *fragments):
    expect(answer.status == status, f"wanted HTTP {status}, got {answer}")
    err = answer.error()
    expect(isinstance(err, str) and "\n" not in err, f"error is not one line: {answer}")
    for f in fragments:
        expect(f in err, f"error {err!r} does not mention {f!r}")


def create(d, env, name, **kw):
    r = d.post("/api/v1/vms", env.definition(name, **kw))
    expect(r.status == 201, f"create {name}: {r}")
    return r.json


def start(d, name):
    r = d.post(f"/api/v1/vms/{name}/start")
    expect(r.status == 200 and r.json["state"] == "running", f"start {name}: {r}")
    return r.json


def machine_of(d, name):
    """The machine a VM's `vessel run --config` was given (vms/NAME/machine.json)."""
    with open(os.path.join(d.state_dir, "vms", name, "machine.json")) as f:
        return json.load(f)


def stats(d, name):
    r = d.get(f"/api/v1/vms/{name}/stats")
    expect(r.status == 200, f"stats {name}: {r}")
    return r.json


# ------------------------------------------------------------------------------------ cases

@case
def definitions_are_validated(env):
    d = env.daemon()
    ok = env.definition("good")
    expect_error(d.post("/api/v1/vms", dict(ok, colour="red")), 400, "unknown field 'colour'")
    expect_error(d.post("/api/v1/vms", dict(ok, name="a.b")), 400, "VM name 'a.b'")
    expect_error(d.post("/api/v1/vms", dict(ok, name="x" * 33)), 400, "VM name")
    expect_error(d.post("/api/v1/vms", dict(ok, cpus=33)), 400, "cpus: 33 is out of range (1-32)")
    expect_error(d.post("/api/v1/vms", dict(ok, memory_mib=8)), 400, "memory_mib")
    expect_error(d.post("/api/v1/vms", dict(ok, kernel=env.tmp + "/missing")), 400, "kernel",
                 "/missing", "No such file")
    expect_error(d.post("/api/v1/vms", dict(ok, kernel=env.tmp)), 400, "not a regular file")
    expect_error(d.post("/api/v1/vms", dict(ok, disks=[{"path": env.tmp + "/no.img"}])), 400,
                 "disks[0].path")
    expect_error(d.post("/api/v1/vms", dict(ok, disks=[{"path": ok["kernel"]}] * 9)), 400,
                 "at most 8")
    expect_error(d.post("/api/v1/vms", dict(ok, nets=["user"] * 9)), 400, "at most 8")
    expect_error(d.post("/api/v1/vms", dict(ok, nets=["vde"])), 400, "nets[0]")
    expect_error(d.post("/api/v1/vms", dict(ok, engine="bogus")), 400,
                 "engine: 'bogus' is not an engine (jit or interp)")
    expect_error(d.post("/api/v1/vms", dict(ok, engine=1)), 400, "engine: expected a string")
    if DEFAULT_ENGINE != "jit":
        expect_error(d.post("/api/v1/vms", dict(ok, engine="jit")), 400, "engine: jit", "x86-64")
    expect_error(d.request("POST", "/api/v1/vms", raw=b'{"name": '), 400)
    expect_error(d.request("POST", "/api/v1/vms", raw=b"[" * 100 + b"]" * 100), 400)
    expect_error(d.raw_exchange(b"POST /api/v1/vms HTTP/1.1\r\nHost: x\r\nContent-Length: 66560\r\n"
                                b"Content-Type: application/json\r\n\r\n" + b"x" * 1000), 413)
    expect_error(d.post("/api/v1/vms"), 400, "JSON object body is required")
    # A client that stops half-way through its request header: 408 once its 2 s are up.
    expect_error(d.raw_exchange(b"GET /api/v1/vms HTTP/1.1\r\nHost: x\r\n"), 408)
    expect(d.vms() == {}, "a refused definition left something behind")
    expect(os.listdir(os.path.join(d.state_dir, "vms")) == [], "files left by refused creates")

    created = create(d, env, "good")
    expect("VM 'good' created" in d.read_log(), f"the daemon's log: {d.read_log()!r}")
    expect(created == {"name": "good", "state": "stopped", "cpus": 1, "memory_mib": 16,
                       "engine": DEFAULT_ENGINE}, f"summary of a new VM: {created}")
    expect_error(d.post("/api/v1/vms", ok), 409, "good", "exists")
    got = d.get("/api/v1/vms/good")
    expect(got.status == 200 and got.json["definition"]["kernel"] == ok["kernel"]
           and got.json["definition"]["created_at"].endswith("Z")
           and got.json["definition"]["engine"] == DEFAULT_ENGINE
           and got.json["status"]["state"] == "stopped", f"GET one: {got}")
    with open(os.path.join(d.state_dir, "vms", "good", "config.json")) as f:
        expect(json.load(f)["name"] == "good", "config.json does not hold the definition")
    expect_error(d.get("/api/v1/vms/nope"), 404, "VM 'nope': no such VM")
    expect_error(d.get("/api/v1/vms/a.b"), 400, "VM name 'a.b'")
    expect_error(d.post("/api/v1/vms/nope/start"), 404, "nope")
    expect_error(d.get("/api/v1/nothing"), 404)
    expect_error(d.request("PUT", "/api/v1/vms"), 405)
    expect(d.get("/api/v1/vms/good/logs").status == 200, "logs of a VM that never ran")
    expect_error(d.request("DELETE", "/api/v1/vms/good?force=maybe"), 400, "force")


@case
def files_are_confined_to_the_allowed_directories(env):
    d = env.daemon()
    ok = env.definition("c")
    # As /etc/shadow once became a disk: anything outside STATE_DIR/images and --allow-dir is
    # refused, by field and path.
    for field, path in (("disks[0].path", "/etc/shadow"), ("kernel", "/etc/passwd"),
                        ("initrd", "/etc/hostname"), ("firmware", "/etc/passwd")):
        body = (dict(ok, disks=[{"path": path}]) if field.startswith("disks")
                else dict(ok, **{field: path}))
        expect_error(d.post("/api/v1/vms", body), 400, f"{field}: {path}",
                     "outside the directories a client may use")
    expect_error(d.post("/api/v1/vms", dict(ok, disks=[{"path": "/proc/self/mem"}])), 400,
                 "disks[0].path: /proc/self/mem", "a file of the kernel's")
    expect_error(d.post("/api/v1/vms", dict(ok, disks=[{"path": "/dev/zero"}])), 400,
                 "disks[0].path: /dev/zero: not a regular file or block device")
    # Symbolic links and ".." are followed first.
    link = os.path.join(env.tmp, "shadow.img")
    os.symlink("/etc/shadow", link)
    expect_error(d.post("/api/v1/vms", dict(ok, disks=[{"path": link}])), 400,
                 f"disks[0].path: {link} (/etc/shadow): outside")
    expect_error(d.post("/api/v1/vms", dict(ok, kernel=env.tmp + "/../../etc/passwd")), 400,
                 "(/etc/passwd): outside")
    # The state dir is the daemon's own, though --allow-dir holds it: only its images/ is not.
    for own in ("token", "daemon.lock"):
        body = dict(ok, disks=[{"path": os.path.join(d.state_dir, own)}])
        expect_error(d.post("/api/v1/vms", body), 400,
                     f"inside {os.path.realpath(d.state_dir)}, whose files are not a client's")
    image = os.path.join(d.state_dir, "images", "echo.elf")
    shutil.copyfile(env.guest("uart_echo"), image)
    create(d, env, "imaged", kernel=image)
    start(d, "imaged")
    d.post("/api/v1/vms/imaged/stop")
    # Checked again at the start, and `vessel run` gets the files resolved: a link pointed
    # elsewhere after the create is refused then.
    disk = os.path.join(env.tmp, "disk.img")
    with open(disk, "wb") as f:
        f.write(b"\0" * 4096)
    moving = os.path.join(env.tmp, "moving.img")
    os.symlink(disk, moving)
    create(d, env, "moved", disks=[{"path": moving}])
    os.remove(moving)
    os.symlink("/etc/passwd", moving)
    expect_error(d.post("/api/v1/vms/moved/start"), 400, f"{moving} (/etc/passwd): outside")
    os.remove(moving)
    os.symlink(disk, moving)
    start(d, "moved")
    machine = machine_of(d, "moved")
    expect(machine["disks"][0]["path"] == os.path.realpath(disk),
           f"vessel run's machine is not given the resolved disk: {machine['disks']}")
    d.post("/api/v1/vms/moved/stop")
    # Without --allow-dir, only STATE_DIR/images.
    sd = env.state_dir()
    bare = Daemon(env.vessel, sd)
    env.daemons.append(bare)
    expect_error(bare.post("/api/v1/vms", ok), 400, f"kernel: {ok['kernel']}",
                 f"outside the directories a client may use ({os.path.realpath(sd)}/images)")


@case
def user_networks_stay_off_the_hosts_loopback(env):
    # The daemon's own port listens on the host's loopback: its VMs' user networks do not reach
    # it (loopback=off) unless their definition asks; restrict= passes through.
    d = env.daemon()
    expect_error(d.post("/api/v1/vms", env.definition("bad", nets=["user,restrict=maybe"])), 400,
                 "nets[0]: restrict 'maybe': expected on or off")
    expect_error(d.post("/api/v1/vms", env.definition("bad", nets=["user,mac=52:54:00:0:0:1"])),
                 400, "nets[0]", "mac '52:54:00:0:0:1': expected six hex bytes")
    expect_error(d.post("/api/v1/vms", env.definition("bad",
                                                      nets=["user,hostfwd=tcp:0.0.0.0:1-:2"])),
                 400, "nets[0]", "127.0.0.1 only")
    create(d, env, "n", nets=["user", "user,loopback=on", "user,restrict=on",
                              {"type": "user", "mac": "52:54:00:00:00:09"}])
    start(d, "n")
    nets = [(n["loopback"], n["restrict"]) for n in machine_of(d, "n")["nets"]]
    expect(nets == [(False, False), (True, False), (False, True), (False, False)],
           f"the VM's networks (loopback, restrict): {nets}")
    defined = d.get("/api/v1/vms/n").json["definition"]["nets"]
    expect([n["loopback"] for n in defined] == [False, True, False, False]
           and defined[3]["mac"] == "52:54:00:00:00:09", f"the definition's nets: {defined}")
    d.post("/api/v1/vms/n/stop")


@case
def lifecycle_and_phase_rules(env):
    d = env.daemon()
    create(d, env, "a")
    expect_error(d.post("/api/v1/vms/a/stop"), 409, "VM 'a' is stopped")
    expect_error(d.post("/api/v1/vms/a/pause"), 409, "stopped")
    expect_error(d.post("/api/v1/vms/a/resume"), 409, "stopped")
    expect_error(d.post("/api/v1/vms/a/reboot"), 409, "stopped")
    s = start(d, "a")
    pid = s["pid"]
    expect(s["uptime_seconds"] >= 0 and s["cpus"] == 1, f"summary of a running VM: {s}")
    with open(os.path.join(d.state_dir, "vms", "a", "runtime.json")) as f:
        expect(json.load(f)["pid"] == pid, "runtime.json does not name the pid")
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        argv = f.read().split(b"\0")
    expect(argv[1] == b"run" and b"--api-sock" in argv, f"the VM is not vessel run: {argv}")
    machine = os.path.join(d.state_dir, "vms", "a", "machine.json")
    expect(argv[argv.index(b"--config") + 1] == machine.encode(), f"no --config: {argv}")
    expect(machine_of(d, "a")["engine"] == DEFAULT_ENGINE,
           f"the VM does not run the definition's engine: {machine_of(d, 'a')}")
    expect(os.getsid(pid) == pid, "the VM is not in a session of its own")
    expect_error(d.post("/api/v1/vms/a/start"), 409, "VM 'a' is running already")
    expect_error(d.post("/api/v1/vms/a/resume"), 409, "running")

    # Pause: the guest's instructions and time stand still; resume: they go on.
    time.sleep(0.5)
    r = d.post("/api/v1/vms/a/pause")
    expect(r.status == 200 and r.json["state"] == "paused", f"pause: {r}")
    expect_error(d.post("/api/v1/vms/a/pause"), 409, "paused")
    p1 = stats(d, "a")
    time.sleep(1.0)
    p2 = stats(d, "a")
    expect(p1["state"] == "paused" and p1["instructions"] == p2["instructions"]
           and p1["guest_seconds"] == p2["guest_seconds"],
           f"a paused guest went on: {p1['instructions']} -> {p2['instructions']}")
    r = d.post("/api/v1/vms/a/resume")
    expect(r.status == 200 and r.json["state"] == "running", f"resume: {r}")
    time.sleep(1.0)
    p3 = stats(d, "a")
    expect(p3["instructions"] > p2["instructions"] and p3["guest_seconds"] > p2["guest_seconds"],
           f"a resumed guest did not go on: {p2['instructions']} -> {p3['instructions']}")
    for key in ("pid", "uptime_seconds", "host_cpu_seconds", "rss_bytes", "vcpu_seconds", "mips",
                "disk_read_bytes", "net_tx_bytes"):
        expect(key in p3, f"stats lacks {key}: {sorted(p3)}")
    expect(p3["vcpu_seconds"][0]["vcpu"] == 0 and p3["vcpu_seconds"][0]["seconds"] > 0,
           f"vcpu time: {p3['vcpu_seconds']}")
    expect(p3["engine"] == DEFAULT_ENGINE and ("jit" in p3) == (DEFAULT_ENGINE == "jit"),
           f"the VM's engine in its stats: {p3.get('engine')}, jit {p3.get('jit')}")

    r = d.post("/api/v1/vms/a/reboot")
    expect(r.status == 200 and r.json["state"] == "running" and r.json["pid"] == pid,
           f"reboot: {r}")

    # Remove while running: refused; the VM is untouched.
    expect_error(d.request("DELETE", "/api/v1/vms/a"), 409, "VM 'a' is running", "force")
    expect(d.vm("a")["pid"] == pid, "a refused remove touched the VM")

    r = d.post("/api/v1/vms/a/stop")
    expect(r.status == 200 and r.json["state"] == "stopped" and r.json.get("exit_status") == 0,
           f"stop: {r}")
    expect(not process_alive(pid), "the VM process outlived its stop")
    expect(not os.path.exists(os.path.join(d.state_dir, "vms", "a", "runtime.json")),
           "runtime.json outlived a clean stop")
    # Started again: a new process.
    s2 = start(d, "a")
    expect(s2["pid"] != pid, "a second start reused the pid?")
    # A paused VM is stopped too (its held harts see the poweroff).
    expect(d.post("/api/v1/vms/a/pause").json["state"] == "paused", "pause before the remove")
    r = d.request("DELETE", "/api/v1/vms/a?force=true")
    expect(r.status == 204, f"forced remove: {r}")
    expect("a" not in d.vms() and not os.path.exists(os.path.join(d.state_dir, "vms", "a")),
           "a removed VM is still there")
    expect(not process_alive(s2["pid"]), "a forced remove left the VM running")


@case
def guest_endings_and_crashes(env):
    d = env.daemon()
    create(d, env, "off", guest="htif_pass")
    create(d, env, "fail", guest="test_fail7")
    create(d, env, "victim")
    # A guest that powers off at once: the start reports the VM as it is by then.
    d.post("/api/v1/vms/off/start")
    vm = d.wait_state("off", ["stopped"], 30)
    expect(vm.get("exit_status") == 0, f"guest poweroff: {vm}")
    d.post("/api/v1/vms/fail/start")
    vm = d.wait_state("fail", ["crashed"], 30)
    expect(vm.get("exit_status") == 7, f"guest failure 7: {vm}")
    pid = start(d, "victim")["pid"]
    os.kill(pid, signal.SIGKILL)
    vm = d.wait_state("victim", ["crashed"], 10)
    expect(vm.get("exit_status") == 128 + 9 and "SIGKILL" in vm.get("exit_reason", ""),
           f"kill -9 of a VM: {vm}")
    # A crashed VM starts again.
    expect(start(d, "victim")["pid"] != pid, "restart after a crash")
    d.post("/api/v1/vms/victim/stop")
    # A definition whose kernel went away: the start says which file.
    create(d, env, "gone", guest="htif_pass")
    shutil.copy(env.guest("htif_pass"), os.path.join(env.tmp, "k.elf"))
    r = d.post("/api/v1/vms", dict(env.definition("gone2"), kernel=os.path.join(env.tmp, "k.elf")))
    expect(r.status == 201, f"create gone2: {r}")
    os.unlink(os.path.join(env.tmp, "k.elf"))
    expect_error(d.post("/api/v1/vms/gone2/start"), 400, "kernel", "k.elf")
    # A machine that cannot be built: the process ends at once and the start says why.
    with open(os.path.join(env.tmp, "junk.elf"), "wb") as f:
        f.write(b"\x7fELF junk")
    d.post("/api/v1/vms", dict(env.definition("junk"), kernel=os.path.join(env.tmp, "junk.elf")))
    r = d.post("/api/v1/vms/junk/start")
    expect_error(r, 500, "VM 'junk' did not start", "junk.elf")


@case
def restart_readopts_and_second_daemon_refuses(env):
    sd = env.state_dir()
    d = env.daemon(sd)
    for n in ("r1", "r2", "r3"):
        create(d, env, n)
    pids = {n: start(d, n)["pid"] for n in ("r1", "r2")}
    d.post("/api/v1/vms/r2/pause")
    # A second daemon on the same state dir: one line, exit 2.
    p = subprocess.run([env.vessel, "daemon", "--state-dir", sd], capture_output=True, text=True,
                       timeout=30)
    expect(p.returncode == 2 and p.stderr.count("\n") == 1
           and "another vessel daemon" in p.stderr and str(d.proc.pid) in p.stderr,
           f"second daemon: status {p.returncode}, stderr {p.stderr!r}")
    d.kill()
    # While no daemon runs, r1 ends by a signal.
    os.kill(pids["r1"], signal.SIGKILL)
    time.sleep(0.3)
    d2 = env.daemon(sd)
    vms = d2.vms()
    expect(vms["r2"]["state"] == "paused" and vms["r2"]["pid"] == pids["r2"],
           f"paused survivor not re-adopted: {vms['r2']}")
    expect(vms["r1"]["state"] == "crashed", f"VM killed while no daemon ran: {vms['r1']}")
    expect(vms["r3"]["state"] == "stopped", f"never-started VM: {vms['r3']}")
    r = d2.post("/api/v1/vms/r2/resume")
    expect(r.status == 200 and r.json["state"] == "running", f"resume an adopted VM: {r}")
    # An adopted VM that ends is noticed (it is not our child: its pidfd says so).
    os.kill(pids["r2"], signal.SIGKILL)
    vm = d2.wait_state("r2", ["crashed"], 10)
    expect("killed" in vm.get("exit_reason", ""), f"adopted VM killed: {vm}")
    # An adopted VM stopped through the API ends as stopped, with the status it wrote.
    pid = start(d2, "r3")["pid"]
    d2.kill()
    d3 = env.daemon(sd)
    expect(d3.vm("r3")["pid"] == pid, "r3 not re-adopted")
    r = d3.post("/api/v1/vms/r3/stop")
    expect(r.status == 200 and r.json["state"] == "stopped" and r.json.get("exit_status") == 0,
           f"stop of an adopted VM: {r}")
    # The crash of r1 is still known to a daemon started later.
    d3.stop()
    d4 = env.daemon(sd)
    expect(d4.vm("r1")["state"] == "crashed", "a crash forgotten across restarts")


def killed_at(env, sd, step, request):
    """A daemon that kills itself (VESSEL_DAEMON_CRASH_AT) in the middle of `request`."""
    d = env.daemon(sd, env={"VESSEL_DAEMON_CRASH_AT": step})
    try:
        request(d)
    except (OSError, http.client.HTTPException):
        pass  # the connection dies with the daemon
    d.proc.wait(timeout=30)
    expect(d.proc.returncode == -signal.SIGKILL,
           f"the daemon did not die at {step}: status {d.proc.returncode}")


@case
def daemon_killed_midway_leaves_no_half_vm(env):
    sd = env.state_dir()
    vms_dir = os.path.join(sd, "vms")
    # Killed during a create: the VM was never made, and the leftover is cleaned up.
    killed_at(env, sd, "create", lambda d: d.post("/api/v1/vms", env.definition("c1")))
    expect(os.listdir(vms_dir) == [".creating-c1"], f"after the kill: {os.listdir(vms_dir)}")
    d = env.daemon(sd)
    expect("VM 'c1': its creation was interrupted" in d.read_log(),
           f"the next daemon does not say what it found: {d.read_log()[-600:]}")
    expect(d.vm("c1") is None and os.listdir(vms_dir) == [], f"half VM: {os.listdir(vms_dir)}")
    create(d, env, "c1")
    create(d, env, "r1")
    d.kill()
    # Killed during a remove: the VM is gone, never half there.
    killed_at(env, sd, "remove", lambda d: d.request("DELETE", "/api/v1/vms/r1"))
    d = env.daemon(sd)
    expect("VM 'r1': its removal was interrupted" in d.read_log(), "remove not reported")
    expect(d.vm("r1") is None and sorted(os.listdir(vms_dir)) == ["c1"],
           f"after an interrupted remove: {os.listdir(vms_dir)}")
    d.kill()
    # Killed during a start, after the VM process began and before its runtime.json: the next
    # daemon finds the VM through its API socket and adopts it.
    killed_at(env, sd, "start", lambda d: d.post("/api/v1/vms/c1/start"))
    expect(not os.path.exists(os.path.join(vms_dir, "c1", "runtime.json")), "runtime.json exists")
    d = env.daemon(sd)
    vm = d.vm("c1")
    expect(vm["state"] == "running" and process_alive(vm["pid"]), f"orphan not adopted: {vm}")
    expect("with no runtime.json" in d.read_log() and "found 1 VM: c1 (running" in d.read_log(),
           f"the adoption is not in the log: {d.read_log()[-800:]}")
    r = d.post("/api/v1/vms/c1/stop")
    expect(r.status == 200 and r.json["state"] == "stopped", f"stop the adopted VM: {r}")


@case
def broken_definitions_are_reported_by_name(env):
    d = env.daemon()
    create(d, env, "fine")
    create(d, env, "bad")
    path = os.path.join(d.state_dir, "vms", "bad", "config.json")
    with open(path, "w") as f:
        f.write('{"name": "bad", "kernel": ')
    vms = d.vms()
    expect(vms["bad"]["state"] == "broken" and path in vms["bad"]["error"]
           and "not valid JSON" in vms["bad"]["error"], f"broken VM: {vms['bad']}")
    expect(vms["fine"]["state"] == "stopped", "the others stay usable")
    expect_error(d.post("/api/v1/vms/bad/start"), 409, "bad", "config.json")
    start(d, "fine")
    # Fixed by hand: usable again.
    with open(path, "w") as f:
        json.dump(env.definition("bad"), f)
    expect(d.vm("bad")["state"] == "stopped", f"fixed config: {d.vm('bad')}")
    # Broken at a daemon start: named in its log, and removable.
    with open(path, "w") as f:
        json.dump(dict(env.definition("bad"), cpus=99), f)
    d.kill()
    d2 = env.daemon(d.state_dir)
    expect("VM 'bad' is broken" in d2.read_log() and "cpus: 99" in d2.read_log(),
           "the daemon's log does not name the broken VM")
    expect(d2.vm("fine")["state"] == "running", "a running VM was lost over a broken neighbour")
    r = d2.request("DELETE", "/api/v1/vms/bad")
    expect(r.status == 204, f"remove a broken VM: {r}")
    d2.request("DELETE", "/api/v1/vms/fine?force=true")


@case
def console_logs_and_metrics(env):
    d = env.daemon()
    create(d, env, "echo")
    start(d, "echo")
    # Two viewers at once; bytes typed into one come back (echoed by the guest) to both.
    ws1 = WebSocket.open_unix(d.socket, "/api/v1/vms/echo/console")
    ws2 = WebSocket.open_unix(d.socket, "/api/v1/vms/echo/console")
    expect(ws1.status == 101 and ws2.status == 101, f"upgrade: {ws1.head!r}")
    time.sleep(0.3)
    ws1.send(b"ping-one\n")
    ws1.read_until(b"ping-one")
    ws2.read_until(b"ping-one")
    ws2.send(b"ping-two\n")
    ws1.read_until(b"ping-two")
    ws1.close()
    ws2.close()
    expect(WebSocket.open_unix(d.socket, "/api/v1/vms/nope/console").status == 404,
           "console of a missing VM")
    # The scrollback: the banner from the boot and what was typed.
    deadline = time.monotonic() + 5
    while True:
        logs = d.get("/api/v1/vms/echo/logs")
        if b"ping-two" in logs.data or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    expect(logs.status == 200 and logs.headers["content-type"].startswith("text/plain")
           and b"uart-echo ready" in logs.data and b"ping-two" in logs.data, f"logs: {logs}")
    tail = d.get("/api/v1/vms/echo/logs?bytes=4")
    expect(tail.status == 200 and len(tail.data) == 4, f"logs?bytes=4: {tail}")
    expect_error(d.get("/api/v1/vms/echo/logs?bytes=0"), 400, "bytes")
    # The VM's own statistics come with the daemon's first sample (every 2 s).
    deadline = time.monotonic() + 10
    while ('vessel_vm_instructions_total{name="echo"}' not in (m := d.get("/metrics")).text
           and time.monotonic() < deadline):
        time.sleep(0.5)
    expect(m.status == 200 and m.headers["content-type"].startswith("text/plain"), f"{m}")
    for line in ('vessel_vm_state{name="echo",state="running"} 1',
                 'vessel_vm_state{name="echo",state="stopped"} 0',
                 'vessel_vm_vcpus{name="echo"} 1', 'vessel_vm_memory_bytes{name="echo"} 16777216',
                 "# TYPE vessel_vm_host_cpu_seconds_total counter",
                 'vessel_vm_vcpu_seconds_total{name="echo",vcpu="0"} ',
                 'vessel_vm_rss_bytes{name="echo"} ', 'vessel_vm_instructions_total{name="echo"} ',
                 'vessel_vm_guest_seconds{name="echo"} ',
                 'vessel_vm_disk_read_bytes_total{name="echo"} 0',
                 'vessel_vm_net_rx_bytes_total{name="echo"} 0'):
        expect(line in m.text, f"metrics lack {line!r}:\n{m.text}")
    # Two samples (2 s apart) make the first MIPS and CPU% figures.
    deadline = time.monotonic() + 10
    while "mips" not in (summary := d.vm("echo")) and time.monotonic() < deadline:
        time.sleep(0.5)
    expect(summary.get("mips", 0) > 0 and summary.get("host_cpu_percent", 0) > 0,
           f"sampled figures: {summary}")
    d.post("/api/v1/vms/echo/stop")
    expect(WebSocket.open_unix(d.socket, "/api/v1/vms/echo/console").status == 409,
           "console of a stopped VM")


@case
def tcp_token_and_static_files(env):
    ui = os.path.join(env.tmp, "ui")
    os.makedirs(os.path.join(ui, "vendor"))
    with open(os.path.join(ui, "index.html"), "w") as f:
        f.write("<html>vessel</html>")
    with open(os.path.join(ui, "vendor", "x.mjs"), "w") as f:
        f.write("export {}")
    with open(os.path.join(env.tmp, "secret.txt"), "w") as f:
        f.write("secret")
    os.symlink(os.path.join(env.tmp, "secret.txt"), os.path.join(ui, "leak.txt"))
    d = env.daemon(tcp=True, ui_dir=ui)
    st = os.stat(os.path.join(d.state_dir, "token"))
    expect(st.st_mode & 0o777 == 0o600, "the token file is not 0600")
    expect(os.stat(d.socket).st_mode & 0o777 == 0o600, "daemon.sock is not 0600")
    expect_error(d.get("/api/v1/vms", tcp=True), 401)
    expect_error(d.get("/api/v1/vms", tcp=True, headers={"Authorization": "Bearer wrong"}), 401)
    r = d.get("/api/v1/vms", tcp=True, headers={"Authorization": f"Bearer {d.token}"})
    expect(r.status == 200 and r.json == [], f"bearer: {r}")
    r = d.get(f"/api/v1/vms?token={d.token}", tcp=True)
    cookie = r.headers.get("set-cookie", "")
    expect(r.status == 200 and cookie.startswith(f"vessel_token={d.token}")
           and "HttpOnly" in cookie, f"?token=: {r} {cookie!r}")
    r = d.get("/metrics", tcp=True, headers={"Cookie": f"a=b; vessel_token={d.token}"})
    expect(r.status == 200, f"cookie: {r}")
    # The page itself needs no token (its API calls do).
    r = d.get("/", tcp=True)
    expect(r.status == 200 and r.data == b"<html>vessel</html>"
           and r.headers["content-type"].startswith("text/html"), f"GET /: {r}")
    r = d.get(f"/?token={d.token}", tcp=True)
    expect(r.status == 200 and r.headers.get("set-cookie", "").startswith("vessel_token="),
           f"GET /?token= sets the cookie: {r.headers}")
    r = d.get("/ui/vendor/x.mjs", tcp=True)
    expect(r.status == 200 and r.headers["content-type"].startswith("text/javascript"),
           f"module: {r}")
    for bad in ("/ui/leak.txt", "/ui/../token", "/ui/%2e%2e/token", "/ui/nothing.js",
                "/ui/vendor/.hidden"):
        expect(d.get(bad, tcp=True).status == 404, f"{bad} was served")
    # The console WebSocket takes ?token= (browsers cannot set its headers).
    create(d, env, "w")
    start(d, "w")
    ws = WebSocket.open_tcp(d.port, "/api/v1/vms/w/console")
    expect(ws.status == 401, f"console without token: {ws.head!r}")
    ws = WebSocket.open_tcp(d.port, f"/api/v1/vms/w/console?token={d.token}")
    expect(ws.status == 101, f"console with ?token=: {ws.head!r}")
    time.sleep(0.3)
    ws.send(b"tcp-hello\n")
    ws.read_until(b"tcp-hello")
    ws.close()
    d.post("/api/v1/vms/w/stop")
    # No web console: 404, not a failure.
    d2 = env.daemon(ui_dir=None, extra=())
    r = d2.get("/")
    expect(r.status in (200, 404), f"GET / without --ui-dir: {r}")


@case
def idle_connections_do_not_lock_out_clients(env):
    # 300 connections that say nothing, on the TCP port and on the socket (the daemon takes 256
    # requests at once): a request with the token, and one on the socket, are answered at once.
    d = env.daemon(tcp=True)
    idle = []
    try:
        for _ in range(300):
            idle.append(socket.create_connection(("127.0.0.1", d.port), timeout=30))
            u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            u.connect(d.socket)
            idle.append(u)
        began = time.monotonic()
        r = d.get("/api/v1/vms", tcp=True, headers={"Authorization": f"Bearer {d.token}"})
        expect(r.status == 200, f"with the token, behind 300 idle connections: {r}")
        r = d.get("/api/v1/vms")
        expect(r.status == 200, f"on the socket, behind 300 idle connections: {r}")
        took = time.monotonic() - began
        expect(took < 1.0, f"the answers took {took:.1f} s: they waited for the idle ones")
        # The idle ones are closed within the header deadline (2 s) at the latest.
        idle[0].settimeout(10)
        expect(idle[0].recv(1) == b"", "an idle connection was answered")
    finally:
        for s in idle:
            s.close()


@case
def tcp_cookie_only_from_the_daemons_own_page(env):
    """The cookie a browser attaches by itself lets in only the daemon's own page: other
    origins (another localhost port, a DNS-rebinding name) get 403 on upgrades and state
    changes; the bearer token works as before."""
    d = env.daemon(tcp=True)
    own = f"http://127.0.0.1:{d.port}"
    cookie = {"Cookie": f"vessel_token={d.token}"}
    bearer = {"Authorization": f"Bearer {d.token}"}
    create(d, env, "w")
    start(d, "w")

    # The console from another origin, with the cookie or the token in the URL: refused.
    for origin in ("http://evil.example", "http://127.0.0.1:1"):
        for target, extra in (("/api/v1/vms/w/console", cookie),
                              (f"/api/v1/vms/w/console?token={d.token}", {})):
            ws = WebSocket.open_tcp(d.port, target, headers={"Origin": origin, **extra})
            expect(ws.status == 403, f"console from {origin} via {target}: {ws.head!r}")
            ws.close()
    # A text/plain POST with the cookie (a form on another localhost port): refused, nothing made.
    definition = json.dumps(env.definition("evil")).encode()
    for extra, why in (({}, "X-Vessel-Request"), ({"Origin": own}, "X-Vessel-Request"),
                       ({"Origin": "http://127.0.0.1:1"}, "Origin 'http://127.0.0.1:1'")):
        r = d.request("POST", "/api/v1/vms", raw=definition, tcp=True,
                      headers={"Content-Type": "text/plain", **cookie, **extra})
        expect_error(r, 403, why)
        r = d.request("POST", "/api/v1/vms/w/stop", raw=b"", tcp=True,
                      headers={"Content-Type": "text/plain", **cookie, **extra})
        expect_error(r, 403, why)
    expect("evil" not in d.vms() and d.vm("w")["state"] == "running", "a refused POST acted")
    # A name that rebinds to 127.0.0.1: refused even with the header.
    r = d.request("POST", "/api/v1/vms/w/pause", tcp=True,
                  headers={"Host": f"evil.example:{d.port}", "Origin": f"http://evil.example:{d.port}",
                           "X-Vessel-Request": "1", **cookie})
    expect_error(r, 403, "Host 'evil.example")

    # The web console's own flow: the page opened with ?token= gets the cookie, then calls the
    # API and opens the console from its own origin.
    r = d.get(f"/api/v1/vms?token={d.token}", tcp=True)
    expect(r.status == 200 and "vessel_token=" in r.headers.get("set-cookie", ""), f"{r}")
    page = {"Origin": own, "X-Vessel-Request": "1", **cookie}
    r = d.post("/api/v1/vms", env.definition("mine"), tcp=True, headers=page)
    expect(r.status == 201, f"create from the page: {r}")
    r = d.post("/api/v1/vms/w/pause", tcp=True, headers=page)
    expect(r.status == 200 and r.json["state"] == "paused", f"pause from the page: {r}")
    r = d.post("/api/v1/vms/w/resume", tcp=True, headers=page)
    expect(r.status == 200, f"resume from the page: {r}")
    ws = WebSocket.open_tcp(d.port, "/api/v1/vms/w/console", host=f"127.0.0.1:{d.port}",
                            headers={"Origin": own, **cookie})
    expect(ws.status == 101, f"console from the page: {ws.head!r}")
    time.sleep(0.3)
    ws.send(b"page-hello\n")
    ws.read_until(b"page-hello")
    ws.close()

    # Bearer clients: no Origin, Host or header rules.
    r = d.post("/api/v1/vms", env.definition("tok"), tcp=True,
               headers={"Origin": "http://elsewhere", **bearer})
    expect(r.status == 201, f"bearer create: {r}")
    r = d.request("DELETE", "/api/v1/vms/tok", tcp=True, headers=bearer)
    expect(r.status == 204, f"bearer delete: {r}")
    d.post("/api/v1/vms/w/stop")


@case
def cli_commands(env):
    sd = env.state_dir()
    p = env.cli(sd, "ls", check=1)
    expect("no daemon is running on" in p.stderr and p.stderr.count("\n") == 1,
           f"ls without a daemon: {p.stderr!r}")
    d = env.daemon(sd)
    kernel = env.guest("uart_echo")
    p = env.cli(sd, "create", "c1", "--kernel", kernel, "--firmware", "none", "--memory", "32M",
                "--cpus", "2", check=0)
    expect(p.stdout == "c1: stopped\n", f"create: {p.stdout!r}")
    p = env.cli(sd, "create", "c1", "--kernel", kernel, "--firmware", "none", check=1)
    expect("exists" in p.stderr and p.stderr.count("\n") == 1, f"create twice: {p.stderr!r}")
    p = env.cli(sd, "create", "c2", "--kernel", kernel, "--memory", "1.5K", check=2)
    p = env.cli(sd, "create", "c2", "--kernel", kernel, "--engine", "bogus", check=2)
    expect(p.stderr == "vessel: --engine: 'bogus' is not an engine (jit or interp)\n",
           f"create --engine bogus: {p.stderr!r}")
    # An interpreted VM: the definition, the summary and the VM's own statistics say so.
    env.cli(sd, "create", "c3", "--kernel", kernel, "--firmware", "none", "--memory", "16M",
            "--engine", "interp", check=0)
    expect(d.get("/api/v1/vms/c3").json["definition"]["engine"] == "interp", "c3's definition")
    env.cli(sd, "start", "c3", check=0)
    p = env.cli(sd, "stats", "c3", check=0)
    expect("engine              interp\n" in p.stdout and "blocks translated" not in p.stdout,
           f"stats of an interp VM: {p.stdout!r}")
    p = env.cli(sd, "stats", "c3", "--json", check=0)
    s3 = json.loads(p.stdout)
    expect(s3["engine"] == "interp" and "jit" not in s3, f"stats --json of c3: {s3}")
    env.cli(sd, "rm", "--force", "c3", check=0)
    # Every option of `vessel run` that describes the machine works in create (one declaration
    # for both): an overlay over a clean base (a comma in its name), snapshot=on, a forwarded
    # port and a MAC, the balloon, no rng, the translator's settings, the hart's features.
    base = os.path.join(env.tmp, "base,1.img")
    scratch = os.path.join(env.tmp, "scratch.img")
    for path in (base, scratch):
        with open(path, "wb") as f:
            f.write(b"\0" * 65536)
    overlay = os.path.join(env.tmp, "c4.ovl")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env.cli(sd, "create", "c4", "--kernel", kernel, "--firmware", "none", "--memory", "16M",
            "--disk", base.replace(",", ",,") + ",overlay=" + overlay,
            "--disk", scratch + ",snapshot=on",
            "--net", f"user,hostfwd=tcp::{port}-:7,mac=52:54:00:00:00:42",
            "--balloon", "amount=1", "--no-rng", "--jit-threshold", "3", "--cpu-features", "-zbb",
            check=0)
    c4 = d.get("/api/v1/vms/c4").json["definition"]
    expect(c4["disks"][0] == {"path": base, "readonly": False, "overlay": overlay}
           and c4["disks"][1]["snapshot"] is True
           and c4["nets"] == [{"type": "user", "hostfwd": [f"tcp:127.0.0.1:{port}-:7"],
                               "restrict": False, "loopback": False, "mmds": False,
                               "mac": "52:54:00:00:00:42"}]
           and c4["balloon"]["amount_mib"] == 1 and c4["rng"] is False
           and c4["jit_threshold"] == 3 and c4["cpu_features"]["zbb"] is False,
           f"c4's definition: {c4}")
    env.cli(sd, "start", "c4", check=0)
    expect(os.path.exists(overlay), "the VM did not make its overlay")
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass  # the forwarded port listens
    expect(machine_of(d, "c4")["disks"][0]["overlay"] == os.path.realpath(overlay),
           f"c4's machine: {machine_of(d, 'c4')}")
    env.cli(sd, "rm", "--force", "c4", check=0)
    p = env.cli(sd, "create", "c5", "--kernel", kernel, "--disk", base + ",overlay=x", check=2)
    expect(p.stderr.startswith("vessel: --disk: unknown option '1.img'"), f"{p.stderr!r}")
    p = env.cli(sd, "start", "c1", check=0)
    expect(p.stdout.startswith("c1: running (pid "), f"start: {p.stdout!r}")
    p = env.cli(sd, "ls", check=0)
    lines = p.stdout.splitlines()
    expect(lines[0].split() == ["NAME", "STATE", "VCPUS", "MEMORY", "UPTIME", "MIPS", "CPU%"]
           and lines[1].split()[:4] == ["c1", "running", "2", "32M"], f"ls: {p.stdout!r}")
    p = env.cli(sd, "ls", "--json", check=0)
    expect(json.loads(p.stdout)[0]["name"] == "c1"
           and json.loads(p.stdout)[0]["engine"] == DEFAULT_ENGINE, f"ls --json: {p.stdout!r}")
    p = env.cli(sd, "pause", "c1", check=0)
    expect(p.stdout == "c1: paused (pid " + str(d.vm("c1")["pid"]) + ")\n", f"{p.stdout!r}")
    p = env.cli(sd, "stats", "c1", check=0)
    expect("instructions" in p.stdout and "paused" in p.stdout
           and f"engine              {DEFAULT_ENGINE}\n" in p.stdout
           and ("blocks translated" in p.stdout) == (DEFAULT_ENGINE == "jit"),
           f"stats: {p.stdout!r}")
    p = env.cli(sd, "stats", "c1", "--json", check=0)
    expect(json.loads(p.stdout)["state"] == "paused", "stats --json")
    env.cli(sd, "resume", "c1", check=0)
    # The guest may still be printing its greeting (it was paused for a while).
    deadline = time.monotonic() + 10
    while True:
        p = env.cli(sd, "logs", "c1", check=0)
        if "uart-echo ready" in p.stdout or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    expect("uart-echo ready" in p.stdout, f"logs: {p.stdout!r}")
    # vessel console: what is typed reaches the guest (echoed back), Ctrl-A x detaches.
    con = subprocess.Popen([env.vessel, "console", "c1", "--state-dir", sd],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    con.stdin.write(b"console-hi\n")
    con.stdin.flush()
    seen = b""
    deadline = time.monotonic() + 20
    while b"console-hi" not in seen and time.monotonic() < deadline:
        # select, not a bare read: a console that never echoes fails the case, not hangs it
        if select.select([con.stdout], [], [], max(0.0, deadline - time.monotonic()))[0]:
            chunk = os.read(con.stdout.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
    con.stdin.write(b"\x01x")
    con.stdin.flush()
    out, err = con.communicate(timeout=20)
    expect(b"console-hi" in seen and con.returncode == 0 and err.count(b"\n") >= 1,
           f"vessel console: status {con.returncode} out {seen + out!r} err {err!r}")
    p = env.cli(sd, "logs", "c1", "--file", "/x", check=2)
    p = env.cli(sd, "rm", "c1", check=1)
    expect("force" in p.stderr, f"rm running: {p.stderr!r}")
    p = env.cli(sd, "stop", "c1", check=0)
    expect(p.stdout == "c1: stopped (exited with status 0)\n", f"stop: {p.stdout!r}")
    p = env.cli(sd, "stop", "c1", check=1)
    p = env.cli(sd, "console", "c1", check=1)
    expect("VM 'c1' is stopped" in p.stderr, f"console of a stopped VM: {p.stderr!r}")
    p = env.cli(sd, "rm", "c1", check=0)
    expect(p.stdout == "c1: removed\n", f"rm: {p.stdout!r}")
    p = env.cli(sd, "start", "nope", check=1)
    expect(p.stderr == "vessel: VM 'nope': no such VM\n", f"start of nothing: {p.stderr!r}")


@case
def daemon_bad_input(env):
    for argv, fragment in ((["--listen-tcp", "0.0.0.0:80"], "loopback only"),
                           (["--listen-tcp", "127.0.0.1:x"], "not a port"),
                           (["--ui-dir", "/no/such/dir"], "--ui-dir /no/such/dir"),
                           (["--allow-dir", "/no/such/dir"], "--allow-dir /no/such/dir"),
                           (["--allow-dir", "/etc/passwd"], "--allow-dir /etc/passwd: not a dir"),
                           (["--state-dir", "/tmp/" + "x" * 90], "too long")):
        sd = [] if "--state-dir" in argv else ["--state-dir", env.state_dir()]
        p = subprocess.run([env.vessel, "daemon", *sd, *argv], capture_output=True, text=True,
                           timeout=30, stdin=subprocess.DEVNULL)
        expect(p.returncode == 2 and p.stderr.count("\n") == 1 and fragment in p.stderr,
               f"daemon {argv}: status {p.returncode} stderr {p.stderr!r}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--vessel", required=True)
    p.add_argument("--guest-dir", required=True)
    p.add_argument("-k", default="")
    args = p.parse_args()
    failures = 0
    ran = 0
    for fn in CASES:
        if args.k not in fn.__name__:
            continue
        ran += 1
        tmp = tempfile.mkdtemp(prefix="vdt-", dir="/tmp")
        env = Env(args, tmp)
        t0 = time.monotonic()
        try:
            fn(env)
            print(f"ok   {fn.__name__} ({time.monotonic() - t0:.1f} s)", flush=True)
        except Exception:  # noqa: BLE001 - every failure is reported, then the next case runs
            failures += 1
            print(f"FAIL {fn.__name__}\n{traceback.format_exc()}", flush=True)
            for d in env.daemons:
                print(f"--- daemon log {d.log_path}:\n{d.read_log()[-3000:]}")
        finally:
            env.cleanup()
            shutil.rmtree(tmp, ignore_errors=True)
    if ran == 0:
        print("no case matched")
        return 1
    print(f"{ran - failures}/{ran} cases passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
