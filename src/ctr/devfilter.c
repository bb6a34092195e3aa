/*
 * devfilter.c - device access control on cgroup v2: a small eBPF program of
 * type BPF_PROG_TYPE_CGROUP_DEVICE, generated from the rules, attached to the
 * container's cgroup.
 *
 * For: the same semantics as the v1 devices controller berth-ctr writes on
 * v1/hybrid hosts: start from "deny all", apply the rules in order (a later
 * rule overrides an earlier one), then allow the standard nodes and the
 * configured devices.  The program checks the rules from last to first and
 * the first match decides; nothing matching means deny.
 * Not for: v1 (cgroup.c writes devices.allow/deny there).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/util.h"
#include "ctr/devfilter.h"

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LDX_W(d, s, o)	INSN(BPF_LDX | BPF_MEM | BPF_W, d, s, o, 0)
#define MOV_REG(d, s)	INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV_IMM(d, i)	INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define AND_IMM(d, i)	INSN(BPF_ALU | BPF_AND | BPF_K, d, 0, 0, i)
#define RSH_IMM(d, i)	INSN(BPF_ALU | BPF_RSH | BPF_K, d, 0, 0, i)
#define JNE_IMM(d, i, o) INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, i)
#define EXIT()		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static int
access_mask(const char *access)
{
	int m = 0;

	if (strchr(access, 'm'))
		m |= BPF_DEVCG_ACC_MKNOD;
	if (strchr(access, 'r'))
		m |= BPF_DEVCG_ACC_READ;
	if (strchr(access, 'w'))
		m |= BPF_DEVCG_ACC_WRITE;
	return m;
}

/* Emit one rule: fall through to "return allow" when it matches, else
 * jump past it. */
static size_t
emit_rule(struct bpf_insn *p, const struct devfilter_rule *r)
{
	struct bpf_insn body[16];
	size_t n = 0, i;
	int acc = access_mask(r->access);

	if (r->type == 'b' || r->type == 'c')
		body[n++] = JNE_IMM(2, r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0);
	if (acc != (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)) {
		/* Every requested access must be in the rule's set. */
		body[n++] = MOV_REG(6, 3);
		body[n++] = AND_IMM(6, ~acc);
		body[n++] = JNE_IMM(6, 0, 0);
	}
	if (r->major >= 0)
		body[n++] = JNE_IMM(4, (int32_t)r->major, 0);
	if (r->minor >= 0)
		body[n++] = JNE_IMM(5, (int32_t)r->minor, 0);
	body[n++] = MOV_IMM(0, r->allow ? 1 : 0);
	body[n++] = EXIT();
	/* Patch the jumps to land just after this block. */
	for (i = 0; i < n; i++)
		if (body[i].code == (BPF_JMP | BPF_JNE | BPF_K))
			body[i].off = (int16_t)(n - i - 1);
	memcpy(p, body, n * sizeof *body);
	return n;
}

int
devfilter_attach(const char *cgroup_dir, const struct devfilter_rule *rules, size_t nrules,
		 struct berr *err)
{
	struct bpf_insn *prog;
	size_t n = 0, i;
	union bpf_attr attr;
	char log[4096];
	int prog_fd, cg_fd, rc;

	prog = xcalloc(nrules * 12 + 16, sizeof *prog);
	/* r2 = device type, r3 = requested access, r4 = major, r5 = minor */
	prog[n++] = LDX_W(2, 1, 0);
	prog[n++] = AND_IMM(2, 0xffff);
	prog[n++] = LDX_W(3, 1, 0);
	prog[n++] = RSH_IMM(3, 16);
	prog[n++] = LDX_W(4, 1, 4);
	prog[n++] = LDX_W(5, 1, 8);
	for (i = nrules; i-- > 0;) {
		const struct devfilter_rule *r = &rules[i];

		n += emit_rule(prog + n, r);
		/* A rule that matches everything ends the program (the verifier
		 * refuses unreachable code after it). */
		if (r->type == 'a' && r->major < 0 && r->minor < 0 &&
		    access_mask(r->access) == (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE))
			break;
	}
	if (i == (size_t)-1) {
		prog[n++] = MOV_IMM(0, 0);
		prog[n++] = EXIT();
	}

	memset(&attr, 0, sizeof attr);
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)prog;
	attr.insn_cnt = (uint32_t)n;
	attr.license = (uint64_t)(uintptr_t)"GPL";
	attr.log_buf = (uint64_t)(uintptr_t)log;
	attr.log_size = sizeof log;
	attr.log_level = 1;
	log[0] = '\0';
	prog_fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
	if (prog_fd < 0) {
		/* Retry without a log: some kernels refuse small log buffers. */
		attr.log_buf = 0;
		attr.log_size = 0;
		attr.log_level = 0;
		prog_fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
	}
	free(prog);
	if (prog_fd < 0)
		return berr_errno(err, "loading the device filter%s%.200s", log[0] ? ": " : "", log);
	cg_fd = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) {
		close(prog_fd);
		return berr_errno(err, "opening %s", cgroup_dir);
	}
	memset(&attr, 0, sizeof attr);
	attr.target_fd = (uint32_t)cg_fd;
	attr.attach_bpf_fd = (uint32_t)prog_fd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	rc = (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof attr);
	if (rc < 0)
		berr_errno(err, "attaching the device filter to %s", cgroup_dir);
	close(cg_fd);
	close(prog_fd);	/* the attachment keeps the program alive */
	return rc < 0 ? -1 : 0;
}
