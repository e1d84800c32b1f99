#!/usr/bin/env python3
"""details_test: the details a user of the vessel binary meets first (issue 13, item 6).

  details_test.py --vessel BUILD/vessel --guest-dir BUILD/tests/cli/guests [-k SUBSTRING]

  version      `vessel --version` and `vessel version`: the project's version and its
               libraries', status 0, nothing on stderr;
  console log  --console-log PATH is there (with the ring's header) as soon as the VM runs,
               before the guest prints anything.
Cases are cli_test.py's (its Tester: one line on stderr and status 2 for bad input); this file
keeps cli_test.py, already long, from growing. Exit status 0 when every case passes.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_test import Tester  # noqa: E402

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
    print(f"{t.passed} passed, {len(t.failures)} failed in {time.monotonic() - t0:.1f} s")
    for f in t.failures:
        print(f"  failed: {f}")
    return 1 if t.failures or t.passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
