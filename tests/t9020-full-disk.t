#!/bin/sh
# t9020: a full disk is an error, never a half-written file.  As root, in a
# private mount namespace (unshare -m), a 64 KiB tmpfs filled to the brim is
# the target of replay --json, inspect --json, report --html/--md/--json
# and serve --json: each must exit 2 with one message naming the file and
# ENOSPC, and leave nothing behind (no partial file, no temp file).  Also
# standard output: 'pktmem inspect F > /dev/full' fails with exit 2.
# As root, a --json/--md target that is a device or a FIFO is written in
# place, not replaced by a regular file.
. "$(dirname "$0")/tap.sh"

F="$PKTMEM_SRC/fixtures"
R="$PKTMEM_SRC/tests/data/report-veth-b.json"
[ -e "$F/demo.pcap" ] || skip_all "no fixtures"

# --- standard output on a full device (no root needed) ---
if [ -w /dev/full ]; then
	"$PKTMEM" inspect "$F/demo.pcap" >/dev/full 2>"$TAP_TMP/err"; rc=$?
	[ $rc -eq 2 ]; ok $? "inspect > /dev/full: exit 2 (got $rc)"
	grep -q 'No space left on device' "$TAP_TMP/err"; ok $? "inspect > /dev/full: says no space"
	[ "$(wc -l <"$TAP_TMP/err")" -eq 1 ]; ok $? "inspect > /dev/full: one line"
	"$PKTMEM" report "$R" >/dev/full 2>"$TAP_TMP/err"; rc=$?
	[ $rc -eq 2 ] && grep -q 'No space left on device' "$TAP_TMP/err"
	ok $? "report > /dev/full: exit 2 and says no space (got $rc)"
else
	for t in 1 2 3 4; do skip "no writable /dev/full"; done
fi

is_root || { done_testing; exit $?; }

# --- a file name that is a device or a FIFO is written in place ---
# The atomic writer renames a temp file over its target; over a device
# node (as root: --json /dev/null) that replaced the node with a regular
# file.  A character device of our own (1,3 = null) and a FIFO stand in.
mknod -m 666 "$TAP_TMP/nulldev" c 1 3 && mkfifo "$TAP_TMP/fifo" || skip_all "mknod/mkfifo failed"
"$PKTMEM" inspect --json "$TAP_TMP/nulldev" "$F/demo.pcap" >/dev/null 2>"$TAP_TMP/err"; rc=$?
[ $rc -eq 0 ] && [ -c "$TAP_TMP/nulldev" ]
ok $? "inspect --json DEVICE: exit 0, still a character device (got $rc)"
"$PKTMEM" report "$R" --md "$TAP_TMP/nulldev" 2>"$TAP_TMP/err"; rc=$?
[ $rc -eq 0 ] && [ -c "$TAP_TMP/nulldev" ]
ok $? "report --md DEVICE: exit 0, still a character device (got $rc)"
timeout 10 cat "$TAP_TMP/fifo" >"$TAP_TMP/fifo.out" &
"$PKTMEM" report "$R" --json "$TAP_TMP/fifo" 2>"$TAP_TMP/err"; rc=$?
wait
[ $rc -eq 0 ] && [ -p "$TAP_TMP/fifo" ] && grep -q '"schema"' "$TAP_TMP/fifo.out"
ok $? "report --json FIFO: the reader gets the report, the FIFO stays (got $rc)"
# a link (as /dev/stdout -> /proc/self/fd/1) is written through, and stays
printf 'an older, longer file than any report: %04000d\n' 0 >"$TAP_TMP/target.json"
ln -s "$TAP_TMP/target.json" "$TAP_TMP/link.json"
"$PKTMEM" report "$R" --json "$TAP_TMP/link.json" 2>"$TAP_TMP/err"; rc=$?
[ $rc -eq 0 ] && [ -L "$TAP_TMP/link.json" ] && python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TAP_TMP/target.json"
ok $? "report --json LINK: written through the link, no old tail, the link stays (got $rc)"

command -v unshare >/dev/null || { skip "no unshare"; done_testing; exit $?; }

# Everything below runs inside one private mount namespace, so the tmpfs
# never appears on the host; /mnt inside it is ours alone.
cat >"$TAP_TMP/inner.sh" <<'INNER'
set -u
P=$1; F=$2; R=$3; OUT=$4
mount -t tmpfs -o size=64k,mode=1777 pktmem-full /mnt || { echo "mount failed" >"$OUT/mountfail"; exit 0; }
# fill it: what dd cannot write is the point
dd if=/dev/zero of=/mnt/fill bs=4k count=64 2>/dev/null
run() { # NAME FILE CMD...
	name=$1; file=$2; shift 2
	"$@" >/dev/null 2>"$OUT/$name.err"; echo $? >"$OUT/$name.rc"
	ls -A /mnt | grep -v '^fill$' >"$OUT/$name.left"
	rm -f "/mnt/$file"
}
run replay r.json "$P" replay -q --via socket --json /mnt/r.json "$F/synth-cl.pcap"
run inspect i.json "$P" inspect --json /mnt/i.json "$F/demo.pcap"
run html r.html "$P" report "$R" --html /mnt/r.html
run md r.md "$P" report "$R" --md /mnt/r.md
run rjson r2.json "$P" report "$R" --json /mnt/r2.json
# serve: stopped by SIGTERM once it listens, writes its stats then
"$P" serve --listen 127.0.0.1:0 --json /mnt/s.json >/dev/null 2>"$OUT/serve.err" &
spid=$!
i=0
while [ $i -lt 100 ] && ! grep -q '127.0.0.1' "$OUT/serve.err"; do sleep 0.05; i=$((i + 1)); done
kill -TERM $spid; wait $spid; echo $? >"$OUT/serve.rc"
ls -A /mnt | grep -v '^fill$' >"$OUT/serve.left"
umount /mnt
INNER
mkdir "$TAP_TMP/o"
unshare -m --propagation private sh "$TAP_TMP/inner.sh" "$PKTMEM" "$F" "$R" "$TAP_TMP/o"
if [ -e "$TAP_TMP/o/mountfail" ] || [ ! -e "$TAP_TMP/o/serve.rc" ]; then
	skip "could not mount a tmpfs in a private mount namespace"
	done_testing; exit $?
fi
for t in replay:r.json inspect:i.json html:r.html md:r.md rjson:r2.json serve:s.json; do
	name=${t%%:*}; file=${t#*:}
	rc=$(cat "$TAP_TMP/o/$name.rc")
	[ "$rc" -eq 2 ]; ok $? "$name on a full disk: exit 2 (got $rc)"
	grep "/mnt/$file" "$TAP_TMP/o/$name.err" | grep -q 'No space left on device'
	ok $? "$name on a full disk: the message names the file and ENOSPC"
	[ $? -eq 0 ] || sed 's/^/#   /' "$TAP_TMP/o/$name.err" >&2
	[ ! -s "$TAP_TMP/o/$name.left" ]; ok $? "$name on a full disk: no partial or temp file left"
	[ -s "$TAP_TMP/o/$name.left" ] && sed 's/^/#   left: /' "$TAP_TMP/o/$name.left" >&2
done
! grep -q pktmem-full /proc/mounts; ok $? "the tmpfs never showed on the host"
done_testing
