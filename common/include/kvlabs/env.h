/**
 * @file env.h
 * @brief The environment: every file operation of every engine goes through it.
 *
 * Like LevelDB's Env and SQLite's VFS, a kv_env is a table of file-system
 * operations. Engines never call open(2), pwrite(2) or fsync(2) themselves;
 * they call kv_env_open(), kv_file_pwrite(), kv_file_sync() ... on the env
 * they were opened with. That gives three things:
 *
 * - **Counters.** Every env counts the bytes it reads and writes and the
 *   fsyncs it issues (kv_env_get_counters()); benchmarks derive write, read
 *   and space amplification from them.
 * - **Fault injection.** The fault env fails the Nth call of a kind, runs
 *   out of space at a quota, and simulates a crash (see below), so every
 *   engine's error paths and recovery are tested without real power cuts.
 * - **Portability.** The in-memory env runs a durable engine with no disk.
 *
 * Implementations:
 * - kv_env_posix(): the real file system (a process-wide singleton).
 * - kv_env_mem_new(): a private in-memory file system. It starts with an
 *   empty root directory; paths are taken lexically ("." skipped, ".."
 *   drops the previous component, a relative path starts at the root), so
 *   a test makes its directory first (kv_env_mkdir(env, "/db")).
 * - kv_env_fault_new(): the in-memory file system plus fault injection and
 *   crash simulation.
 *
 * **The crash model** (fault env). The env remembers, for each file, the
 * content made durable by the last kv_file_sync() of that file, and for each
 * directory the entries made durable by the last kv_env_sync_dir() of that
 * directory. kv_env_fault_crash() freezes that durable image: from then on
 * every call fails with KV_EIO (so the dying engine cannot write anything
 * more), until kv_env_fault_reboot() replaces the live state by the image.
 * A file created, renamed or unlinked since its directory was last synced
 * comes back as it was at that sync; bytes written since the file's last
 * sync are lost. In KV_CRASH_TORN mode, unsynced writes survive except the
 * last one of each file, of which only a prefix (possibly empty) survives:
 * the torn write. Directories themselves are durable once created: mkdir,
 * rmdir and the rename of a directory are durable at once.
 *
 * **Modes.** Files and directories are private by default: kv_env_open()
 * creates a file with mode KV_MODE_FILE (0600), kv_env_mkdir() and
 * kv_env_mkdir_durable() a directory with KV_MODE_DIR (0700). The _mode
 * variants (kv_env_open_mode(), kv_env_mkdir_mode(),
 * kv_env_mkdir_durable_mode()) take the permission bits to create with,
 * 0 to 0777 (setuid, setgid and sticky bits are refused: KV_EINVAL); an
 * engine passes what its `mode=` option asks (kv.h), and kv_mode_dir_of()
 * turns a file mode into the matching directory mode. A mode applies only
 * when the call creates: an existing file or directory keeps its mode. On
 * posix the process umask can still take bits away (open(2) and mkdir(2)
 * semantics); the mem and fault envs record the mode exactly as given,
 * never apply a umask and never enforce permissions (they have one user).
 * kv_env_stat_mode() reads a path's mode back on every env, so a test can
 * check what an engine asked for.
 *
 * **Errors.** Functions return KV_OK or a negative KV_E* code from kv.h:
 * KV_ENOTFOUND (no such file), KV_EBUSY (lock held, file exists, directory
 * not empty), KV_EFULL (no space), KV_ENOTSUP (operation not supported by
 * this env), KV_EIO (anything else), with kv_last_error() naming the call,
 * the path and the errno. Every function also returns KV_EINVAL for a NULL
 * argument where none is allowed, an empty path, bad open flags, a write or
 * truncate through a file opened KV_O_RDONLY, or an offset past INT64_MAX
 * (and, on the mem and fault envs, for a path of more than 4094 bytes once
 * normalised); and KV_ENOMEM when out of memory (on the mem and fault envs
 * that is also the "disk" running out). On the fault env, a call of an
 * armed kind fails with the injected status (kv_env_fault_fail()), every
 * call but kv_file_close() fails with KV_EIO while the env is crashed, and
 * a file opened before the last reboot fails its reads, writes, syncs,
 * truncates, size and lock calls with KV_EIO.
 *
 * **Thread safety.** All functions are safe to call from several threads.
 * A kv_file may be used by several threads at once (pread/pwrite take
 * offsets; there is no shared file position).
 */
