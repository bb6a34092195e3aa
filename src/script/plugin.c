/*
 * plugin.c - the plugin loader: Lua plugins (*.lua, run in the global Lua
 * state, where they add commands, columns, key bindings and event hooks)
 * and C backend plugins (*.so, dlopen'ed; one entry symbol
 * berth_plugin_init returning a const struct backend_ops * whose
 * abi_version must equal BERTH_BACKEND_ABI).
 *
 * Directories, first found wins for a plugin name: each of
 * $BERTH_PLUGIN_PATH (colon-separated), $BERTH_CONFIG_DIR/plugins, the
 * installed Lua plugins ($(pkgdatadir)/plugins) and C plugins
 * ($(pkglibdir) and $(pkglibdir)/plugins).
 * Not for: the plugin API itself (berth-plugin.h, berth-lua(7)).
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/backend.h"
#include "core/session.h"
#include "core/util.h"
#include "script/script-int.h"

#define PLUGIN_MAX 128

struct plugin_rec {
	char *name;		/* file name without extension */
	char *path;
	int is_c;
	char *error;		/* NULL: loaded */
	const char *backend;	/* C plugins: the backend's name */
};

static struct plugin_rec plugins[PLUGIN_MAX];
static size_t nplugins;

static int
plugin_seen(const char *name)
{
	size_t i;

	for (i = 0; i < nplugins; i++)
		if (strcmp(plugins[i].name, name) == 0)
			return 1;
	return 0;
}

static struct plugin_rec *
plugin_add(const char *name, const char *path, int is_c)
{
	struct plugin_rec *p;

	if (nplugins == PLUGIN_MAX)
		return NULL;
	p = &plugins[nplugins++];
	p->name = xstrdup(name);
	p->path = xstrdup(path);
	p->is_c = is_c;
	return p;
}

/* Load one C plugin.  The handle is never closed: the ops table lives in it. */
static int
plugin_load_c(const char *path, const char **backend, struct berr *err)
{
	const struct backend_ops *(*init)(void);
	const struct backend_ops *ops;
	void *h;

	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		return berr_set(err, BERR_INVALID, "plugin `%s': %s", path, dlerror());
	*(void **)&init = dlsym(h, "berth_plugin_init");
	if (init == NULL) {
		dlclose(h);
		return berr_set(err, BERR_INVALID, "plugin `%s': no symbol berth_plugin_init", path);
	}
	ops = init();
	if (ops == NULL) {
		dlclose(h);
		return berr_set(err, BERR_INVALID, "plugin `%s': berth_plugin_init returned no backend",
				path);
	}
	if (ops->abi_version != BERTH_BACKEND_ABI) {
		berr_set(err, BERR_VERSION,
			 "plugin `%s' was built for backend ABI version %d, but this berth has version %d; "
			 "rebuild it against this berth's berth-plugin.h",
			 path, ops->abi_version, BERTH_BACKEND_ABI);
		dlclose(h);
		return -1;
	}
	if (backend_register(ops, err) < 0) {
		berr_wrap(err, "plugin `%s'", path);
		dlclose(h);
		return -1;
	}
	*backend = ops->name;
	return 0;
}

static int
plugin_load_lua(struct script *sc, const char *path, struct berr *err)
{
	lua_State *L = sc->L;
	int top = lua_gettop(L);
	char *ebuf = NULL;
	size_t elen = 0;
	FILE *errf;
	enum script_status st;

	if (luaL_loadfilex(L, path, "t") != LUA_OK) {
		berr_set(err, BERR_INVALID, "plugin %s", lua_tostring(L, -1));
		lua_settop(L, top);
		return -1;
	}
	errf = open_memstream(&ebuf, &elen);
	if (errf == NULL) {
		lua_settop(L, top);
		return berr_errno(err, "plugin `%s'", path);
	}
	st = script_call(sc, 0, 0, errf);
	fclose(errf);
	if (st != SCRIPT_OK) {
		while (elen > 0 && ebuf[elen - 1] == '\n')
			ebuf[--elen] = '\0';
		berr_set(err, BERR_INVALID, "plugin `%s': %s", path,
			 strncmp(ebuf, "berth: ", 7) == 0 ? ebuf + 7 : ebuf);
		free(ebuf);
		lua_settop(L, top);
		return -1;
	}
	free(ebuf);
	lua_settop(L, top);
	return 0;
}

