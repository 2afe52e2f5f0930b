/*
 * mesh.h — what the Mesh handlers, the node's writer and the gossip engine share (internal;
 * DESIGN.md §5, proto/PROTOCOL.md §10). Two halves are built to this contract:
 *
 *   - the frontier, the ingest path and the commit hook (src/frontier.c, src/ingest.c, the
 *     writer's MYCEL__WRITE_INGEST, src/rpc_mesh.c's Digest/Push/Pull/Charter handlers);
 *   - the gossip engine (src/gossip.c), which calls the first half and is called back by it
 *     through mycel__mesh_ops.
 */
#ifndef MYCEL_MESH_H
#define MYCEL_MESH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/rpc.h"
#include "mycel/store.h"

/* ---- frontier ------------------------------------------------------------------------- */

#define MYCEL__FRONTIER_BUCKETS 256u
/* A frontier of at most this many feeds is "small": Digest replies carry every head. */
#define MYCEL__FRONTIER_SMALL 64u

typedef struct mycel__head {
	uint8_t feed[MYCEL_PK_LEN];
	uint64_t seq;
	uint8_t head[MYCEL_HASH_LEN]; /* id of the feed's last entry */
	bool forked;                  /* a fork proof is stored for the feed */
} mycel__head;

typedef struct mycel__frontier mycel__frontier;

/* Loads the frontier of s (every feed's head, and which feeds are forked). ENOMEM, store codes. */
int mycel__frontier_open(mycel_store *s, mycel__frontier **out);
void mycel__frontier_free(mycel__frontier *f);

/*
 * Records a feed's new head (and forked state) after a commit. Safe from any thread (the
 * frontier has its own lock); the writer calls it for every commit before waking waiters.
 */
int mycel__frontier_update(mycel__frontier *f, const mycel__head *h);

/*
 * Loads the frontier again from the store, replacing what f holds: after a charter version
 * that cut a compromised feed (its head moved back). ENOMEM, store codes (f unchanged).
 */
int mycel__frontier_reload(mycel__frontier *f, mycel_store *s);

/* The digest of the whole frontier (PROTOCOL.md §10) and its number of feeds. */
void mycel__frontier_digest(mycel__frontier *f, uint8_t out[MYCEL_HASH_LEN], size_t *out_feeds);

/* The 256 bucket digests (an empty bucket's is 32 zero bytes). */
void mycel__frontier_buckets(mycel__frontier *f, uint8_t out[MYCEL__FRONTIER_BUCKETS][MYCEL_HASH_LEN]);

/*
 * A malloc'd copy of the heads of the given buckets (every head when buckets is NULL), sorted
 * by feed; the caller frees *out. ENOMEM; EINVAL for a bucket number over 255.
 */
int mycel__frontier_heads(mycel__frontier *f, const uint64_t *buckets, size_t n_buckets,
			  mycel__head **out, size_t *out_n);

/* The head of one feed: true and *out when the frontier has it. */
bool mycel__frontier_get(mycel__frontier *f, const uint8_t feed[MYCEL_PK_LEN], mycel__head *out);

/* ---- ingest --------------------------------------------------------------------------- */

/*
 * The hop count of entries that must not be pushed on: a pull batch with more to come is
 * bulk catch-up, and forwarding it would echo a cold sync to peers that hold it already
 * (the last batch of a pull is spread like a push). Fork proofs are forwarded regardless.
 */
#define MYCEL__HOPS_NO_FORWARD UINT64_MAX

/* Outcome of one ingest request (one Push, or one batch of a Pull). */
typedef struct mycel__ingest_result {
	size_t accepted;  /* new entries stored */
	size_t known;     /* entries already held */
	size_t refused;   /* entries not stored (the first refused and everything after it in its
			     feed; gaps included) */
	size_t forks;     /* fork proofs newly stored */
	bool gap;         /* an entry did not follow the head (seq > head + 1): pull from the sender */
	int code;         /* the first refusal's MYCEL_E... code, 0 if none; a gap alone is not one */
	char why[256];    /* the first refusal: "feed 1a2b3c4d… seq 4: signature does not verify" */
} mycel__ingest_result;

/* A fork proof: two entries (with bodies, which may be absent) at the same feed and seq. */
typedef struct mycel__fork_blob {
	mycel_blob a, b;
} mycel__fork_blob;

