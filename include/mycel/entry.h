/*
 * mycel/entry.h — signed entries (proto/PROTOCOL.md §2).
 *
 * An entry is the canonical encoding of [header (bin), sig (bin 64)], where
 * header is the canonical encoding of
 *   [1, feed (bin 32), seq (uint >= 1), prev (bin 32 | nil), ts_ms (uint),
 *    kind (str), body_hash (bin 32)]
 * sig = Ed25519("mycel/entry/v1\0" ‖ header), id = BLAKE2b-256("mycel/id/v1\0" ‖ header),
 * body_hash = BLAKE2b-256(body). prev is nil exactly when seq is 1.
 * A kind is 1 to 32 characters of [a-z0-9_], starting with a letter.
 *
 * Entries are small and fixed-size in memory: no function here allocates.
 */
#ifndef MYCEL_ENTRY_H
#define MYCEL_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mycel/key.h"

#define MYCEL_HASH_LEN 32
#define MYCEL_KIND_MAX 32
#define MYCEL_HEADER_MAX 160 /* largest canonical header (156 bytes) rounded up */
#define MYCEL_ENTRY_MAX 256  /* largest canonical entry (225 bytes) rounded up */
#define MYCEL_BODY_MAX (8u << 20) /* bodies are at most 8 MiB */

typedef struct mycel_header {
	uint8_t feed[MYCEL_PK_LEN];
	uint64_t seq;
	bool has_prev;
	uint8_t prev[MYCEL_HASH_LEN];
	uint64_t ts_ms;
	char kind[MYCEL_KIND_MAX + 1];
	uint8_t body_hash[MYCEL_HASH_LEN];
} mycel_header;

typedef struct mycel_entry {
	mycel_header h;
	uint8_t id[MYCEL_HASH_LEN];
	uint8_t sig[MYCEL_SIG_LEN];
	size_t header_off; /* the signed header bytes are raw[header_off .. +header_len] */
	size_t header_len;
	size_t len;                  /* length of raw */
	uint8_t raw[MYCEL_ENTRY_MAX]; /* the entry's canonical bytes */
} mycel_entry;

/* True if kind is a valid entry kind (see above). */
bool mycel_kind_valid(const char *kind);

/* body_hash = BLAKE2b-256(body). */
void mycel_body_hash(const uint8_t *body, size_t n, uint8_t out[MYCEL_HASH_LEN]);

/*
 * Encodes h's header, signs it with key and fills *out (raw bytes, id, sig).
 * EINVAL if h is not well-formed (seq 0, prev present on seq 1 or missing
 * after it, invalid kind). Does not check that key matches h->feed: a feed's
 * key may have been rotated.
 */
int mycel_entry_sign(const mycel_header *h, const mycel_key *key, mycel_entry *out);

/*
 * Strictly decodes an entry from untrusted bytes and computes its id.
 * Refuses non-canonical or malformed input with the codec's codes, EFORMAT
 * for a wrong shape (field count, lengths, seq 0, prev/seq mismatch, bad
 * kind), EVERSION for a header version other than 1, ETOOBIG beyond
 * MYCEL_ENTRY_MAX. Does not check the signature. *out is untouched on failure.
 */
int mycel_entry_decode(const uint8_t *p, size_t n, mycel_entry *out);

/* 0 if e's signature verifies under pk, MYCEL_EBADSIG otherwise. */
__attribute__((warn_unused_result)) int mycel_entry_verify(const mycel_entry *e,
							     const uint8_t pk[MYCEL_PK_LEN]);

/*
 * Checks that e may follow prev in one feed: same feed, seq = prev.seq + 1,
 * e.prev = id(prev), ts not lower. prev NULL means e must be the genesis
 * entry (seq 1). Returns 0, ECHAIN or ETS.
 */
int mycel_entry_follows(const mycel_entry *prev, const mycel_entry *e);

/* 0 if BLAKE2b-256(body) equals e's body_hash, MYCEL_EHASH otherwise. */
int mycel_entry_check_body(const mycel_entry *e, const uint8_t *body, size_t n);

/*
 * Key rotation (PROTOCOL.md §5.4): which key signs a feed, walked entry by entry from
 * genesis. init: key = feed, seq = 0. step takes the feed's next entry e (seq + 1, else
 * ECHAIN) with its body: with check_sig it verifies e's signature under key (EBADSIG); for a
 * `key` entry it checks the body {next, sig} (EFORMAT) and next's reverse signature (EBADSIG),
 * then key = next. On error the state is unchanged. After step(e), key signs e.seq + 1.
 */
typedef struct mycel_feedkey {
	uint8_t feed[MYCEL_PK_LEN];
	uint8_t key[MYCEL_PK_LEN]; /* the key that signs seq + 1 */
	uint64_t seq;              /* the last entry stepped over; 0 before genesis */
	uint64_t rotations;        /* key entries stepped over */
	uint64_t since;            /* seq of the key entry that installed key; 0: genesis key */
} mycel_feedkey;

void mycel_feedkey_init(mycel_feedkey *fk, const uint8_t feed[MYCEL_PK_LEN]);
__attribute__((warn_unused_result)) int mycel_feedkey_step(mycel_feedkey *fk, const mycel_entry *e,
							    const uint8_t *body, size_t n,
							    bool check_sig);

/*
 * Fork proofs (PROTOCOL.md §4): the canonical encoding of
 * [1, entry_a (bin), entry_b (bin)] where a and b have the same feed and seq,
 * different ids, both valid signatures under the key that signs the feed at that
 * seq (PROTOCOL.md §5.4; the caller finds it), and id(a) < id(b)
 * bytewise. mycel_fork_encode orders the two itself.
 */
#define MYCEL_FORK_MAX (2 * MYCEL_ENTRY_MAX + 16)

/* Writes the proof of a and b into out (at least MYCEL_FORK_MAX bytes); EINVAL if they do not conflict. */
int mycel_fork_encode(const mycel_entry *a, const mycel_entry *b, uint8_t *out, size_t *out_len);

/*
 * Decodes and checks a proof: strict form, both entries decode, same feed and
 * seq, ids differ and are ordered, both signatures verify under pk (the key
 * that signs that feed at that seq; the feed id for an unrotated feed).
 * On success fills *out_a and *out_b (either may be NULL).
 */
__attribute__((warn_unused_result)) int mycel_fork_verify(const uint8_t *p, size_t n,
							    const uint8_t pk[MYCEL_PK_LEN],
							    mycel_entry *out_a, mycel_entry *out_b);

#endif