#ifndef KVLABS_ENV_H
#define KVLABS_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvlabs/kv.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief An open file of an env. */
typedef struct kv_file kv_file;

/** @name Creation modes (see "Modes" above)
 * @{ */
#define KV_MODE_FILE 0600u /**< the mode kv_env_open() creates files with: owner read and write */
#define KV_MODE_DIR 0700u  /**< the mode kv_env_mkdir() creates directories with: owner only */
/** @} */

/** @name Flags of kv_env_open()
 * @{ */
enum {
    KV_O_RDONLY = 0, /**< read only */
    KV_O_RDWR = 1,   /**< read and write */
    KV_O_CREAT = 2,  /**< create when missing (needs KV_O_RDWR) */
    KV_O_TRUNC = 4,  /**< truncate to 0 on open (needs KV_O_RDWR) */
    KV_O_EXCL = 8    /**< with KV_O_CREAT: fail with KV_EBUSY when it exists */
};
/** @} */

/**
 * @brief The I/O counters of an env, monotonic since its creation (measure
 *        an interval as the difference of two readings). Only successful
 *        calls count. The posix env's counters are process-wide.
 */
typedef struct kv_env_counters {
    uint64_t bytes_read;    /**< bytes returned by kv_file_pread() */
    uint64_t bytes_written; /**< bytes accepted by kv_file_pwrite() */
    uint64_t reads;         /**< successful kv_file_pread() calls */
    uint64_t writes;        /**< successful kv_file_pwrite() calls */
    uint64_t syncs;         /**< successful kv_file_sync() and kv_env_sync_dir() calls */
    uint64_t opens;         /**< successful kv_env_open() calls */
} kv_env_counters;

/**
 * @brief The POSIX env.
 * @return the process-wide singleton over the real file system; never NULL,
 *         never freed (kv_env_free() ignores it).
 */
const kv_env *kv_env_posix(void);

/**
 * @brief Create a private in-memory env.
 * @return the env, owned by the caller, or NULL when out of memory. Free with
 *         kv_env_free().
 */
kv_env *kv_env_mem_new(void);

/**
 * @brief Create a fault-injecting in-memory env (see the crash model above).
 * @param[in] seed  seeds the choice of torn-write prefixes (reproducible runs).
 * @return the env, owned by the caller, or NULL when out of memory. Free with
 *         kv_env_free().
 */
kv_env *kv_env_fault_new(uint64_t seed);

/**
 * @brief Free an env made by kv_env_mem_new() or kv_env_fault_new(), with
 *        all its files' content.
 * @param[in] env  the env; NULL and the posix env are ignored. Every file of
 *                 it must be closed, and no other thread may be using it.
 */
void kv_env_free(kv_env *env);

/**
 * @brief The env's short name.
 * @param[in] env  the env, or NULL.
 * @return a static string: "posix", "mem" or "fault" ("null" for NULL).
 */
const char *kv_env_name(const kv_env *env);

/**
 * @brief Open a file.
 * @param[in]  env    the env.
 * @param[in]  path   the file's path.
 * @param[in]  flags  KV_O_* flags.
 * @param[out] out    the open file, owned by the caller: close it with
 *                    kv_file_close() before the env is freed.
 * @return KV_OK; KV_ENOTFOUND (missing and no KV_O_CREAT, or missing parent
 *         directory); KV_EBUSY (KV_O_EXCL and it exists); KV_EINVAL (NULL
 *         argument, empty path, bad flags); KV_EFULL (no space to create
 *         it); KV_EIO (also: the path is a directory); KV_ENOMEM; on the fault
 *         env, an injected status (KV_FAULT_OPEN). On failure *out is NULL.
 */
