/*
 * test_proto.c — the RPC messages generated from proto/mycel.idl (mycel_proto.h):
 * round trips of every message type with every field set, the golden vectors of
 * proto/vectors/rpc.txt byte for byte, forward compatibility, refusals (wrong
 * type, too long, too many, truncated, non-canonical, trailing, depth), encoder
 * refusals and the method table. Runs from the source root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/codec.h"
#include "mycel_proto.h"

#define RPC_VECTORS "proto/vectors/rpc.txt"
#define MIB ((size_t)1 << 20)
#define BUF_LIMIT (64 * MIB)

/* ---- helpers ------------------------------------------------------------ */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes lowercase hex into a malloc'd buffer (never NULL), *out_len bytes. */
static uint8_t *unhex(const char *h, size_t *out_len)
{
	size_t n = strlen(h);
	uint8_t *p;

	assert_int_equal(n % 2, 0);
	p = malloc(n / 2 + 1);
	assert_non_null(p);
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);

		assert_true(hi >= 0 && lo >= 0);
		p[i] = (uint8_t)(hi << 4 | lo);
	}
	*out_len = n / 2;
	return p;
}

static char *tohex(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02x", p[i]);
	s[2 * n] = '\0';
	return s;
}

static void assert_bytes(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len,
			 const char *what)
{
	if (got_len != want_len || memcmp(got, want, want_len) != 0) {
		char *g = tohex(got, got_len), *w = tohex(want, want_len);

		print_error("%s:\n  got  %s\n  want %s\n", what, g, w);
		free(g);
		free(w);
		fail();
	}
}

static mycel_arena *arena(size_t limit)
{
	mycel_arena *a = NULL;

	assert_int_equal(mycel_arena_new(limit, &a), 0);
	assert_non_null(a);
	return a;
}

/* Decodes p as message d (a fresh arena of arena_limit), returns the code, *why filled. */
static int decode_as(const mycel_msg_desc *d, const uint8_t *p, size_t n, size_t arena_limit,
		     char *why, size_t why_len)
{
	mycel_arena *a = arena(arena_limit);
	void *out = calloc(1, d->size);
	int rc;

	assert_non_null(out);
	rc = d->decode(p, n, a, out, why, why_len);
	free(out);
	mycel_arena_free(a);
	return rc;
}

/* Decodes p as d and re-encodes it into b (reset first); asserts both succeed. */
static void decode_encode(const mycel_msg_desc *d, const uint8_t *p, size_t n, mycel_buf *b)
{
	mycel_arena *a = arena(64 * MIB);
	void *out = calloc(1, d->size);
	char why[256];
	int rc;

	assert_non_null(out);
	rc = d->decode(p, n, a, out, why, sizeof(why));
	if (rc != 0) {
		char *h = tohex(p, n < 200 ? n : 200);

		print_error("%s: decode failed: %s [%s]\n", d->name, why, h);
		free(h);
	}
	assert_int_equal(rc, 0);
	mycel_buf_reset(b);
	assert_int_equal(d->encode(out, b), 0);
	assert_int_equal(b->err, 0);
	free(out);
	mycel_arena_free(a);
}

/* ---- wire generation from the descriptors ------------------------------ */

static uint64_t rnd_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 2685821657736338717u;
}

static void gen_msg(mycel_buf *b, const mycel_msg_desc *m, int level);

/* One valid element of field f's type (for a repeated field: one element). */
static void gen_one(mycel_buf *b, const mycel_field_desc *f, int level)
{
	static const uint64_t uints[] = {0, 1, 127, 128, 255, 256, 65535, 65536, 0xffffffffu,
					 0x100000000u, UINT64_MAX};
	static const int64_t ints[] = {0, 5, -1, -32, -33, -128, -129, -32768, -32769,
				       INT32_MIN, (int64_t)INT32_MIN - 1, INT64_MIN, INT64_MAX};
	static const double dbls[] = {0.0, -0.0, 0.75, -1e300, 3.0, 1e-300};
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789-_./ ";
	uint64_t maxlen = f->type == MYCEL_F_STRING || f->type == MYCEL_F_BYTES ? f->max : 0;
	uint8_t tmp[64];
	size_t n;

	switch (f->type) {
	case MYCEL_F_BOOL:
		mycel_enc_bool(b, rnd() & 1);
		break;
	case MYCEL_F_UINT64:
		mycel_enc_uint(b, uints[rnd() % (sizeof(uints) / sizeof(uints[0]))]);
		break;
	case MYCEL_F_INT64:
		mycel_enc_int(b, ints[rnd() % (sizeof(ints) / sizeof(ints[0]))]);
		break;
	case MYCEL_F_DOUBLE:
		mycel_enc_float(b, dbls[rnd() % (sizeof(dbls) / sizeof(dbls[0]))]);
		break;
	case MYCEL_F_STRING:
		n = (size_t)(rnd() % 40);
		if (n > maxlen)
			n = (size_t)maxlen;
		for (size_t i = 0; i < n; i++)
			tmp[i] = (uint8_t)alpha[rnd() % (sizeof(alpha) - 1)];
		if (n >= 2 && (rnd() & 1)) { /* a two-byte UTF-8 sequence: é */
			tmp[0] = 0xc3;
			tmp[1] = 0xa9;
		}
		mycel_enc_str(b, (const char *)tmp, n);
		break;
	case MYCEL_F_BYTES:
		n = (size_t)(rnd() % 40);
		if (n > maxlen)
			n = (size_t)maxlen;
		for (size_t i = 0; i < n; i++)
			tmp[i] = (uint8_t)rnd();
		mycel_enc_bin(b, tmp, n);
		break;
	case MYCEL_F_MESSAGE:
		gen_msg(b, f->message, level + 1);
		break;
	}
}

/* A message with every field set (lists of 1..3 elements); nested ones too, to a few levels. */
static void gen_msg(mycel_buf *b, const mycel_msg_desc *m, int level)
{
	if (level > 3) {
		mycel_enc_array(b, 0);
		return;
	}
	mycel_enc_array(b, m->max_number);
	for (uint32_t num = 1; num <= m->max_number; num++) {
		const mycel_field_desc *f = NULL;

		for (size_t i = 0; i < m->n_fields; i++)
			if (m->fields[i].number == num)
				f = &m->fields[i];
		if (f == NULL) {
			mycel_enc_nil(b);
		} else if (f->repeated) {
			uint32_t count = 1 + (uint32_t)(rnd() % 3);

			if (count > f->max)
				count = (uint32_t)f->max;
			mycel_enc_array(b, count);
			for (uint32_t i = 0; i < count; i++)
				gen_one(b, f, level);
		} else {
			gen_one(b, f, level);
		}
	}
}

