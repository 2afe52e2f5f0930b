/*
 * test_policy.c — the charter's policies as code: compiling them, evaluating them as the
 * quality gate of a publish, and the marks every node derives for what it holds (search
 * hides non-compliant documents unless asked; a new charter re-evaluates them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "mycel/catalog.h"
#include "mycel/charter.h"
#include "mycel/doc.h"
#include "mycel/error.h"
#include "mycel/lint.h"
#include "mycel/policy.h"
#include "mycel/publish.h"

static const char POLICIES[] =
    "- id: pii-restricted\n"
    "  severity: deny\n"
    "  expr: >-\n"
    "    contract.schema.all(t, !has(t.properties) || t.properties.all(p,\n"
    "      !(has(p.tags) && 'pii' in p.tags) ||\n"
    "      (has(p.classification) && p.classification == 'restricted')))\n"
    "  message: PII columns must be classified restricted\n"
    "- id: has-purpose\n"
    "  severity: warn\n"
    "  expr: has(contract.description) && has(contract.description.purpose)\n"
    "  message: a contract should say what it is for\n"
    "- id: product-team\n"
    "  severity: deny\n"
    "  expr: has(product.team)\n"
    "  message: a data product names its team\n";

/* A contract with a PII column classified `cls`; with a purpose when purpose is true. */
static char *contract_yaml(const char *id, const char *version, const char *cls, bool purpose)
{
	static char buf[2048];
	snprintf(buf, sizeof(buf),
		 "apiVersion: v3.0.2\n"
		 "kind: DataContract\n"
		 "id: %s\n"
		 "version: %s\n"
		 "status: active\n"
		 "name: orders\n"
		 "%s"
		 "schema:\n"
		 "  - name: orders\n"
		 "    properties:\n"
		 "      - name: order_id\n"
		 "        logicalType: string\n"
		 "      - name: email\n"
		 "        logicalType: string\n"
		 "        tags: [pii]\n"
		 "        classification: %s\n",
		 id, version, purpose ? "description:\n  purpose: every order\n" : "", cls);
	return buf;
}

typedef struct fx {
	char dir[256];
	mycel_arena *a;
	mycel_key *gov, *sales, *rogue;
	mycel_store *s;
} fx;

static mycel_value *parse(fx *f, const char *text)
{
	mycel_value *v = NULL;
	mycel_diags d;
	mycel_diags_init(&d, 0);
	assert_int_equal(mycel_doc_parse(text, strlen(text), NULL, f->a, &v, &d), 0);
	mycel_diags_fini(&d);
	return v;
}

static const char *field(const mycel_value *m, const char *k)
{
	const mycel_value *v = mycel_value_get(m, k);
	return v != NULL && v->type == MYCEL_T_STR ? v->v.s.ptr : NULL;
}

/* Sets every policy of arr ([{id, severity, expr, message}]) in draft c; the first error. */
static int set_policies(mycel_charter *c, const mycel_value *arr)
{
	for (size_t i = 0; i < arr->v.a.len; i++) {
		const mycel_value *m = &arr->v.a.items[i];
		int rv = mycel_charter_set_policy(c, field(m, "id"), field(m, "severity"),
						  field(m, "expr"), field(m, "message"));
		if (rv != 0)
			return rv;
	}
	return 0;
}

/* Charter `version` of mesh "m" (gov alone, threshold 1) admitting sales and rogue, with policies (YAML, or NULL). */
static void charter_file(fx *f, uint64_t version, const char *policies, mycel_buf *out)
{
	mycel_charter *c = NULL;
	char why[256] = "";
	assert_int_equal(mycel_charter_new("m", version, 1, &c), 0);
	assert_int_equal(mycel_charter_add_member(c, "gov", f->gov->pk), 0);
	assert_int_equal(mycel_charter_add_domain(c, "sales", f->sales->pk), 0);
	assert_int_equal(mycel_charter_add_domain(c, "rogue", f->rogue->pk), 0);
	if (policies != NULL)
		assert_int_equal(set_policies(c, parse(f, policies)), 0);
	assert_int_equal(mycel_charter_sign(c, f->gov, why, sizeof(why)), 0);
	mycel_buf_init(out, MYCEL_CHARTER_MAX);
	assert_int_equal(mycel_charter_encode(c, out), 0);
	mycel_charter_free(c);
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	mycel_buf ch;
	tc_tmpdir("policy", f->dir, sizeof(f->dir));
	assert_int_equal(mycel_arena_new(64u << 20, &f->a), 0);
	f->gov = tc_seed_key(1);
	f->sales = tc_seed_key(2);
	f->rogue = tc_seed_key(3);
	charter_file(f, 1, POLICIES, &ch);
	f->s = tc_store_new(f->dir, ch.data, ch.len);
	mycel_buf_fini(&ch);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	mycel_store_close(f->s);
	mycel_key_free(f->gov);
	mycel_key_free(f->sales);
	mycel_key_free(f->rogue);
	mycel_arena_free(f->a);
	assert_int_equal(tc_rm_rf(f->dir), 0);
	free(f);
	return 0;
}

