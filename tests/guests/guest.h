/*
 * guest.h - the tiny runtime every berth test guest links: port I/O, the
 * COM1 console, printf, exit through the debug-exit port, the normalised
 * boot information (from boot_params or hvm_start_info), the command line,
 * interrupts (IDT, PIC, IOAPIC, LAPIC), TSC time and ACPI CPU counting.
 * Each guest provides guest_main().
 * Not for: anything a real OS needs (no allocator, no SMP, no paging changes).
 */
#ifndef BERTH_GUEST_H
#define BERTH_GUEST_H

#include <stdint.h>
#include <stddef.h>
#include <stdarg.h>

#include "guest-abi.h"

#define noreturn __attribute__((noreturn))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- port and MMIO access */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t mmio_read32(uint64_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_write32(uint64_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint64_t rdtsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return (uint64_t)hi << 32 | lo; }
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
/* sti; hlt as one step: an interrupt arriving in between still wakes us. */
static inline void wait_for_interrupt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

/* ---- lib.c: strings, console, exit */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
uint32_t crc32(uint32_t crc, const void *buf, size_t len);

void serial_init(void);
void serial_putc(char c);
void serial_write(const char *s, size_t n);
int serial_getc_nowait(void);		/* -1 when no byte is waiting */
void puts_raw(const char *s);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void guest_exit(int value);
noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- boot.c: boot information, whatever the loader */
#define BOOT_MEM_MAX 128
struct boot_mem {
	uint64_t addr, size;
	uint32_t type;		/* e820 type: 1 RAM, 2 reserved, 3 ACPI, 4 NVS, 5 unusable */
};
struct boot_info {
	int kind;			/* BOOT_KIND_* */
	const char *kind_name;		/* "bzImage 64-bit entry", ... */
	uint64_t info_addr;		/* boot_params or hvm_start_info */
	const char *cmdline;		/* never NULL ("" when none) */
	uint64_t cmdline_addr;		/* 0 when none */
	uint32_t cmdline_size;		/* bzImage: header's cmdline_size */
	uint64_t initrd_addr, initrd_size;
	uint64_t rsdp_addr;		/* 0 when the loader gave none */
	uint16_t boot_protocol;		/* bzImage header version, 0 for PVH */
	uint8_t type_of_loader;
	unsigned nmem;
	struct boot_mem mem[BOOT_MEM_MAX];
	char problem[128];		/* malformed boot info, "" when fine */
};
extern struct boot_info boot;
extern char _end[], __bss_start[], stack_bottom[], stack_top[];
uint64_t boot_ram_bytes(void);			/* sum of e820 type 1 */
const char *e820_type_name(uint32_t type);

/* cmdline lookups: "key=value" words; value copied into buf. */
int cmdline_get(const char *key, char *buf, size_t size);	/* 1 found, 0 not */
int cmdline_has(const char *word);				/* "key" or "key=..." */
uint64_t cmdline_u64(const char *key, uint64_t dflt);		/* 0x.. hex or decimal */
int parse_u64(const char *s, uint64_t *out);

/* ---- irq.c: interrupts */
struct irq_frame {
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};
typedef void (*irq_handler_fn)(int irq);
void irq_init(void);			/* IDT; PIC remapped and masked; exceptions panic */
/*
 * Route ISA interrupt `irq` (0 PIT, 4 COM1) to handler through both the PIC
 * (LAPIC LINT0 in ExtINT mode) and the IOAPIC (pin irq, and pin 2 for the
 * PIT); the first path that delivers wins and the other is masked.
 */
void irq_route_isa(int irq, irq_handler_fn handler);
const char *irq_path(void);		/* "pic", "ioapic" or "none" yet */
unsigned long irq_spurious(void);
int lapic_present(void);
#define LAPIC_TIMER_VECTOR 0x60
uint32_t lapic_timer_rate(uint64_t ms);	/* LAPIC timer counts per ms ms */
int lapic_timer_start(uint32_t count, irq_handler_fn handler);	/* periodic */
void lapic_timer_stop(void);

/* ---- time.c: TSC calibrated against the PIT */
void time_init(void);			/* calibrates; reports in tsc_khz */
extern uint64_t tsc_khz;
extern const char *tsc_source;		/* "pit", "cpuid" or "guess" */
uint64_t uptime_ms(void);
void delay_ms(uint64_t ms);
void pit_periodic(unsigned hz);		/* channel 0, mode 2 */

/* ---- acpi.c */
int acpi_cpu_count(void);		/* enabled CPUs in the MADT, -1 unknown */

/* ---- the guest */
void guest_main(void);

#endif
