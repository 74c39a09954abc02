#!/usr/bin/env python3
"""starter.py — write the starter kit of a lab: the reference with its
solutions taken out, ready to hand to students.

What this is
------------
`make starter [LAB=...]` runs this. For each lab with STUDENT_FILES (all of
them by default) it writes

    build/starter/kvlabs-<lab>/          the kit, as a student unpacks it
        Makefile, README.md              `make test` etc., forwarded to the lab
        <lab>/                           the lab, every fenced region stubbed
        common/ scripts/ .clang-format
    build/starter/kvlabs-<lab>.tar.gz    the same, as one archive

A kit is shipped whole because a lab is not self-contained: its Makefile
includes common/mk/rules.mk, most labs link common/, and the test runner
lives in scripts/. The lab's Makefile finds them through KVLABS_ROOT ?= ..,
so after `tar xzf kvlabs-<lab>.tar.gz` anywhere, `make -C kvlabs-<lab> test`
(or `make -C kvlabs-<lab>/<lab> test`) builds and runs the lab's tests.

What is left out: the solutions (each `BEGIN SOLUTION ... END SOLUTION`
region becomes a TODO comment and the code of its STUB comment), the
lab's mutants/ (the buggy variants used to grade students' tests), the
SOLUTION_ONLY files of lab.mk, and any build output. Before writing
anything the fences of the lab are checked (check_fences.py); a bad fence
would ship a solution, so it stops the generator.

One part (`make starter LAB=... PART=P`, --part P; kvlab.py "Parts"):
build/starter/kvlabs-<lab>-P/, in which only P's files are stubbed and the
parts P builds on come solved (with OWN_LOWER=1, --own-lower, they are
stubbed too: students bring their own); every other part keeps its stubs.
Its Makefile passes PART=P, so `make test` there runs P's tests only.

How it works: kvlab.make_kit() copies the lab and its support files and
stubs the STUDENT_FILES; this file adds the kit's top-level Makefile and
README and packs the archive with sorted entries, so two runs over the same
sources give the same listing.

Usage: starter.py [--root DIR] [--out DIR] [--part P [--own-lower]] [LAB ...]
"""
import argparse
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile

import check_fences
import kvlab

KIT_MAKEFILE = """\
# kvlabs-{lab} — the starter kit of {lab}, generated from the kvlabs
# reference by tools/starter.py. The lab's own Makefile is {lab}/Makefile;
# these targets run it (KVLABS_ROOT is this folder).
LAB := {lab}
{part_line}.PHONY: all test memcheck coverage gdb build-tests clean{vm}
test all memcheck coverage gdb build-tests clean{vm}:
\t$(MAKE) -C $(LAB) $@{part_arg}
"""

KIT_README = """\
# kvlabs — starter kit of `{lab}`

The handout is [`{handout}`]({handout}). The files you edit are
listed in `{lab}/lab.mk` as {which}:

{files}
{lower}
Each `/* TODO ... */` in them marks code to write; the headers in
`{lab}/include/` are the specification. Until you fill them in, the tests
fail (they are meant to).

```sh
make test        # build (warnings are errors, ASan+UBSan) and run every test
make memcheck    # the tests under Valgrind
make gdb         # the lab's debugging demo under gdb, if it has one
```

`common/`, `scripts/` and `bench/` are the course's shared build rules,
library and test runner: do not edit them; the grader uses its own copy.
Submit the files listed above. How they are graded: [`docs/grading.md`](docs/grading.md).

## Running your own test file

Write Criterion tests in a file of your own, say `{lab}/tests/my_tests.c`
(`#include <criterion/criterion.h>` and the lab's headers), then build and
run it with the lab's tests:

```sh
make -C {lab} LAB_TESTS="tests/my_tests.c" build-tests
./build/asan/bin/{lab}/my_tests            # add --verbose to see each test
```

It must pass on correct code: `make grade-tests` (instructors) runs it
against the reference solution first, and scores it by the planted bugs
(mutants) it catches.
{perf}"""

KIT_PERF = """
## The performance item

`{bench}` is run under callgrind; the score compares its instruction count
with the reference's. {count}
Measure yours the same way:

```sh
make -C {lab} VARIANT=release all
valgrind --tool=callgrind --callgrind-out-file=/dev/null ./build/release/bin/{lab}/{bench}
```

and read the `Collected :` line; your ratio is that count divided by the
reference's.
"""


# The targets of a lab with a kernel part (LAB_VM_TESTS: its kernel/ktest.mk).
KIT_VM_TARGETS = " ktest ktest-build ktest-sparse"

