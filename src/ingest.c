/*
 * ingest.c — entries and fork proofs from the network into the store (src/mesh.h).
 *
 * The expensive, store-independent checks (strict decoding, signature, body hash, canonical
 * body) run on the calling thread — a public worker for Push, a gossip thread for Pull
 * replies — split over up to `threads` threads for large batches. What passes goes to the
 * node's writer as one MYCEL__WRITE_INGEST, marked verified, and the writer checks only
 * what needs the store (chain, timestamps, admission, forks), committing consecutive
 * ingests in one transaction.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedkey.h"
#include "mesh.h"
#include "mycel/codec.h"
#include "mycel/error.h"
#include "writer.h"

/* Below this many items a batch is checked on the calling thread only. */
#define INGEST_PAR_MIN 64u
/* Most threads one ingest uses. */
#define INGEST_THREADS_MAX 64u

/*
 * The checks that need no store: decoding, canonical body, body hash, a key entry's reverse
 * signature, and the signature under the feed id. One that verifies only under a rotated key
 * (known from the store) is MYCEL__SIG_LATER: the writer checks it under that key.
 */
static int precheck(const mycel_blob *b)
{
	mycel_entry e;
	mycel_rd r;
	int rv;
	if ((rv = mycel_entry_decode(b->entry, b->entry_len, &e)) != 0)
		return rv;
	if (b->body_len > MYCEL_BODY_MAX)
		return MYCEL_ETOOBIG;
	mycel_rd_init(&r, b->body, b->body_len);
	if ((rv = mycel_rd_skip(&r, 0)) != 0 || (rv = mycel_rd_end(&r)) != 0)
		return rv;
	if ((rv = mycel_entry_check_body(&e, b->body, b->body_len)) != 0)
		return rv;
	if (mycel__feedkey_is_key(&e) &&
	    (rv = mycel__feedkey_body_check(e.h.feed, e.h.seq, b->body, b->body_len, NULL)) != 0)
		return rv;
	return mycel_entry_verify(&e, e.h.feed) == 0 ? 0 : MYCEL__SIG_LATER;
}

/*
 * Work shared by the checking threads: each takes the next CHECK_STEP items until none is
 * left, so a thread that the scheduler delays (the node serves requests on the same cores)
 * never leaves the others idle at the end of a batch, as fixed halves would.
 */
#define CHECK_STEP 16u
typedef struct chunk {
	const mycel_blob *items;
	int *codes;
	size_t n;
	atomic_size_t next;
} chunk;

static void *check_chunk(void *arg)
{
	chunk *c = arg;
	for (;;) {
		size_t lo = atomic_fetch_add(&c->next, CHECK_STEP);
		if (lo >= c->n)
			return NULL;
		size_t hi = lo + CHECK_STEP < c->n ? lo + CHECK_STEP : c->n;
		for (size_t i = lo; i < hi; i++)
			c->codes[i] = precheck(&c->items[i]);
	}
}

/* codes[i] = precheck(items[i]), on up to `threads` threads. */
static void check_all(const mycel_blob *items, size_t n, unsigned threads, int *codes)
{
	pthread_t tid[INGEST_THREADS_MAX];
	size_t k = threads > INGEST_THREADS_MAX ? INGEST_THREADS_MAX : threads;
	chunk ch = {items, codes, n, 0};
	if (k > n / (INGEST_PAR_MIN / 2))
		k = n / (INGEST_PAR_MIN / 2);
	if (n < INGEST_PAR_MIN || k < 2) {
		(void)check_chunk(&ch);
		return;
	}
	size_t started = 0;
	/* the calling thread is one of the k; a thread that cannot start leaves its share to us */
	for (size_t t = 1; t < k; t++)
		if (pthread_create(&tid[t], NULL, check_chunk, &ch) == 0)
			started |= (size_t)1 << t;
	(void)check_chunk(&ch);
	for (size_t t = 1; t < k; t++)
		if (started & ((size_t)1 << t))
			pthread_join(tid[t], NULL);
}

static void set_why(mycel__ingest_result *res, int code, const mycel_entry *e, bool decoded,
                    const char *what)
{
	res->code = code;
	if (decoded)
		(void)snprintf(res->why, sizeof(res->why), "feed %02x%02x%02x%02x… seq %llu: %s",
		               e->h.feed[0], e->h.feed[1], e->h.feed[2], e->h.feed[3],
		               (unsigned long long)e->h.seq, what);
	else
		(void)snprintf(res->why, sizeof(res->why), "%s", what);
}

static bool feed_in(const uint8_t (*feeds)[MYCEL_PK_LEN], size_t n, const uint8_t *feed)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(feeds[i], feed, MYCEL_PK_LEN) == 0)
			return true;
	return false;
}

void mycel__ingest_check(const mycel_blob *items, size_t n, unsigned threads, int *codes)
{
	check_all(items, n, threads, codes);
}

int mycel__ingest(const mycel_rpc_ctx *ctx, const mycel_blob *items, size_t n,
                  const mycel__fork_blob *forks, size_t n_forks, const char *from, uint64_t hops,
                  unsigned threads, mycel__ingest_result *res)
{
	int *codes = calloc(n ? n : 1, sizeof(*codes));
	if (codes == NULL) {
		memset(res, 0, sizeof(*res));
		return MYCEL_ENOMEM;
	}
	check_all(items, n, threads, codes);
	int rv = mycel__ingest_checked(ctx, items, n, codes, forks, n_forks, from, hops, res);
	free(codes);
	return rv;
}