static mycel_policies *compiled(fx *f)
{
	mycel_policies *p = NULL;
	assert_int_equal(mycel_policies_compile(parse(f, POLICIES), &p, NULL), 0);
	assert_int_equal(mycel_policies_count(p), 3);
	return p;
}

static void test_compile_errors(void **state)
{
	fx *f = *state;
	mycel_policies *p = NULL;
	mycel_diags d;
	mycel_diags_init(&d, 0);
	const char *bad = "- {id: ok, severity: deny, expr: 'true', message: m}\n"
			  "- {id: broken, severity: deny, expr: 'contract.schema.all(t,', message: m}\n"
			  "- {id: worse, severity: warn, expr: '1 +', message: m}\n";
	assert_int_equal(mycel_policies_compile(parse(f, bad), &p, &d), MYCEL_EEXPR);
	assert_null(p);
	assert_int_equal(d.len, 2); /* every broken policy, at once */
	assert_string_equal(d.items[0].pointer, "/policies/1/expr");
	assert_non_null(strstr(d.items[0].message, "policy broken: expression 1:"));
	assert_string_equal(d.items[1].pointer, "/policies/2/expr");
	mycel_diags_clear(&d);
	const char *shape = "- {id: x, expr: 'true', message: m}\n";
	assert_int_equal(mycel_policies_compile(parse(f, shape), &p, &d), MYCEL_EFORMAT);
	assert_int_equal(d.len, 1);
	assert_string_equal(d.items[0].pointer, "/policies/0");
	mycel_diags_fini(&d);

	/* a draft takes no expression that does not compile */
	mycel_charter *c = NULL;
	assert_int_equal(mycel_charter_new("m", 1, 1, &c), 0);
	assert_int_equal(set_policies(c, parse(f, bad)), MYCEL_EEXPR);
	mycel_charter_free(c);

	/* and a charter file whose expression does not compile is refused whole, naming it */
	mycel_buf b;
	char why[256] = "";
	charter_file(f, 1, "- {id: p1, severity: deny, expr: 'size(contract.id) > 0', message: m}\n", &b);
	uint8_t *at = memmem(b.data, b.len, "size(contract.id) > 0", 21);
	assert_non_null(at);
	memcpy(at, "size(contract.id) > (", 21); /* the same length: only the expression changes */
	assert_int_equal(mycel_charter_decode(b.data, b.len, &c, why, sizeof(why)), MYCEL_ECHARTER);
	assert_non_null(strstr(why, "/policies/0/expr: policy p1: 1:"));
	mycel_buf_fini(&b);
}

static void test_verdicts_and_locations(void **state)
{
	fx *f = *state;
	mycel_policies *p = compiled(f);
	mycel_policy_report r;
	mycel_value *bad = parse(f, contract_yaml("orders", "1.0.0", "internal", false));
	mycel_policy_input in = {MYCEL_DOC_CONTRACT, bad, NULL, "sales", 1764000000000};
	assert_int_equal(mycel_policies_eval(p, &in, &r), 0);
	assert_int_equal(r.evaluated, 2); /* the product policy does not apply to a contract */
	assert_int_equal(r.denied, 1);
	assert_int_equal(r.warned, 1);
	assert_int_equal(r.len, 2);
	assert_string_equal(r.items[0].id, "pii-restricted"); /* denials first */
	assert_int_equal(r.items[0].severity, MYCEL_SEVERITY_DENY);
	assert_string_equal(r.items[0].detail, "");
	/* the document location it concerns: the PII column's classification, where it is in the YAML */
	assert_string_equal(r.items[0].pointer, "/schema/0/properties/1/classification");
	assert_int_equal(r.items[0].line, 15);
	assert_string_equal(r.items[1].id, "has-purpose");
	assert_true(r.cost > 0);
	assert_int_equal(r.now_ms, 1764000000000);

	mycel_diags d;
	mycel_diags_init(&d, 0);
	assert_int_equal(mycel_policy_report_diags(&r, MYCEL_SEVERITY_DENY, &d), 0);
	assert_int_equal(d.len, 1);
	assert_string_equal(d.items[0].message,
			    "policy pii-restricted (deny): PII columns must be classified restricted");
	assert_int_equal(d.items[0].line, 15);
	mycel_diags_fini(&d);
	mycel_policy_report_fini(&r);

	mycel_value *good = parse(f, contract_yaml("orders", "1.0.0", "restricted", true));
	in.doc = good;
	assert_int_equal(mycel_policies_eval(p, &in, &r), 0);
	assert_int_equal(r.denied + r.warned, 0);
	mycel_policy_report_fini(&r);

	/* a product sees only the policies that apply to products */
	mycel_value *prod = parse(f, "apiVersion: v1.0.0\nkind: DataProduct\nid: p\nstatus: active\n");
	mycel_policy_input pin = {MYCEL_DOC_PRODUCT, prod, NULL, "sales", 1764000000000};
	assert_int_equal(mycel_policies_eval(p, &pin, &r), 0);
	assert_int_equal(r.evaluated, 1);
	assert_int_equal(r.denied, 1);
	assert_string_equal(r.items[0].id, "product-team");
	mycel_policy_report_fini(&r);
	mycel_policies_free(p);
}

