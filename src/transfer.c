/*
 * transfer.c — product transfers between domains (include/mycel/transfer.h, PROTOCOL.md §5.5).
 *
 * cat_xfer rows, each derived from one entry alone (so their set does not depend on the
 * order entries arrive in, and mycel reindex rebuilds them byte for byte):
 *
 * | key                                        | value                          | from      |
 * |--------------------------------------------|--------------------------------|-----------|
 * | 'o' ‖ offer id (32)                        | [giver, id, to, seq]           | an offer  |
 * | 'g' ‖ docref(giver, id) ‖ be64 seq ‖ offer id | ""                          | an offer  |
 * | 'a' ‖ offer id ‖ receiver                  | be64 seq ‖ from ‖ 0 ‖ id        | an accept
 * (lowest seq kept) | | 'r' ‖ docref(receiver, id) ‖ offer id      | "" | an accept |
 *
 * transfer_of joins them: the offers of giver/id in seq order, the first one accepted by
 * its addressee (with matching from and id) is the transfer.
 */
#include "mycel/transfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"
#include "mycel/codec.h"
#include "mycel/error.h"
#include "util.h"

#define XFER_KIND "transfer"
#define OROW_MAX (3 * (MYCEL__DOMAIN_MAX + 2) + MYCEL_ID_MAX + 16)

/* ---- bodies ------------------------------------------------------------------------------ */

static int offer_body(const char *id, const char *to, mycel_buf *b)
{
	mycel_enc_map(b, 4); /* keys in canonical order */
	mycel_enc_cstr(b, "action");
	mycel_enc_cstr(b, "offer");
	mycel_enc_cstr(b, "id");
	mycel_enc_cstr(b, id);
	mycel_enc_cstr(b, "kind");
	mycel_enc_cstr(b, "product");
	mycel_enc_cstr(b, "to");
	mycel_enc_cstr(b, to);
	return b->err;
}

static int accept_body(const char *from, const char *id, const uint8_t offer[MYCEL_HASH_LEN],
                       uint64_t seq, mycel_buf *b)
{
	mycel_enc_map(b, 5);
	mycel_enc_cstr(b, "action");
	mycel_enc_cstr(b, "accept");
	mycel_enc_cstr(b, "from");
	mycel_enc_cstr(b, from);
	mycel_enc_cstr(b, "id");
	mycel_enc_cstr(b, id);
	mycel_enc_cstr(b, "offer");
	mycel_enc_bin(b, offer, MYCEL_HASH_LEN);
	mycel_enc_cstr(b, "seq");
	mycel_enc_uint(b, seq);
	return b->err;
}

/* A decoded transfer body (strings point into the body). */
typedef struct xbody {
	bool accept;
	const char *id, *peer; /* peer: `to` of an offer, `from` of an accept */
	size_t id_len, peer_len;
	const uint8_t *offer; /* accept */
	uint64_t seq;         /* accept */
} xbody;

static bool name_ok(const char *s, size_t n)
{
	return n > 0 && n <= MYCEL__DOMAIN_MAX && memchr(s, 0, n) == NULL;
}

/*
 * Strictly reads a transfer body: exactly the offer's four keys or the accept's five, in
 * canonical order, with the types of PROTOCOL.md §5.5. EFORMAT otherwise.
 */
