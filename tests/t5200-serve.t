#!/bin/sh
# t5200: 'pktmem serve' with real clients over loopback: curl keep-alive
# (several URLs on one connection), a chunked upload, a JSON POST, each
# --io mode; a short wrk run without errors; SIGUSR1 prints the stage
# table; SIGTERM stops cleanly; the seccomp filter is on; --json has exact per-connection counts.
. "$(dirname "$0")/tap.sh"

command -v curl >/dev/null || skip_all "curl not installed"

# start_server ARGS...: sets SPID and PORT (listens on 127.0.0.1:0)
start_server() {
	rm -f "$TAP_TMP/port" "$TAP_TMP/err"
	"$PKTMEM" serve --listen 127.0.0.1:0 --ready-fd 3 "$@" 3>"$TAP_TMP/port" 2>"$TAP_TMP/err" &
	SPID=$!
	i=0
	while [ ! -s "$TAP_TMP/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	PORT=$(cat "$TAP_TMP/port" 2>/dev/null)
}
stop_server() {
	kill -TERM "$SPID" 2>/dev/null
	wait "$SPID"
}

{ printf '["'; head -c 2996 /dev/zero | tr '\0' 'x'; printf '"]'; } >"$TAP_TMP/upload"
printf '{"user":{"id":7,"tags":["a","b"],"ok":true},"n":[1,2.5,-3]}' >"$TAP_TMP/doc.json"

for io in blocking epoll uring; do
	start_server --io "$io"
	[ -n "$PORT" ]; ok $? "$io: listening, port on --ready-fd"
	grep -q "listening on 127.0.0.1:$PORT " "$TAP_TMP/err"; ok $? "$io: bound address on stderr"
	# core/sandbox.h: serve installs the server's seccomp filter once listening
	grep -q '^Seccomp:[[:space:]]*2$' "/proc/$SPID/status"; ok $? "$io: serving under the seccomp filter"
	curl -sS -v "http://127.0.0.1:$PORT/a" "http://127.0.0.1:$PORT/b" "http://127.0.0.1:$PORT/c" \
		>"$TAP_TMP/out" 2>"$TAP_TMP/cerr"
	[ "$(grep -c '{"bytes":0,"fields":0}' "$TAP_TMP/out")" = 3 ]; ok $? "$io: curl: three GETs answered"
	[ "$(grep -c 'Re-using existing connection' "$TAP_TMP/cerr")" = 2 ]; ok $? "$io: curl: one keep-alive connection"
	curl -sS -H 'Transfer-Encoding: chunked' --data-binary @"$TAP_TMP/upload" \
		"http://127.0.0.1:$PORT/up" >"$TAP_TMP/out" 2>&1
	grep -q '{"bytes":3000,"fields":2}' "$TAP_TMP/out"; ok $? "$io: curl: chunked upload de-chunked (3000 bytes)"
	curl -sS -H 'Content-Type: application/json' --data-binary @"$TAP_TMP/doc.json" \
		"http://127.0.0.1:$PORT/json" >"$TAP_TMP/out" 2>&1
	grep -q '{"bytes":59,"fields":11}' "$TAP_TMP/out"; ok $? "$io: curl: JSON POST deserialized (11 fields)"
	code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary '{"a":' "http://127.0.0.1:$PORT/bad")
	[ "$code" = 400 ]; ok $? "$io: curl: invalid JSON gets 400 (got $code)"
	kill -USR1 "$SPID"
	sleep 0.3
	grep -qE '^  parse +[0-9]+ ' "$TAP_TMP/err" && grep -q 'alloc: ' "$TAP_TMP/err"
	ok $? "$io: SIGUSR1 prints the stage table"
	stop_server; rc=$?
	[ $rc -eq 0 ]; ok $? "$io: SIGTERM: exit 0 (got $rc)"
	grep -qE '^pktmem: serve: 6 requests' "$TAP_TMP/err"; ok $? "$io: final stats printed at exit"
done

if command -v wrk >/dev/null; then
	start_server --io epoll --json "$TAP_TMP/stats.json"
	wrk -t1 -c8 -d1s "http://127.0.0.1:$PORT/" >"$TAP_TMP/wrk" 2>&1
	n=$(awk '/requests in/ {print $1}' "$TAP_TMP/wrk")
	[ "${n:-0}" -gt 0 ] && ! grep -qE 'Socket errors|Non-2xx' "$TAP_TMP/wrk"
	ok $? "wrk -t1 -c8 -d1s: ${n:-0} requests, no errors"
	stop_server
	python3 - "$TAP_TMP/stats.json" "${n:-0}" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
reqs = sum(c["requests"] for c in d["conns"])
assert d["requests"] == reqs, (d["requests"], reqs)
assert all(c["state"] == "closed" for c in d["conns"])
assert d["requests"] >= int(sys.argv[2]) > 0
assert d["stages"]["parse"]["count"] == d["requests"]
assert d["responses"]["2xx"] == d["requests"]
PY
	ok $? "--json: valid, per-connection requests add up to the total"
else
	skip "wrk not installed"
	skip "wrk not installed"
fi

# per-connection counts, exactly: one connection, known bytes
start_server --io epoll --json "$TAP_TMP/one.json"
printf 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' >"$TAP_TMP/req"
python3 - "$PORT" "$TAP_TMP/req" >"$TAP_TMP/lport" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(open(sys.argv[2], "rb").read())
while s.recv(65536):
    pass
print(s.getsockname()[1])
PY
sleep 0.2
stop_server
python3 - "$TAP_TMP/one.json" "$(cat "$TAP_TMP/lport")" "$(wc -c <"$TAP_TMP/req")" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
c = [c for c in d["conns"] if c["peer"] == "127.0.0.1:" + sys.argv[2]]
assert len(c) == 1, d["conns"]
c = c[0]
assert c["bytes_read"] == int(sys.argv[3]), c
assert c["requests"] == 2 and c["responses"] == 2, c
PY
ok $? "--json: the client's connection found by its port, bytes and requests exact"

# SIGUSR1 the moment the port is known (a script that polls --ready-fd
# does exactly this): the table, never the signal's default action
# (which kills).  Ten rounds: the window was a few hundred microseconds.
alive=0
mkfifo "$TAP_TMP/ready"
for n in 1 2 3 4 5 6 7 8 9 10; do
	"$PKTMEM" serve --listen 127.0.0.1:0 --ready-fd 3 3>"$TAP_TMP/ready" 2>/dev/null &
	SPID=$!
	read -r port <"$TAP_TMP/ready"
	kill -USR1 "$SPID" 2>/dev/null
	sleep 0.2
	kill -0 "$SPID" 2>/dev/null && alive=$((alive + 1))
	kill -TERM "$SPID" 2>/dev/null
	wait "$SPID"
done
[ $alive -eq 10 ]; ok $? "SIGUSR1 right after --ready-fd: the server lives (10 of 10, got $alive)"

expect_exit 2 "bad --io is a usage error" -- "$PKTMEM" serve --io nope
expect_exit 2 "bad --listen is an error" -- "$PKTMEM" serve --listen nonsense
grep -q "'nonsense'" "$TAP_TMP/err"; ok $? "bad --listen quoted in the message"
done_testing
