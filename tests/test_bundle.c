/*
 * test_bundle.c — audit bundles (PROTOCOL.md §11): built from a store made here, verified
 * offline; every single-byte change and every truncation refused with a message; removed,
 * reordered, substituted and dropped parts refused by the check that names them even when
 * the digest is recomputed; oversized counts refused before allocation; forks; transfers
 * (PROTOCOL.md §5.5): the owner a bundle proves from the giver's and from the receiver's
 * side, along a chain of two transfers, and an offer whose acceptance the bundle lacks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "mycel/bundle.h"
#include "mycel/charter.h"
#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/store.h"
#include "mycel/transfer.h"

#include "common.h"

typedef struct fx {
	char dir[256];
	mycel_key *gov, *sales, *fin;
	mycel_store *s;
	mycel_buf bundle;  /* sales/orders: a contract, one feed */
	mycel_buf xbundle; /* sales/dash: a product sales handed to finance, two feeds */
} fx;

static void append(fx *f, const mycel_key *k, const char *kind, mycel_buf *body)
{
	assert_int_equal(body->err, 0);
	mycel_record rec = {kind, body->data, body->len};
	assert_int_equal(mycel_store_append(f->s, k, k->pk, &rec, 1, NULL), 0);
	mycel_buf_fini(body);
}

static void put_domain(fx *f, const mycel_key *k, const char *title)
{
	mycel_buf b;
	mycel_buf_init(&b, 4096);
	mycel_enc_map(&b, 4);
	mycel_enc_cstr(&b, "contacts");
	mycel_enc_array(&b, 0);
	mycel_enc_cstr(&b, "description");
	mycel_enc_cstr(&b, "");
	mycel_enc_cstr(&b, "nodes");
	mycel_enc_array(&b, 0);
	mycel_enc_cstr(&b, "title");
	mycel_enc_cstr(&b, title);
	append(f, k, "domain", &b);
}

static void put_lifecycle(fx *f, const char *id, const char *version, const char *status)
{
	mycel_buf b;
	mycel_buf_init(&b, 4096);
	mycel_enc_map(&b, 5);
	mycel_enc_cstr(&b, "id");
	mycel_enc_cstr(&b, id);
	mycel_enc_cstr(&b, "kind");
	mycel_enc_cstr(&b, "contract");
	mycel_enc_cstr(&b, "reason");
	mycel_enc_cstr(&b, "superseded");
	mycel_enc_cstr(&b, "status");
	mycel_enc_cstr(&b, status);
	mycel_enc_cstr(&b, "version");
	mycel_enc_cstr(&b, version);
	append(f, f->sales, "lifecycle", &b);
}

/* Charter version 2 of the fixture's mesh: sales and finance, signed by gov. */
static void charter_v2(fx *f, mycel_buf *out, bool sign)
{
	mycel_charter *c = NULL;
	char why[256] = "";
	assert_int_equal(mycel_charter_new("acme", 2, 1, &c), 0);
	assert_int_equal(mycel_charter_add_member(c, "gov", f->gov->pk), 0);
	assert_int_equal(mycel_charter_add_domain(c, "sales", f->sales->pk), 0);
	assert_int_equal(mycel_charter_add_domain(c, "finance", f->fin->pk), 0);
	if (sign)
		assert_int_equal(mycel_charter_sign(c, f->gov, why, sizeof(why)), 0);
	mycel_buf_init(out, MYCEL_CHARTER_MAX);
	assert_int_equal(mycel_charter_encode(c, out), 0);
	mycel_charter_free(c);
}

/* Appends product id at version to k's feed. */
static void put_product(fx *f, const mycel_key *k, const char *id, const char *version)
{
	mycel_buf b;
	mycel_buf_init(&b, 4096);
	mycel_enc_map(&b, 3);
	mycel_enc_cstr(&b, "id");
	mycel_enc_cstr(&b, id);
	mycel_enc_cstr(&b, "kind");
	mycel_enc_cstr(&b, "DataProduct");
	mycel_enc_cstr(&b, "version");
	mycel_enc_cstr(&b, version);
	append(f, k, "product", &b);
}

/*
 * sales: 1 domain, 2 contract orders 1.0.0, 3 contract payments 1.0.0, 4 product dash
 * 1.0.0, 5 contract orders 1.1.0, 6 lifecycle orders 1.0.0 deprecated, 7 offer of dash to
 * finance; finance (admitted by charter version 2): 1 domain, 2 acceptance of that offer,
 * 3 product dash 2.0.0.
 */
static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	mycel_buf g, v2;
	char why[256] = "";
	assert_non_null(f);
	tc_tmpdir("bundle", f->dir, sizeof(f->dir));
	f->gov = tc_seed_key(0x01);
	f->sales = tc_seed_key(0xa1);
	f->fin = tc_seed_key(0xb2);
	const char *names[] = {"sales"};
	const mycel_key *keys[] = {f->sales};
	tc_genesis("acme", f->gov, names, keys, 1, &g, NULL);
	f->s = tc_store_new(f->dir, g.data, g.len);
	mycel_buf_fini(&g);
	put_domain(f, f->sales, "Sales");
	tc_put_contract(f->s, f->sales, "orders", "1.0.0", "Orders", "every order");
	tc_put_contract(f->s, f->sales, "payments", "1.0.0", "Payments", NULL);
	put_product(f, f->sales, "dash", "1.0.0");
	tc_put_contract(f->s, f->sales, "orders", "1.1.0", "Orders", "every order, and returns");
	put_lifecycle(f, "orders", "1.0.0", "deprecated");
	charter_v2(f, &v2, true);
	assert_int_equal(mycel_store_add_charter(f->s, v2.data, v2.len, why, sizeof(why)), 0);
	mycel_buf_fini(&v2);
	int rv = mycel_transfer_offer(f->s, f->sales, "sales", "dash", "finance", NULL, why,
	                              sizeof(why));
	if (rv != 0)
		fail_msg("offer: %s (%s)", mycel_errname(rv), why);
	put_domain(f, f->fin, "Finance");
	rv =
	    mycel_transfer_accept(f->s, f->fin, "finance", "sales", "dash", NULL, why, sizeof(why));
	if (rv != 0)
		fail_msg("accept: %s (%s)", mycel_errname(rv), why);
	put_product(f, f->fin, "dash", "2.0.0");
	mycel_buf_init(&f->bundle, MYCEL_BUNDLE_MAX);
	rv = mycel_bundle_build(f->s, "sales", "orders", &f->bundle, why, sizeof(why));
	if (rv != 0)
		fail_msg("build: %s (%s)", mycel_errname(rv), why);
	mycel_buf_init(&f->xbundle, MYCEL_BUNDLE_MAX);
	rv = mycel_bundle_build(f->s, "sales", "dash", &f->xbundle, why, sizeof(why));
	if (rv != 0)
		fail_msg("build sales/dash: %s (%s)", mycel_errname(rv), why);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	mycel_store_close(f->s);
	mycel_key_free(f->gov);
	mycel_key_free(f->sales);
	mycel_key_free(f->fin);
	mycel_buf_fini(&f->bundle);
	mycel_buf_fini(&f->xbundle);
	(void)tc_rm_rf(f->dir);
	free(f);
	return 0;
}

/* Verifies p[0..n) expecting code; the message must name where and contain want (if not NULL). */
static void expect_refusal(const uint8_t *p, size_t n, int code, const char *want)
{
	char why[512] = "";
	mycel_bundle_report *r = NULL;
	int rv = mycel_bundle_verify(p, n, &r, why, sizeof(why));
	if (rv != code || r != NULL)
		fail_msg("expected %s, got %s: %s", mycel_errname(code), mycel_errname(rv), why);
	if (strncmp(why, "bundle: ", 8) != 0)
		fail_msg("the message does not start with \"bundle: \": %s", why);
	if (want != NULL && strstr(why, want) == NULL)
		fail_msg("the message lacks \"%s\": %s", want, why);
}

