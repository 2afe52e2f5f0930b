/*
 * test_cel.c — the CEL subset (include/mycel/cel.h).
 *
 * tests/cel/expr.txt holds expressions with their expected results, one a
 * line: `EXPR  -->  VALUE` (the result rendered by mycel_cel_eval_text, or
 * `false @ /pointer` for a false result of mycel_cel_eval_bool with the
 * document location it blames), `EXPR  --!  TEXT` (evaluation fails with an
 * error containing TEXT) and `EXPR  --x  L:C TEXT` (compilation fails at
 * line L, column C with a message containing TEXT). `@var NAME = YAML` binds
 * a variable to a document read by the project's YAML reader, `@now RFC3339`
 * fixes `now`. The other tests check the contract's promises one by one:
 * positions, limits, the budget, free variables, the blame with the YAML
 * line and column, and untouched outputs on failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel_int.h"
#include "mycel/cel.h"
#include "mycel/doc.h"
#include "mycel/error.h"

#define MAX_VARS 16

typedef struct suite {
	mycel_arena *a;
	mycel_cel_var vars[MAX_VARS];
	char *names[MAX_VARS];
	size_t n_vars;
	mycel_cel_env env;
} suite;

static const mycel_value *yaml(mycel_arena *a, const char *text)
{
	mycel_value *v = NULL;
	mycel_diags d;

	mycel_diags_init(&d, 0);
	int rc = mycel_doc_parse(text, strlen(text), NULL, a, &v, &d);
	if (rc != 0)
		fprintf(stderr, "YAML error %s: %s\n", mycel_errname(rc),
		        d.len ? d.items[0].message : "?");
	mycel_diags_fini(&d);
	assert_int_equal(rc, 0);
	return v;
}

static void bind(suite *s, const char *name, const mycel_value *v)
{
	for (size_t i = 0; i < s->n_vars; i++) {
		if (strcmp(s->names[i], name) == 0) {
			s->vars[i].value = v;
			return;
		}
	}
	assert_true(s->n_vars < MAX_VARS);
	s->names[s->n_vars] = strdup(name);
	s->vars[s->n_vars].name = s->names[s->n_vars];
	s->vars[s->n_vars].value = v;
	s->n_vars++;
	s->env.vars = s->vars;
	s->env.n_vars = s->n_vars;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/* Runs one line of expr.txt; returns 0 when it holds, 1 (with a message) when not. */
static int run_line(suite *s, const char *file, int lineno, char *line)
{
	char *sep;
	int mode;
	mycel_cel *e = NULL;
	mycel_cel_err err;
	char got[4096];
	int bad = 0;

	if ((sep = strstr(line, "  -->  ")) != NULL)
		mode = 'v';
	else if ((sep = strstr(line, "  --!  ")) != NULL)
		mode = '!';
	else if ((sep = strstr(line, "  --x  ")) != NULL)
		mode = 'x';
	else {
		fprintf(stderr, "%s:%d: no '  -->  ', '  --!  ' or '  --x  ' separator\n", file,
		        lineno);
		return 1;
	}
	*sep = '\0';
	char *expr = trim(line), *want = trim(sep + 7);
	int rc = mycel_cel_compile(expr, strlen(expr), &e, &err);
	if (mode == 'x') {
		unsigned l = 0, c = 0;
		int used = 0;
		if (sscanf(want, "%u:%u %n", &l, &c, &used) < 2) {
			fprintf(stderr, "%s:%d: --x needs L:C TEXT\n", file, lineno);
			bad = 1;
		} else if (rc != MYCEL_EEXPR || err.line != l || err.col != c ||
		           strstr(err.msg, want + used) == NULL) {
			fprintf(stderr,
			        "%s:%d: %s: want compile error %u:%u '%s', got %s %u:%u '%s'\n",
			        file, lineno, expr, l, c, want + used, mycel_errname(rc), err.line,
			        err.col, err.msg);
			bad = 1;
		}
		goto done;
	}
	if (rc != 0) {
		fprintf(stderr, "%s:%d: %s: compile error %u:%u %s\n", file, lineno, expr, err.line,
		        err.col, err.msg);
		bad = 1;
		goto done;
	}
	char *at = strstr(want, " @ ");
	if (mode == 'v' && at != NULL) {
		/* a false verdict with its blame */
		bool out = true;
		*at = '\0';
		rc = mycel_cel_eval_bool(e, &s->env, &out, NULL, &err);
		if (rc != 0 || out || strcmp(want, "false") != 0 ||
		    strcmp(err.pointer, at + 3) != 0) {
			fprintf(stderr, "%s:%d: %s: want false @ %s, got %s %s @ '%s' (%s)\n", file,
			        lineno, expr, at + 3, mycel_errname(rc), out ? "true" : "false",
			        err.pointer, err.msg);
			bad = 1;
		}
		goto done;
	}
	rc = mycel_cel_eval_text(e, &s->env, got, sizeof(got), NULL, &err);
	if (mode == 'v' && (rc != 0 || strcmp(got, want) != 0)) {
		fprintf(stderr, "%s:%d: %s: want %s, got %s\n", file, lineno, expr, want,
		        rc == 0 ? got : err.msg);
		bad = 1;
	} else if (mode == '!' && (rc != MYCEL_EEVAL || strstr(err.msg, want) == NULL)) {
		fprintf(stderr, "%s:%d: %s: want error '%s', got %s\n", file, lineno, expr, want,
		        rc == 0 ? got : err.msg);
		bad = 1;
	}
done:
	mycel_cel_free(e);
	return bad;
}

