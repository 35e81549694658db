#!/usr/bin/env bash
# micro's delivery pipeline, the stages of the seeds' Jenkins pipeline as one script that runs
# anywhere (deployment/Jenkinsfile calls it; so does CI against the cluster rehearsal):
#
#   deployment/pipeline.sh [--rehearsal] [--stages LIST] [--url URL] local|cloud
#
#   test    swift build --build-tests, the test suites (not the rehearsal's: it needs a machine
#           of its own, scripts/test runs it), scripts/check-static.sh
#   build   docker/build.sh: the five images of HEAD (a clean work tree)
#   push    docker/build.sh --push: to REGISTRY, recording each image's digest
#   deploy  deployment/deploy.sh: the images pinned by digest; waits for every rollout
#   smoke   through the webapp: the calculator page, a calculation, the audit page listing it
#   report  the report Job, from the report image: its table, with the calculator's page count
#
# LIST is a comma-separated subset (default: all, in this order). --rehearsal deploys to a running
# `rehearse up` (deploy.sh --rehearsal); the smoke test then goes to its node port. --url gives the
# webapp's address; without it, for a real cluster, a kubectl port-forward to service/webapp.
# REGISTRY, IMAGE_DIGESTS, KUBECTL, REHEARSE, REHEARSE_SOCKET pass on to the scripts.
# Prints each stage's time. Stops at the first stage that fails, naming it (status 1); the cluster
# then runs what it ran before: nothing is applied before every image is known to the registry,
# and a rollout that fails leaves the old pods serving.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(git -C "$here" rev-parse --show-toplevel)"
cd "$root"
readonly ALL_STAGES=(test build push deploy smoke report)
stages="$(IFS=,; echo "${ALL_STAGES[*]}")"
rehearsal=()
url="${WEBAPP_URL:-}"
overlay=""

while (($# > 0)); do
    case "$1" in
        --stages) stages="${2:?--stages needs a list}"; shift ;;
        --rehearsal) rehearsal=(--rehearsal) ;;
        --url) url="${2:?--url needs an address}"; shift ;;
        -h | --help) sed -n '2,25s/^# \{0,1\}//p' "$0"; exit 0 ;;
        local | cloud) overlay="$1" ;;
        *) echo "pipeline.sh: unexpected argument '$1'" >&2; exit 2 ;;
    esac
    shift
done
[[ -n $overlay ]] || { echo "pipeline.sh: which overlay: local or cloud?" >&2; exit 2; }
for stage in ${stages//,/ }; do
    [[ " ${ALL_STAGES[*]} " == *" $stage "* ]] || { echo "pipeline.sh: unknown stage '$stage' (one of: ${ALL_STAGES[*]})" >&2; exit 2; }
done

say() { echo "pipeline: $*" >&2; }
work="$(mktemp -d)"
forward=""
cleanup() {
    [[ -z $forward ]] || kill "$forward" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

stage_test() {
    swift build --build-tests
    swift test --skip-build --skip RehearsalTests
    scripts/check-static.sh
}

stage_build() { docker/build.sh; }

stage_push() { docker/build.sh --push; }

stage_deploy() { deployment/deploy.sh "${rehearsal[@]}" "$overlay"; }

# The webapp's address: given, the rehearsal's node port, or a port-forward through kubectl.
webapp_url() {
    if [[ -n $url ]]; then
        echo "$url"
    elif ((${#rehearsal[@]})); then
        echo "http://10.213.0.1:30080"
    else
        local kubectl="${KUBECTL:-$(command -v kubectl || echo "$root/.tools/venv/bin/kubectl")}"
        "$kubectl" port-forward --namespace micro service/webapp :3000 >"$work/forward" 2>&1 &
        forward=$!
        for _ in $(seq 1 50); do
            grep -q 'Forwarding from 127.0.0.1:' "$work/forward" && break
            sleep 0.1
        done
        sed -n 's/^Forwarding from 127.0.0.1:\([0-9]*\).*/http:\/\/127.0.0.1:\1/p' "$work/forward" | head -n 1
    fi
}

stage_smoke() {
    local base first=$((RANDOM + 1000)) second=$((RANDOM + 1000)) page
    base="$(webapp_url)"
    [[ -n $base ]] || { say "no address for the webapp"; return 1; }
    curl -fsS --max-time 10 -o /dev/null "$base/add" || { say "GET $base/add failed"; return 1; }
    page="$(curl -fsS --max-time 10 --data "first=$first&second=$second" "$base/add/calculate")" || { say "POST $base/add/calculate failed"; return 1; }
    grep -q "$first + $second = <strong>$((first + second))</strong>" <<<"$page" || { say "$first + $second: not $((first + second))"; return 1; }
    # The audit record travels on its own (webapp → auditservice → mongo): wait for it a while.
    for _ in $(seq 1 40); do
        page="$(curl -fsS --max-time 10 "$base/audit" || true)"
        if grep -q ">$first+$second<" <<<"$page"; then
            say "smoke: $base: /add, $first + $second = $((first + second)), and the audit page lists it"
            return 0
        fi
        sleep 0.5
    done
    say "the audit page does not list $first+$second"
    return 1
}

# The counts travel through Redis and the eventservice's batches: run the Job again until the
# calculator's page (visited by the smoke test, or before) is counted.
stage_report() {
    local output
    for _ in $(seq 1 10); do
        output="$(deployment/deploy.sh "${rehearsal[@]}" "$overlay" report)" || { printf '%s\n' "$output"; return 1; }
        if grep -qE '^ */add/calculate +[1-9][0-9]*' <<<"$output"; then
            printf '%s\n' "$output"
            return 0
        fi
        sleep 1
    done
    printf '%s\n' "$output"
    say "the report counts no /add/calculate"
    return 1
}

total=$SECONDS
for stage in ${stages//,/ }; do
    say "stage $stage"
    started=$SECONDS
    if ! "stage_$stage"; then
        say "stage $stage FAILED after $((SECONDS - started)) s; the pipeline stops here (the cluster runs what it ran before)"
        exit 1
    fi
    say "stage $stage passed in $((SECONDS - started)) s"
done
say "every stage passed ($stages) in $((SECONDS - total)) s"
