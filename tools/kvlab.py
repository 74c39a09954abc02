"""kvlab.py — a lab as the course tooling sees it: its manifest, and a tree
that builds anywhere.

What this is
------------
Every tool of the course (the starter-kit generator, the autograder, the
grading of students' tests) starts from the same two things:

- the lab's **manifest**: the variables of its Makefile and lab.mk
  (STUDENT_FILES, the tests, GRADE_POINTS, GRADE_BENCH, ...), read by asking
  make itself (tools/manifest.mk prints them), so `+=`, `$(wildcard ...)`
  and every include count exactly as in the build;
- a **kit**: a self-contained copy of one lab with what it needs to build
  alone — the lab folder, common/ (the shared rules and library), scripts/
  (registry generator, test runner; common/ also holds the results schema
  compiled into it and kvlabs/micro.h, the micro-benchmark interface a lab's
  benchmarks implement), .clang-format, the earlier labs whose libraries it links
  (LAB_USES, as the reference: the kit needs their code to link), and any
  folder the lab lists in KIT_EXTRA. A lab's Makefile finds the rest
  through KVLABS_ROOT, so `make -C KIT/LAB test KVLABS_ROOT=KIT` builds it
  wherever the kit is. A kit never holds build output or mutants/. A starter
  kit (stub=True) has every fenced region of the STUDENT_FILES replaced by
  its stub (fences.stub_text()) and leaves out SOLUTION_ONLY files;
  the labs it uses keep their solutions, without the fence markers.

Parts
-----
A lab made of parts lists them in lab.mk (LAB_PARTS, in teaching order),
each with PART_<p>_FILES (its share of STUDENT_FILES), PART_<p>_USES (the
parts it builds on), PART_<p>_ENGINES and PART_<p>_TESTS (common/mk/rules.mk).
manifest(root, lab, part) reads the manifest as `make PART=<p>` sees it:
only that part's tests and conformance configurations. A kit of one part
(make_kit(part=p)) stubs the STUDENT_FILES of every other part except the
parts p builds on (PART_<p>_USES, transitively), which ship solved and
unfenced, so that every failing test of the kit is the student's. With
own_lower=True those lower parts are stubbed too: students build on their
own earlier parts (and the grader takes those files from the submission).
The reference of a part (stub=False, part=p) solves p and its lower parts
and stubs the rest: what a perfect submission of p builds in the grader.
Per-part grading settings: PART_<p>_GRADE_X, when set (even empty),
replaces GRADE_X (grading_config(mani, part)). A part tested in the kernel
VM has LAB_VM_TESTS among its tests (scripts that boot it; never run by the
host `make test`): grade.py runs them case by case (docs/grading.md,
"Parts tested in the VM"); a kit ships them, never <part>/vm-mutants/.

Interface
---------
    repo_root()                         the repository this file belongs to
    manifest(root, lab, part)           {"STUDENT_FILES": "a.c b.c", ...} (as make PART=part sees it)
    labs(root), student_labs(root)      folders with a lab.mk (and STUDENT_FILES)
    make_kit(root, lab, dest, stub, part, own_lower)   write the kit into dest
    parts(mani), part_files(mani, p), lower_parts(mani, p)   a lab's parts (lab.mk)
    kit_solved(mani, part, stub, own_lower)   the STUDENT_FILES a kit ships solved
    make_cmd(tree, lab, build, variant, jobs, targets, extra)   the make argv
    grading_config(mani, part)          GRADE_* values with their defaults (and the part's)
    points_for(name, patterns)          the points of one test (GRADE_POINTS)
"""
import fnmatch
import os
import shutil
import subprocess

import fences

# What a kit holds besides the lab, relative to the repository root.
SUPPORT = ["common", "scripts", ".clang-format"]
# Never copied into a kit.
SKIP_DIRS = {"build", ".git", "mutants", "vm-mutants", "__pycache__"}

# Defaults of the grading variables (documented in docs/grading.md).
GRADE_DEFAULTS = {
    "GRADE_TIMEOUT": "10",          # seconds per test (wall clock)
    "GRADE_SCRIPT_TIMEOUT": "",     # seconds per script or plain test (default 6x)
    "GRADE_MEM_MB": "1024",         # memory per test process
    "GRADE_MEMCHECK_POINTS": "0",   # the "memcheck" item
    "GRADE_MEMCHECK_TESTS": "",     # globs of the tests it runs (default: every test)
    "GRADE_BENCH": "",              # program (from LAB_PROGS) and arguments
    "GRADE_BENCH_WEIGHT": "0",      # points of the "performance" item
    "GRADE_BENCH_FULL": "1.25",     # full marks up to this ratio (1/0.8)
    "GRADE_BENCH_ZERO": "3.0",      # zero from this ratio on
}

