/*
 * test_rpc.c — the RPC layer (include/mycel/rpc.h): envelopes round trip; every kind of
 * bad request (garbage, truncated, oversize, wrong version, unknown method, wrong body
 * types, over-bound fields, expired deadline, an Admin method on the public socket) gets
 * the right status and a message; the Catalog handlers return what the catalog API
 * returns for the same store, and the Entry of a Get verifies. The Admin handlers, through
 * mycel_rpc_serve_ctx as domain sales: Publish (new, unchanged, changed version refused,
 * invalid refused with findings; several documents all or none, dry run, duplicates in one
 * request), Deprecate, Retire, Reindex; Admin/Peers, Mesh/Peers and Status's peer count.
 *
 * The store (mkdtemp, removed at the end) has a charter admitting alpha and beta; alpha
 * publishes contract orders 1.0.0 and 1.1.0 and contract customers 1.0.0, beta product
 * report 1.0.0 whose input port reads contract orders.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/catalog.h"
#include "mycel/charter.h"
#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/publish.h"
#include "mycel/rpc.h"
#include "mycel/store.h"
#include "mycel_proto.h"

#include "common.h"

#define NOW 1700000000000ull
#define CAT "mycel.v1.Catalog/"

typedef struct fx {
	char dir[64];
	mycel_store *s;
	mycel_key *gov, *a, *b, *sales;
	mycel_arena *ar;
	mycel_buf out; /* the last reply envelope */
	mycel_rpc_reply rep;
} fx;

static fx *F;

/* A product {apiVersion, id, inputPorts[{contractId, name, version}], kind, name, status, version}. */
static void put_product(mycel_key *k, const char *id, const char *input)
{
	mycel_buf b;
	mycel_buf_init(&b, 1 << 16);
	mycel_enc_map(&b, 7);
	mycel_enc_cstr(&b, "apiVersion");
	mycel_enc_cstr(&b, "v1.0.0");
	mycel_enc_cstr(&b, "id");
	mycel_enc_cstr(&b, id);
	mycel_enc_cstr(&b, "inputPorts");
	mycel_enc_array(&b, 1);
	mycel_enc_map(&b, 3);
	mycel_enc_cstr(&b, "contractId");
	mycel_enc_cstr(&b, input);
	mycel_enc_cstr(&b, "name");
	mycel_enc_cstr(&b, "in");
	mycel_enc_cstr(&b, "version");
	mycel_enc_cstr(&b, "1.0.0");
	mycel_enc_cstr(&b, "kind");
	mycel_enc_cstr(&b, "DataProduct");
	mycel_enc_cstr(&b, "name");
	mycel_enc_cstr(&b, "Report");
	mycel_enc_cstr(&b, "status");
	mycel_enc_cstr(&b, "active");
	mycel_enc_cstr(&b, "version");
	mycel_enc_cstr(&b, "1.0.0");
	assert_int_equal(b.err, 0);
	mycel_record rec = {"product", b.data, b.len};
	assert_int_equal(mycel_store_append(F->s, k, k->pk, &rec, 1, NULL), 0);
	mycel_buf_fini(&b);
}

static int group_setup(void **state)
{
	static const char *const names[] = {"alpha", "beta", "sales"};
	mycel_buf cb;
	F = calloc(1, sizeof(*F));
	assert_non_null(F);
	F->gov = tc_seed_key(0x01);
	F->a = tc_seed_key(0xa1);
	F->b = tc_seed_key(0xb2);
	F->sales = tc_seed_key(0x5a);
	const mycel_key *const keys[] = {F->a, F->b, F->sales};
	tc_genesis("acme", F->gov, names, keys, 3, &cb, NULL);

	tc_tmpdir("rpc", F->dir, sizeof(F->dir));
	F->s = tc_store_new(F->dir, cb.data, cb.len);
	mycel_buf_fini(&cb);

	tc_put_contract(F->s, F->a, "orders", "1.0.0", "Orders", "all the orders of the shop");
	tc_put_contract(F->s, F->a, "orders", "1.1.0", "Orders", "all the orders of the shop");
	tc_put_contract(F->s, F->a, "customers", "1.0.0", "Customers", "all the orders of the shop");
	put_product(F->b, "report", "orders");
	mycel_buf_init(&F->out, 32u << 20);
	*state = F;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	mycel_buf_fini(&F->out);
	mycel_store_close(F->s);
	(void)tc_rm_rf(F->dir);
	mycel_key_free(F->gov);
	mycel_key_free(F->a);
	mycel_key_free(F->b);
	mycel_key_free(F->sales);
	free(F);
	F = NULL;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(mycel_arena_new(64u << 20, &F->ar), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mycel_arena_free(F->ar);
	F->ar = NULL;
	return 0;
}

/* ---- helpers ------------------------------------------------------------------------ */

/* Serves raw request bytes; returns the reply's status (reply in F->rep). */
static uint64_t serve_raw(const uint8_t *p, size_t n, bool admin)
{
	char why[256] = "";
	assert_int_equal(mycel_rpc_serve(F->s, p, n, admin, NOW, &F->out), 0);
	int rv = mycel_rpc_reply_decode(F->out.data, F->out.len, F->out.len, &F->rep, why,
					sizeof(why));
	if (rv != 0)
		fail_msg("reply does not decode: %s", why);
	if (F->rep.status == MYCEL_RPC_OK)
		assert_true(F->rep.has_body);
	else
		assert_true(F->rep.message_len > 0);
	return F->rep.status;
}

/* Builds a request envelope for method with the given body bytes and serves it. */
static uint64_t serve_body(const char *method, const uint8_t *body, size_t n, uint64_t deadline,
			   bool admin)
{
	mycel_rpc_request r;
	mycel_buf b;
	memset(&r, 0, sizeof(r));
	r.method = method;
	r.method_len = strlen(method);
	r.deadline_ms = deadline;
	r.body = body;
	r.body_len = n;
	mycel_buf_init(&b, MYCEL_RPC_REQUEST_MAX + 1024);
	assert_int_equal(mycel_rpc_request_encode(&r, &b), 0);
	uint64_t st = serve_raw(b.data, b.len, admin);
	mycel_buf_fini(&b);
	return st;
}

/* True if the last reply's message contains sub. */
static bool msg_has(const char *sub)
{
	return F->rep.message != NULL &&
	       memmem(F->rep.message, F->rep.message_len, sub, strlen(sub)) != NULL;
}

typedef int (*enc_fn)(const void *m, mycel_buf *b);

/* Encodes message m with enc and serves it as method on the public socket. */
static uint64_t call(const char *method, const void *m, enc_fn enc)
{
	mycel_buf b;
	mycel_buf_init(&b, 1 << 20);
	assert_int_equal(enc(m, &b), 0);
	uint64_t st = serve_body(method, b.data, b.len, 0, false);
	mycel_buf_fini(&b);
	return st;
}

static void expect(uint64_t got, mycel_rpc_status want)
{
	if (got != (uint64_t)want)
		fail_msg("status %s (%.*s), want %s", mycel_rpc_status_name(got),
			 (int)F->rep.message_len, F->rep.message, mycel_rpc_status_name(want));
}

static int enc_get(const void *m, mycel_buf *b) { return mycel_msg_GetRequest_encode(m, b); }
static int enc_search(const void *m, mycel_buf *b) { return mycel_msg_SearchRequest_encode(m, b); }
static int enc_list(const void *m, mycel_buf *b) { return mycel_msg_ListRequest_encode(m, b); }
static int enc_lineage(const void *m, mycel_buf *b) { return mycel_msg_LineageRequest_encode(m, b); }
static int enc_history(const void *m, mycel_buf *b) { return mycel_msg_HistoryRequest_encode(m, b); }
static int enc_status(const void *m, mycel_buf *b) { return mycel_msg_StatusRequest_encode(m, b); }
static int enc_empty(const void *m, mycel_buf *b) { return mycel_msg_Empty_encode(m, b); }

#define S(x) x, strlen(x)

static void check_entry(const mycel_msg_Entry *en, const mycel_doc_version *v)
{
	mycel_entry e;
	assert_non_null(en->entry);
	assert_non_null(en->body);
	assert_int_equal(mycel_entry_decode(en->entry, en->entry_len, &e), 0);
	assert_int_equal(mycel_entry_verify(&e, e.h.feed), 0);
	assert_int_equal(mycel_entry_check_body(&e, en->body, en->body_len), 0);
	assert_memory_equal(e.h.feed, v->feed, MYCEL_PK_LEN);
	assert_true(e.h.seq == v->seq);
	assert_memory_equal(e.h.body_hash, v->body_hash, MYCEL_HASH_LEN);
}

static void check_version(const mycel_msg_DocVersion *m, const mycel_doc_version *v)
{
	assert_string_equal(m->version, v->version);
	assert_true(m->has_status && m->status == (uint64_t)v->status);
	assert_int_equal(m->feed_len, MYCEL_PK_LEN);
	assert_memory_equal(m->feed, v->feed, MYCEL_PK_LEN);
	assert_true(m->has_seq && m->seq == v->seq);
	assert_true(m->has_ts_ms && m->ts_ms == v->ts_ms);
	assert_memory_equal(m->body_hash, v->body_hash, MYCEL_HASH_LEN);
}

/* ---- tests -------------------------------------------------------------------------- */

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(mycel_rpc_status_name(0), "OK");
	assert_string_equal(mycel_rpc_status_name(3), "INVALID_ARGUMENT");
	assert_string_equal(mycel_rpc_status_name(12), "UNIMPLEMENTED");
	assert_string_equal(mycel_rpc_status_name(16), "UNAUTHENTICATED");
	assert_string_equal(mycel_rpc_status_name(15), "?");
	assert_int_equal(mycel_rpc_status_of(0), MYCEL_RPC_OK);
	assert_int_equal(mycel_rpc_status_of(MYCEL_ENOTFOUND), MYCEL_RPC_NOT_FOUND);
	assert_int_equal(mycel_rpc_status_of(MYCEL_ETOOBIG), MYCEL_RPC_RESOURCE_EXHAUSTED);
	assert_int_equal(mycel_rpc_status_of(MYCEL_ETRUNC), MYCEL_RPC_INVALID_ARGUMENT);
	assert_int_equal(mycel_rpc_status_of(MYCEL_EEXIST), MYCEL_RPC_ALREADY_EXISTS);
	assert_int_equal(mycel_rpc_status_of(MYCEL_EPERM), MYCEL_RPC_PERMISSION_DENIED);
	assert_int_equal(mycel_rpc_status_of(MYCEL_ESTORE), MYCEL_RPC_INTERNAL);
	assert_int_equal(mycel_rpc_status_of(-1000), MYCEL_RPC_UNKNOWN);
	/* every error code maps to a named status */
	for (int e = 1; e <= 33; e++)
		assert_string_not_equal(mycel_rpc_status_name(mycel_rpc_status_of(-e)), "?");
}

