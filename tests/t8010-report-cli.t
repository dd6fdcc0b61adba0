#!/bin/sh
# t8010: 'pktmem report': golden terminal and Markdown output from the fixed
# reports in tests/data (no colour: NO_COLOR=1, not a terminal), colour
# only when asked, 100 columns, malformed reports exit 2 with one line,
# every report written validates, writes are atomic (a full tmpfs leaves no
# file behind).
. "$(dirname "$0")/tap.sh"

data=$PKTMEM_SRC/tests/data
golden=$PKTMEM_SRC/tests/golden/report
export NO_COLOR=1

# --- goldens ---
grep -v '^#' "$golden/CASES" | while IFS='	' read -r name want args; do
	[ -n "$name" ] || continue
	echo "$name	$want	$(printf '%s' "$args" | sed "s|@DATA@|$data|g")"
done >"$TAP_TMP/cases"
while IFS='	' read -r name want args; do
	# shellcheck disable=SC2086
	"$PKTMEM" $args >"$TAP_TMP/got" 2>"$TAP_TMP/err" </dev/null
	got=$?
	[ "$got" -eq "$want" ]; ok $? "golden $name: exit $got (want $want)"
	diff -u "$golden/$name" "$TAP_TMP/got" >"$TAP_TMP/diff"
	ok $? "golden $name: output matches (regen: tests/golden/report/regen.sh)"
	[ -s "$TAP_TMP/diff" ] && sed 's/^/#   /' "$TAP_TMP/diff" | head -40 >&2
done <"$TAP_TMP/cases"

# --- width and colour ---
for f in veth.txt socket.txt pair.txt compare-pass.txt compare-fail.txt compare-alloc.txt; do
	w=$(wc -L <"$golden/$f")
	[ "$w" -le 100 ]; ok $? "$f fits 100 columns ($w)"
done
# a long verification message (an exec target's) wraps under 100 columns too
sed 's|"verify_msg": "[^"]*"|"verify_msg": "the server'"'"'s kernel ACKed every client byte of every flow and its threads read them all (kernel copy counters)"|' \
	"$data/report-veth.json" >"$TAP_TMP/longv.json"
"$PKTMEM" report "$TAP_TMP/longv.json" >"$TAP_TMP/longv.txt" 2>&1
w=$(wc -L <"$TAP_TMP/longv.txt"); [ "$w" -le 100 ]; ok $? "a long verification message fits 100 columns ($w)"
tr '\n' ' ' <"$TAP_TMP/longv.txt" | tr -s ' ' | grep -q "verification: passed: the server's .* read them all (kernel copy counters)"
ok $? "... wrapped, not cut"
grep -q "bytes became memory at: copy (1843200 bytes, 1200 calls)" "$golden/veth.txt"
ok $? "the copy line is there"
grep -q "$(printf '\033')" "$golden/veth.txt"; [ $? -ne 0 ]; ok $? "no escape codes without a terminal"
"$PKTMEM" report "$data/report-veth.json" --color always >"$TAP_TMP/c" 2>&1
grep -q "$(printf '\033')\[38;5;208m" "$TAP_TMP/c"; ok $? "--color always: the copy bar in orange"
# under script(1) stdout is a terminal: colour unless NO_COLOR
if command -v script >/dev/null 2>&1; then
	NO_COLOR= script -qec "$PKTMEM report $data/report-veth.json" /dev/null >"$TAP_TMP/tty" 2>&1
	grep -q "$(printf '\033')" "$TAP_TMP/tty"; ok $? "on a terminal: colour"
	NO_COLOR=1 script -qec "$PKTMEM report $data/report-veth.json" /dev/null >"$TAP_TMP/tty" 2>&1
	grep -q "$(printf '\033')\[" "$TAP_TMP/tty"; [ $? -ne 0 ]; ok $? "on a terminal with NO_COLOR: none"
else
	skip "script(1) missing: no pseudo-terminal test"
	skip "script(1) missing: no pseudo-terminal test"
fi
grep -q '\[1\] softirq.cycles_per_packet\|\[1\] no PMU' "$golden/veth.txt"; ok $? "unavailable cells have footnotes with the reason"
grep -q 'n/a\[1\]' "$golden/socket.txt" && grep -q '^\[1\] irq: --via socket' "$golden/socket.txt"
ok $? "an unavailable stage: n/a[1] cells and the footnote"

