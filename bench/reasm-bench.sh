#!/bin/sh
# reasm-bench.sh FILE MB TSHARK_MB ROUNDS: the body of 'make bench-reasm'.
# Needs ./pktmem, build/bench/reasm-bare, /usr/bin/time; tshark and tcpflow
# are optional (their rows say "not installed").
set -u
file=$1; mb=$2; tmb=$3; rounds=$4
tmp=$(mktemp -d /tmp/pktmem-bench-reasm.XXXXXX)
cleanup() { rm -rf "$tmp" "$file"; }
trap cleanup EXIT INT TERM

# ~29.6 MB per 1000 flows with these synth options
flows=$((mb * 34))
echo "bench-reasm: writing ~$mb MB to $file"
./pktmem synth -q --out "$file" --flows $flows --requests 20 --framing mixed \
	--json --body-size 1500 --segment-size 1448 --pipeline 2 --seed 1 || exit 1
size=$(stat -c %s "$file")
tsize=$size
tfile=$file
if command -v tshark >/dev/null 2>&1 && [ $((tmb * 1000000)) -lt "$size" ]; then
	tfile=$tmp/prefix.pcap
	# a prefix of whole records: editcap keeps the first N packets
	pk=$(build/bench/reasm-bare "$file" | cut -d' ' -f1)
	editcap -r "$file" "$tfile" 1-$((pk * tmb * 1000000 / size)) 2>/dev/null
	tsize=$(stat -c %s "$tfile")
fi

# run NAME BYTES CMD...: best of $rounds by CPU time; prints one row
bare_cpu=
run() {
	name=$1; bytes=$2; shift 2
	best_cpu=; best_wall=; rss=0
	i=0
	while [ $i -lt "$rounds" ]; do
		rm -rf "$tmp/out"; mkdir -p "$tmp/out"
		/usr/bin/time -f "%e %U %S %M" -o "$tmp/t" "$@" >/dev/null 2>"$tmp/err" ||
			{ echo "bench-reasm: $name failed:"; cat "$tmp/err"; return; }
		read -r wall u s m < "$tmp/t"
		cpu=$(echo "$u + $s" | bc)
		if [ -z "$best_cpu" ] || [ "$(echo "$cpu < $best_cpu" | bc)" = 1 ]; then
			best_cpu=$cpu; best_wall=$wall
		fi
		[ "$m" -gt "$rss" ] && rss=$m
		i=$((i + 1))
	done
	[ "$(echo "$best_cpu < 0.01" | bc)" = 1 ] && best_cpu=0.01
	mbs=$(echo "scale=1; $bytes / 1000000 / $best_cpu" | bc)
	wmbs=$(echo "scale=1; $bytes / 1000000 / $best_wall" | bc)
	[ -z "$bare_cpu" ] && bare_cpu=$(echo "scale=6; $bytes / $best_cpu" | bc)
	ratio=$(echo "scale=3; $bytes / $best_cpu / $bare_cpu" | bc)
	printf "%-34s %8s MB %8s s %9s MB/s %9s MB/s %7s MiB %7sx\n" "$name" \
		$((bytes / 1000000)) "$best_cpu" "$mbs" "$wmbs" $((rss / 1024)) "$ratio"
}

printf "%-34s %11s %10s %14s %14s %11s %8s\n" tool input cpu "MB/s (cpu)" "MB/s (wall)" "peak RSS" "vs bare"
run "bare pcap_next_ex loop" "$size" build/bench/reasm-bare "$file"
run "pktmem inspect" "$size" ./pktmem inspect "$file"
run "pktmem inspect --json" "$size" ./pktmem inspect --json "$tmp/out/j.json" "$file"
if command -v tcpflow >/dev/null 2>&1; then
	run "tcpflow -r (into a temp dir)" "$size" tcpflow -r "$file" -o "$tmp/out"
else
	echo "tcpflow: not installed"
fi
if command -v tshark >/dev/null 2>&1; then
	run "tshark -q -z conv,tcp -r (prefix)" "$tsize" tshark -q -z conv,tcp -r "$tfile"
else
	echo "tshark: not installed"
fi
