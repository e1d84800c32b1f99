#!/usr/bin/env python3
"""gdb_test: `vessel run --gdb ... --gdb-wait` under Debian's gdb-multiarch, and a hostile client.

  gdb_test.py --vessel BUILD/vessel --guest-dir guests/cache/debian [--gdb gdb-multiarch]

session  Two harts boot OpenSBI's fw_jump and Debian's kernel, halted before the first
         instruction. gdb-multiarch in batch mode checks: `info registers` shows pc at the
         reset vector (0x1000) and the CSRs and priv from the target description; `stepi`
         moves pc by one instruction; `x/4xw` reads the reset vector's code; each hart is a
         thread; a read watchpoint on the word the reset vector loads stops after that load; a
         breakpoint at the kernel's entry (0x80200000, where fw_jump jumps) is hit
         after `continue`, in S-mode with a0 = that hart's id; the memory there is the kernel
         Image's header byte for byte; a memory write and a register write read back; a
         SIGINT to gdb (Ctrl-C) stops the running guest; `kill` ends vessel with status 0.
hostile  A raw client on a Unix socket sends a bad checksum, an overlong packet, malformed
         packets, reads of unmapped memory and a huge length; each gets a NAK or an error and
         the stub still answers. Its `vCont;s` and `s` step exactly one instruction (GDB
         itself steps RISC-V with temporary breakpoints, so only a raw client uses them). After a detach the guest boots on to its userspace.
Exits 1 on any failure, with what vessel and gdb printed.
"""

import argparse
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

USERSPACE_UP = b"vessel-guest: userspace up"
KERNEL_ENTRY = 0x80200000


