/*
 * frontier.c — every feed's head, kept in memory for the Mesh Digest handler and the gossip
 * engine (src/mesh.h, proto/PROTOCOL.md §10).
 *
 * A sorted array of heads (by feed bytes) under a rwlock. The whole digest and the 256
 * bucket digests are computed lazily and cached; an update invalidates the whole digest and
 * the one bucket of its feed. A feed the store holds a fork proof for but no entry of (a
 * proof received on its own) is in the frontier with seq 0 and a zero head, forked.
 */
#include <lmdb.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "mesh.h"
#include "mycel/error.h"
#include "store_int.h"
#include "util.h"

#define FRONTIER_PREFIX "mycel/frontier/v1"

struct mycel__frontier {
	pthread_rwlock_t lock;
	pthread_mutex_t cache_mu; /* guards the caches, filled under the read lock */
	mycel__head *h;
	size_t n, cap;
	bool digest_ok;
	uint8_t digest[MYCEL_HASH_LEN];
	bool bucket_ok[MYCEL__FRONTIER_BUCKETS];
	uint8_t bucket[MYCEL__FRONTIER_BUCKETS][MYCEL_HASH_LEN];
};

/* Index of feed in f->h, or where it would go (*found false). */
static size_t find(const mycel__frontier *f, const uint8_t feed[MYCEL_PK_LEN], bool *found)
{
	size_t lo = 0, hi = f->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(f->h[mid].feed, feed, MYCEL_PK_LEN);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Inserts or replaces h (the caller holds the write lock). ENOMEM. */
static int put(mycel__frontier *f, const mycel__head *h)
{
	bool found;
	size_t i = find(f, h->feed, &found);
	if (found) {
		f->h[i] = *h;
		return 0;
	}
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		mycel__head *p = realloc(f->h, cap * sizeof(*p));
		if (p == NULL)
			return MYCEL_ENOMEM;
		f->h = p;
		f->cap = cap;
	}
	memmove(&f->h[i + 1], &f->h[i], (f->n - i) * sizeof(*f->h));
	f->h[i] = *h;
	f->n++;
	return 0;
}

static void hash_heads(const mycel__head *h, size_t n, uint8_t out[MYCEL_HASH_LEN])
{
	crypto_generichash_state st;
	(void)crypto_generichash_init(&st, NULL, 0, MYCEL_HASH_LEN);
	(void)crypto_generichash_update(&st, (const unsigned char *)FRONTIER_PREFIX,
	                                sizeof(FRONTIER_PREFIX)); /* with its NUL */
	for (size_t i = 0; i < n; i++) {
		uint8_t rec[MYCEL_PK_LEN + 8 + MYCEL_HASH_LEN + 1];
		memcpy(rec, h[i].feed, MYCEL_PK_LEN);
		mycel__be64(rec + MYCEL_PK_LEN, h[i].seq);
		memcpy(rec + MYCEL_PK_LEN + 8, h[i].head, MYCEL_HASH_LEN);
		rec[sizeof(rec) - 1] = h[i].forked ? 1 : 0;
		(void)crypto_generichash_update(&st, rec, sizeof(rec));
	}
	(void)crypto_generichash_final(&st, out, MYCEL_HASH_LEN);
}

/* The range of f->h in bucket b. */
static void bucket_range(const mycel__frontier *f, unsigned b, size_t *lo, size_t *hi)
{
	uint8_t key[MYCEL_PK_LEN] = {0};
	bool found;
	key[0] = (uint8_t)b;
	*lo = find(f, key, &found);
	size_t i = *lo;
	while (i < f->n && f->h[i].feed[0] == b)
		i++;
	*hi = i;
}

/*
 * Whether the frontier shows feed (at seq): feeds the current charter no longer admits (a
 * removed domain's) are left out, so that a node that never held them (it joined after the
 * removal and can no longer get them) converges with one that did (PROTOCOL.md §3.4).
 */
