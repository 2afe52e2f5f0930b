/*
 * catalog_query.c — ranked search and facet counts, each inside one LMDB
 * read transaction (layout in catalog_int.h; get, version and lineage are in
 * catalog_read.c).
 *
 * Search never scans every document when it has something to narrow with.
 * Every constraint is a posting list sorted by docref (catalog_postings.c): a
 * query word (cat_terms), a facet value (cat_facets), the union of the terms
 * that the last word is a prefix of. The lists are intersected by
 * leapfrogging: each list is moved to the largest current docref by a seek
 * that passes postings by their shared-prefix lengths and whole blocks by
 * their keys, so the work follows the rarest list; a list that stood at the
 * old candidate seeks the new one from the prefix the two share. A domain
 * facet beside other lists is not seeked through: the domain's documents are
 * the docrefs that start with domain ‖ 0 (domain names are lowercase), a
 * range the other lists are walked in. Retired documents are a negative list
 * (status=retired), the exact-name/id key an optional one that only adds to
 * the score. A prefix that expands to many terms is not materialised when a
 * rarer list drives: each candidate's forward image is checked instead.
 *
 * Ranking keeps a heap of the best offset + limit hits; once it is full, its
 * worst score is the floor below which a candidate (without an exact match)
 * is only counted, scored from its lists' field bits before anything else is
 * built. Only the returned page's cat_docs rows are read.
 *
 * test_catalog.c's search reference compares every result with a scan of
 * every document's forward image, over generated documents and random
 * queries: an optimisation here that changes a hit, a score, the order or a
 * total fails it.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"
#include "mycel/charter.h"
#include "util.h"

#define WORDS_MAX 32          /* query words */
#define PREFIX_TERMS_MAX 4096 /* terms a prefix expands to before it is checked per candidate */
#define LIMIT_DEFAULT 20
#define LIMIT_MAX 1000
#define SCORED_WINDOW_MAX 10000 /* a ranked query keeps its best offset + limit hits */
#define QUERY_BUDGET 4000000  /* postings a query may decode (checked per block), else ETOOBIG */
#define FWD_COST 32           /* a forward image read, in postings */
#define BOUND_TERMS 16        /* a prefix of more terms than this, or of several terms and ... */
#define BOUND_POSTINGS 8192   /* ... more postings than this, may stop counting (see sctx) */

/* ---- posting lists ---------------------------------------------------------------------------- */

enum { PL_CUR, PL_UNION };
enum { ROLE_MUST, ROLE_NOT, ROLE_OPT };

/*
 * The union of several lists (the terms a prefix expands to), itself a
 * seekable list: a heap of the lists by current docref. Its current docref is
 * the top's; every list holding it sits at the top of the heap (elements equal
 * to a heap's minimum form a subtree at its root), so their bits are ORed
 * without moving anything, and moving on advances exactly those.
 */
typedef struct uni {
	mycel__pcur *subs;
	size_t m;
	size_t *heap; /* indices of subs not at their end, by current docref */
	size_t hn;
	size_t ntop; /* lists holding the current docref */
	uint8_t bits;
	bool end;
} uni;

typedef struct plist {
	int type, role;
	int word; /* query word it stands for, -1 for facets */
	size_t count;
	bool end;
	const uint8_t *ref; /* current: docref (in a cursor's buffer), length, field bits */
	size_t rn;
	uint8_t bits;
	mycel__pcur pc; /* PL_CUR */
	uni *u;         /* PL_UNION */
} plist;

static int sub_cmp(const uni *u, size_t a, size_t b)
{
	const mycel__pcur *x = &u->subs[a], *y = &u->subs[b];
	return mycel__ref_cmp(x->d.ref, x->d.rn, y->d.ref, y->d.rn);
}

static void uni_down(uni *u, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < u->hn && sub_cmp(u, u->heap[l], u->heap[m]) < 0)
			m = l;
		if (r < u->hn && sub_cmp(u, u->heap[r], u->heap[m]) < 0)
			m = r;
		if (m == i)
			return;
		size_t t = u->heap[i];
		u->heap[i] = u->heap[m];
		u->heap[m] = t;
		i = m;
	}
}

static void uni_heapify(uni *u)
{
	u->hn = 0;
	for (size_t i = 0; i < u->m; i++)
		if (!u->subs[i].end)
			u->heap[u->hn++] = i;
	for (size_t i = u->hn / 2; i-- > 0;)
		uni_down(u, i);
}

/* The bits of the lists at the top holding the root's docref (a walk of the equal subtree). */
static void uni_top(uni *u)
{
	size_t stack[64], sp = 0;
	u->end = u->hn == 0;
	u->ntop = 0;
	u->bits = 0;
	if (u->end)
		return;
	stack[sp++] = 0;
	while (sp > 0) {
		size_t i = stack[--sp];
		u->ntop++;
		u->bits |= u->subs[u->heap[i]].d.bits;
		for (size_t c = 2 * i + 1; c <= 2 * i + 2 && c < u->hn; c++)
			if (sp < 64 && sub_cmp(u, u->heap[c], u->heap[0]) == 0)
				stack[sp++] = c;
	}
}

/*
 * Restores the heap after the root list moved, and takes the new current
 * docref: when the root stays strictly smallest (one list leading, the usual
 * case) that costs two comparisons, without walking the equal subtree.
 */
static void uni_fix_root(uni *u)
{
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, c;
		if (l >= u->hn)
			break;
		c = r < u->hn && sub_cmp(u, u->heap[r], u->heap[l]) < 0 ? r : l;
		int d = sub_cmp(u, u->heap[i], u->heap[c]);
		if (d < 0) {
			if (i == 0) {
				u->end = false;
				u->ntop = 1;
				u->bits = u->subs[u->heap[0]].d.bits;
				return;
			}
			break;
		}
		if (d == 0)
			break;
		size_t t = u->heap[i];
		u->heap[i] = u->heap[c];
		u->heap[c] = t;
		i = c;
	}
	uni_top(u);
}

/* Advances every list holding the current docref. */
static int uni_next(uni *u)
{
	int rv;
	for (size_t n = u->ntop; n > 0 && u->hn > 0; n--) {
		mycel__pcur *top = &u->subs[u->heap[0]];
		if ((rv = mycel__pcur_next(top)) != 0)
			return rv;
		if (top->end)
			u->heap[0] = u->heap[--u->hn];
		if (n > 1)
			uni_down(u, 0);
	}
	uni_fix_root(u);
	return 0;
}

