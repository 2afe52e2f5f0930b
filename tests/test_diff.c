/*
 * tests/test_diff.c — contract evolution (mycel/diff.h): every rule on a minimal pair of
 * documents, both ways; the compatibility modes; the semver rule; the publishing check
 * against a store whose charter sets params.compatibility; and, with `--corpus`, the
 * official ODCS examples of v3.1 against their v3.2 editions (exit 77, skipped, when the
 * corpus at $MYCEL_CORPUS or ../shared/corpus is absent).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common.h"
#include "mycel/catalog.h"
#include "mycel/charter.h"
#include "mycel/diff.h"
#include "mycel/doc.h"
#include "mycel/error.h"
#include "mycel/lint.h"
#include "mycel/publish.h"

#define ARENA_LIMIT ((size_t)64 << 20)

/* A contract: the fixed head (id c), then version and body (YAML text, top-level keys). */
static mycel_value *doc(mycel_arena *a, const char *version, const char *body)
{
	char text[8192];
	mycel_diags d;
	mycel_value *v = NULL;
	int n = snprintf(text, sizeof(text),
			 "apiVersion: v3.1.0\nkind: DataContract\nid: c\nversion: %s\nstatus: active\n%s",
			 version, body);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	mycel_diags_init(&d, 0);
	int rv = mycel_doc_parse(text, (size_t)n, NULL, a, &v, &d);
	if (rv != 0)
		fail_msg("test document does not parse: %s\n%s", d.len ? d.items[0].message : "", text);
	mycel_diags_fini(&d);
	return v;
}

/* The schema body with table t holding property a and then the lines of `more`. */
#define T(more)                                                                                \
	"schema:\n  - name: t\n    properties:\n      - name: a\n        logicalType: string\n" more

/* One rule on a pair, both ways. */
typedef struct rule_case {
	const char *old_body, *new_body;
	const char *rule;        /* the single change OLD -> NEW */
	unsigned breaks;
	const char *ptr;         /* its pointer (NEW's, or OLD's for a removal) */
	const char *back_rule;   /* the single change NEW -> OLD (NULL: same rule) */
	unsigned back_breaks;
} rule_case;

#define BK MYCEL_BREAKS_BACKWARD
#define FW MYCEL_BREAKS_FORWARD

static const rule_case cases[] = {
	{T("      - name: b\n        logicalType: integer\n"), T(""), "property-removed", BK | FW,
	 "/schema/0/properties/1", "property-added", FW},
	{T(""), T("      - name: b\n        logicalType: integer\n        required: true\n"),
	 "required-property-added", BK | FW, "/schema/0/properties/1", "property-removed", BK | FW},
	{T("      - name: b\n        required: false\n"), T("      - name: b\n        required: true\n"),
	 "required-added", BK, "/schema/0/properties/1/required", "required-removed", FW},
	{T("      - name: b\n        logicalType: integer\n"),
	 T("      - name: b\n        logicalType: string\n"), "type-changed", BK | FW,
	 "/schema/0/properties/1/logicalType", NULL, BK | FW},
	{T("      - name: b\n        physicalType: INT\n"),
	 T("      - name: b\n        physicalType: BIGINT\n"), "physical-type-changed", BK | FW,
	 "/schema/0/properties/1/physicalType", NULL, BK | FW},
	{T("      - name: b\n        physicalName: b_col\n"),
	 T("      - name: b\n        physicalName: b_column\n"), "physical-name-changed", BK | FW,
	 "/schema/0/properties/1/physicalName", NULL, BK | FW},
	{T("      - name: b\n"), T("      - name: b\n        unique: true\n"), "unique-added", BK,
	 "/schema/0/properties/1/unique", "unique-removed", FW},
	{T("      - name: b\n"), T("      - name: b\n        primaryKey: true\n"),
	 "primary-key-changed", BK | FW, "/schema/0/properties/1/primaryKey", NULL, BK | FW},
	/* bounds: an upper bound lowered, a lower bound raised, a bound added, a pattern */
	{T("      - name: b\n        logicalTypeOptions:\n          maxLength: 10\n"),
	 T("      - name: b\n        logicalTypeOptions:\n          maxLength: 5\n"), "bound-tightened",
	 BK, "/schema/0/properties/1/logicalTypeOptions/maxLength", "bound-loosened", FW},
	{T("      - name: b\n        logicalTypeOptions:\n          minimum: 0\n"),
	 T("      - name: b\n        logicalTypeOptions:\n          minimum: 1.5\n"), "bound-tightened",
	 BK, "/schema/0/properties/1/logicalTypeOptions/minimum", "bound-loosened", FW},
	{T("      - name: b\n"), T("      - name: b\n        logicalTypeOptions:\n          maxItems: 3\n"),
	 "bound-tightened", BK, "/schema/0/properties/1/logicalTypeOptions/maxItems", "bound-loosened",
	 FW},
	{T("      - name: b\n        logicalTypeOptions:\n          minimum: '2020-01-01'\n"),
	 T("      - name: b\n        logicalTypeOptions:\n          minimum: '2021-01-01'\n"),
	 "bound-tightened", BK, "/schema/0/properties/1/logicalTypeOptions/minimum", "bound-loosened",
	 FW},
	{T("      - name: b\n        logicalTypeOptions:\n          pattern: '^a'\n"),
	 T("      - name: b\n        logicalTypeOptions:\n          pattern: '^b'\n"), "bound-changed",
	 BK | FW, "/schema/0/properties/1/logicalTypeOptions/pattern", NULL, BK | FW},
	/* enums (ODCS v3.2.0) */
	{T("      - name: b\n        enum:\n          - value: x\n          - value: y\n"),
	 T("      - name: b\n        enum:\n          - value: x\n"), "enum-value-removed", BK,
	 "/schema/0/properties/1/enum/1", "enum-value-added", FW},
	{T("      - name: b\n"), T("      - name: b\n        enum:\n          - value: x\n"), "enum-added",
	 BK, "/schema/0/properties/1/enum", "enum-removed", FW},
	/* classification */
	{T("      - name: b\n        classification: restricted\n"),
	 T("      - name: b\n        classification: Internal\n"), "classification-lowered", BK | FW,
	 "/schema/0/properties/1/classification", "classification-raised", 0},
	{T("      - name: b\n        classification: confidential\n"), T("      - name: b\n"),
	 "classification-removed", BK | FW, "/schema/0/properties/1/classification",
	 "classification-added", 0},
	{T("      - name: b\n        classification: secret\n"),
	 T("      - name: b\n        classification: public\n"), "classification-changed", BK | FW,
	 "/schema/0/properties/1/classification", NULL, BK | FW},
	/* quality rules */
	{T("      - name: b\n"),
	 T("      - name: b\n        quality:\n          - metric: nullValues\n            mustBe: 0\n"),
	 "quality-rule-added", BK, "/schema/0/properties/1/quality/0", "quality-rule-removed", FW},
	{T("      - name: b\n        quality:\n          - name: q\n            metric: rowCount\n"
	   "            mustBeGreaterThan: 10\n"),
	 T("      - name: b\n        quality:\n          - name: q\n            metric: rowCount\n"
	   "            mustBeGreaterThan: 100\n"),
	 "quality-rule-changed", BK | FW, "/schema/0/properties/1/quality/0", NULL, BK | FW},
	/* SLA properties */
	{"slaProperties:\n  - property: latency\n    value: 4\n    unit: h\n",
	 "slaProperties:\n  - property: latency\n    value: 1\n    unit: d\n", "sla-weakened", BK | FW,
	 "/slaProperties/0", "sla-strengthened", 0},
	{"slaProperties:\n  - property: retention\n    value: 3\n    unit: y\n",
	 "slaProperties:\n  - property: retention\n    value: 1\n    unit: y\n", "sla-weakened", BK | FW,
	 "/slaProperties/0", "sla-strengthened", 0},
	{"slaProperties:\n  - property: availability\n    value: '99.9%'\n",
	 "slaProperties:\n  - property: availability\n    value: '99%'\n", "sla-weakened", BK | FW,
	 "/slaProperties/0", "sla-strengthened", 0},
	{"slaProperties:\n  - property: generalAvailability\n    value: '2022-05-12T09:30:10Z'\n",
	 "slaProperties:\n  - property: generalAvailability\n    value: '2023-05-12T09:30:10Z'\n",
	 "sla-weakened", BK | FW, "/slaProperties/0", "sla-strengthened", 0},
	{"slaProperties:\n  - property: latency\n    value: 4\n    unit: h\n",
	 "slaProperties:\n  - property: latency\n    value: 4\n    unit: fortnights\n", "sla-changed",
	 BK | FW, "/slaProperties/0", NULL, BK | FW},
	{"slaProperties:\n  - property: frequency\n    value: 1\n    unit: d\n", "slaProperties: []\n",
	 "sla-property-removed", BK | FW, "/slaProperties/0", "sla-property-added", 0},
	{"slaProperties:\n  - property: myOwnMetric\n    value: 1\n",
	 "slaProperties:\n  - property: myOwnMetric\n    value: 2\n", "sla-property-changed", 0,
	 "/slaProperties/0", NULL, 0},
	/* schema objects, nesting */
	{"schema:\n  - name: t\n  - name: u\n", "schema:\n  - name: t\n", "schema-removed", BK | FW,
	 "/schema/1", "schema-added", 0},
	{T("      - name: b\n        logicalType: object\n        properties:\n          - name: x\n"
	   "          - name: y\n"),
	 T("      - name: b\n        logicalType: object\n        properties:\n          - name: y\n"),
	 "property-removed", BK | FW, "/schema/0/properties/1/properties/0", "property-added", FW},
	{T("      - name: b\n        logicalType: array\n        items:\n          logicalType: string\n"),
	 T("      - name: b\n        logicalType: array\n        items:\n          logicalType: integer\n"),
	 "type-changed", BK | FW, "/schema/0/properties/1/items/logicalType", NULL, BK | FW},
	/* never breaking */
	{"servers:\n  - server: prod\n    type: postgres\n", "servers: []\n", "server-removed", 0,
	 "/servers/0", "server-added", 0},
	{"servers:\n  - server: prod\n    type: postgres\n    host: a\n",
	 "servers:\n  - server: prod\n    type: postgres\n    host: b\n", "server-changed", 0,
	 "/servers/0", NULL, 0},
	{T("      - name: b\n        description: one\n"), T("      - name: b\n        description: two\n"),
	 "description-changed", 0, "/schema/0/properties/1/description", NULL, 0},
	{"tags: [a]\n", "tags: [a, b]\n", "metadata-changed", 0, "/tags", NULL, 0},
};

