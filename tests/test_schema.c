/*
 * test_schema.c — JSON Schema draft 2019-09 (include/mycel/schema.h):
 *  1. the official JSON Schema Test Suite (required keyword files must pass
 *     entirely; the other draft2019-09 files are reported), with the suite's
 *     remotes added as resources under http://localhost:1234/;
 *  2. findings: pointers, line and column, sentences, for the main keywords,
 *     and the errors of mycel_schema_add/validate;
 *  3. the ODCS/ODPS corpus against EXPECTED.txt, and the time it takes to
 *     validate the largest contract.
 * Runs from the source root; the corpus is $MYCEL_CORPUS or ../shared/corpus.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <time.h>

#include "mycel/codec.h"
#include "mycel/diag.h"
#include "mycel/doc.h"
#include "mycel/error.h"
#include "mycel/schema.h"

#define ARENA_LIMIT ((size_t)1 << 30)
#define REMOTE_BASE "http://localhost:1234/"
#define MAX_REMOTES 128

/* snprintf that must not truncate. */
#define FMT(buf, n, ...) assert_true((size_t)snprintf((buf), (n), __VA_ARGS__) < (size_t)(n))

static const char *corpus(void)
{
	const char *c = getenv("MYCEL_CORPUS");
	return c != NULL && *c ? c : "../shared/corpus";
}

/* The corpus is beside the repository in CI; without it these tests are skipped, visibly. */
static bool have_corpus(void)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/EXPECTED.txt", corpus());
	if (access(p, R_OK) == 0)
		return true;
	printf("no corpus at %s (set MYCEL_CORPUS): skipped\n", corpus());
	return false;
}

/* Loads a YAML/JSON file into a (NULL when it does not parse). */
static mycel_value *load(mycel_arena *a, const char *path)
{
	mycel_value *v = NULL;
	mycel_diags d;
	mycel_diags_init(&d, 0);
	int rv = mycel_doc_load(path, NULL, a, &v, &d);
	if (rv != 0) {
		printf("  cannot load %s: %s", path, mycel_strerror(rv));
		if (d.len > 0)
			printf(" (%u:%u %s)", d.items[0].line, d.items[0].col, d.items[0].message);
		printf("\n");
		v = NULL;
	}
	mycel_diags_fini(&d);
	return v;
}

static mycel_value *parse(mycel_arena *a, const char *text)
{
	mycel_value *v = NULL;
	mycel_diags d;
	mycel_diags_init(&d, 0);
	int rv = mycel_doc_parse(text, strlen(text), NULL, a, &v, &d);
	if (rv != 0 && d.len > 0)
		printf("parse: %u:%u %s\n", d.items[0].line, d.items[0].col, d.items[0].message);
	mycel_diags_fini(&d);
	assert_int_equal(rv, 0);
	return v;
}

static const mycel_value *get_str(const mycel_value *m, const char *key)
{
	const mycel_value *v = mycel_value_get(m, key);
	return v != NULL && v->type == MYCEL_T_STR ? v : NULL;
}

/* ---- 1. the JSON Schema Test Suite ------------------------------------------ */

typedef struct remote {
	char uri[512];
	mycel_value *doc;
} remote;

static remote remotes[MAX_REMOTES];
static size_t nremotes;

