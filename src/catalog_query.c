/*
 * catalog_query.c — reading the catalog: get, version lookup, ranked search,
 * facet counts and lineage walks, each inside one LMDB read transaction
 * (layout in catalog_int.h).
 *
 * Search never scans every document when it has something to narrow with.
 * Every constraint is a posting list sorted by docref: a query word (its
 * cat_terms duplicates), a facet value (its cat_facets duplicates), the
 * union of the terms that the last word is a prefix of. The lists are
 * intersected by leapfrogging: each list is moved to the largest current
 * docref, stepping a few duplicates and then seeking (MDB_GET_BOTH_RANGE),
 * so the work follows the rarest list. Retired documents are a negative list
 * (status=retired), the exact-name/id key an optional one that only adds to
 * the score. A prefix that expands to many terms is not materialised when a
 * rarer list drives: each candidate's forward image is checked instead.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"
#include "util.h"

#define WORDS_MAX 32          /* query words */
#define PREFIX_TERMS_MAX 4096 /* terms a prefix expands to before it is checked per candidate */
#define LIMIT_DEFAULT 20
#define LIMIT_MAX 1000
#define LINEAGE_NODES_MAX 100000
#define GALLOP 4              /* duplicates stepped before a seek */

/* ---- helpers ------------------------------------------------------------------------------ */

static int begin_read(mycel_store *s, MDB_txn **txn)
{
	return mycel__mdb_err(mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn));
}

static size_t ref_of(uint8_t ref[MYCEL__DOCREF_MAX], const char *domain, const char *id)
{
	if (domain == NULL || id == NULL)
		return 0;
	return mycel__docref(ref, domain, strnlen(domain, MYCEL__DOMAIN_MAX + 1), id,
			     strnlen(id, MYCEL_ID_MAX + 1));
}

static int get_docrec(mycel_store *s, MDB_txn *txn, const uint8_t *ref, size_t rn,
		      mycel__docrec *out)
{
	MDB_val k = {rn, (void *)ref}, v;
	int rc = mdb_get(txn, s->cat.docs, &k, &v);
	if (rc != 0)
		return mycel__mdb_err(rc);
	return mycel__docrec_decode(v.mv_data, v.mv_size, out);
}

static void copy_cstr(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* ---- get, version ---------------------------------------------------------------------------- */

void mycel_catalog_doc_fini(mycel_catalog_doc *d)
{
	if (d == NULL)
		return;
	free(d->name);
	free(d->description);
	free(d->versions);
	free(d->body);
	memset(d, 0, sizeof(*d));
}

/* Every version of ref, unsorted. */
static int versions_of(mycel_store *s, MDB_txn *txn, const uint8_t *ref, size_t rn,
		       mycel_doc_version **out, size_t *out_n)
{
	MDB_cursor *cur;
	MDB_val k = {rn, (void *)ref}, v;
	mycel_doc_version *vs = NULL;
	size_t n = 0, cap = 0;
	int rv = 0, rc = mdb_cursor_open(txn, s->cat.versions, &cur);
	if (rc != 0)
		return mycel__mdb_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size <= rn || memcmp(k.mv_data, ref, rn) != 0)
			break;
		size_t vl = k.mv_size - rn;
		if (vl > MYCEL_VERSION_MAX)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			mycel_doc_version *nv = realloc(vs, nc * sizeof(*nv));
			if (nv == NULL) {
				rv = MYCEL_ENOMEM;
				break;
			}
			vs = nv;
			cap = nc;
		}
		if (mycel__vrow_decode(v.mv_data, v.mv_size, &vs[n]) != 0)
			continue;
		copy_cstr(vs[n].version, sizeof(vs[n].version), (const char *)k.mv_data + rn, vl);
		n++;
	}
	if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
		rv = mycel__mdb_err(rc);
	mdb_cursor_close(cur);
	if (rv != 0) {
		free(vs);
		return rv;
	}
	*out = vs;
	*out_n = n;
	return 0;
}

static int version_cmp(const void *a, const void *b)
{
	const mycel_doc_version *x = a, *y = b;
	int c = mycel_semver_cmp(x->version, y->version);
	return c != 0 ? c : strcmp(x->version, y->version);
}

/* Index of version in vs: the same string, else the same precedence (build metadata aside). */
static size_t find_version(const mycel_doc_version *vs, size_t n, const char *version)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(vs[i].version, version) == 0)
			return i;
	if (!mycel_semver_valid(version))
		return SIZE_MAX;
	for (size_t i = 0; i < n; i++)
		if (mycel_semver_cmp(vs[i].version, version) == 0)
			return i;
	return SIZE_MAX;
}

static int read_body(mycel_store *s, MDB_txn *txn, const mycel_doc_version *v, MDB_val *out)
{
	uint8_t fs[MYCEL__FEEDSEQ_LEN];
	mycel__feedseq(fs, v->feed, v->seq);
	MDB_val k = {sizeof(fs), fs};
	int rc = mdb_get(txn, s->bodies, &k, out);
	return rc == MDB_NOTFOUND ? MYCEL_ECORRUPT : mycel__mdb_err(rc);
}

