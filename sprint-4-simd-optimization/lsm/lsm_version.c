/*
 * lsm_version.c — SSTable files, versions, and the manifest.
 *
 * A version is the set of SSTables that make up the store at one moment:
 * at L0, files flushed from memtables, newest first, whose key ranges may
 * overlap; at L1..L6, files sorted by key with disjoint ranges. A version
 * never changes once installed; a flush or a compaction makes a new one
 * (lsm_version_edit: the old one minus its inputs plus its outputs) and
 * installs it. Readers pin the version they read (a reference), so a file
 * dropped by a compaction stays open, and on disk, until the last version
 * that lists it is released: then its lsm_file is freed and, marked
 * obsolete, unlinked.
 *
 * The manifest (docs/formats/lsm.md, section 3) is the durable copy of the
 * current version plus the counters recovery needs (next file number, last
 * sequence number, the oldest log not yet flushed, the live key and byte
 * counts). Each install writes it whole to MANIFEST.tmp, syncs it, renames
 * it over MANIFEST and syncs the directory: the rename is the commit point,
 * so after a crash the store is exactly the old or the new version. (A
 * whole snapshot per edit, instead of LevelDB's log of edits: a store has
 * tens of files, so it is a few KiB, and recovery reads one record.)
 *
 * Callers must not modify an installed version, and must release every
 * reference they take.
 */
#include <stdio.h>
#include <stdlib.h>

#include "lsm_int.h"

#define MANIFEST_MAGIC 0x4d534c4bu /* "KLSM" */
#define MANIFEST_VERSION 1u

void lsm_file_name(char *buf, size_t n, const char *dir, uint64_t number, const char *ext)
{
    snprintf(buf, n, "%s/%06llu.%s", dir, (unsigned long long)number, ext);
}

void lsm_file_unref(lsm_file *f)
{
    if (!f || atomic_fetch_sub(&f->refs, 1) != 1)
        return;
    lsm_table_close(f->table);
    if (atomic_load(&f->obsolete))
        kv_env_unlink(f->env, f->path);
    kv_free(f->path);
    kv_free(f->smallest.p);
    kv_free(f->largest.p);
    kv_free(f);
}

int lsm_file_open(const kv_env *env, const char *dir, uint64_t number, lsm_read_stats *rs,
                  lsm_file **out)
{
    char path[4096];
    kv_file *kf;
    lsm_file *f;
    int rc;
    *out = NULL;
    lsm_file_name(path, sizeof path, dir, number, "sst");
    if (!(f = kv_calloc(1, sizeof *f)) || !(f->path = kv_strdup(path))) {
        kv_free(f);
        return kv_fail(KV_ENOMEM, "lsm: out of memory opening %s", path);
    }
    atomic_init(&f->refs, 1);
    f->env = env;
    f->number = number;
    if ((rc = kv_env_open(env, path, KV_O_RDONLY, &kf)))
        goto out_free;
    if ((rc = kv_file_size(kf, &f->size))) {
        kv_file_close(kf);
        goto out_free;
    }
    if ((rc = lsm_table_open(kf, f->size, rs, &f->table)))
        goto out_free;
    f->entries = lsm_table_entries(f->table);
    *out = f;
    return KV_OK;
out_free:
    kv_free(f->path);
    kv_free(f);
    return rc;
}

int lsm_version_new(lsm_version **out)
{
    lsm_version *v = kv_calloc(1, sizeof *v);
    *out = v;
    if (!v)
        return kv_fail(KV_ENOMEM, "lsm: out of memory for a version");
    atomic_init(&v->refs, 1);
    return KV_OK;
}

void lsm_version_ref(lsm_version *v)
{
    atomic_fetch_add(&v->refs, 1);
}

void lsm_version_unref(lsm_version *v)
{
    if (!v || atomic_fetch_sub(&v->refs, 1) != 1)
        return;
    for (int l = 0; l < LSM_LEVELS; l++) {
        for (size_t i = 0; i < v->n[l]; i++)
            lsm_file_unref(v->files[l][i]);
        kv_free(v->files[l]);
    }
    kv_free(v);
}

static int cmp_smallest(const void *a, const void *b)
{
    const lsm_file *x = *(lsm_file *const *)a, *y = *(lsm_file *const *)b;
    return lsm_ikey_cmp(x->smallest.p, x->smallest.n, y->smallest.p, y->smallest.n);
}

static int cmp_newest(const void *a, const void *b)
{
    const lsm_file *x = *(lsm_file *const *)a, *y = *(lsm_file *const *)b;
    return x->number < y->number ? 1 : x->number > y->number ? -1 : 0;
}

