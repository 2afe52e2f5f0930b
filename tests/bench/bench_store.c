/*
 * bench_store.c — signing, appending and verifying entries, against raw libsodium.
 *
 * DESIGN.md §8: signing and publishing reach >= 80 % of the raw Ed25519 sign
 * rate, verifying >= 80 % of the raw verify rate (per core used; this program
 * uses one thread). Every figure is measured in this run beside its peer:
 *
 *   1. raw crypto_sign_detached / crypto_sign_verify_detached over 64
 *      distinct messages the size of a signed entry header;
 *   2. mycel_store_append into a fresh store in group-commit batches of 1, 16,
 *      256 and 1024 records (batch 1 is bound by the synchronous commit);
 *   3. a full read-and-verify pass over a stored feed (mycel_store_scan with
 *      signature, body hash and chain checks) and mycel_store_verify over the
 *      whole store.
 *
 * Each figure is the median of 5 repetitions; the repetitions of all figures
 * are interleaved (round r runs the r-th of each), so a burst of load from
 * elsewhere spoils one sample per figure, not a whole figure.
 * Usage: bench-store [--quick] [--verbose] [--indexed]: --quick is a smoke run
 * of about 3 s, --verbose prints every sample, in round order, before the
 * table, --indexed appends catalog documents (kind product) instead of
 * records the catalog does not index.
 * Stores live in a mkdtemp directory under $TMPDIR (or /tmp), removed at the
 * end. Exits 0 when every run worked (whether or not a limit was reached),
 * 1 when something failed.
 */
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "mycel/charter.h"
#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/store.h"

#define REPS 5
#define LIMIT 0.8
#define RAW_MSG_LEN 150 /* "mycel/entry/v1\0" ‖ a typical header (about 135 bytes) */

typedef struct params {
	double raw_secs;        /* per repetition of each raw loop */
	size_t append_count[4]; /* entries per repetition, per batch size */
	size_t verify_entries;  /* entries in the feed that is verified */
} params;

static const size_t BATCHES[4] = {1, 16, 256, 1024};

static const params FULL = {0.4, {200, 2048, 8192, 8192}, 20000};
static const params QUICK = {0.06, {30, 256, 1024, 1024}, 2000};

/* ---- helpers ---------------------------------------------------------------------- */

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
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void fail(const char *what, int rv)
{
	fprintf(stderr, "bench-store: %s: %s\n", what, mycel_strerror(rv));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void rm_tree(const char *dir)
{
	if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "bench-store: could not remove %s\n", dir);
}

static void print_machine(const char *tmp)
{
	struct utsname u;
	char line[512], model[256] = "unknown";
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			if (strncmp(line, "model name", 10) == 0) {
				const char *c = strchr(line, ':');
				if (c != NULL) {
					c++;
					while (*c == ' ' || *c == '\t')
						c++;
					snprintf(model, sizeof(model), "%s", c);
					model[strcspn(model, "\n")] = '\0';
				}
				break;
			}
		}
		fclose(f);
	}
	struct statfs sf;
	const char *fstype = "other";
	if (statfs(tmp, &sf) == 0) {
		if (sf.f_type == 0x01021994)
			fstype = "tmpfs (fsync is free)";
		else if (sf.f_type == 0xEF53)
			fstype = "ext4";
		else if (sf.f_type == 0x58465342)
			fstype = "xfs";
		else if (sf.f_type == 0x9123683E)
			fstype = "btrfs";
		else if (sf.f_type == 0x794c7630)
			fstype = "overlayfs";
	}
	printf("machine: %s, %s, nproc %ld; libsodium %s; store in %s (%s)\n",
	       uname(&u) == 0 ? u.machine : "unknown", model, sysconf(_SC_NPROCESSORS_ONLN),
	       sodium_version_string(), tmp, fstype);
}

/* ---- 1. raw libsodium ---------------------------------------------------------------- */

#define RAW_RING 64 /* distinct messages and signatures, as in a feed */

typedef struct raw_msgs {
	uint8_t msg[RAW_RING][RAW_MSG_LEN];
	uint8_t sig[RAW_RING][MYCEL_SIG_LEN];
} raw_msgs;

