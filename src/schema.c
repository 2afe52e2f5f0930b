/*
 * schema.c — JSON Schema (draft 2019-09) sets: adding documents, compiling
 * their schema objects once, URIs (RFC 3986 resolution), $id/$anchor
 * indexing and $ref resolution, and JSON equality of values. Evaluation is
 * in schema_kw.c.
 */
#include <float.h>
#include <math.h> /* isfinite only: libmycel does not link libm */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/error.h"
#include "mycel/schema.h"
#include "schema_int.h"
#include "util.h"

#define ARENA_LIMIT ((size_t)1 << 30)
#define COMPILE_MAX_DEPTH 128

/* ---- tables -------------------------------------------------------------- */

static uint64_t hash_bytes(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void *stab_get(const mycel__stab *t, const char *key)
{
	if (t->cap == 0)
		return NULL;
	size_t mask = t->cap - 1;
	for (size_t i = hash_bytes(key, strlen(key)) & mask;; i = (i + 1) & mask) {
		if (t->ents[i].key == NULL)
			return NULL;
		if (strcmp(t->ents[i].key, key) == 0)
			return t->ents[i].val;
	}
}

/* Inserts key (which must outlive the table) unless present. 0 or ENOMEM. */
static int stab_put(mycel__stab *t, const char *key, void *val)
{
	if (2 * (t->len + 1) > t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		mycel__stab_ent *e = calloc(cap, sizeof(*e));
		if (e == NULL)
			return MYCEL_ENOMEM;
		for (size_t j = 0; j < t->cap; j++) {
			if (t->ents[j].key == NULL)
				continue;
			size_t i = hash_bytes(t->ents[j].key, strlen(t->ents[j].key)) & (cap - 1);
			while (e[i].key != NULL)
				i = (i + 1) & (cap - 1);
			e[i] = t->ents[j];
		}
		free(t->ents);
		t->ents = e;
		t->cap = cap;
	}
	size_t mask = t->cap - 1;
	size_t i = hash_bytes(key, strlen(key)) & mask;
	for (; t->ents[i].key != NULL; i = (i + 1) & mask)
		if (strcmp(t->ents[i].key, key) == 0)
			return 0;
	t->ents[i].key = key;
	t->ents[i].val = val;
	t->len++;
	return 0;
}

static size_t ptr_hash(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

static mycel__snode *ptab_get(const mycel__ptab *t, const mycel_value *key)
{
	if (t->cap == 0)
		return NULL;
	size_t mask = t->cap - 1;
	for (size_t i = ptr_hash(key) & mask;; i = (i + 1) & mask) {
		if (t->ents[i].key == NULL)
			return NULL;
		if (t->ents[i].key == key)
			return t->ents[i].val;
	}
}

static int ptab_put(mycel__ptab *t, const mycel_value *key, mycel__snode *val)
{
	if (2 * (t->len + 1) > t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		mycel__ptab_ent *e = calloc(cap, sizeof(*e));
		if (e == NULL)
			return MYCEL_ENOMEM;
		for (size_t j = 0; j < t->cap; j++) {
			if (t->ents[j].key == NULL)
				continue;
			size_t i = ptr_hash(t->ents[j].key) & (cap - 1);
			while (e[i].key != NULL)
				i = (i + 1) & (cap - 1);
			e[i] = t->ents[j];
		}
		free(t->ents);
		t->ents = e;
		t->cap = cap;
	}
	size_t mask = t->cap - 1;
	size_t i = ptr_hash(key) & mask;
	for (; t->ents[i].key != NULL; i = (i + 1) & mask)
		if (t->ents[i].key == key)
			return 0;
	t->ents[i].key = key;
	t->ents[i].val = val;
	t->len++;
	return 0;
}

/* Appends p to a growing array of pointers. */
static int vec_push(void ***arr, size_t *len, size_t *cap, void *p)
{
	if (*len == *cap) {
		size_t ncap = *cap ? 2 * *cap : 16;
		void **a = realloc(*arr, ncap * sizeof(*a));
		if (a == NULL)
			return MYCEL_ENOMEM;
		*arr = a;
		*cap = ncap;
	}
	(*arr)[(*len)++] = p;
	return 0;
}

/* ---- URIs (RFC 3986) ------------------------------------------------------ */

typedef struct upart {
	const char *p;
	size_t n;
	bool has;
} upart;

typedef struct uri {
	upart scheme, auth, path, query, frag;
} uri;

static void uri_parse(const char *s, uri *u)
{
	memset(u, 0, sizeof(*u));
	const char *p = s;
	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
	if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
		const char *q = p + 1;
		while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		       (*q >= '0' && *q <= '9') || *q == '+' || *q == '-' || *q == '.')
			q++;
		if (*q == ':') {
			u->scheme = (upart){p, (size_t)(q - p), true};
			p = q + 1;
		}
	}
	if (p[0] == '/' && p[1] == '/') {
		p += 2;
		size_t n = strcspn(p, "/?#");
		u->auth = (upart){p, n, true};
		p += n;
	}
	size_t n = strcspn(p, "?#");
	u->path = (upart){p, n, true};
	p += n;
	if (*p == '?') {
		p++;
		n = strcspn(p, "#");
		u->query = (upart){p, n, true};
		p += n;
	}
	if (*p == '#') {
		p++;
		u->frag = (upart){p, strlen(p), true};
	}
}

/* RFC 3986 5.2.4 on a NUL-terminated buffer, in place. */
static void remove_dots(char *in)
{
	char *out = in, *r = in;
	while (*r) {
		if (strncmp(r, "../", 3) == 0) {
			r += 3;
		} else if (strncmp(r, "./", 2) == 0) {
			r += 2;
		} else if (strncmp(r, "/./", 3) == 0) {
			r += 2;
		} else if (strcmp(r, "/.") == 0) {
			r[1] = '\0';
		} else if (strncmp(r, "/../", 4) == 0 || strcmp(r, "/..") == 0) {
			if (r[3] == '/')
				r += 3;
			else {
				r += 2;
				*r = '/';
			}
			while (out > in && *--out != '/')
				;
		} else if (strcmp(r, ".") == 0 || strcmp(r, "..") == 0) {
			r += strlen(r);
		} else {
			if (*r == '/')
				*out++ = *r++;
			while (*r && *r != '/')
				*out++ = *r++;
		}
	}
	*out = '\0';
}

typedef struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
} sbuf;

