/* verify.c — full verification of a store: charters, feeds, bodies, heads, forks. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedkey.h"
#include "mycel/codec.h"
#include "store_int.h"
#include "util.h"

typedef struct vctx {
	mycel_store *s;
	MDB_txn *txn;
	mycel_problem_fn fn;
	void *ctx;
	mycel_verify_stats st;
	const mycel_charter *charter; /* latest valid charter of the chain, or NULL */
} vctx;

static void report(vctx *v, const char *what, const uint8_t *feed, uint64_t seq, int code,
		   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void report(vctx *v, const char *what, const uint8_t *feed, uint64_t seq, int code,
		   const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mycel_problem p = {what, feed != NULL, {0}, seq, code, msg};
	if (feed != NULL)
		memcpy(p.feed, feed, MYCEL_PK_LEN);
	v->st.problems++;
	if (v->fn != NULL)
		v->fn(v->ctx, &p);
}

/* The charter chain: genesis, then each version verified against the one before. */
static mycel_charter *verify_charters(vctx *v)
{
	MDB_cursor *cur;
	MDB_val k, d;
	mycel_charter *prev = NULL;
	char why[256];
	int rc;

	if ((rc = mdb_cursor_open(v->txn, v->s->charters, &cur)) != 0) {
		report(v, "charter", NULL, 0, mycel__mdb_err(rc), "cannot read charters: %s",
		       mdb_strerror(rc));
		return NULL;
	}
	uint64_t expect = 1;
	for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT), expect++) {
		mycel_charter *c = NULL;
		v->st.charters++;
		uint64_t ver = k.mv_size == 8 ? mycel__get_be64(k.mv_data) : 0;
		if (ver != expect) {
			report(v, "charter", NULL, 0, MYCEL_ECHARTER,
			       "charter record %llu out of sequence (expected version %llu)",
			       (unsigned long long)ver, (unsigned long long)expect);
			break;
		}
		int rv = mycel_charter_decode(d.mv_data, d.mv_size, &c, why, sizeof(why));
		if (rv == 0 && mycel_charter_version(c) != ver) {
			rv = MYCEL_ECHARTER;
			snprintf(why, sizeof(why), "stored as version %llu but says version %llu",
				 (unsigned long long)ver,
				 (unsigned long long)mycel_charter_version(c));
		}
		if (rv == 0)
			rv = prev == NULL ? mycel_charter_verify_genesis(c, why, sizeof(why))
					  : mycel_charter_verify_next(prev, c, why, sizeof(why));
		if (rv == 0 && prev == NULL) {
			uint8_t dig[MYCEL_HASH_LEN];
			MDB_val mk = {7, (void *)"mesh_id"}, mv;
			(void)mycel_charter_digest(c, dig);
			if (mdb_get(v->txn, v->s->meta, &mk, &mv) != 0 || mv.mv_size != MYCEL_HASH_LEN ||
			    memcmp(mv.mv_data, dig, MYCEL_HASH_LEN) != 0)
				report(v, "meta", NULL, 0, MYCEL_ECORRUPT,
				       "mesh id does not match the genesis charter");
		}
		if (rv != 0) {
			report(v, "charter", NULL, 0, rv, "charter v%llu: %s",
			       (unsigned long long)ver, why);
			mycel_charter_free(c);
			break; /* later versions cannot be trusted without this one */
		}
		mycel_charter_free(prev);
		prev = c;
	}
	mdb_cursor_close(cur);
	if (v->st.charters == 0)
		report(v, "charter", NULL, 0, MYCEL_ENOTFOUND, "the store holds no charter");
	return prev;
}

typedef struct feedstate {
	uint8_t feed[MYCEL_PK_LEN];
	bool have_prev;
	mycel_entry prev; /* last entry that decoded */
	uint64_t last_seq;
	bool admitted;
	mycel__feedkey fk; /* the key that signs the next entry (src/feedkey.h) */
} feedstate;

