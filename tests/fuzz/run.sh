#!/bin/sh
# run.sh: a short libFuzzer run of every target in build/fuzz/ (make fuzz),
# SECONDS each (default 15).  Seeds: tests/fuzz/corpus/<what>/,
# tests/fuzz/corpus-<what>/, and fixtures/ for the capture targets.  The
# working corpus is a temp copy: the committed seeds never change here.
# A crash leaves its input in build/fuzz/crashes/ and fails the run.
set -u
secs=${1:-15}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
mkdir -p build/fuzz/crashes
status=0
for bin in build/fuzz/fuzz-*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin"); what=${name#fuzz-}
	work=$(mktemp -d)
	for d in "tests/fuzz/corpus/$what" "tests/fuzz/corpus-$what"; do
		[ -d "$d" ] && cp -r "$d/." "$work/" 2>/dev/null
	done
	case $what in
	capture|ingest) cp fixtures/*.pcap* "$work/" 2>/dev/null ;;
	esac
	dict=
	[ -f "tests/fuzz/$what.dict" ] && dict="-dict=tests/fuzz/$what.dict"
	case $what in
	capture|ingest) dict="$dict -max_len=16384" ;;	# see long.sh
	esac
	echo "fuzz: $name for ${secs}s ($(ls "$work" | wc -l) seeds)"
	if ! "$bin" -max_total_time="$secs" -seed=1 -rss_limit_mb=2048 -timeout=10 \
		-artifact_prefix=build/fuzz/crashes/"$name"- $dict "$work" \
		>build/fuzz/"$name".log 2>&1; then
		echo "fuzz: $name FAILED; last lines of build/fuzz/$name.log:"
		tail -n 30 build/fuzz/"$name".log
		status=1
	else
		grep -E '^(#[0-9]+\s+DONE|Done)' build/fuzz/"$name".log | tail -n 1
	fi
	rm -rf "$work"
done
exit $status