# --- malformed reports: exit 2, one line naming the file ---
head -c 5000 "$data/report-veth.json" >"$TAP_TMP/trunc.json"
sed 's|"pktmem.report/1"|"pktmem.report/9"|' "$data/report-veth.json" >"$TAP_TMP/version.json"
sed 's|"requests": 1200,|"requests": "1200",|' "$data/report-veth.json" >"$TAP_TMP/type.json"
sed '/"fingerprint":/d; s|"hostname": "ci-runner",|"hostname": "ci-runner"|' "$data/report-veth.json" >"$TAP_TMP/missing.json"
printf 'not json\n' >"$TAP_TMP/garbage.json"
for c in "trunc:truncated" "version:pktmem.report/9" "type:cap.requests" "missing:env.fingerprint" "garbage:not valid JSON"; do
	f=${c%%:*}; pat=${c#*:}
	expect_exit 2 "malformed ($f) exits 2" -- "$PKTMEM" report "$TAP_TMP/$f.json"
	[ "$(wc -l <"$TAP_TMP/err")" -eq 1 ] && grep -q "^pktmem: report: '$TAP_TMP/$f.json': .*$pat" "$TAP_TMP/err"
	ok $? "malformed ($f): one line naming file and problem: $(cat "$TAP_TMP/err")"
	[ ! -s "$TAP_TMP/out" ]; ok $? "malformed ($f): nothing on stdout"
done
expect_exit 2 "a missing report exits 2" -- "$PKTMEM" report "$TAP_TMP/nope.json"
expect_exit 2 "no report is a usage error" -- "$PKTMEM" report
expect_exit 2 "unknown option" -- "$PKTMEM" report --frob "$data/report-veth.json"
expect_exit 2 "--html takes one report" -- "$PKTMEM" report "$data/report-veth.json" "$data/report-veth.json" --html "$TAP_TMP/x.html"

# --- every report written validates ---
for f in report-veth report-socket report-veth-b report-veth-regressed; do
	expect_exit 0 "$f: --json --md --html" -- "$PKTMEM" report "$data/$f.json" --json "$TAP_TMP/$f.json" --md "$TAP_TMP/$f.md" --html "$TAP_TMP/$f.html"
	expect_exit 0 "$f: the JSON written validates" -- "$PKTMEM" report "$TAP_TMP/$f.json"
	"$PKTMEM" report "$data/$f.json" >"$TAP_TMP/a.txt" 2>&1
	cmp -s "$TAP_TMP/a.txt" "$TAP_TMP/out"; ok $? "$f: re-read report renders the same"
done
ls -a "$TAP_TMP" | grep -q '\.tmp\.'; [ $? -ne 0 ]; ok $? "no temp files left"
# Reports written by the replay, exec and gate tests are checked where they
# are written (report_valid in tap.sh; t8500 for gate's): they live in each
# test's own temporary directory, gone by the time this test could look.

# --- atomic writes ---
expect_exit 2 "writing into a missing directory fails" -- "$PKTMEM" report "$data/report-veth.json" --json "$TAP_TMP/no/dir/r.json"
grep -q "writing JSON '$TAP_TMP/no/dir/r.json': No such file" "$TAP_TMP/err"; ok $? "and says why"
echo "old" >"$TAP_TMP/keep.json"
if is_root && command -v unshare >/dev/null 2>&1 && unshare -m true 2>/dev/null; then
	mkdir "$TAP_TMP/full"
	# a 16 KiB tmpfs in a private mount namespace: the 34 KB report cannot fit
	unshare -m sh -c '
		mount -t tmpfs -o size=16k pktmem-t8010 "$1" || exit 99
		echo old >"$1/r.json"
		"$2" report "$3" --json "$1/r.json"; echo "json=$?"
		"$2" report "$3" --html "$1/r.html"; echo "html=$?"
		cat "$1/r.json"; ls -a "$1"
	' sh "$TAP_TMP/full" "$PKTMEM" "$data/report-veth.json" >"$TAP_TMP/full.out" 2>"$TAP_TMP/full.err"
	if grep -q "json=99\|^$" "$TAP_TMP/full.out" && ! grep -q json= "$TAP_TMP/full.out"; then
		skip "cannot mount a tmpfs here"; skip "-"; skip "-"
	else
		grep -q "json=2" "$TAP_TMP/full.out"; ok $? "full tmpfs: --json exits 2"
		grep -q "html=2" "$TAP_TMP/full.out" || grep -q "html=0" "$TAP_TMP/full.out"
		ok $? "full tmpfs: --html ends cleanly ($(grep html= "$TAP_TMP/full.out"))"
		# the old file is intact and no temp file is left
		[ "$(sed -n 1p "$TAP_TMP/full.out" | tr -d '\n')" != "" ] && grep -q '^old$' "$TAP_TMP/full.out" &&
			! grep -q '\.tmp\.' "$TAP_TMP/full.out"
		ok $? "full tmpfs: the old report is untouched, no partial or temp file"
		grep -q "No space left on device" "$TAP_TMP/full.err"; ok $? "full tmpfs: the error says ENOSPC"
	fi
else
	skip "full-disk test needs root and unshare -m"; skip "-"; skip "-"; skip "-"
fi
done_testing
