#!/bin/sh
# t2030: 'pktmem inspect' counts the same HTTP requests as tshark on every
# fixture.  tshark dissects HTTP only on ports it knows, so each flow's
# server port is declared with -d; out-of-order reassembly is switched on
# (it is off by default and then tshark misses requests in reordered
# flows); requests are counted per method occurrence, since one frame can
# carry several pipelined requests.
. "$(dirname "$0")/tap.sh"

command -v tshark >/dev/null 2>&1 || skip_all "tshark not installed (apt-get install tshark)"
command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"
ls "$PKTMEM_SRC"/fixtures/*.pcap* >/dev/null 2>&1 || skip_all "no fixtures in fixtures/"

for f in "$PKTMEM_SRC"/fixtures/*.pcap "$PKTMEM_SRC"/fixtures/*.pcapng "$PKTMEM_SRC"/fixtures/*.gz; do
	[ -f "$f" ] || continue
	name=$(basename "$f")
	if ! "$PKTMEM" inspect --flows 1000000 --json "$TAP_TMP/j" "$f" >/dev/null 2>"$TAP_TMP/err"; then
		ok 1 "$name: inspect failed: $(head -1 "$TAP_TMP/err")"
		continue
	fi
	set -- $(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
ports = sorted({int(x["server"].rsplit(":", 1)[1]) for x in d["flows"]})
print(d["http"]["requests"], " ".join("-d tcp.port==%d,http" % p for p in ports))
' "$TAP_TMP/j")
	mine=$1; shift
	# gzip: tshark reads .gz itself
	theirs=$(tshark -n -o tcp.reassemble_out_of_order:TRUE "$@" -r "$f" \
		-Y http.request -T fields -e http.request.method 2>/dev/null |
		tr ',' '\n' | grep -c .)
	[ "$mine" = "$theirs" ]; ok $? "$name: $mine requests, tshark $theirs"
done
done_testing
