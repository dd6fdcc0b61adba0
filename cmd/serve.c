/* serve.c: 'pktmem serve'. */
#include "cmd/cmd.h"

#include <string.h>

int cmd_serve(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: pktmem serve (not built yet)\n");
		return cmd_finish_stdout("serve", EXIT_OK);
	}
	return cmd_not_built("serve");
}
