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

Choosing N. `make report` must finish within about ten minutes on two
cores, with however many engines exist (the report states its own wall
time, so the claim can be checked). So, unless N is given (REPORT_N=...), a
pilot runs the whole suite once at N = 50,000, and N is the largest of
10K, 20K, 50K, 100K, 200K, 300K, 500K, 1M, 2M, 5M whose projected time
fits the budget (default 360 s for the measured runs; the build, the
pilot, the physical measurements and the charts take the rest of the ten
minutes). The projection is pilot_time x (N / 50,000)^1.15 x repeats:
per-key costs grow with N (deeper trees, more LSM levels, fewer cache
hits), which the exponent above 1 allows for. The report states the
choice and the numbers behind it. Repeats default to 3 (the fewest that
give a median and a coefficient of variation).

Modules, one job each: this file measures (physical limits, the pilot,
kvbench); report_data.py loads and checks the files (a result that fails
to parse or to match common/schema/results.schema.json stops the report with exit
status 1, naming the file) and holds the figures; report_text.py writes
the sentences; report_page.py draws the charts and writes the page.

The cluster section. With --cluster-bindir (make report passes sprint 5's
release binaries), report_cluster.py runs the lab's cluster benchmark
(kvnode against a 3-node etcd: 2 s loads, 3 failover trials, at most
--cluster-limit seconds, default 300; about 2 minutes on 2 cores) after
kvbench, and the kvbench budget shrinks by CLUSTER_RESERVE seconds so the
whole target stays near ten minutes. Without etcd, or without the
binaries, the section states why it was skipped. --no-cluster leaves it
out (REPORT_CLUSTER=0).

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

sys.dont_write_bytecode = True  # no __pycache__ beside the sources (build output goes under build/)
sys.path.insert(0, str(Path(__file__).resolve().parent))
import report_cluster  # noqa: E402
from report_data import PEERS, ReportError, fmt_secs  # noqa: E402
from report_page import render  # noqa: E402

CANDIDATES = [10_000, 20_000, 50_000, 100_000, 200_000, 300_000, 500_000,
              1_000_000, 2_000_000, 5_000_000]
PILOT_N = 50_000
GROWTH = 1.15
SWEEP = [10_000, 100_000, 1_000_000, 10_000_000]
CLUSTER_RESERVE = 120.0  # seconds of the kvbench budget given to the cluster section


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
        budget = a.budget if a.no_cluster else max(60.0, a.budget - CLUSTER_RESERVE)
        if a.n:
            n, reason, pilot = a.n, "given on the command line (REPORT_N)", None
        else:
            n, reason, pilot = choose_n(a.kvbench, out, kinds, repeats, budget)
        plan.update(n=n, reason=reason, pilot=pilot)
        rc, secs = run_kvbench(a.kvbench, out / "results", n, repeats, suite_engines(kinds, n))
        plan["measure_seconds"] = round(secs, 1)
        status = rc
    if a.no_cluster:
        shutil.rmtree(out / "cluster", ignore_errors=True)
        (out / "cluster").mkdir()
        (out / "cluster" / report_cluster.SKIPPED).write_text("left out (REPORT_CLUSTER=0)\n")
    else:
        t0 = time.time()
        report_cluster.run(out, a.cluster_bindir, a.cluster_seconds, a.cluster_trials,
                           a.cluster_limit)
        plan["cluster_seconds"] = round(time.time() - t0, 1)
    plan["loadavg"].append(os.getloadavg()[0])
    plan["engines"] = suite_engines(kinds, max(SWEEP) if a.full else plan["n"])
    plan["kvbench_status"] = status
    plan["finished"] = time.time()
    (out / "plan.json").write_text(json.dumps(plan, indent=2) + "\n")
    render(out)  # stamps plan.json's wall_s: the wall time the page states
    total = time.time() - started
    print(f"report: {out / 'index.html'} and {out / 'report.md'} "
          f"(N={plan['n']:,}, {repeats} repeats, {fmt_secs(total)} in all)")
    if status:
        print(f"report: kvbench reported failures (exit {status}); see the notes in the report",
              file=sys.stderr)
    return 1 if status else 0


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
    r.add_argument("--cluster-bindir", default="",
                   help="sprint 5's release binaries (kvnode, cluster_load) for the cluster section")
    r.add_argument("--cluster-seconds", type=int, default=2, help="seconds per cluster load")
    r.add_argument("--cluster-trials", type=int, default=3, help="failover trials per cluster")
    r.add_argument("--cluster-limit", type=float, default=300.0,
                   help="the cluster benchmark's time limit in seconds (default 300)")
    r.add_argument("--no-cluster", action="store_true", help="leave the cluster section out")
    d = sub.add_parser("render", help="render an existing report directory")
    d.add_argument("dir")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "run":
            return cmd_run(a)
        return render(a.dir)
    except ReportError as e:
        print(f"report: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
