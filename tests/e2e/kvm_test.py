#!/usr/bin/env python3
"""End-to-end: Debian's kernel on Vessel loads kvm.ko, which finds the H extension.

Takes kvm.ko (and irqbypass.ko, which it links against) from the kernel package
guests/debian/build.sh fetched (guests/cache/apt/debs), appends them with a small check
script to the reference guest's initramfs, and boots with vessel.run= running the script:
insmod both, then dmesg and /dev/kvm. With the extension (the default) the kernel must
print "kvm [...]: hypervisor extension available" and create /dev/kvm; with
--cpu-features=-h it must report the extension missing and create nothing.

With --client it also runs tests/e2e/guest/kvm_mmio.c (cross-built here, static) in the
guest: a VM with one page of code that stores to an address no memory slot covers, one vCPU
run until the MMIO exit, which must name that address, size and value.

  kvm_test.py --vessel PATH --guest-dir DIR [--firmware builtin|jump] [--engine jit|interp]
              [--without-h] [--client] [--timeout SECONDS]
"""

import argparse
import lzma
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "bench"))
import guestlib as gl  # noqa: E402

CHECK_SCRIPT = """#!/bin/sh
insmod /kvm/irqbypass.ko
insmod /kvm/kvm.ko
echo "kvm-check: insmod kvm status $?"
dmesg | grep 'kvm \\['
if [ -c /dev/kvm ]; then echo "kvm-check: /dev/kvm present"; else echo "kvm-check: no /dev/kvm"; fi
if [ -x /kvm/kvm_mmio ]; then /kvm/kvm_mmio; fi
"""
MODULES = {"kvm.ko": "kernel/arch/riscv/kvm/kvm.ko.xz",
           "irqbypass.ko": "kernel/virt/lib/irqbypass.ko.xz"}


def fail(message):
    print(f"FAIL {message}")
    sys.exit(1)


def kernel_package(guest_dir):
    """The linux-image .deb the guest's Image came from, and its kernel version."""
    with open(os.path.join(guest_dir, "kernel-version")) as f:
        version = f.read().strip()
    debs = os.path.join(os.path.dirname(guest_dir), "apt", "debs")
    names = [n for n in sorted(os.listdir(debs)) if n.startswith(f"linux-image-{version}_")] \
        if os.path.isdir(debs) else []
    if not names:
        fail(f"no linux-image-{version} package in {debs} (run guests/debian/build.sh)")
    return os.path.join(debs, names[0]), version


def extract_modules(deb, version, work, modules=None, guest_dir="/kvm"):
    """Modules out of the package, decompressed: (guest path, host file) each. By default
    kvm.ko and irqbypass.ko; `modules` maps a name to its path under kernel/ (tests/e2e's
    vsock_test takes the vsock transport's)."""
    modules = MODULES if modules is None else modules
    members = [f"./usr/lib/modules/{version}/{path}" for path in modules.values()]
    tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", work, *members], input=tar.stdout, check=True)
    files = []
    for name, path in modules.items():
        host = os.path.join(work, name)
        with lzma.open(os.path.join(work, "usr", "lib", "modules", version, path)) as src, \
                open(host, "wb") as dst:
            dst.write(src.read())
        files.append((f"{guest_dir}/{name}", host))
    return files


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vessel", required=True)
    parser.add_argument("--guest-dir", required=True)
    parser.add_argument("--firmware", choices=["builtin", "jump"], default="builtin")
    parser.add_argument("--engine", choices=["jit", "interp"], default="jit")
    parser.add_argument("--without-h", action="store_true")
    parser.add_argument("--client", action="store_true")
    parser.add_argument("--timeout", type=int, default=120)
    args = parser.parse_args()

    deb, version = kernel_package(args.guest_dir)
    with tempfile.TemporaryDirectory(prefix="kvm-test-") as work:
        files = extract_modules(deb, version, work)
        script = os.path.join(work, "kvm-check")
        with open(script, "w") as f:
            f.write(CHECK_SCRIPT)
        if args.client:
            client = os.path.join(work, "kvm_mmio")
            gl.build_static(os.path.join(REPO, "tests", "e2e", "guest", "kvm_mmio.c"), client)
            files.append(("/kvm/kvm_mmio", client))
        initrd = gl.extended_initrd(os.path.join(args.guest_dir, "initrd.cpio.gz"),
                                    os.path.join(work, "initrd-kvm.cpio.gz"),
                                    files + [("/kvm-check", script)])
        firmware = "builtin" if args.firmware == "builtin" else \
            os.path.join(args.guest_dir, "fw_jump.bin")
        argv = [args.vessel, "run", "--firmware", firmware,
                "--kernel", os.path.join(args.guest_dir, "Image"), "--initrd", initrd,
                "--append", "console=ttyS0 vessel.run=/kvm-check", "--memory", "512M",
                "--engine", args.engine, "--timeout", str(args.timeout)]
        if args.without_h:
            argv += ["--cpu-features", "-h"]
        run = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             timeout=args.timeout + 30)
    out = run.stdout + run.stderr
    where = f"{' '.join(argv)}\n--- output (tail) ---\n{out[-3000:]}"
    if run.returncode != 0:
        fail(f"vessel exited with status {run.returncode}\n{where}")
    if "kvm-check: insmod kvm status" not in out:
        fail(f"the check script did not run\n{where}")
    if args.without_h:
        if "hypervisor extension not available" not in out or "kvm-check: no /dev/kvm" not in out:
            fail(f"without H, kvm.ko should report the extension missing and make no /dev/kvm\n{where}")
    else:
        for want in ("kvm-check: insmod kvm status 0", "hypervisor extension available",
                     "G-stage page table format", "kvm-check: /dev/kvm present"):
            if want not in out:
                fail(f"missing '{want}'\n{where}")
        if args.client and "kvm_mmio: ok" not in out:
            fail(f"the KVM client saw no MMIO exit at its address\n{where}")
    print(f"PASS kvm.ko on {args.firmware} firmware, {args.engine}"
          f"{' without H' if args.without_h else ''}{', a VM ran to its MMIO exit' if args.client else ''}")


if __name__ == "__main__":
    main()
