#!/usr/bin/env python3
"""script_cases_test.py — script tests graded case by case (ctests.py).

What this is: the protocol of GRADE_SCRIPT_CASES (docs/grading.md), on
scripts written here in a temporary lab folder, without building or
grading anything:

- discovery: a listed script's `--list` names its sub-cases, each a case
  `SCRIPT/<sub>` sharing one run (Case.run_key); a listed script that lists
  nothing, and a script that is not listed, stay one case; a case survives
  the reference cache (to_json / from_json);
- judging one run: each sub-case by its own last `CASE <sub>:` line at the
  start of a line (PASS passes; FAIL, a missing line, a line not at the
  start of a line, a timeout or a sanitizer report fails), whatever the
  exit status and summary line; a plain script is still judged by its
  summary;
- sprint 2's qemu and TSan scripts list the sub-cases its lab.mk scores;
- the kernel VM test (LAB_VM_TESTS, scripts/ktest/cases.py) on recorded
  serial logs, no VM: the reference's run (fixtures/ktest/reference.log)
  gives one case per line, the ioctl program's two runs named apart, the
  interleaved conformance lines and the first line glued to firmware codes
  found; a run that oopsed (oops.log) keeps the cases before the oops and
  fails every later one "not reached" with the reason; discovery takes
  the VM cases from the grader's vm_cases() and never boots without it.
"""
import os
import re
import subprocess
import sys
import tempfile

from checklib import ROOT, check, finish
import ctests
import kvlab


class Res:
    """A stand-in for sandbox.Result."""

    def __init__(self, output, rc=1, timed_out=False):
        self.output, self.rc, self.timed_out, self.error, self.elapsed = output, rc, timed_out, \
            None, 1.0

    def describe(self):
        return "timed out" if self.timed_out else "exit %d" % self.rc


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True).stdout


def main():
    with tempfile.TemporaryDirectory(prefix="kvlabs-script-cases-") as lab:
        os.mkdir(os.path.join(lab, "tests"))
        scripts = {
            "multi.sh": 'if [ "$1" = --list ]; then echo "CASE a/x"; echo "CASE b"; exit 0; fi\n',
            "quiet.sh": 'if [ "$1" = --list ]; then exit 0; fi\n',
            "plain.sh": 'echo "1 passed, 0 failed"\n',
        }
        for name, body in scripts.items():
            with open(os.path.join(lab, "tests", name), "w") as f:
                f.write(body)
        mani = {"LAB_SCRIPT_TESTS": "tests/multi.sh tests/quiet.sh tests/plain.sh",
                "GRADE_SCRIPT_CASES": "multi.sh quiet.sh"}
        cases = ctests.discover(mani, "/nonexistent", run, lab)
        names = [c.name for c in cases]
        check(names == ["multi.sh/a/x", "multi.sh/b", "quiet.sh", "plain.sh"],
              "discovery: a listed script's sub-cases, the others one case each", names)
        multi = [c for c in cases if c.name.startswith("multi.sh/")]
        check(multi[0].run_key() == multi[1].run_key() is not None
              and cases[2].run_key() is None and cases[3].run_key() is None,
              "the sub-cases of a script share one run; other cases do not")
        back = ctests.from_json(ctests.to_json(cases))
        check([(c.name, c.sub, c.run_key()) for c in back] ==
              [(c.name, c.sub, c.run_key()) for c in cases], "cases survive the reference cache")
        check(ctests.discover(mani, "/nonexistent", run)[0].name == "multi.sh",
              "without the lab folder a script is one case")

        a, b = multi
        out = "noise\nCASE a/x: FAIL\nCASE a/x: PASS\n  CASE b: PASS\n3 passed, 1 failed\n"
        check(ctests.judge_case(a, Res(out))[0], "the last CASE line counts, exit status 1 or not")
        ok, why = ctests.judge_case(b, Res(out))
        check(not ok and "no 'CASE b" in why, "a CASE line not at the start of a line is no line",
              why)
        ok, why = ctests.judge_case(b, Res("CASE b: FAIL\n", rc=0))
        check(not ok and "FAIL" in why, "FAIL fails, even with exit status 0", why)
        ok, why = ctests.judge_case(a, Res("CASE a/x: PASS\n", timed_out=True))
        check(not ok and "timed out" in why, "a timeout fails every sub-case", why)
        ok, why = ctests.judge_case(a, Res("CASE a/x: PASS\n==1==ERROR: AddressSanitizer: x\n"))
        check(not ok and "AddressSanitizer" in why, "a sanitizer report fails them", why)
        check(ctests.judge_case(a, Res("CASE a/xy: PASS\n"))[0] is False,
              "a sub-case is not matched by a longer name")
        check(ctests.judge_case(cases[3], Res("1 passed, 0 failed\n", rc=0))[0]
              and not ctests.judge_case(cases[3], Res("CASE plain.sh: PASS\n", rc=0))[0],
              "a plain script is judged by its summary line, as before")

    s2 = "sprint-2-hash-storage"
    mani = kvlab.manifest(ROOT, s2)
    mani = dict(mani, LAB_TESTS="", LAB_CONF_CONFIGS="", LAB_PLAIN_TESTS="")
    subs = {}
    for c in ctests.discover(mani, "/nonexistent", run, os.path.join(ROOT, s2)):
        subs.setdefault(c.script, []).append(c.name)
    cfg = kvlab.grading_config(kvlab.manifest(ROOT, s2))
    qemu = subs.get("simd/tests/qemu_simd.sh", [])
    check(len(qemu) == 29 and "qemu_simd.sh/x86_64-sse42/crc32c" in qemu
          and "qemu_simd.sh/x86_64-sse2/crc32c" not in qemu,
          "%s: qemu_simd.sh lists one case per CPU run and function (%d)" % (s2, len(qemu)))
    group = subs.get("hashtable/tests/swiss_group_qemu.sh", [])
    zero = [n for n in group if kvlab.points_for(n, cfg["GRADE_POINTS"]) == 0]
    check(len(group) >= 10 and zero and all(n.endswith("/group_match") for n in zero),
          "%s: swiss_group_qemu.sh lists its paths and tables; the given group match is worth 0"
          % s2, group)
    check(subs.get("bitcask/tests/tsan_storage.sh") == ["tsan_storage.sh/bitcask", "tsan_storage.sh/shm"],
          "%s: tsan_storage.sh lists one case per store" % s2)
    vm_cases(s2)
    finish()


