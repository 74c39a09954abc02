/*
 * json_parse.c - a strict RFC 8259 JSON parser producing a kv_json tree.
 *
 * The parser reads result files that may have been edited by hand, cut
 * short by a crash or written by another tool, so it trusts nothing: every
 * deviation from the grammar is KV_EINVAL with the line and column of the
 * offending byte ("json: 3:17: trailing comma in object"), and it never
 * reads outside [text, text + len), which need not be NUL-terminated.
 *
 * How it works. A recursive-descent parser, one function per production
 * (value, object, array, string, number, literal), each advancing a cursor.
 * Recursion is bounded by KV_JSON_MAX_DEPTH nested containers, so a hostile
 * "[[[[..." cannot exhaust the stack. A container under construction owns
 * the children parsed so far; on an error the partial tree is freed on the
 * way out, so no error path leaks.
 *
 *  - Strings are parsed in two passes: the first finds the closing quote
 *    (skipping the character after each backslash) and rejects raw control
 *    characters; its length bounds the decoded length, since every escape
 *    shrinks (\uXXXX: 6 bytes to at most 3; a surrogate pair: 12 to 4), so
 *    one allocation suffices. The second pass decodes escapes, joins
 *    surrogate pairs into one code point written as UTF-8 (a lone surrogate
 *    is an error: it has no UTF-8 form) and checks every raw non-ASCII
 *    sequence is valid UTF-8.
 *  - Numbers are first matched against the grammar by hand (so "01", "1.",
 *    ".5", "+1", "1e" are caught with a precise message); an integer literal
 *    that fits int64_t is converted exactly, anything else with strtod() on
 *    a NUL-terminated copy. Literals beyond the range of double are refused.
 *  - Duplicate keys are refused (which one would a reader see?). Each new key
 *    is compared with the previous ones while an object is small; larger
 *    objects are checked once, when closed, by sorting their keys.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_impl.h"
#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "kvlabs/kv.h"

/* Objects up to this many members check duplicates at each insertion. */
#define DUP_LINEAR_MAX 32

/** @brief The parser's state: a cursor over the input. */
typedef struct parser {
    const char *text; /**< start of the input, for line:column */
    const char *p;    /**< cursor */
    const char *end;  /**< one past the last byte */
    int depth;        /**< containers currently open */
} parser;

