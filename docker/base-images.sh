#!/usr/bin/env bash
# Makes sure the public images that micro's Dockerfiles and compose file name exist in podman's
# store: each is pulled, and where no registry answers (as on a machine that reaches only Debian's
# archive and PyPI) a faithful local stand-in is made under the same name, from Debian's packages:
#
#   debian:bookworm          debootstrap --variant=minbase bookworm, as the official image is made
#   debian:bookworm-slim     the same with the slim image's dpkg path-excludes (docs, man, locales)
#   swift:6.3.1-bookworm     debian:bookworm + the packages the official Swift image installs +
#                            the toolchain of this machine (SWIFT_TOOLCHAIN, default /opt/swift)
#   redis:7.4                debian:bookworm-slim + Debian's redis-server (7.0)
#   mongo:8.0                debian:bookworm-slim + nx-27017 from PyPI, a MongoDB wire-protocol server
#
#   docker/base-images.sh [--force] [--no-pull] [IMAGE...]   (default: all of them)
#
# An image that exists is kept (it is the cache between CI runs); --force makes it again. A
# stand-in carries the hash of its recipe (its Dockerfile and the files it copies) as the label
# micro.recipe, and is made again when the recipe changed.
# Needs root and podman; debootstrap for the Debian ones.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
toolchain="${SWIFT_TOOLCHAIN:-/opt/swift}"
force=false
pull=true
selected=()
readonly ALL=(debian:bookworm debian:bookworm-slim swift:6.3.1-bookworm redis:7.4 mongo:8.0)

while (($# > 0)); do
    case "$1" in
        --force) force=true ;;
        --no-pull) pull=false ;;
        -h | --help) sed -n '2,18s/^# \{0,1\}//p' "$0"; exit 0 ;;
        -*) echo "base-images.sh: unknown option $1" >&2; exit 2 ;;
        *) selected+=("$1") ;;
    esac
    shift
