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

int main(int argc, char **argv)
{
	size_t i;

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
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);

	fprintf(stderr, "pktmem: '%s' is not a pktmem command; see 'pktmem --help'\n", argv[1]);
	return EXIT_USAGE;
}
