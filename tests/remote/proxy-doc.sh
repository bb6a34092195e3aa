#!/bin/sh
# proxy-doc.sh - berth-protocol(7) documents `berth proxy' as it is: every
# operation the proxy dispatches has an entry in OPERATIONS OF berth proxy
# and every entry there is one it dispatches; and a raw session (test
# driver) answers with the banner, result keys and stats fields the page
# lists, and notsup for an unknown operation.
. "$top_srcdir/tests/lib/sh-helpers.sh"
need_cmd python3
src="$top_srcdir/src/backends/remote/remote-proxy.c"
man="$top_srcdir/man/berth-protocol.7"
"$BERTH" version --json 2>/dev/null | grep -q libvirt || skip "berth was built without the libvirt backend"
(printf '%s\n' '{"id":0,"op":"hello","args":{"version":1,"client":"proxy-doc"}}' \
	'{"id":1,"op":"list"}' '{"id":2,"op":"no-such-op"}' \
	'{"id":3,"op":"stats","args":{"instances":[{"name":"test","backend":"libvirt"}]}}' \
	'{"id":4,"op":"host_info"}' '{"id":5,"op":"get","args":{"name":"test"}}'
 sleep 2) | timeout 20 "$BERTH" --no-default-libvirt --connect test:///default proxy \
	>"$BERTH_TEST_TMP/session" 2>"$BERTH_TEST_TMP/err" || {
	cat "$BERTH_TEST_TMP/err"; fail "berth proxy failed"; }
python3 - "$src" "$man" "$BERTH_TEST_TMP/session" <<'PY' || fail "berth-protocol(7) and berth proxy disagree"
import json, re, sys
src, man, session = (open(p, encoding="utf-8").read() for p in sys.argv[1:4])
body = src[src.index("proxy_handler(struct proto_server"):]
body = body[:body.index("\n}\n")]
code_ops = set(re.findall(r'strcmp\(op, "([a-z_]+)"\)', body))
sec = man[man.index(".SH OPERATIONS OF berth proxy"):]
sec = sec[:sec.index("\n.SH ", 1)]
lines = sec.splitlines()
doc_ops = set()
for i, l in enumerate(lines):
    if l == ".TP" and i + 1 < len(lines) and lines[i + 1].startswith((".B ", ".BR ")):
        for w in re.findall(r"[a-z_]+", lines[i + 1].split(None, 1)[1]):
            if w != "BR":
                doc_ops.add(w)
problems = []
for op in sorted(code_ops - doc_ops):
    problems.append("operation `%s' is not documented" % op)
for op in sorted(doc_ops - code_ops):
    problems.append("the page documents `%s', which berth proxy does not dispatch" % op)
msgs = [json.loads(l) for l in session.splitlines() if l.strip()]
if not msgs or msgs[0].get("event") != "berth-proxy" or "version" not in msgs[0].get("data", {}):
    problems.append("the first line is not the documented banner: %r" % (msgs[:1],))
by_id = {m["id"]: m for m in msgs if "id" in m}
def result(i):
    m = by_id.get(i, {})
    if "result" not in m:
        problems.append("request %d got no result: %r" % (i, m))
        return {}
    return m["result"]
hello = result(0)
for k in ("host", "berth_version", "connections"):
    if k not in hello:
        problems.append("hello result lacks documented `%s'" % k)
lst = result(1)
if set(lst) != {"instances", "failures"}:
    problems.append("list result keys %s, documented instances and failures" % sorted(lst))
elif not any(i.get("name") == "test" and i.get("uri") == "test:///default" for i in lst["instances"]):
    problems.append("list lacks the test domain with its uri")
if by_id.get(2, {}).get("error", {}).get("code") != "notsup":
    problems.append("an unknown operation did not get notsup: %r" % by_id.get(2))
m = re.search(r"in the same order:\s*\{([^}]*)\}", sec.replace("\n", " "))
documented = {f.strip() for f in m.group(1).split(",")} if m else set()
st = result(3)
if set(st) != {"stats", "now_ms"} or len(st.get("stats", [])) != 1:
    problems.append("stats result %r is not {stats:[one sample], now_ms}" % st)
elif set(st["stats"][0]) != documented:
    problems.append("stats sample fields %s differ from the documented %s" % (sorted(st["stats"][0]), sorted(documented)))
elif st["stats"][0]["valid"] is not True:
    problems.append("the running test domain's sample is not valid")
hi = result(4)
if not {"host", "connections", "failures"} <= set(hi):
    problems.append("host_info result keys %s" % sorted(hi))
if result(5).get("uri") != "test:///default":
    problems.append("get result lacks uri")
if problems:
    print("\n".join(problems))
    sys.exit(1)
print("%d operations documented and dispatched; a session matches the page" % len(code_ops))
PY
exit 0
