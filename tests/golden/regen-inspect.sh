#!/bin/sh
# regen-inspect.sh: rewrites the golden 'pktmem inspect --json' outputs in
# tests/golden/inspect/, one per capture in fixtures/.  Run from anywhere
# after 'make'; review the diff before committing (t2020 compares them).
#
#   tests/golden/regen-inspect.sh            all fixtures
#   PKTMEM=build/san/pktmem tests/golden/regen-inspect.sh
set -eu
cd "$(dirname "$0")/../.."
PKTMEM=${PKTMEM:-./pktmem}
for f in fixtures/*.pcap fixtures/*.pcapng fixtures/*.gz; do
	[ -f "$f" ] || continue
	# relative path: the golden's "file" field does not depend on the checkout
	"$PKTMEM" inspect --flows 1000 --json "tests/golden/inspect/$(basename "$f").json" "$f" >/dev/null
	echo "regen-inspect: tests/golden/inspect/$(basename "$f").json"
done
