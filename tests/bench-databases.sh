#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Relay rate per database, with 1 and with 4 relayer processes: N events enqueued (one transaction), then
# `outboxctl relay --drain` until none is due. SQLite, and throwaway PostgreSQL and MariaDB servers started
# as the test suite starts them. A benchmark program beside the tests, not a test.
#   bash tests/bench-databases.sh BUILD_DIR [EVENTS] [--mode binary|batch] [--target receive|nginx] [--runs N]
#        [--databases LIST]
# --mode: binary (one request per event, the default) or batch (100 events per request). --target: `outboxctl
# receive` (the default) or nginx answering 202 (not ours; less CPU per request). --runs: runs per case, the
# median is printed. --databases: a comma-separated subset of sqlite,postgresql,mysql.
# MariaDB runs with its stock buffer pool (128 MB; the tests' servers keep 64 MB to stay small): with 100,000
# events the tables outgrow 64 MB, and the server would spend the run reading its own pages back.
# Prints events/s per case and each as a ratio to SQLite with one relayer, measured in the same run (or, without
# SQLite, to the first database's one-relayer rate).
set -euo pipefail
usage="usage: bench-databases.sh BUILD_DIR [EVENTS] [--mode binary|batch] [--target receive|nginx] [--runs N] [--databases LIST]"
build=${1:?$usage}; shift
n=20000
[ $# -gt 0 ] && [ "${1#--}" = "$1" ] && { n=$1; shift; }
mode=binary; target=receive; runs=1; databases=sqlite,postgresql,mysql
while [ $# -gt 0 ]; do
  case $1 in
    --mode) mode=${2:?$usage}; shift 2 ;;
    --target) target=${2:?$usage}; shift 2 ;;
    --runs) runs=${2:?$usage}; shift 2 ;;
    --databases) databases=${2:?$usage}; shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
case $mode in binary|batch) ;; *) echo "$usage" >&2; exit 2 ;; esac
case $target in receive|nginx) ;; *) echo "$usage" >&2; exit 2 ;; esac
ctl="$build/app/outboxctl"
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/outbox-benchdb.XXXXXX)
cleanup() {
  [ -n "${receiver:-}" ] && kill "$receiver" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  bash "$here/pg-server.sh" stop "$work/pg.env" >/dev/null 2>&1 || true
  bash "$here/mariadb-server.sh" stop "$work/maria.env" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

if [[ ,$databases, == *,postgresql,* ]]; then
  bash "$here/pg-server.sh" start "$work/pg.env" >/dev/null
  . "$work/pg.env"
fi
if [[ ,$databases, == *,mysql,* ]]; then
  MARIADB_BUFFER_POOL=128M bash "$here/mariadb-server.sh" start "$work/maria.env" >/dev/null
  . "$work/maria.env"
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if [ "$target" = nginx ]; then
  command -v nginx >/dev/null || { echo "bench-databases: nginx is not installed (packaging/install-deps.sh installs it)" >&2; exit 1; }
  cat > "$work/nginx.conf" <<EOF
worker_processes 1; pid $work/nginx.pid; error_log stderr error;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path $work/nginx-body; client_max_body_size 100m;
  server { listen 127.0.0.1:$port; location / { return 202; } } }
EOF
  nginx -p "$work" -c "$work/nginx.conf"
else
  "$ctl" --db "sqlite://$work/receiver.db" receive --port "$port" >/dev/null 2>&1 &
  receiver=$!
fi
for _ in $(seq 1 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
  sleep 0.1
done

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

run_once() { # db relayers -> events/s
  local url; url=$(mkdb "$1" "bench_$1_$2_$RANDOM$RANDOM")
  "$ctl" --db "$url" init >/dev/null
  "$ctl" --db "$url" enqueue --jsonl "$work/events.jsonl" >/dev/null
  local start end pids=()
  start=$(date +%s.%N)
  for _ in $(seq 1 "$2"); do
    "$ctl" --db "$url" relay --drain --mode "$mode" --target "http://127.0.0.1:$port/" --log-level error >/dev/null &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  end=$(date +%s.%N)
  local sent; sent=$("$ctl" --db "$url" stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["sent"])')
  [ "$sent" -eq "$n" ] || { echo "bench-databases: $1 with $2 relayers sent $sent of $n" >&2; exit 1; }
  python3 -c "print(round($n / ($end - $start)))"
}

run() { # db relayers -> the median events/s of --runs runs, and the runs in brackets when there are several
  local rates=()
  for _ in $(seq 1 "$runs"); do rates+=("$(run_once "$1" "$2")"); done
  python3 -c "import statistics, sys; r = [int(x) for x in sys.argv[1:]]; print(round(statistics.median(r)), '' if len(r) == 1 else '(' + ' '.join(map(str, r)) + ')')" "${rates[@]}"
}

echo "mode $mode, target $target, $n events, medians of $runs"
printf '%-11s %-9s %10s %8s  %s\n' database relayers events/s ratio runs
base=
for db in ${databases//,/ }; do
  for r in 1 4; do
    read -r rate each <<<"$(run "$db" "$r")"
    [ -n "$base" ] || base=$rate
    printf '%-11s %-9s %10s %8s  %s\n' "$db" "$r" "$rate" "$(python3 -c "print(f'{$rate / $base:.2f}')")" "${each:-}"
  done
done
