/*
 * diff.c — changes between two versions of an ODCS data contract, each judged breaking or
 * not under a compatibility mode (mycel/diff.h); the publishing rule built on them is in
 * diff_check.c.
 *
 * The walk: top-level fields, then schema objects matched by name, their properties matched
 * by name (recursively through properties, items and map key/value), quality rules, SLA
 * properties and servers. Matching sorts both sides by key (no quadratic work on large
 * documents); unnamed elements are matched by position among the unnamed ones.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mycel/catalog.h"
#include "mycel/diff.h"
#include "mycel/error.h"
#include "util.h"

#define B MYCEL_BREAKS_BACKWARD
#define F MYCEL_BREAKS_FORWARD

/* Cuts s back to whole UTF-8 sequences after a truncation (inputs are valid UTF-8). */
static void utf8_fix(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && !mycel_utf8_valid((const uint8_t *)s, n))
		n--;
	s[n] = '\0';
}

/* How many bytes of s to print for at most max of them, never half a UTF-8 sequence. */
static int clip(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	while (n > 0 && n == max && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) /* s[n] is not a lead byte */
		n--;
	return (int)n;
}

/* For "%.*s": s cut to at most max bytes of whole sequences. */
#define CLIP(s, max) clip((s), (max)), (s)

/* ---- the rule table ------------------------------------------------------------------- */

enum {
	R_SCHEMA_REMOVED,
	R_SCHEMA_ADDED,
	R_PROPERTY_REMOVED,
	R_PROPERTY_ADDED,
	R_REQUIRED_PROPERTY_ADDED,
	R_REQUIRED_ADDED,
	R_REQUIRED_REMOVED,
	R_TYPE_CHANGED,
	R_PHYSICAL_TYPE_CHANGED,
	R_PHYSICAL_NAME_CHANGED,
	R_ITEMS_CHANGED,
	R_UNIQUE_ADDED,
	R_UNIQUE_REMOVED,
	R_PRIMARY_KEY_CHANGED,
	R_BOUND_TIGHTENED,
	R_BOUND_LOOSENED,
	R_BOUND_CHANGED,
	R_ENUM_ADDED,
	R_ENUM_REMOVED,
	R_ENUM_VALUE_REMOVED,
	R_ENUM_VALUE_ADDED,
	R_CLASSIFICATION_LOWERED,
	R_CLASSIFICATION_REMOVED,
	R_CLASSIFICATION_CHANGED,
	R_CLASSIFICATION_RAISED,
	R_CLASSIFICATION_ADDED,
	R_QUALITY_RULE_ADDED,
	R_QUALITY_RULE_REMOVED,
	R_QUALITY_RULE_CHANGED,
	R_SLA_WEAKENED,
	R_SLA_PROPERTY_REMOVED,
	R_SLA_CHANGED,
	R_SLA_STRENGTHENED,
	R_SLA_PROPERTY_ADDED,
	R_SLA_PROPERTY_CHANGED,
	R_SERVER_ADDED,
	R_SERVER_REMOVED,
	R_SERVER_CHANGED,
	R_API_VERSION_CHANGED,
	R_DESCRIPTION_CHANGED,
	R_METADATA_CHANGED,
	R__COUNT
};

static const mycel_diff_rule rules[R__COUNT] = {
	[R_SCHEMA_REMOVED] = {"schema-removed", B | F, "a schema object (table, topic) was removed"},
	[R_SCHEMA_ADDED] = {"schema-added", 0, "a schema object was added"},
	[R_PROPERTY_REMOVED] = {"property-removed", B | F, "a property (column, field) was removed"},
	[R_PROPERTY_ADDED] = {"property-added", F, "an optional property was added"},
	[R_REQUIRED_PROPERTY_ADDED] = {"required-property-added", B | F,
				       "a required property was added"},
	[R_REQUIRED_ADDED] = {"required-added", B, "required became true"},
	[R_REQUIRED_REMOVED] = {"required-removed", F, "required became false"},
	[R_TYPE_CHANGED] = {"type-changed", B | F, "logicalType changed, added or removed"},
	[R_PHYSICAL_TYPE_CHANGED] = {"physical-type-changed", B | F,
				     "physicalType changed, added or removed"},
	[R_PHYSICAL_NAME_CHANGED] = {"physical-name-changed", B | F,
				     "physicalName changed, added or removed"},
	[R_ITEMS_CHANGED] = {"items-changed", B | F,
			     "an array's items or a map's key/value definition added or removed"},
	[R_UNIQUE_ADDED] = {"unique-added", B, "unique became true"},
	[R_UNIQUE_REMOVED] = {"unique-removed", F, "unique became false"},
	[R_PRIMARY_KEY_CHANGED] = {"primary-key-changed", B | F,
				   "primaryKey or primaryKeyPosition changed"},
	[R_BOUND_TIGHTENED] = {"bound-tightened", B,
			       "a logicalTypeOptions bound added or made stricter"},
	[R_BOUND_LOOSENED] = {"bound-loosened", F,
			      "a logicalTypeOptions bound removed or made looser"},
	[R_BOUND_CHANGED] = {"bound-changed", B | F,
			     "a logicalTypeOptions value changed in no comparable direction "
			     "(pattern, format, multipleOf, ...)"},
	[R_ENUM_ADDED] = {"enum-added", B, "an enum constraint was added"},
	[R_ENUM_REMOVED] = {"enum-removed", F, "the enum constraint was removed"},
	[R_ENUM_VALUE_REMOVED] = {"enum-value-removed", B, "an enum value was removed"},
	[R_ENUM_VALUE_ADDED] = {"enum-value-added", F, "an enum value was added"},
	[R_CLASSIFICATION_LOWERED] = {"classification-lowered", B | F,
				      "classification lowered (restricted > confidential > internal "
				      "> public)"},
	[R_CLASSIFICATION_REMOVED] = {"classification-removed", B | F, "classification removed"},
	[R_CLASSIFICATION_CHANGED] = {"classification-changed", B | F,
				      "classification changed to or from a value outside the order"},
	[R_CLASSIFICATION_RAISED] = {"classification-raised", 0, "classification raised"},
	[R_CLASSIFICATION_ADDED] = {"classification-added", 0, "classification added"},
	[R_QUALITY_RULE_ADDED] = {"quality-rule-added", B, "a quality rule was added"},
	[R_QUALITY_RULE_REMOVED] = {"quality-rule-removed", F, "a quality rule was removed"},
	[R_QUALITY_RULE_CHANGED] = {"quality-rule-changed", B | F,
				    "a quality rule's check changed"},
	[R_SLA_WEAKENED] = {"sla-weakened", B | F, "an SLA property got worse"},
	[R_SLA_PROPERTY_REMOVED] = {"sla-property-removed", B | F, "an SLA property was removed"},
	[R_SLA_CHANGED] = {"sla-changed", B | F,
			   "a known SLA property changed in no comparable direction"},
	[R_SLA_STRENGTHENED] = {"sla-strengthened", 0, "an SLA property got better"},
	[R_SLA_PROPERTY_ADDED] = {"sla-property-added", 0, "an SLA property was added"},
	[R_SLA_PROPERTY_CHANGED] = {"sla-property-changed", 0,
				    "an SLA property unknown to mycel changed"},
	[R_SERVER_ADDED] = {"server-added", 0, "a server was added"},
	[R_SERVER_REMOVED] = {"server-removed", 0, "a server was removed"},
	[R_SERVER_CHANGED] = {"server-changed", 0, "a server's details changed"},
	[R_API_VERSION_CHANGED] = {"api-version-changed", 0, "apiVersion (the ODCS version) changed"},
	[R_DESCRIPTION_CHANGED] = {"description-changed", 0, "a description changed"},
	[R_METADATA_CHANGED] = {"metadata-changed", 0,
				"any other field added, removed or changed (name, tags, team, "
				"status, examples, ...)"},
};

const mycel_diff_rule *mycel_diff_rules(size_t *out_n)
{
	if (out_n != NULL)
		*out_n = R__COUNT;
	return rules;
}

/* ---- modes -------------------------------------------------------------------------- */

