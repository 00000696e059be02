#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Records the ABI of liboutbox-engine as released: run it from a build with debug information (the default
# RelWithDebInfo) at each release, and whenever the SOVERSION was raised for a break. packaging/check-install.sh
# compares every build against this record with abidiff (Debian's abigail-tools).
# Usage: packaging/abi/update.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:?usage: packaging/abi/update.sh BUILD_DIR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
DESTDIR="$work/root" cmake --install "$build" --prefix /usr --component Unspecified >/dev/null
lib=$(find "$build/engine" -maxdepth 1 -name 'liboutbox-engine.so.*.*' -type f | head -n 1)
soname=$(objdump -p "$lib" | awk '/SONAME/ { print $2 }')
# The public types are those declared in the installed headers, named by their source paths (as the debug
# information names them).
headers=()
for h in "$work"/root/usr/include/outbox/*.h; do headers+=(--header-file "$(find "$PWD/engine" -name "$(basename "$h")")"); done
abidw "${headers[@]}" --drop-private-types --no-corpus-path --no-show-locs --type-id-style hash \
  --out-file "$work/$soname.abi" "$lib"
rm -f packaging/abi/*.abi.xz
xz -9 -c "$work/$soname.abi" > "packaging/abi/$soname.abi.xz"
echo "recorded the ABI of $soname in packaging/abi/$soname.abi.xz"
