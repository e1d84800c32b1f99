#!/usr/bin/env bash
# Style is checked by a test: every C++ file git tracks must be as .clang-format says.
# Prints the files clang-format would change and fails if there are any.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
command -v clang-format >/dev/null || { echo "clang-format is not installed (scripts/deps.sh installs it)"; exit 1; }
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h' | grep -v -e '^tests/isa/' -e '^tests/cli/guests/')
((${#files[@]} > 0)) || { echo "no C++ files found: is this a git checkout?"; exit 1; }
# One clang-format for every file (a process per file cost 39 CPU seconds, this one 2); only
# when it finds something are the files checked one by one, to name them.
bad=()
if ! clang-format --dry-run --Werror "${files[@]}" >/dev/null 2>&1; then
	for f in "${files[@]}"; do
		clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
	done
	((${#bad[@]} > 0)) || bad=("(clang-format failed on the whole set; see clang-format --dry-run)")
fi
if ((${#bad[@]} > 0)); then
	printf 'not clang-formatted: %s\n' "${bad[@]}"
	exit 1
fi
echo "clang-format: ${#files[@]} files clean"
