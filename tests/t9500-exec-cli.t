#!/bin/sh
# t9500: replay --exec/--target option checks (no privileges needed): every
# bad combination is a usage error (exit 2) that says what is wrong.
. "$(dirname "$0")/tap.sh"
F="$PKTMEM_SRC/fixtures/synth-cl.pcap"

expect_exit 2 "--exec without --port" -- "$PKTMEM" replay --exec 'true' "$F"
grep -q -- '--exec needs --port' "$TAP_TMP/err"; ok $? "says --port is needed"
expect_exit 2 "--exec and --target" -- "$PKTMEM" replay --exec 'true' --port 80 --target 127.0.0.1:80 "$F"
expect_exit 2 "--netns with --exec" -- "$PKTMEM" replay --exec 'true' --port 80 --netns x "$F"
expect_exit 2 "--port alone" -- "$PKTMEM" replay --port 80 "$F"
expect_exit 2 "--port 0" -- "$PKTMEM" replay --exec true --port 0 "$F"
expect_exit 2 "--target without a port" -- "$PKTMEM" replay --target 127.0.0.1 "$F"
grep -q "numeric HOST:PORT" "$TAP_TMP/err"; ok $? "says what HOST:PORT looks like"
expect_exit 2 "--target with a name" -- "$PKTMEM" replay --target localhost:80 "$F"
expect_exit 2 "--target with --port" -- "$PKTMEM" replay --target 127.0.0.1:80 --port 80 "$F"
expect_exit 2 "--target with --via mmap" -- "$PKTMEM" replay --target 127.0.0.1:80 --via mmap "$F"
grep -q 'TCP sockets' "$TAP_TMP/err"; ok $? "says --target goes over sockets"
expect_exit 2 "--exec with --server" -- "$PKTMEM" replay --exec true --port 80 --server echo "$F"
expect_exit 2 "--ready-timeout x" -- "$PKTMEM" replay --exec true --port 80 --ready-timeout x "$F"
expect_exit 2 "--netns that does not exist" -- "$PKTMEM" replay --target 127.0.0.1:80 \
	--netns pktmem-t9500-none-$$ "$F"
grep -q "pktmem-t9500-none-$$" "$TAP_TMP/err"; ok $? "names the namespace"
"$PKTMEM" replay --help | grep -q -- '--exec'; ok $? "--help lists --exec"
done_testing
