#!/usr/bin/env python3
"""cases.py - a lab's kernel VM test, graded case by case.

What this is
------------
The grader's view of `make ktest` (docs/grading.md, "Parts tested in the
VM"). A lab's LAB_VM_TESTS script (sprint 2: kernel/tests/ktest.sh, three
lines that exec this file) runs in the grader's sandbox like any script
test, and this file:

  1. builds the lab's stage (`make ktest-stage`, the lab's kernel/ktest.mk:
     the module through Kbuild against the installed headers, the static
     ioctl tests, the conformance suite on the Criterion shim) into
     $BUILD/ktest/grade-stage;
  2. boots it once (scripts/ktest/run.sh; the kernel image must already be
     in KTEST_CACHE: inside the sandbox there is no network, so the grader
     fetches it beforehand, and KTEST_KVER names its version because
     dpkg's database is not visible there);
  3. reads the serial log and prints one line `CASE <name>: PASS|FAIL` per
     case it finds, then `N passed, N failed`.

Case names. The log holds three kinds of lines: `ok   <step>/<name>` and
`FAIL <step>/<name>: why` from the step script's checks (lib.sh's check,
and init.sh's kernel/taint_only_O_E, kernel/dmesg_clean); the same lines
without the step from a test program (ktest_kvhash), and `[PASS] suite/test`
or `[FAIL] suite/test: why` from the conformance shim. A program runs
between lib.sh's `KTEST BEGIN <step>/<run>` and `KTEST END <step>/<run>`
marks, and its lines are named `<step>/<run>/<its name>`, so the same
program run twice (kvhash/ioctl, kvhash/ioctl_shared) gives distinct
cases. Lines are searched anywhere on a serial line, not only at its start:
the conformance suite runs two jobs whose lines interleave, and the first
line comes glued to the firmware's escape codes.

A run that ends early. When the log has no `KTEST RESULT` line (an oops
panics the VM: oops=panic; a hang reaches run.sh's timeout; the module did
not build) this prints `CASE-ABORT: <reason>` (tools/ctests.py scores every
case without a CASE line 0 "not reached: <reason>") with the log's telling
lines (Oops, BUG, RIP, the compiler's errors). The cases printed before the
end keep their result.

Usage:
    cases.py                 run (environment: LAB_DIR, KVLABS_ROOT, BIN_DIR,
                             VARIANT as script tests get them; KTEST_CACHE,
                             KTEST_KVER, KTEST_TIMEOUT optional)
    cases.py --parse LOG     print the cases of a recorded serial log (the
                             tools' tests use it: no VM, no build)
    cases.py --list          lists nothing: the grader takes the case list
                             from the reference's own VM run (grade.py)

What callers must not do: run it outside a sandbox on an untrusted tree
(it runs make there), or take its exit status as the grade (each CASE line
is judged alone).
"""
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BEGIN = re.compile(r"KTEST BEGIN (\S+)")
END = re.compile(r"KTEST END (\S+)")
OK = re.compile(r"(?:^|[^A-Za-z0-9_])ok   (\S+)")
FAIL = re.compile(r"(?:^|[^A-Za-z0-9_\[])FAIL (\S+?):?(?:\s|$)")
CR = re.compile(r"\[(PASS|FAIL)\] (\S+?):?(?:\s|$)")
RESULT = re.compile(r"KTEST RESULT: (\d+) passed, (\d+) failed")
TELLING = re.compile(r"Oops|BUG|RIP:|Kernel panic|Call Trace|soft lockup|hung_task|"
                     r"WARNING|general protection|error:")


def parse(text):
    """(cases, finished): cases is [(name, passed)] in log order, the last
    result of a name winning; finished is whether the VM printed its
    closing KTEST RESULT line."""
    results, order, block = {}, [], None

    def put(name, ok):
        if name not in results:
            order.append(name)
        results[name] = ok

    for line in text.replace("\r", "").split("\n"):
        m = BEGIN.search(line)
        if m:
            block = m.group(1)
            continue
        if END.search(line):
            block = None
            continue
        prefix = block + "/" if block else ""
        for m in CR.finditer(line):
            put(prefix + m.group(2), m.group(1) == "PASS")
        for m in OK.finditer(line):
            put(prefix + m.group(1), True)
        for m in FAIL.finditer(line):
            put(prefix + m.group(1), False)
    return [(n, results[n]) for n in order], bool(RESULT.search(text))


def abort_reason(text, hung=False):
    """Why a VM run printed no result line, from its serial log and whether
    it lasted until run.sh's timeout (run.sh's own exit status does not
    say: the timeout's status is lost in its pipe)."""
    if re.search(r"Kernel panic|Oops|BUG:|general protection", text):
        return "the kernel crashed (oops or panic: oops=panic ends the VM)"
    if hung or re.search(r"soft lockup|hung_task|blocked for more than", text):
        return "the VM hung (a lock never released?) until its timeout (KTEST_TIMEOUT, %s s)" \
            % os.environ.get("KTEST_TIMEOUT", "300")
    return "the VM stopped before the end of the tests"


def emit(cases, finished, reason, text):
    passed = sum(1 for _n, ok in cases if ok)
    for name, ok in cases:
        print("CASE %s: %s" % (name, "PASS" if ok else "FAIL"))
    if not finished:
        print("CASE-ABORT: %s; the cases not reached score 0" % reason)
        tell = [ln for ln in text.replace("\r", "").split("\n") if TELLING.search(ln)]
        if tell:
            print("telling lines of the log:\n" + "\n".join(tell[:30]))
    print("%d passed, %d failed" % (passed, len(cases) - passed + (0 if finished else 1)))
    return 0 if finished and passed == len(cases) else 1


def run():
    lab = os.environ["LAB_DIR"]
    root = os.environ.get("KVLABS_ROOT") or os.path.dirname(lab)
    bindir = os.environ["BIN_DIR"]
    build = os.path.normpath(os.path.join(bindir, "..", "..", ".."))
    variant = os.environ.get("VARIANT", "asan")
    cache = os.environ.get("KTEST_CACHE") or os.path.join(build, "cache", "ktest")
    stage = os.path.join(build, "ktest", "grade-stage")
    subprocess.run(["rm", "-rf", stage, stage + ".log", stage + ".vm"])
    mk = subprocess.run(["make", "--no-print-directory", "-C", lab, "ktest-stage",
                         "KTEST_STAGE=" + stage, "BUILD=" + build, "KVLABS_ROOT=" + root,
                         "VARIANT=" + variant], stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, text=True, errors="replace")
    if mk.returncode != 0:
        out = mk.stdout[-12000:]
        print(out)
        return emit([], False, "the module or its VM test programs did not build "
                    "(make ktest-stage: the compiler's output is above)", out)
    t0 = time.monotonic()
    vm = subprocess.run(["sh", os.path.join(HERE, "run.sh"), stage, cache],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                        errors="replace")
    hung = time.monotonic() - t0 >= float(os.environ.get("KTEST_TIMEOUT") or 300) - 2
    try:
        with open(stage + ".log", encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        text = ""
    cases, finished = parse(text)
    if not finished:
        print(vm.stdout[-4000:])
    return emit(cases, finished, abort_reason(text, hung), text)


def main(argv):
    if argv[1:2] == ["--list"]:
        return 0
    if argv[1:2] == ["--parse"]:
        with open(argv[2], encoding="utf-8", errors="replace") as f:
            text = f.read()
        cases, finished = parse(text)
        return emit(cases, finished, abort_reason(text), text)
    return run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
