#!/usr/bin/env bash
# schemathesis against a running `norm serve`: every operation of /v1/openapi.json, requests
# generated from the document (valid and invalid), check `not_a_server_error` (no 5xx on any
# request). The server runs with the whole stdlib, a trust store, signed modules and a token
# (given to schemathesis, so PUT /v1/modules is exercised past authorisation too).
#
#   server/schemathesis/run.sh [NORM_BINARY]
#
# NORM_BINARY: default target/debug/norm, else target/release/norm (build one first).
# ST_EXAMPLES: examples per operation (default 50). ST_SEED: the seed (default fixed).
# Without python3 it prints a skip message and exits 0; if pip cannot install schemathesis it
# fails.
set -euo pipefail
cd "$(dirname "$0")/../.."

SCHEMATHESIS_VERSION=4.32.5
EXAMPLES=${ST_EXAMPLES:-50}
SEED=${ST_SEED:-20261201}

NORM=${1:-}
if [ -z "$NORM" ]; then
  for c in target/debug/norm target/release/norm; do
    if [ -x "$c" ]; then NORM=$c; break; fi
  done
fi
if [ -z "$NORM" ] || [ ! -x "$NORM" ]; then
  echo "schemathesis: no norm binary (cargo build -p norm-cli first)" >&2
  exit 1
fi
NORM=$(cd "$(dirname "$NORM")" && pwd)/$(basename "$NORM")

if ! command -v python3 >/dev/null 2>&1; then
  echo "schemathesis: SKIPPED: python3 is not installed, so schemathesis cannot run"
  exit 0
fi

TMP=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

echo "schemathesis: installing schemathesis==$SCHEMATHESIS_VERSION into a venv in $TMP"
python3 -m venv "$TMP/venv" || { echo "schemathesis: FAILED: python3 -m venv" >&2; exit 1; }
if ! "$TMP/venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"; then
  echo "schemathesis: FAILED: pip could not install schemathesis==$SCHEMATHESIS_VERSION" >&2
  exit 1
fi

# A publisher key, the stdlib's modules signed with it, a trust store, a token.
"$NORM" data keygen "$TMP/pub" >/dev/null
mkdir "$TMP/data"
modules=()
for m in stdlib/data/*.norm; do
  name=$(basename "$m" .norm)
  "$NORM" data sign "$m" --law stdlib/mail --key "$TMP/pub.key" --out "$TMP/data/$name.normpkg" >/dev/null
done
for p in "$TMP"/data/*.normpkg; do
  modules+=("$("$NORM" data inspect "$p" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifest"]["module"])')")
done
python3 - "$TMP" "${modules[@]}" <<'EOF'
import json, sys
tmp, names = sys.argv[1], sys.argv[2:]
key = open(f"{tmp}/pub.pub").read().strip()
json.dump({"keys": [{"public_key": key, "modules": names}]}, open(f"{tmp}/trust.json", "w"))
EOF
echo "schemathesis-token" > "$TMP/token"

"$NORM" serve --law stdlib/mail --data "$TMP/data" --trust "$TMP/trust.json" \
  --token-file "$TMP/token" --decision-log "$TMP/decisions.jsonl" --addr 127.0.0.1:0 \
  --timeout 10 >"$TMP/serve.out" 2>"$TMP/serve.err" &
SERVER_PID=$!
URL=
for _ in $(seq 1 600); do
  URL=$(sed -n 's/^norm serve: listening on \(http:[^ ]*\).*/\1/p' "$TMP/serve.out" | head -1)
  [ -n "$URL" ] && break
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "schemathesis: FAILED: norm serve exited" >&2
    cat "$TMP/serve.err" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$URL" ]; then
  echo "schemathesis: FAILED: norm serve did not start within 60 s" >&2
  exit 1
fi
echo "schemathesis: norm serve on $URL ($NORM); $EXAMPLES examples per operation, seed $SEED"

status=0
(cd "$TMP" && timeout 900 "$TMP/venv/bin/schemathesis" run "$URL/v1/openapi.json" \
  --url "$URL" \
  --checks not_a_server_error \
  --phases examples,coverage,fuzzing \
  --max-examples "$EXAMPLES" \
  --seed "$SEED" \
  --generation-database none \
  --header "Authorization: Bearer schemathesis-token" \
  --request-timeout 20 \
  --workers 2 \
  --no-color) || status=$?

# The server must still be up, and stop cleanly on SIGTERM.
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  echo "schemathesis: FAILED: norm serve died during the run" >&2
  tail -50 "$TMP/serve.err" >&2
  exit 1
fi
if grep -q "panicked" "$TMP/serve.err"; then
  echo "schemathesis: FAILED: norm serve panicked" >&2
  grep -A5 "panicked" "$TMP/serve.err" | head -40 >&2
  status=1
fi
kill -TERM "$SERVER_PID"
served=0
wait "$SERVER_PID" || served=$?
SERVER_PID=
if [ "$served" -ne 0 ]; then
  echo "schemathesis: FAILED: norm serve exited with $served on SIGTERM" >&2
  status=1
fi
n5xx=$(grep -c 'status=5[0-9][0-9]' "$TMP/serve.err" || true)
echo "schemathesis: the server logged $(grep -c ' request ' "$TMP/serve.err" || true) requests, $n5xx answered 5xx; $(wc -l <"$TMP/decisions.jsonl" 2>/dev/null || echo 0) decisions"
if [ "$status" -ne 0 ]; then
  echo "schemathesis: FAILED (exit $status)" >&2
  exit "$status"
fi
if [ "$n5xx" -ne 0 ]; then
  echo "schemathesis: FAILED: the server answered $n5xx requests with a 5xx" >&2
  grep 'status=5[0-9][0-9]' "$TMP/serve.err" | head -20 >&2
  exit 1
fi
echo "schemathesis: passed: no 5xx on any generated request"
