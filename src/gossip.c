/*
 * gossip.c — the gossip engine (src/gossip.h): calls to peers, anti-entropy exchanges with
 * push-pull, rounds, eager push of new entries, the commit hook, the engine's lifecycle.
 * The peers table and the other mesh ops are in gossip_peers.c.
 *
 * Locking: g->mu guards the peers table, the push queue, the counters and the flags. It is
 * never held across a network call, an ingest or a store read, so the writer's commit hook
 * (committed) only ever waits for a few memory operations. Peers are never freed before
 * the engine (a removed peer is flagged and may come back), so a thread may keep a peer
 * pointer across calls without holding the lock.
 */
#include "gossip_int.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mycel/charter.h"
#include "mycel/client.h"
#include "mycel/codec.h"
#include "mycel/error.h"
#include "mycel/profile.h"
#include "mycel/store.h"
#include "client_int.h"
#include "mycel_proto.h"
#include "store_int.h"
#include "writer.h"

/* ---- calls ---------------------------------------------------------------------------------- */

static size_t bin_hdr(size_t n)
{
	return n < 256 ? 2 : n < 65536 ? 3 : 5;
}

static size_t str_hdr(size_t n)
{
	return n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5;
}

/*
 * What one message costs on the wire besides the envelope: nng's 4-byte request id and the
 * tcp transport's 8-byte length prefix.
 */
#define NNG_OVERHEAD 12u

/* Bytes of a request envelope [1, method, deadline(u64), {}, bin] on the wire. */
static size_t request_bytes(const char *method, size_t body)
{
	size_t m = strlen(method);
	return NNG_OVERHEAD + 1 + 1 + str_hdr(m) + m + 9 + 1 + bin_hdr(body) + body;
}

/* Bytes of a reply envelope [1, status, message, body] on the wire. */
static size_t reply_bytes(const char *msg, bool has_body, size_t body)
{
	size_t m = msg != NULL ? strlen(msg) : 0;
	return NNG_OVERHEAD + 1 + 1 + 1 + str_hdr(m) + m + (has_body ? bin_hdr(body) + body : 1);
}

/* One exchange's state. */
typedef struct xch {
	mycel__gossip *g;
	peer *p;
	mycel_client *c;
	uint64_t bytes;
	uint64_t lag;
	char err[256];
} xch;

/* The peer's client, opened on first use. 0 or a client code (err set). */
static int client_of(xch *x)
{
	mycel__gossip *g = x->g;
	pthread_mutex_lock(&g->mu);
	mycel_client *c = x->p->client, *stale = NULL;
	if (c != NULL && x->p->state == MYCEL__PEER_DEAD && x->p->busy <= 1 && !g->stopping) {
		/*
		 * A retry of a dead peer, its backoff over, dials afresh: the old client's dialer
		 * may be waiting out nng's own reconnect backoff (up to 5 s) and would keep a
		 * peer that is back unreached. Nobody else uses the client: pushes skip dead
		 * peers and this exchange is the peer's only busy mark.
		 */
		stale = c;
		x->p->client = NULL;
		c = NULL;
	}
	pthread_mutex_unlock(&g->mu);
	if (stale != NULL) /* bounded: the peer may be reconnecting right now (client_int.h) */
		(void)mycel__close_wait(mycel__client_close_start(stale),
		                        mycel__mono_ms() + GOSSIP_CLOSE_WAIT_MS);
	if (c == NULL) {
		/* lazy: a peer that never answers costs one call's deadline, never more */
		int rv = mycel_client_open_lazy(x->p->url, &c);
		if (rv != 0) {
			mycel__gp_why(x->err, sizeof(x->err), "cannot connect: %s",
			              mycel_strerror(rv));
			return rv;
		}
		pthread_mutex_lock(&g->mu);
		if (x->p->client == NULL) {
			x->p->client = c;
			c = NULL;
			if (g->stopping) /* mycel__gossip_stop aborted the others already */
				mycel__client_abort(x->p->client);
		}
		mycel_client *keep = x->p->client;
		pthread_mutex_unlock(&g->mu);
		mycel_client_close(c);
		c = keep;
	}
	x->c = c;
	return 0;
}

/*
 * Calls method with request rq; on an OK reply decodes it into *rp (allocated in a).
 * Returns 0 with *status (OK or the peer's/transport's status, err set), or a code.
 */
static int call(xch *x, const char *method, const void *rq, mycel_arena *a, void *rp,
                uint64_t *status)
{
	mycel__gossip *g = x->g;
	const mycel_method *m = mycel_method_find(method, strlen(method));
	if (m == NULL)
		return MYCEL_EINVAL;
	mycel_buf b;
	mycel_buf_init(&b, MYCEL_RPC_REQUEST_MAX - 1024);
	int rv = m->request_encode(rq, &b);
	if (rv != 0) {
		mycel_buf_fini(&b);
		mycel__gp_why(x->err, sizeof(x->err), "%s: request does not encode: %s", method,
		              mycel_strerror(rv));
		return rv;
	}
	char *msg = NULL;
	uint8_t *body = NULL;
	size_t body_len = 0;
	size_t out_bytes = request_bytes(method, b.len);
	rv = mycel_client_call(x->c, method, mycel__gp_wall_ms() + g->o.rpc_timeout_ms, b.data,
	                       b.len, status, &msg, &body, &body_len);
	mycel_buf_fini(&b);
	size_t in_bytes = rv == 0 ? reply_bytes(msg, body != NULL, body_len) : 0;
	x->bytes += out_bytes + in_bytes;
	pthread_mutex_lock(&g->mu);
	x->p->calls++;
	x->p->bytes_out += out_bytes;
	x->p->bytes_in += in_bytes;
	g->st.bytes_out += out_bytes;
	g->st.bytes_in += in_bytes;
	pthread_mutex_unlock(&g->mu);
	if (rv != 0) {
		mycel__gp_why(x->err, sizeof(x->err), "%s: %s", method, mycel_strerror(rv));
		return rv;
	}
	if (*status != MYCEL_RPC_OK) {
		mycel__gp_why(x->err, sizeof(x->err), "%s: %s: %s", method,
		              mycel_rpc_status_name(*status), msg[0] ? msg : "no message");
		goto done;
	}
	char why[256] = "";
	memset(rp, 0, m->reply->size);
	if (body == NULL) {
		rv = MYCEL_EFORMAT;
		mycel__gp_why(x->err, sizeof(x->err), "%s: an OK reply without a body", method);
	} else if ((rv = m->reply_decode(body, body_len, a, rp, why, sizeof(why))) != 0) {
		mycel__gp_why(x->err, sizeof(x->err), "%s: the reply does not decode: %s", method,
		              why[0] ? why : mycel_strerror(rv));
	}
done:
	free(msg);
	free(body);
	return rv;
}

/* ---- the exchange -----------------------------------------------------------------------------
 */

typedef struct range {
	uint8_t feed[MYCEL_PK_LEN];
	uint64_t from, to;
} range;

typedef struct ranges {
	range *r;
	size_t n, cap;
} ranges;

static int ranges_add(ranges *rs, const uint8_t *feed, uint64_t from, uint64_t to)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		if (cap > 2u * FEEDS_CAP)
			return MYCEL_ETOOBIG;
		range *nr = realloc(rs->r, cap * sizeof(*nr));
		if (nr == NULL)
			return MYCEL_ENOMEM;
		rs->r = nr;
		rs->cap = cap;
	}
	memcpy(rs->r[rs->n].feed, feed, MYCEL_PK_LEN);
	rs->r[rs->n].from = from;
	rs->r[rs->n].to = to;
	rs->n++;
	return 0;
}

static int feed_cmp(const void *a, const void *b)
{
	return memcmp(a, b, MYCEL_PK_LEN);
}

