/*
 * catalog_index.c — what one document contributes to the catalog: the
 * tokeniser, reading fields out of canonical bodies without building a tree
 * (bounded, allocation-free walks over the bytes), the terms with their field
 * bits, facet values and lineage edges of a document's current version, its
 * forward image and its cat_docs record (layout in catalog_int.h).
 */
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"
#include "mycel/codec.h"

#define TERMS_MAX 4096    /* distinct terms indexed per document */
#define TERM_HT 8192      /* hash slots for them (a power of two, > 2 * TERMS_MAX) */
#define FACETS_MAX 512    /* facet values per document */
#define EDGES_MAX 1024    /* lineage edges per product */
#define WALK_MAX 20000    /* schema objects and properties visited per contract */
#define WALK_DEPTH 8      /* nesting of properties followed */
#define NAME_STORED_MAX 1024
#define SNIPPET_MAX 160

/* ---- tokens and facet keys ---------------------------------------------------------------- */

static bool utf8_cont(uint8_t c)
{
	return (c & 0xC0) == 0x80;
}

static int tokenize(const char *s, size_t n, size_t min_chars, mycel__tok_fn fn, void *ctx)
{
	uint8_t tok[MYCEL__TERM_MAX];
	size_t tl = 0, chars = 0;
	bool cut = false;
	for (size_t i = 0; i <= n; i++) {
		uint8_t c = i < n ? (uint8_t)s[i] : 0;
		bool keep = i < n && (c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
				      (c >= 'A' && c <= 'Z'));
		if (keep) {
			if (cut)
				continue;
			if (tl == sizeof(tok)) {
				cut = true;
				continue;
			}
			if (c >= 'A' && c <= 'Z')
				c = (uint8_t)(c + ('a' - 'A'));
			if (!utf8_cont(c))
				chars++;
			tok[tl++] = c;
			continue;
		}
		if (tl == 0)
			continue;
		if (cut) {
			/* drop a character that the cap split */
			size_t j = tl;
			while (j > 0 && utf8_cont(tok[j - 1]))
				j--;
			if (j > 0) {
				uint8_t lead = tok[j - 1];
				size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
				if (tl - (j - 1) < want) {
					tl = j - 1;
					chars--;
				}
			}
		}
		if (chars >= min_chars) {
			int rv = fn(ctx, tok, tl);
			if (rv != 0)
				return rv;
		}
		tl = chars = 0;
		cut = false;
	}
	return 0;
}

int mycel__tokenize(const char *s, size_t n, mycel__tok_fn fn, void *ctx)
{
	return tokenize(s, n, 2, fn, ctx);
}

typedef struct norm_ctx {
	uint8_t *out;
	size_t len;
} norm_ctx;

static int norm_tok(void *ctx, const uint8_t *t, size_t n)
{
	norm_ctx *x = ctx;
	size_t need = n + (x->len > 0);
	if (need > MYCEL__EXACT_MAX - x->len)
		return 1;
	if (x->len > 0)
		x->out[x->len++] = ' ';
	memcpy(x->out + x->len, t, n);
	x->len += n;
	return 0;
}

size_t mycel__normalize(const char *s, size_t n, uint8_t out[MYCEL__EXACT_MAX])
{
	norm_ctx x = {out, 0};
	(void)tokenize(s, n, 1, norm_tok, &x);
	return x.len;
}

static bool ascii_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

size_t mycel__exact_id(const char *s, size_t n, uint8_t out[MYCEL__EXACT_MAX])
{
	while (n > 0 && ascii_space(s[0]))
		s++, n--;
	while (n > 0 && ascii_space(s[n - 1]))
		n--;
	if (n == 0 || n > MYCEL__EXACT_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + ('a' - 'A') : s[i]);
	return n;
}

