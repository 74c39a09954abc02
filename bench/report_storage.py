"""report_storage.py -- the report's section "LSM tree or B+ tree: measured
amplification" (Python 3 standard library only; used by report_page.py).

What it reads. Sprint 4's benchmarks/storage_benchmarks.c registers two
micro-benchmarks per engine with kvbench: storage_fillrandom_<engine> (puts
in random order into an empty store) and storage_readrandom_<engine> (gets
of random keys of a loaded, settled store), for lsm, cowbtree, btree,
leveldb and rocksdb. `make report` runs every micro-benchmark, so their
result files (engine "micro", already checked against
common/schema/results.schema.json by report_data.py) are in results/. Each
carries ops/s and latency percentiles in "result", and the amplification
figures in "extra" (their meaning: the comment at the top of
storage_benchmarks.c). Every figure here is the median over the repeats.

What it writes. Four tables (throughput and latency; write, read and space
amplification; slow puts and the engine's stalls; compaction pauses by
duration) and the recommendations by workload. The recommendations are
sentences computed from this run's numbers: which engine won each
workload and by what ratio over the runner-up, and how the best LSM tree
compares with the best durable B+ tree. Nothing in them is fixed prose
about which engine is better: change the numbers and the text changes.

Callers: section(doc, data) after the micro-benchmarks table; it adds
nothing when the run has no storage results (kvbench without sprint 4).
"""

from report_data import fmt_bytes, fmt_ns, fmt_rate, median

PREFIX_FILL, PREFIX_READ = "storage_fillrandom_", "storage_readrandom_"
ORDER = ["lsm", "leveldb", "rocksdb", "cowbtree", "btree"]
LSM_FAMILY = {"lsm", "leveldb", "rocksdb"}
BTREE_FAMILY = {"cowbtree", "btree"}
IN_MEMORY = {"btree"}  # keeps no files: no disk figures, left out of the disk rankings
HEADING = "LSM tree or B+ tree: measured amplification (sprint 4)"


def _num(v):
    return v is not None


def collect(data):
    """{engine: {"fill": {...}, "read": {...}}}: medians over the repeats."""
    per = {}
    for d in data.docs:
        if d["engine"] != "micro":
            continue
        w = d["workload"]
        for phase, prefix in (("fill", PREFIX_FILL), ("read", PREFIX_READ)):
            if w.startswith(prefix):
                eng = w[len(prefix):]
                r = d["result"]
                vals = {"ops_per_sec": r["ops_per_sec"], "p50": r["latency_ns"]["p50"],
                        "p99": r["latency_ns"]["p99"], "p999": r["latency_ns"]["p999"],
                        "errors": r["errors"]}
                vals.update(d.get("extra", {}))
                per.setdefault(eng, {}).setdefault(phase, []).append(vals)
    out = {}
    for eng, phases in per.items():
        out[eng] = {}
        for phase, reps in phases.items():
            keys = set().union(*reps)
            out[eng][phase] = {k: median([r[k] for r in reps if k in r]) for k in keys}
            out[eng][phase]["repeats"] = len(reps)
    return out


def engines_of(st):
    return [e for e in ORDER if e in st] + sorted(e for e in st if e not in ORDER)


def g(st, eng, phase, key):
    return st.get(eng, {}).get(phase, {}).get(key)


def famil(e):
    return "LSM tree" if e in LSM_FAMILY else "B+ tree" if e in BTREE_FAMILY else "other"


def f2(v, suffix="x"):
    return "n/a" if v is None else f"{v:.2f}{suffix}"


def fms(ms):
    return "n/a" if ms is None else fmt_ns(ms * 1e6)


def cnt(v):
    return "n/a" if v is None else f"{v:,.0f}"


# ---- the rankings behind the recommendations -----------------------------------------

def rank(st, phase, key, higher_better, engines=None):
    """[(engine, value)] best first, over the engines that have the figure."""
    es = [e for e in (engines if engines is not None else engines_of(st))
          if _num(g(st, e, phase, key))]
    return sorted(((e, g(st, e, phase, key)) for e in es), key=lambda t: t[1],
                  reverse=higher_better)


def _better(v1, v2, higher_better):
    """How many times v1 is better than v2 (>= 1 when it is), or None when undefined."""
    if higher_better:
        return v1 / v2 if v2 else None
    return v2 / v1 if v1 else None


def ratio_text(best, second, higher_better, what, fmt):
    """'leveldb (ops/s 131K against 103K for the runner-up lsm: 1.27x better)', or a tie."""
    e1, v1 = best
    if second is None:
        return f"{e1} ({what} {fmt(v1)}; no other engine measured it)"
    e2, v2 = second
    r = _better(v1, v2, higher_better)
    if v1 == v2 or (r is not None and r < 1.005):
        return f"{e1}, tied with {e2} ({what} {fmt(v1)} and {fmt(v2)})"
    if r is None:
        return f"{e1} ({what} {fmt(v1)} against {fmt(v2)} for the runner-up {e2})"
    return f"{e1} ({what} {fmt(v1)} against {fmt(v2)} for the runner-up {e2}: {r:.2f}x better)"


