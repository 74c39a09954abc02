"""perf.py — the performance score: instructions counted by callgrind,
compared with the reference's, on a curve with a cap.

What this is
------------
A lab's manifest names a benchmark (GRADE_BENCH: one of its programs and
its arguments, a small deterministic workload) and the points it is worth
(GRADE_BENCH_WEIGHT). The grader runs that program, built from the
submission in the release variant (-O2), under

    valgrind --tool=callgrind --callgrind-out-file=/dev/null PROGRAM ARGS

and reads the total number of instructions executed ("Collected : N").
Instruction counts are deterministic: the same binary on the same input
executes the same instructions whatever the machine's load, so the score
cannot flake the way a timing does on a shared grading machine. The
reference solution's count is measured the same way (and cached).

The score, like the CS:APP malloc lab's performance index, is a capped
ratio: with r = submission instructions / reference instructions,

    fraction = 1                                  if r <= FULL  (1.25 = 1/0.8)
             = (ZERO - r) / (ZERO - FULL)         if FULL < r < ZERO
             = 0                                  if r >= ZERO  (3.0)

and the item scores GRADE_BENCH_WEIGHT x fraction. Being faster than the
reference earns nothing more (the cap): the item rewards avoiding
needless work (a quadratic growth policy, a thrashing shrink, repeated
scans), not micro-tuning. FULL and ZERO are GRADE_BENCH_FULL and
GRADE_BENCH_ZERO in lab.mk. A benchmark that fails (non-zero exit), is
killed, or prints anything but what the reference printed scores 0: speed
counts only for correct code.

Interface
---------
    m = measure(box, argv, env, limits)    {"ok", "instructions", "output", "reason", "elapsed"}
    fraction(sub, ref, full, zero)         the curve above
"""
import os
import re
import shutil

COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def callgrind_argv(argv):
    return ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
            "--log-file=callgrind.log"] + list(argv)


def measure(box, argv, env, limits):
    """Run argv under callgrind in the sandbox; return what it measured."""
    res = box.run(callgrind_argv(argv), env=env, limits=limits, keep=True)
    out = {"ok": False, "instructions": None, "output": res.output.strip(), "reason": "",
           "elapsed": round(res.elapsed, 3)}
    try:
        with open(os.path.join(res.workdir, "callgrind.log"), errors="replace") as f:
            log = f.read()
    except OSError:
        log = ""
    finally:
        shutil.rmtree(res.workdir, ignore_errors=True)
    m = COLLECTED.search(log)
    if res.timed_out:
        out["reason"] = "the benchmark timed out after %.0f s under callgrind" % res.elapsed
    elif res.rc != 0:
        out["reason"] = "the benchmark failed (%s): %s" % (res.describe(), out["output"][-2000:])
    elif not m:
        out["reason"] = "callgrind reported no instruction count:\n" + log[-2000:]
    else:
        out["ok"] = True
        out["instructions"] = int(m.group(1))
    return out


def fraction(sub, ref, full=1.25, zero=3.0):
    """The fraction of the performance points for sub instructions against ref."""
    if not sub or not ref:
        return 0.0
    r = sub / ref
    if r <= full:
        return 1.0
    if r >= zero:
        return 0.0
    return (zero - r) / (zero - full)
