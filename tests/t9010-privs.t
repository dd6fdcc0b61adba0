#!/bin/sh
# t9010: the replay's server child runs with no capability at all and
# no_new_privs set (replay/privs.h), on the packet path and on the socket
# path, and the replay still verifies.  Read from /proc/<child>/status
# while the replay runs.
. "$(dirname "$0")/tap.sh"

F="$PKTMEM_SRC/fixtures"
[ -e "$F/demo.pcap" ] || skip_all "no fixtures"
is_root || skip_all "needs root (nothing to drop otherwise)"
grep -q '^CapEff:[[:space:]]*0*[1-9a-f]' /proc/self/status || skip_all "this shell has no capabilities"

for via in mmap socket; do
	"$PKTMEM" replay -q --via $via --loop 200 "$F/demo.pcap" >"$TAP_TMP/out" 2>&1 &
	pid=$!
	# The server child shares the replayer's mount namespace; the
	# profiler's short-lived tracefs loader (profile/perf.c) does not.
	kid=""; i=0
	while [ $i -lt 100 ] && [ -z "$kid" ]; do
		mnt=$(readlink /proc/$pid/ns/mnt 2>/dev/null)
		for k in $(ps -o pid= --ppid $pid); do
			[ "$(readlink /proc/$k/ns/mnt 2>/dev/null)" = "$mnt" ] && { kid=$k; break; }
		done
		# the child drops right after fork; give it its first moment
		[ -n "$kid" ] && sleep 0.2
		i=$((i + 1)); [ -n "$kid" ] || sleep 0.05
	done
	[ -n "$kid" ]; ok $? "--via $via: the replay runs a server child"
	grep -E '^(CapEff|CapPrm|CapBnd|CapAmb|NoNewPrivs)' "/proc/$kid/status" >"$TAP_TMP/st" 2>/dev/null
	sed 's/^/# /' "$TAP_TMP/st" >&2
	grep -q '^CapEff:[[:space:]]*0000000000000000$' "$TAP_TMP/st"; ok $? "--via $via: server child CapEff is zero"
	grep -q '^CapPrm:[[:space:]]*0000000000000000$' "$TAP_TMP/st"; ok $? "--via $via: server child CapPrm is zero"
	grep -q '^CapBnd:[[:space:]]*0000000000000000$' "$TAP_TMP/st"; ok $? "--via $via: server child bounding set is empty"
	grep -q '^NoNewPrivs:[[:space:]]*1$' "$TAP_TMP/st"; ok $? "--via $via: server child has no_new_privs"
	wait $pid; rc=$?
	[ $rc -eq 0 ] && grep -q '^  verify      ok' "$TAP_TMP/out"
	ok $? "--via $via --loop 200: the replay still verifies (exit $rc)"
	[ $rc -eq 0 ] || sed 's/^/#   /' "$TAP_TMP/out" >&2
done
done_testing