/* The smallest valid element of f's type. */
static void gen_min(mycel_buf *b, const mycel_field_desc *f)
{
	switch (f->type) {
	case MYCEL_F_BOOL:
		mycel_enc_bool(b, false);
		break;
	case MYCEL_F_UINT64:
	case MYCEL_F_INT64:
		mycel_enc_uint(b, 0);
		break;
	case MYCEL_F_DOUBLE:
		mycel_enc_float(b, 0.0);
		break;
	case MYCEL_F_STRING:
		mycel_enc_str(b, "", 0);
		break;
	case MYCEL_F_BYTES:
		mycel_enc_bin(b, (const uint8_t *)"", 0);
		break;
	case MYCEL_F_MESSAGE:
		mycel_enc_array(b, 0);
		break;
	}
}

/* Starts a message in which only field number num is set: the caller writes its value. */
static void gen_only(mycel_buf *b, uint32_t num)
{
	mycel_buf_reset(b);
	mycel_enc_array(b, num);
	for (uint32_t i = 1; i < num; i++)
		mycel_enc_nil(b);
}

/* ---- round trips --------------------------------------------------------- */

static void test_roundtrip_all_messages(void **state)
{
	mycel_buf b, b2;

	(void)state;
	mycel_buf_init(&b, BUF_LIMIT);
	mycel_buf_init(&b2, BUF_LIMIT);
	assert_true(mycel_n_msg_descs > 20);
	for (size_t k = 0; k < mycel_n_msg_descs; k++) {
		const mycel_msg_desc *d = &mycel_msg_descs[k];

		assert_ptr_equal(mycel_msg_desc_find(d->name)->encode, d->encode);
		for (int iter = 0; iter < 50; iter++) {
			mycel_buf_reset(&b);
			gen_msg(&b, d, 0);
			assert_int_equal(b.err, 0);
			decode_encode(d, b.data, b.len, &b2);
			assert_bytes(b2.data, b2.len, b.data, b.len, d->name);
		}
		/* the empty message: [] */
		mycel_buf_reset(&b);
		mycel_enc_array(&b, 0);
		decode_encode(d, b.data, b.len, &b2);
		assert_bytes(b2.data, b2.len, b.data, b.len, d->name);
		/* trailing nils are accepted, and trimmed on re-encoding */
		mycel_buf_reset(&b);
		mycel_enc_array(&b, 3);
		for (int i = 0; i < 3; i++)
			mycel_enc_nil(&b);
		decode_encode(d, b.data, b.len, &b2);
		assert_int_equal(b2.len, 1);
		assert_int_equal(b2.data[0], 0x90);
	}
	mycel_buf_fini(&b);
	mycel_buf_fini(&b2);
}

#define SET_S(m, f, lit)                    \
	do {                                \
		(m).f = (lit);              \
		(m).f##_len = sizeof(lit) - 1; \
	} while (0)

static const uint8_t entry_bytes[] = {0x93, 0x01, 0x02, 0x03};
static const uint8_t body_bytes[] = "{\"a\":1}";

static void fill_entry(mycel_msg_Entry *e)
{
	memset(e, 0, sizeof(*e));
	e->entry = entry_bytes;
	e->entry_len = sizeof(entry_bytes);
	e->body = body_bytes;
	e->body_len = sizeof(body_bytes) - 1;
}

