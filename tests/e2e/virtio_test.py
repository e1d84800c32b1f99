#!/usr/bin/env python3
"""End-to-end paravirtual I/O with Debian's kernel on vessel.

Boots the reference guest (its initramfs loads virtio_mmio, virtio_blk, virtio_net, virtio_rng
and ext4) with virtio devices and checks, from inside the guest and from the host:
  disk       an ext4 image the test made: read a file, write one, sync; the host image holds it
  overlay    the same through ,overlay=: the base is untouched, a second boot sees the write
  readonly   ,readonly: the guest sees a read-only disk, writes fail, the file is unchanged
  net        DHCP lease 10.0.2.15, wget from an HTTP server on host loopback via 10.0.2.2,
             and hostfwd from a host port to a guest HTTP server
  net_isolated  the same host server out of the guest's reach with loopback=off and with
             restrict=on, while hostfwd still reaches the guest
  rootfs     root=/dev/vda through the modules-only initramfs
  rng        /dev/hwrng returns data
  hvc        /dev/hvc0 reaches a Unix socket on the host and back

  virtio_test.py [--vessel PATH] [--case NAME ...]
"""

import argparse
import hashlib
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from boot_test import PROMPT, REPO, USERSPACE_UP, Console, Failure  # noqa: E402

BOOT_TIMEOUT = 180.0
STEP_TIMEOUT = 60.0


class Guest:
    """A booted guest with a shell: run a command and wait for a marker it prints."""

    def __init__(self, args, extra, append="console=ttyS0", initrd="initrd.cpio.gz"):
        guest = args.guest_dir
        argv = [args.vessel, "run", "--firmware", os.path.join(guest, "fw_dynamic.bin"),
                "--kernel", os.path.join(guest, "Image"),
                "--initrd", os.path.join(guest, initrd),
                "--append", append, "--memory", "512M", "--timeout", "600"] + extra
        self.console = Console(argv, stdin_eof=False)
        self.counter = 0
        self.console.expect(re.escape(USERSPACE_UP), BOOT_TIMEOUT, "boot to userspace")
        self.console.expect(PROMPT, STEP_TIMEOUT, "shell prompt")

    def run(self, command, what, timeout=STEP_TIMEOUT):
        """Runs command; returns its output (between the echo of the command and the marker)."""
        self.counter += 1
        marker = f"@@done-{self.counter}@@"
        # The marker is printed by a second echo whose text is split, so the echoed command
        # line itself never matches.
        self.console.send(f"{command}; echo @@\"done-{self.counter}\"@@ rc=$?")
        match = self.console.expect(re.escape(marker) + r" rc=(\d+)", timeout, what)
        out = self.console.text[:match.start()]
        start = out.rfind(command)
        out = out[start + len(command):] if start >= 0 else out
        return out.replace("\r", ""), int(match.group(1))

    def check(self, command, what, timeout=STEP_TIMEOUT):
        out, rc = self.run(command, what, timeout)
        if rc != 0:
            self.console.fail(f"{what}: `{command}` exited with {rc}")
        return out

    def poweroff(self):
        self.console.send("poweroff -f")
        status = self.console.wait_exit(STEP_TIMEOUT, "poweroff -f")
        if status != 0:
            self.console.fail(f"poweroff -f: exit status {status}, expected 0")

    def close(self):
        self.console.close()


def make_ext4(path, files, size="32M"):
    with tempfile.TemporaryDirectory() as d:
        for name, text in files.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        subprocess.run(["mkfs.ext4", "-q", "-F", "-d", d, path, size], check=True)


