#include "guest.h"
void guest_main(void) { printf("miniguest: not yet\n"); guest_exit(GUEST_EXIT_FAIL); }
