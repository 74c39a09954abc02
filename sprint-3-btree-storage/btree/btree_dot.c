/*
 * btree_dot.c — bpt_dot, the Graphviz printer of the B+ tree.
 *
 * Output, for `dot -Tsvg`:
 *
 *   digraph bpt {
 *     node [shape=plaintext, fontname="monospace", fontsize=10];
 *     n0_0 [label=<<table ...><tr><td port="c0"> </td><td><b>k3</b></td>
 *                  <td port="c1"> </td></tr></table>>];   an inner node: child ports between keys
 *     n1_0 [label=<<table ... bgcolor="#e8f0ff"><tr><td>k1</td><td>k2</td></tr></table>>];
 *     n0_0:c0 -> n1_0;                              a child pointer
 *     n1_0 -> n1_1 [style=dashed, constraint=false]; a leaf's next link
 *   }
 *
 * Labels are HTML-like tables, not `shape=record`: dot cannot lay out an
 * edge between two record nodes of the same rank (the leaf links), it
 * drops them with "lost edge" errors.
 *
 * Node names are positions, n<level>_<index from the left>, so a tree
 * prints the same text whatever its addresses: the handout's diagrams are
 * regenerated and diffed. Keys are shown with printable ASCII as it is
 * (HTML's special characters as entities) and other bytes as \xHH; a key longer than 12 bytes is cut with "...". Values
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
        if (c == '&')
            outs(d, "&amp;");
        else if (c == '<')
            outs(d, "&lt;");
        else if (c == '>')
            outs(d, "&gt;");
        else if (c == '"')
            outs(d, "&quot;");
        else if (c >= 0x20 && c < 0x7f) {
            b[0] = (char)c;
            out(d, b, 1);
        } else {
            b[0] = '\\';
            b[1] = 'x';
            b[2] = hex[c >> 4];
            b[3] = hex[c & 15];
            out(d, b, 4);
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
    if (n->leaf) {
        bpt_leaf *l = (bpt_leaf *)n;
        outs(d, " [label=<<table border=\"0\" cellborder=\"1\" cellspacing=\"0\" "
                "bgcolor=\"#e8f0ff\"><tr>");
        for (unsigned i = 0; i < n->n; i++) {
            size_t kl;
            const uint8_t *k = rec_key(l->rec[i], &kl);
            outs(d, "<td>");
            key(d, k, kl);
            outs(d, "</td>");
        }
        if (!n->n)
            outs(d, "<td>(empty)</td>");
        outs(d, "</tr></table>>];\n");
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
        outs(d, " [label=<<table border=\"0\" cellborder=\"1\" cellspacing=\"0\"><tr>");
        for (unsigned i = 0; i <= n->n; i++) {
            outs(d, "<td port=\"c");
            outu(d, i);
            outs(d, "\"> </td>");
            if (i < n->n) {
                size_t kl;
                const uint8_t *k = blk_key(inner_keys(t, in)[i], &kl);
                outs(d, "<td><b>");
                key(d, k, kl);
                outs(d, "</b></td>");
            }
        }
        outs(d, "</tr></table>>];\n");
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
    outs(&d, "digraph bpt {\n  node [shape=plaintext, fontname=\"monospace\", fontsize=10];\n"
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
    outs(&d, "}\n");
    bpt_port_read_unlock(t->lock);
    return d.err ? BPT_EINVAL : BPT_OK;
}
