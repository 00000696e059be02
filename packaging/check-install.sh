#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the Debian package, unpacks it into a fresh root and proves the result is usable on its own: lintian
# finds nothing (bar the overrides it ships, each with its reason), both man pages render and describe every
# command, the bash completion completes, its desktop entry and AppStream metainfo validate, outboxctl and outbox-console run from there, a program
# builds from the pkg-config flags, and the embedding example builds against the installed CMake package
# (not the build tree), writes an order and its event in one transaction and relays them through the public
# API (Relayer, Receiver, Storage); the library's dynamic symbols hold none of its private classes, and its ABI
# is that of the last release (abidiff against packaging/abi/).
# Usage: packaging/check-install.sh BUILD_DIR
set -euo pipefail
trap 'echo "check-install.sh: failed at line $LINENO" >&2' ERR
cd "$(dirname "$0")/.."
build=${1:?usage: check-install.sh BUILD_DIR}
work=$(mktemp -d)
plugins=""
trap 'rm -rf "$work"' EXIT
(cd "$build" && cpack -G DEB -B "$work/deb" >/dev/null)
deb=$(ls "$work"/deb/outbox-console_*.deb)
dpkg-deb -x "$deb" "$work/root"
prefix="$work/root/usr"
for f in bin/outbox-console bin/outboxctl include/outbox/sendevent.h share/applications/dev.outboxconsole.OutboxConsole.desktop \
         share/icons/hicolor/scalable/apps/dev.outboxconsole.OutboxConsole.svg share/metainfo/dev.outboxconsole.OutboxConsole.metainfo.xml \
         lib/systemd/system/outbox-relay.service share/doc/outbox-console/api/index.html share/doc/outbox-console/api/classoutbox_1_1Relayer.html; do
  [ -e "$prefix/$f" ] || { echo "the package lacks $f" >&2; exit 1; }
done
dpkg-deb -f "$deb" Depends | grep -q libqt6widgets6 || { echo "the package does not depend on Qt Widgets" >&2; exit 1; }
# lintian: no error and no warning. The overrides the package ships each say why.
lintian --fail-on error,warning --no-tag-display-limit "$deb" > "$work/lintian.txt" 2>&1 \
  || { grep -v "running with root privileges" "$work/lintian.txt" >&2; echo "lintian found problems in the package" >&2; exit 1; }
# Man pages: both render without a warning, and every command of outboxctl --help is in its page.
for page in outboxctl outbox-console; do
  f="$prefix/share/man/man1/$page.1.gz"
  [ -e "$f" ] || { echo "the package lacks the man page $page(1)" >&2; exit 1; }
  problems=$(MANWIDTH=100 man --warnings -l "$f" 2>&1 >/dev/null || true)
  [ -z "$problems" ] || { echo "man -l $page.1.gz: $problems" >&2; exit 1; }
done
ctlpage=$(MANWIDTH=100 man -l "$prefix/share/man/man1/outboxctl.1.gz" 2>/dev/null)
for c in $("$prefix/bin/outboxctl" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }'); do
  grep -q "outboxctl $c" <<<"$ctlpage" || { echo "outboxctl(1) does not describe '$c'" >&2; exit 1; }
