/*
 * test_opts.c — unit tests of the options parser (opts.h, opts.c).
 *
 * A spec table with one option of every type (and range variants) is
 * parsed against texts that exercise each rule of opts.h: the value syntax
 * of every type, whitespace, empty tokens, the malformed pairs (no '=',
 * empty key, empty value), duplicates, unknown keys (the detail lists the
 * accepted ones), ranges, defaults, kv_opts_given(), the getters on
 * unknown names and wrong types, the common keys, a spec with a bad
 * default, and the malloc-failure loop (every failing allocation gives
 * KV_ENOMEM and leaks nothing). The join of an engine suffix and the option
 * argument is kv_open()'s and is tested in test_kv.c.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/kv.h"
#include "kvlabs/opts.h"

#include "kvtest.h"

/* The detail of the last failure contains @p sub. */

static const kv_opt_spec spec[] = {
    {"flag", KV_OPT_BOOL, "false", NULL, 0, 0, "a boolean"},
    {"on", KV_OPT_BOOL, "true", NULL, 0, 0, "a boolean defaulting to true"},
    {"count", KV_OPT_UINT, "7", NULL, 0, 0, "an unchecked integer"},
    {"ranged", KV_OPT_UINT, "5", NULL, 2, 10, "an integer in [2, 10]"},
    {"atleast", KV_OPT_UINT, NULL, NULL, 3, 0, "an integer >= 3, no default"},
    {"size", KV_OPT_SIZE, "1K", NULL, 0, 0, "a size"},
    {"bounded", KV_OPT_SIZE, NULL, NULL, 512, 4096, "a size in [512, 4096]"},
    {"ratio", KV_OPT_DOUBLE, "0.5", NULL, 0, 1, "a number in [0, 1]"},
    {"scale", KV_OPT_DOUBLE, NULL, NULL, 0, 0, "an unchecked number, no default"},
    {"level", KV_OPT_ENUM, "fast", "fast|safe|paranoid", 0, 0, "an enum"},
    {"name", KV_OPT_STRING, NULL, NULL, 0, 0, "a string, no default"},
    {"label", KV_OPT_STRING, "dflt", NULL, 0, 0, "a string with a default"},
    {0},
};

static const char *const spec_names[] = {
    "flag", "on",   "count", "ranged", "atleast", "size",  "bounded", "ratio",    "scale",
    "level", "name", "label", "sync",   "sync_ms", "cache", "max_key", "max_value", "mode"};

/* Parse @p text against spec; asserts success. */
static kv_opts *parse(const char *text)
{
    kv_opts *o = NULL;
    int rc = kv_opts_parse(spec, text, &o);

    cr_assert_eq(rc, KV_OK, "parse '%s' -> %d: %s", text ? text : "(null)", rc, kv_last_error());
    cr_assert_not_null(o);
    return o;
}

/* Parse @p text against @p sp expecting @p want; the out pointer must stay untouched. */
static void parse_fails(const kv_opt_spec *sp, const char *text, int want)
{
    kv_opts *sentinel = (kv_opts *)&sentinel, *o = sentinel;
    int rc = kv_opts_parse(sp, text, &o);

    cr_assert_eq(rc, want, "parse '%s' -> %d (%s), want %d", text, rc, kv_last_error(), want);
    cr_assert_eq(o, sentinel, "out was written on failure ('%s')", text);
    cr_assert_neq(kv_last_error()[0], '\0', "no detail for '%s'", text);
}

/* ---- defaults and types --------------------------------------------------- */

Test(opts, defaults_applied)
{
    const char *texts[] = {NULL, "", ",", " , ,, \t "};

    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        kv_opts *o = parse(texts[i]);
        cr_assert_eq(kv_opts_bool(o, "flag"), false);
        cr_assert_eq(kv_opts_bool(o, "on"), true);
        cr_assert_eq(kv_opts_u64(o, "count"), 7);
        cr_assert_eq(kv_opts_u64(o, "ranged"), 5);
        cr_assert_eq(kv_opts_u64(o, "atleast"), 0, "no default: unset");
        cr_assert_eq(kv_opts_u64(o, "size"), 1024);
        cr_assert_eq(kv_opts_u64(o, "bounded"), 0);
        cr_assert_float_eq(kv_opts_double(o, "ratio"), 0.5, 1e-12);
        cr_assert_float_eq(kv_opts_double(o, "scale"), 0.0, 0.0);
        cr_assert_eq(kv_opts_enum(o, "level"), 0);
        cr_assert_str_eq(kv_opts_str(o, "level"), "fast");
        cr_assert_null(kv_opts_str(o, "name"), "unset string");
        cr_assert_str_eq(kv_opts_str(o, "label"), "dflt");
        for (size_t j = 0; j < sizeof(spec_names) / sizeof(spec_names[0]); j++)
            cr_assert_not(kv_opts_given(o, spec_names[j]), "'%s' reported as given", spec_names[j]);
        const kv_common_opts *c = kv_opts_common(o);
        cr_assert_eq(c->sync, KV_SYNC_NONE);
        cr_assert_eq(c->sync_ms, 10);
        cr_assert_eq(c->cache, 0);
        cr_assert_eq(c->max_key, 0);
        cr_assert_eq(c->max_value, 0);
        cr_assert_eq(c->mode, 0600, "mode defaults to 0600, got 0%o", c->mode);
        cr_assert_eq(kv_opts_u64(o, "mode"), 0600);
        kv_opts_free(o);
    }
    kv_opts_free(NULL);
}

