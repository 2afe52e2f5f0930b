/*
 * cel_check.c — a check of the fields an expression selects from the
 * document variables against the document's JSON Schema (mycel_cel_check in
 * include/mycel/cel.h).
 *
 * Each sub-expression gets a static "position": the set of schema nodes its
 * value may have (from every compiled-in version of the standard), or
 * unknown. `contract` starts at the roots of the ODCS schemas, `product` at
 * the ODPS ones, `previous` at both. A selection `.f` (also `["f"]` and
 * has(x.f)) on a known position looks f up in each candidate, through $ref,
 * allOf, anyOf, oneOf, then/else, properties, patternProperties and
 * additionalProperties; when no candidate can have f, that is a finding.
 * Indexing and the macros' variables move to the `items` of arrays.
 * Anything else (function results, literals, conditionals) is unknown and
 * not checked.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel_int.h"
#include "mycel/diag.h"
#include "mycel/doc.h"
#include "mycel/error.h"
#include "schemas.h"

#define POS_MAX 64    /* candidate schema nodes of one position */
#define EXPAND_MAX 12 /* $ref/allOf/anyOf nesting followed */
#define NAMES_MAX 256 /* property names gathered for a suggestion */

typedef struct sroot {
	const mycel_value *doc;
	bool odps;
} sroot;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static mycel_arena *roots_arena;
static sroot roots[16];
static size_t n_roots;

static void load_roots(void)
{
	if (mycel_arena_new((size_t)64 << 20, &roots_arena) != 0)
		return;
	for (const mycel__embedded *e = mycel__schemas; e->name != NULL && n_roots < 16; e++) {
		mycel_value *doc;
		if (mycel_doc_parse((const char *)e->data, e->len, NULL, roots_arena, &doc, NULL) !=
		    0)
			continue;
		roots[n_roots].doc = doc;
		roots[n_roots].odps = strncmp(e->name, "odps", 4) == 0;
		n_roots++;
	}
}

typedef struct spos {
	const mycel_value *v[POS_MAX];
	const mycel_value *root[POS_MAX]; /* the schema document each node is in */
	size_t n;
	bool known;
	const char *std; /* "ODCS", "ODPS", "ODCS or ODPS" */
} spos;

typedef struct checker {
	mycel_diags *d;
	int findings;
	int rc;
	struct {
		const char *name;
		spos *pos;
	} scope[MYCEL_CEL_DEPTH_MAX];
	size_t n_scope;
} checker;

static const mycel_value *get(const mycel_value *m, const char *k)
{
	return m != NULL && m->type == MYCEL_T_MAP ? mycel_value_get(m, k) : NULL;
}

static bool is_false(const mycel_value *v)
{
	return v != NULL && v->type == MYCEL_T_BOOL && !v->v.b;
}

/* Resolves a local $ref ("#/$defs/X", "#/definitions/X"); NULL if it is not one. */
static const mycel_value *resolve(const mycel_value *root, const mycel_value *ref)
{
	if (ref == NULL || ref->type != MYCEL_T_STR || ref->v.s.ptr[0] != '#')
		return NULL;
	const char *p = ref->v.s.ptr + 1;
	const mycel_value *v = root;
	while (*p == '/' && v != NULL) {
		char tok[128];
		size_t n = 0;
		p++;
		while (*p != '\0' && *p != '/' && n < sizeof(tok) - 1)
			tok[n++] = *p++;
		tok[n] = '\0';
		v = get(v, tok);
	}
	return *p == '\0' ? v : NULL;
}

static bool type_allows_object(const mycel_value *node)
{
	const mycel_value *t = get(node, "type");
	if (t == NULL)
		return true;
	if (t->type == MYCEL_T_STR)
		return strcmp(t->v.s.ptr, "object") == 0;
	if (t->type == MYCEL_T_ARRAY)
		for (size_t i = 0; i < t->v.a.len; i++)
			if (t->v.a.items[i].type == MYCEL_T_STR &&
			    strcmp(t->v.a.items[i].v.s.ptr, "object") == 0)
				return true;
	return t->type != MYCEL_T_STR && t->type != MYCEL_T_ARRAY;
}

