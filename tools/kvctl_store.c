/*
 * kvctl_store.c — kvctl's session: the one store a run (or a shell) works
 * on, and the rules that keep kvctl from losing data silently.
 *
 * Opening. session_db() opens the store the first time a command needs it,
 * after that command checked its arguments, so a usage error never opens
 * (or creates) anything. Before kv_open it checks that the engine exists
 * (an unknown name lists the linked engines) and, for an engine that keeps
 * its data in a directory (durable or multi-process), creates the missing
 * parent directories of -d, as `mkdir -p` would; the engine creates the
 * last one itself.
 *
 * Not losing writes. A one-shot kvctl run opens, works and closes. On an
 * engine that is neither KV_CAP_DURABLE nor KV_CAP_MULTIPROC (hash, the
 * in-memory model) whatever it wrote is gone when kvctl exits, and the next
 * `kvctl get` would say "key not found". So session_writable() refuses a
 * one-shot write there, explaining why and pointing at `kvctl shell`, where
 * the store stays open between commands. Every write is followed by
 * kv_sync (session_synced), in a shell as in a one-shot run.
 *
 * Callers must not: keep the kv_db of session_db() past session_end().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvctl.h"
#include "kvlabs/engine.h"
#include "kvlabs/env.h"

static const kv_engine_ops *engine_ops(const char *spec)
{
    const char *colon = strchr(spec, ':');

    return kv_engine_find(spec, colon ? (size_t)(colon - spec) : strlen(spec));
}

bool engine_known(const char *spec)
{
    const char *const *names = kv_engine_names();
    const char *colon = strchr(spec, ':');
    int len = (int)(colon ? (size_t)(colon - spec) : strlen(spec));

    if (engine_ops(spec))
        return true;
    fprintf(stderr, "kvctl: unknown engine '%.*s'; this kvctl has:", len, spec);
    for (size_t i = 0; names[i]; i++)
        fprintf(stderr, " %s", names[i]);
    fputs(" ('kvctl engines' describes them)\n", stderr);
    return false;
}

/* mkdir -p of every directory above path's last component. */
static int make_parents(const char *path)
{
    char *p = strdup(path);
    int rc = KV_OK;

    if (!p)
        return KV_ENOMEM;
    for (char *slash = strchr(p + 1, '/'); slash && rc == KV_OK; slash = strchr(slash + 1, '/')) {
        if (slash[-1] == '/')
            continue;
        *slash = '\0';
        rc = kv_env_mkdir(kv_env_posix(), p);
        *slash = '/';
    }
    free(p);
    return rc;
}

int session_db(struct session *s, kv_db **db)
{
    const kv_engine_ops *ops;
    int rc;

    if (s->db) {
        *db = s->db;
        return KVCTL_OK;
    }
    if (!engine_known(s->c->engine))
        return KVCTL_ENGINE;
    ops = engine_ops(s->c->engine);
    if (ops->caps & (KV_CAP_DURABLE | KV_CAP_MULTIPROC)) {
        rc = make_parents(s->c->path);
        if (rc != KV_OK) {
            report(rc, "creating the directories of -d");
            return KVCTL_ENGINE;
        }
    }
    rc = kv_open(s->c->engine, s->c->path, s->c->options, &s->db);
    if (rc != KV_OK) {
        s->db = NULL;
        report(rc, NULL);
        return KVCTL_ENGINE;
    }
    *db = s->db;
    return KVCTL_OK;
}

bool session_volatile(const struct session *s)
{
    return s->db && !(kv_caps(s->db) & (KV_CAP_DURABLE | KV_CAP_MULTIPROC));
}

int session_writable(struct session *s)
{
    kv_db *db;
    int st = session_db(s, &db);

    if (st != KVCTL_OK || s->shell || !session_volatile(s))
        return st;
    errf("refusing a one-shot write: engine '%s' keeps its data in this process only (it is "
         "neither durable nor multiproc), so the write would be lost when kvctl exits and a "
         "later 'kvctl get' would say \"key not found\".\n"
         "  Run several commands on one open store instead:  kvctl -e %s shell  "
         "(commands on stdin, or type them).",
         kv_engine_name(db), s->c->engine);
    return KVCTL_USAGE;
}

int session_synced(struct session *s, int status)
{
    int rc = kv_sync(s->db);

    if (rc != KV_OK) {
        report(rc, "kv_sync");
        if (status == KVCTL_OK)
            status = KVCTL_ENGINE;
    }
    return status;
}

int session_end(struct session *s, int status)
{
    int rc;

    if (!s->db)
        return status;
    rc = kv_close(s->db);
    s->db = NULL;
    if (rc != KV_OK) {
        report(rc, "kv_close");
        if (status == KVCTL_OK)
            status = KVCTL_ENGINE;
    }
    return status;
}