static int xbody_read(const uint8_t *p, size_t n, xbody *out)
{
	mycel_rd r;
	uint32_t cnt;
	const char *k, *s;
	size_t kn, sn;
	memset(out, 0, sizeof(*out));
	mycel_rd_init(&r, p, n);
	if (mycel_rd_map(&r, &cnt) != 0 || (cnt != 4 && cnt != 5))
		return MYCEL_EFORMAT;
	out->accept = cnt == 5;
	static const char *const okeys[] = {"action", "id", "kind", "to"};
	static const char *const akeys[] = {"action", "from", "id", "offer", "seq"};
	for (uint32_t i = 0; i < cnt; i++) {
		const char *want = out->accept ? akeys[i] : okeys[i];
		if (mycel_rd_str(&r, &k, &kn) != 0 || kn != strlen(want) ||
		    memcmp(k, want, kn) != 0)
			return MYCEL_EFORMAT;
		if (strcmp(want, "offer") == 0) {
			if (mycel_rd_bin_n(&r, &out->offer, MYCEL_HASH_LEN) != 0)
				return MYCEL_EFORMAT;
			continue;
		}
		if (strcmp(want, "seq") == 0) {
			if (mycel_rd_uint(&r, &out->seq) != 0 || out->seq == 0)
				return MYCEL_EFORMAT;
			continue;
		}
		if (mycel_rd_str(&r, &s, &sn) != 0)
			return MYCEL_EFORMAT;
		if (strcmp(want, "action") == 0) {
			const char *a = out->accept ? "accept" : "offer";
			if (sn != strlen(a) || memcmp(s, a, sn) != 0)
				return MYCEL_EFORMAT;
		} else if (strcmp(want, "kind") == 0) {
			if (sn != 7 || memcmp(s, "product", 7) != 0)
				return MYCEL_EFORMAT;
		} else if (strcmp(want, "id") == 0) {
			if (sn == 0 || sn > MYCEL_ID_MAX || memchr(s, 0, sn) != NULL)
				return MYCEL_EFORMAT;
			out->id = s;
			out->id_len = sn;
		} else { /* to, from */
			if (!name_ok(s, sn))
				return MYCEL_EFORMAT;
			out->peer = s;
			out->peer_len = sn;
		}
	}
	return mycel_rd_end(&r) == 0 ? 0 : MYCEL_EFORMAT;
}

int mycel__transfer_body_check(const uint8_t *p, size_t n, bool *out_accept)
{
	xbody x;
	int rv = xbody_read(p, n, &x);
	if (rv == 0 && out_accept != NULL)
		*out_accept = x.accept;
	return rv;
}

int mycel__transfer_body_read(const uint8_t *p, size_t n, mycel__xfer *out)
{
	xbody x;
	if (p == NULL || xbody_read(p, n, &x) != 0)
		return MYCEL_EFORMAT;
	*out = (mycel__xfer){x.accept, x.id, x.peer, x.id_len, x.peer_len, x.offer, x.seq};
	return 0;
}

/* ---- derived rows ---------------------------------------------------------------------- */

static int put(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t kn, const void *v, size_t vn)
{
	MDB_val key = {kn, (void *)k}, val = {vn, (void *)v};
	return mycel__mdb_err(mdb_put(txn, dbi, &key, &val, 0));
}

