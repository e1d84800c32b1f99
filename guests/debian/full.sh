#!/usr/bin/env bash
# Builds guests/cache/debian/full.ext4: a whole Debian 13 (trixie) riscv64
# system (systemd, udev, openssh-server, apt, iproute2, ca-certificates, and
# qemu-system-riscv to run KVM guests on Vessel's H extension) for
# root=/dev/vda, booted with Debian's kernel (Image) and initrd-modules.cpio.gz.
# Called by `build.sh --full`, which passes what it already knows:
#
#   full.sh MIRROR KERNEL_DEB KERNEL_VERSION OUT_DIR
#
# mmdebstrap installs the packages on the host, running their maintainer
# scripts through qemu-user-static (binfmt_misc); the kernel's modules are
# copied in from KERNEL_DEB. The user `vessel` (password `vessel`) accepts the
# key OUT_DIR/vessel_ed25519, made once by ssh-keygen and kept across rebuilds.
# The guest's apt reads MIRROR, the host's own mirror; no host name is written
# here. Needs root (mmdebstrap's root mode; mkfs.ext4 -d keeps owners).
set -euo pipefail

[[ $# -eq 4 ]] || {
	echo "usage: full.sh MIRROR KERNEL_DEB KERNEL_VERSION OUT_DIR" >&2
	exit 2
}
mirror=$1 kernel_deb=$2 kver=$3 out=$4
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
suite=trixie
arch=riscv64
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
image_size=2G
user=vessel
# Beyond the minbase variant (dpkg, apt and the Priority: required set).
packages=(
	systemd-sysv udev systemd-resolved dbus libpam-systemd kmod
	openssh-server sudo iproute2 ca-certificates netbase
	qemu-system-riscv
)

step() { printf '==> %s\n' "$*"; }
die() {
	printf 'full.sh: %s\n' "$*" >&2
	exit 1
}

PATH=$PATH:/usr/sbin:/sbin
for tool in mmdebstrap mkfs.ext4 e2fsck depmod ssh-keygen dpkg-deb; do
	command -v "$tool" >/dev/null || die "$tool is missing (run scripts/deps.sh)"
done
((EUID == 0)) || die "the full system is built as root (mmdebstrap --mode=root, file owners kept)"
# qemu-user-static registers its interpreters with binfmt_misc, which must be mounted.
binfmt=/proc/sys/fs/binfmt_misc
if [[ ! -e $binfmt/status ]]; then
	mount -t binfmt_misc binfmt_misc "$binfmt" || die "cannot mount $binfmt"
fi
# Registered by qemu-user-static's postinst only where binfmt_misc was mounted then.
if [[ ! -e $binfmt/qemu-riscv64 ]] && command -v update-binfmts >/dev/null; then
	update-binfmts --enable qemu-riscv64 >/dev/null 2>&1 || true
fi
[[ -e $binfmt/qemu-riscv64 ]] || die "no qemu-riscv64 in $binfmt (install qemu-user-static and binfmt-support)"

key="$out/vessel_ed25519"
if [[ ! -s $key ]]; then
	step "Generating the guest user's ssh key pair ($key)"
	ssh-keygen -q -t ed25519 -N '' -C "vessel@full" -f "$key"
fi

work="$out/.work-full"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
root="$work/root"

# The host's apt proxy, if any, is the one mmdebstrap's apt uses too.
aptopts=()
http_proxy_conf='' https_proxy_conf=''
eval "$(apt-config shell http_proxy_conf Acquire::http::Proxy https_proxy_conf Acquire::https::Proxy)"
[[ -n $http_proxy_conf ]] && aptopts+=(--aptopt="Acquire::http::Proxy \"$http_proxy_conf\"")
[[ -n $https_proxy_conf ]] && aptopts+=(--aptopt="Acquire::https::Proxy \"$https_proxy_conf\"")

step "mmdebstrap: Debian $suite/$arch, minbase + ${packages[*]} (maintainer scripts under qemu-user)"
started=$SECONDS
# Manual pages and translations are left out: the image is for booting, and
# each file left out is one less for mkfs and for the guest's dpkg.
mmdebstrap --mode=root --arch="$arch" --variant=minbase --format=directory \
	--include="$(
		IFS=,
		echo "${packages[*]}"
	)" \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-include=/usr/share/locale/locale.alias' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	"${aptopts[@]}" \
	--customize-hook="\"$here/full-customize.sh\" \"\$1\" '$mirror' '$suite' '$user' '$key.pub'" \
	"$suite" "$root" "deb [signed-by=$keyring] $mirror $suite main" ||
	die "mmdebstrap failed (see above)"
echo "    mmdebstrap took $((SECONDS - started)) s"

step "Copying kernel $kver's modules from $(basename "$kernel_deb")"
dpkg-deb -x "$kernel_deb" "$work/kernel"
src=''
for d in "$work/kernel/usr/lib/modules/$kver" "$work/kernel/lib/modules/$kver"; do
	[[ -d $d ]] && src=$d && break
done
[[ -n $src ]] || die "$(basename "$kernel_deb") holds no modules for $kver"
mkdir -p "$root/usr/lib/modules"
cp -a "$src" "$root/usr/lib/modules/"
# /lib is trixie's link to usr/lib, so depmod's /lib/modules lands there.
depmod -b "$root" "$kver"
[[ -s $root/usr/lib/modules/$kver/modules.dep ]] ||
	die "depmod wrote no modules.dep for $kver"

step "Making full.ext4 ($image_size sparse, ext4, label vessel-full)"
img="$out/full.ext4.tmp"
rm -f "$img"
mkfs.ext4 -q -F -L vessel-full -d "$root" "$img" "$image_size" >/dev/null || die "mkfs.ext4 failed"
fsck_log=$(e2fsck -fn "$img" 2>&1) || die "e2fsck found errors in the new full.ext4: $fsck_log"
mv "$img" "$out/full.ext4"
echo "    full.ext4: $(du -k "$out/full.ext4" | cut -f1) KiB allocated; login $user/$user or ssh -i $key"
