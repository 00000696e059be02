#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The table designs of the throughput issue's next step, measured before they are built (docs/ARCHITECTURE.md,
# "Where the relayer's database time goes"): the claim and write-back statements alone, alternating designs in
# one run, medians of RUNS.
#   bash tests/design/measure.sh BUILD_DIR [RUNS] [PG_STATE]
# SQLite: ceiling-designs.c (SQLite's C API) on a file in a temporary directory, 100,000 events of 100 B.
# PostgreSQL (with PG_STATE from `tests/pg-server.sh start`): pgbench runs pg-today.sql and pg-queue.sql,
# 1 and 4 clients, on 40,000 events enqueued by outboxctl.
set -euo pipefail
build=$(cd "$1" && pwd); runs=${2:-3}; state=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
ctl="$build/app/outboxctl"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cc -O2 -Wall -Wextra -Werror -o "$work/ceiling-designs" "$here/ceiling-designs.c" -lsqlite3
echo "SQLite, 100,000 events of 100 B, batches of 100:"
"$work/ceiling-designs" "$ctl" "$work/designs.db" 100000 "$runs" today queue batch-claims queue+claims
[ -n "$state" ] || exit 0
# shellcheck disable=SC1090
. "$state"
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
python3 -c 'import json; [print(json.dumps({"type": "com.example.order.created", "source": "/bench", "data": {"order": i, "total": 42.5}})) for i in range(40000)]' > "$work/events.jsonl"
pgrun() { # design clients -> events/s
    local name url tps
    name=designs$RANDOM$RANDOM
    "$bin/psql" -q "$PGTEST_URL" -c "CREATE DATABASE $name"
    url="${PGTEST_URL%/postgres}/$name"
    "$ctl" --db "$url" init >/dev/null
    "$ctl" --db "$url" enqueue --jsonl "$work/events.jsonl" >/dev/null
    [ "$1" = queue ] && "$bin/psql" -q "$url" -f "$here/pg-queue-setup.sql"
    "$bin/psql" -q "$url" -c "VACUUM ANALYZE"
    tps=$("$bin/pgbench" -n -M prepared -f "$here/pg-$1.sql" -c "$2" -j "$2" -t $((380 / $2)) "$url" 2>&1 |
        sed -n 's/^tps = \([0-9.]*\).*/\1/p')
    "$bin/psql" -q "$PGTEST_URL" -c "DROP DATABASE $name"
    python3 -c "print(round($tps * 100))"
}
for clients in 1 4; do
    today=(); queue=()
    for _ in $(seq 1 "$runs"); do
        today+=("$(pgrun today "$clients")"); queue+=("$(pgrun queue "$clients")")
    done
    python3 - "$clients" "${today[*]}" "${queue[*]}" <<'PY'
import statistics, sys
clients, today, queue = sys.argv[1], [int(x) for x in sys.argv[2].split()], [int(x) for x in sys.argv[3].split()]
t, q = statistics.median(today), statistics.median(queue)
print(f"PostgreSQL, {clients} client(s): today {today} median {t:.0f}/s; queue {queue} median {q:.0f}/s; {q / t:.2f}x")
PY
done
