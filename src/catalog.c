/*
 * catalog.c — the catalog derived from the feeds: kind and status names,
 * semver, the tokeniser, what a document contributes to the index, the
 * incremental apply hook, reindex and dump. Queries are in catalog_query.c;
 * the table layout is described in catalog_int.h.
 *
 * apply is failure-atomic: everything that can fail without LMDB marking the
 * transaction as failed (reading, decoding, allocating) happens in phase 1,
 * which builds a plan of every change; phase 2 executes the plan and uses no
 * memory of its own. Posting-list changes are not in the plan: they are
 * buffered in s->cat.pend (dropped again if the apply fails) and written by
 * mycel__catalog_flush just before the transaction commits; apply reads no
 * posting list, so nothing needs them earlier.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"
#include "mycel/codec.h"
#include "util.h"

#define FWD_MAX ((size_t)16 << 20)
#define PEND_MAX ((size_t)1 << 30)     /* posting changes buffered in one transaction */
#define PEND_KEEP ((size_t)8 << 20)    /* kept allocated between transactions */
#define PEND_FLUSH ((size_t)32 << 20)  /* a rebuild flushes whenever this much is buffered */

/* ---- names ------------------------------------------------------------------------------ */

const char *mycel_doc_kind_name(mycel_doc_kind k)
{
	switch (k) {
	case MYCEL_DOC_CONTRACT:
		return "contract";
	case MYCEL_DOC_PRODUCT:
		return "product";
	}
	return "unknown";
}

const char *mycel_doc_status_name(mycel_doc_status s)
{
	switch (s) {
	case MYCEL_STATUS_ACTIVE:
		return "active";
	case MYCEL_STATUS_DEPRECATED:
		return "deprecated";
	case MYCEL_STATUS_RETIRED:
		return "retired";
	}
	return "unknown";
}

char *mycel__strndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p == NULL)
		return NULL;
	if (n > 0)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* ---- semver (semver.org 2.0.0) ----------------------------------------------------------- */

typedef struct semver {
	const char *core[3];
	size_t core_len[3];
	const char *pre; /* without the '-'; NULL if none */
	size_t pre_len;
} semver;

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_ident_char(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

/* Dot-separated non-empty identifiers from *p; numeric ones without leading zeros if strict. */
static bool parse_idents(const char **p, const char *end, bool strict)
{
	for (;;) {
		const char *s = *p;
		bool numeric = true;
		while (*p < end && is_ident_char(**p)) {
			numeric = numeric && is_digit(**p);
			(*p)++;
		}
		size_t n = (size_t)(*p - s);
		if (n == 0 || (strict && numeric && n > 1 && s[0] == '0'))
			return false;
		if (*p < end && **p == '.') {
			(*p)++;
			continue;
		}
		return true;
	}
}

static bool semver_parse(const char *v, semver *out)
{
	if (v == NULL)
		return false;
	size_t len = strnlen(v, MYCEL_VERSION_MAX + 1);
	if (len == 0 || len > MYCEL_VERSION_MAX)
		return false;
	const char *p = v, *end = v + len;
	for (int i = 0; i < 3; i++) {
		const char *s = p;
		while (p < end && is_digit(*p))
			p++;
		size_t n = (size_t)(p - s);
		if (n == 0 || (n > 1 && s[0] == '0'))
			return false;
		out->core[i] = s;
		out->core_len[i] = n;
		if (i < 2) {
			if (p >= end || *p != '.')
				return false;
			p++;
		}
	}
	out->pre = NULL;
	out->pre_len = 0;
	if (p < end && *p == '-') {
		const char *s = ++p;
		if (!parse_idents(&p, end, true))
			return false;
		out->pre = s;
		out->pre_len = (size_t)(p - s);
	}
	if (p < end && *p == '+') {
		p++;
		if (!parse_idents(&p, end, false))
			return false;
	}
	return p == end;
}

bool mycel_semver_valid(const char *v)
{
	semver sv;
	return semver_parse(v, &sv);
}

/* Numbers without leading zeros: the longer is larger, else bytewise. */
static int num_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return an < bn ? -1 : 1;
	int c = memcmp(a, b, an);
	return (c > 0) - (c < 0);
}