static void test_fail_closed_and_inputs(void **state)
{
	fx *f = *state;
	mycel_policies *p = NULL;
	mycel_policy_report r;
	const char *pol =
	    "- {id: missing, severity: deny, expr: 'contract.owner.team == \"x\"', message: m}\n"
	    "- {id: not-bool, severity: deny, expr: 'size(contract.id)', message: m}\n"
	    "- {id: prev, severity: deny, expr: 'previous == null || previous.id == contract.id',"
	    " message: m}\n"
	    "- {id: clock, severity: deny, expr: 'now > timestamp(\"2020-01-01T00:00:00Z\")',"
	    " message: m}\n"
	    "- {id: dom, severity: deny, expr: 'domain == \"sales\"', message: m}\n";
	assert_int_equal(mycel_policies_compile(parse(f, pol), &p, NULL), 0);
	mycel_value *doc = parse(f, contract_yaml("orders", "1.1.0", "restricted", true));
	mycel_value *prev = parse(f, contract_yaml("orders", "1.0.0", "restricted", true));
	mycel_value *other = parse(f, contract_yaml("other", "1.0.0", "restricted", true));
	mycel_policy_input in = {MYCEL_DOC_CONTRACT, doc, prev, "sales", 1764000000000};
	assert_int_equal(mycel_policies_eval(p, &in, &r), 0);
	/* an error is a violation, never a pass */
	assert_int_equal(r.denied, 2);
	assert_string_equal(r.items[0].id, "missing");
	assert_true(r.items[0].detail[0] != 0);
	assert_string_equal(r.items[1].id, "not-bool");
	assert_true(r.items[1].detail[0] != 0);
	mycel_policy_report_fini(&r);

	in.previous = other;  /* previous is another document: prev fails */
	in.now_ms = 0;        /* 1970: clock fails */
	in.domain = "rogue";  /* dom fails */
	assert_int_equal(mycel_policies_eval(p, &in, &r), 0);
	assert_int_equal(r.denied, 5);
	assert_string_equal(r.items[2].id, "prev");
	assert_string_equal(r.items[3].id, "clock");
	assert_string_equal(r.items[4].id, "dom");
	mycel_policy_report_fini(&r);
	mycel_policies_free(p);
}

/* Lints text as a document of domain sales and publishes it into sales's feed. */
static int publish(fx *f, const char *text, mycel_diags *d, mycel_diags *w)
{
	mycel_publish_item it;
	memset(&it, 0, sizeof(it));
	it.doc = parse(f, text);
	it.diags = d;
	it.warnings = w;
	assert_int_equal(mycel_lint_value(it.doc, &it.info, d), 0);
	return mycel_publish(f->s, f->sales, "sales", &it, 1);
}

