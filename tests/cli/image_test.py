#!/usr/bin/env python3
"""`vessel image create|convert|info` against the qemu-img that scripts/deps.sh installs.

  image_test.py --vessel BUILD/vessel

Checks what a user sees: images of each kind created with the size asked for (qemu-img's own
info agrees), a raw disk's bytes surviving raw -> qcow2 -> vmdk -> raw, `info` and `info
--json`; and the refusals, each exit status 2 with one line on stderr naming the thing and
nothing created: an unknown format, a bad or zero size, a missing source, an existing
destination without --force, qemu-img missing from PATH. A source qemu-img cannot read is its
failure (status 1, its message on one line) and leaves no file behind, temporary or not.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile


class Failure(Exception):
    pass


def vessel(args, *argv, env=None):
    run = subprocess.run([args.vessel, "image", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env, timeout=60)
    return run.returncode, run.stdout, run.stderr


def qemu_info(path):
    return json.loads(subprocess.run(["qemu-img", "info", "--output=json", path], check=True,
                                     stdout=subprocess.PIPE, text=True).stdout)


def expect_ok(args, *argv):
    status, out, err = vessel(args, *argv)
    if status != 0:
        raise Failure(f"vessel image {' '.join(argv)}: status {status}, stderr {err!r}")
    return out


def expect_refused(args, tmp, argv, status, words, env=None):
    """Exit `status`, one line on stderr with all of `words`, nothing on stdout, and no new
    file in tmp."""
    before = sorted(os.listdir(tmp))
    got, out, err = vessel(args, *argv, env=env)
    lines = err.splitlines()
    if got != status or len(lines) != 1 or not lines[0].startswith("vessel: image ") or out:
        raise Failure(f"vessel image {' '.join(argv)}: status {got} (want {status}), "
                      f"stdout {out!r}, stderr {err!r}")
    missing = [w for w in words if w not in lines[0]]
    if missing:
        raise Failure(f"vessel image {' '.join(argv)}: {lines[0]!r} does not name {missing}")
    after = sorted(os.listdir(tmp))
    if after != before:
        raise Failure(f"vessel image {' '.join(argv)}: left {sorted(set(after) - set(before))}")


def check_create_and_info(args, tmp):
    for fmt, size, want in (("raw", "1M", 1 << 20), ("qcow2", "64M", 64 << 20), ("vmdk", "3G", 3 << 30),
                            ("vdi", "10485760", 10 << 20)):
        path = os.path.join(tmp, f"new.{fmt}")
        out = expect_ok(args, "create", "-f", fmt, path, size)
        info = qemu_info(path)
        if info["format"] != fmt or info["virtual-size"] != want or f"{want} bytes" not in out:
            raise Failure(f"create -f {fmt} {size}: qemu-img info says {info}, vessel said {out!r}")
        shown = json.loads(expect_ok(args, "info", "--json", path))
        if shown["format"] != fmt or shown["virtual-size"] != want:
            raise Failure(f"info --json {path}: {shown}")
        text = expect_ok(args, "info", path)
        if f"file format: {fmt}" not in text:
            raise Failure(f"info {path}: {text!r}")
    return "raw, qcow2, vmdk, vdi created with their sizes; info and info --json agree with qemu-img"


def check_convert_round_trip(args, tmp):
    raw = os.path.join(tmp, "disk.raw")
    data = bytes((i * 131 + 17) & 0xFF for i in range(1 << 20)) + os.urandom(4096)
    with open(raw, "wb") as f:
        f.write(data)
        f.truncate(8 << 20)
    qcow2, vmdk, back = (os.path.join(tmp, n) for n in ("disk.qcow2", "disk.vmdk", "back.raw"))
    expect_ok(args, "convert", "-O", "qcow2", raw, qcow2)
    expect_ok(args, "convert", "-f", "qcow2", "-O", "vmdk", qcow2, vmdk)
    expect_ok(args, "convert", vmdk, back)  # raw by default: what vessel run --disk reads
    if qemu_info(qcow2)["format"] != "qcow2" or qemu_info(vmdk)["format"] != "vmdk":
        raise Failure("convert: the intermediate images are not in the formats asked for")
    with open(back, "rb") as f:
        got = f.read()
    if got != data + bytes((8 << 20) - len(data)):
        raise Failure("convert raw -> qcow2 -> vmdk -> raw changed the disk's bytes")
    # --force replaces an existing destination.
    expect_ok(args, "convert", "--force", "-O", "raw", qcow2, back)
    return "8 MiB of data through raw -> qcow2 -> vmdk -> raw unchanged; --force replaces"


def check_refusals(args, tmp):
    existing = os.path.join(tmp, "existing.raw")
    with open(existing, "wb") as f:
        f.write(b"keep me")
    new = os.path.join(tmp, "new.img")
    expect_refused(args, tmp, ["create", "-f", "qcow3", new, "1M"], 2, ["format 'qcow3'"])
    expect_refused(args, tmp, ["create", new, "12Q"], 2, ["size '12Q'"])
    expect_refused(args, tmp, ["create", new, "0"], 2, ["size '0'", "zero"])
    expect_refused(args, tmp, ["create", existing, "1M"], 2, [existing, "exists"])
    expect_refused(args, tmp, ["convert", os.path.join(tmp, "nope.qcow2"), new], 2, ["nope.qcow2", "no such file"])
    expect_refused(args, tmp, ["convert", existing, existing], 2, [existing, "exists"])
    expect_refused(args, tmp, ["convert", "-O", "iso", existing, new], 2, ["format 'iso'"])
    expect_refused(args, tmp, ["info", os.path.join(tmp, "nope.img")], 2, ["nope.img", "no such file"])
    no_qemu_img = dict(os.environ, PATH=tmp)
    expect_refused(args, tmp, ["info", existing], 2, ["qemu-img not found"], env=no_qemu_img)
    expect_refused(args, tmp, ["create", new, "1M"], 2, ["qemu-img not found"], env=no_qemu_img)
    # qemu-img's own failure: a file that is not the qcow2 the command says it is.
    expect_refused(args, tmp, ["convert", "-f", "qcow2", existing, new], 1, ["not in qcow2 format"])
    with open(existing, "rb") as f:
        if f.read() != b"keep me":
            raise Failure("a refused command changed the existing file")
    return "bad format, size, source, destination and a missing qemu-img: status 2, one line; " \
           "qemu-img's failure: status 1, nothing left behind"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vessel", required=True)
    args = parser.parse_args()
    if not shutil.which("qemu-img"):
        print("FAIL: qemu-img is not installed (scripts/deps.sh installs qemu-utils)")
        return 1
    failed = 0
    for check in (check_create_and_info, check_convert_round_trip, check_refusals):
        with tempfile.TemporaryDirectory() as tmp:
            try:
                print(f"PASS {check.__name__}: {check(args, tmp)}", flush=True)
            except (Failure, subprocess.SubprocessError, ValueError, KeyError) as error:
                print(f"FAIL {check.__name__}: {error}", flush=True)
                failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
