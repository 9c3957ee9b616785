#!/usr/bin/env bash
# Benchmarks the release build on SQLite and on PostgreSQL and prints a Markdown table.
#
#   tools/bench.sh                 # both databases
#   DATABASES=sqlite SCENARIOS="read submit" tools/bench.sh
#
# `list` pages through 10,000 requests it submits first, `list-large` through 1,000,000
# (LIST_LARGE; seeding them through the API takes about ten minutes per database); both
# measure once the service has sent the seeding's e-mail and chained its audit events.
# `console` gives one checker 10,000 tasks (LIST_SMALL requests consented to) and fetches their
# queue page with the session cookie (`tasks`: the API's task list, with their token);
# `portal` submits LIST_SMALL requests and fetches the organisation's list page as its
# signed-in admin; `upload` sends one CSV file of 500 rows through the portal's check page and
# submission and reports the seconds of each.
#
# The rate limiter is in place but set far above what the load generator sends, so every
# request pays for its check and none is refused (RATE_LIMIT=600/min for the default).
#
# Needs wrk (Debian package `wrk`) and, for PostgreSQL, a server at $BENCH_PG (trust auth).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
DATABASES=${DATABASES:-"sqlite postgres"}
# lifecycle before submit: submit leaves tens of thousands of invitations for the mail worker.
SCENARIOS=${SCENARIOS:-"me read console tasks portal upload lifecycle verify submit list list-large login sign-in"}
LIST_SMALL=${LIST_SMALL:-10000}
LIST_LARGE=${LIST_LARGE:-1000000}
# PostgreSQL on loopback without TLS, as a local database is best reached (TLS here only costs
# CPU on both ends of the same machine).
BENCH_PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
PORT=${PORT:-18181}
ADMIN_EMAIL=bench-admin@example.org
ADMIN_PASSWORD="bench admin password"
BASE="http://127.0.0.1:$PORT"

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
# BIN and LOADGEN name other builds (an earlier release, to compare); else this one's.
if [ -z "${BIN:-}" ]; then
    cargo build --release --quiet --bin safescreen --bin loadgen
fi
BIN=${BIN:-target/release/safescreen}
LOADGEN=${LOADGEN:-target/release/loadgen}
SECONDS_PER_RUN=${DURATION%s}
WORK=$(mktemp -d)
trap 'kill "${SERVER:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

start_server() { # $1: database URL
    SAFESCREEN_DATABASE_URL="$1" SAFESCREEN_DATABASE_MAX_CONNECTIONS=${POOL:-} SAFESCREEN_LISTEN="127.0.0.1:$PORT" SAFESCREEN_LOG=warn \
        SAFESCREEN_DATA_KEY=$(head -c32 /dev/zero | base64) SAFESCREEN_MFA=${MFA:-optional} \
        SAFESCREEN_ADMIN_EMAIL=$ADMIN_EMAIL SAFESCREEN_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
        SAFESCREEN_RATE_LIMIT=${RATE_LIMIT:-100000000/min} \
        SAFESCREEN_MAIL_DIR="$WORK/mail" "$BIN" serve >"$WORK/server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 100); do
        curl -sf "$BASE/readyz" >/dev/null && return
        sleep 0.1
    done
    echo "server did not start" >&2; cat "$WORK/server.log" >&2; exit 1
}

stop_server() {
    kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
}

json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# Prints "req/s p50 p99" (milliseconds) from wrk --latency output.
wrk_figures() {
    awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
         /Requests\/sec/ {rps=$2} /^ +50%/ {p50=ms($2)} /^ +99%/ {p99=ms($2)}
         END {printf "%d %.2f %.2f\n", rps, p50, p99}'
}

peak_rss_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$SERVER/status"; }

