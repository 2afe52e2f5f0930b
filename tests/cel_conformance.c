/*
 * cel_conformance.c — the CEL subset against CEL's own conformance tests
 * (../shared/corpus/cel-spec/testdata/NAME.textproto, messages in simple.proto).
 *
 * A small reader of the protobuf text format turns each file into a tree;
 * every test is then either run (its expression compiled and evaluated with
 * its bindings, the result compared exactly: same type, same value) or
 * skipped because it needs something outside the subset, with the reason:
 *   - "protobuf messages": message construction, message-typed bindings or
 *     results, or a container naming a protobuf package;
 *   - "check-only": the test asserts what a type checker deduces;
 *   - "unknowns": partial evaluation with unknown values;
 *   - "function outside the subset: NAME": a function the subset does not have;
 *   - "IANA time zone": an accessor given a zone name (evaluation would depend
 *     on the host's time zone database; fixed offsets and UTC are in);
 * Every test run must pass. Prints "N passed, N skipped, N failed", each
 * skipped test by file/section/name and reason, and exits 1 on a failure,
 * 77 (skipped) when the corpus is absent. The corpus directory is
 * MYCEL_CORPUS (default ../shared/corpus), like the other corpus tests.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel_int.h"
#include "mycel/error.h"

/* ---- protobuf text format ------------------------------------------------ */

typedef struct pnode pnode;
struct pnode {
	char *name;
	bool msg;
	char *val; /* decoded scalar */
	size_t val_len;
	pnode **kids;
	size_t n_kids;
};

typedef struct prd {
	const char *s;
	size_t n, i;
	int line;
	bool bad;
} prd;

static void skip_ws(prd *r)
{
	while (r->i < r->n) {
		char c = r->s[r->i];
		if (c == '#') {
			while (r->i < r->n && r->s[r->i] != '\n')
				r->i++;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == ',' || c == ';') {
			r->i++;
		} else if (c == '\n') {
			r->line++;
			r->i++;
		} else {
			break;
		}
	}
}

static void add_kid(pnode *p, pnode *k)
{
	p->kids = realloc(p->kids, (p->n_kids + 1) * sizeof(*p->kids));
	if (p->kids == NULL)
		abort();
	p->kids[p->n_kids++] = k;
}

/* A quoted string with C escapes (octal, \x, \u), possibly several adjacent ones. */
static char *read_str(prd *r, size_t *len)
{
	size_t cap = 64, n = 0;
	char *o = malloc(cap);
	while (r->i < r->n && (r->s[r->i] == '"' || r->s[r->i] == '\'')) {
		char q = r->s[r->i++];
		while (r->i < r->n && r->s[r->i] != q) {
			if (n + 8 >= cap)
				o = realloc(o, cap *= 2);
			char c = r->s[r->i++];
			if (c != '\\') {
				o[n++] = c;
				continue;
			}
			c = r->s[r->i++];
			switch (c) {
			case 'n':
				o[n++] = '\n';
				break;
			case 't':
				o[n++] = '\t';
				break;
			case 'r':
				o[n++] = '\r';
				break;
			case 'a':
				o[n++] = '\a';
				break;
			case 'b':
				o[n++] = '\b';
				break;
			case 'f':
				o[n++] = '\f';
				break;
			case 'v':
				o[n++] = '\v';
				break;
			case 'x': {
				unsigned v = 0;
				int k = 0;
				while (k < 2 && r->i < r->n &&
				       strchr("0123456789abcdefABCDEF", r->s[r->i])) {
					char h = r->s[r->i++];
					v = v * 16 +
					    (unsigned)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
					k++;
				}
				o[n++] = (char)v;
				break;
			}
			case 'u':
			case 'U': {
				unsigned v = 0;
				int digits = c == 'u' ? 4 : 8;
				for (int k = 0; k < digits && r->i < r->n; k++) {
					char h = r->s[r->i++];
					v = v * 16 +
					    (unsigned)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
				}
				if (v < 0x80) {
					o[n++] = (char)v;
				} else if (v < 0x800) {
					o[n++] = (char)(0xC0 | v >> 6);
					o[n++] = (char)(0x80 | (v & 0x3F));
				} else if (v < 0x10000) {
					o[n++] = (char)(0xE0 | v >> 12);
					o[n++] = (char)(0x80 | ((v >> 6) & 0x3F));
					o[n++] = (char)(0x80 | (v & 0x3F));
				} else {
					o[n++] = (char)(0xF0 | v >> 18);
					o[n++] = (char)(0x80 | ((v >> 12) & 0x3F));
					o[n++] = (char)(0x80 | ((v >> 6) & 0x3F));
					o[n++] = (char)(0x80 | (v & 0x3F));
				}
				break;
			}
			default:
				if (c >= '0' && c <= '7') {
					unsigned v = (unsigned)(c - '0');
					for (int k = 0; k < 2 && r->i < r->n && r->s[r->i] >= '0' &&
					                r->s[r->i] <= '7';
					     k++)
						v = v * 8 + (unsigned)(r->s[r->i++] - '0');
					o[n++] = (char)v;
				} else {
					o[n++] = c; /* \\ \' \" */
				}
			}
		}
		if (r->i >= r->n) {
			r->bad = true;
			break;
		}
		r->i++;
		skip_ws(r);
	}
	o[n] = '\0';
	*len = n;
	return o;
}

