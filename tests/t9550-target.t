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