int kv_env_open(const kv_env *env, const char *path, int flags, kv_file **out);

/**
 * @brief Open a file, creating it with permission bits @p mode.
 *
 * kv_env_open() is this call with KV_MODE_FILE (0600). The mode is used only
 * when the call creates the file (KV_O_CREAT and the file was missing); an
 * existing file keeps its mode, also with KV_O_TRUNC. On posix the umask
 * applies (open(2)); the mem and fault envs record @p mode as given (read it
 * back with kv_env_stat_mode()).
 * @param[in]  env    the env.
 * @param[in]  path   the file's path.
 * @param[in]  flags  KV_O_* flags.
 * @param[in]  mode   permission bits, 0 to 0777 (e.g. 0600, 0640), checked
 *                    even when nothing is created.
 * @param[out] out    the open file, owned by the caller: close it with
 *                    kv_file_close() before the env is freed.
 * @return as kv_env_open(); also KV_EINVAL when @p mode has bits outside
 *         0777. On failure *out is NULL.
 */
int kv_env_open_mode(const kv_env *env, const char *path, int flags, unsigned mode,
                     kv_file **out);

/**
 * @brief Close a file; releases its lock. The handle is freed even when it
 *        fails (and on a crashed fault env).
 * @param[in] f  the file, or NULL (then KV_OK). No other thread may use it
 *               during or after the call.
 * @return KV_OK; KV_EIO or KV_EFULL when close(2) reports an error (posix
 *         only: the mem and fault envs always return KV_OK).
 */
int kv_file_close(kv_file *f);

/**
 * @brief Read up to @p n bytes at offset @p off.
 * @param[in]  f    the file.
 * @param[out] buf  receives the bytes; may be NULL when n is 0.
 * @param[in]  n    the most bytes to read.
 * @param[in]  off  the offset to read at; past the end, nothing is read.
 * @param[out] got  bytes read: less than n only at end of file (0 on failure; may be NULL).
 * @return KV_OK; KV_EINVAL (NULL file, NULL buf with n > 0, off + n past
 *         INT64_MAX); KV_EIO; on the fault env, an injected status
 *         (KV_FAULT_READ).
 */
int kv_file_pread(kv_file *f, void *buf, size_t n, uint64_t off, size_t *got);

/**
 * @brief Write @p n bytes at offset @p off (all of them, or an error). The
 *        file grows as needed; a gap reads as zeros.
 * @param[in] f    the file, opened KV_O_RDWR.
 * @param[in] buf  the bytes; may be NULL when n is 0.
 * @param[in] n    number of bytes.
 * @param[in] off  the offset to write at.
 * @return KV_OK; KV_EINVAL (NULL file, NULL buf with n > 0, a file opened
 *         KV_O_RDONLY, off + n past INT64_MAX); KV_EFULL (no space, or the
 *         fault env's quota: part may have been written on posix; nothing
 *         is on the mem and fault envs); KV_ENOMEM (nothing written on the
 *         mem and fault envs); KV_EIO; on the fault env, an injected status
 *         (KV_FAULT_WRITE).
 */
int kv_file_pwrite(kv_file *f, const void *buf, size_t n, uint64_t off);

/**
 * @brief Make the file's content durable (fdatasync on posix).
 * @param[in] f  the file.
 * @return KV_OK; KV_EINVAL (NULL file); KV_EIO; on the fault env, an
 *         injected status (KV_FAULT_SYNC).
 */
int kv_file_sync(kv_file *f);

/**
 * @brief Set the file's size: cut it, or grow it with zeros.
 * @param[in] f     the file, opened KV_O_RDWR.
 * @param[in] size  the new size in bytes.
 * @return KV_OK; KV_EINVAL (NULL file, a file opened KV_O_RDONLY, size past
 *         INT64_MAX); KV_EFULL (no space, or the fault env's quota);
 *         KV_ENOMEM (growing, mem and fault envs); KV_EIO; on the fault env,
 *         an injected status (KV_FAULT_TRUNCATE).
 */