_manifests = {}


def repo_root():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def manifest(root, lab, part=None):
    """The manifest variables of root/lab, as a dict of strings; with part,
    as `make PART=<part>` sees them (only that part's tests)."""
    key = (os.path.abspath(root), lab, part)
    if key in _manifests:
        return _manifests[key]
    mk = os.path.join(repo_root(), "tools", "manifest.mk")
    p = subprocess.run(["make", "-s", "--no-print-directory", "-C", os.path.join(root, lab),
                        "-f", "Makefile", "-f", mk, "kvlabs-manifest",
                        "KVLABS_ROOT=" + os.path.abspath(root)]
                       + (["PART=" + part] if part else []),
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("cannot read the manifest of %s:\n%s" % (lab, p.stderr))
    vals = {}
    for line in p.stdout.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            vals[name] = value.strip()
    _manifests[key] = vals
    return vals


def labs(root):
    """Top-level folders that are labs (a Makefile and a lab.mk)."""
    return [d for d in sorted(os.listdir(root))
            if os.path.isfile(os.path.join(root, d, "lab.mk"))
            and os.path.isfile(os.path.join(root, d, "Makefile"))]


def student_labs(root):
    """Labs with STUDENT_FILES: those with a starter kit and a grader."""
    return [d for d in labs(root) if manifest(root, d).get("STUDENT_FILES")]


def _copy_tree(src, dst, skip=()):
    """Copy a folder without build output, mutants or the paths in skip (relative)."""
    def ignore(d, names):
        rel = os.path.relpath(d, src)
        out = [n for n in names if n in SKIP_DIRS or n.endswith((".o", ".pyc"))]
        out += [n for n in names if os.path.normpath(os.path.join(rel, n)) in skip]
        return out
    shutil.copytree(src, dst, ignore=ignore, symlinks=True)


def used_labs(root, lab, seen=None):
    """The labs root/lab links (LAB_USES), and theirs, in build order."""
    seen = [] if seen is None else seen
    for u in manifest(root, lab).get("LAB_USES", "").split():
        if u not in seen:
            used_labs(root, u, seen)
            seen.append(u)
    return seen


def parts(mani):
    """The parts of a lab, in teaching order ([] for a lab without parts)."""
    return mani.get("LAB_PARTS", "").split()


def check_part(mani, part):
    """Raise ValueError unless part is one of the lab's parts."""
    if part not in parts(mani):
        raise ValueError("%s has no part %r (its parts: %s)" % (
            mani.get("LAB", "?"), part, " ".join(parts(mani)) or "none"))


def part_files(mani, part):
    """The STUDENT_FILES of one part."""
    return mani.get("PART_%s_FILES" % part, "").split()


def lower_parts(mani, part, seen=None):
    """The parts part builds on (PART_<p>_USES), and theirs, lowest first."""
    seen = [] if seen is None else seen
    for u in mani.get("PART_%s_USES" % part, "").split():
        check_part(mani, u)
        if u not in seen:
            lower_parts(mani, u, seen)
            seen.append(u)
    return seen


def graded_files(mani, part=None, own_lower=False):
    """The files a grade takes from the submission: every STUDENT_FILE, or
    the part's (and, with own_lower, those of the parts below it)."""
    if part is None:
        return mani.get("STUDENT_FILES", "").split()
    out = []
    for p in (lower_parts(mani, part) if own_lower else []) + [part]:
        out += part_files(mani, p)
    return out


def kit_solved(mani, part=None, stub=True, own_lower=False):
    """The STUDENT_FILES a kit ships with their solution: all of them in the
    reference (no part); none in the whole lab's starter; for one part, its
    lower parts' (unless own_lower), and in its reference its own too."""
    if part is None:
        return set() if stub else set(mani.get("STUDENT_FILES", "").split())
    check_part(mani, part)
    solved = []
    if not own_lower or not stub:
        for p in lower_parts(mani, part):
            solved += part_files(mani, p)
    if not stub:
        solved += part_files(mani, part)
    return set(solved)


def make_kit(root, lab, dest, stub=False, part=None, own_lower=False):
    """Write the kit of root/lab into dest (created; must not exist); with
    part, the kit of that part (see "Parts" above)."""
    mani = manifest(root, lab)
    solved = kit_solved(mani, part, stub, own_lower)
    os.makedirs(dest)
    for s in SUPPORT + used_labs(root, lab) + mani.get("KIT_EXTRA", "").split():
        src = os.path.join(root, s)
        if os.path.isdir(src):
            _copy_tree(src, os.path.join(dest, s))
        elif os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(dest, s)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, s))
    skip = set()
    if stub:
        skip = {os.path.normpath(p) for p in mani.get("SOLUTION_ONLY", "").split()}
    _copy_tree(os.path.join(root, lab), os.path.join(dest, lab), skip)
    if stub or part:
        for rel in mani.get("STUDENT_FILES", "").split():
            if rel in solved:
                _rewrite(os.path.join(dest, lab, rel), fences.unfence_text)
            else:
                stub_file(os.path.join(dest, lab, rel))
        for u in used_labs(root, lab):
            for rel in manifest(root, u).get("STUDENT_FILES", "").split():
                _rewrite(os.path.join(dest, u, rel), fences.unfence_text)
    return dest


