"""grade_memcheck.py — the autograder's memcheck item: the passing tests again under Valgrind.

What this is
------------
Step 5 of tools/grade.py's pipeline (its docstring), as a mixin of its
Grader: `Memcheck.memcheck()` builds the submission's debug variant in the
sandbox and runs each binary's passing tests (those GRADE_MEMCHECK_TESTS
selects) under Valgrind, with one log per process, as `make memcheck`
does. It returns (fraction, report): 1 when every run is clean, 0 when
any has an error, a definite leak, or a test that fails under Valgrind;
grade.py scales the item by the fraction of test points earned.

How it works
------------
- A Criterion binary's passing tests run in one `--filter @(a|b|...)`
  run (Criterion re-executes itself per test, and Valgrind follows it:
  --trace-children). Since Valgrind restarts with every test process, a
  binary's run is long: the largest groups are split in two until every
  worker (the grader's --jobs) has one, and the longest start first.
- Each run keeps its work dir (Sandbox.run(keep=True)), where Valgrind
  wrote vg.<pid>.log files; judge_valgrind() adds up their ERROR SUMMARY
  and "definitely lost" counts, shows the first three bad logs, and
  checks that the tests still passed under Valgrind (ctests.judge_case(),
  and Criterion's Synthesis line counting every test of the group).
- merge_valgrind_lines() gives each test program one report line: the
  chunks of a split binary are merged, their counts added up.

The grader (self) provides cfg, box, env, lab, jobs and build().
"""
import concurrent.futures as cf
import fnmatch
import os
import re
import shutil

import ctests
import kvlab
from sandbox import Limits, clip

VALGRIND = ["valgrind", "--trace-children=yes", "--leak-check=full",
            "--show-leak-kinds=definite", "--errors-for-leak-kinds=definite",
            "--track-fds=no", "--num-callers=30", "--log-file=vg.%p.log"]
# A failed debug build's compiler output kept in the report (as grade.py's items).
BUILD_OUTPUT = 8 * 1024


class Memcheck:
    """The memcheck step of tools/grade.py's Grader (a mixin: see above)."""

    def memcheck(self, cases, items, tree, bdir):
        """(fraction 0 or 1, report text) for the passing tests under Valgrind."""
        groups = {}
        only = self.cfg["GRADE_MEMCHECK_TESTS"].split()
        for c, it in zip(cases, items):
            if only and not any(fnmatch.fnmatchcase(c.name, p) for p in only):
                continue
            if it["status"] == "passed" and c.kind in ("criterion", "plain"):
                groups.setdefault((c.binary, c.config, c.kind), []).append(c)
        if not groups:
            return 0.0, "no test passed: nothing to check under Valgrind."
        ok, out = self.build(tree, bdir, "debug", ["build-tests"])
        if not ok:
            return 0.0, "the debug build (-O0) failed:\n" + clip(out, BUILD_OUTPUT)
        bindir = kvlab.bin_dir(bdir, "debug", self.lab)

        def one(key, group):
            binary, config, kind = key
            argv = VALGRIND + [os.path.join(bindir, binary)]
            if kind == "criterion":
                argv += ["--filter", "@(%s)" % "|".join(c.filter for c in group)]
                argv += ctests.CRIT_ARGS
            env = group[0].env(self.env, bindir, os.path.join(tree, self.lab), tree, "debug")
            lim = Limits(timeout=min(900, 60 + 15 * len(group)), nproc=64, mem_mb=self.mem,
                         mode="valgrind")
            if kind == "criterion":
                res = ctests.run_criterion(self.box, argv, env, lim, keep=True)
            else:
                res = self.box.run(argv, env=env, limits=lim, keep=True)
            try:
                return self.judge_valgrind(key, group, res)
            finally:
                shutil.rmtree(res.workdir, ignore_errors=True)

        # Valgrind restarts with every test process (Criterion re-executes
        # itself per test), so a binary's tests take long: split the largest
        # groups until every worker has one, and start the longest first.
        chunks = [(k, g) for k, g in groups.items()]
        while len(chunks) < self.jobs and max(len(g) for _k, g in chunks) > 1:
            chunks.sort(key=lambda kg: len(kg[1]))
            k, g = chunks.pop()
            chunks += [(k, g[:len(g) // 2]), (k, g[len(g) // 2:])]
        chunks.sort(key=lambda kg: -len(kg[1]))
        with cf.ThreadPoolExecutor(self.jobs) as ex:
            results = list(ex.map(lambda kg: one(*kg), chunks))
        bad = [r for ok_, r in results if not ok_]
        return (0.0 if bad else 1.0), "\n".join(merge_valgrind_lines(
            [(k, ok_, r) for (k, _g), (ok_, r) in zip(chunks, results)]))

    def judge_valgrind(self, key, group, res):
        binary, config, _kind = key
        name = binary + ("(%s)" % config if config else "")
        errs = lost = nlogs = 0
        shown = []
        for f in sorted(os.listdir(res.workdir)):
            if not (f.startswith("vg.") and f.endswith(".log")):
                continue
            nlogs += 1
            with open(os.path.join(res.workdir, f), errors="replace") as fh:
                log = fh.read()
            e = [int(x.replace(",", "")) for x in
                 re.findall(r"ERROR SUMMARY: ([\d,]+) errors", log)]
            l_ = [int(x.replace(",", "")) for x in
                  re.findall(r"definitely lost: ([\d,]+) bytes", log)]
            e, l_ = (e[-1] if e else 0), (l_[-1] if l_ else 0)
            errs, lost = errs + e, lost + l_
            if (e or l_) and len(shown) < 3:
                shown.append("\n".join(x for x in log.splitlines() if x.startswith("=="))[:3000])
        fake = ctests.Case(name, group[0].kind, binary)
        passed, reason = ctests.judge_case(fake, res) if group[0].kind == "criterion" or \
            group[0].kind == "plain" else (True, "")
        if group[0].kind == "criterion" and passed:
            m = list(ctests.SYNTH.finditer(res.output))
            if m and int(m[-1].group(1)) != len(group):
                passed, reason = False, "ran %s of %d tests" % (m[-1].group(1), len(group))
        ok = nlogs > 0 and errs == 0 and lost == 0 and passed
        line = "- `%s` (%d tests, %d processes): %d errors, %d bytes definitely lost%s" % (
            name, len(group), nlogs, errs, lost,
            "" if passed else "; under Valgrind: " + reason)
        if shown:
            line += "\n\n```\n" + "\n\n".join(shown) + "\n```"
        if not passed:
            line += "\n\n```\n" + clip(res.output, 4000) + "\n```"
        return ok, line


def merge_valgrind_lines(rows):
    """One report per test program: chunks of one binary (split for the
    workers) are merged into one line with their counts added up."""
    by, order = {}, []
    pat = re.compile(r"^- `(.+?)` \((\d+) tests, (\d+) processes\): (\d+) errors, (\d+) bytes "
                     r"definitely lost(.*)$", re.S)
    for key, ok, text in rows:
        if key not in by:
            by[key] = []
            order.append(key)
        by[key].append((ok, text))
    out = []
    for key in order:
        parts = by[key]
        ms = [pat.match(t) for _ok, t in parts]
        if len(parts) == 1 or not all(ms):
            out += [t for _ok, t in parts]
            continue
        n, procs, errs, lost = (sum(int(m.group(g)) for m in ms) for g in (2, 3, 4, 5))
        rest = "".join(m.group(6) for m in ms)
        out.append("- `%s` (%d tests, %d processes): %d errors, %d bytes definitely lost%s" % (
            ms[0].group(1), n, procs, errs, lost, rest))
    return out