int mycel_catalog_get(mycel_store *s, const char *domain, const char *id, const char *version,
		      mycel_catalog_doc *out)
{
	uint8_t ref[MYCEL__DOCREF_MAX];
	size_t rn = ref_of(ref, domain, id);
	MDB_txn *txn;
	mycel__docrec dr;
	mycel_catalog_doc d;
	MDB_val cb, sb;
	int rv;

	if (out == NULL)
		return MYCEL_EINVAL;
	if (rn == 0 || !s->cat.ready)
		return MYCEL_ENOTFOUND;
	memset(&d, 0, sizeof(d));
	if ((rv = begin_read(s, &txn)) != 0)
		return rv;
	if ((rv = get_docrec(s, txn, ref, rn, &dr)) != 0)
		goto fail;
	if ((rv = versions_of(s, txn, ref, rn, &d.versions, &d.n_versions)) != 0)
		goto fail;
	if (d.n_versions > 1)
		qsort(d.versions, d.n_versions, sizeof(*d.versions), version_cmp);
	char cv[MYCEL_VERSION_MAX + 1];
	copy_cstr(cv, sizeof(cv), dr.version, dr.version_len);
	d.current = find_version(d.versions, d.n_versions, cv);
	d.shown = version != NULL ? find_version(d.versions, d.n_versions, version) : d.current;
	if (d.current == SIZE_MAX) {
		rv = MYCEL_ECORRUPT;
		goto fail;
	}
	if (d.shown == SIZE_MAX) {
		rv = MYCEL_ENOTFOUND;
		goto fail;
	}
	if ((rv = read_body(s, txn, &d.versions[d.current], &cb)) != 0 ||
	    (rv = read_body(s, txn, &d.versions[d.shown], &sb)) != 0)
		goto fail;
	const char *name, *desc;
	size_t nn, dn;
	if (mycel__body_texts(cb.mv_data, cb.mv_size, &name, &nn, &desc, &dn) != 0)
		nn = dn = 0;
	d.kind = dr.kind;
	copy_cstr(d.domain, sizeof(d.domain), domain, strlen(domain));
	copy_cstr(d.id, sizeof(d.id), id, strlen(id));
	d.name = mycel__strndup(name, nn);
	d.description = mycel__strndup(desc, dn);
	d.body = malloc(sb.mv_size ? sb.mv_size : 1);
	if (d.name == NULL || d.description == NULL || d.body == NULL) {
		rv = MYCEL_ENOMEM;
		goto fail;
	}
	memcpy(d.body, sb.mv_data, sb.mv_size);
	d.body_len = sb.mv_size;
	mdb_txn_abort(txn);
	*out = d;
	return 0;
fail:
	mdb_txn_abort(txn);
	mycel_catalog_doc_fini(&d);
	return rv;
}

int mycel_catalog_version(mycel_store *s, const char *domain, const char *id, const char *version,
			  mycel_doc_version *out)
{
	uint8_t ref[MYCEL__DOCREF_MAX], key[MYCEL__DOCREF_MAX + MYCEL_VERSION_MAX];
	size_t rn = ref_of(ref, domain, id), vn;
	MDB_txn *txn;
	int rv;

	if (version == NULL || out == NULL)
		return MYCEL_EINVAL;
	vn = strnlen(version, MYCEL_VERSION_MAX + 1);
	if (rn == 0 || vn == 0 || vn > MYCEL_VERSION_MAX || !s->cat.ready)
		return MYCEL_ENOTFOUND;
	if ((rv = begin_read(s, &txn)) != 0)
		return rv;
	memcpy(key, ref, rn);
	memcpy(key + rn, version, vn);
	MDB_val k = {rn + vn, key}, v;
	int rc = mdb_get(txn, s->cat.versions, &k, &v);
	if (rc == 0) {
		mycel_doc_version dv;
		if ((rv = mycel__vrow_decode(v.mv_data, v.mv_size, &dv)) == 0) {
			copy_cstr(dv.version, sizeof(dv.version), version, vn);
			*out = dv;
		}
	} else if (rc == MDB_NOTFOUND) {
		/* the same precedence under another build suffix is the same version */
		mycel_doc_version *vs;
		size_t n, i;
		if ((rv = versions_of(s, txn, ref, rn, &vs, &n)) == 0) {
			char vb[MYCEL_VERSION_MAX + 1];
			copy_cstr(vb, sizeof(vb), version, vn);
			if ((i = find_version(vs, n, vb)) != SIZE_MAX)
				*out = vs[i];
			else
				rv = MYCEL_ENOTFOUND;
			free(vs);
		}
	} else {
		rv = mycel__mdb_err(rc);
	}
	mdb_txn_abort(txn);
	return rv;
}

/* ---- posting lists ---------------------------------------------------------------------------- */

typedef struct post {
	const uint8_t *ref;
	uint32_t rn;
	uint8_t bits;
} post;

enum { PL_DUP, PL_ARR };
enum { ROLE_MUST, ROLE_NOT, ROLE_OPT };

typedef struct plist {
	int type, role;
	bool weighted; /* term postings: docref ‖ bits */
	int word;      /* query word it stands for, -1 for facets */
	MDB_cursor *c;
	uint8_t keyb[1 + MYCEL__EXACT_MAX];
	MDB_val key;
	size_t count;
	bool end;
	const uint8_t *ref; /* current: docref, its length, field bits */
	size_t rn;
	uint8_t bits;
	post *arr; /* PL_ARR: sorted, unique */
	size_t n, pos;
} plist;

static void pl_load_dup(plist *l, const MDB_val *d)
{
	l->ref = d->mv_data;
	l->rn = d->mv_size;
	l->bits = 0;
	if (l->weighted && l->rn > 0) {
		l->rn--;
		l->bits = l->ref[l->rn];
	}
}

static void pl_load_arr(plist *l)
{
	if (l->pos >= l->n) {
		l->end = true;
		return;
	}
	l->ref = l->arr[l->pos].ref;
	l->rn = l->arr[l->pos].rn;
	l->bits = l->arr[l->pos].bits;
}

