#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The two entry points of README.md:
#   packaging/dev.sh run    install what is missing, build, and open the console on the demo SQLite outbox
#   packaging/dev.sh test   install what is missing, build (plain and with ASan+UBSan), run the whole test suite
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)

build() { # build DIR [cmake options...]
  local dir=$1; shift
  # ccache makes a re-run after a small change quick; the compiler is the same without it.
  local launcher=()
  if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache); fi
  cmake -S . -B "$dir" -G Ninja "${launcher[@]}" "$@" >/dev/null
  cmake --build "$dir" --parallel "$jobs"
}

# Runs DIR's tests; when some fail, ends with what their logs said about it (the failed checks, fatal errors and
# sanitizer reports, with their places), so the end of a long log says why without the pages before it.
run_tests() { # run_tests DIR TIMEOUT
  if (cd "$1" && ctest --output-on-failure --timeout "$2" -j "$jobs"); then return 0; fi
  echo "== why the tests in $1 failed (from $1/Testing/Temporary/LastTest.log)"
  awk '/FAIL!|QFATAL|ERROR: (Address|Leak)Sanitizer|SUMMARY: |runtime error:|Received signal|did not finish in/ \
         { print; after = 1; next } after && /Loc: \[/ { print } { after = 0 }' \
    "$1/Testing/Temporary/LastTest.log" | head -60 || true
  return 1
}

bash packaging/install-deps.sh

case "${1:-}" in
  run)
    build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
    if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
      echo "dev.sh: no display (DISPLAY/WAYLAND_DISPLAY unset); try: xvfb-run bash packaging/dev.sh run" >&2
      exit 1
    fi
    exec build/app/outbox-console
    ;;
  test)
    export QT_QPA_PLATFORM=offscreen
    echo "== the code's layout (.clang-format)"
    bash packaging/format.sh --check
    echo "== build and test (RelWithDebInfo)"
    build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
    run_tests build 900
    echo "== the Debian package: lintian, unpack into a fresh root, validate, man pages, completion, run, build the embedding example against it"
    bash packaging/check-install.sh build
    echo "== fuzz every parser of outside input for ${OUTBOX_FUZZ_SECONDS:-30} s each (libFuzzer, clang)"
    CC=clang CXX=clang++ build build-fuzz -DOUTBOX_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
    bash tests/fuzz/run.sh build-fuzz "${OUTBOX_FUZZ_SECONDS:-30}"
    echo "== build and test under AddressSanitizer and UndefinedBehaviorSanitizer"
    build build-asan -DOUTBOX_SANITIZE=ON
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    export LSAN_OPTIONS=suppressions="$PWD/tests/lsan.supp":print_suppressions=0
    run_tests build-asan 1800
    ;;
  *)
    echo "usage: packaging/dev.sh run|test" >&2
    exit 2
    ;;
esac
