#!/bin/sh
# t7450: 'pktmem replay --profile' on the bundled fixture: the stage table
# is printed, and the report (--json) says: softirq entries > 0, NET_RX
# packets >= data segments sent, bytes copied to user space == bytes the
# server read == the capture's payload, irq a measured zero with the veth
# note, hardware columns unavailable with the ENOENT reason without a PMU;
# the same with IPv4 and IPv6 flows (two server children, one profiler on
# both); full mode adds the BPF per-stage counters (cpu-clock
# measured, hardware ones unavailable with ENOENT where no PMU);
# --profile off leaves the kernel stages unavailable with the reason;
# --folded writes stacks in full mode, whose user frames name the core
# server's functions (server_run, core/server.c), and the report lists the
# server's top user symbols; --freq sets the sampling frequency the report
# names; bad --profile/--events/--freq are usage errors.
. "$(dirname "$0")/tap.sh"

is_root || skip_all "needs root (network namespaces, tracepoints)"
command -v python3 >/dev/null 2>&1 || skip_all "needs python3 to read the report"
cap="$PKTMEM_SRC/fixtures/demo.pcap"
[ -f "$cap" ] || skip_all "no fixtures/demo.pcap"

expect_exit 0 "replay --profile counts" -- "$PKTMEM" replay -q --profile counts --json "$TAP_TMP/c.json" "$cap"
grep -q '^softirq ' "$TAP_TMP/out"; ok $? "stage table printed"
report_valid "$TAP_TMP/c.json" "counts"

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
# ksoftirqd's share is counted per task (its own events): measured, even
# when it is zero
ks = m("softirq", "net_rx_in_ksoftirqd")
assert ks and ks["available"] and ks["value"] >= 0, ks
irq = st["irq"]
assert irq["available"] and irq["count"] == 0 and "veth delivers without a hardware interrupt" in irq["note"], irq
if not d["env"]["pmu"]:
    cyc = m("copy", "cycles")
    assert cyc and not cyc["available"] and "no PMU: perf_event_open(cycles) = ENOENT" in cyc["reason"], cyc
