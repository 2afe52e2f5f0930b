/*
 * bench_ingest.c — the gossip ingest path (src/ingest.c and the writer's MYCEL__WRITE_INGEST)
 * against the raw Ed25519 verify rate measured in the same run.
 *
 * DESIGN.md §8 / the gossip design: a batch of entries from the network is verified on the
 * receiving thread (split over `verify_threads` for large batches) and committed by the
 * node's writer; cold sync should reach >= 0.8 x the raw verify rate x cores used. Figures:
 *
 *   1. raw crypto_sign_verify_detached over 64 distinct 150-byte messages, one thread;
 *   2. mycel__ingest of N entries (one feed, in Push-sized batches of 500) into a fresh store
 *      through a writer thread, with 1 verify thread and with T (= online CPUs) threads.
 *
 * Each figure is the median of 3 repetitions. Usage: bench-ingest [--quick].
 * Stores live in a mkdtemp directory under $TMPDIR (or /tmp), removed at the end.
 */
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "mesh.h"
#include "mycel/charter.h"
#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/rpc.h"
#include "mycel/store.h"
#include "writer.h"

#define REPS 3
#define BATCH 500

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

static double median(double *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && v[k - 1] > v[k]; k--) {
			double t = v[k];
			v[k] = v[k - 1];
			v[k - 1] = t;
		}
	return v[n / 2];
}

static double raw_verify_rate(double secs)
{
	unsigned char pk[32], sk[64], msg[64][150], sig[64][64];
	crypto_sign_keypair(pk, sk);
	for (size_t i = 0; i < 64; i++) {
		randombytes_buf(msg[i], sizeof(msg[i]));
		crypto_sign_detached(sig[i], NULL, msg[i], sizeof(msg[i]), sk);
	}
	size_t n = 0;
	double t0 = now_s(), t;
	do {
		for (size_t i = 0; i < 64; i++)
			if (crypto_sign_verify_detached(sig[i], msg[i], sizeof(msg[i]), pk) != 0)
				return -1;
		n += 64;
	} while ((t = now_s() - t0) < secs);
	return (double)n / t;
}

typedef struct held {
	size_t n, cap;
	uint8_t *entry; /* n × MYCEL_ENTRY_MAX */
	size_t *entry_len;
	uint8_t *body; /* n × 64 */
	size_t *body_len;
} held;

static int hold_cb(void *ctx, const mycel_entry *e, const uint8_t *body, size_t body_len)
{
	held *h = ctx;
	if (h->n == h->cap || body_len > 64)
		return MYCEL_EINVAL;
	memcpy(h->entry + h->n * MYCEL_ENTRY_MAX, e->raw, e->len);
	h->entry_len[h->n] = e->len;
	memcpy(h->body + h->n * 64, body, body_len);
	h->body_len[h->n++] = body_len;
	return 0;
}

/* A charter of mesh "bench" admitting k's feed as "alpha", signed by gov. */
static int charter(const mycel_key *gov, const mycel_key *k, mycel_buf *out)
{
	mycel_charter *c = NULL;
	char why[256];
	int rv = mycel_charter_new("bench", 1, 1, &c);
	if (rv == 0)
		rv = mycel_charter_add_member(c, "gov", gov->pk);
	if (rv == 0)
		rv = mycel_charter_add_domain(c, "alpha", k->pk);
	if (rv == 0)
		rv = mycel_charter_sign(c, gov, why, sizeof(why));
	mycel_buf_init(out, MYCEL_CHARTER_MAX);
	if (rv == 0)
		rv = mycel_charter_encode(c, out);
	mycel_charter_free(c);
	return rv;
}

static mycel_store *new_store(const char *dir, const mycel_buf *cf)
{
	mycel_store *s = NULL;
	char why[256];
	if (mycel_store_open(dir, MYCEL_STORE_CREATE, &s, why, sizeof(why)) != 0)
		return NULL;
	if (mycel_store_add_charter(s, cf->data, cf->len, why, sizeof(why)) != 0) {
		mycel_store_close(s);
		return NULL;
	}
	return s;
}

