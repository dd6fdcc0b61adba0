#!/bin/sh
# t6040: SIGKILL at any moment leaves no namespace, link or process behind;
# SIGINT stops sending, closes the flows and prints a partial summary
# marked interrupted; an unprivileged run falls back to --via socket and
# says why.
. "$(dirname "$0")/tap.sh"

F="$PKTMEM_SRC/fixtures"
[ -e "$F/demo.pcap" ] || skip_all "no fixtures"

netns_ids() { for p in /proc/[0-9]*; do readlink "$p/ns/net" 2>/dev/null; done | sort -u; }
children_of() { ps -o pid= --ppid "$1" | tr -d ' '; }

if is_root; then
	# --- SIGKILL mid-replay ---
	ip link >"$TAP_TMP/links.before"
	ip netns list >"$TAP_TMP/named.before" 2>/dev/null
	netns_ids >"$TAP_TMP/ns.before"
	"$PKTMEM" replay -q --loop 3000 "$F/demo.pcap" >/dev/null 2>&1 &
	pid=$!
	i=0; kids=""
	while [ $i -lt 50 ] && [ -z "$kids" ]; do sleep 0.1; kids=$(children_of $pid); i=$((i + 1)); done
	[ -n "$kids" ]; ok $? "the replay runs a server child ($kids)"
	netns_ids >"$TAP_TMP/ns.during"
	[ "$(wc -l <"$TAP_TMP/ns.during")" -gt "$(wc -l <"$TAP_TMP/ns.before")" ]
	ok $? "the replay's namespaces exist while it runs"
	sleep 0.3
	kill -KILL $pid
	wait $pid 2>/dev/null
	# the kernel tears the namespaces down asynchronously (cleanup_net)
	i=0; left=1
	while [ $i -lt 50 ]; do
		alive=""; for k in $kids; do [ -d /proc/$k ] && alive="$alive $k"; done
		netns_ids >"$TAP_TMP/ns.after"
		if [ -z "$alive" ] && cmp -s "$TAP_TMP/ns.before" "$TAP_TMP/ns.after"; then left=0; break; fi
		sleep 0.1; i=$((i + 1))
	done
	[ -z "$alive" ]; ok $? "no child process left after SIGKILL"
	cmp -s "$TAP_TMP/ns.before" "$TAP_TMP/ns.after"; ok $? "no network namespace left after SIGKILL"
	ip link >"$TAP_TMP/links.after"
	cmp -s "$TAP_TMP/links.before" "$TAP_TMP/links.after"; ok $? "host links unchanged"
	ip netns list >"$TAP_TMP/named.after" 2>/dev/null
	cmp -s "$TAP_TMP/named.before" "$TAP_TMP/named.after"; ok $? "no named namespace created"
	! ip link | grep -q 'pm[cs]0'; ok $? "no pmc0/pms0 veth on the host"

	# --- SIGINT: partial summary ---
	"$PKTMEM" replay -q --loop 3000 "$F/demo.pcap" >"$TAP_TMP/int.out" 2>"$TAP_TMP/int.err" &
	pid=$!
	sleep 1
	kids=$(children_of $pid)
	kill -INT $pid
	wait $pid; rc=$?
	[ "$rc" -eq 1 ]; ok $? "SIGINT: exit 1 (got $rc)"
	grep -q 'INTERRUPTED' "$TAP_TMP/int.out"; ok $? "SIGINT: the summary says interrupted"
	grep -qE '^  flows       [1-9][0-9]* replayed' "$TAP_TMP/int.out"; ok $? "SIGINT: partial counts printed"
	! grep -q 'verify      FAILED' "$TAP_TMP/int.out"; ok $? "SIGINT: not reported as a verification failure"
	alive=""; for k in $kids; do [ -d /proc/$k ] && alive="$alive $k"; done
	[ -z "$alive" ]; ok $? "SIGINT: the server child was stopped"
else
	for t in 1 2 3 4 5 6 7 8 9 10 11; do skip "SIGKILL/SIGINT cleanup needs root (namespaces)"; done
fi

# --- unprivileged: socket, with the reason ---
if is_root && command -v capsh >/dev/null; then
	capsh --drop=cap_net_admin,cap_net_raw,cap_sys_admin -- -c \
		"'$PKTMEM' replay -q '$F/synth-cl.pcap'" >"$TAP_TMP/np.out" 2>"$TAP_TMP/np.err"; rc=$?
	[ "$rc" -eq 0 ]; ok $? "without capabilities: exit 0 (got $rc)"
	grep -q 'using --via socket: no CAP_NET_ADMIN' "$TAP_TMP/np.err"; ok $? "without capabilities: says why"
	grep -q 'run as root' "$TAP_TMP/np.err"; ok $? "without capabilities: says how to get the full path"
	grep -q 'via socket' "$TAP_TMP/np.out" && grep -q '^  verify      ok' "$TAP_TMP/np.out"
	ok $? "without capabilities: replayed over sockets and verified"
	capsh --drop=cap_net_admin,cap_net_raw,cap_sys_admin -- -c \
		"'$PKTMEM' replay -q --via mmap '$F/synth-cl.pcap'" >/dev/null 2>"$TAP_TMP/np.err"; rc=$?
	[ "$rc" -eq 2 ]; ok $? "without capabilities, --via mmap asked for: usage error (got $rc)"
elif ! is_root; then
	"$PKTMEM" replay -q "$F/synth-cl.pcap" >"$TAP_TMP/np.out" 2>"$TAP_TMP/np.err"; rc=$?
	[ "$rc" -eq 0 ]; ok $? "unprivileged: exit 0 (got $rc)"
	grep -q 'using --via socket' "$TAP_TMP/np.err"; ok $? "unprivileged: says why"
	grep -q 'run as root' "$TAP_TMP/np.err"; ok $? "unprivileged: says how"
	grep -q '^  verify      ok' "$TAP_TMP/np.out"; ok $? "unprivileged: verified"
	skip "no capsh"
else
	for t in 1 2 3 4 5; do skip "capsh not installed"; done
fi
done_testing