static int pl_step(plist *l, MDB_cursor_op op, MDB_val *data)
{
	MDB_val k = l->key, d = data != NULL ? *data : (MDB_val){0, NULL};
	int rc = mdb_cursor_get(l->c, &k, &d, op);
	if (rc == MDB_NOTFOUND) {
		l->end = true;
		return 0;
	}
	if (rc != 0) {
		l->end = true;
		return mycel__mdb_err(rc);
	}
	pl_load_dup(l, &d);
	return 0;
}

static int pl_first(plist *l)
{
	l->end = false;
	if (l->type == PL_ARR) {
		l->pos = 0;
		pl_load_arr(l);
		return 0;
	}
	return pl_step(l, MDB_SET, NULL);
}

static int pl_next(plist *l)
{
	if (l->end)
		return 0;
	if (l->type == PL_ARR) {
		l->pos++;
		pl_load_arr(l);
		return 0;
	}
	return pl_step(l, MDB_NEXT_DUP, NULL);
}

/* Moves l to its first docref >= (ref, rn). */
static int pl_seek(plist *l, const uint8_t *ref, size_t rn)
{
	int rv;
	if (l->end || mycel__bytes_cmp(l->ref, l->rn, ref, rn) >= 0)
		return 0;
	if (l->type == PL_ARR) {
		size_t lo = l->pos + 1, hi = l->n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (mycel__bytes_cmp(l->arr[mid].ref, l->arr[mid].rn, ref, rn) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		l->pos = lo;
		pl_load_arr(l);
		return 0;
	}
	for (int i = 0; i < GALLOP; i++) {
		if ((rv = pl_step(l, MDB_NEXT_DUP, NULL)) != 0 || l->end)
			return rv;
		if (mycel__bytes_cmp(l->ref, l->rn, ref, rn) >= 0)
			return 0;
	}
	MDB_val d = {rn, (void *)ref};
	return pl_step(l, MDB_GET_BOTH_RANGE, &d);
}

/* Opens a duplicate list on key; *found false if the key holds nothing. */
static int pl_open(MDB_txn *txn, MDB_dbi dbi, plist *l, const uint8_t *key, size_t kn, int role,
		   bool weighted, int word, bool *found)
{
	MDB_val k, d;
	memset(l, 0, sizeof(*l));
	l->type = PL_DUP;
	l->role = role;
	l->weighted = weighted;
	l->word = word;
	*found = false;
	if (kn > sizeof(l->keyb))
		return 0;
	memcpy(l->keyb, key, kn);
	l->key = (MDB_val){kn, l->keyb};
	int rc = mdb_cursor_open(txn, dbi, &l->c);
	if (rc != 0)
		return mycel__mdb_err(rc);
	k = l->key;
	rc = mdb_cursor_get(l->c, &k, &d, MDB_SET);
	if (rc == MDB_NOTFOUND)
		return 0;
	size_t cnt = 0;
	if (rc != 0 || (rc = mdb_cursor_count(l->c, &cnt)) != 0)
		return mycel__mdb_err(rc);
	l->count = (size_t)cnt;
	*found = true;
	return 0;
}

static void pl_close(plist *l)
{
	if (l->c != NULL)
		mdb_cursor_close(l->c);
	free(l->arr);
	l->c = NULL;
	l->arr = NULL;
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

typedef struct query {
	mycel_store *s;
	MDB_txn *txn;
	plist lists[WORDS_MAX + MYCEL_SEARCH_TAGS_MAX + 8];
	size_t nl;
	plist *must[WORDS_MAX + MYCEL_SEARCH_TAGS_MAX + 8];
	size_t nmust;
	plist *not_retired; /* ROLE_NOT, or NULL */
	plist *exact[2];    /* ROLE_OPT: exact name, exact id (or NULL) */
	size_t nwords;      /* words of the text */
	bool empty;         /* some constraint matches nothing */
	bool fwd_prefix;    /* the last word is checked on each candidate's forward image */
	const uint8_t *prefix;
	size_t prefix_len;
	bool scored;        /* a text query: hits carry scores */
	words w;
} query;

static void query_fini(query *q)
{
	for (size_t i = 0; i < q->nl; i++)
		pl_close(&q->lists[i]);
	q->nl = 0;
}

static int add_list(query *q, MDB_dbi dbi, const uint8_t *key, size_t kn, int role, bool weighted,
		    int word)
{
	bool found;
	plist *l = &q->lists[q->nl];
	int rv = pl_open(q->txn, dbi, l, key, kn, role, weighted, word, &found);
	q->nl++; /* closed by query_fini whatever happened */
	if (rv != 0)
		return rv;
	if (!found) {
		if (role == ROLE_MUST)
			q->empty = true;
		return 0;
	}
	if (role == ROLE_MUST)
		q->must[q->nmust++] = l;
	else if (role == ROLE_NOT)
		q->not_retired = l;
	else
		q->exact[q->exact[0] != NULL] = l;
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
	return add_list(q, q->s->cat.facets, k, kn, ROLE_MUST, false, -1);
}

static int post_cmp(const post *a, const post *b)
{
	return mycel__bytes_cmp(a->ref, a->rn, b->ref, b->rn);
}

/*
 * The union of the posting lists of terms[0..m) as one sorted array without
 * repeats (field bits ORed): each term's list is already sorted, so the runs
 * are merged pairwise, O(S log m).
 */
static int prefix_union(query *q, const MDB_val *terms, size_t m, size_t total, post **out,
			size_t *out_n)
{
	MDB_cursor *c;
	post *a = malloc((total ? total : 1) * sizeof(*a)), *tmp = NULL;
	size_t *runs = malloc((m + 1) * sizeof(*runs)), n = 0, nr = 0;
	int rv = 0, rc;
	if (a == NULL || runs == NULL) {
		rv = MYCEL_ENOMEM;
		goto done;
	}
	if ((rc = mdb_cursor_open(q->txn, q->s->cat.terms, &c)) != 0) {
		rv = mycel__mdb_err(rc);
		goto done;
	}
	for (size_t i = 0; i < m && rv == 0; i++) {
		MDB_val k = terms[i], d;
		runs[nr++] = n;
		for (rc = mdb_cursor_get(c, &k, &d, MDB_SET); rc == 0 && n < total;
		     rc = mdb_cursor_get(c, &k, &d, MDB_NEXT_DUP)) {
			if (d.mv_size < 2)
				continue;
			a[n++] = (post){d.mv_data, (uint32_t)(d.mv_size - 1),
					((const uint8_t *)d.mv_data)[d.mv_size - 1]};
		}
		if (rc != 0 && rc != MDB_NOTFOUND)
			rv = mycel__mdb_err(rc);
	}
	runs[nr] = n;
	mdb_cursor_close(c);
	if (rv != 0)
		goto done;
	if (nr > 1 && (tmp = malloc((n ? n : 1) * sizeof(*tmp))) == NULL) {
		rv = MYCEL_ENOMEM;
		goto done;
	}
	while (nr > 1) {
		size_t o = 0, w = 0;
		for (size_t r = 0; r < nr; r += 2) {
			size_t i = runs[r], ie = runs[r + 1], j = ie, je = r + 2 <= nr ? runs[r + 2] : ie;
			if (r + 1 >= nr)
				j = je = ie; /* an odd run out: copied as it is */
			runs[w++] = o;
			while (i < ie || j < je) {
				int cmp = i >= ie ? 1 : j >= je ? -1 : post_cmp(&a[i], &a[j]);
				if (cmp < 0) {
					tmp[o++] = a[i++];
				} else if (cmp > 0) {
					tmp[o++] = a[j++];
				} else {
					tmp[o] = a[i++];
					tmp[o++].bits |= a[j++].bits;
				}
			}
		}
		runs[w] = o;
		nr = w;
		post *t = a;
		a = tmp;
		tmp = t;
		n = o;
	}
	*out = a;
	*out_n = n;
	a = NULL;
done:
	free(a);
	free(tmp);
	free(runs);
	return rv;
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
	if (sq->status == MYCEL_STATUS_VISIBLE) {
		uint8_t k[32];
		size_t kn;
		(void)mycel__facet_key("status", "retired", 7, k, &kn);
		if ((rv = add_list(q, q->s->cat.facets, k, kn, ROLE_NOT, false, -1)) != 0)
			return rv;
	} else if (sq->status != MYCEL_STATUS_ANY) {
		if (sq->status < MYCEL_STATUS_ACTIVE || sq->status > MYCEL_STATUS_RETIRED)
			return MYCEL_EINVAL;
		if ((rv = add_facet(q, "status", mycel_doc_status_name(sq->status))) != 0)
			return rv;
	}
	if (q->nwords == 0)
		return 0;
	/* every word but the last: exact terms */
	for (size_t i = 0; i + 1 < q->nwords; i++)
		if ((rv = add_list(q, q->s->cat.terms, q->w.w[i], q->w.len[i], ROLE_MUST, true, (int)i)) != 0)
			return rv;
	/* the whole text against normalised names and lowercased ids */
	uint8_t ek[1 + MYCEL__EXACT_MAX];
	size_t tn = strlen(sq->text), en;
	ek[0] = MYCEL__EXACT_NAME;
	en = mycel__normalize(sq->text, tn, ek + 1);
	if (en > 0 && (rv = add_list(q, q->s->cat.terms, ek, en + 1, ROLE_OPT, true, -1)) != 0)
		return rv;
	ek[0] = MYCEL__EXACT_ID;
	en = mycel__exact_id(sq->text, tn, ek + 1);
	if (en > 0 && (rv = add_list(q, q->s->cat.terms, ek, en + 1, ROLE_OPT, true, -1)) != 0)
		return rv;
	if (q->empty)
		return 0;
	/* the last word: the terms it is a prefix of */
	size_t last = q->nwords - 1, m = 0, cap = 0, total = 0;
	const uint8_t *pw = q->w.w[last];
	size_t pn = q->w.len[last];
	bool too_many = false;
	int rc = mdb_cursor_open(q->txn, q->s->cat.terms, &c);
	if (rc != 0)
		return mycel__mdb_err(rc);
	MDB_val k = {pn, (void *)pw}, d;
	for (rc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &d, MDB_NEXT_NODUP)) {
		if (k.mv_size < pn || memcmp(k.mv_data, pw, pn) != 0)
			break;
		if (m == PREFIX_TERMS_MAX) {
			too_many = true;
			break;
		}
		size_t cnt = 0;
		if ((rc = mdb_cursor_count(c, &cnt)) != 0)
			break;
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
		terms[m++] = k;
		total += (size_t)cnt;
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
	size_t minc = SIZE_MAX;
	for (size_t i = 0; i < q->nmust; i++)
		if (q->must[i]->count < minc)
			minc = q->must[i]->count;
	if (m == 1 && !too_many) {
		rv = add_list(q, q->s->cat.terms, terms[0].mv_data, terms[0].mv_size, ROLE_MUST, true,
			      (int)last);
	} else if (too_many || (minc != SIZE_MAX && total > 4 * minc + 1024)) {
		q->fwd_prefix = true; /* checked per candidate */
		q->prefix = pw;
		q->prefix_len = pn;
	} else {
		plist *l = &q->lists[q->nl++];
		memset(l, 0, sizeof(*l));
		l->type = PL_ARR;
		l->role = ROLE_MUST;
		l->weighted = true;
		l->word = (int)last;
		if ((rv = prefix_union(q, terms, m, total, &l->arr, &l->n)) == 0) {
			l->count = l->n;
			q->must[q->nmust++] = l;
		}
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
	mycel__flist l[3];
	const uint8_t *t;
	size_t tn;
	uint8_t b, acc = 0;
	int rc = mdb_get(q->txn, q->s->cat.fwd, &k, &v);
	*out = 0;
	if (rc != 0)
		return rc == MDB_NOTFOUND ? 0 : mycel__mdb_err(rc);
	mycel__fwd_open(v.mv_data, v.mv_size, l);
	while (mycel__fwd_next(&l[0], &t, &tn, &b)) {
		int c = mycel__bytes_cmp(t, tn < q->prefix_len ? tn : q->prefix_len, q->prefix,
					 q->prefix_len);
		if (c == 0 && tn >= q->prefix_len)
			acc |= b;
		else if (c > 0)
			break; /* terms are sorted: none further can start with the prefix */
	}
	*out = acc;
	return 0;
}

/* Checks the negative, optional and per-candidate constraints of a candidate, then calls fn. */
static int emit(query *q, const uint8_t *ref, size_t rn, match_fn fn, void *ctx)
{
	uint8_t wbits[WORDS_MAX] = {0}, exact = 0;
	int rv;
	if (q->not_retired != NULL) {
		if ((rv = pl_seek(q->not_retired, ref, rn)) != 0)
			return rv;
		if (!q->not_retired->end &&
		    mycel__bytes_cmp(q->not_retired->ref, q->not_retired->rn, ref, rn) == 0)
			return 0;
	}
	if (q->fwd_prefix) {
		uint8_t b;
		if ((rv = fwd_prefix_bits(q, ref, rn, &b)) != 0)
			return rv;
		if (b == 0)
			return 0;
		wbits[q->nwords - 1] = b;
	}
	for (size_t i = 0; i < q->nmust; i++)
		if (q->must[i]->word >= 0)
			wbits[q->must[i]->word] |= q->must[i]->bits;
	for (int i = 0; i < 2 && q->exact[i] != NULL; i++) {
		plist *l = q->exact[i];
		if ((rv = pl_seek(l, ref, rn)) != 0)
			return rv;
		if (!l->end && mycel__bytes_cmp(l->ref, l->rn, ref, rn) == 0)
			exact |= l->bits;
	}
	return fn(ctx, ref, rn, wbits, exact);
}

static int must_cmp(const void *a, const void *b)
{
	const plist *x = *(plist *const *)a, *y = *(plist *const *)b;
	return (x->count > y->count) - (x->count < y->count);
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
	if (q->not_retired != NULL && (rv = pl_first(q->not_retired)) != 0)
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
	qsort(q->must, q->nmust, sizeof(*q->must), must_cmp);
	for (size_t i = 0; i < q->nmust; i++) {
		if ((rv = pl_first(q->must[i])) != 0)
			return rv;
		if (q->must[i]->end)
			return 0;
	}
	const uint8_t *cand = q->must[0]->ref;
	size_t cn = q->must[0]->rn;
	for (;;) {
		size_t i;
		for (i = 0; i < q->nmust; i++) {
			plist *l = q->must[i];
			if ((rv = pl_seek(l, cand, cn)) != 0)
				return rv;
			if (l->end)
				return 0;
			if (mycel__bytes_cmp(l->ref, l->rn, cand, cn) > 0) {
				cand = l->ref;
				cn = l->rn;
				break;
			}
		}
		if (i < q->nmust)
			continue;
		if ((rv = emit(q, cand, cn, fn, ctx)) != 0)
			return rv == 1 ? 0 : rv;
		if ((rv = pl_next(q->must[0])) != 0)
			return rv;
		if (q->must[0]->end)
			return 0;
		cand = q->must[0]->ref;
		cn = q->must[0]->rn;
	}
}

static int query_open(query *q, mycel_store *s, const mycel_search_query *sq)
{
	memset(q, 0, sizeof(*q));
	q->s = s;
	if (sq == NULL)
		return MYCEL_EINVAL;
	int rv = begin_read(s, &q->txn);
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
	const uint8_t *ref;
	uint32_t rn;
	int8_t field; /* index in fields, -1 for none; N_FIELDS for an exact id */
} hitent;

typedef struct sctx {
	hitent *h; /* a heap, worst on top */
	size_t n, cap, k;
	size_t total;
	size_t nwords;
	bool scored;
	bool stop_when_full; /* unscored, total known: stop once k hits are in */
} sctx;

/* a ranks below b: a lower score, or the same score and a later docref. */
static bool worse(const hitent *a, const hitent *b)
{
	if (a->score != b->score)
		return a->score < b->score;
	return mycel__bytes_cmp(a->ref, a->rn, b->ref, b->rn) > 0;
}

static void sift_down(hitent *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && worse(&h[l], &h[m]))
			m = l;
		if (r < n && worse(&h[r], &h[m]))
			m = r;
		if (m == i)
			return;
		hitent t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void sift_up(hitent *h, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!worse(&h[i], &h[p]))
			return;
		hitent t = h[i];
		h[i] = h[p];
		h[p] = t;
		i = p;
	}
}

static int search_cb(void *ctx, const uint8_t *ref, size_t rn, const uint8_t *wbits, uint8_t exact)
{
	sctx *x = ctx;
	hitent e = {0, ref, (uint32_t)rn, -1};
	if (!x->scored && x->n == x->k)
		/* unscored matches come in rank order: only counting is left */
		return x->stop_when_full ? 1 : (x->total++, 0);
	x->total++;
	if (x->scored) {
		uint8_t any = 0;
		for (size_t w = 0; w < x->nwords; w++) {
			any |= wbits[w];
			for (size_t f = 0; f < N_FIELDS; f++)
				if (wbits[w] & fields[f].bit) {
					e.score += fields[f].score;
					break;
				}
		}
		for (size_t f = 0; f < N_FIELDS; f++)
			if (any & fields[f].bit) {
				e.field = (int8_t)f;
				break;
			}
		if ((exact & MYCEL__F_EXACT) && (exact & MYCEL__F_NAME)) {
			e.score += EXACT_NAME_SCORE;
			e.field = 0;
		} else if (exact & MYCEL__F_EXACT) {
			e.score += EXACT_ID_SCORE;
			e.field = 1;
		}
	}
	if (x->n < x->k) {
		if (x->n == x->cap) {
			size_t nc = x->cap ? x->cap * 2 : 64;
			if (nc > x->k)
				nc = x->k;
			hitent *nh = realloc(x->h, nc * sizeof(*nh));
			if (nh == NULL)
				return MYCEL_ENOMEM;
			x->h = nh;
			x->cap = nc;
		}
		x->h[x->n] = e;
		sift_up(x->h, x->n++);
	} else if (worse(&x->h[0], &e)) {
		x->h[0] = e;
		sift_down(x->h, x->n, 0);
	}
	return 0;
}

static int hit_cmp(const void *a, const void *b)
{
	const hitent *x = a, *y = b;
	return worse(x, y) ? 1 : worse(y, x) ? -1 : 0;
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
	if (q->not_retired == NULL) {
		*out = must->count;
		return 0;
	}
	plist *a = must->count <= q->not_retired->count ? must : q->not_retired;
	plist *b = a == must ? q->not_retired : must;
	if ((rv = pl_first(a)) != 0 || (rv = pl_first(b)) != 0)
		return rv;
	while (!a->end && !b->end) {
		if ((rv = pl_seek(b, a->ref, a->rn)) != 0)
			return rv;
		if (b->end)
			break;
		if (mycel__bytes_cmp(a->ref, a->rn, b->ref, b->rn) == 0)
			both++;
		if ((rv = pl_next(a)) != 0)
			return rv;
	}
	*out = must->count - both;
	return 0;
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
	x.k = sq->offset > SIZE_MAX - limit ? SIZE_MAX : sq->offset + limit;
	/*
	 * A facet-only query over one list (or none) needs its first k documents
	 * only; the total comes from the lists' counts.
	 */
	bool counted = false;
	if (!q.scored && !q.empty && !q.fwd_prefix && q.nmust <= 1) {
		size_t total;
		if (q.nmust == 0) {
			MDB_stat st;
			if ((rv = mycel__mdb_err(mdb_stat(q.txn, s->cat.docs, &st))) != 0)
				goto done;
			total = (size_t)st.ms_entries;
			if (q.not_retired != NULL)
				total -= q.not_retired->count < total ? q.not_retired->count : total;
		} else if ((rv = count_visible(&q, q.must[0], &total)) != 0) {
			goto done;
		}
		x.k = x.k < total ? x.k : total;
		x.stop_when_full = true;
		if ((rv = query_run(&q, search_cb, &x)) != 0)
			goto done;
		x.total = total;
		counted = true;
	}
	if (!counted && (rv = query_run(&q, search_cb, &x)) != 0)
		goto done;
	if (x.n > 1)
		qsort(x.h, x.n, sizeof(*x.h), hit_cmp);
	r.total = x.total;
	if (sq->offset < x.n) {
		size_t n = x.n - sq->offset < limit ? x.n - sq->offset : limit;
		if ((r.hits = calloc(n, sizeof(*r.hits))) == NULL) {
			rv = MYCEL_ENOMEM;
			goto done;
		}
		for (size_t i = 0; i < n; i++) {
			const hitent *e = &x.h[sq->offset + i];
			mycel_search_hit *h = &r.hits[r.n];
			mycel__docrec dr;
			if (!mycel__docref_split(e->ref, e->rn, h->domain, h->id) ||
			    (rv = get_docrec(s, q.txn, e->ref, e->rn, &dr)) != 0) {
				rv = rv != 0 ? rv : MYCEL_ECORRUPT;
				goto done;
			}
			h->kind = dr.kind;
			h->status = dr.status;
			copy_cstr(h->version, sizeof(h->version), dr.version, dr.version_len);
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

static uint32_t fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

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
			size_t h = fnv(f->t[i].key, f->t[i].kn) & (nc - 1);
			while (nt[h].key != NULL)
				h = (h + 1) & (nc - 1);
			nt[h] = f->t[i];
		}
		free(f->t);
		f->t = nt;
		f->cap = nc;
	}
	size_t h = fnv(k, kn) & (f->cap - 1);
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
	mycel__flist l[3];
	const uint8_t *p;
	size_t n;
	uint8_t b;
	int rv, rc = mdb_get(f->q->txn, f->q->s->cat.fwd, &k, &v);
	if (rc != 0)
		return rc == MDB_NOTFOUND ? 0 : mycel__mdb_err(rc);
	mycel__fwd_open(v.mv_data, v.mv_size, l);
	while (mycel__fwd_next(&l[1], &p, &n, &b))
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
		for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && rv == 0;
		     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_NODUP)) {
			size_t cnt = 0;
			if ((rc = mdb_cursor_count(c, &cnt)) != 0)
				break;
			rv = fc_add(&f, k.mv_data, k.mv_size, (long)cnt);
		}
		if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
			rv = mycel__mdb_err(rc);
		mdb_cursor_close(c);
		if (rv == 0 && q.not_retired != NULL) {
			plist *l = q.not_retired;
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
		mycel_facet_count *c = &res[nres++];
		copy_cstr(c->facet, sizeof(c->facet), (const char *)e->key, fl);
		copy_cstr(c->value, sizeof(c->value), (const char *)z + 1, e->kn - fl - 1);
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

/* ---- lineage -------------------------------------------------------------------------------------- */

void mycel_lineage_fini(mycel_lineage *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->nodes[i].name);
		for (size_t j = 0; j < l->nodes[i].n_candidates; j++)
			free(l->nodes[i].candidates[j]);
		free(l->nodes[i].candidates);
	}
	free(l->nodes);
	memset(l, 0, sizeof(*l));
}

