/* SPDX-License-Identifier: MIT */
/**
 * @file kvhash.h
 * @brief The user/kernel interface of `/dev/kvhash`: the sprint-2 hash table
 *        as a character device (kernel/hash_device.c), driven by ioctls.
 *
 * **What this is.** The only header shared by the kernel module and user
 * space (the `kdev` engine, the in-VM tests). It uses the kernel's fixed-size
 * types (`__u32`, `__u64`) so both sides agree on every offset, and it holds
 * no pointer types: user addresses travel as `__u64`, so a 32-bit process
 * and a 64-bit kernel would read the same layout.
 *
 * **Versioning.** Every struct starts with `size`, which the caller sets to
 * `sizeof` the struct it was compiled with. The device refuses any other
 * size with `EINVAL`; a later version that grows a struct at its end can then
 * tell old callers from new ones. `flags` must be 0 (reserved; `EINVAL`).
 *
 * **Commands** (all return 0 or -1 with errno):
 *   - #KVHASH_IOC_PUT   insert or replace `key` with `val` (`vlen` bytes;
 *                       0 is allowed);
 *   - #KVHASH_IOC_GET   read `key`'s value into `val`, a buffer of `vlen`
 *                       bytes; on return `vlen` holds the value's length.
 *                       A buffer too small fails with `ENOSPC` and still
 *                       writes the needed length to `vlen`; `val` may be 0
 *                       when `vlen` is 0 (a length query);
 *   - #KVHASH_IOC_DEL   delete `key` (`ENOENT` if absent);
 *   - #KVHASH_IOC_STATS fill a struct kvhash_stats;
 *   - #KVHASH_IOC_CLEAR drop every key of this table (no argument).
 *
 * **Errors.** `EINVAL`: a wrong `size`, non-zero `flags`, a key of length 0;
 * `EFAULT`: an address user space cannot read or write; `E2BIG`: a key above
 * #KVHASH_MAX_KEY or a value above the device's `max_value` parameter
 * (at most #KVHASH_MAX_VALUE); `ENOSPC`: a GET buffer too small;
 * `ENOENT`: no such key; `ENOMEM`: out of memory or above the module's
 * memory cap (the table is unchanged); `ENOTTY`: an unknown command.
 *
 * **Callers must not** assume the device copies more than `vlen` bytes back
 * (it copies exactly the value's length), or share one `struct kvhash_req`
 * between threads during a call (the device writes `vlen` back).
 */
#ifndef UAPI_KVHASH_H
#define UAPI_KVHASH_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <linux/ioctl.h>
#include <linux/types.h>
#endif

/** @brief The device node's name under /dev. */
#define KVHASH_DEVICE_NAME "kvhash"
/** @brief The longest key the device accepts, in bytes. */
#define KVHASH_MAX_KEY 1024u
/** @brief The largest value the device can be configured for (module
 *  parameter `max_value`, default 1 MiB), in bytes. */
#define KVHASH_MAX_VALUE (16u << 20)

/** @brief One key operation (PUT, GET, DEL). */
struct kvhash_req {
	__u32 size;  /**< sizeof(struct kvhash_req): the version */
	__u32 flags; /**< must be 0 */
	__u64 key;   /**< user address of the key bytes */
	__u64 val;   /**< user address of the value (PUT: source; GET: buffer) */
	__u32 klen;  /**< key length, 1..KVHASH_MAX_KEY */
	__u32 vlen;  /**< PUT: value length; GET in: buffer size, out: value length */
};

/** @brief The table's counters (STATS). */
struct kvhash_stats {
	__u32 size;      /**< sizeof(struct kvhash_stats): the version */
	__u32 flags;     /**< must be 0 */
	__u64 keys;      /**< live keys */
	__u64 bytes;     /**< live key plus value bytes */
	__u64 mem_bytes; /**< this table's memory footprint */
	__u64 capacity;  /**< slots of the table's arrays */
	__u64 resizes;   /**< resizes started since the table was made */
	__u64 module_mem; /**< bytes the whole module holds (what the cap limits) */
	__u64 mem_cap;   /**< the module's memory cap in bytes (0: none) */
};

/** @brief The ioctl type byte of the device. */
#define KVHASH_IOC_MAGIC 0xB7
/** @brief Insert or replace a key. */
#define KVHASH_IOC_PUT _IOW(KVHASH_IOC_MAGIC, 1, struct kvhash_req)
/** @brief Read a key's value (writes `vlen` back). */
#define KVHASH_IOC_GET _IOWR(KVHASH_IOC_MAGIC, 2, struct kvhash_req)
/** @brief Delete a key. */
#define KVHASH_IOC_DEL _IOW(KVHASH_IOC_MAGIC, 3, struct kvhash_req)
/** @brief Read the table's counters. */
#define KVHASH_IOC_STATS _IOWR(KVHASH_IOC_MAGIC, 4, struct kvhash_stats)
/** @brief Drop every key of the table. */
#define KVHASH_IOC_CLEAR _IO(KVHASH_IOC_MAGIC, 5)

#endif /* UAPI_KVHASH_H */
