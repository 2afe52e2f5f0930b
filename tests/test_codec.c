/*
 * test_codec.c — canonical MessagePack (include/mycel/codec.h): writers at every
 * boundary, the strict reader and decoder with their error codes and offsets,
 * limits, depth, random round trips and the golden vectors of proto/vectors.
 * Runs from the source root.
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

#define VALID_VECTORS "proto/vectors/codec-valid.txt"
#define INVALID_VECTORS "proto/vectors/codec-invalid.txt"
#define MIB ((size_t)1 << 20)

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
		sprintf(s + 2 * i, "%02x", p[i]);
	s[2 * n] = '\0';
	return s;
}

/* Asserts that buffer b holds exactly the bytes of hex h. */
static void expect_hex(const mycel_buf *b, const char *h)
{
	char *got;

	assert_int_equal(b->err, 0);
	got = tohex(b->data, b->len);
	assert_string_equal(got, h);
	free(got);
}

/* Decodes hex h; returns the code, the offset in *off, the tree in *out. */
static int decode_hex(const char *h, mycel_arena *a, mycel_value **out, size_t *off)
{
	mycel_decode_err e = {0, 0};
	size_t n;
	uint8_t *p = unhex(h, &n);
	int rc = mycel_value_decode(p, n, MIB, a, out, &e);

	assert_int_equal(e.code, rc);
	if (off)
		*off = e.offset;
	free(p);
	return rc;
}

/* Skips one value of hex h with mycel_rd_skip, then checks the end. */
static int skip_hex(const char *h)
{
	mycel_rd r;
	size_t n;
	uint8_t *p = unhex(h, &n);
	int rc;

	mycel_rd_init(&r, p, n);
	rc = mycel_rd_skip(&r, 0);
	if (rc == 0)
		rc = mycel_rd_end(&r);
	free(p);
	return rc;
}

static char *render(const mycel_value *v)
{
	mycel_buf b;
	char *s;

	mycel_buf_init(&b, 64 * MIB);
	assert_int_equal(mycel_value_render(v, &b), 0);
	assert_int_equal(strlen((char *)b.data), b.len);
	s = strdup((char *)b.data);
	mycel_buf_fini(&b);
	return s;
}

/* ---- writers ------------------------------------------------------------ */

static void test_enc_uint(void **state)
{
	static const struct {
		uint64_t v;
		const char *hex;
	} t[] = {
	    {0, "00"},
	    {1, "01"},
	    {127, "7f"},
	    {128, "cc80"},
	    {255, "ccff"},
	    {256, "cd0100"},
	    {65535, "cdffff"},
	    {65536, "ce00010000"},
	    {UINT32_MAX, "ceffffffff"},
	    {(uint64_t)UINT32_MAX + 1, "cf0000000100000000"},
	    {UINT64_MAX, "cfffffffffffffffff"},
	};
	mycel_buf b;

	mycel_buf_init(&b, 64);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mycel_buf_reset(&b);
		mycel_enc_uint(&b, t[i].v);
		expect_hex(&b, t[i].hex);
		/* Non-negative values through the signed writer: the unsigned family. */
		if (t[i].v <= INT64_MAX) {
			mycel_buf_reset(&b);
			mycel_enc_int(&b, (int64_t)t[i].v);
			expect_hex(&b, t[i].hex);
		}
	}
	mycel_buf_fini(&b);
}

static void test_enc_int(void **state)
{
	static const struct {
		int64_t v;
		const char *hex;
	} t[] = {
	    {-1, "ff"},
	    {-32, "e0"},
	    {-33, "d0df"},
	    {-128, "d080"},
	    {-129, "d1ff7f"},
	    {-32768, "d18000"},
	    {-32769, "d2ffff7fff"},
	    {INT32_MIN, "d280000000"},
	    {(int64_t)INT32_MIN - 1, "d3ffffffff7fffffff"},
	    {INT64_MIN, "d38000000000000000"},
	    {INT64_MAX, "cf7fffffffffffffff"},
	};
	mycel_buf b;

	mycel_buf_init(&b, 64);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mycel_buf_reset(&b);
		mycel_enc_int(&b, t[i].v);
		expect_hex(&b, t[i].hex);
	}
	mycel_buf_fini(&b);
}

static void test_enc_scalars_float(void **state)
{
	mycel_buf b;

	mycel_buf_init(&b, 64);
	mycel_enc_nil(&b);
	mycel_enc_bool(&b, false);
	mycel_enc_bool(&b, true);
	expect_hex(&b, "c0c2c3");

	mycel_buf_reset(&b);
	mycel_enc_float(&b, 0.0);
	mycel_enc_float(&b, -0.0);
	mycel_enc_float(&b, 1.0);
	mycel_enc_float(&b, 5e-324);
	expect_hex(&b, "cb0000000000000000cb8000000000000000cb3ff0000000000000cb0000000000000001");

	/* NaN and infinities: EFLOAT, nothing appended, and the error is sticky. */
	mycel_buf_reset(&b);
	mycel_enc_nil(&b);
	mycel_enc_float(&b, NAN);
	assert_int_equal(b.err, MYCEL_EFLOAT);
	assert_int_equal(b.len, 1);
	mycel_enc_uint(&b, 1);
	mycel_enc_float(&b, INFINITY);
	assert_int_equal(b.err, MYCEL_EFLOAT);
	assert_int_equal(b.len, 1);

	mycel_buf_reset(&b);
	mycel_enc_float(&b, -INFINITY);
	assert_int_equal(b.err, MYCEL_EFLOAT);
	assert_int_equal(b.len, 0);
	mycel_buf_reset(&b);
	assert_int_equal(b.err, 0);
	mycel_buf_fini(&b);
}

/* The header the writer produces for a str/bin/array/map of n (payload excluded). */
static void expect_header(void (*put)(mycel_buf *, size_t), size_t n, const char *hex)
{
	mycel_buf b;
	char *got;
	size_t hlen = strlen(hex) / 2;

	mycel_buf_init(&b, 200000);
	put(&b, n);
	assert_int_equal(b.err, 0);
	assert_true(b.len >= hlen);
	got = tohex(b.data, hlen);
	assert_string_equal(got, hex);
	free(got);
	mycel_buf_fini(&b);
}

static void put_str_n(mycel_buf *b, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, 'a', n);
	mycel_enc_str(b, s, n);
	assert_memory_equal(b->data + b->len - n, s, n);
	free(s);
}

