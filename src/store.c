/* store.c — the LMDB store: open, charters, signed appends, verified ingest, reads. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "feedkey.h"
#include "mycel/codec.h"
#include "store_int.h"
#include "util.h"

#define MAP_SIZE ((size_t)16 << 30) /* address space only; the file grows as needed */
#define STORE_FORMAT "1"

void mycel__feedseq(uint8_t out[MYCEL__FEEDSEQ_LEN], const uint8_t feed[MYCEL_PK_LEN], uint64_t seq)
{
	memcpy(out, feed, MYCEL_PK_LEN);
	mycel__be64(out + MYCEL_PK_LEN, seq);
}

int mycel__mdb_err(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case MDB_NOTFOUND:
		return MYCEL_ENOTFOUND;
	case ENOMEM:
		return MYCEL_ENOMEM;
	case MDB_MAP_FULL:
		return MYCEL_ETOOBIG;
	case EACCES:
		return MYCEL_EPERM;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
		return MYCEL_ECORRUPT;
	default:
		return MYCEL_ESTORE;
	}
}

static int set_why(int rv, char *why, size_t why_len, const char *what, int mdb_rc)
{
	if (why != NULL && why_len > 0)
		snprintf(why, why_len, "%s: %s", what, mdb_strerror(mdb_rc));
	return rv;
}

/*
 * Loads the latest stored charter inside txn. A record that does not decode
 * makes a writable open fail (nothing could be checked for admission), but a
 * read-only handle still opens, without a current charter, so that
 * mycel_store_verify can report the damage with everything else it finds.
 */
static int load_charter(mycel_store *s, MDB_txn *txn, bool ro, char *why, size_t why_len)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, s->charters, &cur);
	if (rc != 0)
		return set_why(mycel__mdb_err(rc), why, why_len, "charters", rc);
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == 0) {
		mycel_charter *c;
		int rv = mycel_charter_decode(v.mv_data, v.mv_size, &c, why, why_len);
		mdb_cursor_close(cur);
		if (rv != 0 && !ro)
			return rv;
		if (rv != 0 && why != NULL && why_len > 0)
			why[0] = '\0';
		s->charter = rv == 0 ? c : NULL;
		if (s->charter != NULL)
			s->policies_rv = mycel_policies_compile(mycel_charter_policies(s->charter),
								&s->policies, NULL);
	} else {
		mdb_cursor_close(cur);
		if (rc != MDB_NOTFOUND)
			return set_why(mycel__mdb_err(rc), why, why_len, "charters", rc);
	}
	MDB_val mk = {7, (void *)"mesh_id"};
	rc = mdb_get(txn, s->meta, &mk, &v);
	if (rc == 0 && v.mv_size == MYCEL_HASH_LEN) {
		memcpy(s->mesh_id, v.mv_data, MYCEL_HASH_LEN);
		s->has_mesh_id = true;
	}
	return 0;
}

