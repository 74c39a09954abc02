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
- hang.patch:   one test spins forever: it times out, the others pass
                (graded --only on the Criterion tests: its point is the
                deadline; memcheck of a partly passing submission is crash's,
                which checks that item's scaling);

and the cheats of tools/tests/fixtures/<lab>/cheats/ (their README.md),
submissions that try to score with the reference instead of solving:
included by absolute path or by a relative path out of the tree, the
reference's test binary exec'd at run time, reference files and the
grader's cache printed into the output, the cache appended to, files
written outside the tree. Each scores 0 on the tests it cheats, in `make
grade` (graded with --only on the Criterion tests: no memcheck, no
performance, no script) and in `make grade-tests` (against the first three
mutants of dynarray.c), nothing leaks into the results, the cache and the
folders outside are unchanged. The uid fallback refuses to grade while the
repository's reference is readable by others (here it is), and so does a
machine with no sandbox at all, unless --no-isolation says otherwise.

Every results.json is checked against Gradescope's format
(checklib.gradescope_errors()). The fixtures run with a 4-second test
timeout to keep `make test` short. The time goes to CPU, not to waiting:
Valgrind over every passing test (each Criterion test a process of its
own) is most of a full grading, which is why only the reference and crash
get one. scripts/run-test.sh's CPU figure (bash's `times`) misses all of
it: the CPU of a command run in bubblewrap's pid namespace does not reach
its parents' rusage (a 0.3 s loop under `bwrap --unshare-pid` adds 0.0 s
to `times`); a cpuacct cgroup around the runner counts it.
"""
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from checklib import FIXTURES, ROOT, TOOLS, check, finish, load_results, sampled_labs
import kvlab


# The pid of the last grader run: its sandbox uids derive from it.
LAST_GRADER_PID = [0]
LAST_STDOUT = [""]


def grade(lab, sub, out, timeout=None, only=None):
    """Run tools/grade.py; return (results dict or None, elapsed seconds)."""
    argv = [sys.executable, os.path.join(TOOLS, "grade.py"), "--lab", lab, "--submission", sub,
            "--out", out, "--jobs", "2"]
    if timeout:
        argv += ["--timeout", str(timeout)]
    if only:
        argv += ["--only"] + only
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.stdout, p.stderr = p.communicate()
    elapsed = time.monotonic() - t0
    LAST_GRADER_PID[0] = p.pid
    LAST_STDOUT[0] = p.stdout
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
        check("summary.md" in LAST_STDOUT[0] and "results.json" in LAST_STDOUT[0],
              "%s: grade's terminal line names results.json and summary.md" % lab,
              LAST_STDOUT[0][-500:])
        summary_format(lab, res, os.path.join(tmp, "ref", "summary.md"), "reference")
    kit = kvlab.make_kit(ROOT, lab, os.path.join(tmp, "kit"), stub=True)
    res, _t = grade(lab, kit, os.path.join(tmp, "starter"))
    if res:
        check(res["score"] == 0, "%s: the untouched starter scores 0 (%g)" % (lab, res["score"]))
        crit = [t for t in res["tests"] if "/" in t["name"]]
        unclean = [t["name"] + ": " + first_line(t) for t in crit
                   if not first_line(t).startswith(("failed", "memory leak"))
                   and not re.match(r"\S+:\d+: ", first_line(t))]
        check(crit and not unclean, "%s: every starter test fails by an assertion (%d tests), "
              "none crashes the harness" % (lab, len(crit)), "\n".join(unclean))
        summary_format(lab, res, os.path.join(tmp, "starter", "summary.md"), "starter")


def summary_format(lab, res, path, who):
    """What summary.md must say (issue 14): each failed test with its
    message, the memcheck scaling, each test program once, whole cells."""
    import grade as grade_py
    with open(path) as f:
        md = f.read()
    failed = [t for t in res["tests"] if t["status"] != "passed" and t["max_score"] > 0
              and not t["name"].startswith(("memcheck", "performance"))]
    if failed:
        sec = md.split("## failed tests", 1)[1] if "## failed tests" in md else ""
        missing = [t["name"] for t in failed if "- `%s`: " % t["name"] not in sec]
        check(sec and not missing, "%s %s: summary.md lists each failed test with its "
              "message (%d)" % (lab, who, len(failed)), missing[:10])
        msgs = re.findall(r"^- `[^`]+`: (.*)$", sec, re.M)
        check(msgs and all(m.strip() and m.strip() != "failed" for m in msgs),
              "%s %s: each failed test's line says why (not just 'failed')" % (lab, who),
              [m for m in msgs if m.strip() in ("", "failed")][:5])
    mc = [t for t in res["tests"] if t["name"].startswith("memcheck")]
    if mc:
        check("x the fraction of the test points earned" in mc[0]["output"],
              "%s %s: the memcheck item explains its scaling" % (lab, who),
              first_line(mc[0]))
        progs = re.findall(r"^- `([^`]+)` \(\d+ tests", mc[0]["output"], re.M)
        dup = sorted({p for p in progs if progs.count(p) > 1})
        check(not dup, "%s %s: memcheck lists each test program once" % (lab, who), dup)
    rows = re.findall(r"^\| `([^`]+)` \| [^|]* \| [^|]* \| (.*) \|$", md, re.M)
    by = {t["name"]: t for t in res["tests"]}
    cut = [n for n, c in rows if n in by and
           c != grade_py.cell(first_line(by[n]).replace("|", "\\|"))]
    check(rows and not cut, "%s %s: no table cell is cut mid-sentence" % (lab, who), cut[:5])


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
        # memcheck runs here on a partly passing, hostile submission (the
        # 4 MB flood passes, so Valgrind runs it too): the one such memcheck
        # of this test (hang is graded --only: its point is the deadline)
        mc = [t for n, t in it.items() if n.startswith("memcheck")]
        earned = sum(t["score"] for n, t in it.items() if not n.startswith(("memcheck",
                                                                            "performance")))
        possible = sum(t["max_score"] for n, t in it.items() if not n.startswith((
            "memcheck", "performance")))
        check(mc and mc[0]["status"] == "passed" and
              abs(mc[0]["score"] - round(mc[0]["max_score"] * earned / possible, 2)) < 0.011,
              "crash: memcheck runs the passing tests (flood included), clean, scaled by the "
              "points earned (%g / %g)" % (earned, possible),
              mc[0]["output"][:1500] if mc else "no memcheck item")
        check(elapsed < 240, "crash: graded within 240 s (%.0f s)" % elapsed)
        if os.geteuid() == 0:
            check(live_sandbox_processes(LAST_GRADER_PID[0]) == 0, "crash: no process of the sandbox is left")

    # the Criterion tests only (no memcheck, performance or script): what
    # hang checks is the deadline, and memcheck of a partly passing
    # submission is crash's (above); Valgrind over ~110 passing tests was
    # most of this grading's time
    res, elapsed = grade(lab, fixture(lab, "hang", tmp), os.path.join(tmp, "hang"), 4,
                         only=["*/*"])
    if res:
        it = items(res)
        hung = it["dynarray/insert_and_remove_keep_order"]
        check(first_line(hung).startswith("timed out") and
              it["dynarray/large_count"]["status"] == "passed",
              "hang: the spinning test times out, the others pass",
              "%s\n%s" % (first_line(hung), first_line(it["dynarray/large_count"])))
        check(elapsed < 180, "hang: graded within 180 s (%.0f s)" % elapsed)


CHEAT_MARKS = ("CHEAT-EXEC", "CHEAT-DUMP", "CHEAT-CACHE-READ", "CHEAT-CACHE-WRITTEN",
               "CHEAT-WRITE", "BEGIN SOLUTION")


def cheat_text(lab, name, outside, oracle=""):
    with open(os.path.join(FIXTURES, lab, "cheats", name)) as f:
        text = f.read()
    return text.replace("@ORACLE@", oracle).replace("@REF@", os.path.join(ROOT, lab)) \
        .replace("@ROOT@", ROOT).replace("@OUTSIDE@", outside)


def cheat_submission(lab, dest, files, outside):
    """A submission: the reference's STUDENT_FILES, with files = {student
    file: fixture}; a *.payload.c fixture is appended to the file's starter
    stub, any other replaces the file."""
    os.makedirs(dest)
    for rel in kvlab.manifest(ROOT, lab)["STUDENT_FILES"].split():
        p = os.path.join(dest, rel)
        shutil.copyfile(os.path.join(ROOT, lab, rel), p)
        if rel in files:
            text = cheat_text(lab, files[rel], outside)
            if files[rel].endswith(".payload.c"):
                kvlab.stub_file(p)
                with open(p) as f:
                    text = f.read() + text
            with open(p, "w") as f:
                f.write(text)
    return dest


def cache_state(lab):
    """{file: sha256} of the lab's cached reference results."""
    out = {}
    for p in glob.glob(os.path.join(ROOT, "build", "grade", "cache", lab, "*")):
        with open(p, "rb") as f:
            out[p] = hashlib.sha256(f.read()).hexdigest()
    return out


