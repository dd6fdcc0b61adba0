#!/bin/sh
# t9550: --target HOST:PORT into a server that is already running: in a
# named network namespace this test makes (--netns, root), over IPv4 and
# IPv6 loopback there; and without --netns on this host's loopback (no
# root needed).  Exact response counts; allocations unavailable, with why.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/exec.sh"
[ -x "$HELP/allocserver" ] || skip_all "no $HELP/allocserver (make test-build)"

# without a namespace: a server on this host's loopback, ephemeral port
port=$(free_port)
"$HELP/allocserver" "$port" 2 2>/dev/null &
spid=$!
i=0; while [ $i -lt 100 ] && ! "$PKTMEM" replay -q --target "127.0.0.1:$port" --ready-timeout 0.1 \
	"$F/synth-none.pcap" >/dev/null 2>&1; do i=$((i + 1)); sleep 0.05; done
replay_json "host loopback" --target "127.0.0.1:$port" "$F/synth-cl.pcap"
is via socket "host loopback"
is target.responses.2xx 12 "host loopback"
is target.alloc.available false "host loopback"
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
i=0; while [ $i -lt 100 ] && ! "$PKTMEM" replay -q --target "127.0.0.1:$port" --ready-timeout 0.1 \
	"$F/synth-none.pcap" >/dev/null 2>&1; do i=$((i + 1)); sleep 0.05; done
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
