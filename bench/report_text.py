"""report_text.py -- the report's sentences, generated from the numbers (used
by report.py through report_page.py; Python 3 standard library).

Every sentence here is computed from a Data (report_data.py): who leads a
workload and by how much, latency tails, footprints, stability, notes. Two
rules keep them true:

  - Rankings are made within a class (durable engines, in-memory engines)
    and then overall, and the overall winner is named with its class: an
    engine that keeps nothing on disk leading a durable one is not the
    durable engine's job done faster.
  - Memory is three figures (RSS growth, heap growth, the engine's own
    count); a sentence that ranks by one names the others, and every pair
    that disagrees by more than 2x is stated with both numbers and the
    usual reason.

Nothing here reads files or draws: callers pass a loaded Data.
"""

from report_data import (CLASS_WHAT, CLASSES, DURABLE, IN_MEMORY, MEM_DISAGREE, MEM_NAMES,
                         UNSTABLE_CV, fmt_bytes, fmt_ns, fmt_rate, fmt_ratio, fmt_secs,
                         mem_disagreements, why_disagree)

LEADERS = (("readrandom", "leads"), ("fillrandom", "writes fastest in"),
           ("ycsb-a", "leads the mixed"), ("scan", "scans fastest in"))


def leader_sentence(data, w, engines, verb="leads"):
    vals = sorted(((data.ops(e, w), e) for e in engines if data.ops(e, w)), reverse=True)
    if not vals:
        return None
    best, be = vals[0]
    s = f"{be} {verb} {w} at {fmt_rate(best)} ops/s"
    if len(vals) > 1:
        second, se = vals[1]
        s += f", {fmt_ratio(best / second)} the next ({se})"
        if len(vals) > 2:
            last, le = vals[-1]
            s += f" and {fmt_ratio(best / last)} the slowest ({le})"
    return s


def wins(data, engines):
    """[(engine, workloads it is fastest in)] among engines, most first."""
    n = {}
    for w in data.workloads:
        vals = [(data.ops(e, w), e) for e in engines if data.ops(e, w)]
        if vals:
            n[max(vals)[1]] = n.get(max(vals)[1], 0) + 1
    return sorted(n.items(), key=lambda kv: -kv[1])


def classes_present(data):
    return [k for k in CLASSES if data.in_class(k)]


def throughput_text(data, log):
    parts = []
    present = classes_present(data)
    for k in present:
        engs = data.in_class(k)
        sents = [s for s in (leader_sentence(data, w, engs, v) for w, v in LEADERS) if s]
        if sents:
            head = f"Among {k} engines ({', '.join(engs)})" if len(present) > 1 else ""
            parts.append((head + ": " if head else "") + "; ".join(sents) + ".")
    text = " ".join(parts)
    for k in present if len(present) > 1 else []:
        order = wins(data, data.in_class(k))
        if order:
            text += f" Fastest among {k} engines: " + ", ".join(
                f"{e} in {n}" for e, n in order) + f" of {len(data.workloads)} workloads."
    order = wins(data, data.engines)
    if order:
        text += f" Fastest overall, over all {len(data.workloads)} workloads: " + ", ".join(
            f"{data.label(e) if len(present) > 1 else e} in {n}" for e, n in order) + "."
    if len(present) > 1:
        text += (" An in-memory engine keeps nothing on disk, so its lead over a durable one "
                 "is not the durable engine's job done faster: compare within a class.")
    if log:
        text += " The scale is logarithmic: the figures span more than a factor of 20."
    return text


def latency_text(data, w):
    vals = []
    for e in data.engines:
        p50, p99, p999 = (data.fig(e, w, k) for k in ("p50_ns", "p99_ns", "p999_ns"))
        if p50 and p99:
            vals.append((p99, p50, p999 or p99, e))
    if not vals:
        return ""
    vals.sort()
    p99, p50, _, e = vals[0]
    s = f"For {w}, {data.label(e)} has the lowest p99 ({fmt_ns(p99)}, median {fmt_ns(p50)})"
    if len(vals) > 1:
        wp99, wp50, _, we = vals[-1]
        s += f"; {data.label(we)} the highest ({fmt_ns(wp99)}, {fmt_ratio(wp99 / p99)} as much)"
    tails = sorted(((p999 / p50, e) for _, p50, p999, e in vals if p50), reverse=True)
    if tails:
        s += f". The longest tail relative to the median is {tails[0][1]}'s: p99.9 is " \
             f"{fmt_ratio(tails[0][0])} its p50"
    return s + "."


