/* doctor.c: 'pktmem doctor': what this machine lets pktmem measure. */
#include "cmd/cmd.h"
#include "run/doctor.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: pktmem doctor [--json FILE|-]\n\n"
		   "Probes privileges, perf_event_paranoid, the PMU, libpfm4, tracefs and every\n"
		   "tracepoint pktmem uses, sampling, BPF on tracepoints, io_uring, network\n"
		   "namespaces, veth and the PACKET_MMAP TX ring -- by trying each -- and prints\n"
		   "one line per probe with the fix for what is missing.\n\n"
		   "  --json FILE   also write the result as JSON (\"-\": to stdout, no table)\n\n"
		   "exit: 0 the full default replay can run here, 1 it cannot, 2 usage\n");
}

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
	if (!strcmp(path, "-")) {
		rc = json_dumpf(root, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else {
		rc = json_dump_file(root, path, JSON_INDENT(2));
	}
	json_decref(root);
	return rc;
}

int cmd_doctor(int argc, char **argv)
{
	struct doctor_report *r;
	const char *json = NULL;
	int i, rc;
	size_t k;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return cmd_finish_stdout("doctor", EXIT_OK);
		} else if (!strcmp(argv[i], "--json") && i + 1 < argc) {
			json = argv[++i];
		} else if (!strncmp(argv[i], "--json=", 7)) {
			json = argv[i] + 7;
		} else {
			cmd_error("doctor", "unknown option '%s'", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return cmd_error("doctor", "out of memory");
	doctor_run(r);
	if (!json || strcmp(json, "-")) {
		int color = cmd_use_color(stdout);

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
	rc = r->can_replay ? EXIT_OK : EXIT_VERDICT;
	if (json && write_json(r, json) < 0) {
		cmd_error("doctor", "'%s': cannot write JSON", json);
		rc = EXIT_USAGE;
	}
	free(r);
	return cmd_finish_stdout("doctor", rc);
}