int mycel__bytes_cmp(const void *a, size_t an, const void *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	if (c != 0)
		return c < 0 ? -1 : 1;
	return (an > bn) - (an < bn);
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

int mycel_semver_cmp(const char *a, const char *b)
{
	semver x, y;
	if (!semver_parse(a, &x) || !semver_parse(b, &y)) {
		/* outside the contract; still a total, deterministic order */
		int c = strcmp(a ? a : "", b ? b : "");
		return (c > 0) - (c < 0);
	}
	for (int i = 0; i < 3; i++) {
		int c = num_cmp(x.core[i], x.core_len[i], y.core[i], y.core_len[i]);
		if (c != 0)
			return c;
	}
	if (x.pre == NULL || y.pre == NULL)
		return (x.pre == NULL) - (y.pre == NULL); /* a pre-release ranks below its release */
	const char *p = x.pre, *pe = x.pre + x.pre_len, *q = y.pre, *qe = y.pre + y.pre_len;
	for (;;) {
		if (p >= pe || q >= qe)
			return (p < pe) - (q < qe); /* the longer set of identifiers ranks higher */
		const char *ps = p, *qs = q;
		while (p < pe && *p != '.')
			p++;
		while (q < qe && *q != '.')
			q++;
		size_t pn = (size_t)(p - ps), qn = (size_t)(q - qs);
		bool pd = all_digits(ps, pn), qd = all_digits(qs, qn);
		int c;
		if (pd && qd)
			c = num_cmp(ps, pn, qs, qn);
		else if (pd != qd)
			c = pd ? -1 : 1; /* numeric identifiers rank below alphanumeric ones */
		else
			c = mycel__bytes_cmp(ps, pn, qs, qn);
		if (c != 0)
			return c;
		if (p < pe)
			p++;
		if (q < qe)
			q++;
	}
}

/* ---- references, tokens, facet keys ------------------------------------------------------- */

size_t mycel__docref(uint8_t out[MYCEL__DOCREF_MAX], const char *domain, size_t domain_len,
		     const char *id, size_t id_len)
{
	if (domain_len == 0 || domain_len > MYCEL__DOMAIN_MAX || id_len == 0 || id_len > MYCEL_ID_MAX ||
	    memchr(domain, 0, domain_len) != NULL || memchr(id, 0, id_len) != NULL)
		return 0;
	memcpy(out, domain, domain_len);
	out[domain_len] = 0;
	memcpy(out + domain_len + 1, id, id_len);
	out[domain_len + 1 + id_len] = 0;
	return domain_len + id_len + 2;
}

size_t mycel__docref_len(const uint8_t *p, size_t n)
{
	const uint8_t *z = memchr(p, 0, n);
	if (z == NULL || z == p)
		return 0;
	size_t rest = n - (size_t)(z + 1 - p);
	const uint8_t *z2 = memchr(z + 1, 0, rest);
	if (z2 == NULL || z2 == z + 1)
		return 0;
	return (size_t)(z2 + 1 - p);
}

bool mycel__docref_split(const uint8_t *p, size_t n, char domain[MYCEL__DOMAIN_MAX + 1],
			 char id[MYCEL_ID_MAX + 1])
{
	size_t len = mycel__docref_len(p, n);
	if (len == 0)
		return false;
	size_t dn = strlen((const char *)p);
	size_t in = len - dn - 2;
	if (dn > MYCEL__DOMAIN_MAX || in > MYCEL_ID_MAX)
		return false;
	memcpy(domain, p, dn + 1);
	memcpy(id, p + dn + 1, in + 1);
	return true;
}

int mycel__docrec_decode(const void *p, size_t n, mycel__docrec *out)
{
	mycel_rd r;
	uint32_t cnt;
	uint64_t kind, status, denied;
	mycel_rd_init(&r, p, n);
	if (mycel_rd_array(&r, &cnt) != 0 || cnt != 6 || mycel_rd_uint(&r, &kind) != 0 ||
	    mycel_rd_uint(&r, &status) != 0 || mycel_rd_str(&r, &out->version, &out->version_len) != 0 ||
	    mycel_rd_str(&r, &out->name, &out->name_len) != 0 ||
	    mycel_rd_str(&r, &out->snippet, &out->snippet_len) != 0 ||
	    mycel_rd_uint(&r, &denied) != 0 || denied > 255 || mycel_rd_end(&r) != 0 ||
	    (kind != MYCEL_DOC_CONTRACT && kind != MYCEL_DOC_PRODUCT) || status > MYCEL_STATUS_RETIRED ||
	    out->version_len > MYCEL_VERSION_MAX)
		return MYCEL_ECORRUPT;
	out->kind = (mycel_doc_kind)kind;
	out->status = (mycel_doc_status)status;
	out->denied = (unsigned)denied;
	return 0;
}

#define VROW_DENIED (MYCEL__VROW_LEN - 2)
#define VROW_WARNED (MYCEL__VROW_LEN - 1)

static void vrow_encode(uint8_t out[MYCEL__VROW_LEN], mycel_doc_status status,
			const mycel_entry *e, unsigned denied, unsigned warned)
{
	out[0] = (uint8_t)status;
	memcpy(out + 1, e->h.feed, MYCEL_PK_LEN);
	mycel__be64(out + 1 + MYCEL_PK_LEN, e->h.seq);
	mycel__be64(out + 9 + MYCEL_PK_LEN, e->h.ts_ms);
	memcpy(out + 17 + MYCEL_PK_LEN, e->h.body_hash, MYCEL_HASH_LEN);
	out[VROW_DENIED] = (uint8_t)(denied > 255 ? 255 : denied);
	out[VROW_WARNED] = (uint8_t)(warned > 255 ? 255 : warned);
}

int mycel__vrow_decode(const void *p, size_t n, mycel_doc_version *out)
{
	const uint8_t *b = p;
	if (n != MYCEL__VROW_LEN || b[0] > MYCEL_STATUS_RETIRED)
		return MYCEL_ECORRUPT;
	out->status = (mycel_doc_status)b[0];
	memcpy(out->feed, b + 1, MYCEL_PK_LEN);
	out->seq = mycel__get_be64(b + 1 + MYCEL_PK_LEN);
	out->ts_ms = mycel__get_be64(b + 9 + MYCEL_PK_LEN);
	memcpy(out->body_hash, b + 17 + MYCEL_PK_LEN, MYCEL_HASH_LEN);
	out->denied = b[VROW_DENIED];
	out->warned = b[VROW_WARNED];
	return 0;
}

/* Plans a put, or a delete (a missing row on delete is tolerated: a damaged catalog heals). */
static void plan_row(mycel__plan *pl, bool add, MDB_dbi dbi, const void *k, size_t kn, const void *d,
		     size_t dn)
{
	mycel__plan_add(pl, add ? 'P' : 'D', dbi, k, kn, d, dn);
}

typedef struct wctx {
	mycel_store *s;
	MDB_txn *txn;
	mycel__plan *plan;
	const uint8_t *ref;
	size_t rn;
} wctx;

static int term_row(const wctx *w, const uint8_t *t, size_t tn, uint8_t bits, bool add)
{
	mycel__pend_add(&w->s->cat.pend, w->s->cat.terms, t, tn, w->ref, w->rn, bits, !add);
	return w->s->cat.pend.err;
}

static int facet_row(const wctx *w, const uint8_t *f, size_t fn, uint8_t bits, bool add)
{
	(void)bits;
	mycel__pend_add(&w->s->cat.pend, w->s->cat.facets, f, fn, w->ref, w->rn, 0, !add);
	return w->s->cat.pend.err;
}

/* An edge via ‖ cid ‖ 0 ‖ port of product ref: its row in cat_up and its row in cat_down. */
static int edge_rows(const wctx *w, const uint8_t *e, size_t en, uint8_t bits, bool add)
{
	(void)bits;
	const uint8_t *z = en > 2 ? memchr(e + 1, 0, en - 1) : NULL;
	if (z == NULL)
		return 0;
	size_t cn = (size_t)(z - (e + 1)); /* contract id length */
	size_t pn = en - cn - 2;           /* port name length */
	uint8_t pnode[MYCEL__NODE_MAX], cnode[1 + MYCEL_ID_MAX + 1];
	uint8_t pdata[1 + sizeof(cnode) + MYCEL__PORT_MAX], cdata[1 + sizeof(pnode) + MYCEL__PORT_MAX];
	size_t pnn = 1 + w->rn, cnn = 2 + cn;
	pnode[0] = 'p';
	memcpy(pnode + 1, w->ref, w->rn);
	cnode[0] = 'c';
	memcpy(cnode + 1, e + 1, cn + 1);
	/* product side: via ‖ contract node ‖ port; contract side: via ‖ product node ‖ port */
	pdata[0] = cdata[0] = e[0];
	memcpy(pdata + 1, cnode, cnn);
	memcpy(pdata + 1 + cnn, z + 1, pn);
	memcpy(cdata + 1, pnode, pnn);
	memcpy(cdata + 1 + pnn, z + 1, pn);
	/* input: contract -> product (product's up, contract's down); output: the reverse */
	MDB_dbi pdb = e[0] == 'i' ? w->s->cat.up : w->s->cat.down;
	MDB_dbi cdb = e[0] == 'i' ? w->s->cat.down : w->s->cat.up;
	plan_row(w->plan, add, pdb, pnode, pnn, pdata, 1 + cnn + pn);
	plan_row(w->plan, add, cdb, cnode, cnn, cdata, 1 + pnn + pn);
	return 0;
}

typedef int (*row_fn)(const wctx *w, const uint8_t *p, size_t n, uint8_t bits, bool add);

/* Merges two sorted lists: rows only in the old one go, rows only in the new one come, rows in both with other bits change. */
static int diff_list(const wctx *w, mycel__flist *o, mycel__flist *n, row_fn fn)
{
	const uint8_t *op = NULL, *np = NULL;
	size_t on = 0, nn = 0;
	uint8_t ob = 0, nb = 0;
	bool ho = mycel__fwd_next(o, &op, &on, &ob), hn = mycel__fwd_next(n, &np, &nn, &nb);
	int rv = 0;
	while (rv == 0 && (ho || hn)) {
		int c = !ho ? 1 : !hn ? -1 : mycel__bytes_cmp(op, on, np, nn);
		if (c < 0) {
			rv = fn(w, op, on, ob, false);
			ho = mycel__fwd_next(o, &op, &on, &ob);
		} else if (c > 0) {
			rv = fn(w, np, nn, nb, true);
			hn = mycel__fwd_next(n, &np, &nn, &nb);
		} else {
			/* other bits: one change (an update) */
			if (ob != nb)
				rv = fn(w, np, nn, nb, true);
			ho = mycel__fwd_next(o, &op, &on, &ob);
			hn = mycel__fwd_next(n, &np, &nn, &nb);
		}
	}
	return rv;
}

/* ---- apply ---------------------------------------------------------------------------------- */

typedef struct vent {
	char v[MYCEL_VERSION_MAX + 1];
	uint8_t row[MYCEL__VROW_LEN];
} vent;

/* Every version row of ref, in key order (copied: the caller writes later). */
static int read_versions(mycel_store *s, MDB_txn *txn, const uint8_t *ref, size_t rn, vent **out,
			 size_t *out_n)
{
	MDB_cursor *cur;
	MDB_val k = {rn, (void *)ref}, v;
	vent *vs = NULL;
	size_t n = 0, cap = 0;
	int rv = 0, rc = mdb_cursor_open(txn, s->cat.versions, &cur);
	if (rc != 0)
		return mycel__mdb_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size <= rn || memcmp(k.mv_data, ref, rn) != 0)
			break;
		size_t vl = k.mv_size - rn;
		if (vl > MYCEL_VERSION_MAX || v.mv_size != MYCEL__VROW_LEN)
			continue; /* damaged: ignored */
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			vent *nv = realloc(vs, nc * sizeof(*nv));
			if (nv == NULL) {
				rv = MYCEL_ENOMEM;
				break;
			}
			vs = nv;
			cap = nc;
		}
		memcpy(vs[n].v, (const uint8_t *)k.mv_data + rn, vl);
		vs[n].v[vl] = '\0';
		memcpy(vs[n].row, v.mv_data, MYCEL__VROW_LEN);
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