/* Loads every file under dir as a remote served at REMOTE_BASE + rel. */
static void load_remotes(mycel_arena *a, const char *dir, const char *rel)
{
	char path[1024], sub[400];
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		FMT(path, sizeof(path), "%s/%s", dir, e->d_name);
		FMT(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		assert_int_equal(stat(path, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			load_remotes(a, path, sub);
			continue;
		}
		if (strlen(e->d_name) < 5 ||
		    strcmp(e->d_name + strlen(e->d_name) - 5, ".json") != 0)
			continue;
		assert_true(nremotes < MAX_REMOTES);
		remote *r = &remotes[nremotes];
		FMT(r->uri, sizeof(r->uri), "%s%s", REMOTE_BASE, sub);
		r->doc = load(a, path);
		assert_non_null(r->doc);
		nremotes++;
	}
	closedir(d);
}

/* True if the schema refers to the draft 2019-09 metaschema, which the corpus lacks. */
static bool needs_metaschema(const mycel_value *v)
{
	if (v->type == MYCEL_T_MAP) {
		for (size_t i = 0; i < v->v.m.len; i++) {
			const mycel_member *m = &v->v.m.items[i];
			if ((strcmp(m->key, "$ref") == 0 || strcmp(m->key, "$recursiveRef") == 0) &&
			    m->val.type == MYCEL_T_STR &&
			    strncmp(m->val.v.s.ptr, "https://json-schema.org/", 24) == 0)
				return true;
			if (needs_metaschema(&m->val))
				return true;
		}
	} else if (v->type == MYCEL_T_ARRAY) {
		for (size_t i = 0; i < v->v.a.len; i++)
			if (needs_metaschema(&v->v.a.items[i]))
				return true;
	}
	return false;
}

typedef struct counts {
	size_t passed, failed, skipped;
} counts;

static char **skipped_names;
static size_t nskipped_names;

static void note_skip(const char *file, const char *group, const char *test)
{
	char buf[1024];
	FMT(buf, sizeof(buf), "%s: %s / %s", file, group, test);
	char **p = realloc(skipped_names, (nskipped_names + 1) * sizeof(*p));
	assert_non_null(p);
	skipped_names = p;
	skipped_names[nskipped_names++] = strdup(buf);
}

/* Runs one test file of the suite; verbose prints every failure. */
static counts run_suite_file(mycel_arena *a, const char *dir, const char *name, bool verbose)
{
	char path[1024], why[512];
	counts k = {0};
	FMT(path, sizeof(path), "%s/%s", dir, name);
	const mycel_value *file = load(a, path);
	if (file == NULL || file->type != MYCEL_T_ARRAY) {
		k.failed = 1;
		return k;
	}
	for (size_t g = 0; g < file->v.a.len; g++) {
		const mycel_value *group = &file->v.a.items[g];
		const mycel_value *desc = get_str(group, "description");
		const mycel_value *schema = mycel_value_get(group, "schema");
		const mycel_value *tests = mycel_value_get(group, "tests");
		assert_non_null(desc);
		assert_non_null(schema);
		assert_non_null(tests);
		bool skip = needs_metaschema(schema);
		mycel_schema *s = NULL;
		char uri[256];
		int add_rv = 0;
		FMT(uri, sizeof(uri), "http://mycel.test/%s/%zu.json", name, g);
		if (!skip) {
			assert_int_equal(mycel_schema_new(&s), 0);
			for (size_t r = 0; r < nremotes && add_rv == 0; r++) {
				add_rv = mycel_schema_add(s, remotes[r].uri, remotes[r].doc, why,
				                          sizeof(why));
				if (add_rv != 0)
					printf("  remote %s: %s: %s\n", remotes[r].uri,
					       mycel_errname(add_rv), why);
			}
			if (add_rv == 0)
				add_rv = mycel_schema_add(s, uri, schema, why, sizeof(why));
		}
		for (size_t t = 0; t < tests->v.a.len; t++) {
			const mycel_value *test = &tests->v.a.items[t];
			const mycel_value *tdesc = get_str(test, "description");
			const mycel_value *data = mycel_value_get(test, "data");
			const mycel_value *want = mycel_value_get(test, "valid");
			assert_non_null(tdesc);
			assert_non_null(data);
			assert_true(want != NULL && want->type == MYCEL_T_BOOL);
			if (skip) {
				k.skipped++;
				note_skip(name, desc->v.s.ptr, tdesc->v.s.ptr);
				continue;
			}
			if (add_rv != 0) {
				k.failed++;
				if (verbose)
					printf("  FAIL %s: %s / %s: add: %s: %s\n", name,
					       desc->v.s.ptr, tdesc->v.s.ptr, mycel_errname(add_rv),
					       why);
				continue;
			}
			/* once quietly (first failure stops), once collecting findings */
			bool quick = !want->v.b, full = !want->v.b;
			mycel_diags d;
			mycel_diags_init(&d, 0);
			int rv =
			    mycel_schema_validate(s, uri, data, &quick, NULL, why, sizeof(why));
			if (rv == 0)
				rv = mycel_schema_validate(s, uri, data, &full, &d, why,
				                           sizeof(why));
			bool ok = rv == 0 && quick == want->v.b && full == want->v.b &&
			          (want->v.b ? d.len == 0 : d.len > 0);
			if (ok) {
				k.passed++;
			} else {
				k.failed++;
				if (verbose) {
					printf("  FAIL %s: %s / %s: ", name, desc->v.s.ptr,
					       tdesc->v.s.ptr);
					if (rv != 0)
						printf("%s: %s\n", mycel_errname(rv), why);
					else
						printf("want %s, got %s/%s with %zu findings\n",
						       want->v.b ? "valid" : "invalid",
						       quick ? "valid" : "invalid",
						       full ? "valid" : "invalid", d.len);
					for (size_t i = 0; i < d.len && i < 5; i++)
						printf("      %s: %s\n", d.items[i].pointer,
						       d.items[i].message);
				}
			}
			mycel_diags_fini(&d);
		}
		mycel_schema_free(s);
	}
	return k;
}

static const char *required_files[] = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "unevaluatedProperties",
    "enum",
    "const",
    "pattern",
    "items",
    "ref",
    "defs",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if-then-else",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
};

static bool is_required(const char *file)
{
	for (size_t i = 0; i < sizeof(required_files) / sizeof(required_files[0]); i++) {
		char name[128];
		FMT(name, sizeof(name), "%s.json", required_files[i]);
		if (strcmp(name, file) == 0)
			return true;
	}
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of the .json files in dir. */
static size_t list_json(const char *dir, char ***out)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0;
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0)
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		assert_non_null(names);
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	*out = names;
	return n;
}

