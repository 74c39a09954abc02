#!/usr/bin/env python3
"""grade_check.py — the whole grading matrix: every mutant through the full
grader, checked against what the lab's own tests say about it.

What this is
------------
`make grade-check` runs this (it takes minutes per lab, so `make test`
only runs a sample: tools/tests/grading_test.sh). For each lab with a
mutants/ folder (or the labs named on the command line):

1. the lab's own tests against every mutant (tools/grade_tests.py --own),
   built as the grader builds them (ASan+UBSan): which tests catch each
   one; every mutant must be caught. (`make test` runs the same on plain
   builds, where a mutant must be caught by an assertion; under ASan more
   tests may catch it — mutant 06 of sprint 1, an aligned_alloc size that
   is not a multiple of the alignment, which glibc forgives and ASan
   reports, is one.)
2. a full grade (tools/grade.py) of the reference: full marks;
3. a full grade of the untouched starter kit: 0, every test failing by an
   assertion (a starter that crashes the tests is a bad starter);
4. a full grade of each mutant, submitted as the reference's STUDENT_FILES
   with the patch applied. The check: the Criterion tests the grader fails
   (each run alone) are exactly the tests that caught the mutant in step 1
   (each binary run whole) — so grading a mutant loses exactly the points
   of the tests that catch it — and the points lost on test items add up
   to those tests' GRADE_POINTS. A difference means that a test passes or
   fails depending on the tests run before it in the same process tree,
   which is worth knowing. Script tests and their sub-cases (which the
   grader also runs, and grade-tests does not) and
   the memcheck and performance items are reported, not checked: a mutant
   may also cost them (memcheck scales with the test points earned).

5. for a lab made of parts (LAB_PARTS), for every part P: a full grade
   of P alone (grade.py --part P) of P's reference (full marks) and of P's
   untouched starter kit, the one `make starter PART=P` writes (0, every
   test failing by an assertion); a table of the scores and times ends
   the run.

Prints one `ok`/`FAIL` line per check and a closing `N passed, N failed`;
exit status 1 when a check failed.

Usage: grade_check.py [--root DIR] [--jobs N] [--mutants GLOBS] [--parts-only]
                      [--part P] [LAB ...]
--parts-only runs step 5 alone; --part P only that part's checks (one LAB).
"""
import argparse
import fnmatch
import os
import shutil
import sys
import tempfile
import time

import kvlab
from grade import Grader
from grade_tests import TestGrader, mutant_patches, read_mutants
from sandbox import install_stop_handlers


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print("ok   " + what, flush=True)
        else:
            self.failed += 1
            print("FAIL " + what + ("\n     " + detail.replace("\n", "\n     ") if detail else ""),
                  flush=True)


def full_grade(root, lab, sub, jobs, part=None):
    work = tempfile.mkdtemp(prefix="kvlabs-grade-check-")
    try:
        res, _summary = Grader(root, lab, work, jobs, part=part).grade(sub)
        return res
    finally:
        shutil.rmtree(work, ignore_errors=True)


def is_criterion(name):
    """A Criterion test's name (suite/test, conformance(C)/suite/test), not a
    script's sub-case (SCRIPT.sh/sub), a plain program's or an extra item's."""
    return "/" in name and not name.split("/", 1)[0].endswith(".sh")


def test_items(res):
    """{name: item} of the Criterion test items of a results dict."""
    return {i["name"]: i for i in res["tests"] if is_criterion(i["name"])}


# How ctests.judge words a test that did not end by an assertion of its own
# (every other failing item's output opens with the assertion's message, or
# "failed", or a leak: those are clean failures).
UNCLEAN = ("crashed", "timed out", "the test harness printed no summary", "test not found",
           "printed no", "could not run")


def starter_unclean(res):
    """The starter's test items that did not fail by an assertion: a crash,
    a hang, a missing test, or a pointed test that passes (a test worth 0
    points checks given code: it may pass)."""
    bad = []
    for i in res["tests"]:
        if not is_criterion(i["name"]):
            continue
        out = i["output"]
        if i["status"] == "passed":
            if i["max_score"] > 0:
                bad.append("%s: passes in the starter" % i["name"])
        elif out.startswith(UNCLEAN):
            bad.append("%s: %s" % (i["name"], out.split("\n")[0]))
    return bad


def check_part(root, lab, part, jobs, c):
    """Step 5 for one part: (part, starter score, reference score, total, seconds)."""
    t0 = time.monotonic()
    res = full_grade(root, lab, os.path.join(root, lab), jobs, part)
    total = sum(i["max_score"] for i in res["tests"])
    ref_score = res["score"]
    c.check(res["score"] == total and total > 0,
            "%s part %s: the reference scores full marks (%g / %g)"
            % (lab, part, res["score"], total),
            "\n".join("%s: %s" % (i["name"], i["output"][:300]) for i in res["tests"]
                      if i["score"] < i["max_score"]))
    tmp = tempfile.mkdtemp(prefix="kvlabs-grade-check-")
    try:
        kit = kvlab.make_kit(root, lab, os.path.join(tmp, "kit"), stub=True, part=part)
        res = full_grade(root, lab, kit, jobs, part)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    c.check(res["score"] == 0, "%s part %s: its untouched starter scores 0 (%g)"
            % (lab, part, res["score"]),
            "\n".join("%s: %g" % (i["name"], i["score"]) for i in res["tests"] if i["score"]))
    unclean = starter_unclean(res)
    c.check(not unclean, "%s part %s: every starter test fails by an assertion, none crashes"
            % (lab, part), "\n".join(unclean[:40]))
    return part, res["score"], ref_score, total, time.monotonic() - t0


