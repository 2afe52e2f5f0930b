/*
 * catalog_postings.c — posting lists (cat_terms, cat_facets) stored as blocks,
 * and write plans.
 *
 * A posting list L (a term, or facet ‖ 0 ‖ value) is the set of postings
 * (docref, field bits) of the documents that hold it, sorted by docref. It
 * is stored as:
 *   L ‖ 0            -> count of postings (8 bytes, big-endian)
 *   L ‖ 0 ‖ docref   -> a block: the postings from docref on, each
 *                       varint(shared prefix with the previous docref) ‖
 *                       varint(suffix length) ‖ suffix ‖ bits
 * Block boundaries are content-defined, so the layout depends only on the set
 * of postings, never on the order in which they came (reindex gives the same
 * bytes): a posting starts a run when it is the list's first or when
 * FNV-1a(docref) mod 32 is 0, and a block starts at every run start and every
 * 128th posting of a run. Changing a posting rewrites the run(s) around it.
 *
 * Scanning a block decodes a few bytes per posting instead of stepping an
 * LMDB cursor over one duplicate per posting, and front coding stores a
 * docref in a few bytes. Measured on 100 000 generated documents, against the
 * same index as MDB_DUPSORT duplicates (docref ‖ bits): the store shrank from
 * 1.3 GB to 0.85 GB and a one-word search over 67 000 postings from 3.9 to
 * 1.5 ms (p50); appends cost about the same (each change rewrites a run of
 * about 32 postings where a duplicate insert touched one node).
 *
 * Reading (mycel__pcur_*) keeps the LMDB cursor one block ahead of the
 * decoder, so a seek first decodes a few postings of the current block and
 * then passes whole blocks by the first docref in their keys (descending the
 * tree after a few). Within a block a seek compares no whole docrefs: a
 * posting's shared-prefix length, against the common prefix of the previous
 * docref and the target, tells whether it is still before the target, after
 * it, or needs the bytes from there on compared (pc_scan). Measured with
 * callgrind on 100 000 generated documents (bench-catalog --search-only):
 * instructions per query fell 2.3-2.4x for one word, two words and a prefix.
 *
 * Posting changes are buffered per write transaction (mycel__pend_add) and
 * merged just before the commit (mycel__pend_flush): sorted by list and
 * docref, the last change of a posting winning, each list's count read and
 * written once and each run of blocks that changes rewritten once, however
 * many documents of the transaction touched it. A run is rewritten from its
 * first block to the next run whose first posting stays, so the blocks are
 * those that applying the changes one at a time gives. With batches of 256
 * documents this doubled the rate of indexed appends.
 *
 * The other derived rows go through a plan: phase 1 of an apply reads and
 * computes every change into a plan (which may fail, having written
 * nothing), phase 2 executes it without allocating (only LMDB can fail
 * there, and LMDB then fails the whole transaction).
 */
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"
#include "util.h"

#define RUN_MASK 31u      /* a docref starts a run with probability 1/32 */
#define BLOCK_RUN_MAX 128 /* postings per block within a run */
#define POSTING_MAX (2 * 2 + MYCEL__DOCREF_MAX + 1)

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static bool starts_run(const uint8_t *ref, size_t n)
{
	return (fnv1a(ref, n) & RUN_MASK) == 0;
}

