/**
 * @file error.h
 * @brief Setting the thread-local error detail that kv_last_error() returns.
 *
 * For implementers of engines and common modules. A failing function sets
 * the detail and returns the status in one statement:
 * @code
 *   if (klen > db->max_key)
 *       return kv_fail(KV_ETOOBIG, "key of %zu bytes exceeds max_key=%zu", klen, db->max_key);
 * @endcode
 * The detail lives in a thread-local buffer of KV_ERROR_MAX bytes (longer
 * messages are cut). Thread safety: each thread has its own buffer.
 */
#ifndef KVLABS_ERROR_H
#define KVLABS_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Size of the thread-local detail buffer, NUL included. */
#define KV_ERROR_MAX 256

/**
 * @brief Set this thread's error detail (printf format) and return @p status.
 * @param[in] status  the status to return, normally a KV_E* code.
 * @param[in] fmt     printf format of the detail; the result is cut to
 *                    KV_ERROR_MAX - 1 bytes.
 * @param[in] ...     the format's arguments.
 * @return @p status, unchanged.
 */
int kv_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * @brief Set the detail from an errno value: `<what>: <strerror(err)>`, or
 *        `<what>: errno <err>` when the value has no text.
 * @param[in] status  the status to return, normally a KV_E* code.
 * @param[in] err     the errno value to describe.
 * @param[in] what    the failed call and its object, e.g. "open /db/log".
 * @return @p status, unchanged.
 */
int kv_fail_errno(int status, int err, const char *what);

/**
 * @brief Map an errno value to a KV_E* status.
 * @param[in] err  the errno value.
 * @return KV_ENOTFOUND for ENOENT; KV_EFULL for ENOSPC and EDQUOT; KV_ENOMEM
 *         for ENOMEM; KV_EBUSY for EWOULDBLOCK and EEXIST; KV_EINVAL for
 *         EINVAL; KV_EIO for any other value.
 */
int kv_status_from_errno(int err);

/** @brief Clear this thread's error detail. */
void kv_clear_error(void);

#ifdef __cplusplus
}
#endif
#endif /* KVLABS_ERROR_H */