static const char *const compat_names[] = {
	[MYCEL_COMPAT_BACKWARD] = "BACKWARD",
	[MYCEL_COMPAT_BACKWARD_TRANSITIVE] = "BACKWARD_TRANSITIVE",
	[MYCEL_COMPAT_FORWARD] = "FORWARD",
	[MYCEL_COMPAT_FORWARD_TRANSITIVE] = "FORWARD_TRANSITIVE",
	[MYCEL_COMPAT_FULL] = "FULL",
	[MYCEL_COMPAT_FULL_TRANSITIVE] = "FULL_TRANSITIVE",
	[MYCEL_COMPAT_NONE] = "NONE",
};

int mycel_compat_parse(const char *s, mycel_compat *out)
{
	if (s == NULL)
		return MYCEL_EINVAL;
	for (size_t i = 0; i < sizeof(compat_names) / sizeof(compat_names[0]); i++)
		if (strcasecmp(s, compat_names[i]) == 0) {
			*out = (mycel_compat)i;
			return 0;
		}
	return MYCEL_EINVAL;
}

const char *mycel_compat_name(mycel_compat m)
{
	if ((unsigned)m >= sizeof(compat_names) / sizeof(compat_names[0]))
		return "?";
	return compat_names[m];
}

unsigned mycel_compat_mask(mycel_compat m)
{
	switch (m) {
	case MYCEL_COMPAT_BACKWARD:
	case MYCEL_COMPAT_BACKWARD_TRANSITIVE: return B;
	case MYCEL_COMPAT_FORWARD:
	case MYCEL_COMPAT_FORWARD_TRANSITIVE: return F;
	case MYCEL_COMPAT_FULL:
	case MYCEL_COMPAT_FULL_TRANSITIVE: return B | F;
	default: return 0;
	}
}

bool mycel_compat_transitive(mycel_compat m)
{
	return m == MYCEL_COMPAT_BACKWARD_TRANSITIVE || m == MYCEL_COMPAT_FORWARD_TRANSITIVE ||
	       m == MYCEL_COMPAT_FULL_TRANSITIVE;
}

int mycel_compat_from_params(const mycel_value *params, mycel_compat *out, char *why,
			     size_t why_len)
{
	const mycel_value *v = params != NULL ? mycel_value_get(params, "compatibility") : NULL;
	mycel_compat m = MYCEL_COMPAT_BACKWARD;
	if (v != NULL) {
		if (v->type != MYCEL_T_STR)
			return mycel__fail(MYCEL_EINVAL, why, why_len,
					   "charter params.compatibility must be a string (one of "
					   "BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, "
					   "FULL, FULL_TRANSITIVE, NONE), not a %s",
					   mycel_type_name(v->type));
		if (mycel_compat_parse(v->v.s.ptr, &m) != 0)
			return mycel__fail(MYCEL_EINVAL, why, why_len,
					   "charter params.compatibility \"%.*s\" is not one of "
					   "BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, "
					   "FULL, FULL_TRANSITIVE, NONE",
					   CLIP(v->v.s.ptr, 64));
	}
	*out = m;
	return 0;
}

/* ---- the list of changes ------------------------------------------------------------ */

void mycel_diff_init(mycel_diff *d, mycel_compat mode, size_t max)
{
	memset(d, 0, sizeof(*d));
	d->mode = mode;
	d->max = max ? max : 10000;
}

void mycel_diff_fini(mycel_diff *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->len; i++) {
		free(d->items[i].old_pointer);
		free(d->items[i].new_pointer);
		free(d->items[i].message);
	}
	free(d->items);
	d->items = NULL;
	d->len = d->cap = d->dropped = d->n_breaking = 0;
}

#define PTR_MAX 512
#define LABEL_MAX 256
#define WALK_DEPTH 40

typedef struct ctx {
	mycel_diff *out;
	int err; /* sticky: ENOMEM */
} ctx;

/*
 * Records a change. optr/nptr: its pointers in OLD and NEW (NULL when it has no place
 * there); ov/nv: the values whose line:col are reported (for a removal nv is the container
 * in NEW, for an addition ov the container in OLD).
 */
static void add(ctx *c, int rule, const char *optr, const mycel_value *ov, const char *nptr,
		const mycel_value *nv, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static void add(ctx *c, int rule, const char *optr, const mycel_value *ov, const char *nptr,
		const mycel_value *nv, const char *fmt, ...)
{
	mycel_diff *d = c->out;
	bool breaking = (rules[rule].breaks & mycel_compat_mask(d->mode)) != 0;
	if (c->err != 0)
		return;
	if (breaking)
		d->n_breaking++;
	if (d->len >= d->max) {
		d->dropped++;
		return;
	}
	if (d->len == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 16;
		if (nc > d->max)
			nc = d->max;
		mycel_change *p = realloc(d->items, nc * sizeof(*p));
		if (p == NULL) {
			c->err = MYCEL_ENOMEM;
			return;
		}
		d->items = p;
		d->cap = nc;
	}
	char msg[640]; /* short enough that a finding built on it stays whole (diag.h keeps 1023) */
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	utf8_fix(msg);
	mycel_change ch = {.rule = rules[rule].id, .breaks = rules[rule].breaks, .breaking = breaking};
	ch.old_pointer = optr != NULL ? strdup(optr) : NULL;
	ch.new_pointer = nptr != NULL ? strdup(nptr) : NULL;
	ch.message = strdup(msg);
	if ((optr != NULL && ch.old_pointer == NULL) || (nptr != NULL && ch.new_pointer == NULL) ||
	    ch.message == NULL) {
		free(ch.old_pointer);
		free(ch.new_pointer);
		free(ch.message);
		c->err = MYCEL_ENOMEM;
		return;
	}
	if (ov != NULL) {
		ch.old_line = ov->line;
		ch.old_col = ov->col;
	}
	if (nv != NULL) {
		ch.new_line = nv->line;
		ch.new_col = nv->col;
	}
	d->items[d->len++] = ch;
}

/* ---- values --------------------------------------------------------------------------- */

/* ptr + "/" + key into out. */
static void ptr_key(char *out, const char *base, const char *key)
{
	snprintf(out, PTR_MAX, "%s", base);
	mycel_pointer_push(out, PTR_MAX, key, strlen(key));
	utf8_fix(out);
}

static void ptr_idx(char *out, const char *base, size_t i)
{
	char k[24];
	snprintf(k, sizeof(k), "%zu", i);
	ptr_key(out, base, k);
}

static const char *str_of(const mycel_value *v, const char *key)
{
	const mycel_value *s = v != NULL ? mycel_value_get(v, key) : NULL;
	return s != NULL && s->type == MYCEL_T_STR ? s->v.s.ptr : NULL;
}

static bool truthy(const mycel_value *v)
{
	return v != NULL && v->type == MYCEL_T_BOOL && v->v.b;
}

static bool is_num(const mycel_value *v)
{
	return v != NULL &&
	       (v->type == MYCEL_T_UINT || v->type == MYCEL_T_INT || v->type == MYCEL_T_FLOAT);
}

static double num(const mycel_value *v)
{
	return v->type == MYCEL_T_UINT ? (double)v->v.u
	       : v->type == MYCEL_T_INT ? (double)v->v.i
					: v->v.f;
}

/* Deep equality: the canonical encodings are equal (map order does not matter). */
static bool veq(ctx *c, const mycel_value *a, const mycel_value *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case MYCEL_T_NIL: return true;
	case MYCEL_T_BOOL: return a->v.b == b->v.b;
	case MYCEL_T_UINT: return a->v.u == b->v.u;
	case MYCEL_T_INT: return a->v.i == b->v.i;
	case MYCEL_T_FLOAT: return a->v.f == b->v.f;
	case MYCEL_T_STR:
	case MYCEL_T_BIN:
		return a->v.s.len == b->v.s.len && memcmp(a->v.s.ptr, b->v.s.ptr, a->v.s.len) == 0;
	default: break;
	}
	mycel_buf x, y;
	mycel_buf_init(&x, (size_t)64 << 20);
	mycel_buf_init(&y, (size_t)64 << 20);
	int rx = mycel_value_encode(a, &x), ry = mycel_value_encode(b, &y);
	bool eq = rx == 0 && ry == 0 && x.len == y.len && memcmp(x.data, y.data, x.len) == 0;
	if ((rx == MYCEL_ENOMEM || ry == MYCEL_ENOMEM) && c->err == 0)
		c->err = MYCEL_ENOMEM;
	mycel_buf_fini(&x);
	mycel_buf_fini(&y);
	return eq;
}