/* Set the detail "json: LINE:COL: message" for the byte at `at`; KV_EINVAL. */
static int syntax_error(const parser *ps, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int syntax_error(const parser *ps, const char *at, const char *fmt, ...)
{
    unsigned long line = 1, col = 1;
    char msg[160];
    va_list ap;

    for (const char *c = ps->text; c < at; c++) {
        if (*c == '\n')
            line++, col = 1;
        else
            col++;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return kv_fail(KV_EINVAL, "json: %lu:%lu: %s", line, col, msg);
}

static int out_of_memory(void)
{
    return kv_fail(KV_ENOMEM, "json: out of memory");
}

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

/* "unexpected 'c'" with c printable, or its hex code. */
static int unexpected(const parser *ps, const char *what)
{
    if (ps->p >= ps->end)
        return syntax_error(ps, ps->p, "unexpected end of input, expected %s", what);
    unsigned char c = (unsigned char)*ps->p;
    if (c >= 0x20 && c < 0x7f)
        return syntax_error(ps, ps->p, "unexpected '%c', expected %s", c, what);
    return syntax_error(ps, ps->p, "unexpected byte 0x%02x, expected %s", c, what);
}

static int parse_value(parser *ps, kv_json **out);

/* ---- strings ---------------------------------------------------------------- */

/* Value of the 4 hex digits at s, or -1. */
static long hex4(const char *s)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = is_digit(c) ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Append code point cp (valid, not a surrogate) to w as UTF-8. */
static char *put_utf8(char *w, uint32_t cp)
{
    if (cp < 0x80) {
        *w++ = (char)cp;
    } else if (cp < 0x800) {
        *w++ = (char)(0xc0 | (cp >> 6));
        *w++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *w++ = (char)(0xe0 | (cp >> 12));
        *w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *w++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *w++ = (char)(0xf0 | (cp >> 18));
        *w++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *w++ = (char)(0x80 | (cp & 0x3f));
    }
    return w;
}

/* Decode the escape whose backslash is at *rp (q: closing quote) into *wp. */
static int decode_escape(parser *ps, const char **rp, char **wp, const char *q)
{
    const char *r = *rp + 1; /* the character after the backslash */
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *hit = memchr(from, *r, sizeof from - 1);

    if (hit != NULL) {
        *(*wp)++ = to[hit - from];
        *rp = r + 1;
        return KV_OK;
    }
    if (*r != 'u')
        return syntax_error(ps, *rp, "invalid escape '\\%c'", (*r >= 0x20 && *r < 0x7f) ? *r : '?');
    long hi = q - r >= 5 ? hex4(r + 1) : -1;
    if (hi < 0)
        return syntax_error(ps, *rp, "\\u must be followed by 4 hex digits");
    uint32_t cp = (uint32_t)hi;
    r += 5;
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return syntax_error(ps, *rp, "unpaired low surrogate \\u%04lx", hi);
    if (cp >= 0xd800 && cp <= 0xdbff) {
        long lo = (q - r >= 6 && r[0] == '\\' && r[1] == 'u') ? hex4(r + 2) : -1;
        if (lo < 0xdc00 || lo > 0xdfff)
            return syntax_error(ps, *rp, "high surrogate \\u%04lx not followed by a low one", hi);
        cp = 0x10000 + ((cp - 0xd800) << 10) + (uint32_t)(lo - 0xdc00);
        r += 6;
    }
    *wp = put_utf8(*wp, cp);
    *rp = r;
    return KV_OK;
}

/* Parse the string whose opening quote is at the cursor into a new
 * NUL-terminated buffer *out of *outlen bytes. */
static int parse_string_raw(parser *ps, char **out, size_t *outlen)
{
    const char *open = ps->p, *q = ps->p + 1;

    while (q < ps->end && *q != '"') {
        if ((unsigned char)*q < 0x20)
            return syntax_error(ps, q, "control character 0x%02x in string", (unsigned char)*q);
        if (*q == '\\' && ++q == ps->end)
            break; /* a backslash as the last byte */
        q++;
    }
    if (q >= ps->end)
        return syntax_error(ps, open, "unterminated string");

    char *buf = kv_malloc((size_t)(q - open)); /* raw length + 1 for the NUL */
    if (buf == NULL)
        return out_of_memory();
    char *w = buf;
    const char *r = open + 1;
    while (r < q) {
        if (*r == '\\') {
            int rc = decode_escape(ps, &r, &w, q);
            if (rc != KV_OK) {
                kv_free(buf);
                return rc;
            }
        } else if ((unsigned char)*r < 0x80) {
            *w++ = *r++;
        } else {
            uint32_t cp;
            size_t k = kv_json_utf8_decode((const unsigned char *)r, (size_t)(q - r), &cp);
            if (k == 0) {
                kv_free(buf);
                return syntax_error(ps, r, "invalid UTF-8 in string");
            }
            memcpy(w, r, k);
            w += k, r += k;
        }
    }
    *w = '\0';
    *out = buf;
    *outlen = (size_t)(w - buf);
    ps->p = q + 1;
    return KV_OK;
}

static int parse_string(parser *ps, kv_json **out)
{
    kv_json *v = kv_json_alloc(KV_JSON_STRING);
    if (v == NULL)
        return out_of_memory();
    int rc = parse_string_raw(ps, &v->u.str.s, &v->u.str.len);
    if (rc != KV_OK) {
        kv_json_free(v);
        return rc;
    }
    *out = v;
    return KV_OK;
}

/* ---- numbers and literals --------------------------------------------------- */

/* Skip one or more digits, or fail naming what was expected. */
static int digits(parser *ps, const char *what)
{
    if (ps->p >= ps->end || !is_digit(*ps->p))
        return unexpected(ps, what);
    while (ps->p < ps->end && is_digit(*ps->p))
        ps->p++;
    return KV_OK;
}

/* Exact int64_t value of the integer literal s[0..n), or false on overflow. */
static bool parse_int64(const char *s, size_t n, int64_t *out)
{
    bool neg = s[0] == '-';
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, v = 0;
    for (size_t i = neg; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return true;
}

static int parse_number(parser *ps, kv_json **out)
{
    const char *s = ps->p;
    bool integer = true;
    int rc;

    if (*ps->p == '-')
        ps->p++;
    if (ps->p < ps->end && *ps->p == '0') {
        ps->p++;
        if (ps->p < ps->end && is_digit(*ps->p))
            return syntax_error(ps, ps->p - 1, "leading zero in number");
    } else if ((rc = digits(ps, "a digit")) != KV_OK) {
        return rc;
    }
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++, integer = false;
        if ((rc = digits(ps, "a digit after '.'")) != KV_OK)
            return rc;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++, integer = false;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if ((rc = digits(ps, "a digit in the exponent")) != KV_OK)
            return rc;
    }

    size_t n = (size_t)(ps->p - s);
    int64_t i;
    if (integer && parse_int64(s, n, &i)) {
        *out = kv_json_new_int(i);
        return *out ? KV_OK : KV_ENOMEM;
    }
    char small[64], *buf = n < sizeof small ? small : kv_malloc(n + 1);
    if (buf == NULL)
        return out_of_memory();
    memcpy(buf, s, n);
    buf[n] = '\0';
    double d = strtod(buf, NULL);
    if (buf != small)
        kv_free(buf);
    if (!isfinite(d))
        return syntax_error(ps, s, "number out of the range of double");
    *out = kv_json_new_num(d);
    return *out ? KV_OK : KV_ENOMEM;
}

static int parse_literal(parser *ps, kv_json **out)
{
    static const struct { const char *word; kv_json_type type; bool b; } lits[] = {
        {"true", KV_JSON_BOOL, true}, {"false", KV_JSON_BOOL, false}, {"null", KV_JSON_NULL, false},
    };
    for (size_t k = 0; k < sizeof lits / sizeof lits[0]; k++) {
        size_t n = strlen(lits[k].word);
        if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, lits[k].word, n) == 0) {
            kv_json *v = kv_json_alloc(lits[k].type);
            if (v == NULL)
                return out_of_memory();
            v->u.b = lits[k].b;
            ps->p += n;
            *out = v;
            return KV_OK;
        }
    }
    return syntax_error(ps, ps->p, "invalid literal (expected true, false or null)");
}

