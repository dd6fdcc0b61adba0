#!/bin/sh
# bench/replay-bench.sh PKTMEM: pktmem's live replay against blind senders.
#
# One capture (pktmem synth: 64 keep-alive flows, ~580-byte client data
# segments), one veth topology shape (client namespace -> server
# namespace, server address 10.200.0.1, MAC 02:70:6b:00:00:01), the same
# frames: pktmem --dump-frames writes exactly the frames its live peer
# sent, and tcpreplay --topspeed and trafgen send those frames blind.
# Rounds are interleaved (pktmem, tcpreplay, trafgen, pktmem, ...); CPU
# time (user+sys, getrusage via the tools' own accounting or time(1)) per
# frame is the stable figure on a shared machine.  Needs root.  Everything
# lives in /tmp/pktmem-bench.* and is removed at the end; the namespaces
# are unnamed and die with their processes.  pktmem runs with --profile
# off (the blind tools measure nothing either); PROFILE=counts or full
# shows what the profiler adds; PKTMEM_ARGS adds replay options (e.g.
# PKTMEM_ARGS="--rx-ring v3" for the previous default RX ring).
set -u
PKTMEM=${1:?usage: replay-bench.sh PKTMEM}
ROUNDS=${ROUNDS:-3}
LOOPS=${LOOPS:-4}
# the blind tools send 10x as many frames so their start-up (pcap preload,
# trafgen's config compiler) weighs little in CPU per frame
BLIND_LOOPS=${BLIND_LOOPS:-$((LOOPS * 10))}
[ "$(id -u)" = 0 ] || { echo "bench-replay: needs root (namespaces, veth, packet sockets)"; exit 2; }
for t in tcpreplay trafgen netsniff-ng unshare nsenter ip; do
	command -v $t >/dev/null || { echo "bench-replay: $t not installed (make deps)"; exit 2; }
done
T=$(mktemp -d /tmp/pktmem-bench.XXXXXX)
SPID=""
cleanup() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

"$PKTMEM" synth -q --out "$T/cap.pcap" --flows 64 --requests 100 --framing cl --body-size 440 --segment-size 600
"$PKTMEM" replay -q --server sink --dump-frames "$T/frames.pcap" "$T/cap.pcap" >/dev/null
FRAMES=$(tcpdump -nr "$T/frames.pcap" 2>/dev/null | wc -l)
# trafgen takes a config; netsniff-ng writes one from a pcap (first 2000 frames:
# trafgen repeats its packet list round robin)
netsniff-ng -q --in "$T/frames.pcap" --out "$T/frames.cfg" -n 2000 >/dev/null 2>&1 ||
	netsniff-ng --in "$T/frames.pcap" --out "$T/frames.cfg" -n 2000 -s >/dev/null 2>&1

# the blind senders' topology: same addresses and MACs as pktmem's
# dies with this script whatever kills it (parent-death signal)
setpriv --pdeathsig KILL -- unshare -n sleep 3600 &
SPID=$!
sleep 0.2
cat >"$T/blind.sh" <<EOF
set -e
ip link add c0 type veth peer name s0
ip link set c0 address 02:70:6b:00:00:02
ip link set s0 address 02:70:6b:00:00:01
ip link set s0 netns $SPID
ip link set lo up
ip link set c0 up
nsenter -t $SPID -n sh -c 'ip link set lo up; ip link set s0 up'
EOF
# The blind receiver has no address: the frames climb to IP and are dropped
# there (not ours, no forwarding), the cheapest receive path -- the most
# favourable case for the blind senders.  tcpliveplay's run adds addresses.

cpu_of() { # "elapsed user sys" from time(1) output file
	awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$1"
}

echo "frames per pass: $FRAMES (pktmem --dump-frames); passes per round: pktmem $LOOPS, blind tools $BLIND_LOOPS"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$T/all.txt"
printf "%-10s %5s %12s %12s %14s\n" tool round frames/s data-seg/s "cpu ns/frame"
for r in $(seq 1 "$ROUNDS"); do
	# pktmem: full live TCP path into a listening server
	"$PKTMEM" replay -q --server sink --profile "${PROFILE:-off}" --loop "$LOOPS" ${PKTMEM_ARGS:-} --json "$T/pm.json" "$T/cap.pcap" >"$T/pm.out" 2>&1
	python3 - "$T/pm.json" "$r" "$T/all.txt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["trials"][0]["replay"]
d["cpu_self_ns"] = d["cpu_replayer_ns"]
secs = d["duration_ns"] / 1e9
fr = d["frames"]
print("%-10s %5s %12.0f %12.0f %14.0f   (per data segment: %.0f ns; server %.0f ns; replayer on CPU %.0f%% of the run; verified %s)" % (
    "pktmem", sys.argv[2], fr / secs, d["segments"] / secs, d["cpu_self_ns"] / fr,
    d["cpu_self_ns"] / d["segments"], d["cpu_server_ns"] / d["segments"],
    100.0 * d["cpu_self_ns"] / d["duration_ns"], d["verified"]))