static void check_head(vctx *v, const feedstate *f)
{
	MDB_val k = {MYCEL_PK_LEN, (void *)f->feed}, d;
	int rc = mdb_get(v->txn, v->s->heads, &k, &d);
	if (rc != 0 || d.mv_size != MYCEL__HEAD_LEN) {
		report(v, "head", f->feed, f->last_seq, MYCEL_ECORRUPT,
		       "the feed's head record is missing or malformed");
		return;
	}
	const uint8_t *p = d.mv_data;
	if (mycel__get_be64(p) != f->last_seq ||
	    (f->have_prev && (f->prev.h.seq != f->last_seq ||
			      memcmp(p + 8, f->prev.id, MYCEL_HASH_LEN) != 0 ||
			      mycel__get_be64(p + 8 + MYCEL_HASH_LEN) != f->prev.h.ts_ms)))
		report(v, "head", f->feed, f->last_seq, MYCEL_ECORRUPT,
		       "the head record (seq %llu) does not match the last entry",
		       (unsigned long long)mycel__get_be64(p));
}

/*
 * A feed is admitted when the current charter admits it (a compromised feed up to its cut),
 * or when an earlier version did: the history of a domain removed since stays valid.
 */
static bool feed_admitted(vctx *v, const uint8_t feed[MYCEL_PK_LEN])
{
	uint64_t ver;
	if (v->charter == NULL)
		return false;
	int rv = mycel_charter_admits(v->charter, feed, 0, NULL);
	return rv == 0 || (rv == MYCEL_EADMIT && mycel__feed_admitted_in(v->s, v->txn, feed, 1, &ver) == 0);
}

