#!/bin/sh
# t7410: 'pktmem doctor' and 'pktmem replay' share their probes: a failure
# injected into the replay's own setup (PKTMEM_TEST_FAIL, read by
# replay/netns.c and replay/txring.c) is reported by both, with the same
# reason.  veth: the doctor's veth (or netns) row is missing and says
# "injected failure", and 'replay --via mmap' fails with that very line;
# txring: the same for the doctor's packet_mmap_tx row.  A doctor that
# tested its own copy of the setup would still say "ok" here.
. "$(dirname "$0")/tap.sh"

is_root || skip_all "needs root (network namespaces, veth, packet sockets)"
command -v python3 >/dev/null 2>&1 || skip_all "needs python3 to read the doctor's JSON"
unshare -n true 2>/dev/null || skip_all "needs network namespaces (unshare -n failed)"
cap="$PKTMEM_SRC/fixtures/demo.pcap"
[ -f "$cap" ] || skip_all "no fixtures/demo.pcap"

# row JSON NAME FIELD: one field of one doctor row
row() {
	python3 - "$1" "$2" "$3" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p = {x["name"]: x for x in d["probes"]}
print(p[sys.argv[2]][sys.argv[3]] if sys.argv[2] in p else "")
PY
}

"$PKTMEM" doctor --json "$TAP_TMP/clean.json" >/dev/null 2>&1
for r in netns veth packet_mmap_tx; do
	[ "$(row "$TAP_TMP/clean.json" $r status)" = ok ] ||
		skip_all "the replay's packet path does not work here ($r: $(row "$TAP_TMP/clean.json" $r detail))"
done

PKTMEM_TEST_FAIL=veth "$PKTMEM" doctor --json "$TAP_TMP/veth.json" >/dev/null 2>&1; vrc=$?

# veth: the namespace step comes first, so the failure is the veth row's
# (a build that names it as the netns row still shares the probe)
vrow=veth
case "$(row "$TAP_TMP/veth.json" veth detail)" in
*"injected failure"*) ;;
*) vrow=netns ;;
esac
vdetail=$(row "$TAP_TMP/veth.json" $vrow detail)
[ "$(row "$TAP_TMP/veth.json" $vrow status)" = missing ]
ok $? "veth: doctor's $vrow row is missing"
case "$vdetail" in *"injected failure"*"PKTMEM_TEST_FAIL=veth"*) true ;; *) false ;; esac
ok $? "veth: doctor's $vrow row gives the injected reason ($vdetail)"
[ "$vrc" -eq 1 ]; ok $? "veth: doctor exits 1, the default replay cannot run (got $vrc)"

PKTMEM_TEST_FAIL=veth timeout 120 "$PKTMEM" replay -q --via mmap "$cap" >"$TAP_TMP/vout" 2>"$TAP_TMP/verr"; rrc=$?
[ "$rrc" -ne 0 ] && [ "$rrc" -ne 124 ]; ok $? "veth: replay --via mmap fails (exit $rrc)"
grep -qF -- "$vdetail" "$TAP_TMP/verr"; st=$?
ok $st "veth: replay's error carries the doctor's reason"
[ $st -eq 0 ] || sed 's/^/#   /' "$TAP_TMP/verr" >&2

PKTMEM_TEST_FAIL=txring "$PKTMEM" doctor --json "$TAP_TMP/tx.json" >/dev/null 2>&1; trc=$?
tdetail=$(row "$TAP_TMP/tx.json" packet_mmap_tx detail)
[ "$(row "$TAP_TMP/tx.json" packet_mmap_tx status)" = missing ]
ok $? "txring: doctor's packet_mmap_tx row is missing"
case "$tdetail" in *"injected failure"*"PKTMEM_TEST_FAIL=txring"*) true ;; *) false ;; esac
ok $? "txring: doctor's packet_mmap_tx row gives the injected reason ($tdetail)"
[ "$(row "$TAP_TMP/tx.json" veth status)" = ok ]
ok $? "txring: the veth row, before the ring, stays ok"
[ "$trc" -eq 1 ]; ok $? "txring: doctor exits 1 (got $trc)"

PKTMEM_TEST_FAIL=txring timeout 120 "$PKTMEM" replay -q --via mmap "$cap" >"$TAP_TMP/tout" 2>"$TAP_TMP/terr"; rrc=$?
[ "$rrc" -ne 0 ] && [ "$rrc" -ne 124 ]; ok $? "txring: replay --via mmap fails (exit $rrc)"
grep -qF -- "$tdetail" "$TAP_TMP/terr"; st=$?
ok $st "txring: replay's error carries the doctor's reason"
[ $st -eq 0 ] || sed 's/^/#   /' "$TAP_TMP/terr" >&2
done_testing
