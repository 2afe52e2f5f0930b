/*
 * bench-catalog: lint throughput, publish throughput and search latency, each
 * beside a reference measured in the same run.
 *
 *   bench-catalog [--quick] [--docs N]
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
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "mycel/catalog.h"
#include "mycel/charter.h"
#include "mycel/doc.h"
#include "mycel/lint.h"
#include "mycel/publish.h"
#include "mycel/store.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static double pct(double *v, size_t n, double p)
{
	qsort(v, n, sizeof(*v), cmp_double);
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static const char *corpus_dir(void)
{
	const char *c = getenv("MYCEL_CORPUS");
	return c && *c ? c : "../shared/corpus";
}

static char *read_text(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *p = malloc((size_t)len + 1);
	if (p != NULL && fread(p, 1, (size_t)len, f) != (size_t)len) {
		free(p);
		p = NULL;
	}
	fclose(f);
	if (p != NULL) {
		p[len] = '\0';
		*n = (size_t)len;
	}
	return p;
}

static void machine(void)
{
	struct utsname u;
	char model[256] = "?";
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f != NULL) {
		char line[512];
		while (fgets(line, sizeof(line), f))
			if (strncmp(line, "model name", 10) == 0) {
				char *c = strchr(line, ':');
				if (c) {
					snprintf(model, sizeof(model), "%s", c + 2);
					model[strcspn(model, "\n")] = '\0';
				}
				break;
			}
		fclose(f);
	}
	uname(&u);
	printf("machine: %s, %s, nproc %ld; one thread\n", u.machine, model, sysconf(_SC_NPROCESSORS_ONLN));
}

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
		 corpus_dir());
	char *text = read_text(path, &n);
	if (text == NULL) {
		printf("lint: %s not found (set MYCEL_CORPUS): skipped\n", path);
		return;
	}
	double parse_rates[5], lint_rates[5];
	double secs = quick ? 0.3 : 1.5;
	for (int r = 0; r < 5; r++) {
		for (int mode = 0; mode < 2; mode++) {
			size_t docs = 0;
			double t0 = now_s(), t;
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
				t = now_s() - t0;
			} while (t < secs);
			(mode ? lint_rates : parse_rates)[r] = (double)docs / t;
		}
	}
	double parse = median(parse_rates, 5), lint = median(lint_rates, 5);
	printf("\nlint of the AdventureWorks contract (%zu bytes), median of 5\n", n);
	printf("  parse only (YAML to tree)   %8.1f docs/s  %6.2f MB/s\n", parse, parse * (double)n / 1e6);
	printf("  parse + schema validation   %8.1f docs/s  %6.2f MB/s  (%.2f x parse rate)\n", lint,
	       lint * (double)n / 1e6, lint / parse);
	figure("lint_docs", lint, "docs/s", "parse", lint / parse, "-");
	figure("lint_mb", lint * (double)n / 1e6, "MB/s", "parse", lint / parse, "-");
	free(text);
}

/* ---- generated documents ---------------------------------------------------------------------------- */

static const char *words[] = {
    "orders",    "customer",  "invoice",  "shipment", "payment",   "refund",    "inventory", "product",
    "catalog",   "pricing",   "campaign", "session",  "clickstream", "ledger",  "journal",   "account",
    "warehouse", "supplier",  "contract", "return",   "forecast",  "revenue",   "margin",    "churn",
    "loyalty",   "segment",   "address",  "carrier",  "delivery",  "basket",    "checkout",  "coupon",
    "review",    "rating",    "stock",    "transfer", "budget",    "tax",       "currency",  "region",
    "store",     "employee",  "shift",    "payroll",  "claim",     "policy",    "risk",      "fraud",
    "device",    "event",     "audit",    "consent",  "profile",   "identity",  "subscription", "usage",
    "billing",   "settlement", "dispute", "chargeback", "lead",    "opportunity", "quote",   "booking"};
#define NWORDS (sizeof(words) / sizeof(words[0]))
static const char *domains[] = {"sales", "customers", "logistics", "finance", "marketing"};