static void raw_init(raw_msgs *m, const mycel_key *key)
{
	for (size_t k = 0; k < RAW_RING; k++) {
		for (size_t i = 0; i < RAW_MSG_LEN; i++)
			m->msg[k][i] = (uint8_t)(i * 131 + k * 7 + 1);
		crypto_sign_detached(m->sig[k], NULL, m->msg[k], RAW_MSG_LEN, key->sk);
	}
}

/* Signatures per second over secs seconds. */
static double raw_sign_once(raw_msgs *m, const mycel_key *key, double secs)
{
	uint8_t sig[MYCEL_SIG_LEN];
	size_t n = 0;
	double t0 = now_s(), t;
	do {
		for (int j = 0; j < 16; j++, n++)
			crypto_sign_detached(sig, NULL, m->msg[n % RAW_RING], RAW_MSG_LEN, key->sk);
	} while ((t = now_s()) - t0 < secs);
	return (double)n / (t - t0);
}

/* Verifications per second over secs seconds, or -1 if a good signature was refused. */
static double raw_verify_once(raw_msgs *m, const mycel_key *key, double secs)
{
	size_t n = 0, bad = 0;
	double t0 = now_s(), t;
	do {
		for (int j = 0; j < 16; j++, n++)
			bad +=
			    crypto_sign_verify_detached(m->sig[n % RAW_RING], m->msg[n % RAW_RING],
			                                RAW_MSG_LEN, key->pk) != 0;
	} while ((t = now_s()) - t0 < secs);
	if (bad != 0) {
		fprintf(stderr, "bench-store: raw verify refused a good signature\n");
		return -1;
	}
	return (double)n / (t - t0);
}

/* ---- stores and bodies --------------------------------------------------------------- */

/* A fresh store in dir with a genesis charter admitting key's feed. */
static int make_store(const char *dir, const mycel_key *key, mycel_store **out)
{
	mycel_charter *c = NULL;
	mycel_store *s = NULL;
	mycel_buf b;
	char why[256] = "";
	int rv;

	mycel_buf_init(&b, MYCEL_CHARTER_MAX);
	if ((rv = mycel_charter_new("bench", 1, 1, &c)) != 0 ||
	    (rv = mycel_charter_add_member(c, "member", key->pk)) != 0 ||
	    (rv = mycel_charter_add_domain(c, "domain", key->pk)) != 0 ||
	    (rv = mycel_charter_sign(c, key, why, sizeof(why))) != 0 ||
	    (rv = mycel_charter_encode(c, &b)) != 0) {
		fprintf(stderr, "bench-store: charter: %s %s\n", mycel_strerror(rv), why);
		goto fail;
	}
	if ((rv = mycel_store_open(dir, MYCEL_STORE_CREATE, &s, why, sizeof(why))) != 0 ||
	    (rv = mycel_store_add_charter(s, b.data, b.len, why, sizeof(why))) != 0) {
		fprintf(stderr, "bench-store: store %s: %s %s\n", dir, mycel_strerror(rv), why);
		goto fail;
	}
	mycel_charter_free(c);
	mycel_buf_fini(&b);
	*out = s;
	return 0;
fail:
	mycel_store_close(s);
	mycel_charter_free(c);
	mycel_buf_fini(&b);
	return rv != 0 ? rv : MYCEL_EINVAL;
}

/*
 * The entry kind of the appended records. By default a kind that the catalog
 * does not index ("bench"), so the figures are the store's own sign + append;
 * with --indexed, "product", so every record is also indexed by the catalog
 * (DESIGN §3: documents are indexed in the entry's own transaction).
 */
static const char *rec_kind = "bench";

/*
 * Bodies for n records, each a distinct small product-like map of about
 * 160 bytes, all in one buffer; recs[i] point into it.
 */
typedef struct bodies {
	mycel_buf buf;
	size_t *off;
	mycel_record *recs;
	size_t n;
} bodies;

static void bodies_free(bodies *bd)
{
	mycel_buf_fini(&bd->buf);
	free(bd->off);
	free(bd->recs);
	memset(bd, 0, sizeof(*bd));
}