/* The highest version not retired, else the highest. */
static size_t pick_current(const vent *vs, size_t n)
{
	size_t best = SIZE_MAX, top = 0;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && mycel_semver_cmp(vs[i].v, vs[top].v) > 0)
			top = i;
		if (vs[i].row[0] != MYCEL_STATUS_RETIRED &&
		    (best == SIZE_MAX || mycel_semver_cmp(vs[i].v, vs[best].v) > 0))
			best = i;
	}
	return best != SIZE_MAX ? best : top;
}

static mycel_doc_kind const_kind(const char *k, size_t n)
{
	if (n == 8 && memcmp(k, "contract", 8) == 0)
		return MYCEL_DOC_CONTRACT;
	if (n == 7 && memcmp(k, "product", 7) == 0)
		return MYCEL_DOC_PRODUCT;
	return 0;
}

static mycel_doc_kind kind_of(const char *k)
{
	return const_kind(k, strlen(k));
}

typedef struct change {
	bool publish;          /* a new version; else a lifecycle status change */
	char version[MYCEL_VERSION_MAX + 1];
	mycel_doc_status status; /* lifecycle: the new status */
	const mycel_entry *e;
	const uint8_t *body;
	size_t body_len;
} change;

/*
 * The charter's verdict on a version being applied: how many deny and warn policies it
 * violates, evaluated as on every node (mycel/policy.h): previous is the highest version
 * below it among vs (the versions its feed published before it), now its entry's ts_ms.
 * With no policy both are 0; policies that do not compile deny everything (fail closed).
 */
