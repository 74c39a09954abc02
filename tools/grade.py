#!/usr/bin/env python3
"""grade.py — the autograder: one submission of one lab in, Gradescope's
results.json and a Markdown summary out.

What this is
------------
`make grade LAB=... SUBMISSION=DIR [OUT=DIR]` runs this; so does the
Gradescope image (tools/grader/). It grades what the lab's manifest
(lab.mk, docs/grading.md) defines:

  tests        every test of the lab, each run alone with a timeout, scored
               by GRADE_POINTS (tools/ctests.py names them);
  memcheck     the tests that passed, again under Valgrind (GRADE_MEMCHECK_POINTS);
  performance  the GRADE_BENCH program under callgrind (tools/perf.py).

Pipeline
--------
1. The reference: a kit of the lab (tools/kvlab.py), in the grader's
   private folder (root-only, 0700: see "Isolation" below), built once to
   list its tests (`--list`: the grader trusts the reference for what to run, not
   the submission; the tests the reference skips at run time, such as a
   durability case on an in-memory configuration, are left out) and to
   count the benchmark's instructions. Both are cached in
   build/grade/cache/<lab>/ (0700), keyed by a hash of the kit's files,
   the compiler and the benchmark command. The reference runs as the
   grader, never in the submission's sandbox.
2. The tree: the lab's *starter kit* (stubs in every STUDENT_FILE, no
   SOLUTION_ONLY file: the tree never holds the reference of a graded
   file); each of the lab's STUDENT_FILES is replaced by the submission's
   (found at SUBMISSION/<file>, SUBMISSION/<lab>/<file>, or anywhere below
   SUBMISSION by its path's end). Nothing else of the submission is used.
   A missing file keeps the starter kit's stub, and the summary says so.
   Symlinks are refused.
   One part (--part P, `make grade ... PART=P`; labs made of parts,
   kvlab.py "Parts"): only P's tests, conformance configurations and
   PART_P_GRADE_* settings; the tree is P's starter kit, in which the
   parts P builds on ship solved (Grader.solved_parts(), as in the kit
   students get) and every other part keeps its stubs; only P's files are
   taken from the submission. With --own-lower (OWN_LOWER=1) the lower
   parts stay stubbed and their files are taken from the submission too.
   The reference is then P's reference kit (P and its lower parts solved,
   the rest stubbed), cached apart from the whole lab's.
3. Build in the asan variant (ASan+UBSan, -Werror as in every build). A
   failed build scores 0: every test is listed as not run and the
   compiler's output is in results.json.
4. Every case runs alone in the sandbox (tools/sandbox.py): wall-clock
   timeout (GRADE_TIMEOUT seconds; GRADE_SCRIPT_TIMEOUT for a script or
   plain program), 64 processes, GRADE_MEM_MB of memory through ASan's
   allocator limits, output cut to 64 KiB. A crash, a hang, a fork bomb, a
   memory eater or a flood of output fails that case and nothing else.
   Script tests run last, one at a time, each in a private writable copy
   of the build (they may build more programs).
5. memcheck (tools/grade_memcheck.py): the debug variant; each binary runs its passing tests (those
   GRADE_MEMCHECK_TESTS selects; one `--filter @(a|b|...)` run, split in
   two when a worker would idle) under Valgrind with one log per process, as
   `make memcheck` does. Any error, definite leak, or test that fails under
   Valgrind makes the item 0; clean, it earns its points times the fraction
   of test points earned (an empty submission earns nothing).
6. performance: the release variant, see tools/perf.py.
   Parts tested in the kernel VM (LAB_VM_TESTS, docs/grading.md): the
   grader fetches the VM's kernel image itself (scripts/ktest/
   fetch-kernel.sh, as the grader: the sandbox has no network) into
   build/cache/ktest and copies it into box/ktest-cache (KTEST_CACHE, with
   KTEST_KVER: dpkg's database is not visible in the sandbox). The
   reference's VM test runs once, as the grader, and its CASE lines are
   the cases (cached with the rest); every case must pass there, else the
   grader stops (exit 2). The submission's VM script runs in the sandbox
   like any script test: it builds the module against the installed
   headers (Kbuild) and boots QEMU (TCG, no network) there; each case
   is judged by its own CASE line, and the cases an oops or a hang kept
   from running score 0 "not reached" (tools/ctests.py). Only a part's
   grade (--part) runs its VM tests; the whole lab's grade leaves them out
   and says so (its mutants and grade-check grade it many times).
7. OUT/results.json (Gradescope: score, execution_time, output, tests[]
   with name, score, max_score, status, output, visibility; a leaderboard
   entry with the instruction count; extra_data.sandbox) and OUT/summary.md.

Isolation
---------
The work folder (0711) holds private/ (0700, root's: the reference kit,
its builds, the grader's own runs) and box/ (the graded tree, its builds,
the commands' work dirs). Every command of the submission runs in the
sandbox (tools/sandbox.py: bubblewrap, which mounts only box/; else a
fresh uid, which cannot enter private/ or the 0700 cache), as the
sandbox's user, with its own cwd and HOME. With the uid fallback, files
readable by others stay visible: when the lab's reference in the
repository is, grading is refused (the Docker image keeps its copy
root-only) unless --no-isolation / GRADE_ALLOW_UNISOLATED=1 allows it, and
the summary then says that the grade cannot be trusted.

The grader's own failures (a broken manifest, no reference, no sandbox)
exit 2; a bad submission is a score, and the exit status is 0.

Usage: grade.py --lab LAB --submission DIR [--part P [--own-lower]] [--out DIR]
                [--jobs N] [--keep] [--only GLOB...] [--no-isolation]
--only grades only the tests whose names match (no memcheck, no
performance): the grader's own tests use it to stay short.
"""
import argparse
import concurrent.futures as cf
import fnmatch
import hashlib
import json
import re
import os
import shutil
import subprocess
import sys
import tempfile
import time

