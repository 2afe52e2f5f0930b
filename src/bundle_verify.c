/*
 * bundle_verify.c — strict decoding and offline verification of audit bundles
 * (PROTOCOL.md §11). Nothing here reads a store or the network: everything is checked
 * from the bundle's bytes, and every refusal names where it is.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mycel/bundle.h"
#include "mycel/catalog.h"
#include "mycel/charter.h"
#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "bundle_int.h"
#include "catalog_int.h"
#include "feedkey.h"
#include "util.h"

typedef struct slice {
	const uint8_t *p; /* NULL: nil (an absent body) */
	size_t n;
	size_t at; /* byte offset in the bundle */
} slice;

typedef struct dfeed {
	const uint8_t *feed;
	size_t n;
	slice *entries;
	slice *bodies;
} dfeed;

typedef struct dbundle {
	slice *charters;
	size_t n_charters;
	dfeed feeds[MYCEL_BUNDLE_FEEDS_MAX];
	size_t n_feeds;
	slice *forks;
	size_t n_forks;
	slice domain, id, kind;
	size_t content_at, content_len;
	const uint8_t *digest;
	size_t digest_at;
} dbundle;

static void dbundle_fini(dbundle *d)
{
	free(d->charters);
	for (size_t i = 0; i < d->n_feeds; i++) {
		free(d->feeds[i].entries);
		free(d->feeds[i].bodies);
	}
	free(d->forks);
}

/* ---- decoding ------------------------------------------------------------------------------ */

typedef struct dec {
	mycel_rd r;
	char *why;
	size_t why_len;
	size_t entries; /* of all feeds so far */
} dec;

static int rd_fail(dec *x, int rv, size_t at, const char *what)
{
	if (rv == MYCEL_ETYPE)
		return mycel__fail(MYCEL_EBUNDLE, x->why, x->why_len,
		                   "bundle: byte %zu: %s has the wrong type", at, what);
	return mycel__fail(rv, x->why, x->why_len, "bundle: byte %zu: %s: %s", at, what,
	                   mycel_strerror(rv));
}

#define RD(x, call, what)                                                                          \
	do {                                                                                       \
		size_t at_ = mycel_rd_offset(&(x)->r);                                             \
		int rv_ = (call);                                                                  \
		if (rv_ != 0)                                                                      \
			return rd_fail((x), rv_, at_, (what));                                     \
	} while (0)

/* A map header of exactly n members. */
static int want_map(dec *x, uint32_t n, const char *what)
{
	uint32_t count;
	size_t at = mycel_rd_offset(&x->r);
	RD(x, mycel_rd_map(&x->r, &count), what);
	if (count != n)
		return mycel__fail(MYCEL_EBUNDLE, x->why, x->why_len,
		                   "bundle: byte %zu: %s has %u keys, not %u", at, what, count, n);
	return 0;
}

/* The next key, which must be exactly key (keys come sorted; no other is allowed). */
static int want_key(dec *x, const char *key, const char *what)
{
	const char *k;
	size_t kn, at = mycel_rd_offset(&x->r);
	RD(x, mycel_rd_str(&x->r, &k, &kn), what);
	if (kn != strlen(key) || memcmp(k, key, kn) != 0)
		return mycel__fail(MYCEL_EBUNDLE, x->why, x->why_len,
		                   "bundle: byte %zu: %s: unexpected key (expected \"%s\")", at,
		                   what, key);
	return 0;
}

/* An array header of at most max elements. */
static int want_array(dec *x, size_t max, const char *what, uint32_t *out)
{
	size_t at = mycel_rd_offset(&x->r);
	RD(x, mycel_rd_array(&x->r, out), what);
	if (*out > max)
		return mycel__fail(MYCEL_ETOOBIG, x->why, x->why_len,
		                   "bundle: byte %zu: %s holds %u elements, over the limit of %zu",
		                   at, what, *out, max);
	return 0;
}

/* A bin of at most max bytes (nil allowed when nil_ok: then s->p is NULL). */
static int want_bin(dec *x, size_t max, bool nil_ok, const char *what, slice *s)
{
	mycel_type t;
	s->at = mycel_rd_offset(&x->r);
	RD(x, mycel_rd_peek(&x->r, &t), what);
	if (nil_ok && t == MYCEL_T_NIL) {
		RD(x, mycel_rd_nil(&x->r), what);
		s->p = NULL;
		s->n = 0;
		return 0;
	}
	RD(x, mycel_rd_bin(&x->r, &s->p, &s->n), what);
	if (s->n > max)
		return mycel__fail(MYCEL_ETOOBIG, x->why, x->why_len,
		                   "bundle: byte %zu: %s is %zu bytes, over the limit of %zu",
		                   s->at, what, s->n, max);
	return 0;
}

static int want_str(dec *x, size_t max, const char *what, slice *s)
{
	const char *p;
	s->at = mycel_rd_offset(&x->r);
	RD(x, mycel_rd_str(&x->r, &p, &s->n), what);
	s->p = (const uint8_t *)p;
	if (s->n == 0 || s->n > max || memchr(p, 0, s->n) != NULL)
		return mycel__fail(MYCEL_EBUNDLE, x->why, x->why_len,
		                   "bundle: byte %zu: %s must be 1 to %zu bytes without NUL", s->at,
		                   what, max);
	return 0;
}

