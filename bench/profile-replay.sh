#!/bin/sh
# profile-replay.sh [ROUNDS [LOOPS [CAPTURE]]]: the profiler's overhead on
# the replay itself, beside perf's own on the same replay.
#
# Every run is pinned to one CPU (taskset, the last one): replayer, server
# child and the profiler's reader thread then share it, so requests/s is
# the inverse of all the CPU a request costs, the profiler's included.
# Unpinned on a 2-vCPU VM, where the two processes land decides the rate
# (±40% between runs of one mode); pinned, runs of one mode agree within a
# few percent.
#
# Each round runs, in rotated order:
#   off      pktmem replay --profile off
#   counts   --profile counts
#   full     --profile full (999 Hz sampling)
#   full@249 --profile full --freq 249
#   perf     --profile off while 'perf record -a -g -F 999' samples the
#            machine (Debian's linux-perf, if installed): what sampling
#            alone costs here, by the tool people compare with
# and prints the median requests/s and CPU per request (replayer + server,
# from the replay's JSON) per variant, with the median of the per-round
# ratios to off.  Needs root, python3.  Temp files in a mktemp directory,
# removed at the end.
set -e
P=${PKTMEM:-./pktmem}; R=${1:-9}; L=${2:-100}; C=${3:-fixtures/demo.pcap}
CPU=$(($(nproc) - 1))
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
V="off counts full full@249"
command -v perf >/dev/null 2>&1 && V="$V perf"
i=0
while [ $i -lt "$R" ]; do
	# rotate the order so no variant always runs first or last
	set -- $V
	k=0
	while [ $k -lt $((i % $#)) ]; do
		first=$1; shift; set -- "$@" "$first"; k=$((k + 1))
	done
	for m in "$@"; do
		bg=
		case $m in
		full@*) args="--profile full --freq ${m#full@}";;
		perf)	args="--profile off"
			perf record -q -a -g -F 999 -o "$T/perf.data" >/dev/null 2>&1 &
			bg=$!
			sleep 0.5;;
		*)	args="--profile $m";;
		esac
		taskset -c "$CPU" "$P" replay -q --loop "$L" $args --json "$T/j.json" "$C" >/dev/null 2>&1
		if [ -n "$bg" ]; then kill -INT "$bg"; wait "$bg" || true; fi
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["trials"][0]["replay"]; print(sys.argv[2], sys.argv[3], d["requests_per_s"] or d["segments_per_s"], (d["cpu_replayer_ns"] + d["cpu_server_ns"]) / max(d["requests"] or d["segments"], 1))' "$T/j.json" "$i" "$m" >>"$T/runs"
	done
	i=$((i + 1))
done
python3 - "$T/runs" "$R" "$L" "$C" "$CPU" <<'PY'
import collections, statistics, sys
r = collections.defaultdict(dict)
names = []
for line in open(sys.argv[1]):
    i, m, rate, cpu = line.split()
    r[int(i)][m] = (float(rate), float(cpu))
    if m not in names:
        names.append(m)
print("profile overhead on 'pktmem replay --loop %s %s', pinned to CPU %s: %s paired rounds" % (sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[2]))
print("  variant   requests/s  vs off  [min..max]        CPU ns/request  vs off")
for m in names:
    rate = statistics.median(r[i][m][0] for i in r)
    cpu = statistics.median(r[i][m][1] for i in r)
    ratios = [r[i][m][0] / r[i]["off"][0] for i in r]
    rr = statistics.median(ratios)
    cr = statistics.median(r[i][m][1] / r[i]["off"][1] for i in r)
    print("  %-8s  %10.0f  %+6.1f%%  [%+6.1f..%+6.1f]  %14.0f  %+6.1f%%" % (
        m, rate, (rr - 1) * 100, (min(ratios) - 1) * 100, (max(ratios) - 1) * 100, cpu, (cr - 1) * 100))
PY
