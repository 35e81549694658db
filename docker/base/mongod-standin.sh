#!/bin/sh
# The mongo:8.0 stand-in's entrypoint: takes mongod's options as the official image does (with or
# without a leading "mongod"; --bind_ip_all, --bind_ip, --port, --dbpath) and runs nx-27017 with
# them. It stays as process 1 and passes SIGTERM on, so the server stops at once as mongod does:
# a Python process 1 would ignore SIGTERM (the kernel drops signals process 1 has no handler for).
set -eu
[ "${1:-}" = mongod ] && shift
# The official image's entrypoint binds every address unless told otherwise.
host=0.0.0.0 port=27017 data=/data/db
while [ $# -gt 0 ]; do
    case "$1" in
        --bind_ip_all) host=0.0.0.0 ;;
        --bind_ip) host="${2%%,*}"; shift ;;
        --bind_ip=*) host="${1#*=}"; host="${host%%,*}" ;;
        --port) port="$2"; shift ;;
        --port=*) port="${1#*=}" ;;
        --dbpath) data="$2"; shift ;;
        --dbpath=*) data="${1#*=}" ;;
        *) echo "mongod stand-in: ignoring $1 (nx-27017 has no such option)" >&2 ;;
    esac
    shift
done
# It logs to standard error anyway; its log file is not wanted (and / may be read-only).
/opt/nx/bin/nx-27017 --data-dir "$data" --host "$host" -p "$port" --pid-file /tmp/nx-27017.pid --log-file /dev/null &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT
status=0
while kill -0 "$child" 2>/dev/null; do
    wait "$child" || status=$?
done
exit "$status"
