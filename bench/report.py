#!/usr/bin/env python3
"""report.py -- the cross-engine benchmark report (`make report`).

Two commands, Python 3 standard library only (plus gnuplot for the charts):

  report.py run --kvbench BIN --out DIR [--full] [-n N] [--repeats R]
                [--budget SECONDS] [--started EPOCH] [--physical-args 'FLAGS']
      Measures, then renders. Writes DIR/physical.json (`kvbench physical`),
      chooses N (below), runs `kvbench` over the default suite into
      DIR/results/ (one JSON file per engine, workload and repeat, plus
      run.json and summary.json), and renders.

  report.py render DIR
      Renders DIR/index.html, DIR/report.md and DIR/charts/*.png|svg from
      what `run` left in DIR (so a report can be re-rendered without
      re-measuring).

The default suite. Every engine `kvbench --list` shows whose kind is
"kvlabs" (the course's engines: none until sprint 2, then hash, bitcask,
shm, the B+ trees, the LSM tree ...), plus the four peers. Not `model` (the
oracle, a sorted array) and not the engines that live in the test VM. The
list is read from kvbench itself, so it grows as labs add engines to
bench/lab.mk. 16-byte keys, 100-byte values, every workload, the
micro-benchmarks.

Choosing N. `make report` must finish in about ten minutes on two cores,
with however many engines exist. So, unless N is given (REPORT_N=...), a
pilot runs the whole suite once at N = 50,000, and N is the largest of
10K, 20K, 50K, 100K, 200K, 300K, 500K, 1M, 2M, 5M whose projected time
fits the budget (default 360 s for the measured runs; the build, the
pilot, the physical measurements and the charts take the rest of the ten
minutes). The projection is pilot_time x (N / 50,000)^1.15 x repeats:
per-key costs grow with N (deeper trees, more LSM levels, fewer cache
hits), which the exponent above 1 allows for. The report states the
choice and the numbers behind it. Repeats default to 3 (the fewest that
give a median and a coefficient of variation).

FULL=1 (`--full`) instead sweeps N over 1e4, 1e5, 1e6, 1e7 (results in
DIR/sweep/n<N>/; the 1e6 run is also the report's main result set) and
adds the throughput-against-N charts. Long: hours with SQLite at 1e7.
"""

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

PEERS = ["leveldb", "rocksdb", "lmdb", "sqlite"]
WORKLOADS = ["fillseq", "fillrandom", "overwrite", "readrandom", "readmissing", "readseq",
             "scan", "ycsb-a", "ycsb-b", "ycsb-c", "ycsb-f", "ycsb-d", "ycsb-e", "deleterandom"]
LATENCY_WORKLOADS = ["readrandom", "fillrandom", "ycsb-a"]
SCALING_WORKLOADS = ["fillrandom", "readrandom", "ycsb-a"]
CANDIDATES = [10_000, 20_000, 50_000, 100_000, 200_000, 300_000, 500_000,
              1_000_000, 2_000_000, 5_000_000]
PILOT_N = 50_000
GROWTH = 1.15
SWEEP = [10_000, 100_000, 1_000_000, 10_000_000]
UNSTABLE_CV = 0.05
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
          "#7f7f7f", "#bcbd22", "#17becf"]


# ---- formatting -----------------------------------------------------------------

def fmt_rate(v):
    """1234567 -> '1.23M'."""
    for div, suf in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if v >= div:
            return f"{v / div:.3g}{suf}" if v / div < 100 else f"{v / div:.0f}{suf}"
    return f"{v:.3g}"


def fmt_ns(ns):
    """Nanoseconds for humans: '840 ns', '1.47 µs', '3.2 ms'."""
    if ns >= 1e9:
        return f"{ns / 1e9:.3g} s"
    if ns >= 1e6:
        return f"{ns / 1e6:.3g} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.3g} µs"
    return f"{ns:.0f} ns"


def fmt_bytes(b):
    for div, suf in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if b >= div:
            return f"{b / div:.3g} {suf}"
    return f"{b:.0f} B"


def fmt_ratio(r):
    return f"{r:.2g}x" if r < 10 else f"{r:.0f}x"


def esc(s):
    return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


# ---- running ---------------------------------------------------------------------

def kvbench_list(kvbench):
    """{engine: kind} from `kvbench --list`, in listing order."""
    out = subprocess.run([kvbench, "--list"], check=True, capture_output=True, text=True).stdout
    engines, section = {}, None
    for line in out.splitlines():
        if not line.startswith(" "):
            section = line.split(" ", 1)[0]
            continue
        m = re.match(r"^  (\S+)\s+(reference|peer|vm|kvlabs)\s", line)
        if section == "engines" and m:
            engines[m.group(1)] = m.group(2)
    return engines