/* The one change of diff(o, n) under FULL: rule, directions, pointer. */
static void expect_one(const mycel_value *o, const mycel_value *n, const char *rule,
		       unsigned breaks, const char *ptr, size_t k)
{
	mycel_diff d;
	char why[256];
	mycel_diff_init(&d, MYCEL_COMPAT_FULL, 0);
	assert_int_equal(mycel_diff_contracts(o, n, why, sizeof(why), &d), 0);
	if (d.len != 1) {
		for (size_t i = 0; i < d.len; i++)
			print_message("  got %s %s\n", d.items[i].rule, d.items[i].message);
		fail_msg("case %zu (%s): %zu changes, want 1", k, rule, d.len);
	}
	const mycel_change *c = &d.items[0];
	if (strcmp(c->rule, rule) != 0)
		fail_msg("case %zu: rule %s, want %s (%s)", k, c->rule, rule, c->message);
	assert_int_equal(c->breaks, breaks);
	assert_int_equal(c->breaking, breaks != 0);
	assert_int_equal(d.n_breaking, breaks != 0 ? 1 : 0);
	const char *p = c->new_pointer ? c->new_pointer : c->old_pointer;
	if (ptr != NULL && strcmp(p, ptr) != 0)
		fail_msg("case %zu (%s): pointer %s, want %s", k, rule, p, ptr);
	/* where it is in the text: a line in NEW always (the container for a removal) */
	assert_true(c->new_line > 0);
	if (c->old_pointer != NULL)
		assert_true(c->old_line > 0);
	assert_non_null(c->message);
	assert_true(strlen(c->message) > 10);
	mycel_diff_fini(&d);
}

static void test_each_rule_both_ways(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		mycel_arena *a;
		assert_int_equal(mycel_arena_new(ARENA_LIMIT, &a), 0);
		const rule_case *rc = &cases[k];
		mycel_value *o = doc(a, "1.0.0", rc->old_body), *n = doc(a, "1.1.0", rc->new_body);
		expect_one(o, n, rc->rule, rc->breaks, rc->ptr, k);
		expect_one(n, o, rc->back_rule ? rc->back_rule : rc->rule,
			   rc->back_rule ? rc->back_breaks : rc->breaks, NULL, k);
		mycel_arena_free(a);
	}
}