static void test_expr_file(void **state)
{
	const char *path = "tests/cel/expr.txt";
	FILE *f = fopen(path, "r");
	char line[8192];
	int lineno = 0, failures = 0, cases = 0;
	suite s;

	(void)state;
	assert_non_null(f);
	memset(&s, 0, sizeof(s));
	assert_int_equal(mycel_arena_new((size_t)64 << 20, &s.a), 0);
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		char *t = trim(line);
		if (*t == '\0' || *t == '#')
			continue;
		if (strncmp(t, "@var ", 5) == 0) {
			char *eq = strchr(t + 5, '=');
			assert_non_null(eq);
			*eq = '\0';
			bind(&s, trim(t + 5), yaml(s.a, trim(eq + 1)));
			continue;
		}
		if (strncmp(t, "@now ", 5) == 0) {
			int64_t sec;
			int32_t ns;
			char *v = trim(t + 5);
			assert_int_equal(mycel__cel_parse_ts(v, strlen(v), &sec, &ns), 0);
			s.env.has_now = true;
			s.env.now_ns = sec * 1000000000 + ns;
			continue;
		}
		cases++;
		failures += run_line(&s, path, lineno, t);
	}
	fclose(f);
	for (size_t i = 0; i < s.n_vars; i++)
		free(s.names[i]);
	mycel_arena_free(s.a);
	printf("expr.txt: %d cases, %d failed\n", cases, failures);
	assert_true(cases >= 150);
	assert_int_equal(failures, 0);
}

