#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages that building and testing Outbox Console need, when any is missing.
# Idempotent: prints nothing and changes nothing when everything is already installed.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache
  qt6-base-dev libqt6sql6-sqlite libqt6sql6-psql libqt6network6
  libsqlite3-dev sqlite3
  postgresql mariadb-server libqt6sql6-mysql
  python3
  appstream desktop-file-utils dpkg-dev lintian man-db clang-format abigail-tools doxygen
  clang libclang-rt-14-dev
  openssl
  nginx-light wrk iproute2 procps util-linux
  libmosquitto-dev mosquitto mosquitto-clients libnats-dev nats-server librdkafka-dev librabbitmq-dev rabbitmq-server
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Node.js and npm run the conformance test against the CloudEvents JavaScript SDK.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