def traces(lab, outside):
    """What the cheats left outside the graded tree."""
    found = sorted(os.listdir(outside))
    for p in (os.path.join(ROOT, "build", "grade", "pwned"), os.path.join(ROOT, lab, "pwned"),
              os.path.join(ROOT, "build", "grade", "pwned-by-tests"),
              os.path.join(ROOT, lab, "pwned-by-tests")):
        if os.path.lexists(p):
            found.append(p)
    return found


def leaks(path):
    with open(path, errors="replace") as f:
        text = f.read()
    return [m for m in CHEAT_MARKS if m in text]


def grade_tests(lab, tests, out):
    """tools/grade_tests.py on tests, against the first 3 mutants of
    dynarray.c: (results or None, report text)."""
    from grade_tests import read_mutants
    picked = [n for n, p, _h, _b in read_mutants(os.path.join(ROOT, lab))
              if "+++ b/dynarray.c" in open(p).read()][:3]
    argv = [sys.executable, os.path.join(TOOLS, "grade_tests.py"), "--lab", lab, "--out", out,
            "--jobs", "2", "--tests"] + tests + ["--mutants"] + picked
    p = subprocess.run(argv, capture_output=True, text=True)
    res, errs = load_results(os.path.join(out, "results.json"))
    check(p.returncode == 0 and not errs and len(picked) == 3,
          "grade-tests %s ran (mutants %s), valid results.json" % (
              " ".join(os.path.basename(t) for t in tests), " ".join(picked)),
          p.stdout[-2000:] + p.stderr[-3000:] + "\n".join(errs))
    report = ""
    if os.path.exists(os.path.join(out, "report.md")):
        with open(os.path.join(out, "report.md")) as f:
            report = f.read()
    return (res if not errs else None), report


