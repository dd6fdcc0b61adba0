/*
 * cmd.h: the command layer.  Only cmd/ prints diagnostics and picks exit
 * codes; library code below returns negative errno or a module's own
 * negative code and a *_strerror() that says what to do.
 *
 * Adding a command (the checklist):
 *   1. cmd/<name>.c defines int cmd_<name>(int argc, char **argv), with
 *      argv[0] == "<name>", and a --help that prints its usage to stdout;
 *   2. one row in commands[] in cmd/pktmem.c;
 *   3. a CLI test tests/t0NNN-<name>.t and a README section.
 */
#ifndef PKTMEM_CMD_H
#define PKTMEM_CMD_H

#include <stdio.h>

/* Exit codes shared by every command (DESIGN.md, issue #7). */
enum {
	EXIT_OK = 0,
	EXIT_VERDICT = 1,	/* regression, verification failure, doctor: not all usable */
	EXIT_USAGE = 2,		/* usage or input error */
	EXIT_NOT_COMPARABLE = 3,
	EXIT_INCONCLUSIVE = 4,
};

int cmd_replay(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_gate(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_doctor(int argc, char **argv);

/* "pktmem: <cmd>: <message>" on stderr, one line.  Returns EXIT_USAGE so a
 * caller can write "return cmd_error(...)". */
int cmd_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cmd_warn(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* For commands whose implementation has not landed: says so, exit 2. */
int cmd_not_built(const char *name);

/* Flush stdout and report a write error (full disk, closed pipe) as a
 * failure: returns rc unchanged when all went out, else EXIT_USAGE. */
int cmd_finish_stdout(const char *cmd, int rc);

/* Writes JSON j (json_dumpf flags) to path atomically: a temp file beside
 * it, flushed, synced and closed with every error checked, then renamed;
 * on failure nothing is left behind.  "-" is standard output (checked at
 * exit by cmd_finish_stdout).  0 or negative errno (ENOSPC kept, not
 * turned into EIO). */
struct json_t;
int cmd_write_json(const char *path, const struct json_t *j, size_t flags);

/* True when colour may be used on stream f: a terminal and no NO_COLOR. */
int cmd_use_color(FILE *f);

const char *pktmem_version(void);
const char *pktmem_git_rev(void);

#endif
