/* doctor.c: 'pktmem doctor'. */
#include "cmd/cmd.h"

#include <string.h>

int cmd_doctor(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: pktmem doctor (not built yet)\n");
		return cmd_finish_stdout("doctor", EXIT_OK);
	}
	return cmd_not_built("doctor");
}
