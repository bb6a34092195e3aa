/*
 * virt-xml.c - domain XML: built from a berth JSON definition, and read for
 * `info`.
 *
 * For: turning {name, memory_mib, vcpus, kernel, initrd, cmdline, disk, ...}
 * into <domain> XML for a direct-kernel-boot QEMU/KVM domain, with every
 * value escaped by libxml2; and pulling the details berth shows (OS, disks,
 * interfaces, consoles) out of the XML libvirt returns.  The XML may come
 * from a remote daemon, so it is parsed without network access, entity
 * expansion or error printing.  Not for: validating domains (libvirt does).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "backends/libvirt/virt.h"
#include "core/util.h"

#define VIRT_XML_MAX (16u << 20)	/* refuse to parse more than 16 MiB */
#define VIRT_PARSE_FLAGS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA)

/* ---- building ---- */

static int
virt_json_str(json_object *def, const char *key, const char **out, struct berr *err)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(def, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return berr_set(err, BERR_INVALID, "`%s' must be a string", key);
	*out = json_object_get_string(v);
	return 0;
}

static int
virt_json_int(json_object *def, const char *key, int64_t dflt, int64_t min, int64_t max, int64_t *out,
	      struct berr *err)
{
	json_object *v;

	*out = dflt;
	if (!json_object_object_get_ex(def, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return berr_set(err, BERR_INVALID, "`%s' must be an integer", key);
	*out = json_object_get_int64(v);
	if (*out < min || *out > max)
		return berr_set(err, BERR_INVALID, "`%s' must be between %lld and %lld", key, (long long)min,
				(long long)max);
	return 0;
}

/* XML 1.0 cannot carry most control characters, not even escaped. */
static int
virt_xml_text_ok(const char *key, const char *s, struct berr *err)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
			return berr_set(err, BERR_INVALID, "`%s' contains a control character", key);
	return 0;
}

static xmlNodePtr
virt_child(xmlNodePtr parent, const char *name, const char *text)
{
	return xmlNewTextChild(parent, NULL, BAD_CAST name, text ? BAD_CAST text : NULL);
}

static void
virt_prop(xmlNodePtr node, const char *name, const char *value)
{
	xmlNewProp(node, BAD_CAST name, BAD_CAST value);
}

static const char *const virt_disk_targets[] = { "vda", "vdb", "vdc", "vdd", "vde", "vdf", "vdg", "vdh" };

/* One disk: "path" or {"path": ..., "format": "raw"|"qcow2", "readonly": bool}. */
static int
virt_add_disk(xmlNodePtr devices, json_object *d, unsigned idx, struct berr *err)
{
	const char *path = NULL, *format = NULL;
	int readonly = 0;
	xmlNodePtr disk, n;
	json_object *v;

	if (idx >= sizeof virt_disk_targets / sizeof virt_disk_targets[0])
		return berr_set(err, BERR_INVALID, "too many disks (at most %zu)",
				sizeof virt_disk_targets / sizeof virt_disk_targets[0]);
	if (json_object_is_type(d, json_type_string)) {
		path = json_object_get_string(d);
	} else if (json_object_is_type(d, json_type_object)) {
		if (virt_json_str(d, "path", &path, err) < 0 || virt_json_str(d, "format", &format, err) < 0)
			return berr_wrap(err, "disk %u", idx);
		if (json_object_object_get_ex(d, "readonly", &v))
			readonly = json_object_get_boolean(v);
	} else {
		return berr_set(err, BERR_INVALID, "disk %u: must be a path or an object", idx);
	}
	if (path == NULL || *path == '\0')
		return berr_set(err, BERR_INVALID, "disk %u: no path", idx);
	if (virt_xml_text_ok("disk", path, err) < 0)
		return -1;
	if (format == NULL) {
		size_t len = strlen(path);

		format = len > 6 && strcmp(path + len - 6, ".qcow2") == 0 ? "qcow2" : "raw";
	}
	if (strcmp(format, "raw") != 0 && strcmp(format, "qcow2") != 0)
		return berr_set(err, BERR_INVALID, "disk %u: format `%s' is neither raw nor qcow2", idx, format);
	disk = virt_child(devices, "disk", NULL);
	virt_prop(disk, "type", "file");
	virt_prop(disk, "device", "disk");
	n = virt_child(disk, "driver", NULL);
	virt_prop(n, "name", "qemu");
	virt_prop(n, "type", format);
	n = virt_child(disk, "source", NULL);
	virt_prop(n, "file", path);
	n = virt_child(disk, "target", NULL);
	virt_prop(n, "dev", virt_disk_targets[idx]);
	virt_prop(n, "bus", "virtio");
	if (readonly)
		virt_child(disk, "readonly", NULL);
	return 0;
}

static int
virt_build(json_object *def, const char *name, const char *default_type, xmlNodePtr dom, struct berr *err)
{
	const char *kernel, *initrd, *cmdline, *type, *accel, *arch, *network, *uuid;
	int64_t mem_mib, vcpus;
	xmlNodePtr os, n, devices;
	json_object *disk;
	char num[32];

	if (virt_json_str(def, "kernel", &kernel, err) < 0 || virt_json_str(def, "initrd", &initrd, err) < 0 ||
	    virt_json_str(def, "cmdline", &cmdline, err) < 0 || virt_json_str(def, "type", &type, err) < 0 ||
	    virt_json_str(def, "accel", &accel, err) < 0 || virt_json_str(def, "arch", &arch, err) < 0 ||
	    virt_json_str(def, "network", &network, err) < 0 || virt_json_str(def, "uuid", &uuid, err) < 0)
		return -1;
	if (virt_json_int(def, "memory_mib", 512, 16, 16 << 20, &mem_mib, err) < 0 ||
	    virt_json_int(def, "vcpus", 1, 1, 1024, &vcpus, err) < 0)
		return -1;
	if (accel != NULL && type == NULL) {
		if (strcmp(accel, "tcg") == 0)
			type = "qemu";
		else if (strcmp(accel, "kvm") == 0)
			type = "kvm";
		else
			return berr_set(err, BERR_INVALID, "accel `%s' is neither kvm nor tcg", accel);
	}
	if (type == NULL)
		type = default_type;
	if (strcmp(type, "kvm") != 0 && strcmp(type, "qemu") != 0)
		return berr_set(err, BERR_INVALID, "type `%s' is neither kvm nor qemu", type);
	if (virt_xml_text_ok("name", name, err) < 0 ||
	    (kernel && virt_xml_text_ok("kernel", kernel, err) < 0) ||
	    (initrd && virt_xml_text_ok("initrd", initrd, err) < 0) ||
	    (cmdline && virt_xml_text_ok("cmdline", cmdline, err) < 0) ||
	    (network && virt_xml_text_ok("network", network, err) < 0) ||
	    (uuid && virt_xml_text_ok("uuid", uuid, err) < 0) ||
	    (arch && virt_xml_text_ok("arch", arch, err) < 0))
		return -1;
	if (!json_object_object_get_ex(def, "disk", &disk))
		disk = NULL;
	if (kernel == NULL && disk == NULL)
		return berr_set(err, BERR_INVALID, "nothing to boot: give `kernel' or `disk'");

	virt_prop(dom, "type", type);
	virt_child(dom, "name", name);
	if (uuid != NULL)
		virt_child(dom, "uuid", uuid);
	snprintf(num, sizeof num, "%lld", (long long)mem_mib);
	n = virt_child(dom, "memory", num);
	virt_prop(n, "unit", "MiB");
	snprintf(num, sizeof num, "%lld", (long long)vcpus);
	virt_child(dom, "vcpu", num);

	os = virt_child(dom, "os", NULL);
	n = virt_child(os, "type", "hvm");
	virt_prop(n, "arch", arch ? arch : "x86_64");
	if (kernel != NULL) {
		virt_child(os, "kernel", kernel);
		if (initrd != NULL)
			virt_child(os, "initrd", initrd);
		virt_child(os, "cmdline", cmdline ? cmdline : "console=ttyS0");
	} else {
		n = virt_child(os, "boot", NULL);
		virt_prop(n, "dev", "hd");
	}
	n = virt_child(dom, "features", NULL);
	virt_child(n, "acpi", NULL);
	if (strcmp(type, "kvm") == 0) {
		n = virt_child(dom, "cpu", NULL);
		virt_prop(n, "mode", "host-passthrough");
	}
	virt_child(dom, "on_poweroff", "destroy");
	virt_child(dom, "on_reboot", "restart");
	virt_child(dom, "on_crash", "destroy");

	devices = virt_child(dom, "devices", NULL);
	if (disk != NULL) {
		if (json_object_is_type(disk, json_type_array)) {
			size_t i, nd = json_object_array_length(disk);

			for (i = 0; i < nd; i++)
				if (virt_add_disk(devices, json_object_array_get_idx(disk, i), (unsigned)i, err) < 0)
					return -1;
		} else if (virt_add_disk(devices, disk, 0, err) < 0) {
			return -1;
		}
	}
	if (network != NULL) {
		n = virt_child(devices, "interface", NULL);
		virt_prop(n, "type", "network");
		virt_prop(virt_child(n, "source", NULL), "network", network);
		virt_prop(virt_child(n, "model", NULL), "type", "virtio");
	}
	n = virt_child(devices, "serial", NULL);
	virt_prop(n, "type", "pty");
	virt_prop(virt_child(n, "target", NULL), "port", "0");
	n = virt_child(devices, "console", NULL);
	virt_prop(n, "type", "pty");
	n = virt_child(n, "target", NULL);
	virt_prop(n, "type", "serial");
	virt_prop(n, "port", "0");
	n = virt_child(devices, "memballoon", NULL);
	virt_prop(n, "model", "virtio");
	return 0;
}

static int
virt_doc_to_string(xmlDocPtr doc, char **out, struct berr *err)
{
	xmlChar *mem = NULL;
	int len = 0;

	xmlDocDumpFormatMemory(doc, &mem, &len, 1);
	if (mem == NULL || len <= 0) {
		xmlFree(mem);
		return berr_set(err, ENOMEM, "writing XML");
	}
	*out = xstrndup((const char *)mem, (size_t)len);
	xmlFree(mem);
	return 0;
}

int
virt_xml_from_json(json_object *def, const char *name, const char *default_type, char **xml_out,
		   struct berr *err)
{
	xmlDocPtr doc;
	xmlNodePtr dom;
	const char *json_name = NULL;
	int rc;

