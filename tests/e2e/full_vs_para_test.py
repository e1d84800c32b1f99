#!/usr/bin/env python3
"""bench/full-vs-para's microbenchmark boots in all three configurations.

Runs `bench/full-vs-para --quick --parts micro,guests --no-qemu` on the vessel under test and
checks, from its --json report, that bench/guest/sbi_bench.c printed its result line under
OpenSBI (full virtualization), under the builtin SBI without Sstc and with it, with values
that make sense for each: which SBI answered, whether Sstc was found, instruction and tick
counts that are not zero (the OpenSBI path must retire firmware instructions, the builtin one
must not), IPI round trips when vessel runs two harts, and that the bare M-mode program runs
only under full virtualization. Nothing here depends on speed.

  full_vs_para_test.py --vessel PATH [--guest-dir DIR]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OPENSBI_IMPL_ID = 1
VESSEL_IMPL_ID = 0x5653
TIMER_N = 50000  # sbi_bench.c's TIMER_N
LOOP_INSNS = 7  # sbi_bench.c's timed loop body: li a7 (2), li a6, li a0, op, addi, bnez


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def pair(fields, key):
    check(key in fields, f"no {key}= in the result line")
    values = fields[key].split(",")
    check(all(v.isdigit() for v in values), f"{key}={fields[key]} is not a list of numbers")
    return [int(v) for v in values]


def check_config(key, micro, harts):
    check(micro.get("runs") is True, f"{key}: the microbenchmark did not run: "
          f"{micro.get('error', 'no result')}")
    line = micro.get("line", "")
    check(line.startswith("vessel-sbi-bench: hart=") and line.endswith(" end"),
          f"{key}: malformed result line {line!r}")
    fields = dict(item.split("=", 1) for item in line.split()[1:-1])
    want_impl = OPENSBI_IMPL_ID if key == "full" else VESSEL_IMPL_ID
    check(int(fields["sbi_impl"]) == want_impl,
          f"{key}: SBI implementation {fields['sbi_impl']}, expected {want_impl}")
    want_sstc = "0" if key == "para" else "1"
    check(fields["sstc"] == want_sstc, f"{key}: sstc={fields['sstc']}, expected {want_sstc}")
    check(int(fields["timer_n"]) == TIMER_N, f"{key}: timer_n={fields['timer_n']}")

    nop_insns, nop_ticks = pair(fields, "nop")
    check(nop_insns >= LOOP_INSNS * TIMER_N, f"{key}: nop loop retired only {nop_insns}")
    timer_insns, timer_ticks = pair(fields, "sbi_timer")
    check(timer_ticks > 0, f"{key}: the set_timer loop took no time at all")
    extra = timer_insns - nop_insns
    if key == "full":
        # Each call runs OpenSBI's trap handler in emulated M-mode: rdinstret counts it.
        check(extra > 10 * TIMER_N, f"{key}: set_timer cost only {extra} more instructions than "
              "the nop loop; the firmware's M-mode instructions are missing")
    else:
        # The builtin SBI answers the ecall itself: it retires like the nop it replaces.
        check(abs(extra) < TIMER_N,
              f"{key}: set_timer retired {extra} instructions beyond the nop loop")
    if want_sstc == "1":
        stimecmp_insns, stimecmp_ticks = pair(fields, "stimecmp")
        check(abs(stimecmp_insns - nop_insns) < TIMER_N and stimecmp_ticks > 0,
              f"{key}: stimecmp={fields['stimecmp']} against nop={fields['nop']}")
    else:
        check(fields.get("stimecmp") == "none", f"{key}: stimecmp measured without Sstc")

    for ipi in ("ipi_wfi", "ipi_spin"):
        if harts >= 2:
            here, there, ticks = pair(fields, ipi)
            rounds = int(fields[f"{ipi}_n"])
            # Each side sends and waits once per round trip: a few instructions at least.
            check(rounds > 0 and here >= 2 * rounds and there >= 2 * rounds and ticks > 0,
                  f"{key}: IPI round trips {ipi}={fields[ipi]} for {ipi}_n={rounds}")
        else:
            check(fields.get(ipi) == "none", f"{key}: {ipi}={fields.get(ipi)} with one hart")
    check(micro["sbi_timer_insns"] >= 1 and micro["sbi_timer_ns"] is not None,
          f"{key}: derived set_timer figures {micro['sbi_timer_insns']}, "
          f"{micro['sbi_timer_ns']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vessel", required=True)
    parser.add_argument("--guest-dir", default=os.path.join(REPO, "guests", "cache", "debian"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="full-vs-para-test-") as tmp:
        report_path = os.path.join(tmp, "report.json")
        argv = [sys.executable, os.path.join(REPO, "bench", "full-vs-para"), "--quick",
                "--parts", "micro,guests", "--no-qemu", "--vessel", args.vessel,
                "--guest-dir", args.guest_dir, "--json", report_path]
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=600)
        try:
            check(os.path.exists(report_path),
                  f"full-vs-para wrote no report (exit status {done.returncode})")
            check(done.returncode == 0, f"full-vs-para exited with status {done.returncode}")
            with open(report_path) as f:
                report = json.load(f)
            harts = report["vessel_harts"]
            for key in ("full", "para", "para_sstc"):
                check_config(key, report["results"][key]["micro"], harts)
            mmode = {k: report["results"][k]["mmode"] for k in ("full", "para", "para_sstc")}
            check(mmode["full"]["runs"] is True,
                  f"the bare M-mode program did not run as firmware: {mmode['full'].get('error')}")
            for key in ("para", "para_sstc"):
                check(mmode[key]["runs"] is False and "trap loop" in mmode[key].get("error", ""),
                      f"{key}: the bare M-mode program should stop in a trap loop in S-mode: "
                      f"{mmode[key]}")
        except Failure as failure:
            print(f"FAIL: {failure}\n----- full-vs-para output -----\n{done.stdout}")
            return 1
    print(f"ok: sbi_bench ran under OpenSBI and the builtin SBI with and without Sstc "
          f"({harts} hart(s)); the M-mode program ran only under full virtualization")
    return 0


if __name__ == "__main__":
    sys.exit(main())