int mycel_store_open(const char *dir, unsigned flags, mycel_store **out, char *why, size_t why_len)
{
	mycel_store *s;
	MDB_txn *txn = NULL;
	struct stat st;
	int rc, rv;
	bool ro = (flags & MYCEL_STORE_READONLY) != 0;

	if (stat(dir, &st) != 0) {
		if (!(flags & MYCEL_STORE_CREATE)) {
			if (why != NULL && why_len > 0)
				snprintf(why, why_len, "%s: no store here", dir);
			return MYCEL_ENOTFOUND;
		}
		if (mkdir(dir, 0700) != 0) {
			if (why != NULL && why_len > 0)
				snprintf(why, why_len, "%s: %s", dir, strerror(errno));
			return MYCEL_EIO;
		}
	} else if (!S_ISDIR(st.st_mode)) {
		if (why != NULL && why_len > 0)
			snprintf(why, why_len, "%s: not a directory", dir);
		return MYCEL_EINVAL;
	} else if (!(flags & MYCEL_STORE_CREATE)) {
		/* without CREATE, LMDB would make a new environment in any directory */
		char db[4096];
		snprintf(db, sizeof(db), "%s/data.mdb", dir);
		if (stat(db, &st) != 0) {
			if (why != NULL && why_len > 0)
				snprintf(why, why_len, "%s: no store here", dir);
			return MYCEL_ENOTFOUND;
		}
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return MYCEL_ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	if ((rc = mdb_env_create(&s->env)) != 0) {
		rv = set_why(mycel__mdb_err(rc), why, why_len, dir, rc);
		goto fail;
	}
	mdb_env_set_maxdbs(s->env, 32); /* 6 tables, 9 catalog tables, room to grow */
	mdb_env_set_mapsize(s->env, MAP_SIZE);
	mdb_env_set_maxreaders(s->env, 256);
	rc = mdb_env_open(s->env, dir, MDB_NOTLS | (ro ? MDB_RDONLY : 0), 0600);
	if (rc != 0) {
		rv = set_why(mycel__mdb_err(rc), why, why_len, dir, rc);
		goto fail;
	}
	if ((rc = mdb_txn_begin(s->env, NULL, ro ? MDB_RDONLY : 0, &txn)) != 0) {
		rv = set_why(mycel__mdb_err(rc), why, why_len, dir, rc);
		goto fail;
	}
	struct {
		const char *name;
		MDB_dbi *dbi;
	} dbs[] = {{"entries", &s->entries}, {"bodies", &s->bodies},
		   {"heads", &s->heads},     {"forks", &s->forks},   {"charters", &s->charters},
		   {"meta", &s->meta}};
	for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		rc = mdb_dbi_open(txn, dbs[i].name, ro ? 0 : MDB_CREATE, dbs[i].dbi);
		if (rc == MDB_NOTFOUND && ro) {
			rv = MYCEL_ENOTFOUND;
			if (why != NULL && why_len > 0)
				snprintf(why, why_len, "%s: not a mycel store (no \"%s\" table)", dir,
					 dbs[i].name);
			goto fail;
		}
		if (rc != 0) {
			rv = set_why(mycel__mdb_err(rc), why, why_len, dbs[i].name, rc);
			goto fail;
		}
	}
	/* the keys table came with key rotation: an older store opened read-only has none */
	rc = mdb_dbi_open(txn, "keys", ro ? 0 : MDB_CREATE, &s->keys);
	if (rc != 0 && !(rc == MDB_NOTFOUND && ro)) {
		rv = set_why(mycel__mdb_err(rc), why, why_len, "keys", rc);
		goto fail;
	}
	s->has_keys = rc == 0;
	MDB_val fk = {6, (void *)"format"}, fv;
	rc = mdb_get(txn, s->meta, &fk, &fv);
	if (rc == MDB_NOTFOUND && !ro) {
		fv.mv_size = 1;
		fv.mv_data = (void *)STORE_FORMAT;
		rc = mdb_put(txn, s->meta, &fk, &fv, 0);
	} else if (rc == 0 && (fv.mv_size != 1 || memcmp(fv.mv_data, STORE_FORMAT, 1) != 0)) {
		rv = MYCEL_EVERSION;
		if (why != NULL && why_len > 0)
			snprintf(why, why_len, "%s: store format is not %s", dir, STORE_FORMAT);
		goto fail;
	}
	if (rc != 0 && !(rc == MDB_NOTFOUND && ro)) {
		rv = set_why(mycel__mdb_err(rc), why, why_len, "meta", rc);
		goto fail;
	}
	if ((rv = load_charter(s, txn, ro, why, why_len)) != 0)
		goto fail;
	if ((rv = mycel__catalog_open(s, txn, ro, why, why_len)) != 0)
		goto fail;
	if ((rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		rv = set_why(mycel__mdb_err(rc), why, why_len, dir, rc);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	mycel_store_close(s);
	return rv;
}

void mycel_store_close(mycel_store *s)
{
	if (s == NULL)
		return;
	if (s->env != NULL)
		mdb_env_close(s->env);
	mycel_charter_free(s->charter);
	mycel_policies_free(s->policies);
	for (size_t i = 0; i < s->n_retired; i++) {
		mycel_charter_free(s->retired[i]);
		mycel_policies_free(s->retired_policies[i]);
	}
	mycel_buf_fini(&s->cat.pend);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

const mycel_charter *mycel_store_charter(const mycel_store *s)
{
	return s->charter;
}

int mycel__store_policies(const mycel_store *s, const mycel_policies **out)
{
	*out = s->policies;
	return s->policies_rv;
}

int mycel_store_mesh_id(const mycel_store *s, uint8_t out[MYCEL_HASH_LEN])
{
	if (!s->has_mesh_id)
		return MYCEL_ENOTFOUND;
	memcpy(out, s->mesh_id, MYCEL_HASH_LEN);
	return 0;
}

int mycel_store_add_charter(mycel_store *s, const uint8_t *p, size_t n, char *why, size_t why_len)
{
	mycel_charter *c;
	MDB_txn *txn;
	uint8_t vkey[8];
	int rc, rv = mycel_charter_decode(p, n, &c, why, why_len);
	if (rv != 0)
		return rv;
	pthread_mutex_lock(&s->lock);
	if (s->charter == NULL) {
		rv = mycel_charter_verify_genesis(c, why, why_len);
	} else if (mycel_charter_version(c) == mycel_charter_version(s->charter)) {
		uint8_t da[32], db[32];
		uint64_t ver = mycel_charter_version(c); /* s->charter may change once unlocked */
		rv = mycel_charter_digest(c, da);
		if (rv == 0)
			rv = mycel_charter_digest(s->charter, db);
		pthread_mutex_unlock(&s->lock);
		mycel_charter_free(c);
		if (rv != 0)
			return rv;
		if (memcmp(da, db, 32) != 0) {
			if (why != NULL && why_len > 0)
				snprintf(why, why_len, "a different charter v%llu is already in force",
					 (unsigned long long)ver);
			return MYCEL_ECHARTER;
		}
		return 0;
	} else {
		rv = mycel_charter_verify_next(s->charter, c, why, why_len);
	}
	mycel_policies *pol = NULL;
	if (rv == 0 && (rv = mycel_policies_compile(mycel_charter_policies(c), &pol, NULL)) != 0 &&
	    why != NULL && why_len > 0)
		snprintf(why, why_len, "the charter's policies: %s", mycel_strerror(rv));
	if (rv != 0)
		goto done;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0) {
		rv = set_why(mycel__mdb_err(rc), why, why_len, "charters", rc);
		goto done;
	}
	mycel__be64(vkey, mycel_charter_version(c));
	MDB_val k = {8, vkey}, v = {n, (void *)p};
	rc = mdb_put(txn, s->charters, &k, &v, MDB_NOOVERWRITE);
	uint8_t mid[MYCEL_HASH_LEN];
	bool genesis = s->charter == NULL;
	if (rc == 0 && genesis) {
		(void)mycel_charter_digest(c, mid);
		MDB_val mk = {7, (void *)"mesh_id"}, mv = {MYCEL_HASH_LEN, mid};
		rc = mdb_put(txn, s->meta, &mk, &mv, 0);
	}
	if (rc == 0 && !genesis) {
		/*
		 * What the new version changes takes effect in the same transaction: compromised
		 * feeds cut, and the catalog rebuilt against it, with its policies (every
		 * version's verdict evaluated again).
		 */
		mycel_policies *old_p = s->policies;
		int old_prv = s->policies_rv;
		s->policies = pol;
		s->policies_rv = 0;
		rv = mycel__charter_adopt(s, txn, c, NULL);
		s->policies = old_p;
		s->policies_rv = old_prv;
		if (rv != 0) {
			mdb_txn_abort(txn);
			mycel__catalog_discard(s);
			(void)mycel__fail(rv, why, why_len, "adopting charter v%llu: %s",
					  (unsigned long long)mycel_charter_version(c),
					  mycel_strerror(rv));

			goto done;
		}
	}
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	if (rc != 0) {
		rv = set_why(mycel__mdb_err(rc), why, why_len, "charters", rc);
		goto done;
	}
	if (genesis) {
		memcpy(s->mesh_id, mid, MYCEL_HASH_LEN);
		s->has_mesh_id = true;
	}
	mycel__charter_retire(s, s->charter, s->policies);
	s->charter = c;
	c = NULL;
	s->policies = pol;
	s->policies_rv = 0;
	pol = NULL;
done:
	pthread_mutex_unlock(&s->lock);
	mycel_policies_free(pol);
	mycel_charter_free(c);
	return rv;
}

/* ---- head records ------------------------------------------------------------ */

typedef struct head {
	bool exists;
	uint64_t seq;
	uint8_t id[MYCEL_HASH_LEN];
	uint64_t ts_ms;
} head;

static int get_head(mycel_store *s, MDB_txn *txn, const uint8_t feed[MYCEL_PK_LEN], head *h)
{
	MDB_val k = {MYCEL_PK_LEN, (void *)feed}, v;
	int rc = mdb_get(txn, s->heads, &k, &v);
	memset(h, 0, sizeof(*h));
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return mycel__mdb_err(rc);
	if (v.mv_size != MYCEL__HEAD_LEN)
		return MYCEL_ECORRUPT;
	const uint8_t *p = v.mv_data;
	h->exists = true;
	h->seq = mycel__get_be64(p);
	memcpy(h->id, p + 8, MYCEL_HASH_LEN);
	h->ts_ms = mycel__get_be64(p + 8 + MYCEL_HASH_LEN);
	return 0;
}

/* Writes the head record of feed. */
static int put_head(mycel_store *s, MDB_txn *txn, const uint8_t feed[MYCEL_PK_LEN], const head *h)
{
	uint8_t hv[MYCEL__HEAD_LEN];
	mycel__be64(hv, h->seq);
	memcpy(hv + 8, h->id, MYCEL_HASH_LEN);
	mycel__be64(hv + 8 + MYCEL_HASH_LEN, h->ts_ms);
	MDB_val hk = {MYCEL_PK_LEN, (void *)feed}, hvv = {sizeof(hv), hv};
	return mycel__mdb_err(mdb_put(txn, s->heads, &hk, &hvv, 0));
}

int mycel__feedkey_at(mycel_store *s, MDB_txn *txn, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
		      uint8_t out[MYCEL_PK_LEN])
{
	uint8_t fs[MYCEL__FEEDSEQ_LEN];
	MDB_cursor *cur;
	int rc;
	MDB_stat st;
	memcpy(out, feed, MYCEL_PK_LEN);
	if (!s->has_keys || seq <= 1)
		return 0;
	/* no rotation anywhere (the common case): no cursor for each entry ingested */
	if ((rc = mdb_stat(txn, s->keys, &st)) != 0)
		return mycel__mdb_err(rc);
	if (st.ms_entries == 0)
		return 0;
	if ((rc = mdb_cursor_open(txn, s->keys, &cur)) != 0)
		return mycel__mdb_err(rc);
	/* the last key entry below seq: the record before the first one at or after (feed, seq) */
	mycel__feedseq(fs, feed, seq);
	MDB_val k = {sizeof(fs), fs}, v;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0)
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == MYCEL__FEEDSEQ_LEN && memcmp(k.mv_data, feed, MYCEL_PK_LEN) == 0) {
		if (v.mv_size != MYCEL_PK_LEN) {
			mdb_cursor_close(cur);
			return MYCEL_ECORRUPT;
		}
		memcpy(out, v.mv_data, MYCEL_PK_LEN);
	}
	mdb_cursor_close(cur);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : mycel__mdb_err(rc);
}