/* Every rule of the table has a case above (so none is untested), and ids are unique. */
static void test_rule_table(void **state)
{
	(void)state;
	size_t n;
	const mycel_diff_rule *r = mycel_diff_rules(&n);
	assert_true(n >= 30);
	for (size_t i = 0; i < n; i++) {
		bool tested = false;
		for (size_t j = i + 1; j < n; j++)
			assert_string_not_equal(r[i].id, r[j].id);
		for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
			if (strcmp(cases[k].rule, r[i].id) == 0 ||
			    (cases[k].back_rule && strcmp(cases[k].back_rule, r[i].id) == 0))
				tested = true;
		/* api-version-changed and items-changed have tests of their own */
		if (!tested && strcmp(r[i].id, "api-version-changed") != 0 &&
		    strcmp(r[i].id, "items-changed") != 0)
			fail_msg("rule %s has no test case", r[i].id);
	}
}

static void test_no_change_and_cosmetics(void **state)
{
	(void)state;
	mycel_arena *a;
	mycel_diff d;
	char why[256];
	assert_int_equal(mycel_arena_new(ARENA_LIMIT, &a), 0);
	/* reordered properties and map keys, classification in another case: no change */
	mycel_value *o = doc(a, "1.0.0",
			     T("      - name: b\n        logicalType: integer\n        "
			       "classification: Restricted\n        required: true\n"));
	mycel_value *n = doc(a, "1.0.1",
			     "schema:\n  - name: t\n    properties:\n      - required: true\n"
			     "        name: b\n        classification: restricted\n"
			     "        logicalType: integer\n      - name: a\n        logicalType: string\n");
	mycel_diff_init(&d, MYCEL_COMPAT_FULL, 0);
	assert_int_equal(mycel_diff_contracts(o, n, why, sizeof(why), &d), 0);
	assert_int_equal(d.len, 0);
	mycel_diff_fini(&d);
	/* a value that is not a string, the same on both sides: no change (found by fuzz-diff) */
	mycel_value *on = doc(a, "1.0.0", T("      - name: b\n        classification:\n"));
	mycel_diff_init(&d, MYCEL_COMPAT_FULL, 0);
	assert_int_equal(mycel_diff_contracts(on, on, why, sizeof(why), &d), 0);
	assert_int_equal(d.len, 0);
	mycel_diff_fini(&d);
	/* apiVersion: information only */
	mycel_value *o2 = doc(a, "1.0.0", "");
	char text[] = "apiVersion: v3.2.0\nkind: DataContract\nid: c\nversion: 1.0.0\nstatus: active\n";
	mycel_value *n2 = NULL;
	assert_int_equal(mycel_doc_parse(text, strlen(text), NULL, a, &n2, NULL), 0);
	mycel_diff_init(&d, MYCEL_COMPAT_FULL, 0);
	assert_int_equal(mycel_diff_contracts(o2, n2, why, sizeof(why), &d), 0);
	assert_int_equal(d.len, 1);
	assert_string_equal(d.items[0].rule, "api-version-changed");
	assert_false(d.items[0].breaking);
	mycel_diff_fini(&d);
	/* an array's items definition removed */
	mycel_value *o3 = doc(a, "1.0.0",
			      T("      - name: b\n        logicalType: array\n        items:\n"
				"          logicalType: string\n"));
	mycel_value *n3 = doc(a, "1.0.1", T("      - name: b\n        logicalType: array\n"));
	mycel_diff_init(&d, MYCEL_COMPAT_BACKWARD, 0);
	assert_int_equal(mycel_diff_contracts(o3, n3, why, sizeof(why), &d), 0);
	assert_int_equal(d.len, 1);
	assert_string_equal(d.items[0].rule, "items-changed");
	assert_string_equal(d.items[0].old_pointer, "/schema/0/properties/1/items");
	assert_null(d.items[0].new_pointer);
	assert_true(d.items[0].breaking);
	mycel_diff_fini(&d);
	mycel_arena_free(a);
}

/* A large table: matching is by sorted names (no quadratic work) and the list is bounded. */
static void test_large(void **state)
{
	(void)state;
	enum { N = 50000 };
	mycel_arena *a;
	mycel_buf t1, t2;
	mycel_value *o = NULL, *n = NULL, *e = NULL;
	mycel_diff d;
	const char *head = "apiVersion: v3.1.0\nkind: DataContract\nid: c\nversion: 1.0.0\n"
			   "schema:\n  - name: t\n    properties:\n";
	assert_int_equal(mycel_arena_new((size_t)1 << 30, &a), 0);
	mycel_buf_init(&t1, (size_t)64 << 20);
	mycel_buf_init(&t2, (size_t)64 << 20);
	mycel_buf_put(&t1, head, strlen(head));
	mycel_buf_put(&t2, head, strlen(head));
	for (size_t i = 0; i < N; i++) {
		char line[96];
		int k = snprintf(line, sizeof(line), "      - name: p%zu\n        logicalType: string\n", i);
		mycel_buf_put(&t1, line, (size_t)k);
		/* NEW: the same properties in reverse order, without p7 */
		k = snprintf(line, sizeof(line), "      - name: p%zu\n        logicalType: string\n",
			     N - 1 - i);
		if (N - 1 - i != 7)
			mycel_buf_put(&t2, line, (size_t)k);
	}
	assert_int_equal(t1.err, 0);
	assert_int_equal(t2.err, 0);
	assert_int_equal(mycel_doc_parse((const char *)t1.data, t1.len, NULL, a, &o, NULL), 0);
	assert_int_equal(mycel_doc_parse((const char *)t2.data, t2.len, NULL, a, &n, NULL), 0);
	mycel_diff_init(&d, MYCEL_COMPAT_BACKWARD, 0);
	assert_int_equal(mycel_diff_contracts(o, n, NULL, 0, &d), 0);
	assert_int_equal(d.len, 1);
	assert_string_equal(d.items[0].rule, "property-removed");
	assert_string_equal(d.items[0].old_pointer, "/schema/0/properties/7");
	mycel_diff_fini(&d);
	/* every property removed: 10 000 kept by default, the rest counted */
	const char *empty = "apiVersion: v3.1.0\nkind: DataContract\nid: c\nversion: 2.0.0\n"
			    "schema:\n  - name: t\n    properties: []\n";
	assert_int_equal(mycel_doc_parse(empty, strlen(empty), NULL, a, &e, NULL), 0);
	mycel_diff_init(&d, MYCEL_COMPAT_BACKWARD, 0);
	assert_int_equal(mycel_diff_contracts(o, e, NULL, 0, &d), 0);
	assert_int_equal(d.len, 10000);
	assert_int_equal(d.dropped, N - 10000);
	assert_int_equal(d.n_breaking, N);
	mycel_diff_fini(&d);
	mycel_buf_fini(&t1);
	mycel_buf_fini(&t2);
	mycel_arena_free(a);
}

