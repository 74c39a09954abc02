"""report_cluster.py -- the report's section on the Raft cluster of sprint 5
(Python 3 standard library only; used by report.py and report_page.py).

What it is. `make report` also measures sprint 5's kvnode cluster against a
3-node etcd on the same machine, by running the lab's own benchmark
(sprint-5-production-features/distributed/bench/cluster_bench.py, the script
behind `make bench-cluster`) with short loads, and this module renders what
that script wrote: put and get throughput with 1 and 16 clients, p50 and
p99 latency, etcd's `etcdctl check perf` verdict, and the failover trials
(a new leader's election time and the write gap after a SIGKILL of the
leader).

How it works. run() starts the script in a process group of its own with a
time limit (SIGINT on expiry, so the script stops both clusters, then
SIGKILL of the whole group), and writes DIR/cluster/cluster_bench.json, or
DIR/cluster/skipped.txt with the reason when it could not run (etcd or
etcdctl missing, kvnode not built, the script failed or ran out of time).
load() reads that back: the JSON strictly and validated against
common/schema/cluster.schema.json (a file that fails either check raises
ReportError naming it, as a kvbench result does), or the skip reason.
section() adds the tables and sentences to the report's Doc
(report_page.render() loads first, so a bad file stops it before any chart
is drawn).

Callers must not treat a missing section as a pass: the page always says
either what was measured or why the cluster was skipped.
"""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from report_data import ReportError, parse_json, validate

SCHEMA = Path(__file__).resolve().parent.parent / "common" / "schema" / "cluster.schema.json"
SCRIPT = (Path(__file__).resolve().parent.parent / "sprint-5-production-features" /
          "distributed" / "bench" / "cluster_bench.py")
RESULT, SKIPPED = "cluster_bench.json", "skipped.txt"


def _skip(d, why):
    (d / SKIPPED).write_text(why + "\n")
    print(f"report: cluster section skipped: {why}", flush=True)
    return why


def run(out, bindir, seconds=2, trials=3, limit=300.0):
    """Run the cluster benchmark into OUT/cluster; returns None or the skip reason."""
    d = Path(out) / "cluster"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    if not bindir:
        return _skip(d, "not run: report.py was given no --cluster-bindir")
    missing = [t for t in ("etcd", "etcdctl") if shutil.which(t) is None]
    if missing:
        return _skip(d, f"{' and '.join(missing)} not installed (scripts/install-deps.sh: "
                        "etcd-server, etcd-client), so there is no etcd to compare with")
    for b in ("kvnode", "cluster_load"):
        if not os.access(os.path.join(bindir, b), os.X_OK):
            return _skip(d, f"{os.path.join(bindir, b)} is not built")
    cmd = ["python3", str(SCRIPT), "--bindir", bindir, "--out", str(d), "--seconds",
           str(seconds), "--trials", str(trials)]
    print("report: " + " ".join(cmd), flush=True)
    t0 = time.time()
    p = subprocess.Popen(cmd, start_new_session=True)
    try:
        rc = p.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGINT)  # the script stops both clusters on Ctrl-C
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
        (d / RESULT).unlink(missing_ok=True)
        return _skip(d, f"the cluster benchmark ran out of its {limit:.0f} s")
    if rc != 0 or not (d / RESULT).exists():
        return _skip(d, f"the cluster benchmark failed (exit {rc}) after {time.time() - t0:.0f} s")
    return None


def load(out):
    """(doc, None) from OUT/cluster, (None, reason) when skipped, (None, None) when absent."""
    d = Path(out) / "cluster"
    if (d / RESULT).exists():
        doc = parse_json(d / RESULT)
        why = validate(parse_json(SCHEMA), doc)
        if why:
            raise ReportError(f"{d / RESULT}: not a valid cluster result "
                              f"(common/schema/cluster.schema.json): {why}")
        return doc, None
    if (d / SKIPPED).exists():
        return None, (d / SKIPPED).read_text().strip() or "no reason recorded"
    return None, None