/* Advances the lists behind ref, and only those. */
static int uni_seek(uni *u, const uint8_t *ref, size_t rn)
{
	int rv;
	while (u->hn > 0) {
		mycel__pcur *top = &u->subs[u->heap[0]];
		int c;
		size_t lcp;
		if (mycel__ref_cmp(top->d.ref, top->d.rn, ref, rn) >= 0)
			break;
		if ((rv = mycel__pcur_seek(top, ref, rn, &c, &lcp)) != 0)
			return rv;
		if (top->end)
			u->heap[0] = u->heap[--u->hn];
		uni_down(u, 0);
	}
	uni_top(u);
	return 0;
}

static inline __attribute__((always_inline)) void pl_sync(plist *l)
{
	if (l->type == PL_CUR) {
		l->end = l->pc.end;
		l->ref = l->pc.d.ref;
		l->rn = l->pc.d.rn;
		l->bits = l->pc.d.bits;
	} else {
		l->end = l->u->end;
		if (!l->end) {
			const mycel__pcur *t = &l->u->subs[l->u->heap[0]];
			l->ref = t->d.ref;
			l->rn = t->d.rn;
		}
		l->bits = l->u->bits;
	}
}

static int pl_first(plist *l)
{
	int rv = 0;
	if (l->type == PL_CUR) {
		rv = mycel__pcur_first(&l->pc);
	} else {
		for (size_t i = 0; i < l->u->m && rv == 0; i++)
			rv = mycel__pcur_first(&l->u->subs[i]);
		if (rv == 0) {
			uni_heapify(l->u);
			uni_top(l->u);
		}
	}
	pl_sync(l);
	return rv;
}

static inline __attribute__((always_inline)) int pl_next(plist *l)
{
	int rv = 0;
	if (l->end)
		return 0;
	if (l->type == PL_CUR)
		rv = mycel__pcur_next(&l->pc);
	else
		rv = uni_next(l->u);
	pl_sync(l);
	return rv;
}

/*
 * Moves l to its first docref >= (ref, rn); *cmp gets how that docref
 * compares with ref (0: equal, > 0: after it; 1 at the end).
 */
static inline __attribute__((always_inline)) int pl_seek_cmp(plist *l, const uint8_t *ref,
                                                             size_t rn, int *cmp)
{
	int rv = 0, c;
	size_t lcp;
	if (l->type == PL_CUR) {
		rv = mycel__pcur_seek(&l->pc, ref, rn, cmp, &lcp);
		pl_sync(l);
		return rv;
	}
	c = l->end ? 1 : mycel__ref_cmp(l->ref, l->rn, ref, rn);
	if (c >= 0) {
		*cmp = c;
		return 0;
	}
	rv = uni_seek(l->u, ref, rn);
	pl_sync(l);
	*cmp = l->end ? 1 : mycel__ref_cmp(l->ref, l->rn, ref, rn);
	return rv;
}

/*
 * pl_seek_cmp with a hint: when m is not SIZE_MAX, l's current docref is
 * < ref and shares m bytes with it. *lcp gets the length of the common
 * prefix of the docref moved to and ref (SIZE_MAX: not known).
 */
static inline __attribute__((always_inline)) int
pl_seek_hint(plist *l, const uint8_t *ref, size_t rn, size_t m, int *cmp, size_t *lcp)
{
	int rv;
	*lcp = SIZE_MAX;
	if (l->type != PL_CUR)
		return pl_seek_cmp(l, ref, rn, cmp);
	if (m != SIZE_MAX && !l->end && m <= l->rn && m <= rn)
		rv = mycel__pcur_seek_from(&l->pc, ref, rn, m, cmp, lcp);
	else
		rv = mycel__pcur_seek(&l->pc, ref, rn, cmp, lcp);
	pl_sync(l);
	return rv;
}

static void pl_close(plist *l)
{
	if (l->type == PL_CUR) {
		mycel__pcur_close(&l->pc);
	} else if (l->u != NULL) {
		for (size_t i = 0; i < l->u->m; i++)
			mycel__pcur_close(&l->u->subs[i]);
		free(l->u->subs);
		free(l->u->heap);
		free(l->u);
		l->u = NULL;
	}
}

/* ---- query planning and enumeration ------------------------------------------------------------- */

typedef struct words {
	uint8_t w[WORDS_MAX][MYCEL__TERM_MAX];
	size_t len[WORDS_MAX];
	size_t n;
	bool too_many;
} words;

static int word_cb(void *ctx, const uint8_t *t, size_t n)
{
	words *w = ctx;
	if (w->n == WORDS_MAX) {
		w->too_many = true;
		return 1;
	}
	memcpy(w->w[w->n], t, n);
	w->len[w->n++] = n;
	return 0;
}

#define LISTS_MAX (WORDS_MAX + MYCEL_SEARCH_TAGS_MAX + 8)

/*
 * Kept by a ranked search whose page is full (on; never for a bounded one):
 * a candidate without an exact match whose words score at most floor cannot
 * enter the page, so emit only counts it instead of passing it on.
 */
typedef struct qfloor {
	bool on;
	int64_t floor;
	const int16_t *score_of; /* the score of a word matched in the fields of these bits */
	size_t counted;
} qfloor;

typedef struct query {
	mycel_store *s;
	MDB_txn *txn;
	size_t nl;
	plist *must[LISTS_MAX];
	size_t nmust;
	plist *excluded; /* ROLE_NOT: the documents a search hides, or NULL */
	plist *exact[2];    /* ROLE_OPT: exact name, exact id (or NULL) */
	size_t nwords;      /* words of the text */
	bool empty;         /* some constraint matches nothing */
	bool fwd_prefix;    /* the last word is checked on each candidate's forward image */
	const uint8_t *prefix;
	size_t prefix_len;
	bool scored;        /* a text query: hits carry scores */
	bool bounded;       /* a broad prefix: the search may stop once its page cannot change */
	size_t budget;      /* postings (and forward images) the query may still read */
	uint8_t wbits[WORDS_MAX]; /* emit's: the field bits of each word in a candidate */
	plist *wl[LISTS_MAX];     /* the lists that stand for words */
	size_t nwl;
	bool one_per_word;        /* each word has one list (or is the forward-checked prefix) */
	qfloor fl;
	/*
	 * The domain facet's list (or NULL) and domain ‖ 0: domain names are
	 * lowercase (mycel_name_valid), so the documents of the list are those
	 * whose docrefs start with lo, a range that query_run walks instead of
	 * seeking through the list when another list can drive.
	 */
	plist *domain;
	uint8_t lo[MYCEL__DOMAIN_MAX + 1];
	size_t lon;
	/* last, not cleared by query_open (each list is when it is added) */
	words w;
	plist lists[LISTS_MAX];
} query;

