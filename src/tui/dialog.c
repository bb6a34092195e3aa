/*
 * dialog.c - modal input of the dashboard: the line editor shared by the
 * filter, the command line and form fields; confirmation and message boxes;
 * the "create a VM or container" form that defines (and starts) an instance
 * through its backend's define op.
 *
 * Not for: running commands (tui.c) or completion (cmdline.c).  Errors from
 * define/start are shown in full, with the backend's context.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/util.h"
#include "tui/tui-internal.h"

/* ---- line editor ---- */

void
edit_set(struct tui_edit *e, const char *text)
{
	strlcpy_b(e->buf, text ? text : "", sizeof e->buf);
	e->len = strlen(e->buf);
	e->cur = e->len;
}

static size_t
prev_char(const struct tui_edit *e, size_t pos)
{
	if (pos == 0)
		return 0;
	pos--;
	while (pos > 0 && ((unsigned char)e->buf[pos] & 0xc0) == 0x80)
		pos--;
	return pos;
}

static size_t
next_char_pos(const struct tui_edit *e, size_t pos)
{
	if (pos >= e->len)
		return e->len;
	pos++;
	while (pos < e->len && ((unsigned char)e->buf[pos] & 0xc0) == 0x80)
		pos++;
	return pos;
}

static void
erase_range(struct tui_edit *e, size_t a, size_t b)
{
	memmove(e->buf + a, e->buf + b, e->len - b + 1);
	e->len -= b - a;
	e->cur = a;
}

int
edit_key(struct tui_edit *e, const struct tui_keypress *k)
{
	if (k->is_key) {
		switch (k->code) {
		case KEY_LEFT:
			e->cur = prev_char(e, e->cur);
			return 1;
		case KEY_RIGHT:
			e->cur = next_char_pos(e, e->cur);
			return 1;
		case KEY_HOME:
			e->cur = 0;
			return 1;
		case KEY_END:
			e->cur = e->len;
			return 1;
		case KEY_BACKSPACE:
			if (e->cur > 0)
				erase_range(e, prev_char(e, e->cur), e->cur);
			return 1;
		case KEY_DC:
			if (e->cur < e->len)
				erase_range(e, e->cur, next_char_pos(e, e->cur));
			return 1;
		default:
			return 0;
		}
	}
	switch (k->code) {
	case 1:		/* C-a */
		e->cur = 0;
		return 1;
	case 5:		/* C-e */
		e->cur = e->len;
		return 1;
	case 8:		/* C-h */
	case 127:
		if (e->cur > 0)
			erase_range(e, prev_char(e, e->cur), e->cur);
		return 1;
	case 21:	/* C-u */
		erase_range(e, 0, e->cur);
		return 1;
	case 23: {	/* C-w: the word before the cursor */
		size_t p = e->cur;

		while (p > 0 && e->buf[p - 1] == ' ')
			p--;
		while (p > 0 && e->buf[p - 1] != ' ')
			p--;
		erase_range(e, p, e->cur);
		return 1;
	}
	case 11:	/* C-k */
		e->buf[e->cur] = '\0';
		e->len = e->cur;
		return 1;
	default:
		break;
	}
	if (k->code >= 0x20 && k->code != 0x7f) {
		char mb[MB_LEN_MAX];
		mbstate_t st;
		size_t n;

		memset(&st, 0, sizeof st);
		n = wcrtomb(mb, (wchar_t)k->code, &st);
		if (n == (size_t)-1 || e->len + n >= sizeof e->buf)
			return 1;
		memmove(e->buf + e->cur + n, e->buf + e->cur, e->len - e->cur + 1);
		memcpy(e->buf + e->cur, mb, n);
		e->len += n;
		e->cur += n;
		return 1;
	}
	return 0;
}

