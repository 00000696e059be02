#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The code's layout (.clang-format). With --check: change nothing, list what differs, exit 1 if anything does
# (the test command runs it). Without: reformat in place.
# Usage: packaging/format.sh [--check]
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files -- 'engine/*.cpp' 'engine/*.h' 'ui/*.cpp' 'ui/*.h' 'app/*.cpp' 'app/*.h' \
                                     'tests/*.cpp' 'tests/*.h' 'plugins/*.cpp' 'plugins/*.h' \
                                     'packaging/embedding-example/*.cpp')
[ ${#files[@]} -gt 0 ] || { echo "format.sh: no sources found (run it in a git checkout)" >&2; exit 2; }
if [ "${1:-}" = "--check" ]; then
  clang-format --dry-run --Werror "${files[@]}"
  echo "format: ${#files[@]} files as .clang-format says"
else
  clang-format -i "${files[@]}"
fi
