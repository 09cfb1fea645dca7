#!/usr/bin/env bash
# `make fuzz-api`: start the whole app (web + worker + embedded Redis) against a scratch SQLite database and media
# folder, then let schemathesis generate requests from /api/v1/openapi.json with a fresh API key. Fails on any 5xx
# or any response that violates the documented schema.
set -euo pipefail
PY=${PY:-.venv/bin/python}
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/chunkr-fuzz.XXXXXX")
PORT=${FUZZ_PORT:-8799}
export DATABASE_URL="sqlite:///$SCRATCH/db.sqlite3" MEDIA_ROOT="$SCRATCH/media" PORT
export CHUNKR_EMBEDDED_REDIS_PORT=${FUZZ_REDIS_PORT:-6399}
export CHUNKR_RATE_LIMIT_PER_MINUTE=0  # the fuzzer's request rate is not what we test
"$PY" manage.py migrate --noinput >/dev/null
KEY=$("$PY" manage.py create_api_key --workspace fuzz --name schemathesis 2>/dev/null | tail -n 1)
"$PY" -m chunkr_web.supervisor >"$SCRATCH/server.log" 2>&1 &
SERVER=$!
cleanup() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$SCRATCH"; }
trap cleanup EXIT
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$PORT/api/v1/health" >/dev/null 2>&1 && break
  sleep 1
done
.venv/bin/schemathesis run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
  --header "Authorization: $KEY" \
  --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "${FUZZ_EXAMPLES:-30}" \
  --request-timeout 30 \
  "$@"
