#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The table designs of the throughput issue's next step, measured before they are built (docs/ARCHITECTURE.md,
# "Where the relayer's database time goes"): the claim and write-back statements alone, alternating designs in
# one run, medians of RUNS.
#   bash tests/design/measure.sh BUILD_DIR [RUNS] [PG_STATE] [MARIADB_STATE]
# SQLite: ceiling-designs.c (SQLite's C API) on a file in a temporary directory, 100,000 events of 100 B.
# PostgreSQL (with PG_STATE from `tests/pg-server.sh start`): pgbench runs pg-today.sql, pg-queue-lease.sql and
# pg-queue.sql, 1 and 4 clients, on 40,000 events enqueued by outboxctl, on the outbox as schema version 9 left
# it (pg-version9.sql: "today" is version 9's statements; version 10 built queue-lease).
# MariaDB (with MARIADB_STATE from `tests/mariadb-server.sh start`; '' for PG_STATE to skip PostgreSQL): the
# procedures of mysql-designs.sql relay 20,000 events on the server, one client: today, queue-lease (the queue
# row holds the lease and the due index, outbox_events_due dropped; the write-back still rewrites the event row
# and deletes the queue row) and queue (the write-back appends an outcome row instead).
set -euo pipefail
build=$(cd "$1" && pwd); runs=${2:-3}; state=${3:-}; mstate=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
ctl="$build/app/outboxctl"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cc -O2 -Wall -Wextra -Werror -o "$work/ceiling-designs" "$here/ceiling-designs.c" -lsqlite3
echo "SQLite, 100,000 events of 100 B, batches of 100:"
"$work/ceiling-designs" "$ctl" "$work/designs.db" 100000 "$runs" today queue batch-claims queue+claims
python3 -c 'import json; [print(json.dumps({"type": "com.example.order.created", "source": "/bench", "data": {"order": i, "total": 42.5}})) for i in range(40000)]' > "$work/events.jsonl"
if [ -n "$mstate" ]; then
    # shellcheck disable=SC1090
    . "$mstate"
    mariadb=(mariadb --no-defaults -S "$MARIADBTEST_DIR/sock" -u root)
    head -n 20000 "$work/events.jsonl" > "$work/events20k.jsonl"
    myrun() { # design -> events/s
        local name url start end sent
        name=designs$RANDOM$RANDOM
        "${mariadb[@]}" -e "CREATE DATABASE $name"
        url="${MARIADBTEST_URL%/*}/$name"
        "$ctl" --db "$url" init >/dev/null
        "$ctl" --db "$url" enqueue --jsonl "$work/events20k.jsonl" >/dev/null
        [ "$1" != today ] && "${mariadb[@]}" "$name" < "$here/mysql-queue-setup.sql"
        [ "$1" = queue_lease ] && "${mariadb[@]}" "$name" -e "DROP INDEX outbox_events_due ON outbox_events"
        "${mariadb[@]}" "$name" -e "ANALYZE TABLE outbox_events" >/dev/null
        "${mariadb[@]}" "$name" < "$here/mysql-designs.sql"
        start=$(date +%s.%N)
        "${mariadb[@]}" "$name" -e "CALL relay_$1()"
        end=$(date +%s.%N)
        if [ "$1" = queue ]; then
            sent=$("${mariadb[@]}" -N "$name" -e "SELECT COUNT(*) FROM outbox_sent")
        else
            sent=$("${mariadb[@]}" -N "$name" -e "SELECT COUNT(*) FROM outbox_events WHERE status = 'sent'")
        fi
        "${mariadb[@]}" -e "DROP DATABASE $name"
        [ "$sent" = 20000 ] || { echo "measure.sh: the $1 design relayed $sent of 20000" >&2; exit 1; }
        python3 -c "print(round(20000 / ($end - $start)))"
    }
    today=(); lease=(); queue=()
    for _ in $(seq 1 "$runs"); do
        today+=("$(myrun today)"); lease+=("$(myrun queue_lease)"); queue+=("$(myrun queue)")
    done
    python3 - "${today[*]}" "${lease[*]}" "${queue[*]}" <<'PY'
import statistics, sys
today, lease, queue = ([int(x) for x in a.split()] for a in sys.argv[1:4])
t, l, q = statistics.median(today), statistics.median(lease), statistics.median(queue)
print(f"MariaDB, 1 client: today {today} median {t:.0f}/s; queue-lease {lease} median {l:.0f}/s, {l / t:.2f}x; "
      f"queue {queue} median {q:.0f}/s, {q / t:.2f}x")
PY
fi
[ -n "$state" ] || exit 0
# shellcheck disable=SC1090
. "$state"
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
pgrun() { # design clients -> events/s
    local name url tps
    name=designs$RANDOM$RANDOM
    "$bin/psql" -q "$PGTEST_URL" -c "CREATE DATABASE $name"
    url="${PGTEST_URL%/postgres}/$name"
    "$ctl" --db "$url" init >/dev/null
    "$ctl" --db "$url" enqueue --jsonl "$work/events.jsonl" >/dev/null
    "$bin/psql" -q "$url" -f "$here/pg-version9.sql"
    [ "$1" != today ] && "$bin/psql" -q "$url" -f "$here/pg-queue-setup.sql"
    "$bin/psql" -q "$url" -c "VACUUM ANALYZE"
    tps=$("$bin/pgbench" -n -M prepared -f "$here/pg-$1.sql" -c "$2" -j "$2" -t $((380 / $2)) "$url" 2>&1 |
        sed -n 's/^tps = \([0-9.]*\).*/\1/p')
    "$bin/psql" -q "$PGTEST_URL" -c "DROP DATABASE $name"
    python3 -c "print(round($tps * 100))"
}
for clients in 1 4; do
    today=(); lease=(); queue=()
    for _ in $(seq 1 "$runs"); do
        today+=("$(pgrun today "$clients")"); lease+=("$(pgrun queue-lease "$clients")"); queue+=("$(pgrun queue "$clients")")
    done
    python3 - "$clients" "${today[*]}" "${lease[*]}" "${queue[*]}" <<'PY'
import statistics, sys
clients = sys.argv[1]
today, lease, queue = ([int(x) for x in a.split()] for a in sys.argv[2:5])
t, l, q = statistics.median(today), statistics.median(lease), statistics.median(queue)
print(f"PostgreSQL, {clients} client(s): today {today} median {t:.0f}/s; queue-lease {lease} median {l:.0f}/s, "
      f"{l / t:.2f}x; queue {queue} median {q:.0f}/s, {q / t:.2f}x")
PY
done
