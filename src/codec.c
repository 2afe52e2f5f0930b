/*
 * codec.c — canonical MessagePack: output buffer and writers, the strict
 * reader, the arena, and the value tree (include/mycel/codec.h).
 *
 * Depth rule, shared by the decoder, mycel_rd_skip and mycel_value_encode: a
 * value's depth is the number of arrays and maps that contain it, counting
 * itself when it is one. A top-level scalar has depth 0, a top-level array
 * depth 1, an array inside it depth 2, and so on; scalars never add depth.
 * Depth MYCEL_MAX_DEPTH (32 nested containers) is accepted, 33 is EDEPTH.
 *
 * Error offsets of mycel_value_decode: the offset of the first byte (the
 * type byte) of the value that is refused, including map keys refused for
 * their type or order and containers refused for their depth or for a count
 * larger than the bytes left (less one byte for each later item of the
 * enclosing containers); for ETRAILING the offset of the first trailing
 * byte; for ETOOBIG (n > max_len) max_len.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/codec.h"

/* ---- output buffer ---------------------------------------------------- */

void mycel_buf_init(mycel_buf *b, size_t limit)
{
	*b = (mycel_buf){.limit = limit};
}

void mycel_buf_init_fixed(mycel_buf *b, uint8_t *mem, size_t cap)
{
	*b = (mycel_buf){.data = mem, .cap = cap, .limit = cap};
}

void mycel_buf_fini(mycel_buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	*b = (mycel_buf){.limit = b->limit};
}

void mycel_buf_reset(mycel_buf *b)
{
	b->len = 0;
	b->err = 0;
}

static void buf_fail(mycel_buf *b, int err)
{
	if (b->err == 0)
		b->err = err;
}

/* Makes room for n more bytes: doubles the capacity (from 64) but never past limit. */
static int buf_grow(mycel_buf *b, size_t n)
{
	size_t need, cap;
	uint8_t *d;

	if (b->len > b->limit || n > b->limit - b->len) {
		buf_fail(b, MYCEL_ETOOBIG);
		return -1;
	}
	need = b->len + n;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
	if (cap > b->limit)
		cap = b->limit;
	d = realloc(b->data, cap);
	if (d == NULL) {
		buf_fail(b, MYCEL_ENOMEM);
		return -1;
	}
	b->data = d;
	b->cap = cap;
	return 0;
}

/* Where n more bytes go (the caller then adds n to len), or NULL with b->err set. */
static inline uint8_t *buf_room(mycel_buf *b, size_t n)
{
	if (b->err)
		return NULL;
	if (b->cap - b->len < n && buf_grow(b, n) != 0)
		return NULL;
	return b->data + b->len;
}

void mycel_buf_put(mycel_buf *b, const void *p, size_t n)
{
	uint8_t *o = buf_room(b, n);

	if (o == NULL)
		return;
	if (n)
		memcpy(o, p, n);
	b->len += n;
}

/* ---- writers ---------------------------------------------------------- */

static inline void put_be(uint8_t *o, uint64_t v, unsigned w)
{
	while (w-- > 0) {
		o[w] = (uint8_t)v;
		v >>= 8;
	}
}

/* A type byte followed by v as a w-byte big-endian number, then n payload bytes. */
static inline void put_head(mycel_buf *b, uint8_t tag, uint64_t v, unsigned w, const void *pl,
                            size_t n)
{
	uint8_t *o;

	if (n > SIZE_MAX - 9) {
		buf_fail(b, MYCEL_ETOOBIG);
		return;
	}
	o = buf_room(b, 1 + w + n);
	if (o == NULL)
		return;
	o[0] = tag;
	put_be(o + 1, v, w);
	if (n)
		memcpy(o + 1 + w, pl, n);
	b->len += 1 + w + n;
}

void mycel_enc_nil(mycel_buf *b)
{
	put_head(b, 0xc0, 0, 0, NULL, 0);
}

void mycel_enc_bool(mycel_buf *b, bool v)
{
	put_head(b, v ? 0xc3 : 0xc2, 0, 0, NULL, 0);
}

void mycel_enc_uint(mycel_buf *b, uint64_t v)
{
	if (v < 0x80)
		put_head(b, (uint8_t)v, 0, 0, NULL, 0);
	else if (v <= 0xff)
		put_head(b, 0xcc, v, 1, NULL, 0);
	else if (v <= 0xffff)
		put_head(b, 0xcd, v, 2, NULL, 0);
	else if (v <= 0xffffffff)
		put_head(b, 0xce, v, 4, NULL, 0);
	else
		put_head(b, 0xcf, v, 8, NULL, 0);
}

