/**
 * @file raft_net.h
 * @brief The wire of a Raft cluster on real processes: frames, the encoding
 *        of Raft messages, and the client protocol (distributed/net/).
 *
 * **Frames.** Every byte on a kvnode connection (peer to peer, client to
 * node) travels in a frame:
 *
 *     [u8 version = 1][u8 type][u16 reserved = 0][u32 length][u32 crc32c]
 *     [length bytes of payload]
 *
 * little-endian, the CRC (kv_crc32c()) over the payload alone. A receiver
 * gives kvn_frame_parse() the bytes it has; it answers "need more", "a
 * frame", or an error: a wrong version, a non-zero reserved field, an
 * unknown type, a length above the receiver's limit (KV_ETOOBIG, decided
 * from the header alone, before any payload is buffered) or a bad CRC
 * (KV_ECORRUPT). On an error the receiver closes that one connection and
 * nothing else: a frame is never partly trusted.
 *
 * **Payloads.** A Raft message (KVN_RAFT) is the fixed-width encoding
 * raft_msg_size() counts; a client request (KVN_REQ) carries a session id
 * and a sequence number (exactly-once retries), the keyspace, the key and
 * the value; the response (KVN_RESP) a kind (done, not leader, retry), a KV
 * status, the leader's id when known and a value. An admin request
 * (KVN_ADMIN, `kvctl cluster add/remove`) asks the leader for a membership
 * change and is answered by a KVN_RESP whose value is a message for a
 * person. docs/formats/kvnode.md lays every payload out byte by byte and
 * says when the version byte changes. Decoders check every
 * length against what is left and against the key and value limits, and
 * return KV_ECORRUPT or KV_ETOOBIG without reading past the payload.
 *
 * Callers must not keep pointers into a request after the receive buffer
 * it was decoded from changes: kvn_req fields point into the payload.
 *
 * **Thread safety.** Pure functions on caller-owned buffers.
 */
#ifndef KVLABS_RAFT_NET_H
#define KVLABS_RAFT_NET_H

#include <stddef.h>
#include <stdint.h>

#include "raft.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief The frame format version this code speaks. */
#define KVN_VERSION 1
/** @brief Size of a frame header. */
#define KVN_HDR 12
/** @brief Default largest frame payload a receiver accepts (16 MiB). */
#define KVN_MAX_FRAME (16u << 20)
/** @brief Largest key (bytes, keyspace not included). */
#define KVN_MAX_KEY 65536u
/** @brief Largest value. */
#define KVN_MAX_VALUE (1u << 20)
/** @brief Largest keyspace name. */
#define KVN_MAX_KEYSPACE 1024u
/** @brief Largest internal key of a node's state machine, a cowbtree store
 *         of 16 KiB pages (kvnode_sm.c): 4 + keyspace + key bytes, so the
 *         client engine raft lowers its key limit by 4 + keyspace. */
#define KVN_SM_MAX_KEY 1024u
/** @brief Largest value a node's state machine holds (cowbtree's limit). */
#define KVN_SM_MAX_VALUE 7140u

/** @brief Frame types. */
typedef enum kvn_type {
    KVN_RAFT = 1, /**< a raft_msg between peers */
    KVN_REQ = 2,  /**< a client request */
    KVN_RESP = 3, /**< the answer to a request or an admin request */
    KVN_ADMIN = 4 /**< a membership change, answered by a KVN_RESP */
} kvn_type;

/** @brief Membership changes of an admin request. */
typedef enum kvn_admin_op {
    KVN_ADMIN_ADD = 1,   /**< make the node a voter: added as a learner, promoted once caught up */
    KVN_ADMIN_REMOVE = 2 /**< take the node out of the configuration (voter or learner) */
} kvn_admin_op;

/** @brief Payload size of an admin request: [u8 op][u32 node][u32 timeout_ms]. */
#define KVN_ADMIN_LEN 9

/** @brief An admin request. */
typedef struct kvn_admin {
    uint8_t op;          /**< a kvn_admin_op */
    uint32_t node;       /**< the node (its line in the cluster file, from 0), < RAFT_MAX_NODES */
    uint32_t timeout_ms; /**< how long the leader may work on it before it answers (>= 1) */
} kvn_admin;

/** @brief Client operations. */
typedef enum kvn_op {
    KVN_GET = 1,    /**< linearizable read (ReadIndex) */
    KVN_PUT = 2,    /**< write through the log */
    KVN_DEL = 3,    /**< delete through the log */
    KVN_STATUS = 4, /**< the node's view: a text line in the value */
    KVN_SCAN = 5    /**< linearizable read of up to `seq` pairs of a keyspace with key > `key` */
} kvn_op;