typedef struct walk {
	mycel_store *s;
	MDB_txn *txn;
	MDB_dbi dbi; /* cat_up or cat_down */
	int depth;   /* the most levels */
	mycel_lineage out;
	size_t cap;
	/* node keys already shown (a hash set of copies) */
	struct seen {
		uint8_t *k;
		size_t n;
	} *seen;
	size_t seen_cap, seen_n;
} walk;

/* Adds key to the set; *was true if it was there already. */
static int seen_add(walk *w, const uint8_t *k, size_t n, bool *was)
{
	if (w->seen_n * 2 >= w->seen_cap) {
		size_t nc = w->seen_cap ? w->seen_cap * 2 : 64;
		struct seen *nt = calloc(nc, sizeof(*nt));
		if (nt == NULL)
			return MYCEL_ENOMEM;
		for (size_t i = 0; i < w->seen_cap; i++) {
			if (w->seen[i].k == NULL)
				continue;
			size_t h = fnv(w->seen[i].k, w->seen[i].n) & (nc - 1);
			while (nt[h].k != NULL)
				h = (h + 1) & (nc - 1);
			nt[h] = w->seen[i];
		}
		free(w->seen);
		w->seen = nt;
		w->seen_cap = nc;
	}
	size_t h = fnv(k, n) & (w->seen_cap - 1);
	while (w->seen[h].k != NULL) {
		if (w->seen[h].n == n && memcmp(w->seen[h].k, k, n) == 0) {
			*was = true;
			return 0;
		}
		h = (h + 1) & (w->seen_cap - 1);
	}
	*was = false;
	if ((w->seen[h].k = malloc(n)) == NULL)
		return MYCEL_ENOMEM;
	memcpy(w->seen[h].k, k, n);
	w->seen[h].n = n;
	w->seen_n++;
	return 0;
}