/* ---- containers ------------------------------------------------------------- */

static int enter(parser *ps)
{
    if (++ps->depth > KV_JSON_MAX_DEPTH)
        return syntax_error(ps, ps->p, "nesting deeper than %d", KV_JSON_MAX_DEPTH);
    ps->p++; /* the '[' or '{' */
    return KV_OK;
}

static int parse_array(parser *ps, kv_json **out)
{
    int rc = enter(ps);
    if (rc != KV_OK)
        return rc;
    kv_json *arr = kv_json_alloc(KV_JSON_ARRAY);
    if (arr == NULL)
        return out_of_memory();
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        goto out_done;
    }
    for (;;) {
        kv_json *item;
        if ((rc = parse_value(ps, &item)) != KV_OK)
            goto out_free_arr;
        if (kv_json_push_item(arr, item) != KV_OK) {
            kv_json_free(item);
            rc = out_of_memory();
            goto out_free_arr;
        }
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ']') {
            ps->p++;
            break;
        }
        if (ps->p >= ps->end || *ps->p != ',') {
            rc = unexpected(ps, "',' or ']' in array");
            goto out_free_arr;
        }
        ps->p++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ']') {
            rc = syntax_error(ps, ps->p, "trailing comma in array");
            goto out_free_arr;
        }
    }
out_done:
    ps->depth--;
    *out = arr;
    return KV_OK;

out_free_arr:
    kv_json_free(arr);
    return rc;
}

/* Order of members for the duplicate check: by length, then bytes. */
static int member_cmp(const void *a, const void *b)
{
    const struct kv_json_member *x = *(const struct kv_json_member *const *)a;
    const struct kv_json_member *y = *(const struct kv_json_member *const *)b;
    if (x->klen != y->klen)
        return x->klen < y->klen ? -1 : 1;
    return memcmp(x->key, y->key, x->klen);
}