void
edit_draw(struct tui *ui, struct tui_edit *e, int y, int x, int width, int focused)
{
	char save;
	int before, skip = 0;

	save = e->buf[e->cur];
	e->buf[e->cur] = '\0';
	before = text_width(e->buf);
	e->buf[e->cur] = save;
	if (before >= width - 1) {
		/* scroll: show the end of the text before the cursor */
		size_t p = 0;

		while (p < e->cur && before - skip >= width - 1) {
			size_t np = next_char_pos(e, p);
			char c = e->buf[np];

			e->buf[np] = '\0';
			skip = text_width(e->buf);
			e->buf[np] = c;
			p = np;
		}
		draw_text(ui, y, x, e->buf + p, width, 1);
		before -= skip;
	} else {
		draw_text(ui, y, x, e->buf, width, 1);
	}
	if (focused)
		move(y, x + before);
}

/* ---- the create form ---- */

enum form_field {
	F_KIND, F_BACKEND, F_NAME,
	F_KERNEL, F_INITRD, F_DISK, F_CMDLINE, F_VMMEM, F_VCPUS,
	F_IMAGE, F_COMMAND, F_CTMEM, F_CPUS, F_PIDS,
	F_START, F_OK, F_MAX
};

struct tui_form {
	struct tui_edit f[F_MAX];
	int focus;
	int kind;		/* INST_VM / INST_CONTAINER */
	int start;		/* start after define */
	struct bconn **conns;	/* backends offered for the kind */
	size_t nconns;
	size_t conn;
	char *error;
};

static const char *const field_label[F_MAX] = {
	[F_KIND] = "Kind", [F_BACKEND] = "Backend", [F_NAME] = "Name",
	[F_KERNEL] = "Kernel", [F_INITRD] = "Initrd", [F_DISK] = "Disk image",
	[F_CMDLINE] = "Kernel args", [F_VMMEM] = "Memory MiB", [F_VCPUS] = "vCPUs",
	[F_IMAGE] = "Image/bundle", [F_COMMAND] = "Command", [F_CTMEM] = "Memory MiB",
	[F_CPUS] = "CPU limit", [F_PIDS] = "Max pids", [F_START] = "Start now", [F_OK] = "",
};

static const char *const field_hint[F_MAX] = {
	[F_NAME] = "required (no `/')",
	[F_KERNEL] = "path of a bzImage",
	[F_INITRD] = "optional",
	[F_IMAGE] = "image from `berth images', or /path/to/bundle",
	[F_COMMAND] = "default: the image's or bundle's",
	[F_CTMEM] = "no limit",
	[F_CPUS] = "no limit",
	[F_PIDS] = "no limit",
};

static int
form_is_kvm(const struct tui_form *f)
{
	return f->nconns > 0 && strcmp(f->conns[f->conn]->ops->name, "kvm") == 0;
}

static int
field_visible(const struct tui_form *f, int i)
{
	if (i == F_DISK && form_is_kvm(f))
		return 0;	/* berth-vmm boots a kernel; no disk key */
	if (i >= F_KERNEL && i <= F_VCPUS)
		return f->kind == INST_VM;
	if (i >= F_IMAGE && i <= F_PIDS)
		return f->kind == INST_CONTAINER;
	return 1;
}

static void
form_pick_conns(struct tui *ui, struct tui_form *f)
{
	size_t i;

	free(f->conns);
	f->conns = xcalloc(ui->s->nconns + 1, sizeof *f->conns);
	f->nconns = 0;
	for (i = 0; i < ui->s->nconns; i++) {
		struct bconn *c = ui->s->conns[i];
		int is_ct = strcmp(c->ops->name, "container") == 0;

		if (c->ops->define == NULL)
			continue;
		if ((f->kind == INST_CONTAINER) == is_ct)
			f->conns[f->nconns++] = c;
	}
	/* prefer berth's own VMM for VMs */
	for (i = 0; i < f->nconns; i++)
		if (strcmp(f->conns[i]->ops->name, "kvm") == 0) {
			f->conn = i;
			return;
		}
	f->conn = 0;
}

void
form_free(struct tui_form *f)
{
	if (f == NULL)
		return;
	free(f->conns);
	free(f->error);
	free(f);
}

void
form_open_create(struct tui *ui)
{
	struct tui_form *f = xcalloc(1, sizeof *f);

	f->kind = INST_VM;
	f->start = 1;
	edit_set(&f->f[F_VMMEM], "256");
	edit_set(&f->f[F_VCPUS], "1");
	edit_set(&f->f[F_CMDLINE], "console=ttyS0");
	edit_set(&f->f[F_CTMEM], "");
	edit_set(&f->f[F_CPUS], "");
	edit_set(&f->f[F_COMMAND], "");	/* the image's or bundle's own */
	f->focus = F_NAME;
	form_pick_conns(ui, f);
	form_free(ui->form);
	ui->form = f;
	ui->modal = MODAL_FORM;
}

