#!/usr/bin/env bash
# Fetches Debian 13 (trixie) riscv64 packages and builds Vessel's reference
# guest into guests/cache/debian/: Image, initrd.cpio.gz, fw_jump.bin,
# fw_dynamic.bin. Packages are fetched once with a private apt configuration
# (guests/cache/apt/); later runs print "up to date".
#
# Usage: guests/debian/build.sh [--refresh] [--force] [--disk] [--full] [--efi]
#   --refresh  re-read trixie's package lists and fetch newer packages
#   --force    rebuild the outputs even if they look up to date
#   --disk     also build rootfs.ext4 (busybox root file system for
#              root=/dev/vda) and initrd-modules.cpio.gz (loads the modules
#              and switches to that disk)
#   --full     also (with --disk's outputs) build full.ext4, a whole Debian
#              13 system with systemd and ssh for root=/dev/vda, and the key
#              pair vessel_ed25519 of its user `vessel` (guests/debian/full.sh;
#              root, mmdebstrap and qemu-user-static; a few minutes)
#   --efi      also build efi.img, a GPT disk with an EFI system partition
#              holding GRUB and a /boot partition holding the kernel, initrd
#              and grub.cfg, extlinux.img (the same booted by U-Boot's
#              extlinux.conf), and copy the host's U-Boot (qemu-riscv64_smode)
#              to u-boot.bin: the distribution boot chain (guests/debian/efi.sh)
# Environment: VESSEL_DEBIAN_MIRROR overrides the mirror URI taken from the
# host's apt sources.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache="$repo/guests/cache"
out="$cache/debian"
aptdir="$cache/apt"
debs="$aptdir/debs"

suite=trixie
arch=riscv64
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
host_fw_dir=/usr/lib/riscv64-linux-gnu/opensbi/generic
# The drivers the next stages of the emulator need; their dependencies come
# along through modinfo.
wanted_modules=(virtio_mmio virtio_blk virtio_net virtio_rng virtio_balloon
	vmw_vsock_virtio_transport)
# Disks with a file system (a root on /dev/vda, or a data disk the initramfs
# guest mounts) also need ext4, a module in Debian's kernel.
# ext4 and jbd2 name crc32c only as a soft dependency (an alias, which
# modinfo's depends does not list), so its provider is named here.
disk_modules=(ext4 crc32c_generic)
disk_size=64M

refresh=0
force=0
disk=0
full=0
efi=0
for arg in "$@"; do
	case "$arg" in
	--refresh) refresh=1 ;;
	--force) force=1 ;;
	--disk) disk=1 ;;
	--full) full=1 disk=1 ;;
	--efi) efi=1 ;;
	-h | --help)
		sed -n '2,24s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	*)
		echo "build.sh: unknown argument '$arg' (try --help)" >&2
		exit 2
		;;
	esac
done

step() { printf '==> %s\n' "$*"; }
die() {
	printf 'build.sh: %s\n' "$*" >&2
	exit 1
}

# e2fsprogs and depmod live in /sbin, which a user's PATH may lack.
PATH=$PATH:/usr/sbin:/sbin
tools=(apt-get apt-cache dpkg-deb python3 depmod modinfo xz sha256sum)
((disk)) && tools+=(mkfs.ext4 debugfs e2fsck)
((full)) && tools+=(mmdebstrap ssh-keygen)
for tool in "${tools[@]}"; do
	command -v "$tool" >/dev/null || die "$tool is missing (run scripts/deps.sh)"
done
[[ -r $keyring ]] || die "$keyring is missing (install debian-archive-keyring)"
for fw in fw_jump.bin fw_dynamic.bin; do
	[[ -r $host_fw_dir/$fw ]] || die "$host_fw_dir/$fw is missing (install opensbi)"
done

# Everything that decides the outputs, so an edit to the recipe rebuilds.
inputs_digest() {
	{
		sha256sum "$here/build.sh" "$here/guesttool.py" "$here/init" "$here/init-modules" \
			"$host_fw_dir/fw_jump.bin" "$host_fw_dir/fw_dynamic.bin" | cut -d' ' -f1
		cat "$aptdir/packages.txt" 2>/dev/null || true
	} | sha256sum | cut -d' ' -f1
}