bool mycel__facet_key(const char *facet, const char *value, size_t value_len, uint8_t *out,
		      size_t *out_len)
{
	size_t fn = strlen(facet);
	if (value_len == 0 || value_len > MYCEL__FACET_VALUE_MAX || memchr(value, 0, value_len) != NULL)
		return false;
	memcpy(out, facet, fn);
	out[fn] = 0;
	for (size_t i = 0; i < value_len; i++) {
		char c = value[i];
		out[fn + 1 + i] = (uint8_t)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	*out_len = fn + 1 + value_len;
	return true;
}

/* ---- spans of canonical values (bodies are canonical: checked when stored) ---------------- */

typedef struct cv {
	const uint8_t *p;
	size_t n;
} cv;

typedef struct cv_it {
	mycel_rd r;
	uint32_t left;
	bool map;
} cv_it;

static bool cv_begin(cv v, bool map, cv_it *it)
{
	mycel_rd_init(&it->r, v.p, v.n);
	it->map = map;
	return (map ? mycel_rd_map(&it->r, &it->left) : mycel_rd_array(&it->r, &it->left)) == 0;
}

static bool cv_next(cv_it *it, const char **key, size_t *key_len, cv *val)
{
	if (it->left == 0)
		return false;
	it->left--;
	if (it->map && mycel_rd_str(&it->r, key, key_len) != 0) {
		it->left = 0;
		return false;
	}
	const uint8_t *start = it->r.p;
	if (mycel_rd_skip(&it->r, 0) != 0) {
		it->left = 0;
		return false;
	}
	val->p = start;
	val->n = (size_t)(it->r.p - start);
	return true;
}

/* Member key of map v (keys are sorted bytewise: the scan stops past it). */
static bool cv_get(cv v, const char *key, cv *out)
{
	cv_it it;
	const char *k;
	size_t kn, want = strlen(key);
	cv val;
	if (!cv_begin(v, true, &it))
		return false;
	while (cv_next(&it, &k, &kn, &val)) {
		int c = mycel__bytes_cmp(k, kn, key, want);
		if (c == 0) {
			*out = val;
			return true;
		}
		if (c > 0)
			return false;
	}
	return false;
}

static bool cv_str(cv v, const char **s, size_t *n)
{
	mycel_rd r;
	mycel_rd_init(&r, v.p, v.n);
	return mycel_rd_str(&r, s, n) == 0;
}

static bool cv_get_str(cv v, const char *key, const char **s, size_t *n)
{
	cv m;
	return cv_get(v, key, &m) && cv_str(m, s, n);
}

static bool cv_is(cv v, mycel_type t)
{
	mycel_rd r;
	mycel_type got;
	mycel_rd_init(&r, v.p, v.n);
	return mycel_rd_peek(&r, &got) == 0 && got == t;
}

int mycel__body_texts(const uint8_t *body, size_t n, const char **name, size_t *name_len,
		      const char **desc, size_t *desc_len)
{
	cv b = {body, n}, d;
	*name = *desc = "";
	*name_len = *desc_len = 0;
	if (!cv_is(b, MYCEL_T_MAP))
		return MYCEL_EFORMAT;
	(void)cv_get_str(b, "name", name, name_len);
	if (cv_get(b, "description", &d) && !cv_str(d, desc, desc_len))
		(void)cv_get_str(d, "purpose", desc, desc_len);
	return 0;
}

/* ---- what a document contributes --------------------------------------------------------- */

typedef struct tent {
	uint32_t off;
	uint16_t len;
	uint8_t bits;
} tent;

typedef struct slist { /* byte strings, sorted and deduplicated at the end */
	mycel_buf b;
	struct sent {
		uint32_t off;
		uint32_t len;
	} *e;
	size_t n, cap, max;
} slist;

typedef struct idx {
	mycel_buf tb; /* term bytes */
	tent *t;
	size_t nt, capt;
	uint32_t *ht; /* index + 1, 0 empty */
	slist facets, edges;
	int err;         /* ENOMEM, sticky */
	size_t walked;   /* schema nodes visited */
	uint8_t bits;    /* field bits of the tokens being added */
} idx;

static void idx_init(idx *x)
{
	memset(x, 0, sizeof(*x));
	mycel_buf_init(&x->tb, (size_t)TERMS_MAX * (MYCEL__EXACT_MAX + 1));
	mycel_buf_init(&x->facets.b, (size_t)FACETS_MAX * 160);
	mycel_buf_init(&x->edges.b, (size_t)EDGES_MAX * 400);
	x->facets.max = FACETS_MAX;
	x->edges.max = EDGES_MAX;
}

static void idx_fini(idx *x)
{
	mycel_buf_fini(&x->tb);
	mycel_buf_fini(&x->facets.b);
	mycel_buf_fini(&x->edges.b);
	free(x->t);
	free(x->ht);
	free(x->facets.e);
	free(x->edges.e);
}

static uint32_t hash_bytes(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void term_add(idx *x, const uint8_t *t, size_t n, uint8_t bits)
{
	if (x->err != 0)
		return;
	if (x->ht == NULL && (x->ht = calloc(TERM_HT, sizeof(*x->ht))) == NULL) {
		x->err = MYCEL_ENOMEM;
		return;
	}
	uint32_t h = hash_bytes(t, n) & (TERM_HT - 1);
	for (;; h = (h + 1) & (TERM_HT - 1)) {
		uint32_t i = x->ht[h];
		if (i == 0)
			break;
		tent *e = &x->t[i - 1];
		if (e->len == n && memcmp(x->tb.data + e->off, t, n) == 0) {
			e->bits |= bits;
			return;
		}
	}
	if (x->nt == TERMS_MAX)
		return; /* the cap: later terms are not indexed (deterministic: fields in a fixed order) */
	if (x->nt == x->capt) {
		size_t cap = x->capt ? x->capt * 2 : 64;
		tent *nt = realloc(x->t, cap * sizeof(*nt));
		if (nt == NULL) {
			x->err = MYCEL_ENOMEM;
			return;
		}
		x->t = nt;
		x->capt = cap;
	}
	size_t off = x->tb.len;
	mycel_buf_put(&x->tb, t, n);
	if (x->tb.err != 0) {
		x->err = MYCEL_ENOMEM;
		return;
	}
	x->t[x->nt] = (tent){(uint32_t)off, (uint16_t)n, bits};
	x->ht[h] = (uint32_t)++x->nt;
}

static int tok_cb(void *ctx, const uint8_t *t, size_t n)
{
	idx *x = ctx;
	term_add(x, t, n, x->bits);
	return x->err;
}

static void idx_text(idx *x, const char *s, size_t n, uint8_t bits)
{
	x->bits = bits;
	(void)mycel__tokenize(s, n, tok_cb, x);
}

/* The exact-match keys: 0x01 ‖ the normalised name, 0x02 ‖ the lowercased id. */
static void idx_exact(idx *x, const char *s, size_t n, bool id)
{
	uint8_t k[1 + MYCEL__EXACT_MAX];
	k[0] = id ? MYCEL__EXACT_ID : MYCEL__EXACT_NAME;
	size_t len = id ? mycel__exact_id(s, n, k + 1) : mycel__normalize(s, n, k + 1);
	if (len > 0)
		term_add(x, k, len + 1, (id ? MYCEL__F_ID : MYCEL__F_NAME) | MYCEL__F_EXACT);
}

static void slist_add(idx *x, slist *l, const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	if (x->err != 0 || l->n == l->max)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct sent *ne = realloc(l->e, cap * sizeof(*ne));
		if (ne == NULL) {
			x->err = MYCEL_ENOMEM;
			return;
		}
		l->e = ne;
		l->cap = cap;
	}
	size_t off = l->b.len;
	mycel_buf_put(&l->b, a, an);
	if (bn > 0)
		mycel_buf_put(&l->b, b, bn);
	if (l->b.err != 0) {
		x->err = MYCEL_ENOMEM;
		return;
	}
	l->e[l->n++] = (struct sent){(uint32_t)off, (uint32_t)(an + bn)};
}

static void facet_add(idx *x, const char *facet, const char *v, size_t vn)
{
	uint8_t k[32 + MYCEL__FACET_VALUE_MAX];
	size_t kn;
	if (mycel__facet_key(facet, v, vn, k, &kn))
		slist_add(x, &x->facets, k, kn, NULL, 0);
}

/* A string or an array of strings. */
static void idx_strings(idx *x, cv v, uint8_t bits, const char *facet)
{
	const char *s;
	size_t n;
	if (cv_str(v, &s, &n)) {
		idx_text(x, s, n, bits);
		if (facet != NULL)
			facet_add(x, facet, s, n);
		return;
	}
	cv_it it;
	cv item;
	if (!cv_begin(v, false, &it))
		return;
	while (cv_next(&it, NULL, NULL, &item))
		if (cv_str(item, &s, &n)) {
			idx_text(x, s, n, bits);
			if (facet != NULL)
				facet_add(x, facet, s, n);
		}
}

static void idx_schema_objs(idx *x, cv arr, int depth);

/* A schema object or property: name, businessName, classification, nested properties and items. */
static void idx_schema_obj(idx *x, cv obj, int depth)
{
	const char *s;
	size_t n;
	cv sub;
	if (depth > WALK_DEPTH || x->walked >= WALK_MAX || !cv_is(obj, MYCEL_T_MAP))
		return;
	x->walked++;
	if (cv_get_str(obj, "name", &s, &n))
		idx_text(x, s, n, MYCEL__F_PROP);
	if (cv_get_str(obj, "businessName", &s, &n))
		idx_text(x, s, n, MYCEL__F_BIZ);
	if (cv_get_str(obj, "classification", &s, &n))
		facet_add(x, "classification", s, n);
	if (cv_get(obj, "properties", &sub))
		idx_schema_objs(x, sub, depth + 1);
	if (cv_get(obj, "items", &sub))
		idx_schema_obj(x, sub, depth + 1);
}

static void idx_schema_objs(idx *x, cv arr, int depth)
{
	cv_it it;
	cv item;
	if (!cv_begin(arr, false, &it))
		return;
	while (cv_next(&it, NULL, NULL, &item))
		idx_schema_obj(x, item, depth);
}

static void idx_ports(idx *x, cv arr, uint8_t via)
{
	cv_it it;
	cv port;
	if (!cv_begin(arr, false, &it))
		return;
	while (cv_next(&it, NULL, NULL, &port)) {
		const char *name = "", *cid;
		size_t nn = 0, cn;
		if (!cv_is(port, MYCEL_T_MAP))
			continue;
		if (cv_get_str(port, "name", &name, &nn))
			idx_text(x, name, nn, MYCEL__F_PORT);
		if (!cv_get_str(port, "contractId", &cid, &cn) || cn == 0 || cn > MYCEL_ID_MAX ||
		    memchr(cid, 0, cn) != NULL)
			continue;
		if (nn > MYCEL__PORT_MAX || memchr(name, 0, nn) != NULL)
			nn = 0; /* a name that cannot be shown whole is not kept */
		uint8_t e[1 + MYCEL_ID_MAX + 1 + MYCEL__PORT_MAX];
		e[0] = via;
		memcpy(e + 1, cid, cn);
		e[1 + cn] = 0;
		memcpy(e + 2 + cn, name, nn);
		slist_add(x, &x->edges, e, 2 + cn + nn, NULL, 0);
	}
}

/*
 * Everything a document's current version contributes, fields in a fixed
 * order so that the caps cut deterministically: name and id first, then
 * tags, schema, ports, descriptions.
 */
static void idx_document(idx *x, cv body, mycel_doc_kind kind, const char *domain, const char *id,
			 size_t id_len, mycel_doc_status status, unsigned denied)
{
	const char *s;
	size_t n;
	cv v, d;
	if (cv_get_str(body, "name", &s, &n)) {
		idx_exact(x, s, n, false);
		idx_text(x, s, n, MYCEL__F_NAME);
	}
	idx_exact(x, id, id_len, true);
	idx_text(x, id, id_len, MYCEL__F_ID);
	if (cv_get(body, "tags", &v))
		idx_strings(x, v, MYCEL__F_TAG, "tag");
	if (kind == MYCEL_DOC_CONTRACT) {
		if (cv_get(body, "schema", &v))
			idx_schema_objs(x, v, 0);
		if (cv_get(body, "servers", &v)) {
			cv_it it;
			cv srv;
			if (cv_begin(v, false, &it))
				while (cv_next(&it, NULL, NULL, &srv))
					if (cv_get_str(srv, "type", &s, &n))
						facet_add(x, "server", s, n);
		}
	} else {
		if (cv_get(body, "inputPorts", &v))
			idx_ports(x, v, 'i');
		if (cv_get(body, "outputPorts", &v))
			idx_ports(x, v, 'o');
	}
	if (cv_get(body, "description", &d)) {
		if (cv_str(d, &s, &n)) {
			idx_text(x, s, n, MYCEL__F_DESC);
		} else {
			cv_it it;
			const char *k;
			size_t kn;
			if (cv_begin(d, true, &it))
				while (cv_next(&it, &k, &kn, &v))
					if (cv_str(v, &s, &n))
						idx_text(x, s, n, MYCEL__F_DESC);
		}
	}
	facet_add(x, "domain", domain, strlen(domain));
	facet_add(x, "kind", mycel_doc_kind_name(kind), strlen(mycel_doc_kind_name(kind)));
	facet_add(x, "status", mycel_doc_status_name(status), strlen(mycel_doc_status_name(status)));
	if (denied > 0)
		facet_add(x, "policy", "noncompliant", 12);
	/* what a default search hides, as one list: retired or non-compliant */
	if (denied > 0 || status == MYCEL_STATUS_RETIRED)
		facet_add(x, "hidden", "yes", 3);
}

static _Thread_local const uint8_t *sort_base; /* for the qsort comparators below */

static int tent_cmp(const void *a, const void *b)
{
	const tent *x = a, *y = b;
	return mycel__bytes_cmp(sort_base + x->off, x->len, sort_base + y->off, y->len);
}

static int sent_cmp(const void *a, const void *b)
{
	const struct sent *x = a, *y = b;
	return mycel__bytes_cmp(sort_base + x->off, x->len, sort_base + y->off, y->len);
}

static void slist_sort(slist *l)
{
	if (l->n == 0)
		return;
	sort_base = l->b.data;
	qsort(l->e, l->n, sizeof(*l->e), sent_cmp);
	size_t w = 1;
	for (size_t i = 1; i < l->n; i++)
		if (sent_cmp(&l->e[i], &l->e[w - 1]) != 0)
			l->e[w++] = l->e[i];
	l->n = w;
}

/* The forward image, [[facet key...], [term, bits, ...], [edge...]], each list sorted bytewise. */
static int idx_encode_fwd(idx *x, mycel_buf *out)
{
	if (x->err != 0)
		return x->err;
	if (x->nt > 0) {
		sort_base = x->tb.data;
		qsort(x->t, x->nt, sizeof(*x->t), tent_cmp);
	}
	slist_sort(&x->facets);
	slist_sort(&x->edges);
	mycel_enc_array(out, 3);
	mycel_enc_array(out, (uint32_t)x->facets.n);
	for (size_t i = 0; i < x->facets.n; i++)
		mycel_enc_bin(out, x->facets.b.data + x->facets.e[i].off, x->facets.e[i].len);
	mycel_enc_array(out, (uint32_t)(2 * x->nt));
	for (size_t i = 0; i < x->nt; i++) {
		mycel_enc_bin(out, x->tb.data + x->t[i].off, x->t[i].len);
		mycel_enc_uint(out, x->t[i].bits);
	}
	mycel_enc_array(out, (uint32_t)x->edges.n);
	for (size_t i = 0; i < x->edges.n; i++)
		mycel_enc_bin(out, x->edges.b.data + x->edges.e[i].off, x->edges.e[i].len);
	return out->err;
}

/* Cuts s to at most max bytes at a character boundary. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	while (max > 0 && utf8_cont((uint8_t)s[max]))
		max--;
	return max;
}

/* A one-line snippet: whitespace runs collapsed, at most SNIPPET_MAX bytes, "…" if cut. */
static size_t make_snippet(const char *s, size_t n, char out[SNIPPET_MAX])
{
	size_t o = 0;
	bool space = false, cut = false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			space = o > 0;
			continue;
		}
		if (o + (space ? 1 : 0) + 1 > SNIPPET_MAX) {
			cut = true;
			break;
		}
		if (space)
			out[o++] = ' ';
		space = false;
		out[o++] = c;
	}
	if (cut) {
		o = utf8_cut(out, o, SNIPPET_MAX - 3);
		while (o > 0 && out[o - 1] == ' ')
			o--;
		memcpy(out + o, "\xe2\x80\xa6", 3);
		o += 3;
	}
	return o;
}