/* Long names of multibyte characters: every sentence and pointer cut on whole sequences. */
static void test_utf8_cuts(void **state)
{
	(void)state;
	char name[1200], body[4096];
	mycel_arena *a;
	mycel_diff d;
	mycel_diags dg;
	size_t k = 0;
	for (int i = 0; i < 1 + (int)sizeof(name) / 3 - 2; i++) { /* "é" and "€" in turn */
		const char *ch = i % 2 ? "\xc3\xa9" : "\xe2\x82\xac";
		memcpy(name + k, ch, strlen(ch));
		k += strlen(ch);
	}
	name[k] = '\0';
	snprintf(body, sizeof(body),
		 T("      - name: \"%s\"\n        logicalType: string\n        classification: "
		   "restricted\n        logicalTypeOptions:\n          \"%s\": 1\n"),
		 name, name);
	assert_int_equal(mycel_arena_new(ARENA_LIMIT, &a), 0);
	mycel_value *o = doc(a, "1.0.0", body), *n = doc(a, "1.1.0", T(""));
	snprintf(body, sizeof(body),
		 T("      - name: \"%s\"\n        logicalType: string\n        classification: "
		   "public\n        logicalTypeOptions:\n          \"%s\": 2\n"),
		 name, name);
	mycel_value *n2 = doc(a, "1.1.0", body);
	const mycel_value *olds[] = {o};
	mycel_diff_init(&d, MYCEL_COMPAT_FULL, 0);
	assert_int_equal(mycel_diff_contracts(o, n, NULL, 0, &d), 0);
	assert_int_equal(mycel_diff_contracts(o, n2, NULL, 0, &d), 0);
	assert_true(d.len >= 3);
	for (size_t i = 0; i < d.len; i++) {
		const mycel_change *c = &d.items[i];
		assert_true(mycel_utf8_valid((const uint8_t *)c->message, strlen(c->message)));
		if (c->old_pointer)
			assert_true(mycel_utf8_valid((const uint8_t *)c->old_pointer, strlen(c->old_pointer)));
		if (c->new_pointer)
			assert_true(mycel_utf8_valid((const uint8_t *)c->new_pointer, strlen(c->new_pointer)));
	}
	mycel_diff_fini(&d);
	/* the findings of a refused publish too (they travel in an RPC status message) */
	mycel_diags_init(&dg, 0);
	assert_int_equal(mycel_diff_check_evolution(n2, olds, 1, MYCEL_COMPAT_BACKWARD, &dg),
			 MYCEL_EBREAKING);
	for (size_t i = 0; i < dg.len; i++)
		assert_true(mycel_utf8_valid((const uint8_t *)dg.items[i].message,
					     strlen(dg.items[i].message)));
	mycel_diags_fini(&dg);
	mycel_arena_free(a);
}

static void test_bad_input(void **state)
{
	(void)state;
	mycel_arena *a;
	mycel_diff d;
	char why[256];
	assert_int_equal(mycel_arena_new(ARENA_LIMIT, &a), 0);
	mycel_value *o = doc(a, "1.0.0", "");
	mycel_value *other = NULL, *product = NULL;
	const char *t1 = "apiVersion: v3.1.0\nkind: DataContract\nid: other\nversion: 1.0.0\n";
	const char *t2 = "apiVersion: v1.0.0\nkind: DataProduct\nid: c\nversion: 1.0.0\n";
	assert_int_equal(mycel_doc_parse(t1, strlen(t1), NULL, a, &other, NULL), 0);
	assert_int_equal(mycel_doc_parse(t2, strlen(t2), NULL, a, &product, NULL), 0);
	mycel_diff_init(&d, MYCEL_COMPAT_BACKWARD, 0);
	assert_int_equal(mycel_diff_contracts(o, other, why, sizeof(why), &d), MYCEL_EINVAL);
	assert_non_null(strstr(why, "different contracts"));
	assert_int_equal(mycel_diff_contracts(o, product, why, sizeof(why), &d), MYCEL_EINVAL);
	assert_non_null(strstr(why, "NEW is not an ODCS data contract"));
	assert_int_equal(mycel_diff_contracts(product, o, why, sizeof(why), &d), MYCEL_EINVAL);
	assert_non_null(strstr(why, "OLD"));
	assert_int_equal(d.len, 0);
	mycel_diff_fini(&d);
	mycel_arena_free(a);
}

