#!/usr/bin/env bash
# adderservice against nginx and Node's http module on the same core, in the same run (goals:
# >= 45% of nginx's requests/s, p99 <= 3 ms at 64 connections, ahead of Node), plus idle RSS and
# the time from exec to a /healthz answer (on its admin port).
#   bench/adderservice.sh [duration-seconds=15]
#   PREVIOUS=/path/to/adderservice bench/adderservice.sh   also runs an earlier build (e.g. from a
#   `git worktree` of an older commit, built with its scripts/build-release) in the same run.
# Each server pinned to CPU 0 (taskset) in turn, wrk on CPU 1 (-t1 -c64); the service logs its
# request line (LOG_LEVEL=info) to /dev/null and keeps its metrics, as shipped.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-15}
server_cpu=0
client_cpu=1
nginx_port=18080
adder_port=18081
node_port=18082
adder_admin_port=19081

scripts/build-release --product adderservice >/dev/null  # as the image ships it
bin=$(swift build -c release --show-bin-path)/adderservice
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [[ -f $work/nginx.pid ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$nginx_port;
    location /add/ { default_type application/json; return 200 '{"result":5}'; }
  }
}
CONF

run_wrk() {  # url → "requests/s p99"
  taskset -c "$client_cpu" wrk -t1 -c64 -d2s "$1" >/dev/null  # warm-up
  taskset -c "$client_cpu" wrk -t1 -c64 -d"${duration}s" --latency "$1" >"$work/wrk.txt"
  local rps p99
  rps=$(awk '/^Requests\/sec/ {print $2}' "$work/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
  echo "$rps $p99"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
taskset -c "$server_cpu" nginx -c "$work/nginx.conf"
sleep 0.5
read -r nginx_rps nginx_p99 < <(run_wrk "http://127.0.0.1:$nginx_port/add/2/3")
kill "$(cat "$work/nginx.pid")"; rm -f "$work/nginx.pid"

PORT=$node_port taskset -c "$server_cpu" node bench/node-http.js &
pids+=($!)
until curl -sf "http://127.0.0.1:$node_port/add/2/3" >/dev/null; do sleep 0.05; done
read -r node_rps node_p99 < <(run_wrk "http://127.0.0.1:$node_port/add/2/3")
kill "${pids[-1]}"

start=$(date +%s%N)
ADDERSERVICE_SERVICE_PORT=$adder_port ADDERSERVICE_SERVICE_PORT_METRICS=$adder_admin_port LOG_LEVEL=info \
  taskset -c "$server_cpu" "$bin" >/dev/null 2>&1 &
adder_pid=$!
pids+=("$adder_pid")
until curl -sf "http://127.0.0.1:$adder_admin_port/healthz" >/dev/null; do sleep 0.005; done
healthz_ms=$(( ($(date +%s%N) - start) / 1000000 ))
sleep 1
idle_rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$adder_pid/status")
read -r adder_rps adder_p99 < <(run_wrk "http://127.0.0.1:$adder_port/add/2/3")
loaded_rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$adder_pid/status")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
previous_line=
if [[ -n ${PREVIOUS:-} ]]; then
  kill "$adder_pid"; wait "$adder_pid" 2>/dev/null || true
  ADDERSERVICE_SERVICE_PORT=$adder_port ADDERSERVICE_SERVICE_PORT_METRICS=$adder_admin_port LOG_LEVEL=info \
    taskset -c "$server_cpu" "$PREVIOUS" >/dev/null 2>&1 &
  pids+=($!)
  # Its own routes: a previous build may serve /healthz on this port rather than the admin one.
  until curl -sf "http://127.0.0.1:$adder_port/add/2/3" >/dev/null; do sleep 0.005; done
  read -r previous_rps previous_p99 < <(run_wrk "http://127.0.0.1:$adder_port/add/2/3")
  previous_line="previous     : $previous_rps req/s, p99 $previous_p99  ($(ratio "$previous_rps" "$nginx_rps")x nginx; $PREVIOUS)"
fi

cat <<REPORT
load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)
nginx        : $nginx_rps req/s, p99 $nginx_p99
node http    : $node_rps req/s, p99 $node_p99  ($(ratio "$node_rps" "$nginx_rps")x nginx)
adderservice : $adder_rps req/s, p99 $adder_p99  ($(ratio "$adder_rps" "$nginx_rps")x nginx, $(ratio "$adder_rps" "$node_rps")x node)
${previous_line:+$previous_line
}adderservice : idle RSS $((idle_rss_kb / 1024)) MB, after load $((loaded_rss_kb / 1024)) MB, /healthz answered ${healthz_ms} ms after exec
REPORT
