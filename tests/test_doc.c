/*
 * test_doc.c — reading YAML and JSON into value trees (include/mycel/doc.h):
 * YAML 1.2 core-schema typing of plain, quoted and tagged scalars, the line
 * and column of values in block, flow and JSON text, every refusal of the
 * contract with its finding (duplicate keys on both detection paths,
 * non-scalar keys, several documents, empty input, syntax errors, depth,
 * aliases and their budget, limits, invalid UTF-8), and every document of the
 * shared reference corpus loaded and encoded canonically. Runs from the
 * source root; the corpus is found through MYCEL_CORPUS (default
 * ../shared/corpus) and its test is skipped when it is absent.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mycel/codec.h"
#include "mycel/diag.h"
#include "mycel/doc.h"
#include "mycel/error.h"

#define MIB ((size_t)1 << 20)
#define DEFAULT_CORPUS "../shared/corpus"

/* ---- helpers ------------------------------------------------------------ */

typedef struct ctx {
	mycel_arena *a;
	mycel_diags d;
	mycel_value *v;
} ctx;

static int setup(void **state)
{
	ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	assert_int_equal(mycel_arena_new(256 * MIB, &c->a), 0);
	mycel_diags_init(&c->d, 0);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	ctx *c = *state;

	mycel_diags_fini(&c->d);
	mycel_arena_free(c->a);
	free(c);
	return 0;
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Parses n bytes with limits lim into c->v; checks the contract's bookkeeping:
 * *out untouched on failure, at least one finding on failure, none on success.
 */
static int parse_n(ctx *c, const char *text, size_t n, const mycel_doc_limits *lim)
{
	mycel_value *const sentinel = (mycel_value *)&c->d; /* any non-NULL address */
	mycel_value *v = sentinel;
	int rc;

	mycel_diags_clear(&c->d);
	rc = mycel_doc_parse(text, n, lim, c->a, &v, &c->d);
	if (rc == 0) {
		assert_true(v != sentinel && v != NULL);
		assert_int_equal(c->d.len, 0);
	} else {
		assert_true(v == sentinel);
		if (rc != MYCEL_ENOMEM)
			assert_true(c->d.len >= 1);
		for (size_t i = 0; i < c->d.len; i++) {
			assert_non_null(c->d.items[i].message);
			assert_true(c->d.items[i].message[0] != '\0');
		}
		v = NULL;
	}
	c->v = v;
	return rc;
}

static int parse_lim(ctx *c, const char *text, const mycel_doc_limits *lim)
{
	return parse_n(c, text, strlen(text), lim);
}

static int parse(ctx *c, const char *text)
{
	return parse_lim(c, text, NULL);
}

/* Parses text that must load; returns the root. */
static const mycel_value *ok(ctx *c, const char *text)
{
	int rc = parse(c, text);

	if (rc != 0)
		fail_msg("refused (%s) %s: %u:%u %s", mycel_errname(rc), text,
			 c->d.len ? c->d.items[0].line : 0, c->d.len ? c->d.items[0].col : 0,
			 c->d.len ? c->d.items[0].message : "");
	return c->v;
}

/*
 * Asserts that the first finding is at line:col (col 0: any column) and that
 * its message contains needle (if not NULL).
 */
static void expect_finding(const ctx *c, uint32_t line, uint32_t col, const char *needle)
{
	assert_true(c->d.len >= 1);
	if (c->d.items[0].line != line || (col != 0 && c->d.items[0].col != col) ||
	    (needle != NULL && strstr(c->d.items[0].message, needle) == NULL))
		fail_msg("finding %u:%u \"%s\", expected %u:%u \"%s\"", c->d.items[0].line,
			 c->d.items[0].col, c->d.items[0].message, line, col, needle ? needle : "");
}

/* Parses text that must be refused with code, its first finding at line:col. */
static void refused(ctx *c, const char *text, int code, uint32_t line, uint32_t col,
		    const char *needle)
{
	int rc = parse(c, text);

	if (rc != code)
		fail_msg("%s: got %s, expected %s", text, mycel_errname(rc), mycel_errname(code));
	expect_finding(c, line, col, needle);
}

/* The single value of the map {"v": X} that text (a value) makes. */
static const mycel_value *scalar(ctx *c, const char *value_text)
{
	char buf[512];
	const mycel_value *root, *v;

	snprintf(buf, sizeof(buf), "v: %s\n", value_text);
	root = ok(c, buf);
	assert_int_equal(root->type, MYCEL_T_MAP);
	v = mycel_value_get(root, "v");
	assert_non_null(v);
	return v;
}

static void expect_str(ctx *c, const char *value_text, const char *want)
{
	const mycel_value *v = scalar(c, value_text);

	if (v->type != MYCEL_T_STR)
		fail_msg("%s: a %s, expected a string", value_text, mycel_type_name(v->type));
	assert_int_equal(v->v.s.len, strlen(want));
	assert_memory_equal(v->v.s.ptr, want, strlen(want));
	assert_int_equal(v->v.s.ptr[v->v.s.len], '\0');
}

static void expect_type(ctx *c, const char *value_text, mycel_type t)
{
	const mycel_value *v = scalar(c, value_text);

	if (v->type != t)
		fail_msg("%s: a %s, expected a %s", value_text, mycel_type_name(v->type),
			 mycel_type_name(t));
}

static void expect_uint(ctx *c, const char *value_text, uint64_t want)
{
	const mycel_value *v = scalar(c, value_text);

	if (v->type != MYCEL_T_UINT || v->v.u != want)
		fail_msg("%s: %s, expected uint %llu", value_text, mycel_type_name(v->type),
			 (unsigned long long)want);
}

static void expect_int(ctx *c, const char *value_text, int64_t want)
{
	const mycel_value *v = scalar(c, value_text);

	if (v->type != MYCEL_T_INT || v->v.i != want)
		fail_msg("%s: %s, expected int %lld", value_text, mycel_type_name(v->type),
			 (long long)want);
}

static void expect_float(ctx *c, const char *value_text, double want)
{
	const mycel_value *v = scalar(c, value_text);

	if (v->type != MYCEL_T_FLOAT || memcmp(&v->v.f, &want, sizeof(want)) != 0)
		fail_msg("%s: %s %.17g, expected float %.17g", value_text,
			 mycel_type_name(v->type), v->type == MYCEL_T_FLOAT ? v->v.f : 0.0, want);
}

static void expect_bool(ctx *c, const char *value_text, bool want)
{
	const mycel_value *v = scalar(c, value_text);

	if (v->type != MYCEL_T_BOOL || v->v.b != want)
		fail_msg("%s: %s, expected bool %d", value_text, mycel_type_name(v->type), want);
}

/* The value as "v: X" must be refused (EFORMAT) at line 1, column col, mentioning needle. */
static void expect_bad(ctx *c, const char *value_text, uint32_t col, const char *needle)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "v: %s\n", value_text);
	refused(c, buf, MYCEL_EFORMAT, 1, col, needle);
}

static void expect_pos(const mycel_value *v, uint32_t line, uint32_t col)
{
	assert_non_null(v);
	if (v->line != line || v->col != col)
		fail_msg("value (%s) at %u:%u, expected %u:%u", mycel_type_name(v->type), v->line,
			 v->col, line, col);
}

