/*
 * rpc_mesh.c — the handlers of service mycel.v1.Mesh that need no gossip engine:
 * Charter and Pull (Peers is served by rpc_admin.c).
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
	return MYCEL_RPC_OK;
}

/* ---- table ------------------------------------------------------------------------ */

static const struct {
	const char *name;
	mycel_rpc_admin_handler h;
} handlers[] = {
	{"mycel.v1.Mesh/Charter", h_charter},
	{"mycel.v1.Mesh/Pull", h_pull},
};

mycel_rpc_admin_handler mycel_rpc_mesh_handler_of(const mycel_method *m)
{
	for (size_t i = 0; m != NULL && i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (strcmp(handlers[i].name, m->name) == 0)
			return handlers[i].h;
	return NULL;
}