static void
add_str(json_object *o, const char *key, const struct tui_edit *e)
{
	if (e->buf[0])
		json_object_object_add(o, key, json_object_new_string(e->buf));
}

static int
add_int(json_object *o, const char *key, const struct tui_edit *e, long min, long max,
	struct berr *err)
{
	char *end;
	long v;

	if (e->buf[0] == '\0')
		return 0;
	v = strtol(e->buf, &end, 10);
	if (*end != '\0' || v < min || v > max)
		return berr_set(err, BERR_INVALID, "%s: `%s' is not a number from %ld to %ld", key, e->buf,
				min, max);
	json_object_object_add(o, key, json_object_new_int64(v));
	return 0;
}

/* Build the definition the backends read (see berth(1) `define`), define,
 * then start it if asked.  Every failure keeps the form open with the full
 * error. */
static int
form_submit(struct tui *ui, struct tui_form *f, struct berr *err)
{
	struct define_spec spec = { 0 };
	json_object *def = json_object_new_object();
	struct instance *inst = NULL;
	struct bconn *c;
	int rc = -1;

	if (f->nconns == 0) {
		berr_set(err, BERR_NOTSUP, "no connected backend can define a %s (see ! for failures)",
			 f->kind == INST_VM ? "VM" : "container");
		goto out;
	}
	c = f->conns[f->conn];
	if (name_is_valid(f->f[F_NAME].buf, err) < 0)
		goto out;
	json_object_object_add(def, "name", json_object_new_string(f->f[F_NAME].buf));
	json_object_object_add(def, "backend", json_object_new_string(c->ops->name));
	if (f->kind == INST_VM) {
		if (form_is_kvm(f) && f->f[F_KERNEL].buf[0] == '\0') {
			berr_set(err, BERR_INVALID, "a kvm VM needs a kernel (a bzImage path)");
			goto out;
		}
		if (f->f[F_KERNEL].buf[0] == '\0' && f->f[F_DISK].buf[0] == '\0') {
			berr_set(err, BERR_INVALID, "a VM needs a kernel or a disk image");
			goto out;
		}
		add_str(def, "kernel", &f->f[F_KERNEL]);
		add_str(def, "initrd", &f->f[F_INITRD]);
		if (!form_is_kvm(f))
			add_str(def, "disk", &f->f[F_DISK]);
		add_str(def, "cmdline", &f->f[F_CMDLINE]);
		if (add_int(def, "memory_mib", &f->f[F_VMMEM], 2, 1 << 24, err) < 0 ||
		    add_int(def, "vcpus", &f->f[F_VCPUS], 1, 1024, err) < 0)
			goto out;
	} else {
		int argc = 0, i;
		char **argv = NULL;

		if (f->f[F_IMAGE].buf[0] == '\0') {
			berr_set(err, BERR_INVALID, "a container needs an image (see `berth images') "
				 "or the absolute path of an OCI bundle");
			goto out;
		}
		/* an absolute path is a bundle directory, anything else an image
		 * of the local store */
		add_str(def, f->f[F_IMAGE].buf[0] == '/' ? "bundle" : "image", &f->f[F_IMAGE]);
		/* created from the dashboard to be used from its console pane */
		json_object_object_add(def, "terminal", json_object_new_boolean(1));
		if (f->f[F_COMMAND].buf[0]) {
			json_object *a = json_object_new_array();

			if (cmd_split(f->f[F_COMMAND].buf, &argc, &argv, err) < 0) {
				json_object_put(a);
				berr_wrap(err, "command");
				goto out;
			}
			for (i = 0; i < argc; i++)
				json_object_array_add(a, json_object_new_string(argv[i]));
			cmd_free_argv(argc, argv);
			json_object_object_add(def, "command", a);
		}
		if (add_int(def, "memory_mib", &f->f[F_CTMEM], 4, 1 << 24, err) < 0 ||
		    add_int(def, "cpus", &f->f[F_CPUS], 1, 1024, err) < 0 ||
		    add_int(def, "pids_max", &f->f[F_PIDS], 1, 1 << 22, err) < 0)
			goto out;
	}
	spec.name = f->f[F_NAME].buf;
	spec.json = def;
	if (c->ops->define(c, &spec, &inst, err) < 0) {
		berr_wrap(err, "defining %s `%s' on %s (%s)", f->kind == INST_VM ? "VM" : "container",
			  f->f[F_NAME].buf, conn_host(c), c->ops->name);
		goto out;
	}
	inst->conn = c;
	inst->backend = c->ops;
	if (f->start && instance_do(inst, OP_START, 0, err) < 0) {
		berr_wrap(err, "defined, but starting failed");
		goto out;
	}
	tui_status(ui, 0, "%s %s `%s' on %s", f->start ? "started" : "defined",
		   f->kind == INST_VM ? "VM" : "container", inst->name, conn_host(c));
	rc = 0;
out:
	instance_free(inst);
	json_object_put(def);
	return rc;
}