/* Compile errors carry the line and column, and leave *out untouched. */
static void test_compile_errors(void **state)
{
	mycel_cel *e = (mycel_cel *)&e, *before = e;
	mycel_cel_err err;
	(void)state;

	assert_int_equal(mycel_cel_compile("a &&\n  (b ||", 12, &e, &err), MYCEL_EEXPR);
	assert_ptr_equal(e, before);
	assert_int_equal(err.line, 2);
	assert_int_equal(err.col, 8);
	assert_non_null(strstr(err.msg, "end of expression"));

	assert_int_equal(mycel_cel_compile("1 + ", 4, &e, &err), MYCEL_EEXPR);
	assert_int_equal(err.col, 5);

	/* size limit */
	char *big = malloc(MYCEL_CEL_SRC_MAX + 2);
	assert_non_null(big);
	memset(big, '1', MYCEL_CEL_SRC_MAX + 1);
	big[MYCEL_CEL_SRC_MAX + 1] = '\0';
	assert_int_equal(mycel_cel_compile(big, MYCEL_CEL_SRC_MAX + 1, &e, &err), MYCEL_ETOOBIG);
	assert_ptr_equal(e, before);
	/* depth: 70 nested lists, and a 70-term sum */
	size_t n = 0;
	for (int i = 0; i < 70; i++)
		big[n++] = '[';
	for (int i = 0; i < 70; i++)
		big[n++] = ']';
	assert_int_equal(mycel_cel_compile(big, n, &e, &err), MYCEL_EEXPR);
	assert_non_null(strstr(err.msg, "deeper than"));
	n = 0;
	for (int i = 0; i < 70; i++) {
		big[n++] = '1';
		big[n++] = '+';
	}
	big[n++] = '1';
	assert_int_equal(mycel_cel_compile(big, n, &e, &err), MYCEL_EEXPR);
	assert_non_null(strstr(err.msg, "deeper than"));
	/* 200 conditions joined by || are one node, not a deep tree */
	n = 0;
	for (int i = 0; i < 200; i++) {
		memcpy(big + n, "x == 1 || ", 10);
		n += 10;
	}
	memcpy(big + n, "false", 5);
	n += 5;
	assert_int_equal(mycel_cel_compile(big, n, &e, &err), 0);
	mycel_cel_free(e);
	e = before;
	free(big);
	/* 16 KB of short string literals: memory is bounded by each literal, not the source */
	big = malloc(MYCEL_CEL_SRC_MAX + 1);
	assert_non_null(big);
	n = 0;
	while (n + 16 < MYCEL_CEL_SRC_MAX) {
		memcpy(big + n, "'ab' in ['a'] ||", 16);
		n += 16;
	}
	memcpy(big + n, "true", 4);
	n += 4;
	assert_int_equal(mycel_cel_compile(big, n, &e, &err), 0);
	mycel_cel_free(e);
	e = before;
	free(big);
	/* invalid UTF-8 and a NUL byte */
	assert_int_equal(mycel_cel_compile("'\xff'", 3, &e, &err), MYCEL_EEXPR);
	assert_int_equal(mycel_cel_compile("1\0", 2, &e, &err), MYCEL_EEXPR);
	assert_int_equal(err.col, 2);
	/* a NUL inside a literal is a character like another */
	assert_int_equal(mycel_cel_compile("b'\0' == b'\\000'", 15, &e, &err), 0);
	bool t = false;
	mycel_cel_env env;
	memset(&env, 0, sizeof(env));
	assert_int_equal(mycel_cel_eval_bool(e, &env, &t, NULL, NULL), 0);
	assert_true(t);
	mycel_cel_free(e);
	e = before;
	assert_ptr_equal(e, before);
	mycel_cel_free(NULL);
}

static void test_free_vars(void **state)
{
	mycel_cel *e;
	const char *names[4];
	const char *src = "contract.schema.all(t, t.name != '' && t.name in domain.tables) && "
	                  "previous == null && now > timestamp('2020-01-01T00:00:00Z') && "
	                  "type(1) == int";
	(void)state;

	assert_int_equal(mycel_cel_compile(src, strlen(src), &e, NULL), 0);
	assert_int_equal(mycel_cel_free_vars(e, names, 4), 4);
	assert_string_equal(names[0], "contract");
	assert_string_equal(names[1], "domain");
	assert_string_equal(names[2], "previous");
	assert_string_equal(names[3], "now");
	assert_int_equal(mycel_cel_free_vars(e, names, 1), 4);
	mycel_cel_free(e);
}