static void query_fini(query *q)
{
	for (size_t i = 0; i < q->nl; i++)
		pl_close(&q->lists[i]);
	q->nl = 0;
}

static void pl_role(query *q, plist *l)
{
	if (l->role == ROLE_MUST)
		q->must[q->nmust++] = l;
	else if (l->role == ROLE_NOT)
		q->excluded = l;
	else
		q->exact[q->exact[0] != NULL] = l;
}

static int add_list(query *q, MDB_dbi dbi, const uint8_t *key, size_t kn, int role, int word)
{
	plist *l = &q->lists[q->nl++]; /* closed by query_fini whatever happens */
	memset(l, 0, sizeof(*l));
	l->type = PL_CUR;
	l->role = role;
	l->word = word;
	int rv = mycel__pcur_open(q->txn, dbi, key, kn, &q->budget, &l->pc, &l->count);
	if (rv != 0)
		return rv;
	if (l->count == 0) {
		if (role == ROLE_MUST)
			q->empty = true;
		return 0;
	}
	pl_role(q, l);
	return 0;
}

static int add_facet(query *q, const char *facet, const char *value)
{
	uint8_t k[32 + MYCEL__FACET_VALUE_MAX];
	size_t kn;
	if (value == NULL)
		return 0;
	if (!mycel__facet_key(facet, value, strlen(value), k, &kn)) {
		q->empty = true; /* no document can hold such a value */
		return 0;
	}
	return add_list(q, q->s->cat.facets, k, kn, ROLE_MUST, -1);
}

/* The union of the lists of terms[0..m) as one MUST list for word. */
static int add_union(query *q, const MDB_val *terms, size_t m, size_t total, int word)
{
	plist *l = &q->lists[q->nl++];
	memset(l, 0, sizeof(*l));
	l->type = PL_UNION;
	l->role = ROLE_MUST;
	l->word = word;
	l->count = total;
	if ((l->u = calloc(1, sizeof(*l->u))) == NULL || (l->u->subs = calloc(m, sizeof(mycel__pcur))) == NULL ||
	    (l->u->heap = calloc(m, sizeof(size_t))) == NULL)
		return MYCEL_ENOMEM;
	for (size_t i = 0; i < m; i++) {
		size_t cnt;
		l->u->m = i + 1;
		int rv = mycel__pcur_open(q->txn, q->s->cat.terms, terms[i].mv_data, terms[i].mv_size,
					  &q->budget, &l->u->subs[i], &cnt);
		if (rv != 0)
			return rv;
	}
	pl_role(q, l);
	return 0;
}

/* Plans q for the search or facet query sq: opens every list, decides how the prefix is matched. */
static int query_plan(query *q, const mycel_search_query *sq)
{
	int rv;
	MDB_cursor *c = NULL;
	MDB_val *terms = NULL;

	if (sq->text != NULL && (rv = mycel__tokenize(sq->text, strlen(sq->text), word_cb, &q->w)) != 0 &&
	    !q->w.too_many)
		return rv;
	if (q->w.too_many)
		return MYCEL_EINVAL;
	q->nwords = q->w.n;
	q->scored = q->nwords > 0;
	/* facets */
	if ((rv = add_facet(q, "domain", sq->domain)) != 0)
		return rv;
	if (sq->domain != NULL && q->nmust == 1 && strlen(sq->domain) <= MYCEL__DOMAIN_MAX) {
		char lc[MYCEL__DOMAIN_MAX + 1];
		size_t n = strlen(sq->domain);
		for (size_t i = 0; i <= n; i++)
			lc[i] = sq->domain[i] >= 'A' && sq->domain[i] <= 'Z'
			            ? (char)(sq->domain[i] - 'A' + 'a')
			            : sq->domain[i];
		if (mycel_name_valid(lc)) {
			q->domain = q->must[0];
			memcpy(q->lo, lc, n);
			q->lo[n] = 0;
			q->lon = n + 1;
		}
	}
	if (sq->kind != 0) {
		if (sq->kind != MYCEL_DOC_CONTRACT && sq->kind != MYCEL_DOC_PRODUCT)
			return MYCEL_EINVAL;
		if ((rv = add_facet(q, "kind", mycel_doc_kind_name(sq->kind))) != 0)
			return rv;
	}
	if (sq->n_tags > MYCEL_SEARCH_TAGS_MAX)
		return MYCEL_EINVAL;
	for (size_t i = 0; i < sq->n_tags; i++)
		if ((rv = add_facet(q, "tag", sq->tags[i])) != 0)
			return rv;
	if ((rv = add_facet(q, "classification", sq->classification)) != 0 ||
	    (rv = add_facet(q, "server", sq->server_type)) != 0)
		return rv;
	/*
	 * One list is excluded at most: retired documents (a visible search), documents whose
	 * current version violates a deny policy (unless asked for), or both ("hidden").
	 */
	const char *nf = NULL, *nv = NULL;
	if (sq->status == MYCEL_STATUS_VISIBLE) {
		nf = sq->noncompliant ? "status" : "hidden";
		nv = sq->noncompliant ? "retired" : "yes";
	} else {
		if (sq->status != MYCEL_STATUS_ANY) {
			if (sq->status < MYCEL_STATUS_ACTIVE || sq->status > MYCEL_STATUS_RETIRED)
				return MYCEL_EINVAL;
			if ((rv = add_facet(q, "status", mycel_doc_status_name(sq->status))) != 0)
				return rv;
		}
		if (!sq->noncompliant) {
			nf = "policy";
			nv = "noncompliant";
		}
	}
	if (nf != NULL) {
		uint8_t k[32];
		size_t kn;
		(void)mycel__facet_key(nf, nv, strlen(nv), k, &kn);
		if ((rv = add_list(q, q->s->cat.facets, k, kn, ROLE_NOT, -1)) != 0)
			return rv;
	}
	if (q->nwords == 0)
		return 0;
	/* every word but the last: exact terms */
	for (size_t i = 0; i + 1 < q->nwords; i++)
		if ((rv = add_list(q, q->s->cat.terms, q->w.w[i], q->w.len[i], ROLE_MUST, (int)i)) != 0)
			return rv;
	/* the whole text against normalised names and lowercased ids */
	uint8_t ek[1 + MYCEL__EXACT_MAX];
	size_t tn = strlen(sq->text), en;
	ek[0] = MYCEL__EXACT_NAME;
	en = mycel__normalize(sq->text, tn, ek + 1);
	if (en > 0 && (rv = add_list(q, q->s->cat.terms, ek, en + 1, ROLE_OPT, -1)) != 0)
		return rv;
	ek[0] = MYCEL__EXACT_ID;
	en = mycel__exact_id(sq->text, tn, ek + 1);
	if (en > 0 && (rv = add_list(q, q->s->cat.terms, ek, en + 1, ROLE_OPT, -1)) != 0)
		return rv;
	if (q->empty)
		return 0;
	/* the last word: the terms it is a prefix of (count keys term ‖ 0, one per term) */
	size_t last = q->nwords - 1, m = 0, cap = 0, total = 0;
	const uint8_t *pw = q->w.w[last];
	size_t pn = q->w.len[last];
	bool too_many = false;
	int rc = mdb_cursor_open(q->txn, q->s->cat.terms, &c);
	if (rc != 0)
		return mycel__mdb_err(rc);
	MDB_val k = {pn, (void *)pw}, d;
	for (rc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE); rc == 0;) {
		if (k.mv_size < pn || memcmp(k.mv_data, pw, pn) != 0)
			break;
		const uint8_t *z = memchr(k.mv_data, 0, k.mv_size);
		if (z == NULL) { /* not a posting list key: skip */
			rc = mdb_cursor_get(c, &k, &d, MDB_NEXT);
			continue;
		}
		size_t tl = (size_t)(z - (const uint8_t *)k.mv_data);
		if (k.mv_size == tl + 1 && d.mv_size == 8) {
			if (m == PREFIX_TERMS_MAX) {
				too_many = true;
				break;
			}
			if (m == cap) {
				size_t nc = cap ? cap * 2 : 16;
				MDB_val *nt = realloc(terms, nc * sizeof(*nt));
				if (nt == NULL) {
					rv = MYCEL_ENOMEM;
					goto done;
				}
				terms = nt;
				cap = nc;
			}
			terms[m++] = (MDB_val){tl, k.mv_data};
			total += (size_t)mycel__get_be64(d.mv_data);
		}
		/* on to the next term: term ‖ 0x01 sorts after every key of this one */
		uint8_t nk[MYCEL__LIST_MAX + 1];
		if (tl > MYCEL__LIST_MAX)
			break;
		memcpy(nk, k.mv_data, tl);
		nk[tl] = 1;
		k = (MDB_val){tl + 1, nk};
		rc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE);
	}
	if (rc != 0 && rc != MDB_NOTFOUND) {
		rv = mycel__mdb_err(rc);
		goto done;
	}
	rv = 0;
	if (m == 0) {
		q->empty = true;
		goto done;
	}
	q->bounded = too_many || (m > 1 && (m > BOUND_TERMS || total > BOUND_POSTINGS));
	size_t minc = SIZE_MAX;
	for (size_t i = 0; i < q->nmust; i++)
		if (q->must[i]->count < minc)
			minc = q->must[i]->count;
	if (m == 1) {
		rv = add_list(q, q->s->cat.terms, terms[0].mv_data, terms[0].mv_size, ROLE_MUST, (int)last);
	} else if (too_many || (minc != SIZE_MAX && total / 64 > minc)) {
		/*
		 * A much rarer list drives: check the prefix on each candidate's
		 * forward image (about 1.5 us each) rather than merge the union
		 * (about 25 ns a posting).
		 */
		q->fwd_prefix = true;
		q->prefix = pw;
		q->prefix_len = pn;
	} else {
		rv = add_union(q, terms, m, total, (int)last);
	}
