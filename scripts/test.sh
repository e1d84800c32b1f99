#!/usr/bin/env bash
# Everything CI checks: dependencies, the reference guest, a Release build
# with all tests (build/), then an ASan+UBSan build with the unit tests
# (build-asan/). Exits nonzero if any stage fails.
# shellcheck disable=SC2317  # release() and sanitized() run through stage()
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

jobs=2
results=()
failed=0

stage() {
	local name=$1
	shift
	printf '\n==> %s\n' "$name"
	if "$@"; then
		results+=("ok    $name")
	else
		results+=("FAIL  $name")
		failed=$((failed + 1))
		return 1
	fi
}

release() {
	cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release &&
		cmake --build build -j"$jobs" &&
		ctest --test-dir build --output-on-failure -j"$jobs"
}

sanitized() {
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DVESSEL_SANITIZE=ON &&
		cmake --build build-asan -j"$jobs" &&
		ctest --test-dir build-asan --output-on-failure -j"$jobs" -L unit
}

# Without dependencies nothing else can run; the guest only feeds the e2e
# tests, so the builds still run when it fails.
if stage "dependencies (scripts/deps.sh)" scripts/deps.sh; then
	stage "reference guest (guests/debian/build.sh)" guests/debian/build.sh || true
	stage "Release build + ctest (build/)" release || true
	stage "ASan+UBSan build + ctest -L unit (build-asan/)" sanitized || true
fi

printf '\n==> Summary\n'
printf '  %s\n' "${results[@]}"
passed=$((${#results[@]} - failed))
echo "test.sh: $passed passed, $failed failed"
exit $((failed > 0))
