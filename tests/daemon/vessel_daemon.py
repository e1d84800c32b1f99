"""Helpers shared by the daemon's tests and bench/density.py: run `vessel daemon` on a state
dir, talk HTTP to its Unix socket (or TCP port), and open WebSocket consoles. Standard library
only."""

import base64
import http.client
import json
import os
import secrets
import signal
import socket
import struct
import subprocess
import time


def process_alive(pid):
    """Alive and not a zombie (an adopted VM's zombie waits for whoever inherited it)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class Answer:
    def __init__(self, status, headers, data):
        self.status, self.headers, self.data = status, headers, data
        self.text = data.decode(errors="replace")
        try:
            self.json = json.loads(data) if data else None
        except ValueError:
            self.json = None

    def error(self):
        return self.json.get("error") if isinstance(self.json, dict) else None

    def __repr__(self):
        return f"HTTP {self.status} {self.text[:300]!r}"


class Daemon:
    """One `vessel daemon` process on a state dir."""

    def __init__(self, vessel, state_dir, tcp=False, ui_dir=None, extra=(), env=None):
        self.vessel, self.state_dir = vessel, state_dir
        self.socket = os.path.join(state_dir, "daemon.sock")
        self.port = None
        argv = [vessel, "daemon", "--state-dir", state_dir]
        if tcp:
            argv += ["--listen-tcp", "127.0.0.1:0"]
        if ui_dir is not None:
            argv += ["--ui-dir", ui_dir]
        argv += list(extra)
        self.log_path = os.path.join(os.path.dirname(state_dir.rstrip("/")),
                                     os.path.basename(state_dir.rstrip("/")) + "-daemon.log")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log,
                                     stdin=subprocess.DEVNULL,
                                     env=None if env is None else {**os.environ, **env})
        line = self.proc.stdout.readline().decode()
        if "serving" not in line:
            self.proc.wait(timeout=10)
            raise RuntimeError(f"vessel daemon did not start (status {self.proc.returncode}): "
                               f"{line!r}; log: {self.read_log()[-2000:]}")
        if tcp:
            self.port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
            with open(os.path.join(state_dir, "token")) as f:
                self.token = f.read().strip()

    def read_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def request(self, method, path, body=None, raw=None, headers=None, timeout=60, tcp=False):
        conn = (http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout) if tcp
                else UnixHTTPConnection(self.socket, timeout))
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None
                                            else None)
        hdrs = dict(headers or {})
        if data is not None and "Content-Type" not in hdrs:
            hdrs["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        answer = Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        conn.close()
        return answer

    def raw_exchange(self, data, timeout=30):
        """Bytes sent as they are on a new connection; the first answer's status line and body."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(self.socket)
        try:
            s.sendall(data)
        except OSError:
            pass  # the server may answer and close before taking it all
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except OSError:
            pass
        s.close()
        head, _, body = out.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head else 0
        return Answer(status, {}, body)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def vms(self):
        return {vm["name"]: vm for vm in self.get("/api/v1/vms").json}

    def vm(self, name):
        return self.vms().get(name)

    def wait_state(self, name, states, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            vm = self.vm(name)
            if vm and vm["state"] in states:
                return vm
            if time.monotonic() > deadline:
                raise AssertionError(f"VM {name}: state {vm and vm['state']}, wanted {states}")
            time.sleep(0.1)

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)
        self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self.log.close()

    def stop(self):
        if self.proc.poll() is None:
            self.kill(signal.SIGTERM)


class WebSocket:
    """A minimal RFC 6455 client (binary frames, masked as a client must)."""

    def __init__(self, sock, path, headers=None, host="localhost"):
        self.sock = sock
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
        head, _, self.buffer = head.partition(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1]) if head else 0
        self.head = head.decode(errors="replace")

    @staticmethod
    def open_unix(path, target, **kw):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(path)
        return WebSocket(s, target, **kw)

    @staticmethod
    def open_tcp(port, target, **kw):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        return WebSocket(s, target, **kw)

    def send(self, data, opcode=0x2):
        mask = secrets.token_bytes(4)
        n = len(data)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _take(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def recv_frame(self):
        b0, b1 = self._take(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._take(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._take(8))[0]
        return b0 & 0x0F, self._take(n)

    def read_until(self, needle, timeout=30):
        """Console bytes until `needle` appears; everything read so far."""
        seen = b""
        deadline = time.monotonic() + timeout
        while needle not in seen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{needle!r} not seen in {timeout} s; got {seen[-500:]!r}")
            self.sock.settimeout(left)
            opcode, payload = self.recv_frame()
            if opcode == 0x8:
                raise EOFError(f"closed before {needle!r}; got {seen[-500:]!r}")
            if opcode == 0x9:
                self.send(payload, opcode=0xA)
            elif opcode in (0x1, 0x2):
                seen += payload
        return seen

    def close(self):
        try:
            self.send(b"", opcode=0x8)
        except OSError:
            pass
        self.sock.close()