/* ---- what a valid bundle proves ------------------------------------------------------------ */

static void test_verify_ok(void **state)
{
	fx *f = *state;
	mycel_bundle_report *r = NULL;
	char why[512] = "";
	uint8_t mesh_id[MYCEL_HASH_LEN];
	int rv = mycel_bundle_verify(f->bundle.data, f->bundle.len, &r, why, sizeof(why));
	if (rv != 0)
		fail_msg("verify: %s (%s)", mycel_errname(rv), why);
	assert_string_equal(r->domain, "sales");
	assert_string_equal(r->id, "orders");
	assert_string_equal(r->kind, "contract");
	assert_string_equal(r->mesh, "acme");
	assert_int_equal(mycel_store_mesh_id(f->s, mesh_id), 0);
	assert_memory_equal(r->mesh_id, mesh_id, MYCEL_HASH_LEN);
	assert_memory_equal(r->owner_feed, f->sales->pk, MYCEL_PK_LEN);
	assert_int_equal(r->charter_version, 2);
	assert_int_equal(r->admitted_since, 1);
	assert_int_equal(r->since_seq, 2);
	assert_int_equal(r->head_seq, 7);
	assert_int_equal(r->charters, 2);
	assert_int_equal(r->feeds, 1); /* the offer of dash says nothing about orders */
	assert_int_equal(r->entries, 7);
	assert_int_equal(r->bodies, 6); /* all but the product's */
	assert_string_equal(r->owner, "sales");
	assert_false(r->pending);
	assert_int_equal(r->forks, 0);
	assert_int_equal(r->n_versions, 2);
	assert_string_equal(r->versions[0].version, "1.0.0");
	assert_int_equal(r->versions[0].seq, 2);
	assert_int_equal(r->versions[0].status, MYCEL_BUNDLE_DEPRECATED);
	assert_int_equal(r->versions[0].status_seq, 6);
	assert_string_equal(r->versions[1].version, "1.1.0");
	assert_int_equal(r->versions[1].seq, 5);
	assert_int_equal(r->versions[1].status, MYCEL_BUNDLE_ACTIVE);
	assert_string_equal(r->versions[0].domain, "sales");
	assert_int_equal(r->n_transfers, 0);
	mycel_entry e;
	assert_int_equal(mycel_store_get(f->s, f->sales->pk, 2, &e), 0);
	assert_int_equal(r->since_ts_ms, e.h.ts_ms);
	assert_int_equal(r->versions[0].ts_ms, e.h.ts_ms);
	mycel_bundle_report_free(r);
}

static void test_versions_only_move_forward(void **state)
{
	fx *f = *state;
	mycel_bundle_report *r = NULL;
	mycel_buf b;
	char why[512] = "";
	put_lifecycle(f, "orders", "1.1.0", "retired");
	put_lifecycle(f, "orders", "1.1.0", "deprecated");
	mycel_buf_init(&b, MYCEL_BUNDLE_MAX);
	assert_int_equal(mycel_bundle_build(f->s, "sales", "orders", &b, why, sizeof(why)), 0);
	int rv = mycel_bundle_verify(b.data, b.len, &r, why, sizeof(why));
	if (rv != 0)
		fail_msg("verify: %s (%s)", mycel_errname(rv), why);
	assert_int_equal(r->versions[1].status, MYCEL_BUNDLE_RETIRED);
	assert_int_equal(r->versions[1].status_seq, 8);
	assert_int_equal(r->head_seq, 9);
	mycel_bundle_report_free(r);
	mycel_buf_fini(&b);
}

static void test_build_refusals(void **state)
{
	fx *f = *state;
	mycel_buf b;
	char why[512] = "";
	mycel_buf_init(&b, MYCEL_BUNDLE_MAX);
	assert_int_equal(mycel_bundle_build(f->s, "sales", "nosuch", &b, why, sizeof(why)),
	                 MYCEL_ENOTFOUND);
	assert_non_null(strstr(why, "nosuch"));
	assert_int_equal(mycel_bundle_build(f->s, "hr", "orders", &b, why, sizeof(why)),
	                 MYCEL_ENOTFOUND);
	assert_non_null(strstr(why, "hr"));
	/* a product id is a subject of kind product; payments is a contract */
	assert_int_equal(mycel_bundle_build(f->s, "sales", "dash", &b, why, sizeof(why)), 0);
	mycel_bundle_report *r = NULL;
	assert_int_equal(mycel_bundle_verify(b.data, b.len, &r, why, sizeof(why)), 0);
	assert_string_equal(r->kind, "product");
	assert_int_equal(r->n_versions, 2); /* sales's 1.0.0 and finance's 2.0.0 */
	/* sales: domain, product, lifecycle, offer; finance: domain, acceptance, product */
	assert_int_equal(r->bodies, 7);
	mycel_bundle_report_free(r);
	assert_int_equal(b.err, 0);
	mycel_buf_fini(&b);
}

/* ---- tampering ------------------------------------------------------------------------------ */

static void test_flip_every_byte(void **state)
{
	fx *f = *state;
	size_t n = f->bundle.len;
	uint8_t *p = malloc(n);
	static const uint8_t masks[] = {0x01, 0x80, 0xff};
	assert_non_null(p);
	assert_true(n > 2000 && n < 8000); /* a few KB: every byte is tried */
	memcpy(p, f->bundle.data, n);
	for (size_t m = 0; m < sizeof(masks); m++)
		for (size_t i = 0; i < n; i++) {
			char why[512] = "";
			mycel_bundle_report *r = NULL;
			p[i] ^= masks[m];
			int rv = mycel_bundle_verify(p, n, &r, why, sizeof(why));
			p[i] ^= masks[m];
			if (rv == 0 || r != NULL)
				fail_msg("byte %zu ^ 0x%02x: the bundle still verifies", i,
				         masks[m]);
			if (strncmp(why, "bundle: ", 8) != 0 || strlen(why) < 20)
				fail_msg("byte %zu ^ 0x%02x: no message naming where: \"%s\"", i,
				         masks[m], why);
		}
	free(p);
}

static void test_truncated(void **state)
{
	fx *f = *state;
	for (size_t n = 0; n < f->bundle.len; n++) {
		char why[512] = "";
		mycel_bundle_report *r = NULL;
		int rv = mycel_bundle_verify(f->bundle.data, n, &r, why, sizeof(why));
		if (rv == 0 || strncmp(why, "bundle: byte ", 13) != 0)
			fail_msg("prefix of %zu bytes: %s %s", n, mycel_errname(rv), why);
	}
	/* one byte more */
	uint8_t *p = malloc(f->bundle.len + 1);
	assert_non_null(p);
	memcpy(p, f->bundle.data, f->bundle.len);
	p[f->bundle.len] = 0xc0;
	expect_refusal(p, f->bundle.len + 1, MYCEL_ETRAILING, "byte");
	free(p);
}

/* The bundle as a value tree, changed by a test and encoded again with a fresh digest. */
typedef struct tree {
	mycel_arena *a;
	mycel_value *root, *content, *charters, *feeds, *subject;
	mycel_buf out;
} tree;

static mycel_value *member(mycel_value *map, const char *key)
{
	mycel_value *v = (mycel_value *)mycel_value_get(map, key);
	assert_non_null(v);
	return v;
}

