#!/bin/sh
# test-manpage.sh - berth(1) and the command table agree: every command,
# alias and option in the table is documented in its own subsection of
# COMMANDS, and every subsection there names a real command.
. "$top_srcdir/tests/lib/sh-helpers.sh"
[ -x "$BERTH" ] || fail "berth binary not built"
man="$top_srcdir/man/berth.1"
[ -r "$man" ] || fail "man/berth.1 is missing"
$BERTH commands > "$BERTH_TEST_TMP/table" || fail "berth commands failed"
python3 - "$man" "$BERTH_TEST_TMP/table" <<'PY'
import re, sys
man = open(sys.argv[1], encoding="utf-8").read().splitlines()
table = {}
for line in open(sys.argv[2], encoding="utf-8"):
    name, aliases, opts = (line.rstrip("\n").split("\t") + ["", ""])[:3]
    if name == "commands":
        continue                      # internal, not for users
    table[name] = ([a for a in aliases.split(",") if a], [o for o in opts.split(",") if o])
# Subsections of the COMMANDS section.
sections, cur, in_cmds = {}, None, False
for l in man:
    if l.startswith(".SH"):
        in_cmds = l.split(None, 1)[1].strip('"') == "COMMANDS"
        cur = None
        continue
    if in_cmds and l.startswith(".SS"):
        cur = l.split(None, 1)[1].strip('"').split()[0]
        sections[cur] = []
        continue
    if cur is not None:
        sections[cur].append(l)
problems = []
for name, (aliases, opts) in table.items():
    if name not in sections:
        problems.append("command `%s' has no subsection in COMMANDS" % name)
        continue
    text = "\n".join(sections[name]).replace("\\-", "-").replace("\\fB", "").replace("\\fR", "").replace("\\fI", "")
    for a in aliases:
        if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(a), text):
            problems.append("alias `%s' of `%s' is not documented" % (a, name))
    for o in opts:
        if o == "--connect":
            continue                  # a global option, documented once
        if not re.search(re.escape(o) + r"\b", text):
            problems.append("option `%s' of `%s' is not documented" % (o, name))
for name in sections:
    if name not in table:
        problems.append("man page documents `%s', which is not a command" % name)
if problems:
    print("\n".join(problems))
    sys.exit(1)
print("%d commands checked" % len(table))
PY
