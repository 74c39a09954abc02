#!/usr/bin/env python3
"""grade_tests.py — grade a student's *tests* by the bugs they catch.

What this is
------------
`make grade-tests LAB=... TESTS="file.c ..."` runs this. A test suite is
good when it fails on wrong code. Each lab ships wrong code on purpose: its
mutants, `<lab>/mutants/NN-short-name.patch`, each a unified diff against
the lab (applied with `patch -p1` in the lab folder) that plants one
plausible bug — an off-by-one at a boundary, a growth that loses elements,
a missing bounds check — with two header lines before the diff:

    Hint: what a test should look at (shown to students for a missed mutant)
    Bug: what the patch breaks (for instructors; not shown)
    Tests: runners that catch it (optional, e.g. `test_strategies
           conformance(hash:strategy=linear)`): with --own --quick only
           these run against the mutant, which is enough to prove it is
           caught and keeps `make test` short for a lab with a large suite

The score is the number of mutants the student's tests catch:

1. The student's Criterion files are built against the reference solution
   and must all pass there: a test that fails on correct code proves
   nothing, so any failure on the reference scores 0 and the report lists
   the failing tests. The reference is there as *objects only*: its
   libraries (lib<lab>.a, the labs it uses, common's) are built by the
   grader in its private folder (root-only, 0700) from a kit of the lab
   (tools/kvlab.py), and copied into the build of a sandbox tree that is
   the lab's *starter kit* plus the student's files as
   tests/student_<n>_<name>.c; that build (make LAB_SRCS=: no library
   source is compiled, the copied .a are up to date) and every run happen
   in the sandbox (tools/sandbox.py, as in tools/grade.py: "Isolation").
   No reference source is readable by the student's code. The lab's own
   tests, scripts and programs are left out.
2. For each mutant: the grader copies its private reference tree and
   build, applies the patch and rebuilds the library (only the patched
   file recompiles); the sandbox copies the student's build, takes the
   mutant's library in place of the reference's, relinks and runs. The
   mutant is caught when some test fails, crashes, or the run dies or
   hangs (each binary runs whole, under the sandbox's limits and a
   wall-clock deadline).
3. OUT/results.json (Gradescope's format: one item per mutant, worth 1),
   OUT/report.md (the missed mutants with their hints) and OUT/mutants.json
   ({mutant: {"caught": bool, "by": [tests that failed]}}).

With --own the tests are the lab's own LAB_TESTS (and its conformance
configurations): that is how `make test` proves that every mutant is a
real bug the lab's tests see (tools/tests/mutants_test.sh), and how
`make grade-check` learns which tests each mutant must fail.

Builds use the debug variant by default (-O0, no sanitizer: a mutant must
be caught by what the tests assert, not only by a sanitizer); --variant
asan grades with ASan+UBSan instead.

With --part P (`make grade-tests ... PART=P`, a lab made of parts) only the
mutants of P count (those whose patch changes only P's files), and --own
runs only P's tests (as `make test PART=P`). A part tested in the kernel VM
(its runners are LAB_VM_TESTS only: sprint 2's kernel) is refused (exit
2): its mutants are <part>/vm-mutants/, which only the VM catches, one
boot each (`make ktest-mutants`), and a student's tests would be VM step
scripts; ValueError says so.

Usage: grade_tests.py --lab LAB (--tests FILE... | --own) [--part P] [--out DIR]
                      [--jobs N] [--variant debug|asan] [--timeout S] [--keep]
                      [--mutants GLOB...] [--no-isolation]
Exit status: 0 when graded (whatever the score), 2 when the grader itself
failed (a mutant that does not apply or does not build is such a failure).
"""
import argparse
import concurrent.futures as cf
import fnmatch
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import ctests
import kvlab
from grade import base_env, make_sandboxes
from sandbox import Limits, Sandbox, Unisolated, clip, install_stop_handlers

# What the grader builds privately and the sandbox gets as objects: the
# lab's library, those of the labs it uses, common's (rules.mk targets).
LIB_TARGETS = ["lib", "used-libs", "common-lib"]


