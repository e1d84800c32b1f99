#!/usr/bin/env python3
"""jail_test: `vessel run --jail DIR` (docs/security.md). Needs root, as the jail does.

  jail_test.py --vessel BUILD/vessel --guest-dir guests/cache/debian [--case NAME ...]

escape   Debian boots in the jail with a writable disk, user networking, the console log and
         the per-VM API in a directory, all root's (the jail's idmapped mounts show them as its
         uid's). VESSEL_TEST_JAIL_ESCAPE makes the
         jailed process try /etc/shadow, /etc/passwd, /root, /home, /../etc/shadow and
         /proc/1/root/etc/shadow: every open fails, and the guest still boots. The VM process
         runs as the jail's uid and gid with no capabilities, no_new_privs and seccomp; its
         mount, PID, IPC and UTS namespaces are its own, its network the host's (user
         networking needs it); its cgroup holds the memory and CPU limits. The guest writes and
         syncs the disk and fetches from a host server through 10.0.2.2; the API and the GDB stub
         (on a TCP port: the host's network) answer;
         poweroff ends vessel with status 0 and leaves neither the jail's root nor its cgroup.
         A --vsock socket in a directory of its own is created by the jailed process at its
         host path, and a host program connects to it.
api_files A jailed VM not started yet, with --api-sock and --api-allow-dir OUT: PUT /logger and
         PUT /metrics name files in OUT, which the jailed process writes (the requests' log
         lines, the metrics line FlushMetrics asks for); a log file outside OUT is refused with
         400 naming --api-allow-dir; PUT /vsock takes a socket in OUT. No guest boots.
netns    Without --net the VM process gets a network namespace of its own too; kill -9 of the
         parent that waits outside ends the jailed process as well.
snapshot A jailed VM (OpenSBI) with --api-allow-dir SNAPS is paused and snapshotted through
         its API into SNAPS (paths as the jailed process sees them: the allowed directory is
         bound at its host path), a path outside it is refused with 400; then `vessel run
         --restore SNAPS --jail` restores it jailed and with its filters, and the restored
         shell still has the file written before the snapshot.
errors   Before anything starts, one line and status 2: a read-only jail directory, a missing
         one, a uid in use by a process, uid 0, a cgroup version without the memory and cpu
         controllers (whichever of v1 and v2 lacks them on this host).
Exits 1 on any failure, with what vessel printed.
"""

import argparse
import json
import os
import types
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from boot_test import PROMPT, Console  # noqa: E402
from seccomp_test import api_call, gdb_packet, run_cases  # noqa: E402
from virtio_test import (Guest, debugfs_cat, dhcp, free_port, host_http_server,  # noqa: E402
                         make_ext4)

UID = 901234
ESCAPES = ["/etc/shadow", "/etc/passwd", "/root", "/../etc/shadow", "/proc/1/root/etc/shadow",
           "/home"]


def wait_gone(pid):
    """Waits up to 10 s for a jailed child, which ends with its parent a moment later."""
    for _ in range(100):
        if not os.path.exists(f"/proc/{pid}"):
            return
        time.sleep(0.1)


def jailed_pid(outer):
    """The jailed VM process: the child of the vessel that waits outside."""
    for _ in range(100):
        try:
            with open(f"/proc/{outer}/task/{outer}/children") as f:
                children = f.read().split()
            if children:
                return int(children[0])
        except FileNotFoundError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"vessel {outer} has no jailed child")


def status_fields(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)


def ns(pid, kind):
    return os.readlink(f"/proc/{pid}/ns/{kind}")


