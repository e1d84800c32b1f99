#!/usr/bin/env bash
# Builds the static riscv64 `vessel` (cmake/riscv64-linux-gnu.cmake) into build-riscv64/: the
# sysroot first (scripts/riscv64-sysroot.sh), then the cross build. Does little when both are
# up to date. Prints the binary's path last. What e2e_kvm_nested runs in a guest is `vessel
# run`: the build leaves out the per-VM API, vessel daemon and the commands that use them
# (VESSEL_API=OFF), about half of the compiler's time.
#
# Usage: scripts/riscv64-build.sh [BUILD_DIR]
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$repo/build-riscv64}
command -v riscv64-linux-gnu-g++ >/dev/null ||
	{ echo "riscv64-build.sh: riscv64-linux-gnu-g++ is missing (scripts/deps.sh installs g++-riscv64-linux-gnu)" >&2; exit 1; }
"$repo/scripts/riscv64-sysroot.sh" >&2
# A unity build (VESSEL_UNITY_BUILD), as scripts/test.sh's: CI makes this one from clean too.
if [[ ! -f $build/build.ninja ]] || ! grep -qx 'VESSEL_API:BOOL=OFF' "$build/CMakeCache.txt" ||
	! grep -qx 'VESSEL_UNITY_BUILD:BOOL=ON' "$build/CMakeCache.txt"; then
	launcher=()
	command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
	cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" \
		-DCMAKE_TOOLCHAIN_FILE="$repo/cmake/riscv64-linux-gnu.cmake" -DVESSEL_API=OFF \
		-DVESSEL_UNITY_BUILD=ON >&2
fi
ninja -C "$build" -j"${VESSEL_BUILD_JOBS:-2}" vessel >&2
echo "$build/vessel"