/* Builds the message of vector name from C values; false if the test knows no such vector. */
static bool build_vector(const char *name, mycel_buf *b)
{
	static uint8_t feed[32], hash[32];

	memset(feed, 0x11, sizeof(feed));
	memset(hash, 0x22, sizeof(hash));
	mycel_buf_reset(b);
	if (strcmp(name, "get-request") == 0 || strcmp(name, "get-request-current") == 0) {
		mycel_msg_GetRequest m;

		memset(&m, 0, sizeof(m));
		SET_S(m, domain, "sales");
		SET_S(m, id, "orders");
		if (strcmp(name, "get-request") == 0)
			SET_S(m, version, "1.2.0");
		assert_int_equal(mycel_msg_GetRequest_encode(&m, b), 0);
	} else if (strcmp(name, "get-request-empty") == 0) {
		mycel_msg_GetRequest m;

		memset(&m, 0, sizeof(m));
		assert_int_equal(mycel_msg_GetRequest_encode(&m, b), 0);
	} else if (strcmp(name, "get-reply") == 0) {
		mycel_msg_GetReply m;
		mycel_msg_Entry e;
		mycel_msg_DocVersion v;

		memset(&m, 0, sizeof(m));
		memset(&v, 0, sizeof(v));
		fill_entry(&e);
		SET_S(v, version, "1.2.0");
		v.has_status = true;
		v.status = 0;
		v.feed = feed;
		v.feed_len = sizeof(feed);
		v.has_seq = true;
		v.seq = 7;
		v.has_ts_ms = true;
		v.ts_ms = 1700000000000u;
		v.body_hash = hash;
		v.body_hash_len = sizeof(hash);
		m.has_kind = true;
		m.kind = 1;
		SET_S(m, domain, "sales");
		SET_S(m, id, "orders");
		m.entries = &e;
		m.n_entries = 1;
		m.versions = &v;
		m.n_versions = 1;
		m.has_current = m.has_shown = true;
		SET_S(m, name, "Orders");
		SET_S(m, description, "");
		assert_int_equal(mycel_msg_GetReply_encode(&m, b), 0);
	} else if (strcmp(name, "search-request") == 0) {
		mycel_msg_SearchRequest m;
		static const mycel_str tags[] = {{"pii", 3}, {"gold", 4}};

		memset(&m, 0, sizeof(m));
		SET_S(m, text, "orders");
		m.has_status = true;
		m.status = -2;
		m.tags = tags;
		m.n_tags = 2;
		m.has_limit = true;
		m.limit = 20;
		assert_int_equal(mycel_msg_SearchRequest_encode(&m, b), 0);
	} else if (strcmp(name, "search-reply") == 0) {
		mycel_msg_SearchReply m;
		mycel_msg_SearchHit h;

		memset(&m, 0, sizeof(m));
		memset(&h, 0, sizeof(h));
		h.has_kind = true;
		h.kind = 1;
		SET_S(h, domain, "sales");
		SET_S(h, id, "orders");
		SET_S(h, version, "1.2.0");
		h.has_status = true;
		SET_S(h, name, "Orders");
		SET_S(h, snippet, "All orders");
		h.has_score = true;
		h.score = 0.75;
		SET_S(h, matched, "name");
		m.hits = &h;
		m.n_hits = 1;
		m.has_total = true;
		m.total = 1;
		m.has_total_exact = true;
		m.total_exact = true;
		assert_int_equal(mycel_msg_SearchReply_encode(&m, b), 0);
	} else if (strcmp(name, "lineage-node") == 0) {
		mycel_msg_LineageNode m;
		static const mycel_str cands[] = {{"a/orders", 8}, {"b/orders", 8}};

		memset(&m, 0, sizeof(m));
		m.has_depth = true;
		m.depth = 1;
		m.has_parent = true;
		m.parent = -1;
		m.has_kind = true;
		m.kind = 1;
		SET_S(m, domain, "sales");
		SET_S(m, id, "orders");
		SET_S(m, name, "Orders");
		SET_S(m, via, "input");
		SET_S(m, port, "raw");
		m.has_dangling = true;
		m.has_ambiguous = true;
		m.ambiguous = true;
		m.candidates = cands;
		m.n_candidates = 2;
		m.has_already_shown = true;
		assert_int_equal(mycel_msg_LineageNode_encode(&m, b), 0);
	} else if (strcmp(name, "lineage-request") == 0) {
		mycel_msg_LineageRequest m;

		memset(&m, 0, sizeof(m));
		SET_S(m, domain, "sales");
		SET_S(m, id, "orders");
		m.has_direction = true;
		m.direction = 2;
		m.has_depth = true;
		m.depth = -300;
		assert_int_equal(mycel_msg_LineageRequest_encode(&m, b), 0);
	} else if (strcmp(name, "change-status-reply") == 0) {
		mycel_msg_ChangeStatusReply m;
		mycel_msg_Entry e;

		fill_entry(&e);
		memset(&m, 0, sizeof(m));
		m.entry = &e;
		assert_int_equal(mycel_msg_ChangeStatusReply_encode(&m, b), 0);
	} else if (strcmp(name, "publish-request") == 0) {
		mycel_msg_PublishRequest m;
		mycel_msg_PublishDoc d[2];

		memset(&m, 0, sizeof(m));
		memset(d, 0, sizeof(d));
		d[0].document = (const uint8_t *)"id: x\n";
		d[0].document_len = 6;
		SET_S(d[0], path, "x.yaml");
		d[1].document = (const uint8_t *)"{}";
		d[1].document_len = 2;
		m.documents = d;
		m.n_documents = 2;
		m.has_dry_run = true;
		m.dry_run = true;
		assert_int_equal(mycel_msg_PublishRequest_encode(&m, b), 0);
	} else if (strcmp(name, "publish-reply") == 0) {
		mycel_msg_PublishReply m;
		mycel_msg_Published p[2];
		mycel_msg_Entry e;

		memset(&m, 0, sizeof(m));
		memset(p, 0, sizeof(p));
		fill_entry(&e);
		SET_S(p[0], path, "x.yaml");
		SET_S(p[0], domain, "sales");
		SET_S(p[0], id, "x");
		SET_S(p[0], version, "1.0.0");
		p[0].has_kind = true;
		p[0].kind = 1;
		p[0].has_unchanged = true;
		p[0].has_seq = true;
		p[0].seq = 7;
		SET_S(p[1], domain, "sales");
		SET_S(p[1], id, "y");
		SET_S(p[1], version, "2.0.0");
		p[1].has_kind = true;
		p[1].kind = 2;
		p[1].has_unchanged = true;
		p[1].unchanged = true;
		m.documents = p;
		m.n_documents = 2;
		m.entries = &e;
		m.n_entries = 1;
		assert_int_equal(mycel_msg_PublishReply_encode(&m, b), 0);
	} else if (strcmp(name, "digest-request") == 0) {
		static const uint64_t buckets[] = {7, 200};
		static uint8_t dig[32];
		mycel_msg_DigestRequest m;

		memset(dig, 0x33, sizeof(dig));
		memset(&m, 0, sizeof(m));
		m.digest = dig;
		m.digest_len = 32;
		m.mesh_id = hash;
		m.mesh_id_len = 32;
		m.charter_hash = feed;
		m.charter_hash_len = 32;
		m.has_charter_version = true;
		m.charter_version = 3;
		m.buckets = buckets;
		m.n_buckets = 2;
		SET_S(m, from, "tcp://127.0.0.1:7000");
		m.has_feeds = true;
		m.feeds = 70;
		assert_int_equal(mycel_msg_DigestRequest_encode(&m, b), 0);
	} else if (strcmp(name, "push-reply") == 0) {
		mycel_msg_PushReply m;

		memset(&m, 0, sizeof(m));
		m.has_accepted = m.has_known = m.has_refused = m.has_gap = true;
		m.accepted = 1;
		m.known = 2;
		m.refused = 3;
		m.gap = true;
		SET_S(m, reason, "feed 1111/seq 4: EBADSIG");
		assert_int_equal(mycel_msg_PushReply_encode(&m, b), 0);
	} else if (strcmp(name, "status-request") == 0) {
		mycel_msg_StatusRequest m;

		memset(&m, 0, sizeof(m));
		assert_int_equal(mycel_msg_StatusRequest_encode(&m, b), 0);
	} else {
		return false;
	}
	assert_int_equal(b->err, 0);
	return true;
}

typedef struct vec {
	char name[64];
	char msg[64];
	uint8_t *bytes;
	size_t len;
} vec;

static size_t load_vectors(vec *v, size_t max)
{
	FILE *f = fopen(RPC_VECTORS, "r");
	char line[8192];
	size_t n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char hex[8192];

		if (line[0] == '#' || line[0] == '\n')
			continue;
		assert_true(n < max);
		assert_int_equal(sscanf(line, "%63s %63s %8191s", v[n].name, v[n].msg, hex), 3);
		v[n].bytes = unhex(hex, &v[n].len);
		n++;
	}
	fclose(f);
	return n;
}

