/*
 * bench_docs.h — what the benchmarks share: timing and percentiles, the machine line,
 * and the generated documents (small ODCS contracts, and copies of the valid corpus
 * examples with a new id, name, tags and description) loaded into a store whose charter
 * admits five domains. bench-catalog and bench-node search the same documents.
 *
 * Generation is deterministic: one xorshift state, advanced only by the caller's thread.
 */
#ifndef MYCEL_BENCH_DOCS_H
#define MYCEL_BENCH_DOCS_H

#include <stddef.h>
#include <stdint.h>

#include "mycel/codec.h"
#include "mycel/key.h"
#include "mycel/store.h"

#define BENCH_NDOMAINS 5

extern const char *const bench_words[];
extern const size_t bench_nwords;
extern const char *const bench_domains[BENCH_NDOMAINS];

/* Monotonic seconds. */
double bench_now(void);
/* Median and percentile p (0..1) of v[0..n-1]; both sort v. */
double bench_median(double *v, size_t n);
double bench_pct(double *v, size_t n, double p);
/* The next value of the shared xorshift generator (not thread-safe). */
uint64_t bench_rand(void);

/* $MYCEL_CORPUS or ../shared/corpus. */
const char *bench_corpus_dir(void);
/* The whole file, NUL-terminated, malloc'd; NULL if it cannot be read. */
char *bench_read_text(const char *path, size_t *n);

/* Prints "machine: ARCH, MODEL, nproc N; THREADS". */
void bench_machine(const char *threads);

/*
 * A small ODCS v3.2.0 contract, as canonical bytes, varied by i; its id, DOMAIN-WORD-i,
 * goes to out_id (BENCH_ID_MAX bytes) unless NULL.
 */
#define BENCH_ID_MAX 64
void bench_gen_contract(mycel_buf *b, size_t i, const char *domain, const char *version,
                        char *out_id);

/*
 * Templates from the corpus: every ODCS and ODPS document that EXPECTED.txt lists as
 * valid, up to 16 KB (the 192 KB AdventureWorks contract would make a 100 000-document
 * store mostly one document).
 */
typedef struct bench_templates {
	mycel_arena *a;
	const mycel_value *docs[64];
	size_t n;
} bench_templates;

/* Loads the templates (t->n == 0 when there is no corpus); free t->a afterwards. */
void bench_load_templates(bench_templates *t);

/*
 * Template i % n with a new id (DOMAIN-WORD-i, to out_id unless NULL), name, version "1.0.0",
 * tags, domain and description; canonical bytes appended to b.
 */
void bench_gen_from_template(mycel_buf *b, const bench_templates *t, size_t i, const char *domain,
                             mycel_arena *a, char *out_id);

/* A store in dir whose charter admits the five domains (keys[i] from seed i+1); exits on failure.
 */
mycel_store *bench_make_store(const char *dir, mycel_key **keys);
/* Removes a store made by bench_make_store (its two files and the directory). */
void bench_rm_store(const char *dir);

/* Where one generated document lives: its domain and id (version "1.0.0"). */
typedef struct bench_doc_ref {
	char domain[16];
	char id[BENCH_ID_MAX];
} bench_doc_ref;

/*
 * Appends ndocs generated documents to s in batches of 1000, batch k into domain k % 5,
 * each from the templates (or a synthetic contract when t->n == 0). refs (may be NULL)
 * receives each document's domain and id. Returns the bytes of canonical bodies written;
 * exits on failure.
 */
size_t bench_load_docs(mycel_store *s, mycel_key *const *keys, const bench_templates *t,
                       size_t ndocs, bench_doc_ref *refs);

/* The search query shapes both benchmarks measure. */
#define BENCH_NSHAPES 6
typedef struct bench_shape {
	const char *name; /* "one word", "two words", ... */
	int shape;
} bench_shape;
extern const bench_shape bench_shapes[BENCH_NSHAPES];

/* One generated query: text ("" for none), and a domain and a tag filter (NULL for none). */
typedef struct bench_query {
	char text[128];
	const char *domain;
	const char *tag;
} bench_query;

/* A random query of the given shape over a store of ndocs generated documents. */
void bench_gen_query(int shape, size_t ndocs, bench_query *out);

#endif
