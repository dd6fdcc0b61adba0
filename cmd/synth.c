/* synth.c: 'pktmem synth'. */
#include "cmd/cmd.h"

#include <string.h>

int cmd_synth(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: pktmem synth (not built yet)\n");
		return cmd_finish_stdout("synth", EXIT_OK);
	}
	return cmd_not_built("synth");
}