static bool stopping(mycel__gossip *g)
{
	pthread_mutex_lock(&g->mu);
	bool s = g->stopping;
	pthread_mutex_unlock(&g->mu);
	return s;
}

static bool peer_ignored(mycel__gossip *g, peer *p)
{
	pthread_mutex_lock(&g->mu);
	bool r = mycel__gp_ignored_at(p, mycel__gp_now(g));
	pthread_mutex_unlock(&g->mu);
	return r;
}

static void note_reject(xch *x, int code, const char *why)
{
	pthread_mutex_lock(&x->g->mu);
	mycel__gp_rejected(x->g, x->p, code, why);
	pthread_mutex_unlock(&x->g->mu);
}

/* Adopts every newer charter the peer has, in order. 0, or a code (a reject when refused). */
static int adopt_charters(xch *x, const uint8_t have[MYCEL_HASH_LEN], uint64_t version)
{
	mycel__gossip *g = x->g;
	mycel_arena *a = NULL;
	int rv = mycel_arena_new(CALL_ARENA_MAX, &a);
	if (rv != 0)
		return rv;
	mycel_msg_CharterRequest rq;
	mycel_msg_CharterReply rp;
	memset(&rq, 0, sizeof(rq));
	rq.have = have;
	rq.have_len = MYCEL_HASH_LEN;
	rq.has_version = true;
	rq.version = version;
	uint64_t st = 0;
	if ((rv = call(x, "mycel.v1.Mesh/Charter", &rq, a, &rp, &st)) != 0 || st != MYCEL_RPC_OK) {
		rv = rv != 0 ? rv : MYCEL_EIO;
		goto done;
	}
	for (size_t i = 0; i < rp.n_newer; i++) {
		char why[512] = "";
		/* through the writer: ordered with ingests, the frontier reloaded after it */
		rv = mycel__write_charter(g->env.ctx, rp.newer[i].ptr, rp.newer[i].len, why,
		                          sizeof(why));
		if (rv != 0) {
			char msg[600];
			snprintf(msg, sizeof(msg), "charter %zu of %zu: %s", i + 1, rp.n_newer,
			         why[0] ? why : mycel_strerror(rv));
			/* this node stopping, or its own failure, is no fault of the peer */
			if (rv != MYCEL_EBUSY && rv != MYCEL_ENOMEM && rv != MYCEL_ESTORE &&
			    rv != MYCEL_ETOOBIG)
				note_reject(x, rv, msg);
			mycel__gp_why(x->err, sizeof(x->err), "%s", msg);
			goto done;
		}
		const mycel_charter *ch = mycel_store_charter(g->env.ctx->store);
		char qa[URLCAP + 64];
		mycel__gp_log(g, MYCEL_NODE_INFO, "msg=\"charter adopted\" version=%llu peer=%s",
		              (unsigned long long)(ch != NULL ? mycel_charter_version(ch) : 0),
		              mycel__gp_q(x->p->url, qa, sizeof(qa)));
	}
	rv = 0;
done:
	mycel_arena_free(a);
	return rv;
}

/* One Pull request and its reply, with the arena both live in. */
typedef struct pull_call {
	xch x; /* the exchange's, or a copy for a call on another thread (own bytes, err) */
	mycel_arena *a;
	mycel_msg_PullRequest rq;
	mycel_msg_PullReply rp;
	size_t from; /* index in the ranges of the request's first range */
	size_t nr;   /* ranges the request carries, from `from` */
	uint64_t st;
	int rv;
	/* a call on its own thread (pull_start): fetched is set under mu once rv, st, rp are */
	pthread_t t;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool fetched;
	atomic_bool cancel; /* the batch is dropped: do not check it */
	/* verify ahead: codes of the reply's entries checked on the calling thread (in a) */
	unsigned threads; /* 0: do not check here */
	int *codes;       /* NULL: not checked */
} pull_call;

/*
 * Builds the Pull request for the ranges from done_from (at most 1000) and, unless
 * forks_sent, the fork feeds, in a fresh arena (pc->a). 0 or ENOMEM.
 */
static int pull_request(pull_call *pc, const ranges *rs, size_t done_from,
                        const uint8_t (*fork_feeds)[MYCEL_PK_LEN], size_t n_forks, bool forks_sent)
{
	mycel__gossip *g = pc->x.g;
	int rv;
	if ((rv = mycel_arena_new(CALL_ARENA_MAX, &pc->a)) != 0)
		return rv;
	size_t nr = rs->n - done_from;
	if (nr > 1000)
		nr = 1000;
	mycel_msg_FeedRange *fr = nr ? mycel_arena_alloc(pc->a, nr * sizeof(*fr)) : NULL;
	mycel_bytes *ff = NULL;
	size_t nf = forks_sent ? 0 : (n_forks > 1000 ? 1000 : n_forks);
	if (nf > 0)
		ff = mycel_arena_alloc(pc->a, nf * sizeof(*ff));
	if ((nr > 0 && fr == NULL) || (nf > 0 && ff == NULL)) {
		mycel_arena_free(pc->a);
		pc->a = NULL;
		return MYCEL_ENOMEM;
	}
	for (size_t i = 0; i < nr; i++) {
		const range *r = &rs->r[done_from + i];
		memset(&fr[i], 0, sizeof(fr[i]));
		fr[i].feed = r->feed;
		fr[i].feed_len = MYCEL_PK_LEN;
		fr[i].has_from_seq = true;
		fr[i].from_seq = r->from;
		fr[i].has_to_seq = true;
		fr[i].to_seq = r->to;
	}
	for (size_t i = 0; i < nf; i++) {
		ff[i].ptr = fork_feeds[i];
		ff[i].len = MYCEL_PK_LEN;
	}
	memset(&pc->rq, 0, sizeof(pc->rq));
	pc->rq.ranges = fr;
	pc->rq.n_ranges = nr;
	pc->rq.has_max_entries = true;
	pc->rq.max_entries = g->o.batch_entries;
	pc->rq.has_max_bytes = true;
	pc->rq.max_bytes = g->o.batch_bytes;
	pc->rq.fork_feeds = ff;
	pc->rq.n_fork_feeds = nf;
	pc->from = done_from;
	pc->nr = nr;
	return 0;
}

static void *pull_call_main(void *arg)
{
	pull_call *pc = arg;
	int rv = call(&pc->x, "mycel.v1.Mesh/Pull", &pc->rq, pc->a, &pc->rp, &pc->st);
	pthread_mutex_lock(&pc->mu);
	pc->rv = rv;
	pc->fetched = true;
	pthread_cond_signal(&pc->cv);
	pthread_mutex_unlock(&pc->mu);
	/*
	 * Verify ahead: the signatures of this batch are checked here, on this thread, while
	 * the batch before it is being committed and the one after it fetched, so the cores
	 * are idle neither during commits nor during fetches. From here on the pulling thread
	 * only reads rp (to compute the next ranges) until it joins this thread.
	 */
	size_t n = pc->rp.n_entries;
	if (pc->threads == 0 || rv != 0 || pc->st != MYCEL_RPC_OK || n == 0 ||
	    atomic_load(&pc->cancel))
		return NULL;
	mycel_blob *items = mycel_arena_alloc(pc->a, n * sizeof(*items));
	int *codes = mycel_arena_alloc(pc->a, n * sizeof(*codes));
	if (items == NULL || codes == NULL)
		return NULL; /* checked later, in the ingest */
	for (size_t i = 0; i < n; i++) {
		items[i].entry = pc->rp.entries[i].entry;
		items[i].entry_len = pc->rp.entries[i].entry_len;
		items[i].body = pc->rp.entries[i].body;
		items[i].body_len = pc->rp.entries[i].body_len;
	}
	mycel__ingest_check(items, n, pc->threads, codes);
	pc->codes = codes;
	return NULL;
}

