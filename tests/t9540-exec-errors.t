#!/bin/sh
# t9540: --exec commands that go wrong get a clear error and exit 2: one
# that never listens (after --ready-timeout), one that exits at once, one
# that does not exist; one that dies during the replay fails verification
# (exit 1) and says so.  Nothing is left running.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/exec.sh"
is_root || skip_all "needs root (network namespaces, veth, packet sockets)"

expect_exit 2 "a command that never listens" -- "$PKTMEM" replay -q --exec "sleep 300 # t9540-$$" \
	--port 8080 --ready-timeout 1 "$F/synth-cl.pcap"
grep -q "'sleep 300 # t9540-$$' did not accept connections on port 8080 within 1.0 s" "$TAP_TMP/err"
ok $? "never listens: says so, with the command, the port and the deadline"
pgrep -f "t9540-$$" >/dev/null; [ $? -ne 0 ]; ok $? "never listens: the command was stopped"

expect_exit 2 "a command that exits at once" -- "$PKTMEM" replay -q --exec "exit 3" --port 8080 \
	"$F/synth-cl.pcap"
grep -q "'exit 3' exited with status 3 before it accepted connections on port 8080" "$TAP_TMP/err"
ok $? "exits at once: says how it exited"

expect_exit 2 "a command that does not exist" -- "$PKTMEM" replay -q \
	--exec "/nonexistent/pktmem-t9540-server" --port 8080 "$F/synth-cl.pcap"
grep -q "exited with status 127 before it accepted" "$TAP_TMP/err"
ok $? "does not exist: the shell's 127"

expect_exit 2 "listens on another port" -- "$PKTMEM" replay -q \
	--exec "$HELP/allocserver 8081 1" --port 8080 --ready-timeout 1 "$F/synth-cl.pcap"
grep -q "did not accept connections on port 8080" "$TAP_TMP/err"; ok $? "another port: says so"

# killed by a signal before listening
expect_exit 2 "killed before listening" -- "$PKTMEM" replay -q --exec 'kill -9 $$' --port 8080 \
	"$F/synth-cl.pcap"
grep -q "was killed by signal 9" "$TAP_TMP/err"; ok $? "killed: names the signal"

# exits during the replay: allocserver answers, then everything stops
# after a delay the replay outlasts (demo.pcap spans 22 ms: at 0.01x, 2.2 s)
expect_exit 1 "exits during the replay" -- "$PKTMEM" replay -q --speed 0.01x \
	--exec "timeout -s KILL 0.5 $HELP/allocserver 8080 1" --port 8080 "$F/demo.pcap"
grep -q "EXITED during the replay" "$TAP_TMP/out"; ok $? "exits during: the summary says so"
grep -q "verify      FAILED" "$TAP_TMP/out"; ok $? "exits during: verification fails"
done_testing
