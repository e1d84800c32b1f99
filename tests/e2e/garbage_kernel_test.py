#!/usr/bin/env python3
"""garbage_kernel_test: a kernel of zeros under OpenSBI's fw_jump ends as a trap loop.

  garbage_kernel_test.py --vessel BUILD/vessel --guest-dir guests/cache/debian [--engine E]...

The kernel's first instruction is illegal. OpenSBI (M-mode) emulates none of it and hands the
fault to S-mode's trap vector, stvec, which it set to the kernel's entry before entering it:
the same instruction, so the same fault, for ever, with instructions retiring in M-mode on
each round. Vessel must end the VM within a
few seconds, with status 1 and one line on stderr naming the loop through the firmware, its
cause and its pc, under each engine asked for (both by default).
Exits 1 on any failure, with what vessel printed.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

MAX_SECONDS = 10
NEEDLES = ["trap loop through the firmware", "exception 2 (illegal instruction)",
           "S-mode pc 0x80200000 "]


def run(args, engine, kernel):
    firmware = os.path.join(args.guest_dir, "fw_jump.bin")
    argv = [args.vessel, "run", "--firmware", firmware, "--kernel", kernel, "--memory", "256M",
            "--engine", engine, "--timeout", "60"]
    start = time.monotonic()
    try:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=MAX_SECONDS + 20)
    except subprocess.TimeoutExpired as e:
        return [f"{engine}: still running after {MAX_SECONDS + 20} s (stderr {e.stderr!r})"]
    seconds = time.monotonic() - start
    err = r.stderr.decode(errors="replace")
    lines = [line for line in err.splitlines() if "trap loop" in line]
    problems = []
    if r.returncode != 1:
        problems.append(f"status {r.returncode}, want 1")
    if seconds > MAX_SECONDS:
        problems.append(f"took {seconds:.1f} s, want at most {MAX_SECONDS} s")
    if len(lines) != 1:
        problems.append(f"{len(lines)} lines naming a trap loop on stderr, want 1")
    else:
        missing = [n for n in NEEDLES if n not in lines[0]]
        if missing:
            problems.append(f"the trap loop line lacks {missing}: {lines[0]!r}")
    if problems:
        out = r.stdout.decode(errors="replace")
        problems = [f"{engine}: {p}" for p in problems]
        problems.append(f"  argv: {' '.join(argv)}\n  stdout (end): {out[-1500:]!r}\n"
                        f"  stderr: {err[-1500:]!r}")
    else:
        print(f"{engine}: status 1 in {seconds:.2f} s: {lines[0]}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vessel", required=True)
    parser.add_argument("--guest-dir", required=True)
    parser.add_argument("--engine", action="append", choices=["jit", "interp"])
    args = parser.parse_args()
    if not os.path.exists(os.path.join(args.guest_dir, "fw_jump.bin")):
        print(f"no fw_jump.bin in {args.guest_dir}: build the guest (guests/debian/build.sh)")
        return 1
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        kernel = os.path.join(tmp, "zeros.bin")
        with open(kernel, "wb") as f:
            f.write(bytes(64 * 1024))
        for engine in args.engine or ["jit", "interp"]:
            problems += run(args, engine, kernel)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
