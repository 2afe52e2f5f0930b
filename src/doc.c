/* doc.c — YAML 1.2 (core schema) and JSON text into value trees, with positions. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <yaml.h>

#include "mycel/doc.h"
#include "util.h"

#define DEFAULT_MAX_BYTES ((size_t)16 << 20)
#define DEFAULT_MAX_NODES ((size_t)4 << 20)
#define DEFAULT_MAX_ALIAS ((size_t)100000)

/* Anchors live in an open-addressing table keyed by SipHash (no quadratic lookups). */
typedef struct anchor {
	char *name; /* NULL: empty slot; never freed before the loader ends */
	uint64_t hash;
	const mycel_value *val; /* NULL while the anchored container is still open */
	size_t size;            /* values in the subtree, for the alias budget */
	unsigned height;        /* containers on the longest path down, 0 for a scalar */
	size_t gen;             /* which definition of the name this is */
} anchor;

typedef struct kpos {
	uint32_t line, col;
} kpos;

typedef struct frame {
	mycel_value *val;   /* the container being built (type set) */
	const char *anchor; /* its anchor name (owned by the anchor table), or NULL */
	size_t anchor_gen;  /* the anchor definition it made */
	size_t size;        /* values so far, the container included */
	unsigned height;    /* containers on the longest path down, itself included */
	/* children: items for sequences, members for maps (with their keys' positions) */
	mycel_value *items;
	mycel_member *members;
	kpos *kpos;
	size_t len, cap;
	/* maps: the pending key */
	bool have_key;
	char *key;
	size_t key_len;
	uint32_t key_line, key_col;
} frame;

typedef struct loader {
	mycel_arena *a;
	mycel_diags *d;
	mycel_doc_limits lim;
	frame stack[MYCEL_MAX_DEPTH + 1];
	int depth; /* frames in use */
	anchor *anchors; /* cap_anchors slots, a power of two, at most half full */
	size_t n_anchors, cap_anchors, anchor_gen;
	unsigned char hash_key[crypto_shorthash_KEYBYTES];
	size_t nodes, alias_nodes;
	mycel_value *root;
	size_t root_size;
	int docs;
	int err;
} loader;

