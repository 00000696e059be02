#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs each libFuzzer target for a bounded time from its corpus in the repository.
#   tests/fuzz/run.sh BUILD_DIR [SECONDS_EACH]
# New inputs the fuzzer finds go to a scratch copy (the repository's corpus stays as committed; add an
# input there by hand when it is worth keeping). A crash, a leak or a sanitizer report fails the run and
# leaves the input in the scratch directory, whose path is printed.
set -euo pipefail
build=$(realpath "${1:?usage: run.sh BUILD_DIR [SECONDS_EACH]}")
cd "$(dirname "$0")"
seconds=${2:-30}
scratch=$(mktemp -d)
status=0
for target in fuzz_http fuzz_cloudevents fuzz_jsonl fuzz_parsers; do
  mkdir -p "$scratch/$target"
  if "$build/tests/fuzz/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
       -artifact_prefix="$scratch/$target-" -print_final_stats=0 "$scratch/$target" "corpus/$target" \
       >"$scratch/$target.log" 2>&1; then
    runs=$(grep -o 'Done [0-9]* runs' "$scratch/$target.log" | tail -n 1 || true)
    echo "$target: ${runs:-done}, no crash in ${seconds}s"
  else
    echo "$target: FAILED; input and log in $scratch" >&2
    tail -n 30 "$scratch/$target.log" >&2
    status=1
  fi
done
[ $status -eq 0 ] && rm -rf "$scratch"
exit $status