/** @brief Kinds of response. */
typedef enum kvn_kind {
    KVN_DONE = 0,      /**< status is the operation's KV status */
    KVN_NOTLEADER = 1, /**< ask leader (RAFT_NONE: unknown) */
    KVN_RETRY = 2      /**< the leader lost the command or is busy: retry, same seq */
} kvn_kind;

/** @brief A decoded frame header. */
typedef struct kvn_frame {
    uint8_t type;           /**< a kvn_type */
    uint32_t len;           /**< payload length */
    const uint8_t *payload; /**< points into the parsed buffer */
} kvn_frame;

/** @brief A client request; pointers refer into the payload. */
typedef struct kvn_req {
    uint8_t op;            /**< a kvn_op */
    uint64_t session;      /**< the client's session id (non-zero for writes) */
    uint64_t seq;          /**< its sequence number (writes: 1, 2, ...; SCAN: the limit) */
    const uint8_t *ks;     /**< the keyspace */
    uint32_t ks_len;       /**< its length, 0 .. KVN_MAX_KEYSPACE */
    const uint8_t *key;    /**< the key */
    uint32_t klen;         /**< its length, 0 .. KVN_MAX_KEY */
    const uint8_t *val;    /**< the value (PUT) */
    uint32_t vlen;         /**< its length, 0 .. KVN_MAX_VALUE */
} kvn_req;

/** @brief A response; val refers into the payload. */
typedef struct kvn_resp {
    uint8_t kind;       /**< a kvn_kind */
    int32_t status;     /**< KVN_DONE: a KV status */
    uint32_t leader;    /**< the leader known to the node, or RAFT_NONE */
    const uint8_t *val; /**< GET: the value; STATUS: text; SCAN: pairs */
    uint32_t vlen;      /**< its length */
} kvn_resp;

/**
 * @brief Parse the frame at the start of @p buf.
 * @param[in]  buf, n     the bytes received so far.
 * @param[in]  max_len    the largest payload accepted.
 * @param[out] f          the frame (when 1 is returned).
 * @param[out] used       bytes the frame occupies (when 1 is returned).
 * @return 1 (a frame), 0 (need more bytes), KV_ECORRUPT (bad version,
 *         reserved field, type or CRC), KV_ETOOBIG (length above max_len).
 */
int kvn_frame_parse(const uint8_t *buf, size_t n, uint32_t max_len, kvn_frame *f, size_t *used);

/**
 * @brief Write a frame header for a payload already in place after it.
 * @param[out] hdr   KVN_HDR bytes, followed by @p len bytes of payload.
 * @param[in]  type  a kvn_type.
 * @param[in]  len   payload length.
 */
void kvn_frame_seal(uint8_t *hdr, uint8_t type, uint32_t len);

/** @brief Payload size of a Raft message (equals raft_msg_size()).
 *  @param[in] m the message. @return the size. */
size_t kvn_msg_size(const raft_msg *m);

/** @brief Encode a Raft message.
 *  @param[in] m the message. @param[out] out kvn_msg_size(m) bytes. */
void kvn_msg_encode(const raft_msg *m, uint8_t *out);

/**
 * @brief Decode a Raft message (allocates entries and chunk with kv_malloc).
 * @param[in]  p, n  the payload.
 * @param[out] m     the message; free with raft_msg_free() on success.
 * @return KV_OK, KV_ECORRUPT (truncated, trailing bytes, bad type or
 *         entry type), KV_ENOMEM. On failure nothing needs freeing.
 */
int kvn_msg_decode(const uint8_t *p, size_t n, raft_msg *m);

/** @brief Payload size of a request. @param[in] r the request. @return the size. */
size_t kvn_req_size(const kvn_req *r);
/** @brief Encode a request. @param[in] r the request. @param[out] out kvn_req_size(r) bytes. */
void kvn_req_encode(const kvn_req *r, uint8_t *out);
/**
 * @brief Decode a request in place.
 * @param[in]  p, n  the payload.
 * @param[out] r     the request (points into p).
 * @return KV_OK, KV_ECORRUPT (truncated, trailing bytes, unknown op),
 *         KV_ETOOBIG (keyspace, key or value above its limit).
 */
int kvn_req_decode(const uint8_t *p, size_t n, kvn_req *r);