static int new_node(walk *w, mycel_lineage_node **out)
{
	if (w->out.n == LINEAGE_NODES_MAX)
		return MYCEL_ETOOBIG;
	if (w->out.n == w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 16;
		mycel_lineage_node *nn = realloc(w->out.nodes, nc * sizeof(*nn));
		if (nn == NULL)
			return MYCEL_ENOMEM;
		w->out.nodes = nn;
		w->cap = nc;
	}
	mycel_lineage_node *nd = &w->out.nodes[w->out.n++];
	memset(nd, 0, sizeof(*nd));
	nd->parent = -1;
	nd->via = "";
	*out = nd;
	return 0;
}

/* Fills a product node from its docref. */
static int fill_product(walk *w, mycel_lineage_node *nd, const uint8_t *ref, size_t rn)
{
	mycel__docrec dr;
	nd->kind = MYCEL_DOC_PRODUCT;
	if (!mycel__docref_split(ref, rn, nd->domain, nd->id))
		return MYCEL_ECORRUPT;
	int rv = get_docrec(w->s, w->txn, ref, rn, &dr);
	if (rv == MYCEL_ENOTFOUND || rv == MYCEL_ECORRUPT)
		dr.name_len = 0, rv = 0;
	if (rv != 0)
		return rv;
	nd->name = mycel__strndup(dr.name_len ? dr.name : "", dr.name_len);
	return nd->name != NULL ? 0 : MYCEL_ENOMEM;
}