KIT_VM = """
## Your part runs in the kernel VM

Your module is tested in a virtual machine, never on this computer's own
kernel: `make test` here (or `make ktest`) builds the module against the
installed kernel headers (`linux-headers-amd64`), boots QEMU with it (the
kernel image is fetched once through apt, into `build/cache/ktest`, a
minute or two) and prints one `ok` or `FAIL` line per case, then
`ktest: N passed, N failed`. The serial log is `build/ktest/stage-{lab}.log`.
The handout says how to read it, and how to debug with dmesg. The grader runs
the same VM test and scores each case on its own: an oops or a hang ends
the VM, and the cases it did not reach score 0.
"""


def reference_instructions(root, lab, bench):
    """The reference's instruction count on the grading benchmark, from the
    grader's cache (tools/grade.py records it at its first grading), or None."""
    try:
        import grade
        with tempfile.TemporaryDirectory(prefix="kvlabs-starter-ref-") as tmp:
            ref = os.path.join(tmp, "ref")
            kvlab.make_kit(root, lab, ref)
            path = grade.reference_cache(root, lab, ref, grade.base_env().get("CC", "cc"), bench)
        with open(path) as f:
            return json.load(f)["bench"]["instructions"]
    except (OSError, ValueError, KeyError, TypeError, ImportError):
        return None


# --measure (what `make starter` passes): when the grader has not cached the
# reference's count yet, measure it now, the grader's way (grade.py's
# reference(): a release build and one callgrind run, then cached), so the
# kit always states it. The tools' tests build kits without it.
MEASURE = False


def measure_reference(root, lab, part):
    """The reference's instruction count, measured through the grader (and
    cached by it), or None when that fails."""
    try:
        import grade
        work = tempfile.mkdtemp(prefix="kvlabs-starter-measure-")
        try:
            g = grade.Grader(root, lab, work, 2, part=part)
            return (g.reference().get("bench") or {}).get("instructions")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    except (OSError, ValueError, KeyError, TypeError, ImportError, SystemExit) as e:
        print("starter: the reference's instruction count could not be measured: %s" % e)
        return None


def perf_section(root, lab, mani, part=None):
    bench = mani.get("GRADE_BENCH", "")
    if not bench or float(mani.get("GRADE_BENCH_WEIGHT") or 0) == 0:
        return ""
    n = reference_instructions(root, lab, bench)
    if not n and MEASURE:
        n = measure_reference(root, lab, part)
    if n:
        count = "The reference executes **%s instructions** (callgrind, this machine's " \
                "compiler)." % format(n, ",")
    else:
        count = "The reference's count was not recorded when this kit was made (`make " \
                "starter` measures it; this kit was built without it); ask for it."
    return KIT_PERF.format(bench=bench, count=count, lab=lab)


# Doxygen markup in a handout (the study guide's), made plain Markdown for a kit.
ANCHOR = re.compile(r"[ \t]*\{#[A-Za-z0-9_]+\}[ \t]*$", re.M)
REF = re.compile(r"@ref\s+([A-Za-z0-9_]+)(?:\s+\"([^\"]*)\")?")


def plain_markdown(text, links):
    """text without {#anchor} heading suffixes, and with each `@ref name
    "text"` turned into a Markdown link when links[name] is a path the kit
    ships, else into its text."""
    text = ANCHOR.sub("", text)

    def ref(m):
        name, label = m.group(1), m.group(2) or m.group(1)
        return "[%s](%s)" % (label, links[name]) if name in links else label
    return REF.sub(ref, text)


def ship_docs(root, lab, kit):
    """Copy the pages the handout links (docs/grading.md) into the kit and
    make every Markdown file of the kit's lab and docs/ plain Markdown."""
    os.makedirs(os.path.join(kit, "docs"), exist_ok=True)
    shutil.copyfile(os.path.join(root, "docs", "grading.md"),
                    os.path.join(kit, "docs", "grading.md"))
    pages = {"grading": os.path.join(kit, "docs", "grading.md")}
    for top in (os.path.join(kit, lab), os.path.join(kit, "docs")):
        for p in _walk(top):
            if not p.endswith(".md"):
                continue
            links = {n: os.path.relpath(t, os.path.dirname(p)) for n, t in pages.items()}
            with open(p, encoding="utf-8") as f:
                text = f.read()
            new = plain_markdown(text, links)
            if new != text:
                with open(p, "w", encoding="utf-8") as f:
                    f.write(new)