int mycel_store_key_seqs(mycel_store *s, const uint8_t feed[MYCEL_PK_LEN], uint64_t *out,
			 size_t max, size_t *out_n)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	uint8_t fs[MYCEL__FEEDSEQ_LEN];
	size_t n = 0;
	int rc;
	if (!s->has_keys) {
		*out_n = 0;
		return 0;
	}
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
		return mycel__mdb_err(rc);
	if ((rc = mdb_cursor_open(txn, s->keys, &cur)) != 0) {
		mdb_txn_abort(txn);
		return mycel__mdb_err(rc);
	}
	mycel__feedseq(fs, feed, 0);
	MDB_val k = {sizeof(fs), fs}, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == 0 && k.mv_size == MYCEL__FEEDSEQ_LEN && memcmp(k.mv_data, feed, MYCEL_PK_LEN) == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (n == max) {
			rc = MDB_NOTFOUND;
			break;
		}
		out[n++] = mycel__get_be64((const uint8_t *)k.mv_data + MYCEL_PK_LEN);
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return mycel__mdb_err(rc);
	*out_n = n;
	return 0;
}

int mycel_store_feed_key(mycel_store *s, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
			 uint8_t out_key[MYCEL_PK_LEN])
{
	MDB_txn *txn;
	uint8_t k[MYCEL_PK_LEN];
	int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return mycel__mdb_err(rc);
	int rv = mycel__feedkey_at(s, txn, feed, seq, k);
	mdb_txn_abort(txn);
	if (rv == 0)
		memcpy(out_key, k, MYCEL_PK_LEN);
	return rv;
}

/*
 * Writes entry and body, both keyed by feed ‖ seq, applies the entry to the
 * derived catalog tables (domain: the charter's name of the feed), and writes
 * the new head if with_head (a batch of appends writes its head once, after
 * its last entry); the caller has checked the entry. Both tables grow in key
 * order within a feed, so a batch touches few pages (keying bodies by hash, or
 * keeping an id index, scattered writes over random pages and halved the
 * append rate).
 */
static int put_entry(mycel_store *s, MDB_txn *txn, const mycel_entry *e, const uint8_t *body,
		     size_t body_len, const char *domain, bool with_head)
{
	uint8_t fs[MYCEL__FEEDSEQ_LEN];
	mycel__feedseq(fs, e->h.feed, e->h.seq);
	MDB_val k = {sizeof(fs), fs}, v = {e->len, (void *)e->raw};
	int rc = mdb_put(txn, s->entries, &k, &v, MDB_NOOVERWRITE);
	if (rc != 0)
		return rc == MDB_KEYEXIST ? MYCEL_ECORRUPT : mycel__mdb_err(rc);
	MDB_val bv = {body_len, (void *)body};
	rc = mdb_put(txn, s->bodies, &k, &bv, MDB_NOOVERWRITE);
	if (rc != 0)
		return rc == MDB_KEYEXIST ? MYCEL_ECORRUPT : mycel__mdb_err(rc);
	if (mycel__feedkey_is_key(e)) {
		/* the caller checked the body: {next, sig}, next at a fixed offset */
		MDB_val kv = {MYCEL_PK_LEN, (void *)(body + 8)};
		if (body_len != MYCEL__KEY_BODY_LEN || !s->has_keys)
			return MYCEL_ECORRUPT;
		if ((rc = mdb_put(txn, s->keys, &k, &kv, 0)) != 0)
			return mycel__mdb_err(rc);
	}
	int rv = mycel__catalog_apply(s, txn, e, body, body_len, domain);
	if (rv != 0) {
		/* the catalog wrote nothing (or LMDB failed the txn): leave no trace of the entry */
		(void)mdb_del(txn, s->entries, &k, NULL);
		(void)mdb_del(txn, s->bodies, &k, NULL);
		if (mycel__feedkey_is_key(e))
			(void)mdb_del(txn, s->keys, &k, NULL);
		return rv;
	}
	if (!with_head)
		return 0;
	head h = {true, e->h.seq, {0}, e->h.ts_ms};
	memcpy(h.id, e->id, MYCEL_HASH_LEN);
	return put_head(s, txn, e->h.feed, &h);
}

