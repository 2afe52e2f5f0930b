/*
 * cel_eval.c — evaluation of the CEL subset (include/mycel/cel.h): values,
 * operators, field selection over documents, macros, the cost budget, and
 * the blame (the document value that made a result false).
 *
 * Errors are values (CK_ERR) so that && and || can absorb them as CEL says;
 * an exhausted budget or memory limit is fatal and absorbed by nothing.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel_int.h"
#include "mycel/diag.h"
#include "mycel/error.h"

#define CEL_EVAL_MEM_MAX ((size_t)64 << 20) /* bytes one evaluation may allocate */
#define CEL_ROOT_IDX SIZE_MAX               /* cel_path of a variable itself */

/* ---- context, errors, budget ------------------------------------------- */

int mycel__cel_ctx_init(cel_ctx *ctx, const mycel_cel_env *env, const cel_binding *binds,
                        size_t n_binds)
{
	memset(ctx, 0, sizeof(*ctx));
	if (mycel_arena_new(CEL_EVAL_MEM_MAX, &ctx->arena) != 0)
		return MYCEL_ENOMEM;
	ctx->mctx = pcre2_match_context_create(NULL);
	if (ctx->mctx == NULL) {
		mycel_arena_free(ctx->arena);
		ctx->arena = NULL;
		return MYCEL_ENOMEM;
	}
	pcre2_set_match_limit(ctx->mctx, 100000);
	pcre2_set_depth_limit(ctx->mctx, 2000);
	ctx->env = env;
	ctx->binds = binds;
	ctx->n_binds = n_binds;
	ctx->budget = env != NULL && env->budget != 0 ? env->budget : MYCEL_CEL_BUDGET_DEFAULT;
	for (size_t i = 0; i < n_binds; i++)
		if (strchr(binds[i].name, '.') != NULL)
			ctx->has_dotted = true;
	return 0;
}

void mycel__cel_ctx_fini(cel_ctx *ctx)
{
	if (ctx == NULL)
		return;
	pcre2_match_context_free(ctx->mctx);
	mycel_arena_free(ctx->arena);
	ctx->mctx = NULL;
	ctx->arena = NULL;
}

static void set_fatal(cel_ctx *ctx, const cel_node *at, const char *msg)
{
	if (ctx->fatal)
		return;
	ctx->fatal = true;
	memset(&ctx->fatal_err, 0, sizeof(ctx->fatal_err));
	ctx->fatal_err.kind = CK_ERR;
	ctx->fatal_err.v.s.p = msg;
	ctx->fatal_err.v.s.n = strlen(msg);
	if (at != NULL) {
		ctx->fatal_err.line = at->line;
		ctx->fatal_err.col = at->col;
	}
}

void *mycel__cel_alloc(cel_ctx *ctx, size_t n)
{
	void *p = mycel_arena_alloc(ctx->arena, n);
	if (p == NULL)
		set_fatal(ctx, NULL, "evaluation needs more memory than its limit (64 MiB)");
	return p;
}

bool mycel__cel_charge(cel_ctx *ctx, uint64_t units)
{
	if (ctx->fatal)
		return false;
	if (units > ctx->budget - ctx->spent) {
		ctx->spent = ctx->budget;
		set_fatal(ctx, NULL, "evaluation exceeds its cost budget");
		return false;
	}
	ctx->spent += units;
	return true;
}

cel_val mycel__cel_err(cel_ctx *ctx, const cel_node *at, const char *fmt, ...)
{
	cel_val v;
	char buf[256];
	va_list ap;

	memset(&v, 0, sizeof(v));
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	v.kind = CK_ERR;
	v.v.s.n = strlen(buf);
	v.v.s.p = mycel_arena_strdup(ctx->arena, buf, v.v.s.n);
	if (v.v.s.p == NULL) {
		set_fatal(ctx, at, "evaluation needs more memory than its limit (64 MiB)");
		return ctx->fatal_err;
	}
	if (at != NULL) {
		v.line = at->line;
		v.col = at->col;
	}
	return v;
}

static cel_val fatal_val(cel_ctx *ctx, const cel_node *at)
{
	cel_val v = ctx->fatal_err;
	if (v.line == 0 && at != NULL) {
		v.line = at->line;
		v.col = at->col;
		ctx->fatal_err = v;
	}
	return v;
}

/* ---- values ------------------------------------------------------------ */

static cel_val mk_bool(bool b)
{
	cel_val v;
	memset(&v, 0, sizeof(v));
	v.kind = CK_BOOL;
	v.v.b = b;
	return v;
}

static cel_val mk_int(int64_t i)
{
	cel_val v;
	memset(&v, 0, sizeof(v));
	v.kind = CK_INT;
	v.v.i = i;
	return v;
}

static cel_val mk_uint(uint64_t u)
{
	cel_val v;
	memset(&v, 0, sizeof(v));
	v.kind = CK_UINT;
	v.v.u = u;
	return v;
}

static cel_val mk_double(double f)
{
	cel_val v;
	memset(&v, 0, sizeof(v));
	v.kind = CK_DOUBLE;
	v.v.f = f;
	return v;
}

static cel_val mk_time(cel_kind k, int64_t sec, int64_t ns)
{
	cel_val v;
	memset(&v, 0, sizeof(v));
	v.kind = (uint8_t)k;
	sec += ns / 1000000000;
	ns %= 1000000000;
	if (ns < 0) {
		ns += 1000000000;
		sec--;
	}
	v.v.t.sec = sec;
	v.v.t.ns = (int32_t)ns;
	return v;
}

static cel_val mk_type(const char *name)
{
	cel_val v;
	memset(&v, 0, sizeof(v));
	v.kind = CK_TYPE;
	v.v.s.p = name;
	v.v.s.n = strlen(name);
	return v;
}

