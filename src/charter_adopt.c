/*
 * charter_adopt.c — what a store does when it adopts a newer charter version (PROTOCOL.md
 * §3.4): the entries of a compromised feed beyond its cut leave the store (entries, bodies,
 * fork proofs; the head goes back to the cut), and the derived catalog tables are rebuilt
 * against the new charter, so newly admitted, removed and compromised feeds take effect at
 * once and exactly as `mycel reindex` would give. Also: in which version a domain was
 * removed, and whether a feed was ever admitted by the chain (for mycel verify).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "util.h"

/* Deletes every key of dbi that starts with feed and has seq > cut. */
static int drop_after(MDB_txn *txn, MDB_dbi dbi, const uint8_t feed[MYCEL_PK_LEN], uint64_t cut,
                      size_t *out_n)
{
	MDB_cursor *cur;
	uint8_t fs[MYCEL__FEEDSEQ_LEN];
	int rc;
	if (cut == UINT64_MAX)
		return 0;
	mycel__feedseq(fs, feed, cut + 1);
	MDB_val k = {sizeof(fs), fs}, v;
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return mycel__mdb_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != MYCEL__FEEDSEQ_LEN || memcmp(k.mv_data, feed, MYCEL_PK_LEN) != 0)
			break;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
		if (out_n != NULL)
			(*out_n)++;
	}
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : mycel__mdb_err(rc);
}

/* Cuts one compromised feed at seq cut: later entries, bodies and proofs go, the head follows. */
static int cut_feed(mycel_store *s, MDB_txn *txn, const mycel_charter_cut *k, size_t *out_n)
{
	MDB_val hk = {MYCEL_PK_LEN, (void *)k->feed}, hv;
	int rc = mdb_get(txn, s->heads, &hk, &hv);
	if (rc == MDB_NOTFOUND)
		goto proofs; /* no entry held; a proof alone may be */
	if (rc != 0)
		return mycel__mdb_err(rc);
	if (hv.mv_size != MYCEL__HEAD_LEN)
		return MYCEL_ECORRUPT;
	if (mycel__get_be64(hv.mv_data) <= k->seq)
		goto proofs;
	int rv = drop_after(txn, s->entries, k->feed, k->seq, out_n);
	if (rv == 0)
		rv = drop_after(txn, s->bodies, k->feed, k->seq, NULL);
	if (rv != 0)
		return rv;
	if (k->seq == 0) {
		rc = mdb_del(txn, s->heads, &hk, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return mycel__mdb_err(rc);
		goto proofs;
	}
	uint8_t fs[MYCEL__FEEDSEQ_LEN], h[MYCEL__HEAD_LEN];
	mycel_entry e;
	mycel__feedseq(fs, k->feed, k->seq);
	MDB_val ek = {sizeof(fs), fs}, ev;
	if ((rc = mdb_get(txn, s->entries, &ek, &ev)) != 0)
		return rc == MDB_NOTFOUND ? MYCEL_ECORRUPT : mycel__mdb_err(rc);
	if (mycel_entry_decode(ev.mv_data, ev.mv_size, &e) != 0)
		return MYCEL_ECORRUPT;
	mycel__be64(h, e.h.seq);
	memcpy(h + 8, e.id, MYCEL_HASH_LEN);
	mycel__be64(h + 8 + MYCEL_HASH_LEN, e.h.ts_ms);
	MDB_val nv = {sizeof(h), h};
	if ((rc = mdb_put(txn, s->heads, &hk, &nv, 0)) != 0)
		return mycel__mdb_err(rc);
proofs:
	return drop_after(txn, s->forks, k->feed, k->seq, NULL);
}

void mycel__charter_retire(mycel_store *s, mycel_charter *old, mycel_policies *old_policies)
{
	if (old == NULL) {
		mycel_policies_free(old_policies);
		return;
	}
	if (s->n_retired == MYCEL__RETIRED_MAX) {
		mycel_charter_free(s->retired[0]);
		mycel_policies_free(s->retired_policies[0]);
		memmove(&s->retired[0], &s->retired[1], (s->n_retired - 1) * sizeof(s->retired[0]));
		memmove(&s->retired_policies[0], &s->retired_policies[1],
			(s->n_retired - 1) * sizeof(s->retired_policies[0]));
		s->n_retired--;
	}
	s->retired[s->n_retired] = old;
	s->retired_policies[s->n_retired++] = old_policies;
}

int mycel__charter_adopt(mycel_store *s, MDB_txn *txn, const mycel_charter *c, size_t *out_dropped)
{
	size_t dropped = 0;
	int rv = 0;
	for (size_t i = 0; rv == 0 && i < mycel_charter_compromised_count(c); i++)
		rv = cut_feed(s, txn, mycel_charter_compromised_at(c, i), &dropped);
	if (rv == 0 && s->cat.ready)
		rv = mycel__catalog_rebuild(s, txn, c);
	if (rv == 0 && out_dropped != NULL)
		*out_dropped = dropped;
	return rv;
}

/*
 * Calls fn on every stored charter version from the newest down, decoded; stops when fn
 * returns non-zero (that value is returned; 0 when all were seen).
 */
typedef int (*version_fn)(void *ctx, const mycel_charter *c);

static int each_version_down(mycel_store *s, MDB_txn *txn, version_fn fn, void *ctx)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, rv = 0;
	if ((rc = mdb_cursor_open(txn, s->charters, &cur)) != 0)
		return mycel__mdb_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_LAST); rc == 0 && rv == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
		mycel_charter *c;
		if (mycel_charter_decode(v.mv_data, v.mv_size, &c, NULL, 0) != 0)
			continue; /* mycel verify reports it */
		rv = fn(ctx, c);
		mycel_charter_free(c);
	}
	mdb_cursor_close(cur);
	return rv;
}

