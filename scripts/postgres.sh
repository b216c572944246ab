#!/usr/bin/env bash
# A throwaway PostgreSQL for the storage and API tests.
#   bash scripts/postgres.sh start   install (Debian packages) if missing, start, print the URL on stdout
#   bash scripts/postgres.sh stop    stop the server started by `start`
# Data lives in $ADVISOR_PG_DIR (default /tmp/advisor-pg), port $ADVISOR_PG_PORT (default 55432),
# listening on 127.0.0.1 only, trust authentication, fsync off (test data, never kept).
set -euo pipefail
PGDIR="${ADVISOR_PG_DIR:-/tmp/advisor-pg}"
PORT="${ADVISOR_PG_PORT:-55432}"
LOG="$PGDIR.log"

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

install_postgres() {
  echo "installing PostgreSQL from the Debian packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  local bin
  bin="$(find_bin)"
  if [ -z "$bin" ] || [ ! -x "$bin/pg_ctl" ]; then
    install_postgres
    bin="$(find_bin)"
  fi
  if [ ! -s "$PGDIR/PG_VERSION" ]; then
    rm -rf "$PGDIR"
    mkdir -p "$PGDIR"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$PGDIR"
    as_postgres "$bin/initdb" -D "$PGDIR" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >&2 \
      || as_postgres "$bin/initdb" -D "$PGDIR" -U postgres --auth=trust -E UTF8 >&2
  fi
  if ! as_postgres "$bin/pg_ctl" -D "$PGDIR" status >/dev/null 2>&1; then
    touch "$LOG"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$LOG"
    as_postgres "$bin/pg_ctl" -D "$PGDIR" -l "$LOG" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $PORT -k $PGDIR -c fsync=off -c full_page_writes=off -c max_connections=200" >&2
  fi
  for _ in $(seq 1 60); do
    if as_postgres "$bin/pg_isready" -h 127.0.0.1 -p "$PORT" -q; then
      echo "postgresql://postgres@127.0.0.1:$PORT/postgres"
      return 0
    fi
    sleep 0.5
  done
  echo "PostgreSQL did not become ready; see $LOG" >&2
  return 1
}

stop() {
  local bin
  bin="$(find_bin)"
  [ -n "$bin" ] && [ -s "$PGDIR/PG_VERSION" ] && as_postgres "$bin/pg_ctl" -D "$PGDIR" -m fast -w stop >&2 || true
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
