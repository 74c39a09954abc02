/**
 * @file raft_lincheck.h
 * @brief A linearizability checker for key-value histories (Wing and Gong's
 *        search with Lowe's memoization, partitioned per key as Porcupine
 *        does).
 *
 * A history is a set of operations, each with the time it was invoked and
 * the time its response arrived, on a map from byte-string keys to
 * byte-string values: put (always succeeds), get (found with a value, or
 * KV_ENOTFOUND) and delete (KV_OK if the key was present, KV_ENOTFOUND if
 * not). It is linearizable when every operation can be given a point
 * between its invocation and its response such that the operations, run
 * in the order of their points against a plain map, give the responses
 * observed.
 *
 * An operation whose outcome is unknown (a client timed out) has
 * ret = RAFT_LC_UNKNOWN: it may have taken effect at any point after its
 * invocation, or never; its result is not checked.
 *
 * Operations on different keys never constrain each other (a map is a
 * product of registers, and linearizability is compositional), so each
 * key's sub-history is checked alone: that turns one exponential search
 * into many small ones.
 *
 * Time is any monotonic unit; intervals are closed: an operation invoked
 * at the time another returned may be ordered either way.
 *
 * **Thread safety.** Reentrant: no global state.
 */
#ifndef KVLABS_RAFT_LINCHECK_H
#define KVLABS_RAFT_LINCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief The response time of an operation whose outcome is unknown. */
#define RAFT_LC_UNKNOWN UINT64_MAX

/** @brief Operation kinds. */
typedef enum raft_lc_kind { RAFT_LC_PUT, RAFT_LC_GET, RAFT_LC_DELETE } raft_lc_kind;

/** @brief One operation of a history. */
typedef struct raft_lc_op {
    uint8_t kind;      /**< a raft_lc_kind */
    const void *key;   /**< the key (not copied: must outlive the call) */
    size_t klen;       /**< its length */
    const void *val;   /**< PUT: the value written; GET: the value read (when found) */
    size_t vlen;       /**< its length */
    int result;        /**< GET, DELETE: 0 or KV_ENOTFOUND (PUT: ignored) */
    uint64_t call;     /**< invocation time */
    uint64_t ret;      /**< response time (>= call), or RAFT_LC_UNKNOWN */
} raft_lc_op;

/** @brief The verdict. */
typedef struct raft_lc_result {
    bool linearizable;   /**< the verdict (false also when the budget ran out) */
    bool exhausted;      /**< the search hit max_states before deciding */
    size_t bad_op;       /**< not linearizable: an operation of the first failing key */
    size_t partitions;   /**< number of keys */
    uint64_t states;     /**< search states explored */
} raft_lc_result;

/**
 * @brief Check a history.
 * @param[in]  ops, n      the operations (any order).
 * @param[in]  max_states  give up after exploring this many states (0: 10^7).
 * @param[out] res         the verdict.
 * @return 0 (see res), KV_EINVAL (an op with ret < call or a bad kind),
 *         or KV_ENOMEM.
 */
int raft_lincheck(const raft_lc_op *ops, size_t n, uint64_t max_states, raft_lc_result *res);

#ifdef __cplusplus
}
#endif
#endif /* KVLABS_RAFT_LINCHECK_H */
