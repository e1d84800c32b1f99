#!/usr/bin/env bash
# Everything CI checks: dependencies, the reference guest (built beside the
# Release build), a Release build with all tests (build/), an ASan+UBSan build
# by clang with the unit tests but the style checks, which do not depend on the
# build (build-asan/), then short libFuzzer runs of every fuzz target, built in
# that same build-asan/ (one build of the libraries with the sanitizers, not two).
# Exits nonzero if any stage fails.
# shellcheck disable=SC2317  # the stage functions run through stage()
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

jobs=2
results=()
failed=0
# Totals over every ctest run, for the closing "N passed, N failed" line.
tests_run=0
tests_failed=0
ctest_log=$(mktemp)

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
	local started=$SECONDS
	printf '\n==> %s\n' "$name"
	if "$@"; then
		results+=("ok    $name, $((SECONDS - started)) s")
	else
		results+=("FAIL  $name, $((SECONDS - started)) s")
		failed=$((failed + 1))
		return 1
	fi
}

# A build, and how long it took: CI's log then shows where its time limit goes.
timed_build() {
	local started=$SECONDS
	cmake --build "$1" -j"$jobs" || return 1
	echo "build of $1 took $((SECONDS - started)) s"
}

# Both builds are unity builds (VESSEL_UNITY_BUILD in CMakeLists.txt): half the compile time.
release_build() {
	cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DVESSEL_UNITY_BUILD=ON && timed_build build
}

release_tests() {
	counted_ctest --test-dir build --output-on-failure --timeout 300 -j"$jobs"
}

# The reference guest feeds only the e2e tests, and its build spends much of its time waiting
# (downloads, one-threaded unpacking and compression), so it runs beside the Release build; its
# output is printed once it ends.
guest_log=$(mktemp)
trap 'rm -f "$ctest_log" "$guest_log"' EXIT
guest_start() {
	guest_started=$SECONDS
	guests/debian/build.sh --full --efi >"$guest_log" 2>&1 &
	guest_pid=$!
}
guest_wait() {
	local rc=0
	wait "$guest_pid" || rc=$?
	cat "$guest_log"
	echo "the guest build took $((SECONDS - guest_started)) s, beside the Release build"
	return "$rc"
}

# clang, so that the same build holds the libFuzzer targets (VESSEL_FUZZ); scripts/deps.sh installs
# it with its fuzzer runtime.
sanitized() {
	cmake -S . -B build-asan -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
		-DCMAKE_BUILD_TYPE=Debug -DVESSEL_SANITIZE=ON -DVESSEL_FUZZ=ON -DVESSEL_UNITY_BUILD=ON &&
		timed_build build-asan &&
		counted_ctest --test-dir build-asan --output-on-failure --timeout 300 -j"$jobs" -L unit -LE style
}

# Each libFuzzer target (tests/fuzz/<name>_fuzz.cpp with a corpus/<name>/), as
# built by the sanitized stage, for fuzz_seconds over a scratch copy of its
# corpus (new inputs land there, not in the tree), fewer seconds each if the
# targets would exceed fuzz_budget (seconds of one core's time); $jobs targets run
# at once, each on one core, and each one's report is printed whole when it ends.
# A crash, leak or timeout fails the stage and leaves the reproducer in
# build-asan/artifacts/. A target the build did not make fails the stage.
fuzz_seconds=20
fuzz_budget=120

# One target's run, its report on stdout; nonzero if it failed.
fuzz_one() {
	local target=$1 seconds=$2 work rc=0
	work=$(mktemp -d)
	cp -r "tests/fuzz/corpus/$target/." "$work/"
	mkdir -p "build-asan/artifacts/$target"
	echo "fuzz: $target for ${seconds}s"
	if [[ ! -x build-asan/tests/fuzz/${target}_fuzz ]]; then
		echo "fuzz: build-asan/tests/fuzz/${target}_fuzz was not built"
		rc=1
	elif ! "build-asan/tests/fuzz/${target}_fuzz" -max_total_time="$seconds" \
		-max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="build-asan/artifacts/$target/" "$work" 2>"$work.log"; then
		tail -n 40 "$work.log"
		echo "fuzz: $target FAILED (reproducer in build-asan/artifacts/$target/)"
		rc=1
	else
		grep -E '^stat::number_of_executed_units' "$work.log" || true
	fi
	rm -rf "$work" "$work.log"
	return "$rc"
}

fuzz() {
	local src name fuzz_targets=()
	for src in tests/fuzz/*_fuzz.cpp; do
		name=$(basename "$src" _fuzz.cpp)
		[[ -d tests/fuzz/corpus/$name ]] && fuzz_targets+=("$name")
	done
	((${#fuzz_targets[@]} > 0)) || { echo "fuzz: no targets found"; return 1; }
	local seconds=$((fuzz_budget / ${#fuzz_targets[@]}))
	((seconds > fuzz_seconds)) && seconds=$fuzz_seconds
	local target reports rc=0 running=0
	reports=$(mktemp -d)
	for target in "${fuzz_targets[@]}"; do
		if ((running == jobs)); then
			wait -n || rc=1
			running=$((running - 1))
		fi
		(fuzz_one "$target" "$seconds" >"$reports/$target" 2>&1) &
		running=$((running + 1))
	done
	while ((running > 0)); do
		wait -n || rc=1
		running=$((running - 1))
	done
	for target in "${fuzz_targets[@]}"; do cat "$reports/$target"; done
	rm -rf "$reports"
	return "$rc"
}

# Without dependencies nothing else can run; the guest only feeds the e2e
# tests, so the builds still run when it fails.
if stage "dependencies (scripts/deps.sh)" scripts/deps.sh; then
	guest_start
	built=0
	stage "Release build (build/)" release_build && built=1
	stage "reference guest (guests/debian/build.sh --full --efi)" guest_wait || true
	((built)) && { stage "Release ctest (build/)" release_tests || true; }
	stage "ASan+UBSan build with the fuzz targets + ctest -L unit (build-asan/)" sanitized || true
	stage "libFuzzer, up to ${fuzz_seconds}s per target (build-asan/)" fuzz || true
fi

printf '\n==> Summary\n'
printf '  %s\n' "${results[@]}"
echo "stages: $((${#results[@]} - failed)) ok, $failed failed"
echo "test.sh: $((tests_run - tests_failed)) passed, $((tests_failed + failed)) failed"
exit $((failed > 0))
