/*
 * bench-catalog: lint throughput, publish throughput and search latency, each
 * beside a reference measured in the same run.
 *
 *   bench-catalog [--quick] [--docs N] [--search-only] [--store DIR] [--queries N]
 *                 [--shape K] [--answers FILE]
 *
 * --search-only runs part 3 alone; --store DIR keeps the search store in DIR
 * (built there if DIR does not exist, reused as it is otherwise, so a profile
 * such as valgrind --tool=callgrind --toggle-collect=mycel_catalog_search
 * times only the queries); --queries N queries per shape (default 2000, 200
 * with --quick); --shape K (1..6) only that shape; --answers FILE writes each
 * query's total and page of hits (domain/id:score) to FILE, to compare two
 * builds. With a reused store the queries are the same from run to run (the
 * generator starts from its seed).
 *
 * 1. lint: parse + schema-validate the 192 KB AdventureWorks ODCS contract of
 *    the corpus ($MYCEL_CORPUS or ../shared/corpus), documents/s and MB/s,
 *    beside parsing alone (YAML to value tree).
 * 2. publish: mycel_publish of generated contracts (lint + canonical encoding +
 *    sign + durable append + catalog indexing) in batches of 1 and 100,
 *    beside the raw Ed25519 sign rate.
 * 3. search: p50/p99 latency over N (default 100 000) generated documents,
 *    varied from the corpus examples, for several query shapes, beside a
 *    random LMDB read (mdb_get) in a table of the same number of keys, and
 *    the limit of DESIGN §8 (p99 < 5 ms).
 */
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mycel/catalog.h"
#include "mycel/charter.h"
#include "mycel/doc.h"
#include "mycel/lint.h"
#include "mycel/publish.h"
#include "mycel/store.h"

#include "bench_docs.h"

static void figure(const char *name, double value, const char *unit, const char *vs, double ratio,
		   const char *limit)
{
	printf("figure %s %.6g %s vs %s ratio %.3f (limit %s)\n", name, value, unit, vs, ratio, limit);
}

/* ---- 1. lint ------------------------------------------------------------------------------------ */

static void bench_lint(bool quick)
{
	char path[1024];
	size_t n;
	snprintf(path, sizeof(path), "%s/odcs/examples/v32-all-postgresql-adventureworks-contract.odcs.yaml",
		 bench_corpus_dir());
	char *text = bench_read_text(path, &n);
	if (text == NULL) {
		printf("lint: %s not found (set MYCEL_CORPUS): skipped\n", path);
		return;
	}
	double parse_rates[5], lint_rates[5];
	double secs = quick ? 0.3 : 1.5;
	for (int r = 0; r < 5; r++) {
		for (int mode = 0; mode < 2; mode++) {
			size_t docs = 0;
			double t0 = bench_now(), t;
			do {
				mycel_arena *a;
				mycel_value *doc;
				mycel_diags d;
				mycel_docinfo info;
				mycel_arena_new((size_t)1 << 30, &a);
				mycel_diags_init(&d, 0);
				if (mycel_doc_parse(text, n, NULL, a, &doc, &d) != 0) {
					printf("lint: the corpus contract does not parse\n");
					exit(1);
				}
				if (mode == 1 && mycel_lint_value(doc, &info, &d) != 0) {
					printf("lint: the corpus contract is not valid\n");
					exit(1);
				}
				mycel_diags_fini(&d);
				mycel_arena_free(a);
				docs++;
				t = bench_now() - t0;
			} while (t < secs);
			(mode ? lint_rates : parse_rates)[r] = (double)docs / t;
		}
	}
	double parse = bench_median(parse_rates, 5), lint = bench_median(lint_rates, 5);
	printf("\nlint of the AdventureWorks contract (%zu bytes), median of 5\n", n);
	printf("  parse only (YAML to tree)   %8.1f docs/s  %6.2f MB/s\n", parse, parse * (double)n / 1e6);
	printf("  parse + schema validation   %8.1f docs/s  %6.2f MB/s  (%.2f x parse rate)\n", lint,
	       lint * (double)n / 1e6, lint / parse);
	figure("lint_docs", lint, "docs/s", "parse", lint / parse, "-");
	figure("lint_mb", lint * (double)n / 1e6, "MB/s", "parse", lint / parse, "-");
	free(text);
}