int mycel__transfer_apply(mycel_store *s, MDB_txn *txn, const mycel_entry *e, const uint8_t *body,
                          size_t body_len, const char *domain)
{
	xbody x;
	uint8_t ref[MYCEL__DOCREF_MAX],
	    key[1 + MYCEL__DOCREF_MAX + 8 + MYCEL_HASH_LEN + MYCEL__DOMAIN_MAX];
	size_t dn = strlen(domain), rn;
	int rv;
	if (!s->cat.ready || !s->cat.has_xfer || strcmp(e->h.kind, XFER_KIND) != 0 ||
	    xbody_read(body, body_len, &x) != 0)
		return 0; /* not a usable transfer: it changes nothing */
	if (x.peer_len == dn && memcmp(x.peer, domain, dn) == 0)
		return 0; /* to or from oneself */
	if (!x.accept) {
		mycel_buf v;
		uint8_t mem[OROW_MAX];
		mycel_buf_init_fixed(&v, mem, sizeof(mem));
		mycel_enc_array(&v, 4);
		mycel_enc_str(&v, domain, dn);
		mycel_enc_str(&v, x.id, x.id_len);
		mycel_enc_str(&v, x.peer, x.peer_len);
		mycel_enc_uint(&v, e->h.seq);
		if (v.err != 0)
			return 0;
		key[0] = 'o';
		memcpy(key + 1, e->id, MYCEL_HASH_LEN);
		if ((rv = put(txn, s->cat.xfer, key, 1 + MYCEL_HASH_LEN, v.data, v.len)) != 0)
			return rv;
		if ((rn = mycel__docref(ref, domain, dn, x.id, x.id_len)) == 0)
			return 0;
		key[0] = 'g';
		memcpy(key + 1, ref, rn);
		mycel__be64(key + 1 + rn, e->h.seq);
		memcpy(key + 1 + rn + 8, e->id, MYCEL_HASH_LEN);
		return put(txn, s->cat.xfer, key, 1 + rn + 8 + MYCEL_HASH_LEN, "", 0);
	}
	/* an accept: 'a' keeps the lowest seq, whatever the order of arrival */
	uint8_t val[8 + MYCEL__DOMAIN_MAX + 1 + MYCEL_ID_MAX];
	key[0] = 'a';
	memcpy(key + 1, x.offer, MYCEL_HASH_LEN);
	memcpy(key + 1 + MYCEL_HASH_LEN, domain, dn);
	MDB_val k = {1 + MYCEL_HASH_LEN + dn, key}, old;
	int rc = mdb_get(txn, s->cat.xfer, &k, &old);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return mycel__mdb_err(rc);
	if (rc != 0 || old.mv_size < 8 || mycel__get_be64(old.mv_data) > e->h.seq) {
		mycel__be64(val, e->h.seq);
		memcpy(val + 8, x.peer, x.peer_len);
		val[8 + x.peer_len] = 0;
		memcpy(val + 8 + x.peer_len + 1, x.id, x.id_len);
		if ((rv = put(txn, s->cat.xfer, key, k.mv_size, val,
		              8 + x.peer_len + 1 + x.id_len)) != 0)
			return rv;
	}
	/* written by every accept (its own key), so the set of rows is order-independent */
	if ((rn = mycel__docref(ref, domain, dn, x.id, x.id_len)) == 0)
		return 0;
	key[0] = 'r';
	memcpy(key + 1, ref, rn);
	memcpy(key + 1 + rn, x.offer, MYCEL_HASH_LEN);
	return put(txn, s->cat.xfer, key, 1 + rn + MYCEL_HASH_LEN, "", 0);
}

/* ---- queries --------------------------------------------------------------------------- */

typedef struct orow {
	char giver[MYCEL__DOMAIN_MAX + 1], to[MYCEL__DOMAIN_MAX + 1];
	char id[MYCEL_ID_MAX + 1];
	uint64_t seq;
} orow;

