#!/usr/bin/env bash
# Two builds of Taskwire side by side, CPU per request measured alternately, so that the box's
# load swings hit both alike: each clone's `python -m app serve` on the embedded default, a
# board of 50 tasks, autocannon at 32 connections (GET one task, GET a page of 50), 3 rounds.
#   bench/floor/ab.sh PEERS_DIR CLONE_A CLONE_B   (clones with .venv installed; PEERS_DIR for autocannon)
set -u
PEERS=$1; declare -A DIR=([a]=$2 [b]=$3)
AC=$PEERS/run/autocannon/node_modules/.bin/autocannon
[ -x "$AC" ] || npm install --prefix "$PEERS/run/autocannon" autocannon@8 >/dev/null 2>&1
W=$(mktemp -d /tmp/taskwire-ab.XXXX); PIDS=()
trap 'kill ${PIDS[@]} 2>/dev/null; rm -rf $W' EXIT
declare -A PORT=([a]=18701 [b]=18702) TOK BOARD TASK PID
for b in a b; do
  (cd "${DIR[$b]}" && exec env PORT=${PORT[$b]} TASKWIRE_DATA_DIR=$W/$b TASKWIRE_RATE_LIMIT_API=10000000 TASKWIRE_RATE_LIMIT_AUTH=1000000 TASKWIRE_ARGON2_TIME_COST=1 TASKWIRE_ARGON2_MEMORY_KIB=1024 .venv/bin/python -m app serve) >$W/$b.log 2>&1 & PID[$b]=$!; PIDS+=($!)
done
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
for b in a b; do p=${PORT[$b]}
  for i in $(seq 100); do curl -fs localhost:$p/healthz >/dev/null && break; sleep 0.3; done
  TOK[$b]=$(curl -s localhost:$p/api/v1/auth/register -H 'content-type: application/json' -d '{"email":"ab@example.com","password":"a long passphrase 1","name":"AB"}' | field access_token)
  BOARD[$b]=$(curl -s localhost:$p/api/v1/boards -H "authorization: Bearer ${TOK[$b]}" -H 'content-type: application/json' -d '{"name":"ab"}' | field id)
  for i in $(seq 50); do TASK[$b]=$(curl -s localhost:$p/api/v1/boards/${BOARD[$b]}/tasks -H "authorization: Bearer ${TOK[$b]}" -H 'content-type: application/json' -d '{"title":"task '$i'","description":"x","labels":["a","b"]}' | field id); done
done
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
run() { local c0 c1 out; c0=$(cpu $2); out=$($AC -j -c 32 -d ${DUR:-8} -H "authorization=Bearer $3" "$4" 2>/dev/null); c1=$(cpu $2)
  python3 -c "import json,sys,os; o=json.loads(sys.argv[1]); n=o['requests']['total']; print(f\"{sys.argv[4]:40} {round((int(sys.argv[3])-int(sys.argv[2]))/os.sysconf('SC_CLK_TCK')*1e6/max(n,1)):5} us/req {round(o['requests']['average']):5} req/s non-2xx {o['non2xx']}\")" "$out" $c0 $c1 "$1"; }
for r in 1 2 3; do for b in a b; do p=${PORT[$b]}
  run "${DIR[$b]} GET task" ${PID[$b]} ${TOK[$b]} "http://localhost:$p/api/v1/tasks/${TASK[$b]}"
  run "${DIR[$b]} GET 50 tasks" ${PID[$b]} ${TOK[$b]} "http://localhost:$p/api/v1/boards/${BOARD[$b]}/tasks?limit=50"
done; done