Test(opts, bool_values)
{
    static const struct {
        const char *text;
        bool want;
    } ok[] = {{"flag=true", true}, {"flag=1", true}, {"flag=false", false}, {"flag=0", false}};
    static const char *const bad[] = {"flag=TRUE",  "flag=yes", "flag=2",  "flag=01",
                                      "flag=truex", "flag=t",   "flag=-1", "flag=on"};

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        kv_opts *o = parse(ok[i].text);
        cr_assert_eq(kv_opts_bool(o, "flag"), ok[i].want, "%s", ok[i].text);
        cr_assert(kv_opts_given(o, "flag"));
        kv_opts_free(o);
    }
    /* Given false overrides a true default. */
    kv_opts *o = parse("on=0");
    cr_assert_not(kv_opts_bool(o, "on"));
    kv_opts_free(o);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        parse_fails(spec, bad[i], KV_EINVAL);
        DETAIL_HAS("option 'flag'");
        DETAIL_HAS("not a boolean");
    }
}

Test(opts, parse_bool_direct)
{
    bool b = true;

    OK(kv_parse_bool("false", &b));
    cr_assert_not(b);
    OK(kv_parse_bool("1", &b));
    cr_assert(b);
    OK(kv_parse_bool("0", &b));
    cr_assert_not(b);
    OK(kv_parse_bool("true", &b));
    cr_assert(b);
    RC(kv_parse_bool("", &b), KV_EINVAL);
    RC(kv_parse_bool(" true", &b), KV_EINVAL);
    RC(kv_parse_bool("False", &b), KV_EINVAL);
    cr_assert(b, "out untouched on failure");
    DETAIL_HAS("'False' is not a boolean");
}

Test(opts, uint_values_and_overflow)
{
    kv_opts *o = parse("count=0");
    cr_assert_eq(kv_opts_u64(o, "count"), 0);
    kv_opts_free(o);
    o = parse("count=18446744073709551615");
    cr_assert_eq(kv_opts_u64(o, "count"), UINT64_MAX);
    kv_opts_free(o);
    o = parse("count=000123");
    cr_assert_eq(kv_opts_u64(o, "count"), 123);
    kv_opts_free(o);

    parse_fails(spec, "count=18446744073709551616", KV_EINVAL);
    DETAIL_HAS("too large");
    parse_fails(spec, "count=99999999999999999999", KV_EINVAL);
    DETAIL_HAS("too large");
    static const char *const bad[] = {"count=-1",   "count=+1",  "count=1.5", "count=12abc",
                                      "count=0x10", "count=1 2", "count=1K",  "count=abc"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        parse_fails(spec, bad[i], KV_EINVAL);
        DETAIL_HAS("option 'count'");
        DETAIL_HAS("not an unsigned integer");
    }
}