static bool feed_forked(mycel_store *s, MDB_txn *txn, const uint8_t feed[MYCEL_PK_LEN])
{
	MDB_cursor *cur;
	MDB_val k = {MYCEL_PK_LEN, (void *)feed}, v;
	bool forked = false;
	if (mdb_cursor_open(txn, s->forks, &cur) != 0)
		return false;
	if (mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) == 0 && k.mv_size == MYCEL__FEEDSEQ_LEN &&
	    memcmp(k.mv_data, feed, MYCEL_PK_LEN) == 0)
		forked = true;
	mdb_cursor_close(cur);
	return forked;
}

/* A body must be one canonical value of at most MYCEL_BODY_MAX bytes. */
static int check_body_form(const uint8_t *body, size_t n)
{
	mycel_rd r;
	if (n > MYCEL_BODY_MAX)
		return MYCEL_ETOOBIG;
	mycel_rd_init(&r, body, n);
	int rv = mycel_rd_skip(&r, 0);
	if (rv == 0)
		rv = mycel_rd_end(&r);
	return rv;
}

int mycel_store_append(mycel_store *s, const mycel_key *key, const uint8_t feed[MYCEL_PK_LEN],
		       const mycel_record *recs, size_t n, mycel_entry *out)
{
	MDB_txn *txn;
	head h;
	mycel_entry e;
	int rc, rv;

	for (size_t i = 0; i < n; i++) {
		if (recs[i].kind == NULL || !mycel_kind_valid(recs[i].kind))
			return MYCEL_EINVAL;
		if ((rv = check_body_form(recs[i].body, recs[i].body_len)) != 0)
			return rv;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(recs[i].kind, MYCEL__KEY_KIND) == 0)
			return MYCEL_EINVAL; /* a rotation is mycel_store_rotate's */
	/*
	 * The charter lock is held until the commit, so a charter change cannot
	 * slip between the admission check and the write (lock order as in
	 * ingest and add_charter: charter lock, then LMDB's writer lock).
	 */
	pthread_mutex_lock(&s->lock);
	const mycel_charter_domain *dom = NULL;
	/* a compromised feed's key publishes nothing more, whatever its head */
	rv = s->charter == NULL ? MYCEL_EADMIT
	     : mycel_charter_find_compromised(s->charter, feed) != NULL
		 ? MYCEL_EREVOKED
		 : mycel_charter_admits(s->charter, feed, 1, &dom);
	if (rv != 0) {
		pthread_mutex_unlock(&s->lock);
		return rv;
	}
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0) {
		pthread_mutex_unlock(&s->lock);
		return mycel__mdb_err(rc);
	}
	if ((rv = get_head(s, txn, feed, &h)) != 0)
		goto fail;
	if (feed_forked(s, txn, feed)) {
		rv = MYCEL_EFORK;
		goto fail;
	}
	uint8_t signer[MYCEL_PK_LEN];
	if ((rv = mycel__feedkey_at(s, txn, feed, h.seq + 1, signer)) != 0)
		goto fail;
	if (sodium_memcmp(signer, key->pk, MYCEL_PK_LEN) != 0) {
		rv = MYCEL_EPERM; /* not the key that signs the feed now (rotated away, or another's) */
		goto fail;
	}
	uint64_t now = mycel__now_ms();
	for (size_t i = 0; i < n; i++) {
		mycel_header hd;
		memcpy(hd.feed, feed, MYCEL_PK_LEN);
		hd.seq = h.seq + 1;
		hd.has_prev = h.exists;
		if (h.exists)
			memcpy(hd.prev, h.id, MYCEL_HASH_LEN);
		else
			memset(hd.prev, 0, MYCEL_HASH_LEN);
		hd.ts_ms = now > h.ts_ms ? now : h.ts_ms;
		snprintf(hd.kind, sizeof(hd.kind), "%s", recs[i].kind);
		mycel_body_hash(recs[i].body, recs[i].body_len, hd.body_hash);
		if ((rv = mycel_entry_sign(&hd, key, &e)) != 0)
			goto fail;
		if ((rv = put_entry(s, txn, &e, recs[i].body, recs[i].body_len, dom->name, false)) != 0)
			goto fail;
		h.exists = true;
		h.seq = hd.seq;
		h.ts_ms = hd.ts_ms;
		memcpy(h.id, e.id, MYCEL_HASH_LEN);
		if (out != NULL)
			out[i] = e;
	}
	if (n > 0 && (rv = put_head(s, txn, feed, &h)) != 0)
		goto fail;
	if ((rv = mycel__catalog_flush(s, txn)) != 0)
		goto fail;
	rc = mdb_txn_commit(txn);
	pthread_mutex_unlock(&s->lock);
	return mycel__mdb_err(rc);
fail:
	mdb_txn_abort(txn);
	mycel__catalog_discard(s);
	pthread_mutex_unlock(&s->lock);
	return rv;
}

