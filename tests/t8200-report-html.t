#!/bin/sh
# t8200: the HTML report in a real browser.  Headless Chromium (Debian
# package 'chromium') loads the page offline, inside a fresh network
# namespace (unshare -n: no route anywhere, so neither the page nor the
# browser's own background services can reach the network); the test
# parses the DOM it dumps: the pipeline's stage bands exist, available ones
# have widths proportional to their shares, the copy band is orange,
# unavailable ones are hatched with the reason in a <title>; takes a
# screenshot; and asserts from Chromium's net log that the page made no
# request (a control page with an <img> to 127.0.0.1 shows the check can
# fail).  Skips with the reason when chromium or unshare -n is missing.
. "$(dirname "$0")/tap.sh"

data=$PKTMEM_SRC/tests/data

# --- static checks, no browser needed ---
for f in report-veth report-socket; do
	expect_exit 0 "$f: --html" -- "$PKTMEM" report "$data/$f.json" --html "$TAP_TMP/$f.html"
	h=$TAP_TMP/$f.html
	grep -q "Content-Security-Policy\" content=\"default-src 'none'" "$h"; ok $? "$f: CSP default-src 'none'"
	grep -Eiq '(src|href)="(https?:)?//' "$h"; [ $? -ne 0 ]; ok $? "$f: no http(s) src or href"
	grep -Eiq '<script|<link|<img|<iframe|@import|url\((["'"'"'])?(https?:)?//' "$h"; [ $? -ne 0 ]
	ok $? "$f: no scripts, links, images, frames or imports"
	grep -q '<svg id="pipeline"' "$h"; ok $? "$f: inline SVG pipeline"
done

browser=
for b in chromium chromium-browser; do
	command -v "$b" >/dev/null 2>&1 && { browser=$b; break; }
done
[ -n "$browser" ] || { skip "chromium not installed (apt-get install chromium)"; done_testing; exit $?; }
if is_root && unshare -n true 2>/dev/null; then
	netns="unshare -n"
elif unshare -rn true 2>/dev/null; then
	netns="unshare -rn"
else
	skip "cannot make a network namespace (unshare -n): not running a browser with network access"
	done_testing; exit $?
fi

run_browser() { # run_browser PROFILE-DIR ARGS... (stdout: the browser's)
	prof=$1; shift
	# shellcheck disable=SC2086
	$netns timeout 120 "$browser" --headless --no-sandbox --disable-gpu \
		--disable-background-networking --disable-component-update --disable-sync \
		--no-first-run --no-default-browser-check --user-data-dir="$prof" "$@" 2>>"$TAP_TMP/browser.err"
}

# page_requests NETLOG: URLs of requests a document started (background
# services of the browser have no origin: "not an origin")
page_requests() {
	python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
types = {v: k for k, v in d["constants"]["logEventTypes"].items()}
for e in d["events"]:
    p = e.get("params") or {}
    if types.get(e["type"]) == "URL_REQUEST_START_JOB" and "url" in p \
            and p.get("initiator", "not an origin") != "not an origin":
        print(p["url"])
PY
}

for f in report-veth report-socket; do
	h=$TAP_TMP/$f.html
	run_browser "$TAP_TMP/prof-$f" --log-net-log="$TAP_TMP/$f.netlog" --dump-dom "file://$h" >"$TAP_TMP/$f.dom"
	ok $? "$f: chromium loads the page and dumps the DOM"
	python3 - "$TAP_TMP/$f.dom" "$data/$f.json" >"$TAP_TMP/$f.check" 2>&1 <<'PY'
import json, sys
from html.parser import HTMLParser

class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.bands, self.svg, self.cur, self.titles, self.hist = [], None, None, {}, 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and a.get("id") == "pipeline":
            self.svg = a
        if tag == "svg" and "hist" in (a.get("class") or ""):
            self.hist += 1
        if tag == "rect" and "band" in (a.get("class") or "").split():
            self.bands.append(a)
            self.cur = a
        elif tag == "title" and self.cur is not None:
            self.cur["_title"] = ""
    def handle_data(self, data):
        if self.cur is not None and "_title" in self.cur:
            self.cur["_title"] += data
    def handle_endtag(self, tag):
        if tag == "rect":
            self.cur = None

