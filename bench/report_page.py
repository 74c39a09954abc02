"""report_page.py -- the report's charts, tables and page: render(DIR) writes
DIR/index.html, DIR/report.md and DIR/charts/ (used by report.py; Python 3
standard library plus gnuplot).

One document is built once (Doc) and written twice, as HTML without
JavaScript and as Markdown. Charts are gnuplot scripts kept in
charts/data/ beside their data, rendered to PNG (pngcairo when it works,
else png) and SVG. The page, top to bottom: the lead (engines and their
class, N, repeats, the wall time of make report), the physical limits,
the throughput summary, one headline table per class (durable, in-memory;
each cell's ratio is to the best peer of its class, or to the best engine
of a class without peers), the charts with their captions, the memory
table (RSS, heap and the engine's count after the load, and whether they
agree), micro-benchmarks, the LSM tree against the B+ trees and the peers
(report_storage.py), stability, the Raft cluster against etcd
(report_cluster.py), this run, engine settings, machine,
notes.

render() raises ReportError (report_data.py) for a file it cannot trust;
it never renders a report with an engine silently missing.
"""

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

from report_cluster import load as load_cluster, section as cluster_section
from report_storage import section as storage_section
from report_data import (CLASS_WHAT, DURABLE, IN_MEMORY, Data, ReportError, fmt_bytes,
                         fmt_ns, fmt_rate, fmt_secs)
from report_text import (classes_present, classes_text, footprint_text, latency_text, memory_check, notes,
                         repeats_of, scaling_text, stability_text, throughput_text,
                         unstable_rows, wall_text)

LATENCY_WORKLOADS = ["readrandom", "fillrandom", "ycsb-a"]
SCALING_WORKLOADS = ["fillrandom", "readrandom", "ycsb-a"]
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
          "#7f7f7f", "#bcbd22", "#17becf"]


def esc(s):
    return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


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


def raw_bytes(data):
    n = data.plan.get("n") or data.run.get("n") or 0
    return n * ((data.run.get("key_size") or 16) + (data.run.get("value_size") or 100))


def make_charts(data):
    ch = Charts(data.out)
    out = []
    if data.engines and data.workloads:
        vals = [[data.ops(e, w) for e in data.engines] for w in data.workloads]
        log = bars(ch, "throughput", "Throughput per workload (median over repeats)",
                   "ops/s", data.workloads, [data.label(e) for e in data.engines], vals)
        out.append(("throughput", "Throughput per workload and engine", throughput_text(data, log)))
    for w in LATENCY_WORKLOADS:
        if w not in data.workloads:
            continue
        engs = [e for e in data.engines if data.fig(e, w, "p50_ns")]
        vals = [[(data.fig(e, w, k) or 0) / 1000 for k in ("p50_ns", "p99_ns", "p999_ns")]
                for e in engs]
        bars(ch, f"latency-{w}", f"Latency percentiles: {w}", "microseconds",
             [data.label(e) for e in engs], ["p50", "p99", "p99.9"], vals)
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
    raw = raw_bytes(data)
    engs = [e for e in data.engines if data.load_fig(e, "load_disk_bytes") is not None]
    if engs and raw:
        mib = [(data.load_fig(e, "load_disk_bytes") or 0) / 2**20 for e in engs]
        mem = [data.memory(e) for e in engs]

        def col(k):
            return [None if m[k] is None else m[k] / 2**20 for m in mem]
        vals = list(zip(mib, col("rss"), col("heap"), col("engine"), [raw / 2**20] * len(engs)))
        bars(ch, "footprint", "Disk and memory after the load", "MiB",
             [data.label(e) for e in engs],
             ["disk", "RSS growth", "heap growth", "engine's own count", "raw keys+values"],
             [list(v) for v in vals], log_ok=False)
        out.append(("footprint", "Disk size and memory after the load", footprint_text(data, raw)))
    return out


# ---- tables ----------------------------------------------------------------------

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


def headline(data, klass):
    """Rows: workloads; columns: the engines of one class; a Cell each.

    The ratio is to the best peer of the class, or to the best engine of a
    class without peers; bold marks the fastest of the class, '*' the
    fastest of all engines (shown only when there is more than one class)."""
    engs = data.in_class(klass)
    peers = [e for e in engs if data.kind(e) == "peer"]
    ref = peers or engs
    several = len(classes_present(data)) > 1
    rows = []
    for w in data.workloads:
        vals = {e: data.ops(e, w) for e in engs}
        if all(v is None for v in vals.values()):
            continue
        best_ref = max([vals[e] or 0 for e in ref] or [0])
        best = max(v or 0 for v in vals.values())
        best_all = max([data.ops(e, w) or 0 for e in data.engines] or [0])
        row = [w]
        for e in engs:
            v = vals[e]
            if v is None:
                row.append("-")
                continue
            unst = data.summary.get((e, w), {}).get("unstable", False)
            mark = (" ~" if unst else "") + (" *" if several and v == best_all else "")
            row.append(Cell(fmt_rate(v) + mark, f"{v / best_ref:.2f}x" if best_ref else None,
                            v == best))
        rows.append(row)
    return rows


def headline_caption(data, klass):
    engs = data.in_class(klass)
    peers = [e for e in engs if data.kind(e) == "peer"]
    ref = (f"its ratio to the best peer of the class ({', '.join(peers)}) on that workload"
           if peers else "its ratio to the fastest engine of the class on that workload, "
           "as no peer is in this class")
    star = ("; *: the fastest of all engines, of either class" if
            len(classes_present(data)) > 1 else "")
    what = CLASS_WHAT[klass]
    return (f"{what[0].upper() + what[1:]}. Each cell: median ops/s and {ref} (bold: the "
            f"fastest {klass} engine; ~: unstable, CV over the repeats above 5%{star}).")