done
# Bash completion, as bash-completion would load it: commands, then a command's options, then file names.
comp="$prefix/share/bash-completion/completions/outboxctl"
complete_words() { bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _outboxctl; echo "${COMPREPLY[*]}"' _ "$comp" "$@"; }
bash -c 'source "$1"; complete -p outboxctl' _ "$comp" | grep -q -- "-F _outboxctl outboxctl" || { echo "complete -p outboxctl failed" >&2; exit 1; }
[ "$(complete_words outboxctl rel)" = "relay release relayers" ] || { echo "completion of 'outboxctl rel': $(complete_words outboxctl rel)" >&2; exit 1; }
[ "$(complete_words outboxctl relay --dr)" = "--drain" ] || { echo "completion of 'relay --dr': $(complete_words outboxctl relay --dr)" >&2; exit 1; }
touch "$work/payload.json"
[ "$(cd "$work" && complete_words outboxctl enqueue --data-file pay)" = "payload.json" ] \
  || { echo "completion of 'enqueue --data-file pay' does not offer the file" >&2; exit 1; }
desktop-file-validate "$prefix/share/applications/dev.outboxconsole.OutboxConsole.desktop"
appstreamcli validate --no-net "$prefix/share/metainfo/dev.outboxconsole.OutboxConsole.metainfo.xml" >/dev/null \
  || { appstreamcli validate --no-net "$prefix/share/metainfo/dev.outboxconsole.OutboxConsole.metainfo.xml" >&2; exit 1; }
"$prefix/bin/outboxctl" --version | grep -q "^outboxctl [0-9]" || { echo "installed outboxctl --version failed" >&2; exit 1; }
QT_QPA_PLATFORM=offscreen "$prefix/bin/outbox-console" --version | grep -q "[0-9]" || { echo "installed outbox-console --version failed" >&2; exit 1; }
# The broker transports, one package each: lintian-clean, and found by the installed outboxctl once unpacked
# beside it (a target's problem in the plug-in's own words), not before (no transport installed).
for plugin in "$work"/deb/outbox-transport-*.deb; do
  [ -e "$plugin" ] || continue
  name=$(dpkg-deb -f "$plugin" Package)
  scheme=${name#outbox-transport-}
  dpkg-deb -f "$plugin" Depends | grep -q "outbox-console (= " || { echo "$name does not depend on outbox-console" >&2; exit 1; }
  lintian --fail-on error,warning --no-tag-display-limit "$plugin" > "$work/lintian.txt" 2>&1 \
    || { grep -v "running with root privileges" "$work/lintian.txt" >&2; echo "lintian found problems in $name" >&2; exit 1; }
  # A target each plug-in refuses in its own words (checked below by the word each uses).
  case $scheme in
    mqtt) bad='mqtt://127.0.0.1:1/a/+' word=wildcard ;;
    nats) bad='nats://127.0.0.1:1/a.*' word=wildcard ;;
    kafka) bad='kafka://127.0.0.1:1/a/b' word='is not a Kafka topic' ;;
    amqp) bad='amqp://127.0.0.1:1/' word='needs ?exchange= or ?routing-key=' ;;
    *) echo "check-install.sh knows no bad target for $name" >&2; exit 1 ;;
  esac
  said=$("$prefix/bin/outboxctl" --db "sqlite://$work/plugin.db" relay --drain --target "$bad" 2>&1 || true)
  grep -q "no transport for $scheme:// targets is installed" <<<"$said" || { echo "without $name: $said" >&2; exit 1; }
  dpkg-deb -x "$plugin" "$work/root"
  said=$("$prefix/bin/outboxctl" --db "sqlite://$work/plugin.db" relay --drain --target "$bad" 2>&1 || true)
  grep -qF "$word" <<<"$said" || { echo "with $name unpacked: $said" >&2; exit 1; }
  plugins="$plugins $name"
done
# pkg-config users: a program compiled with nothing but the .pc file's flags.
printf '#include <outbox/duration.h>\nint main() { return *outbox::parseDuration(QStringLiteral("1h")) == 3600000 ? 0 : 1; }\n' > "$work/pc.cpp"
pc=$(find "$prefix" -name outbox-engine.pc | head -n 1)
[ -n "$pc" ] || { echo "no pkg-config file installed" >&2; exit 1; }
g++ -std=c++20 -fPIC "$work/pc.cpp" -o "$work/pc" $(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags --libs outbox-engine) \
  -Wl,-rpath,"$(dirname "$(dirname "$pc")")"