int mycel_store_rotate(mycel_store *s, const mycel_key *key, const uint8_t feed[MYCEL_PK_LEN],
		       const mycel_key *next, mycel_entry *out)
{
	uint8_t body[MYCEL__KEY_BODY_LEN], signer[MYCEL_PK_LEN];
	MDB_txn *txn;
	mycel_header hd;
	mycel_entry e;
	head h;
	int rc, rv;

	if (s == NULL || key == NULL || next == NULL || feed == NULL)
		return MYCEL_EINVAL;
	if (sodium_memcmp(key->pk, next->pk, MYCEL_PK_LEN) == 0)
		return MYCEL_EINVAL;
	pthread_mutex_lock(&s->lock); /* lock order as in mycel_store_append */
	const mycel_charter_domain *dom =
	    s->charter != NULL ? mycel_charter_find_feed(s->charter, feed) : NULL;
	if (dom == NULL) {
		pthread_mutex_unlock(&s->lock);
		return MYCEL_EADMIT;
	}
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0) {
		pthread_mutex_unlock(&s->lock);
		return mycel__mdb_err(rc);
	}
	if ((rv = get_head(s, txn, feed, &h)) != 0)
		goto fail;
	if (feed_forked(s, txn, feed)) {
		rv = MYCEL_EFORK;
		goto fail;
	}
	if ((rv = mycel__feedkey_at(s, txn, feed, h.seq + 1, signer)) != 0)
		goto fail;
	if (sodium_memcmp(signer, key->pk, MYCEL_PK_LEN) != 0) {
		rv = MYCEL_EPERM;
		goto fail;
	}
	memcpy(hd.feed, feed, MYCEL_PK_LEN);
	hd.seq = h.seq + 1;
	hd.has_prev = h.exists;
	if (h.exists)
		memcpy(hd.prev, h.id, MYCEL_HASH_LEN);
	else
		memset(hd.prev, 0, MYCEL_HASH_LEN);
	uint64_t now = mycel__now_ms();
	hd.ts_ms = now > h.ts_ms ? now : h.ts_ms;
	snprintf(hd.kind, sizeof(hd.kind), "%s", MYCEL__KEY_KIND);
	if ((rv = mycel__feedkey_body(feed, hd.seq, next, body)) != 0)
		goto fail;
	mycel_body_hash(body, sizeof(body), hd.body_hash);
	if ((rv = mycel_entry_sign(&hd, key, &e)) != 0)
		goto fail;
	if ((rv = put_entry(s, txn, &e, body, sizeof(body), dom->name, true)) != 0)
		goto fail;
	if ((rv = mycel__catalog_flush(s, txn)) != 0)
		goto fail;
	rc = mdb_txn_commit(txn);
	pthread_mutex_unlock(&s->lock);
	if (rc == 0 && out != NULL)
		*out = e;
	return mycel__mdb_err(rc);
fail:
	mdb_txn_abort(txn);
	mycel__catalog_discard(s);
	pthread_mutex_unlock(&s->lock);
	return rv;
}

/*
 * Checks one untrusted item against the store inside txn and stores it (or its fork proof).
 * verified: its signature, body hash and canonical body were checked by the caller. *gap: it
 * does not follow its feed's head (seq too far ahead). *fatal: an LMDB (or memory) failure,
 * after which the transaction must be abandoned. *out (if not NULL) gets the decoded entry.
 */
static int ingest_one(mycel_store *s, MDB_txn *txn, const mycel_blob *it, bool verified,
		      bool sig_genesis, bool *dup, bool *fork_stored, bool *gap, bool *fatal,
		      mycel_entry *out)
{
	mycel_entry e;
	head h;
	uint8_t signer[MYCEL_PK_LEN];
	int rv, rc;

	*dup = false;
	if ((rv = mycel_entry_decode(it->entry, it->entry_len, &e)) != 0)
		return rv;
	if (out != NULL)
		*out = e;
	const mycel_charter_domain *dom = NULL;
	if (s->charter == NULL)
		return MYCEL_EADMIT;
	if ((rv = mycel_charter_admits(s->charter, e.h.feed, e.h.seq, &dom)) != 0)
		return rv; /* EADMIT, or EREVOKED beyond a compromised feed's cut */
	if ((rv = get_head(s, txn, e.h.feed, &h)) != 0) {
		*fatal = true;
		return rv;
	}
	if (h.exists && e.h.seq <= h.seq) {
		/* We hold an entry there: the same one (a duplicate), or a fork. */
		uint8_t fs[MYCEL__FEEDSEQ_LEN], proof[MYCEL_FORK_MAX];
		size_t plen;
		mycel_entry other;
		mycel__feedseq(fs, e.h.feed, e.h.seq);
		MDB_val k = {sizeof(fs), fs}, v;
		if ((rc = mdb_get(txn, s->entries, &k, &v)) != 0) {
			*fatal = true;
			return rc == MDB_NOTFOUND ? MYCEL_ECORRUPT : mycel__mdb_err(rc);
		}
		if (mycel_entry_decode(v.mv_data, v.mv_size, &other) != 0) {
			*fatal = true;
			return MYCEL_ECORRUPT;
		}
		if (memcmp(other.id, e.id, MYCEL_HASH_LEN) == 0) {
			*dup = true;
			return 0;
		}
		/* A different entry: an equivocation if, and only if, it is validly signed. */
		if ((rv = mycel__feedkey_at(s, txn, e.h.feed, e.h.seq, signer)) != 0) {
			*fatal = true;
			return rv;
		}
		if (!(sig_genesis && memcmp(signer, e.h.feed, MYCEL_PK_LEN) == 0) &&
		    (rv = mycel_entry_verify(&e, signer)) != 0)
			return rv;
		if ((rv = mycel_fork_encode(&other, &e, proof, &plen)) != 0)
			return rv;
		MDB_val fv = {plen, proof};
		rc = mdb_put(txn, s->forks, &k, &fv, MDB_NOOVERWRITE);
		if (rc != 0 && rc != MDB_KEYEXIST) {
			*fatal = true;
			return mycel__mdb_err(rc);
		}
		*fork_stored = rc == 0;
		return MYCEL_EFORK;
	}
	if (!h.exists ? e.h.seq != 1 : e.h.seq != h.seq + 1) {
		*gap = e.h.seq > (h.exists ? h.seq + 1 : 1);
		return MYCEL_ECHAIN;
	}
	/* signed by the key that signs the feed at this seq (src/feedkey.h): known only
	 * once the entries before it are held, so a gap is reported before this check */
	if ((rv = mycel__feedkey_at(s, txn, e.h.feed, e.h.seq, signer)) != 0) {
		*fatal = true;
		return rv;
	}
	if (!(sig_genesis && memcmp(signer, e.h.feed, MYCEL_PK_LEN) == 0) &&
	    (rv = mycel_entry_verify(&e, signer)) != 0)
		return rv;
	if (h.exists) {
		if (memcmp(e.h.prev, h.id, MYCEL_HASH_LEN) != 0)
			return MYCEL_ECHAIN;
		if (e.h.ts_ms < h.ts_ms)
			return MYCEL_ETS;
	}
	if (!verified && (rv = check_body_form(it->body, it->body_len)) != 0)
		return rv;
	if (!verified && (rv = mycel_entry_check_body(&e, it->body, it->body_len)) != 0)
		return rv;
	if (mycel__feedkey_is_key(&e) &&
	    (rv = mycel__feedkey_body_check(e.h.feed, e.h.seq, it->body, it->body_len, NULL)) != 0)
		return rv;
	if (feed_forked(s, txn, e.h.feed))
		return MYCEL_EFORK;
	if ((rv = put_entry(s, txn, &e, it->body, it->body_len, dom->name, true)) != 0)
		*fatal = true;
	return rv;
}