static void test_envelopes(void **state)
{
	(void)state;
	mycel_rpc_request r, d;
	mycel_buf b;
	char why[256];
	static const uint8_t body[] = {0x92, 0xa1, 'x', 0x01};
	memset(&r, 0, sizeof(r));
	r.method = CAT "Get";
	r.method_len = strlen(r.method);
	r.deadline_ms = NOW + 5000;
	r.meta[0] = (mycel_rpc_meta){S("a"), S("1")};
	r.meta[1] = (mycel_rpc_meta){S("ab"), S("")};
	r.meta[2] = (mycel_rpc_meta){S("b"), S("zz")};
	r.n_meta = 3;
	r.body = body;
	r.body_len = sizeof(body);
	mycel_buf_init(&b, 1 << 16);
	assert_int_equal(mycel_rpc_request_encode(&r, &b), 0);
	assert_int_equal(mycel_rpc_request_decode(b.data, b.len, b.len, &d, why, sizeof(why)), 0);
	assert_int_equal(d.method_len, r.method_len);
	assert_memory_equal(d.method, r.method, r.method_len);
	assert_true(d.deadline_ms == r.deadline_ms);
	assert_int_equal(d.n_meta, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(d.meta[i].key_len, r.meta[i].key_len);
		assert_memory_equal(d.meta[i].key, r.meta[i].key, r.meta[i].key_len);
		assert_int_equal(d.meta[i].value_len, r.meta[i].value_len);
		if (r.meta[i].value_len)
			assert_memory_equal(d.meta[i].value, r.meta[i].value, r.meta[i].value_len);
	}
	assert_int_equal(d.body_len, sizeof(body));
	assert_memory_equal(d.body, body, sizeof(body));
	/* re-encoding gives the same bytes */
	mycel_buf c;
	mycel_buf_init(&c, 1 << 16);
	assert_int_equal(mycel_rpc_request_encode(&d, &c), 0);
	assert_int_equal(c.len, b.len);
	assert_memory_equal(c.data, b.data, b.len);
	/* the limit and trailing bytes */
	assert_int_equal(mycel_rpc_request_decode(b.data, b.len, b.len - 1, &d, why, sizeof(why)),
			 MYCEL_ETOOBIG);
	mycel_buf_put(&c, "\x00", 1);
	assert_int_equal(mycel_rpc_request_decode(c.data, c.len, c.len, &d, why, sizeof(why)),
			 MYCEL_ETRAILING);
	/* metadata out of order */
	r.meta[0] = (mycel_rpc_meta){S("b"), S("1")};
	r.meta[2] = (mycel_rpc_meta){S("a"), S("1")};
	mycel_buf_reset(&c);
	assert_int_equal(mycel_rpc_request_encode(&r, &c), MYCEL_EKEYORDER);
	/* hand-made: {"b": "", "a": ""} */
	static const uint8_t unsorted[] = {0x95, 0x01, 0xa1, 'm', 0x00, 0x82, 0xa1, 'b', 0xa0,
					   0xa1, 'a', 0xa0, 0xc4, 0x00};
	assert_int_equal(
	    mycel_rpc_request_decode(unsorted, sizeof(unsorted), 1024, &d, why, sizeof(why)),
	    MYCEL_EKEYORDER);
	mycel_buf_fini(&b);
	mycel_buf_fini(&c);

	/* replies, with and without a body */
	mycel_rpc_reply p = {.status = 5, .message = "not here", .message_len = 8}, q;
	mycel_buf_init(&b, 1 << 16);
	assert_int_equal(mycel_rpc_reply_encode(&p, &b), 0);
	assert_int_equal(mycel_rpc_reply_decode(b.data, b.len, b.len, &q, why, sizeof(why)), 0);
	assert_true(q.status == 5 && !q.has_body && q.message_len == 8);
	assert_memory_equal(q.message, "not here", 8);
	static const uint8_t nilbody[] = {0x94, 0x01, 0x05, 0xa8, 'n', 'o', 't', ' ',
					  'h',  'e',  'r',  'e',  0xc0};
	assert_int_equal(b.len, sizeof(nilbody));
	assert_memory_equal(b.data, nilbody, sizeof(nilbody));
	mycel_buf_reset(&b);
	p = (mycel_rpc_reply){.status = 0, .has_body = true, .body = body, .body_len = sizeof(body)};
	assert_int_equal(mycel_rpc_reply_encode(&p, &b), 0);
	assert_int_equal(mycel_rpc_reply_decode(b.data, b.len, b.len, &q, why, sizeof(why)), 0);
	assert_true(q.status == 0 && q.has_body && q.body_len == sizeof(body) && q.message_len == 0);
	assert_memory_equal(q.body, body, sizeof(body));
	b.data[1] = 0x02; /* version 2 */
	assert_int_equal(mycel_rpc_reply_decode(b.data, b.len, b.len, &q, why, sizeof(why)),
			 MYCEL_EVERSION);
	mycel_buf_fini(&b);
}