/* Not inlined: gcc -O3 misjudges the size of the buffer after realloc. */
static __attribute__((noinline)) void sb_put(sbuf *b, const char *s, size_t n)
{
	size_t need = b->len + n + 1;
	if (b->oom)
		return;
	if (need > b->cap) {
		size_t cap = b->cap > 64 ? b->cap : 64;
		while (cap < need)
			cap *= 2;
		char *q = realloc(b->p, cap);
		if (q == NULL) {
			b->oom = true;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_part(sbuf *b, upart x)
{
	sb_put(b, x.p, x.n);
}

/* Appends a path with its dot segments removed. */
static void sb_path(sbuf *b, const char *p, size_t n)
{
	char *tmp = malloc(n + 1);
	if (tmp == NULL) {
		b->oom = true;
		return;
	}
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	remove_dots(tmp);
	sb_put(b, tmp, strlen(tmp));
	free(tmp);
}

/*
 * Resolves ref against base (RFC 3986 5.2.2) into a malloc'd string. A base
 * of NULL only normalises ref. An empty fragment is dropped. NULL when out of
 * memory.
 */
static char *uri_resolve(const char *base, const char *ref)
{
	uri b, r;
	sbuf o = {0};
	uri_parse(ref, &r);
	if (base == NULL || r.scheme.has) {
		if (r.scheme.has) {
			/* schemes are case-insensitive: keep them in lower case */
			for (size_t i = 0; i < r.scheme.n; i++) {
				char ch = r.scheme.p[i];
				if (ch >= 'A' && ch <= 'Z')
					ch = (char)(ch - 'A' + 'a');
				sb_put(&o, &ch, 1);
			}
			sb_put(&o, ":", 1);
		}
		if (r.auth.has) {
			sb_put(&o, "//", 2);
			sb_part(&o, r.auth);
		}
		sb_path(&o, r.path.p, r.path.n);
		if (r.query.has) {
			sb_put(&o, "?", 1);
			sb_part(&o, r.query);
		}
		goto frag;
	}
	uri_parse(base, &b);
	if (b.scheme.has) {
		char *tmp = uri_resolve(NULL, base); /* lower-cases the scheme */
		if (tmp == NULL)
			goto oom;
		size_t n = strcspn(tmp, ":");
		sb_put(&o, tmp, n + 1);
		free(tmp);
	}
	if (r.auth.has) {
		sb_put(&o, "//", 2);
		sb_part(&o, r.auth);
		sb_path(&o, r.path.p, r.path.n);
		if (r.query.has) {
			sb_put(&o, "?", 1);
			sb_part(&o, r.query);
		}
		goto frag;
	}
	if (b.auth.has) {
		sb_put(&o, "//", 2);
		sb_part(&o, b.auth);
	}
	if (r.path.n == 0) {
		sb_part(&o, b.path);
		if (r.query.has) {
			sb_put(&o, "?", 1);
			sb_part(&o, r.query);
		} else if (b.query.has) {
			sb_put(&o, "?", 1);
			sb_part(&o, b.query);
		}
		goto frag;
	}
	if (r.path.p[0] == '/') {
		sb_path(&o, r.path.p, r.path.n);
	} else {
		/* merge: the base path up to its last "/", then the reference */
		sbuf m = {0};
		if (b.auth.has && b.path.n == 0) {
			sb_put(&m, "/", 1);
		} else {
			size_t k = b.path.n;
			while (k > 0 && b.path.p[k - 1] != '/')
				k--;
			sb_put(&m, b.path.p, k);
		}
		sb_part(&m, r.path);
		if (m.oom || m.p == NULL) {
			free(m.p);
			goto oom;
		}
		sb_path(&o, m.p, m.len);
		free(m.p);
	}
	if (r.query.has) {
		sb_put(&o, "?", 1);
		sb_part(&o, r.query);
	}
frag:
	if (r.frag.has && r.frag.n > 0) {
		sb_put(&o, "#", 1);
		sb_part(&o, r.frag);
	}
	sb_put(&o, "", 0);
	if (o.oom)
		goto oom;
	return o.p;
oom:
	free(o.p);
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes s in place (invalid escapes are kept as they are); returns the length. */
static size_t pct_decode(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		int h, l;
		if (*p == '%' && (h = hexval(p[1])) >= 0 && (l = hexval(p[2])) >= 0) {
			*o++ = (char)(h << 4 | l);
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return (size_t)(o - s);
}

/* ---- JSON values: numbers and equality ------------------------------------ */

#define TWO64 18446744073709551616.0
#define TWO63 9223372036854775808.0
#define EQ_MAX_DEPTH 256

static bool is_number(const mycel_value *v)
{
	return v->type == MYCEL_T_UINT || v->type == MYCEL_T_INT || v->type == MYCEL_T_FLOAT;
}

static int cmp_fu(double f, uint64_t u)
{
	if (f < 0)
		return -1;
	if (f >= TWO64)
		return 1;
	double t = mycel__f_trunc(f);
	uint64_t ti = (uint64_t)t;
	if (ti != u)
		return ti < u ? -1 : 1;
	return f > t ? 1 : 0;
}

static int cmp_fi(double f, int64_t i)
{
	if (f >= 0)
		return 1;
	if (f < -TWO63)
		return -1;
	double t = mycel__f_trunc(f);
	int64_t ti = (int64_t)t;
	if (ti != i)
		return ti < i ? -1 : 1;
	return f < t ? -1 : 0;
}

int mycel__json_cmp(const mycel_value *a, const mycel_value *b)
{
	if (a->type == MYCEL_T_FLOAT) {
		if (b->type == MYCEL_T_FLOAT)
			return a->v.f < b->v.f ? -1 : a->v.f > b->v.f;
		return b->type == MYCEL_T_UINT ? cmp_fu(a->v.f, b->v.u) : cmp_fi(a->v.f, b->v.i);
	}
	if (b->type == MYCEL_T_FLOAT)
		return -mycel__json_cmp(b, a);
	if (a->type != b->type)
		return a->type == MYCEL_T_INT ? -1 : 1; /* negative < non-negative */
	if (a->type == MYCEL_T_UINT)
		return a->v.u < b->v.u ? -1 : a->v.u > b->v.u;
	return a->v.i < b->v.i ? -1 : a->v.i > b->v.i;
}

static double to_double(const mycel_value *v)
{
	return v->type == MYCEL_T_FLOAT  ? v->v.f
	       : v->type == MYCEL_T_UINT ? (double)v->v.u
	                                 : (double)v->v.i;
}

bool mycel__json_multiple_of(const mycel_value *x, const mycel_value *d)
{
	if (d->type == MYCEL_T_UINT && x->type != MYCEL_T_FLOAT) {
		uint64_t u = x->type == MYCEL_T_UINT ? x->v.u : (uint64_t)(-(x->v.i + 1)) + 1;
		return u % d->v.u == 0;
	}
	double q = to_double(x) / to_double(d);
	if (!isfinite(q)) {
		/* an integer is a multiple of d when 1/d is an integer (d = 0.5, 0.25...) */
		double inv = 1 / to_double(d);
		return isfinite(inv) && inv == mycel__f_trunc(inv) &&
		       to_double(x) == mycel__f_trunc(to_double(x));
	}
	double r = mycel__f_trunc(q < 0 ? q - 0.5 : q + 0.5);
	return mycel__f_abs(q - r) <= mycel__f_abs(q) * 8 * DBL_EPSILON;
}

int mycel__member_cmp(const void *x, const void *y)
{
	const mycel_member *a = *(const mycel_member *const *)x,
	                   *b = *(const mycel_member *const *)y;
	size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
	int r = memcmp(a->key, b->key, n);
	if (r != 0)
		return r;
	return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

const mycel_value *mycel__json_member(const mycel_value *m, const char *key, size_t len)
{
	for (size_t i = 0; i < m->v.m.len; i++)
		if (m->v.m.items[i].key_len == len && memcmp(m->v.m.items[i].key, key, len) == 0)
			return &m->v.m.items[i].val;
	return NULL;
}

static bool json_eq(const mycel_value *a, const mycel_value *b, int depth);

/* Maps are equal when they have the same members, in any order. */
static bool map_eq(const mycel_value *a, const mycel_value *b, int depth)
{
	size_t n = a->v.m.len;
	if (n != b->v.m.len)
		return false;
	if (n > 16) {
		const mycel_member **sa = malloc(n * sizeof(*sa)), **sb = malloc(n * sizeof(*sb));
		if (sa != NULL && sb != NULL) {
			bool eq = true;
			for (size_t i = 0; i < n; i++) {
				sa[i] = &a->v.m.items[i];
				sb[i] = &b->v.m.items[i];
			}
			qsort(sa, n, sizeof(*sa), mycel__member_cmp);
			qsort(sb, n, sizeof(*sb), mycel__member_cmp);
			for (size_t i = 0; i < n && eq; i++)
				eq = mycel__member_cmp(&sa[i], &sb[i]) == 0 &&
				     json_eq(&sa[i]->val, &sb[i]->val, depth + 1);
			free(sa);
			free(sb);
			return eq;
		}
		free(sa);
		free(sb);
	}
	for (size_t i = 0; i < n; i++) {
		const mycel_member *m = &a->v.m.items[i];
		const mycel_value *o = mycel__json_member(b, m->key, m->key_len);
		if (o == NULL || !json_eq(&m->val, o, depth + 1))
			return false;
	}
	return true;
}

/* JSON equality: numbers by value (1 == 1.0), maps regardless of member order. */
static bool json_eq(const mycel_value *a, const mycel_value *b, int depth)
{
	if (depth > EQ_MAX_DEPTH)
		return false;
	if (is_number(a) && is_number(b))
		return mycel__json_cmp(a, b) == 0;
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case MYCEL_T_NIL:
		return true;
	case MYCEL_T_BOOL:
		return a->v.b == b->v.b;
	case MYCEL_T_STR:
	case MYCEL_T_BIN:
		return a->v.s.len == b->v.s.len && memcmp(a->v.s.ptr, b->v.s.ptr, a->v.s.len) == 0;
	case MYCEL_T_ARRAY:
		if (a->v.a.len != b->v.a.len)
			return false;
		for (size_t i = 0; i < a->v.a.len; i++)
			if (!json_eq(&a->v.a.items[i], &b->v.a.items[i], depth + 1))
				return false;
		return true;
	case MYCEL_T_MAP:
		return map_eq(a, b, depth);
	default:
		return false;
	}
}

bool mycel__json_eq(const mycel_value *a, const mycel_value *b)
{
	return json_eq(a, b, 0);
}

/* ---- compiling ------------------------------------------------------------ */

typedef struct cctx {
	mycel_schema *s;
	bool index; /* register $id and $anchor */
	char *why;
	size_t why_len;
	sbuf path; /* JSON pointer of the schema being compiled */
	unsigned depth;
	/* what a successful compilation commits to s */
	mycel__stab ids;
	void **nodes; /* alternating value, node */
	size_t nnodes, capnodes;
	void **refs;
	size_t nrefs, caprefs;
	void **codes;
	size_t ncodes, capcodes;
} cctx;

static int cfail(cctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int cfail(cctx *c, int code, const char *fmt, ...)
{
	if (c->why != NULL && c->why_len > 0) {
		char msg[512];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		snprintf(c->why, c->why_len, "%s: %s",
		         c->path.p && c->path.len ? c->path.p : "(root)", msg);
	}
	return code;
}

static size_t path_push(cctx *c, const char *key, size_t n)
{
	size_t mark = c->path.len;
	sb_put(&c->path, "/", 1);
	for (size_t i = 0; i < n; i++) {
		if (key[i] == '~')
			sb_put(&c->path, "~0", 2);
		else if (key[i] == '/')
			sb_put(&c->path, "~1", 2);
		else
			sb_put(&c->path, &key[i], 1);
	}
	return mark;
}

static size_t path_push_idx(cctx *c, size_t i)
{
	char num[32];
	size_t mark = c->path.len;
	int n = snprintf(num, sizeof(num), "/%zu", i);
	sb_put(&c->path, num, (size_t)n);
	return mark;
}

static void path_pop(cctx *c, size_t mark)
{
	c->path.len = mark;
	if (c->path.p)
		c->path.p[mark] = '\0';
}

static char *astrdup(mycel_schema *s, const char *p)
{
	return mycel_arena_strdup(s->arena, p, strlen(p));
}

/* Registers key -> val for commit, refusing a key taken by something else. */
static int reg_id(cctx *c, const char *key, void *val, const mycel_value *v)
{
	void *old = stab_get(&c->s->ids, key);
	if (old == NULL)
		old = stab_get(&c->ids, key);
	if (old != NULL) {
		/* the same schema value reached twice (a document added under two URIs) */
		const mycel_value *ov =
		    strchr(key, '#') ? ((mycel__snode *)old)->v : ((mycel__sres *)old)->root->v;
		if (ov == v)
			return 0;
		return cfail(c, MYCEL_EINVAL, "\"%s\" identifies two different schemas", key);
	}
	char *k = astrdup(c->s, key);
	if (k == NULL || stab_put(&c->ids, k, val) != 0)
		return MYCEL_ENOMEM;
	return 0;
}

static mycel__snode *compile(cctx *c, const mycel_value *v, mycel__sres *parent, int *err);

static int is_count(const mycel_value *v, uint64_t *out)
{
	if (v->type == MYCEL_T_UINT) {
		*out = v->v.u;
		return 1;
	}
	if (v->type == MYCEL_T_FLOAT && v->v.f >= 0 && v->v.f < 18446744073709551616.0 &&
	    v->v.f == (double)(uint64_t)v->v.f) {
		*out = (uint64_t)v->v.f;
		return 1;
	}
	return 0;
}

/* Compiles the member value kw of v as a schema. */
static int kw_schema(cctx *c, const mycel_member *m, mycel__sres *res, mycel__snode **out)
{
	int err = 0;
	size_t mark = path_push(c, m->key, m->key_len);
	*out = compile(c, &m->val, res, &err);
	path_pop(c, mark);
	return err;
}

static int kw_schema_array(cctx *c, const mycel_member *m, mycel__sres *res, mycel__snode ***out,
                           size_t *out_n)
{
	int err = 0;
	size_t mark = path_push(c, m->key, m->key_len);
	if (m->val.type != MYCEL_T_ARRAY) {
		err = cfail(c, MYCEL_EINVAL, "must be an array of schemas");
		goto done;
	}
	size_t n = m->val.v.a.len;
	mycel__snode **a = mycel_arena_alloc(c->s->arena, (n ? n : 1) * sizeof(*a));
	if (a == NULL) {
		err = MYCEL_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < n && err == 0; i++) {
		size_t m2 = path_push_idx(c, i);
		a[i] = compile(c, &m->val.v.a.items[i], res, &err);
		path_pop(c, m2);
	}
	*out = a;
	*out_n = n;
done:
	path_pop(c, mark);
	return err;
}

static int skey_cmp(const void *x, const void *y)
{
	const mycel__skey *a = x, *b = y;
	size_t n = a->len < b->len ? a->len : b->len;
	int r = memcmp(a->key, b->key, n);
	if (r != 0)
		return r;
	return a->len < b->len ? -1 : a->len > b->len;
}

static int kw_schema_map(cctx *c, const mycel_member *m, mycel__sres *res, mycel__skey **out,
                         size_t *out_n)
{
	int err = 0;
	size_t mark = path_push(c, m->key, m->key_len);
	if (m->val.type != MYCEL_T_MAP) {
		err = cfail(c, MYCEL_EINVAL, "must be an object of schemas");
		goto done;
	}
	size_t n = m->val.v.m.len;
	mycel__skey *a = mycel_arena_alloc(c->s->arena, (n ? n : 1) * sizeof(*a));
	if (a == NULL) {
		err = MYCEL_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < n && err == 0; i++) {
		const mycel_member *e = &m->val.v.m.items[i];
		size_t m2 = path_push(c, e->key, e->key_len);
		a[i].key = e->key;
		a[i].len = e->key_len;
		a[i].node = compile(c, &e->val, res, &err);
		path_pop(c, m2);
	}
	if (err == 0)
		qsort(a, n, sizeof(*a), skey_cmp);
	*out = a;
	*out_n = n;
done:
	path_pop(c, mark);
	return err;
}

static int kw_regex(cctx *c, const mycel_value *src, pcre2_code **out)
{
	int code;
	PCRE2_SIZE off;
	if (src->type != MYCEL_T_STR)
		return cfail(c, MYCEL_EINVAL, "a pattern must be a string");
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)src->v.s.ptr, src->v.s.len,
	                               PCRE2_UTF | PCRE2_DOLLAR_ENDONLY, &code, &off, NULL);
	if (re == NULL) {
		PCRE2_UCHAR msg[256];
		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			strcpy((char *)msg, "error");
		return cfail(c, MYCEL_EINVAL,
		             "invalid regular expression \"%.200s\": %s at offset %zu",
		             src->v.s.ptr, (const char *)msg, (size_t)off);
	}
	if (vec_push(&c->codes, &c->ncodes, &c->capcodes, re) != 0) {
		pcre2_code_free(re);
		return MYCEL_ENOMEM;
	}
	*out = re;
	return 0;
}

static int kw_ref(cctx *c, const mycel_member *m, const mycel__sres *res, mycel__sref **out)
{
	size_t mark = path_push(c, m->key, m->key_len);
	int err = 0;
	if (m->val.type != MYCEL_T_STR) {
		err = cfail(c, MYCEL_EINVAL, "must be a string (a URI reference)");
		goto done;
	}
	char *abs = uri_resolve(res->uri, m->val.v.s.ptr);
	mycel__sref *r = mycel_arena_alloc(c->s->arena, sizeof(*r));
	if (abs == NULL || r == NULL) {
		free(abs);
		err = MYCEL_ENOMEM;
		goto done;
	}
	r->uri = astrdup(c->s, abs);
	r->where = astrdup(c->s, c->path.p ? c->path.p : "");
	r->target = NULL;
	free(abs);
	if (r->uri == NULL || r->where == NULL ||
	    vec_push(&c->refs, &c->nrefs, &c->caprefs, r) != 0) {
		err = MYCEL_ENOMEM;
		goto done;
	}
	*out = r;
done:
	path_pop(c, mark);
	return err;
}

/* $id: a new resource rooted at n (or a plain-name anchor), registered for commit. */
static int kw_id(cctx *c, const mycel_value *v, const mycel_value *id, mycel__snode *n,
                 mycel__sres *parent)
{
	int err;
	if (id->type != MYCEL_T_STR)
		return cfail(c, MYCEL_EINVAL, "$id must be a string");
	char *abs = uri_resolve(parent->uri, id->v.s.ptr);
	if (abs == NULL)
		return MYCEL_ENOMEM;
	char *hash = strchr(abs, '#');
	if (hash != NULL && id->v.s.ptr[0] == '#') {
		/* a bare "#name" (draft 7 style): a plain-name anchor */
		err = c->index ? reg_id(c, abs, n, v) : 0;
		free(abs);
		return err;
	}
	if (hash != NULL)
		*hash = '\0'; /* 2019-09 allows no fragment in $id */
	if (strcmp(abs, parent->uri) == 0) {
		free(abs); /* "$id": "" or the retrieval URI itself: no new resource */
		return 0;
	}
	mycel__sres *r = mycel_arena_alloc(c->s->arena, sizeof(*r));
	if (r == NULL || (r->uri = astrdup(c->s, abs)) == NULL) {
		free(abs);
		return MYCEL_ENOMEM;
	}
	free(abs);
	r->root = n;
	n->res = r;
	return c->index ? reg_id(c, r->uri, r, v) : 0;
}

/* $id, $anchor and $recursiveAnchor: the node's resource, registered for commit. */
static int kw_ids(cctx *c, const mycel_value *v, mycel__snode *n, mycel__sres *parent)
{
	const mycel_value *id = mycel_value_get(v, "$id");
	int err;
	n->res = parent;
	if (parent->root == NULL)
		parent->root = n; /* the document root under its retrieval URI */
	if (id != NULL && (err = kw_id(c, v, id, n, parent)) != 0)
		return err;
	const mycel_value *anchor = mycel_value_get(v, "$anchor");
	if (anchor != NULL) {
		if (anchor->type != MYCEL_T_STR)
			return cfail(c, MYCEL_EINVAL, "$anchor must be a string");
		if (c->index) {
			size_t ulen = strlen(n->res->uri);
			char *key = malloc(ulen + anchor->v.s.len + 2);
			if (key == NULL)
				return MYCEL_ENOMEM;
			memcpy(key, n->res->uri, ulen);
			key[ulen] = '#';
			memcpy(key + ulen + 1, anchor->v.s.ptr, anchor->v.s.len + 1);
			err = reg_id(c, key, n, v);
			free(key);
			if (err)
				return err;
		}
	}
	const mycel_value *ra = mycel_value_get(v, "$recursiveAnchor");
	if (ra != NULL) {
		if (ra->type != MYCEL_T_BOOL)
			return cfail(c, MYCEL_EINVAL, "$recursiveAnchor must be a boolean");
		n->recursive_anchor = ra->v.b;
	}
	return 0;
}

static int type_bit(const char *s, size_t n, uint8_t *out)
{
	static const struct {
		const char *name;
		uint8_t bit;
	} names[] = {
	    {"null", MYCEL__JT_NULL},  {"boolean", MYCEL__JT_BOOL}, {"integer", MYCEL__JT_INT},
	    {"number", MYCEL__JT_NUM}, {"string", MYCEL__JT_STR},   {"array", MYCEL__JT_ARR},
	    {"object", MYCEL__JT_OBJ},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i].name) == n && memcmp(names[i].name, s, n) == 0) {
			*out |= names[i].bit;
			return 0;
		}
	}
	return -1;
}

static int kw_type(cctx *c, const mycel_value *t, mycel__snode *n)
{
	n->has_type = true;
	if (t->type == MYCEL_T_STR) {
		if (type_bit(t->v.s.ptr, t->v.s.len, &n->types) == 0)
			return 0;
	} else if (t->type == MYCEL_T_ARRAY) {
		size_t i;
		for (i = 0; i < t->v.a.len; i++) {
			const mycel_value *e = &t->v.a.items[i];
			if (e->type != MYCEL_T_STR ||
			    type_bit(e->v.s.ptr, e->v.s.len, &n->types) != 0)
				break;
		}
		if (i == t->v.a.len)
			return 0;
	}
	return cfail(c, MYCEL_EINVAL,
	             "type must be one of null, boolean, integer, number, string, array, object "
	             "or an array of them");
}

static bool is_string_array(const mycel_value *v)
{
	if (v->type != MYCEL_T_ARRAY)
		return false;
	for (size_t i = 0; i < v->v.a.len; i++)
		if (v->v.a.items[i].type != MYCEL_T_STR)
			return false;
	return true;
}

/* dependencies (draft 7) and dependentRequired/dependentSchemas. */
static int kw_dependencies(cctx *c, const mycel_member *m, mycel__snode *n, bool legacy)
{
	const mycel_value *d = &m->val;
	size_t mark = path_push(c, m->key, m->key_len);
	int err = 0;
	if (d->type != MYCEL_T_MAP) {
		err = cfail(c, MYCEL_EINVAL, "must be an object");
		goto done;
	}
	size_t nd = d->v.m.len;
	mycel__sdep *req = mycel_arena_alloc(c->s->arena, (nd + n->ndep_req + 1) * sizeof(*req));
	mycel__skey *sch =
	    mycel_arena_alloc(c->s->arena, (nd + n->ndep_schemas + 1) * sizeof(*sch));
	if (req == NULL || sch == NULL) {
		err = MYCEL_ENOMEM;
		goto done;
	}
	if (n->ndep_req)
		memcpy(req, n->dep_req, n->ndep_req * sizeof(*req));
	if (n->ndep_schemas)
		memcpy(sch, n->dep_schemas, n->ndep_schemas * sizeof(*sch));
	size_t nr = n->ndep_req, ns = n->ndep_schemas;
	for (size_t i = 0; i < nd && err == 0; i++) {
		const mycel_member *e = &d->v.m.items[i];
		bool is_req = legacy ? e->val.type == MYCEL_T_ARRAY
		                     : strcmp(m->key, "dependentRequired") == 0;
		size_t m2 = path_push(c, e->key, e->key_len);
		if (is_req) {
			if (!is_string_array(&e->val))
				err = cfail(c, MYCEL_EINVAL, "must be an array of strings");
			req[nr++] = (mycel__sdep){e->key, e->key_len, &e->val};
		} else {
			sch[ns].key = e->key;
			sch[ns].len = e->key_len;
			sch[ns].node = compile(c, &e->val, (mycel__sres *)n->res, &err);
			ns++;
		}
		path_pop(c, m2);
	}
	n->dep_req = req;
	n->ndep_req = nr;
	n->dep_schemas = sch;
	n->ndep_schemas = ns;
done:
	path_pop(c, mark);
	return err;
}

static int kw_count(cctx *c, const mycel_member *m, uint64_t *out)
{
	if (is_count(&m->val, out))
		return 0;
	size_t mark = path_push(c, m->key, m->key_len);
	int err = cfail(c, MYCEL_EINVAL, "must be a non-negative integer");
	path_pop(c, mark);
	return err;
}

static int kw_number(cctx *c, const mycel_member *m, const mycel_value **out)
{
	if (is_number(&m->val)) {
		*out = &m->val;
		return 0;
	}
	size_t mark = path_push(c, m->key, m->key_len);
	int err = cfail(c, MYCEL_EINVAL, "must be a number");
	path_pop(c, mark);
	return err;
}

/* One keyword of schema object n. Unknown keywords are ignored. */
static int keyword(cctx *c, const mycel_member *m, mycel__snode *n)
{
	const char *k = m->key;
	const mycel_value *v = &m->val;
	mycel__sres *res = (mycel__sres *)n->res;
	int err = 0;

	if (m->key_len != strlen(k))
		return 0; /* a key with a NUL byte is no keyword */
	if (strcmp(k, "type") == 0)
		return kw_type(c, v, n);
	if (strcmp(k, "$ref") == 0)
		return kw_ref(c, m, res, &n->ref);
	if (strcmp(k, "$recursiveRef") == 0)
		return kw_ref(c, m, res, &n->rref);
	if (strcmp(k, "properties") == 0)
		return kw_schema_map(c, m, res, &n->props, &n->nprops);
	if (strcmp(k, "patternProperties") == 0) {
		mycel__skey *keys;
		size_t nk;
		if ((err = kw_schema_map(c, m, res, &keys, &nk)) != 0)
			return err;
		n->pprops = mycel_arena_alloc(c->s->arena, (nk ? nk : 1) * sizeof(*n->pprops));
		if (n->pprops == NULL)
			return MYCEL_ENOMEM;
		size_t mark = path_push(c, k, m->key_len);
		for (size_t i = 0; i < nk && err == 0; i++) {
			size_t m2 = path_push(c, keys[i].key, keys[i].len);
			mycel_value src = {.type = MYCEL_T_STR};
			src.v.s.ptr = keys[i].key;
			src.v.s.len = keys[i].len;
			n->pprops[i].src = keys[i].key;
			n->pprops[i].node = keys[i].node;
			err = kw_regex(c, &src, &n->pprops[i].re);
			path_pop(c, m2);
		}
		path_pop(c, mark);
		n->npprops = nk;
		return err;
	}
	if (strcmp(k, "additionalProperties") == 0)
		return kw_schema(c, m, res, &n->addl_props);
	if (strcmp(k, "unevaluatedProperties") == 0)
		return kw_schema(c, m, res, &n->uneval_props);
	if (strcmp(k, "propertyNames") == 0)
		return kw_schema(c, m, res, &n->prop_names);
	if (strcmp(k, "required") == 0) {
		if (!is_string_array(v)) {
			size_t mark = path_push(c, k, m->key_len);
			err = cfail(c, MYCEL_EINVAL, "must be an array of strings");
			path_pop(c, mark);
			return err;
		}
		n->required = v;
		return 0;
	}
	if (strcmp(k, "dependentRequired") == 0 || strcmp(k, "dependentSchemas") == 0)
		return kw_dependencies(c, m, n, false);
	if (strcmp(k, "dependencies") == 0)
		return kw_dependencies(c, m, n, true);
	if (strcmp(k, "allOf") == 0)
		return kw_schema_array(c, m, res, &n->all_of, &n->nall_of);
	if (strcmp(k, "anyOf") == 0)
		return kw_schema_array(c, m, res, &n->any_of, &n->nany_of);
	if (strcmp(k, "oneOf") == 0)
		return kw_schema_array(c, m, res, &n->one_of, &n->none_of);
	if (strcmp(k, "not") == 0)
		return kw_schema(c, m, res, &n->not_);
	if (strcmp(k, "if") == 0)
		return kw_schema(c, m, res, &n->if_);
	if (strcmp(k, "then") == 0)
		return kw_schema(c, m, res, &n->then_);
	if (strcmp(k, "else") == 0)
		return kw_schema(c, m, res, &n->else_);
	if (strcmp(k, "items") == 0) {
		if (v->type == MYCEL_T_ARRAY) {
			n->items_array = true;
			return kw_schema_array(c, m, res, &n->items, &n->nitems);
		}
		n->items = mycel_arena_alloc(c->s->arena, sizeof(*n->items));
		if (n->items == NULL)
			return MYCEL_ENOMEM;
		n->nitems = 1;
		return kw_schema(c, m, res, &n->items[0]);
	}
	if (strcmp(k, "additionalItems") == 0)
		return kw_schema(c, m, res, &n->addl_items);
	if (strcmp(k, "unevaluatedItems") == 0)
		return kw_schema(c, m, res, &n->uneval_items);
	if (strcmp(k, "contains") == 0)
		return kw_schema(c, m, res, &n->contains);
	if (strcmp(k, "$defs") == 0 || strcmp(k, "definitions") == 0) {
		mycel__skey *defs;
		size_t nd;
		return kw_schema_map(c, m, res, &defs, &nd);
	}
	if (strcmp(k, "enum") == 0) {
		if (v->type != MYCEL_T_ARRAY) {
			size_t mark = path_push(c, k, m->key_len);
			err = cfail(c, MYCEL_EINVAL, "must be an array");
			path_pop(c, mark);
			return err;
		}
		n->enum_ = v;
		return 0;
	}
	if (strcmp(k, "const") == 0) {
		n->const_ = v;
		n->has_const = true;
		return 0;
	}
	if (strcmp(k, "pattern") == 0) {
		size_t mark = path_push(c, k, m->key_len);
		err = kw_regex(c, v, &n->pattern);
		path_pop(c, mark);
		n->pattern_src = v->type == MYCEL_T_STR ? v->v.s.ptr : NULL;
		return err;
	}
	if (strcmp(k, "uniqueItems") == 0) {
		if (v->type != MYCEL_T_BOOL) {
			size_t mark = path_push(c, k, m->key_len);
			err = cfail(c, MYCEL_EINVAL, "must be a boolean");
			path_pop(c, mark);
			return err;
		}
		n->unique_items = v->v.b;
		return 0;
	}
	if (strcmp(k, "minimum") == 0)
		return kw_number(c, m, &n->minimum);
	if (strcmp(k, "maximum") == 0)
		return kw_number(c, m, &n->maximum);
	if (strcmp(k, "exclusiveMinimum") == 0)
		return kw_number(c, m, &n->xminimum);
	if (strcmp(k, "exclusiveMaximum") == 0)
		return kw_number(c, m, &n->xmaximum);
	if (strcmp(k, "multipleOf") == 0) {
		if ((err = kw_number(c, m, &n->multiple_of)) != 0)
			return err;
		if ((v->type == MYCEL_T_FLOAT && v->v.f > 0) ||
		    (v->type == MYCEL_T_UINT && v->v.u > 0))
			return 0;
		size_t mark = path_push(c, k, m->key_len);
		err = cfail(c, MYCEL_EINVAL, "must be a number greater than 0");
		path_pop(c, mark);
		return err;
	}
	if (strcmp(k, "minLength") == 0)
		return kw_count(c, m, &n->min_len);
	if (strcmp(k, "maxLength") == 0)
		return kw_count(c, m, &n->max_len);
	if (strcmp(k, "minItems") == 0)
		return kw_count(c, m, &n->min_items);
	if (strcmp(k, "maxItems") == 0)
		return kw_count(c, m, &n->max_items);
	if (strcmp(k, "minProperties") == 0)
		return kw_count(c, m, &n->min_props);
	if (strcmp(k, "maxProperties") == 0)
		return kw_count(c, m, &n->max_props);
	if (strcmp(k, "minContains") == 0)
		return kw_count(c, m, &n->min_contains);
	if (strcmp(k, "maxContains") == 0)
		return kw_count(c, m, &n->max_contains);
	return 0;
}

/* Compiles v (a schema) and every subschema under it. Sets *err on failure. */
static mycel__snode *compile(cctx *c, const mycel_value *v, mycel__sres *parent, int *err)
{
	if (*err)
		return NULL;
	if (c->path.oom) {
		*err = MYCEL_ENOMEM;
		return NULL;
	}
	if (c->depth >= COMPILE_MAX_DEPTH) {
		*err = cfail(c, MYCEL_EINVAL, "schemas nested deeper than %d levels",
		             COMPILE_MAX_DEPTH);
		return NULL;
	}
	if (v->type != MYCEL_T_MAP && v->type != MYCEL_T_BOOL) {
		*err = cfail(c, MYCEL_EINVAL, "a schema must be an object or a boolean, not %s",
		             mycel_type_name(v->type));
		return NULL;
	}
	mycel__snode *n = mycel_arena_alloc(c->s->arena, sizeof(*n));
	if (n == NULL) {
		*err = MYCEL_ENOMEM;
		return NULL;
	}
	memset(n, 0, sizeof(*n));
	n->v = v;
	n->max_len = n->max_items = n->max_props = n->max_contains = UINT64_MAX;
	n->min_contains = 1;
	if (vec_push(&c->nodes, &c->nnodes, &c->capnodes, (void *)(uintptr_t)v) != 0 ||
	    vec_push(&c->nodes, &c->nnodes, &c->capnodes, n) != 0) {
		*err = MYCEL_ENOMEM;
		return NULL;
	}
	if (v->type == MYCEL_T_BOOL) {
		n->kind = v->v.b ? MYCEL__SK_TRUE : MYCEL__SK_FALSE;
		n->res = parent;
		if (parent->root == NULL)
			parent->root = n;
		return n;
	}
	n->kind = MYCEL__SK_OBJ;
	c->depth++;
	if ((*err = kw_ids(c, v, n, parent)) == 0) {
		for (size_t i = 0; i < v->v.m.len && *err == 0; i++)
			*err = keyword(c, &v->v.m.items[i], n);
	}
	c->depth--;
	return *err ? NULL : n;
}

static void cctx_fini(cctx *c, bool committed)
{
	if (!committed)
		for (size_t i = 0; i < c->ncodes; i++)
			pcre2_code_free(c->codes[i]);
	free(c->codes);
	free(c->refs);
	free(c->nodes);
	free(c->ids.ents);
	free(c->path.p);
}

/* Moves what c compiled into s. 0 or ENOMEM (then s is unchanged but for table growth). */
static int commit(cctx *c)
{
	mycel_schema *s = c->s;
	/* reserve everything first so that nothing below can fail half-way */
	size_t need_refs = s->nrefs + c->nrefs, need_codes = s->ncodes + c->ncodes;
	if (need_refs > s->caprefs) {
		mycel__sref **r = realloc(s->refs, need_refs * sizeof(*r));
		if (r == NULL)
			return MYCEL_ENOMEM;
		s->refs = r;
		s->caprefs = need_refs;
	}
	if (need_codes > s->capcodes) {
		pcre2_code **p = realloc(s->codes, need_codes * sizeof(*p));
		if (p == NULL)
			return MYCEL_ENOMEM;
		s->codes = p;
		s->capcodes = need_codes;
	}
	for (size_t i = 0; i + 1 < c->nnodes; i += 2)
		if (ptab_put(&s->nodes, c->nodes[i], c->nodes[i + 1]) != 0)
			return MYCEL_ENOMEM;
	for (size_t i = 0; i < c->ids.cap; i++)
		if (c->ids.ents[i].key != NULL &&
		    stab_put(&s->ids, c->ids.ents[i].key, c->ids.ents[i].val) != 0)
			return MYCEL_ENOMEM;
	for (size_t i = 0; i < c->nrefs; i++)
		s->refs[s->nrefs++] = c->refs[i];
	for (size_t i = 0; i < c->ncodes; i++)
		s->codes[s->ncodes++] = c->codes[i];
	return 0;
}

/* ---- resolving ------------------------------------------------------------ */

/* Compiles a value reached by a JSON pointer that no schema keyword leads to. */
static mycel__snode *compile_detached(mycel_schema *s, const mycel_value *v, mycel__sres *base)
{
	cctx c = {.s = s, .index = false};
	int err = 0;
	mycel__snode *n = compile(&c, v, base, &err);
	if (err == 0 && commit(&c) != 0)
		n = NULL;
	cctx_fini(&c, err == 0 && n != NULL);
	return err ? NULL : n;
}

/*
 * The node at uri (absolute, with an optional fragment), or NULL. With
 * may_compile, a schema that a JSON pointer reaches outside the usual
 * keywords is compiled on the way.
 */
static mycel__snode *resolve(mycel_schema *s, const char *u, bool may_compile)
{
	mycel__snode *out = NULL;
	char *base = strdup(u);
	if (base == NULL)
		return NULL;
	char *frag = strchr(base, '#');
	if (frag != NULL)
		*frag++ = '\0';
	mycel__sres *res = stab_get(&s->ids, base);
	if (res == NULL)
		goto done;
	if (frag == NULL || *frag == '\0') {
		out = res->root;
		goto done;
	}
	if (frag[0] != '/') {
		/* a plain-name fragment: an $anchor */
		char *key = malloc(strlen(base) + strlen(frag) + 2);
		if (key == NULL)
			goto done;
		sprintf(key, "%s#%s", base, frag);
		out = stab_get(&s->ids, key);
		free(key);
		goto done;
	}
	size_t flen = pct_decode(frag);
	const mycel_value *cur = res->root->v;
	mycel__sres *cres = res;
	char *tok = frag + 1, *end = frag + flen;
	for (;;) {
		/* one reference token, unescaped: ~1 is "/", ~0 is "~" */
		char *slash = memchr(tok, '/', (size_t)(end - tok));
		char *tend = slash ? slash : end;
		size_t tn = 0;
		for (char *p = tok; p < tend; p++) {
			if (*p == '~' && p + 1 < tend && (p[1] == '0' || p[1] == '1')) {
				tok[tn++] = p[1] == '0' ? '~' : '/';
				p++;
			} else {
				tok[tn++] = *p;
			}
		}
		const mycel_value *next = NULL;
		if (cur->type == MYCEL_T_MAP) {
			for (size_t i = 0; i < cur->v.m.len; i++) {
				const mycel_member *m = &cur->v.m.items[i];
				if (m->key_len == tn && memcmp(m->key, tok, tn) == 0) {
					next = &m->val;
					break;
				}
			}
		} else if (cur->type == MYCEL_T_ARRAY && tn > 0 && tn < 19 &&
		           (tn == 1 || tok[0] != '0')) {
			size_t idx = 0, i;
			for (i = 0; i < tn && tok[i] >= '0' && tok[i] <= '9'; i++)
				idx = idx * 10 + (size_t)(tok[i] - '0');
			if (i == tn && idx < cur->v.a.len)
				next = &cur->v.a.items[idx];
		}
		if (next == NULL)
			goto done;
		cur = next;
		mycel__snode *cn = ptab_get(&s->nodes, cur);
		if (cn != NULL)
			cres = (mycel__sres *)cn->res;
		if (slash == NULL)
			break;
		tok = slash + 1;
	}
	out = ptab_get(&s->nodes, cur);
	if (out == NULL && may_compile)
		out = compile_detached(s, cur, cres);
done:
	free(base);
	return out;
}

/* resolve() for validation: never compiles, so s is only read. */
static mycel__snode *lookup(const mycel_schema *s, const char *u)
{
	return resolve((mycel_schema *)s, u, false);
}

/* Resolves every reference whose target has become known. */
static void resolve_refs(mycel_schema *s)
{
	bool progress = true;
	while (progress) {
		progress = false;
		for (size_t i = 0; i < s->nrefs; i++) {
			mycel__sref *r = s->refs[i];
			if (r->target == NULL && (r->target = resolve(s, r->uri, true)) != NULL)
				progress = true;
		}
	}
}

/* ---- public API ----------------------------------------------------------- */

int mycel_schema_new(mycel_schema **out)
{
	mycel_schema *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return MYCEL_ENOMEM;
	if (mycel_arena_new(ARENA_LIMIT, &s->arena) != 0)
		goto fail;
	s->mctx = pcre2_match_context_create(NULL);
	if (s->mctx == NULL)
		goto fail;
	pcre2_set_match_limit(s->mctx, MYCEL__SCHEMA_MATCH_LIMIT);
	pcre2_set_depth_limit(s->mctx, MYCEL__SCHEMA_DEPTH_LIMIT);
	*out = s;
	return 0;
fail:
	mycel_arena_free(s->arena);
	free(s);
	return MYCEL_ENOMEM;
}

void mycel_schema_free(mycel_schema *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->ncodes; i++)
		pcre2_code_free(s->codes[i]);
	free(s->codes);
	free(s->refs);
	free(s->ids.ents);
	free(s->nodes.ents);
	pcre2_match_context_free(s->mctx);
	mycel_arena_free(s->arena);
	free(s);
}

