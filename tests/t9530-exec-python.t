#!/bin/sh
# t9530: replay into Python's http.server started by --exec.  It answers
# 501 to POST (no do_POST), so the response-code counts must show exactly
# that: curl-python-any.pcap holds GET /, a JSON POST and GET /page.html;
# served from a directory that has page.html: 2xx 2, 5xx 1, 4xx 0.
# One request per flow from synth: 501 per POST, 2xx/4xx per GET.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/exec.sh"
is_root || skip_all "needs root (network namespaces, veth, packet sockets)"
$PY -c 'import http.server' 2>/dev/null || skip_all "no python3 http.server"

D="$TAP_TMP/www"
mkdir -p "$D"
echo "<p>page</p>" >"$D/page.html"
CMD="$PY -m http.server --directory $D 8080"

replay_json "python, curl-python-any" --exec "$CMD" --port 8080 "$F/curl-python-any.pcap"
is requests 3 "curl-python-any"
is target.responses.total 3 "curl-python-any"
is target.responses.2xx 2 "curl-python-any"
is target.responses.4xx 0 "curl-python-any"
is target.responses.5xx 1 "curl-python-any"
is target.responses.unframed 0 "curl-python-any"
grep -q "^  responses   3 (2xx 2, 4xx 0, 5xx 1" "$TAP_TMP/out"; ok $? "the summary shows 2 x 2xx, 1 x 5xx"
grep -q "501" "$TAP_TMP/err"; ok $? "http.server logged its 501 (on stderr, not in the summary)"
! grep -q "Serving HTTP" "$TAP_TMP/out"; ok $? "the command's output stays off stdout"

# http.server speaks HTTP/1.0: one request per connection, so a synth
# capture with one request per flow (GETs, CL and chunked POSTs mixed)
"$PKTMEM" synth -q --out "$TAP_TMP/one.pcap" --flows 30 --requests 1 --framing mixed --seed 9
"$PKTMEM" inspect --json "$TAP_TMP/i.json" "$TAP_TMP/one.pcap" >/dev/null 2>&1
posts=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"]["by_method"].get("POST",0))' "$TAP_TMP/i.json")
gets=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"]["by_method"].get("GET",0))' "$TAP_TMP/i.json")
diag "synth: $gets GETs, $posts POSTs"
# its listen backlog is 5 (socketserver's request_queue_size): more SYNs
# at once overflow it (ListenOverflows, resets), so 4 flows in flight
replay_json "python, 30 one-request flows" --exec "$CMD" --port 8080 --concurrency 4 "$TAP_TMP/one.pcap"
is target.responses.5xx "$posts" "mixed: one 501 per POST"
n2=$(jget x target.responses.2xx); n4=$(jget x target.responses.4xx)
[ $((n2 + n4)) -eq "$gets" ]; ok $? "mixed: every GET answered 2xx or 4xx ($n2 + $n4 = $gets)"
is target.responses.total 30 "mixed"
done_testing
