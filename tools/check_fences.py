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

This module parses those fences (parse(), used by the starter-kit
generator through stub_text()) and checks them across the repository
(check(), the command line). The starter kit, the grader and the grading of
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
import re
import sys

import kvlab

FENCED_EXTS = (".c", ".h", ".S")
# A reference file's essay calls itself "the reference solution of X"; in a
# kit the stubbed file is the student's: "your implementation of X".
REFERENCE = re.compile(r"\b[Tt]he reference solution of ")
STUB_ONE = re.compile(r"^(\s*)/\* STUB:(.*?)\*/\s*$")
STUB_OPEN = re.compile(r"^(\s*)/\* STUB:(.*)$")
BEGIN = re.compile(r"^\s*/\* BEGIN SOLUTION \*/\s*$")
END = re.compile(r"^\s*/\* END SOLUTION \*/\s*$")
# Something meant as a marker: a comment opening on it, or a line holding
# nothing else. Prose that mentions "(BEGIN/END SOLUTION)" is not one.
MENTION = re.compile(r"(/\*|//)\s*((BEGIN|END)\s+SOLUTION|STUB\s*:)"
                     r"|^[\s*#/]*(BEGIN|END)\s+SOLUTION[\s*/]*$")
TODO = "/* TODO: your code here (see the header for the specification) */"


class Region:
    """One fenced region: 0-based line numbers and the stub's text."""

    def __init__(self, stub_first, stub_last, begin, end, indent, stub):
        self.stub_first, self.stub_last = stub_first, stub_last
        self.begin, self.end = begin, end
        self.indent, self.stub = indent, stub


def parse(lines):
    """Parse the fences of a file's lines; return (regions, errors).

    errors is a list of (line number 1-based, message)."""
    regions, errors = [], []
    stub = None          # (first, last, indent, text) of a STUB awaiting its BEGIN
    open_begin = None    # (line, stub) of an unclosed BEGIN
    i = 0
    while i < len(lines):
        line = lines[i]
        m1, mo = STUB_ONE.match(line), STUB_OPEN.match(line)
        if m1 or mo:
            if open_begin is not None:
                errors.append((i + 1, "STUB inside a solution region (fences do not nest)"))
            if stub is not None:
                errors.append((stub[0] + 1, "STUB not followed by BEGIN SOLUTION"))
            if m1:
                stub = (i, i, m1.group(1), m1.group(2).strip())
            else:
                j = i + 1
                while j < len(lines) and "*/" not in lines[j]:
                    j += 1
                if j == len(lines) or not lines[j].rstrip().endswith("*/"):
                    errors.append((i + 1, "unterminated STUB comment"))
                    return regions, errors
                body = [mo.group(2)] + lines[i + 1:j] + [lines[j].rstrip()[:-2]]
                stub = (i, j, mo.group(1), "\n".join(b.strip() for b in body if b.strip()))
                i = j
        elif BEGIN.match(line):
            if open_begin is not None:
                errors.append((i + 1, "BEGIN SOLUTION inside another region (line %d): "
                               "fences do not nest" % (open_begin[0] + 1)))
            elif stub is None:
                errors.append((i + 1, "BEGIN SOLUTION without a STUB comment just before"))
            open_begin = (i, stub)
            stub = None
        elif END.match(line):
            if open_begin is None:
                errors.append((i + 1, "END SOLUTION without BEGIN SOLUTION"))
            else:
                b, s = open_begin
                if s is not None:
                    regions.append(Region(s[0], s[1], b, i, s[2], s[3]))
                open_begin = None
        elif MENTION.search(line):
            errors.append((i + 1, "malformed fence marker (a marker must be alone on its "
                           "line, exactly as /* BEGIN SOLUTION */, /* END SOLUTION */, "
                           "/* STUB: ... */): %s" % line.strip()))
        elif stub is not None and line.strip():
            errors.append((stub[0] + 1, "STUB not followed by BEGIN SOLUTION"))
            stub = None
        i += 1
    if stub is not None:
        errors.append((stub[0] + 1, "STUB not followed by BEGIN SOLUTION"))
    if open_begin is not None:
        errors.append((open_begin[0] + 1, "BEGIN SOLUTION without END SOLUTION"))
    return regions, errors


def stub_text(text, name="<file>"):
    """The starter version of a file's text; ValueError when its fences are wrong."""
    lines = text.split("\n")
    regions, errors = parse(lines)
    if errors:
        raise ValueError("; ".join("%s:%d: %s" % (name, n, m) for n, m in errors))
    out, i = [], 0
    for r in regions:
        out += lines[i:r.stub_first]
        out.append(r.indent + TODO)
        for s in r.stub.split("\n") if r.stub else []:
            out.append(r.indent + s)
        i = r.end + 1
    out += lines[i:]
    text = "\n".join(out)
    if regions:  # the stubbed file is no longer the reference: its essay says so
        text = REFERENCE.sub("your implementation of ", text, count=1)
    return text


def unfence_text(text, name="<file>"):
    """The text with its fences and STUB comments removed, the solutions kept
    (an earlier lab shipped inside a later lab's starter kit)."""
    lines = text.split("\n")
    regions, errors = parse(lines)
    if errors:
        raise ValueError("; ".join("%s:%d: %s" % (name, n, m) for n, m in errors))
    drop = set()
    for r in regions:
        drop.update(range(r.stub_first, r.stub_last + 1))
        drop.update((r.begin, r.end))
    return "\n".join(l for i, l in enumerate(lines) if i not in drop)


def has_fences(text):
    """Whether text holds a marker (well-formed or not)."""
    return any(BEGIN.match(l) or END.match(l) or STUB_OPEN.match(l) or MENTION.search(l)
               for l in text.split("\n"))


def _c_files(top):
    for d, dirs, files in os.walk(top):
        dirs[:] = sorted(x for x in dirs if x not in ("build", ".git", "mutants"))
        for f in sorted(files):
            if f.endswith(FENCED_EXTS):
                yield os.path.join(d, f)


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