static bool shown(const mycel_store *s, const uint8_t *feed, uint64_t seq)
{
	const mycel_charter *c = mycel_store_charter(s);
	return c == NULL || mycel_charter_admits(c, feed, seq, NULL) == 0;
}

static int load_heads(mycel_store *s, MDB_txn *txn, mycel__frontier *f)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rv = 0, rc = mdb_cursor_open(txn, s->heads, &cur);
	if (rc != 0)
		return mycel__mdb_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		mycel__head h;
		if (k.mv_size != MYCEL_PK_LEN || v.mv_size != MYCEL__HEAD_LEN) {
			rv = MYCEL_ECORRUPT;
			break;
		}
		memcpy(h.feed, k.mv_data, MYCEL_PK_LEN);
		h.seq = mycel__get_be64(v.mv_data);
		memcpy(h.head, (const uint8_t *)v.mv_data + 8, MYCEL_HASH_LEN);
		h.forked = false;
		if (!shown(s, h.feed, h.seq))
			continue;
		if ((rv = put(f, &h)) != 0) /* in key order: appends */
			break;
	}
	if (rv == 0 && rc != MDB_NOTFOUND && rc != 0)
		rv = mycel__mdb_err(rc);
	mdb_cursor_close(cur);
	return rv;
}

static int load_forks(mycel_store *s, MDB_txn *txn, mycel__frontier *f)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rv = 0, rc = mdb_cursor_open(txn, s->forks, &cur);
	if (rc != 0)
		return mycel__mdb_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		bool found;
		if (k.mv_size != MYCEL__FEEDSEQ_LEN) {
			rv = MYCEL_ECORRUPT;
			break;
		}
		size_t i = find(f, k.mv_data, &found);
		if (found) {
			f->h[i].forked = true;
			continue;
		}
		mycel__head h;
		memset(&h, 0, sizeof(h));
		memcpy(h.feed, k.mv_data, MYCEL_PK_LEN);
		h.forked = true;
		if (!shown(s, h.feed, mycel__get_be64((const uint8_t *)k.mv_data + MYCEL_PK_LEN)))
			continue;
		if ((rv = put(f, &h)) != 0)
			break;
	}
	if (rv == 0 && rc != MDB_NOTFOUND && rc != 0)
		rv = mycel__mdb_err(rc);
	mdb_cursor_close(cur);
	return rv;
}

int mycel__frontier_open(mycel_store *s, mycel__frontier **out)
{
	MDB_txn *txn = NULL;
	int rv, rc;
	mycel__frontier *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return MYCEL_ENOMEM;
	if (pthread_rwlock_init(&f->lock, NULL) != 0) {
		free(f);
		return MYCEL_ENOMEM;
	}
	if (pthread_mutex_init(&f->cache_mu, NULL) != 0) {
		pthread_rwlock_destroy(&f->lock);
		free(f);
		return MYCEL_ENOMEM;
	}
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0) {
		rv = mycel__mdb_err(rc);
		goto fail;
	}
	if ((rv = load_heads(s, txn, f)) != 0)
		goto fail;
	if ((rv = load_forks(s, txn, f)) != 0)
		goto fail;
	mdb_txn_abort(txn);
	*out = f;
	return 0;
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	mycel__frontier_free(f);
	return rv;
}

void mycel__frontier_free(mycel__frontier *f)
{
	if (f == NULL)
		return;
	pthread_mutex_destroy(&f->cache_mu);
	pthread_rwlock_destroy(&f->lock);
	free(f->h);
	free(f);
}

int mycel__frontier_reload(mycel__frontier *f, mycel_store *s)
{
	mycel__frontier *fresh;
	int rv = mycel__frontier_open(s, &fresh);
	if (rv != 0)
		return rv;
	pthread_rwlock_wrlock(&f->lock);
	mycel__head *old = f->h;
	f->h = fresh->h;
	f->n = fresh->n;
	f->cap = fresh->cap;
	fresh->h = old;
	pthread_mutex_lock(&f->cache_mu);
	f->digest_ok = false;
	memset(f->bucket_ok, 0, sizeof(f->bucket_ok));
	pthread_mutex_unlock(&f->cache_mu);
	pthread_rwlock_unlock(&f->lock);
	mycel__frontier_free(fresh);
	return 0;
}