enum { F_NO, F_OPEN, F_FOUND };

static void pos_add(spos *out, const mycel_value *v, const mycel_value *root)
{
	if (v == NULL || v->type != MYCEL_T_MAP) {
		if (v != NULL && v->type == MYCEL_T_BOOL && v->v.b)
			out->known = false; /* `true`: anything */
		return;
	}
	for (size_t i = 0; i < out->n; i++)
		if (out->v[i] == v)
			return;
	if (out->n == POS_MAX) {
		out->known = false;
		return;
	}
	out->v[out->n] = v;
	out->root[out->n] = root;
	out->n++;
}

/* Can an instance of node have the field name? Children go into out. */
static int field(const mycel_value *root, const mycel_value *node, const char *name, spos *out,
                 int depth)
{
	bool found = false, open = false, has_branches = false, branch_ok = false;
	bool member_no = false; /* a $ref or allOf member that cannot have the field */

	if (depth > EXPAND_MAX || node == NULL)
		return F_OPEN;
	if (node->type == MYCEL_T_BOOL)
		return node->v.b ? F_OPEN : F_NO;
	if (node->type != MYCEL_T_MAP)
		return F_OPEN;
	const mycel_value *props = get(node, "properties");
	const mycel_value *child = get(props, name);
	if (child != NULL) {
		pos_add(out, child, root);
		found = true;
	}
	const mycel_value *pp = get(node, "patternProperties");
	for (size_t i = 0; pp != NULL && pp->type == MYCEL_T_MAP && i < pp->v.m.len; i++) {
		char why[64];
		const mycel_member *m = &pp->v.m.items[i];
		pcre2_code *re = mycel__cel_regex(m->key, m->key_len, why, sizeof(why));
		if (re == NULL) {
			open = true;
			continue;
		}
		pcre2_match_data *md = pcre2_match_data_create(1, NULL);
		int rc = md != NULL
		             ? pcre2_match(re, (PCRE2_SPTR)name, strlen(name), 0, 0, md, NULL)
		             : -1;
		pcre2_match_data_free(md);
		pcre2_code_free(re);
		if (rc >= 0) {
			pos_add(out, &m->val, root);
			found = true;
		} else if (rc != PCRE2_ERROR_NOMATCH) {
			open = true;
		}
	}
	/* allOf members and $ref: their properties count */
	const mycel_value *ref = resolve(root, get(node, "$ref"));
	if (get(node, "$ref") != NULL && ref == NULL)
		open = true;
	if (ref != NULL) {
		int r = field(root, ref, name, out, depth + 1);
		found |= r == F_FOUND;
		open |= r == F_OPEN;
		member_no |= r == F_NO;
	}
	const mycel_value *all = get(node, "allOf");
	for (size_t i = 0; all != NULL && all->type == MYCEL_T_ARRAY && i < all->v.a.len; i++) {
		int r = field(root, &all->v.a.items[i], name, out, depth + 1);
		found |= r == F_FOUND;
		open |= r == F_OPEN;
		member_no |= r == F_NO;
	}
	/* alternatives */
	static const char *const alts[] = {"anyOf", "oneOf"};
	for (size_t k = 0; k < 2; k++) {
		const mycel_value *a = get(node, alts[k]);
		for (size_t i = 0; a != NULL && a->type == MYCEL_T_ARRAY && i < a->v.a.len; i++) {
			int r = field(root, &a->v.a.items[i], name, out, depth + 1);
			has_branches = true;
			found |= r == F_FOUND;
			branch_ok |= r != F_NO;
		}
	}
	static const char *const conds[] = {"then", "else"};
	for (size_t k = 0; k < 2; k++) {
		const mycel_value *c = get(node, conds[k]);
		if (c != NULL) {
			int r = field(root, c, name, out, depth + 1);
			found |= r == F_FOUND;
			/* a conditional branch is an addition: it cannot close the node */
		}
	}
	if (found)
		return F_FOUND;
	const mycel_value *ap = get(node, "additionalProperties");
	if (ap != NULL && ap->type == MYCEL_T_MAP) {
		pos_add(out, ap, root);
		return F_FOUND;
	}
	if (is_false(ap) || is_false(get(node, "unevaluatedProperties")))
		return F_NO;
	if (member_no) /* every member of allOf must hold */
		return F_NO;
	if (!type_allows_object(node))
		return F_NO;
	if (has_branches && !branch_ok)
		return F_NO;
	(void)open;
	return F_OPEN;
}