Test(opts, size_values)
{
    static const struct {
        const char *s;
        uint64_t want;
    } ok[] = {
        {"0", 0},
        {"4096", 4096},
        {"1k", 1024},
        {"1K", 1024},
        {"3m", 3ULL << 20},
        {"3M", 3ULL << 20},
        {"2g", 2ULL << 30},
        {"2G", 2ULL << 30},
        {"0K", 0},
        {"18446744073709551615", UINT64_MAX},
        {"17179869183G", UINT64_MAX - ((1ULL << 30) - 1)},
        {"17592186044415M", UINT64_MAX - ((1ULL << 20) - 1)},
    };
    static const char *const bad[] = {"",
                                      "K",
                                      "k1",
                                      "1KB",
                                      "1T",
                                      "1.5K",
                                      "-1",
                                      "1 K",
                                      " 1",
                                      "1K ",
                                      "0x10",
                                      "1e3",
                                      "+5",
                                      "17179869184G",
                                      "17592186044416M",
                                      "18014398509481984K",
                                      "18446744073709551616"};
    char text[64];

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint64_t v = 12345;
        OK(kv_parse_size(ok[i].s, &v));
        cr_assert_eq(v, ok[i].want, "'%s' -> %llu", ok[i].s, (unsigned long long)v);
        snprintf(text, sizeof(text), "size=%s", ok[i].s);
        kv_opts *o = parse(text);
        cr_assert_eq(kv_opts_u64(o, "size"), ok[i].want, "%s", text);
        kv_opts_free(o);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 12345;
        RC(kv_parse_size(bad[i], &v), KV_EINVAL);
        cr_assert_eq(v, 12345, "out untouched for '%s'", bad[i]);
        cr_assert_neq(kv_last_error()[0], '\0');
    }
    uint64_t v;
    RC(kv_parse_size("17179869184G", &v), KV_EINVAL);
    DETAIL_HAS("overflows");
    RC(kv_parse_size("1X", &v), KV_EINVAL);
    DETAIL_HAS("not a size");
    parse_fails(spec, "size=1Q", KV_EINVAL);
    DETAIL_HAS("option 'size'");
}

Test(opts, double_values)
{
    static const struct {
        const char *text;
        double want;
    } ok[] = {{"scale=-3.5", -3.5}, {"scale=1e300", 1e300}, {"scale=0", 0},
              {"scale=.25", 0.25},  {"ratio=1", 1},         {"ratio=0", 0},
              {"ratio=1e-1", 0.1},  {"scale=7", 7}};
    static const char *const bad[] = {"scale=abc", "scale=1.5x", "scale=inf",      "scale=-inf",
                                      "scale=nan", "scale=NAN",  "scale=1e999",    "scale=-1e999",
                                      "scale=0x",  "scale=.",    "scale=infinity", "scale=1 5"};

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        kv_opts *o = parse(ok[i].text);
        const char *key = strncmp(ok[i].text, "scale=", 6) == 0 ? "scale" : "ratio";
        cr_assert_float_eq(kv_opts_double(o, key), ok[i].want, 1e-12 * fabs(ok[i].want) + 1e-15,
                           "%s", ok[i].text);
        kv_opts_free(o);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        parse_fails(spec, bad[i], KV_EINVAL);
        DETAIL_HAS("option 'scale'");
    }
    parse_fails(spec, "scale=nan", KV_EINVAL);
    DETAIL_HAS("'nan' is not a number");
}

Test(opts, enum_values)
{
    static const char *const choices[] = {"fast", "safe", "paranoid"};
    static const char *const bad[] = {"level=FAST",      "level=saf", "level=safer",
                                      "level=fast|safe", "level=|",   "level=para noid"};
    char text[32];

    for (int i = 0; i < 3; i++) {
        snprintf(text, sizeof(text), "level=%s", choices[i]);
        kv_opts *o = parse(text);
        cr_assert_eq(kv_opts_enum(o, "level"), i, "%s", text);
        cr_assert_str_eq(kv_opts_str(o, "level"), choices[i]);
        kv_opts_free(o);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        parse_fails(spec, bad[i], KV_EINVAL);
        DETAIL_HAS("option 'level'");
        DETAIL_HAS("is not one of fast|safe|paranoid");
    }
}

Test(opts, string_values)
{
    kv_opts *o = parse("name=hello world");
    cr_assert_str_eq(kv_opts_str(o, "name"), "hello world", "inner blanks are kept");
    kv_opts_free(o);
    o = parse("name= \t padded \t ");
    cr_assert_str_eq(kv_opts_str(o, "name"), "padded");
    kv_opts_free(o);
    o = parse("name=a=b=c");
    cr_assert_str_eq(kv_opts_str(o, "name"), "a=b=c", "split at the first '='");
    kv_opts_free(o);
    o = parse("label=mine");
    cr_assert_str_eq(kv_opts_str(o, "label"), "mine", "given overrides the default");
    cr_assert(kv_opts_given(o, "label"));
    kv_opts_free(o);
}

/* ---- syntax ----------------------------------------------------------------- */

Test(opts, whitespace_trimmed)
{
    kv_opts *o = parse("  flag = true ,\tcount=\n3 , level =safe,  ratio\t=\t0.75  ");

    cr_assert(kv_opts_bool(o, "flag"));
    cr_assert_eq(kv_opts_u64(o, "count"), 3);
    cr_assert_eq(kv_opts_enum(o, "level"), 1);
    cr_assert_str_eq(kv_opts_str(o, "level"), "safe");
    cr_assert_float_eq(kv_opts_double(o, "ratio"), 0.75, 1e-12);
    kv_opts_free(o);
}

