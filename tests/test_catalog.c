/*
 * test_catalog.c — the catalog derived from the feeds: semver and tokens,
 * documents and versions, lifecycle, ranked search, facets, paging, lineage
 * (across domains, depth, diamonds, cycles, dangling and ambiguous references,
 * references published late), and the derivation rules: reindex gives the
 * same bytes as incremental building, so do other orders of arrival across
 * feeds and the ingest path.
 *
 * Documents are built as value trees and encoded canonically, as publishing
 * does; they are appended as entries of kind contract/product/lifecycle to a
 * store (mkdtemp) whose charter admits alpha, beta and gamma.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog_int.h"
#include "mycel/catalog.h"
#include "mycel/charter.h"
#include "mycel/codec.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/store.h"

#include "common.h"

/* ---- fixture ------------------------------------------------------------------------------ */

typedef struct fx {
	char dir[64], dir2[64];
	mycel_store *s;
	mycel_key *gov, *a, *b, *c; /* a: alpha, b: beta, c: gamma */
	mycel_buf charter;
	mycel_arena *ar; /* value trees of the test */
} fx;

/* A new store in a fresh temporary directory (its path to dir) holding the charter. */
static mycel_store *new_store(fx *f, char *dir, size_t n)
{
	tc_tmpdir("catalog", dir, n);
	return tc_store_new(dir, f->charter.data, f->charter.len);
}

static int group_setup(void **state)
{
	static const char *const names[] = {"alpha", "beta", "gamma"};
	fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->gov = tc_seed_key(0x01);
	f->a = tc_seed_key(0xa1);
	f->b = tc_seed_key(0xb2);
	f->c = tc_seed_key(0xc3);
	const mycel_key *const keys[] = {f->a, f->b, f->c};
	tc_genesis("acme", f->gov, names, keys, 3, &f->charter, NULL);
	*state = f;
	return 0;
}

static int group_teardown(void **state)
{
	fx *f = *state;
	mycel_buf_fini(&f->charter);
	mycel_key_free(f->gov);
	mycel_key_free(f->a);
	mycel_key_free(f->b);
	mycel_key_free(f->c);
	free(f);
	return 0;
}

static int setup(void **state)
{
	fx *f = *state;
	f->dir2[0] = '\0';
	f->s = new_store(f, f->dir, sizeof(f->dir));
	assert_int_equal(mycel_arena_new(64u << 20, &f->ar), 0);
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	mycel_store_close(f->s);
	f->s = NULL;
	mycel_arena_free(f->ar);
	f->ar = NULL;
	(void)tc_rm_rf(f->dir);
	(void)tc_rm_rf(f->dir2);
	f->dir[0] = f->dir2[0] = '\0';
	return 0;
}

/* ---- value trees ---------------------------------------------------------------------------- */

static mycel_arena *g_ar; /* the current test's arena, for the builders below */

static mycel_value *vstr(const char *s)
{
	mycel_value *v = mycel_arena_alloc(g_ar, sizeof(*v));
	assert_non_null(v);
	memset(v, 0, sizeof(*v));
	v->type = MYCEL_T_STR;
	v->v.s.ptr = mycel_arena_strdup(g_ar, s, strlen(s));
	v->v.s.len = strlen(s);
	return v;
}

/* A map of n (key, value) pairs; NULL values are left out. */
static mycel_value *vmap(size_t n, ...)
{
	mycel_value *v = mycel_arena_alloc(g_ar, sizeof(*v));
	mycel_member *m = mycel_arena_alloc(g_ar, (n ? n : 1) * sizeof(*m));
	va_list ap;
	size_t k = 0;
	assert_non_null(v);
	assert_non_null(m);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++) {
		const char *key = va_arg(ap, const char *);
		mycel_value *val = va_arg(ap, mycel_value *);
		if (val == NULL)
			continue;
		m[k].key = key;
		m[k].key_len = strlen(key);
		m[k].val = *val;
		k++;
	}
	va_end(ap);
	memset(v, 0, sizeof(*v));
	v->type = MYCEL_T_MAP;
	v->v.m.items = m;
	v->v.m.len = k;
	return v;
}

static mycel_value *varr(size_t n, ...)
{
	mycel_value *v = mycel_arena_alloc(g_ar, sizeof(*v));
	mycel_value *items = mycel_arena_alloc(g_ar, (n ? n : 1) * sizeof(*items));
	va_list ap;
	assert_non_null(v);
	assert_non_null(items);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		items[i] = *va_arg(ap, mycel_value *);
	va_end(ap);
	memset(v, 0, sizeof(*v));
	v->type = MYCEL_T_ARRAY;
	v->v.a.items = items;
	v->v.a.len = n;
	return v;
}

/* A property {name, businessName?, classification?}. */
static mycel_value *prop(const char *name, const char *biz, const char *cls)
{
	return vmap(4, "name", vstr(name), "businessName", biz ? vstr(biz) : NULL, "classification",
		    cls ? vstr(cls) : NULL, "logicalType", vstr("string"));
}

/* An ODCS-shaped contract. */
static mycel_value *contract(const char *id, const char *version, const char *name,
			     const char *purpose, mycel_value *tags, mycel_value *props,
			     const char *server)
{
	mycel_value *schema =
	    props ? varr(1, vmap(3, "name", vstr("tbl"), "businessName", vstr("core table"),
				 "properties", props))
		  : NULL;
	mycel_value *servers =
	    server ? varr(1, vmap(2, "server", vstr("main"), "type", vstr(server))) : NULL;
	return vmap(10, "apiVersion", vstr("v3.0.2"), "kind", vstr("DataContract"), "id", vstr(id),
		    "version", version ? vstr(version) : NULL, "name", name ? vstr(name) : NULL,
		    "status", vstr("active"), "description",
		    purpose ? vmap(2, "purpose", vstr(purpose), "usage", vstr("analytics")) : NULL,
		    "tags", tags, "schema", schema, "servers", servers);
}

static mycel_value *port(const char *name, const char *cid)
{
	return vmap(3, "name", vstr(name), "contractId", vstr(cid), "version", vstr("1.0.0"));
}

/* An ODPS-shaped product. */
static mycel_value *product(const char *id, const char *version, const char *name,
			    const char *purpose, mycel_value *tags, mycel_value *in, mycel_value *out)
{
	return vmap(10, "apiVersion", vstr("v1.0.0"), "kind", vstr("DataProduct"), "id", vstr(id),
		    "version", version ? vstr(version) : NULL, "name", name ? vstr(name) : NULL,
		    "status", vstr("active"), "description",
		    purpose ? vmap(1, "purpose", vstr(purpose)) : NULL, "tags", tags, "inputPorts",
		    in, "outputPorts", out);
}

static mycel_value *lifecycle(const char *id, const char *kind, const char *version,
			      const char *status)
{
	return vmap(5, "id", vstr(id), "kind", vstr(kind), "reason", vstr("test"), "status",
		    vstr(status), "version", vstr(version));
}

static void assert_reindex_identical(mycel_store *s, const char *what);

/* Appends one entry of kind with the canonical encoding of v to k's feed. */
static void put(mycel_store *s, const mycel_key *k, const char *kind, const mycel_value *v)
{
	mycel_buf b;
	mycel_buf_init(&b, MYCEL_BODY_MAX);
	assert_int_equal(mycel_value_encode(v, &b), 0);
	mycel_record rec = {kind, b.data, b.len};
	int rv = mycel_store_append(s, k, k->pk, &rec, 1, NULL);
	if (rv != 0)
		fail_msg("append %s: %s", kind, mycel_errname(rv));
	mycel_buf_fini(&b);
	if (getenv("CAT_CHECK_EACH") != NULL) {
		mycel_buf r;
		mycel_buf_init(&r, 1 << 20);
		(void)mycel_value_render(v, &r);
		print_message("check after %s %s\n", kind, (const char *)r.data);
		mycel_buf_fini(&r);
		assert_reindex_identical(s, kind);
	}
}

static void put_raw(mycel_store *s, const mycel_key *k, const char *kind, const uint8_t *p,
		    size_t n)
{
	mycel_record rec = {kind, p, n};
	assert_int_equal(mycel_store_append(s, k, k->pk, &rec, 1, NULL), 0);
}

/* ---- dumps ------------------------------------------------------------------------------------- */

typedef struct dumpctx {
	mycel_buf *b;
	bool mask_ts; /* zero the ts_ms of cat_versions rows (entries appended at other times) */
} dumpctx;

static int dump_cb(void *ctx, const char *table, const void *key, size_t key_len, const void *val,
		   size_t val_len)
{
	dumpctx *dc = ctx;
	mycel_buf *b = dc->b;
	uint8_t len[8], row[MYCEL__VROW_LEN];
	if (dc->mask_ts && strcmp(table, "cat_versions") == 0 && val_len == MYCEL__VROW_LEN) {
		memcpy(row, val, val_len);
		memset(row + 1 + MYCEL_PK_LEN + 8, 0, 8);
		val = row;
	}
	size_t tl = strlen(table);
	mycel_buf_put(b, table, tl + 1);
	for (int i = 0; i < 2; i++) {
		size_t n = i == 0 ? key_len : val_len;
		for (int j = 0; j < 8; j++)
			len[j] = (uint8_t)(n >> (8 * (7 - j)));
		mycel_buf_put(b, len, 8);
		mycel_buf_put(b, i == 0 ? key : val, n);
	}
	return b->err;
}

static void dump_as(mycel_store *s, mycel_buf *out, bool mask_ts)
{
	dumpctx dc = {out, mask_ts};
	mycel_buf_init(out, (size_t)1 << 30);
	assert_int_equal(mycel_catalog_dump(s, dump_cb, &dc), 0);
	assert_int_equal(out->err, 0);
}

static void dump(mycel_store *s, mycel_buf *out)
{
	dump_as(s, out, false);
}

static size_t count_rows(mycel_store *s, const char *table)
{
	mycel_buf b;
	size_t n = 0;
	dump(s, &b);
	for (size_t off = 0; off < b.len;) {
		const char *t = (const char *)b.data + off;
		size_t tl = strlen(t);
		off += tl + 1;
		for (int i = 0; i < 2; i++) {
			size_t len = 0;
			for (int j = 0; j < 8; j++)
				len = len << 8 | b.data[off + (size_t)j];
			off += 8 + len;
		}
		if (strcmp(t, table) == 0)
			n++;
	}
	mycel_buf_fini(&b);
	return n;
}

/* One record of a dump: table, key, value. */
typedef struct drec {
	const char *table;
	const uint8_t *k, *v;
	size_t kn, vn;
} drec;

static size_t drec_at(const mycel_buf *b, size_t off, drec *r)
{
	r->table = (const char *)b->data + off;
	off += strlen(r->table) + 1;
	for (int i = 0; i < 2; i++) {
		size_t len = 0;
		for (int j = 0; j < 8; j++)
			len = len << 8 | b->data[off + (size_t)j];
		off += 8;
		if (i == 0) {
			r->k = b->data + off;
			r->kn = len;
		} else {
			r->v = b->data + off;
			r->vn = len;
		}
		off += len;
	}
	return off;
}

static void print_bytes(const char *label, const uint8_t *p, size_t n)
{
	char buf[1024];
	size_t o = 0;
	for (size_t i = 0; i < n && o + 5 < sizeof(buf); i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, p[i] >= 0x20 && p[i] < 0x7f ? "%c" : "\\x%02x", p[i]);
	print_message("  %s (%zu): %s\n", label, n, buf);
}

/* Prints the first record where two dumps differ. */
static void print_first_difference(const mycel_buf *a, const mycel_buf *b)
{
	size_t oa = 0, ob = 0;
	while (oa < a->len && ob < b->len) {
		drec x, y;
		size_t na = drec_at(a, oa, &x), nb = drec_at(b, ob, &y);
		if (strcmp(x.table, y.table) != 0 || x.kn != y.kn || memcmp(x.k, y.k, x.kn) != 0 ||
		    x.vn != y.vn || memcmp(x.v, y.v, x.vn) != 0) {
			print_message("first difference: %s / %s\n", x.table, y.table);
			print_bytes("key a", x.k, x.kn);
			print_bytes("val a", x.v, x.vn);
			print_bytes("key b", y.k, y.kn);
			print_bytes("val b", y.v, y.vn);
			return;
		}
		oa = na;
		ob = nb;
	}
	print_message("one dump is a prefix of the other\n");
}

static void assert_same_dump(mycel_store *x, mycel_store *y, bool mask_ts, const char *what)
{
	mycel_buf a, b;
	dump_as(x, &a, mask_ts);
	dump_as(y, &b, mask_ts);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
		print_first_difference(&a, &b);
		fail_msg("%s: dumps differ (%zu and %zu bytes)", what, a.len, b.len);
	}
	mycel_buf_fini(&a);
	mycel_buf_fini(&b);
}

