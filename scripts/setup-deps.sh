#!/bin/sh
# setup-deps.sh - install exactly the Debian 12 packages esper-xdp needs to build, test and
# benchmark. Run as root (or through sudo); non-interactive.
set -eu
export DEBIAN_FRONTEND=noninteractive
[ "$(id -u)" -eq 0 ] || { echo "setup-deps.sh: run as root (sudo)" >&2; exit 1; }

PACKAGES="
	make gcc libc6-dev pkg-config
	clang llvm libclang-rt-14-dev bpftool libbpf-dev libxdp-dev libelf-dev zlib1g-dev
	libssl-dev libipsec-mb-dev libengine-gost-openssl libpcap-dev
	libcmocka-dev cppcheck python3 python3-scapy tshark tcpdump
	iproute2 iputils-ping netcat-openbsd procps ethtool
	debootstrap gnuplot-nox linux-perf iperf3
	pandoc groff-base man-db systemd systemd-container
	strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins
"
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $PACKAGES
