#!/usr/bin/env python3
"""docs_test.py — the study guide builds, warning-free and complete.

What this is: `make docs` (scripts/build-docs.sh) as a test of `make test`.
The guide is built into a temporary folder; the build must succeed (it
fails on any Doxygen warning and on a missing page). Then the generated
HTML is checked page by page:

- every public header (common/include/kvlabs/*.h, sprint-*/include/*.h)
  has its page;
- every sprint handout that is in the guide (a sprint-*/README.md whose
  title carries a {#anchor}) has its page, and the page has the parts the
  course promises: Objectives, Concepts with at least one Graphviz diagram
  (a ```dot block, rendered to SVG), Exercises, and How grading works —
  required of the labs with their course tooling (checklib.tooled_labs());
  for the others a missing part is printed as a note;
- the grading page exists and the main page links to it.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

from checklib import ROOT, check, finish, tooled_labs


def headings(html):
    """The text of the h1-h3 headings of a Doxygen page."""
    return [re.sub(r"<[^>]*>", "", h).strip() for h in
            re.findall(r"<h[123]>\s*<a class=\"anchor\"[^>]*></a>\s*(.*?)</h[123]>", html, re.S)]


def part_pages(lab, html):
    """The generated pages of a lab's parts: <lab>/<part>/README.md files
    whose title carries a {#anchor}."""
    pages = []
    for readme in sorted(glob.glob(os.path.join(ROOT, lab, "*", "README.md"))):
        with open(readme) as f:
            m = re.search(r"\{#([A-Za-z0-9_]+)\}", f.readline())
        if m and os.path.isfile(os.path.join(html, m.group(1) + ".html")):
            pages.append(os.path.join(html, m.group(1) + ".html"))
    return pages


def render_check_can_fail(tmp):
    """docs-render-check.py fails a page whose diagram is wider than the
    column or that shows a <tt> tag as text (what the guide once did)."""
    d = os.path.join(tmp, "render-bad")
    os.makedirs(d)
    with open(os.path.join(d, "bad.html"), "w") as f:
        f.write('<html><body><div class="contents" style="width:900px">'
                '<h1>Heading &lt;tt&gt;code&lt;/tt&gt;</h1>'
                '<iframe src="x.svg" width="1498" height="100"></iframe>'
                '</div></body></html>')
    p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "docs-render-check.py"), d,
                        "bad.html"], capture_output=True, text=True)
    check(p.returncode == 1 and "OVERFLOW iframe" in p.stdout and "MARKUP" in p.stdout,
          "the render check fails an overflowing diagram and a literal <tt>",
          p.stdout[-2000:] + p.stderr[-1000:])


def main():
    with tempfile.TemporaryDirectory(prefix="kvlabs-docs-test-") as tmp:
        p = subprocess.run(["sh", os.path.join(ROOT, "scripts", "build-docs.sh"), tmp],
                           capture_output=True, text=True, cwd=ROOT)
        check(p.returncode == 0, "scripts/build-docs.sh: zero warnings, every page present",
              (p.stdout + p.stderr)[-3000:])
        check("renders at 1280 px" in p.stdout,
              "make docs renders the main pages at 1280 px in headless Chromium and they pass",
              (p.stdout + p.stderr)[-3000:])
        html = os.path.join(tmp, "html")
        render_check_can_fail(tmp)
        headers = sorted(glob.glob(os.path.join(ROOT, "common/include/kvlabs/*.h")) +
                         glob.glob(os.path.join(ROOT, "sprint-*/include/*.h")))
        for h in headers:
            page = os.path.basename(h)[:-2].replace("_", "__") + "_8h.html"
            check(os.path.isfile(os.path.join(html, page)), "header %s has its page %s"
                  % (os.path.relpath(h, ROOT), page))
        for readme in sorted(glob.glob(os.path.join(ROOT, "sprint-*/README.md"))):
            with open(readme) as f:
                m = re.search(r"\{#([A-Za-z0-9_]+)\}", f.readline())
            if not m:
                continue
            rel = os.path.relpath(readme, ROOT)
            page = os.path.join(html, m.group(1) + ".html")
            if not check(os.path.isfile(page), "%s has its page %s.html" % (rel, m.group(1))):
                continue
            with open(page, errors="replace") as f:
                text = f.read()
            lab = os.path.dirname(rel)
            for part in part_pages(lab, html):
                with open(part, errors="replace") as f:
                    text += f.read()
            hs = headings(text)
            # A lab with its course tooling (STUDENT_FILES and mutants/) must
            # have every part; for the others (a lab still being written) a
            # missing part is a note, not a failure.
            strict = lab in tooled_labs()
            parts = [(what, any(re.search(pat, h) for h in hs)) for what, pat in (
                ("Objectives", r"^Objectives"), ("Concepts", r"Concept"),
                ("Exercises", r"^Exercise"), ("How grading works", r"^How grading works"))]
            parts.append(("Graphviz diagram", 'class="dotgraph"' in text))
            for what, ok in parts:
                if strict:
                    check(ok, "%s: has %s" % (rel, what), "headings: " + "; ".join(hs))
                elif not ok:
                    print("note %s: no %s yet" % (rel, what))
        grading = os.path.join(html, "grading.html")
        check(os.path.isfile(grading), "the grading page exists")
        with open(os.path.join(html, "index.html"), errors="replace") as f:
            check("grading.html" in f.read(), "the main page links to the grading page")
    finish()


if __name__ == "__main__":
    main()
