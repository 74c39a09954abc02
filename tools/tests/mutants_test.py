#!/usr/bin/env python3
"""mutants_test.py — the mutants are real bugs, and grade-tests scores by them.

What this is: for each lab whose tooling is complete
(checklib.tooled_labs()):

- it has at least 8 mutants, each with a `Hint:` and a `Bug:` line, each
  applying cleanly to the reference (`patch --dry-run`);
- the lab's own tests, on plain builds, catch every one of them
  (tools/grade_tests.py --own): the proof that each mutant is a bug the
  course can see. When one escapes, the lab is missing a test. In `make
  test` this runs on a sample of at most KV_MUTANTS_SAMPLE mutants per lab
  (default 8, evenly spaced over the sorted list, so the same ones every
  run); KV_MUTANTS_SAMPLE=0 runs all of them, as `make grade-check` does
  through the full grader. Every lab's mutants cost a build and a test run
  each: the full set (over 100 across the labs) would take most of the
  30-minute budget of `make test` on its own.

and, with the student test files of tools/tests/fixtures/<lab>/student_tests/:

- weak_tests.c (correct, but checks little) catches some mutants and
  misses others: the report names every missed mutant with its hint;
- wrong_tests.c (a test that fails on the reference) scores 0, and the
  report names the failing test.
"""
import json
import os
import subprocess
import sys
import tempfile

from checklib import FIXTURES, ROOT, TOOLS, check, finish, load_results, tooled_labs
from grade_tests import read_mutants


LAST_STDOUT = [""]


def sample(names, k):
    """At most k of names (k <= 0: all), evenly spaced, first and last kept."""
    if k <= 0 or len(names) <= k:
        return list(names)
    if k == 1:
        return [names[0]]
    return [names[round(i * (len(names) - 1) / (k - 1))] for i in range(k)]


def grade_tests(lab, out, tests=None, only=None):
    argv = [sys.executable, os.path.join(TOOLS, "grade_tests.py"), "--lab", lab, "--out", out,
            "--jobs", "2"]
    argv += ["--tests"] + tests if tests else ["--own", "--quick"]
    if only:
        argv += ["--mutants"] + only
    p = subprocess.run(argv, capture_output=True, text=True)
    LAST_STDOUT[0] = p.stdout
    res, errs = load_results(os.path.join(out, "results.json"))
    report = ""
    if os.path.exists(os.path.join(out, "report.md")):
        with open(os.path.join(out, "report.md")) as f:
            report = f.read()
    check(p.returncode == 0 and not errs, "%s: grade-tests %s ran, valid results.json"
          % (lab, " ".join(os.path.basename(t) for t in tests) if tests else "--own"),
          p.stdout[-2000:] + p.stderr[-3000:] + "\n".join(errs))
    return (res if not errs else None), report, out