if mode == "full":
    assert st["softirq"]["time_available"] and st["softirq"]["has_hist"], st["softirq"]
    assert cp["time_available"], cp
    # BPF stage counters: on with --events; cpu-clock is measured without
    # a PMU; the pairs are the same NET_RX entries the tracepoint counted
    # (same tasks, nested windows: a couple apart at most)
    bp, bc = m("softirq", "bpf_pairs"), m("softirq", "bpf_cpu_clock_ns")
    assert bp and bc and bc["available"] and bc["value"] > 0, (bp, bc)
    assert "bpf_perf_event_read_value on irq:softirq_entry/exit" in bc["source"], bc
    n = st["softirq"]["count"]
    assert abs(bp["value"] - n) <= max(2, n // 100), (bp["value"], n)
    cc = m("copy", "bpf_cpu_clock_ns")
    assert cc and cc["available"] and cc["value"] > 0, cc
    if not d["env"]["pmu"]:
        sc = m("softirq", "cycles")
        assert sc and not sc["available"] and "ENOENT" in sc["reason"] and \
            "bpf_perf_event_read_value = -ENOENT" in sc["reason"], sc
else:
    assert m("softirq", "bpf_cpu_clock_ns") is None, "BPF counters are opt-in"
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
report_valid "$TAP_TMP/46.json" "IPv4 + IPv6"
[ $? -eq 0 ] || sed 's/^/# /' "$TAP_TMP/py" >&2

# --events: the BPF stage counters run (by default in full mode only where a PMU exists)
expect_exit 0 "replay --profile full --events cycles --folded" -- "$PKTMEM" replay -q --profile full --events cycles --folded "$TAP_TMP/f.txt" --json "$TAP_TMP/f.json" "$cap"
check "$TAP_TMP/f.json" full; ok $? "full: the same, plus softirq and copy times"
report_valid "$TAP_TMP/f.json" "full"
[ $? -eq 0 ] || sed 's/^/# /' "$TAP_TMP/py" >&2
[ -s "$TAP_TMP/f.txt" ] && grep -qE '^[^ ]+ [0-9]+$' "$TAP_TMP/f.txt"; ok $? "folded stacks written"

# User-space names: a few loops so that the server gets samples (the
# bundled capture alone replays in ~7 ms, a handful of samples at 999 Hz),
# sampled at --freq 1999.
expect_exit 0 "replay --profile full --freq 1999 --loop 30 --folded" -- "$PKTMEM" replay -q --profile full --freq 1999 --loop 30 --folded "$TAP_TMP/u.txt" --json "$TAP_TMP/u.json" "$cap"
grep -q 'sampling cpu-clock 1999 Hz\|sampling cycles 1999 Hz' "$TAP_TMP/u.json"; ok $? "the report names the sampling frequency --freq asked for"
grep -qE '^[^ ]*;server_run;[^ ]* [0-9]+$' "$TAP_TMP/u.txt"; ok $? "folded stacks name the core server's server_run (core/server.c)"
[ $? -eq 0 ] || grep -v '\[user\]' "$TAP_TMP/u.txt" | head -5 | sed 's/^/# /' >&2
python3 - "$TAP_TMP/u.json" >"$TAP_TMP/py" 2>&1 <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["trials"][0]
u = t["user_symbols"]
assert u["available"] and u["user_samples"] > 0 and 0 < u["resolved"] <= u["user_samples"], u
assert 0 < len(u["top"]) <= 10 and all(e["samples"] > 0 and 0 < e["share"] <= 100 for e in u["top"]), u["top"]
assert any(e["module"] == "pktmem" for e in u["top"]) or u["resolved"] < u["user_samples"], u["top"]
PY
ok $? "report: the server's top user symbols with samples and share"
[ $? -eq 0 ] || sed 's/^/# /' "$TAP_TMP/py" >&2
python3 - "$TAP_TMP/u.json" >"$TAP_TMP/py" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); t = d["trials"][0]
st = {s["name"]: s for s in t["stages"]}
bpf = [x for x in st["softirq"]["metrics"] if x["name"] == "bpf_cpu_clock_ns"]
assert bool(bpf) == bool(d["env"]["pmu"]), bpf
PY
ok $? "full mode without --events: BPF stage counters only where a PMU exists"
[ $? -eq 0 ] || sed 's/^/# /' "$TAP_TMP/py" >&2
"$PKTMEM" report "$TAP_TMP/u.json" >"$TAP_TMP/ut" 2>&1
grep -q '^user symbols (the server' "$TAP_TMP/ut"; ok $? "terminal report lists the user symbols"
"$PKTMEM" report "$TAP_TMP/u.json" --md - 2>&1 | grep -q '^### User symbols'; ok $? "Markdown report lists them"
python3 - "$TAP_TMP/c.json" >"$TAP_TMP/py" 2>&1 <<'PY'
import json, sys
u = json.load(open(sys.argv[1]))["trials"][0]["user_symbols"]
assert not u["available"] and "--profile full" in u["reason"], u
PY
ok $? "counts mode: user symbols unavailable, saying how to get them"

expect_exit 0 "replay --profile off" -- "$PKTMEM" replay -q --profile off --json "$TAP_TMP/o.json" "$cap"
report_valid "$TAP_TMP/o.json" "off"
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
expect_exit 2 "--freq without full" -- "$PKTMEM" replay --freq 99 "$cap"
grep -q "needs --profile full" "$TAP_TMP/err"; ok $? "--freq: says it needs full mode"
expect_exit 2 "--freq 0" -- "$PKTMEM" replay --profile full --freq 0 "$cap"
max=$(cat /proc/sys/kernel/perf_event_max_sample_rate 2>/dev/null || echo 100000)
expect_exit 2 "--freq above perf_event_max_sample_rate" -- "$PKTMEM" replay --profile full --freq $((max + 1)) "$cap"
grep -q "perf_event_max_sample_rate ($max)" "$TAP_TMP/err"; ok $? "--freq: names the sysctl and its value"
done_testing
