"""ctests.py — a lab's tests as separate, gradable cases.

What this is
------------
`make test` runs a lab's test *runners* (a Criterion binary, a plain test
program, a script) and counts their results. A grader needs finer grain:
each test on its own, so that a crash or a hang costs one test and not the
suite, and each with its own points. This module turns a lab's manifest
into a list of cases and runs one case, or one whole runner, through the
sandbox (tools/sandbox.py).

The cases of a lab, and their names (the names GRADE_POINTS patterns match):

    suite/test                       a Criterion test of a LAB_TESTS binary
    conformance(CONFIG)/suite/test   a conformance test on one LAB_CONF_CONFIGS entry
    NAME                             a LAB_PLAIN_TESTS program (tests/NAME.c)
    NAME.sh                          a LAB_SCRIPT_TESTS script
    NAME.sh/SUB                      a sub-case of a script of GRADE_SCRIPT_CASES,
                                     or of a LAB_VM_TESTS script (below)

A plain program or a script is one case: it passes when its closing line
says `N passed, 0 failed` with N > 0 and it exits 0 (no partial credit: a
starter kit's gdb script passes some checks by accident).

Scripts with sub-cases. A script that checks many independent things (the
qemu runs: each ISA level times each hash function) would make one point
of all of them. A script named in the manifest's GRADE_SCRIPT_CASES is
graded case by case instead:
  - `sh SCRIPT --list` prints one line `CASE <sub>` per sub-case and runs
    nothing; discovery reads the reference's list (a script that lists no
    case stays one case, judged as above);
  - a run prints `CASE <sub>: PASS` or `CASE <sub>: FAIL` for each;
  - the grader runs the script once and judges each sub-case `NAME.sh/<sub>`
    by its own line (the last one, at the start of a line): PASS passes;
    FAIL, no line at all (the script crashed or stopped early), a timeout or
    a sanitizer report fails it. The script's exit status and summary line
    do not matter then: they sum up every sub-case.

Scripts that boot the kernel VM (LAB_VM_TESTS, scripts/ktest/cases.py) use
the same CASE lines, but their cases are only known by booting: discover()
takes them from vm_cases(script), the grader's run of the reference
(grade.py), and without it such a script is one case. A VM run that ends
early (an oops panics the VM, a hang, a module that does not build) prints
`CASE-ABORT: <reason>`; every sub-case without a CASE line then fails
"not reached: <reason>".

Interface
---------
    discover(mani, bindir, run, labdir, vm_cases)  -> [Case]   (Criterion names, script
                                                     sub-cases from --list, VM cases)
    case.argv(bindir, labdir)            the command of the case in one build
    case.run_key()                       cases with the same key share one run
    judge_case(case, result)             -> (passed, reason)
    run_runner(box, argv, env, limits)   a whole Criterion binary with --json:
                                         -> ({name: PASSED|FAILED|ERRORED}, result)

How a Criterion test is judged: it runs alone (`--filter suite/test
--jobs 1`) and passes when the closing "Synthesis" line reports one test,
passing, the runner exits 0, and no sanitizer report appears in its
output (a LeakSanitizer report at a test process's exit does not fail a
Criterion test by itself, as scripts/run-test.sh also knows). A run that
printed no Synthesis line crashed the harness or was killed. Criterion's
own --timeout is not used: with Criterion 2.4.1 it does not fire for a
test that sleeps or spins, so the sandbox's wall-clock deadline is the
timeout.
"""
import os
import re
import shutil

SYNTH = re.compile(r"Synthesis: Tested: (\d+) \| Passing: (\d+) \| Failing: (\d+) \| "
                   r"Crashing: (\d+)")
PLAIN = re.compile(r"^(?:[A-Za-z_-]+: )?(\d+) passed, (\d+) failed", re.M)
SANITIZER = re.compile(r"^(==\d+==)?ERROR: (LeakSanitizer|AddressSanitizer)|: runtime error: "
                       r"|^WARNING: ThreadSanitizer", re.M)
