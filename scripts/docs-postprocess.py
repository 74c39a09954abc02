#!/usr/bin/env python3
"""docs-postprocess.py — make Doxygen's HTML read well at 1280 px.

Run by scripts/build-docs.sh on OUT/html after Doxygen, before the render
check (scripts/docs-render-check.py). Two fixes:

- Graphviz diagrams. Doxygen embeds each SVG diagram in an iframe of the
  diagram's natural size (sprint 1's dispatch diagram is 1498 px wide, sprint
  2's kv_get path 2032 px): in a column of about 1000 px it is cut off, with
  no scrollbar. Each such iframe becomes an <img> scaled to the column's
  width (max-width: 100%, the height following), so a wide diagram shrinks
  and a small one keeps its size. (An <img> does not follow links inside
  the SVG; the course's diagrams have none that matter.)
- Headings with `code`. Doxygen writes them as "&lt;tt&gt;code&lt;/tt&gt;"
  in the page (shown as literal <tt>) and as "<tt>code</tt>" in
  navtreedata.js (shown as text by the tree): the page gets <code>, the
  tree plain text.

Usage: docs-postprocess.py HTML_DIR. Prints what it changed.
"""
import os
import re
import sys

IFRAME = re.compile(r'<iframe scrolling="no" frameborder="0" src="([^"]+\.svg)" width="(\d+)" '
                    r'height="(\d+)">.*?</iframe>', re.S)
TT = re.compile(r"</?tt>")
ESCAPED_TT = re.compile(r"&lt;tt&gt;(.*?)&lt;/tt&gt;")


def main():
    d = sys.argv[1]
    frames = pages = nav = heads = 0
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        if name.endswith(".html"):
            with open(p, encoding="utf-8") as f:
                text = f.read()
            new, n = IFRAME.subn(
                lambda m: '<img class="kvlabs-diagram" src="%s" width="%s" alt="diagram" '
                          'style="max-width:100%%;height:auto"/>' % (m.group(1), m.group(2)),
                text)
            new, m = ESCAPED_TT.subn(r"<code>\1</code>", new)
            if n or m:
                frames, pages, heads = frames + n, pages + bool(n), heads + m
                with open(p, "w", encoding="utf-8") as f:
                    f.write(new)
        elif name.startswith("navtree") and name.endswith(".js"):
            with open(p, encoding="utf-8") as f:
                text = f.read()
            new, n = TT.subn("", text)
            if n:
                nav += n
                with open(p, "w", encoding="utf-8") as f:
                    f.write(new)
    print("docs-postprocess: %d diagrams on %d pages scaled to the column; %d headings' "
          "escaped <tt> made code; %d <tt> tags dropped from the navigation tree"
          % (frames, pages, heads, nav))
    return 0


if __name__ == "__main__":
    sys.exit(main())