static void test_suite(void **state)
{
	(void)state;
	if (!have_corpus())
		skip();
	char dir[1024], rdir[1024];
	mycel_arena *a;
	assert_int_equal(mycel_arena_new(ARENA_LIMIT, &a), 0);
	FMT(rdir, sizeof(rdir), "%s/json-schema-test-suite/remotes", corpus());
	nremotes = 0;
	load_remotes(a, rdir, "");

	FMT(dir, sizeof(dir), "%s/json-schema-test-suite/tests/draft2019-09", corpus());
	counts total = {0};
	printf("JSON Schema Test Suite, draft 2019-09 (required keywords):\n");
	for (size_t i = 0; i < sizeof(required_files) / sizeof(required_files[0]); i++) {
		char name[128];
		FMT(name, sizeof(name), "%s.json", required_files[i]);
		counts k = run_suite_file(a, dir, name, true);
		printf("%s: %zu passed, %zu failed, %zu skipped\n", required_files[i], k.passed,
		       k.failed, k.skipped);
		total.passed += k.passed;
		total.failed += k.failed;
		total.skipped += k.skipped;
	}
	printf("total: %zu passed, %zu failed, %zu skipped\n", total.passed, total.failed,
	       total.skipped);
	for (size_t i = 0; i < nskipped_names; i++)
		printf("  skipped (needs the draft 2019-09 metaschema, not in the corpus): %s\n",
		       skipped_names[i]);

	/* the other files, and optional/: reported, not required */
	char **names;
	size_t n = list_json(dir, &names);
	counts other = {0};
	printf("Other draft2019-09 files (report only):\n");
	for (size_t i = 0; i < n; i++) {
		if (!is_required(names[i])) {
			counts k = run_suite_file(a, dir, names[i],
			                          getenv("MYCEL_SCHEMA_VERBOSE") != NULL);
			printf("  %s: %zu passed, %zu failed, %zu skipped\n", names[i], k.passed,
			       k.failed, k.skipped);
			other.passed += k.passed;
			other.failed += k.failed;
			other.skipped += k.skipped;
		}
		free(names[i]);
	}
	free(names);
	strcat(dir, "/optional");
	n = list_json(dir, &names);
	for (size_t i = 0; i < n; i++) {
		counts k = run_suite_file(a, dir, names[i], getenv("MYCEL_SCHEMA_VERBOSE") != NULL);
		printf("  optional/%s: %zu passed, %zu failed, %zu skipped\n", names[i], k.passed,
		       k.failed, k.skipped);
		other.passed += k.passed;
		other.failed += k.failed;
		other.skipped += k.skipped;
		free(names[i]);
	}
	free(names);
	printf("  other total: %zu passed, %zu failed, %zu skipped\n", other.passed, other.failed,
	       other.skipped);

	for (size_t i = 0; i < nskipped_names; i++)
		free(skipped_names[i]);
	free(skipped_names);
	skipped_names = NULL;
	nskipped_names = 0;
	mycel_arena_free(a);
	assert_int_equal(total.failed, 0);
}

/* ---- 2. findings ------------------------------------------------------------- */

typedef struct fixture {
	mycel_arena *a;
	mycel_schema *s;
	mycel_diags d;
	bool valid;
	char why[512];
} fixture;

static int fx_setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	if (f == NULL || mycel_arena_new(64 << 20, &f->a) != 0 || mycel_schema_new(&f->s) != 0)
		return -1;
	mycel_diags_init(&f->d, 0);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	fixture *f = *state;
	mycel_diags_fini(&f->d);
	mycel_schema_free(f->s);
	mycel_arena_free(f->a);
	free(f);
	return 0;
}

static void add_schema(fixture *f, const char *uri, const char *yaml)
{
	int rv = mycel_schema_add(f->s, uri, parse(f->a, yaml), f->why, sizeof(f->why));
	if (rv != 0)
		printf("add: %s: %s\n", mycel_errname(rv), f->why);
	assert_int_equal(rv, 0);
}

/* Validates yaml against uri, collecting findings into f->d. */
static int check(fixture *f, const char *uri, const char *yaml)
{
	mycel_diags_clear(&f->d);
	f->valid = false;
	int rv = mycel_schema_validate(f->s, uri, parse(f->a, yaml), &f->valid, &f->d, f->why,
	                               sizeof(f->why));
	if (rv == 0) {
		bool quick = !f->valid;
		assert_int_equal(mycel_schema_validate(f->s, uri, parse(f->a, yaml), &quick, NULL,
		                                       f->why, sizeof(f->why)),
		                 0);
		assert_int_equal(quick, f->valid);
		assert_int_equal(f->valid, f->d.len == 0);
	}
	return rv;
}

static void dump(const fixture *f)
{
	for (size_t i = 0; i < f->d.len; i++)
		printf("    %u:%u %s: %s\n", f->d.items[i].line, f->d.items[i].col,
		       f->d.items[i].pointer, f->d.items[i].message);
}

/* Asserts a finding with exactly this place and message exists. */
static void expect(const fixture *f, uint32_t line, uint32_t col, const char *ptr, const char *msg)
{
	for (size_t i = 0; i < f->d.len; i++) {
		const mycel_finding *x = &f->d.items[i];
		if (x->line == line && x->col == col && strcmp(x->pointer, ptr) == 0 &&
		    strcmp(x->message, msg) == 0)
			return;
	}
	printf("missing finding %u:%u %s: %s; have:\n", line, col, ptr, msg);
	dump(f);
	fail();
}

static const char *const MAIN_SCHEMA =
    "type: object\n"
    "required: [name, logicalType]\n"
    "properties:\n"
    "  name: {type: string, pattern: '^[a-z]+$', minLength: 2, maxLength: 8}\n"
    "  logicalType:\n"
    "    enum: [string, date, timestamp, time, number, integer, object, array, boolean, map,\n"
    "           binary, decimal]\n"
    "  count: {type: integer, minimum: 0, exclusiveMaximum: 100, multipleOf: 2}\n"
    "  ratio: {type: [number, 'null'], maximum: 1}\n"
    "  tags: {type: array, items: {type: string}, uniqueItems: true, maxItems: 3}\n"
    "  kind: {const: DataContract}\n"
    "  meta: {type: object, minProperties: 1, dependentRequired: {a: [b]}}\n"
    "additionalProperties: false\n";

