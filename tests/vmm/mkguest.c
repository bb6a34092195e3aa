/*
 * mkguest.c - writes tiny test guests for berth-vmm's tests: a bzImage
 * (64-bit boot protocol) or an ELF with a PVH note around a few dozen bytes
 * of x86 code, plus deliberately broken images for the refusal tests.
 *
 *   mkguest KIND OUT       KIND: hello, bootparams, counter, echo, piogarbage,
 *                          flood, timer, irqecho, cpuid, legacy, panic, panicflood,
 *                          reset, triplefault, pvh-hello, and the broken ones:
 *                          bad-magic, truncated, lying-syssize, old-proto, no64,
 *                          elf-nonote, elf-entry-outside
 * The guests talk to the UART at 0x3f8 by polling and end through the debug
 * exit port 0x501, so they run under QEMU (-device isa-debug-exit) too.
 * Not for: the richer C guests of tests/guests (interrupts, timers).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOB(name) extern const uint8_t name##_start[], name##_end[]
BLOB(hello64);
BLOB(bootparams64);
BLOB(counter64);
BLOB(echo64);
BLOB(pio64);
BLOB(reset64);
BLOB(flood64);
BLOB(panic64);
BLOB(panicflood64);
BLOB(legacy64);
BLOB(cpuid64);
BLOB(timer64);
BLOB(irqecho64);
BLOB(triple64);
BLOB(pvh32);

/* Shared 64-bit helpers are appended to each 64-bit blob by the assembler
 * macro below; each blob is position independent (RIP-relative). */