import ctests
import kvlab
import perf
from grade_memcheck import Memcheck
from sandbox import Limits, Sandbox, Unisolated, allow_unisolated_env, clip, \
    install_stop_handlers

TEST_OUTPUT_CAP = 32 * 1024
CACHE_FORMAT = b"reference-cache-v3"
ITEM_OUTPUT = 8 * 1024


def base_env():
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    if os.environ.get("CC"):
        e["CC"] = os.environ["CC"]
    return e


def private_dir(path):
    """Create path (and its missing parents) readable by its owner only."""
    os.makedirs(path, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def others_can_read(path):
    """Whether a user other than the owner (and not in its group) can read
    path: every folder above it searchable by others, the file readable."""
    path = os.path.abspath(path)
    try:
        if not os.stat(path).st_mode & 0o004:
            return False
        d = os.path.dirname(path)
        while True:
            if not os.stat(d).st_mode & 0o001:
                return False
            if d == "/":
                return True
            d = os.path.dirname(d)
    except OSError:
        return False


def reference_exposure(root, lab):
    """The reference files of root/lab's STUDENT_FILES that others can read."""
    return [os.path.join(root, lab, rel) for rel in
            kvlab.manifest(root, lab).get("STUDENT_FILES", "").split()
            if others_can_read(os.path.join(root, lab, rel))]


def layout(work):
    """(private, box) folders of a work folder: see "Isolation" above."""
    os.chmod(work, 0o711)
    box = os.path.join(work, "box")
    os.makedirs(box, exist_ok=True)
    os.chmod(box, 0o755)
    return private_dir(os.path.join(work, "private")), box


def make_sandboxes(root, lab, work, jobs, allow_unisolated):
    """(private, boxdir, box, trusted, notes): the untrusted and the trusted
    sandbox of a grading run, or Unisolated when isolation is impossible."""
    allow = allow_unisolated or allow_unisolated_env()
    private, boxdir = layout(work)
    box = Sandbox(tmp=os.path.join(boxdir, "run"), jobs=jobs, visible=[boxdir],
                  allow_unisolated=allow)
    trusted = Sandbox(tmp=os.path.join(private, "run"), jobs=jobs, kind="trusted")
    notes = []
    if box.kind == "uid":
        exposed = reference_exposure(root, lab)
        if exposed and not allow:
            raise Unisolated(
                "the uid sandbox cannot hide the reference: %s is readable by other users "
                "(make the repository root-only, e.g. chmod 700 it, or use bubblewrap); "
                "--no-isolation (GRADE_ALLOW_UNISOLATED=1) grades anyway" % exposed[0])
        if exposed:
            notes.append("**Not isolated**: the reference (%s) is readable by the sandbox's "
                         "user; this grade cannot be trusted." % exposed[0])
    if box.kind == "none":
        notes.append("**Not isolated**: graded without a sandbox (--no-isolation); the "
                     "submission could read the reference; this grade cannot be trusted.")
    return private, boxdir, box, trusted, notes


class Grader(Memcheck):
    def __init__(self, root, lab, work, jobs, allow_unisolated=False, only=None, part=None,
                 own_lower=False):
        self.root, self.lab, self.work, self.jobs = root, lab, work, jobs
        self.only = only  # None, or globs of the test names to grade (no memcheck/performance)
        self.part, self.own_lower = part, own_lower  # one part of the lab (kvlab.py "Parts")
        if part is not None:
            kvlab.check_part(kvlab.manifest(root, lab), part)
        self.mani = kvlab.manifest(root, lab, part)
        self.cfg = kvlab.grading_config(self.mani, part)
        self.files = kvlab.graded_files(self.mani, part, own_lower)
        (self.private, self.boxdir, self.box, self.trusted,
         self.iso_notes) = make_sandboxes(root, lab, work, jobs, allow_unisolated)
        self.env = base_env()
        if part is not None:
            self.env["PART"] = part  # every make and script sees the part (rules.mk)
        self.timeout = float(self.cfg["GRADE_TIMEOUT"])
        self.mem = int(self.cfg["GRADE_MEM_MB"])
        self.vm_note = []
        if part is None and self.mani.get("LAB_VM_TESTS", "").split():
            # the whole lab's grade stays on the host (its mutants and
            # grade-check run it many times): the VM test is its part's
            self.mani = dict(self.mani, LAB_VM_TESTS="")
            self.vm_note = ["The kernel VM test (%s) is not part of the whole lab's grade: "
                            "it is graded with its part alone (`make grade ... PART=<part>`, "
                            "docs/grading.md)." % kvlab.manifest(root, lab)["LAB_VM_TESTS"]]
        self.vm = bool(self.mani.get("LAB_VM_TESTS", "").split())  # boots the kernel VM
        if self.vm:
            self.env.update(KTEST_CACHE=os.path.join(self.boxdir, "ktest-cache"),
                            KTEST_KVER=kernel_version(root))
        self.times = []     # (phase, seconds) for the summary
        self.shared_runs = {}  # Case.run_key() -> (Result, Limits): a script's sub-cases
        self._t = time.monotonic()

    def lap(self, phase):
        now = time.monotonic()
        self.times.append((phase, now - self._t))
        self._t = now

    # ---- building -----------------------------------------------------------
    def build(self, tree, bdir, variant, targets, sandboxed=True):
        """Build targets of the lab in tree: in the sandbox (the submission),
        or as the grader (sandboxed=False: the reference, in private/)."""
        argv = kvlab.make_cmd(tree, self.lab, bdir, variant, self.jobs, targets)
        lim = Limits(timeout=900, nproc=512, mem_mb=4096, fsize_mb=1024, mode="plain",
                     cap=48 * 1024, tail=16 * 1024)
        if sandboxed:
            res = self.box.run(argv, env=self.env, limits=lim, writable=[bdir])
            Sandbox.share(bdir)
            return res.ok(), res.output
        os.makedirs(bdir, exist_ok=True)
        p = subprocess.run(argv, env=self.env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, errors="replace")
        return p.returncode == 0, p.stdout

    def bench_argv(self, bdir):
        words = self.cfg["GRADE_BENCH"].split()
        return [os.path.join(kvlab.bin_dir(bdir, "release", self.lab), words[0])] + words[1:]

    def bench_limits(self, ref=None):
        """The reference gets 5 minutes; a submission 5x the reference's time
        (at least 10 s): past 3x the instructions it scores 0 anyway."""
        t = 300 if ref is None else max(10.0, 5 * ref["bench"]["elapsed"])
        return Limits(timeout=t, nproc=16, mem_mb=self.mem, mode="valgrind")

    # ---- the reference, cached ----------------------------------------------
    def reference(self):
        ref = os.path.join(self.private, "ref")
        kvlab.make_kit(self.root, self.lab, ref, part=self.part)
        cdir = os.path.join(self.root, "build", "grade", "cache")
        private_dir(cdir)  # the reference's results are the grader's alone
        private_dir(os.path.join(cdir, self.lab))
        cache = reference_cache(self.root, self.lab, ref, self.env.get("CC", "cc"),
                                self.cfg["GRADE_BENCH"], self.part,
                                self.env.get("KTEST_KVER", ""))
        try:
            with open(cache) as f:
                return json.load(f)
        except (OSError, ValueError):
            pass
        bdir = os.path.join(self.private, "ref-build")
        ok, out = self.build(ref, bdir, "debug", ["build-tests"], sandboxed=False)
        if not ok:
            raise SystemExit("grade: the reference of %s does not build:\n%s" % (self.lab, out))
        bindir = kvlab.bin_dir(bdir, "debug", self.lab)
        run = lambda argv: subprocess.run(argv, capture_output=True, text=True,
                                          env=dict(self.env, LANG="C")).stdout
        vm = lambda script: self.reference_vm_cases(ref, bdir, script)
        cases = self.applicable(ctests.discover(self.mani, bindir, run,
                                                os.path.join(ref, self.lab), vm), bindir)
        info = {"cases": ctests.to_json(cases), "bench": None}
        if self.cfg["GRADE_BENCH"]:
            prog = self.bench_argv(bdir)[0]
            ok, out = self.build(ref, bdir, "release", [prog], sandboxed=False)
            if not ok:
                raise SystemExit("grade: the reference benchmark does not build:\n" + out)
            m = perf.measure(self.trusted, self.bench_argv(bdir), self.env,
                             self.bench_limits())
            if not m["ok"]:
                raise SystemExit("grade: the reference benchmark failed: " + m["reason"])
            info["bench"] = m
        try:
            os.makedirs(os.path.dirname(cache), exist_ok=True)
            tmp = "%s.tmp.%d" % (cache, os.getpid())  # concurrent graders: one each
            with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
                           "w") as f:
                json.dump(info, f)
            os.replace(tmp, cache)
        except OSError:
            pass
        return info

    def script_limits(self):
        """A script case's limits (run_one's); the VM scripts' too: no
        RLIMIT_AS (QEMU reserves its guest memory and translation cache)."""
        t = float(self.cfg["GRADE_SCRIPT_TIMEOUT"] or 6 * self.timeout)
        return Limits(timeout=t, nproc=512, mem_mb=self.mem, mode="asan-script",
                      cap=TEST_OUTPUT_CAP)

    def vm_image(self):
        """Put the VM's kernel image into box/ktest-cache (KTEST_CACHE),
        fetched once into build/cache/ktest as the grader."""
        here = os.path.join(self.root, "scripts", "ktest", "fetch-kernel.sh")
        p = subprocess.run(["sh", here, os.path.join(self.root, "build", "cache", "ktest")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=dict(os.environ, KTEST_KVER=self.env["KTEST_KVER"]))
        img = p.stdout.strip().split("\n")[-1] if p.returncode == 0 else ""
        if not img or not os.path.isfile(img):
            raise SystemExit("grade: no kernel image for the VM tests (scripts/ktest/"
                             "fetch-kernel.sh):\n" + p.stderr[-3000:])
        dst = self.env["KTEST_CACHE"]
        os.makedirs(dst, exist_ok=True)
        target = os.path.join(dst, os.path.basename(img))
        if not os.path.exists(target):
            try:
                os.link(img, target)
            except OSError:
                shutil.copyfile(img, target)
        os.chmod(target, 0o644)

    def reference_vm_cases(self, ref, bdir, script):
        """The cases of a LAB_VM_TESTS script: the CASE lines of one run on
        the reference (as the grader); all of them must pass."""
        case = ctests.Case(os.path.basename(script), "script", None, script=script)
        labdir = os.path.join(ref, self.lab)
        env = case.env(self.env, kvlab.bin_dir(bdir, "asan", self.lab), labdir, ref, "asan")
        res = self.trusted.run(case.argv(None, labdir), env=env, limits=self.script_limits())
        found = re.findall(r"^CASE (\S+): (PASS|FAIL)\b", res.output, re.M)
        bad = [n for n, r in found if r != "PASS"]
        if not found or bad or "CASE-ABORT:" in res.output:
            raise SystemExit("grade: the reference's VM test %s did not pass (%s; failed: %s):"
                             "\n%s" % (script, res.describe(), " ".join(bad[:20]) or "-",
                                        clip(res.output, 6000)))
        return [n for n, _r in found]

    def applicable(self, cases, bindir):
        """The cases, less the Criterion tests the reference skips at run time
        (cr_skip: e.g. a durability test on an in-memory configuration).
        They are not the submission's to pass; each binary (and conformance
        configuration) runs once, whole, to find them."""
        groups = {}
        for c in cases:
            if c.kind == "criterion":
                groups.setdefault((c.binary, c.config), []).append(c)
        skipped = set()
        for (binary, config), group in groups.items():
            env = dict(self.env, **({"KV_CONF_ENGINE": config} if config else {}))
            lim = Limits(timeout=max(300, 10 * self.timeout * len(group)), nproc=256,
                         mem_mb=4 * self.mem, mode="plain")
            st, res = ctests.run_runner(self.trusted, [os.path.join(bindir, binary)], env,
                                        lim)
            if st is None:
                raise SystemExit("grade: the reference's %s (%s) did not run: %s\n%s" % (
                    binary, config, res.describe(), clip(res.output, 4000)))
            skipped |= {(binary, config, c.filter) for c in group if c.filter not in st}
        return [c for c in cases if (c.binary, c.config, c.filter) not in skipped]

    # ---- the submission -------------------------------------------------------
    def solved_parts(self, tree):
        """When one part is graded, the parts it builds on go into the tree
        solved, as in the kit students get (never a graded file: with
        --own-lower they are graded, and stay stubs here). Returns notes for
        the summary."""
        if self.part is None:
            return []
        solved = sorted(kvlab.kit_solved(self.mani, self.part, True, self.own_lower))
        for rel in solved:
            dst = os.path.join(tree, self.lab, rel)
            shutil.copyfile(os.path.join(self.root, self.lab, rel), dst)
            kvlab._rewrite(dst, kvlab.fences.unfence_text)
        lower = kvlab.lower_parts(self.mani, self.part)
        if not lower:
            return ["Part `%s` graded alone." % self.part]
        if self.own_lower:
            return ["Part `%s` graded on your own %s (OWN_LOWER): their files were taken "
                    "from the submission too." % (self.part, ", ".join(lower))]
        return ["Part `%s` graded on the course's solution of %s (as in the kit)."
                % (self.part, ", ".join(lower))]

    def place(self, tree, sub):
        """Copy the submission's student files over the tree; return notes."""
        notes, labdir = [], os.path.join(tree, self.lab)
        everything = []
        for d, dirs, files in os.walk(sub):
            dirs[:] = sorted(x for x in dirs if not x.startswith("."))
            everything += [os.path.relpath(os.path.join(d, f), sub) for f in sorted(files)]
        for rel in self.files:
            cands = [c for c in (rel, os.path.join(self.lab, rel),
                                 os.path.join("kvlabs-" + self.lab, self.lab, rel))
                     if os.path.lexists(os.path.join(sub, c))]
            if not cands:
                cands = sorted((c for c in everything if c == rel or c.endswith("/" + rel)),
                               key=len)
            src = os.path.join(sub, cands[0]) if cands else None
            if src and os.path.islink(src):
                notes.append("`%s` is a symbolic link: refused; the starter's stub was used"
                             % rel)
                src = None
            elif src and os.path.getsize(src) > 4 << 20:
                notes.append("`%s` is larger than 4 MiB: refused; the starter's stub was used"
                             % rel)
                src = None
            if src is None:
                if not notes or rel not in notes[-1]:
                    notes.append("`%s` was not submitted: the starter kit's stub was used" % rel)
                kvlab.stub_file(os.path.join(labdir, rel))
            else:
                shutil.copyfile(src, os.path.join(labdir, rel))
                if cands[0] != rel:
                    notes.append("`%s` taken from `%s`" % (rel, cands[0]))
        return notes

    # ---- tests ----------------------------------------------------------------
    def run_case(self, case, bindir, labdir, tree):
        key = case.run_key()  # the sub-cases of a script: one run, judged case by case
        if key is not None and key in self.shared_runs:
            res, lim = self.shared_runs[key]
        else:
            res, lim = self.run_one(case, bindir, labdir, tree)
            if key is not None:
                self.shared_runs[key] = (res, lim)
        passed, reason = ctests.judge_case(case, res)
        return self._item(case, res, lim, passed, reason)

    def run_one(self, case, bindir, labdir, tree):
        """Run a case's command in the sandbox: (Result, Limits)."""
        t = self.timeout
        if case.kind != "criterion":
            t = float(self.cfg["GRADE_SCRIPT_TIMEOUT"] or 6 * self.timeout)
        lim = Limits(timeout=t, nproc=64 if case.kind != "script" else 512, mem_mb=self.mem,
                     mode="asan-script" if case.kind == "script" else "asan",
                     cap=TEST_OUTPUT_CAP)
        if case.kind == "script":
            lim = self.script_limits()
        own = None
        if case.kind == "script":
            # A script may build programs beside the lab's (BIN_DIR/...,
            # another variant): it gets a private, writable copy of the build,
            # so that nothing it runs can change what later tests run.
            own = tempfile.mkdtemp(prefix="script.", dir=self.boxdir)
            subprocess.run(["cp", "-a", self.bdir, os.path.join(own, "build")], check=True)
            bindir = bindir.replace(self.bdir, os.path.join(own, "build"))
            Sandbox.share(own)
        env = case.env(self.env, bindir, labdir, tree, "asan")
        if case.kind == "criterion":
            res = ctests.run_criterion(self.box, case.argv(bindir, labdir), env, lim)
        else:
            res = self.box.run(case.argv(bindir, labdir), env=env, limits=lim,
                               writable=[own] if own else ())
        if own:
            shutil.rmtree(own, ignore_errors=True)
        return res, lim

    def _item(self, case, res, lim, passed, reason):
        pts = kvlab.points_for(case.name, self.cfg["GRADE_POINTS"])
        text = reason + (" (%.2f s)" % res.elapsed)
        if res.truncated:
            text += "; it printed %d bytes: output cut to the first %d KiB and the last %d " \
                    "KiB" % (res.total_bytes, lim.cap // 1024, lim.tail // 1024)
        if not passed:
            text += "\n\n" + clip(res.output, ITEM_OUTPUT)
        return {"name": case.name, "score": pts if passed else 0.0, "max_score": pts,
                "status": "passed" if passed else "failed", "output": text,
                "visibility": "visible", "_reason": reason}

    def run_tests(self, cases, bindir, labdir, tree):
        """Every case; the script tests last, one at a time (they build and
        run heavier things), in the cases' order in the results."""
        first = [c for c in cases if c.kind != "script"]
        with cf.ThreadPoolExecutor(self.jobs) as ex:
            done = dict(zip(map(id, first),
                            ex.map(lambda c: self.run_case(c, bindir, labdir, tree), first)))
        for c in cases:
            if c.kind == "script":
                done[id(c)] = self.run_case(c, bindir, labdir, tree)
        return [done[id(c)] for c in cases]

    # ---- memcheck -------------------------------------------------------------
    # ---- performance ----------------------------------------------------------
    def performance(self, tree, bdir, ref):
        prog = self.bench_argv(bdir)[0]
        ok, out = self.build(tree, bdir, "release", [prog])
        if not ok:
            return 0.0, None, "the release build (-O2) of the benchmark failed:\n" + \
                clip(out, ITEM_OUTPUT)
        m = perf.measure(self.box, self.bench_argv(bdir), self.env, self.bench_limits(ref))
        rb = ref["bench"]
        if not m["ok"]:
            return 0.0, None, m["reason"]
        if m["output"] != rb["output"]:
            return 0.0, m["instructions"], "the benchmark's output differs from the " \
                "reference's (a wrong result scores 0):\n  got:  %s\n  want: %s" % (
                    clip(m["output"], 2000), rb["output"])
        full = float(self.cfg["GRADE_BENCH_FULL"])
        zero = float(self.cfg["GRADE_BENCH_ZERO"])
        frac = perf.fraction(m["instructions"], rb["instructions"], full, zero)
        ratio = m["instructions"] / rb["instructions"]
        return frac, m["instructions"], (
            "`%s`: %s instructions, the reference %s: ratio %.3f -> %.0f%% of the points "
            "(full up to %.2f, zero from %.2f)" % (
                self.cfg["GRADE_BENCH"], format(m["instructions"], ","),
                format(rb["instructions"], ","), ratio, 100 * frac, full, zero))

    # ---- the whole grade --------------------------------------------------------
    def grade(self, sub):
        t0 = time.monotonic()
        if self.vm:
            self.vm_image()
        ref = self.reference()
        self.lap("reference (cached after the first run)")
        cases = ctests.from_json(ref["cases"])
        notes = list(self.iso_notes) + self.vm_note
        if self.only is not None:
            cases = [c for c in cases if any(fnmatch.fnmatchcase(c.name, p) for p in self.only)]
            notes.append("Only the tests matching `%s` were graded (--only): no memcheck, "
                         "no performance." % " ".join(self.only))
        # The graded tree: the starter kit (never the reference of a graded
        # file), the solved lower parts (#12), the submission's files.
        tree = os.path.join(self.boxdir, "tree")
        kvlab.make_kit(self.root, self.lab, tree, stub=True)
        notes += self.solved_parts(tree)
        notes += self.place(tree, sub)
        Sandbox.share(self.boxdir)
        bdir = self.bdir = os.path.join(self.boxdir, "build")
        labdir = os.path.join(tree, self.lab)
        ok, build_out = self.build(tree, bdir, "asan", ["build-tests"])
        self.lap("build (asan)")
        extra = []
        if not ok:
            items = [{"name": c.name, "score": 0.0,
                      "max_score": kvlab.points_for(c.name, self.cfg["GRADE_POINTS"]),
                      "status": "failed", "output": "not run: the build failed",
                      "visibility": "visible", "_reason": "not run: the build failed"}
                     for c in cases]
            extra.append(item("build", 0, 0, "failed", "The build failed (warnings are "
                              "errors):\n\n" + clip(build_out, 48 * 1024)))
        else:
            items = self.run_tests(cases, kvlab.bin_dir(bdir, "asan", self.lab), labdir, tree)
            self.lap("tests")
        earned = sum(i["score"] for i in items)
        possible = sum(i["max_score"] for i in items)
        mc_pts = float(self.cfg["GRADE_MEMCHECK_POINTS"]) if self.only is None else 0
        if mc_pts:
            if ok:
                frac, text = self.memcheck(cases, items, tree, bdir)
                frac *= earned / possible if possible else 0
                self.lap("memcheck (debug build, Valgrind)")
            else:
                frac, text = 0.0, "not run: the build failed"
            text = ("Worth %g points x the fraction of the test points earned (%g of %g): "
                    "Valgrind runs the passing tests, and any error or definite leak scores "
                    "0 here.\n\n" % (mc_pts, earned, possible)) + text
            extra.append(item("memcheck (Valgrind: no errors, no definite leaks)",
                              round(mc_pts * frac, 2), mc_pts,
                              "passed" if frac > 0 else "failed", text))
        instr = None
        bench_pts = float(self.cfg["GRADE_BENCH_WEIGHT"]) if self.only is None else 0
        if self.cfg["GRADE_BENCH"] and bench_pts:
            if ok:
                frac, instr, text = self.performance(tree, bdir, ref)
                self.lap("performance (release build, callgrind)")
            else:
                frac, text = 0.0, "not run: the build failed"
            extra.append(item("performance (instructions vs the reference)",
                              round(bench_pts * frac, 2), bench_pts,
                              "passed" if frac > 0 else "failed", text))
        return self.results(items + extra, notes, ok, time.monotonic() - t0, instr, ref)

    def results(self, items, notes, built, elapsed, instr, ref):
        failed = [(i["name"], i.get("_reason") or i["output"].split("\n")[0])
                  for i in items if i["status"] != "passed" and i["max_score"] > 0
                  and not i["name"].startswith(("memcheck", "performance"))]
        for it in items:
            it.pop("_reason", None)
        score = round(sum(i["score"] for i in items), 2)
        total = round(sum(i["max_score"] for i in items), 2)
        npass = sum(1 for i in items if i["status"] == "passed" and i["max_score"] > 0)
        title = self.lab + (" (part %s)" % self.part if self.part else "")
        lines = ["# %s: %g / %g" % (title, score, total), ""]
        if not built:
            lines.append("**The build failed**: nothing ran. See the `build` item.")
        lines += ["- %s" % n for n in notes]
        lines += ["", "%d of %d items passed; graded in %.0f s." % (
            npass, sum(1 for i in items if i["max_score"] > 0), elapsed), "",
            "Sandbox: %s." % self.box.describe(), ""]
        lines += ["| item | score | max | result |", "|---|---:|---:|---|"]
        for i in items:
            first = i["output"].split("\n")[0].replace("|", "\\|")
            lines.append("| `%s` | %g | %g | %s |" % (i["name"], i["score"], i["max_score"],
                                                      cell(first)))
        if failed:
            lines += ["", "## failed tests", ""]
            lines += ["- `%s`: %s" % (n, r.replace("\n", " ")) for n, r in failed]
        for i in items:
            if i["name"].startswith(("memcheck", "performance")) or i["name"] == "build":
                lines += ["", "## " + i["name"], "", i["output"]]
        lines += ["", "## timings", ""] + ["- %s: %.1f s" % t for t in self.times]
        summary = "\n".join(lines) + "\n"
        res = {"score": score, "execution_time": int(round(elapsed)), "output": summary,
               "output_format": "md", "visibility": "visible", "stdout_visibility": "hidden",
               "tests": items, "extra_data": {"sandbox": self.box.kind}}
        if instr is not None and ref.get("bench"):
            res["leaderboard"] = [{"name": "instructions (x reference)",
                                   "value": round(instr / ref["bench"]["instructions"], 4),
                                   "order": "asc"}]
        return res, summary


def reference_cache(root, lab, ref, cc, bench, part=None, kver=""):
    """The cache file of a lab's reference results (cases, benchmark count):
    named by a digest of the reference kit in ref, the compiler and the
    benchmark command (and the part graded, if any; the VM's kernel version
    kver for a part tested in the VM), so any change to them makes a new
    one. starter.py reads it to state the reference's instruction count in
    a kit."""
    h = hashlib.sha256(("part=%s\0" % (part or "") + ("kver=%s\0" % kver if kver else ""))
                       .encode())
    for d, dirs, files in sorted(os.walk(ref)):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            h.update(os.path.relpath(p, ref).encode() + b"\0")
            with open(p, "rb") as fh:
                h.update(hashlib.sha256(fh.read()).digest())
    ccv = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout
    h.update(ccv.encode() + bench.encode() + CACHE_FORMAT)
    return os.path.join(root, "build", "grade", "cache", lab, h.hexdigest()[:24] + ".json")


def kernel_version(root):
    """The VM tests' kernel version (scripts/ktest/kver.sh: the installed
    headers'); the grader stops (exit 2) without it."""
    p = subprocess.run(["sh", os.path.join(root, "scripts", "ktest", "kver.sh")],
                       capture_output=True, text=True)
    if p.returncode != 0 or not p.stdout.strip():
        raise SystemExit("grade: this part is tested in the kernel VM, and no kernel headers "
                         "are installed (scripts/install-deps.sh): %s" % p.stderr.strip())
    return p.stdout.strip()


CELL_MAX = 120


def cell(text):
    """A table cell from an item's first line, never cut mid-sentence: whole
    when short; else up to the last sentence or clause end that fits, then
    "(more below)"; a first sentence longer than that is kept whole."""
    if len(text) <= CELL_MAX:
        return text
    ends = [m.end() for m in re.finditer(r"[.;:](?=\s)", text[:CELL_MAX + 1])]
    if ends:
        return text[:ends[-1]] + " (more below)"
    m = re.search(r"[.;:](?=\s)", text)
    return text[:m.end()] + " (more below)" if m else text



def item(name, score, max_score, status, output):
    return {"name": name, "score": score, "max_score": max_score, "status": status,
            "output": output, "visibility": "visible"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lab", required=True)
    ap.add_argument("--submission", required=True)
    ap.add_argument("--out", help="default: ROOT/build/grade/<lab>")
    ap.add_argument("--root", default=kvlab.repo_root())
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("JOBS", "2") or 2))
    ap.add_argument("--part", help="grade one part of the lab (its LAB_PARTS)")
    ap.add_argument("--own-lower", action="store_true",
                    help="with --part: the parts below it are the student's too (taken from "
                         "the submission), not the course's solution")
    ap.add_argument("--timeout", type=float, help="override GRADE_TIMEOUT (seconds per test)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--only", nargs="+", metavar="GLOB",
                    help="grade only the tests whose names match (no memcheck, no performance)")
    ap.add_argument("--no-isolation", action="store_true",
                    help="grade even when no sandbox can isolate the submission (not root and "
                         "no bubblewrap; or the uid sandbox with a world-readable reference); "
                         "the results say so. Also GRADE_ALLOW_UNISOLATED=1")
    a = ap.parse_args()
    install_stop_handlers()
    root = os.path.abspath(a.root)
    if a.lab not in kvlab.labs(root) or not kvlab.manifest(root, a.lab).get("STUDENT_FILES"):
        print("grade: %s is not a lab with STUDENT_FILES" % a.lab, file=sys.stderr)
        return 2
    if not os.path.isdir(a.submission):
        print("grade: submission %s is not a directory" % a.submission, file=sys.stderr)
        return 2
    if a.own_lower and not a.part:
        print("grade: --own-lower needs --part", file=sys.stderr)
        return 2
    out = os.path.abspath(a.out or os.path.join(root, "build", "grade", a.lab + (
        "-" + a.part if a.part else "")))
    work = tempfile.mkdtemp(prefix="kvlabs-grade-")
    try:
        try:
            g = Grader(root, a.lab, work, a.jobs, a.no_isolation, a.only, a.part,
                       a.own_lower)
        except Unisolated as e:
            print("grade: refused: %s" % e, file=sys.stderr)
            return 2
        except ValueError as e:
            print("grade: %s" % e, file=sys.stderr)
            return 2
        if a.timeout:
            g.timeout = a.timeout
        res, summary = g.grade(os.path.abspath(a.submission))
    finally:
        if a.keep:
            print("grade: work directory kept: " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(summary)
    total = sum(i["max_score"] for i in res["tests"])
    print("grade: %s%s: %g / %g in %d s -> %s/results.json (Gradescope) and %s/summary.md "
          "(to read)" % (a.lab, " part " + a.part if a.part else "", res["score"], total,
                         res["execution_time"], out, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