static void put_bin_n(mycel_buf *b, size_t n)
{
	uint8_t *s = calloc(1, n + 1);

	assert_non_null(s);
	mycel_enc_bin(b, s, n);
	assert_memory_equal(b->data + b->len - n, s, n);
	free(s);
}

static void put_array_n(mycel_buf *b, size_t n)
{
	mycel_enc_array(b, (uint32_t)n);
}

static void put_map_n(mycel_buf *b, size_t n)
{
	mycel_enc_map(b, (uint32_t)n);
}

static void test_enc_lengths(void **state)
{
	expect_header(put_str_n, 0, "a0");
	expect_header(put_str_n, 31, "bf");
	expect_header(put_str_n, 32, "d920");
	expect_header(put_str_n, 255, "d9ff");
	expect_header(put_str_n, 256, "da0100");
	expect_header(put_str_n, 65535, "daffff");
	expect_header(put_str_n, 65536, "db00010000");
	expect_header(put_bin_n, 0, "c400");
	expect_header(put_bin_n, 255, "c4ff");
	expect_header(put_bin_n, 256, "c50100");
	expect_header(put_bin_n, 65535, "c5ffff");
	expect_header(put_bin_n, 65536, "c600010000");
	expect_header(put_array_n, 0, "90");
	expect_header(put_array_n, 15, "9f");
	expect_header(put_array_n, 16, "dc0010");
	expect_header(put_array_n, 65535, "dcffff");
	expect_header(put_array_n, 65536, "dd00010000");
	expect_header(put_array_n, UINT32_MAX, "ddffffffff");
	expect_header(put_map_n, 0, "80");
	expect_header(put_map_n, 15, "8f");
	expect_header(put_map_n, 16, "de0010");
	expect_header(put_map_n, 65535, "deffff");
	expect_header(put_map_n, 65536, "df00010000");
	expect_header(put_map_n, UINT32_MAX, "dfffffffff");
}

static void test_enc_str_utf8(void **state)
{
	mycel_buf b;

	mycel_buf_init(&b, 64);
	mycel_enc_cstr(&b, "h\xc3\xa9");
	expect_hex(&b, "a368c3a9");
	mycel_enc_str(&b, "\xed\xa0\x80", 3); /* surrogate */
	assert_int_equal(b.err, MYCEL_EUTF8);
	assert_int_equal(b.len, 4);
	mycel_buf_reset(&b);
	mycel_enc_str(&b, NULL, 0);
	mycel_enc_bin(&b, NULL, 0);
	expect_hex(&b, "a0c400");
	mycel_buf_fini(&b);
}

static void test_utf8_valid(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} t[] = {
	    {"", true},
	    {"plain ascii, longer than eight bytes", true},
	    {"\x7f", true},
	    {"\xc2\x80", true},
	    {"\xdf\xbf", true},
	    {"\xe0\xa0\x80", true},
	    {"\xed\x9f\xbf", true},
	    {"\xee\x80\x80", true},
	    {"\xef\xbf\xbf", true},
	    {"\xf0\x90\x80\x80", true},
	    {"\xf4\x8f\xbf\xbf", true},
	    {"abcdefgh\xe2\x82\xac", true},
	    {"\x80", false},
	    {"\xbf", false},
	    {"\xc0\x80", false},
	    {"\xc1\xbf", false},
	    {"\xc2", false},
	    {"\xc2\x41", false},
	    {"\xe0\x9f\xbf", false},
	    {"\xed\xa0\x80", false},
	    {"\xed\xbf\xbf", false},
	    {"\xe2\x82", false},
	    {"\xe2\x82\x41", false},
	    {"\xf0\x8f\xbf\xbf", false},
	    {"\xf4\x90\x80\x80", false},
	    {"\xf0\x9f\x98", false},
	    {"\xf0\x9f\x98\x41", false},
	    {"\xf5\x80\x80\x80", false},
	    {"\xff", false},
	    {"abcdefghijklmno\xff", false},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (mycel_utf8_valid((const uint8_t *)t[i].s, strlen(t[i].s)) != t[i].ok) {
			print_error("utf8 case %zu\n", i);
			fail();
		}
	}
	assert_true(mycel_utf8_valid((const uint8_t *)"\0", 1));
}

/* ---- buffer and arena --------------------------------------------------- */

static void test_buf_limit(void **state)
{
	mycel_buf b;
	uint8_t big[300] = {0};

	mycel_buf_init(&b, 10);
	mycel_buf_put(&b, "0123456789", 10);
	assert_int_equal(b.err, 0);
	assert_true(b.cap <= 10);
	mycel_buf_put(&b, "x", 1);
	assert_int_equal(b.err, MYCEL_ETOOBIG);
	assert_int_equal(b.len, 10);
	mycel_buf_reset(&b);
	assert_int_equal(b.len, 0);
	mycel_enc_uint(&b, UINT64_MAX); /* 9 bytes: fits */
	assert_int_equal(b.err, 0);
	mycel_enc_uint(&b, 128); /* 2 more: does not */
	assert_int_equal(b.err, MYCEL_ETOOBIG);
	assert_int_equal(b.len, 9);
	mycel_buf_fini(&b);
	mycel_buf_fini(NULL);

	/* Geometric growth, capped by the limit. */
	mycel_buf_init(&b, 1000);
	for (int i = 0; i < 3; i++)
		mycel_buf_put(&b, big, sizeof(big));
	assert_int_equal(b.err, 0);
	assert_int_equal(b.len, 900);
	assert_true(b.cap >= 900 && b.cap <= 1000);
	mycel_buf_put(&b, big, 100);
	assert_int_equal(b.len, 1000);
	assert_int_equal(b.cap, 1000);
	mycel_buf_put(&b, big, 0);
	assert_int_equal(b.err, 0);
	mycel_buf_put(&b, big, 1);
	assert_int_equal(b.err, MYCEL_ETOOBIG);
	mycel_buf_fini(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);

	mycel_buf_init(&b, 0);
	mycel_enc_nil(&b);
	assert_int_equal(b.err, MYCEL_ETOOBIG);
	mycel_buf_fini(&b);
}