def cheats(lab, tmp):
    """The cheat fixtures: 0 on what they cheat, nothing leaked or written."""
    os.makedirs(tmp)
    os.chmod(tmp, 0o711)
    outside = os.path.join(tmp, "outside")  # writable by anyone: only isolation keeps it empty
    os.makedirs(outside)
    os.chmod(outside, 0o777)
    cache0 = cache_state(lab)
    check(cache0, "cheats: the reference cache of %s exists (%d files)" % (lab, len(cache0)))
    crit = ["*/*"]  # the Criterion tests only: no memcheck, performance or script

    sub = cheat_submission(lab, os.path.join(tmp, "include"), {
        "dynarray.c": "include_abs.c", "pointers.c": "include_rel.c"}, outside)
    res, _t = grade(lab, sub, os.path.join(tmp, "include.out"), only=crit)
    if res:
        it = items(res)
        won = ["%s: %g" % (n, t["score"]) for n, t in it.items()
               if n.startswith(("dynarray/", "pointers/")) and t["score"] > 0]
        check(any(n.startswith("dynarray/") for n in it) and not won and "build" in it,
              "cheat include_abs/include_rel: the reference, #included by absolute or "
              "relative path, is not there: the build fails, 0 points", "\n".join(won))
        check(res.get("extra_data", {}).get("sandbox") in ("bwrap", "uid") and
              "Sandbox: " in res["output"],
              "cheats: results.json says which sandbox ran (%s)" % res.get("extra_data"))

    sub = cheat_submission(lab, os.path.join(tmp, "runtime"), {
        "dynarray.c": "exec_ref.payload.c", "padding.c": "dump.payload.c",
        "vec128.c": "cache.payload.c", "dispatch.c": "write.payload.c"}, outside)
    out = os.path.join(tmp, "runtime.out")
    res, _t = grade(lab, sub, out, only=crit)
    if res:
        it = items(res)
        won = ["%s: %g" % (n, t["score"]) for n, t in it.items()
               if n.startswith(("dynarray/", "padding/", "vec128/", "dispatch/")) and t["score"]]
        control = [t for n, t in it.items() if n.startswith("pointers/")]
        check(not won and any(n.startswith("dynarray/") for n in it),
              "cheat exec_ref: the reference's test binaries cannot be run: 0 points on "
              "dynarray (and on the stubbed padding, vec128, dispatch)", "\n".join(won))
        check(control and all(t["status"] == "passed" for t in control),
              "cheats: the honest pointers.c of the same submission passes (%d tests)"
              % len(control))
        leaked = leaks(os.path.join(out, "results.json"))
        check(not leaked, "cheat dump/cache: no reference file, cache or outside file in "
              "results.json", " ".join(leaked))
    check(cache_state(lab) == cache0, "cheat cache: the cached reference results are unchanged")
    left = traces(lab, outside)
    check(not left, "cheat write: nothing written outside the graded tree", "\n".join(left))

    tdir = os.path.join(tmp, "tests")
    os.makedirs(tdir)
    # one oracle fixture, two cheats: the reference by absolute path, and from
    # the graded tree (where the grader used to put it)
    for name, fixture, oracle in (("oracle_abs_test.c", "oracle_test.c", '"@REF@/dynarray.c"'),
                                  ("oracle_tree_test.c", "oracle_test.c", '"../dynarray.c"'),
                                  ("runtime_test.c", "runtime_test.c", "")):
        with open(os.path.join(tdir, name), "w") as f:
            f.write(cheat_text(lab, fixture, outside, oracle))
        res, report = grade_tests(lab, [os.path.join(tdir, name)],
                                  os.path.join(tmp, name + ".out"))
        if res:
            check(res["score"] == 0, "grade-tests cheat %s: catches no mutant (%g)"
                  % (name, res["score"]), report[:3000])
            leaked = leaks(os.path.join(tmp, name + ".out", "results.json"))
            check(not leaked, "grade-tests cheat %s: nothing leaked into the results" % name,
                  " ".join(leaked))
    check(cache_state(lab) == cache0 and not traces(lab, outside),
          "grade-tests cheats: the cache is unchanged, nothing written outside the tree",
          "\n".join(traces(lab, outside)))