int mycel_store_ingest(mycel_store *s, const mycel_blob *items, size_t n,
		       mycel_ingest_result *res)
{
	MDB_txn *txn;
	mycel_ingest_result r = {0, 0, n, 0, false};
	int rc;

	/*
	 * The charter lock first, then LMDB's writer lock: the order that
	 * mycel_store_add_charter uses, so that the two cannot deadlock.
	 */
	pthread_mutex_lock(&s->lock);
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0) {
		pthread_mutex_unlock(&s->lock);
		return mycel__mdb_err(rc);
	}
	for (size_t i = 0; i < n; i++) {
		bool dup = false, gap = false, fatal = false;
		int rv = ingest_one(s, txn, &items[i], false, false, &dup, &r.fork_stored, &gap, &fatal,
				    NULL);
		if (rv != 0) {
			r.failed_at = i;
			r.code = rv;
			break;
		}
		if (dup)
			r.duplicate++;
		else
			r.accepted++;
	}
	if (r.accepted > 0 || r.fork_stored) {
		/* the batch's posting changes, merged once; if that fails nothing of the batch stays */
		int rv = mycel__catalog_flush(s, txn);
		if (rv == 0)
			rv = mycel__mdb_err(mdb_txn_commit(txn));
		else
			mdb_txn_abort(txn);
		if (rv != 0) {
			r.accepted = 0;
			r.fork_stored = false;
			r.code = rv;
			r.failed_at = 0;
		}
	} else {
		mdb_txn_abort(txn);
		mycel__catalog_discard(s);
	}
	pthread_mutex_unlock(&s->lock);
	if (res != NULL)
		*res = r;
	return r.code;
}

/* ---- group ingest (the node's writer: many independent requests, one commit) ------ */

static void group_refuse(mycel_ingest_group *g, size_t at, int code, const uint8_t *feed,
			 bool has_seq, uint64_t seq, const char *what)
{
	if (g->code != 0)
		return;
	g->code = code;
	g->failed_at = at;
	if (feed == NULL)
		(void)snprintf(g->why, sizeof(g->why), "item %zu: %s", at, what);
	else if (has_seq)
		(void)snprintf(g->why, sizeof(g->why), "feed %02x%02x%02x%02x… seq %llu: %s",
			       feed[0], feed[1], feed[2], feed[3], (unsigned long long)seq, what);
	else
		(void)snprintf(g->why, sizeof(g->why), "feed %02x%02x%02x%02x…: %s", feed[0],
			       feed[1], feed[2], feed[3], what);
}

/*
 * Checks a received fork proof and stores it inside txn. 0 with *stored (false: that
 * (feed, seq) already had a proof), or the refusal; *fatal on an LMDB failure.
 */
static int store_proof(mycel_store *s, MDB_txn *txn, const mycel_fork_pair *p, bool verified,
		       bool *stored, bool *fatal, mycel_entry *a, mycel_entry *b)
{
	uint8_t fs[MYCEL__FEEDSEQ_LEN], proof[MYCEL_FORK_MAX];
	size_t plen;
	int rv, rc;

	*stored = false;
	if ((rv = mycel_entry_decode(p->a.entry, p->a.entry_len, a)) != 0)
		return rv;
	if ((rv = mycel_entry_decode(p->b.entry, p->b.entry_len, b)) != 0)
		return rv;
	if (memcmp(a->h.feed, b->h.feed, MYCEL_PK_LEN) != 0 || a->h.seq != b->h.seq ||
	    memcmp(a->id, b->id, MYCEL_HASH_LEN) == 0)
		return MYCEL_EINVAL;
	if (s->charter == NULL)
		return MYCEL_EADMIT;
	if ((rv = mycel_charter_admits(s->charter, a->h.feed, a->h.seq, NULL)) != 0)
		return rv; /* no fork beyond a compromised feed's cut marks it forked */
	/*
	 * Both signed by the key that signs the feed at that seq, as far as the store knows the
	 * feed (its key entries below that seq); verified means "under the feed id".
	 */
	uint8_t signer[MYCEL_PK_LEN];
	if ((rv = mycel__feedkey_at(s, txn, a->h.feed, a->h.seq, signer)) != 0) {
		*fatal = true;
		return rv;
	}
	if (!(verified && memcmp(signer, a->h.feed, MYCEL_PK_LEN) == 0) &&
	    ((rv = mycel_entry_verify(a, signer)) != 0 || (rv = mycel_entry_verify(b, signer)) != 0))

		return rv;
	if ((rv = mycel_fork_encode(a, b, proof, &plen)) != 0)
		return rv;
	mycel__feedseq(fs, a->h.feed, a->h.seq);
	MDB_val k = {sizeof(fs), fs}, v = {plen, proof};
	rc = mdb_put(txn, s->forks, &k, &v, MDB_NOOVERWRITE);
	if (rc != 0 && rc != MDB_KEYEXIST) {
		*fatal = true;
		return mycel__mdb_err(rc);
	}
	*stored = rc == 0;
	return 0;
}

/* Is feed among the first n stopped feeds? */
static bool stopped(const uint8_t (*stop)[MYCEL_PK_LEN], size_t n, const uint8_t *feed)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(stop[i], feed, MYCEL_PK_LEN) == 0)
			return true;
	return false;
}

