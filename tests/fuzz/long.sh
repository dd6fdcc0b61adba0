#!/bin/sh
# long.sh: a dedicated libFuzzer run of each target in build/fuzz/ (make fuzz),
# one after the other, SECONDS each (default 600), one process at a time, so
# the machine is not swamped.  Unlike run.sh the working corpus persists in
# build/fuzz/long/<target>/ so repeated runs build on each other.  Prints,
# per target, the executions reached, exec/s and cov/ft (libFuzzer's final
# stats), and appends them to build/fuzz/long.tsv, so rotating targets
# (FUZZ_ONLY=json tests/fuzz/long.sh 600; ...) adds up per target.  Runs
# at nice 19 (the machine is shared).  The capture targets get
# -max_len=16384: without it libFuzzer grows inputs to the largest seed
# (149 KB), and most of the time goes into copying and allocating them
# rather than into new paths; 16 KiB holds dozens of packets, several
# flows, any pcapng block shape.
# A crash leaves its input in build/fuzz/crashes/ and fails the run.
set -u
secs=${1:-600}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
mkdir -p build/fuzz/crashes build/fuzz/long
status=0
for bin in build/fuzz/fuzz-*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin"); what=${name#fuzz-}
	[ -n "${FUZZ_ONLY:-}" ] && [ "$FUZZ_ONLY" != "$what" ] && continue
	work=build/fuzz/long/$what
	mkdir -p "$work"
	for d in "tests/fuzz/corpus/$what" "tests/fuzz/corpus-$what"; do
		[ -d "$d" ] && cp -r "$d/." "$work/" 2>/dev/null
	done
	case $what in
	capture|ingest) cp fixtures/*.pcap* "$work/" 2>/dev/null ;;
	esac
	dict=
	[ -f "tests/fuzz/$what.dict" ] && dict="-dict=tests/fuzz/$what.dict"
	case $what in
	capture|ingest) dict="$dict -max_len=16384" ;;
	esac
	log=build/fuzz/long-$name.log
	nice -n 19 "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
		-print_final_stats=1 -artifact_prefix=build/fuzz/crashes/"$name"- $dict "$work" \
		>"$log" 2>&1
	rc=$?
	execs=$(grep -E '^stat::number_of_executed_units' "$log" | tail -n 1 | awk '{print $2}')
	rate=$(grep -E '^stat::average_exec_per_sec' "$log" | tail -n 1 | awk '{print $2}')
	cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -nE 's/.*cov: ([0-9]+) ft: ([0-9]+).*/\1 \2/p')
	echo "fuzz-long: $name ${secs}s rc=$rc executions=${execs:-?} exec/s=${rate:-?} cov/ft=${cov:-?}"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$what" "$secs" "$rc" \
		"${execs:-?}" "${rate:-?}" "${cov:-? ?}" >>build/fuzz/long.tsv
	[ $rc -eq 0 ] || status=1
done
exit $status
