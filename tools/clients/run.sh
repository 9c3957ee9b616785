#!/usr/bin/env bash
# What an integrator meets first: the committed OpenAPI document linted with Redocly's
# recommended rules (no error, no warning), a Python client generated from it by
# openapi-python-client with its default configuration running a whole screening against the
# real binary (screening.py, with a webhook receiver verifying signatures by the standardwebhooks
# library and the certificate checked by jwcrypto, as the README shows), and TypeScript types from openapi-typescript type-checking a short
# integration (example.ts). Installs the generators (PyPI, npm) into target/ on first use.
#
#   tools/clients/run.sh        # after `cargo build` (or `cargo test`)
set -euo pipefail
cd "$(dirname "$0")/../.."

GENERATOR_VERSION=0.29.1
RUFF_VERSION=0.17.6
STANDARDWEBHOOKS_VERSION=1.1.0
JWCRYPTO_VERSION=1.6.1
REDOCLY_VERSION=2.77.0
OPENAPI_TS_VERSION=7.13.0
TYPESCRIPT_VERSION=5.9.3
BIN=${BIN:-target/debug/safescreen}
DOCUMENT=openapi/openapi.json
OUT=target/clients
VENV=$OUT/venv
NODE=$OUT/node

PY_TOOLS="openapi-python-client==$GENERATOR_VERSION ruff==$RUFF_VERSION standardwebhooks==$STANDARDWEBHOOKS_VERSION jwcrypto==$JWCRYPTO_VERSION"
NODE_TOOLS="@redocly/cli@$REDOCLY_VERSION openapi-typescript@$OPENAPI_TS_VERSION typescript@$TYPESCRIPT_VERSION"
# Installed again whenever a pinned version changes.
if [ "$(cat "$VENV/.tools" 2>/dev/null)" != "$PY_TOOLS" ]; then
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    # shellcheck disable=SC2086
    "$VENV/bin/pip" install --quiet --disable-pip-version-check $PY_TOOLS
    echo "$PY_TOOLS" >"$VENV/.tools"
fi
if [ "$(cat "$NODE/.tools" 2>/dev/null)" != "$NODE_TOOLS" ]; then
    rm -rf "$NODE" && mkdir -p "$NODE"
    # shellcheck disable=SC2086
    npm install --silent --no-audit --no-fund --prefix "$NODE" $NODE_TOOLS >/dev/null
    echo "$NODE_TOOLS" >"$NODE/.tools"
fi
[ -x "$BIN" ] || cargo build --quiet --bin safescreen

echo "-- redocly lint (recommended rules)"
"$NODE/node_modules/.bin/redocly" lint --format=summary "$DOCUMENT" 2>&1 | grep -vE '[║╔╚]' | sed '/^$/d'
"$NODE/node_modules/.bin/redocly" lint --format=json "$DOCUMENT" 2>/dev/null >"$OUT/lint.json" || true
python3 - "$OUT/lint.json" <<'PY'
import json, sys
problems = json.load(open(sys.argv[1]))["problems"]
errors = sum(p["severity"] == "error" for p in problems)
print(f"redocly: {errors} errors, {len(problems) - errors} warnings")
sys.exit(1 if problems else 0)
PY

echo "-- TypeScript (openapi-typescript, tsc)"
rm -rf "$OUT/ts" && mkdir -p "$OUT/ts"
"$NODE/node_modules/.bin/openapi-typescript" "$DOCUMENT" --output "$OUT/ts/schema.d.ts" 2>&1 | tail -n 1
cp tools/clients/example.ts "$OUT/ts/example.ts"
"$NODE/node_modules/.bin/tsc" --noEmit --strict --target es2022 --module es2022 \
    --moduleResolution bundler --lib es2022,dom "$OUT/ts/example.ts"
echo "typescript: example.ts type-checks against the generated types"

echo "-- Python (openapi-python-client, default configuration)"
rm -rf "$OUT/python"
PATH="$PWD/$VENV/bin:$PATH" "$VENV/bin/openapi-python-client" generate --path "$DOCUMENT" \
    --output-path "$OUT/python" >"$OUT/generate.log" 2>&1 || { cat "$OUT/generate.log" >&2; exit 1; }
if grep -q "Warning" "$OUT/generate.log"; then
    echo "the generator warned:" >&2
    cat "$OUT/generate.log" >&2
    exit 1
fi

WORK=$(mktemp -d)
trap 'kill "${SERVER:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
ADMIN_EMAIL=admin@example.org
ADMIN_PASSWORD="an admin password for the client run"
SAFESCREEN_DATABASE_URL="sqlite://$WORK/clients.db?mode=rwc" SAFESCREEN_LISTEN="127.0.0.1:$PORT" \
    SAFESCREEN_LOG=warn SAFESCREEN_MAIL_DIR="$WORK/mail" SAFESCREEN_WORKER_INTERVAL_MS=100 \
    SAFESCREEN_MFA=optional SAFESCREEN_WEBHOOK_ALLOW_PRIVATE=true SAFESCREEN_ADMIN_EMAIL=$ADMIN_EMAIL \
    SAFESCREEN_ADMIN_PASSWORD="$ADMIN_PASSWORD" "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
    curl -sf "$BASE/readyz" >/dev/null && break
    sleep 0.1
done
curl -sf "$BASE/readyz" >/dev/null || { echo "server did not start" >&2; cat "$WORK/server.log" >&2; exit 1; }

PYTHONPATH="$OUT/python" "$VENV/bin/python" tools/clients/screening.py \
    "$BASE" "$ADMIN_EMAIL" "$ADMIN_PASSWORD" "$WORK/mail" | tail -n 1
if grep -q "panicked" "$WORK/server.log"; then
    echo "the server panicked:" >&2
    cat "$WORK/server.log" >&2
    exit 1
fi
