#!/usr/bin/env bash
# Instructions per event of the eventservice's exactly-once drain, under callgrind: steady on a
# busy machine, where events/s (bench/eventservice.sh) swings by 2x with other people's builds.
# redis-server (no persistence) and one release eventservice each run under callgrind. EVENTS
# record events with ids, as the webapp sends them (100 URLs), are loaded into a side list while
# the worker idles; both processes' counters are zeroed; the list is renamed to `eventservice`
# (which wakes the worker's BLMOVE); when all are counted both processes dump their counters.
# Prints instructions per event in Redis (the take and apply scripts) and in the eventservice.
# Usage: bench/eventservice-instructions.sh [events=100000]
#        EVENTSERVICE=<binary> to measure another build (another commit's, side by side).
# Needs valgrind (callgrind_control), redis-server, redis-cli, dnsmasq, curl, python3.
set -euo pipefail

EVENTS="${1:-100000}"
URLS=100
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d /tmp/bench-eventservice-instructions.XXXXXX)"
# shellcheck source=bench/processes.sh
source "$ROOT/bench/processes.sh"

# The instruction total since the counters were zeroed: the process's first dump (`.1`).
dumped_instructions() {
    callgrind_control -d "$1" >/dev/null 2>&1
    sleep 1
    awk '/^(summary|totals):/ {print $2; exit}' "$WORK/callgrind.$1.1"
}

cd "$ROOT"
build_eventservice
# valgrind 3.19 cannot read Swift 6's DWARF 5: a copy without debug sections (symbols stay).
strip --strip-debug -o "$WORK/eventservice" "$EVENTSERVICE"
CALLGRIND=(valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$WORK/callgrind.%p")

REDIS_PREFIX=("${CALLGRIND[@]}")
start_redis 1200 --appendonly no

start_dns 1200

SERVICE_PORT="$(free_port)"
EVENTSERVICE_SERVICE_PORT_METRICS="$SERVICE_PORT" DNS_HOST=127.0.0.1 DNS_PORT="$DNS_PORT" LOG_LEVEL=warning \
    "${CALLGRIND[@]}" "$WORK/eventservice" >"$WORK/eventservice.log" 2>&1 &
SERVICE_PID="$!"
PIDS+=("$SERVICE_PID")
wait_for_port "$SERVICE_PORT" 1200
until curl -fs "http://127.0.0.1:$SERVICE_PORT/readyz" >/dev/null; do sleep 0.2; done

echo "loading $EVENTS events over $URLS URLs..."
# shellcheck disable=SC2016  # Lua source, not shell
rcli EVAL 'for i = 1, tonumber(ARGV[1]) do
  redis.call("LPUSH", KEYS[1], "{\"action\":\"record\",\"type\":\"page\",\"url\":\"/page/" .. (i % tonumber(ARGV[2]))
    .. "\",\"id\":\"0123456789abcdef-" .. i .. "\"}")
end return redis.call("LLEN", KEYS[1])' 1 eventservice:load "$EVENTS" "$URLS" >/dev/null
sleep 2  # a few idle rounds, so the worker is waiting in BLMOVE

callgrind_control -z "$REDIS_PID" >/dev/null 2>&1
callgrind_control -z "$SERVICE_PID" >/dev/null 2>&1
rcli RENAME eventservice:load eventservice >/dev/null

counted() {
    # shellcheck disable=SC2016
    rcli EVAL 'local t = 0 for _, v in ipairs(redis.call("HVALS", KEYS[1])) do t = t + tonumber(v) end return t' \
        1 eventservice:counts
}
while [ "$(counted)" -lt "$EVENTS" ]; do
    sleep 0.2
    if ! kill -0 "$SERVICE_PID" 2>/dev/null; then cat "$WORK/eventservice.log" >&2; exit 1; fi
done
SERVICE_IR="$(dumped_instructions "$SERVICE_PID")"
REDIS_IR="$(dumped_instructions "$REDIS_PID")"
PENDING="$(( $(rcli LLEN eventservice) + $(rcli LLEN eventservice:processing) ))"
echo "drain of $EVENTS events (pending after: $PENDING): instructions per event:" \
    "Redis $(( REDIS_IR / EVENTS )), eventservice $(( SERVICE_IR / EVENTS )), both $(( (REDIS_IR + SERVICE_IR) / EVENTS ))"