def check_parts(root, lab, jobs, c, only_part=None):
    """Step 5: every part of a lab (or one); prints the table."""
    mani = kvlab.manifest(root, lab)
    rows = [check_part(root, lab, p, jobs, c) for p in kvlab.parts(mani)
            if only_part in (None, p)]
    if rows:
        print("\n| %s part | starter | reference | of | time (s) |\n|---|---:|---:|---:|---:|" % lab)
        for part, st, ref, total, secs in rows:
            print("| %s | %g | %g | %g | %.0f |" % (part, st, ref, total, secs))
        print(flush=True)


def check_lab(root, lab, jobs, c, only=None):
    mani = kvlab.manifest(root, lab)
    cfg = kvlab.grading_config(mani)
    mutants = read_mutants(os.path.join(root, lab))
    c.check(len(mutants) >= 8, "%s: %d mutants (at least 8)" % (lab, len(mutants)))
    if only:
        mutants = [m for m in mutants if any(fnmatch.fnmatch(m[0], g) for g in only)]
        c.check(mutants, "%s: --mutants selects %d of them" % (lab, len(mutants)))
    work = tempfile.mkdtemp(prefix="kvlabs-grade-check-")
    try:
        _res, _s, own = TestGrader(root, lab, work, jobs, "asan", None, only=only).grade([], True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for name, _p, _h, _b in mutants:
        c.check(own.get(name, {}).get("caught"), "%s: the lab's own tests catch %s" % (lab, name),
                str(own.get(name)))

    res = full_grade(root, lab, os.path.join(root, lab), jobs)
    total = sum(i["max_score"] for i in res["tests"])
    c.check(res["score"] == total, "%s: the reference scores full marks (%g / %g)"
            % (lab, res["score"], total),
            "\n".join("%s: %s" % (i["name"], i["output"][:300]) for i in res["tests"]
                      if i["score"] < i["max_score"]))

    tmp = tempfile.mkdtemp(prefix="kvlabs-grade-check-")
    try:
        kit = kvlab.make_kit(root, lab, os.path.join(tmp, "kit"), stub=True)
        res = full_grade(root, lab, kit, jobs)
        c.check(res["score"] == 0, "%s: the untouched starter scores 0 (%g)" % (lab, res["score"]))
        # A test worth 0 points checks given code (GRADE_POINTS): it may pass.
        unclean = starter_unclean(res)
        c.check(not unclean, "%s: every starter test fails by an assertion, none crashes"
                % lab, "\n".join(unclean[:40]))
        for name, patch, _hint, bug in mutants:
            sub = kvlab.patched_submission(root, lab, patch, os.path.join(tmp, name))
            res = full_grade(root, lab, sub, jobs)
            items = test_items(res)
            failed = {n for n, i in items.items() if i["status"] != "passed"}
            expect = set(own.get(name, {}).get("by", []))
            lost = sum(i["max_score"] - i["score"] for i in items.values())
            want = sum(kvlab.points_for(n, cfg["GRADE_POINTS"]) for n in failed)
            others = ["%s %g/%g" % (i["name"].split(" ")[0], i["score"], i["max_score"])
                      for i in res["tests"] if i["name"] not in items
                      and i["score"] < i["max_score"]]
            c.check(failed == expect and abs(lost - want) < 1e-9,
                    "%s: grading %s loses %g points, those of the %d tests that catch it "
                    "(%s)%s" % (lab, name, lost, len(failed), bug,
                                "; also lost: " + ", ".join(others) if others else ""),
                    "failed in the grader only: %s\nfailed in grade-tests only: %s"
                    % (sorted(failed - expect), sorted(expect - failed)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=kvlab.repo_root())
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("JOBS", "2") or 2))
    ap.add_argument("--mutants", metavar="GLOB[,GLOB...]",
                    help="only these mutants (names without .patch), e.g. '01-*,2?-*': a "
                         "sample of a large lab; the reference and the starter are always graded")
    ap.add_argument("--parts-only", action="store_true",
                    help="only the per-part grades (reference and starter of every part)")
    ap.add_argument("--part", help="only this part's per-part grades (one LAB)")
    ap.add_argument("labs", nargs="*")
    a = ap.parse_args()
    install_stop_handlers()
    root = os.path.abspath(a.root)
    labs = a.labs or [l for l in kvlab.student_labs(root)
                      if mutant_patches(os.path.join(root, l))]
    if a.part and len(labs) != 1:
        ap.error("--part needs exactly one LAB")
    c = Checks()
    for lab in labs:
        if a.part:
            kvlab.check_part(kvlab.manifest(root, lab), a.part)
        if not (a.parts_only or a.part):
            check_lab(root, lab, a.jobs, c, a.mutants.split(",") if a.mutants else None)
        check_parts(root, lab, a.jobs, c, a.part)
    print("%d passed, %d failed" % (c.passed, c.failed))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