/* Which directions each mode counts, on one change of each kind. */
static void test_modes(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		mycel_compat m;
		unsigned mask;
		bool transitive;
	} modes[] = {
		{"BACKWARD", MYCEL_COMPAT_BACKWARD, BK, false},
		{"backward_transitive", MYCEL_COMPAT_BACKWARD_TRANSITIVE, BK, true},
		{"Forward", MYCEL_COMPAT_FORWARD, FW, false},
		{"FORWARD_TRANSITIVE", MYCEL_COMPAT_FORWARD_TRANSITIVE, FW, true},
		{"FULL", MYCEL_COMPAT_FULL, BK | FW, false},
		{"FULL_TRANSITIVE", MYCEL_COMPAT_FULL_TRANSITIVE, BK | FW, true},
		{"none", MYCEL_COMPAT_NONE, 0, false},
	};
	mycel_arena *a;
	assert_int_equal(mycel_arena_new(ARENA_LIMIT, &a), 0);
	/* unique added (backward), an optional property added (forward), a type change (both) */
	mycel_value *o = doc(a, "1.0.0", T("      - name: b\n        logicalType: integer\n"));
	mycel_value *n = doc(a, "1.1.0",
			     T("      - name: b\n        logicalType: number\n        unique: true\n"
			       "      - name: c\n"));
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		mycel_compat m;
		assert_int_equal(mycel_compat_parse(modes[i].name, &m), 0);
		assert_int_equal(m, modes[i].m);
		assert_int_equal(mycel_compat_mask(m), modes[i].mask);
		assert_int_equal(mycel_compat_transitive(m), modes[i].transitive);
		mycel_diff d;
		mycel_diff_init(&d, m, 0);
		assert_int_equal(mycel_diff_contracts(o, n, NULL, 0, &d), 0);
		assert_int_equal(d.len, 3);
		size_t want = 0;
		for (size_t k = 0; k < d.len; k++) {
			bool b = (d.items[k].breaks & modes[i].mask) != 0;
			assert_int_equal(d.items[k].breaking, b);
			want += b;
		}
		assert_int_equal(d.n_breaking, want);
		assert_int_equal(want, modes[i].mask == 0 ? 0 : modes[i].mask == (BK | FW) ? 3 : 2);
		mycel_diff_fini(&d);
	}
	mycel_compat m = MYCEL_COMPAT_FULL;
	assert_int_equal(mycel_compat_parse("SIDEWAYS", &m), MYCEL_EINVAL);
	assert_int_equal(mycel_compat_parse("", &m), MYCEL_EINVAL);
	assert_int_equal(m, MYCEL_COMPAT_FULL); /* untouched */
	assert_string_equal(mycel_compat_name(MYCEL_COMPAT_FULL_TRANSITIVE), "FULL_TRANSITIVE");

	/* the charter's params */
	char why[300];
	mycel_value *p1 = NULL, *p2 = NULL, *p3 = NULL, *p4 = NULL;
	assert_int_equal(mycel_doc_parse("{}", 2, NULL, a, &p1, NULL), 0);
	assert_int_equal(mycel_doc_parse("{compatibility: none}", 21, NULL, a, &p2, NULL), 0);
	assert_int_equal(mycel_doc_parse("{compatibility: 3}", 18, NULL, a, &p3, NULL), 0);
	assert_int_equal(mycel_doc_parse("{compatibility: LOOSE}", 22, NULL, a, &p4, NULL), 0);
	assert_int_equal(mycel_compat_from_params(p1, &m, why, sizeof(why)), 0);
	assert_int_equal(m, MYCEL_COMPAT_BACKWARD);
	assert_int_equal(mycel_compat_from_params(NULL, &m, why, sizeof(why)), 0);
	assert_int_equal(m, MYCEL_COMPAT_BACKWARD);
	assert_int_equal(mycel_compat_from_params(p2, &m, why, sizeof(why)), 0);
	assert_int_equal(m, MYCEL_COMPAT_NONE);
	assert_int_equal(mycel_compat_from_params(p3, &m, why, sizeof(why)), MYCEL_EINVAL);
	assert_non_null(strstr(why, "must be a string"));
	assert_int_equal(mycel_compat_from_params(p4, &m, why, sizeof(why)), MYCEL_EINVAL);
	assert_non_null(strstr(why, "\"LOOSE\" is not one of"));
	mycel_arena_free(a);
}