static void tree_open_buf(const mycel_buf *bundle, tree *t)
{
	assert_int_equal(mycel_arena_new(64u << 20, &t->a), 0);
	assert_int_equal(
	    mycel_value_decode(bundle->data, bundle->len, MYCEL_BUNDLE_MAX, t->a, &t->root, NULL),
	    0);
	assert_int_equal(t->root->type, MYCEL_T_ARRAY);
	assert_int_equal(t->root->v.a.len, 4);
	t->content = &t->root->v.a.items[2];
	t->charters = member(t->content, "charters");
	t->feeds = member(t->content, "feeds");
	t->subject = member(t->content, "subject");
	mycel_buf_init(&t->out, MYCEL_BUNDLE_MAX);
}

static void tree_open(fx *f, tree *t)
{
	tree_open_buf(&f->bundle, t);
}

static mycel_value *feed_part(tree *t, size_t j, const char *key)
{
	assert_true(j < t->feeds->v.a.len);
	return member(&t->feeds->v.a.items[j], key);
}

static void drop(mycel_value *arr, size_t i)
{
	assert_true(i < arr->v.a.len);
	memmove(&arr->v.a.items[i], &arr->v.a.items[i + 1],
	        (arr->v.a.len - i - 1) * sizeof(mycel_value));
	arr->v.a.len--;
}

static void swap(mycel_value *arr, size_t i, size_t j)
{
	mycel_value x = arr->v.a.items[i];
	arr->v.a.items[i] = arr->v.a.items[j];
	arr->v.a.items[j] = x;
}

/* Encodes the tree with the digest computed here from the spec (not by the library). */
static const mycel_buf *tree_encode(tree *t)
{
	mycel_buf c;
	static const char ctx[] = "mycel/bundle/v1";
	uint8_t *dig = mycel_arena_alloc(t->a, 32);
	assert_non_null(dig);
	mycel_buf_init(&c, MYCEL_BUNDLE_MAX);
	assert_int_equal(mycel_value_encode(t->content, &c), 0);
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)ctx, sizeof(ctx));
	crypto_generichash_update(&st, c.data, c.len);
	crypto_generichash_final(&st, dig, 32);
	mycel_buf_fini(&c);
	t->root->v.a.items[3].v.s.ptr = (const char *)dig;
	mycel_buf_reset(&t->out);
	assert_int_equal(mycel_value_encode(t->root, &t->out), 0);
	return &t->out;
}

static void tree_close(tree *t)
{
	mycel_buf_fini(&t->out);
	mycel_arena_free(t->a);
}

static void test_reencoded_unchanged_verifies(void **state)
{
	fx *f = *state;
	tree t;
	tree_open(f, &t);
	const mycel_buf *b = tree_encode(&t);
	assert_int_equal(b->len, f->bundle.len);
	assert_memory_equal(b->data, f->bundle.data, b->len); /* the test's digest is the spec's */
	tree_close(&t);
}

static void test_remove_entry(void **state)
{
	fx *f = *state;
	tree t;
	tree_open(f, &t);
	drop(feed_part(&t, 0, "entries"), 2);
	drop(feed_part(&t, 0, "bodies"), 2);
	const mycel_buf *b = tree_encode(&t);
	expect_refusal(b->data, b->len, MYCEL_ECHAIN, "feeds[0].entries[2]");
	tree_close(&t);
	/* the last entry alone: a shorter history would verify only as an older head */
	tree_open(f, &t);
	drop(feed_part(&t, 0, "entries"), 0);
	drop(feed_part(&t, 0, "bodies"), 0);
	b = tree_encode(&t);
	expect_refusal(b->data, b->len, MYCEL_ECHAIN, "feeds[0].entries[0]");
	tree_close(&t);
}

static void test_reorder_entries(void **state)
{
	fx *f = *state;
	tree t;
	tree_open(f, &t);
	swap(feed_part(&t, 0, "entries"), 1, 2);
	swap(feed_part(&t, 0, "bodies"), 1, 2);
	const mycel_buf *b = tree_encode(&t);
	expect_refusal(b->data, b->len, MYCEL_ECHAIN, "feeds[0].entries[1]");
	tree_close(&t);
}

static void test_charters_tampered(void **state)
{
	fx *f = *state;
	tree t;
	tree_open(f, &t);
	drop(t.charters, 0);
	const mycel_buf *b = tree_encode(&t);
	expect_refusal(b->data, b->len, MYCEL_ECHARTER, "charters[0]");
	tree_close(&t);

	tree_open(f, &t);
	swap(t.charters, 0, 1);
	b = tree_encode(&t);
	expect_refusal(b->data, b->len, MYCEL_ECHARTER, "charters[0]");
	tree_close(&t);

	/* without version 2, finance is not admitted: its feed is refused */
	tree_open_buf(&f->xbundle, &t);
	drop(t.charters, 1);
	b = tree_encode(&t);
	expect_refusal(b->data, b->len, MYCEL_EADMIT, "feeds[1]");
	tree_close(&t);

	/* a version 2 nobody signed */
	mycel_buf v2;
	charter_v2(f, &v2, false);
	tree_open(f, &t);
	t.charters->v.a.items[1].v.s.ptr = (const char *)v2.data;
	t.charters->v.a.items[1].v.s.len = v2.len;
	b = tree_encode(&t);
	expect_refusal(b->data, b->len, MYCEL_ETHRESHOLD, "charters[1]: ");
	tree_close(&t);
	mycel_buf_fini(&v2);
}

static void test_substitute_body(void **state)
{
	fx *f = *state;
	tree t;
	tree_open(f, &t);
	mycel_value *bodies = feed_part(&t, 0, "bodies");
	bodies->v.a.items[1] = bodies->v.a.items[4]; /* orders 1.1.0's body at 1.0.0's entry */
	const mycel_buf *b = tree_encode(&t);
	expect_refusal(b->data, b->len, MYCEL_EHASH, "feeds[0].bodies[1]");
	tree_close(&t);
}

static void test_omit_needed_body(void **state)
{
	fx *f = *state;
	static const size_t needed[] = {0, 1, 2, 4, 5, 6}; /* all but the product's (3) */
	for (size_t k = 0; k < sizeof(needed) / sizeof(needed[0]); k++) {
		tree t;
		char want[64];
		tree_open(f, &t);
		feed_part(&t, 0, "bodies")->v.a.items[needed[k]].type = MYCEL_T_NIL;
		const mycel_buf *b = tree_encode(&t);
		snprintf(want, sizeof(want), "feeds[0].bodies[%zu]: missing", needed[k]);
		expect_refusal(b->data, b->len, MYCEL_EBUNDLE, want);
		tree_close(&t);
	}
}

static void test_forged_signature(void **state)
{
	fx *f = *state;
	tree t;
	mycel_entry e, forged;
	assert_int_equal(mycel_store_get(f->s, f->sales->pk, 3, &e), 0);
	/* the same header signed by finance's key instead of the feed's */
	assert_int_equal(mycel_entry_sign(&e.h, f->fin, &forged), 0);
	tree_open(f, &t);
	mycel_value *ent = &feed_part(&t, 0, "entries")->v.a.items[2];
	ent->v.s.ptr = (const char *)forged.raw;
	ent->v.s.len = forged.len;
	const mycel_buf *b = tree_encode(&t);
	expect_refusal(b->data, b->len, MYCEL_EBADSIG,
	               "feeds[0].entries[2]: signature does not verify (feed ");
	tree_close(&t);
}