__asm__(
	".section .rodata\n"
	".macro LIB64 p\n"
	"\\p\\()_puts: push %rax\n push %rdx\n"
	"1: movb (%rbx), %al\n test %al, %al\n jz 2f\n"
	" mov $0x3f8, %dx\n out %al, (%dx)\n inc %rbx\n jmp 1b\n"
	"2: pop %rdx\n pop %rax\n ret\n"
	"\\p\\()_puthex: push %rcx\n push %rax\n push %rdx\n mov $16, %ecx\n"
	"3: rol $4, %rdi\n mov %edi, %eax\n and $0xf, %eax\n cmp $10, %eax\n jb 4f\n"
	" add $39, %eax\n"
	"4: add $48, %eax\n mov $0x3f8, %dx\n out %al, (%dx)\n dec %ecx\n jnz 3b\n"
	" pop %rdx\n pop %rax\n pop %rcx\n ret\n"
	"\\p\\()_puthex2: push %rcx\n push %rax\n push %rdx\n push %rdi\n shl $56, %rdi\n mov $2, %ecx\n"
	"6: rol $4, %rdi\n mov %edi, %eax\n and $0xf, %eax\n cmp $10, %eax\n jb 7f\n add $39, %eax\n"
	"7: add $48, %eax\n mov $0x3f8, %dx\n out %al, (%dx)\n dec %ecx\n jnz 6b\n"
	" pop %rdi\n pop %rdx\n pop %rax\n pop %rcx\n ret\n"
	"\\p\\()_putc: push %rdx\n mov $0x3f8, %dx\n out %al, (%dx)\n pop %rdx\n ret\n"
	"\\p\\()_exit: mov $0x501, %dx\n out %al, (%dx)\n5: hlt\n jmp 5b\n"
	".endm\n"

	".code64\n"
	/* hello: one line, exit code 0x2a */
	".global hello64_start, hello64_end\n"
	"hello64_start:\n"
	" lea msg_hello(%rip), %rbx\n call h_puts\n mov $0x2a, %al\n call h_exit\n"
	" LIB64 h\n"
	"msg_hello: .asciz \"Hello from a berth test guest\\n\"\n"
	"hello64_end:\n"

	/* bootparams: print what the zero page says */
	".global bootparams64_start, bootparams64_end\n"
	"bootparams64_start:\n"
	" mov %rsi, %r12\n"
	" lea s_cmd(%rip), %rbx\n call b_puts\n mov 0x228(%r12), %ebx\n call b_puts\n"
	" lea s_loader(%rip), %rbx\n call b_puts\n movzbl 0x210(%r12), %edi\n call b_puthex\n"
	" lea s_initrd(%rip), %rbx\n call b_puts\n mov 0x218(%r12), %edi\n call b_puthex\n"
	" mov $0x20, %al\n call b_putc\n mov 0x21c(%r12), %edi\n call b_puthex\n"
	" mov $0x20, %al\n call b_putc\n"
	" mov 0x218(%r12), %ebx\n mov 0x21c(%r12), %ecx\n cmp $16, %ecx\n jbe 6f\n mov $16, %ecx\n"
	"6: test %ecx, %ecx\n jz 7f\n movb (%rbx), %al\n call b_putc\n inc %rbx\n dec %ecx\n jmp 6b\n"
	"7: lea s_e820(%rip), %rbx\n call b_puts\n movzbl 0x1e8(%r12), %r13d\n mov %r13, %rdi\n call b_puthex\n"
	" lea 0x2d0(%r12), %r14\n"
	"8: test %r13d, %r13d\n jz 9f\n mov $0x0a, %al\n call b_putc\n"
	" mov (%r14), %rdi\n call b_puthex\n mov $0x20, %al\n call b_putc\n"
	" mov 8(%r14), %rdi\n call b_puthex\n mov $0x20, %al\n call b_putc\n"
	" mov 16(%r14), %edi\n call b_puthex\n add $20, %r14\n dec %r13d\n jmp 8b\n"
	"9: lea s_end(%rip), %rbx\n call b_puts\n mov $0, %al\n call b_exit\n"
	" LIB64 b\n"
	"s_cmd: .asciz \"CMDLINE=\"\n"
	"s_loader: .asciz \"\\nLOADER=\"\n"
	"s_initrd: .asciz \"\\nINITRD=\"\n"
	"s_e820: .asciz \"\\nE820=\"\n"
	"s_end: .asciz \"\\nBOOTPARAMS END\\n\"\n"
	"bootparams64_end:\n"

	/* counter: "tick N" lines forever */
	".global counter64_start, counter64_end\n"
	"counter64_start:\n"
	" xor %r13, %r13\n"
	"10: inc %r13\n lea s_tick(%rip), %rbx\n call c_puts\n mov %r13, %rdi\n call c_puthex\n"
	" mov $0x0a, %al\n call c_putc\n mov $0x10000, %rcx\n"
	"11: dec %rcx\n jnz 11b\n jmp 10b\n"
	" LIB64 c\n"
	"s_tick: .asciz \"tick \"\n"
	"counter64_end:\n"

	/* echo: polled serial echo; 'q' ends with code 0x11 */
	".global echo64_start, echo64_end\n"
	"echo64_start:\n"
	" lea s_ready(%rip), %rbx\n call e_puts\n"
	"12: mov $0x3fd, %dx\n in (%dx), %al\n test $1, %al\n jnz 13f\n pause\n jmp 12b\n"
	"13: mov $0x3f8, %dx\n in (%dx), %al\n call e_putc\n cmp $0x71, %al\n jne 12b\n"
	" mov $0x11, %al\n call e_exit\n"
	" LIB64 e\n"
	"s_ready: .asciz \"ECHO READY\\n\"\n"
	"echo64_end:\n"

	/* piogarbage: write and read junk on every port but 0x64 and 0x501 */
	".global pio64_start, pio64_end\n"
	"pio64_start:\n"
	" xor %r8d, %r8d\n"
	"14: mov %r8d, %edx\n cmp $0x501, %edx\n je 15f\n cmp $0x64, %edx\n je 15f\n"
	" imul $0x9e3779b1, %r8d, %eax\n out %al, (%dx)\n in (%dx), %al\n"
	" out %ax, (%dx)\n in (%dx), %eax\n out %eax, (%dx)\n in (%dx), %ax\n"
	"15: inc %r8d\n cmp $0x10000, %r8d\n jb 14b\n"
	" mov $0x3fb, %dx\n mov $3, %al\n out %al, (%dx)\n"
	" mov $0x3fc, %dx\n mov $8, %al\n out %al, (%dx)\n"
	" mov $0x3f9, %dx\n mov $0, %al\n out %al, (%dx)\n"
	" lea s_pio(%rip), %rbx\n call p_puts\n mov $7, %al\n call p_exit\n"
	" LIB64 p\n"
	"s_pio: .asciz \"\\nPIO OK\\n\"\n"
	"pio64_end:\n"

	/* flood: 4 KiB of text per rep outsb, forever */
	".global flood64_start, flood64_end\n"
	"flood64_start:\n"
	" mov $0x200000, %rdi\n mov $4096, %ecx\n"
	"30: mov %ecx, %eax\n and $63, %eax\n add $0x30, %al\n cmp $0x6f, %al\n jne 31f\n mov $0x0a, %al\n"
	"31: stosb\n dec %ecx\n jnz 30b\n"
	"32: mov $0x200000, %rsi\n mov $4096, %ecx\n mov $0x3f8, %dx\n rep outsb\n jmp 32b\n"
	"flood64_end:\n"

	/* Interrupt guests: IDT at 0x300000 (vector 0x20 = PIT, 0x24 = UART,
	 * anything else = "unexpected" and exit 2), the PIC remapped to 0x20. */
	".macro IRQSETUP p, mask\n"
	" mov $0x300000, %rdi\n lea \\p\\()_unexp(%rip), %rax\n mov $256, %ecx\n"
	"40: call \\p\\()_gate\n add $16, %rdi\n dec %ecx\n jnz 40b\n"
	" mov $0x300200, %rdi\n lea \\p\\()_timer(%rip), %rax\n call \\p\\()_gate\n"
	" mov $0x300240, %rdi\n lea \\p\\()_uart(%rip), %rax\n call \\p\\()_gate\n"
	" lidt \\p\\()_idtr(%rip)\n"
	" mov $0x11, %al\n out %al, $0x20\n out %al, $0xa0\n"
	" mov $0x20, %al\n out %al, $0x21\n mov $0x28, %al\n out %al, $0xa1\n"
	" mov $4, %al\n out %al, $0x21\n mov $2, %al\n out %al, $0xa1\n"
	" mov $1, %al\n out %al, $0x21\n out %al, $0xa1\n"
	" mov $\\mask, %al\n out %al, $0x21\n mov $0xff, %al\n out %al, $0xa1\n"
	" movq $0, 0x310000\n"
	".endm\n"
	".macro IRQLIB p\n"
	/* gate at %rdi for handler %rax: present 64-bit interrupt gate, CS 0x10 */
	"\\p\\()_gate: mov %ax, (%rdi)\n movw $0x10, 2(%rdi)\n movw $0x8e00, 4(%rdi)\n"
	" push %rax\n shr $16, %rax\n mov %ax, 6(%rdi)\n shr $16, %rax\n mov %eax, 8(%rdi)\n"
	" movl $0, 12(%rdi)\n pop %rax\n ret\n"
	"\\p\\()_unexp: lea \\p\\()_s_unexp(%rip), %rbx\n call \\p\\()_puts\n mov $2, %al\n call \\p\\()_exit\n"
	"\\p\\()_timer: push %rax\n incq 0x310000\n mov $0x20, %al\n out %al, $0x20\n pop %rax\n iretq\n"
	"\\p\\()_uart: push %rax\n push %rdx\n"
	"41: mov $0x3fd, %dx\n in (%dx), %al\n test $1, %al\n jz 42f\n"
	" mov $0x3f8, %dx\n in (%dx), %al\n out %al, (%dx)\n cmp $0x71, %al\n jne 41b\n"
	" mov $0x12, %al\n mov $0x501, %dx\n out %al, (%dx)\n"
	"42: mov $0x20, %al\n out %al, $0x20\n pop %rdx\n pop %rax\n iretq\n"
	"\\p\\()_idtr: .word 4095\n .quad 0x300000\n"
	"\\p\\()_s_unexp: .asciz \"UNEXPECTED INTERRUPT\\n\"\n"
	".endm\n"

	/* timer: PIT channel 0 at 100 Hz through the in-kernel PIC; after 50
	 * ticks print TIMER OK and exit with 0x33 */
	".global timer64_start, timer64_end\n"
	"timer64_start:\n"
	" IRQSETUP t, 0xfe\n"
	" mov $0x34, %al\n out %al, $0x43\n mov $0x9c, %al\n out %al, $0x40\n mov $0x2e, %al\n out %al, $0x40\n"
	" lea s_tstart(%rip), %rbx\n call t_puts\n sti\n"
	"43: hlt\n cmpq $50, 0x310000\n jb 43b\n cli\n"
	" lea s_tok(%rip), %rbx\n call t_puts\n mov 0x310000, %rdi\n call t_puthex\n mov $0x0a, %al\n call t_putc\n"
	" mov $0x33, %al\n call t_exit\n"
	" LIB64 t\n IRQLIB t\n"
	"s_tstart: .asciz \"TIMER START\\n\"\n"
	"s_tok: .asciz \"TIMER OK \"\n"
	"timer64_end:\n"

	/* irqecho: the UART's receive interrupt echoes input; 'q' exits 0x12 */
	".global irqecho64_start, irqecho64_end\n"
	"irqecho64_start:\n"
	" IRQSETUP i, 0xef\n"
	" mov $0x3fb, %dx\n mov $3, %al\n out %al, (%dx)\n"
	" mov $0x3fa, %dx\n mov $0x07, %al\n out %al, (%dx)\n"
	" mov $0x3fc, %dx\n mov $0x0b, %al\n out %al, (%dx)\n"
	" mov $0x3f9, %dx\n mov $1, %al\n out %al, (%dx)\n"
	" lea s_iready(%rip), %rbx\n call i_puts\n sti\n"
	"44: hlt\n jmp 44b\n"
	" LIB64 i\n IRQLIB i\n"
	"s_iready: .asciz \"IRQECHO READY\\n\"\n"
	"irqecho64_end:\n"

	/* cpuid: the hypervisor leaves and this vCPU's APIC id */
	".global cpuid64_start, cpuid64_end\n"
	"cpuid64_start:\n"
	" mov $0x40000000, %eax\n cpuid\n mov %eax, %r12d\n"
	" mov %ebx, 0x200000\n mov %ecx, 0x200004\n mov %edx, 0x200008\n movb $0, 0x20000c\n"
	" lea s_hv(%rip), %rbx\n call u_puts\n mov $0x200000, %rbx\n call u_puts\n"
	" lea s_max(%rip), %rbx\n call u_puts\n mov %r12, %rdi\n call u_puthex\n"
	" mov $0x40000001, %eax\n cpuid\n mov %eax, %r12d\n"
	" lea s_feat(%rip), %rbx\n call u_puts\n mov %r12, %rdi\n call u_puthex\n"
	" mov $1, %eax\n cpuid\n mov %ecx, %r12d\n"
	" mov $1, %eax\n cpuid\n shr $24, %ebx\n mov %rbx, %r13\n"
	" lea s_apic(%rip), %rbx\n call u_puts\n mov %r13, %rdi\n call u_puthex\n"
	" lea s_hyp(%rip), %rbx\n call u_puts\n mov %r12, %rdi\n shr $31, %rdi\n call u_puthex\n"
	" mov $0x0a, %al\n call u_putc\n mov $0x21, %al\n call u_exit\n"
	" LIB64 u\n"
	"s_hv: .asciz \"HV=\"\n"
	"s_max: .asciz \"\\nHVMAX=\"\n"
	"s_feat: .asciz \"\\nKVMFEAT=\"\n"
	"s_apic: .asciz \"\\nAPICID=\"\n"
	"s_hyp: .asciz \"\\nHYPERVISOR=\"\n"
	"cpuid64_end:\n"

	/* legacy: probe the UART as Linux's 8250 driver does, the CMOS RTC in
	 * BCD and binary, and the i8042 self test; print what was read */
	".macro SHOW label, port\n"
	" lea \\label(%rip), %rbx\n call l_puts\n mov $\\port, %dx\n in (%dx), %al\n movzbl %al, %edi\n call l_puthex2\n"
	".endm\n"
	".macro GRAB port, slot\n"
	" mov $\\port, %dx\n in (%dx), %al\n mov %al, 0x200000+\\slot\n"
	".endm\n"
	".macro SHOWSLOT label, slot\n"
	" lea \\label(%rip), %rbx\n call l_puts\n movzbl 0x200000+\\slot, %edi\n call l_puthex2\n"
	".endm\n"
	".macro CMOS label, reg\n"
	" lea \\label(%rip), %rbx\n call l_puts\n mov $\\reg, %al\n out %al, $0x70\n in $0x71, %al\n movzbl %al, %edi\n call l_puthex2\n"
	".endm\n"
	".global legacy64_start, legacy64_end\n"
	"legacy64_start:\n"
	" mov $0x3ff, %dx\n mov $0x5a, %al\n out %al, (%dx)\n SHOW g_scr, 0x3ff\n"
	" mov $0x3f9, %dx\n mov $0x0f, %al\n out %al, (%dx)\n SHOW g_ier, 0x3f9\n"
	" mov $0x3f9, %dx\n mov $0, %al\n out %al, (%dx)\n"
	" mov $0x3fc, %dx\n mov $0x1a, %al\n out %al, (%dx)\n GRAB 0x3fe, 0\n"
	" mov $0x3f8, %dx\n mov $0x5a, %al\n out %al, (%dx)\n GRAB 0x3fd, 1\n GRAB 0x3f8, 2\n"
	" mov $0x3fc, %dx\n mov $0x08, %al\n out %al, (%dx)\n"
	" SHOWSLOT g_msr, 0\n SHOWSLOT g_lsr, 1\n SHOWSLOT g_loop, 2\n"
	" mov $0x3fa, %dx\n mov $0x07, %al\n out %al, (%dx)\n SHOW g_iir, 0x3fa\n"
	" mov $0x3fb, %dx\n mov $0x83, %al\n out %al, (%dx)\n mov $0x3f8, %dx\n mov $0x0c, %al\n out %al, (%dx)\n"
	" GRAB 0x3f8, 3\n mov $0x3fb, %dx\n mov $0x03, %al\n out %al, (%dx)\n SHOWSLOT g_dll, 3\n SHOW g_lcr, 0x3fb\n"
	" CMOS g_rtca, 0x0a\n CMOS g_rtcb, 0x0b\n CMOS g_rtcd, 0x0d\n"
	" CMOS g_bcdh, 0x04\n CMOS g_bcdm, 0x02\n CMOS g_bcdy, 0x09\n CMOS g_cent, 0x32\n"
	" mov $0x0b, %al\n out %al, $0x70\n mov $0x06, %al\n out %al, $0x71\n"
	" CMOS g_binh, 0x04\n CMOS g_binm, 0x02\n"
	" mov $0xaa, %al\n out %al, $0x64\n SHOW g_kst, 0x64\n SHOW g_kbd, 0x60\n"
	" mov $0x0a, %al\n call l_putc\n mov $0x22, %al\n call l_exit\n"
	" LIB64 l\n"
	"g_scr: .asciz \"SCR=\"\n"
	"g_ier: .asciz \"\\nIER=\"\n"
	"g_msr: .asciz \"\\nMSRLOOP=\"\n"
	"g_lsr: .asciz \"\\nLSRLOOP=\"\n"
	"g_loop: .asciz \"\\nLOOPDATA=\"\n"
	"g_iir: .asciz \"\\nIIR=\"\n"
	"g_dll: .asciz \"\\nDLL=\"\n"
	"g_lcr: .asciz \"\\nLCR=\"\n"
	"g_rtca: .asciz \"\\nRTCA=\"\n"
	"g_rtcb: .asciz \"\\nRTCB=\"\n"
	"g_rtcd: .asciz \"\\nRTCD=\"\n"
	"g_bcdh: .asciz \"\\nBCDHOUR=\"\n"
	"g_bcdm: .asciz \"\\nBCDMIN=\"\n"
	"g_bcdy: .asciz \"\\nBCDYEAR=\"\n"
	"g_cent: .asciz \"\\nCENTURY=\"\n"
	"g_binh: .asciz \"\\nBINHOUR=\"\n"
	"g_binm: .asciz \"\\nBINMIN=\"\n"
	"g_kst: .asciz \"\\nKBDSTATUS=\"\n"
	"g_kbd: .asciz \"\\nKBDTEST=\"\n"
	"legacy64_end:\n"

	/* panic: on the first input byte, print what Linux prints when it
	 * panics, then stop */
	".global panic64_start, panic64_end\n"
	"panic64_start:\n"
	"51: mov $0x3fd, %dx\n in (%dx), %al\n test $1, %al\n jnz 52f\n pause\n jmp 51b\n"
	"52: lea s_panic(%rip), %rbx\n call k_puts\n"
	"50: hlt\n jmp 50b\n"
	" LIB64 k\n"
	"s_panic: .asciz \"[    1.234] Kernel Kernel panic - not syncing: VFS: Unable to mount root fs\\n\"\n"
	"panic64_end:\n"

	/* panicflood: print a Linux panic line over and over */
	".global panicflood64_start, panicflood64_end\n"
	"panicflood64_start:\n"
	"53: lea s_pflood(%rip), %rbx\n call pf_puts\n jmp 53b\n"
	" LIB64 pf\n"
	"s_pflood: .asciz \"Kernel panic - not syncing: again\\n\"\n"
	"panicflood64_end:\n"

	/* reset through the i8042 */
	".global reset64_start, reset64_end\n"
	"reset64_start:\n"
	" lea s_reset(%rip), %rbx\n call r_puts\n mov $0xfe, %al\n out %al, $0x64\n"
	"16: hlt\n jmp 16b\n"
	" LIB64 r\n"
	"s_reset: .asciz \"resetting\\n\"\n"
	"reset64_end:\n"

	/* triple fault: empty IDT, then an exception */
	".global triple64_start, triple64_end\n"
	"triple64_start:\n"
	" lidt idt0(%rip)\n int3\n17: hlt\n jmp 17b\n"
	"idt0: .word 0\n .quad 0\n"
	"triple64_end:\n"

	/* PVH: 32-bit protected mode, EBX = hvm_start_info */
	".code32\n"
	".global pvh32_start, pvh32_end\n"
	"pvh32_start:\n"
	" call 20f\n20: pop %ebp\n"
	" cmpl $0x336ec578, (%ebx)\n jne 24f\n"
	" lea (p_ok-20b)(%ebp), %esi\n call 21f\n"
	" mov 24(%ebx), %esi\n call 21f\n"
	" lea (p_nl-20b)(%ebp), %esi\n call 21f\n"
	" mov $0x2a, %al\n jmp 23f\n"
	"24: lea (p_bad-20b)(%ebp), %esi\n call 21f\n mov $0x3, %al\n"
	"23: mov $0x501, %dx\n out %al, (%dx)\n25: hlt\n jmp 25b\n"
	"21: movb (%esi), %al\n test %al, %al\n jz 22f\n mov $0x3f8, %dx\n out %al, (%dx)\n"
	" inc %esi\n jmp 21b\n22: ret\n"
	"p_ok: .asciz \"PVH OK cmdline=\"\n"
	"p_nl: .asciz \"\\n\"\n"
	"p_bad: .asciz \"PVH BAD MAGIC\\n\"\n"
	"pvh32_end:\n"
	".code64\n"
	".text\n");