static int problem(loader *l, int code, uint32_t line, uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int problem(loader *l, int code, uint32_t line, uint32_t col, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (l->d != NULL)
		(void)mycel_diags_add(l->d, line, col, NULL, "%s", msg);
	if (l->err == 0)
		l->err = code;
	return code;
}

/* ---- scalar typing (YAML 1.2 core schema) ------------------------------------ */

static bool is_null(const char *s, size_t n)
{
	return n == 0 || (n == 1 && s[0] == '~') ||
	       (n == 4 && (!strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL")));
}

static int is_bool(const char *s, size_t n)
{
	if (n == 4 && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")))
		return 1;
	if (n == 5 && (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")))
		return 0;
	return -1;
}

static bool all_digits(const char *s, size_t n, int base)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool ok = base == 8    ? (c >= '0' && c <= '7')
			  : base == 16 ? ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
					  (c >= 'A' && c <= 'F'))
				       : (c >= '0' && c <= '9');
		if (!ok)
			return false;
	}
	return true;
}

/* 1: an integer (set in v), 0: not an integer, -1: an integer out of range. */
static int parse_int(const char *s, size_t n, mycel_value *v)
{
	int base = 10;
	bool neg = false;
	const char *p = s;
	size_t m = n;
	if (n > 2 && s[0] == '0' && s[1] == 'o' && all_digits(s + 2, n - 2, 8)) {
		base = 8, p = s + 2, m = n - 2;
	} else if (n > 2 && s[0] == '0' && s[1] == 'x' && all_digits(s + 2, n - 2, 16)) {
		base = 16, p = s + 2, m = n - 2;
	} else {
		if (m > 0 && (p[0] == '-' || p[0] == '+')) {
			neg = p[0] == '-';
			p++, m--;
		}
		if (!all_digits(p, m, 10))
			return 0;
	}
	uint64_t u = 0;
	for (size_t i = 0; i < m; i++) {
		unsigned d = p[i] <= '9' ? (unsigned)(p[i] - '0')
					 : (unsigned)((p[i] | 0x20) - 'a' + 10);
		if (u > (UINT64_MAX - d) / (unsigned)base)
			return -1;
		u = u * (unsigned)base + d;
	}
	if (neg && u > 0) {
		if (u > (uint64_t)INT64_MAX + 1)
			return -1;
		v->type = MYCEL_T_INT;
		v->v.i = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
	} else {
		v->type = MYCEL_T_UINT;
		v->v.u = u;
	}
	return 1;
}

/* 1: a float (set in v), 0: not a float, -1: .inf/.nan (refused). */
static int parse_float(const char *s, size_t n, mycel_value *v)
{
	const char *p = s;
	size_t i = 0;
	if (i < n && (p[i] == '-' || p[i] == '+'))
		i++;
	const char *rest = p + i;
	size_t rn = n - i;
	if ((rn == 4 && (!strcmp(rest, ".inf") || !strcmp(rest, ".Inf") || !strcmp(rest, ".INF"))) ||
	    (i == 0 && n == 4 && (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN"))))
		return -1;
	size_t digits = 0, frac = 0;
	while (i < n && p[i] >= '0' && p[i] <= '9')
		i++, digits++;
	if (i < n && p[i] == '.') {
		i++;
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++, frac++;
	}
	if (digits == 0 && frac == 0)
		return 0;
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '-' || p[i] == '+'))
			i++;
		size_t e = 0;
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++, e++;
		if (e == 0)
			return 0;
	}
	if (i != n)
		return 0;
	errno = 0;
	double f = strtod(s, NULL);
	if (errno == ERANGE && (f > 1.0 || f < -1.0))
		return -1; /* overflow to infinity */
	v->type = MYCEL_T_FLOAT;
	v->v.f = f;
	return 1;
}

#define TAG_PREFIX "tag:yaml.org,2002:"

/* A tag as a person wrote it: "!!int" rather than "tag:yaml.org,2002:int". */
static const char *tag_name(const char *tag, char *buf, size_t n)
{
	if (strncmp(tag, TAG_PREFIX, sizeof(TAG_PREFIX) - 1) != 0)
		return tag;
	snprintf(buf, n, "!!%s", tag + sizeof(TAG_PREFIX) - 1);
	return buf;
}

/* Types one scalar event into v (strings are copied into the arena). */
static int type_scalar(loader *l, const yaml_event_t *ev, mycel_value *v)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	uint32_t line = (uint32_t)ev->start_mark.line + 1, col = (uint32_t)ev->start_mark.column + 1;
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	const char *want = NULL; /* the type a tag asks for */

	memset(v, 0, sizeof(*v));
	v->line = line;
	v->col = col;
	if (tag != NULL) {
		if (strncmp(tag, TAG_PREFIX, sizeof(TAG_PREFIX) - 1) == 0)
			want = tag + sizeof(TAG_PREFIX) - 1;
		else if (strcmp(tag, "!") != 0)
			return problem(l, MYCEL_EFORMAT, line, col, "unsupported tag %s", tag);
		else
			want = "str";
	} else if (!plain) {
		want = "str";
	}
	if (want == NULL || strcmp(want, "null") == 0) {
		if (is_null(s, n)) {
			v->type = MYCEL_T_NIL;
			return 0;
		}
		if (want != NULL)
			return problem(l, MYCEL_EFORMAT, line, col, "\"%.40s\" is not a null", s);
	}
	if (want == NULL || strcmp(want, "bool") == 0) {
		int b = is_bool(s, n);
		if (b >= 0) {
			v->type = MYCEL_T_BOOL;
			v->v.b = b == 1;
			return 0;
		}
		if (want != NULL)
			return problem(l, MYCEL_EFORMAT, line, col, "\"%.40s\" is not a boolean", s);
	}
	if (want == NULL || strcmp(want, "int") == 0) {
		int r = parse_int(s, n, v);
		if (r < 0)
			return problem(l, MYCEL_EFORMAT, line, col,
				       "integer %.40s is out of range (-2^63 to 2^64-1)", s);
		if (r > 0)
			return 0;
		if (want != NULL)
			return problem(l, MYCEL_EFORMAT, line, col, "\"%.40s\" is not an integer", s);
	}
	if (want == NULL || strcmp(want, "float") == 0) {
		int r = parse_float(s, n, v);
		if (r < 0)
			return problem(l, MYCEL_EFORMAT, line, col,
				       "%.40s: infinities and NaN cannot be stored (no canonical encoding)",
				       s);
		if (r > 0)
			return 0;
		if (want != NULL && parse_int(s, n, v) > 0) { /* !!float 1 */
			double f = v->type == MYCEL_T_UINT ? (double)v->v.u : (double)v->v.i;
			v->type = MYCEL_T_FLOAT;
			v->v.f = f;
			return 0;
		}
		if (want != NULL)
			return problem(l, MYCEL_EFORMAT, line, col, "\"%.40s\" is not a float", s);
	}
	if (want != NULL && strcmp(want, "str") != 0 && strcmp(want, "null") != 0 &&
	    strcmp(want, "bool") != 0 && strcmp(want, "int") != 0 && strcmp(want, "float") != 0)
		return problem(l, MYCEL_EFORMAT, line, col, "unsupported tag !!%s", want);
	if (!mycel_utf8_valid((const uint8_t *)s, n))
		return problem(l, MYCEL_EFORMAT, line, col, "string is not valid UTF-8");
	v->type = MYCEL_T_STR;
	v->v.s.ptr = mycel_arena_strdup(l->a, s, n);
	v->v.s.len = n;
	if (v->v.s.ptr == NULL)
		return problem(l, MYCEL_ENOMEM, line, col, "out of memory");
	return 0;
}

/* ---- building ----------------------------------------------------------------- */

static int count_node(loader *l, size_t size, uint32_t line, uint32_t col)
{
	if (size > l->lim.max_nodes - l->nodes || l->nodes + size > l->lim.max_nodes)
		return problem(l, MYCEL_ETOOBIG, line, col, "document has more than %zu values",
			       l->lim.max_nodes);
	l->nodes += size;
	return 0;
}

static uint64_t anchor_hash(const loader *l, const char *name)
{
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t h;
	(void)crypto_shorthash(out, (const unsigned char *)name, strlen(name), l->hash_key);
	memcpy(&h, out, sizeof(h));
	return h;
}

/* The slot holding name, or the empty slot where it belongs (the table is never full). */
static anchor *anchor_slot(const loader *l, const char *name, uint64_t h)
{
	size_t mask = l->cap_anchors - 1;
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		anchor *s = &l->anchors[i];
		if (s->name == NULL || (s->hash == h && strcmp(s->name, name) == 0))
			return s;
	}
}

static anchor *anchor_find(const loader *l, const char *name)
{
	if (l->cap_anchors == 0)
		return NULL;
	anchor *s = anchor_slot(l, name, anchor_hash(l, name));
	return s->name != NULL ? s : NULL;
}

/*
 * Defines (or redefines: the latest definition wins, as in YAML) an anchor;
 * val NULL marks a container still open. Returns the slot, or NULL (ENOMEM).
 */
static anchor *define_anchor(loader *l, const char *name, const mycel_value *val, size_t size,
			     unsigned height, uint32_t line, uint32_t col)
{
	if (2 * (l->n_anchors + 1) > l->cap_anchors) {
		size_t cap = l->cap_anchors ? 2 * l->cap_anchors : 64;
		anchor *old = l->anchors, *p = calloc(cap, sizeof(*p));
		if (p == NULL) {
			problem(l, MYCEL_ENOMEM, line, col, "out of memory");
			return NULL;
		}
		if (l->cap_anchors == 0) {
			if (mycel__sodium_init() != 0) {
				free(p);
				problem(l, MYCEL_ENOMEM, line, col, "cannot initialise libsodium");
				return NULL;
			}
			randombytes_buf(l->hash_key, sizeof(l->hash_key));
		}
		l->anchors = p;
		l->cap_anchors = cap;
		for (size_t i = 0; old != NULL && i < cap / 2; i++)
			if (old[i].name != NULL)
				*anchor_slot(l, old[i].name, old[i].hash) = old[i];
		free(old);
	}
	uint64_t h = anchor_hash(l, name);
	anchor *s = anchor_slot(l, name, h);
	if (s->name == NULL) {
		if ((s->name = strdup(name)) == NULL) {
			problem(l, MYCEL_ENOMEM, line, col, "out of memory");
			return NULL;
		}
		s->hash = h;
		l->n_anchors++;
	}
	s->val = val;
	s->size = size;
	s->height = height;
	s->gen = ++l->anchor_gen;
	return s;
}

/*
 * Adds a finished value (size: values in its subtree, height: containers on its
 * longest path down) to the parent, or makes it the root.
 */
static int add_value(loader *l, const mycel_value *v, size_t size, unsigned height, uint32_t line,
		     uint32_t col)
{
	if (l->depth == 0) {
		if (l->root != NULL)
			return problem(l, MYCEL_EFORMAT, line, col, "more than one value at the top");
		mycel_value *r = mycel_arena_alloc(l->a, sizeof(*r));
		if (r == NULL)
			return problem(l, MYCEL_ENOMEM, line, col, "out of memory");
		*r = *v;
		l->root = r;
		l->root_size = size;
		return 0;
	}
	frame *f = &l->stack[l->depth - 1];
	f->size += size;
	if (f->height < height + 1)
		f->height = height + 1;
	if (f->val->type == MYCEL_T_MAP && !f->have_key) {
		/* v is a key: scalars only, kept as their text */
		if (v->type == MYCEL_T_ARRAY || v->type == MYCEL_T_MAP)
			return problem(l, MYCEL_EFORMAT, line, col,
				       "a map key must be a plain value, not a %s",
				       v->type == MYCEL_T_MAP ? "map" : "list");
		return problem(l, MYCEL_EFORMAT, line, col, "a map key must be a plain value");
	}
	if (f->len == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 8;
		void *p = f->val->type == MYCEL_T_MAP
			      ? realloc(f->members, cap * sizeof(*f->members))
			      : realloc(f->items, cap * sizeof(*f->items));
		if (p == NULL)
			return problem(l, MYCEL_ENOMEM, line, col, "out of memory");
		if (f->val->type == MYCEL_T_MAP)
			f->members = p;
		else
			f->items = p;
		if (f->val->type == MYCEL_T_MAP) {
			if ((p = realloc(f->kpos, cap * sizeof(*f->kpos))) == NULL)
				return problem(l, MYCEL_ENOMEM, line, col, "out of memory");
			f->kpos = p;
		}
		f->cap = cap;
	}
	if (f->val->type == MYCEL_T_MAP) {
		f->members[f->len] = (mycel_member){f->key, f->key_len, *v};
		f->kpos[f->len] = (kpos){f->key_line, f->key_col};
		f->have_key = false;
		f->key = NULL;
	} else {
		f->items[f->len] = *v;
	}
	f->len++;
	return 0;
}

static int add_key(loader *l, const yaml_event_t *ev)
{
	frame *f = &l->stack[l->depth - 1];
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	uint32_t line = (uint32_t)ev->start_mark.line + 1, col = (uint32_t)ev->start_mark.column + 1;
	char tb[128];
	if (tag != NULL && strcmp(tag, "!") != 0 && strcmp(tag, TAG_PREFIX "str") != 0)
		return problem(l, MYCEL_EFORMAT, line, col, "a map key must be a string, not %.100s",
			       tag_name(tag, tb, sizeof(tb)));
	if (!mycel_utf8_valid((const uint8_t *)s, n))
		return problem(l, MYCEL_EFORMAT, line, col, "key is not valid UTF-8");
	f->key = mycel_arena_strdup(l->a, s, n);
	if (f->key == NULL)
		return problem(l, MYCEL_ENOMEM, line, col, "out of memory");
	f->key_len = n;
	f->key_line = line;
	f->key_col = col;
	f->have_key = true;
	f->size++;
	return count_node(l, 1, line, col);
}

static int key_cmp(const void *a, const void *b)
{
	const mycel_member *x = *(const mycel_member *const *)a, *y = *(const mycel_member *const *)b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key, y->key, n);
	if (c != 0)
		return c;
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	/* equal keys: in document order (both point into one array) */
	return x < y ? -1 : x > y;
}