static void test_findings_main(void **state)
{
	fixture *f = *state;
	add_schema(f, "urn:t", MAIN_SCHEMA);

	assert_int_equal(check(f, "urn:t", "name: abc\nlogicalType: date\n"), 0);
	assert_true(f->valid);

	assert_int_equal(check(f, "urn:t",
	                       "name: Abc\n"
	                       "logicalType: strng\n"
	                       "count: 7\n"
	                       "ratio: 1.5\n"
	                       "tags: [a, 1, a, b]\n"
	                       "kind: DataModel\n"
	                       "meta: {a: 1}\n"
	                       "extra: {x: 1}\n"),
	                 0);
	assert_false(f->valid);
	expect(f, 1, 7, "/name", "must match pattern \"^[a-z]+$\"");
	expect(f, 2, 14, "/logicalType",
	       "\"strng\" is not one of \"string\", \"date\", \"timestamp\", \"time\", \"number\", "
	       "\"integer\", \"object\", \"array\", \"boolean\", \"map\", ... (12 values)");
	expect(f, 3, 8, "/count", "7 is not a multiple of 2");
	expect(f, 4, 8, "/ratio", "must be <= 1, got 1.5");
	expect(f, 5, 11, "/tags/1", "expected string, got integer");
	expect(f, 5, 7, "/tags", "items 0 and 2 are equal, items must be unique");
	expect(f, 5, 7, "/tags", "must have at most 3 items, got 4");
	expect(f, 6, 7, "/kind", "must be \"DataContract\", got \"DataModel\"");
	expect(f, 7, 7, "/meta", "property \"a\" requires property \"b\"");
	expect(f, 8, 8, "/extra", "property \"extra\" is not allowed");
	assert_int_equal(f->d.len, 10);

	assert_int_equal(check(f, "urn:t", "logicalType: date\ncount: -2\nratio: x\nname: a\n"), 0);
	expect(f, 2, 8, "/count", "must be >= 0, got -2");
	expect(f, 3, 8, "/ratio", "expected number or null, got string");
	expect(f, 4, 7, "/name", "must be at least 2 characters long, got 1");
	assert_int_equal(f->d.len, 3);
	assert_int_equal(check(f, "urn:t", "logicalType: date\n"), 0);
	expect(f, 1, 1, "", "missing required property \"name\"");
	assert_int_equal(f->d.len, 1);

	assert_int_equal(check(f, "urn:t", "[1, 2]\n"), 0);
	expect(f, 1, 1, "", "expected object, got array");
	assert_int_equal(check(f, "urn:t", "name: abc\nlogicalType: date\ncount: 100\nmeta: {}\n"),
	                 0);
	expect(f, 3, 8, "/count", "must be < 100, got 100");
	expect(f, 4, 7, "/meta", "must have at least 1 property, got 0");
	/* code points, not bytes */
	assert_int_equal(check(f, "urn:t", "name: \"\\u00e9\\u00e9\"\nlogicalType: map\n"), 0);
	expect(f, 1, 7, "/name", "must match pattern \"^[a-z]+$\"");
	assert_int_equal(f->d.len, 1);
	assert_int_equal(check(f, "urn:t",
	                       "name: "
	                       "\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\""
	                       "\nlogicalType: map\n"),
	                 0);
	expect(f, 1, 7, "/name", "must be at most 8 characters long, got 9");
}

static void test_findings_pointer_escapes(void **state)
{
	fixture *f = *state;
	add_schema(f, "urn:t",
	           "type: object\n"
	           "additionalProperties: {type: integer}\n"
	           "properties:\n"
	           "  list: {type: array, items: [{type: string}], additionalItems: false}\n");
	assert_int_equal(check(f, "urn:t", "a/b: x\nc~d: 1\nlist: [a, b, c]\n"), 0);
	expect(f, 1, 6, "/a~1b", "expected integer, got string");
	expect(f, 3, 11, "/list/1", "item 1 is not allowed (at most 1 item)");
	expect(f, 3, 14, "/list/2", "item 2 is not allowed (at most 1 item)");
	assert_int_equal(f->d.len, 3);
}

