#!/bin/sh
# t6050: replay --iface IFACE --server-ip IP onto an interface pktmem did
# not make, to a 'pktmem serve' pktmem did not start.  The test owns its
# topology: two named namespaces (client, server) joined by a veth pair
# with addresses; nothing runs on this host's own interfaces.  The server's
# own stats (serve --json) must show exactly the capture's client bytes,
# requests and connections; IPv4 and IPv6; captured addresses and ports
# kept or mapped (--client-net, --port); the error cases, one line each.
. "$(dirname "$0")/tap.sh"
F="$PKTMEM_SRC/fixtures"

is_root || skip_all "needs root (network namespaces, packet sockets)"
command -v ip >/dev/null || skip_all "needs ip(8)"
command -v python3 >/dev/null || skip_all "needs python3 (reads serve's JSON)"

S=pmt6050s$$
C=pmt6050c$$
VS=t6050s$$
VC=t6050c$$
spid=
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	ip netns del "$S" 2>/dev/null
	ip netns del "$C" 2>/dev/null
	rm -rf "$TAP_TMP"
}
trap cleanup EXIT
ip netns add "$S" && ip netns add "$C" || skip_all "ip netns add failed"
ip link add "$VC" netns "$C" type veth peer name "$VS" netns "$S" || skip_all "no veth"
ip -n "$S" addr add 10.77.0.1/24 dev "$VS"
ip -n "$C" addr add 10.77.0.2/24 dev "$VC"
ip -n "$S" addr add fd77::1/64 dev "$VS" nodad
ip -n "$C" addr add fd77::2/64 dev "$VC" nodad
ip -n "$S" addr add fe80::77:1/64 dev "$VS" nodad
ip -n "$C" addr add fe80::77:2/64 dev "$VC" nodad
ip -n "$S" link set "$VS" up
ip -n "$C" link set "$VC" up
ip -n "$S" link set lo up
ip -n "$C" link set lo up

# serve ADDR:PORT [serve options]: pktmem serve in the server namespace
serve() {
	rm -f "$TAP_TMP/serve.json" "$TAP_TMP/serve.err"
	ip netns exec "$S" "$PKTMEM" serve --listen "$@" --json "$TAP_TMP/serve.json" \
		2>"$TAP_TMP/serve.err" &
	spid=$!
	i=0; while [ $i -lt 100 ] && ! grep -q listening "$TAP_TMP/serve.err" 2>/dev/null; do
		i=$((i + 1)); sleep 0.05; done
}
unserve() { kill "$spid"; wait "$spid" 2>/dev/null; spid=; }
# replay ARGS...: in the client namespace, summary JSON to $TAP_TMP/sum.json
replay() {
	ip netns exec "$C" "$PKTMEM" replay -q --profile off --summary-json "$TAP_TMP/sum.json" "$@" \
		>"$TAP_TMP/out" 2>"$TAP_TMP/err"
}
# same DESC KEY-IN-SERVE KEY-IN-SUMMARY: the server read what the replay sent
same() {
	python3 - "$TAP_TMP/serve.json" "$TAP_TMP/sum.json" "$2" "$3" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1])); r = json.load(open(sys.argv[2]))
a, b = s[sys.argv[3]], r[sys.argv[4]]
print("# server %s=%s, replay %s=%s" % (sys.argv[3], a, sys.argv[4], b))
sys.exit(0 if a == b and a > 0 else 1)
EOF
	ok $? "$1: server $2 = replay $3"
}
verified() { # DESC
	[ "$rc" -eq 0 ] && unwrap "$TAP_TMP/out" | grep -q "verify      ok: the server's kernel ACKed every client byte"
	ok $? "$1: exit 0, verified (exit $rc)"
	[ "$rc" -eq 0 ] || sed 's/^/#   /' "$TAP_TMP/err" >&2
}