/*
 * Starts the Pull of the ranges from `from` (fork feeds already sent) on a thread of its
 * own into *pc, which then checks the reply's signatures too. 0, or a code (nothing
 * started, nothing held).
 */
static int pull_start(xch *x, pull_call *pc, ranges *rs, size_t from)
{
	mycel__gossip *g = x->g;
	int rv;
	memset(pc, 0, sizeof(*pc));
	pc->x = *x;
	pc->x.bytes = 0;
	pc->threads = g->o.verify_threads;
	atomic_init(&pc->cancel, false);
	if ((rv = pull_request(pc, rs, from, NULL, 0, true)) != 0)
		return rv;
	if (pthread_mutex_init(&pc->mu, NULL) != 0)
		goto fail_arena;
	if (pthread_cond_init(&pc->cv, NULL) != 0)
		goto fail_mu;
	if (pthread_create(&pc->t, NULL, pull_call_main, pc) != 0)
		goto fail_cv;
	return 0;
fail_cv:
	pthread_cond_destroy(&pc->cv);
fail_mu:
	pthread_mutex_destroy(&pc->mu);
fail_arena:
	mycel_arena_free(pc->a);
	pc->a = NULL;
	return MYCEL_ENOMEM;
}

/* Waits until the call started by pull_start has its reply (or failed). */
static void pull_wait_fetched(pull_call *pc)
{
	pthread_mutex_lock(&pc->mu);
	while (!pc->fetched)
		pthread_cond_wait(&pc->cv, &pc->mu);
	pthread_mutex_unlock(&pc->mu);
}

/* Joins the thread of a call started by pull_start; its bytes count to x, its error too. */
static void pull_join(xch *x, pull_call *pc)
{
	pthread_join(pc->t, NULL);
	pthread_cond_destroy(&pc->cv);
	pthread_mutex_destroy(&pc->mu);
	x->bytes += pc->x.bytes;
	if (pc->rv != 0 || pc->st != MYCEL_RPC_OK)
		memcpy(x->err, pc->x.err, sizeof(x->err));
}

/* Drops a call started by pull_start (NULL: none): not checked, joined, freed. */
static void pull_drop(xch *x, pull_call *pc)
{
	if (pc == NULL)
		return;
	atomic_store(&pc->cancel, true);
	pthread_join(pc->t, NULL);
	pthread_cond_destroy(&pc->cv);
	pthread_mutex_destroy(&pc->mu);
	x->bytes += pc->x.bytes;
	mycel_arena_free(pc->a);
	pc->a = NULL;
}

/* Whether pc's reply (fetched) is one to ingest: the call succeeded and brought something. */
static bool pull_has_data(const pull_call *pc)
{
	if (pc->rv != 0 || pc->st != MYCEL_RPC_OK)
		return false;
	if (pc->rp.n_entries > 0)
		return true;
	for (size_t i = 0; i < pc->rp.n_forks; i++)
		if (pc->rp.forks[i].a != NULL && pc->rp.forks[i].b != NULL)
			return true;
	return false;
}

/*
 * Advances the ranges of pc's request past the entries of its reply (only used for the
 * next requests, which are dropped if this batch is refused) and returns the index of the
 * first range the next request carries. Reads pc's reply only: its thread may be checking it.
 */
static size_t pull_advance(ranges *rs, const pull_call *pc)
{
	const mycel_msg_PullReply *rp = &pc->rp;
	size_t from = pc->from, nr = pc->nr, last = from;
	for (size_t i = 0; i < rp->n_entries; i++) {
		mycel_entry e;
		if (mycel_entry_decode(rp->entries[i].entry, rp->entries[i].entry_len, &e) != 0)
			continue;
		for (size_t j = from; j < from + nr; j++) {
			range *r = &rs->r[j];
			if (memcmp(r->feed, e.h.feed, MYCEL_PK_LEN) == 0 && e.h.seq >= r->from &&
			    e.h.seq <= r->to) {
				r->from = e.h.seq + 1;
				if (j > last)
					last = j;
				break;
			}
		}
	}
	if (!(rp->has_more && rp->more))
		return from + nr;
	/* ranges before the last one served are done (empty ones were skipped) */
	size_t next = from;
	while (next < last || (next < rs->n && rs->r[next].from > rs->r[next].to))
		next++;
	return next;
}

/*
 * Pulls the ranges rs (and the fork proofs of fork_feeds) from x's peer, in batches, each
 * ingested before the next. Pipelined, two batches ahead: while batch k is committed,
 * batch k+1 (fetched) is being verified on its own thread and batch k+2 — its ranges known
 * from k+1's reply as soon as it is decoded — is already being fetched and then verified
 * on a third one, over the same client (raw calls may run concurrently). A refused batch
 * drops those ahead of it: nothing of a later batch is committed before an earlier one.
 */