/* ---- 2. publish ---------------------------------------------------------------------------------------- */

static double raw_sign_rate(void)
{
	unsigned char pk[32], sk[64], sig[64], msg[150];
	crypto_sign_keypair(pk, sk);
	randombytes_buf(msg, sizeof(msg));
	double rates[5];
	for (int r = 0; r < 5; r++) {
		double t0 = bench_now();
		for (int i = 0; i < 2000; i++)
			crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
		rates[r] = 2000 / (bench_now() - t0);
	}
	return bench_median(rates, 5);
}

static void bench_publish(bool quick)
{
	char dir[] = "/tmp/mycel-bench-pub-XXXXXX";
	mycel_key *keys[5];
	if (mkdtemp(dir) == NULL)
		return;
	rmdir(dir);
	mycel_store *s = bench_make_store(dir, keys);
	double sign = raw_sign_rate();
	printf("\npublish of generated ODCS v3.2.0 contracts (lint + encode + sign + durable append + index)\n");
	size_t batches[] = {1, 100};
	size_t total = quick ? 200 : 2000;
	size_t base = 0;
	for (size_t bi = 0; bi < 2; bi++) {
		size_t bs = batches[bi], count = bs == 1 ? total / 10 : total;
		mycel_arena *a;
		mycel_arena_new((size_t)1 << 30, &a);
		mycel_publish_item *items = calloc(bs, sizeof(*items));
		mycel_diags *d = calloc(bs, sizeof(*d));
		double t0 = bench_now();
		for (size_t done = 0; done < count; done += bs) {
			for (size_t k = 0; k < bs; k++) {
				mycel_buf b;
				mycel_value *v;
				mycel_buf_init(&b, 1 << 20);
				bench_gen_contract(&b, base + done + k, "sales", "1.0.0", NULL);
				mycel_value_decode(b.data, b.len, 1 << 20, a, &v, NULL);
				mycel_buf_fini(&b);
				mycel_diags_init(&d[k], 0);
				items[k] = (mycel_publish_item){.doc = v, .diags = &d[k]};
				if (mycel_lint_value(v, &items[k].info, &d[k]) != 0) {
					printf("publish: a generated contract is invalid: %s %s\n",
					       d[k].len ? d[k].items[0].pointer : "",
					       d[k].len ? d[k].items[0].message : "");
					exit(1);
				}
			}
			int rv = mycel_publish(s, keys[0], "sales", items, bs);
			if (rv != 0) {
				printf("publish failed: %s\n", mycel_strerror(rv));
				exit(1);
			}
			for (size_t k = 0; k < bs; k++)
				mycel_diags_fini(&d[k]);
		}
		double rate = (double)count / (bench_now() - t0);
		base += count;
		printf("  batch %-4zu %8.1f docs/s   (%.3f x raw sign rate %.0f/s)\n", bs, rate, rate / sign, sign);
		char name[64];
		snprintf(name, sizeof(name), "publish_batch_%zu", bs);
		figure(name, rate, "docs/s", "raw_sign", rate / sign, "-");
		free(items);
		free(d);
		mycel_arena_free(a);
	}
	mycel_store_close(s);
	bench_rm_store(dir);
	for (int i = 0; i < 5; i++)
		mycel_key_free(keys[i]);
}

/* ---- 3. search ------------------------------------------------------------------------------------------ */