/* Canonical encoding of v in a malloc'd buffer (the caller frees b). */
static void encode(const mycel_value *v, mycel_buf *b)
{
	mycel_buf_init(b, 64 * MIB);
	assert_int_equal(mycel_value_encode(v, b), 0);
	assert_int_equal(b->err, 0);
}

static void expect_encoding(const mycel_value *v, const char *hex)
{
	mycel_buf b;
	char *got;

	encode(v, &b);
	got = malloc(2 * b.len + 1);
	assert_non_null(got);
	for (size_t i = 0; i < b.len; i++)
		snprintf(got + 2 * i, 3, "%02x", b.data[i]);
	got[2 * b.len] = '\0';
	assert_string_equal(got, hex);
	free(got);
	mycel_buf_fini(&b);
}

/* Depth of a value tree: containers on the longest path down. */
static unsigned height(const mycel_value *v)
{
	unsigned h = 0;

	if (v->type == MYCEL_T_ARRAY)
		for (size_t i = 0; i < v->v.a.len; i++) {
			unsigned k = height(&v->v.a.items[i]);
			h = k > h ? k : h;
		}
	else if (v->type == MYCEL_T_MAP)
		for (size_t i = 0; i < v->v.m.len; i++) {
			unsigned k = height(&v->v.m.items[i].val);
			h = k > h ? k : h;
		}
	else
		return 0;
	return h + 1;
}

/* A malloc'd, NUL-terminated string of what printf makes, growing as needed. */
typedef struct text {
	char *p;
	size_t len, cap;
} text;

