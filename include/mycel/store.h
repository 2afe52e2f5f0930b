/*
 * mycel/store.h — the LMDB store of one node.
 *
 * One LMDB environment in a directory, with named databases (PROTOCOL.md §6):
 * entries and their bodies by (feed, seq), feed heads, fork proofs, charters
 * by version, and meta. Every function that writes returns only
 * after its transaction is durably committed (LMDB's synchronous commit), so
 * an acknowledged append survives kill -9 and power loss; a batch is one
 * transaction (group commit). Nothing enters the catalog unless its feed is
 * admitted by the store's current charter, and nothing is written that does
 * not verify.
 *
 * A store may be used from several threads at once (LMDB serialises writers).
 */
#ifndef MYCEL_STORE_H
#define MYCEL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mycel/charter.h"
#include "mycel/entry.h"

typedef struct mycel_store mycel_store;

#define MYCEL_STORE_CREATE 0x1u   /* create the directory and the environment if missing */
#define MYCEL_STORE_READONLY 0x2u /* open for reading only */

/*
 * Opens (or with MYCEL_STORE_CREATE creates) the store in directory dir and
 * loads its current charter, if any. ENOTFOUND if the store does not exist
 * and CREATE was not given; ESTORE for LMDB failures (why says which).
 */
int mycel_store_open(const char *dir, unsigned flags, mycel_store **out, char *why, size_t why_len);

/* Closes the store. Accepts NULL. */
void mycel_store_close(mycel_store *s);

/*
 * Adds a charter file. With no charter yet it must be a valid genesis
 * (version 1), which also fixes the store's mesh id; otherwise it must be
 * exactly the next version and verify against the current one; what it changes
 * takes effect in the same transaction (PROTOCOL.md §3.4): a compromised feed's
 * entries beyond its cut are deleted and refused from then on (EREVOKED), and
 * the catalog is rebuilt against it (newly admitted feeds enter it, removed
 * domains' documents leave it; their entries stay in the store). Adding the
 * current version again with the same charter bytes succeeds and keeps the
 * signatures already stored. Errors: the charter's codes, with why.
 */
int mycel_store_add_charter(mycel_store *s, const uint8_t *p, size_t n, char *why, size_t why_len);

/*
 * The charter version that removed domain name: the version after the newest one that
 * binds it. ENOTFOUND when the current charter binds it or no stored version ever did.
 */
int mycel_store_domain_removed(mycel_store *s, const char *name, uint64_t *out_version);

/* The current (latest) charter, owned by the store; NULL if it has none. */
const mycel_charter *mycel_store_charter(const mycel_store *s);

/*
 * A malloc'd copy of the stored charter file of the given version (the caller frees *out),
 * exactly as it was added. ENOTFOUND when the store holds no such version.
 */
int mycel_store_charter_file(mycel_store *s, uint64_t version, uint8_t **out, size_t *out_len);

/* The mesh id (BLAKE2b-256 of the genesis charter bytes); ENOTFOUND before any charter. */
int mycel_store_mesh_id(const mycel_store *s, uint8_t out[MYCEL_HASH_LEN]);

/* One record to append: an entry kind and its body (canonical MessagePack). */
typedef struct mycel_record {
	const char *kind;
	const uint8_t *body;
	size_t body_len;
} mycel_record;

/*
 * Signs and appends n records to feed as one durable transaction (group
 * commit): seq, prev and ts_ms follow the feed's head (ts never decreases).
 * key must be the key that signs the feed now (its genesis key until a rotation,
 * PROTOCOL.md §5.4). Refuses the whole batch, writing nothing, if the feed is not
 * admitted by the current charter (EADMIT), the key does not sign the feed now
 * (EPERM), a kind is invalid or "key" (EINVAL: see mycel_store_rotate), a body is not a
 * canonical value or is larger than MYCEL_BODY_MAX (the codec's code), or the
 * feed is forked (EFORK). On success fills out[0..n-1] if out is not NULL.
 */
int mycel_store_append(mycel_store *s, const mycel_key *key, const uint8_t feed[MYCEL_PK_LEN],
		       const mycel_record *recs, size_t n, mycel_entry *out);

/* An entry received from elsewhere, with its body, both untrusted bytes. */
typedef struct mycel_blob {
	const uint8_t *entry;
	size_t entry_len;
	const uint8_t *body;
	size_t body_len;
} mycel_blob;

typedef struct mycel_ingest_result {
	size_t accepted;  /* new entries stored */
	size_t duplicate; /* entries already held (same id), skipped */
	size_t failed_at; /* index of the first refused item, or n */
	int code;         /* its error, or 0 */
	bool fork_stored; /* a fork proof was stored for it */
} mycel_ingest_result;

