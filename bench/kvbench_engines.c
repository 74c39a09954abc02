/*
 * kvbench_engines.c — which engines a run measures, and checking them
 * before anything runs.
 *
 * kvbench reaches engines only through the contract (kv_open and friends);
 * the registry's tables (kv_engine_find, kvlabs/engine.h) are read here
 * only to list the engines and to check a run's choices up front: a typo
 * in an option should fail in a millisecond with the option's name, not
 * after ten minutes of other engines' workloads.
 *
 * --engines syntax. Each engine is `name[:options]`, and options are
 * `key=value` pairs separated by commas — so a comma cannot simply
 * separate engines. The rule: engines are separated by ';' (quote it in a
 * shell) or by repeating --engines; in addition, within one argument, a
 * comma-separated token that has no '=' before any ':' starts a new
 * engine, and a token with '=' continues the options of the engine before
 * it. So all of these work:
 *
 *   --engines lmdb,rocksdb,sqlite
 *   --engines 'lmdb:map_size=4G,batch=100;rocksdb'
 *   --engines lmdb:map_size=4G,batch=100,rocksdb         (same as above)
 *   --engines model:durable=true --engines leveldb
 *
 * Engine kinds, for --list and the report: "reference" (model, the
 * oracle; not in `make report`), "peer" (the four adapters of
 * bench/peers/), "vm" (engines that live in the test VM's kernel; not in
 * the default list), and "kvlabs" (every course engine: what `make
 * report` measures beside the peers).
 */
#include <stdlib.h>
#include <string.h>

#include "kvbench_int.h"
#include "kvlabs/alloc.h"
#include "kvlabs/engine.h"
#include "kvlabs/json.h"
#include "kvlabs/opts.h"

static const char *const peer_names[] = {"leveldb", "rocksdb", "lmdb", "sqlite", NULL};
/* Engines reached through a kernel device in the test VM (sprint 2's kdev
 * and later kernel engines): add their names here. */
static const char *const vm_names[] = {"kdev", "kbtree", NULL};

static bool in_list(const char *const *l, const char *s)
{
    for (; *l; l++)
        if (!strcmp(*l, s))
            return true;
    return false;
}

const char *kvb_engine_kind(const char *name)
{
    if (!strcmp(name, "model"))
        return "reference";
    if (in_list(peer_names, name))
        return "peer";
    if (in_list(vm_names, name))
        return "vm";
    return "kvlabs";
}

static int push(kvb_engine_list *l, const char *spec, size_t len)
{
    kvb_engine *e;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        kvb_engine *v = kv_realloc(l->v, cap * sizeof *v);
        if (!v)
            return KV_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    e = &l->v[l->n];
    memset(e, 0, sizeof *e);
    e->spec = kv_memdup(spec, len);
    if (!e->spec)
        return KV_ENOMEM;
    l->n++;
    return KV_OK;
}

/* Append ",tok" to the last engine's spec. */
static int extend(kvb_engine_list *l, const char *tok, size_t len)
{
    kvb_engine *e = &l->v[l->n - 1];
    size_t old = strlen(e->spec);
    char *s = kv_realloc(e->spec, old + 1 + len + 1);

    if (!s)
        return KV_ENOMEM;
    s[old] = ',';
    memcpy(s + old + 1, tok, len);
    s[old + 1 + len] = '\0';
    e->spec = s;
    return KV_OK;
}

int kvb_engines_parse(kvb_engine_list *l, const char *arg)
{
    const char *p = arg;

    while (*p) {
        size_t len = strcspn(p, ",;");
        const char *colon = memchr(p, ':', len), *eq = memchr(p, '=', len);
        int rc;

        if (len == 0) { /* an empty token: ",," or ";;" */
            p++;
            continue;
        }
        if (!eq || (colon && colon < eq)) {
            /* "name" or "name:opts": a new engine (its options may go on
             * over the next commas). */
            rc = push(l, p, len);
        } else if (l->n == 0 || p == arg || p[-1] == ';') {
            kvb_note("--engines: option '%.*s' does not follow an engine name (use name:%.*s)",
                     (int)len, p, (int)len, p);
            return KVB_EXIT_USAGE;
        } else {
            rc = extend(l, p, len); /* "key=value" after a comma: the engine's next option */
        }
        if (rc != KV_OK)
            return KVB_EXIT_USAGE;
        p += len;
        if (*p)
            p++;
    }
    return KVB_EXIT_OK;
}