/* A short rendering of a scalar for messages (strings quoted, cut at ~60 bytes). */
static const char *show(const mycel_value *v, char *buf, size_t n)
{
	if (v == NULL)
		return "(none)";
	switch (v->type) {
	case MYCEL_T_NIL: snprintf(buf, n, "null"); break;
	case MYCEL_T_BOOL: snprintf(buf, n, "%s", v->v.b ? "true" : "false"); break;
	case MYCEL_T_UINT: snprintf(buf, n, "%llu", (unsigned long long)v->v.u); break;
	case MYCEL_T_INT: snprintf(buf, n, "%lld", (long long)v->v.i); break;
	case MYCEL_T_FLOAT: snprintf(buf, n, "%.15g", v->v.f); break;
	case MYCEL_T_STR:
		snprintf(buf, n, "\"%.*s%s\"", CLIP(v->v.s.ptr, 60), v->v.s.len > 60 ? "…" : "");
		break;
	default: snprintf(buf, n, "(%s)", mycel_type_name(v->type)); break;
	}
	return buf;
}

/* ---- matching two lists by key --------------------------------------------------------- */

typedef struct keyed {
	char *key; /* malloc'd; NULL: unnamed */
	size_t idx;
} keyed;

static int keyed_cmp(const void *pa, const void *pb)
{
	const keyed *a = pa, *b = pb;
	int r = strcmp(a->key, b->key);
	return r != 0 ? r : (a->idx < b->idx ? -1 : a->idx > b->idx);
}

typedef char *(*key_fn)(ctx *c, const mycel_value *item);

/*
 * Matches the items of arrays o and n by key: equal keys pair up in order; unnamed items
 * pair by position among the unnamed ones. *out_o[i] is the index in n of o's item i, or
 * SIZE_MAX; *out_n[j] likewise. Returns 0 or ENOMEM.
 */
static int match(ctx *c, const mycel_value *o, const mycel_value *n, key_fn kf, size_t **out_o,
		 size_t **out_n)
{
	size_t no = o->v.a.len, nn = n->v.a.len;
	size_t *mo = malloc((no ? no : 1) * sizeof(*mo)), *mn = malloc((nn ? nn : 1) * sizeof(*mn));
	keyed *ko = calloc(no ? no : 1, sizeof(*ko)), *kn = calloc(nn ? nn : 1, sizeof(*kn));
	int rv = 0;
	if (mo == NULL || mn == NULL || ko == NULL || kn == NULL) {
		rv = MYCEL_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < no; i++)
		mo[i] = SIZE_MAX;
	for (size_t j = 0; j < nn; j++)
		mn[j] = SIZE_MAX;
	size_t ao = 0, an = 0, uo = 0, un = 0;
	for (size_t i = 0; i < no; i++) {
		char *k = kf(c, &o->v.a.items[i]);
		if (k != NULL)
			ko[ao++] = (keyed){k, i};
	}
	for (size_t j = 0; j < nn; j++) {
		char *k = kf(c, &n->v.a.items[j]);
		if (k != NULL)
			kn[an++] = (keyed){k, j};
	}
	if (c->err != 0) {
		rv = c->err;
		goto fail;
	}
	qsort(ko, ao, sizeof(*ko), keyed_cmp);
	qsort(kn, an, sizeof(*kn), keyed_cmp);
	for (size_t i = 0, j = 0; i < ao && j < an;) {
		int r = strcmp(ko[i].key, kn[j].key);
		if (r == 0) {
			mo[ko[i].idx] = kn[j].idx;
			mn[kn[j].idx] = ko[i].idx;
			i++;
			j++;
		} else if (r < 0) {
			i++;
		} else {
			j++;
		}
	}
	/* the unnamed ones, by position: an item is unnamed when kf gave no key */
	bool *named_o = calloc(no ? no : 1, sizeof(bool)), *named_n = calloc(nn ? nn : 1, sizeof(bool));
	if (named_o == NULL || named_n == NULL) {
		free(named_o);
		free(named_n);
		rv = MYCEL_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < ao; i++)
		named_o[ko[i].idx] = true;
	for (size_t j = 0; j < an; j++)
		named_n[kn[j].idx] = true;
	for (uo = 0, un = 0;; uo++, un++) {
		while (uo < no && named_o[uo])
			uo++;
		while (un < nn && named_n[un])
			un++;
		if (uo >= no || un >= nn)
			break;
		mo[uo] = un;
		mn[un] = uo;
	}
	free(named_o);
	free(named_n);
	*out_o = mo;
	*out_n = mn;
	mo = mn = NULL;
fail:
	for (size_t i = 0; ko != NULL && i < no; i++)
		free(ko[i].key);
	for (size_t j = 0; kn != NULL && j < nn; j++)
		free(kn[j].key);
	free(ko);
	free(kn);
	free(mo);
	free(mn);
	if (rv != 0 && c->err == 0)
		c->err = rv;
	return rv;
}

static char *dup_or_err(ctx *c, const char *s)
{
	char *p = strdup(s);
	if (p == NULL)
		c->err = MYCEL_ENOMEM;
	return p;
}

static char *key_name(ctx *c, const mycel_value *item)
{
	const char *s = str_of(item, "name");
	return s != NULL ? dup_or_err(c, s) : NULL;
}

static char *key_server(ctx *c, const mycel_value *item)
{
	const char *s = str_of(item, "server");
	if (s == NULL)
		s = str_of(item, "id");
	return s != NULL ? dup_or_err(c, s) : NULL;
}

/* The rendering of a value as a key (content matching). */
static char *key_render(ctx *c, const mycel_value *v)
{
	mycel_buf b;
	mycel_buf_init(&b, (size_t)64 << 20);
	if (mycel_value_render(v, &b) != 0 || b.err != 0) {
		if (b.err == MYCEL_ENOMEM)
			c->err = MYCEL_ENOMEM;
		mycel_buf_fini(&b);
		return NULL;
	}
	char *k = (char *)b.data; /* NUL-terminated by render */
	b.data = NULL;
	mycel_buf_fini(&b);
	return k;
}

/* Quality rules: by id, else name, else content ("\x01" + rendering, never equal to a name). */
static char *key_quality(ctx *c, const mycel_value *item)
{
	const char *s = str_of(item, "id");
	if (s == NULL)
		s = str_of(item, "name");
	if (s != NULL)
		return dup_or_err(c, s);
	char *r = key_render(c, item);
	if (r == NULL)
		return NULL;
	size_t n = strlen(r);
	char *k = malloc(n + 2);
	if (k == NULL) {
		free(r);
		c->err = MYCEL_ENOMEM;
		return NULL;
	}
	k[0] = '\x01';
	memcpy(k + 1, r, n + 1);
	free(r);
	return k;
}

/* SLA properties: (property, element, driver), absent ones as "". */
static char *key_sla(ctx *c, const mycel_value *item)
{
	const char *p = str_of(item, "property");
	if (p == NULL)
		return NULL;
	const char *e = str_of(item, "element"), *d = str_of(item, "driver");
	size_t n = strlen(p) + (e ? strlen(e) : 0) + (d ? strlen(d) : 0) + 3;
	char *k = malloc(n);
	if (k == NULL) {
		c->err = MYCEL_ENOMEM;
		return NULL;
	}
	snprintf(k, n, "%s\x1f%s\x1f%s", p, e ? e : "", d ? d : "");
	return k;
}

/* Enum values: the rendering of `value` (or of the item when it is not a map). */
static char *key_enum(ctx *c, const mycel_value *item)
{
	const mycel_value *v = item->type == MYCEL_T_MAP ? mycel_value_get(item, "value") : item;
	return v != NULL ? key_render(c, v) : NULL;
}

/* ---- walking the members of two maps in key order ------------------------------------- */