/* Refuses duplicate keys in O(n log n), naming the later occurrence. */
static int check_duplicates(loader *l, const frame *f)
{
	if (f->len < 2)
		return 0;
	if (f->len <= 16) {
		for (size_t i = 1; i < f->len; i++)
			for (size_t j = 0; j < i; j++)
				if (f->members[i].key_len == f->members[j].key_len &&
				    memcmp(f->members[i].key, f->members[j].key, f->members[i].key_len) == 0)
					return problem(l, MYCEL_EFORMAT, f->kpos[i].line, f->kpos[i].col,
						       "duplicate key \"%.60s\" (first at line %u)",
						       f->members[i].key, f->kpos[j].line);
		return 0;
	}
	const mycel_member **idx = malloc(f->len * sizeof(*idx));
	if (idx == NULL)
		return problem(l, MYCEL_ENOMEM, f->val->line, f->val->col, "out of memory");
	for (size_t i = 0; i < f->len; i++)
		idx[i] = &f->members[i];
	qsort(idx, f->len, sizeof(*idx), key_cmp);
	int rv = 0;
	for (size_t i = 1; i < f->len && rv == 0; i++)
		if (idx[i]->key_len == idx[i - 1]->key_len &&
		    memcmp(idx[i]->key, idx[i - 1]->key, idx[i]->key_len) == 0) {
			const kpos *later = &f->kpos[idx[i] - f->members];
			rv = problem(l, MYCEL_EFORMAT, later->line, later->col,
				     "duplicate key \"%.60s\" (first at line %u)", idx[i]->key,
				     f->kpos[idx[i - 1] - f->members].line);
		}
	free(idx);
	return rv;
}

