#!/usr/bin/env bash
# Poison messages against the eventservice (docs/design.md, eventservice: message size limit):
# one release eventservice, redis-server persisting as deployment/base/redis.yml runs it
# (append-only, fsync every second). ROUNDS times: a 90 MB message that is not JSON (control
# characters) and a 1 MB record that looks valid are pushed, then one ordinary event, timed until
# it is counted. Then the dead letters' sizes, and the eventservice's peak RSS (VmHWM) next to its
# idle peak (the anchor, read before the first push).
# Usage: bench/eventservice-poison.sh [rounds=3]     Rerunnable; needs redis-server, redis-cli, dnsmasq, python3.
set -euo pipefail

ROUNDS="${1:-3}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d /tmp/bench-eventservice-poison.XXXXXX)"
# shellcheck source=bench/processes.sh
source "$ROOT/bench/processes.sh"

hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
now_ns() { date +%s%N; }

cd "$ROOT"
build_eventservice

start_redis 200 --appendonly yes --appendfsync everysec

start_dns 200

head -c 90000000 /dev/zero | tr '\0' '\001' >"$WORK/not-json"
{ printf '{"action":"record","type":"page","url":"/'; head -c 1000000 /dev/zero | tr '\0' a; printf '","id":"big"}'; } \
    >"$WORK/big-record"

SERVICE_PORT="$(free_port)"
EVENTSERVICE_SERVICE_PORT_METRICS="$SERVICE_PORT" DNS_HOST=127.0.0.1 DNS_PORT="$DNS_PORT" LOG_LEVEL=info \
    "$EVENTSERVICE" >"$WORK/eventservice.log" 2>&1 &
SERVICE_PID="$!"
PIDS+=("$SERVICE_PID")
wait_for_port "$SERVICE_PORT"
sleep 1
echo "eventservice idle: VmHWM $(hwm_kb "$SERVICE_PID") kB"

for round in $(seq 1 "$ROUNDS"); do
    rcli -x LPUSH eventservice <"$WORK/not-json" >/dev/null
    rcli -x LPUSH eventservice <"$WORK/big-record" >/dev/null
    rcli LPUSH eventservice "{\"action\":\"record\",\"type\":\"page\",\"url\":\"/next\",\"id\":\"next-$round\"}" >/dev/null
    START_NS="$(now_ns)"
    while [ "$(rcli HGET eventservice:counts /next)" != "$round" ]; do
        sleep 0.005
        if [ $(( ($(now_ns) - START_NS) / 1000000 )) -gt 30000 ]; then
            echo "FAIL: event $round not counted within 30 s; eventservice VmHWM $(hwm_kb "$SERVICE_PID") kB" >&2
            tail -5 "$WORK/eventservice.log" | cut -c1-300 >&2
            exit 1
        fi
    done
    echo "round $round: next event counted $(( ($(now_ns) - START_NS) / 1000000 )) ms after its push; VmHWM $(hwm_kb "$SERVICE_PID") kB"
done

echo "dead letters: $(rcli LLEN eventservice:dead), largest $(rcli EVAL 'local m = 0 for _, l in ipairs(redis.call("LRANGE", KEYS[1], 0, -1)) do m = math.max(m, #l) end return m' 1 eventservice:dead) bytes"
echo "queue $(rcli LLEN eventservice), processing $(rcli LLEN eventservice:processing)"
echo "eventservice after $ROUNDS rounds: VmHWM $(hwm_kb "$SERVICE_PID") kB, VmRSS $(awk '/VmRSS/ {print $2}' "/proc/$SERVICE_PID/status") kB"
echo "redis-server: used_memory_peak_human $(rcli INFO memory | awk -F: '/^used_memory_peak_human/ {print $2}' | tr -d '\r')"
