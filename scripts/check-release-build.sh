#!/usr/bin/env bash
# Checks the release build the Dockerfiles run, here, without Docker:
#   1. `scripts/build-release --product <product>` (what the Dockerfiles run) succeeds;
#   2. the binary links no Swift runtime library (ldd), and every library it links directly is
#      either in debian:bookworm-slim already or installed by docker/<product>/Dockerfile;
#   3. started with an empty environment and an empty LD_LIBRARY_PATH, a service answers
#      GET /healthz and exits 0 on SIGTERM within its 10 s drain; the report, with no Redis to
#      find, exits non-zero with a message naming Redis.
#
#   scripts/check-release-build.sh <product> [--skip-build]
set -euo pipefail

product="${1:?usage: check-release-build.sh <product> [--skip-build]}"
skip_build="${2:-}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
dockerfile="docker/$product/Dockerfile"
[[ -f "$dockerfile" ]] || { echo "no $dockerfile: not a product this repository ships" >&2; exit 2; }

build=(scripts/build-release --product "$product")
if [[ "$skip_build" != --skip-build ]]; then
    echo "== ${build[*]}"
    "${build[@]}"
fi
binary="$(swift build -c release --show-bin-path)/$product"
[[ -x "$binary" ]] || { echo "FAIL: $binary was not built" >&2; exit 1; }

echo "== ldd $binary"
ldd "$binary"
if ldd "$binary" | grep -Ei 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime|not found'; then
    echo "FAIL: the binary needs Swift runtime libraries (or misses a library)" >&2
    exit 1
fi

echo "== direct dependencies against the runtime image"
# Packages debian:bookworm-slim always has: libc6 (libresolv too), and what apt and dpkg need.
base_packages="libc6 libgcc-s1 libstdc++6 zlib1g"
runtime_packages="$(sed -n '/^FROM debian/,$p' "$dockerfile" | sed -n 's/.*apt-get install -y --no-install-recommends //p')"
missing=0
for library in $(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    package="$(dpkg -S "*/$library" 2>/dev/null | head -n 1 | cut -d: -f1)"
    if [[ -z "$package" ]]; then
        echo "FAIL: no Debian package provides $library" >&2
        missing=1
    elif tr -s ' ' '\n' <<<"$base_packages $runtime_packages" | grep -qxF -- "$package"; then
        echo "$library: $package"
    else
        echo "FAIL: $library comes from $package, which $dockerfile does not install" >&2
        missing=1
    fi
done
((missing == 0)) || exit 1

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

if [[ "$product" == report ]]; then
    # The report is a command, not a server: pointed at a DNS server that is not there, it must
    # start, fail to find Redis, say so and exit non-zero (DESIGN: report).
    dns_port="$(free_port)"
    echo "== env -i LD_LIBRARY_PATH= DNS_HOST=127.0.0.1 DNS_PORT=$dns_port $product"
    status=0
    output="$(env -i LD_LIBRARY_PATH= DNS_HOST=127.0.0.1 DNS_PORT="$dns_port" timeout 60 "$binary" 2>&1)" || status=$?
    echo "$output"
    echo "exit status $status"
    if ((status == 0 || status == 124)) || ! grep -qi redis <<<"$output"; then
        echo "FAIL: expected a non-zero exit naming Redis, within 60 s" >&2
        exit 1
    fi
    echo "check-release-build: $product OK"
    exit 0
fi

port="$(free_port)"
log="$(mktemp)"
echo "== env -i LD_LIBRARY_PATH= PORT=$port $product"
env -i LD_LIBRARY_PATH= PORT="$port" LOG_LEVEL=info "$binary" >"$log" 2>&1 &
pid=$!
cleanup() {
    kill "$pid" 2>/dev/null || true
    rm -f "$log"
}
trap cleanup EXIT

answer=""
for _ in $(seq 1 100); do
    if answer="$(curl -fsS "http://127.0.0.1:$port/healthz" 2>/dev/null)"; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "FAIL: $product exited before answering:" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.2
done
[[ -n "$answer" ]] || { echo "FAIL: no answer from /healthz within 20 s" >&2; cat "$log" >&2; exit 1; }
echo "GET /healthz -> $answer"

kill -TERM "$pid"
status=0
for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
    echo "FAIL: $product still running 10 s after SIGTERM" >&2
    exit 1
fi
wait "$pid" || status=$?
echo "SIGTERM -> exit status $status"
((status == 0)) || { cat "$log" >&2; exit 1; }
echo "check-release-build: $product OK"
