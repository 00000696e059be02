#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A throwaway MariaDB server for the tests: mariadb-install-db + mariadbd as an unprivileged user, on a free
# loopback port and its own socket, in a temporary directory.
#   tests/mariadb-server.sh start STATE     starts it; writes the connection URL and data directory to STATE
#                                           (with MARIADB_TLS_DIR set, it offers TLS with that directory's
#                                           ca.pem, srv.pem and srv.key; MARIADB_BUFFER_POOL sets InnoDB's
#                                           buffer pool, 64M unless set: small, since a test run starts several)
#   tests/mariadb-server.sh restart STATE   restarts it (same port, same data)
#   tests/mariadb-server.sh stop STATE      stops it and removes its files
set -euo pipefail
cmd=${1:?usage: mariadb-server.sh start|restart|stop STATE}
state=${2:?usage: mariadb-server.sh start|restart|stop STATE}

server=$(command -v mariadbd || ls /usr/sbin/mariadbd 2>/dev/null || true)
[ -x "$server" ] || { echo "mariadb-server.sh: mariadbd not found (install the mariadb-server package)" >&2; exit 1; }

as_owner() { # run as the unprivileged mysql user when started as root
  if [ "$(id -u)" -eq 0 ]; then runuser -u mysql -- "$@"; else "$@"; fi
}

launch() { # dir port
  local tls=()
  [ -f "$1/tls/srv.pem" ] && tls=(--ssl-ca="$1/tls/ca.pem" --ssl-cert="$1/tls/srv.pem" --ssl-key="$1/tls/srv.key")
  as_owner "$server" --no-defaults "${tls[@]}" --datadir="$1/data" --socket="$1/sock" --pid-file="$1/pid" \
    --port="$2" --bind-address=127.0.0.1 --skip-name-resolve --skip-log-bin --log-error="$1/server.log" \
    --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --sync-binlog=0 --max-connections=400 \
    --max-allowed-packet=64M --innodb-buffer-pool-size="${MARIADB_BUFFER_POOL:-64M}" --innodb-log-file-size=32M --performance-schema=OFF >/dev/null 2>&1 &
  for _ in $(seq 1 600); do
    [ -S "$1/sock" ] && mariadb-admin --no-defaults -S "$1/sock" -u root ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  cat "$1/server.log" >&2
  return 1
}

case "$cmd" in
  start)
    [ -f "$state" ] && "$0" stop "$state" || true
    dir=$(mktemp -d /tmp/outbox-mariadbtest.XXXXXX)
    chmod 755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown mysql: "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    # MARIADB_TLS_DIR=DIR (ca.pem, srv.pem, srv.key): the server offers TLS with that certificate.
    if [ -n "${MARIADB_TLS_DIR:-}" ]; then
      mkdir "$dir/tls" && cp "$MARIADB_TLS_DIR"/{ca.pem,srv.pem,srv.key} "$dir/tls/"
      [ "$(id -u)" -eq 0 ] && chown -R mysql: "$dir/tls"
    fi
    as_owner mariadb-install-db --no-defaults --datadir="$dir/data" --auth-root-authentication-method=socket \
      --skip-test-db >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; exit 1; }
    launch "$dir" "$port"
    # The tests' user, over TCP with a password, allowed to create a database per test.
    mariadb --no-defaults -S "$dir/sock" -u "$( [ "$(id -u)" -eq 0 ] && echo mysql || id -un)" -e \
      "CREATE USER 'outbox'@'127.0.0.1' IDENTIFIED BY 'outbox-test-secret'; GRANT ALL ON *.* TO 'outbox'@'127.0.0.1';
       CREATE DATABASE outbox_test;" 2>"$dir/setup.log" \
      || mariadb --no-defaults -S "$dir/sock" -u root -e \
      "CREATE USER 'outbox'@'127.0.0.1' IDENTIFIED BY 'outbox-test-secret'; GRANT ALL ON *.* TO 'outbox'@'127.0.0.1';
       CREATE DATABASE outbox_test;" || { cat "$dir/setup.log" >&2; exit 1; }
    mkdir -p "$(dirname "$state")"
    {
      echo "MARIADBTEST_DIR=$dir"
      echo "MARIADBTEST_PORT=$port"
      echo "MARIADBTEST_URL=mysql://outbox:outbox-test-secret@127.0.0.1:$port/outbox_test"
    } > "$state.new"
    mv "$state.new" "$state" # whole, for a reader that waits for it to appear
    echo "MariaDB test server on 127.0.0.1:$port ($dir)"
    ;;
  restart)
    . "$state"
    kill "$(cat "$MARIADBTEST_DIR/pid")" 2>/dev/null || true
    for _ in $(seq 1 600); do [ -f "$MARIADBTEST_DIR/pid" ] || break; sleep 0.1; done
    launch "$MARIADBTEST_DIR" "$MARIADBTEST_PORT"
    ;;
  stop)
    [ -f "$state" ] || exit 0
    . "$state"
    if [ -f "$MARIADBTEST_DIR/pid" ]; then
      kill "$(cat "$MARIADBTEST_DIR/pid")" 2>/dev/null || true
      for _ in $(seq 1 600); do [ -f "$MARIADBTEST_DIR/pid" ] || break; sleep 0.1; done
    fi
    rm -rf "$MARIADBTEST_DIR" "$state"
    ;;
  *)
    echo "usage: mariadb-server.sh start|restart|stop STATE" >&2; exit 2 ;;
esac