static void
form_move(struct tui_form *f, int delta)
{
	do
		f->focus = (f->focus + delta + F_MAX) % F_MAX;
	while (!field_visible(f, f->focus));
}

int
form_key(struct tui *ui, const struct tui_keypress *k)
{
	struct tui_form *f = ui->form;
	struct berr err = { 0 };
	int rc, choice = f->focus == F_KIND || f->focus == F_BACKEND || f->focus == F_START;

	if (!k->is_key && k->code == 27) {
		ui->modal = MODAL_NONE;
		form_free(f);
		ui->form = NULL;
		return 1;
	}
	if ((!k->is_key && (k->code == '\r' || k->code == '\n')) || (k->is_key && k->code == KEY_ENTER)) {
		if (f->focus != F_OK) {
			form_move(f, 1);
			return 1;
		}
		free(f->error);
		f->error = NULL;
		tui_busy(ui, 1);
		rc = form_submit(ui, f, &err);
		tui_busy(ui, 0);
		if (rc < 0) {
			f->error = xstrdup(err.msg);
			return 1;
		}
		ui->modal = MODAL_NONE;
		form_free(f);
		ui->form = NULL;
		tui_refresh(ui);
		return 1;
	}
	if ((!k->is_key && k->code == '\t') || (k->is_key && k->code == KEY_DOWN)) {
		form_move(f, 1);
		return 1;
	}
	if (k->is_key && (k->code == KEY_BTAB || k->code == KEY_UP)) {
		form_move(f, -1);
		return 1;
	}
	if (choice && ((k->is_key && (k->code == KEY_LEFT || k->code == KEY_RIGHT)) ||
		       (!k->is_key && k->code == ' '))) {
		int d = k->is_key && k->code == KEY_LEFT ? -1 : 1;

		if (f->focus == F_KIND) {
			f->kind = f->kind == INST_VM ? INST_CONTAINER : INST_VM;
			form_pick_conns(ui, f);
		} else if (f->focus == F_BACKEND && f->nconns) {
			f->conn = (f->conn + f->nconns + d) % f->nconns;
		} else if (f->focus == F_START) {
			f->start = !f->start;
		}
		return 1;
	}
	if (!choice && f->focus != F_OK)
		return edit_key(&f->f[f->focus], k);
	return 0;
}