echo "| database | scenario | connections | req/s | p50 ms | p95 ms | p99 ms | errors | server peak RSS |"
echo "|---|---|---|---|---|---|---|---|---|"
for database in $DATABASES; do
    case $database in
        sqlite) url="sqlite://$WORK/bench.db?mode=rwc" ;;
        postgres)
            name=bench_$(date +%s)
            psql "$BENCH_PG" -qc "CREATE DATABASE $name"
            base=${BENCH_PG%%\?*}
            url="${base%/*}/$name${BENCH_PG#"$base"}" ;;
    esac
    start_server "$url"
    for scenario in $SCENARIOS; do
        [ "$scenario" = login ] || [ "$scenario" = verify ] && continue
        if [ "$scenario" = upload ]; then
            # One file of 500 rows through the portal: the check page, then the submission.
            "$LOADGEN" --url "$BASE" --admin-email "$ADMIN_EMAIL" --admin-password "$ADMIN_PASSWORD" \
                --scenario upload --requests 500 >"$WORK/loadgen.out" 2>"$WORK/loadgen.err"
            read -r _ rows _ check _ submitted <"$WORK/loadgen.out"
            echo "| $database | upload: a CSV file of $rows rows, checked in ${check} s, submitted in ${submitted} s | 1 | – | – | – | – | 0 | $(peak_rss_mb) MB |"
            continue
        fi
        run=$scenario requests=$LIST_SMALL
        [ "$scenario" = list-large ] && run=list requests=$LIST_LARGE
        [ "$scenario" = sign-in ] && requests=${SIGN_INS:-200}
        "$LOADGEN" --url "$BASE" --admin-email "$ADMIN_EMAIL" --admin-password "$ADMIN_PASSWORD" \
            --scenario "$run" --connections "$CONNECTIONS" --seconds "$SECONDS_PER_RUN" \
            --mail-dir "$WORK/mail" --requests "$requests" >"$WORK/loadgen.out" 2>"$WORK/loadgen.err"
        # How long the service took to catch up after seeding (to stderr, beside the table).
        grep -hE "caught up|export:" "$WORK/loadgen.err" | sed "s/^/$database $scenario: /" >&2 || true
        while read -r line count rps p50 p95 p99 errors; do
            label=$(case $line in me) echo "GET /v1/me (API key)";; read) echo "read: GET /v1/screening-requests/{id}";;
                submit) echo "submit: POST /v1/screening-requests";;
                list) echo "list: GET /v1/screening-requests, a page of 25 ($requests submitted first)";;
                console) echo "console: GET /console/tasks, a checker's queue page ($requests tasks theirs)";;
                tasks) echo "tasks: GET /v1/tasks?limit=25, the same checker's tasks ($requests theirs)";;
                portal) echo "portal: GET /org/requests, the organisation's list page ($requests requests)";;
                lifecycle) echo "lifecycle: submit → consent → checks → cleared (screenings)";;
                consent) echo "lifecycle: consent → first task assigned";;
                sign-in-password) echo "sign-in: POST /v1/auth/login, password ($requests users, once each)";;
                sign-in-totp) echo "sign-in: POST /v1/auth/login, password and TOTP code ($requests users, once each)";; esac)
            echo "| $database | $label | $CONNECTIONS | $rps | $p50 | $p95 | $p99 | $errors | $(peak_rss_mb) MB |"
        done <"$WORK/loadgen.out"
    done

    if [[ " $SCENARIOS " == *" verify "* ]]; then
    # A real certificate: clear a few requests, then fetch one as the admin.
    "$LOADGEN" --url "$BASE" --admin-email "$ADMIN_EMAIL" --admin-password "$ADMIN_PASSWORD" \
        --scenario lifecycle --connections 4 --seconds 2 --mail-dir "$WORK/mail" >/dev/null 2>&1
    admin=$(curl -sf -H 'Content-Type: application/json' \
        -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" "$BASE/v1/auth/login" | json_field '["token"]')
    cleared=$(curl -sf -H "Authorization: Bearer $admin" "$BASE/v1/screening-requests?status=cleared&limit=1" | json_field '["data"][0]["id"]')
    jws=$(curl -sf -H "Authorization: Bearer $admin" "$BASE/v1/screening-requests/$cleared/certificate" | json_field '["jws"]')
    cat >"$WORK/verify.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"jws":"$jws"}'
LUA
    read -r rps p50 p99 < <(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
        -s "$WORK/verify.lua" "$BASE/v1/certificates/verify" | wrk_figures)
    echo "| $database | POST /v1/certificates/verify (wrk) | $CONNECTIONS | $rps | $p50 | – | $p99 | – | $(peak_rss_mb) MB |"
    fi

    if [[ " $SCENARIOS " == *" login "* ]]; then
    cat >"$WORK/login.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"$ADMIN_EMAIL","password":"$ADMIN_PASSWORD"}'
LUA
    read -r rps p50 p99 < <(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
        -s "$WORK/login.lua" "$BASE/v1/auth/login" | wrk_figures)
    echo "| $database | POST /v1/auth/login (Argon2id, wrk) | $CONNECTIONS | $rps | $p50 | – | $p99 | – | $(peak_rss_mb) MB |"
    fi
    stop_server
    if [ "$database" = postgres ]; then psql "$BENCH_PG" -qc "DROP DATABASE $name WITH (FORCE)"; fi
done