CRIT_ARGS = ["--jobs", "1", "--color=never", "-S"]


class Case:
    """One gradable test."""

    def __init__(self, name, kind, binary, filt=None, config=None, script=None, sub=None):
        self.name = name        # the name in results and GRADE_POINTS
        self.kind = kind        # "criterion", "plain" or "script"
        self.binary = binary    # file name in the build's bin dir (criterion, plain)
        self.filter = filt      # suite/test (criterion)
        self.config = config    # KV_CONF_ENGINE value (conformance)
        self.script = script    # path relative to the lab (script)
        self.sub = sub          # the sub-case's name in the script's CASE lines (script)

    def run_key(self):
        """The sub-cases of one script share one run: its key; None for the rest."""
        return ("script", self.script) if self.kind == "script" and self.sub else None

    def argv(self, bindir, labdir):
        if self.kind == "criterion":
            return [os.path.join(bindir, self.binary), "--filter", self.filter] + CRIT_ARGS
        if self.kind == "plain":
            return [os.path.join(bindir, self.binary)]
        return ["sh", os.path.join(labdir, self.script)]

    def env(self, base, bindir, labdir, root, variant):
        e = dict(base)
        if self.config:
            e["KV_CONF_ENGINE"] = self.config
        if self.kind == "script":
            e.update(BIN_DIR=bindir, LAB_DIR=labdir, KVLABS_ROOT=root, VARIANT=variant)
        return e


ASSERT_AT = re.compile(r"^\[----\] (.+?:\d+): Assertion Failed\s*$")
ASSERT_MSG = re.compile(r"^\[----\]\s{2,}(\S.*?)\s*$")


def assertion_message(output):
    """The first failed Criterion assertion of a run, "file:line: message"
    ("" when there is none): what a student needs to act on a failure."""
    lines = re.sub(r"\x1b\[[0-9;]*m", "", output).split("\n")
    for i, line in enumerate(lines):
        m = ASSERT_AT.match(line)
        if not m:
            continue
        msg = []
        for nxt in lines[i + 1:i + 12]:
            if not nxt.startswith("[----]") or ASSERT_AT.match(nxt):
                break
            mm = ASSERT_MSG.match(nxt)
            if mm:
                msg.append(mm.group(1))
        loc = re.sub(r"^.*/(?=[^/]+/[^/]+:\d+$)", "", m.group(1))  # the last two path parts
        return "%s: %s" % (loc, " ".join(msg) if msg else "assertion failed")
    return ""


FAIL_LINE = re.compile(r"^\[FAIL\] (\S+?)::(\S+?):")


def assertion_messages(output):
    """{"suite/test": "file:line: message"} for every failed Criterion test
    of a run's output whose failure came with an assertion message."""
    out, pending = {}, None
    lines = re.sub(r"\x1b\[[0-9;]*m", "", output).split("\n")
    for i, line in enumerate(lines):
        if ASSERT_AT.match(line) and pending is None:
            pending = assertion_message("\n".join(lines[i:i + 12]))
        m = FAIL_LINE.match(line)
        if m:
            if pending:
                out["%s/%s" % (m.group(1), m.group(2))] = pending
            pending = None
    return out


def sanitizer_reason(output):
    """Why a run failed, from its first sanitizer report ("" when none).

    Under ASan and UBSan a crash is not a signal: the sanitizer prints its
    report and exits 1, so Criterion counts a failure, not a crash."""
    rss = re.search(r"hard rss limit exhausted \((\d+)Mb", output)
    if rss:
        return "used more than %s MiB of memory: killed (AddressSanitizer)" % rss.group(1)
    m = SANITIZER.search(output)
    if not m:
        return ""
    start = output.rfind("\n", 0, m.start()) + 1
    line = output[start:].split("\n", 1)[0]
    line = re.sub(r"^==\d+==\s*(ERROR: )?", "", line).strip()
    if "LeakSanitizer" in line:
        return "memory leak (LeakSanitizer): " + line[:200]
    if "runtime error:" in line:
        return "crashed: undefined behaviour (UBSan): " + \
            line.split("runtime error:", 1)[1].strip()[:200]
    if "ThreadSanitizer" in line:
        return "data race or thread error (ThreadSanitizer): " + line[:200]
    return "crashed: " + line[:200]


