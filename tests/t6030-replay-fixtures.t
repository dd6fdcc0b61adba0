#!/bin/sh
# t6030: every fixture capture (all framings, pipelining, reordering and
# retransmission, IPv6, VLAN, the cooked/raw/null link types, pcapng, gzip,
# the recorded curl/wrk/python captures) replays through mmap, raw and
# socket, and the server read exactly each flow's client bytes.
. "$(dirname "$0")/tap.sh"

F="$PKTMEM_SRC/fixtures"
set -- "$F"/*.pcap "$F"/*.pcapng "$F"/*.pcap.gz
[ -e "$1" ] || skip_all "no fixtures in $F"
if is_root; then vias="mmap raw socket"; else vias="socket"; diag "not root: mmap and raw skipped"; fi
for cap in "$@"; do
	name=$(basename "$cap")
	for via in $vias; do
		"$PKTMEM" replay -q --via "$via" "$cap" >"$TAP_TMP/out" 2>"$TAP_TMP/err"; rc=$?
		if grep -q 'server parsed' "$TAP_TMP/out"; then
			# the core server counts requests: they must match too
			want='^  verify      ok: every flow.s bytes and requests match'
		else
			want='^  verify      ok'
		fi
		if [ "$rc" -eq 0 ] && grep -q "$want" "$TAP_TMP/out"; then
			ok 0 "$name via $via: verified"
		else
			ok 1 "$name via $via: verified (exit $rc)"
			sed 's/^/#   /' "$TAP_TMP/out" "$TAP_TMP/err" >&2
		fi
	done
done
if ! is_root; then
	skip "mmap/raw need root"
fi
# several captures in one run, looped
"$PKTMEM" replay -q --loop 3 "$F/synth-cl.pcap" "$F/synth-ipv6.pcap" >"$TAP_TMP/out" 2>&1; rc=$?
[ "$rc" -eq 0 ] && grep -q '^  verify      ok' "$TAP_TMP/out"; ok $? "two captures, 3 loops: verified"
grep -q '15 replayed' "$TAP_TMP/out"; ok $? "two captures, 3 loops: 15 flows replayed"
# the terminal output (summary and report) keeps to 100 columns
"$PKTMEM" replay -q "$F/demo.pcap" >"$TAP_TMP/w" 2>/dev/null
w=$(wc -L <"$TAP_TMP/w"); [ "$w" -le 100 ]; ok $? "demo: the output fits 100 columns ($w)"
# large responses: the echo server sends every byte back
"$PKTMEM" replay -q --server echo --loop 5 "$F/synth-chunked.pcap" >"$TAP_TMP/out" 2>&1; rc=$?
[ "$rc" -eq 0 ] && grep -q '^  verify      ok' "$TAP_TMP/out"; ok $? "echo server: verified"
read_b=$(sed -n 's/^  server      read \([0-9]*\) bytes, sent \([0-9]*\) bytes back.*/\1 \2/p' "$TAP_TMP/out")
set -- $read_b
[ -n "$1" ] && [ "$1" = "$2" ]; ok $? "echo server: every byte came back and was ACKed ($read_b)"
# --json
"$PKTMEM" replay -q --json "$TAP_TMP/r.json" "$F/synth-cl.pcap" >/dev/null 2>&1
python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); t=d["trials"][0]["replay"]
sys.exit(0 if d["schema"]=="pktmem.report/1" and t["verified"] and t["flows"]==3 and d["cap"]["flows"]==3
         and len(d["cap"]["sha256"])==64 and d["opt"]["io"] and d["opt"]["deser"] else 1)' "$TAP_TMP/r.json"
ok $? "--json: a pktmem.report/1, verified, 3 flows, capture hash and effective options"
report_valid "$TAP_TMP/r.json" "--json"
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cap"]["sha256"])' "$TAP_TMP/r.json")" = \
  "$(sha256sum <"$F/synth-cl.pcap" | cut -d" " -f1)" ]
ok $? "--json: cap.sha256 is the SHA-256 of the capture file"
"$PKTMEM" replay -q --json - "$F/synth-cl.pcap" 2>/dev/null | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["schema"]=="pktmem.report/1" else 1)'
ok $? "--json -: only the report on standard output"
# --limit-flows and --filter
"$PKTMEM" replay -q --limit-flows 5 "$F/demo.pcap" >"$TAP_TMP/out" 2>&1
grep -q '^  flows       5 replayed' "$TAP_TMP/out"; ok $? "--limit-flows 5"
"$PKTMEM" replay -q --filter 'ip6' "$F/synth-ipv6.pcap" "$F/synth-cl.pcap" >"$TAP_TMP/out" 2>&1
grep -q '^  flows       2 replayed' "$TAP_TMP/out"; ok $? "--filter ip6 keeps the 2 IPv6 flows"
# usage errors
expect_exit 2 "no capture" -- "$PKTMEM" replay
expect_exit 2 "bad --via" -- "$PKTMEM" replay --via carrier-pigeon "$F/demo.pcap"
expect_exit 2 "bad --speed" -- "$PKTMEM" replay --speed fast "$F/demo.pcap"
expect_exit 2 "missing capture" -- "$PKTMEM" replay "$TAP_TMP/none.pcap"
grep -q "none.pcap" "$TAP_TMP/err"; ok $? "missing capture named in the error"
# more connections than one run can verify: refused before anything starts
expect_exit 2 "--loop beyond the verifiable" -- "$PKTMEM" replay -q --via socket --loop 900000 "$F/demo.pcap"
grep -q "18000000 connections (flows x loops) are more than one replay can verify" "$TAP_TMP/err"
ok $? "--loop beyond the verifiable: says how many and what to do"
done_testing