int kvb_engines_default(kvb_engine_list *l)
{
    for (const char *const *n = kv_engine_names(); *n; n++)
        if (strcmp(kvb_engine_kind(*n), "vm") && push(l, *n, strlen(*n)) != KV_OK)
            return KVB_EXIT_USAGE;
    return KVB_EXIT_OK;
}

void kvb_engines_free(kvb_engine_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        kv_free(l->v[i].spec);
        kv_free(l->v[i].name);
        kv_free(l->v[i].options);
        kv_free(l->v[i].all_opts);
    }
    kv_free(l->v);
    memset(l, 0, sizeof *l);
}

/* Whether an options text sets `key` (a token "key=..."). */
static bool sets_key(const char *opts, const char *key)
{
    size_t kl = strlen(key);

    for (const char *p = opts; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!strncmp(p, key, kl) && (p[kl] == '=' || p[kl] == ' '))
            return true;
        p = strchr(p, ',');
    }
    return false;
}

static char *join_opts(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = kv_malloc(la + lb + 2);

    if (!s)
        return NULL;
    memcpy(s, a, la);
    s[la] = la && lb ? ',' : '\0';
    memcpy(s + la + (la && lb), b, lb + 1);
    return s;
}

static int check_one(kvb_engine *e, const kvb_config *cfg)
{
    const char *colon = strchr(e->spec, ':');
    const char *spec_opts = colon ? colon + 1 : "";
    size_t nl = colon ? (size_t)(colon - e->spec) : strlen(e->spec);
    const kv_engine_ops *ops = kv_engine_find(e->spec, nl);
    const kv_common_opts *common;
    kv_opts *parsed;
    char cache[96] = "";
    uint64_t max_key, max_value;

    e->name = kv_memdup(e->spec, nl);
    if (!e->name)
        return KVB_EXIT_USAGE;
    if (!ops) {
        kvb_note("--engines: unknown engine '%s' (run kvbench --list for the linked ones)",
                 e->name);
        return KVB_EXIT_USAGE;
    }
    if (cfg->cache && !sets_key(spec_opts, "cache"))
        snprintf(cache, sizeof cache, "cache=%s", cfg->cache);
    e->options = kv_strdup(cache);
    e->all_opts = join_opts(spec_opts, cache);
    if (!e->options || !e->all_opts)
        return KVB_EXIT_USAGE;
    e->caps = ops->caps;
    e->summary = ops->summary ? ops->summary : "";
    if (kv_opts_parse(ops->options, e->all_opts, &parsed) != KV_OK) {
        kvb_note("--engines: bad option for engine '%s' in '%s': %s", e->name, e->all_opts,
                 kv_last_error());
        return KVB_EXIT_USAGE;
    }
    common = kv_opts_common(parsed);
    max_key = common->max_key ? common->max_key : ops->default_max_key;
    max_value = common->max_value ? common->max_value : ops->default_max_value;
    kv_opts_free(parsed);
    if (cfg->procs > 1 && !(ops->caps & KV_CAP_MULTIPROC)) {
        kvb_note("--procs %u: engine '%s' cannot be opened by several processes at once (it "
                 "lacks KV_CAP_MULTIPROC); use --threads, or an engine such as lmdb or sqlite",
                 cfg->procs, e->name);
        return KVB_EXIT_USAGE;
    }
    if (cfg->key_size > max_key || cfg->value_size > max_value) {
        kvb_note("engine '%s' takes keys up to %llu and values up to %llu bytes: --key-size %u / "
                 "--value-size %u do not fit (raise max_key= or max_value=)",
                 e->name, (unsigned long long)max_key, (unsigned long long)max_value,
                 cfg->key_size, cfg->value_size);
        return KVB_EXIT_USAGE;
    }
    return KVB_EXIT_OK;
}