/* dump, reindex, dump: the same bytes */
static void assert_reindex_identical(mycel_store *s, const char *what)
{
	mycel_buf a, b;
	dump(s, &a);
	assert_true(a.len > 0);
	assert_int_equal(mycel_store_reindex(s), 0);
	dump(s, &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
		print_first_difference(&a, &b);
		fail_msg("%s: reindex changed the catalog (%zu -> %zu bytes)", what, a.len, b.len);
	}
	mycel_buf_fini(&a);
	mycel_buf_fini(&b);
}

static void verify_clean(mycel_store *s)
{
	mycel_verify_stats st;
	assert_int_equal(mycel_store_verify(s, NULL, NULL, &st), 0);
	assert_int_equal(st.problems, 0);
}

/* ---- search helpers --------------------------------------------------------------------------- */

static mycel_search_query query(const char *text)
{
	mycel_search_query q;
	memset(&q, 0, sizeof(q));
	q.text = text;
	q.status = MYCEL_STATUS_VISIBLE;
	return q;
}

/* The hits as "domain/id" joined by spaces, into buf. */
static const char *hits_of(mycel_store *s, const mycel_search_query *q, char *buf, size_t n,
			   size_t *total)
{
	mycel_search_result r;
	memset(&r, 0, sizeof(r));
	int rv = mycel_catalog_search(s, q, &r);
	if (rv != 0)
		fail_msg("search %s: %s", q->text ? q->text : "(none)", mycel_errname(rv));
	buf[0] = '\0';
	for (size_t i = 0; i < r.n; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, n - l, "%s%s/%s", i ? " " : "", r.hits[i].domain, r.hits[i].id);
	}
	if (total != NULL)
		*total = r.total;
	mycel_search_result_fini(&r);
	return buf;
}

static void expect_hits(mycel_store *s, const mycel_search_query *q, const char *want)
{
	char buf[4096];
	hits_of(s, q, buf, sizeof(buf), NULL);
	if (strcmp(buf, want) != 0)
		fail_msg("search \"%s\": got \"%s\", want \"%s\"", q->text ? q->text : "", buf, want);
}

/* ---- semver, tokens ---------------------------------------------------------------------------- */

static void test_semver(void **state)
{
	(void)state;
	static const char *const valid[] = {"0.0.0", "1.2.3", "10.20.30", "1.0.0-alpha",
					    "1.0.0-alpha.1", "1.0.0-0.3.7", "1.0.0-x.7.z.92",
					    "1.0.0+20130313144700", "1.0.0-beta+exp.sha.5114f85",
					    "1.0.0-alpha-a.b-c", "99999999999999999999.0.0"};
	static const char *const invalid[] = {"", "1", "1.2", "v1.0.0", "01.0.0", "1.02.0",
					      "1.0.0-", "1.0.0-01", "1.0.0+", "1.0.0-a..b",
					      "1.0.0 ", "1.0.0-é", "1.0.0+a+b", "-1.0.0"};
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		if (!mycel_semver_valid(valid[i]))
			fail_msg("%s should be valid", valid[i]);
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		if (mycel_semver_valid(invalid[i]))
			fail_msg("\"%s\" should be invalid", invalid[i]);
	assert_false(mycel_semver_valid(NULL));
	/* semver.org §11 */
	static const char *const order[] = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
					    "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
					    "1.0.0-rc.1", "1.0.0", "1.9.0", "1.10.0", "1.11.0",
					    "2.0.0", "10.0.0"};
	size_t n = sizeof(order) / sizeof(order[0]);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			int c = mycel_semver_cmp(order[i], order[j]);
			int want = (i > j) - (i < j);
			if ((c > 0) - (c < 0) != want)
				fail_msg("cmp(%s, %s) = %d", order[i], order[j], c);
		}
	assert_int_equal(mycel_semver_cmp("1.0.0+a", "1.0.0+b"), 0);
	assert_string_equal(mycel_doc_kind_name(MYCEL_DOC_CONTRACT), "contract");
	assert_string_equal(mycel_doc_kind_name(MYCEL_DOC_PRODUCT), "product");
	assert_string_equal(mycel_doc_status_name(MYCEL_STATUS_ACTIVE), "active");
	assert_string_equal(mycel_doc_status_name(MYCEL_STATUS_DEPRECATED), "deprecated");
	assert_string_equal(mycel_doc_status_name(MYCEL_STATUS_RETIRED), "retired");
}

static int tok_join(void *ctx, const uint8_t *t, size_t n)
{
	mycel_buf *b = ctx;
	if (b->len > 0)
		mycel_buf_put(b, "|", 1);
	mycel_buf_put(b, t, n);
	return 0;
}

static void expect_tokens(const char *in, const char *want)
{
	mycel_buf b;
	mycel_buf_init(&b, 4096);
	assert_int_equal(mycel__tokenize(in, strlen(in), tok_join, &b), 0);
	mycel_buf_put(&b, "", 1);
	if (strcmp((const char *)b.data, want) != 0)
		fail_msg("tokens of \"%s\": \"%s\", want \"%s\"", in, (const char *)b.data, want);
	mycel_buf_fini(&b);
}

static void test_tokens(void **state)
{
	(void)state;
	expect_tokens("Customer_Orders v2, a B c", "customer|orders|v2");
	expect_tokens("fbe8d147-28DB", "fbe8d147|28db");
	expect_tokens("Bücher über Straße", "b\xc3\xbc" "cher|\xc3\xbc" "ber|stra\xc3\x9f" "e");
	expect_tokens("é x ÿz", "\xc3\xbf" "z"); /* one character each: dropped */
	expect_tokens("", "");
	/* 70 letters: cut to 64 bytes */
	char long1[80], want1[80];
	memset(long1, 'A', 70);
	long1[70] = '\0';
	memset(want1, 'a', 64);
	want1[64] = '\0';
	expect_tokens(long1, want1);
	/* 63 ASCII then a two-byte character: the split character is dropped */
	char long2[80], want2[80];
	memset(long2, 'b', 63);
	memcpy(long2 + 63, "\xc3\xa9z", 4);
	memset(want2, 'b', 63);
	want2[63] = '\0';
	expect_tokens(long2, want2);
	uint8_t norm[MYCEL__EXACT_MAX];
	size_t nn = mycel__normalize("  The  Orders-V2 (daily) ", 25, norm);
	assert_int_equal(nn, strlen("the orders v2 daily"));
	assert_memory_equal(norm, "the orders v2 daily", nn);
}

/* ---- documents and versions ------------------------------------------------------------------ */

static void test_get_versions(void **state)
{
	fx *f = *state;
	g_ar = f->ar;
	mycel_catalog_doc d;
	mycel_doc_version v;

	put(f->s, f->a, "contract", contract("orders", "1.2.0", "Orders", "All orders, daily.", NULL, NULL, NULL));
	put(f->s, f->a, "contract", contract("orders", "1.10.0", "Orders v10", "Orders again.", NULL, NULL, NULL));
	put(f->s, f->a, "contract", contract("orders", "1.0.0", "Orders v1", "Old orders.", NULL, NULL, NULL));
	put(f->s, f->a, "contract", contract("orders", "1.10.0-rc.1", "Orders rc", "rc", NULL, NULL, NULL));

	memset(&d, 0, sizeof(d));
	assert_int_equal(mycel_catalog_get(f->s, "alpha", "orders", NULL, &d), 0);
	assert_int_equal(d.kind, MYCEL_DOC_CONTRACT);
	assert_string_equal(d.domain, "alpha");
	assert_string_equal(d.id, "orders");
	assert_int_equal(d.n_versions, 4);
	assert_string_equal(d.versions[0].version, "1.0.0");
	assert_string_equal(d.versions[1].version, "1.2.0");
	assert_string_equal(d.versions[2].version, "1.10.0-rc.1");
	assert_string_equal(d.versions[3].version, "1.10.0");
	assert_int_equal(d.current, 3);
	assert_int_equal(d.shown, 3);
	assert_string_equal(d.name, "Orders v10");
	assert_string_equal(d.description, "Orders again.");
	for (size_t i = 0; i < d.n_versions; i++) {
		assert_int_equal(d.versions[i].status, MYCEL_STATUS_ACTIVE);
		assert_memory_equal(d.versions[i].feed, f->a->pk, MYCEL_PK_LEN);
	}
	assert_int_equal(d.versions[1].seq, 1);
	assert_int_equal(d.versions[3].seq, 2);
	uint8_t h[MYCEL_HASH_LEN];
	mycel_body_hash(d.body, d.body_len, h);
	assert_memory_equal(h, d.versions[3].body_hash, MYCEL_HASH_LEN);
	mycel_catalog_doc_fini(&d);

	/* another version's body, the current one's name */
	assert_int_equal(mycel_catalog_get(f->s, "alpha", "orders", "1.0.0", &d), 0);
	assert_int_equal(d.shown, 0);
	assert_int_equal(d.current, 3);
	assert_string_equal(d.name, "Orders v10");
	mycel_body_hash(d.body, d.body_len, h);
	assert_memory_equal(h, d.versions[0].body_hash, MYCEL_HASH_LEN);
	mycel_catalog_doc_fini(&d);

	assert_int_equal(mycel_catalog_get(f->s, "alpha", "orders", "2.0.0", &d), MYCEL_ENOTFOUND);
	assert_int_equal(mycel_catalog_get(f->s, "beta", "orders", NULL, &d), MYCEL_ENOTFOUND);
	assert_int_equal(mycel_catalog_get(f->s, "alpha", "nothing", NULL, &d), MYCEL_ENOTFOUND);

	/* version lookups: exact, by precedence (build metadata), missing */
	assert_int_equal(mycel_catalog_version(f->s, "alpha", "orders", "1.2.0", &v), 0);
	assert_string_equal(v.version, "1.2.0");
	assert_int_equal(v.seq, 1);
	assert_int_equal(mycel_catalog_version(f->s, "alpha", "orders", "1.2.0+build.7", &v), 0);
	assert_string_equal(v.version, "1.2.0");
	assert_int_equal(mycel_catalog_version(f->s, "alpha", "orders", "1.3.0", &v), MYCEL_ENOTFOUND);
	assert_int_equal(mycel_catalog_version(f->s, "beta", "orders", "1.2.0", &v), MYCEL_ENOTFOUND);

	/* a published version is immutable: other content under it changes nothing */
	uint8_t before[MYCEL_HASH_LEN];
	assert_int_equal(mycel_catalog_version(f->s, "alpha", "orders", "1.10.0", &v), 0);
	memcpy(before, v.body_hash, MYCEL_HASH_LEN);
	put(f->s, f->a, "contract", contract("orders", "1.10.0", "Hijacked", "x", NULL, NULL, NULL));
	put(f->s, f->a, "contract", contract("orders", "1.10.0+b2", "Hijacked", "x", NULL, NULL, NULL));
	assert_int_equal(mycel_catalog_version(f->s, "alpha", "orders", "1.10.0", &v), 0);
	assert_memory_equal(v.body_hash, before, MYCEL_HASH_LEN);
	assert_int_equal(v.seq, 2);
	assert_int_equal(mycel_catalog_get(f->s, "alpha", "orders", NULL, &d), 0);
	assert_int_equal(d.n_versions, 4);
	assert_string_equal(d.name, "Orders v10");
	mycel_catalog_doc_fini(&d);
	mycel_search_query q = query("hijacked");
	expect_hits(f->s, &q, "");
	verify_clean(f->s);
	assert_reindex_identical(f->s, "versions");
}