outputs=(Image initrd.cpio.gz fw_jump.bin fw_dynamic.bin)
# Built with --disk only, and stamped apart (.stamp-disk), so that a build
# without --disk neither needs nor invalidates them.
disk_outputs=(rootfs.ext4 initrd-modules.cpio.gz)
# Built with --full only, stamped in .stamp-full with the digest of its own
# recipe too; the key pair is kept across rebuilds.
full_outputs=(full.ext4 vessel_ed25519 vessel_ed25519.pub)
full_digest() {
	{
		inputs_digest
		sha256sum "$here/full.sh" "$here/full-customize.sh" | cut -d' ' -f1
		debian_mirror
	} | sha256sum | cut -d' ' -f1
}
# fresh STAMP FILE...: the files exist and STAMP holds the current digest.
fresh() {
	local stamp=$1 f
	shift
	for f in "$@"; do [[ -s $out/$f ]] || return 1; done
	[[ -f $out/$stamp && $(cat "$out/$stamp") == "$(inputs_digest)" ]]
}
full_fresh() {
	local f
	for f in "${full_outputs[@]}"; do [[ -s $out/$f ]] || return 1; done
	[[ -f $out/.stamp-full && $(cat "$out/.stamp-full") == "$(full_digest)" ]]
}
up_to_date() {
	fresh .stamp "${outputs[@]}" && { ((!disk)) || fresh .stamp-disk "${disk_outputs[@]}"; } &&
		{ ((!full)) || full_fresh; }
}

# --- private apt (guests/debian/apt.sh) ------------------------------------

# shellcheck source=apt.sh
source "$here/apt.sh"

# efi.sh keeps its own stamp (.stamp-efi) over its inputs, the kernel and initrd among them.
build_efi() {
	if ((efi)); then
		step "Building the EFI boot disk (guests/debian/efi.sh)"
		local -a opts=()
		((refresh)) && opts+=(--refresh)
		"$here/efi.sh" "$out" "${opts[@]}" || die "efi.sh failed"
	fi
}

if ((!force && !refresh)) && up_to_date; then
	echo "guests/cache/debian: up to date"
	build_efi
	exit 0
fi

have_cached_debs() {
	local f
	[[ -s $aptdir/packages.txt ]] || return 1
	while read -r f; do [[ -s $debs/$f ]] || return 1; done <"$aptdir/packages.txt"
}

