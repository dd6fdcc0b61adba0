#!/bin/sh
# t1010: 'pktmem synth' on the command line: help, one-line errors with
# exit 2, same seed = same bytes, --gzip is gzip of the plain file, '-'
# writes standard output, the committed synth fixtures are reproduced
# byte for byte by fixtures/regen.sh's commands.
. "$(dirname "$0")/tap.sh"

T=$TAP_TMP
expect_exit 0 "synth --help" -- "$PKTMEM" synth --help
grep -q -- "--segment-size" "$T/out"; ok $? "--help lists the options"

for bad in "--flows x" "--flows 0" "--framing foo" "--link tokenring" "--reorder 1.5" \
	   "--vlan 5000" "--link raw --vlan 3" "--bogus" "--segment-size 0" "extra-arg"; do
	# shellcheck disable=SC2086
	expect_exit 2 "synth $bad: usage error" -- "$PKTMEM" synth --out "$T/x.pcap" $bad
	[ "$(wc -l < "$T/err")" -eq 1 ] && grep -q '^pktmem: synth: ' "$T/err"
	ok $? "synth $bad: one line naming the command"
done
expect_exit 2 "synth without --out" -- "$PKTMEM" synth
expect_exit 2 "synth into a missing directory" -- "$PKTMEM" synth --out "$T/no/such/dir.pcap"
if command -v script >/dev/null 2>&1; then
	script -qec "$PKTMEM synth --out -" /dev/null > "$T/tty" 2>&1
	grep -q "terminal" "$T/tty"; ok $? "--out - refuses a terminal"
else
	skip "script(1) not installed"
fi

expect_exit 0 "synth writes a file" -- "$PKTMEM" synth --out "$T/a.pcap" --flows 4 --requests 3 --seed 9 --reorder 0.3 --segment-size 100
grep -q "wrote '$T/a.pcap': .* packets, 4 flows, 12 requests" "$T/out"; ok $? "summary line counts flows and requests"
"$PKTMEM" synth -q --out "$T/b.pcap" --flows 4 --requests 3 --seed 9 --reorder 0.3 --segment-size 100
cmp -s "$T/a.pcap" "$T/b.pcap"; ok $? "same seed: identical files"
"$PKTMEM" synth -q --out "$T/c.pcap" --flows 4 --requests 3 --seed 10 --reorder 0.3 --segment-size 100
! cmp -s "$T/a.pcap" "$T/c.pcap"; ok $? "another seed: different file"
"$PKTMEM" synth -q --out "$T/a.pcap.gz" --gzip --flows 4 --requests 3 --seed 9 --reorder 0.3 --segment-size 100
gzip -dc "$T/a.pcap.gz" | cmp -s - "$T/a.pcap"; ok $? "--gzip: gunzip gives the plain file"
"$PKTMEM" synth -q --out - --flows 4 --requests 3 --seed 9 --reorder 0.3 --segment-size 100 > "$T/d.pcap"
cmp -s "$T/a.pcap" "$T/d.pcap"; ok $? "--out - writes the same bytes to stdout"
if command -v tcpdump >/dev/null 2>&1; then
	n=$(tcpdump -nr "$T/a.pcap" 2>/dev/null | wc -l)
	"$PKTMEM" synth --out "$T/e.pcap" --pcapng --flows 4 --requests 3 --seed 9 --reorder 0.3 --segment-size 100 >/dev/null
	m=$(tcpdump -nr "$T/e.pcap" 2>/dev/null | wc -l)
	[ "$n" -gt 0 ] && [ "$n" -eq "$m" ]; ok $? "tcpdump reads the pcap and the pcapng alike ($n, $m packets)"
else
	skip "tcpdump not installed"
fi

# the committed synth fixtures are reproduced byte for byte
if [ -x "$PKTMEM_SRC/fixtures/regen.sh" ]; then
	mkdir -p "$T/fx"
	cp "$PKTMEM_SRC/fixtures/regen.sh" "$T/fx/"
	(PKTMEM="$PKTMEM" "$T/fx/regen.sh" > /dev/null)
	ok $? "regen.sh runs"
	for f in "$T"/fx/*.pcap "$T"/fx/*.pcapng; do
		b=$(basename "$f")
		cmp -s "$f" "$PKTMEM_SRC/fixtures/$b"; ok $? "fixtures/$b regenerates byte for byte"
	done
	# deflate's output may change with the zlib version: compare content
	for f in "$T"/fx/*.gz; do
		b=$(basename "$f")
		gzip -dc "$PKTMEM_SRC/fixtures/$b" > "$T/fx/plain"
		gzip -dc "$f" | cmp -s - "$T/fx/plain"; ok $? "fixtures/$b regenerates the same content"
	done
else
	skip "no fixtures/regen.sh"
fi
done_testing
