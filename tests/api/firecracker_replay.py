#!/usr/bin/env python3
"""Replays what a Firecracker client sends against `vessel run --api-sock PATH`.

    firecracker_replay.py VESSEL GUEST_DIR [--boot-timeout S] [-- EXTRA VESSEL RUN ARGS]

GUEST_DIR holds Image, initrd-modules.cpio.gz and rootfs.ext4 (guests/debian/build.sh --disk
makes them in guests/cache/debian). The root disk is copied first: the guest writes to it.

The sequence is Firecracker's getting-started order: PUT /machine-config, /boot-source,
/drives/rootfs, /network-interfaces/eth0 (user-mode networking, Vessel's extension), /balloon,
then /actions InstanceStart; GET / says Running and the console shows the guest reaching userspace;
PATCH /vm Paused (GET / says Paused, the instruction count stands still), PATCH /vm Resumed (it
moves again); PATCH /balloon 64 MiB: the guest's driver gives them and reports statistics
(GET /balloon/statistics). Calls in the wrong phase, before and after the start, must be 400 with a
{"fault_message"} body. The Shutdown action (a Vessel extension) ends the process with status 0.

Only the Python standard library: http.client over a Unix socket.
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

USERSPACE_UP = "vessel-guest: userspace up"


class Failure(Exception):
    pass


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class Api:
    def __init__(self, path, timeout=30.0):
        self.path = path
        self.timeout = timeout
        self.calls = 0

    def call(self, method, target, body=None):
        conn = UnixConnection(self.path, self.timeout)
        try:
            headers = {"Accept": "application/json"}
            data = None
            if body is not None:
                data = json.dumps(body)
                headers["Content-Type"] = "application/json"
            conn.request(method, target, body=data, headers=headers)
            res = conn.getresponse()
            text = res.read().decode("utf-8", "replace")
        finally:
            conn.close()
        self.calls += 1
        return res.status, (json.loads(text) if text else None)

    def expect(self, method, target, body=None, status=204):
        got, answer = self.call(method, target, body)
        if got != status:
            raise Failure(f"{method} {target} {json.dumps(body) if body is not None else ''}: "
                          f"status {got}, expected {status}; body {answer}")
        return answer

    def expect_fault(self, method, target, body=None, contains=""):
        answer = self.expect(method, target, body, status=400)
        if not isinstance(answer, dict) or not isinstance(answer.get("fault_message"), str):
            raise Failure(f"{method} {target}: 400 without a fault_message body: {answer}")
        if contains not in answer["fault_message"]:
            raise Failure(f"{method} {target}: fault_message {answer['fault_message']!r} "
                          f"lacks {contains!r}")
        return answer["fault_message"]


def wait_for(what, predicate, timeout, proc, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            raise Failure(f"{what}: the VMM exited with status {proc.returncode}")
        time.sleep(interval)
    raise Failure(f"{what}: not within {timeout:g} s")


def instructions(api):
    stats = api.expect("GET", "/vessel/stats", status=200)
    if not isinstance(stats, dict) or not isinstance(stats.get("instructions"), int):
        raise Failure(f"GET /vessel/stats: no integer 'instructions' in {stats}")
    return stats["instructions"]


def replay(api, guest, proc, console_log, boot_timeout):
    root_disk = guest["rootfs"]

    # Before InstanceStart: post-boot calls are refused.
    api.expect_fault("PATCH", "/vm", {"state": "Paused"}, "not started")
    api.expect_fault("PUT", "/actions", {"action_type": "Shutdown"}, "not started")
    api.expect_fault("GET", "/vessel/stats", contains="not started")
    api.expect_fault("PUT", "/actions", {"action_type": "InstanceStart"}, "boot source")
    info = api.expect("GET", "/", status=200)
    if info.get("state") != "Not started" or info.get("app_name") != "vessel":
        raise Failure(f"GET / before start: {info}")
    # Vessel's extension: the engine, shown by GET / and chosen in machine-config.
    engine = info.get("vessel_engine")
    if engine not in ("jit", "interp"):
        raise Failure(f"GET /: vessel_engine is {engine!r}, want jit or interp")
    api.expect_fault("PATCH", "/machine-config", {"vessel_engine": "bogus"},
                     "vessel_engine: 'bogus' is not an engine (jit or interp)")
    api.expect("PATCH", "/machine-config", {"vessel_engine": engine})

    # The getting-started order.
    api.expect("PUT", "/machine-config", {"vcpu_count": 1, "mem_size_mib": 512})
    machine = api.expect("GET", "/machine-config", status=200)
    if machine.get("vessel_engine") != engine:
        raise Failure(f"GET /machine-config: {machine}, want vessel_engine {engine!r}")
    api.expect("PUT", "/boot-source", {
        "kernel_image_path": guest["kernel"],
        "initrd_path": guest["initrd"],
        "boot_args": "console=ttyS0",
    })
    api.expect("PUT", "/drives/rootfs", {
        "drive_id": "rootfs",
        "path_on_host": root_disk,
        "is_root_device": True,
        "is_read_only": False,
    })
    api.expect("PUT", "/network-interfaces/eth0", {
        "iface_id": "eth0",
        "vessel_user_net": {},
        "guest_mac": "06:00:AC:10:00:02",
    })
    # A balloon with statistics every second (Firecracker's balloon calls).
    api.expect("PUT", "/balloon", {"amount_mib": 0, "deflate_on_oom": True,
                                   "stats_polling_interval_s": 1})
    api.expect_fault("PATCH", "/balloon", {"amount_mib": 64}, "not started")
    api.expect_fault("PUT", "/drives/rootfs", {"drive_id": "rootfs", "path_on_host": root_disk,
                                                "is_root_device": True, "bogus": 1},
                     "unknown field 'bogus'")
    config = api.expect("GET", "/vm/config", status=200)
    if config["drives"][0]["path_on_host"] != root_disk or len(config["network-interfaces"]) != 1:
        raise Failure(f"GET /vm/config does not show what was PUT: {config}")

    api.expect("PUT", "/actions", {"action_type": "InstanceStart"})
    info = api.expect("GET", "/", status=200)
    if info.get("state") != "Running" or info.get("vessel_engine") != engine:
        raise Failure(f"GET / after InstanceStart: {info}")
    stats = api.expect("GET", "/vessel/stats", status=200)
    if stats.get("engine") != engine:
        raise Failure(f"GET /vessel/stats: engine {stats.get('engine')!r}, want {engine!r}")
    wait_for(f"console showing {USERSPACE_UP!r}",
             lambda: USERSPACE_UP in open(console_log, encoding="utf-8", errors="replace").read(),
             boot_timeout, proc, interval=0.2)

    # After InstanceStart: pre-boot resources and a second start are refused.
    api.expect_fault("PUT", "/machine-config", {"vcpu_count": 2, "mem_size_mib": 256}, "pre-boot")
    api.expect_fault("PATCH", "/machine-config", {"vcpu_count": 2}, "pre-boot")
    api.expect_fault("PUT", "/boot-source", {"kernel_image_path": guest["kernel"]}, "pre-boot")
    api.expect_fault("PUT", "/drives/extra", {"drive_id": "extra", "path_on_host": root_disk,
                                              "is_root_device": False}, "pre-boot")
    api.expect_fault("PUT", "/network-interfaces/eth1",
                     {"iface_id": "eth1", "vessel_user_net": {}}, "pre-boot")
    api.expect_fault("PUT", "/actions", {"action_type": "InstanceStart"}, "already started")
    api.expect_fault("PUT", "/actions", {"action_type": "SendCtrlAltDel"}, "riscv64")
    api.expect("PUT", "/actions", {"action_type": "FlushMetrics"})

    # The guest's balloon driver gives 64 MiB back when asked, and reports statistics.
    api.expect_fault("PUT", "/balloon", {"amount_mib": 1, "deflate_on_oom": False}, "pre-boot")
    api.expect_fault("PATCH", "/balloon", {"amount_mib": 4096},
                     "Amount of pages requested is too large.")
    api.expect("PATCH", "/balloon", {"amount_mib": 64})
    if api.expect("GET", "/balloon", status=200).get("amount_mib") != 64:
        raise Failure("GET /balloon does not show the PATCHed amount_mib")

    def balloon_inflated():
        stats = api.expect("GET", "/balloon/statistics", status=200)
        return stats.get("actual_mib") == 64 and "free_memory" in stats
    wait_for("the balloon to hold 64 MiB with a statistics report", balloon_inflated,
             boot_timeout, proc, interval=0.5)
    api.expect("PATCH", "/balloon/statistics", {"stats_polling_interval_s": 2})
    api.expect_fault("PATCH", "/balloon/statistics", {"stats_polling_interval_s": 0},
                     "Cannot enable/disable the statistics after boot.")
    api.expect("PATCH", "/balloon", {"amount_mib": 0})

    # Pause: the harts retire nothing until the VM is resumed.
    api.expect("PATCH", "/vm", {"state": "Paused"})
    info = api.expect("GET", "/", status=200)
    if info.get("state") != "Paused":
        raise Failure(f"GET / after PATCH /vm Paused: {info}")
    before = instructions(api)
    time.sleep(0.5)
    after = instructions(api)
    if after != before:
        raise Failure(f"paused, yet instructions went from {before} to {after}")
    api.expect("PATCH", "/vm", {"state": "Resumed"})
    info = api.expect("GET", "/", status=200)
    if info.get("state") != "Running":
        raise Failure(f"GET / after PATCH /vm Resumed: {info}")
    time.sleep(0.5)
    resumed = instructions(api)
    if resumed <= after:
        raise Failure(f"resumed, yet instructions stayed at {resumed}")

    api.expect("PUT", "/actions", {"action_type": "Shutdown"})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("vessel", help="the vessel binary (or a stand-in taking `run --api-sock`)")
    parser.add_argument("guest_dir", help="Image, initrd-modules.cpio.gz and rootfs.ext4")
    parser.add_argument("--boot-timeout", type=float, default=120.0)
    parser.add_argument("extra", nargs="*", help="more `vessel run` arguments, after --")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="vessel-replay-")
    sock = os.path.join(tmp, "api.sock")
    console_log = os.path.join(tmp, "console.log")
    guest = {
        "kernel": os.path.join(args.guest_dir, "Image"),
        "initrd": os.path.join(args.guest_dir, "initrd-modules.cpio.gz"),
        # A comma in path_on_host is a character like another: the machine gets typed disks,
        # not --disk option strings.
        "rootfs": os.path.join(tmp, "root,fs.ext4"),
    }
    proc = None
    try:
        for path in (guest["kernel"], guest["initrd"], os.path.join(args.guest_dir, "rootfs.ext4")):
            if not os.path.isfile(path):
                raise Failure(f"{path}: missing (guests/debian/build.sh --disk makes it)")
        shutil.copyfile(os.path.join(args.guest_dir, "rootfs.ext4"), guest["rootfs"])
        argv = [args.vessel, "run", "--api-sock", sock] + args.extra
        with open(console_log, "wb") as log:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(f"{sock} to appear", lambda: os.path.exists(sock), 10.0, proc)
        api = Api(sock)
        replay(api, guest, proc, console_log, args.boot_timeout)
        try:
            status = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise Failure("the VMM still runs 30 s after the Shutdown action")
        if status != 0:
            raise Failure(f"the VMM exited with status {status} after Shutdown, expected 0")
        if os.path.exists(sock):
            raise Failure(f"{sock} is left behind after the VMM exited")
        print(f"firecracker_replay: {api.calls} calls answered as Firecracker's would be")
        return 0
    except Failure as e:
        print(f"firecracker_replay: FAILED: {e}", file=sys.stderr)
        if os.path.exists(console_log):
            with open(console_log, encoding="utf-8", errors="replace") as f:
                tail = f.read()[-3000:]
            print(f"----- VMM output (tail) -----\n{tail}\n-----------------------------",
                  file=sys.stderr)
        return 1
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