def patched_submission(root, lab, patch, dest):
    """Write into dest (created) a submission of root/lab: the reference's
    STUDENT_FILES with patch applied (`patch -p1` in dest; a mutant of
    <lab>/mutants/ or a grader fixture). Raises CalledProcessError when the
    patch does not apply."""
    os.makedirs(dest)
    for rel in manifest(root, lab)["STUDENT_FILES"].split():
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        shutil.copyfile(os.path.join(root, lab, rel), os.path.join(dest, rel))
    subprocess.run(["patch", "-s", "-p1", "--batch", "-d", dest, "-i", os.path.abspath(patch)],
                   check=True)
    return dest


def _rewrite(path, fn):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    with open(path, "w", encoding="utf-8") as f:
        f.write(fn(text, path))


def stub_file(path):
    """Replace a file's fenced regions with their stubs, in place."""
    _rewrite(path, fences.stub_text)


def make_cmd(tree, lab, build, variant, jobs=2, targets=(), extra=()):
    """The make command that builds targets of the lab inside a kit."""
    return (["make", "--no-print-directory", "-j%d" % jobs, "-C", os.path.join(tree, lab),
             "KVLABS_ROOT=" + tree, "BUILD=" + build, "VARIANT=" + variant]
            + list(extra) + list(targets))


def bin_dir(build, variant, lab):
    return os.path.join(build, variant, "bin", lab)


def grading_config(mani, part=None):
    """The GRADE_* variables of a manifest, defaults filled in; with part,
    its PART_<part>_GRADE_* settings replace the lab's (even when empty)."""
    cfg = dict(GRADE_DEFAULTS)
    for k in GRADE_DEFAULTS:
        if mani.get(k):
            cfg[k] = mani[k]
    points = mani.get("GRADE_POINTS", "")
    if part is not None:
        for k in list(GRADE_DEFAULTS) + ["GRADE_POINTS"]:
            pk = "PART_%s_%s" % (part, k)
            if pk in mani:
                if k == "GRADE_POINTS":
                    points = mani[pk]
                else:
                    cfg[k] = mani[pk] or GRADE_DEFAULTS[k]
    cfg["GRADE_POINTS"] = parse_points(points)
    return cfg


def parse_points(spec):
    """'default:1 dynarray/*:2' -> [("*", 1.0), ("dynarray/*", 2.0)].

    Each entry is PATTERN:POINTS (the points after the last colon); the
    pattern is a shell glob on the test's name; `default` stands for `*`.
    Entries are read in order and the last that matches a test wins."""
    out = []
    for entry in spec.split():
        pat, sep, pts = entry.rpartition(":")
        if not sep or not pat:
            raise ValueError("GRADE_POINTS entry %r is not PATTERN:POINTS" % entry)
        out.append(("*" if pat == "default" else pat, float(pts)))
    return out


def points_for(name, patterns):
    """The points of the test called name (1 when nothing matches)."""
    pts = 1.0
    for pat, p in patterns:
        if fnmatch.fnmatchcase(name, pat):
            pts = p
    return pts
