#!/bin/sh
# before-after.sh BEFORE AFTER [ROUNDS [LOOPS]]: two builds of pktmem side
# by side in one run, for a change that must not cost speed (a
# restructuring, a refactor).
#
# Each round runs, in alternating order (before first in even rounds,
# after first in odd ones), for each build:
#   sink      replay -q --server sink --profile off of a synth capture
#             (64 keep-alive flows x 100 requests): the peer and the
#             kernel path alone, no server work
#   off       replay --profile off of fixtures/demo.pcap --loop LOOPS
#   counts    --profile counts (the default)
#   full      --profile full
# pinned to one CPU (taskset, the last one), as bench/profile-replay.sh
# does: replayer, server and profiler share it, so the rate is the
# inverse of all the CPU a request costs.  Prints per variant the median
# rate and CPU per request (replayer + server, from the replay's JSON) of
# each build and the median of the per-round ratios after/before.
# Needs root (the packet path), python3.  Temp files in a mktemp
# directory, removed at the end.
set -e
B=${1:?usage: before-after.sh BEFORE AFTER [ROUNDS [LOOPS]]}
A=${2:?usage: before-after.sh BEFORE AFTER [ROUNDS [LOOPS]]}
R=${3:-7}; L=${4:-100}
CPU=$(($(nproc) - 1))
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
[ "$(id -u)" = 0 ] || { echo "before-after: needs root (namespaces, veth, packet sockets)"; exit 2; }
"$A" synth -q --out "$T/sink.pcap" --flows 64 --requests 100 --framing cl --body-size 440 --segment-size 600
one() { # build-name binary variant round
	case $3 in
	sink)	set -- "$1" "$2" "$3" "$4" --server sink --profile off "$T/sink.pcap";;
	off)	set -- "$1" "$2" "$3" "$4" --profile off --loop "$L" fixtures/demo.pcap;;
	*)	set -- "$1" "$2" "$3" "$4" --profile "$3" --loop "$L" fixtures/demo.pcap;;
	esac
	n=$1; bin=$2; v=$3; i=$4; shift 4
	taskset -c "$CPU" "$bin" replay -q --json "$T/j.json" "$@" >/dev/null 2>&1 ||
		{ echo "before-after: $n $v failed" >&2; return 1; }
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["trials"][0]["replay"]; n=d["requests"] or d["segments"]; print(sys.argv[2], sys.argv[3], sys.argv[4], d["requests_per_s"] or d["segments_per_s"], (d["cpu_replayer_ns"] + d["cpu_server_ns"]) / max(n, 1))' "$T/j.json" "$i" "$v" "$n" >>"$T/runs"
}
i=0
while [ $i -lt "$R" ]; do
	for v in sink off counts full; do
		if [ $((i % 2)) = 0 ]; then one before "$B" $v $i; one after "$A" $v $i
		else one after "$A" $v $i; one before "$B" $v $i; fi
	done
	i=$((i + 1))
done
python3 - "$T/runs" "$R" "$L" <<'PY'
import collections, statistics, sys
r = collections.defaultdict(lambda: collections.defaultdict(dict))
for line in open(sys.argv[1]):
    i, v, n, rate, cpu = line.split()
    r[v][int(i)][n] = (float(rate), float(cpu))
print("%d rounds, --loop %s, pinned to one CPU" % (int(sys.argv[2]), sys.argv[3]))
print("%-7s %13s %13s %9s %14s %14s %9s" % ("variant", "rate before", "rate after", "ratio",
      "cpu/req before", "cpu/req after", "ratio"))
for v in ("sink", "off", "counts", "full"):
    rounds = [x for x in r[v].values() if "before" in x and "after" in x]
    if not rounds:
        continue
    med = lambda k, j: statistics.median(x[k][j] for x in rounds)
    rr = statistics.median(x["after"][0] / x["before"][0] for x in rounds)
    cr = statistics.median(x["after"][1] / x["before"][1] for x in rounds)
    print("%-7s %13.0f %13.0f %9.3f %12.0fns %12.0fns %9.3f" % (v, med("before", 0), med("after", 0), rr,
          med("before", 1), med("after", 1), cr))
PY
