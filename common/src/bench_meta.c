/*
 * bench_meta.c - kv_bench_meta_collect(): what machine and build produced
 * a benchmark result.
 *
 * A throughput number means little without its context: the CPU, the
 * core count, the memory, the file system the engine wrote to (tmpfs and
 * ext4 differ by orders of magnitude on fsync), the compiler and flags, the
 * source revision. This file gathers that once per run; bench_result.c
 * writes it into every result's "meta" object, so whoever compares two
 * results can first check that they come from comparable settings.
 *
 * Sources, each with a fallback so collection never fails on an unusual
 * system (a field that cannot be found says "unknown"):
 *
 *   cpu        /proc/cpuinfo "model name" (x86); "Processor", "Hardware",
 *              "cpu model" or "cpu" (older ARM, MIPS, POWER); else the
 *              machine type from uname() ("aarch64"), which is all many
 *              ARM kernels expose
 *   cores      sysconf(_SC_NPROCESSORS_ONLN)
 *   ram_bytes  /proc/meminfo MemTotal, else _SC_PHYS_PAGES * _SC_PAGESIZE
 *   fs         statfs() f_type mapped to a name by the table below, or its
 *              hex value (Linux); f_fstypename (BSDs, macOS)
 *   compiler   __VERSION__, the compiler's own description of itself
 *   cflags     KV_BUILD_CFLAGS, git_rev KV_GIT_REV: string literals the
 *              build passes with -D (see bench.h)
 *   timestamp  time() as ISO-8601 UTC; host: gethostname()
 *
 * Every string is cleaned to printable ASCII (other bytes become '?') and
 * trimmed, so it is valid UTF-8 for the JSON writer and safe in a terminal.
 */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__)
#include <sys/vfs.h>
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
#include <sys/mount.h>
#include <sys/param.h>
#endif

#include "kvlabs/bench.h"
#include "kvlabs/error.h"
#include "kvlabs/kv.h"

#ifndef KV_BUILD_CFLAGS
#define KV_BUILD_CFLAGS "unknown"
#endif
#ifndef KV_GIT_REV
#define KV_GIT_REV "unknown"
#endif

/* Copy src into dst[n] trimmed, printable ASCII only, "unknown" if empty. */
static void copy_clean(char *dst, size_t n, const char *src)
{
    size_t len;

    while (*src == ' ' || *src == '\t' || *src == '\n' || *src == '\r')
        src++;
    len = strlen(src);
    while (len > 0 && (src[len - 1] == ' ' || src[len - 1] == '\t' ||
                       src[len - 1] == '\n' || src[len - 1] == '\r'))
        len--;
    if (len == 0)
        src = "unknown", len = strlen(src);
    if (len > n - 1)
        len = n - 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    dst[len] = '\0';
}

/* If line is "key<spaces>: value", return value, else NULL. */
static const char *field_value(const char *line, const char *key)
{
    size_t k = strlen(key);
    if (strncmp(line, key, k) != 0)
        return NULL;
    line += k;
    while (*line == ' ' || *line == '\t')
        line++;
    return *line == ':' ? line + 1 : NULL;
}

static void collect_cpu(kv_bench_meta *m)
{
    /* In order of preference. */
    static const char *const keys[] = {"model name", "Processor", "Hardware", "cpu model", "cpu"};
    enum { NKEYS = sizeof keys / sizeof keys[0] };
    char found[NKEYS][sizeof m->cpu];
    char line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");

    memset(found, 0, sizeof found);
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        for (int k = 0; k < NKEYS; k++) {
            const char *v = field_value(line, keys[k]);
            if (v != NULL && found[k][0] == '\0') {
                copy_clean(found[k], sizeof found[k], v);
                break;
            }
        }
    }
    if (f != NULL)
        fclose(f);
    for (int k = 0; k < NKEYS; k++) {
        if (found[k][0] != '\0' && strcmp(found[k], "unknown") != 0) {
            memcpy(m->cpu, found[k], sizeof m->cpu);
            return;
        }
    }
    struct utsname u;
    copy_clean(m->cpu, sizeof m->cpu, uname(&u) == 0 ? u.machine : "");
}