static int decode_feed(dec *x, size_t j, dfeed *f)
{
	char what[64];
	uint32_t nb, ne;
	int rv;
	snprintf(what, sizeof(what), "feeds[%zu]", j);
	if ((rv = want_map(x, 3, what)) != 0 || (rv = want_key(x, "bodies", what)) != 0)
		return rv;
	snprintf(what, sizeof(what), "feeds[%zu].bodies", j);
	if ((rv = want_array(x, MYCEL_BUNDLE_ENTRIES_MAX - x->entries, what, &nb)) != 0)
		return rv;
	if ((f->bodies = calloc(nb ? nb : 1, sizeof(slice))) == NULL)
		return mycel__fail(MYCEL_ENOMEM, x->why, x->why_len, "bundle: out of memory");
	for (uint32_t i = 0; i < nb; i++) {
		snprintf(what, sizeof(what), "feeds[%zu].bodies[%u]", j, i);
		if ((rv = want_bin(x, MYCEL_BODY_MAX, true, what, &f->bodies[i])) != 0)
			return rv;
	}
	snprintf(what, sizeof(what), "feeds[%zu]", j);
	if ((rv = want_key(x, "entries", what)) != 0)
		return rv;
	snprintf(what, sizeof(what), "feeds[%zu].entries", j);
	size_t at = mycel_rd_offset(&x->r);
	if ((rv = want_array(x, MYCEL_BUNDLE_ENTRIES_MAX - x->entries, what, &ne)) != 0)
		return rv;
	if (ne != nb)
		return mycel__fail(MYCEL_EBUNDLE, x->why, x->why_len,
		                   "bundle: byte %zu: feeds[%zu] has %u entries but %u bodies", at,
		                   j, ne, nb);
	if ((f->entries = calloc(ne ? ne : 1, sizeof(slice))) == NULL)
		return mycel__fail(MYCEL_ENOMEM, x->why, x->why_len, "bundle: out of memory");
	for (uint32_t i = 0; i < ne; i++) {
		snprintf(what, sizeof(what), "feeds[%zu].entries[%u]", j, i);
		if ((rv = want_bin(x, MYCEL_ENTRY_MAX, false, what, &f->entries[i])) != 0)
			return rv;
	}
	f->n = ne;
	x->entries += ne;
	snprintf(what, sizeof(what), "feeds[%zu]", j);
	slice fs;
	if ((rv = want_key(x, "feed", what)) != 0)
		return rv;
	snprintf(what, sizeof(what), "feeds[%zu].feed", j);
	if ((rv = want_bin(x, MYCEL_PK_LEN, false, what, &fs)) != 0)
		return rv;
	if (fs.n != MYCEL_PK_LEN)
		return mycel__fail(MYCEL_EBUNDLE, x->why, x->why_len,
		                   "bundle: byte %zu: %s is %zu bytes, not %d", fs.at, what, fs.n,
		                   MYCEL_PK_LEN);
	f->feed = fs.p;
	return 0;
}

static int decode(const uint8_t *p, size_t n, dbundle *d, char *why, size_t why_len)
{
	dec x = {.why = why, .why_len = why_len};
	uint32_t count;
	const char *magic;
	size_t mn;
	uint64_t ver;
	int rv;
	mycel_rd_init(&x.r, p, n);
	size_t at = 0;
	RD(&x, mycel_rd_array(&x.r, &count), "the bundle");
	if (count != 4)
		return mycel__fail(MYCEL_EBUNDLE, why, why_len,
		                   "bundle: byte 0: not a mycel bundle (an array of %u, not 4)",
		                   count);
	at = mycel_rd_offset(&x.r);
	RD(&x, mycel_rd_str(&x.r, &magic, &mn), "the bundle's magic");
	if (mn != strlen(MYCEL__BUNDLE_MAGIC) || memcmp(magic, MYCEL__BUNDLE_MAGIC, mn) != 0)
		return mycel__fail(MYCEL_EBUNDLE, why, why_len,
		                   "bundle: byte %zu: not a mycel bundle (no \"mycel-bundle\")",
		                   at);
	at = mycel_rd_offset(&x.r);
	RD(&x, mycel_rd_uint(&x.r, &ver), "the bundle's version");
	if (ver != 1)
		return mycel__fail(
		    MYCEL_EVERSION, why, why_len,
		    "bundle: byte %zu: bundle format version %llu (this is version 1)", at,
		    (unsigned long long)ver);
	d->content_at = mycel_rd_offset(&x.r);
	if ((rv = want_map(&x, 4, "the bundle map")) != 0 ||
	    (rv = want_key(&x, "charters", "the bundle map")) != 0 ||
	    (rv = want_array(&x, MYCEL_BUNDLE_CHARTERS_MAX, "charters", &count)) != 0)
		return rv;
	if (count == 0)
		return mycel__fail(MYCEL_EBUNDLE, why, why_len,
		                   "bundle: charters: none (the genesis charter is needed)");
	if ((d->charters = calloc(count, sizeof(slice))) == NULL)
		return mycel__fail(MYCEL_ENOMEM, why, why_len, "bundle: out of memory");
	for (uint32_t i = 0; i < count; i++) {
		char what[40];
		snprintf(what, sizeof(what), "charters[%u]", i);
		if ((rv = want_bin(&x, MYCEL_CHARTER_MAX, false, what, &d->charters[i])) != 0)
			return rv;
		d->n_charters++;
	}
	if ((rv = want_key(&x, "feeds", "the bundle map")) != 0 ||
	    (rv = want_array(&x, MYCEL_BUNDLE_FEEDS_MAX, "feeds", &count)) != 0)
		return rv;
	if (count == 0)
		return mycel__fail(MYCEL_EBUNDLE, why, why_len,
		                   "bundle: feeds: none (the owning feed is needed)");
	for (uint32_t j = 0; j < count; j++) {
		d->n_feeds++;
		if ((rv = decode_feed(&x, j, &d->feeds[j])) != 0)
			return rv;
	}
	if ((rv = want_key(&x, "forks", "the bundle map")) != 0 ||
	    (rv = want_array(&x, MYCEL_BUNDLE_FORKS_MAX, "forks", &count)) != 0)
		return rv;
	if ((d->forks = calloc(count ? count : 1, sizeof(slice))) == NULL)
		return mycel__fail(MYCEL_ENOMEM, why, why_len, "bundle: out of memory");
	for (uint32_t i = 0; i < count; i++) {
		char what[40];
		snprintf(what, sizeof(what), "forks[%u]", i);
		if ((rv = want_bin(&x, MYCEL_FORK_MAX, false, what, &d->forks[i])) != 0)
			return rv;
		d->n_forks++;
	}
	if ((rv = want_key(&x, "subject", "the bundle map")) != 0 ||
	    (rv = want_map(&x, 3, "subject")) != 0 ||
	    (rv = want_key(&x, "domain", "subject")) != 0 ||
	    (rv = want_str(&x, MYCEL_NAME_MAX, "subject.domain", &d->domain)) != 0 ||
	    (rv = want_key(&x, "id", "subject")) != 0 ||
	    (rv = want_str(&x, MYCEL_BUNDLE_ID_MAX, "subject.id", &d->id)) != 0 ||
	    (rv = want_key(&x, "kind", "subject")) != 0 ||
	    (rv = want_str(&x, 15, "subject.kind", &d->kind)) != 0)
		return rv;
	d->content_len = mycel_rd_offset(&x.r) - d->content_at;
	slice dg;
	if ((rv = want_bin(&x, MYCEL_HASH_LEN, false, "the digest", &dg)) != 0)
		return rv;
	if (dg.n != MYCEL_HASH_LEN)
		return mycel__fail(MYCEL_EBUNDLE, why, why_len,
		                   "bundle: byte %zu: the digest is %zu bytes, not 32", dg.at,
		                   dg.n);
	d->digest = dg.p;
	d->digest_at = dg.at;
	at = mycel_rd_offset(&x.r);
	RD(&x, mycel_rd_end(&x.r), "the bundle");
	return 0;
}

