#!/bin/sh
# test-manpage.sh - berth(1) and the command table agree, both ways: every
# command, alias and option (long and short) in the table is documented in
# its own subsection of COMMANDS, every global option in GLOBAL OPTIONS; and
# every subsection names a real command, every option the man page lists
# (in a .TP tag) is one the command or the global table has.
. "$top_srcdir/tests/lib/sh-helpers.sh"
[ -x "$BERTH" ] || fail "berth binary not built"
man="$top_srcdir/man/berth.1"
[ -r "$man" ] || fail "man/berth.1 is missing"
$BERTH commands > "$BERTH_TEST_TMP/table" || fail "berth commands failed"
check() {
	python3 - "$1" "$2" <<'PY'
import re, sys
man = open(sys.argv[1], encoding="utf-8").read().splitlines()
table = {}
for line in open(sys.argv[2], encoding="utf-8"):
    name, aliases, opts = (line.rstrip("\n").split("\t") + ["", ""])[:3]
    if name == "commands":
        continue                      # internal, not for users
    table[name] = ([a for a in aliases.split(",") if a], [o for o in opts.split(",") if o])
if "(global)" not in table:
    print("the table has no (global) line")
    sys.exit(1)
GLOBAL = "(global)"

def plain(s):
    return (s.replace("\\-", "-").replace("\\fB", "").replace("\\fR", "")
             .replace("\\fI", "").replace("\\fP", ""))

# Sections: GLOBAL OPTIONS, and the subsections of COMMANDS.
sections, cur, sh = {}, None, None
for l in man:
    if l.startswith(".SH"):
        sh = l.split(None, 1)[1].strip('"')
        cur = GLOBAL if sh == "GLOBAL OPTIONS" else None
        if cur:
            sections[cur] = []
        continue
    if sh == "COMMANDS" and l.startswith(".SS"):
        cur = l.split(None, 1)[1].strip('"').split()[0]
        sections[cur] = []
        continue
    if cur is not None:
        sections[cur].append(l)

def tagged_options(lines):
    """Options named in the tag line of each .TP (the documented ones)."""
    found = set()
    for i, l in enumerate(lines):
        if l.startswith(".TP") and i + 1 < len(lines):
            for o in re.findall(r"(?<![\w-])(--?[A-Za-z0-9][\w-]*)", plain(lines[i + 1])):
                found.add(o)
    return found

problems = []
for name, (aliases, opts) in table.items():
    if name not in sections:
        problems.append("`%s' has no section in the man page" % name)
        continue
    text = plain("\n".join(sections[name]))
    for a in aliases:
        if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(a), text):
            problems.append("alias `%s' of `%s' is not documented" % (a, name))
    for o in opts:
        if name != GLOBAL and o in ("--connect", "-c"):
            continue                  # a global option, documented once
        if not re.search(r"(?<![\w-])" + re.escape(o) + r"(?![\w-])", text):
            problems.append("option `%s' of `%s' is not documented" % (o, name))
    known = set(opts) | set(table[GLOBAL][1])
    for o in sorted(tagged_options(sections[name])):
        if o not in known:
            problems.append("the man page gives `%s' an option `%s' it does not have" % (name, o))
for name in sections:
    if name not in table:
        problems.append("man page documents `%s', which is not a command" % name)
if problems:
    print("\n".join(problems))
    sys.exit(1)
print("%d commands and the global options checked" % (len(table) - 1))
PY
}
check "$man" "$BERTH_TEST_TMP/table" || fail "berth(1) and the command table disagree"

# The checker itself: a man page with an option the table lacks, and a
# table option the man page lacks, must each be caught.
sed 's/^\\fB\\-\\-no\\-default\\-libvirt\\fR$/\\fB\\-\\-no\\-default\\-libvirt\\fR, \\fB\\-\\-bogus\\-global\\fR/' "$man" >"$BERTH_TEST_TMP/bad1.1"
grep -qF "bogus\\-global" "$BERTH_TEST_TMP/bad1.1" || fail "could not make the broken man page (global)"
out=$(check "$BERTH_TEST_TMP/bad1.1" "$BERTH_TEST_TMP/table") && fail "an undocumented global option went unnoticed"
echo "$out" | grep -q "bogus-global" || fail "the checker did not name the extra global option: $out"
sed 's/^\(list\t[^\t]*\t\)/\1--phantom,/' "$BERTH_TEST_TMP/table" >"$BERTH_TEST_TMP/bad2"
out=$(check "$man" "$BERTH_TEST_TMP/bad2") && fail "a table option missing from the man page went unnoticed"
echo "$out" | grep -q "phantom" || fail "the checker did not name the missing option: $out"
sed '/^\.SS stats/,/^\.SS exec/s/\\fB\\-\\-wide\\fR/\\fB\\-\\-wider\\fR/' "$man" >"$BERTH_TEST_TMP/bad3.1"
out=$(check "$BERTH_TEST_TMP/bad3.1" "$BERTH_TEST_TMP/table") && fail "a man-page option the command lacks went unnoticed"
echo "$out" | grep -q "wider" || fail "the checker did not name the option stats lacks: $out"
exit 0
