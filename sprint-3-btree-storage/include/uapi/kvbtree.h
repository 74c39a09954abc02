/* SPDX-License-Identifier: MIT */
/**
 * @file kvbtree.h
 * @brief The user/kernel interface of `/dev/kvbtree`: the sprint-3 B+ tree
 *        as a character device (kernel/kernel_btree.c), driven by ioctls.
 *
 * **What this is.** The only header shared by the kernel module and user
 * space (the `kbtree` engine, the in-VM tests). It uses the kernel's
 * fixed-size types and no pointer types: user addresses travel as `__u64`,
 * so a 32-bit process and a 64-bit kernel read the same layout. It follows
 * sprint 2's `uapi/kvhash.h` rule for rule, and adds SCAN.
 *
 * **Versioning.** Every struct starts with `size`, which the caller sets to
 * `sizeof` the struct it was compiled with; any other size is `EINVAL`.
 * `flags` must be 0 except where a command names its flags (`EINVAL`).
 *
 * **Commands** (all return 0 or -1 with errno):
 *   - #KVBTREE_IOC_PUT   insert or replace `key` with `val` (`vlen` bytes; 0 allowed);
 *   - #KVBTREE_IOC_GET   read `key`'s value into `val`, a buffer of `vlen`
 *                        bytes; on return `vlen` holds the value's length. A
 *                        buffer too small fails with `ENOSPC` and still writes
 *                        the needed length to `vlen` (nothing else is written);
 *   - #KVBTREE_IOC_DEL   delete `key` (`ENOENT` if absent);
 *   - #KVBTREE_IOC_STATS fill a struct kvbtree_stats;
 *   - #KVBTREE_IOC_CLEAR drop every key of this tree (no argument);
 *   - #KVBTREE_IOC_SCAN  copy entries in key order from a start key into a
 *                        user buffer (struct kvbtree_scan, below).
 *
 * **SCAN wire layout.** The caller gives a start key (`key`, `klen`; `klen`
 * 0 means the smallest key, and then `key` is ignored), the most entries
 * it wants (`count`, at least 1) and a buffer (`buf`, `buflen` bytes). The
 * device writes entries back to back from `buf`'s first byte, each one
 *
 *     struct kvbtree_entry { __u32 klen; __u32 vlen; }   8 bytes
 *     key bytes (klen), value bytes (vlen)
 *     zero padding to the next multiple of 8             (KVBTREE_ENTRY_SIZE)
 *
 * so every entry header is 8-byte aligned when `buf` is. An entry is
 * written whole or not at all: the device stops at the first entry that
 * does not fit (`KVBTREE_ENTRY_SIZE(klen, vlen)` bytes, padding included,
 * must remain), after `count` entries, or at the end of the tree. On
 * return `count` holds the entries written, `used` the bytes written
 * (their sizes' sum), and the resume key: the key of the first entry *not*
 * returned, `rklen` bytes in `rkey`, with `rklen` 0 when the tree has no
 * more keys. The next call passes that key as its start key: `klen` =
 * `rklen`, `key` = the address of `rkey` (the start key is inclusive
 * unless #KVBTREE_SCAN_EXCLUSIVE is in `flags`). Nothing past `used` is
 * written. When not even the first entry fits, SCAN fails with `ENOSPC`,
 * `count` and `used` 0, `needed` the size that entry needs, and the resume
 * key set to its key. At most #KVBTREE_SCAN_MAX_BUF bytes are filled per
 * call, whatever `buflen` says.
 *
 * **Errors.** `EINVAL`: a wrong `size`, unknown `flags`, a key of length 0
 * (PUT, GET, DEL), a SCAN `count` of 0; `EFAULT`: an address user space
 * cannot read or write; `E2BIG`: a key above #KVBTREE_MAX_KEY or a value
 * above the device's `max_value` parameter (at most #KVBTREE_MAX_VALUE);
 * `ENOSPC`: a GET or SCAN buffer too small (with the needed length);
 * `ENOENT`: no such key; `ENOMEM`: out of memory or above the module's
 * memory cap (`mem_cap`; the tree is unchanged); `ENOTTY`: an unknown command.
 *
 * **Callers must not** assume the device copies more than the value (GET)
 * or `used` bytes (SCAN), or share one request struct between threads
 * during a call (the device writes into it).
 */
#ifndef UAPI_KVBTREE_H
#define UAPI_KVBTREE_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <linux/ioctl.h>
#include <linux/types.h>
#endif

/** @brief The device node's name under /dev. */
#define KVBTREE_DEVICE_NAME "kvbtree"
/** @brief The longest key the device accepts, in bytes. */
#define KVBTREE_MAX_KEY 1024u
/** @brief The largest value the device can be configured for (module
 *  parameter `max_value`, default 1 MiB), in bytes. */