def suite_engines(kinds, n, key_size=16, value_size=100):
    """The default suite: kvlabs engines, then the peers; lmdb's map sized for n."""
    specs = [e for e, k in kinds.items() if k == "kvlabs"]
    for p in PEERS:
        if p not in kinds:
            continue
        if p == "lmdb":
            need_gib = math.ceil(n * (key_size + value_size + 64) * 2.5 / 2**30)
            specs.append(f"lmdb:map_size={need_gib}G" if need_gib > 1 else "lmdb")
        else:
            specs.append(p)
    return specs


def run_kvbench(kvbench, out_dir, n, repeats, specs, quiet=False):
    cmd = [kvbench, "-n", str(n), "--repeats", str(repeats), "--engines", ";".join(specs),
           "--micros", "all", "--out", str(out_dir)]
    if quiet:
        cmd.append("--quiet")
    print("report: " + " ".join(f"'{c}'" if ";" in c else c for c in cmd), flush=True)
    t0 = time.time()
    rc = subprocess.run(cmd, stdout=subprocess.DEVNULL if quiet else None).returncode
    return rc, time.time() - t0


def choose_n(kvbench, out, kinds, repeats, budget):
    """Run the pilot and pick N; returns (n, reason, pilot dict)."""
    pilot_dir = out / "pilot"
    specs = suite_engines(kinds, PILOT_N)
    print(f"report: pilot run at N={PILOT_N} to choose N (budget {budget:.0f} s)", flush=True)
    rc, secs = run_kvbench(kvbench, pilot_dir, PILOT_N, 1, specs, quiet=True)
    shutil.rmtree(pilot_dir, ignore_errors=True)
    if rc != 0:
        print(f"report: the pilot run failed (exit {rc}); using N={PILOT_N}", file=sys.stderr)
        return PILOT_N, f"the pilot run failed (exit {rc}), so N stayed at {PILOT_N:,}", \
            {"n": PILOT_N, "seconds": secs, "rc": rc}
    chosen, projected = CANDIDATES[0], None
    for c in CANDIDATES:
        p = secs * (c / PILOT_N) ** GROWTH * repeats
        if p <= budget:
            chosen, projected = c, p
    if projected is None:
        projected = secs * (chosen / PILOT_N) ** GROWTH * repeats
    reason = (f"a pilot run of the whole suite at N={PILOT_N:,} took {secs:.1f} s; at "
              f"N={chosen:,} with {repeats} repeats the projection "
              f"(pilot x (N/{PILOT_N:,})^{GROWTH} x repeats) is {projected:.0f} s, the largest "
              f"candidate within the {budget:.0f} s budget for measuring, so that `make report` "
              f"stays within about 10 minutes on this machine")
    return chosen, reason, {"n": PILOT_N, "seconds": round(secs, 2), "projected_s": round(projected, 1),
                            "growth": GROWTH, "budget_s": budget}


def cmd_run(a):
    started = a.started or time.time()
    out = Path(a.out)
    for sub in ("results", "sweep", "charts", "pilot"):
        shutil.rmtree(out / sub, ignore_errors=True)
    for f in ("index.html", "report.md", "plan.json", "physical.json"):
        (out / f).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    kinds = kvbench_list(a.kvbench)
    repeats = a.repeats or 3
    load_before = os.getloadavg()[0]
    print("report: physical limits of this machine", flush=True)
    subprocess.run([a.kvbench, "physical", "--out", str(out)] + a.physical_args.split(),
                   check=False)

    plan = {"full": bool(a.full), "repeats": repeats, "started": started, "key_size": 16,
            "value_size": 100, "budget_s": a.budget, "loadavg": [load_before]}
    status = 0
    if a.full:
        plan["sweep"] = SWEEP
        specs = suite_engines(kinds, max(SWEEP))  # the same specs at every N, for the charts
        for n in SWEEP:
            rc, secs = run_kvbench(a.kvbench, out / "sweep" / f"n{n}", n, repeats, specs)
            plan.setdefault("sweep_seconds", {})[str(n)] = round(secs, 1)
            status = status or rc
        main_n = 1_000_000
        shutil.copytree(out / "sweep" / f"n{main_n}", out / "results")
        plan.update(n=main_n, reason="FULL=1: N swept over 1e4, 1e5, 1e6 and 1e7; the tables "
                    "show N = 1e6, the charts of throughput against N show all four")
    else:
        if a.n:
            n, reason, pilot = a.n, "given on the command line (REPORT_N)", None
        else:
            n, reason, pilot = choose_n(a.kvbench, out, kinds, repeats, a.budget)
        plan.update(n=n, reason=reason, pilot=pilot)
        rc, secs = run_kvbench(a.kvbench, out / "results", n, repeats, suite_engines(kinds, n))
        plan["measure_seconds"] = round(secs, 1)
        status = rc
    plan["loadavg"].append(os.getloadavg()[0])
    plan["engines"] = suite_engines(kinds, max(SWEEP) if a.full else plan["n"])
    plan["kvbench_status"] = status
    plan["finished"] = time.time()
    (out / "plan.json").write_text(json.dumps(plan, indent=2) + "\n")
    render(out)
    total = time.time() - started
    print(f"report: {out / 'index.html'} and {out / 'report.md'} "
          f"(N={plan['n']:,}, {repeats} repeats, {total / 60:.1f} min in all)")
    if status:
        print(f"report: kvbench reported failures (exit {status}); see the notes in the report",
              file=sys.stderr)
    return 1 if status else 0