int lsm_version_edit(const lsm_version *v, lsm_file *const *drop, size_t ndrop,
                     lsm_file *const *add, size_t nadd, int add_level, lsm_version **out)
{
    /* STUB:
    (void)v; (void)drop; (void)ndrop; (void)add; (void)nadd; (void)add_level;
    *out = NULL;
    return kv_fail(KV_ENOTSUP, "not implemented: %s", __func__);
    */
    /* BEGIN SOLUTION */
    lsm_version *nv;
    int rc = lsm_version_new(&nv);
    if (rc)
        return rc;
    for (int l = 0; l < LSM_LEVELS; l++) {
        size_t cap = v->n[l] + (l == add_level ? nadd : 0);
        if (cap && !(nv->files[l] = kv_malloc(cap * sizeof(lsm_file *)))) {
            lsm_version_unref(nv);
            return kv_fail(KV_ENOMEM, "lsm: out of memory for a version");
        }
        for (size_t i = 0; i < v->n[l]; i++) {
            bool dropped = false;
            for (size_t j = 0; j < ndrop && !dropped; j++)
                dropped = drop[j] == v->files[l][i];
            if (!dropped) {
                atomic_fetch_add(&v->files[l][i]->refs, 1);
                nv->files[l][nv->n[l]++] = v->files[l][i];
            }
        }
        if (l == add_level) {
            for (size_t j = 0; j < nadd; j++) {
                atomic_fetch_add(&add[j]->refs, 1);
                nv->files[l][nv->n[l]++] = add[j];
            }
        }
        if (nv->n[l] > 1)
            qsort(nv->files[l], nv->n[l], sizeof(lsm_file *), l == 0 ? cmp_newest : cmp_smallest);
    }
    *out = nv;
    return KV_OK;
    /* END SOLUTION */
}

uint64_t lsm_version_level_bytes(const lsm_version *v, int level)
{
    uint64_t s = 0;
    for (size_t i = 0; i < v->n[level]; i++)
        s += v->files[level][i]->size;
    return s;
}

static bool file_covers(const lsm_file *f, const void *k, size_t kn)
{
    return lsm_ukey_cmp(f->smallest.p, f->smallest.n - LSM_TRAILER, k, kn) <= 0 &&
           lsm_ukey_cmp(f->largest.p, f->largest.n - LSM_TRAILER, k, kn) >= 0;
}

bool lsm_version_deeper_overlap(const lsm_version *v, int level, const void *k, size_t kn)
{
    for (int l = level + 1; l < LSM_LEVELS; l++)
        for (size_t i = 0; i < v->n[l]; i++)
            if (file_covers(v->files[l][i], k, kn))
                return true;
    return false;
}

/* ---- the manifest ------------------------------------------------------------- */

int lsm_manifest_write(const kv_env *env, const char *dir, unsigned mode, const lsm_version *v,
                       const lsm_manifest_state *st)
{
    lsm_bytes b = {0};
    char tmp[4096], path[4096];
    kv_file *f;
    uint8_t u[8];
    int rc;
    snprintf(tmp, sizeof tmp, "%s/MANIFEST.tmp", dir);
    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    if ((rc = lsm_bytes_reserve(&b, 16)))
        return rc;
    b.n = 16;
    uint64_t fields[5] = {st->next_file, st->last_seq, st->log_number, st->live_keys,
                          st->live_bytes};
    uint32_t nfiles = 0;
    for (int l = 0; l < LSM_LEVELS; l++)
        nfiles += (uint32_t)v->n[l];
    for (int i = 0; i < 5; i++) {
        lsm_put_le64(u, fields[i]);
        if ((rc = lsm_bytes_append(&b, u, 8)))
            goto out_free;
    }
    lsm_put_le32(u, nfiles);
    if ((rc = lsm_bytes_append(&b, u, 4)))
        goto out_free;
    for (int l = 0; l < LSM_LEVELS; l++) {
        for (size_t i = 0; i < v->n[l]; i++) {
            const lsm_file *fl = v->files[l][i];
            uint8_t hdr[1 + 16 + 10];
            hdr[0] = (uint8_t)l;
            lsm_put_le64(hdr + 1, fl->number);
            lsm_put_le64(hdr + 9, fl->size);
            size_t hn = 17;
            hn += lsm_put_varint32(hdr + hn, (uint32_t)fl->smallest.n);
            hn += lsm_put_varint32(hdr + hn, (uint32_t)fl->largest.n);
            if ((rc = lsm_bytes_append(&b, hdr, hn)) ||
                (rc = lsm_bytes_append(&b, fl->smallest.p, fl->smallest.n)) ||
                (rc = lsm_bytes_append(&b, fl->largest.p, fl->largest.n)))
                goto out_free;
        }
    }
    lsm_put_le32(b.p, MANIFEST_MAGIC);
    lsm_put_le32(b.p + 4, MANIFEST_VERSION);
    lsm_put_le32(b.p + 8, (uint32_t)(b.n - 16));
    lsm_put_le32(b.p + 12, kv_crc32c(0, b.p + 16, b.n - 16));
    if ((rc = kv_env_open_mode(env, tmp, KV_O_RDWR | KV_O_CREAT | KV_O_TRUNC, mode, &f)))
        goto out_free;
    if ((rc = kv_file_pwrite(f, b.p, b.n, 0)) || (rc = kv_file_sync(f))) {
        kv_file_close(f);
        goto out_free;
    }
    if ((rc = kv_file_close(f)))
        goto out_free;
    if ((rc = kv_env_rename(env, tmp, path)))
        goto out_free;
    rc = kv_env_sync_dir(env, dir);
out_free:
    kv_free(b.p);
    return rc;
}