static int bodies_make(bodies *bd, size_t n, uint64_t first)
{
	char id[64];
	memset(bd, 0, sizeof(*bd));
	mycel_buf_init(&bd->buf, (size_t)1 << 30);
	bd->off = calloc(n + 1, sizeof(*bd->off));
	bd->recs = calloc(n, sizeof(*bd->recs));
	if (bd->off == NULL || bd->recs == NULL) {
		bodies_free(bd);
		return MYCEL_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		mycel_buf *b = &bd->buf;
		uint64_t k = first + i;
		bd->off[i] = b->len;
		snprintf(id, sizeof(id), "urn:bench:product:orders-%llu", (unsigned long long)k);
		mycel_enc_map(b, 6); /* keys in bytewise order */
		mycel_enc_cstr(b, "description");
		mycel_enc_cstr(b, "Daily orders, deduplicated and enriched with customer segments");
		mycel_enc_cstr(b, "id");
		mycel_enc_cstr(b, id);
		mycel_enc_cstr(b, "owner");
		mycel_enc_cstr(b, "sales");
		mycel_enc_cstr(b, "revision");
		mycel_enc_uint(b, k);
		mycel_enc_cstr(b, "tags");
		mycel_enc_array(b, 2);
		mycel_enc_cstr(b, "orders");
		mycel_enc_cstr(b, "gold");
		mycel_enc_cstr(b, "version");
		mycel_enc_cstr(b, "1.4.2");
	}
	if (bd->buf.err != 0) {
		int rv = bd->buf.err;
		bodies_free(bd);
		return rv;
	}
	bd->off[n] = bd->buf.len;
	for (size_t i = 0; i < n; i++) {
		bd->recs[i].kind = rec_kind;
		bd->recs[i].body = bd->buf.data + bd->off[i];
		bd->recs[i].body_len = bd->off[i + 1] - bd->off[i];
	}
	bd->n = n;
	return 0;
}

/* Appends all of bd in batches of batch; *secs gets the time spent in mycel_store_append. */
static int append_all(mycel_store *s, const mycel_key *key, const bodies *bd, size_t batch,
                      double *secs)
{
	double t0 = now_s();
	for (size_t i = 0; i < bd->n; i += batch) {
		size_t m = bd->n - i < batch ? bd->n - i : batch;
		int rv = mycel_store_append(s, key, key->pk, bd->recs + i, m, NULL);
		if (rv != 0) {
			fail("mycel_store_append", rv);
			return rv;
		}
	}
	*secs = now_s() - t0;
	return 0;
}

/* ---- 2. sign + append ---------------------------------------------------------------- */

/*
 * Appends n new records (numbered from first) in batches of batch; returns
 * entries per second, or -1. The bodies are made before the clock starts.
 */
static double append_once(mycel_store *s, const mycel_key *key, size_t n, uint64_t first,
                          size_t batch, double *body_len)
{
	bodies bd;
	double secs;
	int rv = bodies_make(&bd, n, first);
	if (rv != 0) {
		fail("bodies", rv);
		return -1;
	}
	rv = append_all(s, key, &bd, batch, &secs);
	*body_len = (double)bd.buf.len / (double)n;
	bodies_free(&bd);
	return rv == 0 ? (double)n / secs : -1;
}

/* ---- 3. verify ----------------------------------------------------------------------- */

typedef struct scan_ctx {
	const uint8_t *pk;
	mycel_entry prev;
	bool have_prev;
	size_t n, bad;
} scan_ctx;

static int scan_one(void *ctx, const mycel_entry *e, const uint8_t *body, size_t body_len)
{
	scan_ctx *c = ctx;
	if (mycel_entry_verify(e, c->pk) != 0 || body == NULL ||
	    mycel_entry_check_body(e, body, body_len) != 0 ||
	    mycel_entry_follows(c->have_prev ? &c->prev : NULL, e) != 0)
		c->bad++;
	c->prev = *e;
	c->have_prev = true;
	c->n++;
	return 0;
}

/* One full read-and-verify pass over key's feed: entries per second, or -1. */
static double scan_once(mycel_store *s, const mycel_key *key, size_t expect)
{
	scan_ctx c = {.pk = key->pk};
	double t0 = now_s();
	int rv = mycel_store_scan(s, key->pk, 1, scan_one, &c);
	double t = now_s() - t0;
	if (rv != 0 || c.bad != 0 || c.n != expect) {
		fprintf(stderr, "bench-store: scan: %s, %zu entries, %zu refused\n",
		        mycel_strerror(rv), c.n, c.bad);
		return -1;
	}
	return (double)c.n / t;
}