static int verdict(mycel_store *s, MDB_txn *txn, const char *domain, mycel_doc_kind kind,
		   const change *ch, const vent *vs, size_t nv, unsigned *denied, unsigned *warned)
{
	const mycel_policies *pol;
	*denied = *warned = 0;
	int prv = mycel__store_policies(s, &pol);
	if (prv != 0) {
		*denied = 1;
		return 0;
	}
	if (mycel_policies_count(pol) == 0)
		return 0;
	size_t prev = SIZE_MAX;
	bool want_prev = mycel_policies_use_previous(pol, kind); /* else never read */
	for (size_t i = 0; i < nv && want_prev; i++)
		if (mycel_semver_cmp(vs[i].v, ch->version) < 0 &&
		    (prev == SIZE_MAX || mycel_semver_cmp(vs[i].v, vs[prev].v) > 0))
			prev = i;
	mycel_arena *a = NULL;
	mycel_value *doc = NULL, *pdoc = NULL;
	int rv = mycel_arena_new(4 * (size_t)MYCEL_BODY_MAX, &a);
	if (rv != 0)
		return rv;
	if (mycel_value_decode(ch->body, ch->body_len, MYCEL_BODY_MAX, a, &doc, NULL) != 0) {
		*denied = 1; /* cannot happen for a checked body; fail closed */
		goto done;
	}
	if (prev != SIZE_MAX) {
		uint8_t fs[MYCEL__FEEDSEQ_LEN];
		mycel__feedseq(fs, vs[prev].row + 1, mycel__get_be64(vs[prev].row + 1 + MYCEL_PK_LEN));
		MDB_val bk = {sizeof(fs), fs}, bv;
		int rc = mdb_get(txn, s->bodies, &bk, &bv);
		if (rc != 0 && rc != MDB_NOTFOUND) {
			rv = mycel__mdb_err(rc);
			goto done;
		}
		if (rc == 0 &&
		    mycel_value_decode(bv.mv_data, bv.mv_size, MYCEL_BODY_MAX, a, &pdoc, NULL) != 0)
			pdoc = NULL;
	}
	mycel_policy_input in = {kind, doc, pdoc, domain, (int64_t)ch->e->h.ts_ms};
	mycel_policy_report r;
	if (ch->e->h.ts_ms > (uint64_t)INT64_MAX / 1000000) {
		*denied = 1;
		goto done;
	}
	if ((rv = mycel_policies_eval(pol, &in, &r)) != 0)
		goto done;
	*denied = (unsigned)r.denied;
	*warned = (unsigned)r.warned;
	mycel_policy_report_fini(&r);
done:
	mycel_arena_free(a);
	return rv;
}