static void test_bad_requests(void **state)
{
	(void)state;
	mycel_msg_GetRequest g;
	mycel_buf b;

	/* garbage */
	expect(serve_raw(NULL, 0, false), MYCEL_RPC_INVALID_ARGUMENT);
	expect(serve_raw((const uint8_t *)"\xc1", 1, false), MYCEL_RPC_INVALID_ARGUMENT);
	expect(serve_raw((const uint8_t *)"hello world", 11, false), MYCEL_RPC_INVALID_ARGUMENT);
	expect(serve_raw((const uint8_t *)"\x90", 1, false), MYCEL_RPC_INVALID_ARGUMENT);
	expect(serve_raw((const uint8_t *)"\x91\x01", 2, false), MYCEL_RPC_INVALID_ARGUMENT);
	/* wrong envelope types: the method as a bin, the deadline negative, metadata not strings */
	static const uint8_t bad1[] = {0x95, 0x01, 0xc4, 0x01, 'm', 0x00, 0x80, 0xc4, 0x00};
	static const uint8_t bad2[] = {0x95, 0x01, 0xa1, 'm', 0xff, 0x80, 0xc4, 0x00};
	static const uint8_t bad3[] = {0x95, 0x01, 0xa1, 'm', 0x00, 0x81, 0xa1, 'k', 0x01, 0xc4, 0x00};
	static const uint8_t bad4[] = {0x95, 0x01, 0xa1, 'm', 0x00, 0x80, 0xc0};
	expect(serve_raw(bad1, sizeof(bad1), false), MYCEL_RPC_INVALID_ARGUMENT);
	expect(serve_raw(bad2, sizeof(bad2), false), MYCEL_RPC_INVALID_ARGUMENT);
	expect(serve_raw(bad3, sizeof(bad3), false), MYCEL_RPC_INVALID_ARGUMENT);
	expect(serve_raw(bad4, sizeof(bad4), false), MYCEL_RPC_INVALID_ARGUMENT);

	/* a valid request, then each of its prefixes */
	memset(&g, 0, sizeof(g));
	g.domain = "alpha";
	g.domain_len = 5;
	g.id = "orders";
	g.id_len = 6;
	mycel_buf_init(&b, 1 << 16);
	assert_int_equal(mycel_msg_GetRequest_encode(&g, &b), 0);
	mycel_rpc_request r;
	memset(&r, 0, sizeof(r));
	r.method = CAT "Get";
	r.method_len = strlen(r.method);
	r.body = b.data;
	r.body_len = b.len;
	mycel_buf env;
	mycel_buf_init(&env, 1 << 16);
	assert_int_equal(mycel_rpc_request_encode(&r, &env), 0);
	expect(serve_raw(env.data, env.len, false), MYCEL_RPC_OK);
	for (size_t i = 0; i < env.len; i++)
		expect(serve_raw(env.data, i, false), MYCEL_RPC_INVALID_ARGUMENT);
	/* wrong version */
	env.data[1] = 0x02;
	expect(serve_raw(env.data, env.len, false), MYCEL_RPC_INVALID_ARGUMENT);
	assert_true(msg_has("version"));
	mycel_buf_fini(&env);

	/* oversize */
	size_t big = MYCEL_RPC_REQUEST_MAX + 1;
	uint8_t *p = calloc(1, big);
	assert_non_null(p);
	expect(serve_raw(p, big, false), MYCEL_RPC_RESOURCE_EXHAUSTED);
	free(p);

	/* unknown methods */
	expect(serve_body("mycel.v1.Catalog/Nope", b.data, b.len, 0, false),
	       MYCEL_RPC_UNIMPLEMENTED);
	expect(serve_body("", b.data, b.len, 0, false), MYCEL_RPC_UNIMPLEMENTED);
	expect(serve_body("mycel.v1.Catalog/Get/", b.data, b.len, 0, false),
	       MYCEL_RPC_UNIMPLEMENTED);

	/* deadlines: passed, exactly now, in the future */
	expect(serve_body(CAT "Get", b.data, b.len, 1, false), MYCEL_RPC_DEADLINE_EXCEEDED);
	expect(serve_body(CAT "Get", b.data, b.len, NOW, false), MYCEL_RPC_DEADLINE_EXCEEDED);
	expect(serve_body(CAT "Get", b.data, b.len, NOW + 1, false), MYCEL_RPC_OK);

	/* Admin methods: refused on the public socket; on the admin one, without a domain key */
	mycel_msg_Empty e;
	memset(&e, 0, sizeof(e));
	mycel_buf eb;
	mycel_buf_init(&eb, 64);
	assert_int_equal(mycel_msg_Empty_encode(&e, &eb), 0);
	expect(serve_body("mycel.v1.Admin/Reindex", eb.data, eb.len, 0, false),
	       MYCEL_RPC_PERMISSION_DENIED);
	expect(serve_body("mycel.v1.Admin/Reindex", eb.data, eb.len, 0, true),
	       MYCEL_RPC_FAILED_PRECONDITION);
	expect(serve_body("mycel.v1.Admin/Publish", b.data, b.len, 0, false),
	       MYCEL_RPC_PERMISSION_DENIED);
	/* Mesh/Peers: a bare store knows no peers; Mesh/Digest needs the caller's mesh id */
	expect(call("mycel.v1.Mesh/Peers", &e, enc_empty), MYCEL_RPC_OK);
	assert_int_equal(F->rep.body_len, 1); /* [] */
	expect(call("mycel.v1.Mesh/Digest", &e, enc_empty), MYCEL_RPC_INVALID_ARGUMENT);
	mycel_buf_fini(&eb);

	/* wrong body types */
	static const uint8_t notarray[] = {0xa3, 'a', 'b', 'c'};
	static const uint8_t domint[] = {0x92, 0x05, 0xa1, 'x'};            /* [5, "x"] */
	static const uint8_t trailing[] = {0x92, 0xa1, 'a', 0xa1, 'x', 0x00}; /* + 1 byte */
	static const uint8_t noncanon[] = {0x92, 0xd9, 0x01, 'a', 0xa1, 'x'};
	expect(serve_body(CAT "Get", notarray, sizeof(notarray), 0, false),
	       MYCEL_RPC_INVALID_ARGUMENT);
	assert_true(msg_has("GetRequest"));
	expect(serve_body(CAT "Get", domint, sizeof(domint), 0, false), MYCEL_RPC_INVALID_ARGUMENT);
	expect(serve_body(CAT "Get", trailing, sizeof(trailing), 0, false),
	       MYCEL_RPC_INVALID_ARGUMENT);
	expect(serve_body(CAT "Get", noncanon, sizeof(noncanon), 0, false),
	       MYCEL_RPC_INVALID_ARGUMENT);
	expect(serve_body(CAT "Get", NULL, 0, 0, false), MYCEL_RPC_INVALID_ARGUMENT);
	/* a string over its bound: RESOURCE_EXHAUSTED */
	uint8_t over[80] = {0x91, 0xd9, 65};
	memset(over + 3, 'a', 65);
	expect(serve_body(CAT "Get", over, 68, 0, false), MYCEL_RPC_RESOURCE_EXHAUSTED);
	/* missing or NUL-holding fields */
	static const uint8_t noid[] = {0x91, 0xa5, 'a', 'l', 'p', 'h', 'a'};
	static const uint8_t nul[] = {0x92, 0xa5, 'a', 'l', 'p', 'h', 'a', 0xa2, 'o', 0x00};
	expect(serve_body(CAT "Get", noid, sizeof(noid), 0, false), MYCEL_RPC_INVALID_ARGUMENT);
	expect(serve_body(CAT "Get", nul, sizeof(nul), 0, false), MYCEL_RPC_INVALID_ARGUMENT);
	/* unknown document */
	g.id = "nope";
	g.id_len = 4;
	expect(call(CAT "Get", &g, enc_get), MYCEL_RPC_NOT_FOUND);
	g.id = "orders";
	g.id_len = 6;
	g.version = "9.9.9";
	g.version_len = 5;
	expect(call(CAT "Get", &g, enc_get), MYCEL_RPC_NOT_FOUND);
	mycel_buf_fini(&b);
}