def memory_rows(data):
    n = data.plan.get("n") or data.run.get("n") or 0
    rows = []
    for e in data.engines:
        m = data.memory(e)
        if not m["repeats"]:
            continue
        figs = [m[k] for k in ("rss", "heap", "engine") if m[k] is not None]

        def b(k):
            return "-" if m[k] is None else fmt_bytes(m[k])
        per_key = f"{max(figs) / n:.0f}" if figs and n else "-"
        rows.append((e, data.klass(e), b("rss"), b("heap"), b("engine"), per_key,
                     memory_check(m) + ("" if m["fresh"] else "; not in a fresh process")))
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


def settings_rows(data):
    rows = []
    for e in data.engines:
        info = data.engine_info.get(e, {})
        opts = ", ".join(f"{k}={v}" for k, v in info.get("defaults", {}).items())
        given = info.get("options", "")
        rows.append((e, info.get("kind", data.kind(e)), data.klass(e), info.get("caps", ""),
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
    if p.get("wall_s") is not None:
        facts.append(("Wall time of make report", f"{fmt_secs(p['wall_s'])} (build, physical "
                      "limits, pilot, runs and charts, up to writing this page)"))
    la = p.get("loadavg")
    if la:
        busy = max(la) > 0.75 * ((data.meta or {}).get("cores") or 1) + 1
        facts.append(("System load (1-minute average) before / after",
                      f"{la[0]:.1f} / {la[-1]:.1f} (kvbench itself adds about 1)" +
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
h3 { margin-top: 1.2em; }
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


def stamp_wall_time(data):
    """When rendering at the end of `report.py run` (plan has 'started' but no
    'wall_s' yet): the wall time of make report up to now, kept in plan.json so
    a later re-render shows the same figure."""
    p = data.plan
    if p.get("started") and p.get("wall_s") is None:
        p["wall_s"] = round(time.time() - p["started"], 1)
        (data.out / "plan.json").write_text(json.dumps(p, indent=2) + "\n")


def render(out):
    """Write the report of DIR and return 0; ReportError when a file cannot be trusted
    or there are no results at all."""
    out = Path(out)
    data = Data(out)
    if not data.docs:
        raise ReportError(f"{data.results_dir}: no result files")
    cluster = load_cluster(out)  # checked before any chart is drawn
    shutil.rmtree(out / "charts", ignore_errors=True)
    charts = make_charts(data)
    unst = unstable_rows(data)
    peers_rows = peer_settings(Path(__file__).resolve().parent.parent)
    reps = repeats_of(data)
    stamp_wall_time(data)
    d = Doc()
    wall = wall_text(data)
    d.p(f"{len(data.engines)} engines ({', '.join(data.label(e) for e in data.engines)}), "
        f"{len(data.workloads)} workloads, N = {data.plan.get('n') or data.run.get('n', 0):,} "
        f"keys of {data.run.get('key_size', 16)} bytes with {data.run.get('value_size', 100)}"
        f"-byte values, {reps} repeat{'s' if reps != 1 else ''}; every figure is the median "
        f"over the repeats." + (f" Wall time: {wall}." if wall else ""), "lead")
    d.p(f"Physical limits of this machine: {physical_line(data.physical)}.", "limits")
    d.p("Classes. " + classes_text(data))
    d.p(throughput_text(data, False))
    d.h("Headline: ops/s per workload")
    for k in (DURABLE, IN_MEMORY):
        if data.in_class(k):
            d.h(f"{k[0].upper() + k[1:]} engines", 3)
            d.p(headline_caption(data, k), "small")
            d.table(["workload"] + data.in_class(k), headline(data, k))
    for name, title, text in charts:
        d.h(title)
        d.figure(name, title, text)
    mem = memory_rows(data)
    if mem:
        d.h("Memory after the load: three measures")
        d.p("RSS growth and heap growth of the engine's own process from just before it opened "
            "to after the load and a kv_sync (the process had done nothing else), and the "
            "engine's own count (kv_stats.mem_bytes; - when it keeps none); bytes per key from "
            "the largest of the three.", "small")
        d.table(["engine", "class", "RSS growth", "heap growth", "engine's count",
                 "bytes/key", "cross-check"], mem, left=2)
    if data.micros:
        d.h("Micro-benchmarks")
        d.table(["micro-benchmark", "ops/s", "p50", "throughput", "stability"], micro_rows(data))
    storage_section(d, data)  # sprint 4's LSM tree against the B+ trees and the peers
    d.h("Stability")
    d.p(stability_text(data, unst))
    if unst and reps > 1:
        d.table(["engine", "workload", "ops/s CV", "p99 CV"], unst, left=2)
    cluster_section(d, *cluster)  # sprint 5's cluster against etcd, or why it was skipped
    d.h("This run")
    d.table(["", ""], run_facts(data))
    d.h("Engine settings")
    d.table(["engine", "kind", "class", "capabilities", "options", "summary"],
            settings_rows(data), left=6)
    if peers_rows:
        d.p("The peers' settings, from bench/peers/README.md:", "small")
        d.table(peers_rows[0], peers_rows[1:], left=len(peers_rows[0]))
    d.h("Machine")
    d.table(["", ""], meta_rows(data))
    d.h("Notes")
    d.ul(notes(data))
    d.p("Generated by bench/report.py from kvbench's result files (results/*.json, one per "
        "engine, workload and repeat; schema common/schema/results.schema.json, every file checked).",
        "small")
    d.write(out, "kvlabs cross-engine benchmark")
    print(f"report: rendered {out / 'index.html'}, {out / 'report.md'} and "
          f"{2 * len(charts)} chart files in {out / 'charts'}")
    return 0