static void __attribute__((format(printf, 2, 3))) add(text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	if (t->len + (size_t)n + 1 > t->cap) {
		t->cap = 2 * (t->len + (size_t)n + 1);
		t->p = realloc(t->p, t->cap);
		assert_non_null(t->p);
	}
	va_start(ap, fmt);
	vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

/* ---- scalar typing ------------------------------------------------------ */

static void test_null_forms(void **state)
{
	ctx *c = *state;
	const mycel_value *root;

	expect_type(c, "null", MYCEL_T_NIL);
	expect_type(c, "Null", MYCEL_T_NIL);
	expect_type(c, "NULL", MYCEL_T_NIL);
	expect_type(c, "~", MYCEL_T_NIL);
	expect_type(c, "", MYCEL_T_NIL);
	expect_type(c, "# nothing but a comment", MYCEL_T_NIL);
	expect_str(c, "nULL", "nULL");
	expect_str(c, "nil", "nil");
	expect_str(c, "None", "None");
	expect_str(c, "~~", "~~");

	root = ok(c, "[null, ~, NULL, Null]");
	assert_int_equal(root->type, MYCEL_T_ARRAY);
	assert_int_equal(root->v.a.len, 4);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(root->v.a.items[i].type, MYCEL_T_NIL);
	root = ok(c, "{a: , b: ~, c}");
	assert_int_equal(mycel_value_get(root, "a")->type, MYCEL_T_NIL);
	assert_int_equal(mycel_value_get(root, "c")->type, MYCEL_T_NIL);
	root = ok(c, "~");
	assert_int_equal(root->type, MYCEL_T_NIL);
	root = ok(c, "- \n- x\n");
	assert_int_equal(root->v.a.items[0].type, MYCEL_T_NIL);
}

static void test_bool_forms(void **state)
{
	ctx *c = *state;

	expect_bool(c, "true", true);
	expect_bool(c, "True", true);
	expect_bool(c, "TRUE", true);
	expect_bool(c, "false", false);
	expect_bool(c, "False", false);
	expect_bool(c, "FALSE", false);
	/* YAML 1.1 booleans are strings under the 1.2 core schema */
	static const char *const yaml11[] = {"yes", "no", "on",	 "off",	  "y", "n",
					      "Y",   "N",  "Yes", "No",	 "ON",	  "Off",
					      "tRUE", "fAlse", "t", "f", "truE"};
	for (size_t i = 0; i < sizeof(yaml11) / sizeof(yaml11[0]); i++)
		expect_str(c, yaml11[i], yaml11[i]);
}

static void test_strings_stay_strings(void **state)
{
	ctx *c = *state;

	expect_str(c, "2020-01-01", "2020-01-01");
	expect_str(c, "2020-01-01T10:00:00Z", "2020-01-01T10:00:00Z");
	expect_str(c, "12:30:00", "12:30:00");
	expect_str(c, "1_000", "1_000");
	expect_str(c, "0b101", "0b101");
	expect_str(c, "0X1F", "0X1F");
	expect_str(c, "0O17", "0O17");
	expect_str(c, "0x", "0x");
	expect_str(c, "0o", "0o");
	expect_str(c, "0o8", "0o8");
	expect_str(c, "0xg", "0xg");
	expect_str(c, "-0x1", "-0x1");
	expect_str(c, "+0o7", "+0o7");
	expect_str(c, "1e", "1e");
	expect_str(c, "e3", "e3");
	expect_str(c, ".", ".");
	expect_str(c, "-x", "-x");
	expect_str(c, "+", "+");
	expect_str(c, "1.2.3", "1.2.3");
	expect_str(c, "1,000", "1,000");
	expect_str(c, "inf", "inf");
	expect_str(c, "NaN", "NaN");
	expect_str(c, "infinity", "infinity");
	expect_str(c, "+.nan", "+.nan");
	expect_str(c, ".infinity", ".infinity");
	expect_str(c, "1 2", "1 2");
	expect_str(c, "hello world", "hello world");
	expect_str(c, "é€𝄞", "é€𝄞");
}

static void test_integers(void **state)
{
	ctx *c = *state;

	expect_uint(c, "0", 0);
	expect_uint(c, "42", 42);
	expect_uint(c, "+42", 42);
	expect_uint(c, "007", 7);
	expect_uint(c, "-0", 0);
	expect_int(c, "-17", -17);
	expect_uint(c, "0o17", 15);
	expect_uint(c, "0o0", 0);
	expect_uint(c, "0x1F", 31);
	expect_uint(c, "0xff", 255);
	expect_uint(c, "0xDeadBeef", 0xdeadbeef);
	expect_int(c, "-9223372036854775808", INT64_MIN);
	expect_int(c, "-9223372036854775807", INT64_MIN + 1);
	expect_uint(c, "9223372036854775807", INT64_MAX);
	expect_uint(c, "9223372036854775808", (uint64_t)INT64_MAX + 1);
	expect_uint(c, "18446744073709551615", UINT64_MAX);
	expect_uint(c, "0xffffffffffffffff", UINT64_MAX);
	expect_uint(c, "0o1777777777777777777777", UINT64_MAX);
	expect_uint(c, "00000000000000000000000000000018446744073709551615", UINT64_MAX);

	/* out of range: refused with a finding at the value */
	expect_bad(c, "18446744073709551616", 4, "out of range");
	expect_bad(c, "99999999999999999999999", 4, "out of range");
	expect_bad(c, "-9223372036854775809", 4, "out of range");
	expect_bad(c, "-18446744073709551615", 4, "out of range");
	expect_bad(c, "0x10000000000000000", 4, "out of range");
	expect_bad(c, "0o2000000000000000000000", 4, "out of range");
	refused(c, "a: 1\nlist:\n  - 18446744073709551616\n", MYCEL_EFORMAT, 3, 5, "range");
	assert_int_equal(parse(c, "[1, 2, 18446744073709551616]"), MYCEL_EFORMAT);
	expect_finding(c, 1, 8, NULL);
	/* quoted, it is a string */
	expect_str(c, "\"18446744073709551616\"", "18446744073709551616");
}

static void test_floats(void **state)
{
	ctx *c = *state;

	expect_float(c, "1.0", 1.0);
	expect_float(c, ".5", 0.5);
	expect_float(c, "-.5", -0.5);
	expect_float(c, "+.5", 0.5);
	expect_float(c, "1e3", 1000.0);
	expect_float(c, "1E3", 1000.0);
	expect_float(c, "1e+3", 1000.0);
	expect_float(c, "-1.5E-3", -1.5e-3);
	expect_float(c, "1.", 1.0);
	expect_float(c, "-1.", -1.0);
	expect_float(c, "0.0", 0.0);
	expect_float(c, "-0.0", -0.0);
	expect_float(c, "3.14159", 3.14159);
	expect_float(c, "6.02e23", 6.02e23);
	expect_float(c, "1.7976931348623157e308", 1.7976931348623157e308);
	expect_float(c, "1e-400", 0.0); /* underflows to zero: finite, kept */
	expect_float(c, "4.9e-324", 4.9e-324);
	expect_float(c, ".5e1", 5.0);

	/* infinities and NaN have no canonical encoding: refused, with a finding */
	expect_bad(c, ".inf", 4, "NaN");
	expect_bad(c, ".Inf", 4, NULL);
	expect_bad(c, ".INF", 4, NULL);
	expect_bad(c, "-.Inf", 4, NULL);
	expect_bad(c, "+.inf", 4, NULL);
	expect_bad(c, "-.INF", 4, NULL);
	expect_bad(c, ".nan", 4, NULL);
	expect_bad(c, ".NaN", 4, NULL);
	expect_bad(c, ".NAN", 4, NULL);
	expect_bad(c, "1e400", 4, NULL);
	expect_bad(c, "-1e400", 4, NULL);
	refused(c, "- 1.5\n- -.inf\n", MYCEL_EFORMAT, 2, 3, "infinit");
	/* quoted, they are strings */
	expect_str(c, "'.inf'", ".inf");
	expect_str(c, "\".nan\"", ".nan");
	expect_str(c, "\"1.0\"", "1.0");
}

static void test_quoted_scalars(void **state)
{
	ctx *c = *state;

	expect_str(c, "\"1\"", "1");
	expect_str(c, "'1'", "1");
	expect_str(c, "\"true\"", "true");
	expect_str(c, "'false'", "false");
	expect_str(c, "\"null\"", "null");
	expect_str(c, "'~'", "~");
	expect_str(c, "\"\"", "");
	expect_str(c, "''", "");
	expect_str(c, "\"0x1F\"", "0x1F");
	expect_str(c, "'it''s'", "it's");
	expect_str(c, "\"tab\\there\\n\"", "tab\there\n");
	expect_str(c, "\"\\u00e9\\u20ac\\U0001D11E\"", "é€𝄞");
	expect_str(c, "\"\\x41\\\\\\\"\"", "A\\\"");
	expect_str(c, "|\n  line one\n  line two\n", "line one\nline two\n");
	expect_str(c, ">-\n  folded\n  text\n", "folded text");
	expect_str(c, "|\n  123\n", "123\n");
	expect_str(c, "plain # a comment", "plain");

	/* a NUL written as an escape is part of the string */
	const mycel_value *v = scalar(c, "\"a\\0b\"");
	assert_int_equal(v->type, MYCEL_T_STR);
	assert_int_equal(v->v.s.len, 3);
	assert_memory_equal(v->v.s.ptr, "a\0b", 4);

	/* JSON strings are quoted: strings whatever they hold */
	const mycel_value *root = ok(c, "{\"a\": \"1\", \"b\": \"true\", \"c\": \"null\", \"d\": 1}");
	assert_int_equal(mycel_value_get(root, "a")->type, MYCEL_T_STR);
	assert_int_equal(mycel_value_get(root, "b")->type, MYCEL_T_STR);
	assert_int_equal(mycel_value_get(root, "c")->type, MYCEL_T_STR);
	assert_int_equal(mycel_value_get(root, "d")->type, MYCEL_T_UINT);
}

static void test_tags(void **state)
{
	ctx *c = *state;

	expect_str(c, "!!str 1", "1");
	expect_str(c, "!!str true", "true");
	expect_str(c, "!!str null", "null");
	expect_str(c, "!!str ~", "~");
	expect_str(c, "!!str", "");
	expect_str(c, "!!str 1.5", "1.5");
	expect_str(c, "! 12", "12");
	expect_str(c, "!<tag:yaml.org,2002:str> 7", "7");
	expect_uint(c, "!!int 42", 42);
	expect_uint(c, "!!int \"42\"", 42);
	expect_uint(c, "!!int '0x10'", 16);
	expect_int(c, "!!int -5", -5);
	expect_float(c, "!!float 1", 1.0);
	expect_float(c, "!!float -3", -3.0);
	expect_float(c, "!!float \"2.5\"", 2.5);
	expect_float(c, "!!float 1e3", 1000.0);
	expect_bool(c, "!!bool \"false\"", false);
	expect_bool(c, "!!bool True", true);
	expect_type(c, "!!null \"\"", MYCEL_T_NIL);
	expect_type(c, "!!null ~", MYCEL_T_NIL);
	expect_type(c, "!!null", MYCEL_T_NIL);

	/* a tag whose type does not fit the text */
	expect_bad(c, "!!int 1.5", 4, "not an integer");
	expect_bad(c, "!!int abc", 4, "not an integer");
	expect_bad(c, "!!int 18446744073709551616", 4, "out of range");
	expect_bad(c, "!!float abc", 4, "not a float");
	expect_bad(c, "!!float .inf", 4, NULL);
	expect_bad(c, "!!float \".nan\"", 4, NULL);
	expect_bad(c, "!!bool yes", 4, "not a boolean");
	expect_bad(c, "!!bool 1", 4, "not a boolean");
	expect_bad(c, "!!null x", 4, "not a null");
	expect_bad(c, "!!null \"false\"", 4, "not a null");

	/* unsupported tags */
	expect_bad(c, "!!binary aGVsbG8=", 4, "unsupported tag");
	expect_bad(c, "!!timestamp 2020-01-01", 4, "unsupported tag");
	expect_bad(c, "!foo bar", 4, "unsupported tag");
	expect_bad(c, "!<tag:example.com,2000:x> 1", 4, "unsupported tag");
	refused(c, "%TAG !e! tag:example.com,2000:\n---\nv: !e!thing 1\n", MYCEL_EFORMAT, 3, 4,
		"unsupported tag");
	/* ... also on containers, where only !!seq and !!map fit */
	expect_bad(c, "!!str [1]", 4, "unsupported tag");
	expect_bad(c, "!!set {a: null}", 4, "unsupported tag");
	expect_bad(c, "!!omap [a: 1]", 4, "unsupported tag");
	expect_bad(c, "!!seq {a: 1}", 4, "unsupported tag");
	expect_bad(c, "!!map [1]", 4, "unsupported tag");
	expect_bad(c, "!foo {a: 1}", 4, "unsupported tag");
	expect_bad(c, "!!map x", 4, "unsupported tag");
	expect_type(c, "!!seq [1]", MYCEL_T_ARRAY);
	expect_type(c, "!!map {a: 1}", MYCEL_T_MAP);
	expect_type(c, "! [1]", MYCEL_T_ARRAY);
	/* ... and on keys, which are strings */
	refused(c, "a: 1\n!!int 2: x\n", MYCEL_EFORMAT, 2, 1, "key");
	refused(c, "!foo k: x\n", MYCEL_EFORMAT, 1, 1, "key");
	const mycel_value *root = ok(c, "!!str 2: x\n");
	assert_non_null(mycel_value_get(root, "2"));
}

/* Keys are kept as their text; map members keep the document's order. */
static void test_keys_and_order(void **state)
{
	ctx *c = *state;
	const mycel_value *root;

	root = ok(c, "b: 1\na: 2\n1: three\ntrue: 4\nnull: 5\n\"q\": 6\n");
	assert_int_equal(root->type, MYCEL_T_MAP);
	assert_int_equal(root->v.m.len, 6);
	static const char *const keys[] = {"b", "a", "1", "true", "null", "q"};
	for (size_t i = 0; i < 6; i++) {
		assert_string_equal(root->v.m.items[i].key, keys[i]);
		assert_int_equal(root->v.m.items[i].key_len, strlen(keys[i]));
	}
	/* canonical form: sorted bytewise */
	expect_encoding(ok(c, "{b: 1, a: -1}"), "82a161ffa16201");
	expect_encoding(ok(c, "[1, -1, 1.5, x, true, null, {}, []]"),
			"9801ffcb3ff8000000000000a178c3c08090");
	expect_encoding(ok(c, "[18446744073709551615, -9223372036854775808]"),
			"92cfffffffffffffffffd38000000000000000");
	/* an empty key */
	root = ok(c, "\"\": 1\n");
	assert_int_equal(root->v.m.items[0].key_len, 0);
	/* a NUL inside a key, written as an escape */
	root = ok(c, "\"a\\0b\": 1\n");
	assert_int_equal(root->v.m.items[0].key_len, 3);
	assert_memory_equal(root->v.m.items[0].key, "a\0b", 4);
}

/* ---- positions ---------------------------------------------------------- */

static void test_positions_block(void **state)
{
	ctx *c = *state;
	const mycel_value *root, *list, *nested;

	root = ok(c, "name: demo\n"	    /* 1 */
		     "list:\n"		    /* 2 */
		     "  - 1\n"		    /* 3 */
		     "  - two\n"	    /* 4 */
		     "nested:\n"	    /* 5 */
		     "  deep:\n"	    /* 6 */
		     "    x: true\n"	    /* 7 */
		     "text: |\n"	    /* 8 */
		     "  hello\n"	    /* 9 */
		     "# comment\n"	    /* 10 */
		     "\n"		    /* 11 */
		     "last:   \"quoted\"\n" /* 12 */
		     "empty:\n");	    /* 13 */
	expect_pos(root, 1, 1);
	expect_pos(mycel_value_get(root, "name"), 1, 7);
	list = mycel_value_get(root, "list");
	expect_pos(list, 3, 3);
	expect_pos(&list->v.a.items[0], 3, 5);
	expect_pos(&list->v.a.items[1], 4, 5);
	nested = mycel_value_get(root, "nested");
	expect_pos(nested, 6, 3);
	expect_pos(mycel_value_get(nested, "deep"), 7, 5);
	expect_pos(mycel_value_get(mycel_value_get(nested, "deep"), "x"), 7, 8);
	expect_pos(mycel_value_get(root, "text"), 8, 7);
	expect_pos(mycel_value_get(root, "last"), 12, 9);
	assert_int_equal(mycel_value_get(root, "empty")->type, MYCEL_T_NIL);
	assert_true(mycel_value_get(root, "empty")->line >= 13);

	/* a top-level sequence, and CRLF line ends */
	root = ok(c, "- a\r\n- b\r\n-   c\r\n");
	expect_pos(root, 1, 1);
	expect_pos(&root->v.a.items[2], 3, 5);
	/* after a document start */
	root = ok(c, "---\n# c\nk: v\n");
	expect_pos(root, 3, 1);
	expect_pos(mycel_value_get(root, "k"), 3, 4);
}

static void test_positions_flow(void **state)
{
	ctx *c = *state;
	const mycel_value *root, *a, *inner;

	/*              1234567890123456789012345 */
	root = ok(c, "{a: [1, {b: x}], c: \"s\"}");
	expect_pos(root, 1, 1);
	a = mycel_value_get(root, "a");
	expect_pos(a, 1, 5);
	expect_pos(&a->v.a.items[0], 1, 6);
	inner = &a->v.a.items[1];
	expect_pos(inner, 1, 9);
	expect_pos(mycel_value_get(inner, "b"), 1, 13);
	expect_pos(mycel_value_get(root, "c"), 1, 21);

	/* flow inside block, over several lines */
	root = ok(c, "k:\n  - [1,\n     2]\n  - {x: 'y'}\n");
	a = mycel_value_get(root, "k");
	expect_pos(a, 2, 3);
	expect_pos(&a->v.a.items[0], 2, 5);
	expect_pos(&a->v.a.items[0].v.a.items[1], 3, 6);
	expect_pos(mycel_value_get(&a->v.a.items[1], "x"), 4, 9);
}

static void test_positions_json(void **state)
{
	ctx *c = *state;
	const mycel_value *root, *n, *o;

	root = ok(c, "{\n"				 /* 1 */
		     "  \"name\": \"demo\",\n"		 /* 2 */
		     "  \"n\": [1, 2.5, true, null],\n" /* 3 */
		     "  \"o\": {\"k\": -3},\n"		 /* 4 */
		     "\t\"t\":\t\"tab\"\n"		 /* 5 */
		     "}\n");
	expect_pos(root, 1, 1);
	expect_pos(mycel_value_get(root, "name"), 2, 11);
	n = mycel_value_get(root, "n");
	expect_pos(n, 3, 8);
	assert_int_equal(n->v.a.len, 4);
	expect_pos(&n->v.a.items[1], 3, 12);
	assert_int_equal(n->v.a.items[1].type, MYCEL_T_FLOAT);
	assert_int_equal(n->v.a.items[2].type, MYCEL_T_BOOL);
	assert_int_equal(n->v.a.items[3].type, MYCEL_T_NIL);
	expect_pos(&n->v.a.items[3], 3, 23);
	o = mycel_value_get(root, "o");
	expect_pos(o, 4, 8);
	expect_pos(mycel_value_get(o, "k"), 4, 14);
	assert_int_equal(mycel_value_get(o, "k")->type, MYCEL_T_INT);
	expect_pos(mycel_value_get(root, "t"), 5, 7);

	/* compact JSON, no spaces */
	root = ok(c, "{\"a\":1,\"b\":[true,false],\"c\":{\"d\":\"e\"},\"f\":-0.5e-2}");
	expect_pos(mycel_value_get(root, "a"), 1, 6);
	expect_pos(mycel_value_get(root, "b"), 1, 12);
	expect_float(c, "-0.5e-2", -0.5e-2);
	expect_encoding(ok(c, "{\"b\":[true,false],\"a\":1}"), "82a16101a16292c3c2");
	/* a JSON document with a duplicate key is refused as well */
	refused(c, "{\n  \"a\": 1,\n  \"a\": 2\n}\n", MYCEL_EFORMAT, 3, 3, "duplicate");
}

/* JSON's escaped surrogate pairs (how JSON writes characters beyond U+FFFF). */
static void test_json_surrogates(void **state)
{
	ctx *c = *state;
	const mycel_value *root = ok(c, "{\"a\": \"\\uD83D\\uDCA9!\", \"b\": [\"x\\\\uD83D\", \"\\u00e9\"]}");
	const mycel_value *v = mycel_value_get(root, "a");
	assert_int_equal(v->type, MYCEL_T_STR);
	assert_int_equal(v->v.s.len, 5);
	assert_memory_equal(v->v.s.ptr, "\xf0\x9f\x92\xa9!", 5);
	/* an escaped backslash before "uD83D" is text, not an escape */
	v = mycel_value_get(root, "b");
	assert_string_equal(v->v.a.items[0].v.s.ptr, "x\\uD83D");
	assert_string_equal(v->v.a.items[1].v.s.ptr, "\xc3\xa9");
	/* columns after a rewritten pair on its line shift left by 2 (29 in the text) */
	expect_pos(mycel_value_get(root, "b"), 1, 27);
	/* a lone surrogate is not a character: refused */
	assert_int_equal(parse(c, "{\"a\": \"\\uD83D\"}"), MYCEL_EFORMAT);
	/* in YAML (not JSON) text nothing is rewritten */
	root = ok(c, "a: \\uD83D\\uDCA9\n");
	assert_string_equal(mycel_value_get(root, "a")->v.s.ptr, "\\uD83D\\uDCA9");
}

/* ---- refusals ----------------------------------------------------------- */

static void test_duplicate_keys(void **state)
{
	ctx *c = *state;
	text t = {NULL, 0, 0};

	refused(c, "a: 1\nb: 2\na: 3\n", MYCEL_EFORMAT, 3, 1, "line 1");
	refused(c, "{a: 1, b: 2, a: 3}", MYCEL_EFORMAT, 1, 14, "duplicate key \"a\"");
	refused(c, "\"a\": 1\n'a': 2\n", MYCEL_EFORMAT, 2, 1, "duplicate");
	refused(c, "a: 1\n\"\\x61\": 2\n", MYCEL_EFORMAT, 2, 1, "duplicate");
	refused(c, "top:\n  - x: 1\n    y: 2\n    x: 3\n", MYCEL_EFORMAT, 4, 5, "line 2");
	/* named at the key, also when the value is on the next line or an alias */
	refused(c, "a:\n  - 1\nb: 2\na:\n  - 2\n", MYCEL_EFORMAT, 4, 1, "first at line 1");
	refused(c, "x: &v\n  p: 1\na: 1\nb: 2\na: *v\n", MYCEL_EFORMAT, 5, 1,
		"first at line 3");
	/* the same key in different maps is fine */
	ok(c, "a: {a: 1}\nb: {a: 2}\n");
	/* keys differing only in length or case */
	ok(c, "a: 1\naa: 2\nA: 3\n\"a \": 4\n");
	/* the empty key twice */
	refused(c, "\"\": 1\n'': 2\n", MYCEL_EFORMAT, 2, 1, "duplicate");

	/* more than 16 keys: the sorted path */
	for (int i = 0; i < 40; i++)
		add(&t, "k%02d: %d\n", i, i);
	ok(c, t.p);
	add(&t, "k07: again\n"); /* line 41 */
	refused(c, t.p, MYCEL_EFORMAT, 41, 1, "first at line 8");
	/* the first occurrence late in the map, the duplicate later still */
	t.len = 0;
	for (int i = 39; i >= 0; i--)
		add(&t, "k%02d: %d\n", i, i);
	add(&t, "k00: again\n"); /* line 41; k00 first at line 40 */
	refused(c, t.p, MYCEL_EFORMAT, 41, 1, "\"k00\" (first at line 40)");
	/* three times: the second is named, after the first */
	t.len = 0;
	add(&t, "x: &v 1\n");
	for (int i = 0; i < 20; i++)
		add(&t, "k%02d: *v\n", i);
	add(&t, "k03: *v\n"); /* line 22 */
	add(&t, "k03: *v\n");
	refused(c, t.p, MYCEL_EFORMAT, 22, 1, "first at line 5");
	/* flow style, many keys */
	t.len = 0;
	add(&t, "{");
	for (int i = 0; i < 30; i++)
		add(&t, "%s\"key%d\": %d", i ? ", " : "", i % 29, i);
	add(&t, "}");
	assert_int_equal(parse(c, t.p), MYCEL_EFORMAT);
	expect_finding(c, 1, 0, "\"key0\"");
	free(t.p);
}

static void test_nonscalar_keys(void **state)
{
	ctx *c = *state;

	refused(c, "? [a, b]\n: 1\n", MYCEL_EFORMAT, 1, 3, "key");
	refused(c, "? {a: 1}\n: 1\n", MYCEL_EFORMAT, 1, 3, "key");
	refused(c, "{[a]: 1}", MYCEL_EFORMAT, 1, 2, "key");
	refused(c, "{{a: 1}: 1}", MYCEL_EFORMAT, 1, 2, "key");
	refused(c, "x:\n  ? - 1\n  : v\n", MYCEL_EFORMAT, 2, 5, "key");
	/* a complex key that is a scalar is a key like any other */
	const mycel_value *root = ok(c, "? long key\n: 1\n");
	assert_non_null(mycel_value_get(root, "long key"));
}

static void test_documents(void **state)
{
	ctx *c = *state;

	refused(c, "a: 1\n---\nb: 2\n", MYCEL_EFORMAT, 2, 1, "more than one document");
	refused(c, "---\na: 1\n---\nb: 2\n", MYCEL_EFORMAT, 3, 1, "more than one document");
	refused(c, "a\n...\n---\nb\n", MYCEL_EFORMAT, 3, 1, "document");
	refused(c, "---\na\n---\n", MYCEL_EFORMAT, 3, 1, "document");
	ok(c, "---\na: 1\n...\n");
	ok(c, "%YAML 1.1\n---\na: 1\n");
	ok(c, "a: 1\n...\n# trailing comment\n");
	/* no document at all */
	refused(c, "", MYCEL_EFORMAT, 1, 1, "empty");
	refused(c, "# just a comment\n", MYCEL_EFORMAT, 1, 1, "empty");
	refused(c, "\n\n   \n", MYCEL_EFORMAT, 1, 1, "empty");
	assert_int_equal(parse_n(c, NULL, 0, NULL), MYCEL_EFORMAT);
	assert_int_equal(parse_n(c, "a: 1", 0, NULL), MYCEL_EFORMAT);
}

static void test_syntax_errors(void **state)
{
	ctx *c = *state;

	refused(c, "a: 1\n  b: 2\n", MYCEL_EFORMAT, 2, 4, "not allowed");
	refused(c, "a: b: c\n", MYCEL_EFORMAT, 1, 5, NULL);
	refused(c, "a: [1, 2\n", MYCEL_EFORMAT, 2, 1, "flow sequence");
	refused(c, "a: {b: 1\n", MYCEL_EFORMAT, 2, 1, "flow mapping");
	refused(c, "k: \"unterminated\n", MYCEL_EFORMAT, 2, 1, "quoted scalar");
	refused(c, "\tbad: 1\n", MYCEL_EFORMAT, 1, 1, NULL);
	refused(c, "- a\n b: 1\n", MYCEL_EFORMAT, 2, 3, NULL);
	refused(c, "a: 1\nb: 2\n- c\n", MYCEL_EFORMAT, 3, 1, NULL);
	refused(c, "\"\\q\"\n", MYCEL_EFORMAT, 1, 0, NULL);
	refused(c, "a: @x\n", MYCEL_EFORMAT, 1, 4, NULL);
	refused(c, "]\n", MYCEL_EFORMAT, 1, 1, NULL);
	refused(c, "{\"a\": 1,, \"b\": 2}", MYCEL_EFORMAT, 1, 0, NULL);
	refused(c, "...\n", MYCEL_EFORMAT, 1, 1, NULL);
	/* JSON with a trailing comma is fine YAML; a missing comma is not */
	ok(c, "{\"a\": [1, 2,],}");
	refused(c, "{\"a\": 1 \"b\": 2}", MYCEL_EFORMAT, 1, 0, NULL);
}

/* n nested sequences around a 1, flow style. */
static char *nested(unsigned n)
{
	char *s = malloc(2 * n + 2);

	assert_non_null(s);
	memset(s, '[', n);
	s[n] = '1';
	memset(s + n + 1, ']', n);
	s[2 * n + 1] = '\0';
	return s;
}

static void test_depth(void **state)
{
	ctx *c = *state;
	mycel_doc_limits lim = {0, 0, 0, 0};
	text t = {NULL, 0, 0};
	char *s;

	s = nested(32);
	assert_int_equal(height(ok(c, s)), 32);
	{
		mycel_buf b;
		mycel_value *back = NULL;

		encode(c->v, &b);
		assert_int_equal(mycel_value_decode(b.data, b.len, b.len, c->a, &back, NULL), 0);
		mycel_buf_fini(&b);
	}
	free(s);
	s = nested(33);
	refused(c, s, MYCEL_EFORMAT, 1, 33, "deeper than 32");
	free(s);
	s = nested(1000);
	refused(c, s, MYCEL_EFORMAT, 1, 33, "deeper than 32");
	free(s);

	/* block style: 32 nested maps, then 33 */
	for (int i = 0; i < 31; i++)
		add(&t, "%*sk%d:\n", 2 * i, "", i);
	add(&t, "%*sleaf: 1\n", 62, "");
	assert_int_equal(height(ok(c, t.p)), 32);
	t.len = 0;
	for (int i = 0; i < 32; i++)
		add(&t, "%*sk%d:\n", 2 * i, "", i);
	add(&t, "%*sleaf: 1\n", 64, "");
	refused(c, t.p, MYCEL_EFORMAT, 33, 65, "deeper");

	/* a lower limit, and a limit above 32 is 32 */
	lim.max_depth = 3;
	assert_int_equal(parse_lim(c, "[[[1]]]", &lim), 0);
	assert_int_equal(parse_lim(c, "[[[[1]]]]", &lim), MYCEL_EFORMAT);
	expect_finding(c, 1, 4, "deeper than 3");
	lim.max_depth = 100;
	s = nested(33);
	assert_int_equal(parse_lim(c, s, &lim), MYCEL_EFORMAT);
	free(s);

	/* depth reached through an alias counts as well */
	t.len = 0;
	add(&t, "- &a ");
	for (int i = 0; i < 16; i++)
		add(&t, "[");
	add(&t, "1");
	for (int i = 0; i < 16; i++)
		add(&t, "]");
	add(&t, "\n- ");
	for (int i = 0; i < 15; i++)
		add(&t, "[");
	add(&t, "*a");
	for (int i = 0; i < 15; i++)
		add(&t, "]");
	add(&t, "\n");
	assert_int_equal(height(ok(c, t.p)), 32);
	{
		mycel_buf b;

		encode(c->v, &b);
		mycel_buf_fini(&b);
	}
	t.len = 0;
	add(&t, "- &a ");
	for (int i = 0; i < 16; i++)
		add(&t, "[");
	add(&t, "1");
	for (int i = 0; i < 16; i++)
		add(&t, "]");
	add(&t, "\n- ");
	for (int i = 0; i < 16; i++)
		add(&t, "[");
	add(&t, "*a");
	for (int i = 0; i < 16; i++)
		add(&t, "]");
	add(&t, "\n");
	refused(c, t.p, MYCEL_EFORMAT, 2, 19, "deeper than 32");
	/* an anchor 30 deep used 30 deep again: without the check, 60 levels */
	t.len = 0;
	add(&t, "- &a ");
	for (int i = 0; i < 30; i++)
		add(&t, "[");
	for (int i = 0; i < 30; i++)
		add(&t, "]");
	add(&t, "\n- ");
	for (int i = 0; i < 30; i++)
		add(&t, "[");
	add(&t, "*a");
	for (int i = 0; i < 30; i++)
		add(&t, "]");
	add(&t, "\n");
	refused(c, t.p, MYCEL_EFORMAT, 2, 33, "through alias *a");
	free(t.p);
}

static void test_aliases(void **state)
{
	ctx *c = *state;
	mycel_doc_limits lim = {0, 0, 0, 0};
	const mycel_value *root, *base, *u1, *u2;
	const char *doc = "base: &b {x: 1, y: [1, 2]}\n"
			  "use1: *b\n"
			  "use2: *b\n";

	root = ok(c, doc);
	base = mycel_value_get(root, "base");
	u1 = mycel_value_get(root, "use1");
	u2 = mycel_value_get(root, "use2");
	assert_int_equal(u1->type, MYCEL_T_MAP);
	/* shared, not copied */
	assert_ptr_equal(u1->v.m.items, base->v.m.items);
	assert_ptr_equal(u2->v.m.items, base->v.m.items);
	assert_int_equal(u1->v.m.len, 2);
	expect_encoding(root,
			"83a462617365" "82a17801a1799201" "02"
			"a475736531" "82a17801a1799201" "02"
			"a475736532" "82a17801a1799201" "02");

	/* counted: {x: 1, y: [1, 2]} is 7 values (keys included), twice */
	lim.max_alias = 14;
	assert_int_equal(parse_lim(c, doc, &lim), 0);
	lim.max_alias = 13;
	assert_int_equal(parse_lim(c, doc, &lim), MYCEL_ETOOBIG);
	expect_finding(c, 3, 7, "alias");
	/* and counted as nodes: 1 root + 3 keys + 7 + 14 */
	lim.max_alias = 0;
	lim.max_nodes = 25;
	assert_int_equal(parse_lim(c, doc, &lim), 0);
	lim.max_nodes = 24;
	assert_int_equal(parse_lim(c, doc, &lim), MYCEL_ETOOBIG);
	expect_finding(c, 3, 7, NULL);

	/* nested aliases count their whole expansion */
	lim = (mycel_doc_limits){0, 0, 0, 0};
	lim.max_alias = 3 + 3 * 4;
	const char *nest = "a: &a [1, 2]\n"	  /* 3 values */
			   "b: &b [*a, *a, *a]\n" /* 3 * 3 aliased + 1 = 10 */
			   "c: *b\n";		  /* 10 more */
	assert_int_equal(parse_lim(c, nest, &lim), MYCEL_ETOOBIG);
	expect_finding(c, 3, 4, NULL);
	lim.max_alias = 19;
	assert_int_equal(parse_lim(c, nest, &lim), 0);

	/* a scalar anchor, and an anchor reused many times */
	root = ok(c, "- &s hello\n- *s\n- [*s, *s]\n- {k: *s}\n");
	assert_string_equal(root->v.a.items[1].v.s.ptr, "hello");
	assert_string_equal(root->v.a.items[2].v.a.items[1].v.s.ptr, "hello");
	assert_string_equal(mycel_value_get(&root->v.a.items[3], "k")->v.s.ptr, "hello");
	/* an anchored scalar keeps its type */
	root = ok(c, "- &n 12\n- *n\n- &f 1.5\n- *f\n- &z ~\n- *z\n");
	assert_int_equal(root->v.a.items[1].type, MYCEL_T_UINT);
	assert_int_equal(root->v.a.items[3].type, MYCEL_T_FLOAT);
	assert_int_equal(root->v.a.items[5].type, MYCEL_T_NIL);
}

static void test_anchor_redefined(void **state)
{
	ctx *c = *state;
	const mycel_value *root;

	root = ok(c, "- &a 1\n- *a\n- &a two\n- *a\n- *a\n");
	assert_int_equal(root->v.a.len, 5);
	assert_int_equal(root->v.a.items[1].type, MYCEL_T_UINT);
	assert_int_equal(root->v.a.items[1].v.u, 1);
	assert_int_equal(root->v.a.items[3].type, MYCEL_T_STR);
	assert_string_equal(root->v.a.items[4].v.s.ptr, "two");
	/* redefined by a container, and back */
	root = ok(c, "- &a x\n- &a [1]\n- *a\n- &a {k: v}\n- *a\n");
	assert_int_equal(root->v.a.items[2].type, MYCEL_T_ARRAY);
	assert_int_equal(root->v.a.items[4].type, MYCEL_T_MAP);
	/* an anchor inside the anchored node comes later, so it wins */
	root = ok(c, "- &a [&a 1]\n- *a\n");
	assert_int_equal(root->v.a.items[1].type, MYCEL_T_UINT);
	/* an alias to the node it is in (recursion) is refused */
	refused(c, "&a [*a]\n", MYCEL_EFORMAT, 1, 5, "*a");
	refused(c, "- &a 1\n- &a [2, *a]\n", MYCEL_EFORMAT, 2, 10, "*a");
	refused(c, "a: &m\n  b: *m\n", MYCEL_EFORMAT, 2, 6, "*m");
	/* many anchors, many names */
	text t = {NULL, 0, 0};
	for (int i = 0; i < 5000; i++)
		add(&t, "- &anchor%d %d\n", i, i);
	for (int i = 0; i < 5000; i += 7)
		add(&t, "- *anchor%d\n", i);
	root = ok(c, t.p);
	assert_int_equal(root->v.a.len, 5000 + 715);
	assert_int_equal(root->v.a.items[5000 + 714].v.u, 4998);
	free(t.p);
}

static void test_alias_refusals(void **state)
{
	ctx *c = *state;

	refused(c, "a: *nope\n", MYCEL_EFORMAT, 1, 4, "*nope");
	refused(c, "a: &x 1\nb: *y\n", MYCEL_EFORMAT, 2, 4, "unknown alias");
	refused(c, "- *later\n- &later 1\n", MYCEL_EFORMAT, 1, 3, "unknown alias");
	/* an alias as a key */
	refused(c, "- &k a\n- {*k : 1}\n", MYCEL_EFORMAT, 2, 4, "key");
	refused(c, "x: &k a\n*k : 1\n", MYCEL_EFORMAT, 2, 1, "key");
	refused(c, "x: &k [a]\n? *k\n: 1\n", MYCEL_EFORMAT, 2, 3, "key");
}

static void test_billion_laughs(void **state)
{
	ctx *c = *state;
	text t = {NULL, 0, 0};
	double t0;
	int rc;

	add(&t, "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
	for (char x = 'b'; x <= 'j'; x++) {
		add(&t, "%c: &%c [", x, x);
		for (int i = 0; i < 9; i++)
			add(&t, "%s*%c", i ? "," : "", x - 1);
		add(&t, "]\n");
	}
	t0 = seconds();
	rc = parse(c, t.p);
	assert_int_equal(rc, MYCEL_ETOOBIG);
	assert_true(seconds() - t0 < 2.0);
	expect_finding(c, 6, 0, "alias");

	/* the same with a generous node limit: the alias budget stops it */
	mycel_doc_limits lim = {0, (size_t)1 << 40, 0, 0};
	t0 = seconds();
	assert_int_equal(parse_lim(c, t.p, &lim), MYCEL_ETOOBIG);
	assert_true(seconds() - t0 < 2.0);

	/* a wide one: one list of a million aliases to a big anchor */
	t.len = 0;
	add(&t, "a: &a [");
	for (int i = 0; i < 1000; i++)
		add(&t, "%s%d", i ? "," : "", i);
	add(&t, "]\nb: [");
	for (int i = 0; i < 1000000; i++)
		add(&t, "%s*a", i ? "," : "");
	add(&t, "]\n");
	t0 = seconds();
	assert_int_equal(parse(c, t.p), MYCEL_ETOOBIG);
	assert_true(seconds() - t0 < 5.0);
	expect_finding(c, 2, 0, "alias");

	/*
	 * Many distinct anchors, then as many aliases as the budget allows to
	 * the first one: finding an anchor must not take time linear in their
	 * number (this took minutes when the anchors were a list).
	 */
	t.len = 0;
	for (int i = 0; i < 300000; i++)
		add(&t, "- &n%d %d\n", i, i);
	for (int i = 0; i < 99000; i++)
		add(&t, "- *n0\n");
	t0 = seconds();
	assert_int_equal(parse(c, t.p), 0);
	assert_int_equal(c->v->v.a.len, 399000);
	assert_true(seconds() - t0 < 30.0);
	free(t.p);
}

static void test_limits(void **state)
{
	ctx *c = *state;
	mycel_doc_limits lim = {0, 0, 0, 0};
	const char *doc = "{a: [1, 2, 3], b: x}"; /* 20 bytes, 8 values */

	lim.max_bytes = 20;
	assert_int_equal(parse_lim(c, doc, &lim), 0);
	lim.max_bytes = 19;
	assert_int_equal(parse_lim(c, doc, &lim), MYCEL_ETOOBIG);
	assert_int_equal(c->d.len, 1);
	assert_non_null(strstr(c->d.items[0].message, "19"));

	lim.max_bytes = 0;
	lim.max_nodes = 8;
	assert_int_equal(parse_lim(c, doc, &lim), 0);
	lim.max_nodes = 7;
	assert_int_equal(parse_lim(c, doc, &lim), MYCEL_ETOOBIG);
	expect_finding(c, 1, 0, "more than 7 values");
	lim.max_nodes = 1;
	assert_int_equal(parse_lim(c, "x", &lim), 0);
	assert_int_equal(parse_lim(c, "[x]", &lim), MYCEL_ETOOBIG);

	/* NULL limits and zeroed limits are the defaults */
	assert_int_equal(parse_lim(c, doc, NULL), 0);
	lim = (mycel_doc_limits){0, 0, 0, 0};
	assert_int_equal(parse_lim(c, doc, &lim), 0);

	/* the default input limit is 16 MiB */
	size_t big = 16 * MIB + 1;
	char *s = malloc(big + 1);
	assert_non_null(s);
	memset(s, ' ', big);
	s[0] = 'x';
	s[big] = '\0';
	assert_int_equal(parse_n(c, s, big, NULL), MYCEL_ETOOBIG);
	assert_int_equal(parse_n(c, s, big - 1, NULL), 0);
	free(s);

	/* the default node limit is 4 M: a list of 4 M + 1 values (4 Mi 'x' items) */
	size_t items = (size_t)4 << 20;
	s = malloc(2 * items + 3);
	assert_non_null(s);
	s[0] = '[';
	for (size_t i = 0; i < items; i++) {
		s[1 + 2 * i] = 'x';
		s[2 + 2 * i] = ',';
	}
	s[2 * items] = ']';
	assert_int_equal(parse_n(c, s, 2 * items + 1, NULL), MYCEL_ETOOBIG);
	s[2 * items - 2] = ']'; /* one item fewer: 4 Mi values with the list */
	assert_int_equal(parse_n(c, s, 2 * items - 1, NULL), 0);
	assert_int_equal(c->v->v.a.len, items - 1);
	free(s);
}

static void test_utf8(void **state)
{
	ctx *c = *state;

	ok(c, "name: \"héllo € 𝄞\"\nkey-é: ünïcödé\n");
	refused(c, "a: 1\nb: x\xffy\n", MYCEL_EFORMAT, 2, 5, "UTF-8");
	refused(c, "a: \"\xc3\x28\"\n", MYCEL_EFORMAT, 1, 0, "UTF-8");
	refused(c, "\xc0\xaf: 1\n", MYCEL_EFORMAT, 1, 1, NULL);			/* overlong */
	refused(c, "a: \xed\xa0\x80\n", MYCEL_EFORMAT, 1, 4, NULL);		/* surrogate */
	refused(c, "a: \xf4\x90\x80\x80\n", MYCEL_EFORMAT, 1, 4, NULL);	/* > U+10FFFF */
	refused(c, "a: b\n# comment \xfe\n", MYCEL_EFORMAT, 2, 11, NULL);	/* in a comment */
	refused(c, "a: 1\nb: 2\nc: x\xe2\x82", MYCEL_EFORMAT, 3, 5, NULL); /* cut short */
	refused(c, "k: \"\\uD800\"\n", MYCEL_EFORMAT, 1, 0, NULL);		/* escaped surrogate */
	refused(c, "a: \x01\n", MYCEL_EFORMAT, 1, 4, "control");
	/* a raw NUL byte is not the end of the text */
	assert_int_equal(parse_n(c, "a: 1\0\nb: 2\n", 12, NULL), MYCEL_EFORMAT);
	expect_finding(c, 1, 5, "control");
	assert_int_equal(parse_n(c, "a: é\nb: \0", 11, NULL), MYCEL_EFORMAT);
	expect_finding(c, 2, 4, NULL);
}

static void test_load(void **state)
{
	ctx *c = *state;
	mycel_doc_limits lim = {0, 0, 0, 0};
	char path[] = "/tmp/mycel-test-doc-XXXXXX";
	const char *doc = "a: 1\nb: [x, y]\n";
	mycel_value *v = NULL;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, doc, strlen(doc)), (ssize_t)strlen(doc));
	close(fd);
	mycel_diags_clear(&c->d);
	assert_int_equal(mycel_doc_load(path, NULL, c->a, &v, &c->d), 0);
	assert_non_null(v);
	assert_int_equal(mycel_value_get(v, "b")->v.a.len, 2);
	expect_pos(mycel_value_get(v, "b"), 2, 4);
	lim.max_bytes = 5;
	v = NULL;
	assert_int_equal(mycel_doc_load(path, &lim, c->a, &v, &c->d), MYCEL_ETOOBIG);
	assert_null(v);
	unlink(path);
	mycel_diags_clear(&c->d);
	assert_int_equal(mycel_doc_load(path, NULL, c->a, &v, &c->d), MYCEL_ENOTFOUND);
	assert_null(v);
	assert_true(c->d.len >= 1);
	/* diags may be NULL */
	assert_int_equal(mycel_doc_load(path, NULL, c->a, &v, NULL), MYCEL_ENOTFOUND);
	assert_int_equal(mycel_doc_parse("a: [", 4, NULL, c->a, &v, NULL), MYCEL_EFORMAT);
	assert_null(v);
}

