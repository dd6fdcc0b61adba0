#!/bin/sh
# t9510: the LD_PRELOAD interposer counts exactly: allocserver mallocs and
# frees K blocks per request and nothing else per request, so a replay of
# a capture with R requests must count K x R of each; responses are
# counted from the wire; a statically linked server gets 'unavailable'
# with the reason.  The stage table's alloc row carries the same counts
# (per request over the capture's requests), or unavailable with the same
# reason; the kernel copied exactly the capture's client bytes to the
# server (allocserver reads everything), which verification checks.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/exec.sh"
is_root || skip_all "needs root (network namespaces, veth, packet sockets)"
[ -x "$HELP/allocserver" ] || skip_all "no $HELP/allocserver (make test-build)"
[ -r "$PKTMEM_PRELOAD" ] || skip_all "no $PKTMEM_PRELOAD (make preload)"

# synth-cl: 3 flows x 4 Content-Length POSTs = 12 requests
for k in 1 7 50; do
	replay_json "allocserver K=$k" --exec "$HELP/allocserver 8080 $k" --port 8080 \
		--json "$TAP_TMP/r.json" "$F/synth-cl.pcap"
	is target.alloc.available true "K=$k"
	is target.alloc.malloc $((k * 12)) "K=$k"
	is target.alloc.free $((k * 12)) "K=$k"
	is target.alloc.calloc 0 "K=$k"
	is target.responses.2xx 12 "K=$k"
	is target.responses.total 12 "K=$k"
	grep -q "^  alloc       $k.00 allocations, $k.00 frees" "$TAP_TMP/out"
	ok $? "K=$k: the summary says $k allocations per request"
	set -- $(stage "$TAP_TMP/r.json" alloc)
	[ "$1 $2" = "true $((k * 12))" ]; ok $? "K=$k: alloc row available, count $2 (want $((k * 12)))"
	for m in "allocations $((k * 12))" "frees $((k * 12))" "allocs_per_request $k" \
		 "frees_per_request $k" "calloc_calls 0"; do
		set -- $m
		got=$(stage "$TAP_TMP/r.json" alloc "$1")
		[ "$got" = "$2" ]; ok $? "K=$k: alloc row $1 = $got (want $2)"
	done
# the exec summary's long lines (server, verify, alloc) wrap at 100 columns
w=$(wc -L <"$TAP_TMP/out"); [ "$w" -le 100 ]; ok $? "exec: the output fits 100 columns ($w)"
unwrap "$TAP_TMP/out" | grep -q "^  verify      ok: .* its threads read them all (kernel copy counters)$"
ok $? "exec: the verify line wrapped, not cut"
	# synth-cl: 5172 client bytes, all read by allocserver
	got=$(stage "$TAP_TMP/r.json" copy copy_bytes)
	[ "$got" = 5172 ]; ok $? "K=$k: copy_bytes $got = the capture's client bytes 5172"
	is server_bytes_read 5172 "K=$k"
done
# looped, IPv4 and IPv6 (allocserver listens on both): 3 x (12 + 6) requests
replay_json "allocserver, v4+v6, 3 loops" --exec "$HELP/allocserver 8080 3" --port 8080 --loop 3 \
	"$F/synth-cl.pcap" "$F/synth-ipv6.pcap"
is target.alloc.malloc $((3 * 3 * 18)) "3 loops"
is target.responses.2xx 54 "3 loops"
# the socket path (no namespaces; the command runs on this host's loopback)
port=$(free_port)
replay_json "allocserver via socket" --via socket --exec "$HELP/allocserver $port 5" --port "$port" \
	"$F/synth-cl.pcap"
is target.alloc.malloc 60 "via socket"
is target.responses.2xx 12 "via socket"
# --no-preload: counting off, with the reason
replay_json "--no-preload" --exec "$HELP/allocserver 8080 5" --port 8080 --no-preload \
	--json "$TAP_TMP/r.json" "$F/synth-cl.pcap"
is target.alloc.available false "--no-preload"
set -- $(stage "$TAP_TMP/r.json" alloc)
[ "$1" = false ] && echo "$*" | grep -q -- '--no-preload'
ok $? "--no-preload: the alloc row is unavailable, saying why ($*)"
# statically linked: unavailable, and why
if [ -x "$HELP/allocserver-static" ]; then
	replay_json "static allocserver" --exec "$HELP/allocserver-static 8080 5" --port 8080 \
		--json "$TAP_TMP/r.json" "$F/synth-cl.pcap"
	set -- $(stage "$TAP_TMP/r.json" alloc)
	[ "$1" = false ] && echo "$*" | grep -q 'statically linked (no PT_INTERP)'
	ok $? "static: the alloc row is unavailable, saying why"
	is target.alloc.available false "static"
	jget "$TAP_TMP/j.json" target.alloc.reason | grep -q 'statically linked (no PT_INTERP)'
	ok $? "static: the reason names static linking"
	unwrap "$TAP_TMP/out" | grep -q '^  alloc       unavailable: .*statically linked'; ok $? "static: the summary says unavailable"
	is target.responses.2xx 12 "static"
else
	skip "gcc -static did not link here: no static helper"
	skip "no static helper"
fi
# an interposer the command never loads (env -i drops LD_PRELOAD)
replay_json "env -i" --exec "env -i $HELP/allocserver 8080 5" --port 8080 "$F/synth-cl.pcap"
is target.alloc.available false "env -i"
done_testing