static void read_fields(prd *r, pnode *p, char close);

static pnode *read_field(prd *r)
{
	pnode *f = calloc(1, sizeof(*f));
	size_t st = r->i;

	if (r->s[r->i] == '[') {
		while (r->i < r->n && r->s[r->i] != ']')
			r->i++;
		r->i++;
	} else {
		while (r->i < r->n && (r->s[r->i] == '_' || r->s[r->i] == '.' ||
		                       (r->s[r->i] >= 'a' && r->s[r->i] <= 'z') ||
		                       (r->s[r->i] >= 'A' && r->s[r->i] <= 'Z') ||
		                       (r->s[r->i] >= '0' && r->s[r->i] <= '9')))
			r->i++;
	}
	if (r->i == st) {
		r->bad = true;
		return f;
	}
	f->name = strndup(r->s + st, r->i - st);
	skip_ws(r);
	if (r->i < r->n && r->s[r->i] == ':') {
		r->i++;
		skip_ws(r);
	}
	if (r->i < r->n && (r->s[r->i] == '{' || r->s[r->i] == '<')) {
		char close = r->s[r->i] == '{' ? '}' : '>';
		r->i++;
		f->msg = true;
		read_fields(r, f, close);
		return f;
	}
	if (r->i < r->n && r->s[r->i] == '[') { /* a list of scalars or messages */
		r->i++;
		f->msg = true;
		skip_ws(r);
		while (r->i < r->n && r->s[r->i] != ']' && !r->bad) {
			pnode *k = calloc(1, sizeof(*k));
			k->name = strdup("");
			if (r->s[r->i] == '{') {
				r->i++;
				k->msg = true;
				read_fields(r, k, '}');
			} else if (r->s[r->i] == '"' || r->s[r->i] == '\'') {
				k->val = read_str(r, &k->val_len);
			} else {
				size_t s0 = r->i;
				while (r->i < r->n && !strchr(",] \n\t", r->s[r->i]))
					r->i++;
				k->val = strndup(r->s + s0, r->i - s0);
				k->val_len = r->i - s0;
			}
			add_kid(f, k);
			skip_ws(r);
		}
		r->i++;
		return f;
	}
	if (r->i < r->n && (r->s[r->i] == '"' || r->s[r->i] == '\'')) {
		f->val = read_str(r, &f->val_len);
		return f;
	}
	size_t s0 = r->i;
	while (r->i < r->n && !strchr(",;} \n\t\r#>", r->s[r->i]))
		r->i++;
	f->val = strndup(r->s + s0, r->i - s0);
	f->val_len = r->i - s0;
	if (f->val_len == 0)
		r->bad = true;
	return f;
}

static void read_fields(prd *r, pnode *p, char close)
{
	for (;;) {
		skip_ws(r);
		if (r->i >= r->n || r->bad) {
			if (close != 0)
				r->bad = true;
			return;
		}
		if (r->s[r->i] == close) {
			r->i++;
			return;
		}
		add_kid(p, read_field(r));
	}
}