static void test_subject_tampered(void **state)
{
	fx *f = *state;
	tree t;
	tree_open(f, &t);
	mycel_value *d = member(t.subject, "domain");
	d->v.s.ptr = "finance";
	d->v.s.len = 7;
	const mycel_buf *b = tree_encode(&t);
	expect_refusal(b->data, b->len, MYCEL_EADMIT, "feeds[0]");
	tree_close(&t);

	tree_open(f, &t);
	mycel_value *id = member(t.subject, "id");
	id->v.s.ptr = "ghost";
	id->v.s.len = 5;
	b = tree_encode(&t);
	expect_refusal(b->data, b->len, MYCEL_EBUNDLE, "publishes sales/ghost");
	tree_close(&t);

	tree_open(f, &t);
	mycel_value *kind = member(t.subject, "kind");
	kind->v.s.ptr = "product";
	kind->v.s.len = 7;
	b = tree_encode(&t);
	/* as a product subject, the product bodies left out are needed */
	expect_refusal(b->data, b->len, MYCEL_EBUNDLE, "feeds[0].bodies[3]: missing");
	tree_close(&t);

	/* the feeds swapped: feeds[0] must be the subject domain's */
	tree_open_buf(&f->xbundle, &t);
	swap(t.feeds, 0, 1);
	b = tree_encode(&t);
	expect_refusal(b->data, b->len, MYCEL_EADMIT, "feeds[0]");
	tree_close(&t);
}

static void test_digest_alone(void **state)
{
	fx *f = *state;
	uint8_t *p = malloc(f->bundle.len);
	assert_non_null(p);
	memcpy(p, f->bundle.data, f->bundle.len);
	p[f->bundle.len - 1] ^= 0x40;
	expect_refusal(p, f->bundle.len, MYCEL_EBUNDLE, "digest does not match");
	free(p);
}

/* ---- strict layout and limits -------------------------------------------------------------- */

static void put_head(mycel_buf *b, uint32_t top)
{
	mycel_enc_array(b, top);
	mycel_enc_cstr(b, "mycel-bundle");
	mycel_enc_uint(b, 1);
}

static void test_layout_and_limits(void **state)
{
	(void)state;
	mycel_buf b;
	mycel_buf_init(&b, 1u << 20);

	/* 4097 charters: over the cap, refused before any element is read */
	put_head(&b, 4);
	mycel_enc_map(&b, 4);
	mycel_enc_cstr(&b, "charters");
	mycel_enc_array(&b, MYCEL_BUNDLE_CHARTERS_MAX + 1);
	for (size_t i = 0; i <= MYCEL_BUNDLE_CHARTERS_MAX; i++)
		mycel_enc_nil(&b);
	expect_refusal(b.data, b.len, MYCEL_ETOOBIG, "charters holds 4097 elements");

	/* a count that cannot fit in what remains */
	mycel_buf_reset(&b);
	put_head(&b, 4);
	mycel_enc_map(&b, 4);
	mycel_enc_cstr(&b, "charters");
	mycel_buf_put(&b, "\xdd\xff\xff\xff\xff", 5);
	expect_refusal(b.data, b.len, MYCEL_ETRUNC, "byte ");

	/* 17 feeds */
	mycel_buf_reset(&b);
	put_head(&b, 4);
	mycel_enc_map(&b, 4);
	mycel_enc_cstr(&b, "charters");
	mycel_enc_array(&b, 1);
	mycel_enc_bin(&b, (const uint8_t *)"x", 1);
	mycel_enc_cstr(&b, "feeds");
	mycel_enc_array(&b, MYCEL_BUNDLE_FEEDS_MAX + 1);
	for (size_t i = 0; i <= MYCEL_BUNDLE_FEEDS_MAX; i++)
		mycel_enc_nil(&b);
	expect_refusal(b.data, b.len, MYCEL_ETOOBIG, "feeds holds 17");

	/* an unknown key where "charters" belongs */
	mycel_buf_reset(&b);
	put_head(&b, 4);
	mycel_enc_map(&b, 4);
	mycel_enc_cstr(&b, "aaa");
	for (int i = 0; i < 8; i++)
		mycel_enc_nil(&b);
	expect_refusal(b.data, b.len, MYCEL_EBUNDLE, "unexpected key (expected \"charters\")");

	/* another format version, another magic, another shape */
	mycel_buf_reset(&b);
	mycel_enc_array(&b, 4);
	mycel_enc_cstr(&b, "mycel-bundle");
	mycel_enc_uint(&b, 2);
	expect_refusal(b.data, b.len, MYCEL_EVERSION, "byte 14");
	mycel_buf_reset(&b);
	mycel_enc_array(&b, 4);
	mycel_enc_cstr(&b, "mycel-bundlf");
	expect_refusal(b.data, b.len, MYCEL_EBUNDLE, "not a mycel bundle");
	mycel_buf_reset(&b);
	mycel_enc_array(&b, 3);
	for (int i = 0; i < 3; i++)
		mycel_enc_nil(&b);
	expect_refusal(b.data, b.len, MYCEL_EBUNDLE, "not a mycel bundle");

	/* non-canonical: a uint8 where a fixint belongs */
	mycel_buf_reset(&b);
	mycel_enc_array(&b, 4);
	mycel_enc_cstr(&b, "mycel-bundle");
	mycel_buf_put(&b, "\xcc\x01", 2);
	expect_refusal(b.data, b.len, MYCEL_ENONCANON, "byte 14");

	/* over the size limit: refused before reading */
	static const uint8_t one = 0x94;
	expect_refusal(&one, MYCEL_BUNDLE_MAX + 1, MYCEL_ETOOBIG, "over the limit");
	mycel_buf_fini(&b);
}

/* ---- forks and the builder's own checks ------------------------------------------------------ */

static void test_fork_proof_travels(void **state)
{
	fx *f = *state;
	mycel_entry e, other;
	mycel_bundle_report *r = NULL;
	mycel_buf b;
	char why[512] = "";
	static const uint8_t body[] = {0x80}; /* {} */
	/* sales signs a second entry at seq 7: an equivocation, stored as a fork proof */
	assert_int_equal(mycel_store_get(f->s, f->sales->pk, 7, &e), 0);
	mycel_header h = e.h;
	snprintf(h.kind, sizeof(h.kind), "note");
	mycel_body_hash(body, sizeof(body), h.body_hash);
	assert_int_equal(mycel_entry_sign(&h, f->sales, &other), 0);
	mycel_blob blob = {other.raw, other.len, body, sizeof(body)};
	mycel_ingest_result res;
	assert_int_equal(mycel_store_ingest(f->s, &blob, 1, &res), MYCEL_EFORK);
	assert_true(res.fork_stored);

	mycel_buf_init(&b, MYCEL_BUNDLE_MAX);
	assert_int_equal(mycel_bundle_build(f->s, "sales", "orders", &b, why, sizeof(why)), 0);
	int rv = mycel_bundle_verify(b.data, b.len, &r, why, sizeof(why));
	if (rv != 0)
		fail_msg("verify: %s (%s)", mycel_errname(rv), why);
	assert_int_equal(r->forks, 1);
	assert_int_equal(r->owner_forks, 1);
	mycel_bundle_report_free(r);
	mycel_buf_fini(&b);
}

