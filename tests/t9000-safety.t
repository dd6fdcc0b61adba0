#!/bin/sh
# t9000: a replay leaves the host exactly as it found it.  Host links
# (ip -d link), addresses, IPv4 and IPv6 routes and named namespaces are
# snapshotted before and after a normal replay, after replays SIGKILLed at
# seeded-random moments (0-300 ms: during setup, sending or teardown) and
# after a SIGINT mid-replay; every process pktmem started (collected by PID
# and start time while it ran) must be gone afterwards.
# Seed: T9000_SEED (default 9000), printed as a diagnostic.
. "$(dirname "$0")/tap.sh"

F="$PKTMEM_SRC/fixtures"
[ -e "$F/demo.pcap" ] || skip_all "no fixtures"
is_root || skip_all "needs root (the replay makes namespaces and a veth pair)"
command -v ip >/dev/null || skip_all "no ip(8) (iproute2)"

seed=${T9000_SEED:-9000}
diag "seed $seed (T9000_SEED=$seed to repeat)"

host_state() { # FILE: everything a replay must not change on the host
	{
		echo "== link"; ip -d link
		echo "== addr"; ip addr
		echo "== route"; ip route
		echo "== route6"; ip -6 route
		# named namespaces other tests make for themselves (pktmem-tNNNN-*,
		# e.g. t9550's --target) may come and go meanwhile: not ours
		echo "== netns"; ip netns list 2>/dev/null | grep -v '^pktmem-t[0-9]'
	} >"$1" 2>&1
}

# "PID STARTTIME" of PID itself; empty when it is gone.  The start time
# (field 22 of /proc/PID/stat, in clock ticks) tells a reused PID apart.
pid_tag() {
	[ -r "/proc/$1/stat" ] || return 0
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $20}')
	[ -n "$st" ] && echo "$1 $st"
}
# Append "PID STARTTIME" of PID and all its descendants to FILE: one pass
# over /proc/*/stat (fields counted after the last ')', as comm may hold
# spaces: ppid is then $2, starttime $20).
collect_tree() { # PID FILE
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" '
		{ pid = $1; sub(/^.*\) /, ""); ppid[pid] = $2; st[pid] = $20 }
		END {
			want[root] = 1; changed = 1
			while (changed) {
				changed = 0
				for (p in ppid) if (!(p in want) && (ppid[p] in want)) { want[p] = 1; changed = 1 }
			}
			for (p in want) if (p in st) print p, st[p]
		}' >>"$2"
}
# Collect PID's tree into FILE for about SECONDS (a timer runs beside it).
collect_for() { # PID FILE SECONDS
	sleep "$3" &
	timer=$!
	while kill -0 $timer 2>/dev/null; do collect_tree "$1" "$2"; done
	wait $timer
	collect_tree "$1" "$2"
}
# The tagged processes of FILE that still exist.
alive_of() {
	sort -u "$1" | while read -r p st; do
		[ -n "$p" ] || continue
		[ "$(pid_tag "$p")" = "$p $st" ] && echo "$p"
	done
}
# Wait (at most 5 s) for the processes of FILE to go and the host state to
# return to BEFORE: the kernel tears namespaces down asynchronously.
settle() { # TAGFILE
	i=0
	while [ $i -lt 50 ]; do
		host_state "$TAP_TMP/after"
		[ -z "$(alive_of "$1")" ] && cmp -s "$TAP_TMP/before" "$TAP_TMP/after" && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}
check_clean() { # WHAT TAGFILE
	settle "$2"
	left=$(alive_of "$2" | tr '\n' ' ')
	[ -z "$left" ]; ok $? "$1: no process pktmem started is left${left:+ (alive: $left)}"
	cmp -s "$TAP_TMP/before" "$TAP_TMP/after"; r=$?
	ok $r "$1: host links, addresses, routes and named namespaces unchanged"
	[ $r -eq 0 ] || diff "$TAP_TMP/before" "$TAP_TMP/after" | sed 's/^/# /' >&2
}
# random milliseconds in [0, 300] for kill number N
rand_ms() { awk -v s="$seed" -v n="$1" 'BEGIN { srand(s * 1000 + n); print int(rand() * 301) }'; }

host_state "$TAP_TMP/before"

# --- a normal replay ---
: >"$TAP_TMP/tags"
"$PKTMEM" replay -q "$F/demo.pcap" >"$TAP_TMP/out" 2>&1 &
pid=$!
while kill -0 $pid 2>/dev/null; do collect_tree $pid "$TAP_TMP/tags"; done
wait $pid; rc=$?
[ "$rc" -eq 0 ]; ok $? "normal replay: exit 0 (got $rc)"
[ "$rc" -eq 0 ] || sed 's/^/# /' "$TAP_TMP/out" >&2
grep -q '^  verify      ok' "$TAP_TMP/out"; ok $? "normal replay: verified"
check_clean "normal replay" "$TAP_TMP/tags"

# --- SIGKILL at seeded-random moments ---
# One replay of demo.pcap takes a few hundred ms here, so 0-300 ms lands in
# namespace setup, sending or teardown; --loop 3 stretches some of them.
n=1
for loops in 1 1 1 3 1 3 1 1; do
	ms=$(rand_ms $n)
	: >"$TAP_TMP/tags"
	"$PKTMEM" replay -q --loop $loops "$F/demo.pcap" >/dev/null 2>&1 &
	pid=$!
	# collect the tree while waiting out the delay
	collect_for $pid "$TAP_TMP/tags" "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null; rc=$?
	[ $rc -eq 137 ] || diag "SIGKILL #$n: pktmem had already exited ($rc)"
	nk=$(sort -u "$TAP_TMP/tags" | wc -l)
	check_clean "SIGKILL #$n after $ms ms (--loop $loops, $nk processes seen)" "$TAP_TMP/tags"
	n=$((n + 1))
done

# --- SIGINT mid-replay ---
: >"$TAP_TMP/tags"
# --loop 1000: 100 loops of demo.pcap finish in under 0.5 s on an idle
# machine, and the SIGINT would then find nothing left to interrupt
"$PKTMEM" replay -q --loop 1000 "$F/demo.pcap" >"$TAP_TMP/int.out" 2>&1 &
pid=$!
collect_for $pid "$TAP_TMP/tags" 0.5
kill -INT $pid 2>/dev/null
while kill -0 $pid 2>/dev/null; do collect_tree $pid "$TAP_TMP/tags"; done
wait $pid; rc=$?
[ "$rc" -eq 1 ]; ok $? "SIGINT: exit 1 (got $rc)"
check_clean "SIGINT" "$TAP_TMP/tags"

done_testing
