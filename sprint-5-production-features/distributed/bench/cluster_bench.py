#!/usr/bin/env python3
"""cluster_bench.py -- kvnode against etcd, in one run on one machine.

Run by `make -C sprint-5-production-features bench-cluster` (release build).
It starts two 3-node clusters on loopback: kvnode (`kvnode cluster up 3`)
and etcd (Debian's etcd-server, default timings: heartbeat 100 ms, election
1000 ms); both fsync every batch of writes before acknowledging it. Then:

1. throughput and latency: cluster_load (one load generator for both; etcd
   through its HTTP gateway) puts and gets with 1 and 16 clients, SECONDS
   each; `etcdctl check perf` (etcd's own figure, without the gateway's
   cost) is printed beside them unless --no-check-perf;
2. failover, TRIALS times per cluster: 4 clients put; after 2 s the leader
   is killed with SIGKILL; the election time is the time from the kill to
   the first poll (every 10 ms) that finds a new leader, the write gap is the
   load generator's longest time without a successful put. The killed node
   is restarted and the cluster given time to settle before the next trial.

The tables (markdown) go to stdout and to OUT/cluster_bench.md, the raw
numbers to OUT/cluster_bench.json (schema common/schema/cluster.schema.json:
`make report` renders it as its cluster section, bench/report_cluster.py).
Everything it starts is stopped at the end, also on Ctrl-C. Without etcd or
etcdctl it stops with a message (exit 2), unless --clusters kvnode: then
the kvnode figures alone (no ratios). Plain python3, standard library only.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def parse_kv(line):
    return {k: (float(v) if re.fullmatch(r"-?[0-9.]+", v) else v)
            for k, v in (tok.split("=", 1) for tok in line.split() if "=" in tok)}


class Kvnode:
    name = "kvnode"

    def __init__(self, bindir, root):
        self.bindir, self.dir = bindir, os.path.join(root, "kvnode")
        self.conf = os.path.join(self.dir, "cluster.conf")
        self.up = subprocess.Popen([os.path.join(bindir, "kvnode"), "cluster", "up", "3",
                                    "--dir", self.dir], stdout=subprocess.PIPE, text=True)
        self.pids = {}
        while len(self.pids) < 3:
            line = self.up.stdout.readline()
            if not line:
                raise RuntimeError("kvnode cluster up exited")
            m = re.match(r"node (\d+): .* pid (\d+)", line)
            if m:
                self.pids[int(m.group(1))] = int(m.group(2))
        self.extra = {}

    def load_cmd(self):
        return ["--target", "raft", "--cluster", self.conf]

    def leader(self):
        out = subprocess.run([os.path.join(self.bindir, "cluster_load"), "--target", "raft",
                              "--cluster", self.conf, "--leader"],
                             capture_output=True, text=True).stdout
        m = re.search(r"leader=(-?\d+)", out)
        return int(m.group(1)) if m and int(m.group(1)) >= 0 else None

    def kill(self, i):
        os.kill(self.pids[i], signal.SIGKILL)
        if i in self.extra:
            self.extra.pop(i).wait()

    def restart(self, i):
        log = open(os.path.join(self.dir, "n%d.log" % i), "a")
        p = subprocess.Popen([os.path.join(self.bindir, "kvnode"), "--id", str(i), "--cluster",
                              self.conf, "--dir", os.path.join(self.dir, "n%d" % i)],
                             stdout=log, stderr=log)
        self.pids[i] = p.pid
        self.extra[i] = p

    def stop(self):
        for p in self.extra.values():
            p.terminate()
            p.wait()
        self.up.send_signal(signal.SIGTERM)
        self.up.wait()


class Etcd:
    name = "etcd"

    def __init__(self, root):
        self.dir = os.path.join(root, "etcd")
        os.makedirs(self.dir)
        ports = free_ports(6)
        self.client = ["127.0.0.1:%d" % p for p in ports[:3]]
        self.peer = ["http://127.0.0.1:%d" % p for p in ports[3:]]
        self.initial = ",".join("e%d=%s" % (i, u) for i, u in enumerate(self.peer))
        self.procs = {}
        for i in range(3):
            self.start(i, "new")
        self.wait_leader(30)

    def start(self, i, state):
        log = open(os.path.join(self.dir, "e%d.log" % i), "a")
        self.procs[i] = subprocess.Popen(
            ["etcd", "--name", "e%d" % i, "--data-dir", os.path.join(self.dir, "e%d" % i),
             "--listen-client-urls", "http://" + self.client[i],
             "--advertise-client-urls", "http://" + self.client[i],
             "--listen-peer-urls", self.peer[i], "--initial-advertise-peer-urls", self.peer[i],
             "--initial-cluster", self.initial, "--initial-cluster-state", state,
             "--initial-cluster-token", "kvlabs-bench"], stdout=log, stderr=log)

    def load_cmd(self):
        return ["--target", "etcd", "--endpoints", ",".join(self.client)]

    def status(self, i):
        req = urllib.request.Request("http://%s/v3/maintenance/status" % self.client[i],
                                     data=b"{}", method="POST")
        with urllib.request.urlopen(req, timeout=0.2) as r:
            return json.load(r)

    def leader(self):
        for i in range(3):
            if self.procs[i].poll() is not None:
                continue
            try:
                st = self.status(i)
            except (OSError, ValueError):
                continue
            if st.get("leader") and st["leader"] == st["header"]["member_id"]:
                return i
        return None

    def wait_leader(self, secs):
        end = time.time() + secs
        while time.time() < end:
            if self.leader() is not None:
                return
            time.sleep(0.1)
        raise RuntimeError("etcd: no leader within %d s" % secs)

    def kill(self, i):
        self.procs[i].kill()
        self.procs[i].wait()

    def restart(self, i):
        self.start(i, "existing")

    def stop(self):
        for p in self.procs.values():
            p.terminate()
        for p in self.procs.values():
            p.wait()


def run_load(bindir, cluster, op, clients, seconds):
    out = subprocess.run([os.path.join(bindir, "cluster_load")] + cluster.load_cmd() +
                         ["--op", op, "--clients", str(clients), "--seconds", str(seconds)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("cluster_load failed: " + out.stderr.strip())
    return parse_kv(out.stdout.strip().splitlines()[-1])


def failover(bindir, cluster, trials):
    rows = []
    for t in range(trials):
        old = None
        for _ in range(100):
            old = cluster.leader()
            if old is not None:
                break
            time.sleep(0.1)
        load = subprocess.Popen([os.path.join(bindir, "cluster_load")] + cluster.load_cmd() +
                                ["--op", "put", "--clients", "4", "--seconds", "6"],
                                stdout=subprocess.PIPE, text=True)
        time.sleep(2)
        t0 = time.monotonic()
        cluster.kill(old)
        election = None
        while time.monotonic() - t0 < 10:
            new = cluster.leader()
            if new is not None and new != old:
                election = (time.monotonic() - t0) * 1000
                break
            time.sleep(0.01)
        res = parse_kv(load.communicate()[0].strip().splitlines()[-1])
        rows.append({"trial": t + 1, "killed": old, "election_ms": election,
                     "write_gap_ms": res["max_gap_ms"], "errors": res["errors"]})
        cluster.restart(old)
        time.sleep(3)
    return rows


def check_perf(endpoints):
    out = subprocess.run(["etcdctl", "--endpoints=" + ",".join(endpoints), "check", "perf",
                          "--load=s"], capture_output=True, text=True)
    lines = []
    for l in (out.stdout + out.stderr).splitlines():
        m = re.search(r"(PASS|FAIL)\b.*", l)  # drop the progress bar printed before a verdict
        if m:
            lines.append(m.group(0).strip())
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--no-check-perf", action="store_true")
    ap.add_argument("--clusters", default="kvnode,etcd",
                    help="which clusters to run: kvnode,etcd (default) or kvnode")
    a = ap.parse_args()
    which = a.clusters.split(",")
    if not which or any(w not in ("kvnode", "etcd") for w in which):
        ap.error("--clusters: kvnode and/or etcd")
    if "etcd" in which and (shutil.which("etcd") is None or shutil.which("etcdctl") is None):
        print("cluster_bench: etcd and etcdctl are needed (scripts/install-deps.sh: "
              "etcd-server, etcd-client)", file=sys.stderr)
        sys.exit(2)
    os.makedirs(a.out, exist_ok=True)
    root = tempfile.mkdtemp(prefix="kvl-cluster-bench-")
    clusters = []
    started = time.time()
    results = {"schema": "kvlabs-cluster-bench/1", "seconds": a.seconds, "trials": a.trials,
               "clusters": which, "started": round(started, 3),
               "loadavg": [round(os.getloadavg()[0], 2)],
               "throughput": [], "failover": {}, "check_perf": []}
    try:
        if "kvnode" in which:
            clusters.append(Kvnode(a.bindir, root))
        if "etcd" in which:
            clusters.append(Etcd(root))
        time.sleep(1)
        for c in clusters:
            for op in ("put", "get"):
                for n in (1, 16):
                    r = run_load(a.bindir, c, op, n, a.seconds)
                    r["cluster"] = c.name
                    results["throughput"].append(r)
                    print("%-6s %s %2d clients: %8.1f ops/s  p50 %6.2f ms  p99 %7.2f ms  "
                          "errors %d" % (c.name, op, n, r["ops_s"], r["p50_ms"], r["p99_ms"],
                                         r["errors"]), flush=True)
        if not a.no_check_perf and "etcd" in which:
            results["check_perf"] = check_perf(clusters[-1].client)
        for c in clusters:
            results["failover"][c.name] = failover(a.bindir, c, a.trials)
    finally:
        for c in clusters:
            c.stop()
        shutil.rmtree(root, ignore_errors=True)
    results["loadavg"].append(round(os.getloadavg()[0], 2))
    results["wall_s"] = round(time.time() - started, 1)

    lines = ["## Throughput and latency (3 nodes, loopback, same run)", "",
             "| cluster | op | clients | ops/s | p50 ms | p99 ms | errors |",
             "|---|---|---|---|---|---|---|"]
    for r in results["throughput"]:
        lines.append("| %s | %s | %d | %.0f | %.2f | %.2f | %d |" % (
            r["cluster"], r["op"], r["clients"], r["ops_s"], r["p50_ms"], r["p99_ms"],
            r["errors"]))
    tp = {(r["cluster"], r["op"], r["clients"]): r["ops_s"] for r in results["throughput"]}
    if tp.get(("etcd", "put", 16)):
        lines += ["", "Put throughput with 16 clients, kvnode / etcd: %.2fx" %
                  (tp[("kvnode", "put", 16)] / tp[("etcd", "put", 16)])]
    if results["check_perf"]:
        lines += ["", "`etcdctl check perf --load=s` (etcd's own client, no gateway):", ""]
        lines += ["    " + l for l in results["check_perf"]]
    lines += ["", "## Failover: SIGKILL of the leader under 4 clients' puts", "",
              "| cluster | trial | election ms | write gap ms |", "|---|---|---|---|"]
    for name, rows in results["failover"].items():
        for r in rows:
            lines.append("| %s | %d | %s | %.0f |" % (
                name, r["trial"], "%.0f" % r["election_ms"] if r["election_ms"] else "none",
                r["write_gap_ms"]))
    gaps = {n: max(r["write_gap_ms"] for r in rows) for n, rows in results["failover"].items()
            if rows}
    if gaps.get("etcd") and "kvnode" in gaps:
        lines += ["", "Worst write gap, kvnode / etcd: %.2fx" % (gaps["kvnode"] / gaps["etcd"])]
    for name, rows in results["failover"].items():
        fast = sum(1 for r in rows if r["election_ms"] is not None and r["election_ms"] < 1000)
        lines += ["", "%s: a new leader in under 1 s in %d of %d trials" % (name, fast, len(rows))]
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    with open(os.path.join(a.out, "cluster_bench.md"), "w") as f:
        f.write(text)
    with open(os.path.join(a.out, "cluster_bench.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
