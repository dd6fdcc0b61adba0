#!/bin/sh
# t7450: 'pktmem replay --profile' on the bundled fixture: the stage table
# is printed, and the report (--json) says: softirq entries > 0, NET_RX
# packets >= data segments sent, bytes copied to user space == bytes the
# server read == the capture's payload, irq a measured zero with the veth
# note, hardware columns unavailable with the ENOENT reason without a PMU;
# the same with IPv4 and IPv6 flows (two server children, one profiler on
# both: issue #5); --profile off leaves the kernel stages unavailable with
# the reason;
# --folded writes stacks in full mode; bad --profile/--events are usage errors.
. "$(dirname "$0")/tap.sh"

is_root || skip_all "needs root (network namespaces, tracepoints)"
command -v python3 >/dev/null 2>&1 || skip_all "needs python3 to read the report"
cap="$PKTMEM_SRC/fixtures/demo.pcap"
[ -f "$cap" ] || skip_all "no fixtures/demo.pcap"

expect_exit 0 "replay --profile counts" -- "$PKTMEM" replay -q --profile counts --json "$TAP_TMP/c.json" "$cap"
grep -q '^softirq ' "$TAP_TMP/out"; ok $? "stage table printed"

check() { # check JSON MODE
	python3 - "$1" "$2" >"$TAP_TMP/py" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); mode = sys.argv[2]
t = d["trials"][0]
st = {s["name"]: s for s in t["stages"]}
m = lambda s, n: next((x for x in st[s]["metrics"] if x["name"] == n), None)
rp = t["replay"]
assert st["softirq"]["available"] and st["softirq"]["count"] > 0, st["softirq"]
pk = m("softirq", "packets")
assert pk and pk["available"] and pk["value"] >= rp["segments"], (pk, rp["segments"])
cp = st["copy"]
assert cp["available"], cp
sb = m("copy", "server_bytes_read")["value"]
cap = m("copy", "capture_payload_bytes")["value"]
assert cp["bytes"] == sb == cap, (cp["bytes"], sb, cap)
assert m("copy", "copy_bytes")["value"] == cp["bytes"]
assert "mismatch" not in cp["note"], cp["note"]
irq = st["irq"]
assert irq["available"] and irq["count"] == 0 and "veth delivers without a hardware interrupt" in irq["note"], irq
if not d["env"]["pmu"]:
    cyc = m("copy", "cycles")
    assert cyc and not cyc["available"] and "no PMU: perf_event_open(cycles) = ENOENT" in cyc["reason"], cyc
if mode == "full":
    assert st["softirq"]["time_available"] and st["softirq"]["has_hist"], st["softirq"]
    assert cp["time_available"], cp
print("ok")
PY
}
check "$TAP_TMP/c.json" counts; ok $? "counts: softirq > 0, packets >= segments, copied == read == capture, irq veth zero"
[ $? -eq 0 ] || sed 's/^/# /' "$TAP_TMP/py" >&2

# IPv4 and IPv6 flows: the engine forks a server per family; the copy
# events must be open on both, or half the bytes go uncounted
expect_exit 0 "replay IPv4 + IPv6 captures" -- "$PKTMEM" replay -q --json "$TAP_TMP/46.json" \
	"$PKTMEM_SRC/fixtures/synth-cl.pcap" "$PKTMEM_SRC/fixtures/synth-ipv6.pcap"
check "$TAP_TMP/46.json" counts; ok $? "IPv4 + IPv6: copied == read by both servers == capture, no mismatch"
[ $? -eq 0 ] || sed 's/^/# /' "$TAP_TMP/py" >&2

expect_exit 0 "replay --profile full --folded" -- "$PKTMEM" replay -q --profile full --folded "$TAP_TMP/f.txt" --json "$TAP_TMP/f.json" "$cap"
check "$TAP_TMP/f.json" full; ok $? "full: the same, plus softirq and copy times"
[ $? -eq 0 ] || sed 's/^/# /' "$TAP_TMP/py" >&2
[ -s "$TAP_TMP/f.txt" ] && grep -qE '^[^ ]+ [0-9]+$' "$TAP_TMP/f.txt"; ok $? "folded stacks written"

expect_exit 0 "replay --profile off" -- "$PKTMEM" replay -q --profile off --json "$TAP_TMP/o.json" "$cap"
python3 - "$TAP_TMP/o.json" <<'PY' >"$TAP_TMP/py" 2>&1
import json, sys
t = json.load(open(sys.argv[1]))["trials"][0]
st = {s["name"]: s for s in t["stages"]}
assert not st["softirq"]["available"] and "--profile" in st["softirq"]["reason"], st["softirq"]
PY
ok $? "off: kernel stages unavailable, saying how to turn profiling on"

expect_exit 2 "--profile bogus is a usage error" -- "$PKTMEM" replay --profile bogus "$cap"
expect_exit 2 "--events with an unknown name is a usage error" -- "$PKTMEM" replay --events no-such-event "$cap"
grep -q "no-such-event" "$TAP_TMP/err"; ok $? "the unknown event is named"
expect_exit 2 "--folded without full" -- "$PKTMEM" replay --folded "$TAP_TMP/x" "$cap"
done_testing
