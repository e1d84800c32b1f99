#!/usr/bin/env bash
# Installs the Debian packages Vessel's build, tests and reference guest need, then the web
# console's npm packages (scripts/webui.sh deps). A machine that has them all does no apt work
# and no npm work at all.
set -euo pipefail

packages=(
	# build and unit tests
	build-essential cmake ninja-build pkg-config g++
	libfdt-dev device-tree-compiler libfmt-dev libcli11-dev nlohmann-json3-dev
	libgtest-dev libgmock-dev libbenchmark-dev zlib1g-dev
	# the translator's x86-64 emitter (header-only)
	libxbyak-dev
	# the HTTP/JSON API (src/api/http): Boost.Beast and Asio, header-only
	libboost-dev
	# host backends of the virtio devices: io_uring for disks, libslirp for user networking
	liburing-dev libslirp-dev
	# NBD disks (libnbd), and the servers their tests use: nbdkit, qemu-nbd and qemu-img
	libnbd-dev nbdkit qemu-utils
	# the per-thread seccomp filters of a VM process (src/vmm/seccomp.cpp)
	libseccomp-dev
	# packaging/: the man page from the CLI's help, the .deb's dependencies, its install test
	help2man dpkg-dev mmdebstrap
	# riscv64 test programs; the C library for bench/'s static guest programs
	gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu libc6-dev-riscv64-cross
	# the static riscv64 vessel (scripts/riscv64-build.sh) that --accel kvm runs in a guest
	g++-riscv64-linux-gnu
	# reference guest (guests/debian/build.sh): firmware, packing, module deps
	opensbi cpio xz-utils zstd gzip kmod debian-archive-keyring
	# its disk image (build.sh --disk): mkfs.ext4 -d, debugfs, e2fsck
	e2fsprogs
	# the full Debian system (build.sh --full): mmdebstrap runs riscv64 maintainer scripts
	# through qemu-user (binfmt_misc); ssh-keygen for its user's key, ssh for its e2e test
	mmdebstrap arch-test qemu-user-static binfmt-support openssh-client
	# the EFI boot disk (build.sh --efi): U-Boot for S-mode, grub-mkimage, a GPT by sfdisk,
	# the FAT system partition by mkfs.vfat and mtools (no loop mounts)
	u-boot-qemu grub-common fdisk dosfstools mtools
	# e2e tests and bench/boot.py; QEMU is the reference they compare against
	python3 qemu-system-misc
	# the GDB stub's e2e test (tests/e2e/gdb_test.py)
	gdb-multiarch
	# style check (tests/style)
	clang-format git
	# libFuzzer runs in test.sh (clang's -fsanitize=fuzzer runtime)
	clang libclang-rt-14-dev
	# the web console's npm packages (xterm.js, playwright-core) and its browser test
	nodejs chromium
)

missing=()
for pkg in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
	[[ $status == ii* ]] || missing+=("$pkg")
done

# Debian's nodejs comes without npm (its own package); NodeSource's includes it and conflicts
# with Debian's, so npm is asked for only where the command is missing.
if ! command -v npm >/dev/null; then
	missing+=(npm)
fi

if ((${#missing[@]} == 0)); then
	echo "deps: all ${#packages[@]} packages present"
else
	if ((EUID == 0)); then
		as_root=()
	elif command -v sudo >/dev/null; then
		as_root=(sudo)
	else
		echo "deps: missing ${missing[*]}, and not root and no sudo to install them" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	"${as_root[@]}" apt-get update
	"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends "${missing[@]}"
fi

"$(dirname "${BASH_SOURCE[0]}")/webui.sh" deps
