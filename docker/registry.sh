#!/usr/bin/env bash
# The local image registry: Debian's docker-registry (the CNCF distribution registry, what the
# registry:2 image runs) on localhost:5000, its blobs under .build/registry, so no Docker engine
# is needed to run one. docker/build.sh --push pushes there; the cluster rehearsal pulls from it.
#
#   docker/registry.sh up       start it in the background (nothing happens when one answers)
#   docker/registry.sh down     stop the one this script started
#   docker/registry.sh status   exit 0 when it answers; prints its catalog
#
# REGISTRY (default localhost:5000) must name this host: localhost:<port> or 127.0.0.1:<port>.
# podman trusts it without TLS through /etc/containers/registries.conf.d/micro-registry.conf
# (scripts/setup), as Docker trusts localhost.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
registry="${REGISTRY:-localhost:5000}"
state="$root/.build/registry"
pidfile="$state/registry.pid"
case "$registry" in
    localhost:* | 127.0.0.1:*) port="${registry##*:}" ;;
    *) echo "registry.sh: REGISTRY=$registry is not on this host (localhost:<port>)" >&2; exit 2 ;;
esac

answers() { curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null; }

up() {
    if answers; then
        echo "registry.sh: a registry already answers on $registry" >&2
        return 0
    fi
    command -v docker-registry >/dev/null || { echo "registry.sh: docker-registry is not installed: run scripts/setup" >&2; exit 1; }
    mkdir -p "$state/data"
    cat >"$state/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $state/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
EOF
    # setsid: its own session, so it outlives the shell that started it (a CI step, a terminal).
    setsid docker-registry serve "$state/config.yml" >>"$state/registry.log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    for _ in $(seq 1 50); do
        if answers; then
            echo "registry.sh: $registry is up (data in ${state#"$root/"}/data, log in ${state#"$root/"}/registry.log)" >&2
            return 0
        fi
        kill -0 "$(cat "$pidfile")" 2>/dev/null || break
        sleep 0.1
    done
    echo "registry.sh: the registry did not start on $registry: $(tail -1 "$state/registry.log")" >&2
    exit 1
}

down() {
    [[ -f $pidfile ]] || { echo "registry.sh: none started here" >&2; return 0; }
    local pid
    pid="$(cat "$pidfile")"
    # Only our own: the pid must still be a docker-registry serving this state folder.
    if [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *"docker-registry serve $state/config.yml"* ]]; then
        kill "$pid"
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        echo "registry.sh: stopped" >&2
    fi
    rm -f "$pidfile"
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status)
        answers || { echo "registry.sh: no registry answers on $registry" >&2; exit 1; }
        curl -fsS --max-time 5 "http://127.0.0.1:$port/v2/_catalog"
        echo
        ;;
    *) sed -n '2,12s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
