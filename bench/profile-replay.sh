#!/bin/sh
# profile-replay.sh [ROUNDS [LOOPS [CAPTURE]]]: the profiler's overhead on
# the replay itself.  Each round replays the capture with --profile off,
# counts and full in rotated order; prints the median throughput and CPU
# (replayer + server, from the replay's own JSON) per mode and the median
# of the per-round ratios to off.  Needs root, python3.  Temp files in
# /tmp, removed at the end.
set -e
P=${PKTMEM:-./pktmem}; R=${1:-9}; L=${2:-20}; C=${3:-fixtures/demo.pcap}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
i=0
while [ $i -lt $R ]; do
	case $((i % 3)) in 0) order="off counts full";; 1) order="counts full off";; *) order="full off counts";; esac
	for m in $order; do
		"$P" replay -q --loop "$L" --profile "$m" --json "$T/j.json" "$C" >/dev/null 2>&1
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sys.argv[2], sys.argv[3], d["requests_per_s"] or d["segments_per_s"], (d["cpu_self_ns"] + d["cpu_server_ns"]) / max(d["requests"] or d["segments"], 1))' "$T/j.json" "$i" "$m" >>"$T/runs"
	done
	i=$((i + 1))
done
python3 - "$T/runs" "$R" "$L" "$C" <<'PY'
import collections, statistics, sys
r = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    i, m, rate, cpu = line.split()
    r[int(i)][m] = (float(rate), float(cpu))
print("profile overhead on 'pktmem replay --loop %s %s': %s paired rounds" % (sys.argv[3], sys.argv[4], sys.argv[2]))
print("  mode    requests/s  vs off    CPU ns/request  vs off")
for m in ("off", "counts", "full"):
    rate = statistics.median(r[i][m][0] for i in r)
    cpu = statistics.median(r[i][m][1] for i in r)
    rr = statistics.median(r[i][m][0] / r[i]["off"][0] for i in r)
    cr = statistics.median(r[i][m][1] / r[i]["off"][1] for i in r)
    print("  %-6s  %10.0f  %+6.1f%%  %14.0f  %+6.1f%%" % (m, rate, (rr - 1) * 100, cpu, (cr - 1) * 100))
PY