/* The budget bounds work: a quadratic expression stops with an error; cost is reported. */
static void test_budget(void **state)
{
	mycel_cel *e;
	mycel_cel_err err;
	mycel_cel_env env;
	bool out = true;
	uint64_t cost = 0;
	const char *src = "[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, "
	                  "[1,2,3,4,5,6,7,8,9,10].all(c, a + b + c > 0)))";
	(void)state;

	memset(&env, 0, sizeof(env));
	assert_int_equal(mycel_cel_compile(src, strlen(src), &e, &err), 0);
	assert_int_equal(mycel_cel_eval_bool(e, &env, &out, &cost, &err), 0);
	assert_true(out);
	assert_true(cost > 1000);
	env.budget = cost - 1;
	assert_int_equal(mycel_cel_eval_bool(e, &env, &out, &cost, &err), MYCEL_EEVAL);
	assert_non_null(strstr(err.msg, "budget"));
	assert_int_equal(cost, env.budget);
	mycel_cel_free(e);

	/* an exhausted budget is not absorbed by || */
	src = "true || [1,2,3].all(x, x > 0)";
	assert_int_equal(mycel_cel_compile(src, strlen(src), &e, &err), 0);
	env.budget = 1;
	assert_int_equal(mycel_cel_eval_bool(e, &env, &out, NULL, &err), MYCEL_EEVAL);
	mycel_cel_free(e);

	/* string doubling is charged by length and stops */
	src =
	    "['a'].map(x, x + x).map(x, x + x + x + x + x + x + x + x + x + x + x + x + x + x + x)"
	    ".map(x, x + x + x + x + x + x + x + x + x + x + x + x + x + x + x).map(x, x + x + "
	    "x + x + x + x + x + x + x + x + x + x + x + x + x + x).map(x, x + x + x + x + x + x"
	    " + x + x + x + x + x + x + x + x + x + x + x + x + x).size() > 0";
	assert_int_equal(mycel_cel_compile(src, strlen(src), &e, &err), 0);
	env.budget = 0;
	assert_int_equal(mycel_cel_eval_bool(e, &env, &out, NULL, &err), MYCEL_EEVAL);
	assert_non_null(strstr(err.msg, "budget"));
	mycel_cel_free(e);
}

/* eval_bool: a non-bool result is an error; a false result names the document value. */
static void test_eval_bool(void **state)
{
	mycel_arena *a;
	mycel_cel *e;
	mycel_cel_err err;
	mycel_cel_var var;
	mycel_cel_env env;
	bool out = true;
	const char *doc = "kind: DataContract\n"
	                  "schema:\n"
	                  "  - name: orders\n"
	                  "    description: all orders\n"
	                  "  - name: customers\n"
	                  "    properties:\n"
	                  "      - name: email\n"
	                  "        classification: public\n";
	(void)state;

	assert_int_equal(mycel_arena_new(1 << 20, &a), 0);
	var.name = "contract";
	var.value = yaml(a, doc);
	memset(&env, 0, sizeof(env));
	env.vars = &var;
	env.n_vars = 1;

	const char *src = "contract.schema.all(t, has(t.description))";
	assert_int_equal(mycel_cel_compile(src, strlen(src), &e, &err), 0);
	assert_int_equal(mycel_cel_eval_bool(e, &env, &out, NULL, &err), 0);
	assert_false(out);
	assert_string_equal(err.pointer, "/schema/1");
	assert_int_equal(err.doc_line, 5);
	assert_int_equal(err.doc_col, 5);
	mycel_cel_free(e);

	src = "contract.schema.all(t, !has(t.properties) || t.properties.all(p, "
	      "p.classification == 'restricted'))";
	assert_int_equal(mycel_cel_compile(src, strlen(src), &e, &err), 0);
	assert_int_equal(mycel_cel_eval_bool(e, &env, &out, NULL, &err), 0);
	assert_false(out);
	assert_string_equal(err.pointer, "/schema/1/properties/0/classification");
	assert_int_equal(err.doc_line, 8);
	assert_int_equal(err.doc_col, 25);
	mycel_cel_free(e);

	/* an error names where: the expression position and the document value */
	src = "contract.schema.all(t,\n  t.description != '')";
	assert_int_equal(mycel_cel_compile(src, strlen(src), &e, &err), 0);
	out = true;
	assert_int_equal(mycel_cel_eval_bool(e, &env, &out, NULL, &err), MYCEL_EEVAL);
	assert_true(out); /* untouched */
	assert_int_equal(err.line, 2);
	assert_int_equal(err.col, 4);
	assert_non_null(strstr(err.msg, "no such key: 'description'"));
	assert_string_equal(err.pointer, "/schema/1");
	mycel_cel_free(e);

	src = "size(contract.schema)";
	assert_int_equal(mycel_cel_compile(src, strlen(src), &e, &err), 0);
	assert_int_equal(mycel_cel_eval_bool(e, &env, &out, NULL, &err), MYCEL_EEVAL);
	assert_string_equal(err.msg, "result is int, not bool");
	mycel_cel_free(e);

	/* an undeclared variable is an error, not null */
	src = "product == null";
	assert_int_equal(mycel_cel_compile(src, strlen(src), &e, &err), 0);
	assert_int_equal(mycel_cel_eval_bool(e, &env, &out, NULL, &err), MYCEL_EEVAL);
	assert_non_null(strstr(err.msg, "undeclared reference to 'product'"));
	/* a variable bound to NULL is null */
	mycel_cel_var vars[2] = {var, {"product", NULL}};
	env.vars = vars;
	env.n_vars = 2;
	assert_int_equal(mycel_cel_eval_bool(e, &env, &out, NULL, &err), 0);
	assert_true(out);
	mycel_cel_free(e);
	mycel_arena_free(a);
}