done:
	free(terms);
	if (c != NULL)
		mdb_cursor_close(c);
	return rv;
}

/* One match: docref, the field bits of each word, the exact-match bits. */
typedef int (*match_fn)(void *ctx, const uint8_t *ref, size_t rn, const uint8_t *wbits,
			uint8_t exact);

/* ORs the bits of the candidate's terms that start with the prefix; 0 if none does. */
static int fwd_prefix_bits(query *q, const uint8_t *ref, size_t rn, uint8_t *out)
{
	MDB_val k = {rn, (void *)ref}, v;
	mycel__flist l;
	const uint8_t *t;
	size_t tn;
	uint8_t b, acc = 0;
	*out = 0;
	if (q->budget < FWD_COST)
		return MYCEL_ETOOBIG;
	q->budget -= FWD_COST;
	int rc = mdb_get(q->txn, q->s->cat.fwd, &k, &v);
	if (rc != 0)
		return rc == MDB_NOTFOUND ? 0 : mycel__mdb_err(rc);
	mycel__fwd_list(v.mv_data, v.mv_size, MYCEL__FWD_TERMS, &l);
	while (mycel__fwd_next(&l, &t, &tn, &b)) {
		int c = mycel__ref_cmp(t, tn < q->prefix_len ? tn : q->prefix_len, q->prefix,
					 q->prefix_len);
		if (c == 0 && tn >= q->prefix_len)
			acc |= b;
		else if (c > 0)
			break; /* terms are sorted: none further can start with the prefix */
	}
	*out = acc;
	return 0;
}

/*
 * Checks the negative, optional and per-candidate constraints of a candidate,
 * then calls fn. Inlined: it runs for every candidate.
 */
static inline __attribute__((always_inline)) int emit(query *q, const uint8_t *ref, size_t rn,
                                                      match_fn fn, void *ctx)
{
	uint8_t exact = 0, pb = 0;
	int rv;
	int c;
	if (q->excluded != NULL) {
		if ((rv = pl_seek_cmp(q->excluded, ref, rn, &c)) != 0)
			return rv;
		if (c == 0)
			return 0;
	}
	if (q->fwd_prefix) {
		if ((rv = fwd_prefix_bits(q, ref, rn, &pb)) != 0)
			return rv;
		if (pb == 0)
			return 0;
	}
	for (int i = 0; i < 2 && q->exact[i] != NULL; i++) {
		plist *l = q->exact[i];
		if ((rv = pl_seek_cmp(l, ref, rn, &c)) != 0)
			return rv;
		if (c == 0)
			exact |= l->bits;
	}
	if (q->fl.on && exact == 0 && q->one_per_word) {
		int64_t score = q->fl.score_of[pb];
		for (size_t i = 0; i < q->nwl; i++)
			score += q->fl.score_of[q->wl[i]->bits];
		if (score <= q->fl.floor) {
			q->fl.counted++;
			return 0;
		}
	}
	memset(q->wbits, 0, sizeof(q->wbits));
	if (q->fwd_prefix)
		q->wbits[q->nwords - 1] = pb;
	for (size_t i = 0; i < q->nwl; i++)
		q->wbits[q->wl[i]->word] |= q->wl[i]->bits;
	return fn(ctx, ref, rn, q->wbits, exact);
}

