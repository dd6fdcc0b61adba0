/*
 * t8000: the report model: SHA-256 vectors, the environment probe, JSON
 * round trip, summaries over trials, the validating reader (truncated
 * files, wrong schema or version, wrong types, missing fields each give one
 * clear line), the replay's optional target and iface objects, atomic
 * writes leave no temp file behind.
 */
#include "tests/tap.h"
#include "tests/synth-report.h"
#include "report/report.h"
#include "profile/env.h"
#include "lib/sha256.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/pktmem-t8000-XXXXXX";

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		bail_out("cannot write a temp file");
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 > cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap + 1);
		}
		r = fread(buf + n, 1, cap - n, f);
		if (!r)
			break;
		n += r;
	}
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

static int count_entries(const char *d)
{
	DIR *dd = opendir(d);
	struct dirent *e;
	int n = 0;

	if (!dd)
		return -1;
	while ((e = readdir(dd)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(dd);
	return n;
}

/* Replaces the first occurrence of from by to in the fixture, writes it to
 * path and reads it back: returns the reader's code, err filled.  The
 * in-memory reader must give the same code and message, else -9999. */
static int mutate(const char *fixture, const char *from, const char *to, const char *path,
		  char *err, size_t errlen)
{
	size_t len;
	char *s = slurp(fixture, &len), *p;
	struct report *r = NULL;
	FILE *f;
	int rc;

	if (!s)
		bail_out("fixture missing");
	p = strstr(s, from);
	if (!p) {
		free(s);
		snprintf(err, errlen, "test bug: '%s' not in fixture", from);
		return 1;
	}
	f = fopen(path, "w");
	fwrite(s, 1, (size_t)(p - s), f);
	fputs(to, f);
	fputs(p + strlen(from), f);
	fclose(f);
	free(s);
	rc = report_read_json(path, &r, err, errlen);
	report_free(r);
	s = slurp(path, &len);
	if (s) {
		char merr[512];
		int mrc = report_read_json_mem(s, len, &r, merr, sizeof(merr));

		report_free(r);
		free(s);
		if (mrc != rc || strcmp(merr, err)) {
			snprintf(err, errlen, "memory reader differs: %d '%.200s'", mrc, merr);
			return -9999;
		}
	}
	return rc;
}

/* A replay with the optional target, iface and capture_packets: all three
 * objects of a report's trial and its summary file carry them, and read
 * back as written; written again, the report is the same bytes. */
static void test_target_iface(const char *fixture)
{
	char path[1200], path2[1200], err[512];
	struct report *r = NULL, *r2 = NULL;
	struct replay_summary *p;
	char *a, *b;
	size_t la = 0, lb = 0;
	json_t *sum;
	int rc;

	if (report_read_json(fixture, &r, err, sizeof(err)) < 0)
		bail_out("cannot read the fixture");
	p = &r->trial[0].replay;
	p->capture_packets = 4242;
	p->target.present = true;
	p->target.kind = REPLAY_TARGET_EXEC;
	snprintf(p->target.command, sizeof(p->target.command), "nginx -c /tmp/n.conf -g 'daemon off;'");
	snprintf(p->target.netns, sizeof(p->target.netns), "srv");
	p->target.port = 8080;
	p->target.pid = 4711;
	p->target.responses = (struct replay_target_responses){
		.available = true, .total = 12, .status_1xx = 1, .status_2xx = 7, .status_3xx = 1,
		.status_4xx = 1, .status_5xx = 1, .other = 1, .bytes = 9000, .unframed = 2,
		.capture_drops = 3,
	};
	p->target.alloc = (struct replay_target_alloc){
		.available = false, .processes = 2, .allocations = 40, .malloc = 30, .calloc = 5,
		.realloc = 4, .aligned = 1, .free = 38, .bytes = 65536,
	};
	snprintf(p->target.alloc.reason, sizeof(p->target.alloc.reason),
		 "statically linked (no PT_INTERP)");
	p->iface.present = true;
	snprintf(p->iface.name, sizeof(p->iface.name), "eth0");
	snprintf(p->iface.server_ip, sizeof(p->iface.server_ip), "10.77.0.1");
	p->iface.port = 80;
	snprintf(p->iface.next_hop, sizeof(p->iface.next_hop), "10.77.0.254");
	p->iface.gateway = true;
	memcpy(p->iface.next_hop_mac, "\x02\xab\x00\xcd\x0f\xff", 6);
	p->iface.resolved_by_pktmem = true;
	p->iface.neighbour_answers = 17;
	p->iface.client_out_rsts = 0;
	/* trial 1: --target, no netns, responses unavailable */
	p = &r->trial[1].replay;
	p->target.present = true;
	p->target.kind = REPLAY_TARGET_ADDRESS;
	snprintf(p->target.address, sizeof(p->target.address), "[::1]:8080");
	p->target.port = 8080;
	snprintf(p->target.responses.reason, sizeof(p->target.responses.reason), "no CAP_NET_RAW");
	p->target.alloc.available = true;

	snprintf(path, sizeof(path), "%s/ti.json", dir);
	snprintf(path2, sizeof(path2), "%s/ti2.json", dir);
	rc = report_write_json(r, path);
	ok(rc == 0 && report_read_json(path, &r2, err, sizeof(err)) == 0,
	   "a report with target and iface validates (%s)", err);
	if (r2) {
		size_t t;
		int same = 1;

		for (t = 0; t < r->ntrials; t++) {
			const struct replay_summary *x = &r->trial[t].replay, *y = &r2->trial[t].replay;

			same = same && x->capture_packets == y->capture_packets &&
			       !memcmp(&x->target, &y->target, sizeof(x->target)) &&
			       !memcmp(&x->iface, &y->iface, sizeof(x->iface));
		}
		ok(same, "target, iface and capture_packets read back as written");
		ok(!r2->trial[2].replay.target.present && !r2->trial[2].replay.iface.present &&
		   !r2->trial[1].replay.iface.present, "absent objects read as not present");
		rc = report_write_json(r2, path2);
		a = slurp(path, &la);
		b = slurp(path2, &lb);
		ok(rc == 0 && a && b && la == lb && !memcmp(a, b, la),
		   "written again: the same bytes (%zu, %zu)", la, lb);
		free(a);
		free(b);
		report_free(r2);
		r2 = NULL;
	}

	/* the summary holds them at the old paths */
	snprintf(path2, sizeof(path2), "%s/ti-sum.json", dir);
	rc = report_write_summary_json(&r->trial[0].replay, path2);
	sum = rc == 0 ? json_load_file(path2, 0, NULL) : NULL;
	{
		json_t *t = json_object_get(sum, "target"), *f = json_object_get(sum, "iface");
		json_t *rs = json_object_get(t, "responses"), *al = json_object_get(t, "alloc");

		ok(json_integer_value(json_object_get(sum, "capture_packets")) == 4242 &&
		   !strcmp(json_string_value(json_object_get(t, "kind")), "exec") &&
		   !strcmp(json_string_value(json_object_get(t, "command")), "nginx -c /tmp/n.conf -g 'daemon off;'") &&
		   !json_object_get(t, "address") &&
		   !strcmp(json_string_value(json_object_get(t, "netns")), "srv") &&
		   json_integer_value(json_object_get(t, "pid")) == 4711 &&
		   json_is_false(json_object_get(t, "exited_early")) &&
		   json_is_true(json_object_get(rs, "available")) && !json_object_get(rs, "reason") &&
		   json_integer_value(json_object_get(rs, "2xx")) == 7 &&
		   json_integer_value(json_object_get(rs, "other")) == 1 &&
		   json_integer_value(json_object_get(rs, "unframed")) == 2 &&
		   json_is_false(json_object_get(al, "available")) &&
		   !strcmp(json_string_value(json_object_get(al, "reason")), "statically linked (no PT_INTERP)") &&
		   !strcmp(json_string_value(json_object_get(al, "window")), "from the first accepted probe to the stop") &&
		   json_integer_value(json_object_get(al, "allocations")) == 40 &&
		   json_integer_value(json_object_get(al, "aligned")) == 1,
		   "summary: capture_packets, target.kind/command/netns/pid, target.responses.2xx, "
		   "target.alloc.reason/window/allocations");
		ok(!strcmp(json_string_value(json_object_get(f, "name")), "eth0") &&
		   !strcmp(json_string_value(json_object_get(f, "next_hop_mac")), "02:ab:00:cd:0f:ff") &&
		   json_is_true(json_object_get(f, "gateway")) &&
		   json_is_true(json_object_get(f, "resolved_by_pktmem")) &&
		   json_integer_value(json_object_get(f, "neighbour_answers")) == 17 &&
		   json_integer_value(json_object_get(f, "client_out_rsts")) == 0 &&
		   json_integer_value(json_object_get(f, "port")) == 80,
		   "summary: iface.name, next_hop_mac, gateway, resolved_by_pktmem, neighbour_answers");
	}
	json_decref(sum);

	/* wrong shapes name the field */
	rc = mutate(path, "\"kind\": \"exec\"", "\"kind\": \"fork\"", path2, err, sizeof(err));
	ok(rc == REPORT_E_INVALID && strstr(err, "trials[0].replay.target.kind") && strstr(err, "fork"),
	   "unknown target kind: %s", err);
	rc = mutate(path, "\"02:ab:00:cd:0f:ff\"", "\"02:ab:00:cd:0f\"", path2, err, sizeof(err));
	ok(rc == REPORT_E_INVALID && strstr(err, "trials[0].replay.iface.next_hop_mac"),
	   "short MAC: %s", err);
	rc = mutate(path, "\"02:ab:00:cd:0f:ff\"", "\"02:ab:00:cd:0f:fg\"", path2, err, sizeof(err));
	ok(rc == REPORT_E_INVALID && strstr(err, "next_hop_mac"), "MAC with a non-hex digit: %s", err);
	rc = mutate(path, "\"2xx\": 7", "\"2xx\": -7", path2, err, sizeof(err));
	ok(rc == REPORT_E_INVALID && strstr(err, "trials[0].replay.target.responses.2xx"),
	   "negative response count: %s", err);
	rc = mutate(path, "\"port\": 8080", "\"port\": 70000", path2, err, sizeof(err));
	ok(rc == REPORT_E_INVALID && strstr(err, "target.port") && strstr(err, "65535"),
	   "port out of range: %s", err);
	rc = mutate(path, "\"command\": ", "\"cmd\": ", path2, err, sizeof(err));
	ok(rc == REPORT_E_INVALID && strstr(err, "missing field 'trials[0].replay.target.command'"),
	   "exec without its command: %s", err);
	rc = mutate(path, "\"iface\": {", "\"iface\": [], \"x\": {", path2, err, sizeof(err));
	ok(rc == REPORT_E_INVALID && strstr(err, "iface") && strstr(err, "object"),
	   "iface not an object: %s", err);
	report_free(r);
}

int main(void)
{
	const char *src = getenv("PKTMEM_SRC");
	char fixture[1024], path[1200], err[512], hex[65];
	struct report *r = NULL, *r2 = NULL;
	struct report_env env;
	struct report_stat st;
	int rc, s;

	plan_lazy();
	if (!mkdtemp(dir))
		bail_out("mkdtemp");
	snprintf(fixture, sizeof(fixture), "%s/tests/data/report-veth.json", src ? src : ".");

	/* FIPS 180-4 examples */
	sha256_hex("abc", 3, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256('abc')");
	sha256_hex("", 0, hex);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256('')");
	{
		const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
		struct sha256 c;
		uint8_t d[32];
		size_t i;

		sha256_hex(m, strlen(m), hex);
		is_str(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "sha256 two blocks");
		sha256_init(&c);
		for (i = 0; i < strlen(m); i++)
			sha256_update(&c, m + i, 1);
		sha256_final(&c, d);
		ok(d[0] == 0x24 && d[31] == 0xc1, "sha256 fed a byte at a time");
	}

	report_env_probe(&env);
	ok(env.kernel[0] && env.cores > 0 && strlen(env.fingerprint) == 64,
	   "env probe: kernel '%s', %d cores, fingerprint", env.kernel, env.cores);
	ok(env.pmu || strstr(env.pmu_reason, "perf_event_open(cycles)"),
	   "env probe: PMU %s (%s)", env.pmu ? "present" : "absent", env.pmu_reason);
	ok(env.privileges[0] && env.clocksource[0], "env probe: privileges '%s', clock '%s'",
	   env.privileges, env.clocksource);
	{
		struct report_env e2;

		report_env_probe(&e2);
		is_str(e2.fingerprint, env.fingerprint, "fingerprint is stable on one machine");
	}

	/* the hand-written fixture reads */
	rc = report_read_json(fixture, &r, err, sizeof(err));
	ok(rc == 0 && r, "fixture report-veth.json validates (%s)", err);
	if (!r)
		bail_out("cannot continue without the fixture");
	is_int(r->ntrials, 3, "three trials");
	ok(!r->trial[0].stage[RS_SOFTIRQ].metric[3].available &&
	   strstr(r->trial[0].stage[RS_SOFTIRQ].metric[3].reason, "no PMU"),
	   "an unavailable metric keeps its reason");
	rc = report_stage_time_stat(r, RS_COPY, &st);
	ok(rc == 0 && st.n == 3 &&
	   fabs(st.median - 1536000.0) < 1e-6 && fabs(st.min - 1505280.0) < 1e-6 &&
	   fabs(st.max - 1582080.0) < 1e-6 && fabs(st.mad - 30720.0) < 1e-6,
	   "copy time over trials: median %g min %g max %g MAD %g", st.median, st.min, st.max, st.mad);
	ok(report_metric_stat(r, RS_SOFTIRQ, "cycles_per_packet", &st) == -ENOENT,
	   "no summary of a metric unavailable everywhere");

	/* round trip through our writer */
	snprintf(path, sizeof(path), "%s/rt.json", dir);
	rc = report_write_json(r, path);
	ok(rc == 0, "write a report (%d)", rc);
	rc = report_read_json(path, &r2, err, sizeof(err));
	ok(rc == 0, "what we write validates (%s)", err);
	if (r2) {
		int same = r2->ntrials == r->ntrials;
		size_t t, i;

		for (t = 0; same && t < r->ntrials; t++)
			for (s = 0; same && s < RS__N; s++) {
				const struct stage_result *a = &r->trial[t].stage[s], *b = &r2->trial[t].stage[s];

				same = a->available == b->available && a->count == b->count &&
				       a->bytes == b->bytes && fabs(a->time_ns - b->time_ns) <= 1e-9 * fabs(a->time_ns) &&
				       a->nmetrics == b->nmetrics && !memcmp(a->hist, b->hist, sizeof(a->hist)) &&
				       !strcmp(a->reason, b->reason) && !strcmp(a->note, b->note);
				for (i = 0; same && i < a->nmetrics; i++)
					same = !strcmp(a->metric[i].name, b->metric[i].name) &&
					       a->metric[i].cls == b->metric[i].cls &&
					       a->metric[i].available == b->metric[i].available &&
					       fabs(a->metric[i].value - b->metric[i].value) <= 1e-9 * fabs(a->metric[i].value);
			}
		ok(same && !strcmp(r->cap.sha256, r2->cap.sha256) && !strcmp(r->env.fingerprint, r2->env.fingerprint) &&
		   r->trial[1].replay.requests_per_s == r2->trial[1].replay.requests_per_s,
		   "round trip keeps stages, metrics, histograms, env and replay");
		report_free(r2);
		r2 = NULL;
	}
	is_int(count_entries(dir), 1, "no temp file left beside the report");

	/* a synthetic report with acks and tolerance round-trips */
	{
		struct synth_spec sp;
		struct synth_rng rng = { 7 };
		struct report *sr;

		synth_spec_default(&sp);
		sr = synth_report(&sp, &rng);
		sr->nacks = 1;
		snprintf(sr->ack[0].metric, sizeof(sr->ack[0].metric), "copy.ns_per_request");
		snprintf(sr->ack[0].reason, sizeof(sr->ack[0].reason), "bigger buffer");
		sr->trial[0].stage[RS_COPY].metric[0].tolerance = 0.05;
		snprintf(path, sizeof(path), "%s/synth.json", dir);
		ok(report_write_json(sr, path) == 0 && report_read_json(path, &r2, err, sizeof(err)) == 0 &&
		   r2->nacks == 1 && !strcmp(r2->ack[0].reason, "bigger buffer") &&
		   fabs(r2->trial[0].stage[RS_COPY].metric[0].tolerance - 0.05) < 1e-12,
		   "acknowledged regressions and declared tolerances round-trip (%s)", err);
		report_free(r2);
		r2 = NULL;
		/* a new report starts with every stage unavailable, never zero */
		report_free(sr);
		sr = report_new(1);
		ok(!sr->trial[0].stage[RS_PARSE].available && !strcmp(sr->trial[0].stage[RS_PARSE].reason, "not measured"),
		   "report_new: stages start unavailable ('not measured')");
		report_free(sr);
	}

	/* malformed inputs */
	snprintf(path, sizeof(path), "%s/bad.json", dir);
	{
		size_t len;
		char *s2 = slurp(fixture, &len);
		FILE *f = fopen(path, "w");

		fwrite(s2, 1, len / 2, f);
		fclose(f);
		free(s2);
		rc = report_read_json(path, &r2, err, sizeof(err));
		ok(rc == REPORT_E_SYNTAX && strstr(err, "truncated") && !strchr(err, '\n'),
		   "truncated file: one line: %s", err);
		{
			char merr[512];

			s2 = slurp(path, &len);
			ok(s2 && report_read_json_mem(s2, len, &r2, merr, sizeof(merr)) == REPORT_E_SYNTAX &&
			   !strcmp(merr, err), "... the memory reader says the same: %s", merr);
			free(s2);
			s2 = slurp(fixture, &len);
			ok(s2 && report_read_json_mem(s2, len, &r2, merr, sizeof(merr)) == 0 && r2,
			   "the memory reader accepts the fixture (%s)", merr);
			report_free(r2);
			r2 = NULL;
			free(s2);
		}
	}
	put(path, "");
	rc = report_read_json(path, &r2, err, sizeof(err));
	ok(rc == REPORT_E_SYNTAX, "empty file: %s", err);
	put(path, "[1,2]");
	rc = report_read_json(path, &r2, err, sizeof(err));
	ok(rc == REPORT_E_INVALID && strstr(err, "object"), "not an object: %s", err);
	rc = mutate(fixture, "\"pktmem.report/1\"", "\"pktmem.report/2\"", path, err, sizeof(err));
	ok(rc == REPORT_E_VERSION && strstr(err, "pktmem.report/2"), "another version: %s", err);
	rc = mutate(fixture, "\"pktmem.report/1\"", "\"pcap.stats/1\"", path, err, sizeof(err));
	ok(rc == REPORT_E_SCHEMA && strstr(err, "not a pktmem report"), "another schema: %s", err);
	rc = mutate(fixture, "\"cores\": 2", "\"cores\": \"2\"", path, err, sizeof(err));
	ok(rc == REPORT_E_INVALID && strstr(err, "env.cores") && strstr(err, "integer"),
	   "wrong type names the field: %s", err);
	rc = mutate(fixture, "\"sha256\": ", "\"sha_256\": ", path, err, sizeof(err));
	ok(rc == REPORT_E_INVALID && strstr(err, "missing field 'cap.sha256'"), "missing field: %s", err);
	rc = mutate(fixture, "\"count\": 1200", "\"count\": -3", path, err, sizeof(err));
	ok(rc == REPORT_E_INVALID && strstr(err, "trials[0].stages[2].count"), "negative count: %s", err);
	rc = mutate(fixture, "\"class\": \"exact\"", "\"class\": \"exactish\"", path, err, sizeof(err));
	ok(rc == REPORT_E_INVALID && strstr(err, "exactish"), "unknown metric class: %s", err);
	/* fuzz-report found it: the report's own string, quoted in the
	 * message, carried a newline into what must be one line */
	rc = mutate(fixture, "\"class\": \"exact\"", "\"class\": \"tim\\ng\\r\\u001b[0m\"", path, err,
		    sizeof(err));
	ok(rc == REPORT_E_INVALID && strstr(err, "tim?g??[0m") && !strchr(err, '\n'),
	   "a control character in a quoted value stays one line: %s", err);
	rc = mutate(fixture, "\"name\": \"parse\"", "\"name\": \"copy\"", path, err, sizeof(err));
	ok(rc == REPORT_E_INVALID && strstr(err, "duplicate stage 'copy'"), "duplicate stage: %s", err);
	rc = mutate(fixture, "\"value\": 1536.0", "\"value\": null", path, err, sizeof(err));
	ok(rc == REPORT_E_INVALID && strstr(err, "value"), "null value of an available metric: %s", err);
	rc = mutate(fixture, "\"trials\": [", "\"trials\": [], \"x\": [", path, err, sizeof(err));
	ok(rc == REPORT_E_INVALID && strstr(err, "at least one trial"), "no trials: %s", err);
	rc = mutate(fixture, "\"verified\": true", "\"verified\": 1", path, err, sizeof(err));
	ok(rc == REPORT_E_INVALID && strstr(err, "replay.verified"), "bool as number: %s", err);
	rc = report_read_json("/nonexistent/x.json", &r2, err, sizeof(err));
	ok(rc == -ENOENT && strstr(err, "No such file"), "missing file: %s", err);

	/* the summary file is a trial's replay object with "schema" first */
	snprintf(path, sizeof(path), "%s/sum.json", dir);
	rc = report_write_summary_json(&r->trial[1].replay, path);
	ok(rc == 0, "write a replay summary (%d)", rc);
	{
		char rt[1200];
		json_t *sum, *rep, *want;
		const char *first;

		snprintf(rt, sizeof(rt), "%s/rt.json", dir);
		sum = json_load_file(path, 0, NULL);
		rep = json_load_file(rt, 0, NULL);
		want = json_object_get(json_array_get(json_object_get(rep, "trials"), 1), "replay");
		first = sum ? json_object_iter_key(json_object_iter(sum)) : NULL;
		ok(first && !strcmp(first, "schema") &&
		   !strcmp(json_string_value(json_object_get(sum, "schema")), "pktmem.replay/2"),
		   "summary: \"schema\": \"pktmem.replay/2\" first");
		if (sum)
			json_object_del(sum, "schema");
		ok(sum && want && json_equal(sum, want),
		   "summary: otherwise the report's trials[1].replay, field for field");
		ok(want && !json_object_get(want, "target") && !json_object_get(want, "iface") &&
		   !json_object_get(want, "capture_packets") && !json_object_get(sum, "target") &&
		   !json_object_get(sum, "iface") && !json_object_get(sum, "capture_packets"),
		   "a replay without them: no target, iface or capture_packets key");
		json_decref(sum);
		json_decref(rep);
	}

	test_target_iface(fixture);

	/* atomic write failures leave nothing */
	snprintf(path, sizeof(path), "%s/no-such-dir/r.json", dir);
	ok(report_write_json(r, path) == -ENOENT, "write into a missing directory fails with ENOENT");
	if (geteuid() != 0) {
		char ro[1100];

		snprintf(ro, sizeof(ro), "%s/ro", dir);
		mkdir(ro, 0555);
		snprintf(path, sizeof(path), "%s/r.json", ro);
		ok(report_write_json(r, path) == -EACCES && count_entries(ro) == 0,
		   "write into a read-only directory: EACCES, no file");
		rmdir(ro);
	} else {
		skip("read-only directory test needs a non-root user (root ignores modes); t8010 covers a full tmpfs");
	}

	report_free(r);
	{
		char cmd[1200];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			diag("could not remove %s", dir);
	}
	return exit_status();
}