def parse_list(text):
    """Names 'suite/test' from the output of a Criterion binary's --list."""
    names, suite = [], None
    for line in text.splitlines():
        m = re.match(r"^(\S+): \d+ tests?$", line)
        if m:
            suite = m.group(1)
        elif suite and line.strip() and not line[0].isalnum():
            names.append("%s/%s" % (suite, line.split()[-1]))
    return names


def criterion_binaries(mani):
    return [os.path.splitext(os.path.basename(t))[0] for t in mani.get("LAB_TESTS", "").split()]


def script_cases(mani, script, run, labdir):
    """The sub-case names a GRADE_SCRIPT_CASES script lists (`sh SCRIPT --list`),
    [] for any other script."""
    listed = mani.get("GRADE_SCRIPT_CASES", "").split()
    if labdir is None or not (script in listed or os.path.basename(script) in listed):
        return []
    out = run(["sh", os.path.join(labdir, script), "--list"])
    return re.findall(r"^CASE (\S+)\s*$", out, re.M)


def discover(mani, bindir, run, labdir=None, vm_cases=None):
    """The cases of a lab; run(argv) -> output lists one binary's tests (and,
    with labdir, the sub-cases of the scripts of GRADE_SCRIPT_CASES);
    vm_cases(script) -> [sub] the cases of a LAB_VM_TESTS script."""
    cases = []
    for b in criterion_binaries(mani):
        for n in parse_list(run([os.path.join(bindir, b), "--list"])):
            cases.append(Case(n, "criterion", b, filt=n))
    configs = mani.get("LAB_CONF_CONFIGS", "").split()
    if configs:
        names = parse_list(run([os.path.join(bindir, "conformance"), "--list"]))
        for c in configs:
            for n in names:
                cases.append(Case("conformance(%s)/%s" % (c, n), "criterion", "conformance",
                                  filt=n, config=c))
    for t in mani.get("LAB_PLAIN_TESTS", "").split():
        b = os.path.splitext(os.path.basename(t))[0]
        cases.append(Case(b, "plain", b))
    for s in mani.get("LAB_SCRIPT_TESTS", "").split():
        subs = script_cases(mani, s, run, labdir)
        if not subs:
            cases.append(Case(os.path.basename(s), "script", None, script=s))
        for sub in subs:
            cases.append(Case("%s/%s" % (os.path.basename(s), sub), "script", None, script=s,
                              sub=sub))
    for s in mani.get("LAB_VM_TESTS", "").split():
        subs = vm_cases(s) if vm_cases else []
        if not subs:
            cases.append(Case(os.path.basename(s), "script", None, script=s))
        for sub in subs:
            cases.append(Case("%s/%s" % (os.path.basename(s), sub), "script", None, script=s,
                              sub=sub))
    return cases


def to_json(cases):
    return [vars(c) for c in cases]


def from_json(items):
    out = []
    for d in items:
        c = Case(d["name"], d["kind"], d["binary"])
        c.__dict__.update(d)
        out.append(c)
    return out


def judge_case(case, res):
    """(passed, reason) for a case's sandbox Result."""
    if res.error:
        return False, res.describe()
    if res.timed_out:
        return False, "timed out after %.0f s" % res.elapsed
    san = len(SANITIZER.findall(res.output))
    if case.kind == "script" and getattr(case, "sub", None):
        return judge_sub_case(case, res, san)
    if case.kind == "criterion":
        m = None
        for m in SYNTH.finditer(res.output):
            pass
        if m is None:
            return False, "the test harness printed no summary (%s): it crashed or was " \
                          "killed" % res.describe()
        tested, passing, failing, crashing = map(int, m.groups())
        if tested == 0:
            return False, "test not found in the binary"
        if crashing:
            return False, "crashed (%s)" % res.describe()
        if failing or passing != tested:
            return False, sanitizer_reason(res.output) or assertion_message(res.output) or \
                "failed"
    else:
        m = None
        for m in PLAIN.finditer(res.output):
            pass
        if m is None:
            return False, "printed no 'N passed, N failed' line (%s)" % res.describe()
        passed, failed = int(m.group(1)), int(m.group(2))
        if failed or passed == 0:
            return False, "%d passed, %d failed" % (passed, failed)
    if san:
        return False, sanitizer_reason(res.output)
    if res.rc != 0:
        return False, "%s with no failure reported" % res.describe()
    return True, "passed"