/* now is what the caller fixed, and only when it says so. */
static void test_now(void **state)
{
	mycel_cel *e;
	mycel_cel_env env;
	mycel_cel_err err;
	char out[128];
	(void)state;

	memset(&env, 0, sizeof(env));
	assert_int_equal(mycel_cel_compile("now", 3, &e, &err), 0);
	assert_int_equal(mycel_cel_eval_text(e, &env, out, sizeof(out), NULL, &err), MYCEL_EEVAL);
	env.has_now = true;
	env.now_ns = 1700000000123000000LL;
	assert_int_equal(mycel_cel_eval_text(e, &env, out, sizeof(out), NULL, &err), 0);
	assert_string_equal(out, "timestamp(\"2023-11-14T22:13:20.123Z\")");
	/* too small an output buffer */
	assert_int_equal(mycel_cel_eval_text(e, &env, out, 8, NULL, &err), MYCEL_ETOOBIG);
	assert_string_equal(out, "");
	mycel_cel_free(e);
}

/* Selections the document's schema cannot have are found before any document is seen. */
static void check_one(const char *src, const char *want)
{
	mycel_cel *e;
	mycel_cel_err err;
	mycel_diags d;

	mycel_diags_init(&d, 0);
	if (mycel_cel_compile(src, strlen(src), &e, &err) != 0)
		fail_msg("%s: %s", src, err.msg);
	int rc = mycel_cel_check(e, &d);
	if (want == NULL) {
		if (rc != 0)
			fail_msg("%s: unexpected finding %s", src,
			         d.len ? d.items[0].message : "?");
	} else {
		if (rc != MYCEL_EEXPR || d.len != 1 || strstr(d.items[0].message, want) == NULL)
			fail_msg("%s: want one finding '%s', got %s %s", src, want,
			         mycel_errname(rc), d.len ? d.items[0].message : "none");
	}
	mycel_diags_fini(&d);
	mycel_cel_free(e);
}