/* Duplicate check of a large object at its close; `open` is its '{'. */
static int check_duplicates_sorted(parser *ps, const kv_json *obj, const char *open)
{
    size_t n = obj->u.obj.len;
    const struct kv_json_member **v = kv_malloc(n * sizeof *v);
    if (v == NULL)
        return out_of_memory();
    for (size_t i = 0; i < n; i++)
        v[i] = &obj->u.obj.m[i];
    qsort(v, n, sizeof *v, member_cmp);
    int rc = KV_OK;
    for (size_t i = 1; i < n && rc == KV_OK; i++)
        if (member_cmp(&v[i - 1], &v[i]) == 0)
            rc = syntax_error(ps, open, "duplicate key \"%.60s\" in object", v[i]->key);
    kv_free(v);
    return rc;
}

/* Parse one "key": value member of obj. */
static int parse_member(parser *ps, kv_json *obj)
{
    const char *at = ps->p;
    char *key;
    size_t klen;
    kv_json *val;
    int rc;

    if (ps->p >= ps->end || *ps->p != '"')
        return unexpected(ps, "a string key");
    if ((rc = parse_string_raw(ps, &key, &klen)) != KV_OK)
        return rc;
    if (obj->u.obj.len < DUP_LINEAR_MAX) {
        for (size_t i = 0; i < obj->u.obj.len; i++) {
            const struct kv_json_member *m = &obj->u.obj.m[i];
            if (m->klen == klen && memcmp(m->key, key, klen) == 0) {
                rc = syntax_error(ps, at, "duplicate key \"%.60s\" in object", key);
                goto out_free_key;
            }
        }
    }
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != ':') {
        rc = unexpected(ps, "':' after the key");
        goto out_free_key;
    }
    ps->p++;
    if ((rc = parse_value(ps, &val)) != KV_OK)
        goto out_free_key;
    if (kv_json_push_member(obj, key, klen, val) != KV_OK) {
        kv_json_free(val);
        rc = out_of_memory();
        goto out_free_key;
    }
    return KV_OK;

out_free_key:
    kv_free(key);
    return rc;
}

static int parse_object(parser *ps, kv_json **out)
{
    const char *open = ps->p;
    int rc = enter(ps);
    if (rc != KV_OK)
        return rc;
    kv_json *obj = kv_json_alloc(KV_JSON_OBJECT);
    if (obj == NULL)
        return out_of_memory();
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        goto out_done;
    }
    for (;;) {
        if ((rc = parse_member(ps, obj)) != KV_OK)
            goto out_free_obj;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            break;
        }
        if (ps->p >= ps->end || *ps->p != ',') {
            rc = unexpected(ps, "',' or '}' in object");
            goto out_free_obj;
        }
        ps->p++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == '}') {
            rc = syntax_error(ps, ps->p, "trailing comma in object");
            goto out_free_obj;
        }
    }
    if (obj->u.obj.len > DUP_LINEAR_MAX && (rc = check_duplicates_sorted(ps, obj, open)) != KV_OK)
        goto out_free_obj;
out_done:
    ps->depth--;
    *out = obj;
    return KV_OK;

out_free_obj:
    kv_json_free(obj);
    return rc;
}

static int parse_value(parser *ps, kv_json **out)
{
    skip_ws(ps);
    if (ps->p >= ps->end)
        return unexpected(ps, "a value");
    switch (*ps->p) {
    case '{':
        return parse_object(ps, out);
    case '[':
        return parse_array(ps, out);
    case '"':
        return parse_string(ps, out);
    case 't':
    case 'f':
    case 'n':
        return parse_literal(ps, out);
    default:
        if (*ps->p == '-' || is_digit(*ps->p))
            return parse_number(ps, out);
        return unexpected(ps, "a value");
    }
}

int kv_json_parse(const char *text, size_t len, kv_json **out)
{
    if (text == NULL || out == NULL)
        return kv_fail(KV_EINVAL, "kv_json_parse: NULL argument");
    parser ps = {text, text, text + len, 0};
    kv_json *v;
    int rc = parse_value(&ps, &v);
    if (rc != KV_OK)
        return rc;
    skip_ws(&ps);
    if (ps.p != ps.end) {
        kv_json_free(v);
        return unexpected(&ps, "the end of input after the value");
    }
    *out = v;
    return KV_OK;
}
