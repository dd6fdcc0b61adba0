#!/bin/sh
# t2020: 'pktmem inspect --json' on each fixture equals its golden file in
# tests/golden/inspect/ (listed with provenance in tests/golden/README.md;
# tests/golden/regen-inspect.sh rewrites them).
. "$(dirname "$0")/tap.sh"

ls "$PKTMEM_SRC"/fixtures/*.pcap* >/dev/null 2>&1 || skip_all "no fixtures in fixtures/"
cd "$PKTMEM_SRC" || exit 1
for f in fixtures/*.pcap fixtures/*.pcapng fixtures/*.gz; do
	[ -f "$f" ] || continue
	g=tests/golden/inspect/$(basename "$f").json
	if [ ! -f "$g" ]; then
		ok 1 "$f: no golden file $g (run tests/golden/regen-inspect.sh)"
		continue
	fi
	"$PKTMEM" inspect --flows 1000 --json - "$f" > "$TAP_TMP/got" 2>"$TAP_TMP/err"
	rc=$?
	cmp -s "$TAP_TMP/got" "$g"; same=$?
	[ $rc -eq 0 ] && [ $same -eq 0 ]; ok $? "$f: inspect --json equals $g"
	[ $same -eq 0 ] || diff -u "$g" "$TAP_TMP/got" | head -20 | sed 's/^/# /' >&2
done
# every golden has its fixture
for g in tests/golden/inspect/*.json; do
	[ -f "$g" ] || continue
	f=fixtures/$(basename "$g" .json)
	[ -f "$f" ]; ok $? "$g: its fixture $f exists"
	grep -q "$(basename "$g")" tests/golden/README.md; ok $? "$g: listed in tests/golden/README.md"
done
done_testing