def vm_only(mani):
    """Whether a manifest (of one part) has VM tests and no host test."""
    host = " ".join(mani.get(k, "") for k in ("LAB_TESTS", "LAB_PLAIN_TESTS",
                                              "LAB_SCRIPT_TESTS", "LAB_CONF_CONFIGS"))
    return bool(mani.get("LAB_VM_TESTS", "").split()) and not host.split()


def read_mutants(labdir):
    """[(name, path, hint, bug)] of a lab's mutants, in file-name order."""
    return [m[:4] for m in read_mutants_full(labdir)]


def mutant_patches(labdir):
    """A lab's mutant patches, in file-name order: <lab>/mutants/*.patch and,
    in a lab laid out in parts, <lab>/<part>/mutants/*.patch (every patch
    applies with -p1 in the lab folder; names are unique across the lab)."""
    found = glob.glob(os.path.join(labdir, "mutants", "*.patch")) + \
        glob.glob(os.path.join(labdir, "*", "mutants", "*.patch"))
    return sorted(found, key=os.path.basename)


def patch_files(path):
    """The files (relative to the lab) a unified diff changes."""
    with open(path, encoding="utf-8") as f:
        return sorted({line[6:].split("\t")[0].strip() for line in f
                       if line.startswith("+++ b/")})


def part_mutants(mutants, mani, part):
    """The mutants of one part: those whose patch changes only its files."""
    files = set(kvlab.part_files(mani, part))
    return [m for m in mutants if set(patch_files(m[1])) <= files]


def read_mutants_full(labdir):
    """[(name, path, hint, bug, runners)]: runners from the optional `Tests:` line."""
    out = []
    for p in mutant_patches(labdir):
        with open(p, encoding="utf-8") as f:
            head = f.read().split("\n--- ", 1)[0]
        hint = re.search(r"^Hint:\s*(.*)$", head, re.M)
        bug = re.search(r"^Bug:\s*(.*)$", head, re.M)
        tests = re.search(r"^Tests:\s*(.*)$", head, re.M)
        out.append((os.path.basename(p)[:-len(".patch")], p,
                    hint.group(1).strip() if hint else "(no hint)",
                    bug.group(1).strip() if bug else "",
                    tests.group(1).split() if tests else []))
    return out


