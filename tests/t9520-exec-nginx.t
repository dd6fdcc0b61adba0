#!/bin/sh
# t9520: replay fixtures into Debian's nginx started by --exec (master and
# two workers, a config in a temp dir listening on the port, access_log
# off, 'return 200'): every flow's bytes ACKed, one 2xx response per
# captured request, allocations counted across the master and workers
# (the stage table's alloc row too); the kernel copied exactly the
# capture's client bytes to nginx's threads, and verification says so.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/exec.sh"
is_root || skip_all "needs root (network namespaces, veth, packet sockets)"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || skip_all "no nginx (apt-get install nginx-light)"

D="$TAP_TMP/nginx"
mkdir -p "$D"
# port 8080 inside pktmem's own server namespace: nothing else is there
cat >"$D/nginx.conf" <<CONF
worker_processes 2;
error_log stderr;
pid $D/nginx.pid;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $D/body;
	proxy_temp_path $D/proxy;
	fastcgi_temp_path $D/fastcgi;
	uwsgi_temp_path $D/uwsgi;
	scgi_temp_path $D/scgi;
	server {
		listen 8080;
		listen [::]:8080 ipv6only=on;
		location / { return 200 "ok\n"; }
	}
}
CONF
CMD="$NGINX -c $D/nginx.conf -e stderr -g 'daemon off;'"

# demo: 20 flows, 200 requests (GETs, CL and chunked JSON POSTs)
replay_json "nginx, demo.pcap" --exec "$CMD" --port 8080 --json "$TAP_TMP/d.json" "$F/demo.pcap"
is flows 20 "demo"
is target.responses.total 200 "demo"
is target.responses.2xx 200 "demo"
is target.responses.4xx 0 "demo"
is target.responses.5xx 0 "demo"
is target.responses.unframed 0 "demo"
is target.alloc.available true "demo"
n=$(jget x target.alloc.processes)
[ "${n:-0}" -ge 1 ]; ok $? "demo: the interposer ran in $n processes"
n=$(jget x target.alloc.allocations)
[ "${n:-0}" -gt 0 ]; ok $? "demo: nginx allocated ($n calls in the window)"
grep -q "^  responses   200 (2xx 200" "$TAP_TMP/out"; ok $? "demo: the summary counts 200 responses"
set -- $(stage "$TAP_TMP/d.json" alloc)
[ "$1" = true ] && [ "$2" = "$n" ]; ok $? "demo: the alloc row counts the interposer's $n calls ($1 $2)"
# demo.pcap: 60034 client bytes, every one read by nginx (kernel copies)
is server_bytes_read 60034 "demo: read by nginx's threads"
unwrap "$TAP_TMP/out" | grep -q "^  verify      ok: .* and its threads read them all"
ok $? "demo: verification checked the kernel's copies"
# every framing, pipelined, IPv6, impaired client streams, the recorded ones
for cap in synth-cl synth-chunked synth-pipelined synth-impaired synth-ipv6 curl-nginx; do
	replay_json "nginx, $cap" --exec "$CMD" --port 8080 "$F/$cap.pcap"
	want=$(jget x requests)
	got=$(jget x target.responses.2xx)
	[ -n "$want" ] && [ "$want" -gt 0 ] && [ "$got" = "$want" ]
	ok $? "$cap: 2xx responses $got = the capture's requests $want"
	is target.responses.5xx 0 "$cap"
done
# the profiler watches nginx's master and workers: the kernel copied to
# their threads exactly the capture's client bytes
"$PKTMEM" replay -q --exec "$CMD" --port 8080 --json "$TAP_TMP/r.json" "$F/demo.pcap" \
	>"$TAP_TMP/out" 2>"$TAP_TMP/err"
report_valid "$TAP_TMP/r.json" "nginx, profiled"
copy=$($PY -c 'import json,sys
j=json.load(open(sys.argv[1]))
st=[s for s in j["trials"][0]["stages"] if s["name"]=="copy"][0]
m={x["name"]:x for x in st["metrics"]}
c=m.get("copy_bytes",{}); p=m.get("capture_payload_bytes",{})
print("%s %s" % (int(c["value"]) if c.get("available") else "na", int(p.get("value") or 0)))' "$TAP_TMP/r.json" 2>/dev/null)
set -- $copy
if [ "$1" = na ] || [ -z "$1" ]; then
	skip "copy stage unavailable here (tracepoints): $(grep -m1 copy "$TAP_TMP/out")"
else
	[ "$1" = "$2" ]; ok $? "copied to nginx's threads $1 bytes = the capture's client bytes $2"
fi
# loops: fresh connections, the same counts three times
replay_json "nginx, 3 loops" --exec "$CMD" --port 8080 --loop 3 "$F/synth-cl.pcap"
is target.responses.2xx 36 "3 loops"
# no nginx left behind
sleep 0.2
pgrep -f "$D/nginx.conf" >/dev/null; [ $? -ne 0 ]; ok $? "no nginx process left"
done_testing