static void check_entry(vctx *v, feedstate *f, uint64_t seq, const MDB_val *d)
{
	mycel_entry e;
	int rv = mycel_entry_decode(d->mv_data, d->mv_size, &e);
	v->st.entries++;
	f->last_seq = seq;
	if (rv != 0) {
		report(v, "entry", f->feed, seq, rv, "entry does not decode: %s", mycel_strerror(rv));
		f->have_prev = false;
		return;
	}
	if (memcmp(e.h.feed, f->feed, MYCEL_PK_LEN) != 0 || e.h.seq != seq)
		report(v, "entry", f->feed, seq, MYCEL_ECORRUPT,
		       "entry names seq %llu of another place than where it is stored",
		       (unsigned long long)e.h.seq);
	if (v->charter != NULL &&
	    mycel_charter_admits(v->charter, f->feed, seq, NULL) == MYCEL_EREVOKED)
		report(v, "entry", f->feed, seq, MYCEL_EREVOKED,
		       "entry beyond the cut of a feed that charter v%llu declares compromised",
		       (unsigned long long)mycel_charter_version(v->charter));
	else if (!f->admitted)
		report(v, "entry", f->feed, seq, MYCEL_EADMIT,
		       "feed is not admitted by any charter version");
	if (f->fk.seq + 1 != seq) /* after missing entries (reported): the last key known */
		f->fk.seq = seq - 1;
	if ((rv = mycel_entry_verify(&e, f->fk.key)) != 0)
		report(v, "entry", f->feed, seq, rv,
		       f->fk.since == 0 ? "signature does not verify"
				       : "signature does not verify under the key installed at seq %llu",
		       (unsigned long long)f->fk.since);
	if (seq == 1 || f->have_prev) {
		rv = mycel_entry_follows(seq == 1 ? NULL : &f->prev, &e);
		if (rv == MYCEL_ECHAIN)
			report(v, "entry", f->feed, seq, rv,
			       seq == 1 ? "first entry of the feed is not a genesis entry"
				       : "prev does not name the id of entry %llu",
			       (unsigned long long)(seq - 1));
		else if (rv == MYCEL_ETS)
			report(v, "entry", f->feed, seq, rv,
			       "ts_ms %llu is lower than the previous entry's %llu",
			       (unsigned long long)e.h.ts_ms, (unsigned long long)f->prev.h.ts_ms);
	} else if (seq > 1) {
		report(v, "entry", f->feed, seq, MYCEL_ECHAIN,
		       "entry %llu before it is missing or unreadable", (unsigned long long)(seq - 1));
	}
	/* body, stored under the entry's own key */
	uint8_t fs[MYCEL__FEEDSEQ_LEN];
	mycel__feedseq(fs, f->feed, seq);
	MDB_val bk = {sizeof(fs), fs}, bd;
	if (mdb_get(v->txn, v->s->bodies, &bk, &bd) != 0) {
		report(v, "entry", f->feed, seq, MYCEL_ENOTFOUND, "body is missing");
	} else if ((rv = mycel_entry_check_body(&e, bd.mv_data, bd.mv_size)) != 0) {
		report(v, "body", f->feed, seq, rv, "body does not match the entry's body hash");
	} else {
		mycel_rd r;
		mycel_rd_init(&r, bd.mv_data, bd.mv_size);
		rv = mycel_rd_skip(&r, 0);
		if (rv == 0)
			rv = mycel_rd_end(&r);
		if (rv != 0)
			report(v, "body", f->feed, seq, rv, "body is not canonical: %s",
			       mycel_strerror(rv));
		else if ((rv = mycel__feedkey_step(&f->fk, &e, bd.mv_data, bd.mv_size, false)) != 0)
			report(v, "entry", f->feed, seq, rv,
			       "key entry: %s: the chain of keys is broken here",
			       rv == MYCEL_EBADSIG ? "the next key's signature does not verify"
						   : "the body is not {next, sig}");
		else if (mycel__feedkey_is_key(&e)) {
			MDB_val kd;
			if (!v->s->has_keys || mdb_get(v->txn, v->s->keys, &bk, &kd) != 0 ||
			    kd.mv_size != MYCEL_PK_LEN || memcmp(kd.mv_data, f->fk.key, MYCEL_PK_LEN) != 0)
				report(v, "entry", f->feed, seq, MYCEL_ECORRUPT,
				       "key entry: the store's keys table does not record its next key");
		}
	}
	f->fk.seq = seq;
	f->prev = e;
	f->have_prev = true;
}

static void verify_feeds(vctx *v)
{
	MDB_cursor *cur;
	MDB_val k, d;
	feedstate f;
	bool open = false;
	int rc = mdb_cursor_open(v->txn, v->s->entries, &cur);
	if (rc != 0) {
		report(v, "entry", NULL, 0, mycel__mdb_err(rc), "cannot read entries: %s",
		       mdb_strerror(rc));
		return;
	}
	for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		if (k.mv_size != MYCEL__FEEDSEQ_LEN) {
			report(v, "entry", NULL, 0, MYCEL_ECORRUPT, "malformed entry key of %zu bytes",
			       k.mv_size);
			continue;
		}
		const uint8_t *key = k.mv_data;
		uint64_t seq = mycel__get_be64(key + MYCEL_PK_LEN);
		if (!open || memcmp(f.feed, key, MYCEL_PK_LEN) != 0) {
			if (open)
				check_head(v, &f);
			memset(&f, 0, sizeof(f));
			memcpy(f.feed, key, MYCEL_PK_LEN);
			mycel__feedkey_init(&f.fk, f.feed);
			f.admitted = feed_admitted(v, f.feed);

			open = true;
			v->st.feeds++;
			if (seq != 1)
				report(v, "entry", f.feed, seq, MYCEL_ECHAIN,
				       "feed does not start at seq 1");
		} else if (seq != f.last_seq + 1) {
			report(v, "entry", f.feed, seq, MYCEL_ECHAIN,
			       "entries %llu to %llu are missing", (unsigned long long)f.last_seq + 1,
			       (unsigned long long)seq - 1);
			f.have_prev = false;
		}
		check_entry(v, &f, seq, &d);
	}
	if (open)
		check_head(v, &f);
	mdb_cursor_close(cur);
}