def mem_brief(m):
    """'RSS +40 KiB, heap +15.1 MiB, engine 15.2 MiB'."""
    out = []
    if m.get("rss") is not None:
        out.append(f"RSS +{fmt_bytes(m['rss'])}")
    if m.get("heap") is not None:
        out.append(f"heap +{fmt_bytes(m['heap'])}")
    if m.get("engine") is not None:
        out.append(f"its own count {fmt_bytes(m['engine'])}")
    return ", ".join(out)


def disagreement_text(e, m):
    """One sentence per engine whose memory figures disagree, or None."""
    d = mem_disagreements(m)
    if not d:
        return None
    hi, vhi, lo, vlo, r = max(d, key=lambda x: x[4])
    s = (f"{e}: its {MEM_NAMES[hi]} ({fmt_bytes(vhi)}) is {fmt_ratio(r)} its "
         f"{MEM_NAMES[lo]} ({fmt_bytes(vlo)}): {why_disagree(hi, lo)}")
    others = [x for x in d if x[:3] != (hi, vhi, lo)]
    if others:
        s += "; also " + ", ".join(f"{MEM_NAMES[a]} {fmt_bytes(va)} vs {MEM_NAMES[b]} "
                                   f"{fmt_bytes(vb)}" for a, va, b, vb, _ in others)
    return s + "."


def footprint_text(data, raw):
    n = data.plan.get("n") or data.run.get("n", 0)
    disk = sorted((v, e) for v, e in ((data.load_fig(e, "load_disk_bytes"), e)
                                      for e in data.engines) if v)
    mem = sorted((data.memory(e)["rss"], e) for e in data.engines
                 if data.memory(e)["rss"] is not None)
    s = []
    if disk:
        s.append(f"After loading {n:,} keys ({fmt_bytes(raw)} of keys and values), "
                 f"{disk[0][1]} needs the least disk ({fmt_bytes(disk[0][0])}, "
                 f"{disk[0][0] / raw:.2f}x the raw data)")
        if len(disk) > 1:
            s[-1] += f" and {disk[-1][1]} the most ({fmt_bytes(disk[-1][0])}, " \
                     f"{disk[-1][0] / raw:.2f}x)"
    if mem:
        lo, hi = mem[0][1], mem[-1][1]
        s.append(f"the process's resident set grew least with {lo} "
                 f"({mem_brief(data.memory(lo))}) and most with {hi} "
                 f"({mem_brief(data.memory(hi))})")
    text = "; ".join(s) + ("." if s else "")
    stale = [e for e in data.engines if data.memory(e)["repeats"] and not data.memory(e)["fresh"]]
    if stale:
        text += (f" The load of {', '.join(stale)} did not run in a process of its own "
                 "(--no-isolate, or results from an older kvbench), so its memory figures "
                 "may hide memory reused from earlier work.")
    dis = [t for t in (disagreement_text(e, data.memory(e)) for e in data.engines) if t]
    if dis:
        text += (f" Where two memory figures differ by more than {MEM_DISAGREE:g}x, both are "
                 "shown: " + " ".join(dis))
    return text


def memory_check(m):
    """The cross-check column of the memory table."""
    d = mem_disagreements(m)
    if not d:
        return "agree within 2x" if sum(m.get(k) is not None for k in MEM_NAMES) > 1 else "-"
    return "; ".join(f"{MEM_NAMES[a]} {fmt_ratio(r)} {MEM_NAMES[b]}" for a, _, b, _, r in d)


def scaling_text(data, w, ns):
    lo, hi = min(ns), max(ns)
    parts = []
    for e in data.engines:
        a = data.sweep.get(lo, {}).get((e, w))
        b = data.sweep.get(hi, {}).get((e, w))
        if a and b and b["ops_per_sec"]["median"]:
            ra = a["ops_per_sec"]["median"]
            rb = b["ops_per_sec"]["median"]
            parts.append((ra / rb, e, ra, rb))
    if not parts:
        return ""
    parts.sort()
    best, worst = parts[0], parts[-1]
    return (f"From N={lo:,} to N={hi:,}, {best[1]} keeps {w} best "
            f"({fmt_rate(best[2])} to {fmt_rate(best[3])} ops/s) and {worst[1]} loses most "
            f"({fmt_rate(worst[2])} to {fmt_rate(worst[3])}, {fmt_ratio(worst[0])} slower).")


