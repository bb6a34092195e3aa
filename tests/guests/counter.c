#include "guest.h"
void guest_main(void) { printf("counter: not yet\n"); guest_exit(GUEST_EXIT_FAIL); }