int kv_file_truncate(kv_file *f, uint64_t size);

/**
 * @brief The file's current size.
 * @param[in]  f     the file.
 * @param[out] size  the size in bytes.
 * @return KV_OK; KV_EINVAL (NULL argument); KV_EIO.
 */
int kv_file_size(kv_file *f, uint64_t *size);

/**
 * @brief Take an exclusive advisory lock on the file without waiting
 *        (flock(LOCK_EX|LOCK_NB) on POSIX). Held until the file is closed.
 * @param[in] f  the file.
 * @return KV_OK (also when this file already holds it); KV_EBUSY when
 *         another open file (of this or another process) holds it; KV_EINVAL
 *         (NULL file); KV_EIO.
 */
int kv_file_lock(kv_file *f);

/**
 * @brief Map @p len bytes at @p off (a multiple of the page size) into
 *        memory, MAP_SHARED. The file must be at least off+len long.
 * @param[in]  f         the file.
 * @param[in]  off       the offset of the mapping, a multiple of the page size.
 * @param[in]  len       the length of the mapping, at least 1.
 * @param[in]  writable  map read-write (the file must be open KV_O_RDWR).
 * @param[out] addr      the mapping (NULL on failure); release with kv_file_munmap().
 * @return KV_OK; KV_ENOTSUP (the mem and fault envs); KV_EINVAL (NULL
 *         argument, len 0, off not page-aligned, past the end, writable on a
 *         read-only file, off + len past INT64_MAX); KV_ENOMEM; KV_EIO.
 */
int kv_file_mmap(kv_file *f, uint64_t off, size_t len, bool writable, void **addr);

/**
 * @brief Unmap a mapping made by kv_file_mmap().
 * @param[in] f     the file it was mapped from.
 * @param[in] addr  the mapping's address.
 * @param[in] len   the mapping's length.
 * @return KV_OK; KV_EINVAL (NULL file or addr, len 0, or munmap(2) refused
 *         the range); KV_ENOTSUP (the mem and fault envs); KV_EIO (a crashed
 *         fault env).
 */
int kv_file_munmap(kv_file *f, void *addr, size_t len);

/**
 * @brief Create a directory if it does not exist (its parent must), with
 *        mode KV_MODE_DIR (0700): kv_env_mkdir_mode() with that mode.
 * @param[in] env   the env.
 * @param[in] path  the directory's path; an existing directory is KV_OK.
 * @return KV_OK; KV_EINVAL (NULL env, NULL or empty path); KV_ENOTFOUND (no
 *         parent); KV_EIO (also: a file has that name); KV_EFULL (no space);
 *         KV_ENOMEM.
 */
int kv_env_mkdir(const kv_env *env, const char *path);

/**
 * @brief Create a directory if it does not exist (its parent must), with
 *        permission bits @p mode. An existing directory keeps its mode.
 * @param[in] env   the env.
 * @param[in] path  the directory's path; an existing directory is KV_OK.
 * @param[in] mode  permission bits, 0 to 0777 (e.g. kv_mode_dir_of(0640) =
 *                  0750); the umask applies on posix.
 * @return as kv_env_mkdir(); also KV_EINVAL when @p mode has bits outside 0777.
 */
int kv_env_mkdir_mode(const kv_env *env, const char *path, unsigned mode);

/**
 * @brief The directory mode that goes with a file mode: the same bits, plus
 *        search (x) for every class (owner, group, others) that may read.
 *        0600 gives 0700, 0640 gives 0750, 0644 gives 0755, 0660 gives
 *        0770; a class that may write but not read gets no x (0620 gives
 *        0720), so it cannot reach the files. This is how an engine derives
 *        the mode of the directories it creates from its `mode=` option.
 * @param[in] file_mode  permission bits; bits outside 0777 are ignored.
 * @return the directory's permission bits.
 */
unsigned kv_mode_dir_of(unsigned file_mode);

