/*
 * fuzz-codec.c — the strict decoder against the canonical encoder: whatever
 * decodes must re-encode to exactly the input bytes (every value has one
 * encoding), and mycel_rd_skip must accept and refuse exactly what the tree
 * decoder does, with the same code.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/codec.h"

#define MAX_INPUT ((size_t)1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, int a, int b)
{
	fprintf(stderr, "fuzz-codec: %s (%s, %s)\n", what, mycel_errname(a), mycel_errname(b));
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mycel_arena *a;
	mycel_value *v = NULL;
	mycel_decode_err e;
	mycel_buf b;
	mycel_rd r;
	int rc, skip_rc;

	/* The tree takes at most a few dozen bytes per input byte; never ENOMEM here. */
	if (mycel_arena_new(64 * (size < MAX_INPUT ? size : MAX_INPUT) + 4096, &a) != 0)
		return 0;
	rc = mycel_value_decode(data, size, MAX_INPUT, a, &v, &e);
	if (rc != e.code || (rc == 0) != (v != NULL) || (rc != 0 && e.offset > size))
		die("decode result inconsistent", rc, e.code);
	if (rc == MYCEL_ENOMEM)
		die("arena exhausted", rc, 0);

	mycel_rd_init(&r, data, size);
	skip_rc = mycel_rd_skip(&r, 0);
	if (skip_rc == 0)
		skip_rc = mycel_rd_end(&r);
	if (rc != MYCEL_ETOOBIG && skip_rc != rc)
		die("mycel_rd_skip disagrees with mycel_value_decode", skip_rc, rc);

	if (rc == 0) {
		mycel_buf_init(&b, size + 1);
		rc = mycel_value_encode(v, &b);
		if (rc != 0)
			die("decoded value does not re-encode", rc, 0);
		if (b.len != size || memcmp(b.data, data, size) != 0)
			die("re-encoding differs from the input", 0, 0);
		mycel_buf_reset(&b);
		b.limit = 64 * size + 64;
		if (mycel_value_render(v, &b) != 0 && b.err != MYCEL_ETOOBIG)
			die("render failed", b.err, 0);
		mycel_buf_fini(&b);
	}
	mycel_arena_free(a);
	return 0;
}
