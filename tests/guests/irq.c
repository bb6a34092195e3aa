/*
 * irq.c - interrupts for the test guests: an IDT over head.S's stubs,
 * exceptions that end the guest with a register dump, and ISA interrupt
 * routing through the 8259 PIC and the IOAPIC.
 *
 * A VMM may wire an ISA line to the PIC only, to the IOAPIC only, or to
 * both, and the PIT may arrive on IOAPIC pin 0 (KVM's default routing) or
 * pin 2 (the ACPI override QEMU uses).  So irq_route_isa() arms every path
 * at once, keeps the first one that delivers and masks the others; the
 * chosen path is reported so tests can say which one the VMM provides.
 * The command-line key irq=pic or irq=ioapic arms only that path.
 * The LAPIC timer (lapic_timer_start) uses vector LAPIC_TIMER_VECTOR.
 * Not for: MSI, several CPUs.
 */
#include "guest.h"

#define PIC1_CMD	0x20
#define PIC1_DATA	0x21
#define PIC2_CMD	0xa0
#define PIC2_DATA	0xa1
#define PIC_VECTOR	0x20	/* IRQ n -> vector 0x20 + n */
#define IOAPIC_VECTOR	0x40	/* IOAPIC pin p -> vector 0x40 + p */
#define SPURIOUS_VECTOR	0xff

#define LAPIC_ID	0x020
#define LAPIC_TPR	0x080
#define LAPIC_EOI	0x0b0
#define LAPIC_SVR	0x0f0
#define LAPIC_LVT0	0x350
#define LAPIC_LVT1	0x360
#define LAPIC_LVT_TIMER	0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR	0x390
#define LAPIC_TIMER_DIV	0x3e0
#define IOAPIC_BASE	0xfec00000ull

#define PATH_NONE	0
#define PATH_PIC	1
#define PATH_IOAPIC	2

struct idt_entry {
	uint16_t off_lo, sel;
	uint8_t ist, attr;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

static struct idt_entry idt[256] __attribute__((aligned(16)));
static uint64_t lapic_base;
static int have_lapic, have_ioapic;
static unsigned ioapic_pins;
static irq_handler_fn handlers[16];
static int irq_path_of[16];		/* PATH_* per ISA irq */
static int irq_pin_of[16];		/* the IOAPIC pin that won */
static int pin_irq[24];			/* IOAPIC pin -> ISA irq, -1 none */
static unsigned long spurious;
static int last_path = PATH_NONE;

extern char irq_stubs[];
void irq_dispatch(struct irq_frame *f);
static void lapic_enable(void);

static uint64_t
rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static uint32_t lapic_read(uint32_t reg) { return mmio_read32(lapic_base + reg); }
static void lapic_write(uint32_t reg, uint32_t v) { mmio_write32(lapic_base + reg, v); }

static uint32_t
ioapic_read(uint32_t reg)
{
	mmio_write32(IOAPIC_BASE, reg);
	return mmio_read32(IOAPIC_BASE + 0x10);
}

static void
ioapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(IOAPIC_BASE, reg);
	mmio_write32(IOAPIC_BASE + 0x10, v);
}

static void
ioapic_set_pin(unsigned pin, int vector, int masked)
{
	uint32_t dest = have_lapic ? lapic_read(LAPIC_ID) >> 24 : 0;

	if (pin >= ioapic_pins)
		return;
	ioapic_write(0x11 + 2 * pin, dest << 24);
	/* fixed delivery, physical destination, active high, edge */
	ioapic_write(0x10 + 2 * pin, (uint32_t)vector | (masked ? 1u << 16 : 0));
}

static void
pic_set_mask(int irq, int masked)
{
	uint16_t port = irq < 8 ? PIC1_DATA : PIC2_DATA;
	uint8_t bit = (uint8_t)(1u << (irq & 7));
	uint8_t m = inb(port);

	outb(port, masked ? (uint8_t)(m | bit) : (uint8_t)(m & ~bit));
	if (irq >= 8 && !masked)
		pic_set_mask(2, 0);
}

static void
pic_init(void)
{
	outb(PIC1_CMD, 0x11);
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, PIC_VECTOR);
	outb(PIC2_DATA, PIC_VECTOR + 8);
	outb(PIC1_DATA, 0x04);
	outb(PIC2_DATA, 0x02);
	outb(PIC1_DATA, 0x01);
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}