static void test_findings_unevaluated(void **state)
{
	fixture *f = *state;
	add_schema(f, "urn:u",
	           "allOf:\n"
	           "  - properties: {a: {type: string}}\n"
	           "  - anyOf:\n"
	           "      - properties: {b: {type: integer}}\n"
	           "        required: [b]\n"
	           "      - properties: {c: true}\n"
	           "        required: [c]\n"
	           "if: {required: [d]}\n"
	           "then: {properties: {e: true}}\n"
	           "else: {properties: {f: true}}\n"
	           "unevaluatedProperties: false\n");
	assert_int_equal(check(f, "urn:u", "a: x\nb: 1\nd: 1\ne: 2\n"), 0);
	expect(f, 3, 4, "/d",
	       "property \"d\" is not allowed"); /* "if" passed, but d is not evaluated */
	assert_int_equal(f->d.len, 1);
	assert_int_equal(check(f, "urn:u", "a: x\nc: 1\nf: 1\n"), 0);
	assert_true(f->valid);
	assert_int_equal(check(f, "urn:u", "a: x\nb: 1\ne: 1\nc: 2\n"), 0);
	expect(f, 3, 4, "/e", "property \"e\" is not allowed");
	assert_int_equal(f->d.len, 1);
	/* a failed branch contributes nothing: b fails its type, so only c's branch counts */
	assert_int_equal(check(f, "urn:u", "b: x\nc: 1\n"), 0);
	expect(f, 1, 4, "/b", "property \"b\" is not allowed");
	assert_int_equal(f->d.len, 1);

	add_schema(f, "urn:ui",
	           "items: [{type: integer}]\n"
	           "allOf: [{additionalItems: {type: integer}}]\n"
	           "unevaluatedItems: false\n");
	assert_int_equal(check(f, "urn:ui", "[1, 2]\n"), 0);
	expect(f, 1, 5, "/1", "item 1 is not allowed");
	assert_int_equal(f->d.len, 1);
	/* items that match "contains" are evaluated (as Python jsonschema has it) */
	add_schema(f, "urn:uc", "contains: {type: string}\nunevaluatedItems: {type: integer}\n");
	assert_int_equal(check(f, "urn:uc", "[a, 1, b]\n"), 0);
	assert_true(f->valid);
	assert_int_equal(check(f, "urn:uc", "[a, 1, true]\n"), 0);
	expect(f, 1, 8, "/2", "expected integer, got boolean");
	assert_int_equal(f->d.len, 1);
}

static void test_findings_combinators(void **state)
{
	fixture *f = *state;
	add_schema(f, "urn:c",
	           "properties:\n"
	           "  any:\n"
	           "    anyOf:\n"
	           "      - {type: string}\n"
	           "      - {type: object, required: [id], properties: {id: {type: integer}}}\n"
	           "  one:\n"
	           "    oneOf: [{type: integer}, {minimum: 2}, {type: string}]\n"
	           "  no:\n"
	           "    not: {type: string, minLength: 1}\n");
	assert_int_equal(check(f, "urn:c", "any: 1\none: 1.5\nno: abc\n"), 0);
	expect(f, 1, 6, "/any", "does not match any of the 2 alternatives");
	expect(f, 2, 6, "/one", "does not match any of the 3 alternatives");
	/* only {minimum: 2} accepts the shape of 1.5: its finding explains the failure */
	expect(f, 2, 6, "/one", "must be >= 2, got 1.5");
	expect(f, 3, 5, "/no", "must not match the schema in \"not\"");
	assert_int_equal(f->d.len, 4);
	/* the one alternative with the right shape explains itself */
	assert_int_equal(check(f, "urn:c", "any: {id: x}\n"), 0);
	expect(f, 1, 6, "/any", "does not match any of the 2 alternatives");
	expect(f, 1, 11, "/any/id", "expected integer, got string");
	assert_int_equal(f->d.len, 2);
	assert_int_equal(check(f, "urn:c", "one: 3\n"), 0);
	expect(f, 1, 6, "/one", "matches 2 of the alternatives, exactly one is required");
	assert_int_equal(f->d.len, 1);
}

static void test_findings_if_then_chain(void **state)
{
	fixture *f = *state;
	/* the shape of the ODCS schemas: if/then on a discriminator, all findings surface */
	add_schema(f, "urn:odcs",
	           "type: object\n"
	           "properties:\n"
	           "  properties:\n"
	           "    type: array\n"
	           "    items: {$ref: '#/$defs/Property'}\n"
	           "$defs:\n"
	           "  Property:\n"
	           "    type: object\n"
	           "    required: [name]\n"
	           "    properties:\n"
	           "      name: {type: string}\n"
	           "      logicalType: {type: string, enum: [string, integer]}\n"
	           "    allOf:\n"
	           "      - if: {properties: {logicalType: {const: string}}}\n"
	           "        then:\n"
	           "          properties:\n"
	           "            logicalTypeOptions:\n"
	           "              properties: {maxLength: {type: integer, minimum: 1}}\n"
	           "              additionalProperties: false\n"
	           "      - if: {properties: {logicalType: {const: integer}}}\n"
	           "        then:\n"
	           "          properties:\n"
	           "            logicalTypeOptions:\n"
	           "              properties: {maximum: {type: integer}}\n"
	           "              additionalProperties: false\n"
	           "    unevaluatedProperties: false\n");
	assert_int_equal(check(f, "urn:odcs",
	                       "properties:\n"
	                       "  - name: a\n"
	                       "    logicalType: string\n"
	                       "    logicalTypeOptions: {maxLength: 0, maximum: 3}\n"
	                       "  - logicalType: integer\n"
	                       "    logicalTypeOptions: {maximum: x}\n"
	                       "    colour: red\n"),
	                 0);
	expect(f, 4, 37, "/properties/0/logicalTypeOptions/maxLength", "must be >= 1, got 0");
	expect(f, 4, 49, "/properties/0/logicalTypeOptions/maximum",
	       "property \"maximum\" is not allowed");
	expect(f, 5, 5, "/properties/1", "missing required property \"name\"");
	expect(f, 6, 35, "/properties/1/logicalTypeOptions/maximum",
	       "expected integer, got string");
	expect(f, 7, 13, "/properties/1/colour", "property \"colour\" is not allowed");
	assert_int_equal(f->d.len, 5);
}