/*
 * Verifies and stores entries from untrusted input, in order, in one durable
 * transaction. Each must decode strictly, belong to an admitted feed, carry a
 * valid signature, follow its feed's head (seq, prev, ts), and come with a
 * body that matches its hash and is canonical. Processing stops at the first
 * refused item; everything accepted before it is committed. An entry that
 * conflicts with a stored one at the same (feed, seq) is refused with EFORK
 * and the pair is stored as a fork proof. The catalog's posting lists are
 * updated once per batch, just before the commit: if that fails (ENOMEM, or
 * the map is full), the whole batch is abandoned, nothing of it (fork proof
 * included) is committed, res->accepted is 0, res->failed_at 0 and the error
 * is returned. Returns 0 when every item was accepted or duplicate, else the
 * refused item's code (also in *res).
 */
int mycel_store_ingest(mycel_store *s, const mycel_blob *items, size_t n,
		       mycel_ingest_result *res);

/* What became of one item of a group ingest (mycel_ingest_group.states). */
typedef enum mycel_ingest_state {
	MYCEL_INGEST_REFUSED = 0, /* not stored: refused, a gap, or after one in its feed */
	MYCEL_INGEST_NEW = 1,     /* stored */
	MYCEL_INGEST_KNOWN = 2,   /* already held (same id) */
	MYCEL_INGEST_FORK = 3,    /* conflicts with the stored entry there: not stored, proof stored */
} mycel_ingest_state;

/* A fork proof received as its two entries (bodies may be absent and are not used). */
typedef struct mycel_fork_pair {
	mycel_blob a, b;
} mycel_fork_pair;

/*
 * One independent request of a group ingest (mycel_store_ingest_groups): entries and fork
 * proofs from one peer message. Inputs first, then results filled by the call.
 */
typedef struct mycel_ingest_group {
	const mycel_blob *items;
	size_t n;
	const mycel_fork_pair *forks;
	size_t n_forks;
	/*
	 * The caller has already checked every item's strict decoding, signature, body hash and
	 * canonical body (and both signatures of every proof), on its own threads: the store
	 * does not check them again. Chain, timestamps, admission and forks are always checked.
	 */
	bool verified;
	/*
	 * With verified: NULL when every item's signature verified under its feed id (the
	 * genesis key), else n flags, 1 where it did not (checked by the store under the key
	 * that signs its feed at its seq). Without verified the store checks every signature.
	 * The store always checks that the key that verified is the one that signs the feed at
	 * that seq (PROTOCOL.md §5.4), and a key entry's reverse signature.
	 */
	const uint8_t *sig_unchecked;
	uint8_t *states;      /* NULL, or n bytes: each item's mycel_ingest_state */
	uint8_t *fork_states; /* NULL, or n_forks bytes: 1 for a proof stored by this call */
	/* results */
	size_t accepted;  /* items stored */
	size_t duplicate; /* items already held */
	size_t refused;   /* items not stored: the refused one and the rest of its feed */
	size_t forks_stored; /* fork proofs newly stored (received ones and conflicts found) */
	bool gap;         /* an item did not follow its feed's head (seq > head + 1) */
	int code;         /* the first refusal's MYCEL_E... code, 0 if none (a gap is none) */
	size_t failed_at; /* index of that item (n + i for proof i), or n + n_forks */
	char why[256];    /* that refusal in a sentence naming feed and seq, "" if none */
} mycel_ingest_group;

/*
 * Ingests n independent groups in ONE durable transaction (group commit). Within a group,
 * items are taken in order; an item that is refused (or does not follow its feed's head:
 * a gap) stops its feed for the rest of that group only: the group's other feeds and the
 * other groups go on. An item conflicting with a stored entry is refused with EFORK and the
 * pair stored as a fork proof; every later item of a forked feed is refused with EFORK. A
 * received proof is stored when its two entries decode, have the same feed and seq and
 * different ids, both signatures verify under the key that signs the feed at that seq (as far
 * as the store holds the feed, PROTOCOL.md §5.4) and the feed is admitted —
 * even when the store holds neither entry; otherwise it is refused (code, why) and nothing
 * of it stored. Returns 0 when the transaction committed (each group's outcome in it, its
 * refusals included), or the error (ENOMEM, ESTORE: LMDB) that abandoned the whole
 * transaction: then nothing is stored and every group reports accepted 0 and that code.
 */
int mycel_store_ingest_groups(mycel_store *s, mycel_ingest_group *groups, size_t n);

/*
 * Calls fn for each stored fork proof of feed (of every feed when feed is NULL), in feed
 * and seq order, with the proof's canonical bytes (PROTOCOL.md §4), valid only during the
 * call. A non-zero return from fn stops and is returned.
 */
typedef int (*mycel_fork_fn)(void *ctx, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
			     const uint8_t *proof, size_t proof_len);
int mycel_store_forks(mycel_store *s, const uint8_t *feed, mycel_fork_fn fn, void *ctx);

