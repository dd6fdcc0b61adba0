/* doctor.c: 'pktmem doctor': what this machine lets pktmem measure. */
#include "cmd/cmd.h"
#include "lib/opts.h"
#include "run/doctor.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *json_path;

static const struct opt doctor_opts[] = {
	OPT_STRING(0, "json", &json_path, "FILE",
		   "also write the result as JSON (\"-\": to stdout, no table)"),
	OPT_END(),
};

static const struct opt_cmd doctor_cmd = {
	.name = "doctor",
	.usage = "usage: pktmem doctor [--json FILE|-]\n\n",
	.intro = "Probes privileges, perf_event_paranoid, the PMU, libpfm4, tracefs and every\n"
		 "tracepoint pktmem uses, sampling, BPF on tracepoints, io_uring, network\n"
		 "namespaces, veth and the PACKET_MMAP TX ring -- by trying each, with the\n"
		 "replay's own setup -- and prints one line per probe with the fix for what\n"
		 "is missing.\n\n",
	.opts = doctor_opts,
	.help_col = 16,
	.outro = "\nexit: 0 the full default replay can run here, 1 it cannot, 2 usage\n",
};

static int write_json(const struct doctor_report *r, const char *path)
{
	json_t *root = json_object(), *arr = json_array();
	size_t i;
	int rc;

	json_object_set_new(root, "schema", json_string("pktmem.doctor/1"));
	json_object_set_new(root, "can_replay", json_boolean(r->can_replay));
	for (i = 0; i < r->n; i++) {
		const struct doctor_probe *p = &r->probe[i];

		json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:s, s:s}",
			"name", p->name, "status", doctor_status_name(p->status),
			"required", p->required, "detail", p->detail, "fix", p->fix));
	}
	json_object_set_new(root, "probes", arr);
	rc = cmd_write_json(path, root, JSON_INDENT(2));
	json_decref(root);
	return rc;
}

static void print_table(const struct doctor_report *r)
{
	int color = cmd_use_color(stdout);
	size_t k;

	for (k = 0; k < r->n; k++) {
		const struct doctor_probe *p = &r->probe[k];
		const char *c = !color ? "" : p->status == DOCTOR_OK ? "\033[32m" :
				p->status == DOCTOR_MISSING ? "\033[31m" :
				p->status == DOCTOR_WARN ? "\033[33m" : "";

		printf("%s%-7s%s %-40s %s", c, doctor_status_name(p->status),
		       color ? "\033[0m" : "", p->name, p->detail);
		if (p->fix[0])
			printf("  (fix: %s)", p->fix);
		putchar('\n');
	}
	printf("%s\n", r->can_replay ? "verdict: the full default replay can run here"
				     : "verdict: the full default replay cannot run here (see 'missing' above)");
}

int cmd_doctor(int argc, char **argv)
{
	struct doctor_report *r;
	int i, rc;

	json_path = NULL;
	i = cmd_parse_options(&doctor_cmd, argc, argv, &rc);
	if (i < 0)
		return rc;
	if (i < argc)
		return cmd_error("doctor", "unexpected argument '%s'; see 'pktmem doctor --help'",
				 argv[i]);
	r = calloc(1, sizeof(*r));
	if (!r)
		return cmd_error("doctor", "out of memory");
	doctor_run(r);
	if (!json_path || strcmp(json_path, "-"))
		print_table(r);
	rc = r->can_replay ? EXIT_OK : EXIT_VERDICT;
	if (json_path && (i = write_json(r, json_path)) < 0) {
		cmd_error("doctor", "'%s': cannot write JSON: %s", json_path, strerror(-i));
		rc = EXIT_USAGE;
	}
	free(r);
	return rc;
}