static void
idt_set(int vec, uint64_t addr)
{
	idt[vec].off_lo = (uint16_t)addr;
	idt[vec].sel = 0x08;
	idt[vec].ist = 0;
	idt[vec].attr = 0x8e;
	idt[vec].off_mid = (uint16_t)(addr >> 16);
	idt[vec].off_hi = (uint32_t)(addr >> 32);
	idt[vec].zero = 0;
}

void
irq_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr;
	uint32_t r[4];

	for (int v = 0; v < 256; v++)
		idt_set(v, (uint64_t)irq_stubs + 16 * (uint64_t)v);
	idtr.limit = sizeof idt - 1;
	idtr.base = (uint64_t)idt;
	__asm__ volatile("lidt %0" :: "m"(idtr));
	pic_init();
	for (unsigned p = 0; p < ARRAY_SIZE(pin_irq); p++)
		pin_irq[p] = -1;
	cpuid(1, 0, r);
	have_lapic = (r[3] >> 9) & 1;
	if (have_lapic)
		lapic_base = rdmsr(0x1b) & 0xffffff000ull;
	if (lapic_base >= 0x100000000ull)
		have_lapic = 0;
}

int
lapic_present(void)
{
	return have_lapic;
}

static irq_handler_fn lapic_timer_handler;

/* Counts of the LAPIC timer in `ms` ms of TSC time (divide by 1). */
uint32_t
lapic_timer_rate(uint64_t ms)
{
	uint32_t left;

	lapic_write(LAPIC_TIMER_DIV, 0xb);
	lapic_write(LAPIC_LVT_TIMER, 1u << 16);		/* masked, one-shot */
	lapic_write(LAPIC_TIMER_INIT, 0xffffffffu);
	delay_ms(ms);
	left = lapic_read(LAPIC_TIMER_CUR);
	lapic_write(LAPIC_TIMER_INIT, 0);
	return 0xffffffffu - left;
}

int
lapic_timer_start(uint32_t count, irq_handler_fn handler)
{
	if (!have_lapic)
		return -1;
	irq_disable();
	lapic_enable();
	lapic_timer_handler = handler;
	lapic_write(LAPIC_TIMER_DIV, 0xb);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_VECTOR | 1u << 17);	/* periodic */
	lapic_write(LAPIC_TIMER_INIT, count);
	return 0;
}

void
lapic_timer_stop(void)
{
	if (have_lapic) {
		lapic_write(LAPIC_LVT_TIMER, 1u << 16);
		lapic_write(LAPIC_TIMER_INIT, 0);
	}
}

static void
lapic_enable(void)
{
	static int done;

	if (done || !have_lapic)
		return;
	done = 1;
	lapic_write(LAPIC_SVR, 0x100 | SPURIOUS_VECTOR);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT0, 0x700);		/* ExtINT: the PIC's output */
	lapic_write(LAPIC_LVT1, 0x400);		/* NMI */
}

static void
ioapic_probe(void)
{
	static int done;
	uint32_t ver;

	if (done)
		return;
	done = 1;
	if (!have_lapic)
		return;
	ver = ioapic_read(1);
	if (ver == 0xffffffffu || ver == 0)
		return;
	ioapic_pins = ((ver >> 16) & 0xff) + 1;
	if (ioapic_pins > ARRAY_SIZE(pin_irq))
		ioapic_pins = ARRAY_SIZE(pin_irq);
	have_ioapic = 1;
}

void
irq_route_isa(int irq, irq_handler_fn handler)
{
	char want[16] = "auto";

	cmdline_get("irq", want, sizeof want);
	irq_disable();
	lapic_enable();
	ioapic_probe();
	handlers[irq] = handler;
	irq_path_of[irq] = PATH_NONE;
	if (!strcmp(want, "pic")) {
		pic_set_mask(irq, 0);
		return;
	}
	if (!strcmp(want, "ioapic") && !have_ioapic)
		panic("irq=ioapic but no IOAPIC answers at 0x%llx", IOAPIC_BASE);
	if (have_ioapic) {
		pin_irq[irq] = irq;
		ioapic_set_pin((unsigned)irq, IOAPIC_VECTOR + irq, 0);
		if (irq == 0) {
			pin_irq[2] = 0;
			ioapic_set_pin(2, IOAPIC_VECTOR + 2, 0);
		}
	}
	if (strcmp(want, "ioapic") != 0)
		pic_set_mask(irq, 0);
}

