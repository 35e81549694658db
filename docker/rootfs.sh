#!/usr/bin/env bash
# Assembles the root filesystem of one service image (distroless style), run in the build stage of
# docker/Dockerfile:
#   docker/rootfs.sh BINARY ROOT DEBUG
# ROOT gets /app/<binary> stripped, every shared library the binary loads (as ldd resolves them,
# on Debian's merged /usr), the CA certificates, /etc/passwd and /etc/group naming uid and gid
# 10001, and a world-writable /tmp. DEBUG gets the DWARF and the symbol table, which the binary
# names in a GNU debuglink: gdb, addr2line and eu-stack read it (README: "Debug info").
# Why everything goes: the symbol table of Swift's long mangled names is ~14 MB per service,
# more than the rest of an image's libraries together.
set -euo pipefail

binary="$1" root="$2" debug="$3"
name="$(basename "$binary")"

mkdir -p "$root/app" "$root/etc/ssl/certs" "$root/tmp" "$root/usr/lib" "$(dirname "$debug")"
chmod 1777 "$root/tmp"

objcopy --only-keep-debug "$binary" "$debug"
objcopy --strip-all --add-gnu-debuglink="$debug" "$binary" "$root/app/$name"
# Resource bundles are looked up next to the executable.
find "$(dirname "$binary")" -maxdepth 1 -name '*.resources' -exec cp -R {} "$root/app/" \;

# `ldd` lines: "libx.so.1 => /lib/x86_64-linux-gnu/libx.so.1 (0x…)" and the loader's
# "/lib64/ld-linux-x86-64.so.2 (0x…)". /lib and /lib64 are links into /usr on Debian 12, as here.
while read -r path; do
    target="$root/usr${path#/usr}"
    mkdir -p "$(dirname "$target")"
    cp -L "$path" "$target"
done < <(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
for dir in "$root"/usr/lib*; do
    link="$root/$(basename "$dir")"
    [[ -e $link ]] || ln -s "usr/$(basename "$dir")" "$link"
done

cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
echo 'micro:x:10001:10001:micro:/nonexistent:/usr/sbin/nologin' >"$root/etc/passwd"
echo 'micro:x:10001:' >"$root/etc/group"
echo "rootfs.sh: $name: $(du -sk "$root" | cut -f1) kB, libraries: $(find "$root/usr" -type f -printf '%f ')" >&2
