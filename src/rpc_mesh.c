/*
 * rpc_mesh.c — the handlers of service mycel.v1.Mesh (proto/PROTOCOL.md §9, §10): Digest,
 * Push, Pull and Charter; Admin PeersAdd/PeersRemove (through the gossip engine's ops,
 * src/mesh.h); and what Status, Get, Search and List add about gossip and forks.
 *
 * Digest compares the caller's frontier and charter digests with ours: equal → {equal}
 * only; else our charter digest and version and every head (a small frontier), the heads
 * of the buckets asked for, or the 256 bucket digests. Push ingests what a peer sends
 * (src/ingest.c) and replies the counts. Charter also returns every charter file after
 * the caller's version.
 *
 * Charter returns the store's current charter file bytes, or nothing when the caller's
 * `have` is its digest. Pull returns the entries of the requested feed ranges, in range
 * order and seq order within a range, each with its body as stored, cut at max_entries /
 * max_bytes (each capped by the node) with `more` set when something was left out; at
 * least one entry is returned when there is one, so a caller always makes progress.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "mesh.h"
#include "mycel/charter.h"
#include "mycel/error.h"
#include "mycel/rpc.h"
#include "mycel/store.h"
#include "mycel_proto.h"
#include "rpc_int.h"

static mycel_rpc_status mfail(mycel_rpc_status st, char *why, size_t why_len, const char *fmt,
			      ...) __attribute__((format(printf, 4, 5)));
static mycel_rpc_status mfail(mycel_rpc_status st, char *why, size_t why_len, const char *fmt,
			      ...)
{
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return st;
}

/* ---- Charter ---------------------------------------------------------------------- */

static mycel_rpc_status h_charter(const mycel_rpc_ctx *c, mycel_arena *a, const void *vreq,
				  void *vrep, char *why, size_t why_len)
{
	const mycel_msg_CharterRequest *rq = vreq;
	mycel_msg_CharterReply *rp = vrep;
	const mycel_charter *ch = mycel_store_charter(c->store);
	uint8_t dig[MYCEL_HASH_LEN];
	mycel_buf b;
	int rv;

	if (rq->have != NULL && rq->have_len != MYCEL_HASH_LEN)
		return mfail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len,
			     "have must be a %d-byte charter digest, not %zu bytes", MYCEL_HASH_LEN,
			     rq->have_len);
	if (ch == NULL)
		return mfail(MYCEL_RPC_FAILED_PRECONDITION, why, why_len,
			     "this node holds no charter");
	if ((rv = mycel_charter_digest(ch, dig)) != 0)
		return mfail(mycel_rpc_status_of(rv), why, why_len, "charter: %s",
			     mycel_strerror(rv));
	if (rq->have != NULL && memcmp(rq->have, dig, MYCEL_HASH_LEN) == 0)
		return MYCEL_RPC_OK; /* the caller's is current */
	mycel_buf_init(&b, MYCEL_CHARTER_MAX);
	rv = mycel_charter_encode(ch, &b);
	if (rv == 0) {
		uint8_t *p = mycel_arena_alloc(a, b.len ? b.len : 1);
		if (p == NULL) {
			rv = MYCEL_ENOMEM;
		} else {
			memcpy(p, b.data, b.len);
			rp->charter = p;
			rp->charter_len = b.len;
		}
	}
	mycel_buf_fini(&b);
	if (rv != 0)
		return mfail(mycel_rpc_status_of(rv), why, why_len, "charter: %s",
			     mycel_strerror(rv));
	/* every charter file after the caller's version, in order (at most 64 per reply) */
	uint64_t cur = mycel_charter_version(ch);
	if (rq->has_version && rq->version < cur) {
		size_t k = (size_t)(cur - rq->version) < MYCEL_CHARTER_NEWER_MAX
				   ? (size_t)(cur - rq->version)
				   : MYCEL_CHARTER_NEWER_MAX;
		mycel_bytes *nb = mycel_arena_alloc(a, k * sizeof(*nb));
		if (nb == NULL)
			return mfail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
		for (size_t i = 0; i < k; i++) {
			uint8_t *f = NULL, *q;
			size_t fl = 0;
			uint64_t v = rq->version + 1 + i;
			if ((rv = mycel_store_charter_file(c->store, v, &f, &fl)) != 0)
				return mfail(mycel_rpc_status_of(rv), why, why_len,
					     "charter version %llu: %s", (unsigned long long)v,
					     mycel_strerror(rv));
			q = mycel_arena_alloc(a, fl ? fl : 1);
			if (q != NULL)
				memcpy(q, f, fl);
			free(f);
			if (q == NULL)
				return mfail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len,
					     "out of memory");
			nb[i].ptr = q;
			nb[i].len = fl;
		}
		rp->newer = nb;
		rp->n_newer = k;
	}
	return MYCEL_RPC_OK;
}