static void test_builder_checks(void **state)
{
	fx *f = *state;
	mycel_bundle_builder *bb = NULL;
	mycel_entry e1, e2;
	uint8_t *g = NULL;
	size_t gn = 0;
	char why[256] = "";
	assert_int_equal(mycel_bundle_builder_new("Sales", "orders", &bb), MYCEL_EINVAL);
	assert_int_equal(mycel_bundle_builder_new("sales", "", &bb), MYCEL_EINVAL);
	assert_int_equal(mycel_bundle_builder_new("sales", "orders", &bb), 0);
	assert_int_equal(mycel_store_charter_file(f->s, 2, &g, &gn), 0);
	assert_int_equal(mycel_bundle_builder_add_charter(bb, g, gn, why, sizeof(why)),
	                 MYCEL_EINVAL);
	assert_non_null(strstr(why, "version 2"));
	free(g);
	assert_int_equal(mycel_store_get(f->s, f->sales->pk, 1, &e1), 0);
	assert_int_equal(mycel_store_get(f->s, f->sales->pk, 2, &e2), 0);
	assert_int_equal(mycel_bundle_builder_add_entry(bb, e1.raw, e1.len, NULL, 0), MYCEL_EINVAL);
	assert_int_equal(mycel_bundle_builder_add_feed(bb, f->sales->pk), 0);
	assert_int_equal(mycel_bundle_builder_add_feed(bb, f->sales->pk), MYCEL_EEXIST);
	assert_int_equal(mycel_bundle_builder_add_entry(bb, e2.raw, e2.len, NULL, 0), MYCEL_EINVAL);
	assert_int_equal(mycel_bundle_builder_add_entry(bb, e1.raw, e1.len, NULL, 0), 0);
	mycel_buf b;
	mycel_buf_init(&b, 1u << 20);
	assert_int_equal(mycel_bundle_builder_finish(bb, &b, why, sizeof(why)), MYCEL_EINVAL);
	assert_int_equal(b.len, 0);
	mycel_buf_fini(&b);
	mycel_bundle_builder_free(bb);
}

/*
 * A feed whose key was rotated (PROTOCOL.md §5.4): the bundle carries the key entry with its
 * body and verifies each entry under the key of its seq; an entry after the rotation signed
 * by the retired key does not verify.
 */
static void test_key_rotation(void **state)
{
	fx *f = *state;
	mycel_key *next = tc_seed_key(0xc3);
	mycel_entry ke;
	mycel_bundle_report *r = NULL;
	mycel_buf b;
	char why[512] = "";
	assert_int_equal(mycel_store_rotate(f->s, f->sales, f->sales->pk, next, &ke), 0);
	mycel_buf c;
	mycel_buf_init(&c, 4096);
	mycel_enc_map(&c, 4);
	mycel_enc_cstr(&c, "id");
	mycel_enc_cstr(&c, "orders");
	mycel_enc_cstr(&c, "kind");
	mycel_enc_cstr(&c, "DataContract");
	mycel_enc_cstr(&c, "name");
	mycel_enc_cstr(&c, "Orders");
	mycel_enc_cstr(&c, "version");
	mycel_enc_cstr(&c, "1.2.0");
	mycel_record rec = {"contract", c.data, c.len};
	assert_int_equal(mycel_store_append(f->s, f->sales, f->sales->pk, &rec, 1, NULL),
			 MYCEL_EPERM); /* the retired key writes no more */
	assert_int_equal(mycel_store_append(f->s, next, f->sales->pk, &rec, 1, NULL), 0);
	mycel_buf_fini(&c);
	mycel_buf_init(&b, MYCEL_BUNDLE_MAX);
	assert_int_equal(mycel_bundle_build(f->s, "sales", "orders", &b, why, sizeof(why)), 0);
	int rv = mycel_bundle_verify(b.data, b.len, &r, why, sizeof(why));
	if (rv != 0)
		fail_msg("verify: %s (%s)", mycel_errname(rv), why);
	assert_int_equal(r->n_versions, 3);
	assert_string_equal(r->versions[2].version, "1.2.0");
	assert_int_equal(r->versions[2].seq, ke.h.seq + 1);
	mycel_bundle_report_free(r);

	/* the key entry's body travels and is bound: a changed reverse signature fails */
	uint8_t *at = memmem(b.data, b.len, "\xa3sig\xc4\x40", 6);
	assert_non_null(at);
	at[6] ^= 0x01;
	r = NULL;
	rv = mycel_bundle_verify(b.data, b.len, &r, why, sizeof(why));
	assert_int_not_equal(rv, 0);
	assert_null(r);
	mycel_buf_fini(&b);
	mycel_key_free(next);
}

/* ---- transfers (PROTOCOL.md §5.5) ------------------------------------------------------------ */

static mycel_bundle_report *verify_ok(const uint8_t *p, size_t n)
{
	mycel_bundle_report *r = NULL;
	char why[512] = "";
	int rv = mycel_bundle_verify(p, n, &r, why, sizeof(why));
	if (rv != 0)
		fail_msg("verify: %s (%s)", mycel_errname(rv), why);
	return r;
}

static uint64_t ts_of(fx *f, const mycel_key *k, uint64_t seq)
{
	mycel_entry e;
	assert_int_equal(mycel_store_get(f->s, k->pk, seq, &e), 0);
	return e.h.ts_ms;
}

/* The transfer sales -> finance of the fixture, as a report must tell it. */
static void expect_sales_to_finance(fx *f, const mycel_bundle_transfer *t)
{
	assert_string_equal(t->from, "sales");
	assert_string_equal(t->to, "finance");
	assert_int_equal(t->offer_seq, 7);
	assert_int_equal(t->offer_ts_ms, ts_of(f, f->sales, 7));
	assert_int_equal(t->accept_seq, 2);
	assert_int_equal(t->accept_ts_ms, ts_of(f, f->fin, 2));
}

static void test_transfer_from_giver(void **state)
{
	fx *f = *state;
	mycel_bundle_report *r = verify_ok(f->xbundle.data, f->xbundle.len);
	assert_string_equal(r->domain, "sales");
	assert_string_equal(r->id, "dash");
	assert_string_equal(r->kind, "product");
	assert_int_equal(r->feeds, 2); /* finance's feed came with the offer naming it */
	assert_string_equal(r->owner, "finance");
	assert_memory_equal(r->owner_feed, f->fin->pk, MYCEL_PK_LEN);
	assert_int_equal(r->since_seq, 2); /* finance's acceptance */
	assert_int_equal(r->since_ts_ms, ts_of(f, f->fin, 2));
	assert_int_equal(r->n_transfers, 1);
	expect_sales_to_finance(f, &r->transfers[0]);
	assert_false(r->pending);
	assert_int_equal(r->n_versions, 2);
	assert_string_equal(r->versions[0].domain, "sales");
	assert_string_equal(r->versions[0].version, "1.0.0");
	assert_int_equal(r->versions[0].seq, 4);
	assert_string_equal(r->versions[1].domain, "finance");
	assert_string_equal(r->versions[1].version, "2.0.0");
	assert_int_equal(r->versions[1].seq, 3);
	assert_int_equal(r->head_seq, 7);
	mycel_bundle_report_free(r);
}

static void test_transfer_from_receiver(void **state)
{
	fx *f = *state;
	mycel_buf b;
	char why[512] = "";
	mycel_buf_init(&b, MYCEL_BUNDLE_MAX);
	int rv = mycel_bundle_build(f->s, "finance", "dash", &b, why, sizeof(why));
	if (rv != 0)
		fail_msg("build: %s (%s)", mycel_errname(rv), why);
	mycel_bundle_report *r = verify_ok(b.data, b.len);
	assert_string_equal(r->domain, "finance");
	assert_int_equal(r->feeds, 2); /* sales's feed came with the acceptance naming it */
	assert_int_equal(r->admitted_since, 2);
	assert_string_equal(r->owner, "finance");
	assert_memory_equal(r->owner_feed, f->fin->pk, MYCEL_PK_LEN);
	assert_int_equal(r->since_seq, 2);
	assert_int_equal(r->n_transfers, 1);
	expect_sales_to_finance(f, &r->transfers[0]);
	assert_int_equal(r->n_versions, 2);
	assert_string_equal(r->versions[0].domain, "sales");
	assert_string_equal(r->versions[1].domain, "finance");
	assert_int_equal(r->head_seq, 3);
	mycel_bundle_report_free(r);
	mycel_buf_fini(&b);
}