/* A small ODCS v3.2.0 contract, as canonical bytes, varied by i. */
static void gen_contract(mycel_buf *b, size_t i, const char *domain, const char *version)
{
	char id[64], name[128], desc[256];
	const char *w1 = words[next_rand() % NWORDS], *w2 = words[next_rand() % NWORDS];
	const char *w3 = words[next_rand() % NWORDS];
	snprintf(id, sizeof(id), "%s-%s-%zu", domain, w1, i);
	snprintf(name, sizeof(name), "%s %s %zu", w1, w2, i);
	snprintf(desc, sizeof(desc), "The %s of every %s, joined with %s data for reporting.", w1, w2, w3);
	/* keys in bytewise order */
	mycel_enc_map(b, 9);
	mycel_enc_cstr(b, "apiVersion");
	mycel_enc_cstr(b, "v3.2.0");
	mycel_enc_cstr(b, "description");
	mycel_enc_map(b, 1);
	mycel_enc_cstr(b, "purpose");
	mycel_enc_cstr(b, desc);
	mycel_enc_cstr(b, "domain");
	mycel_enc_cstr(b, domain);
	mycel_enc_cstr(b, "id");
	mycel_enc_cstr(b, id);
	mycel_enc_cstr(b, "kind");
	mycel_enc_cstr(b, "DataContract");
	mycel_enc_cstr(b, "name");
	mycel_enc_cstr(b, name);
	mycel_enc_cstr(b, "schema");
	mycel_enc_array(b, 1);
	mycel_enc_map(b, 3);
	mycel_enc_cstr(b, "name");
	mycel_enc_cstr(b, w1);
	mycel_enc_cstr(b, "physicalType");
	mycel_enc_cstr(b, "table");
	mycel_enc_cstr(b, "properties");
	mycel_enc_array(b, 3);
	for (int p = 0; p < 3; p++) {
		char pn[64];
		snprintf(pn, sizeof(pn), "%s_%s", words[next_rand() % NWORDS], p == 0 ? "id" : "value");
		mycel_enc_map(b, 3);
		mycel_enc_cstr(b, "classification");
		mycel_enc_cstr(b, p == 2 ? "restricted" : "internal");
		mycel_enc_cstr(b, "logicalType");
		mycel_enc_cstr(b, "string");
		mycel_enc_cstr(b, "name");
		mycel_enc_cstr(b, pn);
	}
	mycel_enc_cstr(b, "tags");
	mycel_enc_array(b, 2);
	mycel_enc_cstr(b, w2);
	mycel_enc_cstr(b, w3);
	mycel_enc_cstr(b, "version");
	mycel_enc_cstr(b, version);
}

/*
 * Templates from the corpus: every ODCS and ODPS document that EXPECTED.txt
 * lists as valid, up to 16 KB (the 192 KB AdventureWorks contract would make
 * a 100 000-document store mostly one document).
 */
typedef struct templates {
	mycel_arena *a;
	const mycel_value *docs[64];
	size_t n;
} templates;

static void load_templates(templates *t)
{
	char path[1024], line[1024];
	memset(t, 0, sizeof(*t));
	mycel_arena_new((size_t)1 << 30, &t->a);
	snprintf(path, sizeof(path), "%s/EXPECTED.txt", corpus_dir());
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return;
	while (t->n < 64 && fgets(line, sizeof(line), f)) {
		char verdict[16], rel[900];
		if (sscanf(line, "%15s %899s", verdict, rel) != 2 || strcmp(verdict, "valid") != 0)
			continue;
		size_t n;
		snprintf(path, sizeof(path), "%s/%s", corpus_dir(), rel);
		char *text = read_text(path, &n);
		mycel_value *doc;
		if (text != NULL && n <= 16384 && mycel_doc_parse(text, n, NULL, t->a, &doc, NULL) == 0 &&
		    doc->type == MYCEL_T_MAP)
			t->docs[t->n++] = doc;
		free(text);
	}
	fclose(f);
}

static mycel_value str_value(mycel_arena *a, const char *s)
{
	mycel_value v;
	memset(&v, 0, sizeof(v));
	v.type = MYCEL_T_STR;
	v.v.s.ptr = mycel_arena_strdup(a, s, strlen(s));
	v.v.s.len = strlen(s);
	return v;
}

