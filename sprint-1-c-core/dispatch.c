/*
 * dispatch.c — sprint 1, exercise 5: function pointers.
 *
 * What this is: the reference solution of include/dispatch.h in two parts,
 * both built on the same idea — code that calls a function it does not
 * name, through a pointer found at run time.
 *
 * Part 1, the dispatcher. A disp_table is a fixed array of
 * {name, handler} pairs. disp_dispatch() scans it (linear search: a few
 * dozen commands at most; a hash table is sprint 2's business) and calls
 * `entry->handler(ctx, arg)`. The `void *ctx` parameter makes a handler a
 * closure: the dispatcher does not know the caller's state, it only carries
 * the pointer. disp_run_line() is the tiny command interpreter a CLI such as
 * kvctl is built on.
 *
 * Part 2, the ops table. `struct set_ops` is an interface: a struct of
 * function pointers. Two engines implement it over private state:
 *  - "array" (given, the worked example): strings in a growable array,
 *    linear search, removal by moving the last element into the hole;
 *  - "list" (the exercise): a singly linked list, insertion at the head,
 *    removal through a `struct node **` as in pointers.c.
 * The front end (set_open(), set_add(), ...) holds a `struct set_db`
 * {ops, self}: it validates arguments ONCE for every engine, then forwards
 * to `s->ops->add(s->self, str)`. Adding a third engine means writing one
 * more table and listing it in the registry — no front-end change.
 *
 * This is the pattern of common/include/kvlabs/kv.h: kv_put() checks the
 * key length for all engines, then calls the engine's put through its
 * `kv_engine_ops` table; the build's registry lists the tables by reference.
 * How the engine stores its strings is invisible to callers, who must not
 * cast `self` or the handle to an engine's type.
 */
#include "dispatch.h"
#include "stub.h" /* the kit's stubs: "not implemented: FN" */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Part 1: the dispatcher                                              */
/* ------------------------------------------------------------------ */

void disp_init(disp_table *t)
{
    memset(t, 0, sizeof *t);
}

/* A valid name: 1..DISP_NAME_MAX bytes without spaces. Marked unused: the
 * starter kit's stubs do not call it, and clang would warn. */
__attribute__((unused)) static inline int name_ok(const char *name)
{
    size_t n = 0;
    for (; name[n]; n++)
        if (name[n] == ' ' || n >= DISP_NAME_MAX)
            return 0;
    return n > 0;
}

const struct disp_ops *disp_find(const disp_table *t, const char *name)
{
    /* STUB: (void)t; (void)name; stub_not_implemented(__func__); return NULL; */
    /* BEGIN SOLUTION */
    for (size_t i = 0; i < t->count; i++)
        if (strcmp(t->ops[i].name, name) == 0)
            return &t->ops[i];
    return NULL;
    /* END SOLUTION */
}

int disp_register(disp_table *t, const char *name, disp_handler handler)
{
    /* STUB: (void)t; (void)name; (void)handler; return -ENOSYS; */
    /* BEGIN SOLUTION */
    if (!t || !name || !handler || !name_ok(name))
        return -EINVAL;
    if (disp_find(t, name))
        return -EEXIST;
    if (t->count == DISP_MAX)
        return -ENOSPC;
    t->ops[t->count].name = name;
    t->ops[t->count].handler = handler;
    t->count++;
    return 0;
    /* END SOLUTION */
}

int disp_register_all(disp_table *t, const struct disp_ops *ops)
{
    /* STUB: (void)t; (void)ops; return -ENOSYS; */
    /* BEGIN SOLUTION */
    if (!t || !ops)
        return -EINVAL;
    size_t saved = t->count;
    for (const struct disp_ops *o = ops; o->name; o++) {
        int rc = disp_register(t, o->name, o->handler);
        if (rc != 0) {
            t->count = saved; /* all or nothing */
            return rc;
        }
    }
    return 0;
    /* END SOLUTION */
}

int disp_dispatch(const disp_table *t, const char *name, void *ctx, const char *arg, int *result)
{
    /* STUB: (void)t; (void)name; (void)ctx; (void)arg; (void)result; return -ENOSYS; */
    /* BEGIN SOLUTION */
    if (!t || !name)
        return -EINVAL;
    const struct disp_ops *op = disp_find(t, name);
    if (!op)
        return -ENOENT;
    int rc = op->handler(ctx, arg ? arg : "");
    if (result)
        *result = rc;
    return 0;
    /* END SOLUTION */
}

