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
# Totals over every ctest run, for the closing "N passed, N failed" line.
tests_run=0
tests_failed=0
ctest_log=$(mktemp)
trap 'rm -f "$ctest_log"' EXIT

# ctest, with its "N tests failed out of M" summary added to the totals.
counted_ctest() {
	local rc=0
	ctest "$@" 2>&1 | tee "$ctest_log" || rc=1
	local summary
	summary=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$ctest_log" | tail -n 1)
	if [[ $summary =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
		tests_failed=$((tests_failed + BASH_REMATCH[1]))
		tests_run=$((tests_run + BASH_REMATCH[2]))
	else
		rc=1 # no summary: ctest did not run the tests
	fi
	return "$rc"
}

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
		counted_ctest --test-dir build --output-on-failure -j"$jobs"
}

sanitized() {
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DVESSEL_SANITIZE=ON &&
		cmake --build build-asan -j"$jobs" &&
		counted_ctest --test-dir build-asan --output-on-failure -j"$jobs" -L unit
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
echo "stages: $((${#results[@]} - failed)) ok, $failed failed"
echo "test.sh: $((tests_run - tests_failed)) passed, $((tests_failed + failed)) failed"
exit $((failed > 0))
