/*
 * schema_kw.c — evaluation of draft 2019-09 keywords over compiled schema
 * nodes (schema_int.h): assertions, applicators, the annotations that
 * unevaluatedProperties/unevaluatedItems need, $recursiveRef's dynamic
 * scope, and the findings a person reads (JSON equality is in schema.c).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/diag.h"
#include "mycel/error.h"
#include "schema_int.h"
#include "util.h"

#define FINDINGS_MAX 10000     /* findings kept by one validation */
#define BRANCH_FINDINGS_MAX 64 /* findings kept per anyOf/oneOf branch */
#define PATH_MAX_SEGS (MYCEL__SCHEMA_MAX_DEPTH + 2)
#define EQ_MAX_DEPTH 256 /* as in schema.c */

/* Keeps message buffers out of the frames of the recursive evaluation. */
#define NOINLINE __attribute__((noinline))

/* ---- findings ------------------------------------------------------------- */

typedef struct ifind {
	char *ptr;
	char *msg;
	uint32_t line, col;
	unsigned depth; /* path depth of the instance */
	bool shape;     /* a type/const/enum/false mismatch: the value has another shape */
} ifind;

typedef struct flist {
	ifind *items;
	size_t len, cap, max, dropped;
} flist;

static void flist_fini(flist *l)
{
	for (size_t i = 0; i < l->len; i++) {
		free(l->items[i].ptr);
		free(l->items[i].msg);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

typedef struct seg {
	const char *key; /* NULL for an array index */
	size_t len;      /* key length or index */
} seg;

/* Annotations: which members (of an object) or items (of an array) were evaluated. */
typedef struct ev {
	uint64_t *bits;
	uint64_t inl;
	size_t n;
} ev;

typedef struct ectx {
	const mycel_schema *s;
	pcre2_match_data *md;
	flist *sink; /* NULL: nobody reads findings, stop at the first failure */
	seg path[PATH_MAX_SEGS];
	unsigned plen;
	const mycel__sres *scope[MYCEL__SCHEMA_MAX_DEPTH + 1];
	unsigned slen;
	unsigned depth;
	uint64_t steps;
	char *why;
	size_t why_len;
} ectx;

static int ev_init(ev *e, size_t n)
{
	e->n = n;
	e->inl = 0;
	if (n <= 64) {
		e->bits = &e->inl;
		return 0;
	}
	e->bits = calloc((n + 63) / 64, sizeof(uint64_t));
	return e->bits ? 0 : MYCEL_ENOMEM;
}

static void ev_fini(ev *e)
{
	if (e->bits != &e->inl)
		free(e->bits);
	e->bits = NULL;
}

static inline void ev_set(ev *e, size_t i)
{
	if (e != NULL && i < e->n)
		e->bits[i / 64] |= (uint64_t)1 << (i % 64);
}

static inline bool ev_get(const ev *e, size_t i)
{
	return (e->bits[i / 64] >> (i % 64)) & 1;
}

static void ev_merge(ev *dst, const ev *src)
{
	if (dst == NULL)
		return;
	for (size_t i = 0; i < (dst->n + 63) / 64 && i < (src->n + 63) / 64; i++)
		dst->bits[i] |= src->bits[i];
}

/* ---- rendering values for messages ---------------------------------------- */

typedef struct rbuf {
	char *p;
	size_t len, cap; /* cap includes the NUL */
	bool trunc;
} rbuf;

static void rb_put(rbuf *b, const char *s, size_t n)
{
	if (b->trunc)
		return;
	if (b->len + n + 1 > b->cap) {
		n = b->cap - 1 - b->len;
		b->trunc = true;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void rb_printf(rbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void rb_printf(rbuf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		rb_put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void render_float(rbuf *b, double f)
{
	char tmp[40];
	snprintf(tmp, sizeof(tmp), "%.15g", f);
	if (strtod(tmp, NULL) != f)
		snprintf(tmp, sizeof(tmp), "%.17g", f);
	rb_put(b, tmp, strlen(tmp));
}

static void render_str(rbuf *b, const char *s, size_t n)
{
	rb_put(b, "\"", 1);
	for (size_t i = 0; i < n && !b->trunc; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\') {
			char e[2] = {'\\', (char)ch};
			rb_put(b, e, 2);
		} else if (ch < 0x20 || ch == 0x7f) {
			rb_printf(b, "\\u%04x", ch);
		} else {
			rb_put(b, (const char *)&s[i], 1);
		}
	}
	rb_put(b, "\"", 1);
}

static void render(rbuf *b, const mycel_value *v, int depth)
{
	switch (v->type) {
	case MYCEL_T_NIL:
		rb_put(b, "null", 4);
		break;
	case MYCEL_T_BOOL:
		rb_put(b, v->v.b ? "true" : "false", v->v.b ? 4 : 5);
		break;
	case MYCEL_T_UINT:
		rb_printf(b, "%llu", (unsigned long long)v->v.u);
		break;
	case MYCEL_T_INT:
		rb_printf(b, "%lld", (long long)v->v.i);
		break;
	case MYCEL_T_FLOAT:
		render_float(b, v->v.f);
		break;
	case MYCEL_T_STR:
		render_str(b, v->v.s.ptr, v->v.s.len);
		break;
	case MYCEL_T_BIN:
		rb_printf(b, "<%zu bytes>", v->v.s.len);
		break;
	case MYCEL_T_ARRAY:
		if (depth > 2 && v->v.a.len > 0) {
			rb_put(b, "[...]", 5);
			break;
		}
		rb_put(b, "[", 1);
		for (size_t i = 0; i < v->v.a.len && !b->trunc; i++) {
			if (i)
				rb_put(b, ", ", 2);
			render(b, &v->v.a.items[i], depth + 1);
		}
		rb_put(b, "]", 1);
		break;
	case MYCEL_T_MAP:
		if (depth > 2 && v->v.m.len > 0) {
			rb_put(b, "{...}", 5);
			break;
		}
		rb_put(b, "{", 1);
		for (size_t i = 0; i < v->v.m.len && !b->trunc; i++) {
			if (i)
				rb_put(b, ", ", 2);
			render_str(b, v->v.m.items[i].key, v->v.m.items[i].key_len);
			rb_put(b, ": ", 2);
			render(b, &v->v.m.items[i].val, depth + 1);
		}
		rb_put(b, "}", 1);
		break;
	}
}

/* Renders v into buf (at most max bytes of text), ending with "..." when cut. */
static const char *show(char *buf, size_t max, const mycel_value *v)
{
	rbuf b = {buf, 0, max - 3, false};
	buf[0] = '\0';
	render(&b, v, 0);
	if (b.trunc)
		strcpy(buf + b.len, "...");
	return buf;
}

static const char *show_str(char *buf, size_t max, const char *s, size_t n)
{
	rbuf b = {buf, 0, max - 3, false};
	buf[0] = '\0';
	render_str(&b, s, n);
	if (b.trunc)
		strcpy(buf + b.len, "...");
	return buf;
}

/* ---- emitting findings ---------------------------------------------------- */

static int efail(ectx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int efail(ectx *c, int code, const char *fmt, ...)
{
	if (c->why != NULL && c->why_len > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->why, c->why_len, fmt, ap);
		va_end(ap);
	}
	return code;
}

static char *build_pointer(const ectx *c)
{
	size_t n = 1;
	for (unsigned i = 0; i < c->plen; i++)
		n += c->path[i].key ? 1 + 2 * c->path[i].len : 22;
	char *p = malloc(n), *o = p;
	if (p == NULL)
		return NULL;
	for (unsigned i = 0; i < c->plen; i++) {
		const seg *g = &c->path[i];
		*o++ = '/';
		if (g->key == NULL) {
			o += sprintf(o, "%zu", g->len);
			continue;
		}
		for (size_t k = 0; k < g->len; k++) {
			if (g->key[k] == '~') {
				*o++ = '~';
				*o++ = '0';
			} else if (g->key[k] == '/') {
				*o++ = '~';
				*o++ = '1';
			} else {
				*o++ = g->key[k];
			}
		}
	}
	*o = '\0';
	return p;
}

static int emit(ectx *c, const mycel_value *x, bool shape, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int emit(ectx *c, const mycel_value *x, bool shape, const char *fmt, ...)
{
	flist *l = c->sink;
	char msg[1024];
	va_list ap;
	if (l == NULL)
		return 0;
	if (l->len >= l->max) {
		l->dropped++;
		return 0;
	}
	if (l->len == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		ifind *p = realloc(l->items, cap * sizeof(*p));
		if (p == NULL)
			return efail(c, MYCEL_ENOMEM, "out of memory");
		l->items = p;
		l->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ifind *f = &l->items[l->len];
	f->ptr = build_pointer(c);
	f->msg = strdup(msg);
	if (f->ptr == NULL || f->msg == NULL) {
		free(f->ptr);
		free(f->msg);
		return efail(c, MYCEL_ENOMEM, "out of memory");
	}
	f->line = x->line;
	f->col = x->col;
	f->depth = c->plen;
	f->shape = shape;
	l->len++;
	return 0;
}

static int path_push(ectx *c, const char *key, size_t len)
{
	if (c->plen >= PATH_MAX_SEGS)
		return efail(c, MYCEL_ETOOBIG, "instance nested too deeply");
	c->path[c->plen].key = key;
	c->path[c->plen].len = len;
	c->plen++;
	return 0;
}

/* ---- hashing and duplicates ----------------------------------------------- */

#define TWO64 18446744073709551616.0
#define TWO63 9223372036854775808.0

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t hash_bytes(const char *p, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* A hash consistent with mycel__json_eq. */
static uint64_t json_hash(const mycel_value *v, int depth)
{
	if (depth > EQ_MAX_DEPTH)
		return 0;
	switch (v->type) {
	case MYCEL_T_NIL:
		return 0x1234;
	case MYCEL_T_BOOL:
		return v->v.b ? 0x2345 : 0x3456;
	case MYCEL_T_UINT:
		return mix64(v->v.u);
	case MYCEL_T_INT:
		return mix64((uint64_t)v->v.i);
	case MYCEL_T_FLOAT: {
		double f = v->v.f;
		if (f == mycel__f_trunc(f) && f >= 0 && f < TWO64)
			return mix64((uint64_t)f);
		if (f == mycel__f_trunc(f) && f < 0 && f >= -TWO63)
			return mix64((uint64_t)(int64_t)f);
		uint64_t bits;
		memcpy(&bits, &f, sizeof(bits));
		return mix64(bits ^ 0x5555);
	}
	case MYCEL_T_STR:
	case MYCEL_T_BIN:
		return hash_bytes(v->v.s.ptr, v->v.s.len, 1469598103934665603ULL + v->type);
	case MYCEL_T_ARRAY: {
		uint64_t h = 0x4567;
		for (size_t i = 0; i < v->v.a.len; i++)
			h = mix64(h ^ json_hash(&v->v.a.items[i], depth + 1));
		return h;
	}
	case MYCEL_T_MAP: {
		uint64_t h = 0x5678;
		for (size_t i = 0; i < v->v.m.len; i++) {
			const mycel_member *m = &v->v.m.items[i];
			uint64_t k = hash_bytes(m->key, m->key_len, 1469598103934665603ULL);
			h += mix64(k ^ mix64(json_hash(&m->val, depth + 1)));
		}
		return h;
	}
	}
	return 0;
}

typedef struct hidx {
	uint64_t h;
	size_t i;
} hidx;

static int hidx_cmp(const void *x, const void *y)
{
	const hidx *a = x, *b = y;
	if (a->h != b->h)
		return a->h < b->h ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/* Finds two equal items (i < j) of array x; false if all are distinct. */
static int find_duplicate(ectx *c, const mycel_value *x, size_t *out_i, size_t *out_j, bool *found)
{
	size_t n = x->v.a.len;
	const mycel_value *it = x->v.a.items;
	*found = false;
	if (n <= 16) {
		for (size_t i = 0; i < n; i++)
			for (size_t j = i + 1; j < n; j++)
				if (mycel__json_eq(&it[i], &it[j])) {
					*out_i = i;
					*out_j = j;
					*found = true;
					return 0;
				}
		return 0;
	}
	hidx *h = malloc(n * sizeof(*h));
	if (h == NULL)
		return efail(c, MYCEL_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		h[i] = (hidx){json_hash(&it[i], 0), i};
	qsort(h, n, sizeof(*h), hidx_cmp);
	for (size_t a = 0; a < n && !*found; a++)
		for (size_t b = a + 1; b < n && h[b].h == h[a].h; b++)
			if (mycel__json_eq(&it[h[a].i], &it[h[b].i])) {
				size_t i = h[a].i, j = h[b].i;
				*out_i = i < j ? i : j;
				*out_j = i < j ? j : i;
				*found = true;
				break;
			}
	free(h);
	return 0;
}

/* ---- assertions ------------------------------------------------------------ */

static const char *type_of(const mycel_value *x)
{
	switch (x->type) {
	case MYCEL_T_NIL:
		return "null";
	case MYCEL_T_BOOL:
		return "boolean";
	case MYCEL_T_UINT:
	case MYCEL_T_INT:
		return "integer";
	case MYCEL_T_FLOAT:
		return "number";
	case MYCEL_T_STR:
		return "string";
	case MYCEL_T_BIN:
		return "binary";
	case MYCEL_T_ARRAY:
		return "array";
	case MYCEL_T_MAP:
		return "object";
	}
	return "?";
}

static bool type_ok(uint8_t t, const mycel_value *x)
{
	switch (x->type) {
	case MYCEL_T_NIL:
		return t & MYCEL__JT_NULL;
	case MYCEL_T_BOOL:
		return t & MYCEL__JT_BOOL;
	case MYCEL_T_UINT:
	case MYCEL_T_INT:
		return t & (MYCEL__JT_INT | MYCEL__JT_NUM);
	case MYCEL_T_FLOAT:
		return (t & MYCEL__JT_NUM) ||
		       ((t & MYCEL__JT_INT) && x->v.f == mycel__f_trunc(x->v.f));
	case MYCEL_T_STR:
		return t & MYCEL__JT_STR;
	case MYCEL_T_ARRAY:
		return t & MYCEL__JT_ARR;
	case MYCEL_T_MAP:
		return t & MYCEL__JT_OBJ;
	default:
		return false;
	}
}

static NOINLINE int fail_type(ectx *c, const mycel__snode *n, const mycel_value *x)
{
	const mycel_value *t = mycel_value_get(n->v, "type");
	char list[160];
	rbuf b = {list, 0, sizeof(list), false};
	list[0] = '\0';
	if (t != NULL && t->type == MYCEL_T_STR) {
		rb_put(&b, t->v.s.ptr, t->v.s.len);
	} else if (t != NULL && t->type == MYCEL_T_ARRAY) {
		for (size_t i = 0; i < t->v.a.len; i++) {
			if (i)
				rb_put(&b, i + 1 == t->v.a.len ? " or " : ", ",
				       i + 1 == t->v.a.len ? 4 : 2);
			rb_put(&b, t->v.a.items[i].v.s.ptr, t->v.a.items[i].v.s.len);
		}
	}
	return emit(c, x, true, "expected %s, got %s", list, type_of(x));
}

static NOINLINE int fail_const(ectx *c, const mycel__snode *n, const mycel_value *x)
{
	char want[80], got[80];
	return emit(c, x, true, "must be %s, got %s", show(want, sizeof(want), n->const_),
	            show(got, sizeof(got), x));
}

static NOINLINE int fail_enum(ectx *c, const mycel__snode *n, const mycel_value *x)
{
	char inst[80], list[200], one[64];
	size_t k = n->enum_->v.a.len;
	show(inst, sizeof(inst), x);
	if (k == 0)
		return emit(c, x, true, "%s is not allowed (the enum is empty)", inst);
	if (k == 1)
		return emit(c, x, true, "must be %s, got %s",
		            show(list, sizeof(list), &n->enum_->v.a.items[0]), inst);
	rbuf b = {list, 0, sizeof(list), false};
	list[0] = '\0';
	size_t i;
	for (i = 0; i < k; i++) {
		show(one, sizeof(one), &n->enum_->v.a.items[i]);
		if (i > 0 && b.len + strlen(one) + 2 > 100)
			break;
		if (i)
			rb_put(&b, ", ", 2);
		rb_put(&b, one, strlen(one));
	}
	if (i < k)
		return emit(c, x, true, "%s is not one of %s, ... (%zu values)", inst, list, k);
	return emit(c, x, true, "%s is not one of %s", inst, list);
}

#define FAILED()                                                                                   \
	do {                                                                                       \
		*valid = false;                                                                    \
		if (c->sink == NULL)                                                               \
			return 0;                                                                  \
	} while (0)

#define TRY(expr)                                                                                  \
	do {                                                                                       \
		int err_ = (expr);                                                                 \
		if (err_ != 0)                                                                     \
			return err_;                                                               \
	} while (0)

static NOINLINE int assert_number(ectx *c, const mycel__snode *n, const mycel_value *x, bool *valid)
{
	char a[64], b[64];
	if (n->minimum && mycel__json_cmp(x, n->minimum) < 0) {
		FAILED();
		TRY(emit(c, x, false, "must be >= %s, got %s", show(a, sizeof(a), n->minimum),
		         show(b, sizeof(b), x)));
	}
	if (n->maximum && mycel__json_cmp(x, n->maximum) > 0) {
		FAILED();
		TRY(emit(c, x, false, "must be <= %s, got %s", show(a, sizeof(a), n->maximum),
		         show(b, sizeof(b), x)));
	}
	if (n->xminimum && mycel__json_cmp(x, n->xminimum) <= 0) {
		FAILED();
		TRY(emit(c, x, false, "must be > %s, got %s", show(a, sizeof(a), n->xminimum),
		         show(b, sizeof(b), x)));
	}
	if (n->xmaximum && mycel__json_cmp(x, n->xmaximum) >= 0) {
		FAILED();
		TRY(emit(c, x, false, "must be < %s, got %s", show(a, sizeof(a), n->xmaximum),
		         show(b, sizeof(b), x)));
	}
	if (n->multiple_of && !mycel__json_multiple_of(x, n->multiple_of)) {
		FAILED();
		TRY(emit(c, x, false, "%s is not a multiple of %s", show(b, sizeof(b), x),
		         show(a, sizeof(a), n->multiple_of)));
	}
	return 0;
}

static int re_match(ectx *c, pcre2_code *re, const char *s, size_t len, bool *out)
{
	int rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, c->md, c->s->mctx);
	*out = rc >= 0;
	if (rc >= 0 || rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_PARTIAL)
		return 0;
	if (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21)
		return 0; /* not UTF-8: no match */
	PCRE2_UCHAR msg[128];
	if (pcre2_get_error_message(rc, msg, sizeof(msg)) < 0)
		strcpy((char *)msg, "error");
	return efail(c, MYCEL_ETOOBIG, "pattern matching failed: %s", (const char *)msg);
}

static NOINLINE int assert_string(ectx *c, const mycel__snode *n, const mycel_value *x, bool *valid)
{
	if (n->min_len > 0 || n->max_len != UINT64_MAX) {
		uint64_t cp = 0;
		for (size_t i = 0; i < x->v.s.len; i++)
			cp += ((uint8_t)x->v.s.ptr[i] & 0xc0) != 0x80;
		if (cp < n->min_len) {
			FAILED();
			TRY(emit(c, x, false, "must be at least %llu characters long, got %llu",
			         (unsigned long long)n->min_len, (unsigned long long)cp));
		}
		if (cp > n->max_len) {
			FAILED();
			TRY(emit(c, x, false, "must be at most %llu characters long, got %llu",
			         (unsigned long long)n->max_len, (unsigned long long)cp));
		}
	}
	if (n->pattern) {
		bool m;
		TRY(re_match(c, n->pattern, x->v.s.ptr, x->v.s.len, &m));
		if (!m) {
			char p[160];
			FAILED();
			TRY(emit(c, x, false, "must match pattern %s",
			         show_str(p, sizeof(p), n->pattern_src, strlen(n->pattern_src))));
		}
	}
	return 0;
}

static const char *plural(uint64_t k, const char *one, const char *many)
{
	return k == 1 ? one : many;
}

static NOINLINE int assert_array(ectx *c, const mycel__snode *n, const mycel_value *x, bool *valid)
{
	size_t len = x->v.a.len;
	if (len < n->min_items) {
		FAILED();
		TRY(emit(c, x, false, "must have at least %llu %s, got %zu",
		         (unsigned long long)n->min_items, plural(n->min_items, "item", "items"),
		         len));
	}
	if (len > n->max_items) {
		FAILED();
		TRY(emit(c, x, false, "must have at most %llu %s, got %zu",
		         (unsigned long long)n->max_items, plural(n->max_items, "item", "items"),
		         len));
	}
	if (n->unique_items && len > 1) {
		size_t i = 0, j = 0;
		bool dup;
		TRY(find_duplicate(c, x, &i, &j, &dup));
		if (dup) {
			FAILED();
			TRY(emit(c, x, false, "items %zu and %zu are equal, items must be unique",
			         i, j));
		}
	}
	return 0;
}

/* A lookup of an object's members by key: linear for small maps, sorted for large ones. */
typedef struct keyidx {
	const mycel_value *x;
	const mycel_member **sorted; /* NULL: scan */
} keyidx;

static int keyidx_init(ectx *c, keyidx *k, const mycel_value *x)
{
	k->x = x;
	k->sorted = NULL;
	if (x->v.m.len <= 16)
		return 0;
	k->sorted = malloc(x->v.m.len * sizeof(*k->sorted));
	if (k->sorted == NULL)
		return efail(c, MYCEL_ENOMEM, "out of memory");
	for (size_t i = 0; i < x->v.m.len; i++)
		k->sorted[i] = &x->v.m.items[i];
	qsort(k->sorted, x->v.m.len, sizeof(*k->sorted), mycel__member_cmp);
	return 0;
}

static bool keyidx_has(const keyidx *k, const char *key, size_t len)
{
	if (k->sorted == NULL)
		return mycel__json_member(k->x, key, len) != NULL;
	mycel_member probe = {.key = key, .key_len = len};
	const mycel_member *pp = &probe;
	return bsearch(&pp, k->sorted, k->x->v.m.len, sizeof(*k->sorted), mycel__member_cmp) !=
	       NULL;
}

static NOINLINE int assert_object(ectx *c, const mycel__snode *n, const mycel_value *x, bool *valid)
{
	size_t len = x->v.m.len;
	int err = 0;
	if (len < n->min_props) {
		FAILED();
		TRY(emit(c, x, false, "must have at least %llu %s, got %zu",
		         (unsigned long long)n->min_props,
		         plural(n->min_props, "property", "properties"), len));
	}
	if (len > n->max_props) {
		FAILED();
		TRY(emit(c, x, false, "must have at most %llu %s, got %zu",
		         (unsigned long long)n->max_props,
		         plural(n->max_props, "property", "properties"), len));
	}
	if (n->required == NULL && n->ndep_req == 0)
		return 0;
	keyidx k;
	char name[96], other[96];
	TRY(keyidx_init(c, &k, x));
	if (n->required != NULL) {
		for (size_t i = 0; i < n->required->v.a.len && err == 0; i++) {
			const mycel_value *r = &n->required->v.a.items[i];
			if (keyidx_has(&k, r->v.s.ptr, r->v.s.len))
				continue;
			*valid = false;
			if (c->sink == NULL)
				break;
			err = emit(c, x, false, "missing required property %s",
			           show_str(name, sizeof(name), r->v.s.ptr, r->v.s.len));
		}
	}
	for (size_t d = 0; d < n->ndep_req && err == 0 && (*valid || c->sink); d++) {
		const mycel__sdep *dep = &n->dep_req[d];
		if (!keyidx_has(&k, dep->key, dep->len))
			continue;
		for (size_t i = 0; i < dep->names->v.a.len && err == 0; i++) {
			const mycel_value *r = &dep->names->v.a.items[i];
			if (keyidx_has(&k, r->v.s.ptr, r->v.s.len))
				continue;
			*valid = false;
			if (c->sink == NULL)
				break;
			err = emit(c, x, false, "property %s requires property %s",
			           show_str(name, sizeof(name), dep->key, dep->len),
			           show_str(other, sizeof(other), r->v.s.ptr, r->v.s.len));
		}
	}
	free(k.sorted);
	return err;
}

/* ---- applicators ----------------------------------------------------------- */

static int eval(ectx *c, const mycel__snode *n, const mycel_value *x, ev *ann, bool *ok);

/* A finding at member m of the object being evaluated: `property "m" <what>`. */
static NOINLINE int fail_member(ectx *c, const mycel_member *m, const char *what)
{
	char name[96];
	TRY(path_push(c, m->key, m->key_len));
	int err = emit(c, &m->val, false, "property %s %s",
	               show_str(name, sizeof(name), m->key, m->key_len), what);
	c->plen--;
	return err;
}

/* Evaluates member i of object x against n (a false schema reads "is not allowed"). */
static int eval_member(ectx *c, const mycel__snode *n, const mycel_value *x, size_t i, bool *valid)
{
	const mycel_member *m = &x->v.m.items[i];
	bool ok = false;
	int err;
	if (n->kind == MYCEL__SK_FALSE) {
		err = fail_member(c, m, "is not allowed");
	} else {
		TRY(path_push(c, m->key, m->key_len));
		err = eval(c, n, &m->val, NULL, &ok);
		c->plen--;
	}
	if (!ok)
		*valid = false;
	return err;
}

/* Evaluates item i of array x against n; a false schema reads "is not allowed". */
static int eval_item(ectx *c, const mycel__snode *n, const mycel_value *x, size_t i, bool *valid,
                     size_t most)
{
	bool ok;
	TRY(path_push(c, NULL, i));
	int err;
	if (n->kind == MYCEL__SK_FALSE && most != SIZE_MAX) {
		ok = false;
		err = emit(c, &x->v.a.items[i], false, "item %zu is not allowed (at most %zu %s)",
		           i, most, plural(most, "item", "items"));
	} else if (n->kind == MYCEL__SK_FALSE) {
		ok = false;
		err = emit(c, &x->v.a.items[i], false, "item %zu is not allowed", i);
	} else {
		err = eval(c, n, &x->v.a.items[i], NULL, &ok);
	}
	c->plen--;
	if (!ok)
		*valid = false;
	return err;
}

static int skey_find_cmp(const void *k, const void *e)
{
	const mycel_member *m = k;
	const mycel__skey *s = e;
	size_t n = m->key_len < s->len ? m->key_len : s->len;
	int r = memcmp(m->key, s->key, n);
	if (r != 0)
		return r;
	return m->key_len < s->len ? -1 : m->key_len > s->len;
}

/* propertyNames: the member's name, as a string, against schema n. */
static NOINLINE int check_name(ectx *c, const mycel__snode *n, const mycel_member *m, bool *valid)
{
	mycel_value name = {.type = MYCEL_T_STR, .line = m->val.line, .col = m->val.col};
	name.v.s.ptr = m->key;
	name.v.s.len = m->key_len;
	flist *saved = c->sink;
	bool ok;
	c->sink = NULL;
	int err = eval(c, n, &name, NULL, &ok);
	c->sink = saved;
	TRY(err);
	if (ok)
		return 0;
	*valid = false;
	return fail_member(c, m, "has a name that \"propertyNames\" does not allow");
}

static int apply_object(ectx *c, const mycel__snode *n, const mycel_value *x, ev *a, bool *valid)
{
	for (size_t i = 0; i < x->v.m.len; i++) {
		const mycel_member *m = &x->v.m.items[i];
		bool matched = false;
		if (n->nprops) {
			const mycel__skey *k =
			    bsearch(m, n->props, n->nprops, sizeof(*n->props), skey_find_cmp);
			if (k != NULL) {
				matched = true;
				TRY(eval_member(c, k->node, x, i, valid));
				if (!*valid && c->sink == NULL)
					return 0;
			}
		}
		for (size_t p = 0; p < n->npprops; p++) {
			bool hit;
			TRY(re_match(c, n->pprops[p].re, m->key, m->key_len, &hit));
			if (!hit)
				continue;
			matched = true;
			TRY(eval_member(c, n->pprops[p].node, x, i, valid));
			if (!*valid && c->sink == NULL)
				return 0;
		}
		if (!matched && n->addl_props) {
			matched = true;
			TRY(eval_member(c, n->addl_props, x, i, valid));
			if (!*valid && c->sink == NULL)
				return 0;
		}
		if (matched)
			ev_set(a, i);
		if (n->prop_names)
			TRY(check_name(c, n->prop_names, m, valid));
	}
	return 0;
}

static int apply_array(ectx *c, const mycel__snode *n, const mycel_value *x, ev *a, bool *valid)
{
	size_t len = x->v.a.len;
	if (n->nitems && !n->items_array) {
		for (size_t i = 0; i < len; i++) {
			TRY(eval_item(c, n->items[0], x, i, valid, SIZE_MAX));
			if (!*valid && c->sink == NULL)
				return 0;
			ev_set(a, i);
		}
	} else if (n->items_array) {
		for (size_t i = 0; i < len && i < n->nitems; i++) {
			TRY(eval_item(c, n->items[i], x, i, valid, SIZE_MAX));
			if (!*valid && c->sink == NULL)
				return 0;
			ev_set(a, i);
		}
		if (n->addl_items && len > n->nitems) {
			for (size_t i = n->nitems; i < len; i++) {
				TRY(eval_item(c, n->addl_items, x, i, valid, n->nitems));
				if (!*valid && c->sink == NULL)
					return 0;
				ev_set(a, i);
			}
		}
	}
	if (n->contains) {
		uint64_t count = 0;
		flist *saved = c->sink;
		c->sink = NULL;
		int err = 0;
		/*
		 * Items that match count as evaluated for unevaluatedItems, as in
		 * 2020-12 and in the reference validator (Python jsonschema) for 2019-09.
		 */
		for (size_t i = 0; i < len && err == 0; i++) {
			bool ok;
			err = eval(c, n->contains, &x->v.a.items[i], NULL, &ok);
			count += ok;
			if (ok)
				ev_set(a, i);
			if (count >= n->min_contains && n->max_contains == UINT64_MAX && a == NULL)
				break; /* nothing more to learn */
		}
		c->sink = saved;
		TRY(err);
		if (count < n->min_contains) {
			FAILED();
			TRY(emit(c, x, false,
			         "must contain at least %llu %s matching \"contains\", found %llu",
			         (unsigned long long)n->min_contains,
			         plural(n->min_contains, "item", "items"),
			         (unsigned long long)count));
		}
		if (count > n->max_contains) {
			FAILED();
			TRY(emit(c, x, false,
			         "must contain at most %llu %s matching \"contains\", found %llu",
			         (unsigned long long)n->max_contains,
			         plural(n->max_contains, "item", "items"),
			         (unsigned long long)count));
		}
	}
	return 0;
}

/* Evaluates branch b on x silently, collecting annotations into a fresh set when wanted. */
static int eval_quiet(ectx *c, const mycel__snode *b, const mycel_value *x, ev *tmp, bool *ok)
{
	flist *saved = c->sink;
	c->sink = NULL;
	int err = eval(c, b, x, tmp, ok);
	c->sink = saved;
	return err;
}

/*
 * After anyOf/oneOf found no matching alternative: one finding at the instance,
 * followed by the findings of the alternative that fits the value's shape, when
 * exactly one does (its type, const and enum hold at the instance itself).
 */
static int explain_branches(ectx *c, mycel__snode **br, size_t nbr, const mycel_value *x,
                            const char *msg)
{
	TRY(emit(c, x, true, "%s", msg));
	flist *saved = c->sink;
	flist best = {0};
	size_t ncand = 0;
	int err = 0;
	for (size_t i = 0; i < nbr && err == 0 && ncand < 2; i++) {
		flist tmp = {.max = BRANCH_FINDINGS_MAX};
		bool ok;
		c->sink = &tmp;
		err = eval(c, br[i], x, NULL, &ok);
		c->sink = saved;
		bool cand = err == 0 && tmp.len > 0;
		for (size_t j = 0; j < tmp.len && cand; j++)
			if (tmp.items[j].shape && tmp.items[j].depth == c->plen)
				cand = false;
		if (cand && ncand++ == 0) {
			best = tmp;
			continue;
		}
		flist_fini(&tmp);
	}
	c->sink = saved;
	if (err == 0 && ncand == 1) {
		for (size_t j = 0; j < best.len; j++) {
			if (saved->len >= saved->max) {
				saved->dropped++;
				continue;
			}
			if (saved->len == saved->cap) {
				size_t cap = saved->cap ? 2 * saved->cap : 16;
				ifind *p = realloc(saved->items, cap * sizeof(*p));
				if (p == NULL) {
					err = efail(c, MYCEL_ENOMEM, "out of memory");
					break;
				}
				saved->items = p;
				saved->cap = cap;
			}
			saved->items[saved->len++] = best.items[j];
			best.items[j].ptr = best.items[j].msg = NULL;
		}
	}
	flist_fini(&best);
	return err;
}

/*
 * After anyOf/oneOf failed (so the object is invalid anyway), the annotations
 * of every alternative, so that unevaluatedProperties does not add findings
 * about properties the alternatives did look at.
 */
static int merge_all(ectx *c, mycel__snode **br, size_t nbr, const mycel_value *x, ev *a)
{
	if (a == NULL || c->sink == NULL)
		return 0;
	for (size_t i = 0; i < nbr; i++) {
		ev tmp;
		bool ok;
		TRY(ev_init(&tmp, a->n));
		int err = eval_quiet(c, br[i], x, &tmp, &ok);
		ev_merge(a, &tmp);
		ev_fini(&tmp);
		TRY(err);
	}
	return 0;
}

static NOINLINE int apply_anyof(ectx *c, const mycel__snode *n, const mycel_value *x, ev *a,
                                bool *valid)
{
	size_t nvalid = 0;
	int err = 0;
	for (size_t i = 0; i < n->nany_of && err == 0; i++) {
		ev tmp;
		bool ok;
		if (a != NULL && (err = ev_init(&tmp, a->n)) != 0)
			break;
		err = eval_quiet(c, n->any_of[i], x, a ? &tmp : NULL, &ok);
		if (err == 0 && ok) {
			nvalid++;
			if (a != NULL)
				ev_merge(a, &tmp);
		}
		if (a != NULL)
			ev_fini(&tmp);
		if (nvalid && a == NULL)
			break;
	}
	TRY(err);
	if (nvalid == 0) {
		char msg[96];
		FAILED();
		snprintf(msg, sizeof(msg), "does not match any of the %zu alternatives",
		         n->nany_of);
		TRY(merge_all(c, n->any_of, n->nany_of, x, a));
		return explain_branches(c, n->any_of, n->nany_of, x, msg);
	}
	return 0;
}

static NOINLINE int apply_oneof(ectx *c, const mycel__snode *n, const mycel_value *x, ev *a,
                                bool *valid)
{
	size_t nvalid = 0;
	ev keep;
	bool kept = false;
	int err = 0;
	for (size_t i = 0; i < n->none_of && err == 0 && nvalid < 2; i++) {
		ev tmp;
		bool ok;
		if (a != NULL && (err = ev_init(&tmp, a->n)) != 0)
			break;
		err = eval_quiet(c, n->one_of[i], x, a ? &tmp : NULL, &ok);
		if (err == 0 && ok && nvalid++ == 0 && a != NULL) {
			keep = tmp;
			if (tmp.bits == &tmp.inl)
				keep.bits = &keep.inl;
			kept = true;
			continue;
		}
		if (a != NULL)
			ev_fini(&tmp);
	}
	if (err == 0 && nvalid == 1 && kept)
		ev_merge(a, &keep);
	if (kept)
		ev_fini(&keep);
	TRY(err);
	if (nvalid == 1)
		return 0;
	char msg[96];
	FAILED();
	TRY(merge_all(c, n->one_of, n->none_of, x, a));
	if (nvalid == 0) {
		snprintf(msg, sizeof(msg), "does not match any of the %zu alternatives",
		         n->none_of);
		return explain_branches(c, n->one_of, n->none_of, x, msg);
	}
	/* count every match for the message */
	size_t total = 0;
	for (size_t i = 0; i < n->none_of; i++) {
		bool ok;
		TRY(eval_quiet(c, n->one_of[i], x, NULL, &ok));
		total += ok;
	}
	return emit(c, x, false, "matches %zu of the alternatives, exactly one is required", total);
}

static int apply_inplace(ectx *c, const mycel__snode *n, const mycel_value *x, ev *a, bool *valid)
{
	bool ok;
	if (n->ref) {
		if (n->ref->target == NULL)
			return efail(c, MYCEL_ENOTFOUND, "unresolvable $ref \"%s\" at %s",
			             n->ref->uri, n->ref->where[0] ? n->ref->where : "the root");
		TRY(eval(c, n->ref->target, x, a, &ok));
		if (!ok)
			FAILED();
	}
	if (n->rref) {
		const mycel__snode *t = n->rref->target;
		if (t == NULL)
			return efail(c, MYCEL_ENOTFOUND, "unresolvable $recursiveRef \"%s\" at %s",
			             n->rref->uri, n->rref->where[0] ? n->rref->where : "the root");
		if (t->recursive_anchor) {
			/* the outermost of the consecutive dynamic scopes that are recursive
			 * anchors */
			for (unsigned i = c->slen; i-- > 0;) {
				const mycel__snode *r = c->scope[i]->root;
				if (r == NULL || !r->recursive_anchor)
					break;
				t = r;
			}
		}
		TRY(eval(c, t, x, a, &ok));
		if (!ok)
			FAILED();
	}
	for (size_t i = 0; i < n->nall_of; i++) {
		TRY(eval(c, n->all_of[i], x, a, &ok));
		if (!ok)
			FAILED();
	}
	if (n->nany_of)
		TRY(apply_anyof(c, n, x, a, valid));
	if (!*valid && c->sink == NULL)
		return 0;
	if (n->none_of)
		TRY(apply_oneof(c, n, x, a, valid));
	if (!*valid && c->sink == NULL)
		return 0;
	if (n->not_) {
		TRY(eval_quiet(c, n->not_, x, NULL, &ok));
		if (ok) {
			FAILED();
			TRY(emit(c, x, false, "must not match the schema in \"not\""));
		}
	}
	if (n->if_ && (n->then_ || n->else_ || a != NULL)) {
		ev tmp;
		if (a != NULL)
			TRY(ev_init(&tmp, a->n));
		int err = eval_quiet(c, n->if_, x, a ? &tmp : NULL, &ok);
		if (err == 0 && ok && a != NULL)
			ev_merge(a, &tmp);
		if (a != NULL)
			ev_fini(&tmp);
		TRY(err);
		const mycel__snode *branch = ok ? n->then_ : n->else_;
		if (branch != NULL) {
			bool bok;
			TRY(eval(c, branch, x, a, &bok));
			if (!bok)
				FAILED();
		}
	}
	if (n->ndep_schemas && x->type == MYCEL_T_MAP) {
		for (size_t d = 0; d < n->ndep_schemas; d++) {
			if (mycel__json_member(x, n->dep_schemas[d].key, n->dep_schemas[d].len) ==
			    NULL)
				continue;
			TRY(eval(c, n->dep_schemas[d].node, x, a, &ok));
			if (!ok)
				FAILED();
		}
	}
	return 0;
}

static int apply_unevaluated(ectx *c, const mycel__snode *n, const mycel_value *x, ev *a,
                             bool *valid)
{
	if (n->uneval_props && x->type == MYCEL_T_MAP) {
		for (size_t i = 0; i < x->v.m.len; i++) {
			if (ev_get(a, i))
				continue;
			TRY(eval_member(c, n->uneval_props, x, i, valid));
			if (!*valid && c->sink == NULL)
				return 0;
			ev_set(a, i);
		}
	}
	if (n->uneval_items && x->type == MYCEL_T_ARRAY) {
		for (size_t i = 0; i < x->v.a.len; i++) {
			if (ev_get(a, i))
				continue;
			TRY(eval_item(c, n->uneval_items, x, i, valid, SIZE_MAX));
			if (!*valid && c->sink == NULL)
				return 0;
			ev_set(a, i);
		}
	}
	return 0;
}

static int eval_body(ectx *c, const mycel__snode *n, const mycel_value *x, ev *a, bool *valid)
{
	if (n->has_type && !type_ok(n->types, x)) {
		FAILED();
		TRY(fail_type(c, n, x));
	}
	if (n->enum_) {
		size_t i;
		for (i = 0; i < n->enum_->v.a.len; i++)
			if (mycel__json_eq(x, &n->enum_->v.a.items[i]))
				break;
		if (i == n->enum_->v.a.len) {
			FAILED();
			TRY(fail_enum(c, n, x));
		}
	}
	if (n->has_const && !mycel__json_eq(x, n->const_)) {
		FAILED();
		TRY(fail_const(c, n, x));
	}
	switch (x->type) {
	case MYCEL_T_UINT:
	case MYCEL_T_INT:
	case MYCEL_T_FLOAT:
		TRY(assert_number(c, n, x, valid));
		break;
	case MYCEL_T_STR:
		TRY(assert_string(c, n, x, valid));
		break;
	case MYCEL_T_ARRAY:
		TRY(assert_array(c, n, x, valid));
		break;
	case MYCEL_T_MAP:
		TRY(assert_object(c, n, x, valid));
		break;
	default:
		break;
	}
	if (!*valid && c->sink == NULL)
		return 0;
	TRY(apply_inplace(c, n, x, a, valid));
	if (!*valid && c->sink == NULL)
		return 0;
	if (x->type == MYCEL_T_MAP)
		TRY(apply_object(c, n, x, a, valid));
	else if (x->type == MYCEL_T_ARRAY)
		TRY(apply_array(c, n, x, a, valid));
	if (!*valid && c->sink == NULL)
		return 0;
	return apply_unevaluated(c, n, x, a, valid);
}

static int eval(ectx *c, const mycel__snode *n, const mycel_value *x, ev *ann, bool *ok)
{
	*ok = true;
	if (n->kind == MYCEL__SK_TRUE)
		return 0;
	if (n->kind == MYCEL__SK_FALSE) {
		*ok = false;
		return emit(c, x, true, "no value is allowed here");
	}
	if (++c->steps > MYCEL__SCHEMA_MAX_STEPS)
		return efail(c, MYCEL_ETOOBIG, "validation exceeds %llu schema evaluations",
		             (unsigned long long)MYCEL__SCHEMA_MAX_STEPS);
	if (c->depth >= MYCEL__SCHEMA_MAX_DEPTH)
		return efail(c, MYCEL_ETOOBIG,
		             "schema evaluation nested deeper than %d levels (a $ref loop?)",
		             MYCEL__SCHEMA_MAX_DEPTH);
	c->depth++;
	bool pushed = false;
	if (c->slen == 0 || c->scope[c->slen - 1] != n->res) {
		c->scope[c->slen++] = n->res;
		pushed = true;
	}
	ev local, *a = ann;
	bool need_local = (n->uneval_props && x->type == MYCEL_T_MAP) ||
	                  (n->uneval_items && x->type == MYCEL_T_ARRAY);
	int err = 0;
	if (need_local) {
		err = ev_init(&local, x->type == MYCEL_T_MAP ? x->v.m.len : x->v.a.len);
		if (err)
			err = efail(c, err, "out of memory");
		a = &local;
	}
	bool valid = true;
	if (err == 0)
		err = eval_body(c, n, x, a, &valid);
	if (need_local) {
		/*
		 * When n failed, so does whatever wanted its annotations (branches of
		 * anyOf, oneOf, not and if collect into sets of their own and drop them
		 * on failure): passing them on anyway spares the user findings about
		 * "unevaluated" properties that n did look at.
		 */
		if (err == 0)
			ev_merge(ann, &local);
		ev_fini(&local);
	}
	if (pushed)
		c->slen--;
	c->depth--;
	*ok = valid;
	return err;
}

/* ---- entry point ------------------------------------------------------------ */

static uint64_t finding_hash(const ifind *f)
{
	return hash_bytes(f->msg, strlen(f->msg), hash_bytes(f->ptr, strlen(f->ptr) + 1, 7));
}

/* Copies findings to out in order, leaving out exact repetitions. */
static int copy_findings(const flist *l, mycel_diags *out)
{
	size_t cap = 16;
	while (cap < 2 * l->len)
		cap *= 2;
	size_t *tab = calloc(cap, sizeof(*tab)); /* index + 1, 0 = empty */
	if (tab == NULL)
		return MYCEL_ENOMEM;
	int err = 0;
	for (size_t i = 0; i < l->len && err == 0; i++) {
		const ifind *f = &l->items[i];
		size_t h = (size_t)finding_hash(f) & (cap - 1);
		bool dup = false;
		for (; tab[h] != 0; h = (h + 1) & (cap - 1)) {
			const ifind *g = &l->items[tab[h] - 1];
			if (strcmp(g->ptr, f->ptr) == 0 && strcmp(g->msg, f->msg) == 0) {
				dup = true;
				break;
			}
		}
		if (dup)
			continue;
		tab[h] = i + 1;
		err = mycel_diags_add(out, f->line, f->col, f->ptr, "%s", f->msg);
	}
	out->dropped += l->dropped;
	free(tab);
	return err;
}

int mycel__schema_eval(const mycel_schema *s, const mycel__snode *n, const mycel_value *instance,
                       bool *out_valid, mycel_diags *out, char *why, size_t why_len)
{
	ectx *c = calloc(1, sizeof(*c));
	flist findings = {.max = FINDINGS_MAX};
	bool ok = false;
	int err;
	if (c == NULL)
		return mycel__fail(MYCEL_ENOMEM, why, why_len, "out of memory");
	c->s = s;
	c->why = why;
	c->why_len = why_len;
	c->sink = out != NULL ? &findings : NULL;
	c->md = pcre2_match_data_create(1, NULL);
	if (c->md == NULL) {
		err = mycel__fail(MYCEL_ENOMEM, why, why_len, "out of memory");
		goto done;
	}
	err = eval(c, n, instance, NULL, &ok);
	if (err == 0 && out != NULL && (err = copy_findings(&findings, out)) != 0)
		mycel__fail(err, why, why_len, "out of memory");
	if (err == 0)
		*out_valid = ok;
done:
	flist_fini(&findings);
	pcre2_match_data_free(c->md);
	free(c);
	return err;
}
