#!/usr/bin/env bash
# Makes micro's credentials where they are missing, and renders the Redis ACL file from them.
#
#   deployment/credentials.sh [DIR]     (default: deployment/components/credentials/secrets)
#
# In DIR (made 0700), each missing password is made: 32 random bytes as hex, one file each, 0600:
#   redis-webapp redis-eventservice redis-report   the Redis users of components/credentials/redis-users.acl
#   mongo-root mongo-auditservice                  MongoDB's administrator and the auditservice's user
# Existing ones are kept, so running it again changes nothing; to rotate one, delete its file and
# run it again (then deploy: the Secrets' names carry a hash of their content, so the pods roll).
# Then, made anew each time from those files:
#   users.acl         the Redis ACL file: the template with each PASSWORD as `#<sha256>` of the
#                     user's password (0644: hashes of 256-bit random passwords reveal nothing,
#                     and the redis container's user must read it where it is mounted as a file)
#   credentials.env   the passwords as variables (REDIS_WEBAPP_PASSWORD=…, MONGO_ROOT_PASSWORD=…),
#                     0600, for docker compose's --env-file
# deploy.sh, scripts/setup and check-static.sh run it for the overlays (their secretGenerator
# reads DIR); docker/docker-compose.yml, the local environment and the tests run it for their own DIR.
# Nothing it makes is committed (.gitignore).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
template="$here/components/credentials/redis-users.acl"
dir="${1:-$here/components/credentials/secrets}"
readonly REDIS_USERS=(webapp eventservice report)
readonly MONGO_USERS=(root auditservice)

umask 077
mkdir -p "$dir"
chmod 0700 "$dir"

# A password for each file that is missing: hex, so it needs no quoting in an ACL file, a
# MongoDB URI or an env file. Written aside and linked into place, which fails if the file is
# there by then: two runs at once (parallel tests, deploys) keep one password, never mix two.
for name in "${REDIS_USERS[@]/#/redis-}" "${MONGO_USERS[@]/#/mongo-}"; do
    file="$dir/$name"
    [[ -s $file ]] && continue
    new="$(mktemp "$dir/.$name.XXXXXX")"
    od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$new"
    ln "$new" "$file" 2>/dev/null || [[ -s $file ]]
    rm -f "$new"
done

password() {
    local value
    value="$(<"$dir/$1")"
    if [[ ! $value =~ ^[!-~]+$ ]]; then
        echo "credentials.sh: $dir/$1 must hold one word of printable ASCII (no spaces, nothing else)" >&2
        exit 1
    fi
    printf '%s' "$value"
}

# The template: comments and blank lines dropped, indented lines joined to the user above,
# PASSWORD replaced by the hash of that user's password.
render_acl() {
    local line user="" rule hash
    while IFS= read -r line || [[ -n $line ]]; do
        [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
        if [[ $line =~ ^[[:space:]] ]]; then
            [[ -n $user ]] || { echo "credentials.sh: $template: a continued line before any user" >&2; exit 1; }
            rule+=" ${line#"${line%%[![:space:]]*}"}"
            continue
        fi
        [[ -z $user ]] || echo "$rule"
        read -r _ user _ <<<"$line"
        rule="$line"
        if [[ $rule == *" PASSWORD"* ]]; then
            [[ -f "$dir/redis-$user" ]] || { echo "credentials.sh: no password file redis-$user for the ACL user $user" >&2; exit 1; }
            hash="$(password "redis-$user" | sha256sum)"
            rule="${rule/ PASSWORD/ #${hash%% *}}"
        fi
    done <"$template"
    [[ -z $user ]] || echo "$rule"
}

# Each rendered file is written aside and renamed over the old one: a reader never sees half.
acl="$(mktemp "$dir/.users.acl.XXXXXX")"
render_acl >"$acl"
chmod 0644 "$acl"
mv -f "$acl" "$dir/users.acl"

env="$(mktemp "$dir/.credentials.env.XXXXXX")"
{
    for user in "${REDIS_USERS[@]}"; do echo "REDIS_${user^^}_PASSWORD=$(password "redis-$user")"; done
    for user in "${MONGO_USERS[@]}"; do echo "MONGO_${user^^}_PASSWORD=$(password "mongo-$user")"; done
} >"$env"
mv -f "$env" "$dir/credentials.env"
