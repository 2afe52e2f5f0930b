/*
 * bench_cel.c — the cost of policies as code (DESIGN §8): ten typical charter
 * policies evaluated on the 192 KB AdventureWorks contract of the corpus, as a
 * ratio to reading the same file with the project's YAML reader, both measured
 * in the same run. The policies pass mycel_cel_check first. Prints each policy's verdict and cost units, the median time
 * of evaluating all ten, the median parse time, and their ratio.
 *
 *   bench-cel [--reps N]    (default 21 repetitions; MYCEL_CORPUS selects the corpus)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_docs.h"
#include "mycel/cel.h"
#include "mycel/doc.h"
#include "mycel/error.h"

#define CONTRACT "odcs/examples/v32-all-postgresql-adventureworks-contract.odcs.yaml"

static const struct {
	const char *id;
	const char *expr;
} policies[] = {
    {"pii-restricted",
     "contract.schema.all(t, !has(t.properties) || t.properties.all(p, "
     "!(p.name.matches('(?i)(email|phone|ssn|birth|address)') || "
     "(has(p.tags) && 'sensitive' in p.tags)) || "
     "(has(p.classification) && p.classification in ['restricted', 'confidential'])))"},
    {"tables-described", "contract.schema.all(t, has(t.description) && t.description != '')"},
    {"columns-described",
     "contract.schema.all(t, !has(t.properties) || t.properties.all(p, has(p.description)))"},
    {"owner-present", "has(contract.team) || has(contract.support) || has(contract.domain)"},
    {"version-semver",
     "contract.version.matches('^[0-9]+\\\\.[0-9]+\\\\.[0-9]+(-[0-9A-Za-z.-]+)?$')"},
    {"no-ssn-unclassified",
     "contract.schema.all(t, !has(t.properties) || t.properties.all(p, "
     "!p.name.matches('(?i)ssn|social_?security|national_?id') || has(p.classification)))"},
    {"quality-rules",
     "contract.schema.exists(t, has(t.quality) && size(t.quality) > 0) || "
     "contract.schema.all(t, !has(t.properties) || t.properties.all(p, !has(p.quality) || "
     "p.quality.all(q, has(q.type) || has(q.rule) || has(q.query))))"},
    {"sla-present", "has(contract.slaProperties) && contract.slaProperties.size() > 0"},
    {"status-allowed",
     "contract.status in ['proposed', 'draft', 'active', 'deprecated', 'retired']"},
    {"primary-keys",
     "contract.schema.filter(t, has(t.properties)).all(t, t.properties.exists_one(p, "
     "has(p.primaryKey) && p.primaryKey) || t.properties.filter(p, has(p.primaryKey) && "
     "p.primaryKey).size() > 1 || t.physicalType == 'view')"},
};
#define NPOL (sizeof(policies) / sizeof(policies[0]))

int main(int argc, char **argv)
{
	int reps = 21;
	char path[4096];
	size_t n;
	mycel_cel *e[NPOL];
	mycel_cel_err err;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
			reps = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: bench-cel [--reps N]\n");
			return 2;
		}
	}
	if (reps < 1 || reps > 10000)
		reps = 21;
	snprintf(path, sizeof(path), "%s/%s", bench_corpus_dir(), CONTRACT);
	char *text = bench_read_text(path, &n);
	if (text == NULL) {
		fprintf(stderr, "bench-cel: cannot read %s\n", path);
		return 1;
	}
	for (size_t i = 0; i < NPOL; i++) {
		if (mycel_cel_compile(policies[i].expr, strlen(policies[i].expr), &e[i], &err) !=
		    0) {
			fprintf(stderr, "bench-cel: policy %s: %u:%u %s\n", policies[i].id,
			        err.line, err.col, err.msg);
			return 1;
		}
	}
	for (size_t i = 0; i < NPOL; i++) {
		mycel_diags d;
		mycel_diags_init(&d, 0);
		if (mycel_cel_check(e[i], &d) != 0) {
			fprintf(stderr, "bench-cel: policy %s: %u:%u %s\n", policies[i].id,
				d.len ? d.items[0].line : 0, d.len ? d.items[0].col : 0,
				d.len ? d.items[0].message : "schema check failed");
			return 1;
		}
		mycel_diags_fini(&d);
	}
	double *t_parse = calloc((size_t)reps, sizeof(double));
	double *t_eval = calloc((size_t)reps, sizeof(double));
	if (t_parse == NULL || t_eval == NULL)
		return 1;
	bench_machine("one thread");
	printf("contract: %s (%zu bytes)\n", CONTRACT, n);
	for (int r = 0; r < reps; r++) {
		mycel_arena *a;
		mycel_value *doc;
		mycel_diags d;
		mycel_diags_init(&d, 0);
		if (mycel_arena_new((size_t)256 << 20, &a) != 0)
			return 1;
		double t0 = bench_now();
		int rc = mycel_doc_parse(text, n, NULL, a, &doc, &d);
		double t1 = bench_now();
		if (rc != 0) {
			fprintf(stderr, "bench-cel: %s does not parse: %s\n", path,
			        mycel_errname(rc));
			return 1;
		}
		mycel_cel_var vars[3] = {{"contract", doc}, {"previous", NULL}, {"domain", NULL}};
		mycel_cel_env env = {vars, 3, true, 1700000000000000000LL, 0};
		double t2 = bench_now();
		for (size_t i = 0; i < NPOL; i++) {
			bool out = false;
			uint64_t cost = 0;
			rc = mycel_cel_eval_bool(e[i], &env, &out, &cost, &err);
			if (r == 0)
				printf("  %-20s %-5s %7llu units%s%s%s%s\n", policies[i].id,
				       rc != 0 ? "error"
				       : out   ? "true"
				               : "false",
				       (unsigned long long)cost, rc != 0 ? "  " : "",
				       rc != 0 ? err.msg : "",
				       !out && rc == 0 && err.pointer[0] ? "  at " : "",
				       !out && rc == 0 ? err.pointer : "");
		}
		double t3 = bench_now();
		t_parse[r] = t1 - t0;
		t_eval[r] = t3 - t2;
		mycel_diags_fini(&d);
		mycel_arena_free(a);
	}
	double mp = bench_median(t_parse, (size_t)reps), me = bench_median(t_eval, (size_t)reps);
	printf("YAML parse of the contract:      median %8.3f ms (%d runs)\n", mp * 1e3, reps);
	printf("evaluation of the 10 policies:   median %8.3f ms (%d runs)\n", me * 1e3, reps);
	printf("ratio evaluation / parse:        %.3f\n", me / mp);
	for (size_t i = 0; i < NPOL; i++)
		mycel_cel_free(e[i]);
	free(t_parse);
	free(t_eval);
	free(text);
	return 0;
}