static void test_get(void **state)
{
	(void)state;
	const char *versions[] = {NULL, "1.0.0", "1.1.0"};
	for (size_t k = 0; k < 3; k++) {
		mycel_msg_GetRequest g;
		mycel_msg_GetReply rp;
		mycel_catalog_doc d;
		char why[256];
		memset(&g, 0, sizeof(g));
		g.domain = "alpha";
		g.domain_len = 5;
		g.id = "orders";
		g.id_len = 6;
		if (versions[k]) {
			g.version = versions[k];
			g.version_len = strlen(versions[k]);
		}
		expect(call(CAT "Get", &g, enc_get), MYCEL_RPC_OK);
		assert_int_equal(mycel_msg_GetReply_decode(F->rep.body, F->rep.body_len, F->ar, &rp,
							   why, sizeof(why)),
				 0);
		assert_int_equal(mycel_catalog_get(F->s, "alpha", "orders", versions[k], &d), 0);
		assert_true(rp.has_kind && rp.kind == (uint64_t)d.kind);
		assert_string_equal(rp.domain, d.domain);
		assert_string_equal(rp.id, d.id);
		assert_string_equal(rp.name, d.name);
		assert_string_equal(rp.description, d.description);
		assert_true(rp.has_current && rp.current == d.current);
		assert_true(rp.has_shown && rp.shown == d.shown);
		assert_int_equal(rp.n_versions, d.n_versions);
		assert_int_equal(rp.n_versions, 2);
		for (size_t i = 0; i < d.n_versions; i++)
			check_version(&rp.versions[i], &d.versions[i]);
		assert_int_equal(rp.n_entries, 1);
		check_entry(&rp.entries[0], &d.versions[d.shown]);
		assert_int_equal(rp.entries[0].body_len, d.body_len);
		assert_memory_equal(rp.entries[0].body, d.body, d.body_len);
		assert_string_equal(d.versions[d.shown].version, versions[k] ? versions[k] : "1.1.0");
		mycel_catalog_doc_fini(&d);
	}
}

static void test_search(void **state)
{
	(void)state;
	const char *texts[] = {"orders", "report", NULL, "ord", "nothing"};
	for (size_t k = 0; k < 5; k++) {
		mycel_msg_SearchRequest q;
		mycel_msg_SearchReply rp;
		mycel_search_query cq;
		mycel_search_result res;
		char why[256];
		memset(&q, 0, sizeof(q));
		memset(&cq, 0, sizeof(cq));
		cq.status = MYCEL_STATUS_VISIBLE;
		if (texts[k]) {
			q.text = texts[k];
			q.text_len = strlen(texts[k]);
			cq.text = texts[k];
		}
		q.has_facets = true;
		q.facets = true;
		expect(call(CAT "Search", &q, enc_search), MYCEL_RPC_OK);
		assert_int_equal(mycel_msg_SearchReply_decode(F->rep.body, F->rep.body_len, F->ar,
							      &rp, why, sizeof(why)),
				 0);
		assert_int_equal(mycel_catalog_search(F->s, &cq, &res), 0);
		assert_int_equal(rp.n_hits, res.n);
		assert_true(rp.total == res.total && rp.total_exact == res.total_exact);
		for (size_t i = 0; i < res.n; i++) {
			const mycel_msg_SearchHit *h = &rp.hits[i];
			assert_true(h->kind == (uint64_t)res.hits[i].kind);
			assert_string_equal(h->domain, res.hits[i].domain);
			assert_string_equal(h->id, res.hits[i].id);
			assert_string_equal(h->version, res.hits[i].version);
			assert_true(h->status == (uint64_t)res.hits[i].status);
			assert_string_equal(h->name, res.hits[i].name);
			assert_string_equal(h->snippet, res.hits[i].snippet);
			assert_true(h->score == res.hits[i].score);
			assert_string_equal(h->matched, res.hits[i].matched);
		}
		mycel_facet_count *fc = NULL;
		size_t nf = 0;
		assert_int_equal(mycel_catalog_facets(F->s, &cq, &fc, &nf), 0);
		assert_int_equal(rp.n_facets, nf);
		for (size_t i = 0; i < nf; i++) {
			assert_string_equal(rp.facets[i].facet, fc[i].facet);
			assert_string_equal(rp.facets[i].value, fc[i].value);
			assert_true(rp.facets[i].count == fc[i].count);
		}
		free(fc);
		mycel_search_result_fini(&res);
	}
	/* the catalog's refusals */
	mycel_msg_SearchRequest q;
	memset(&q, 0, sizeof(q));
	q.has_kind = true;
	q.kind = 7;
	expect(call(CAT "Search", &q, enc_search), MYCEL_RPC_INVALID_ARGUMENT);
	q.has_kind = false;
	q.has_status = true;
	q.status = -3;
	expect(call(CAT "Search", &q, enc_search), MYCEL_RPC_INVALID_ARGUMENT);
}

static void test_list(void **state)
{
	(void)state;
	mycel_msg_ListRequest q;
	mycel_msg_ListReply rp;
	char why[256];
	const char *seen[3];
	size_t n = 0;
	memset(&q, 0, sizeof(q));
	q.domain = "alpha";
	q.domain_len = 5;
	q.has_limit = true;
	q.limit = 1;
	for (;;) {
		expect(call(CAT "List", &q, enc_list), MYCEL_RPC_OK);
		assert_int_equal(mycel_msg_ListReply_decode(F->rep.body, F->rep.body_len, F->ar, &rp,
							    why, sizeof(why)),
				 0);
		assert_int_equal(rp.n_docs, 1);
		assert_true(n < 3);
		seen[n++] = rp.docs[0].id;
		assert_string_equal(rp.docs[0].domain, "alpha");
		if (rp.next == NULL)
			break;
		q.after = rp.next;
		q.after_len = rp.next_len;
	}
	assert_int_equal(n, 2);
	/* the same documents as a facet-only search of the domain */
	mycel_search_query cq;
	mycel_search_result res;
	memset(&cq, 0, sizeof(cq));
	cq.domain = "alpha";
	cq.status = MYCEL_STATUS_ANY;
	assert_int_equal(mycel_catalog_search(F->s, &cq, &res), 0);
	assert_int_equal(res.n, 2);
	for (size_t i = 0; i < 2; i++)
		assert_string_equal(seen[i], res.hits[i].id);
	mycel_search_result_fini(&res);
	/* one page with everything; a bad cursor; no domain */
	q.has_limit = false;
	q.after = NULL;
	q.after_len = 0;
	expect(call(CAT "List", &q, enc_list), MYCEL_RPC_OK);
	assert_int_equal(mycel_msg_ListReply_decode(F->rep.body, F->rep.body_len, F->ar, &rp, why,
						    sizeof(why)),
			 0);
	assert_int_equal(rp.n_docs, 2);
	assert_null(rp.next);
	q.after = "x1";
	q.after_len = 2;
	expect(call(CAT "List", &q, enc_list), MYCEL_RPC_INVALID_ARGUMENT);
	q.after = NULL;
	q.after_len = 0;
	q.domain = NULL;
	q.domain_len = 0;
	expect(call(CAT "List", &q, enc_list), MYCEL_RPC_INVALID_ARGUMENT);
}