/*
 * Ingests entries and fork proofs received from the peer `from` (a URL or "pipe N"; used in
 * logs and the commit hook), `hops` pushes away from their origin (Push.hops; 0 for pulls,
 * handed on to the commit hook so forwarding stops at max_hops): checks strict decoding, signatures, body hashes and canonical
 * bodies on the calling thread (with up to `threads` extra threads for large batches: 0 or 1
 * means the calling thread only), then hands one MYCEL__WRITE_INGEST to the node's writer,
 * which checks chains, timestamps and admission and commits consecutive ingests in one
 * transaction. Entries are processed per feed in seq order; a refused entry stops its feed
 * only (within this request). A fork proof is a mycel_fork_pair (same layout). Without a
 * writer thread (ctx->wq NULL) the write runs on the calling thread under ctx->writer.
 * Returns 0 when the request reached the writer (its outcome in *res, refusals included),
 * EBUSY when the node is stopping, ENOMEM, or the store's error that abandoned the commit
 * (nothing of it stored; res->code and res->why say it).
 */
int mycel__ingest(const mycel_rpc_ctx *ctx, const mycel_blob *items, size_t n,
		  const mycel__fork_blob *forks, size_t n_forks, const char *from, uint64_t hops,
		  unsigned threads, mycel__ingest_result *res);

/*
 * The checks mycel__ingest makes on the calling thread, on their own: codes[i] = 0 when
 * items[i] decodes strictly, its signature verifies under its feed id (the genesis key) and
 * its body is canonical and matches its hash; MYCEL__SIG_LATER when all of that holds but the
 * signature does not verify under the feed id (a rotated feed, PROTOCOL.md §5.4: the writer
 * checks it under the key that signs the feed at that seq); else the refusal's code; on up
 * to `threads` threads.
 * A puller runs them for batch k+1 while batch k is committed.
 */
#define MYCEL__SIG_LATER 1
void mycel__ingest_check(const mycel_blob *items, size_t n, unsigned threads, int *codes);

/* mycel__ingest with codes[0..n-1] from mycel__ingest_check on the same items. */
int mycel__ingest_checked(const mycel_rpc_ctx *ctx, const mycel_blob *items, size_t n,
			  const int *codes, const mycel__fork_blob *forks, size_t n_forks,
			  const char *from, uint64_t hops, mycel__ingest_result *res);

/* ---- hooks between the handlers, the writer and the gossip engine -------------------- */

/*
 * One committed entry, reported by the writer after each commit for every new entry,
 * whether published here (from == NULL) or ingested (from = the peer it came from), in
 * feed order, and for every newly stored fork proof (fork_other != NULL: the other entry of
 * the proof). Everything is valid only during the call; the callee copies what it keeps and
 * must not block (the writer waits for it).
 */
typedef struct mycel__committed {
	const mycel_entry *entry;
	const uint8_t *body;
	size_t body_len;
	const char *from;
	uint64_t hops; /* pushes this entry travelled to get here (0: published here, or pulled;
			  MYCEL__HOPS_NO_FORWARD: bulk catch-up, not pushed on) */
	const mycel_entry *fork_other;
	const uint8_t *fork_other_body;
	size_t fork_other_body_len;
} mycel__committed;

/*
 * What the Mesh handlers ask of the gossip engine. ctx->mesh_ops / ctx->mesh_arg are NULL
 * when the node runs without gossip: handlers then skip these calls.
 */
typedef struct mycel__mesh_ops {
	/* After each commit, for each new entry or fork proof (see above). */
	void (*committed)(void *arg, const mycel__committed *c);
	/* A peer announced its public URL (Digest.from, Push.from): learn it (source "inbound"). */
	void (*peer_seen)(void *arg, const char *url);
	/* Input from a peer was refused (not duplicates, not gaps): count it, log once per reason. */
	void (*rejected)(void *arg, const char *peer, int code, const char *why);
	/* A push from peer left a gap: run an anti-entropy exchange with it soon. */
	void (*gap)(void *arg, const char *peer);
	/* True while a peer is ignored for sending too much invalid data. */
	bool (*ignored)(void *arg, const char *peer);
	/* The peers table, for Admin/Peers, Mesh/Peers and Status (allocated in a). */
	int (*peers)(void *arg, mycel_arena *a, void **out_peers /* mycel_msg_Peer * */,
		     size_t *out_n);
	/* Admin/PeersAdd and PeersRemove: 0, EINVAL (bad URL, our own), ENOTFOUND (remove). */
	int (*peer_add)(void *arg, const char *url, char *why, size_t why_len);
	int (*peer_remove)(void *arg, const char *url, char *why, size_t why_len);
} mycel__mesh_ops;

#endif
