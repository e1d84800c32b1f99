#!/usr/bin/env python3
"""A stand-in for `vessel daemon` on loopback TCP, for working on the web console without it.

Serves the part of vessel daemon's REST API the page uses (list, start/stop/pause/resume,
logs) over VMs that are only records, and each VM's console WebSocket with a tiny fake shell:
it echoes what is typed, answers `echo ...` (with $((a*b)) worked out) and prints the prompt
the Debian guest prints. The API wants the bearer token as the daemon does on TCP; the console
WebSocket takes it as ?token=. The static files of the web console come from --webui-dir.

  fake_daemon.py --webui-dir build/webui [--port 0] [--token T]
It prints one line, "listening on http://127.0.0.1:PORT token TOKEN", then serves until killed.
"""

import argparse
import base64
import hashlib
import http.server
import json
import math
import mimetypes
import os
import re
import secrets
import socket
import struct
import sys
import threading
import time
import urllib.parse

PROMPT = b"vessel:/# "
NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Vm:
    def __init__(self, name, cpus, memory_mib, lock):
        self.name = name
        self.lock = lock  # the server's: the boot thread and the handlers share the VM
        self.cpus = cpus
        self.memory_mib = memory_mib
        self.state = "stopped"
        self.started = 0.0
        self.scrollback = bytearray()
        self.line = bytearray()
        self.sockets = []  # open console connections: (socket, lock)

    def summary(self):
        s = {"name": self.name, "state": self.state, "cpus": self.cpus,
             "memory_mib": self.memory_mib, "engine": "jit"}
        if self.state in ("running", "paused"):
            up = time.monotonic() - self.started
            s["pid"] = 4242
            s["uptime_seconds"] = round(up, 1)
            busy = self.state == "running"
            s["mips"] = round(120 + 30 * math.sin(up / 5), 1) if busy else 0.0
            s["host_cpu_percent"] = round(60 + 35 * math.sin(up / 7), 1) if busy else 0.0
        return s

    def output(self, data):
        self.scrollback += data
        del self.scrollback[:-1 << 20]
        for sock, lock in list(self.sockets):
            try:
                with lock:
                    sock.sendall(ws_frame(0x2, data))
            except OSError:
                pass

    def end_consoles(self):
        """What the daemon's consoles see when the VM's process ends: a close frame, then EOF."""
        for sock, lock in list(self.sockets):
            try:
                with lock:
                    sock.sendall(ws_frame(0x8, struct.pack("!H", 1000) + b"VM stopped"))
                    sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def boot(self):
        for line in (b"[    0.000000] Linux version 6.1.0-fake (fake_daemon.py)\r\n",
                     b"[    0.420000] Run /init as init process\r\n"):
            time.sleep(0.3)
            with self.lock:
                self.output(line)
        time.sleep(0.3)
        with self.lock:
            self.output(b"\r\n" + PROMPT)

    def type(self, data):
        """The fake shell: echo, line editing by backspace, `echo` run at Enter."""
        for b in data:
            if b in (0x0D, 0x0A):
                command = self.line.decode(errors="replace")
                self.line.clear()
                reply = b"\r\n"
                if command.startswith("echo "):
                    text = re.sub(r"\$\(\((\d+)\*(\d+)\)\)",
                                  lambda m: str(int(m[1]) * int(m[2])), command[5:])
                    reply += text.encode() + b"\r\n"
                elif command.strip():
                    reply += b"sh: " + command.split()[0].encode() + b": not found\r\n"
                self.output(reply + PROMPT)
            elif b in (0x7F, 0x08):
                if self.line:
                    self.line.pop()
                    self.output(b"\b \b")
            elif b >= 0x20:
                self.line.append(b)
                self.output(bytes([b]))


def ws_frame(opcode, payload):
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return header + payload