def _ms(v):
    return "none in 10 s" if v is None else f"{v:.0f}"


def facts(doc):
    """The figures the sentences state: ratios and elections under 1 s."""
    tp = {(r["cluster"], r["op"], int(r["clients"])): r["ops_s"] for r in doc["throughput"]}
    f = {}
    if tp.get(("etcd", "put", 16)) and ("kvnode", "put", 16) in tp:
        f["put16_ratio"] = tp[("kvnode", "put", 16)] / tp[("etcd", "put", 16)]
    gaps = {n: max(r["write_gap_ms"] for r in rows) for n, rows in doc["failover"].items() if rows}
    if gaps.get("etcd") and "kvnode" in gaps:
        f["gap_ratio"] = gaps["kvnode"] / gaps["etcd"]
    f["fast"] = {n: (sum(1 for r in rows if r["election_ms"] is not None
                         and r["election_ms"] < 1000), len(rows))
                 for n, rows in doc["failover"].items()}
    return f


def section(d, doc, why):
    """Add the cluster section to Doc d: doc and why as load() gave them."""
    d.h("Raft cluster (sprint 5) against etcd")
    if doc is None:
        d.p("Not measured in this run: " + (why or "no cluster results in this report "
                                                "directory (a re-render of an older report)") + ".")
        return
    load_txt = ""
    if len(doc.get("loadavg", [])) == 2:
        load_txt = f" Load average {doc['loadavg'][0]:.1f} before, {doc['loadavg'][1]:.1f} after."
    d.p(f"Three kvnode processes and a 3-node etcd (Debian's etcd-server, default timings) on "
        f"loopback, both fsyncing every batch, driven by one load generator (cluster_load: "
        f"kvnode through engine raft, etcd through its HTTP gateway), {doc['seconds']} s per "
        f"load, 100-byte values over 1000 keys"
        + (f"; the run took {doc['wall_s']:.0f} s." if "wall_s" in doc else ".") + load_txt
        + " Compare the two clusters within this run: on a shared machine the absolute figures "
          "move between runs.", "small")
    d.table(["cluster", "op", "clients", "ops/s", "p50 ms", "p99 ms", "errors"],
            [[r["cluster"], r["op"], f"{r['clients']:.0f}", f"{r['ops_s']:.0f}",
              f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}", f"{r['errors']:.0f}"]
             for r in doc["throughput"]], left=2)
    f = facts(doc)
    said = []
    if "put16_ratio" in f:
        said.append(f"Put throughput with 16 clients, kvnode / etcd: {f['put16_ratio']:.2f}x "
                    f"(sprint 5's target: at least 2x).")
    if doc["check_perf"]:
        said.append("etcd's own figure, `etcdctl check perf --load=s` (its client, no gateway): "
                    + "; ".join(doc["check_perf"]) + ".")
    elif "etcd" in doc["clusters"]:
        said.append("`etcdctl check perf` was not run (--no-check-perf).")
    if said:
        d.p(" ".join(said))
    rows = [[name, str(r["trial"]), _ms(r["election_ms"]), f"{r['write_gap_ms']:.0f}"]
            for name, trials in doc["failover"].items() for r in trials]
    if rows:
        d.h("Failover: SIGKILL of the leader under 4 clients' puts", 3)
        d.p("Election: from the kill to the first poll (every 10 ms, plus the poll's own cost) "
            "that finds a new leader. Write gap: the longest time without a successful put.",
            "small")
        d.table(["cluster", "trial", "election ms", "write gap ms"], rows, left=1)
        said = [f"{n}: a new leader in under 1 s in {k} of {t} trials." for n, (k, t)
                in f["fast"].items()]
        if "gap_ratio" in f:
            said.append(f"Worst write gap, kvnode / etcd: {f['gap_ratio']:.2f}x (target: at "
                        f"most 0.5x).")
        d.p(" ".join(said))
