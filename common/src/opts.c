/*
 * opts.c — the options parser shared by every engine.
 *
 * An option string is "key=value" pairs separated by commas. The parser
 * knows two tables: the engine's own kv_opt_spec table and the common table
 * below (sync, sync_ms, cache, max_key, max_value, mode). Parsing walks the text
 * once:
 *
 *   1. split on ',' and skip empty tokens (so "a=1," and "" + "," + "b=2"
 *      both work when the front end joins the engine suffix and the options);
 *   2. split each token at the first '=', trim blanks around key and value;
 *   3. find the key in either table (unknown → KV_EINVAL listing the keys
 *      the engine accepts), refuse a second occurrence (duplicate → KV_EINVAL);
 *   4. parse the value by the spec's type and check its range.
 *
 * An engine table may not reuse a common key's name (KV_EINVAL: the
 * engine's option would shadow the common one).
 *
 * Afterwards every spec entry has a value: the given one, or its default.
 * Getters look the name up linearly: option tables are a handful of entries
 * and are read once, at open.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "kvlabs/kv.h"
#include "kvlabs/opts.h"

static const kv_opt_spec common_spec[] = {
    {"sync", KV_OPT_ENUM, "none", "none|batch|always", 0, 0,
     "none: kv_sync/close make writes durable; batch: group commit every sync_ms; always: every write"},
    {"sync_ms", KV_OPT_UINT, "10", NULL, 1, 60000, "batch interval in milliseconds"},
    {"cache", KV_OPT_SIZE, "0", NULL, 0, 0, "memory budget in bytes (0: the engine's default)"},
    {"max_key", KV_OPT_SIZE, NULL, NULL, 1, 0, "largest key in bytes (default: the engine's)"},
    {"max_value", KV_OPT_SIZE, NULL, NULL, 0, 0, "largest value in bytes (default: the engine's)"},
    {"mode", KV_OPT_MODE, "0600", NULL, 0, 0,
     "octal permission of created files (directories: plus x where r); engines without files ignore it"},
    {0},
};

struct opt_val {
    const kv_opt_spec *spec;
    bool given;
    bool set; /* given, or has a default */
    bool b;
    uint64_t u;
    double d;
    int e;
    const char *s; /* points into kv_opts.text or into spec->def */
};

struct kv_opts {
    char *text; /* our mutable copy, tokens point into it */
    size_t n;
    struct opt_val *v;
    kv_common_opts common;
};

static size_t spec_len(const kv_opt_spec *spec)
{
    size_t n = 0;

    while (spec && spec[n].name)
        n++;
    return n;
}

int kv_parse_bool(const char *s, bool *out)
{
    if (!strcmp(s, "true") || !strcmp(s, "1")) {
        *out = true;
        return KV_OK;
    }
    if (!strcmp(s, "false") || !strcmp(s, "0")) {
        *out = false;
        return KV_OK;
    }
    return kv_fail(KV_EINVAL, "'%s' is not a boolean (true|false|1|0)", s);
}

static int parse_u64(const char *s, uint64_t *out, const char **end)
{
    uint64_t v = 0;
    const char *p = s;

    if (!isdigit((unsigned char)*p))
        return kv_fail(KV_EINVAL, "'%s' is not an unsigned integer", s);
    for (; isdigit((unsigned char)*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return kv_fail(KV_EINVAL, "'%s' is too large", s);
        v = v * 10 + d;
    }
    *out = v;
    *end = p;
    return KV_OK;
}

int kv_parse_size(const char *s, uint64_t *out)
{
    const char *end;
    uint64_t v, mul = 1;

    if (parse_u64(s, &v, &end) != KV_OK)
        return kv_fail(KV_EINVAL, "'%s' is not a size (digits with an optional K, M or G)", s);
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': mul = 1ULL << 10; end++; break;
    case 'm': case 'M': mul = 1ULL << 20; end++; break;
    case 'g': case 'G': mul = 1ULL << 30; end++; break;
    default: end = NULL; break;
    }
    if (!end || *end != '\0')
        return kv_fail(KV_EINVAL, "'%s' is not a size (digits with an optional K, M or G)", s);
    if (v > UINT64_MAX / mul)
        return kv_fail(KV_EINVAL, "size '%s' overflows", s);
    *out = v * mul;
    return KV_OK;
}