/* ---- verifying ----------------------------------------------------------------------------- */

/* A version as its feed tells it, before the owners are known. */
typedef struct cver {
	size_t feed;
	mycel_bundle_version v;
} cver;

/* An offer or acceptance of the subject (PROTOCOL.md §5.5) in a feed of the bundle. */
typedef struct xent {
	size_t feed;
	bool accept;
	uint64_t seq, ts_ms;
	uint8_t eid[MYCEL_HASH_LEN];   /* the entry's id: what an acceptance names */
	char peer[MYCEL_NAME_MAX + 1]; /* to, from */
	uint8_t offer[MYCEL_HASH_LEN]; /* acceptance */
} xent;

typedef struct vstate {
	const dbundle *d;
	mycel_bundle_report *r;
	const char *names[MYCEL_BUNDLE_FEEDS_MAX]; /* each feed's domain, in the latest charter */
	cver *cv;
	size_t n_cv, cap_cv;
	size_t *vix; /* cv by (feed, version), open addressing: index + 1, 0 when free */
	size_t vix_cap;
	const xent **acc; /* the acceptances, by offer id, then feed, then seq */
	size_t n_acc;
	xent *xs;
	size_t n_xs, cap_xs;
	size_t cap_versions, cap_transfers;
	char *why;
	size_t why_len;
} vstate;

/*
 * The key that signs seq of the bundle's feed f (PROTOCOL.md §5.4): its entries before seq
 * stepped from genesis (they were checked when the feed was; a broken one stops the walk).
 */
static void signer_key(const dfeed *f, uint64_t seq, uint8_t out[MYCEL_PK_LEN])
{
	mycel__feedkey fk;
	mycel__feedkey_init(&fk, f->feed);
	for (size_t i = 0; i + 1 < seq && i < f->n; i++) {
		mycel_entry e;
		if (mycel_entry_decode(f->entries[i].p, f->entries[i].n, &e) != 0 ||
		    mycel__feedkey_step(&fk, &e, f->bodies[i].p, f->bodies[i].n, false) != 0)
			break;
	}
	memcpy(out, fk.key, MYCEL_PK_LEN);
}

static bool slice_is(const slice *s, const char *p, size_t n)
{
	return s->n == n && memcmp(s->p, p, n) == 0;
}

/* Grows *arr (of *cap elements of size sz) to hold one more than n; bounded by the entries. */
static int grow(void **arr, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 8;
	void *na = realloc(*arr, nc * sz);
	if (na == NULL)
		return MYCEL_ENOMEM;
	*arr = na;
	*cap = nc;
	return 0;
}

static uint64_t vhash(size_t j, const char *ver, size_t vn)
{
	uint64_t h = 14695981039346656037u ^ (uint64_t)j; /* FNV-1a */
	for (size_t i = 0; i < vn; i++)
		h = (h ^ (uint8_t)ver[i]) * 1099511628211u;
	return h;
}