/**
 * @brief Create a store's directory if it is missing, durably: after a
 *        creation the parent directory is synced, so a new store does not
 *        vanish on power loss after its first kv_sync. Creates with mode
 *        KV_MODE_DIR (0700).
 * @param[in] env   the env.
 * @param[in] path  the directory's path ("a/b", "a/b/", "/a" or "a"); an
 *                  existing directory is KV_OK and syncs nothing.
 * @return as kv_env_mkdir() and kv_env_sync_dir().
 */
int kv_env_mkdir_durable(const kv_env *env, const char *path);

/**
 * @brief kv_env_mkdir_durable() creating the directory with permission bits
 *        @p mode (an existing directory keeps its own).
 * @param[in] env   the env.
 * @param[in] path  the directory's path.
 * @param[in] mode  permission bits, 0 to 0777.
 * @return as kv_env_mkdir_durable(); also KV_EINVAL when @p mode has bits
 *         outside 0777 (checked before anything is created).
 */
int kv_env_mkdir_durable_mode(const kv_env *env, const char *path, unsigned mode);

/**
 * @brief Make a directory's entries (creations, renames, unlinks in it) durable.
 * @param[in] env   the env.
 * @param[in] path  the directory's path.
 * @return KV_OK; KV_EINVAL (NULL env, NULL or empty path); KV_ENOTFOUND (no
 *         such directory); KV_EIO (also: not a directory); KV_ENOMEM; on the
 *         fault env, an injected status (KV_FAULT_SYNC).
 */
int kv_env_sync_dir(const kv_env *env, const char *path);

/**
 * @brief Atomically rename a file, replacing @p to. A directory may be
 *        renamed too, over nothing or an empty directory.
 * @param[in] env   the env.
 * @param[in] from  the existing path.
 * @param[in] to    the new path; its parent must exist.
 * @return KV_OK; KV_ENOTFOUND (no @p from, or no parent of @p to); KV_EBUSY
 *         (replacing a non-empty directory; the root, on the mem and fault
 *         envs); KV_EINVAL (NULL env, NULL or empty path; a directory into
 *         itself, on the mem and fault envs); KV_EIO (file over directory or
 *         the reverse; a directory into itself, on posix); KV_EFULL (no
 *         space); KV_ENOMEM; on the fault env, an injected status
 *         (KV_FAULT_RENAME).
 */
int kv_env_rename(const kv_env *env, const char *from, const char *to);

/**
 * @brief Remove a file (an open handle of it keeps working).
 * @param[in] env   the env.
 * @param[in] path  the file's path.
 * @return KV_OK; KV_ENOTFOUND; KV_EINVAL (NULL env, NULL or empty path);
 *         KV_EIO (also: a directory); KV_ENOMEM; on the fault env, an
 *         injected status (KV_FAULT_UNLINK).
 */
int kv_env_unlink(const kv_env *env, const char *path);

/**
 * @brief Remove an empty directory.
 * @param[in] env   the env.
 * @param[in] path  the directory's path.
 * @return KV_OK; KV_ENOTFOUND; KV_EBUSY (not empty; the root, on the mem and
 *         fault envs); KV_EINVAL (NULL env, NULL or empty path); KV_EIO (also:
 *         not a directory); KV_ENOMEM; on the fault env, an injected status
 *         (KV_FAULT_UNLINK).
 */
int kv_env_rmdir(const kv_env *env, const char *path);

/**
 * @brief Remove a directory and the files in it (one level: it does not
 *        descend into subdirectories), as a store that is thrown away and
 *        rebuilt is removed. Not atomic: a failure part-way leaves the
 *        files not yet removed.
 * @param[in] env   the env.
 * @param[in] path  the directory's path.
 * @return KV_OK, also when @p path does not exist (nothing to remove);
 *         KV_EIO (@p path is a file); KV_EBUSY (it holds a subdirectory,
 *         left in place); KV_EINVAL (NULL env, NULL or empty path);
 *         KV_ENOMEM; or the first error of kv_env_list(), kv_env_unlink()
 *         or kv_env_rmdir().
 */
int kv_env_remove_dir(const kv_env *env, const char *path);