int kv_parse_mode(const char *s, unsigned *out)
{
    unsigned v = 0;
    const char *p = s;

    if (!*p)
        return kv_fail(KV_EINVAL, "'%s' is not an octal mode (digits 0-7, e.g. 0640)", s);
    for (; *p; p++) {
        if (*p < '0' || *p > '7')
            return kv_fail(KV_EINVAL, "'%s' is not an octal mode (digits 0-7, e.g. 0640)", s);
        if (v <= 07777) /* past that it is refused anyway: no overflow */
            v = v * 8 + (unsigned)(*p - '0');
    }
    if (v & ~0777u)
        return kv_fail(KV_EINVAL, "mode %s has bits outside 0777 (setuid, setgid, sticky or more)",
                       s);
    if ((v & 0600u) != 0600u)
        return kv_fail(KV_EINVAL, "mode %s lacks 0600: the owner must read and write its files", s);
    *out = v;
    return KV_OK;
}

static int parse_enum(const char *choices, const char *s, int *out)
{
    size_t n = strlen(s);
    const char *p = choices;
    int i = 0;

    while (*p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, s, n)) {
            *out = i;
            return KV_OK;
        }
        if (!bar)
            break;
        p = bar + 1;
        i++;
    }
    return kv_fail(KV_EINVAL, "'%s' is not one of %s", s, choices);
}

static int check_range(const kv_opt_spec *sp, double v)
{
    if (sp->min < sp->max && (v < sp->min || v > sp->max))
        return kv_fail(KV_EINVAL, "%s=%g is out of range [%g, %g]", sp->name, v, sp->min, sp->max);
    if (sp->min > 0 && sp->max == 0 && v < sp->min)
        return kv_fail(KV_EINVAL, "%s=%g is below its minimum %g", sp->name, v, sp->min);
    return KV_OK;
}

/* Parse one value into v by its spec's type. */
static int parse_value(struct opt_val *v, const char *s)
{
    const kv_opt_spec *sp = v->spec;
    const char *end;
    char *dend;
    int rc = KV_OK;

    switch (sp->type) {
    case KV_OPT_BOOL:
        rc = kv_parse_bool(s, &v->b);
        break;
    case KV_OPT_UINT:
        rc = parse_u64(s, &v->u, &end);
        if (rc == KV_OK && *end)
            rc = kv_fail(KV_EINVAL, "'%s' is not an unsigned integer", s);
        if (rc == KV_OK)
            rc = check_range(sp, (double)v->u);
        break;
    case KV_OPT_SIZE:
        rc = kv_parse_size(s, &v->u);
        if (rc == KV_OK)
            rc = check_range(sp, (double)v->u);
        break;
    case KV_OPT_DOUBLE:
        errno = 0;
        v->d = strtod(s, &dend);
        if (dend == s || *dend || errno || !isfinite(v->d))
            rc = kv_fail(KV_EINVAL, "'%s' is not a number", s);
        if (rc == KV_OK)
            rc = check_range(sp, v->d);
        break;
    case KV_OPT_ENUM:
        rc = parse_enum(sp->choices, s, &v->e);
        break;
    case KV_OPT_STRING:
        break;
    case KV_OPT_MODE: {
        unsigned m;
        rc = kv_parse_mode(s, &m);
        if (rc == KV_OK)
            v->u = m;
        break;
    }
    }
    if (rc == KV_OK) {
        v->s = s;
        v->set = true;
    }
    return rc;
}

static struct opt_val *lookup(const kv_opts *o, const char *name)
{
    for (size_t i = 0; i < o->n; i++)
        if (!strcmp(o->v[i].spec->name, name))
            return &o->v[i];
    return NULL;
}

/* "unknown option 'x'; accepted: a, b, c" */
static int fail_unknown(const kv_opts *o, const char *key)
{
    char list[160];
    size_t off = 0;

    list[0] = '\0';
    for (size_t i = 0; i < o->n && off < sizeof(list); i++) {
        int w = snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "", o->v[i].spec->name);
        if (w < 0)
            break;
        off += (size_t)w;
    }
    return kv_fail(KV_EINVAL, "unknown option '%s'; accepted: %s", key, list);
}

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static int parse_token(kv_opts *o, char *tok)
{
    char *eq = strchr(tok, '=');
    char *key, *val;
    struct opt_val *v;
    int rc;

    if (!eq)
        return kv_fail(KV_EINVAL, "option '%s' has no value (expected key=value)", tok);
    *eq = '\0';
    key = trim(tok);
    val = trim(eq + 1);
    if (!*key)
        return kv_fail(KV_EINVAL, "option with an empty key ('=%s')", val);
    v = lookup(o, key);
    if (!v)
        return fail_unknown(o, key);
    if (v->given)
        return kv_fail(KV_EINVAL, "duplicate option '%s'", key);
    if (!*val)
        return kv_fail(KV_EINVAL, "option '%s' has an empty value", key);
    rc = parse_value(v, val);
    if (rc != KV_OK) {
        char why[KV_ERROR_MAX];
        snprintf(why, sizeof(why), "%s", kv_last_error());
        return kv_fail(rc, "option '%s': %s", key, why);
    }
    v->given = true;
    return KV_OK;
}