static void test_lineage(void **state)
{
	(void)state;
	const struct {
		const char *dom, *id;
		uint64_t dir;
	} cases[] = {{"alpha", "orders", 2}, {"beta", "report", 1}, {"alpha", "customers", 2}};
	for (size_t k = 0; k < 3; k++) {
		mycel_msg_LineageRequest q;
		mycel_msg_LineageReply rp;
		mycel_lineage l;
		char why[256];
		memset(&q, 0, sizeof(q));
		q.domain = cases[k].dom;
		q.domain_len = strlen(cases[k].dom);
		q.id = cases[k].id;
		q.id_len = strlen(cases[k].id);
		q.has_direction = true;
		q.direction = cases[k].dir;
		q.has_depth = true;
		q.depth = 5;
		expect(call(CAT "Lineage", &q, enc_lineage), MYCEL_RPC_OK);
		assert_int_equal(mycel_msg_LineageReply_decode(F->rep.body, F->rep.body_len, F->ar,
							       &rp, why, sizeof(why)),
				 0);
		assert_int_equal(mycel_catalog_lineage(F->s, cases[k].dom, cases[k].id,
						       (mycel_lineage_dir)cases[k].dir, 5, &l),
				 0);
		assert_int_equal(rp.n_nodes, l.n);
		for (size_t i = 0; i < l.n; i++) {
			const mycel_msg_LineageNode *o = &rp.nodes[i];
			assert_true(o->depth == l.nodes[i].depth && o->parent == l.nodes[i].parent);
			assert_true(o->kind == (uint64_t)l.nodes[i].kind);
			assert_string_equal(o->domain, l.nodes[i].domain);
			assert_string_equal(o->id, l.nodes[i].id);
			assert_string_equal(o->name, l.nodes[i].name);
			if (l.nodes[i].via)
				assert_string_equal(o->via, l.nodes[i].via);
			assert_true(o->dangling == l.nodes[i].dangling);
			assert_true(o->ambiguous == l.nodes[i].ambiguous);
			assert_true(o->already_shown == l.nodes[i].repeated);
			assert_int_equal(o->n_candidates, l.nodes[i].n_candidates);
		}
		if (k < 2)
			assert_int_equal(l.n, 2);
		mycel_lineage_fini(&l);
	}
	mycel_msg_LineageRequest q;
	memset(&q, 0, sizeof(q));
	q.domain = "alpha";
	q.domain_len = 5;
	q.id = "orders";
	q.id_len = 6;
	expect(call(CAT "Lineage", &q, enc_lineage), MYCEL_RPC_INVALID_ARGUMENT); /* no direction */
	q.has_direction = true;
	q.direction = 1;
	q.has_depth = true;
	q.depth = 33;
	expect(call(CAT "Lineage", &q, enc_lineage), MYCEL_RPC_INVALID_ARGUMENT);
	q.depth = 1;
	q.id = "nope";
	q.id_len = 4;
	expect(call(CAT "Lineage", &q, enc_lineage), MYCEL_RPC_NOT_FOUND);
}

static void test_history(void **state)
{
	(void)state;
	mycel_msg_HistoryRequest q;
	mycel_msg_HistoryReply rp;
	mycel_catalog_doc d;
	char why[256];
	memset(&q, 0, sizeof(q));
	q.domain = "alpha";
	q.domain_len = 5;
	q.id = "orders";
	q.id_len = 6;
	expect(call(CAT "History", &q, enc_history), MYCEL_RPC_OK);
	assert_int_equal(mycel_msg_HistoryReply_decode(F->rep.body, F->rep.body_len, F->ar, &rp, why,
						       sizeof(why)),
			 0);
	assert_int_equal(mycel_catalog_get(F->s, "alpha", "orders", NULL, &d), 0);
	assert_int_equal(rp.n_versions, d.n_versions);
	assert_int_equal(rp.n_entries, d.n_versions);
	for (size_t i = 0; i < d.n_versions; i++) {
		check_version(&rp.versions[i], &d.versions[i]);
		check_entry(&rp.entries[i], &d.versions[i]);
	}
	/* limit: the newest versions */
	q.has_limit = true;
	q.limit = 1;
	expect(call(CAT "History", &q, enc_history), MYCEL_RPC_OK);
	assert_int_equal(mycel_msg_HistoryReply_decode(F->rep.body, F->rep.body_len, F->ar, &rp, why,
						       sizeof(why)),
			 0);
	assert_int_equal(rp.n_versions, 1);
	check_version(&rp.versions[0], &d.versions[d.n_versions - 1]);
	check_entry(&rp.entries[0], &d.versions[d.n_versions - 1]);
	mycel_catalog_doc_fini(&d);
	q.id = "nope";
	q.id_len = 4;
	expect(call(CAT "History", &q, enc_history), MYCEL_RPC_NOT_FOUND);
}

static void test_status(void **state)
{
	(void)state;
	mycel_msg_StatusRequest q;
	mycel_msg_StatusReply rp;
	uint8_t mesh[MYCEL_HASH_LEN], digest[MYCEL_HASH_LEN];
	char why[256];
	memset(&q, 0, sizeof(q));
	expect(call(CAT "Status", &q, enc_status), MYCEL_RPC_OK);
	assert_int_equal(mycel_msg_StatusReply_decode(F->rep.body, F->rep.body_len, F->ar, &rp, why,
						      sizeof(why)),
			 0);
	assert_non_null(rp.node);
	assert_non_null(strstr(rp.node, "mycel"));
	assert_int_equal(mycel_store_mesh_id(F->s, mesh), 0);
	assert_int_equal(rp.mesh_id_len, MYCEL_HASH_LEN);
	assert_memory_equal(rp.mesh_id, mesh, MYCEL_HASH_LEN);
	assert_int_equal(mycel_charter_digest(mycel_store_charter(F->s), digest), 0);
	assert_memory_equal(rp.charter_hash, digest, MYCEL_HASH_LEN);
	assert_true(rp.has_charter_version && rp.charter_version == 1);
	assert_true(rp.has_feeds && rp.feeds == 2);
	assert_true(rp.has_entries && rp.entries == 4);
	assert_true(rp.has_documents && rp.documents == 3);
	assert_int_equal(rp.n_heads, 2);
	for (size_t i = 0; i < rp.n_heads; i++) {
		uint64_t seq;
		uint8_t id[MYCEL_HASH_LEN];
		assert_int_equal(rp.heads[i].feed_len, MYCEL_PK_LEN);
		assert_int_equal(mycel_store_head(F->s, rp.heads[i].feed, &seq, id), 0);
		assert_true(rp.heads[i].seq == seq);
		assert_memory_equal(rp.heads[i].head, id, MYCEL_HASH_LEN);
	}
	assert_true(memcmp(rp.heads[0].feed, rp.heads[1].feed, MYCEL_PK_LEN) < 0);
	/* a Status request with unknown trailing fields is still served (forward compatible) */
	static const uint8_t fwd[] = {0x92, 0xc0, 0xa1, 'x'};
	expect(serve_body(CAT "Status", fwd, sizeof(fwd), 0, false), MYCEL_RPC_OK);
}