void mycel_enc_int(mycel_buf *b, int64_t v)
{
	if (v >= 0)
		mycel_enc_uint(b, (uint64_t)v);
	else if (v >= -32)
		put_head(b, (uint8_t)v, 0, 0, NULL, 0);
	else if (v >= INT8_MIN)
		put_head(b, 0xd0, (uint64_t)v, 1, NULL, 0);
	else if (v >= INT16_MIN)
		put_head(b, 0xd1, (uint64_t)v, 2, NULL, 0);
	else if (v >= INT32_MIN)
		put_head(b, 0xd2, (uint64_t)v, 4, NULL, 0);
	else
		put_head(b, 0xd3, (uint64_t)v, 8, NULL, 0);
}

void mycel_enc_float(mycel_buf *b, double v)
{
	uint64_t bits;

	if (!isfinite(v)) {
		buf_fail(b, MYCEL_EFLOAT);
		return;
	}
	memcpy(&bits, &v, sizeof(bits));
	put_head(b, 0xcb, bits, 8, NULL, 0);
}

/* A header with a fix form (fix | n for n < fixmax), then 8/16/32-bit forms. */
static void put_sized(mycel_buf *b, uint8_t fix, size_t fixmax, uint8_t t8, uint8_t t16,
                      uint8_t t32, size_t n, const void *pl, size_t pl_len)
{
	if (n > 0xffffffff) {
		buf_fail(b, MYCEL_ETOOBIG);
		return;
	}
	if (n < fixmax)
		put_head(b, (uint8_t)(fix | n), 0, 0, pl, pl_len);
	else if (n <= 0xff && t8)
		put_head(b, t8, n, 1, pl, pl_len);
	else if (n <= 0xffff)
		put_head(b, t16, n, 2, pl, pl_len);
	else
		put_head(b, t32, n, 4, pl, pl_len);
}

void mycel_enc_str(mycel_buf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (!mycel_utf8_valid((const uint8_t *)s, n)) {
		buf_fail(b, MYCEL_EUTF8);
		return;
	}
	put_sized(b, 0xa0, 32, 0xd9, 0xda, 0xdb, n, s, n);
}

void mycel_enc_cstr(mycel_buf *b, const char *s)
{
	mycel_enc_str(b, s, s ? strlen(s) : 0);
}

void mycel_enc_bin(mycel_buf *b, const uint8_t *p, size_t n)
{
	put_sized(b, 0, 0, 0xc4, 0xc5, 0xc6, n, p, n);
}

void mycel_enc_array(mycel_buf *b, uint32_t n)
{
	put_sized(b, 0x90, 16, 0, 0xdc, 0xdd, n, NULL, 0);
}

void mycel_enc_map(mycel_buf *b, uint32_t n)
{
	put_sized(b, 0x80, 16, 0, 0xde, 0xdf, n, NULL, 0);
}

/* ---- UTF-8 ------------------------------------------------------------ */

