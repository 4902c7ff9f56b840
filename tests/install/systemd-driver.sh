#!/bin/sh
# systemd-driver.sh - runs inside the container that tests/install/systemd.sh boots, as the
# oneshot unit esper-xdp-test.service under systemd as PID 1: starts the installed units on a
# veth pair, feeds the FIFO, checks what the service became, kills and stops it. Prints
# "PASS name" / "FAIL name" lines to /test/result, then powers the container off.
R=/test/result
: > $R
ok() { echo "PASS $1" >> $R; }
no() { echo "FAIL $1${2:+: $2}" >> $R; }
check() {	# check NAME CMD...
	name=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$name"; else no "$name"; fi
}
wait_for() {	# wait_for CMD...: up to 10 s
	i=0
	while [ $i -lt 50 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
mainpid() { systemctl show -p MainPID --value esper-xdp.service; }
xdp_on() { ip link show v0 | grep -q 'xdp'; }
out_has() { grep -q "$1" /run/esper-xdp/output; }

ip link add v0 type veth peer name v1
ip link set v0 up
ip link set v1 up
ip addr add 192.0.2.1/24 dev v0
# The host port inherits this; esper-xdp must turn it off (through ReadWritePaths=).
sysctl -qw net.ipv4.conf.default.rp_filter=2

systemctl start esper-xdp.socket
check "the socket unit creates the FIFO 0600 in a 0700 directory" \
	sh -c '[ -p /run/esper-xdp/commands ] && [ "$(stat -c %a /run/esper-xdp/commands)" = 600 ] &&
	       [ "$(stat -c %a /run/esper-xdp)" = 700 ]'
systemctl start esper-xdp.service
check "the service starts and attaches to v0" wait_for xdp_on
check "the service is active and running" \
	wait_for sh -c 'systemctl is-active -q esper-xdp.service &&
			journalctl -u esper-xdp.service | grep -q "running on 1 interface"'
# Every line esper-xdp logged so far is one of its start-up lines: no warning.
INFO='crypto: AES-GCM|queue 0: AF_XDP|initial commands applied|running on 1 interface|control socket /run/esper-xdp/control \(read-only\)'
check "no warning or error in the journal" \
	sh -c "! journalctl _SYSTEMD_UNIT=esper-xdp.service -o cat | grep -vE '$INFO' | grep ."
pid=$(mainpid)

# --init: the SA and policy of /etc/esper-xdp/esper-xdp.conf are in place.
echo 'spddump ;' > /run/esper-xdp/commands
check "--init applied /etc/esper-xdp/esper-xdp.conf" wait_for out_has 'unique:1 ;'
# Commands through the FIFO, by two writers one after the other (each closes it).
echo 'add 192.0.2.2 192.0.2.1 esp 0x2001 -u 2 -E aes-gcm-16 0x2122232425262728292a2b2c2d2e2f3031323334 ;' \
	> /run/esper-xdp/commands
echo 'stats ;' > /run/esper-xdp/commands
check "a command written to the FIFO takes effect" wait_for out_has 'sa spi=0x00002001'
check "stats runs every worker under the hardening" wait_for out_has '^worker id=0'
check "the output file is 0600" sh -c '[ "$(stat -c %a /run/esper-xdp/output)" = 600 ]'
check "refused commands go to the journal, not the output" \
	sh -c 'echo "bogus ;" > /run/esper-xdp/commands; sleep 0.5;
	       journalctl -u esper-xdp.service | grep -q "unknown command .bogus."'
# The operator's control socket beside the FIFO (ReadWritePaths=/run/esper-xdp).
check "the control socket is a 0600 socket in /run/esper-xdp" \
	sh -c '[ -S /run/esper-xdp/control ] && [ "$(stat -c %a /run/esper-xdp/control)" = 600 ]'
check "esper-xdp ctl stats answers through it" \
	sh -c 'esper-xdp ctl stats | grep -q "^sa spi=0x00002001"'
check "the control socket is read-only by default" \
	sh -c 'out=$(esper-xdp ctl flush 2>&1); [ $? -eq 1 ] && echo "$out" | grep -q read-only'

# What the hardening left the process.
st=/proc/$pid/status
# CAP_NET_ADMIN 12, CAP_NET_RAW 13, CAP_IPC_LOCK 14, CAP_SYS_ADMIN 21, CAP_PERFMON 38, CAP_BPF 39
check "capabilities: exactly the unit's six" grep -q '^CapBnd:	000000c000207000$' "$st"
check "no new privileges" grep -q '^NoNewPrivs:	1' "$st"
check "seccomp filter on" grep -q '^Seccomp:	2' "$st"
check "/usr read-only for the service" \
	sh -c "nsenter -t $pid -m sh -c 'touch /usr/x' 2>&1 | grep -q 'Read-only'"
check "the host port's rp_filter was written (ReadWritePaths=/proc/sys/net)" \
	sh -c '[ "$(cat /proc/sys/net/ipv4/conf/default/rp_filter)" != 0 ] &&
	       [ "$(cat /proc/sys/net/ipv4/conf/esper0/rp_filter)" = 0 ]'
# A crash: systemd restarts it, and the new run replaces the program the dead one left.
kill -9 "$pid"
restarted() {
	p=$(mainpid)
	[ "$p" != 0 ] && [ "$p" != "$pid" ] && xdp_on && systemctl is-active -q esper-xdp.service
}
check "restarted after a crash" wait_for restarted
check "the restart replaced the stale program" \
	wait_for sh -c 'journalctl -u esper-xdp.service | grep -q "removing a stale esper-xdp XDP program"'
echo 'spddump ;' > /run/esper-xdp/commands
check "the restart applied --init again" wait_for out_has 'unique:1 ;'

# A clean stop detaches.
systemctl stop esper-xdp.service
check "stop detaches the XDP program" sh -c '! ip link show v0 | grep -q xdp'
check "stop removes the host port" sh -c '! ip link show esper0'
check "stop is a clean exit (status 0)" \
	sh -c '[ "$(systemctl show -p ExecMainStatus --value esper-xdp.service)" = 0 ]'
journalctl -u esper-xdp.service -u esper-xdp.socket --no-pager > /test/journal 2>&1
echo done >> $R
systemctl --no-block poweroff
