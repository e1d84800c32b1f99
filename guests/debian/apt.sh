# The private apt configuration of Vessel's Debian downloads, sourced by guests/debian/build.sh
# (the reference guest), guests/debian/efi.sh (GRUB's modules) and scripts/riscv64-sysroot.sh
# (the riscv64 build's libraries): a
# sources list naming the mirror the host's own apt sources use (or VESSEL_DEBIAN_MIRROR), its
# own lists, cache and status under $aptdir, and none of the host's apt.conf.d hooks.
#
# The caller sets aptdir, suite, arch and keyring (and debs, where downloads go, if it has one),
# and defines die();
# apt_setup writes the configuration, then run_apt CMD... runs an apt command against it.

# Prints the first Debian archive URI in the host's apt sources (deb822
# .sources first, then one-line .list files); security mirrors are skipped.
host_mirror() {
	local f
	shopt -s nullglob
	for f in /etc/apt/sources.list.d/*.sources; do
		awk '
			function flush() {
				if (is_deb && uri != "") { print uri; found = 1; exit }
				is_deb = 0; uri = ""
			}
			/^[ \t]*$/ { flush(); next }
			/^[ \t]*#/ { next }
			tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") is_deb = 1 }
			tolower($1) == "uris:" {
				for (i = 2; i <= NF; i++)
					if ($i ~ /^(https?|file):/ && $i !~ /security/ && uri == "") uri = $i
			}
			END { if (!found) flush() }
		' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -r $f ]] || continue
		awk '$1 == "deb" {
				for (i = 2; i <= NF; i++) {
					if ($i ~ /^\[/) { while ($i !~ /\]$/ && i < NF) i++; continue }
					if ($i ~ /^(https?|file):/ && $i !~ /security/) print $i
					break
				}
			}' "$f"
	done
}

# The mirror the guest's packages come from: VESSEL_DEBIAN_MIRROR or the host's.
debian_mirror() {
	local mirror=${VESSEL_DEBIAN_MIRROR:-}
	if [[ -z $mirror ]]; then
		mirror=$(host_mirror | head -n1)
	fi
	[[ -n $mirror ]] || die "no Debian mirror found in /etc/apt/sources.list{,.d} (set VESSEL_DEBIAN_MIRROR)"
	printf '%s\n' "$mirror"
}

apt_setup() {
	local mirror
	mirror=$(debian_mirror) || exit 1
	mkdir -p "$aptdir"/{etc/sources.list.d,etc/preferences.d,etc/apt.conf.d,lists/partial,cache/archives/partial} ${debs:+"$debs"}
	: >"$aptdir/status"
	printf 'deb [arch=%s signed-by=%s] %s %s main\n' "$arch" "$keyring" "$mirror" "$suite" \
		>"$aptdir/etc/sources.list"
	# The host's apt.conf.d is not read: its hooks (APT::Update::Post-Invoke...)
	# would act on the host. Only its proxy settings are carried over.
	local http_proxy_conf='' https_proxy_conf=''
	eval "$(apt-config shell http_proxy_conf Acquire::http::Proxy https_proxy_conf Acquire::https::Proxy)"
	{
		printf 'Dir::Etc::Parts "%s";\n' "$aptdir/etc/apt.conf.d"
		printf 'Dir::Etc::Main "/dev/null";\n'
		[[ -n $http_proxy_conf ]] && printf 'Acquire::http::Proxy "%s";\n' "$http_proxy_conf"
		[[ -n $https_proxy_conf ]] && printf 'Acquire::https::Proxy "%s";\n' "$https_proxy_conf"
		true
	} >"$aptdir/apt.conf"
	apt_opts=(
		-o "Dir::Etc::SourceList=$aptdir/etc/sources.list"
		-o "Dir::Etc::SourceParts=$aptdir/etc/sources.list.d"
		-o "Dir::Etc::Preferences=$aptdir/etc/preferences"
		-o "Dir::Etc::PreferencesParts=$aptdir/etc/preferences.d"
		-o "Dir::State=$aptdir"
		-o "Dir::State::Lists=$aptdir/lists"
		-o "Dir::State::status=$aptdir/status"
		-o "Dir::Cache=$aptdir/cache"
		-o "Dir::Cache::Archives=$aptdir/cache/archives"
		-o "Dir::Log=$aptdir"
		-o "APT::Architecture=$arch"
		-o "APT::Architectures=$arch"
		-o "APT::Sandbox::User=$(id -un)"
		-o "Acquire::Languages=none"
		-o "Acquire::GzipIndexes=true"
	)
	echo "    mirror: $mirror ($suite/main, $arch), signatures checked with $keyring"
}

run_apt() { APT_CONFIG="$aptdir/apt.conf" "$@" "${apt_opts[@]}"; }