int disp_run_line(const disp_table *t, void *ctx, const char *line, int *result)
{
    /* STUB: (void)t; (void)ctx; (void)line; (void)result; return -ENOSYS; */
    /* BEGIN SOLUTION */
    char name[DISP_NAME_MAX + 1];
    if (!t || !line)
        return -EINVAL;
    while (*line == ' ')
        line++;
    size_t n = strcspn(line, " ");
    if (n == 0)
        return -EINVAL;
    if (n > DISP_NAME_MAX)
        return -ENOENT; /* no registered name is that long */
    memcpy(name, line, n);
    name[n] = '\0';
    const char *arg = line + n;
    while (*arg == ' ')
        arg++;
    return disp_dispatch(t, name, ctx, arg, result);
    /* END SOLUTION */
}

/* Append printf-style text to buf, tracking the full length as snprintf. */
static void append(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    va_list ap;
    char *dst = *len < size ? buf + *len : NULL;
    size_t room = *len < size ? size - *len : 0;
    va_start(ap, fmt);
    int n = vsnprintf(dst, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len += (size_t)n;
}

/* The fixed part of a message for a status code. */
static const char *status_text(int status)
{
    switch (status) {
    case 0: return "ok";
    case -ENOENT: return "unknown command";
    case -EEXIST: return "command already registered";
    case -ENOSPC: return "command table full";
    case -EINVAL: return "invalid command or argument";
    default: return "dispatch error";
    }
}

size_t disp_format_error(const disp_table *t, int status, const char *name, char *buf, size_t size)
{
    size_t len = 0;
    if (size > 0)
        buf[0] = '\0';
    append(buf, size, &len, "%s", status_text(status));
    if (name)
        append(buf, size, &len, " '%s'", name);
    if (status == -ENOENT && t) {
        append(buf, size, &len, " (known:");
        for (size_t i = 0; i < t->count; i++)
            append(buf, size, &len, "%s %s", i ? "," : "", t->ops[i].name);
        append(buf, size, &len, "%s)", t->count ? "" : " none");
    }
    return len;
}

/* ------------------------------------------------------------------ */
/* Part 2: two engines behind one ops table                            */
/* ------------------------------------------------------------------ */

/* A heap copy of s (strdup is POSIX, not C11). */
static char *copy_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c)
        memcpy(c, s, n);
    return c;
}

/* --- engine "array" (the worked example) --- */

struct arr_set {
    char **items; /* items[0..len-1], each owned */
    size_t len, cap;
};

static int arr_create(void **self)
{
    struct arr_set *a = calloc(1, sizeof *a);
    if (!a)
        return -ENOMEM;
    *self = a;
    return 0;
}

static void arr_destroy(void *self)
{
    struct arr_set *a = self;
    for (size_t i = 0; i < a->len; i++)
        free(a->items[i]);
    free(a->items);
    free(a);
}

/* Index of s, or a->len when absent. */
static size_t arr_index(const struct arr_set *a, const char *s)
{
    size_t i = 0;
    while (i < a->len && strcmp(a->items[i], s) != 0)
        i++;
    return i;
}

static int arr_contains(const void *self, const char *s)
{
    const struct arr_set *a = self;
    return arr_index(a, s) < a->len;
}

static int arr_add(void *self, const char *s)
{
    struct arr_set *a = self;
    if (arr_index(a, s) < a->len)
        return 0;
    if (a->len == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 4;
        char **items = realloc(a->items, cap * sizeof *items);
        if (!items)
            return -ENOMEM;
        a->items = items;
        a->cap = cap;
    }
    char *c = copy_string(s);
    if (!c)
        return -ENOMEM;
    a->items[a->len++] = c;
    return 1;
}

static int arr_remove(void *self, const char *s)
{
    struct arr_set *a = self;
    size_t i = arr_index(a, s);
    if (i == a->len)
        return -ENOENT;
    free(a->items[i]);
    a->items[i] = a->items[--a->len]; /* order does not matter in a set */
    return 0;
}

static size_t arr_size(const void *self)
{
    return ((const struct arr_set *)self)->len;
}

const struct set_ops set_engine_array = {
    .name = "array",
    .create = arr_create,
    .destroy = arr_destroy,
    .add = arr_add,
    .contains = arr_contains,
    .remove = arr_remove,
    .size = arr_size,
};

/* --- engine "list" (the exercise) --- */

struct list_node {
    char *s; /* owned */
    struct list_node *next;
};

struct list_set {
    struct list_node *head;
    size_t len;
};

