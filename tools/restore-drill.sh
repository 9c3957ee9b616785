#!/usr/bin/env bash
# The PostgreSQL restore drill: proves that a pg_dump taken while the service is under load
# restores. A database gets whole screenings (submit → consent → checks → certificate) from
# the load generator; while they run, the ids of every request, task and certificate committed
# so far are noted and `pg_dump --format=custom` takes its snapshot. The dump is restored with
# pg_restore into a fresh database, `safescreen serve` starts on it, and the drill checks that
# every noted request, task and certificate is there, that the service answers for them, and
# that `audit verify` and `backup verify` pass. Prints the time of each step.
#
#   tools/restore-drill.sh                       # PG=postgres://postgres@127.0.0.1:5432
#
# Needs psql, pg_dump and pg_restore of the server's major version.
set -euo pipefail
cd "$(dirname "$0")/.."

PG=${PG:-postgres://postgres@127.0.0.1:5432}
LOAD_SECONDS=${LOAD_SECONDS:-20}
PORT=${PORT:-18282}
ADMIN_EMAIL=drill-admin@example.org
ADMIN_PASSWORD="drill admin password"
KEY=$(head -c32 /dev/urandom | base64)
WORK=$(mktemp -d)
SOURCE=drill_source_$(date +%s)
TARGET=drill_restored_$(date +%s)
trap 'kill "${SERVER:-}" "${LOAD:-}" 2>/dev/null || true; psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $SOURCE" -c "DROP DATABASE IF EXISTS $TARGET" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

cargo build --release --quiet --bin safescreen --bin loadgen
BIN=target/release/safescreen
now() { date +%s.%N; }
took() { python3 -c "print(f'{$(now) - $1:.1f} s')"; }

serve() { # $1: database name
    SAFESCREEN_DATABASE_URL="$PG/$1" SAFESCREEN_LISTEN="127.0.0.1:$PORT" SAFESCREEN_LOG=warn \
        SAFESCREEN_DATA_KEY=$KEY SAFESCREEN_MFA=optional SAFESCREEN_MAIL_DIR="$WORK/mail" \
        SAFESCREEN_AUDIT_CHECKPOINT_DIR="$WORK" SAFESCREEN_RATE_LIMIT=100000000/min \
        SAFESCREEN_ADMIN_EMAIL=$ADMIN_EMAIL SAFESCREEN_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
        "$BIN" serve >>"$WORK/server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && return
        sleep 0.1
    done
    echo "the server did not start" >&2; cat "$WORK/server.log" >&2; exit 1
}
ids() { # $1: database; sorted as comm wants them
    for table in screening_requests tasks certificates; do
        psql "$PG/$1" -Atc "SELECT '$table ' || id FROM $table"
    done | LC_ALL=C sort
}

psql "$PG/postgres" -qc "CREATE DATABASE $SOURCE" -c "CREATE DATABASE $TARGET"
serve "$SOURCE"
target/release/loadgen --url "http://127.0.0.1:$PORT" --admin-email $ADMIN_EMAIL \
    --admin-password "$ADMIN_PASSWORD" --scenario lifecycle --connections 8 \
    --seconds "$LOAD_SECONDS" --mail-dir "$WORK/mail" >"$WORK/load.txt" 2>&1 &
LOAD=$!
sleep $((LOAD_SECONDS / 2))

# Under load: what is committed now must be in the dump, which starts after.
ids "$SOURCE" >"$WORK/before.txt"
started=$(now)
pg_dump --format=custom --file="$WORK/dump" "$PG/$SOURCE"
dumped=$(took "$started")
kill -0 "$LOAD" 2>/dev/null && under_load=yes || under_load=no
wait "$LOAD"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true

started=$(now)
pg_restore --no-owner --dbname="$PG/$TARGET" "$WORK/dump"
restored=$(took "$started")
started=$(now)
serve "$TARGET"
served=$(took "$started")
ids "$TARGET" >"$WORK/after.txt"
missing=$(LC_ALL=C comm -23 "$WORK/before.txt" "$WORK/after.txt" | wc -l)
if [ "$missing" -ne 0 ]; then
    echo "FAIL: $missing requests, tasks or certificates committed before the dump are missing:" >&2
    LC_ALL=C comm -23 "$WORK/before.txt" "$WORK/after.txt" | head >&2
    exit 1
fi
# The service answers for them: the admin reads each noted request through the API.
token=$(curl -sf -H 'Content-Type: application/json' \
    -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" \
    "http://127.0.0.1:$PORT/v1/auth/login" | python3 -c "import json,sys; print(json.load(sys.stdin)['token'])")
read_back=0
for id in $(grep '^screening_requests ' "$WORK/before.txt" | cut -d' ' -f2); do
    curl -sf -o /dev/null -H "Authorization: Bearer $token" \
        "http://127.0.0.1:$PORT/v1/screening-requests/$id"
    read_back=$((read_back + 1))
done
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
SAFESCREEN_DATABASE_URL="$PG/$TARGET" SAFESCREEN_DATA_KEY=$KEY SAFESCREEN_LOG=error "$BIN" audit verify
SAFESCREEN_DATA_KEY=$KEY SAFESCREEN_LOG=error "$BIN" backup verify "$PG/$TARGET"

echo
echo "| step | result |"
echo "|---|---|"
echo "| committed before the dump | $(grep -c '^screening_requests ' "$WORK/before.txt") requests, $(grep -c '^tasks ' "$WORK/before.txt") tasks, $(grep -c '^certificates ' "$WORK/before.txt") certificates |"
echo "| pg_dump under load ($under_load) | $dumped, $(du -h "$WORK/dump" | cut -f1) |"
echo "| pg_restore into a fresh database | $restored |"
echo "| serve on it until ready | $served |"
echo "| every noted row there, each request read through the API | $read_back read |"
echo "| audit verify, backup verify | pass |"