static int member_cmp(const void *pa, const void *pb)
{
	const mycel_member *a = *(const mycel_member *const *)pa, *b = *(const mycel_member *const *)pb;
	size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
	int r = memcmp(a->key, b->key, n);
	return r != 0 ? r : (a->key_len < b->key_len ? -1 : a->key_len > b->key_len);
}

typedef void (*pair_fn)(ctx *c, void *arg, const char *key, const mycel_value *ov,
			const mycel_value *nv);

/* Calls fn for every key of o or n (maps), with the value on each side (NULL when absent). */
static void each_pair(ctx *c, const mycel_value *o, const mycel_value *n, pair_fn fn, void *arg)
{
	size_t no = o->v.m.len, nn = n->v.m.len;
	const mycel_member **so = malloc((no ? no : 1) * sizeof(*so));
	const mycel_member **sn = malloc((nn ? nn : 1) * sizeof(*sn));
	if (so == NULL || sn == NULL) {
		c->err = MYCEL_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < no; i++)
		so[i] = &o->v.m.items[i];
	for (size_t j = 0; j < nn; j++)
		sn[j] = &n->v.m.items[j];
	qsort(so, no, sizeof(*so), member_cmp);
	qsort(sn, nn, sizeof(*sn), member_cmp);
	for (size_t i = 0, j = 0; (i < no || j < nn) && c->err == 0;) {
		int r = i >= no ? 1 : j >= nn ? -1 : member_cmp(&so[i], &sn[j]);
		if (r == 0) {
			fn(c, arg, so[i]->key, &so[i]->val, &sn[j]->val);
			i++;
			j++;
		} else if (r < 0) {
			fn(c, arg, so[i]->key, &so[i]->val, NULL);
			i++;
		} else {
			fn(c, arg, sn[j]->key, NULL, &sn[j]->val);
			j++;
		}
	}
fail:
	free(so);
	free(sn);
}

/* ---- elements: schema objects and properties -------------------------------------------- */

typedef struct where {
	const mycel_value *o, *n; /* the two elements (maps) */
	const char *optr, *nptr;  /* their pointers */
	const char *label;        /* "orders.email" */
	int depth;
} where;

static void cmp_element(ctx *c, const where *w);
static void cmp_quality(ctx *c, const mycel_value *o, const mycel_value *n, const where *w);

/* A field that no rule covers: metadata-changed (description-changed for descriptions). */
static void generic(ctx *c, const where *w, const char *key, const mycel_value *ov,
		    const mycel_value *nv)
{
	char op[PTR_MAX], np[PTR_MAX];
	int rule = strcmp(key, "description") == 0 ? R_DESCRIPTION_CHANGED : R_METADATA_CHANGED;
	ptr_key(op, w->optr, key);
	ptr_key(np, w->nptr, key);
	if (ov != NULL && nv != NULL) {
		if (!veq(c, ov, nv))
			add(c, rule, op, ov, np, nv, "%.*s of %s changed", CLIP(key, 64), w->label);
	} else if (ov != NULL) {
		add(c, rule, op, ov, NULL, w->n, "%.*s of %s was removed", CLIP(key, 64), w->label);
	} else if (nv != NULL) {
		add(c, rule, NULL, w->o, np, nv, "%.*s of %s was added", CLIP(key, 64), w->label);
	}
}

/* A change of a scalar-ish field that one rule covers whatever the direction. */
static void changed(ctx *c, const where *w, int rule, const char *key, const mycel_value *ov,
		    const mycel_value *nv)
{
	char op[PTR_MAX], np[PTR_MAX], a[96], b[96];
	if (veq(c, ov, nv))
		return;
	ptr_key(op, w->optr, key);
	ptr_key(np, w->nptr, key);
	add(c, rule, ov ? op : NULL, ov ? ov : w->o, nv ? np : NULL, nv ? nv : w->n,
	    "%s of %s changed from %s to %s", key, w->label, show(ov, a, sizeof(a)),
	    show(nv, b, sizeof(b)));
}

/* A boolean constraint (required, unique): absent counts as false. */
static void flag(ctx *c, const where *w, const char *key, int on_rule, int off_rule)
{
	const mycel_value *ov = mycel_value_get(w->o, key), *nv = mycel_value_get(w->n, key);
	char op[PTR_MAX], np[PTR_MAX];
	bool a = truthy(ov), b = truthy(nv);
	ptr_key(op, w->optr, key);
	ptr_key(np, w->nptr, key);
	if (!a && b)
		add(c, on_rule, ov ? op : NULL, ov ? ov : w->o, np, nv,
		    "%s of %s became true (it was %s)", key, w->label, ov ? "false" : "absent");
	else if (a && !b)
		add(c, off_rule, op, ov, nv ? np : NULL, nv ? nv : w->n, "%s of %s became %s", key,
		    w->label, nv ? "false" : "absent (false)");
	else if (!veq(c, ov, nv) && (ov == NULL || nv == NULL || ov->type != nv->type ||
				     ov->type != MYCEL_T_BOOL))
		generic(c, w, key, ov, nv);
}

/* Classification order; -1 for values outside it. */
static int class_rank(const mycel_value *v)
{
	static const char *const order[] = {"public", "internal", "confidential", "restricted"};
	if (v == NULL || v->type != MYCEL_T_STR)
		return -1;
	for (int i = 0; i < 4; i++)
		if (strcasecmp(v->v.s.ptr, order[i]) == 0)
			return i;
	return -1;
}

static void classification(ctx *c, const where *w)
{
	const mycel_value *ov = mycel_value_get(w->o, "classification");
	const mycel_value *nv = mycel_value_get(w->n, "classification");
	char op[PTR_MAX], np[PTR_MAX], a[96], b[96];
	ptr_key(op, w->optr, "classification");
	ptr_key(np, w->nptr, "classification");
	if (veq(c, ov, nv))
		return;
	if (nv == NULL) {
		add(c, R_CLASSIFICATION_REMOVED, op, ov, NULL, w->n,
		    "classification %s of %s was removed", show(ov, a, sizeof(a)), w->label);
		return;
	}
	if (ov == NULL) {
		add(c, R_CLASSIFICATION_ADDED, NULL, w->o, np, nv, "%s is now classified %s",
		    w->label, show(nv, b, sizeof(b)));
		return;
	}
	if (ov->type == MYCEL_T_STR && nv->type == MYCEL_T_STR &&
	    strcasecmp(ov->v.s.ptr, nv->v.s.ptr) == 0)
		return;
	int ro = class_rank(ov), rn = class_rank(nv);
	int rule = ro < 0 || rn < 0 ? R_CLASSIFICATION_CHANGED
		   : rn < ro	    ? R_CLASSIFICATION_LOWERED
				    : R_CLASSIFICATION_RAISED;
	add(c, rule, op, ov, np, nv, "classification of %s %s from %s to %s%s", w->label,
	    rule == R_CLASSIFICATION_LOWERED  ? "lowered"
	    : rule == R_CLASSIFICATION_RAISED ? "raised"
					      : "changed",
	    show(ov, a, sizeof(a)), show(nv, b, sizeof(b)),
	    rule == R_CLASSIFICATION_CHANGED
		? " (outside public < internal < confidential < restricted: counted as lowered)"
		: "");
}

/* logicalTypeOptions keys: lower bounds (higher is stricter) and upper bounds (lower is). */
static int bound_kind(const char *key)
{
	static const char *const lower[] = {"minLength", "minimum", "exclusiveMinimum", "minItems",
					    "minProperties"};
	static const char *const upper[] = {"maxLength", "maximum", "exclusiveMaximum", "maxItems",
					    "maxProperties", "precision", "scale"};
	for (size_t i = 0; i < sizeof(lower) / sizeof(lower[0]); i++)
		if (strcmp(key, lower[i]) == 0)
			return 1;
	for (size_t i = 0; i < sizeof(upper) / sizeof(upper[0]); i++)
		if (strcmp(key, upper[i]) == 0)
			return 2;
	return 0;
}

/*
 * Compares two bound values: >0 when nv is stricter, <0 when looser, 0 when equal, and
 * INT32_MIN when they cannot be ordered.
 */