/* Runs group g inside txn. Returns 0, or the fatal error that abandons the transaction. */
static int ingest_group(mycel_store *s, MDB_txn *txn, mycel_ingest_group *g,
			uint8_t (*stop)[MYCEL_PK_LEN])
{
	size_t n_stop = 0;
	for (size_t i = 0; i < g->n; i++) {
		bool dup = false, fork = false, gap = false, fatal = false;
		mycel_entry e;
		if (g->states != NULL)
			g->states[i] = MYCEL_INGEST_REFUSED;
		if (n_stop > 0 && g->items[i].entry_len >= MYCEL_PK_LEN &&
		    mycel_entry_decode(g->items[i].entry, g->items[i].entry_len, &e) == 0 &&
		    stopped((const uint8_t(*)[MYCEL_PK_LEN])stop, n_stop, e.h.feed)) {
			g->refused++;
			continue;
		}
		memset(&e, 0, sizeof(e));
		bool sig_genesis = g->verified && (g->sig_unchecked == NULL || !g->sig_unchecked[i]);
		int rv = ingest_one(s, txn, &g->items[i], g->verified, sig_genesis, &dup, &fork, &gap,
				    &fatal, &e);
		if (fatal)
			return rv;
		if (rv == 0) {
			if (dup)
				g->duplicate++;
			else
				g->accepted++;
			if (g->states != NULL)
				g->states[i] = dup ? MYCEL_INGEST_KNOWN : MYCEL_INGEST_NEW;
			continue;
		}
		/* refused (or a gap): its feed stops for the rest of the group */
		g->refused++;
		if (fork) {
			g->forks_stored++;
			if (g->states != NULL)
				g->states[i] = MYCEL_INGEST_FORK;
		}
		bool decoded = e.h.seq != 0; /* ingest_one fills e once it decodes */
		if (decoded && n_stop < g->n)
			memcpy(stop[n_stop++], e.h.feed, MYCEL_PK_LEN);
		if (gap)
			g->gap = true;
		else
			group_refuse(g, i, rv, decoded ? e.h.feed : NULL, decoded, e.h.seq,
				     mycel_strerror(rv));
	}
	for (size_t i = 0; i < g->n_forks; i++) {
		bool stored = false, fatal = false;
		mycel_entry a, b;
		memset(&a, 0, sizeof(a));
		if (g->fork_states != NULL)
			g->fork_states[i] = 0;
		int rv = store_proof(s, txn, &g->forks[i], g->verified, &stored, &fatal, &a, &b);
		if (fatal)
			return rv;
		if (rv != 0) {
			bool decoded = a.h.seq != 0;
			char what[160];
			(void)snprintf(what, sizeof(what), "fork proof %zu: %s", i,
				       rv == MYCEL_EINVAL ? "its entries are not of one feed and seq "
							    "with different ids"
							  : mycel_strerror(rv));
			group_refuse(g, g->n + i, rv, decoded ? a.h.feed : NULL, decoded, a.h.seq,
				     what);
			continue;
		}
		if (stored) {
			g->forks_stored++;
			if (g->fork_states != NULL)
				g->fork_states[i] = 1;
		}
	}
	return 0;
}

int mycel_store_ingest_groups(mycel_store *s, mycel_ingest_group *groups, size_t n)
{
	MDB_txn *txn = NULL;
	uint8_t(*stop)[MYCEL_PK_LEN] = NULL;
	size_t most = 1;
	bool wrote = false;
	int rv = 0, rc;

	for (size_t i = 0; i < n; i++) {
		mycel_ingest_group *g = &groups[i];
		g->accepted = g->duplicate = g->refused = g->forks_stored = 0;
		g->gap = false;
		g->code = 0;
		g->failed_at = g->n + g->n_forks;
		g->why[0] = '\0';
		if (g->n > most)
			most = g->n;
	}
	/* the feeds a group has stopped: at most one per item */
	stop = malloc(most * sizeof(*stop));
	if (stop == NULL) {
		rv = MYCEL_ENOMEM;
		goto out;
	}
	/* charter lock, then LMDB's writer lock (the order of mycel_store_add_charter) */
	pthread_mutex_lock(&s->lock);
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0) {
		pthread_mutex_unlock(&s->lock);
		rv = mycel__mdb_err(rc);
		goto out;
	}
	for (size_t i = 0; i < n && rv == 0; i++) {
		rv = ingest_group(s, txn, &groups[i], stop);
		wrote = wrote || groups[i].accepted > 0 || groups[i].forks_stored > 0;
	}
	if (rv == 0 && wrote) {
		if ((rv = mycel__catalog_flush(s, txn)) == 0) {
			rv = mycel__mdb_err(mdb_txn_commit(txn));
			txn = NULL;
		}
	}
	if (txn != NULL) {
		mdb_txn_abort(txn);
		mycel__catalog_discard(s);
	}
	pthread_mutex_unlock(&s->lock);
out:
	free(stop);
	if (rv != 0) {
		for (size_t i = 0; i < n; i++) {
			mycel_ingest_group *g = &groups[i];
			g->refused = g->n;
			g->accepted = g->duplicate = g->forks_stored = 0;
			g->gap = false;
			g->code = rv;
			g->failed_at = 0;
			(void)snprintf(g->why, sizeof(g->why), "nothing was stored: %s",
				       mycel_strerror(rv));
			if (g->states != NULL)
				memset(g->states, MYCEL_INGEST_REFUSED, g->n);
			if (g->fork_states != NULL)
				memset(g->fork_states, 0, g->n_forks);
		}
	}
	return rv;
}

int mycel_store_forks(mycel_store *s, const uint8_t *feed, mycel_fork_fn fn, void *ctx)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	uint8_t fs[MYCEL__FEEDSEQ_LEN] = {0};
	int rv = 0, rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return mycel__mdb_err(rc);
	if ((rc = mdb_cursor_open(txn, s->forks, &cur)) != 0) {
		mdb_txn_abort(txn);
		return mycel__mdb_err(rc);
	}
	if (feed != NULL)
		mycel__feedseq(fs, feed, 0);
	MDB_val k = {sizeof(fs), fs}, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != MYCEL__FEEDSEQ_LEN) {
			rv = MYCEL_ECORRUPT;
			break;
		}
		if (feed != NULL && memcmp(k.mv_data, feed, MYCEL_PK_LEN) != 0)
			break;
		const uint8_t *kp = k.mv_data;
		if ((rv = fn(ctx, kp, mycel__get_be64(kp + MYCEL_PK_LEN), v.mv_data, v.mv_size)) != 0)
			break;
	}
	if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
		rv = mycel__mdb_err(rc);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rv;
}

/* ---- reads ---------------------------------------------------------------------- */

/* The value of key in table dbi, copied into *out (malloc'd) in a read transaction of its own. */
static int get_copy(mycel_store *s, MDB_dbi dbi, const void *key, size_t key_len, uint8_t **out,
		    size_t *out_len)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return mycel__mdb_err(rc);
	MDB_val k = {key_len, (void *)key}, v;
	int rv = mycel__mdb_err(mdb_get(txn, dbi, &k, &v));
	if (rv == 0) {
		uint8_t *p = malloc(v.mv_size ? v.mv_size : 1);
		if (p == NULL) {
			rv = MYCEL_ENOMEM;
		} else {
			memcpy(p, v.mv_data, v.mv_size);
			*out = p;
			*out_len = v.mv_size;
		}
	}
	mdb_txn_abort(txn);
	return rv;
}

