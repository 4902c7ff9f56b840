#!/bin/sh
# systemd.sh - the installed units under a real systemd: boots this machine's own systemd as
# PID 1 in a container (systemd-nspawn --volatile=yes: /usr read-only from the host, an
# empty /etc and /var, a private network namespace), with what `make install` put under a
# temporary DESTDIR bound in, the example /etc files filled for a veth pair, and
# tests/install/systemd-driver.sh run as a unit: it starts esper-xdp.socket and
# esper-xdp.service, feeds the FIFO, checks the hardening and a crash restart, and stops.
# Prints its PASS/FAIL lines; exits 1 on any failure or if the container does not run.
# Usage: tests/install/systemd.sh    (as root, after make; needs systemd-container)
cd "$(dirname "$0")/../.." || exit 1
command -v systemd-nspawn >/dev/null || { echo "FAIL systemd-nspawn missing (systemd-container)"; exit 1; }
tmp=$(mktemp -d /tmp/esper-systemd.XXXXXX)
trap '[ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT
make --no-print-directory -s install DESTDIR="$tmp/root" PREFIX=/usr/local >/dev/null || exit 1
mkdir -p "$tmp/units" "$tmp/default" "$tmp/etc" "$tmp/test"
cp "$tmp/root/usr/local/lib/systemd/system/"* "$tmp/units/"
cat > "$tmp/units/esper-xdp-test.service" <<'EOT'
[Unit]
Description=the test of esper-xdp's units (tests/install/systemd-driver.sh)
[Service]
Type=oneshot
ExecStart=/test/driver.sh
EOT
sed 's/^ESPER_XDP_OPTS=.*/ESPER_XDP_OPTS="-i v0 --init \/etc\/esper-xdp\/esper-xdp.conf"/' \
	dist/esper-xdp.default > "$tmp/default/esper-xdp"
sed -e 's/^#\(add\|spdadd\)/\1/' \
	-e 's/0xKEY_OUT/0x0102030405060708090a0b0c0d0e0f1011121314/' \
	-e 's/0xKEY_IN/0x4142434445464748494a4b4c4d4e4f5051525354/' \
	-e 's/^\(add 192.0.2.2 .*\)0x1002 -u 2/\10x1002 -u 3/' \
	-e 's/unique:2/unique:3/' dist/esper-xdp.conf > "$tmp/etc/esper-xdp.conf"
cp tests/install/systemd-driver.sh "$tmp/test/driver.sh"
timeout 180 systemd-nspawn -D / --volatile=yes --register=no --keep-unit -q --private-network \
	--capability=CAP_BPF,CAP_PERFMON,CAP_NET_ADMIN,CAP_IPC_LOCK --system-call-filter=bpf \
	--bind=/dev/net/tun --bind-ro="$tmp/root/usr/local/sbin:/usr/local/sbin" \
	--bind-ro="$tmp/units:/etc/systemd/system" --bind-ro="$tmp/default:/etc/default" \
	--bind-ro="$tmp/etc:/etc/esper-xdp" --bind="$tmp/test:/test" \
	-b systemd.unit=esper-xdp-test.service systemd.firstboot=off >"$tmp/boot.log" 2>&1
grep -q '^done' "$tmp/test/result" 2>/dev/null || {
	echo "FAIL the container did not run the driver to its end"
	cat "$tmp/test/result" 2>/dev/null
	sed 's/\x1b\[[0-9;]*m//g' "$tmp/boot.log" | tail -30
	exit 1
}
grep -v '^done' "$tmp/test/result"
if grep -q '^FAIL' "$tmp/test/result"; then
	cat "$tmp/test/journal"
	exit 1
fi
