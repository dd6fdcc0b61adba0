#!/bin/sh
# t9030: hostile captures.  Seeded random byte flips over every fixture
# through 'pktmem inspect' and 'pktmem replay --via socket', each run
# bounded by timeout(1): the exit code must be 0, 1 or 2 - never a signal,
# never a hang - and an exit 2 prints one line naming the file.  Then
# hand-made cases: absurd record lengths, snaplen 0, an unknown link type,
# pcapng blocks with bad lengths and options, a gzip stream that ends early.
# T9030_SEED (default 9030), T9030_INSPECT mutants per fixture for inspect
# (default 30), T9030_REPLAY for replay (default 2); T9030_BUDGET seconds
# bound the random part (default 90): when it runs out the rest is skipped
# and the counts say so.
. "$(dirname "$0")/tap.sh"

F="$PKTMEM_SRC/fixtures"
MUT="$PKTMEM_BUILD/tests/helpers/mutate"
[ -e "$F/demo.pcap" ] || skip_all "no fixtures"
[ -x "$MUT" ] || skip_all "no mutate helper (make test-build)"
command -v timeout >/dev/null || skip_all "no timeout(1)"

seed=${T9030_SEED:-9030}
ni=${T9030_INSPECT:-30}
nr=${T9030_REPLAY:-2}
budget=${T9030_BUDGET:-90}
diag "seed $seed, $ni inspect and $nr replay mutants per fixture, budget ${budget}s"

# check NAME FILE RC ERRFILE: exit in {0,1,2}; an exit 2 says one line
# naming the file.  Prints a reason on failure, nothing when fine.
check() {
	case $3 in
	0|1) ;;
	2)	[ "$(wc -l <"$4")" -eq 1 ] || { echo "exit 2 with $(wc -l <"$4") lines"; return; }
		grep -qF "$(basename "$2")" "$4" || echo "exit 2 message does not name the file";;
	124) echo "hung (killed by timeout)";;
	*)	echo "exit $3 (signal $(( $3 > 128 ? $3 - 128 : 0 )))";;
	esac
}

