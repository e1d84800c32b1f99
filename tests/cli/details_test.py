#!/usr/bin/env python3
"""details_test: the details a user of the vessel binary meets first (issue 13, item 6).

  details_test.py --vessel BUILD/vessel --guest-dir BUILD/tests/cli/guests [-k SUBSTRING]

  version      `vessel --version` and `vessel version`: the project's version and its
               libraries', status 0, nothing on stderr;
  console log  --console-log PATH is there (with the ring's header) as soon as the VM runs,
               before the guest prints anything;
  disk format  a qcow2, VMDK, VHDX or VDI image given as a raw --disk is refused (one line
               naming the disk and the format, status 2) unless ,format=raw says so;
  console keys Ctrl-A c's monitor (info status, stop, cont, quit) and Ctrl-A t's timestamps.
Cases are cli_test.py's (its Tester: one line on stderr and status 2 for bad input); this file
keeps cli_test.py, already long, from growing. Exit status 0 when every case passes.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_test import Tester, report  # noqa: E402

CONSOLE_LOG_HEADER = b"vessel console log\n"  # src/host/console_log.hpp


class Details(Tester):
    def version_cases(self):
        def check(argv):
            def run(problems):
                r = self.run(argv)
                if r.status != 0 or r.err:
                    problems.append("  want status 0 and nothing on stderr\n" + r.describe())
                lines = r.out.splitlines()
                if not lines or not re.match(r"^vessel \d+\.\d+\.\d+( \(\S+\))?$", lines[0]):
                    problems.append("  first line is not 'vessel X.Y.Z (describe)'\n" + r.describe())
                for lib in ("fmt ", "CLI11 ", "zlib ", "libslirp "):
                    if lib not in r.out:
                        problems.append(f"  no version of {lib.strip()}\n" + r.describe())
            return run
        self.case("--version", check(["--version"]))
        self.case("version subcommand", check(["version"]))

        def same(problems):
            a, b = self.run(["--version"]), self.run(["version"])
            if a.out != b.out:
                problems.append("  --version and version differ\n" + a.describe() + "\n" + b.describe())
        self.case("--version is `version`", same)

        def extra(problems):
            r = self.run(["version", "--frob"])
            if r.status != 2:
                problems.append(f"  status {r.status}, want 2\n" + r.describe())
            self.one_line_error(r, ["--frob"], problems)
        self.case("bad: version with an unknown option", extra)

    def console_log_cases(self):
        def before_output(problems):
            # spin prints nothing: the log must still be there while it runs.
            log = self.path("quiet.log")
            argv = [self.vessel, "run", "--firmware", "none", "--kernel", self.guest("spin"),
                    "--timeout", "5", "--console-log", log]
            child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
            try:
                deadline = time.monotonic() + 4
                while not os.path.exists(log) and time.monotonic() < deadline:
                    time.sleep(0.05)
                running = child.poll() is None
                content = open(log, "rb").read() if os.path.exists(log) else None
            finally:
                child.kill()
                child.communicate()
            if content != CONSOLE_LOG_HEADER:
                problems.append(f"  {log}: {content!r} while the VM ran, want the header alone")
            if not running:
                problems.append(f"  the VM ended (status {child.returncode}) before the log was seen")
            printed = self.run(["logs", "--file", log])
            if printed.status != 0 or printed.out or printed.err:
                problems.append("  vessel logs: want status 0 and nothing\n" + printed.describe())
        self.case("console log: created before the guest prints", before_output)

    def qcow2(self, name):
        """A qcow2 image made by qemu-img (scripts/deps.sh installs qemu-utils)."""
        path = self.path(name)
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", path, "1M"], check=True)
        return path

    def disk_format_cases(self):
        kernel = self.file("disk-kernel.bin", bytes(range(256)) * 16)
        run = ["--kernel", kernel]
        qcow2 = self.qcow2("q.qcow2")
        self.bad("qcow2 as a raw --disk", run + ["--disk", qcow2], [qcow2, "a qcow2 image",
                                                                     "format=raw"])
        self.bad("qcow2 as a raw --disk, read-only", run + ["--disk", qcow2 + ",readonly"],
                 [qcow2, "qcow2"])
        self.bad("qcow2 as the base of an overlay",
                 run + ["--disk", f"{qcow2},overlay={self.path('q.overlay')}"], [qcow2, "qcow2"])
        for name, head in (("VMDK", b"KDMV\1\0\0\0"), ("VHDX", b"vhdxfile"),
                           ("VDI", b"<" * 0x40 + b"\x7f\x10\xda\xbe")):
            image = self.file(f"disk.{name.lower()}", head + bytes(4096 - len(head)))
            self.bad(f"{name} as a raw --disk", run + ["--disk", image], [image, f"a {name} image"])
        self.bad("--disk format=qcow2", run + ["--disk", qcow2 + ",format=qcow2"],
                 ["--disk", "format 'qcow2'", "only raw"])
        self.bad("--disk format twice", run + ["--disk", qcow2 + ",format=raw,format=raw"],
                 ["--disk", "format given twice"])

        def stated(problems):
            dtb = self.path("stated.dtb")
            # Padded to whole sectors: as a raw disk, its size must be a multiple of 512.
            padded = self.path("padded.qcow2")
            shutil.copyfile(qcow2, padded)
            os.truncate(padded, (os.path.getsize(padded) + 4095) // 4096 * 4096)
            r = self.run(["run", "--dump-dtb", dtb] + run + ["--disk", padded + ",format=raw"])
            if r.status != 0 or r.err or not os.path.isfile(dtb):
                problems.append("  ,format=raw: want status 0 and the blob\n" + r.describe())
        self.case("disk: a qcow2 with ,format=raw is taken as raw", stated)

        def no_overlay_left(problems):
            if os.path.exists(self.path("q.overlay")):
                problems.append("  the refused qcow2 base left an overlay behind")
        self.case("bad: a refused qcow2 base leaves no overlay", no_overlay_left)

        def create_refused(problems):
            # vessel create checks its --disk before asking a daemon (none runs here).
            r = self.run(["create", "v", "--state-dir", self.path("state"), "--kernel", kernel,
                          "--disk", qcow2 + ",format=qcow2"])
            if r.status != 2:
                problems.append(f"  status {r.status}, want 2\n" + r.describe())
            self.one_line_error(r, ["--disk", "format 'qcow2'"], problems)
        self.case("bad: vessel create --disk ,format=qcow2", create_refused)

    def config_file_cases(self):
        """vessel run --config FILE: the machine as JSON (src/vmm/config.hpp), the same machine
        the options give, and its wrong fields refused naming them."""
        kernel = self.file("config-kernel.bin", bytes(range(256)) * 16)
        disk = self.file("a,b.img", bytes(65536))

        def write(name, machine):
            path = self.path(name)
            with open(path, "w") as f:
                json.dump(machine, f)
            return path

        good = write("good.json", {"kernel": kernel, "memory_mib": 64, "cpus": 2, "append": "x",
                                   "disks": [{"path": disk, "readonly": True}]})

        def same_tree(problems):
            # The file and the options describe one machine: the same device tree (but for the
            # random rng-seed, which --dump-dtb's trees differ in anyway, so only the sizes).
            dtbs = [self.path("config.dtb"), self.path("options.dtb")]
            r1 = self.run(["run", "--dump-dtb", dtbs[0], "--config", good])
            r2 = self.run(["run", "--dump-dtb", dtbs[1], "--kernel", kernel, "--memory", "64M",
                           "--cpus", "2", "--append", "x", "--disk",
                           disk.replace(",", ",,") + ",readonly"])
            if r1.status != 0 or r2.status != 0:
                problems.append("  want status 0 from both\n" + r1.describe() + r2.describe())
            elif os.path.getsize(dtbs[0]) != os.path.getsize(dtbs[1]):
                problems.append("  the trees differ in size")
        self.case("config: --config FILE gives the machine its options give", same_tree)
        self.bad("--config with a machine option", ["--config", good, "--cpus", "2"],
                 ["--cpus: not with --config"])
        self.bad("--config: unknown field", ["--config", write("u.json", {"colour": 1})],
                 ["--config", "unknown field 'colour'"])
        self.bad("--config: a field out of range",
                 ["--config", write("r.json", {"kernel": kernel, "cpus": 33})],
                 ["--config", "cpus: 33 is out of range (1-32)"])
        self.bad("--config: a disk's overlay is its image",
                 ["--config", write("o.json", {"kernel": kernel,
                                               "disks": [{"path": disk, "overlay": disk}]})],
                 ["disks[0]: the overlay cannot be the disk image itself"])
        self.bad("--config: not JSON", ["--config", self.file("n.json", b"{")],
                 ["--config", "not JSON"])

    def session(self, guest, steps, timeout=15):
        """Runs a guest with its console on a pipe, writing each step's bytes after its pause;
        returns (status, stdout, stderr)."""
        argv = [self.vessel, "run", "--firmware", "none", "--kernel", self.guest(guest),
                "--timeout", str(timeout)]
        child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        try:
            for pause, data in steps:
                time.sleep(pause)
                child.stdin.write(data)
                child.stdin.flush()
            out, err = child.communicate(timeout=timeout + 10)
        except (subprocess.TimeoutExpired, BrokenPipeError):
            child.kill()
            out, err = child.communicate()
        return child.returncode, out.decode(errors="replace"), err.decode(errors="replace")

    def console_key_cases(self):
        def monitor(problems):
            status, out, err = self.session("spin", [
                (0.5, b"\x01c"), (0.2, b"info status\r"), (0.2, b"stop\rinfo status\r"),
                (0.2, b"cont\rinfo status\rbogus\r"), (0.2, b"quit\r")])
            said = err.replace("\r", "")
            want = ["(vessel) info status\nVM status: running\n",
                    "(vessel) stop\n(vessel) info status\nVM status: paused\n",
                    "(vessel) cont\n(vessel) info status\nVM status: running\n",
                    "unknown command 'bogus'"]
            if status != 0:
                problems.append(f"  status {status}, want 0 (quit)\n  stderr: {err!r}")
            for w in want:
                if w not in said:
                    problems.append(f"  stderr lacks {w!r}\n  stderr: {err!r}")
        self.case("console keys: Ctrl-A c monitor with info status, stop, cont, quit", monitor)

        def timestamps(problems):
            status, out, err = self.session("uart_echo", [
                (0.5, b"one\n"), (0.3, b"\x01t"), (0.2, b"two\n"), (0.3, b"\x01t"),
                (0.2, b"three\n"), (0.3, b"\x01x")])
            if status != 0:
                problems.append(f"  status {status}, want 0 (Ctrl-A x)\n  stderr: {err!r}")
            if "timestamps on" not in err or "timestamps off" not in err:
                problems.append(f"  stderr does not say timestamps on and off: {err!r}")
            if not re.search(r"\[\d\d:\d\d:\d\d\.\d{3}\] two", out):
                problems.append(f"  no timestamp before 'two': {out!r}")
            if re.search(r"\] (one|three)", out):
                problems.append(f"  a timestamp while they were off: {out!r}")
        self.case("console keys: Ctrl-A t timestamps the output's lines", timestamps)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vessel", required=True)
    ap.add_argument("--guest-dir", required=True, help="where the guests/*.S ELFs were built")
    ap.add_argument("-k", default="", help="run only the cases whose name contains this")
    args = ap.parse_args()
    args.debian_dir = ""
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="vessel-details-") as tmp:
        t = Details(args, tmp)
        t.version_cases()
        t.console_log_cases()
        t.disk_format_cases()
        t.config_file_cases()
        t.console_key_cases()
    return report(t, t0)


if __name__ == "__main__":
    sys.exit(main())
