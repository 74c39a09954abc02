/*
 * kvbench_physical.c — `kvbench physical`: the machine's own limits, the
 * yardstick engines are read against.
 *
 * An engine at 2M gets/s is fast or slow only relative to what the machine
 * can do, so the report prints three physical figures beside the results:
 *
 *   memcpy bandwidth   copy a 256 MiB buffer into another (both touched
 *                      first, so no page faults are timed), best of 5;
 *                      GB/s = bytes copied / seconds. An in-memory store
 *                      that moves each value twice cannot beat half of it.
 *   sequential write   write 256 MiB in 1 MiB chunks to a file in the
 *                      --out directory, then fsync; MB/s over the whole,
 *                      fsync included. The ceiling of any log-structured
 *                      engine's ingest on that file system.
 *   fsync latency      200 rounds of a 4 KiB pwrite + fdatasync; p50 and
 *                      p99. The floor of a sync=always write's latency.
 *
 * Each phase is bounded in time (--max-seconds, default 20 s each): it
 * stops early and reports what it measured, so a slow disk or a tiny VM
 * does not stall `make report`. The sizes shrink with --mem-mib,
 * --write-mib and --fsyncs (the tests use a few MiB). The file is written
 * to --out's file system on purpose: that is where the engines' data
 * directories go by default. Output: physical.json in --out, and one line
 * on stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kvbench_int.h"
#include "kvlabs/alloc.h"
#include "kvlabs/json.h"

#define MIB (1024ull * 1024ull)

struct phys {
    uint64_t mem_bytes, mem_best_ns;
    unsigned mem_rounds;
    uint64_t wr_bytes, wr_ns;
    kv_hist fs;
};

static void measure_memcpy(const kvb_physical_opts *o, struct phys *p)
{
    size_t n = (size_t)(o->mem_mib * MIB);
    char *a = kv_malloc(n), *b = kv_malloc(n);
    uint64_t deadline = kv_now_ns() + (uint64_t)(o->max_seconds * 1e9);

    if (!a || !b || n == 0)
        goto out_free;
    memset(a, 0x5a, n);
    memset(b, 0xa5, n);
    p->mem_bytes = n;
    for (unsigned r = 0; r < 5 && (r == 0 || kv_now_ns() < deadline); r++) {
        uint64_t t0 = kv_now_ns(), dt;
        memcpy(b, a, n);
        dt = kv_now_ns() - t0;
        /* Make the copy observable so it cannot be elided. */
        a[(r * 4099) % n] = b[(r * 8191) % n];
        if (!p->mem_best_ns || dt < p->mem_best_ns)
            p->mem_best_ns = dt ? dt : 1;
        p->mem_rounds++;
    }
out_free:
    kv_free(a);
    kv_free(b);
}

static int write_chunk(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int measure_write(const kvb_physical_opts *o, const char *file, struct phys *p)
{
    char *buf = kv_malloc(MIB);
    uint64_t deadline = kv_now_ns() + (uint64_t)(o->max_seconds * 1e9), t0;
    kv_rng r;
    int fd, rc = 0;

    if (!buf)
        return -1;
    kv_rng_seed(&r, 7);
    for (size_t i = 0; i < MIB; i += 8) {
        uint64_t x = kv_rng_next(&r);
        memcpy(buf + i, &x, 8);
    }
    fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        kv_free(buf);
        return -1;
    }
    t0 = kv_now_ns();
    for (uint64_t i = 0; i < o->write_mib && (i == 0 || kv_now_ns() < deadline); i++) {
        if (write_chunk(fd, buf, MIB) != 0) {
            rc = -1;
            break;
        }
        p->wr_bytes += MIB;
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = -1;
    p->wr_ns = kv_now_ns() - t0;
    close(fd);
    unlink(file);
    kv_free(buf);
    return rc;
}

static int measure_fsync(const kvb_physical_opts *o, const char *file, struct phys *p)
{
    char buf[4096];
    uint64_t deadline = kv_now_ns() + (uint64_t)(o->max_seconds * 1e9);
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644), rc = 0;

    if (fd < 0)
        return -1;
    memset(buf, 'f', sizeof buf);
    for (unsigned i = 0; i < o->fsyncs && (i == 0 || kv_now_ns() < deadline); i++) {
        uint64_t t0 = kv_now_ns();
        if (pwrite(fd, buf, sizeof buf, (off_t)(i % 256) * (off_t)sizeof buf) != sizeof buf ||
            fdatasync(fd) != 0) {
            rc = -1;
            break;
        }
        kv_hist_record(&p->fs, kv_now_ns() - t0);
    }
    close(fd);
    unlink(file);
    return rc;
}