static int
name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void
add_failure(struct berr *all, const struct berr *one, int *nfail)
{
	size_t len = strlen(all->msg);

	if (*nfail == 0) {
		*all = *one;
	} else if (len + 2 < sizeof all->msg) {
		all->msg[len] = '\n';
		strlcpy_b(all->msg + len + 1, one->msg, sizeof all->msg - len - 1);
	}
	(*nfail)++;
}

static void
plugins_scan_dir(struct script *sc, const char *dir, struct berr *all, int *nfail)
{
	struct dirent **ents = NULL;
	int n, i;

	n = scandir(dir, &ents, NULL, name_cmp);
	if (n < 0)
		return;
	for (i = 0; i < n; i++) {
		const char *fn = ents[i]->d_name;
		size_t len = strlen(fn);
		int is_lua = len > 4 && strcmp(fn + len - 4, ".lua") == 0;
		int is_c = len > 3 && strcmp(fn + len - 3, ".so") == 0;
		char *path, *name;
		struct stat st;
		struct berr e = { 0 };
		struct plugin_rec *p;

		if ((!is_lua && !is_c) || fn[0] == '.') {
			free(ents[i]);
			continue;
		}
		path = xasprintf("%s/%s", dir, fn);
		name = xstrndup(fn, len - (is_lua ? 4 : 3));
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || plugin_seen(name)) {
			free(path);
			free(name);
			free(ents[i]);
			continue;
		}
		p = plugin_add(name, path, is_c);
		if (p != NULL) {
			int r = is_c ? plugin_load_c(path, &p->backend, &e) : plugin_load_lua(sc, path, &e);

			if (r < 0) {
				p->error = xstrdup(e.msg);
				add_failure(all, &e, nfail);
			}
		}
		free(path);
		free(name);
		free(ents[i]);
	}
	free(ents);
}

int
script_plugins_load(struct session *s, struct berr *err)
{
	struct script *sc = script_global(s, err);
	const char *env = getenv("BERTH_PLUGIN_PATH");
	const char *confdir = s ? s->dirs.config : getenv("BERTH_CONFIG_DIR");
	int nfail = 0;
	char *dir;

	if (sc == NULL)
		return -1;
	berr_clear(err);
	if (env != NULL && *env != '\0') {
		char *copy = xstrdup(env), *save = NULL, *tok;

		for (tok = strtok_r(copy, ":", &save); tok != NULL; tok = strtok_r(NULL, ":", &save))
			plugins_scan_dir(sc, tok, err, &nfail);
		free(copy);
	} else if (build_tree_srcdir() != NULL) {
		/* run from the build tree: the plugins of its source tree */
		plugins_scan_dir(sc, BERTH_SRCDIR "/plugins", err, &nfail);
		plugins_scan_dir(sc, BERTH_BUILDDIR "/plugins/.libs", err, &nfail);
	}
	if (confdir != NULL) {
		dir = xasprintf("%s/plugins", confdir);
		plugins_scan_dir(sc, dir, err, &nfail);
		free(dir);
	}
	plugins_scan_dir(sc, BERTH_PKGDATADIR "/plugins", err, &nfail);
	plugins_scan_dir(sc, BERTH_LIBDIR, err, &nfail);
	plugins_scan_dir(sc, BERTH_LIBDIR "/plugins", err, &nfail);
	return nfail > 0 ? -1 : 0;
}

/* berth.plugins() -> array of {name, path, kind = "lua"|"c", backend,
 * error}.  [-0, +1, m] */
int
script_plugins_list(lua_State *L)
{
	size_t i;

	lua_createtable(L, (int)nplugins, 0);
	for (i = 0; i < nplugins; i++) {
		lua_createtable(L, 0, 5);
		lua_pushstring(L, plugins[i].name);
		lua_setfield(L, -2, "name");
		lua_pushstring(L, plugins[i].path);
		lua_setfield(L, -2, "path");
		lua_pushstring(L, plugins[i].is_c ? "c" : "lua");
		lua_setfield(L, -2, "kind");
		if (plugins[i].backend != NULL) {
			lua_pushstring(L, plugins[i].backend);
			lua_setfield(L, -2, "backend");
		}
		if (plugins[i].error != NULL) {
			lua_pushstring(L, plugins[i].error);
			lua_setfield(L, -2, "error");
		}
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}