/* ---- Pull ------------------------------------------------------------------------- */

typedef struct pull_ctx {
	mycel_arena *a;
	mycel_msg_Entry *out; /* MYCEL_PULL_ENTRIES_CAP slots */
	size_t n, max_entries;
	uint64_t bytes, max_bytes, to_seq;
	bool more; /* cut by a bound */
	int err;
} pull_ctx;

#define PULL_STOP 1 /* positive: mycel_store_scan returns it as is */

static int pull_cb(void *vctx, const mycel_entry *e, const uint8_t *body, size_t body_len)
{
	pull_ctx *p = vctx;
	if (e->h.seq > p->to_seq)
		return PULL_STOP;
	uint64_t size = (uint64_t)e->len + body_len;
	if (p->n == p->max_entries || (p->n > 0 && p->bytes + size > p->max_bytes)) {
		p->more = true;
		return PULL_STOP;
	}
	mycel_msg_Entry *m = &p->out[p->n];
	uint8_t *er = mycel_arena_alloc(p->a, e->len);
	uint8_t *bd = body != NULL ? mycel_arena_alloc(p->a, body_len ? body_len : 1) : NULL;
	if (er == NULL || (body != NULL && bd == NULL)) {
		p->err = MYCEL_ENOMEM;
		return PULL_STOP;
	}
	memcpy(er, e->raw, e->len);
	if (body != NULL && body_len > 0)
		memcpy(bd, body, body_len);
	m->entry = er;
	m->entry_len = e->len;
	m->body = bd;
	m->body_len = body != NULL ? body_len : 0;
	p->n++;
	p->bytes += size;
	return 0;
}

/* ---- fork proofs ---------------------------------------------------------------- */

typedef struct forks_ctx {
	mycel_store *store;
	mycel_arena *a;
	mycel_msg_ForkProof *out;
	size_t n, cap;
	int err;
} forks_ctx;

static const mycel_msg_Entry *arena_entry(mycel_arena *a, const mycel_entry *e)
{
	mycel_msg_Entry *m = mycel_arena_alloc(a, sizeof(*m));
	uint8_t *raw = mycel_arena_alloc(a, e->len);
	if (m == NULL || raw == NULL)
		return NULL;
	memset(m, 0, sizeof(*m));
	memcpy(raw, e->raw, e->len);
	m->entry = raw;
	m->entry_len = e->len;
	return m;
}

static int forks_cb(void *vctx, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
		    const uint8_t *proof, size_t proof_len)
{
	forks_ctx *f = vctx;
	mycel_entry a, b;
	uint8_t signer[MYCEL_PK_LEN];
	if (f->n == f->cap)
		return PULL_STOP;
	/* the key that signs the feed at that seq (PROTOCOL.md §5.4) */
	if (mycel_store_feed_key(f->store, feed, seq, signer) != 0 ||
	    mycel_fork_verify(proof, proof_len, signer, &a, &b) != 0)
		return 0; /* not servable (mycel verify reports it) */
	f->out[f->n].a = arena_entry(f->a, &a);
	f->out[f->n].b = arena_entry(f->a, &b);
	if (f->out[f->n].a == NULL || f->out[f->n].b == NULL) {
		f->err = MYCEL_ENOMEM;
		return PULL_STOP;
	}
	f->n++;
	return 0;
}

/* Pull's fork_feeds: the stored fork proofs of those feeds (at most 1000 in all). */
static mycel_rpc_status pull_forks(const mycel_rpc_ctx *c, mycel_arena *a,
				   const mycel_msg_PullRequest *rq, mycel_msg_PullReply *rp,
				   char *why, size_t why_len)
{
	forks_ctx f = {c->store, a, NULL, 0, MYCEL_PULL_ENTRIES_CAP, 0};
	if (rq->n_fork_feeds == 0)
		return MYCEL_RPC_OK;
	for (size_t i = 0; i < rq->n_fork_feeds; i++)
		if (rq->fork_feeds[i].len != MYCEL_PK_LEN)
			return mfail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len,
				     "fork_feeds %zu: a feed is %d bytes, not %zu", i, MYCEL_PK_LEN,
				     rq->fork_feeds[i].len);
	f.out = mycel_arena_alloc(a, f.cap * sizeof(*f.out));
	if (f.out == NULL)
		return mfail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
	for (size_t i = 0; i < rq->n_fork_feeds && f.n < f.cap; i++) {
		int rv = mycel_store_forks(c->store, rq->fork_feeds[i].ptr, forks_cb, &f);
		if (f.err != 0)
			rv = f.err;
		if (rv < 0)
			return mfail(mycel_rpc_status_of(rv), why, why_len, "fork_feeds %zu: %s", i,
				     mycel_strerror(rv));
	}
	rp->forks = f.n > 0 ? f.out : NULL;
	rp->n_forks = f.n;
	return MYCEL_RPC_OK;
}

