/*
 * cel_int.h — private parts of the CEL subset (include/mycel/cel.h): the
 * syntax tree cel_parse.c builds, the values cel_eval.c computes with, and
 * the functions shared between cel_parse.c, cel_eval.c, cel_lib.c and
 * cel_check.c. Tests reach these to compare values exactly.
 */
#ifndef MYCEL_CEL_INT_H
#define MYCEL_CEL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "mycel/cel.h"
#include "mycel/codec.h"

/* ---- values ------------------------------------------------------------ */

typedef enum cel_kind {
	CK_ERR, /* an error travelling as a value (absorbed by && and ||) */
	CK_NULL,
	CK_BOOL,
	CK_INT,
	CK_UINT,
	CK_DOUBLE,
	CK_STRING,
	CK_BYTES,
	CK_LIST,
	CK_MAP,
	CK_TS,   /* timestamp: seconds since the epoch + nanos in [0, 1e9) */
	CK_DUR,  /* duration: seconds + nanos in [0, 1e9) (floor form) */
	CK_TYPE, /* a type value: v.s is its name ("int", "map", ...) */
} cel_kind;

/* Where a value came from in a document: a chain of JSON pointer tokens. */
typedef struct cel_path {
	const struct cel_path *up;
	const char *key; /* a map key, or NULL for an index */
	size_t key_len;
	size_t idx;
	const mycel_value *doc; /* the document value itself (line, col) */
} cel_path;

typedef struct cel_val cel_val;
typedef struct cel_entry cel_entry;

struct cel_val {
	uint8_t kind;         /* cel_kind */
	bool doc;             /* CK_LIST/CK_MAP: v.d is a document array/map */
	const cel_path *path; /* document origin, or NULL */
	union {
		bool b;
		int64_t i;
		uint64_t u;
		double f;
		struct {
			const char *p; /* strings are valid UTF-8; NUL-terminated when built */
			size_t n;
		} s; /* CK_STRING, CK_BYTES, CK_TYPE, CK_ERR (the message) */
		struct {
			const cel_val *items;
			size_t n;
		} l;
		struct {
			const cel_entry *items;
			size_t n;
		} m;
		const mycel_value *d;
		struct {
			int64_t sec;
			int32_t ns;
		} t; /* CK_TS and CK_DUR */
	} v;
	uint32_t line, col; /* CK_ERR: where in the expression */
};

struct cel_entry {
	cel_val key;
	cel_val val;
};

/* ---- syntax tree ------------------------------------------------------- */

typedef enum cel_nkind {
	N_LIT,
	N_IDENT,
	N_SELECT, /* a.name */
	N_HAS,    /* has(a.name) */
	N_INDEX,  /* a[b] */
	N_CALL,   /* fn(args) or a.fn(args): op is the cel_fn, a the target */
	N_LIST,
	N_MAP,  /* args: key, value, key, value, ... */
	N_COND, /* a ? b : c */
	N_AND,  /* args, n-ary */
	N_OR,
	N_NOT,
	N_NEG,
	N_BIN,   /* op: a cel_binop */
	N_MACRO, /* op: a cel_macro; name: the variable; a: range; b, c */
} cel_nkind;

typedef enum cel_binop {
	B_ADD,
	B_SUB,
	B_MUL,
	B_DIV,
	B_MOD,
	B_EQ,
	B_NE,
	B_LT,
	B_LE,
	B_GT,
	B_GE,
	B_IN,
} cel_binop;

typedef enum cel_macro {
	M_ALL,
	M_EXISTS,
	M_EXISTS_ONE,
	M_MAP,
	M_MAP_FILTER,
	M_FILTER,
} cel_macro;

/* Functions of the subset (global and receiver style). */
typedef enum cel_fn {
	F_SIZE,
	F_CONTAINS,
	F_STARTS,
	F_ENDS,
	F_MATCHES,
	F_INT,
	F_UINT,
	F_DOUBLE,
	F_STRING,
	F_BYTES,
	F_BOOL,
	F_TYPE,
	F_DYN,
	F_TIMESTAMP,
	F_DURATION,
	F_GET_FULL_YEAR,
	F_GET_MONTH,
	F_GET_DAY_OF_YEAR,
	F_GET_DAY_OF_MONTH,
	F_GET_DATE,
	F_GET_DAY_OF_WEEK,
	F_GET_HOURS,
	F_GET_MINUTES,
	F_GET_SECONDS,
	F_GET_MILLISECONDS,
	F__COUNT
} cel_fn;

typedef struct cel_node cel_node;
struct cel_node {
	uint8_t kind; /* cel_nkind */
	uint8_t op;   /* cel_binop, cel_macro or cel_fn */
	uint32_t line, col;
	const char *name; /* identifier, field, macro variable (NUL-terminated) */
	size_t name_len;
	cel_node *a, *b, *c;
	cel_node **args;
	size_t n_args;
	cel_val lit;    /* N_LIT */
	pcre2_code *re; /* F_MATCHES with a literal pattern: compiled once */
};

