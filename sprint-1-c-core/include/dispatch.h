/**
 * @file dispatch.h
 * @brief Sprint 1, exercise 5: function pointers — a callback dispatcher
 *        and an "ops table" (a vtable in C).
 *
 * **Part 1: the dispatcher** (prefix `disp_`). A disp_table maps names to
 * handlers, functions of type `int (*)(void *ctx, const char *arg)`. You
 * register handlers once, then dispatch a command by name; an unknown name
 * is an error (-ENOENT) that disp_format_error() turns into a clear message
 * listing the known names. `ctx` is the classic C closure: the caller's
 * state, passed through untouched to the handler, which casts it back.
 * @code
 *   static int cmd_add(void *ctx, const char *arg) { *(long *)ctx += atol(arg); return 0; }
 *   disp_table t;
 *   disp_init(&t);
 *   disp_register(&t, "add", cmd_add);
 *   long total = 0; int rc;
 *   disp_run_line(&t, &total, "add 5", &rc);      // total == 5, rc == 0
 * @endcode
 *
 * **Part 2: the ops table** (prefix `set_`). Two tiny "engines", a string
 * set backed by an array and one backed by a linked list, fill the same
 * `struct set_ops` table of function pointers. One front end (set_open(),
 * set_add(), set_contains(), ...) checks its arguments once and calls
 * through the table of whichever engine the set was opened with; the
 * caller never knows which implementation runs. This is exactly the shape
 * of the course's engine contract: common/include/kvlabs/kv.h declares the
 * front end (kv_open(), kv_put(), kv_get(), ...), every storage engine of
 * sprints 2–5 fills one `kv_engine_ops` table, and kv_open("hash", ...)
 * picks the table by name as set_open("list", ...) does here.
 *
 * **Errors** are negative errno values: -EINVAL (NULL or malformed
 * argument), -ENOENT (unknown name, absent element), -EEXIST (name already
 * registered), -ENOSPC (table full), -ENOMEM.
 *
 * **Thread safety.** None inside: a disp_table or a set_db is used by one
 * thread at a time (dispatching on a table that no thread modifies is safe
 * from several threads). The engine tables themselves are read-only.
 */
#ifndef SPRINT1_DISPATCH_H
#define SPRINT1_DISPATCH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Capacity of a disp_table. */
#define DISP_MAX 32

/** @brief Longest handler name, in bytes without the NUL. */
#define DISP_NAME_MAX 31

/**
 * @brief A handler: receives the caller's context and the argument text.
 * @param ctx  the pointer given to disp_dispatch(), passed through untouched.
 * @param arg  the argument ("" when there is none); never NULL.
 * @return whatever the handler means; disp_dispatch() hands it back.
 */
typedef int (*disp_handler)(void *ctx, const char *arg);

/** @brief One named handler. */
struct disp_ops {
    const char *name; /**< command name; borrowed: must outlive the table */
    int (*handler)(void *ctx, const char *arg); /**< the callback */
};

/** @brief A table of named handlers, in registration order. Fixed capacity, no allocation. */
typedef struct disp_table {
    struct disp_ops ops[DISP_MAX]; /**< the registered handlers, ops[0..count-1] */
    size_t count;                  /**< number of registered handlers */
} disp_table;

/**
 * @brief Make @p t an empty table.
 * @param[out] t  the table; not NULL.
 */
void disp_init(disp_table *t);

/**
 * @brief Register a handler under a name.
 * @param[in,out] t        the table; not NULL.
 * @param[in]     name     1..DISP_NAME_MAX bytes, no spaces; the string is
 *                         borrowed (not copied) and must outlive the table.
 * @param[in]     handler  the callback; not NULL.
 * @return 0; -EINVAL for a NULL argument or a bad name; -EEXIST when the
 *         name is already registered; -ENOSPC when the table is full.
 *         On failure the table is unchanged.
 */
int disp_register(disp_table *t, const char *name, disp_handler handler);

/**
 * @brief Register every entry of an array terminated by an entry whose
 *        name is NULL, all or nothing.
 * @param[in,out] t    the table; not NULL.
 * @param[in]     ops  the entries; not NULL.
 * @return 0; else the error of the first entry that failed (see
 *         disp_register()), with the table restored to its previous state.
 */
int disp_register_all(disp_table *t, const struct disp_ops *ops);

/**
 * @brief Find a handler by name.
 * @param[in] t     the table; not NULL.
 * @param[in] name  the name; not NULL.
 * @return the entry (borrowed from @p t), or NULL when no handler has that name.
 */
const struct disp_ops *disp_find(const disp_table *t, const char *name);

/**
 * @brief Call the handler registered under @p name.
 * @param[in]  t       the table; not NULL.
 * @param[in]  name    the command name; not NULL.
 * @param[in]  ctx     passed to the handler unchanged (may be NULL).
 * @param[in]  arg     passed to the handler; NULL is passed as "".
 * @param[out] result  receives the handler's return value; may be NULL.
 * @return 0 when a handler ran (its own status is in @p result);
 *         -ENOENT for an unknown name (no handler ran); -EINVAL for a NULL
 *         @p t or @p name.
 */