static void test_arena(void **state)
{
	mycel_arena *a = NULL;
	char *s;
	void *p;

	assert_int_equal(mycel_arena_new(100, NULL), MYCEL_EINVAL);
	assert_int_equal(mycel_arena_new(100, &a), 0);
	for (int i = 0; i < 6; i++) {
		p = mycel_arena_alloc(a, 16);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		memset(p, 0xaa, 16);
	}
	assert_null(mycel_arena_alloc(a, 16)); /* 96 used: 16 more would be 112 */
	p = mycel_arena_alloc(a, 4);
	assert_non_null(p);
	assert_null(mycel_arena_alloc(a, 1));
	assert_null(mycel_arena_strdup(a, "", 0));
	mycel_arena_free(a);

	assert_int_equal(mycel_arena_new(1 << 24, &a), 0);
	s = mycel_arena_strdup(a, "hello", 3);
	assert_string_equal(s, "hel");
	p = mycel_arena_alloc(a, 1);
	assert_int_equal((uintptr_t)p % 16, 0);
	/* Larger than a chunk, and many small ones across chunks. */
	p = mycel_arena_alloc(a, 3 * MIB);
	assert_non_null(p);
	memset(p, 1, 3 * MIB);
	for (int i = 0; i < 10000; i++) {
		s = mycel_arena_strdup(a, "abcdefghijklmnopqrstuvwxyz", (size_t)i % 27);
		assert_non_null(s);
		assert_int_equal(strlen(s), (size_t)i % 27);
	}
	assert_null(mycel_arena_alloc(a, SIZE_MAX));
	assert_null(mycel_arena_alloc(a, 1 << 24));
	mycel_arena_free(a);
	mycel_arena_free(NULL);

	assert_int_equal(mycel_arena_new(0, &a), 0);
	assert_null(mycel_arena_alloc(a, 1));
	mycel_arena_free(a);
}

/* ---- reader ------------------------------------------------------------- */

static void test_reader(void **state)
{
	mycel_buf b;
	mycel_rd r;
	mycel_type t;
	uint8_t feed[32];
	const uint8_t *bp;
	const char *sp;
	size_t n;
	uint64_t u;
	uint32_t count;
	bool bv;

	memset(feed, 7, sizeof(feed));
	mycel_buf_init(&b, 1024);
	mycel_enc_array(&b, 6);
	mycel_enc_uint(&b, 1);
	mycel_enc_bin(&b, feed, sizeof(feed));
	mycel_enc_nil(&b);
	mycel_enc_cstr(&b, "product");
	mycel_enc_bool(&b, true);
	mycel_enc_map(&b, 1);
	mycel_enc_cstr(&b, "k");
	mycel_enc_int(&b, -5);
	assert_int_equal(b.err, 0);

	mycel_rd_init(&r, b.data, b.len);
	assert_int_equal(mycel_rd_peek(&r, &t), 0);
	assert_int_equal(t, MYCEL_T_ARRAY);
	assert_int_equal(mycel_rd_map(&r, &count), MYCEL_ETYPE);
	assert_int_equal(mycel_rd_array(&r, &count), 0);
	assert_int_equal(count, 6);
	assert_int_equal(mycel_rd_offset(&r), 1);
	assert_int_equal(mycel_rd_bin(&r, &bp, &n), MYCEL_ETYPE);
	assert_int_equal(mycel_rd_uint(&r, &u), 0);
	assert_int_equal(u, 1);
	assert_int_equal(mycel_rd_bin_n(&r, &bp, 31), MYCEL_ETYPE);
	mycel_rd_init(&r, b.data, b.len);
	assert_int_equal(mycel_rd_array(&r, &count), 0);
	assert_int_equal(mycel_rd_uint(&r, &u), 0);
	assert_int_equal(mycel_rd_bin_n(&r, &bp, 32), 0);
	assert_ptr_equal(bp, b.data + 4); /* zero-copy */
	assert_int_equal(mycel_rd_peek(&r, &t), 0);
	assert_int_equal(t, MYCEL_T_NIL);
	assert_int_equal(mycel_rd_nil(&r), 0);
	assert_int_equal(mycel_rd_str(&r, &sp, &n), 0);
	assert_int_equal(n, 7);
	assert_memory_equal(sp, "product", 7);
	assert_int_equal(mycel_rd_end(&r), MYCEL_ETRAILING);
	assert_int_equal(mycel_rd_bool(&r, &bv), 0);
	assert_true(bv);
	assert_int_equal(mycel_rd_peek(&r, &t), 0);
	assert_int_equal(t, MYCEL_T_MAP);
	assert_int_equal(mycel_rd_skip(&r, 1), 0);
	assert_int_equal(mycel_rd_end(&r), 0);
	assert_int_equal(mycel_rd_peek(&r, &t), MYCEL_ETRUNC);
	assert_int_equal(mycel_rd_nil(&r), MYCEL_ETRUNC);
	mycel_buf_fini(&b);

	/* A negative int is not a uint; a count is checked against the bytes left. */
	{
		static const uint8_t neg[] = {0xff}, a16[] = {0xdc, 0x00, 0x10, 0xc0, 0xc0},
		                     m1[] = {0x81, 0xa0}, c1[] = {0xc1}, f32[] = {0xca},
		                     ncn[] = {0xcc, 0x01};

		mycel_rd_init(&r, neg, sizeof(neg));
		assert_int_equal(mycel_rd_uint(&r, &u), MYCEL_ETYPE);
		assert_int_equal(mycel_rd_peek(&r, &t), 0);
		assert_int_equal(t, MYCEL_T_INT);
		mycel_rd_init(&r, a16, sizeof(a16));
		assert_int_equal(mycel_rd_array(&r, &count), MYCEL_ETRUNC);
		mycel_rd_init(&r, m1, sizeof(m1));
		assert_int_equal(mycel_rd_map(&r, &count), MYCEL_ETRUNC);
		mycel_rd_init(&r, c1, sizeof(c1));
		assert_int_equal(mycel_rd_peek(&r, &t), MYCEL_EUNSUPPORTED);
		assert_int_equal(mycel_rd_nil(&r), MYCEL_EUNSUPPORTED);
		mycel_rd_init(&r, f32, sizeof(f32));
		assert_int_equal(mycel_rd_peek(&r, &t), MYCEL_EFLOAT);
		mycel_rd_init(&r, ncn, sizeof(ncn));
		assert_int_equal(mycel_rd_uint(&r, &u), MYCEL_ENONCANON);
		mycel_rd_init(&r, NULL, 0);
		assert_int_equal(mycel_rd_end(&r), 0);
		assert_int_equal(mycel_rd_skip(&r, 0), MYCEL_ETRUNC);
		assert_int_equal(mycel_rd_skip(&r, -1), MYCEL_EINVAL);
	}
	assert_string_equal(mycel_type_name(MYCEL_T_UINT), "uint");
	assert_string_equal(mycel_type_name(MYCEL_T_MAP), "map");
	assert_string_equal(mycel_type_name((mycel_type)99), "?");
}