static int pull(xch *x, ranges *rs, const uint8_t (*fork_feeds)[MYCEL_PK_LEN], size_t n_forks)
{
	mycel__gossip *g = x->g;
	int rv = 0;
	size_t req_from = 0; /* the next request's first range, once the last reply is known */
	bool forks_sent = n_forks == 0;
	pull_call slot[3];
	size_t k = 0;                       /* batches taken so far; batch i is in slot[i % 3] */
	pull_call *ahead = NULL, *ahead2 = NULL; /* batches k+1 and k+2, on their threads */
	bool ahead_used = false; /* ahead's reply advanced the ranges (req_from is past it) */
	for (;;) {
		if (stopping(g) || peer_ignored(g, x->p))
			break;
		pull_call *cur = &slot[k % 3];
		if (ahead != NULL) {
			pull_join(x, ahead); /* cur == ahead */
			ahead = ahead2;
			ahead2 = NULL;
			if (!ahead_used && pull_has_data(cur))
				req_from = pull_advance(rs, cur);
			ahead_used = false; /* the former k+2: started, its reply not used yet */
		} else {
			if (req_from >= rs->n && forks_sent)
				break;
			memset(cur, 0, sizeof(*cur));
			cur->x = *x;
			if ((rv = pull_request(cur, rs, req_from, fork_feeds, n_forks, forks_sent)) !=
			    0)
				break;
			cur->rv = call(x, "mycel.v1.Mesh/Pull", &cur->rq, cur->a, &cur->rp, &cur->st);
			if (pull_has_data(cur))
				req_from = pull_advance(rs, cur);
		}
		k++;
		mycel_arena *a = cur->a;
		mycel_msg_PullReply rp = cur->rp;
		if (cur->rv != 0 || cur->st != MYCEL_RPC_OK) {
			mycel_arena_free(a);
			rv = cur->rv != 0 ? cur->rv : MYCEL_EIO;
			break;
		}
		forks_sent = true;
		if (!pull_has_data(cur)) {
			mycel_arena_free(a);
			break; /* nothing (more) to have: the peer's store lacks the rest */
		}
		mycel_blob *items =
		    rp.n_entries ? mycel_arena_alloc(a, rp.n_entries * sizeof(*items)) : NULL;
		mycel__fork_blob *fk =
		    rp.n_forks ? mycel_arena_alloc(a, rp.n_forks * sizeof(*fk)) : NULL;
		if ((rp.n_entries && items == NULL) || (rp.n_forks && fk == NULL)) {
			mycel_arena_free(a);
			rv = MYCEL_ENOMEM;
			break;
		}
		for (size_t i = 0; i < rp.n_entries; i++) {
			items[i].entry = rp.entries[i].entry;
			items[i].entry_len = rp.entries[i].entry_len;
			items[i].body = rp.entries[i].body;
			items[i].body_len = rp.entries[i].body_len;
		}
		size_t nfk = 0;
		for (size_t i = 0; i < rp.n_forks; i++) {
			if (rp.forks[i].a == NULL || rp.forks[i].b == NULL)
				continue;
			fk[nfk].a.entry = rp.forks[i].a->entry;
			fk[nfk].a.entry_len = rp.forks[i].a->entry_len;
			fk[nfk].a.body = rp.forks[i].a->body;
			fk[nfk].a.body_len = rp.forks[i].a->body_len;
			fk[nfk].b.entry = rp.forks[i].b->entry;
			fk[nfk].b.entry_len = rp.forks[i].b->entry_len;
			fk[nfk].b.body = rp.forks[i].b->body;
			fk[nfk].b.body_len = rp.forks[i].b->body_len;
			nfk++;
		}
		bool more = rp.has_more && rp.more;
		/*
		 * Keep two batches ahead: k+1 if none is on its way (the first batch, or a start
		 * that failed: asked again next turn), then, once k+1's reply is in, k+2.
		 */
		if (ahead == NULL && req_from < rs->n && !stopping(g) &&
		    pull_start(x, &slot[k % 3], rs, req_from) == 0) {
			ahead = &slot[k % 3];
			ahead_used = false;
		}
		if (ahead != NULL && ahead2 == NULL && !ahead_used) {
			pull_wait_fetched(ahead);
			if (pull_has_data(ahead)) {
				req_from = pull_advance(rs, ahead);
				ahead_used = true;
				if (req_from < rs->n && !stopping(g) &&
				    pull_start(x, &slot[(k + 1) % 3], rs, req_from) == 0)
					ahead2 = &slot[(k + 1) % 3];
			}
		}
		mycel__ingest_result res;
		memset(&res, 0, sizeof(res));
		/* a batch with more to come is bulk catch-up: not pushed on (mesh.h) */
		uint64_t hops = more ? MYCEL__HOPS_NO_FORWARD : 0;
		if (cur->codes != NULL)
			rv = mycel__ingest_checked(g->env.ctx, items, rp.n_entries, cur->codes, fk,
			                           nfk, x->p->url, hops, &res);
		else
			rv = mycel__ingest(g->env.ctx, items, rp.n_entries, fk, nfk, x->p->url,
			                   hops, g->o.verify_threads, &res);
		bool stop = rv != 0 || res.code != 0;
		if (rv != 0) {
			mycel__gp_why(x->err, sizeof(x->err), "ingest: %s", mycel_strerror(rv));
		} else {
			pthread_mutex_lock(&g->mu);
			x->p->in += res.accepted;
			g->st.pulled += res.accepted;
			pthread_mutex_unlock(&g->mu);
			/*
			 * a conflicting entry is evidence against the feed's owner, not the peer;
			 * so is one beyond a compromised feed's cut, which a peer on an older
			 * charter version holds in good faith
			 */
			if (res.code != 0 && res.code != MYCEL_EFORK && res.code != MYCEL_EREVOKED)
				note_reject(x, res.code, res.why);
		}
		mycel_arena_free(a);
		if (stop)
			break; /* the rest of this peer's data waits for another round */
	}
	/* stopping, the peer ignored, refused or done: drop what was fetched ahead */
	pull_drop(x, ahead2);
	pull_drop(x, ahead);
	return rv;
}

/* Entries collected from the store for a push. */
typedef struct push_batch {
	mycel_msg_Entry *e;
	size_t n, cap;
	uint64_t bytes;
	mycel_arena *a;
	uint64_t to;
	unsigned max_n;
	uint64_t max_bytes;
	bool full;
	int err;
} push_batch;

static int push_scan_cb(void *ctx, const mycel_entry *e, const uint8_t *body, size_t body_len)
{
	push_batch *pb = ctx;
	if (e->h.seq > pb->to)
		return 1;
	uint64_t size = (uint64_t)e->len + body_len;
	if (pb->n >= pb->max_n || (pb->n > 0 && pb->bytes + size > pb->max_bytes)) {
		pb->full = true;
		return 1;
	}
	uint8_t *er = mycel_arena_alloc(pb->a, e->len);
	uint8_t *bd = body != NULL ? mycel_arena_alloc(pb->a, body_len ? body_len : 1) : NULL;
	if (er == NULL || (body != NULL && bd == NULL)) {
		pb->err = MYCEL_ENOMEM;
		return 1;
	}
	memcpy(er, e->raw, e->len);
	if (body_len > 0)
		memcpy(bd, body, body_len);
	mycel_msg_Entry *m = &pb->e[pb->n++];
	memset(m, 0, sizeof(*m));
	m->entry = er;
	m->entry_len = e->len;
	m->body = bd;
	m->body_len = body != NULL ? body_len : 0;
	pb->bytes += size;
	return 0;
}

/* Sends one Push of entries/forks to x's peer. 0 or a code (err set). */
static int send_push(xch *x, const mycel_msg_Entry *e, size_t n, const mycel_msg_ForkProof *f,
                     size_t nf, uint64_t hops)
{
	mycel__gossip *g = x->g;
	mycel_arena *a = NULL;
	int rv = mycel_arena_new((size_t)1u << 20, &a);
	if (rv != 0)
		return rv;
	mycel_msg_PushRequest rq;
	mycel_msg_PushReply rp;
	memset(&rq, 0, sizeof(rq));
	rq.entries = e;
	rq.n_entries = n;
	rq.has_hops = true;
	rq.hops = hops;
	rq.forks = f;
	rq.n_forks = nf;
	const char *self = mycel__gp_announce(g);
	if (self != NULL) {
		rq.from = self;
		rq.from_len = strlen(self);
	}
	uint64_t st = 0;
	rv = call(x, "mycel.v1.Mesh/Push", &rq, a, &rp, &st);
	if (rv == 0 && st != MYCEL_RPC_OK)
		rv = MYCEL_EIO;
	if (rv == 0) {
		pthread_mutex_lock(&g->mu);
		x->p->out += rp.accepted;
		g->st.pushed += rp.accepted;
		pthread_mutex_unlock(&g->mu);
		if (rp.refused > 0) {
			char qa[URLCAP + 64], qb[1100];
			mycel__gp_log(
			    g, MYCEL_NODE_DEBUG, "msg=\"push refused\" peer=%s refused=%llu why=%s",
			    mycel__gp_q(x->p->url, qa, sizeof(qa)), (unsigned long long)rp.refused,
			    mycel__gp_q(rp.reason != NULL ? rp.reason : "", qb, sizeof(qb)));
		}
	}
	mycel_arena_free(a);
	return rv;
}

/* Pushes the entries of the ranges to the peer (what it lacks), in batches. */
static int push_ranges(xch *x, const ranges *rs)
{
	mycel__gossip *g = x->g;
	int rv = 0;
	push_batch pb;
	memset(&pb, 0, sizeof(pb));
	pb.max_n = g->o.batch_entries;
	pb.max_bytes = g->o.batch_bytes;
	for (size_t i = 0; i < rs->n && rv == 0 && !stopping(g); i++) {
		uint64_t from = rs->r[i].from;
		while (from <= rs->r[i].to && rv == 0 && !stopping(g)) {
			if (pb.a == NULL) {
				if ((rv = mycel_arena_new((size_t)g->o.batch_bytes * 2 +
				                              ((size_t)2u << 20),
				                          &pb.a)) != 0)
					break;
				pb.e = mycel_arena_alloc(pb.a, pb.max_n * sizeof(*pb.e));
				if (pb.e == NULL) {
					rv = MYCEL_ENOMEM;
					break;
				}
			}
			size_t before = pb.n;
			pb.to = rs->r[i].to;
			pb.full = false;
			int s = mycel_store_scan(g->env.ctx->store, rs->r[i].feed, from,
			                         push_scan_cb, &pb);
			if (pb.err != 0 || s < 0) {
				rv = pb.err != 0 ? pb.err : s;
				break;
			}
			size_t got = pb.n - before;
			from += got;
			if (pb.full || (got == 0 && pb.n > 0)) {
				rv = send_push(x, pb.e, pb.n, NULL, 0, 1);
				mycel_arena_free(pb.a);
				memset(&pb, 0, sizeof(pb));
				pb.max_n = g->o.batch_entries;
				pb.max_bytes = g->o.batch_bytes;
			}
			if (got == 0 && !pb.full)
				break; /* the store has no more of this feed */
		}
	}
	if (rv == 0 && pb.n > 0)
		rv = send_push(x, pb.e, pb.n, NULL, 0, 1);
	mycel_arena_free(pb.a);
	return rv;
}

