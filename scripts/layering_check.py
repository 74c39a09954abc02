#!/usr/bin/env python3
"""layering_check.py - calls go only downward (issue 12, DESIGN.md section 1).

What it is: the check `make test` runs (through tools/tests/layering_test.sh)
that fails when a library file calls a function defined

  * in a LATER lab (the labs' order is the top-level Makefile's LABS list:
    common first, bench last), or
  * in a HIGHER part of its lab, or a higher (or the same) layer of its part,
    as the lab declares them, lowest first, or
  * in a file that calls it back (any cycle of two or more files, declared or
    not), or

when a lab's Makefile or lab.mk names a later lab's folder (the way common/
once embedded common/schema/results.schema.json), or when the Python modules of one
folder import each other in a cycle (tools/check_fences.py <-> kvlab.py).

How it works: it reads `nm -A -P -g` of every lab's library archive
(build/<variant>/lib/lib<lab>.a). Archive members are object BASENAMES
(shm_engine.o), so the check does not care in which folder of its lab a
source file lives: moving sprint 2's files into part folders changes
nothing here. A member's undefined symbol is matched with the member that
defines it; that gives a file-level call graph, on which the three rules
above are checked. Tests and programs are not in the libraries, so they may
call anything; only the libraries are layered.

The declaration (in the lab's lab.mk, or in a layers.mk beside it, read as
plain `NAME := words` lines with backslash continuations):

    LAYER_PARTS       := hashtable simd bitcask shm      # lowest part first
    LAYERS_<part>   := a.c b.c,c.c d.c                 # lowest layer first

A layer is one file, or several separated by commas: files of one layer are
siblings and may not call each other. Once a lab declares LAYER_PARTS, every
file of its library must be in exactly one layer (so a new file cannot slip
past the check undeclared). A lab without LAYER_PARTS is checked for cycles and
lab order only.

Known exceptions: --known LAB:CALLER.c>CALLEE.c skips one call edge (a
cycle left for the lab's owner); the wrapper that passes it says why.

What callers must not do: run it before the libraries are built (a missing
archive is reported and skipped, it is not a pass for that lab: the wrapper
builds them first), or key a declaration on paths (basenames only).

Exit status: 0 clean, 1 violations found (each printed on one line), 2 a
usage or setup error. Output ends with "N passed, N failed" (one check per
lab and per Python folder) for scripts/run-test.sh.
"""
import argparse
import ast
import os
import re
import subprocess
import sys


def read_make_vars(path):
    """NAME := value lines of a makefile (continuations joined, comments cut)."""
    out = {}
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"\\\n", " ", text)
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        m = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*[:+]?=\s*(.*)$", line)
        if m:
            name, val = m.group(1), m.group(2).strip()
            if re.match(r"\s*[A-Za-z_][A-Za-z0-9_]*\s*\+=", line):
                out[name] = (out.get(name, "") + " " + val).strip()
            else:
                out[name] = val
    return out


def labs_from_makefile(root):
    """The LABS list of the top-level Makefile, in order."""
    v = read_make_vars(os.path.join(root, "Makefile"))
    labs = v.get("LABS", "").split()
    if not labs:
        sys.exit("layering_check: no LABS in %s/Makefile" % root)
    return labs


def archive_of(lib_dir, lab):
    return os.path.join(lib_dir, "libkvlabs-common.a" if lab == "common" else "lib%s.a" % lab)