/* Pull's key_feeds: those feeds' key entries with their bodies (at most 1000 in all). */
static mycel_rpc_status pull_keys(const mycel_rpc_ctx *c, mycel_arena *a,
				  const mycel_msg_PullRequest *rq, mycel_msg_PullReply *rp,
				  char *why, size_t why_len)
{
	enum { CAP = 1000 };
	uint64_t seqs[CAP];
	size_t n = 0;
	if (rq->n_key_feeds == 0)
		return MYCEL_RPC_OK;
	mycel_msg_Entry *out = mycel_arena_alloc(a, CAP * sizeof(*out));
	if (out == NULL)
		return mfail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
	for (size_t i = 0; i < rq->n_key_feeds && n < CAP; i++) {
		const uint8_t *feed = rq->key_feeds[i].ptr;
		size_t ns = 0;
		if (rq->key_feeds[i].len != MYCEL_PK_LEN)
			return mfail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len,
				     "key_feeds %zu: a feed is %d bytes, not %zu", i, MYCEL_PK_LEN,
				     rq->key_feeds[i].len);
		int rv = mycel_store_key_seqs(c->store, feed, seqs, CAP - n, &ns);
		for (size_t k = 0; rv == 0 && k < ns; k++) {
			mycel_entry e;
			uint8_t *body = NULL;
			size_t blen = 0;
			if ((rv = mycel_store_get(c->store, feed, seqs[k], &e)) != 0 ||
			    (rv = mycel_store_get_body(c->store, feed, seqs[k], &body, &blen)) != 0)
				break;
			uint8_t *raw = mycel_arena_alloc(a, e.len), *b = mycel_arena_alloc(a, blen ? blen : 1);
			if (raw == NULL || b == NULL) {
				free(body);
				rv = MYCEL_ENOMEM;
				break;
			}
			memcpy(raw, e.raw, e.len);
			memcpy(b, body, blen);
			free(body);
			memset(&out[n], 0, sizeof(out[n]));
			out[n].entry = raw;
			out[n].entry_len = e.len;
			out[n].body = b;
			out[n].body_len = blen;
			n++;
		}
		if (rv != 0)
			return mfail(mycel_rpc_status_of(rv), why, why_len, "key_feeds %zu: %s", i,
				     mycel_strerror(rv));
	}
	rp->key_entries = n > 0 ? out : NULL;
	rp->n_key_entries = n;
	return MYCEL_RPC_OK;
}

static int forked_cb(void *vctx, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
		     const uint8_t *proof, size_t proof_len)
{
	(void)vctx, (void)feed, (void)seq, (void)proof, (void)proof_len;
	return PULL_STOP;
}

/* Does the store hold a fork proof for feed? */
static bool feed_forked(const mycel_rpc_ctx *c, const uint8_t *feed)
{
	mycel__head h;
	if (c->frontier != NULL && mycel__frontier_get(c->frontier, feed, &h))
		return h.forked;
	return mycel_store_forks(c->store, feed, forked_cb, NULL) == PULL_STOP;
}

/* ---- Digest ------------------------------------------------------------------------ */

