#!/usr/bin/env bash
# The .deb on a clean Debian 12: cpack builds it from BUILD_DIR; mmdebstrap makes a fresh
# bookworm root from the host's own apt sources; apt installs the package there with the
# dependencies it declares. Then, inside that root: vessel --version, the man page, bash
# completion of subcommands and options, the systemd units (systemd-analyze verify), the daemon
# started with the system unit's own command line answering `vessel ls`, and dpkg -r.
# systemd cannot run as PID 1 here, so the unit's ExecStart is run in the chroot instead.
#
#   deb_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: deb_test.sh BUILD_DIR}" && pwd)

step() { printf '==> %s\n' "$*"; }
fail() {
	printf 'FAIL: %s\n' "$*"
	exit 1
}
[[ $EUID -eq 0 ]] || fail "needs root (chroot, mounts)"
for tool in cpack mmdebstrap dpkg-deb; do
	command -v "$tool" >/dev/null || fail "$tool is missing (scripts/deps.sh installs it)"
done

root=$(mktemp -d /tmp/vessel-deb.XXXXXX)
cleanup() {
	if [[ -n ${daemon:-} ]]; then kill "$daemon" 2>/dev/null || true; fi
	for m in "$root/sys" "$root/proc" "$root/dev"; do
		mountpoint -q "$m" 2>/dev/null && umount -l "$m"
	done
	rm -rf "$root"
}
trap cleanup EXIT

step "cpack -G DEB in $build"
rm -f "$build"/vessel_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/vessel_*_amd64.deb)
dpkg-deb -f "$deb" Depends | grep -q libslirp0 || fail "the package does not declare libslirp0"
dpkg-deb -f "$deb" Depends | grep -q libnbd0 || fail "the package does not declare libnbd0 (dlopen()ed by NBD disks)"

# The host's own apt sources (the mirror is never named here).
sources=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
	[[ -s $f ]] && sources+=("$f")
done
((${#sources[@]} > 0)) || fail "no apt sources on the host"
step "mmdebstrap bookworm (apt variant, with systemd and bash-completion)"
mmdebstrap --quiet --variant=apt --include=systemd,bash-completion bookworm "$root" \
	"${sources[@]}" || fail "mmdebstrap could not make a clean root"

step "apt-get install ./$(basename "$deb") in the clean root"
cp "$deb" "$root/tmp/vessel.deb"
mount --bind /dev "$root/dev"
mount -t proc proc "$root/proc"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }
in_root apt-get update -q >/dev/null || fail "apt-get update failed in the clean root"
in_root apt-get install -y -q /tmp/vessel.deb >/dev/null || fail "apt could not install the package"

version=$(in_root vessel --version | head -n1)
[[ $version == "vessel $(dpkg-deb -f "$deb" Version)"* ]] || fail "vessel --version said '$version'"
zcat "$root/usr/share/man/man1/vessel.1.gz" | grep -q '^\.TH VESSEL' || fail "no man page"
zcat "$root/usr/share/man/man1/vessel.1.gz" | grep -q 'jit\\-cache' || fail "the man page lacks run's options"

step "bash completion"
complete_words() {
	in_root bash -c 'source /usr/share/bash-completion/bash_completion
		source /usr/share/bash-completion/completions/vessel
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_vessel vessel; echo "${COMPREPLY[*]}"' _ "$@"
}
got=$(complete_words vessel r)
for w in run reboot resume rm; do [[ " $got " == *" $w "* ]] || fail "vessel r<TAB> gave '$got'"; done
got=$(complete_words vessel run --jit)
[[ $got == *--jit-cache* ]] || fail "vessel run --jit<TAB> gave '$got'"

step "systemd units"
for unit in /lib/systemd/system/vessel.service /lib/systemd/user/vessel.service; do
	[[ -f $root$unit ]] || fail "$unit is not installed"
	# man is not in the root, so the unit's Documentation= cannot be checked.
	in_root systemd-analyze verify "$unit" 2>&1 | grep -v "Command 'man " | grep -i 'vessel' &&
		fail "systemd-analyze verify $unit complained"
done

step "the system unit's command line, in the root"
exec_start=$(sed -n 's/^ExecStart=//p' "$root/lib/systemd/system/vessel.service")
mount --rbind /sys "$root/sys"  # the host's cgroup tree, for the jail's cgroup
mkdir -p "$root/var/lib/vessel" && chmod 700 "$root/var/lib/vessel"
# A simple command, not in_root: run in the background, the function would be a subshell whose
# kill leaves chroot's child, the daemon, running on. chroot and env exec, so $! is the daemon.
# shellcheck disable=SC2086  # the unit's words, split as systemd splits them
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root $exec_start \
	>"$root/tmp/daemon.out" 2>"$root/tmp/daemon.err" &
daemon=$!
for _ in $(seq 100); do
	grep -q serving "$root/tmp/daemon.out" 2>/dev/null && break
	sleep 0.1
done
grep -q serving "$root/tmp/daemon.out" || fail "the daemon did not start: $(cat "$root/tmp/daemon.err")"
in_root vessel ls --state-dir /var/lib/vessel >/dev/null || fail "vessel ls against the daemon failed"
kill "$daemon"
wait "$daemon" || true
daemon=

step "dpkg -r vessel"
in_root dpkg -r vessel >/dev/null || fail "dpkg -r failed"
[[ ! -e $root/usr/bin/vessel ]] || fail "dpkg -r left /usr/bin/vessel"
echo "PASS: $(basename "$deb") installs on a clean bookworm with its dependencies, runs, and removes"