static void test_numbers_and_equality(void **state)
{
	fixture *f = *state;
	add_schema(f, "urn:n",
	           "properties:\n"
	           "  big: {maximum: 18446744073709551615}\n"
	           "  f: {minimum: 9007199254740993}\n"
	           "  neg: {exclusiveMinimum: -9223372036854775808}\n"
	           "  int: {type: integer}\n"
	           "  e: {enum: [1, {a: 1, b: [1, 2.0]}]}\n"
	           "  c: {const: {x: 1.0, y: null}}\n"
	           "  u: {uniqueItems: true}\n"
	           "  fmt: {format: email}\n");
	assert_int_equal(check(f, "urn:n", "big: 18446744073709551615\nint: 3.0\n"), 0);
	assert_true(f->valid);
	assert_int_equal(check(f, "urn:n", "big: 1.8446744073709552e19\n"), 0);
	expect(f, 1, 6, "/big", "must be <= 18446744073709551615, got 1.8446744073709552e+19");
	/* 2^53 + 1 is not representable as a double: 9007199254740992.0 is below it */
	assert_int_equal(check(f, "urn:n", "f: 9007199254740992.0\n"), 0);
	assert_false(f->valid);
	assert_int_equal(check(f, "urn:n", "f: 9007199254740994.0\n"), 0);
	assert_true(f->valid);
	assert_int_equal(check(f, "urn:n", "neg: -9223372036854775808\n"), 0);
	assert_false(f->valid);
	assert_int_equal(check(f, "urn:n", "neg: -9223372036854775807\n"), 0);
	assert_true(f->valid);
	assert_int_equal(check(f, "urn:n", "int: 3.5\n"), 0);
	expect(f, 1, 6, "/int", "expected integer, got number");
	assert_int_equal(check(f, "urn:n", "e: {b: [1.0, 2], a: 1.0}\nc: {y: null, x: 1}\n"), 0);
	assert_true(f->valid);
	assert_int_equal(check(f, "urn:n", "e: 1.0\n"), 0);
	assert_true(f->valid);
	assert_int_equal(check(f, "urn:n", "c: {x: 1, y: null, z: 1}\n"), 0);
	assert_false(f->valid);
	assert_int_equal(check(f, "urn:n", "u: [{a: 1, b: 2}, {b: 2, a: 1.0}]\n"), 0);
	expect(f, 1, 4, "/u", "items 0 and 1 are equal, items must be unique");
	assert_int_equal(check(f, "urn:n", "fmt: not an email\n"), 0);
	assert_true(f->valid);

	/* uniqueItems over many items goes through hashing */
	char buf[8192];
	strcpy(buf, "u: [");
	for (int i = 0; i < 500; i++)
		sprintf(buf + strlen(buf), "%s{k: %d}", i ? ", " : "", i);
	strcat(buf, ", {k: 250.0}]\n");
	assert_int_equal(check(f, "urn:n", buf), 0);
	expect(f, 1, 4, "/u", "items 250 and 500 are equal, items must be unique");
}