/* ---- decoder refusals, with offsets ------------------------------------- */

static void test_decode_refusals(void **state)
{
	static const struct {
		const char *hex;
		int code;
		size_t offset;
	} t[] = {
	    {"", MYCEL_ETRUNC, 0},
	    {"cc7f", MYCEL_ENONCANON, 0},
	    {"92c0cc01", MYCEL_ENONCANON, 2},
	    {"81a161cc05", MYCEL_ENONCANON, 3},
	    {"81d90161c0", MYCEL_ENONCANON, 1},
	    {"d000", MYCEL_ENONCANON, 0},
	    {"93c0c0d3ffffffffffffffff", MYCEL_ENONCANON, 3},
	    {"ca3f800000", MYCEL_EFLOAT, 0},
	    {"81a178cb7ff8000000000000", MYCEL_EFLOAT, 3},
	    {"92c0cbfff0000000000000", MYCEL_EFLOAT, 2},
	    {"9291a2c0af", MYCEL_EUTF8, 2},
	    {"81a1ffc0", MYCEL_EUTF8, 1},
	    {"83a161c0a163c0a162c0", MYCEL_EKEYORDER, 7},
	    {"82a161c0a161c0", MYCEL_EKEYORDER, 4},
	    {"82a161c001c0", MYCEL_EKEYTYPE, 4},
	    {"8101c0", MYCEL_EKEYTYPE, 1},
	    {"91c1", MYCEL_EUNSUPPORTED, 1},
	    {"92c0d40100", MYCEL_EUNSUPPORTED, 2},
	    {"82a0c0c1c0", MYCEL_EUNSUPPORTED, 3},
	    {"919291", MYCEL_ETRUNC, 1},
	    {"81a161", MYCEL_ETRUNC, 3},
	    {"82a161c0", MYCEL_ETRUNC, 0},
	    {"92c0cd01", MYCEL_ETRUNC, 2},
	    {"ddffffffffc0", MYCEL_ETRUNC, 0},
	    {"c0c0", MYCEL_ETRAILING, 1},
	    {"910102", MYCEL_ETRAILING, 2},
	};
	mycel_arena *a;

	assert_int_equal(mycel_arena_new(MIB, &a), 0);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mycel_value *sentinel = (mycel_value *)&t, *out = sentinel;
		size_t off = 12345;
		int rc = decode_hex(t[i].hex, a, &out, &off);

		if (rc != t[i].code || off != t[i].offset) {
			print_error("%s: got %s at %zu, want %s at %zu\n", t[i].hex,
			            mycel_errname(rc), off, mycel_errname(t[i].code), t[i].offset);
			fail();
		}
		assert_ptr_equal(out, sentinel); /* untouched on failure */
		assert_int_equal(skip_hex(t[i].hex), t[i].code);
	}
	mycel_arena_free(a);
}

static void test_decode_limits(void **state)
{
	static const uint8_t in[] = {0x93, 0xa3, 'a',  'b',  'c', 0x91, 0xc4,
	                             0x01, 0x00, 0x81, 0xa1, 'k', 0x01};
	mycel_decode_err e;
	mycel_arena *a;
	mycel_value *v = NULL;
	size_t need = 0;
	char *s;

	/* max_len */
	assert_int_equal(mycel_arena_new(MIB, &a), 0);
	assert_int_equal(mycel_value_decode(in, sizeof(in), sizeof(in) - 1, a, &v, &e),
	                 MYCEL_ETOOBIG);
	assert_int_equal(e.code, MYCEL_ETOOBIG);
	assert_int_equal(e.offset, sizeof(in) - 1);
	assert_null(v);
	assert_int_equal(mycel_value_decode(in, sizeof(in), sizeof(in), a, &v, NULL), 0);
	s = render(v);
	assert_string_equal(s, "[\"abc\",[h'00'],{\"k\":1}]");
	free(s);
	assert_int_equal(mycel_value_decode(in, sizeof(in), MIB, NULL, &v, &e), MYCEL_EINVAL);
	mycel_arena_free(a);

	/* Arena exhaustion: ENOMEM below some limit, success from it on. */
	for (size_t limit = 0; limit < 4096 && need == 0; limit++) {
		int rc;

		assert_int_equal(mycel_arena_new(limit, &a), 0);
		v = NULL;
		rc = mycel_value_decode(in, sizeof(in), MIB, a, &v, &e);
		if (rc == 0)
			need = limit;
		else
			assert_int_equal(rc, MYCEL_ENOMEM);
		mycel_arena_free(a);
	}
	assert_true(need > 0);
	/* Allocation stays O(n): a generous bound per input byte. */
	assert_true(need <= 64 * sizeof(in));
	assert_int_equal(mycel_arena_new(sizeof(mycel_value), &a), 0);
	assert_int_equal(mycel_value_decode(in, sizeof(in), MIB, a, &v, &e), MYCEL_ENOMEM);
	assert_int_equal(e.offset, 0);
	mycel_arena_free(a);
}

/* A huge count with few bytes must be refused before anything is allocated. */
static void test_decode_huge_counts(void **state)
{
	static const char *const t[] = {"ddffffffff", "dfffffffff",   "dbffffffff",
	                                "c6ffffffff", "dd0001000090", "df00010000a0c0"};
	mycel_arena *a;

	assert_int_equal(mycel_arena_new(4096, &a), 0); /* far less than a count would need */
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mycel_value *v;
		size_t off;

		assert_int_equal(decode_hex(t[i], a, &v, &off), MYCEL_ETRUNC);
		assert_int_equal(off, 0);
	}
	mycel_arena_free(a);
}

/*
 * Nested containers cannot each claim the same remaining bytes: 42 arrays of
 * 13 share 43 bytes (fuzzer find). Refused as truncated at the first array whose
 * count no longer fits beside what its ancestors still need, having allocated
 * O(n) bytes at most, and the arena use of any accepted input stays O(n).
 */