/* The element schemas of the arrays node may be. */
static void items(const mycel_value *root, const mycel_value *node, spos *out, int depth)
{
	if (depth > EXPAND_MAX || node == NULL || node->type != MYCEL_T_MAP) {
		if (node == NULL || node->type != MYCEL_T_MAP)
			return;
		out->known = false;
		return;
	}
	const mycel_value *it = get(node, "items");
	if (it != NULL) {
		if (it->type == MYCEL_T_MAP)
			pos_add(out, it, root);
		else
			out->known = false; /* tuple forms */
	}
	const mycel_value *ref = resolve(root, get(node, "$ref"));
	if (ref != NULL)
		items(root, ref, out, depth + 1);
	static const char *const subs[] = {"allOf", "anyOf", "oneOf"};
	for (size_t k = 0; k < 3; k++) {
		const mycel_value *a = get(node, subs[k]);
		for (size_t i = 0; a != NULL && a->type == MYCEL_T_ARRAY && i < a->v.a.len; i++)
			items(root, &a->v.a.items[i], out, depth + 1);
	}
}

/* Property names reachable from node, for a suggestion. */
static void names(const mycel_value *root, const mycel_value *node, const char **out, size_t *n,
                  int depth)
{
	if (depth > EXPAND_MAX || node == NULL || node->type != MYCEL_T_MAP)
		return;
	const mycel_value *props = get(node, "properties");
	for (size_t i = 0; props != NULL && props->type == MYCEL_T_MAP && i < props->v.m.len; i++) {
		if (*n < NAMES_MAX)
			out[(*n)++] = props->v.m.items[i].key;
	}
	names(root, resolve(root, get(node, "$ref")), out, n, depth + 1);
	static const char *const subs[] = {"allOf", "anyOf", "oneOf", "then", "else"};
	for (size_t k = 0; k < 5; k++) {
		const mycel_value *a = get(node, subs[k]);
		if (a != NULL && a->type == MYCEL_T_MAP)
			names(root, a, out, n, depth + 1);
		for (size_t i = 0; a != NULL && a->type == MYCEL_T_ARRAY && i < a->v.a.len; i++)
			names(root, &a->v.a.items[i], out, n, depth + 1);
	}
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[65], cur[65];
	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + ((a[i - 1] | 0x20) != (b[j - 1] | 0x20));
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}