static int bound_order(const char *key, const mycel_value *ov, const mycel_value *nv)
{
	int kind = bound_kind(key);
	int cmp;
	if (strcmp(key, "uniqueItems") == 0 || ((strcmp(key, "exclusiveMinimum") == 0 ||
						 strcmp(key, "exclusiveMaximum") == 0) &&
						ov->type == MYCEL_T_BOOL && nv->type == MYCEL_T_BOOL)) {
		if (ov->type != MYCEL_T_BOOL || nv->type != MYCEL_T_BOOL)
			return INT32_MIN;
		return (int)nv->v.b - (int)ov->v.b;
	}
	if (kind == 0)
		return INT32_MIN;
	if (is_num(ov) && is_num(nv)) {
		double a = num(ov), b = num(nv);
		cmp = a < b ? -1 : a > b;
	} else if (ov->type == MYCEL_T_STR && nv->type == MYCEL_T_STR &&
		   ov->v.s.len == nv->v.s.len) { /* ISO 8601 dates and times of one shape */
		int r = strcmp(ov->v.s.ptr, nv->v.s.ptr);
		cmp = r < 0 ? -1 : r > 0;
	} else {
		return INT32_MIN;
	}
	return kind == 1 ? -cmp : cmp; /* cmp < 0: the new value is smaller */
}

typedef struct bound_arg {
	const where *w;
	const char *optr, *nptr; /* of logicalTypeOptions */
	const mycel_value *o, *n; /* the options maps (or the elements when absent) */
} bound_arg;

static void bound_pair(ctx *c, void *arg, const char *key, const mycel_value *ov,
		       const mycel_value *nv)
{
	const bound_arg *ba = arg;
	char op[PTR_MAX], np[PTR_MAX], a[96], b[96];
	ptr_key(op, ba->optr, key);
	ptr_key(np, ba->nptr, key);
	if (ov != NULL && nv != NULL) {
		if (veq(c, ov, nv))
			return;
		int r = bound_order(key, ov, nv);
		int rule = r == INT32_MIN ? R_BOUND_CHANGED : r > 0 ? R_BOUND_TIGHTENED
						      : r < 0	 ? R_BOUND_LOOSENED
								 : R_METADATA_CHANGED;
		add(c, rule, op, ov, np, nv, "%.*s of %s %s from %s to %s", CLIP(key, 64), ba->w->label,
		    rule == R_BOUND_TIGHTENED	? "tightened"
		    : rule == R_BOUND_LOOSENED ? "loosened"
					       : "changed",
		    show(ov, a, sizeof(a)), show(nv, b, sizeof(b)));
	} else if (nv != NULL) {
		bool none = nv->type == MYCEL_T_BOOL && !nv->v.b; /* uniqueItems: false adds nothing */
		add(c, none ? R_METADATA_CHANGED : R_BOUND_TIGHTENED, NULL, ba->o, np, nv,
		    "%.*s %s was added to %s", CLIP(key, 64), show(nv, b, sizeof(b)), ba->w->label);
	} else {
		bool none = ov->type == MYCEL_T_BOOL && !ov->v.b;
		add(c, none ? R_METADATA_CHANGED : R_BOUND_LOOSENED, op, ov, NULL, ba->n,
		    "%.*s %s of %s was removed", CLIP(key, 64), show(ov, a, sizeof(a)), ba->w->label);
	}
}

static void bounds(ctx *c, const where *w)
{
	static const mycel_value empty = {.type = MYCEL_T_MAP};
	const mycel_value *ov = mycel_value_get(w->o, "logicalTypeOptions");
	const mycel_value *nv = mycel_value_get(w->n, "logicalTypeOptions");
	char op[PTR_MAX], np[PTR_MAX];
	if (ov == NULL && nv == NULL)
		return;
	if ((ov != NULL && ov->type != MYCEL_T_MAP) || (nv != NULL && nv->type != MYCEL_T_MAP)) {
		generic(c, w, "logicalTypeOptions", ov, nv);
		return;
	}
	ptr_key(op, w->optr, "logicalTypeOptions");
	ptr_key(np, w->nptr, "logicalTypeOptions");
	bound_arg ba = {w, op, np, ov ? ov : w->o, nv ? nv : w->n};
	each_pair(c, ov ? ov : &empty, nv ? nv : &empty, bound_pair, &ba);
}

static void enums(ctx *c, const where *w)
{
	const mycel_value *ov = mycel_value_get(w->o, "enum"), *nv = mycel_value_get(w->n, "enum");
	char op[PTR_MAX], np[PTR_MAX], ip[PTR_MAX], a[96];
	size_t *mo = NULL, *mn = NULL;
	ptr_key(op, w->optr, "enum");
	ptr_key(np, w->nptr, "enum");
	if (ov == NULL && nv == NULL)
		return;
	if (ov == NULL) {
		add(c, R_ENUM_ADDED, NULL, w->o, np, nv, "%s is now restricted to an enum", w->label);
		return;
	}
	if (nv == NULL) {
		add(c, R_ENUM_REMOVED, op, ov, NULL, w->n, "the enum of %s was removed", w->label);
		return;
	}
	if (ov->type != MYCEL_T_ARRAY || nv->type != MYCEL_T_ARRAY) {
		generic(c, w, "enum", ov, nv);
		return;
	}
	if (match(c, ov, nv, key_enum, &mo, &mn) != 0)
		return;
	for (size_t i = 0; i < ov->v.a.len; i++) {
		const mycel_value *it = &ov->v.a.items[i];
		const mycel_value *val = it->type == MYCEL_T_MAP ? mycel_value_get(it, "value") : it;
		ptr_idx(ip, op, i);
		if (mo[i] == SIZE_MAX) {
			add(c, R_ENUM_VALUE_REMOVED, ip, it, NULL, nv, "enum value %s of %s was removed",
			    show(val, a, sizeof(a)), w->label);
		} else if (!veq(c, it, &nv->v.a.items[mo[i]])) {
			char jp[PTR_MAX];
			ptr_idx(jp, np, mo[i]);
			add(c, R_METADATA_CHANGED, ip, it, jp, &nv->v.a.items[mo[i]],
			    "enum value %s of %s: its label or description changed",
			    show(val, a, sizeof(a)), w->label);
		}
	}
	for (size_t j = 0; j < nv->v.a.len; j++) {
		const mycel_value *it = &nv->v.a.items[j];
		const mycel_value *val = it->type == MYCEL_T_MAP ? mycel_value_get(it, "value") : it;
		if (mn[j] != SIZE_MAX)
			continue;
		ptr_idx(ip, np, j);
		add(c, R_ENUM_VALUE_ADDED, NULL, ov, ip, it, "enum value %s was added to %s",
		    show(val, a, sizeof(a)), w->label);
	}
	free(mo);
	free(mn);
}

/* The label of a child element: parent.name, or parent[i] when unnamed. */
static void child_label(char *out, const char *parent, const mycel_value *item, size_t i)
{
	const char *name = str_of(item, "name");
	if (name != NULL)
		snprintf(out, LABEL_MAX, "%s%s%.*s", parent, parent[0] ? "." : "", CLIP(name, 80));
	else
		snprintf(out, LABEL_MAX, "%s[%zu]", parent, i);
	utf8_fix(out);
}