# 1. IPv4, clients numbered in the server's subnet, --port
serve 10.77.0.1:8080
replay --iface "$VC" --server-ip 10.77.0.1 --port 8080 --client-net 10.77.0.0/24 "$F/demo.pcap"; rc=$?
unserve
verified "IPv4 --client-net"
same "IPv4 --client-net" bytes_read bytes
same "IPv4 --client-net" requests requests
same "IPv4 --client-net" connections flows
unwrap "$TAP_TMP/out" | grep -q "Tcp:OutRsts +0, [1-9][0-9]* ARP/ND answers" &&
python3 -c 'import json,sys; i=json.load(open(sys.argv[1]))["iface"]; sys.exit(not (i["client_out_rsts"] == 0 and i["neighbour_answers"] > 0 and i["resolved_by_pktmem"]))' "$TAP_TMP/sum.json"
ok $? "IPv4: this host's kernel sent no RST, the peer answered ARP for its clients (text and JSON)"
unwrap "$TAP_TMP/out" | grep -q "resolved by pktmem"
ok $? "IPv4: the server's MAC came from pktmem's own ARP request (the kernel had none)"
grep -q "10.77.0.2:" "$TAP_TMP/err" "$TAP_TMP/out"
[ $? -ne 0 ]; ok $? "IPv4: no client used the host's own address"

# the stage table: this host's kernel stages (softirq counted), the
# server's unavailable with the reason, no server drops claimed
serve 10.77.0.1:8080
ip netns exec "$C" "$PKTMEM" replay -q --iface "$VC" --server-ip 10.77.0.1 --port 8080 \
	--client-net 10.77.0.0/24 --limit-flows 4 "$F/demo.pcap" >"$TAP_TMP/out" 2>"$TAP_TMP/err"; rc=$?
unserve
[ "$rc" -eq 0 ] &&
grep -q "^copy .*n/a" "$TAP_TMP/out" &&
grep -q "copy: the server runs on another host (--iface)" "$TAP_TMP/out" &&
grep -q "^softirq  *[^n]*[0-9]" "$TAP_TMP/out" &&
grep -q "note: softirq: this host's" "$TAP_TMP/out" &&
grep -q "n/a (remote) server drops" "$TAP_TMP/out"
ok $? "profiled: this host's softirq measured, server stages unavailable with the reason (exit $rc)"

# 2. the captured client addresses and server port (80), routed on-link
# by the server; --via raw
ip -n "$S" route add 10.0.0.0/24 dev "$VS"
smac=$(ip netns exec "$S" cat "/sys/class/net/$VS/address")
ip -n "$C" neigh replace 10.77.0.1 lladdr "$smac" dev "$VC" nud permanent
serve 10.77.0.1:80
replay --via raw --iface "$VC" --server-ip 10.77.0.1 --limit-flows 6 "$F/demo.pcap"; rc=$?
unserve
verified "captured addresses and port, --via raw"
same "captured addresses" bytes_read bytes
same "captured addresses" requests requests
# the client namespace's kernel knew the server's MAC this time
unwrap "$TAP_TMP/out" | grep -q "on-link 10.77.0.1 ($smac)"
ok $? "captured addresses: the server's MAC from the kernel's neighbour table"

# 3. IPv6 server: an IPv4 capture mapped into --client-net, and an IPv6 one
serve "[fd77::1]:8080"
replay --iface "$VC" --server-ip fd77::1 --port 8080 --client-net fd77::/64 "$F/demo.pcap"; rc=$?
unserve
verified "IPv6, IPv4 capture mapped"
unwrap "$TAP_TMP/out" | grep -q "on-link fd77::1 (..:..:..:..:..:.., resolved by pktmem)"
ok $? "IPv6: the server's MAC from pktmem's own neighbour solicitation"
same "IPv6 mapped" bytes_read bytes
same "IPv6 mapped" requests requests
serve "[fd77::1]:8080"
replay --iface "$VC" --server-ip fd77::1 --port 8080 --client-net fd77::100/120 \
	"$F/synth-ipv6.pcap"; rc=$?
unserve
verified "IPv6 capture"
same "IPv6 capture" bytes_read bytes

# 3b. a link-local server, with its zone (fe80::...%IFACE): the route and
# the neighbour exist once per link, so pktmem must look them up on --iface
serve "[::]:8080"
replay --iface "$VC" --server-ip "fe80::77:1%$VC" --port 8080 --client-net fe80::/64 \
	"$F/demo.pcap"; rc=$?
unserve
verified "IPv6 link-local with zone"
same "IPv6 link-local" bytes_read bytes
same "IPv6 link-local" requests requests

# 4. nothing listens on the port: the server's kernel resets every
# connection; verification fails and names each flow
replay --iface "$VC" --server-ip 10.77.0.1 --port 8081 --client-net 10.77.0.0/24 \
	--limit-flows 2 "$F/demo.pcap"; rc=$?