static void hex8(const uint8_t *p, char out[17])
{
	for (size_t i = 0; i < 8; i++)
		(void)snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static bool valid_from(const mycel_rpc_ctx *c, const char *from, size_t len)
{
	return from != NULL && len > 0 && memchr(from, 0, len) == NULL &&
	       (c->self_url == NULL || strcmp(c->self_url, from) != 0);
}

static mycel_rpc_status h_digest(const mycel_rpc_ctx *c, mycel_arena *a, const void *vreq,
				 void *vrep, char *why, size_t why_len)
{
	const mycel_msg_DigestRequest *rq = vreq;
	mycel_msg_DigestReply *rp = vrep;
	const mycel_charter *ch = mycel_store_charter(c->store);
	uint8_t mid[MYCEL_HASH_LEN], dig[MYCEL_HASH_LEN], chd[MYCEL_HASH_LEN];
	mycel__frontier *f = c->frontier, *own = NULL;
	mycel_rpc_status st = MYCEL_RPC_OK;
	size_t feeds = 0;
	int rv;

	if (rq->mesh_id == NULL || rq->mesh_id_len != MYCEL_HASH_LEN)
		return mfail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len,
			     "mesh_id must be the %d-byte mesh id", MYCEL_HASH_LEN);
	if ((rq->digest != NULL && rq->digest_len != MYCEL_HASH_LEN) ||
	    (rq->charter_hash != NULL && rq->charter_hash_len != MYCEL_HASH_LEN))
		return mfail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len,
			     "digest and charter_hash must be %d bytes", MYCEL_HASH_LEN);
	for (size_t i = 0; i < rq->n_buckets; i++)
		if (rq->buckets[i] >= MYCEL__FRONTIER_BUCKETS)
			return mfail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len,
				     "buckets %zu: bucket %llu is over 255", i,
				     (unsigned long long)rq->buckets[i]);
	if (ch == NULL || mycel_store_mesh_id(c->store, mid) != 0)
		return mfail(MYCEL_RPC_FAILED_PRECONDITION, why, why_len,
			     "this node holds no charter");
	if (memcmp(mid, rq->mesh_id, MYCEL_HASH_LEN) != 0) {
		char theirs[17], ours[17];
		hex8(rq->mesh_id, theirs);
		hex8(mid, ours);
		return mfail(MYCEL_RPC_FAILED_PRECONDITION, why, why_len,
			     "mesh id %s… is not this mesh's %s…", theirs, ours);
	}
	if (c->mesh_ops != NULL && c->mesh_ops->peer_seen != NULL &&
	    valid_from(c, rq->from, rq->from_len))
		c->mesh_ops->peer_seen(c->mesh_arg, rq->from);
	if ((rv = mycel_charter_digest(ch, chd)) != 0)
		return mfail(mycel_rpc_status_of(rv), why, why_len, "charter: %s",
			     mycel_strerror(rv));
	/* the caller runs a newer charter: exchange with it soon, to fetch it (§10.2 step 3) */
	if (rq->has_charter_version && rq->charter_version > mycel_charter_version(ch) &&
	    c->mesh_ops != NULL && c->mesh_ops->gap != NULL && valid_from(c, rq->from, rq->from_len))
		c->mesh_ops->gap(c->mesh_arg, rq->from);
	if (f == NULL) {
		if ((rv = mycel__frontier_open(c->store, &own)) != 0)
			return mfail(mycel_rpc_status_of(rv), why, why_len, "frontier: %s",
				     mycel_strerror(rv));
		f = own;
	}
	mycel__frontier_digest(f, dig, &feeds);
	if (rq->n_buckets == 0 && rq->digest != NULL && rq->charter_hash != NULL &&
	    memcmp(dig, rq->digest, MYCEL_HASH_LEN) == 0 &&
	    memcmp(chd, rq->charter_hash, MYCEL_HASH_LEN) == 0) {
		rp->has_equal = true;
		rp->equal = true;
		goto out;
	}
	uint8_t *ch_copy = mycel_arena_alloc(a, MYCEL_HASH_LEN);
	if (ch_copy == NULL) {
		st = mfail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
		goto out;
	}
	memcpy(ch_copy, chd, MYCEL_HASH_LEN);
	rp->charter_hash = ch_copy;
	rp->charter_hash_len = MYCEL_HASH_LEN;
	rp->has_charter_version = true;
	rp->charter_version = mycel_charter_version(ch);
	rp->has_equal = true;
	rp->equal = false;
	if (rq->n_buckets > 0 || feeds <= MYCEL__FRONTIER_SMALL) {
		mycel__head *h = NULL;
		size_t n = 0;
		rv = mycel__frontier_heads(f, rq->n_buckets > 0 ? rq->buckets : NULL, rq->n_buckets,
					   &h, &n);
		if (rv != 0) {
			st = mfail(mycel_rpc_status_of(rv), why, why_len, "frontier: %s",
				   mycel_strerror(rv));
			goto out;
		}
		mycel_msg_FeedHead *out = mycel_arena_alloc(a, (n ? n : 1) * sizeof(*out));
		uint8_t *raw = mycel_arena_alloc(a, (n ? n : 1) * (MYCEL_PK_LEN + MYCEL_HASH_LEN));
		if (out == NULL || raw == NULL) {
			free(h);
			st = mfail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
			goto out;
		}
		memset(out, 0, (n ? n : 1) * sizeof(*out));
		for (size_t i = 0; i < n; i++) {
			uint8_t *p = raw + i * (MYCEL_PK_LEN + MYCEL_HASH_LEN);
			memcpy(p, h[i].feed, MYCEL_PK_LEN);
			memcpy(p + MYCEL_PK_LEN, h[i].head, MYCEL_HASH_LEN);
			out[i].feed = p;
			out[i].feed_len = MYCEL_PK_LEN;
			out[i].has_seq = true;
			out[i].seq = h[i].seq;
			out[i].head = p + MYCEL_PK_LEN;
			out[i].head_len = MYCEL_HASH_LEN;
			out[i].has_forked = h[i].forked;
			out[i].forked = h[i].forked;
		}
		free(h);
		rp->heads = n > 0 ? out : NULL;
		rp->n_heads = n;
		goto out;
	}
	{
		static const size_t nb = MYCEL__FRONTIER_BUCKETS;
		uint8_t(*bd)[MYCEL_HASH_LEN] = mycel_arena_alloc(a, nb * MYCEL_HASH_LEN);
		mycel_bytes *bo = mycel_arena_alloc(a, nb * sizeof(*bo));
		if (bd == NULL || bo == NULL) {
			st = mfail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
			goto out;
		}
		mycel__frontier_buckets(f, bd);
		for (size_t i = 0; i < nb; i++) {
			bo[i].ptr = bd[i];
			bo[i].len = MYCEL_HASH_LEN;
		}
		rp->buckets = bo;
		rp->n_buckets = nb;
	}