static void test_decode_shared_counts(void **state)
{
	uint8_t in[43];
	mycel_arena *a;
	mycel_value *v;
	mycel_decode_err e;
	mycel_rd r;

	memset(in, 0x9d, 42);
	in[42] = 0x16;
	assert_int_equal(mycel_arena_new(40 * sizeof(in), &a), 0);
	assert_int_equal(mycel_value_decode(in, sizeof(in), MIB, a, &v, &e), MYCEL_ETRUNC);
	assert_int_equal(e.offset, 3); /* 39 bytes left, 3 * 12 later siblings pending */
	mycel_rd_init(&r, in, sizeof(in));
	assert_int_equal(mycel_rd_skip(&r, 0), MYCEL_ETRUNC);
	mycel_arena_free(a);

	/* [[[...[x, x], x]...] — a valid input of 32 levels, 2 items each. */
	{
		uint8_t deep[80];
		size_t n = 0;

		for (int i = 0; i < 31; i++)
			deep[n++] = 0x92;
		deep[n++] = 0x92;
		deep[n++] = 0x00;
		deep[n++] = 0x00;
		for (int i = 0; i < 31; i++)
			deep[n++] = 0x00;
		assert_int_equal(mycel_arena_new(40 * n, &a), 0);
		assert_int_equal(mycel_value_decode(deep, n, MIB, a, &v, &e), 0);
		mycel_arena_free(a);
		/* One byte short: each level could still see "enough" bytes for itself. */
		assert_int_equal(mycel_arena_new(40 * n, &a), 0);
		assert_int_equal(mycel_value_decode(deep, n - 1, MIB, a, &v, &e), MYCEL_ETRUNC);
		mycel_arena_free(a);
	}
}

/* ---- depth -------------------------------------------------------------- */

static char *nested_arrays_hex(int n)
{
	char *h = malloc(2 * (size_t)n + 1);

	assert_non_null(h);
	for (int i = 0; i < n; i++)
		memcpy(h + 2 * i, i == n - 1 ? "90" : "91", 2);
	h[2 * n] = '\0';
	return h;
}

static void test_depth(void **state)
{
	mycel_arena *a;
	mycel_value *v, *tree;
	mycel_buf b;
	size_t off;
	char *h32 = nested_arrays_hex(32), *h33 = nested_arrays_hex(33);

	assert_int_equal(mycel_arena_new(MIB, &a), 0);
	assert_int_equal(decode_hex(h32, a, &v, &off), 0);
	assert_int_equal(skip_hex(h32), 0);
	assert_int_equal(decode_hex(h33, a, &v, &off), MYCEL_EDEPTH);
	assert_int_equal(off, 32);
	assert_int_equal(skip_hex(h33), MYCEL_EDEPTH);

	/* The skipper counts from the depth it is given. */
	{
		mycel_rd r;
		size_t n;
		uint8_t *p = unhex(h32, &n);

		mycel_rd_init(&r, p + 1, n - 1); /* 31 levels */
		assert_int_equal(mycel_rd_skip(&r, 1), 0);
		mycel_rd_init(&r, p + 1, n - 1);
		assert_int_equal(mycel_rd_skip(&r, 2), MYCEL_EDEPTH);
		mycel_rd_init(&r, (const uint8_t *)"\x01", 1);
		assert_int_equal(mycel_rd_skip(&r, 40), 0); /* scalars add no depth */
		free(p);
	}

	/* The encoder: 32 levels built by hand are written, 33 are refused. */
	assert_int_equal(decode_hex(h32, a, &tree, &off), 0);
	mycel_buf_init(&b, 1024);
	assert_int_equal(mycel_value_encode(tree, &b), 0);
	expect_hex(&b, h32);
	v = mycel_arena_alloc(a, sizeof(*v));
	v->type = MYCEL_T_ARRAY;
	v->v.a.items = tree;
	v->v.a.len = 1;
	mycel_buf_reset(&b);
	mycel_enc_nil(&b);
	assert_int_equal(mycel_value_encode(v, &b), MYCEL_EDEPTH);
	assert_int_equal(b.err, MYCEL_EDEPTH);
	assert_int_equal(b.len, 1); /* nothing of the value left behind */
	mycel_buf_fini(&b);
	mycel_arena_free(a);
	free(h32);
	free(h33);
}

/* ---- value tree: encode, get, render ------------------------------------ */

