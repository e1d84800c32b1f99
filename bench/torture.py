#!/usr/bin/env python3
"""New seeds for the lockstep torture test, for as long as you like.

CI runs fixed seeds (lockstep_test); this runs fresh ones: generated programs (tests/cpu/torture)
on the interpreter and the translator in lockstep, one torture_run per worker, each from a
random 48-bit seed on, restarted from another after a divergence. Every divergence is printed
with the seed that reproduces it (`torture_run --seed-from SEED --count 1`, `--trace` to see
each block) and kept in DIR/seed-SEED.txt; the exit status is 1 if there was one.

  bench/torture.py [--build build] [--minutes 10] [--jobs 2] [--engine jit|interp] [--dir DIR]
"""

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUMMARY = re.compile(r"(\d+) seeds from (\d+), (\d+) blocks, no divergence")
SEED = re.compile(r"^seed (\d+): ", re.M)


def worker(args, deadline, results, lock):
    binary = os.path.join(args.build, "tests", "cpu", "torture_run")
    rng = random.Random()
    while True:
        left = deadline - time.monotonic()
        if left < 1:
            return
        start = rng.getrandbits(48)
        cmd = [binary, "--seed-from", str(start), "--seconds", f"{left:.0f}", "--engine",
               args.engine]
        run = subprocess.run(cmd, capture_output=True, text=True, check=False)
        with lock:
            found = SUMMARY.search(run.stdout)
            if run.returncode == 0 and found:
                results["seeds"] += int(found.group(1))
                results["blocks"] += int(found.group(3))
                continue
            seed = SEED.search(run.stdout + run.stderr)
            name = seed.group(1) if seed else str(start)
            path = os.path.join(args.dir, f"seed-{name}.txt")
            with open(path, "w", encoding="utf-8") as f:
                f.write(run.stdout + run.stderr)
            kind = "divergence" if run.returncode == 1 else f"exit status {run.returncode}"
            results["failures"].append(f"seed {name}: {kind} ({path})")
            print(run.stdout + run.stderr, file=sys.stderr, flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--engine", default="jit", choices=["jit", "interp"])
    p.add_argument("--dir", default=None, help="where reports go (default: a new temp dir)")
    args = p.parse_args()
    if not os.access(os.path.join(args.build, "tests", "cpu", "torture_run"), os.X_OK):
        sys.exit(f"{args.build}/tests/cpu/torture_run not found: build the torture_run target")
    args.dir = args.dir or tempfile.mkdtemp(prefix="vessel-torture-")
    os.makedirs(args.dir, exist_ok=True)
    deadline = time.monotonic() + args.minutes * 60
    results = {"seeds": 0, "blocks": 0, "failures": []}
    lock = threading.Lock()
    threads = [threading.Thread(target=worker, args=(args, deadline, results, lock))
               for _ in range(args.jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"{results['seeds']} seeds, {results['blocks']} blocks in lockstep "
          f"({args.engine} against the interpreter), {len(results['failures'])} failed")
    for f in results["failures"]:
        print("  " + f)
    sys.exit(1 if results["failures"] else 0)


if __name__ == "__main__":
    main()
