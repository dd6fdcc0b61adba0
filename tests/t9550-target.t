#!/bin/sh
# t9550: --target HOST:PORT into a server that is already running: in a
# named network namespace this test makes (--netns, root), over IPv4 and
# IPv6 loopback there; and without --netns on this host's loopback (no
# root needed).  Exact response counts; allocations unavailable, with why.
# Root: the server's pids come from its listening socket, so the kernel's
# copies to it are counted (== the capture's client bytes) and checked:
# a server that never reads what its kernel ACKed fails; from another pid
# namespace the copy stage is unavailable, with why.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/exec.sh"
[ -x "$HELP/allocserver" ] || skip_all "no $HELP/allocserver (make test-build)"

# without a namespace: a server on this host's loopback, ephemeral port
port=$(free_port)
"$HELP/allocserver" "$port" 2 2>/dev/null &
spid=$!
wait_port "$port"
replay_json "host loopback" --target "127.0.0.1:$port" --json "$TAP_TMP/r.json" "$F/synth-cl.pcap"
is via socket "host loopback"
is target.responses.2xx 12 "host loopback"
is target.alloc.available false "host loopback"
set -- $(stage "$TAP_TMP/r.json" alloc)
[ "$1" = false ] && echo "$*" | grep -q -- '--target: a server pktmem did not start'
ok $? "host loopback: the alloc row is unavailable, saying why ($*)"
if is_root; then
	# synth-cl: 3 flows, 5172 client bytes
	is server_bytes_read 5172 "host loopback: read by the server's threads (kernel copies)"
	c=$(stage "$TAP_TMP/r.json" copy copy_bytes)
	[ "$c" = 5172 ]; ok $? "host loopback: copy_bytes $c = the capture's client bytes 5172"
	set -- $(stage "$TAP_TMP/r.json" copy)
	echo "$*" | grep -q mismatch; [ $? -ne 0 ]; ok $? "host loopback: no copy mismatch noted"
	# pktmem in a pid namespace of its own sees the socket, not its owner
	if unshare -p -f --mount-proc true 2>/dev/null; then
		unshare -p -f --mount-proc "$PKTMEM" replay -q --target "127.0.0.1:$port" \
			--json "$TAP_TMP/p.json" "$F/synth-cl.pcap" >"$TAP_TMP/out" 2>&1
		ok $? "another pid namespace: replayed and verified from ACKs"
		report_valid "$TAP_TMP/p.json" "another pid namespace"
		set -- $(stage "$TAP_TMP/p.json" copy)
		[ "$1" = false ] && echo "$*" | grep -q "no process in this pid namespace holds port $port"
		ok $? "another pid namespace: copy unavailable, saying why ($*)"
	else
		skip "unshare -p failed: no pid namespace test"
		skip "unshare -p failed"
	fi
else
	for i in 1 2 3 4 5; do skip "copy counts need root (tracepoints)"; done
fi
kill "$spid"; wait "$spid" 2>/dev/null
expect_exit 2 "nothing listening" -- "$PKTMEM" replay -q --target "127.0.0.1:$port" --ready-timeout 0.5 \
	"$F/synth-cl.pcap"
grep -q "nothing accepts connections on 127.0.0.1:$port" "$TAP_TMP/err"; ok $? "nothing listening: says so"

# a server that accepts and never reads: the socket path's kernel keeps
# retransmitting into a zero window forever; --flow-timeout ends each flow
# as stalled instead of hanging the replay
"$PKTMEM" synth -q --out "$TAP_TMP/big.pcap" --flows 2 --requests 20 --body-size 100000
port=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); held = []
while True: held.append(s.accept()[0])
' "$port" &
spid=$!
wait_port "$port"
if is_root; then
	# every byte ACKed (small flows fit its socket buffer), none read:
	# the kernel's copies to its threads say so
	expect_exit 1 "a server that never reads small flows" -- "$PKTMEM" replay -q \
		--target "127.0.0.1:$port" "$F/synth-cl.pcap"
	grep -q "verify: the server's threads read 0 of the 5172 bytes its kernel ACKed (kernel copy counters): 5172 bytes never read" "$TAP_TMP/err"
	ok $? "a server that never reads: the copy check fails the run"
else
	skip "copy counts need root (tracepoints)"
	skip "copy counts need root"
fi
expect_exit 1 "a server that never reads" -- "$PKTMEM" replay -q --target "127.0.0.1:$port" \
	--flow-timeout 1 "$TAP_TMP/big.pcap"
grep -q "flow 1 (client 127.0.0.1:[0-9]*): stalled .* after [0-9]* of 2002[0-9]* bytes" "$TAP_TMP/err"
ok $? "a server that never reads: the flow is reported stalled with the bytes ACKed"
kill "$spid"; wait "$spid" 2>/dev/null

if ! is_root || ! command -v ip >/dev/null; then
	skip "named namespaces need root and ip(8)"
	done_testing
	exit $?
fi
NS=pktmem-t9550-$$
ip netns add "$NS" || { skip "ip netns add failed"; done_testing; exit $?; }
cleanup() {
	[ -n "$npid" ] && kill "$npid" 2>/dev/null && wait "$npid" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TAP_TMP"
}
trap cleanup EXIT
ip -n "$NS" link set lo up
ip netns exec "$NS" "$HELP/allocserver" 8080 2 2>/dev/null &
npid=$!
replay_json "named netns, IPv4" --target 127.0.0.1:8080 --netns "$NS" --ready-timeout 5 \
	"$F/synth-cl.pcap" "$F/synth-none.pcap"
is target.responses.2xx 27 "named netns"
is flows 6 "named netns"
replay_json "named netns, IPv6" --target "[::1]:8080" --netns "$NS" "$F/synth-ipv6.pcap"
is target.responses.2xx 6 "named netns, IPv6"
# the server stays: pktmem does not stop what it did not start
kill -0 "$npid"; ok $? "the user's server is still running"
done_testing