int mycel_schema_add(mycel_schema *s, const char *u, const mycel_value *doc, char *why,
                     size_t why_len)
{
	if (s == NULL || u == NULL || doc == NULL)
		return mycel__fail(MYCEL_EINVAL, why, why_len, "missing argument");
	cctx c = {.s = s, .index = true, .why = why, .why_len = why_len};
	int err = 0;
	char *norm = uri_resolve(NULL, u);
	mycel__sres *r = mycel_arena_alloc(s->arena, sizeof(*r));
	if (norm == NULL || r == NULL) {
		err = MYCEL_ENOMEM;
		goto done;
	}
	char *hash = strchr(norm, '#');
	if (hash != NULL)
		*hash = '\0';
	r->uri = astrdup(s, norm);
	r->root = NULL;
	if (r->uri == NULL) {
		err = MYCEL_ENOMEM;
		goto done;
	}
	mycel__snode *root = compile(&c, doc, r, &err);
	if (err == 0 && root != NULL && (err = reg_id(&c, r->uri, r, doc)) != 0)
		goto done;
	if (err == 0 && (err = commit(&c)) == 0)
		resolve_refs(s);
done:
	if (err == MYCEL_ENOMEM)
		mycel__fail(err, why, why_len, "out of memory");
	cctx_fini(&c, err == 0);
	free(norm);
	return err;
}

int mycel_schema_validate(const mycel_schema *s, const char *u, const mycel_value *instance,
                          bool *out_valid, mycel_diags *out, char *why, size_t why_len)
{
	if (s == NULL || u == NULL || instance == NULL || out_valid == NULL)
		return mycel__fail(MYCEL_EINVAL, why, why_len, "missing argument");
	char *norm = uri_resolve(NULL, u);
	if (norm == NULL)
		return mycel__fail(MYCEL_ENOMEM, why, why_len, "out of memory");
	mycel__snode *n = lookup(s, norm);
	if (n == NULL) {
		int err = mycel__fail(MYCEL_ENOTFOUND, why, why_len, "no schema at \"%s\"", norm);
		free(norm);
		return err;
	}
	free(norm);
	return mycel__schema_eval(s, n, instance, out_valid, out, why, why_len);
}