out:
	mycel__frontier_free(own);
	return st;
}

/* ---- Push -------------------------------------------------------------------------- */

static mycel_rpc_status h_push(const mycel_rpc_ctx *c, mycel_arena *a, const void *vreq,
			       void *vrep, char *why, size_t why_len)
{
	const mycel_msg_PushRequest *rq = vreq;
	mycel_msg_PushReply *rp = vrep;
	const mycel__mesh_ops *ops = c->mesh_ops;
	const char *peer = rq->from != NULL && rq->from_len > 0 ? rq->from : "an unnamed peer";
	mycel__ingest_result res;
	int rv;

	for (size_t i = 0; i < rq->n_entries; i++)
		if (rq->entries[i].entry == NULL)
			return mfail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len,
				     "entries %zu: no entry bytes", i);
	for (size_t i = 0; i < rq->n_forks; i++)
		if (rq->forks[i].a == NULL || rq->forks[i].b == NULL ||
		    rq->forks[i].a->entry == NULL || rq->forks[i].b->entry == NULL)
			return mfail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len,
				     "forks %zu: a fork proof needs both entries", i);
	if (ops != NULL && ops->ignored != NULL && ops->ignored(c->mesh_arg, peer))
		return mfail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len,
			     "%s is ignored for sending too much invalid data", peer);
	if (ops != NULL && ops->peer_seen != NULL && valid_from(c, rq->from, rq->from_len))
		ops->peer_seen(c->mesh_arg, rq->from);

	mycel_blob *items = mycel_arena_alloc(a, (rq->n_entries ? rq->n_entries : 1) * sizeof(*items));
	mycel__fork_blob *forks =
	    mycel_arena_alloc(a, (rq->n_forks ? rq->n_forks : 1) * sizeof(*forks));
	if (items == NULL || forks == NULL)
		return mfail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
	for (size_t i = 0; i < rq->n_entries; i++)
		items[i] = (mycel_blob){rq->entries[i].entry, rq->entries[i].entry_len,
					rq->entries[i].body, rq->entries[i].body_len};
	for (size_t i = 0; i < rq->n_forks; i++) {
		const mycel_msg_Entry *x = rq->forks[i].a, *y = rq->forks[i].b;
		forks[i].a = (mycel_blob){x->entry, x->entry_len, x->body, x->body_len};
		forks[i].b = (mycel_blob){y->entry, y->entry_len, y->body, y->body_len};
	}
	rv = mycel__ingest(c, items, rq->n_entries, forks, rq->n_forks, peer,
			   rq->has_hops && rq->hops < MYCEL__HOPS_NO_FORWARD ? rq->hops : 1, 1, &res);
	if (rv == MYCEL_EBUSY)
		return mfail(MYCEL_RPC_UNAVAILABLE, why, why_len, "the node is stopping");
	if (rv != 0)
		return mfail(mycel_rpc_status_of(rv), why, why_len, "push: %s",
			     res.why[0] ? res.why : mycel_strerror(rv));
	rp->has_accepted = rp->has_known = rp->has_refused = true;
	rp->accepted = res.accepted;
	rp->known = res.known;
	rp->refused = res.refused;
	rp->has_gap = res.gap;
	rp->gap = res.gap;
	if (res.code != 0) {
		size_t n = strlen(res.why);
		char *r = mycel_arena_alloc(a, n + 1);
		if (r == NULL)
			return mfail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
		memcpy(r, res.why, n + 1);
		rp->reason = r;
		rp->reason_len = n;
		/*
		 * a conflicting entry is evidence against the feed's owner, not the peer; so is
		 * one beyond a compromised feed's cut (a peer on an older charter holds it)
		 */
		if (ops != NULL && ops->rejected != NULL && res.code != MYCEL_EFORK &&
		    res.code != MYCEL_EREVOKED)
			ops->rejected(c->mesh_arg, peer, res.code, res.why);
	}
	if (res.gap && ops != NULL && ops->gap != NULL && valid_from(c, rq->from, rq->from_len))
		ops->gap(c->mesh_arg, rq->from);
	return MYCEL_RPC_OK;
}

