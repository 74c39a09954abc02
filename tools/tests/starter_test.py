#!/usr/bin/env python3
"""starter_test.py — a starter kit ships no solution, builds alone, and its
tests fail cleanly.

What this is: for each sampled lab (checklib.sampled_labs(); every lab
in `make grade-check`), tools/starter.py writes the kit into a temporary
folder, and the checks are what a student and an instructor rely on:

- the archive exists and holds kvlabs-<lab>/ with the lab, common/,
  scripts/ and a top-level Makefile, and no mutants/;
- no C file of the kit has a fence marker left, and every STUDENT_FILES
  entry differs from the reference (its solutions are gone);
- unpacked somewhere else, `make -C kvlabs-<lab> build-tests` builds with
  the lab's strict flags and prints no warning;
- each Criterion binary then runs every test to a closing Synthesis line
  with none crashing: the tests fail by assertions. For a sampled lab no
  test may pass at all; a larger lab (sprint 2) has tests of parts that are
  not stubbed (option parsing, the SWAR group match of the port header),
  so there at least half of its tests must fail, and every binary must
  reach its Synthesis line. There every test that passes in the kit must
  be worth 0 points (GRADE_POINTS: a given part's test, documented as
  given in the lab's lab.mk), so each pointed test fails and the untouched
  kit scores 0.
- the untouched stubs' failures say "not implemented", and no test run of
  the kit reports a LeakSanitizer leak (a failed assertion frees what the
  test owned: kvtest.h's kvt_own).

`starter_test.py LAB...` checks only those labs (a quick re-check).
"""
import os
import re
import subprocess
import sys
import tarfile
import tempfile

from checklib import ROOT, TOOLS, check, finish, sampled_labs, tooled_labs
import check_fences
import kvlab

TAP_OK = re.compile(r"^ok - (\S+)::(\S+)", re.M)
SYNTH = re.compile(r"Synthesis: Tested: (\d+) \| Passing: (\d+) \| Failing: (\d+) \| "
                   r"Crashing: (\d+)")


def gdb_program(d, lab):
    """The program `make gdb` in d would debug (from a dry run), or None."""
    p = subprocess.run(["make", "-s", "-n", "--no-print-directory", "-C", d, "gdb"],
                       capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items()
                            if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "KVLABS_ROOT",
                                         "BUILD", "VARIANT")})
    for line in p.stdout.splitlines():
        words = line.split()
        if words and words[0] == "gdb":
            prog = words[-1]
            return None if prog.endswith("/") else os.path.basename(prog)
    return None


def check_gdb(lab, d, where):
    """`make gdb` names one of the lab's programs (sprint 2 once named a directory)."""
    progs = [os.path.basename(x) for x in kvlab.manifest(ROOT, lab)["LAB_PROGS"].split()]
    prog = gdb_program(d, lab)
    check(prog is not None and prog in progs,
          "%s: make gdb in the %s debugs one of the lab's programs (%s), not a directory"
          % (lab, where, prog), progs)