static int open_container(loader *l, const yaml_event_t *ev, mycel_type t)
{
	uint32_t line = (uint32_t)ev->start_mark.line + 1, col = (uint32_t)ev->start_mark.column + 1;
	const char *anc = t == MYCEL_T_MAP ? (const char *)ev->data.mapping_start.anchor
					   : (const char *)ev->data.sequence_start.anchor;
	const char *tag = t == MYCEL_T_MAP ? (const char *)ev->data.mapping_start.tag
					   : (const char *)ev->data.sequence_start.tag;
	char tb[128];
	if (tag != NULL && strcmp(tag, "!") != 0 &&
	    strcmp(tag, t == MYCEL_T_MAP ? TAG_PREFIX "map" : TAG_PREFIX "seq") != 0)
		return problem(l, MYCEL_EFORMAT, line, col, "unsupported tag %.100s on a %s",
			       tag_name(tag, tb, sizeof(tb)), t == MYCEL_T_MAP ? "map" : "list");
	if (l->depth > 0) {
		frame *p = &l->stack[l->depth - 1];
		if (p->val->type == MYCEL_T_MAP && !p->have_key)
			return problem(l, MYCEL_EFORMAT, line, col,
				       "a map key must be a plain value, not a %s",
				       t == MYCEL_T_MAP ? "map" : "list");
	}
	if (l->depth >= (int)l->lim.max_depth)
		return problem(l, MYCEL_EFORMAT, line, col, "nested deeper than %u levels",
			       l->lim.max_depth);
	if (count_node(l, 1, line, col) != 0)
		return l->err;
	frame *f = &l->stack[l->depth++];
	memset(f, 0, sizeof(*f));
	f->val = mycel_arena_alloc(l->a, sizeof(*f->val));
	if (f->val == NULL)
		return problem(l, MYCEL_ENOMEM, line, col, "out of memory");
	memset(f->val, 0, sizeof(*f->val));
	f->val->type = t;
	f->val->line = line;
	f->val->col = col;
	f->size = 1;
	f->height = 1;
	if (anc != NULL) {
		/* Defined now (an alias inside refers to it: recursion, refused), set on close. */
		anchor *s = define_anchor(l, anc, NULL, 0, 0, line, col);
		if (s == NULL)
			return l->err;
		f->anchor = s->name;
		f->anchor_gen = s->gen;
	}
	return 0;
}

