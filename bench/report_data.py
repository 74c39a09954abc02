"""report_data.py -- what a report is made of: kvbench's files, checked, and
the figures read from them (used by report.py; Python 3 standard library).

Loading. A report directory holds results/ (one JSON file per engine,
workload and repeat, plus kvbench's run.json and summary.json), plan.json
(what report.py decided) and physical.json. Every result file is parsed
strictly (NaN and Infinity are not JSON) and validated against
common/schema/results.schema.json with validate() below, which implements the same
subset of JSON Schema as common's kv_json_validate (type, enum, const,
minimum, maximum, minLength, required, properties, additionalProperties,
items) and refuses any other keyword, so it never promises a check it does
not make. A file that fails either way raises ReportError naming the file,
and `make report` fails: an engine never drops out of the tables silently.
The other files may be missing (a re-render of old results); present but
unparseable is an error too.

Figures. Throughput and latency are the medians of kvbench's summary.json.
The memory after the load is read from the result files themselves (every
store-based result records it in extra.load_*): RSS growth, heap growth
(mallinfo2) and the engine's own count, each a median over the repeats.

Classes. An engine is durable when its open store reports KV_CAP_DURABLE
(extra.durable in its results; run.json's capabilities for results written
before kvbench recorded it), and in-memory otherwise. The report ranks
engines within each class as well as overall, because an engine that keeps
nothing on disk is not doing a durable engine's job faster.

Callers must not catch ReportError to carry on with fewer engines: that is
the silent drop-out this module exists to prevent.
"""

import json
import math
import re
from pathlib import Path

PEERS = ["leveldb", "rocksdb", "lmdb", "sqlite"]
WORKLOADS = ["fillseq", "fillrandom", "overwrite", "readrandom", "readmissing", "readseq",
             "scan", "ycsb-a", "ycsb-b", "ycsb-c", "ycsb-f", "ycsb-d", "ycsb-e", "deleterandom"]
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "common" / "schema" / "results.schema.json"
RESULT_NAME = re.compile(r"^.+\.r\d+\.json$")
DURABLE, IN_MEMORY = "durable", "in-memory"
CLASSES = [DURABLE, IN_MEMORY]
CLASS_WHAT = {DURABLE: "data survives kv_sync and a crash: KV_CAP_DURABLE",
              IN_MEMORY: "data lives only in memory: no KV_CAP_DURABLE"}
# Two memory figures "disagree" when they differ by more than this factor,
# each counted as at least MEM_FLOOR (page-sized noise below it means nothing).
MEM_DISAGREE = 2.0
MEM_FLOOR = 256 * 1024
UNSTABLE_CV = 0.05  # kvbench's flag: a throughput CV over the repeats above 5%


class ReportError(Exception):
    """A file the report cannot trust; the message names it."""


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
    if r >= 10000:
        return "over 10000x"
    return f"{r:.2g}x" if r < 10 else f"{r:.0f}x"


def fmt_secs(s):
    """Seconds for humans: '48 s', '4 min 48 s'."""
    s = int(round(s))
    return f"{s // 60} min {s % 60} s" if s >= 60 else f"{s} s"


def median(v):
    v = sorted(v)
    if not v:
        return None
    k = len(v) // 2
    return v[k] if len(v) % 2 else (v[k - 1] + v[k]) / 2


# ---- strict JSON and the schema ------------------------------------------------

def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def parse_json(path):
    """The document in path; ReportError naming the file when it is not JSON."""
    try:
        return json.loads(Path(path).read_text(), parse_constant=_no_constant)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ReportError(f"{path}: cannot parse it: {e}") from None


def load_optional(path, default):
    """A file the report can do without: default when absent, strict when present."""
    return parse_json(path) if Path(path).exists() else default


SUPPORTED = {"type", "enum", "const", "minimum", "maximum", "minLength", "required",
             "properties", "additionalProperties", "items",
             "$schema", "$id", "$comment", "title", "description", "default", "examples"}