def nm_archive(archive):
    """{member: (defined set, undefined set)} of one archive's global symbols."""
    res = subprocess.run(["nm", "-A", "-P", "-g", archive], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError("nm %s: %s" % (archive, res.stderr.strip()))
    members = {}
    for line in res.stdout.splitlines():
        # portable format with -A on an archive: "lib.a[member.o]: sym T addr size"
        m = re.match(r"^.*\[([^\]]+)\]:\s+(\S+)\s+(\S)", line)
        if not m:
            continue
        member, sym, kind = m.group(1), m.group(2), m.group(3)
        d, u = members.setdefault(member, (set(), set()))
        if kind == "U":
            u.add(sym)
        elif kind in "TDBRCWVGSi":
            d.add(sym)
    return members


def src_name(member):
    return member[:-2] + ".c" if member.endswith(".o") else member


def read_layers(lab_dir):
    """(parts in order, {file: (part index, layer index)}, problems)."""
    v = read_make_vars(os.path.join(lab_dir, "lab.mk"))
    v.update(read_make_vars(os.path.join(lab_dir, "layers.mk")))
    parts = v.get("LAYER_PARTS", "").split()
    where, problems = {}, []
    for pi, part in enumerate(parts):
        layers = v.get("LAYERS_" + part, "").split()
        if not layers:
            problems.append("part %s declares no LAYERS_%s" % (part, part))
        for li, layer in enumerate(layers):
            for f in layer.split(","):
                if not f:
                    continue
                if f in where:
                    problems.append("%s is declared in two layers" % f)
                where[f] = (pi, li)
    return parts, where, problems


def sccs(graph):
    """Strongly connected components of {node: set(nodes)} (iterative Tarjan)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    advanced = True
                    break
                if nxt in on:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def check_libs(labs, lib_dir, root, known=()):
    """Violations per lab: {lab: [messages]} plus a list of labs skipped."""
    defs, members_of, skipped, warnings = {}, {}, [], []
    for rank, (lab, lab_dir) in enumerate(labs):
        a = archive_of(lib_dir, lab)
        if not os.path.exists(a):
            skipped.append(lab)
            continue
        members = nm_archive(a)
        members_of[lab] = members
        for member, (d, _) in members.items():
            for sym in d:
                defs.setdefault(sym, (rank, lab, member))
    rank_of = {lab: i for i, (lab, _) in enumerate(labs)}
    found = {}
    for lab, lab_dir in labs:
        msgs = found.setdefault(lab, [])
        # a later lab's folder named in this lab's build files
        for mk in ("Makefile", "lab.mk"):
            p = os.path.join(lab_dir, mk)
            if not os.path.exists(p):
                continue
            with open(p, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    code = line.split("#", 1)[0]
                    for later, _ in labs[rank_of[lab] + 1:]:
                        if re.search(r"(\$\((KVLABS_)?ROOT\)|\.\.)/%s\b" % re.escape(later), code):
                            msgs.append("%s/%s:%d names the later lab %s/" % (lab, mk, n, later))
        if lab not in members_of:
            continue
        parts, where, problems = read_layers(lab_dir)
        msgs.extend("%s: %s" % (lab, p) for p in problems)
        graph = {}
        for member, (_, undef) in sorted(members_of[lab].items()):
            me = src_name(member)
            if parts and me not in where:
                warnings.append("%s: %s is in no layer of LAYER_PARTS (declare it: until then only "
                                "cycles and lab order are checked for it)" % (lab, me))
            for sym in sorted(undef):
                if sym not in defs:
                    continue
                drank, dlab, dmember = defs[sym]
                callee = src_name(dmember)
                if drank > rank_of[lab]:
                    msgs.append("%s: %s calls %s() of the later lab %s (%s)"
                                % (lab, me, sym, dlab, callee))
                    continue
                if dlab != lab or dmember == member:
                    continue
                if (lab, me, callee) in known:
                    continue
                graph.setdefault(me, set()).add(callee)
                if me in where and callee in where:
                    (mp, ml), (cp, cl) = where[me], where[callee]
                    if cp > mp:
                        msgs.append("%s: %s (part %s) calls %s() of %s in the higher part %s"
                                    % (lab, me, parts[mp], sym, callee, parts[cp]))
                    elif cp == mp and cl >= ml:
                        msgs.append("%s: %s calls %s() of %s, in %s layer of part %s"
                                    % (lab, me, sym, callee,
                                       "the same" if cl == ml else "a higher", parts[mp]))
        for comp in sccs(graph):
            msgs.append("%s: files call each other in a cycle: %s" % (lab, " <-> ".join(comp)))
    return found, skipped, warnings


def python_imports(folder):
    """{module: set(modules of the same folder it imports)}."""
    mods = {f[:-3] for f in os.listdir(folder) if f.endswith(".py")}
    graph = {}
    for m in sorted(mods):
        with open(os.path.join(folder, m + ".py"), encoding="utf-8") as f:
            tree = ast.parse(f.read(), filename=m + ".py")
        deps = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                deps |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                deps.add(node.module.split(".")[0])
        graph[m] = {d for d in deps if d in mods and d != m}
    return graph


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--lib-dir", help="build/<variant>/lib (default: ROOT/build/asan/lib)")
    ap.add_argument("--lab", action="append", default=[], metavar="NAME=DIR",
                    help="labs in order, lowest first (default: the Makefile's LABS)")
    ap.add_argument("--known", action="append", default=[], metavar="LAB:CALLER.c>CALLEE.c",
                    help="a known upward call left for its owner, not reported (say why where it is given)")
    ap.add_argument("--python", action="append", default=None, metavar="DIR",
                    help="folders of Python modules checked for import cycles (default: tools)")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    lib_dir = args.lib_dir or os.path.join(root, "build", "asan", "lib")
    if args.lab:
        labs = []
        for spec in args.lab:
            name, _, d = spec.partition("=")
            labs.append((name, os.path.abspath(d or os.path.join(root, name))))
    else:
        labs = [(l, os.path.join(root, l)) for l in labs_from_makefile(root)]
    pydirs = args.python if args.python is not None else [os.path.join(root, "tools")]

    passed = failed = 0
    try:
        known = set()
        for k in args.known:
            lab, _, edge = k.partition(":")
            caller, _, callee = edge.partition(">")
            known.add((lab, caller, callee))
        found, skipped, warnings = check_libs(labs, lib_dir, root, known)
    except RuntimeError as e:
        print("layering_check: %s" % e)
        return 2
    for w in warnings:
        print("layering: warning: " + w)
    for lab, _ in labs:
        msgs = found.get(lab, [])
        for m in msgs:
            print("LAYERING: " + m)
        if lab in skipped:
            print("layering: %s has no library in %s (its build files checked only)" % (lab, lib_dir))
        if msgs:
            failed += 1
        else:
            passed += 1
    for d in pydirs:
        cyc = sccs(python_imports(d))
        for comp in cyc:
            print("LAYERING: %s: Python modules import each other in a cycle: %s"
                  % (os.path.relpath(d, root), " <-> ".join(comp)))
        if cyc:
            failed += 1
        else:
            passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
