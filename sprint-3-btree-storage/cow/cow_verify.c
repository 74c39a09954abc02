/*
 * cow_verify.c — offline checks of a store: what `kvctl verify` runs.
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