def debugfs_cat(image, name):
    out = subprocess.run(["debugfs", "-R", f"cat /{name}", image], capture_output=True, text=True)
    return out.stdout


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def case_disk(args, tmp):
    img = os.path.join(tmp, "disk.ext4")
    make_ext4(img, {"hello.txt": "hello from the host\n"})
    g = Guest(args, ["--disk", img])
    try:
        g.check("mkdir -p /mnt && mount -t ext4 /dev/vda /mnt", "mount /dev/vda")
        out = g.check("cat /mnt/hello.txt", "read the host's file")
        if "hello from the host" not in out:
            g.console.fail(f"cat /mnt/hello.txt gave {out!r}")
        g.check("echo written by the guest > /mnt/guest.txt && sync && umount /mnt", "write, sync")
        g.poweroff()
    finally:
        g.close()
    got = debugfs_cat(img, "guest.txt")
    if "written by the guest" not in got:
        raise Failure(f"host image lacks the guest's file: debugfs says {got!r}")
    return "read and wrote through virtio-blk"


def case_overlay(args, tmp):
    img = os.path.join(tmp, "base.ext4")
    ov = os.path.join(tmp, "disk.overlay")
    make_ext4(img, {"hello.txt": "hello from the host\n"})
    before = sha256(img)
    g = Guest(args, ["--disk", f"{img},overlay={ov}"])
    try:
        g.check("mkdir -p /mnt && mount -t ext4 /dev/vda /mnt && cat /mnt/hello.txt", "mount and read")
        g.check("echo kept in the overlay > /mnt/guest.txt && sync && umount /mnt", "write, sync")
        g.poweroff()
    finally:
        g.close()
    if sha256(img) != before:
        raise Failure("the base image changed under an overlay")
    if not os.path.isfile(ov):
        raise Failure("the overlay file was not created")
    g = Guest(args, ["--disk", f"{img},overlay={ov}"])
    try:
        out = g.check("mkdir -p /mnt && mount -t ext4 /dev/vda /mnt && cat /mnt/guest.txt", "read back after reboot")
        if "kept in the overlay" not in out:
            g.console.fail(f"second boot reads {out!r}")
        g.check("umount /mnt", "umount")
        g.poweroff()
    finally:
        g.close()
    if sha256(img) != before:
        raise Failure("the base image changed on the second boot")
    return "base untouched, overlay persists across boots"


def case_readonly(args, tmp):
    img = os.path.join(tmp, "ro.ext4")
    make_ext4(img, {"hello.txt": "read-only content\n"})
    before = sha256(img)
    g = Guest(args, ["--disk", f"{img},readonly"])
    try:
        out = g.check("cat /sys/block/vda/ro", "sysfs ro flag")
        if out.strip().splitlines()[-1:] != ["1"]:
            g.console.fail(f"/sys/block/vda/ro is {out!r}, expected 1")
        _, rc = g.run("dd if=/dev/zero of=/dev/vda bs=512 count=1 oflag=direct", "raw write")
        if rc == 0:
            g.console.fail("a raw write to the read-only disk succeeded")
        out = g.check("mkdir -p /mnt && mount -t ext4 -o ro /dev/vda /mnt && cat /mnt/hello.txt", "read-only mount")
        if "read-only content" not in out:
            g.console.fail(f"read {out!r}")
        g.check("umount /mnt", "umount")
        g.poweroff()
    finally:
        g.close()
    if sha256(img) != before:
        raise Failure("the read-only image changed")
    return "writes refused, file unchanged"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *_):
        pass