def expect_caged(g, pid, want_own_net, seccomp=True):
    """seccomp: whether the thread group leader is filtered already (its filter comes with the
    VM's start; a VM waiting for the API's InstanceStart has none yet)."""
    st = status_fields(pid)
    checks = {
        "Uid": st["Uid"].split() == [str(UID)] * 4,
        "Gid": st["Gid"].split() == [str(UID)] * 4,
        "CapEff": int(st["CapEff"], 16) == 0, "CapPrm": int(st["CapPrm"], 16) == 0,
        "CapBnd": int(st["CapBnd"], 16) == 0, "NoNewPrivs": st["NoNewPrivs"].strip() == "1",
    }
    if seccomp:
        checks["Seccomp"] = st["Seccomp"].strip() == "2"
    for kind in ("mnt", "pid", "ipc", "uts"):
        checks[f"ns/{kind}"] = ns(pid, kind) != ns(os.getpid(), kind)
    checks["ns/net"] = (ns(pid, "net") != ns(os.getpid(), "net")) == want_own_net
    bad = [k for k, ok in checks.items() if not ok]
    if bad:
        g.console.fail(f"the VM process is not caged as it should be: {bad}; status: {st}")
    with open(f"/proc/{pid}/cgroup") as f:
        groups = f.read()
    if "vessel-" not in groups:
        g.console.fail(f"the VM process is in no vessel cgroup: {groups}")
    return groups


def vessel_cgroup(groups, controller):
    """Where the vessel cgroup a /proc/PID/cgroup text names keeps `controller`'s files:
    ("v2", DIR) or ("v1", DIR), or None."""
    for line in groups.splitlines():
        _, controllers, path = line.split(":", 2)
        if "vessel-" not in path:
            continue
        if controllers == "":
            for base in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
                probe = {"memory": "/memory.max", "cpu": "/cpu.max"}[controller]
                if os.path.exists(base + path + probe):
                    return "v2", base + path
        elif controller in controllers.split(","):
            d = f"/sys/fs/cgroup/{controllers}{path}"
            return "v1", d if os.path.isdir(d) else f"/sys/fs/cgroup/{controller}{path}"
    return None


def memory_limit(groups):
    """The memory limit of the vessel cgroup a /proc/PID/cgroup text names (v2 or v1)."""
    found = vessel_cgroup(groups, "memory")
    if found is None:
        return None
    version, d = found
    return int(open(d + ("/memory.max" if version == "v2" else "/memory.limit_in_bytes")).read())


def cpu_quota(groups):
    """(quota, period) in microseconds of the vessel cgroup a /proc/PID/cgroup text names."""
    found = vessel_cgroup(groups, "cpu")
    if found is None:
        return None
    version, d = found
    if version == "v2":
        quota, period = open(d + "/cpu.max").read().split()
        return int(quota), int(period)
    return (int(open(d + "/cpu.cfs_quota_us").read()),
            int(open(d + "/cpu.cfs_period_us").read()))