/* Schema objects (schema == true) or properties: lists of elements matched by name. */
static void cmp_list(ctx *c, const where *w, const char *key, const mycel_value *ol,
		     const mycel_value *nl, bool schema)
{
	static const mycel_value empty = {.type = MYCEL_T_ARRAY};
	char op[PTR_MAX], np[PTR_MAX];
	size_t *mo = NULL, *mn = NULL;
	if (ol == NULL && nl == NULL)
		return;
	if ((ol != NULL && ol->type != MYCEL_T_ARRAY) || (nl != NULL && nl->type != MYCEL_T_ARRAY)) {
		generic(c, w, key, ol, nl);
		return;
	}
	ptr_key(op, w->optr, key);
	ptr_key(np, w->nptr, key);
	const mycel_value *o = ol ? ol : &empty, *n = nl ? nl : &empty;
	const mycel_value *ocont = ol ? ol : w->o, *ncont = nl ? nl : w->n;
	if (match(c, o, n, key_name, &mo, &mn) != 0)
		return;
	for (size_t i = 0; i < o->v.a.len && c->err == 0; i++) {
		const mycel_value *it = &o->v.a.items[i];
		char ip[PTR_MAX], lab[LABEL_MAX], a[96];
		ptr_idx(ip, op, i);
		child_label(lab, w->label, it, i);
		if (mo[i] == SIZE_MAX) {
			const mycel_value *t = mycel_value_get(it, "logicalType");
			if (t == NULL)
				t = mycel_value_get(it, "physicalType");
			add(c, schema ? R_SCHEMA_REMOVED : R_PROPERTY_REMOVED, ip, it, NULL, ncont,
			    "%s %s%s%s%s was removed", schema ? "schema object" : "property", lab,
			    t ? " (" : "", t ? show(t, a, sizeof(a)) : "", t ? ")" : "");
			continue;
		}
		const mycel_value *nt = &n->v.a.items[mo[i]];
		char jp[PTR_MAX];
		ptr_idx(jp, np, mo[i]);
		if (it->type != MYCEL_T_MAP || nt->type != MYCEL_T_MAP) {
			if (!veq(c, it, nt))
				add(c, R_METADATA_CHANGED, ip, it, jp, nt, "%s changed", lab);
			continue;
		}
		where sub = {it, nt, ip, jp, lab, w->depth + 1};
		cmp_element(c, &sub);
	}
	for (size_t j = 0; j < n->v.a.len && c->err == 0; j++) {
		const mycel_value *it = &n->v.a.items[j];
		char jp[PTR_MAX], lab[LABEL_MAX];
		if (mn[j] != SIZE_MAX)
			continue;
		ptr_idx(jp, np, j);
		child_label(lab, w->label, it, j);
		if (schema)
			add(c, R_SCHEMA_ADDED, NULL, ocont, jp, it, "schema object %s was added", lab);
		else if (truthy(mycel_value_get(it, "required")))
			add(c, R_REQUIRED_PROPERTY_ADDED, NULL, ocont, jp, it,
			    "required property %s was added", lab);
		else
			add(c, R_PROPERTY_ADDED, NULL, ocont, jp, it, "optional property %s was added",
			    lab);
	}
	free(mo);
	free(mn);
}

/* A sub-element (items, map key/value): compared when both are maps; else added/removed. */
static void cmp_sub(ctx *c, const where *w, const char *key, const mycel_value *ov,
		    const mycel_value *nv, const char *optr, const char *nptr, const char *suffix)
{
	char op[PTR_MAX], np[PTR_MAX], lab[LABEL_MAX];
	if (ov == NULL && nv == NULL)
		return;
	ptr_key(op, optr, key);
	ptr_key(np, nptr, key);
	snprintf(lab, sizeof(lab), "%s%s", w->label, suffix);
	if (ov != NULL && nv != NULL && ov->type == MYCEL_T_MAP && nv->type == MYCEL_T_MAP) {
		where sub = {ov, nv, op, np, lab, w->depth + 1};
		cmp_element(c, &sub);
	} else if (!veq(c, ov, nv)) {
		add(c, R_ITEMS_CHANGED, ov ? op : NULL, ov ? ov : w->o, nv ? np : NULL, nv ? nv : w->n,
		    "%s of %s was %s", key, w->label,
		    ov == NULL ? "added" : nv == NULL ? "removed" : "changed");
	}
}

typedef struct elem_arg {
	const where *w;
} elem_arg;

