#!/bin/sh
# t7400: 'pktmem doctor': the JSON parses and names every probe, the exit
# code matches its verdict, the table has one line per probe, and without
# privileges the missing probes say how to fix them.
. "$(dirname "$0")/tap.sh"

command -v python3 >/dev/null 2>&1 || skip_all "needs python3 to parse JSON"

"$PKTMEM" doctor --json "$TAP_TMP/d.json" >"$TAP_TMP/table" 2>"$TAP_TMP/err"; rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]; ok $? "doctor exits 0 or 1 (got $rc)"

python3 - "$TAP_TMP/d.json" "$rc" >"$TAP_TMP/py" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rc = int(sys.argv[2])
names = [p["name"] for p in d["probes"]]
want = ["privileges", "perf_event_paranoid", "pmu", "libpfm4", "tracefs",
        "tracepoint irq:irq_handler_entry", "tracepoint irq:irq_handler_exit",
        "tracepoint irq:softirq_entry", "tracepoint irq:softirq_exit",
        "tracepoint napi:napi_poll", "tracepoint net:netif_receive_skb",
        "tracepoint raw_syscalls:sys_enter", "tracepoint raw_syscalls:sys_exit",
        "tracepoint skb:skb_copy_datagram_iovec", "tracepoint sock:sock_recv_length",
        "tracepoint kmem:kmalloc", "tracepoint kmem:kmem_cache_alloc",
        "sampling cpu-clock (all CPUs)", "bpf on tracepoints",
        "bpf counter read (software)", "bpf counter read (PMU)", "io_uring",
        "netns", "veth", "packet_mmap_tx"]
assert d["schema"] == "pktmem.doctor/1", d["schema"]
missing = [w for w in want if w not in names]
assert not missing, "probes not named: %s" % missing
for p in d["probes"]:
    assert p["status"] in ("ok", "warn", "missing", "info"), p
    assert p["detail"], p
    if p["status"] in ("missing", "warn"):
        assert p["fix"], "no fix for %s" % p["name"]
req_missing = [p["name"] for p in d["probes"] if p["required"] and p["status"] == "missing"]
assert d["can_replay"] == (not req_missing), (d["can_replay"], req_missing)
assert (rc == 0) == d["can_replay"], (rc, d["can_replay"])
print("ok")
PY
ok $? "JSON parses, names every probe, each not-ok probe has a fix, exit matches verdict"
[ $? -eq 0 ] || sed 's/^/# /' "$TAP_TMP/py" >&2

n=$(grep -cE '^(ok|warn|missing|info) ' "$TAP_TMP/table")
[ "$n" -ge 25 ]; ok $? "table: one line per probe ($n)"
grep -q '^verdict: ' "$TAP_TMP/table"; ok $? "table ends with a verdict"

"$PKTMEM" doctor --json - >"$TAP_TMP/stdout.json" 2>/dev/null
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TAP_TMP/stdout.json"
ok $? "--json - writes only JSON to stdout"

expect_exit 2 "unknown option is a usage error" -- "$PKTMEM" doctor --bogus

# Unprivileged: drop to nobody with no capabilities.
if is_root && command -v setpriv >/dev/null 2>&1; then
	chmod 711 "$TAP_TMP" && mkdir "$TAP_TMP/u" && chmod 777 "$TAP_TMP/u"
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
		"$PKTMEM" doctor --json "$TAP_TMP/u/u.json" >"$TAP_TMP/utable" 2>&1; urc=$?
	[ "$urc" -eq 1 ]; ok $? "unprivileged: exit 1 (got $urc)"
	python3 - "$TAP_TMP/u/u.json" >"$TAP_TMP/upy" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p = {x["name"]: x for x in d["probes"]}
assert not d["can_replay"]
assert p["privileges"]["status"] == "missing" and "setcap" in p["privileges"]["fix"], p["privileges"]
par = p["perf_event_paranoid"]
import os
if int(open("/proc/sys/kernel/perf_event_paranoid").read()) > -1:
    assert par["status"] == "missing" and "perf_event_paranoid" in par["fix"], par
    tp = p["tracepoint irq:softirq_entry"]
    assert tp["status"] == "missing" and "perf_event_paranoid" in tp["detail"], tp
assert p["netns"]["status"] == "missing", p["netns"]
print("ok")
PY
	ok $? "unprivileged: privileges, paranoid, tracepoints, netns missing with fixes"
	[ $? -eq 0 ] || sed 's/^/# /' "$TAP_TMP/upy" >&2
else
	skip "needs root and setpriv to drop privileges"
	skip "needs root and setpriv to drop privileges"
fi
done_testing