static void test_refs_and_errors(void **state)
{
	fixture *f = *state;
	/* $id, relative refs, anchors, pointer escapes, refs between resources */
	add_schema(f, "http://example.com/root.json",
	           "$id: http://example.com/schemas/main.json\n"
	           "properties:\n"
	           "  a: {$ref: 'other.json#/$defs/x~1y'}\n"
	           "  b: {$ref: '#item'}\n"
	           "  c: {$ref: '#/$defs/pct%25'}\n"
	           "  d: {$ref: 'http://example.com/root.json#/$defs/pct%25'}\n"
	           "$defs:\n"
	           "  it: {$anchor: item, type: integer}\n"
	           "  pct%: {type: boolean}\n");
	add_schema(f, "http://example.com/schemas/other.json", "$defs: {x/y: {type: string}}\n");
	assert_int_equal(
	    check(f, "http://example.com/schemas/main.json", "a: s\nb: 1\nc: true\nd: false\n"), 0);
	assert_true(f->valid);
	assert_int_equal(check(f, "http://example.com/root.json", "a: 1\nb: s\nc: 1\n"), 0);
	expect(f, 1, 4, "/a", "expected string, got integer");
	expect(f, 2, 4, "/b", "expected integer, got string");
	expect(f, 3, 4, "/c", "expected boolean, got integer");
	/* validation may start at a fragment */
	assert_int_equal(check(f, "http://example.com/schemas/main.json#/$defs/it", "x\n"), 0);
	expect(f, 1, 1, "", "expected integer, got string");

	/* unknown URIs, unresolvable refs, ref loops, bad patterns and bad schemas */
	assert_int_equal(check(f, "http://example.com/nothing.json", "1\n"), MYCEL_ENOTFOUND);
	add_schema(f, "urn:dangling", "properties: {a: {$ref: 'urn:missing#/x'}}\n");
	assert_int_equal(check(f, "urn:dangling", "b: 1\n"), 0);
	assert_true(f->valid);
	assert_int_equal(check(f, "urn:dangling", "a: 1\n"), MYCEL_ENOTFOUND);
	assert_non_null(strstr(f->why, "urn:missing#/x"));
	add_schema(f, "urn:loop",
	           "$defs: {a: {$ref: '#/$defs/b'}, b: {$ref: '#/$defs/a'}}\n$ref: '#/$defs/a'\n");
	assert_int_equal(check(f, "urn:loop", "1\n"), MYCEL_ETOOBIG);
	add_schema(f, "urn:self", "{$ref: '#'}\n");
	assert_int_equal(check(f, "urn:self", "1\n"), MYCEL_ETOOBIG);

	int rv = mycel_schema_add(f->s, "urn:bad",
	                          parse(f->a, "properties:\n  x: {pattern: '(unclosed'}\n"), f->why,
	                          sizeof(f->why));
	assert_int_equal(rv, MYCEL_EINVAL);
	assert_non_null(strstr(f->why, "/properties/x/pattern"));
	rv = mycel_schema_add(f->s, "urn:bad2", parse(f->a, "patternProperties: {'[a-': true}\n"),
	                      f->why, sizeof(f->why));
	assert_int_equal(rv, MYCEL_EINVAL);
	assert_non_null(strstr(f->why, "/patternProperties/[a-"));
	rv =
	    mycel_schema_add(f->s, "urn:bad3", parse(f->a, "items: [1]\n"), f->why, sizeof(f->why));
	assert_int_equal(rv, MYCEL_EINVAL);
	assert_non_null(strstr(f->why, "/items/0"));
	rv = mycel_schema_add(f->s, "urn:bad4", parse(f->a, "type: strin\n"), f->why,
	                      sizeof(f->why));
	assert_int_equal(rv, MYCEL_EINVAL);
	/* a failed add leaves nothing behind */
	assert_int_equal(check(f, "urn:bad", "1\n"), MYCEL_ENOTFOUND);
	/* the same $id for two different schemas is refused */
	rv = mycel_schema_add(f->s, "urn:dup",
	                      parse(f->a, "$id: http://example.com/schemas/other.json\n"), f->why,
	                      sizeof(f->why));
	assert_int_equal(rv, MYCEL_EINVAL);
	/* catastrophic backtracking stops at the match limit */
	add_schema(f, "urn:redos", "pattern: '^(a+)+$'\n");
	char buf[256];
	strcpy(buf, "\"");
	for (int i = 0; i < 60; i++)
		strcat(buf, "a");
	strcat(buf, "!\"\n");
	assert_int_equal(check(f, "urn:redos", buf), MYCEL_ETOOBIG);
	/* a recursive schema over a deep instance is fine */
	add_schema(f, "urn:tree",
	           "$recursiveAnchor: true\ntype: object\n"
	           "properties: {kids: {type: array, items: {$recursiveRef: '#'}}}\n");
	assert_int_equal(check(f, "urn:tree", "kids: [{kids: [{kids: []}, {kids: [{}]}]}]\n"), 0);
	assert_true(f->valid);
	assert_int_equal(check(f, "urn:tree", "kids: [{kids: [{kids: 1}]}]\n"), 0);
	expect(f, 1, 23, "/kids/0/kids/0/kids", "expected array, got integer");
}

/* ---- 3. the ODCS/ODPS corpus ------------------------------------------------- */

typedef struct corpus_schemas {
	mycel_schema *s;
	mycel_arena *a;
	char added[16][128];
	size_t nadded;
} corpus_schemas;