const char *mycel__cel_type_name(const cel_val *v)
{
	switch (v->kind) {
	case CK_ERR:
		return "error";
	case CK_NULL:
		return "null_type";
	case CK_BOOL:
		return "bool";
	case CK_INT:
		return "int";
	case CK_UINT:
		return "uint";
	case CK_DOUBLE:
		return "double";
	case CK_STRING:
		return "string";
	case CK_BYTES:
		return "bytes";
	case CK_LIST:
		return "list";
	case CK_MAP:
		return "map";
	case CK_TS:
		return "google.protobuf.Timestamp";
	case CK_DUR:
		return "google.protobuf.Duration";
	case CK_TYPE:
		return "type";
	}
	return "?";
}

static const cel_path *path_child(cel_ctx *ctx, const cel_path *up, const char *key, size_t key_len,
                                  size_t idx, const mycel_value *doc)
{
	cel_path *p;
	if (up == NULL)
		return NULL;
	p = mycel__cel_alloc(ctx, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->up = up;
	p->key = key;
	p->key_len = key_len;
	p->idx = idx;
	p->doc = doc;
	return p;
}

/* A document value as a CEL value: scalars converted, arrays and maps by reference. */
cel_val mycel__cel_from_doc(cel_ctx *ctx, const mycel_value *d, const cel_path *path)
{
	cel_val v;
	memset(&v, 0, sizeof(v));
	v.path = path;
	if (d == NULL) {
		v.kind = CK_NULL;
		return v;
	}
	switch (d->type) {
	case MYCEL_T_NIL:
		v.kind = CK_NULL;
		break;
	case MYCEL_T_BOOL:
		v.kind = CK_BOOL;
		v.v.b = d->v.b;
		break;
	case MYCEL_T_UINT:
		if (d->v.u > (uint64_t)INT64_MAX) {
			v.kind = CK_UINT;
			v.v.u = d->v.u;
		} else {
			v.kind = CK_INT;
			v.v.i = (int64_t)d->v.u;
		}
		break;
	case MYCEL_T_INT:
		v.kind = CK_INT;
		v.v.i = d->v.i;
		break;
	case MYCEL_T_FLOAT:
		v.kind = CK_DOUBLE;
		v.v.f = d->v.f;
		break;
	case MYCEL_T_STR:
	case MYCEL_T_BIN:
		v.kind = d->type == MYCEL_T_STR ? CK_STRING : CK_BYTES;
		v.v.s.p = d->v.s.ptr;
		v.v.s.n = d->v.s.len;
		break;
	case MYCEL_T_ARRAY:
	case MYCEL_T_MAP:
		v.kind = d->type == MYCEL_T_ARRAY ? CK_LIST : CK_MAP;
		v.doc = true;
		v.v.d = d;
		break;
	}
	(void)ctx;
	return v;
}

size_t mycel__cel_len(const cel_val *v)
{
	if (v->kind == CK_LIST)
		return v->doc ? v->v.d->v.a.len : v->v.l.n;
	if (v->kind == CK_MAP)
		return v->doc ? v->v.d->v.m.len : v->v.m.n;
	return 0;
}

cel_val mycel__cel_list_at(cel_ctx *ctx, const cel_val *l, size_t i)
{
	if (!l->doc)
		return l->v.l.items[i];
	const mycel_value *d = &l->v.d->v.a.items[i];
	return mycel__cel_from_doc(ctx, d, path_child(ctx, l->path, NULL, 0, i, d));
}

void mycel__cel_map_entry(cel_ctx *ctx, const cel_val *m, size_t i, cel_val *k, cel_val *v)
{
	if (!m->doc) {
		*k = m->v.m.items[i].key;
		*v = m->v.m.items[i].val;
		return;
	}
	const mycel_member *mm = &m->v.d->v.m.items[i];
	memset(k, 0, sizeof(*k));
	k->kind = CK_STRING;
	k->v.s.p = mm->key;
	k->v.s.n = mm->key_len;
	*v = mycel__cel_from_doc(ctx, &mm->val,
	                         path_child(ctx, m->path, mm->key, mm->key_len, 0, &mm->val));
}

static bool is_num(const cel_val *v)
{
	return v->kind == CK_INT || v->kind == CK_UINT || v->kind == CK_DOUBLE;
}

static int cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

/*
 * int vs double as cel-spec's conformance tests expect: out of int range the
 * double decides, within it both compare as doubles (so 2^63 - 1 equals 2^63).
 */
static int cmp_dbl(double a, double b)
{
	return a < b ? -1 : a > b;
}

static int cmp_int_double(int64_t i, double d)
{
	if (isnan(d))
		return 2;
	if (d < -0x1p63)
		return 1;
	if (d > 0x1p63)
		return -1;
	return cmp_dbl((double)i, d);
}

static int cmp_uint_double(uint64_t u, double d)
{
	if (isnan(d))
		return 2;
	if (d < 0)
		return 1;
	if (d > 0x1p64)
		return -1;
	return cmp_dbl((double)u, d);
}

static int cmp_num(const cel_val *a, const cel_val *b)
{
	switch (a->kind * 16 + b->kind) {
	case CK_INT * 16 + CK_INT:
		return cmp_i64(a->v.i, b->v.i);
	case CK_UINT * 16 + CK_UINT:
		return cmp_u64(a->v.u, b->v.u);
	case CK_DOUBLE * 16 + CK_DOUBLE:
		if (isnan(a->v.f) || isnan(b->v.f))
			return 2;
		return a->v.f < b->v.f ? -1 : a->v.f > b->v.f;
	case CK_INT * 16 + CK_UINT:
		return a->v.i < 0 ? -1 : cmp_u64((uint64_t)a->v.i, b->v.u);
	case CK_UINT * 16 + CK_INT:
		return b->v.i < 0 ? 1 : cmp_u64(a->v.u, (uint64_t)b->v.i);
	case CK_INT * 16 + CK_DOUBLE:
		return cmp_int_double(a->v.i, b->v.f);
	case CK_DOUBLE * 16 + CK_INT: {
		int c = cmp_int_double(b->v.i, a->v.f);
		return c == 2 ? 2 : -c;
	}
	case CK_UINT * 16 + CK_DOUBLE:
		return cmp_uint_double(a->v.u, b->v.f);
	case CK_DOUBLE * 16 + CK_UINT: {
		int c = cmp_uint_double(b->v.u, a->v.f);
		return c == 2 ? 2 : -c;
	}
	}
	return 2;
}

static int cmp_bytes(const cel_val *a, const cel_val *b)
{
	size_t n = a->v.s.n < b->v.s.n ? a->v.s.n : b->v.s.n;
	int c = n ? memcmp(a->v.s.p, b->v.s.p, n) : 0;
	if (c != 0)
		return c < 0 ? -1 : 1;
	return cmp_u64(a->v.s.n, b->v.s.n);
}

int mycel__cel_compare(const cel_val *a, const cel_val *b)
{
	if (is_num(a) && is_num(b))
		return cmp_num(a, b);
	if (a->kind != b->kind)
		return 2;
	switch (a->kind) {
	case CK_STRING:
	case CK_BYTES:
		return cmp_bytes(a, b);
	case CK_BOOL:
		return (int)a->v.b - (int)b->v.b;
	case CK_TS:
	case CK_DUR: {
		int c = cmp_i64(a->v.t.sec, b->v.t.sec);
		return c != 0 ? c : cmp_i64(a->v.t.ns, b->v.t.ns);
	}
	default:
		return 2;
	}
}

static bool map_find(cel_ctx *ctx, const cel_val *m, const cel_val *key, cel_val *out);

int mycel__cel_equal(cel_ctx *ctx, const cel_val *a, const cel_val *b)
{
	if (is_num(a) && is_num(b))
		return cmp_num(a, b) == 0;
	if (a->kind != b->kind)
		return 0;
	switch (a->kind) {
	case CK_NULL:
		return 1;
	case CK_BOOL:
		return a->v.b == b->v.b;
	case CK_STRING:
	case CK_BYTES:
	case CK_TYPE:
		mycel__cel_charge(ctx, 1 + a->v.s.n / 64);
		return a->v.s.n == b->v.s.n && memcmp(a->v.s.p, b->v.s.p, a->v.s.n) == 0;
	case CK_TS:
	case CK_DUR:
		return a->v.t.sec == b->v.t.sec && a->v.t.ns == b->v.t.ns;
	case CK_LIST: {
		size_t n = mycel__cel_len(a);
		if (n != mycel__cel_len(b))
			return 0;
		for (size_t i = 0; i < n; i++) {
			if (!mycel__cel_charge(ctx, 1))
				return 0;
			cel_val x = mycel__cel_list_at(ctx, a, i),
			        y = mycel__cel_list_at(ctx, b, i);
			if (!mycel__cel_equal(ctx, &x, &y))
				return 0;
		}
		return 1;
	}
	case CK_MAP: {
		size_t n = mycel__cel_len(a);
		if (n != mycel__cel_len(b))
			return 0;
		for (size_t i = 0; i < n; i++) {
			cel_val k, x, y;
			if (!mycel__cel_charge(ctx, 1))
				return 0;
			mycel__cel_map_entry(ctx, a, i, &k, &x);
			if (!map_find(ctx, b, &k, &y) || !mycel__cel_equal(ctx, &x, &y))
				return 0;
		}
		return 1;
	}
	default:
		return 0;
	}
}

bool mycel__cel_identical(cel_ctx *ctx, const cel_val *a, const cel_val *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case CK_DOUBLE:
		if (isnan(a->v.f) || isnan(b->v.f))
			return isnan(a->v.f) && isnan(b->v.f);
		return a->v.f == b->v.f && signbit(a->v.f) == signbit(b->v.f);
	case CK_LIST: {
		size_t n = mycel__cel_len(a);
		if (n != mycel__cel_len(b))
			return false;
		for (size_t i = 0; i < n; i++) {
			cel_val x = mycel__cel_list_at(ctx, a, i),
			        y = mycel__cel_list_at(ctx, b, i);
			if (!mycel__cel_identical(ctx, &x, &y))
				return false;
		}
		return true;
	}
	case CK_MAP: {
		size_t n = mycel__cel_len(a);
		if (n != mycel__cel_len(b))
			return false;
		for (size_t i = 0; i < n; i++) {
			cel_val k, x, y;
			mycel__cel_map_entry(ctx, a, i, &k, &x);
			if (!map_find(ctx, b, &k, &y) || !mycel__cel_identical(ctx, &x, &y))
				return false;
		}
		return true;
	}
	case CK_ERR:
		return true;
	default:
		return mycel__cel_equal(ctx, a, b) == 1;
	}
}