/* ---- Admin PeersAdd / PeersRemove (the gossip engine's table) ---------------------- */

/* The peers table into rp (allocated in a). */
mycel_rpc_status mycel__rpc_peers(const mycel_rpc_ctx *c, mycel_arena *a,
				  mycel_msg_PeersReply *rp, char *why, size_t why_len)
{
	void *p = NULL;
	size_t n = 0;
	int rv;
	if (c->mesh_ops == NULL || c->mesh_ops->peers == NULL)
		return mfail(MYCEL_RPC_FAILED_PRECONDITION, why, why_len,
			     "this node runs without gossip");
	if ((rv = c->mesh_ops->peers(c->mesh_arg, a, &p, &n)) != 0)
		return mfail(mycel_rpc_status_of(rv), why, why_len, "peers: %s",
			     mycel_strerror(rv));
	rp->peers = p;
	rp->n_peers = n;
	return MYCEL_RPC_OK;
}

static mycel_rpc_status peers_change(const mycel_rpc_ctx *c, mycel_arena *a, const void *vreq,
				     void *vrep, char *why, size_t why_len, bool add)
{
	const mycel_msg_PeerRequest *rq = vreq;
	const mycel__mesh_ops *ops = c->mesh_ops;
	char msg[256] = "";
	if (ops == NULL || ops->peer_add == NULL || ops->peer_remove == NULL)
		return mfail(MYCEL_RPC_FAILED_PRECONDITION, why, why_len,
			     "this node runs without gossip");
	if (rq->addr == NULL || rq->addr_len == 0)
		return mfail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len, "addr: a peer URL is required");
	int rv = add ? ops->peer_add(c->mesh_arg, rq->addr, msg, sizeof(msg))
		     : ops->peer_remove(c->mesh_arg, rq->addr, msg, sizeof(msg));
	if (rv == MYCEL_ENOTFOUND)
		return mfail(MYCEL_RPC_NOT_FOUND, why, why_len, "%s",
			     msg[0] ? msg : "no such peer");
	if (rv != 0)
		return mfail(rv == MYCEL_EINVAL ? MYCEL_RPC_INVALID_ARGUMENT : mycel_rpc_status_of(rv),
			     why, why_len, "%s: %s", rq->addr, msg[0] ? msg : mycel_strerror(rv));
	return mycel__rpc_peers(c, a, vrep, why, why_len);
}

static mycel_rpc_status h_peers_add(const mycel_rpc_ctx *c, mycel_arena *a, const void *vreq,
				    void *vrep, char *why, size_t why_len)
{
	return peers_change(c, a, vreq, vrep, why, why_len, true);
}

static mycel_rpc_status h_peers_remove(const mycel_rpc_ctx *c, mycel_arena *a, const void *vreq,
				       void *vrep, char *why, size_t why_len)
{
	return peers_change(c, a, vreq, vrep, why, why_len, false);
}

/* ---- what Status, Get, Search and List add ------------------------------------------ */

