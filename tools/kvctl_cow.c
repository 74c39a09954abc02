/*
 * kvctl_cow.c — kvctl's commands for the copy-on-write B+ tree (engine
 * `cowbtree`, sprint-3-btree-storage/cow/): they read a closed store's
 * files directly, without opening the engine (no replay, no checkpoint):
 *
 *   kvctl verify DIR    walk every page of the newest checkpoint: checksums,
 *                       page numbers, structure, key order, equal leaf
 *                       depth, every key reachable by search, key count
 *   kvctl dump DIR      print both meta pages and every page of the tree
 *   kvctl logdump DIR   print the commit log record by record
 *
 * Exit codes as kvctl's: 0 success (verify: the store is sound), 2 usage,
 * 3 engine error (KV_ECORRUPT: a damaged store), 4 file error. Kept in a
 * file of its own so kvctl.c only lists the commands.
 *
 * What callers must not do: run them on a store another process has open
 * (they would read a checkpoint in the middle of being written).
 */
#include <stdio.h>
#include <string.h>

#include "cow.h"
#include "kvlabs/kv.h"

int kvctl_cow_verify(int argc, char **argv);
int kvctl_cow_dump(int argc, char **argv);
int kvctl_cow_logdump(int argc, char **argv);

static int exit_of(int rc)
{
    return rc == KV_OK ? 0 : rc == KV_ENOTFOUND || rc == KV_EIO ? 4 : 3;
}

static int one_dir(const char *cmd, int argc, char **argv)
{
    if (argc != 1 || argv[0][0] == '-') {
        fprintf(stderr, "kvctl: %s: expected one argument, the store's directory\n", cmd);
        return -1;
    }
    return 0;
}

int kvctl_cow_verify(int argc, char **argv)
{
    cow_verify_report r;
    char why[512];
    int rc;

    if (one_dir("verify", argc, argv))
        return 2;
    rc = cow_verify(argv[0], &r, why, sizeof(why));
    printf("meta A %s, meta B %s; txn %llu; %llu pages in the file, %llu in the tree; depth %u; "
           "%llu keys\n",
           r.meta_a == KV_OK ? "valid" : "INVALID", r.meta_b == KV_OK ? "valid" : "INVALID",
           (unsigned long long)r.txnid, (unsigned long long)r.pages,
           (unsigned long long)r.tree_pages, r.depth, (unsigned long long)r.keys);
    if (rc != KV_OK) {
        fprintf(stderr, "kvctl: verify %s: %s: %s\n", argv[0], kv_strerror(rc), why);
        return exit_of(rc);
    }
    printf("ok\n");
    return 0;
}

int kvctl_cow_dump(int argc, char **argv)
{
    int rc;
    if (one_dir("dump", argc, argv))
        return 2;
    rc = cow_dump(argv[0], stdout);
    if (rc != KV_OK)
        fprintf(stderr, "kvctl: dump %s: %s: %s\n", argv[0], kv_strerror(rc), kv_last_error());
    return exit_of(rc);
}

int kvctl_cow_logdump(int argc, char **argv)
{
    int rc;
    if (one_dir("logdump", argc, argv))
        return 2;
    rc = cow_logdump(argv[0], stdout);
    if (rc != KV_OK)
        fprintf(stderr, "kvctl: logdump %s: %s: %s\n", argv[0], kv_strerror(rc), kv_last_error());
    return exit_of(rc);
}