/* Looks key up in map m (numeric keys compare across int, uint and double). */
static bool map_find(cel_ctx *ctx, const cel_val *m, const cel_val *key, cel_val *out)
{
	if (m->doc) {
		const mycel_value *d = m->v.d;
		if (key->kind != CK_STRING)
			return false;
		for (size_t i = 0; i < d->v.m.len; i++) {
			const mycel_member *mm = &d->v.m.items[i];
			if (mm->key_len == key->v.s.n &&
			    memcmp(mm->key, key->v.s.p, mm->key_len) == 0) {
				*out = mycel__cel_from_doc(
				    ctx, &mm->val,
				    path_child(ctx, m->path, mm->key, mm->key_len, 0, &mm->val));
				return true;
			}
		}
		return false;
	}
	for (size_t i = 0; i < m->v.m.n; i++) {
		const cel_entry *e = &m->v.m.items[i];
		if (mycel__cel_equal(ctx, &e->key, key)) {
			*out = e->val;
			return true;
		}
	}
	return false;
}

/* ---- the tree walk ------------------------------------------------------ */

static cel_val eval(cel_ctx *ctx, const cel_node *n);

static cel_val lookup_ident(cel_ctx *ctx, const cel_node *n)
{
	for (size_t i = ctx->n_scope; i > 0; i--)
		if (strcmp(ctx->scope[i - 1].name, n->name) == 0)
			return ctx->scope[i - 1].val;
	for (size_t i = 0; i < ctx->n_binds; i++)
		if (strcmp(ctx->binds[i].name, n->name) == 0)
			return ctx->binds[i].val;
	const mycel_cel_env *env = ctx->env;
	if (env != NULL) {
		if (env->has_now && strcmp(n->name, "now") == 0)
			return mk_time(CK_TS, env->now_ns / 1000000000, env->now_ns % 1000000000);
		for (size_t i = 0; i < env->n_vars; i++) {
			if (env->vars[i].name == NULL || strcmp(env->vars[i].name, n->name) != 0)
				continue;
			cel_path *root = mycel__cel_alloc(ctx, sizeof(*root));
			if (root == NULL)
				return fatal_val(ctx, n);
			memset(root, 0, sizeof(*root));
			root->idx = CEL_ROOT_IDX;
			root->doc = env->vars[i].value;
			return mycel__cel_from_doc(ctx, env->vars[i].value, root);
		}
	}
	static const char *const types[] = {
	    "int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type",
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i], n->name) == 0)
			return mk_type(types[i]);
	return mycel__cel_err(ctx, n, "undeclared reference to '%s'", n->name);
}

