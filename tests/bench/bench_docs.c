/*
 * bench_docs.c — helpers and generated documents shared by the benchmarks (bench_docs.h).
 */
#include "bench_docs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "mycel/charter.h"
#include "mycel/doc.h"
#include "mycel/error.h"

double bench_now(void)
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

double bench_median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

double bench_pct(double *v, size_t n, double p)
{
	qsort(v, n, sizeof(*v), cmp_double);
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
uint64_t bench_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

const char *bench_corpus_dir(void)
{
	const char *c = getenv("MYCEL_CORPUS");
	return c && *c ? c : "../shared/corpus";
}

char *bench_read_text(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (len < 0) {
		fclose(f);
		return NULL;
	}
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

void bench_machine(const char *threads)
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
	printf("machine: %s, %s, nproc %ld; %s\n", u.machine, model, sysconf(_SC_NPROCESSORS_ONLN),
	       threads);
}

/* ---- generated documents ------------------------------------------------------------ */

const char *const bench_words[] = {
    "orders",   "customer",   "invoice",   "shipment",   "payment",  "refund",       "inventory",
    "product",  "catalog",    "pricing",   "campaign",   "session",  "clickstream",  "ledger",
    "journal",  "account",    "warehouse", "supplier",   "contract", "return",       "forecast",
    "revenue",  "margin",     "churn",     "loyalty",    "segment",  "address",      "carrier",
    "delivery", "basket",     "checkout",  "coupon",     "review",   "rating",       "stock",
    "transfer", "budget",     "tax",       "currency",   "region",   "store",        "employee",
    "shift",    "payroll",    "claim",     "policy",     "risk",     "fraud",        "device",
    "event",    "audit",      "consent",   "profile",    "identity", "subscription", "usage",
    "billing",  "settlement", "dispute",   "chargeback", "lead",     "opportunity",  "quote",
    "booking"};
#define NWORDS (sizeof(bench_words) / sizeof(bench_words[0]))
const size_t bench_nwords = NWORDS;
const char *const bench_domains[BENCH_NDOMAINS] = {"sales", "customers", "logistics", "finance",
                                                   "marketing"};

void bench_gen_contract(mycel_buf *b, size_t i, const char *domain, const char *version,
                        char *out_id)
{
	char id[BENCH_ID_MAX], name[128], desc[256];
	const char *w1 = bench_words[bench_rand() % NWORDS],
	           *w2 = bench_words[bench_rand() % NWORDS];
	const char *w3 = bench_words[bench_rand() % NWORDS];
	snprintf(id, sizeof(id), "%s-%s-%zu", domain, w1, i);
	snprintf(name, sizeof(name), "%s %s %zu", w1, w2, i);
	snprintf(desc, sizeof(desc), "The %s of every %s, joined with %s data for reporting.", w1,
	         w2, w3);
	if (out_id != NULL)
		memcpy(out_id, id, sizeof(id));
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
		snprintf(pn, sizeof(pn), "%s_%s", bench_words[bench_rand() % NWORDS],
		         p == 0 ? "id" : "value");
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

void bench_load_templates(bench_templates *t)
{
	char path[1024], line[1024];
	memset(t, 0, sizeof(*t));
	mycel_arena_new((size_t)1 << 30, &t->a);
	snprintf(path, sizeof(path), "%s/EXPECTED.txt", bench_corpus_dir());
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return;
	while (t->n < 64 && fgets(line, sizeof(line), f)) {
		char verdict[16], rel[900];
		if (sscanf(line, "%15s %899s", verdict, rel) != 2 || strcmp(verdict, "valid") != 0)
			continue;
		size_t n;
		snprintf(path, sizeof(path), "%s/%s", bench_corpus_dir(), rel);
		char *text = bench_read_text(path, &n);
		mycel_value *doc;
		if (text != NULL && n <= 16384 &&
		    mycel_doc_parse(text, n, NULL, t->a, &doc, NULL) == 0 &&
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

void bench_gen_from_template(mycel_buf *b, const bench_templates *t, size_t i, const char *domain,
                             mycel_arena *a, char *out_id)
{
	const mycel_value *tpl = t->docs[i % t->n];
	char id[BENCH_ID_MAX], name[128], desc[256];
	const char *w1 = bench_words[bench_rand() % NWORDS],
	           *w2 = bench_words[bench_rand() % NWORDS];
	const char *w3 = bench_words[bench_rand() % NWORDS];
	snprintf(id, sizeof(id), "%s-%s-%zu", domain, w1, i);
	snprintf(name, sizeof(name), "%s %s %zu", w1, w2, i);
	snprintf(desc, sizeof(desc), "The %s of every %s, joined with %s data for reporting.", w1,
	         w2, w3);
	if (out_id != NULL)
		memcpy(out_id, id, sizeof(id));
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

mycel_store *bench_make_store(const char *dir, mycel_key **keys)
{
	mycel_store *s;
	mycel_charter *c;
	mycel_buf b;
	char why[256];
	for (int i = 0; i < BENCH_NDOMAINS; i++) {
		uint8_t seed[32];
		memset(seed, i + 1, sizeof(seed));
		mycel_key_from_seed(seed, &keys[i]);
	}
	mycel_charter_new("bench", 1, 1, &c);
	mycel_charter_add_member(c, "root", keys[0]->pk);
	for (int i = 0; i < BENCH_NDOMAINS; i++)
		mycel_charter_add_domain(c, bench_domains[i], keys[i]->pk);
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

void bench_rm_store(const char *dir)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
}

size_t bench_load_docs(mycel_store *s, mycel_key *const *keys, const bench_templates *t,
                       size_t ndocs, bench_doc_ref *refs)
{
	size_t batch = 1000, bytes = 0;
	mycel_buf *bodies = calloc(batch, sizeof(*bodies));
	mycel_record *recs = calloc(batch, sizeof(*recs));
	if (bodies == NULL || recs == NULL) {
		printf("load: out of memory\n");
		exit(1);
	}
	for (size_t done = 0; done < ndocs;) {
		size_t d = (done / batch) % BENCH_NDOMAINS,
		       m = ndocs - done < batch ? ndocs - done : batch;
		mycel_arena *ga;
		mycel_arena_new((size_t)1 << 30, &ga);
		for (size_t k = 0; k < m; k++) {
			char *id = refs != NULL ? refs[done + k].id : NULL;
			mycel_buf_init(&bodies[k], 1 << 20);
			const char *kind = "contract";
			if (t->n > 0) {
				const mycel_value *kv =
				    mycel_value_get(t->docs[(done + k) % t->n], "kind");
				if (kv != NULL && kv->type == MYCEL_T_STR &&
				    strcmp(kv->v.s.ptr, "DataProduct") == 0)
					kind = "product";
				bench_gen_from_template(&bodies[k], t, done + k, bench_domains[d],
				                        ga, id);
			} else {
				bench_gen_contract(&bodies[k], done + k, bench_domains[d], "1.0.0",
				                   id);
			}
			if (refs != NULL)
				snprintf(refs[done + k].domain, sizeof(refs[done + k].domain), "%s",
				         bench_domains[d]);
			bytes += bodies[k].len;
			recs[k] = (mycel_record){kind, bodies[k].data, bodies[k].len};
		}
		mycel_arena_free(ga);
		int rv = mycel_store_append(s, keys[d], keys[d]->pk, recs, m, NULL);
		if (rv != 0) {
			printf("load: append failed: %s\n", mycel_strerror(rv));
			exit(1);
		}
		for (size_t k = 0; k < m; k++)
			mycel_buf_fini(&bodies[k]);
		done += m;
	}
	free(bodies);
	free(recs);
	return bytes;
}

/* ---- queries ------------------------------------------------------------------------ */

const bench_shape bench_shapes[BENCH_NSHAPES] = {
    {"one word", 1},       {"two words", 2},           {"prefix", 3}, {"word + domain facet", 4},
    {"tag facet only", 5}, {"word + number (rare)", 6}};

void bench_gen_query(int shape, size_t ndocs, bench_query *out)
{
	memset(out, 0, sizeof(*out));
	const char *w1 = bench_words[bench_rand() % NWORDS],
	           *w2 = bench_words[bench_rand() % NWORDS];
	switch (shape) {
	case 1:
		snprintf(out->text, sizeof(out->text), "%s", w1);
		break;
	case 2:
		snprintf(out->text, sizeof(out->text), "%s %s", w1, w2);
		break;
	case 3:
		snprintf(out->text, sizeof(out->text), "%.3s", w1);
		break;
	case 4:
		snprintf(out->text, sizeof(out->text), "%s", w1);
		out->domain = bench_domains[bench_rand() % BENCH_NDOMAINS];
		break;
	case 5:
		out->tag = w1;
		break;
	case 6:
		snprintf(out->text, sizeof(out->text), "%s %zu", w1,
		         (size_t)(bench_rand() % (ndocs ? ndocs : 1)));
		break;
	default:
		break;
	}
}