static bool cstr_of(mycel_rd *r, char *out, size_t cap)
{
	const char *s;
	size_t n;
	if (mycel_rd_str(r, &s, &n) != 0 || n >= cap)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

static int get_offer(mycel_store *s, MDB_txn *txn, const uint8_t id[MYCEL_HASH_LEN], orow *o)
{
	uint8_t key[1 + MYCEL_HASH_LEN];
	mycel_rd r;
	uint32_t n;
	key[0] = 'o';
	memcpy(key + 1, id, MYCEL_HASH_LEN);
	MDB_val k = {sizeof(key), key}, v;
	int rc = mdb_get(txn, s->cat.xfer, &k, &v);
	if (rc != 0)
		return mycel__mdb_err(rc);
	mycel_rd_init(&r, v.mv_data, v.mv_size);
	if (mycel_rd_array(&r, &n) != 0 || n != 4 || !cstr_of(&r, o->giver, sizeof(o->giver)) ||
	    !cstr_of(&r, o->id, sizeof(o->id)) || !cstr_of(&r, o->to, sizeof(o->to)) ||
	    mycel_rd_uint(&r, &o->seq) != 0)
		return MYCEL_ECORRUPT;
	return 0;
}

/* The acceptance of offer id by receiver `to`, valid for o: its seq, or 0 when none. */
static int get_accept(mycel_store *s, MDB_txn *txn, const uint8_t id[MYCEL_HASH_LEN], const orow *o,
                      uint64_t *out_seq)
{
	uint8_t key[1 + MYCEL_HASH_LEN + MYCEL__DOMAIN_MAX];
	size_t tn = strlen(o->to), gn = strlen(o->giver), in = strlen(o->id);
	*out_seq = 0;
	key[0] = 'a';
	memcpy(key + 1, id, MYCEL_HASH_LEN);
	memcpy(key + 1 + MYCEL_HASH_LEN, o->to, tn);
	MDB_val k = {1 + MYCEL_HASH_LEN + tn, key}, v;
	int rc = mdb_get(txn, s->cat.xfer, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return mycel__mdb_err(rc);
	const uint8_t *p = v.mv_data;
	/* it names this offer's giver and id */
	if (v.mv_size == 8 + gn + 1 + in && memcmp(p + 8, o->giver, gn) == 0 && p[8 + gn] == 0 &&
	    memcmp(p + 8 + gn + 1, o->id, in) == 0)
		*out_seq = mycel__get_be64(p);
	return 0;
}

/* The outgoing part of *out for the docref ref of giver/id. */
static int transfer_of(mycel_store *s, MDB_txn *txn, const uint8_t *ref, size_t rn,
                       mycel_transfer_info *out)
{
	MDB_cursor *cur;
	uint8_t key[1 + MYCEL__DOCREF_MAX];
	int rc, rv = 0;
	key[0] = 'g';
	memcpy(key + 1, ref, rn);
	if ((rc = mdb_cursor_open(txn, s->cat.xfer, &cur)) != 0)
		return mycel__mdb_err(rc);
	MDB_val k = {1 + rn, key}, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && k.mv_size == 1 + rn + 8 + MYCEL_HASH_LEN &&
	     memcmp(k.mv_data, key, 1 + rn) == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *oid = (const uint8_t *)k.mv_data + 1 + rn + 8;
		orow o;
		uint64_t aseq = 0;
		if ((rv = get_offer(s, txn, oid, &o)) != 0 ||
		    (rv = get_accept(s, txn, oid, &o, &aseq)) != 0)
			break;
		if (aseq != 0) {
			out->transferred = true;
			out->pending = false;
			snprintf(out->to, sizeof(out->to), "%s", o.to);
			out->offer_seq = o.seq;
			out->accept_seq = aseq;
			memcpy(out->offer_id, oid, MYCEL_HASH_LEN);
			break;
		}
		out->pending = true;
		snprintf(out->pending_to, sizeof(out->pending_to), "%s", o.to);
		out->pending_seq = o.seq;
		memcpy(out->pending_id, oid, MYCEL_HASH_LEN);
	}
	mdb_cursor_close(cur);
	if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
		rv = mycel__mdb_err(rc);
	return rv;
}

/* The incoming part: an acceptance by receiver of an offer that is the transfer of its product. */
static int transfer_in(mycel_store *s, MDB_txn *txn, const char *receiver, const uint8_t *ref,
                       size_t rn, mycel_transfer_info *out)
{
	MDB_cursor *cur;
	uint8_t key[1 + MYCEL__DOCREF_MAX];
	int rc, rv = 0;
	key[0] = 'r';
	memcpy(key + 1, ref, rn);
	if ((rc = mdb_cursor_open(txn, s->cat.xfer, &cur)) != 0)
		return mycel__mdb_err(rc);
	MDB_val k = {1 + rn, key}, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && k.mv_size == 1 + rn + MYCEL_HASH_LEN && memcmp(k.mv_data, key, 1 + rn) == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint8_t oid[MYCEL_HASH_LEN], gref[MYCEL__DOCREF_MAX];
		memcpy(oid, (const uint8_t *)k.mv_data + 1 + rn, MYCEL_HASH_LEN);
		orow o;
		mycel_transfer_info g;
		rv = get_offer(s, txn, oid, &o);
		if (rv == MYCEL_ENOTFOUND) { /* the offer is not held (yet) */
			rv = 0;
			continue;
		}
		if (rv != 0)
			break;
		if (strcmp(o.to, receiver) != 0)
			continue;
		size_t gn = mycel__docref(gref, o.giver, strlen(o.giver), o.id, strlen(o.id));
		memset(&g, 0, sizeof(g));
		if (gn == 0 || (rv = transfer_of(s, txn, gref, gn, &g)) != 0)
			break;
		if (g.transferred && memcmp(g.offer_id, oid, MYCEL_HASH_LEN) == 0) {
			out->received = true;
			snprintf(out->from, sizeof(out->from), "%s", o.giver);
			out->from_offer_seq = g.offer_seq;
			out->from_accept_seq = g.accept_seq;
			break;
		}
	}
	mdb_cursor_close(cur);
	if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
		rv = mycel__mdb_err(rc);
	return rv;
}

