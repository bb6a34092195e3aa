/*
 * head.S - entry points of every berth test guest, linked at 1 MiB.
 *
 *   0x100000 startup_32  32-bit boot protocol: protected mode, paging off,
 *                        ESI = boot_params (our own real-mode setup code
 *                        also arrives here, with EBP = "SETU").
 *   0x100200 startup_64  64-bit boot protocol: long mode, RSI = boot_params,
 *                        the loader's identity map on.
 *            pvh_start   PVH (XEN_ELFNOTE_PHYS32_ENTRY): protected mode,
 *                        paging off, EBX = hvm_start_info.
 *
 * All three load the guest's own GDT and page tables (identity map of the
 * low 4 GiB in 2 MiB pages, built by the assembler), clear .bss and call
 * guest_start(kind, info) in C.  Also the IDT stubs for irq.c.
 * Not for: anything that can be written in C.
 */
#include "guest-abi.h"

#define SEL_CODE64	0x08
#define SEL_CODE32	0x10
#define SEL_DATA	0x18

	.section .head, "ax"
	.code32
	.globl startup_32
startup_32:
	cli
	cld
	movl	$BOOT_KIND_BP32, %edi
	cmpl	$SETUP_MAGIC, %ebp
	jne	common32
	movl	$BOOT_KIND_SETUP16, %edi
	jmp	common32

	/* The 64-bit entry must sit at offset 0x200 (boot protocol). */
	.org	0x200
	.code64
	.globl startup_64
startup_64:
	cli
	cld
	movl	$BOOT_KIND_BP64, %edi
	lgdt	gdt_desc
	movl	$pml4, %eax
	movq	%rax, %cr3
	pushq	$SEL_CODE64
	pushq	$long_entry
	lretq

	.code32
	.globl pvh_start
pvh_start:
	cli
	cld
	movl	%ebx, %esi
	movl	$BOOT_KIND_PVH, %edi

	/* EDI = kind, ESI = boot info pointer; flat segments, paging off. */
common32:
	lgdt	gdt_desc
	ljmp	$SEL_CODE32, $1f
1:	movl	$SEL_DATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs
	movl	%cr4, %eax
	orl	$0x20, %eax		/* PAE */
	movl	%eax, %cr4
	movl	$pml4, %eax
	movl	%eax, %cr3
	movl	$0xc0000080, %ecx	/* EFER.LME */
	rdmsr
	orl	$0x100, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$0x80000021, %eax	/* PG | NE | PE */
	movl	%eax, %cr0
	ljmp	$SEL_CODE64, $long_entry

	.code64
long_entry:
	movl	$SEL_DATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs
	movq	$stack_top, %rsp
	movl	%edi, %r12d
	movl	%esi, %r13d		/* both pointers are 32-bit */
	movq	$__bss_start, %rdi
	movq	$__bss_end, %rcx
	subq	%rdi, %rcx
	xorl	%eax, %eax
	rep stosb
	movl	%r12d, %edi
	movq	%r13, %rsi
	xorl	%ebp, %ebp
	call	guest_start
2:	cli
	hlt
	jmp	2b

/*
 * Interrupt stubs: one per vector, pushing a dummy error code where the CPU
 * pushes none, then the vector; irq_common saves the caller-saved registers
 * and calls irq_dispatch(struct irq_frame *).
 */
	.section .text
	.globl irq_stubs
	.balign 16
irq_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	.if (vec == 8) || (vec >= 10 && vec <= 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	pushq	$vec
	.else
	pushq	$0
	pushq	$vec
	.endif
	jmp	irq_common
	.set vec, vec + 1
	.endr

irq_common:
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, %rdi
	movq	%rsp, %rbx
	andq	$-16, %rsp
	call	irq_dispatch
	movq	%rbx, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rax
	addq	$16, %rsp
	iretq

	.section .data
	.balign 16
gdt:
	.quad	0
	.quad	0x00af9a000000ffff	/* 0x08 64-bit code */
	.quad	0x00cf9a000000ffff	/* 0x10 32-bit code, flat */
	.quad	0x00cf92000000ffff	/* 0x18 data, flat */
gdt_end:
	.balign 8
	.word	0
gdt_desc:
	.word	gdt_end - gdt - 1
	.quad	gdt

/* Identity map of 0..4 GiB; the top 32 MiB (LAPIC, IOAPIC, flash) uncached. */
	.balign 4096
pml4:
	.quad	pdpt + 0x3
	.fill	511, 8, 0
pdpt:
	.quad	pd + 0x3
	.quad	pd + 0x1003
	.quad	pd + 0x2003
	.quad	pd + 0x3003
	.fill	508, 8, 0
pd:
	.set i, 0
	.rept 2048
	.if i >= 2032
	.quad	(i << 21) | 0x9b
	.else
	.quad	(i << 21) | 0x83
	.endif
	.set i, i + 1
	.endr

	.section .bss
	.balign 16
	.globl stack_bottom
stack_bottom:
	.skip	GUEST_STACK_SIZE
	.globl stack_top
stack_top:

/* Boot protocol 2.15 kernel_info (kernel_info_offset points here). */
	.section .rodata
	.balign 4
	.globl kernel_info
kernel_info:
	.ascii	"LToP"
	.long	kernel_info_end - kernel_info	/* size */
	.long	kernel_info_end - kernel_info	/* size_total */
	.long	0				/* setup_type_max */
kernel_info_end:

/* PVH entry note: the 32-bit physical entry address. */
	.section .note.pvh, "a"
	.balign 4
	.long	4			/* namesz */
	.long	8			/* descsz */
	.long	18			/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz	"Xen"
	.quad	pvh_start
	.balign 4

	.section .note.GNU-stack, "", @progbits
