#!/usr/bin/env bash
# Builds the micro images, one per service, tagged <REGISTRY>/<service>:<short git SHA>, and with
# --push pushes them and records each one's digest (IMAGE_DIGESTS, default .build/image-digests:
# "<image>:<tag> sha256:…" lines, from which deployment/deploy.sh pins the images it deploys).
# All five are targets of docker/Dockerfile, whose build stage compiles every service once: the
# first image builds it, the others reuse its layers. The image of a commit is only ever built
# from that commit: a tree with uncommitted changes is refused unless --allow-dirty, and then the
# tag says "-dirty". A registry that does not answer fails --push before anything is built.
#
#   docker/build.sh [--push] [--allow-dirty] [--dry-run] [SERVICE...]   (default: every service)
#   docker/build.sh --list        prints <REGISTRY>/<service> for every image this script builds
#   docker/build.sh --build-stage builds (or finds, cached) the build stage and prints its image id:
#                                 its /debug holds each binary's debug info and symbols
#
# REGISTRY defaults to localhost:5000, the local registry (docker/registry.sh) and minikube's
# registry addon. IMAGE_SOURCE overrides the org.opencontainers.image.source label (default: the
# git remote "origin"). CONTAINER_ENGINE chooses docker or podman (default: podman if installed).
# With podman, a local mirror of the Swift packages (SWIFT_PACKAGE_MIRROR, default
# /opt/swift-packages, used when it exists) is mounted read-only into the build, with a git config
# holding only this machine's url.<mirror>.insteadOf lines, so the packages resolve offline.
set -euo pipefail

readonly SERVICES=(adderservice auditservice eventservice webapp report)
registry="${REGISTRY:-localhost:5000}"
push=false
allow_dirty=false
dry_run=false
build_stage=false
selected=()

usage() {
    sed -n '2,22s/^# \{0,1\}//p' "$0" >&2
    exit "${1:-2}"
}

is_service() {
    local candidate="$1" service
    for service in "${SERVICES[@]}"; do
        [[ "$service" == "$candidate" ]] && return 0
    done
    return 1
}

while (($# > 0)); do
    case "$1" in
        --push) push=true ;;
        --allow-dirty) allow_dirty=true ;;
        --dry-run) dry_run=true ;;
        --build-stage) build_stage=true ;;
        --list)
            for service in "${SERVICES[@]}"; do echo "$registry/$service"; done
            exit 0
            ;;
        -h | --help) usage 0 ;;
        -*) echo "build.sh: unknown option $1" >&2; usage ;;
        *)
            is_service "$1" || { echo "build.sh: unknown service '$1' (one of: ${SERVICES[*]})" >&2; exit 2; }
            selected+=("$1")
            ;;
    esac
    shift
done
((${#selected[@]} > 0)) || selected=("${SERVICES[@]}")

root="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
cd "$root"

revision="$(git rev-parse HEAD)"
tag="$(git rev-parse --short HEAD)"
if [[ -n "$(git status --porcelain)" ]]; then
    if [[ "$allow_dirty" != true ]]; then
        echo "build.sh: the work tree has uncommitted changes; commit them, or pass --allow-dirty" >&2
        exit 1
    fi
    tag="$tag-dirty"
fi
source_url="${IMAGE_SOURCE:-$(git config --get remote.origin.url || echo unknown)}"

engine="${CONTAINER_ENGINE:-}"
if [[ -z $engine ]]; then
    if command -v podman >/dev/null; then engine=podman; else engine=docker; fi
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# podman only (docker build has no --volume): resolve the Swift packages from the local mirror.
mirror_options=()
mirror="${SWIFT_PACKAGE_MIRROR:-/opt/swift-packages}"
if [[ $engine == podman && -d $mirror ]]; then
    gitconfig="$work/gitconfig"
    git config --system --get-regexp '^url\..*\.insteadof$' | while read -r key value; do
        git config --file "$gitconfig" --add "$key" "$value"
    done
    chmod 644 "$gitconfig"
    mirror_options=(--volume "$mirror:$mirror:ro" --volume "$gitconfig:/etc/gitconfig:ro")
fi

if [[ $build_stage == true ]]; then
    "$engine" build --quiet "${mirror_options[@]}" --file docker/Dockerfile --target build . | tail -n 1
    exit "${PIPESTATUS[0]}"
fi

run() {
    if [[ "$dry_run" == true ]]; then
        printf '%q ' "$@"
        echo
    else
        "$@"
    fi
}

registry_host="${registry%%/*}"
digests="${IMAGE_DIGESTS:-$root/.build/image-digests}"

# Any HTTP answer (401 included: it wants a login) from /v2/ is a registry; Docker and podman
# speak plain HTTP to localhost only (podman through scripts/setup's registries.conf entry).
registry_answers() {
    local scheme=https
    [[ $registry_host == localhost:* || $registry_host == 127.0.0.1:* ]] && scheme=http
    curl -sS --max-time 5 -o /dev/null "$scheme://$registry_host/v2/" 2>/dev/null
}

# Pushes one image and records its digest (replacing an earlier line for the same image:tag).
# Whatever fails is said in one line naming the image and the registry.
push() {
    local image="$1" output digest
    if [[ "$dry_run" == true ]]; then
        run "$engine" push "$image"
        return
    fi
    if [[ $engine == podman ]]; then
        output="$(podman push --quiet --digestfile "$work/digest" "$image" 2>&1)" && digest="$(cat "$work/digest")"
    else
        output="$(docker push --quiet "$image" 2>&1)" \
            && digest="$(docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$image" | sed -n "s#^${image%:*}@##p" | head -n 1)"
    fi
    if [[ -z ${digest:-} ]]; then
        echo "build.sh: pushing $image to $registry_host failed: $(grep . <<<"$output" | tail -n 1 | sed 's/^Error: //')" >&2
        exit 1
    fi
    mkdir -p "$(dirname "$digests")"
    { grep -v "^$image " "$digests" 2>/dev/null || true; echo "$image $digest"; } >"$work/digests"
    mv "$work/digests" "$digests"
    echo "build.sh: pushed $image@$digest" >&2
}

if [[ $push == true && $dry_run != true ]] && ! registry_answers; then
    echo "build.sh: the registry $registry_host does not answer: start it (docker/registry.sh up) or set REGISTRY" >&2
    exit 1
fi

for service in "${selected[@]}"; do
    image="$registry/$service:$tag"
    echo "build.sh: building $image" >&2
    run "$engine" build \
        "${mirror_options[@]}" \
        --file docker/Dockerfile \
        --target "$service" \
        --tag "$image" \
        .
    # The commit's labels, in a build of their own FROM the target: podman's cache (buildah 1.28)
    # hands back a --target stage as first built, labels included, when only a build argument or
    # --label changed, so a second commit of the same sources got the first one's image, revision
    # label and digest. A FROM-only build is cached per label value.
    mkdir -p "$work/labels"
    labelled="$(echo "FROM $image" | run "$engine" build --quiet \
        --label "org.opencontainers.image.revision=$revision" \
        --label "org.opencontainers.image.source=$source_url" \
        --tag "$image" --file - "$work/labels")"
    [[ $dry_run != true ]] || echo "$labelled"
    if [[ "$push" == true ]]; then
        push "$image"
    fi
done
echo "build.sh: tag $tag" >&2
