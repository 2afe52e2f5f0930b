/*
 * writer.h — the node's one writer (internal; DESIGN.md §5, STYLE.md "Concurrency").
 *
 * One thread owns every write transaction of the store. The threads that serve requests
 * prepare writes (parse and lint documents, check arguments: the expensive part) and hand
 * them to it with mycel__writer_submit, which waits for the outcome. The writer takes what
 * is queued, in order, up to MYCEL__WRITER_BATCH requests, MYCEL__WRITER_BATCH_DOCS
 * documents and MYCEL__WRITER_BATCH_BYTES bytes of document text (at least one request),
 * and commits every run of consecutive publishes and lifecycle changes in ONE transaction
 * with mycel_publish_groups (one fsync for all of them: group commit), each checked against
 * the store and the requests before it; each request stays all or none on its own, and one
 * request's refusal (rules, EEXIST, a conflict with another request of the same group)
 * never fails another. Consecutive ingests (MYCEL__WRITE_INGEST, entries from peers) are
 * likewise committed together with mycel_store_ingest_groups, each keeping its own outcome;
 * an ingest needs no domain key. A reindex runs alone in its own transaction, in queue order. After each commit the
 * change hook is called for every new entry (published or ingested), in feed order, the
 * frontier (env->frontier) gets every feed's new head and fork state, and the gossip hook
 * (env->mesh_ops->committed) every new entry and fork proof; then the waiters of the batch
 * are woken, each with its own result: a request is acknowledged only after its commit.
 *
 * mycel__write_exec runs the same batches synchronously on the calling thread (a caller
 * without a writer thread, under its own mutex).
 */
#ifndef MYCEL_WRITER_H
#define MYCEL_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mycel/catalog.h"
#include "mycel/publish.h"
#include "mycel/rpc.h"

/* Most requests, and most documents, one commit carries. */
#define MYCEL__WRITER_BATCH 64u
#define MYCEL__WRITER_BATCH_DOCS 2048u
#define MYCEL__WRITER_BATCH_BYTES ((size_t)64u << 20)
/* Most requests waiting in the queue; submitters beyond it wait for room. */
#define MYCEL__WRITER_QUEUE_MAX 1024u

typedef enum mycel__write_kind {
	MYCEL__WRITE_PUBLISH = 1, /* items[0..n_items-1], all or none */
	MYCEL__WRITE_LIFECYCLE,   /* id, version, status, reason: one lifecycle entry */
	MYCEL__WRITE_REINDEX,     /* rebuild the catalog */
	MYCEL__WRITE_INGEST,      /* ingest: entries and fork proofs from a peer (src/mesh.h) */
	MYCEL__WRITE_CHARTER,     /* charter, charter_len: adopt a next charter version (alone) */
	MYCEL__WRITE_KEY_ROTATE,  /* next_key: a key entry, then the domain key becomes next_key */
	MYCEL__WRITE_TRANSFER,    /* id, peer, accept: an offer of id to peer, or an acceptance */
} mycel__write_kind;

/*
 * One prepared write. The submitter owns it (and everything it points to) and must keep it
 * alive until mycel__writer_submit returns. Results: rv (0 or a MYCEL_E... code), for a
 * publish each item's unchanged/entry and findings, for a lifecycle change entry, and why
 * (a sentence, for lifecycle and reindex failures).
 */
typedef struct mycel__write {
	mycel__write_kind kind;
	mycel_publish_item *items;
	size_t n_items;
	size_t bytes; /* the request's document text, for the batch bound */
	const char *id, *version, *reason;
	mycel_doc_status status;
	const uint8_t *charter; /* MYCEL__WRITE_CHARTER: the charter file */
	size_t charter_len;
	/*
	 * An ingest: its items, proofs and flags in ingest (its states arrays sized by the
	 * submitter), the peer it came from (for the commit hook). Consecutive ingests are
	 * committed in one mycel_store_ingest_groups transaction; the results are in ingest.
	 */
	mycel_ingest_group ingest;
	const char *from;
	uint64_t hops; /* the push's hop count, for the commit hook */
	/*
	 * A key rotation (alone in its transaction): after the commit the writer swaps the
	 * contents of env->key and *next_key, so env->key signs from the next write on and
	 * next_key holds the old key (the submitter wipes it).
	 */
	mycel_key *next_key;
	/* A transfer (alone in its transaction): offer id to peer, or accept peer's offer of id. */
	const char *peer;
	bool accept;
	/* results */
	int rv;
	mycel_entry entry;
	char why[512];
	/* the writer's */
	struct mycel__write *next;
	bool done;
} mycel__write;

/*
 * Runs n writes in order on the calling thread, grouping consecutive publishes into one
 * transaction as the writer thread does, and reporting changes through env->on_change.
 * The caller makes sure nobody else writes meanwhile. *out_commits (if not NULL) gets the
 * number of transactions committed. Each write's rv is set.
 */
void mycel__write_exec(const mycel_rpc_ctx *env, mycel__write **w, size_t n, size_t *out_commits);

/*
 * Adopts charter file p[0..n) (mycel_store_add_charter) as a write of its own: through the
 * writer thread when env has one (env->wq), else under env->writer, so that it and the
 * frontier reload that follows it are ordered with every other commit. 0, EBUSY (stopping),
 * or the charter's code with why.
 */
int mycel__write_charter(const mycel_rpc_ctx *env, const uint8_t *p, size_t n, char *why,
			 size_t why_len);

typedef struct mycel__writer mycel__writer;

typedef struct mycel__writer_stats {
	uint64_t requests;  /* writes executed */
	uint64_t commits;   /* write transactions committed */
	uint64_t batches;   /* batches taken from the queue */
	uint64_t max_batch; /* most requests in one batch */
	uint64_t queued;    /* waiting now */
} mycel__writer_stats;

/*
 * Starts the writer thread over env (copied; env->wq is ignored). ENOMEM, or EIO when the
 * thread cannot be started.
 */
int mycel__writer_start(const mycel_rpc_ctx *env, mycel__writer **out);

/*
 * Queues w and waits until the writer has executed it; returns w->rv. After
 * mycel__writer_stop began, returns EBUSY (why set) without queueing: the caller answers
 * UNAVAILABLE. Never call it from the writer's own change hook.
 */
int mycel__writer_submit(mycel__writer *q, mycel__write *w);

/*
 * Stops the writer: what is queued is still executed and its submitters woken (nothing
 * half-done), later submits get EBUSY; then joins the thread. Releases a hold. Idempotent.
 */
void mycel__writer_stop(mycel__writer *q);

/* Stops the writer if needed and frees it. Accepts NULL. */
void mycel__writer_free(mycel__writer *q);

/*
 * Test hook: while held, the writer takes nothing from the queue (submitters wait), so a
 * test can line up k requests and see them committed together.
 */
void mycel__writer_hold(mycel__writer *q, bool hold);

/* Waits until at least k writes are queued: 0, or EBUSY after timeout_ms. */
int mycel__writer_wait_queued(mycel__writer *q, size_t k, unsigned timeout_ms);

/* The counters so far. */
void mycel__writer_stats_get(mycel__writer *q, mycel__writer_stats *out);

#endif
