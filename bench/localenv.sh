#!/usr/bin/env bash
# Local environment benchmark:
#   1. time from the command to every /readyz green, with the binaries already built (goal <= 3 s),
#      measured outside the launcher (launch to its "micro is up" line) over RUNS runs;
#   2. the whole system idle: VmRSS of the four services from /proc/<pid>/status (goal <= 80 MB
#      in total), IDLE seconds after the last run came up.
#   3. Prometheus (the fuge.yml entry scripts/up runs, root only): its own RSS, apart from the
#      four's; MONITORING=0 leaves it out, to compare the ready time with and without it.
# Usage: bench/localenv.sh [bin folder, default .build/release]   (RUNS=5 IDLE=5 MONITORING=1 by default)
# Build as scripts/up does first: scripts/build-release
# Ports: 2xxxx versions of fuge.yml's, so a developer's running system on the usual ports stays
# untouched. Results are printed; the raw launcher logs go to bench/results/localenv-*.raw.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/release}
runs=${RUNS:-5}
idle=${IDLE:-5}
for name in localenv adderservice auditservice eventservice webapp; do
  [[ -x $bin/$name ]] || { echo "bench: $bin/$name is not built (swift build -c release)" >&2; exit 1; }
done
mkdir -p bench/results
state=$(mktemp -d)
ports=(--dns-port 25353 --port adderservice=28080 --port auditservice=28081 --port webapp=23000
  --port adderservice.metrics=29080 --port auditservice.metrics=29081 --port eventservice.metrics=29082
  --port webapp.metrics=24000 --port mongo=27117 --port redis=26379 --port prometheus=29090)
components=(adderservice auditservice eventservice webapp mongo redis dns)
if [[ ${MONITORING:-1} == 0 ]]; then
  ports+=(--only "adderservice,auditservice,eventservice,webapp,mongo,redis")
else
  components+=(prometheus prometheus-dns)
fi

now() { date +%s.%N; }

# Starts the launcher in the background; sets launcher_pid and log.
launch() {
  log=bench/results/localenv-$1.raw
  "$bin/localenv" --fuge fuge/fuge.yml --bin "$bin" --state "$state" --no-color "${ports[@]}" >"$log" 2>&1 &
  launcher_pid=$!
}

# Waits for "micro is up" (60 s at most); fails when the launcher ended first.
wait_up() {
  for _ in $(seq 1 6000); do
    grep -q "micro is up" "$log" && return 0
    kill -0 "$launcher_pid" 2>/dev/null || { echo "bench: launcher exited; see $log" >&2; return 1; }
    sleep 0.01
  done
  echo "bench: not up after 60 s; see $log" >&2
  return 1
}

stop() {
  kill -TERM "$launcher_pid"
  wait "$launcher_pid" || { echo "bench: launcher exit status $? on SIGTERM; see $log" >&2; return 1; }
}

echo "# localenv bench, $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), monitoring ${MONITORING:-1}"
times=()
for run in $(seq 1 "$runs"); do
  start=$(now)
  launch "$run"
  wait_up
  end=$(now)
  elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
  inside=$(grep -o "ready [0-9.]* s after the command" "$log" | grep -o "[0-9.]*")
  times+=("$elapsed")
  printf 'run %d: command -> all /readyz green %.2f s (launcher says %s s)\n' "$run" "$elapsed" "$inside"
  if ((run < runs)); then stop; fi
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
printf 'ready time over %d runs: min %.2f s, median %.2f s, max %.2f s\n' "$runs" \
  "$(head -1 <<<"$sorted")" "$(sed -n "$(((runs + 1) / 2))p" <<<"$sorted")" "$(tail -1 <<<"$sorted")"

sleep "$idle"
total=0
for name in "${components[@]}"; do
  pid=$(grep -o "started $name (pid [0-9]*)" "$log" | tail -1 | grep -o "[0-9]*)" | tr -d ')')
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
  printf '  %-12s pid %-7s VmRSS %6.1f MB\n' "$name" "$pid" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
  case $name in mongo | redis | dns | prometheus*) ;; *) total=$((total + rss)) ;; esac
done
printf 'idle RSS of the four services after %d s: %.1f MB (goal <= 80 MB)\n' "$idle" "$(awk -v k="$total" 'BEGIN { print k / 1024 }')"
stop
rm -rf "$state"