/* The slot of (feed j, ver) in the index: the one holding it, or the free one it would take. */
static size_t *vslot(const vstate *v, size_t j, const char *ver, size_t vn)
{
	size_t mask = v->vix_cap - 1;
	for (size_t i = (size_t)vhash(j, ver, vn) & mask;; i = (i + 1) & mask) {
		size_t k = v->vix[i];
		if (k == 0)
			return &v->vix[i];
		const cver *c = &v->cv[k - 1];
		if (c->feed == j && strlen(c->v.version) == vn &&
		    memcmp(c->v.version, ver, vn) == 0)
			return &v->vix[i];
	}
}

/* Room in the index for one more version (at most half full). */
static int vindex_room(vstate *v)
{
	if ((v->n_cv + 1) * 2 <= v->vix_cap)
		return 0;
	size_t nc = v->vix_cap ? v->vix_cap * 2 : 64;
	size_t *nx = calloc(nc, sizeof(*nx));
	if (nx == NULL)
		return MYCEL_ENOMEM;
	free(v->vix);
	v->vix = nx;
	v->vix_cap = nc;
	for (size_t i = 0; i < v->n_cv; i++) {
		const cver *c = &v->cv[i];
		*vslot(v, c->feed, c->v.version, strlen(c->v.version)) = i + 1;
	}
	return 0;
}

static int add_version(vstate *v, size_t j, const char *ver, size_t vn, const mycel_entry *e)
{
	if (vindex_room(v) != 0)
		return MYCEL_ENOMEM;
	size_t *slot = vslot(v, j, ver, vn);
	if (*slot != 0)
		return 0; /* published again with the same number: the first one stands */
	if (grow((void **)&v->cv, &v->cap_cv, v->n_cv, sizeof(*v->cv)) != 0)
		return MYCEL_ENOMEM;
	cver *x = &v->cv[v->n_cv++];
	memset(x, 0, sizeof(*x));
	x->feed = j;
	snprintf(x->v.domain, sizeof(x->v.domain), "%s", v->names[j]);
	memcpy(x->v.version, ver, vn);
	x->v.seq = e->h.seq;
	x->v.ts_ms = e->h.ts_ms;
	*slot = v->n_cv;
	return 0;
}

static void set_status(vstate *v, size_t j, const char *ver, size_t vn, const char *st, size_t sn,
                       const mycel_entry *e)
{
	mycel_bundle_status s;
	if (sn == 10 && memcmp(st, "deprecated", 10) == 0)
		s = MYCEL_BUNDLE_DEPRECATED;
	else if (sn == 7 && memcmp(st, "retired", 7) == 0)
		s = MYCEL_BUNDLE_RETIRED;
	else
		return;
	if (v->vix_cap == 0 || vn > 64)
		return;
	size_t k = *vslot(v, j, ver, vn);
	if (k == 0)
		return; /* not (yet) published in this feed */
	mycel_bundle_version *x = &v->cv[k - 1].v;
	if (s > x->status) { /* statuses only move forward */
		x->status = s;
		x->status_seq = e->h.seq;
		x->status_ts_ms = e->h.ts_ms;
	}
}

/* Keeps an offer or acceptance of the subject (a product); other transfer bodies mean nothing. */
static int add_xfer(vstate *v, size_t j, const mycel_entry *e, const slice *body)
{
	mycel__xfer t;
	const dbundle *d = v->d;
	if (strcmp(v->r->kind, "product") != 0 ||
	    mycel__transfer_body_read(body->p, body->n, &t) != 0 || t.id_len != d->id.n ||
	    memcmp(t.id, d->id.p, t.id_len) != 0 || t.peer_len > MYCEL_NAME_MAX ||
	    (t.peer_len == strlen(v->names[j]) && memcmp(t.peer, v->names[j], t.peer_len) == 0))
		return 0;
	if (grow((void **)&v->xs, &v->cap_xs, v->n_xs, sizeof(*v->xs)) != 0)
		return MYCEL_ENOMEM;
	xent *x = &v->xs[v->n_xs++];
	memset(x, 0, sizeof(*x));
	x->feed = j;
	x->accept = t.accept;
	x->seq = e->h.seq;
	x->ts_ms = e->h.ts_ms;
	memcpy(x->eid, e->id, MYCEL_HASH_LEN);
	memcpy(x->peer, t.peer, t.peer_len);
	if (t.accept)
		memcpy(x->offer, t.offer, MYCEL_HASH_LEN);
	return 0;
}

/* What an entry of feed j says about the subject. */
static int interpret(vstate *v, size_t j, const mycel_entry *e, const slice *body)
{
	const dbundle *d = v->d;
	const char *s, *ver, *st;
	size_t sn, vn, stn;
	if (strcmp(e->h.kind, "key") == 0) {
		v->r->keys++;
		return 0;
	}
	if (body->p == NULL)
		return 0;
	if (strcmp(e->h.kind, "transfer") == 0)
		return add_xfer(v, j, e, body);
	if (strcmp(e->h.kind, v->r->kind) == 0) {
		if (mycel__bundle_doc_version(body->p, body->n, (const char *)d->id.p, d->id.n,
		                              &ver, &vn))
			return add_version(v, j, ver, vn, e);
	} else if (strcmp(e->h.kind, "lifecycle") == 0) {
		if (mycel__bundle_body_str(body->p, body->n, "kind", &s, &sn) &&
		    slice_is(&d->kind, s, sn) &&
		    mycel__bundle_body_str(body->p, body->n, "id", &s, &sn) &&
		    slice_is(&d->id, s, sn) &&
		    mycel__bundle_body_str(body->p, body->n, "version", &ver, &vn) &&
		    mycel__bundle_body_str(body->p, body->n, "status", &st, &stn))
			set_status(v, j, ver, vn, st, stn, e);
	}
	return 0;
}

