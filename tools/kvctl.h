/*
 * kvctl.h — kvctl's private header: what its files share.
 *
 * kvctl is split by concern, lowest layer first:
 *   kvctl_text.c   messages (one prefix for every line kvctl writes to
 *                  stderr), hex and escapes in and out
 *   kvctl_store.c  the session: opening the store once (lazily, after the
 *                  arguments are checked), syncing after writes, the refusal
 *                  of one-shot writes that would be lost, closing
 *   kvctl_cmds.c   the data commands: put, get, del, scan, load, stats
 *   kvctl_info.c   engines and dot
 *   kvctl_shell.c  `kvctl shell`: several commands on one open store
 *   kvctl.c        flags, the command table, help, main
 * Nothing here is installed or used outside tools/: callers are kvctl's own
 * files. Commands never exit(); they return one of the KVCTL_* statuses.
 */
#ifndef KVCTL_H
#define KVCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "kvlabs/kv.h"

/** @brief kvctl's exit statuses (documented in kvctl.c and tools/README.md). */
enum {
    KVCTL_OK = 0,
    KVCTL_NOTFOUND = 1,
    KVCTL_USAGE = 2,
    KVCTL_ENGINE = 3,
    KVCTL_FILE = 4,
};

#define KVCTL_DEFAULT_ENGINE "model:durable=true"
#define KVCTL_DEFAULT_PATH   "./kvdata"
#define KVCTL_USAGE_LINE \
    "usage: kvctl [-e ENGINE[:OPTS]] [-d PATH] [-o OPTIONS] [-x] COMMAND [ARGS]"

/** @brief What the global flags chose, shared by every command. */
struct ctx {
    const char *engine;  /**< "name[:opts]" */
    const char *path;    /**< the engine's directory */
    const char *options; /**< -o, or NULL */
    bool hex;            /**< -x */
};

/** @brief One open store and how commands use it. */
struct session {
    const struct ctx *c;
    kv_db *db;        /**< NULL until session_db() opened it */
    bool shell;       /**< inside `kvctl shell`: the store stays open between commands */
    bool stdin_busy;  /**< the shell reads its commands from stdin: `load -` cannot */
};

/** @brief A command: arguments after its name. Returns a KVCTL_* status. */
typedef int (*cmd_fn)(struct session *s, int argc, char **argv);

/* ---- kvctl_text.c ---- */
/** @brief Where the next messages come from, e.g. "stdin:3" in a shell script (NULL: none). */
void msg_where(const char *where);
/** @brief Print "kvctl: [where: ]<message>\n" to stderr. */
void errf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** @brief A usage error: the message, then the usage line (one-shot) or a hint (shell). */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** @brief Whether usage errors print the one-shot usage line (false inside the shell). */
void usage_in_shell(bool yes);
/** @brief Report a KV_E* status: "<strerror>: <detail> (context)", never the same words twice. */
void report(int status, const char *context);
/** @brief Decode n hex digits at p in place. @return NULL or the reason. */
const char *unhex(unsigned char *p, size_t n, size_t *out);
/** @brief Decode the escapes \\t \\n \\\\ \\xNN in place. @return NULL or the reason. */
const char *unescape(unsigned char *p, size_t n, size_t *out);
/** @brief Print bytes as hex to stdout. */
void print_hex(const void *p, size_t n);
/** @brief Print bytes escaped to stdout (scan's format). */
void print_escaped(const void *p, size_t n);
/** @brief A command-line KEY or VALUE: literal, or hex decoded in place with -x. */
int arg_bytes(const struct ctx *c, const char *what, char *arg, size_t *len);
/** @brief A size as people write it: 1M, 64G, 4K, or the plain number. */
void fmt_size(char *buf, size_t cap, double v);

/* ---- kvctl_store.c ---- */
/** @brief The session's store, opened on first use; a failure is reported. */
int session_db(struct session *s, kv_db **db);
/**
 * @brief Before a write: refuse (KVCTL_USAGE, with the explanation) a one-shot
 *        write to an engine that is neither durable nor multi-process.
 */
int session_writable(struct session *s);
/** @brief After a write: kv_sync; a failure is reported and turns @p status into 3. */
int session_synced(struct session *s, int status);
/** @brief Whether the open store forgets everything when this process ends. */
bool session_volatile(const struct session *s);
/** @brief Close the store if open; a failure turns @p status into 3. */
int session_end(struct session *s, int status);
/** @brief Whether the engine named by "name[:opts]" is linked; if not, list the engines. */
bool engine_known(const char *spec);

/* ---- commands ---- */
int cmd_put(struct session *s, int argc, char **argv);
int cmd_get(struct session *s, int argc, char **argv);
int cmd_del(struct session *s, int argc, char **argv);
int cmd_scan(struct session *s, int argc, char **argv);
int cmd_load(struct session *s, int argc, char **argv);
int cmd_stats(struct session *s, int argc, char **argv);
int cmd_engines(struct session *s, int argc, char **argv);
int cmd_dot(struct session *s, int argc, char **argv);
/** @brief `cluster status`: engine raft only (kvctl_cluster.c). */
int cmd_cluster(struct session *s, int argc, char **argv);
int cmd_help(struct session *s, int argc, char **argv);
int cmd_shell(struct session *s, int argc, char **argv);
/** @brief Put each key<TAB>value line of @p f (load's format); *count gets the keys loaded. */
int load_lines(const struct ctx *c, kv_db *db, FILE *f, const char *name, size_t *count);
/** @brief The command called @p name, or NULL. */
cmd_fn find_command(const char *name);

#endif /* KVCTL_H */
