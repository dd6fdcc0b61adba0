#!/bin/sh
# t0001: the command table: --version, --help, unknown commands, every
# command answers --help with exit 0.
. "$(dirname "$0")/tap.sh"

expect_exit 0 "--version" -- "$PKTMEM" --version
grep -qE '^pktmem [0-9]+\.[0-9]+\.[0-9]+ \(git [0-9a-f]+' "$TAP_TMP/out"; ok $? "--version names version and git revision"
expect_exit 0 "--help" -- "$PKTMEM" --help
for c in replay inspect serve compare gate report synth doctor; do
	grep -q "^  $c " "$TAP_TMP/out"; ok $? "--help lists $c"
done
expect_exit 2 "no command is a usage error" -- "$PKTMEM"
expect_exit 2 "unknown command" -- "$PKTMEM" frobnicate
grep -q "'frobnicate' is not a pktmem command" "$TAP_TMP/err"; ok $? "unknown command named in the error"
for c in replay inspect serve compare gate report synth doctor; do
	expect_exit 0 "$c --help" -- "$PKTMEM" $c --help
	grep -qi "usage: pktmem $c" "$TAP_TMP/out"; ok $? "$c --help prints its usage"
done
done_testing
