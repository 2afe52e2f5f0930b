/*
 * mycel/cel.h — a subset of the Common Expression Language (CEL) for policies
 * as code (DESIGN §4, docs/policies.md).
 *
 * The subset: literals (int, uint, double, string, bytes, bool, null, list,
 * map), variables, field selection and indexing, has(), the operators
 * ! - * / % + - < <= > >= == != in && || ?: with CEL's error-absorbing && and
 * ||, the functions size contains startsWith endsWith matches (RE2-like
 * patterns run by PCRE2 with match and depth limits), the macros all exists
 * exists_one map filter, the conversions int uint double string bytes bool,
 * timestamp() and duration() with their accessors, and type(). Integer
 * overflow, division by zero, a missing key, a bad index and an undeclared
 * variable are errors, never wrapped or defaulted.
 *
 * Documents are mycel_value trees: maps become CEL maps, arrays lists,
 * strings strings, bin bytes, uint and negative ints CEL int (a uint beyond
 * INT64_MAX is a CEL uint), floats double, nil null.
 *
 * Evaluation is deterministic (no clock, no randomness, map iteration in
 * the document's key order) and bounded: every step costs at least one unit of
 * a budget, a list or string operation costs its length, and exhausting the
 * budget is an error. A compiled expression is immutable and may be evaluated
 * from several threads at once.
 */
#ifndef MYCEL_CEL_H
#define MYCEL_CEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mycel/codec.h"
#include "mycel/diag.h"

#define MYCEL_CEL_SRC_MAX 16384          /* bytes of one expression */
#define MYCEL_CEL_DEPTH_MAX 64           /* nesting of the parsed expression */
#define MYCEL_CEL_BUDGET_DEFAULT 1000000 /* cost units per evaluation */

typedef struct mycel_cel mycel_cel; /* a compiled expression */

/* Where a compile or evaluation error is, and what it is. */
typedef struct mycel_cel_err {
	uint32_t line;     /* 1-based line in the expression (0 if none) */
	uint32_t col;      /* 1-based column, in bytes */
	char msg[256];     /* a sentence: "expected ')' after argument list" */
	char pointer[256]; /* evaluation: JSON pointer of the document value concerned, or "" */
	uint32_t doc_line; /* where that document value starts in its YAML/JSON (0 if unknown) */
	uint32_t doc_col;
} mycel_cel_err;

/* One variable visible to an expression. value may be NULL: the variable is null. */
typedef struct mycel_cel_var {
	const char *name;
	const mycel_value *value;
} mycel_cel_var;

/* Everything an evaluation may read. */
typedef struct mycel_cel_env {
	const mycel_cel_var *vars; /* the variables; any other identifier is an error */
	size_t n_vars;
	bool has_now;   /* if true, the variable `now` is the timestamp now_ns */
	int64_t now_ns; /* nanoseconds since the Unix epoch, fixed by the caller */
	uint64_t budget; /* cost units; 0 means MYCEL_CEL_BUDGET_DEFAULT */
} mycel_cel_env;

/*
 * Parses src (len bytes, UTF-8, at most MYCEL_CEL_SRC_MAX) into a compiled
 * expression. On success *out owns it (free with mycel_cel_free). On failure
 * returns MYCEL_EEXPR (or ETOOBIG, ENOMEM) with the position and a sentence in
 * err (if not NULL), and leaves *out untouched.
 */
int mycel_cel_compile(const char *src, size_t len, mycel_cel **out, mycel_cel_err *err);

/* Frees a compiled expression. Accepts NULL. */
void mycel_cel_free(mycel_cel *e);

/*
 * The names of the variables the expression refers to that are not bound by a
 * macro, in order of first use, at most max of them; returns how many there are.
 */
size_t mycel_cel_free_vars(const mycel_cel *e, const char **names, size_t max);

/*
 * Evaluates e in env and requires a bool. Returns 0 and sets *out, or
 * MYCEL_EEVAL with err describing the error (position in the expression, and
 * in err->pointer the document value concerned when there is one), including
 * a result of another type ("result is int, not bool") and an exhausted budget.
 * On a false result, err->pointer names the document value that made it false
 * when the evaluator can tell (the element an all() rejected, the innermost
 * field compared), else "". *cost (if not NULL) receives the units spent.
 */
int mycel_cel_eval_bool(const mycel_cel *e, const mycel_cel_env *env, bool *out,
			uint64_t *cost, mycel_cel_err *err);

/*
 * Checks, without evaluating, the fields e selects from the document
 * variables against the JSON Schemas compiled into libmycel: `contract`
 * against ODCS (every supported version), `product` against ODPS, `previous`
 * against both. A selection (a.f, a["f"], has(a.f)) that no version of the
 * schema allows at that place is a finding in d with the expression's line
 * and column: "no field 'shema' in ODCS at contract.shema; did you mean
 * 'schema'?". So is a field compared with (or used in arithmetic with) a
 * literal of a type the schema never gives it ("contract.apiVersion == 3"),
 * and a macro ranging over a field that is neither a list nor an object.
 * Selections are followed through indexing and the variables of
 * all/exists/exists_one/map/filter; values computed by functions,
 * conditionals or literals, and other variables, are not checked. Returns 0
 * when there is no finding, MYCEL_EEXPR when there is one or more, EINVAL,
 * ENOMEM. For a charter loader, to refuse typos before any document is seen.
 */
int mycel_cel_check(const mycel_cel *e, mycel_diags *d);

/*
 * Evaluates e in env to a value of any type and writes it into out (out_len
 * bytes, NUL-terminated) as CEL-like text: null, true, -3, 3u, 2.5, "text",
 * b"\x00", [1, 2], {"k": 1}, timestamp("2024-01-01T00:00:00Z"),
 * duration("90s"), or a type name (int, map). Map entries keep their order.
 * Returns 0, MYCEL_EEVAL with err filled as mycel_cel_eval_bool does,
 * ETOOBIG when the text does not fit (out is then ""), EINVAL, ENOMEM.
 * *cost (if not NULL) receives the units spent. For tests and tools.
 */
int mycel_cel_eval_text(const mycel_cel *e, const mycel_cel_env *env, char *out, size_t out_len,
			uint64_t *cost, mycel_cel_err *err);

#endif