/*
 * A qualified name (a.b.c) bound as one variable: when some binding has a dot
 * in its name, a chain of selections on an identifier that is not a macro
 * variable is first looked up whole (the longest prefix wins, as evaluation
 * recurses from the longest chain to the shorter ones).
 */
static bool qualified(cel_ctx *ctx, const cel_node *n, cel_val *out)
{
	char name[256];
	const cel_node *parts[32];
	size_t k = 0, len = 0;
	const cel_node *p = n;

	while (p->kind == N_SELECT && k < 31) {
		parts[k++] = p;
		p = p->a;
	}
	if (p->kind != N_IDENT || k == 0)
		return false;
	for (size_t i = 0; i < ctx->n_scope; i++)
		if (strcmp(ctx->scope[i].name, p->name) == 0)
			return false;
	parts[k++] = p;
	for (size_t i = k; i > 0; i--) {
		size_t l = parts[i - 1]->name_len;
		if (len + l + 2 > sizeof(name))
			return false;
		if (len > 0)
			name[len++] = '.';
		memcpy(name + len, parts[i - 1]->name, l);
		len += l;
	}
	name[len] = '\0';
	for (size_t i = 0; i < ctx->n_binds; i++) {
		if (strcmp(ctx->binds[i].name, name) == 0) {
			*out = ctx->binds[i].val;
			return true;
		}
	}
	return false;
}

static cel_val eval_select(cel_ctx *ctx, const cel_node *n, bool test)
{
	cel_val m, out;
	cel_val key;

	if (!test && ctx->has_dotted && qualified(ctx, n, &out))
		return out;
	m = eval(ctx, n->a);

	if (m.kind == CK_ERR)
		return m;
	if (m.kind != CK_MAP) {
		cel_val e = mycel__cel_err(ctx, n, "%s has no fields (selecting '%s')",
		                           mycel__cel_type_name(&m), n->name);
		e.path = m.path;
		return e;
	}
	memset(&key, 0, sizeof(key));
	key.kind = CK_STRING;
	key.v.s.p = n->name;
	key.v.s.n = n->name_len;
	if (map_find(ctx, &m, &key, &out))
		return test ? mk_bool(true) : out;
	if (test) {
		ctx->blame = m.path;
		return mk_bool(false);
	}
	cel_val e = mycel__cel_err(ctx, n, "no such key: '%s'", n->name);
	e.path = m.path;
	return e;
}

/* An index into a list: int, uint, or a double with an integral value. */
static cel_val eval_index(cel_ctx *ctx, const cel_node *n)
{
	cel_val c = eval(ctx, n->a);
	if (c.kind == CK_ERR)
		return c;
	cel_val k = eval(ctx, n->b);
	if (k.kind == CK_ERR)
		return k;
	if (c.kind == CK_MAP) {
		cel_val out;
		if (k.kind != CK_STRING && k.kind != CK_INT && k.kind != CK_UINT &&
		    k.kind != CK_BOOL && k.kind != CK_DOUBLE)
			return mycel__cel_err(ctx, n, "a map key cannot be %s",
			                      mycel__cel_type_name(&k));
		if (map_find(ctx, &c, &k, &out))
			return out;
		cel_val e;
		if (k.kind == CK_STRING)
			e = mycel__cel_err(ctx, n, "no such key: '%.*s'",
			                   (int)(k.v.s.n > 64 ? 64 : k.v.s.n), k.v.s.p);
		else
			e = mycel__cel_err(ctx, n, "no such key");
		e.path = c.path;
		return e;
	}
	if (c.kind != CK_LIST)
		return mycel__cel_err(ctx, n, "%s cannot be indexed", mycel__cel_type_name(&c));
	int64_t i;
	if (k.kind == CK_INT) {
		i = k.v.i;
	} else if (k.kind == CK_UINT) {
		i = k.v.u > (uint64_t)INT64_MAX ? -1 : (int64_t)k.v.u;
	} else if (k.kind == CK_DOUBLE && k.v.f == trunc(k.v.f) && fabs(k.v.f) < 0x1p62) {
		i = (int64_t)k.v.f;
	} else {
		return mycel__cel_err(ctx, n, "a list index must be an integer, not %s",
		                      mycel__cel_type_name(&k));
	}
	size_t len = mycel__cel_len(&c);
	if (i < 0 || (uint64_t)i >= len) {
		cel_val e = mycel__cel_err(ctx, n, "index %lld out of range (the list has %zu)",
		                           (long long)i, len);
		e.path = c.path;
		return e;
	}
	return mycel__cel_list_at(ctx, &c, (size_t)i);
}