bool mycel_utf8_valid(const uint8_t *s, size_t n)
{
	const uint8_t *p, *end;

	if (n == 0)
		return true;
	p = s;
	end = s + n;
	while (p < end) {
		uint8_t c = *p, lo = 0x80, hi = 0xbf;
		size_t k;

		if (c < 0x80) {
			/* ASCII runs eight bytes at a time. */
			while (end - p >= 8) {
				uint64_t w;
				memcpy(&w, p, 8);
				if (w & UINT64_C(0x8080808080808080))
					break;
				p += 8;
			}
			while (p < end && *p < 0x80)
				p++;
			continue;
		}
		if (c < 0xc2) /* continuation byte, or 0xc0/0xc1 overlong */
			return false;
		if (c < 0xe0) {
			k = 1;
		} else if (c < 0xf0) {
			k = 2;
			if (c == 0xe0) /* overlong */
				lo = 0xa0;
			else if (c == 0xed) /* surrogates */
				hi = 0x9f;
		} else if (c < 0xf5) {
			k = 3;
			if (c == 0xf0) /* overlong */
				lo = 0x90;
			else if (c == 0xf4) /* > U+10FFFF */
				hi = 0x8f;
		} else {
			return false;
		}
		if ((size_t)(end - p) <= k || p[1] < lo || p[1] > hi)
			return false;
		for (size_t i = 2; i <= k; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		p += k + 1;
	}
	return true;
}

/* ---- strict reader ---------------------------------------------------- */

const char *mycel_type_name(mycel_type t)
{
	static const char *const names[] = {"nil", "bool", "uint",  "int", "float",
	                                    "str", "bin",  "array", "map"};

	return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

/* Not types: what refuses a type byte. */
#define T_UNSUPPORTED (-1) /* 0xc1, ext 0xc7 .. 0xc9, fixext 0xd4 .. 0xd8 */
#define T_FLOAT32 (-2)

/*
 * The type bytes 0xc0 .. 0xdf: the type, the width of the big-endian number
 * that follows (value, length or count), and its canonical bound: the number
 * must be >= min, or for the signed forms encode a value < -min (a value in
 * neither the negative fixint nor a smaller signed form, and never >= 0).
 */
/* clang-format off */
static const struct {
	int8_t type;
	uint8_t width;
	uint64_t min;
} forms[32] = {
	/* 0xc0 */ {MYCEL_T_NIL, 0, 0},         {T_UNSUPPORTED, 0, 0},
	/* 0xc2 */ {MYCEL_T_BOOL, 0, 0},        {MYCEL_T_BOOL, 0, 0},
	/* 0xc4 */ {MYCEL_T_BIN, 1, 0},         {MYCEL_T_BIN, 2, 0x100},
	/* 0xc6 */ {MYCEL_T_BIN, 4, 0x10000},   {T_UNSUPPORTED, 0, 0},
	/* 0xc8 */ {T_UNSUPPORTED, 0, 0},       {T_UNSUPPORTED, 0, 0},
	/* 0xca */ {T_FLOAT32, 0, 0},           {MYCEL_T_FLOAT, 8, 0},
	/* 0xcc */ {MYCEL_T_UINT, 1, 0x80},     {MYCEL_T_UINT, 2, 0x100},
	/* 0xce */ {MYCEL_T_UINT, 4, 0x10000},  {MYCEL_T_UINT, 8, UINT64_C(0x100000000)},
	/* 0xd0 */ {MYCEL_T_INT, 1, 32},        {MYCEL_T_INT, 2, 128},
	/* 0xd2 */ {MYCEL_T_INT, 4, 0x8000},    {MYCEL_T_INT, 8, 0x80000000},
	/* 0xd4 */ {T_UNSUPPORTED, 0, 0},       {T_UNSUPPORTED, 0, 0},
	/* 0xd6 */ {T_UNSUPPORTED, 0, 0},       {T_UNSUPPORTED, 0, 0},
	/* 0xd8 */ {T_UNSUPPORTED, 0, 0},       {MYCEL_T_STR, 1, 32},
	/* 0xda */ {MYCEL_T_STR, 2, 0x100},     {MYCEL_T_STR, 4, 0x10000},
	/* 0xdc */ {MYCEL_T_ARRAY, 2, 16},      {MYCEL_T_ARRAY, 4, 0x10000},
	/* 0xde */ {MYCEL_T_MAP, 2, 16},        {MYCEL_T_MAP, 4, 0x10000},
};
/* clang-format on */

/* The type of a value whose type byte is c (0 returned), or the error refusing c. */
static inline int byte_type(uint8_t c, int *out)
{
	int t;

	if (c <= 0x7f || c >= 0xe0)
		t = c <= 0x7f ? MYCEL_T_UINT : MYCEL_T_INT;
	else if (c < 0xc0)
		t = c <= 0x8f ? MYCEL_T_MAP : c <= 0x9f ? MYCEL_T_ARRAY : MYCEL_T_STR;
	else
		t = forms[c - 0xc0].type;
	*out = t;
	return t == T_UNSUPPORTED ? MYCEL_EUNSUPPORTED : t == T_FLOAT32 ? MYCEL_EFLOAT : 0;
}

/* One decoded header: a scalar's value, or a str/bin payload, or a container count. */
typedef struct head {
	mycel_type type;
	union {
		bool b;
		uint64_t u;
		int64_t i;
		double f;
	} v;
	const uint8_t *ptr; /* str, bin: payload inside the input */
	size_t len;         /* str, bin: length; array, map: count */
} head;

/*
 * Reads one header at *pp in canonical form and advances past it (and past a
 * str/bin payload, checked for UTF-8 if a str). Checks lengths and counts
 * against the bytes left: an array of n needs n more bytes, a map of n 2n.
 * Allocates nothing; leaves *pp alone on error.
 */
static inline int head_read(const uint8_t **pp, const uint8_t *end, head *h)
{
	const uint8_t *p = *pp;
	uint64_t n = 0;
	size_t left;
	int t, rc;
	uint8_t c;

	if (p >= end)
		return MYCEL_ETRUNC;
	c = *p++;
	if ((rc = byte_type(c, &t)) != 0)
		return rc;
	if (c >= 0xc0 && c <= 0xdf) {
		unsigned w = forms[c - 0xc0].width;

		if ((size_t)(end - p) < w)
			return MYCEL_ETRUNC;
		for (unsigned i = 0; i < w; i++)
			n = n << 8 | p[i];
		p += w;
		if (t == MYCEL_T_INT) {
			/* Two's complement: negative, and below the smaller forms' range. */
			if (!(n >> (8 * w - 1) & 1))
				return MYCEL_ENONCANON;
			h->v.i = w == 8 ? -(int64_t)~n - 1 : (int64_t)n - ((int64_t)1 << (8 * w));
			if (h->v.i >= -(int64_t)forms[c - 0xc0].min)
				return MYCEL_ENONCANON;
		} else if (n < forms[c - 0xc0].min) {
			return MYCEL_ENONCANON;
		}
	} else {
		n = c <= 0x7f ? c : c >= 0xe0 ? 0 : c & (c >= 0xa0 ? 0x1f : 0x0f);
	}
	left = (size_t)(end - p);
	switch (t) {
	case MYCEL_T_NIL:
		break;
	case MYCEL_T_BOOL:
		h->v.b = c == 0xc3;
		break;
	case MYCEL_T_UINT:
		h->v.u = n;
		break;
	case MYCEL_T_INT:
		if (c >= 0xe0)
			h->v.i = (int64_t)c - 0x100;
		break;
	case MYCEL_T_FLOAT:
		if ((n >> 52 & 0x7ff) == 0x7ff) /* NaN or infinity */
			return MYCEL_EFLOAT;
		memcpy(&h->v.f, &n, sizeof(n));
		break;
	case MYCEL_T_STR:
	case MYCEL_T_BIN:
		if (n > left)
			return MYCEL_ETRUNC;
		if (t == MYCEL_T_STR && !mycel_utf8_valid(p, (size_t)n))
			return MYCEL_EUTF8;
		h->ptr = p;
		p += n;
		break;
	case MYCEL_T_ARRAY:
		if (n > left)
			return MYCEL_ETRUNC;
		break;
	case MYCEL_T_MAP:
		if (n > left / 2)
			return MYCEL_ETRUNC;
		break;
	}
	h->type = (mycel_type)t;
	h->len = (size_t)n;
	*pp = p;
	return 0;
}

/* Stands in for a NULL input of 0 bytes, so that no arithmetic is done on NULL. */
static const uint8_t no_bytes[1];

void mycel_rd_init(mycel_rd *r, const uint8_t *p, size_t n)
{
	if (p == NULL)
		p = no_bytes;
	r->start = p;
	r->p = p;
	r->end = p + n;
}

size_t mycel_rd_offset(const mycel_rd *r)
{
	return (size_t)(r->p - r->start);
}

int mycel_rd_peek(const mycel_rd *r, mycel_type *out_type)
{
	int t, rc;

	if (r->p >= r->end)
		return MYCEL_ETRUNC;
	if ((rc = byte_type(*r->p, &t)) == 0)
		*out_type = (mycel_type)t;
	return rc;
}

/* Reads one header of type want; ETYPE, without reading further, for any other type. */
static inline int rd_want(mycel_rd *r, mycel_type want, head *h)
{
	int t, rc;

	if (r->p >= r->end)
		return MYCEL_ETRUNC;
	if ((rc = byte_type(*r->p, &t)) != 0)
		return rc;
	if (t != (int)want)
		return MYCEL_ETYPE;
	return head_read(&r->p, r->end, h);
}

int mycel_rd_nil(mycel_rd *r)
{
	head h;

	return rd_want(r, MYCEL_T_NIL, &h);
}

int mycel_rd_bool(mycel_rd *r, bool *out)
{
	head h;
	int rc = rd_want(r, MYCEL_T_BOOL, &h);

	if (rc == 0)
		*out = h.v.b;
	return rc;
}

int mycel_rd_uint(mycel_rd *r, uint64_t *out)
{
	head h;
	int rc = rd_want(r, MYCEL_T_UINT, &h);

	if (rc == 0)
		*out = h.v.u;
	return rc;
}

int mycel_rd_str(mycel_rd *r, const char **out, size_t *out_len)
{
	head h;
	int rc = rd_want(r, MYCEL_T_STR, &h);

	if (rc == 0) {
		*out = (const char *)h.ptr;
		*out_len = h.len;
	}
	return rc;
}

int mycel_rd_bin(mycel_rd *r, const uint8_t **out, size_t *out_len)
{
	head h;
	int rc = rd_want(r, MYCEL_T_BIN, &h);

	if (rc == 0) {
		*out = h.ptr;
		*out_len = h.len;
	}
	return rc;
}

int mycel_rd_bin_n(mycel_rd *r, const uint8_t **out, size_t n)
{
	head h;
	int rc = rd_want(r, MYCEL_T_BIN, &h);

	if (rc == 0 && h.len != n)
		rc = MYCEL_ETYPE;
	if (rc == 0)
		*out = h.ptr;
	return rc;
}

int mycel_rd_array(mycel_rd *r, uint32_t *out_count)
{
	head h;
	int rc = rd_want(r, MYCEL_T_ARRAY, &h);

	if (rc == 0)
		*out_count = (uint32_t)h.len;
	return rc;
}

int mycel_rd_map(mycel_rd *r, uint32_t *out_count)
{
	head h;
	int rc = rd_want(r, MYCEL_T_MAP, &h);

	if (rc == 0)
		*out_count = (uint32_t)h.len;
	return rc;
}

int mycel_rd_end(const mycel_rd *r)
{
	return r->p == r->end ? 0 : MYCEL_ETRAILING;
}

/* ---- arena ------------------------------------------------------------ */

#define ARENA_ALIGN 16
#define ARENA_FIRST_CHUNK 4096
#define ARENA_MAX_CHUNK (1u << 20)

typedef struct chunk {
	struct chunk *next;
	size_t size; /* bytes of data */
	size_t used;
	size_t pad_; /* keeps data at a multiple of 16 from malloc's (16-aligned) pointer */
	unsigned char data[];
} chunk;

struct mycel_arena {
	chunk *head;      /* current chunk; older ones follow */
	size_t limit;     /* bound on used */
	size_t used;      /* bytes handed out, alignment padding included */
	size_t next_size; /* data size of the next chunk: doubles up to ARENA_MAX_CHUNK */
};

int mycel_arena_new(size_t limit, mycel_arena **out)
{
	mycel_arena *a;

	if (out == NULL)
		return MYCEL_EINVAL;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return MYCEL_ENOMEM;
	a->limit = limit;
	a->next_size = ARENA_FIRST_CHUNK;
	*out = a;
	return 0;
}

void mycel_arena_free(mycel_arena *a)
{
	chunk *c, *next;

	if (a == NULL)
		return;
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

static inline size_t align_pad(const chunk *c, size_t align)
{
	return (size_t)(-(uintptr_t)(c->data + c->used) & (align - 1));
}

/* n bytes (n > 0) aligned to align (a power of two <= 16), within the limit. */
static void *arena_get(mycel_arena *a, size_t n, size_t align)
{
	chunk *c = a->head;
	size_t pad, room, size;
	void *p;

	if (c == NULL || (pad = align_pad(c, align)) > c->size - c->used ||
	    n > c->size - c->used - pad) {
		if (a->used > a->limit || n > a->limit - a->used)
			return NULL;
		/* A new chunk: no larger than what the limit still allows, unless n needs it. */
		room = a->limit - a->used;
		size = a->next_size < room ? a->next_size : room;
		if (size < n)
			size = n;
		if (size > SIZE_MAX - sizeof(chunk) - ARENA_ALIGN)
			return NULL;
		size += ARENA_ALIGN - 1;
		c = malloc(sizeof(chunk) + size);
		if (c == NULL)
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = a->head;
		a->head = c;
		if (a->next_size < ARENA_MAX_CHUNK)
			a->next_size *= 2;
		pad = align_pad(c, align);
	}
	if (a->used > a->limit || pad + n > a->limit - a->used)
		return NULL;
	p = c->data + c->used + pad;
	c->used += pad + n;
	a->used += pad + n;
	return p;
}

void *mycel_arena_alloc(mycel_arena *a, size_t n)
{
	return arena_get(a, n ? n : 1, ARENA_ALIGN);
}

char *mycel_arena_strdup(mycel_arena *a, const char *s, size_t n)
{
	char *d;

	if (n == SIZE_MAX)
		return NULL;
	d = arena_get(a, n + 1, 1);
	if (d == NULL)
		return NULL;
	if (n)
		memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* ---- strict decoder and skipper --------------------------------------- */

typedef struct dec {
	const uint8_t *start;
	const uint8_t *p;
	const uint8_t *end;
	mycel_arena *a; /* NULL when only checking (mycel_rd_skip) */
	size_t need;    /* bytes the enclosing containers' later items need, >= 1 each */
	size_t err_off;
} dec;

/* Bytewise order of keys: memcmp, then the shorter first. */
static inline int key_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
	int c = alen && blen ? memcmp(a, b, alen < blen ? alen : blen) : 0;

	if (c != 0 || alen == blen)
		return c;
	return alen < blen ? -1 : 1;
}

#define DEC_FAIL(rc_, at_)                                                                         \
	do {                                                                                       \
		d->err_off = (size_t)((at_)-d->start);                                             \
		return (rc_);                                                                      \
	} while (0)

/*
 * Checks (and with d->a and out, builds) one value whose enclosing containers
 * number depth. A container's items must fit in the bytes left after those
 * that the later items of the enclosing containers need (d->need, one byte
 * each at least), or it is ETRUNC: so every item slot allocated stands for a
 * distinct input byte, and n input bytes never allocate more than n slots
 * (items nested 32 deep cannot each claim the same remaining bytes).
 */
static int dec_value(dec *d, mycel_value *out, int depth)
{
	const uint8_t *at = d->p;
	const uint8_t *prev = NULL;
	size_t prev_len = 0, need = d->need, left;
	mycel_value *items = NULL;
	mycel_member *members = NULL;
	head h;
	int rc;

	if ((rc = head_read(&d->p, d->end, &h)) != 0)
		DEC_FAIL(rc, at);
	if (h.type == MYCEL_T_ARRAY || h.type == MYCEL_T_MAP) {
		if (depth >= MYCEL_MAX_DEPTH)
			DEC_FAIL(MYCEL_EDEPTH, at);
		left = (size_t)(d->end - d->p);
		if (need > left || h.len > (left - need) / (h.type == MYCEL_T_MAP ? 2 : 1))
			DEC_FAIL(MYCEL_ETRUNC, at);
	} else if (out == NULL) {
		return 0;
	}
	switch (h.type) {
	case MYCEL_T_NIL:
		break;
	case MYCEL_T_BOOL:
		out->v.b = h.v.b;
		break;
	case MYCEL_T_UINT:
		out->v.u = h.v.u;
		break;
	case MYCEL_T_INT:
		out->v.i = h.v.i;
		break;
	case MYCEL_T_FLOAT:
		out->v.f = h.v.f;
		break;
	case MYCEL_T_STR:
	case MYCEL_T_BIN:
		out->v.s.ptr = mycel_arena_strdup(d->a, (const char *)h.ptr, h.len);
		if (out->v.s.ptr == NULL)
			DEC_FAIL(MYCEL_ENOMEM, at);
		out->v.s.len = h.len;
		break;
	case MYCEL_T_ARRAY:
		if (out && h.len) {
			if (h.len > SIZE_MAX / sizeof(*items) ||
			    (items = mycel_arena_alloc(d->a, h.len * sizeof(*items))) == NULL)
				DEC_FAIL(MYCEL_ENOMEM, at);
		}
		for (size_t i = 0; i < h.len; i++) {
			d->need = need + (h.len - 1 - i);
			if ((rc = dec_value(d, items ? &items[i] : NULL, depth + 1)) != 0)
				return rc;
		}
		if (out) {
			out->v.a.items = items;
			out->v.a.len = h.len;
		}
		break;
	case MYCEL_T_MAP:
		if (out && h.len) {
			if (h.len > SIZE_MAX / sizeof(*members) ||
			    (members = mycel_arena_alloc(d->a, h.len * sizeof(*members))) == NULL)
				DEC_FAIL(MYCEL_ENOMEM, at);
		}
		for (size_t i = 0; i < h.len; i++) {
			const uint8_t *kat = d->p;
			head k;

			if ((rc = head_read(&d->p, d->end, &k)) != 0)
				DEC_FAIL(rc, kat);
			if (k.type != MYCEL_T_STR)
				DEC_FAIL(MYCEL_EKEYTYPE, kat);
			if (i > 0 && key_cmp(prev, prev_len, k.ptr, k.len) >= 0)
				DEC_FAIL(MYCEL_EKEYORDER, kat);
			prev = k.ptr;
			prev_len = k.len;
			if (members) {
				members[i].key =
				    mycel_arena_strdup(d->a, (const char *)k.ptr, k.len);
				if (members[i].key == NULL)
					DEC_FAIL(MYCEL_ENOMEM, kat);
				members[i].key_len = k.len;
			}
			d->need = need + 2 * (h.len - 1 - i);
			if ((rc = dec_value(d, members ? &members[i].val : NULL, depth + 1)) != 0)
				return rc;
		}
		if (out) {
			out->v.m.items = members;
			out->v.m.len = h.len;
		}
		break;
	}
	d->need = need;
	if (out) {
		out->type = h.type;
		out->line = out->col = 0;
	}
	return 0;
}

int mycel_rd_skip(mycel_rd *r, int depth)
{
	dec d = {r->start, r->p, r->end, NULL, 0, 0};
	int rc;

	if (depth < 0)
		return MYCEL_EINVAL;
	rc = dec_value(&d, NULL, depth);
	r->p = d.p;
	return rc;
}

int mycel_value_decode(const uint8_t *p, size_t n, size_t max_len, mycel_arena *a,
                       mycel_value **out, mycel_decode_err *err)
{
	dec d = {no_bytes, no_bytes, no_bytes, a, 0, 0};
	mycel_value *v;
	int rc;

	if (p != NULL) {
		d.start = d.p = p;
		d.end = p + n;
	}
	if (a == NULL || out == NULL || (p == NULL && n > 0)) {
		rc = MYCEL_EINVAL;
	} else if (n > max_len) {
		rc = MYCEL_ETOOBIG;
		d.err_off = max_len;
	} else if ((v = mycel_arena_alloc(a, sizeof(*v))) == NULL) {
		rc = MYCEL_ENOMEM;
	} else if ((rc = dec_value(&d, v, 0)) == 0) {
		if (d.p != d.end) {
			rc = MYCEL_ETRAILING;
			d.err_off = (size_t)(d.p - d.start);
		} else {
			*out = v;
		}
	}
	if (err != NULL) {
		err->code = rc;
		err->offset = rc ? d.err_off : 0;
	}
	return rc;
}

/* ---- value tree: encoder, lookup, rendering --------------------------- */

static int member_cmp(const void *x, const void *y)
{
	const mycel_member *a = *(const mycel_member *const *)x;
	const mycel_member *b = *(const mycel_member *const *)y;

	return key_cmp(a->key, a->key_len, b->key, b->key_len);
}

/*
 * The members of map v in key order: *out_idx is NULL when they already are
 * (strictly increasing, the case of every decoded map), else an array of
 * pointers, either stack (which has room for 16) or malloc'd (free if != stack).
 * Returns EKEYORDER for duplicates when dups_fail, ENOMEM.
 */
static int map_order(const mycel_value *v, const mycel_member **stack,
                     const mycel_member ***out_idx, bool dups_fail)
{
	const mycel_member *m = v->v.m.items, **idx;
	size_t n = v->v.m.len, i;

	*out_idx = NULL;
	for (i = 1; i < n; i++)
		if (key_cmp(m[i - 1].key, m[i - 1].key_len, m[i].key, m[i].key_len) >= 0)
			break;
	if (i >= n)
		return 0;
	if (n <= 16)
		idx = stack;
	else if (n > SIZE_MAX / sizeof(*idx) || (idx = malloc(n * sizeof(*idx))) == NULL)
		return MYCEL_ENOMEM;
	for (i = 0; i < n; i++)
		idx[i] = &m[i];
	qsort(idx, n, sizeof(*idx), member_cmp);
	for (i = 1; dups_fail && i < n; i++) {
		if (member_cmp(&idx[i - 1], &idx[i]) == 0) {
			if (idx != stack)
				free(idx);
			return MYCEL_EKEYORDER;
		}
	}
	*out_idx = idx;
	return 0;
}

static int enc_value(const mycel_value *v, mycel_buf *b, int depth)
{
	const mycel_member *stack[16], **idx;
	int rc = 0;

	switch (v->type) {
	case MYCEL_T_NIL:
		mycel_enc_nil(b);
		break;
	case MYCEL_T_BOOL:
		mycel_enc_bool(b, v->v.b);
		break;
	case MYCEL_T_UINT:
		mycel_enc_uint(b, v->v.u);
		break;
	case MYCEL_T_INT:
		mycel_enc_int(b, v->v.i);
		break;
	case MYCEL_T_FLOAT:
		mycel_enc_float(b, v->v.f);
		break;
	case MYCEL_T_STR:
		mycel_enc_str(b, v->v.s.ptr, v->v.s.len);
		break;
	case MYCEL_T_BIN:
		mycel_enc_bin(b, (const uint8_t *)v->v.s.ptr, v->v.s.len);
		break;
	case MYCEL_T_ARRAY:
		if (depth >= MYCEL_MAX_DEPTH)
			return MYCEL_EDEPTH;
		if (v->v.a.len > UINT32_MAX)
			return MYCEL_ETOOBIG;
		mycel_enc_array(b, (uint32_t)v->v.a.len);
		for (size_t i = 0; i < v->v.a.len && b->err == 0; i++)
			if ((rc = enc_value(&v->v.a.items[i], b, depth + 1)) != 0)
				return rc;
		break;
	case MYCEL_T_MAP:
		if (depth >= MYCEL_MAX_DEPTH)
			return MYCEL_EDEPTH;
		if (v->v.m.len > UINT32_MAX)
			return MYCEL_ETOOBIG;
		if ((rc = map_order(v, stack, &idx, true)) != 0)
			return rc;
		mycel_enc_map(b, (uint32_t)v->v.m.len);
		for (size_t i = 0; i < v->v.m.len && b->err == 0; i++) {
			const mycel_member *m = idx ? idx[i] : &v->v.m.items[i];

			mycel_enc_str(b, m->key, m->key_len);
			if ((rc = enc_value(&m->val, b, depth + 1)) != 0)
				break;
		}
		if (idx != stack)
			free(idx);
		return rc ? rc : b->err;
	default:
		return MYCEL_EINVAL;
	}
	return b->err;
}

int mycel_value_encode(const mycel_value *v, mycel_buf *b)
{
	size_t len = b->len;
	int rc;

	if (b->err)
		return b->err;
	rc = v ? enc_value(v, b, 0) : MYCEL_EINVAL;
	if (rc == 0)
		rc = b->err;
	if (rc != 0) {
		buf_fail(b, rc);
		b->len = len;
	}
	return rc;
}

const mycel_value *mycel_value_get(const mycel_value *v, const char *key)
{
	size_t n;

	if (v == NULL || key == NULL || v->type != MYCEL_T_MAP)
		return NULL;
	n = strlen(key);
	for (size_t i = 0; i < v->v.m.len; i++) {
		const mycel_member *m = &v->v.m.items[i];

		if (m->key_len == n && memcmp(m->key, key, n) == 0)
			return &m->val;
	}
	return NULL;
}

static void put_cstr(mycel_buf *b, const char *s)
{
	mycel_buf_put(b, s, strlen(s));
}

/* A JSON string: '"' and '\' escaped, control characters as \u00XX, the rest as is. */
static void render_str(mycel_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	mycel_buf_put(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];
		char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		mycel_buf_put(b, s + run, i - run);
		run = i + 1;
		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			mycel_buf_put(b, esc, 2);
		} else {
			mycel_buf_put(b, esc, 6);
		}
	}
	mycel_buf_put(b, s + run, n - run);
	mycel_buf_put(b, "\"", 1);
}

static int render_value(const mycel_value *v, mycel_buf *b, int depth)
{
	static const char hex[] = "0123456789abcdef";
	const mycel_member *stack[16], **idx;
	char num[40];
	uint8_t *o;
	int rc = 0;

	switch (v->type) {
	case MYCEL_T_NIL:
		put_cstr(b, "null");
		break;
	case MYCEL_T_BOOL:
		put_cstr(b, v->v.b ? "true" : "false");
		break;
	case MYCEL_T_UINT:
		snprintf(num, sizeof(num), "%llu", (unsigned long long)v->v.u);
		put_cstr(b, num);
		break;
	case MYCEL_T_INT:
		snprintf(num, sizeof(num), "%lld", (long long)v->v.i);
		put_cstr(b, num);
		break;
	case MYCEL_T_FLOAT:
		snprintf(num, sizeof(num), "%.17g", v->v.f);
		if (strpbrk(num, ".eni") == NULL) /* keep it apart from integers */
			strcat(num, ".0");
		put_cstr(b, num);
		break;
	case MYCEL_T_STR:
		render_str(b, v->v.s.ptr, v->v.s.len);
		break;
	case MYCEL_T_BIN:
		put_cstr(b, "h'");
		if (v->v.s.len > SIZE_MAX / 2) {
			buf_fail(b, MYCEL_ETOOBIG);
		} else if ((o = buf_room(b, 2 * v->v.s.len)) != NULL) {
			for (size_t i = 0; i < v->v.s.len; i++) {
				o[2 * i] = (uint8_t)hex[(uint8_t)v->v.s.ptr[i] >> 4];
				o[2 * i + 1] = (uint8_t)hex[(uint8_t)v->v.s.ptr[i] & 15];
			}
			b->len += 2 * v->v.s.len;
		}
		put_cstr(b, "'");
		break;
	case MYCEL_T_ARRAY:
		if (depth >= MYCEL_MAX_DEPTH)
			return MYCEL_EDEPTH;
		put_cstr(b, "[");
		for (size_t i = 0; i < v->v.a.len && rc == 0; i++) {
			if (i)
				put_cstr(b, ",");
			rc = render_value(&v->v.a.items[i], b, depth + 1);
		}
		put_cstr(b, "]");
		return rc ? rc : b->err;
	case MYCEL_T_MAP:
		if (depth >= MYCEL_MAX_DEPTH)
			return MYCEL_EDEPTH;
		if ((rc = map_order(v, stack, &idx, false)) != 0)
			return rc;
		put_cstr(b, "{");
		for (size_t i = 0; i < v->v.m.len && rc == 0; i++) {
			const mycel_member *m = idx ? idx[i] : &v->v.m.items[i];

			if (i)
				put_cstr(b, ",");
			render_str(b, m->key, m->key_len);
			put_cstr(b, ":");
			rc = render_value(&m->val, b, depth + 1);
		}
		put_cstr(b, "}");
		if (idx != stack)
			free(idx);
		return rc ? rc : b->err;
	default:
		return MYCEL_EINVAL;
	}
	return b->err;
}

int mycel_value_render(const mycel_value *v, mycel_buf *b)
{
	size_t len = b->len;
	int rc;

	if (b->err)
		return b->err;
	rc = v ? render_value(v, b, 0) : MYCEL_EINVAL;
	if (rc == 0 && buf_room(b, 1) != NULL)
		b->data[b->len] = '\0'; /* terminated, but the NUL is not counted in len */
	if (rc == 0)
		rc = b->err;
	if (rc != 0) {
		buf_fail(b, rc);
		b->len = len;
	}
	return rc;
}