static void test_check(void **state)
{
	(void)state;
	check_one("contract.shema.size() > 0",
	          "no field 'shema' in ODCS at contract.shema; did you mean 'schema'?");
	check_one("contract.schema.all(t, has(t.descripton))",
	          "no field 'descripton' in ODCS at t.descripton; did you mean 'description'?");
	check_one("contract.schema.all(t, t.properties.all(p, p.classification == 'restricted'))",
	          NULL);
	check_one("contract.schema.all(t, t.properties.all(p, p.clasification == 'restricted'))",
	          "did you mean 'classification'?");
	check_one("contract.schema[0].properties[1].logicalType == 'string'", NULL);
	check_one("contract.team.members.all(m, m.username != '')", NULL); /* v3.1+ object form */
	check_one("contract.team.all(m, m.role != '')", NULL);             /* v3.0 array form */
	/* ODCS v3.0.0 leaves an SLA property open to any field: no finding */
	check_one("contract.slaProperties.exists(s, s.property == 'latency' && s.valu > 0)", NULL);
	check_one("contract.support.all(s, s.chanel != '')", NULL); /* open in v3.0.x too */
	check_one("contract.schema.all(t, t.properties.all(p, p.logicaltype == 'string'))",
	          "did you mean 'logicalType'?");
	check_one("contract.servers.all(s, s.type != 'postgres' || s.host != '')", NULL);
	check_one("contract.customProperties.all(c, c.property != '' && c.value != null)", NULL);
	check_one("contract.version.major > 1",
	          "no field 'major' in ODCS at contract.version.major");
	check_one("contract['kindd'] == 'DataContract'", "did you mean 'kind'?");
	check_one("product.outputPorts.all(p, has(p.contractId))", NULL);
	check_one("product.outputport.size() > 0", "in ODPS");
	check_one("previous.schema.size() <= contract.schema.size()", NULL);
	check_one("previous == null || previous.xyzzy == 1", "no field 'xyzzy' in ODCS or ODPS");
	/* types: a field compared with a literal of a type it never has */
	check_one("contract.apiVersion == 3", "contract.apiVersion is a string in ODCS: it is never "
						"equal to a number literal");
	check_one("contract.schema.all(t, t.properties.all(p, p.required == 'yes'))",
		  "p.required is a boolean in ODCS");
	check_one("contract.slaProperties.all(s, s.value > 0)", NULL); /* string or number */
	check_one("contract.version > 2", "cannot be used with a number literal");
	check_one("contract.version.all(c, c != '')", "contract.version is a string in ODCS: it "
						      "cannot be iterated");
	check_one("contract.schema.all(t, t.name == 'orders' || t.name.size() > 3)", NULL);
	/* real policies: no false finding */
	check_one("contract.description.purpose != '' && contract.price.priceAmount > 0", NULL);
	check_one("contract.servers.all(s, s.server != '' && s.type in ['postgres', 'snowflake'])",
		  NULL);
	check_one("contract.schema.all(t, !has(t.quality) || t.quality.all(q, has(q.rule) || "
		  "has(q.query) || q.type == 'custom'))",
		  NULL);
	check_one("contract.roles.all(r, r.role != '' && has(r.access))", NULL);
	check_one("contract.schema.all(t, t.physicalType == 'table' && t.properties.all(p, "
		  "!has(p.items) || p.items.logicalType != '' && (!has(p.properties) || "
		  "p.properties.all(q, q.name != '' && q.primaryKey == false))))",
		  NULL);
	check_one("product.inputPorts.all(p, p.contractId != '') && product.team.members.size() > 0",
		  NULL);
	check_one("contract.schema.all(t, t.properties.all(p, p.quality.all(q, q.mustBeGreaterThan "
		  "> 0)))",
		  NULL);
	/* not checked: other variables, computed values */
	check_one("domain.anything && [contract][0].whatever", NULL);
	check_one("contract.schema.filter(t, has(t.name)).all(t, t.nme != '')", "no field 'nme'");
}

/* One compiled expression evaluated by several threads at once gives every one the same. */
typedef struct thr {
	const mycel_cel *e;
	const mycel_cel_env *env;
	int bad;
} thr;

static void *thr_main(void *arg)
{
	thr *t = arg;
	for (int i = 0; i < 200; i++) {
		bool out = true;
		mycel_cel_err err;
		if (mycel_cel_eval_bool(t->e, t->env, &out, NULL, &err) != 0 || out ||
		    strcmp(err.pointer, "/schema/1/properties/0/name") != 0)
			t->bad++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	mycel_arena *a;
	mycel_cel *e;
	mycel_cel_var var;
	mycel_cel_env env;
	pthread_t tid[4];
	thr t[4];
	const char *src = "contract.schema.all(t, t.properties.all(p, "
			  "p.name.matches('^[a-z]+$') && p.name != 'ssn'))";
	(void)state;

	assert_int_equal(mycel_arena_new(1 << 20, &a), 0);
	var.name = "contract";
	var.value = yaml(a, "schema: [{properties: [{name: id}, {name: email}]}, "
			    "{properties: [{name: ssn}]}]");
	memset(&env, 0, sizeof(env));
	env.vars = &var;
	env.n_vars = 1;
	assert_int_equal(mycel_cel_compile(src, strlen(src), &e, NULL), 0);
	for (int i = 0; i < 4; i++) {
		t[i].e = e;
		t[i].env = &env;
		t[i].bad = 0;
		assert_int_equal(pthread_create(&tid[i], NULL, thr_main, &t[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		assert_int_equal(t[i].bad, 0);
	}
	mycel_cel_free(e);
	mycel_arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_expr_file), cmocka_unit_test(test_compile_errors),
	    cmocka_unit_test(test_free_vars), cmocka_unit_test(test_budget),
	    cmocka_unit_test(test_eval_bool), cmocka_unit_test(test_now),
	    cmocka_unit_test(test_check),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