typedef struct fl_ctx {
	mycel_arena *a;
	mycel_bytes *out;
	size_t n, cap, proofs;
	uint8_t last[MYCEL_PK_LEN];
} fl_ctx;

static int forked_list_cb(void *vctx, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
			  const uint8_t *proof, size_t proof_len)
{
	fl_ctx *f = vctx;
	(void)seq, (void)proof, (void)proof_len;
	f->proofs++;
	if ((f->n > 0 && memcmp(f->last, feed, MYCEL_PK_LEN) == 0) || f->n == f->cap)
		return 0;
	uint8_t *p = mycel_arena_alloc(f->a, MYCEL_PK_LEN);
	if (p == NULL)
		return MYCEL_ENOMEM;
	memcpy(p, feed, MYCEL_PK_LEN);
	memcpy(f->last, feed, MYCEL_PK_LEN);
	f->out[f->n].ptr = p;
	f->out[f->n++].len = MYCEL_PK_LEN;
	return 0;
}

static void decorate_status(const mycel_rpc_ctx *c, mycel_arena *a, mycel_msg_StatusReply *sr)
{
	fl_ctx f = {a, NULL, 0, 1000, 0, {0}};
	size_t feeds = sr->n_heads;
	/* the node's frontier, or one read from the store for a caller without a node */
	mycel__frontier *own = NULL, *fr = c->frontier;
	if (fr == NULL && mycel__frontier_open(c->store, &own) == 0)
		fr = own;
	uint8_t *d = mycel_arena_alloc(a, MYCEL_HASH_LEN);
	if (fr != NULL && d != NULL) {
		mycel__frontier_digest(fr, d, &feeds);
		sr->frontier_digest = d;
		sr->frontier_digest_len = MYCEL_HASH_LEN;
	}
	mycel__frontier_free(own);
	sr->has_frontier_feeds = true;
	sr->frontier_feeds = feeds;
	f.out = mycel_arena_alloc(a, f.cap * sizeof(*f.out));
	if (f.out != NULL && mycel_store_forks(c->store, NULL, forked_list_cb, &f) == 0) {
		sr->has_forks = true;
		sr->forks = f.proofs;
		sr->forked_feeds = f.n > 0 ? f.out : NULL;
		sr->n_forked_feeds = f.n;
		/* the heads of forked feeds say so */
		mycel_msg_FeedHead *h = (mycel_msg_FeedHead *)sr->heads;
		for (size_t i = 0; i < sr->n_heads && f.n > 0; i++) {
			for (size_t k = 0; k < f.n; k++) {
				if (h[i].feed != NULL && h[i].feed_len == MYCEL_PK_LEN &&
				    memcmp(h[i].feed, f.out[k].ptr, MYCEL_PK_LEN) == 0) {
					h[i].has_forked = true;
					h[i].forked = true;
				}
			}
		}
	}
	if (c->mesh_ops != NULL && c->mesh_ops->peers != NULL) {
		void *p = NULL;
		size_t n = 0;
		if (c->mesh_ops->peers(c->mesh_arg, a, &p, &n) == 0) {
			sr->peer_list = p;
			sr->n_peer_list = n;
			sr->has_peers = true;
			sr->peers = n;
		}
	}
}

/* The forked flag of a search hit or list row: its domain's feed. */
static void decorate_hits(const mycel_rpc_ctx *c, mycel_msg_SearchHit *h, size_t n)
{
	const mycel_charter *ch = mycel_store_charter(c->store);
	for (size_t i = 0; ch != NULL && i < n; i++) {
		char dom[65];
		if (h[i].domain == NULL || h[i].domain_len >= sizeof(dom))
			continue;
		memcpy(dom, h[i].domain, h[i].domain_len);
		dom[h[i].domain_len] = '\0';
		const mycel_charter_domain *d = mycel_charter_find_domain(ch, dom);
		if (d != NULL && feed_forked(c, d->feed)) {
			h[i].has_forked = true;
			h[i].forked = true;
		}
	}
}

