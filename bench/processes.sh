# Sourced by the eventservice benchmarks after they set WORK (a scratch folder): background
# processes go in PIDS and are stopped, and WORK removed, when the script exits; free loopback
# ports; waiting for a port to listen.
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