/* Copies an MDB value (the caller frees). */
static int copy_val(const MDB_val *v, uint8_t **out)
{
	*out = malloc(v->mv_size ? v->mv_size : 1);
	if (*out == NULL)
		return MYCEL_ENOMEM;
	memcpy(*out, v->mv_data, v->mv_size);
	return 0;
}

/*
 * Applies a change to document (domain, id): phase 1 reads and computes
 * everything (the version rows, the new current version, its forward image
 * and cat_docs record), phase 2 only writes.
 */
static int doc_change(mycel_store *s, MDB_txn *txn, const char *domain, const char *id,
		      size_t id_len, mycel_doc_kind kind, const change *ch)
{
	uint8_t ref[MYCEL__DOCREF_MAX];
	size_t rn = mycel__docref(ref, domain, strlen(domain), id, id_len);
	vent *vs = NULL;
	size_t nv = 0, target = SIZE_MAX;
	uint8_t *oldfwd = NULL;
	size_t oldfwd_n = 0;
	mycel_buf docv, fwdv;
	mycel__plan plan;
	int rc, rv = 0;
	bool exists = false, rebuild = false;
	char oldver[MYCEL_VERSION_MAX + 1] = "";
	mycel_doc_status oldstatus = MYCEL_STATUS_ACTIVE;
	size_t mark = s->cat.pend.len; /* posting changes buffered before this one */

	if (rn == 0)
		return 0;
	mycel_buf_init(&docv, MYCEL_BODY_MAX);
	mycel_buf_init(&fwdv, FWD_MAX);
	mycel__plan_init(&plan);

	/* ---- phase 1 */
	MDB_val k = {rn, ref}, v;
	rc = mdb_get(txn, s->cat.docs, &k, &v);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		rv = mycel__mdb_err(rc);
		goto done;
	}
	if (rc == 0) {
		mycel__docrec old;
		exists = true;
		if (mycel__docrec_decode(v.mv_data, v.mv_size, &old) == 0) {
			if (old.kind != kind)
				goto done; /* (domain, id) belongs to a document of the other kind */
			memcpy(oldver, old.version, old.version_len);
			oldver[old.version_len] = '\0';
			oldstatus = old.status;
		} else {
			rebuild = true;
		}
	} else if (!ch->publish) {
		goto done;
	}
	if ((rv = read_versions(s, txn, ref, rn, &vs, &nv)) != 0)
		goto done;
	if (ch->publish) {
		for (size_t i = 0; i < nv; i++)
			if (mycel_semver_cmp(vs[i].v, ch->version) == 0)
				goto done; /* published before (same precedence): immutable, first wins */
		vent *nvs = realloc(vs, (nv + 1) * sizeof(*nvs));
		if (nvs == NULL) {
			rv = MYCEL_ENOMEM;
			goto done;
		}
		vs = nvs;
		unsigned denied, warned;
		if ((rv = verdict(s, txn, domain, kind, ch, vs, nv, &denied, &warned)) != 0)
			goto done;
		memcpy(vs[nv].v, ch->version, sizeof(vs[nv].v));
		vrow_encode(vs[nv].row, MYCEL_STATUS_ACTIVE, ch->e, denied, warned);
		target = nv++;
	} else {
		for (size_t i = 0; i < nv && target == SIZE_MAX; i++)
			if (strcmp(vs[i].v, ch->version) == 0)
				target = i;
		for (size_t i = 0; i < nv && target == SIZE_MAX; i++)
			if (mycel_semver_cmp(vs[i].v, ch->version) == 0)
				target = i;
		/* statuses only move forward: active -> deprecated -> retired */
		if (target == SIZE_MAX || vs[target].row[0] >= (uint8_t)ch->status)
			goto done;
		vs[target].row[0] = (uint8_t)ch->status;
	}
	size_t cur = pick_current(vs, nv);
	mycel_doc_status cur_status = (mycel_doc_status)vs[cur].row[0];
	if (!exists || strcmp(oldver, vs[cur].v) != 0 || oldstatus != cur_status)
		rebuild = true;
	if (rebuild) {
		/* the current version's body (an empty map if it is missing) */
		const uint8_t *body = (const uint8_t *)"\x80";
		size_t body_len = 1;
		if (ch->publish && cur == target) {
			body = ch->body;
			body_len = ch->body_len;
		} else {
			uint8_t fs[MYCEL__FEEDSEQ_LEN];
			mycel__feedseq(fs, vs[cur].row + 1, mycel__get_be64(vs[cur].row + 1 + MYCEL_PK_LEN));
			MDB_val bk = {sizeof(fs), fs}, bv;
			rc = mdb_get(txn, s->bodies, &bk, &bv);
			if (rc == 0) {
				body = bv.mv_data;
				body_len = bv.mv_size;
			} else if (rc != MDB_NOTFOUND) {
				rv = mycel__mdb_err(rc);
				goto done;
			}
		}
		if ((rv = mycel__index_document(body, body_len, kind, domain, id, id_len, cur_status,
						 vs[cur].v, vs[cur].row[VROW_DENIED], &fwdv,
						 &docv)) != 0)
			goto done;
		rc = mdb_get(txn, s->cat.fwd, &k, &v);
		if (rc == 0 && (rv = copy_val(&v, &oldfwd)) == 0)
			oldfwd_n = v.mv_size;
		else if (rc != 0 && rc != MDB_NOTFOUND)
			rv = mycel__mdb_err(rc);
		if (rv != 0)
			goto done;
	}

	/* the changes, planned (reads only) */
	uint8_t vk[MYCEL__DOCREF_MAX + MYCEL_VERSION_MAX];
	size_t vn = strlen(vs[target].v);
	memcpy(vk, ref, rn);
	memcpy(vk + rn, vs[target].v, vn);
	mycel__plan_add(&plan, 'P', s->cat.versions, vk, rn + vn, vs[target].row, MYCEL__VROW_LEN);
	if (rebuild) {
		wctx w = {s, txn, &plan, ref, rn};
		mycel__flist ol[3], nl[3];
		mycel__fwd_open(oldfwd, oldfwd_n, ol);
		mycel__fwd_open(fwdv.data, fwdv.len, nl);
		if ((rv = diff_list(&w, &ol[MYCEL__FWD_TERMS], &nl[MYCEL__FWD_TERMS], term_row)) != 0 ||
		    (rv = diff_list(&w, &ol[MYCEL__FWD_FACETS], &nl[MYCEL__FWD_FACETS], facet_row)) != 0 ||
		    (rv = diff_list(&w, &ol[MYCEL__FWD_EDGES], &nl[MYCEL__FWD_EDGES], edge_rows)) != 0)
			goto done;
		mycel__plan_add(&plan, 'P', s->cat.docs, ref, rn, docv.data, docv.len);
		mycel__plan_add(&plan, 'P', s->cat.fwd, ref, rn, fwdv.data, fwdv.len);
		if (kind == MYCEL_DOC_CONTRACT && !exists) {
			uint8_t ik[MYCEL_ID_MAX + 1 + MYCEL__DOMAIN_MAX];
			size_t dn = strlen(domain);
			memcpy(ik, id, id_len);
			ik[id_len] = 0;
			memcpy(ik + id_len + 1, domain, dn);
			mycel__plan_add(&plan, 'P', s->cat.ids, ik, id_len + 1 + dn, "", 0);
		}
	}

	/* ---- phase 2: writes only */
	rv = mycel__plan_exec(txn, &plan);