int mycel_catalog_transfer(mycel_store *s, const char *domain, const char *id,
                           mycel_transfer_info *out)
{
	uint8_t ref[MYCEL__DOCREF_MAX];
	MDB_txn *txn;
	mycel_transfer_info t;
	size_t rn = domain != NULL && id != NULL ? mycel__cat_ref(ref, domain, id) : 0;
	if (rn == 0)
		return MYCEL_EINVAL;
	memset(&t, 0, sizeof(t));
	if (!s->cat.ready || !s->cat.has_xfer) {
		*out = t;
		return 0;
	}
	int rv = mycel__cat_begin_read(s, &txn);
	if (rv != 0)
		return rv;
	rv = transfer_of(s, txn, ref, rn, &t);
	if (rv == 0)
		rv = transfer_in(s, txn, domain, ref, rn, &t);
	mdb_txn_abort(txn);
	if (rv == 0)
		*out = t;
	return rv;
}

/* ---- the publisher ------------------------------------------------------------------------ */

/* The feed of domain, which must be another admitted domain than self (NULL self: any). */
static const mycel_charter_domain *other_domain(mycel_store *s, const char *name, const char *self)
{
	const mycel_charter *ch = mycel_store_charter(s);
	const mycel_charter_domain *d = ch != NULL ? mycel_charter_find_domain(ch, name) : NULL;
	if (d == NULL || (self != NULL && strcmp(name, self) == 0))
		return NULL;
	return d;
}

static int append(mycel_store *s, const mycel_key *key, const char *domain, const mycel_buf *b,
                  mycel_entry *out, char *why, size_t why_len)
{
	const mycel_charter_domain *me = other_domain(s, domain, NULL);
	if (me == NULL)
		return mycel__fail(MYCEL_EADMIT, why, why_len,
		                   "the charter does not name domain %s", domain);
	mycel_record r = {XFER_KIND, b->data, b->len};
	int rv = mycel_store_append(s, key, me->feed, &r, 1, out);
	if (rv == MYCEL_EPERM)
		return mycel__fail(
		    rv, why, why_len,
		    "this key does not sign %s's feed now (the feed's key was rotated)", domain);
	if (rv != 0)
		return mycel__fail(rv, why, why_len, "append: %s", mycel_strerror(rv));
	return 0;
}