/* Template i % n with a new id, name, version, tags, domain and description; canonical bytes into b. */
static void gen_from_template(mycel_buf *b, const templates *t, size_t i, const char *domain,
			      mycel_arena *a)
{
	const mycel_value *tpl = t->docs[i % t->n];
	char id[64], name[128], desc[256];
	const char *w1 = words[next_rand() % NWORDS], *w2 = words[next_rand() % NWORDS];
	const char *w3 = words[next_rand() % NWORDS];
	snprintf(id, sizeof(id), "%s-%s-%zu", domain, w1, i);
	snprintf(name, sizeof(name), "%s %s %zu", w1, w2, i);
	snprintf(desc, sizeof(desc), "The %s of every %s, joined with %s data for reporting.", w1, w2, w3);
	size_t n = tpl->v.m.len;
	mycel_member *m = mycel_arena_alloc(a, (n + 6) * sizeof(*m));
	size_t k = 0;
	for (size_t j = 0; j < n; j++) {
		const char *key = tpl->v.m.items[j].key;
		if (strcmp(key, "id") && strcmp(key, "name") && strcmp(key, "tags") &&
		    strcmp(key, "description") && strcmp(key, "domain") && strcmp(key, "version"))
			m[k++] = tpl->v.m.items[j];
	}
	mycel_value tags;
	memset(&tags, 0, sizeof(tags));
	tags.type = MYCEL_T_ARRAY;
	tags.v.a.items = mycel_arena_alloc(a, 2 * sizeof(mycel_value));
	tags.v.a.items[0] = str_value(a, w2);
	tags.v.a.items[1] = str_value(a, w3);
	tags.v.a.len = 2;
	mycel_value d;
	memset(&d, 0, sizeof(d));
	d.type = MYCEL_T_MAP;
	d.v.m.items = mycel_arena_alloc(a, sizeof(mycel_member));
	d.v.m.items[0] = (mycel_member){"purpose", 7, str_value(a, desc)};
	d.v.m.len = 1;
	m[k++] = (mycel_member){"id", 2, str_value(a, id)};
	m[k++] = (mycel_member){"name", 4, str_value(a, name)};
	m[k++] = (mycel_member){"version", 7, str_value(a, "1.0.0")};
	m[k++] = (mycel_member){"domain", 6, str_value(a, domain)};
	m[k++] = (mycel_member){"tags", 4, tags};
	m[k++] = (mycel_member){"description", 11, d};
	mycel_value doc;
	memset(&doc, 0, sizeof(doc));
	doc.type = MYCEL_T_MAP;
	doc.v.m.items = m;
	doc.v.m.len = k;
	mycel_value_encode(&doc, b);
}

/* A store in dir whose charter admits the five domains (keys from seeds 1..5). */
static mycel_store *make_store(const char *dir, mycel_key **keys)
{
	mycel_store *s;
	mycel_charter *c;
	mycel_buf b;
	char why[256];
	for (int i = 0; i < 5; i++) {
		uint8_t seed[32];
		memset(seed, i + 1, sizeof(seed));
		mycel_key_from_seed(seed, &keys[i]);
	}
	mycel_charter_new("bench", 1, 1, &c);
	mycel_charter_add_member(c, "root", keys[0]->pk);
	for (int i = 0; i < 5; i++)
		mycel_charter_add_domain(c, domains[i], keys[i]->pk);
	mycel_charter_sign(c, keys[0], why, sizeof(why));
	mycel_buf_init(&b, MYCEL_CHARTER_MAX);
	mycel_charter_encode(c, &b);
	if (mycel_store_open(dir, MYCEL_STORE_CREATE, &s, why, sizeof(why)) != 0 ||
	    mycel_store_add_charter(s, b.data, b.len, why, sizeof(why)) != 0) {
		printf("cannot create a store in %s: %s\n", dir, why);
		exit(1);
	}
	mycel_buf_fini(&b);
	mycel_charter_free(c);
	return s;
}

static void rm_store(const char *dir)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
}

/* ---- 2. publish ---------------------------------------------------------------------------------------- */

