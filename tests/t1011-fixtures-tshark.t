#!/bin/sh
# t1011: for every fixture, capture.c and tshark agree on the number of
# packets and on the TCP payload bytes (tshark's tcp.len is the length
# on the wire, so cut bytes count: capture.c's payload + missing).
# tshark takes ~2 s to start here, so by default only the recorded
# fixtures and two synth ones with special cases run; PKTMEM_SLOW_TESTS=1
# runs all (t1005 holds the counts for all, checked against tshark once).
. "$(dirname "$0")/tap.sh"
command -v tshark >/dev/null 2>&1 || skip_all "tshark not installed"
CAPDUMP=$PKTMEM_BUILD/tests/helpers/capdump
[ -x "$CAPDUMP" ] || skip_all "helper capdump not built"
if [ -n "${PKTMEM_SLOW_TESTS:-}" ]; then
	set -- "$PKTMEM_SRC"/fixtures/*.pcap "$PKTMEM_SRC"/fixtures/*.pcapng "$PKTMEM_SRC"/fixtures/*.gz
else
	set --
	for b in curl-nginx.pcap wrk-nginx.pcap curl-python-any.pcap dumpcap-lo-any.pcapng \
		 synth-snaplen.pcap synth-gzip.pcap.gz; do
		set -- "$@" "$PKTMEM_SRC/fixtures/$b"
	done
fi
for f in "$@"; do
	[ -f "$f" ] || continue
	b=$(basename "$f")
	ours=$("$CAPDUMP" "$f" | sed -n 's/^packets=\([0-9]*\) tcp=[0-9]* payload=\([0-9]*\) missing=\([0-9]*\) .*/\1 \2 \3/p' |
		awk '{print $1, $2 + $3}')
	theirs=$(tshark -n -r "$f" -T fields -e tcp.len 2>/dev/null | awk '{s += $1; n++} END {print n + 0, s + 0}')
	[ -n "$ours" ] && [ "$ours" = "$theirs" ]; ok $? "$b: packets and payload agree with tshark ($ours / $theirs)"
done
done_testing
