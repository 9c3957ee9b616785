#!/usr/bin/env bash
# Drives the pages in a real browser as people do (tools/browser/pages_test.py): Debian's
# Chromium and ChromeDriver, Selenium (PyPI) and axe-core (npm) installed on first use, the
# release binary on loopback with a fresh database. Screenshots of every page are kept in
# target/browser-screenshots/ for review.
#
#   tools/browser/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

SELENIUM=4.51.0
AXE=4.14.1
ZXING=3.1.1
PILLOW=13.0.0
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
VENV=target/browser-venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import selenium" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "selenium==$SELENIUM"
fi
# The certificate's QR code is read from a screenshot, as a phone would read it.
if ! "$VENV/bin/python" -c "import zxingcpp, PIL" 2>/dev/null; then
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "zxing-cpp==$ZXING" "pillow==$PILLOW"
fi
NODE_DIR=target/browser-node
if [ ! -f "$NODE_DIR/node_modules/axe-core/axe.min.js" ]; then
    npm install --silent --no-audit --no-fund --prefix "$NODE_DIR" "axe-core@$AXE" >/dev/null
fi
BIN=${BIN:-target/release/safescreen}
[ -x "$BIN" ] || cargo build --release --quiet --bin safescreen

WORK=$(mktemp -d)
trap 'kill "${SERVER:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# A host name, not an IP address: browsers take passkeys only for those.
BASE="http://localhost:$PORT"
ADMIN_EMAIL=admin@example.org
ADMIN_PASSWORD="an admin password for the browser test"

SAFESCREEN_DATABASE_URL="sqlite://$WORK/browser.db?mode=rwc" SAFESCREEN_LISTEN="127.0.0.1:$PORT" \
    SAFESCREEN_PUBLIC_URL="$BASE" SAFESCREEN_LOG=warn SAFESCREEN_MAIL_DIR="$WORK/mail" \
    SAFESCREEN_WORKER_INTERVAL_MS=100 \
    SAFESCREEN_ADMIN_EMAIL=$ADMIN_EMAIL SAFESCREEN_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
    curl -sf "$BASE/readyz" >/dev/null && break
    sleep 0.1
done
curl -sf "$BASE/readyz" >/dev/null || { echo "server did not start" >&2; cat "$WORK/server.log" >&2; exit 1; }

mkdir -p target/browser-screenshots
status=0
"$VENV/bin/python" tools/browser/pages_test.py "$BASE" "$ADMIN_EMAIL" "$ADMIN_PASSWORD" "$WORK/mail" \
    "$NODE_DIR/node_modules/axe-core/axe.min.js" target/browser-screenshots "$WORK/browser.db" || status=$?
if grep -q "panicked" "$WORK/server.log"; then
    echo "the server panicked:" >&2
    grep -A5 "panicked" "$WORK/server.log" >&2
    status=1
fi
exit $status