def vm_cases(s2):
    """The kernel VM test's cases, from recorded serial logs (no VM)."""
    fix = os.path.join(ROOT, "tools", "tests", "fixtures", "ktest")
    parser = os.path.join(ROOT, "scripts", "ktest", "cases.py")
    ref = subprocess.run([sys.executable, parser, "--parse", os.path.join(fix, "reference.log")],
                         capture_output=True, text=True)
    lines = re.findall(r"^CASE (\S+): (PASS|FAIL)$", ref.stdout, re.M)
    names = [n for n, _r in lines]
    check(ref.returncode == 0 and len(lines) == 83 and all(r == "PASS" for _n, r in lines)
          and len(set(names)) == len(names) and "83 passed, 0 failed" in ref.stdout,
          "VM log of the reference: 83 cases, distinct, every one passing (as the VM said)",
          ref.stdout[-2000:])
    check("kvhash/load1/insmod" in names and "kernel/dmesg_clean" in names
          and "kvhash/ioctl/ioctl/roundtrip" in names
          and "kvhash/ioctl_shared/ioctl/roundtrip" in names
          and "kvhash/conformance/conf_basic/engine_names_lists_engine" in names,
          "VM log: the glued first line, both ioctl runs named apart, an interleaved "
          "conformance line", names)
    oops = subprocess.run([sys.executable, parser, "--parse", os.path.join(fix, "oops.log")],
                          capture_output=True, text=True)
    check(oops.returncode != 0 and "CASE kvhash/ioctl/bad/key_pointer_efault: PASS" in oops.stdout
          and "CASE-ABORT: the kernel crashed" in oops.stdout
          and "RIP: 0010:kvhash_ioctl" in oops.stdout and "CASE kernel/" not in oops.stdout,
          "VM log with an oops: the cases before it kept, the crash and its RIP reported",
          oops.stdout[-2000:])
    with open(os.path.join(fix, "oops.log"), encoding="utf-8", errors="replace") as f:
        head = "".join(f.readlines()[:20])
    with tempfile.NamedTemporaryFile("w", suffix=".log") as f:
        f.write(head + "[  245.1] INFO: task ktest_kvhash:97 blocked for more than 120 seconds.\n")
        f.flush()
        hang = subprocess.run([sys.executable, parser, "--parse", f.name],
                              capture_output=True, text=True).stdout
    check("CASE-ABORT: the VM hung" in hang and "CASE kvhash/ioctl/ioctl/roundtrip: PASS" in hang,
          "VM log of a hang (a task blocked: a lock never released): reported as a hang",
          hang[-1500:])
    case = lambda sub: ctests.Case("ktest.sh/" + sub, "script", None,
                                   script="kernel/tests/ktest.sh", sub=sub)
    ok, why = ctests.judge_case(case("kvhash/ioctl/state/per_fd_tables"), Res(oops.stdout))
    check(not ok and why.startswith("not reached: the kernel crashed"),
          "a case after the oops scores 0, 'not reached' with the reason", why)
    check(ctests.judge_case(case("kvhash/ioctl/bad/key_pointer_efault"), Res(oops.stdout))[0],
          "a case before the oops keeps its pass")
    ok, why = ctests.judge_case(case("kvhash/load1/insmod"),
                                Res("CASE-ABORT: the module did not build\n"))
    check(not ok and "not reached: the module did not build" in why,
          "a module that does not build: every case 'not reached' with that reason", why)
    mani = dict(kvlab.manifest(ROOT, s2, "kernel"))
    asked = []
    got = ctests.discover(mani, "/nonexistent", run, os.path.join(ROOT, s2),
                          lambda sc: asked.append(sc) or ["kvhash/load1/insmod", "kernel/x"])
    check(asked == ["kernel/tests/ktest.sh"] and [c.name for c in got] ==
          ["ktest.sh/kvhash/load1/insmod", "ktest.sh/kernel/x"]
          and got[0].run_key() == got[1].run_key() is not None,
          "discovery: the VM cases come from vm_cases(), sharing one run",
          [c.name for c in got])
    got = ctests.discover(mani, "/nonexistent", run, os.path.join(ROOT, s2))
    check([c.name for c in got] == ["ktest.sh"],
          "discovery without vm_cases: the VM test is one case, nothing boots")
    cfg = kvlab.grading_config(mani, "kernel")
    zero = [n for n in names if kvlab.points_for("ktest.sh/" + n, cfg["GRADE_POINTS"]) == 0]
    check("kvhash/load1/insmod" in zero and "kernel/dmesg_clean" in zero
          and "kvhash/ioctl/ioctl/roundtrip" not in zero and len(zero) < len(names) // 3,
          "kernel part: the given code's cases (loading, taint, dmesg) are worth 0, the "
          "ioctl cases 1", zero)


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    main()