def _is_type(v, t):
    number = isinstance(v, (int, float)) and not isinstance(v, bool)
    return {"null": v is None, "boolean": isinstance(v, bool), "object": isinstance(v, dict),
            "array": isinstance(v, list), "string": isinstance(v, str),
            "number": number and math.isfinite(v),
            "integer": number and math.isfinite(v) and float(v).is_integer()}.get(t, False)


def validate(schema, doc, ptr=""):
    """The first violation of schema by doc ('/result/ops: ...'), or None."""
    where = ptr or "/"
    if schema is True:
        return None
    if schema is False or not isinstance(schema, dict):
        return f"{where}: not allowed by the schema"
    bad = sorted(set(schema) - SUPPORTED)
    if bad:
        raise ReportError(f"{SCHEMA_PATH}: schema {where}: unsupported keyword {bad[0]!r}")
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(doc, t) for t in types):
            return f"{where}: expected {' or '.join(types)}"
    if "enum" in schema and doc not in schema["enum"]:
        return f"{where}: not one of the allowed values"
    if "const" in schema and doc != schema["const"]:
        return f"{where}: must be {json.dumps(schema['const'])}"
    if _is_type(doc, "number"):
        if "minimum" in schema and doc < schema["minimum"]:
            return f"{where}: {doc} is less than the minimum {schema['minimum']}"
        if "maximum" in schema and doc > schema["maximum"]:
            return f"{where}: {doc} is more than the maximum {schema['maximum']}"
    if isinstance(doc, str) and len(doc) < schema.get("minLength", 0):
        return f"{where}: shorter than {schema['minLength']} characters"
    if isinstance(doc, dict):
        for k in schema.get("required", []):
            if k not in doc:
                return f"{ptr}/{k}: required property is missing"
        props = schema.get("properties", {})
        for k, v in doc.items():
            sub = props.get(k, schema.get("additionalProperties", True))
            why = validate(sub, v, f"{ptr}/{k}")
            if why:
                return why
    if isinstance(doc, list) and "items" in schema:
        for i, v in enumerate(doc):
            why = validate(schema["items"], v, f"{ptr}/{i}")
            if why:
                return why
    return None


def load_results(d, schema):
    """Every per-repeat result document of a directory, each parsed and valid."""
    docs = []
    for p in sorted(Path(d).glob("*.json")):
        if not RESULT_NAME.match(p.name):
            continue
        doc = parse_json(p)
        why = validate(schema, doc)
        if why:
            raise ReportError(f"{p}: not a valid result (common/schema/results.schema.json): {why}")
        docs.append(doc)
    return docs


# ---- the data of one report -----------------------------------------------------