static double raw_sign_rate(void)
{
	unsigned char pk[32], sk[64], sig[64], msg[150];
	crypto_sign_keypair(pk, sk);
	randombytes_buf(msg, sizeof(msg));
	double rates[5];
	for (int r = 0; r < 5; r++) {
		double t0 = now_s();
		for (int i = 0; i < 2000; i++)
			crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
		rates[r] = 2000 / (now_s() - t0);
	}
	return median(rates, 5);
}

static void bench_publish(bool quick)
{
	char dir[] = "/tmp/mycel-bench-pub-XXXXXX";
	mycel_key *keys[5];
	if (mkdtemp(dir) == NULL)
		return;
	rmdir(dir);
	mycel_store *s = make_store(dir, keys);
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
		double t0 = now_s();
		for (size_t done = 0; done < count; done += bs) {
			for (size_t k = 0; k < bs; k++) {
				mycel_buf b;
				mycel_value *v;
				mycel_buf_init(&b, 1 << 20);
				gen_contract(&b, base + done + k, "sales", "1.0.0");
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
		double rate = (double)count / (now_s() - t0);
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
	rm_store(dir);
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
		snprintf(k, sizeof(k), "%s\x1f%s-%zu", domains[i % 5], words[i % NWORDS], i);
		memset(v, 'x', sizeof(v));
		MDB_val kv = {strlen(k), k}, vv = {sizeof(v), v};
		mdb_put(txn, dbi, &kv, &vv, 0);
	}
	mdb_txn_commit(txn);
	size_t reads = quick ? 20000 : 200000;
	double t0 = now_s();
	mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
	size_t found = 0;
	for (size_t r = 0; r < reads; r++) {
		size_t i = (size_t)(next_rand() % nkeys);
		char k[64];
		snprintf(k, sizeof(k), "%s\x1f%s-%zu", domains[i % 5], words[i % NWORDS], i);
		MDB_val kv = {strlen(k), k}, vv;
		found += mdb_get(txn, dbi, &kv, &vv) == 0;
	}
	mdb_txn_abort(txn);
	double ns = (now_s() - t0) / (double)reads * 1e9;
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

static void bench_search(size_t ndocs, bool quick)
{
	char dir[] = "/tmp/mycel-bench-search-XXXXXX";
	mycel_key *keys[5];
	if (mkdtemp(dir) == NULL)
		return;
	rmdir(dir);
	mycel_store *s = make_store(dir, keys);
	printf("\nsearch over %zu generated documents in 5 domains (names, tags and descriptions drawn\n"
	       "from a %zu-word vocabulary)\n",
	       ndocs, (size_t)NWORDS);
	templates t;
	load_templates(&t);
	if (t.n > 0)
		printf("  documents: the %zu valid corpus examples of at most 16 KB, each copy with a new id, name,\n"
		       "  tags and description\n", t.n);
	else
		printf("  documents: synthetic contracts (no corpus found at %s)\n", corpus_dir());
	double t0 = now_s();
	size_t batch = 1000, bytes = 0;
	mycel_buf *bodies = calloc(batch, sizeof(*bodies));
	mycel_record *recs = calloc(batch, sizeof(*recs));
	for (size_t done = 0; done < ndocs;) {
		size_t d = (done / batch) % 5, m = ndocs - done < batch ? ndocs - done : batch;
		mycel_arena *ga;
		mycel_arena_new((size_t)1 << 30, &ga);
		for (size_t k = 0; k < m; k++) {
			mycel_buf_init(&bodies[k], 1 << 20);
			const char *kind = "contract";
			if (t.n > 0) {
				const mycel_value *kv = mycel_value_get(t.docs[(done + k) % t.n], "kind");
				if (kv != NULL && kv->type == MYCEL_T_STR && strcmp(kv->v.s.ptr, "DataProduct") == 0)
					kind = "product";
				gen_from_template(&bodies[k], &t, done + k, domains[d], ga);
			} else {
				gen_contract(&bodies[k], done + k, domains[d], "1.0.0");
			}
			bytes += bodies[k].len;
			recs[k] = (mycel_record){kind, bodies[k].data, bodies[k].len};
		}
		mycel_arena_free(ga);
		if (mycel_store_append(s, keys[d], keys[d]->pk, recs, m, NULL) != 0) {
			printf("search: append failed\n");
			exit(1);
		}
		for (size_t k = 0; k < m; k++)
			mycel_buf_fini(&bodies[k]);
		done += m;
	}
	double load = now_s() - t0;
	printf("  loaded in %.1f s (%.0f docs/s, %.1f MB of canonical bodies; append + catalog indexing)\n",
	       load, (double)ndocs / load, (double)bytes / 1e6);
	mycel_arena_free(t.a);
	free(bodies);
	free(recs);

	double raw_ns = raw_lmdb_read_ns(ndocs, quick);
	printf("  raw LMDB random read in a %zu-key table: %.0f ns\n", ndocs, raw_ns);

	struct {
		const char *name;
		int shape;
	} shapes[] = {{"one word", 1}, {"two words", 2}, {"prefix", 3}, {"word + domain facet", 4},
		      {"tag facet only", 5}, {"word + number (rare)", 6}};
	size_t nq = quick ? 200 : 2000;
	double *lat = malloc(nq * sizeof(*lat));
	double worst_p99 = 0;
	printf("  %-22s %10s %10s %10s %8s\n", "query", "p50 (us)", "p99 (us)", "hits(avg)", "p99/raw");
	for (size_t sh = 0; sh < sizeof(shapes) / sizeof(shapes[0]); sh++) {
		double hits = 0;
		for (size_t q = 0; q < nq; q++) {
			mycel_search_query qq;
			char text[128];
			memset(&qq, 0, sizeof(qq));
			qq.status = MYCEL_STATUS_VISIBLE;
			const char *w1 = words[next_rand() % NWORDS], *w2 = words[next_rand() % NWORDS];
			switch (shapes[sh].shape) {
			case 1: snprintf(text, sizeof(text), "%s", w1); qq.text = text; break;
			case 2: snprintf(text, sizeof(text), "%s %s", w1, w2); qq.text = text; break;
			case 3: snprintf(text, sizeof(text), "%.3s", w1); qq.text = text; break;
			case 4: snprintf(text, sizeof(text), "%s", w1); qq.text = text;
				qq.domain = domains[next_rand() % 5]; break;
			case 5: qq.tags[0] = w1; qq.n_tags = 1; break;
			case 6: snprintf(text, sizeof(text), "%s %zu", w1, (size_t)(next_rand() % ndocs));
				qq.text = text; break;
			}
			mycel_search_result r;
			double a = now_s();
			int rv = mycel_catalog_search(s, &qq, &r);
			lat[q] = (now_s() - a) * 1e6;
			if (rv != 0) {
				printf("search failed: %s\n", mycel_strerror(rv));
				exit(1);
			}
			hits += (double)r.total;
			mycel_search_result_fini(&r);
		}
		double p50 = pct(lat, nq, 0.50), p99 = pct(lat, nq, 0.99);
		if (p99 > worst_p99)
			worst_p99 = p99;
		printf("  %-22s %10.1f %10.1f %10.1f %8.1f\n", shapes[sh].name, p50, p99, hits / (double)nq,
		       p99 * 1000 / raw_ns);
	}
	free(lat);
	figure("search_p99_worst", worst_p99 / 1000, "ms", "limit_5ms", worst_p99 / 1000 / 5.0, "1.0 (DESIGN §8)");
	figure("search_p99_vs_raw_read", worst_p99 * 1000 / raw_ns, "x", "raw_lmdb_read", worst_p99 * 1000 / raw_ns, "-");
	mycel_store_close(s);
	rm_store(dir);
	for (int i = 0; i < 5; i++)
		mycel_key_free(keys[i]);
}

int main(int argc, char **argv)
{
	bool quick = false;
	size_t ndocs = 100000;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			quick = true;
		else if (strcmp(argv[i], "--docs") == 0 && i + 1 < argc)
			ndocs = (size_t)strtoul(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: bench-catalog [--quick] [--docs N]\n");
			return 2;
		}
	}
	if (quick && ndocs == 100000)
		ndocs = 5000;
	if (sodium_init() < 0)
		return 1;
	machine();
	bench_lint(quick);
	bench_publish(quick);
	bench_search(ndocs, quick);
	return 0;
}