static int must_cmp(const void *a, const void *b)
{
	const plist *x = *(plist *const *)a, *y = *(plist *const *)b;
	return (x->count > y->count) - (x->count < y->count);
}

/* Is ref (>= q->lo) in q's domain? Past it otherwise. */
static inline bool in_domain(const query *q, const uint8_t *ref, size_t rn)
{
	return rn >= q->lon && memcmp(ref, q->lo, q->lon) == 0;
}

/*
 * Enumerates the matches of a planned query in docref order. fn returns 0 to
 * go on, 1 to stop (not an error), or an error.
 */
static int query_run(query *q, match_fn fn, void *ctx)
{
	int rv = 0;
	if (q->empty)
		return 0;
	/* the lists of the words, for emit: one per word, unless a word's list is missing */
	unsigned seen = 0;
	q->nwl = 0;
	q->one_per_word = true;
	for (size_t i = 0; i < q->nmust; i++) {
		int w = q->must[i]->word;
		if (w < 0)
			continue;
		if (seen & (1u << w))
			q->one_per_word = false;
		seen |= 1u << w;
		q->wl[q->nwl++] = q->must[i];
	}
	if (q->nwl + (q->fwd_prefix ? 1 : 0) != q->nwords)
		q->one_per_word = false;
	if (q->excluded != NULL && (rv = pl_first(q->excluded)) != 0)
		return rv;
	for (int i = 0; i < 2 && q->exact[i] != NULL; i++)
		if ((rv = pl_first(q->exact[i])) != 0)
			return rv;
	if (q->nmust == 0) {
		/* nothing to narrow with: every document */
		MDB_cursor *c;
		MDB_val k, v;
		int rc = mdb_cursor_open(q->txn, q->s->cat.docs, &c);
		if (rc != 0)
			return mycel__mdb_err(rc);
		for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && rv == 0;
		     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
			rv = emit(q, k.mv_data, k.mv_size, fn, ctx);
		if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
			rv = mycel__mdb_err(rc);
		mdb_cursor_close(c);
		return rv == 1 ? 0 : rv;
	}
	/* a domain and other lists: they drive, from the domain's first docref to its last */
	plist *must[LISTS_MAX];
	size_t nmust = 0;
	bool ranged = q->domain != NULL && q->nmust > 1;
	for (size_t i = 0; i < q->nmust; i++)
		if (!ranged || q->must[i] != q->domain)
			must[nmust++] = q->must[i];
	qsort(must, nmust, sizeof(*must), must_cmp);
	for (size_t i = 0; i < nmust; i++) {
		int c;
		if ((rv = pl_first(must[i])) != 0)
			return rv;
		if (ranged && (rv = pl_seek_cmp(must[i], q->lo, q->lon, &c)) != 0)
			return rv;
		if (must[i]->end)
			return 0;
	}
	plist *lead = must[0];
	if (nmust == 1) {
		/* one list: every posting is a candidate */
		while (!lead->end) {
			if (ranged && !in_domain(q, lead->ref, lead->rn))
				return 0;
			if ((rv = emit(q, lead->ref, lead->rn, fn, ctx)) != 0)
				return rv == 1 ? 0 : rv;
			if ((rv = pl_next(lead)) != 0)
				return rv;
		}
		return 0;
	}
	/*
	 * leapfrog: every list to the largest current docref until all agree.
	 * When a list moves past the candidate, it becomes the owner of the new
	 * one; the lists that stood at the old candidate (the old owner and
	 * those before the one that moved) share clcp bytes with the new one:
	 * their seeks start from there instead of comparing whole docrefs.
	 */
	const uint8_t *cand = lead->ref;
	size_t cn = lead->rn, owner = 0, prev_owner = 0, moved_at = 0, clcp = SIZE_MAX;
	for (;;) {
		size_t i;
		if (ranged && !in_domain(q, cand, cn))
			return 0;
		for (i = 0; i < nmust; i++) {
			plist *l = must[i];
			size_t lcp;
			int c;
			if (i == owner)
				continue;
			size_t hint = i < moved_at || i == prev_owner ? clcp : SIZE_MAX;
			if ((rv = pl_seek_hint(l, cand, cn, hint, &c, &lcp)) != 0)
				return rv;
			if (l->end)
				return 0;
			if (c > 0) {
				cand = l->ref;
				cn = l->rn;
				clcp = lcp;
				prev_owner = owner;
				moved_at = i;
				owner = i;
				break;
			}
		}
		if (i < nmust)
			continue;
		if ((rv = emit(q, cand, cn, fn, ctx)) != 0)
			return rv == 1 ? 0 : rv;
		if ((rv = pl_next(lead)) != 0)
			return rv;
		if (lead->end)
			return 0;
		cand = lead->ref;
		cn = lead->rn;
		owner = 0;
		clcp = SIZE_MAX;
	}
}

static int query_open(query *q, mycel_store *s, const mycel_search_query *sq)
{
	memset(q, 0, offsetof(query, w));
	q->w.n = 0;
	q->w.too_many = false;
	q->s = s;
	q->budget = QUERY_BUDGET;
	if (sq == NULL)
		return MYCEL_EINVAL;
	int rv = mycel__cat_begin_read(s, &q->txn);
	if (rv != 0)
		return rv;
	if ((rv = query_plan(q, sq)) != 0) {
		query_fini(q);
		mdb_txn_abort(q->txn);
	}
	return rv;
}

static void query_close(query *q)
{
	query_fini(q);
	mdb_txn_abort(q->txn);
}

/* ---- search ------------------------------------------------------------------------------------- */

static const struct field {
	uint8_t bit;
	int score;
	const char *name;
} fields[] = {
    {MYCEL__F_NAME, 100, "name"},         {MYCEL__F_ID, 80, "id"},
    {MYCEL__F_TAG, 40, "tag"},            {MYCEL__F_BIZ, 30, "business name"},
    {MYCEL__F_PROP, 25, "property"},      {MYCEL__F_PORT, 25, "property"},
    {MYCEL__F_DESC, 10, "description"},
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))
#define EXACT_NAME_SCORE 10000
#define EXACT_ID_SCORE 8000

typedef struct hitent {
	int64_t score;
	uint32_t slot; /* its docref: sctx.slab + slot * MYCEL__DOCREF_MAX */
	uint16_t rn;
	int8_t field; /* index in fields, -1 for none */
} hitent;