static void test_value_encode_sorts(void **state)
{
	mycel_member m[5];
	mycel_value map = {.type = MYCEL_T_MAP}, items[2];
	mycel_buf b;
	mycel_arena *a;
	mycel_value *dec;
	char *s;
	static const char *const keys[5] = {"b", "aa", "", "a", "\xc3\xa9"};

	for (int i = 0; i < 5; i++) {
		m[i].key = keys[i];
		m[i].key_len = strlen(keys[i]);
		m[i].val.type = MYCEL_T_UINT;
		m[i].val.v.u = (uint64_t)i;
	}
	map.v.m.items = m;
	map.v.m.len = 5;
	mycel_buf_init(&b, 65536);
	assert_int_equal(mycel_value_encode(&map, &b), 0);
	expect_hex(&b, "85a002a16103a2616101a16200a2c3a904");
	/* v is not modified */
	for (int i = 0; i < 5; i++)
		assert_ptr_equal(m[i].key, keys[i]);
	assert_string_equal(s = render(&map), "{\"\":2,\"a\":3,\"aa\":1,\"b\":0,\"\xc3\xa9\":4}");
	free(s);

	/* The decoded tree is sorted, and get finds members. */
	assert_int_equal(mycel_arena_new(MIB, &a), 0);
	assert_int_equal(mycel_value_decode(b.data, b.len, MIB, a, &dec, NULL), 0);
	assert_string_equal(dec->v.m.items[2].key, "aa");
	assert_int_equal(mycel_value_get(dec, "aa")->v.u, 1);
	assert_int_equal(mycel_value_get(&map, "")->v.u, 2);
	assert_null(mycel_value_get(dec, "c"));
	assert_null(mycel_value_get(&dec->v.m.items[0].val, "a"));
	assert_null(mycel_value_get(NULL, "a"));

	/* Duplicates: EKEYORDER, buffer left as it was. */
	m[0].key = "a";
	m[0].key_len = 1;
	mycel_buf_reset(&b);
	mycel_enc_nil(&b);
	assert_int_equal(mycel_value_encode(&map, &b), MYCEL_EKEYORDER);
	assert_int_equal(b.len, 1);
	assert_int_equal(b.err, MYCEL_EKEYORDER);
	/* Sticky: a later encode is refused with the first error. */
	m[0].key = "z";
	assert_int_equal(mycel_value_encode(&map, &b), MYCEL_EKEYORDER);

	/* A big map (index on the heap), with a duplicate among sorted members. */
	{
		enum { N = 300 };
		mycel_member *big = calloc(N, sizeof(*big));
		char(*names)[8] = calloc(N, sizeof(*names));
		mycel_value bm = {.type = MYCEL_T_MAP};

		assert_non_null(big);
		assert_non_null(names);
		for (int i = 0; i < N; i++) {
			snprintf(names[i], sizeof(names[i]), "k%03d", (N - 1 - i) * 7 % N);
			big[i].key = names[i];
			big[i].key_len = 4;
			big[i].val.type = MYCEL_T_NIL;
		}
		bm.v.m.items = big;
		bm.v.m.len = N;
		mycel_buf_reset(&b);
		assert_int_equal(mycel_value_encode(&bm, &b), 0);
		assert_int_equal(b.data[0], 0xde);
		assert_memory_equal(b.data + 3, "\xa4k000\xc0\xa4k001\xc0", 12);
		memcpy(names[5], names[6], 8);
		mycel_buf_reset(&b);
		assert_int_equal(mycel_value_encode(&bm, &b), MYCEL_EKEYORDER);
		free(names);
		free(big);
	}

	/* Other refusals of the tree encoder. */
	items[0].type = MYCEL_T_FLOAT;
	items[0].v.f = NAN;
	mycel_buf_reset(&b);
	assert_int_equal(mycel_value_encode(&items[0], &b), MYCEL_EFLOAT);
	items[1].type = MYCEL_T_STR;
	items[1].v.s.ptr = "\xff";
	items[1].v.s.len = 1;
	mycel_buf_reset(&b);
	assert_int_equal(mycel_value_encode(&items[1], &b), MYCEL_EUTF8);
	m[0].key = "\xc0\x80";
	m[0].key_len = 2;
	mycel_buf_reset(&b);
	assert_int_equal(mycel_value_encode(&map, &b), MYCEL_EUTF8);
	mycel_buf_fini(&b);
	mycel_buf_init(&b, 4);
	assert_int_equal(mycel_value_encode(dec, &b), MYCEL_ETOOBIG);
	assert_int_equal(b.len, 0);
	mycel_buf_fini(&b);
	mycel_arena_free(a);
}

static void test_render(void **state)
{
	static const struct {
		const char *hex;
		const char *text;
	} t[] = {
	    {"c0", "null"},
	    {"cb4059000000000000", "100.0"},
	    {"cb8000000000000000", "-0.0"},
	    {"cb3fe0000000000000", "0.5"},
	    {"cb7fe1ccf385ebc8a0", "1e+308"},
	    {"cb44b52d02c7e14af6", "9.9999999999999992e+22"},
	    {"a90a0d095c22c3a97f41", "\"\\u000a\\u000d\\u0009\\\\\\\"\xc3\xa9\\u007fA\""},
	    {"c403000aff", "h'000aff'"},
	    {"92d080cf8000000000000000", "[-128,9223372036854775808]"},
	    {"82a081a0c0a178c3", "{\"\":{\"\":null},\"x\":true}"},
	};
	mycel_arena *a;
	mycel_buf b;

	assert_int_equal(mycel_arena_new(MIB, &a), 0);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		mycel_value *v;
		char *s;

		if (decode_hex(t[i].hex, a, &v, NULL) != 0) {
			print_error("%s does not decode\n", t[i].hex);
			fail();
		}
		s = render(v);
		assert_string_equal(s, t[i].text);
		free(s);
	}
	/* Appends, NUL-terminated; refuses a buffer too small for the NUL. */
	{
		mycel_value *v;

		assert_int_equal(decode_hex("c3", a, &v, NULL), 0);
		mycel_buf_init(&b, 6);
		mycel_buf_put(&b, "x", 1);
		assert_int_equal(mycel_value_render(v, &b), 0);
		assert_int_equal(b.len, 5);
		assert_memory_equal(b.data, "xtrue", 5);
		mycel_buf_reset(&b);
		mycel_buf_put(&b, "xy", 2);
		assert_int_equal(mycel_value_render(v, &b), MYCEL_ETOOBIG);
		assert_int_equal(b.len, 2);
		mycel_buf_fini(&b);
	}
	mycel_arena_free(a);
}

/* The 32-bit length forms, which the vector files leave out for their size. */
static void test_roundtrip_32bit_forms(void **state)
{
	enum { N = 65536 };
	mycel_arena *a;
	mycel_buf b, again;
	mycel_value *v;
	mycel_value str = {.type = MYCEL_T_STR}, bin = {.type = MYCEL_T_BIN};
	mycel_value arr = {.type = MYCEL_T_ARRAY}, map = {.type = MYCEL_T_MAP};
	mycel_value top = {.type = MYCEL_T_ARRAY}, four[4];
	char *text = malloc(N + 1);
	mycel_value *items = calloc(N, sizeof(*items));
	mycel_member *members = calloc(N, sizeof(*members));
	char(*keys)[3] = calloc(N, sizeof(*keys));

	assert_true(text && items && members && keys);
	memset(text, 'q', N);
	text[N] = '\0';
	str.v.s.ptr = bin.v.s.ptr = text;
	str.v.s.len = bin.v.s.len = N;
	arr.v.a.items = items;
	arr.v.a.len = N;
	for (size_t i = 0; i < N; i++) {
		/* distinct three-byte ASCII keys ('0' .. 'o'), given in reverse order */
		size_t k = N - 1 - i;

		keys[i][0] = (char)('0' + k / 4096);
		keys[i][1] = (char)('0' + k / 64 % 64);
		keys[i][2] = (char)('0' + k % 64);
		members[i].key = keys[i];
		members[i].key_len = 3;
		members[i].val.type = MYCEL_T_UINT;
		members[i].val.v.u = k;
	}
	map.v.m.items = members;
	map.v.m.len = N;
	four[0] = str;
	four[1] = bin;
	four[2] = arr;
	four[3] = map;
	top.v.a.items = four;
	top.v.a.len = 4;

	mycel_buf_init(&b, 8 * MIB);
	assert_int_equal(mycel_value_encode(&top, &b), 0);
	assert_memory_equal(b.data, "\x94\xdb\x00\x01\x00\x00qq", 8);
	assert_memory_equal(b.data + 6 + N, "\xc6\x00\x01\x00\x00qq", 7);
	assert_memory_equal(b.data + 11 + 2 * N, "\xdd\x00\x01\x00\x00\xc0", 6);
	assert_memory_equal(b.data + 16 + 3 * N,
	                    "\xdf\x00\x01\x00\x00\xa3"
	                    "000\x00",
	                    10);
	assert_int_equal(mycel_arena_new(64 * MIB, &a), 0);
	assert_int_equal(mycel_value_decode(b.data, b.len, 8 * MIB, a, &v, NULL), 0);
	mycel_buf_init(&again, 8 * MIB);
	assert_int_equal(mycel_value_encode(v, &again), 0);
	assert_int_equal(again.len, b.len);
	assert_memory_equal(again.data, b.data, b.len);
	assert_int_equal(mycel_value_get(&v->v.a.items[3], "001")->v.u, 1);
	mycel_buf_fini(&again);
	mycel_buf_fini(&b);
	mycel_arena_free(a);
	free(keys);
	free(members);
	free(items);
	free(text);
}