Test(opts, empty_tokens_and_trailing_commas)
{
    kv_opts *o = parse(",,flag=1,, ,count=2,");

    cr_assert(kv_opts_bool(o, "flag"));
    cr_assert_eq(kv_opts_u64(o, "count"), 2);
    kv_opts_free(o);
    o = parse(",count=9"); /* what kv_open makes of an empty engine suffix */
    cr_assert_eq(kv_opts_u64(o, "count"), 9);
    kv_opts_free(o);
    o = parse("count=9,"); /* ... and of an empty argument */
    cr_assert_eq(kv_opts_u64(o, "count"), 9);
    kv_opts_free(o);
}

Test(opts, missing_equals)
{
    parse_fails(spec, "flag", KV_EINVAL);
    DETAIL_HAS("option 'flag' has no value");
    parse_fails(spec, "count=1,flag", KV_EINVAL);
    DETAIL_HAS("'flag' has no value");
    parse_fails(spec, "  flag  ", KV_EINVAL);
    DETAIL_HAS("option 'flag' has no value");
    parse_fails(spec, "unknown", KV_EINVAL);
    DETAIL_HAS("'unknown' has no value");
}

Test(opts, empty_key)
{
    parse_fails(spec, "=5", KV_EINVAL);
    DETAIL_HAS("empty key");
    parse_fails(spec, "count=1, \t = 5", KV_EINVAL);
    DETAIL_HAS("empty key");
    parse_fails(spec, "=", KV_EINVAL);
    DETAIL_HAS("empty key");
}

Test(opts, empty_value)
{
    static const char *const texts[] = {"count=", "count=  ", "name=", "flag=\t", "sync="};

    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        parse_fails(spec, texts[i], KV_EINVAL);
        DETAIL_HAS("has an empty value");
    }
    parse_fails(spec, "name=", KV_EINVAL);
    DETAIL_HAS("option 'name' has an empty value");
}

Test(opts, duplicate_key)
{
    parse_fails(spec, "count=1,count=1", KV_EINVAL);
    DETAIL_HAS("duplicate option 'count'");
    parse_fails(spec, " count =1, count=2", KV_EINVAL);
    DETAIL_HAS("duplicate option 'count'");
    parse_fails(spec, "sync=none,flag=1,sync=none", KV_EINVAL);
    DETAIL_HAS("duplicate option 'sync'");
    /* Even when the second occurrence would be malformed, the duplicate is what is named. */
    parse_fails(spec, "flag=1,flag=", KV_EINVAL);
    DETAIL_HAS("duplicate option 'flag'");
    /* Giving an option its default value still counts as given once. */
    parse_fails(spec, "label=dflt,label=dflt", KV_EINVAL);
}

Test(opts, unknown_key_lists_accepted)
{
    parse_fails(spec, "colour=red", KV_EINVAL);
    DETAIL_HAS("unknown option 'colour'; accepted: ");
    for (size_t j = 0; j < sizeof(spec_names) / sizeof(spec_names[0]); j++)
        DETAIL_HAS(spec_names[j]);
    DETAIL_HAS("flag, on, count");
    DETAIL_HAS("label, sync, sync_ms, cache, max_key, max_value");
    /* Keys are exact: case, prefixes and inner blanks matter. */
    parse_fails(spec, "Flag=1", KV_EINVAL);
    DETAIL_HAS("unknown option 'Flag'");
    parse_fails(spec, "fla=1", KV_EINVAL);
    parse_fails(spec, "fl ag=1", KV_EINVAL);
    DETAIL_HAS("unknown option 'fl ag'");
    /* With no spec only the common keys are accepted. */
    parse_fails(NULL, "flag=1", KV_EINVAL);
    DETAIL_HAS("accepted: sync, sync_ms, cache, max_key, max_value");
}

Test(opts, range_min_max)
{
    kv_opts *o = parse("ranged=2");
    cr_assert_eq(kv_opts_u64(o, "ranged"), 2);
    kv_opts_free(o);
    o = parse("ranged=10");
    cr_assert_eq(kv_opts_u64(o, "ranged"), 10);
    kv_opts_free(o);
    parse_fails(spec, "ranged=1", KV_EINVAL);
    DETAIL_HAS("out of range [2, 10]");
    parse_fails(spec, "ranged=11", KV_EINVAL);
    DETAIL_HAS("ranged=11 is out of range");
    parse_fails(spec, "ranged=0", KV_EINVAL);

    o = parse("bounded=512");
    cr_assert_eq(kv_opts_u64(o, "bounded"), 512);
    kv_opts_free(o);
    o = parse("bounded=4k");
    cr_assert_eq(kv_opts_u64(o, "bounded"), 4096);
    kv_opts_free(o);
    parse_fails(spec, "bounded=511", KV_EINVAL);
    parse_fails(spec, "bounded=4097", KV_EINVAL);
    parse_fails(spec, "bounded=1M", KV_EINVAL);
    DETAIL_HAS("out of range");

    parse_fails(spec, "ratio=1.0001", KV_EINVAL);
    parse_fails(spec, "ratio=-0.1", KV_EINVAL);
    DETAIL_HAS("out of range [0, 1]");
}