/* Moves *pos to the field name; reports a finding at n when no candidate can have it. */
static void select_field(checker *ck, const cel_node *n, const char *name, spos *pos,
                         const char *path)
{
	spos *next;
	bool any_open = false, any_found = false;

	if (!pos->known)
		return;
	next = calloc(1, sizeof(*next));
	if (next == NULL) {
		ck->rc = MYCEL_ENOMEM;
		pos->known = false;
		return;
	}
	next->known = true;
	next->std = pos->std;
	for (size_t i = 0; i < pos->n; i++) {
		spos tmp;
		tmp.n = 0;
		tmp.known = true;
		int r = field(pos->root[i], pos->v[i], name, &tmp, 0);
		if (r == F_FOUND) {
			any_found = true;
			for (size_t k = 0; k < tmp.n; k++)
				pos_add(next, tmp.v[k], tmp.root[k]);
			if (!tmp.known)
				next->known = false;
		}
		any_open |= r == F_OPEN;
	}
	if (!any_found && !any_open && pos->n > 0) {
		const char *cands[NAMES_MAX];
		size_t nc = 0, best = SIZE_MAX;
		const char *suggest = NULL;
		for (size_t i = 0; i < pos->n; i++)
			names(pos->root[i], pos->v[i], cands, &nc, 0);
		for (size_t i = 0; i < nc; i++) {
			size_t dist = edit_distance(name, cands[i]);
			if (dist < best) {
				best = dist;
				suggest = cands[i];
			}
		}
		size_t len = strlen(name);
		if (suggest != NULL && best <= (len < 5 ? 1 : len < 9 ? 2 : 3))
			mycel_diags_add(ck->d, n->line, n->col, "",
			                "no field '%s' in %s at %s; did you mean '%s'?", name,
			                pos->std, path, suggest);
		else
			mycel_diags_add(ck->d, n->line, n->col, "", "no field '%s' in %s at %s",
			                name, pos->std, path);
		ck->findings++;
		next->known = false;
	}
	if (any_open)
		next->known = false;
	*pos = *next;
	free(next);
}

/* A readable path of the selection, for messages: contract.schema[].name */
static void node_path(const cel_node *n, char *out, size_t len, int depth)
{
	if (depth > 16 || n == NULL) {
		snprintf(out, len, "...");
		return;
	}
	char up[256];
	switch (n->kind) {
	case N_IDENT:
		snprintf(out, len, "%s", n->name);
		return;
	case N_SELECT:
	case N_HAS:
		node_path(n->a, up, sizeof(up), depth + 1);
		snprintf(out, len, "%.180s.%.60s", up, n->name);
		return;
	case N_INDEX:
		node_path(n->a, up, sizeof(up), depth + 1);
		snprintf(out, len, "%.200s[]", up);
		return;
	default:
		snprintf(out, len, "(...)");
		return;
	}
}

/* JSON types a schema node allows, as a mask; T_ANY when it does not say. */
enum { T_STR = 1, T_NUM = 2, T_BOOL = 4, T_NULL = 8, T_ARR = 16, T_OBJ = 32, T_ANY = 63 };

static unsigned type_bit(const char *t)
{
	if (strcmp(t, "string") == 0)
		return T_STR;
	if (strcmp(t, "number") == 0 || strcmp(t, "integer") == 0)
		return T_NUM;
	if (strcmp(t, "boolean") == 0)
		return T_BOOL;
	if (strcmp(t, "null") == 0)
		return T_NULL;
	if (strcmp(t, "array") == 0)
		return T_ARR;
	if (strcmp(t, "object") == 0)
		return T_OBJ;
	return T_ANY;
}

static unsigned types_of(const mycel_value *root, const mycel_value *node, int depth)
{
	if (depth > EXPAND_MAX || node == NULL || node->type != MYCEL_T_MAP)
		return T_ANY;
	const mycel_value *t = get(node, "type");
	if (t != NULL && t->type == MYCEL_T_STR)
		return type_bit(t->v.s.ptr);
	if (t != NULL && t->type == MYCEL_T_ARRAY) {
		unsigned m = 0;
		for (size_t i = 0; i < t->v.a.len; i++)
			m |= t->v.a.items[i].type == MYCEL_T_STR ? type_bit(t->v.a.items[i].v.s.ptr)
								 : T_ANY;
		return m;
	}
	const mycel_value *ref = resolve(root, get(node, "$ref"));
	if (ref != NULL)
		return types_of(root, ref, depth + 1);
	static const char *const alts[] = {"anyOf", "oneOf"};
	for (size_t k = 0; k < 2; k++) {
		const mycel_value *a = get(node, alts[k]);
		if (a == NULL || a->type != MYCEL_T_ARRAY || a->v.a.len == 0)
			continue;
		unsigned m = 0;
		for (size_t i = 0; i < a->v.a.len; i++)
			m |= types_of(root, &a->v.a.items[i], depth + 1);
		return m;
	}
	return T_ANY;
}

