/*
 * mycel/codec.h — canonical MessagePack.
 *
 * Everything mycel signs or hashes is canonical MessagePack (proto/PROTOCOL.md §1):
 * nil, bool, integers in their shortest form (non-negative ones always in the
 * unsigned family), float64 only (no NaN or infinity), UTF-8-valid strings, bin,
 * arrays, and maps whose keys are strings sorted bytewise without duplicates;
 * every length in its shortest header; depth at most 32.
 *
 * Three layers:
 *  - mycel_buf: a growing output buffer with a hard size limit and a sticky error;
 *    the mycel_enc_* writers append canonical forms to it;
 *  - mycel_rd: a strict zero-copy reader over untrusted bytes, for fixed layouts
 *    (entry headers, fork proofs) that are arrays of known shape;
 *  - mycel_value: a tree of values in an arena, with a canonical encoder that
 *    sorts map keys, and a strict decoder that refuses every input the encoder
 *    would not have produced.
 */
#ifndef MYCEL_CODEC_H
#define MYCEL_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mycel/error.h"

#define MYCEL_MAX_DEPTH 32

/* ---- output buffer ---------------------------------------------------- */

typedef struct mycel_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t limit; /* hard cap on len; exceeding it sets err = MYCEL_ETOOBIG */
	int err;      /* first error of any write, sticky; 0 while all went well */
} mycel_buf;

/* Initialises an empty buffer that will never grow past limit bytes. */
void mycel_buf_init(mycel_buf *b, size_t limit);

/*
 * Initialises an empty buffer over cap bytes of caller memory that never
 * grows (limit = cap); writing more sets err = MYCEL_ETOOBIG. Never pass it
 * to mycel_buf_fini.
 */
void mycel_buf_init_fixed(mycel_buf *b, uint8_t *mem, size_t cap);

/* Frees the buffer's memory (wiping nothing) and resets it to empty. Accepts NULL. */
void mycel_buf_fini(mycel_buf *b);

/* Empties the buffer and clears its error, keeping its memory. */
void mycel_buf_reset(mycel_buf *b);

/* Appends n raw bytes. On failure sets b->err (ENOMEM or ETOOBIG) and appends nothing. */
void mycel_buf_put(mycel_buf *b, const void *p, size_t n);

/*
 * Canonical writers. Each appends one value's canonical encoding, or sets b->err
 * and appends nothing: MYCEL_EFLOAT for NaN/inf, MYCEL_EUTF8 for invalid UTF-8,
 * ENOMEM/ETOOBIG for space. Once b->err is set every writer is a no-op, so a
 * caller may write a whole structure and check b->err once at the end.
 * mycel_enc_map only writes the header: the caller must write the keys in
 * bytewise order (mycel_value_encode does the sorting for general maps).
 */
void mycel_enc_nil(mycel_buf *b);
void mycel_enc_bool(mycel_buf *b, bool v);
void mycel_enc_uint(mycel_buf *b, uint64_t v);
void mycel_enc_int(mycel_buf *b, int64_t v);
void mycel_enc_float(mycel_buf *b, double v);
void mycel_enc_str(mycel_buf *b, const char *s, size_t n);
void mycel_enc_cstr(mycel_buf *b, const char *s);
void mycel_enc_bin(mycel_buf *b, const uint8_t *p, size_t n);
void mycel_enc_array(mycel_buf *b, uint32_t n);
void mycel_enc_map(mycel_buf *b, uint32_t n);

/* ---- strict reader ---------------------------------------------------- */

typedef enum mycel_type {
	MYCEL_T_NIL,
	MYCEL_T_BOOL,
	MYCEL_T_UINT,  /* 0 .. 2^64-1 */
	MYCEL_T_INT,   /* negative: -2^63 .. -1 */
	MYCEL_T_FLOAT, /* float64, finite */
	MYCEL_T_STR,
	MYCEL_T_BIN,
	MYCEL_T_ARRAY,
	MYCEL_T_MAP,
} mycel_type;

/* The name of a type ("uint", "map"), for messages. */
const char *mycel_type_name(mycel_type t);

typedef struct mycel_rd {
	const uint8_t *start;
	const uint8_t *p;
	const uint8_t *end;
} mycel_rd;

/* Starts reading n bytes at p; the reader never reads outside them. */
void mycel_rd_init(mycel_rd *r, const uint8_t *p, size_t n);

/* Offset of the reader's position from the start (for error messages). */
size_t mycel_rd_offset(const mycel_rd *r);

/*
 * Each reader consumes one value of the named type in canonical form and
 * returns 0, or returns an error and leaves the position unspecified:
 * ETRUNC (input ends), ETYPE (another type is there), ENONCANON (a shorter
 * form exists), EUTF8, EFLOAT, EUNSUPPORTED. Strings and bins are returned
 * as pointers into the input. Array and map counts are checked against the
 * bytes left (each element needs at least one), so a count can size an
 * allocation safely.
 */
