#!/usr/bin/env python3
"""seccomp_test: the per-thread system-call filters of `vessel run` (docs/security.md).

  seccomp_test.py --vessel BUILD/vessel --guest-dir guests/cache/debian [--case NAME ...]
                  [--engine jit|interp] [--seccomp enforce|log]

threads  Debian boots with every device and face a VM process has: two harts, a virtio disk,
         user networking with a forwarded port, virtio-console, the console log, the per-VM API
         and the GDB stub. The guest writes and syncs the disk, takes a DHCP lease, fetches from
         a host server, serves a forwarded port, writes hvc0; a client reads the API, a raw GDB
         client halts and resumes the harts. Every thread of the process, and again after a
         guest reboot, has its filter (/proc/PID/task/TID/status: `Seccomp: 2`); nothing was
         refused (no `seccomp:` line); poweroff ends the process with status 0.
api      The per-VM API configures (a kernel, an initrd, a disk) and starts a VM whose console is
         on a socket; every thread is filtered and poweroff ends it with status 0.
kill     VESSEL_TEST_FORBIDDEN_CALL=ROLE makes the first thread of each role (vcpu, io,
         console, api, gdb, supervisor) call chroot after its filter is in place: the process
         ends with status 159 and one line naming the role and the call.
log      The same hook on a vCPU under --seccomp=log: the call fails with EPERM, the line says
         so, and the guest boots on to its shell.
Exits 1 on any failure, with what vessel printed.
"""

import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from boot_test import Console  # noqa: E402
from virtio_test import (Guest, debugfs_cat, dhcp, expect_hostfwd_reaches_guest,  # noqa: E402
                         free_port, host_http_server, make_ext4)

KILL_STATUS = 159


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=10)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(self.path)


def api_call(sock, method, path, body=None):
    conn = UnixHTTPConnection(sock)
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"Content-Type": "application/json"} if body is not None else {})
    r = conn.getresponse()
    body = r.read().decode()
    conn.close()
    return r.status, body


def gdb_packet(s, payload):
    """Sends one remote-protocol packet and returns the reply's payload."""
    s.sendall(b"$%s#%02x" % (payload, sum(payload) % 256))
    buf = b""
    while True:
        m = re.search(rb"\$([^#]*)#[0-9a-f]{2}", buf)
        if m:
            s.sendall(b"+")
            return m.group(1)
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("gdb stub closed the connection")
        buf += chunk


def vessel_pid(pid):
    """pid, or the vessel it runs when --vessel is a wrapper (strace -f, say)."""
    for _ in range(3):
        with open(f"/proc/{pid}/comm") as f:
            if f.read().strip() == "vessel":
                return pid
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = f.read().split()
        if not children:
            break
        pid = int(children[0])
    return pid


def filtered_threads(pid):
    """{thread name: [Seccomp mode, ...]} for every thread of pid."""
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                mode = re.search(r"^Seccomp:\s*(\d+)", f.read(), re.M).group(1)
        except FileNotFoundError:  # the thread ended meanwhile
            continue
        threads.setdefault(name, []).append(mode)
    return threads


def expect_all_filtered(g, pid, want, what):
    threads = filtered_threads(pid)
    missing = [n for n in want if n not in threads]
    if missing:
        g.console.fail(f"{what}: no thread named {missing}; threads: {threads}")
    unfiltered = {n: m for n, m in threads.items() if any(x != "2" for x in m)}
    if unfiltered:
        g.console.fail(f"{what}: threads without a filter (Seccomp != 2): {unfiltered}")
    return threads


def base_args(args):
    return ["--engine", args.engine] if args.engine else []