done:
	if (rv != 0) {
		/* none of this change's postings will be written */
		s->cat.pend.len = mark;
		s->cat.pend.err = 0;
	}
	mycel__plan_fini(&plan);
	mycel_buf_fini(&docv);
	mycel_buf_fini(&fwdv);
	free(oldfwd);
	free(vs);
	return rv;
}

static bool copy_version(const char *s, size_t n, char out[MYCEL_VERSION_MAX + 1])
{
	if (n == 0 || n > MYCEL_VERSION_MAX || memchr(s, 0, n) != NULL)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return mycel_semver_valid(out);
}

int mycel__catalog_apply(mycel_store *s, MDB_txn *txn, const mycel_entry *e, const uint8_t *body,
			 size_t body_len, const char *domain)
{
	change ch;
	const char *id, *ver, *str;
	size_t idn, vern, strn;
	mycel_doc_kind kind;

	if (!s->cat.ready || !mycel__body_is_map(body, body_len))
		return 0;
	if (strcmp(e->h.kind, "transfer") == 0)
		return mycel__transfer_apply(s, txn, e, body, body_len, domain);
	memset(&ch, 0, sizeof(ch));
	ch.e = e;
	ch.body = body;
	ch.body_len = body_len;
	if (strcmp(e->h.kind, "lifecycle") == 0) {
		if (!mycel__body_str(body, body_len, "kind", &str, &strn) || (kind = const_kind(str, strn)) == 0 ||
		    !mycel__body_str(body, body_len, "status", &str, &strn))
			return 0;
		if (strn == 10 && memcmp(str, "deprecated", 10) == 0)
			ch.status = MYCEL_STATUS_DEPRECATED;
		else if (strn == 7 && memcmp(str, "retired", 7) == 0)
			ch.status = MYCEL_STATUS_RETIRED;
		else
			return 0;
	} else if ((kind = kind_of(e->h.kind)) != 0) {
		ch.publish = true;
	} else {
		return 0;
	}
	if (!mycel__body_str(body, body_len, "id", &id, &idn) || !mycel__body_str(body, body_len, "version", &ver, &vern) ||
	    !copy_version(ver, vern, ch.version))
		return 0;
	return doc_change(s, txn, domain, id, idn, kind, &ch);
}

