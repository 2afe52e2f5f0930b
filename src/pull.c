/* pull.c — copying what another store holds, verified as if it came from a peer. */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "util.h"

#define PULL_BATCH 256

typedef struct feed_list {
	uint8_t (*feeds)[MYCEL_PK_LEN];
	size_t n, cap;
} feed_list;

static int collect_feed(void *ctx, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
			const uint8_t id[MYCEL_HASH_LEN])
{
	feed_list *l = ctx;
	(void)seq;
	(void)id;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		void *p = realloc(l->feeds, cap * sizeof(*l->feeds));
		if (p == NULL)
			return MYCEL_ENOMEM;
		l->feeds = p;
		l->cap = cap;
	}
	memcpy(l->feeds[l->n++], feed, MYCEL_PK_LEN);
	return 0;
}

/* One batch of a feed, copied out of src's read transaction. */
typedef struct batch {
	mycel_blob items[PULL_BATCH];
	uint8_t *mem[PULL_BATCH];
	size_t n;
} batch;

static void batch_clear(batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->mem[i]);
	b->n = 0;
}

static int take(void *ctx, const mycel_entry *e, const uint8_t *body, size_t body_len)
{
	batch *b = ctx;
	if (b->n == PULL_BATCH)
		return 1; /* full: stop this scan */
	uint8_t *m = malloc(e->len + body_len + 1);
	if (m == NULL)
		return MYCEL_ENOMEM;
	memcpy(m, e->raw, e->len);
	if (body_len)
		memcpy(m + e->len, body, body_len);
	b->mem[b->n] = m;
	b->items[b->n] = (mycel_blob){m, e->len, m + e->len, body_len};
	b->n++;
	return 0;
}

static int pull_charters(mycel_store *dst, mycel_store *src, size_t *count, char *why, size_t why_len)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t have = dst->charter ? mycel_charter_version(dst->charter) : 0;
	int rv = 0, rc = mdb_txn_begin(src->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return mycel__mdb_err(rc);
	if ((rc = mdb_cursor_open(txn, src->charters, &cur)) != 0) {
		mdb_txn_abort(txn);
		return mycel__mdb_err(rc);
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && rv == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || mycel__get_be64(k.mv_data) <= have)
			continue;
		rv = mycel_store_add_charter(dst, v.mv_data, v.mv_size, why, why_len);
		*count += rv == 0;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rv;
}

int mycel_store_pull(mycel_store *dst, mycel_store *src, mycel_pull_stats *out, char *why,
		     size_t why_len)
{
	uint8_t a[MYCEL_HASH_LEN], b[MYCEL_HASH_LEN];
	mycel_pull_stats st = {0, 0, 0, 0};
	feed_list feeds = {NULL, 0, 0};
	batch *bt = NULL;
	int rv;

	if (mycel_store_mesh_id(dst, a) != 0 || mycel_store_mesh_id(src, b) != 0 ||
	    memcmp(a, b, sizeof(a)) != 0)
		return mycel__fail(MYCEL_ECHARTER, why, why_len,
				   "the two stores belong to different meshes (or one has no charter)");
	if ((rv = pull_charters(dst, src, &st.charters, why, why_len)) != 0)
		goto out;
	if ((rv = mycel_store_feeds(src, collect_feed, &feeds)) != 0 ||
	    (bt = calloc(1, sizeof(*bt))) == NULL) {
		rv = rv ? rv : MYCEL_ENOMEM;
		mycel__fail(rv, why, why_len, "reading the source store: %s", mycel_strerror(rv));
		goto out;
	}
	for (size_t f = 0; f < feeds.n && rv == 0; f++) {
		uint64_t next = 1, head;
		if (mycel_store_head(dst, feeds.feeds[f], &head, NULL) == 0)
			next = head + 1;
		/*
		 * What dst's charter no longer takes is left where it is: entries beyond a
		 * compromised feed's cut, a removed domain's feed (one an earlier version
		 * admitted). A feed no version admitted is still refused below.
		 */
		const mycel_charter *dc = mycel_store_charter(dst);
		int adm = dc != NULL ? mycel_charter_admits(dc, feeds.feeds[f], next, NULL) : 0;
		if (adm == MYCEL_EREVOKED ||
		    (adm == MYCEL_EADMIT && mycel__feed_ever_admitted(dst, feeds.feeds[f])))
			continue;
		st.feeds++;
		for (;;) {
			int sr = mycel_store_scan(src, feeds.feeds[f], next, take, bt);
			if (sr != 0 && sr != 1) {
				rv = mycel__fail(sr, why, why_len, "reading the source store: %s",
						 mycel_strerror(sr));
				break;
			}
			if (bt->n == 0)
				break;
			mycel_ingest_result r;
			int ir = mycel_store_ingest(dst, bt->items, bt->n, &r);
			st.accepted += r.accepted;
			st.duplicate += r.duplicate;
			if (ir == MYCEL_EREVOKED) {
				batch_clear(bt);
				break; /* the rest lies beyond the cut; what came before is stored */
			}
			if (ir != 0) {
				mycel_entry e;
				char hex[2 * MYCEL_PK_LEN + 1];
				mycel_hex(feeds.feeds[f], MYCEL_PK_LEN, hex);
				uint64_t seq = r.failed_at < bt->n &&
						       mycel_entry_decode(bt->items[r.failed_at].entry,
									  bt->items[r.failed_at].entry_len,
									  &e) == 0
						   ? e.h.seq
						   : 0;
				rv = mycel__fail(ir, why, why_len, "feed %.16s… seq %llu refused: %s", hex,
						 (unsigned long long)seq, mycel_strerror(ir));
				break;
			}
			next += bt->n;
			bool full = bt->n == PULL_BATCH;
			batch_clear(bt);
			if (!full)
				break;
		}
		batch_clear(bt);
	}
out:
	free(bt);
	free(feeds.feeds);
	if (out != NULL)
		*out = st;
	return rv;
}