def one_lab(lab, tmp, strict):
    out = os.path.join(tmp, "out")
    p = subprocess.run([sys.executable, os.path.join(TOOLS, "starter.py"), "--out", out, lab],
                       capture_output=True, text=True)
    tgz = os.path.join(out, "kvlabs-%s.tar.gz" % lab)
    if not check(p.returncode == 0 and os.path.isfile(tgz), "%s: starter.py wrote %s"
                 % (lab, os.path.basename(tgz)), p.stdout + p.stderr):
        return
    with tarfile.open(tgz) as t:
        names = t.getnames()
        top = "kvlabs-" + lab
        need = [top + "/Makefile", top + "/" + lab + "/Makefile", top + "/common/mk/rules.mk",
                top + "/scripts/run-test.sh"]
        check(all(n in names for n in need) and not any(c in ("mutants", "vm-mutants") for n in names for c in n.split("/")[:-1]),
              "%s: the archive holds the lab, common/, scripts/, a Makefile, no mutants/" % lab,
              [n for n in need if n not in names])
        unpacked = os.path.join(tmp, "elsewhere")
        t.extractall(unpacked)
    kit = os.path.join(unpacked, top)
    markup = []
    for d, _dirs, files in os.walk(os.path.join(kit, lab)):
        for f in files:
            if f.endswith(".md"):
                with open(os.path.join(d, f)) as fh:
                    t = fh.read()
                if re.search(r"\{#[A-Za-z0-9_]+\}|@ref\b", t):
                    markup.append(os.path.relpath(os.path.join(d, f), kit))
    check(not markup, "%s: the kit's handout has no Doxygen markup ({#anchor}, @ref)" % lab,
          markup)
    with open(os.path.join(kit, "README.md")) as fh:
        kit_readme = fh.read()
    check(os.path.isfile(os.path.join(kit, "docs", "grading.md"))
          and "docs/grading.md" in kit_readme,
          "%s: the kit ships the grading page it links" % lab)
    check("## Running your own test file" in kit_readme and "LAB_TESTS=" in kit_readme,
          "%s: the kit says how to run your own test file" % lab)
    if kvlab.manifest(ROOT, lab).get("GRADE_BENCH"):
        check("## The performance item" in kit_readme and "callgrind" in kit_readme
              and ("instructions**" in kit_readme or "was not recorded" in kit_readme),
              "%s: the kit states how the performance item is measured and the reference's "
              "count (or that it is not recorded yet)" % lab)
    check_gdb(lab, os.path.join(ROOT, lab), "reference")
    check_gdb(lab, kit, "kit")
    leaks = []
    for d, _dirs, files in os.walk(kit):
        for f in files:
            if f.endswith(check_fences.FENCED_EXTS):
                with open(os.path.join(d, f), errors="replace") as fh:
                    if check_fences.has_fences(fh.read()):
                        leaks.append(os.path.relpath(os.path.join(d, f), kit))
    check(not leaks, "%s: no fence marker is left in the kit" % lab, leaks)
    same = []
    for rel in kvlab.manifest(ROOT, lab)["STUDENT_FILES"].split():
        with open(os.path.join(ROOT, lab, rel)) as a, open(os.path.join(kit, lab, rel)) as b:
            if a.read() == b.read():
                same.append(rel)
    check(not same, "%s: every student file differs from the reference" % lab, same)
    calls_itself = []
    for rel in kvlab.manifest(ROOT, lab)["STUDENT_FILES"].split():
        with open(os.path.join(kit, lab, rel)) as fh:
            if "reference solution of" in fh.read():
                calls_itself.append(rel)
    check(not calls_itself, "%s: no stubbed file calls itself the reference solution" % lab,
          calls_itself)
    p = subprocess.run(["make", "--no-print-directory", "-j2", "-C", kit, "build-tests", "V=1"],
                       capture_output=True, text=True,
                       env={k: v for k, v in os.environ.items()
                            if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "KVLABS_ROOT",
                                         "BUILD", "VARIANT")})
    warnings = [line for line in (p.stdout + p.stderr).splitlines() if "warning:" in line]
    if not check(p.returncode == 0 and not warnings,
                 "%s: the unpacked kit builds alone, with no warning" % lab,
                 "\n".join(warnings[:20]) + (p.stdout + p.stderr)[-3000:]):
        return
    bindir = os.path.join(kit, "build", "asan", "bin", lab)
    points = kvlab.grading_config(kvlab.manifest(ROOT, lab))["GRADE_POINTS"]
    outputs, pointed_pass = [], []
    for t in kvlab.manifest(ROOT, lab)["LAB_TESTS"].split():
        b = os.path.join(bindir, os.path.splitext(os.path.basename(t))[0])
        tap = os.path.join(tmp, os.path.basename(b) + ".tap")
        try:
            r = subprocess.run([b, "--jobs", "2", "--tap=" + tap], capture_output=True,
                               text=True, timeout=300)
            outp, rc = r.stdout + r.stderr, r.returncode
        except subprocess.TimeoutExpired:
            outp, rc = "timed out", None
        outputs.append(outp)
        if os.path.isfile(tap):
            with open(tap, errors="replace") as fh:
                for suite, name in TAP_OK.findall(fh.read()):
                    if kvlab.points_for("%s/%s" % (suite, name), points) > 0:
                        pointed_pass.append("%s: %s/%s" % (os.path.basename(b), suite, name))
        m = SYNTH.search(outp)
        ok = m and int(m.group(1)) > 0 and int(m.group(4)) == 0
        if strict:
            ok = ok and int(m.group(2)) == 0
            what = "every test fails, none crashes"
        else:
            what = "runs to its Synthesis line, no test crashes"
        check(ok, "%s: %s: %s (%s)" % (
            lab, os.path.basename(b), what,
            m.group(0).strip() if m else "no Synthesis line, exit %s" % rc), outp[-2000:])
    if not strict:
        check(not pointed_pass, "%s: every test worth points fails in the kit (the ones that "
              "pass test given code and are worth 0)" % lab, pointed_pass[:20])
    every = "\n".join(outputs)
    check(re.search(r"not implemented: [A-Za-z_]\w*", every),
          "%s: the untouched stubs' failures say \"not implemented: FN\"" % lab)
    leaks = re.findall(r"ERROR: LeakSanitizer.*\n(?:.*\n){0,12}", every)
    check(not leaks, "%s: the kit's given code leaks nothing (no LeakSanitizer report in the "
          "starter's test runs)" % lab, "\n".join(leaks[:2]))
    check("(out of memory)" not in every or lab != "sprint-2-hash-storage",
          "%s: no untouched stub blames memory" % lab,
          [l for l in every.splitlines() if "(out of memory)" in l][:5])


def measured_count(lab, tmp):
    """make starter's kit states the reference's instruction count, measured
    when the grader has not cached it (starter.py --measure): a student can
    compute the performance ratio locally. The count must be the grader's."""
    out = os.path.join(tmp, "measured")
    p = subprocess.run([sys.executable, os.path.join(TOOLS, "starter.py"), "--measure",
                        "--out", out, lab], capture_output=True, text=True)
    try:
        text = open(os.path.join(out, "kvlabs-" + lab, "README.md")).read()
    except OSError:
        text = ""
    m = re.search(r"The reference executes \*\*([0-9,]+) instructions\*\*", text)
    if not check(p.returncode == 0 and m, "%s: the kit made with --measure states the "
                 "reference's instruction count" % lab, p.stdout + p.stderr):
        return
    sys.path.insert(0, TOOLS)
    import starter
    mani = kvlab.manifest(ROOT, lab)
    cached = starter.reference_instructions(ROOT, lab, mani.get("GRADE_BENCH", ""))
    check(cached == int(m.group(1).replace(",", "")),
          "%s: the count in the kit (%s) is the grader's cached one (%s)"
          % (lab, m.group(1), cached))


def main():
    labs, strict = tooled_labs(), sampled_labs()
    if sys.argv[1:]:  # starter_test.py LAB...: only these labs (a quick re-check while fixing one)
        labs = [lab for lab in labs if lab in sys.argv[1:]]
    check(labs, "labs whose starter kit is built: %s" % " ".join(labs))
    for lab in labs:
        with tempfile.TemporaryDirectory(prefix="kvlabs-starter-test-") as tmp:
            one_lab(lab, tmp, lab in strict)
            if lab in strict and kvlab.manifest(ROOT, lab).get("GRADE_BENCH"):
                measured_count(lab, tmp)
    finish()


if __name__ == "__main__":
    main()
