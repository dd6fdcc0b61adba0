#!/bin/sh
# soak.sh: one replay of a capture in a loop to >= 1 million requests
# (default: a synth capture of 20 keep-alive flows of 100 JSON POSTs each,
# 2,000 requests a pass, --loop 1500: 3 million requests, 30,000
# connections),
# on the default packet path (veth, PACKET_MMAP) when root.  Every second
# it samples the server child's RssAnon (heap, stacks), RssShmem (the
# shared per-connection table, which grows by design up to its bound),
# VmRSS and open descriptors, and the replayer's RSS; prints the curve,
# then checks: the replay verified (bytes and requests of every flow of
# every loop), the server's RssAnon is flat (the second half's peak within 10% + 1 MiB
# of the first half's), its
# descriptor count did not grow (it follows the connections in flight, so:
# the second half's maximum at most 8 above the first half's), and no process, namespace, link, address
# or route is left behind.
#
# One process, not repeated replays: the engine keeps one result record per
# (loop, flow) for verification (~56 bytes each: 30,000 records here), the
# replayer's only growth, expected.  Many requests per connection because
# the server's per-connection table (core/stats.h STATS_MAX_CONNS, 65,536)
# bounds how many connections one replay can verify: demo.pcap (10
# requests a flow) would need 100,000 connections for 1M requests, and the
# connections past the table's end fail verification ("no record").
# Usage: bench/soak.sh [PKTMEM]  env SOAK_LOOPS, SOAK_CAPTURE, SOAK_VIA
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
P=${1:-$top/pktmem}
CAP=${SOAK_CAPTURE:-}
LOOPS=${SOAK_LOOPS:-1500}
VIA=${SOAK_VIA:-mmap}
[ "$(id -u)" = 0 ] || { echo "soak: not root: --via socket"; VIA=socket; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# named namespaces of other tests (pktmem-tNNNN-*, e.g. t9550 --target) may come
# and go meanwhile: not ours
state() { { ip -d link; ip addr; ip route; ip -6 route; ip netns list | grep -v "^pktmem-t[0-9]"; } 2>&1; }
state >"$tmp/before"
if [ -z "$CAP" ]; then
	CAP=$tmp/soak.pcap
	"$P" synth -q --out "$CAP" --flows 20 --requests 100 --json --body-size 64 || exit 2
fi

"$P" replay -q --via "$VIA" --loop "$LOOPS" --json "$tmp/r.json" "$CAP" >"$tmp/out" 2>"$tmp/err" &
pid=$!
srv=""; t=0
echo "soak: pktmem replay --via $VIA --loop $LOOPS $(basename "$CAP") (pid $pid)"
printf '%6s %10s %10s %12s %8s %12s\n' "t(s)" "srv_anon" "srv_shmem" "srv_rss_kB" "srv_fds" "replayer_kB"
: >"$tmp/pids"
while kill -0 $pid 2>/dev/null; do
	[ -n "$srv" ] || srv=$(ps -o pid= --ppid $pid | tr -d ' ' | head -n 1)
	for k in $pid $(ps -o pid= --ppid $pid); do
		st=$(sed 's/^.*) //' /proc/$k/stat 2>/dev/null | awk '{print $20}')
		[ -n "$st" ] && echo "$k $st" >>"$tmp/pids"
	done
	if [ -n "$srv" ] && [ -r /proc/$srv/status ]; then
		# RssAnon is the server's own heap and stacks; RssShmem grows
		# as the shared per-connection table (stats_block.conn[], 56
		# bytes a connection, at most STATS_MAX_CONNS) is touched
		set -- $(awk '/^(RssAnon|RssShmem|VmRSS)/ {v[$1] = $2}
			END {print v["RssAnon:"], v["RssShmem:"], v["VmRSS:"]}' /proc/$srv/status 2>/dev/null)
		fds=$(ls /proc/$srv/fd 2>/dev/null | wc -l)
		prss=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null)
		[ $# -eq 3 ] && printf '%6d %10s %10s %12s %8s %12s\n' $t "$1" "$2" "$3" "$fds" "${prss:-?}" | tee -a "$tmp/curve"
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
	# the heap follows the connections in flight, so compare peaks: the
	# second half's highest RssAnon against the first half's (+10% + 1 MiB)
	a1=$(head -n $((n / 2)) "$tmp/curve" | awk 'm < $2 { m = $2 } END { print m + 0 }')
	a2=$(tail -n +$((n / 2 + 1)) "$tmp/curve" | awk 'm < $2 { m = $2 } END { print m + 0 }')
	lim=$((a1 + a1 / 10 + 1024))
	echo "soak: server RssAnon peak $a1 kB in the first half, $a2 kB in the second (limit $lim)"
	[ "$a2" -le "$lim" ] || { echo "soak: FAIL: server heap (RssAnon) grew"; status=1; }
	h1=$(head -n $((n / 2)) "$tmp/curve" | awk 'm < $5 { m = $5 } END { print m + 0 }')
	h2=$(tail -n +$((n / 2 + 1)) "$tmp/curve" | awk 'm < $5 { m = $5 } END { print m + 0 }')
	echo "soak: server descriptors: at most $h1 in the first half, $h2 in the second"
	[ "$h2" -le $((h1 + 8)) ] || { echo "soak: FAIL: server descriptors grew"; status=1; }
else
	echo "soak: FAIL: too few samples ($n)"; status=1
fi
i=0; left="x"
while [ $i -lt 50 ]; do
	left=$(sort -u "$tmp/pids" | while read -r p st; do
		now=$(sed 's/^.*) //' /proc/$p/stat 2>/dev/null | awk '{print $20}')
		[ -n "$st" ] && [ "$now" = "$st" ] && echo $p; done)
	state >"$tmp/after"
	[ -z "$left" ] && cmp -s "$tmp/before" "$tmp/after" && break
	sleep 0.1; i=$((i + 1))
done
[ -z "$left" ] || { echo "soak: FAIL: processes left: $left"; status=1; }
cmp -s "$tmp/before" "$tmp/after" || { echo "soak: FAIL: host network state changed"; diff "$tmp/before" "$tmp/after"; status=1; }
[ $status -eq 0 ] && echo "soak: ok"
exit $status
