// fuzz-sources: src/vmm/boot.c src/vmm/boot-bzimage.c src/vmm/boot-pvh.c src/vmm/memory.c src/core/error.c src/core/util.c
// fuzz-libs: -lm
// fuzz-cflags: -DBOOT_FUZZER -I@top_srcdir@/tests/lib
/*
 * fuzz-boot.c - libFuzzer target for berth-vmm's kernel loaders (bzImage
 * setup header and PVH ELF note parsing, initrd and command line placement):
 * any byte string is loaded as a kernel into a small guest memory and must
 * either load inside it or be refused with a message.  The target itself is
 * tests/vmm/test-boot.c built with BOOT_FUZZER.
 */
#include "../vmm/test-boot.c"
