#!/usr/bin/env bash
# Fetches the Debian 13 (trixie) riscv64 development packages the riscv64 build of Vessel
# links against and unpacks them into a sysroot (cmake/riscv64-linux-gnu.cmake uses it). The
# packages come through the same private apt configuration as the reference guest's
# (guests/debian/apt.sh: the host's mirror, its own lists and cache), never the host's apt state.
#
# Usage: scripts/riscv64-sysroot.sh [DIR]   (default: build-riscv64-sysroot in the repo)
# Environment: VESSEL_DEBIAN_MIRROR overrides the mirror URI taken from the host's apt sources.
#
# Only the headers and static libraries of the libraries are used; the C and C++ runtimes are
# the cross toolchain's (g++-riscv64-linux-gnu), so the binary links statically against them.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
sysroot=${1:-$repo/build-riscv64-sysroot}
aptdir="$sysroot.apt"
debs="$aptdir/debs"
suite=trixie
arch=riscv64
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

die() {
	printf 'riscv64-sysroot.sh: %s\n' "$*" >&2
	exit 1
}
for tool in apt-get apt-cache dpkg-deb; do
	command -v "$tool" >/dev/null || die "$tool is missing"
done
[[ -r $keyring ]] || die "$keyring is missing (install debian-archive-keyring)"

# What the riscv64 build needs (cmake/riscv64-linux-gnu.cmake says which features are off):
# header-only libraries, and the static archives of the C ones. libboost-dev is a metapackage
# whose versioned dependency holds the headers; it is resolved below.
# linux-libc-dev: the kernel's headers of Debian 13, which liburing's need (linux/blkdev.h).
packages=(libfdt-dev libfmt-dev libcli11-dev nlohmann-json3-dev zlib1g-dev libseccomp-dev
	liburing-dev linux-libc-dev)

# shellcheck source=guests/debian/apt.sh
source "$repo/guests/debian/apt.sh"

if [[ -f $sysroot/.stamp && $(cat "$sysroot/.stamp") == "${packages[*]}" ]]; then
	echo "$sysroot: up to date"
	exit 0
fi

apt_setup
run_apt apt-get update || die "apt-get update failed for $suite/$arch"
boost=$(run_apt apt-cache depends libboost-dev |
	awk '$1 == "Depends:" && $2 ~ /^libboost[0-9.]+-dev$/ { print $2; exit }')
[[ -n $boost ]] || die "libboost-dev depends on no versioned libboost package"
rm -rf "$debs" "$sysroot"
mkdir -p "$debs" "$sysroot"
(cd "$debs" && run_apt apt-get download "${packages[@]}" "$boost") || die "apt-get download failed"
for deb in "$debs"/*.deb; do
	dpkg-deb -x "$deb" "$sysroot"
done
printf '%s\n' "${packages[*]}" >"$sysroot/.stamp"
echo "riscv64 sysroot: $sysroot ($(find "$debs" -name '*.deb' | wc -l) packages)"
