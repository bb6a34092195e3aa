/*
 * hello.c - the smallest test guest: prints one line on COM1 and exits
 * with 0 through the debug-exit port.  Proves a loader can enter the guest
 * at all (bzImage or PVH) and that serial output and port 0x501 work.
 */
#include "guest.h"

void
guest_main(void)
{
	printf("Hello from berth guest\n");
	guest_exit(GUEST_EXIT_OK);
}