int mycel__catalog_flush(mycel_store *s, MDB_txn *txn)
{
	int rv = mycel__pend_flush(txn, &s->cat.pend);
	mycel__catalog_discard(s);
	return rv;
}

void mycel__catalog_discard(mycel_store *s)
{
	if (s->cat.pend.cap > PEND_KEEP)
		mycel_buf_fini(&s->cat.pend); /* a reindex's worth: given back */
	else
		mycel_buf_reset(&s->cat.pend);
}

/* ---- read helpers (catalog_query.c, catalog_read.c) ---------------------------------------- */

int mycel__cat_begin_read(mycel_store *s, MDB_txn **txn)
{
	return mycel__mdb_err(mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn));
}

size_t mycel__cat_ref(uint8_t ref[MYCEL__DOCREF_MAX], const char *domain, const char *id)
{
	if (domain == NULL || id == NULL)
		return 0;
	return mycel__docref(ref, domain, strnlen(domain, MYCEL__DOMAIN_MAX + 1), id,
			     strnlen(id, MYCEL_ID_MAX + 1));
}

int mycel__cat_docrec(mycel_store *s, MDB_txn *txn, const uint8_t *ref, size_t rn,
		      mycel__docrec *out)
{
	MDB_val k = {rn, (void *)ref}, v;
	int rc = mdb_get(txn, s->cat.docs, &k, &v);
	if (rc != 0)
		return mycel__mdb_err(rc);
	return mycel__docrec_decode(v.mv_data, v.mv_size, out);
}

void mycel__copy_cstr(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	if (n > 0)
		memcpy(dst, s, n);
	dst[n] = '\0';
}

uint32_t mycel__fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* ---- open, reindex, dump ------------------------------------------------------------------ */

typedef struct table {
	const char *name;
	size_t off; /* of its MDB_dbi in struct mycel__catalog_dbs */
	unsigned flags;
} table;

#define T(n, f, fl) {n, offsetof(struct mycel__catalog_dbs, f), fl}
static const table tables[] = {
    T("cat_meta", meta, 0),
    T("cat_docs", docs, 0),
    T("cat_versions", versions, 0),
    T("cat_fwd", fwd, 0),
    T("cat_terms", terms, 0),
    T("cat_facets", facets, 0),
    T("cat_ids", ids, 0),
    T("cat_up", up, MDB_DUPSORT),
    T("cat_down", down, MDB_DUPSORT),
    T("cat_xfer", xfer, 0),
};
#undef T
#define N_TABLES (sizeof(tables) / sizeof(tables[0]))

static MDB_dbi *dbi_of(mycel_store *s, size_t i)
{
	return (MDB_dbi *)((char *)&s->cat + tables[i].off);
}

/*
 * Empties every derived table and replays every entry that charter ch admits (a compromised
 * feed's up to its cut, under its successor's domain), feed after feed.
 */
static int rebuild(mycel_store *s, MDB_txn *txn, const mycel_charter *ch)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, rv = 0;
	for (size_t i = 0; i < N_TABLES; i++)
		if ((rc = mdb_drop(txn, *dbi_of(s, i), 0)) != 0)
			return mycel__mdb_err(rc);
	if ((rc = mdb_cursor_open(txn, s->entries, &cur)) != 0)
		return mycel__mdb_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		mycel_entry e;
		MDB_val bv;
		if (mycel_entry_decode(v.mv_data, v.mv_size, &e) != 0)
			continue;
		const mycel_charter_domain *dom = NULL;
		if (ch == NULL || mycel_charter_admits(ch, e.h.feed, e.h.seq, &dom) != 0)
			continue;
		if (kind_of(e.h.kind) == 0 && strcmp(e.h.kind, "lifecycle") != 0 &&
		    strcmp(e.h.kind, "transfer") != 0)

			continue;
		if (mdb_get(txn, s->bodies, &k, &bv) != 0 ||
		    mycel_entry_check_body(&e, bv.mv_data, bv.mv_size) != 0)
			continue; /* damage is for mycel verify to report; it enters no catalog */
		if ((rv = mycel__catalog_apply(s, txn, &e, bv.mv_data, bv.mv_size, dom->name)) != 0)
			break;
		if (s->cat.pend.len >= PEND_FLUSH && (rv = mycel__catalog_flush(s, txn)) != 0)
			break;
	}
	if (rv == 0 && rc != 0 && rc != MDB_NOTFOUND)
		rv = mycel__mdb_err(rc);
	mdb_cursor_close(cur);
	if (rv == 0)
		rv = mycel__catalog_flush(s, txn);
	else
		mycel__catalog_discard(s);
	if (rv == 0) {
		MDB_val fk = {6, (void *)"format"}, fv = {1, (void *)MYCEL__CAT_FORMAT};
		rv = mycel__mdb_err(mdb_put(txn, s->cat.meta, &fk, &fv, 0));
	}
	return rv;
}