int mycel_transfer_offer(mycel_store *s, const mycel_key *key, const char *domain, const char *id,
                         const char *to, mycel_entry *out, char *why, size_t why_len)
{
	mycel_transfer_info t;
	mycel_catalog_doc d;
	uint8_t mem[OROW_MAX];
	mycel_buf b;
	int rv;
	if (s == NULL || key == NULL || domain == NULL || id == NULL || to == NULL)
		return mycel__fail(MYCEL_EINVAL, why, why_len, "invalid argument");
	if (other_domain(s, to, domain) == NULL)
		return mycel__fail(
		    MYCEL_EINVAL, why, why_len,
		    strcmp(to, domain) == 0
		        ? "%s/%s: a product is transferred to another domain, not to its own (%s)"
		        : "%s/%s: the charter admits no domain %s",
		    domain, id, to);
	memset(&d, 0, sizeof(d));
	if ((rv = mycel_catalog_transfer(s, domain, id, &t)) != 0)
		return mycel__fail(rv, why, why_len, "%s/%s: %s", domain, id, mycel_strerror(rv));
	rv = mycel_catalog_get(s, domain, id, NULL, &d);
	mycel_doc_kind kind = d.kind;
	mycel_catalog_doc_fini(&d);
	if (rv == 0 && kind != MYCEL_DOC_PRODUCT)
		return mycel__fail(MYCEL_EINVAL, why, why_len,
		                   "%s/%s is a contract: only data products are transferred",
		                   domain, id);
	if (rv == MYCEL_ENOTFOUND && !t.received)
		return mycel__fail(
		    MYCEL_ENOTFOUND, why, why_len,
		    "%s/%s is not a product of %s: it owns only the products it published "
		    "or received",
		    domain, id, domain);
	if (rv != 0 && rv != MYCEL_ENOTFOUND)
		return mycel__fail(rv, why, why_len, "%s/%s: %s", domain, id, mycel_strerror(rv));
	if (t.transferred)
		return mycel__fail(
		    MYCEL_EPERM, why, why_len,
		    "%s/%s was transferred to %s (offer seq %llu, accepted at %s seq %llu)", domain,
		    id, t.to, (unsigned long long)t.offer_seq, t.to,
		    (unsigned long long)t.accept_seq);
	if (t.pending)
		return mycel__fail(MYCEL_EEXIST, why, why_len,
		                   "%s/%s is already offered to %s (seq %llu), not accepted yet",
		                   domain, id, t.pending_to, (unsigned long long)t.pending_seq);
	mycel_buf_init_fixed(&b, mem, sizeof(mem));
	if ((rv = offer_body(id, to, &b)) != 0)
		return mycel__fail(rv, why, why_len, "%s/%s: %s", domain, id, mycel_strerror(rv));
	return append(s, key, domain, &b, out, why, why_len);
}

int mycel_transfer_accept(mycel_store *s, const mycel_key *key, const char *domain,
                          const char *from, const char *id, mycel_entry *out, char *why,
                          size_t why_len)
{
	mycel_transfer_info t;
	uint8_t mem[OROW_MAX];
	mycel_buf b;
	int rv;
	if (s == NULL || key == NULL || domain == NULL || id == NULL || from == NULL)
		return mycel__fail(MYCEL_EINVAL, why, why_len, "invalid argument");
	if (other_domain(s, from, domain) == NULL)
		return mycel__fail(MYCEL_EINVAL, why, why_len,
		                   strcmp(from, domain) == 0
		                       ? "%s/%s: a domain does not accept its own products"
		                       : "%s/%s: the charter admits no domain %s",
		                   from, id, from);
	if ((rv = mycel_catalog_transfer(s, from, id, &t)) != 0)
		return mycel__fail(rv, why, why_len, "%s/%s: %s", from, id, mycel_strerror(rv));
	if (t.transferred && strcmp(t.to, domain) == 0)
		return mycel__fail(MYCEL_EEXIST, why, why_len,
		                   "%s/%s is already accepted by %s (seq %llu)", from, id, domain,
		                   (unsigned long long)t.accept_seq);
	if (t.transferred)
		return mycel__fail(MYCEL_EPERM, why, why_len,
		                   "%s/%s was transferred to %s, not to %s", from, id, t.to,
		                   domain);
	if (!t.pending)
		return mycel__fail(MYCEL_ENOTFOUND, why, why_len,
		                   "no offer of %s/%s is held here (pull %s's feed first)", from,
		                   id, from);
	if (strcmp(t.pending_to, domain) != 0)
		return mycel__fail(MYCEL_ENOTFOUND, why, why_len,
		                   "%s/%s is offered to %s, not to %s", from, id, t.pending_to,
		                   domain);
	mycel_buf_init_fixed(&b, mem, sizeof(mem));
	if ((rv = accept_body(from, id, t.pending_id, t.pending_seq, &b)) != 0)
		return mycel__fail(rv, why, why_len, "%s/%s: %s", from, id, mycel_strerror(rv));
	return append(s, key, domain, &b, out, why, why_len);
}