static unsigned pos_types(const spos *p)
{
	unsigned m = 0;
	if (!p->known || p->n == 0)
		return T_ANY;
	for (size_t i = 0; i < p->n; i++)
		m |= types_of(p->root[i], p->v[i], 0);
	return m;
}

static const char *types_text(unsigned m, char *buf, size_t len)
{
	static const char *const names[] = {"a string", "a number", "a boolean", "null",
					    "a list",   "an object"};
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < 6; i++) {
		if (!(m & (1u << i)))
			continue;
		int w = snprintf(buf + used, len - used, "%s%s", used ? " or " : "", names[i]);
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
	}
	return buf;
}

/* The JSON type a literal compares with, or 0 when it is not a scalar literal. */
static unsigned lit_type(const cel_node *n)
{
	if (n->kind == N_NEG && n->a != NULL)
		n = n->a;
	if (n->kind != N_LIT)
		return 0;
	switch (n->lit.kind) {
	case CK_INT:
	case CK_UINT:
	case CK_DOUBLE: return T_NUM;
	case CK_STRING: return T_STR;
	case CK_BOOL: return T_BOOL;
	default: return 0;
	}
}

static void check(checker *ck, const cel_node *n, spos *out);

/* A document field compared with (or added to) a literal its schema's type never matches. */
static void check_bin(checker *ck, const cel_node *n)
{
	spos *pa = calloc(1, sizeof(*pa)), *pb = calloc(1, sizeof(*pb));
	char path[256], tb[96];

	if (pa == NULL || pb == NULL) {
		ck->rc = MYCEL_ENOMEM;
		goto done;
	}
	check(ck, n->a, pa);
	check(ck, n->b, pb);
	if (n->op == B_IN)
		goto done;
	for (int side = 0; side < 2; side++) {
		const spos *p = side == 0 ? pa : pb;
		const cel_node *field = side == 0 ? n->a : n->b, *lit = side == 0 ? n->b : n->a;
		unsigned lt = lit_type(lit), ft = pos_types(p);
		if (lt == 0 || ft == T_ANY || (ft & lt) != 0)
			continue;
		node_path(field, path, sizeof(path), 0);
		types_text(ft, tb, sizeof(tb));
		if (n->op == B_EQ || n->op == B_NE)
			mycel_diags_add(ck->d, n->line, n->col, "",
					"%s is %s in %s: it is never equal to a %s literal", path, tb,
					p->std,
					lt == T_NUM ? "number" : lt == T_STR ? "string" : "boolean");
		else
			mycel_diags_add(ck->d, n->line, n->col, "",
					"%s is %s in %s: it cannot be used with a %s literal", path, tb,
					p->std,
					lt == T_NUM ? "number" : lt == T_STR ? "string" : "boolean");
		ck->findings++;
	}
done:
	free(pa);
	free(pb);
}

static void check_children(checker *ck, const cel_node *n)
{
	spos *tmp = calloc(1, sizeof(*tmp));
	if (tmp == NULL) {
		ck->rc = MYCEL_ENOMEM;
		return;
	}
	if (n->a != NULL)
		check(ck, n->a, tmp);
	if (n->b != NULL)
		check(ck, n->b, tmp);
	if (n->c != NULL)
		check(ck, n->c, tmp);
	for (size_t i = 0; i < n->n_args; i++)
		check(ck, n->args[i], tmp);
	free(tmp);
}