def case_escape(args, tmp):
    jail, run = os.path.join(tmp, "jail"), os.path.join(tmp, "run")
    os.makedirs(jail)
    os.makedirs(run)
    disk = os.path.join(tmp, "disk.img")
    make_ext4(disk, {"hello.txt": "from the host\n"})
    # root's, as under the daemon: the jail's idmapped mounts let its uid write them
    server, port = host_http_server(tmp)
    api = os.path.join(run, "api.sock")
    vsock_dir = os.path.join(tmp, "vsock")
    os.makedirs(vsock_dir)
    uds = os.path.join(vsock_dir, "v.sock")
    gdb_port = free_port()
    os.environ["VESSEL_TEST_JAIL_ESCAPE"] = "1"
    try:
        g = Guest(args, ["--jail", jail, "--jail-uid", str(UID), "--disk", disk, "--net", "user",
                         "--console-log", os.path.join(run, "console.log"), "--api-sock", api,
                         "--gdb", f"tcp:{gdb_port}", "--vsock", f"cid=3,uds={uds}"])
    finally:
        del os.environ["VESSEL_TEST_JAIL_ESCAPE"]
    try:
        for path in ESCAPES:
            line = re.search(rf"jail test hook: open {re.escape(path)}: (.*)", g.console.text)
            if not line or "No such file" not in line.group(1):
                g.console.fail(f"{path}: {line.group(0) if line else 'not tried'}")
        pid = jailed_pid(g.console.proc.pid)
        groups = expect_caged(g, pid, want_own_net=False)
        limit = memory_limit(groups)
        if limit is None or limit < 512 << 20 or limit > 2 << 30:
            g.console.fail(f"memory limit {limit} for 512M of RAM; cgroups: {groups}")
        if cpu_quota(groups) != (100000, 100000):
            g.console.fail(f"CPU quota {cpu_quota(groups)} for one hart; cgroups: {groups}")
        g.check("mkdir -p /mnt && mount -t ext4 /dev/vda /mnt && cat /mnt/hello.txt", "mount")
        g.check("echo written in the jail > /mnt/guest.txt && sync && umount /mnt", "write")
        dhcp(g)
        out = g.check(f"wget -q -O - http://10.0.2.2:{port}/hello.txt", "wget from the host", 90)
        if "served by the host" not in out:
            g.console.fail(f"wget gave {out!r}")
        status, body = api_call(api, "GET", "/machine-config")
        if status != 200:
            g.console.fail(f"GET /machine-config through the jail: {status} {body}")
        with socket.create_connection(("127.0.0.1", gdb_port), timeout=30) as s:
            if not gdb_packet(s, b"?").startswith((b"T", b"S")):
                g.console.fail("the jailed GDB stub did not answer '?'")
            gdb_packet(s, b"D")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(uds)  # the jailed process's listener, at its host path
            s.sendall(b"CONNECT 5000\n")
        g.poweroff()
    finally:
        g.close()
        server.shutdown()
    if "written in the jail" not in debugfs_cat(disk, "guest.txt"):
        raise RuntimeError("the guest's write did not reach the disk image")
    if os.stat(disk).st_uid != 0 or os.stat(run).st_uid != 0:
        raise RuntimeError("the jail changed the owner of the disk or the run directory")
    if os.listdir(jail):
        raise RuntimeError(f"the jail directory keeps {os.listdir(jail)}")
    if "vessel-" in subprocess.run(["find", "/sys/fs/cgroup", "-maxdepth", "4", "-name",
                                    f"vessel-{g.console.proc.pid}"],
                                   capture_output=True, text=True).stdout:
        raise RuntimeError("the jail's cgroup is left behind")
    return (f"{len(ESCAPES)} host paths out of reach; uid {UID}, no capabilities, own mnt/pid/"
            f"ipc/uts namespaces, memory limit {limit >> 20} MiB; disk, network, API, GDB stub and "
            "vsock socket worked")