/* cat_docs value: [kind, status, version, name, snippet, denied]. */
static int encode_docrec(mycel_buf *out, mycel_doc_kind kind, mycel_doc_status status,
			 const char *version, unsigned denied, cv body)
{
	const char *name, *desc;
	size_t nn, dn;
	char snip[SNIPPET_MAX];
	if (mycel__body_texts(body.p, body.n, &name, &nn, &desc, &dn) != 0)
		nn = dn = 0;
	nn = utf8_cut(name, nn, NAME_STORED_MAX);
	size_t sn = make_snippet(desc, dn, snip);
	mycel_enc_array(out, 6);
	mycel_enc_uint(out, (uint64_t)kind);
	mycel_enc_uint(out, (uint64_t)status);
	mycel_enc_cstr(out, version);
	mycel_enc_str(out, name, nn);
	mycel_enc_str(out, snip, sn);
	mycel_enc_uint(out, denied);
	return out->err;
}

/* ---- the forward image --------------------------------------------------------------------- */

/* Positions the three lists of a forward image (empty lists for n == 0 or a damaged image). */
/* Positions lists 0..last of a forward image in out (skipping only what comes before last). */
static void fwd_lists(const uint8_t *p, size_t n, int last, mycel__flist *out)
{
	mycel_rd r;
	uint32_t cnt;
	for (int i = 0; i <= last; i++) {
		out[i].left = 0;
		out[i].pairs = i == MYCEL__FWD_TERMS;
	}
	if (n == 0)
		return;
	mycel_rd_init(&r, p, n);
	if (mycel_rd_array(&r, &cnt) != 0 || cnt != 3)
		return;
	for (int i = 0; i <= last; i++) {
		mycel_rd_init(&out[i].r, r.p, (size_t)(r.end - r.p));
		if (mycel_rd_array(&out[i].r, &out[i].left) != 0) {
			out[i].left = 0;
			return;
		}
		if (out[i].pairs)
			out[i].left /= 2;
		if (i < last && mycel_rd_skip(&r, 1) != 0)
			return;
	}
}