/* Compares the peer's heads with ours and pulls / pushes the differences. */
static int reconcile(xch *x, mycel__frontier *f, const mycel_msg_FeedHead *hs, size_t n,
                     const uint64_t *buckets, size_t n_buckets)
{
	mycel__gossip *g = x->g;
	ranges pulls = {0}, pushes = {0};
	uint8_t(*forks)[MYCEL_PK_LEN] = NULL;
	size_t n_forks = 0;
	uint8_t(*theirs)[MYCEL_PK_LEN] = NULL;
	mycel__head *mine = NULL;
	size_t n_mine = 0;
	int rv = 0;

	if (n > 0 && (theirs = malloc(n * sizeof(*theirs))) == NULL)
		return MYCEL_ENOMEM;
	if (n > 0 && (forks = malloc(n * sizeof(*forks))) == NULL) {
		rv = MYCEL_ENOMEM;
		goto done;
	}
	size_t nt = 0;
	for (size_t i = 0; i < n; i++) {
		const mycel_msg_FeedHead *h = &hs[i];
		bool forked = h->has_forked && h->forked;
		uint64_t seq = h->has_seq ? h->seq : 0;
		/* a feed known only by a fork proof has seq 0 and no head */
		if (h->feed == NULL || h->feed_len != MYCEL_PK_LEN || (seq == 0 && !forked) ||
		    (seq > 0 && (h->head == NULL || h->head_len != MYCEL_HASH_LEN)))
			continue; /* not a head: skip it */
		memcpy(theirs[nt++], h->feed, MYCEL_PK_LEN);
		mycel__head my;
		memset(&my, 0, sizeof(my));
		bool have = mycel__frontier_get(f, h->feed, &my);
		uint64_t my_seq = have ? my.seq : 0;
		/* a peer on an older charter may hold entries beyond a cut ours declares */
		const mycel_charter *ch = mycel_store_charter(g->env.ctx->store);
		const mycel_charter_cut *cut =
		    ch != NULL ? mycel_charter_find_compromised(ch, h->feed) : NULL;
		bool clamped = cut != NULL && seq > cut->seq;
		if (clamped)
			seq = cut->seq > my_seq ? cut->seq : my_seq;
		if (my_seq < seq) {
			x->lag += seq - my_seq;
			if ((rv = ranges_add(&pulls, h->feed, my_seq + 1, seq)) != 0)
				goto done;
		} else if (my_seq > seq) {
			if ((rv = ranges_add(&pushes, h->feed, seq + 1, my_seq)) != 0)
				goto done;
		}
		if ((!clamped && seq > 0 && my_seq == seq &&
		     memcmp(my.head, h->head, MYCEL_HASH_LEN) != 0) ||
		    (forked && !(have && my.forked)))
			memcpy(forks[n_forks++], h->feed, MYCEL_PK_LEN);
	}
	/* our feeds in the compared buckets that the peer lacks altogether */
	if (nt > 0)
		qsort(theirs, nt, sizeof(*theirs), feed_cmp);
	if ((rv = mycel__frontier_heads(f, buckets, n_buckets, &mine, &n_mine)) != 0)
		goto done;
	for (size_t i = 0; i < n_mine; i++)
		if ((nt == 0 ||
		     bsearch(mine[i].feed, theirs, nt, sizeof(*theirs), feed_cmp) == NULL) &&
		    (rv = ranges_add(&pushes, mine[i].feed, 1, mine[i].seq)) != 0)
			goto done;
	pthread_mutex_lock(&g->mu);
	x->p->lag = x->lag;
	pthread_mutex_unlock(&g->mu);
	if (!peer_ignored(g, x->p) && (pulls.n > 0 || n_forks > 0) &&
	    (rv = pull(x, &pulls, (const uint8_t(*)[MYCEL_PK_LEN])forks, n_forks)) != 0)
		goto done;
	if (pushes.n > 0)
		rv = push_ranges(x, &pushes);
done:
	free(mine);
	free(theirs);
	free(forks);
	free(pulls.r);
	free(pushes.r);
	return rv;
}