/* A reply that does not fit the caller's buffer becomes RESOURCE_EXHAUSTED. */
static void test_small_reply_buffer(void **state)
{
	(void)state;
	mycel_msg_HistoryRequest q;
	mycel_buf b, out;
	mycel_rpc_reply r;
	char why[256];
	memset(&q, 0, sizeof(q));
	q.domain = "alpha";
	q.domain_len = 5;
	q.id = "orders";
	q.id_len = 6;
	mycel_buf_init(&b, 1 << 16);
	assert_int_equal(mycel_msg_HistoryRequest_encode(&q, &b), 0);
	mycel_rpc_request rq;
	memset(&rq, 0, sizeof(rq));
	rq.method = CAT "History";
	rq.method_len = strlen(rq.method);
	rq.body = b.data;
	rq.body_len = b.len;
	mycel_buf env;
	mycel_buf_init(&env, 1 << 16);
	assert_int_equal(mycel_rpc_request_encode(&rq, &env), 0);
	mycel_buf_init(&out, 200);
	assert_int_equal(mycel_rpc_serve(F->s, env.data, env.len, false, NOW, &out), 0);
	assert_int_equal(mycel_rpc_reply_decode(out.data, out.len, out.len, &r, why, sizeof(why)), 0);
	assert_true(r.status == MYCEL_RPC_RESOURCE_EXHAUSTED);
	mycel_buf_fini(&out);
	mycel_buf_fini(&env);
	mycel_buf_fini(&b);
}

/* ---- Admin ------------------------------------------------------------------------ */

static int enc_publish(const void *m, mycel_buf *b) { return mycel_msg_PublishRequest_encode(m, b); }
static int enc_change(const void *m, mycel_buf *b) { return mycel_msg_ChangeStatusRequest_encode(m, b); }

/* Encodes m with enc and serves it as method through mycel_rpc_serve_ctx. */
static uint64_t ctx_call(const mycel_rpc_ctx *c, const char *method, const void *m, enc_fn enc,
			 bool admin)
{
	mycel_rpc_request r;
	mycel_buf body, env;
	char why[256] = "";
	mycel_buf_init(&body, MYCEL_RPC_REQUEST_MAX);
	assert_int_equal(enc(m, &body), 0);
	memset(&r, 0, sizeof(r));
	r.method = method;
	r.method_len = strlen(method);
	r.body = body.data;
	r.body_len = body.len;
	mycel_buf_init(&env, MYCEL_RPC_REQUEST_MAX + 1024);
	assert_int_equal(mycel_rpc_request_encode(&r, &env), 0);
	assert_int_equal(mycel_rpc_serve_ctx(c, env.data, env.len, admin, NOW, &F->out), 0);
	mycel_buf_fini(&env);
	mycel_buf_fini(&body);
	if (mycel_rpc_reply_decode(F->out.data, F->out.len, F->out.len, &F->rep, why,
				   sizeof(why)) != 0)
		fail_msg("reply does not decode: %s", why);
	if (F->rep.status == MYCEL_RPC_OK)
		assert_true(F->rep.has_body);
	else
		assert_true(F->rep.message_len > 0);
	return F->rep.status;
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *p = malloc(1 << 20);
	assert_non_null(p);
	*n = fread(p, 1, (1 << 20) - 1, f);
	assert_true(*n > 0);
	p[*n] = '\0';
	fclose(f);
	return p;
}

/* Publishes n documents in one request (paths[i] NULL: none given); decodes the reply. */
static uint64_t publish_n(const mycel_rpc_ctx *c, const char *const *texts, const size_t *lens,
			  const char *const *paths, size_t n, bool dry_run, mycel_msg_PublishReply *out)
{
	mycel_msg_PublishRequest rq;
	mycel_msg_PublishDoc docs[8];
	char why[256] = "";
	assert_true(n <= 8);
	memset(&rq, 0, sizeof(rq));
	memset(docs, 0, sizeof(docs));
	for (size_t i = 0; i < n; i++) {
		docs[i].document = (const uint8_t *)texts[i];
		docs[i].document_len = lens[i];
		docs[i].path = paths[i];
		docs[i].path_len = paths[i] ? strlen(paths[i]) : 0;
	}
	rq.documents = docs;
	rq.n_documents = n;
	rq.has_dry_run = dry_run;
	rq.dry_run = dry_run;
	uint64_t st = ctx_call(c, "mycel.v1.Admin/Publish", &rq, enc_publish, true);
	memset(out, 0, sizeof(*out));
	if (st == MYCEL_RPC_OK &&
	    mycel_msg_PublishReply_decode(F->rep.body, F->rep.body_len, F->ar, out, why,
					  sizeof(why)) != 0)
		fail_msg("PublishReply: %s", why);
	if (st == MYCEL_RPC_OK)
		assert_int_equal(out->n_documents, n);
	return st;
}

static uint64_t publish(const mycel_rpc_ctx *c, const char *text, size_t n, const char *path,
			mycel_msg_PublishReply *out)
{
	return publish_n(c, &text, &n, &path, 1, false, out);
}

static uint64_t change(const mycel_rpc_ctx *c, const char *method, const char *id,
		       const char *version, mycel_msg_ChangeStatusReply *out)
{
	mycel_msg_ChangeStatusRequest rq;
	char why[256] = "";
	memset(&rq, 0, sizeof(rq));
	rq.id = id;
	rq.id_len = strlen(id);
	rq.version = version;
	rq.version_len = strlen(version);
	rq.reason = "superseded";
	rq.reason_len = strlen(rq.reason);
	uint64_t st = ctx_call(c, method, &rq, enc_change, true);
	memset(out, 0, sizeof(*out));
	if (st == MYCEL_RPC_OK &&
	    mycel_msg_ChangeStatusReply_decode(F->rep.body, F->rep.body_len, F->ar, out, why,
					       sizeof(why)) != 0)
		fail_msg("ChangeStatusReply: %s", why);
	return st;
}