static size_t put_varint(uint8_t *p, size_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static bool get_varint(const uint8_t **p, const uint8_t *end, size_t *out)
{
	size_t v = 0;
	for (int shift = 0; shift < 21 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;
		v |= (size_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false;
}

/* ---- block decoding -------------------------------------------------------------------------- */

void mycel__bdec_init(mycel__bdec *d, const void *p, size_t n)
{
	d->p = p;
	d->end = d->p + n;
	d->rn = 0;
	d->bits = 0;
}

bool mycel__bdec_next_slow(mycel__bdec *d)
{
	size_t pl, sl;
	if (d->p >= d->end)
		return false;
	if (!get_varint(&d->p, d->end, &pl) || !get_varint(&d->p, d->end, &sl) || pl > d->rn ||
	    sl > MYCEL__DOCREF_MAX - pl || (size_t)(d->end - d->p) < sl + 1) {
		d->p = d->end; /* damaged: the block ends here */
		return false;
	}
	memcpy(d->ref + pl, d->p, sl);
	d->p += sl;
	d->rn = pl + sl;
	d->bits = *d->p++;
	return true;
}

static size_t enc_posting(uint8_t *out, const uint8_t *prev, size_t prevn, const uint8_t *ref,
			  size_t rn, uint8_t bits)
{
	size_t pl = 0, o;
	while (pl < prevn && pl < rn && prev[pl] == ref[pl])
		pl++;
	o = put_varint(out, pl);
	o += put_varint(out + o, rn - pl);
	memcpy(out + o, ref + pl, rn - pl);
	o += rn - pl;
	out[o++] = bits;
	return o;
}

/* ---- write plans ---------------------------------------------------------------------------- */

/* An op: 'P' or 'D', dbi (4), key length (2), key, value length (4), value. */

void mycel__plan_init(mycel__plan *pl)
{
	mycel_buf_init(&pl->b, (size_t)256 << 20);
	pl->n = 0;
}

void mycel__plan_fini(mycel__plan *pl)
{
	mycel_buf_fini(&pl->b);
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Adds a put (op 'P') or a delete (op 'D', of the duplicate v in a DUPSORT table, or of the key). */
void mycel__plan_add(mycel__plan *pl, char op, MDB_dbi dbi, const void *k, size_t kn, const void *v,
		     size_t vn)
{
	uint8_t h[1 + 4 + 2], l[4];
	h[0] = (uint8_t)op;
	put_u32(h + 1, (uint32_t)dbi);
	h[5] = (uint8_t)(kn >> 8);
	h[6] = (uint8_t)kn;
	put_u32(l, (uint32_t)vn);
	mycel_buf_put(&pl->b, h, sizeof(h));
	mycel_buf_put(&pl->b, k, kn);
	mycel_buf_put(&pl->b, l, sizeof(l));
	if (vn > 0)
		mycel_buf_put(&pl->b, v, vn);
	pl->n++;
}

int mycel__plan_exec(MDB_txn *txn, const mycel__plan *pl)
{
	const uint8_t *p = pl->b.data, *end = p + pl->b.len;
	if (pl->b.err != 0)
		return pl->b.err;
	while (p < end) {
		char op = (char)p[0];
		MDB_dbi dbi = (MDB_dbi)get_u32(p + 1);
		size_t kn = (size_t)p[5] << 8 | p[6];
		MDB_val k = {kn, (void *)(p + 7)};
		size_t vn = get_u32(p + 7 + kn);
		MDB_val v = {vn, (void *)(p + 11 + kn)};
		int rc;
		p += 11 + kn + vn;
		if (op == 'P') {
			rc = mdb_put(txn, dbi, &k, &v, 0);
			if (rc == MDB_KEYEXIST)
				rc = 0;
		} else {
			rc = mdb_del(txn, dbi, &k, vn > 0 ? &v : NULL);
			if (rc == MDB_NOTFOUND)
				rc = 0; /* a damaged catalog heals */
		}
		if (rc != 0)
			return mycel__mdb_err(rc);
	}
	return 0;
}

/* ---- pending posting changes, merged at flush ------------------------------------------------ */

/* A pending change: dbi (4) ‖ del (1) ‖ bits (1) ‖ list length (1) ‖ ref length (2) ‖ list ‖ ref. */
#define PEND_HDR 9

void mycel__pend_add(mycel_buf *pend, MDB_dbi dbi, const uint8_t *list, size_t ln,
		     const uint8_t *ref, size_t rn, uint8_t bits, bool del)
{
	uint8_t h[PEND_HDR];
	if (ln == 0 || ln > MYCEL__LIST_MAX || rn == 0 || rn > MYCEL__DOCREF_MAX)
		return;
	put_u32(h, (uint32_t)dbi);
	h[4] = del ? 1 : 0;
	h[5] = del ? 0 : bits;
	h[6] = (uint8_t)ln;
	h[7] = (uint8_t)(rn >> 8);
	h[8] = (uint8_t)rn;
	mycel_buf_put(pend, h, sizeof(h));
	mycel_buf_put(pend, list, ln);
	mycel_buf_put(pend, ref, rn);
}

typedef struct pop {
	const uint8_t *list, *ref;
	MDB_dbi dbi;
	uint32_t seq; /* order of arrival: the last change of a posting wins */
	uint16_t rn;
	uint8_t ln, bits;
	bool del;
} pop;

static int pop_list_cmp(const pop *a, const pop *b)
{
	if (a->dbi != b->dbi)
		return a->dbi < b->dbi ? -1 : 1;
	return mycel__bytes_cmp(a->list, a->ln, b->list, b->ln);
}

static int pop_cmp(const void *x, const void *y)
{
	const pop *a = x, *b = y;
	int c = pop_list_cmp(a, b);
	if (c == 0)
		c = mycel__ref_cmp(a->ref, a->rn, b->ref, b->rn);
	if (c == 0)
		c = a->seq < b->seq ? -1 : a->seq > b->seq;
	return c;
}

typedef struct rpost {
	uint32_t off; /* in region.refs */
	uint16_t n;
	uint8_t bits;
	bool run; /* starts a run (by its hash) */
} rpost;

typedef struct region {
	mycel_buf refs;
	rpost *p;
	size_t np, cap;
	/* the keys of the blocks read (to be deleted unless written again) */
	mycel_buf keys;
	size_t *koff;
	size_t nk, kcap;
	/* the merged postings, and the blocks written */
	rpost *m;
	size_t mcap;
	uint8_t *blk;
	size_t blkcap;
	size_t *starts, scap;
} region;

static void region_reset(region *r)
{
	mycel_buf_reset(&r->refs);
	mycel_buf_reset(&r->keys);
	r->np = 0;
	r->nk = 0;
}

static void region_fini(region *r)
{
	mycel_buf_fini(&r->refs);
	mycel_buf_fini(&r->keys);
	free(r->p);
	free(r->koff);
	free(r->m);
	free(r->blk);
	free(r->starts);
}

/* Adds a posting; run: whether it starts a run (known without hashing for all but a block's first). */
static int region_add(region *r, const uint8_t *ref, size_t rn, uint8_t bits, bool run)
{
	if (r->np == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 64;
		rpost *np = realloc(r->p, nc * sizeof(*np));
		if (np == NULL)
			return MYCEL_ENOMEM;
		r->p = np;
		r->cap = nc;
	}
	r->p[r->np++] = (rpost){(uint32_t)r->refs.len, (uint16_t)rn, bits, run};
	mycel_buf_put(&r->refs, ref, rn);
	return r->refs.err;
}

static int region_key(region *r, const void *k, size_t kn)
{
	if (r->nk == r->kcap) {
		size_t nc = r->kcap ? r->kcap * 2 : 8;
		size_t *no = realloc(r->koff, (nc + 1) * sizeof(*no));
		if (no == NULL)
			return MYCEL_ENOMEM;
		r->koff = no;
		r->kcap = nc;
	}
	r->koff[r->nk++] = r->keys.len;
	mycel_buf_put(&r->keys, k, kn);
	r->koff[r->nk] = r->keys.len;
	return r->keys.err;
}

/* Is key a block key of list prefix lp (L ‖ 0)? */
static bool is_block(const MDB_val *k, const uint8_t *lp, size_t lpn)
{
	return k->mv_size > lpn && memcmp(k->mv_data, lp, lpn) == 0;
}

/* Does the block at key k (of a list with prefix length lpn) start a run? */
static bool block_starts_run(const MDB_val *k, size_t lpn)
{
	return starts_run((const uint8_t *)k->mv_data + lpn, k->mv_size - lpn);
}

static int block_first_cmp(const MDB_val *k, size_t lpn, const uint8_t *ref, size_t rn)
{
	return mycel__ref_cmp((const uint8_t *)k->mv_data + lpn, k->mv_size - lpn, ref, rn);
}

/* Does a change of ops[0..n) (sorted by docref, the last of equal ones final) delete ref? */
static bool ops_delete(const pop *ops, size_t n, const uint8_t *ref, size_t rn)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (mycel__ref_cmp(ops[mid].ref, ops[mid].rn, ref, rn) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && ops[lo - 1].del && mycel__ref_cmp(ops[lo - 1].ref, ops[lo - 1].rn, ref, rn) == 0;
}

/*
 * Reads into r the blocks of list lp (L ‖ 0) that the changes ops[0..n)
 * (sorted, ops[0] the first) may rewrite: with j the last block whose first
 * docref is <= ops[0]'s (or the first block), from the start of the run that
 * holds j (one run earlier when ops[0] removes a run's first posting: the two
 * runs become one) up to the next run whose first posting stays, whose docref
 * goes to *bound (*has_bound false if the list ends first). Leaves r empty if
 * the list has no blocks.
 */
static int read_region(MDB_cursor *c, const uint8_t *lp, size_t lpn, const pop *ops, size_t n,
		       region *r, uint8_t *bound, size_t *bound_n, bool *has_bound)
{
	uint8_t kb[MYCEL__LIST_MAX + 1 + MYCEL__DOCREF_MAX];
	const uint8_t *ref = ops[0].ref;
	size_t rn = ops[0].rn;
	MDB_val k, v;
	int rc, rv;
	*has_bound = false;
	memcpy(kb, lp, lpn);
	memcpy(kb + lpn, ref, rn);
	k = (MDB_val){lpn + rn, kb};
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return mycel__mdb_err(rc);
	bool exact = rc == 0 && k.mv_size == lpn + rn && memcmp(k.mv_data, kb, k.mv_size) == 0;
	bool landed = rc == 0 && is_block(&k, lp, lpn);
	if (!exact) {
		rc = mdb_cursor_get(c, &k, &v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return mycel__mdb_err(rc);
		if (rc != 0 || !is_block(&k, lp, lpn)) {
			if (!landed)
				return 0; /* no blocks */
			/* ref comes before the list's first posting: the first block */
			k = (MDB_val){lpn + rn, kb};
			if ((rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)) != 0)
				return mycel__mdb_err(rc);
		}
	}
	/* back to the start of the run (one run further when a run's first posting goes) */
	bool extend = ops[0].del && exact && starts_run(ref, rn);
	for (;;) {
		if (!extend && block_starts_run(&k, lpn))
			break;
		MDB_val pk, pv;
		rc = mdb_cursor_get(c, &pk, &pv, MDB_PREV);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return mycel__mdb_err(rc);
		if (rc == MDB_NOTFOUND || !is_block(&pk, lp, lpn)) {
			/* the list's first block starts the first run */
			if ((rc = mdb_cursor_get(c, &k, &v, rc == MDB_NOTFOUND ? MDB_FIRST : MDB_NEXT)) != 0)
				return mycel__mdb_err(rc);
			break;
		}
		k = pk;
		v = pv;
		extend = false;
	}
	/* forward, up to the next run that starts after ref and whose first posting stays */
	for (bool first = true;; first = false) {
		if (!first && block_starts_run(&k, lpn) && block_first_cmp(&k, lpn, ref, rn) > 0 &&
		    !ops_delete(ops, n, (const uint8_t *)k.mv_data + lpn, k.mv_size - lpn)) {
			*bound_n = k.mv_size - lpn;
			memcpy(bound, (const uint8_t *)k.mv_data + lpn, *bound_n);
			*has_bound = true;
			break;
		}
		mycel__bdec d;
		if ((rv = region_key(r, k.mv_data, k.mv_size)) != 0)
			return rv;
		mycel__bdec_init(&d, v.mv_data, v.mv_size);
		/* only a block's first posting can start a run: every run start begins a block */
		for (bool bfirst = true; mycel__bdec_next(&d); bfirst = false)
			if ((rv = region_add(r, d.ref, d.rn, d.bits, bfirst && starts_run(d.ref, d.rn))) != 0)
				return rv;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
		if (rc == MDB_NOTFOUND || (rc == 0 && !is_block(&k, lp, lpn)))
			break;
		if (rc != 0)
			return mycel__mdb_err(rc);
	}
	return 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap : 64;
	while (nc < need)
		nc *= 2;
	void *np = realloc(*p, nc * size);
	if (np == NULL)
		return MYCEL_ENOMEM;
	*p = np;
	*cap = nc;
	return 0;
}

/*
 * Merges ops[0..n) (sorted by docref, equal ones in order of arrival) into
 * the region's postings, into r->m; *nm their number, *delta the change of
 * the list's count, *changed whether anything differs.
 */
static int region_merge(region *r, const pop *ops, size_t n, size_t *nm, long *delta,
			bool *changed)
{
	size_t i = 0, j = 0, o = 0;
	int rv;
	*delta = 0;
	*changed = false;
	if ((rv = grow((void **)&r->m, &r->mcap, r->np + n + 1, sizeof(*r->m))) != 0)
		return rv;
	while (i < r->np || j < n) {
		/* the last change of a docref decides it */
		while (j + 1 < n && mycel__ref_cmp(ops[j].ref, ops[j].rn, ops[j + 1].ref, ops[j + 1].rn) == 0)
			j++;
		int c = i >= r->np ? 1
			: j >= n   ? -1
				   : mycel__ref_cmp(r->refs.data + r->p[i].off, r->p[i].n, ops[j].ref, ops[j].rn);
		if (c < 0) {
			r->m[o++] = r->p[i++];
			continue;
		}
		const pop *op = &ops[j++];
		if (c == 0) {
			if (op->del) {
				(*delta)--;
				*changed = true;
			} else {
				rpost q = r->p[i];
				*changed = *changed || q.bits != op->bits;
				q.bits = op->bits;
				r->m[o++] = q;
			}
			i++;
		} else if (!op->del) {
			if ((rv = region_add(r, op->ref, op->rn, op->bits, starts_run(op->ref, op->rn))) != 0)
				return rv;
			r->m[o++] = r->p[--r->np]; /* kept out of the region's own postings */
			(*delta)++;
			*changed = true;
		}
	}
	*nm = o;
	return 0;
}

/* Writes go through the flush's one cursor, so that it stays valid for the next region's reads. */
static int put_val(MDB_cursor *c, const void *k, size_t kn, const void *d, size_t dn)
{
	MDB_val key = {kn, (void *)k}, val = {dn, (void *)d};
	return mycel__mdb_err(mdb_cursor_put(c, &key, &val, 0));
}

static int del_key(MDB_cursor *c, const void *k, size_t kn)
{
	MDB_val key = {kn, (void *)k}, val;
	int rc = mdb_cursor_get(c, &key, &val, MDB_SET);
	if (rc == 0)
		rc = mdb_cursor_del(c, 0);
	return rc == MDB_NOTFOUND ? 0 : mycel__mdb_err(rc); /* a damaged catalog heals */
}

/* Writes the merged postings r->m[0..nm) in blocks (at its start, each run start, every 128 of a run) and deletes the old blocks not written again. */
static int region_write(MDB_cursor *c, const uint8_t *lp, size_t lpn, region *r, size_t nm)
{
	size_t ns = 0;
	int rv;
	if ((rv = grow((void **)&r->blk, &r->blkcap, nm * POSTING_MAX + 1, 1)) != 0 ||
	    (rv = grow((void **)&r->starts, &r->scap, nm + 1, sizeof(*r->starts))) != 0)
		return rv;
	for (size_t i = 0, run = 0; i < nm; i++) {
		bool newrun = i > 0 && r->m[i].run;
		if (newrun)
			run = i;
		if (i == 0 || newrun || (i - run) % BLOCK_RUN_MAX == 0)
			r->starts[ns++] = i;
	}
	r->starts[ns] = nm;
	uint8_t key[MYCEL__LIST_MAX + 1 + MYCEL__DOCREF_MAX];
	memcpy(key, lp, lpn);
	for (size_t b = 0; b < ns; b++) {
		size_t bn = 0;
		for (size_t i = r->starts[b]; i < r->starts[b + 1]; i++) {
			const rpost *prev = i > r->starts[b] ? &r->m[i - 1] : NULL;
			bn += enc_posting(r->blk + bn, prev ? r->refs.data + prev->off : NULL,
					  prev ? prev->n : 0, r->refs.data + r->m[i].off, r->m[i].n,
					  r->m[i].bits);
		}
		const rpost *f = &r->m[r->starts[b]];
		memcpy(key + lpn, r->refs.data + f->off, f->n);
		if ((rv = put_val(c, key, lpn + f->n, r->blk, bn)) != 0)
			return rv;
	}
	/* old blocks not written again go (both key lists are sorted: one merge) */
	for (size_t i = 0, b = 0; i < r->nk; i++) {
		const uint8_t *ok = r->keys.data + r->koff[i] + lpn;
		size_t okn = r->koff[i + 1] - r->koff[i] - lpn;
		int d = 1;
		while (b < ns) {
			const rpost *f = &r->m[r->starts[b]];
			d = mycel__ref_cmp(r->refs.data + f->off, f->n, ok, okn);
			if (d >= 0)
				break;
			b++;
		}
		if (d != 0 && (rv = del_key(c, ok - lpn, okn + lpn)) != 0)
			return rv;
	}
	return 0;
}

/*
 * Applies ops[0..n), the changes of one list (sorted by docref), region by
 * region, through cursor c on the list's table. A list without a count key
 * has no blocks: its postings are written without reading.
 */
static int flush_list(MDB_cursor *c, const pop *ops, size_t n, region *r)
{
	uint8_t lp[MYCEL__LIST_MAX + 1], bound[MYCEL__DOCREF_MAX];
	size_t lpn = (size_t)ops[0].ln + 1, count = 0, bn = 0;
	long delta = 0;
	int rc, rv;
	bool fresh = false;
	memcpy(lp, ops[0].list, ops[0].ln);
	lp[ops[0].ln] = 0;
	MDB_val ck = {lpn, lp}, cv;
	if ((rc = mdb_cursor_get(c, &ck, &cv, MDB_SET_KEY)) == 0 && cv.mv_size == 8)
		count = (size_t)mycel__get_be64(cv.mv_data);
	else if (rc == MDB_NOTFOUND)
		fresh = true;
	else if (rc != 0)
		return mycel__mdb_err(rc);
	for (size_t i = 0; i < n;) {
		bool has_bound = false, changed;
		size_t e = n, nm;
		long d;
		region_reset(r);
		if (!fresh &&
		    (rv = read_region(c, lp, lpn, ops + i, n - i, r, bound, &bn, &has_bound)) != 0)
			return rv;
		if (has_bound)
			for (e = i; e < n && mycel__ref_cmp(ops[e].ref, ops[e].rn, bound, bn) < 0; e++)
				;
		if (e == i)
			e = i + 1; /* cannot be: the region holds ops[i] */
		if ((rv = region_merge(r, ops + i, e - i, &nm, &d, &changed)) != 0)
			return rv;
		if (changed && (rv = region_write(c, lp, lpn, r, nm)) != 0)
			return rv;
		delta += d;
		i = e;
	}
	if (delta == 0)
		return 0;
	count = delta < 0 && (size_t)-delta > count ? 0 : (size_t)((long)count + delta);
	uint8_t cb[8];
	mycel__be64(cb, count);
	return count > 0 ? put_val(c, lp, lpn, cb, 8) : del_key(c, lp, lpn);
}

int mycel__pend_flush(MDB_txn *txn, const mycel_buf *pend)
{
	const uint8_t *p = pend->data, *end;
	pop *ops = NULL;
	size_t n = 0, cap = 0;
	MDB_cursor *c = NULL;
	MDB_dbi cdbi = 0;
	region r;
	int rv = 0;
	if (pend->err != 0)
		return pend->err;
	if (pend->len == 0)
		return 0;
	end = p + pend->len;
	memset(&r, 0, sizeof(r));
	mycel_buf_init(&r.refs, (size_t)64 << 20);
	mycel_buf_init(&r.keys, (size_t)64 << 20);
	while (p < end) {
		if ((rv = grow((void **)&ops, &cap, n + 1, sizeof(*ops))) != 0)
			goto done;
		pop *o = &ops[n];
		o->dbi = (MDB_dbi)get_u32(p);
		o->del = p[4] != 0;
		o->bits = p[5];
		o->ln = p[6];
		o->rn = (uint16_t)(p[7] << 8 | p[8]);
		o->list = p + PEND_HDR;
		o->ref = o->list + o->ln;
		o->seq = (uint32_t)n;
		p = o->ref + o->rn;
		n++;
	}
	qsort(ops, n, sizeof(*ops), pop_cmp);
	for (size_t i = 0; i < n && rv == 0;) {
		size_t e = i + 1;
		while (e < n && pop_list_cmp(&ops[i], &ops[e]) == 0)
			e++;
		if (c == NULL || ops[i].dbi != cdbi) {
			/* one cursor per table: every read and write of the flush goes through it */
			if (c != NULL)
				mdb_cursor_close(c);
			c = NULL;
			int rc = mdb_cursor_open(txn, ops[i].dbi, &c);
			if (rc != 0) {
				rv = mycel__mdb_err(rc);
				break;
			}
			cdbi = ops[i].dbi;
		}
		rv = flush_list(c, ops + i, e - i, &r);
		i = e;
	}
	if (c != NULL)
		mdb_cursor_close(c);
done:
	region_fini(&r);
	free(ops);
	return rv;
}

/* ---- reading a list ------------------------------------------------------------------------- */

static bool pc_in_list(const mycel__pcur *pc, const MDB_val *k)
{
	return k->mv_size > pc->kn && memcmp(k->mv_data, pc->key, pc->kn) == 0;
}

/* Ends the list: 0 for MDB_NOTFOUND (or 0), else the error. */
static int pc_end(mycel__pcur *pc, int rc)
{
	pc->end = true;
	pc->has_next = false;
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : mycel__mdb_err(rc);
}

/* Charges n decoded postings to the query's budget: ETOOBIG (the list ends) when it is spent. */
static int pc_charge(mycel__pcur *pc, size_t n)
{
	if (pc->budget == NULL)
		return 0;
	if (*pc->budget < n) {
		*pc->budget = 0;
		pc_end(pc, 0);
		return MYCEL_ETOOBIG;
	}
	*pc->budget -= n;
	return 0;
}

/*
 * Makes the block v, where the LMDB cursor is, the decoder's (nothing
 * decoded yet) and fetches the list's next block into nk/nv.
 */
static int pc_enter(mycel__pcur *pc, const MDB_val *v)
{
	int rv = pc_charge(pc, pc->ndec);
	pc->ndec = 0;
	if (rv != 0)
		return rv;
	mycel__bdec_init(&pc->d, v->mv_data, v->mv_size);
	int rc = mdb_cursor_get(pc->c, &pc->nk, &pc->nv, MDB_NEXT);
	pc->has_next = rc == 0 && pc_in_list(pc, &pc->nk);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return pc_end(pc, rc);
	return 0;
}

int mycel__pcur_open(MDB_txn *txn, MDB_dbi dbi, const uint8_t *list, size_t ln, size_t *budget,
		     mycel__pcur *pc, size_t *count)
{
	memset(pc, 0, sizeof(*pc));
	pc->end = true;
	pc->budget = budget;
	*count = 0;
	if (ln == 0 || ln > MYCEL__LIST_MAX)
		return 0;
	memcpy(pc->key, list, ln);
	pc->key[ln] = 0;
	pc->kn = ln + 1;
	MDB_val k = {pc->kn, pc->key}, v;
	int rc = mdb_get(txn, dbi, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return mycel__mdb_err(rc);
	if (v.mv_size == 8)
		*count = (size_t)mycel__get_be64(v.mv_data);
	if ((rc = mdb_cursor_open(txn, dbi, &pc->c)) != 0)
		return mycel__mdb_err(rc);
	return 0;
}

void mycel__pcur_close(mycel__pcur *pc)
{
	if (pc->c != NULL)
		mdb_cursor_close(pc->c);
	pc->c = NULL;
}

int mycel__pcur_first(mycel__pcur *pc)
{
	MDB_val k = {pc->kn, pc->key}, v;
	int rc, rv;
	pc->end = false;
	pc->has_next = false;
	if (pc->c == NULL)
		return pc_end(pc, 0);
	rc = mdb_cursor_get(pc->c, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && k.mv_size == pc->kn) /* the count key */
		rc = mdb_cursor_get(pc->c, &k, &v, MDB_NEXT);
	if (rc != 0)
		return pc_end(pc, rc);
	if (!pc_in_list(pc, &k))
		return pc_end(pc, 0);
	if ((rv = pc_enter(pc, &v)) != 0)
		return rv;
	return mycel__pcur_next(pc);
}

int mycel__pcur_next_block(mycel__pcur *pc)
{
	int rv;
	while (!pc->end) {
		if (!pc->has_next) {
			/* the list ends: what its last block decoded is charged too */
			rv = pc_charge(pc, pc->ndec);
			pc->ndec = 0;
			pc_end(pc, 0);
			return rv;
		}
		MDB_val v = pc->nv;
		if ((rv = pc_enter(pc, &v)) != 0)
			return rv;
		if (mycel__bdec_next(&pc->d)) {
			pc->ndec++;
			return 0;
		}
	}
	return 0;
}

enum { SCAN_EQUAL = 0, SCAN_AFTER = 1, SCAN_BLOCK_END = 2, SCAN_LIMIT = 3 };

/*
 * Decodes the current block on to its first posting whose docref is >= ref
 * (*cmp SCAN_EQUAL or SCAN_AFTER), to its end (SCAN_BLOCK_END), or for at most
 * limit postings (SCAN_LIMIT); in the last two cases the current docref is
 * < ref. *m is the length of the common prefix of the current docref and ref,
 * read (ignored at the start of a block) and updated (but for SCAN_BLOCK_END).
 *
 * Each posting shares pl bytes with the one before it (the longest common
 * prefix: the encoder takes it so) and comes after it. A posting with pl > m
 * is still < ref (it holds the previous docref's byte m, below ref's) and one
 * with pl < m is > ref (its byte pl is above the previous one's, which is
 * ref's): only pl == m needs a comparison, from byte m on. So a posting
 * passed costs its decoding, not a comparison of whole docrefs. A posting
 * that mycel__bdec_fast does not decode is compared whole.
 */
static int pc_scan(mycel__pcur *pc, const uint8_t *ref, size_t rn, size_t *mp, size_t limit,
                   int *cmp)
{
	mycel__bdec *d = &pc->d;
	size_t m = d->rn == 0 ? 0 : *mp, n = 0;
	int res = SCAN_LIMIT;
	while (n < limit) {
		size_t pl, lcp;
		if (mycel__bdec_fast(d, &pl)) {
			n++;
			if (pl > m)
				continue;
			if (pl < m) {
				m = pl;
				res = SCAN_AFTER;
				break;
			}
		} else {
			if (!mycel__bdec_next_slow(d)) {
				res = SCAN_BLOCK_END;
				break;
			}
			n++;
			m = 0; /* compare it whole */
		}
		int c = mycel__ref_cmp_lcp(d->ref, d->rn, ref, rn, m, &lcp);
		m = lcp;
		if (c >= 0) {
			res = c;
			break;
		}
	}
	*mp = m;
	*cmp = res;
	return pc_charge(pc, n);
}

#define SCAN_NEAR 8  /* postings decoded before a seek looks at the next blocks' keys */
#define SEEK_STEPS 4 /* blocks passed one by one before a seek descends the tree */

int mycel__pcur_seek_far(mycel__pcur *pc, const uint8_t *ref, size_t rn, size_t m, int *out_cmp,
                         size_t *out_lcp)
{
	int c, rc, rv;
	bool moved = false;
	*out_cmp = 1;
	*out_lcp = 0;
	/* near: a few postings of this block */
	if ((rv = pc_scan(pc, ref, rn, &m, SCAN_NEAR, &c)) != 0 || pc->end)
		return rv;
	if (c == SCAN_EQUAL || c == SCAN_AFTER) {
		*out_cmp = c;
		*out_lcp = m;
		return 0;
	}
	/* far: pass the blocks that start at or before ref, by their keys */
	for (int steps = 0; pc->has_next && block_first_cmp(&pc->nk, pc->kn, ref, rn) <= 0;
	     steps++) {
		moved = true;
		if (steps == SEEK_STEPS) {
			/* the last block whose first docref is <= ref, from the tree */
			uint8_t kb[MYCEL__LIST_MAX + 1 + MYCEL__DOCREF_MAX];
			MDB_val k, v;
			memcpy(kb, pc->key, pc->kn);
			memcpy(kb + pc->kn, ref, rn);
			k = (MDB_val){pc->kn + rn, kb};
			rc = mdb_cursor_get(pc->c, &k, &v, MDB_SET_RANGE);
			if (rc != 0 && rc != MDB_NOTFOUND)
				return pc_end(pc, rc);
			if (rc != 0 || k.mv_size != pc->kn + rn ||
			    memcmp(k.mv_data, kb, k.mv_size) != 0) {
				rc = mdb_cursor_get(pc->c, &k, &v,
				                    rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
				if (rc != 0)
					return pc_end(pc, rc);
			}
			if (!pc_in_list(pc, &k))
				return pc_end(pc, 0); /* cannot be: the next block starts <= ref */
			if ((rv = pc_enter(pc, &v)) != 0)
				return rv;
			break;
		}
		MDB_val v = pc->nv;
		if ((rv = pc_enter(pc, &v)) != 0)
			return rv;
	}
	/* ref is in this block, or before the next one's first posting */
	if (moved || c == SCAN_LIMIT) {
		if ((rv = pc_scan(pc, ref, rn, &m, SIZE_MAX, &c)) != 0 || pc->end)
			return rv;
		if (c == SCAN_EQUAL || c == SCAN_AFTER) {
			*out_cmp = c;
			*out_lcp = m;
			return 0;
		}
	}
	if ((rv = mycel__pcur_next_block(pc)) != 0 || pc->end)
		return rv;
	*out_cmp = mycel__ref_cmp_lcp(pc->d.ref, pc->d.rn, ref, rn, 0, out_lcp);
	return 0;
}