/* ---- the reference corpus ----------------------------------------------- */

static size_t load_dir(ctx *c, const char *root, const char *sub, const char *suffix)
{
	char dir[4096], path[4096 + 258];
	struct dirent **names;
	size_t count = 0;
	int n;

	snprintf(dir, sizeof(dir), "%s/%s", root, sub);
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		fail_msg("cannot list %s", dir);
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		size_t len = strlen(name), sl = strlen(suffix);
		mycel_value *v = NULL, *back = NULL;
		mycel_decode_err e;
		mycel_buf b, b2;
		int rc;

		if (name[0] == '.' || len < sl || strcmp(name + len - sl, suffix) != 0) {
			free(names[i]);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		mycel_diags_clear(&c->d);
		rc = mycel_doc_load(path, NULL, c->a, &v, &c->d);
		if (rc != 0)
			fail_msg("%s: %s at %u:%u: %s", path, mycel_errname(rc),
				 c->d.len ? c->d.items[0].line : 0, c->d.len ? c->d.items[0].col : 0,
				 c->d.len ? c->d.items[0].message : "");
		assert_int_equal(v->type, MYCEL_T_MAP);
		assert_true(v->line >= 1 && v->col >= 1);
		/* canonical: encodes, decodes strictly, encodes to the same bytes */
		encode(v, &b);
		rc = mycel_value_decode(b.data, b.len, b.len, c->a, &back, &e);
		if (rc != 0)
			fail_msg("%s: encoding does not decode: %s", path, mycel_errname(rc));
		encode(back, &b2);
		assert_int_equal(b.len, b2.len);
		assert_memory_equal(b.data, b2.data, b.len);
		mycel_buf_fini(&b2);
		mycel_buf_fini(&b);
		count++;
		free(names[i]);
	}
	free(names);
	return count;
}

