#!/usr/bin/env bash
# The two entry points of README.md:
#   packaging/dev.sh run    install what is missing, build, and run the demo on the embedded SQLite outbox
#   packaging/dev.sh test   install what is missing, build (plain and with ASan+UBSan), run the whole test suite
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)

build() { # build DIR [cmake options...]
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" --parallel "$jobs"
}

bash packaging/install-deps.sh

case "${1:-}" in
  run)
    build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
    demo_dir="${XDG_DATA_HOME:-$HOME/.local/share}/outbox-console"
    mkdir -p "$demo_dir"
    exec build/app/outboxctl --db "sqlite://$demo_dir/demo.db" demo
    ;;
  test)
    export QT_QPA_PLATFORM=offscreen
    echo "== build and test (RelWithDebInfo)"
    build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
    (cd build && ctest --output-on-failure --timeout 900 -j "$jobs")
    echo "== install, and build the embedding example against the installed engine"
    bash packaging/check-install.sh build
    echo "== build and test under AddressSanitizer and UndefinedBehaviorSanitizer"
    build build-asan -DOUTBOX_SANITIZE=ON
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    export LSAN_OPTIONS=suppressions="$PWD/tests/lsan.supp":print_suppressions=0
    (cd build-asan && ctest --output-on-failure --timeout 1800 -j "$jobs")
    ;;
  *)
    echo "usage: packaging/dev.sh run|test" >&2
    exit 2
    ;;
esac