/* Bodies that are not usable documents are stored, and ignored by the catalog. */
static void test_ignored(void **state)
{
	fx *f = *state;
	g_ar = f->ar;
	uint8_t nil = 0xc0;
	put_raw(f->s, f->a, "contract", &nil, 1);
	put(f->s, f->a, "contract", vmap(1, "name", vstr("no id")));
	put(f->s, f->a, "contract", contract("badver", "v1.0.0", "Bad", NULL, NULL, NULL, NULL));
	put(f->s, f->a, "contract", contract("nover", NULL, "None", NULL, NULL, NULL, NULL));
	put(f->s, f->a, "product", product("p-nover", NULL, "No version", NULL, NULL, NULL, NULL));
	put(f->s, f->a, "contract", vmap(2, "id", varr(0), "version", vstr("1.0.0")));
	put(f->s, f->a, "domain", contract("dom", "1.0.0", "Not a catalog kind", NULL, NULL, NULL, NULL));
	put(f->s, f->a, "lifecycle", lifecycle("ghost", "contract", "1.0.0", "retired"));
	assert_int_equal(count_rows(f->s, "cat_docs"), 0);
	assert_int_equal(count_rows(f->s, "cat_terms"), 0);
	/* a product under a contract's id, in the same domain, is not a second document */
	put(f->s, f->a, "contract", contract("shared-id", "1.0.0", "The contract", NULL, NULL, NULL, NULL));
	put(f->s, f->a, "product", product("shared-id", "2.0.0", "The product", NULL, NULL, NULL, NULL));
	mycel_catalog_doc d;
	assert_int_equal(mycel_catalog_get(f->s, "alpha", "shared-id", NULL, &d), 0);
	assert_int_equal(d.kind, MYCEL_DOC_CONTRACT);
	assert_int_equal(d.n_versions, 1);
	mycel_catalog_doc_fini(&d);
	/* the same id in another domain is another document */
	put(f->s, f->b, "product", product("shared-id", "2.0.0", "The product", NULL, NULL, NULL, NULL));
	assert_int_equal(mycel_catalog_get(f->s, "beta", "shared-id", NULL, &d), 0);
	assert_int_equal(d.kind, MYCEL_DOC_PRODUCT);
	mycel_catalog_doc_fini(&d);
	assert_int_equal(count_rows(f->s, "cat_docs"), 2);
	verify_clean(f->s);
	assert_reindex_identical(f->s, "ignored");
}

/* ---- lifecycle ---------------------------------------------------------------------------------- */

static void expect_current(mycel_store *s, const char *dom, const char *id, const char *version,
			   mycel_doc_status status)
{
	mycel_catalog_doc d;
	assert_int_equal(mycel_catalog_get(s, dom, id, NULL, &d), 0);
	if (strcmp(d.versions[d.current].version, version) != 0 || d.versions[d.current].status != status)
		fail_msg("%s/%s: current %s (%s), want %s (%s)", dom, id, d.versions[d.current].version,
			 mycel_doc_status_name(d.versions[d.current].status), version,
			 mycel_doc_status_name(status));
	mycel_catalog_doc_fini(&d);
}

static void test_lifecycle(void **state)
{
	fx *f = *state;
	g_ar = f->ar;
	mycel_search_query q;
	size_t total;
	char buf[1024];

	put(f->s, f->a, "contract", contract("events", "1.0.0", "Click events", "Raw clicks.", NULL, NULL, NULL));
	put(f->s, f->a, "contract", contract("events", "2.0.0", "Click events v2", "Clicks, sessionised.", NULL, NULL, NULL));
	put(f->s, f->a, "contract", contract("events", "2.1.0", "Click events v21", "Clicks with geo.", NULL, NULL, NULL));
	expect_current(f->s, "alpha", "events", "2.1.0", MYCEL_STATUS_ACTIVE);

	/* deprecating the current version keeps it current */
	put(f->s, f->a, "lifecycle", lifecycle("events", "contract", "2.1.0", "deprecated"));
	expect_current(f->s, "alpha", "events", "2.1.0", MYCEL_STATUS_DEPRECATED);
	q = query("geo");
	expect_hits(f->s, &q, "alpha/events");
	q.status = MYCEL_STATUS_DEPRECATED;
	expect_hits(f->s, &q, "alpha/events");
	q.status = MYCEL_STATUS_ACTIVE;
	expect_hits(f->s, &q, "");

	/* retiring it makes the next highest current: its index entries replace the old ones */
	put(f->s, f->a, "lifecycle", lifecycle("events", "contract", "2.1.0", "retired"));
	expect_current(f->s, "alpha", "events", "2.0.0", MYCEL_STATUS_ACTIVE);
	q = query("geo");
	expect_hits(f->s, &q, "");
	q = query("sessionised");
	expect_hits(f->s, &q, "alpha/events");

	/* a retired version does not come back */
	put(f->s, f->a, "lifecycle", lifecycle("events", "contract", "2.1.0", "deprecated"));
	expect_current(f->s, "alpha", "events", "2.0.0", MYCEL_STATUS_ACTIVE);

	/* a lifecycle entry of another domain, or for the other kind, changes nothing */
	put(f->s, f->b, "lifecycle", lifecycle("events", "contract", "2.0.0", "retired"));
	put(f->s, f->a, "lifecycle", lifecycle("events", "product", "2.0.0", "retired"));
	put(f->s, f->a, "lifecycle", lifecycle("events", "contract", "9.0.0", "retired"));
	expect_current(f->s, "alpha", "events", "2.0.0", MYCEL_STATUS_ACTIVE);

	/* everything retired: the highest is current, retired, kept, and hidden by default */
	put(f->s, f->a, "lifecycle", lifecycle("events", "contract", "2.0.0", "retired"));
	put(f->s, f->a, "lifecycle", lifecycle("events", "contract", "1.0.0", "retired"));
	expect_current(f->s, "alpha", "events", "2.1.0", MYCEL_STATUS_RETIRED);
	q = query("clicks");
	hits_of(f->s, &q, buf, sizeof(buf), &total);
	assert_string_equal(buf, "");
	assert_int_equal(total, 0);
	q.status = MYCEL_STATUS_RETIRED;
	expect_hits(f->s, &q, "alpha/events");
	q.status = MYCEL_STATUS_ANY;
	expect_hits(f->s, &q, "alpha/events");
	q = query("geo"); /* the current (retired) version is the one indexed */
	q.status = MYCEL_STATUS_ANY;
	expect_hits(f->s, &q, "alpha/events");

	/* a new version revives the document */
	put(f->s, f->a, "contract", contract("events", "3.0.0", "Click events v3", "Clicks, v3.", NULL, NULL, NULL));
	expect_current(f->s, "alpha", "events", "3.0.0", MYCEL_STATUS_ACTIVE);
	/* a lower version published later is not current */
	put(f->s, f->a, "contract", contract("events", "2.5.0", "Click events v25", "Clicks, v25.", NULL, NULL, NULL));
	expect_current(f->s, "alpha", "events", "3.0.0", MYCEL_STATUS_ACTIVE);
	q = query("v25");
	expect_hits(f->s, &q, "");
	verify_clean(f->s);
	assert_reindex_identical(f->s, "lifecycle");
}

/* ---- search --------------------------------------------------------------------------------------- */

static void search_corpus(fx *f)
{
	g_ar = f->ar;
	/* the word "orders" in the name (exactly), a tag, a property, a business name, a description */
	put(f->s, f->b, "contract", contract("c-lines", "1.0.0", "Order lines", "Lines of each order.",
					     varr(2, vstr("Orders"), vstr("finance")),
					     varr(1, prop("line_id", NULL, "internal")), "postgres"));
	put(f->s, f->a, "contract", contract("c-orders", "1.0.0", "Orders", "Every order placed.",
					     varr(1, vstr("sales")),
					     varr(2, prop("order_id", "order id", "internal"),
						  prop("amount", "amount paid", "restricted")),
					     "postgres"));
	put(f->s, f->a, "contract", contract("c-ship", "1.0.0", "Shipments",
					     "Shipments of orders to customers.", NULL,
					     varr(1, prop("tracking", NULL, "public")), "kafka"));
	put(f->s, f->c, "contract", contract("c-props", "1.0.0", "Revenue", "Money in.", NULL,
					     varr(1, prop("orders", NULL, "public")), "bigquery"));
	put(f->s, f->c, "contract", contract("c-biz", "1.0.0", "Ledger", "Booked amounts.", NULL,
					     varr(1, prop("ledger_ref", "orders reference", "public")),
					     NULL));
	put(f->s, f->b, "product", product("p-orders", "1.0.0", "Orders mart", "Curated orders.",
					   varr(1, vstr("sales")), NULL, NULL));
}

static void test_search_ranking(void **state)
{
	fx *f = *state;
	mycel_search_query q;
	mycel_search_result r;
	search_corpus(f);

	/* exact name first, then the name holding the word, then tag, business name, property, description */
	q = query("orders");
	memset(&r, 0, sizeof(r));
	assert_int_equal(mycel_catalog_search(f->s, &q, &r), 0);
	assert_int_equal(r.total, 6);
	assert_int_equal(r.n, 6);
	static const char *const want[][3] = {
	    {"alpha", "c-orders", "name"}, {"beta", "p-orders", "name"}, {"beta", "c-lines", "tag"},
	    {"gamma", "c-biz", "business name"}, {"gamma", "c-props", "property"},
	    {"alpha", "c-ship", "description"}};
	for (size_t i = 0; i < 6; i++) {
		if (strcmp(r.hits[i].domain, want[i][0]) != 0 || strcmp(r.hits[i].id, want[i][1]) != 0 ||
		    strcmp(r.hits[i].matched, want[i][2]) != 0)
			fail_msg("hit %zu: %s/%s (%s, %.0f), want %s/%s (%s)", i, r.hits[i].domain,
				 r.hits[i].id, r.hits[i].matched, r.hits[i].score, want[i][0], want[i][1],
				 want[i][2]);
		if (i > 0)
			assert_true(r.hits[i - 1].score >= r.hits[i].score);
	}
	assert_string_equal(r.hits[0].name, "Orders");
	assert_string_equal(r.hits[0].snippet, "Every order placed.");
	assert_string_equal(r.hits[0].version, "1.0.0");
	assert_int_equal(r.hits[0].kind, MYCEL_DOC_CONTRACT);
	assert_int_equal(r.hits[1].kind, MYCEL_DOC_PRODUCT);
	assert_int_equal(r.hits[0].status, MYCEL_STATUS_ACTIVE);
	mycel_search_result_fini(&r);

	/* case-insensitive; the last word is a prefix; words are ANDed */
	q = query("ORDERS");
	expect_hits(f->s, &q, "alpha/c-orders beta/p-orders beta/c-lines gamma/c-biz gamma/c-props alpha/c-ship");
	q = query("shipm");
	expect_hits(f->s, &q, "alpha/c-ship");
	q = query("orders custom");
	expect_hits(f->s, &q, "alpha/c-ship");
	q = query("custom orders"); /* only the last word is a prefix */
	expect_hits(f->s, &q, "");
	q = query("orders mart");
	expect_hits(f->s, &q, "beta/p-orders");
	q = query("customers ledger");
	expect_hits(f->s, &q, "");
	q = query("zzz");
	expect_hits(f->s, &q, "");
	q = query("orde");
	expect_hits(f->s, &q, "alpha/c-orders beta/c-lines beta/p-orders gamma/c-biz gamma/c-props alpha/c-ship");
	/* the exact id scores like an exact name */
	q = query("c-ship");
	expect_hits(f->s, &q, "alpha/c-ship");
	/* schema object names and business names are searchable */
	q = query("tracking");
	expect_hits(f->s, &q, "alpha/c-ship");
	q = query("core table");
	expect_hits(f->s, &q, "alpha/c-orders alpha/c-ship beta/c-lines gamma/c-biz gamma/c-props");
	/* one-character words are not indexed and not required */
	q = query("a orders x");
	expect_hits(f->s, &q, "alpha/c-orders beta/p-orders beta/c-lines gamma/c-biz gamma/c-props alpha/c-ship");

	/* facets filter text queries */
	q = query("orders");
	q.domain = "alpha";
	expect_hits(f->s, &q, "alpha/c-orders alpha/c-ship");
	q.domain = NULL;
	q.kind = MYCEL_DOC_PRODUCT;
	expect_hits(f->s, &q, "beta/p-orders");
	q.kind = 0;
	q.tags[0] = "SALES";
	q.n_tags = 1;
	expect_hits(f->s, &q, "alpha/c-orders beta/p-orders");
	q.tags[1] = "finance";
	q.n_tags = 2;
	expect_hits(f->s, &q, "");
	q = query("orders");
	q.classification = "restricted";
	expect_hits(f->s, &q, "alpha/c-orders");
	q.classification = NULL;
	q.server_type = "Postgres";
	expect_hits(f->s, &q, "alpha/c-orders beta/c-lines");
	q.domain = "nowhere";
	expect_hits(f->s, &q, "");
	verify_clean(f->s);
	assert_reindex_identical(f->s, "search");
}

/*
 * A prefix of many terms stops counting once the page cannot change: the hits
 * are those of a full count (an exact name after the stop still comes first),
 * total is a lower bound and total_exact false; a page beyond the matches
 * counts them all.
 */
