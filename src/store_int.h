/* store_int.h — the store's private layout, shared by store.c and verify.c. */
#ifndef MYCEL_STORE_INT_H
#define MYCEL_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>

#include "mycel/codec.h"
#include "mycel/policy.h"
#include "mycel/store.h"

#define MYCEL__FEEDSEQ_LEN (MYCEL_PK_LEN + 8)
#define MYCEL__HEAD_LEN (8 + MYCEL_HASH_LEN + 8) /* seq ‖ id ‖ ts_ms */
#define MYCEL__RETIRED_MAX 64 /* replaced charters kept alive; older ones are freed */

/* The derived catalog tables (layout in catalog_int.h). */
struct mycel__catalog_dbs {
	bool ready; /* false on a read-only store that has no catalog tables */
	MDB_dbi meta, docs, versions, fwd, terms, facets, ids, up, down;
	MDB_dbi xfer;  /* product transfers (src/transfer.c) */
	bool has_xfer; /* false on a read-only store made before transfers (no cat_xfer) */
	mycel_buf pend; /* posting changes of the open write transaction (catalog_int.h) */
};

struct mycel_store {
	MDB_env *env;
	MDB_dbi entries; /* feed ‖ be64 seq -> entry bytes */
	MDB_dbi bodies;  /* feed ‖ be64 seq -> body bytes (stored beside its entry) */
	MDB_dbi heads;   /* feed -> be64 seq ‖ id ‖ be64 ts_ms */
	MDB_dbi forks;   /* feed ‖ be64 seq -> fork proof */
	MDB_dbi charters; /* be64 version -> charter file */
	MDB_dbi meta;    /* "format" -> "1", "mesh_id" -> 32 bytes */
	MDB_dbi keys;    /* feed ‖ be64 seq of a valid key entry -> its next key (src/feedkey.h) */
	bool has_keys;   /* false on a read-only store made before key rotation (no keys table) */
	pthread_mutex_t lock; /* guards charter and mesh_id */
	mycel_charter *charter;
	mycel_policies *policies; /* the charter's, compiled (NULL with policies_rv when they do not compile) */
	int policies_rv;
	/*
	 * Versions replaced by a newer one, kept until close: mycel_store_charter's pointer
	 * stays valid for a thread that read it just before an adoption (charter_adopt.c).
	 */
	mycel_charter *retired[MYCEL__RETIRED_MAX];
	mycel_policies *retired_policies[MYCEL__RETIRED_MAX]; /* theirs, likewise */
	size_t n_retired;
	bool has_mesh_id;
	uint8_t mesh_id[MYCEL_HASH_LEN];
	struct mycel__catalog_dbs cat;
};

/* feed ‖ be64(seq) into out. */
void mycel__feedseq(uint8_t out[MYCEL__FEEDSEQ_LEN], const uint8_t feed[MYCEL_PK_LEN], uint64_t seq);

/*
 * Small values of the meta table under keys of the modules that own them (the gossip
 * engine's "gossip_peers"): get copies the value into *out (malloc'd, the caller frees it;
 * ENOTFOUND when absent); put replaces it in its own write transaction (LMDB serialises it
 * with the writer's). "format" and "mesh_id" are the store's and refused (EINVAL), as are
 * keys over 64 bytes and values over 1 MiB.
 */
int mycel__store_meta_get(mycel_store *s, const char *key, uint8_t **out, size_t *out_len);
int mycel__store_meta_put(mycel_store *s, const char *key, const uint8_t *p, size_t n);

/*
 * The current charter's policies, compiled, owned by the store like its charter (valid until
 * the charter changes). *out is NULL when there is no charter or no policy. Returns the
 * compile error when the charter's policies do not compile: the gate then fails closed.
 */
int mycel__store_policies(const mycel_store *s, const mycel_policies **out);

/*
 * The key that signs feed at seq (src/feedkey.h), from the key entries stored below seq
 * (the keys table), inside txn: the feed id itself when there is none. 0, or an LMDB error.
 */
int mycel__feedkey_at(mycel_store *s, MDB_txn *txn, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
		      uint8_t out[MYCEL_PK_LEN]);

/* Maps an LMDB return code to a MYCEL_E... code. */
int mycel__mdb_err(int rc);

/*
 * Opens the catalog tables inside the store's opening transaction, after the
 * charter is loaded (catalog.c). Writable: creates them, and rebuilds them from
 * the feeds if they are missing or of another format. Read-only: a store
 * without them opens with s->cat.ready false.
 */
int mycel__catalog_open(mycel_store *s, MDB_txn *txn, bool ro, char *why, size_t why_len);

/*
 * Applies one stored entry to the catalog inside txn (catalog.c): kinds
 * contract, product and lifecycle; others, and bodies that are not usable
 * documents, change nothing. domain is the charter's name of e's feed.
 * On an error other than an LMDB one nothing has been written; after an LMDB
 * error the transaction is unusable, as LMDB leaves it.
 */
int mycel__catalog_apply(mycel_store *s, MDB_txn *txn, const mycel_entry *e, const uint8_t *body,
			 size_t body_len, const char *domain);

/*
 * Writes the posting-list changes that the applies of txn buffered: call it
 * once, right before mdb_txn_commit, in every write transaction that applied
 * entries. The buffer is emptied whatever the result; on failure the
 * transaction must be aborted (part of the changes may be written).
 */
int mycel__catalog_flush(mycel_store *s, MDB_txn *txn);


/* Forgets the buffered changes (a transaction that is aborted). */
void mycel__catalog_discard(mycel_store *s);

/*
 * Empties the derived tables and rebuilds them inside txn from every entry that charter ch
 * admits (catalog.c; what reindex runs with the current charter). The caller holds s->lock.
 */
int mycel__catalog_rebuild(mycel_store *s, MDB_txn *txn, const mycel_charter *ch);

/*
 * Makes charter c, about to become the store's current one, take effect inside txn
 * (charter_adopt.c): each compromised feed loses its entries, bodies and fork proofs beyond
 * the cut and its head goes back to the cut; the catalog is rebuilt against c. The caller
 * holds s->lock. *out_dropped (if not NULL) gets the number of entries removed.
 */
int mycel__charter_adopt(mycel_store *s, MDB_txn *txn, const mycel_charter *c,
			 size_t *out_dropped);

/*
 * Keeps the charter being replaced, and its compiled policies, alive until close (the
 * caller holds s->lock): readers that took mycel_store_charter's or mycel__store_policies'
 * pointer before the swap may still use it. Beyond MYCEL__RETIRED_MAX versions in one run
 * the oldest is freed.
 */
void mycel__charter_retire(mycel_store *s, mycel_charter *old, mycel_policies *old_policies);

/*
 * The newest stored charter version that admits feed at seq (charter_adopt.c), in
 * *out_version: for the history of a domain removed since. EADMIT when none does.
 */
int mycel__feed_admitted_in(mycel_store *s, MDB_txn *txn, const uint8_t feed[MYCEL_PK_LEN],
			    uint64_t seq, uint64_t *out_version);

/* True when some stored charter version admits feed (at seq 1), in a read txn of its own. */
bool mycel__feed_ever_admitted(mycel_store *s, const uint8_t feed[MYCEL_PK_LEN]);

#endif