/* A builder for domain/dash with charters 1..2 of the store and no feed yet. */
static mycel_bundle_builder *builder(fx *f, const char *domain)
{
	mycel_bundle_builder *bb = NULL;
	char why[256] = "";
	assert_int_equal(mycel_bundle_builder_new(domain, "dash", &bb), 0);
	for (uint64_t v = 1; v <= 2; v++) {
		uint8_t *p = NULL;
		size_t n = 0;
		assert_int_equal(mycel_store_charter_file(f->s, v, &p, &n), 0);
		assert_int_equal(mycel_bundle_builder_add_charter(bb, p, n, why, sizeof(why)), 0);
		free(p);
	}
	return bb;
}

/* Adds k's feed from the store to bb, seq 1 to upto. */
static void add_feed(fx *f, mycel_bundle_builder *bb, const mycel_key *k, uint64_t upto)
{
	assert_int_equal(mycel_bundle_builder_add_feed(bb, k->pk), 0);
	for (uint64_t seq = 1; seq <= upto; seq++) {
		mycel_entry e;
		uint8_t *body = NULL;
		size_t n = 0;
		assert_int_equal(mycel_store_get(f->s, k->pk, seq, &e), 0);
		assert_int_equal(mycel_store_get_body(f->s, k->pk, seq, &body, &n), 0);
		assert_int_equal(mycel_bundle_builder_add_entry(bb, e.raw, e.len, body, n), 0);
		free(body);
	}
}

static mycel_bundle_report *finish_ok(mycel_bundle_builder *bb)
{
	mycel_buf b;
	char why[512] = "";
	mycel_buf_init(&b, MYCEL_BUNDLE_MAX);
	int rv = mycel_bundle_builder_finish(bb, &b, why, sizeof(why));
	if (rv != 0)
		fail_msg("finish: %s (%s)", mycel_errname(rv), why);
	mycel_bundle_report *r = verify_ok(b.data, b.len);
	mycel_buf_fini(&b);
	mycel_bundle_builder_free(bb);
	return r;
}

static void test_transfer_received_not_published(void **state)
{
	fx *f = *state;
	/* finance up to its acceptance, before it published a version of its own */
	mycel_bundle_builder *bb = builder(f, "finance");
	add_feed(f, bb, f->fin, 2);
	add_feed(f, bb, f->sales, 7);
	mycel_bundle_report *r = finish_ok(bb);
	assert_string_equal(r->kind, "product");
	assert_string_equal(r->owner, "finance");
	assert_int_equal(r->since_seq, 2);
	assert_int_equal(r->n_transfers, 1);
	assert_int_equal(r->n_versions, 1);
	assert_string_equal(r->versions[0].domain, "sales");
	mycel_bundle_report_free(r);

	/* without the giver's feed, nothing shows that finance ever held a version */
	mycel_buf b;
	char why[512] = "";
	bb = builder(f, "finance");
	add_feed(f, bb, f->fin, 2);
	mycel_buf_init(&b, MYCEL_BUNDLE_MAX);
	assert_int_equal(mycel_bundle_builder_finish(bb, &b, why, sizeof(why)), MYCEL_ENOTFOUND);
	assert_non_null(strstr(why, "giver's feed"));
	assert_int_equal(b.len, 0);
	mycel_buf_fini(&b);
	mycel_bundle_builder_free(bb);
}

static void test_transfer_pending(void **state)
{
	fx *f = *state;
	/* the receiver's feed is not in the bundle: no transfer can be claimed */
	mycel_bundle_builder *bb = builder(f, "sales");
	add_feed(f, bb, f->sales, 7);
	mycel_bundle_report *r = finish_ok(bb);
	assert_string_equal(r->owner, "sales");
	assert_memory_equal(r->owner_feed, f->sales->pk, MYCEL_PK_LEN);
	assert_int_equal(r->since_seq, 4); /* the first version, as far as the bundle proves */
	assert_int_equal(r->n_transfers, 0);
	assert_true(r->pending);
	assert_false(r->pending_feed_held);
	assert_string_equal(r->pending_to, "finance");
	assert_int_equal(r->pending_seq, 7);
	assert_int_equal(r->pending_ts_ms, ts_of(f, f->sales, 7));
	assert_int_equal(r->n_versions, 1);
	mycel_bundle_report_free(r);

	/* the receiver's feed up to a head before its acceptance */
	bb = builder(f, "sales");
	add_feed(f, bb, f->sales, 7);
	add_feed(f, bb, f->fin, 1);
	r = finish_ok(bb);
	assert_string_equal(r->owner, "sales");
	assert_int_equal(r->n_transfers, 0);
	assert_true(r->pending);
	assert_true(r->pending_feed_held);
	assert_string_equal(r->pending_to, "finance");
	mycel_bundle_report_free(r);
}

/* The acceptance body of the fixture's offer with its offer id changed (xor mask). */
static void accept_body_from(fx *f, uint8_t mask, const char *from, mycel_buf *b)
{
	mycel_entry offer;
	assert_int_equal(mycel_store_get(f->s, f->sales->pk, 7, &offer), 0);
	offer.id[0] ^= mask;
	mycel_buf_init(b, 4096);
	mycel_enc_map(b, 5);
	mycel_enc_cstr(b, "action");
	mycel_enc_cstr(b, "accept");
	mycel_enc_cstr(b, "from");
	mycel_enc_cstr(b, from);
	mycel_enc_cstr(b, "id");
	mycel_enc_cstr(b, "dash");
	mycel_enc_cstr(b, "offer");
	mycel_enc_bin(b, offer.id, MYCEL_HASH_LEN);
	mycel_enc_cstr(b, "seq");
	mycel_enc_uint(b, 7);
	assert_int_equal(b->err, 0);
}

static void accept_body(fx *f, uint8_t mask, mycel_buf *b)
{
	accept_body_from(f, mask, "sales", b);
}