def main():
    import sandbox
    if sandbox.detect(allow_unisolated=True) == "none":
        # Not root and no bubblewrap: grade-tests refuses by default. This
        # test is about the mutants, not isolation (grading_test.py is).
        os.environ["GRADE_ALLOW_UNISOLATED"] = "1"
    labs = tooled_labs()
    check(labs, "labs with complete tooling: %s" % " ".join(labs))
    with tempfile.TemporaryDirectory(prefix="kvlabs-mutants-test-") as tmp:
        for lab in labs:
            mutants = read_mutants(os.path.join(ROOT, lab))
            check(len(mutants) >= 8, "%s: %d mutants (at least 8)" % (lab, len(mutants)))
            for name, path, hint, bug in mutants:
                p = subprocess.run(["patch", "--dry-run", "-s", "-p1", "--batch", "-d",
                                    os.path.join(ROOT, lab), "-i", path],
                                   capture_output=True, text=True)
                check(p.returncode == 0 and hint != "(no hint)" and bug,
                      "%s: mutant %s applies, has a Hint and a Bug line" % (lab, name),
                      p.stdout + p.stderr)
            k = int(os.environ.get("KV_MUTANTS_SAMPLE", "8"))
            chosen = sample(sorted(m[0] for m in mutants), k)
            if len(chosen) < len(mutants):
                print("%s: the own-tests check runs %d of %d mutants (KV_MUTANTS_SAMPLE=%d; "
                      "0 runs all): %s" % (lab, len(chosen), len(mutants), k, " ".join(chosen)))
            res, report, out = grade_tests(lab, os.path.join(tmp, lab, "own"),
                                           only=chosen if len(chosen) < len(mutants) else None)
            if res:
                with open(os.path.join(out, "mutants.json")) as f:
                    outcome = json.load(f)
                check(set(outcome) >= set(chosen), "%s: grade-tests ran the %d chosen mutants"
                      % (lab, len(chosen)), sorted(outcome))
                for name, _p, _h, _b in (m for m in mutants if m[0] in chosen):
                    o = outcome.get(name, {})
                    check(o.get("caught"), "%s: the lab's own tests catch %s (%s)" % (
                        lab, name, ", ".join(o.get("by", [])[:4]) or "; ".join(
                            o.get("problems", []))), report)
            sdir = os.path.join(FIXTURES, lab, "student_tests")
            if not os.path.isdir(sdir):
                continue
            res, report, _o = grade_tests(lab, os.path.join(tmp, lab, "weak"),
                                          [os.path.join(sdir, "weak_tests.c")])
            if res:
                missed = [t["name"][len("mutant "):] for t in res["tests"] if t["score"] == 0]
                check(0 < res["score"] < len(mutants),
                      "%s: weak_tests.c catches some mutants, not all (%g of %d)"
                      % (lab, res["score"], len(mutants)), report)
                hints = {n: h for n, _p, h, _b in mutants}
                check(missed and all(n in report and hints[n] in report for n in missed),
                      "%s: the report names the %d missed mutants with their hints"
                      % (lab, len(missed)), report)
                bugs = [b for _n, _p, _h, b in mutants]
                check(not any(b in report for b in bugs),
                      "%s: the report does not reveal the Bug: lines" % lab)
            res, report, _o = grade_tests(lab, os.path.join(tmp, lab, "wrong"),
                                          [os.path.join(sdir, "wrong_tests.c")])
            if res:
                check(res["score"] == 0 and "student/first_growth_allocates_four" in report
                      and "student/no_growth_when_it_fits" not in report.split(
                          "these did not")[-1],
                      "%s: a test failing on the reference scores 0 and is named" % lab, report)
                check("wrong_tests.c:13: " in report and "wrong_tests.c:13: " in LAST_STDOUT[0]
                      and "fail on the reference" in LAST_STDOUT[0]
                      and "catch 0 of" not in LAST_STDOUT[0],
                      "%s: the report and the terminal show the failing assertion "
                      "(wrong_tests.c:13) and say the tests fail on the reference" % lab,
                      LAST_STDOUT[0] + report[-1500:])
                check("Output of `" in report, "%s: the report shows the failing test's "
                      "output" % lab, report[-1500:])
            broken = os.path.join(sdir, "broken_tests.c")
            if os.path.exists(broken):
                res, report, _o = grade_tests(lab, os.path.join(tmp, lab, "broken"), [broken])
                if res:
                    out = LAST_STDOUT[0]
                    check(res["score"] == 0 and "does not compile" in out and "error" in out
                          and ("broken_tests.c:10" in out or "broken_tests.c:11" in out)
                          and "catch 0 of" not in out,
                          "%s: a test file that does not compile scores 0 and the terminal "
                          "says so with the compiler's first error" % lab, out + report[-1500:])
                    check(all(t["output"] == "not run: your test file does not compile"
                              for t in res["tests"]),
                          "%s: every mutant item gives that reason" % lab,
                          [t["output"] for t in res["tests"]][:3])
    finish()


if __name__ == "__main__":
    main()