/* Every head must belong to a feed with entries. */
static void verify_heads(vctx *v)
{
	MDB_cursor *cur;
	MDB_val k, d;
	if (mdb_cursor_open(v->txn, v->s->heads, &cur) != 0)
		return;
	for (int rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		if (k.mv_size != MYCEL_PK_LEN) {
			report(v, "head", NULL, 0, MYCEL_ECORRUPT, "malformed head key");
			continue;
		}
		uint8_t fs[MYCEL__FEEDSEQ_LEN];
		mycel__feedseq(fs, k.mv_data, 1);
		MDB_val ek = {sizeof(fs), fs}, ed;
		if (mdb_get(v->txn, v->s->entries, &ek, &ed) != 0)
			report(v, "head", k.mv_data, 0, MYCEL_ECORRUPT,
			       "head record for a feed whose entries are missing");
	}
	mdb_cursor_close(cur);
}

/* Every body must belong to a stored entry (its hash is checked with that entry). */
static void verify_bodies(vctx *v)
{
	MDB_cursor *cur;
	MDB_val k, d;
	if (mdb_cursor_open(v->txn, v->s->bodies, &cur) != 0)
		return;
	for (int rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		MDB_val ed;
		v->st.bodies++;
		if (k.mv_size != MYCEL__FEEDSEQ_LEN) {
			report(v, "body", NULL, 0, MYCEL_ECORRUPT, "malformed body key of %zu bytes",
			       k.mv_size);
			continue;
		}
		if (mdb_get(v->txn, v->s->entries, &k, &ed) != 0)
			report(v, "body", k.mv_data, mycel__get_be64((const uint8_t *)k.mv_data + MYCEL_PK_LEN),
			       MYCEL_ECORRUPT, "a body is stored where there is no entry");
	}
	mdb_cursor_close(cur);
}

static void verify_forks(vctx *v)
{
	MDB_cursor *cur;
	MDB_val k, d;
	if (mdb_cursor_open(v->txn, v->s->forks, &cur) != 0)
		return;
	for (int rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		mycel_entry a;
		v->st.forks++;
		if (k.mv_size != MYCEL__FEEDSEQ_LEN) {
			report(v, "fork", NULL, 0, MYCEL_ECORRUPT, "malformed fork key");
			continue;
		}
		const uint8_t *feed = k.mv_data;
		uint64_t seq = mycel__get_be64(feed + MYCEL_PK_LEN);
		uint8_t signer[MYCEL_PK_LEN];
		int rv = mycel__feedkey_at(v->s, v->txn, feed, seq, signer);
		if (rv == 0)
			rv = mycel_fork_verify(d.mv_data, d.mv_size, signer, &a, NULL);
		if (rv == 0 && (memcmp(a.h.feed, feed, MYCEL_PK_LEN) != 0 || a.h.seq != seq))
			rv = MYCEL_ECORRUPT;
		if (rv != 0)
			report(v, "fork", feed, seq, rv, "fork proof does not verify: %s",
			       mycel_strerror(rv));
	}
	mdb_cursor_close(cur);
}

int mycel_store_verify(mycel_store *s, mycel_problem_fn fn, void *ctx, mycel_verify_stats *out)
{
	vctx v;
	memset(&v, 0, sizeof(v));
	v.s = s;
	v.fn = fn;
	v.ctx = ctx;
	int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &v.txn);
	if (rc != 0)
		return mycel__mdb_err(rc);
	mycel_charter *c = verify_charters(&v);
	v.charter = c;
	verify_feeds(&v);
	verify_heads(&v);
	verify_bodies(&v);
	verify_forks(&v);
	mdb_txn_abort(v.txn);
	mycel_charter_free(c);
	if (out != NULL)
		*out = v.st;
	return 0;
}
