#!/usr/bin/env python3
"""End-to-end: virtio-vsock between Debian's guest and host programs, both directions, with
Firecracker's Unix-socket convention.

Debian's kernel has the vsock transport as modules (vsock, vmw_vsock_virtio_transport_common,
vmw_vsock_virtio_transport); they come from the kernel package guests/debian/build.sh fetched,
with tests/e2e/guest/vsock_probe.c cross-built static, in an initramfs appended to the
reference guest's. Booted with --vsock cid=3,uds=PATH, the guest loads them, then:
  host to guest   the guest listens on port 5000; a host program connects to PATH, writes
                  "CONNECT 5000\\n", reads "OK <port>\\n", sends a line and reads the answer;
  guest to host   a host program listens on PATH_6000; the guest connects to CID 2 port 6000,
                  sends a line and prints the host's answer;
  refused         a guest connect to a port nobody listens on fails (connection reset).

  vsock_test.py --vessel PATH --guest-dir DIR
"""

import argparse
import os
import socket
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from kvm_test import REPO, extract_modules, gl, kernel_package  # noqa: E402
from boot_test import Failure  # noqa: E402
from virtio_test import Guest  # noqa: E402

MODULES = {"vsock.ko": "kernel/net/vmw_vsock/vsock.ko.xz",
           "vmw_vsock_virtio_transport_common.ko":
               "kernel/net/vmw_vsock/vmw_vsock_virtio_transport_common.ko.xz",
           "vmw_vsock_virtio_transport.ko": "kernel/net/vmw_vsock/vmw_vsock_virtio_transport.ko.xz"}


def read_line(sock):
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
    return data.decode()


def host_to_guest(g, uds):
    g.console.send("/vsock/vsock_probe listen 5000 &")
    g.console.expect("vsock_probe: listening on 5000", 30, "the guest listening")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(uds)
        s.sendall(b"CONNECT 5000\n")
        ok = read_line(s)
        if not ok.startswith("OK ") or int(ok[3:]) < (1 << 30):
            raise Failure(f"CONNECT 5000: answered {ok!r}, want 'OK <port>'")
        s.sendall(b"hello from the host\n")
        answer = read_line(s)
    if answer != "guest got: hello from the host\n":
        raise Failure(f"the guest answered {answer!r}")
    g.console.expect("vsock_probe: answered 'hello from the host'", 30, "the guest's side")


def guest_to_host(g, uds):
    got = {}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(f"{uds}_6000")
        listener.listen(1)
        listener.settimeout(60)

        def serve():
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(30)
                got["line"] = read_line(conn)
                conn.sendall(b"pong from the host\n")
        server = threading.Thread(target=serve)
        server.start()
        out = g.check("/vsock/vsock_probe connect 2 6000 ping-from-the-guest", "guest connect")
        server.join(60)
    if got.get("line") != "ping-from-the-guest\n":
        raise Failure(f"the host program read {got.get('line')!r}")
    if "host said: pong from the host" not in out:
        raise Failure(f"the guest printed {out!r}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vessel", required=True)
    parser.add_argument("--guest-dir", required=True)
    args = parser.parse_args()
    deb, version = kernel_package(args.guest_dir)
    with tempfile.TemporaryDirectory(prefix="vsock-test-") as work:
        files = extract_modules(deb, version, work, MODULES, "/vsock")
        probe = os.path.join(work, "vsock_probe")
        gl.build_static(os.path.join(REPO, "tests", "e2e", "guest", "vsock_probe.c"), probe)
        files.append(("/vsock/vsock_probe", probe))
        initrd = gl.extended_initrd(os.path.join(args.guest_dir, "initrd.cpio.gz"),
                                    os.path.join(work, "initrd-vsock.cpio.gz"), files)
        uds = os.path.join(work, "v.sock")
        g = Guest(args, ["--vsock", f"cid=3,uds={uds}"], initrd=initrd)
        try:
            # A guest built since guests/debian lists the transport has loaded it already.
            g.check("grep -q '^vmw_vsock_virtio_transport ' /proc/modules || "
                    "{ insmod /vsock/vsock.ko && insmod /vsock/vmw_vsock_virtio_transport_common.ko"
                    " && insmod /vsock/vmw_vsock_virtio_transport.ko; }", "load the vsock modules")
            host_to_guest(g, uds)
            guest_to_host(g, uds)
            out, rc = g.run("/vsock/vsock_probe connect 2 6001 nobody", "a refused connect")
            if rc == 0 or "connect" not in out:
                raise Failure(f"a connect to a port nobody listens on: rc {rc}, {out!r}")
            g.poweroff()
        finally:
            g.close()
    print("PASS vsock: host to guest (CONNECT), guest to host (PATH_PORT), refusal")


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print(f"FAIL {e}")
        sys.exit(1)