static void count_problem(void *ctx, const mycel_problem *p)
{
	size_t *n = ctx;
	if (*n < 5)
		fprintf(stderr, "bench-store: verify: %s seq %llu: %s\n", p->what,
		        (unsigned long long)p->seq, p->message);
	(*n)++;
}

/* mycel_store_verify over the whole store: entries per second, or -1. */
static double verify_once(mycel_store *s, size_t expect)
{
	mycel_verify_stats st;
	size_t problems = 0;
	double t0 = now_s();
	int rv = mycel_store_verify(s, count_problem, &problems, &st);
	double t = now_s() - t0;
	if (rv != 0 || problems != 0 || st.entries != expect) {
		fprintf(stderr, "bench-store: verify: %s, %zu entries, %zu problems\n",
		        mycel_strerror(rv), st.entries, problems);
		return -1;
	}
	return (double)st.entries / t;
}

/* ---- report -------------------------------------------------------------------------- */

typedef struct figure {
	char name[32];
	double value;
	const char *unit;
	const char *peer;
	double peer_value;
	double limit; /* 0: none */
} figure;

static bool verbose;

/*
 * Adds the figure that is the median of REPS samples (printed in round order
 * with --verbose), beside peer_value (its own value if 0); returns the median.
 */
static double add_figure(figure *f, size_t *nf, const char *name, double *samples, const char *unit,
                         const char *peer, double peer_value, double limit)
{
	figure *x = &f[(*nf)++];
	if (verbose) {
		printf("  %-18s", name);
		for (int i = 0; i < REPS; i++)
			printf(" %9.0f", samples[i]);
		printf("\n");
	}
	snprintf(x->name, sizeof(x->name), "%s", name);
	x->value = median(samples, REPS);
	x->unit = unit;
	x->peer = peer;
	x->peer_value = peer_value > 0 ? peer_value : x->value;
	x->limit = limit;
	return x->value;
}

static void print_table(const figure *f, size_t n)
{
	printf("\n%-18s %14s  %-10s %-11s %7s %7s\n", "figure", "value", "unit", "vs", "ratio",
	       "limit");
	for (size_t i = 0; i < n; i++) {
		double ratio = f[i].value / f[i].peer_value;
		char lim[16] = "-";
		if (f[i].limit > 0)
			snprintf(lim, sizeof(lim), "%.2f", f[i].limit);
		printf("%-18s %14.0f  %-10s %-11s %7.3f %7s%s\n", f[i].name, f[i].value, f[i].unit,
		       f[i].peer, ratio, lim,
		       f[i].limit > 0 && ratio < f[i].limit ? "  BELOW LIMIT" : "");
	}
	printf("\n");
	for (size_t i = 0; i < n; i++) {
		char lim[16] = "-";
		if (f[i].limit > 0)
			snprintf(lim, sizeof(lim), "%.2f", f[i].limit);
		printf("figure %s %.0f %s ratio %.3f (limit %s)\n", f[i].name, f[i].value,
		       f[i].unit, f[i].value / f[i].peer_value, lim);
	}
}