/* ---- random round trips ------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static size_t rnd_below(size_t n)
{
	return (size_t)(rnd() % n);
}

/* Random valid UTF-8 of up to max code points, into the arena. */
static const char *rnd_text(mycel_arena *a, size_t max, size_t *out_len)
{
	size_t n = rnd_below(max + 1), len = 0;
	char *s = mycel_arena_alloc(a, 4 * n + 1);

	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		uint32_t c;

		switch (rnd_below(6)) {
		case 0:
			c = (uint32_t)rnd_below(0x80);
			break;
		case 1:
			c = 0x80 + (uint32_t)rnd_below(0x800 - 0x80);
			break;
		case 2:
			do
				c = 0x800 + (uint32_t)rnd_below(0x10000 - 0x800);
			while (c >= 0xd800 && c <= 0xdfff);
			break;
		case 3:
			c = 0x10000 + (uint32_t)rnd_below(0x110000 - 0x10000);
			break;
		default:
			c = 'a' + (uint32_t)rnd_below(3); /* short alphabet: shared prefixes */
			break;
		}
		if (c < 0x80) {
			s[len++] = (char)c;
		} else if (c < 0x800) {
			s[len++] = (char)(0xc0 | c >> 6);
			s[len++] = (char)(0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			s[len++] = (char)(0xe0 | c >> 12);
			s[len++] = (char)(0x80 | (c >> 6 & 0x3f));
			s[len++] = (char)(0x80 | (c & 0x3f));
		} else {
			s[len++] = (char)(0xf0 | c >> 18);
			s[len++] = (char)(0x80 | (c >> 12 & 0x3f));
			s[len++] = (char)(0x80 | (c >> 6 & 0x3f));
			s[len++] = (char)(0x80 | (c & 0x3f));
		}
	}
	s[len] = '\0';
	*out_len = len;
	return s;
}

static void rnd_value(mycel_arena *a, mycel_value *v, int depth)
{
	size_t n;
	int kind = (int)rnd_below(depth < 8 ? 11 : 7);

	switch (kind) {
	case 0:
		v->type = MYCEL_T_NIL;
		break;
	case 1:
		v->type = MYCEL_T_BOOL;
		v->v.b = rnd() & 1;
		break;
	case 2:
		/* a random width, so that every integer form is hit */
		v->type = MYCEL_T_UINT;
		v->v.u = rnd() >> rnd_below(64);
		break;
	case 3:
		v->type = MYCEL_T_INT;
		v->v.i = -1 - (int64_t)(rnd() >> (1 + rnd_below(63)));
		break;
	case 4:
		v->type = MYCEL_T_FLOAT;
		do {
			uint64_t bits = rnd();

			memcpy(&v->v.f, &bits, sizeof(bits));
		} while (!isfinite(v->v.f));
		if (rnd_below(4) == 0)
			v->v.f = (double)(int64_t)(rnd() >> 40) * (rnd() & 1 ? -1 : 1);
		break;
	case 5:
		v->type = MYCEL_T_STR;
		v->v.s.ptr = rnd_text(a, rnd_below(8) == 0 ? 300 : 20, &v->v.s.len);
		break;
	case 6: {
		uint8_t *p;

		n = rnd_below(8) == 0 ? rnd_below(70000) : rnd_below(40);
		p = mycel_arena_alloc(a, n + 1);
		assert_non_null(p);
		for (size_t i = 0; i < n; i++)
			p[i] = (uint8_t)rnd();
		v->type = MYCEL_T_BIN;
		v->v.s.ptr = (const char *)p;
		v->v.s.len = n;
		break;
	}
	case 7:
	case 8:
		n = rnd_below(8) == 0 ? rnd_below(40) : rnd_below(5);
		v->type = MYCEL_T_ARRAY;
		v->v.a.items = mycel_arena_alloc(a, (n ? n : 1) * sizeof(mycel_value));
		v->v.a.len = n;
		for (size_t i = 0; i < n; i++)
			rnd_value(a, &v->v.a.items[i], depth + 1);
		break;
	default:
		n = rnd_below(8) == 0 ? rnd_below(30) : rnd_below(5);
		v->type = MYCEL_T_MAP;
		v->v.m.items = mycel_arena_alloc(a, (n ? n : 1) * sizeof(mycel_member));
		v->v.m.len = 0;
		for (size_t i = 0; i < n; i++) {
			mycel_member *m = &v->v.m.items[v->v.m.len];
			bool dup = false;

			m->key = rnd_text(a, 4, &m->key_len);
			for (size_t j = 0; j < v->v.m.len && !dup; j++)
				dup = v->v.m.items[j].key_len == m->key_len &&
				      memcmp(v->v.m.items[j].key, m->key, m->key_len) == 0;
			if (dup)
				continue;
			rnd_value(a, &m->val, depth + 1);
			v->v.m.len++;
		}
		break;
	}
}

