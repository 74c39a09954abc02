#!/usr/bin/env python3
"""parts_test.py — labs made of parts: the manifest, the kits and the
grader's tree of one part (kvlab.py "Parts", docs/grading.md).

What this is: the fast checks of the PART paths, written as if a student
(or a careless edit of the tools) had broken each one; no build, no grade
(`make grade-check` grades every part's starter and reference):

- `make PART=<p>` sees only the part's tests and conformance configurations
  (sprint 1: one exercise's suite; sprint 2: Bitcask's suites and its
  configurations, nothing of the hash table or shm), and an unknown part
  is an error, not "every test"; the part is not passed on to common/;
- the kit of one part (make_kit(part=...)) stubs that part, ships the parts
  it builds on solved and unfenced, and keeps every other part stubbed;
  with own_lower the lower parts are stubbed too; the part's reference
  solves the part and its lower parts only;
- the grader of one part fills the same lower parts into its tree
  (Grader.solved_parts()) and takes only the part's files from a
  submission (with own_lower, the lower parts' too);
- per-part grading settings replace the lab's; the part's mutants are those
  whose patch changes only its files; the part's starter Makefile passes
  PART on.
"""
import os
import shutil
import subprocess
import sys
import tempfile

from checklib import ROOT, TOOLS, check, finish
import check_fences
import kvlab
from grade_tests import part_mutants, read_mutants_full

S1, S2 = "sprint-1-c-core", "sprint-2-hash-storage"


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def manifests():
    m = kvlab.manifest(ROOT, S1, "padding")
    check(m["LAB_TESTS"] == "tests/test_padding.c" and not m["LAB_SCRIPT_TESTS"],
          "%s PART=padding: only tests/test_padding.c runs" % S1, m["LAB_TESTS"])
    m = kvlab.manifest(ROOT, S1, "dynarray")
    check(m["LAB_SCRIPT_TESTS"] == "tests/gdbinit_test.sh",
          "%s PART=dynarray: the gdb script is the dynarray part's" % S1)
    m = kvlab.manifest(ROOT, S2, "bitcask")
    tests = (m["LAB_TESTS"] + " " + m["LAB_PLAIN_TESTS"] + " " + m["LAB_SCRIPT_TESTS"]).split()
    check(tests and all(t.startswith("bitcask/") for t in tests)
          and "bitcask/tests/test_bitcask.c" in tests,
          "%s PART=bitcask: only bitcask/ tests run" % S2, tests)
    confs = m["LAB_CONF_CONFIGS"].split()
    check(confs and all(c.split(":")[0] == "bitcask" for c in confs),
          "%s PART=bitcask: only the bitcask conformance configurations" % S2, confs)
    m = kvlab.manifest(ROOT, S2, "shm")
    check("bitcask/tests/tsan_storage.sh" in m["LAB_SCRIPT_TESTS"].split()
          and "shm/tests/shm_tool.sh" in m["LAB_SCRIPT_TESTS"].split()
          and not any(c.startswith(("hash", "bitcask")) for c in m["LAB_CONF_CONFIGS"].split()),
          "%s PART=shm: its tests, the shm case of tsan_storage.sh, its configurations" % S2)
    full = kvlab.manifest(ROOT, S2)
    check(len(full["LAB_CONF_CONFIGS"].split()) > len(confs) + 2
          and "hashtable/tests/hash_tests.c" in full["LAB_TESTS"],
          "%s without PART: every test and configuration, as before" % S2)
    p = subprocess.run(["make", "-s", "-C", os.path.join(ROOT, S2), "-n", "test", "PART=btree"],
                       capture_output=True, text=True)
    check(p.returncode != 0 and "no such part" in p.stderr,
          "%s PART=btree (not a part): make fails naming the parts" % S2, p.stderr[-500:])
    env = dict(os.environ, PART="bitcask")  # as the grader runs every make
    p = subprocess.run(["make", "-s", "-n", "-C", os.path.join(ROOT, S2), "common-lib"],
                       capture_output=True, text=True, env=env)
    check(p.returncode == 0, "%s: PART in the environment is not passed on to common/" % S2,
          p.stderr[-500:])
    check(kvlab.lower_parts(full, "bitcask") == ["hashtable"]
          and kvlab.lower_parts(full, "shm") == [] and kvlab.lower_parts(full, "hashtable") == [],
          "%s: bitcask builds on hashtable; shm and hashtable on nothing" % S2)
    files = full["STUDENT_FILES"].split()
    # LAB_VM_FILES: student files whose tests run only in the kernel VM
    # (kernel/hash_device.c), in no host-graded part
    owned = [f for p in kvlab.parts(full) for f in kvlab.part_files(full, p)] \
        + full.get("LAB_VM_FILES", "").split()
    check(sorted(files) == sorted(owned) and len(set(owned)) == len(owned),
          "%s: every STUDENT_FILE belongs to exactly one part (or to LAB_VM_FILES)" % S2,
          "STUDENT_FILES: %s\nparts' and VM files: %s" % (sorted(files), sorted(owned)))
    s1 = kvlab.manifest(ROOT, S1)
    check(kvlab.parts(s1) == ["pointers", "dynarray", "padding", "vec128", "dispatch"]
          and sorted(s1["STUDENT_FILES"].split()) == sorted(
              f for p in kvlab.parts(s1) for f in kvlab.part_files(s1, p)),
          "%s: five parts, one file each" % S1)
    cfg = kvlab.grading_config(kvlab.manifest(ROOT, S2, "bitcask"), "bitcask")
    whole = kvlab.grading_config(full)
    check(cfg["GRADE_BENCH"] == "" and cfg["GRADE_MEMCHECK_TESTS"].startswith("bitcask/")
          and whole["GRADE_BENCH"].startswith("ht_grade_bench")
          and kvlab.grading_config(full, "hashtable")["GRADE_BENCH"] == whole["GRADE_BENCH"],
          "%s: PART_<p>_GRADE_* replace the lab's settings, for that part only" % S2)
    return full


