#!/usr/bin/env bash
# Load benchmark of the server on loopback with wrk (Debian package `wrk`), the load tool and
# the server sharing the machine. Not part of CI: it builds in release mode.
#
#   scripts/bench-server.sh [DURATION_SECONDS] [CONNECTIONS]
#
# Scenarios, each against the demo database with JSON logs written to a file at level info and
# the rate limit off:
#   session  GET /api/v1/sessions/{id}: HTTP, JWT check and session store (the floor)
#   rule     POST /api/v1/query answered by the offline rule generator (no model call, no cache)
#   cache    POST /api/v1/query, one question asked again and again with the semantic cache on
#            (in memory): every request after the first is a cache hit, which skips generation
#            and re-validates and re-runs the cached SQL
#   llm      POST /api/v1/query answered through an instant loopback OpenAI-format model with
#            the cache off: the full path (prompt, model call over HTTP, validation, execution)
#   open     POST /api/v1/query "How many customers are in Brazil by city?" by the rule
#            generator, no data permissions
#   policy   the same question by a sales rep under [access] (a row filter on Customer and
#            Invoice, masked contact columns): the full path with the policy rewrite
# Every POST /api/v1/query starts a new conversation (no session_id), as a stream of users does.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
DURATION="${1:-15}"
CONNECTIONS="${2:-64}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/heliosdb-cbi-target}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release -p heliosdb-conversational-bi --bins --example loopback_openai
BIN="$CARGO_TARGET_DIR/release/heliosdb-conversational-bi"
LOOPBACK="$CARGO_TARGET_DIR/release/examples/loopback_openai"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

API_PORT=18181 METRICS_PORT=18182 LLM_PORT=18183
export JWT_SECRET="bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
export OPENAI_API_KEY="sk-bench"
HASH="$(printf '%s' 'bench password' | "$BIN" hash-password)"
"$LOOPBACK" "$LLM_PORT" "$OPENAI_API_KEY" >"$WORK/loopback.log" 2>&1 &
PIDS+=($!)

start_server() { # start_server PROVIDER CACHE_ENABLED [ROLES]
    local roles="${3:-\"analyst\"}"
    cat >"$WORK/cbi.toml" <<TOML
[server]
host = "127.0.0.1"
port = $API_PORT
workers = 2
[metrics]
prometheus_port = $METRICS_PORT
[llm]
provider = "$1"
model = "gpt-4o-mini"
base_url = "http://127.0.0.1:$LLM_PORT/v1"
max_retries = 0
[production.rate_limiting]
enabled = false
[cache]
enabled = $2
store = "memory"
[logging]
level = "info"
format = "json"
output = "$WORK/cbi.log"
[auth]
users = [{ username = "bench", password_hash = "$HASH", tenant_id = "bench", roles = [$roles], attributes = { employee_id = 3 } }]
[access]
default_roles = ["everything"]
[access.roles.everything]
[access.roles.sales_rep]
row_filters = { Customer = "SupportRepId = {user.employee_id}", Invoice = "CustomerId IN (SELECT CustomerId FROM Customer WHERE SupportRepId = {user.employee_id})" }
columns = { "Customer.Email" = "hash", "Customer.Phone" = "null" }
TOML
    if [ "$roles" = '"analyst"' ]; then # no data permissions at all
        sed -i '/^\[access/,$d' "$WORK/cbi.toml"
    else
        sed -i 's/^default_roles = .*/default_roles = []/' "$WORK/cbi.toml"
    fi
    "$BIN" --config "$WORK/cbi.toml" >"$WORK/server.out" 2>&1 &
    SERVER=$!
    for _ in $(seq 300); do curl -sf "http://127.0.0.1:$API_PORT/health" >/dev/null && return; sleep 0.1; done
    cat "$WORK/server.out" "$WORK/cbi.log" >&2; exit 1
}

stop_server() { kill -TERM "$SERVER"; wait "$SERVER" || true; }

login() {
    curl -sf -X POST "http://127.0.0.1:$API_PORT/api/v1/auth/login" -H 'Content-Type: application/json' \
        -d '{"username": "bench", "password": "bench password"}' | sed -E 's/.*"token":"([^"]+)".*/\1/'
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system time of a process

run() { # run NAME SCRIPT PATH
    echo "=== $1: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    local server_before llm_before
    server_before="$(cpu_ticks "$SERVER")" llm_before="$(cpu_ticks "${PIDS[0]}")"
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "scripts/bench/$2" "http://127.0.0.1:$API_PORT$3" \
        | tee "$WORK/wrk.out" | grep -E 'Requests/sec|Latency  |  50%|  90%|  99%|Non-2xx|requests in|Socket errors'
    local requests hz
    requests="$(awk '/requests in/ {print $1}' "$WORK/wrk.out")" hz="$(getconf CLK_TCK)"
    awk -v s="$(( $(cpu_ticks "$SERVER") - server_before ))" -v l="$(( $(cpu_ticks "${PIDS[0]}") - llm_before ))" \
        -v n="$requests" -v hz="$hz" 'BEGIN { printf "    CPU per request: server %.0f us, loopback model %.0f us\n", s / hz / n * 1e6, l / hz / n * 1e6 }'
    echo "=== $1: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
}

start_server rule false
export TOKEN
TOKEN="$(login)"
# The server names the conversation: read its id from the answer.
SESSION="$(curl -sf -X POST "http://127.0.0.1:$API_PORT/api/v1/query" -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $TOKEN" -d '{"query": "How many artists are there?"}' | sed -E 's/.*"session_id":"([^"]+)".*/\1/')"
run session get-session.lua "/api/v1/sessions/$SESSION"
run rule post-query.lua /api/v1/query
stop_server

start_server openai true
TOKEN="$(login)"
curl -sf -X POST "http://127.0.0.1:$API_PORT/api/v1/query" -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $TOKEN" -d '{"query": "How many artists are there?"}' | grep -q '"cache_hit":false'
curl -sf -X POST "http://127.0.0.1:$API_PORT/api/v1/query" -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $TOKEN" -d '{"query": "How many artists are there?"}' | grep -q '"cache_hit":true'
run cache post-query.lua /api/v1/query
echo "    $(curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" | grep -E '^cache_(requests|hits)_total' | tr '\n' ' ')"
stop_server

start_server openai false
TOKEN="$(login)"
curl -sf -X POST "http://127.0.0.1:$API_PORT/api/v1/query" -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $TOKEN" -d '{"query": "How many artists are there?"}' | grep -q '"generator":"openai:gpt-4o-mini"'
run llm post-query.lua /api/v1/query
stop_server

export QUESTION="How many customers are in Brazil by city?"
start_server rule false
TOKEN="$(login)"
run open post-query.lua /api/v1/query
stop_server
start_server rule false '"analyst", "sales_rep"'
TOKEN="$(login)"
curl -sf -X POST "http://127.0.0.1:$API_PORT/api/v1/query" -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $TOKEN" -d "{\"query\": \"$QUESTION\"}" | grep -q '"rows":\[\['
run policy post-query.lua /api/v1/query
stop_server
unset QUESTION
echo "query log lines written: $(grep -c conversational_bi::query "$WORK/cbi.log")"