static void test_corpus(void **state)
{
	ctx *c = *state;
	const char *root = getenv("MYCEL_CORPUS");
	char probe[4096];
	DIR *d;

	if (root == NULL || root[0] == '\0')
		root = DEFAULT_CORPUS;
	snprintf(probe, sizeof(probe), "%s/odcs", root);
	if ((d = opendir(probe)) == NULL) {
		print_message("corpus %s is absent (set MYCEL_CORPUS); skipping\n", root);
		skip();
	}
	closedir(d);
	assert_true(load_dir(c, root, "odcs/examples", ".yaml") >= 40);
	assert_true(load_dir(c, root, "odcs/invalid", ".yaml") >= 10);
	assert_true(load_dir(c, root, "odps/examples", ".yaml") >= 2);
	assert_true(load_dir(c, root, "odcs/schema", ".json") >= 5);
	assert_true(load_dir(c, root, "odps/schema", ".json") >= 2);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_null_forms),	      T(test_bool_forms),	  T(test_strings_stay_strings),
	    T(test_integers),	      T(test_floats),		  T(test_quoted_scalars),
	    T(test_tags),	      T(test_keys_and_order),	  T(test_positions_block),
	    T(test_positions_flow),   T(test_positions_json),	  T(test_json_surrogates), T(test_duplicate_keys),
	    T(test_nonscalar_keys),   T(test_documents),	  T(test_syntax_errors),
	    T(test_depth),	      T(test_aliases),		  T(test_anchor_redefined),
	    T(test_alias_refusals),   T(test_billion_laughs),	  T(test_limits),
	    T(test_utf8),	      T(test_load),		  T(test_corpus),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