/* Ingests every held entry into a fresh store at dir in batches; entries per second. */
static double ingest_rate(const char *dir, const mycel_buf *cf, const held *h, unsigned threads)
{
	mycel_store *s = new_store(dir, cf);
	mycel__frontier *f = NULL;
	mycel__writer *w = NULL;
	mycel_blob *b = malloc(BATCH * sizeof(*b));
	double rate = -1;
	if (s == NULL || b == NULL || mycel__frontier_open(s, &f) != 0)
		goto out;
	mycel_rpc_ctx ctx = {.store = s, .frontier = f};
	if (mycel__writer_start(&ctx, &w) != 0)
		goto out;
	ctx.wq = w;
	double t0 = now_s();
	for (size_t i = 0; i < h->n; i += BATCH) {
		size_t n = h->n - i < BATCH ? h->n - i : BATCH;
		mycel__ingest_result r;
		for (size_t k = 0; k < n; k++)
			b[k] =
			    (mycel_blob){h->entry + (i + k) * MYCEL_ENTRY_MAX, h->entry_len[i + k],
			                 h->body + (i + k) * 64, h->body_len[i + k]};
		if (mycel__ingest(&ctx, b, n, NULL, 0, "bench", threads, &r) != 0 ||
		    r.accepted != n) {
			fprintf(stderr, "ingest: %s\n", r.why);
			goto out;
		}
	}
	rate = (double)h->n / (now_s() - t0);
out:
	mycel__writer_free(w);
	mycel__frontier_free(f);
	mycel_store_close(s);
	free(b);
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	return rate;
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	size_t total = quick ? 4000 : 20000;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned T = cpus > 1 ? (unsigned)cpus : 1;
	char base[256], src[300], dst[300];
	const char *tmp = getenv("TMPDIR");
	mycel_key *gov = NULL, *k = NULL;
	mycel_buf cf;
	held h = {0};
	int rc = 1;

	if (sodium_init() < 0)
		return 1;
	snprintf(base, sizeof(base), "%s/mycel-bench-ingest-XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(base) == NULL)
		return 1;
	snprintf(src, sizeof(src), "%s/src", base);
	if (mycel_key_generate(&gov) != 0 || mycel_key_generate(&k) != 0 ||
	    charter(gov, k, &cf) != 0)
		goto out;
	mycel_store *s = new_store(src, &cf);
	if (s == NULL)
		goto out;
	/* the source feed: `total` small records, appended 1000 at a time */
	for (size_t i = 0; i < total; i += 1000) {
		mycel_buf bodies[1000];
		mycel_record recs[1000];
		for (size_t j = 0; j < 1000; j++) {
			mycel_buf_init(&bodies[j], 64);
			mycel_enc_map(&bodies[j], 1);
			mycel_enc_cstr(&bodies[j], "n");
			mycel_enc_uint(&bodies[j], i + j);
			recs[j] = (mycel_record){"domain", bodies[j].data, bodies[j].len};
		}
		int rv = mycel_store_append(s, k, k->pk, recs, 1000, NULL);
		for (size_t j = 0; j < 1000; j++)
			mycel_buf_fini(&bodies[j]);
		if (rv != 0) {
			mycel_store_close(s);
			goto out;
		}
	}
	h.cap = total;
	h.entry = malloc(total * MYCEL_ENTRY_MAX);
	h.entry_len = malloc(total * sizeof(size_t));
	h.body = malloc(total * 64);
	h.body_len = malloc(total * sizeof(size_t));
	if (!h.entry || !h.entry_len || !h.body || !h.body_len ||
	    mycel_store_scan(s, k->pk, 1, hold_cb, &h) != 0 || h.n != total) {
		mycel_store_close(s);
		goto out;
	}
	mycel_store_close(s);

	double raw[REPS], one[REPS], many[REPS];
	for (int r = 0; r < REPS; r++) {
		raw[r] = raw_verify_rate(quick ? 0.1 : 0.4);
		snprintf(dst, sizeof(dst), "%s/one%d", base, r);
		one[r] = ingest_rate(dst, &cf, &h, 1);
		snprintf(dst, sizeof(dst), "%s/many%d", base, r);
		many[r] = ingest_rate(dst, &cf, &h, T);
		if (raw[r] <= 0 || one[r] <= 0 || many[r] <= 0)
			goto out;
	}
	double R = median(raw, REPS), O = median(one, REPS), M = median(many, REPS);
	printf("entries            %zu in batches of %u (one feed)\n", total, BATCH);
	printf("raw verify         %10.0f /s  (1 thread)\n", R);
	printf("ingest, 1 thread   %10.0f /s  %.2f x raw\n", O, O / R);
	printf("ingest, %u threads  %10.0f /s  %.2f x raw x %u cores (%.2f x raw)\n", T, M,
	       M / (R * T), T, M / R);
	rc = 0;
out:
	free(h.entry);
	free(h.entry_len);
	free(h.body);
	free(h.body_len);
	mycel_key_free(gov);
	mycel_key_free(k);
	nftw(base, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	if (rc != 0)
		fprintf(stderr, "bench-ingest: a run failed\n");
	return rc;
}