static double raw_lmdb_read_ns(size_t nkeys, bool quick)
{
	char dir[] = "/tmp/mycel-bench-raw-XXXXXX";
	if (mkdtemp(dir) == NULL)
		return 0;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	mdb_env_create(&env);
	mdb_env_set_mapsize(env, (size_t)4 << 30);
	mdb_env_open(env, dir, MDB_NOSYNC, 0600);
	mdb_txn_begin(env, NULL, 0, &txn);
	mdb_dbi_open(txn, NULL, 0, &dbi);
	for (size_t i = 0; i < nkeys; i++) {
		char k[64], v[100];
		snprintf(k, sizeof(k), "%s\x1f%s-%zu", bench_domains[i % 5], bench_words[i % bench_nwords], i);
		memset(v, 'x', sizeof(v));
		MDB_val kv = {strlen(k), k}, vv = {sizeof(v), v};
		mdb_put(txn, dbi, &kv, &vv, 0);
	}
	mdb_txn_commit(txn);
	size_t reads = quick ? 20000 : 200000;
	double t0 = bench_now();
	mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
	size_t found = 0;
	for (size_t r = 0; r < reads; r++) {
		size_t i = (size_t)(bench_rand() % nkeys);
		char k[64];
		snprintf(k, sizeof(k), "%s\x1f%s-%zu", bench_domains[i % 5], bench_words[i % bench_nwords], i);
		MDB_val kv = {strlen(k), k}, vv;
		found += mdb_get(txn, dbi, &kv, &vv) == 0;
	}
	mdb_txn_abort(txn);
	double ns = (bench_now() - t0) / (double)reads * 1e9;
	mdb_env_close(env);
	char p[1024];
	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
	if (found != reads)
		printf("raw LMDB: %zu of %zu reads missed\n", reads - found, reads);
	return ns;
}

typedef struct search_opts {
	const char *store; /* kept (and reused) store directory, or NULL: a temporary one */
	size_t nq;         /* queries per shape, 0: the default */
	int shape;         /* only this shape, 0: all */
	FILE *answers;     /* every query's total and hits written here, or NULL */
} search_opts;

static void bench_search(size_t ndocs, bool quick, const search_opts *o)
{
	char tmp[] = "/tmp/mycel-bench-search-XXXXXX";
	const char *dir = tmp;
	mycel_key *keys[5];
	mycel_store *s;
	bool reuse = false;
	if (o->store != NULL) {
		dir = o->store;
		reuse = access(dir, F_OK) == 0;
	} else {
		if (mkdtemp(tmp) == NULL)
			return;
		rmdir(tmp);
	}
	if (reuse) {
		char why[256];
		for (int i = 0; i < BENCH_NDOMAINS; i++) {
			uint8_t seed[32];
			memset(seed, i + 1, sizeof(seed));
			mycel_key_from_seed(seed, &keys[i]);
		}
		if (mycel_store_open(dir, 0, &s, why, sizeof(why)) != 0) {
			printf("cannot open the store in %s: %s\n", dir, why);
			exit(1);
		}
		printf("\nsearch over the documents of the store kept in %s (--docs %zu assumed)\n",
		       dir, ndocs);
		goto queries;
	}
	s = bench_make_store(dir, keys);
	printf("\nsearch over %zu generated documents in 5 domains (names, tags and descriptions drawn\n"
	       "from a %zu-word vocabulary)\n",
	       ndocs, (size_t)bench_nwords);
	bench_templates t;
	bench_load_templates(&t);
	if (t.n > 0)
		printf("  documents: the %zu valid corpus examples of at most 16 KB, each copy with a new id, name,\n"
		       "  tags and description\n", t.n);
	else
		printf("  documents: synthetic contracts (no corpus found at %s)\n", bench_corpus_dir());
	double t0 = bench_now();
	size_t bytes = bench_load_docs(s, keys, &t, ndocs, NULL);
	double load = bench_now() - t0;
	printf("  loaded in %.1f s (%.0f docs/s, %.1f MB of canonical bodies; append + catalog indexing)\n",
	       load, (double)ndocs / load, (double)bytes / 1e6);
	mycel_arena_free(t.a);
	if (o->store != NULL) {
		printf("  store kept in %s\n", dir);
		mycel_store_close(s);
		for (int i = 0; i < 5; i++)
			mycel_key_free(keys[i]);
		return; /* the queries run on the next run, from the generator's seed */
	}
queries:;
	double raw_ns = o->shape != 0 ? 0 : raw_lmdb_read_ns(ndocs, quick);
	if (raw_ns > 0)
		printf("  raw LMDB random read in a %zu-key table: %.0f ns\n", ndocs, raw_ns);

	size_t nq = o->nq != 0 ? o->nq : quick ? 200 : 2000;
	double *lat = malloc(nq * sizeof(*lat));
	double worst_p99 = 0;
	printf("  %-22s %10s %10s %10s %8s\n", "query", "p50 (us)", "p99 (us)", "hits(avg)", "p99/raw");
	for (size_t sh = 0; sh < BENCH_NSHAPES; sh++) {
		double hits = 0;
		if (o->shape != 0 && bench_shapes[sh].shape != o->shape)
			continue;
		for (size_t q = 0; q < nq; q++) {
			mycel_search_query qq;
			bench_query bq;
			bench_gen_query(bench_shapes[sh].shape, ndocs, &bq);
			memset(&qq, 0, sizeof(qq));
			qq.status = MYCEL_STATUS_VISIBLE;
			qq.text = bq.text[0] != '\0' ? bq.text : NULL;
			qq.domain = bq.domain;
			if (bq.tag != NULL) {
				qq.tags[0] = bq.tag;
				qq.n_tags = 1;
			}
			mycel_search_result r;
			double a = bench_now();
			int rv = mycel_catalog_search(s, &qq, &r);
			lat[q] = (bench_now() - a) * 1e6;
			if (rv != 0) {
				printf("search failed: %s\n", mycel_strerror(rv));
				exit(1);
			}
			hits += (double)r.total;
			if (o->answers != NULL) {
				fprintf(o->answers, "%zu \"%s\" %s %s: %zu%s", sh, bq.text,
					bq.domain ? bq.domain : "-", bq.tag ? bq.tag : "-", r.total,
					r.total_exact ? "" : "+");
				for (size_t i = 0; i < r.n; i++)
					fprintf(o->answers, " %s/%s:%.0f", r.hits[i].domain, r.hits[i].id,
						r.hits[i].score);
				fputc('\n', o->answers);
			}
			mycel_search_result_fini(&r);
		}
		double p50 = bench_pct(lat, nq, 0.50), p99 = bench_pct(lat, nq, 0.99);
		if (p99 > worst_p99)
			worst_p99 = p99;
		printf("  %-22s %10.1f %10.1f %10.1f %8.1f\n", bench_shapes[sh].name, p50, p99,
		       hits / (double)nq, raw_ns > 0 ? p99 * 1000 / raw_ns : 0.0);
	}
	free(lat);
	figure("search_p99_worst", worst_p99 / 1000, "ms", "limit_5ms", worst_p99 / 1000 / 5.0, "1.0 (DESIGN §8)");
	if (raw_ns > 0)
		figure("search_p99_vs_raw_read", worst_p99 * 1000 / raw_ns, "x", "raw_lmdb_read",
		       worst_p99 * 1000 / raw_ns, "-");
	mycel_store_close(s);
	if (o->store == NULL)
		bench_rm_store(dir);
	for (int i = 0; i < 5; i++)
		mycel_key_free(keys[i]);
}