static const vec *find_vec(const vec *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

static void test_vectors(void **state)
{
	vec v[64];
	size_t n = load_vectors(v, 64), built = 0, fwd = 0;
	mycel_buf b;

	(void)state;
	assert_true(n >= 8);
	mycel_buf_init(&b, BUF_LIMIT);
	for (size_t i = 0; i < n; i++) {
		const mycel_msg_desc *d = mycel_msg_desc_find(v[i].msg);
		const vec *want = &v[i];

		assert_non_null(d);
		if (strncmp(v[i].name, "fwd-", 4) == 0) {
			want = find_vec(v, n, v[i].name + 4);
			assert_non_null(want);
			assert_string_equal(want->msg, v[i].msg);
			assert_true(v[i].len > want->len);
			fwd++;
		}
		/* decode and re-encode: the canonical bytes (without unknown fields) */
		decode_encode(d, v[i].bytes, v[i].len, &b);
		assert_bytes(b.data, b.len, want->bytes, want->len, v[i].name);
		/* built from C values */
		if (build_vector(v[i].name, &b)) {
			assert_bytes(b.data, b.len, v[i].bytes, v[i].len, v[i].name);
			built++;
		}
	}
	assert_true(built >= 8);
	assert_true(fwd >= 2);
	for (size_t i = 0; i < n; i++)
		free(v[i].bytes);
	mycel_buf_fini(&b);
}

/* Decoded values of a few vectors, field by field. */
static void test_vector_values(void **state)
{
	vec v[64];
	size_t n = load_vectors(v, 64);
	mycel_arena *a = arena(MIB);
	const vec *x;
	char why[256];

	(void)state;
	{
		mycel_msg_GetReply m;

		x = find_vec(v, n, "get-reply");
		assert_non_null(x);
		assert_int_equal(mycel_msg_GetReply_decode(x->bytes, x->len, a, &m, why, sizeof(why)), 0);
		assert_true(m.has_kind && m.kind == 1);
		assert_string_equal(m.domain, "sales");
		assert_int_equal(m.id_len, 6);
		assert_string_equal(m.id, "orders");
		assert_int_equal(m.n_entries, 1);
		assert_int_equal(m.entries[0].body_len, 7);
		assert_memory_equal(m.entries[0].body, "{\"a\":1}", 7);
		assert_memory_equal(m.entries[0].entry, entry_bytes, 4);
		assert_int_equal(m.n_versions, 1);
		assert_string_equal(m.versions[0].version, "1.2.0");
		assert_true(m.versions[0].has_seq && m.versions[0].seq == 7);
		assert_true(m.versions[0].ts_ms == 1700000000000u);
		assert_int_equal(m.versions[0].feed_len, 32);
		assert_true(m.has_current && m.current == 0);
		assert_non_null(m.description);
		assert_int_equal(m.description_len, 0);
	}
	{
		mycel_msg_SearchRequest m;

		x = find_vec(v, n, "search-request");
		assert_int_equal(mycel_msg_SearchRequest_decode(x->bytes, x->len, a, &m, why, sizeof(why)), 0);
		assert_string_equal(m.text, "orders");
		assert_null(m.domain);
		assert_false(m.has_kind);
		assert_true(m.has_status && m.status == -2);
		assert_int_equal(m.n_tags, 2);
		assert_string_equal(m.tags[0].ptr, "pii");
		assert_string_equal(m.tags[1].ptr, "gold");
		assert_int_equal(m.tags[1].len, 4);
		assert_true(m.has_limit && m.limit == 20);
		assert_false(m.has_offset);
		assert_false(m.has_facets);
	}
	{
		mycel_msg_SearchReply m;

		x = find_vec(v, n, "search-reply");
		assert_int_equal(mycel_msg_SearchReply_decode(x->bytes, x->len, a, &m, why, sizeof(why)), 0);
		assert_int_equal(m.n_hits, 1);
		assert_true(m.hits[0].has_score);
		assert_true(m.hits[0].score == 0.75);
		assert_true(m.has_total_exact && m.total_exact);
	}
	{
		mycel_msg_LineageRequest m;

		x = find_vec(v, n, "lineage-request");
		assert_int_equal(mycel_msg_LineageRequest_decode(x->bytes, x->len, a, &m, why, sizeof(why)), 0);
		assert_true(m.has_depth && m.depth == -300);
	}
	{
		mycel_msg_ChangeStatusReply m;

		x = find_vec(v, n, "fwd-change-status-reply");
		assert_int_equal(mycel_msg_ChangeStatusReply_decode(x->bytes, x->len, a, &m, why, sizeof(why)), 0);
		assert_non_null(m.entry);
		assert_int_equal(m.entry->entry_len, 4);
		assert_int_equal(m.entry->body_len, 7);
	}
	{
		mycel_msg_GetRequest m;

		x = find_vec(v, n, "fwd-get-request");
		assert_int_equal(mycel_msg_GetRequest_decode(x->bytes, x->len, a, &m, why, sizeof(why)), 0);
		assert_string_equal(m.version, "1.2.0");
	}
	mycel_arena_free(a);
	for (size_t i = 0; i < n; i++)
		free(v[i].bytes);
}

/* ---- forward compatibility ------------------------------------------------ */

static void test_forward_compat(void **state)
{
	mycel_buf known, b, out;

	(void)state;
	mycel_buf_init(&known, BUF_LIMIT);
	mycel_buf_init(&b, BUF_LIMIT);
	mycel_buf_init(&out, BUF_LIMIT);
	for (size_t k = 0; k < mycel_n_msg_descs; k++) {
		const mycel_msg_desc *d = &mycel_msg_descs[k];
		size_t hl;

		/* every field set ... */
		mycel_buf_reset(&known);
		gen_msg(&known, d, 0);
		assert_int_equal(known.err, 0);
		hl = known.data[0] == 0xdc ? 3 : 1;
		/* ... then six fields of a newer version, of every kind, after them */
		mycel_buf_reset(&b);
		mycel_enc_array(&b, d->max_number + 6);
		mycel_buf_put(&b, known.data + hl, known.len - hl);
		mycel_enc_cstr(&b, "future");
		mycel_enc_uint(&b, UINT64_MAX);
		mycel_enc_int(&b, -5);
		mycel_enc_map(&b, 1);
		mycel_enc_cstr(&b, "k");
		mycel_enc_array(&b, 2);
		mycel_enc_float(&b, 1.5);
		mycel_enc_bin(&b, (const uint8_t *)"xy", 2);
		mycel_enc_nil(&b);
		mycel_enc_bool(&b, true);
		assert_int_equal(b.err, 0);
		decode_encode(d, b.data, b.len, &out);
		assert_bytes(out.data, out.len, known.data, known.len, d->name);
	}
	mycel_buf_fini(&known);
	mycel_buf_fini(&b);
	mycel_buf_fini(&out);
}

/* An unknown field that is itself malformed is still refused. */
static void test_unknown_field_checked(void **state)
{
	const mycel_msg_desc *d = &mycel_msg_GetRequest_desc;
	/* [nil, nil, nil, <uint8 form of 5>] */
	static const uint8_t noncanon[] = {0x94, 0xc0, 0xc0, 0xc0, 0xcc, 0x05};
	/* [nil, nil, nil, <0xc1>] */
	static const uint8_t reserved[] = {0x94, 0xc0, 0xc0, 0xc0, 0xc1};
	/* [nil, nil, nil, <map with unsorted keys>] */
	static const uint8_t unsorted[] = {0x94, 0xc0, 0xc0, 0xc0, 0x82, 0xa1, 'b', 0x01, 0xa1, 'a', 0x02};
	uint8_t deep[64];
	char why[256];

	(void)state;
	assert_int_equal(decode_as(d, noncanon, sizeof(noncanon), MIB, why, sizeof(why)), MYCEL_ENONCANON);
	assert_non_null(strstr(why, "unknown field 4"));
	assert_int_equal(decode_as(d, reserved, sizeof(reserved), MIB, why, sizeof(why)), MYCEL_EUNSUPPORTED);
	assert_int_equal(decode_as(d, unsorted, sizeof(unsorted), MIB, why, sizeof(why)), MYCEL_EKEYORDER);
	/* depth: the message is at depth 1; 31 nested arrays inside it are depth 32, 32 are 33 */
	for (int levels = 31; levels <= 32; levels++) {
		size_t n = 0;

		deep[n++] = 0x94;
		deep[n++] = 0xc0;
		deep[n++] = 0xc0;
		deep[n++] = 0xc0;
		for (int i = 0; i < levels - 1; i++)
			deep[n++] = 0x91;
		deep[n++] = 0x90;
		assert_int_equal(decode_as(d, deep, n, MIB, why, sizeof(why)),
				 levels == 31 ? 0 : MYCEL_EDEPTH);
	}
}

/* ---- refusals ------------------------------------------------------------- */

/* A value of a type no field of type t accepts. */
static void gen_wrong(mycel_buf *b, mycel_field_type t)
{
	switch (t) {
	case MYCEL_F_STRING:
		mycel_enc_bin(b, (const uint8_t *)"ab", 2);
		break;
	case MYCEL_F_BYTES:
	case MYCEL_F_BOOL:
	case MYCEL_F_DOUBLE:
		mycel_enc_cstr(b, "ab");
		break;
	case MYCEL_F_UINT64:
		mycel_enc_int(b, -1);
		break;
	case MYCEL_F_INT64:
		mycel_enc_float(b, 1.0);
		break;
	case MYCEL_F_MESSAGE:
		mycel_enc_map(b, 0);
		break;
	}
}

static void test_wrong_types(void **state)
{
	mycel_buf b;
	char why[256];
	size_t checked = 0;

	(void)state;
	mycel_buf_init(&b, BUF_LIMIT);
	for (size_t k = 0; k < mycel_n_msg_descs; k++) {
		const mycel_msg_desc *d = &mycel_msg_descs[k];

		for (size_t i = 0; i < d->n_fields; i++) {
			const mycel_field_desc *f = &d->fields[i];
			char want[128];

			/* the field itself */
			gen_only(&b, f->number);
			gen_wrong(&b, f->type);
			if (f->repeated && f->type != MYCEL_F_MESSAGE) {
				/* a repeated field must be an array: a lone element is refused too */
				gen_only(&b, f->number);
				gen_min(&b, f);
			}
			assert_int_equal(decode_as(d, b.data, b.len, MIB, why, sizeof(why)), MYCEL_ETYPE);
			snprintf(want, sizeof(want), "%s.%s", d->name, f->name);
			if (strstr(why, want) == NULL)
				print_error("why: %s\n", why);
			assert_non_null(strstr(why, want));
			if (f->repeated) {
				/* a wrong element, and a nil element, inside the list */
				gen_only(&b, f->number);
				mycel_enc_array(&b, 2);
				gen_min(&b, f);
				gen_wrong(&b, f->type);
				assert_int_equal(decode_as(d, b.data, b.len, MIB, why, sizeof(why)), MYCEL_ETYPE);
				gen_only(&b, f->number);
				mycel_enc_array(&b, 1);
				mycel_enc_nil(&b);
				assert_int_equal(decode_as(d, b.data, b.len, MIB, why, sizeof(why)), MYCEL_ETYPE);
			}
			checked++;
		}
		/* a message that is not an array */
		mycel_buf_reset(&b);
		mycel_enc_map(&b, 0);
		assert_int_equal(decode_as(d, b.data, b.len, MIB, why, sizeof(why)), MYCEL_ETYPE);
		mycel_buf_reset(&b);
		mycel_enc_nil(&b);
		assert_int_equal(decode_as(d, b.data, b.len, MIB, why, sizeof(why)), MYCEL_ETYPE);
	}
	assert_true(checked > 100);
	/* int64 takes non-negative values in the uint family, up to INT64_MAX only */
	{
		const mycel_msg_desc *d = &mycel_msg_LineageRequest_desc;

		gen_only(&b, 4);
		mycel_enc_uint(&b, (uint64_t)INT64_MAX);
		assert_int_equal(decode_as(d, b.data, b.len, MIB, why, sizeof(why)), 0);
		gen_only(&b, 4);
		mycel_enc_uint(&b, (uint64_t)INT64_MAX + 1);
		assert_int_equal(decode_as(d, b.data, b.len, MIB, why, sizeof(why)), MYCEL_ETOOBIG);
		gen_only(&b, 4);
		mycel_enc_int(&b, INT64_MIN);
		assert_int_equal(decode_as(d, b.data, b.len, MIB, why, sizeof(why)), 0);
	}
	mycel_buf_fini(&b);
}

static void test_too_long(void **state)
{
	mycel_buf b;
	char why[256];
	uint8_t *big = malloc(8 * MIB + 1);

	(void)state;
	assert_non_null(big);
	memset(big, 'a', 8 * MIB + 1);
	mycel_buf_init(&b, BUF_LIMIT);
	for (size_t k = 0; k < mycel_n_msg_descs; k++) {
		const mycel_msg_desc *d = &mycel_msg_descs[k];

		for (size_t i = 0; i < d->n_fields; i++) {
			const mycel_field_desc *f = &d->fields[i];
			size_t max = (size_t)f->max;

			if (f->repeated || (f->type != MYCEL_F_STRING && f->type != MYCEL_F_BYTES))
				continue;
			assert_true(max > 0 && max <= 8 * MIB);
			for (int over = 0; over <= 1; over++) {
				int rc;

				gen_only(&b, f->number);
				if (f->type == MYCEL_F_STRING)
					mycel_enc_str(&b, (const char *)big, max + (size_t)over);
				else
					mycel_enc_bin(&b, big, max + (size_t)over);
				assert_int_equal(b.err, 0);
				/* over the bound: refused before anything is copied, even with a tiny arena */
				rc = decode_as(d, b.data, b.len, over ? 4096 : max + MIB, why, sizeof(why));
				assert_int_equal(rc, over ? MYCEL_ETOOBIG : 0);
				if (over) {
					char want[128];

					snprintf(want, sizeof(want), "%s.%s", d->name, f->name);
					assert_non_null(strstr(why, want));
				}
			}
		}
	}
	mycel_buf_fini(&b);
	free(big);
}

static void test_too_many(void **state)
{
	mycel_buf b;
	char why[256];
	size_t checked = 0;

	(void)state;
	mycel_buf_init(&b, BUF_LIMIT);
	for (size_t k = 0; k < mycel_n_msg_descs; k++) {
		const mycel_msg_desc *d = &mycel_msg_descs[k];

		for (size_t i = 0; i < d->n_fields; i++) {
			const mycel_field_desc *f = &d->fields[i];

			if (!f->repeated)
				continue;
			assert_true(f->max > 0 && f->max <= 100000);
			for (int over = 0; over <= 1; over++) {
				uint32_t count = (uint32_t)f->max + (uint32_t)over;

				gen_only(&b, f->number);
				mycel_enc_array(&b, count);
				for (uint32_t j = 0; j < count; j++)
					gen_min(&b, f);
				assert_int_equal(b.err, 0);
				/* refused on the count alone: a 4 KiB arena never sees an allocation */
				assert_int_equal(decode_as(d, b.data, b.len, over ? 4096 : 64 * MIB, why,
							   sizeof(why)),
						 over ? MYCEL_ETOOBIG : 0);
			}
			/* a count larger than the bytes left is ETRUNC, before any allocation */
			gen_only(&b, f->number);
			mycel_enc_array(&b, (uint32_t)f->max);
			gen_min(&b, f);
			assert_int_equal(decode_as(d, b.data, b.len, 4096, why, sizeof(why)), MYCEL_ETRUNC);
			checked++;
		}
	}
	assert_true(checked >= 15);
	mycel_buf_fini(&b);
}

/*
 * On a repeated string or bytes field, [max] bounds the number of elements; each element
 * keeps the type's default bound. A tag longer than 8 bytes (SearchRequest.tags is
 * [max = 8]) is a search a user makes.
 */
static void test_repeated_element_bound(void **state)
{
	static const char tag[] = "subscription";
	mycel_msg_SearchRequest q, got;
	mycel_str tags[2];
	mycel_arena *a = NULL;
	mycel_buf b;
	char why[256] = "";
	char *big = malloc(65537);

	(void)state;
	assert_non_null(big);
	memset(big, 't', 65537);
	assert_int_equal(mycel_arena_new(4 * MIB, &a), 0);
	mycel_buf_init(&b, MIB);
	memset(&q, 0, sizeof(q));
	tags[0] = (mycel_str){tag, strlen(tag)};
	tags[1] = (mycel_str){big, 65536};
	q.tags = tags;
	q.n_tags = 2;
	assert_int_equal(mycel_msg_SearchRequest_encode(&q, &b), 0);
	assert_int_equal(mycel_msg_SearchRequest_decode(b.data, b.len, a, &got, why, sizeof(why)), 0);
	assert_int_equal(got.n_tags, 2);
	assert_int_equal(got.tags[0].len, strlen(tag));
	assert_memory_equal(got.tags[0].ptr, tag, strlen(tag));
	assert_int_equal(got.tags[1].len, 65536);
	/* one byte over the string bound: refused both ways */
	tags[1].len = 65537;
	mycel_buf_reset(&b);
	assert_int_equal(mycel_msg_SearchRequest_encode(&q, &b), MYCEL_ETOOBIG);
	mycel_buf_reset(&b);
	mycel_enc_array(&b, 5);
	for (int i = 0; i < 4; i++)
		mycel_enc_nil(&b);
	mycel_enc_array(&b, 1);
	mycel_enc_str(&b, big, 65537);
	assert_int_equal(b.err, 0);
	assert_int_equal(mycel_msg_SearchRequest_decode(b.data, b.len, a, &got, why, sizeof(why)),
			 MYCEL_ETOOBIG);
	assert_non_null(strstr(why, "tags"));
	mycel_buf_fini(&b);
	mycel_arena_free(a);
	free(big);
}

static void test_truncated(void **state)
{
	vec v[64];
	size_t n = load_vectors(v, 64);
	mycel_buf b;
	char why[256];

	(void)state;
	mycel_buf_init(&b, BUF_LIMIT);
	for (size_t i = 0; i < n; i++) {
		const mycel_msg_desc *d = mycel_msg_desc_find(v[i].msg);

		for (size_t len = 0; len < v[i].len; len++) {
			int rc = decode_as(d, v[i].bytes, len, MIB, why, sizeof(why));

			if (rc != MYCEL_ETRUNC)
				print_error("%s cut at %zu: %s\n", v[i].name, len, mycel_errname(rc));
			assert_int_equal(rc, MYCEL_ETRUNC);
		}
		/* trailing bytes after the message */
		mycel_buf_reset(&b);
		mycel_buf_put(&b, v[i].bytes, v[i].len);
		mycel_enc_nil(&b);
		assert_int_equal(decode_as(d, b.data, b.len, MIB, why, sizeof(why)), MYCEL_ETRAILING);
	}
	/* generated messages too */
	for (size_t k = 0; k < mycel_n_msg_descs; k++) {
		const mycel_msg_desc *d = &mycel_msg_descs[k];

		mycel_buf_reset(&b);
		gen_msg(&b, d, 0);
		for (size_t len = 0; len < b.len; len++)
			assert_int_equal(decode_as(d, b.data, len, MIB, why, sizeof(why)), MYCEL_ETRUNC);
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].bytes);
	mycel_buf_fini(&b);
}

