#!/usr/bin/env bash
# Benchmark of the eventservice (docs/design.md, eventservice: summary cost and exactly-once):
#   1. drain: N record events pre-loaded into the queue, as the webapp sends them (each with its
#      own id, so every event also goes through the dedupe window), one eventservice (release
#      build) started, events/s until all are counted; the counts are then checked to be exact.
#   2. summary: with those events recorded (N = 1,000,000 across 100 URLs by default), the round
#      trip of a summary request (LPUSH request, BLPOP answer), median and p90 of ROUNDS runs.
# Everything runs on loopback: redis-server and dnsmasq (for discovery) on free ports.
# Usage: bench/eventservice.sh [events] [rounds]     Rerunnable; needs redis-server, dnsmasq, python3.
set -euo pipefail

EVENTS="${1:-1000000}"
ROUNDS="${2:-20}"
URLS=100
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d /tmp/bench-eventservice.XXXXXX)"
# shellcheck source=bench/processes.sh
source "$ROOT/bench/processes.sh"

now_ns() { date +%s%N; }

cd "$ROOT"
build_eventservice

start_redis 200 --appendonly no

start_dns 200

echo "pre-loading $EVENTS events over $URLS URLs..."
# shellcheck disable=SC2016  # Lua source, not shell
rcli EVAL 'for i = 1, tonumber(ARGV[1]) do
  redis.call("LPUSH", KEYS[1], "{\"action\":\"record\",\"type\":\"page\",\"url\":\"/page/" .. (i % tonumber(ARGV[2]))
    .. "\",\"id\":\"0123456789abcdef-" .. i .. "\"}")
end return redis.call("LLEN", KEYS[1])' 1 eventservice "$EVENTS" "$URLS" >/dev/null

counted() {
    # shellcheck disable=SC2016
    rcli EVAL 'local t = 0 for _, v in ipairs(redis.call("HVALS", KEYS[1])) do t = t + tonumber(v) end return t' \
        1 eventservice:counts
}

SERVICE_PORT="$(free_port)"
EVENTSERVICE_SERVICE_PORT_METRICS="$SERVICE_PORT" DNS_HOST=127.0.0.1 DNS_PORT="$DNS_PORT" LOG_LEVEL=warning \
    "$EVENTSERVICE" >"$WORK/eventservice.log" 2>&1 &
PIDS+=("$!")

# The clock starts at the first counted event, so process start-up is not part of the rate.
while [ "$(counted)" -eq 0 ]; do sleep 0.005; done
START_NS="$(now_ns)"
START_COUNT="$(counted)"
while [ "$(counted)" -lt "$EVENTS" ]; do
    sleep 0.05
    if ! kill -0 "${PIDS[2]}" 2>/dev/null; then cat "$WORK/eventservice.log" >&2; exit 1; fi
done
END_NS="$(now_ns)"

TOTAL="$(counted)"
PENDING="$(( $(rcli LLEN eventservice) + $(rcli LLEN eventservice:processing) ))"
# shellcheck disable=SC2016
WRONG="$(rcli EVAL 'local bad = 0 for _, v in ipairs(redis.call("HVALS", KEYS[1])) do
  if tonumber(v) ~= tonumber(ARGV[1]) then bad = bad + 1 end end
  return bad + math.abs(redis.call("HLEN", KEYS[1]) - tonumber(ARGV[2]))' 1 eventservice:counts "$((EVENTS / URLS))" "$URLS")"
RATE="$(( (EVENTS - START_COUNT) * 1000000000 / (END_NS - START_NS) ))"
# Redis's own time in the worker's scripts (take + apply), steadier than the rate on a busy machine.
SCRIPT_USEC="$(rcli INFO commandstats | awk -F'[=,]' '/^cmdstat_evalsha:/ {print $4}')"
echo "drain: $EVENTS events, $RATE events/s (counted $TOTAL, pending $PENDING, URLs with a wrong count: $WRONG);" \
    "Redis script time $(( SCRIPT_USEC * 1000 / EVENTS )) ns/event"
if [ "$TOTAL" -ne "$EVENTS" ] || [ "$PENDING" -ne 0 ] || { [ $((EVENTS % URLS)) -eq 0 ] && [ "$WRONG" -ne 0 ]; }; then
    echo "FAIL: counts are not exact" >&2
    exit 1
fi

echo "summary over $TOTAL recorded events, $ROUNDS rounds..."
python3 - "$REDIS_PORT" "$ROUNDS" <<'PY'
# A minimal RESP client, so the timing is one request/answer and not a process start.
import socket, statistics, sys, time, uuid, json
port, rounds = int(sys.argv[1]), int(sys.argv[2])
sock = socket.create_connection(("127.0.0.1", port))
reader = sock.makefile("rb")

def command(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)
    return read()

def read():
    line = reader.readline()
    kind, rest = line[:1], line[1:-2]
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [read() for _ in range(n)]
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = reader.read(n + 2)[:-2]
        return data.decode()
    if kind == b":":
        return int(rest)
    if kind == b"-":
        raise RuntimeError(rest.decode())
    return rest.decode()

times = []
for _ in range(rounds):
    path = "eventservice:reply:" + uuid.uuid4().hex
    message = json.dumps({"action": "summary", "returnPath": path})
    start = time.perf_counter()
    command("LPUSH", "eventservice", message)
    answer = command("BLPOP", path, "5")
    times.append((time.perf_counter() - start) * 1000)
    if answer is None:
        sys.exit("no summary answer within 5 s")
counts = json.loads(answer[1])
times.sort()
print("summary: %d URLs, %d events; round trip median %.2f ms, p90 %.2f ms, min %.2f ms, max %.2f ms"
      % (len(counts), sum(counts.values()), statistics.median(times), times[int(len(times) * 0.9) - 1],
         times[0], times[-1]))
PY
