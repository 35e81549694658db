#!/usr/bin/env bash
# Deploys micro to the cluster of the current kubectl context: renders an overlay with the images
# of one commit (<REGISTRY>/<service>:<tag>, as docker/build.sh tags and pushes them) and applies it.
#
#   deployment/deploy.sh [--tag TAG] [--dry-run] local|cloud           deploy and wait for rollout
#   deployment/deploy.sh [--tag TAG] [--dry-run] local|cloud report    run the report Job, print its output
#
# --tag defaults to the short git SHA of HEAD ("<sha>-dirty" for a changed tree, as build.sh
# tags it). REGISTRY defaults to localhost:5000 for local and must be set for cloud. --dry-run
# prints the rendered manifests and changes nothing. KUBECTL overrides the kubectl to use.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(git -C "$here" rev-parse --show-toplevel)"
readonly namespace=micro
tag=""
dry_run=false
overlay=""
action=deploy

usage() {
    sed -n '2,10s/^# \{0,1\}//p' "$0" >&2
    exit "${1:-2}"
}

while (($# > 0)); do
    case "$1" in
        --tag) tag="${2:?--tag needs a value}"; shift ;;
        --dry-run) dry_run=true ;;
        -h | --help) usage 0 ;;
        local | cloud) overlay="$1" ;;
        report) action=report ;;
        *) echo "deploy.sh: unexpected argument '$1'" >&2; usage ;;
    esac
    shift
done
[[ -n "$overlay" ]] || usage

kubectl_bin="${KUBECTL:-$(command -v kubectl || echo "$root/.tools/venv/bin/kubectl")}"
if [[ "$overlay" == cloud ]]; then
    registry="${REGISTRY:?deploy.sh: set REGISTRY to the registry the cloud cluster pulls from}"
else
    registry="${REGISTRY:-localhost:5000}"
fi
if [[ -z "$tag" ]]; then
    tag="$(git -C "$root" rev-parse --short HEAD)"
    [[ -z "$(git -C "$root" status --porcelain)" ]] || tag="$tag-dirty"
fi

# The images of our services (every one docker/build.sh builds) as the overlay names them.
our_images() {
    local built image name
    built="$("$root/docker/build.sh" --list | sed 's#.*/##')"
    "$kubectl_bin" kustomize "$here/overlays/$overlay" | sed -n 's/^ *image: *//p' | sort -u |
        while read -r image; do
            name="${image%:*}"
            if grep -qx "${name##*/}" <<<"$built"; then echo "$name"; fi
        done
}

# A throwaway kustomization on top of the overlay: kubectl has no `kustomize edit`, and the
# overlay in the tree stays as committed.
render() {
    local layer name
    layer="$(mktemp -d)"
    trap 'rm -rf "$layer"' RETURN
    {
        echo "apiVersion: kustomize.config.k8s.io/v1beta1"
        echo "kind: Kustomization"
        echo "resources:"
        echo "  - $(realpath --relative-to="$layer" "$here/overlays/$overlay")"
        echo "transformers:"
        echo "  - version-label.yml"
        echo "images:"
        our_images | while read -r name; do
            echo "  - {name: \"$name\", newName: \"$registry/${name##*/}\", newTag: \"$tag\"}"
        done
    } >"$layer/kustomization.yml"
    # The base's version label, now the tag: same fields, so never a volumeClaimTemplate's.
    sed "s/app.kubernetes.io\/version: .*/app.kubernetes.io\/version: \"$tag\"/" \
        "$here/base/version-label.yml" >"$layer/version-label.yml"
    "$kubectl_bin" kustomize "$layer"
}

manifests="$(render)"
if [[ "$dry_run" == true ]]; then
    printf '%s\n' "$manifests"
    exit 0
fi

k() { "$kubectl_bin" "$@"; }

echo "deploy.sh: $overlay overlay, images $registry/<service>:$tag, context $(k config current-context)" >&2
k apply -f "$here/namespace.yml"
# A Job's pod template is immutable: replace the finished report Job rather than patch it.
k delete job report --namespace "$namespace" --ignore-not-found
printf '%s\n' "$manifests" | k apply -f -

if [[ "$action" == report ]]; then
    # A failed Job never completes: the wait times out, and its output says why.
    complete=true
    k wait --namespace "$namespace" --for=condition=complete job/report --timeout=120s || complete=false
    k logs --namespace "$namespace" job/report
    [[ "$complete" == true ]] || { echo "deploy.sh: the report Job did not complete" >&2; exit 1; }
    exit 0
fi

k rollout status --namespace "$namespace" statefulset/mongo --timeout=300s
for deployment in $(k get deployments --namespace "$namespace" -o name); do
    k rollout status --namespace "$namespace" "$deployment" --timeout=300s
done
echo "deploy.sh: deployed $tag" >&2
