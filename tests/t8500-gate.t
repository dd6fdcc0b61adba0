#!/bin/sh
# t8500: 'pktmem gate' orchestration with a stand-in replayer (a script that
# answers 'replay --json FILE ... CAPTURE' with a report derived from the
# fixture, deterministic small noise, and switches for an extra allocation,
# a slower copy or a failed verification): warm-up discarded, N trials
# merged, --update-baseline, verdicts and exit codes, --against
# interleaving, bad baselines fail before any replay.  Then, when the real
# replay is built and the machine allows it, gate end to end.
. "$(dirname "$0")/tap.sh"

data=$PKTMEM_SRC/tests/data
export NO_COLOR=1
cap=$TAP_TMP/capture.pcap
printf 'not read by the stand-in\n' >"$cap"

# the stand-in's reports, made once: 10 noise levels for each variant
python3 - "$data/report-veth.json" "$TAP_TMP" <<'PY'
import copy, json, sys
src = json.load(open(sys.argv[1]))
noises = [1.0, 1.012, 0.991, 1.006, 0.995, 1.009, 0.997, 1.004, 0.993, 1.011]
variants = {"same": {}, "slow": {"copy": 1.25}, "alloc": {"allocs": 19.0},
            "unverified": {"unverified": True}}
for name, v in variants.items():
    for n, noise in enumerate(noises):
        r = copy.deepcopy(src)
        t = r["trials"][0]
        for st in t["stages"]:
            f = noise * (v.get("copy", 1) if st["name"] == "copy" else 1)
            if st["time_ns"] is not None:
                st["time_ns"] *= f
            for m in st["metrics"]:
                if m["class"] == "timing" and m["value"] is not None:
                    m["value"] *= f
                if m["name"] == "allocs_per_request":
                    m["value"] = v.get("allocs", 18.0)
        t["replay"]["requests_per_s"] /= noise
        if v.get("unverified"):
            t["replay"]["verified"] = False
            t["replay"]["verify_msg"] = "flow 3: server read 100 bytes, capture has 120"
        r["trials"] = [t]
        r.pop("summary", None)
        json.dump(r, open("%s/fake-%s-%d.json" % (sys.argv[2], name, n), "w"))