static void test_search_bounded(void **state)
{
	fx *f = *state;
	g_ar = f->ar;
	mycel_buf b[40];
	mycel_record recs[40];
	for (int i = 0; i < 40; i++) {
		char id[16], name[32];
		snprintf(id, sizeof(id), "d%02d", i);
		snprintf(name, sizeof(name), "qa%02d table", i);
		mycel_buf_init(&b[i], MYCEL_BODY_MAX);
		assert_int_equal(mycel_value_encode(contract(id, "1.0.0", name, "rows", NULL, NULL, NULL), &b[i]), 0);
		recs[i] = (mycel_record){"contract", b[i].data, b[i].len};
	}
	assert_int_equal(mycel_store_append(f->s, f->a, f->a->pk, recs, 40, NULL), 0);
	for (int i = 0; i < 40; i++)
		mycel_buf_fini(&b[i]);
	put(f->s, f->b, "contract", contract("b1", "1.0.0", "other", "see qa99", NULL, NULL, NULL));
	put(f->s, f->c, "contract", contract("zz", "1.0.0", "qa", "last", NULL, NULL, NULL));
	assert_reindex_identical(f->s, "bounded");

	mycel_search_query q = query("qa");
	mycel_search_result r;
	q.limit = 5;
	assert_int_equal(mycel_catalog_search(f->s, &q, &r), 0);
	assert_false(r.total_exact);
	assert_true(r.total >= 5 && r.total < 42);
	mycel_search_result_fini(&r);
	expect_hits(f->s, &q, "gamma/zz alpha/d00 alpha/d01 alpha/d02 alpha/d03");
	q.offset = 3;
	q.limit = 2;
	expect_hits(f->s, &q, "alpha/d02 alpha/d03");
	q.offset = 0;
	q.limit = 50;
	assert_int_equal(mycel_catalog_search(f->s, &q, &r), 0);
	assert_true(r.total_exact);
	assert_int_equal(r.total, 42);
	assert_string_equal(r.hits[0].id, "zz");
	assert_string_equal(r.hits[41].id, "b1");
	mycel_search_result_fini(&r);
	q = query("table qa");
	q.limit = 3;
	assert_int_equal(mycel_catalog_search(f->s, &q, &r), 0);
	assert_false(r.total_exact);
	mycel_search_result_fini(&r);
	expect_hits(f->s, &q, "alpha/d00 alpha/d01 alpha/d02");
	/* one term: counted exactly */
	q = query("qa05");
	assert_int_equal(mycel_catalog_search(f->s, &q, &r), 0);
	assert_true(r.total_exact);
	assert_int_equal(r.total, 1);
	mycel_search_result_fini(&r);
}

static void test_facets_and_paging(void **state)
{
	fx *f = *state;
	g_ar = f->ar;
	mycel_search_query q;
	size_t total;
	char all[8192], page[8192], joined[8192];

	/* 25 sensors over three domains, every fifth also tagged "hot"; one retired */
	for (int i = 0; i < 25; i++) {
		char id[32], name[64];
		const mycel_key *k = i % 3 == 0 ? f->a : i % 3 == 1 ? f->b : f->c;
		snprintf(id, sizeof(id), "sensor-%02d", i);
		snprintf(name, sizeof(name), "Sensor feed %d", i);
		put(f->s, k, i % 2 ? "contract" : "product",
		    i % 2 ? contract(id, "1.0.0", name, "Readings of a sensor.",
				     i % 5 == 0 ? varr(2, vstr("iot"), vstr("hot")) : varr(1, vstr("iot")),
				     NULL, NULL)
			  : product(id, "1.0.0", name, "Readings of a sensor.",
				    i % 5 == 0 ? varr(2, vstr("iot"), vstr("hot")) : varr(1, vstr("iot")),
				    NULL, NULL));
	}
	put(f->s, f->a, "lifecycle", lifecycle("sensor-00", "product", "1.0.0", "retired"));

	/* paging: every hit once, in order, with the total each time */
	q = query("sensor");
	q.limit = 1000;
	hits_of(f->s, &q, all, sizeof(all), &total);
	assert_int_equal(total, 24);
	joined[0] = '\0';
	for (size_t off = 0; off < 30; off += 10) {
		q.limit = 10;
		q.offset = off;
		hits_of(f->s, &q, page, sizeof(page), &total);
		assert_int_equal(total, 24);
		if (page[0] != '\0') {
			size_t jl = strlen(joined), pl = strlen(page);
			assert_true(jl + 1 + pl < sizeof(joined));
			if (jl > 0)
				joined[jl++] = ' ';
			memcpy(joined + jl, page, pl + 1);
		}
	}
	assert_string_equal(joined, all);
	q.offset = 1000;
	hits_of(f->s, &q, page, sizeof(page), &total);
	assert_string_equal(page, "");
	assert_int_equal(total, 24);

	/* facet-only queries list documents by domain, then id */
	q = query(NULL);
	q.limit = 3;
	hits_of(f->s, &q, page, sizeof(page), &total);
	assert_int_equal(total, 24);
	assert_string_equal(page, "alpha/sensor-03 alpha/sensor-06 alpha/sensor-09");
	q.offset = 22;
	hits_of(f->s, &q, page, sizeof(page), &total);
	assert_string_equal(page, "gamma/sensor-20 gamma/sensor-23");
	q = query(NULL);
	q.domain = "beta";
	q.limit = 100;
	hits_of(f->s, &q, page, sizeof(page), &total);
	assert_int_equal(total, 8);
	q = query(NULL);
	q.tags[0] = "hot";
	q.n_tags = 1;
	q.limit = 2;
	hits_of(f->s, &q, page, sizeof(page), &total);
	assert_int_equal(total, 4); /* 00 (retired), 05, 10, 15, 20 */
	assert_string_equal(page, "alpha/sensor-15 beta/sensor-10");
	q.status = MYCEL_STATUS_ANY;
	q.limit = 20;
	hits_of(f->s, &q, page, sizeof(page), &total);
	assert_int_equal(total, 5);
	assert_string_equal(page, "alpha/sensor-00 alpha/sensor-15 beta/sensor-10 gamma/sensor-05 gamma/sensor-20");
	q.domain = "alpha";
	hits_of(f->s, &q, page, sizeof(page), &total);
	assert_string_equal(page, "alpha/sensor-00 alpha/sensor-15");
	q = query(NULL);
	q.status = MYCEL_STATUS_RETIRED;
	hits_of(f->s, &q, page, sizeof(page), &total);
	assert_string_equal(page, "alpha/sensor-00");
	assert_int_equal(total, 1);
	q = query(NULL);
	q.kind = MYCEL_DOC_CONTRACT;
	q.domain = "gamma";
	hits_of(f->s, &q, page, sizeof(page), &total);
	assert_string_equal(page, "gamma/sensor-05 gamma/sensor-11 gamma/sensor-17 gamma/sensor-23");
	assert_int_equal(total, 4);

	/* facet counts */
	mycel_facet_count *fc = NULL;
	size_t nfc = 0;
	q = query(NULL);
	assert_int_equal(mycel_catalog_facets(f->s, &q, &fc, &nfc), 0);
	struct {
		const char *facet, *value;
		size_t count;
	} want[] = {{"domain", "alpha", 8}, {"domain", "beta", 8},      {"domain", "gamma", 8},
		    {"kind", "contract", 12}, {"kind", "product", 12},  {"status", "active", 24},
		    {"tag", "iot", 24},      {"tag", "hot", 4}};
	assert_int_equal(nfc, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < nfc; i++) {
		if (strcmp(fc[i].facet, want[i].facet) != 0 || strcmp(fc[i].value, want[i].value) != 0 ||
		    fc[i].count != want[i].count)
			fail_msg("facet %zu: %s=%s %zu, want %s=%s %zu", i, fc[i].facet, fc[i].value,
				 fc[i].count, want[i].facet, want[i].value, want[i].count);
	}
	free(fc);
	q = query("sensor");
	q.domain = "alpha";
	q.status = MYCEL_STATUS_ANY;
	assert_int_equal(mycel_catalog_facets(f->s, &q, &fc, &nfc), 0);
	size_t seen = 0;
	for (size_t i = 0; i < nfc; i++) {
		if (strcmp(fc[i].facet, "domain") == 0) {
			assert_string_equal(fc[i].value, "alpha");
			assert_int_equal(fc[i].count, 9);
			seen++;
		}
		if (strcmp(fc[i].facet, "status") == 0 && strcmp(fc[i].value, "retired") == 0) {
			assert_int_equal(fc[i].count, 1);
			seen++;
		}
	}
	assert_int_equal(seen, 2);
	free(fc);
	verify_clean(f->s);
	assert_reindex_identical(f->s, "facets");
}

/* ---- lineage --------------------------------------------------------------------------------------- */

/* "depth:kind:domain/id:via:port[:flags]" per node, joined by " | ". */
static void lineage_str(mycel_store *s, const char *dom, const char *id, mycel_lineage_dir dir,
			int depth, char *out, size_t n)
{
	mycel_lineage l;
	int rv = mycel_catalog_lineage(s, dom, id, dir, depth, &l);
	if (rv != 0)
		fail_msg("lineage %s/%s: %s", dom, id, mycel_errname(rv));
	out[0] = '\0';
	for (size_t i = 0; i < l.n; i++) {
		const mycel_lineage_node *nd = &l.nodes[i];
		size_t len = strlen(out);
		snprintf(out + len, n - len, "%s%d:%c:%s/%s:%s:%s%s%s%s", i ? " | " : "", nd->depth,
			 nd->kind == MYCEL_DOC_PRODUCT ? 'p' : 'c', nd->domain, nd->id, nd->via,
			 nd->port, nd->repeated ? ":repeated" : "", nd->dangling ? ":dangling" : "",
			 nd->ambiguous ? ":ambiguous" : "");
		if (i > 0)
			assert_true(nd->parent >= 0 && (size_t)nd->parent < i &&
				    l.nodes[nd->parent].depth == nd->depth - 1);
		else
			assert_int_equal(nd->parent, -1);
		assert_non_null(nd->name);
	}
	mycel_lineage_fini(&l);
}

static void expect_lineage(mycel_store *s, const char *dom, const char *id, mycel_lineage_dir dir,
			   int depth, const char *want)
{
	char got[8192];
	lineage_str(s, dom, id, dir, depth, got, sizeof(got));
	if (strcmp(got, want) != 0)
		fail_msg("lineage %s/%s %s %d:\n got  %s\n want %s", dom, id,
			 dir == MYCEL_LINEAGE_UP ? "up" : "down", depth, got, want);
}