start=$(date +%s)
runs=0; bad=0; over=0
for fx in "$F"/*.pcap "$F"/*.pcapng "$F"/*.pcap.gz; do
	[ -e "$fx" ] || continue
	base=$(basename "$fx")
	case $base in *.gz) ext=pcap.gz;; *.pcapng) ext=pcapng;; *) ext=pcap;; esac
	i=0
	while [ $i -lt "$ni" ]; do
		if [ $(( $(date +%s) - start )) -ge "$budget" ]; then over=1; break 2; fi
		m="$TAP_TMP/m-$i.$ext"
		s=$((seed * 100000 + runs))
		"$MUT" $s $((1 + s % 8)) "$fx" "$m" || exit 2
		timeout -s KILL 20 "$PKTMEM" inspect "$m" >/dev/null 2>"$TAP_TMP/err"; rc=$?
		runs=$((runs + 1))
		why=$(check inspect "$m" $rc "$TAP_TMP/err")
		if [ -n "$why" ]; then
			bad=$((bad + 1)); cp "$m" "$TAP_TMP/bad-$bad.$ext"
			diag "inspect: $base mutant seed $s: $why"; sed 's/^/#   /' "$TAP_TMP/err" | head -n 3 >&2
		fi
		if [ $i -lt "$nr" ]; then
			timeout -s KILL 30 "$PKTMEM" replay -q --via socket "$m" >/dev/null 2>"$TAP_TMP/err"; rc=$?
			runs=$((runs + 1))
			# replay may print several verify lines with exit 1; only
			# signals, hangs and exit codes outside {0,1,2} count here
			case $rc in 0|1|2) why=;; 124) why="hung";; *) why="exit $rc";; esac
			if [ -n "$why" ]; then
				bad=$((bad + 1)); cp "$m" "$TAP_TMP/bad-$bad.$ext"
				diag "replay: $base mutant seed $s: $why"; sed 's/^/#   /' "$TAP_TMP/err" | head -n 3 >&2
			fi
		fi
		i=$((i + 1))
	done
done
diag "$runs runs of mutants in $(( $(date +%s) - start ))s${over:+, budget reached}"
[ "$runs" -gt 0 ]; ok $? "mutants were run ($runs)"
[ "$bad" -eq 0 ]; ok $? "every mutant: exit 0/1/2, no signal, no hang, exit 2 says one line naming the file ($bad bad)"

# --- hand-made captures ---
le32() { # a 32-bit little-endian value as printf octal escapes
	printf '\\%03o\\%03o\\%03o\\%03o' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255))
}
pcap_hdr() { # SNAPLEN LINKTYPE
	printf '\324\303\262\241\002\000\004\000\000\000\000\000\000\000\000\000'
	printf "$(le32 $1)$(le32 $2)"
}
rec_hdr() { # CAPLEN LEN
	printf "$(le32 1)$(le32 0)$(le32 $1)$(le32 $2)"
}
# an Ethernet + IPv4 + TCP SYN, 54 bytes
frame() {
	printf '\000\001\002\003\004\005\000\001\002\003\004\006\010\000'
	printf '\105\000\000\050\000\001\000\000\100\006\000\000\012\000\000\001\012\000\000\002'
	printf '\060\071\000\120\000\000\000\001\000\000\000\000\120\002\040\000\000\000\000\000'
}
{ pcap_hdr 65535 1; rec_hdr 4294967280 4294967280; frame; } >"$TAP_TMP/absurd-caplen.pcap"
{ pcap_hdr 65535 1; rec_hdr 54 54; frame; rec_hdr 268435456 268435456; frame; } >"$TAP_TMP/absurd-second.pcap"
{ pcap_hdr 65535 1; rec_hdr 54 4294967295; frame; } >"$TAP_TMP/absurd-len.pcap"
{ pcap_hdr 0 1; rec_hdr 54 54; frame; } >"$TAP_TMP/snaplen0.pcap"
{ pcap_hdr 65535 999; rec_hdr 54 54; frame; } >"$TAP_TMP/linktype999.pcap"
{ pcap_hdr 65535 1; rec_hdr 54 54; } >"$TAP_TMP/short-record.pcap"
# pcapng: section header block (type 0x0a0d0d0a), byte-order magic, v1.0,
# section length -1; then an interface description block (type 1)
shb() { # TOTAL_LEN (the same value is written at both ends)
	printf "\012\015\015\012$(le32 $1)\115\074\053\032\001\000\000\000\377\377\377\377\377\377\377\377$(le32 $1)"
}
idb() { # TOTAL_LEN OPTION-BYTES...
	tl=$1; shift
	printf "$(le32 1)$(le32 $tl)\001\000\000\000$(le32 65535)"
	printf "$*"
	printf "$(le32 $tl)"
}
{ shb 28; idb 20; } >"$TAP_TMP/ng-ok.pcapng"
{ shb 4294967292; idb 20; } >"$TAP_TMP/ng-shb-huge.pcapng"
{ shb 12; idb 20; } >"$TAP_TMP/ng-shb-short.pcapng"
{ shb 30; idb 20; } >"$TAP_TMP/ng-shb-unaligned.pcapng"
{ shb 28; idb 28 '\011\000\377\377\006\000\000\000'; } >"$TAP_TMP/ng-opt-overrun.pcapng"
{ shb 28; idb 28 '\011\000\001\000\377\000\000\000'; } >"$TAP_TMP/ng-opt-noend.pcapng"
{ shb 28; idb 4294967288; } >"$TAP_TMP/ng-idb-huge.pcapng"
# a gzip stream that ends early: half of the gzipped fixture
if [ -e "$F/synth-gzip.pcap.gz" ]; then
	sz=$(wc -c <"$F/synth-gzip.pcap.gz")
	head -c $((sz / 2)) "$F/synth-gzip.pcap.gz" >"$TAP_TMP/gz-half.pcap.gz"
	head -c 20 "$F/synth-gzip.pcap.gz" >"$TAP_TMP/gz-header.pcap.gz"
fi
for c in "$TAP_TMP"/absurd-*.pcap "$TAP_TMP"/snaplen0.pcap "$TAP_TMP"/linktype999.pcap \
	 "$TAP_TMP"/short-record.pcap "$TAP_TMP"/ng-*.pcapng "$TAP_TMP"/gz-*.pcap.gz; do
	[ -e "$c" ] || continue
	n=$(basename "$c")
	timeout -s KILL 20 "$PKTMEM" inspect "$c" >"$TAP_TMP/out" 2>"$TAP_TMP/err"; rc=$?
	why=$(check inspect "$c" $rc "$TAP_TMP/err")
	[ -z "$why" ]; ok $? "inspect $n: exit $rc${why:+: $why}"
	[ -z "$why" ] || sed 's/^/#   /' "$TAP_TMP/err" | head -n 5 >&2
	[ $rc -eq 2 ] && diag "$n: $(cat "$TAP_TMP/err")"
	timeout -s KILL 30 "$PKTMEM" replay -q --via socket "$c" >/dev/null 2>"$TAP_TMP/err"; rc=$?
	case $rc in 0|1|2) why=;; 124) why="hung";; *) why="exit $rc";; esac
	[ -z "$why" ]; ok $? "replay --via socket $n: exit $rc${why:+: $why}"
done
# the ones that cannot be read at all must be refused, not shrugged off
for n in absurd-caplen.pcap ng-shb-huge.pcapng ng-shb-short.pcapng gz-header.pcap.gz; do
	[ -e "$TAP_TMP/$n" ] || continue
	"$PKTMEM" inspect "$TAP_TMP/$n" >/dev/null 2>&1; rc=$?
	[ $rc -eq 2 ]; ok $? "inspect $n: exit 2 (got $rc)"
done
done_testing