static cel_val eval_list(cel_ctx *ctx, const cel_node *n)
{
	cel_val *items = NULL;
	if (n->n_args > 0) {
		items = mycel__cel_alloc(ctx, n->n_args * sizeof(*items));
		if (items == NULL)
			return fatal_val(ctx, n);
	}
	for (size_t i = 0; i < n->n_args; i++) {
		items[i] = eval(ctx, n->args[i]);
		if (items[i].kind == CK_ERR)
			return items[i];
	}
	cel_val v;
	memset(&v, 0, sizeof(v));
	v.kind = CK_LIST;
	v.v.l.items = items;
	v.v.l.n = n->n_args;
	return v;
}

static cel_val eval_map(cel_ctx *ctx, const cel_node *n)
{
	size_t count = n->n_args / 2;
	cel_entry *items = NULL;
	cel_val v;

	if (count > 0) {
		items = mycel__cel_alloc(ctx, count * sizeof(*items));
		if (items == NULL)
			return fatal_val(ctx, n);
	}
	for (size_t i = 0; i < count; i++) {
		cel_val k = eval(ctx, n->args[2 * i]);
		if (k.kind == CK_ERR)
			return k;
		if (k.kind != CK_STRING && k.kind != CK_INT && k.kind != CK_UINT &&
		    k.kind != CK_BOOL)
			return mycel__cel_err(ctx, n->args[2 * i], "a map key cannot be %s",
			                      mycel__cel_type_name(&k));
		for (size_t j = 0; j < i; j++)
			if (mycel__cel_equal(ctx, &items[j].key, &k))
				return mycel__cel_err(ctx, n->args[2 * i],
				                      "duplicate key in a map");
		cel_val val = eval(ctx, n->args[2 * i + 1]);
		if (val.kind == CK_ERR)
			return val;
		items[i].key = k;
		items[i].val = val;
	}
	memset(&v, 0, sizeof(v));
	v.kind = CK_MAP;
	v.v.m.items = items;
	v.v.m.n = count;
	return v;
}

/* n-ary && (and) or || (!and), absorbing errors as CEL does. */
static cel_val eval_logic(cel_ctx *ctx, const cel_node *n, bool and)
{
	cel_val err;
	bool have_err = false;

	memset(&err, 0, sizeof(err));
	for (size_t i = 0; i < n->n_args; i++) {
		ctx->blame = NULL;
		cel_val v = eval(ctx, n->args[i]);
		if (ctx->fatal)
			return fatal_val(ctx, n);
		if (v.kind == CK_BOOL) {
			if (v.v.b != and) /* false for &&, true for || decides */
				return v;
			continue;
		}
		if (!have_err) {
			err =
			    v.kind == CK_ERR
			        ? v
			        : mycel__cel_err(ctx, n->args[i], "%s needs bool operands, not %s",
			                         and? "&&" : "||", mycel__cel_type_name(&v));
			have_err = true;
		}
	}
	if (have_err)
		return err;
	if (and)
		ctx->blame = NULL;
	return mk_bool(and);
}

static cel_val check_ts(cel_ctx *ctx, const cel_node *n, cel_val v)
{
	if (v.v.t.sec < CEL_TS_MIN || v.v.t.sec > CEL_TS_MAX)
		return mycel__cel_err(ctx, n, "timestamp out of range");
	return v;
}

static cel_val check_dur(cel_ctx *ctx, const cel_node *n, cel_val v)
{
	if (!mycel__cel_dur_ok(v.v.t.sec, v.v.t.ns))
		return mycel__cel_err(ctx, n, "duration out of range");
	return v;
}

static cel_val concat(cel_ctx *ctx, const cel_node *n, const cel_val *a, const cel_val *b)
{
	cel_val v;
	memset(&v, 0, sizeof(v));
	v.kind = a->kind;
	if (a->kind == CK_STRING || a->kind == CK_BYTES) {
		size_t len = a->v.s.n + b->v.s.n;
		if (!mycel__cel_charge(ctx, len))
			return fatal_val(ctx, n);
		char *p = mycel__cel_alloc(ctx, len + 1);
		if (p == NULL)
			return fatal_val(ctx, n);
		if (a->v.s.n)
			memcpy(p, a->v.s.p, a->v.s.n);
		if (b->v.s.n)
			memcpy(p + a->v.s.n, b->v.s.p, b->v.s.n);
		p[len] = '\0';
		v.v.s.p = p;
		v.v.s.n = len;
		return v;
	}
	size_t na = mycel__cel_len(a), nb = mycel__cel_len(b);
	if (!mycel__cel_charge(ctx, na + nb))
		return fatal_val(ctx, n);
	cel_val *items = NULL;
	if (na + nb > 0) {
		items = mycel__cel_alloc(ctx, (na + nb) * sizeof(*items));
		if (items == NULL)
			return fatal_val(ctx, n);
	}
	for (size_t i = 0; i < na; i++)
		items[i] = mycel__cel_list_at(ctx, a, i);
	for (size_t i = 0; i < nb; i++)
		items[na + i] = mycel__cel_list_at(ctx, b, i);
	v.v.l.items = items;
	v.v.l.n = na + nb;
	return v;
}

static const char *const binop_names[] = {
    [B_ADD] = "+", [B_SUB] = "-", [B_MUL] = "*", [B_DIV] = "/", [B_MOD] = "%", [B_EQ] = "==",
    [B_NE] = "!=", [B_LT] = "<",  [B_LE] = "<=", [B_GT] = ">",  [B_GE] = ">=", [B_IN] = "in",
};

static cel_val no_overload(cel_ctx *ctx, const cel_node *n, const cel_val *a, const cel_val *b)
{
	return mycel__cel_err(ctx, n, "no such overload: %s %s %s", mycel__cel_type_name(a),
	                      binop_names[n->op], mycel__cel_type_name(b));
}