static int exchange(mycel__gossip *g, peer *p, uint64_t *out_bytes)
{
	xch x;
	memset(&x, 0, sizeof(x));
	x.g = g;
	x.p = p;
	mycel_rpc_ctx *ctx = g->env.ctx;
	mycel__frontier *f = ctx->frontier, *own = NULL;
	mycel_arena *a = NULL;
	int rv;
	char qa[URLCAP + 64];

	if ((rv = client_of(&x)) != 0)
		goto done;
	if (f == NULL) {
		if ((rv = mycel__frontier_open(ctx->store, &own)) != 0) {
			mycel__gp_why(x.err, sizeof(x.err), "frontier: %s", mycel_strerror(rv));
			goto done;
		}
		f = own;
	}
	uint8_t digest[MYCEL_HASH_LEN], mesh_id[MYCEL_HASH_LEN], chash[MYCEL_HASH_LEN];
	size_t feeds = 0;
	mycel__frontier_digest(f, digest, &feeds);
	const mycel_charter *ch = mycel_store_charter(ctx->store);
	if (ch == NULL || mycel_store_mesh_id(ctx->store, mesh_id) != 0 ||
	    mycel_charter_digest(ch, chash) != 0) {
		rv = MYCEL_ECHARTER;
		mycel__gp_why(x.err, sizeof(x.err), "this node holds no charter");
		goto done;
	}
	uint64_t cver = mycel_charter_version(ch);
	if ((rv = mycel_arena_new(CALL_ARENA_MAX, &a)) != 0)
		goto done;

	mycel_msg_DigestRequest rq;
	mycel_msg_DigestReply rp;
	memset(&rq, 0, sizeof(rq));
	rq.digest = digest;
	rq.digest_len = MYCEL_HASH_LEN;
	rq.mesh_id = mesh_id;
	rq.mesh_id_len = MYCEL_HASH_LEN;
	rq.charter_hash = chash;
	rq.charter_hash_len = MYCEL_HASH_LEN;
	rq.has_charter_version = true;
	rq.charter_version = cver;
	rq.has_feeds = true;
	rq.feeds = feeds;
	pthread_mutex_lock(&g->mu);
	bool send_from = p->exchanges % FROM_EVERY == 0 || p->state != MYCEL__PEER_ALIVE;
	p->exchanges++;
	pthread_mutex_unlock(&g->mu);
	if (send_from && mycel__gp_announce(g) != NULL) {
		rq.from = mycel__gp_announce(g);
		rq.from_len = strlen(rq.from);
	}
	uint64_t st = 0;
	if ((rv = call(&x, "mycel.v1.Mesh/Digest", &rq, a, &rp, &st)) != 0)
		goto done;
	if (st != MYCEL_RPC_OK) {
		rv = MYCEL_EIO;
		if (st == MYCEL_RPC_FAILED_PRECONDITION && strstr(x.err, "mesh") != NULL) {
			pthread_mutex_lock(&g->mu);
			bool first = !p->other_mesh_logged;
			p->other_mesh_logged = true;
			pthread_mutex_unlock(&g->mu);
			char hx[17], qb[300];
			if (first)
				mycel__gp_log(g, MYCEL_NODE_WARN,
				              "msg=\"other mesh\" peer=%s ours=%s why=%s",
				              mycel__gp_q(p->url, qa, sizeof(qa)),
				              mycel__gp_hex8(mesh_id, hx),
				              mycel__gp_q(x.err, qb, sizeof(qb)));
		}
		goto done;
	}
	if (rp.has_equal && rp.equal)
		goto done; /* in sync: the whole idle cost */
	if (rp.has_charter_version && rp.charter_version > cver && !peer_ignored(g, p) &&
	    (rv = adopt_charters(&x, chash, cver)) != 0)
		goto done;
	if (rp.n_buckets > 0) {
		if (rp.n_buckets != MYCEL__FRONTIER_BUCKETS) {
			rv = MYCEL_EFORMAT;
			mycel__gp_why(x.err, sizeof(x.err),
			              "Digest reply: %zu bucket digests, not %u", rp.n_buckets,
			              MYCEL__FRONTIER_BUCKETS);
			goto done;
		}
		uint8_t(*mine)[MYCEL_HASH_LEN] = malloc(MYCEL__FRONTIER_BUCKETS * MYCEL_HASH_LEN);
		uint64_t diff[MYCEL__FRONTIER_BUCKETS];
		size_t nd = 0;
		if (mine == NULL) {
			rv = MYCEL_ENOMEM;
			goto done;
		}
		mycel__frontier_buckets(f, mine);
		for (size_t b = 0; b < MYCEL__FRONTIER_BUCKETS; b++)
			if (rp.buckets[b].len != MYCEL_HASH_LEN ||
			    memcmp(rp.buckets[b].ptr, mine[b], MYCEL_HASH_LEN) != 0)
				diff[nd++] = b;
		free(mine);
		if (nd == 0)
			goto done;
		mycel_msg_DigestReply rp2;
		rq.buckets = diff;
		rq.n_buckets = nd;
		rq.from = NULL;
		rq.from_len = 0;
		if ((rv = call(&x, "mycel.v1.Mesh/Digest", &rq, a, &rp2, &st)) != 0)
			goto done;
		if (st != MYCEL_RPC_OK) {
			rv = MYCEL_EIO;
			goto done;
		}
		rv = reconcile(&x, f, rp2.heads, rp2.n_heads, diff, nd);
	} else {
		rv = reconcile(&x, f, rp.heads, rp.n_heads, NULL, 0);
	}
done:
	mycel_arena_free(a);
	mycel__frontier_free(own);
	pthread_mutex_lock(&g->mu);
	g->st.exchanges++;
	if (rv == 0)
		g->st.exchanges_ok++;
	else if (x.err[0] == '\0')
		mycel__gp_why(x.err, sizeof(x.err), "%s", mycel_strerror(rv));
	if (!p->removed && !g->stopping) /* a stop's aborted call says nothing of the peer */
		mycel__gp_outcome(g, p, rv == 0, x.err);
	pthread_mutex_unlock(&g->mu);
	if (rv != 0)
		mycel__gp_log(g, MYCEL_NODE_DEBUG, "msg=\"exchange failed\" peer=%s err=%s",
		              mycel__gp_q(p->url, qa, sizeof(qa)), mycel_errname(rv));
	if (out_bytes != NULL)
		*out_bytes = x.bytes;
	return rv;
}

int mycel__gossip_exchange(mycel__gossip *g, const char *url, uint64_t *out_bytes)
{
	pthread_mutex_lock(&g->mu);
	peer *p = mycel__gp_find(g, url);
	if (p != NULL)
		p->busy++;
	pthread_mutex_unlock(&g->mu);
	if (p == NULL)
		return MYCEL_ENOTFOUND;
	int rv = exchange(g, p, out_bytes);
	mycel__gp_release(g, &p, 1);
	return rv;
}

/* ---- rounds -------------------------------------------------------------------------------- */

/*
 * One exchange of a round on its own thread. A round does not wait for the exchanges of
 * the round before: a slot whose exchange still runs (a peer that does not answer holds
 * its slot until the call's deadline) is skipped, and at most `fanout` exchanges run at
 * once, so one unreachable peer never stalls the rounds with the others.
 */
typedef struct xjob {
	mycel__gossip *g;
	peer *p;
	pthread_t t;
	bool running; /* a thread was started and is not joined yet */
	bool done;    /* under g->mu: its exchange returned */
} xjob;

static void *xjob_main(void *arg)
{
	xjob *j = arg;
	(void)exchange(j->g, j->p, NULL);
	pthread_mutex_lock(&j->g->mu);
	j->done = true;
	pthread_mutex_unlock(&j->g->mu);
	return NULL;
}

/* Joins the jobs that are done (all of them when all is set); g->mu held, dropped meanwhile. */
static void reap_jobs(mycel__gossip *g, xjob *jobs, size_t n, bool all)
{
	for (size_t i = 0; i < n; i++) {
		xjob *j = &jobs[i];
		if (!j->running || (!all && !j->done))
			continue;
		pthread_mutex_unlock(&g->mu);
		pthread_join(j->t, NULL);
		mycel__gp_release(g, &j->p, 1);
		pthread_mutex_lock(&g->mu);
		j->running = false;
	}
}

/* Learns the peers of every stored domain profile (the latest `domain` entry of each feed). */
typedef struct dom_scan {
	mycel__gossip *g;
	uint8_t (*feeds)[MYCEL_PK_LEN];
	size_t n, cap;
	uint8_t *body;
	size_t body_len;
	bool has;
} dom_scan;

static int dom_feed_cb(void *ctx, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
                       const uint8_t *head)
{
	(void)seq;
	(void)head;
	dom_scan *d = ctx;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		if (cap > FEEDS_CAP)
			return 1;
		void *nf = realloc(d->feeds, cap * sizeof(*d->feeds));
		if (nf == NULL)
			return 1;
		d->feeds = nf;
		d->cap = cap;
	}
	memcpy(d->feeds[d->n++], feed, MYCEL_PK_LEN);
	return 0;
}

static int dom_entry_cb(void *ctx, const mycel_entry *e, const uint8_t *body, size_t body_len)
{
	dom_scan *d = ctx;
	if (strcmp(e->h.kind, "domain") != 0 || body == NULL)
		return 0;
	uint8_t *nb = realloc(d->body, body_len ? body_len : 1);
	if (nb == NULL)
		return 1;
	memcpy(nb, body, body_len);
	d->body = nb;
	d->body_len = body_len;
	d->has = true;
	return 0;
}

static void learn_domains(mycel__gossip *g)
{
	dom_scan d;
	memset(&d, 0, sizeof(d));
	d.g = g;
	mycel_store *s = g->env.ctx->store;
	(void)mycel_store_feeds(s, dom_feed_cb, &d);
	for (size_t i = 0; i < d.n && !stopping(g); i++) {
		d.has = false;
		(void)mycel_store_scan(s, d.feeds[i], 1, dom_entry_cb, &d);
		if (d.has)
			mycel__gp_learn_profile(g, d.feeds[i], d.body, d.body_len);
	}
	free(d.body);
	free(d.feeds);
}

