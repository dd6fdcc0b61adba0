#!/bin/sh
# t8400: 'pktmem compare': exit codes 0 pass, 1 regression, 2 usage or bad
# input, 3 not comparable, 4 inconclusive with --strict; the reason on
# stderr; --md, --json, --tap, --metric, --threshold; acknowledged
# regressions; advisory timings from another machine.
. "$(dirname "$0")/tap.sh"

data=$PKTMEM_SRC/tests/data
export NO_COLOR=1
base=$data/report-veth.json

expect_exit 0 "same build: pass" -- "$PKTMEM" compare "$base" "$data/report-veth-b.json"
grep -q '^verdict: pass' "$TAP_TMP/out"; ok $? "says pass"
expect_exit 1 "an added allocation per request: regression" -- "$PKTMEM" compare "$base" "$data/report-veth-regressed.json"
grep -q '^alloc.allocs_per_request *FAIL' "$TAP_TMP/out"; ok $? "names the allocation metric"
expect_exit 0 "timing alone with 3 vs 3 trials: inconclusive, exit 0" -- "$PKTMEM" compare --metric copy.ns_per_request "$base" "$data/report-veth-regressed.json"
grep -q "inconclusive" "$TAP_TMP/err"; ok $? "warns that it is inconclusive"
expect_exit 4 "the same with --strict: exit 4" -- "$PKTMEM" compare --strict --metric copy.ns_per_request "$base" "$data/report-veth-regressed.json"

# not comparable: options, capture, schema version
expect_exit 3 "other options: not comparable" -- "$PKTMEM" compare "$base" "$data/report-socket.json"
grep -q "not comparable: different options: via 'mmap' vs 'socket'" "$TAP_TMP/err"; ok $? "names the option"
sed 's|"sha256": "5d1f|"sha256": "9d1f|' "$data/report-veth-b.json" >"$TAP_TMP/othercap.json"
expect_exit 3 "another capture: not comparable" -- "$PKTMEM" compare "$base" "$TAP_TMP/othercap.json"
grep -q "different captures" "$TAP_TMP/err"; ok $? "says the captures differ"
sed 's|"pktmem.report/1"|"pktmem.report/2"|' "$base" >"$TAP_TMP/v2.json"
expect_exit 3 "baseline of another schema version: not comparable" -- "$PKTMEM" compare "$TAP_TMP/v2.json" "$data/report-veth-b.json"
grep -q "pktmem.report/2" "$TAP_TMP/err"; ok $? "names the version"

# bad input
head -c 3000 "$base" >"$TAP_TMP/trunc.json"
expect_exit 2 "truncated baseline: exit 2" -- "$PKTMEM" compare "$TAP_TMP/trunc.json" "$data/report-veth-b.json"
grep -q "^pktmem: compare: baseline '$TAP_TMP/trunc.json': not valid JSON (truncated)" "$TAP_TMP/err"; ok $? "one line with the reason"
sed 's|"trials": \[|"trials": 7, "x": [|' "$base" >"$TAP_TMP/type.json"
expect_exit 2 "trials of the wrong type: exit 2" -- "$PKTMEM" compare "$base" "$TAP_TMP/type.json"
grep -q "new report .*field 'trials' must be an array" "$TAP_TMP/err"; ok $? "names the field"
expect_exit 2 "one report: usage" -- "$PKTMEM" compare "$base"
expect_exit 2 "bad threshold: usage" -- "$PKTMEM" compare --threshold lots "$base" "$base"
expect_exit 2 "--metric matching nothing" -- "$PKTMEM" compare --metric nope "$base" "$base"
expect_exit 2 "missing file" -- "$PKTMEM" compare "$base" "$TAP_TMP/none.json"

