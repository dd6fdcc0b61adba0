#!/bin/sh
# t2010: 'pktmem inspect' on the command line: bad input gives one line
# naming the file and what is wrong, exit 2; a capture cut mid-record is
# read up to there with a warning, exit 0; --json (stdout and a file,
# written atomically); several captures.  (Cuts at every byte offset are
# t2011, in one process.)
. "$(dirname "$0")/tap.sh"

FIX=$PKTMEM_SRC/fixtures/synth-ns.pcap
[ -f "$FIX" ] || skip_all "fixtures/synth-ns.pcap not present"
cd "$TAP_TMP" || exit 1

# bad_input NAME WANT-REGEX: exit 2, one stderr line naming the file
bad_input() {
	expect_exit 2 "$1: exit 2" -- "$PKTMEM" inspect "$1"
	[ "$(wc -l < "$TAP_TMP/err")" -eq 1 ] &&
		grep -q "^pktmem: inspect: '$1': $2" "$TAP_TMP/err"
	ok $? "$1: one line naming the file: $2" ||
		sed 's/^/#   /' "$TAP_TMP/err" >&2
}
# expect_exit writes out and err into $TAP_TMP; keep our files apart
mkdir in && cd in || exit 1

echo "just some text, not a capture" > notcap.pcap
bad_input notcap.pcap "not a capture"
: > empty.pcap
bad_input empty.pcap "empty"
head -c 10 "$FIX" > header.pcap
bad_input header.pcap "truncated file header (10 of 24 bytes)"
head -c 4 "$FIX" > magic.pcap
bad_input magic.pcap "truncated file header (4 of 24 bytes)"
cp "$FIX" absurd.pcap
# first record's incl_len (offset 24 + 8) set to 0x7fffffff
printf '\377\377\377\177' | dd of=absurd.pcap bs=1 seek=32 conv=notrunc 2>/dev/null
bad_input absurd.pcap ".*\(capture length\|record\|absurd\|invalid\)"
gzip -c "$FIX" | head -c 200 > cut.pcap.gz
bad_input cut.pcap.gz ".*gzip"
gzip -c "$FIX" > corrupt.pcap.gz
printf 'XXXXXXXX' | dd of=corrupt.pcap.gz bs=1 seek=60 conv=notrunc 2>/dev/null
bad_input corrupt.pcap.gz ".*gzip"
bad_input missing.pcap ".*\([Nn]o such file\|cannot open\|not found\)"

expect_exit 2 "bad filter: exit 2" -- "$PKTMEM" inspect --filter "tcp port" "$FIX"
grep -q "^pktmem: inspect: '$FIX': .*filter" "$TAP_TMP/err"; ok $? "bad filter: named with the file"
expect_exit 2 "unknown option" -- "$PKTMEM" inspect --frobnicate "$FIX"
expect_exit 2 "no capture" -- "$PKTMEM" inspect
expect_exit 2 "bad --max-reorder" -- "$PKTMEM" inspect --max-reorder lots "$FIX"

# cut mid-record: what was read, and a warning
size=$(wc -c < "$FIX")
head -c $((size - 7)) "$FIX" > midrec.pcap
expect_exit 0 "cut mid-record: exit 0" -- "$PKTMEM" inspect midrec.pcap
grep -q "warning: 'midrec.pcap': .*middle of a record" "$TAP_TMP/err"; ok $? "cut mid-record: warning on stderr"
grep -q "^packets " "$TAP_TMP/out"; ok $? "cut mid-record: the summary is printed"

# text output
expect_exit 0 "text: exit 0" -- "$PKTMEM" inspect "$FIX"
for k in file "link types" packets time skipped flows anomalies http; do
	grep -q "^$k " "$TAP_TMP/out"; ok $? "text: has '$k'"
done

# JSON to stdout replaces the text; parses; counts agree with the text
expect_exit 0 "json -: exit 0" -- "$PKTMEM" inspect --json - "$FIX"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["schema"]=="pktmem.inspect/1"; assert d["http"]["requests"]>0' "$TAP_TMP/out"
ok $? "json -: valid, schema pktmem.inspect/1, requests counted"

# a filter that matches nothing: every packet skipped as "filter"
expect_exit 0 "filter: exit 0" -- "$PKTMEM" inspect --filter "tcp port 9" --json - "$FIX"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["flow_totals"]["flows"]==0 and d["skipped"]["filter"]==d["packets"]>0' "$TAP_TMP/out"
ok $? "filter: no flows, every packet counted as skipped by the filter"

# JSON to a file: atomic, no temporary left behind
expect_exit 0 "json FILE: exit 0" -- "$PKTMEM" inspect --json out.json "$FIX"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' out.json; ok $? "json FILE: valid"
[ -z "$(ls | grep tmp)" ]; ok $? "json FILE: no temporary file left"
expect_exit 2 "json into a missing directory: exit 2" -- "$PKTMEM" inspect --json nodir/x.json "$FIX"

# several captures: a section each, a list in JSON
expect_exit 0 "two captures: exit 0" -- "$PKTMEM" inspect --json - "$FIX" "$FIX"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["captures"])==2' "$TAP_TMP/out"
ok $? "two captures: JSON has a list of two"
expect_exit 0 "two captures, text" -- "$PKTMEM" inspect "$FIX" "$FIX"
[ "$(grep -c '^file ' "$TAP_TMP/out")" -eq 2 ]; ok $? "two captures: two sections"

# the flow table's columns are as wide as the capture's cells: an IPv4 and
# an IPv6 capture's text fits a 100-column terminal, and the columns line up
for cap in demo.pcap synth-ipv6.pcap; do
	expect_exit 0 "$cap: text, exit 0" -- "$PKTMEM" inspect "$PKTMEM_SRC/fixtures/$cap"
	w=$(awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' "$TAP_TMP/out")
	[ "$w" -le 100 ]; ok $? "$cap: text fits 100 columns (widest line $w)"
	# every flow of these captures ends with a FIN
	awk '/^ +id  client/ { h = index($0, " end ") } /^ +[0-9]+  / && h { n++; if (index($0, " fin ") != h) bad = 1 } END { exit !n || bad }' "$TAP_TMP/out"
	ok $? "$cap: the end column lines up under its header"
done
done_testing
