#!/bin/sh
# valgrind.sh: memcheck over the paths CI cares about (not a .t: CI calls
# it after the test suites).  Each run: valgrind --error-exitcode=99
# --leak-check=full --errors-for-leak-kinds=definite --track-fds=yes, one
# log per process (forked server children and helpers included).  Fails
# when any process reports an error or a definite leak, or when the main
# process exits with a descriptor open that it did not inherit.  Forked
# children leave by _exit() holding their parent's descriptors: only their
# memory errors count.
#   1. replay --via socket fixtures/demo.pcap
#   2. as root: the default packet path (PACKET_MMAP TX ring, TPACKET_V3 RX)
#   3. inspect on a few fixtures (pcap, pcapng, gzip, Linux cooked)
#   4. report on a saved report: text, Markdown, HTML, JSON
# Usage: tests/valgrind.sh [PKTMEM]   (default ./pktmem; build first)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
P=${1:-./pktmem}
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind not installed"; exit 2; }
[ -x "$P" ] || { echo "valgrind.sh: no $P (run make)"; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
supp=$top/tests/valgrind.supp
pass=0; fail=0
VG="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
--track-fds=yes --suppressions=$supp --log-file=$tmp/vg.%p.log"

# vg NAME WANT-RC CMD...: run CMD under memcheck and judge it
vg() {
	name=$1; want=$2; shift 2
	rm -f "$tmp"/vg.*.log
	$VG "$@" >"$tmp/out" 2>"$tmp/err" &
	main=$!
	wait $main; rc=$?
	why=""
	[ $rc -eq 99 ] && why="memcheck errors"
	[ $rc -ne 99 ] && [ $rc -ne "$want" ] && why="exit $rc, want $want"
	for log in "$tmp"/vg.*.log; do
		[ -e "$log" ] || continue
		if ! grep -q 'ERROR SUMMARY: 0 errors' "$log"; then
			why="${why:+$why; }errors in $(basename "$log")"
		fi
	done
	if [ -e "$tmp/vg.$main.log" ]; then
		# descriptors open at exit that the main process opened itself
		leaked=$(awk '/Open (file descriptor|[A-Za-z0-9-]+ socket) [0-9]+/ { fd = $0; getline nx
			if (nx !~ /inherited from parent/) print fd }' "$tmp/vg.$main.log" | head -n 5)
		[ -n "$leaked" ] && why="${why:+$why; }descriptors left open: $leaked"
	fi
	if [ -z "$why" ]; then
		pass=$((pass + 1)); echo "ok - $name"
	else
		fail=$((fail + 1)); echo "not ok - $name: $why"
		for log in "$tmp"/vg.*.log; do
			grep -v '^==[0-9]*== *$' "$log" | head -n 60 | sed 's/^/#   /'
		done
		tail -n 5 "$tmp/err" | sed 's/^/#   stderr: /'
	fi
}

vg "replay --via socket demo.pcap" 0 "$P" replay -q --via socket fixtures/demo.pcap
if [ "$(id -u)" = 0 ]; then
	vg "replay (packet path, PACKET_MMAP) demo.pcap" 0 "$P" replay -q fixtures/demo.pcap
else
	echo "ok - # SKIP the packet path needs root"
fi
for f in demo.pcap synth.pcapng synth-gzip.pcap.gz synth-sll2.pcap synth-impaired.pcap; do
	[ -e "fixtures/$f" ] && vg "inspect $f" 0 "$P" inspect --json "$tmp/i.json" "fixtures/$f"
done
R=tests/data/report-veth-b.json
vg "report (text) $R" 0 "$P" report "$R"
vg "report --md --html --json $R" 0 "$P" report "$R" --md "$tmp/r.md" --html "$tmp/r.html" --json "$tmp/r.json"
vg "report A B (side by side)" 0 "$P" report "$R" tests/data/report-veth-regressed.json
echo "valgrind: $pass passed, $fail failed"
[ $fail -eq 0 ]
