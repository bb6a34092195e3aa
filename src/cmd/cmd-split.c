/*
 * cmd-split.c - split a command line into words with shell-like quoting
 * ('...', "..." with \\ escapes, and backslash), for the shell and the
 * dashboard's `:` line.  Not for: running anything (no expansion of any kind).
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/util.h"

int
cmd_split(const char *line, int *argcp, char ***argvp, struct berr *err)
{
	char **argv = NULL;
	int argc = 0, cap = 0;
	const char *p = line;
	char *word = xmalloc(strlen(line) + 1);

	for (;;) {
		size_t wl = 0;
		int have = 0;
		char q = 0;

		while (*p && isspace((unsigned char)*p))
			p++;
		if (*p == '\0' || *p == '#')
			break;
		while (*p) {
			if (q) {
				if (*p == q) {
					q = 0;
					p++;
				} else if (q == '"' && *p == '\\' && p[1] != '\0') {
					word[wl++] = p[1];
					p += 2;
				} else {
					word[wl++] = *p++;
				}
				continue;
			}
			if (isspace((unsigned char)*p))
				break;
			if (*p == '\'' || *p == '"') {
				q = *p++;
				have = 1;
				continue;
			}
			if (*p == '\\' && p[1] != '\0') {
				word[wl++] = p[1];
				p += 2;
				continue;
			}
			word[wl++] = *p++;
		}
		if (q) {
			free(word);
			cmd_free_argv(argc, argv);
			return berr_set(err, BERR_INVALID, "unterminated %c quote", q);
		}
		if (wl == 0 && !have)
			continue;
		word[wl] = '\0';
		if (argc + 2 > cap) {
			cap = cap ? cap * 2 : 8;
			argv = xrealloc(argv, (size_t)cap * sizeof *argv);
		}
		argv[argc++] = xstrdup(word);
	}
	free(word);
	if (argv == NULL)
		argv = xcalloc(1, sizeof *argv);
	argv[argc] = NULL;
	*argcp = argc;
	*argvp = argv;
	return 0;
}

void
cmd_free_argv(int argc, char **argv)
{
	int i;

	if (argv == NULL)
		return;
	for (i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}