static void test_noncanonical(void **state)
{
	static const struct {
		const char *msg;
		const char *hex;
		int rc;
	} cases[] = {
		/* GetRequest ["s"] with the string in str8 form */
		{"GetRequest", "91d90173", MYCEL_ENONCANON},
		/* the message array in array16 form */
		{"GetRequest", "dc0001a173", MYCEL_ENONCANON},
		/* GetReply [<uint8 form of 1>] */
		{"GetReply", "91cc01", MYCEL_ENONCANON},
		/* GetReply [<int8 form of 1>]: the negative family, which a uint64 field refuses */
		{"GetReply", "91d001", MYCEL_ETYPE},
		/* LineageRequest depth (int64) 1 in int8 form: non-negative in the negative family */
		{"LineageRequest", "94c0c0c0d001", MYCEL_ENONCANON},
		/* LineageRequest depth (int64) -1 in int64 form */
		{"LineageRequest", "94c0c0c0d3ffffffffffffffff", MYCEL_ENONCANON},
		/* LineageRequest [nil, nil, nil, <int16 form of -1>] */
		{"LineageRequest", "94c0c0c0d1ffff", MYCEL_ENONCANON},
		/* SearchHit score as float32 */
		{"SearchHit", "98c0c0c0c0c0c0c0ca3f400000", MYCEL_EFLOAT},
		/* SearchHit score NaN */
		{"SearchHit", "98c0c0c0c0c0c0c0cb7ff8000000000000", MYCEL_EFLOAT},
		/* Entry [<bin of 2 in bin16 form>] */
		{"Entry", "91c500026162", MYCEL_ENONCANON},
		/* SearchRequest tags in array16 form */
		{"SearchRequest", "95c0c0c0c0dc0001a161", MYCEL_ENONCANON},
		/* GetRequest ["\xff"]: invalid UTF-8 */
		{"GetRequest", "91a1ff", MYCEL_EUTF8},
		/* ext type */
		{"GetRequest", "91d40100", MYCEL_EUNSUPPORTED},
	};
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n;
		uint8_t *p = unhex(cases[i].hex, &n);
		const mycel_msg_desc *d = mycel_msg_desc_find(cases[i].msg);
		int rc;

		assert_non_null(d);
		rc = decode_as(d, p, n, MIB, why, sizeof(why));
		if (rc != cases[i].rc)
			print_error("%s %s: %s (%s)\n", cases[i].msg, cases[i].hex, mycel_errname(rc), why);
		assert_int_equal(rc, cases[i].rc);
		assert_true(strlen(why) > 0);
		free(p);
	}
}