int main(int argc, char **argv)
{
	bool quick = false, search_only = false;
	size_t ndocs = 100000;
	search_opts so = {NULL, 0, 0, NULL};
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			quick = true;
		else if (strcmp(argv[i], "--docs") == 0 && i + 1 < argc)
			ndocs = (size_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--search-only") == 0)
			search_only = true;
		else if (strcmp(argv[i], "--store") == 0 && i + 1 < argc)
			so.store = argv[++i];
		else if (strcmp(argv[i], "--answers") == 0 && i + 1 < argc) {
			if ((so.answers = fopen(argv[++i], "w")) == NULL) {
				perror(argv[i]);
				return 1;
			}
		} else if (strcmp(argv[i], "--queries") == 0 && i + 1 < argc)
			so.nq = (size_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--shape") == 0 && i + 1 < argc &&
		         atoi(argv[i + 1]) >= 1 && atoi(argv[i + 1]) <= BENCH_NSHAPES)
			so.shape = atoi(argv[++i]);
		else {
			fprintf(stderr,
			        "usage: bench-catalog [--quick] [--docs N] [--search-only] "
			        "[--store DIR]\n"
			        "                     [--queries N] [--shape 1..%d] [--answers FILE]\n",
			        BENCH_NSHAPES);
			return 2;
		}
	}
	if (quick && ndocs == 100000)
		ndocs = 5000;
	if (sodium_init() < 0)
		return 1;
	bench_machine("one thread");
	if (!search_only) {
		bench_lint(quick);
		bench_publish(quick);
	}
	bench_search(ndocs, quick, &so);
	if (so.answers != NULL)
		fclose(so.answers);
	return 0;
}