static void test_transfer_acceptance_tampered(void **state)
{
	fx *f = *state;
	mycel_entry acc;
	uint8_t *body = NULL;
	size_t bn = 0;
	mycel_buf b;
	assert_int_equal(mycel_store_get(f->s, f->fin->pk, 2, &acc), 0);
	assert_int_equal(mycel_store_get_body(f->s, f->fin->pk, 2, &body, &bn), 0);
	/* the fixture's acceptance body is the one the spec describes, byte for byte */
	accept_body(f, 0, &b);
	assert_int_equal(b.len, bn);
	assert_memory_equal(b.data, body, bn);
	mycel_buf_fini(&b);

	/* any byte of the acceptance's entry or body changed: the bundle does not verify */
	uint8_t *p = malloc(f->xbundle.len);
	assert_non_null(p);
	const uint8_t *parts[] = {acc.raw, body};
	size_t lens[] = {acc.len, bn};
	for (size_t k = 0; k < 2; k++) {
		memcpy(p, f->xbundle.data, f->xbundle.len);
		uint8_t *at = memmem(p, f->xbundle.len, parts[k], lens[k]);
		assert_non_null(at);
		for (size_t i = 0; i < lens[k]; i++) {
			char why[512] = "";
			mycel_bundle_report *r = NULL;
			at[i] ^= 0x01;
			int rv = mycel_bundle_verify(p, f->xbundle.len, &r, why, sizeof(why));
			at[i] ^= 0x01;
			if (rv == 0 || r != NULL)
				fail_msg("%s byte %zu changed: the bundle still verifies",
				         k ? "acceptance body" : "acceptance entry", i);
		}
	}
	free(p);

	/* another offer id in the body, the digest recomputed: the body hash names it */
	tree t;
	accept_body(f, 0x80, &b);
	tree_open_buf(&f->xbundle, &t);
	mycel_value *bodies = feed_part(&t, 1, "bodies");
	bodies->v.a.items[1].v.s.ptr = (const char *)b.data;
	bodies->v.a.items[1].v.s.len = b.len;
	const mycel_buf *x = tree_encode(&t);
	expect_refusal(x->data, x->len, MYCEL_EHASH, "feeds[1].bodies[1]");
	tree_close(&t);

	/* finance validly signs an acceptance of another offer: that is no transfer */
	mycel_header h = acc.h;
	mycel_entry forged;
	mycel_body_hash(b.data, b.len, h.body_hash);
	assert_int_equal(mycel_entry_sign(&h, f->fin, &forged), 0);
	mycel_bundle_builder *bb = builder(f, "sales");
	add_feed(f, bb, f->sales, 7);
	add_feed(f, bb, f->fin, 1);
	assert_int_equal(mycel_bundle_builder_add_entry(bb, forged.raw, forged.len, b.data, b.len),
	                 0);
	mycel_bundle_report *r = finish_ok(bb);
	assert_string_equal(r->owner, "sales");
	assert_int_equal(r->n_transfers, 0);
	assert_true(r->pending);
	assert_true(r->pending_feed_held);
	mycel_bundle_report_free(r);
	mycel_buf_fini(&b);

	/* nor is an acceptance of the right offer that names another giver */
	accept_body_from(f, 0, "hr", &b);
	mycel_body_hash(b.data, b.len, h.body_hash);
	assert_int_equal(mycel_entry_sign(&h, f->fin, &forged), 0);
	bb = builder(f, "sales");
	add_feed(f, bb, f->sales, 7);
	add_feed(f, bb, f->fin, 1);
	assert_int_equal(mycel_bundle_builder_add_entry(bb, forged.raw, forged.len, b.data, b.len),
	                 0);
	r = finish_ok(bb);
	assert_string_equal(r->owner, "sales");
	assert_int_equal(r->n_transfers, 0);
	assert_true(r->pending);
	mycel_bundle_report_free(r);
	mycel_buf_fini(&b);
	free(body);
}

/*
 * What a faulty publisher may sign anyway changes nothing: a second acceptance of the offer
 * (the lowest seq counts), a second offer after the transfer, accepted too (the first
 * accepted offer counts).
 */
static void test_transfer_first_counts(void **state)
{
	fx *f = *state;
	mycel_buf b, o;
	char why[512] = "";
	accept_body(f, 0, &b);
	append(f, f->fin, "transfer", &b); /* finance seq 4: the same acceptance again */
	mycel_buf_init(&o, 4096);
	mycel_enc_map(&o, 4);
	mycel_enc_cstr(&o, "action");
	mycel_enc_cstr(&o, "offer");
	mycel_enc_cstr(&o, "id");
	mycel_enc_cstr(&o, "dash");
	mycel_enc_cstr(&o, "kind");
	mycel_enc_cstr(&o, "product");
	mycel_enc_cstr(&o, "to");
	mycel_enc_cstr(&o, "finance");
	append(f, f->sales, "transfer", &o); /* sales seq 8: offered again */
	mycel_buf_init(&b, 4096);
	mycel_enc_map(&b, 5);
	mycel_enc_cstr(&b, "action");
	mycel_enc_cstr(&b, "accept");
	mycel_enc_cstr(&b, "from");
	mycel_enc_cstr(&b, "sales");
	mycel_enc_cstr(&b, "id");
	mycel_enc_cstr(&b, "dash");
	mycel_enc_cstr(&b, "offer");
	mycel_entry e8;
	assert_int_equal(mycel_store_get(f->s, f->sales->pk, 8, &e8), 0);
	mycel_enc_bin(&b, e8.id, MYCEL_HASH_LEN);
	mycel_enc_cstr(&b, "seq");
	mycel_enc_uint(&b, 8);
	append(f, f->fin, "transfer", &b); /* finance seq 5: an acceptance of offer 8 */

	mycel_buf_init(&b, MYCEL_BUNDLE_MAX);
	int rv = mycel_bundle_build(f->s, "sales", "dash", &b, why, sizeof(why));
	if (rv != 0)
		fail_msg("build: %s (%s)", mycel_errname(rv), why);
	mycel_bundle_report *r = verify_ok(b.data, b.len);
	assert_string_equal(r->owner, "finance");
	assert_int_equal(r->n_transfers, 1);
	expect_sales_to_finance(f, &r->transfers[0]); /* offer 7, acceptance 2 */
	assert_int_equal(r->since_seq, 2);
	assert_false(r->pending);
	mycel_bundle_report_free(r);
	mycel_buf_fini(&b);
}

/* sales -> finance -> hr: both bundles, from either end, name hr as the owner. */
static void test_transfer_chain(void **state)
{
	fx *f = *state;
	mycel_key *hr = tc_seed_key(0xc4);
	mycel_charter *c = NULL;
	mycel_buf v3, b;
	char why[512] = "";
	assert_int_equal(mycel_charter_new("acme", 3, 1, &c), 0);
	assert_int_equal(mycel_charter_add_member(c, "gov", f->gov->pk), 0);
	assert_int_equal(mycel_charter_add_domain(c, "sales", f->sales->pk), 0);
	assert_int_equal(mycel_charter_add_domain(c, "finance", f->fin->pk), 0);
	assert_int_equal(mycel_charter_add_domain(c, "hr", hr->pk), 0);
	assert_int_equal(mycel_charter_sign(c, f->gov, why, sizeof(why)), 0);
	mycel_buf_init(&v3, MYCEL_CHARTER_MAX);
	assert_int_equal(mycel_charter_encode(c, &v3), 0);
	mycel_charter_free(c);
	assert_int_equal(mycel_store_add_charter(f->s, v3.data, v3.len, why, sizeof(why)), 0);
	mycel_buf_fini(&v3);
	int rv =
	    mycel_transfer_offer(f->s, f->fin, "finance", "dash", "hr", NULL, why, sizeof(why));
	if (rv != 0)
		fail_msg("offer: %s (%s)", mycel_errname(rv), why);
	put_domain(f, hr, "HR");
	rv = mycel_transfer_accept(f->s, hr, "hr", "finance", "dash", NULL, why, sizeof(why));
	if (rv != 0)
		fail_msg("accept: %s (%s)", mycel_errname(rv), why);

	static const char *const from[] = {"sales", "hr", "finance"};
	for (size_t k = 0; k < 3; k++) {
		mycel_buf_init(&b, MYCEL_BUNDLE_MAX);
		rv = mycel_bundle_build(f->s, from[k], "dash", &b, why, sizeof(why));
		if (rv != 0)
			fail_msg("build %s/dash: %s (%s)", from[k], mycel_errname(rv), why);
		mycel_bundle_report *r = verify_ok(b.data, b.len);
		assert_string_equal(r->domain, from[k]);
		assert_int_equal(r->feeds, 3);
		assert_string_equal(r->owner, "hr");
		assert_memory_equal(r->owner_feed, hr->pk, MYCEL_PK_LEN);
		assert_int_equal(r->since_seq, 2);
		assert_int_equal(r->since_ts_ms, r->transfers[1].accept_ts_ms);
		assert_int_equal(r->n_transfers, 2);
		expect_sales_to_finance(f, &r->transfers[0]);
		assert_string_equal(r->transfers[1].from, "finance");
		assert_string_equal(r->transfers[1].to, "hr");
		assert_int_equal(r->transfers[1].offer_seq, 4);
		assert_int_equal(r->transfers[1].accept_seq, 2);
		assert_false(r->pending);
		assert_int_equal(r->n_versions, 2);
		mycel_bundle_report_free(r);
		mycel_buf_fini(&b);
	}
	mycel_key_free(hr);
}