/* The reason names the message, the field and the byte offset. */
static void test_why(void **state)
{
	static const uint8_t p[] = {0x92, 0xa5, 's', 'a', 'l', 'e', 's', 0x07};
	char why[256];
	char tiny[8];

	(void)state;
	assert_int_equal(decode_as(&mycel_msg_GetRequest_desc, p, sizeof(p), MIB, why, sizeof(why)),
			 MYCEL_ETYPE);
	assert_string_equal(why, "GetRequest.id at byte 7: expected string, found uint (ETYPE)");
	/* a short why buffer is truncated, never overrun; none at all is fine */
	memset(tiny, 'x', sizeof(tiny));
	assert_int_equal(decode_as(&mycel_msg_GetRequest_desc, p, sizeof(p), MIB, tiny, 5), MYCEL_ETYPE);
	assert_int_equal(tiny[4], '\0');
	assert_int_equal(tiny[5], 'x');
	assert_int_equal(decode_as(&mycel_msg_GetRequest_desc, p, sizeof(p), MIB, NULL, 0), MYCEL_ETYPE);
}

static void test_arena_exhausted(void **state)
{
	mycel_buf b;
	uint8_t big[4000];
	char why[256];

	(void)state;
	memset(big, 'z', sizeof(big));
	mycel_buf_init(&b, BUF_LIMIT);
	gen_only(&b, 1);
	mycel_enc_bin(&b, big, sizeof(big));
	assert_int_equal(decode_as(&mycel_msg_PublishDoc_desc, b.data, b.len, 1024, why, sizeof(why)),
			 MYCEL_ENOMEM);
	mycel_buf_fini(&b);
}

