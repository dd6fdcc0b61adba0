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
# make deps (README's first step): only missing packages; a user who is not
# root is told the sudo line and nothing claims to install
if ! command -v make >/dev/null 2>&1; then
	skip "make not installed"; skip "make not installed"; skip "make not installed"
else
	make -s -C "$PKTMEM_SRC" deps DEBS=dpkg >"$TAP_TMP/out" 2>&1
	[ $? -eq 0 ] && grep -q "^deps: all 1 packages present" "$TAP_TMP/out"
	ok $? "make deps: nothing missing, says so, exit 0"
	if is_root && command -v setpriv >/dev/null 2>&1 &&
	   setpriv --reuid 65534 --regid 65534 --clear-groups test -r "$PKTMEM_SRC/Makefile"; then
		setpriv --reuid 65534 --regid 65534 --clear-groups \
			make -s -C "$PKTMEM_SRC" deps DEBS="dpkg pktmem-no-such-package" >"$TAP_TMP/out" 2>&1
		rc=$?
		[ $rc -ne 0 ] && grep -q "not root: run 'sudo make deps'" "$TAP_TMP/out" &&
			grep -q "pktmem-no-such-package" "$TAP_TMP/out"
		ok $? "make deps as a user: fails, names the missing package and the sudo line"
		grep -q "installing" "$TAP_TMP/out"; [ $? -ne 0 ]
		ok $? "make deps as a user: does not say it is installing"
	else
		skip "needs root and setpriv to run make deps as another user"
		skip "needs root and setpriv to run make deps as another user"
	fi
fi
done_testing