const char *
irq_path(void)
{
	return last_path == PATH_PIC ? "pic" : last_path == PATH_IOAPIC ? "ioapic" : "none";
}

unsigned long
irq_spurious(void)
{
	return spurious;
}

static const char *const exception_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM no FPU", "#DF double fault",
	"coprocessor overrun", "#TS invalid TSS", "#NP segment not present",
	"#SS stack fault", "#GP general protection", "#PF page fault", "reserved 15",
	"#MF x87 error", "#AC alignment", "#MC machine check", "#XM SIMD error",
	"#VE virtualization", "#CP control protection",
};

static void
exception(struct irq_frame *f)
{
	uint64_t cr2;
	const char *name = exception_names[f->vector] ? exception_names[f->vector] : "reserved";

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	printf("\nGUEST PANIC: exception %lu (%s) error 0x%lx at rip 0x%lx\n",
	       f->vector, name, f->error, f->rip);
	printf("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
	printf("  rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n", f->rsi, f->rdi, f->rbp, f->rsp);
	printf("  cr2 %016lx rflags %016lx cs %lx\n", cr2, f->rflags, f->cs);
	guest_exit(GUEST_EXIT_PANIC);
}

static void
pic_eoi(int irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, 0x20);
	outb(PIC1_CMD, 0x20);
}

/* A PIC IRQ 7/15 with its in-service bit clear is spurious. */
static int
pic_spurious(int irq)
{
	if (irq != 7 && irq != 15)
		return 0;
	outb(irq == 7 ? PIC1_CMD : PIC2_CMD, 0x0b);
	if (inb(irq == 7 ? PIC1_CMD : PIC2_CMD) & 0x80)
		return 0;
	if (irq == 15)
		outb(PIC1_CMD, 0x20);
	return 1;
}

static void
deliver(int irq, int path, int pin)
{
	if (irq < 0 || irq >= 16 || !handlers[irq])
		return;
	if (irq_path_of[irq] == PATH_NONE) {
		irq_path_of[irq] = path;
		irq_pin_of[irq] = pin;
		last_path = path;
		if (path == PATH_PIC) {
			for (unsigned p = 0; p < ioapic_pins; p++)
				if (pin_irq[p] == irq)
					ioapic_set_pin(p, IOAPIC_VECTOR + (int)p, 1);
		} else {
			pic_set_mask(irq, 1);
			for (unsigned p = 0; p < ioapic_pins; p++)
				if (pin_irq[p] == irq && (int)p != pin)
					ioapic_set_pin(p, IOAPIC_VECTOR + (int)p, 1);
		}
	}
	if (irq_path_of[irq] != path || (path == PATH_IOAPIC && irq_pin_of[irq] != pin))
		return;		/* a late duplicate from the path we dropped */
	handlers[irq](irq);
}

void
irq_dispatch(struct irq_frame *f)
{
	int vec = (int)f->vector;

	if (vec < 32) {
		exception(f);
	} else if (vec >= PIC_VECTOR && vec < PIC_VECTOR + 16) {
		int irq = vec - PIC_VECTOR;

		if (pic_spurious(irq)) {
			spurious++;
			return;
		}
		deliver(irq, PATH_PIC, -1);
		pic_eoi(irq);
	} else if (vec >= IOAPIC_VECTOR && vec < IOAPIC_VECTOR + 24) {
		int pin = vec - IOAPIC_VECTOR;

		deliver(pin_irq[pin], PATH_IOAPIC, pin);
		lapic_write(LAPIC_EOI, 0);
	} else if (vec == LAPIC_TIMER_VECTOR) {
		if (lapic_timer_handler)
			lapic_timer_handler(-1);
		lapic_write(LAPIC_EOI, 0);
	} else if (vec == SPURIOUS_VECTOR) {
		spurious++;
	} else {
		spurious++;
		if (have_lapic)
			lapic_write(LAPIC_EOI, 0);
	}
}
