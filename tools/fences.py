"""fences.py — the solution-fence syntax: parsing a file's fences and stubbing them.

What this is: the lowest layer of the course tooling's Python. A student
file fences each piece of the reference solution, with the stub that
replaces it in the starter kit in a comment just before:

        /* STUB: (void)a; return -ENOSYS; */
        /* BEGIN SOLUTION */
        ... the reference code ...
        /* END SOLUTION */

parse() finds the regions of one file (and the syntax errors),
stub_text() and unfence_text() rewrite a file's text for the starter kit
and the reference kit, has_fences() says whether a file has any. The rules
are described in check_fences.py, the command that checks them across the
repository.

How it sits: this module imports nothing of the tooling; kvlab.py (kits)
and check_fences.py (the check, which reads manifests through kvlab) import
it, so no two tooling modules import each other
(scripts/layering_check.py checks that).
"""
import os
import re

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
