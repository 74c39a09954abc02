/*
 * cow_verify.c — offline inspection of a closed store: `kvctl verify`,
 * `kvctl dump` and `kvctl logdump` (cow_verify, cow_dump, cow_logdump).
 *
 * cow_verify() opens a store's data file read-only (through the posix env,
 * without the LOCK: run it on a closed store), decodes both meta pages,
 * takes the newest valid one and checks its tree:
 *   1. the walk (cow_walk, leaves included): every reachable page has a
 *      valid CRC32C, its own page number, a legal structure (slots and
 *      cells in bounds, keys strictly increasing inside the page), a txnid
 *      not newer than the meta's; no page is reached twice; every leaf is
 *      at the same depth;
 *   2. an in-order scan with a cursor: keys strictly increasing across
 *      pages (so the separators order the leaves);
 *   3. every key the scan returns is found by a point search from the root
 *      (so each separator routes its keys to the right child);
 *   4. the number of keys equals the meta's count.
 * The commit log is not replayed (`kvctl logdump` shows what it holds).
 *
 * What callers must not do: verify a store another process is writing
 * (the result may describe a half-written checkpoint).
 */
#include <stdio.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "cow_int.h"

typedef struct vstate {
    cow_verify_report *r;
    int max_depth;
} vstate;

static int count_page(void *arg, uint64_t pgno, const unsigned char *p, int depth)
{
    vstate *s = arg;
    (void)pgno;
    (void)p;
    s->r->tree_pages++;
    if (depth + 1 > s->max_depth)
        s->max_depth = depth + 1;
    return KV_OK;
}

static int why_set(char *why, size_t n, int rc, const char *what)
{
    if (why && n)
        snprintf(why, n, "%s%s%s", what, *kv_last_error() ? ": " : "", kv_last_error());
    return rc;
}

int cow_verify(const char *dir, cow_verify_report *r, char *why, size_t whylen)
{
    cow_db *db = kv_calloc(1, sizeof(*db));
    unsigned char buf[COW_META_LEN];
    cow_meta a = {0}, b = {0}, m;
    char path[4096];
    uint64_t size = 0;
    uint8_t *seen = NULL;
    vstate vs = {.r = r};
    int which, rc;

    memset(r, 0, sizeof(*r));
    if (why && whylen)
        why[0] = 0;
    if (!db)
        return why_set(why, whylen, KV_ENOMEM, "out of memory");
    snprintf(path, sizeof(path), "%s/data.cow", dir);
    rc = kv_env_open(kv_env_posix(), path, KV_O_RDONLY, &db->dataf);
    if (rc != KV_OK) {
        kv_free(db);
        return why_set(why, whylen, rc, "cannot open data.cow");
    }
    cow_pager_init(&db->pg, kv_env_posix(), db->dataf, 4096);
    kv_file_size(db->dataf, &size);
    r->meta_a = r->meta_b = KV_ECORRUPT;
    if (cow_pager_read_raw(&db->pg, 0, buf, sizeof(buf)) == KV_OK &&
        cow_meta_decode(buf, sizeof(buf), &a) == KV_OK)
        r->meta_a = KV_OK;
    for (uint32_t ps = 4096; ps <= 16384 && r->meta_b != KV_OK; ps *= 2)
        if ((r->meta_a != KV_OK || ps == a.page_size) &&
            cow_pager_read_raw(&db->pg, ps, buf, sizeof(buf)) == KV_OK &&
            cow_meta_decode(buf, sizeof(buf), &b) == KV_OK && b.page_size == ps)
            r->meta_b = KV_OK;
    rc = cow_meta_choose(&a, r->meta_a == KV_OK, &b, r->meta_b == KV_OK, &which);
    if (rc != KV_OK) {
        why_set(why, whylen, rc, "neither meta page is valid");
        goto out_close;
    }
    m = which ? b : a;
    db->pg.psize = m.page_size;
    db->max_key = 1024;
    r->txnid = m.txnid;
    r->pages = size / m.page_size;
    if (m.next_pgno > r->pages + 1 || m.next_pgno > ((uint64_t)COW_DIR_N << COW_DIR_BITS)) {
        rc = why_set(why, whylen, KV_ECORRUPT, "meta's next_pgno is past the end of the file");
        goto out_close;
    }
    seen = kv_calloc(1, (size_t)m.next_pgno + 1);
    if (!seen) {
        rc = why_set(why, whylen, KV_ENOMEM, "out of memory");
        goto out_close;
    }
    kv_clear_error();
    rc = cow_walk(db, m.root, m.txnid, m.next_pgno, seen, count_page, &vs, true);
    r->depth = (unsigned)vs.max_depth;
    if (rc != KV_OK) {
        why_set(why, whylen, rc, "tree walk");
        goto out_free_seen;
    }
    {
        cow_cursor c;
        unsigned char prev[1024];
        size_t prevl = 0;
        cow_cursor_init(&c, db, m.root);
        for (cow_cursor_seek(&c, NULL, 0); cow_cursor_valid(&c); cow_cursor_next(&c)) {
            const void *k, *v, *fv;
            size_t kl, vl;
            const unsigned char *gv;
            uint32_t gl;
            cow_cursor_get(&c, &k, &kl, &v, &vl);
            if (r->keys > 0 && cow_key_cmp(prev, prevl, k, kl) >= 0) {
                rc = why_set(why, whylen, KV_ECORRUPT, "keys out of order across pages");
                break;
            }
            if (cow_tree_get(db, m.root, k, kl, &gv, &gl) != KV_OK || (fv = gv) != v) {
                rc = why_set(why, whylen, KV_ECORRUPT, "a key the search does not find");
                break;
            }
            memcpy(prev, k, kl < sizeof(prev) ? kl : sizeof(prev));
            prevl = kl < sizeof(prev) ? kl : sizeof(prev);
            r->keys++;
        }
        if (rc == KV_OK && c.status != KV_OK)
            rc = why_set(why, whylen, c.status, "scan");
    }
    if (rc == KV_OK && r->keys != m.keys)
        rc = why_set(why, whylen, KV_ECORRUPT, "key count differs from the meta's");
out_free_seen:
    kv_free(seen);
out_close:
    cow_pager_destroy(&db->pg);
    kv_file_close(db->dataf);
    kv_free(db);
    return rc;
}

