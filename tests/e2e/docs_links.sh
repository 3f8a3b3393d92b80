#!/bin/sh
# The docs hang together: the README's documentation list names every docs/*.md; every
# relative markdown link (and its #anchor) and every docs/NAME.md, docs/NAME.1 or
# examples/NAME a doc mentions points to something that exists; and no machine path
# (a work tree, root's or a user's home directory) is in the docs, the README or the sources.
set -u
SRC=${CVMATTEST_SRC:?}
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }
python3 - "$SRC" <<'EOF'
import os, re, sys

src = sys.argv[1]
fails = []


def read(path):
    with open(os.path.join(src, path), encoding="utf-8") as f:
        return f.read()


def anchors(path):
    """GitHub's heading anchors of a markdown file (code blocks skipped)."""
    out, code = set(), False
    for line in read(path).splitlines():
        if line.startswith("```"):
            code = not code
        m = None if code else re.match(r"^#+\s+(.*)", line)
        if m:
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            out.add(slug)
    return out


docs = sorted(f for f in os.listdir(os.path.join(src, "docs")) if f.endswith(".md"))
mds = ["README.md", "examples/README.md"] + ["docs/" + f for f in docs]

readme = read("README.md")
for f in docs + ["cvmattest.1"]:
    if "`docs/%s`" % f not in readme:
        fails.append("README.md's documentation list lacks docs/%s" % f)

for md in mds:
    text = read(md)
    for m in re.finditer(r"\]\(([^)\s]+)\)", text):
        link = m.group(1)
        if re.match(r"[a-z]+:", link):
            continue
        path, _, anchor = link.partition("#")
        target = os.path.normpath(os.path.join(os.path.dirname(md), path)) if path else md
        if not os.path.exists(os.path.join(src, target)):
            fails.append("%s: link to %s: no such file" % (md, link))
        elif anchor and target.endswith(".md") and anchor not in anchors(target):
            fails.append("%s: link to %s: no such heading" % (md, link))
    for m in re.finditer(r"\b((?:docs|examples)/[A-Za-z0-9_.-]*[A-Za-z0-9_])", text):
        if not os.path.exists(os.path.join(src, m.group(1))):
            fails.append("%s: names %s, which does not exist" % (md, m.group(1)))

machine = re.compile(r"(^|[^A-Za-z0-9_./-])/(work|root|home)/")
for top in ["README.md", "Makefile", "CMakeLists.txt", "docs", "examples", "include", "src",
            "cli", "sim", "tests", "fuzz", "bench", "web", "cmake"]:
    base = os.path.join(src, top)
    walk = [(os.path.dirname(base), [], [top])] if os.path.isfile(base) else os.walk(base)
    for d, _, files in walk:
        if "/corpus" in d:
            continue
        for f in files:
            p = os.path.join(d, f)
            try:
                with open(p, encoding="utf-8") as fh:
                    lines = fh.read().splitlines()
            except (UnicodeDecodeError, OSError):
                continue
            for i, line in enumerate(lines, 1):
                if machine.search(line):
                    fails.append("%s:%d: a machine path: %s" % (os.path.relpath(p, src), i,
                                                                 line.strip()[:80]))

for f in fails:
    print("FAIL " + f)
print("%d docs checked, %d problem(s)" % (len(mds), len(fails)))
sys.exit(1 if fails else 0)
EOF