static void pfree(pnode *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n_kids; i++)
		pfree(p->kids[i]);
	free(p->kids);
	free(p->name);
	free(p->val);
	free(p);
}

static pnode *kid(const pnode *p, const char *name)
{
	for (size_t i = 0; p != NULL && i < p->n_kids; i++)
		if (strcmp(p->kids[i]->name, name) == 0)
			return p->kids[i];
	return NULL;
}

static const char *sval(const pnode *p, const char *name)
{
	pnode *k = kid(p, name);
	return k != NULL && k->val != NULL ? k->val : NULL;
}

/* ---- expected values ------------------------------------------------------ */

/* Builds the value a cel.expr.Value message describes; false if outside the subset. */
static bool to_val(cel_ctx *ctx, const pnode *v, cel_val *out)
{
	memset(out, 0, sizeof(*out));
	if (v == NULL || v->n_kids != 1)
		return false;
	const pnode *k = v->kids[0];
	const char *s = k->val;
	if (strcmp(k->name, "null_value") == 0) {
		out->kind = CK_NULL;
	} else if (strcmp(k->name, "bool_value") == 0) {
		out->kind = CK_BOOL;
		out->v.b = strcmp(s, "true") == 0;
	} else if (strcmp(k->name, "int64_value") == 0) {
		out->kind = CK_INT;
		out->v.i = strtoll(s, NULL, 10);
	} else if (strcmp(k->name, "uint64_value") == 0) {
		out->kind = CK_UINT;
		out->v.u = strtoull(s, NULL, 10);
	} else if (strcmp(k->name, "double_value") == 0) {
		out->kind = CK_DOUBLE;
		out->v.f = strtod(s, NULL);
	} else if (strcmp(k->name, "string_value") == 0 || strcmp(k->name, "bytes_value") == 0 ||
	           strcmp(k->name, "type_value") == 0) {
		out->kind = k->name[0] == 's' ? CK_STRING : k->name[0] == 'b' ? CK_BYTES : CK_TYPE;
		out->v.s.p = mycel_arena_strdup(ctx->arena, s, k->val_len);
		out->v.s.n = k->val_len;
	} else if (strcmp(k->name, "list_value") == 0) {
		cel_val *items = mycel_arena_alloc(ctx->arena, (k->n_kids + 1) * sizeof(*items));
		out->kind = CK_LIST;
		for (size_t i = 0; i < k->n_kids; i++)
			if (!to_val(ctx, k->kids[i], &items[i]))
				return false;
		out->v.l.items = items;
		out->v.l.n = k->n_kids;
	} else if (strcmp(k->name, "map_value") == 0) {
		cel_entry *items = mycel_arena_alloc(ctx->arena, (k->n_kids + 1) * sizeof(*items));
		out->kind = CK_MAP;
		for (size_t i = 0; i < k->n_kids; i++) {
			if (!to_val(ctx, kid(k->kids[i], "key"), &items[i].key) ||
			    !to_val(ctx, kid(k->kids[i], "value"), &items[i].val))
				return false;
		}
		out->v.m.items = items;
		out->v.m.n = k->n_kids;
	} else {
		return false; /* object_value, enum_value */
	}
	return true;
}

/* ---- running -------------------------------------------------------------- */

typedef struct counts {
	int passed, skipped, failed, compile_rejected;
} counts;

static void report_skip(counts *c, const char *file, const char *sec, const char *name,
                        const char *why)
{
	c->skipped++;
	printf("SKIP %s/%s/%s: %s\n", file, sec, name, why);
}

static bool mentions(const char *expr, const char *what)
{
	return strstr(expr, what) != NULL;
}

/* A two-variable comprehension: all(k, v, p), existsOne, transformList, transformMap. */
static bool two_var(const char *expr)
{
	return strstr(expr, "existsOne(") != NULL || strstr(expr, "transformList(") != NULL ||
	       strstr(expr, "transformMap(") != NULL ||
	       strstr(expr, "transformMapEntry(") != NULL ||
	       ((strstr(expr, ".all(") != NULL || strstr(expr, ".exists(") != NULL ||
	         strstr(expr, ".exists_one(") != NULL) &&
	        strchr(strchr(expr, '(') + 1, ',') != NULL);
}