def _amp(v):
    return f"{v:.2f}"


def recommendations(st, n):
    """The sentences, each computed from the measured numbers of this run. The
    rankings are over the durable engines (btree keeps nothing on disk)."""
    recs = []
    specs = [
        ("Write-heavy, random inserts (fillrandom throughput)", "fill", "ops_per_sec", True,
         "ops/s", fmt_rate),
        ("Read-heavy, random point gets (readrandom throughput)", "read", "ops_per_sec", True,
         "ops/s", fmt_rate),
        ("Latency-sensitive writes (fillrandom p99.9)", "fill", "p999", False, "p99.9", fmt_ns),
        ("Latency-sensitive reads (readrandom p99.9)", "read", "p999", False, "p99.9", fmt_ns),
        ("Flash wear, write-bound devices (bytes written / user bytes, settled)", "fill",
         "settled_sys_write_amp", False, "write amplification", _amp),
        ("Disk space (file bytes / live user bytes, settled)", "fill", "settled_space_amp", False,
         "space amplification", _amp),
        ("Random reads beyond the cache (blocks read from files per get)", "read",
         "blocks_per_get", False, "blocks per get", _amp),
    ]
    durable = [e for e in engines_of(st) if e not in IN_MEMORY]
    for title, phase, key, hib, what, fmt in specs:
        r = rank(st, phase, key, hib, durable)
        if not r:
            recs.append(f"{title}: no durable engine measured it in this run.")
            continue
        lead = ratio_text(r[0], r[1] if len(r) > 1 else None, hib, what, fmt)
        fam = famil(r[0][0])
        other = [t for t in r if famil(t[0]) not in (fam, "other")]
        tail = ""
        if other and fam != "other":
            e2, v2 = other[0]
            x = _better(r[0][1], v2, hib)
            if r[0][1] == v2 or (x is not None and x < 1.005):
                fam_text = "either family: "
                tail = "" if e2 == r[1][0] else f"; the best {famil(e2)}, {e2}, ties"
            else:
                fam_text = f"the {fam} "
                tail = (f"; the best {famil(e2)}, {e2}, measured {fmt(v2)}" +
                        (f", {x:.2f}x worse" if x is not None else ""))
        else:
            fam_text = f"the {fam} " if fam != "other" else ""
        mem = [e for e in IN_MEMORY if _num(g(st, e, phase, key))]
        if mem and phase and key in ("ops_per_sec", "p999"):
            tail += (f" (in memory, without a disk: {mem[0]} {fmt(g(st, mem[0], phase, key))})")
        recs.append(f"{title}: pick {fam_text}{lead}{tail}.")
    # the trade-off in one sentence: the best LSM tree against the best durable B+ tree
    lsms = rank(st, "fill", "ops_per_sec", True, [e for e in durable if e in LSM_FAMILY])
    bts = rank(st, "fill", "ops_per_sec", True, [e for e in durable if e in BTREE_FAMILY])
    if lsms and bts:
        a, b = lsms[0][0], bts[0][0]
        parts = []
        for label, phase in (("puts", "fill"), ("gets", "read")):
            va, vb = g(st, a, phase, "ops_per_sec"), g(st, b, phase, "ops_per_sec")
            if va and vb:
                parts.append(f"{label} {va / vb:.2f}x as fast")
        for label, phase, key in (("write amplification", "fill", "settled_sys_write_amp"),
                                  ("space amplification", "fill", "settled_space_amp"),
                                  ("blocks read per get", "read", "blocks_per_get")):
            va, vb = g(st, a, phase, key), g(st, b, phase, key)
            if _num(va) and _num(vb):
                parts.append(f"{label} {va:.2f} against {vb:.2f}")
        recs.append(f"LSM tree against B+ tree at N = {n:,}: the fastest-writing LSM tree, {a}, "
                    f"against the fastest-writing durable B+ tree, {b}: " + "; ".join(parts) +
                    ". The family that wins the workload you run most is the one this run "
                    "recommends for it.")
    return recs


# ---- the section ------------------------------------------------------------------------

