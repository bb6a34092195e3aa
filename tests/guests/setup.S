/*
 * setup.S - the bzImage front of every test guest: a boot sector, the
 * setup header (boot protocol 2.15) and real-mode setup code.
 *
 * 64-bit boot-protocol loaders (berth-vmm) read only the header and enter
 * the payload at 0x100200.  Loaders that run the setup code (QEMU -kernel,
 * GRUB's linux16) enter at offset 0x200 in real mode, with DS = ES = SS =
 * the segment the setup was loaded at: like Linux's setup, this builds a
 * zeroed boot_params with a copy of the header and the BIOS e820 map,
 * opens A20, masks the PIC, switches to 32-bit protected mode and jumps to
 * code32_start with ESI = boot_params and EBP = SETUP_MAGIC.
 * Sizes (setup_sects, syssize, init_size) come from the link (setup.ld,
 * which also appends the payload).
 * Not for: anything after protected mode (head.S).
 */
#include "guest-abi.h"

#define BP_OFF		0x4000	/* boot_params copy, inside the setup segment */
#define BP_E820_ENTRIES	0x1e8
#define BP_E820_TABLE	0x2d0
#define E820_MAX	128
#define SMAP		0x534d4150

	.code16
	.section .bstext, "ax"
	.globl bootsect
bootsect:
	/* Booted from a disk by a BIOS: say so and stop. */
	ljmp	$0x07c0, $1f
1:	movw	%cs, %ax
	movw	%ax, %ds
	movw	$bs_msg, %si
2:	lodsb
	testb	%al, %al
	jz	3f
	movb	$0x0e, %ah
	movw	$7, %bx
	int	$0x10
	jmp	2b
3:	cli
	hlt
	jmp	3b
bs_msg:
	.asciz	"berth test guest: boot me with a Linux boot loader\r\n"

	.org	0x1f1
setup_sects:	.byte	SETUP_SECTS
root_flags:	.word	0
syssize:	.long	SYSSIZE
ram_size:	.word	0
vid_mode:	.word	0xffff
root_dev:	.word	0
boot_flag:	.word	0xaa55

	/* 0x200: the jump's offset also tells loaders where the header ends. */
	.byte	0xeb, start_of_setup - 1f
1:	.ascii	"HdrS"				/* 0x202 */
	.word	0x020f				/* 0x206 protocol 2.15 */
	.long	0				/* 0x208 realmode_swtch */
	.word	0				/* 0x20c start_sys_seg */
	.word	kernel_version_str - 0x200	/* 0x20e kernel_version */
	.byte	0				/* 0x210 type_of_loader */
	.byte	0x01				/* 0x211 loadflags: LOADED_HIGH */
	.word	0				/* 0x212 setup_move_size */
	.long	GUEST_LOAD_ADDR			/* 0x214 code32_start */
	.long	0				/* 0x218 ramdisk_image */
	.long	0				/* 0x21c ramdisk_size */
	.long	0				/* 0x220 bootsect_kludge */
	.word	0				/* 0x224 heap_end_ptr */
	.byte	0				/* 0x226 ext_loader_ver */
	.byte	0				/* 0x227 ext_loader_type */
	.long	0				/* 0x228 cmd_line_ptr */
	.long	0x7fffffff			/* 0x22c initrd_addr_max */
	.long	0x100000			/* 0x230 kernel_alignment */
	.byte	0				/* 0x234 relocatable_kernel */
	.byte	20				/* 0x235 min_alignment (1 MiB) */
	.word	0x0001				/* 0x236 xloadflags: XLF_KERNEL_64 */
	.long	2047				/* 0x238 cmdline_size */
	.long	0				/* 0x23c hardware_subarch */
	.quad	0				/* 0x240 hardware_subarch_data */
	.long	0				/* 0x248 payload_offset */
	.long	0				/* 0x24c payload_length */
	.quad	0				/* 0x250 setup_data */
	.quad	GUEST_LOAD_ADDR			/* 0x258 pref_address */
	.long	INIT_SIZE			/* 0x260 init_size */
	.long	0				/* 0x264 handover_offset */
	.long	KERNEL_INFO_OFFSET		/* 0x268 kernel_info_offset */

start_of_setup:
	cli
	cld
	/* Run with CS = DS so that labels are offsets in the segment. */
	pushw	%ds
	pushw	$normalized
	lretw
normalized:
	movw	%ds, %ax
	movw	%ax, %es

	/* A zeroed boot_params holding a copy of the setup header. */
	movw	$BP_OFF, %di
	xorw	%ax, %ax
	movw	$2048, %cx
	rep stosw
	movw	$0x1f1, %si
	movw	$BP_OFF + 0x1f1, %di
	movzbw	0x201, %cx
	addw	$0x202 - 0x1f1, %cx
	rep movsb

	/* The BIOS memory map (INT 15h, E820h). */
	xorl	%ebx, %ebx
	movw	$BP_OFF + BP_E820_TABLE, %di
e820_next:
	movl	$0xe820, %eax
	movl	$SMAP, %edx
	movl	$20, %ecx
	int	$0x15
	jc	e820_done
	cmpl	$SMAP, %eax
	jne	e820_done
	incb	BP_OFF + BP_E820_ENTRIES
	addw	$20, %di
	cmpb	$E820_MAX, BP_OFF + BP_E820_ENTRIES
	jae	e820_done
	testl	%ebx, %ebx
	jnz	e820_next
e820_done:

	/* Fast A20, PIC masked, NMI off. */
	inb	$0x92, %al
	orb	$0x02, %al
	andb	$0xfe, %al
	outb	%al, $0x92
	movb	$0xff, %al
	outb	%al, $0xa1
	outb	%al, $0x21
	movb	$0x80, %al
	outb	%al, $0x70

	/* Linear addresses: EBX = segment base. */
	xorl	%ebx, %ebx
	movw	%ds, %bx
	shll	$4, %ebx
	leal	setup_gdt(%ebx), %eax
	movl	%eax, setup_gdt_desc + 2
	lgdtl	setup_gdt_desc
	lidtl	null_idt
	leal	BP_OFF(%ebx), %esi
	movl	BP_OFF + 0x214, %eax		/* code32_start */
	movl	%eax, pm_jump
	movw	$0x10, pm_jump + 4
	xorl	%edx, %edx
	movw	%ss, %dx
	shll	$4, %edx
	movzwl	%sp, %eax
	addl	%eax, %edx
	andl	$-16, %edx

	movl	%cr0, %eax
	orb	$1, %al
	movl	%eax, %cr0
	movw	$0x18, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %fs
	movw	%ax, %gs
	movw	%ax, %ss
	movl	%edx, %esp
	movl	$SETUP_MAGIC, %ebp
	xorl	%edi, %edi
	xorl	%ebx, %ebx
	ljmpl	*%cs:pm_jump

	.balign	16
setup_gdt:
	.quad	0
	.quad	0
	.quad	0x00cf9a000000ffff		/* 0x10 32-bit code, flat */
	.quad	0x00cf92000000ffff		/* 0x18 data, flat */
setup_gdt_desc:
	.word	setup_gdt_desc - setup_gdt - 1
	.long	0
null_idt:
	.word	0
	.long	0
pm_jump:
	.long	0
	.word	0
kernel_version_str:
	.asciz	"berth test guest"

	.section .note.GNU-stack, "", @progbits
