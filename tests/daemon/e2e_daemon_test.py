#!/usr/bin/env python3
"""e2e_daemon: `vessel daemon` running eight Debian guests at once (guests/debian: Image and
initrd.cpio.gz, 128 MiB each, console=ttyS0).

  e2e_daemon_test.py --vessel BUILD/vessel --guest-dir guests/cache/debian [--vms 8]
                     [--boot-timeout 900]

Checks, in order: every guest reaches userspace (its console log says "vessel-guest: userspace
up"); `vessel ls` shows them running; each console (a WebSocket through the daemon) answers a
command of its own; pause freezes a guest's instruction count and guest time and resume lets
them go on; kill -9 of one VM process shows it crashed while the others run on; kill -9 of
the daemon and a restart re-adopt the survivors (same pids, still running, consoles still
answer); a second daemon on the same state dir refuses; removing a running VM is refused
unless forced; a config.json corrupted by hand is reported by name while the others stay
usable; a guest's own poweroff shows it stopped; every VM stops. Exits 1 on the first failure,
with the daemon's log and the guests' console tails.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vessel_daemon import Daemon, WebSocket, process_alive  # noqa: E402

USERSPACE_UP = b"vessel-guest: userspace up"
PROMPT = re.compile(rb"vessel:[^\n]*# ")


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


def wait_for(what, timeout, poll, interval=1.0):
    deadline = time.monotonic() + timeout
    while True:
        result = poll()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def cli(args, state_dir, *argv):
    return subprocess.run([args.vessel, *argv, "--state-dir", state_dir], capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


def shell(d, name, command, expect_text, timeout=120):
    """Runs `command` on the VM's console (a WebSocket through the daemon) and waits for
    `expect_text` (bytes) and the prompt after it."""
    ws = WebSocket.open_unix(d.socket, f"/api/v1/vms/{name}/console")
    expect(ws.status == 101, f"{name}: console upgrade: {ws.head!r}")
    try:
        ws.send(b"\n")
        ws.read_until(b"# ", timeout)
        ws.send(command.encode() + b"\n")
        seen = ws.read_until(expect_text, timeout)
        return seen
    finally:
        ws.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--vessel", required=True)
    p.add_argument("--guest-dir", required=True)
    p.add_argument("--vms", type=int, default=8)
    p.add_argument("--boot-timeout", type=float, default=900)
    args = p.parse_args()
    image = os.path.join(args.guest_dir, "Image")
    initrd = os.path.join(args.guest_dir, "initrd.cpio.gz")
    for f in (image, initrd):
        if not os.path.isfile(f):
            print(f"missing guest file {f} (guests/debian/build.sh builds it)")
            return 1
    tmp = tempfile.mkdtemp(prefix="vde-", dir="/tmp")
    sd = os.path.join(tmp, "state")
    os.makedirs(sd)
    daemons = []
    names = [f"g{i}" for i in range(args.vms)]
    try:
        d = Daemon(args.vessel, sd, extra=["--allow-dir", args.guest_dir])
        daemons.append(d)
        for n in names:
            r = d.post("/api/v1/vms", {"name": n, "kernel": image, "initrd": initrd,
                                       "append": "console=ttyS0", "memory_mib": 128})
            expect(r.status == 201, f"create {n}: {r}")
        t0 = time.monotonic()
        pids = {}
        for n in names:
            r = d.post(f"/api/v1/vms/{n}/start")
            expect(r.status == 200 and r.json["state"] == "running", f"start {n}: {r}")
            pids[n] = r.json["pid"]
        log(f"{len(names)} VMs started: {pids}")

        def console_log(n):
            return d.get(f"/api/v1/vms/{n}/logs").data

        up = {}

        def all_up():
            for n in names:
                if n not in up and USERSPACE_UP in console_log(n):
                    up[n] = time.monotonic() - t0
                    log(f"{n} reached userspace after {up[n]:.0f} s")
            return len(up) == len(names)
        wait_for("every guest to reach userspace", args.boot_timeout, all_up, 2.0)

        p = cli(args, sd, "ls")
        lines = p.stdout.splitlines()
        expect(p.returncode == 0 and len(lines) == len(names) + 1, f"vessel ls: {p.stdout!r}")
        for line in lines[1:]:
            expect(line.split()[1] == "running", f"vessel ls: {line!r}")
        log("vessel ls shows every VM running")

        for i, n in enumerate(names):
            token = f"tok-{n}-{i * 7}"
            shell(d, n, f"echo tok-{n}-$(({i}*7))", token.encode())
        log("every console answered its own command")

        # Pause and resume.
        target = names[0]

        def stats(n):
            r = d.get(f"/api/v1/vms/{n}/stats")
            expect(r.status == 200, f"stats {n}: {r}")
            return r.json
        r = d.post(f"/api/v1/vms/{target}/pause")
        expect(r.status == 200 and r.json["state"] == "paused", f"pause: {r}")
        s1 = stats(target)
        time.sleep(3)
        s2 = stats(target)
        expect(s1["instructions"] == s2["instructions"] and
               s1["guest_seconds"] == s2["guest_seconds"],
               f"paused guest went on: {s1['instructions']}/{s1['guest_seconds']} -> "
               f"{s2['instructions']}/{s2['guest_seconds']}")
        r = d.post(f"/api/v1/vms/{target}/resume")
        expect(r.status == 200 and r.json["state"] == "running", f"resume: {r}")
        time.sleep(3)
        s3 = stats(target)
        expect(s3["instructions"] > s2["instructions"] and
               s3["guest_seconds"] > s2["guest_seconds"],
               f"resumed guest stands still: {s2['instructions']} -> {s3['instructions']}")
        shell(d, target, "echo after-$((20+22))", b"after-42")
        log("pause froze instructions and guest time; resume went on")

        # kill -9 of one VM.
        victim = names[1]
        os.kill(pids[victim], signal.SIGKILL)
        vm = d.wait_state(victim, ["crashed"], 30)
        expect(vm.get("exit_status") == 137, f"killed VM: {vm}")
        vms = d.vms()
        for n in names:
            if n != victim:
                expect(vms[n]["state"] in ("running",) and vms[n]["pid"] == pids[n],
                       f"{n} after another VM's crash: {vms[n]}")
        log(f"{victim} crashed (SIGKILL), the others run on")

        # kill -9 of the daemon, a restart, re-adoption.
        d.kill()
        d = Daemon(args.vessel, sd, extra=["--allow-dir", args.guest_dir])
        daemons.append(d)
        vms = d.vms()
        for n in names:
            if n == victim:
                expect(vms[n]["state"] == "crashed", f"{n} after the restart: {vms[n]}")
            else:
                expect(vms[n]["state"] == "running" and vms[n]["pid"] == pids[n],
                       f"{n} not re-adopted: {vms[n]} (pid was {pids[n]})")
        shell(d, names[2], "echo readopted-$((6*7))", b"readopted-42")
        log("a restarted daemon re-adopted every survivor (same pids)")

        p = subprocess.run([args.vessel, "daemon", "--state-dir", sd], capture_output=True,
                           text=True, timeout=30)
        expect(p.returncode == 2 and "another vessel daemon" in p.stderr,
               f"second daemon: {p.returncode} {p.stderr!r}")
        log("a second daemon refused: " + p.stderr.strip())

        # Remove while running.
        gone = names[2]
        r = d.request("DELETE", f"/api/v1/vms/{gone}")
        expect(r.status == 409, f"remove a running VM: {r}")
        r = d.request("DELETE", f"/api/v1/vms/{gone}?force=true")
        expect(r.status == 204, f"forced remove: {r}")
        expect(not process_alive(pids[gone]) and gone not in d.vms(),
               "a forced remove left the VM")
        log(f"{gone}: remove refused while running, forced remove stopped and removed it")

        # A config.json broken by hand.
        broken = names[3]
        r = d.post(f"/api/v1/vms/{broken}/stop")
        expect(r.status == 200 and r.json["state"] == "stopped", f"stop {broken}: {r}")
        config = os.path.join(sd, "vms", broken, "config.json")
        with open(config, "w") as f:
            f.write("{ this is not json")
        p = cli(args, sd, "ls")
        row = [line for line in p.stdout.splitlines() if line.startswith(broken + " ")]
        expect(row and row[0].split()[1] == "broken", f"vessel ls with a broken VM: {p.stdout!r}")
        vm = d.vm(broken)
        expect(vm["state"] == "broken" and config in vm["error"], f"broken VM: {vm}")
        shell(d, names[4], "echo still-usable-$((2*21))", b"still-usable-42")
        log(f"{broken}: corrupted config.json reported ({vm['error']}); the others answer")

        # A guest's own poweroff.
        own = names[5]
        ws = WebSocket.open_unix(d.socket, f"/api/v1/vms/{own}/console")
        ws.send(b"\n")
        ws.read_until(b"# ", 60)
        ws.send(b"poweroff -f\n")
        vm = d.wait_state(own, ["stopped"], 120)
        expect(vm.get("exit_status") == 0, f"guest poweroff: {vm}")
        log(f"{own}: guest poweroff -> stopped, status 0")

        for n, vm in d.vms().items():
            if vm["state"] in ("running", "paused"):
                p = cli(args, sd, "stop", n)
                expect(p.returncode == 0 and "stopped" in p.stdout, f"stop {n}: {p.stdout!r}")
        for n, vm in d.vms().items():
            expect(vm["state"] != "running", f"{n} still running")
        log(f"all stopped; boot times to userspace: "
            + ", ".join(f"{n} {t:.0f} s" for n, t in sorted(up.items())))
        print("e2e_daemon: all checks passed")
        return 0
    except Exception as e:  # noqa: BLE001 - report with the evidence, then fail
        print(f"FAIL: {e}")
        for dd in daemons:
            print(f"--- daemon log:\n{dd.read_log()[-4000:]}")
        for n in names:
            path = os.path.join(sd, "vms", n, "console.log")
            if os.path.exists(path):
                with open(path, "rb") as f:
                    print(f"--- {n} console tail:\n{f.read()[-1500:].decode(errors='replace')}")
        return 1
    finally:
        for n in names:
            try:
                with open(os.path.join(sd, "vms", n, "runtime.json")) as f:
                    rt = json.load(f)
                if "exit_status" not in rt:
                    os.kill(rt["pid"], signal.SIGKILL)
            except (OSError, ValueError, KeyError):
                pass
        for dd in daemons:
            dd.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