static void collect_memory(kv_bench_meta *m)
{
    char line[256];
    unsigned long long kb = 0;
    FILE *f = fopen("/proc/meminfo", "r");

    while (f != NULL && kb == 0 && fgets(line, sizeof line, f) != NULL) {
        const char *v = field_value(line, "MemTotal");
        if (v == NULL || sscanf(v, "%llu", &kb) != 1)
            kb = 0;
    }
    if (f != NULL)
        fclose(f);
    m->ram_bytes = (int64_t)(kb * 1024u);
    if (m->ram_bytes <= 0) {
        long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
        m->ram_bytes = pages > 0 && psize > 0 ? (int64_t)pages * psize : 0;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    m->cores = cores > 0 ? cores : 1;
}

#if defined(__linux__)
/* Names of the file systems benchmarks meet, by statfs f_type magic. */
static const struct {
    unsigned long magic;
    const char *name;
} fs_magics[] = {
    {0xef53UL, "ext4"}, /* ext2 and ext3 share ext4's magic */
    {0x01021994UL, "tmpfs"},
    {0x58465342UL, "xfs"},
    {0x9123683eUL, "btrfs"},
    {0x794c7630UL, "overlay"},
    {0x2fc12fc1UL, "zfs"},
    {0xf2f52010UL, "f2fs"},
    {0xca451a4eUL, "bcachefs"},
    {0x858458f6UL, "ramfs"},
    {0x6969UL, "nfs"},
    {0xff534d42UL, "cifs"},
    {0xfe534d42UL, "smb2"},
    {0x01021997UL, "9p"},
    {0x65735546UL, "fuse"},
    {0x73717368UL, "squashfs"},
    {0x2011bab0UL, "exfat"},
    {0x4d44UL, "vfat"},
    {0x5346544eUL, "ntfs"},
    {0x3153464aUL, "jfs"},
    {0x52654973UL, "reiserfs"},
    {0x9fa0UL, "proc"},
    {0x62656572UL, "sysfs"},
    {0x1373UL, "devfs"},
    {0x24051905UL, "ubifs"},
};
#endif

static void collect_fs(kv_bench_meta *m, const char *dir)
{
    const char *name = "unknown";
    char hex[32];
#if defined(__linux__)
    struct statfs sf;
    if (statfs(dir, &sf) == 0) {
        unsigned long magic = (unsigned long)sf.f_type & 0xffffffffUL;
        snprintf(hex, sizeof hex, "0x%lx", magic);
        name = hex;
        for (size_t i = 0; i < sizeof fs_magics / sizeof fs_magics[0]; i++)
            if (fs_magics[i].magic == magic)
                name = fs_magics[i].name;
    }
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
    struct statfs sf;
    if (statfs(dir, &sf) == 0) {
        snprintf(hex, sizeof hex, "%s", sf.f_fstypename);
        name = hex;
    }
#else
    (void)dir;
    (void)hex;
#endif
    copy_clean(m->fs, sizeof m->fs, name);
}

static const char *compiler_text(void)
{
#if defined(__clang__)
    return __VERSION__; /* "Clang 14.0.6 ..." or "Debian Clang 14.0.6" */
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#elif defined(__VERSION__)
    return __VERSION__;
#else
    return "unknown";
#endif
}

int kv_bench_meta_collect(kv_bench_meta *m, const char *out_dir)
{
    if (m == NULL)
        return kv_fail(KV_EINVAL, "kv_bench_meta_collect: NULL metadata");
    memset(m, 0, sizeof *m);

    time_t now = time(NULL);
    struct tm tm;
    if (now == (time_t)-1 || gmtime_r(&now, &tm) == NULL ||
        strftime(m->timestamp, sizeof m->timestamp, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        copy_clean(m->timestamp, sizeof m->timestamp, "1970-01-01T00:00:00Z");

    char host[256];
    if (gethostname(host, sizeof host) != 0)
        host[0] = '\0';
    host[sizeof host - 1] = '\0'; /* POSIX leaves truncation unterminated */
    copy_clean(m->host, sizeof m->host, host);

    collect_cpu(m);
    collect_memory(m);
    collect_fs(m, out_dir != NULL ? out_dir : ".");
    copy_clean(m->compiler, sizeof m->compiler, compiler_text());
    copy_clean(m->cflags, sizeof m->cflags, KV_BUILD_CFLAGS);
    copy_clean(m->git_rev, sizeof m->git_rev, KV_GIT_REV);
    copy_clean(m->kvlabs_version, sizeof m->kvlabs_version, KVLABS_VERSION);
    return KV_OK;
}
