#!/bin/sh
# t9010: privileges during a replay (core/privs.h, core/sandbox.h), read
# from /proc while it runs, on the packet and the socket path:
# - the server child has no capability at all, no_new_privs, and the
#   seccomp filter (Seccomp: 2);
# - once setup is done, EVERY thread of the replayer (main, the profiler's
#   attach and reader threads) keeps only the reduced set: CAP_NET_ADMIN on
#   the packet path, nothing on the socket path, CAP_DAC_OVERRIDE with a
#   --json file, plus CAP_BPF when the BPF counters run (--events, or
#   --profile full where a PMU exists); bounding set the same,
#   no_new_privs;
# - the replay still verifies.
. "$(dirname "$0")/tap.sh"

F="$PKTMEM_SRC/fixtures"
[ -e "$F/demo.pcap" ] || skip_all "no fixtures"
is_root || skip_all "needs root (nothing to drop otherwise)"
grep -q '^CapEff:[[:space:]]*0*[1-9a-f]' /proc/self/status || skip_all "this shell has no capabilities"

# linux/capability.h: CAP_DAC_OVERRIDE 1, CAP_NET_ADMIN 12, CAP_BPF 39
NET_ADMIN=0000000000001000
BPF_DAC=0000008000000002
DAC=0000000000000002

# run NAME WANT ARGS...: one replay, checked while it runs
run() {
	name=$1; want=$2; shift 2
	"$PKTMEM" replay -q "$@" "$F/demo.pcap" >"$TAP_TMP/out" 2>&1 &
	pid=$!
	# The server child shares the replayer's mount namespace; the
	# profiler's short-lived tracefs loader (profile/perf.c) does not.
	kid=""; i=0
	while [ $i -lt 200 ] && [ -z "$kid" ]; do
		mnt=$(readlink /proc/$pid/ns/mnt 2>/dev/null)
		for k in $(ps -o pid= --ppid $pid); do
			[ "$(readlink /proc/$k/ns/mnt 2>/dev/null)" = "$mnt" ] && { kid=$k; break; }
		done
		i=$((i + 1)); [ -n "$kid" ] || sleep 0.05
	done
	# The replayer drops once its setup is over: wait for its main
	# thread to show it (up to 20 s: a sanitizer build is slow to start),
	# then let every thread settle.
	i=0
	while [ $i -lt 400 ] && [ -e /proc/$pid/status ] &&
	      ! grep -q "^CapEff:[[:space:]]*$want\$" /proc/$pid/status; do
		i=$((i + 1)); sleep 0.05
	done
	sleep 0.3
	[ -n "$kid" ]; ok $? "$name: the replay runs a server child"
	grep -E '^(CapEff|CapPrm|CapBnd|CapAmb|NoNewPrivs|Seccomp)' "/proc/$kid/status" >"$TAP_TMP/st" 2>/dev/null
	sed 's/^/# child: /' "$TAP_TMP/st" >&2
	grep -q '^CapEff:[[:space:]]*0000000000000000$' "$TAP_TMP/st"; ok $? "$name: server child CapEff is zero"
	grep -q '^CapPrm:[[:space:]]*0000000000000000$' "$TAP_TMP/st"; ok $? "$name: server child CapPrm is zero"
	grep -q '^CapBnd:[[:space:]]*0000000000000000$' "$TAP_TMP/st"; ok $? "$name: server child bounding set is empty"
	grep -q '^NoNewPrivs:[[:space:]]*1$' "$TAP_TMP/st"; ok $? "$name: server child has no_new_privs"
	grep -q '^Seccomp:[[:space:]]*2$' "$TAP_TMP/st"; ok $? "$name: server child runs under its seccomp filter"

	# every thread of the replayer, read in one pass
	: >"$TAP_TMP/thr"
	for t in /proc/$pid/task/*; do
		{ printf '%s ' "${t##*/}"
		  grep -E '^(CapEff|CapPrm|CapBnd|CapInh|CapAmb|NoNewPrivs)' "$t/status" 2>/dev/null |
			tr -s '\t\n' '  '; echo; } >>"$TAP_TMP/thr"
	done
	sed 's/^/# replayer thread: /' "$TAP_TMP/thr" >&2
	n=$(grep -c 'CapEff' "$TAP_TMP/thr")
	[ "$n" -ge 2 ]; ok $? "$name: the replayer runs $n threads (the profiler's among them)"
	bad=$(grep -v "CapPrm: $want CapEff: $want CapBnd: $want CapAmb: 0000000000000000 NoNewPrivs: 1" \
		"$TAP_TMP/thr" | grep -c CapEff)
	[ "$n" -ge 1 ] && [ "$bad" -eq 0 ]
	ok $? "$name: every replayer thread keeps only $want (permitted, effective, bounding), no_new_privs ($bad do not)"

	wait $pid; rc=$?
	[ $rc -eq 0 ] && grep -q '^  verify      ok' "$TAP_TMP/out"
	ok $? "$name: the replay still verifies (exit $rc)"
	[ $rc -eq 0 ] || sed 's/^/#   /' "$TAP_TMP/out" >&2
}

# Paced (--pps), so that each replay lasts about 2 s however fast the
# machine: at full speed a fast one ended before its threads were read.
run "--via mmap" "$NET_ADMIN" --via mmap --loop 200 --pps 20000
run "--via socket" 0000000000000000 --via socket --loop 200 --pps 20000
# CAP_BPF: the BPF stage counters are read at the end; CAP_DAC_OVERRIDE:
# the --json file is written after the run
# full mode runs the BPF counters only where a PMU exists (or --events
# asks): CAP_BPF is kept only then.  The report says whether there is one.
"$PKTMEM" replay -q --profile off --json "$TAP_TMP/env.json" "$F/demo.pcap" >/dev/null 2>&1
if grep -q '"pmu": true' "$TAP_TMP/env.json"; then full_want=$BPF_DAC; else full_want=$DAC; fi
run "--via socket --profile full --json" "$full_want" --via socket --loop 200 --pps 20000 --profile full \
	--json "$TAP_TMP/r.json"
[ -s "$TAP_TMP/r.json" ] && grep -q '"privileges": "root"' "$TAP_TMP/r.json"
ok $? "the report records the privileges the replay started with (root)"
run "--via socket --profile full --events cycles --json" "$BPF_DAC" --via socket --loop 200 --pps 20000 \
	--profile full --events cycles --json "$TAP_TMP/e.json"
done_testing
