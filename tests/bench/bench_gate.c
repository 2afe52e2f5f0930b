/*
 * bench_gate.c — what the quality gate costs (issue 6): ten typical charter policies
 * (tests/bench/typical-policies.yaml) on the 192 KB AdventureWorks contract of the corpus.
 *
 *  1. evaluating the ten policies, as a ratio to parsing the contract's YAML (both medians
 *     of the same run);
 *  2. a publish with the gate (a store whose charter holds the ten policies) beside the
 *     same publish without it (a charter without policies), alternating, each a new
 *     version of the contract: lint, gate, sign, durable commit. The gate's share is
 *     (with - without) / without, beside the limit of 20 %.
 *
 * usage: bench-gate [--rounds N] [--policies FILE]   (run from the source root)
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_docs.h"
#include "mycel/charter.h"
#include "mycel/doc.h"
#include "mycel/error.h"
#include "mycel/lint.h"
#include "mycel/policy.h"
#include "mycel/publish.h"
#include "mycel/store.h"

static void die(const char *what, const char *detail) __attribute__((noreturn));
static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bench-gate: %s: %s\n", what, detail);
	exit(1);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static mycel_value *parse_text(const char *text, size_t n, mycel_arena *a)
{
	mycel_value *v = NULL;
	mycel_diags d;
	mycel_diags_init(&d, 0);
	if (mycel_doc_parse(text, n, NULL, a, &v, &d) != 0)
		die("parse", d.len ? d.items[0].message : "failed");
	mycel_diags_fini(&d);
	return v;
}

/* A store in a new temporary directory whose genesis charter admits domain "sales" (key k). */
static mycel_store *new_store(char *dir, const mycel_key *gov, const mycel_key *k,
			      const mycel_value *policies)
{
	mycel_charter *c = NULL;
	mycel_buf b;
	mycel_store *s = NULL;
	char why[512] = "";
	strcpy(dir, "/tmp/mycel-bench-gate-XXXXXX");
	if (mkdtemp(dir) == NULL)
		die("mkdtemp", "failed");
	if (mycel_charter_new("bench", 1, 1, &c) != 0 || mycel_charter_add_member(c, "gov", gov->pk) != 0 ||
	    mycel_charter_add_domain(c, "sales", k->pk) != 0)
		die("charter", "cannot build");
	for (size_t i = 0; policies != NULL && i < policies->v.a.len; i++) {
		const mycel_value *m = &policies->v.a.items[i];
		const mycel_value *id = mycel_value_get(m, "id"), *sev = mycel_value_get(m, "severity");
		const mycel_value *ex = mycel_value_get(m, "expr"), *msg = mycel_value_get(m, "message");
		if (id == NULL || sev == NULL || ex == NULL || msg == NULL ||
		    mycel_charter_set_policy(c, id->v.s.ptr, sev->v.s.ptr, ex->v.s.ptr, msg->v.s.ptr) != 0)
			die("policies", "a policy cannot be set");
	}
	if (mycel_charter_sign(c, gov, why, sizeof(why)) != 0)
		die("charter", why);
	mycel_buf_init(&b, MYCEL_CHARTER_MAX);
	if (mycel_charter_encode(c, &b) != 0)
		die("charter", "cannot encode");
	mycel_charter_free(c);
	if (mycel_store_open(dir, MYCEL_STORE_CREATE, &s, why, sizeof(why)) != 0 ||
	    mycel_store_add_charter(s, b.data, b.len, why, sizeof(why)) != 0)
		die("store", why);
	mycel_buf_fini(&b);
	return s;
}

/* Sets the document's version (a string member of the top map) to v, copied into a. */
static void set_version(mycel_value *doc, const char *v, mycel_arena *a)
{
	for (size_t i = 0; i < doc->v.m.len; i++)
		if (strcmp(doc->v.m.items[i].key, "version") == 0) {
			doc->v.m.items[i].val.v.s.ptr = mycel_arena_strdup(a, v, strlen(v));
			doc->v.m.items[i].val.v.s.len = strlen(v);
			return;
		}
	die("contract", "no version");
}

/* One publish of doc as version 1.0.i into s: lint + gate + sign + commit; seconds. */
static double publish_once(mycel_store *s, const mycel_key *k, mycel_value *doc, size_t i,
			   mycel_arena *a)
{
	char v[32];
	snprintf(v, sizeof(v), "1.0.%zu", i);
	set_version(doc, v, a);
	mycel_publish_item it;
	mycel_diags d, w;
	memset(&it, 0, sizeof(it));
	mycel_diags_init(&d, 0);
	mycel_diags_init(&w, 0);
	it.doc = doc;
	it.diags = &d;
	it.warnings = &w;
	double t0 = bench_now();
	int rv = mycel_lint_value(doc, &it.info, &d);
	if (rv == 0)
		rv = mycel_publish(s, k, "sales", &it, 1);
	double t = bench_now() - t0;
	if (rv != 0)
		die("publish", d.len ? d.items[0].message : mycel_strerror(rv));
	mycel_diags_fini(&d);
	mycel_diags_fini(&w);
	return t;
}

