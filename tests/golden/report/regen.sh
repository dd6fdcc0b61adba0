#!/bin/sh
# regen.sh: rewrites the golden outputs listed in CASES from the fixtures
# in tests/data/.  Run from anywhere after an intended change to a
# renderer or the fixtures, then review 'git diff tests/golden/report'.
#   tests/golden/report/regen.sh [PKTMEM]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
pktmem=${1:-${PKTMEM:-$src/pktmem}}
data=$src/tests/data
export NO_COLOR=1
grep -v '^#' "$here/CASES" | while IFS='	' read -r name want args; do
	[ -n "$name" ] || continue
	args=$(printf '%s' "$args" | sed "s|@DATA@|$data|g")
	set +e
	# shellcheck disable=SC2086
	"$pktmem" $args >"$here/$name" 2>/dev/null </dev/null
	got=$?
	set -e
	[ "$got" -eq "$want" ] || { echo "regen: $name: exit $got, CASES says $want" >&2; exit 1; }
	echo "regen: $name"
done
