#!/usr/bin/env bash
# Prints the URL of a PostgreSQL server the tests may create databases on:
#   1. XINFANG_TEST_DATABASE_URL when set;
#   2. else the server on 127.0.0.1:5432 when one answers (trust auth, user postgres);
#   3. else a private cluster under .tools/pg on port 55432, installing PostgreSQL 15 first
#      if it is missing.
# It also drops test databases that earlier, interrupted runs left behind.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"

drop_leftovers() {
    command -v psql >/dev/null 2>&1 || return 0
    psql "$1" -tAc "select datname from pg_database where datname like 'xinfang_test_%'" 2>/dev/null |
        while read -r name; do
            [ -n "$name" ] && psql "$1" -qc "drop database if exists $name with (force)" >/dev/null 2>&1 || true
        done
}

answers() {
    command -v psql >/dev/null 2>&1 && psql "$1" -tAc 'select 1' >/dev/null 2>&1
}

if [ -n "${XINFANG_TEST_DATABASE_URL:-}" ]; then
    echo "$XINFANG_TEST_DATABASE_URL"
    exit 0
fi

local_url="postgres://postgres@127.0.0.1:5432/postgres"
if answers "$local_url"; then
    drop_leftovers "$local_url"
    echo "$local_url"
    exit 0
fi

bin="/usr/lib/postgresql/15/bin"
if [ ! -x "$bin/initdb" ]; then
    echo "installing PostgreSQL 15 for the tests" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >&2
fi

cluster="$root/.tools/pg"
port=55432
as_owner() {
    # initdb refuses to run as root; the cluster belongs to the postgres user then.
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ ! -f "$cluster/PG_VERSION" ]; then
    mkdir -p "$cluster"
    [ "$(id -u)" = 0 ] && chown postgres "$cluster"
    as_owner "$bin/initdb" -U postgres --auth=trust -D "$cluster" >/dev/null
fi
private_url="postgres://postgres@127.0.0.1:$port/postgres"
if ! answers "$private_url"; then
    as_owner "$bin/pg_ctl" -D "$cluster" -l "$cluster/server.log" -w \
        -o "-p $port -k $cluster -c listen_addresses=127.0.0.1" start >/dev/null
fi
drop_leftovers "$private_url"
echo "$private_url"