# outputs
expect_exit 1 "--md and --json files" -- "$PKTMEM" compare "$base" "$data/report-veth-regressed.json" --md "$TAP_TMP/v.md" --json "$TAP_TMP/v.json"
grep -q '^## pktmem gate: ❌ regression' "$TAP_TMP/v.md" && grep -q '| `alloc.allocs_per_request` | exact | ❌ \*\*FAIL\*\*' "$TAP_TMP/v.md"
ok $? "Markdown: verdict and the failing metric"
grep -Eq 'https?://' "$TAP_TMP/v.md"; [ $? -ne 0 ]; ok $? "Markdown links to nothing external"
python3 -c '
import json,sys
v=json.load(open(sys.argv[1]))
m={i["name"]:i for i in v["metrics"]}
assert v["schema"]=="pktmem.verdict/1" and v["overall"]=="FAIL", v["overall"]
assert m["alloc.allocs_per_request"]["status"]=="FAIL"
assert m["copy.ns_per_request"]["status"]=="inconclusive"
assert m["copy.cycles_per_byte"]["status"]=="skipped" and "no PMU" in m["copy.cycles_per_byte"]["why"]
' "$TAP_TMP/v.json"; ok $? "JSON verdict: schema, overall, per-metric status"
expect_exit 1 "--tap" -- "$PKTMEM" compare --tap "$base" "$data/report-veth-regressed.json"
n=$(sed -n 's/^1\.\.//p' "$TAP_TMP/out")
[ "$(grep -c '^\(not \)\{0,1\}ok ' "$TAP_TMP/out")" -eq "$n" ] && [ "$(grep -c '^not ok' "$TAP_TMP/out")" -eq 1 ] &&
	grep -q '^not ok [0-9]* - alloc.allocs_per_request' "$TAP_TMP/out"
ok $? "--tap: a plan, one line per metric, the regression as 'not ok'"
if command -v prove >/dev/null; then
	cp "$TAP_TMP/out" "$TAP_TMP/verdict.tap"
	prove -e cat "$TAP_TMP/verdict.tap" >"$TAP_TMP/prove.out" 2>&1
	grep -q "Failed 1/" "$TAP_TMP/prove.out"; ok $? "a TAP consumer (prove) reads it and sees one failure"
else
	skip "prove missing"
fi

# acknowledged regression in the baseline
python3 -c '
import json,sys
r=json.load(open(sys.argv[1]))
r["acknowledged"]=[{"metric":"alloc.allocs_per_request","reason":"one more node per request for #17"}]
json.dump(r,open(sys.argv[2],"w"),indent=1)
' "$base" "$TAP_TMP/acked.json"
expect_exit 0 "an acknowledged regression passes" -- "$PKTMEM" compare --metric alloc "$TAP_TMP/acked.json" "$data/report-veth-regressed.json"
grep -A2 '^alloc.allocs_per_request *acknowledged' "$TAP_TMP/out" | tr '\n' ' ' | grep -q "acknowledged (one more node per request for #17)"; ok $? "with the baseline's reason"

# five trials a side: a 25% copy slowdown is a timing regression; from
# another machine it is only advisory; above --threshold 30% it passes
python3 -c '
import json,sys,copy
r=json.load(open(sys.argv[1]))
def five(r, f, fp=None):
    out=copy.deepcopy(r)
    base=r["trials"][0]
    out["trials"]=[]
    for k in (1.0,1.01,0.99,1.02,0.98):
        t=copy.deepcopy(base)
        for st in t["stages"]:
            if st["name"]=="copy":
                st["time_ns"]*=k*f
                for m in st["metrics"]:
                    if m["name"]=="ns_per_request": m["value"]*=k*f
        out["trials"].append(t)
    if fp: out["env"]["fingerprint"]=fp
    return out
json.dump(five(r,1.0),open(sys.argv[2]+"/b5.json","w"))
json.dump(five(r,1.25),open(sys.argv[2]+"/n5.json","w"))
json.dump(five(r,1.25,"f"*64),open(sys.argv[2]+"/n5other.json","w"))
' "$base" "$TAP_TMP"
expect_exit 1 "5 vs 5 trials, copy 25% slower: regression" -- "$PKTMEM" compare "$TAP_TMP/b5.json" "$TAP_TMP/n5.json"
grep -A1 '^copy.ns_per_request *FAIL' "$TAP_TMP/out" | grep -q 'p = 0.0040'; ok $? "the timing metric fails with p = 1/252"
expect_exit 0 "the same against another machine's baseline: advisory" -- "$PKTMEM" compare "$TAP_TMP/b5.json" "$TAP_TMP/n5other.json"
grep -A1 '^copy.ns_per_request *warning' "$TAP_TMP/out" | grep -q 'advisory'; ok $? "a warning, not a failure"
expect_exit 0 "--threshold 30%: within the threshold" -- "$PKTMEM" compare --threshold 30% "$TAP_TMP/b5.json" "$TAP_TMP/n5.json"
done_testing
