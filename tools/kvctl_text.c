/*
 * kvctl_text.c — what kvctl writes and reads as text: its messages, and
 * keys and values as hex or escapes.
 *
 * Messages. Every line kvctl writes to stderr starts "kvctl: ", then,
 * inside a shell script, where the command came from ("stdin:3: "), so a
 * failure in a 200-line script names its line. report() prints an engine
 * status as "<kv_strerror>: <kv_last_error>", but drops the strerror words
 * when the detail already says them ("key not found: model: key not found"
 * was the same thing twice).
 *
 * Bytes. unhex() and unescape() decode in place (the result is never
 * longer than the input); print_hex() and print_escaped() are their
 * inverses on stdout. The escapes: \t \n \\ and \xNN for every other byte
 * outside printable ASCII.
 *
 * Callers must not: print to stderr around errf() (the prefix would be
 * missing), or pass unhex()/unescape() memory they cannot write.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kvctl.h"

static const char *g_where;
static bool g_shell;

void msg_where(const char *where)
{
    g_where = where;
}

void usage_in_shell(bool yes)
{
    g_shell = yes;
}

static void prefix(void)
{
    fputs("kvctl: ", stderr);
    if (g_where)
        fprintf(stderr, "%s: ", g_where);
}

void errf(const char *fmt, ...)
{
    va_list ap;

    prefix();
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int usage_error(const char *fmt, ...)
{
    va_list ap;

    prefix();
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (g_shell)
        fputs(" (type 'help' for the commands)\n", stderr);
    else
        fprintf(stderr, "\n%s\nRun 'kvctl help' for the commands.\n", KVCTL_USAGE_LINE);
    return KVCTL_USAGE;
}

void report(int status, const char *context)
{
    const char *words = kv_strerror(status), *detail = kv_last_error();

    prefix();
    if (!*detail)
        fputs(words, stderr);
    else if (strstr(detail, words))
        fputs(detail, stderr);
    else
        fprintf(stderr, "%s: %s", words, detail);
    if (context)
        fprintf(stderr, " (%s)", context);
    fputc('\n', stderr);
}

static int hex_digit(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

const char *unhex(unsigned char *p, size_t n, size_t *out)
{
    if (n % 2)
        return "odd number of hex digits";
    for (size_t i = 0; i < n; i += 2) {
        int hi = hex_digit(p[i]), lo = hex_digit(p[i + 1]);

        if (hi < 0 || lo < 0)
            return "not a hex digit";
        p[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    *out = n / 2;
    return NULL;
}

const char *unescape(unsigned char *p, size_t n, size_t *out)
{
    size_t w = 0;

    for (size_t r = 0; r < n; r++) {
        if (p[r] != '\\') {
            p[w++] = p[r];
            continue;
        }
        if (++r == n)
            return "backslash at the end of a field";
        switch (p[r]) {
        case 't': p[w++] = '\t'; break;
        case 'n': p[w++] = '\n'; break;
        case '\\': p[w++] = '\\'; break;
        case 'x': {
            int hi = r + 2 < n ? hex_digit(p[r + 1]) : -1;
            int lo = hi >= 0 ? hex_digit(p[r + 2]) : -1;

            if (hi < 0 || lo < 0)
                return "\\x needs two hex digits";
            p[w++] = (unsigned char)(hi << 4 | lo);
            r += 2;
            break;
        }
        default: return "unknown escape (use \\t \\n \\\\ or \\xNN)";
        }
    }
    *out = w;
    return NULL;
}

void print_hex(const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++)
        printf("%02x", b[i]);
}

void print_escaped(const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++) {
        if (b[i] == '\t')
            fputs("\\t", stdout);
        else if (b[i] == '\n')
            fputs("\\n", stdout);
        else if (b[i] == '\\')
            fputs("\\\\", stdout);
        else if (b[i] < 0x20 || b[i] > 0x7e)
            printf("\\x%02x", b[i]);
        else
            putchar(b[i]);
    }
}

int arg_bytes(const struct ctx *c, const char *what, char *arg, size_t *len)
{
    const char *why;

    *len = strlen(arg);
    if (!c->hex)
        return KVCTL_OK;
    why = unhex((unsigned char *)arg, *len, len);
    if (why) {
        errf("bad hex %s '%s': %s", what, arg, why);
        return KVCTL_USAGE;
    }
    return KVCTL_OK;
}

void fmt_size(char *buf, size_t cap, double v)
{
    static const char suffix[] = "KMGTP";
    double unit = 1024.0 * 1024 * 1024 * 1024 * 1024;

    for (int i = 4; i >= 0; i--, unit /= 1024) {
        if (v >= unit && v / unit == (double)(unsigned long long)(v / unit)) {
            snprintf(buf, cap, "%llu%c", (unsigned long long)(v / unit), suffix[i]);
            return;
        }
    }
    if (v >= 0 && v < 1e18 && v == (double)(unsigned long long)v)
        snprintf(buf, cap, "%llu", (unsigned long long)v);
    else
        snprintf(buf, cap, "%g", v);
}