[ "$rc" -eq 1 ] && grep -q "verify: flow 2 (client 10.77.0.[0-9]*:[0-9]*): reset by the server after 0 of" \
	"$TAP_TMP/err"
ok $? "nothing listening: exit 1 naming the flow (exit $rc)"

# 5. errors: one line, exit 2
err2() { # DESC PATTERN -- replay args
	d=$1; p=$2; shift 3
	replay "$@"; rc=$?
	[ "$rc" -eq 2 ] && [ "$(wc -l <"$TAP_TMP/err")" -eq 1 ] && grep -q -e "$p" "$TAP_TMP/err"
	ok $? "$d: exit 2, one line (exit $rc)"
	[ "$rc" -eq 2 ] && grep -q -e "$p" "$TAP_TMP/err" || sed 's/^/#   /' "$TAP_TMP/err" >&2
}
err2 "no such interface" "--iface nosuch$$: no such interface" -- \
	--iface "nosuch$$" --server-ip 10.77.0.1 "$F/demo.pcap"
err2 "loopback" "--iface lo: a loopback interface" -- --iface lo --server-ip 10.77.0.1 "$F/demo.pcap"
ip -n "$C" link add "d$$" type veth peer name "e$$"
err2 "interface down" "--iface d$$: the interface is down" -- \
	--iface "d$$" --server-ip 10.77.0.1 "$F/demo.pcap"
ip -n "$C" link set "d$$" up
err2 "no carrier" "--iface d$$: the interface is up but has no carrier" -- \
	--iface "d$$" --server-ip 10.77.0.1 "$F/demo.pcap"
err2 "--via socket" "--via socket with --iface" -- \
	--via socket --iface "$VC" --server-ip 10.77.0.1 "$F/demo.pcap"
err2 "--iface alone" "go together" -- --iface "$VC" "$F/demo.pcap"
err2 "no route" "--server-ip 192.0.2.1: no route to the server" -- \
	--iface "$VC" --server-ip 192.0.2.1 "$F/demo.pcap"
err2 "neighbour unresolved" "next hop 10.77.0.99 on $VC: no answer" -- \
	--iface "$VC" --server-ip 10.77.0.99 "$F/demo.pcap"
err2 "IPv6 capture, IPv4 server" "is IPv6 and --server-ip 10.77.0.1 is not: give --client-net" -- \
	--iface "$VC" --server-ip 10.77.0.1 "$F/synth-ipv6.pcap"
ip -n "$C" addr add 10.0.0.1/32 dev lo
err2 "a client address of this host" "client address 10.0.0.1 is an address of this host.*--client-net" -- \
	--iface "$VC" --server-ip 10.77.0.1 "$F/demo.pcap"
err2 "the server is this host" "is an address of this host" -- \
	--iface "$VC" --server-ip 10.77.0.2 --client-net 10.77.0.0/24 "$F/demo.pcap"
err2 "zone of another link" "the zone is not --iface $VC" -- \
	--iface "$VC" --server-ip "fe80::77:1%lo" --client-net fe80::/64 "$F/demo.pcap"
err2 "zone on a global address" "belongs to a link-local address" -- \
	--iface "$VC" --server-ip "fd77::1%$VC" --client-net fd77::/64 "$F/demo.pcap"
err2 "bad --client-net" "--client-net '10.77.0.0/31'" -- \
	--iface "$VC" --server-ip 10.77.0.1 --client-net 10.77.0.0/31 "$F/demo.pcap"
ip netns exec "$C" sysctl -qw "net.ipv4.conf.$VC.forwarding=1"
err2 "forwarding on" "forwards IPv4 on it" -- --iface "$VC" --server-ip 10.77.0.1 \
	--client-net 10.77.0.0/24 "$F/demo.pcap"
ip netns exec "$C" sysctl -qw "net.ipv4.conf.$VC.forwarding=0"
if command -v capsh >/dev/null; then
	ip netns exec "$C" capsh --drop=cap_net_raw,cap_net_admin -- -c \
		"'$PKTMEM' replay -q --iface '$VC' --server-ip 10.77.0.1 '$F/demo.pcap'" \
		>"$TAP_TMP/out" 2>"$TAP_TMP/err"; rc=$?
	[ "$rc" -eq 2 ] && grep -q "needs CAP_NET_RAW and CAP_NET_ADMIN" "$TAP_TMP/err"
	ok $? "no privilege: exit 2, says which capabilities (exit $rc)"
else
	skip "no capsh"
fi
done_testing