static int close_container(loader *l)
{
	frame *f = &l->stack[l->depth - 1];
	mycel_value v = *f->val;
	int rv = 0;
	if (v.type == MYCEL_T_MAP) {
		if ((rv = check_duplicates(l, f)) != 0)
			goto out;
		if (f->len > 0) {
			mycel_member *m = mycel_arena_alloc(l->a, f->len * sizeof(*m));
			if (m == NULL) {
				rv = problem(l, MYCEL_ENOMEM, v.line, v.col, "out of memory");
				goto out;
			}
			memcpy(m, f->members, f->len * sizeof(*m));
			v.v.m.items = m;
		}
		v.v.m.len = f->len;
	} else {
		if (f->len > 0) {
			mycel_value *it = mycel_arena_alloc(l->a, f->len * sizeof(*it));
			if (it == NULL) {
				rv = problem(l, MYCEL_ENOMEM, v.line, v.col, "out of memory");
				goto out;
			}
			memcpy(it, f->items, f->len * sizeof(*it));
			v.v.a.items = it;
		}
		v.v.a.len = f->len;
	}
	*f->val = v;
	size_t size = f->size;
	unsigned height = f->height;
	if (f->anchor != NULL) {
		/* unless an anchor of the same name inside it came later and won */
		anchor *s = anchor_find(l, f->anchor);
		if (s != NULL && s->gen == f->anchor_gen) {
			s->val = f->val;
			s->size = size;
			s->height = height;
		}
	}
	free(f->members);
	free(f->items);
	free(f->kpos);
	memset(f, 0, sizeof(*f));
	l->depth--;
	return add_value(l, &v, size, height, v.line, v.col);
out:
	return rv;
}