static void test_lineage(void **state)
{
	fx *f = *state;
	g_ar = f->ar;
	mycel_lineage l;

	/* raw (alpha) -> cleaner (beta) -> clean (beta) -> reporter (gamma) -> report (gamma) */
	put(f->s, f->a, "contract", contract("raw", "1.0.0", "Raw events", NULL, NULL, NULL, NULL));
	put(f->s, f->b, "product", product("cleaner", "1.0.0", "Cleaner", NULL, NULL,
					   varr(1, port("raw-in", "raw")), varr(1, port("clean-out", "clean"))));
	put(f->s, f->c, "product", product("reporter", "1.0.0", "Reporter", NULL, NULL,
					   varr(1, port("clean-in", "clean")),
					   varr(1, port("report-out", "report"))));
	/* clean and report are published after the products that name them */
	expect_lineage(f->s, "gamma", "reporter", MYCEL_LINEAGE_UP, 2,
		       "0:p:gamma/reporter:: | 1:c:/clean:input:clean-in:dangling | "
		       "2:p:beta/cleaner:output:clean-out");
	put(f->s, f->b, "contract", contract("clean", "1.0.0", "Clean events", NULL, NULL, NULL, NULL));
	put(f->s, f->c, "contract", contract("report", "1.0.0", "Report", NULL, NULL, NULL, NULL));

	expect_lineage(f->s, "gamma", "report", MYCEL_LINEAGE_UP, 32,
		       "0:c:gamma/report:: | 1:p:gamma/reporter:output:report-out | "
		       "2:c:beta/clean:input:clean-in | 3:p:beta/cleaner:output:clean-out | "
		       "4:c:alpha/raw:input:raw-in");
	expect_lineage(f->s, "gamma", "report", MYCEL_LINEAGE_UP, 2,
		       "0:c:gamma/report:: | 1:p:gamma/reporter:output:report-out | "
		       "2:c:beta/clean:input:clean-in");
	expect_lineage(f->s, "alpha", "raw", MYCEL_LINEAGE_DOWN, 32,
		       "0:c:alpha/raw:: | 1:p:beta/cleaner:input:raw-in | "
		       "2:c:beta/clean:output:clean-out | 3:p:gamma/reporter:input:clean-in | "
		       "4:c:gamma/report:output:report-out");
	expect_lineage(f->s, "alpha", "raw", MYCEL_LINEAGE_DOWN, 1,
		       "0:c:alpha/raw:: | 1:p:beta/cleaner:input:raw-in");
	expect_lineage(f->s, "alpha", "raw", MYCEL_LINEAGE_UP, 5, "0:c:alpha/raw::");
	assert_int_equal(mycel_catalog_lineage(f->s, "gamma", "nope", MYCEL_LINEAGE_UP, 3, &l),
			 MYCEL_ENOTFOUND);
	assert_int_equal(mycel_catalog_lineage(f->s, "gamma", "report", MYCEL_LINEAGE_UP, 0, &l),
			 MYCEL_EINVAL);
	assert_int_equal(mycel_catalog_lineage(f->s, "gamma", "report", MYCEL_LINEAGE_UP, 33, &l),
			 MYCEL_EINVAL);

	/* names are filled in */
	assert_int_equal(mycel_catalog_lineage(f->s, "alpha", "raw", MYCEL_LINEAGE_DOWN, 2, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.nodes[0].name, "Raw events");
	assert_string_equal(l.nodes[1].name, "Cleaner");
	assert_string_equal(l.nodes[2].name, "Clean events");
	mycel_lineage_fini(&l);

	/* a new version of a product replaces its edges */
	put(f->s, f->b, "product", product("cleaner", "1.1.0", "Cleaner", NULL, NULL,
					   varr(1, port("raw-in", "raw")),
					   varr(1, port("clean-out-2", "clean"))));
	expect_lineage(f->s, "alpha", "raw", MYCEL_LINEAGE_DOWN, 2,
		       "0:c:alpha/raw:: | 1:p:beta/cleaner:input:raw-in | "
		       "2:c:beta/clean:output:clean-out-2");
	verify_clean(f->s);
	assert_reindex_identical(f->s, "lineage chain");
}

static void test_lineage_shapes(void **state)
{
	fx *f = *state;
	g_ar = f->ar;
	mycel_lineage l;

	/* a diamond: mart reads a and b, both made by maker from src */
	put(f->s, f->a, "contract", contract("src", "1.0.0", "Source", NULL, NULL, NULL, NULL));
	put(f->s, f->a, "contract", contract("a", "1.0.0", "A", NULL, NULL, NULL, NULL));
	put(f->s, f->a, "contract", contract("b", "1.0.0", "B", NULL, NULL, NULL, NULL));
	put(f->s, f->a, "product", product("maker", "1.0.0", "Maker", NULL, NULL,
					   varr(1, port("in", "src")),
					   varr(2, port("out-a", "a"), port("out-b", "b"))));
	put(f->s, f->b, "product", product("mart", "1.0.0", "Mart", NULL, NULL,
					   varr(2, port("in-a", "a"), port("in-b", "b")), NULL));
	expect_lineage(f->s, "beta", "mart", MYCEL_LINEAGE_UP, 10,
		       "0:p:beta/mart:: | 1:c:alpha/a:input:in-a | 2:p:alpha/maker:output:out-a | "
		       "3:c:alpha/src:input:in | 1:c:alpha/b:input:in-b | "
		       "2:p:alpha/maker:output:out-b:repeated");
	expect_lineage(f->s, "alpha", "src", MYCEL_LINEAGE_DOWN, 10,
		       "0:c:alpha/src:: | 1:p:alpha/maker:input:in | 2:c:alpha/a:output:out-a | "
		       "3:p:beta/mart:input:in-a | 2:c:alpha/b:output:out-b | "
		       "3:p:beta/mart:input:in-b:repeated");

	/* a cycle: loop reads what it writes */
	put(f->s, f->c, "contract", contract("state", "1.0.0", "State", NULL, NULL, NULL, NULL));
	put(f->s, f->c, "product", product("loop", "1.0.0", "Loop", NULL, NULL,
					   varr(1, port("prev", "state")), varr(1, port("next", "state"))));
	expect_lineage(f->s, "gamma", "loop", MYCEL_LINEAGE_UP, 10,
		       "0:p:gamma/loop:: | 1:c:gamma/state:input:prev | "
		       "2:p:gamma/loop:output:next:repeated");

	/* dangling and ambiguous references are shown, with the candidates */
	put(f->s, f->a, "contract", contract("dup", "1.0.0", "Dup in alpha", NULL, NULL, NULL, NULL));
	put(f->s, f->b, "contract", contract("dup", "1.0.0", "Dup in beta", NULL, NULL, NULL, NULL));
	put(f->s, f->c, "product", product("consumer", "1.0.0", "Consumer", NULL, NULL,
					   varr(2, port("x", "dup"), port("y", "missing")), NULL));
	expect_lineage(f->s, "gamma", "consumer", MYCEL_LINEAGE_UP, 3,
		       "0:p:gamma/consumer:: | 1:c:/dup:input:x:ambiguous | "
		       "1:c:/missing:input:y:dangling");
	assert_int_equal(mycel_catalog_lineage(f->s, "gamma", "consumer", MYCEL_LINEAGE_UP, 3, &l), 0);
	assert_int_equal(l.nodes[1].n_candidates, 2);
	assert_string_equal(l.nodes[1].candidates[0], "alpha/dup");
	assert_string_equal(l.nodes[1].candidates[1], "beta/dup");
	assert_int_equal(l.nodes[2].n_candidates, 0);
	assert_string_equal(l.nodes[2].name, "");
	mycel_lineage_fini(&l);
	/* down from either contract reaches the consumer */
	expect_lineage(f->s, "beta", "dup", MYCEL_LINEAGE_DOWN, 3,
		       "0:c:beta/dup:: | 1:p:gamma/consumer:input:x");
	/* the missing contract is published late: the reference resolves */
	put(f->s, f->a, "contract", contract("missing", "1.0.0", "Found", NULL, NULL, NULL, NULL));
	expect_lineage(f->s, "gamma", "consumer", MYCEL_LINEAGE_UP, 3,
		       "0:p:gamma/consumer:: | 1:c:/dup:input:x:ambiguous | "
		       "1:c:alpha/missing:input:y");
	verify_clean(f->s);
	assert_reindex_identical(f->s, "lineage shapes");
}

/* ---- derivation: reindex, order of arrival, ingest ----------------------------------------------- */

/* A varied history over three feeds: versions, lifecycle, lineage, late references. */
static void history(fx *f, mycel_store *s, int part)
{
	g_ar = f->ar;
	if (part == 0) {
		put(s, f->a, "contract", contract("orders", "1.0.0", "Orders", "Orders, daily.",
						  varr(2, vstr("sales"), vstr("core")),
						  varr(2, prop("order_id", "Order id", "internal"),
						       prop("email", "Customer email", "pii")),
						  "postgres"));
		put(s, f->a, "product", product("order-mart", "1.0.0", "Order mart", "Orders by day.",
						varr(1, vstr("sales")), varr(1, port("orders", "orders")),
						varr(1, port("daily", "daily-orders"))));
		put(s, f->a, "contract", contract("orders", "1.1.0", "Orders", "Orders, hourly.",
						  varr(1, vstr("sales")),
						  varr(1, prop("order_id", "Order id", "internal")),
						  "snowflake"));
	} else if (part == 1) {
		put(s, f->b, "product", product("finance", "2.0.0", "Finance cube", "Money.",
						varr(1, vstr("finance")),
						varr(2, port("o", "orders"), port("d", "daily-orders")),
						NULL));
		put(s, f->b, "contract", contract("daily-orders", "1.0.0", "Daily orders", "Per day.",
						  NULL, varr(1, prop("day", NULL, "public")), NULL));
		put(s, f->b, "lifecycle", lifecycle("finance", "product", "2.0.0", "deprecated"));
	} else if (part == 2) {
		put(s, f->c, "contract", contract("daily-orders", "0.9.0", "Daily orders (gamma)", NULL,
						  NULL, NULL, NULL));
		put(s, f->c, "contract", contract("kpi", "3.0.0", "KPIs", "Key figures.", NULL, NULL, NULL));
		put(s, f->c, "contract", contract("kpi", "3.1.0", "KPIs", "Key figures v31.", NULL, NULL, NULL));
		put(s, f->c, "lifecycle", lifecycle("kpi", "contract", "3.1.0", "retired"));
	} else {
		put(s, f->a, "lifecycle", lifecycle("orders", "contract", "1.0.0", "deprecated"));
		put(s, f->a, "product", product("order-mart", "1.1.0", "Order mart", "Orders by hour.",
						NULL, varr(1, port("orders", "orders")), NULL));
		put(s, f->b, "lifecycle", lifecycle("daily-orders", "contract", "1.0.0", "retired"));
	}
}

static void test_reindex_identical(void **state)
{
	fx *f = *state;
	for (int part = 0; part < 4; part++) {
		history(f, f->s, part);
		assert_reindex_identical(f->s, "history");
	}
	assert_true(count_rows(f->s, "cat_docs") == 6);
	assert_true(count_rows(f->s, "cat_terms") > 30);
	assert_true(count_rows(f->s, "cat_up") > 0);
	verify_clean(f->s);

	/* the same feeds, arriving in another order across feeds: the same tables */
	mycel_store *s2 = new_store(f, f->dir2, sizeof(f->dir2));
	history(f, s2, 2);
	history(f, s2, 1);
	history(f, s2, 0);
	/* part 3 touches alpha then beta: its alpha entries come last here */
	g_ar = f->ar;
	put(s2, f->b, "lifecycle", lifecycle("daily-orders", "contract", "1.0.0", "retired"));
	put(s2, f->a, "lifecycle", lifecycle("orders", "contract", "1.0.0", "deprecated"));
	put(s2, f->a, "product", product("order-mart", "1.1.0", "Order mart", "Orders by hour.", NULL,
					 varr(1, port("orders", "orders")), NULL));
	/*
	 * Each feed holds the same entries in the same order, signed at other
	 * times: every table is the same but for the entries' ts_ms in cat_versions.
	 */
	assert_same_dump(f->s, s2, true, "another order of arrival across feeds");
	mycel_search_query q = query("orders");
	char x[4096], y[4096];
	size_t tx, ty;
	hits_of(f->s, &q, x, sizeof(x), &tx);
	hits_of(s2, &q, y, sizeof(y), &ty);
	assert_string_equal(x, y);
	assert_int_equal(tx, ty);
	mycel_store_close(s2);

	/* reopening keeps the catalog; a read-only handle reads it */
	mycel_buf before;
	dump(f->s, &before);
	mycel_store_close(f->s);
	char why[256];
	assert_int_equal(mycel_store_open(f->dir, MYCEL_STORE_READONLY, &f->s, why, sizeof(why)), 0);
	mycel_buf after;
	dump(f->s, &after);
	assert_int_equal(before.len, after.len);
	assert_memory_equal(before.data, after.data, before.len);
	mycel_buf_fini(&after);
	expect_current(f->s, "alpha", "orders", "1.1.0", MYCEL_STATUS_ACTIVE);
	assert_int_not_equal(mycel_store_reindex(f->s), 0); /* read-only */
	mycel_store_close(f->s);
	assert_int_equal(mycel_store_open(f->dir, 0, &f->s, why, sizeof(why)), 0);
	dump(f->s, &after);
	assert_int_equal(before.len, after.len);
	assert_memory_equal(before.data, after.data, before.len);
	mycel_buf_fini(&after);
	mycel_buf_fini(&before);
}

typedef struct blobs {
	mycel_blob *b;
	size_t n, cap;
} blobs;

static int collect_cb(void *ctx, const mycel_entry *e, const uint8_t *body, size_t body_len)
{
	blobs *x = ctx;
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 64;
		x->b = realloc(x->b, x->cap * sizeof(*x->b));
		assert_non_null(x->b);
	}
	uint8_t *ent = malloc(e->len), *bd = malloc(body_len ? body_len : 1);
	assert_non_null(ent);
	assert_non_null(bd);
	memcpy(ent, e->raw, e->len);
	memcpy(bd, body, body_len);
	x->b[x->n++] = (mycel_blob){ent, e->len, bd, body_len};
	return 0;
}

static void blobs_fini(blobs *x)
{
	for (size_t i = 0; i < x->n; i++) {
		free((void *)x->b[i].entry);
		free((void *)x->b[i].body);
	}
	free(x->b);
}