"$work/pc" || { echo "a program built with pkg-config flags failed" >&2; exit 1; }
# Every installed header compiles on its own with those flags (so none needs a header that is not installed).
for h in "$prefix"/include/outbox/*.h; do
  printf '#include <outbox/%s>\n' "$(basename "$h")" > "$work/header.cpp"
  g++ -std=c++20 -fPIC -fsyntax-only "$work/header.cpp" $(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags outbox-engine) \
    || { echo "the installed header $(basename "$h") does not compile on its own" >&2; exit 1; }
done
cmake -S packaging/embedding-example -B "$work/example" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/example" >/dev/null
db="$work/orders.db"
"$work/example/order-service" "$db" | grep -q "^order 1, event " || { echo "the embedding example failed" >&2; exit 1; }
if "$work/example/order-service" "$db" --fail 2>/dev/null; then echo "--fail should exit non-zero" >&2; exit 1; fi
# One order and one event: the rolled-back run left neither.
orders=$(sqlite3 "$db" "SELECT COUNT(*) FROM orders")
events=$("$prefix/bin/outboxctl" --db "sqlite://$db" list --json | wc -l)
[ "$orders" = 1 ] && [ "$events" = 1 ] || { echo "expected 1 order and 1 event, found $orders and $events" >&2; exit 1; }
# The rest of the public API through the shared library: a Relayer delivers both pending events (the one above
# and a new one) to a Receiver, its signals arrive, and Storage reads the counts back.
relayed=$("$work/example/order-service" "$db" --relay | tail -n 1)
[ "$relayed" = "relayed 2, signalled 2, received 2 (com.example.order.created), outbox: 2 sent, 0 pending" ] \
  || { echo "the embedding example's relay run said: $relayed" >&2; exit 1; }
# The library's dynamic symbols are its public API only (core/outbox_export.h): none of the private classes.
lib=$(find "$prefix" -name 'liboutbox-engine.so.*' -type f | head -n 1)
symbols=$(nm -D --defined-only -C "$lib")
private=$(grep -E 'outbox::(detail::|SqlStorage|Dialect|HttpSender|NetworkWorker|RelayWorker|ReceiverServer|RomancyStorage|FailureGroupCollector)' <<<"$symbols" | head -n 5 || true)
[ -z "$private" ] || { echo "liboutbox-engine exports private symbols:" >&2; echo "$private" >&2; exit 1; }
grep -q 'outbox::Relayer::relayOnce()' <<<"$symbols" || { echo "liboutbox-engine does not export Relayer" >&2; exit 1; }
# The ABI against the last release's record (packaging/abi/, made by packaging/abi/update.sh): abidiff on the
# build's library, which has its debug information (the packaged one is stripped). A removed or changed
# function or type under the same SONAME fails; additions are reported and pass. The private types behind the
# d-pointers are left out (packaging/abi/private.suppr).
built=$(find "$build/engine" -maxdepth 1 -name 'liboutbox-engine.so.*.*' -type f | head -n 1)
soname=$(objdump -p "$built" | awk '/SONAME/ { print $2 }')
baseline=$(ls packaging/abi/*.abi.xz | head -n 1)
xz -dc "$baseline" > "$work/baseline.abi"
abi_status=0
abidiff --suppressions packaging/abi/private.suppr "$work/baseline.abi" "$built" > "$work/abidiff.txt" 2>&1 || abi_status=$?
if [ $((abi_status & 3)) -ne 0 ]; then
  cat "$work/abidiff.txt" >&2; echo "abidiff could not compare the library with $baseline" >&2; exit 1
fi
# abidiff's summary lines: "Functions changes summary: R Removed, C Changed, A Added function" (and Variables).
broken=$(awk '/changes summary:/ { if ($4 + 0 > 0 || $6 + 0 > 0) print }' "$work/abidiff.txt")
if [ -n "$broken" ] && [ "$(basename "$baseline" .abi.xz)" = "$soname" ]; then
  cat "$work/abidiff.txt" >&2
  echo "$soname: the ABI changed against $baseline (removed or changed functions or types); keep it, or raise the SOVERSION (the major version) and record the new ABI with packaging/abi/update.sh" >&2
  exit 1
fi
[ "$abi_status" -eq 0 ] || { echo "ABI additions against $baseline (compatible):" >&2; cat "$work/abidiff.txt" >&2; }
echo "$(basename "$deb") (and${plugins:- no} transport packages): lintian-clean, validates, man pages and completion work, outboxctl and outbox-console run, the embedding example builds against it, commits order + event together and relays them, and the library exports its public API only, with the ABI of $(basename "$baseline" .abi.xz)"
