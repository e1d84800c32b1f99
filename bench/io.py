#!/usr/bin/env python3
"""Paravirtual I/O benchmark: virtio-blk and virtio-net on vessel beside QEMU.

Boots the Debian reference guest (guests/cache/debian: Image, initrd.cpio.gz, fw_dynamic.bin,
512M, one hart) on vessel and on qemu-system-riscv64 when installed, each with a virtio-blk
disk on a fresh sparse raw image and virtio-net with user-mode networking (slirp), and in the
guest:
  disk write  dd if=/dev/zero of=/dev/vda bs=1M count=N oflag=direct
  disk read   dd if=/dev/vda of=/dev/null bs=1M count=N iflag=direct
  net         nc 10.0.2.2 PORT -e dd if=/dev/zero bs=64k count=M, to a TCP sink on host loopback
For each it reports the throughput (the guest's `time dd` for the disk, the bytes the sink
received over its receive time for the network) and the host CPU time (utime + stime of the
whole emulator process, all threads) spent per MiB moved, and vessel/QEMU for the latter.

  bench/io.py [--disk-mib 256] [--net-mib 64] [--emulator vessel|qemu] [--json FILE]
"""

import argparse
import datetime
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # keep tests/e2e free of __pycache__
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
from boot_test import PROMPT, USERSPACE_UP, Console, Failure  # noqa: E402
from virtio_test import Guest  # noqa: E402

BOOT_TIMEOUT = 240.0
STEP_TIMEOUT = 60.0
TRANSFER_TIMEOUT = 300.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MIB = 1 << 20

# Debian's busybox dd prints only "N+0 records in/out"; its time applet gives the duration as
# "real\t0m 1.01s" (10 ms resolution), with user and sys lines in the same form.
RECORDS_OUT = re.compile(r"(\d+)\+(\d+) records out")
TIME_LINE = r"{}\s+(?:(\d+)h\s*)?(\d+)m\s*([0-9.]+)s"


class BenchGuest(Guest):
    """virtio_test's Guest (run/check/poweroff) on any emulator command line."""

    def __init__(self, argv):  # pylint: disable=super-init-not-called
        self.console = Console(argv, stdin_eof=False)
        self.counter = 0
        self.console.expect(re.escape(USERSPACE_UP), BOOT_TIMEOUT, "boot to userspace")
        self.console.expect(PROMPT, STEP_TIMEOUT, "shell prompt")

    @property
    def pid(self):
        return self.console.proc.pid


def cpu_seconds(pid):
    """utime + stime of the whole process: /proc/PID/stat counts every thread, exited ones too."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError as error:
        raise Failure(f"reading /proc/{pid}/stat: {error.strerror} (the emulator exited?)") from None
    fields = stat[stat.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


class Meter:
    """Host wall time and the emulator's CPU time over one guest command."""

    def __init__(self, pid):
        self.pid = pid

    def __enter__(self):
        self.cpu0 = cpu_seconds(self.pid)
        self.t0 = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.wall = time.monotonic() - self.t0
        cpu1 = cpu_seconds(self.pid)
        self.user = cpu1[0] - self.cpu0[0]
        self.system = cpu1[1] - self.cpu0[1]
        return False

    def report(self, mib):
        cpu = self.user + self.system
        return {"host_wall_s": round(self.wall, 3), "host_user_s": round(self.user, 3),
                "host_system_s": round(self.system, 3), "host_cpu_s": round(cpu, 3),
                "host_cpu_ms_per_mib": round(cpu * 1000 / mib, 2)}


def timed_dd(out, what, console):
    """(full 1 MiB records written, guest real/user/sys seconds) from `time dd ...` output."""
    # The last match: if the echoed command line was not found, out starts earlier.
    records = list(RECORDS_OUT.finditer(out))
    times = {}
    for key in ("real", "user", "sys"):
        found = list(re.finditer(TIME_LINE.format(key), out))
        if found:
            hours, minutes, seconds = found[-1].groups()
            times[key] = int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    if not records or "real" not in times:
        console.fail(f"{what}: no dd records line or time summary in {out[-500:]!r}")
    return int(records[-1].group(1)), times


class Sink:
    """A TCP server on host loopback that takes one connection, reads `expect` bytes and closes
    it (so busybox nc ends whether or not it quits at end of input)."""

    def __init__(self, expect):
        self.expect = expect
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.server.settimeout(TRANSFER_TIMEOUT)
        self.port = self.server.getsockname()[1]
        self.received = 0
        self.seconds = None
        self.error = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.server.accept()
            with conn:
                conn.settimeout(TRANSFER_TIMEOUT)
                start = time.monotonic()
                buf = bytearray(MIB)
                while self.received < self.expect:
                    n = conn.recv_into(buf)
                    if n == 0:
                        break
                    self.received += n
                self.seconds = time.monotonic() - start
        except OSError as error:
            self.error = str(error)
        finally:
            self.server.close()
            self.done.set()


