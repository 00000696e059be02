#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Commit-to-delivery latency at a steady 200 events/s, with wake-up on commit and with polling alone:
# SQLite with the relayer in the same process and in another one, PostgreSQL with NOTIFY. Starts its own
# throwaway PostgreSQL server. Usage: tests/bench-latency.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
seconds=${2:-10}
bench="$build/tests/outbox-bench-latency"
[ -x "$bench" ] || { echo "build first: $bench is missing" >&2; exit 1; }
work=$(mktemp -d)
state="$work/pg.env"
trap 'bash "$here/pg-server.sh" stop "$state" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
bash "$here/pg-server.sh" start "$state" >/dev/null
. "$state"
pg_db() { # a fresh database on the test server
  PGPASSWORD=outbox-test-secret psql -q -h 127.0.0.1 -p "$PGTEST_PORT" -U outbox postgres -c "CREATE DATABASE $1" >/dev/null
  echo "postgresql://outbox:outbox-test-secret@127.0.0.1:$PGTEST_PORT/$1"
}
n=0
run() { # run BACKEND RELAYER WAKE
  n=$((n + 1))
  local url
  if [ "$1" = sqlite ]; then url="sqlite://$work/latency-$n.db"; else url=$(pg_db "latency_$n"); fi
  "$bench" --db "$url" --rate 200 --seconds "$seconds" --relayer "$2" --wake "$3"
}
for wake in on off; do
  run sqlite thread $wake
  run sqlite process $wake
  run postgresql process $wake
done