void
form_draw(struct tui *ui)
{
	struct tui_form *f = ui->form;
	int h = 0, w, y0, x0, y, i, lw = 13, cy = -1, cx = 0;

	for (i = 0; i < F_MAX; i++)
		if (field_visible(f, i))
			h++;
	h += 4 + (f->error ? 3 : 0);
	w = ui->cols - 4 < 72 ? ui->cols - 4 : 72;
	if (h > ui->rows - 2)
		h = ui->rows - 2;
	y0 = (ui->rows - h) / 2;
	x0 = (ui->cols - w) / 2;
	if (w < 30 || h < 6) {
		draw_text(ui, 0, 0, "terminal too small for the dialog (Esc)", ui->cols, 1);
		return;
	}
	draw_box(ui, y0, x0, h, w, f->kind == INST_VM ? "New VM" : "New container");
	y = y0 + 1;
	for (i = 0; i < F_MAX && y < y0 + h - 1; i++) {
		int focused = f->focus == i;
		char buf[256];

		if (!field_visible(f, i))
			continue;
		if (i == F_OK) {
			y++;
			if (focused)
				attron(A_REVERSE);
			draw_text(ui, y, x0 + w / 2 - 5, "[ Create ]", 10, 0);
			attroff(A_REVERSE);
			draw_text(ui, y, x0 + w / 2 + 7, "Esc cancels", w / 2 - 9, 0);
			y++;
			continue;
		}
		draw_text(ui, y, x0 + 2, field_label[i], lw, 1);
		if (focused)
			attron(A_BOLD);
		if (i == F_KIND) {
			snprintf(buf, sizeof buf, "< %s >", f->kind == INST_VM ? "vm" : "container");
			draw_text(ui, y, x0 + 2 + lw, buf, w - lw - 4, 1);
		} else if (i == F_BACKEND) {
			if (f->nconns)
				snprintf(buf, sizeof buf, "< %s on %s >", f->conns[f->conn]->ops->name,
					 conn_host(f->conns[f->conn]));
			else
				snprintf(buf, sizeof buf, "(none connected)");
			draw_text(ui, y, x0 + 2 + lw, buf, w - lw - 4, 1);
		} else if (i == F_START) {
			draw_text(ui, y, x0 + 2 + lw, f->start ? "< yes >" : "< no >", w - lw - 4, 1);
		} else {
			attron(A_UNDERLINE);
			edit_draw(ui, &f->f[i], y, x0 + 2 + lw, w - lw - 4, focused);
			attroff(A_UNDERLINE);
			if (focused)
				getyx(stdscr, cy, cx);	/* where edit_draw put the cursor */
			if (f->f[i].len == 0 && field_hint[i] != NULL) {
				/* what goes here, until something is typed */
				attron(draw_attr(ui, CP_DIM) | A_UNDERLINE);
				draw_text(ui, y, x0 + 2 + lw, field_hint[i], w - lw - 4, 1);
				attroff(draw_attr(ui, CP_DIM) | A_UNDERLINE);
			}
		}
		attroff(A_BOLD);
		y++;
	}
	if (f->error) {
		attron(draw_attr(ui, CP_ERROR));
		/* the error in full, wrapped over the lines left */
		{
			const char *p = f->error;
			int row = y;

			while (*p && row < y0 + h - 1) {
				int n = 0, width = w - 4;
				char line[256];

				while (p[n] && n < width && n < (int)sizeof line - 1)
					n++;
				memcpy(line, p, n);
				line[n] = '\0';
				draw_text(ui, row++, x0 + 2, line, width, 1);
				p += n;
			}
		}
		attroff(draw_attr(ui, CP_ERROR));
	}
	if (cy >= 0)
		move(cy, cx);
	else
		curs_set(0);
}

/* ---- modals ---- */

/* Word-wrap text into lines of at most width columns (bytes, ASCII-safe);
 * returns the number of lines, fills starts/lengths. */
static int
wrap(const char *text, int width, const char **starts, int *lens, int max)
{
	int n = 0;
	const char *p = text;

	while (*p && n < max) {
		int len = 0, brk = -1;

		while (p[len] && p[len] != '\n' && len < width) {
			if (p[len] == ' ')
				brk = len;
			len++;
		}
		if (p[len] && p[len] != '\n' && brk > 0)
			len = brk;
		starts[n] = p;
		lens[n] = len;
		n++;
		p += len;
		if (*p == '\n' || *p == ' ')
			p++;
	}
	return n;
}