static void test_random_roundtrip(void **state)
{
	mycel_buf b1, b2;

	rng_state = UINT64_C(0x6d7963656c2d3031); /* fixed seed: "mycel-01" */
	mycel_buf_init(&b1, 64 * MIB);
	mycel_buf_init(&b2, 64 * MIB);
	for (int round = 0; round < 3000; round++) {
		mycel_arena *a, *a2;
		mycel_value tree, *dec;
		mycel_decode_err e;
		mycel_rd r;
		char *s1, *s2;

		assert_int_equal(mycel_arena_new(256 * MIB, &a), 0);
		rnd_value(a, &tree, 0);
		mycel_buf_reset(&b1);
		mycel_buf_reset(&b2);
		assert_int_equal(mycel_value_encode(&tree, &b1), 0);
		assert_int_equal(mycel_arena_new(256 * MIB, &a2), 0);
		if (mycel_value_decode(b1.data, b1.len, 64 * MIB, a2, &dec, &e) != 0) {
			print_error("round %d: %s at %zu\n", round, mycel_errname(e.code),
			            e.offset);
			fail();
		}
		assert_int_equal(mycel_value_encode(dec, &b2), 0);
		assert_int_equal(b1.len, b2.len);
		assert_memory_equal(b1.data, b2.data, b1.len);
		mycel_rd_init(&r, b1.data, b1.len);
		assert_int_equal(mycel_rd_skip(&r, 0), 0);
		assert_int_equal(mycel_rd_end(&r), 0);
		s1 = render(&tree);
		s2 = render(dec);
		assert_string_equal(s1, s2);
		free(s1);
		free(s2);
		/* Every strict prefix is refused (truncated), never accepted. */
		if (b1.len > 1) {
			size_t cut = 1 + rnd_below(b1.len - 1);

			assert_int_not_equal(
			    mycel_value_decode(b1.data, cut, 64 * MIB, a2, &dec, &e), 0);
		}
		mycel_arena_free(a2);
		mycel_arena_free(a);
	}
	mycel_buf_fini(&b1);
	mycel_buf_fini(&b2);
}

/* ---- golden vectors ----------------------------------------------------- */

static void test_vectors_valid(void **state)
{
	FILE *f = fopen(VALID_VECTORS, "r");
	char *line = NULL;
	size_t cap = 0, count = 0;
	ssize_t got;

	assert_non_null(f);
	while ((got = getline(&line, &cap, f)) != -1) {
		char *name, *hex, *text, *sp;
		mycel_arena *a;
		mycel_value *v;
		mycel_decode_err e;
		mycel_buf b;
		uint8_t *bytes;
		size_t n;
		int rc;

		if (got > 0 && line[got - 1] == '\n')
			line[--got] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		name = line;
		assert_non_null(sp = strchr(name, ' '));
		*sp = '\0';
		hex = sp + 1;
		assert_non_null(sp = strchr(hex, ' '));
		*sp = '\0';
		text = sp + 1;
		bytes = unhex(hex, &n);
		assert_int_equal(mycel_arena_new(MIB, &a), 0);
		rc = mycel_value_decode(bytes, n, MIB, a, &v, &e);
		if (rc != 0) {
			print_error("%s: %s at %zu\n", name, mycel_errname(rc), e.offset);
			fail();
		}
		mycel_buf_init(&b, MIB);
		assert_int_equal(mycel_value_render(v, &b), 0);
		if (strcmp((char *)b.data, text) != 0) {
			print_error("%s: rendered %s\n", name, (char *)b.data);
			fail();
		}
		mycel_buf_reset(&b);
		assert_int_equal(mycel_value_encode(v, &b), 0);
		if (b.len != n || memcmp(b.data, bytes, n) != 0) {
			print_error("%s: re-encoding differs\n", name);
			fail();
		}
		assert_int_equal(skip_hex(hex), 0);
		mycel_buf_fini(&b);
		mycel_arena_free(a);
		free(bytes);
		count++;
	}
	free(line);
	fclose(f);
	assert_true(count >= 40);
}

static void test_vectors_invalid(void **state)
{
	FILE *f = fopen(INVALID_VECTORS, "r");
	char *line = NULL;
	size_t cap = 0, count = 0;
	ssize_t got;

	assert_non_null(f);
	while ((got = getline(&line, &cap, f)) != -1) {
		char *name, *errname, *hex, *sp;
		mycel_arena *a;
		mycel_value *v = NULL;
		int rc, want;

		if (got > 0 && line[got - 1] == '\n')
			line[--got] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		name = line;
		assert_non_null(sp = strchr(name, ' '));
		*sp = '\0';
		errname = sp + 1;
		assert_non_null(sp = strchr(errname, ' '));
		*sp = '\0';
		hex = sp + 1;
		want = mycel_errcode(errname);
		if (want >= 0) {
			print_error("%s: unknown error name %s\n", name, errname);
			fail();
		}
		assert_int_equal(mycel_arena_new(MIB, &a), 0);
		rc = decode_hex(hex, a, &v, NULL);
		if (rc != want) {
			print_error("%s: got %s, want %s\n", name, mycel_errname(rc), errname);
			fail();
		}
		assert_null(v);
		rc = skip_hex(hex);
		if (rc != want) {
			print_error("%s: mycel_rd_skip got %s, want %s\n", name, mycel_errname(rc),
			            errname);
			fail();
		}
		mycel_arena_free(a);
		count++;
	}
	free(line);
	fclose(f);
	assert_true(count >= 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_enc_uint),
	    cmocka_unit_test(test_enc_int),
	    cmocka_unit_test(test_enc_scalars_float),
	    cmocka_unit_test(test_enc_lengths),
	    cmocka_unit_test(test_enc_str_utf8),
	    cmocka_unit_test(test_utf8_valid),
	    cmocka_unit_test(test_buf_limit),
	    cmocka_unit_test(test_arena),
	    cmocka_unit_test(test_reader),
	    cmocka_unit_test(test_decode_refusals),
	    cmocka_unit_test(test_decode_limits),
	    cmocka_unit_test(test_decode_huge_counts),
	    cmocka_unit_test(test_decode_shared_counts),
	    cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_value_encode_sorts),
	    cmocka_unit_test(test_render),
	    cmocka_unit_test(test_roundtrip_32bit_forms),
	    cmocka_unit_test(test_random_roundtrip),
	    cmocka_unit_test(test_vectors_valid),
	    cmocka_unit_test(test_vectors_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