static void
put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void
put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void
put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

static int
write_file(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		return 1;
	}
	return 0;
}

/* A bzImage: 1 setup sector after the boot sector, then the payload with
 * the 64-bit entry at offset 0x200. */
static int
make_bzimage(const char *out, const uint8_t *code, size_t clen, const char *corrupt)
{
	size_t setup = 2 * 512, payload = 0x200 + clen, len;
	uint8_t *img;

	payload = (payload + 15) & ~(size_t)15;
	len = setup + payload;
	img = calloc(1, len);
	if (img == NULL)
		return 1;
	img[0x1f1] = 1;				/* setup_sects */
	put32(img + 0x1f4, (uint32_t)(payload / 16));	/* syssize */
	put16(img + 0x1fe, 0xaa55);
	img[0x200] = 0xeb;
	img[0x201] = 0x66;			/* header ends at 0x268 */
	memcpy(img + 0x202, "HdrS", 4);
	put16(img + 0x206, 0x020f);
	img[0x211] = 0x01;			/* LOADED_HIGH */
	put32(img + 0x214, 0x100000);
	put32(img + 0x22c, 0x7fffffff);		/* initrd_addr_max */
	put32(img + 0x230, 0x200000);
	img[0x234] = 1;				/* relocatable */
	img[0x236] = 0x01;			/* XLF_KERNEL_64 */
	put32(img + 0x238, 2047);		/* cmdline_size */
	put64(img + 0x258, 0x1000000);
	put32(img + 0x260, (uint32_t)payload + 0x1000);	/* init_size */
	memset(img + setup, 0xf4, 0x200);	/* hlt in the 32-bit entry area */
	memcpy(img + setup + 0x200, code, clen);
	if (corrupt) {
		if (!strcmp(corrupt, "bad-magic"))
			memcpy(img + 0x202, "HdrX", 4);
		else if (!strcmp(corrupt, "truncated"))
			len = 0x300;
		else if (!strcmp(corrupt, "lying-syssize"))
			put32(img + 0x1f4, (uint32_t)(payload / 16) + 0x10000);
		else if (!strcmp(corrupt, "old-proto"))
			put16(img + 0x206, 0x0204);
		else if (!strcmp(corrupt, "no64"))
			img[0x236] = 0;
	}
	int r = write_file(out, img, len);
	free(img);
	return r;
}