static bool handled_key(const char *key)
{
	static const char *const keys[] = {
		"logicalType", "physicalType", "physicalName", "required", "unique", "primaryKey",
		"primaryKeyPosition", "classification", "quality", "enum", "logicalTypeOptions",
		"properties", "items", "map"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

static void elem_pair(ctx *c, void *arg, const char *key, const mycel_value *ov,
		      const mycel_value *nv)
{
	const elem_arg *ea = arg;
	if (!handled_key(key))
		generic(c, ea->w, key, ov, nv);
}

static void cmp_element(ctx *c, const where *w)
{
	if (w->depth > WALK_DEPTH || c->err != 0)
		return;
	const mycel_value *o = w->o, *n = w->n;
	changed(c, w, R_TYPE_CHANGED, "logicalType", mycel_value_get(o, "logicalType"),
		mycel_value_get(n, "logicalType"));
	changed(c, w, R_PHYSICAL_TYPE_CHANGED, "physicalType", mycel_value_get(o, "physicalType"),
		mycel_value_get(n, "physicalType"));
	changed(c, w, R_PHYSICAL_NAME_CHANGED, "physicalName", mycel_value_get(o, "physicalName"),
		mycel_value_get(n, "physicalName"));
	flag(c, w, "required", R_REQUIRED_ADDED, R_REQUIRED_REMOVED);
	flag(c, w, "unique", R_UNIQUE_ADDED, R_UNIQUE_REMOVED);
	changed(c, w, R_PRIMARY_KEY_CHANGED, "primaryKey", mycel_value_get(o, "primaryKey"),
		mycel_value_get(n, "primaryKey"));
	changed(c, w, R_PRIMARY_KEY_CHANGED, "primaryKeyPosition",
		mycel_value_get(o, "primaryKeyPosition"), mycel_value_get(n, "primaryKeyPosition"));
	classification(c, w);
	bounds(c, w);
	enums(c, w);
	cmp_quality(c, mycel_value_get(o, "quality"), mycel_value_get(n, "quality"), w);
	cmp_list(c, w, "properties", mycel_value_get(o, "properties"),
		 mycel_value_get(n, "properties"), false);
	cmp_sub(c, w, "items", mycel_value_get(o, "items"), mycel_value_get(n, "items"), w->optr,
		w->nptr, "[]");
	const mycel_value *om = mycel_value_get(o, "map"), *nm = mycel_value_get(n, "map");
	if (om != NULL && nm != NULL && om->type == MYCEL_T_MAP && nm->type == MYCEL_T_MAP) {
		char op[PTR_MAX], np[PTR_MAX];
		ptr_key(op, w->optr, "map");
		ptr_key(np, w->nptr, "map");
		cmp_sub(c, w, "key", mycel_value_get(om, "key"), mycel_value_get(nm, "key"), op, np,
			"{key}");
		cmp_sub(c, w, "value", mycel_value_get(om, "value"), mycel_value_get(nm, "value"), op,
			np, "{value}");
	} else if (om != NULL || nm != NULL) {
		cmp_sub(c, w, "map", om, nm, w->optr, w->nptr, "{}");
	}
	elem_arg ea = {w};
	each_pair(c, o, n, elem_pair, &ea);
}

/* ---- quality rules ---------------------------------------------------------------------- */

/* Fields of a quality rule that describe it without changing what it checks. */
static bool quality_doc_key(const char *key)
{
	static const char *const keys[] = {"id", "name", "description", "tags", "authoritativeDefinitions",
					   "businessImpact", "customProperties", "dimension",
					   "scheduler", "schedule", "severity"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

static void quality_pair(ctx *c, void *arg, const char *key, const mycel_value *ov,
			 const mycel_value *nv)
{
	bool *differs = arg;
	if (!*differs && !quality_doc_key(key) && !veq(c, ov, nv))
		*differs = true;
}

/* True if the rules differ in what they check (their non-documentation fields). */
static bool quality_check_differs(ctx *c, const mycel_value *o, const mycel_value *n)
{
	bool differs = false;
	if (o->type != MYCEL_T_MAP || n->type != MYCEL_T_MAP)
		return !veq(c, o, n);
	each_pair(c, o, n, quality_pair, &differs);
	return differs;
}

/* "rule "row_count"" for messages: its name or id, else its metric, rule or type. */
static void quality_label(char *out, size_t n, const mycel_value *q)
{
	static const char *const keys[] = {"name", "id", "metric", "rule", "type"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *s = str_of(q, keys[i]);
		if (s != NULL) {
			snprintf(out, n, "quality rule %s%.*s", i < 2 ? "" : "of kind ", CLIP(s, 80));
			return;
		}
	}
	snprintf(out, n, "a quality rule");
}

static void cmp_quality(ctx *c, const mycel_value *ol, const mycel_value *nl, const where *w)
{
	static const mycel_value empty = {.type = MYCEL_T_ARRAY};
	char op[PTR_MAX], np[PTR_MAX], ql[160];
	size_t *mo = NULL, *mn = NULL;
	if (ol == NULL && nl == NULL)
		return;
	if ((ol != NULL && ol->type != MYCEL_T_ARRAY) || (nl != NULL && nl->type != MYCEL_T_ARRAY)) {
		generic(c, w, "quality", ol, nl);
		return;
	}
	ptr_key(op, w->optr, "quality");
	ptr_key(np, w->nptr, "quality");
	const mycel_value *o = ol ? ol : &empty, *n = nl ? nl : &empty;
	if (match(c, o, n, key_quality, &mo, &mn) != 0)
		return;
	for (size_t i = 0; i < o->v.a.len; i++) {
		const mycel_value *it = &o->v.a.items[i];
		char ip[PTR_MAX], jp[PTR_MAX];
		ptr_idx(ip, op, i);
		quality_label(ql, sizeof(ql), it);
		if (mo[i] == SIZE_MAX) {
			add(c, R_QUALITY_RULE_REMOVED, ip, it, NULL, nl ? nl : w->n,
			    "%s of %s was removed", ql, w->label);
			continue;
		}
		const mycel_value *nt = &n->v.a.items[mo[i]];
		ptr_idx(jp, np, mo[i]);
		if (quality_check_differs(c, it, nt))
			add(c, R_QUALITY_RULE_CHANGED, ip, it, jp, nt, "%s of %s changed what it checks",
			    ql, w->label);
		else if (!veq(c, it, nt))
			add(c, R_METADATA_CHANGED, ip, it, jp, nt,
			    "%s of %s: its description changed", ql, w->label);
	}
	for (size_t j = 0; j < n->v.a.len; j++) {
		char jp[PTR_MAX];
		if (mn[j] != SIZE_MAX)
			continue;
		ptr_idx(jp, np, j);
		quality_label(ql, sizeof(ql), &n->v.a.items[j]);
		add(c, R_QUALITY_RULE_ADDED, NULL, ol ? ol : w->o, jp, &n->v.a.items[j],
		    "%s was added to %s", ql, w->label);
	}
	free(mo);
	free(mn);
}

/* ---- SLA properties -------------------------------------------------------------------- */

enum { SLA_UNKNOWN, SLA_HIGHER_WORSE, SLA_LOWER_WORSE };

static int sla_kind(const char *property)
{
	static const char *const higher[] = {"latency", "frequency", "timeToDetect", "timeToNotify",
					     "timeToRepair", "errorRate", "generalAvailability",
					     "timeOfAvailability"};
	static const char *const lower[] = {"retention", "availability", "uptime", "throughput",
					    "endOfSupport", "endOfLife"};
	for (size_t i = 0; i < sizeof(higher) / sizeof(higher[0]); i++)
		if (strcasecmp(property, higher[i]) == 0)
			return SLA_HIGHER_WORSE;
	for (size_t i = 0; i < sizeof(lower) / sizeof(lower[0]); i++)
		if (strcasecmp(property, lower[i]) == 0)
			return SLA_LOWER_WORSE;
	return SLA_UNKNOWN;
}

/* Seconds in one unit of duration, or 0 if unit is not a duration mycel knows. */
static double unit_seconds(const char *u)
{
	static const struct {
		const char *name;
		double s;
	} units[] = {{"ms", 0.001},	 {"millisecond", 0.001}, {"milliseconds", 0.001},
		     {"s", 1},		 {"sec", 1},		 {"second", 1},
		     {"seconds", 1},	 {"m", 60},		 {"min", 60},
		     {"minute", 60},	 {"minutes", 60},	 {"h", 3600},
		     {"hr", 3600},	 {"hour", 3600},	 {"hours", 3600},
		     {"d", 86400},	 {"day", 86400},	 {"days", 86400},
		     {"w", 604800},	 {"week", 604800},	 {"weeks", 604800},
		     {"mo", 2592000},	 {"month", 2592000},	 {"months", 2592000},
		     {"y", 31536000},	 {"yr", 31536000},	 {"year", 31536000},
		     {"years", 31536000}};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcasecmp(u, units[i].name) == 0)
			return units[i].s;
	return 0;
}

/* A number from a number, or from a string "99.9" / "99.9%". */
static bool sla_number(const mycel_value *v, double *out)
{
	if (is_num(v)) {
		*out = num(v);
		return true;
	}
	if (v == NULL || v->type != MYCEL_T_STR || v->v.s.len == 0 || v->v.s.len > 40)
		return false;
	char *end;
	double d = strtod(v->v.s.ptr, &end);
	if (end == v->v.s.ptr || (*end != '\0' && strcmp(end, "%") != 0))
		return false;
	*out = d;
	return true;
}

/* Orders two SLA values: <0 NEW is smaller, >0 larger, 0 equal, INT32_MIN not comparable. */
static int sla_order(const mycel_value *o, const mycel_value *n)
{
	const mycel_value *ov = mycel_value_get(o, "value"), *nv = mycel_value_get(n, "value");
	const char *ou = str_of(o, "unit"), *nu = str_of(n, "unit");
	double a, b;
	if (ov == NULL || nv == NULL)
		return INT32_MIN;
	if (sla_number(ov, &a) && sla_number(nv, &b)) {
		if (ou != NULL || nu != NULL) {
			if (ou != NULL && nu != NULL && strcasecmp(ou, nu) == 0) {
				/* the same unit: the raw numbers compare */
			} else if (ou != NULL && nu != NULL && unit_seconds(ou) > 0 &&
				   unit_seconds(nu) > 0) {
				a *= unit_seconds(ou);
				b *= unit_seconds(nu);
			} else {
				return INT32_MIN;
			}
		}
		return a < b ? 1 : a > b ? -1 : 0;
	}
	if (ov->type == MYCEL_T_STR && nv->type == MYCEL_T_STR && ov->v.s.len == nv->v.s.len &&
	    (ou == NULL) == (nu == NULL) && (ou == NULL || strcmp(ou, nu) == 0)) {
		int r = strcmp(ov->v.s.ptr, nv->v.s.ptr); /* ISO dates and times of one shape */
		return r < 0 ? 1 : r > 0 ? -1 : 0;
	}
	return INT32_MIN;
}

/* "latency 4 d" for messages. */
static void sla_show(char *out, size_t n, const mycel_value *s)
{
	char a[96];
	const char *u = str_of(s, "unit");
	snprintf(out, n, "%s%s%.*s", show(mycel_value_get(s, "value"), a, sizeof(a)), u ? " " : "",
		 CLIP(u ? u : "", 16));
}

static void sla_label(char *out, size_t n, const mycel_value *s)
{
	const char *p = str_of(s, "property"), *e = str_of(s, "element"), *d = str_of(s, "driver");
	snprintf(out, n, "SLA %.*s%s%.*s%s%.*s%s", CLIP(p ? p : "?", 64), e ? " of " : "",
		 CLIP(e ? e : "", 80), d ? " (" : "", CLIP(d ? d : "", 32), d ? ")" : "");
}

static void cmp_sla(ctx *c, const where *w)
{
	static const mycel_value empty = {.type = MYCEL_T_ARRAY};
	const mycel_value *ol = mycel_value_get(w->o, "slaProperties");
	const mycel_value *nl = mycel_value_get(w->n, "slaProperties");
	char op[PTR_MAX], np[PTR_MAX], lab[256], a[128], b[128];
	size_t *mo = NULL, *mn = NULL;
	if (ol == NULL && nl == NULL)
		return;
	if ((ol != NULL && ol->type != MYCEL_T_ARRAY) || (nl != NULL && nl->type != MYCEL_T_ARRAY)) {
		generic(c, w, "slaProperties", ol, nl);
		return;
	}
	ptr_key(op, w->optr, "slaProperties");
	ptr_key(np, w->nptr, "slaProperties");
	const mycel_value *o = ol ? ol : &empty, *n = nl ? nl : &empty;
	if (match(c, o, n, key_sla, &mo, &mn) != 0)
		return;
	for (size_t i = 0; i < o->v.a.len; i++) {
		const mycel_value *it = &o->v.a.items[i];
		char ip[PTR_MAX], jp[PTR_MAX];
		ptr_idx(ip, op, i);
		sla_label(lab, sizeof(lab), it);
		const char *prop = str_of(it, "property");
		int kind = prop != NULL ? sla_kind(prop) : SLA_UNKNOWN;
		if (mo[i] == SIZE_MAX) {
			add(c, kind == SLA_UNKNOWN ? R_SLA_PROPERTY_CHANGED : R_SLA_PROPERTY_REMOVED, ip,
			    it, NULL, nl ? nl : w->n, "%s (%s) was removed", lab,
			    (sla_show(a, sizeof(a), it), a));
			continue;
		}
		const mycel_value *nt = &n->v.a.items[mo[i]];
		ptr_idx(jp, np, mo[i]);
		if (veq(c, it, nt))
			continue;
		sla_show(a, sizeof(a), it);
		sla_show(b, sizeof(b), nt);
		int r = sla_order(it, nt);
		if (kind == SLA_UNKNOWN) {
			add(c, R_SLA_PROPERTY_CHANGED, ip, it, jp, nt, "%s changed from %s to %s", lab, a,
			    b);
		} else if (r == INT32_MIN) {
			add(c, R_SLA_CHANGED, ip, it, jp, nt,
			    "%s changed from %s to %s (not comparable: counted as weakened)", lab, a, b);
		} else if (r == 0) {
			add(c, R_METADATA_CHANGED, ip, it, jp, nt, "%s: its details changed", lab);
		} else {
			bool worse = kind == SLA_HIGHER_WORSE ? r > 0 : r < 0;
			add(c, worse ? R_SLA_WEAKENED : R_SLA_STRENGTHENED, ip, it, jp, nt,
			    "%s %s from %s to %s", lab, worse ? "weakened" : "strengthened", a, b);
		}
	}
	for (size_t j = 0; j < n->v.a.len; j++) {
		char jp[PTR_MAX];
		if (mn[j] != SIZE_MAX)
			continue;
		ptr_idx(jp, np, j);
		sla_label(lab, sizeof(lab), &n->v.a.items[j]);
		sla_show(b, sizeof(b), &n->v.a.items[j]);
		add(c, R_SLA_PROPERTY_ADDED, NULL, ol ? ol : w->o, jp, &n->v.a.items[j],
		    "%s (%s) was added", lab, b);
	}
	free(mo);
	free(mn);
}

/* ---- servers ----------------------------------------------------------------------------- */

static void cmp_servers(ctx *c, const where *w)
{
	static const mycel_value empty = {.type = MYCEL_T_ARRAY};
	const mycel_value *ol = mycel_value_get(w->o, "servers");
	const mycel_value *nl = mycel_value_get(w->n, "servers");
	char op[PTR_MAX], np[PTR_MAX];
	size_t *mo = NULL, *mn = NULL;
	if (ol == NULL && nl == NULL)
		return;
	if ((ol != NULL && ol->type != MYCEL_T_ARRAY) || (nl != NULL && nl->type != MYCEL_T_ARRAY)) {
		generic(c, w, "servers", ol, nl);
		return;
	}
	ptr_key(op, w->optr, "servers");
	ptr_key(np, w->nptr, "servers");
	const mycel_value *o = ol ? ol : &empty, *n = nl ? nl : &empty;
	if (match(c, o, n, key_server, &mo, &mn) != 0)
		return;
	for (size_t i = 0; i < o->v.a.len; i++) {
		const mycel_value *it = &o->v.a.items[i];
		const char *name = str_of(it, "server");
		char ip[PTR_MAX], jp[PTR_MAX];
		ptr_idx(ip, op, i);
		if (mo[i] == SIZE_MAX) {
			add(c, R_SERVER_REMOVED, ip, it, NULL, nl ? nl : w->n, "server %.*s was removed",
			    CLIP(name ? name : "(unnamed)", 80));
		} else if (!veq(c, it, &n->v.a.items[mo[i]])) {
			ptr_idx(jp, np, mo[i]);
			add(c, R_SERVER_CHANGED, ip, it, jp, &n->v.a.items[mo[i]],
			    "server %.*s changed", CLIP(name ? name : "(unnamed)", 80));
		}
	}
	for (size_t j = 0; j < n->v.a.len; j++) {
		const char *name = str_of(&n->v.a.items[j], "server");
		char jp[PTR_MAX];
		if (mn[j] != SIZE_MAX)
			continue;
		ptr_idx(jp, np, j);
		add(c, R_SERVER_ADDED, NULL, ol ? ol : w->o, jp, &n->v.a.items[j],
		    "server %.*s was added", CLIP(name ? name : "(unnamed)", 80));
	}
	free(mo);
	free(mn);
}

/* ---- the contract ------------------------------------------------------------------------ */

static void top_pair(ctx *c, void *arg, const char *key, const mycel_value *ov,
		     const mycel_value *nv)
{
	const where *w = arg;
	static const char *const skip[] = {"kind", "id", "version", "schema", "slaProperties",
					   "servers", "quality", "apiVersion"};
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (strcmp(key, skip[i]) == 0)
			return;
	generic(c, w, key, ov, nv);
}

/* Checks that doc is a contract; the reason names which (OLD or NEW). */
static int check_contract(const mycel_value *doc, const char *which, char *why, size_t why_len)
{
	if (doc == NULL || doc->type != MYCEL_T_MAP)
		return mycel__fail(MYCEL_EINVAL, why, why_len, "%s is not a map", which);
	const char *kind = str_of(doc, "kind");
	if (kind == NULL || strcmp(kind, "DataContract") != 0)
		return mycel__fail(MYCEL_EINVAL, why, why_len,
				   "%s is not an ODCS data contract (kind: %.*s; want DataContract)",
				   which, CLIP(kind ? kind : "(none)", 40));
	if (str_of(doc, "id") == NULL)
		return mycel__fail(MYCEL_EINVAL, why, why_len, "%s has no string id", which);
	return 0;
}

int mycel_diff_contracts(const mycel_value *old_doc, const mycel_value *new_doc, char *why,
			 size_t why_len, mycel_diff *out)
{
	int rv;
	if (out == NULL)
		return MYCEL_EINVAL;
	if ((rv = check_contract(old_doc, "OLD", why, why_len)) != 0 ||
	    (rv = check_contract(new_doc, "NEW", why, why_len)) != 0)
		return rv;
	const char *oid = str_of(old_doc, "id"), *nid = str_of(new_doc, "id");
	if (strcmp(oid, nid) != 0)
		return mycel__fail(MYCEL_EINVAL, why, why_len,
				   "OLD and NEW are different contracts (id \"%.*s\" and \"%.*s\")",
				   CLIP(oid, 100), CLIP(nid, 100));
	ctx c = {out, 0};
	where w = {old_doc, new_doc, "", "", "", 0};
	char a[96], b[96];
	const mycel_value *oa = mycel_value_get(old_doc, "apiVersion");
	const mycel_value *na = mycel_value_get(new_doc, "apiVersion");
	if (!veq(&c, oa, na))
		add(&c, R_API_VERSION_CHANGED, oa ? "/apiVersion" : NULL, oa ? oa : old_doc,
		    na ? "/apiVersion" : NULL, na ? na : new_doc, "apiVersion changed from %s to %s",
		    show(oa, a, sizeof(a)), show(na, b, sizeof(b)));
	cmp_list(&c, &w, "schema", mycel_value_get(old_doc, "schema"),
		 mycel_value_get(new_doc, "schema"), true);
	w.label = "the contract";
	cmp_quality(&c, mycel_value_get(old_doc, "quality"), mycel_value_get(new_doc, "quality"),
		    &w);
	cmp_sla(&c, &w);
	cmp_servers(&c, &w);
	each_pair(&c, old_doc, new_doc, top_pair, &w);
	return c.err;
}