static void
text_box(struct tui *ui, const char *title, const char *text, const char *footer)
{
	const char *starts[64];
	int lens[64], n, w, h, y0, x0, i;

	w = ui->cols - 4 < 76 ? ui->cols - 4 : 76;
	if (w < 20)
		w = ui->cols;
	n = wrap(text, w - 4, starts, lens, ui->rows - 6 > 64 ? 64 : (ui->rows - 6 > 1 ? ui->rows - 6 : 1));
	h = n + 4;
	y0 = (ui->rows - h) / 2;
	x0 = (ui->cols - w) / 2;
	if (y0 < 0)
		y0 = 0;
	draw_box(ui, y0, x0, h, w, title);
	for (i = 0; i < n; i++) {
		char line[1024];
		int len = lens[i] < (int)sizeof line - 1 ? lens[i] : (int)sizeof line - 1;

		memcpy(line, starts[i], len);
		line[len] = '\0';
		draw_text(ui, y0 + 1 + i, x0 + 2, line, w - 4, 0);
	}
	attron(A_BOLD);
	draw_text(ui, y0 + h - 2, x0 + 2, footer, w - 4, 0);
	attroff(A_BOLD);
}

void
modal_draw(struct tui *ui)
{
	switch (ui->modal) {
	case MODAL_CONFIRM:
		text_box(ui, "Confirm", ui->confirm_text, "y: yes   n/Esc: no");
		break;
	case MODAL_MESSAGE:
		attron(draw_attr(ui, CP_DEFAULT));
		text_box(ui, ui->msg_title, ui->msg_text, "any key closes");
		break;
	case MODAL_ASK:
		text_box(ui, "A script asks", ui->ask_text, "y: yes   n/Esc: no");
		break;
	case MODAL_FORM:
		form_draw(ui);
		break;
	default:
		break;
	}
}

static int
is_enter(const struct tui_keypress *k)
{
	return (!k->is_key && (k->code == '\r' || k->code == '\n')) || (k->is_key && k->code == KEY_ENTER);
}

int
modal_key(struct tui *ui, const struct tui_keypress *k)
{
	switch (ui->modal) {
	case MODAL_CONFIRM:
		if (!k->is_key && (k->code == 'y' || k->code == 'Y')) {
			ui->modal = MODAL_NONE;
			action_confirmed(ui);
		} else if ((!k->is_key && (k->code == 'n' || k->code == 'N' || k->code == 27 || k->code == 'q')) ||
			   is_enter(k)) {
			ui->modal = MODAL_NONE;
			tui_status(ui, 0, "cancelled");
		}
		return 1;
	case MODAL_MESSAGE:
		ui->modal = MODAL_NONE;
		return 1;
	case MODAL_FORM:
		return form_key(ui, k);
	case MODAL_FILTER:
		if (!k->is_key && k->code == 27) {
			edit_set(&ui->filter, "");
			ui->modal = MODAL_NONE;
			dash_rebuild(ui);
			return 1;
		}
		if (is_enter(k)) {
			ui->modal = MODAL_NONE;
			return 1;
		}
		if (k->is_key && (k->code == KEY_UP || k->code == KEY_DOWN)) {
			dash_move(ui, k->code == KEY_UP ? -1 : 1);
			return 1;
		}
		if (edit_key(&ui->line, k)) {
			/* incremental: every keystroke re-filters */
			edit_set(&ui->filter, ui->line.buf);
			dash_rebuild(ui);
		}
		return 1;
	case MODAL_CMDLINE:
		if (!k->is_key && k->code == 27) {
			ui->modal = MODAL_NONE;
			free(ui->complete_hint);
			ui->complete_hint = NULL;
			return 1;
		}
		if (!k->is_key && k->code == '\t') {
			cmdline_complete(ui);
			return 1;
		}
		if (k->is_key && (k->code == KEY_UP || k->code == KEY_DOWN)) {
			cmdline_history(ui, k->code == KEY_UP ? -1 : 1);
			return 1;
		}
		if (is_enter(k)) {
			char *line = xstrdup(ui->line.buf);

			ui->modal = MODAL_NONE;
			free(ui->complete_hint);
			ui->complete_hint = NULL;
			cmdline_history_add(ui, line);
			tui_run_command(ui, line);
			free(line);
			return 1;
		}
		if (!k->is_key && (k->code == 127 || k->code == 8) && ui->line.len == 0) {
			ui->modal = MODAL_NONE;
			return 1;
		}
		edit_key(&ui->line, k);
		return 1;
	default:
		ui->modal = MODAL_NONE;
		return 0;
	}
}