/* An ELF64 with one PT_LOAD at 1 MiB and a PT_NOTE holding the PVH entry. */
static int
make_elf(const char *out, const uint8_t *code, size_t clen, const char *corrupt)
{
	size_t code_off = 0x1000, note_off = 0x200, len = code_off + clen;
	uint64_t entry = 0x100000;
	uint8_t *img = calloc(1, len), *ph;
	int with_note = !(corrupt && !strcmp(corrupt, "elf-nonote"));

	if (img == NULL)
		return 1;
	if (corrupt && !strcmp(corrupt, "elf-entry-outside"))
		entry = 0x40000000;
	memcpy(img, "\177ELF", 4);
	img[4] = 2; img[5] = 1; img[6] = 1;
	put16(img + 16, 2);			/* ET_EXEC */
	put16(img + 18, 62);			/* x86-64 */
	put32(img + 20, 1);
	put64(img + 24, 0x100000);
	put64(img + 32, 64);			/* phoff */
	put16(img + 52, 64);
	put16(img + 54, 56);
	put16(img + 56, with_note ? 2 : 1);
	ph = img + 64;
	put32(ph, 1);				/* PT_LOAD */
	put32(ph + 4, 5);
	put64(ph + 8, code_off);
	put64(ph + 16, 0x100000);
	put64(ph + 24, 0x100000);
	put64(ph + 32, clen);
	put64(ph + 40, clen + 0x1000);
	put64(ph + 48, 0x1000);
	if (with_note) {
		uint8_t *n = img + note_off;
		ph += 56;
		put32(ph, 4);			/* PT_NOTE */
		put64(ph + 8, note_off);
		put64(ph + 32, 20);
		put64(ph + 40, 20);
		put64(ph + 48, 4);
		put32(n, 4);			/* namesz "Xen\0" */
		put32(n + 4, 4);		/* descsz */
		put32(n + 8, 18);		/* XEN_ELFNOTE_PHYS32_ENTRY */
		memcpy(n + 12, "Xen", 4);
		put32(n + 16, (uint32_t)entry);
	}
	memcpy(img + code_off, code, clen);
	int r = write_file(out, img, len);
	free(img);
	return r;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *kind;
		const uint8_t *start, *end;
		int elf;
		const char *corrupt;
	} kinds[] = {
		{ "hello", hello64_start, hello64_end, 0, NULL },
		{ "bootparams", bootparams64_start, bootparams64_end, 0, NULL },
		{ "counter", counter64_start, counter64_end, 0, NULL },
		{ "echo", echo64_start, echo64_end, 0, NULL },
		{ "piogarbage", pio64_start, pio64_end, 0, NULL },
		{ "timer", timer64_start, timer64_end, 0, NULL },
		{ "irqecho", irqecho64_start, irqecho64_end, 0, NULL },
		{ "cpuid", cpuid64_start, cpuid64_end, 0, NULL },
		{ "legacy", legacy64_start, legacy64_end, 0, NULL },
		{ "panic", panic64_start, panic64_end, 0, NULL },
		{ "panicflood", panicflood64_start, panicflood64_end, 0, NULL },
		{ "flood", flood64_start, flood64_end, 0, NULL },
		{ "reset", reset64_start, reset64_end, 0, NULL },
		{ "triplefault", triple64_start, triple64_end, 0, NULL },
		{ "pvh-hello", pvh32_start, pvh32_end, 1, NULL },
		{ "bad-magic", hello64_start, hello64_end, 0, "bad-magic" },
		{ "truncated", hello64_start, hello64_end, 0, "truncated" },
		{ "lying-syssize", hello64_start, hello64_end, 0, "lying-syssize" },
		{ "old-proto", hello64_start, hello64_end, 0, "old-proto" },
		{ "no64", hello64_start, hello64_end, 0, "no64" },
		{ "elf-nonote", pvh32_start, pvh32_end, 1, "elf-nonote" },
		{ "elf-entry-outside", pvh32_start, pvh32_end, 1, "elf-entry-outside" },
	};

	if (argc != 3) {
		fprintf(stderr, "usage: mkguest KIND OUT\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		if (strcmp(argv[1], kinds[i].kind))
			continue;
		if (kinds[i].elf)
			return make_elf(argv[2], kinds[i].start, (size_t)(kinds[i].end - kinds[i].start),
					kinds[i].corrupt);
		return make_bzimage(argv[2], kinds[i].start, (size_t)(kinds[i].end - kinds[i].start),
				    kinds[i].corrupt);
	}
	fprintf(stderr, "mkguest: unknown kind `%s'\n", argv[1]);
	return 2;
}
