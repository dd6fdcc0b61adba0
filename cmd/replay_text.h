/*
 * replay_text.h: the terminal summary of one 'pktmem replay' (what was
 * sent, how fast, what the server read, the verdict, and for a foreign
 * server what it answered and allocated), above the stage table.
 */
#ifndef PKTMEM_CMD_REPLAY_TEXT_H
#define PKTMEM_CMD_REPLAY_TEXT_H

#include "run/run.h"

/* Prints the summary to stdout: composed whole, then each line longer
 * than the report table's 100 columns wrapped under its value column. */
void replay_print_text(const struct run_cfg *o, const struct run_view *v);

#endif