def refusals(lab, tmp):
    """Without a sandbox that can hide the reference, the grader refuses."""
    sub = os.path.join(ROOT, lab)
    argv = [sys.executable, os.path.join(TOOLS, "grade.py"), "--lab", lab, "--submission", sub,
            "--out", os.path.join(tmp, "refused")]
    env = {k: v for k, v in os.environ.items() if k != "GRADE_ALLOW_UNISOLATED"}
    exposed = os.stat(os.path.join(ROOT, lab, "dynarray.c")).st_mode & 0o004
    kinds = ["none"] + (["uid"] if os.geteuid() == 0 and exposed else [])
    for kind in kinds:
        p = subprocess.run(argv, capture_output=True, text=True,
                           env=dict(env, KVLABS_SANDBOX=kind))
        check(p.returncode == 2 and "refused" in p.stderr and
              not os.path.exists(os.path.join(tmp, "refused", "results.json")),
              "KVLABS_SANDBOX=%s: the grader refuses to grade without isolation" % kind,
              p.stderr[-2000:])


def stretch_checks():
    """Deadlines stretch with the machine's load (sandbox.load_stretch):
    a student must not lose a test because the grading machine was busy.
    A student's bug this targets is the grader's: a stretch that is never
    applied, or one that also lifts the CPU-time limit of a busy loop."""
    import sandbox
    saved = os.environ.get("KVLABS_GRADE_STRETCH")
    try:
        for given, want in (("1", 1.0), ("3", 3.0), ("0.2", 1.0)):
            os.environ["KVLABS_GRADE_STRETCH"] = given
            check(sandbox.load_stretch() == want,
                  "KVLABS_GRADE_STRETCH=%s: the stretch is %.1f" % (given, want),
                  str(sandbox.load_stretch()))
        del os.environ["KVLABS_GRADE_STRETCH"]
        got = sandbox.load_stretch()
        check(1.0 <= got <= sandbox.STRETCH_MAX,
              "the load stretch is between 1 and %.0f (here %.2f, load %.2f on %d cores)"
              % (sandbox.STRETCH_MAX, got, os.getloadavg()[0], os.cpu_count() or 1))
        box = sandbox.Sandbox(kind="trusted")
        os.environ["KVLABS_GRADE_STRETCH"] = "4"
        slept = box.run(["sleep", "2"], limits=sandbox.Limits(timeout=1))
        check(slept.ok() and not slept.timed_out,
              "a 2 s sleep under a 1 s deadline stretched 4x finishes", slept.describe())
        spin = box.run(["sh", "-c", "while :; do :; done"], limits=sandbox.Limits(timeout=1))
        check(spin.timed_out or spin.signal is not None,
              "a busy loop is still stopped (stretched deadline or the CPU limit)",
              spin.describe())
        check(spin.elapsed < 4 * 1 + 8,
              "the busy loop ends within the stretched deadline (%.1f s)" % spin.elapsed)
        os.environ["KVLABS_GRADE_STRETCH"] = "1"
        late = box.run(["sleep", "3"], limits=sandbox.Limits(timeout=1))
        check(late.timed_out and "stretched" not in late.describe(),
              "unstretched, the same deadline times the sleep out: %s" % late.describe())
    finally:
        if saved is None:
            os.environ.pop("KVLABS_GRADE_STRETCH", None)
        else:
            os.environ["KVLABS_GRADE_STRETCH"] = saved