static cel_val arith(cel_ctx *ctx, const cel_node *n, const cel_val *a, const cel_val *b)
{
	int op = n->op;
	if (a->kind == CK_INT && b->kind == CK_INT) {
		int64_t x = a->v.i, y = b->v.i, r = 0;
		bool over = false;
		switch (op) {
		case B_ADD:
			over = __builtin_add_overflow(x, y, &r);
			break;
		case B_SUB:
			over = __builtin_sub_overflow(x, y, &r);
			break;
		case B_MUL:
			over = __builtin_mul_overflow(x, y, &r);
			break;
		case B_DIV:
		case B_MOD:
			if (y == 0)
				return mycel__cel_err(
				    ctx, n, op == B_DIV ? "division by zero" : "modulus by zero");
			if (x == INT64_MIN && y == -1)
				over = true;
			else
				r = op == B_DIV ? x / y : x % y;
			break;
		}
		if (over)
			return mycel__cel_err(ctx, n, "integer overflow");
		return mk_int(r);
	}
	if (a->kind == CK_UINT && b->kind == CK_UINT) {
		uint64_t x = a->v.u, y = b->v.u, r = 0;
		bool over = false;
		switch (op) {
		case B_ADD:
			over = __builtin_add_overflow(x, y, &r);
			break;
		case B_SUB:
			over = __builtin_sub_overflow(x, y, &r);
			break;
		case B_MUL:
			over = __builtin_mul_overflow(x, y, &r);
			break;
		case B_DIV:
		case B_MOD:
			if (y == 0)
				return mycel__cel_err(
				    ctx, n, op == B_DIV ? "division by zero" : "modulus by zero");
			r = op == B_DIV ? x / y : x % y;
			break;
		}
		if (over)
			return mycel__cel_err(ctx, n, "unsigned integer overflow");
		return mk_uint(r);
	}
	if (a->kind == CK_DOUBLE && b->kind == CK_DOUBLE && op != B_MOD) {
		double x = a->v.f, y = b->v.f;
		return mk_double(op == B_ADD   ? x + y
		                 : op == B_SUB ? x - y
		                 : op == B_MUL ? x * y
		                               : x / y);
	}
	if (op == B_ADD && a->kind == b->kind &&
	    (a->kind == CK_STRING || a->kind == CK_BYTES || a->kind == CK_LIST))
		return concat(ctx, n, a, b);
	if (op == B_ADD || op == B_SUB) {
		int sign = op == B_ADD ? 1 : -1;
		if ((a->kind == CK_TS && b->kind == CK_DUR) ||
		    (a->kind == CK_DUR && b->kind == CK_DUR)) {
			int64_t sec;
			if (__builtin_add_overflow(a->v.t.sec, sign * b->v.t.sec, &sec))
				return mycel__cel_err(ctx, n, "%s out of range",
				                      a->kind == CK_TS ? "timestamp" : "duration");
			cel_val r =
			    mk_time((cel_kind)a->kind, sec, (int64_t)a->v.t.ns + sign * b->v.t.ns);
			return a->kind == CK_TS ? check_ts(ctx, n, r) : check_dur(ctx, n, r);
		}
		if (op == B_ADD && a->kind == CK_DUR && b->kind == CK_TS) {
			cel_val r =
			    mk_time(CK_TS, a->v.t.sec + b->v.t.sec, (int64_t)a->v.t.ns + b->v.t.ns);
			return check_ts(ctx, n, r);
		}
		if (op == B_SUB && a->kind == CK_TS && b->kind == CK_TS) {
			cel_val r = mk_time(CK_DUR, a->v.t.sec - b->v.t.sec,
			                    (int64_t)a->v.t.ns - b->v.t.ns);
			return check_dur(ctx, n, r);
		}
	}
	return no_overload(ctx, n, a, b);
}

static cel_val set_false_blame(cel_ctx *ctx, bool r, const cel_val *a, const cel_val *b)
{
	if (!r)
		ctx->blame = a->path != NULL ? a->path : b->path;
	return mk_bool(r);
}

static cel_val eval_bin(cel_ctx *ctx, const cel_node *n)
{
	cel_val a = eval(ctx, n->a);
	if (a.kind == CK_ERR)
		return a;
	cel_val b = eval(ctx, n->b);
	if (b.kind == CK_ERR)
		return b;
	switch (n->op) {
	case B_EQ:
	case B_NE: {
		int eq = mycel__cel_equal(ctx, &a, &b);
		if (ctx->fatal)
			return fatal_val(ctx, n);
		return set_false_blame(ctx, n->op == B_EQ ? eq : !eq, &a, &b);
	}
	case B_LT:
	case B_LE:
	case B_GT:
	case B_GE: {
		int c = mycel__cel_compare(&a, &b);
		if (c == 2) {
			if ((a.kind == CK_DOUBLE && isnan(a.v.f)) ||
			    (b.kind == CK_DOUBLE && isnan(b.v.f)))
				return set_false_blame(ctx, false, &a, &b);
			return no_overload(ctx, n, &a, &b);
		}
		bool r = n->op == B_LT   ? c < 0
		         : n->op == B_LE ? c <= 0
		         : n->op == B_GT ? c > 0
		                         : c >= 0;
		return set_false_blame(ctx, r, &a, &b);
	}
	case B_IN: {
		if (b.kind == CK_LIST) {
			size_t len = mycel__cel_len(&b);
			for (size_t i = 0; i < len; i++) {
				if (!mycel__cel_charge(ctx, 1))
					return fatal_val(ctx, n);
				cel_val x = mycel__cel_list_at(ctx, &b, i);
				if (mycel__cel_equal(ctx, &a, &x))
					return mk_bool(true);
			}
			return set_false_blame(ctx, false, &a, &b);
		}
		if (b.kind == CK_MAP) {
			cel_val out;
			if (!mycel__cel_charge(ctx, mycel__cel_len(&b)))
				return fatal_val(ctx, n);
			return set_false_blame(ctx, map_find(ctx, &b, &a, &out), &a, &b);
		}
		return no_overload(ctx, n, &a, &b);
	}
	default:
		return arith(ctx, n, &a, &b);
	}
}