static int on_scalar(loader *l, const yaml_event_t *ev)
{
	uint32_t line = (uint32_t)ev->start_mark.line + 1, col = (uint32_t)ev->start_mark.column + 1;
	if (l->depth > 0) {
		frame *f = &l->stack[l->depth - 1];
		if (f->val->type == MYCEL_T_MAP && !f->have_key) {
			if (ev->data.scalar.anchor != NULL)
				return problem(l, MYCEL_EFORMAT, line, col,
					       "anchors on keys are not supported");
			return add_key(l, ev);
		}
	}
	mycel_value v;
	int rv = type_scalar(l, ev, &v);
	if (rv != 0)
		return rv;
	if ((rv = count_node(l, 1, line, col)) != 0)
		return rv;
	if (ev->data.scalar.anchor != NULL) {
		mycel_value *keep = mycel_arena_alloc(l->a, sizeof(*keep));
		if (keep == NULL)
			return problem(l, MYCEL_ENOMEM, line, col, "out of memory");
		*keep = v;
		if (define_anchor(l, (const char *)ev->data.scalar.anchor, keep, 1, 0, line, col) ==
		    NULL)
			return l->err;
	}
	return add_value(l, &v, 1, 0, line, col);
}

static int on_alias(loader *l, const yaml_event_t *ev)
{
	uint32_t line = (uint32_t)ev->start_mark.line + 1, col = (uint32_t)ev->start_mark.column + 1;
	const char *name = (const char *)ev->data.alias.anchor;
	const anchor *found = anchor_find(l, name);
	if (found == NULL)
		return problem(l, MYCEL_EFORMAT, line, col, "unknown alias *%s", name);
	if (found->val == NULL)
		return problem(l, MYCEL_EFORMAT, line, col,
			       "alias *%s is inside the value it refers to (recursion)", name);
	if (l->depth > 0) {
		frame *f = &l->stack[l->depth - 1];
		if (f->val->type == MYCEL_T_MAP && !f->have_key)
			return problem(l, MYCEL_EFORMAT, line, col, "an alias cannot be a map key");
	}
	if ((unsigned)l->depth + found->height > l->lim.max_depth)
		return problem(l, MYCEL_EFORMAT, line, col,
			       "nested deeper than %u levels (through alias *%s)", l->lim.max_depth,
			       name);
	if (found->size > l->lim.max_alias - l->alias_nodes)
		return problem(l, MYCEL_ETOOBIG, line, col,
			       "aliases expand to more than %zu values (alias bomb?)", l->lim.max_alias);
	l->alias_nodes += found->size;
	if (count_node(l, found->size, line, col) != 0)
		return l->err;
	/* The tree is read-only: the alias shares the anchored subtree. */
	mycel_value v = *found->val;
	return add_value(l, &v, found->size, found->height, line, col);
}

