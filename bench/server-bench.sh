#!/bin/sh
# server-bench.sh PKTMEM ROUNDS DURATION CONNS
#
# wrk against 'pktmem serve' (--io epoll, bodies deserialized with
# --deser tree and arena) and nginx (one worker, access_log off,
# 'return 200'), small GETs and 1 KB JSON POSTs, runs interleaved so drift
# on a shared machine hits both alike.  Prints requests/s per run, the
# medians and the pktmem/nginx ratio.
set -u
PKTMEM=$1 ROUNDS=${2:-3} DUR=${3:-3} CONNS=${4:-16}
command -v wrk >/dev/null || { echo "bench-server: wrk not installed"; exit 2; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "bench-server: nginx not installed"; exit 2; }
T=$(mktemp -d /tmp/pktmem-bench-server.XXXXXX)
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT INT TERM

# a 1 KB JSON document (1024 bytes exactly)
python3 - "$T/body.json" <<'PY'
import json, sys
doc = {"user": {"id": 12345, "name": "Ada Lovelace", "email": "ada@example.com",
                "roles": ["admin", "dev", "ops"], "active": True},
       "items": [{"sku": "A-%03d" % i, "qty": i, "price": 9.99 + i} for i in range(9)],
       "note": ""}
s = json.dumps(doc, separators=(",", ":"))
doc["note"] = "x" * (1024 - len(s))
s = json.dumps(doc, separators=(",", ":"))
assert len(s) == 1024, len(s)
open(sys.argv[1], "w").write(s)
PY
{
	printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [['
	cat "$T/body.json"
	printf ']]\n'
} >"$T/post.lua"

# nginx: one worker, no access log, return 200, temp prefix, high port
NPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$T/nginx/logs"
cat >"$T/nginx/nginx.conf" <<NGX
worker_processes 1;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/logs/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $T/nginx/body;
	proxy_temp_path $T/nginx/proxy;
	fastcgi_temp_path $T/nginx/fastcgi;
	uwsgi_temp_path $T/nginx/uwsgi;
	scgi_temp_path $T/nginx/scgi;
	server {
		listen 127.0.0.1:$NPORT;
		location / { return 200; }
	}
}
NGX
"$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/logs/error.log" &
NGPID=$!
PIDS="$PIDS $NGPID"

start_pktmem() { # DESER
	"$PKTMEM" serve --listen 127.0.0.1:0 --io epoll --deser "$1" --ready-fd 3 3>"$T/port.$1" 2>"$T/serve.$1.err" &
	PIDS="$PIDS $!"
	eval "PK_$1=$!"
}
start_pktmem tree
start_pktmem arena
sleep 0.5
PT=$(cat "$T/port.tree") PA=$(cat "$T/port.arena")

run() { # NAME URL [LUA]
	if [ -n "${3:-}" ]; then
		r=$(wrk -t1 -c"$CONNS" -d"${DUR}s" -s "$3" "$2" 2>&1)
	else
		r=$(wrk -t1 -c"$CONNS" -d"${DUR}s" "$2" 2>&1)
	fi
	rps=$(echo "$r" | awk '/^Requests\/sec/ {printf "%d", $2}')
	err=$(echo "$r" | grep -E 'Socket errors|Non-2xx' | tr -s ' ' | tr '\n' ' ')
	echo "$1 $rps" >>"$T/results"
	printf '  %-22s %8s req/s %s\n' "$1" "$rps" "$err"
}

echo "bench-server: wrk -t1 -c$CONNS -d${DUR}s, $ROUNDS interleaved rounds, $(nproc) CPUs"
i=1
while [ $i -le "$ROUNDS" ]; do
	echo "round $i"
	run pktmem-get "http://127.0.0.1:$PT/"
	run nginx-get "http://127.0.0.1:$NPORT/"
	run pktmem-post-tree "http://127.0.0.1:$PT/" "$T/post.lua"
	run nginx-post "http://127.0.0.1:$NPORT/" "$T/post.lua"
	run pktmem-post-arena "http://127.0.0.1:$PA/" "$T/post.lua"
	i=$((i + 1))
done
median() { grep "^$1 " "$T/results" | awk '{print $2}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
G=$(median pktmem-get) NG=$(median nginx-get) PTR=$(median pktmem-post-tree) NP=$(median nginx-post) PAR=$(median pktmem-post-arena)
echo "medians (req/s): pktmem GET $G, nginx GET $NG, pktmem POST tree $PTR, arena $PAR, nginx POST $NP"
awk -v g="$G" -v ng="$NG" -v pt="$PTR" -v pa="$PAR" -v np="$NP" 'BEGIN {
	printf "ratio pktmem/nginx: GET %.2fx, POST tree %.2fx, POST arena %.2fx\n", g / ng, pt / np, pa / np }'
kill -USR1 "$PK_tree"; sleep 0.3
sed -n '/stage/,/alloc/p' "$T/serve.tree.err" | tail -8