	*xml_out = NULL;
	if (def == NULL || !json_object_is_type(def, json_type_object))
		return berr_set(err, BERR_INVALID, "the definition is not a JSON object");
	if (virt_json_str(def, "name", &json_name, err) < 0)
		return -1;
	if (name == NULL)
		name = json_name;
	if (name == NULL || *name == '\0')
		return berr_set(err, BERR_INVALID, "the definition has no name");
	doc = xmlNewDoc(BAD_CAST "1.0");
	dom = xmlNewNode(NULL, BAD_CAST "domain");
	xmlDocSetRootElement(doc, dom);
	rc = virt_build(def, name, default_type, dom, err);
	if (rc == 0)
		rc = virt_doc_to_string(doc, xml_out, err);
	xmlFreeDoc(doc);
	return rc;
}

int
virt_xml_snapshot(const char *name, char **xml_out, struct berr *err)
{
	xmlDocPtr doc;
	xmlNodePtr root;
	int rc;

	*xml_out = NULL;
	if (name != NULL && virt_xml_text_ok("snapshot name", name, err) < 0)
		return -1;
	doc = xmlNewDoc(BAD_CAST "1.0");
	root = xmlNewNode(NULL, BAD_CAST "domainsnapshot");
	xmlDocSetRootElement(doc, root);
	if (name != NULL && *name != '\0')
		virt_child(root, "name", name);
	rc = virt_doc_to_string(doc, xml_out, err);
	xmlFreeDoc(doc);
	return rc;
}

/* ---- reading ---- */

static xmlDocPtr
virt_parse(const char *xml)
{
	size_t len = strlen(xml);

	if (len > VIRT_XML_MAX)
		return NULL;
	return xmlReadMemory(xml, (int)len, "domain.xml", NULL, VIRT_PARSE_FLAGS);
}

/* The string value of an XPath expression relative to node; NULL if empty. */
static char *
virt_xpath_str(xmlXPathContextPtr ctx, xmlNodePtr node, const char *expr)
{
	xmlXPathObjectPtr res;
	char *s = NULL;

	ctx->node = node;
	res = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	if (res == NULL)
		return NULL;
	if (res->type == XPATH_STRING && res->stringval != NULL && res->stringval[0] != '\0')
		s = xstrdup((const char *)res->stringval);
	xmlXPathFreeObject(res);
	return s;
}

static void
virt_add_xpath(json_object *obj, const char *key, xmlXPathContextPtr ctx, xmlNodePtr node, const char *expr)
{
	char *s = virt_xpath_str(ctx, node, expr);

	if (s != NULL) {
		json_object_object_add(obj, key, json_object_new_string(s));
		free(s);
	}
}

struct virt_field {
	const char *key;
	const char *expr;
};

/* An array of objects, one per node matching `path`, with `fields`. */
static void
virt_add_nodes(json_object *obj, const char *key, xmlXPathContextPtr ctx, const char *path,
	       const struct virt_field *fields, size_t nfields)
{
	xmlXPathObjectPtr res;
	json_object *arr = json_object_new_array();
	int i;

	ctx->node = xmlDocGetRootElement(ctx->doc);
	res = xmlXPathEvalExpression(BAD_CAST path, ctx);
	if (res != NULL && res->type == XPATH_NODESET && res->nodesetval != NULL) {
		for (i = 0; i < res->nodesetval->nodeNr && i < 1024; i++) {
			xmlNodePtr node = res->nodesetval->nodeTab[i];
			json_object *item = json_object_new_object();
			size_t f;

			for (f = 0; f < nfields; f++)
				virt_add_xpath(item, fields[f].key, ctx, node, fields[f].expr);
			json_object_array_add(arr, item);
		}
	}
	if (res != NULL)
		xmlXPathFreeObject(res);
	json_object_object_add(obj, key, arr);
}

static const struct virt_field virt_disk_fields[] = {
	{ "device", "string(@device)" },
	{ "type", "string(@type)" },
	{ "target", "string(target/@dev)" },
	{ "bus", "string(target/@bus)" },
	{ "format", "string(driver/@type)" },
	{ "source", "string(source/@file | source/@dev | source/@name | source/@volume | source/@dir)" },
	{ "readonly", "string(self::node()[readonly]/@device)" },
};

static const struct virt_field virt_iface_fields[] = {
	{ "type", "string(@type)" },
	{ "mac", "string(mac/@address)" },
	{ "source", "string(source/@network | source/@bridge | source/@dev)" },
	{ "model", "string(model/@type)" },
	{ "target", "string(target/@dev)" },
};

static const struct virt_field virt_chardev_fields[] = {
	{ "kind", "local-name()" },
	{ "type", "string(@type)" },
	{ "target_type", "string(target/@type)" },
	{ "port", "string(target/@port)" },
	{ "path", "string(source/@path | @tty)" },
};

static const struct virt_field virt_graphics_fields[] = {
	{ "type", "string(@type)" },
	{ "port", "string(@port)" },
	{ "listen", "string(@listen)" },
};

int
virt_xml_describe(const char *xml, json_object *obj, struct berr *err)
{
	xmlDocPtr doc = virt_parse(xml);
	xmlXPathContextPtr ctx;
	xmlNodePtr root;
	json_object *disks, *d;
	size_t i;

	if (doc == NULL)
		return berr_set(err, BERR_PROTO, "libvirt returned malformed domain XML");
	root = xmlDocGetRootElement(doc);
	if (root == NULL || xmlStrcmp(root->name, BAD_CAST "domain") != 0) {
		xmlFreeDoc(doc);
		return berr_set(err, BERR_PROTO, "libvirt returned XML that is not a <domain>");
	}
	ctx = xmlXPathNewContext(doc);
	if (ctx == NULL) {
		xmlFreeDoc(doc);
		return berr_set(err, ENOMEM, "reading domain XML");
	}
	virt_add_xpath(obj, "domain_type", ctx, root, "string(@type)");
	virt_add_xpath(obj, "title", ctx, root, "string(title)");
	virt_add_xpath(obj, "description", ctx, root, "string(description)");
	/* The XML's OS type is exact where virDomainGetOSType is not (the
	 * test driver always says "linux"). */
	virt_add_xpath(obj, "os_type", ctx, root, "string(os/type)");
	virt_add_xpath(obj, "arch", ctx, root, "string(os/type/@arch)");
	virt_add_xpath(obj, "machine", ctx, root, "string(os/type/@machine)");
	virt_add_xpath(obj, "kernel", ctx, root, "string(os/kernel)");
	virt_add_xpath(obj, "initrd", ctx, root, "string(os/initrd)");
	virt_add_xpath(obj, "cmdline", ctx, root, "string(os/cmdline)");
	virt_add_xpath(obj, "loader", ctx, root, "string(os/loader)");
	virt_add_xpath(obj, "cpu_mode", ctx, root, "string(cpu/@mode)");
	virt_add_xpath(obj, "emulator", ctx, root, "string(devices/emulator)");
	virt_add_xpath(obj, "on_poweroff", ctx, root, "string(on_poweroff)");
	virt_add_xpath(obj, "on_reboot", ctx, root, "string(on_reboot)");
	virt_add_xpath(obj, "on_crash", ctx, root, "string(on_crash)");
	virt_add_nodes(obj, "disks", ctx, "devices/disk", virt_disk_fields,
		       sizeof virt_disk_fields / sizeof virt_disk_fields[0]);
	/* "readonly" above is a trick to test for the element; make it a bool. */
	if (json_object_object_get_ex(obj, "disks", &disks)) {
		for (i = 0; i < json_object_array_length(disks); i++) {
			d = json_object_array_get_idx(disks, i);
			json_object_object_add(d, "readonly",
					       json_object_new_boolean(json_object_object_get_ex(d, "readonly", NULL)));
		}
	}
	virt_add_nodes(obj, "interfaces", ctx, "devices/interface", virt_iface_fields,
		       sizeof virt_iface_fields / sizeof virt_iface_fields[0]);
	virt_add_nodes(obj, "consoles", ctx, "devices/serial | devices/console", virt_chardev_fields,
		       sizeof virt_chardev_fields / sizeof virt_chardev_fields[0]);
	virt_add_nodes(obj, "graphics", ctx, "devices/graphics", virt_graphics_fields,
		       sizeof virt_graphics_fields / sizeof virt_graphics_fields[0]);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return 0;
}

char *
virt_xml_name(const char *xml)
{
	xmlDocPtr doc = virt_parse(xml);
	xmlXPathContextPtr ctx;
	char *name = NULL;

	if (doc == NULL)
		return NULL;
	ctx = xmlXPathNewContext(doc);
	if (ctx != NULL) {
		name = virt_xpath_str(ctx, xmlDocGetRootElement(doc), "string(/domain/name)");
		xmlXPathFreeContext(ctx);
	}
	xmlFreeDoc(doc);
	return name;
}