static void loader_fini(loader *l)
{
	for (int i = 0; i < l->depth; i++) {
		free(l->stack[i].members);
		free(l->stack[i].items);
		free(l->stack[i].kpos);
	}
	for (size_t i = 0; i < l->cap_anchors; i++)
		free(l->anchors[i].name);
	free(l->anchors);
}

/* Line and column (1-based, in characters) of byte off, for libyaml's reader errors. */
static void offset_position(const char *text, size_t n, size_t off, uint32_t *line, uint32_t *col)
{
	uint32_t ln = 1, c = 1;
	for (size_t i = 0; i < off && i < n; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (ch == '\n' || (ch == '\r' && (i + 1 == n || text[i + 1] != '\n')))
			ln++, c = 1;
		else if ((ch & 0xc0) != 0x80 && ch != '\r')
			c++;
	}
	*line = ln;
	*col = c;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
			     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
			     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
						    : 16u;
		if (d == 16)
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* A surrogate pair escape "\uD8xx\uDCxx" at p (12 bytes available): its code point, or 0. */
static unsigned surrogate_pair(const char *p)
{
	unsigned hi, lo;
	if (p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &hi) != 0 || hi < 0xD800 || hi > 0xDBFF ||
	    p[6] != '\\' || p[7] != 'u' || hex4(p + 8, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
		return 0;
	return 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
}

/*
 * JSON writes characters beyond U+FFFF as escaped surrogate pairs
 * ("\uD83D\uDCA9"), which libyaml refuses. In JSON text (it starts with '{'
 * or '['), a backslash appears only inside strings, so each pair can be
 * rewritten as YAML's "\U0001F4A9" (two bytes shorter) before parsing.
 * Returns a malloc'd copy, or NULL when there is nothing to rewrite (or no
 * memory: libyaml then reports the pair). Columns after a rewritten pair on
 * its line shift left by 2.
 */
static char *json_surrogates(const char *text, size_t n, size_t *out_n)
{
	size_t i = 0;
	while (i < n && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
		i++;
	if (i == n || (text[i] != '{' && text[i] != '['))
		return NULL;
	char *out = NULL;
	size_t o = 0, copied = 0; /* text[copied..] is not in out yet */
	bool in_str = false;
	for (size_t k = i; k < n; k++) {
		if (!in_str) {
			in_str = text[k] == '"';
			continue;
		}
		if (text[k] == '"') {
			in_str = false;
			continue;
		}
		if (text[k] != '\\')
			continue;
		unsigned cp = k + 12 <= n ? surrogate_pair(text + k) : 0;
		if (cp == 0) {
			k++; /* the escaped character */
			continue;
		}
		if (out == NULL && (out = malloc(n + 1)) == NULL)
			return NULL;
		memcpy(out + o, text + copied, k - copied);
		o += k - copied;
		o += (size_t)snprintf(out + o, 11, "\\U%08X", cp);
		copied = k + 12;
		k += 11;
	}
	if (out == NULL)
		return NULL;
	memcpy(out + o, text + copied, n - copied);
	o += n - copied;
	*out_n = o;
	return out;
}

int mycel_doc_parse(const char *text, size_t n, const mycel_doc_limits *limits, mycel_arena *a,
		    mycel_value **out, mycel_diags *d)
{
	loader l;
	yaml_parser_t yp;
	yaml_event_t ev;
	bool done = false;

	memset(&l, 0, sizeof(l));
	l.a = a;
	l.d = d;
	l.lim.max_bytes = limits && limits->max_bytes ? limits->max_bytes : DEFAULT_MAX_BYTES;
	l.lim.max_nodes = limits && limits->max_nodes ? limits->max_nodes : DEFAULT_MAX_NODES;
	l.lim.max_alias = limits && limits->max_alias ? limits->max_alias : DEFAULT_MAX_ALIAS;
	l.lim.max_depth = limits && limits->max_depth && limits->max_depth < MYCEL_MAX_DEPTH
			      ? limits->max_depth
			      : MYCEL_MAX_DEPTH;
	if (n > l.lim.max_bytes)
		return problem(&l, MYCEL_ETOOBIG, 0, 0, "document is larger than %zu bytes",
			       l.lim.max_bytes);
	if (text == NULL && n == 0)
		text = ""; /* libyaml asserts on a NULL input */
	size_t rn = 0;
	char *rewritten = json_surrogates(text, n, &rn);
	if (rewritten != NULL) {
		text = rewritten;
		n = rn;
	}
	if (!yaml_parser_initialize(&yp)) {
		free(rewritten);
		return MYCEL_ENOMEM;
	}
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, n);
	yaml_parser_set_encoding(&yp, YAML_UTF8_ENCODING);
	while (!done && l.err == 0) {
		if (!yaml_parser_parse(&yp, &ev)) {
			uint32_t line = (uint32_t)yp.problem_mark.line + 1,
				 col = (uint32_t)yp.problem_mark.column + 1;
			if (yp.error == YAML_READER_ERROR) /* it sets only problem_offset */
				offset_position(text, n, yp.problem_offset, &line, &col);
			problem(&l, yp.error == YAML_MEMORY_ERROR ? MYCEL_ENOMEM : MYCEL_EFORMAT, line,
				col, "%s%s%s", yp.problem ? yp.problem : "YAML syntax error",
				yp.context ? " " : "", yp.context ? yp.context : "");
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++l.docs > 1)
				problem(&l, MYCEL_EFORMAT, (uint32_t)ev.start_mark.line + 1,
					(uint32_t)ev.start_mark.column + 1,
					"more than one document in the file (one document per file)");
			break;
		case YAML_SCALAR_EVENT:
			(void)on_scalar(&l, &ev);
			break;
		case YAML_ALIAS_EVENT:
			(void)on_alias(&l, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			(void)open_container(&l, &ev, MYCEL_T_ARRAY);
			break;
		case YAML_MAPPING_START_EVENT:
			(void)open_container(&l, &ev, MYCEL_T_MAP);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			(void)close_container(&l);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&yp);
	free(rewritten);
	if (l.err == 0 && l.root == NULL)
		problem(&l, MYCEL_EFORMAT, 1, 1, "the document is empty");
	loader_fini(&l);
	if (l.err != 0)
		return l.err;
	*out = l.root;
	return 0;
}

int mycel_doc_load(const char *path, const mycel_doc_limits *limits, mycel_arena *a,
		   mycel_value **out, mycel_diags *d)
{
	uint8_t *text;
	size_t n;
	size_t max = limits && limits->max_bytes ? limits->max_bytes : DEFAULT_MAX_BYTES;
	int rv = mycel__read_file(path, max, &text, &n);
	if (rv != 0) {
		if (d != NULL)
			(void)mycel_diags_add(d, 0, 0, NULL, "%s",
					      rv == MYCEL_ENOTFOUND ? "no such file"
					      : rv == MYCEL_ETOOBIG ? "file is larger than the limit"
								    : "cannot read the file");
		return rv;
	}
	rv = mycel_doc_parse((const char *)text, n, limits, a, out, d);
	free(text);
	return rv;
}
