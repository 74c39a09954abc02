#!/usr/bin/env python3
"""fences_test.py — the solution fences of the repository are right, and the
checker catches every kind of wrong fence.

What this is: first, tools/check_fences.py over the whole repository must
pass (this is how `make test` runs the fence check). Then the checker runs
on small labs written into a temporary folder, one defect each, and must
report it: unbalanced fences (BEGIN without END, END without BEGIN), nested
fences, a BEGIN without its STUB, a STUB without its BEGIN, a misspelt
marker, a fenced file missing from STUDENT_FILES, a STUDENT_FILES entry
that does not exist (errors), and a STUDENT_FILES entry without fences (a
warning only). Last, stubbing: a fenced function becomes its TODO comment
and stub code, at the right indentation, and a multi-line STUB works.
"""
import os
import subprocess
import sys
import tempfile

from checklib import ROOT, TOOLS, check, finish
import check_fences

GOOD = """int f(int x)
{
    /* STUB: (void)x; return -1; */
    /* BEGIN SOLUTION */
    return x + 1;
    /* END SOLUTION */
}
"""

CASES = [
    ("BEGIN without END", "int f(void)\n{\n    /* STUB: return 0; */\n    /* BEGIN SOLUTION */\n"
     "    return 1;\n}\n", "BEGIN SOLUTION without END SOLUTION"),
    ("END without BEGIN", "int f(void)\n{\n    return 1;\n    /* END SOLUTION */\n}\n",
     "END SOLUTION without BEGIN SOLUTION"),
    ("nested fences", "int f(void)\n{\n    /* STUB: return 0; */\n    /* BEGIN SOLUTION */\n"
     "    /* BEGIN SOLUTION */\n    return 1;\n    /* END SOLUTION */\n    /* END SOLUTION */\n}\n",
     "fences do not nest"),
    ("BEGIN without STUB", "int f(void)\n{\n    /* BEGIN SOLUTION */\n    return 1;\n"
     "    /* END SOLUTION */\n}\n", "without a STUB comment"),
    ("STUB without BEGIN", "int f(void)\n{\n    /* STUB: return 0; */\n    return 1;\n}\n",
     "STUB not followed by BEGIN SOLUTION"),
    ("a misspelt marker", "int f(void)\n{\n    /* STUB: return 0; */\n    /* BEGIN SOLUTION */\n"
     "    return 1;\n    // END SOLUTION\n}\n", "malformed fence marker"),
]


def write_lab(root, name, student, files):
    d = os.path.join(root, name)
    os.makedirs(d)
    with open(os.path.join(d, "Makefile"), "w") as f:
        f.write("LAB := %s\ninclude lab.mk\n" % name)
    with open(os.path.join(d, "lab.mk"), "w") as f:
        f.write("STUDENT_FILES := %s\n" % student)
    for rel, text in files.items():
        with open(os.path.join(d, rel), "w") as f:
            f.write(text)


def run_checker(root, lab):
    p = subprocess.run([sys.executable, os.path.join(TOOLS, "check_fences.py"), "--root", root,
                        lab], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def main():
    p = subprocess.run([sys.executable, os.path.join(TOOLS, "check_fences.py")],
                       capture_output=True, text=True, cwd=ROOT)
    check(p.returncode == 0, "the repository's fences are right (check_fences.py)",
          p.stdout + p.stderr)
    with tempfile.TemporaryDirectory(prefix="kvlabs-fences-test-") as tmp:
        for i, (what, text, msg) in enumerate(CASES):
            lab = "lab%d" % i
            write_lab(tmp, lab, "a.c", {"a.c": text})
            rc, out = run_checker(tmp, lab)
            check(rc == 1 and msg in out, "%s: an error" % what, out)
        write_lab(tmp, "unlisted", "a.c", {"a.c": GOOD, "b.c": GOOD})
        rc, out = run_checker(tmp, "unlisted")
        check(rc == 1 and "b.c: has solution fences but is not in STUDENT_FILES" in out,
              "a fenced file missing from STUDENT_FILES is an error", out)
        write_lab(tmp, "ghost", "a.c nothere.c", {"a.c": GOOD})
        rc, out = run_checker(tmp, "ghost")
        check(rc == 1 and "nothere.c, which does not exist" in out,
              "a STUDENT_FILES entry that does not exist is an error", out)
        write_lab(tmp, "plain", "a.c p.c", {"a.c": GOOD, "p.c": "int g(void) { return 0; }\n"})
        rc, out = run_checker(tmp, "plain")
        check(rc == 0 and "warning: plain/p.c: in STUDENT_FILES but has no fences" in out,
              "a STUDENT_FILES entry without fences is only a warning", out)
        write_lab(tmp, "prose", "a.c", {"a.c": "/* The regions (BEGIN/END SOLUTION) are "
                                              "stubbed. */\n" + GOOD})
        rc, out = run_checker(tmp, "prose")
        check(rc == 0, "prose that mentions the markers is not a marker", out)
    got = check_fences.stub_text(GOOD)
    want = GOOD.replace("    /* STUB: (void)x; return -1; */\n    /* BEGIN SOLUTION */\n"
                        "    return x + 1;\n    /* END SOLUTION */\n",
                        "    " + check_fences.TODO + "\n    (void)x; return -1;\n")
    check(got == want, "stubbing replaces the region with TODO and the stub, indented", got)
    multi = ("void h(int *p)\n{\n    /* STUB:\n    (void)p;\n    return;\n    */\n"
             "    /* BEGIN SOLUTION */\n    *p = 1;\n    /* END SOLUTION */\n}\n")
    got = check_fences.stub_text(multi)
    check("    (void)p;\n    return;\n}" in got and "*p = 1" not in got,
          "a STUB comment over several lines gives several lines of stub", got)
    finish()


if __name__ == "__main__":
    main()
