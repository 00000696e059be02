#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Refreshes the README's screenshots: the console on a fresh demo outbox, under Xvfb.
#   bash packaging/screenshots.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
need=()
command -v xvfb-run >/dev/null || need+=(xvfb xauth)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get install -y --no-install-recommends "${need[@]}"
fi
cmake --build "$build" --target outbox-console >/dev/null
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
mkdir -p docs
# A throwaway home: a new demo outbox and default settings, so the picture is the same every time.
XDG_DATA_HOME="$home/data" XDG_CONFIG_HOME="$home/config" QT_QPA_PLATFORM=xcb \
  xvfb-run -a -s "-screen 0 1600x1000x24" "$build/app/outbox-console" --screenshot docs/console-main.png
echo "wrote docs/console-main.png"