/* The URI of the schema for doc's kind and apiVersion, added on first use; NULL if none. */
static const char *schema_for(corpus_schemas *cs, const mycel_value *doc, char *uri, size_t n)
{
	const mycel_value *kind = get_str(doc, "kind"), *ver = get_str(doc, "apiVersion");
	const char *std;
	char path[1024], why[512];
	if (kind == NULL || ver == NULL || strchr(ver->v.s.ptr, '/') != NULL)
		return NULL;
	if (strcmp(kind->v.s.ptr, "DataContract") == 0)
		std = "odcs";
	else if (strcmp(kind->v.s.ptr, "DataProduct") == 0)
		std = "odps";
	else
		return NULL;
	FMT(path, sizeof(path), "%s/%s/schema/%s-json-schema-%s.json", corpus(), std, std,
	    ver->v.s.ptr);
	FMT(uri, n, "file:///corpus/%s-json-schema-%s.json", std, ver->v.s.ptr);
	for (size_t i = 0; i < cs->nadded; i++)
		if (strcmp(cs->added[i], uri) == 0)
			return uri;
	FILE *fp = fopen(path, "rb");
	if (fp == NULL)
		return NULL;
	fclose(fp);
	mycel_value *sch = load(cs->a, path);
	assert_non_null(sch);
	int rv = mycel_schema_add(cs->s, uri, sch, why, sizeof(why));
	if (rv != 0)
		printf("add %s: %s: %s\n", path, mycel_errname(rv), why);
	assert_int_equal(rv, 0);
	assert_true(cs->nadded < 16);
	FMT(cs->added[cs->nadded], sizeof(cs->added[0]), "%s", uri);
	cs->nadded++;
	return uri;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

typedef struct worker {
	const mycel_schema *s;
	const char *uri;
	const mycel_value *doc;
	size_t findings; /* per run, the same every time, or SIZE_MAX */
	bool valid;
} worker;

static void *validate_often(void *arg)
{
	worker *w = arg;
	char why[256];
	for (int i = 0; i < 20; i++) {
		mycel_diags d;
		bool ok = false;
		mycel_diags_init(&d, 0);
		if (mycel_schema_validate(w->s, w->uri, w->doc, &ok, &d, why, sizeof(why)) != 0 ||
		    (i > 0 && (ok != w->valid || d.len != w->findings))) {
			w->findings = SIZE_MAX;
		} else if (i == 0) {
			w->findings = d.len;
			w->valid = ok;
		}
		mycel_diags_fini(&d);
		if (w->findings == SIZE_MAX)
			break;
	}
	return NULL;
}

/* A schema set is read-only once built: several threads validate with it at once. */
static void validate_in_threads(const mycel_schema *s, const char *uri, const mycel_value *doc)
{
	pthread_t t[4];
	worker w[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (worker){s, uri, doc, 0, false};
		assert_int_equal(pthread_create(&t[i], NULL, validate_often, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_true(w[i].findings != SIZE_MAX);
		assert_int_equal(w[i].findings, w[0].findings);
		assert_int_equal(w[i].valid, w[0].valid);
	}
}

static void test_corpus(void **state)
{
	(void)state;
	if (!have_corpus())
		skip();
	corpus_schemas cs = {0};
	char path[1024], line[1024], uri[256], why[512];
	assert_int_equal(mycel_schema_new(&cs.s), 0);
	assert_int_equal(mycel_arena_new(ARENA_LIMIT, &cs.a), 0);
	FMT(path, sizeof(path), "%s/EXPECTED.txt", corpus());
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	size_t agree = 0, disagree = 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char verdict[32], rel[900];
		if (sscanf(line, "%31s %899s", verdict, rel) != 2)
			continue;
		bool want = strcmp(verdict, "valid") == 0;
		FMT(path, sizeof(path), "%s/%s", corpus(), rel);
		const mycel_value *doc = load(cs.a, path);
		bool got = false;
		mycel_diags d;
		mycel_diags_init(&d, 0);
		const char *u = doc ? schema_for(&cs, doc, uri, sizeof(uri)) : NULL;
		if (u != NULL) {
			int rv = mycel_schema_validate(cs.s, u, doc, &got, &d, why, sizeof(why));
			if (rv != 0)
				printf("  %s: %s: %s\n", rel, mycel_errname(rv), why);
			assert_int_equal(rv, 0);
			assert_int_equal(got, d.len == 0);
		}
		if (got == want) {
			agree++;
		} else {
			disagree++;
			printf("  DISAGREE %s: expected %s, got %s\n", rel, verdict,
			       got ? "valid" : "invalid");
			for (size_t i = 0; i < d.len; i++)
				printf("    %s:%u:%u: %s: %s\n", rel, d.items[i].line,
				       d.items[i].col, d.items[i].pointer, d.items[i].message);
		}
		if (getenv("MYCEL_SCHEMA_VERBOSE") != NULL)
			for (size_t i = 0; i < d.len; i++)
				printf("    %s:%u:%u: %s: %s\n", rel, d.items[i].line,
				       d.items[i].col, d.items[i].pointer, d.items[i].message);
		mycel_diags_fini(&d);
	}
	fclose(fp);
	printf("ODCS/ODPS corpus: %zu agree with EXPECTED.txt, %zu disagree\n", agree, disagree);

	/* timing: the largest contract */
	FMT(path, sizeof(path),
	    "%s/odcs/examples/v32-all-postgresql-adventureworks-contract.odcs.yaml", corpus());
	const mycel_value *doc = load(cs.a, path);
	assert_non_null(doc);
	const char *u = schema_for(&cs, doc, uri, sizeof(uri));
	assert_non_null(u);
	double best = 1e9, best_d = 1e9, sum = 0;
	const int rounds = 50;
	for (int i = 0; i < rounds; i++) {
		bool ok = false;
		mycel_diags d;
		mycel_diags_init(&d, 0);
		double t0 = now_ms();
		assert_int_equal(mycel_schema_validate(cs.s, u, doc, &ok, NULL, why, sizeof(why)),
		                 0);
		double t1 = now_ms();
		assert_int_equal(mycel_schema_validate(cs.s, u, doc, &ok, &d, why, sizeof(why)), 0);
		double t2 = now_ms();
		assert_true(ok);
		best = t1 - t0 < best ? t1 - t0 : best;
		best_d = t2 - t1 < best_d ? t2 - t1 : best_d;
		sum += t1 - t0;
		mycel_diags_fini(&d);
	}
	printf("AdventureWorks v3.2 contract: validation %.3f ms (best of %d; mean %.3f ms), "
	       "%.3f ms collecting findings\n",
	       best, rounds, sum / rounds, best_d);

	validate_in_threads(cs.s, u, doc);
	FMT(path, sizeof(path), "%s/odcs/examples/v32-data-types-all-data-types.odcs.yaml",
	    corpus());
	doc = load(cs.a, path);
	assert_non_null(doc);
	validate_in_threads(cs.s, schema_for(&cs, doc, uri, sizeof(uri)), doc);

	mycel_schema_free(cs.s);
	mycel_arena_free(cs.a);
	assert_int_equal(disagree, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_findings_main, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_findings_pointer_escapes, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_findings_unevaluated, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_findings_combinators, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_findings_if_then_chain, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_numbers_and_equality, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_refs_and_errors, fx_setup, fx_teardown),
	    cmocka_unit_test(test_suite),
	    cmocka_unit_test(test_corpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
