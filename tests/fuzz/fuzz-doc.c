/*
 * fuzz-doc.c — the YAML/JSON reader on untrusted text, with small limits
 * (64 KiB of input, 100 000 values, 10 000 from aliases). A refusal must be
 * one of the contract's codes with at least one finding (placed at a line and
 * column for EFORMAT) and leave the output untouched; an accepted tree must
 * keep every promise of doc.h and codec.h (valid types, finite floats,
 * negative INTs, valid UTF-8, positions, depth at most 32), encode
 * canonically (or hit the 16 MiB output limit, which aliases can reach), and
 * its encoding must decode strictly and encode again to the same bytes.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/codec.h"
#include "mycel/diag.h"
#include "mycel/doc.h"
#include "mycel/error.h"

#define MAX_INPUT ((size_t)64 << 10)
#define ARENA_LIMIT ((size_t)64 << 20)
#define OUTPUT_LIMIT ((size_t)16 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, int rv)
{
	fprintf(stderr, "fuzz-doc: %s (%s)\n", what, mycel_errname(rv));
	abort();
}

/* Checks the tree's invariants; returns the number of values visited. */
static size_t check_tree(const mycel_value *v, int depth)
{
	size_t n = 1;

	if (v->line == 0 || v->col == 0)
		die("value without a position", 0);
	switch (v->type) {
	case MYCEL_T_NIL:
	case MYCEL_T_BOOL:
	case MYCEL_T_UINT:
		break;
	case MYCEL_T_INT:
		if (v->v.i >= 0)
			die("INT value that is not negative", 0);
		break;
	case MYCEL_T_FLOAT:
		if (!isfinite(v->v.f))
			die("float that is not finite", 0);
		break;
	case MYCEL_T_STR:
		if (v->v.s.ptr == NULL || v->v.s.ptr[v->v.s.len] != '\0' ||
		    !mycel_utf8_valid((const uint8_t *)v->v.s.ptr, v->v.s.len))
			die("string not NUL-terminated or not UTF-8", 0);
		break;
	case MYCEL_T_ARRAY:
		if (depth >= MYCEL_MAX_DEPTH)
			die("tree deeper than 32", 0);
		if (v->v.a.len > 0 && v->v.a.items == NULL)
			die("array without items", 0);
		for (size_t i = 0; i < v->v.a.len; i++)
			n += check_tree(&v->v.a.items[i], depth + 1);
		break;
	case MYCEL_T_MAP:
		if (depth >= MYCEL_MAX_DEPTH)
			die("tree deeper than 32", 0);
		if (v->v.m.len > 0 && v->v.m.items == NULL)
			die("map without members", 0);
		for (size_t i = 0; i < v->v.m.len; i++) {
			const mycel_member *m = &v->v.m.items[i];

			if (m->key == NULL || m->key[m->key_len] != '\0' ||
			    !mycel_utf8_valid((const uint8_t *)m->key, m->key_len))
				die("key not NUL-terminated or not UTF-8", 0);
			n += 1 + check_tree(&m->val, depth + 1);
		}
		break;
	default:
		die("value of an unknown type (or BIN) from text", (int)v->type);
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const mycel_doc_limits lim = {MAX_INPUT, 100000, 10000, 0};
	mycel_arena *a = NULL, *a2 = NULL;
	mycel_value *const sentinel = (mycel_value *)&lim;
	mycel_value *v = sentinel, *back = NULL;
	mycel_decode_err e;
	mycel_diags d;
	mycel_buf b, b2;
	int rc;

	if (size > MAX_INPUT)
		return 0;
	if (mycel_arena_new(ARENA_LIMIT, &a) != 0)
		return 0;
	mycel_diags_init(&d, 16);
	rc = mycel_doc_parse((const char *)data, size, &lim, a, &v, &d);
	if (rc != 0) {
		if (rc != MYCEL_EFORMAT && rc != MYCEL_ETOOBIG)
			die("unexpected code", rc);
		if (v != sentinel)
			die("output written on failure", rc);
		if (d.len == 0)
			die("refusal without a finding", rc);
		for (size_t i = 0; i < d.len; i++) {
			if (d.items[i].message == NULL || d.items[i].message[0] == '\0' ||
			    d.items[i].pointer == NULL)
				die("finding without a message", rc);
			if (rc == MYCEL_EFORMAT && (d.items[i].line == 0 || d.items[i].col == 0))
				die("EFORMAT finding without a position", rc);
		}
		goto done;
	}
	if (v == NULL || v == sentinel || d.len != 0)
		die("success without a tree, or with findings", 0);
	if (check_tree(v, 0) > lim.max_nodes)
		die("more values than max_nodes", 0);

	mycel_buf_init(&b, OUTPUT_LIMIT);
	rc = mycel_value_encode(v, &b);
	if (rc == 0) {
		/* Every value takes at least a byte; 64 bytes a byte bounds the tree. */
		if (mycel_arena_new(64 * b.len + 4096, &a2) != 0)
			die("arena", 0);
		rc = mycel_value_decode(b.data, b.len, b.len, a2, &back, &e);
		if (rc != 0)
			die("canonical encoding does not decode", rc);
		mycel_buf_init(&b2, b.len);
		if ((rc = mycel_value_encode(back, &b2)) != 0)
			die("decoded tree does not encode", rc);
		if (b2.len != b.len || memcmp(b2.data, b.data, b.len) != 0)
			die("second encoding differs", 0);
		mycel_buf_fini(&b2);
		mycel_arena_free(a2);
	} else if (rc != MYCEL_ETOOBIG) {
		/* not EDEPTH either: the reader refuses trees deeper than 32, aliases included */
		die("accepted tree does not encode", rc);
	}
	mycel_buf_fini(&b);
done:
	mycel_diags_fini(&d);
	mycel_arena_free(a);
	return 0;
}
