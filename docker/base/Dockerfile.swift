# Stand-in for the official swift:6.3.1-bookworm image, made by docker/base-images.sh when no
# registry answers: the same Debian base and packages as the official image's Dockerfile
# (swiftlang/swift-docker, debian/12), and the toolchain of this machine unpacked into /usr as the
# official image unpacks the release tarball. Build with --volume <toolchain>:/toolchain:ro.
FROM debian:bookworm
LABEL description="Stand-in for swift:6.3.1-bookworm, made from Debian packages and a local Swift toolchain"
# The official image installs these unpinned and with their recommendations; so does the stand-in.
# hadolint ignore=DL3008,DL3015
RUN export DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true \
    && apt-get -q update \
    && apt-get -q install -y binutils libicu-dev libcurl4-openssl-dev libedit-dev libsqlite3-dev \
       libncurses-dev libpython3-dev libxml2-dev pkg-config uuid-dev tzdata git gcc libstdc++-12-dev \
    && rm -r /var/lib/apt/lists/*
RUN cp -a /toolchain/usr/. /usr/ \
    && chmod -R o+r /usr/lib/swift \
    && swift --version