/**
 * @brief Whether a path exists, and its size.
 * @param[in]  env    the env.
 * @param[in]  path   the path of a file or a directory.
 * @param[out] size   the file's size (0 for a directory and on failure); may be NULL.
 * @param[out] is_dir whether it is a directory (false on failure); may be NULL.
 * @return KV_OK; KV_ENOTFOUND; KV_EINVAL (NULL env, NULL or empty path);
 *         KV_ENOMEM; KV_EIO.
 */
int kv_env_stat(const kv_env *env, const char *path, uint64_t *size, bool *is_dir);

/**
 * @brief The permission bits of a file or directory.
 * @param[in]  env   the env.
 * @param[in]  path  the path.
 * @param[out] mode  its permission bits (st_mode & 07777 on posix, after the
 *                   umask; the mode given at creation on the mem and fault
 *                   envs, 0755 for their root); 0 on failure.
 * @return KV_OK; KV_ENOTFOUND; KV_EINVAL (NULL argument, empty path);
 *         KV_ENOMEM; KV_EIO.
 */
int kv_env_stat_mode(const kv_env *env, const char *path, unsigned *mode);

/**
 * @brief List a directory's entries (not "." and ".."), sorted by name.
 * @param[in]  env    the env.
 * @param[in]  dir    the directory's path.
 * @param[out] names  a kv_malloc'd array of kv_malloc'd names (NULL when empty
 *                    and on failure), owned by the caller; free with
 *                    kv_env_list_free().
 * @param[out] n      the number of names (0 on failure).
 * @return KV_OK; KV_ENOTFOUND; KV_EINVAL (NULL argument, empty path);
 *         KV_ENOMEM; KV_EIO (also: not a directory).
 */
int kv_env_list(const kv_env *env, const char *dir, char ***names, size_t *n);

/**
 * @brief Free a list returned by kv_env_list().
 * @param[in] names  the array, or NULL (then nothing happens).
 * @param[in] n      the number of names kv_env_list() returned with it.
 */
void kv_env_list_free(char **names, size_t n);

/**
 * @brief Copy the env's counters.
 * @param[in]  env  the env, or NULL (then all counters are 0).
 * @param[out] out  the counters; NULL is ignored. Each counter is read
 *                  atomically, but not all of them at one instant while
 *                  other threads do I/O.
 */
void kv_env_get_counters(const kv_env *env, kv_env_counters *out);

/** @name Fault injection (fault env only; other envs ignore these calls)
 * @{ */

/** @brief The kinds of call a fault can be attached to. */
typedef enum kv_fault_kind {
    KV_FAULT_OPEN,     /**< kv_env_open */
    KV_FAULT_READ,     /**< kv_file_pread */
    KV_FAULT_WRITE,    /**< kv_file_pwrite */
    KV_FAULT_SYNC,     /**< kv_file_sync and kv_env_sync_dir */
    KV_FAULT_RENAME,   /**< kv_env_rename */
    KV_FAULT_UNLINK,   /**< kv_env_unlink and kv_env_rmdir */
    KV_FAULT_TRUNCATE, /**< kv_file_truncate */
    KV_FAULT_ANY,      /**< any of the above */
    KV_FAULT_KINDS_    /**< number of kinds (not a kind) */
} kv_fault_kind;

/**
 * @brief Fail the @p nth call of @p kind from now (1 = the next one), and
 *        the @p count - 1 calls of that kind after it, with @p status
 *        (KV_EIO, KV_EFULL, ...; a status >= 0 means KV_EIO). A failing call
 *        changes nothing (a failing write writes nothing).
 *        count = 0 means "from the nth on, forever". nth = 0 clears the fault.
 *        Each kind, KV_FAULT_ANY included, holds one fault (arming replaces
 *        it); KV_FAULT_ANY counts the calls of every kind above, not stat,
 *        list, mkdir, size, lock or mmap, which never fail by injection.
 * @param[in] env     the env; not a fault env: ignored.
 * @param[in] kind    the kind of call; one out of range is ignored.
 * @param[in] nth     the first call to fail, counted from now; 0 clears the fault.
 * @param[in] count   how many calls fail; 0: every call from the nth on.
 * @param[in] status  the status they fail with (>= 0: KV_EIO).
 */