static void test_ingest_same_dump(void **state)
{
	fx *f = *state;
	for (int part = 0; part < 4; part++)
		history(f, f->s, part);
	/* B ingests A's feeds, gamma's first, in two batches each */
	mycel_store *s2 = new_store(f, f->dir2, sizeof(f->dir2));
	const mycel_key *order[] = {f->c, f->a, f->b};
	for (size_t i = 0; i < 3; i++) {
		blobs x = {0};
		mycel_ingest_result res;
		assert_int_equal(mycel_store_scan(f->s, order[i]->pk, 1, collect_cb, &x), 0);
		assert_true(x.n > 0);
		size_t half = x.n / 2;
		assert_int_equal(mycel_store_ingest(s2, x.b, half, &res), 0);
		assert_int_equal(mycel_store_ingest(s2, x.b + half, x.n - half, &res), 0);
		assert_int_equal(res.accepted, x.n - half);
		blobs_fini(&x);
	}
	assert_same_dump(f->s, s2, false, "ingest");
	assert_int_equal(mycel_store_reindex(s2), 0);
	assert_same_dump(f->s, s2, false, "ingest, then reindex");
	verify_clean(s2);
	mycel_store_close(s2);
}

/*
 * Long posting lists, changed in every way: 1800 documents over three feeds
 * hold words from a small vocabulary (in names or descriptions), so each
 * word's list has hundreds of postings in many blocks and runs; then new
 * versions move words in and out and between fields, and documents are
 * retired. The catalog must equal a rebuild, and every search total must
 * equal a count over a model of the documents.
 */
#define SW_WORDS 8
#define SW_DOCS 1800
static const char *const sw_words[SW_WORDS] = {"amber", "ambit", "birch", "birds",
					       "cedar", "delta", "deltas", "ember"};

typedef struct swdoc {
	unsigned name_words, desc_words; /* bit masks over sw_words */
	bool retired;
} swdoc;

static uint64_t sw_rng = 0x2545f4914f6cdd1dull;
static unsigned sw_rand(unsigned n)
{
	sw_rng ^= sw_rng << 13;
	sw_rng ^= sw_rng >> 7;
	sw_rng ^= sw_rng << 17;
	return (unsigned)(sw_rng % n);
}

static void sw_text(char *out, size_t cap, unsigned mask)
{
	out[0] = '\0';
	for (unsigned w = 0; w < SW_WORDS; w++)
		if (mask & (1u << w))
			snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] ? " " : "", sw_words[w]);
	if (out[0] == '\0')
		snprintf(out, cap, "plain");
}

static void sw_put(fx *f, mycel_store *s, const mycel_key *const *keys, const swdoc *docs,
		   const unsigned *which, size_t n, const char *version)
{
	mycel_buf bodies[100];
	mycel_record recs[100];
	size_t nb[3] = {0}, k = 0;
	g_ar = f->ar;
	/* one batch per feed */
	for (int feed = 0; feed < 3; feed++) {
		size_t first = k;
		for (size_t i = 0; i < n; i++) {
			if (which[i] % 3 != (unsigned)feed)
				continue;
			char id[32], name[128], desc[128];
			snprintf(id, sizeof(id), "doc-%04u", which[i]);
			sw_text(name, sizeof(name), docs[which[i]].name_words);
			sw_text(desc, sizeof(desc), docs[which[i]].desc_words);
			mycel_buf_init(&bodies[k], 1 << 16);
			assert_int_equal(mycel_value_encode(contract(id, version, name, desc, NULL, NULL, NULL),
							    &bodies[k]), 0);
			recs[k] = (mycel_record){"contract", bodies[k].data, bodies[k].len};
			k++;
			nb[feed]++;
		}
		if (k > first)
			assert_int_equal(mycel_store_append(s, keys[feed], keys[feed]->pk, recs + first,
							    k - first, NULL), 0);
	}
	for (size_t i = 0; i < k; i++)
		mycel_buf_fini(&bodies[i]);
}

/* Documents (not retired) holding word a (any if a < 0) and a word that starts with prefix. */
static size_t sw_count(const swdoc *docs, int a, const char *prefix)
{
	unsigned pm = 0;
	size_t n = 0;
	for (unsigned w = 0; w < SW_WORDS; w++)
		if (strncmp(sw_words[w], prefix, strlen(prefix)) == 0)
			pm |= 1u << w;
	for (unsigned d = 0; d < SW_DOCS; d++) {
		unsigned has = docs[d].name_words | docs[d].desc_words;
		if (!docs[d].retired && (has & pm) && (a < 0 || (has & (1u << a))))
			n++;
	}
	return n;
}

static void sw_check(mycel_store *s, const swdoc *docs)
{
	static const char *const prefixes[] = {"am", "amb", "amber", "bir", "birds", "ce",
					       "del", "delta", "deltas", "em"};
	for (int a = -1; a < SW_WORDS; a++)
		for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++) {
			char text[64], buf[4096];
			size_t got = 0, want = sw_count(docs, a, prefixes[p]);
			snprintf(text, sizeof(text), "%s%s%s", a < 0 ? "" : sw_words[a], a < 0 ? "" : " ",
				 prefixes[p]);
			mycel_search_query q = query(text);
			q.limit = 1000;
			hits_of(s, &q, buf, sizeof(buf), &got);
			if (got != want)
				fail_msg("\"%s\": total %zu, want %zu", text, got, want);
			/* the hits are distinct and ranked: no docref twice */
			mycel_search_result r;
			assert_int_equal(mycel_catalog_search(s, &q, &r), 0);
			for (size_t i = 1; i < r.n; i++) {
				assert_true(r.hits[i - 1].score >= r.hits[i].score);
				for (size_t j = 0; j < i; j++)
					assert_false(strcmp(r.hits[i].domain, r.hits[j].domain) == 0 &&
						     strcmp(r.hits[i].id, r.hits[j].id) == 0);
			}
			mycel_search_result_fini(&r);
		}
}

static void test_postings_stress(void **state)
{
	fx *f = *state;
	const mycel_key *keys[3] = {f->a, f->b, f->c};
	swdoc *docs = calloc(SW_DOCS, sizeof(*docs));
	unsigned which[100];
	assert_non_null(docs);
	for (unsigned d = 0; d < SW_DOCS; d++) {
		docs[d].name_words = sw_rand(1u << SW_WORDS) & sw_rand(1u << SW_WORDS);
		docs[d].desc_words = sw_rand(1u << SW_WORDS);
	}
	/* first versions, in a shuffled order */
	unsigned *order = malloc(SW_DOCS * sizeof(*order));
	assert_non_null(order);
	for (unsigned i = 0; i < SW_DOCS; i++)
		order[i] = i;
	for (unsigned i = SW_DOCS - 1; i > 0; i--) {
		unsigned j = sw_rand(i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (unsigned i = 0; i < SW_DOCS; i += 100) {
		for (unsigned j = 0; j < 100; j++)
			which[j] = order[i + j];
		sw_put(f, f->s, keys, docs, which, 100, "1.0.0");
	}
	sw_check(f->s, docs);
	assert_reindex_identical(f->s, "stress: first versions");
	/* the lists are long: many blocks, and runs cut at 128 postings */
	mycel_buf dm;
	size_t blocks = 0, full = 0;
	dump(f->s, &dm);
	for (size_t off = 0; off < dm.len;) {
		drec r;
		off = drec_at(&dm, off, &r);
		const uint8_t *z = memchr(r.k, 0, r.kn);
		if (strcmp(r.table, "cat_terms") != 0 || z == NULL || (size_t)(z + 1 - r.k) == r.kn)
			continue;
		mycel__bdec d;
		size_t n = 0;
		mycel__bdec_init(&d, r.v, r.vn);
		while (mycel__bdec_next(&d))
			n++;
		blocks++;
		full += n == 128;
	}
	mycel_buf_fini(&dm);
	print_message("stress: %zu blocks, %zu of 128 postings\n", blocks, full);
	assert_true(blocks > 200);
	assert_true(full > 0);
	/* second versions of 900 documents: words come, go and move between fields */
	for (unsigned i = 0; i < 900; i += 100) {
		for (unsigned j = 0; j < 100; j++) {
			unsigned d = order[(i + j) * 2 % SW_DOCS];
			docs[d].name_words = sw_rand(1u << SW_WORDS) & sw_rand(1u << SW_WORDS);
			docs[d].desc_words = sw_rand(1u << SW_WORDS) & sw_rand(1u << SW_WORDS);
			which[j] = d;
		}
		sw_put(f, f->s, keys, docs, which, 100, "2.0.0");
	}
	/* every seventh document retired, whole */
	g_ar = f->ar;
	for (unsigned d = 0; d < SW_DOCS; d += 7) {
		char id[32];
		snprintf(id, sizeof(id), "doc-%04u", d);
		put(f->s, keys[d % 3], "lifecycle", lifecycle(id, "contract", "1.0.0", "retired"));
		put(f->s, keys[d % 3], "lifecycle", lifecycle(id, "contract", "2.0.0", "retired"));
		docs[d].retired = true;
	}
	sw_check(f->s, docs);
	assert_reindex_identical(f->s, "stress: second versions and retirements");
	verify_clean(f->s);
	free(order);
	free(docs);
}

/*
 * Search against a reference: 3000 generated documents in three domains
 * (contracts and products; short ids, ids sharing a 140-byte prefix, ids
 * repeated across domains; words in names, descriptions, tags, properties,
 * business names and ports; some updated, deprecated or retired) and many
 * random queries (words, prefixes that expand to one, several or a hundred
 * terms, exact names and ids, every facet, statuses, limits and offsets).
 * Each query's hits, scores, order and total must equal those of a plain
 * evaluation over every document's forward image (cat_fwd: what the
 * document put into the posting lists), ranked by the rules of
 * mycel_catalog_search; its facet counts must equal the counts over the
 * matching documents. The posting lists, their blocks and every way of
 * moving through them (leapfrog, unions, per-candidate prefix checks,
 * bounded prefixes) stand between the two.
 */
#define RF_DOCS 3000
#define RF_QUERIES 700
#define RF_TERMS_MAX 96
#define RF_FACETS_MAX 24

static const char *const rf_words[] = {"amber",  "ambit",  "amble",   "birch",  "birds",
                                       "cedar",  "delta",  "deltas",  "ember",  "emblem",
                                       "orders", "order",  "ordinal", "ledger", "lead",
                                       "leader", "market", "marker",  "zeta"};
#define RF_NWORDS (sizeof(rf_words) / sizeof(rf_words[0]))

typedef struct rfterm {
	const uint8_t *p; /* into rfdoc.fwd */
	size_t n;
	uint8_t bits;
} rfterm;

typedef struct rfdoc {
	uint8_t ref[MYCEL__DOCREF_MAX];
	size_t rn;
	uint8_t *fwd;
	rfterm terms[RF_TERMS_MAX], facets[RF_FACETS_MAX];
	size_t nt, nf;
} rfdoc;

static uint64_t rf_rng = 0x9a3c5e7f1b2d4c6bull;
static unsigned rf_rand(unsigned n)
{
	rf_rng ^= rf_rng << 13;
	rf_rng ^= rf_rng >> 7;
	rf_rng ^= rf_rng << 17;
	return (unsigned)(rf_rng % n);
}

static const char *rf_word(void)
{
	return rf_words[rf_rand(RF_NWORDS)];
}

/* The i-th document's id (documents i and i + 1 share "d..." ids, in different domains). */
static void rf_id(unsigned i, char *out, size_t cap)
{
	if (i % 10 == 0)
		snprintf(out, cap, "L%0140d-%u", 0, i); /* docrefs sharing more than 127 bytes */
	else if (i % 10 == 1)
		snprintf(out, cap, "%s-%u", rf_words[i % RF_NWORDS], i);
	else
		snprintf(out, cap, "d%05u", i / 2);
}

static mycel_value *rf_doc(unsigned i, const char *version, char *name, size_t cap)
{
	char id[200], purpose[160];
	snprintf(name, cap, "%s", rf_word());
	for (unsigned k = rf_rand(3); k > 0; k--)
		snprintf(name + strlen(name), cap - strlen(name), " %s", rf_word());
	if (rf_rand(3) == 0)
		snprintf(name + strlen(name), cap - strlen(name), " n%u", rf_rand(1000));
	snprintf(purpose, sizeof(purpose), "%s %s %s", rf_word(), rf_word(),
	         rf_rand(2) ? rf_word() : "");
	rf_id(i, id, sizeof(id));
	mycel_value *tags = NULL;
	const char *t1 = i % 150 == 0 ? "rareone" : rf_word();
	switch (rf_rand(3)) {
	case 1:
		tags = varr(1, vstr(t1));
		break;
	case 2:
		tags = varr(2, vstr(t1), vstr(rf_word()));
		break;
	default:
		break;
	}
	if (i % 5 == 4) {
		char pn[64];
		snprintf(pn, sizeof(pn), "%s feed", rf_word());
		return product(id, version, name, purpose, tags, varr(1, port(pn, "d00001")), NULL);
	}
	static const char *const cls[] = {"internal", "restricted", "public"};
	static const char *const servers[] = {"postgres", "snowflake", NULL};
	char p1[64], p2[64], b1[64];
	snprintf(p1, sizeof(p1), "%s_id", rf_word());
	snprintf(p2, sizeof(p2), "%s_value", rf_word());
	snprintf(b1, sizeof(b1), "%s key", rf_word());
	mycel_value *props = rf_rand(4) == 0
	                         ? NULL
	                         : varr(2, prop(p1, b1, cls[rf_rand(3)]),
	                                prop(p2, NULL, rf_rand(2) ? cls[rf_rand(3)] : NULL));
	return contract(id, version, name, purpose, tags, props, servers[rf_rand(3)]);
}

static void rf_load(fx *f, mycel_store *s, const mycel_key *const *keys, char (*names)[160])
{
	enum { BATCH = 100 };
	mycel_buf bodies[BATCH];
	mycel_record recs[BATCH];
	g_ar = f->ar;
	for (int round = 0; round < 2; round++) {
		/* round 0: every document; round 1: new versions of every sixth one */
		for (unsigned first = 0; first < RF_DOCS; first += BATCH * 3) {
			for (int feed = 0; feed < 3; feed++) {
				size_t k = 0;
				for (unsigned i = first + (unsigned)feed;
				     i < first + BATCH * 3 && i < RF_DOCS; i += 3) {
					if (round == 1 && i % 6 != 3)
						continue;
					mycel_buf_init(&bodies[k], 1 << 16);
					assert_int_equal(
					    mycel_value_encode(
					        rf_doc(i, round ? "2.0.0" : "1.0.0", names[i], 160),
					        &bodies[k]),
					    0);
					recs[k] =
					    (mycel_record){i % 5 == 4 ? "product" : "contract",
					                   bodies[k].data, bodies[k].len};
					k++;
				}
				if (k > 0)
					assert_int_equal(mycel_store_append(s, keys[feed],
					                                    keys[feed]->pk, recs, k,
					                                    NULL),
					                 0);
				for (size_t j = 0; j < k; j++)
					mycel_buf_fini(&bodies[j]);
			}
		}
	}
	/* documents of one version: every eleventh retired, every thirteenth deprecated */
	for (unsigned i = 0; i < RF_DOCS; i++) {
		char id[200];
		if (i % 6 == 3 || (i % 11 != 0 && i % 13 != 0))
			continue;
		rf_id(i, id, sizeof(id));
		put(s, keys[i % 3], "lifecycle",
		    lifecycle(id, i % 5 == 4 ? "product" : "contract", "1.0.0",
		              i % 11 == 0 ? "retired" : "deprecated"));
	}
}

/* Every document's docref and forward image, read from the catalog. */
static rfdoc *rf_read(mycel_store *s, size_t *n)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	size_t cap = RF_DOCS + 16;
	rfdoc *d = calloc(cap, sizeof(*d));
	assert_non_null(d);
	*n = 0;
	assert_int_equal(mycel__cat_begin_read(s, &txn), 0);
	assert_int_equal(mdb_cursor_open(txn, s->cat.docs, &c), 0);
	for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		assert_true(*n < cap && k.mv_size <= MYCEL__DOCREF_MAX);
		rfdoc *x = &d[(*n)++];
		MDB_val fv;
		memcpy(x->ref, k.mv_data, k.mv_size);
		x->rn = k.mv_size;
		assert_int_equal(mdb_get(txn, s->cat.fwd, &k, &fv), 0);
		x->fwd = malloc(fv.mv_size);
		assert_non_null(x->fwd);
		memcpy(x->fwd, fv.mv_data, fv.mv_size);
		mycel__flist l;
		const uint8_t *p;
		size_t pn;
		uint8_t b;
		mycel__fwd_list(x->fwd, fv.mv_size, MYCEL__FWD_FACETS, &l);
		while (mycel__fwd_next(&l, &p, &pn, &b)) {
			assert_true(x->nf < RF_FACETS_MAX);
			x->facets[x->nf++] = (rfterm){p, pn, b};
		}
		mycel__fwd_list(x->fwd, fv.mv_size, MYCEL__FWD_TERMS, &l);
		while (mycel__fwd_next(&l, &p, &pn, &b)) {
			assert_true(x->nt < RF_TERMS_MAX);
			x->terms[x->nt++] = (rfterm){p, pn, b};
		}
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return d;
}

static bool rf_has(const rfterm *t, size_t n, const uint8_t *k, size_t kn, uint8_t *bits)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].n == kn && memcmp(t[i].p, k, kn) == 0) {
			if (bits != NULL)
				*bits = t[i].bits;
			return true;
		}
	return false;
}

