/*
 * schema_int.h — private structures shared by schema.c (loading, URIs,
 * references) and schema_kw.c (evaluation of the keywords).
 *
 * mycel_schema_add compiles every schema object of a document into an snode
 * once: keyword values are checked and decoded, properties are sorted for
 * binary search, patterns are compiled with PCRE2, and $ref/$recursiveRef
 * targets are resolved to snode pointers as soon as the resource they name
 * has been added. Validation then only reads these structures, so it may run
 * from several threads at once.
 */
#ifndef MYCEL_SCHEMA_INT_H
#define MYCEL_SCHEMA_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "mycel/codec.h"
#include "mycel/schema.h"

/* Kinds of schema: the boolean schemas and objects. */
enum { MYCEL__SK_TRUE, MYCEL__SK_FALSE, MYCEL__SK_OBJ };

/* JSON types, as bits of snode.types. */
enum {
	MYCEL__JT_NULL = 1 << 0,
	MYCEL__JT_BOOL = 1 << 1,
	MYCEL__JT_INT = 1 << 2,
	MYCEL__JT_NUM = 1 << 3,
	MYCEL__JT_STR = 1 << 4,
	MYCEL__JT_ARR = 1 << 5,
	MYCEL__JT_OBJ = 1 << 6,
};

typedef struct mycel__sres mycel__sres;
typedef struct mycel__snode mycel__snode;

/* A schema resource: a document root or a subschema with its own $id. */
struct mycel__sres {
	const char *uri; /* absolute, without fragment */
	mycel__snode *root;
};

/* A named subschema (properties, dependentSchemas), sorted by key. */
typedef struct mycel__skey {
	const char *key;
	size_t len;
	mycel__snode *node;
} mycel__skey;

/* A patternProperties entry. */
typedef struct mycel__spat {
	pcre2_code *re;
	const char *src;
	mycel__snode *node;
} mycel__spat;

/* A dependentRequired entry: when key is present, every string of names must be. */
typedef struct mycel__sdep {
	const char *key;
	size_t len;
	const mycel_value *names;
} mycel__sdep;

/* A reference ($ref or $recursiveRef), resolved when its target is known. */
typedef struct mycel__sref {
	const char *uri;   /* absolute target URI, fragment included */
	const char *where; /* JSON pointer of the referring schema, for messages */
	mycel__snode *target;
} mycel__sref;

struct mycel__snode {
	const mycel_value *v;
	const mycel__sres *res; /* base URI and dynamic scope */
	uint8_t kind;
	uint8_t types; /* MYCEL__JT_* bits when has_type */
	bool has_type;
	bool recursive_anchor; /* $recursiveAnchor: true (meaningful on resource roots) */
	bool unique_items;
	bool items_array; /* items is an array of schemas */
	bool has_const;

	mycel__sref *ref;  /* $ref */
	mycel__sref *rref; /* $recursiveRef */

	mycel__skey *props;
	size_t nprops;
	mycel__spat *pprops;
	size_t npprops;
	mycel__snode *addl_props, *uneval_props, *prop_names;
	mycel__skey *dep_schemas;
	size_t ndep_schemas;
	mycel__sdep *dep_req;
	size_t ndep_req;
	const mycel_value *required; /* array of strings, or NULL */

	mycel__snode **all_of, **any_of, **one_of;
	size_t nall_of, nany_of, none_of;
	mycel__snode *not_, *if_, *then_, *else_;

	mycel__snode **items; /* items_array: one per position; else items[0] if nitems */
	size_t nitems;
	mycel__snode *addl_items, *uneval_items, *contains;

	const mycel_value *enum_; /* array, or NULL */
	const mycel_value *const_;
	pcre2_code *pattern;
	const char *pattern_src;

	const mycel_value *minimum, *maximum, *xminimum, *xmaximum, *multiple_of;
	uint64_t min_len, max_len; /* max_* are UINT64_MAX when absent */
	uint64_t min_items, max_items;
	uint64_t min_props, max_props;
	uint64_t min_contains, max_contains; /* min_contains defaults to 1 */
};

/* A string-keyed table (resource URIs, "uri#anchor"). */
typedef struct mycel__stab_ent {
	const char *key;
	void *val;
} mycel__stab_ent;

typedef struct mycel__stab {
	mycel__stab_ent *ents;
	size_t cap, len; /* cap is 0 or a power of two */
} mycel__stab;

/* A table from schema values to their compiled nodes. */
typedef struct mycel__ptab_ent {
	const mycel_value *key;
	mycel__snode *val;
} mycel__ptab_ent;

typedef struct mycel__ptab {
	mycel__ptab_ent *ents;
	size_t cap, len;
} mycel__ptab;

struct mycel_schema {
	mycel_arena *arena;
	mycel__stab ids;    /* resource URI -> mycel__sres, "uri#anchor" -> mycel__snode */
	mycel__ptab nodes;  /* schema value -> node */
	mycel__sref **refs; /* every reference, resolved or not */
	size_t nrefs, caprefs;
	pcre2_code **codes; /* every compiled pattern, for freeing */
	size_t ncodes, capcodes;
	pcre2_match_context *mctx;
};

/* Limits of one validation. */
#define MYCEL__SCHEMA_MAX_DEPTH 512         /* nested schema evaluations */
#define MYCEL__SCHEMA_MAX_STEPS 50000000ULL /* schema evaluations in total */
#define MYCEL__SCHEMA_MATCH_LIMIT 1000000   /* PCRE2 match limit per match */
#define MYCEL__SCHEMA_DEPTH_LIMIT 10000     /* PCRE2 depth limit per match */

/* fabs and trunc without libm: every double of magnitude >= 2^52 is integral. */
static inline double mycel__f_abs(double f)
{
	return f < 0 ? -f : f;
}

static inline double mycel__f_trunc(double f)
{
	return mycel__f_abs(f) < 4503599627370496.0 ? (double)(int64_t)f : f;
}

/* JSON values (schema.c). Exact comparison of two numbers of any representation: -1, 0, 1. */
int mycel__json_cmp(const mycel_value *a, const mycel_value *b);

/* JSON equality: numbers by value (1 == 1.0), maps regardless of member order. */
bool mycel__json_eq(const mycel_value *a, const mycel_value *b);

/* True if number x is a multiple of d (d > 0). */
bool mycel__json_multiple_of(const mycel_value *x, const mycel_value *d);

/* Member key of map m, or NULL (a linear scan). */
const mycel_value *mycel__json_member(const mycel_value *m, const char *key, size_t len);

/* qsort/bsearch order of (const mycel_member *) by key, bytewise. */
int mycel__member_cmp(const void *x, const void *y);

/*
 * Evaluates instance against node n (schema_kw.c). Sets *out_valid, appends
 * findings to out (if not NULL). Returns 0, ENOTFOUND, ETOOBIG or ENOMEM.
 */
int mycel__schema_eval(const mycel_schema *s, const mycel__snode *n, const mycel_value *instance,
                       bool *out_valid, mycel_diags *out, char *why, size_t why_len);

#endif