static void test_semver_rule(void **state)
{
	(void)state;
	static const struct {
		const char *o, *n;
		bool bump;
	} t[] = {
		{"1.2.3", "2.0.0", true},	{"1.2.3", "1.3.0", false}, {"1.2.3", "1.2.4", false},
		{"0.2.5", "0.3.0", true},	{"0.2.5", "0.2.6", false}, {"0.9.0", "1.0.0", true},
		{"1.9.0", "2.0.0-rc.1", true}, {"2.0.0", "1.0.0", false}, {"1.0", "2.0.0", false},
		{"10.0.0", "9.0.0", false},	{"0.0.1", "0.0.2", false},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (mycel_semver_major_bump(t[i].o, t[i].n) != t[i].bump)
			fail_msg("%s -> %s: want %s", t[i].o, t[i].n, t[i].bump ? "a major bump" : "none");
}

static bool has_finding(const mycel_diags *d, const char *ptr, const char *text)
{
	for (size_t i = 0; i < d->len; i++)
		if (strcmp(d->items[i].pointer, ptr) == 0 && strstr(d->items[i].message, text) != NULL)
			return true;
	return false;
}

static void test_check_evolution(void **state)
{
	(void)state;
	mycel_arena *a;
	mycel_diags d;
	assert_int_equal(mycel_arena_new(ARENA_LIMIT, &a), 0);
	const char *b30 = T("      - name: b\n        logicalTypeOptions:\n          maxLength: 30\n");
	const char *b10 = T("      - name: b\n        logicalTypeOptions:\n          maxLength: 10\n");
	mycel_value *v100 = doc(a, "1.0.0", b30);
	mycel_value *v110 = doc(a, "1.1.0", b10); /* published while the mode was NONE */
	mycel_value *v120 = doc(a, "1.2.0", b10);
	mycel_value *v200 = doc(a, "2.0.0", b10);
	const mycel_value *earlier[] = {v110, v100}; /* any order */

	mycel_diags_init(&d, 0);
	/* the latest (1.1.0) only: nothing changed */
	assert_int_equal(mycel_diff_check_evolution(v120, earlier, 2, MYCEL_COMPAT_BACKWARD, &d), 0);
	assert_int_equal(d.len, 0);
	/* transitive: against 1.0.0 the bound is tighter */
	assert_int_equal(mycel_diff_check_evolution(v120, earlier, 2,
						    MYCEL_COMPAT_BACKWARD_TRANSITIVE, &d),
			 MYCEL_EBREAKING);
	assert_int_equal(d.len, 1);
	assert_string_equal(d.items[0].pointer, "/schema/0/properties/1/logicalTypeOptions/maxLength");
	assert_int_equal(d.items[0].line, 13);
	assert_non_null(strstr(d.items[0].message, "bound-tightened: "));
	assert_non_null(strstr(d.items[0].message, "against version 1.0.0"));
	/* FORWARD_TRANSITIVE: a tightening does not break forward */
	mycel_diags_clear(&d);
	assert_int_equal(mycel_diff_check_evolution(v120, earlier, 2,
						    MYCEL_COMPAT_FORWARD_TRANSITIVE, &d),
			 0);
	/* a new major version may break */
	assert_int_equal(mycel_diff_check_evolution(v200, earlier, 2,
						    MYCEL_COMPAT_FULL_TRANSITIVE, &d),
			 0);
	/* NONE never refuses */
	mycel_value *gone = doc(a, "1.2.0", "schema: []\n");
	assert_int_equal(mycel_diff_check_evolution(gone, earlier, 2, MYCEL_COMPAT_NONE, &d), 0);
	assert_int_equal(d.len, 0);
	/* every breaking change is listed, each once */
	assert_int_equal(mycel_diff_check_evolution(gone, earlier, 2, MYCEL_COMPAT_FULL_TRANSITIVE,
						    &d),
			 MYCEL_EBREAKING);
	assert_int_equal(d.len, 1);
	assert_string_equal(d.items[0].pointer, "/schema/0");
	assert_non_null(strstr(d.items[0].message, "schema-removed: schema object t"));
	mycel_diags_fini(&d);
	mycel_arena_free(a);
}

/* ---- publishing: the store's charter sets the mode ---------------------------------------- */

/*
 * A genesis charter admitting `sales` (key k), signed by gov, with params {compatibility:
 * mode}, into out; returns what mycel_charter_decode said of it (why: its reason).
 */
static int charter_with_mode(const mycel_key *gov, const mycel_key *k, const char *mode,
			     mycel_buf *out, char *why, size_t why_len)
{
	mycel_buf body, file;
	mycel_charter *c = NULL;
	mycel_buf_init(&body, MYCEL_CHARTER_MAX);
	mycel_enc_map(&body, 7);
	mycel_enc_cstr(&body, "domains");
	mycel_enc_array(&body, 1);
	mycel_enc_map(&body, 2);
	mycel_enc_cstr(&body, "feed");
	mycel_enc_bin(&body, k->pk, MYCEL_PK_LEN);
	mycel_enc_cstr(&body, "name");
	mycel_enc_cstr(&body, "sales");
	mycel_enc_cstr(&body, "members");
	mycel_enc_array(&body, 1);
	mycel_enc_map(&body, 2);
	mycel_enc_cstr(&body, "key");
	mycel_enc_bin(&body, gov->pk, MYCEL_PK_LEN);
	mycel_enc_cstr(&body, "name");
	mycel_enc_cstr(&body, "gov");
	mycel_enc_cstr(&body, "mesh");
	mycel_enc_cstr(&body, "m");
	mycel_enc_cstr(&body, "params");
	mycel_enc_map(&body, mode != NULL ? 1 : 0);
	if (mode != NULL) {
		mycel_enc_cstr(&body, "compatibility");
		mycel_enc_cstr(&body, mode);
	}
	mycel_enc_cstr(&body, "policies");
	mycel_enc_array(&body, 0);
	mycel_enc_cstr(&body, "threshold");
	mycel_enc_uint(&body, 1);
	mycel_enc_cstr(&body, "version");
	mycel_enc_uint(&body, 1);
	assert_int_equal(body.err, 0);
	mycel_buf_init(&file, MYCEL_CHARTER_MAX);
	mycel_enc_array(&file, 2);
	mycel_enc_bin(&file, body.data, body.len);
	mycel_enc_array(&file, 0);
	assert_int_equal(file.err, 0);
	mycel_buf_init(out, MYCEL_CHARTER_MAX);
	int rv = mycel_charter_decode(file.data, file.len, &c, why, why_len);
	if (rv == 0) {
		assert_int_equal(mycel_charter_sign(c, gov, why, why_len), 0);
		assert_int_equal(mycel_charter_encode(c, out), 0);
		mycel_charter_free(c);
	}
	mycel_buf_fini(&body);
	mycel_buf_fini(&file);
	return rv;
}

typedef struct pub_env {
	char dir[256];
	mycel_key *gov, *k;
	mycel_store *s;
	mycel_arena *a;
} pub_env;

static void env_open(pub_env *e, const char *mode)
{
	mycel_buf cf;
	char why[256];
	memset(e, 0, sizeof(*e));
	tc_tmpdir("diff", e->dir, sizeof(e->dir));
	e->gov = tc_seed_key(1);
	e->k = tc_seed_key(2);
	assert_int_equal(charter_with_mode(e->gov, e->k, mode, &cf, why, sizeof(why)), 0);
	e->s = tc_store_new(e->dir, cf.data, cf.len);
	mycel_buf_fini(&cf);
	assert_int_equal(mycel_arena_new(ARENA_LIMIT, &e->a), 0);
}

static void env_close(pub_env *e)
{
	mycel_store_close(e->s);
	mycel_key_free(e->gov);
	mycel_key_free(e->k);
	mycel_arena_free(e->a);
	assert_int_equal(tc_rm_rf(e->dir), 0);
}

/* Publishes docs[0..n) as one group; their findings go to d. */
static int publish(pub_env *e, mycel_value **docs, size_t n, mycel_diags *d)
{
	mycel_publish_item it[4];
	assert_true(n <= 4);
	memset(it, 0, sizeof(it));
	for (size_t i = 0; i < n; i++) {
		it[i].doc = docs[i];
		it[i].diags = d;
		assert_int_equal(mycel_lint_value(docs[i], &it[i].info, d), 0);
	}
	return mycel_publish(e->s, e->k, "sales", it, n);
}

static bool stored(pub_env *e, const char *version)
{
	mycel_doc_version v;
	return mycel_catalog_version(e->s, "sales", "c", version, &v) == 0;
}

static void test_publish_refuses_breaking(void **state)
{
	(void)state;
	pub_env e;
	mycel_diags d;
	env_open(&e, NULL); /* no params.compatibility: BACKWARD */
	mycel_diags_init(&d, 0);
	mycel_value *v1 = doc(e.a, "1.0.0", T("      - name: b\n        logicalType: integer\n"));
	mycel_value *v11 = doc(e.a, "1.1.0", T(""));
	mycel_value *v2 = doc(e.a, "2.0.0", T(""));
	mycel_value *v21 = doc(e.a, "2.1.0", T("      - name: c\n"));
	assert_int_equal(publish(&e, &v1, 1, &d), 0);
	/* a minor version that removes a property: refused, with the change, nothing stored */
	assert_int_equal(publish(&e, &v11, 1, &d), MYCEL_EBREAKING);
	assert_int_equal(d.len, 1);
	assert_string_equal(d.items[0].pointer, "/schema/0/properties/1");
	assert_true(d.items[0].line > 0);
	assert_non_null(strstr(d.items[0].message, "property-removed: property t.b (\"integer\") was "
						   "removed"));
	assert_non_null(strstr(d.items[0].message, "1.1.0 needs a new major version"));
	assert_false(stored(&e, "1.1.0"));
	/* the same with a major bump: published; then a compatible minor one */
	mycel_diags_clear(&d);
	assert_int_equal(publish(&e, &v2, 1, &d), 0);
	assert_true(stored(&e, "2.0.0"));
	assert_int_equal(publish(&e, &v21, 1, &d), 0);
	assert_int_equal(d.len, 0);
	/* within one publish: 3.0.0 then a breaking 3.1.0, all or nothing */
	mycel_value *pair[2] = {doc(e.a, "3.0.0", T("      - name: c\n")), doc(e.a, "3.1.0", T(""))};
	assert_int_equal(publish(&e, pair, 2, &d), MYCEL_EBREAKING);
	assert_true(has_finding(&d, "/schema/0/properties/1", "against version 3.0.0"));
	assert_false(stored(&e, "3.0.0"));
	assert_false(stored(&e, "3.1.0"));
	/* the same in the other order: the lower version given after still counts */
	mycel_diags_clear(&d);
	mycel_value *rev[2] = {pair[1], pair[0]};
	assert_int_equal(publish(&e, rev, 2, &d), MYCEL_EBREAKING);
	assert_true(has_finding(&d, "/schema/0/properties/1", "against version 3.0.0"));
	assert_false(stored(&e, "3.0.0"));
	/* two requests committed together (the node's group commit): the second sees the first */
	mycel_diags_clear(&d);
	mycel_publish_item i1, i2;
	memset(&i1, 0, sizeof(i1));
	memset(&i2, 0, sizeof(i2));
	i1.doc = pair[0];
	i2.doc = pair[1];
	i1.diags = i2.diags = &d;
	assert_int_equal(mycel_lint_value(i1.doc, &i1.info, &d), 0);
	assert_int_equal(mycel_lint_value(i2.doc, &i2.info, &d), 0);
	mycel_publish_group groups[2] = {{&i1, 1, 0, NULL}, {&i2, 1, 0, NULL}};
	assert_int_equal(mycel_publish_groups(e.s, e.k, "sales", groups, 2, NULL), 0);
	assert_int_equal(groups[0].result, 0);
	assert_int_equal(groups[1].result, MYCEL_EBREAKING);
	assert_true(stored(&e, "3.0.0"));
	assert_false(stored(&e, "3.1.0"));
	/* a patch below the latest compares with the version below it, not with 2.1.0 */
	mycel_diags_clear(&d);
	mycel_value *v101 = doc(e.a, "1.0.1", T("      - name: b\n        logicalType: integer\n"));
	assert_int_equal(publish(&e, &v101, 1, &d), 0);
	mycel_diags_fini(&d);
	env_close(&e);
}

/* A retired version is not compared with (a soft-deleted schema in the Schema Registry). */
static void test_publish_skips_retired(void **state)
{
	(void)state;
	pub_env e;
	mycel_diags d;
	char why[256];
	env_open(&e, NULL);
	mycel_diags_init(&d, 0);
#define MAXLEN(n)                                                                               \
	T("      - name: b\n        logicalType: string\n        logicalTypeOptions:\n"             \
	  "          maxLength: " #n "\n")
	const char *b10 = MAXLEN(10), *b20 = MAXLEN(20), *b15 = MAXLEN(15);
	mycel_value *v10 = doc(e.a, "1.0.0", b10), *v11 = doc(e.a, "1.1.0", b20);
	mycel_value *v12 = doc(e.a, "1.2.0", b15);
	assert_int_equal(publish(&e, &v10, 1, &d), 0);
	assert_int_equal(publish(&e, &v11, 1, &d), 0); /* loosened: compatible under BACKWARD */
	/* against 1.1.0, 20 -> 15 tightens */
	assert_int_equal(publish(&e, &v12, 1, &d), MYCEL_EBREAKING);
	assert_true(has_finding(&d, "/schema/0/properties/1/logicalTypeOptions/maxLength",
				"against version 1.1.0"));
	/* once 1.1.0 is retired, 1.2.0 is compared with 1.0.0: 10 -> 15 loosens */
	assert_int_equal(mycel_publish_lifecycle(e.s, e.k, "sales", "c", "1.1.0", MYCEL_STATUS_RETIRED,
						 "", NULL, why, sizeof(why)),
			 0);
	mycel_diags_clear(&d);
	assert_int_equal(publish(&e, &v12, 1, &d), 0);
	assert_true(stored(&e, "1.2.0"));
	mycel_diags_fini(&d);
	env_close(&e);
}

static void test_publish_modes_from_charter(void **state)
{
	(void)state;
	pub_env e;
	mycel_diags d;
	mycel_diags_init(&d, 0);
	const char *tight = T("      - name: b\n        logicalType: string\n        logicalTypeOptions:\n"
			      "          maxLength: 5\n");
	const char *loose = T("      - name: b\n        logicalType: string\n        logicalTypeOptions:\n"
			      "          maxLength: 50\n");

	/* NONE: anything goes */
	env_open(&e, "NONE");
	mycel_value *a1 = doc(e.a, "1.0.0", tight), *a2 = doc(e.a, "1.1.0", "schema: []\n");
	assert_int_equal(publish(&e, &a1, 1, &d), 0);
	assert_int_equal(publish(&e, &a2, 1, &d), 0);
	env_close(&e);

	/* FORWARD: loosening a bound is refused, tightening is not */
	env_open(&e, "forward");
	mycel_value *b1 = doc(e.a, "1.0.0", tight), *b2 = doc(e.a, "1.1.0", loose);
	assert_int_equal(publish(&e, &b1, 1, &d), 0);
	assert_int_equal(publish(&e, &b2, 1, &d), MYCEL_EBREAKING);
	assert_true(has_finding(&d, "/schema/0/properties/1/logicalTypeOptions/maxLength",
				"bound-loosened: maxLength of t.b loosened from 5 to 50 (breaking "
				"under FORWARD"));
	env_close(&e);

	/* a value that names no mode: the charter itself is refused, with the reason */
	char why[256];
	mycel_buf cf;
	mycel_key *gov = tc_seed_key(1), *k = tc_seed_key(2);
	assert_int_equal(charter_with_mode(gov, k, "SIDEWAYS", &cf, why, sizeof(why)), MYCEL_ECHARTER);
	assert_non_null(strstr(why, "/params/compatibility: charter params.compatibility "
				    "\"SIDEWAYS\" is not one of BACKWARD"));
	mycel_buf_fini(&cf);
	assert_int_equal(charter_with_mode(gov, k, "full_transitive", &cf, why, sizeof(why)), 0);
	mycel_buf_fini(&cf);
	mycel_key_free(gov);
	mycel_key_free(k);
	mycel_diags_fini(&d);
}

/* mycel_charter_set_param_str: what `mycel charter init --compatibility MODE` uses. */
static void test_charter_param(void **state)
{
	(void)state;
	mycel_key *gov = tc_seed_key(1);
	mycel_charter *c = NULL, *back = NULL;
	mycel_buf b;
	mycel_compat m;
	char why[256];
	assert_int_equal(mycel_charter_new("m", 1, 1, &c), 0);
	assert_int_equal(mycel_charter_add_member(c, "gov", gov->pk), 0);
	assert_int_equal(mycel_charter_set_param_str(c, "compatibility", "sideways"), MYCEL_EINVAL);
	assert_int_equal(mycel_charter_set_param_str(c, "", "x"), MYCEL_EINVAL);
	assert_int_equal(mycel_charter_set_param_str(c, "note", "kept"), 0);
	assert_int_equal(mycel_charter_set_param_str(c, "compatibility", "FULL"), 0);
	assert_int_equal(mycel_charter_set_param_str(c, "compatibility", "forward_transitive"), 0);
	assert_int_equal(mycel_charter_sign(c, gov, why, sizeof(why)), 0);
	assert_int_equal(mycel_charter_set_param_str(c, "compatibility", "NONE"), MYCEL_EBUSY);
	mycel_buf_init(&b, MYCEL_CHARTER_MAX);
	assert_int_equal(mycel_charter_encode(c, &b), 0);
	assert_int_equal(mycel_charter_decode(b.data, b.len, &back, why, sizeof(why)), 0);
	assert_int_equal(mycel_charter_verify_genesis(back, why, sizeof(why)), 0);
	const mycel_value *p = mycel_charter_params(back);
	assert_int_equal(p->v.m.len, 2);
	assert_int_equal(mycel_compat_from_params(p, &m, why, sizeof(why)), 0);
	assert_int_equal(m, MYCEL_COMPAT_FORWARD_TRANSITIVE); /* the last value set, once */
	assert_string_equal(mycel_value_get(p, "note")->v.s.ptr, "kept");
	mycel_buf_fini(&b);
	mycel_charter_free(back);
	mycel_charter_free(c);
	mycel_key_free(gov);
}

/* ---- the corpus: v3.1 examples against their v3.2 editions ------------------------------ */

static const char *corpus(void)
{
	const char *c = getenv("MYCEL_CORPUS");
	return c != NULL && *c ? c : "../shared/corpus";
}

static mycel_value *load(mycel_arena *a, const char *name)
{
	char path[1024];
	mycel_value *v = NULL;
	snprintf(path, sizeof(path), "%s/odcs/examples/%s", corpus(), name);
	assert_int_equal(mycel_doc_load(path, NULL, a, &v, NULL), 0);
	return v;
}

static void test_corpus(void **state)
{
	(void)state;
	mycel_arena *a;
	mycel_diff d;
	char why[256];
	assert_int_equal(mycel_arena_new((size_t)256 << 20, &a), 0);

	/* adventureworks: the same contract in both editions (a comment apart) */
	mycel_diff_init(&d, MYCEL_COMPAT_FULL, 0);
	assert_int_equal(mycel_diff_contracts(load(a, "v31-all-postgresql-adventureworks-contract.odcs.yaml"),
					      load(a, "v32-all-postgresql-adventureworks-contract.odcs.yaml"),
					      why, sizeof(why), &d),
			 0);
	assert_int_equal(d.len, 0);
	mycel_diff_fini(&d);

	/* the full example: v3.2.0 adds an enum to rcvr_cntry_code and a map-typed property */
	mycel_value *o = load(a, "v31-all-full-example.odcs.yaml");
	mycel_value *n = load(a, "v32-all-full-example.odcs.yaml");
	mycel_diff_init(&d, MYCEL_COMPAT_BACKWARD, 0);
	assert_int_equal(mycel_diff_contracts(o, n, why, sizeof(why), &d), 0);
	assert_int_equal(d.len, 3);
	assert_string_equal(d.items[0].rule, "api-version-changed");
	assert_false(d.items[0].breaking);
	assert_string_equal(d.items[1].rule, "enum-added");
	assert_string_equal(d.items[1].new_pointer, "/schema/0/properties/2/enum");
	assert_non_null(strstr(d.items[1].message, "tbl.rcvr_cntry_code"));
	assert_true(d.items[1].breaking);
	assert_int_equal(d.items[1].new_line, 132);
	assert_string_equal(d.items[2].rule, "property-added");
	assert_string_equal(d.items[2].new_pointer, "/schema/1/properties/4");
	assert_non_null(strstr(d.items[2].message, "receivers.receiver_attributes"));
	assert_false(d.items[2].breaking);
	assert_int_equal(d.n_breaking, 1);
	mycel_diff_fini(&d);
	/* backwards in time: the enum's removal loosens, the property's removal breaks */
	mycel_diff_init(&d, MYCEL_COMPAT_BACKWARD, 0);
	assert_int_equal(mycel_diff_contracts(n, o, why, sizeof(why), &d), 0);
	assert_int_equal(d.len, 3);
	assert_string_equal(d.items[1].rule, "enum-removed");
	assert_false(d.items[1].breaking);
	assert_string_equal(d.items[2].rule, "property-removed");
	assert_string_equal(d.items[2].old_pointer, "/schema/1/properties/4");
	assert_true(d.items[2].breaking);
	mycel_diff_fini(&d);

	/* every v31 example against its v32 edition: compared without error, no breaking
	 * change under BACKWARD but the enum above */
	static const char *const pairs[] = {
		"fundamentals-table-column-description", "quality-column-accuracy",
		"quality-column-completeness",		 "quality-column-custom",
		"quality-column-validity",		 "roles-service-and-operational-roles",
		"schema-all-schema-types",		 "schema-kafka-schema",
		"schema-kafka-schemaregistry",		 "schema-table-column",
		"schema-table-columns-with-partition",	 "server-azure-server",
		"server-kafka-server",			 "sla-database-table-sla",
		"stakeholders-basic-four-dpo",
	};
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		char f1[256], f2[256];
		snprintf(f1, sizeof(f1), "v31-%s.odcs.yaml", pairs[i]);
		snprintf(f2, sizeof(f2), "v32-%s.odcs.yaml", pairs[i]);
		mycel_diff_init(&d, MYCEL_COMPAT_BACKWARD, 0);
		assert_int_equal(mycel_diff_contracts(load(a, f1), load(a, f2), why, sizeof(why), &d), 0);
		if (d.n_breaking != 0)
			fail_msg("%s: %zu breaking change(s), first %s", pairs[i], d.n_breaking,
				 d.items[0].message);
		mycel_diff_fini(&d);
	}
	mycel_arena_free(a);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--corpus") == 0) {
		char p[1024];
		snprintf(p, sizeof(p), "%s/odcs/examples", corpus());
		if (access(p, R_OK) != 0) {
			printf("no corpus at %s (set MYCEL_CORPUS): skipped\n", corpus());
			return 77;
		}
		const struct CMUnitTest corpus_tests[] = {cmocka_unit_test(test_corpus)};
		return cmocka_run_group_tests(corpus_tests, NULL, NULL);
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_rule_both_ways),
		cmocka_unit_test(test_rule_table),
		cmocka_unit_test(test_no_change_and_cosmetics),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_utf8_cuts),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_semver_rule),
		cmocka_unit_test(test_check_evolution),
		cmocka_unit_test(test_publish_refuses_breaking),
		cmocka_unit_test(test_publish_skips_retired),
		cmocka_unit_test(test_publish_modes_from_charter),
		cmocka_unit_test(test_charter_param),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