/* ---- ownership (PROTOCOL.md §5.5 over the bundle's feeds) ------------------------------------ */

typedef enum { XF_NONE, XF_DONE, XF_PENDING } xf_kind;

typedef struct xres {
	xf_kind kind;
	const xent *offer, *accept; /* accept: XF_DONE only */
	size_t to;                  /* the receiver's feed (XF_DONE) */
	bool held;                  /* XF_PENDING: the addressee's feed is in the bundle */
} xres;

static size_t feed_named(const vstate *v, const char *name)
{
	for (size_t j = 0; j < v->d->n_feeds; j++)
		if (strcmp(v->names[j], name) == 0)
			return j;
	return SIZE_MAX;
}

/*
 * Whether the product left feed g: its offers in seq order, the first one whose addressee's
 * feed holds an acceptance of it (from g's domain, the lowest seq) is the transfer. An offer
 * to a domain whose feed is not in the bundle cannot be decided, nor can any later one: it
 * is pending. Otherwise the last offer without an acceptance, if any, is pending.
 */
static int acc_cmp(const void *a, const void *b)
{
	const xent *x = *(const xent *const *)a, *y = *(const xent *const *)b;
	int c = memcmp(x->offer, y->offer, MYCEL_HASH_LEN);
	if (c != 0)
		return c;
	if (x->feed != y->feed)
		return x->feed < y->feed ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The acceptance of offer o in feed r by from's name, the lowest seq; NULL if none. */
static const xent *accepted(const vstate *v, const xent *o, size_t r, const char *from)
{
	size_t lo = 0, hi = v->n_acc;
	while (lo < hi) { /* the first (offer, feed) >= (o's id, r) */
		size_t mid = lo + (hi - lo) / 2;
		const xent *a = v->acc[mid];
		int c = memcmp(a->offer, o->eid, MYCEL_HASH_LEN);
		if (c < 0 || (c == 0 && a->feed < r))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < v->n_acc; lo++) {
		const xent *a = v->acc[lo];
		if (memcmp(a->offer, o->eid, MYCEL_HASH_LEN) != 0 || a->feed != r)
			break;
		if (strcmp(a->peer, from) == 0)
			return a;
	}
	return NULL;
}

static xres decide(const vstate *v, size_t g)
{
	xres res = {XF_NONE, NULL, NULL, 0, false};
	for (size_t i = 0; i < v->n_xs; i++) {
		const xent *o = &v->xs[i];
		if (o->feed != g || o->accept)
			continue;
		size_t r = feed_named(v, o->peer);
		if (r == SIZE_MAX)
			return (xres){XF_PENDING, o, NULL, 0, false};
		const xent *acc = accepted(v, o, r, v->names[g]);
		if (acc != NULL)
			return (xres){XF_DONE, o, acc, r, true};
		res = (xres){XF_PENDING, o, NULL, 0, true};
	}
	return res;
}

static int add_transfer(vstate *v, size_t g, const xres *x)
{
	mycel_bundle_report *r = v->r;
	if (grow((void **)&r->transfers, &v->cap_transfers, r->n_transfers,
	         sizeof(*r->transfers)) != 0)
		return MYCEL_ENOMEM;
	mycel_bundle_transfer *t = &r->transfers[r->n_transfers++];
	memset(t, 0, sizeof(*t));
	snprintf(t->from, sizeof(t->from), "%s", v->names[g]);
	snprintf(t->to, sizeof(t->to), "%s", v->names[x->to]);
	t->offer_seq = x->offer->seq;
	t->offer_ts_ms = x->offer->ts_ms;
	t->accept_seq = x->accept->seq;
	t->accept_ts_ms = x->accept->ts_ms;
	return 0;
}

/* The versions feed j published while (or before) it owned the product: after `after`. */
static int take_versions(vstate *v, size_t j, uint64_t after)
{
	mycel_bundle_report *r = v->r;
	for (size_t i = 0; i < v->n_cv; i++) {
		if (v->cv[i].feed != j || v->cv[i].v.seq <= after)
			continue;
		if (grow((void **)&r->versions, &v->cap_versions, r->n_versions,
		         sizeof(*r->versions)) != 0)
			return MYCEL_ENOMEM;
		r->versions[r->n_versions++] = v->cv[i].v;
	}
	return 0;
}

/*
 * The owners of the subject: back from feeds[0] through the transfers into it to where the
 * product's history starts, then forward through each transfer out (a domain is an owner
 * once: a transfer back to an earlier owner ends the walk). Fills the report's owner, since,
 * transfers, pending offer and versions.
 */
static int owners(vstate *v)
{
	const dbundle *d = v->d;
	mycel_bundle_report *r = v->r;
	bool seen[MYCEL_BUNDLE_FEEDS_MAX] = {false};
	xres outs[MYCEL_BUNDLE_FEEDS_MAX];
	size_t cur = 0;
	int rv;
	for (size_t i = 0; i < v->n_xs; i++)
		if (v->xs[i].accept)
			v->n_acc++;
	if (v->n_acc > 0) {
		if ((v->acc = calloc(v->n_acc, sizeof(*v->acc))) == NULL)
			return MYCEL_ENOMEM;
		for (size_t i = 0, k = 0; i < v->n_xs; i++)
			if (v->xs[i].accept)
				v->acc[k++] = &v->xs[i];
		qsort(v->acc, v->n_acc, sizeof(*v->acc), acc_cmp);
	}
	for (size_t g = 0; g < d->n_feeds; g++) /* each feed's transfer out, once */
		outs[g] = decide(v, g);
	seen[0] = true;
	for (bool moved = true; moved;) { /* back to the origin */
		moved = false;
		const xres *best = NULL;
		size_t from = 0;
		for (size_t g = 0; g < d->n_feeds; g++) {
			if (seen[g])
				continue;
			if (outs[g].kind == XF_DONE && outs[g].to == cur &&
			    (best == NULL || outs[g].accept->seq < best->accept->seq)) {
				best = &outs[g];
				from = g;
			}
		}
		if (best != NULL) {
			seen[from] = true;
			cur = from;
			moved = true;
		}
	}
	memset(seen, 0, sizeof(seen));
	uint64_t after = 0;
	for (;;) { /* forward to the owner */
		seen[cur] = true;
		if ((rv = take_versions(v, cur, after)) != 0)
			return rv;
		xres x = outs[cur];
		if (x.kind == XF_PENDING) {
			r->pending = true;
			r->pending_feed_held = x.held;
			snprintf(r->pending_to, sizeof(r->pending_to), "%s", x.offer->peer);
			r->pending_seq = x.offer->seq;
			r->pending_ts_ms = x.offer->ts_ms;
		}
		if (x.kind != XF_DONE || seen[x.to])
			break;
		if ((rv = add_transfer(v, cur, &x)) != 0)
			return rv;
		cur = x.to;
		after = x.accept->seq;
	}
	snprintf(r->owner, sizeof(r->owner), "%s", v->names[cur]);
	memcpy(r->owner_feed, d->feeds[cur].feed, MYCEL_PK_LEN);
	if (r->n_transfers > 0) {
		r->since_seq = r->transfers[r->n_transfers - 1].accept_seq;
		r->since_ts_ms = r->transfers[r->n_transfers - 1].accept_ts_ms;
	} else if (r->n_versions > 0) {
		r->since_seq = r->versions[0].seq;
		r->since_ts_ms = r->versions[0].ts_ms;
	}
	return 0;
}

static int verify_feed(vstate *v, const mycel_charter *latest, size_t j)
{
	const dfeed *f = &v->d->feeds[j];
	char hex[2 * MYCEL_PK_LEN + 1];
	char *why = v->why;
	size_t wl = v->why_len;
	mycel_entry prev, e;
	mycel__feedkey fk;
	int rv;
	mycel_hex(f->feed, MYCEL_PK_LEN, hex);
	mycel__feedkey_init(&fk, f->feed);
	for (size_t k = 0; k < j; k++)
		if (memcmp(v->d->feeds[k].feed, f->feed, MYCEL_PK_LEN) == 0)
			return mycel__fail(MYCEL_EBUNDLE, why, wl,
			                   "bundle: feeds[%zu]: feed %.16s… is also feeds[%zu]", j,
			                   hex, k);
	const mycel_charter_domain *dom = mycel_charter_find_feed(latest, f->feed);
	if (dom == NULL)
		return mycel__fail(
		    MYCEL_EADMIT, why, wl,
		    "bundle: feeds[%zu]: feed %.16s… is not admitted by charter version %llu", j,
		    hex, (unsigned long long)mycel_charter_version(latest));
	if (f->n == 0)
		return mycel__fail(MYCEL_EBUNDLE, why, wl,
		                   "bundle: feeds[%zu]: no entries (a feed starts at seq 1)", j);
	v->names[j] = dom->name;
	for (size_t i = 0; i < f->n; i++) {
		const slice *es = &f->entries[i], *bs = &f->bodies[i];
		if ((rv = mycel_entry_decode(es->p, es->n, &e)) != 0)
			return mycel__fail(
			    rv, why, wl,
			    "bundle: feeds[%zu].entries[%zu]: does not decode: %s (feed %.16s…)", j,
			    i, mycel_strerror(rv), hex);
		if (memcmp(e.h.feed, f->feed, MYCEL_PK_LEN) != 0 || e.h.seq != i + 1)
			return mycel__fail(MYCEL_ECHAIN, why, wl,
			                   "bundle: feeds[%zu].entries[%zu]: is seq %llu of %s "
			                   "feed, expected seq %zu of feed %.16s…",
			                   j, i, (unsigned long long)e.h.seq,
			                   memcmp(e.h.feed, f->feed, MYCEL_PK_LEN) != 0 ? "another"
			                                                                : "this",
			                   i + 1, hex);
		/* signed by the key that signs this seq; a key entry hands the feed on */
		if (mycel_entry_verify(&e, fk.key) != 0)
			return mycel__fail(MYCEL_EBADSIG, why, wl,
			                   "bundle: feeds[%zu].entries[%zu]: signature does not "
			                   "verify (feed %.16s…, seq %llu%s)",
			                   j, i, hex, (unsigned long long)e.h.seq,
			                   fk.since > 0 ? ", under the key its rotation installed" : "");
		if ((rv = mycel__feedkey_step(&fk, &e, bs->p, bs->n, false)) != 0)
			return mycel__fail(rv, why, wl,
			                   "bundle: feeds[%zu].entries[%zu]: key entry is invalid: %s "
			                   "(feed %.16s…, seq %llu)",
			                   j, i, mycel_strerror(rv), hex, (unsigned long long)e.h.seq);
		if ((rv = mycel_entry_follows(i == 0 ? NULL : &prev, &e)) != 0)
			return mycel__fail(
			    rv, why, wl,
			    "bundle: feeds[%zu].entries[%zu]: %s (feed %.16s…, seq %llu)", j, i,
			    rv == MYCEL_ETS ? "timestamp is lower than the previous entry's"
			                    : "prev does not name the entry before",
			    hex, (unsigned long long)e.h.seq);
		if (bs->p != NULL) {
			mycel_rd r;
			if (mycel_entry_check_body(&e, bs->p, bs->n) != 0)
				return mycel__fail(
				    MYCEL_EHASH, why, wl,
				    "bundle: feeds[%zu].bodies[%zu]: does not match the body hash "
				    "of its entry (feed %.16s…, seq %llu)",
				    j, i, hex, (unsigned long long)e.h.seq);
			mycel_rd_init(&r, bs->p, bs->n);
			if ((rv = mycel_rd_skip(&r, 0)) == 0)
				rv = mycel_rd_end(&r);
			if (rv != 0)
				return mycel__fail(rv, why, wl,
				                   "bundle: feeds[%zu].bodies[%zu]: not one "
				                   "canonical value: %s (feed %.16s…, seq %llu)",
				                   j, i, mycel_strerror(rv), hex,
				                   (unsigned long long)e.h.seq);
			v->r->bodies++;
		} else if (mycel__bundle_body_needed(e.h.kind, v->r->kind)) {
			return mycel__fail(
			    MYCEL_EBUNDLE, why, wl,
			    "bundle: feeds[%zu].bodies[%zu]: missing, but the body of a %s entry "
			    "may concern the subject (feed %.16s…, seq %llu)",
			    j, i, e.h.kind, hex, (unsigned long long)e.h.seq);
		}
		if ((rv = interpret(v, j, &e, bs)) != 0)
			return mycel__fail(rv, why, wl, "bundle: %s", mycel_strerror(rv));
		prev = e;
	}
	v->r->entries += f->n;
	if (j == 0) {
		v->r->head_seq = prev.h.seq;
		v->r->head_ts_ms = prev.h.ts_ms;
	}
	return 0;
}

static int verify_fork(vstate *v, size_t k)
{
	const slice *s = &v->d->forks[k];
	mycel_rd r;
	uint32_t count;
	uint64_t ver;
	const uint8_t *ea;
	size_t en;
	mycel_entry a;
	int rv;
	mycel_rd_init(&r, s->p, s->n);
	if ((rv = mycel_rd_array(&r, &count)) != 0 || count != 3 ||
	    (rv = mycel_rd_uint(&r, &ver)) != 0 || (rv = mycel_rd_bin(&r, &ea, &en)) != 0 ||
	    (rv = mycel_entry_decode(ea, en, &a)) != 0)
		return mycel__fail(rv != 0 && rv != MYCEL_ETYPE ? rv : MYCEL_EFORMAT, v->why,
		                   v->why_len, "bundle: forks[%zu]: not a fork proof", k);
	size_t j = 0;
	while (j < v->d->n_feeds && memcmp(v->d->feeds[j].feed, a.h.feed, MYCEL_PK_LEN) != 0)
		j++;
	char hex[2 * MYCEL_PK_LEN + 1];
	mycel_hex(a.h.feed, MYCEL_PK_LEN, hex);
	if (j == v->d->n_feeds)
		return mycel__fail(
		    MYCEL_EBUNDLE, v->why, v->why_len,
		    "bundle: forks[%zu]: a proof about feed %.16s…, which is not in the bundle", k,
		    hex);
	uint8_t signer[MYCEL_PK_LEN];
	signer_key(&v->d->feeds[j], a.h.seq, signer);
	if ((rv = mycel_fork_verify(s->p, s->n, signer, NULL, NULL)) != 0)
		return mycel__fail(
		    rv, v->why, v->why_len,
		    "bundle: forks[%zu]: fork proof does not verify: %s (feed %.16s…, seq %llu)", k,
		    mycel_strerror(rv), hex, (unsigned long long)a.h.seq);
	if (j == 0)
		v->r->owner_forks++;
	return 0;
}

static int verify_decoded(const uint8_t *p, const dbundle *d, mycel_bundle_report *r, char *why,
                          size_t why_len)
{
	mycel_charter **ch = calloc(d->n_charters, sizeof(*ch));
	vstate v = {.d = d, .r = r, .why = why, .why_len = why_len};
	char w[256];
	int rv = 0;
	if (ch == NULL)
		return mycel__fail(MYCEL_ENOMEM, why, why_len, "bundle: out of memory");

	/* the charter chain */
	for (size_t i = 0; i < d->n_charters; i++) {
		const slice *s = &d->charters[i];
		w[0] = '\0';
		if ((rv = mycel_charter_decode(s->p, s->n, &ch[i], w, sizeof(w))) != 0) {
			mycel__fail(rv, why, why_len, "bundle: charters[%zu]: %s", i, w);
			goto fail;
		}
		if (mycel_charter_version(ch[i]) != i + 1) {
			rv = mycel__fail(
			    MYCEL_ECHARTER, why, why_len,
			    "bundle: charters[%zu]: is version %llu, expected version %zu", i,
			    (unsigned long long)mycel_charter_version(ch[i]), i + 1);
			goto fail;
		}
		rv = i == 0 ? mycel_charter_verify_genesis(ch[i], w, sizeof(w))
		            : mycel_charter_verify_next(ch[i - 1], ch[i], w, sizeof(w));
		if (rv != 0) {
			mycel__fail(rv, why, why_len, "bundle: charters[%zu]: %s", i, w);
			goto fail;
		}
	}
	const mycel_charter *latest = ch[d->n_charters - 1];
	(void)mycel_charter_digest(ch[0], r->mesh_id);
	snprintf(r->mesh, sizeof(r->mesh), "%s", mycel_charter_mesh(latest));
	r->charters = d->n_charters;
	r->charter_version = mycel_charter_version(latest);

	/* the subject */
	memcpy(r->domain, d->domain.p, d->domain.n);
	memcpy(r->id, d->id.p, d->id.n);
	memcpy(r->kind, d->kind.p, d->kind.n);
	if (strcmp(r->kind, "contract") != 0 && strcmp(r->kind, "product") != 0) {
		rv = mycel__fail(MYCEL_EBUNDLE, why, why_len,
		                 "bundle: byte %zu: subject.kind is neither contract nor product",
		                 d->kind.at);
		goto fail;
	}
	const mycel_charter_domain *dom = mycel_charter_find_domain(latest, r->domain);
	if (dom == NULL) {
		rv = mycel__fail(MYCEL_EADMIT, why, why_len,
		                 "bundle: byte %zu: subject.domain: charter version %llu admits no "
		                 "domain of that name",
		                 d->domain.at, (unsigned long long)r->charter_version);
		goto fail;
	}
	if (memcmp(dom->feed, d->feeds[0].feed, MYCEL_PK_LEN) != 0) {
		rv = mycel__fail(
		    MYCEL_EADMIT, why, why_len,
		    "bundle: feeds[0]: is not the feed charter version %llu binds to domain %s",
		    (unsigned long long)r->charter_version, r->domain);
		goto fail;
	}
	r->admitted_since = r->charter_version;
	for (size_t i = d->n_charters; i-- > 0;) {
		const mycel_charter_domain *x = mycel_charter_find_feed(ch[i], d->feeds[0].feed);
		if (x == NULL || strcmp(x->name, r->domain) != 0)
			break;
		r->admitted_since = i + 1;
	}

	/* the feeds, then the fork proofs */
	for (size_t j = 0; j < d->n_feeds; j++)
		if ((rv = verify_feed(&v, latest, j)) != 0)
			goto fail;
	r->feeds = d->n_feeds;
	for (size_t k = 0; k < d->n_forks; k++)
		if ((rv = verify_fork(&v, k)) != 0)
			goto fail;
	r->forks = d->n_forks;
	if ((rv = owners(&v)) != 0) {
		mycel__fail(rv, why, why_len, "bundle: %s", mycel_strerror(rv));
		goto fail;
	}
	if (r->n_versions == 0) {
		rv = mycel__fail(MYCEL_EBUNDLE, why, why_len,
		                 "bundle: feeds[0]: no %s entry publishes %s/%s, and no transfer "
		                 "in the bundle brought it there",
		                 r->kind, r->domain, r->id);
		goto fail;
	}

	/* last: the digest (damage the checks above did not name) */
	uint8_t dig[MYCEL_HASH_LEN];
	mycel__bundle_digest(p + d->content_at, d->content_len, dig);
	if (sodium_memcmp(dig, d->digest, MYCEL_HASH_LEN) != 0)
		rv = mycel__fail(MYCEL_EBUNDLE, why, why_len,
		                 "bundle: byte %zu: the digest does not match the bundle's content",
		                 d->digest_at);
fail:
	free(v.acc);
	free(v.vix);
	free(v.cv);
	free(v.xs);
	for (size_t i = 0; i < d->n_charters; i++)
		mycel_charter_free(ch[i]);
	free(ch);
	return rv;
}

int mycel_bundle_verify(const uint8_t *p, size_t n, mycel_bundle_report **out, char *why,
                        size_t why_len)
{
	dbundle d;
	mycel_bundle_report *r = NULL;
	int rv;
	if (p == NULL && n > 0)
		return MYCEL_EINVAL;
	if (n > MYCEL_BUNDLE_MAX)
		return mycel__fail(MYCEL_ETOOBIG, why, why_len,
		                   "bundle: %zu bytes, over the limit of %zu", n, MYCEL_BUNDLE_MAX);
	if (mycel__sodium_init() != 0)
		return mycel__fail(MYCEL_ENOMEM, why, why_len, "bundle: libsodium does not start");
	memset(&d, 0, sizeof(d));
	if ((rv = decode(p, n, &d, why, why_len)) != 0)
		goto fail;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		rv = mycel__fail(MYCEL_ENOMEM, why, why_len, "bundle: out of memory");
		goto fail;
	}
	if ((rv = verify_decoded(p, &d, r, why, why_len)) != 0)
		goto fail;
	if (out != NULL) {
		*out = r;
		r = NULL;
	}
fail:
	mycel_bundle_report_free(r);
	dbundle_fini(&d);
	return rv;
}

void mycel_bundle_report_free(mycel_bundle_report *r)
{
	if (r == NULL)
		return;
	free(r->versions);
	free(r->transfers);
	free(r);
}

const char *mycel_bundle_status_name(mycel_bundle_status s)
{
	switch (s) {
	case MYCEL_BUNDLE_DEPRECATED:
		return "deprecated";
	case MYCEL_BUNDLE_RETIRED:
		return "retired";
	default:
		return "active";
	}
}