/* Fills a contract node from its id: resolved, dangling or ambiguous (cat_ids). */
static int fill_contract(walk *w, mycel_lineage_node *nd, const char *cid, size_t cn)
{
	MDB_cursor *c;
	uint8_t k0[MYCEL_ID_MAX + 1];
	char first[MYCEL__DOMAIN_MAX + 1] = "";
	size_t found = 0;
	int rv = 0, rc;
	nd->kind = MYCEL_DOC_CONTRACT;
	copy_cstr(nd->id, sizeof(nd->id), cid, cn);
	memcpy(k0, cid, cn);
	k0[cn] = 0;
	if ((rc = mdb_cursor_open(w->txn, w->s->cat.ids, &c)) != 0)
		return mycel__mdb_err(rc);
	MDB_val k = {cn + 1, k0}, v;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 && rv == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size <= cn + 1 || memcmp(k.mv_data, k0, cn + 1) != 0)
			break;
		const char *dom = (const char *)k.mv_data + cn + 1;
		size_t dn = k.mv_size - cn - 1;
		if (dn > MYCEL__DOMAIN_MAX)
			continue;
		if (found == 0)
			copy_cstr(first, sizeof(first), dom, dn);
		found++;
		/* every candidate, in domain order, for an ambiguous reference */
		char **nc = realloc(nd->candidates, found * sizeof(*nc));
		if (nc == NULL) {
			rv = MYCEL_ENOMEM;
			break;
		}
		nd->candidates = nc;
		if ((nc[found - 1] = malloc(dn + 1 + cn + 1)) == NULL) {
			rv = MYCEL_ENOMEM;
			break;
		}
		nd->n_candidates = found;
		memcpy(nc[found - 1], dom, dn);
		nc[found - 1][dn] = '/';
		memcpy(nc[found - 1] + dn + 1, cid, cn);
		nc[found - 1][dn + 1 + cn] = '\0';
	}
	if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
		rv = mycel__mdb_err(rc);
	mdb_cursor_close(c);
	if (rv != 0)
		return rv;
	if (found == 1) {
		for (size_t j = 0; j < nd->n_candidates; j++)
			free(nd->candidates[j]);
		free(nd->candidates);
		nd->candidates = NULL;
		nd->n_candidates = 0;
		uint8_t ref[MYCEL__DOCREF_MAX];
		size_t rn = ref_of(ref, first, nd->id);
		mycel__docrec dr;
		copy_cstr(nd->domain, sizeof(nd->domain), first, strlen(first));
		if (rn > 0 && get_docrec(w->s, w->txn, ref, rn, &dr) == 0)
			nd->name = mycel__strndup(dr.name, dr.name_len);
		else
			nd->name = mycel__strndup("", 0);
	} else {
		nd->dangling = found == 0;
		nd->ambiguous = found > 1;
		nd->name = mycel__strndup("", 0);
	}
	return nd->name != NULL ? 0 : MYCEL_ENOMEM;
}