def repeats_of(data):
    return int(data.plan.get("repeats") or data.run.get("repeats") or 1)


def unstable_rows(data):
    """Figures whose throughput CV over the repeats exceeds 5% (kvbench's flag)."""
    return [(e, w, f"{ent['ops_per_sec']['cv'] * 100:.1f}%",
             f"{(ent.get('p99_ns') or {}).get('cv', 0) * 100:.1f}%")
            for (e, w), ent in sorted(data.summary.items())
            if ent.get("ops_per_sec", {}).get("cv", 0) > UNSTABLE_CV]


def stability_text(data, unst):
    if repeats_of(data) < 2:
        return "One repeat only: no coefficient of variation, so stability cannot be judged."
    c = [(ent.get("p99_ns") or {}).get("cv", 0) for ent in data.summary.values()]
    k = sum(x > UNSTABLE_CV for x in c)
    tail = (f" Tail latencies vary more than throughput: the p99 of {k} of {len(c)} figures "
            f"has a CV above 5%, so compare p99s across runs with care." if k else "")
    if not unst:
        return f"Every throughput figure is stable: CV over the repeats at most 5%.{tail}"
    return (f"{len(unst)} of {len(data.summary)} throughput figures are unstable (CV over the "
            f"repeats above 5%; marked ~ in the headline tables): re-run before trusting a "
            f"difference of a few percent.{tail}")


def classes_text(data):
    return " ".join(f"{k[0].upper() + k[1:]} ({CLASS_WHAT[k]}): {', '.join(data.in_class(k))}."
                    for k in classes_present(data))


def wall_text(data):
    w = data.plan.get("wall_s")
    return f"make report took {fmt_secs(w)} in all" if w is not None else None


def notes(data):
    n = []
    if any(data.kind(e) == "peer" for e in data.engines):
        n.append("bytes_read and bytes_written come from the kvlabs env's counters; the peers "
                 "(LevelDB, RocksDB, LMDB, SQLite) do their own file I/O and report 0, so write "
                 "amplification is only meaningful for kvlabs engines.")
    if not any(data.kind(e) == "kvlabs" for e in data.engines):
        n.append("No kvlabs engine is linked into kvbench yet (each lab adds its engines to "
                 "bench/lab.mk); this report compares the peers only.")
    n += [f"{e}: no result at all (its process failed); it is missing from every table."
          for e in data.missing]
    n += [f"{s['engine']}: {s['workload']} skipped: {s['reason']}."
          for s in data.run.get("skipped", [])]
    for (e, w), ent in sorted(data.summary.items()):
        v = (ent.get("errors") or {}).get("median", 0)
        if v:
            n.append(f"{e} {w}: {v:.0f} operations failed (median over repeats).")
    if data.plan.get("kvbench_status"):
        n.append(f"kvbench exited with status {data.plan['kvbench_status']}: some engine failed "
                 "or erred; its figures may be missing.")
    n.append("Durable engines report KV_CAP_DURABLE on their open store: their data survives "
             "kv_sync and a crash. In-memory engines (" +
             (", ".join(data.in_class(IN_MEMORY)) or "none here") + ") keep their data only "
             "in memory, so their throughput is ranked apart from the durable engines' (" +
             (", ".join(data.in_class(DURABLE)) or "none here") + ").")
    n.append("Memory after the load is measured three ways, in a child process that has done "
             "nothing but build its keys before opening the engine: RSS growth (VmRSS; it "
             "includes mapped file pages the engine touched, such as LMDB's map and shm's "
             "segment, and misses memory malloc reuses), heap growth (glibc mallinfo2: bytes "
             "malloc handed out and not taken back, nothing outside malloc) and the engine's "
             "own count (kv_stats.mem_bytes; LMDB keeps none). They measure different things; "
             f"where two differ by more than {MEM_DISAGREE:g}x (each counted as at least "
             "256 KiB), the memory table and the caption show both.")
    n.append("Disk is the sum of the sizes of the files in the engine's directory after the "
             "load and a kv_sync.")
    return n
