#!/usr/bin/env bash
# Deploys micro: renders an overlay with the images of one commit, pinned by the digests
# docker/build.sh --push recorded (<REGISTRY>/<service>@sha256:…; the tag stays as the label
# app.kubernetes.io/version), checks that the registry holds every one of them, and applies it
# to the cluster of the current kubectl context, or to the cluster rehearsal.
#
#   deployment/deploy.sh [--tag TAG] [--dry-run] [--rehearsal] local|cloud          deploy, wait for the rollouts
#   deployment/deploy.sh [--tag TAG] [--dry-run] [--rehearsal] local|cloud report   also run the report Job, print its output
#
# --tag defaults to the short git SHA of HEAD ("<sha>-dirty" for a changed tree, as build.sh
# tags it). REGISTRY defaults to localhost:5000 for local and must be set for cloud. An image
# never pushed (no digest recorded in IMAGE_DIGESTS, default .build/image-digests), or one the
# registry does not hold, stops the deploy before anything is applied, naming the image.
# --dry-run prints the rendered manifests and changes nothing (the registry is not asked).
# --rehearsal applies to a running `rehearse up` (REHEARSE: its binary, default
# .build/release/rehearse; REHEARSE_SOCKET: its control socket) instead of kubectl.
# KUBECTL overrides the kubectl to use. The credentials the overlays turn into Secrets are made
# first where missing (deployment/credentials.sh: random, 0600, git-ignored).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(git -C "$here" rev-parse --show-toplevel)"
readonly namespace=micro
tag=""
dry_run=false
rehearsal=false
overlay=""
action=deploy

usage() {
    sed -n '2,19s/^# \{0,1\}//p' "$0" >&2
    exit "${1:-2}"
}

while (($# > 0)); do
    case "$1" in
        --tag) tag="${2:?--tag needs a value}"; shift ;;
        --dry-run) dry_run=true ;;
        --rehearsal) rehearsal=true ;;
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
digests="${IMAGE_DIGESTS:-$root/.build/image-digests}"

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

# The digest build.sh --push recorded for <registry>/<service>:<tag>; fails, naming the image, when none.
digest_of() {
    local image="$1" digest
    digest="$(awk -v image="$image" '$1 == image { digest = $2 } END { print digest }' "$digests" 2>/dev/null)"
    if [[ -z $digest ]]; then
        echo "deploy.sh: $image was never pushed (no digest for it in ${digests#"$root/"}): docker/build.sh --push" >&2
        return 1
    fi
    echo "$digest"
}

# A throwaway kustomization on top of the overlay: kubectl has no `kustomize edit`, and the
# overlay in the tree stays as committed. Each image is pinned by its digest; the version label
# goes on every object and on the pod templates of our own workloads (named as their images).
render() {
    local layer name digest images names
    layer="$(mktemp -d)"
    trap 'rm -rf "$layer"' RETURN
    images="$(our_images)"
    names=""
    for name in $images; do names+="${names:+|}${name##*/}"; done
    {
        echo "apiVersion: kustomize.config.k8s.io/v1beta1"
        echo "kind: Kustomization"
        echo "resources:"
        echo "  - $(realpath --relative-to="$layer" "$here/overlays/$overlay")"
        echo "transformers:"
        echo "  - version-label.yml"
        echo "images:"
        for name in $images; do
            digest="$(digest_of "$registry/${name##*/}:$tag")" || return 1
            echo "  - {name: \"$name\", newName: \"$registry/${name##*/}\", digest: \"$digest\"}"
        done
        echo "patches:"
        for kind in Deployment Job; do
            echo "  - target: {kind: $kind, name: \"^($names)\$\"}"
            echo "    patch: '[{\"op\": \"add\", \"path\": \"/spec/template/metadata/labels/app.kubernetes.io~1version\", \"value\": \"$tag\"}]'"
        done
    } >"$layer/kustomization.yml"
    sed "s/app.kubernetes.io\/version: .*/app.kubernetes.io\/version: \"$tag\"/" \
        "$here/base/version-label.yml" >"$layer/version-label.yml"
    "$kubectl_bin" kustomize "$layer"
}

# The Secrets' files (components/credentials/secrets): made where missing, never committed.
"$here/credentials.sh"
manifests="$(render)"
if [[ "$dry_run" == true ]]; then
    printf '%s\n' "$manifests"
    exit 0
fi

# Before anything is applied: the registry holds every image the manifests pin.
while read -r image; do
    if ! error="$(skopeo inspect --raw "docker://$image" 2>&1 >/dev/null)"; then
        # skopeo's last words, without its log framing: "…: manifest unknown".
        error="${error%\"}"
        echo "deploy.sh: $image is not in the registry: ${error##*: }" >&2
        exit 1
    fi
done < <(sed -n "s#^ *image: *\($registry/.*@sha256:.*\)#\1#p" <<<"$manifests" | sort -u)

if [[ "$rehearsal" == true ]]; then
    rehearse=("${REHEARSE:-$root/.build/release/rehearse}")
    socket=()
    [[ -z ${REHEARSE_SOCKET:-} ]] || socket=(--socket "$REHEARSE_SOCKET")
    echo "deploy.sh: $overlay overlay, images $registry/<service>@<digest> of $tag, the cluster rehearsal" >&2
    # apply waits for the rollouts and fails, naming the pod, on a pull error or a crash loop.
    printf '%s\n' "$manifests" | "${rehearse[@]}" apply -f - "${socket[@]}"
    if [[ "$action" == report ]]; then
        "${rehearse[@]}" run job/report "${socket[@]}"
    fi
    echo "deploy.sh: deployed $tag" >&2
    exit 0
fi

k() { "$kubectl_bin" "$@"; }

echo "deploy.sh: $overlay overlay, images $registry/<service>@<digest> of $tag, context $(k config current-context)" >&2
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