# ---- loading ---------------------------------------------------------------------

def load_json(path, default=None):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return default


RESULT_NAME = re.compile(r"^.+\.r\d+\.json$")


def load_results(d):
    """Per-repeat result documents of a directory."""
    docs = []
    for p in sorted(Path(d).glob("*.json")):
        if RESULT_NAME.match(p.name):
            doc = load_json(p)
            if doc and "result" in doc:
                docs.append(doc)
    return docs


class Data:
    """Everything a report is made of."""

    def __init__(self, out):
        self.out = Path(out)
        self.results_dir = self.out / "results"
        self.docs = load_results(self.results_dir)
        summ = load_json(self.results_dir / "summary.json", {}) or {}
        self.summary = {(e["engine"], e["workload"]): e for e in summ.get("entries", [])}
        self.run = load_json(self.results_dir / "run.json", {}) or {}
        self.plan = load_json(self.out / "plan.json", {}) or {}
        self.physical = load_json(self.out / "physical.json")
        self.meta = self.run.get("meta") or (self.docs[0]["meta"] if self.docs else {})
        run_engines = [e["spec"] for e in self.run.get("engines", [])]
        seen = sorted({e for e, _ in self.summary if e != "micro"})
        self.engines = [e for e in run_engines if e in seen] + \
            [e for e in seen if e not in run_engines]
        self.engine_info = {e["spec"]: e for e in self.run.get("engines", [])}
        self.workloads = [w for w in WORKLOADS if any((e, w) in self.summary for e in self.engines)]
        self.micros = sorted(w for e, w in self.summary if e == "micro")
        self.sweep = {}
        for d in sorted((self.out / "sweep").glob("n*")) if (self.out / "sweep").is_dir() else []:
            try:
                n = int(d.name[1:])
            except ValueError:
                continue
            s = load_json(d / "summary.json", {}) or {}
            self.sweep[n] = {(e["engine"], e["workload"]): e for e in s.get("entries", [])}

    def kind(self, engine):
        info = self.engine_info.get(engine)
        if info:
            return info.get("kind", "")
        name = engine.split(":", 1)[0]
        return "peer" if name in PEERS else ("reference" if name == "model" else "kvlabs")

    def ops(self, engine, workload):
        e = self.summary.get((engine, workload))
        return e["ops_per_sec"]["median"] if e else None

    def fig(self, engine, workload, name):
        e = self.summary.get((engine, workload))
        if not e or name not in e:
            return None
        v = e[name]
        return v["median"] if isinstance(v, dict) else v

    def load_fig(self, engine, name):
        """A figure taken after the load (recorded in every store-based result)."""
        for w in self.workloads:
            if w == "fillseq":
                continue
            v = self.fig(engine, w, name)
            if v is not None:
                return v
        return None


# ---- charts ----------------------------------------------------------------------

def png_terminal():
    probe = subprocess.run(["gnuplot", "-e", "set terminal pngcairo"], capture_output=True,
                           text=True)
    return "pngcairo" if probe.returncode == 0 and not probe.stderr.strip() else "png"