static int list_create(void **self)
{
    struct list_set *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    *self = l;
    return 0;
}

static void list_destroy(void *self)
{
    struct list_set *l = self;
    struct list_node *n = l->head;
    while (n) {
        struct list_node *next = n->next;
        free(n->s);
        free(n);
        n = next;
    }
    free(l);
}

static int list_contains(const void *self, const char *s)
{
    /* STUB: (void)self; (void)s; return 0; */
    /* BEGIN SOLUTION */
    const struct list_set *l = self;
    for (const struct list_node *n = l->head; n; n = n->next)
        if (strcmp(n->s, s) == 0)
            return 1;
    return 0;
    /* END SOLUTION */
}

static int list_add(void *self, const char *s)
{
    /* STUB: (void)self; (void)s; return -ENOSYS; */
    /* BEGIN SOLUTION */
    struct list_set *l = self;
    if (list_contains(l, s))
        return 0;
    struct list_node *n = malloc(sizeof *n);
    if (!n)
        return -ENOMEM;
    n->s = copy_string(s);
    if (!n->s) {
        free(n);
        return -ENOMEM;
    }
    n->next = l->head;
    l->head = n;
    l->len++;
    return 1;
    /* END SOLUTION */
}

static int list_remove(void *self, const char *s)
{
    /* STUB: (void)self; (void)s; return -ENOSYS; */
    /* BEGIN SOLUTION */
    struct list_set *l = self;
    for (struct list_node **link = &l->head; *link; link = &(*link)->next) {
        struct list_node *n = *link;
        if (strcmp(n->s, s) == 0) {
            *link = n->next;
            free(n->s);
            free(n);
            l->len--;
            return 0;
        }
    }
    return -ENOENT;
    /* END SOLUTION */
}

static size_t list_size(const void *self)
{
    return ((const struct list_set *)self)->len;
}

const struct set_ops set_engine_list = {
    .name = "list",
    .create = list_create,
    .destroy = list_destroy,
    .add = list_add,
    .contains = list_contains,
    .remove = list_remove,
    .size = list_size,
};

/* --- the registry and the front end --- */

struct set_db {
    const struct set_ops *ops; /* the engine's table */
    void *self;                /* the engine's state, opaque here */
};

static const struct set_ops *const registry[] = {&set_engine_array, &set_engine_list, NULL};
static const char *const registry_names[] = {"array", "list", NULL};

const struct set_ops *const *set_engines(void)
{
    return registry;
}

const char *const *set_engine_names(void)
{
    return registry_names;
}

int set_open(const char *engine, set_db **out)
{
    /* STUB: (void)engine; (void)out; return -ENOSYS; */
    /* BEGIN SOLUTION */
    if (!engine || !out)
        return -EINVAL;
    const struct set_ops *ops = NULL;
    for (const struct set_ops *const *e = set_engines(); *e; e++)
        if (strcmp((*e)->name, engine) == 0)
            ops = *e;
    if (!ops)
        return -EINVAL;
    set_db *s = malloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    int rc = ops->create(&s->self);
    if (rc != 0) {
        free(s);
        return rc;
    }
    s->ops = ops;
    *out = s;
    return 0;
    /* END SOLUTION */
}

void set_close(set_db *s)
{
    if (!s)
        return;
    s->ops->destroy(s->self);
    free(s);
}

int set_add(set_db *s, const char *str)
{
    /* STUB: (void)s; (void)str; return -ENOSYS; */
    /* BEGIN SOLUTION */
    if (!s || !str)
        return -EINVAL;
    return s->ops->add(s->self, str);
    /* END SOLUTION */
}

int set_contains(const set_db *s, const char *str)
{
    /* STUB: (void)s; (void)str; return -ENOSYS; */
    /* BEGIN SOLUTION */
    if (!s || !str)
        return -EINVAL;
    return s->ops->contains(s->self, str);
    /* END SOLUTION */
}

int set_remove(set_db *s, const char *str)
{
    /* STUB: (void)s; (void)str; return -ENOSYS; */
    /* BEGIN SOLUTION */
    if (!s || !str)
        return -EINVAL;
    return s->ops->remove(s->self, str);
    /* END SOLUTION */
}

size_t set_size(const set_db *s)
{
    /* STUB: (void)s; return 0; */
    /* BEGIN SOLUTION */
    return s ? s->ops->size(s->self) : 0;
    /* END SOLUTION */
}

const char *set_engine(const set_db *s)
{
    return s->ops->name;
}