struct mycel_cel {
	mycel_arena *arena; /* the tree and its strings */
	cel_node *root;
	const char **vars; /* free variables, in order of first use */
	size_t n_vars;
	pcre2_code **codes; /* compiled patterns, freed with the expression */
	size_t n_codes;
	char *src; /* a copy of the source */
	size_t src_len;
};

/* ---- evaluation -------------------------------------------------------- */

/* A variable given as an internal value (the conformance runner binds these). */
typedef struct cel_binding {
	const char *name;
	cel_val val;
} cel_binding;

typedef struct cel_ctx {
	mycel_arena *arena; /* values built during evaluation */
	const cel_binding *binds;
	size_t n_binds;
	const mycel_cel_env *env;
	uint64_t budget, spent;
	bool fatal;      /* budget or memory exhausted: nothing absorbs it */
	bool has_dotted; /* some binding's name is qualified (a.b) */
	cel_val fatal_err;
	pcre2_match_context *mctx;
	/* Macro variables in scope, innermost last. */
	struct {
		const char *name;
		cel_val val;
	} scope[MYCEL_CEL_DEPTH_MAX];
	size_t n_scope;
	const cel_path *blame; /* the document value that made the last comparison false */
} cel_ctx;

/* Compile-time tables (cel_parse.c). */
int mycel__cel_fn_lookup(const char *name, size_t n, bool receiver);
const char *mycel__cel_fn_name(int fn);

/*
 * Evaluates e with internal bindings, into *out (allocated in ctx->arena).
 * Always returns a value; an error is a CK_ERR value with its position.
 */
void mycel__cel_eval(const mycel_cel *e, cel_ctx *ctx, cel_val *out);

/* Sets up ctx for one evaluation: arena and match context. 0 or ENOMEM. */
int mycel__cel_ctx_init(cel_ctx *ctx, const mycel_cel_env *env, const cel_binding *binds,
                        size_t n_binds);
void mycel__cel_ctx_fini(cel_ctx *ctx);

/* Evaluation steps used by cel_lib.c. */
cel_val mycel__cel_err(cel_ctx *ctx, const cel_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool mycel__cel_charge(cel_ctx *ctx, uint64_t units);
void *mycel__cel_alloc(cel_ctx *ctx, size_t n);
cel_val mycel__cel_call(cel_ctx *ctx, const cel_node *n, const cel_val *target, const cel_val *args,
                        size_t n_args);
size_t mycel__cel_len(const cel_val *v);
cel_val mycel__cel_list_at(cel_ctx *ctx, const cel_val *l, size_t i);
void mycel__cel_map_entry(cel_ctx *ctx, const cel_val *m, size_t i, cel_val *k, cel_val *v);
cel_val mycel__cel_from_doc(cel_ctx *ctx, const mycel_value *d, const cel_path *path);
/* -1, 0, 1 for an ordering; 2 when unordered or of types that do not compare. */
int mycel__cel_compare(const cel_val *a, const cel_val *b);
/* CEL equality: 1 equal, 0 not equal. */
int mycel__cel_equal(cel_ctx *ctx, const cel_val *a, const cel_val *b);
/* Exact identity for tests: same kind and same value (lists and maps deep). */
bool mycel__cel_identical(cel_ctx *ctx, const cel_val *a, const cel_val *b);
const char *mycel__cel_type_name(const cel_val *v);

/* Renders v as CEL-like text into b ("1u", "\"a\"", "[1, 2]", "timestamp(...)"). */
int mycel__cel_render(cel_ctx *ctx, const cel_val *v, mycel_buf *b);

/* Timestamps and durations (cel_lib.c). */
#define CEL_TS_MIN (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define CEL_TS_MAX (253402300799LL) /* 9999-12-31T23:59:59Z */
/* A duration is within int64 nanoseconds (about 292 years), as CEL's tests expect. */
bool mycel__cel_dur_ok(int64_t sec, int32_t ns);
int mycel__cel_parse_ts(const char *s, size_t n, int64_t *sec, int32_t *ns);
int mycel__cel_parse_dur(const char *s, size_t n, int64_t *sec, int32_t *ns);
void mycel__cel_fmt_ts(int64_t sec, int32_t ns, char *out, size_t out_len);
void mycel__cel_fmt_dur(int64_t sec, int32_t ns, char *out, size_t out_len);
void mycel__cel_fmt_double(double f, char *out, size_t out_len);
pcre2_code *mycel__cel_regex(const char *p, size_t n, char *why, size_t why_len);

#endif