/* A macro's range: the elements of a list or the keys of a map. */
static cel_val range_item(cel_ctx *ctx, const cel_val *r, size_t i)
{
	if (r->kind == CK_LIST)
		return mycel__cel_list_at(ctx, r, i);
	cel_val k, v;
	mycel__cel_map_entry(ctx, r, i, &k, &v);
	k.path = v.path; /* a key's document location is its member */
	return k;
}

static cel_val eval_macro(cel_ctx *ctx, const cel_node *n)
{
	cel_val r = eval(ctx, n->a);
	if (r.kind == CK_ERR)
		return r;
	if (r.kind != CK_LIST && r.kind != CK_MAP)
		return mycel__cel_err(ctx, n, "%s cannot be iterated", mycel__cel_type_name(&r));
	if (ctx->n_scope >= MYCEL_CEL_DEPTH_MAX)
		return mycel__cel_err(ctx, n, "macros nested too deeply");
	size_t len = mycel__cel_len(&r), count = 0, out_n = 0;
	cel_val err, *out = NULL;
	bool have_err = false;
	const cel_path *false_blame = NULL;
	int m = n->op;

	memset(&err, 0, sizeof(err));
	if ((m == M_MAP || m == M_MAP_FILTER || m == M_FILTER) && len > 0) {
		out = mycel__cel_alloc(ctx, len * sizeof(*out));
		if (out == NULL)
			return fatal_val(ctx, n);
	}
	size_t slot = ctx->n_scope++;
	ctx->scope[slot].name = n->name;
	for (size_t i = 0; i < len; i++) {
		if (!mycel__cel_charge(ctx, 1))
			break;
		cel_val x = range_item(ctx, &r, i);
		ctx->scope[slot].val = x;
		ctx->blame = NULL;
		if (m == M_MAP) {
			out[out_n] = eval(ctx, n->b);
			if (out[out_n].kind == CK_ERR) {
				err = out[out_n];
				have_err = true;
				break;
			}
			out_n++;
			continue;
		}
		cel_val p = eval(ctx, m == M_MAP_FILTER ? n->c : n->b);
		if (ctx->fatal)
			break;
		if (p.kind != CK_BOOL) {
			if (!have_err)
				err = p.kind == CK_ERR
				          ? p
				          : mycel__cel_err(ctx, n,
				                           "the predicate of %s is %s, not bool",
				                           m == M_ALL          ? "all()"
				                           : m == M_EXISTS     ? "exists()"
				                           : m == M_EXISTS_ONE ? "exists_one()"
				                           : m == M_FILTER     ? "filter()"
				                                               : "map()",
				                           mycel__cel_type_name(&p));
			have_err = true;
			if (m == M_ALL || m == M_EXISTS)
				continue; /* a later decisive element absorbs the error */
			break;
		}
		if (m == M_ALL && !p.v.b) {
			false_blame = ctx->blame != NULL ? ctx->blame : x.path;
			ctx->n_scope--;
			ctx->blame = false_blame;
			return mk_bool(false);
		}
		if (m == M_EXISTS && p.v.b) {
			ctx->n_scope--;
			return mk_bool(true);
		}
		if (m == M_EXISTS_ONE && p.v.b)
			count++;
		if (m == M_FILTER && p.v.b)
			out[out_n++] = x;
		if (m == M_MAP_FILTER && p.v.b) {
			out[out_n] = eval(ctx, n->b);
			if (out[out_n].kind == CK_ERR) {
				err = out[out_n];
				have_err = true;
				break;
			}
			out_n++;
		}
	}
	ctx->n_scope--;
	if (ctx->fatal)
		return fatal_val(ctx, n);
	if (have_err)
		return err;
	ctx->blame = NULL;
	switch (m) {
	case M_ALL:
		return mk_bool(true);
	case M_EXISTS:
		ctx->blame = r.path;
		return mk_bool(false);
	case M_EXISTS_ONE:
		if (count != 1)
			ctx->blame = r.path;
		return mk_bool(count == 1);
	default: {
		cel_val v;
		memset(&v, 0, sizeof(v));
		v.kind = CK_LIST;
		v.v.l.items = out;
		v.v.l.n = out_n;
		return v;
	}
	}
}

static cel_val eval_call(cel_ctx *ctx, const cel_node *n)
{
	cel_val target, args[2];

	if (n->a != NULL) {
		target = eval(ctx, n->a);
		if (target.kind == CK_ERR)
			return target;
	}
	for (size_t i = 0; i < n->n_args && i < 2; i++) {
		args[i] = eval(ctx, n->args[i]);
		if (args[i].kind == CK_ERR)
			return args[i];
	}
	return mycel__cel_call(ctx, n, n->a != NULL ? &target : NULL, args, n->n_args);
}