typedef struct removed_ctx {
	const char *name;
	uint64_t newer; /* the version just above the one being looked at */
	uint64_t removed_in;
} removed_ctx;

static int removed_fn(void *vctx, const mycel_charter *c)
{
	removed_ctx *r = vctx;
	if (mycel_charter_find_domain(c, r->name) != NULL) {
		r->removed_in = r->newer;
		return 1;
	}
	r->newer = mycel_charter_version(c);
	return 0;
}

int mycel_store_domain_removed(mycel_store *s, const char *name, uint64_t *out_version)
{
	MDB_txn *txn;
	int rc;
	pthread_mutex_lock(&s->lock);
	bool current = s->charter != NULL && mycel_charter_find_domain(s->charter, name) != NULL;
	uint64_t cur = s->charter != NULL ? mycel_charter_version(s->charter) : 0;
	pthread_mutex_unlock(&s->lock);
	if (current || cur <= 1)
		return MYCEL_ENOTFOUND;
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
		return mycel__mdb_err(rc);
	removed_ctx r = {name, 0, 0};
	int rv = each_version_down(s, txn, removed_fn, &r);
	mdb_txn_abort(txn);
	if (rv < 0)
		return rv;
	if (rv == 0 || r.removed_in == 0)
		return MYCEL_ENOTFOUND;
	*out_version = r.removed_in;
	return 0;
}

typedef struct ever_ctx {
	const uint8_t *feed;
	uint64_t seq;
	uint64_t version; /* the newest version that admits it */
	const char *name; /* its domain there (copied) */
	char buf[MYCEL_NAME_MAX + 1];
} ever_ctx;

static int ever_fn(void *vctx, const mycel_charter *c)
{
	ever_ctx *e = vctx;
	const mycel_charter_domain *d = NULL;
	if (mycel_charter_admits(c, e->feed, e->seq, &d) != 0)
		return 0;
	snprintf(e->buf, sizeof(e->buf), "%s", d->name);
	e->name = e->buf;
	e->version = mycel_charter_version(c);
	return 1;
}

int mycel__feed_admitted_in(mycel_store *s, MDB_txn *txn, const uint8_t feed[MYCEL_PK_LEN],
                            uint64_t seq, uint64_t *out_version)
{
	ever_ctx e = {feed, seq, 0, NULL, {0}};
	int rv = each_version_down(s, txn, ever_fn, &e);
	if (rv < 0)
		return rv;
	if (rv == 0)
		return MYCEL_EADMIT;
	*out_version = e.version;
	return 0;
}

bool mycel__feed_ever_admitted(mycel_store *s, const uint8_t feed[MYCEL_PK_LEN])
{
	MDB_txn *txn;
	uint64_t v;
	if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0)
		return false;
	bool yes = mycel__feed_admitted_in(s, txn, feed, 1, &v) == 0;
	mdb_txn_abort(txn);
	return yes;
}