static bool rf_has_facet(const rfdoc *d, const char *facet, const char *value)
{
	uint8_t k[64 + MYCEL__FACET_VALUE_MAX];
	size_t kn;
	return mycel__facet_key(facet, value, strlen(value), k, &kn) &&
	       rf_has(d->facets, d->nf, k, kn, NULL);
}

typedef struct rfhit {
	const rfdoc *d;
	int64_t score;
	const char *matched;
} rfhit;

static int rfhit_cmp(const void *a, const void *b)
{
	const rfhit *x = a, *y = b;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return mycel__bytes_cmp(x->d->ref, x->d->rn, y->d->ref, y->d->rn);
}

/* The ranking rules: the best field of a word's bits scores it; an exact name or id adds a bonus.
 */
static void rf_score(const uint8_t *wbits, size_t nw, uint8_t exact, rfhit *h)
{
	static const struct {
		uint8_t bit;
		int score;
		const char *name;
	} fields[] = {{MYCEL__F_NAME, 100, "name"},      {MYCEL__F_ID, 80, "id"},
	              {MYCEL__F_TAG, 40, "tag"},         {MYCEL__F_BIZ, 30, "business name"},
	              {MYCEL__F_PROP, 25, "property"},   {MYCEL__F_PORT, 25, "property"},
	              {MYCEL__F_DESC, 10, "description"}};
	uint8_t any = 0;
	h->score = 0;
	h->matched = "";
	for (size_t w = 0; w < nw; w++) {
		any |= wbits[w];
		for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
			if (wbits[w] & fields[f].bit) {
				h->score += fields[f].score;
				break;
			}
	}
	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
		if (any & fields[f].bit) {
			h->matched = fields[f].name;
			break;
		}
	if ((exact & MYCEL__F_EXACT) && (exact & MYCEL__F_NAME)) {
		h->score += 10000;
		h->matched = "name";
	} else if (exact & MYCEL__F_EXACT) {
		h->score += 8000;
		h->matched = "id";
	}
}

typedef struct rfwords {
	uint8_t w[32][MYCEL__TERM_MAX];
	size_t len[32], n;
} rfwords;

static int rf_word_cb(void *ctx, const uint8_t *t, size_t n)
{
	rfwords *w = ctx;
	if (w->n == 32)
		return 1;
	memcpy(w->w[w->n], t, n);
	w->len[w->n++] = n;
	return 0;
}

/* The matches of q among docs[0..n), ranked (score, then docref; docref alone without text). */
static size_t rf_eval(const rfdoc *docs, size_t n, const mycel_search_query *q, rfhit *out)
{
	static const char *const statuses[] = {"active", "deprecated", "retired"};
	rfwords w;
	uint8_t ename[1 + MYCEL__EXACT_MAX], eid[1 + MYCEL__EXACT_MAX];
	size_t en = 0, in = 0, m = 0;
	memset(&w, 0, sizeof(w));
	if (q->text != NULL) {
		(void)mycel__tokenize(q->text, strlen(q->text), rf_word_cb, &w);
		ename[0] = MYCEL__EXACT_NAME;
		en = mycel__normalize(q->text, strlen(q->text), ename + 1);
		eid[0] = MYCEL__EXACT_ID;
		in = mycel__exact_id(q->text, strlen(q->text), eid + 1);
	}
	for (size_t i = 0; i < n; i++) {
		const rfdoc *d = &docs[i];
		bool ok = true;
		if (q->domain != NULL)
			ok = rf_has_facet(d, "domain", q->domain);
		if (ok && q->kind != 0)
			ok = rf_has_facet(d, "kind", mycel_doc_kind_name(q->kind));
		for (size_t t = 0; ok && t < q->n_tags; t++)
			ok = rf_has_facet(d, "tag", q->tags[t]);
		if (ok && q->classification != NULL)
			ok = rf_has_facet(d, "classification", q->classification);
		if (ok && q->server_type != NULL)
			ok = rf_has_facet(d, "server", q->server_type);
		if (ok && q->status == MYCEL_STATUS_VISIBLE)
			ok = !rf_has_facet(d, "status", "retired");
		else if (ok && q->status >= 0)
			ok = rf_has_facet(d, "status", statuses[q->status]);
		uint8_t wbits[32] = {0}, exact = 0, b;
		for (size_t k = 0; ok && k < w.n; k++) {
			if (k + 1 < w.n) {
				ok = rf_has(d->terms, d->nt, w.w[k], w.len[k], &wbits[k]);
				continue;
			}
			for (size_t t = 0; t < d->nt; t++)
				if (d->terms[t].n >= w.len[k] &&
				    memcmp(d->terms[t].p, w.w[k], w.len[k]) == 0)
					wbits[k] |= d->terms[t].bits;
			ok = wbits[k] != 0;
		}
		if (!ok)
			continue;
		if (en > 0 && rf_has(d->terms, d->nt, ename, en + 1, &b))
			exact |= b;
		if (in > 0 && rf_has(d->terms, d->nt, eid, in + 1, &b))
			exact |= b;
		out[m].d = d;
		if (w.n > 0) {
			rf_score(wbits, w.n, exact, &out[m]);
		} else {
			out[m].score = 0;
			out[m].matched = "";
		}
		m++;
	}
	qsort(out, m, sizeof(*out), rfhit_cmp);
	return m;
}

static void rf_describe(const mycel_search_query *q, char *buf, size_t cap)
{
	snprintf(buf, cap,
	         "text \"%s\" domain %s kind %d tags %zu (%s %s) cls %s server %s status %d limit "
	         "%zu offset %zu",
	         q->text ? q->text : "(null)", q->domain ? q->domain : "-", q->kind, q->n_tags,
	         q->n_tags > 0 ? q->tags[0] : "", q->n_tags > 1 ? q->tags[1] : "",
	         q->classification ? q->classification : "-", q->server_type ? q->server_type : "-",
	         q->status, q->limit, q->offset);
}

/* The facet counts of the matches against those of mycel_catalog_facets. */
static void rf_check_facets(mycel_store *s, const mycel_search_query *q, const rfhit *hits,
                            size_t m, const char *what)
{
	mycel_facet_count *fc = NULL;
	size_t nfc = 0, distinct = 0;
	assert_int_equal(mycel_catalog_facets(s, q, &fc, &nfc), 0);
	for (size_t i = 0; i < nfc; i++) {
		uint8_t k[64 + MYCEL__FACET_VALUE_MAX];
		size_t kn = strlen(fc[i].facet), want = 0;
		memcpy(k, fc[i].facet, kn + 1);
		memcpy(k + kn + 1, fc[i].value, strlen(fc[i].value));
		kn += 1 + strlen(fc[i].value);
		for (size_t h = 0; h < m; h++)
			want += rf_has(hits[h].d->facets, hits[h].d->nf, k, kn, NULL);
		if (fc[i].count != want)
			fail_msg("%s: facet %s=%s counts %zu, want %zu", what, fc[i].facet,
			         fc[i].value, fc[i].count, want);
	}
	/* and no facet value of a match is missing (but the search's own "hidden" list) */
	for (size_t h = 0; h < m; h++)
		for (size_t t = 0; t < hits[h].d->nf; t++) {
			bool seen = hits[h].d->facets[t].n >= 7 &&
			            memcmp(hits[h].d->facets[t].p, "hidden", 7) == 0;
			for (size_t e = 0; e < h && !seen; e++)
				seen = rf_has(hits[e].d->facets, hits[e].d->nf,
				              hits[h].d->facets[t].p, hits[h].d->facets[t].n, NULL);
			distinct += !seen;
		}
	if (nfc != distinct)
		fail_msg("%s: %zu facet values, want %zu", what, nfc, distinct);
	free(fc);
}

/*
 * Posting cursors against the same forward images: random forward seeks (to
 * docrefs of the list, of other documents, just after a docref and to a
 * prefix of one; near and far), seeks from a known shared prefix and steps,
 * on a word's list and on a dense facet's. Each lands where a scan of the
 * documents in docref order says, with the right comparison and shared
 * prefix.
 */
