/*
 * btree_dot.c — bpt_dot, the Graphviz printer of the B+ tree.
 *
 * Output, for `dot -Tsvg`:
 *
 *   digraph bpt {
 *     node [shape=record, fontname="monospace", fontsize=10];
 *     n0_0 [label="<c0>|k3|<c1>|k6|<c2>"];          an inner node: child ports between keys
 *     n1_0 [label="k1|k2", style=filled, fillcolor="#e8f0ff"];   a leaf
 *     n0_0:c0 -> n1_0;                              a child pointer
 *     n1_0 -> n1_1 [style=dashed, constraint=false]; a leaf's next link
 *     { rank=same; n1_0; n1_1; ... }                 leaves on one row
 *   }
 *
 * Node names are positions, n<level>_<index from the left>, so a tree
 * prints the same text whatever its addresses: the handout's diagrams are
 * regenerated and diffed. Keys are shown with printable ASCII as it is
 * (the record syntax's special characters escaped with a backslash) and
 * other bytes as \xHH; a key longer than 12 bytes is cut with "...". Values
 * are not shown.
 *
 * How: a recursive walk under the read lock keeps a counter per level;
 * the text goes through the caller's bpt_write_fn, with integers
 * formatted here (no printf: kernel-portable, bpt_port.h only).
 */
#include "btree_int.h"

#define DOT_KEY_MAX 12

struct dot {
    bpt_tree *t;
    bpt_write_fn w;
    void *arg;
    int err;
    uint64_t pos[BPT_MAX_HEIGHT];
};

static void out(struct dot *d, const char *s, size_t n)
{
    if (!d->err && n && d->w(d->arg, s, n))
        d->err = 1;
}
static void outs(struct dot *d, const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    out(d, s, n);
}
static void outu(struct dot *d, uint64_t v)
{
    char b[24];
    size_t i = sizeof(b);
    do {
        b[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    out(d, b + i, sizeof(b) - i);
}
static void name(struct dot *d, unsigned level, uint64_t idx)
{
    outs(d, "n");
    outu(d, level);
    outs(d, "_");
    outu(d, idx);
}
static void key(struct dot *d, const uint8_t *k, size_t kl)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = kl > DOT_KEY_MAX ? DOT_KEY_MAX : kl;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = k[i];
        char b[4];
        if (c >= 0x20 && c < 0x7f) {
            if (c == '"' || c == '\\' || c == '{' || c == '}' || c == '|' || c == '<' ||
                c == '>' || c == ' ')
                out(d, "\\", 1);
            b[0] = (char)c;
            out(d, b, 1);
        } else {
            b[0] = '\\';
            b[1] = '\\'; /* dot turns "\\" into one backslash */
            out(d, b, 2);
            b[0] = 'x';
            b[1] = hex[c >> 4];
            b[2] = hex[c & 15];
            out(d, b, 3);
        }
    }
    if (kl > DOT_KEY_MAX)
        outs(d, "...");
}

static void node(struct dot *d, bpt_node *n, unsigned level)
{
    bpt_tree *t = d->t;
    uint64_t me = d->pos[level]++;

    name(d, level, me);
    outs(d, " [label=\"");
    if (n->leaf) {
        bpt_leaf *l = (bpt_leaf *)n;
        for (unsigned i = 0; i < n->n; i++) {
            size_t kl;
            const uint8_t *k = rec_key(l->rec[i], &kl);
            if (i)
                outs(d, "|");
            key(d, k, kl);
        }
        if (!n->n)
            outs(d, "(empty)");
        outs(d, "\", style=filled, fillcolor=\"#e8f0ff\"];\n");
        if (me > 0) { /* the previous leaf's next link points here */
            name(d, level, me - 1);
            outs(d, " -> ");
            name(d, level, me);
            outs(d, " [style=dashed, constraint=false, color=gray40, arrowsize=0.6];\n");
        }
        return;
    }
    {
        bpt_inner *in = (bpt_inner *)n;
        for (unsigned i = 0; i <= n->n; i++) {
            outs(d, "<c");
            outu(d, i);
            outs(d, ">");
            if (i < n->n) {
                size_t kl;
                const uint8_t *k = blk_key(inner_keys(t, in)[i], &kl);
                outs(d, "|");
                key(d, k, kl);
                outs(d, "|");
            }
        }
        outs(d, "\"];\n");
        for (unsigned i = 0; i <= n->n; i++) {
            uint64_t child = d->pos[level + 1];
            node(d, in->child[i], level + 1);
            name(d, level, me);
            outs(d, ":c");
            outu(d, i);
            outs(d, " -> ");
            name(d, level + 1, child);
            outs(d, ";\n");
        }
    }
}

int bpt_dot(bpt_tree *t, const char *title, bpt_write_fn w, void *arg)
{
    struct dot d = {.t = t, .w = w, .arg = arg};

    bpt_port_read_lock(t->lock);
    outs(&d, "digraph bpt {\n  node [shape=record, fontname=\"monospace\", fontsize=10];\n"
             "  edge [arrowsize=0.7];\n");
    if (title) {
        outs(&d, "  label=\"");
        for (const char *p = title; *p; p++) {
            if (*p == '"' || *p == '\\')
                out(&d, "\\", 1);
            out(&d, p, 1);
        }
        outs(&d, "\"; labelloc=t;\n");
    }
    node(&d, t->root, 0);
    if (t->height > 1 && d.pos[t->height - 1] > 1) {
        outs(&d, "  { rank=same;");
        for (uint64_t i = 0; i < d.pos[t->height - 1]; i++) {
            outs(&d, " ");
            name(&d, t->height - 1, i);
            outs(&d, ";");
        }
        outs(&d, " }\n");
    }
    outs(&d, "}\n");
    bpt_port_read_unlock(t->lock);
    return d.err ? BPT_EINVAL : BPT_OK;
}
