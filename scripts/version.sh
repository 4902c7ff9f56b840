#!/bin/sh
# version.sh - prints esper-xdp's version: `git describe` of a v* tag (without the v), else
# the VERSION file plus the commit ("0.1.0+gee7f353", "-dirty" when the tree is modified),
# else (a tarball, no git) the VERSION file alone. Used by the Makefile at build time.
cd "$(dirname "$0")/.." || exit 1
base=$(cat VERSION 2>/dev/null) || base=unknown
if v=$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null); then
	echo "${v#v}"
elif c=$(git rev-parse --short HEAD 2>/dev/null); then
	dirty=$(git diff --quiet HEAD 2>/dev/null || echo -dirty)
	echo "$base+g$c$dirty"
else
	echo "$base"
fi