/* ---- encoder refusals ---------------------------------------------------- */

static void test_encoder_refusals(void **state)
{
	mycel_buf b;
	mycel_msg_GetRequest g;
	mycel_msg_SearchHit h;
	mycel_msg_SearchRequest s;
	char id[258];
	static const mycel_str nine[9] = {{"a", 1}, {"b", 1}, {"c", 1}, {"d", 1}, {"e", 1},
					  {"f", 1}, {"g", 1}, {"h", 1}, {"i", 1}};

	(void)state;
	mycel_buf_init(&b, BUF_LIMIT);
	memset(id, 'i', sizeof(id));
	/* over the bound: ETOOBIG and nothing written; at the bound: fine */
	memset(&g, 0, sizeof(g));
	SET_S(g, domain, "sales");
	g.id = id;
	g.id_len = 257;
	mycel_enc_nil(&b);
	assert_int_equal(mycel_msg_GetRequest_encode(&g, &b), MYCEL_ETOOBIG);
	assert_int_equal(b.len, 1);
	assert_int_equal(b.err, 0);
	g.id_len = 256;
	assert_int_equal(mycel_msg_GetRequest_encode(&g, &b), 0);
	/* NULL with a length */
	mycel_buf_reset(&b);
	g.domain = NULL;
	assert_int_equal(mycel_msg_GetRequest_encode(&g, &b), MYCEL_EINVAL);
	assert_int_equal(b.len, 0);
	/* invalid UTF-8: the buffer's sticky error */
	mycel_buf_reset(&b);
	g.domain = "\xff";
	g.domain_len = 1;
	assert_int_equal(mycel_msg_GetRequest_encode(&g, &b), MYCEL_EUTF8);
	assert_int_equal(b.err, MYCEL_EUTF8);
	/* NaN */
	mycel_buf_reset(&b);
	memset(&h, 0, sizeof(h));
	h.has_score = true;
	h.score = NAN;
	assert_int_equal(mycel_msg_SearchHit_encode(&h, &b), MYCEL_EFLOAT);
	/* too many tags, and a count without elements */
	mycel_buf_reset(&b);
	memset(&s, 0, sizeof(s));
	s.tags = nine;
	s.n_tags = 9;
	assert_int_equal(mycel_msg_SearchRequest_encode(&s, &b), MYCEL_ETOOBIG);
	assert_int_equal(b.len, 0);
	s.n_tags = 8;
	assert_int_equal(mycel_msg_SearchRequest_encode(&s, &b), 0);
	mycel_buf_reset(&b);
	s.tags = NULL;
	assert_int_equal(mycel_msg_SearchRequest_encode(&s, &b), MYCEL_EINVAL);
	/* an error already in the buffer is returned as is */
	mycel_buf_reset(&b);
	b.err = MYCEL_ENOMEM;
	memset(&s, 0, sizeof(s));
	assert_int_equal(mycel_msg_SearchRequest_encode(&s, &b), MYCEL_ENOMEM);
	mycel_buf_fini(&b);
}