done
((${#selected[@]} > 0)) || selected=("${ALL[@]}")

work="$(mktemp -d /var/tmp/micro-base.XXXXXX)"
trap 'rm -rf "$work"' EXIT

log() { echo "base-images.sh: $*" >&2; }

# docker.io/library/<name>: the name a pull of the short name gives, so FROM lines find it.
full_name() { echo "docker.io/library/$1"; }

# A Debian root filesystem made the way the official images are (debuerreotype): minbase, apt's
# container settings, no package lists or logs. Made once per run and copied for each image.
debian_rootfs() {
    local dir="$work/rootfs"
    if [[ ! -d $dir ]]; then
        log "debootstrap --variant=minbase bookworm from $mirror"
        debootstrap --variant=minbase bookworm "$dir" "$mirror" >"$work/debootstrap.log" 2>&1 \
            || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
        cp -a "$root/docker/base/apt.conf.d/." "$dir/etc/apt/apt.conf.d/"
        printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: %s-security\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
            "http://deb.debian.org/debian" "http://deb.debian.org/debian" >"$dir/etc/apt/sources.list.d/debian.sources"
        rm -f "$dir/etc/apt/sources.list"
        chroot "$dir" apt-get clean
        rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/log/*.log "$dir"/var/log/apt/* "$dir"/var/cache/debconf/*-old \
            "$dir"/etc/machine-id "$dir"/etc/hostname "$dir"/etc/resolv.conf
        : >"$dir/etc/machine-id"
    fi
    echo "$dir"
}

import_rootfs() {
    local dir="$1" name="$2"
    tar -C "$dir" --numeric-owner -c . \
        | podman import --quiet --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            - "$(full_name "$name")" >/dev/null
}

make_debian() {
    import_rootfs "$(debian_rootfs)" debian:bookworm
}

# The slim variant: dpkg keeps no documentation, manuals or translations (also for packages
# installed later), and what the full image holds of them is removed.
make_debian_slim() {
    local full slim="$work/slim"
    full="$(debian_rootfs)"
    rm -rf "$slim"
    cp -a "$full" "$slim"
    cp "$root/docker/base/dpkg-slim.cfg" "$slim/etc/dpkg/dpkg.cfg.d/docker"
    find "$slim/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$slim/usr/share/doc" -mindepth 1 -type d -empty -delete
    local dir
    for dir in man groff info lintian linda locale; do
        [[ -d "$slim/usr/share/$dir" ]] || continue
        find "$slim/usr/share/$dir" -mindepth 1 -not -path "$slim/usr/share/locale/locale.alias" -delete 2>/dev/null || true
    done
    import_rootfs "$slim" debian:bookworm-slim
}

build_standin() {
    local name="$1" file="$2"
    shift 2
    podman build --pull=never --quiet --file "$root/docker/base/$file" --tag "$(full_name "$name")" \
        --label "micro.recipe=$(recipe_hash "$file")" "$@" "$root/docker/base" >/dev/null
}

# The Dockerfile a stand-in is made from (none for the imported Debian root filesystems).
recipe_file() {
    case "$1" in
        swift:*) echo Dockerfile.swift ;;
        redis:*) echo Dockerfile.redis ;;
        mongo:*) echo Dockerfile.mongo ;;
    esac
}

# A stand-in's recipe: its Dockerfile and the files its COPY lines take from docker/base.
recipe_hash() {
    local file="$root/docker/base/$1"
    {
        cat "$file"
        sed -n 's/^COPY \([^ ]*\) .*/\1/p' "$file" | while read -r source; do cat "$root/docker/base/$source"; done
    } | sha256sum | cut -c1-16
}

# Present and, when it is a stand-in of an older recipe, not stale.
is_current() {
    local name="$1" file label
    podman image exists "$(full_name "$name")" || return 1
    file="$(recipe_file "$name")"
    [[ -n $file ]] || return 0
    label="$(podman image inspect --format '{{index .Labels "micro.recipe"}}' "$(full_name "$name")")"
    [[ -z $label || $label == "<no value>" || $label == "$(recipe_hash "$file")" ]]
}

ensure() {
    local name="$1"
    if [[ $force != true ]] && is_current "$name"; then
        log "$name: present"
        return
    fi
    if [[ $force != true ]] && podman image exists "$(full_name "$name")"; then
        log "$name: a stand-in of an older recipe"
    fi
    if [[ $force != true && $pull == true ]] && podman pull --quiet "$(full_name "$name")" >/dev/null 2>&1; then
        log "$name: pulled"
        return
    fi
    log "$name: no registry answers; making the local stand-in"
    local started=$SECONDS
    case "$name" in
        debian:bookworm) make_debian ;;
        debian:bookworm-slim) make_debian_slim ;;
        swift:6.3.1-bookworm)
            ensure debian:bookworm
            [[ -x $toolchain/usr/bin/swift ]] || { log "no Swift toolchain at $toolchain"; exit 1; }
            build_standin "$name" Dockerfile.swift --volume "$toolchain:/toolchain:ro"
            ;;
        redis:7.4) ensure debian:bookworm-slim; build_standin "$name" Dockerfile.redis ;;
        mongo:8.0)
            ensure debian:bookworm-slim
            # pip inside the build trusts what pip here trusts (a proxy's CA, on some machines).
            local ca="${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}"
            build_standin "$name" Dockerfile.mongo --volume "$ca:/run/host-ca.crt:ro" --build-arg PIP_CERT=/run/host-ca.crt
            ;;
        *) log "unknown image $name (one of: ${ALL[*]})"; exit 2 ;;
    esac
    log "$name: made in $((SECONDS - started)) s, $(podman image inspect --format '{{.Size}}' "$(full_name "$name")" | awk '{printf "%.0f MB", $1/1e6}')"
}

for name in "${selected[@]}"; do
    ensure "$name"
done