#define KVBTREE_MAX_VALUE (16u << 20)
/** @brief The most bytes one SCAN fills (a larger `buflen` is cut to it). */
#define KVBTREE_SCAN_MAX_BUF (32u << 20)

/** @brief One key operation (PUT, GET, DEL): the layout of struct kvhash_req. */
struct kvbtree_req {
	__u32 size;  /**< sizeof(struct kvbtree_req): the version */
	__u32 flags; /**< must be 0 */
	__u64 key;   /**< user address of the key bytes */
	__u64 val;   /**< user address of the value (PUT: source; GET: buffer) */
	__u32 klen;  /**< key length, 1..KVBTREE_MAX_KEY */
	__u32 vlen;  /**< PUT: value length; GET in: buffer size, out: value length */
};

/** @brief SCAN flag: start after the start key rather than at it. */
#define KVBTREE_SCAN_EXCLUSIVE 1u

/** @brief One range read (SCAN); see the wire layout in the file comment. */
struct kvbtree_scan {
	__u32 size;   /**< sizeof(struct kvbtree_scan): the version */
	__u32 flags;  /**< 0 or KVBTREE_SCAN_EXCLUSIVE */
	__u64 key;    /**< user address of the start key (ignored when klen is 0) */
	__u64 buf;    /**< user address of the entry buffer */
	__u32 klen;   /**< start key length, 0..KVBTREE_MAX_KEY (0: from the first key) */
	__u32 count;  /**< in: most entries wanted (>= 1); out: entries written */
	__u32 buflen; /**< the buffer's size in bytes */
	__u32 used;   /**< out: bytes written to buf */
	__u32 needed; /**< out, with ENOSPC: bytes the first entry needs; else 0 */
	__u32 rklen;  /**< out: the resume key's length (0: no more keys) */
	__u8 rkey[KVBTREE_MAX_KEY]; /**< out: the resume key (the first key not returned) */
};

/** @brief The header of one entry of a SCAN buffer. */
struct kvbtree_entry {
	__u32 klen; /**< key length */
	__u32 vlen; /**< value length */
};

/** @brief Bytes one SCAN entry takes in the buffer: header, key, value,
 *  padded to a multiple of 8. */
#define KVBTREE_ENTRY_SIZE(klen, vlen) \
	((((__u64)sizeof(struct kvbtree_entry) + (__u64)(klen) + (__u64)(vlen)) + 7) & ~(__u64)7)

/** @brief The tree's counters (STATS). */
struct kvbtree_stats {
	__u32 size;       /**< sizeof(struct kvbtree_stats): the version */
	__u32 flags;      /**< must be 0 */
	__u64 keys;       /**< live keys */
	__u64 bytes;      /**< live key plus value bytes */
	__u64 mem_bytes;  /**< this tree's memory footprint */
	__u64 leaves;     /**< leaf nodes */
	__u64 inners;     /**< inner nodes */
	__u32 height;     /**< levels, leaves included */
	__u32 order;      /**< the branching factor (module parameter `order`) */
	__u64 splits;     /**< node splits since the tree was made */
	__u64 merges;     /**< node merges since the tree was made */
	__u64 module_mem; /**< bytes the whole module holds (what the cap limits) */
	__u64 mem_cap;    /**< the module's memory cap in bytes (0: none) */
};

/** @brief The ioctl type byte of the device (kvhash uses 0xB7). */
#define KVBTREE_IOC_MAGIC 0xB8
/** @brief Insert or replace a key. */
#define KVBTREE_IOC_PUT _IOW(KVBTREE_IOC_MAGIC, 1, struct kvbtree_req)
/** @brief Read a key's value (writes `vlen` back). */
#define KVBTREE_IOC_GET _IOWR(KVBTREE_IOC_MAGIC, 2, struct kvbtree_req)
/** @brief Delete a key. */
#define KVBTREE_IOC_DEL _IOW(KVBTREE_IOC_MAGIC, 3, struct kvbtree_req)
/** @brief Read the tree's counters. */
#define KVBTREE_IOC_STATS _IOWR(KVBTREE_IOC_MAGIC, 4, struct kvbtree_stats)
/** @brief Drop every key of the tree. */
#define KVBTREE_IOC_CLEAR _IO(KVBTREE_IOC_MAGIC, 5)
/** @brief Copy entries in key order (writes count, used, needed, the resume key back). */
#define KVBTREE_IOC_SCAN _IOWR(KVBTREE_IOC_MAGIC, 6, struct kvbtree_scan)

#endif /* UAPI_KVBTREE_H */