/* ---- method table -------------------------------------------------------- */

static void test_methods(void **state)
{
	static const char *const want[] = {
		"mycel.v1.Catalog/Get", "mycel.v1.Catalog/Search", "mycel.v1.Catalog/List",
		"mycel.v1.Catalog/Lineage", "mycel.v1.Catalog/History", "mycel.v1.Catalog/Status",
		"mycel.v1.Admin/Publish", "mycel.v1.Admin/Deprecate", "mycel.v1.Admin/Retire",
		"mycel.v1.Admin/Reindex", "mycel.v1.Admin/Peers", "mycel.v1.Admin/PeersAdd",
		"mycel.v1.Admin/PeersRemove", "mycel.v1.Admin/CharterPut", "mycel.v1.Admin/KeyRotate",
		"mycel.v1.Admin/Transfer", "mycel.v1.Admin/Accept", "mycel.v1.Mesh/Digest",

		"mycel.v1.Mesh/Pull", "mycel.v1.Mesh/Push", "mycel.v1.Mesh/Charter",
		"mycel.v1.Mesh/Peers",
	};
	const mycel_method *m;
	mycel_buf b;
	mycel_arena *a = arena(MIB);
	mycel_msg_GetRequest g, g2;
	char why[128];

	(void)state;
	assert_int_equal(mycel_n_methods, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < mycel_n_methods; i++) {
		char full[128];

		m = &mycel_methods[i];
		assert_string_equal(m->name, want[i]);
		snprintf(full, sizeof(full), "%s/%s", m->service, m->method);
		assert_string_equal(full, m->name);
		assert_ptr_equal(mycel_method_find(m->name, strlen(m->name)), m);
		assert_int_equal(m->admin_only, strncmp(m->name, "mycel.v1.Admin/", 15) == 0);
		assert_ptr_equal(m->request_encode, m->request->encode);
		assert_ptr_equal(m->request_decode, m->request->decode);
		assert_ptr_equal(m->reply_encode, m->reply->encode);
		assert_ptr_equal(m->reply_decode, m->reply->decode);
		assert_ptr_equal(mycel_msg_desc_find(m->request->full_name)->decode, m->request->decode);
	}
	m = mycel_method_find("mycel.v1.Catalog/Get", 20);
	assert_non_null(m);
	assert_ptr_equal(m->request, &mycel_msg_GetRequest_desc);
	assert_ptr_equal(m->reply, &mycel_msg_GetReply_desc);
	assert_string_equal(m->service, "mycel.v1.Catalog");
	assert_false(m->admin_only);
	m = mycel_method_find("mycel.v1.Admin/Retire", 21);
	assert_non_null(m);
	assert_true(m->admin_only);
	assert_ptr_equal(m->request, &mycel_msg_ChangeStatusRequest_desc);
	assert_ptr_equal(mycel_msg_desc_find("GetReply"), &mycel_msg_GetReply_desc);
	assert_ptr_equal(mycel_msg_desc_find("mycel.v1.Entry"), &mycel_msg_Entry_desc);
	m = mycel_method_find("mycel.v1.Mesh/Peers", 19);
	assert_non_null(m);
	assert_false(m->admin_only);
	assert_ptr_equal(m->request, &mycel_msg_Empty_desc);
	/* exact names only: a prefix, a longer name, other cases, NULL */
	assert_null(mycel_method_find("mycel.v1.Catalog/Ge", 19));
	assert_null(mycel_method_find("mycel.v1.Catalog/Get", 19));
	assert_null(mycel_method_find("mycel.v1.Catalog/Gets", 21));
	assert_null(mycel_method_find("mycel.v1.catalog/get", 20));
	assert_null(mycel_method_find("Catalog/Get", 11));
	assert_null(mycel_method_find("mycel.v1.Catalog/Get\0x", 22));
	assert_null(mycel_method_find(NULL, 0));
	assert_null(mycel_msg_desc_find("NoSuchMessage"));
	assert_null(mycel_msg_desc_find("mycel.v2.GetRequest"));
	assert_null(mycel_msg_desc_find(NULL));
	/* a round trip through the table's function pointers */
	m = mycel_method_find("mycel.v1.Catalog/Get", 20);
	memset(&g, 0, sizeof(g));
	SET_S(g, domain, "sales");
	SET_S(g, id, "orders");
	mycel_buf_init(&b, MIB);
	assert_int_equal(m->request_encode(&g, &b), 0);
	assert_int_equal(m->request_decode(b.data, b.len, a, &g2, why, sizeof(why)), 0);
	assert_string_equal(g2.id, "orders");
	assert_null(g2.version);
	mycel_buf_fini(&b);
	mycel_arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_all_messages),
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_vector_values),
		cmocka_unit_test(test_forward_compat),
		cmocka_unit_test(test_unknown_field_checked),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_repeated_element_bound),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_noncanonical),
		cmocka_unit_test(test_why),
		cmocka_unit_test(test_arena_exhausted),
		cmocka_unit_test(test_encoder_refusals),
		cmocka_unit_test(test_methods),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
