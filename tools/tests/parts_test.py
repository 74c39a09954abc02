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
    owned = [f for p in kvlab.parts(full) for f in kvlab.part_files(full, p)]
    check(sorted(files) == sorted(owned) and len(set(owned)) == len(owned),
          "%s: every STUDENT_FILE belongs to exactly one part" % S2,
          "STUDENT_FILES: %s\nparts' files: %s" % (sorted(files), sorted(owned)))
    vm_part(full)
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


def vm_part(full):
    """The kernel part: its tests are the VM test alone, which no other part
    and no host `make test` runs; it builds on the hash table."""
    k = kvlab.manifest(ROOT, S2, "kernel")
    host = [k[v] for v in ("LAB_TESTS", "LAB_PLAIN_TESTS", "LAB_SCRIPT_TESTS",
                           "LAB_CONF_CONFIGS") if k[v]]
    check(k["LAB_VM_TESTS"] == "kernel/tests/ktest.sh" and not host,
          "%s PART=kernel: the VM test alone, no host test, no conformance configuration" % S2,
          "%s / %s" % (k["LAB_VM_TESTS"], host))
    check(kvlab.parts(full)[-1] == "kernel"
          and kvlab.part_files(full, "kernel") == ["kernel/hash_device.c"]
          and kvlab.lower_parts(full, "kernel") == ["hashtable"],
          "%s: kernel is the last part, kernel/hash_device.c its file, on the hash table" % S2)
    others = [kvlab.manifest(ROOT, S2, p)["LAB_VM_TESTS"] for p in kvlab.parts(full)
              if p != "kernel"]
    check(not any(others), "%s: no other part runs the VM test" % S2, others)
    # the host `make test` (no PART) and the other parts never boot the VM
    p = subprocess.run(["make", "-s", "-n", "-C", os.path.join(ROOT, S2), "test"],
                       capture_output=True, text=True)
    q = subprocess.run(["make", "-s", "-n", "-C", os.path.join(ROOT, S2), "test", "PART=kernel"],
                       capture_output=True, text=True)
    check(p.returncode == 0 and "ktest" not in p.stdout and "run.sh" not in p.stdout
          and q.returncode == 0 and "ktest" in q.stdout,
          "%s: make test never boots the VM; make test PART=kernel runs make ktest" % S2,
          p.stderr[-300:] + q.stderr[-300:])
    cfg = kvlab.grading_config(k, "kernel")
    check(cfg["GRADE_MEMCHECK_POINTS"] == "0" and cfg["GRADE_BENCH"] == ""
          and float(cfg["GRADE_SCRIPT_TIMEOUT"]) >= 600,
          "%s PART=kernel: no memcheck, no performance item, a long script timeout" % S2, cfg)
    from grade_tests import TestGrader
    try:
        TestGrader(ROOT, S2, tempfile.mkdtemp(), 1, "debug", None, allow_unisolated=True,
                   part="kernel")
        check(False, "grade-tests PART=kernel is refused with a reason")
    except ValueError as e:
        check("kernel VM" in str(e) and "vm-mutants" in str(e),
              "grade-tests PART=kernel is refused with a reason", str(e))


def vm_kit(full, tmp):
    """The kernel part's starter kit: the device stubbed (its ioctls answer
    -ENOSYS), the hash table solved, the Makefile forwarding ktest."""
    out = os.path.join(tmp, "vmstarter")
    p = subprocess.run([sys.executable, os.path.join(TOOLS, "starter.py"), "--out", out,
                        "--part", "kernel", S2], capture_output=True, text=True)
    kit = os.path.join(out, "kvlabs-%s-kernel" % S2)
    ok = p.returncode == 0
    dev = read(os.path.join(kit, S2, "kernel", "hash_device.c")) if ok else ""
    ref = read(os.path.join(ROOT, S2, "kernel", "hash_device.c"))
    check(ok and dev == check_fences.stub_text(ref) and dev.count("return -ENOSYS;") >= 4,
          "kernel kit: hash_device.c stubbed, its ioctls answer -ENOSYS", p.stderr[-500:])
    check(ok and all(read(os.path.join(kit, S2, r)) == check_fences.unfence_text(
        read(os.path.join(ROOT, S2, r))) for r in kvlab.part_files(full, "hashtable")),
        "kernel kit: the hash table it builds on ships solved")
    mk = read(os.path.join(kit, "Makefile")) if ok else ""
    rule = [ln for ln in mk.split("\n") if ln.startswith("test all")]
    check("PART := kernel" in mk and rule and " ktest " in rule[0],
          "kernel kit: its Makefile forwards ktest (and test, which boots the VM)", mk)
    have = lambda *rel: os.path.exists(os.path.join(kit, *rel))
    check(ok and have("scripts", "ktest", "run.sh") and have("scripts", "ktest", "cases.py")
          and have(S2, "kernel", "tests", "ktest.sh") and not have(S2, "kernel", "vm-mutants"),
          "kernel kit: the VM harness and test ship, the VM mutants do not")
    readme = read(os.path.join(kit, "README.md")) if ok else ""
    check("kernel VM" in readme and "performance item" not in readme,
          "kernel kit: its README says the part runs in the VM, and has no performance item")


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
    whole = Grader(ROOT, S2, tempfile.mkdtemp(dir=tmp), 1, True)
    kern = Grader(ROOT, S2, tempfile.mkdtemp(dir=tmp), 1, True, part="kernel")
    check(not whole.vm and whole.vm_note and kern.vm and not kern.vm_note
          and kern.env.get("KTEST_KVER") and kern.env["KTEST_CACHE"].startswith(kern.boxdir)
          and kern.files == ["kernel/hash_device.c"],
          "grader: the whole lab's grade leaves the VM test out and says so; PART=kernel runs "
          "it, with the image in the sandbox's tree, on the submission's hash_device.c",
          "%s %s %s" % (whole.vm, kern.vm, kern.env))
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
        vm_kit(full, tmp)
    finish()


if __name__ == "__main__":
    main()
