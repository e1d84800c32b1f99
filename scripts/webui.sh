#!/usr/bin/env bash
# The web console's files (web/): its npm packages and the directory vessel daemon serves.
#
#   scripts/webui.sh deps         npm ci in web/ when package-lock.json changed since the last one
#                                 (scripts/deps.sh runs it: the only step that needs the registry)
#   scripts/webui.sh build OUTDIR web/src/* and, from web/node_modules, xterm.js, its fit addon and
#                                 CSS, into OUTDIR (the build runs it into build/webui)
#
# The built files are not committed: they are copies of what package-lock.json pins.
set -euo pipefail
web=$(cd "$(dirname "${BASH_SOURCE[0]}")/../web" && pwd)
stamp=$web/node_modules/.vessel-lock.sha256

lock_hash() { sha256sum "$web/package-lock.json" | cut -d' ' -f1; }
installed() { [[ -f $stamp && $(cat "$stamp") == "$(lock_hash)" ]]; }

deps() {
	if installed; then
		echo "webui: npm packages match web/package-lock.json"
		return
	fi
	command -v npm >/dev/null || { echo "webui: npm is not installed (scripts/deps.sh installs nodejs)" >&2; exit 1; }
	(cd "$web" && npm ci --no-audit --no-fund)
	lock_hash >"$stamp"
}

build() {
	local out=$1
	if ! installed; then
		echo "webui: web/node_modules is missing or older than web/package-lock.json: run scripts/deps.sh" >&2
		exit 1
	fi
	rm -rf "$out.tmp"
	mkdir -p "$out.tmp/vendor"
	cp "$web"/src/*.html "$web"/src/*.js "$web"/src/*.css "$out.tmp/"
	local xterm=$web/node_modules/@xterm/xterm fit=$web/node_modules/@xterm/addon-fit
	# The source maps stay behind, so the references to them go too (no 404s in the console).
	sed '/^\/\/# sourceMappingURL=/d' "$xterm/lib/xterm.mjs" >"$out.tmp/vendor/xterm.mjs"
	sed '/^\/\/# sourceMappingURL=/d' "$fit/lib/addon-fit.mjs" >"$out.tmp/vendor/addon-fit.mjs"
	cp "$xterm/css/xterm.css" "$out.tmp/vendor/xterm.css"
	cp "$xterm/LICENSE" "$out.tmp/vendor/LICENSE.xterm"
	rm -rf "$out"
	mv "$out.tmp" "$out"
}

case ${1:-} in
deps) deps ;;
build)
	[[ $# == 2 ]] || { echo "usage: scripts/webui.sh build OUTDIR" >&2; exit 2; }
	build "$2"
	;;
*)
	echo "usage: scripts/webui.sh deps | build OUTDIR" >&2
	exit 2
	;;
esac