Test(opts, range_min_only)
{
    kv_opts *o = parse("atleast=3");
    cr_assert_eq(kv_opts_u64(o, "atleast"), 3);
    cr_assert(kv_opts_given(o, "atleast"));
    kv_opts_free(o);
    o = parse("atleast=18446744073709551615");
    cr_assert_eq(kv_opts_u64(o, "atleast"), UINT64_MAX, "no upper bound");
    kv_opts_free(o);
    parse_fails(spec, "atleast=2", KV_EINVAL);
    DETAIL_HAS("atleast=2 is below its minimum 3");
    parse_fails(spec, "atleast=0", KV_EINVAL);
    /* Both bounds 0: unchecked. */
    o = parse("count=0,scale=-1e100");
    cr_assert_eq(kv_opts_u64(o, "count"), 0);
    kv_opts_free(o);
}

Test(opts, given_flags)
{
    kv_opts *o = parse("flag=false,size=2K,sync=batch");

    cr_assert(kv_opts_given(o, "flag"), "given with its default value is still given");
    cr_assert(kv_opts_given(o, "size"));
    cr_assert(kv_opts_given(o, "sync"));
    cr_assert_not(kv_opts_given(o, "count"));
    cr_assert_not(kv_opts_given(o, "name"));
    cr_assert_not(kv_opts_given(o, "sync_ms"));
    cr_assert_not(kv_opts_given(o, "nosuch"));
    cr_assert_not(kv_opts_given(o, ""));
    kv_opts_free(o);
}

Test(opts, getters_unknown_and_wrong_type)
{
    kv_opts *o = parse("flag=true,count=42,ratio=0.25,level=paranoid,name=n,size=3K");

    /* The right getter works. */
    cr_assert(kv_opts_bool(o, "flag"));
    cr_assert_eq(kv_opts_u64(o, "count"), 42);
    cr_assert_eq(kv_opts_u64(o, "size"), 3072);
    cr_assert_float_eq(kv_opts_double(o, "ratio"), 0.25, 1e-12);
    cr_assert_eq(kv_opts_enum(o, "level"), 2);
    cr_assert_str_eq(kv_opts_str(o, "name"), "n");
    /* Unknown names. */
    cr_assert_not(kv_opts_bool(o, "nosuch"));
    cr_assert_eq(kv_opts_u64(o, "nosuch"), 0);
    cr_assert_float_eq(kv_opts_double(o, "nosuch"), 0.0, 0.0);
    cr_assert_eq(kv_opts_enum(o, "nosuch"), -1);
    cr_assert_null(kv_opts_str(o, "nosuch"));
    /* Wrong types. */
    cr_assert_not(kv_opts_bool(o, "count"));
    cr_assert_not(kv_opts_bool(o, "name"));
    cr_assert_eq(kv_opts_u64(o, "flag"), 0);
    cr_assert_eq(kv_opts_u64(o, "ratio"), 0);
    cr_assert_eq(kv_opts_u64(o, "level"), 0);
    cr_assert_float_eq(kv_opts_double(o, "count"), 0.0, 0.0);
    cr_assert_float_eq(kv_opts_double(o, "size"), 0.0, 0.0);
    cr_assert_eq(kv_opts_enum(o, "name"), -1);
    cr_assert_eq(kv_opts_enum(o, "flag"), -1);
    cr_assert_null(kv_opts_str(o, "count"));
    cr_assert_null(kv_opts_str(o, "flag"));
    cr_assert_null(kv_opts_str(o, "ratio"));
    /* Unset options of the right type. */
    cr_assert_eq(kv_opts_u64(o, "atleast"), 0);
    cr_assert_float_eq(kv_opts_double(o, "scale"), 0.0, 0.0);
    kv_opts_free(o);
}

/* ---- common keys ------------------------------------------------------------ */

