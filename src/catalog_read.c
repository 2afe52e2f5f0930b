/*
 * catalog_read.c — reading documents from the catalog: get, version lookup
 * and lineage walks, each inside one LMDB read transaction (layout in
 * catalog_int.h).
 */
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"
#include "util.h"

#define LINEAGE_NODES_MAX 100000

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
		mycel__copy_cstr(vs[n].version, sizeof(vs[n].version), (const char *)k.mv_data + rn, vl);
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
	size_t rn = mycel__cat_ref(ref, domain, id);
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
	if ((rv = mycel__cat_begin_read(s, &txn)) != 0)
		return rv;
	if ((rv = mycel__cat_docrec(s, txn, ref, rn, &dr)) != 0)
		goto fail;
	if ((rv = versions_of(s, txn, ref, rn, &d.versions, &d.n_versions)) != 0)
		goto fail;
	if (d.n_versions > 1)
		qsort(d.versions, d.n_versions, sizeof(*d.versions), version_cmp);
	char cv[MYCEL_VERSION_MAX + 1];
	mycel__copy_cstr(cv, sizeof(cv), dr.version, dr.version_len);
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
	/* the shown version is usually the current one: one lookup then */
	if ((rv = read_body(s, txn, &d.versions[d.current], &cb)) != 0)
		goto fail;
	sb = cb;
	if (d.shown != d.current && (rv = read_body(s, txn, &d.versions[d.shown], &sb)) != 0)
		goto fail;
	const char *name, *desc;
	size_t nn, dn;
	if (mycel__body_texts(cb.mv_data, cb.mv_size, &name, &nn, &desc, &dn) != 0)
		nn = dn = 0;
	d.kind = dr.kind;
	mycel__copy_cstr(d.domain, sizeof(d.domain), domain, strlen(domain));
	mycel__copy_cstr(d.id, sizeof(d.id), id, strlen(id));
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
	size_t rn = mycel__cat_ref(ref, domain, id), vn;
	MDB_txn *txn;
	int rv;

	if (version == NULL || out == NULL)
		return MYCEL_EINVAL;
	vn = strnlen(version, MYCEL_VERSION_MAX + 1);
	if (rn == 0 || vn == 0 || vn > MYCEL_VERSION_MAX || !s->cat.ready)
		return MYCEL_ENOTFOUND;
	if ((rv = mycel__cat_begin_read(s, &txn)) != 0)
		return rv;
	memcpy(key, ref, rn);
	memcpy(key + rn, version, vn);
	MDB_val k = {rn + vn, key}, v;
	int rc = mdb_get(txn, s->cat.versions, &k, &v);
	if (rc == 0) {
		mycel_doc_version dv;
		if ((rv = mycel__vrow_decode(v.mv_data, v.mv_size, &dv)) == 0) {
			mycel__copy_cstr(dv.version, sizeof(dv.version), version, vn);
			*out = dv;
		}
	} else if (rc == MDB_NOTFOUND) {
		/* the same precedence under another build suffix is the same version */
		mycel_doc_version *vs;
		size_t n, i;
		if ((rv = versions_of(s, txn, ref, rn, &vs, &n)) == 0) {
			char vb[MYCEL_VERSION_MAX + 1];
			mycel__copy_cstr(vb, sizeof(vb), version, vn);
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
			size_t h = mycel__fnv1a(w->seen[i].k, w->seen[i].n) & (nc - 1);
			while (nt[h].k != NULL)
				h = (h + 1) & (nc - 1);
			nt[h] = w->seen[i];
		}
		free(w->seen);
		w->seen = nt;
		w->seen_cap = nc;
	}
	size_t h = mycel__fnv1a(k, n) & (w->seen_cap - 1);
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
	int rv = mycel__cat_docrec(w->s, w->txn, ref, rn, &dr);
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
	mycel__copy_cstr(nd->id, sizeof(nd->id), cid, cn);
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
			mycel__copy_cstr(first, sizeof(first), dom, dn);
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
		size_t rn = mycel__cat_ref(ref, first, nd->id);
		mycel__docrec dr;
		mycel__copy_cstr(nd->domain, sizeof(nd->domain), first, strlen(first));
		if (rn > 0 && mycel__cat_docrec(w->s, w->txn, ref, rn, &dr) == 0)
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
		mycel__copy_cstr(nd->port, sizeof(nd->port), (const char *)port, pn);
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
	size_t rn = mycel__cat_ref(ref, domain, id), kn;
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
	if ((rv = mycel__cat_begin_read(s, &w.txn)) != 0)
		return rv;
	if ((rv = mycel__cat_docrec(s, w.txn, ref, rn, &dr)) != 0 || (rv = new_node(&w, &nd)) != 0)
		goto done;
	nd->kind = dr.kind;
	mycel__copy_cstr(nd->domain, sizeof(nd->domain), domain, strlen(domain));
	mycel__copy_cstr(nd->id, sizeof(nd->id), id, strlen(id));
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