typedef struct sctx {
	hitent *h;     /* scored: a heap, worst on top; unscored: in rank order */
	uint8_t *slab; /* the hits' docrefs (the lists' buffers move on) */
	size_t n, cap, k;
	size_t skip;   /* unscored: matches before the page, counted and passed */
	size_t total;
	size_t nwords;
	bool scored;
	bool stop_when_full; /* unscored, total known: stop once the page is full */
	/*
	 * bounded (a broad prefix): once the page is full of hits that score
	 * top (nwords x the best field's score, exact-match bonuses aside), no
	 * later docref can enter it (an equal score ranks by docref): the scan
	 * stops at stop_ref, total becomes a lower bound, and only the documents
	 * of the exact-match lists after stop_ref are still looked at.
	 */
	bool bounded, stopped;
	int64_t top;
	uint8_t stop_ref[MYCEL__DOCREF_MAX];
	size_t stop_rn;
	int16_t score_of[256]; /* the score of a word matched in the fields of these bits */
	int8_t field_of[256];  /* the best of these fields, -1 for none */
	qfloor *fl;            /* the query's: kept at the page's worst score once it is full */
} sctx;

static const uint8_t *hit_ref(const sctx *x, const hitent *e)
{
	return x->slab + (size_t)e->slot * MYCEL__DOCREF_MAX;
}

/* a ranks below b: a lower score, or the same score and a later docref. */
static bool worse(const sctx *x, const hitent *a, const hitent *b)
{
	if (a->score != b->score)
		return a->score < b->score;
	return mycel__ref_cmp(hit_ref(x, a), a->rn, hit_ref(x, b), b->rn) > 0;
}

static void sift_down(const sctx *x, hitent *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && worse(x, &h[l], &h[m]))
			m = l;
		if (r < n && worse(x, &h[r], &h[m]))
			m = r;
		if (m == i)
			return;
		hitent t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void sift_up(const sctx *x, hitent *h, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!worse(x, &h[i], &h[p]))
			return;
		hitent t = h[i];
		h[i] = h[p];
		h[p] = t;
		i = p;
	}
}

static int hit_room(sctx *x)
{
	if (x->n < x->cap)
		return 0;
	size_t nc = x->cap ? x->cap * 2 : 32;
	if (nc > x->k)
		nc = x->k;
	hitent *nh = realloc(x->h, nc * sizeof(*nh));
	if (nh == NULL)
		return MYCEL_ENOMEM;
	x->h = nh;
	uint8_t *ns = realloc(x->slab, nc * MYCEL__DOCREF_MAX);
	if (ns == NULL)
		return MYCEL_ENOMEM;
	x->slab = ns;
	x->cap = nc;
	return 0;
}

static int stop_check(sctx *x, const uint8_t *ref, size_t rn)
{
	if (!x->bounded || x->n < x->k || x->h[0].score < x->top)
		return 0;
	memcpy(x->stop_ref, ref, rn);
	x->stop_rn = rn;
	x->stopped = true;
	return 1;
}

/* Once the page is full, what a hit must beat goes to the query (not for a bounded search: it must
 * see where to stop). */
static void set_floor(sctx *x)
{
	if (x->fl == NULL || x->bounded || x->n < x->k)
		return;
	x->fl->on = true;
	x->fl->floor = x->h[0].score;
}

static int search_cb(void *ctx, const uint8_t *ref, size_t rn, const uint8_t *wbits, uint8_t exact)
{
	sctx *x = ctx;
	hitent e;
	int rv;
	x->total++;
	if (!x->scored) {
		/* unscored matches come in rank order (docref order): keep the page */
		if (x->skip > 0) {
			x->skip--;
			return 0;
		}
		if (x->n == x->k)
			return x->stop_when_full ? 1 : 0;
		if ((rv = hit_room(x)) != 0)
			return rv;
		e = (hitent){0, (uint32_t)x->n, (uint16_t)rn, -1};
		memcpy(x->slab + (size_t)e.slot * MYCEL__DOCREF_MAX, ref, rn);
		x->h[x->n++] = e;
		return 0;
	}
	int64_t score = 0;
	uint8_t any = 0;
	for (size_t w = 0; w < x->nwords; w++) {
		any |= wbits[w];
		score += x->score_of[wbits[w]];
	}
	int8_t field = x->field_of[any];
	if ((exact & MYCEL__F_EXACT) && (exact & MYCEL__F_NAME)) {
		score += EXACT_NAME_SCORE;
		field = 0;
	} else if (exact & MYCEL__F_EXACT) {
		score += EXACT_ID_SCORE;
		field = 1;
	}
	/* full: only a better hit gets in (a later docref never beats an equal score) */
	if (x->n == x->k && score <= x->h[0].score)
		return x->bounded ? stop_check(x, ref, rn) : 0;
	e = (hitent){score, 0, (uint16_t)rn, field};
	if (x->n < x->k) {
		if ((rv = hit_room(x)) != 0)
			return rv;
		e.slot = (uint32_t)x->n;
		memcpy(x->slab + (size_t)e.slot * MYCEL__DOCREF_MAX, ref, rn);
		x->h[x->n] = e;
		sift_up(x, x->h, x->n++);
		set_floor(x);
		return stop_check(x, ref, rn);
	}
	e.slot = x->h[0].slot;
	memcpy(x->slab + (size_t)e.slot * MYCEL__DOCREF_MAX, ref, rn);
	x->h[0] = e;
	sift_down(x, x->h, x->n, 0);
	set_floor(x);
	return stop_check(x, ref, rn);
}

static _Thread_local const sctx *sort_ctx; /* for hit_cmp */

static int hit_cmp(const void *a, const void *b)
{
	const hitent *x = a, *y = b;
	return worse(sort_ctx, x, y) ? 1 : worse(sort_ctx, y, x) ? -1 : 0;
}

void mycel_search_result_fini(mycel_search_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->hits[i].name);
		free(r->hits[i].snippet);
	}
	free(r->hits);
	memset(r, 0, sizeof(*r));
}

/* The number of documents in must (one list) that are not retired: |must| - |must ∩ retired|. */
static int count_visible(query *q, plist *must, size_t *out)
{
	size_t both = 0;
	int rv;
	if (q->excluded == NULL) {
		*out = must->count;
		return 0;
	}
	plist *a = must->count <= q->excluded->count ? must : q->excluded;
	plist *b = a == must ? q->excluded : must;
	if ((rv = pl_first(a)) != 0 || (rv = pl_first(b)) != 0)
		return rv;
	while (!a->end && !b->end) {
		int c;
		if ((rv = pl_seek_cmp(b, a->ref, a->rn, &c)) != 0)
			return rv;
		if (b->end)
			break;
		both += c == 0;
		if ((rv = pl_next(a)) != 0)
			return rv;
	}
	*out = must->count - both;
	return 0;
}