int mycel_store_charter_file(mycel_store *s, uint64_t version, uint8_t **out, size_t *out_len)
{
	uint8_t vk[8];
	mycel__be64(vk, version);
	return get_copy(s, s->charters, vk, sizeof(vk), out, out_len);
}

int mycel_store_head(mycel_store *s, const uint8_t feed[MYCEL_PK_LEN], uint64_t *out_seq,
		     uint8_t out_id[MYCEL_HASH_LEN])
{
	MDB_txn *txn;
	head h;
	int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return mycel__mdb_err(rc);
	int rv = get_head(s, txn, feed, &h);
	mdb_txn_abort(txn);
	if (rv != 0)
		return rv;
	if (!h.exists)
		return MYCEL_ENOTFOUND;
	if (out_seq != NULL)
		*out_seq = h.seq;
	if (out_id != NULL)
		memcpy(out_id, h.id, MYCEL_HASH_LEN);
	return 0;
}

int mycel_store_get(mycel_store *s, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
		    mycel_entry *out)
{
	MDB_txn *txn;
	uint8_t fs[MYCEL__FEEDSEQ_LEN];
	int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return mycel__mdb_err(rc);
	mycel__feedseq(fs, feed, seq);
	MDB_val k = {sizeof(fs), fs}, v;
	int rv = mycel__mdb_err(mdb_get(txn, s->entries, &k, &v));
	if (rv == 0 && mycel_entry_decode(v.mv_data, v.mv_size, out) != 0)
		rv = MYCEL_ECORRUPT;
	mdb_txn_abort(txn);
	return rv;
}

int mycel_store_get_body(mycel_store *s, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
			 uint8_t **out, size_t *out_len)
{
	uint8_t fs[MYCEL__FEEDSEQ_LEN];
	mycel__feedseq(fs, feed, seq);
	return get_copy(s, s->bodies, fs, sizeof(fs), out, out_len);
}

int mycel_store_scan(mycel_store *s, const uint8_t feed[MYCEL_PK_LEN], uint64_t from,
		     mycel_scan_fn fn, void *ctx)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	uint8_t fs[MYCEL__FEEDSEQ_LEN];
	int rv = 0, rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return mycel__mdb_err(rc);
	if ((rc = mdb_cursor_open(txn, s->entries, &cur)) != 0) {
		mdb_txn_abort(txn);
		return mycel__mdb_err(rc);
	}
	mycel__feedseq(fs, feed, from);
	MDB_val k = {sizeof(fs), fs}, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != MYCEL__FEEDSEQ_LEN || memcmp(k.mv_data, feed, MYCEL_PK_LEN) != 0)
			break;
		mycel_entry e;
		if (mycel_entry_decode(v.mv_data, v.mv_size, &e) != 0) {
			rv = MYCEL_ECORRUPT;
			break;
		}
		MDB_val bk = k, bv = {0, NULL};
		if (mdb_get(txn, s->bodies, &bk, &bv) != 0)
			bv.mv_size = 0, bv.mv_data = NULL;
		if ((rv = fn(ctx, &e, bv.mv_data, bv.mv_size)) != 0)
			break;
	}
	if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
		rv = mycel__mdb_err(rc);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rv;
}

int mycel_store_feeds(mycel_store *s, mycel_feed_fn fn, void *ctx)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int rv = 0, rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return mycel__mdb_err(rc);
	if ((rc = mdb_cursor_open(txn, s->heads, &cur)) != 0) {
		mdb_txn_abort(txn);
		return mycel__mdb_err(rc);
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != MYCEL_PK_LEN || v.mv_size != MYCEL__HEAD_LEN) {
			rv = MYCEL_ECORRUPT;
			break;
		}
		const uint8_t *p = v.mv_data;
		if ((rv = fn(ctx, k.mv_data, mycel__get_be64(p), p + 8)) != 0)
			break;
	}
	if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
		rv = mycel__mdb_err(rc);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rv;
}

int mycel_store_fork_count(mycel_store *s, size_t *out)
{
	MDB_txn *txn;
	MDB_stat st;
	int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return mycel__mdb_err(rc);
	rc = mdb_stat(txn, s->forks, &st);
	mdb_txn_abort(txn);
	if (rc != 0)
		return mycel__mdb_err(rc);
	*out = st.ms_entries;
	return 0;
}

/* ---- small meta values (store_int.h) ---------------------------------------------------- */

int mycel__store_meta_get(mycel_store *s, const char *key, uint8_t **out, size_t *out_len)
{
	MDB_txn *txn;
	MDB_val k = {strlen(key), (void *)key}, v;
	if (k.mv_size == 0 || k.mv_size > 64)
		return MYCEL_EINVAL;
	int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return mycel__mdb_err(rc);
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc == MDB_NOTFOUND ? MYCEL_ENOTFOUND : mycel__mdb_err(rc);
	}
	uint8_t *p = malloc(v.mv_size ? v.mv_size : 1);
	if (p == NULL) {
		mdb_txn_abort(txn);
		return MYCEL_ENOMEM;
	}
	memcpy(p, v.mv_data, v.mv_size);
	mdb_txn_abort(txn);
	*out = p;
	*out_len = v.mv_size;
	return 0;
}

int mycel__store_meta_put(mycel_store *s, const char *key, const uint8_t *p, size_t n)
{
	static const char *const reserved[] = {"format", "mesh_id"};
	MDB_txn *txn;
	MDB_val k = {strlen(key), (void *)key}, v = {n, (void *)p};
	if (k.mv_size == 0 || k.mv_size > 64 || (p == NULL && n > 0) || n > ((size_t)1u << 20))
		return MYCEL_EINVAL;
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(key, reserved[i]) == 0)
			return MYCEL_EINVAL;
	int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc != 0)
		return mycel__mdb_err(rc);
	rc = mdb_put(txn, s->meta, &k, &v, 0);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return mycel__mdb_err(rc);
	}
	rc = mdb_txn_commit(txn);
	return rc != 0 ? mycel__mdb_err(rc) : 0;
}