def case_threads(args, tmp):
    disk = os.path.join(tmp, "disk.img")
    make_ext4(disk, {"hello.txt": "from the host\n"})
    api, hvc, log = (os.path.join(tmp, n) for n in ("api.sock", "hvc.sock", "console.log"))
    server, port = host_http_server(tmp)
    fwd, gdb_port = free_port(), free_port()
    extra = base_args(args) + [
        "--cpus", "2", "--disk", disk, "--net", f"user,hostfwd=tcp:127.0.0.1:{fwd}-:8080",
        "--virtio-console", f"unix:{hvc}", "--console-log", log, "--api-sock", api,
        "--gdb", f"tcp:{gdb_port}", "--seccomp", args.seccomp]
    g = Guest(args, extra)
    want = ["vcpu0", "vcpu1", "vessel-io", "vessel-log", "vessel-tty", "vessel-api", "vessel-gdb"]
    try:
        pid = vessel_pid(g.console.proc.pid)
        expect_all_filtered(g, pid, want, "after boot")
        g.check("mkdir -p /mnt && mount -t ext4 /dev/vda /mnt && cat /mnt/hello.txt", "mount")
        g.check("echo written under seccomp > /mnt/guest.txt && sync", "write and sync")
        dhcp(g)
        out = g.check(f"wget -q -O - http://10.0.2.2:{port}/hello.txt", "wget from the host", 90)
        if "served by the host" not in out:
            g.console.fail(f"wget gave {out!r}")
        expect_hostfwd_reaches_guest(g, fwd)
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(hvc)
        client.settimeout(30)
        g.check("echo hvc-from-guest > /dev/hvc0", "write /dev/hvc0")
        got = b""
        while b"hvc-from-guest" not in got:
            got += client.recv(4096)
        client.close()
        status, body = api_call(api, "GET", "/machine-config")
        if status != 200 or "vcpu_count" not in body:
            g.console.fail(f"GET /machine-config: {status} {body!r}")
        with socket.create_connection(("127.0.0.1", gdb_port), timeout=30) as s:
            s.sendall(b"\x03")  # interrupt: every hart halts
            if not gdb_packet(s, b"?").startswith(b"T"):
                g.console.fail("the gdb stub did not report a stop")
            regs = gdb_packet(s, b"g")
            if len(regs) < 64:
                g.console.fail(f"gdb 'g' gave {regs!r}")
            gdb_packet(s, b"D")  # detach: the harts run on
        g.check("umount /mnt", "umount")
        g.console.send("reboot -f")
        g.console.expect(re.escape("vessel-guest: userspace up"), 180, "boot after reboot")
        expect_all_filtered(g, pid, want, "after a reboot")
        g.check("true", "shell after reboot")
        g.poweroff()
        if "vessel: seccomp" in g.console.text:
            g.console.fail("a system call was refused")
    finally:
        g.close()
        server.shutdown()
    if "written under seccomp" not in debugfs_cat(disk, "guest.txt"):
        raise RuntimeError("the guest's write did not reach the disk image")
    return f"{len(want)} kinds of thread filtered, before and after a reboot; every device worked"


def case_api(args, tmp):
    """The API configures and starts the VM (its thread opens the files the client names) and
    the console is on a socket: those threads are filtered too."""
    d = args.guest_dir
    api, con = os.path.join(tmp, "api.sock"), os.path.join(tmp, "console.sock")
    disk = os.path.join(tmp, "disk.img")
    make_ext4(disk, {"hello.txt": "from the host\n"})
    argv = [args.vessel, "run", "--api-sock", api, "--console-socket", con,
            "--seccomp", args.seccomp] + base_args(args)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    g = Console(argv, stdin_eof=True, proc=proc)
    try:
        for _ in range(100):
            if os.path.exists(api):
                break
            time.sleep(0.1)
        calls = [("PUT", "/machine-config", {"vcpu_count": 2, "mem_size_mib": 512}),
                 ("PUT", "/boot-source", {"kernel_image_path": os.path.join(d, "Image"),
                                          "initrd_path": os.path.join(d, "initrd.cpio.gz"),
                                          "boot_args": "console=ttyS0"}),
                 ("PUT", "/drives/data", {"drive_id": "data", "path_on_host": disk,
                                          "is_root_device": False, "is_read_only": False}),
                 # 1 KiB/s of entropy: the rate limiter's refill timer runs on the I/O thread.
                 ("PUT", "/entropy", {"rate_limiter": {"bandwidth": {"size": 1024,
                                                                     "refill_time": 1000}}}),
                 ("PUT", "/actions", {"action_type": "InstanceStart"})]
        for method, path, body in calls:
            status, text = api_call(api, method, path, body)
            if status >= 300:
                g.fail(f"{method} {path}: {status} {text}")
        viewer = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        viewer.connect(con)
        viewer.settimeout(180)
        seen = b""
        while b"vessel-guest: userspace up" not in seen:
            chunk = viewer.recv(4096)
            if not chunk:
                g.fail(f"the console socket closed; it gave {seen[-2000:]!r}")
            seen += chunk
        fake = type("G", (), {"console": g})
        pid = vessel_pid(proc.pid)
        want = ["vcpu0", "vcpu1", "vessel-io", "vessel-console", "vessel-api"]
        expect_all_filtered(fake, pid, want, "started through the API")
        # The guest still gets entropy, at the limiter's pace: 3000 bytes at 1 KiB/s (the
        # kernel's hwrng thread draws from the same bucket) take well over a second.
        t0 = time.monotonic()
        viewer.sendall(b"head -c 3000 /dev/hwrng | wc -c; echo rng-@@done\n")
        seen = b""
        while not re.search(rb"(\d+)\s+rng-@@done", seen):
            chunk = viewer.recv(4096)
            if not chunk:
                g.fail(f"the console socket closed; it gave {seen[-2000:]!r}")
            seen += chunk
        rng_seconds = time.monotonic() - t0
        got = int(re.search(rb"(\d+)\s+rng-@@done", seen).group(1))
        if got != 3000 or rng_seconds < 1.5:
            g.fail(f"/dev/hwrng under 1 KiB/s: {got} bytes in {rng_seconds:.1f} s")
        time.sleep(1)
        viewer.sendall(b"poweroff -f\n")
        status = g.wait_exit(60, "poweroff -f")
        viewer.close()
        if status != 0 or "vessel: seccomp" in g.text:
            g.fail(f"exit status {status}, expected 0 with nothing refused")
    finally:
        g.close()
    return (f"{len(want)} kinds of thread filtered in a VM the API started; 3000 bytes of "
            f"rate-limited entropy in {rng_seconds:.1f} s")


