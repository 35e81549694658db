#!/usr/bin/env bash
# Tracing's instruction budgets (off within 3 %, every trace sampled within 25 %), side by side with an anchor build in the same run: instructions
# (callgrind) per `GET /add/2/3` on adderservice and per `POST /add/calculate` on the webapp,
# with tracing off (no OTEL_* set), on but unsampled (`OTEL_TRACES_SAMPLER=always_off`, an
# endpoint set) and every trace sampled and exported (`always_on`) to bench/otlp-sink.py; then
# the binaries' sizes, stripped as the images ship them.
#
#   bench/tracing.sh <folder of the anchor's release binaries> [seconds per count (default 8)]
#
# The anchor: the release adderservice and webapp of the commit to compare with (main), built
# with scripts/build-release. This tree's are built here the same way. The anchor gets the same
# variables; a build without tracing ignores them.
# Needs what bench/instructions.sh and bench/webapp.sh need.
set -euo pipefail
anchor="$(cd "$1" && pwd)"
seconds="${2:-8}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/bench-tracing.XXXXXX)"
sink_pid=""
cleanup() {
    if [ -n "$sink_pid" ]; then kill "$sink_pid" 2>/dev/null || true; wait "$sink_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

for product in adderservice webapp auditservice; do
    "$root/scripts/build-release" --product "$product" >>"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; exit 1; }
done
bin="$(cd "$root" && swift build -c release --show-bin-path)"

sink_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 "$root/bench/otlp-sink.py" "$sink_port" >"$work/sink.log" 2>&1 &
sink_pid=$!
endpoint="http://127.0.0.1:$sink_port"
modes=(
    "off:"
    "unsampled:OTEL_EXPORTER_OTLP_ENDPOINT=$endpoint OTEL_TRACES_SAMPLER=always_off"
    "sampled:OTEL_EXPORTER_OTLP_ENDPOINT=$endpoint OTEL_TRACES_SAMPLER=always_on"
)

echo "== $(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg); this: $(git -C "$root" rev-parse --short HEAD), anchor: $anchor"
echo "== adderservice, GET /add/2/3 (bench/instructions.sh, ${seconds} s)"
for mode in "${modes[@]}"; do
    read -ra variables <<<"${mode#*:}"
    for build in "anchor:$anchor/adderservice" "this:$bin/adderservice"; do
        result="$("$root/bench/instructions.sh" "${build#*:}" /add/2/3 "$seconds" "${variables[@]}" 2>/dev/null | tail -1)"
        printf '%-10s %-7s %s\n' "${mode%%:*}" "${build%%:*}" "$result"
    done
done

echo "== webapp, POST /add/calculate (CALLGRIND=1 bench/webapp.sh ${seconds}; previous = anchor)"
for mode in "${modes[@]}"; do
    echo "-- ${mode%%:*}"
    (
        read -ra variables <<<"${mode#*:}"
        for variable in "${variables[@]}"; do export "${variable?}"; done
        CALLGRIND=1 PREVIOUS="$anchor/webapp" "$root/bench/webapp.sh" "$seconds" | grep -E '^(==|POST)'
    )
done

echo "== stripped sizes (bytes)"
for build in "anchor:$anchor" "this:$bin"; do
    for product in adderservice webapp; do
        strip -o "$work/stripped" "${build#*:}/$product"
        printf '%-7s %-13s %s\n' "${build%%:*}" "$product" "$(stat -c %s "$work/stripped")"
    done
done
kill "$sink_pid"
wait "$sink_pid" 2>/dev/null || true
sink_pid=""
echo "sink: $(cat "$work/sink.log")"