if ((refresh)) || ! have_cached_debs; then
	step "Setting up private apt for Debian $suite/$arch in guests/cache/apt"
	apt_setup
	mkdir -p "$debs"
	step "Fetching the $suite package lists"
	run_apt apt-get update || die "apt-get update failed for $suite/$arch (see above; a NO_PUBKEY error means $keyring is too old)"
	step "Resolving linux-image-$arch"
	kernel_pkg=$(run_apt apt-cache depends linux-image-$arch |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-'"$arch"'$/ { print $2; exit }')
	[[ -n $kernel_pkg ]] || die "linux-image-$arch depends on no versioned linux-image package"
	[[ $kernel_pkg == linux-image-6.12* ]] || echo "    warning: expected a 6.12 kernel, got $kernel_pkg"
	echo "    linux-image-$arch -> $kernel_pkg"
	step "Downloading $kernel_pkg and busybox-static"
	rm -f "$debs"/*.deb.partial
	(cd "$debs" && run_apt apt-get download "$kernel_pkg" busybox-static) ||
		die "apt-get download failed"
	newest() { find "$debs" -maxdepth 1 -name "$1_*.deb" -printf '%T@ %f\n' | sort -rn | head -n1 | cut -d' ' -f2; }
	kernel_deb=$(newest "$kernel_pkg")
	busybox_deb=$(newest busybox-static)
	[[ -n $kernel_deb && -n $busybox_deb ]] || die "apt-get download left no .deb files in $debs"
	# Older downloads are dropped so the cache holds one version of each.
	for f in "$debs"/*.deb; do
		b=$(basename "$f")
		[[ $b == "$kernel_deb" || $b == "$busybox_deb" ]] || rm -f "$f"
	done
	printf '%s\n' "$kernel_deb" "$busybox_deb" >"$aptdir/packages.txt"
	if ((!force)) && up_to_date; then
		echo "guests/cache/debian: up to date (no newer packages)"
		build_efi
		exit 0
	fi
else
	step "Using cached packages in guests/cache/apt/debs"
fi
mapfile -t pkgs <"$aptdir/packages.txt"
kernel_deb=${pkgs[0]}
busybox_deb=${pkgs[1]}

# --- build ------------------------------------------------------------------

work="$out/.work"
rm -rf "$work"
mkdir -p "$work/pkg" "$work/root"
trap 'rm -rf "$work"' EXIT

step "Unpacking $kernel_deb"
dpkg-deb -x "$debs/$kernel_deb" "$work/pkg"
step "Unpacking $busybox_deb"
dpkg-deb -x "$debs/$busybox_deb" "$work/pkg"

moddir=''
for d in "$work/pkg/usr/lib/modules" "$work/pkg/lib/modules"; do
	[[ -d $d ]] && moddir=$(find "$d" -mindepth 1 -maxdepth 1 -type d | head -n1) && break
done
[[ -n $moddir ]] || die "$kernel_deb holds no modules directory"
kver=$(basename "$moddir")
kernel=$(find "$work/pkg/boot" -maxdepth 1 -type f \( -name "vmlinux-$kver" -o -name "vmlinuz-$kver" \) | head -n1)
[[ -n $kernel ]] || die "$kernel_deb holds no /boot/vmlinu[xz]-$kver"

step "Writing Image from $(basename "$kernel") (kernel $kver)"
mkdir -p "$out"
python3 "$here/guesttool.py" image "$kernel" "$out/Image"
cp "$work/pkg/boot/config-$kver" "$out/config-$kver"

busybox_bin=$(find "$work/pkg" -path '*bin/busybox' -type f | head -n1)
[[ -n $busybox_bin ]] || die "$busybox_deb holds no busybox binary"
mapfile -t applets < <(python3 "$here/guesttool.py" applets "$busybox_bin")

# busybox_tree DIR: the skeleton every tree shares: busybox with a symlink
# per applet in /bin (/sbin, /usr/bin, /usr/sbin link there), root's
# passwd/group and the mount points.
busybox_tree() {
	local dir=$1 applet
	mkdir -p "$dir"/{bin,dev,proc,sys,tmp,root,etc,usr,lib/modules}
	ln -s bin "$dir/sbin"
	ln -s ../bin "$dir/usr/bin"
	ln -s ../bin "$dir/usr/sbin"
	install -m 0755 "$busybox_bin" "$dir/bin/busybox"
	for applet in "${applets[@]}"; do
		[[ $applet == busybox || -e $dir/bin/$applet ]] || ln -s busybox "$dir/bin/$applet"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$dir/etc/passwd"
	printf 'root:x:0:\n' >"$dir/etc/group"
}

# The package has no modules.dep (depmod runs at install time), so names
# are matched to files here; a module's name spells '-' as '_'.
declare -A module_file=()
while IFS= read -r -d '' file; do
	name=$(basename "$file")
	name=${name%%.ko*}
	module_file[${name//-/_}]=$file
done < <(find "$moddir" -name '*.ko*' -print0)

# install_modules DIR NAME...: the named modules and their dependencies into
# DIR/lib/modules/<version>, with a modules.dep by the host's depmod.
install_modules() {
	local dir=$1 name file rel f
	shift
	local -A seen=()
	local -a modules=() queue=("$@") more
	while ((${#queue[@]})); do
		name=${queue[0]//-/_}
		queue=("${queue[@]:1}")
		[[ -n ${seen[$name]:-} ]] && continue
		seen[$name]=1
		file=${module_file[$name]:-}
		if [[ -z $file ]]; then
			if grep -qE "/${name//_/[_-]}\.ko" "$moddir/modules.builtin"; then
				echo "    $name: built in"
				continue
			fi
			die "kernel module $name not found in $kernel_deb"
		fi
		modules+=("$file")
		IFS=, read -r -a more <<<"$(modinfo -F depends "$file")"
		queue+=("${more[@]}")
	done
	local destmod="$dir/lib/modules/$kver"
	mkdir -p "$destmod"
	for file in "${modules[@]}"; do
		rel=${file#"$moddir"/}
		mkdir -p "$destmod/$(dirname "$rel")"
		# Decompressed here so neither busybox's modprobe nor the kernel's
		# in-kernel decompression has to be relied on.
		case "$file" in
		*.ko.xz) xz -dc "$file" >"$destmod/${rel%.xz}" ;;
		*.ko.zst) zstd -qdc "$file" >"$destmod/${rel%.zst}" ;;
		*.ko.gz) gzip -dc "$file" >"$destmod/${rel%.gz}" ;;
		*) cp "$file" "$destmod/$rel" ;;
		esac
		echo "    ${rel%.*}"
	done
	for f in modules.builtin modules.builtin.modinfo modules.order; do
		[[ -f $moddir/$f ]] && cp "$moddir/$f" "$destmod/"
	done
	depmod -b "$dir" "$kver"
	[[ -s $destmod/modules.dep ]] || die "depmod wrote no modules.dep in $dir"
}

step "Assembling the initramfs tree"
root="$work/root"
busybox_tree "$root"
echo "    busybox: ${#applets[@]} applets linked in /bin"
install -m 0755 "$here/init" "$root/init"

step "Selecting kernel modules: ${wanted_modules[*]} ${disk_modules[*]} and their dependencies"
install_modules "$root" "${wanted_modules[@]}" "${disk_modules[@]}"

step "Packing initrd.cpio.gz"
python3 "$here/guesttool.py" pack "$root" "$out/initrd.cpio.gz"

if ((disk)); then
	step "Assembling initrd-modules: ${wanted_modules[*]} ${disk_modules[*]}, /init from init-modules"
	modroot="$work/modroot"
	busybox_tree "$modroot"
	install -m 0755 "$here/init-modules" "$modroot/init"
	mkdir -p "$modroot/newroot"
	install_modules "$modroot" "${wanted_modules[@]}" "${disk_modules[@]}"
	step "Packing initrd-modules.cpio.gz"
	python3 "$here/guesttool.py" pack "$modroot" "$out/initrd-modules.cpio.gz"

	step "Assembling the disk's root tree (/sbin/init from init)"
	diskroot="$work/disk"
	busybox_tree "$diskroot"
	# /sbin is /bin here, so the script takes the place of busybox's init applet.
	rm -f "$diskroot/bin/init"
	install -m 0755 "$here/init" "$diskroot/sbin/init"
	mkdir -p "$diskroot/mnt"
	install_modules "$diskroot" "${wanted_modules[@]}" "${disk_modules[@]}"

	step "Making rootfs.ext4 ($disk_size, ext4, label vessel-root)"
	img="$out/rootfs.ext4.tmp"
	rm -f "$img"
	# -d copies the tree in without mounting anything; -E root_owner makes /
	# root's even when a user builds. Files keep the builder's uid (root in CI).
	mkfs.ext4 -q -F -L vessel-root -E root_owner=0:0 -d "$diskroot" "$img" "$disk_size" >/dev/null ||
		die "mkfs.ext4 failed"
	# The kernel opens /dev/console before init can mount devtmpfs
	# (DEVTMPFS_MOUNT is off in Debian's kernel); debugfs adds the node as
	# mknod would, without root.
	printf 'cd /dev\nmknod console c 5 1\nsif console mode 020600\n' |
		debugfs -w -f - "$img" >/dev/null 2>&1 ||
		die "debugfs could not add /dev/console to rootfs.ext4"
	fsck_log=$(e2fsck -fn "$img" 2>&1) || die "e2fsck found errors in the new rootfs.ext4: $fsck_log"
	mv "$img" "$out/rootfs.ext4"
	echo "    rootfs.ext4: $(du -k --apparent-size "$out/rootfs.ext4" | cut -f1) KiB," \
		"$(du -k "$out/rootfs.ext4" | cut -f1) KiB allocated"
fi

step "Copying the host's OpenSBI firmware ($host_fw_dir)"
cp "$host_fw_dir/fw_jump.bin" "$host_fw_dir/fw_dynamic.bin" "$out/"

printf '%s\n' "$kver" >"$out/kernel-version"
inputs_digest >"$out/.stamp"
((disk)) && outputs+=("${disk_outputs[@]}") && inputs_digest >"$out/.stamp-disk"

if ((full)); then
	if ((force)) || ! full_fresh; then
		step "Building the full Debian system (guests/debian/full.sh)"
		rm -f "$out/.stamp-full"
		"$here/full.sh" "$(debian_mirror)" "$debs/$kernel_deb" "$kver" "$out" ||
			die "full.sh failed"
		full_digest >"$out/.stamp-full"
	else
		echo "    full.ext4: up to date"
	fi
	outputs+=("${full_outputs[@]}")
fi
build_efi
((efi)) && outputs+=(efi.img extlinux.img u-boot.bin)
step "Done: guests/cache/debian/{$(
	IFS=,
	echo "${outputs[*]}"
)} (kernel $kver)"
