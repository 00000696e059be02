#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Refreshes the README's screenshots: the console on a fresh demo outbox, under Xvfb, on a 1280x720 and a
# 1920x1080 screen, at 100 % and 150 % scale, light and dark.
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
# shot SCREEN SCALE FILE [--dark]: a throwaway home each time (a new demo outbox, default settings), so the
# picture is the same every time.
shot() {
  rm -rf "$home"/*
  XDG_DATA_HOME="$home/data" XDG_CONFIG_HOME="$home/config" QT_QPA_PLATFORM=xcb QT_SCALE_FACTOR="$2" \
    xvfb-run -a -s "-screen 0 $1x24" "$build/app/outbox-console" --screenshot "$3" "${@:4}"
  echo "wrote $3"
}
shot 1600x1000 1 docs/console-main.png
shot 1280x720 1 docs/console-1280x720.png
shot 1920x1080 1.5 docs/console-1920x1080-150-dark.png --dark
shot 1280x720 1.5 docs/console-1280x720-150.png
