#!/bin/sh
# t0001: the command table: --version, --help, unknown commands, every
# command answers --help with exit 0; the dispatcher's check of standard
# output; the options tables' usage errors.
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
# the dispatcher checks standard output after every command (a full disk
# is a failure), once: one message, even where a command checks it too
if [ -w /dev/full ]; then
	for c in replay inspect serve compare gate report synth doctor; do
		"$PKTMEM" $c --help >/dev/full 2>"$TAP_TMP/err"; rc=$?
		[ $rc -eq 2 ] && [ "$(wc -l <"$TAP_TMP/err")" -eq 1 ] &&
			grep -q "^pktmem: $c: writing standard output: No space left on device" "$TAP_TMP/err"
		ok $? "$c --help > /dev/full: exit 2 (got $rc), one line naming the command"
	done
else
	for c in replay inspect serve compare gate report synth doctor; do skip "no writable /dev/full"; done
fi
# options tables (lib/opts.h): an unknown option or a missing value is one
# line naming the command and where to look, exit 2
for c in inspect serve compare gate report synth; do
	expect_exit 2 "$c --no-such-option" -- "$PKTMEM" $c --no-such-option
	[ "$(wc -l <"$TAP_TMP/err")" -eq 1 ] &&
		grep -q "^pktmem: $c: unknown option '--no-such-option'; see 'pktmem $c --help'\$" "$TAP_TMP/err"
	ok $? "$c --no-such-option: one line, the option and the hint"
done
expect_exit 2 "serve --listen without a value" -- "$PKTMEM" serve --listen
grep -q "^pktmem: serve: option '--listen' needs a value; see 'pktmem serve --help'\$" "$TAP_TMP/err"
ok $? "... says the value is missing"
expect_exit 2 "serve --max-conns 0" -- "$PKTMEM" serve --max-conns 0
grep -q "^pktmem: serve: --max-conns '0': want a whole number from 1 to 1000000" "$TAP_TMP/err"
ok $? "... says the range"
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