class Failure(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def vessel(args, gdb_spec, cpus, tmp, name):
    """vessel booting the guest halted under --gdb-wait; killed on the way out if still there."""
    proc, out = start_vessel(args, gdb_spec, cpus, tmp, name)
    try:
        yield proc, out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def start_vessel(args, gdb_spec, cpus, tmp, name):
    d = args.guest_dir
    log = open(os.path.join(tmp, name + ".out"), "wb")
    argv = [args.vessel, "run", "--cpus", str(cpus), "--firmware", os.path.join(d, "fw_jump.bin"),
            "--kernel", os.path.join(d, "Image"), "--initrd", os.path.join(d, "initrd.cpio.gz"),
            "--append", "console=ttyS0", "--timeout", "170", "--gdb", gdb_spec, "--gdb-wait"]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    return proc, log.name


def expect(text, pattern, what):
    m = re.search(pattern, text, re.M)
    if m is None:
        raise Failure(f"{what}: /{pattern}/ not in gdb's output")
    return m


GDB_SCRIPT = """set pagination off
set confirm off
target remote 127.0.0.1:{port}
echo @@reset\\n
info registers pc
stepi
echo @@step\\n
info registers pc
echo @@rom\\n
x/4xw 0x1000
echo @@csrs\\n
info registers mstatus misa satp sepc scause stval sstatus priv
p $fcsr
echo @@threads\\n
info threads
rwatch *(long*)0x1020
continue
echo @@watch\\n
info registers pc
delete
break *0x{entry:x}
continue
echo @@entry\\n
info registers pc a0 priv
x/4xw 0x{entry:x}
echo @@write\\n
set {{unsigned int}}0x{header:x} = 0x12345678
x/1xw 0x{header:x}
set {{unsigned int}}0x{header:x} = 0
set $t0 = 0x1234abcd
p/x $t0
stepi
echo @@stepped\\n
info registers pc
delete
python
import os, signal, threading
threading.Timer(3.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
end
continue
echo @@interrupted\\n
info registers pc
kill
"""


def session(args, tmp):
    port = free_port()
    with vessel(args, f"tcp:{port}", 2, tmp, "session") as (proc, out):
        time.sleep(0.5)
        script = os.path.join(tmp, "session.gdb")
        # res1 of the Image header (offset 0x24): never read by the running kernel.
        with open(script, "w") as f:
            f.write(GDB_SCRIPT.format(port=port, entry=KERNEL_ENTRY, header=KERNEL_ENTRY + 0x24))
        r = subprocess.run([args.gdb, "-nx", "-batch", "-x", script], capture_output=True,
                           text=True, timeout=160)
        text = r.stdout + r.stderr
        try:
            check_session(args, text)
            status = proc.wait(timeout=10)
            if status != 0:
                raise Failure(f"vessel exited with {status} after gdb's kill, want 0")
        except Failure as e:
            raise Failure(f"{e}\n--- gdb:\n{text}\n--- vessel:\n{tail(out)}") from None


def section(text, name):
    start = text.find("@@" + name)
    if start < 0:
        raise Failure(f"gdb stopped before @@{name}")
    end = text.find("@@", start + 2)
    return text[start:end if end >= 0 else len(text)]


def check_session(args, text):
    expect(section(text, "reset"), r"^pc\s+0x1000\b", "pc at the reset vector")
    expect(section(text, "step"), r"^pc\s+0x1004\b", "stepi advances pc by one instruction")
    expect(section(text, "rom"), r"0x1000:\s+0x00000297", "the reset vector's auipc t0")
    csrs = section(text, "csrs")
    for reg in ("mstatus", "misa", "satp", "sepc", "scause", "stval", "sstatus"):
        expect(csrs, rf"^{reg}\s+0x", f"CSR {reg}")
    expect(csrs, r"^priv\s+0x3\b", "priv is M at reset")
    expect(csrs, r"^\$1 = ", "fcsr")
    threads = section(text, "threads")
    expect(threads, r"Thread 1 \(hart 0\)", "hart 0 as thread 1")
    expect(threads, r"Thread 2 \(hart 1\)", "hart 1 as thread 2")
    # The reset vector's `ld a1, 32(t0)` at 0x1010 reads 0x1020: the stop comes after it.
    expect(text, r"hit Hardware read watchpoint 1", "a read watchpoint")
    expect(section(text, "watch"), r"^pc\s+0x1014\b", "stopped after the watched load")
    entry = section(text, "entry")
    # OpenSBI's boot hart is whichever wins its lottery: the thread that hit says which.
    hit = expect(text, rf"(?:Thread (\d+) hit )?Breakpoint \d+, 0x0*{KERNEL_ENTRY:x}",
                 "the breakpoint at the kernel entry")
    hart = int(hit.group(1) or "1") - 1
    expect(entry, rf"^pc\s+0x{KERNEL_ENTRY:x}\b", "pc at the kernel entry")
    expect(entry, rf"^a0\s+0x{hart:x}\b", f"a0 = the boot hart's id ({hart})")
    expect(entry, r"^priv\s+0x1\b", "the kernel starts in S-mode")
    with open(os.path.join(args.guest_dir, "Image"), "rb") as f:
        header = f.read(16)
    words = [int.from_bytes(header[i:i + 4], "little") for i in range(0, 16, 4)]
    want = r"\s+".join(f"0x{w:08x}" for w in words)
    expect(entry, rf"0x{KERNEL_ENTRY:x}:\s+{want}", "the kernel Image's header in memory")
    write = section(text, "write")
    expect(write, r":\s+0x12345678", "a memory write reads back")
    expect(write, r"= 0x1234abcd", "a register write reads back")
    stepped = expect(section(text, "stepped"), r"^pc\s+0x([0-9a-f]+)", "pc after stepi")
    if int(stepped.group(1), 16) not in (KERNEL_ENTRY + 2, KERNEL_ENTRY + 4):
        raise Failure(f"stepi from the entry went to {stepped.group(1)}")
    expect(text, r"received signal SIGINT", "Ctrl-C stops the running guest")
    expect(section(text, "interrupted"), r"^pc\s+0x", "registers after Ctrl-C")


class Raw:
    """A minimal remote-protocol client that sends whatever it is told to."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(10)
        self.s.connect(path)
        self.buf = b""

    @staticmethod
    def frame(payload):
        return b"$" + payload + b"#%02x" % (sum(payload) & 0xff)

    def read_until(self, pred):
        while True:
            got = pred(self.buf)
            if got is not None:
                return got
            chunk = self.s.recv(65536)
            if not chunk:
                raise Failure("the stub closed the connection")
            self.buf += chunk

    def reply(self):
        def packet(buf):
            m = re.search(rb"\$([^#]*)#[0-9a-f]{2}", buf)
            if m is None:
                return None
            self.buf = buf[m.end():]
            return m.group(1)
        return self.read_until(packet)

    def ask(self, payload):
        self.s.sendall(self.frame(payload))
        return self.reply()

    def ack_char(self):
        def first(buf):
            for i, c in enumerate(buf):
                if c in b"+-":
                    self.buf = buf[i + 1:]
                    return bytes([c])
            return None
        return self.read_until(first)


def hostile(args, tmp):
    path = os.path.join(tmp, "gdb.sock")
    with vessel(args, f"unix:{path}", 1, tmp, "hostile") as (proc, out):
        try:
            hostile_client(path, proc, out)
        except Failure as e:
            raise Failure(f"{e}\n--- vessel:\n{tail(out)}") from None


def hostile_client(path, proc, out):
    for _ in range(50):
        if os.path.exists(path):
            break
        time.sleep(0.1)
    c = Raw(path)
    checks = [
        ("bad checksum gets a NAK", lambda: (c.s.sendall(b"$g#00"), c.ack_char())[1], b"-"),
        ("an overlong packet gets a NAK",
         lambda: (c.s.sendall(b"$" + b"m" * 100000 + b"#00"), c.ack_char())[1], b"-"),
        ("unmapped memory is an error", lambda: c.ask(b"m10,4"), b"E0e"),
        ("a huge read is cut to size, from RAM",
         lambda: len(c.ask(b"m80000000,ffffffffffffffff")) > 0, True),
        ("memory past the end of the address space", lambda: c.ask(b"mffffffffffffffff,10"),
         b"E0e"),
        ("a malformed read", lambda: c.ask(b"mzz,4"), b"E16"),
        ("a malformed register write", lambda: c.ask(b"P20=xyz"), b"E16"),
        ("an unknown register", lambda: c.ask(b"p9999"), b"E16"),
        ("a write to unmapped memory", lambda: c.ask(b"M10,2:abcd"), b"E0e"),
        ("an unknown packet is empty", lambda: c.ask(b"vBogus"), b""),
        ("a bad thread", lambda: c.ask(b"Hg63"), b"E16"),
        ("the stub still answers", lambda: c.ask(b"?").startswith(b"T05"), True),
        # GDB steps RISC-V with breakpoints of its own; other clients use the stub's step.
        ("pc at the reset vector", lambda: c.ask(b"p20"), b"0010000000000000"),
        ("a step stops again", lambda: c.ask(b"vCont;s:1"), b"T05thread:1;"),
        ("a step is one instruction", lambda: c.ask(b"p20"), b"0410000000000000"),
        ("s steps too", lambda: c.ask(b"s"), b"T05thread:1;"),
        ("one more instruction", lambda: c.ask(b"p20"), b"0810000000000000"),
    ]
    for what, do, want in checks:
        got = do()
        if got != want:
            raise Failure(f"hostile: {what}: got {got!r}, want {want!r}")
    if c.ask(b"D") != b"OK":
        raise Failure("hostile: detach was not answered OK")
    c.s.close()
    deadline = time.time() + 40
    while time.time() < deadline:
        with open(out, "rb") as f:
            if USERSPACE_UP in f.read():
                break
        if proc.poll() is not None:
            raise Failure(f"vessel ended with {proc.returncode} after the hostile client")
        time.sleep(0.5)
    else:
        raise Failure("the guest did not reach userspace after the hostile client detached")


def tail(path):
    with open(path, "rb") as f:
        return f.read()[-3000:].decode(errors="replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vessel", required=True)
    ap.add_argument("--guest-dir", required=True)
    ap.add_argument("--gdb", default="gdb-multiarch")
    args = ap.parse_args()
    for f in ("Image", "fw_jump.bin", "initrd.cpio.gz"):
        if not os.path.exists(os.path.join(args.guest_dir, f)):
            print(f"gdb_test: {args.guest_dir}/{f} is missing (guests/debian/build.sh)")
            return 1
    if shutil.which(args.gdb) is None:
        print(f"gdb_test: {args.gdb} is not installed (apt install gdb-multiarch)")
        return 1
    failed = 0
    with tempfile.TemporaryDirectory(prefix="vessel-gdb-") as tmp:
        for name, case in (("session", session), ("hostile", hostile)):
            t0 = time.time()
            try:
                case(args, tmp)
                print(f"ok    {name} ({time.time() - t0:.1f} s)")
            except (Failure, subprocess.TimeoutExpired) as e:
                failed += 1
                print(f"FAIL  {name}: {e}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
