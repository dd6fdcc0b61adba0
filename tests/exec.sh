# exec.sh: helpers for the t95xx tests of `replay --exec/--target`
# (sourced after tap.sh).
F="$PKTMEM_SRC/fixtures"
HELP="$PKTMEM_BUILD/tests/helpers"
export PKTMEM_PRELOAD="$PKTMEM_BUILD/libpktmem-alloc.so"
# Python: Debian's, when there, not a slower shim earlier in PATH.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
# flat FILE: the JSON file as KEY.KEY=value lines (one Python start per run)
flat() {
	$PY -c 'import json,sys
def walk(p,v):
    if isinstance(v,dict):
        for k,x in v.items(): walk(p+[k],x)
    else: print(".".join(p)+"="+(str(v).lower() if isinstance(v,bool) else str(v)))
walk([],json.load(open(sys.argv[1])))' "$1"
}
# jget FILE KEY.KEY...: one value of the last flattened JSON
jget() {
	sed -n "s/^$2=//p" "$TAP_TMP/j.flat" | head -n 1
}
# is KEY WANT DESC: a value of the last replay's JSON
is() {
	got=$(jget "$TAP_TMP/j.json" "$1")
	[ "$got" = "$2" ]; ok $? "$3: $1 = $got (want $2)"
}
# free_port: a TCP port nothing listens on now (bound to 0 and closed)
free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# wait_port PORT: until 127.0.0.1:PORT accepts (at most 5 s); a replay
# would do, but its copy check fails a server that never reads
wait_port() {
	$PY -c 'import socket, sys, time
for i in range(100):
    try: socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2).close(); sys.exit(0)
    except OSError: time.sleep(0.05)
sys.exit(1)' "$1"
}
# stage FILE STAGE [METRIC]: from a --json report, the stage's
# available/count/bytes/reason, or the metric's value ("na" unavailable)
stage() {
	$PY -c 'import json, sys
st = [s for s in json.load(open(sys.argv[1]))["trials"][0]["stages"] if s["name"] == sys.argv[2]][0]
if len(sys.argv) > 3:
    m = [x for x in st["metrics"] if x["name"] == sys.argv[3]]
    print("missing" if not m else ("%.6g" % m[0]["value"]) if m[0]["available"] else "na")
else:
    print(str(st["available"]).lower(), st["count"], st["bytes"], st["reason"] + "|" + st["note"])' "$@"
}
# replay_json DESC ARGS...: runs pktmem replay -q --json, expects exit 0
replay_json() {
	desc=$1; shift
	"$PKTMEM" replay -q --summary-json "$TAP_TMP/j.json" "$@" >"$TAP_TMP/out" 2>"$TAP_TMP/err"; rc=$?
	[ "$rc" -eq 0 ] && grep -q '^  verify      ok' "$TAP_TMP/out"
	ok $? "$desc: replayed and verified (exit $rc)"
	[ "$rc" -eq 0 ] || sed 's/^/#   /' "$TAP_TMP/out" "$TAP_TMP/err" >&2
	[ -s "$TAP_TMP/j.json" ] || echo '{}' >"$TAP_TMP/j.json"
	flat "$TAP_TMP/j.json" >"$TAP_TMP/j.flat"
	prev=
	for a in "$@"; do
		[ "$prev" = --json ] && report_valid "$a" "$desc"
		prev=$a
	done
}