class TestGrader:
    def __init__(self, root, lab, work, jobs, variant, timeout, quick=False, only=None,
                 allow_unisolated=False, part=None):
        self.root, self.lab, self.work, self.jobs = root, lab, work, jobs
        self.quick = quick
        self.only = only  # None, or a list of globs: grade only the mutants they name
        self.variant = variant
        self.part = part  # None, or one part of the lab: its mutants, its own tests
        if part is not None:
            kvlab.check_part(kvlab.manifest(root, lab), part)
        self.mani = kvlab.manifest(root, lab, part)
        if part is not None and vm_only(self.mani):
            raise ValueError(
                "part %s of %s is tested in the kernel VM: grading students' tests is not "
                "supported for it (its mutants are %s/vm-mutants/, caught only by the VM "
                "test, one boot each: `make -C %s ktest-mutants` checks the course's own "
                "VM test against them)" % (part, lab, part, lab))
        cfg = kvlab.grading_config(self.mani)
        self.timeout = timeout or 5 * float(cfg["GRADE_TIMEOUT"])
        self.mem = int(cfg["GRADE_MEM_MB"])
        (self.private, self.boxdir, self.box, self.trusted,
         self.iso_notes) = make_sandboxes(root, lab, work, jobs, allow_unisolated)
        self.env = base_env()
        if part is not None:
            self.env["PART"] = part

    def make_vars(self, tests, own):
        # LAB_SRCS= (and LAB_GEN_SRCS=): the sandbox build compiles no
        # library source; it links the reference's (or a mutant's) .a.
        objs_only = ["LAB_SRCS=", "LAB_GEN_SRCS="]
        if own:
            return ["LAB_PLAIN_TESTS=", "LAB_SCRIPT_TESTS=", "LAB_PROGS="] + objs_only
        return ["LAB_TESTS=" + " ".join(tests), "LAB_PLAIN_TESTS=", "LAB_SCRIPT_TESTS=",
                "LAB_PROGS=", "LAB_CONF_CONFIGS="] + objs_only

    def build_libs(self, tree, bdir, targets=LIB_TARGETS):
        """Build the libraries of a private tree (the reference, a mutant) as
        the grader; SystemExit when they do not build (a grader failure)."""
        argv = kvlab.make_cmd(tree, self.lab, bdir, self.variant, self.jobs, targets)
        p = subprocess.run(argv, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, errors="replace")
        if p.returncode != 0:
            raise SystemExit("grade-tests: the libraries of %s do not build:\n%s" % (
                tree, clip(p.stdout, 4000)))

    def install_libs(self, src_build, dst_build, only=None):
        """Copy the .a files of a private build into a sandbox build (fresh
        mtimes: what links them relinks)."""
        src = os.path.join(src_build, self.variant, "lib")
        dst = os.path.join(dst_build, self.variant, "lib")
        os.makedirs(dst, exist_ok=True)
        for n in sorted(os.listdir(src)):
            if n.endswith(".a") and (only is None or n == only):
                shutil.copyfile(os.path.join(src, n), os.path.join(dst, n))

    def build(self, tree, bdir, extra, targets=("build-tests",)):
        argv = kvlab.make_cmd(tree, self.lab, bdir, self.variant, self.jobs, targets, extra)
        lim = Limits(timeout=900, nproc=512, mem_mb=4096, fsize_mb=1024, mode="plain",
                     cap=48 * 1024, tail=16 * 1024)
        res = self.box.run(argv, env=self.env, limits=lim, writable=[bdir])
        Sandbox.share(bdir)
        return res.ok(), res.output

    def runners(self, tests, own):
        """[(label, binary, config)] of the Criterion runs of one build."""
        bins = [os.path.splitext(os.path.basename(t))[0] for t in tests]
        out = [(b, b, None) for b in bins]
        if own:
            out += [("conformance(%s)" % c, "conformance", c)
                    for c in self.mani.get("LAB_CONF_CONFIGS", "").split()]
        return out

    def run_all(self, tree, bdir, runs, outputs=None):
        """{test: status} over every runner, and a list of problems (runs that died).
        With outputs (a dict), each runner's output is kept there by label."""
        bindir = kvlab.bin_dir(bdir, self.variant, self.lab)
        statuses, problems = {}, []
        mode = "asan" if self.variant == "asan" else "plain"
        for label, binary, config in runs:
            env = dict(self.env)
            if config:
                env["KV_CONF_ENGINE"] = config
            lim = Limits(timeout=self.timeout, nproc=64, mem_mb=self.mem, mode=mode)
            st, res = ctests.run_runner(self.box, [os.path.join(bindir, binary)], env, lim)
            if outputs is not None:
                outputs[label] = res.output
            san = len(ctests.SANITIZER.findall(res.output))
            prefix = label + "/" if config else ""
            if st is None:
                problems.append("%s: %s, no report" % (label, res.describe()))
                continue
            for name, s in st.items():
                statuses[prefix + name] = s
            if san:
                problems.append("%s: %d sanitizer report(s)" % (label, san))
            elif res.rc != 0 and all(s == "PASSED" for s in st.values()):
                problems.append("%s: %s with every test passing" % (label, res.describe()))
        return statuses, problems

    def grade(self, tests, own):
        t0 = time.monotonic()
        mutants = [m for m in read_mutants_full(os.path.join(self.root, self.lab))
                   if self.only is None or any(fnmatch.fnmatch(m[0], g) for g in self.only)]
        if self.part is not None:
            mutants = part_mutants(mutants, self.mani, self.part)
        if not mutants:
            raise SystemExit("grade-tests: %s has no mutants/*.patch" % self.lab)
        # The reference, built as libraries in the grader's private folder.
        ref = os.path.join(self.private, "ref")
        kvlab.make_kit(self.root, self.lab, ref)
        rlibs = os.path.join(self.private, "ref-build")
        self.build_libs(ref, rlibs)
        # The sandbox tree: the starter kit and the tests; its build starts
        # with the reference's libraries.
        tree = os.path.join(self.boxdir, "tree")
        kvlab.make_kit(self.root, self.lab, tree, stub=True)
        names = []
        if own:
            names = self.mani["LAB_TESTS"].split()
        else:
            for i, t in enumerate(tests):
                base = re.sub(r"[^A-Za-z0-9_]", "_", os.path.splitext(os.path.basename(t))[0])
                rel = "tests/student_%d_%s.c" % (i + 1, base)
                os.makedirs(os.path.join(tree, self.lab, "tests"), exist_ok=True)
                shutil.copyfile(t, os.path.join(tree, self.lab, rel))
                names.append(rel)
        extra = self.make_vars(names, own)
        rbuild = os.path.join(self.boxdir, "build")
        self.install_libs(rlibs, rbuild)
        Sandbox.share(self.boxdir)
        runs = self.runners(names, own)
        targets = ["build-tests"]
        named = {r for m in mutants for r in m[4]}
        if self.quick and own and all(m[4] for m in mutants):
            # Only the runners the mutants name: built, checked on the
            # reference, run against each mutant.
            runs = [r for r in runs if r[0] in named]
            bindir = kvlab.bin_dir(rbuild, self.variant, self.lab)
            targets = sorted({os.path.join(bindir, r[1]) for r in runs})
        ok, out = self.build(tree, rbuild, extra, targets)
        if not ok:
            errs = compiler_errors(out)
            # the student's own file names, not the sandbox's paths and copies
            for rel, t in zip(names, tests if not own else names):
                errs = [e.replace(os.path.join(tree, self.lab, rel), os.path.basename(t))
                        for e in errs]
            errs = [e.replace(os.path.join(tree, self.lab) + "/", "") for e in errs]
            self.terminal = "\n".join(
                ["score 0: your test file does not compile against the reference (warnings "
                 "are errors). The compiler's first errors:"] + ["  " + e for e in errs])
            return self.report(mutants, None, "Your tests do not build against the reference "
                               "(warnings are errors):\n\n```\n%s\n```" % clip(out, 32768), t0,
                               title="score 0: your test file does not compile",
                               reason="not run: your test file does not compile")
        outputs = {}
        statuses, problems = self.run_all(tree, rbuild, runs, outputs)
        failing = sorted(n for n, s in statuses.items() if s != "PASSED")
        if failing or problems or not statuses:
            msgs = {}
            for o in outputs.values():
                msgs.update(ctests.assertion_messages(o))
            why = ["- `%s`: %s%s" % (n, statuses[n], ": " + msgs[n] if n in msgs else "")
                   for n in failing] + ["- " + p for p in problems] + \
                ([] if statuses else ["- no test ran"])
            shown = "\n\n".join("Output of `%s`:\n\n```\n%s\n```" % (lab, clip(o, 8000))
                                for lab, o in outputs.items()
                                if "[FAIL]" in o or any(p.startswith(lab + ":")
                                                        for p in problems))
            self.terminal = "\n".join(
                ["score 0: your tests must all pass on the reference solution; these did "
                 "not:"] + ["  " + w[2:] for w in why[:20]] +
                ["(each test's output is in report.md)"])
            return self.report(mutants, None, "Your tests must all pass on the reference "
                               "solution; these did not:\n\n" + "\n".join(why) +
                               ("\n\n" + shown if shown else ""), t0,
                               title="score 0: your tests fail on the reference solution",
                               reason="not run: your tests fail on the reference solution")

        def one(m):
            name, patch, _hint, _bug, named = m
            mruns = runs
            if self.quick and own and named:
                mruns = [r for r in runs if r[0] in named]
                if len(mruns) != len(named):
                    return name, {"error": "its Tests: line names runners this lab does not "
                                           "have: %s" % " ".join(
                                               set(named) - {r[0] for r in runs})}
            # The mutant's library, built privately from the patched reference.
            pdir = os.path.join(self.private, "m-" + name)
            mtree, mlibs = os.path.join(pdir, "tree"), os.path.join(pdir, "build")
            os.makedirs(pdir)
            subprocess.run(["cp", "-a", ref, mtree], check=True)
            subprocess.run(["cp", "-a", rlibs, mlibs], check=True)
            p = subprocess.run(["patch", "-s", "-p1", "--batch", "--forward",
                                "--no-backup-if-mismatch", "-r", "-", "-d",
                                os.path.join(mtree, self.lab), "-i", patch],
                               capture_output=True, text=True)
            if p.returncode != 0:
                return name, {"error": "the patch does not apply: " + p.stdout + p.stderr}
            try:
                self.build_libs(mtree, mlibs, ["lib"])
            except SystemExit as e:
                return name, {"error": "the mutant does not build:\n" + str(e)}
            # The student's build, relinked in the sandbox with it.
            wdir = tempfile.mkdtemp(prefix="m-%s." % name, dir=self.boxdir)
            bdir = os.path.join(wdir, "build")
            subprocess.run(["cp", "-a", rbuild, bdir], check=True)
            self.install_libs(mlibs, bdir, only="lib%s.a" % self.lab)
            Sandbox.share(wdir)
            ok_, bout = self.build(tree, bdir, extra,
                                   [t.replace(rbuild, bdir) for t in targets])
            if not ok_:
                return name, {"error": "the mutant does not link:\n" + clip(bout, 4000)}
            st, probs = self.run_all(tree, bdir, mruns)
            by = sorted(n for n, s in st.items() if s != "PASSED")
            missing = [] if mruns is not runs else sorted(set(statuses) - set(st))
            caught = bool(by or probs or missing)
            shutil.rmtree(wdir, ignore_errors=True)
            shutil.rmtree(pdir, ignore_errors=True)
            return name, {"caught": caught, "by": by, "problems": probs + [
                "%s did not run" % n for n in missing]}

        with cf.ThreadPoolExecutor(self.jobs) as ex:
            outcome = dict(ex.map(one, mutants))
        errors = ["%s: %s" % (n, o["error"]) for n, o in outcome.items() if "error" in o]
        if errors:
            raise SystemExit("grade-tests: broken mutants in %s:\n%s" % (self.lab,
                                                                          "\n".join(errors)))
        return self.report(mutants, outcome, None, t0, ntests=len(statuses))

    def report(self, mutants, outcome, failure, t0, ntests=0, title=None, reason="not run"):
        items, lines = [], []
        caught = 0
        for name, _p, hint, _bug, _runs in mutants:
            o = (outcome or {}).get(name)
            if o and o["caught"]:
                caught += 1
                by = ", ".join("`%s`" % b for b in o["by"][:8]) + \
                    (" and %d more" % (len(o["by"]) - 8) if len(o["by"]) > 8 else "")
                text = "caught by " + (by or "; ".join(o["problems"]))
            elif o:
                text = "missed. Hint: " + hint
            else:
                text = reason
            items.append({"name": "mutant " + name, "score": 1.0 if o and o["caught"] else 0.0,
                          "max_score": 1.0, "status": "passed" if o and o["caught"] else "failed",
                          "output": text, "visibility": "visible"})
        elapsed = time.monotonic() - t0
        name = self.lab + (" (part %s)" % self.part if self.part else "")
        lines = ["# %s: %s" % (name, title or "your tests catch %d of %d mutants" % (
            caught, len(mutants))), ""]
        lines += ["- %s" % n for n in self.iso_notes]
        lines += ["Sandbox: %s." % self.box.describe(), ""]
        if failure:
            lines += [failure, ""]
        else:
            lines += ["%d tests, all passing on the reference; graded in %.0f s." % (
                ntests, elapsed), ""]
            missed = [i for i in items if i["score"] == 0]
            if missed:
                lines += ["## Missed mutants", ""] + [
                    "- `%s`: %s" % (i["name"][7:], i["output"][len("missed. "):])
                    for i in missed] + [""]
            lines += ["## Every mutant", "", "| mutant | result |", "|---|---|"] + [
                "| `%s` | %s |" % (i["name"][7:], i["output"].replace("|", "\\|"))
                for i in items]
        summary = "\n".join(lines) + "\n"
        res = {"score": float(caught), "execution_time": int(round(elapsed)),
               "output": summary, "output_format": "md", "visibility": "visible",
               "tests": items, "extra_data": {"sandbox": self.box.kind}}
        return res, summary, outcome or {}


