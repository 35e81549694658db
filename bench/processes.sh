# Sourced by the benchmarks after they set ROOT and WORK (a scratch folder):
# background processes go in PIDS and are stopped, and WORK removed, when the script exits; free
# loopback ports; waiting for a port to listen; the eventservice's build, Redis and the DNS
# server that names it.
# shellcheck shell=bash
PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for_port PORT [TRIES]: TRIES of 50 ms (default 200, 10 s); names the logs when it gives up.
wait_for_port() {
    for _ in $(seq 1 "${2:-200}"); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "nothing listens on port $1" >&2
    tail -n 5 "$WORK"/*.log >&2 2>/dev/null || true
    exit 1
}

# Sets EVENTSERVICE to a release build of it, unless the caller set another binary (another
# commit's build, side by side).
build_eventservice() {
    [ -n "${EVENTSERVICE:-}" ] && return 0
    echo "building eventservice (release)..."
    (cd "$ROOT" && scripts/build-release --product eventservice) >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
    EVENTSERVICE="$(cd "$ROOT" && swift build -c release --show-bin-path)/eventservice"
}

# start_redis TRIES OPTION...: a redis-server on a free port in WORK
# (REDIS_PORT, REDIS_PID, rcli), started under the command in the array REDIS_PREFIX when
# the caller set one (callgrind).
start_redis() {
    local tries="$1"
    shift
    REDIS_PORT="$(free_port)"
    ${REDIS_PREFIX[@]+"${REDIS_PREFIX[@]}"} redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --dir "$WORK" "$@" \
        >"$WORK/redis.log" 2>&1 &
    REDIS_PID="$!"
    PIDS+=("$REDIS_PID")
    wait_for_port "$REDIS_PORT" "$tries"
}
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

# start_dns TRIES: a dnsmasq on a free port (DNS_PORT) answering the SRV name the eventservice finds Redis by.
start_dns() {
    DNS_PORT="$(free_port)"
    /usr/sbin/dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-poll --conf-file=/dev/null --pid-file= \
        --user=root --bind-interfaces --listen-address=127.0.0.1 --port="$DNS_PORT" --local=/svc.cluster.local/ \
        --srv-host="_main._tcp.redis.micro.svc.cluster.local,redis-bench.local,$REDIS_PORT" \
        --host-record=redis-bench.local,127.0.0.1 >"$WORK/dnsmasq.log" 2>&1 &
    PIDS+=("$!")
    wait_for_port "$DNS_PORT" "$1"
}