static void test_publish_gate(void **state)
{
	fx *f = *state;
	mycel_diags d, w;
	uint64_t seq = 0;
	uint8_t id[32];
	mycel_diags_init(&d, 0);
	mycel_diags_init(&w, 0);
	assert_int_equal(publish(f, contract_yaml("orders", "1.0.0", "internal", true), &d, &w),
			 MYCEL_EPOLICY);
	assert_int_equal(d.len, 1);
	assert_non_null(strstr(d.items[0].message, "policy pii-restricted (deny)"));
	assert_string_equal(d.items[0].pointer, "/schema/0/properties/1/classification");
	assert_int_equal(mycel_store_head(f->s, f->sales->pk, &seq, id), MYCEL_ENOTFOUND);

	/* fixed: published; the warning is reported beside it, not refused */
	mycel_diags_clear(&d);
	assert_int_equal(publish(f, contract_yaml("orders", "1.0.0", "restricted", false), &d, &w), 0);
	assert_int_equal(d.len, 0);
	assert_int_equal(w.len, 1);
	assert_non_null(strstr(w.items[0].message, "policy has-purpose (warn)"));
	assert_int_equal(mycel_store_head(f->s, f->sales->pk, &seq, id), 0);
	assert_int_equal(seq, 1);

	mycel_catalog_doc doc;
	memset(&doc, 0, sizeof(doc));
	assert_int_equal(mycel_catalog_get(f->s, "sales", "orders", NULL, &doc), 0);
	assert_int_equal(doc.versions[0].denied, 0);
	assert_int_equal(doc.versions[0].warned, 1); /* the warning is recorded */
	mycel_catalog_doc_fini(&doc);
	mycel_diags_fini(&d);
	mycel_diags_fini(&w);
}

static size_t hits(fx *f, const char *text, bool noncompliant, unsigned *denied)
{
	mycel_search_query q;
	mycel_search_result r;
	memset(&q, 0, sizeof(q));
	q.text = text;
	q.status = MYCEL_STATUS_VISIBLE;
	q.noncompliant = noncompliant;
	assert_int_equal(mycel_catalog_search(f->s, &q, &r), 0);
	size_t n = r.n;
	if (denied != NULL)
		*denied = n > 0 ? r.hits[0].denied : 0;
	mycel_search_result_fini(&r);
	return n;
}

static int dump_cb(void *ctx, const char *table, const void *key, size_t key_len, const void *val,
		   size_t val_len)
{
	mycel_buf *b = ctx;
	mycel_enc_cstr(b, table);
	mycel_enc_bin(b, key, key_len);
	mycel_enc_bin(b, val, val_len);
	return 0;
}

static void dump(mycel_store *s, mycel_buf *b)
{
	mycel_buf_init(b, 1u << 30);
	assert_int_equal(mycel_catalog_dump(s, dump_cb, b), 0);
}

static void test_marks_search_and_new_charter(void **state)
{
	fx *f = *state;
	/*
	 * rogue's entry did not pass the gate (a node running an older charter signed it):
	 * every node that holds it marks it, and search hides it unless asked
	 */
	const char *text = contract_yaml("leads", "1.0.0", "public", true);
	mycel_value *v = parse(f, text);
	mycel_buf body;
	mycel_buf_init(&body, MYCEL_BODY_MAX);
	assert_int_equal(mycel_value_encode(v, &body), 0);
	mycel_record rec = {"contract", body.data, body.len};
	assert_int_equal(mycel_store_append(f->s, f->rogue, f->rogue->pk, &rec, 1, NULL), 0);
	mycel_buf_fini(&body);

	mycel_catalog_doc doc;
	memset(&doc, 0, sizeof(doc));
	assert_int_equal(mycel_catalog_get(f->s, "rogue", "leads", NULL, &doc), 0);
	assert_int_equal(doc.versions[0].denied, 1);
	mycel_catalog_doc_fini(&doc);
	unsigned denied = 0;
	assert_int_equal(hits(f, "orders", false, NULL), 0);
	assert_int_equal(hits(f, "orders", true, &denied), 1);
	assert_int_equal(denied, 1);

	/* the marks are derived state: a rebuild gives the same tables */
	mycel_buf before, after;
	dump(f->s, &before);
	assert_int_equal(mycel_store_reindex(f->s), 0);
	dump(f->s, &after);
	assert_int_equal(before.len, after.len);
	assert_memory_equal(before.data, after.data, before.len);
	mycel_buf_fini(&before);
	mycel_buf_fini(&after);

	/* version 2 drops the PII policy: adopting it re-evaluates what the node holds */
	mycel_buf ch;
	char why[256] = "";
	charter_file(f, 2, "- {id: any, severity: warn, expr: 'true', message: m}\n", &ch);
	assert_int_equal(mycel_store_add_charter(f->s, ch.data, ch.len, why, sizeof(why)), 0);
	mycel_buf_fini(&ch);
	assert_int_equal(hits(f, "orders", false, &denied), 1);
	assert_int_equal(denied, 0);

	/* and version 3 brings it back: hidden again */
	charter_file(f, 3, POLICIES, &ch);
	assert_int_equal(mycel_store_add_charter(f->s, ch.data, ch.len, why, sizeof(why)), 0);
	mycel_buf_fini(&ch);
	assert_int_equal(hits(f, "orders", false, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_compile_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verdicts_and_locations, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fail_closed_and_inputs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_publish_gate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_marks_search_and_new_charter, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
