#!/usr/bin/env python3
"""check_fences.py — the solution fences of the student files, parsed and checked.

What this is
------------
A lab's reference solution and its starter kit are one set of files. In
each file a student edits, every piece of the solution is fenced, and the
stub that replaces it in the starter kit sits in a comment just before:

        /* STUB: (void)a; return -ENOSYS; */
        /* BEGIN SOLUTION */
        ... the reference code ...
        /* END SOLUTION */

fences.py parses those fences (parse(), used by the starter-kit
generator through stub_text()); this module checks them across the
repository (check(), the command line). The starter kit, the grader and the grading of
students' tests all depend on the fences being right, so `make starter` and
`make test` run the check and a failure stops them.

Rules (an error unless marked as a warning)
------------------------------------------
- Each marker is alone on its line: `/* STUB: code */` (one line, or a
  comment `/* STUB:` ... `*/` over several lines, code only, no leading
  `*`), `/* BEGIN SOLUTION */`, `/* END SOLUTION */`. Anything else that
  looks like a marker (`// BEGIN SOLUTION`, `/*BEGIN  SOLUTION*/`, a
  marker after code) is malformed: a fence the generator would miss would
  ship the solution. Prose in a comment may mention the words.
- Every BEGIN has its STUB on the line(s) just before it, every STUB is
  followed by its BEGIN, every BEGIN by one END; fences do not nest.
- A file with fences is listed in its lab's STUDENT_FILES (lab.mk); a
  STUDENT_FILES entry that does not exist is an error, one without any
  fence a warning (the student gets the reference code of that file).
- Only C sources are fenced (*.c, *.h, *.S); prose (Markdown) may mention the
  markers freely. A folder without lab.mk is not a lab yet: its fences are
  checked for syntax only, and that is reported as a warning.

Stubbing: the lines from the STUB comment to END SOLUTION become
`/* TODO: ... */` and the stub code, at the STUB comment's indentation.

Usage: check_fences.py [--root DIR] [LAB ...]     (default: every lab)
Prints one line per problem and a closing "N passed, N failed" count of
the files checked; exit status 1 when an error was found.
"""
import argparse
import os
import sys

import kvlab
# The fence syntax lives one layer down, in fences.py (kvlab.py uses it too);
# its names are re-exported here for the tools and tests that use them.
from fences import (BEGIN, END, FENCED_EXTS, MENTION, STUB_ONE, STUB_OPEN, TODO,  # noqa: F401
                    Region, _c_files, has_fences, parse, stub_text, unfence_text)

def check(root, labs=None):
    """Check the labs (default: every top-level folder); return (errors, warnings, files)."""
    errors, warnings, nfiles = [], [], 0
    tops = labs or sorted(d for d in os.listdir(root)
                          if os.path.isdir(os.path.join(root, d)) and d not in ("build", ".git"))
    for top in tops:
        tdir = os.path.join(root, top)
        is_lab = os.path.isfile(os.path.join(tdir, "lab.mk")) and \
            os.path.isfile(os.path.join(tdir, "Makefile"))
        student = set()
        if is_lab:
            student = set(kvlab.manifest(root, top).get("STUDENT_FILES", "").split())
        fenced = set()
        for path in _c_files(tdir):
            rel = os.path.relpath(path, tdir)
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            if not has_fences(text):
                continue
            nfiles += 1
            fenced.add(rel)
            _regions, errs = parse(text.split("\n"))
            errors += ["%s/%s:%d: %s" % (top, rel, n, m) for n, m in errs]
            if not is_lab:
                warnings.append("%s/%s: fenced, but %s has no lab.mk yet (not a lab: syntax "
                                "checked only)" % (top, rel, top))
            elif rel not in student:
                errors.append("%s/%s: has solution fences but is not in STUDENT_FILES "
                              "(%s/lab.mk)" % (top, rel, top))
        for rel in sorted(student - fenced):
            if not os.path.isfile(os.path.join(tdir, rel)):
                errors.append("%s/lab.mk: STUDENT_FILES names %s, which does not exist"
                              % (top, rel))
            else:
                warnings.append("%s/%s: in STUDENT_FILES but has no fences (the starter "
                                "kit ships it whole)" % (top, rel))
    return errors, warnings, nfiles


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=kvlab.repo_root())
    ap.add_argument("labs", nargs="*")
    a = ap.parse_args()
    errors, warnings, nfiles = check(a.root, a.labs or None)
    for w in warnings:
        print("check_fences: warning: " + w)
    for e in errors:
        print("check_fences: error: " + e)
    bad = len({e.split(":")[0] for e in errors})
    print("%d passed, %d failed" % (max(nfiles - bad, 0), bad))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