def case_kill(args, tmp):
    d = args.guest_dir
    results = []
    for role in ("vcpu", "io", "console", "api", "gdb", "supervisor"):
        argv = [args.vessel, "run", "--kernel", os.path.join(d, "Image"),
                "--initrd", os.path.join(d, "initrd.cpio.gz"), "--append", "console=ttyS0",
                "--timeout", "60", "--console-log", os.path.join(tmp, f"{role}.log")]
        argv += base_args(args)
        if role == "api":
            argv += ["--api-sock", os.path.join(tmp, f"{role}.sock")]
        if role == "gdb":
            argv += ["--gdb", f"tcp:{free_port()}"]
        env = dict(os.environ, VESSEL_TEST_FORBIDDEN_CALL=role)
        p = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=90)
        err = p.stderr.decode(errors="replace")
        line = f"vessel: seccomp: the {role} thread made a forbidden system call: chroot"
        if p.returncode != KILL_STATUS or line not in err:
            raise RuntimeError(f"{role}: status {p.returncode} (want {KILL_STATUS}), stderr:\n{err}")
        results.append(role)
    return f"chroot from the {', '.join(results)} threads ended the process with status 159"


def case_log(args, tmp):
    os.environ["VESSEL_TEST_FORBIDDEN_CALL"] = "vcpu"
    try:
        g = Guest(args, base_args(args) + ["--seccomp", "log"])
    finally:
        del os.environ["VESSEL_TEST_FORBIDDEN_CALL"]
    try:
        for text in ("the vcpu thread made a forbidden system call: chroot (161); it fails with "
                     "EPERM", "chroot returned -1 (Operation not permitted)"):
            if text not in g.console.text:
                g.console.fail(f"--seccomp=log: {text!r} not printed")
        g.poweroff()
    finally:
        g.close()
    return "--seccomp=log: the forbidden call failed with EPERM and the guest booted"


CASES = {"threads": case_threads, "api": case_api, "kill": case_kill, "log": case_log}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", required=True)
    ap.add_argument("--guest-dir", required=True)
    ap.add_argument("--engine", default="")
    ap.add_argument("--seccomp", default="enforce")
    ap.add_argument("--case", action="append", choices=sorted(CASES))
    return run_cases(CASES, ap.parse_args())


def run_cases(cases, args):
    """Each case asked for (all by default) in a temporary directory the jail's uid can reach;
    PASS or FAIL with what it says; the exit status."""
    failed = False
    for name in args.case or list(cases):
        with tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o755)
            t0 = time.monotonic()
            try:
                what = cases[name](args, tmp)
                print(f"PASS {name} ({time.monotonic() - t0:.0f} s): {what}")
            except Exception as e:  # noqa: BLE001 - every failure is reported the same way
                print(f"FAIL {name}: {e}")
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