/** @brief Payload size of a response. @param[in] r the response. @return the size. */
size_t kvn_resp_size(const kvn_resp *r);
/** @brief Encode a response. @param[in] r the response. @param[out] out kvn_resp_size(r) bytes. */
void kvn_resp_encode(const kvn_resp *r, uint8_t *out);
/**
 * @brief Decode a response in place.
 * @param[in]  p, n  the payload.
 * @param[out] r     the response (points into p).
 * @return KV_OK or KV_ECORRUPT.
 */
int kvn_resp_decode(const uint8_t *p, size_t n, kvn_resp *r);

/** @brief Encode an admin request.
 *  @param[in] a the request. @param[out] out KVN_ADMIN_LEN bytes. */
void kvn_admin_encode(const kvn_admin *a, uint8_t out[KVN_ADMIN_LEN]);
/**
 * @brief Decode an admin request.
 * @param[in]  p, n  the payload.
 * @param[out] a     the request.
 * @return KV_OK, or KV_ECORRUPT (a length other than KVN_ADMIN_LEN, an
 *         unknown op, a node >= RAFT_MAX_NODES, a zero timeout).
 */
int kvn_admin_decode(const uint8_t *p, size_t n, kvn_admin *a);

/**
 * @brief Read a cluster file: one "host:port" per line (node i on line i+1);
 *        blank lines and lines starting with '#' are skipped.
 * @param[in]  path   the file.
 * @param[out] addrs  n_out strings of at most 127 characters.
 * @param[out] n_out  the number of nodes, 1 .. RAFT_MAX_NODES.
 * @return KV_OK, KV_EIO (unreadable), KV_EINVAL (no node, too many, a line
 *         too long or without a port), with kv_last_error() set.
 */
int kvn_cluster_read(const char *path, char addrs[RAFT_MAX_NODES][128], uint32_t *n_out);

/**
 * @brief Split "host:port" into a resolved IPv4 socket address.
 * @param[in]  addr  the address ("localhost" and dotted quads).
 * @param[out] sa    a struct sockaddr_in (passed as void * to keep this
 *                   header free of socket headers).
 * @return KV_OK or KV_EINVAL.
 */
int kvn_addr_parse(const char *addr, void *sa);

struct kv_db;

/**
 * @brief Ask one node of a cluster for its status line (engine `raft`;
 *        what `kvctl cluster status` prints): "id= role= term= leader=
 *        commit= applied= last= snap= match=a,b,c" (match indexes are
 *        known at the leader only, 0 elsewhere).
 * @param[in]  db    a handle opened with engine "raft".
 * @param[in]  node  the node (its line in the cluster file, from 0).
 * @param[out] out   the line, NUL-terminated.
 * @param[in]  cap   size of out.
 * @return KV_OK, KV_EINVAL (no such node), KV_EIO (unreachable).
 */
int kv_raft_node_status(struct kv_db *db, uint32_t node, char *out, size_t cap);

/**
 * @brief Change the cluster's membership (engine `raft`; what `kvctl
 *        cluster add/remove NODE` runs): an admin request sent to the
 *        leader (redirects followed as for any call) until it answers or
 *        @p timeout_ms runs out.
 *
 * ADD makes @p node a voter: the leader adds it as a learner, waits until
 * it has caught up, then promotes it; a node that is already a voter is
 * success with nothing done. REMOVE takes the node out. Both are goals the
 * leader checks against the current configuration, so a retry (the leader
 * changed, a reply was lost) finishes the change rather than repeating
 * it; after such a retry "not a member" means the removal is done and
 * counts as success. The node's address must be in the cluster file (its
 * line node + 1) of both this handle and the nodes; see
 * distributed/node/README.md.
 *
 * @param[in]  db          a handle opened with engine "raft".
 * @param[in]  op          a kvn_admin_op.
 * @param[in]  node        the node.
 * @param[in]  timeout_ms  the whole budget (the leader answers within it).
 * @param[out] msg         the leader's message (e.g. "node 3 is a voter"),
 *                         NUL-terminated; may be NULL.
 * @param[in]  cap         size of msg.
 * @return KV_OK; KV_EINVAL (no such node in the cluster file, or a change
 *         the leader refuses: e.g. removing the last voter); KV_ENOTFOUND
 *         (remove: not a member); KV_EBUSY (another change is in flight,
 *         the learner did not catch up in time, or no leader answered in
 *         time); KV_EIO. The reason is in kv_last_error().
 */
int kv_raft_change_member(struct kv_db *db, int op, uint32_t node, unsigned timeout_ms, char *msg,
                          size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* KVLABS_RAFT_NET_H */