static void run_test(counts *c, const char *file, const char *sec, const pnode *t)
{
	const char *name = sval(t, "name") ? sval(t, "name") : "?";
	const char *expr = sval(t, "expr");
	const pnode *want_v = kid(t, "value"), *want_e = kid(t, "eval_error");
	char why[128];
	cel_ctx ctx;
	cel_binding binds[16];
	size_t n_binds = 0;
	mycel_cel *e = NULL;
	mycel_cel_err err;

	size_t expr_len = expr != NULL ? kid(t, "expr")->val_len : 0;
	if (expr == NULL)
		expr = "";
	if (sval(t, "check_only") != NULL && strcmp(sval(t, "check_only"), "true") == 0) {
		report_skip(c, file, sec, name, "check-only");
		return;
	}
	if (kid(t, "typed_result") != NULL) {
		report_skip(c, file, sec, name,
		            "check-only (typed_result: the type a checker deduces)");
		return;
	}
	if (kid(t, "unknown") != NULL || kid(t, "any_unknowns") != NULL) {
		report_skip(c, file, sec, name, "unknowns (partial evaluation)");
		return;
	}
	if (sval(t, "disable_macros") != NULL && strcmp(sval(t, "disable_macros"), "true") == 0) {
		report_skip(c, file, sec, name, "disable_macros");
		return;
	}
	if (sval(t, "container") != NULL && sval(t, "container")[0] != '\0') {
		report_skip(c, file, sec, name,
		            "protobuf messages (container names a proto package)");
		return;
	}
	if (mentions(expr, "TestAllTypes") || mentions(expr, "NestedTestAllTypes") ||
	    mentions(expr, "google.protobuf.") || mentions(expr, "cel.expr.")) {
		report_skip(c, file, sec, name,
		            "protobuf messages (message, wrapper or well-known type names)");
		return;
	}
	if (mycel__cel_ctx_init(&ctx, NULL, NULL, 0) != 0)
		abort();
	bool dotted = false;
	/* bindings */
	for (size_t i = 0; i < t->n_kids; i++) {
		const pnode *b = t->kids[i];
		if (strcmp(b->name, "bindings") != 0)
			continue;
		const char *key = sval(b, "key");
		const pnode *ev = kid(kid(b, "value"), "value");
		if (n_binds == 16 || key == NULL || !to_val(&ctx, ev, &binds[n_binds].val)) {
			report_skip(c, file, sec, name,
			            "protobuf messages (message-typed binding)");
			goto done;
		}
		binds[n_binds].name = key;
		dotted |= strchr(key, '.') != NULL;
		n_binds++;
	}
	cel_val want;
	if (want_v != NULL && !to_val(&ctx, want_v, &want)) {
		report_skip(c, file, sec, name, "protobuf messages (message or enum result)");
		goto done;
	}
	int rc = mycel_cel_compile(expr, expr_len, &e, &err);
	if (rc != 0) {
		if (two_var(expr)) {
			report_skip(c, file, sec, name,
			            "two-variable comprehension macros (an extension)");
			goto done;
		}
		if (want_e != NULL || kid(t, "any_eval_errors") != NULL) {
			c->passed++;
			c->compile_rejected++;
			printf("PASS %s/%s/%s (rejected at compile time: %s)\n", file, sec, name,
			       err.msg);
			goto done;
		}
		if (strstr(err.msg, "message construction") != NULL) {
			report_skip(c, file, sec, name, "protobuf messages (message construction)");
			goto done;
		}
		if (strstr(err.msg, "unknown function") != NULL) {
			snprintf(why, sizeof(why), "function outside the subset: %.80s",
			         err.msg + 17);
			report_skip(c, file, sec, name, why);
			goto done;
		}
		c->failed++;
		printf("FAIL %s/%s/%s: %s: compile error %u:%u %s\n", file, sec, name, expr,
		       err.line, err.col, err.msg);
		goto done;
	}
	ctx.binds = binds;
	ctx.n_binds = n_binds;
	ctx.has_dotted = dotted;
	cel_val got;
	mycel__cel_eval(e, &ctx, &got);
	if (got.kind == CK_ERR && strstr(got.v.s.p, "time zone") != NULL &&
	    strstr(got.v.s.p, "not supported") != NULL) {
		report_skip(c, file, sec, name, "IANA time zone (only UTC and fixed offsets)");
		goto done;
	}
	bool ok;
	if (want_v != NULL)
		ok = got.kind != CK_ERR && mycel__cel_identical(&ctx, &got, &want);
	else if (want_e != NULL || kid(t, "any_eval_errors") != NULL)
		ok = got.kind == CK_ERR;
	else /* no matcher: the result is true */
		ok = got.kind == CK_BOOL && got.v.b;
	if (ok) {
		c->passed++;
		goto done;
	}
	c->failed++;
	{
		mycel_buf b, wb;
		mycel_buf_init(&b, 4096);
		mycel_buf_init(&wb, 4096);
		if (got.kind == CK_ERR)
			mycel_buf_put(&b, got.v.s.p, got.v.s.n);
		else
			mycel__cel_render(&ctx, &got, &b);
		if (want_v != NULL)
			mycel__cel_render(&ctx, &want, &wb);
		else
			mycel_buf_put(&wb, "an error", 8);
		mycel_buf_put(&b, "", 1);
		mycel_buf_put(&wb, "", 1);
		printf("FAIL %s/%s/%s: %s: want %s, got %s\n", file, sec, name, expr,
		       wb.data ? (char *)wb.data : "?", b.data ? (char *)b.data : "?");
		mycel_buf_fini(&b);
		mycel_buf_fini(&wb);
	}
done:
	mycel_cel_free(e);
	mycel__cel_ctx_fini(&ctx);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	const char *corpus = getenv("MYCEL_CORPUS");
	char dir[4096];
	char *names[64];
	size_t n_names = 0;
	counts c = {0};
	DIR *d;
	struct dirent *de;

	if (corpus == NULL || corpus[0] == '\0')
		corpus = argc > 1 ? argv[1] : "../shared/corpus";
	snprintf(dir, sizeof(dir), "%s/cel-spec/testdata", corpus);
	d = opendir(dir);
	if (d == NULL) {
		printf("cel-conformance: %s is absent; skipped\n", dir);
		return 77;
	}
	while ((de = readdir(d)) != NULL && n_names < 64) {
		size_t l = strlen(de->d_name);
		if (l > 10 && strcmp(de->d_name + l - 10, ".textproto") == 0)
			names[n_names++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n_names, sizeof(names[0]), cmp_names);
	for (size_t f = 0; f < n_names; f++) {
		char path[8192];
		snprintf(path, sizeof(path), "%s/%s", dir, names[f]);
		FILE *fp = fopen(path, "rb");
		if (fp == NULL) {
			printf("FAIL cannot read %s\n", path);
			return 1;
		}
		fseek(fp, 0, SEEK_END);
		long sz = ftell(fp);
		fseek(fp, 0, SEEK_SET);
		char *text = malloc((size_t)sz + 1);
		if (text == NULL || fread(text, 1, (size_t)sz, fp) != (size_t)sz)
			abort();
		fclose(fp);
		prd r = {text, (size_t)sz, 0, 1, false};
		pnode *root = calloc(1, sizeof(*root));
		read_fields(&r, root, 0);
		if (r.bad) {
			printf("FAIL %s: cannot read the text format near line %d\n", names[f],
			       r.line);
			return 1;
		}
		char *base = strndup(names[f], strlen(names[f]) - 10);
		for (size_t i = 0; i < root->n_kids; i++) {
			const pnode *sec = root->kids[i];
			if (strcmp(sec->name, "section") != 0)
				continue;
			const char *sname = sval(sec, "name") ? sval(sec, "name") : "?";
			for (size_t j = 0; j < sec->n_kids; j++)
				if (strcmp(sec->kids[j]->name, "test") == 0)
					run_test(&c, base, sname, sec->kids[j]);
		}
		free(base);
		pfree(root);
		free(text);
		free(names[f]);
	}
	printf("%d passed (%d of them errors found at compile time), %d skipped, %d failed\n",
	       c.passed, c.compile_rejected, c.skipped, c.failed);
	return c.failed == 0 && c.passed > 0 ? 0 : 1;
}