Test(opts, common_options_parsed)
{
    kv_opts *o = parse("sync=batch,sync_ms=250,cache=64M,max_key=100,max_value=1k");
    const kv_common_opts *c = kv_opts_common(o);

    cr_assert_eq(c->sync, KV_SYNC_BATCH);
    cr_assert_eq(c->sync_ms, 250);
    cr_assert_eq(c->cache, 64ULL << 20);
    cr_assert_eq(c->max_key, 100);
    cr_assert_eq(c->max_value, 1024);
    cr_assert_eq(kv_opts_enum(o, "sync"), KV_SYNC_BATCH);
    cr_assert_str_eq(kv_opts_str(o, "sync"), "batch");
    kv_opts_free(o);

    o = parse("sync=always");
    cr_assert_eq(kv_opts_common(o)->sync, KV_SYNC_ALWAYS);
    kv_opts_free(o);
    o = parse("sync=none,max_value=0");
    cr_assert_eq(kv_opts_common(o)->sync, KV_SYNC_NONE);
    cr_assert_eq(kv_opts_common(o)->max_value, 0, "max_value=0 parses (no minimum)");
    cr_assert(kv_opts_given(o, "max_value"), "and counts as given (kv_open honours it)");
    kv_opts_free(o);

    /* The common keys need no engine spec. */
    kv_opts *n = NULL;
    OK(kv_opts_parse(NULL, "cache=1g,sync=always", &n));
    cr_assert_eq(kv_opts_common(n)->cache, 1ULL << 30);
    cr_assert_eq(kv_opts_common(n)->sync, KV_SYNC_ALWAYS);
    cr_assert_eq(kv_opts_common(n)->sync_ms, 10);
    kv_opts_free(n);
}

Test(opts, common_options_checked)
{
    kv_opts *o = parse("sync_ms=1");
    cr_assert_eq(kv_opts_common(o)->sync_ms, 1);
    kv_opts_free(o);
    o = parse("sync_ms=60000");
    cr_assert_eq(kv_opts_common(o)->sync_ms, 60000);
    kv_opts_free(o);
    o = parse("max_key=1");
    cr_assert_eq(kv_opts_common(o)->max_key, 1);
    kv_opts_free(o);

    parse_fails(spec, "sync_ms=0", KV_EINVAL);
    DETAIL_HAS("sync_ms=0 is out of range [1, 60000]");
    parse_fails(spec, "sync_ms=60001", KV_EINVAL);
    parse_fails(spec, "sync_ms=1s", KV_EINVAL);
    parse_fails(spec, "sync=sometimes", KV_EINVAL);
    DETAIL_HAS("is not one of none|batch|always");
    parse_fails(spec, "sync=ALWAYS", KV_EINVAL);
    parse_fails(spec, "max_key=0", KV_EINVAL);
    DETAIL_HAS("below its minimum 1");
    parse_fails(spec, "cache=lots", KV_EINVAL);
    parse_fails(spec, "max_value=-1", KV_EINVAL);
}

/* mode=: octal digits only, at most 0777, the owner's rw kept; the detail names the option. */
Test(opts, mode_values)
{
    static const struct {
        const char *text;
        unsigned want;
    } ok[] = {{"mode=0600", 0600}, {"mode=600", 0600},   {"mode=0640", 0640},
              {"mode=0644", 0644}, {"mode=0777", 0777},  {"mode=00640", 0640},
              {"mode=0700", 0700}, {"mode= 0660 ", 0660}, {"mode=0000000606", 0606}};
    static const char *const bad[] = {
        "mode=0800", "mode=8",     "mode=0x1a0", "mode=0o640", "mode=-0600", "mode=+600",
        "mode=01600", "mode=04600", "mode=02600", "mode=1000", "mode=0400", "mode=0200",
        "mode=0",     "mode=0500",  "mode=0177",  "mode=06 00", "mode=640k",  "mode=rw",
        "mode=77777777777777777777777777", "mode=0600.0"};

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        kv_opts *o = parse(ok[i].text);
        cr_assert_eq(kv_opts_common(o)->mode, ok[i].want, "%s -> 0%o", ok[i].text,
                     kv_opts_common(o)->mode);
        cr_assert_eq(kv_opts_u64(o, "mode"), ok[i].want);
        cr_assert(kv_opts_given(o, "mode"));
        kv_opts_free(o);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        parse_fails(spec, bad[i], KV_EINVAL);
        DETAIL_HAS("option 'mode'");
    }
    parse_fails(spec, "mode=01600", KV_EINVAL);
    DETAIL_HAS("bits outside 0777");
    parse_fails(spec, "mode=0400", KV_EINVAL);
    DETAIL_HAS("lacks 0600");
    parse_fails(spec, "mode=0680", KV_EINVAL);
    DETAIL_HAS("not an octal mode");
    parse_fails(spec, "mode=0600,mode=0600", KV_EINVAL);
    DETAIL_HAS("duplicate option 'mode'");
}

