#!/bin/sh
# long.sh: a dedicated libFuzzer run of each target in build/fuzz/ (make fuzz),
# one after the other, SECONDS each (default 600), one job each (-jobs=1), so
# the machine is not swamped.  Unlike run.sh the working corpus persists in
# build/fuzz/long/<target>/ so repeated runs build on each other.  Prints,
# per target, the executions reached and exec/s (libFuzzer's final stats).
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
	log=build/fuzz/long-$name.log
	"$bin" -max_total_time="$secs" -jobs=1 -workers=1 -rss_limit_mb=2048 -timeout=10 \
		-print_final_stats=1 -artifact_prefix=build/fuzz/crashes/"$name"- $dict "$work" \
		>"$log" 2>&1
	rc=$?
	[ -f fuzz-0.log ] && { cat fuzz-0.log >>"$log"; rm -f fuzz-0.log; }
	execs=$(grep -E '^stat::number_of_executed_units' "$log" | tail -n 1 | awk '{print $2}')
	rate=$(grep -E '^stat::average_exec_per_sec' "$log" | tail -n 1 | awk '{print $2}')
	echo "fuzz-long: $name ${secs}s rc=$rc executions=${execs:-?} exec/s=${rate:-?}"
	[ $rc -eq 0 ] || status=1
done
exit $status