int mycel__catalog_open(mycel_store *s, MDB_txn *txn, bool ro, char *why, size_t why_len)
{
	MDB_val k = {6, (void *)"format"}, v;
	int rc;
	s->cat.ready = false;
	s->cat.has_xfer = true;
	mycel_buf_fini(&s->cat.pend);
	mycel_buf_init(&s->cat.pend, PEND_MAX);
	for (size_t i = 0; i < N_TABLES; i++) {
		rc = mdb_dbi_open(txn, tables[i].name, tables[i].flags | (ro ? 0 : MDB_CREATE),
				  dbi_of(s, i));
		if (rc == MDB_NOTFOUND && ro && dbi_of(s, i) == &s->cat.xfer) {
			s->cat.has_xfer = false; /* made before transfers: read without them */
			continue;
		}
		if (rc == MDB_NOTFOUND && ro)
			return 0; /* a store from before the catalog: readable, without one */
		if (rc != 0)
			return mycel__fail(mycel__mdb_err(rc), why, why_len, "%s: %s", tables[i].name,
					   mdb_strerror(rc));
	}
	s->cat.ready = true;
	rc = mdb_get(txn, s->cat.meta, &k, &v);
	bool current = rc == 0 && v.mv_size == 1 && memcmp(v.mv_data, MYCEL__CAT_FORMAT, 1) == 0;
	for (size_t i = 0; i < N_TABLES && current && s->cat.has_xfer; i++) {
		unsigned fl = 0;
		current = mdb_dbi_flags(txn, *dbi_of(s, i), &fl) == 0 &&
			  (fl & MDB_DUPSORT) == (tables[i].flags & MDB_DUPSORT);
	}
	if (ro || current)
		return 0;
	/* missing, of another format, or laid out otherwise: made again, then rebuilt */
	for (size_t i = 0; i < N_TABLES; i++) {
		if ((rc = mdb_drop(txn, *dbi_of(s, i), 1)) != 0 ||
		    (rc = mdb_dbi_open(txn, tables[i].name, tables[i].flags | MDB_CREATE, dbi_of(s, i))) != 0)
			return mycel__fail(mycel__mdb_err(rc), why, why_len, "%s: %s", tables[i].name,
					   mdb_strerror(rc));
	}
	int rv = rebuild(s, txn, s->charter);
	if (rv != 0)
		return mycel__fail(rv, why, why_len, "building the catalog: %s", mycel_strerror(rv));
	return 0;
}

int mycel__catalog_rebuild(mycel_store *s, MDB_txn *txn, const mycel_charter *ch)
{
	return rebuild(s, txn, ch);

}

int mycel_store_reindex(mycel_store *s)
{
	MDB_txn *txn;
	int rc, rv;
	if (!s->cat.ready)
		return MYCEL_EPERM; /* a read-only store without catalog tables */
	pthread_mutex_lock(&s->lock);
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0) {
		pthread_mutex_unlock(&s->lock);
		return mycel__mdb_err(rc);
	}
	rv = rebuild(s, txn, s->charter);
	if (rv == 0)
		rv = mycel__mdb_err(mdb_txn_commit(txn));
	else
		mdb_txn_abort(txn);
	pthread_mutex_unlock(&s->lock);
	return rv;
}

int mycel_catalog_dump(mycel_store *s, mycel_dump_fn fn, void *ctx)
{
	MDB_txn *txn;
	int rv = 0, rc;
	if (!s->cat.ready)
		return 0;
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
		return mycel__mdb_err(rc);
	for (size_t i = 0; i < N_TABLES && rv == 0; i++) {
		MDB_cursor *cur;
		MDB_val k, v;
		if (dbi_of(s, i) == &s->cat.xfer && !s->cat.has_xfer)
			continue;
		if ((rc = mdb_cursor_open(txn, *dbi_of(s, i), &cur)) != 0) {
			rv = mycel__mdb_err(rc);
			break;
		}
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && rv == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
			rv = fn(ctx, tables[i].name, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
		if (rv == 0 && rc != MDB_NOTFOUND)
			rv = mycel__mdb_err(rc);
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	return rv;
}