void mycel__fwd_open(const uint8_t *p, size_t n, mycel__flist out[3])
{
	fwd_lists(p, n, 2, out);
}

void mycel__fwd_list(const uint8_t *p, size_t n, int which, mycel__flist *out)
{
	mycel__flist l[3];
	fwd_lists(p, n, which, l);
	*out = l[which];
}

bool mycel__fwd_next(mycel__flist *l, const uint8_t **p, size_t *n, uint8_t *bits)
{
	uint64_t b = 0;
	if (l->left == 0)
		return false;
	l->left--;
	if (mycel_rd_bin(&l->r, p, n) != 0 || (l->pairs && mycel_rd_uint(&l->r, &b) != 0) || b > 0xff) {
		l->left = 0;
		return false;
	}
	*bits = (uint8_t)b;
	return true;
}

bool mycel__body_str(const uint8_t *body, size_t n, const char *key, const char **s, size_t *len)
{
	cv b = {body, n};
	return cv_get_str(b, key, s, len);
}

bool mycel__body_is_map(const uint8_t *body, size_t n)
{
	cv b = {body, n};
	return body != NULL && cv_is(b, MYCEL_T_MAP);
}

int mycel__index_document(const uint8_t *body, size_t n, mycel_doc_kind kind, const char *domain,
			  const char *id, size_t id_len, mycel_doc_status status, const char *version,
			  unsigned denied, mycel_buf *fwd, mycel_buf *rec)
{
	idx x;
	cv b = {body, n};
	idx_init(&x);
	idx_document(&x, b, kind, domain, id, id_len, status, denied);
	int rv = idx_encode_fwd(&x, fwd);
	if (rv == 0)
		rv = encode_docrec(rec, kind, status, version, denied, b);
	idx_fini(&x);
	return rv;
}
