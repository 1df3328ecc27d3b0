#!/usr/bin/env bash
# The floor of one REST request per server, with no Taskwire code at all: the same one-route
# Quart app (app_only.py) under Hypercorn, Uvicorn (httptools) and Granian, a bare ASGI
# callable under Uvicorn, and the same route in Express. autocannon at 32 connections for
# 8 s each, two rounds, server CPU per request from /proc (the process and its children).
#   bench/floor/run.sh PEERS_DIR      (PEERS_DIR: the copied peers folder, after bench.sh install)
# Needs a venv with quart, hypercorn, uvloop, uvicorn[standard] and granian: made in /tmp.
set -eu
PEERS=$1; HERE=$(cd "$(dirname "$0")" && pwd)
AC=$PEERS/run/autocannon/node_modules/.bin/autocannon
V=/tmp/taskwire-floor-venv/bin
PY=$(for c in python3.13 /root/.pyenv/versions/3.13*/bin/python3 /usr/bin/python3.13; do "$c" -c 'import sys; assert sys.version_info >= (3, 13)' 2>/dev/null && { echo "$c"; break; }; done)
[ -x $V/granian ] || { "$PY" -m venv /tmp/taskwire-floor-venv && $V/pip install -q quart uvloop hypercorn 'uvicorn[standard]' granian; }
cpu() { cat /proc/$1/stat $(pgrep -P $1 | sed 's|.*|/proc/&/stat|') 2>/dev/null | awk '{t += $14 + $15} END {print t}'; }
measure() {
  local c0 c1 out; c0=$(cpu $1); out=$($AC -j -c 32 -d 8 "$2" 2>/dev/null); c1=$(cpu $1)
  python3 -c "import json,sys,os; o=json.loads(sys.argv[1]); n=o['requests']['total']; print(f\"{sys.argv[4]:18} {round((int(sys.argv[3])-int(sys.argv[2]))/os.sysconf('SC_CLK_TCK')*1e6/n):5} us/req\")" "$out" $c0 $c1 "$3"
}
cd "$HERE"; PIDS=()
trap 'kill ${PIDS[@]} 2>/dev/null' EXIT
$V/hypercorn -k uvloop -b 127.0.0.1:18781 app_only:app >/dev/null 2>&1 & PIDS+=($!)
$V/uvicorn --loop uvloop --http httptools --no-access-log --port 18782 app_only:app >/dev/null 2>&1 & PIDS+=($!)
$V/granian --interface asgi --port 18783 --no-ws app_only:app >/dev/null 2>&1 & PIDS+=($!)
$V/uvicorn --loop uvloop --http httptools --no-access-log --port 18784 app_only:raw >/dev/null 2>&1 & PIDS+=($!)
(cd "$PEERS/socketio" && exec node "$HERE/express_hello.js" 18785) & PIDS+=($!)
sleep 4
for round in 1 2; do
  measure ${PIDS[0]} http://127.0.0.1:18781/t "quart + hypercorn"
  measure ${PIDS[1]} http://127.0.0.1:18782/t "quart + uvicorn"
  measure ${PIDS[2]} http://127.0.0.1:18783/t "quart + granian"
  measure ${PIDS[3]} http://127.0.0.1:18784/t "bare asgi + uvicorn"
  measure ${PIDS[4]} http://127.0.0.1:18785/t "express"
done
