#!/usr/bin/env bash
# Installs a build into a fresh directory and proves the result is usable on its own: outboxctl runs from
# there, and the embedding example builds against the installed CMake package (not the build tree) and
# writes an order and its event in one transaction. Usage: packaging/check-install.sh BUILD_DIR
set -euo pipefail
trap 'echo "check-install.sh: failed at line $LINENO" >&2' ERR
cd "$(dirname "$0")/.."
build=${1:?usage: check-install.sh BUILD_DIR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
"$prefix/bin/outboxctl" --version | grep -q "^outboxctl [0-9]" || { echo "installed outboxctl --version failed" >&2; exit 1; }
# pkg-config users: a program compiled with nothing but the .pc file's flags.
printf '#include <outbox-engine/duration.h>\nint main() { return *outbox::parseDuration(QStringLiteral("1h")) == 3600000 ? 0 : 1; }\n' > "$work/pc.cpp"
pc=$(find "$prefix" -name outbox-engine.pc | head -n 1)
[ -n "$pc" ] || { echo "no pkg-config file installed" >&2; exit 1; }
g++ -std=c++20 -fPIC "$work/pc.cpp" -o "$work/pc" $(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags --libs outbox-engine) \
  -Wl,-rpath,"$(dirname "$(dirname "$pc")")"
"$work/pc" || { echo "a program built with pkg-config flags failed" >&2; exit 1; }
cmake -S packaging/embedding-example -B "$work/example" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/example" >/dev/null
db="$work/orders.db"
"$work/example/order-service" "$db" | grep -q "^order 1, event " || { echo "the embedding example failed" >&2; exit 1; }
if "$work/example/order-service" "$db" --fail 2>/dev/null; then echo "--fail should exit non-zero" >&2; exit 1; fi
# One order and one event: the rolled-back run left neither.
orders=$(sqlite3 "$db" "SELECT COUNT(*) FROM orders")
events=$("$prefix/bin/outboxctl" --db "sqlite://$db" list --json | wc -l)
[ "$orders" = 1 ] && [ "$events" = 1 ] || { echo "expected 1 order and 1 event, found $orders and $events" >&2; exit 1; }
echo "installed engine: outboxctl runs, the embedding example builds against it and commits order + event together"
