#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Relay rate per database, with 1 and with 4 relayer processes: N events enqueued (one transaction), then
# `outboxctl relay --drain` until none is due, into `outboxctl receive`. SQLite, and the throwaway PostgreSQL
# and MariaDB servers the test suite uses. A benchmark program beside the tests, not a test.
#   bash tests/bench-databases.sh BUILD_DIR [EVENTS]
# Prints events/s per case and each as a ratio to SQLite with one relayer, measured in the same run.
set -euo pipefail
build=${1:?usage: bench-databases.sh BUILD_DIR [EVENTS]}
n=${2:-20000}
ctl="$build/app/outboxctl"
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/outbox-benchdb.XXXXXX)
cleanup() {
  [ -n "${receiver:-}" ] && kill "$receiver" 2>/dev/null || true
  bash "$here/pg-server.sh" stop "$work/pg.env" >/dev/null 2>&1 || true
  bash "$here/mariadb-server.sh" stop "$work/maria.env" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

bash "$here/pg-server.sh" start "$work/pg.env" >/dev/null
bash "$here/mariadb-server.sh" start "$work/maria.env" >/dev/null
. "$work/pg.env"; . "$work/maria.env"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$ctl" --db "sqlite://$work/receiver.db" receive --port "$port" >/dev/null 2>&1 &
receiver=$!
sleep 0.5

python3 - "$n" > "$work/events.jsonl" <<'PY'
import json, sys
for i in range(int(sys.argv[1])):
    print(json.dumps({"type": "com.example.order.created", "source": "/bench", "data": {"order": i, "total": 42.5}}))
PY

mkdb() { # name -> URL of a new, empty place for an outbox
  case $1 in
    sqlite) echo "sqlite://$work/$2.db" ;;
    postgresql)
      "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/psql" -q "${PGTEST_URL}" -c "CREATE DATABASE $2" >/dev/null
      echo "${PGTEST_URL%/postgres}/$2" ;;
    mysql)
      mariadb --no-defaults -S "$MARIADBTEST_DIR/sock" -u root -e "CREATE DATABASE $2" 2>/dev/null \
        || mariadb --no-defaults -h 127.0.0.1 -P "$MARIADBTEST_PORT" -u outbox -poutbox-test-secret -e "CREATE DATABASE $2"
      echo "${MARIADBTEST_URL%/outbox_test}/$2" ;;
  esac
}

run() { # db relayers -> events/s
  local url; url=$(mkdb "$1" "bench_$1_$2")
  "$ctl" --db "$url" init >/dev/null
  "$ctl" --db "$url" enqueue --jsonl "$work/events.jsonl" >/dev/null
  local start end pids=()
  start=$(date +%s.%N)
  for _ in $(seq 1 "$2"); do
    "$ctl" --db "$url" relay --drain --target "http://127.0.0.1:$port/" --log-level error >/dev/null &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  end=$(date +%s.%N)
  local sent; sent=$("$ctl" --db "$url" stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sent"])')
  [ "$sent" -eq "$n" ] || { echo "bench-databases: $1 with $2 relayers sent $sent of $n" >&2; exit 1; }
  python3 -c "print(round($n / ($end - $start)))"
}

base=$(run sqlite 1)
printf '%-11s %-9s %10s %8s\n' database relayers events/s ratio
for db in sqlite postgresql mysql; do
  for r in 1 4; do
    if [ "$db" = sqlite ] && [ "$r" = 1 ]; then rate=$base; else rate=$(run "$db" "$r"); fi
    printf '%-11s %-9s %10s %8s\n' "$db" "$r" "$rate" "$(python3 -c "print(f'{$rate / $base:.2f}')")"
  done
done
