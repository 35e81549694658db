#!/usr/bin/env bash
# Benchmark: the webapp's pages under load, with event recording on.
#
#   1. release builds of webapp, adderservice and auditservice;
#   2. redis-server (append-only file synced every second, as the manifests run it), nx-27017
#      (for auditservice), adderservice, auditservice and dnsmasq (the SRV records of the local
#      environment) on free loopback ports;
#   3. the webapp pinned to one core (taskset), wrk pinned to another:
#      a. GET /add                 (target >= 0.3x nginx serving the same page from core 0 in the
#                                   same run, p99 <= 5 ms)
#      b. POST /add/calculate      at 32 connections (target p99 <= 10 ms)
#      c. POST /add/calculate      again with auditservice stopped (latency should not change);
#   4. checks that the page events reached the Redis list `eventservice`.
#
# Usage: bench/webapp.sh [seconds per run (default 10)] [connections for GET /add (default 32)]
#        CALLGRIND=1 bench/webapp.sh   instead counts the webapp's instructions per request (callgrind;
#                                      KEEP=<prefix> keeps each route's callgrind file for callgrind_annotate)
#        RATE=1000 bench/webapp.sh     instead measures calculations at a steady 1,000/s (hey: 10
#                                      clients at 100/s each), latency percentiles and status codes;
#                                      ROUNDS=n repeats it, the builds' order alternating, and gives
#                                      the median p99s and the median of the rounds' differences
#        PREVIOUS=<webapp binary>      with CALLGRIND or RATE: also runs an earlier build in the same
#                                      run (same dependencies), before this one
#        DEPS_CPUS=1 bench/webapp.sh   keeps every dependency on wrk's core (see below)
# Needs: swift, wrk, hey, taskset, nginx, redis-server, redis-cli, dnsmasq, curl, .tools/venv/bin/nx-27017.
set -euo pipefail

seconds="${1:-10}"
# Where the dependencies (adderservice, auditservice, nx-27017, redis, dnsmasq) run: by default
# anywhere; DEPS_CPUS=1 keeps them on wrk's core so the webapp has core 0 to itself.
deps_cpus="${DEPS_CPUS:-0-$(($(nproc) - 1))}"
get_connections="${2:-32}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d /tmp/bench-webapp.XXXXXX)"
# shellcheck source=bench/processes.sh
source "$ROOT/bench/processes.sh"

wait_until_ready() {  # url, what, log[, another url that also says ready]
    for _ in $(seq 1 "${READY_TRIES:-100}"); do
        if curl -fs "$1" >/dev/null || { [ -n "${4:-}" ] && curl -fs "$4" >/dev/null; }; then return 0; fi
        sleep 0.1
    done
    echo "$2 never became ready:" >&2
    tail -20 "$3" >&2
    exit 1
}

echo "== building webapp, adderservice, auditservice (release, static Swift runtime as the images ship them)"
for product in webapp adderservice auditservice; do
    ("$ROOT/scripts/build-release" --product "$product" >>"$WORK/build.log" 2>&1) || {
        tail -30 "$WORK/build.log" >&2
        exit 1
    }
done
bin="$(cd "$ROOT" && swift build -c release --show-bin-path)"

redis_port="$(free_port)"
taskset -c "$deps_cpus" redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly yes --appendfsync everysec --dir "$WORK" --protected-mode no \
    >"$WORK/redis.log" 2>&1 &
PIDS+=($!)
mongo_port="$(free_port)"
taskset -c "$deps_cpus" "$ROOT/.tools/venv/bin/nx-27017" --data-dir "$WORK/mongo" --host 127.0.0.1 -p "$mongo_port" \
    --pid-file "$WORK/nx.pid" --log-file "$WORK/nx-server.log" \
    >"$WORK/nx.log" 2>&1 &
PIDS+=($!)
adder_port="$(free_port)"
audit_port="$(free_port)"
adder_admin_port="$(free_port)"
audit_admin_port="$(free_port)"
dns_port="$(free_port)"
srv() {  # service, port
    echo "--srv-host=_main._tcp.$1.micro.svc.cluster.local,$1.micro.svc.cluster.local,$2"
    echo "--host-record=$1.micro.svc.cluster.local,127.0.0.1"
}
mapfile -t records < <(srv redis "$redis_port"; srv mongo "$mongo_port"; srv adderservice "$adder_port"; srv auditservice "$audit_port")
taskset -c "$deps_cpus" dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-poll --conf-file=/dev/null --pid-file= --user=root \
    --bind-interfaces --listen-address=127.0.0.1 --port="$dns_port" --local-ttl=5 --local=/svc.cluster.local/ \
    "${records[@]}" >"$WORK/dnsmasq.log" 2>&1 &
PIDS+=($!)
wait_for_port "$redis_port" 600
wait_for_port "$mongo_port" 600