void mycel__rpc_mesh_decorate(const mycel_rpc_ctx *c, const mycel_method *m, mycel_arena *a,
			      void *reply)
{
	if (m->reply == &mycel_msg_StatusReply_desc) {
		decorate_status(c, a, reply);
	} else if (m->reply == &mycel_msg_GetReply_desc) {
		mycel_msg_GetReply *g = reply;
		if (g->has_shown && g->shown < g->n_versions && g->versions[g->shown].feed != NULL &&
		    g->versions[g->shown].feed_len == MYCEL_PK_LEN &&
		    feed_forked(c, g->versions[g->shown].feed)) {
			g->has_forked = true;
			g->forked = true;
		}
	} else if (m->reply == &mycel_msg_SearchReply_desc) {
		mycel_msg_SearchReply *s = reply;
		decorate_hits(c, (mycel_msg_SearchHit *)s->hits, s->n_hits);
	} else if (m->reply == &mycel_msg_ListReply_desc) {
		mycel_msg_ListReply *l = reply;
		decorate_hits(c, (mycel_msg_SearchHit *)l->docs, l->n_docs);
	}
}

static mycel_rpc_status h_pull(const mycel_rpc_ctx *c, mycel_arena *a, const void *vreq,
			       void *vrep, char *why, size_t why_len)
{
	const mycel_msg_PullRequest *rq = vreq;
	mycel_msg_PullReply *rp = vrep;
	pull_ctx p;

	memset(&p, 0, sizeof(p));
	p.a = a;
	p.max_entries = MYCEL_PULL_ENTRIES_CAP;
	if (rq->has_max_entries) {
		if (rq->max_entries == 0)
			return mfail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len,
				     "max_entries must be at least 1");
		if (rq->max_entries < p.max_entries)
			p.max_entries = (size_t)rq->max_entries;
	}
	p.max_bytes = MYCEL_PULL_BYTES_DEFAULT;
	if (rq->has_max_bytes) {
		if (rq->max_bytes == 0)
			return mfail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len,
				     "max_bytes must be at least 1");
		p.max_bytes = rq->max_bytes < MYCEL_PULL_BYTES_CAP ? rq->max_bytes
								   : MYCEL_PULL_BYTES_CAP;
	}
	for (size_t i = 0; i < rq->n_ranges; i++) {
		const mycel_msg_FeedRange *r = &rq->ranges[i];
		if (r->feed == NULL || r->feed_len != MYCEL_PK_LEN)
			return mfail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len,
				     "range %zu: feed must be %d bytes", i, MYCEL_PK_LEN);
		uint64_t from = r->has_from_seq ? r->from_seq : 1;
		if (from == 0)
			return mfail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len,
				     "range %zu: from_seq must be at least 1", i);
		if (r->has_to_seq && r->to_seq < from)
			return mfail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len,
				     "range %zu: to_seq %llu is below from_seq %llu", i,
				     (unsigned long long)r->to_seq, (unsigned long long)from);
	}
	p.out = mycel_arena_alloc(a, MYCEL_PULL_ENTRIES_CAP * sizeof(*p.out));
	if (p.out == NULL)
		return mfail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
	memset(p.out, 0, MYCEL_PULL_ENTRIES_CAP * sizeof(*p.out));
	for (size_t i = 0; i < rq->n_ranges && !p.more; i++) {
		const mycel_msg_FeedRange *r = &rq->ranges[i];
		p.to_seq = r->has_to_seq ? r->to_seq : UINT64_MAX;
		int rv = mycel_store_scan(c->store, r->feed, r->has_from_seq ? r->from_seq : 1,
					  pull_cb, &p);
		if (p.err != 0)
			rv = p.err;
		if (rv < 0)
			return mfail(mycel_rpc_status_of(rv), why, why_len, "pull: range %zu: %s", i,
				     mycel_strerror(rv));
	}
	rp->entries = p.n > 0 ? p.out : NULL;
	rp->n_entries = p.n;
	rp->has_more = true;
	rp->more = p.more;
	mycel_rpc_status st = pull_keys(c, a, rq, rp, why, why_len);
	if (st != MYCEL_RPC_OK)
		return st;
	return pull_forks(c, a, rq, rp, why, why_len);
}

/* ---- table ------------------------------------------------------------------------ */

static const struct {
	const char *name;
	mycel_rpc_admin_handler h;
} handlers[] = {
	{"mycel.v1.Mesh/Charter", h_charter},
	{"mycel.v1.Mesh/Pull", h_pull},
	{"mycel.v1.Mesh/Digest", h_digest},
	{"mycel.v1.Mesh/Push", h_push},
	{"mycel.v1.Admin/PeersAdd", h_peers_add},
	{"mycel.v1.Admin/PeersRemove", h_peers_remove},
};

mycel_rpc_admin_handler mycel_rpc_mesh_handler_of(const mycel_method *m)
{
	for (size_t i = 0; m != NULL && i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (strcmp(handlers[i].name, m->name) == 0)
			return handlers[i].h;
	return NULL;
}
