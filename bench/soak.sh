#!/bin/sh
# soak.sh: one replay of a capture in a loop to >= 1 million requests
# (default fixtures/demo.pcap: 20 flows, 200 requests a pass, --loop 5000),
# on the default packet path (veth, PACKET_MMAP) when root.  Every second
# it samples the server child's VmRSS and open descriptors (and the
# replayer's RSS), prints the curve, then checks: the replay verified
# (bytes and requests of every flow of every loop), the server's RSS is
# flat (last sample within 10% + 1 MiB of the one after warm-up), its
# descriptor count did not grow, and no process, namespace, link, address
# or route is left behind.
#
# One process, not repeated replays: the engine keeps one result record per
# (loop, flow) for verification (~56 bytes: 100,000 records = 5.6 MB at 1M
# requests here), which is the replayer's only growth and is expected; the
# server keeps nothing per finished connection.
# Usage: bench/soak.sh [PKTMEM]  env SOAK_LOOPS, SOAK_CAPTURE, SOAK_VIA
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
P=${1:-$top/pktmem}
CAP=${SOAK_CAPTURE:-$top/fixtures/demo.pcap}
LOOPS=${SOAK_LOOPS:-5000}
VIA=${SOAK_VIA:-mmap}
[ "$(id -u)" = 0 ] || { echo "soak: not root: --via socket"; VIA=socket; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# named namespaces of other tests (pktmem-tNNNN-*, e.g. t9550 --target) may come
# and go meanwhile: not ours
state() { { ip -d link; ip addr; ip route; ip -6 route; ip netns list | grep -v "^pktmem-t[0-9]"; } 2>&1; }
state >"$tmp/before"

"$P" replay -q --via "$VIA" --loop "$LOOPS" --json "$tmp/r.json" "$CAP" >"$tmp/out" 2>"$tmp/err" &
pid=$!
srv=""; t=0
echo "soak: pktmem replay --via $VIA --loop $LOOPS $(basename "$CAP") (pid $pid)"
printf '%6s %12s %8s %14s\n' "t(s)" "server_kB" "srv_fds" "replayer_kB"
: >"$tmp/pids"
while kill -0 $pid 2>/dev/null; do
	[ -n "$srv" ] || srv=$(ps -o pid= --ppid $pid | tr -d ' ' | head -n 1)
	for k in $pid $(ps -o pid= --ppid $pid); do
		[ -r /proc/$k/stat ] && echo "$k $(sed 's/^.*) //' /proc/$k/stat | awk '{print $20}')" >>"$tmp/pids"
	done
	if [ -n "$srv" ] && [ -r /proc/$srv/status ]; then
		rss=$(awk '/^VmRSS/ {print $2}' /proc/$srv/status)
		fds=$(ls /proc/$srv/fd 2>/dev/null | wc -l)
		prss=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null)
		[ -n "$rss" ] && printf '%6d %12s %8s %14s\n' $t "$rss" "$fds" "${prss:-?}" | tee -a "$tmp/curve"
	fi
	sleep 1; t=$((t + 1))
done
wait $pid; rc=$?
cat "$tmp/out"
sed 's/^/stderr: /' "$tmp/err" | head -n 5
status=0
req=$(grep -o '"requests": *[0-9]*' "$tmp/r.json" 2>/dev/null | head -n 1 | grep -o '[0-9]*$')
echo "soak: exit $rc, requests ${req:-?}, ${t}s"
[ $rc -eq 0 ] && grep -q '^  verify      ok' "$tmp/out" || { echo "soak: FAIL: not verified"; status=1; }
[ "${req:-0}" -ge 1000000 ] || { echo "soak: FAIL: fewer than 1 million requests"; status=1; }
n=$(wc -l <"$tmp/curve")
if [ "$n" -ge 4 ]; then
	# after warm-up (the 3rd sample) vs the last
	w=$(sed -n 3p "$tmp/curve"); l=$(tail -n 1 "$tmp/curve")
	set -- $w; wr=$2; wf=$3
	set -- $l; lr=$2; lf=$3
	lim=$((wr + wr / 10 + 1024))
	echo "soak: server RSS ${wr} kB after warm-up, ${lr} kB at the end (limit $lim); descriptors $wf -> $lf"
	[ "$lr" -le "$lim" ] || { echo "soak: FAIL: server RSS grew"; status=1; }
	[ "$lf" -le "$wf" ] || { echo "soak: FAIL: server descriptors grew"; status=1; }
else
	echo "soak: FAIL: too few samples ($n)"; status=1
fi
i=0; left="x"
while [ $i -lt 50 ]; do
	left=$(sort -u "$tmp/pids" | while read -r p st; do
		[ "$(sed 's/^.*) //' /proc/$p/stat 2>/dev/null | awk '{print $20}')" = "$st" ] && echo $p; done)
	state >"$tmp/after"
	[ -z "$left" ] && cmp -s "$tmp/before" "$tmp/after" && break
	sleep 0.1; i=$((i + 1))
done
[ -z "$left" ] || { echo "soak: FAIL: processes left: $left"; status=1; }
cmp -s "$tmp/before" "$tmp/after" || { echo "soak: FAIL: host network state changed"; diff "$tmp/before" "$tmp/after"; status=1; }
[ $status -eq 0 ] && echo "soak: ok"
exit $status
