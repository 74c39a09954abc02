"""layering_test.py — the layering check (scripts/layering_check.py) fails
where it must and passes where it must, then passes on this repository.

What this is: a script test of the tools lab. Each case builds a tiny
fixture tree in a temporary folder — two or three "labs", each a folder
with a lab.mk and a library archive compiled from a few one-line C files,
and a folder of Python modules — runs the check on it, and compares the
exit status and the reported rule with what a student's (or a
maintainer's) mistake should produce: a call into a later lab, two files
calling each other, a call up a declared layer or into a sibling of the
same layer or a higher part, a library file left out of the declared
layers, a Makefile that names a later lab's folder, a Python import
cycle. The clean fixtures (including one whose source sits in a part
subfolder, as sprint 2's will) must pass, so neither side of the check can
be always-on. Last, the check runs on the repository's own libraries
(build/<variant>/lib, built by layering_test.sh first).

Needs cc, ar and nm (binutils), like the build.
"""
import os
import shutil
import subprocess
import sys
import tempfile

from checklib import ROOT, check, finish

CHECK = os.path.join(ROOT, "scripts", "layering_check.py")

def build_lab(tmp, lab, files, lab_mk="", makefile=""):
    """A fixture lab: TMP/LAB/{lab.mk,Makefile,*.c}, its archive in TMP/lib."""
    d = os.path.join(tmp, lab)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "lab.mk"), "w") as f:
        f.write(lab_mk)
    with open(os.path.join(d, "Makefile"), "w") as f:
        f.write(makefile)
    objs = []
    for rel, text in files.items():
        src = os.path.join(d, rel)
        os.makedirs(os.path.dirname(src), exist_ok=True)
        with open(src, "w") as f:
            f.write(text)
        obj = src[:-2] + ".o"
        subprocess.run(["cc", "-c", "-O0", src, "-o", obj], check=True)
        objs.append(obj)
    lib = os.path.join(tmp, "lib")
    os.makedirs(lib, exist_ok=True)
    subprocess.run(["ar", "rcs", os.path.join(lib, "lib%s.a" % lab)] + objs, check=True)


def fn(name, calls=()):
    """One C file: defines NAME(), which calls each function of CALLS."""
    decls = "".join("int %s(void);\n" % c for c in calls)
    body = " + ".join("%s()" % c for c in calls) or "0"
    return "%sint %s(void) { return %s; }\n" % (decls, name, body)


def run_case(what, labs, want_fail, want_text="", py=None):
    """Build LABS [(name, files, lab_mk, makefile)], run the check, compare."""
    tmp = tempfile.mkdtemp(prefix="kvlayer-")
    try:
        args = [sys.executable, CHECK, "--root", tmp, "--lib-dir", os.path.join(tmp, "lib")]
        for name, files, lab_mk, makefile in labs:
            build_lab(tmp, name, files, lab_mk, makefile)
            args += ["--lab", "%s=%s" % (name, os.path.join(tmp, name))]
        pyd = os.path.join(tmp, "py")
        os.makedirs(pyd)
        for mod, text in (py or {}).items():
            with open(os.path.join(pyd, mod + ".py"), "w") as f:
                f.write(text)
        args += ["--python", pyd]
        p = subprocess.run(args, capture_output=True, text=True)
        out = p.stdout + p.stderr
        ok = (p.returncode == 1) == want_fail and p.returncode in (0, 1) and want_text in out
        check(ok, what, "exit %d, want %s%s\n%s" % (p.returncode, "1" if want_fail else "0",
                                                    ", text %r" % want_text if want_text else "", out))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


LOW = ("low", {"a.c": fn("low_a")}, "", "")

# ---- what must pass ----
run_case("clean: a later lab calls an earlier one",
         [LOW, ("high", {"b.c": fn("high_b", ["low_a"])}, "", "")], False)
run_case("clean: declared layers called downward, a source in a part folder (basenames)",
         [("one", {"p/x.c": fn("one_x"), "p/y.c": fn("one_y", ["one_x"]),
                   "q/z.c": fn("one_z", ["one_y", "one_x"])},
           "LAYER_PARTS := p q\nLAYERS_p := x.c \\\n   y.c\nLAYERS_q := z.c\n", "")], False,
         py={"low": "import os\n", "high": "import low\n"})

# ---- what must fail ----
run_case("a lab calling a later lab's function fails",
         [("low", {"a.c": fn("low_a", ["high_b"])}, "", ""), ("high", {"b.c": fn("high_b")}, "", "")],
         True, "calls high_b() of the later lab high")
run_case("two files calling each other fail (no declaration needed)",
         [("one", {"x.c": fn("one_x", ["one_y"]), "y.c": fn("one_y", ["one_x"]) + fn("one_y2")},
           "", "")], True, "cycle: x.c <-> y.c")
run_case("a three-file cycle fails",
         [("one", {"x.c": fn("one_x", ["one_y"]), "y.c": fn("one_y", ["one_z"]),
                   "z.c": fn("one_z", ["one_x"])}, "", "")], True, "x.c <-> y.c <-> z.c")
run_case("a call up a declared layer fails",
         [("one", {"x.c": fn("one_x", ["one_y"]), "y.c": fn("one_y")},
           "LAYER_PARTS := p\nLAYERS_p := x.c y.c\n", "")], True, "in a higher layer of part p")
run_case("a call between siblings of one layer fails",
         [("one", {"x.c": fn("one_x", ["one_y"]), "y.c": fn("one_y")},
           "LAYER_PARTS := p\nLAYERS_p := x.c,y.c\n", "")], True, "in the same layer of part p")
run_case("a call into a higher part fails",
         [("one", {"x.c": fn("one_x", ["one_y"]), "y.c": fn("one_y")},
           "LAYER_PARTS := p q\nLAYERS_p := x.c\nLAYERS_q := y.c\n", "")], True,
         "calls one_y() of y.c in the higher part q")
run_case("a library file in no declared layer is warned about (not failed)",
         [("one", {"x.c": fn("one_x"), "new.c": fn("one_new")},
           "LAYER_PARTS := p\nLAYERS_p := x.c\n", "")], False, "warning: one: new.c is in no layer")
run_case("an undeclared file is still checked for cycles",
         [("one", {"x.c": fn("one_x", ["one_n"]), "new.c": fn("one_n", ["one_x"])},
           "LAYER_PARTS := p\nLAYERS_p := x.c\n", "")], True, "cycle: new.c <-> x.c")
run_case("a Makefile naming a later lab's folder fails",
         [("low", {"a.c": fn("low_a")}, "",
           "x: $(ROOT)/high/schema.json\n\tcp $< $@\n"), ("high", {"b.c": fn("high_b")}, "", "")],
         True, "names the later lab high/")
run_case("a Makefile naming a later lab only in a comment passes",
         [("low", {"a.c": fn("low_a")}, "", "# see $(ROOT)/high/README.md\n"),
          ("high", {"b.c": fn("high_b")}, "", "")], False)
run_case("Python modules importing each other fail",
         [LOW], True, "import each other in a cycle: a <-> b",
         py={"a": "import b\n", "b": "from a import x\n"})

# ---- the repository itself ----
variant = os.environ.get("VARIANT", "asan")
args = [sys.executable, CHECK, "--lib-dir", os.path.join(ROOT, "build", variant, "lib")]
p = subprocess.run(args, capture_output=True, text=True)
check(p.returncode == 0, "this repository: calls go only downward (%s libraries)" % variant,
      p.stdout + p.stderr)
finish()
