/*
 * pktmem.c: main and the one command table.
 *
 * pktmem shows where, and at what cost, a request on the wire becomes
 * memory a program can touch.  Each command lives in cmd/<name>.c.
 */
#include "cmd/cmd.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

/* One row per command (git's git.c table).  No flags column: the one
 * privilege decision a row flag could carry (git's RUN_SETUP applied
 * before fn) is taken inside the commands on purpose.  'serve' drops its
 * capabilities only after binding its port, and 'replay' chooses
 * --via socket when it lacks the capabilities the packet path needs;
 * neither can be decided before the command has read its options. */
struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "replay",  cmd_replay,  "replay a capture into the built-in server, profile every stage, report" },
	{ "inspect", cmd_inspect, "show what is in a capture: link types, flows, anomalies, HTTP requests" },
	{ "serve",   cmd_serve,   "run the core server alone; stage stats on SIGUSR1 and at exit" },
	{ "compare", cmd_compare, "regression verdict between two reports" },
	{ "gate",    cmd_gate,    "replay N trials and compare against a baseline, for CI" },
	{ "report",  cmd_report,  "render a saved JSON report as text, Markdown or HTML" },
	{ "synth",   cmd_synth,   "write deterministic fixture captures" },
	{ "doctor",  cmd_doctor,  "what this machine lets pktmem measure, and how to enable the rest" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: pktmem [--version] [--help] <command> [<args>]\n\n"
		   "commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s  %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'pktmem <command> --help' shows a command's options.\n"
		   "exit codes: 0 success, 1 regression or verification failure,\n"
		   "2 usage or input error, 3 not comparable, 4 inconclusive (--strict)\n");
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct command *c;
	int rc;

	/* A closed pipe (pktmem inspect x | head) is a write error we report,
	 * not a silent death. */
	signal(SIGPIPE, SIG_IGN);

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return cmd_finish_stdout(NULL, EXIT_OK);
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("pktmem %s (git %s)\n", pktmem_version(), pktmem_git_rev());
		return cmd_finish_stdout(NULL, EXIT_OK);
	}
	c = find_command(argv[1]);
	if (!c) {
		fprintf(stderr, "pktmem: '%s' is not a pktmem command; see 'pktmem --help'\n", argv[1]);
		return EXIT_USAGE;
	}
	rc = c->fn(argc - 1, argv + 1);
	/* perf's run_builtin(): whatever the command printed must have
	 * reached its file (a full disk, a closed pipe) or the run failed. */
	return cmd_finish_stdout(c->name, rc);
}