PY
mkfake() { # mkfake NAME LABEL VARIANT: a pktmem stand-in answering 'replay'
	cat >"$TAP_TMP/$1" <<SH
#!/bin/sh
[ "\$1" = replay ] || exit 2
shift; out=
while [ \$# -gt 1 ]; do case \$1 in --json) out=\$2; shift 2;; *) shift;; esac; done
[ -n "\$FAKE_NOREPORT" ] && { echo 'fake: cannot open capture' >&2; exit 2; }
n=\$(cat "$TAP_TMP/state" 2>/dev/null || echo 0)
echo \$((n + 1)) >"$TAP_TMP/state"
echo $2 >>"$TAP_TMP/log"
cp "$TAP_TMP/fake-$3-\$((n % 10)).json" "\$out"
[ $3 = unverified ] && exit 1
exit 0
SH
	chmod +x "$TAP_TMP/$1"
}
FAKE_STATE=$TAP_TMP/state FAKE_LOG=$TAP_TMP/log
mkfake same N same
mkfake base A same
mkfake slow B slow
mkfake alloc N alloc
mkfake slowcopy N slow
mkfake unverified N unverified
mkdir "$TAP_TMP/tmp"
export TMPDIR=$TAP_TMP/tmp

b=$TAP_TMP/base.json
runs() { cat "$FAKE_STATE" 2>/dev/null || echo 0; }

expect_exit 0 "--update-baseline writes a baseline" -- "$PKTMEM" gate --pktmem "$TAP_TMP/same" --baseline "$b" --update-baseline --report none "$cap"
[ "$(runs)" -eq 6 ]; ok $? "one warm-up and 5 trials ran ($(runs))"
"$PKTMEM" report "$b" >/dev/null 2>&1 && grep -c '"stages"' "$b" | grep -qx 5
ok $? "the baseline validates and holds 5 trials"

cd "$TAP_TMP" || exit 1
expect_exit 0 "the same build passes" -- "$PKTMEM" gate --pktmem "$TAP_TMP/same" --baseline "$b" "$cap"
grep -q '^verdict: pass' "$TAP_TMP/out"; ok $? "says pass"
[ -f "$TAP_TMP/pktmem-gate-report.json" ] && "$PKTMEM" report "$TAP_TMP/pktmem-gate-report.json" >/dev/null
ok $? "writes the merged report (default pktmem-gate-report.json), which validates"
[ -z "$(ls -A "$TMPDIR")" ]; ok $? "no per-trial directory left behind in TMPDIR"

expect_exit 1 "an extra allocation per request fails" -- "$PKTMEM" gate --pktmem "$TAP_TMP/alloc" --baseline "$b" --md "$TAP_TMP/pr.md" --trials 2 --warmup 0 --report none "$cap"
grep -q '^alloc.allocs_per_request *FAIL' "$TAP_TMP/out"; ok $? "on the allocation metric"
grep -q 'regression' "$TAP_TMP/pr.md"; ok $? "--md writes the PR comment"
expect_exit 1 "a 25% slower copy fails on timing (5 vs 5)" -- "$PKTMEM" gate --pktmem "$TAP_TMP/slowcopy" --baseline "$b" --report none "$cap"
grep -q '^copy.ns_per_request *FAIL' "$TAP_TMP/out"; ok $? "on copy.ns_per_request"
expect_exit 0 "... but not with --metric alloc" -- "$PKTMEM" gate --pktmem "$TAP_TMP/slowcopy" --baseline "$b" --metric alloc --trials 2 --report none "$cap"
expect_exit 0 "--metric comma-separated" -- "$PKTMEM" gate --pktmem "$TAP_TMP/slowcopy" --baseline "$b" --metric alloc.allocs_per_request,parse --trials 2 --report none "$cap"
grep -q '^alloc.allocs_per_request *pass' "$TAP_TMP/out" && grep -q '^parse\.' "$TAP_TMP/out" && ! grep -q '^copy\.' "$TAP_TMP/out"
ok $? "... compares exactly those"
expect_exit 2 "--metric matching nothing: exit 2" -- "$PKTMEM" gate --pktmem "$TAP_TMP/same" --baseline "$b" --metric no.such --trials 1 --warmup 0 --report none "$cap"
expect_exit 1 "a trial failing verification fails the gate" -- "$PKTMEM" gate --pktmem "$TAP_TMP/unverified" --baseline "$b" --trials 2 --warmup 0 --report none "$cap"
grep -A2 '^replay.verified *FAIL' "$TAP_TMP/out" | grep -q 'flow 3'; ok $? "with the replay's message"
expect_exit 2 "a trial that does not run: exit 2" -- env FAKE_NOREPORT=1 "$PKTMEM" gate --pktmem "$TAP_TMP/same" --baseline "$b" --report none "$cap"
grep -q "failed (exit 2) without a report" "$TAP_TMP/err"; ok $? "says which trial failed"

# the baseline is checked before any replay
n0=$(runs)
head -c 2000 "$b" >"$TAP_TMP/trunc.json"
expect_exit 2 "truncated baseline: exit 2" -- "$PKTMEM" gate --pktmem "$TAP_TMP/same" --baseline "$TAP_TMP/trunc.json" "$cap"
sed 's|"pktmem.report/1"|"pktmem.report/7"|' "$b" >"$TAP_TMP/v7.json"
expect_exit 3 "baseline of another schema version: exit 3" -- "$PKTMEM" gate --pktmem "$TAP_TMP/same" --baseline "$TAP_TMP/v7.json" "$cap"
[ "$(runs)" -eq "$n0" ]; ok $? "no trial ran for a bad baseline"
sed 's|"via": "mmap", "io"|"via": "socket", "io"|' "$b" >"$TAP_TMP/sock.json"
grep -q '"via": "socket", "io"' "$TAP_TMP/sock.json" || python3 -c '
import json,sys; r=json.load(open(sys.argv[1])); r["opt"]["via"]="socket"; json.dump(r,open(sys.argv[2],"w"))' "$b" "$TAP_TMP/sock.json"
expect_exit 3 "baseline with other options: not comparable" -- "$PKTMEM" gate --pktmem "$TAP_TMP/same" --baseline "$TAP_TMP/sock.json" --trials 1 --report none "$cap"
expect_exit 2 "no baseline: usage" -- "$PKTMEM" gate --pktmem "$TAP_TMP/same" "$cap"
expect_exit 2 "missing capture: usage" -- "$PKTMEM" gate --baseline "$b" "$TAP_TMP/none.pcap"

# acknowledged regressions survive --update-baseline
python3 -c '
import json,sys; r=json.load(open(sys.argv[1]))
r["acknowledged"]=[{"metric":"alloc.allocs_per_request","reason":"tree nodes for #17"}]
json.dump(r,open(sys.argv[1],"w"))' "$b"
expect_exit 0 "an acknowledged allocation regression passes" -- "$PKTMEM" gate --pktmem "$TAP_TMP/alloc" --baseline "$b" --trials 2 --warmup 0 --report none "$cap"
expect_exit 0 "--update-baseline again" -- "$PKTMEM" gate --pktmem "$TAP_TMP/same" --baseline "$b" --update-baseline --trials 3 --report none "$cap"
grep -q 'tree nodes for #17' "$b"; ok $? "keeps the acknowledged regressions"

# --against: interleaved, the other build is the baseline
: >"$FAKE_LOG"
expect_exit 1 "--against: a slower build against the old one fails" -- "$PKTMEM" gate --pktmem "$TAP_TMP/slow" --against "$TAP_TMP/base" --trials 5 --report none "$cap"
order=$(tr -d '\n' <"$FAKE_LOG")
[ "$order" = "ABBAABBAABBA" ]; ok $? "trials interleaved A B B A ... ($order)"
expect_exit 0 "--against the same build passes" -- "$PKTMEM" gate --pktmem "$TAP_TMP/base" --against "$TAP_TMP/same" --trials 2 --report none "$cap"

# the dogfood baseline (tests/gate-dogfood.sh) validates and belongs to the
# fixture as it is now (regenerating the fixture needs a new baseline)
db=$PKTMEM_SRC/bench/baseline/synth-cl.json
"$PKTMEM" report "$db" >/dev/null 2>&1; ok $? "the committed dogfood baseline validates"
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cap"]["sha256"])' "$db")" = \
  "$(sha256sum <"$PKTMEM_SRC/fixtures/synth-cl.pcap" | cut -d' ' -f1)" ]