def compiler_errors(out, n=8):
    """The first n lines of a build's output that report an error (what a
    student reads first); the last lines of the output when none does."""
    lines = out.split("\n")
    errs = []
    for i, line in enumerate(lines):
        if re.search(r"(error|undefined reference)", line) and not line.startswith("make"):
            errs.append(line.strip())
            if len(errs) >= n:
                break
    return errs or [l for l in lines if l.strip()][-n:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lab", required=True)
    ap.add_argument("--tests", nargs="*", default=[])
    ap.add_argument("--own", action="store_true", help="use the lab's own tests")
    ap.add_argument("--out", help="default: ROOT/build/grade-tests/<lab>")
    ap.add_argument("--root", default=kvlab.repo_root())
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("JOBS", "2") or 2))
    ap.add_argument("--part", help="one part of the lab: its mutants (and with --own its tests)")
    ap.add_argument("--variant", default="debug", choices=["debug", "asan", "release"])
    ap.add_argument("--timeout", type=float, help="seconds per test binary")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--quick", action="store_true",
                    help="with --own: run against each mutant only the runners its Tests: "
                         "line names (enough to prove it is caught)")
    ap.add_argument("--mutants", nargs="+", metavar="GLOB",
                    help="grade only the mutants whose names match")
    ap.add_argument("--no-isolation", action="store_true",
                    help="grade even when no sandbox can isolate the tests (see grade.py); "
                         "also GRADE_ALLOW_UNISOLATED=1")
    a = ap.parse_args()
    install_stop_handlers()
    root = os.path.abspath(a.root)
    if a.lab not in kvlab.labs(root):
        print("grade-tests: %s is not a lab" % a.lab, file=sys.stderr)
        return 2
    if not a.own and not a.tests:
        print("grade-tests: give TESTS (Criterion test files) or --own", file=sys.stderr)
        return 2
    for t in a.tests:
        if not os.path.isfile(t):
            print("grade-tests: no such file: " + t, file=sys.stderr)
            return 2
    out = os.path.abspath(a.out or os.path.join(root, "build", "grade-tests", a.lab + (
        "-" + a.part if a.part else "")))
    work = tempfile.mkdtemp(prefix="kvlabs-grade-tests-")
    try:
        try:
            g = TestGrader(root, a.lab, work, a.jobs, a.variant, a.timeout, a.quick,
                           a.mutants, a.no_isolation, a.part)
        except Unisolated as e:
            print("grade-tests: refused: %s" % e, file=sys.stderr)
            return 2
        except ValueError as e:
            print("grade-tests: %s" % e, file=sys.stderr)
            return 2
        res, summary, outcome = g.grade([os.path.abspath(t) for t in a.tests], a.own)
    finally:
        if a.keep:
            print("grade-tests: work directory kept: " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write(summary)
    with open(os.path.join(out, "mutants.json"), "w") as f:
        json.dump(outcome, f, indent=1, sort_keys=True)
    print(summary.split("\n")[0].lstrip("# ") + " -> %s/report.md" % out)
    if getattr(g, "terminal", None):
        print(g.terminal)
    return 0


if __name__ == "__main__":
    sys.exit(main())