def section(d, data):
    """Add the section to Doc d (nothing when the run has no storage results)."""
    st = collect(data)
    if not st:
        return False
    es = engines_of(st)
    n = int(max((g(st, e, "fill", "user_bytes") or 0) for e in es) / 116) or \
        int(data.plan.get("n") or data.run.get("n") or 0)
    d.h(HEADING)
    d.p("sprint-4-simd-optimization/benchmarks/storage_benchmarks.c, registered with kvbench "
        "(`kvbench --micros 'storage_*' --workloads none`): for each engine, puts of N keys in "
        "random order into an empty store (fillrandom), then gets of random keys of a loaded, "
        "settled store (readrandom); 16-byte keys, 100-byte values, sync=none; the LSM trees "
        "with a 4 MiB write buffer, an 8 MiB block cache, 10 bloom bits per key and no "
        "compression, cowbtree with an 8 MiB page cache; btree lives in memory (no disk "
        "figures). Medians over the repeats.", "small")
    rows = []
    for e in es:
        row = [e, famil(e)]
        for ph in ("fill", "read"):
            ops = g(st, e, ph, "ops_per_sec")
            row += [fmt_rate(ops) if _num(ops) else "n/a"] + \
                [fmt_ns(g(st, e, ph, k)) if _num(g(st, e, ph, k)) else "n/a"
                 for k in ("p50", "p99", "p999")]
        rows.append(row)
    d.h("Throughput and latency", 3)
    d.table(["engine", "family", "fill ops/s", "p50", "p99", "p99.9", "read ops/s", "p50", "p99",
             "p99.9"], rows, left=2)

    d.h("Amplification", 3)
    d.p("Write amplification: bytes written ÷ user bytes (N × 116). 'env' counts what the "
        "engine wrote through the kvlabs env (lsm, cowbtree); 'syscalls' counts the bytes this "
        "process passed to write(2) (/proc/self/io wchar), the one measure that covers the "
        "peers, who do their own I/O. 'load': right after the puts and a kv_sync; 'settled': "
        "after background flushes and compactions stopped. Space amplification: file bytes "
        "under the store ÷ user bytes. Read amplification: blocks read from files per get "
        "(lsm's blocks_read, cowbtree's page_loads; n/a where the engine does not count them "
        "through kv.h) and syscall bytes read per get (/proc/self/io rchar: LevelDB reads "
        "its tables through mmap, which it does not see).", "small")
    rows = []
    for e in es:
        rows.append([e, f2(g(st, e, "fill", "load_env_write_amp")),
                     f2(g(st, e, "fill", "settled_env_write_amp")),
                     f2(g(st, e, "fill", "load_sys_write_amp")),
                     f2(g(st, e, "fill", "settled_sys_write_amp")),
                     f2(g(st, e, "fill", "load_space_amp")),
                     f2(g(st, e, "fill", "settled_space_amp")),
                     f2(g(st, e, "read", "blocks_per_get"), ""),
                     "n/a" if g(st, e, "read", "sys_bytes_read_per_get") is None else
                     fmt_bytes(g(st, e, "read", "sys_bytes_read_per_get")),
                     "n/a" if g(st, e, "fill", "settled_disk_bytes") is None else
                     fmt_bytes(g(st, e, "fill", "settled_disk_bytes"))])
    d.table(["engine", "write amp env (load)", "env (settled)", "syscalls (load)",
             "syscalls (settled)", "space amp (load)", "space amp (settled)", "blocks/get",
             "syscall bytes read/get", "disk (settled)"], rows)

    d.h("Write stalls and compaction pauses", 3)
    d.p("Slow puts as the benchmark timed each one (every engine), and the engine's own "
        "counters where it keeps them: lsm's stops (the writer waited for a flush or for L0 to "
        "drain), slowdowns (1 ms sleeps when L0 fills), and its compactions by duration.",
        "small")
    rows = []
    for e in es:
        def f(k):
            return g(st, e, "fill", k)
        rows.append([e, cnt(f("puts_ge_1ms")), cnt(f("puts_ge_10ms")), cnt(f("puts_ge_100ms")),
                     fms(f("put_max_ms")), cnt(f("stall_stops")), cnt(f("stall_slowdowns")),
                     fms(f("stall_ms")), fms(f("stall_max_ms")), cnt(f("compactions")),
                     " / ".join(cnt(f(k)) for k in ("compact_lt10ms", "compact_lt100ms",
                                                    "compact_lt1s", "compact_ge1s")),
                     fms(f("compact_max_ms"))])
    d.table(["engine", "puts ≥ 1 ms", "≥ 10 ms", "≥ 100 ms", "longest put", "stops",
             "slowdowns", "stalled in all", "longest stall", "compactions",
             "< 10 ms / < 100 ms / < 1 s / ≥ 1 s", "longest compaction"], rows)
    unsettled = [e for e in es if g(st, e, "fill", "settled") == 0]
    if unsettled:
        d.p("Not settled within the benchmark's limit (the 'settled' figures are taken at the "
            "limit): " + ", ".join(unsettled) + ".", "small")
    errs = [e for e in es for ph in ("fill", "read") if (g(st, e, ph, "errors") or 0) > 0]
    if errs:
        d.p("Operations failed in this run for: " + ", ".join(sorted(set(errs))) + ".")

    d.h("Recommendations by workload (from this run's numbers)", 3)
    d.ul(recommendations(st, n))
    return True