export DNS_HOST=127.0.0.1 DNS_PORT="$dns_port" LOG_LEVEL=info  # as shipped: a log line per request
ADDERSERVICE_SERVICE_PORT="$adder_port" ADDERSERVICE_SERVICE_PORT_METRICS="$adder_admin_port" taskset -c "$deps_cpus" "$bin/adderservice" >"$WORK/adderservice.log" 2>&1 &
PIDS+=($!)
AUDITSERVICE_SERVICE_PORT="$audit_port" AUDITSERVICE_SERVICE_PORT_METRICS="$audit_admin_port" taskset -c "$deps_cpus" "$bin/auditservice" >"$WORK/auditservice.log" 2>&1 &
audit_pid=$!
PIDS+=("$audit_pid")
wait_until_ready "http://127.0.0.1:$adder_admin_port/healthz" adderservice "$WORK/adderservice.log"
wait_until_ready "http://127.0.0.1:$audit_admin_port/readyz" auditservice "$WORK/auditservice.log"

# Starts a webapp binary on core 0 (under callgrind with CALLGRIND set): sets web_port,
# web_admin_port, web_pid.
start_webapp() {  # binary, log name
    local binary="$1" log="$WORK/$2.log" command=("$1")
    web_port="$(free_port)"
    web_admin_port="$(free_port)"
    if [ -n "${CALLGRIND:-}" ]; then
        # valgrind 3.19 cannot read Swift 6's DWARF 5: a copy without debug sections (symbols stay).
        strip --strip-debug -o "$WORK/$2" "$binary"
        READY_TRIES=1200  # valgrind starts slowly
        command=(valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$WORK/cg.out" "$WORK/$2")
    fi
    WEBAPP_SERVICE_PORT="$web_port" WEBAPP_SERVICE_PORT_METRICS="$web_admin_port" taskset -c 0 "${command[@]}" >"$log" 2>&1 &
    web_pid=$!
    PIDS+=("$web_pid")
    # A PREVIOUS build from before the admin port answers /readyz on its own port.
    wait_until_ready "http://127.0.0.1:$web_admin_port/readyz" webapp "$log" "http://127.0.0.1:$web_port/readyz"
}

stop_webapp() {
    kill "$web_pid" 2>/dev/null || true
    wait "$web_pid" 2>/dev/null || true
}

cat >"$WORK/calculate.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "first=1234&second=5678"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
LUA

# wrk on core 1, the webapp alone on core 0.
run_wrk() {  # name, connections, url, [lua script]
    local name="$1" connections="$2" url="$3" script=() out
    out="$WORK/wrk-$RANDOM.txt"
    if [ $# -ge 4 ]; then script=(-s "$4"); fi
    taskset -c 1 wrk -t1 -c"$connections" -d2s "${script[@]}" "$url" >/dev/null  # warm-up
    taskset -c 1 wrk -t1 -c"$connections" -d"${seconds}s" --latency "${script[@]}" "$url" >"$out"
    local rate p50 p99 non2xx
    rate="$(awk '/Requests\/sec/ { print $2 }' "$out")"
    p50="$(awk '$1 == "50%" { print $2 }' "$out")"
    p99="$(awk '$1 == "99%" { print $2 }' "$out")"
    non2xx="$(awk -F': ' '/Non-2xx or 3xx responses/ { print $2 }' "$out")"
    printf '%-44s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$name ($connections conn)" "$rate" "$p50" "$p99" "${non2xx:-0}"
}

# Every webapp to measure: the earlier build first, when one is given.
builds=()
if [ -n "${PREVIOUS:-}" ]; then builds+=("previous:$PREVIOUS"); fi
builds+=("this:$bin/webapp")

if [ -n "${CALLGRIND:-}" ]; then  # instructions per request: counters zeroed after a warm-up
    count() {  # name, url, [lua script]
        local script=() requests instructions
        if [ $# -ge 3 ]; then script=(-s "$3"); fi
        taskset -c 1 wrk -t1 -c4 -d2s "${script[@]}" "$2" >/dev/null
        callgrind_control -z "$web_pid" >/dev/null
        taskset -c 1 wrk -t1 -c4 -d"${seconds}s" "${script[@]}" "$2" >"$WORK/wrk.txt"
        callgrind_control -d "$web_pid" >/dev/null
        sleep 1
        requests="$(awk '/requests in/ { print $1 }' "$WORK/wrk.txt")"
        local counted
        counted="$(for f in "$WORK"/cg.out.*; do awk -v f="$f" '/^summary:/ { print $2, f }' "$f"; done | sort -n | tail -1)"
        instructions="${counted%% *}"
        if [ -n "${KEEP:-}" ]; then cp "${counted#* }" "$KEEP-$build_name-${1//[^a-z]/}"; fi
        rm -f "$WORK"/cg.out.*
        echo "$1: $requests requests, $((instructions / requests)) instructions per request"
    }
    for build in "${builds[@]}"; do
        build_name="${build%%:*}"
        echo "== $build_name (${build#*:})"
        start_webapp "${build#*:}" "webapp-${build%%:*}"
        count "GET /add" "http://127.0.0.1:$web_port/add"
        count "POST /add/calculate" "http://127.0.0.1:$web_port/add/calculate" "$WORK/calculate.lua"
        stop_webapp
    done
    exit 0
fi

if [ -n "${RATE:-}" ]; then  # a steady rate of calculations: latency, not throughput
    per_client=$((RATE / 10))
    rounds="${ROUNDS:-1}"
    echo "== ${RATE} calculations/s for ${seconds} s, ${rounds} round(s) ($(date -u +%Y-%m-%dT%H:%MZ), load: $(cut -d' ' -f1-3 /proc/loadavg))"
    for round in $(seq 1 "$rounds"); do
        order=("${builds[@]}")
        # Every other round the other build goes first, so a slow minute of this shared machine
        # does not always fall on the same one.
        if [ $((round % 2)) -eq 0 ] && [ ${#builds[@]} -eq 2 ]; then order=("${builds[1]}" "${builds[0]}"); fi
        for build in "${order[@]}"; do
            start_webapp "${build#*:}" "webapp-${build%%:*}"
            url="http://127.0.0.1:$web_port/add/calculate"
            form=(-m POST -T application/x-www-form-urlencoded -d "first=1234&second=5678")
            taskset -c 1 hey -z 2s -c 10 -q "$per_client" "${form[@]}" "$url" >/dev/null  # warm-up
            taskset -c 1 hey -z "${seconds}s" -c 10 -q "$per_client" "${form[@]}" "$url" >"$WORK/hey.txt"
            awk -v name="${build%%:*}" -v round="$round" -v p99s="$WORK/p99s" '
                /Requests\/sec/ { rate = $2 }
                $1 == "50%" { p50 = $3 * 1000 } $1 == "90%" { p90 = $3 * 1000 } $1 == "99%" { p99 = $3 * 1000 }
                /^ *\[[0-9]+\]/ { codes = codes " " $1 "×" $2 }
                END {
                    printf "%-9s %8.1f calc/s   p50 %6.2f ms   p90 %6.2f ms   p99 %6.2f ms  %s\n", name, rate, p50, p90, p99, codes
                    print round, name, p99 >> p99s
                }
            ' "$WORK/hey.txt"
            stop_webapp
        done
    done
    if [ "$rounds" -gt 1 ] && [ ${#builds[@]} -eq 2 ]; then  # the median p99 of each, and of the rounds' differences
        python3 - "$WORK/p99s" <<'PY'
import statistics, sys
rounds = {}
for line in open(sys.argv[1]):
    number, name, p99 = line.split()
    rounds.setdefault(number, {})[name] = float(p99)
previous = [r["previous"] for r in rounds.values()]
this = [r["this"] for r in rounds.values()]
rises = [r["this"] - r["previous"] for r in rounds.values()]
print(f"median p99: previous {statistics.median(previous):.2f} ms, this {statistics.median(this):.2f} ms; "
      f"median rise {statistics.median(rises):+.2f} ms (rounds: {' '.join(f'{x:+.1f}' for x in rises)})")
PY
    fi
    exit 0
fi

start_webapp "$bin/webapp" webapp

redis() { redis-cli -p "$redis_port" "$@"; }
redis del eventservice >/dev/null

# nginx on the webapp's core, serving the same /add page as a file: the limit stand-in.
mkdir "$WORK/static"
chmod a+rx "$WORK" "$WORK/static"  # nginx's worker runs as nobody
curl -fs "http://127.0.0.1:$web_port/add" >"$WORK/static/add.html"
nginx_port="$(free_port)"
cat >"$WORK/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$nginx_port;
    location = /add { default_type text/html; alias $WORK/static/add.html; }
  }
}
CONF

echo
echo "== results ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores shared, load: $(cut -d' ' -f1-3 /proc/loadavg))"
taskset -c 0 nginx -c "$WORK/nginx.conf"
PIDS+=("$(cat "$WORK/nginx.pid")")
run_wrk "nginx, the same page as a file" "$get_connections" "http://127.0.0.1:$nginx_port/add" | tee "$WORK/nginx.txt"
kill "$(cat "$WORK/nginx.pid")"
run_wrk "GET /add" "$get_connections" "http://127.0.0.1:$web_port/add" | tee "$WORK/webapp-get.txt"
awk -v n="$(awk '{ print $(NF - 7) }' "$WORK/nginx.txt")" -v w="$(awk '{ print $(NF - 7) }' "$WORK/webapp-get.txt")" \
    'BEGIN { printf "GET /add: %.2fx nginx\n", w / n }'
run_wrk "POST /add/calculate, auditservice up" 32 "http://127.0.0.1:$web_port/add/calculate" "$WORK/calculate.lua"
kill "$audit_pid"
wait "$audit_pid" 2>/dev/null || true
run_wrk "POST /add/calculate, auditservice down" 32 "http://127.0.0.1:$web_port/add/calculate" "$WORK/calculate.lua"

sleep 1
events="$(redis llen eventservice)"
echo "events in the Redis list eventservice: $events"
curl -fs "http://127.0.0.1:$web_admin_port/metrics" | grep -E '^webapp_(events|audit)' || true