int mycel__frontier_update(mycel__frontier *f, const mycel__head *h)
{
	pthread_rwlock_wrlock(&f->lock);
	int rv = put(f, h);
	if (rv == 0) {
		pthread_mutex_lock(&f->cache_mu);
		f->digest_ok = false;
		f->bucket_ok[h->feed[0]] = false;
		pthread_mutex_unlock(&f->cache_mu);
	}
	pthread_rwlock_unlock(&f->lock);
	return rv;
}

void mycel__frontier_digest(mycel__frontier *f, uint8_t out[MYCEL_HASH_LEN], size_t *out_feeds)
{
	pthread_rwlock_rdlock(&f->lock);
	pthread_mutex_lock(&f->cache_mu);
	if (!f->digest_ok) {
		hash_heads(f->h, f->n, f->digest);
		f->digest_ok = true;
	}
	memcpy(out, f->digest, MYCEL_HASH_LEN);
	pthread_mutex_unlock(&f->cache_mu);
	if (out_feeds != NULL)
		*out_feeds = f->n;
	pthread_rwlock_unlock(&f->lock);
}

void mycel__frontier_buckets(mycel__frontier *f,
                             uint8_t out[MYCEL__FRONTIER_BUCKETS][MYCEL_HASH_LEN])
{
	pthread_rwlock_rdlock(&f->lock);
	pthread_mutex_lock(&f->cache_mu);
	for (unsigned b = 0; b < MYCEL__FRONTIER_BUCKETS; b++) {
		if (!f->bucket_ok[b]) {
			size_t lo, hi;
			bucket_range(f, b, &lo, &hi);
			if (lo == hi)
				memset(f->bucket[b], 0, MYCEL_HASH_LEN);
			else
				hash_heads(f->h + lo, hi - lo, f->bucket[b]);
			f->bucket_ok[b] = true;
		}
		memcpy(out[b], f->bucket[b], MYCEL_HASH_LEN);
	}
	pthread_mutex_unlock(&f->cache_mu);
	pthread_rwlock_unlock(&f->lock);
}

int mycel__frontier_heads(mycel__frontier *f, const uint64_t *buckets, size_t n_buckets,
                          mycel__head **out, size_t *out_n)
{
	bool want[MYCEL__FRONTIER_BUCKETS];
	mycel__head *p;
	size_t n = 0;

	for (size_t i = 0; buckets != NULL && i < n_buckets; i++)
		if (buckets[i] >= MYCEL__FRONTIER_BUCKETS)
			return MYCEL_EINVAL;
	memset(want, buckets == NULL, sizeof(want));
	for (size_t i = 0; buckets != NULL && i < n_buckets; i++)
		want[buckets[i]] = true;
	pthread_rwlock_rdlock(&f->lock);
	p = malloc((f->n ? f->n : 1) * sizeof(*p));
	if (p == NULL) {
		pthread_rwlock_unlock(&f->lock);
		return MYCEL_ENOMEM;
	}
	for (size_t i = 0; i < f->n; i++)
		if (want[f->h[i].feed[0]])
			p[n++] = f->h[i];
	pthread_rwlock_unlock(&f->lock);
	*out = p;
	*out_n = n;
	return 0;
}

bool mycel__frontier_get(mycel__frontier *f, const uint8_t feed[MYCEL_PK_LEN], mycel__head *out)
{
	bool found;
	pthread_rwlock_rdlock(&f->lock);
	size_t i = find(f, feed, &found);
	if (found && out != NULL)
		*out = f->h[i];
	pthread_rwlock_unlock(&f->lock);
	return found;
}