int mycel__ingest_checked(const mycel_rpc_ctx *ctx, const mycel_blob *items, size_t n,
                          const int *codes, const mycel__fork_blob *forks, size_t n_forks,
                          const char *from, uint64_t hops, mycel__ingest_result *res)
{
	size_t *map = NULL, *fmap = NULL, np = 0, nf = 0, n_stop = 0;
	size_t first = (size_t)-1; /* original index of the first refusal found here */
	mycel_blob *pass = NULL;
	mycel_fork_pair *fpass = NULL;
	uint8_t *states = NULL, *fstates = NULL, *later = NULL, (*stop)[MYCEL_PK_LEN] = NULL;
	mycel__write *w = NULL;
	int rv = MYCEL_ENOMEM;

	memset(res, 0, sizeof(*res));
	map = calloc(n ? n : 1, sizeof(*map));
	pass = calloc(n ? n : 1, sizeof(*pass));
	states = calloc(n ? n : 1, 1);
	later = calloc(n ? n : 1, 1);
	stop = calloc(n ? n : 1, sizeof(*stop));
	fmap = calloc(n_forks ? n_forks : 1, sizeof(*fmap));
	fpass = calloc(n_forks ? n_forks : 1, sizeof(*fpass));
	fstates = calloc(n_forks ? n_forks : 1, 1);
	w = calloc(1, sizeof(*w));
	if (!map || !pass || !states || !later || !stop || !fmap || !fpass || !fstates || !w)
		goto done;

	size_t bytes = 0;
	for (size_t i = 0; i < n; i++) {
		mycel_entry e;
		bool decoded = mycel_entry_decode(items[i].entry, items[i].entry_len, &e) == 0;
		if (decoded && feed_in((const uint8_t(*)[MYCEL_PK_LEN])stop, n_stop, e.h.feed)) {
			res->refused++; /* after a refusal in its feed */
			continue;
		}
		if (codes[i] != 0 && codes[i] != MYCEL__SIG_LATER) {
			res->refused++;
			if (first == (size_t)-1) {
				first = i;
				set_why(res, codes[i], &e, decoded, mycel_strerror(codes[i]));
			}
			if (decoded)
				memcpy(stop[n_stop++], e.h.feed, MYCEL_PK_LEN);
			continue;
		}
		map[np] = i;
		later[np] = codes[i] == MYCEL__SIG_LATER;
		pass[np++] = items[i];
		bytes += items[i].entry_len + items[i].body_len;
	}
	for (size_t i = 0; i < n_forks; i++) {
		mycel_entry a, b;
		int c = mycel_entry_decode(forks[i].a.entry, forks[i].a.entry_len, &a);
		if (c == 0)
			c = mycel_entry_decode(forks[i].b.entry, forks[i].b.entry_len, &b);
		/* under the key that signs the feed at that seq as the store knows it now; the
		 * writer checks again when that is not the feed id (src/store.c, store_proof) */
		uint8_t signer[MYCEL_PK_LEN];
		if (c == 0 && (ctx->store == NULL ||
		               mycel_store_feed_key(ctx->store, a.h.feed, a.h.seq, signer) != 0))
			memcpy(signer, a.h.feed, MYCEL_PK_LEN);
		if (c == 0)
			c = mycel_entry_verify(&a, signer);
		if (c == 0)
			c = mycel_entry_verify(&b, signer);
		if (c != 0) {
			if (first == (size_t)-1) {
				char what[96];
				first = n + i;
				(void)snprintf(what, sizeof(what), "fork proof %zu: %s", i,
				               mycel_strerror(c));
				set_why(res, c, &a, false, what);
			}
			continue;
		}
		fmap[nf] = i;
		fpass[nf].a = forks[i].a;
		fpass[nf++].b = forks[i].b;
		bytes += forks[i].a.entry_len + forks[i].b.entry_len;
	}

	if (np > 0 || nf > 0) {
		w->kind = MYCEL__WRITE_INGEST;
		w->ingest = (mycel_ingest_group){.items = pass,
		                                 .n = np,
		                                 .forks = fpass,
		                                 .n_forks = nf,
		                                 .verified = true,
		                                 .sig_unchecked = later,
		                                 .states = states,
		                                 .fork_states = fstates};
		w->from = from;
		w->hops = hops;
		w->bytes = bytes;
		if (ctx->wq != NULL) {
			(void)mycel__writer_submit(ctx->wq, w);
		} else {
			if (ctx->writer != NULL)
				pthread_mutex_lock(ctx->writer);
			mycel__write_exec(ctx, &w, 1, NULL);
			if (ctx->writer != NULL)
				pthread_mutex_unlock(ctx->writer);
		}
		if (w->rv != 0) {
			rv = w->rv;
			(void)snprintf(res->why, sizeof(res->why), "%.200s", w->why);
			res->code = rv;
			goto done;
		}
		const mycel_ingest_group *g = &w->ingest;
		res->accepted = g->accepted;
		res->known = g->duplicate;
		res->refused += g->refused;
		res->forks = g->forks_stored;
		res->gap = g->gap;
		if (g->code != 0) {
			size_t at =
			    g->failed_at < np ? map[g->failed_at] : n + fmap[g->failed_at - np];
			if (at < first) {
				res->code = g->code;
				(void)snprintf(res->why, sizeof(res->why), "%.250s", g->why);
			}
		}
	}
	rv = 0;
done:
	free(map);
	free(pass);
	free(states);
	free(later);
	free(stop);
	free(fmap);
	free(fpass);
	free(fstates);
	free(w);
	return rv;
}