Test(opts, parse_mode_direct)
{
    unsigned m = 12345;

    OK(kv_parse_mode("0640", &m));
    cr_assert_eq(m, 0640);
    OK(kv_parse_mode("777", &m));
    cr_assert_eq(m, 0777);
    m = 12345;
    RC(kv_parse_mode("", &m), KV_EINVAL);
    RC(kv_parse_mode("01777", &m), KV_EINVAL);
    RC(kv_parse_mode("0477", &m), KV_EINVAL);
    RC(kv_parse_mode("9", &m), KV_EINVAL);
    cr_assert_eq(m, 12345, "out written on failure");
}

/* An engine table may not reuse a common key: its option would hide the common one. */
Test(opts, engine_option_shadowing_common_key)
{
    static const kv_opt_spec shadow[] = {{"mode", KV_OPT_STRING, NULL, NULL, 0, 0, ""}, {0}};
    static const kv_opt_spec shadow_sync[] = {{"sync", KV_OPT_BOOL, "false", NULL, 0, 0, ""}, {0}};

    parse_fails(shadow, "", KV_EINVAL);
    DETAIL_HAS("option 'mode' of the engine's table shadows a common key");
    parse_fails(shadow_sync, "sync=true", KV_EINVAL);
    DETAIL_HAS("'sync'");
}

/* ---- spec errors and argument errors --------------------------------------- */

Test(opts, bad_default_in_spec)
{
    static const kv_opt_spec bad_uint[] = {{"x", KV_OPT_UINT, "abc", NULL, 0, 0, ""}, {0}};
    static const kv_opt_spec bad_range[] = {{"r", KV_OPT_UINT, "50", NULL, 1, 10, ""}, {0}};
    static const kv_opt_spec bad_enum[] = {{"e", KV_OPT_ENUM, "zzz", "a|b", 0, 0, ""}, {0}};
    static const kv_opt_spec bad_bool[] = {{"b", KV_OPT_BOOL, "yes", NULL, 0, 0, ""}, {0}};
    static const kv_opt_spec bad_size[] = {{"s", KV_OPT_SIZE, "1T", NULL, 0, 0, ""}, {0}};
    static const kv_opt_spec bad_dbl[] = {{"d", KV_OPT_DOUBLE, "nan", NULL, 0, 0, ""}, {0}};
    static const kv_opt_spec bad_empty[] = {{"u", KV_OPT_UINT, "", NULL, 0, 0, ""}, {0}};

    parse_fails(bad_uint, "", KV_EINVAL);
    DETAIL_HAS("bad default 'abc' for option 'x'");
    parse_fails(bad_range, NULL, KV_EINVAL);
    DETAIL_HAS("bad default '50' for option 'r'");
    parse_fails(bad_enum, "", KV_EINVAL);
    parse_fails(bad_bool, "", KV_EINVAL);
    parse_fails(bad_size, "", KV_EINVAL);
    parse_fails(bad_dbl, "", KV_EINVAL);
    parse_fails(bad_empty, "", KV_EINVAL);
    /* The table is wrong whatever the text: also when the option is given. */
    parse_fails(bad_uint, "x=5", KV_EINVAL);
    DETAIL_HAS("bad default 'abc' for option 'x'");
    parse_fails(bad_range, "r=3", KV_EINVAL);
    parse_fails(bad_enum, "e=a", KV_EINVAL);
}

Test(opts, unset_options_of_each_type)
{
    static const kv_opt_spec bare[] = {
        {"b", KV_OPT_BOOL, NULL, NULL, 0, 0, ""},
        {"u", KV_OPT_UINT, NULL, NULL, 0, 0, ""},
        {"s", KV_OPT_SIZE, NULL, NULL, 0, 0, ""},
        {"d", KV_OPT_DOUBLE, NULL, NULL, 0, 0, ""},
        {"e", KV_OPT_ENUM, NULL, "x|y", 0, 0, ""},
        {"t", KV_OPT_STRING, NULL, NULL, 0, 0, ""},
        {0},
    };
    kv_opts *o = NULL;

    OK(kv_opts_parse(bare, "", &o));
    cr_assert_not(kv_opts_bool(o, "b"));
    cr_assert_eq(kv_opts_u64(o, "u"), 0);
    cr_assert_eq(kv_opts_u64(o, "s"), 0);
    cr_assert_float_eq(kv_opts_double(o, "d"), 0.0, 0.0);
    cr_assert_eq(kv_opts_enum(o, "e"), -1, "unset enum");
    cr_assert_null(kv_opts_str(o, "e"));
    cr_assert_null(kv_opts_str(o, "t"));
    kv_opts_free(o);
    OK(kv_opts_parse(bare, "b=1,e=y,t=z", &o));
    cr_assert(kv_opts_bool(o, "b"));
    cr_assert_eq(kv_opts_enum(o, "e"), 1);
    cr_assert_str_eq(kv_opts_str(o, "t"), "z");
    kv_opts_free(o);
}