class Charts:
    def __init__(self, out):
        self.dir = Path(out) / "charts"
        self.data = self.dir / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.png = png_terminal()
        self.made = []

    def plot(self, name, script, width=960, height=480):
        """Render one gnuplot script to charts/NAME.png and charts/NAME.svg."""
        (self.data / f"{name}.gp").write_text(script)
        terms = [(f"{self.png} size {width},{height} noenhanced font 'sans,10'", "png"),
                 (f"svg size {width},{height} noenhanced font 'sans,11' background '#ffffff'",
                  "svg")]
        for term, ext in terms:
            target = self.dir / f"{name}.{ext}"
            text = f"set terminal {term}\nset output '{target}'\n{script}\nunset output\n"
            r = subprocess.run(["gnuplot"], input=text, capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError(f"gnuplot failed on {name}.{ext}: {r.stderr.strip()}")
        self.made.append(name)
        return name

    def table(self, name, header, rows):
        path = self.data / f"{name}.dat"
        with path.open("w") as f:
            f.write(" ".join(f'"{h}"' for h in header) + "\n")
            for r in rows:
                f.write(" ".join(f'"{c}"' if isinstance(c, str) else ("-" if c is None else repr(c))
                                 for c in r) + "\n")
        return path


def bars(ch, name, title, ylabel, labels, series, values, log_ok=True):
    """Clustered bars: one cluster per label, one bar per series."""
    path = ch.table(name, ["label"] + series,
                    [[lab] + [values[i][j] for j in range(len(series))]
                     for i, lab in enumerate(labels)])
    flat = [v for row in values for v in row if v]
    log = log_ok and flat and max(flat) / max(min(flat), 1e-12) > 20
    plots = []
    for j, s in enumerate(series):
        src = f"'{path}'" if j == 0 else "''"
        xt = ":xtic(1)" if j == 0 else ""
        plots.append(f"{src} using {j + 2}{xt} title columnheader({j + 2}) "
                     f"lc rgb '{COLORS[j % len(COLORS)]}'")
    lo = min(flat) / 2 if log else 0
    script = "\n".join([
        f"set title '{title}'", f"set ylabel '{ylabel}'", "set datafile missing '-'",
        "set style data histograms", "set style histogram clustered gap 1",
        "set style fill solid 0.85 border rgb '#333333'", "set boxwidth 0.9",
        "set grid ytics lc rgb '#dddddd'", "set key outside right top",
        "set xtics rotate by -30 nomirror", "set format y '%.0s%c'",
        "set logscale y" if log else "unset logscale y",
        f"set yrange [{lo}:*]",
        "plot " + ", \\\n     ".join(plots)])
    ch.plot(name, script)
    return log


def lines(ch, name, title, ylabel, xs, series, values):
    rows = [[x] + [values[j][i] for j in range(len(series))] for i, x in enumerate(xs)]
    path = ch.table(name, ["n"] + series, rows)
    plots = []
    for j in range(len(series)):
        src = f"'{path}'" if j == 0 else "''"
        plots.append(f"{src} using 1:{j + 2} with linespoints lw 2 pt 7 "
                     f"title columnheader({j + 2}) lc rgb '{COLORS[j % len(COLORS)]}'")
    script = "\n".join([
        f"set title '{title}'", f"set ylabel '{ylabel}'", "set xlabel 'N (keys loaded)'",
        "set datafile missing '-'", "set logscale xy", "set format y '%.0s%c'",
        "set format x '%.0s%c'", "set grid lc rgb '#dddddd'", "set key outside right top",
        "plot " + ", \\\n     ".join(plots)])
    ch.plot(name, script)


# ---- the narrative: sentences generated from the numbers --------------------------

def leader_sentence(data, w, verb="leads"):
    vals = [(data.ops(e, w), e) for e in data.engines if data.ops(e, w)]
    if len(vals) < 1:
        return None
    vals.sort(reverse=True)
    best, be = vals[0]
    s = f"{be} {verb} {w} at {fmt_rate(best)} ops/s"
    if len(vals) > 1:
        second, se = vals[1]
        s += f", {fmt_ratio(best / second)} the next ({se})"
        if len(vals) > 2:
            last, le = vals[-1]
            s += f" and {fmt_ratio(best / last)} the slowest ({le})"
    return s


def throughput_text(data, log):
    parts = []
    for w, verb in (("readrandom", "leads"), ("fillrandom", "writes fastest in"),
                    ("ycsb-a", "leads the mixed"), ("scan", "scans fastest in")):
        s = leader_sentence(data, w, verb)
        if s:
            parts.append(s)
    wins = {}
    for w in data.workloads:
        vals = [(data.ops(e, w), e) for e in data.engines if data.ops(e, w)]
        if vals:
            wins[max(vals)[1]] = wins.get(max(vals)[1], 0) + 1
    text = "; ".join(parts) + "." if parts else ""
    if wins:
        order = sorted(wins.items(), key=lambda kv: -kv[1])
        text += " Over all " + f"{len(data.workloads)} workloads, " + ", ".join(
            f"{e} is fastest in {n}" for e, n in order) + "."
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
    s = f"For {w}, {e} has the lowest p99 ({fmt_ns(p99)}, median {fmt_ns(p50)})"
    if len(vals) > 1:
        wp99, wp50, _, we = vals[-1]
        s += f"; {we} the highest ({fmt_ns(wp99)}, {fmt_ratio(wp99 / p99)} as much)"
    tails = sorted(((p999 / p50, e) for _, p50, p999, e in vals if p50), reverse=True)
    if tails:
        s += f". The longest tail relative to the median is {tails[0][1]}'s: p99.9 is " \
             f"{fmt_ratio(tails[0][0])} its p50"
    return s + "."


def footprint_text(data, raw):
    disk = [(data.load_fig(e, "load_disk_bytes"), e) for e in data.engines]
    mem = [(data.load_fig(e, "load_mem_bytes"), e) for e in data.engines]
    disk = sorted((v, e) for v, e in disk if v)
    mem = sorted((v, e) for v, e in mem if v is not None)
    s = []
    if disk:
        s.append(f"After loading {data.plan.get('n') or data.run.get('n', 0):,} keys "
                 f"({fmt_bytes(raw)} of keys and values), {disk[0][1]} needs the least disk "
                 f"({fmt_bytes(disk[0][0])}, {disk[0][0] / raw:.2f}x the raw data)")
        if len(disk) > 1:
            s[-1] += f" and {disk[-1][1]} the most ({fmt_bytes(disk[-1][0])}, " \
                     f"{disk[-1][0] / raw:.2f}x)"
    if mem:
        s.append(f"the process grew least with {mem[0][1]} ({fmt_bytes(mem[0][0])} of RSS) and "
                 f"most with {mem[-1][1]} ({fmt_bytes(mem[-1][0])})")
    return "; ".join(s) + ("." if s else "")


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


# ---- building the report -------------------------------------------------------------

def make_charts(data):
    ch = Charts(data.out)
    out = []
    if data.engines and data.workloads:
        vals = [[data.ops(e, w) for e in data.engines] for w in data.workloads]
        log = bars(ch, "throughput", "Throughput per workload (median over repeats)",
                   "ops/s", data.workloads, data.engines, vals)
        out.append(("throughput", "Throughput per workload and engine", throughput_text(data, log)))
    for w in LATENCY_WORKLOADS:
        if w not in data.workloads:
            continue
        engs = [e for e in data.engines if data.fig(e, w, "p50_ns")]
        vals = [[(data.fig(e, w, k) or 0) / 1000 for k in ("p50_ns", "p99_ns", "p999_ns")]
                for e in engs]
        bars(ch, f"latency-{w}", f"Latency percentiles: {w}", "microseconds", engs,
             ["p50", "p99", "p99.9"], vals)
        out.append((f"latency-{w}", f"Latency percentiles: {w}", latency_text(data, w)))
    ns = sorted(data.sweep)
    if len(ns) >= 2:
        for w in SCALING_WORKLOADS:
            vals = [[(data.sweep[n].get((e, w)) or {}).get("ops_per_sec", {}).get("median")
                     for n in ns] for e in data.engines]
            if any(v for row in vals for v in row):
                lines(ch, f"scaling-{w}", f"Throughput against N: {w}", "ops/s", ns,
                      data.engines, vals)
                out.append((f"scaling-{w}", f"Throughput against N: {w}", scaling_text(data, w, ns)))
    n = data.plan.get("n") or data.run.get("n") or 0
    raw = n * ((data.run.get("key_size") or 16) + (data.run.get("value_size") or 100))
    engs = [e for e in data.engines if data.load_fig(e, "load_disk_bytes") is not None]
    if engs and raw:
        vals = [[(data.load_fig(e, "load_disk_bytes") or 0) / 2**20,
                 (data.load_fig(e, "load_mem_bytes") or 0) / 2**20, raw / 2**20] for e in engs]
        bars(ch, "footprint", "Disk and memory after the load", "MiB", engs,
             ["disk", "memory (RSS growth)", "raw keys+values"], vals, log_ok=False)
        out.append(("footprint", "Disk size and memory after the load", footprint_text(data, raw)))
    return out


def headline(data):
    """Rows: workloads; columns: engines; a Cell each (ratio to the best peer)."""
    peers = [e for e in data.engines if data.kind(e) == "peer"]
    rows = []
    for w in data.workloads:
        best_peer = max([data.ops(e, w) or 0 for e in peers] or [0])
        best = max([data.ops(e, w) or 0 for e in data.engines] or [0])
        row = [w]
        for e in data.engines:
            v = data.ops(e, w)
            if v is None:
                row.append("-")
                continue
            unst = data.summary.get((e, w), {}).get("unstable", False)
            row.append(Cell(fmt_rate(v) + (" ~" if unst else ""),
                            f"{v / best_peer:.2f}x" if best_peer else None, v == best))
        rows.append(row)
    return rows


def physical_line(p):
    if not p:
        return "not measured"
    m, s, f = p.get("memcpy", {}), p.get("seq_write", {}), p.get("fsync", {})
    wr = s.get("mb_per_s", 0)
    wr_text = f"{wr / 1000:.2g} GB/s" if wr >= 1000 else f"{wr:.0f} MB/s"
    return (f"memcpy {m.get('gb_per_s', 0):.3g} GB/s; sequential write {wr_text}; "
            f"fsync p50 {fmt_ns(f.get('p50_ns', 0))}, p99 {fmt_ns(f.get('p99_ns', 0))}")


def peer_settings(root):
    """The 'Settings' table of bench/peers/README.md, as rows of cells."""
    try:
        text = (root / "bench" / "peers" / "README.md").read_text().splitlines()
    except OSError:
        return []
    rows, inside = [], False
    for line in text:
        if line.startswith("## "):
            inside = line.strip() == "## Settings"
        elif inside and line.startswith("|") and not re.match(r"^\|[-\s|]+\|$", line):
            rows.append([c.strip().replace("\\|", "|").replace("`", "")
                         for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


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
            f"repeats above 5%; marked ~ in the headline table): re-run before trusting a "
            f"difference of a few percent.{tail}")


def notes(data):
    n = []
    if any(data.kind(e) == "peer" for e in data.engines):
        n.append("bytes_read and bytes_written come from the kvlabs env's counters; the peers "
                 "(LevelDB, RocksDB, LMDB, SQLite) do their own file I/O and report 0, so write "
                 "amplification is only meaningful for kvlabs engines.")
    if not any(data.kind(e) == "kvlabs" for e in data.engines):
        n.append("No kvlabs engine is linked into kvbench yet (each lab adds its engines to "
                 "bench/lab.mk); this report compares the peers only.")
    n += [f"{s['engine']}: {s['workload']} skipped: {s['reason']}."
          for s in data.run.get("skipped", [])]
    for (e, w), ent in sorted(data.summary.items()):
        v = (ent.get("errors") or {}).get("median", 0)
        if v:
            n.append(f"{e} {w}: {v:.0f} operations failed (median over repeats).")
    if data.plan.get("kvbench_status"):
        n.append(f"kvbench exited with status {data.plan['kvbench_status']}: some engine failed "
                 "or erred; its figures may be missing.")
    n.append("Memory is the growth of the benchmark process's resident set (VmRSS) from before "
             "the engine opened to after the load, in a fresh process per engine and repeat; "
             "it includes mapped file pages the engine touched (LMDB's data lives in its map).")
    n.append("Disk is the sum of the sizes of the files in the engine's directory after the "
             "load and a kv_sync.")
    return n


def settings_rows(data):
    rows = []
    for e in data.engines:
        info = data.engine_info.get(e, {})
        opts = ", ".join(f"{k}={v}" for k, v in info.get("defaults", {}).items())
        given = info.get("options", "")
        rows.append((e, info.get("kind", data.kind(e)), info.get("caps", ""),
                     (given + "; " if given else "") + (f"defaults: {opts}" if opts else ""),
                     info.get("summary", "")))
    return rows


def meta_rows(data):
    m = data.meta or {}
    return [("CPU", f"{m.get('cpu', '?')} ({m.get('cores', '?')} logical cores)"),
            ("RAM", fmt_bytes(m.get("ram_bytes", 0))),
            ("File system of the data", m.get("fs", "?")),
            ("Compiler", m.get("compiler", "?")), ("Build flags", m.get("cflags", "?")),
            ("Source revision", m.get("git_rev", "?")),
            ("kvlabs version", m.get("kvlabs_version", "?")),
            ("Host", m.get("host", "?")), ("Measured at", m.get("timestamp", "?"))]


def run_facts(data):
    r, p = data.run, data.plan
    facts = [("N (keys loaded)", f"{p.get('n') or r.get('n', 0):,}"),
             ("Repeats", str(repeats_of(data))),
             ("Key / value size", f"{r.get('key_size', 16)} / {r.get('value_size', 100)} bytes"),
             ("Threads / processes", f"{r.get('threads', 1)} / {r.get('procs', 1)}"),
             ("Seed", str(r.get("seed", "?"))),
             ("Why this N", p.get("reason", "given to kvbench"))]
    if p.get("measure_seconds") is not None:
        facts.append(("Time spent measuring", f"{p['measure_seconds']:.0f} s"))
    if p.get("started") and p.get("finished"):
        facts.append(("make report up to the charts", f"{(p['finished'] - p['started']) / 60:.1f} "
                      "min (build, physical limits, pilot, runs)"))
    la = p.get("loadavg")
    if la:
        busy = max(la) > 0.75 * ((data.meta or {}).get("cores") or 1) + 1
        facts.append(("System load (1-minute average) before / after",
                      f"{la[0]:.1f} / {la[1]:.1f} (kvbench itself adds about 1)" +
                      ("; other processes were busy, so the figures are noisier" if busy else "")))
    facts.append(("Command", r.get("command", "?")))
    return facts


def micro_rows(data):
    rows = []
    for m in data.micros:
        ent = data.summary.get(("micro", m), {})
        bps = (ent.get("bytes_per_sec") or {}).get("median")
        rows.append((m, fmt_rate(ent.get("ops_per_sec", {}).get("median", 0)),
                     fmt_ns((ent.get("p50_ns") or {}).get("median", 0)),
                     f"{bps / 1e9:.3g} GB/s" if bps else "-",
                     "unstable" if ent.get("unstable") else "stable"))
    return rows


# ---- one document, written as HTML and as Markdown --------------------------------

CSS = """
body { font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #222;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.8em; margin-bottom: .2em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
p.lead { font-size: 1.1em; color: #444; }
p.limits { background: #f4f7fb; border-left: 4px solid #1f77b4; padding: .6em 1em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: right; vertical-align: top; }
th { background: #f6f6f6; } td.l, th.l { text-align: left; }
td.best { font-weight: bold; background: #eef7ee; }
.note { color: #777; font-size: 12px; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #333; margin-top: .4em; } p.small { color: #666; font-size: 13px; }
"""


class Cell:
    """A table cell with an optional small note below it and a 'best' mark."""

    def __init__(self, text, note=None, best=False):
        self.text, self.note, self.best = text, note, best

    def html(self, cls):
        note = f"<br><span class='note'>{esc(self.note)}</span>" if self.note else ""
        return f"<td class='{cls}{' best' if self.best else ''}'>{esc(self.text)}{note}</td>"

    def md(self):
        t = self.text + (f" ({self.note})" if self.note else "")
        return f"**{t}**" if self.best else t


class Doc:
    """Headings, paragraphs, tables, figures and lists, rendered twice."""

    def __init__(self):
        self.html, self.md = [], []

    def h(self, text, level=2):
        self.html.append(f"<h{level}>{esc(text)}</h{level}>")
        self.md += ["#" * level + " " + text, ""]

    def p(self, text, cls=""):
        self.html.append(f"<p class='{cls}'>{esc(text)}</p>")
        self.md += [f"**{text}**" if cls == "limits" else text, ""]

    def table(self, header, rows, left=1):
        def td(c, i):
            cls = "l" if i < left else ""
            return c.html(cls) if isinstance(c, Cell) else f"<td class='{cls}'>{esc(c)}</td>"

        def mdc(c):
            return (c.md() if isinstance(c, Cell) else str(c)).replace("|", "\\|")
        self.html.append("<table><tr>" + "".join(
            f"<th class='{'l' if i < left else ''}'>{esc(x)}</th>" for i, x in enumerate(header))
            + "</tr>" + "".join("<tr>" + "".join(td(c, i) for i, c in enumerate(r)) + "</tr>"
                                for r in rows) + "</table>")
        self.md += ["| " + " | ".join(mdc(h) for h in header) + " |",
                    "|" + "|".join("---" for _ in header) + "|"]
        self.md += ["| " + " | ".join(mdc(c) for c in r) + " |" for r in rows] + [""]

    def figure(self, name, title, caption):
        self.html.append(f"<figure><a href='charts/{name}.svg'><img src='charts/{name}.png' "
                         f"alt='{esc(title)}'></a><figcaption><b>What this shows.</b> "
                         f"{esc(caption)}</figcaption></figure>")
        self.md += [f"![{title}](charts/{name}.png)", "", f"*What this shows.* {caption}", ""]

    def ul(self, items):
        self.html.append("<ul>" + "".join(f"<li>{esc(x)}</li>" for x in items) + "</ul>")
        self.md += [f"- {x}" for x in items] + [""]

    def write(self, out, title):
        (out / "index.html").write_text(
            f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{esc(title)}"
            f"</title><style>{CSS}</style></head><body>\n<h1>{esc(title)}</h1>\n" +
            "\n".join(self.html) + "\n</body></html>\n")
        (out / "report.md").write_text(f"# {title}\n\n" + "\n".join(self.md))


def render(out):
    out = Path(out)
    data = Data(out)
    if not data.docs:
        print(f"report: no results in {data.results_dir}", file=sys.stderr)
        return 1
    shutil.rmtree(out / "charts", ignore_errors=True)
    charts = make_charts(data)
    unst = unstable_rows(data)
    peers_rows = peer_settings(Path(__file__).resolve().parent.parent)
    reps = repeats_of(data)
    d = Doc()
    d.p(f"{len(data.engines)} engines ({', '.join(data.engines)}), {len(data.workloads)} "
        f"workloads, N = {data.plan.get('n') or data.run.get('n', 0):,} keys of "
        f"{data.run.get('key_size', 16)} bytes with {data.run.get('value_size', 100)}-byte "
        f"values, {reps} repeat{'s' if reps != 1 else ''}; every figure is the median over "
        f"the repeats.", "lead")
    d.p(f"Physical limits of this machine: {physical_line(data.physical)}.", "limits")
    d.p(throughput_text(data, False))
    d.h("Headline: ops/s per workload")
    d.p("Each cell: median ops/s and its ratio to the best peer on that workload (bold: the "
        "fastest engine; ~: unstable, CV over the repeats above 5%).", "small")
    d.table(["workload"] + data.engines, headline(data))
    for name, title, text in charts:
        d.h(title)
        d.figure(name, title, text)
    if data.micros:
        d.h("Micro-benchmarks")
        d.table(["micro-benchmark", "ops/s", "p50", "throughput", "stability"], micro_rows(data))
    d.h("Stability")
    d.p(stability_text(data, unst))
    if unst and reps > 1:
        d.table(["engine", "workload", "ops/s CV", "p99 CV"], unst, left=2)
    d.h("This run")
    d.table(["", ""], run_facts(data))
    d.h("Engine settings")
    d.table(["engine", "kind", "capabilities", "options", "summary"], settings_rows(data), left=5)
    if peers_rows:
        d.p("The peers' settings, from bench/peers/README.md:", "small")
        d.table(peers_rows[0], peers_rows[1:], left=len(peers_rows[0]))
    d.h("Machine")
    d.table(["", ""], meta_rows(data))
    d.h("Notes")
    d.ul(notes(data))
    d.p("Generated by bench/report.py from kvbench's result files (results/*.json, one per "
        "engine, workload and repeat; schema bench/results.schema.json).", "small")
    d.write(out, "kvlabs cross-engine benchmark")
    print(f"report: rendered {out / 'index.html'}, {out / 'report.md'} and "
          f"{2 * len(charts)} chart files in {out / 'charts'}")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description="kvlabs cross-engine benchmark report")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="measure (physical, kvbench), then render")
    r.add_argument("--kvbench", required=True, help="the kvbench binary (release build)")
    r.add_argument("--out", required=True, help="the report directory, e.g. build/report")
    r.add_argument("--full", action="store_true", help="sweep N over 1e4..1e7 (long)")
    r.add_argument("-n", type=int, default=0, help="N (default: chosen by a pilot run)")
    r.add_argument("--repeats", type=int, default=0, help="repeats (default 3)")
    r.add_argument("--budget", type=float, default=360.0,
                   help="seconds allowed for the measured runs when choosing N (default 360)")
    r.add_argument("--physical-args", default="",
                   help="extra flags for `kvbench physical` (the tests shrink it)")
    r.add_argument("--started", type=float, default=0.0,
                   help="epoch seconds when `make report` started (for the total time)")
    d = sub.add_parser("render", help="render an existing report directory")
    d.add_argument("dir")
    a = ap.parse_args(argv)
    if a.cmd == "run":
        return cmd_run(a)
    return render(a.dir)


if __name__ == "__main__":
    sys.exit(main())