/* ---- dumps ---- */

static void put_escaped(FILE *out, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
            fputc(p[i], out);
        else
            fprintf(out, "\\x%02x", p[i]);
    }
}

typedef struct dstate {
    FILE *out;
    uint32_t psize;
} dstate;

static int dump_page(void *arg, uint64_t pgno, const unsigned char *p, int depth)
{
    dstate *s = arg;
    unsigned n = cow_pg_n(p);
    bool leaf = cow_pg_type(p) == COW_PT_LEAF;

    fprintf(s->out, "page %llu depth %d %s txn %llu cells %u used %zu/%u", (unsigned long long)pgno,
            depth, leaf ? "leaf" : "inner", (unsigned long long)cow_pg_txn(p), n,
            cow_page_used(p, s->psize), s->psize);
    if (!leaf)
        fprintf(s->out, " child0 %llu", (unsigned long long)cow_pg_link(p));
    fputc('\n', s->out);
    for (unsigned i = 0; i < n; i++) {
        cow_cell c;
        cow_page_cell(p, i, &c);
        fputs("  ", s->out);
        put_escaped(s->out, c.k, c.kl);
        if (leaf) {
            fputc('\t', s->out);
            put_escaped(s->out, c.v, c.vl);
        } else {
            fprintf(s->out, " -> %llu", (unsigned long long)c.child);
        }
        fputc('\n', s->out);
    }
    return KV_OK;
}

