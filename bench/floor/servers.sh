#!/usr/bin/env bash
# W2 of compare.sh with Taskwire served two ways: the Express peer, Taskwire under Hypercorn
# (`python -m app serve`, as compare.sh runs it) and the same Taskwire under Uvicorn
# (taskwire_uvicorn.py), one process each on one Redis, back to back in each round.
# autocannon at 32 connections, GET one task and POST a task, server CPU per request from /proc.
#   bench/floor/servers.sh PEERS_DIR [ROUNDS]   (PEERS_DIR: the copied peers folder, after
#   bench.sh install; run from a clone whose .venv has uvicorn[standard] installed)
set -eu
PEERS=$1; ROUNDS=${2:-2}; DUR=${DUR:-10}
ROOT=$(cd "$(dirname "$0")/../.." && pwd); PY=$ROOT/.venv/bin/python
AC=$PEERS/run/autocannon/node_modules/.bin/autocannon
[ -x "$AC" ] || npm install --prefix "$PEERS/run/autocannon" autocannon@8 >/dev/null 2>&1
$PY -c 'import uvicorn, httptools' 2>/dev/null || $ROOT/.venv/bin/pip install -q 'uvicorn[standard]'
W=$(mktemp -d /tmp/taskwire-servers.XXXX); PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -TERM -- -$p 2>/dev/null || kill $p 2>/dev/null; done; rm -rf "$W"' EXIT
RP=18891; redis-server --port $RP --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 & PIDS+=($!)
LIMITS="TASKWIRE_RATE_LIMIT_API=10000000 TASKWIRE_RATE_LIMIT_AUTH=1000000 TASKWIRE_ARGON2_TIME_COST=1 TASKWIRE_ARGON2_MEMORY_KIB=1024"
(cd "$PEERS/socketio" && exec setsid env PORT=18892 INSTANCE=p DB_PATH=$W/peer.db REDIS_URL=redis://127.0.0.1:$RP node server.js) >$W/peer.log 2>&1 & PIDS+=($!); PEER=$!
(cd "$ROOT" && exec setsid env PORT=18893 TASKWIRE_DATA_DIR=$W/hc TASKWIRE_REDIS_URL=redis://127.0.0.1:$RP/0 $LIMITS $PY -m app serve) >$W/hc.log 2>&1 & PIDS+=($!); HC=$!
(cd "$ROOT" && exec setsid env PORT=18894 TASKWIRE_DATA_DIR=$W/uv TASKWIRE_REDIS_URL=redis://127.0.0.1:$RP/1 $LIMITS $PY bench/floor/taskwire_uvicorn.py) >$W/uv.log 2>&1 & PIDS+=($!); UV=$!
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
for i in $(seq 100); do curl -fs localhost:18892/health >/dev/null && curl -fs localhost:18893/healthz >/dev/null && curl -fs localhost:18894/healthz >/dev/null && break; sleep 0.3; done
PT=$(curl -s -XPOST localhost:18892/api/login -H 'content-type: application/json' -d '{}' | field token)
PTASK=$(curl -s -XPOST localhost:18892/api/boards/b1/tasks -H "authorization: Bearer $PT" -H 'content-type: application/json' -d '{"title":"t"}' | field id)
declare -A TOKEN TASK BOARD
for port in 18893 18894; do
  TOKEN[$port]=$(curl -s localhost:$port/api/v1/auth/register -H 'content-type: application/json' -d '{"email":"rb@example.com","password":"a long passphrase 1","name":"RB"}' | field access_token)
  BOARD[$port]=$(curl -s localhost:$port/api/v1/boards -H "authorization: Bearer ${TOKEN[$port]}" -H 'content-type: application/json' -d '{"name":"rb"}' | field id)
  TASK[$port]=$(curl -s localhost:$port/api/v1/boards/${BOARD[$port]}/tasks -H "authorization: Bearer ${TOKEN[$port]}" -H 'content-type: application/json' -d '{"title":"t"}' | field id)
done
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
run() { # name pid method url token [body]
  local c0 c1 out body=${6:-}; c0=$(cpu $2)
  if [ -n "$body" ]; then out=$("$AC" -j -c 32 -d $DUR -m $3 -H "authorization=Bearer $5" -H 'content-type=application/json' -b "$body" "$4" 2>/dev/null)
  else out=$("$AC" -j -c 32 -d $DUR -m $3 -H "authorization=Bearer $5" "$4" 2>/dev/null); fi
  c1=$(cpu $2)
  python3 -c "import json,sys,os; o=json.loads(sys.argv[1]); n=o['requests']['total']; print(f\"{sys.argv[4]:18} {round((int(sys.argv[3])-int(sys.argv[2]))/os.sysconf('SC_CLK_TCK')*1e6/max(n,1)):5} us/req  {round(o['requests']['average']):5} req/s  non-2xx {o['non2xx']}\")" "$out" $c0 $c1 "$1"
}
BODY='{"title":"bench task","description":"x"}'
for round in $(seq "$ROUNDS"); do
  echo "round $round (load $(cut -d' ' -f1 /proc/loadavg))"
  run "peer GET" $PEER GET localhost:18892/api/tasks/$PTASK $PT
  run "hypercorn GET" $HC GET localhost:18893/api/v1/tasks/${TASK[18893]} ${TOKEN[18893]}
  run "uvicorn GET" $UV GET localhost:18894/api/v1/tasks/${TASK[18894]} ${TOKEN[18894]}
  run "peer POST" $PEER POST localhost:18892/api/boards/b1/tasks $PT "$BODY"
  run "hypercorn POST" $HC POST localhost:18893/api/v1/boards/${BOARD[18893]}/tasks ${TOKEN[18893]} "$BODY"
  run "uvicorn POST" $UV POST localhost:18894/api/v1/boards/${BOARD[18894]}/tasks ${TOKEN[18894]} "$BODY"
done
