#!/usr/bin/env python3
"""grading_test.py — the autograder, end to end, on real submissions.

What this is: the `make test` sample of the grading matrix (the whole
matrix, every mutant through the grader, is `make grade-check`). For each
sampled lab (checklib.sampled_labs(): sprint 1) it runs
tools/grade.py, as `make grade` does, on

- the reference solution: full marks, every item passed;
- the untouched starter kit: 0, a valid results.json, and every test
  failing by its assertions (not a crashed harness);

and, for the labs with fixtures in tools/tests/fixtures/<lab>/ (sprint 1),
on submissions that attack the grader, each the reference's STUDENT_FILES
with a patch applied (kvlab.patched_submission(), as for the mutants):

- broken.patch: does not compile (a warning, with -Werror): 0, compiler output;
- crash.patch:  four tests crash (they fail as "crashed"), one forks without
                end, one eats memory, one prints 4 MB: each fails (the output
                flood passes, cut), every other test passes, and no process of
                the sandbox is left behind;
- hang.patch:   one test spins forever: it times out, the others pass.

Every results.json is checked against Gradescope's format
(checklib.gradescope_errors()). The fixtures run with a 4-second test
timeout to keep `make test` short.
"""
import os
import subprocess
import sys
import tempfile
import time

from checklib import FIXTURES, ROOT, TOOLS, check, finish, load_results, sampled_labs
import kvlab


# The pid of the last grader run: its sandbox uids derive from it.
LAST_GRADER_PID = [0]


def grade(lab, sub, out, timeout=None):
    """Run tools/grade.py; return (results dict or None, elapsed seconds)."""
    argv = [sys.executable, os.path.join(TOOLS, "grade.py"), "--lab", lab, "--submission", sub,
            "--out", out, "--jobs", "2"]
    if timeout:
        argv += ["--timeout", str(timeout)]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.stdout, p.stderr = p.communicate()
    elapsed = time.monotonic() - t0
    LAST_GRADER_PID[0] = p.pid
    res, errs = load_results(os.path.join(out, "results.json"))
    check(p.returncode == 0 and not errs,
          "%s: graded %s in %.0f s, valid results.json" % (lab, os.path.basename(sub), elapsed),
          p.stdout[-2000:] + p.stderr[-3000:] + "\n".join(errs))
    return (res if not errs else None), elapsed


def items(res):
    return {t["name"]: t for t in res["tests"]}


def first_line(t):
    return t["output"].split("\n")[0]


def live_sandbox_processes(grader_pid):
    """Processes (not zombies) left with the uids of the sandbox of the
    grader whose pid is grader_pid (sandbox.Sandbox: 10000 uids from
    100000 + (pid % 1000) * 10000), when root. Other graders running at
    the same time (a `make grade-check`) have other uids."""
    base = 100000 + (grader_pid % 1000) * 10000
    n = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if not base <= os.stat("/proc/" + pid).st_uid < base + 10000:
                continue
            with open("/proc/%s/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                    n += 1
        except (OSError, IndexError):
            pass
    return n


def reference_and_starter(lab, tmp):
    res, _t = grade(lab, os.path.join(ROOT, lab), os.path.join(tmp, "ref"))
    if res:
        total = sum(t["max_score"] for t in res["tests"])
        bad = [t["name"] + ": " + first_line(t) for t in res["tests"]
               if t["score"] < t["max_score"]]
        check(res["score"] == total and not bad,
              "%s: the reference scores full marks (%g / %g)" % (lab, res["score"], total),
              "\n".join(bad))
    kit = kvlab.make_kit(ROOT, lab, os.path.join(tmp, "kit"), stub=True)
    res, _t = grade(lab, kit, os.path.join(tmp, "starter"))
    if res:
        check(res["score"] == 0, "%s: the untouched starter scores 0 (%g)" % (lab, res["score"]))
        crit = [t for t in res["tests"] if "/" in t["name"]]
        unclean = [t["name"] + ": " + first_line(t) for t in crit
                   if not first_line(t).startswith(("failed", "memory leak"))]
        check(crit and not unclean, "%s: every starter test fails by an assertion (%d tests), "
              "none crashes the harness" % (lab, len(crit)), "\n".join(unclean))


def fixture(lab, name, tmp):
    """The submission of fixture NAME: the reference with NAME.patch applied."""
    return kvlab.patched_submission(ROOT, lab, os.path.join(FIXTURES, lab, name + ".patch"),
                                    os.path.join(tmp, "sub", name))


def fixtures(lab, tmp):
    res, _t = grade(lab, fixture(lab, "broken", tmp), os.path.join(tmp, "broken"))
    if res:
        it = items(res)
        check(res["score"] == 0 and "build" in it and "error" in it["build"]["output"]
              and all(first_line(t).startswith("not run") for t in res["tests"]
                      if "/" in t["name"]),
              "broken: a build failure scores 0, with the compiler's error in results.json")

    res, elapsed = grade(lab, fixture(lab, "crash", tmp), os.path.join(tmp, "crash"), 4)
    if res:
        it = items(res)
        crashed = [n for n, t in it.items() if first_line(t).startswith("crashed")]
        total = sum(t["max_score"] for t in res["tests"])
        check(0 < res["score"] < total and len(crashed) >= 4 and
              it["dynarray/large_count"]["status"] == "failed" and
              it["dynarray/grow_capacity_policy"]["status"] == "passed",
              "crash: %d crashing tests fail as 'crashed', the others pass (%g / %g)"
              % (len(crashed), res["score"], total),
              "\n".join("%s: %s" % (n, first_line(t)) for n, t in it.items()
                        if n.startswith("dynarray/")))
        bomb, eater = it["dynarray/free_and_reuse"], it["dynarray/reserve_and_set_capacity"]
        flood = it["dynarray/struct_elements"]
        check(bomb["status"] == "failed", "crash: the fork bomb fails its test (%s)"
              % first_line(bomb))
        check(eater["status"] == "failed", "crash: the memory eater fails its test (%s)"
              % first_line(eater))
        check(flood["status"] == "passed" and "output cut" in flood["output"],
              "crash: 4 MB of output are cut, the test still passes", flood["output"][:500])
        check(elapsed < 240, "crash: graded within 240 s (%.0f s)" % elapsed)
        if os.geteuid() == 0:
            check(live_sandbox_processes(LAST_GRADER_PID[0]) == 0, "crash: no process of the sandbox is left")

    res, elapsed = grade(lab, fixture(lab, "hang", tmp), os.path.join(tmp, "hang"), 4)
    if res:
        it = items(res)
        hung = it["dynarray/insert_and_remove_keep_order"]
        check(first_line(hung).startswith("timed out") and
              it["dynarray/large_count"]["status"] == "passed",
              "hang: the spinning test times out, the others pass",
              "%s\n%s" % (first_line(hung), first_line(it["dynarray/large_count"])))
        check(elapsed < 180, "hang: graded within 180 s (%.0f s)" % elapsed)


def main():
    labs = sampled_labs()
    check(labs, "labs graded end to end: %s" % " ".join(labs))
    with tempfile.TemporaryDirectory(prefix="kvlabs-grading-test-") as tmp:
        for lab in labs:
            reference_and_starter(lab, os.path.join(tmp, lab))
            if os.path.isdir(os.path.join(FIXTURES, lab)):
                fixtures(lab, os.path.join(tmp, lab))
    finish()


if __name__ == "__main__":
    main()
