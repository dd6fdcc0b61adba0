/* gate.c: 'pktmem gate'. */
#include "cmd/cmd.h"

#include <string.h>

int cmd_gate(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: pktmem gate (not built yet)\n");
		return cmd_finish_stdout("gate", EXIT_OK);
	}
	return cmd_not_built("gate");
}