int mycel_rd_peek(const mycel_rd *r, mycel_type *out_type);
int mycel_rd_nil(mycel_rd *r);
int mycel_rd_bool(mycel_rd *r, bool *out);
int mycel_rd_uint(mycel_rd *r, uint64_t *out);
int mycel_rd_str(mycel_rd *r, const char **out, size_t *out_len);
int mycel_rd_bin(mycel_rd *r, const uint8_t **out, size_t *out_len);
int mycel_rd_array(mycel_rd *r, uint32_t *out_count);
int mycel_rd_map(mycel_rd *r, uint32_t *out_count);

/* Reads a bin of exactly n bytes (ETYPE for other lengths). */
int mycel_rd_bin_n(mycel_rd *r, const uint8_t **out, size_t n);

/* Skips one whole value, checking it as strictly as mycel_value_decode does. */
int mycel_rd_skip(mycel_rd *r, int depth);

/* Returns 0 if the input is fully consumed, MYCEL_ETRAILING otherwise. */
int mycel_rd_end(const mycel_rd *r);

/* ---- arena ------------------------------------------------------------ */

/* A bump allocator with a hard limit; everything in it is freed at once. */
typedef struct mycel_arena mycel_arena;

/* Creates an arena that will refuse to hold more than limit bytes in total. */
int mycel_arena_new(size_t limit, mycel_arena **out);

/* Frees the arena and everything allocated in it. Accepts NULL. */
void mycel_arena_free(mycel_arena *a);

/* n bytes aligned for any value, or NULL when out of memory or over the limit. */
void *mycel_arena_alloc(mycel_arena *a, size_t n);

/* A copy of n bytes plus a terminating NUL, or NULL. */
char *mycel_arena_strdup(mycel_arena *a, const char *s, size_t n);

/* ---- value tree ------------------------------------------------------- */

typedef struct mycel_value mycel_value;
typedef struct mycel_member mycel_member;

struct mycel_value {
	mycel_type type;
	uint32_t line; /* where a value read from YAML or JSON started (1-based); 0 if unknown */
	uint32_t col;
	union {
		bool b;
		uint64_t u;
		int64_t i; /* MYCEL_T_INT only: always < 0 */
		double f;
		struct {
			const char *ptr; /* NUL-terminated copy; len excludes the NUL */
			size_t len;
		} s; /* MYCEL_T_STR and MYCEL_T_BIN */
		struct {
			mycel_value *items;
			size_t len;
		} a;
		struct {
			mycel_member *items; /* after decode: sorted by key */
			size_t len;
		} m;
	} v;
};

struct mycel_member {
	const char *key; /* NUL-terminated; key_len excludes the NUL */
	size_t key_len;
	mycel_value val;
};

typedef struct mycel_decode_err {
	int code;      /* the MYCEL_E... code returned */
	size_t offset; /* byte offset where the problem was found */
} mycel_decode_err;

/*
 * Decodes exactly one canonical value occupying all n bytes of p into a tree
 * allocated in a. Refuses, with the error and the byte offset in *err (if
 * not NULL): n > max_len (ETOOBIG), truncation (ETRUNC), trailing bytes
 * (ETRAILING), non-shortest integers and lengths and negative-family
 * encodings of non-negative integers (ENONCANON), float32, NaN, infinities
 * (EFLOAT), invalid UTF-8 (EUTF8), unsorted or duplicate keys (EKEYORDER),
 * non-string keys (EKEYTYPE), ext types and 0xc1 (EUNSUPPORTED), depth > 32
 * (EDEPTH), arena exhaustion (ENOMEM). Every allocation is bounded by n.
 * On failure *out is untouched and the arena may hold partial garbage.
 */
int mycel_value_decode(const uint8_t *p, size_t n, size_t max_len, mycel_arena *a,
		       mycel_value **out, mycel_decode_err *err);

/*
 * Appends the canonical encoding of v to b: map members are sorted bytewise
 * by key (without modifying v). Errors go to b->err as with the writers, and
 * are also returned: EKEYORDER for duplicate keys, EDEPTH beyond 32 levels,
 * EFLOAT, EUTF8, ENOMEM, ETOOBIG.
 */
int mycel_value_encode(const mycel_value *v, mycel_buf *b);

/* Member named key in map v, or NULL (also when v is not a map). */
const mycel_value *mycel_value_get(const mycel_value *v, const char *key);

/*
 * Appends a one-line, deterministic, JSON-like rendering of v to b, NUL-terminated
 * (bin as h'hex', floats with %.17g, strings JSON-escaped). For vectors and debugging.
 */
int mycel_value_render(const mycel_value *v, mycel_buf *b);

/* True if the n bytes at s are valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool mycel_utf8_valid(const uint8_t *s, size_t n);

#endif