static void check(checker *ck, const cel_node *n, spos *out)
{
	char path[256];

	out->n = 0;
	out->known = false;
	if (n == NULL || ck->rc != 0)
		return;
	switch (n->kind) {
	case N_IDENT:
		for (size_t i = ck->n_scope; i > 0; i--) {
			if (strcmp(ck->scope[i - 1].name, n->name) == 0) {
				*out = *ck->scope[i - 1].pos;
				return;
			}
		}
		bool c = strcmp(n->name, "contract") == 0, p = strcmp(n->name, "product") == 0,
		     prev = strcmp(n->name, "previous") == 0;
		if (!c && !p && !prev)
			return;
		out->known = true;
		out->std = c ? "ODCS" : p ? "ODPS" : "ODCS or ODPS";
		for (size_t i = 0; i < n_roots; i++)
			if (prev || roots[i].odps == p)
				pos_add(out, roots[i].doc, roots[i].doc);
		return;
	case N_SELECT:
	case N_HAS:
		check(ck, n->a, out);
		node_path(n, path, sizeof(path), 0);
		select_field(ck, n, n->name, out, path);
		if (n->kind == N_HAS)
			out->known = false;
		return;
	case N_INDEX: {
		spos *key = calloc(1, sizeof(*key));
		if (key == NULL) {
			ck->rc = MYCEL_ENOMEM;
			return;
		}
		check(ck, n->b, key);
		free(key);
		check(ck, n->a, out);
		if (!out->known)
			return;
		if (n->b->kind == N_LIT && n->b->lit.kind == CK_STRING) {
			node_path(n, path, sizeof(path), 0);
			select_field(ck, n, n->b->lit.v.s.p, out, path);
			return;
		}
		spos *el = calloc(1, sizeof(*el));
		if (el == NULL) {
			ck->rc = MYCEL_ENOMEM;
			return;
		}
		el->known = true;
		el->std = out->std;
		for (size_t i = 0; i < out->n; i++)
			items(out->root[i], out->v[i], el, 0);
		*out = *el;
		free(el);
		return;
	}
	case N_MACRO: {
		spos *el = calloc(1, sizeof(*el));
		if (el == NULL) {
			ck->rc = MYCEL_ENOMEM;
			return;
		}
		check(ck, n->a, out);
		unsigned rt = pos_types(out);
		if (out->known && rt != T_ANY && !(rt & (T_ARR | T_OBJ))) {
			char tb[96];
			node_path(n->a, path, sizeof(path), 0);
			mycel_diags_add(ck->d, n->line, n->col, "", "%s is %s in %s: it cannot be iterated",
					path, types_text(rt, tb, sizeof(tb)), out->std);
			ck->findings++;
			out->known = false;
		}
		if (out->known) {
			el->known = true;
			el->std = out->std;
			for (size_t i = 0; i < out->n; i++)
				items(out->root[i], out->v[i], el, 0);
			if (el->n == 0)
				el->known = false; /* a map's keys, or not an array */
		}
		if (ck->n_scope < MYCEL_CEL_DEPTH_MAX) {
			ck->scope[ck->n_scope].name = n->name;
			ck->scope[ck->n_scope].pos = el;
			ck->n_scope++;
			spos *tmp = calloc(1, sizeof(*tmp));
			if (tmp != NULL) {
				check(ck, n->b, tmp);
				check(ck, n->c, tmp);
				free(tmp);
			} else {
				ck->rc = MYCEL_ENOMEM;
			}
			ck->n_scope--;
		}
		free(el);
		if (n->op != M_FILTER)
			out->known = false;
		return;
	}
	case N_BIN: check_bin(ck, n); return;
	case N_CALL:
		check_children(ck, n);
		if (n->op == F_DYN && n->n_args == 1)
			check(ck, n->args[0], out);
		return;
	default:
		check_children(ck, n);
		return;
	}
}

int mycel_cel_check(const mycel_cel *e, mycel_diags *d)
{
	checker ck;
	spos *top;

	if (e == NULL || d == NULL)
		return MYCEL_EINVAL;
	pthread_once(&once, load_roots);
	if (n_roots == 0)
		return MYCEL_ENOMEM;
	memset(&ck, 0, sizeof(ck));
	ck.d = d;
	top = calloc(1, sizeof(*top));
	if (top == NULL)
		return MYCEL_ENOMEM;
	check(&ck, e->root, top);
	free(top);
	if (ck.rc != 0)
		return ck.rc;
	return ck.findings > 0 ? MYCEL_EEXPR : 0;
}
