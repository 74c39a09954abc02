/*
 * kvbench_progress.c — telling the person at the terminal what is going on.
 *
 * A full run takes minutes, so kvbench talks while it works, on stderr
 * (stdout stays free for tables a script may parse):
 *
 *   - on a terminal, one live line rewritten in place ("\r" and an erase)
 *     every 100 ms: engine, workload, repeat, percentage, ops/s so far;
 *     replaced by a permanent line when the phase ends;
 *   - elsewhere (a pipe, a CI log), no live line — only the permanent line
 *     per phase, so logs stay readable;
 *   - with --quiet, neither; notes (skipped workloads, failures) are
 *     printed in every mode.
 *
 * The permanent line: "lmdb readrandom r0: 1.92M ops/s, p50 0.4 us,
 * p99 1.1 us [, 3 errors]". Only the coordinating thread of a process
 * prints, so lines never interleave within a process.
 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "kvbench_int.h"

static bool quiet_mode;
static int tty = -1;

void kvb_progress_init(bool quiet)
{
    quiet_mode = quiet;
    tty = isatty(STDERR_FILENO);
}

const char *kvb_fmt_rate(char *buf, size_t n, double v)
{
    if (v >= 1e9)
        snprintf(buf, n, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, n, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, n, "%.1fK", v / 1e3);
    else
        snprintf(buf, n, "%.1f", v);
    return buf;
}

const char *kvb_fmt_ns(char *buf, size_t n, double ns)
{
    if (ns >= 1e9)
        snprintf(buf, n, "%.2f s", ns / 1e9);
    else if (ns >= 1e6)
        snprintf(buf, n, "%.2f ms", ns / 1e6);
    else if (ns >= 1e3)
        snprintf(buf, n, "%.2f us", ns / 1e3);
    else
        snprintf(buf, n, "%.0f ns", ns);
    return buf;
}

void kvb_progress_tick(const char *label, uint64_t done, uint64_t total, uint64_t elapsed_ns)
{
    char rate[32];

    if (quiet_mode || tty != 1 || !total)
        return;
    fprintf(stderr, "\r\033[K  %s  %3.0f%%  %s ops/s", label, 100.0 * (double)done / (double)total,
            kvb_fmt_rate(rate, sizeof rate, elapsed_ns ? (double)done * 1e9 / (double)elapsed_ns : 0));
    fflush(stderr);
}

void kvb_progress_done(const char *label, const kvb_tally *t)
{
    char rate[32], p50[32], p99[32];
    double ops_s = t->elapsed_ns ? (double)t->c.ops * 1e9 / (double)t->elapsed_ns : 0;

    if (quiet_mode)
        return;
    fprintf(stderr, "%s%s: %s ops/s, p50 %s, p99 %s", tty == 1 ? "\r\033[K" : "", label,
            kvb_fmt_rate(rate, sizeof rate, ops_s),
            kvb_fmt_ns(p50, sizeof p50, (double)kv_hist_percentile(&t->hist, 50)),
            kvb_fmt_ns(p99, sizeof p99, (double)kv_hist_percentile(&t->hist, 99)));
    if (t->c.errors)
        fprintf(stderr, ", %llu errors", (unsigned long long)t->c.errors);
    fputc('\n', stderr);
}

void kvb_note(const char *fmt, ...)
{
    va_list ap;

    if (tty == 1 && !quiet_mode)
        fputs("\r\033[K", stderr);
    fputs("kvbench: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
