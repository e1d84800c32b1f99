#!/usr/bin/env bash
# Quick start: installs dependencies, builds Vessel (Release, build/), builds
# the Debian reference guest and boots it on the terminal.
# Leave the guest with `poweroff -f` (or the shell's exit).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

step "Dependencies"
scripts/deps.sh
step "Configuring and building Vessel (Release, build/)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j2
step "Reference guest (guests/cache/debian)"
guests/debian/build.sh
guest=guests/cache/debian
step "Booting Debian on Vessel (2 harts, builtin SBI)"
exec build/vessel run --cpus 2 --kernel "$guest/Image" \
	--initrd "$guest/initrd.cpio.gz" --append "console=ttyS0" --memory 512M