void kv_env_fault_fail(kv_env *env, kv_fault_kind kind, uint64_t nth, uint64_t count, int status);

/**
 * @brief Writes (and growing truncates) that would make the env's total live
 *        file bytes (unlinked open files included) exceed @p bytes fail with
 *        KV_EFULL, writing nothing.
 * @param[in] env    the env; not a fault env: ignored.
 * @param[in] bytes  the quota; 0 = no quota.
 */
void kv_env_fault_set_quota(kv_env *env, uint64_t bytes);

/** @brief How kv_env_fault_crash() treats unsynced data. */
typedef enum kv_crash_mode {
    KV_CRASH_DROP, /**< every unsynced write, creation, rename and unlink is lost */
    KV_CRASH_TORN  /**< unsynced writes survive but the last one of each file (unless a truncate
                        followed it) is cut to a prefix of length uniform in [0, its length];
                        namespace as DROP */
} kv_crash_mode;

/**
 * @brief Crash now: freeze the durable image; every later file and
 *        namespace call but kv_file_close fails with KV_EIO until
 *        kv_env_fault_reboot(). No-op when already crashed.
 * @param[in] env   the env; not a fault env: ignored.
 * @param[in] mode  what becomes of unsynced data.
 */
void kv_env_fault_crash(kv_env *env, kv_crash_mode mode);

/**
 * @brief Crash automatically just before the @p nth mutating call from now
 *        (write, file or directory sync, rename, unlink, truncate, mkdir,
 *        rmdir, open with create or truncate), which then fails with
 *        KV_EIO. 0 disarms.
 * @param[in] env   the env; not a fault env: ignored.
 * @param[in] nth   1 = the next mutating call; 0 disarms. Arming replaces an
 *                  earlier arming; a crash disarms.
 * @param[in] mode  what becomes of unsynced data at that crash.
 */
void kv_env_fault_crash_after(kv_env *env, uint64_t nth, kv_crash_mode mode);

/**
 * @brief Whether the env has crashed and not been rebooted.
 * @param[in] env  the env.
 * @return true between a crash and the next reboot; false otherwise, and
 *         for an env that is not a fault env.
 */
bool kv_env_fault_crashed(const kv_env *env);

/**
 * @brief Replace the live state by the crash image and accept calls again.
 *        An env that has not crashed crashes first (KV_CRASH_DROP): a power
 *        cycle. Files opened before fail with KV_EIO (close them), and their
 *        locks are gone.
 * @param[in] env  the env; not a fault env: ignored.
 */
void kv_env_fault_reboot(kv_env *env);

/**
 * @brief Mutating calls made so far (to choose crash points).
 * @param[in] env  the env.
 * @return the mutating calls (see kv_env_fault_crash_after()) that reached
 *         the env since its creation while it was not crashed, injected
 *         failures included; 0 for an env that is not a fault env.
 */
uint64_t kv_env_fault_mutations(const kv_env *env);

/**
 * @brief Flip bit @p bit (0..7) of byte @p off of a file, in the live state
 *        and the durable image alike (simulated media corruption): the file
 *        @p path names now and the one it names in the durable image (the
 *        same unless renamed or unlinked since the last directory sync),
 *        in every copy of that file's content long enough to hold @p off.
 *        Works on a crashed env too.
 * @param[in] env   the fault env.
 * @param[in] path  the file's path.
 * @param[in] off   the byte's offset.
 * @param[in] bit   the bit, 0..7.
 * @return KV_OK, KV_ENOTFOUND, KV_EINVAL (NULL or empty path, offset past
 *         the end, bit > 7, a directory) or KV_ENOTSUP (not a fault env).
 */
int kv_env_fault_flip(kv_env *env, const char *path, uint64_t off, unsigned bit);
/** @} */

#ifdef __cplusplus
}
#endif
#endif /* KVLABS_ENV_H */