/* Expands node index at of key (its node key) at level depth: its edges, depth first. */
static int expand(walk *w, size_t at, const uint8_t *key, size_t kn, int depth)
{
	MDB_cursor *c;
	MDB_val k = {kn, (void *)key}, d;
	int rv = 0, rc;
	if (depth >= w->depth)
		return 0;
	if ((rc = mdb_cursor_open(w->txn, w->dbi, &c)) != 0)
		return mycel__mdb_err(rc);
	for (rc = mdb_cursor_get(c, &k, &d, MDB_SET); rc == 0 && rv == 0;
	     rc = mdb_cursor_get(c, &k, &d, MDB_NEXT_DUP)) {
		const uint8_t *p = d.mv_data;
		size_t n = d.mv_size, tn;
		mycel_lineage_node *nd;
		if (n < 3 || (p[0] != 'i' && p[0] != 'o'))
			continue;
		if (p[1] == 'p') {
			size_t rn = mycel__docref_len(p + 2, n - 2);
			if (rn == 0)
				continue;
			tn = 1 + rn;
		} else if (p[1] == 'c') {
			const uint8_t *z = memchr(p + 2, 0, n - 2);
			if (z == NULL || z == p + 2)
				continue;
			tn = (size_t)(z + 1 - (p + 1));
		} else {
			continue;
		}
		const uint8_t *t = p + 1, *port = p + 1 + tn;
		size_t pn = n - 1 - tn;
		if ((rv = new_node(w, &nd)) != 0)
			break;
		size_t me = w->out.n - 1;
		nd->depth = depth + 1;
		nd->parent = (int)at;
		nd->via = p[0] == 'i' ? "input" : "output";
		copy_cstr(nd->port, sizeof(nd->port), (const char *)port, pn);
		if (t[0] == 'p')
			rv = fill_product(w, nd, t + 1, tn - 1);
		else
			rv = fill_contract(w, nd, (const char *)t + 1, tn - 2);
		bool was = false;
		if (rv == 0)
			rv = seen_add(w, t, tn, &was);
		if (rv != 0)
			break;
		w->out.nodes[me].repeated = was;
		if (!was)
			rv = expand(w, me, t, tn, depth + 1);
	}
	if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
		rv = mycel__mdb_err(rc);
	mdb_cursor_close(c);
	return rv;
}