static kv_json *physical_json(const kvb_physical_opts *o, const struct phys *p,
                              const kv_bench_meta *meta)
{
    kv_json *doc = kv_json_new_object(), *m = kv_json_new_object(), *w = kv_json_new_object(),
            *f = kv_json_new_object();
    double gbps = p->mem_best_ns ? (double)p->mem_bytes / (double)p->mem_best_ns : 0;
    double mbps = p->wr_ns ? (double)p->wr_bytes * 1e3 / (double)p->wr_ns : 0;
    int rc = !doc || !m || !w || !f;

    rc = rc || kv_json_set_int(m, "bytes", (int64_t)p->mem_bytes) ||
         kv_json_set_int(m, "rounds", p->mem_rounds) ||
         kv_json_set_int(m, "best_ns", (int64_t)p->mem_best_ns) ||
         kv_json_set_num(m, "gb_per_s", gbps);
    rc = rc || kv_json_set_int(w, "bytes", (int64_t)p->wr_bytes) ||
         kv_json_set_int(w, "chunk_bytes", (int64_t)MIB) ||
         kv_json_set_int(w, "ns", (int64_t)p->wr_ns) || kv_json_set_num(w, "mb_per_s", mbps);
    rc = rc || kv_json_set_int(f, "count", (int64_t)kv_hist_count(&p->fs)) ||
         kv_json_set_int(f, "write_bytes", 4096) ||
         kv_json_set_int(f, "p50_ns", (int64_t)kv_hist_percentile(&p->fs, 50)) ||
         kv_json_set_int(f, "p99_ns", (int64_t)kv_hist_percentile(&p->fs, 99)) ||
         kv_json_set_int(f, "max_ns", (int64_t)kv_hist_max(&p->fs));
    if (rc) {
        kv_json_free(doc), kv_json_free(m), kv_json_free(w), kv_json_free(f);
        return NULL;
    }
    rc = kv_json_set_str(doc, "kind", "kvbench-physical") || kv_json_set_int(doc, "version", 1) ||
         kv_json_set_obj(doc, "memcpy", m) || kv_json_set_obj(doc, "seq_write", w) ||
         kv_json_set_obj(doc, "fsync", f) || kv_json_set_num(doc, "max_seconds", o->max_seconds) ||
         kv_json_set_obj(doc, "meta", kvb_meta_json(meta));
    if (rc) {
        kv_json_free(doc);
        return NULL;
    }
    return doc;
}

int kvb_cmd_physical(const kvb_physical_opts *o)
{
    struct phys *p = kv_calloc(1, sizeof *p);
    kv_bench_meta meta;
    char file[4096], path[4096], l1[32], l2[32];
    kv_json *doc;
    char *text;
    int rc = KVB_EXIT_OK;

    if (!p)
        return KVB_EXIT_FAIL;
    kv_bench_meta_collect(&meta, o->out_dir);
    snprintf(file, sizeof file, "%s/.kvbench-physical.%ld", o->out_dir, (long)getpid());
    measure_memcpy(o, p);
    if (measure_write(o, file, p) != 0 || measure_fsync(o, file, p) != 0) {
        kvb_note("physical: cannot write %s: %s", file, strerror(errno));
        rc = KVB_EXIT_FAIL;
    }
    doc = physical_json(o, p, &meta);
    text = doc ? kv_json_dump(doc, true) : NULL;
    kv_json_free(doc);
    snprintf(path, sizeof path, "%s/physical.json", o->out_dir);
    if (!text || kvb_write_file_atomic(path, text) != 0) {
        kvb_note("physical: cannot write %s", path);
        rc = KVB_EXIT_FAIL;
    }
    kv_free(text);
    printf("physical: memcpy %.1f GB/s; sequential write %.0f MB/s; fsync p50 %s, p99 %s (%s)\n",
           p->mem_best_ns ? (double)p->mem_bytes / (double)p->mem_best_ns : 0.0,
           p->wr_ns ? (double)p->wr_bytes * 1e3 / (double)p->wr_ns : 0.0,
           kvb_fmt_ns(l1, sizeof l1, (double)kv_hist_percentile(&p->fs, 50)),
           kvb_fmt_ns(l2, sizeof l2, (double)kv_hist_percentile(&p->fs, 99)), meta.fs);
    kv_free(p);
    return rc;
}