int kvb_engines_check(kvb_engine_list *l, const kvb_config *cfg)
{
    for (size_t i = 0; i < l->n; i++) {
        int rc = check_one(&l->v[i], cfg);
        if (rc != KVB_EXIT_OK)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(l->v[j].spec, l->v[i].spec)) {
                kvb_note("--engines: '%s' is given twice", l->v[i].spec);
                return KVB_EXIT_USAGE;
            }
    }
    return KVB_EXIT_OK;
}

/* ---- --list ---------------------------------------------------------------- */

static const char *caps_text(unsigned caps, char *buf, size_t n)
{
    static const char *const names[] = {"ordered", "durable", "snapshot", "multiproc"};
    size_t used = 0;

    buf[0] = '\0';
    for (unsigned b = 0; b < 4; b++)
        if (caps & (1u << b))
            used += (size_t)snprintf(buf + used, used < n ? n - used : 0, "%s%s", used ? "," : "",
                                     names[b]);
    if (!buf[0])
        snprintf(buf, n, "-");
    return buf;
}

void kvb_list(FILE *f)
{
    char caps[64];

    fprintf(f, "engines (name, kind, capabilities, summary; then each option=default):\n");
    for (const char *const *n = kv_engine_names(); *n; n++) {
        const kv_engine_ops *ops = kv_engine_find(*n, strlen(*n));
        if (!ops)
            continue;
        fprintf(f, "  %-10s %-9s %-34s %s\n", *n, kvb_engine_kind(*n),
                caps_text(ops->caps, caps, sizeof caps), ops->summary ? ops->summary : "");
        for (const kv_opt_spec *o = ops->options; o && o->name; o++)
            fprintf(f, "      option %s=%s  %s\n", o->name, o->def ? o->def : "",
                    o->help ? o->help : "");
    }
    fprintf(f, "workloads (run in this order on each engine; [ordered]: KV_CAP_ORDERED only):\n");
    for (int i = 0; i < KVB_N_WORKLOADS; i++)
        fprintf(f, "  %-13s %s%s\n", kvb_workloads[i].name,
                kvb_workloads[i].ordered ? "[ordered] " : "", kvb_workloads[i].summary);
    fprintf(f, "micro-benchmarks (--micros NAME,... or all):\n");
    for (size_t i = 0; kv_registry_micros[i]; i++)
        fprintf(f, "  %-13s %s\n", kv_registry_micros[i]->name,
                kv_registry_micros[i]->summary ? kv_registry_micros[i]->summary : "");
}

kv_json *kvb_engine_json(const kvb_engine *e)
{
    const kv_engine_ops *ops = kv_engine_find(e->name, strlen(e->name));
    kv_json *o = kv_json_new_object(), *defs = kv_json_new_object();
    char caps[64];
    int rc = !o || !defs;

    for (const kv_opt_spec *s = ops ? ops->options : NULL; !rc && s && s->name; s++)
        rc = kv_json_set_str(defs, s->name, s->def ? s->def : "");
    rc = rc || kv_json_set_str(o, "spec", e->spec) || kv_json_set_str(o, "name", e->name) ||
         kv_json_set_str(o, "kind", kvb_engine_kind(e->name)) ||
         kv_json_set_str(o, "caps", caps_text(e->caps, caps, sizeof caps)) ||
         kv_json_set_str(o, "summary", e->summary ? e->summary : "") ||
         kv_json_set_str(o, "options", e->all_opts ? e->all_opts : "");
    if (rc) {
        kv_json_free(o);
        kv_json_free(defs);
        return NULL;
    }
    if (kv_json_set_obj(o, "defaults", defs) != KV_OK) {
        kv_json_free(o);
        return NULL;
    }
    return o;
}
