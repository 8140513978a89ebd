#!/usr/bin/env bash
# The main job on the bundled default:
#   1. scan the bundled insecure example (examples/insecure_app),
#   1b. preview the fixes for it (verifyfull fix --diff),
#   2. explain the seed's broken SQLAlchemy URL,
#   3. start the lab (TLS PostgreSQL 15 configured like a CockroachDB secure node),
#   4. run the guarded FastAPI example against it (verify-full + client certificate),
#      and watch it refuse to start against a server without TLS,
#   5. probe both servers live.
# Everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/output.sh
say "demo: preparing this machine (PostgreSQL 15 server packages and .venv, first run only)"
VERIFYFULL_SETUP_BROWSER=0 bash scripts/setup.sh
say "demo: ready"
V=.venv/bin/verifyfull
PY=.venv/bin/python
STATE=$(mktemp -d)
APP_PID=""
cleanup() {
  [ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null || true
  "$V" lab stop --dir "$STATE" >/dev/null 2>&1 || true
  rm -rf "$STATE"
}
trap cleanup EXIT
lab_field() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$STATE/$1.json" "$2"; }

section "1. verifyfull scan examples/insecure_app   (exit 1: findings at or above high)"
"$V" scan examples/insecure_app || echo "(scan exit status $?)"

section "1b. verifyfull fix --diff examples/insecure_app   (preview; writes nothing)"
# The diff goes to stdout, the summary of what it fixes and leaves to stderr (shown whole).
{ "$V" fix --diff examples/insecure_app || true; } | cut_diff 60

section "2. verifyfull explain <the seed's SQLAlchemy URL>"
"$V" explain 'postgresql+asyncpg://root@localhost:26257/defaultdb?sslmode=verify-ca&sslcert=/secrets/client.crt&sslkey=/secrets/client.key&sslrootcert=/secrets/ca.crt' \
  || echo "(explain exit status $?)"

section "3. verifyfull lab start --variant secure   (and a no-tls server, the --insecure stand-in)"
say "demo: starting two PostgreSQL 15 servers (initdb and certificates take a few seconds)"
"$V" lab start --variant secure --dir "$STATE"
"$V" lab start --variant no-tls --dir "$STATE" >/dev/null
CERTS=$(lab_field secure certs_dir)
PORT=$(lab_field secure port)
INSECURE_PORT=$(lab_field no-tls port)

section "4. guard: examples/fastapi_crdb with verify-full and the app's client certificate"
APP_PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DB_HOST=localhost DB_PORT=$PORT DB_NAME=defaultdb DB_USER=app \
DB_CA_PATH=$CERTS/ca.crt DB_CERT_PATH=$CERTS/client.app.crt DB_KEY_PATH=$CERTS/client.app.key \
  .venv/bin/uvicorn examples.fastapi_crdb.main:app --host 127.0.0.1 --port "$APP_PORT" \
  --log-level warning &
APP_PID=$!
say "demo: waiting for the app to come up on 127.0.0.1:$APP_PORT"
"$PY" - "$APP_PORT" <<'PYEOF'
import json, sys, time
import httpx
base = f"http://127.0.0.1:{sys.argv[1]}"
deadline = time.monotonic() + 60
while True:
    try:
        health = httpx.get(f"{base}/healthz/db", timeout=5)
        break
    except httpx.TransportError:
        if time.monotonic() > deadline:
            sys.exit("the example app did not come up within 60 s")
        time.sleep(0.3)
print("GET /users      ->", httpx.get(f"{base}/users", timeout=5).json())
print("GET /healthz/db ->", json.dumps(health.json(), indent=2))
PYEOF
kill "$APP_PID"; wait "$APP_PID" 2>/dev/null || true; APP_PID=""

echo
echo "The same app pointed at the server without TLS must refuse to start:"
set +e
DB_HOST=localhost DB_PORT=$INSECURE_PORT DB_NAME=defaultdb DB_USER=app \
DB_CA_PATH=$CERTS/ca.crt DB_CERT_PATH=$CERTS/client.app.crt DB_KEY_PATH=$CERTS/client.app.key \
  timeout 60 .venv/bin/uvicorn examples.fastapi_crdb.main:app --host 127.0.0.1 --port "$APP_PORT" \
  --log-level warning 2>&1 | grep -E "VF[0-9]{3}" | head -3
echo "(uvicorn exit status ${PIPESTATUS[0]})"
set -e

section "5. verifyfull probe: the secure node, then the server without TLS"
"$V" probe "postgresql://root@localhost:$PORT/defaultdb" --ca "$CERTS/ca.crt" --user root --user app_pw \
  || echo "(probe exit status $?)"
"$V" probe "localhost:$INSECURE_PORT" --ca "$CERTS/ca.crt" || echo "(probe exit status $?)"

section "done: everything started here is stopped on exit"