static int corrupt(const char *what)
{
    return kv_fail(KV_ECORRUPT, "lsm: corrupt MANIFEST: %s", what);
}

/* Parse the file list of a manifest into v, opening every table. */
static int parse_files(const kv_env *env, const char *dir, const uint8_t *p, const uint8_t *end,
                       uint32_t nfiles, lsm_read_stats *rs, lsm_version *v)
{
    int rc;
    for (uint32_t i = 0; i < nfiles; i++) {
        uint32_t sn, ln;
        lsm_file *f;
        if (end - p < 17)
            return corrupt("file entry cut short");
        unsigned level = p[0];
        uint64_t number = kv_load_le64(p + 1), size = kv_load_le64(p + 9);
        p += 17;
        if (level >= LSM_LEVELS || !(p = lsm_get_varint32(p, end, &sn)) ||
            !(p = lsm_get_varint32(p, end, &ln)) || sn < LSM_TRAILER || ln < LSM_TRAILER ||
            (size_t)(end - p) < (size_t)sn + ln)
            return corrupt("bad file entry");
        if ((rc = lsm_file_open(env, dir, number, rs, &f)))
            return rc == KV_ENOTFOUND ? kv_fail(KV_ECORRUPT, "lsm: table %06llu of the MANIFEST "
                                                "is missing", (unsigned long long)number)
                                      : rc;
        if (f->size != size) {
            lsm_file_unref(f);
            return kv_fail(KV_ECORRUPT, "lsm: table %06llu has %llu bytes, the MANIFEST says %llu",
                           (unsigned long long)number, (unsigned long long)f->size,
                           (unsigned long long)size);
        }
        if ((rc = lsm_bytes_append(&f->smallest, p, sn)) ||
            (rc = lsm_bytes_append(&f->largest, p + sn, ln))) {
            lsm_file_unref(f);
            return rc;
        }
        p += sn + ln;
        lsm_file **a = kv_realloc(v->files[level], (v->n[level] + 1) * sizeof *a);
        if (!a) {
            lsm_file_unref(f);
            return kv_fail(KV_ENOMEM, "lsm: out of memory reading the MANIFEST");
        }
        v->files[level] = a;
        a[v->n[level]++] = f;
    }
    if (p != end)
        return corrupt("trailing bytes");
    for (int l = 0; l < LSM_LEVELS; l++)
        if (v->n[l] > 1)
            qsort(v->files[l], v->n[l], sizeof(lsm_file *), l == 0 ? cmp_newest : cmp_smallest);
    return KV_OK;
}

int lsm_manifest_read(const kv_env *env, const char *dir, lsm_read_stats *rs, lsm_version **out,
                      lsm_manifest_state *st)
{
    char path[4096];
    kv_file *f;
    uint64_t size;
    uint8_t *buf = NULL;
    size_t got;
    lsm_version *v = NULL;
    int rc;
    *out = NULL;
    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    if ((rc = kv_env_open(env, path, KV_O_RDONLY, &f)))
        return rc;
    if ((rc = kv_file_size(f, &size)))
        goto out_close;
    if (size < 16 + 44 || size > (64u << 20)) {
        rc = corrupt("bad size");
        goto out_close;
    }
    if (!(buf = kv_malloc((size_t)size))) {
        rc = kv_fail(KV_ENOMEM, "lsm: out of memory reading the MANIFEST");
        goto out_close;
    }
    if ((rc = kv_file_pread(f, buf, (size_t)size, 0, &got)))
        goto out_free_buf;
    if (got != size || kv_load_le32(buf) != MANIFEST_MAGIC ||
        kv_load_le32(buf + 4) != MANIFEST_VERSION || kv_load_le32(buf + 8) != size - 16 ||
        kv_crc32c(0, buf + 16, (size_t)size - 16) != kv_load_le32(buf + 12)) {
        rc = corrupt("bad magic, version, length or checksum");
        goto out_free_buf;
    }
    st->next_file = kv_load_le64(buf + 16);
    st->last_seq = kv_load_le64(buf + 24);
    st->log_number = kv_load_le64(buf + 32);
    st->live_keys = kv_load_le64(buf + 40);
    st->live_bytes = kv_load_le64(buf + 48);
    if ((rc = lsm_version_new(&v)))
        goto out_free_buf;
    rc = parse_files(env, dir, buf + 60, buf + size, kv_load_le32(buf + 56), rs, v);
    if (rc) {
        lsm_version_unref(v);
        goto out_free_buf;
    }
    *out = v;
out_free_buf:
    kv_free(buf);
out_close:
    kv_file_close(f);
    return rc;
}
