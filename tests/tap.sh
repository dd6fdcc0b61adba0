# tap.sh: TAP helpers for pktmem's shell tests (sourced).  No version line.
# PKTMEM is the binary under test (set by make check); default ./pktmem.
: "${PKTMEM_SRC:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${PKTMEM:=$PKTMEM_SRC/pktmem}"
: "${PKTMEM_BUILD:=$PKTMEM_SRC/build/std}"
tap_n=0
tap_fail=0
plan() { echo "1..$1"; }
ok() { # ok COND-EXIT-STATUS DESCRIPTION
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $tap_n - $2"; else echo "not ok $tap_n - $2"; tap_fail=$((tap_fail + 1)); fi
}
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP $1"; }
skip_all() { echo "1..0 # SKIP $1"; exit 0; }
diag() { echo "# $*" >&2; }
# expect_exit WANT DESCRIPTION -- CMD...: runs CMD, checks its exit code.
expect_exit() {
	want=$1; desc=$2; shift 3
	"$@" >"$TAP_TMP/out" 2>"$TAP_TMP/err"; got=$?
	[ "$got" -eq "$want" ]; ok $? "$desc (exit $got, want $want)"
	[ "$got" -eq "$want" ] || { diag "stderr:"; sed 's/^/#   /' "$TAP_TMP/err" >&2; }
}
# report_valid FILE DESC: 'pktmem report' reads FILE back: schema name and
# version, required fields, types (every report a test writes
# validates, not only the fixed ones in tests/data).
report_valid() {
	"$PKTMEM" report "$1" >/dev/null 2>"$TAP_TMP/verr"; rv=$?
	ok $rv "$2: the report validates ('pktmem report' reads it)"
	[ $rv -eq 0 ] || sed 's/^/#   /' "$TAP_TMP/verr" >&2
}
# unwrap FILE: replay's summary with its wrapped lines (100 columns,
# continued under the value column, 14 spaces in) joined again, for grep
unwrap() {
	awk '/^              [^ ]/ && NR > 1 { sub(/^ +/, " "); line = line $0; next }
	     NR > 1 { print line } { line = $0 } END { if (NR) print line }' "$1"
}
done_testing() { echo "1..$tap_n"; [ "$tap_fail" -eq 0 ]; }
TAP_TMP=$(mktemp -d)
trap 'rm -rf "$TAP_TMP"' EXIT
is_root() { [ "$(id -u)" = 0 ]; }