/* Appends to bb the next entry of sales's feed (after *prev, seq n+1) with body b. */
static void signed_entry(fx *f, mycel_bundle_builder *bb, mycel_entry *prev, uint64_t n,
                         const char *kind, const mycel_buf *b)
{
	mycel_header h;
	mycel_entry e;
	memset(&h, 0, sizeof(h));
	memcpy(h.feed, f->sales->pk, MYCEL_PK_LEN);
	h.seq = n + 1;
	h.has_prev = n > 0;
	if (n > 0)
		memcpy(h.prev, prev->id, MYCEL_HASH_LEN);
	h.ts_ms = 1700000000000u + n;
	snprintf(h.kind, sizeof(h.kind), "%s", kind);
	mycel_body_hash(b->data, b->len, h.body_hash);
	assert_int_equal(mycel_entry_sign(&h, f->sales, &e), 0);
	assert_int_equal(mycel_bundle_builder_add_entry(bb, e.raw, e.len, b->data, b->len), 0);
	*prev = e;
}

/*
 * Thousands of versions, each published twice, every third one deprecated: each keeps its
 * first entry, order and status (the verifier indexes versions instead of rescanning them).
 */
static void test_many_versions(void **state)
{
	fx *f = *state;
	enum { N = 3000 };
	mycel_bundle_builder *bb = NULL;
	mycel_entry prev;
	mycel_buf b;
	uint8_t *g = NULL;
	size_t gn = 0;
	uint64_t n = 0;
	char why[256] = "", ver[32];
	assert_int_equal(mycel_bundle_builder_new("sales", "orders", &bb), 0);
	assert_int_equal(mycel_store_charter_file(f->s, 1, &g, &gn), 0);
	assert_int_equal(mycel_bundle_builder_add_charter(bb, g, gn, why, sizeof(why)), 0);
	free(g);
	assert_int_equal(mycel_bundle_builder_add_feed(bb, f->sales->pk), 0);
	mycel_buf_init(&b, 4096);
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < N; i++) {
			snprintf(ver, sizeof(ver), "1.%d.0", i);
			mycel_buf_reset(&b);
			mycel_enc_map(&b, 2);
			mycel_enc_cstr(&b, "id");
			mycel_enc_cstr(&b, "orders");
			mycel_enc_cstr(&b, "version");
			mycel_enc_cstr(&b, ver);
			signed_entry(f, bb, &prev, n++, "contract", &b);
		}
	for (int i = 0; i < N; i += 3) {
		snprintf(ver, sizeof(ver), "1.%d.0", i);
		mycel_buf_reset(&b);
		mycel_enc_map(&b, 4);
		mycel_enc_cstr(&b, "id");
		mycel_enc_cstr(&b, "orders");
		mycel_enc_cstr(&b, "kind");
		mycel_enc_cstr(&b, "contract");
		mycel_enc_cstr(&b, "status");
		mycel_enc_cstr(&b, "deprecated");
		mycel_enc_cstr(&b, "version");
		mycel_enc_cstr(&b, ver);
		signed_entry(f, bb, &prev, n++, "lifecycle", &b);
	}
	mycel_buf_fini(&b);
	mycel_bundle_report *r = finish_ok(bb);
	assert_int_equal(r->n_versions, N);
	for (size_t i = 0; i < N; i++) {
		snprintf(ver, sizeof(ver), "1.%zu.0", i);
		assert_string_equal(r->versions[i].version, ver);
		assert_int_equal(r->versions[i].seq, i + 1);
		assert_int_equal(r->versions[i].status,
		                 i % 3 == 0 ? MYCEL_BUNDLE_DEPRECATED : MYCEL_BUNDLE_ACTIVE);
		if (i % 3 == 0)
			assert_int_equal(r->versions[i].status_seq, 2 * N + i / 3 + 1);
	}
	mycel_bundle_report_free(r);
}

static void test_transfer_peer(void **state)
{
	(void)state;
	uint8_t offer[MYCEL_HASH_LEN];
	char name[MYCEL_NAME_MAX + 1] = "unchanged";
	mycel_buf b;
	memset(offer, 0x40, sizeof(offer));
	mycel_buf_init(&b, 4096);
	mycel_enc_map(&b, 4);
	mycel_enc_cstr(&b, "action");
	mycel_enc_cstr(&b, "offer");
	mycel_enc_cstr(&b, "id");
	mycel_enc_cstr(&b, "dash");
	mycel_enc_cstr(&b, "kind");
	mycel_enc_cstr(&b, "product");
	mycel_enc_cstr(&b, "to");
	mycel_enc_cstr(&b, "finance");
	assert_int_equal(b.err, 0);
	assert_int_equal(mycel_bundle_transfer_peer(b.data, b.len, "dash", name), 0);
	assert_string_equal(name, "finance");
	strcpy(name, "unchanged");
	assert_int_equal(mycel_bundle_transfer_peer(b.data, b.len, "orders", name),
	                 MYCEL_ENOTFOUND);
	assert_int_equal(mycel_bundle_transfer_peer(b.data, b.len - 1, "dash", name),
	                 MYCEL_ENOTFOUND);
	assert_string_equal(name, "unchanged");
	mycel_buf_reset(&b);
	mycel_enc_map(&b, 5);
	mycel_enc_cstr(&b, "action");
	mycel_enc_cstr(&b, "accept");
	mycel_enc_cstr(&b, "from");
	mycel_enc_cstr(&b, "sales");
	mycel_enc_cstr(&b, "id");
	mycel_enc_cstr(&b, "dash");
	mycel_enc_cstr(&b, "offer");
	mycel_enc_bin(&b, offer, MYCEL_HASH_LEN);
	mycel_enc_cstr(&b, "seq");
	mycel_enc_uint(&b, 7);
	assert_int_equal(mycel_bundle_transfer_peer(b.data, b.len, "dash", name), 0);
	assert_string_equal(name, "sales");
	/* the shape from before §5.5 ({id, to: a feed}) names nothing */
	mycel_buf_reset(&b);
	mycel_enc_map(&b, 2);
	mycel_enc_cstr(&b, "id");
	mycel_enc_cstr(&b, "dash");
	mycel_enc_cstr(&b, "to");
	mycel_enc_bin(&b, offer, MYCEL_HASH_LEN);
	assert_int_equal(mycel_bundle_transfer_peer(b.data, b.len, "dash", name), MYCEL_ENOTFOUND);
	assert_int_equal(mycel_bundle_transfer_peer(NULL, 0, "dash", name), MYCEL_ENOTFOUND);
	mycel_buf_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_verify_ok, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_rotation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_versions_only_move_forward, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_build_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flip_every_byte, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reencoded_unchanged_verifies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reorder_entries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_charters_tampered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_substitute_body, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_omit_needed_body, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forged_signature, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_subject_tampered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_digest_alone, setup, teardown),
	    cmocka_unit_test(test_layout_and_limits),
	    cmocka_unit_test_setup_teardown(test_fork_proof_travels, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_builder_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transfer_from_giver, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transfer_from_receiver, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transfer_received_not_published, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transfer_pending, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transfer_acceptance_tampered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transfer_first_counts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transfer_chain, setup, teardown),
	    cmocka_unit_test(test_transfer_peer),
	    cmocka_unit_test_setup_teardown(test_many_versions, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
