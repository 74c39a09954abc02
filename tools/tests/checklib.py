"""checklib.py — the few helpers the course-tooling tests share.

What this is: tools/tests/*_test.py are script tests of the tools lab (run
by `make -C tools test` through their .sh wrappers, like every
LAB_SCRIPT_TESTS entry). Each check prints `ok   what` or `FAIL what` (with
details indented below), and finish() prints the closing
`N passed, N failed` line that scripts/run-test.sh counts, and exits 1 when
a check failed. Also here: the repository root, the import path of tools/,
the labs the tooling is complete for (and the sample of them that `make
test` grades end to end), and a validator of Gradescope's results.json
format.
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, "tools")
FIXTURES = os.path.join(TOOLS, "tests", "fixtures")
sys.path.insert(0, TOOLS)

import kvlab  # noqa: E402

_counts = {"passed": 0, "failed": 0}


def check(ok, what, detail=""):
    """Record one check; print its line."""
    if ok:
        _counts["passed"] += 1
        print("ok   " + what, flush=True)
    else:
        _counts["failed"] += 1
        print("FAIL " + what, flush=True)
        if detail:
            print("     " + str(detail).strip().replace("\n", "\n     ")[:4000], flush=True)
    return bool(ok)


def finish():
    print("%d passed, %d failed" % (_counts["passed"], _counts["failed"]), flush=True)
    sys.exit(1 if _counts["failed"] else 0)


def tooled_labs():
    """Labs whose course tooling is complete: STUDENT_FILES and a mutants/ folder."""
    from grade_tests import mutant_patches  # noqa: E402 (tools/ is on the path)
    return [lab for lab in kvlab.student_labs(ROOT)
            if mutant_patches(os.path.join(ROOT, lab))]


def sampled_labs():
    """The tooled labs `make test` grades end to end (full grades, starter
    builds, the handout's parts): those with fixtures in tests/fixtures/.
    `make grade-check` covers every tooled lab; a lab with a large suite
    (sprint 2: hundreds of tests, minutes of Valgrind) stays out of `make test`."""
    return [lab for lab in tooled_labs() if os.path.isdir(os.path.join(FIXTURES, lab))]


VISIBILITY = {"visible", "hidden", "after_due_date", "after_published"}


def gradescope_errors(res):
    """What is wrong with a results.json dict, as Gradescope reads it ([] = valid)."""
    errs = []
    if not isinstance(res, dict):
        return ["not a JSON object"]
    if not isinstance(res.get("score"), (int, float)):
        errs.append("no numeric top-level score")
    if not isinstance(res.get("execution_time"), int):
        errs.append("no integer execution_time")
    if not isinstance(res.get("output"), str):
        errs.append("no output text")
    tests = res.get("tests")
    if not isinstance(tests, list) or not tests:
        return errs + ["no tests list"]
    for t in tests:
        for key, typ in (("name", str), ("output", str), ("score", (int, float)),
                         ("max_score", (int, float))):
            if not isinstance(t.get(key), typ):
                errs.append("test %r: bad or missing %s" % (t.get("name"), key))
        if t.get("visibility") not in VISIBILITY:
            errs.append("test %r: bad visibility" % t.get("name"))
        if t.get("status") not in (None, "passed", "failed"):
            errs.append("test %r: bad status" % t.get("name"))
        if isinstance(t.get("score"), (int, float)) and isinstance(t.get("max_score"),
                                                                   (int, float)):
            if not 0 <= t["score"] <= t["max_score"]:
                errs.append("test %r: score outside 0..max_score" % t.get("name"))
    total = sum(t.get("score", 0) for t in tests if isinstance(t.get("score"), (int, float)))
    if isinstance(res.get("score"), (int, float)) and abs(total - res["score"]) > 0.011:
        errs.append("score %s is not the sum of the tests' scores %s" % (res["score"], total))
    return errs


def load_results(path):
    """(dict or None, errors) of a results.json file."""
    try:
        with open(path) as f:
            res = json.load(f)
    except (OSError, ValueError) as e:
        return None, ["cannot read %s: %s" % (path, e)]
    return res, gradescope_errors(res)
