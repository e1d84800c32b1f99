#!/usr/bin/env bash
# mmdebstrap's customize hook for full.ext4 (guests/debian/full.sh), run on the
# host as root once the packages are installed in ROOT:
#
#   full-customize.sh ROOT MIRROR SUITE USER PUBKEY
#
# Names the machine, adds USER (password USER, sudo without a password, PUBKEY
# as its authorised key), puts a getty on the serial console, configures DHCP
# on the virtio NIC through systemd-networkd with systemd-resolved for DNS, and
# points the guest's apt at MIRROR, the mirror the host's apt uses.
set -euo pipefail
root=$1 mirror=$2 suite=$3 user=$4 pubkey=$5
in_guest() { chroot "$root" "$@"; }

echo vessel-full >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tvessel-full\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
	>"$root/etc/hosts"
# The initramfs mounts /dev/vda as asked on the kernel command line (rw); this
# entry lets systemd-remount-fs apply the options.
printf '/dev/vda\t/\text4\tdefaults,noatime\t0\t1\n' >"$root/etc/fstab"

in_guest useradd --create-home --shell /bin/bash --groups sudo "$user"
echo "$user:$user" | in_guest chpasswd
printf '%s ALL=(ALL) NOPASSWD: ALL\n' "$user" >"$root/etc/sudoers.d/$user"
chmod 0440 "$root/etc/sudoers.d/$user"
install -d -m 0700 "$root/home/$user/.ssh"
install -m 0600 "$pubkey" "$root/home/$user/.ssh/authorized_keys"
in_guest chown -R "$user:$user" "/home/$user/.ssh"

# systemd's getty generator starts this one too when console=ttyS0 is given;
# enabled here so that the login prompt does not depend on the command line.
mkdir -p "$root/etc/systemd/system/getty.target.wants"
ln -sf /usr/lib/systemd/system/serial-getty@.service \
	"$root/etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service"

# udev announces /dev/ttyS0 after its coldplug, which on an emulated machine
# sharing a busy host can take longer than systemd's default 90 s for a device
# (QEMU TCG shows it as well as Vessel): then serial-getty@ttyS0 fails its
# dependency and there is no login prompt. Waiting longer costs nothing when
# the device comes early.
mkdir -p "$root/etc/systemd/system.conf.d"
printf '[Manager]\nDefaultDeviceTimeoutSec=10min\n' >"$root/etc/systemd/system.conf.d/vessel-slow-host.conf"

cat >"$root/etc/systemd/network/20-wired.network" <<'EOF'
[Match]
Type=ether

[Network]
DHCP=yes
EOF
in_guest systemctl enable systemd-networkd.service systemd-resolved.service
# resolved's stub answers on 127.0.0.53 with the DNS server DHCP gave.
ln -sf ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"

rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
