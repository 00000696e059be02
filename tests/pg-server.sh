#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A throwaway PostgreSQL server for the tests: initdb + pg_ctl as an unprivileged user, on a free loopback
# port, in a temporary directory.
#   tests/pg-server.sh start STATE     starts it; writes the connection URL and data directory to STATE
#   tests/pg-server.sh restart STATE   restarts it (same port, same data)
#   tests/pg-server.sh stop STATE      stops it and removes its files
#   tests/pg-server.sh standby PRIMARY STATE   a streaming standby of the server of PRIMARY (pg_basebackup),
#                                      on its own free port; STATE as for start
#   tests/pg-server.sh promote STATE   promotes a standby to a primary
#   tests/pg-server.sh kill STATE      stops a server at once, as a crash would (-m immediate); files kept
set -euo pipefail
cmd=${1:?usage: pg-server.sh start|restart|stop|promote|kill STATE | standby PRIMARY STATE}
state=${2:?usage: pg-server.sh start|restart|stop STATE}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/initdb" ] || { echo "pg-server.sh: PostgreSQL server binaries not found (install the postgresql package)" >&2; exit 1; }

as_owner() { # run as the server's unprivileged owner: PostgreSQL refuses to run as root
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    # PGTEST_SYNCHRONOUS=1: commits wait for the WAL flush (and, once a standby is made, for the standby), for
    # a failover test where a commit must survive its server.
    commit_mode="-c synchronous_commit=off"
    [ "${PGTEST_SYNCHRONOUS:-}" = 1 ] && commit_mode=""
    [ -f "$state" ] && "$0" stop "$state" || true
    dir=$(mktemp -d /tmp/outbox-pgtest.XXXXXX)
    chmod 755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    pwfile="$dir/pw"
    echo "outbox-test-secret" > "$pwfile"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$pwfile"
    as_owner "$bindir/initdb" -D "$dir/data" -U outbox --pwfile="$pwfile" --auth=scram-sha-256 -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off $commit_mode -c full_page_writes=off -c max_connections=300" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    mkdir -p "$(dirname "$state")"
    {
      echo "PGTEST_DIR=$dir"
      echo "PGTEST_PORT=$port"
      echo "PGTEST_URL=postgresql://outbox:outbox-test-secret@127.0.0.1:$port/postgres"
    } > "$state"
    echo "PostgreSQL test server on 127.0.0.1:$port ($dir)"
    ;;
  standby)
    primary=$state
    state=${3:?usage: pg-server.sh standby PRIMARY STATE}
    . "$primary"
    primary_port=$PGTEST_PORT
    dir=$(mktemp -d /tmp/outbox-pgtest.XXXXXX)
    chmod 700 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    # -R writes the standby's primary_conninfo and standby.signal; -X stream copies the WAL made meanwhile.
    as_owner env PGPASSWORD=outbox-test-secret "$bindir/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U outbox \
      -D "$dir/data" -R -X stream --no-sync >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; exit 1; }
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    {
      echo "PGTEST_DIR=$dir"
      echo "PGTEST_PORT=$port"
      echo "PGTEST_URL=postgresql://outbox:outbox-test-secret@127.0.0.1:$port/postgres"
    } > "$state.tmp" && mv "$state.tmp" "$state"
    # Synchronous replication when the primary commits synchronously: a commit it confirmed is on the standby.
    if as_owner env PGPASSWORD=outbox-test-secret psql -h 127.0.0.1 -p "$primary_port" -U outbox -d postgres -Atqc \
      "SHOW synchronous_commit" | grep -qx on; then
      as_owner env PGPASSWORD=outbox-test-secret psql -h 127.0.0.1 -p "$primary_port" -U outbox -d postgres -qc \
        "ALTER SYSTEM SET synchronous_standby_names = '*'" -c "SELECT pg_reload_conf()" >/dev/null
    fi
    echo "PostgreSQL standby on 127.0.0.1:$port ($dir)"
    ;;
  promote)
    . "$state"
    as_owner "$bindir/pg_ctl" -D "$PGTEST_DIR/data" -w -t 60 promote >/dev/null
    ;;
  kill)
    . "$state"
    as_owner "$bindir/pg_ctl" -D "$PGTEST_DIR/data" -w -t 60 -m immediate stop >/dev/null
    ;;
  restart)
    . "$state"
    as_owner "$bindir/pg_ctl" -D "$PGTEST_DIR/data" -l "$PGTEST_DIR/server.log" -w -t 60 -m fast restart >/dev/null
    ;;
  stop)
    [ -f "$state" ] || exit 0
    . "$state"
    as_owner "$bindir/pg_ctl" -D "$PGTEST_DIR/data" -w -t 60 -m fast stop >/dev/null 2>&1 || true
    rm -rf "$PGTEST_DIR" "$state"
    ;;
  *)
    echo "usage: pg-server.sh start|restart|stop|promote|kill STATE | standby PRIMARY STATE" >&2; exit 2 ;;
esac