static void rf_check_seeks(mycel_store *s, const rfdoc *docs, size_t nd)
{
	static const struct {
		bool facet;
		const char *key;
		size_t kn;
	} lists[] = {{false, "amber", 5},
	             {false, "orders", 6},
	             {true, "kind\0contract", 13},
	             {true, "status\0active", 13}};
	MDB_txn *txn;
	size_t *model = malloc(nd * sizeof(*model));
	assert_non_null(model);
	assert_int_equal(mycel__cat_begin_read(s, &txn), 0);
	for (size_t li = 0; li < sizeof(lists) / sizeof(lists[0]); li++) {
		const uint8_t *key = (const uint8_t *)lists[li].key;
		size_t kn = lists[li].kn, nm = 0, count, budget = SIZE_MAX;
		for (size_t i = 0; i < nd; i++)
			if (rf_has(lists[li].facet ? docs[i].facets : docs[i].terms,
			           lists[li].facet ? docs[i].nf : docs[i].nt, key, kn, NULL))
				model[nm++] = i;
		assert_true(nm > 100);
		for (int round = 0; round < 6; round++) {
			mycel__pcur pc;
			assert_int_equal(
			    mycel__pcur_open(txn, lists[li].facet ? s->cat.facets : s->cat.terms,
			                     key, kn, &budget, &pc, &count),
			    0);
			assert_int_equal(count, nm);
			assert_int_equal(mycel__pcur_first(&pc), 0);
			size_t at = 0, doc = 0; /* model[at] is the cursor's posting */
			while (at < nm) {
				assert_false(pc.end);
				assert_int_equal(pc.d.rn, docs[model[at]].rn);
				assert_memory_equal(pc.d.ref, docs[model[at]].ref, pc.d.rn);
				if (rf_rand(4) == 0) {
					assert_int_equal(mycel__pcur_next(&pc), 0);
					at++;
					continue;
				}
				/* a target at or after the current posting, near or far */
				doc = model[at] + (rf_rand(3) == 0 ? rf_rand(600) : rf_rand(12));
				if (doc >= nd)
					break;
				uint8_t t[MYCEL__DOCREF_MAX + 1];
				size_t tn = docs[doc].rn;
				memcpy(t, docs[doc].ref, tn);
				unsigned how = rf_rand(4);
				if (how == 1)
					t[tn++] = 1; /* just after docs[doc] */
				else if (how == 2 && tn > 2)
					tn -= 1 + rf_rand((unsigned)tn -
					                  1); /* a prefix: before docs[doc] */
				size_t want = at, lcp = 0, real;
				while (want < nm &&
				       mycel__bytes_cmp(docs[model[want]].ref, docs[model[want]].rn,
				                        t, tn) < 0)
					want++;
				int c;
				int cur = mycel__ref_cmp_lcp(pc.d.ref, pc.d.rn, t, tn, 0, &real);
				if (cur < 0 && rf_rand(2) == 0)
					assert_int_equal(
					    mycel__pcur_seek_from(&pc, t, tn, real, &c, &lcp), 0);
				else
					assert_int_equal(mycel__pcur_seek(&pc, t, tn, &c, &lcp), 0);
				at = want;
				if (at == nm) {
					assert_true(pc.end);
					assert_int_equal(c, 1);
					break;
				}
				int wc = mycel__ref_cmp_lcp(docs[model[at]].ref, docs[model[at]].rn,
				                            t, tn, 0, &real);
				assert_int_equal(c, wc);
				assert_int_equal(lcp, real);
			}
			mycel__pcur_close(&pc);
		}
	}
	mdb_txn_abort(txn);
	free(model);
}

static void test_search_reference(void **state)
{
	fx *f = *state;
	const mycel_key *keys[3] = {f->a, f->b, f->c};
	char(*names)[160] = calloc(RF_DOCS, sizeof(*names));
	rfhit *want = calloc(RF_DOCS, sizeof(*want));
	size_t nd, bounded = 0, nonempty = 0, facet_checks = 0;
	assert_non_null(names);
	assert_non_null(want);
	/* domains whose names extend one another: their docrefs sort side by side */
	static const char *const dnames[] = {"alpha", "alpha-eu", "alphabet"};
	mycel_buf charter;
	tc_genesis("refs", f->gov, dnames, keys, 3, &charter, NULL);
	tc_tmpdir("catalog", f->dir2, sizeof(f->dir2));
	mycel_store *s = tc_store_new(f->dir2, charter.data, charter.len);
	mycel_buf_fini(&charter);
	rf_load(f, s, keys, names);
	rfdoc *docs = rf_read(s, &nd);
	assert_int_equal(nd, RF_DOCS); /* ids repeat only across domains */
	static const char *const domains[] = {"alpha", "alpha-eu", "ALPHABET", "alph", "nope"};
	static const char *const cls[] = {"internal", "restricted", "public", "secret"};
	static const char *const servers[] = {"postgres", "snowflake", "kafka"};
	static const int statuses[] = {
	    MYCEL_STATUS_VISIBLE, MYCEL_STATUS_VISIBLE,    MYCEL_STATUS_VISIBLE, MYCEL_STATUS_ANY,
	    MYCEL_STATUS_ACTIVE,  MYCEL_STATUS_DEPRECATED, MYCEL_STATUS_RETIRED};
	for (unsigned qi = 0; qi < RF_QUERIES; qi++) {
		char text[400] = "", what[800];
		mycel_search_query q;
		memset(&q, 0, sizeof(q));
		unsigned shape = rf_rand(10);
		/* first, one query of each way through the lists */
		static const struct {
			const char *text, *tag, *domain;
		} fixed[] = {
		    {"am", "rareone",
		     NULL}, /* a prefix checked on each candidate's forward image */
		    {"amber", "rareone", NULL}, /* a rare list drives */
		    {"n3", NULL, NULL},         /* a bounded prefix */
		    {"orders or", NULL, NULL},  /* a union of a few terms, leapfrogged */
		    {"delta", NULL, "alpha"},   /* a domain's range walked */
		    {"lead ledger market", NULL, NULL},
		    {NULL, "rareone", NULL}, /* no text: docref order, counts */
		    {NULL, NULL, "alpha-eu"},
		};
		if (qi < sizeof(fixed) / sizeof(fixed[0])) {
			q.text = fixed[qi].text;
			if (fixed[qi].tag != NULL)
				q.tags[q.n_tags++] = fixed[qi].tag;
			q.domain = fixed[qi].domain;
			q.status = MYCEL_STATUS_VISIBLE;
			q.limit = 10;
			goto run;
		}
		if (shape == 0) {
			snprintf(text, sizeof(text), "%s",
			         names[rf_rand(RF_DOCS)]); /* an exact name */
		} else if (shape == 1) {
			rf_id(rf_rand(RF_DOCS), text, sizeof(text)); /* an exact id */
		} else {
			for (unsigned k = rf_rand(4); k > 0; k--) {
				const char *wd = rf_word();
				size_t l = strlen(text);
				switch (rf_rand(6)) {
				case 0: /* a prefix of a word (the last word is one) */
					snprintf(text + l, sizeof(text) - l, " %.*s",
					         1 + (int)rf_rand((unsigned)strlen(wd)), wd);
					break;
				case 1:
					snprintf(text + l, sizeof(text) - l, " n%u", rf_rand(1100));
					break;
				case 2: /* as the last word, a prefix of 111 terms */
					snprintf(text + l, sizeof(text) - l, " n%u", rf_rand(10));
					break;
				default:
					snprintf(text + l, sizeof(text) - l, " %s", wd);
					break;
				}
			}
		}
		q.text = rf_rand(8) == 0 ? NULL : text;
		if (rf_rand(5) == 0)
			q.domain = domains[rf_rand(5)];
		if (rf_rand(6) == 0)
			q.kind = 1 + (int)rf_rand(2);
		if (rf_rand(6) == 0) {
			q.tags[q.n_tags++] = rf_rand(3) == 0 ? "rareone" : rf_word();
			if (rf_rand(3) == 0)
				q.tags[q.n_tags++] = rf_word();
		}
		if (rf_rand(8) == 0)
			q.classification = cls[rf_rand(4)];
		if (rf_rand(8) == 0)
			q.server_type = servers[rf_rand(3)];
		q.status = statuses[rf_rand(7)];
		q.limit = rf_rand(4) == 0 ? 0 : 1 + rf_rand(40);
		q.offset = rf_rand(3) == 0 ? rf_rand(30) : 0;
	run:
		rf_describe(&q, what, sizeof(what));

		size_t m = rf_eval(docs, nd, &q, want), limit = q.limit ? q.limit : 20;
		mycel_search_result r;
		int rv = mycel_catalog_search(s, &q, &r);
		if (rv != 0)
			fail_msg("%s: %s", what, mycel_errname(rv));
		if (r.total_exact && r.total != m)
			fail_msg("%s: total %zu, want %zu", what, r.total, m);
		if (!r.total_exact) {
			bounded++;
			if (r.total > m || r.total < r.n)
				fail_msg("%s: bounded total %zu, want at most %zu", what, r.total,
				         m);
		}
		size_t page = q.offset < m ? (m - q.offset < limit ? m - q.offset : limit) : 0;
		if (r.n != page)
			fail_msg("%s: %zu hits, want %zu (of %zu)", what, r.n, page, m);
		for (size_t i = 0; i < r.n; i++) {
			const rfhit *h = &want[q.offset + i];
			char dom[MYCEL__DOMAIN_MAX + 1], id[MYCEL_ID_MAX + 1];
			assert_true(mycel__docref_split(h->d->ref, h->d->rn, dom, id));
			if (strcmp(r.hits[i].domain, dom) != 0 || strcmp(r.hits[i].id, id) != 0 ||
			    r.hits[i].score != (double)h->score ||
			    strcmp(r.hits[i].matched, h->matched) != 0)
				fail_msg("%s: hit %zu is %s/%s (%.0f, %s), want %s/%s (%lld, %s)",
				         what, i, r.hits[i].domain, r.hits[i].id, r.hits[i].score,
				         r.hits[i].matched, dom, id, (long long)h->score,
				         h->matched);
		}
		nonempty += m > 0;
		mycel_search_result_fini(&r);
		if (qi % 4 == 0) {
			rf_check_facets(s, &q, want, m, what);
			facet_checks++;
		}
	}
	print_message("reference: %u queries, %zu with matches, %zu bounded, %zu facet checks\n",
	              RF_QUERIES, nonempty, bounded, facet_checks);
	assert_true(nonempty > RF_QUERIES / 2);
	assert_true(bounded > 0);
	rf_check_seeks(s, docs, nd);
	mycel_store_close(s);
	for (size_t i = 0; i < nd; i++)
		free(docs[i].fwd);
	free(docs);
	free(want);
	free(names);
}

/* A store whose catalog tables are gone (a store from before the catalog) rebuilds them on open. */
static void test_rebuilt_on_open(void **state)
{
	fx *f = *state;
	char why[256];
	mycel_buf before, after;
	history(f, f->s, 0);
	history(f, f->s, 1);
	dump(f->s, &before);
	mycel_store_close(f->s);
	f->s = NULL;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, f->dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	static const char *const names[] = {"cat_meta", "cat_docs", "cat_versions", "cat_fwd",
					    "cat_terms", "cat_facets", "cat_ids", "cat_up", "cat_down"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(mdb_dbi_open(txn, names[i], 0, &dbi), 0);
		assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	}
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	/* read-only: no catalog, nothing found, nothing fails */
	assert_int_equal(mycel_store_open(f->dir, MYCEL_STORE_READONLY, &f->s, why, sizeof(why)), 0);
	mycel_catalog_doc d;
	assert_int_equal(mycel_catalog_get(f->s, "alpha", "orders", NULL, &d), MYCEL_ENOTFOUND);
	mycel_search_query q = query("orders");
	expect_hits(f->s, &q, "");
	mycel_store_close(f->s);
	/* writable: rebuilt */
	assert_int_equal(mycel_store_open(f->dir, 0, &f->s, why, sizeof(why)), 0);
	dump(f->s, &after);
	assert_int_equal(before.len, after.len);
	assert_memory_equal(before.data, after.data, before.len);
	mycel_buf_fini(&before);
	mycel_buf_fini(&after);
	verify_clean(f->s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_semver),
	    cmocka_unit_test(test_tokens),
	    cmocka_unit_test_setup_teardown(test_get_versions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_search_ranking, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_search_bounded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_facets_and_paging, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lineage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lineage_shapes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reindex_identical, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ingest_same_dump, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rebuilt_on_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_postings_stress, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_search_reference, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
