#!/usr/bin/env python3
"""docs-render-check.py — render the study guide's main pages in headless
Chromium at 1280 px and fail when a diagram overflows its column or when
markup shows as text.

What it checks, page by page (sprint 1's and sprint 2's handouts and the
grading page: the widest diagrams, and a navigation tree that shows every
page's headings; three pages keep it under a minute on a busy machine):
- every diagram or picture of the page body (img, object, iframe, svg) and
  every table fits the width of the column it sits in (within 2 px): a
  diagram wider than the column is cut off or needs scrolling sideways;
- the text a reader sees (headings, body and the navigation tree) has no
  markup in it: no literal <tt>, <b>, <code> ... tag, no Doxygen anchor
  {#name}, no unprocessed @ref.

How it works: for each page, a copy with a small script appended is
written beside it (so its stylesheets, scripts and SVG files load by the
same relative paths), Chromium loads it headless with a 1280x1000 window
and a virtual-time budget (the navigation tree is built by JavaScript),
the script writes its findings into the DOM, and --dump-dom hands the DOM
back. Chromium runs as root only with --no-sandbox, which is passed then.
The copies are removed afterwards. A few seconds per page.

Usage: docs-render-check.py HTML_DIR [PAGE.html ...]
Exit status: 0 when every page passes; 1 when one fails; 2 when Chromium
is missing or cannot render (install it: scripts/install-deps.sh).
"""
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile

PAGES = ["sprint1.html", "sprint2.html", "grading.html"]
WIDTH, HEIGHT = 1280, 1000

PROBE = r"""
<script>
window.addEventListener('load', function () { setTimeout(function () {
  var out = [];
  var body = document.querySelector('div.contents') || document.body;
  var sel = 'img, object, iframe, svg, table';
  body.querySelectorAll(sel).forEach(function (e) {
    if (e.closest('svg') && e.tagName.toLowerCase() !== 'svg') return;
    if (e.tagName.toLowerCase() === 'svg' && e.parentElement.closest('svg')) return;
    var col = e.parentElement;
    while (col && col !== document.body && col.clientWidth === 0) col = col.parentElement;
    var box = body.getBoundingClientRect(), r = e.getBoundingClientRect();
    var right = box.left + body.clientWidth;
    if (r.width > 0 && r.right > right + 2) {
      var name = e.getAttribute('src') || e.getAttribute('data') || e.id || e.className || '';
      out.push('OVERFLOW ' + e.tagName.toLowerCase() + ' ' + name + ': ' +
               Math.round(r.width) + ' px wide, its column ends ' +
               Math.round(right - r.left) + ' px from its left edge');
    }
  });
  var text = document.body.innerText;
  var nav = document.getElementById('nav-tree');
  if (nav) text += '\n' + nav.innerText;
  var re = /<\/?(tt|b|i|em|code|strong|span|div|a)\b[^>]*>|\{#[A-Za-z0-9_]+\}|@ref\b/g, m;
  var seen = {};
  while ((m = re.exec(text)) !== null) {
    var ctx = text.substring(Math.max(0, m.index - 30), m.index + m[0].length + 30);
    ctx = ctx.replace(/\s+/g, ' ');
    if (!seen[ctx]) { seen[ctx] = 1; out.push('MARKUP "' + m[0] + '" shown as text: ...' + ctx + '...'); }
  }
  var pre = document.createElement('pre');
  pre.id = 'kvlabs-render-check';
  pre.textContent = 'RESULT-BEGIN\n' + out.join('\n') + '\nRESULT-END';
  document.body.appendChild(pre);
}, 500); });
</script>
"""


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


def render(browser, page_path):
    argv = [browser, "--headless", "--disable-gpu", "--hide-scrollbars",
            "--window-size=%d,%d" % (WIDTH, HEIGHT), "--virtual-time-budget=3000",
            "--allow-file-access-from-files", "--no-first-run", "--dump-dom",
            "file://" + page_path]
    if os.geteuid() == 0:
        argv.insert(1, "--no-sandbox")
    with tempfile.TemporaryDirectory(prefix="kvlabs-chromium-") as prof:
        argv.insert(1, "--user-data-dir=" + prof)
        p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def check_page(browser, htmldir, page):
    src = os.path.join(htmldir, page)
    probe = os.path.join(htmldir, "_render_check_" + page)
    with open(src, encoding="utf-8") as f:
        text = f.read()
    text = text.replace("</body>", PROBE + "</body>", 1) if "</body>" in text else text + PROBE
    with open(probe, "w", encoding="utf-8") as f:
        f.write(text)
    try:
        rc, dom, err = render(browser, probe)
    finally:
        os.remove(probe)
    m = re.search(r"RESULT-BEGIN\n(.*?)\nRESULT-END", dom, re.S)
    if not m:
        return None, "chromium rendered nothing usable (exit %d): %s" % (rc, err.strip()[-600:])
    found = [html.unescape(x) for x in m.group(1).split("\n") if x.strip()]
    return found, ""


def main():
    if len(sys.argv) < 2:
        print(__doc__.split("\n")[-4], file=sys.stderr)
        return 2
    htmldir = os.path.abspath(sys.argv[1])
    pages = sys.argv[2:] or [p for p in PAGES if os.path.exists(os.path.join(htmldir, p))]
    browser = chromium()
    if not browser:
        print("docs-render-check: no chromium (scripts/install-deps.sh installs it)")
        return 2
    bad = 0
    for page in pages:
        found, why = check_page(browser, htmldir, page)
        if found is None:
            print("docs-render-check: %s: %s" % (page, why))
            return 2
        for f in found:
            print("docs-render-check: %s: %s" % (page, f))
        bad += bool(found)
        print("docs-render-check: %s at %d px: %s" % (page, WIDTH, "FAILED" if found else "ok"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
