#!/usr/bin/env bash
# Builds guests/cache/debian/efi.img, a disk as distribution images lay it out, for the boot
# chain OpenSBI (or Vessel's builtin SBI) -> U-Boot in S-mode -> GRUB (EFI) -> Linux:
#
#   GPT (fixed disk and partition GUIDs)
#     1  EFI system partition, FAT, label VESSEL-ESP:  /EFI/BOOT/BOOTRISCV64.EFI (GRUB)
#     2  Linux file system, ext4, label vessel-boot:   /vmlinuz /initrd.img /grub/grub.cfg
#
# U-Boot's distro boot finds the removable-media path EFI/BOOT/BOOTRISCV64.EFI on the ESP
# and starts GRUB; GRUB's embedded configuration finds the boot partition by its file system
# UUID and reads grub/grub.cfg there, which loads Debian's kernel (Image) and the busybox
# initramfs (initrd.cpio.gz) from that partition with the command line in KERNEL_CMDLINE.
# Also extlinux.img: the boot partition alone, marked bootable, with extlinux/extlinux.conf,
# which U-Boot's distro boot reads itself (no GRUB, no EFI) to load the same kernel
# and initrd with booti (marker vessel.boot=extlinux). And copies the host's U-Boot (package
# u-boot-qemu) to u-boot.bin beside them.
#
# GRUB's riscv64-efi modules come from Debian 13's grub-efi-riscv64-bin, fetched through the
# private apt configuration of build.sh (apt.sh); the host's grub-mkimage (grub-common) links
# them into one EFI binary. Called by `build.sh --efi` after the reference guest is built:
#
#   efi.sh OUT_DIR [--refresh]   (OUT_DIR holds Image and initrd.cpio.gz; the disks are
#                                 written there; --refresh fetches GRUB's package again)
#
# Reproducible: the same inputs give the same bytes (SOURCE_DATE_EPOCH, fixed UUIDs, seeds).
set -euo pipefail

