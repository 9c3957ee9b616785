#!/usr/bin/env bash
# Fuzzes the service with Schemathesis against its own OpenAPI document: a fresh service on a
# fresh SQLite database, two organisations, checkers and requests in every state (setup.py),
# every check. Fails on any finding, if the server logged a panic or died, or if an operation
# was left untested or only ever refused (coverage.py).
#
#   tools/schemathesis/run.sh                # after `cargo build` (or `cargo test`)
#   EXAMPLES=100 tools/schemathesis/run.sh   # more cases per operation
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION=4.32.5
BIN=${BIN:-target/debug/safescreen}
VENV=target/schemathesis-venv
if [ ! -x "$VENV/bin/schemathesis" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi
[ -x "$BIN" ] || cargo build --quiet --bin safescreen

WORK=$(mktemp -d)
trap 'kill "${SERVER:-}" 2>/dev/null || true; [ -n "${KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"' EXIT
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
ADMIN_EMAIL=admin@example.org
ADMIN_PASSWORD="an admin password for the fuzzer"

SAFESCREEN_DATABASE_URL="sqlite://$WORK/fuzz.db?mode=rwc" SAFESCREEN_LISTEN="127.0.0.1:$PORT" \
    SAFESCREEN_LOG=warn SAFESCREEN_MAIL_DIR="$WORK/mail" SAFESCREEN_WORKER_INTERVAL_MS=100 \
    SAFESCREEN_INVITATION_LOOKUP_LIMIT=1000000 SAFESCREEN_RATE_LIMIT=1000000/min SAFESCREEN_MFA=optional \
    SAFESCREEN_ADMIN_EMAIL=$ADMIN_EMAIL SAFESCREEN_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
    curl -sf "$BASE/readyz" >/dev/null && break
    sleep 0.1
done
curl -sf "$BASE/readyz" >/dev/null || { echo "server did not start" >&2; cat "$WORK/server.log" >&2; exit 1; }

python3 tools/schemathesis/setup.py "$BASE" "$ADMIN_EMAIL" "$ADMIN_PASSWORD" "$WORK/mail" \
    "$WORK/auth.json" "$WORK/ids.env"
# shellcheck disable=SC1091
source "$WORK/ids.env"

status=0
SCHEMATHESIS_BASE_URL=$BASE SCHEMATHESIS_AUTH="$WORK/auth.json" \
    "$VENV/bin/schemathesis" --config-file tools/schemathesis/schemathesis.toml \
    run "$BASE/openapi.json" --max-examples "${EXAMPLES:-20}" --no-color \
    --report ndjson --report-ndjson-path "$WORK/run.ndjson" | tee "$WORK/run.log" || status=$?
python3 tools/schemathesis/coverage.py "$BASE/openapi.json" "$WORK/run.ndjson" \
    tools/schemathesis/coverage.toml "$WORK/run.log" || status=1

if ! kill -0 "$SERVER" 2>/dev/null; then
    echo "the server died during the run" >&2
    status=1
fi
if grep -q "panicked" "$WORK/server.log"; then
    echo "the server panicked:" >&2
    grep -A5 "panicked" "$WORK/server.log" >&2
    status=1
fi
exit $status