/*
 * After a bounded search stopped at docref after: the documents of the
 * exact-match lists beyond it that match every constraint (only these can
 * still outrank the page), in docref order.
 */
static int exact_rest(query *q, const uint8_t *after, size_t an, match_fn fn, void *ctx)
{
	uint8_t d[MYCEL__DOCREF_MAX];
	int rv, c;
	for (int i = 0; i < 2 && q->exact[i] != NULL; i++) {
		if ((rv = pl_seek_cmp(q->exact[i], after, an, &c)) != 0 ||
		    (c == 0 && (rv = pl_next(q->exact[i])) != 0))
			return rv;
	}
	for (;;) {
		plist *lo = NULL;
		for (int i = 0; i < 2 && q->exact[i] != NULL; i++)
			if (!q->exact[i]->end &&
			    (lo == NULL || mycel__ref_cmp(q->exact[i]->ref, q->exact[i]->rn, lo->ref, lo->rn) < 0))
				lo = q->exact[i];
		if (lo == NULL)
			return 0;
		size_t dn = lo->rn;
		memcpy(d, lo->ref, dn);
		bool all = true;
		for (size_t i = 0; i < q->nmust && all; i++) {
			if ((rv = pl_seek_cmp(q->must[i], d, dn, &c)) != 0)
				return rv;
			if (q->must[i]->end)
				return 0; /* no further document matches */
			all = c == 0;
		}
		if (all && (rv = emit(q, d, dn, fn, ctx)) != 0)
			return rv == 1 ? 0 : rv;
		for (int i = 0; i < 2 && q->exact[i] != NULL; i++)
			if ((rv = pl_seek_cmp(q->exact[i], d, dn, &c)) != 0 ||
			    (c == 0 && (rv = pl_next(q->exact[i])) != 0))
				return rv;
	}
}

int mycel_catalog_search(mycel_store *s, const mycel_search_query *sq, mycel_search_result *out)
{
	query q;
	sctx x;
	mycel_search_result r;
	int rv;

	if (out == NULL || sq == NULL)
		return MYCEL_EINVAL;
	memset(&r, 0, sizeof(r));
	r.total_exact = true;
	if (!s->cat.ready) {
		*out = r;
		return 0;
	}
	size_t limit = sq->limit == 0 ? LIMIT_DEFAULT : sq->limit > LIMIT_MAX ? LIMIT_MAX : sq->limit;
	if ((rv = query_open(&q, s, sq)) != 0)
		return rv;
	memset(&x, 0, sizeof(x));
	x.scored = q.scored;
	x.nwords = q.nwords;
	q.fl.score_of = x.score_of;
	if (q.scored)
		x.fl = &q.fl;
	for (unsigned b = 0; b < 256; b++) {
		x.field_of[b] = -1;
		for (size_t f = 0; f < N_FIELDS; f++)
			if (b & fields[f].bit) {
				x.score_of[b] = (int16_t)fields[f].score;
				x.field_of[b] = (int8_t)f;
				break;
			}
	}
	if (q.scored) {
		/* ranking keeps the best offset + limit: bounded, as deep pages of a ranking are */
		if (sq->offset > SCORED_WINDOW_MAX - limit) {
			rv = MYCEL_EINVAL;
			goto done;
		}
		x.k = sq->offset + limit;
	} else {
		x.k = limit;
		x.skip = sq->offset;
	}
	/*
	 * A query without text over one list (or none) reads only up to its
	 * page: the total comes from the lists' counts.
	 */
	if (!q.scored && !q.empty && !q.fwd_prefix && q.nmust <= 1) {
		size_t total;
		if (q.nmust == 0) {
			MDB_stat st;
			if ((rv = mycel__mdb_err(mdb_stat(q.txn, s->cat.docs, &st))) != 0)
				goto done;
			total = (size_t)st.ms_entries;
			if (q.excluded != NULL)
				total -= q.excluded->count < total ? q.excluded->count : total;
		} else if ((rv = count_visible(&q, q.must[0], &total)) != 0) {
			goto done;
		}
		x.stop_when_full = true;
		if ((rv = query_run(&q, search_cb, &x)) != 0)
			goto done;
		x.total = total;
	} else {
		x.bounded = q.bounded && q.scored;
		x.top = (int64_t)q.nwords * fields[0].score;
		if ((rv = query_run(&q, search_cb, &x)) != 0)
			goto done;
		x.bounded = false; /* the exact-match documents left are all looked at */
		if (x.stopped && (rv = exact_rest(&q, x.stop_ref, x.stop_rn, search_cb, &x)) != 0)
			goto done;
		x.total += q.fl.counted;
	}
	size_t first = 0;
	if (q.scored) {
		sort_ctx = &x;
		if (x.n > 1)
			qsort(x.h, x.n, sizeof(*x.h), hit_cmp);
		first = sq->offset;
	}
	r.total = x.total;
	r.total_exact = !x.stopped;
	if (first < x.n) {
		size_t n = x.n - first < limit ? x.n - first : limit;
		if ((r.hits = calloc(n, sizeof(*r.hits))) == NULL) {
			rv = MYCEL_ENOMEM;
			goto done;
		}
		for (size_t i = 0; i < n; i++) {
			const hitent *e = &x.h[first + i];
			const uint8_t *ref = hit_ref(&x, e);
			mycel_search_hit *h = &r.hits[r.n];
			mycel__docrec dr;
			if (!mycel__docref_split(ref, e->rn, h->domain, h->id) ||
			    (rv = mycel__cat_docrec(s, q.txn, ref, e->rn, &dr)) != 0) {
				rv = rv != 0 ? rv : MYCEL_ECORRUPT;
				goto done;
			}
			h->kind = dr.kind;
			h->status = dr.status;
			h->denied = dr.denied;
			mycel__copy_cstr(h->version, sizeof(h->version), dr.version, dr.version_len);
			h->score = (double)e->score;
			h->matched = e->field >= 0 ? fields[e->field].name : "";
			h->name = mycel__strndup(dr.name, dr.name_len);
			h->snippet = mycel__strndup(dr.snippet, dr.snippet_len);
			r.n++;
			if (h->name == NULL || h->snippet == NULL) {
				rv = MYCEL_ENOMEM;
				goto done;
			}
		}
	}
done:
	free(x.h);
	free(x.slab);
	query_close(&q);
	if (rv != 0) {
		mycel_search_result_fini(&r);
		return rv;
	}
	*out = r;
	return 0;
}

/* ---- facets ---------------------------------------------------------------------------------------- */

static const char *const facet_order[] = {"domain", "kind", "status", "tag", "classification", "server"};
#define N_FACETS (sizeof(facet_order) / sizeof(facet_order[0]))