[[ $# -eq 1 || ($# -eq 2 && $2 == --refresh) ]] || {
	echo "usage: efi.sh OUT_DIR [--refresh]" >&2
	exit 2
}
out=$1
refresh=$(($# == 2))
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
aptdir="$repo/guests/cache/apt"
# Kept apart from build.sh's debs/, which its --refresh prunes to the kernel and busybox.
efi_debs="$aptdir/efi-debs"
suite=trixie
arch=riscv64
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
uboot=/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin
grub_pkg=grub-efi-riscv64-bin

# The marker vessel.boot=efi-grub lets a test tell this command line from one Vessel gave.
KERNEL_CMDLINE=${KERNEL_CMDLINE:-console=ttyS0 vessel.boot=efi-grub}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1735689600} # 2025-01-01 00:00 UTC
# The disk's layout in 512-byte sectors: 1 MiB before the ESP, 1 MiB after the boot
# partition for the backup GPT, everything MiB-aligned.
disk_sectors=196608 # 96 MiB
esp_start=2048 esp_sectors=32768 # 16 MiB
boot_start=$((esp_start + esp_sectors))
boot_sectors=$((disk_sectors - boot_start - 2048))
disk_guid=0B0E7E55-0000-4000-8000-000000000000
esp_guid=0B0E7E55-0000-4000-8000-000000000001
boot_guid=0B0E7E55-0000-4000-8000-000000000002
esp_serial=0b0e7e55
boot_uuid=0b0e7e55-e1e1-4b00-8000-000000000b00
# GRUB modules linked into BOOTRISCV64.EFI: the partition and file systems on the way to
# grub.cfg, the commands it and the embedded configuration use.
grub_modules=(part_gpt part_msdos fat ext2 search search_fs_uuid configfile normal echo linux test)

step() { printf '==> %s\n' "$*"; }
die() {
	printf 'efi.sh: %s\n' "$*" >&2
	exit 1
}

PATH=$PATH:/usr/sbin:/sbin
for tool in apt-get dpkg-deb grub-mkimage sfdisk mkfs.vfat mmd mcopy mkfs.ext4 debugfs e2fsck sha256sum; do
	command -v "$tool" >/dev/null || die "$tool is missing (run scripts/deps.sh)"
done
[[ -r $uboot ]] || die "$uboot is missing (install u-boot-qemu)"
for f in Image initrd.cpio.gz; do
	[[ -s $out/$f ]] || die "$out/$f is missing (run guests/debian/build.sh first)"
done

# shellcheck source=apt.sh
source "$here/apt.sh"

# --- GRUB's riscv64-efi modules ------------------------------------------------

mkdir -p "$efi_debs"
((refresh)) && rm -f "$efi_debs"/*.deb
grub_deb() { find "$efi_debs" -maxdepth 1 -name "${grub_pkg}_*.deb" -printf '%f\n' | sort | tail -n1; }
if [[ -z $(grub_deb) ]]; then
	step "Fetching $grub_pkg ($suite/$arch) through the private apt in guests/cache/apt"
	apt_setup
	if ! compgen -G "$aptdir/lists/*_Packages*" >/dev/null; then
		run_apt apt-get update || die "apt-get update failed for $suite/$arch"
	fi
	(cd "$efi_debs" && run_apt apt-get download "$grub_pkg") || die "apt-get download $grub_pkg failed"
fi
deb=$(grub_deb)
[[ -n $deb ]] || die "no $grub_pkg .deb in $efi_debs"

stamp="$out/.stamp-efi"
digest=$({
	sha256sum "$here/efi.sh" "$efi_debs/$deb" "$uboot" "$out/Image" "$out/initrd.cpio.gz" | cut -d' ' -f1
	grub-mkimage --version
	printf '%s\n' "$KERNEL_CMDLINE" "$SOURCE_DATE_EPOCH"
} | sha256sum | cut -d' ' -f1)
if [[ -s $out/efi.img && -s $out/extlinux.img && -s $out/u-boot.bin && -f $stamp && $(cat "$stamp") == "$digest" ]]; then
	echo "    efi.img: up to date"
	exit 0
fi

work="$out/.work-efi"
rm -rf "$work"
mkdir -p "$work/grub" "$work/boot/grub"
trap 'rm -rf "$work"' EXIT

step "Unpacking $deb"
dpkg-deb -x "$efi_debs/$deb" "$work/grub"
moddir="$work/grub/usr/lib/grub/riscv64-efi"
[[ -s $moddir/kernel.img ]] || die "$deb holds no riscv64-efi kernel.img"

# --- GRUB as an EFI application ----------------------------------------------

step "Linking BOOTRISCV64.EFI with $(grub-mkimage --version | head -n1): ${grub_modules[*]}"
# The embedded configuration runs before any file is read: find the boot partition, then
# hand over to its grub.cfg. A disk without it stops here with GRUB's own error.
cat >"$work/embedded.cfg" <<EOF
search --no-floppy --fs-uuid --set=root $boot_uuid
set prefix=(\$root)/grub
configfile (\$root)/grub/grub.cfg
EOF
grub-mkimage -O riscv64-efi -d "$moddir" -p /grub -c "$work/embedded.cfg" \
	-o "$work/BOOTRISCV64.EFI" "${grub_modules[@]}" || die "grub-mkimage failed"
echo "    BOOTRISCV64.EFI: $(stat -c %s "$work/BOOTRISCV64.EFI") bytes"

# --- the partitions ------------------------------------------------------------

step "Writing grub.cfg and extlinux.conf (kernel command line: $KERNEL_CMDLINE)"
cat >"$work/boot/grub/grub.cfg" <<EOF
set timeout=0
set default=0
menuentry 'Debian GNU/Linux (Vessel reference guest)' {
	echo 'Loading Linux from the boot partition ...'
	linux /vmlinuz $KERNEL_CMDLINE
	echo 'Loading initial ramdisk ...'
	initrd /initrd.img
}
EOF
cp "$out/Image" "$work/boot/vmlinuz"
cp "$out/initrd.cpio.gz" "$work/boot/initrd.img"
# extlinux.img's boot partition: the same files and an extlinux.conf for U-Boot's own loader
# (booti, with the device tree passed as it is), its marker on the command line.
cp -a "$work/boot" "$work/boot-extlinux"
mkdir -p "$work/boot-extlinux/extlinux"
cat >"$work/boot-extlinux/extlinux/extlinux.conf" <<EOF
default debian
timeout 0
label debian
	menu label Debian GNU/Linux (Vessel reference guest)
	linux /vmlinuz
	initrd /initrd.img
	append ${KERNEL_CMDLINE/vessel.boot=efi-grub/vessel.boot=extlinux}
EOF
# The files' times are what both file systems record.
find "$work/boot" "$work/boot-extlinux" "$work/BOOTRISCV64.EFI" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

step "Making the EFI system partition (FAT, $((esp_sectors / 2048)) MiB)"
esp="$work/esp.img"
truncate -s $((esp_sectors * 512)) "$esp"
mkfs.vfat --invariant -i "$esp_serial" -n VESSEL-ESP "$esp" >/dev/null || die "mkfs.vfat failed"
# mtools writes without mounting; -m keeps the files' times.
mmd -i "$esp" ::/EFI ::/EFI/BOOT
mcopy -m -i "$esp" "$work/BOOTRISCV64.EFI" ::/EFI/BOOT/BOOTRISCV64.EFI || die "mcopy failed"

# make_bootfs TREE IMAGE: the ext4 boot partition holding TREE.
make_bootfs() {
	local tree=$1 fs=$2 path field fsck_log
	# mkfs.ext4 -d copies the tree without mounting; E2FSPROGS_FAKE_TIME and the fixed UUID
	# and hash seed make its metadata the same on every run.
	E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mkfs.ext4 -q -F -L vessel-boot -U "$boot_uuid" \
		-E root_owner=0:0,hash_seed="$boot_uuid" -d "$tree" "$fs" "$((boot_sectors / 2))K" \
		>/dev/null || die "mkfs.ext4 failed"
	# -d takes each inode's change time from the copied file, which no touch can set: debugfs
	# pins it (and the creation time) to SOURCE_DATE_EPOCH.
	(cd "$tree" && find . -mindepth 1 -printf '/%P\n') | while read -r path; do
		for field in ctime crtime; do printf 'sif %s %s @%s\n' "$path" "$field" "$SOURCE_DATE_EPOCH"; done
	done | debugfs -w -f - "$fs" >/dev/null 2>&1 || die "debugfs could not set the times in $fs"
	fsck_log=$(e2fsck -fn "$fs" 2>&1) || die "e2fsck found errors in $fs: $fsck_log"
}

# make_disk NAME BOOTFS esp|extlinux: OUT/NAME, a GPT with the ESP and the boot partition
# BOOTFS (esp), or with BOOTFS alone, marked bootable, in the same place (extlinux).
make_disk() {
	local name=$1 fs=$2 kind=$3
	local img="$work/$name" esp_line boot_attrs=''
	esp_line="start=$esp_start, size=$esp_sectors, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=$esp_guid, name=\"EFI system partition\""
	if [[ $kind == extlinux ]]; then
		# U-Boot's distro boot counts an ESP as bootable too, and would find GRUB there first.
		esp_line=''
		boot_attrs=', attrs="LegacyBIOSBootable"'
	fi
	truncate -s $((disk_sectors * 512)) "$img"
	sfdisk -q --no-reread --no-tell-kernel "$img" <<EOF >/dev/null || die "sfdisk failed"
label: gpt
label-id: $disk_guid
first-lba: 2048
$esp_line
start=$boot_start, size=$boot_sectors, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=$boot_guid, name="boot"$boot_attrs
EOF
	[[ $kind == extlinux ]] || dd if="$esp" of="$img" bs=512 seek="$esp_start" conv=notrunc status=none
	dd if="$fs" of="$img" bs=512 seek="$boot_start" conv=notrunc status=none
	sfdisk -q -V "$img" >/dev/null || die "sfdisk finds $name's partition table inconsistent"
	mv "$img" "$out/$name"
	echo "    $name: sha256 $(sha256sum "$out/$name" | cut -c1-16)..."
}

step "Making the boot partition (ext4, $((boot_sectors / 2048)) MiB): vmlinuz, initrd.img, grub/grub.cfg"
make_bootfs "$work/boot" "$work/boot.img"
step "Assembling efi.img ($((disk_sectors / 2048)) MiB, GPT)"
make_disk efi.img "$work/boot.img" esp

step "Making extlinux.img: the boot partition alone, marked bootable, plus extlinux/extlinux.conf"
make_bootfs "$work/boot-extlinux" "$work/boot-extlinux.img"
make_disk extlinux.img "$work/boot-extlinux.img" extlinux

step "Copying U-Boot ($uboot)"
cp "$uboot" "$out/u-boot.bin"
printf '%s\n' "$digest" >"$stamp"