/*
 * The public key that signs feed at seq (PROTOCOL.md §5.4): the next key of the last key
 * entry the store holds below seq, or the feed id itself when there is none. A store that
 * does not hold the feed up to seq - 1 answers from what it holds. 0, or ESTORE.
 */
int mycel_store_feed_key(mycel_store *s, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
			 uint8_t out_key[MYCEL_PK_LEN]);

/*
 * The seqs of feed's key entries (PROTOCOL.md §5.4) that the store holds, in order, at most
 * max of them, into out; *out_n gets their number. 0, or ESTORE.
 */
int mycel_store_key_seqs(mycel_store *s, const uint8_t feed[MYCEL_PK_LEN], uint64_t *out,
			 size_t max, size_t *out_n);

/*
 * Rotates feed's signing key (PROTOCOL.md §5.4): appends, as one durable transaction, the
 * key entry at the feed's next seq, signed by key (which must sign the feed now: EPERM
 * otherwise), whose body names next and carries next's reverse signature. Later appends
 * must be signed by next. EADMIT, EFORK, EINVAL (next equals key) as mycel_store_append;
 * nothing is written on failure. On success fills *out if not NULL.
 */
int mycel_store_rotate(mycel_store *s, const mycel_key *key, const uint8_t feed[MYCEL_PK_LEN],
		       const mycel_key *next, mycel_entry *out);

/* The head of a feed: its last seq and id. ENOTFOUND for an unknown feed. */
int mycel_store_head(mycel_store *s, const uint8_t feed[MYCEL_PK_LEN], uint64_t *out_seq,
		     uint8_t out_id[MYCEL_HASH_LEN]);

/* Reads and decodes the entry at (feed, seq). ENOTFOUND, ECORRUPT. */
int mycel_store_get(mycel_store *s, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
		    mycel_entry *out);

/* A malloc'd copy of the body of the entry at (feed, seq) (caller frees). ENOTFOUND. */
int mycel_store_get_body(mycel_store *s, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
			 uint8_t **out, size_t *out_len);

/*
 * Calls fn for each entry of feed from seq `from` on, in order, inside one
 * read transaction: body points into the store and is valid only during the
 * call (NULL with body_len 0 if missing). A non-zero return from fn stops the
 * scan and is returned. Entries that fail to decode are reported as ECORRUPT.
 */
typedef int (*mycel_scan_fn)(void *ctx, const mycel_entry *e, const uint8_t *body,
			     size_t body_len);
int mycel_store_scan(mycel_store *s, const uint8_t feed[MYCEL_PK_LEN], uint64_t from,
		     mycel_scan_fn fn, void *ctx);

/* Calls fn for each feed the store holds, in feed order, with its head. */
typedef int (*mycel_feed_fn)(void *ctx, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
			     const uint8_t id[MYCEL_HASH_LEN]);
int mycel_store_feeds(mycel_store *s, mycel_feed_fn fn, void *ctx);

/*
 * Copies into dst everything src holds that dst lacks, as if it had come from
 * a peer: newer charter versions first (each verified against the one before),
 * then every feed's missing entries through mycel_store_ingest (so every
 * signature, chain link, body and admission is checked again), in batches.
 * Both stores must belong to the same mesh (ECHARTER otherwise, with why).
 * What dst's charter no longer takes is skipped, not refused: entries beyond a
 * compromised feed's cut, and the feed of a domain an earlier version admitted.
 * Stops at the first refusal, reporting it in why with its feed and seq; what
 * was accepted before it stays.
 */
typedef struct mycel_pull_stats {
	size_t charters, feeds, accepted, duplicate;
} mycel_pull_stats;
int mycel_store_pull(mycel_store *dst, mycel_store *src, mycel_pull_stats *out, char *why,
		     size_t why_len);

/* Number of fork proofs stored (0 if none). */
int mycel_store_fork_count(mycel_store *s, size_t *out);

/*
 * Full verification of everything stored (what `mycel verify` runs): the
 * charter chain from genesis, the mesh id, and for every entry its decoding,
 * feed admission, signature, chain link, ts order, body presence, body hash
 * and canonical form, each feed's head, that every body belongs to an entry,
 * every fork proof. Each problem is reported through fn with the feed and seq
 * (zero feed and seq 0 for store-wide problems), its code and a sentence;
 * verification goes on after a problem. *out_problems gets the count.
 */
typedef struct mycel_problem {
	const char *what;     /* "entry", "body", "charter", "head", "fork", "meta" */
	bool has_feed;
	uint8_t feed[MYCEL_PK_LEN];
	uint64_t seq;
	int code;
	const char *message;
} mycel_problem;
typedef void (*mycel_problem_fn)(void *ctx, const mycel_problem *p);

typedef struct mycel_verify_stats {
	size_t charters, feeds, entries, bodies, forks, problems;
} mycel_verify_stats;

int mycel_store_verify(mycel_store *s, mycel_problem_fn fn, void *ctx, mycel_verify_stats *out);

#endif
