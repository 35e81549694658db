#!/usr/bin/env bash
# Benchmark: what auditservice adds to an append, at the median.
#
#   1. nx-27017 (the test MongoDB-wire server) on a free loopback port, fresh data directory;
#   2. baseline: a tiny libmongoc program inserts the same document shape N times, one after the
#      other, and reports its round-trip percentiles (the Mongo server's own round trip, seen
#      through the same driver the service uses);
#   3. auditservice (release build), finding nx-27017 through dnsmasq + discovery as in the
#      local environment, driven by wrk with one connection (sequential POST /append);
#   4. prints both medians and the difference (target: ≤ 1 ms).
#
# Usage: bench/auditservice.sh [inserts (default 3000)] [wrk seconds (default 15)]
# Needs: swift, gcc + libmongoc-dev, wrk, dnsmasq, .tools/venv/bin/nx-27017.
set -euo pipefail

inserts="${1:-3000}"
seconds="${2:-15}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d /tmp/bench-auditservice.XXXXXX)"
# shellcheck source=bench/processes.sh
source "$ROOT/bench/processes.sh"

echo "== building auditservice (release)"
("$ROOT/scripts/build-release" --product auditservice >"$WORK/build.log" 2>&1) || {
    tail -30 "$WORK/build.log" >&2
    exit 1
}
binary="$(cd "$ROOT" && swift build -c release --show-bin-path)/auditservice"

mongo_port="$(free_port)"
"$ROOT/.tools/venv/bin/nx-27017" --data-dir "$WORK/mongo" --host 127.0.0.1 -p "$mongo_port" \
    --pid-file "$WORK/nx.pid" --log-file "$WORK/nx.log" >"$WORK/nx.out" 2>&1 &
PIDS+=($!)
wait_for_port "$mongo_port" 600

echo "== baseline: $inserts sequential libmongoc inserts into nx-27017"
cat >"$WORK/insert_rtt.c" <<'C'
/* Sequential insert_one round trips through libmongoc; prints p50/p90/p99 in microseconds. */
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
static int compare(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}
int main(int argc, char **argv) {
    int n = atoi(argv[2]), warmup = 200;
    mongoc_init();
    mongoc_client_t *client = mongoc_client_new(argv[1]);
    mongoc_collection_t *collection = mongoc_client_get_collection(client, "benchbaseline", "audit");
    int64_t *samples = calloc((size_t)n, sizeof *samples);
    bson_error_t error;
    for (int i = -warmup; i < n; i++) {
        bson_t *doc = BCON_NEW("ts", BCON_INT64(bson_get_monotonic_time() / 1000), "calc", BCON_UTF8("2+3"),
                               "result", BCON_INT64(5));
        int64_t start = bson_get_monotonic_time();
        if (!mongoc_collection_insert_one(collection, doc, NULL, NULL, &error)) {
            fprintf(stderr, "insert failed: %s\n", error.message);
            return 1;
        }
        if (i >= 0) samples[i] = bson_get_monotonic_time() - start;
        bson_destroy(doc);
    }
    qsort(samples, (size_t)n, sizeof *samples, compare);
    printf("%lld %lld %lld\n", (long long)samples[n / 2], (long long)samples[n * 9 / 10], (long long)samples[n * 99 / 100]);
    return 0;
}
C
# shellcheck disable=SC2046  # pkg-config prints several flags on purpose
gcc -O2 -o "$WORK/insert_rtt" "$WORK/insert_rtt.c" $(pkg-config --cflags --libs libmongoc-1.0)
read -r base_p50 base_p90 base_p99 < <("$WORK/insert_rtt" "mongodb://127.0.0.1:$mongo_port/" "$inserts")
echo "libmongoc insert: p50 ${base_p50} us, p90 ${base_p90} us, p99 ${base_p99} us"

echo "== auditservice via dnsmasq discovery"
dns_port="$(free_port)"
dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-poll --conf-file=/dev/null --pid-file= --user=root \
    --bind-interfaces --listen-address=127.0.0.1 --port="$dns_port" --local-ttl=5 --local=/svc.cluster.local/ \
    --srv-host=_main._tcp.mongo.micro.svc.cluster.local,mongo.micro.svc.cluster.local,"$mongo_port" \
    --host-record=mongo.micro.svc.cluster.local,127.0.0.1 >"$WORK/dnsmasq.log" 2>&1 &
PIDS+=($!)
http_port="$(free_port)"
admin_port="$(free_port)"
AUDITSERVICE_SERVICE_PORT="$http_port" AUDITSERVICE_SERVICE_PORT_METRICS="$admin_port" DNS_HOST=127.0.0.1 DNS_PORT="$dns_port" LOG_LEVEL=info \
    "$binary" >"$WORK/auditservice.log" 2>&1 &
PIDS+=($!)
wait_for_port "$http_port" 600
for _ in $(seq 1 100); do
    if curl -fs "http://127.0.0.1:$admin_port/readyz" >/dev/null; then break; fi
    sleep 0.1
done
curl -fs "http://127.0.0.1:$admin_port/readyz" >/dev/null || {
    echo "auditservice never became ready:" >&2
    tail -20 "$WORK/auditservice.log" >&2
    exit 1
}

cat >"$WORK/append.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"calc": "2+3", "calcResult": 5}'
wrk.headers["Content-Type"] = "application/json"
LUA
url="http://127.0.0.1:$http_port/append"
wrk -t1 -c1 -d3s -s "$WORK/append.lua" "$url" >/dev/null  # warm-up
wrk -t1 -c1 -d"${seconds}s" --latency -s "$WORK/append.lua" "$url" | tee "$WORK/wrk.txt"

# wrk prints "50%  1.23ms" (or us / s); convert to microseconds.
to_us() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) print int(n); else if (v ~ /ms$/) print int(n * 1000); else if (v ~ /s$/) print int(n * 1000000); else print -1
    }'
}
http_p50="$(to_us "$(awk '$1 == "50%" { print $2 }' "$WORK/wrk.txt")")"
http_p90="$(to_us "$(awk '$1 == "90%" { print $2 }' "$WORK/wrk.txt")")"
http_p99="$(to_us "$(awk '$1 == "99%" { print $2 }' "$WORK/wrk.txt")")"
requests="$(awk '/requests in/ { print $1 }' "$WORK/wrk.txt")"
# wrk counts answers outside 2xx/3xx itself ("Non-2xx or 3xx responses: N"), absent when none.
failures="$(awk -F': ' '/Non-2xx or 3xx responses/ { print $2 }' "$WORK/wrk.txt")"
failures="${failures:-0}"
added=$((http_p50 - base_p50))

echo
echo "== result ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "libmongoc insert p50/p90/p99: ${base_p50}/${base_p90}/${base_p99} us over $inserts inserts"
echo "POST /append    p50/p90/p99: ${http_p50}/${http_p90}/${http_p99} us over $requests requests ($failures not 2xx)"
echo "auditservice adds at p50: ${added} us (target: <= 1000 us)"
if [ "$failures" != "0" ]; then
    echo "FAIL: some appends failed" >&2
    exit 1
fi
