#!/usr/bin/env bash
# Instructions per request of one route of a running service binary, counted by callgrind (stable
# whatever else the machine runs): the service under callgrind, 2 s of warm-up load, counters
# zeroed, then `seconds` of `wrk -t1 -c8`, and the instructions counted divided by the requests.
#   bench/instructions.sh <binary> <url-path> [seconds=10] [env VAR=value ...]
# e.g. bench/instructions.sh .build/release/adderservice /add/2/3
# Extra wrk options (a POST script) go in WRK_ARGS. Logs go to /dev/null; LOG_LEVEL stays info,
# so the request log line is paid for as in production.
set -euo pipefail
binary=$1 path=$2 seconds=${3:-10}
shift 3 2>/dev/null || shift $#
port=${PORT:-$((20000 + RANDOM % 10000))}
metrics_port=$((port + 1))  # the admin port: a free one, not the service table's
work=$(mktemp -d)
# valgrind 3.19 cannot read Swift 6's DWARF 5: a copy without debug sections (symbols stay).
strip --strip-debug -o "$work/service" "$binary"
env PORT="$port" METRICS_PORT="$metrics_port" "$@" valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$work/cg.out" \
  "$work/service" >/dev/null 2>"$work/valgrind.log" &
pid=$!
cleanup() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; if [[ -n ${KEEP:-} ]]; then cp "$work"/cg.out.1 "$KEEP"; fi; rm -rf "$work"; }
trap cleanup EXIT
# Any answer on the service's port: it listens (a binary from before the admin port too).
until curl -s -o /dev/null "http://127.0.0.1:$port$path"; do sleep 0.2; done
# WRK_ARGS may hold several words (e.g. "-s post.lua"): split it on purpose, into an array.
read -ra wrk_args <<<"${WRK_ARGS:-}"
wrk -t1 -c8 -d2s "${wrk_args[@]}" "http://127.0.0.1:$port$path" >/dev/null
callgrind_control -z "$pid" >/dev/null
wrk -t1 -c8 -d"${seconds}s" "${wrk_args[@]}" "http://127.0.0.1:$port$path" >"$work/wrk.txt"
callgrind_control -d "$pid" >/dev/null
sleep 1
requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
instructions=$(for f in "$work"/cg.out*; do awk '/^summary:/ {print $2}' "$f"; done | sort -n | tail -1)
echo "$path: $requests requests, $instructions instructions, $((instructions / requests)) per request"