/* Opens the stores: one fresh store per batch size, and one holding a feed to verify. */
static int setup_stores(const params *pp, const char *tmp, const mycel_key *key,
                        mycel_store *app[4], mycel_store **ver)
{
	char dir[1200];
	for (int bi = 0; bi < 4; bi++) {
		snprintf(dir, sizeof(dir), "%s/append-%zu", tmp, BATCHES[bi]);
		if (make_store(dir, key, &app[bi]) != 0)
			return -1;
	}
	snprintf(dir, sizeof(dir), "%s/verify", tmp);
	if (make_store(dir, key, ver) != 0)
		return -1;
	bodies bd;
	double secs;
	int rv = bodies_make(&bd, pp->verify_entries, 0);
	if (rv != 0) {
		fail("bodies", rv);
		return -1;
	}
	rv = append_all(*ver, key, &bd, 1024, &secs);
	bodies_free(&bd);
	return rv == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const params *pp = &FULL;
	mycel_key *key = NULL;
	mycel_store *app[4] = {NULL}, *ver = NULL;
	static raw_msgs raw;
	char tmp[1024];
	double sign[REPS], verify[REPS], append[4][REPS], scan[REPS], store[REPS];
	double body_len = 0;
	int status = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			pp = &QUICK;
		} else if (strcmp(argv[i], "--verbose") == 0) {
			verbose = true;
		} else if (strcmp(argv[i], "--indexed") == 0) {
			rec_kind = "product";
		} else {
			fprintf(stderr, "usage: %s [--quick] [--verbose] [--indexed]\n", argv[0]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (sodium_init() < 0 || mycel_key_generate(&key) != 0) {
		fprintf(stderr, "bench-store: cannot initialise libsodium or make a key\n");
		return 1;
	}
	const char *base = getenv("TMPDIR");
	if (base == NULL || *base == '\0')
		base = "/tmp";
	if (strlen(base) > 900) {
		fprintf(stderr, "bench-store: TMPDIR is too long\n");
		mycel_key_free(key);
		return 1;
	}
	snprintf(tmp, sizeof(tmp), "%s/mycel-bench-XXXXXX", base);
	if (mkdtemp(tmp) == NULL) {
		perror("bench-store: mkdtemp");
		mycel_key_free(key);
		return 1;
	}
	print_machine(tmp);
	printf("one thread; each figure is the median of %d runs, the runs of all figures "
	       "interleaved%s\n",
	       REPS, pp == &QUICK ? " (quick)" : "");

	double t0 = now_s();
	raw_init(&raw, key);
	if (setup_stores(pp, tmp, key, app, &ver) != 0)
		goto done;
	/*
	 * Round r runs the r-th repetition of every figure, so that a burst of
	 * load from elsewhere on the machine spoils one sample of each figure
	 * rather than every sample of one.
	 */
	for (int r = 0; r < REPS; r++) {
		if ((sign[r] = raw_sign_once(&raw, key, pp->raw_secs)) < 0 ||
		    (verify[r] = raw_verify_once(&raw, key, pp->raw_secs)) < 0)
			goto done;
		for (int bi = 0; bi < 4; bi++) {
			size_t n = pp->append_count[bi];
			append[bi][r] =
			    append_once(app[bi], key, n, (uint64_t)r * n, BATCHES[bi], &body_len);
			if (append[bi][r] < 0)
				goto done;
		}
		if ((scan[r] = scan_once(ver, key, pp->verify_entries)) < 0 ||
		    (store[r] = verify_once(ver, pp->verify_entries)) < 0)
			goto done;
	}
	printf("raw Ed25519 over %d distinct %d-byte messages\n", RAW_RING, RAW_MSG_LEN);
	printf("append: records of kind \"%s\"%s\n", rec_kind,
	       strcmp(rec_kind, "product") == 0 ? " (indexed by the catalog)" : " (not indexed)");
	printf("append: bodies of %.0f bytes; entries per run: %zu, %zu, %zu, %zu (batches of "
	       "%zu, %zu, %zu, %zu); each batch size has its own fresh store, which grows by that "
	       "much each round\n",
	       body_len, pp->append_count[0], pp->append_count[1], pp->append_count[2],
	       pp->append_count[3], BATCHES[0], BATCHES[1], BATCHES[2], BATCHES[3]);
	printf("verify: a feed of %zu entries (scan: signature, body hash, chain; "
	       "store: mycel_store_verify)\n",
	       pp->verify_entries);

	figure f[8];
	size_t nf = 0;
	double raw_sign = add_figure(f, &nf, "raw_sign", sign, "sig/s", "raw_sign", 0, 0);
	double raw_verify = add_figure(f, &nf, "raw_verify", verify, "sig/s", "raw_verify", 0, 0);
	for (int bi = 0; bi < 4; bi++) {
		char name[32];
		snprintf(name, sizeof(name), "append_batch_%zu", BATCHES[bi]);
		add_figure(f, &nf, name, append[bi], "entries/s", "raw_sign", raw_sign,
		           BATCHES[bi] == 256 ? LIMIT : 0);
	}
	add_figure(f, &nf, "scan_verify", scan, "entries/s", "raw_verify", raw_verify, LIMIT);
	add_figure(f, &nf, "store_verify", store, "entries/s", "raw_verify", raw_verify, LIMIT);
	print_table(f, nf);
	printf("total time %.1f s\n", now_s() - t0);
	status = 0;
done:
	for (int bi = 0; bi < 4; bi++)
		mycel_store_close(app[bi]);
	mycel_store_close(ver);
	rm_tree(tmp);
	mycel_key_free(key);
	return status;
}