p = P()
p.feed(open(sys.argv[1]).read())
rep = json.load(open(sys.argv[2]))
fail = 0
def check(cond, msg):
    global fail
    print(("ok: " if cond else "FAIL: ") + msg)
    fail += 0 if cond else 1

check(p.svg is not None, "svg#pipeline in the DOM")
scale = float(p.svg["data-scale"])
names = [b["data-stage"] for b in p.bands]
check(names == ["irq", "softirq", "copy", "parse", "alloc", "handler", "write"],
      "bands in pipeline order: %s" % names)
# expected shares: median stage time over trials / sum of medians
med = {}
for s in names:
    ts = sorted(st["time_ns"] for t in rep["trials"] for st in t["stages"]
                if st["name"] == s and st["available"] and st["time_available"])
    if ts:
        n = len(ts)
        med[s] = ts[n // 2] if n % 2 else (ts[n // 2 - 1] + ts[n // 2]) / 2
tot = sum(med.values())
xs = []
for b in p.bands:
    s = b["data-stage"]
    w = float(b["width"])
    xs.append((float(b["x"]), w))
    if s in med:
        share = float(b["data-share"])
        check(abs(share - med[s] / tot) < 1e-5, "%s: data-share %.6f = %.6f from the report" % (s, share, med[s] / tot))
        check(abs(w - share * scale) < 0.01, "%s: width %.3f = share x scale %.3f" % (s, w, share * scale))
    else:
        check(b["data-share"] == "n/a" and "hatch" in b.get("fill", ""), "%s: unavailable, hatched" % s)
        reason = [st["reason"] for t in rep["trials"] for st in t["stages"] if st["name"] == s][0]
        check(reason in b.get("_title", ""), "%s: the reason on hover: %s" % (s, b.get("_title")))
copy = [b for b in p.bands if b["data-stage"] == "copy"][0]
check(copy["fill"].lower() == "#f28c28", "copy band orange (%s)" % copy["fill"])
wide = [b for b in p.bands if b["data-stage"] in med]
ratios = [float(b["width"]) / float(b["data-share"]) for b in wide if float(b["data-share"]) > 0]
check((max(ratios) - min(ratios)) / max(ratios) < 1e-4, "width/share constant across bands (%.3f..%.3f)" % (min(ratios), max(ratios)))
check(all(xs[i][0] + xs[i][1] <= xs[i + 1][0] + 1e-6 for i in range(len(xs) - 1)), "bands do not overlap")
check(max(x + w for x, w in xs) <= float(p.svg["width"]), "bands inside the figure")
check(p.hist >= 3, "duration histograms drawn (%d)" % p.hist)
sys.exit(1 if fail else 0)
PY
	ok $? "$f: bands, shares, widths, colours, hatching in the browser's DOM"
	sed 's/^/#   /' "$TAP_TMP/$f.check" | grep -v '^#   ok' >&2
	reqs=$(page_requests "$TAP_TMP/$f.netlog")
	[ -z "$reqs" ]; ok $? "$f: the page made no network request${reqs:+: $reqs}"
done

run_browser "$TAP_TMP/prof-shot" --screenshot="$TAP_TMP/shot.png" --window-size=1100,1400 \
	"file://$TAP_TMP/report-socket.html" >/dev/null
[ -s "$TAP_TMP/shot.png" ] && [ "$(head -c 8 "$TAP_TMP/shot.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
	[ "$(wc -c <"$TAP_TMP/shot.png")" -gt 20000 ]
ok $? "screenshot taken ($(wc -c <"$TAP_TMP/shot.png" 2>/dev/null) bytes PNG)"
cp "$TAP_TMP/shot.png" "$PKTMEM_BUILD/t8200-report-html.png" 2>/dev/null &&
	diag "screenshot: $PKTMEM_BUILD/t8200-report-html.png"

# the network check can fail: a page with an <img> on 127.0.0.1 (inside the
# empty namespace: no route even there) is caught
printf '<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png"></body></html>\n' >"$TAP_TMP/control.html"
run_browser "$TAP_TMP/prof-control" --log-net-log="$TAP_TMP/control.netlog" --dump-dom "file://$TAP_TMP/control.html" >/dev/null
page_requests "$TAP_TMP/control.netlog" | grep -q '127.0.0.1:9'
ok $? "control: a page that loads an image is caught by the net-log check"
done_testing
