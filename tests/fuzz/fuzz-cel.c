/*
 * fuzz-cel.c — the CEL subset (include/mycel/cel.h) on untrusted expressions.
 * The input is an expression; it is compiled and, when it compiles, evaluated
 * twice against a small fixed document with a small budget. A refusal must be
 * one of the contract's codes with a position and a sentence and leave the
 * output untouched; an evaluation must stay within its budget, give the same
 * result both times, and return only 0 or EEVAL (with a sentence).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/cel.h"
#include "mycel/doc.h"
#include "mycel/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BUDGET 20000

static const char doc_text[] =
    "kind: DataContract\n"
    "version: 1.2.0\n"
    "status: active\n"
    "tags: [finance, pii]\n"
    "schema:\n"
    "  - name: orders\n"
    "    description: Orders\n"
    "    properties:\n"
    "      - {name: id, logicalType: integer, required: true}\n"
    "      - {name: email, logicalType: string, classification: restricted}\n"
    "  - name: customers\n"
    "    properties:\n"
    "      - {name: ssn, logicalType: string}\n"
    "slaProperties:\n"
    "  - {property: latency, value: 4, unit: d}\n"
    "big: 18446744073709551615\n"
    "neg: -5\n"
    "f: 2.5\n"
    "z: null\n";

static void die(const char *what)
{
	fprintf(stderr, "fuzz-cel: %s\n", what);
	abort();
}

static const mycel_value *the_doc(void)
{
	static mycel_arena *a;
	static mycel_value *v;
	if (v == NULL) {
		mycel_diags d;
		mycel_diags_init(&d, 0);
		if (mycel_arena_new(1 << 20, &a) != 0 ||
		    mycel_doc_parse(doc_text, sizeof(doc_text) - 1, NULL, a, &v, &d) != 0)
			die("the fixed document does not parse");
		mycel_diags_fini(&d);
	}
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mycel_cel *e = (mycel_cel *)&e, *before = e;
	mycel_cel_err err;
	const char *src = size ? (const char *)data : "";
	int rc = mycel_cel_compile(src, size, &e, &err);

	if (rc != 0) {
		if (rc != MYCEL_EEXPR && rc != MYCEL_ETOOBIG && rc != MYCEL_ENOMEM)
			die("unexpected compile error code");
		if (e != before)
			die("output touched on failure");
		if (rc == MYCEL_EEXPR && (err.line == 0 || err.col == 0 || err.msg[0] == '\0'))
			die("a compile error without a position or a sentence");
		return 0;
	}
	const char *names[8];
	size_t nv = mycel_cel_free_vars(e, names, 8);
	for (size_t i = 0; i < nv && i < 8; i++)
		if (names[i] == NULL || names[i][0] == '\0')
			die("an empty free variable");

	mycel_cel_var vars[3] = {{"contract", the_doc()},
	                         {"previous", NULL},
	                         {"domain", mycel_value_get(the_doc(), "tags")}};
	mycel_cel_env env = {vars, 3, true, 1700000000000000000LL, BUDGET};
	bool out1 = false, out2 = false;
	uint64_t cost1 = 0, cost2 = 0;
	mycel_cel_err e1, e2;
	int r1 = mycel_cel_eval_bool(e, &env, &out1, &cost1, &e1);
	int r2 = mycel_cel_eval_bool(e, &env, &out2, &cost2, &e2);
	if (r1 != 0 && r1 != MYCEL_EEVAL && r1 != MYCEL_ENOMEM)
		die("unexpected evaluation error code");
	if (r1 != r2 || out1 != out2 || cost1 != cost2 || strcmp(e1.msg, e2.msg) != 0 ||
	    strcmp(e1.pointer, e2.pointer) != 0)
		die("evaluation is not deterministic");
	if (cost1 > BUDGET)
		die("cost beyond the budget");
	if (r1 == MYCEL_EEVAL && e1.msg[0] == '\0')
		die("an evaluation error without a sentence");
	if (e1.pointer[0] != '\0' && e1.pointer[0] != '/')
		die("a pointer that is not a JSON pointer");

	static char text1[8192], text2[8192];
	r1 = mycel_cel_eval_text(e, &env, text1, sizeof(text1), &cost1, &e1);
	r2 = mycel_cel_eval_text(e, &env, text2, sizeof(text2), &cost2, &e2);
	if (r1 != 0 && r1 != MYCEL_EEVAL && r1 != MYCEL_ETOOBIG && r1 != MYCEL_ENOMEM)
		die("unexpected evaluation error code (text)");
	if (r1 != r2 || cost1 != cost2 || (r1 == 0 && strcmp(text1, text2) != 0))
		die("evaluation to text is not deterministic");
	if (r1 == 0 && strlen(text1) == 0)
		die("an empty rendering");
	mycel_cel_free(e);
	return 0;
}