static cel_val eval(cel_ctx *ctx, const cel_node *n)
{
	if (!mycel__cel_charge(ctx, 1))
		return fatal_val(ctx, n);
	switch (n->kind) {
	case N_LIT:
		return n->lit;
	case N_IDENT:
		return lookup_ident(ctx, n);
	case N_SELECT:
		return eval_select(ctx, n, false);
	case N_HAS:
		return eval_select(ctx, n, true);
	case N_INDEX:
		return eval_index(ctx, n);
	case N_CALL:
		return eval_call(ctx, n);
	case N_LIST:
		return eval_list(ctx, n);
	case N_MAP:
		return eval_map(ctx, n);
	case N_AND:
		return eval_logic(ctx, n, true);
	case N_OR:
		return eval_logic(ctx, n, false);
	case N_MACRO:
		return eval_macro(ctx, n);
	case N_BIN:
		return eval_bin(ctx, n);
	case N_COND: {
		cel_val c = eval(ctx, n->a);
		if (c.kind == CK_ERR)
			return c;
		if (c.kind != CK_BOOL)
			return mycel__cel_err(ctx, n, "the condition of ?: is %s, not bool",
			                      mycel__cel_type_name(&c));
		ctx->blame = NULL;
		return eval(ctx, c.v.b ? n->b : n->c);
	}
	case N_NOT: {
		cel_val v = eval(ctx, n->a);
		if (v.kind == CK_ERR)
			return v;
		if (v.kind != CK_BOOL)
			return mycel__cel_err(ctx, n, "no such overload: !%s",
			                      mycel__cel_type_name(&v));
		ctx->blame = v.v.b ? v.path : NULL;
		return mk_bool(!v.v.b);
	}
	case N_NEG: {
		cel_val v = eval(ctx, n->a);
		if (v.kind == CK_ERR)
			return v;
		if (v.kind == CK_INT) {
			if (v.v.i == INT64_MIN)
				return mycel__cel_err(ctx, n, "integer overflow");
			return mk_int(-v.v.i);
		}
		if (v.kind == CK_DOUBLE)
			return mk_double(-v.v.f);
		if (v.kind == CK_DUR)
			return check_dur(ctx, n, mk_time(CK_DUR, -v.v.t.sec, -(int64_t)v.v.t.ns));
		return mycel__cel_err(ctx, n, "no such overload: -%s", mycel__cel_type_name(&v));
	}
	}
	return mycel__cel_err(ctx, n, "internal error: unknown node");
}

void mycel__cel_eval(const mycel_cel *e, cel_ctx *ctx, cel_val *out)
{
	ctx->blame = NULL;
	*out = eval(ctx, e->root);
	if (ctx->fatal)
		*out = fatal_val(ctx, e->root);
}

/* ---- the public evaluation -------------------------------------------- */

/* Writes the JSON pointer of path into out. */
static void render_path(const cel_path *path, char *out, size_t n)
{
	const cel_path *chain[MYCEL_MAX_DEPTH + 2];
	size_t k = 0;

	out[0] = '\0';
	for (const cel_path *p = path;
	     p != NULL && p->idx != CEL_ROOT_IDX && k < MYCEL_MAX_DEPTH + 2; p = p->up)
		chain[k++] = p;
	while (k-- > 0) {
		if (chain[k]->key != NULL) {
			mycel_pointer_push(out, n, chain[k]->key, chain[k]->key_len);
		} else {
			char idx[24];
			int len = snprintf(idx, sizeof(idx), "%zu", chain[k]->idx);
			mycel_pointer_push(out, n, idx, (size_t)len);
		}
	}
}

static void fill_err(mycel_cel_err *err, const cel_path *path, uint32_t line, uint32_t col)
{
	if (err == NULL)
		return;
	err->line = line;
	err->col = col;
	if (path != NULL) {
		render_path(path, err->pointer, sizeof(err->pointer));
		if (path->doc != NULL) {
			err->doc_line = path->doc->line;
			err->doc_col = path->doc->col;
		}
	}
}

int mycel_cel_eval_bool(const mycel_cel *e, const mycel_cel_env *env, bool *out, uint64_t *cost,
                        mycel_cel_err *err)
{
	cel_ctx ctx;
	cel_val v;
	int rc;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (e == NULL || out == NULL)
		return MYCEL_EINVAL;
	rc = mycel__cel_ctx_init(&ctx, env, NULL, 0);
	if (rc != 0)
		return rc;
	mycel__cel_eval(e, &ctx, &v);
	if (cost != NULL)
		*cost = ctx.spent;
	if (v.kind == CK_ERR) {
		if (err != NULL) {
			snprintf(err->msg, sizeof(err->msg), "%.*s", (int)v.v.s.n, v.v.s.p);
			fill_err(err, v.path, v.line, v.col);
		}
		rc = MYCEL_EEVAL;
	} else if (v.kind != CK_BOOL) {
		if (err != NULL) {
			snprintf(err->msg, sizeof(err->msg), "result is %s, not bool",
			         mycel__cel_type_name(&v));
			fill_err(err, v.path, e->root->line, e->root->col);
		}
		rc = MYCEL_EEVAL;
	} else {
		*out = v.v.b;
		if (!v.v.b)
			fill_err(err, ctx.blame, 0, 0);
	}
	mycel__cel_ctx_fini(&ctx);
	return rc;
}

int mycel_cel_eval_text(const mycel_cel *e, const mycel_cel_env *env, char *out, size_t out_len,
                        uint64_t *cost, mycel_cel_err *err)
{
	cel_ctx ctx;
	cel_val v;
	mycel_buf b;
	int rc;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (e == NULL || out == NULL || out_len == 0)
		return MYCEL_EINVAL;
	rc = mycel__cel_ctx_init(&ctx, env, NULL, 0);
	if (rc != 0)
		return rc;
	mycel__cel_eval(e, &ctx, &v);
	if (cost != NULL)
		*cost = ctx.spent;
	if (v.kind == CK_ERR) {
		if (err != NULL) {
			snprintf(err->msg, sizeof(err->msg), "%.*s", (int)v.v.s.n, v.v.s.p);
			fill_err(err, v.path, v.line, v.col);
		}
		rc = MYCEL_EEVAL;
		goto done;
	}
	mycel_buf_init_fixed(&b, (uint8_t *)out, out_len);
	rc = mycel__cel_render(&ctx, &v, &b);
	if (rc == 0 && b.err == 0)
		mycel_buf_put(&b, "", 1);
	if (b.err != 0) {
		rc = MYCEL_ETOOBIG;
		out[0] = '\0';
	}
done:
	mycel__cel_ctx_fini(&ctx);
	return rc;
}
