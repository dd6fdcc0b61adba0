#!/bin/sh
# gate-dogfood.sh: pktmem gates itself.  Replays fixtures/synth-cl.pcap
# (3 flows, 12 JSON POSTs) with this build and compares the exact-count
# metrics (bytes copied, parse calls, allocations and allocated bytes,
# bytes written, per request and in total; plus the replay's verification)
# with the baseline committed in bench/baseline/synth-cl.json.  Only exact
# counts are gated: they are deterministic for a build and capture, so the
# verdict holds on any machine; timings from the baseline's machine would be
# advisory anyway.  Exits with gate's code: 0 pass, 1 regression, 2 usage or
# a trial that did not run, 3 not comparable (another capture or options).
#
# Needs root: the baseline was made on the veth path (--via mmap); without
# root replay falls back to --via socket and the gate says "not comparable".
#
# Usage: tests/gate-dogfood.sh [--update]   (PKTMEM=path overrides ./pktmem)
#   --update   rewrite the baseline from this build (after an intended change
#              of an exact count; say why in the commit)
# Writes build/gate.md (the PR comment) and build/gate-report.json.
root=$(cd "$(dirname "$0")/.." && pwd) || exit 2
cd "$root" || exit 2
P=${PKTMEM:-./pktmem}
BASE=bench/baseline/synth-cl.json
CAP=fixtures/synth-cl.pcap
EXACT=copy.copy_bytes,copy.server_bytes_read,copy.capture_payload_bytes,copy.bytes_per_request
EXACT=$EXACT,parse.parse_calls_per_request
EXACT=$EXACT,alloc.allocations,alloc.alloc_bytes,alloc.allocs_per_request,alloc.alloc_bytes_per_request,alloc.peak_live_bytes
EXACT=$EXACT,write.bytes_per_request,replay.verified

[ "$(id -u)" = 0 ] || echo "gate-dogfood: not root: the replay will use --via socket and not be comparable with $BASE (made on the veth path)" >&2
mkdir -p build || exit 2
if [ "${1:-}" = --update ]; then
	exec "$P" gate --baseline "$BASE" --update-baseline --trials 5 --report none "$CAP"
fi
"$P" gate --baseline "$BASE" --trials 3 --metric "$EXACT" --md build/gate.md \
	--report build/gate-report.json --color never "$CAP"
rc=$?
echo "gate-dogfood: exit $rc (summary in build/gate.md)" >&2
exit $rc