static void test_admin(void **state)
{
	(void)state;
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	const char *file = "examples/mesh/sales/contracts/orders.odcs.yaml";
	mycel_rpc_ctx bare = {.store = F->s};
	mycel_rpc_ctx c = {.store = F->s, .key = F->sales, .domain = "sales", .writer = &mu};
	mycel_msg_PublishReply pr;
	mycel_msg_ChangeStatusReply cr;
	mycel_msg_Empty e;
	mycel_entry ent;
	mycel_doc_version v;
	size_t n;
	char *text = slurp(file, &n);
	memset(&e, 0, sizeof(e));

	/* without a key: refused; on the public socket: refused */
	expect(publish(&bare, text, n, file, &pr), MYCEL_RPC_FAILED_PRECONDITION);
	assert_true(msg_has("this node has no domain key"));
	expect(change(&bare, "mycel.v1.Admin/Deprecate", "orders", "1.0.0", &cr),
	       MYCEL_RPC_FAILED_PRECONDITION);
	mycel_msg_PublishRequest prq;
	mycel_msg_PublishDoc pdoc;
	memset(&prq, 0, sizeof(prq));
	memset(&pdoc, 0, sizeof(pdoc));
	pdoc.document = (const uint8_t *)text;
	pdoc.document_len = n;
	prq.documents = &pdoc;
	prq.n_documents = 1;
	expect(ctx_call(&c, "mycel.v1.Admin/Publish", &prq, enc_publish, false),
	       MYCEL_RPC_PERMISSION_DENIED);
	expect(ctx_call(&c, "mycel.v1.Admin/Deprecate", &prq, enc_empty, false),
	       MYCEL_RPC_PERMISSION_DENIED);

	/* publish the example contract */
	expect(publish(&c, text, n, file, &pr), MYCEL_RPC_OK);
	assert_int_equal(pr.documents[0].kind, MYCEL_DOC_CONTRACT);
	assert_string_equal(pr.documents[0].path, file);
	assert_string_equal(pr.documents[0].domain, "sales");
	assert_string_equal(pr.documents[0].id, "sales-orders");
	assert_string_equal(pr.documents[0].version, "2.1.0");
	assert_false(pr.documents[0].unchanged);
	assert_true(pr.documents[0].has_seq);
	assert_int_equal(pr.documents[0].seq, 1);
	assert_int_equal(pr.n_entries, 1);
	assert_int_equal(mycel_entry_decode(pr.entries[0].entry, pr.entries[0].entry_len, &ent), 0);
	assert_int_equal(mycel_entry_verify(&ent, F->sales->pk), 0);
	assert_memory_equal(ent.h.feed, F->sales->pk, MYCEL_PK_LEN);
	assert_int_equal(ent.h.seq, 1);
	assert_int_equal(mycel_catalog_version(F->s, "sales", "sales-orders", "2.1.0", &v), 0);
	assert_int_equal(v.seq, 1);
	assert_int_equal(v.status, MYCEL_STATUS_ACTIVE);

	/* again: unchanged, nothing appended */
	expect(publish(&c, text, n, file, &pr), MYCEL_RPC_OK);
	assert_true(pr.documents[0].unchanged);
	assert_false(pr.documents[0].has_seq);
	assert_int_equal(pr.n_entries, 0);
	assert_string_equal(pr.documents[0].version, "2.1.0");

	/* other content under the same version: refused */
	char *changed = strdup(text);
	assert_non_null(changed);
	char *nm = strstr(changed, "name: Orders");
	assert_non_null(nm);
	memcpy(nm, "name: Ordres", 12);
	expect(publish(&c, changed, n, "changed.yaml", &pr), MYCEL_RPC_ALREADY_EXISTS);
	assert_true(msg_has("changed.yaml:"));
	assert_true(msg_has("bump the version"));
	free(changed);

	/* an invalid document: refused with its findings */
	static const char bad[] = "apiVersion: v3.2.0\nkind: DataContract\nid: bad\n"
				  "version: 1.0.0\nstatus: active\nschema: 7\n";
	expect(publish(&c, bad, strlen(bad), "bad.yaml", &pr), MYCEL_RPC_INVALID_ARGUMENT);
	assert_true(msg_has("bad.yaml:"));
	assert_true(msg_has("/schema"));
	expect(publish(&c, "a: [", 4, "broken.yaml", &pr), MYCEL_RPC_INVALID_ARGUMENT);
	assert_true(msg_has("\nbroken.yaml:2:1: "));
	/* the domain field must be the node's */
	mycel_rpc_ctx other = {.store = F->s, .key = F->a, .domain = "alpha", .writer = &mu};
	expect(publish(&other, text, n, file, &pr), MYCEL_RPC_INVALID_ARGUMENT);
	assert_true(msg_has("/domain"));

	/* deprecate, then again, then something unknown; retire */
	expect(change(&c, "mycel.v1.Admin/Deprecate", "sales-orders", "2.1.0", &cr), MYCEL_RPC_OK);
	assert_non_null(cr.entry);
	assert_int_equal(mycel_entry_decode(cr.entry->entry, cr.entry->entry_len, &ent), 0);
	assert_int_equal(ent.h.seq, 2);
	assert_int_equal(mycel_catalog_version(F->s, "sales", "sales-orders", "2.1.0", &v), 0);
	assert_int_equal(v.status, MYCEL_STATUS_DEPRECATED);
	expect(change(&c, "mycel.v1.Admin/Deprecate", "sales-orders", "2.1.0", &cr),
	       MYCEL_RPC_ALREADY_EXISTS);
	expect(change(&c, "mycel.v1.Admin/Deprecate", "nope", "1.0.0", &cr), MYCEL_RPC_NOT_FOUND);
	expect(change(&c, "mycel.v1.Admin/Deprecate", "", "1.0.0", &cr), MYCEL_RPC_INVALID_ARGUMENT);
	expect(change(&c, "mycel.v1.Admin/Retire", "sales-orders", "2.1.0", &cr), MYCEL_RPC_OK);
	expect(change(&c, "mycel.v1.Admin/Deprecate", "sales-orders", "2.1.0", &cr),
	       MYCEL_RPC_INVALID_ARGUMENT);

	/* reindex: the catalog rebuilt the same */
	expect(ctx_call(&c, "mycel.v1.Admin/Reindex", &e, enc_empty, true), MYCEL_RPC_OK);
	mycel_msg_ReindexReply rr;
	char why[256] = "";
	memset(&rr, 0, sizeof(rr));
	assert_int_equal(
	    mycel_msg_ReindexReply_decode(F->rep.body, F->rep.body_len, F->ar, &rr, why, sizeof(why)),
	    0);
	assert_true(rr.has_documents);
	assert_int_equal(rr.documents, 4);
	assert_int_equal(mycel_catalog_version(F->s, "sales", "sales-orders", "2.1.0", &v), 0);
	assert_int_equal(v.status, MYCEL_STATUS_RETIRED);
	free(text);
}

/* The head seq of the feed of key k (0 when it is empty). */
static uint64_t head_seq(const mycel_key *k)
{
	uint64_t seq = 0;
	uint8_t id[MYCEL_HASH_LEN];
	int rv = mycel_store_head(F->s, k->pk, &seq, id);
	if (rv == MYCEL_ENOTFOUND)
		return 0;
	assert_int_equal(rv, 0);
	return seq;
}

/*
 * Several documents in one Publish: all or none. Document 2 of 3 invalid publishes
 * nothing and the message names its path and line; dry_run writes nothing; three valid
 * ones land with consecutive seqs, one entry each, all Get-able; the same id and version
 * twice in one request (other content) is refused.
 */