typedef struct fslot {
	const uint8_t *key; /* facet ‖ 0 ‖ value, in the read transaction */
	size_t kn;
	size_t count;
} fslot;

typedef struct fctx {
	query *q;
	fslot *t; /* open addressing */
	size_t cap, n;
} fctx;

static int fc_add(fctx *f, const uint8_t *k, size_t kn, long delta)
{
	if (f->n * 2 >= f->cap) {
		size_t nc = f->cap ? f->cap * 2 : 256;
		fslot *nt = calloc(nc, sizeof(*nt));
		if (nt == NULL)
			return MYCEL_ENOMEM;
		for (size_t i = 0; i < f->cap; i++) {
			if (f->t[i].key == NULL)
				continue;
			size_t h = mycel__fnv1a(f->t[i].key, f->t[i].kn) & (nc - 1);
			while (nt[h].key != NULL)
				h = (h + 1) & (nc - 1);
			nt[h] = f->t[i];
		}
		free(f->t);
		f->t = nt;
		f->cap = nc;
	}
	size_t h = mycel__fnv1a(k, kn) & (f->cap - 1);
	while (f->t[h].key != NULL &&
	       (f->t[h].kn != kn || memcmp(f->t[h].key, k, kn) != 0))
		h = (h + 1) & (f->cap - 1);
	if (f->t[h].key == NULL) {
		f->t[h].key = k;
		f->t[h].kn = kn;
		f->n++;
	}
	f->t[h].count = (size_t)((long)f->t[h].count + delta);
	return 0;
}

/* Adds (delta +1) or removes (-1) the facet values of document ref. */
static int fc_doc(fctx *f, const uint8_t *ref, size_t rn, long delta)
{
	MDB_val k = {rn, (void *)ref}, v;
	mycel__flist l;
	const uint8_t *p;
	size_t n;
	uint8_t b;
	int rv, rc = mdb_get(f->q->txn, f->q->s->cat.fwd, &k, &v);
	if (rc != 0)
		return rc == MDB_NOTFOUND ? 0 : mycel__mdb_err(rc);
	mycel__fwd_list(v.mv_data, v.mv_size, MYCEL__FWD_FACETS, &l);
	while (mycel__fwd_next(&l, &p, &n, &b))
		if ((rv = fc_add(f, p, n, delta)) != 0)
			return rv;
	return 0;
}

static int facets_cb(void *ctx, const uint8_t *ref, size_t rn, const uint8_t *wbits, uint8_t exact)
{
	(void)wbits;
	(void)exact;
	return fc_doc(ctx, ref, rn, 1);
}

static int facet_rank(const uint8_t *k)
{
	for (size_t i = 0; i < N_FACETS; i++)
		if (strcmp((const char *)k, facet_order[i]) == 0)
			return (int)i;
	return (int)N_FACETS;
}

static int fcount_cmp(const void *a, const void *b)
{
	const mycel_facet_count *x = a, *y = b;
	int rx = facet_rank((const uint8_t *)x->facet), ry = facet_rank((const uint8_t *)y->facet);
	if (rx != ry)
		return rx < ry ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->value, y->value);
}

int mycel_catalog_facets(mycel_store *s, const mycel_search_query *sq, mycel_facet_count **out,
			 size_t *n)
{
	query q;
	fctx f;
	mycel_facet_count *res = NULL;
	size_t nres = 0;
	int rv;

	if (out == NULL || n == NULL || sq == NULL)
		return MYCEL_EINVAL;
	if (!s->cat.ready) {
		*out = NULL;
		*n = 0;
		return 0;
	}
	if ((rv = query_open(&q, s, sq)) != 0)
		return rv;
	memset(&f, 0, sizeof(f));
	f.q = &q;
	if (!q.empty && q.nmust == 0 && !q.fwd_prefix) {
		/* every (visible) document: the lists' own counts, less the retired documents' values */
		MDB_cursor *c;
		MDB_val k, v;
		int rc = mdb_cursor_open(q.txn, s->cat.facets, &c);
		if (rc != 0) {
			rv = mycel__mdb_err(rc);
			goto done;
		}
		/* the count keys facet ‖ 0 ‖ value ‖ 0, skipping each list's blocks */
		for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && rv == 0;) {
			const uint8_t *kp = k.mv_data, *z1 = memchr(kp, 0, k.mv_size), *z2;
			z2 = z1 != NULL ? memchr(z1 + 1, 0, k.mv_size - (size_t)(z1 + 1 - kp)) : NULL;
			if (z2 == NULL || (size_t)(z2 - kp) > MYCEL__LIST_MAX) {
				rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
				continue;
			}
			size_t ln = (size_t)(z2 - kp);
			if (k.mv_size == ln + 1 && v.mv_size == 8)
				rv = fc_add(&f, kp, ln, (long)mycel__get_be64(v.mv_data));
			uint8_t nk[MYCEL__LIST_MAX + 1];
			memcpy(nk, kp, ln);
			nk[ln] = 1;
			k = (MDB_val){ln + 1, nk};
			rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		}
		if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
			rv = mycel__mdb_err(rc);
		mdb_cursor_close(c);
		if (rv == 0 && q.excluded != NULL) {
			plist *l = q.excluded;
			for (rv = pl_first(l); rv == 0 && !l->end; rv = pl_next(l))
				if ((rv = fc_doc(&f, l->ref, l->rn, -1)) != 0)
					break;
		}
	} else {
		rv = query_run(&q, facets_cb, &f);
	}
	if (rv != 0)
		goto done;
	if (f.n > 0 && (res = calloc(f.n, sizeof(*res))) == NULL) {
		rv = MYCEL_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < f.cap; i++) {
		const fslot *e = &f.t[i];
		if (e->key == NULL || e->count == 0)
			continue;
		const uint8_t *z = memchr(e->key, 0, e->kn);
		if (z == NULL)
			continue;
		size_t fl = (size_t)(z - e->key);
		if (fl == 6 && memcmp(e->key, "hidden", 6) == 0)
			continue; /* the search's own exclusion list, not a facet a user asked for */
		mycel_facet_count *c = &res[nres++];
		mycel__copy_cstr(c->facet, sizeof(c->facet), (const char *)e->key, fl);
		mycel__copy_cstr(c->value, sizeof(c->value), (const char *)z + 1, e->kn - fl - 1);
		c->count = e->count;
	}
	if (nres > 1)
		qsort(res, nres, sizeof(*res), fcount_cmp);
done:
	free(f.t);
	query_close(&q);
	if (rv != 0) {
		free(res);
		return rv;
	}
	*out = res;
	*n = nres;
	return 0;
}
