/*
 * sstable_int.h — the private header of the sstable part: the on-disk
 * constants of docs/formats/sstable.md, varints, little-endian stores, and
 * the block builder the table builder uses.
 *
 * Layers of the part, lowest first (calls go only downward):
 *   sstable_key.c      internal-key comparison and the key-compare hook
 *   sstable_bloom.c    the blocked bloom filter and its probe hook
 *   sstable_compress.c per-block LZ4 / Zstandard compression
 *   sstable_block.c    the block builder (restart points, prefix
 *                      compression) and the block iterator (decode, seek)
 *   sstable_builder.c  the table builder: data blocks, filter, index, footer
 *   sstable_reader.c   the table reader: footer, index, filter, get, iterator
 *
 * Callers must not hand a block iterator bytes they have not checksummed
 * unless they are ready for KV_ECORRUPT: the iterator checks lengths, not
 * content.
 */
#ifndef LSM_SSTABLE_INT_H
#define LSM_SSTABLE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/engine.h"
#include "kvlabs/error.h"
#include "kvlabs/hash.h"
#include "sstable.h"

/* docs/formats/sstable.md */
#define LSM_TABLE_MAGIC UINT64_C(0x4b564c534d544231) /* "1BTMSLVK" on disk: "KVLSMTB1" read LE */
#define LSM_TABLE_VERSION 1u
#define LSM_FOOTER_SIZE 56u
#define LSM_BLOCK_TRAILER 5u /* type byte + CRC32C */
#define LSM_BLOCK_MAX (64u << 20) /* no block may claim more than 64 MiB */

static inline void lsm_put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void lsm_put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* LEB128 varint of at most 32 bits (5 bytes): returns bytes written. */
static inline size_t lsm_put_varint32(uint8_t *p, uint32_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Decode a varint32 from [p, end): the byte after it, or NULL when it is cut
 * short or longer than 5 bytes. */
static inline const uint8_t *lsm_get_varint32(const uint8_t *p, const uint8_t *end, uint32_t *v)
{
    uint32_t r = 0;
    for (unsigned shift = 0; shift <= 28 && p < end; shift += 7) {
        uint32_t b = *p++;
        if (shift == 28 && b > 0x0f)
            return NULL;
        r |= (b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return p;
        }
    }
    return NULL;
}

/* A growable byte buffer (kv_malloc'd). borrowed: p is the caller's buffer
 * of cap bytes (a stack array), never freed; growing past it moves the
 * bytes to a kv_malloc'd buffer and clears the flag. */
typedef struct lsm_bytes {
    uint8_t *p;
    size_t n, cap;
    bool borrowed;
} lsm_bytes;

/* Make room for `more` bytes: KV_OK or KV_ENOMEM (unchanged). */
int lsm_bytes_reserve(lsm_bytes *b, size_t more);
/* Append: KV_OK or KV_ENOMEM (unchanged). */
int lsm_bytes_append(lsm_bytes *b, const void *p, size_t n);

/* The block builder: entries are shared-prefix compressed against the
 * previous key, with a full key every restart_every entries. */
typedef struct lsm_block_builder {
    lsm_bytes buf;       /* entries so far */
    uint32_t *restarts;  /* offsets of the restart points */
    size_t nrestarts, caprestarts;
    unsigned restart_every, since_restart;
    lsm_bytes last;      /* the last key added */
    size_t entries;
} lsm_block_builder;

void lsm_block_builder_init(lsm_block_builder *bb, unsigned restart_every);
void lsm_block_builder_free(lsm_block_builder *bb);
/* Start a new block (keeps the memory). */
void lsm_block_builder_reset(lsm_block_builder *bb);
/* Append an entry (keys strictly increasing, checked by the caller). */
int lsm_block_builder_add(lsm_block_builder *bb, const void *k, size_t kn, const void *v,
                          size_t vn);
/* Bytes the finished block would have (before its trailer). */
size_t lsm_block_builder_estimate(const lsm_block_builder *bb);
/* Append the restart array; bb->buf then holds the finished block. */
int lsm_block_builder_finish(lsm_block_builder *bb);

/* A block iterator in the caller's storage (lsm_block_iter_init): what
 * lsm_block_iter allocates, so that a point lookup keeps its two (index and
 * data block) on the stack and, while keys fit keybuf, allocates nothing.
 * Its ops are lsm_block_iter's, except close: use lsm_block_iter_fini. */
typedef struct lsm_block_it {
    lsm_iter base;
    const uint8_t *data;   /* the block */
    bool own;
    size_t limit;          /* end of the entries = start of the restart array */
    uint32_t nrestarts;
    size_t cur, next;      /* offset of the current entry and of the one after it */
    lsm_bytes key;         /* the current key, rebuilt */
    const uint8_t *val;
    uint32_t vlen;
    bool valid;
    int status;
} lsm_block_it;

/* lsm_block_iter into *bi, the current key kept in keybuf (keycap bytes)
 * while it fits. Same checks and returns (KV_ECORRUPT; with own, data is
 * freed on failure); nothing to undo on failure. */
int lsm_block_iter_init(lsm_block_it *bi, const void *data, size_t n, bool own, uint8_t *keybuf,
                        size_t keycap);
/* Release what an iterator made by lsm_block_iter_init holds. */
void lsm_block_iter_fini(lsm_block_it *bi);

/* sstable_compress.c: compress a block's contents with codec into out
 * (reset first). *used: whether to store the compressed form (it saves at
 * least 1/8; never for NONE or blocks under 64 bytes). KV_OK; KV_EINVAL
 * (unknown codec); KV_ENOMEM. */
int lsm_block_compress(lsm_compression codec, const uint8_t *p, size_t n, lsm_bytes *out,
                       bool *used);
/* Decompress a stored block of the given trailer type (LZ4 or ZSTD) into a
 * new kv_malloc'd buffer. KV_OK; KV_ECORRUPT (unknown type, bad size, a
 * frame that does not decompress to its stated size); KV_ENOMEM. */
int lsm_block_decompress(unsigned type, const uint8_t *p, size_t n, uint8_t **out, size_t *outn);

#endif /* LSM_SSTABLE_INT_H */