def main():
    stretch_checks()
    labs = sampled_labs()
    check(labs, "labs graded end to end: %s" % " ".join(labs))
    import sandbox
    kind = sandbox.detect(allow_unisolated=True)
    if kind == "none":
        # Not root and no bubblewrap (a CI runner that forbids user
        # namespaces): the grader refuses to grade by default; the ordinary
        # gradings run unisolated, the cheats cannot be tested here.
        os.environ["GRADE_ALLOW_UNISOLATED"] = "1"
    print("     (sandbox here: %s)" % kind, flush=True)
    with tempfile.TemporaryDirectory(prefix="kvlabs-grading-test-") as tmp:
        os.chmod(tmp, 0o711)  # the cheats' outside/ folder must be reachable by any uid
        for lab in labs:
            reference_and_starter(lab, os.path.join(tmp, lab))
            if os.path.isdir(os.path.join(FIXTURES, lab)):
                fixtures(lab, os.path.join(tmp, lab))
            if os.path.isdir(os.path.join(FIXTURES, lab, "cheats")):
                if kind == "none":
                    print("     cheats not run: no sandbox on this machine (not root, no "
                          "usable bubblewrap)", flush=True)
                else:
                    cheats(lab, os.path.join(tmp, lab, "cheats"))
                refusals(lab, os.path.join(tmp, lab))
    finish()


if __name__ == "__main__":
    main()