static void *round_main(void *arg)
{
	mycel__gossip *g = arg;
	xjob jobs[ROUND_MAX];
	memset(jobs, 0, sizeof(jobs));
	learn_domains(g);
	pthread_mutex_lock(&g->mu);
	while (!g->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t wait = mycel__gossip_jitter(g->o.interval_ms, mycel__gp_rnd(g));
		ts.tv_sec += (time_t)(wait / 1000);
		ts.tv_nsec += (long)(wait % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (!g->stopping && !g->kick)
			if (pthread_cond_timedwait(&g->round_cv, &g->mu, &ts) != 0)
				break;
		if (g->stopping)
			break;
		g->kick = false;
		reap_jobs(g, jobs, ROUND_MAX, false);
		size_t running = 0;
		for (size_t i = 0; i < ROUND_MAX; i++)
			running += jobs[i].running;
		peer *sel[ROUND_MAX];
		size_t n =
		    running < g->o.fanout ? mycel__gp_pick(g, g->o.fanout - running, sel, true) : 0;
		g->st.rounds++;
		for (size_t i = 0, k = 0; i < n; i++) {
			while (jobs[k].running) /* a free slot exists: running + n <= fanout */
				k++;
			xjob *j = &jobs[k];
			j->g = g;
			j->p = sel[i];
			j->done = false;
			j->running = pthread_create(&j->t, NULL, xjob_main, j) == 0;
			if (!j->running) {
				pthread_mutex_unlock(&g->mu);
				(void)exchange(g, sel[i], NULL);
				mycel__gp_release(g, &sel[i], 1);
				pthread_mutex_lock(&g->mu);
			}
		}
	}
	reap_jobs(g, jobs, ROUND_MAX, true);
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

/* ---- push ------------------------------------------------------------------------------------ */

static void qitem_free(qitem *it)
{
	if (it == NULL)
		return;
	free(it->from);
	free(it->body);
	free(it->other_body);
	free(it);
}

static void queue_clear(queue *qq)
{
	while (qq->head != NULL) {
		qitem *it = qq->head;
		qq->head = it->next;
		qitem_free(it);
	}
	qq->tail = NULL;
	qq->n = 0;
	qq->bytes = 0;
}

/* Appends under g->mu, dropping the oldest items beyond the bounds. */
static void enqueue_locked(mycel__gossip *g, queue *qq, qitem *it)
{
	it->next = NULL;
	if (qq->tail != NULL)
		qq->tail->next = it;
	else
		qq->head = it;
	qq->tail = it;
	qq->n++;
	qq->bytes += it->size;
	while (qq->n > MYCEL__GOSSIP_QUEUE_MAX || qq->bytes > MYCEL__GOSSIP_QUEUE_BYTES) {
		qitem *old = qq->head;
		qq->head = old->next;
		if (qq->head == NULL)
			qq->tail = NULL;
		qq->n--;
		qq->bytes -= old->size;
		g->st.push_dropped++;
		qitem_free(old);
	}
	pthread_cond_broadcast(&g->push_cv);
}

static void to_msg(mycel_msg_Entry *m, const uint8_t *e, size_t el, const uint8_t *b, size_t bl)
{
	memset(m, 0, sizeof(*m));
	m->entry = e;
	m->entry_len = el;
	m->body = b;
	m->body_len = b != NULL ? bl : 0;
}

/*
 * How many peers a push goes to: at least fanout, and ln(peers + 1) + 2 rounded up. An
 * epidemic push with fanout f leaves about e^-f of the nodes unreached (they wait for an
 * anti-entropy round); growing f with the log of the mesh keeps that near zero at any size
 * for a few more small messages per hop (64 nodes: 7).
 */
static size_t push_fanout(const mycel__gossip *g)
{
	size_t k = 0;
	double x = 1.0;
	while (x < (double)g->n_peers + 1.0 && k < ROUND_MAX) {
		x *= 2.718281828459045;
		k++;
	}
	k += 2;
	if (k < g->o.fanout)
		k = g->o.fanout;
	return k < ROUND_MAX ? k : ROUND_MAX;
}

/* Sends items (all forks, or entries with one `from`) to the chosen peers. */
static void push_items(mycel__gossip *g, qitem **items, size_t n, bool forks)
{
	peer *targets[ROUND_MAX];
	const char *from = items[0]->from;
	pthread_mutex_lock(&g->mu);
	size_t nt =
	    mycel__gp_targets(g, forks ? ROUND_MAX : push_fanout(g), forks ? NULL : from, targets);
	pthread_mutex_unlock(&g->mu);
	mycel_msg_Entry *es = NULL;
	mycel_msg_ForkProof *fs = NULL;
	mycel_msg_Entry *fe = NULL;
	if (nt == 0)
		goto done;
	if (forks) {
		fs = calloc(n, sizeof(*fs));
		fe = calloc(2 * n, sizeof(*fe));
		if (fs == NULL || fe == NULL)
			goto done;
		for (size_t i = 0; i < n; i++) {
			to_msg(&fe[2 * i], items[i]->entry, items[i]->entry_len, items[i]->body,
			       items[i]->body_len);
			to_msg(&fe[2 * i + 1], items[i]->other, items[i]->other_len,
			       items[i]->other_body, items[i]->other_body_len);
			fs[i].a = &fe[2 * i];
			fs[i].b = &fe[2 * i + 1];
		}
	} else {
		if ((es = calloc(n, sizeof(*es))) == NULL)
			goto done;
		for (size_t i = 0; i < n; i++)
			to_msg(&es[i], items[i]->entry, items[i]->entry_len, items[i]->body,
			       items[i]->body_len);
	}
	/*
	 * Hops: one more than the most any of these entries travelled to get here (0 for
	 * entries published here or pulled); past max_hops they are not forwarded. A push also
	 * dies out on its own, because only entries a node did not hold are forwarded.
	 */
	uint64_t hops = 0;
	for (size_t i = 0; i < n; i++)
		if (items[i]->hops > hops)
			hops = items[i]->hops;
	hops++;
	if (hops > g->o.max_hops)
		goto done;
	for (size_t i = 0; i < nt && !stopping(g); i++) {
		xch x;
		memset(&x, 0, sizeof(x));
		x.g = g;
		x.p = targets[i];
		int rv = client_of(&x);
		if (rv == 0)
			rv = forks ? send_push(&x, NULL, 0, fs, n, hops)
			           : send_push(&x, es, n, NULL, 0, hops);
		pthread_mutex_lock(&g->mu);
		if (!targets[i]->removed && !g->stopping)
			mycel__gp_outcome(g, targets[i], rv == 0,
			                  x.err[0] ? x.err : mycel_strerror(rv));
		pthread_mutex_unlock(&g->mu);
	}
done:
	mycel__gp_release(g, targets, nt);
	free(es);
	free(fs);
	free(fe);
}

static void *push_main(void *arg)
{
	mycel__gossip *g = arg;
	qitem **items = calloc(1000, sizeof(*items));
	if (items == NULL)
		return NULL;
	pthread_mutex_lock(&g->mu);
	for (;;) {
		while (!g->stopping && (g->hold_push || (g->q.head == NULL && g->fq.head == NULL)))
			pthread_cond_wait(&g->push_cv, &g->mu);
		if (g->stopping)
			break;
		bool forks = g->fq.head != NULL;
		queue *qq = forks ? &g->fq : &g->q;
		size_t n = 0;
		uint64_t bytes = 0;
		const char *from = qq->head->from;
		while (qq->head != NULL && n < 1000 && (forks || n < g->o.batch_entries)) {
			qitem *it = qq->head;
			bool same =
			    (from == NULL && it->from == NULL) ||
			    (from != NULL && it->from != NULL && strcmp(from, it->from) == 0);
			if (!forks && (!same || (n > 0 && bytes + it->size > g->o.batch_bytes)))
				break;
			qq->head = it->next;
			if (qq->head == NULL)
				qq->tail = NULL;
			qq->n--;
			qq->bytes -= it->size;
			bytes += it->size;
			items[n++] = it;
		}
		pthread_mutex_unlock(&g->mu);
		push_items(g, items, n, forks);
		for (size_t i = 0; i < n; i++)
			qitem_free(items[i]);
		pthread_mutex_lock(&g->mu);
		g->st.push_batches++;
	}
	pthread_mutex_unlock(&g->mu);
	free(items);
	return NULL;
}

/* ---- mesh ops ----------------------------------------------------------------------------------
 */

void mycel__gp_committed(void *arg, const mycel__committed *c)
{
	mycel__gossip *g = arg;
	if (c == NULL || c->entry == NULL)
		return;
	if (c->fork_other == NULL && strcmp(c->entry->h.kind, "domain") == 0 && c->body != NULL)
		mycel__gp_learn_profile(g, c->entry->h.feed, c->body, c->body_len);
	if (c->fork_other != NULL) {
		char hx[17];
		mycel__gp_log(g, MYCEL_NODE_WARN, "msg=\"fork\" feed=%s seq=%llu",
		              mycel__gp_hex8(c->entry->h.feed, hx),
		              (unsigned long long)c->entry->h.seq);
	}
	const char *from = c->from;
	uint64_t hops = c->hops;
	if (hops == MYCEL__HOPS_NO_FORWARD) {
		if (c->fork_other == NULL)
			return; /* bulk catch-up: anti-entropy spreads it */
		hops = 0;
	}
	if (g->o.no_push)
		return;
	qitem *it = calloc(1, sizeof(*it));
	if (it == NULL)
		goto oom;
	memcpy(it->entry, c->entry->raw, c->entry->len);
	it->entry_len = c->entry->len;
	if (c->body != NULL) {
		if ((it->body = malloc(c->body_len ? c->body_len : 1)) == NULL)
			goto oom;
		memcpy(it->body, c->body, c->body_len);
		it->body_len = c->body_len;
	}
	if (from != NULL && (it->from = strdup(from)) == NULL)
		goto oom;
	it->hops = hops;
	if (c->fork_other != NULL) {
		it->fork = true;
		memcpy(it->other, c->fork_other->raw, c->fork_other->len);
		it->other_len = c->fork_other->len;
		if (c->fork_other_body != NULL) {
			it->other_body =
			    malloc(c->fork_other_body_len ? c->fork_other_body_len : 1);
			if (it->other_body == NULL)
				goto oom;
			memcpy(it->other_body, c->fork_other_body, c->fork_other_body_len);
			it->other_body_len = c->fork_other_body_len;
		}
	}
	it->size = sizeof(*it) + it->body_len + it->other_body_len;
	pthread_mutex_lock(&g->mu);
	enqueue_locked(g, it->fork ? &g->fq : &g->q, it);
	pthread_mutex_unlock(&g->mu);
	return;
oom:
	qitem_free(it);
	pthread_mutex_lock(&g->mu);
	g->st.push_dropped++;
	pthread_mutex_unlock(&g->mu);
}

/* ---- lifecycle
 * ----------------------------------------------------------------------------------- */

int mycel__gossip_new(const mycel_gossip_opts *o, const mycel__gossip_env *env,
                      const char *const *seeds, size_t n_seeds, mycel__gossip **out, char *why,
                      size_t why_len)
{
	if (env == NULL || env->ctx == NULL || env->ctx->store == NULL || out == NULL ||
	    (n_seeds > 0 && seeds == NULL))
		return MYCEL_EINVAL;
	int rv = mycel_gossip_opts_check(o, why, why_len);
	if (rv != 0)
		return rv;
	mycel__gossip *g = calloc(1, sizeof(*g));
	if (g == NULL)
		return MYCEL_ENOMEM;
	mycel_gossip_opts_resolve(o, &g->o);
	g->env = *env;
	g->rng = env->seed;
	if (g->rng == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		g->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
		         ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)g;
		if (g->rng == 0)
			g->rng = 0x9e3779b97f4a7c15ULL;
	}
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&g->mu, NULL);
	pthread_mutex_init(&g->persist_mu, NULL);
	pthread_cond_init(&g->round_cv, &ca);
	pthread_cond_init(&g->push_cv, NULL);
	pthread_condattr_destroy(&ca);
	pthread_mutex_lock(&g->mu);
	for (size_t i = 0; i < n_seeds && rv == 0; i++) {
		peer *p;
		if (seeds[i] != NULL && mycel__gp_is_self(g, seeds[i]))
			continue; /* a shared seed list may name this node */
		rv = mycel__gp_add(g, seeds[i], MYCEL__SRC_SEED, why, why_len, &p);
	}
	if (rv == 0)
		mycel__gp_load(g);
	pthread_mutex_unlock(&g->mu);
	if (rv != 0) {
		mycel__gossip_free(g);
		return rv;
	}
	*out = g;
	return 0;
}