ok $? "... and its capture hash is fixtures/synth-cl.pcap's"

# --- end to end on the real replay ---
# 'pktmem replay --json' writes a pktmem.report/1; gate runs it per trial.
# A small fixture and 5 trials keep this to seconds.  The same-build case
# gates the exact-count metrics (deterministic for a build and capture):
# timing and timing-sensitive counts of two runs on a shared machine are
# not something a test may assert.
E2E_N=8
cap2=$PKTMEM_SRC/fixtures/synth-cl.pcap
other=$PKTMEM_SRC/fixtures/synth-none.pcap
EXACT='copy.copy_bytes,copy.bytes_per_request,parse.parse_calls_per_request,alloc.allocations,alloc.alloc_bytes,alloc.allocs_per_request,alloc.alloc_bytes_per_request,alloc.peak_live_bytes,write.bytes_per_request,replay.verified'
e2e_skip() { i=0; while [ $i -lt $E2E_N ]; do skip "end to end: $1"; i=$((i + 1)); done; }
if ! is_root; then
	e2e_skip "needs root (the veth path in private namespaces)"
elif [ ! -f "$cap2" ] || [ ! -f "$other" ]; then
	e2e_skip "fixtures/synth-cl.pcap or synth-none.pcap missing"
elif ! "$PKTMEM" replay --quiet --json "$TAP_TMP/probe.json" "$cap2" >"$TAP_TMP/probe.out" 2>&1; then
	e2e_skip "replay cannot run here: $(tail -1 "$TAP_TMP/probe.out")"
else
	e=$TAP_TMP/e2e.json
	expect_exit 0 "end to end: --update-baseline from the real replay" -- "$PKTMEM" gate --baseline "$e" --update-baseline --trials 5 --report none "$cap2"
	expect_exit 0 "end to end: the same build passes on the exact-count metrics" -- "$PKTMEM" gate --baseline "$e" --trials 5 --metric "$EXACT" --report none "$cap2"
	[ $? -eq 0 ] || grep -v ' pass ' "$TAP_TMP/out" | sed 's/^/#   /' >&2
	[ "$(grep -c '^[a-z]*\.[a-z_]* *pass ' "$TAP_TMP/out")" -eq 10 ]; ok $? "end to end: ... all 10 named metrics compared"
	expect_exit 1 "end to end: one more allocation per request (--test-extra-alloc) fails" -- "$PKTMEM" gate --baseline "$e" --trials 5 --report none --md "$TAP_TMP/e2e.md" --test-extra-alloc "$cap2"
	grep -q '^alloc.allocs_per_request *FAIL' "$TAP_TMP/out"; ok $? "end to end: ... on alloc.allocs_per_request"
	expect_exit 3 "end to end: a baseline of another capture is not comparable" -- "$PKTMEM" gate --baseline "$e" --trials 1 --warmup 0 --report none "$other"
	grep -q 'capture' "$TAP_TMP/out" "$TAP_TMP/err"; ok $? "end to end: ... and says the capture differs"
	head -c 3000 "$e" >"$TAP_TMP/e2e-bad.json"
	expect_exit 2 "end to end: a malformed baseline: exit 2" -- "$PKTMEM" gate --baseline "$TAP_TMP/e2e-bad.json" --report none "$cap2"
fi
cd / && done_testing