int main(int argc, char **argv)
{
	size_t rounds = 31;
	const char *pol_path = "tests/bench/typical-policies.yaml";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = (size_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--policies") == 0 && i + 1 < argc)
			pol_path = argv[++i];
		else {
			fprintf(stderr, "usage: bench-gate [--rounds N] [--policies FILE]\n");
			return 2;
		}
	}
	if (rounds < 3 || rounds > 10000)
		die("--rounds", "3 to 10000");
	bench_machine("1");
	char path[4096];
	snprintf(path, sizeof(path),
		 "%s/odcs/examples/v32-all-postgresql-adventureworks-contract.odcs.yaml",
		 bench_corpus_dir());
	size_t tn = 0, pn = 0;
	char *text = bench_read_text(path, &tn);
	char *ptext = bench_read_text(pol_path, &pn);
	if (text == NULL)
		die(path, "cannot read (set MYCEL_CORPUS)");
	if (ptext == NULL)
		die(pol_path, "cannot read");

	mycel_arena *pa = NULL;
	if (mycel_arena_new(64u << 20, &pa) != 0)
		die("arena", "out of memory");
	mycel_value *pv = parse_text(ptext, pn, pa);
	mycel_policies *pol = NULL;
	mycel_diags pd;
	mycel_diags_init(&pd, 0);
	if (mycel_policies_compile(pv, &pol, &pd) != 0)
		die("policies", pd.len ? pd.items[0].message : "do not compile");
	mycel_diags_fini(&pd);

	/* 1. eval vs parse */
	double *tp = calloc(rounds, sizeof(double)), *te = calloc(rounds, sizeof(double));
	double *tw = calloc(rounds, sizeof(double)), *to = calloc(rounds, sizeof(double));
	if (tp == NULL || te == NULL || tw == NULL || to == NULL)
		die("memory", "out of memory");
	mycel_value *doc = NULL;
	size_t denied = 0, warned = 0;
	uint64_t cost = 0;
	for (size_t r = 0; r < rounds; r++) {
		mycel_arena *a = NULL;
		if (mycel_arena_new((size_t)1 << 30, &a) != 0)
			die("arena", "out of memory");
		double t0 = bench_now();
		doc = parse_text(text, tn, a);
		tp[r] = bench_now() - t0;
		mycel_policy_input in = {MYCEL_DOC_CONTRACT, doc, NULL, "sales", 1764000000000};
		mycel_policy_report rep;
		t0 = bench_now();
		if (mycel_policies_eval(pol, &in, &rep) != 0)
			die("eval", "failed");
		te[r] = bench_now() - t0;
		denied = rep.denied;
		warned = rep.warned;
		cost = rep.cost;
		mycel_policy_report_fini(&rep);
		mycel_arena_free(a);
	}
	double mp = bench_median(tp, rounds), me = bench_median(te, rounds);
	printf("policies            %zu (%zu deny and %zu warn violated on this contract, %llu cost units)\n",
	       mycel_policies_count(pol), denied, warned, (unsigned long long)cost);
	printf("parse YAML          %.3f ms median of %zu (%zu bytes)\n", mp * 1e3, rounds, tn);
	printf("evaluate policies   %.3f ms median of %zu\n", me * 1e3, rounds);
	printf("eval / parse        %.3f\n", me / mp);

	/*
	 * 2. publish with and without the gate. The contract violates some deny policies, and
	 * a refused publish would not be a publish: the gated store's charter holds the same
	 * ten policies as warnings, so every one is evaluated in full and the publish lands.
	 */
	for (size_t i = 0; i < pv->v.a.len; i++) {
		mycel_value *p = &pv->v.a.items[i];
		for (size_t k = 0; k < p->v.m.len; k++)
			if (strcmp(p->v.m.items[k].key, "severity") == 0) {
				p->v.m.items[k].val.v.s.ptr = "warn";
				p->v.m.items[k].val.v.s.len = 4;
			}
	}
	mycel_key *gov = NULL, *k = NULL;
	if (mycel_key_generate(&gov) != 0 || mycel_key_generate(&k) != 0)
		die("key", "cannot generate");
	char dw[64], dn[64];
	mycel_store *sw = new_store(dw, gov, k, pv), *sn = new_store(dn, gov, k, NULL);
	mycel_arena *a = NULL;
	if (mycel_arena_new((size_t)1 << 30, &a) != 0)
		die("arena", "out of memory");
	doc = parse_text(text, tn, a);
	for (size_t r = 0; r < rounds; r++) {
		if (r % 2 == 0) {
			tw[r] = publish_once(sw, k, doc, r, a);
			to[r] = publish_once(sn, k, doc, r, a);
		} else {
			to[r] = publish_once(sn, k, doc, r, a);
			tw[r] = publish_once(sw, k, doc, r, a);
		}
	}
	double mw = bench_median(tw, rounds), mo = bench_median(to, rounds);
	printf("publish, no policy  %.3f ms median of %zu (lint, sign, durable commit)\n", mo * 1e3,
	       rounds);
	printf("publish, 10 policies %.3f ms median of %zu\n", mw * 1e3, rounds);
	printf("gate share          %.1f %% of a publish (limit 20 %%: %.2f x the limit)\n",
	       100.0 * (mw - mo) / mo, (mw - mo) / mo / 0.20);

	mycel_store_close(sw);
	mycel_store_close(sn);
	nftw(dw, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	nftw(dn, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	mycel_arena_free(a);
	mycel_arena_free(pa);
	mycel_policies_free(pol);
	mycel_key_free(gov);
	mycel_key_free(k);
	free(text);
	free(ptext);
	free(tp);
	free(te);
	free(tw);
	free(to);
	return 0;
}