def judge_sub_case(case, res, san):
    """(passed, reason) for one sub-case of a script run (see the top)."""
    m = None
    for m in re.finditer(r"^CASE %s: (PASS|FAIL)\b" % re.escape(case.sub), res.output, re.M):
        pass
    if m is None:
        abort = re.search(r"^CASE-ABORT: (.*)$", res.output, re.M)
        if abort:
            return False, "not reached: " + abort.group(1).strip()
        return False, "the script printed no 'CASE %s: PASS|FAIL' line (%s)" % (
            case.sub, res.describe())
    if m.group(1) != "PASS":
        return False, "CASE %s: FAIL" % case.sub
    if san:
        return False, sanitizer_reason(res.output)
    return True, "passed"


_JSON_SUITE = re.compile(r'"name":\s*"([^"]*)",\s*"passed":')
_JSON_TEST = re.compile(r'"name":\s*"([^"]*)",\s*"assertions":\s*\d+,\s*"status":\s*"([A-Z]+)"')


def parse_json_report(text):
    """{suite/test: status} from Criterion's --json report, or None.

    Not json.loads(): Criterion 2.4.1 does not escape the assertion
    messages it copies into the report, so a failed assertion over a string
    literal (`cr_assert_eq(f("x"), 0)`) makes the file invalid JSON. The
    names (C identifiers) and statuses are read by pattern instead."""
    if '"test_suites"' not in text:
        return None
    out, suite = {}, None
    pos = 0
    while True:
        ms, mt = _JSON_SUITE.search(text, pos), _JSON_TEST.search(text, pos)
        m = min((x for x in (ms, mt) if x), key=lambda x: x.start(), default=None)
        if m is None:
            return out
        if m is ms:
            suite = m.group(1)
        elif suite is not None and m.group(2) != "SKIPPED":
            out["%s/%s" % (suite, m.group(1))] = m.group(2)
        pos = m.end()


# Criterion's runner binds /tmp/criterion_<pid>.sock; a stale socket of a
# killed runner of another user, with the same pid, makes it abort with this.
_SOCKET_CLASH = "Could not initialize the message server"


def run_criterion(box, argv, env, limits, keep=False):
    """box.run() of a Criterion binary, retried (twice) when the runner could
    not bind its socket: the retry runs under another pid."""
    for attempt in range(3):
        res = box.run(argv, env=env, limits=limits, keep=keep)
        if _SOCKET_CLASH not in res.output or attempt == 2:
            return res
        if res.workdir:
            shutil.rmtree(res.workdir, ignore_errors=True)
    return res


def run_runner(box, argv, env, limits):
    """Run a whole Criterion binary; ({suite/test: status}, result).

    The statuses come from Criterion's JSON report (PASSED, FAILED, ERRORED
    for a crash); when the run produced none (killed at the deadline, or
    the harness crashed) the dict is None."""
    res = run_criterion(box, list(argv) + ["--json=report.json"] + CRIT_ARGS, env, limits,
                        keep=True)
    statuses = None
    try:
        with open(os.path.join(res.workdir, "report.json"), encoding="utf-8",
                  errors="replace") as f:
            statuses = parse_json_report(f.read())
    except OSError:
        statuses = None
    finally:
        shutil.rmtree(res.workdir, ignore_errors=True)
    return statuses, res