def case_api_files(args, tmp):
    jail, run, out = (os.path.join(tmp, d) for d in ("jail", "run", "out"))
    for d in (jail, run, out):
        os.makedirs(d)
    log, metrics, outside = (os.path.join(out, "fc.log"), os.path.join(out, "metrics.json"),
                             os.path.join(run, "outside.log"))
    for f in (log, metrics, outside):
        open(f, "w").close()  # root's, as the jail's idmapped mounts show them to its uid
    api = os.path.join(run, "api.sock")
    proc = subprocess.Popen([args.vessel, "run", "--jail", jail, "--jail-uid", str(UID),
                             "--api-sock", api, "--api-allow-dir", out],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(100):
            if os.path.exists(api) or proc.poll() is not None:
                break
            time.sleep(0.1)
        def fail(message):
            raise RuntimeError(message)
        try:
            caged = jailed_pid(proc.pid)
        except RuntimeError:
            proc.kill()
            print(f"vessel's output: {proc.communicate()[0]!r}", flush=True)
            raise
        expect_caged(types.SimpleNamespace(console=types.SimpleNamespace(fail=fail)),
                     caged, want_own_net=True, seccomp=False)
        # (The logger and metrics take one PUT each: the refusal comes first.)
        calls = [("PUT", "/logger", {"log_path": outside}, 400),
                 ("PUT", "/logger", {"log_path": log, "level": "Info"}, 204),
                 ("PUT", "/metrics", {"metrics_path": metrics}, 204),
                 ("PUT", "/actions", {"action_type": "FlushMetrics"}, 204),
                 ("PUT", "/vsock", {"guest_cid": 3, "uds_path": os.path.join(out, "v.sock")}, 204),
                 ("PUT", "/vsock", {"guest_cid": 3, "uds_path": os.path.join(run, "v.sock")}, 400)]
        for method, path, body, want in calls:
            status, answer = api_call(api, method, path, body)
            if status != want:
                raise RuntimeError(f"{method} {path} {body}: {status} {answer}, wanted {want}")
            if want == 400 and "--api-allow-dir" not in answer and "outside" not in answer:
                raise RuntimeError(f"{method} {path}: the refusal does not say why: {answer}")
        with open(log) as f:
            lines = f.read().splitlines()
        with open(metrics) as f:
            flushed = [json.loads(line) for line in f.read().splitlines()]
        if not any('request on "/metrics"' in line for line in lines):
            raise RuntimeError(f"the jailed logger wrote {lines!r}")
        if not flushed or "put_api_requests" not in flushed[-1]:
            raise RuntimeError(f"the jailed metrics file holds {flushed!r}")
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    if proc.returncode != 128 + 15:
        raise RuntimeError(f"SIGTERM: status {proc.returncode}, output {output[-2000:]!r}")
    return (f"the jailed API wrote {len(lines)} log lines and {len(flushed)} metrics line(s) into "
            "--api-allow-dir; files outside it refused")


def case_netns(args, tmp):
    jail = os.path.join(tmp, "jail")
    os.makedirs(jail)
    g = Guest(args, ["--jail", jail, "--jail-uid", str(UID)])
    try:
        pid = jailed_pid(g.console.proc.pid)
        expect_caged(g, pid, want_own_net=True)
        # kill -9 of the parent that waits outside: the jailed process goes with it.
        os.kill(g.console.proc.pid, 9)
        g.console.proc.wait()
        for _ in range(50):
            if not os.path.exists(f"/proc/{pid}"):
                break
            time.sleep(0.1)
        else:
            g.console.fail(f"the jailed process {pid} outlived its parent's kill -9")
    finally:
        g.close()
    return ("without --net the VM process has a network namespace of its own; it ends with its "
            "parent's kill -9")


def case_snapshot(args, tmp):
    run, snaps = os.path.join(tmp, "run"), os.path.join(tmp, "snaps")
    jails = [os.path.join(tmp, "jail1"), os.path.join(tmp, "jail2")]
    for d in [run, snaps] + jails:
        os.makedirs(d)
    api = os.path.join(run, "api.sock")
    g = Guest(args, ["--jail", jails[0], "--jail-uid", str(UID), "--api-sock", api,
                     "--api-allow-dir", snaps])
    first_pid = jailed_pid(g.console.proc.pid)
    try:
        g.check("echo kept across the snapshot > /tmp/mark", "write the mark")
        status, body = api_call(api, "PATCH", "/vm", {"state": "Paused"})
        if status != 204:
            g.console.fail(f"PATCH /vm Paused: {status} {body}")
        outside = {"snapshot_type": "Full", "snapshot_path": os.path.join(run, "vmstate"),
                   "mem_file_path": os.path.join(run, "memory")}
        status, body = api_call(api, "PUT", "/snapshot/create", outside)
        if status != 400:
            g.console.fail(f"a snapshot outside --api-allow-dir: {status} {body}, wanted 400")
        status, body = api_call(api, "PUT", "/snapshot/create", {
            "snapshot_type": "Full", "snapshot_path": os.path.join(snaps, "vmstate"),
            "mem_file_path": os.path.join(snaps, "memory")})
        if status != 204:
            g.console.fail(f"PUT /snapshot/create in the jail: {status} {body}")
    finally:
        g.close()
    wait_gone(first_pid)
    restored = Console([args.vessel, "run", "--restore", snaps, "--jail", jails[1],
                        "--jail-uid", str(UID), "--timeout", "600"], stdin_eof=False)
    try:
        time.sleep(1)
        if restored.proc.poll() is not None:
            restored.fail(f"vessel --restore --jail exited with {restored.proc.returncode}")
        restored_pid = jailed_pid(restored.proc.pid)
        expect_caged(types.SimpleNamespace(console=restored), restored_pid, want_own_net=True)
        restored.send("")
        restored.expect(PROMPT, 60, "the restored shell's prompt")
        restored.send("cat /tmp/mark")
        restored.expect("kept across the snapshot", 60, "the mark written before the snapshot")
    finally:
        restored.close()
    # Its uid is free again only once the jailed child is gone (the next case takes it).
    wait_gone(restored_pid)
    size = os.path.getsize(os.path.join(snaps, "vmstate"))
    return (f"snapshot through the jailed API into --api-allow-dir (state file {size} bytes), a "
            "path outside it refused; restored jailed with its filters, the guest's file kept")


def lacking_cgroup_version():
    with open("/proc/self/mountinfo") as f:
        mounts = f.read()
    v2 = re.search(r" (\S+) \S+ - cgroup2 ", mounts)
    if v2:
        with open("/proc/self/cgroup") as f:
            own = re.search(r"^0::(\S+)", f.read(), re.M).group(1)
        with open(v2.group(1) + own.rstrip("/") + "/cgroup.controllers") as f:
            have = f.read().split()
        if "memory" not in have or "cpu" not in have:
            return "v2"
    return "v1"  # memory and cpu are on v2, so no v1 hierarchy can hold them


def case_errors(args, tmp):
    d = args.guest_dir
    base = [args.vessel, "run", "--kernel", os.path.join(d, "Image"), "--timeout", "5"]
    ro = os.path.join(tmp, "ro")
    os.makedirs(ro)
    subprocess.run(["mount", "--bind", "-o", "ro", ro, ro], check=True)
    sleeper = subprocess.Popen(["sleep", "60"], user=UID + 1)
    ok_dir = os.path.join(tmp, "jail")
    os.makedirs(ok_dir)
    version = lacking_cgroup_version()
    cases = [
        (["--jail", ro], rf"--jail {re.escape(ro)}: not writable"),
        (["--jail", os.path.join(tmp, "missing")], r"--jail .*missing: No such file"),
        (["--jail", ok_dir, "--jail-uid", str(UID + 1)], rf"--jail-uid {UID + 1}: uid already in use"),
        (["--jail", ok_dir, "--jail-uid", "0"], r"--jail-uid 0: .* not be root's"),
        (["--jail", ok_dir, "--jail-cgroup", version], r"--jail: missing cgroup controller"),
        (["--jail-uid", "5"], r"--jail-uid: only with --jail"),
    ]
    try:
        for extra, pattern in cases:
            p = subprocess.run(base + extra, stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, timeout=30)
            lines = p.stderr.strip().splitlines()
            if p.returncode != 2 or len(lines) != 1 or not re.search(pattern, lines[0]):
                raise RuntimeError(f"{extra}: status {p.returncode}, stderr {p.stderr!r}; "
                                   f"wanted status 2 and one line matching {pattern!r}")
            if p.stdout or os.listdir(ok_dir):
                raise RuntimeError(f"{extra}: something started: {p.stdout[:200]!r}")
    finally:
        sleeper.kill()
        sleeper.wait()
        subprocess.run(["umount", ro], check=False)
    return f"{len(cases)} refusals, each one line and status 2 (cgroup {version} lacks controllers)"


CASES = {"escape": case_escape, "netns": case_netns, "snapshot": case_snapshot,
         "errors": case_errors, "api_files": case_api_files}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", required=True)
    ap.add_argument("--guest-dir", required=True)
    ap.add_argument("--case", action="append", choices=sorted(CASES))
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("FAIL: the jail needs root; run this test as root")
        return 1
    return run_cases(CASES, args)


if __name__ == "__main__":
    sys.exit(main())