def bench_disk(g, mib, result):
    console = g.console
    out = g.check("cat /sys/block/vda/size", "/dev/vda size")
    sectors = [w for w in out.split() if w.isdigit()]
    if sectors[-1:] != [str(mib * MIB // 512)]:
        console.fail(f"/sys/block/vda/size is {out!r}, expected {mib * MIB // 512} sectors")
    # busybox dd has oflag=direct only with FEATURE_DD_IBS_OBS; without it, conv=fsync and a
    # dropped page cache keep the guest's cache out of the figures.
    _, rc = g.run("dd if=/dev/zero of=/dev/vda bs=4k count=1 oflag=direct 2>/dev/null", "probe oflag=direct")
    if rc == 0:
        write = f"time dd if=/dev/zero of=/dev/vda bs=1M count={mib} oflag=direct"
        read = f"time dd if=/dev/vda of=/dev/null bs=1M count={mib} iflag=direct"
    else:
        write = f"time dd if=/dev/zero of=/dev/vda bs=1M count={mib} conv=fsync"
        read = f"echo 3 > /proc/sys/vm/drop_caches; time dd if=/dev/vda of=/dev/null bs=1M count={mib}"
    result["disk_direct"] = rc == 0
    for name, command in (("disk_write", write), ("disk_read", read)):
        print(f"    {name} ...", end="", flush=True, file=sys.stderr)
        with Meter(g.pid) as meter:
            out = g.check(command, name, TRANSFER_TIMEOUT)
        records, guest = timed_dd(out, name, console)
        if records != mib:
            console.fail(f"{name}: dd moved {records} full records, expected {mib}")
        if guest["real"] <= 0:
            console.fail(f"{name}: the guest timed {guest['real']} s")
        entry = {"command": command, "bytes": mib * MIB, "guest_real_s": guest["real"],
                 "guest_user_s": guest.get("user"), "guest_sys_s": guest.get("sys"),
                 "mib_per_s": round(mib / guest["real"], 2)}
        entry.update(meter.report(mib))
        result[name] = entry
        print(f" {entry['mib_per_s']:.1f} MiB/s, {entry['host_cpu_ms_per_mib']:.1f} ms CPU/MiB",
              file=sys.stderr)


def bench_net(g, mib, result):
    console = g.console
    script = ("#!/bin/sh\\n[ \"$1\" = bound ] || exit 0\\nip addr add $ip/$mask dev $interface\\n"
              "ip link set $interface up\\nip route add default via $router\\n")
    g.check(f"printf '{script}' > /tmp/dhcp.sh && chmod +x /tmp/dhcp.sh", "dhcp script")
    g.check("ip link set eth0 up && udhcpc -i eth0 -n -q -t 5 -s /tmp/dhcp.sh", "DHCP", 90)
    expect = mib * MIB
    sink = Sink(expect)
    # nc -e runs dd on the socket itself: piping into busybox nc instead relays through its
    # small buffer, and the guest's per-write cost then swamps the device (10x slower on QEMU).
    command = f"nc 10.0.2.2 {sink.port} -e dd if=/dev/zero bs=64k count={expect // 65536}"
    print("    net ...", end="", flush=True, file=sys.stderr)
    with Meter(g.pid) as meter:
        g.check(command, "net send", TRANSFER_TIMEOUT)
        sink.done.wait(STEP_TIMEOUT)
    if sink.error or sink.received != expect:
        console.fail(f"net: the host sink received {sink.received} of {expect} bytes"
                     + (f" ({sink.error})" if sink.error else ""))
    entry = {"command": command, "bytes": sink.received, "sink_s": round(sink.seconds, 3),
             "mib_per_s": round(sink.received / MIB / sink.seconds, 2)}
    entry.update(meter.report(sink.received / MIB))
    result["net"] = entry
    print(f" {entry['mib_per_s']:.1f} MiB/s, {entry['host_cpu_ms_per_mib']:.1f} ms CPU/MiB",
          file=sys.stderr)


def bench(name, argv, args, image):
    result = {"available": True, "command": argv}
    print(f"  {name}: booting ...", file=sys.stderr, flush=True)
    # A fresh sparse image per emulator, so both write to unallocated blocks.
    with open(image, "wb") as f:
        f.truncate(args.disk_mib * MIB)
    g = None
    try:
        start = time.monotonic()
        g = BenchGuest(argv)
        result["boot_s"] = round(time.monotonic() - start, 2)
        # Let module loading and the console settle, then measure what an idle guest costs.
        g.check("sleep 1", "settle")
        with Meter(g.pid) as idle:
            time.sleep(2)
        result["idle_cpu_ms_per_s"] = round((idle.user + idle.system) * 1000 / idle.wall, 1)
        bench_disk(g, args.disk_mib, result)
        bench_net(g, args.net_mib, result)
        g.poweroff()
    except Failure as failure:
        print(" failed", file=sys.stderr)
        result["error"] = str(failure)
    finally:
        if g:
            g.close()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--disk-mib", type=int, default=256, help="disk image and transfer size")
    parser.add_argument("--net-mib", type=int, default=64, help="bytes sent to the host, MiB")
    parser.add_argument("--memory", default="512M")
    parser.add_argument("--vessel", default=os.path.join(REPO, "build", "vessel"))
    parser.add_argument("--qemu", default="qemu-system-riscv64")
    parser.add_argument("--guest-dir", default=os.path.join(REPO, "guests", "cache", "debian"))
    parser.add_argument("--emulator", choices=["vessel", "qemu"], action="append",
                        help="run only this one (repeatable; default both)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()
    if args.disk_mib < 1 or args.net_mib < 1:
        parser.error("--disk-mib and --net-mib must be at least 1")

    guest = args.guest_dir
    kernel = os.path.join(guest, "Image")
    initrd = os.path.join(guest, "initrd.cpio.gz")
    firmware = os.path.join(guest, "fw_dynamic.bin")
    for path in (kernel, initrd, firmware):
        if not os.path.isfile(path):
            sys.exit(f"io.py: {path} is missing (run guests/debian/build.sh)")
    if not shutil.which(args.vessel):
        sys.exit(f"io.py: {args.vessel} is missing (cmake --build build)")
    try:
        kver = open(os.path.join(guest, "kernel-version")).read().strip()
    except OSError:
        kver = "unknown"

    results = {}
    with tempfile.TemporaryDirectory(prefix="vessel-io-") as tmp:
        image = os.path.join(tmp, "disk.raw")
        # vessel's --timeout backs up this script's own limits if it is killed.
        limit = int(BOOT_TIMEOUT + 3 * TRANSFER_TIMEOUT + 10 * STEP_TIMEOUT)
        emulators = {
            "vessel": (args.vessel, [args.vessel, "run", "--firmware", firmware, "--kernel", kernel,
                                     "--initrd", initrd, "--append", "console=ttyS0",
                                     "--memory", args.memory, "--cpus", "1", "--timeout", str(limit),
                                     "--disk", image, "--net", "user"]),
            "qemu": (args.qemu, [args.qemu, "-M", "virt", "-m", args.memory, "-smp", "1",
                                 "-nographic", "-bios", firmware, "-kernel", kernel,
                                 "-initrd", initrd, "-append", "console=ttyS0",
                                 "-drive", f"file={image},if=none,format=raw,id=hd0",
                                 "-device", "virtio-blk-device,drive=hd0",
                                 "-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0"]),
        }
        for name, (binary, argv) in emulators.items():
            if args.emulator and name not in args.emulator:
                continue
            if not shutil.which(binary):
                results[name] = {"available": False, "error": f"{binary} not found"}
                continue
            results[name] = bench(name, argv, args, image)

    columns = ("disk_write", "disk_read", "net")
    print(f"\nvirtio I/O: Debian kernel {kver}, fw_dynamic, {args.memory}, 1 hart; "
          f"disk {args.disk_mib} MiB (bs=1M, direct), net {args.net_mib} MiB guest->host via slirp")
    print(f"{'emulator':<8}  {'write MiB/s':>11}  {'read MiB/s':>10}  {'net MiB/s':>9}  "
          f"{'write ms/MiB':>12}  {'read ms/MiB':>11}  {'net ms/MiB':>10}  {'idle ms/s':>9}")
    for name, entry in results.items():
        if not entry.get("available"):
            print(f"{name:<8}  unavailable: {entry['error']}")
            continue
        if any(c not in entry for c in columns):
            print(f"{name:<8}  failed: {entry.get('error', 'incomplete').splitlines()[0]}")
            continue
        print(f"{name:<8}  {entry['disk_write']['mib_per_s']:>11.1f}  {entry['disk_read']['mib_per_s']:>10.1f}  "
              f"{entry['net']['mib_per_s']:>9.1f}  {entry['disk_write']['host_cpu_ms_per_mib']:>12.1f}  "
              f"{entry['disk_read']['host_cpu_ms_per_mib']:>11.1f}  {entry['net']['host_cpu_ms_per_mib']:>10.1f}  "
              f"{entry['idle_cpu_ms_per_s']:>9.1f}")
    ratios = {}
    v, q = results.get("vessel", {}), results.get("qemu", {})
    for column in columns:
        if column in v and column in q and q[column]["host_cpu_ms_per_mib"] > 0:
            ratios[column] = round(v[column]["host_cpu_ms_per_mib"] / q[column]["host_cpu_ms_per_mib"], 2)
    if ratios:
        print("vessel/qemu host CPU per MiB (target <= 2): "
              + ", ".join(f"{c} {r:.2f}" for c, r in ratios.items()))
    else:
        print("vessel/qemu host CPU per MiB: n/a")
    for name, entry in results.items():
        if entry.get("available") and "error" in entry:
            print(f"\n{name} failed: {entry['error']}")

    if args.json:
        report = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                  "kernel": kver, "firmware": "fw_dynamic.bin", "memory": args.memory,
                  "disk_mib": args.disk_mib, "net_mib": args.net_mib, "results": results,
                  "vessel_over_qemu_cpu_per_mib": ratios}
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
    # A missing emulator is reported, not an error; a failed run is.
    return 1 if any("error" in e and e.get("available") for e in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