int disp_dispatch(const disp_table *t, const char *name, void *ctx, const char *arg, int *result);

/**
 * @brief Split a command line "name arg..." at the first run of spaces
 *        and dispatch it.
 *
 * Leading spaces are skipped; the argument is the rest of the line after
 * the spaces that follow the name ("" when there is none).
 * @param[in]  t       the table; not NULL.
 * @param[in]  ctx     passed to the handler.
 * @param[in]  line    the command line; not NULL.
 * @param[out] result  receives the handler's return value; may be NULL.
 * @return as disp_dispatch(); also -EINVAL for an empty line and -ENOENT
 *         for a name longer than DISP_NAME_MAX.
 */
int disp_run_line(const disp_table *t, void *ctx, const char *line, int *result);

/**
 * @brief A one-line explanation of a dispatch failure, e.g.
 *        "unknown command 'psh' (known: push, pop)".
 * @param[in]  t       the table (for the list of known names); not NULL.
 * @param[in]  status  the code returned by disp_dispatch() or disp_register().
 * @param[in]  name    the name involved; may be NULL.
 * @param[out] buf     receives the NUL-terminated message, truncated to fit.
 * @param[in]  size    size of @p buf (0: nothing is written).
 * @return the length the full message has (as snprintf).
 */
size_t disp_format_error(const disp_table *t, int status, const char *name, char *buf, size_t size);

/**
 * @brief A vtable: the operations every string-set engine provides.
 *
 * Engines implement these over their own private state (`self`); the
 * front end owns the dispatch. Compare `kv_engine_ops` in the kvlabs
 * common library.
 */
struct set_ops {
    const char *name; /**< engine name, used by set_open() */
    /** @brief Create an empty set; 0 and *self set, or -ENOMEM. */
    int (*create)(void **self);
    /** @brief Free the set and every string it holds. */
    void (*destroy)(void *self);
    /** @brief Add a copy of @p s: 1 when added, 0 when already present, -ENOMEM. */
    int (*add)(void *self, const char *s);
    /** @brief 1 when @p s is in the set, else 0. */
    int (*contains)(const void *self, const char *s);
    /** @brief Remove @p s: 0, or -ENOENT when absent. */
    int (*remove)(void *self, const char *s);
    /** @brief Number of strings in the set. */
    size_t (*size)(const void *self);
};

/** @brief The array-backed engine ("array"): a growable array of strings, linear search. */
extern const struct set_ops set_engine_array;
/** @brief The list-backed engine ("list"): a singly linked list, new strings at the head. */
extern const struct set_ops set_engine_list;

/** @brief An open set: an engine's ops table plus that engine's state. Opaque. */
typedef struct set_db set_db;

/**
 * @brief The registry: every engine set_open() can open.
 *
 * The counterpart of the engine registry the kvlabs build generates for
 * kv_open(): explicit references to each ops table, in a static array.
 * @return a static NULL-terminated array of ops tables.
 */
const struct set_ops *const *set_engines(void);

/**
 * @brief The names of the engines available to set_open().
 * @return a static NULL-terminated array of names ("array", "list").
 */
const char *const *set_engine_names(void);

/**
 * @brief Open an empty set on the engine called @p engine.
 * @param[in]  engine  one of set_engine_names(); not NULL.
 * @param[out] out     receives the handle, only on success; not NULL.
 * @return 0; -EINVAL for a NULL argument or an unknown engine; -ENOMEM.
 *         The caller owns the handle and releases it with set_close().
 */
int set_open(const char *engine, set_db **out);

/**
 * @brief Destroy a set and its strings.
 * @param[in] s  the handle, or NULL (nothing happens).
 */
void set_close(set_db *s);

/**
 * @brief Add a copy of a string.
 * @param[in,out] s    the set; not NULL.
 * @param[in]     str  a NUL-terminated string; not NULL; copied.
 * @return 1 when added; 0 when already present; -EINVAL for a NULL
 *         argument; -ENOMEM (the set is unchanged).
 */
int set_add(set_db *s, const char *str);

/**
 * @brief Membership test.
 * @param[in] s    the set; not NULL.
 * @param[in] str  the string; not NULL.
 * @return 1 when present; 0 when absent; -EINVAL for a NULL argument.
 */
int set_contains(const set_db *s, const char *str);

/**
 * @brief Remove a string.
 * @param[in,out] s    the set; not NULL.
 * @param[in]     str  the string; not NULL.
 * @return 0; -ENOENT when absent; -EINVAL for a NULL argument.
 */
int set_remove(set_db *s, const char *str);

/**
 * @brief Number of strings.
 * @param[in] s  the set, or NULL (0).
 * @return the count.
 */
size_t set_size(const set_db *s);

/**
 * @brief The engine a set was opened with.
 * @param[in] s  the set; not NULL.
 * @return its engine's name (static storage).
 */
const char *set_engine(const set_db *s);

#ifdef __cplusplus
}
#endif
#endif /* SPRINT1_DISPATCH_H */