def ws_read_frame(rfile):
    """One client frame: (opcode, payload), or None at EOF. Clients must mask (RFC 6455 5.1)."""
    head = rfile.read(2)
    if len(head) < 2:
        return None
    opcode, n = head[0] & 0x0F, head[1] & 0x7F
    if not head[1] & 0x80:
        raise ValueError("unmasked client frame")
    if n == 126:
        n = struct.unpack("!H", rfile.read(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", rfile.read(8))[0]
    if n > 1 << 20:
        raise ValueError("frame too large")
    mask = rfile.read(4)
    data = rfile.read(n)
    if len(mask) < 4 or len(data) < n:
        return None
    return opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(data))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-vessel-daemon"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            super().log_message(fmt, *args)

    def send_json(self, status, body):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, message):
        self.send_json(status, {"error": message})

    def authorized(self, query):
        token = self.server.token
        if self.headers.get("Authorization", "") == f"Bearer {token}":
            return True
        # Only the console, a WebSocket, takes the token in its URL.
        return self.path_only.endswith("/console") and query.get("token") == [token]

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def route(self, method):
        url = urllib.parse.urlsplit(self.path)
        self.path_only = url.path
        query = urllib.parse.parse_qs(url.query)
        if method == "GET" and (url.path == "/" or url.path.startswith("/ui/")):
            return self.static(url.path)
        if not self.authorized(query):
            return self.error(401, "missing or wrong bearer token")
        parts = url.path.split("/")
        if parts[:4] != ["", "api", "v1", "vms"]:
            return self.error(404, f"{url.path}: no such endpoint")
        with self.server.lock:
            if len(parts) == 4 and method == "GET":
                return self.send_json(200, [vm.summary() for vm in self.server.vms.values()])
            name = parts[4] if len(parts) > 4 else ""
            vm = self.server.vms.get(name)
            if not NAME.fullmatch(name) or vm is None:
                return self.error(404, f"VM {name!r}: no such VM")
            verb = parts[5] if len(parts) == 6 else ""
            if method == "POST" and verb in ("start", "stop", "pause", "resume"):
                return self.lifecycle(vm, verb)
            if method == "GET" and verb == "logs":
                size = int(query.get("bytes", ["65536"])[0])
                data = bytes(vm.scrollback[-size:]) if size > 0 else b""
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                return self.wfile.write(data)
        if method == "GET" and verb == "console":
            if vm.state not in ("running", "paused"):
                return self.error(409, f"VM {vm.name!r}: not running, no console")
            return self.console(vm)
        return self.error(404, f"{method} {url.path}: no such endpoint")

    def lifecycle(self, vm, verb):
        allowed = {"start": ("stopped", "crashed"), "stop": ("running", "paused"),
                   "pause": ("running",), "resume": ("paused",)}[verb]
        if vm.state not in allowed:
            return self.error(409, f"VM {vm.name!r}: cannot {verb} a {vm.state} VM")
        if verb == "start":
            vm.state, vm.started = "running", time.monotonic()
            vm.scrollback.clear()
            threading.Thread(target=vm.boot, daemon=True).start()
        elif verb == "stop":
            vm.state = "stopped"
            vm.end_consoles()
        else:
            vm.state = "paused" if verb == "pause" else "running"
        return self.send_json(200, vm.summary())

    def static(self, path):
        root = self.server.webui_dir
        rel = "index.html" if path == "/" else path[len("/ui/"):]
        full = os.path.realpath(os.path.join(root, rel))
        if not full.startswith(root + os.sep) or not os.path.isfile(full):
            return self.error(404, f"{path}: no such file")
        with open(full, "rb") as f:
            data = f.read()
        kind = {".mjs": "text/javascript", ".js": "text/javascript"}.get(
            os.path.splitext(full)[1]) or mimetypes.guess_type(full)[0] or "application/octet-stream"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def console(self, vm):
        key = self.headers.get("Sec-WebSocket-Key")
        if self.headers.get("Upgrade", "").lower() != "websocket" or not key:
            return self.error(400, "console: a WebSocket upgrade is required")
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        entry = (self.connection, threading.Lock())
        with self.server.lock:
            vm.sockets.append(entry)
        try:
            while True:
                frame = ws_read_frame(self.rfile)
                if frame is None or frame[0] == 0x8:
                    break
                if frame[0] == 0x9:
                    with entry[1]:
                        self.connection.sendall(ws_frame(0xA, frame[1]))
                elif frame[0] in (0x1, 0x2):
                    with self.server.lock:
                        if vm.state == "running":
                            vm.type(frame[1])
        except (OSError, ValueError):
            pass
        finally:
            with self.server.lock:
                vm.sockets.remove(entry)
            self.close_connection = True


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--webui-dir", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--token", default=secrets.token_hex(16))
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.webui_dir = os.path.realpath(args.webui_dir)
    server.token = args.token
    server.verbose = args.verbose
    server.lock = threading.RLock()
    server.vms = {name: Vm(name, cpus, mem, server.lock)
                  for name, cpus, mem in (("alpha", 1, 128), ("beta", 2, 256))}
    port = server.server_address[1]
    print(f"listening on http://127.0.0.1:{port} token {args.token}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