class Data:
    """Everything a report is made of (raises ReportError on a bad file)."""

    def __init__(self, out):
        self.out = Path(out)
        self.results_dir = self.out / "results"
        self.docs = load_results(self.results_dir, parse_json(SCHEMA_PATH))
        summ = load_optional(self.results_dir / "summary.json", {})
        self.summary = {(e["engine"], e["workload"]): e for e in summ.get("entries", [])}
        self.run = load_optional(self.results_dir / "run.json", {})
        self.plan = load_optional(self.out / "plan.json", {})
        self.physical = load_optional(self.out / "physical.json", None)
        self.meta = self.run.get("meta") or (self.docs[0]["meta"] if self.docs else {})
        run_engines = [e["spec"] for e in self.run.get("engines", [])]
        # The result files are the truth: an engine is in the report when it has some.
        seen = sorted({d["engine"] for d in self.docs if d["engine"] != "micro"})
        self.engines = [e for e in run_engines if e in seen] + \
            [e for e in seen if e not in run_engines]
        self.missing = [e for e in run_engines if e not in seen]
        self.engine_info = {e["spec"]: e for e in self.run.get("engines", [])}
        self.workloads = [w for w in WORKLOADS if any((e, w) in self.summary for e in self.engines)]
        self.micros = sorted(w for e, w in self.summary if e == "micro")
        self.sweep = {}
        for d in sorted((self.out / "sweep").glob("n*")) if (self.out / "sweep").is_dir() else []:
            try:
                n = int(d.name[1:])
            except ValueError:
                continue
            s = load_optional(d / "summary.json", {})
            self.sweep[n] = {(e["engine"], e["workload"]): e for e in s.get("entries", [])}
        self._mem = {e: self._load_memory(e) for e in self.engines}

    def kind(self, engine):
        info = self.engine_info.get(engine)
        if info:
            return info.get("kind", "")
        name = engine.split(":", 1)[0]
        return "peer" if name in PEERS else ("reference" if name == "model" else "kvlabs")

    def klass(self, engine):
        """DURABLE or IN_MEMORY: the open store's KV_CAP_DURABLE, as recorded."""
        flags = [d["extra"]["durable"] for d in self.docs
                 if d["engine"] == engine and "durable" in d.get("extra", {})]
        if flags:
            return DURABLE if max(flags) else IN_MEMORY
        caps = self.engine_info.get(engine, {}).get("caps", "")
        return DURABLE if "durable" in caps.split(",") else IN_MEMORY

    def in_class(self, klass):
        return [e for e in self.engines if self.klass(e) == klass]

    def label(self, engine):
        return f"{engine} ({self.klass(engine)})"

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

    # ---- memory after the load ----

    def _load_memory(self, engine):
        """Medians over the repeats of the load's RSS, heap and engine figures."""
        per_repeat = {}
        for d in self.docs:
            x = d.get("extra", {})
            if d["engine"] == engine and "load_mem_bytes" in x:
                per_repeat.setdefault(d["repeat"], x)
        xs = list(per_repeat.values())

        def med(key):
            v = [x[key] for x in xs if key in x]
            return median(v) if v else None
        eng = med("load_engine_mem_bytes")
        return {"rss": med("load_mem_bytes"), "heap": med("load_heap_bytes"),
                "engine": eng if eng else None,  # 0: the engine keeps no count
                "fresh": bool(xs) and all(x.get("load_fresh_process") == 1 for x in xs),
                "repeats": len(xs)}

    def memory(self, engine):
        return self._mem.get(engine) or {"rss": None, "heap": None, "engine": None,
                                         "fresh": False, "repeats": 0}


MEM_NAMES = {"rss": "RSS growth", "heap": "heap growth", "engine": "own count"}


def mem_disagreements(m):
    """[(name_hi, value_hi, name_lo, value_lo, ratio)] for each pair of an engine's memory
    figures that differ by more than MEM_DISAGREE when each is counted as at least
    MEM_FLOOR; the ratio given is the true one (value_hi / value_lo)."""
    out = []
    keys = [k for k in ("rss", "heap", "engine") if m.get(k) is not None]
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            va, vb = max(m[a], MEM_FLOOR), max(m[b], MEM_FLOOR)
            if max(va, vb) / min(va, vb) > MEM_DISAGREE:
                hi, lo = (a, b) if va >= vb else (b, a)
                out.append((hi, m[hi], lo, m[lo], m[hi] / max(m[lo], 1)))
    return out


def why_disagree(hi, lo):
    """The usual reason one memory figure exceeds another."""
    return {
        ("rss", "heap"): "RSS also counts pages outside malloc's heap in use: mapped files (a "
                         "memory map of the data, a shared segment), thread stacks, and memory "
                         "freed back to malloc but kept resident (other threads' arenas)",
        ("heap", "rss"): "the heap grew without touching new pages: malloc handed out memory "
                         "the process already had, or pages not touched yet",
        ("engine", "heap"): "the engine counts memory it did not get from malloc (a mapped "
                            "file or segment) or reserves more than it touches",
        ("heap", "engine"): "the engine's own count leaves out part of what it allocated "
                            "(buffers, caches, allocator overhead, the library's own structures)",
        ("engine", "rss"): "the engine counts memory whose pages are not resident (reserved or "
                           "reused), or RSS missed it",
        ("rss", "engine"): "RSS counts more than the engine's own count: mapped file pages, "
                           "thread stacks, buffers the count leaves out",
    }[(hi, lo)]