# for the summary: tool, frames/s, CPU ns per frame with the server's share
with open(sys.argv[3], "a") as f:
    f.write("pktmem %f %f\n" % (fr / secs, (d["cpu_self_ns"] + d["cpu_server_ns"]) / fr))
PY
	# tcpreplay and trafgen: blind, the same frames
	unshare -n sh -c "sh $T/blind.sh && /usr/bin/time -f '%e %U %S' -o $T/tr.time \
		tcpreplay --topspeed -K --loop $BLIND_LOOPS -i c0 $T/frames.pcap >$T/tr.out 2>&1"
	n=$((FRAMES * BLIND_LOOPS))
	set -- $(cpu_of "$T/tr.time")
	pps=$(sed -n 's/.*Rated: .* \([0-9.]*\) pps.*/\1/p' "$T/tr.out" | head -1)
	printf "%-10s %5s %12.0f %12s %14.0f\n" tcpreplay "$r" "${pps:-0}" - "$(echo "$2 $n" | awk '{print $1 * 1e9 / $2}')"
	echo "tcpreplay ${pps:-0} $(echo "$2 $n" | awk '{print $1 * 1e9 / $2}')" >>"$T/all.txt"
	unshare -n sh -c "sh $T/blind.sh && /usr/bin/time -f '%e %U %S' -o $T/tg.time \
		trafgen -P 1 -n $n -i $T/frames.cfg -o c0 >$T/tg.out 2>&1"
	set -- $(cpu_of "$T/tg.time")
	# trafgen's own account: "S sec, U usec on CPU0 (N packets)"
	tsec=$(tr -d '\r' <"$T/tg.out" | sed -n 's/^ *\([0-9]*\) sec, \([0-9]*\) usec on CPU.*/\1 \2/p' | awk '{print $1 + $2 / 1e6}')
	printf "%-10s %5s %12.0f %12s %14.0f\n" trafgen "$r" "$(echo "${tsec:-0} $n" | awk '{print ($1 > 0 ? $2 / $1 : 0)}')" - \
		"$(echo "$2 $n" | awk '{print $1 * 1e9 / $2}')"
	echo "trafgen $(echo "${tsec:-0} $n" | awk '{print ($1 > 0 ? $2 / $1 : 0)}') $(echo "$2 $n" | awk '{print $1 * 1e9 / $2}')" >>"$T/all.txt"
done

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
# Ratios per round (interleaved neighbours), and the CPU-bound ratio: the
# blind tool's CPU per frame over pktmem's, the replayer's and the server's
# together (both compete for the same CPU share; see docs/replay.md).
python3 - "$T/all.txt" <<'PY'
import sys, statistics
rows = {}
for line in open(sys.argv[1]):
    t, r, c = line.split()
    rows.setdefault(t, []).append((float(r), float(c)))
pm = rows.get("pktmem", [])
for tool in ("tcpreplay", "trafgen"):
    other = rows.get(tool, [])
    n = min(len(pm), len(other))
    if not n or not all(o[0] > 0 for o in other[:n]):
        continue
    rate = [pm[i][0] / other[i][0] for i in range(n)]
    cpu = [other[i][1] / pm[i][1] for i in range(n)]
    print("pktmem / %-9s rate %s (median %.2fx); CPU per frame, theirs / pktmem's with its server: median %.2fx" % (
        tool, " ".join("%.2fx" % x for x in rate), statistics.median(rate), statistics.median(cpu)))
PY

# tcpliveplay: one captured flow against a real listener, same topology
"$PKTMEM" synth -q --out "$T/one.pcap" --flows 1 --requests 3 --framing cl --body-size 440
echo "tcpliveplay (one flow, listener on 10.200.0.1:80; it needs an address on its interface:"
echo "the captured client's, 10.0.0.1, which its own kernel then owns):"
unshare -n sh -c "sh $T/blind.sh && ip addr add 10.0.0.1/8 dev c0 && \
	nsenter -t $SPID -n sh -c 'ip addr add 10.200.0.1/32 dev s0; ip route add 10.0.0.0/8 dev s0' && \
	(nsenter -t $SPID -n timeout 10 ncat -lk 10.200.0.1 80 >/dev/null 2>&1 &) && sleep 0.3 && \
	(timeout 5 tcpdump -l -nni c0 tcp 2>/dev/null >$T/lp.tcpdump &) && sleep 0.5 && \
	cd $T && timeout 15 tcpliveplay c0 $T/one.pcap 10.200.0.1 02:70:6b:00:00:01 80; echo \"tcpliveplay exit \$?\"; \
	sleep 5; echo 'on the wire:'; head -12 $T/lp.tcpdump" 2>&1 | tail -30 | sed 's/^/  /'
