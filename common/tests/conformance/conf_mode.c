/*
 * conf_mode.c — private by default: the permissions of everything an engine
 * creates under its path, on the real file system (kv.h, `mode=`).
 *
 * Each case sets umask(0) first (Criterion runs it in a process of its own),
 * so nothing but the mode the engine passes to the env decides the bits: an
 * engine that forgot the option, or an env that still created 0666/0777,
 * shows up as group and other bits. The engine is opened on "<tmp>/db" (the
 * test's mkdtemp directory is the parent), made to create what it creates
 * in normal use (writes, overwrites that fill files and trigger merges
 * where configured, deletes, a sync, a close that may write hints, a
 * reopen), and then every directory and file under "<tmp>/db", the
 * directory itself included, is checked with lstat(2):
 *
 *   - default:       files 0600, directories 0700;
 *   - `mode=0640`:   files 0640, directories 0750 (x where r, kv_mode_dir_of).
 *
 * Which configurations it applies to: every engine that keeps files at its
 * path. An engine that creates nothing there (in memory, path ignored) is
 * skipped with the reason, after checking it accepts the option and still
 * works. A durable engine that creates nothing fails (conf_durable checks
 * the directory too). A symbolic link is not followed and not checked.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"

CONF_SUITE(conf_mode);

/* Check every entry under @p path (and @p path itself); returns the files seen. */
static size_t check_tree(const char *path, unsigned want_file, unsigned want_dir)
{
    struct stat st;
    struct dirent *e;
    size_t files = 0;
    DIR *d;

    cr_assert_eq(lstat(path, &st), 0, "lstat %s failed", path);
    if (S_ISLNK(st.st_mode))
        return 0;
    if (!S_ISDIR(st.st_mode)) {
        cr_assert_eq((unsigned)(st.st_mode & 07777), want_file,
                     "%s: file mode 0%03o, want 0%03o (umask 0)", path,
                     (unsigned)(st.st_mode & 07777), want_file);
        return 1;
    }
    cr_assert_eq((unsigned)(st.st_mode & 07777), want_dir,
                 "%s: directory mode 0%03o, want 0%03o (umask 0)", path,
                 (unsigned)(st.st_mode & 07777), want_dir);
    d = opendir(path);
    cr_assert_not_null(d, "opendir %s", path);
    while ((e = readdir(d)) != NULL) {
        char sub[1024];

        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        files += check_tree(sub, want_file, want_dir);
    }
    closedir(d);
    return files;
}

/*
 * Use the store the way a program does, so that it creates every kind of
 * file it has: many overwrites of few keys (files fill up, roll over and
 * merge where the configuration enables it), deletes, a sync, a close, a
 * reopen that reads everything back (a durable engine; any other engine
 * that keeps files gets a put and a get), a close again. Returns false,
 * after the first close, when the engine left nothing at its path.
 */
static bool exercise(const char *options)
{
    struct stat st;
    unsigned char key[CONF_KEY_MAX], val[CONF_VAL_MAX];
    size_t nkeys = 64, nops = conf_scale(3000);
    kv_buf b = {0};
    kv_db *db = conf_open(options);

    for (size_t i = 0; i < nops; i++) {
        uint32_t id = (uint32_t)(i % nkeys);
        OK(kv_put(db, key, conf_key(id, key), val, conf_val(id, i + 1, val)));
    }
    for (uint32_t id = 0; id < nkeys; id += 4)
        OK(kv_delete(db, key, conf_key(id, key)));
    OK(kv_sync(db));
    conf_close(db);
    if (lstat(conf_path(0, "db"), &st) != 0)
        return false;

    db = conf_open(options);
    for (uint32_t id = 0; id < nkeys && !(conf_caps() & KV_CAP_DURABLE); id++) {
        OK(kv_put(db, key, conf_key(id, key), val, conf_val(id, 1, val)));
        OK(kv_get(db, key, conf_key(id, key), &b));
        conf_expect_buf(&b, val, conf_val(id, 1, val), "a value put after reopening");
    }
    for (uint32_t id = 0; id < nkeys && (conf_caps() & KV_CAP_DURABLE); id++) {
        size_t kl = conf_key(id, key);
        uint64_t ver = 0;

        if (id % 4 == 0) {
            RC(kv_get(db, key, kl, &b), KV_ENOTFOUND);
            continue;
        }
        OK(kv_get(db, key, kl, &b));
        cr_assert(conf_val_check(id, b.data, b.len, &ver), "key %u: wrong value after reopen", id);
    }
    kv_buf_free(&b);
    conf_close(db);
    return true;
}

static void check_modes(const char *options, unsigned want_file, unsigned want_dir)
{
    size_t files;

    conf_need_local("the modes of its files");
    umask(0);
    if (!exercise(options)) {
        cr_assert_not(conf_caps() & KV_CAP_DURABLE, "a durable engine created no <tmp>/db");
        cr_skip_test("%s keeps no files at its path (mode= accepted and ignored)", conf_engine());
    }
    files = check_tree(conf_path(0, "db"), want_file, want_dir);
    cr_assert_gt(files, 0, "<tmp>/db holds no file: nothing was checked");
}

Test(conf_mode, private_by_default)
{
    check_modes(NULL, 0600, 0700);
}

Test(conf_mode, mode_option_applies)
{
    check_modes("mode=0640", 0640, 0750);
}
