#!/usr/bin/env bash
# Measures what keys, backups and checkpoints cost, on the release build:
# - a data key rotation over SEED requests while the load generator submits for DURATION: the
#   re-sealing rate (values/s, first pass) and the submissions' throughput during it, beside
#   the same load without a rotation;
# - SQLite: `backup` and `backup verify` of that database (SEED requests);
# - the cost of signing one audit checkpoint (ms, from the service's log).
#
#   tools/keys-bench.sh                          # both databases, 100,000 requests
#   DATABASES=sqlite SEED=10000 tools/keys-bench.sh
#
# Needs sqlite3 and psql (for reading the rotation's progress) and a PostgreSQL server at
# $BENCH_PG (trust auth).
set -euo pipefail
cd "$(dirname "$0")/.."

DATABASES=${DATABASES:-"sqlite postgres"}
SEED=${SEED:-100000}
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-16}
BENCH_PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
PORT=${PORT:-18383}
ADMIN_EMAIL=bench-admin@example.org
ADMIN_PASSWORD="bench admin password"
BASE="http://127.0.0.1:$PORT"
KEY=$(head -c32 /dev/zero | base64)

cargo build --release --quiet --bin safescreen --bin loadgen
BIN=target/release/safescreen
LOADGEN=target/release/loadgen
WORK=$(mktemp -d)
trap 'kill "${SERVER:-}" "${LOAD:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
now() { date +%s.%N; }

service_env() { # $1: database URL; sets ENV
    ENV=(SAFESCREEN_DATABASE_URL="$1" SAFESCREEN_DATA_KEY="$KEY" SAFESCREEN_MFA=optional
        SAFESCREEN_ADMIN_EMAIL="$ADMIN_EMAIL" SAFESCREEN_ADMIN_PASSWORD="$ADMIN_PASSWORD"
        SAFESCREEN_MAIL_DIR="$WORK/mail" SAFESCREEN_AUDIT_CHECKPOINT_DIR="$WORK"
        SAFESCREEN_AUDIT_CHECKPOINT_INTERVAL=PT5S SAFESCREEN_RATE_LIMIT=100000000/min)
}
start_server() { # $1: database URL
    service_env "$1"
    env "${ENV[@]}" SAFESCREEN_LISTEN="127.0.0.1:$PORT" \
        SAFESCREEN_LOG="warn,safescreen::audit_checkpoint=info" SAFESCREEN_LOG_FORMAT=json \
        "$BIN" serve >"$WORK/server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 300); do
        curl -sf "$BASE/readyz" >/dev/null && return
        sleep 0.1
    done
    echo "server did not start" >&2; cat "$WORK/server.log" >&2; exit 1
}
cli() { # $1: database URL, then the command
    local url=$1; shift
    service_env "$url"
    env "${ENV[@]}" SAFESCREEN_LOG=error "$BIN" "$@"
}
load() { # prints req/s of DURATION seconds of submissions
    "$LOADGEN" --url "$BASE" --admin-email $ADMIN_EMAIL --admin-password "$ADMIN_PASSWORD" \
        --scenario submit --connections "$CONNECTIONS" --seconds "$DURATION" \
        2>/dev/null | awk '$1 == "submit" {print $3}'
}

echo "| database | measured | figure |"
echo "|---|---|---|"
for database in $DATABASES; do
    case $database in
        sqlite)
            url="sqlite://$WORK/bench.db?mode=rwc"
            progress() { sqlite3 "$WORK/bench.db" "SELECT resealed || ' ' || column_index || ' ' || pass || ' ' || (finished_at IS NOT NULL) FROM data_key_rotations ORDER BY to_key DESC LIMIT 1"; } ;;
        postgres)
            name=keys_bench_$(date +%s)
            psql "$BENCH_PG" -qc "CREATE DATABASE $name"
            base=${BENCH_PG%%\?*}
            url="${base%/*}/$name${BENCH_PG#"$base"}"
            progress() { psql "$url" -Atc "SELECT resealed || ' ' || column_index || ' ' || pass || ' ' || (finished_at IS NOT NULL)::int FROM data_key_rotations ORDER BY to_key DESC LIMIT 1"; } ;;
    esac
    start_server "$url"
    # The seed: SEED requests (the list scenario submits them first), and their e-mail sent.
    "$LOADGEN" --url "$BASE" --admin-email $ADMIN_EMAIL --admin-password "$ADMIN_PASSWORD" \
        --scenario list --requests "$SEED" --connections "$CONNECTIONS" --seconds 1 >/dev/null
    sleep 5
    baseline=$(load)
    echo "| $database | submissions without a rotation ($CONNECTIONS connections) | $baseline req/s |"

    load >"$WORK/during.txt" &
    LOAD=$!
    sleep 2
    started=$(now)
    cli "$url" keys rotate-data >/dev/null
    first_pass=""
    while :; do
        read -r resealed column pass finished <<<"$(progress)"
        if [ -z "$first_pass" ] && { [ "$pass" -gt 1 ] || [ "$column" -ge 14 ]; }; then
            first_pass=$(python3 -c "print($(now) - $started)")
            first_resealed=$resealed
        fi
        [ "$finished" = 1 ] && break
        sleep 0.2
    done
    wait "$LOAD"
    rate=$(python3 -c "print(round($first_resealed / $first_pass))")
    echo "| $database | re-sealing, first pass under load | $first_resealed values in $(printf %.1f "$first_pass") s: $rate values/s |"
    echo "| $database | submissions during the rotation | $(cat "$WORK/during.txt") req/s |"
    echo "| $database | values re-sealed in all (passes: $pass) | $resealed |"
    kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
    cost=$(python3 -c "
import json, sys
costs = [json.loads(l).get('elapsed_ms') for l in open('$WORK/server.log') if 'audit checkpoint' in l]
costs = sorted(c for c in costs if c is not None)
print(f'{costs[len(costs)//2]:.1f} ms median of {len(costs)}' if costs else 'none written')")
    echo "| $database | signing and appending one audit checkpoint | $cost |"

    if [ "$database" = sqlite ]; then
        requests=$(sqlite3 "$WORK/bench.db" "SELECT COUNT(*) FROM screening_requests")
        started=$(now)
        cli "$url" backup "$WORK/backup.db" >/dev/null
        took=$(python3 -c "print(f'{$(now) - $started:.1f}')")
        echo "| sqlite | backup of $requests requests ($(du -h "$WORK/backup.db" | cut -f1)) | $took s |"
        started=$(now)
        cli "$url" backup verify "$WORK/backup.db" >/dev/null
        took=$(python3 -c "print(f'{$(now) - $started:.1f}')")
        echo "| sqlite | backup verify of it | $took s |"
    fi
    rm -f "$WORK/audit-checkpoints.log"
done