def host_http_server(tmp):
    """An HTTP server on the host's 127.0.0.1 serving hello.txt; (server, port)."""
    www = os.path.join(tmp, "www")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "hello.txt"), "w") as f:
        f.write("served by the host\n")
    handler = lambda *a, **k: QuietHandler(*a, directory=www, **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def dhcp(g):
    """eth0 up with slirp's lease (udhcpc with a script that applies it), checked."""
    script = ("#!/bin/sh\\n[ \"$1\" = bound ] || exit 0\\nip addr add $ip/$mask dev $interface\\n"
              "ip link set $interface up\\nip route add default via $router\\n")
    g.check(f"printf '{script}' > /tmp/dhcp.sh && chmod +x /tmp/dhcp.sh", "dhcp script")
    g.check("ip link set eth0 up && udhcpc -i eth0 -n -q -t 5 -s /tmp/dhcp.sh", "DHCP", 90)
    out = g.check("ip -4 addr show dev eth0", "address")
    if "10.0.2.15" not in out:
        g.console.fail(f"eth0 has no 10.0.2.15: {out!r}")


def expect_hostfwd_reaches_guest(g, fwd):
    """A guest HTTP server on 8080, fetched from the host through the forwarded port."""
    g.check("mkdir -p /www && echo served by the guest > /www/index.html && "
            "httpd -p 8080 -h /www", "guest httpd")
    body = ""
    for _ in range(30):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{fwd}/index.html", timeout=10) as r:
                body = r.read().decode()
                break
        except OSError:
            time.sleep(1)
    if "served by the guest" not in body:
        g.console.fail(f"hostfwd 127.0.0.1:{fwd} -> guest:8080 gave {body!r}")


def apt_host():
    """The host name of the first mirror in the host's own apt sources (never named here)."""
    import glob
    import urllib.parse
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")) + ["/etc/apt/sources.list"]:
        try:
            text = open(path).read()
        except OSError:
            continue
        for uri in re.findall(r"(?:URIs:\s*|^deb\s+(?:\[[^\]]*\]\s+)?)(https?://\S+)", text, re.M):
            host = urllib.parse.urlparse(uri).hostname
            if host:
                return host
    raise Failure("no http(s) mirror in the host's apt sources to resolve")


def case_net(args, tmp):
    server, port = host_http_server(tmp)
    fwd = free_port()
    g = Guest(args, ["--net", f"user,hostfwd=tcp:127.0.0.1:{fwd}-:8080"])
    try:
        dhcp(g)
        out = g.check(f"wget -q -O - http://10.0.2.2:{port}/hello.txt", "wget from the host", 90)
        if "served by the host" not in out:
            g.console.fail(f"wget gave {out!r}")
        # DNS through slirp's 10.0.2.3, forwarded to the host's resolver (read by the I/O
        # thread under its seccomp filter).
        name = apt_host()
        out, rc = g.run(f"nslookup {name} 10.0.2.3", f"resolve {name} through 10.0.2.3", 60)
        if rc != 0 or not re.search(r"Address(?: \d+)?:\s*[0-9a-f.:]+", out.split(name, 1)[-1]):
            g.console.fail(f"nslookup {name} through 10.0.2.3 gave {out!r}")
        expect_hostfwd_reaches_guest(g, fwd)
        g.poweroff()
    finally:
        g.close()
        server.shutdown()
    return "DHCP, guest->host HTTP, DNS through 10.0.2.3 and hostfwd host->guest"


def case_net_isolated(args, tmp):
    """What case_net reaches on the host's loopback, refused by loopback=off (the daemon's
    default) and by restrict=on; forwarded ports work under both."""
    server, port = host_http_server(tmp)
    try:
        for option in ("loopback=off", "restrict=on"):
            fwd = free_port()
            g = Guest(args, ["--net", f"user,{option},hostfwd=tcp:127.0.0.1:{fwd}-:8080"])
            try:
                dhcp(g)
                out, rc = g.run(f"wget -T 10 -q -O - http://10.0.2.2:{port}/hello.txt",
                                f"wget from the host with {option}", 90)
                if rc == 0 or "served by the host" in out:
                    g.console.fail(f"with {option} the guest fetched {out!r} from the host")
                expect_hostfwd_reaches_guest(g, fwd)
                g.poweroff()
            finally:
                g.close()
    finally:
        server.shutdown()
    return "loopback=off and restrict=on keep the host's 127.0.0.1 out of reach, hostfwd works"


def case_mmds(args, tmp):
    """The metadata service (--metadata, --net user,mmds=on) from the guest: a V2 session token
    through PUT with nc, then IMDS and JSON reads with busybox wget; no token, no data. Then
    the per-VM API's PATCH and PUT /mmds change what the guest reads at once, and GET /mmds
    shows the document."""
    from seccomp_test import api_call  # noqa: E402 - seccomp_test imports this module
    doc = {"latest": {"meta-data": {"instance-id": "i-vessel-1", "tags": {"role": "e2e"}}}}
    meta = os.path.join(tmp, "metadata.json")
    with open(meta, "w") as f:
        json.dump(doc, f)
    api = os.path.join(tmp, "api.sock")
    g = Guest(args, ["--net", "user,restrict=on,mmds=on", "--metadata", meta, "--api-sock", api])
    try:
        dhcp(g)
        # As Firecracker's guide has it: the metadata address on the link (restrict=on leaves
        # the guest without a default route).
        g.check("ip route add 169.254.169.254 dev eth0", "the route to the metadata service")
        put = ("printf 'PUT /latest/api/token HTTP/1.1\\r\\nX-metadata-token-ttl-seconds: 300"
               "\\r\\n\\r\\n' | timeout 5 nc 169.254.169.254 80 | tail -n 1 > /tmp/token")
        g.check(put, "a session token through PUT /latest/api/token", 60)
        token = g.check("cat /tmp/token", "the token").split()
        if not token or len(token[-1]) != 64:
            g.console.fail(f"no 64-digit token: {token!r}")
        header = "--header \"X-metadata-token: $(cat /tmp/token)\""
        url = "http://169.254.169.254/latest/meta-data"
        out = g.check(f"wget -T 10 -q -O - {header} {url}/", "the IMDS listing", 60)
        if "instance-id" not in out or "tags/" not in out:
            g.console.fail(f"IMDS listing {out!r}")
        out = g.check(f"wget -T 10 -q -O - {header} {url}/instance-id", "one value", 60)
        if "i-vessel-1" not in out:
            g.console.fail(f"instance-id {out!r}")
        out = g.check(f"wget -T 10 -q -O - {header} --header 'Accept: application/json' {url}/tags",
                      "JSON", 60)
        if '{"role":"e2e"}' not in out:
            g.console.fail(f"JSON {out!r}")
        out, rc = g.run(f"wget -T 10 -q -O - {url}/instance-id", "without a token", 60)
        if rc == 0 or "i-vessel-1" in out:
            g.console.fail(f"read without a token: {out!r}")
        # The API's changes, seen by the guest's next request (RFC 7396: null deletes). The
        # reads are short commands, so that their echo is not wrapped and their output is
        # theirs alone.
        g.check("md() { wget -T 10 -q -O - --header \"X-metadata-token: $(cat /tmp/token)\" "
                "http://169.254.169.254/latest/$1; }", "a function for the reads")
        patch = {"latest": {"meta-data": {"instance-id": "i-patched", "tags": None}}}
        status, body = api_call(api, "PATCH", "/mmds", patch)
        if status != 204:
            g.console.fail(f"PATCH /mmds: {status} {body}")
        out = g.check("md meta-data/", "the listing after PATCH", 60)
        listing = out.strip().splitlines()[1:]  # after the rest of the echoed command line
        if listing != ["instance-id"]:
            g.console.fail(f"IMDS listing after PATCH {out!r}")
        out = g.check("md meta-data/instance-id", "after PATCH", 60)
        if "i-patched" not in out:
            g.console.fail(f"instance-id after PATCH {out!r}")
        status, body = api_call(api, "PUT", "/mmds", {"latest": {"user-data": "put by the API"}})
        if status != 204:
            g.console.fail(f"PUT /mmds: {status} {body}")
        out = g.check("md user-data", "after PUT", 60)
        if "put by the API" not in out:
            g.console.fail(f"user-data after PUT {out!r}")
        status, body = api_call(api, "GET", "/mmds")
        if status != 200 or json.loads(body) != {"latest": {"user-data": "put by the API"}}:
            g.console.fail(f"GET /mmds: {status} {body}")
        g.poweroff()
    finally:
        g.close()
    return ("token, IMDS listing, a value and JSON from 169.254.169.254 (restrict=on); 401 "
            "without; the API's PATCH and PUT seen by the guest at once")


def case_rng(args, tmp):
    g = Guest(args, [])
    try:
        out = g.check("head -c 32 /dev/hwrng | od -An -tx1 | wc -w", "read /dev/hwrng")
        words = [w for w in out.split() if w.isdigit()]
        if words[-1:] != ["32"]:
            g.console.fail(f"/dev/hwrng gave {out!r}, expected 32 bytes")
        g.poweroff()
    finally:
        g.close()
    return "32 bytes from /dev/hwrng"


def case_hvc(args, tmp):
    sock = os.path.join(tmp, "hvc.sock")
    g = Guest(args, ["--virtio-console", f"unix:{sock}"])
    try:
        for _ in range(50):
            if os.path.exists(sock):
                break
            time.sleep(0.1)
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.connect(sock)
        client.settimeout(30)
        g.check("echo hvc-from-guest > /dev/hvc0", "write /dev/hvc0")
        got = b""
        deadline = time.monotonic() + 30
        while b"hvc-from-guest" not in got and time.monotonic() < deadline:
            got += client.recv(4096)
        if b"hvc-from-guest" not in got:
            g.console.fail(f"the host socket received {got!r}")
        g.console.send("head -n 1 /dev/hvc0 > /tmp/in.txt &")
        time.sleep(2)
        client.sendall(b"hvc-from-host\n")
        out = ""
        for _ in range(20):
            out, _ = g.run("cat /tmp/in.txt", "read what the host sent")
            if "hvc-from-host" in out:
                break
            time.sleep(1)
        if "hvc-from-host" not in out:
            g.console.fail(f"the guest read {out!r} from /dev/hvc0")
        client.close()
        g.poweroff()
    finally:
        g.close()
    return "both directions"


def case_rootfs(args, tmp):
    """root=/dev/vda: the modules-only initramfs switches to the ext4 root on the disk."""
    root = os.path.join(tmp, "rootfs.ext4")
    shutil.copyfile(os.path.join(args.guest_dir, "rootfs.ext4"), root)
    g = Guest(args, ["--disk", root], append="console=ttyS0 root=/dev/vda rw",
              initrd="initrd-modules.cpio.gz")
    try:
        out = g.check("grep ' / ' /proc/mounts", "the root mount")
        if "/dev/vda" not in out or "ext4" not in out:
            g.console.fail(f"/ is not ext4 on /dev/vda: {out!r}")
        g.check("echo root was writable > /rootfs-note && sync", "write to the root")
        g.poweroff()
    finally:
        g.close()
    if "root was writable" not in debugfs_cat(root, "rootfs-note"):
        raise Failure("the root disk image lacks the file written in the guest")
    return "booted from /dev/vda, wrote to it"


CASES = {"disk": case_disk, "rootfs": case_rootfs, "overlay": case_overlay, "readonly": case_readonly, "net": case_net,
         "net_isolated": case_net_isolated, "rng": case_rng, "hvc": case_hvc, "mmds": case_mmds}


def run_cases(doc, cases, tools=(), extra=None):
    """The command line every guest test script shares: --vessel, --guest-dir and --case (when
    there is more than one case); each case runs in a scratch directory and returns what it
    showed, or raises Failure. `extra` adds options to the parser. Returns the exit status."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--vessel", default=os.path.join(REPO, "build", "vessel"))
    parser.add_argument("--guest-dir", default=os.path.join(REPO, "guests", "cache", "debian"))
    if len(cases) > 1:
        parser.add_argument("--case", choices=sorted(cases), action="append")
    if extra:
        extra(parser)
    args = parser.parse_args()
    for tool in tools:
        if not shutil.which(tool):
            print(f"FAIL: {tool} is not installed (scripts/deps.sh installs it)")
            return 1
    passed = failed = 0
    for name in getattr(args, "case", None) or list(cases):
        with tempfile.TemporaryDirectory() as tmp:
            try:
                print(f"PASS {name}: {cases[name](args, tmp)}", flush=True)
                passed += 1
            except Failure as failure:
                print(f"FAIL {name}: {failure}", flush=True)
                failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def main():
    return run_cases(__doc__, CASES, tools=("mkfs.ext4", "debugfs"))


if __name__ == "__main__":
    sys.exit(main())