int cow_dump(const char *dir, FILE *out)
{
    cow_db *db = kv_calloc(1, sizeof(*db));
    unsigned char buf[COW_META_LEN];
    cow_meta ms[2], m;
    bool ok[2] = {false, false};
    char path[4096];
    uint8_t *seen = NULL;
    int which, rc;

    if (!db)
        return KV_ENOMEM;
    snprintf(path, sizeof(path), "%s/data.cow", dir);
    rc = kv_env_open(kv_env_posix(), path, KV_O_RDONLY, &db->dataf);
    if (rc != KV_OK) {
        kv_free(db);
        return rc;
    }
    cow_pager_init(&db->pg, kv_env_posix(), db->dataf, 4096);
    if (cow_pager_read_raw(&db->pg, 0, buf, sizeof(buf)) == KV_OK)
        ok[0] = cow_meta_decode(buf, sizeof(buf), &ms[0]) == KV_OK;
    for (uint32_t ps = 4096; ps <= 16384 && !ok[1]; ps *= 2)
        if ((!ok[0] || ps == ms[0].page_size) &&
            cow_pager_read_raw(&db->pg, ps, buf, sizeof(buf)) == KV_OK)
            ok[1] = cow_meta_decode(buf, sizeof(buf), &ms[1]) == KV_OK && ms[1].page_size == ps;
    for (int i = 0; i < 2; i++) {
        if (!ok[i]) {
            fprintf(out, "meta %c: invalid\n", 'A' + i);
            continue;
        }
        fprintf(out,
                "meta %c: txn %llu root %llu next_pgno %llu log %llu@%llu keys %llu bytes %llu "
                "page_size %u\n",
                'A' + i, (unsigned long long)ms[i].txnid, (unsigned long long)ms[i].root,
                (unsigned long long)ms[i].next_pgno, (unsigned long long)ms[i].log_gen,
                (unsigned long long)ms[i].log_pos, (unsigned long long)ms[i].keys,
                (unsigned long long)ms[i].bytes, ms[i].page_size);
    }
    rc = cow_meta_choose(&ms[0], ok[0], &ms[1], ok[1], &which);
    if (rc == KV_OK) {
        dstate ds = {.out = out};
        m = ms[which];
        db->pg.psize = ds.psize = m.page_size;
        fprintf(out, "using meta %c\n", 'A' + which);
        seen = m.next_pgno <= ((uint64_t)COW_DIR_N << COW_DIR_BITS)
                   ? kv_calloc(1, (size_t)m.next_pgno + 1)
                   : NULL;
        rc = seen ? cow_walk(db, m.root, m.txnid, m.next_pgno, seen, dump_page, &ds, true)
                  : KV_ECORRUPT;
        kv_free(seen);
    }
    cow_pager_destroy(&db->pg);
    kv_file_close(db->dataf);
    kv_free(db);
    return rc;
}

int cow_logdump(const char *dir, FILE *out)
{
    char path[4096];
    kv_file *f;
    uint64_t size, gen, pos = COW_LOG_HDR;
    unsigned char *buf;
    size_t got = 0;
    int rc;

    snprintf(path, sizeof(path), "%s/commit.log", dir);
    rc = kv_env_open(kv_env_posix(), path, KV_O_RDONLY, &f);
    if (rc != KV_OK)
        return rc;
    rc = kv_file_size(f, &size);
    buf = rc == KV_OK && size < ((uint64_t)1 << 34) ? kv_malloc(size + 1) : NULL;
    if (!buf) {
        kv_file_close(f);
        return rc == KV_OK ? KV_ENOMEM : rc;
    }
    rc = kv_file_pread(f, buf, size, 0, &got);
    kv_file_close(f);
    if (rc == KV_OK && cow_log_header_decode(buf, got, &gen) != KV_OK) {
        fprintf(out, "log header: invalid (%llu bytes)\n", (unsigned long long)got);
        rc = KV_ECORRUPT;
    }
    if (rc == KV_OK) {
        fprintf(out, "log generation %llu, %llu bytes\n", (unsigned long long)gen,
                (unsigned long long)got);
        while (pos < got) {
            cow_rec r;
            size_t n = cow_rec_decode(buf + pos, got - pos, &r), at = 0;
            cow_op op;
            if (n == 0) {
                fprintf(out, "end at %llu: %llu bytes that are not a whole record (torn tail)\n",
                        (unsigned long long)pos, (unsigned long long)(got - pos));
                break;
            }
            fprintf(out, "record at %llu: gen %llu txn %llu ops %u bytes %u%s\n",
                    (unsigned long long)pos, (unsigned long long)r.gen,
                    (unsigned long long)r.txnid, r.nops, r.plen,
                    r.gen == gen ? "" : " (another generation: not replayed)");
            for (uint32_t i = 0; i < r.nops; i++) {
                if (cow_op_next(&r, &at, &op) != KV_OK) {
                    fprintf(out, "  bad operation %u\n", i);
                    break;
                }
                fprintf(out, "  %s ", op.kind == COW_OP_PUT ? "put" : "del");
                put_escaped(out, op.k, op.kl);
                if (op.kind == COW_OP_PUT)
                    fprintf(out, " (%u-byte value)", op.vl);
                fputc('\n', out);
            }
            pos += n;
        }
        if (pos == got)
            fprintf(out, "end at %llu: clean\n", (unsigned long long)pos);
    }
    kv_free(buf);
    return rc;
}