static void test_publish_many(void **state)
{
	(void)state;
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	mycel_rpc_ctx c = {.store = F->s, .key = F->sales, .domain = "sales", .writer = &mu};
	const char *files[3] = {"examples/mesh/sales/contracts/daily-sales.odcs.yaml",
				"examples/mesh/sales/contracts/order-events.odcs.yaml",
				"examples/mesh/sales/contracts/returns.odcs.yaml"};
	const char *ids[3] = {"sales-daily-sales", "sales-order-events", "sales-returns"};
	const char *texts[3];
	size_t lens[3];
	mycel_msg_PublishReply pr;
	mycel_doc_version v;
	for (int i = 0; i < 3; i++)
		texts[i] = slurp(files[i], &lens[i]);
	uint64_t before = head_seq(F->sales);

	/* document 2 of 3 is invalid: nothing is published, its path and line are named */
	static const char bad[] = "apiVersion: v3.2.0\nkind: DataContract\nid: bad\n"
				  "version: 1.0.0\nstatus: active\nschema: 7\n";
	const char *t2[3] = {texts[0], bad, texts[2]};
	size_t l2[3] = {lens[0], strlen(bad), lens[2]};
	const char *p2[3] = {files[0], "bad.yaml", files[2]};
	expect(publish_n(&c, t2, l2, p2, 3, false, &pr), MYCEL_RPC_INVALID_ARGUMENT);
	assert_true(msg_has("bad.yaml: document 2 of 3"));
	assert_true(msg_has("\nbad.yaml:6:"));
	assert_true(msg_has("/schema"));
	assert_true(msg_has("nothing was published"));
	assert_false(msg_has(files[0]));
	assert_int_equal(head_seq(F->sales), before);
	assert_int_equal(mycel_catalog_version(F->s, "sales", ids[0], "1.1.0", &v), MYCEL_ENOTFOUND);
	/* without a path, a document is named by its position */
	const char *p3[3] = {files[0], NULL, files[2]};
	expect(publish_n(&c, t2, l2, p3, 3, false, &pr), MYCEL_RPC_INVALID_ARGUMENT);
	assert_true(msg_has("\n<document 2>:6:"));
	/* a document that breaks the publishing rules (another domain) sinks the request too */
	static const char other[] = "apiVersion: v3.0.2\nkind: DataContract\nid: elsewhere\n"
				    "name: Elsewhere\nversion: 1.0.0\nstatus: active\n"
				    "domain: finance\n";
	const char *t4[2] = {texts[0], other};
	size_t l4[2] = {lens[0], strlen(other)};
	const char *p4[2] = {files[0], "other.yaml"};
	expect(publish_n(&c, t4, l4, p4, 2, false, &pr), MYCEL_RPC_INVALID_ARGUMENT);
	assert_true(msg_has("other.yaml:7:"));
	assert_true(msg_has("/domain"));
	assert_int_equal(head_seq(F->sales), before);
	/* no document at all */
	expect(publish_n(&c, NULL, NULL, NULL, 0, false, &pr), MYCEL_RPC_INVALID_ARGUMENT);

	/* dry run: linted and checked, nothing written */
	expect(publish_n(&c, texts, lens, files, 3, true, &pr), MYCEL_RPC_OK);
	assert_int_equal(pr.n_documents, 3);
	assert_int_equal(pr.n_entries, 0);
	assert_string_equal(pr.documents[1].id, ids[1]);
	assert_false(pr.documents[1].has_seq);
	assert_int_equal(head_seq(F->sales), before);
	assert_int_equal(mycel_catalog_version(F->s, "sales", ids[0], "1.1.0", &v), MYCEL_ENOTFOUND);

	/* all three: consecutive seqs, one entry each, in request order */
	expect(publish_n(&c, texts, lens, files, 3, false, &pr), MYCEL_RPC_OK);
	assert_int_equal(pr.n_documents, 3);
	assert_int_equal(pr.n_entries, 3);
	assert_int_equal(head_seq(F->sales), before + 3);
	for (size_t i = 0; i < 3; i++) {
		mycel_entry ent;
		mycel_catalog_doc d;
		assert_string_equal(pr.documents[i].path, files[i]);
		assert_string_equal(pr.documents[i].id, ids[i]);
		assert_false(pr.documents[i].unchanged);
		assert_true(pr.documents[i].has_seq);
		assert_int_equal(pr.documents[i].seq, before + 1 + i);
		assert_int_equal(mycel_entry_decode(pr.entries[i].entry, pr.entries[i].entry_len, &ent),
				 0);
		assert_int_equal(mycel_entry_verify(&ent, F->sales->pk), 0);
		assert_int_equal(mycel_entry_check_body(&ent, pr.entries[i].body, pr.entries[i].body_len),
				 0);
		assert_int_equal(ent.h.seq, before + 1 + i);
		memset(&d, 0, sizeof(d));
		assert_int_equal(mycel_catalog_get(F->s, "sales", ids[i], NULL, &d), 0);
		assert_int_equal(d.versions[d.shown].seq, before + 1 + i);
		mycel_catalog_doc_fini(&d);
	}
	/* again, with one of them changed under its version: refused, nothing appended */
	char *changed = strdup(texts[1]);
	assert_non_null(changed);
	char *nm = strstr(changed, "name: ");
	assert_non_null(nm);
	nm[6] = nm[6] == 'X' ? 'Y' : 'X';
	const char *t5[3] = {texts[0], changed, texts[2]};
	expect(publish_n(&c, t5, lens, files, 3, false, &pr), MYCEL_RPC_ALREADY_EXISTS);
	assert_true(msg_has("bump the version"));
	assert_true(msg_has(files[1]));
	assert_int_equal(head_seq(F->sales), before + 3);

	/* the same id and version twice in one request, with other content: refused */
	static const char dup_a[] = "apiVersion: v3.0.2\nkind: DataContract\nid: dup\nname: A\n"
				    "version: 1.0.0\nstatus: active\n";
	static const char dup_b[] = "apiVersion: v3.0.2\nkind: DataContract\nid: dup\nname: B\n"
				    "version: 1.0.0\nstatus: active\n";
	const char *t6[2] = {dup_a, dup_b};
	size_t l6[2] = {strlen(dup_a), strlen(dup_b)};
	const char *p6[2] = {"a.yaml", "b.yaml"};
	expect(publish_n(&c, t6, l6, p6, 2, false, &pr), MYCEL_RPC_ALREADY_EXISTS);
	assert_true(msg_has("b.yaml:"));
	assert_true(msg_has("given twice"));
	assert_int_equal(head_seq(F->sales), before + 3);
	assert_int_equal(mycel_catalog_version(F->s, "sales", "dup", "1.0.0", &v), MYCEL_ENOTFOUND);
	free(changed);
	for (int i = 0; i < 3; i++)
		free((char *)texts[i]);
}

/*
 * Admin/Peers (admin socket) and Mesh/Peers (either socket) list the peer URLs the
 * context was given, with nothing learnt about them yet; Status counts them. Without
 * peers both lists are empty and Status says 0.
 */
static void test_peers(void **state)
{
	(void)state;
	static const char *const peers[] = {"tcp://127.0.0.1:7401", "tcp://[::1]:7402",
					    "tls+tcp://node.example:7401"};
	mycel_rpc_ctx c = {.store = F->s, .peers = peers, .n_peers = 3};
	mycel_rpc_ctx none = {.store = F->s};
	mycel_msg_Empty e;
	mycel_msg_PeersReply pr;
	mycel_msg_StatusReply sr;
	char why[256] = "";
	memset(&e, 0, sizeof(e));
	const char *methods[] = {"mycel.v1.Admin/Peers", "mycel.v1.Mesh/Peers"};
	for (int m = 0; m < 2; m++) {
		expect(ctx_call(&c, methods[m], &e, enc_empty, true), MYCEL_RPC_OK);
		memset(&pr, 0, sizeof(pr));
		assert_int_equal(mycel_msg_PeersReply_decode(F->rep.body, F->rep.body_len, F->ar,
							     &pr, why, sizeof(why)),
				 0);
		assert_int_equal(pr.n_peers, 3);
		for (size_t i = 0; i < 3; i++) {
			assert_string_equal(pr.peers[i].addr, peers[i]);
			assert_null(pr.peers[i].node_key);
			assert_null(pr.peers[i].domain);
			assert_true(pr.peers[i].has_live && !pr.peers[i].live);
			assert_true(pr.peers[i].has_last_seen_ms && pr.peers[i].last_seen_ms == 0);
			assert_true(pr.peers[i].has_failures && pr.peers[i].failures == 0);
		}
		expect(ctx_call(&none, methods[m], &e, enc_empty, true), MYCEL_RPC_OK);
		assert_int_equal(mycel_msg_PeersReply_decode(F->rep.body, F->rep.body_len, F->ar,
							     &pr, why, sizeof(why)),
				 0);
		assert_int_equal(pr.n_peers, 0);
	}
	/* Mesh/Peers is public; Admin/Peers is not */
	expect(ctx_call(&c, "mycel.v1.Mesh/Peers", &e, enc_empty, false), MYCEL_RPC_OK);
	expect(ctx_call(&c, "mycel.v1.Admin/Peers", &e, enc_empty, false),
	       MYCEL_RPC_PERMISSION_DENIED);
	mycel_msg_StatusRequest q;
	memset(&q, 0, sizeof(q));
	expect(ctx_call(&c, CAT "Status", &q, enc_status, false), MYCEL_RPC_OK);
	assert_int_equal(mycel_msg_StatusReply_decode(F->rep.body, F->rep.body_len, F->ar, &sr, why,
						      sizeof(why)),
			 0);
	assert_true(sr.has_peers && sr.peers == 3);
	expect(ctx_call(&none, CAT "Status", &q, enc_status, false), MYCEL_RPC_OK);
	assert_int_equal(mycel_msg_StatusReply_decode(F->rep.body, F->rep.body_len, F->ar, &sr, why,
						      sizeof(why)),
			 0);
	assert_true(sr.has_peers && sr.peers == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_status_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_envelopes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_get, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_search, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lineage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_history, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_small_reply_buffer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_peers, setup, teardown),
	    /* last: it publishes into the store the tests above read */
	    cmocka_unit_test_setup_teardown(test_admin, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_publish_many, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