def write_kit(root, lab, out, part=None, own_lower=False):
    """Write out/kvlabs-<lab>[-<part>]/ and its .tar.gz; return the kit's path."""
    errors, _warnings, _n = check_fences.check(root, [lab])
    if errors:
        raise SystemExit("starter: %s: fence errors, no kit written:\n  %s"
                         % (lab, "\n  ".join(errors)))
    mani = kvlab.manifest(root, lab)
    name = "kvlabs-" + lab + ("-" + part if part else "")
    kit = os.path.join(out, name)
    shutil.rmtree(kit, ignore_errors=True)
    kvlab.make_kit(root, lab, kit, stub=True, part=part, own_lower=own_lower)
    files = kvlab.graded_files(mani, part, own_lower)
    handout, which, lower = lab + "/README.md", "`STUDENT_FILES`", ""
    if part:
        if os.path.isfile(os.path.join(root, lab, part, "README.md")):
            handout = "%s/%s/README.md" % (lab, part)
        which = "`PART_%s_FILES` (part `%s`)" % (part, part)
        below = kvlab.lower_parts(mani, part)
        if below and own_lower:
            which += " and those of the parts it builds on (%s), which you bring" % (
                ", ".join(below))
        elif below:
            lower = ("\nThe parts it builds on (%s) come solved: every failing test is "
                     "about your part.\n" % ", ".join(below))
    pm = mani
    if part:  # the part's own grading settings (PART_<p>_GRADE_BENCH...)
        cfg = kvlab.grading_config(kvlab.manifest(root, lab, part), part)
        pm = dict(mani, GRADE_BENCH=cfg["GRADE_BENCH"],
                  GRADE_BENCH_WEIGHT=cfg["GRADE_BENCH_WEIGHT"])
    vm = mani.get("LAB_VM_TESTS", "").split()
    part_vm = part and kvlab.manifest(root, lab, part).get("LAB_VM_TESTS", "").split()
    with open(os.path.join(kit, "Makefile"), "w") as f:
        f.write(KIT_MAKEFILE.format(lab=lab, part_line="PART := %s\n" % part if part else "",
                                    part_arg=" PART=$(PART)" if part else "",
                                    vm=KIT_VM_TARGETS if vm else ""))
    with open(os.path.join(kit, "README.md"), "w") as f:
        f.write(KIT_README.format(lab=lab, handout=handout, which=which, lower=lower,
                                  files="\n".join("- `%s`" % x for x in files),
                                  perf=perf_section(root, lab, pm, part)
                                  + (KIT_VM.format(lab=lab) if part_vm else "")))
    ship_docs(root, lab, kit)
    leaks = [p for p in _walk(kit) if p.endswith(check_fences.FENCED_EXTS)
             and check_fences.has_fences(open(p, encoding="utf-8", errors="replace").read())]
    if leaks:
        raise SystemExit("starter: fences left in the kit: %s" % ", ".join(leaks))
    tgz = kit + ".tar.gz"
    with tarfile.open(tgz, "w:gz") as t:
        for p in sorted(_walk(kit, dirs=True)):
            t.add(p, arcname=os.path.relpath(p, out), recursive=False)
    return kit


def _walk(top, dirs=False):
    for d, ds, fs in os.walk(top):
        ds.sort()
        if dirs:
            yield d
        for f in sorted(fs):
            yield os.path.join(d, f)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=kvlab.repo_root())
    ap.add_argument("--out", default=None, help="default: ROOT/build/starter")
    ap.add_argument("--part", help="the kit of one part (one LAB): only its files stubbed")
    ap.add_argument("--own-lower", action="store_true",
                    help="with --part: the parts below it are stubbed too (students build on "
                         "their own)")
    ap.add_argument("--measure", action="store_true",
                    help="measure the reference's instruction count for the kit's performance "
                         "section when the grader has not cached it (make starter does)")
    ap.add_argument("labs", nargs="*", help="default: every lab with STUDENT_FILES")
    a = ap.parse_args()
    global MEASURE
    MEASURE = a.measure
    out = os.path.abspath(a.out or os.path.join(a.root, "build", "starter"))
    os.makedirs(out, exist_ok=True)
    labs = a.labs or kvlab.student_labs(a.root)
    if a.part and len(labs) != 1:
        print("starter: PART needs exactly one LAB")
        return 1
    if a.own_lower and not a.part:
        print("starter: OWN_LOWER needs PART")
        return 1
    if not labs:
        print("starter: no lab has STUDENT_FILES")
        return 1
    for lab in labs:
        if not kvlab.manifest(a.root, lab).get("STUDENT_FILES"):
            print("starter: %s has no STUDENT_FILES in its lab.mk" % lab)
            return 1
        try:
            kit = write_kit(a.root, lab, out, a.part, a.own_lower)
        except ValueError as e:
            print("starter: %s" % e)
            return 1
        print("starter: %s/ and %s.tar.gz" % (os.path.relpath(kit, os.getcwd()),
                                             os.path.relpath(kit, os.getcwd())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