int mycel__gossip_start(mycel__gossip *g)
{
	if (g == NULL || g->round_started)
		return MYCEL_EINVAL;
	pthread_mutex_lock(&g->mu);
	g->stopping = false;
	for (size_t i = 0; i < g->n_peers; i++) { /* clients a stop aborted: fresh ones */
		mycel_client_close(g->peers[i]->client);
		g->peers[i]->client = NULL;
	}
	pthread_mutex_unlock(&g->mu);
	if (pthread_create(&g->round_thread, NULL, round_main, g) != 0)
		return MYCEL_EIO;
	g->round_started = true;
	if (pthread_create(&g->push_thread, NULL, push_main, g) != 0) {
		mycel__gossip_stop(g);
		return MYCEL_EIO;
	}
	g->push_started = true;
	return 0;
}

void mycel__gossip_stop(mycel__gossip *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	g->stopping = true;
	/* calls in flight end now, not at their deadlines: a stop never waits on the network */
	for (size_t i = 0; i < g->n_peers; i++)
		mycel__client_abort(g->peers[i]->client);
	pthread_cond_broadcast(&g->round_cv);
	pthread_cond_broadcast(&g->push_cv);
	pthread_mutex_unlock(&g->mu);
	if (g->round_started) {
		pthread_join(g->round_thread, NULL);
		g->round_started = false;
	}
	if (g->push_started) {
		pthread_join(g->push_thread, NULL);
		g->push_started = false;
	}
}

size_t mycel__gossip_close_clients(mycel__gossip *g, uint64_t deadline_ms)
{
	if (g == NULL)
		return 0;
	/*
	 * With a deadline, each close is bounded (client_int.h): a peer reconnecting while we
	 * stop must not hold the node's exit. Without one (an in-process node, which must not
	 * leave sockets behind) they close one after the other on this thread: nng 1.5 wedged
	 * (every nng_close waiting on one lock) when many closed at once from many threads.
	 * No thread runs, so the table is ours.
	 */
	bool bounded = deadline_ms != UINT64_MAX;
	mycel__closer **k = bounded && g->n_peers ? calloc(g->n_peers, sizeof(*k)) : NULL;
	for (size_t i = 0; i < g->n_peers; i++) {
		if (k != NULL)
			k[i] = mycel__client_close_start(g->peers[i]->client);
		else
			mycel_client_close(g->peers[i]->client);
		g->peers[i]->client = NULL;
	}
	size_t stalled = 0;
	for (size_t i = 0; k != NULL && i < g->n_peers; i++)
		stalled += !mycel__close_wait(k[i], deadline_ms);
	free(k);
	if (stalled > 0)
		mycel__gp_log(g, MYCEL_NODE_WARN,
		              "msg=\"socket close stalled\" socket=peer count=%zu", stalled);
	return stalled;
}

void mycel__gossip_free(mycel__gossip *g)
{
	if (g == NULL)
		return;
	mycel__gossip_stop(g);
	mycel__gossip_close_clients(g, UINT64_MAX); /* a node bounded it already, if asked */
	for (size_t i = 0; i < g->n_peers; i++)
		free(g->peers[i]);
	free(g->peers);
	free(g->gone);
	queue_clear(&g->q);
	queue_clear(&g->fq);
	pthread_cond_destroy(&g->round_cv);
	pthread_cond_destroy(&g->push_cv);
	pthread_mutex_destroy(&g->persist_mu);
	pthread_mutex_destroy(&g->mu);
	free(g);
}
