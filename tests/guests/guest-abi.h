/*
 * guest-abi.h - constants shared by the test guests' assembly and C code:
 * how the entry code tells C which boot path ran, the debug-exit port and
 * the exit values every guest uses.
 * Not for: C declarations (guest.h).
 */
#ifndef BERTH_GUEST_ABI_H
#define BERTH_GUEST_ABI_H

#define GUEST_LOAD_ADDR		0x100000
#define GUEST_STACK_SIZE	0x8000

/* guest_start(kind, info): how the guest was entered. */
#define BOOT_KIND_BP64		1	/* 64-bit boot protocol, RSI = boot_params */
#define BOOT_KIND_BP32		2	/* 32-bit boot protocol, ESI = boot_params */
#define BOOT_KIND_SETUP16	3	/* our real-mode setup (QEMU -kernel bzImage) */
#define BOOT_KIND_PVH		4	/* PVH note, EBX = hvm_start_info */

/* EBP handed from setup.S to startup_32 ("SETU"); loaders pass 0. */
#define SETUP_MAGIC		0x55544553

/* Debug exit port (QEMU isa-debug-exit: process status (V << 1) | 1). */
#define DEBUG_EXIT_PORT		0x501
#define GUEST_EXIT_OK		0	/* test passed / normal halt */
#define GUEST_EXIT_FAIL		1	/* the guest's check failed */
#define GUEST_EXIT_PANIC	2	/* unexpected exception or internal error */

#endif