Test(opts, enum_with_no_choices_accepts_nothing)
{
    static const kv_opt_spec none[] = {{"e", KV_OPT_ENUM, NULL, "", 0, 0, ""}, {0}};

    parse_fails(none, "e=a", KV_EINVAL);
    DETAIL_HAS("'a' is not one of");
}

Test(opts, long_accepted_list_is_cut_cleanly)
{
    static const kv_opt_spec longs[] = {
        {"a_rather_long_option_name_number_one", KV_OPT_BOOL, NULL, NULL, 0, 0, ""},
        {"a_rather_long_option_name_number_two", KV_OPT_BOOL, NULL, NULL, 0, 0, ""},
        {"a_rather_long_option_name_number_three", KV_OPT_BOOL, NULL, NULL, 0, 0, ""},
        {"a_rather_long_option_name_number_four", KV_OPT_BOOL, NULL, NULL, 0, 0, ""},
        {"a_rather_long_option_name_number_five", KV_OPT_BOOL, NULL, NULL, 0, 0, ""},
        {"a_rather_long_option_name_number_six", KV_OPT_BOOL, NULL, NULL, 0, 0, ""},
        {0},
    };

    parse_fails(longs, "zz=1", KV_EINVAL);
    DETAIL_HAS("unknown option 'zz'; accepted: a_rather_long_option_name_number_one, "
               "a_rather_long_option_name_number_two");
    cr_assert_lt(strlen(kv_last_error()), 256);
}

Test(opts, null_out_is_einval)
{
    RC(kv_opts_parse(spec, "flag=1", NULL), KV_EINVAL);
    cr_assert(strstr(kv_last_error(), "out is NULL"), "%s", kv_last_error());
}

Test(opts, failure_detail_names_key_and_reason)
{
    parse_fails(spec, "flag=1,count=abc,level=safe", KV_EINVAL);
    cr_assert_str_eq(kv_last_error(), "option 'count': 'abc' is not an unsigned integer");
}

/* ---- out of memory -------------------------------------------------------- */

static const char *const loop_text = " flag=1 , count=3,level=safe,,name=x y,sync=always,size=2M ";

static int parse_under_failure(void *arg, uint64_t n)
{
    kv_opts *sentinel = (kv_opts *)&sentinel, *o = sentinel;
    int rc = kv_opts_parse(spec, loop_text, &o);
    (void)arg;

    if (rc == KV_ENOMEM) {
        cr_assert(kv_alloc_fail_hit(), "run %llu: KV_ENOMEM without a failed allocation",
                  (unsigned long long)n);
        cr_assert_eq(o, sentinel, "run %llu: out written on KV_ENOMEM", (unsigned long long)n);
        cr_assert_str_eq(kv_last_error(), "out of memory parsing options");
        return 0;
    }
    cr_assert_eq(rc, KV_OK, "run %llu: %d (%s)", (unsigned long long)n, rc, kv_last_error());
    cr_assert_not(kv_alloc_fail_hit(), "run %llu: an allocation failed but parse succeeded",
                  (unsigned long long)n);
    cr_assert(kv_opts_bool(o, "flag"));
    cr_assert_eq(kv_opts_u64(o, "count"), 3);
    cr_assert_eq(kv_opts_enum(o, "level"), 1);
    cr_assert_str_eq(kv_opts_str(o, "name"), "x y");
    cr_assert_eq(kv_opts_common(o)->sync, KV_SYNC_ALWAYS);
    cr_assert_eq(kv_opts_u64(o, "size"), 2ULL << 20);
    kv_opts_free(o);
    return 0;
}

Test(opts, malloc_failure_loop)
{
    uint64_t runs = 0, before = kv_alloc_count(), allocs;
    kv_opts *o = NULL;

    OK(kv_opts_parse(spec, loop_text, &o));
    allocs = kv_alloc_count() - before;
    kv_opts_free(o);
    cr_assert_gt(allocs, 0);

    cr_assert_eq(kv_alloc_fail_loop(parse_under_failure, NULL, 0, &runs), 0);
    cr_assert_eq(runs, allocs + 1,
                 "one failing run per allocation (%llu) and a clean one; got %llu",
                 (unsigned long long)allocs, (unsigned long long)runs);
    /* A sticky failure from the first allocation on, too. */
    kv_alloc_fail_at(1, true);
    o = NULL;
    RC(kv_opts_parse(spec, loop_text, &o), KV_ENOMEM);
    kv_alloc_fail_at(0, false);
    cr_assert_null(o);
    NO_LEAKS();
}
