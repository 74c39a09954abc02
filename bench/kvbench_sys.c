/*
 * kvbench_sys.c — what kvbench asks of the operating system: memory in
 * use, the size of a directory tree, removing one, and writing its own
 * JSON files.
 *
 * Memory. An engine's memory is measured from outside, the same way for a
 * course engine and for a peer library that allocates on its own, in two
 * ways that catch each other's blind spots:
 *
 *   - RSS: the resident set size (VmRSS in /proc/self/status, Linux). It
 *     counts pages actually touched: heap, thread stacks, and the file
 *     pages an engine has mapped and read (LMDB's whole store lives in its
 *     mapping, so its data shows up here, as it does in `top`). It does
 *     NOT grow when malloc hands out memory the process already had, so a
 *     load that runs after another workload in the same process can hide
 *     almost all of its memory (Bitcask once "grew" 40 KiB for a 15 MB
 *     keydir that way).
 *   - heap: bytes malloc has handed out and not taken back, from glibc's
 *     mallinfo2() (uordblks + hblkhd: in-use chunks of every arena plus
 *     mmap'd chunks), as sprint 2's ht_bench does. It sees every malloc
 *     whether or not its pages are new, and nothing outside malloc (maps,
 *     stacks, a private allocator).
 *
 * Both are read before the engine is opened and again after the load and
 * after each workload; a result records the growth of each. Before each
 * "before" reading kvbench calls glibc's malloc_trim(0), and the load runs
 * in a child process of its own that has done nothing else (see
 * kvbench_suite.c). Where /proc is missing RSS is 0; off glibc the heap
 * figure is 0.
 *
 * Disk. The size of a store is the sum of st_size over every regular file
 * under its directory (lstat, not following links), measured after the
 * workload and a kv_sync(): the bytes the engine's files claim, whether
 * or not the file system has allocated them (a sparse or preallocated
 * file counts at its length).
 *
 * Files kvbench writes itself (summary.json, physical.json, run.json) go
 * through kvb_write_file_atomic(): temporary file, fsync, rename, like the
 * result files of kvlabs/bench.h.
 */
#define _DEFAULT_SOURCE /* malloc_trim, DT_* on glibc */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "kvbench_int.h"
#include "kvlabs/alloc.h"
#include "kvlabs/json.h"

uint64_t kvb_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long kb = 0;

    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %llu kB", &kb) == 1)
            break;
    fclose(f);
    return (uint64_t)kb * 1024;
}

uint64_t kvb_heap_bytes(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 mi = mallinfo2();
    return (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
#else
    return 0;
#endif
}

void kvb_trim_heap(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

static uint64_t tree_bytes(const char *dir, int depth)
{
    DIR *d;
    struct dirent *e;
    uint64_t sum = 0;

    if (depth > 32 || !(d = opendir(dir)))
        return 0;
    while ((e = readdir(d))) {
        char path[4096];
        struct stat st;

        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            continue;
        if (lstat(path, &st) != 0)
            continue; /* removed meanwhile (an engine's compaction) */
        if (S_ISDIR(st.st_mode))
            sum += tree_bytes(path, depth + 1);
        else if (S_ISREG(st.st_mode))
            sum += (uint64_t)st.st_size;
    }
    closedir(d);
    return sum;
}

uint64_t kvb_dir_bytes(const char *dir)
{
    return tree_bytes(dir, 0);
}

static int rm_tree(const char *path, int depth)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    int rc = 0;

    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    if (depth > 64 || !(d = opendir(path)))
        return -1;
    while ((e = readdir(d))) {
        char sub[4096];

        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >= (int)sizeof sub) {
            rc = -1;
            continue;
        }
        if (rm_tree(sub, depth + 1) != 0)
            rc = -1;
    }
    closedir(d);
    if (rmdir(path) != 0)
        rc = -1;
    return rc;
}

int kvb_rmtree(const char *dir)
{
    return rm_tree(dir, 0);
}

int kvb_mkdirs(const char *dir)
{
    char p[4096];
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof p)
        return -1;
    memcpy(p, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] == '/' || p[i] == '\0') {
            char c = p[i];
            p[i] = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST)
                return -1;
            p[i] = c;
        }
    }
    return 0;
}

int kvb_write_file_atomic(const char *path, const char *text)
{
    char tmp[4096];
    size_t len = strlen(text);
    const char *c = text;
    int fd;

    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return -1;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    while (len) {
        ssize_t w = write(fd, c, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto out_unlink;
        c += w;
        len -= (size_t)w;
    }
    if (fsync(fd) != 0)
        goto out_unlink;
    close(fd);
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;

out_unlink:
    close(fd);
    unlink(tmp);
    return -1;
}

char *kvb_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (!f)
        return NULL;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            char *nb = kv_realloc(buf, cap = cap ? cap * 2 : 16384);
            if (!nb) {
                kv_free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

kv_json *kvb_meta_json(const kv_bench_meta *m)
{
    kv_json *o = kv_json_new_object();

    if (!o)
        return NULL;
    if (kv_json_set_str(o, "timestamp", m->timestamp) || kv_json_set_str(o, "host", m->host) ||
        kv_json_set_str(o, "cpu", m->cpu) || kv_json_set_int(o, "cores", m->cores) ||
        kv_json_set_int(o, "ram_bytes", m->ram_bytes) || kv_json_set_str(o, "fs", m->fs) ||
        kv_json_set_str(o, "compiler", m->compiler) || kv_json_set_str(o, "cflags", m->cflags) ||
        kv_json_set_str(o, "git_rev", m->git_rev) ||
        kv_json_set_str(o, "kvlabs_version", m->kvlabs_version)) {
        kv_json_free(o);
        return NULL;
    }
    return o;
}
