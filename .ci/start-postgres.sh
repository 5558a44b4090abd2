#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on 127.0.0.1:${PGPORT:-55432} for the
# test suite and prints the URL to use as VERDICT_TEST_POSTGRES_URL.
# Needs Debian's postgresql package (apt-get install -y postgresql).
set -euo pipefail
port="${PGPORT:-55432}"
dir="${PGDATA_DIR:-/tmp/verdict-pg}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -x "$bin/initdb" ] || { echo "PostgreSQL server binaries not found (apt-get install -y postgresql)" >&2; exit 1; }
run_as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
if [ -f "$dir/postmaster.pid" ] && run_as_postgres "'$bin/pg_ctl' -D '$dir' status" >/dev/null 2>&1; then
  echo "postgres://postgres@127.0.0.1:$port/postgres"; exit 0
fi
rm -rf "$dir"; mkdir -p "$dir"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
run_as_postgres "'$bin/initdb' -D '$dir' --auth=trust -U postgres" >/dev/null
run_as_postgres "'$bin/pg_ctl' -D '$dir' -l '$dir/log' -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400\" -w start" >/dev/null
echo "postgres://postgres@127.0.0.1:$port/postgres"