static void fill_common(kv_opts *o)
{
    o->common.sync = (kv_sync_mode)kv_opts_enum(o, "sync");
    o->common.sync_ms = kv_opts_u64(o, "sync_ms");
    o->common.cache = kv_opts_u64(o, "cache");
    o->common.max_key = kv_opts_u64(o, "max_key");
    o->common.max_value = kv_opts_u64(o, "max_value");
    o->common.mode = (unsigned)kv_opts_u64(o, "mode");
}

static int apply_defaults(kv_opts *o)
{
    for (size_t i = 0; i < o->n; i++) {
        struct opt_val *v = &o->v[i], scratch = {.spec = v->spec};
        if (!v->spec->def)
            continue;
        /* A default that does not parse is a bug in the engine's table, also
         * when the text gives the option (checked on a scratch copy then). */
        if (parse_value(v->given ? &scratch : v, v->spec->def) != KV_OK)
            return kv_fail(KV_EINVAL, "bad default '%s' for option '%s'", v->spec->def,
                           v->spec->name);
    }
    return KV_OK;
}

int kv_opts_parse(const kv_opt_spec *spec, const char *text, kv_opts **out)
{
    size_t ns = spec_len(spec), nc = spec_len(common_spec);
    kv_opts *o;
    char *save = NULL, *tok;
    int rc = KV_ENOMEM;

    if (!out)
        return kv_fail(KV_EINVAL, "kv_opts_parse: out is NULL");
    /* An engine option named like a common key would hide it (its value
     * would never reach kv_common_opts): a bug in the engine's table. */
    for (size_t i = 0; i < ns; i++)
        for (size_t j = 0; j < nc; j++)
            if (!strcmp(spec[i].name, common_spec[j].name))
                return kv_fail(KV_EINVAL, "option '%s' of the engine's table shadows a common key",
                               spec[i].name);
    o = kv_calloc(1, sizeof(*o));
    if (!o)
        goto out_fail;
    o->text = kv_strdup(text ? text : "");
    o->v = kv_calloc(ns + nc, sizeof(*o->v));
    if (!o->text || !o->v)
        goto out_free;
    for (size_t i = 0; i < ns; i++)
        o->v[o->n++].spec = &spec[i];
    for (size_t i = 0; i < nc; i++)
        o->v[o->n++].spec = &common_spec[i];

    for (tok = strtok_r(o->text, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        tok = trim(tok);
        if (!*tok)
            continue;
        rc = parse_token(o, tok);
        if (rc != KV_OK)
            goto out_free;
    }
    rc = apply_defaults(o);
    if (rc != KV_OK)
        goto out_free;
    fill_common(o);
    *out = o;
    return KV_OK;

out_free:
    kv_opts_free(o);
out_fail:
    if (rc == KV_ENOMEM)
        kv_fail(KV_ENOMEM, "out of memory parsing options");
    return rc;
}

void kv_opts_free(kv_opts *o)
{
    if (!o)
        return;
    kv_free(o->text);
    kv_free(o->v);
    kv_free(o);
}

const kv_common_opts *kv_opts_common(const kv_opts *o)
{
    return &o->common;
}

bool kv_opts_given(const kv_opts *o, const char *name)
{
    const struct opt_val *v = lookup(o, name);

    return v && v->given;
}

bool kv_opts_bool(const kv_opts *o, const char *name)
{
    const struct opt_val *v = lookup(o, name);

    return v && v->set && v->spec->type == KV_OPT_BOOL ? v->b : false;
}

uint64_t kv_opts_u64(const kv_opts *o, const char *name)
{
    const struct opt_val *v = lookup(o, name);

    if (!v || !v->set ||
        (v->spec->type != KV_OPT_UINT && v->spec->type != KV_OPT_SIZE && v->spec->type != KV_OPT_MODE))
        return 0;
    return v->u;
}

double kv_opts_double(const kv_opts *o, const char *name)
{
    const struct opt_val *v = lookup(o, name);

    return v && v->set && v->spec->type == KV_OPT_DOUBLE ? v->d : 0;
}

int kv_opts_enum(const kv_opts *o, const char *name)
{
    const struct opt_val *v = lookup(o, name);

    return v && v->set && v->spec->type == KV_OPT_ENUM ? v->e : -1;
}

const char *kv_opts_str(const kv_opts *o, const char *name)
{
    const struct opt_val *v = lookup(o, name);

    if (!v || !v->set || (v->spec->type != KV_OPT_STRING && v->spec->type != KV_OPT_ENUM))
        return NULL;
    return v->s;
}