int mycel_catalog_lineage(mycel_store *s, const char *domain, const char *id, mycel_lineage_dir dir,
			  int depth, mycel_lineage *out)
{
	uint8_t ref[MYCEL__DOCREF_MAX], key[MYCEL__NODE_MAX];
	size_t rn = ref_of(ref, domain, id), kn;
	mycel__docrec dr;
	walk w;
	mycel_lineage_node *nd;
	int rv;

	if (out == NULL || (dir != MYCEL_LINEAGE_UP && dir != MYCEL_LINEAGE_DOWN) || depth < 1 ||
	    depth > 32)
		return MYCEL_EINVAL;
	if (rn == 0 || !s->cat.ready)
		return MYCEL_ENOTFOUND;
	memset(&w, 0, sizeof(w));
	w.s = s;
	w.dbi = dir == MYCEL_LINEAGE_UP ? s->cat.up : s->cat.down;
	w.depth = depth;
	if ((rv = begin_read(s, &w.txn)) != 0)
		return rv;
	if ((rv = get_docrec(s, w.txn, ref, rn, &dr)) != 0 || (rv = new_node(&w, &nd)) != 0)
		goto done;
	nd->kind = dr.kind;
	copy_cstr(nd->domain, sizeof(nd->domain), domain, strlen(domain));
	copy_cstr(nd->id, sizeof(nd->id), id, strlen(id));
	if ((nd->name = mycel__strndup(dr.name, dr.name_len)) == NULL) {
		rv = MYCEL_ENOMEM;
		goto done;
	}
	if (dr.kind == MYCEL_DOC_PRODUCT) {
		key[0] = 'p';
		memcpy(key + 1, ref, rn);
		kn = 1 + rn;
	} else {
		size_t idn = strlen(id);
		key[0] = 'c';
		memcpy(key + 1, id, idn + 1);
		kn = idn + 2;
	}
	bool was;
	if ((rv = seen_add(&w, key, kn, &was)) == 0)
		rv = expand(&w, 0, key, kn, 0);
done:
	mdb_txn_abort(w.txn);
	for (size_t i = 0; i < w.seen_cap; i++)
		free(w.seen[i].k);
	free(w.seen);
	if (rv != 0) {
		mycel_lineage_fini(&w.out);
		return rv;
	}
	*out = w.out;
	return 0;
}