def kits(full, tmp):
    ref = lambda rel: read(os.path.join(ROOT, S2, rel))
    bc = kvlab.part_files(full, "bitcask")
    ht = kvlab.part_files(full, "hashtable")
    other = kvlab.part_files(full, "shm") + kvlab.part_files(full, "simd")
    kit = kvlab.make_kit(ROOT, S2, os.path.join(tmp, "kit"), stub=True, part="bitcask")
    got = lambda k, rel: read(os.path.join(k, S2, rel))
    check(all(got(kit, r) == check_fences.stub_text(ref(r)) for r in bc + other),
          "bitcask kit: bitcask, shm and simd files are stubbed")
    check(all(got(kit, r) == check_fences.unfence_text(ref(r)) and got(kit, r) != ref(r)
              for r in ht),
          "bitcask kit: the hash table it builds on ships solved, without fences")
    kit2 = kvlab.make_kit(ROOT, S2, os.path.join(tmp, "kit2"), stub=True, part="bitcask",
                          own_lower=True)
    check(all(got(kit2, r) == check_fences.stub_text(ref(r)) for r in bc + ht),
          "bitcask kit with own_lower: the hash table is stubbed too")
    rk = kvlab.make_kit(ROOT, S2, os.path.join(tmp, "refkit"), part="bitcask")
    check(all(got(rk, r) == check_fences.unfence_text(ref(r)) for r in bc + ht)
          and all(got(rk, r) == check_fences.stub_text(ref(r)) for r in other),
          "bitcask reference kit: bitcask and the hash table solved, the others stubbed")
    check(not os.path.exists(os.path.join(kit, S2, "bitcask", "mutants")),
          "a part's kit holds no mutants/")
    return bc, ht


def grader(full, bc, ht, tmp):
    os.environ["GRADE_ALLOW_UNISOLATED"] = "1"
    from grade import Grader
    sub = os.path.join(tmp, "sub")
    for rel in bc + ht:
        os.makedirs(os.path.dirname(os.path.join(sub, rel)), exist_ok=True)
        with open(os.path.join(sub, rel), "w") as f:
            f.write("/* the student's %s */\n" % rel)
    for own in (False, True):
        work = tempfile.mkdtemp(dir=tmp)
        g = Grader(ROOT, S2, work, 1, True, part="bitcask", own_lower=own)
        tree = kvlab.make_kit(ROOT, S2, os.path.join(work, "tree"), stub=True)
        notes = g.solved_parts(tree) + g.place(tree, sub)
        got = lambda rel: read(os.path.join(tree, S2, rel))
        mine = lambda rel: got(rel).startswith("/* the student's")
        ref = lambda rel: read(os.path.join(ROOT, S2, rel))
        check(all(mine(r) for r in bc), "grader of bitcask%s: bitcask files from the submission"
              % (" (own_lower)" if own else ""))
        if own:
            check(all(mine(r) for r in ht),
                  "grader of bitcask (own_lower): the hash table from the submission too")
        else:
            check(all(got(r) == check_fences.unfence_text(ref(r)) for r in ht),
                  "grader of bitcask: the hash table solved, the submission's ignored", notes)
        check(g.env.get("PART") == "bitcask" and g.cfg["GRADE_BENCH"] == "",
              "grader of bitcask%s: builds with PART=bitcask and the part's settings"
              % (" (own_lower)" if own else ""))
    try:
        Grader(ROOT, S2, tempfile.mkdtemp(dir=tmp), 1, True, part="btree")
        check(False, "grader of an unknown part refuses")
    except ValueError:
        check(True, "grader of an unknown part refuses")


def mutants_and_starter(full, tmp):
    ms = part_mutants(read_mutants_full(os.path.join(ROOT, S2)), full, "bitcask")
    names = [m[0][:2] for m in ms]
    check(names and all(n in ("21", "22", "23", "24", "25", "26", "27", "28", "29", "38", "41")
                        for n in names) and len(names) == 11,
          "%s: the bitcask part's mutants are 21-29, 38, 41" % S2, names)
    every = sum(len(part_mutants(read_mutants_full(os.path.join(ROOT, S2)), full, p))
                for p in kvlab.parts(full))
    check(every == len(read_mutants_full(os.path.join(ROOT, S2))),
          "%s: every mutant belongs to one part" % S2)
    out = os.path.join(tmp, "starter")
    p = subprocess.run([sys.executable, os.path.join(TOOLS, "starter.py"), "--out", out,
                        "--part", "padding", S1], capture_output=True, text=True)
    kit = os.path.join(out, "kvlabs-%s-padding" % S1)
    mk = read(os.path.join(kit, "Makefile")) if p.returncode == 0 else ""
    check("PART := padding" in mk and "PART=$(PART)" in mk,
          "starter --part padding: the kit's Makefile runs that part's tests", p.stdout + p.stderr)
    check(p.returncode == 0 and read(os.path.join(kit, S1, "pointers.c")) ==
          check_fences.stub_text(read(os.path.join(ROOT, S1, "pointers.c"))),
          "starter --part padding: another exercise (pointers.c) stays stubbed")


def main():
    with tempfile.TemporaryDirectory(prefix="kvlabs-parts-test-") as tmp:
        full = manifests()
        bc, ht = kits(full, tmp)
        grader(full, bc, ht, tmp)
        mutants_and_starter(full, tmp)
    finish()


if __name__ == "__main__":
    main()
