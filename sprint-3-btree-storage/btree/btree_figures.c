/*
 * btree_figures.c — print the handout's B+ tree figures with the dot
 * printer (bpt_dot), so every diagram in btree/README.md is what the code
 * really builds.
 *
 *   btree_figures NAME      print one figure as a Graphviz digraph
 *   btree_figures           list the figures
 *
 * Each figure is a tree made by a short script of inserts and deletes on
 * 2-digit keys ("10", "20", ...), then drawn. The README embeds each
 * output in a ```dot block; regenerate them with
 *   for f in $(btree_figures); do btree_figures $f; done
 * after a change to the split or merge rules.
 */
#include <stdio.h>
#include <string.h>

#include "bpt.h"

struct figure {
    const char *name, *title;
    unsigned order;
    const char *script; /* "+k" insert, "-k" delete, space separated */
};

static const struct figure figs[] = {
    {"split-before", "order 4: a full leaf", 4, "+10 +20 +30"},
    {"split-after", "insert 40: the leaf splits, 30 goes up", 4, "+10 +20 +30 +40"},
    {"inner-split-before", "order 3: a full root", 3, "+10 +20 +30 +40 +50"},
    {"inner-split-after", "insert 45: the leaf splits, then the root; the median 45 moves up",
     3, "+10 +20 +30 +40 +50 +45"},
    {"borrow-before", "order 5: delete 10 will underflow its leaf", 5,
     "+10 +20 +30 +40 +50 -30 +45"},
    {"borrow-after", "delete 10: borrow 40 from the right; separator becomes 45", 5,
     "+10 +20 +30 +40 +50 -30 +45 -10"},
    {"merge-before", "order 3: delete 10 will empty its leaf; no sibling can lend", 3,
     "+10 +20 +30 +40 +50 +60 +70 -20 -40"},
    {"merge-after", "delete 10: the leaves merge, then the inner nodes merge around 50; "
                    "the root goes", 3, "+10 +20 +30 +40 +50 +60 +70 -20 -40 -10"},
    {0, 0, 0, 0},
};

static int out(void *arg, const char *s, size_t n)
{
    return fwrite(s, 1, n, arg) != n;
}

static int draw(const struct figure *f)
{
    bpt_tree *t;
    const char *p = f->script;
    int rc = 0;

    if (bpt_create(f->order, &t) != BPT_OK)
        return 1;
    while (*p && !rc) {
        char op = *p++;
        size_t n = strcspn(p, " ");
        rc = op == '+' ? bpt_put(t, p, n, "", 0) : bpt_delete(t, p, n);
        p += n;
        while (*p == ' ')
            p++;
    }
    if (!rc)
        rc = bpt_check(t, NULL) || bpt_dot(t, f->title, out, stdout);
    bpt_destroy(t);
    return rc != 0;
}

int main(int argc, char **argv)
{
    for (const struct figure *f = figs; f->name; f++) {
        if (argc < 2)
            puts(f->name);
        else if (!strcmp(argv[1], f->name))
            return draw(f);
    }
    if (argc < 2)
        return 0;
    fprintf(stderr, "btree_figures: no figure '%s'\n", argv[1]);
    return 2;
}
