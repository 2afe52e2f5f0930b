/*
 * gen_vectors.c — writes the golden vectors of entries and charters, and the
 * fuzz seed corpora built from them:
 *
 *   gen-vectors entry > proto/vectors/entry.txt
 *   gen-vectors charter > proto/vectors/charter.txt
 *   gen-vectors corpus tests/fuzz/corpus
 *
 * Valid vectors come from libmycel itself (mycel_entry_sign, mycel_charter_*);
 * invalid ones are built by hand with the mycel_enc_* writers, one flaw each,
 * and every one is decoded here and must give the code written next to it (the
 * program exits 1 otherwise). Not a test: tests/test_entry.c and
 * tests/test_charter.c read the files and recompute them independently.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "mycel/charter.h"
#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/key.h"

static int failures;
static FILE *out;          /* vector text, or NULL */
static const char *corpus; /* corpus directory for the current target, or NULL */

static void die(const char *what, int rv)
{
	fprintf(stderr, "gen-vectors: %s: %s\n", what, mycel_errname(rv));
	exit(1);
}

static void seed_fill(uint8_t seed[MYCEL_SEED_LEN], uint8_t start, uint8_t step)
{
	for (size_t i = 0; i < MYCEL_SEED_LEN; i++)
		seed[i] = (uint8_t)(start + step * i);
}

static mycel_key *key_of(const uint8_t seed[MYCEL_SEED_LEN])
{
	mycel_key *k;
	int rv = mycel_key_from_seed(seed, &k);
	if (rv != 0)
		die("mycel_key_from_seed", rv);
	return k;
}

static void put_hex(const char *label, const uint8_t *p, size_t n)
{
	char *h = malloc(2 * n + 1);
	if (h == NULL)
		die("malloc", MYCEL_ENOMEM);
	mycel_hex(p, n, h);
	if (out != NULL)
		fprintf(out, "%s %s\n", label, h);
	free(h);
}

static void corpus_file(const char *name, const uint8_t *p, size_t n)
{
	char path[4096];
	if (corpus == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", corpus, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || (n > 0 && fwrite(p, 1, n, f) != n) || fclose(f) != 0) {
		fprintf(stderr, "gen-vectors: cannot write %s\n", path);
		exit(1);
	}
}

/* ---- entries -------------------------------------------------------------- */

/* The header fields, each as its own pre-encoded bytes, so that one can be replaced. */
enum { F_VER, F_FEED, F_SEQ, F_PREV, F_TS, F_KIND, F_BH, NF };

typedef struct hfields {
	mycel_buf f[NF + 1]; /* one spare slot for an extra field */
	size_t nf;           /* fields written */
	uint32_t count;      /* array count written */
	bool as_map;         /* a fixmap header instead of the array's */
	uint8_t tail[4];     /* bytes appended after the header array */
	size_t ntail;
} hfields;

static void hf_init(hfields *h, const mycel_header *src)
{
	memset(h, 0, sizeof(*h));
	for (size_t i = 0; i <= NF; i++)
		mycel_buf_init(&h->f[i], 1024);
	mycel_enc_uint(&h->f[F_VER], 1);
	mycel_enc_bin(&h->f[F_FEED], src->feed, MYCEL_PK_LEN);
	mycel_enc_uint(&h->f[F_SEQ], src->seq);
	if (src->has_prev)
		mycel_enc_bin(&h->f[F_PREV], src->prev, MYCEL_HASH_LEN);
	else
		mycel_enc_nil(&h->f[F_PREV]);
	mycel_enc_uint(&h->f[F_TS], src->ts_ms);
	mycel_enc_cstr(&h->f[F_KIND], src->kind);
	mycel_enc_bin(&h->f[F_BH], src->body_hash, MYCEL_HASH_LEN);
	h->nf = NF;
	h->count = NF;
}

static void hf_fini(hfields *h)
{
	for (size_t i = 0; i <= NF; i++)
		mycel_buf_fini(&h->f[i]);
}

/* Replaces field i by raw bytes. */
static void hf_set(hfields *h, int i, const void *p, size_t n)
{
	mycel_buf_reset(&h->f[i]);
	mycel_buf_put(&h->f[i], p, n);
}

static void hf_bytes(const hfields *h, mycel_buf *b)
{
	if (h->as_map)
		mycel_enc_map(b, h->count);
	else
		mycel_enc_array(b, h->count);
	for (size_t i = 0; i < h->nf; i++)
		mycel_buf_put(b, h->f[i].data, h->f[i].len);
	mycel_buf_put(b, h->tail, h->ntail);
	if (b->err != 0)
		die("header bytes", b->err);
}

static void sign_header(const uint8_t *hdr, size_t n, const mycel_key *k, uint8_t sig[64])
{
	static const char ctx[] = "mycel/entry/v1";
	uint8_t *m = malloc(sizeof(ctx) + n);
	if (m == NULL)
		die("malloc", MYCEL_ENOMEM);
	memcpy(m, ctx, sizeof(ctx));
	memcpy(m + sizeof(ctx), hdr, n);
	crypto_sign_detached(sig, NULL, m, sizeof(ctx) + n, k->sk);
	free(m);
}

/* [header (bin), sig (bin)] with a properly signed header. */
static void entry_of(const hfields *h, const mycel_key *k, mycel_buf *e)
{
	mycel_buf hb;
	uint8_t sig[64];
	mycel_buf_init(&hb, 4096);
	hf_bytes(h, &hb);
	sign_header(hb.data, hb.len, k, sig);
	mycel_enc_array(e, 2);
	mycel_enc_bin(e, hb.data, hb.len);
	mycel_enc_bin(e, sig, sizeof(sig));
	mycel_buf_fini(&hb);
	if (e->err != 0)
		die("entry bytes", e->err);
}

static void invalid_entry(const char *name, int want, const uint8_t *p, size_t n)
{
	mycel_entry e;
	char file[256];
	int rv = mycel_entry_decode(p, n, &e);
	if (rv != want) {
		fprintf(stderr, "gen-vectors: invalid %s: decode gives %s, expected %s\n", name,
		        mycel_errname(rv), mycel_errname(want));
		failures++;
	}
	if (out != NULL) {
		char *h = malloc(2 * n + 1);
		mycel_hex(p, n, h);
		fprintf(out, "invalid %s %s %s\n", name, mycel_errname(want), h);
		free(h);
	}
	snprintf(file, sizeof(file), "invalid-%s", name);
	corpus_file(file, p, n);
}

static void fork_vector(const char *name, int want, const uint8_t *p, size_t n,
                        const uint8_t pk[MYCEL_PK_LEN])
{
	char file[256];
	int rv = mycel_fork_verify(p, n, pk, NULL, NULL);
	if (rv != want) {
		fprintf(stderr, "gen-vectors: fork %s: verify gives %s, expected %s\n", name,
		        mycel_errname(rv), mycel_errname(want));
		failures++;
	}
	if (out != NULL) {
		char *h = malloc(2 * n + 1);
		mycel_hex(p, n, h);
		fprintf(out, "fork %s %s %s\n", name, mycel_errname(want), h);
		free(h);
	}
	snprintf(file, sizeof(file), "fork-%s", name);
	corpus_file(file, p, n);
}

/* Bodies: small canonical maps, written with the writers in key order. */
static void body_of(int which, mycel_buf *b, const uint8_t *extra)
{
	switch (which) {
	case 0: /* {"contacts": ["team-orders@example.com"], "title": "Orders"} */
		mycel_enc_map(b, 2);
		mycel_enc_cstr(b, "contacts");
		mycel_enc_array(b, 1);
		mycel_enc_cstr(b, "team-orders@example.com");
		mycel_enc_cstr(b, "title");
		mycel_enc_cstr(b, "Orders");
		break;
	case 1: /* {"id": "orders-daily", "version": "1.0.0"} */
		mycel_enc_map(b, 2);
		mycel_enc_cstr(b, "id");
		mycel_enc_cstr(b, "orders-daily");
		mycel_enc_cstr(b, "version");
		mycel_enc_cstr(b, "1.0.0");
		break;
	case 2: /* {"id": "orders", "spec": {"n": 1, "neg": -5, "ok": true, "pi": 3.5}} */
		mycel_enc_map(b, 2);
		mycel_enc_cstr(b, "id");
		mycel_enc_cstr(b, "orders");
		mycel_enc_cstr(b, "spec");
		mycel_enc_map(b, 4);
		mycel_enc_cstr(b, "n");
		mycel_enc_uint(b, 1);
		mycel_enc_cstr(b, "neg");
		mycel_enc_int(b, -5);
		mycel_enc_cstr(b, "ok");
		mycel_enc_bool(b, true);
		mycel_enc_cstr(b, "pi");
		mycel_enc_float(b, 3.5);
		break;
	case 3: /* {} */
		mycel_enc_map(b, 0);
		break;
	case 4: /* nil */
		mycel_enc_nil(b);
		break;
	case 5: /* {"next": <32-byte bin>} */
		mycel_enc_map(b, 1);
		mycel_enc_cstr(b, "next");
		mycel_enc_bin(b, extra, 32);
		break;
	case 6: /* {"status": "deprecated", "version": "1.0.0"} */
		mycel_enc_map(b, 2);
		mycel_enc_cstr(b, "status");
		mycel_enc_cstr(b, "deprecated");
		mycel_enc_cstr(b, "version");
		mycel_enc_cstr(b, "1.0.0");
		break;
	}
	if (b->err != 0)
		die("body", b->err);
}

typedef struct vec {
	const char *name;
	const char *comment;
	uint8_t seed_start, seed_step; /* the signer's seed: start + step * i */
	int feed_of;                   /* -1: the signer's key; else feed of that vector */
	uint64_t seq;
	int prev_of; /* -1: none; -2: fixed bytes; else id of that vector */
	uint64_t ts_ms;
	const char *kind;
	int body;
} vec;

static const vec vecs[] = {
    {"genesis", "seq 1 of the feed of seed 000102..1f: prev is nil", 0x00, 1, -1, 1, -1,
     1700000000000ull, "domain", 0},
    {"second", "seq 2 chained to genesis: prev = id(genesis)", 0x00, 1, -1, 2, 0, 1700000000500ull,
     "product", 1},
    {"third", "seq 3 with the same ts as seq 2 (ts never decreases; equal is fine)", 0x00, 1, -1, 3,
     1, 1700000000500ull, "contract", 2},
    {"wide", "32-character kind, seq and ts above 2^32", 0x20, 1, -1, 4294967303ull, -2,
     1800000000000ull, "freshness_sla_report_for_product", 6},
    {"max", "the largest header (156 bytes) and entry (225 bytes): seq = ts = 2^64-1", 0xff, 0, -1,
     UINT64_MAX, -2, UINT64_MAX, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", 3},
    {"min", "the smallest header (75 bytes): seed of zeros, ts 0, kind of one letter", 0x00, 0, -1,
     1, -1, 0, "a", 4},
    {"rotated-a", "a key entry of the feed of seed 404142..5f, signed by that key", 0x40, 1, -1, 5,
     -2, 1700000100000ull, "key", 5},
    {"rotated-b", "the same header as rotated-a, signed by the key of seed 606162..7f", 0x60, 1, 6,
     5, -2, 1700000100000ull, "key", 5},
};
#define NVEC (sizeof(vecs) / sizeof(vecs[0]))

static void gen_entries(void)
{
	mycel_entry ents[NVEC];
	mycel_header hdrs[NVEC];
	mycel_key *keys[NVEC];
	uint8_t seed[MYCEL_SEED_LEN], next_seed[MYCEL_SEED_LEN];
	uint8_t fixed_prev[MYCEL_HASH_LEN];
	mycel_key *next_key;
	int rv;

	/* A fixed "prev" for vectors that do not start at seq 1: BLAKE2b-256("mycel test prev"). */
	mycel_body_hash((const uint8_t *)"mycel test prev", 15, fixed_prev);
	seed_fill(next_seed, 0x60, 1);
	next_key = key_of(next_seed);

	if (out != NULL) {
		fprintf(
		    out,
		    "# Entries (DESIGN.md §3, include/mycel/entry.h): golden vectors.\n"
		    "# Generated by tests/gen_vectors.c; checked by tests/test_entry.c.\n"
		    "#\n"
		    "# A valid vector is a block of `key value` lines, blocks separated by a\n"
		    "# blank line. seed is the signer's Ed25519 seed and pk its public key; feed\n"
		    "# is the header's feed (= pk, except for a rotated key). body is a canonical\n"
		    "# MessagePack body and body_hash = BLAKE2b-256(body). header is the signed\n"
		    "# header, id = BLAKE2b-256(\"mycel/id/v1\\0\" || header), sig = Ed25519 over\n"
		    "# \"mycel/entry/v1\\0\" || header, entry = [header (bin), sig (bin)].\n"
		    "# `follows NAME` says the entry follows vector NAME (mycel_entry_follows).\n"
		    "#\n"
		    "# `invalid NAME ERRNAME HEX`: mycel_entry_decode(HEX) must return ERRNAME.\n"
		    "# `fork NAME ERRNAME HEX`: mycel_fork_verify(HEX, pk of seed 000102..1f)\n"
		    "# must return ERRNAME (OK for a valid proof).\n");
	}

	for (size_t i = 0; i < NVEC; i++) {
		const vec *v = &vecs[i];
		mycel_header *h = &hdrs[i];
		mycel_buf body;
		memset(h, 0, sizeof(*h));
		seed_fill(seed, v->seed_start, v->seed_step);
		keys[i] = key_of(seed);
		if (v->feed_of < 0)
			memcpy(h->feed, keys[i]->pk, MYCEL_PK_LEN);
		else
			memcpy(h->feed, hdrs[v->feed_of].feed, MYCEL_PK_LEN);
		h->seq = v->seq;
		h->has_prev = v->prev_of != -1;
		if (v->prev_of == -2)
			memcpy(h->prev, fixed_prev, MYCEL_HASH_LEN);
		else if (v->prev_of >= 0)
			memcpy(h->prev, ents[v->prev_of].id, MYCEL_HASH_LEN);
		h->ts_ms = v->ts_ms;
		snprintf(h->kind, sizeof(h->kind), "%s", v->kind);
		mycel_buf_init(&body, 4096);
		body_of(v->body, &body, next_key->pk);
		mycel_body_hash(body.data, body.len, h->body_hash);
		if ((rv = mycel_entry_sign(h, keys[i], &ents[i])) != 0)
			die("mycel_entry_sign", rv);
		if (out != NULL) {
			fprintf(out, "\n# %s\nname %s\n", v->comment, v->name);
			put_hex("seed", seed, MYCEL_SEED_LEN);
			put_hex("pk", keys[i]->pk, MYCEL_PK_LEN);
			put_hex("feed", h->feed, MYCEL_PK_LEN);
			fprintf(out, "seq %llu\n", (unsigned long long)h->seq);
			if (h->has_prev)
				put_hex("prev", h->prev, MYCEL_HASH_LEN);
			else
				fprintf(out, "prev nil\n");
			fprintf(out, "ts_ms %llu\nkind %s\n", (unsigned long long)h->ts_ms,
			        h->kind);
			put_hex("body", body.data, body.len);
			put_hex("body_hash", h->body_hash, MYCEL_HASH_LEN);
			put_hex("header", ents[i].raw + ents[i].header_off, ents[i].header_len);
			put_hex("id", ents[i].id, MYCEL_HASH_LEN);
			put_hex("sig", ents[i].sig, MYCEL_SIG_LEN);
			put_hex("entry", ents[i].raw, ents[i].len);
			if (v->prev_of >= 0)
				fprintf(out, "follows %s\n", vecs[v->prev_of].name);
		}
		char file[64];
		snprintf(file, sizeof(file), "valid-%s", v->name);
		corpus_file(file, ents[i].raw, ents[i].len);
		mycel_buf_fini(&body);
	}

	/* ---- invalid entries, each with one flaw on the genesis or second entry ---- */
	if (out != NULL)
		fprintf(
		    out,
		    "\n# Invalid entries: each differs from genesis (or second) by one flaw.\n");
	const mycel_key *k = keys[0];
	const mycel_entry *g = &ents[0];
	const uint8_t *ghdr = g->raw + g->header_off;
	size_t ghlen = g->header_len;
	hfields hf;
	mycel_buf e, t;
	mycel_buf_init(&e, 4096);
	mycel_buf_init(&t, 4096);
	uint8_t tmp[1024];

#define RESET()                                                                                    \
	do {                                                                                       \
		mycel_buf_reset(&e);                                                               \
		mycel_buf_reset(&t);                                                               \
	} while (0)
#define WITH_FIELD(base, name, want, ...)                                                          \
	do {                                                                                       \
		RESET();                                                                           \
		hf_init(&hf, (base));                                                              \
		__VA_ARGS__;                                                                       \
		entry_of(&hf, k, &e);                                                              \
		invalid_entry(name, want, e.data, e.len);                                          \
		hf_fini(&hf);                                                                      \
	} while (0)

	/* Outer array shape. */
	RESET();
	mycel_enc_array(&e, 1);
	mycel_enc_bin(&e, ghdr, ghlen);
	invalid_entry("array-of-1", MYCEL_EFORMAT, e.data, e.len);
	RESET();
	mycel_enc_array(&e, 3);
	mycel_enc_bin(&e, ghdr, ghlen);
	mycel_enc_bin(&e, g->sig, 64);
	mycel_enc_nil(&e);
	invalid_entry("array-of-3", MYCEL_EFORMAT, e.data, e.len);
	RESET();
	mycel_enc_array(&e, 0);
	invalid_entry("array-of-0", MYCEL_EFORMAT, e.data, e.len);
	RESET();
	mycel_enc_map(&e, 1);
	mycel_enc_cstr(&e, "header");
	mycel_enc_bin(&e, ghdr, ghlen);
	invalid_entry("map-not-array", MYCEL_EFORMAT, e.data, e.len);
	RESET();
	mycel_enc_bin(&e, g->raw, g->len);
	invalid_entry("entry-as-bin", MYCEL_EFORMAT, e.data, e.len);
	RESET();
	tmp[0] = 0xdc; /* array16 of count 2: non-canonical outer array */
	tmp[1] = 0x00;
	tmp[2] = 0x02;
	mycel_buf_put(&e, tmp, 3);
	mycel_buf_put(&e, g->raw + 1, g->len - 1);
	invalid_entry("array16-outer", MYCEL_ENONCANON, e.data, e.len);

	/* Header and sig. */
	RESET();
	mycel_enc_array(&e, 2);
	mycel_enc_str(&e, (const char *)ghdr, 0);
	mycel_enc_bin(&e, g->sig, 64);
	invalid_entry("header-empty-str", MYCEL_EFORMAT, e.data, e.len);
	RESET();
	mycel_enc_array(&e, 2);
	mycel_buf_put(&e, ghdr, ghlen); /* the header array itself, not wrapped in a bin */
	mycel_enc_bin(&e, g->sig, 64);
	invalid_entry("header-not-bin", MYCEL_EFORMAT, e.data, e.len);
	RESET();
	mycel_enc_array(&e, 2);
	mycel_enc_nil(&e);
	mycel_enc_bin(&e, g->sig, 64);
	invalid_entry("header-nil", MYCEL_EFORMAT, e.data, e.len);
	RESET();
	mycel_enc_array(&e, 2);
	tmp[0] = 0xc5; /* bin16 for a header that fits a bin8 */
	tmp[1] = 0x00;
	tmp[2] = (uint8_t)ghlen;
	mycel_buf_put(&e, tmp, 3);
	mycel_buf_put(&e, ghdr, ghlen);
	mycel_enc_bin(&e, g->sig, 64);
	invalid_entry("header-bin16", MYCEL_ENONCANON, e.data, e.len);
	RESET();
	mycel_enc_array(&e, 2);
	mycel_enc_bin(&e, ghdr, ghlen);
	mycel_enc_bin(&e, g->sig, 63);
	invalid_entry("sig-63-bytes", MYCEL_EFORMAT, e.data, e.len);
	RESET();
	memcpy(tmp, g->sig, 64);
	tmp[64] = 0;
	mycel_enc_array(&e, 2);
	mycel_enc_bin(&e, ghdr, ghlen);
	mycel_enc_bin(&e, tmp, 65);
	invalid_entry("sig-65-bytes", MYCEL_EFORMAT, e.data, e.len);
	RESET();
	mycel_enc_array(&e, 2);
	mycel_enc_bin(&e, ghdr, ghlen);
	mycel_enc_nil(&e);
	invalid_entry("sig-nil", MYCEL_EFORMAT, e.data, e.len);
	RESET();
	mycel_enc_array(&e, 2);
	mycel_enc_bin(&e, ghdr, ghlen);
	mycel_enc_bin(&e, g->sig, 0);
	invalid_entry("sig-empty", MYCEL_EFORMAT, e.data, e.len);

	/* Header fields. */
	static const uint8_t u2[] = {0x02}, u0[] = {0x00}, neg1[] = {0xff}, cc01[] = {0xcc, 0x01},
	                     cd0001[] = {0xcd, 0x00, 0x01}, fnil[] = {0xc0}, ffalse[] = {0xc2},
	                     f1[] = {0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0};
	WITH_FIELD(&hdrs[0], "version-2", MYCEL_EVERSION, hf_set(&hf, F_VER, u2, 1));
	WITH_FIELD(&hdrs[0], "version-0", MYCEL_EVERSION, hf_set(&hf, F_VER, u0, 1));
	WITH_FIELD(&hdrs[0], "version-negative", MYCEL_EFORMAT, hf_set(&hf, F_VER, neg1, 1));
	WITH_FIELD(&hdrs[0], "version-uint8", MYCEL_ENONCANON, hf_set(&hf, F_VER, cc01, 2));
	WITH_FIELD(&hdrs[0], "version-str", MYCEL_EFORMAT,
	           (mycel_buf_reset(&hf.f[F_VER]), mycel_enc_cstr(&hf.f[F_VER], "1")));
	WITH_FIELD(&hdrs[0], "header-array-6", MYCEL_EFORMAT, (hf.nf = 6, hf.count = 6));
	WITH_FIELD(&hdrs[0], "header-array-8", MYCEL_EFORMAT,
	           (mycel_enc_nil(&hf.f[NF]), hf.nf = 8, hf.count = 8));
	WITH_FIELD(&hdrs[0], "header-count-8-fields-7", MYCEL_EFORMAT, hf.count = 8);
	WITH_FIELD(&hdrs[0], "header-count-6-fields-7", MYCEL_EFORMAT, hf.count = 6);
	WITH_FIELD(&hdrs[0], "header-map", MYCEL_EFORMAT, hf.as_map = true);
	WITH_FIELD(&hdrs[0], "seq-0", MYCEL_EFORMAT, hf_set(&hf, F_SEQ, u0, 1));
	WITH_FIELD(&hdrs[0], "seq-negative", MYCEL_EFORMAT, hf_set(&hf, F_SEQ, neg1, 1));
	WITH_FIELD(&hdrs[0], "seq-float", MYCEL_EFORMAT, hf_set(&hf, F_SEQ, f1, 9));
	WITH_FIELD(&hdrs[0], "seq-uint16-noncanonical", MYCEL_ENONCANON,
	           hf_set(&hf, F_SEQ, cd0001, 3));
	WITH_FIELD(&hdrs[1], "prev-nil-at-seq-2", MYCEL_EFORMAT, hf_set(&hf, F_PREV, fnil, 1));
	WITH_FIELD(&hdrs[0], "prev-at-seq-1", MYCEL_EFORMAT,
	           (mycel_buf_reset(&hf.f[F_PREV]), mycel_enc_bin(&hf.f[F_PREV], fixed_prev, 32)));
	WITH_FIELD(&hdrs[1], "prev-31-bytes", MYCEL_EFORMAT,
	           (mycel_buf_reset(&hf.f[F_PREV]), mycel_enc_bin(&hf.f[F_PREV], fixed_prev, 31)));
	WITH_FIELD(&hdrs[1], "prev-false", MYCEL_EFORMAT, hf_set(&hf, F_PREV, ffalse, 1));
	WITH_FIELD(&hdrs[1], "prev-str", MYCEL_EFORMAT,
	           (mycel_buf_reset(&hf.f[F_PREV]),
	            mycel_enc_str(&hf.f[F_PREV], "0123456789abcdef0123456789abcdef", 32)));
	WITH_FIELD(&hdrs[0], "feed-31-bytes", MYCEL_EFORMAT,
	           (mycel_buf_reset(&hf.f[F_FEED]), mycel_enc_bin(&hf.f[F_FEED], k->pk, 31)));
	memcpy(tmp, k->pk, 32);
	tmp[32] = 0;
	WITH_FIELD(&hdrs[0], "feed-33-bytes", MYCEL_EFORMAT,
	           (mycel_buf_reset(&hf.f[F_FEED]), mycel_enc_bin(&hf.f[F_FEED], tmp, 33)));
	WITH_FIELD(&hdrs[0], "feed-nil", MYCEL_EFORMAT, hf_set(&hf, F_FEED, fnil, 1));
	WITH_FIELD(&hdrs[0], "ts-negative", MYCEL_EFORMAT, hf_set(&hf, F_TS, neg1, 1));
	tmp[0] = 0xcf; /* 1700000000000 as uint64: shortest is uint64 too; use 5 as uint64 */
	memset(tmp + 1, 0, 8);
	tmp[8] = 5;
	WITH_FIELD(&hdrs[0], "ts-uint64-noncanonical", MYCEL_ENONCANON, hf_set(&hf, F_TS, tmp, 9));
	WITH_FIELD(&hdrs[0], "ts-nil", MYCEL_EFORMAT, hf_set(&hf, F_TS, fnil, 1));
#define KIND(nm, want, s, n)                                                                       \
	WITH_FIELD(&hdrs[0], nm, want,                                                             \
	           (mycel_buf_reset(&hf.f[F_KIND]), mycel_enc_str(&hf.f[F_KIND], s, n)))
	KIND("kind-uppercase", MYCEL_EFORMAT, "Domain", 6);
	KIND("kind-empty", MYCEL_EFORMAT, "", 0);
	KIND("kind-33-chars", MYCEL_EFORMAT, "abcdefghijklmnopqrstuvwxyzabcdefg", 33);
	KIND("kind-leading-digit", MYCEL_EFORMAT, "1domain", 7);
	KIND("kind-leading-underscore", MYCEL_EFORMAT, "_domain", 7);
	KIND("kind-hyphen", MYCEL_EFORMAT, "data-product", 12);
	KIND("kind-space", MYCEL_EFORMAT, "data product", 12);
	KIND("kind-embedded-nul", MYCEL_EFORMAT, "domain\0x", 8);
	KIND("kind-trailing-nul", MYCEL_EFORMAT, "domain\0", 7);
	KIND("kind-non-ascii", MYCEL_EFORMAT, "caf\xc3\xa9", 5);
	WITH_FIELD(&hdrs[0], "kind-invalid-utf8", MYCEL_EUTF8,
	           hf_set(&hf, F_KIND, "\xa3\x61\xff\x62", 4));
	WITH_FIELD(&hdrs[0], "kind-str8-noncanonical", MYCEL_ENONCANON,
	           hf_set(&hf, F_KIND,
	                  "\xd9\x06"
	                  "domain",
	                  8));
	WITH_FIELD(&hdrs[0], "kind-as-bin", MYCEL_EFORMAT,
	           (mycel_buf_reset(&hf.f[F_KIND]),
	            mycel_enc_bin(&hf.f[F_KIND], (const uint8_t *)"domain", 6)));
	WITH_FIELD(
	    &hdrs[0], "body-hash-31-bytes", MYCEL_EFORMAT,
	    (mycel_buf_reset(&hf.f[F_BH]), mycel_enc_bin(&hf.f[F_BH], hdrs[0].body_hash, 31)));
	WITH_FIELD(&hdrs[0], "body-hash-nil", MYCEL_EFORMAT, hf_set(&hf, F_BH, fnil, 1));
	WITH_FIELD(&hdrs[0], "trailing-byte-in-header", MYCEL_ETRAILING,
	           (hf.tail[0] = 0xc0, hf.ntail = 1));
	WITH_FIELD(&hdrs[0], "header-ends-in-body-hash", MYCEL_ETRUNC, (hf.f[F_BH].len -= 1));
	WITH_FIELD(&hdrs[0], "header-without-body-hash", MYCEL_ETRUNC, hf.nf = 6);

	/* Trailing bytes, sizes, truncation of the genesis entry. */
	RESET();
	mycel_buf_put(&e, g->raw, g->len);
	tmp[0] = 0x00;
	mycel_buf_put(&e, tmp, 1);
	invalid_entry("trailing-byte-after-entry", MYCEL_ETRAILING, e.data, e.len);
	RESET();
	mycel_buf_put(&e, ents[4].raw, ents[4].len); /* max: 225 bytes */
	memset(tmp, 0, 32);
	mycel_buf_put(&e, tmp, 32);
	invalid_entry("too-big-257-bytes", MYCEL_ETOOBIG, e.data, e.len);
	RESET();
	memset(tmp, 'a', 200);
	WITH_FIELD(
	    &hdrs[0], "kind-200-chars-too-big", MYCEL_ETOOBIG,
	    (mycel_buf_reset(&hf.f[F_KIND]), mycel_enc_str(&hf.f[F_KIND], (char *)tmp, 200)));
	WITH_FIELD(
	    &hdrs[0], "header-over-160-bytes", MYCEL_EFORMAT,
	    (mycel_buf_reset(&hf.f[F_KIND]), mycel_enc_str(&hf.f[F_KIND], (char *)tmp, 100)));
	static const size_t cuts[] = {0, 1, 2, 3, 40, 0 /* header only */, 0 /* mid sig */,
	                              0 /* last byte */};
	static const char *const cut_names[] = {
	    "truncated-empty", "truncated-at-1",         "truncated-at-2",   "truncated-at-3",
	    "truncated-at-40", "truncated-after-header", "truncated-in-sig", "truncated-last-byte"};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		size_t n = cuts[i];
		if (i == 5)
			n = g->header_off + g->header_len;
		else if (i == 6)
			n = g->header_off + g->header_len + 2 + 30;
		else if (i == 7)
			n = g->len - 1;
		invalid_entry(cut_names[i], MYCEL_ETRUNC, g->raw, n);
	}

	/* ---- fork proofs (key: pk of seed 000102..1f) ---- */
	if (out != NULL)
		fprintf(out, "\n# Fork proofs, checked under the key of seed 000102..1f.\n");
	mycel_header alt = hdrs[1];
	mycel_entry a2;
	snprintf(alt.kind, sizeof(alt.kind), "lifecycle");
	if ((rv = mycel_entry_sign(&alt, k, &a2)) != 0)
		die("sign alt", rv);
	uint8_t proof[MYCEL_FORK_MAX];
	size_t plen;
	if ((rv = mycel_fork_encode(&ents[1], &a2, proof, &plen)) != 0)
		die("fork encode", rv);
	fork_vector("valid", 0, proof, plen, k->pk);
	const mycel_entry *lo = memcmp(ents[1].id, a2.id, 32) < 0 ? &ents[1] : &a2;
	const mycel_entry *hi = lo == &a2 ? &ents[1] : &a2;
#define PROOF(nm, want, ver, x, y, extra)                                                          \
	do {                                                                                       \
		RESET();                                                                           \
		mycel_enc_array(&e, (extra) ? 4 : 3);                                              \
		mycel_enc_uint(&e, ver);                                                           \
		mycel_enc_bin(&e, (x)->raw, (x)->len);                                             \
		mycel_enc_bin(&e, (y)->raw, (y)->len);                                             \
		if (extra)                                                                         \
			mycel_enc_nil(&e);                                                         \
		fork_vector(nm, want, e.data, e.len, k->pk);                                       \
	} while (0)
	PROOF("swapped", MYCEL_EFORMAT, 1, hi, lo, 0);
	PROOF("same-entry-twice", MYCEL_EFORMAT, 1, lo, lo, 0);
	PROOF("version-2", MYCEL_EVERSION, 2, lo, hi, 0);
	PROOF("array-of-4", MYCEL_EFORMAT, 1, lo, hi, 1);
	/* Different seq: second and third are both valid entries of the feed. */
	lo = memcmp(ents[1].id, ents[2].id, 32) < 0 ? &ents[1] : &ents[2];
	hi = lo == &ents[2] ? &ents[1] : &ents[2];
	PROOF("different-seq", MYCEL_EFORMAT, 1, lo, hi, 0);
	/* Different feed: same seq 2 in another feed (seed 202122..3f). */
	mycel_header other = hdrs[1];
	mycel_entry o2;
	memcpy(other.feed, keys[3]->pk, 32);
	if ((rv = mycel_entry_sign(&other, keys[3], &o2)) != 0)
		die("sign other", rv);
	lo = memcmp(ents[1].id, o2.id, 32) < 0 ? &ents[1] : &o2;
	hi = lo == &o2 ? &ents[1] : &o2;
	PROOF("different-feed", MYCEL_EFORMAT, 1, lo, hi, 0);
	/* Bad signature: the alternative entry signed by another key. */
	mycel_entry bad;
	if ((rv = mycel_entry_sign(&alt, keys[3], &bad)) != 0)
		die("sign bad", rv);
	lo = memcmp(ents[1].id, bad.id, 32) < 0 ? &ents[1] : &bad;
	hi = lo == &bad ? &ents[1] : &bad;
	PROOF("bad-signature", MYCEL_EBADSIG, 1, lo, hi, 0);
	/* Form. */
	RESET();
	mycel_buf_put(&e, proof, plen);
	tmp[0] = 0;
	mycel_buf_put(&e, tmp, 1);
	fork_vector("trailing-byte", MYCEL_ETRAILING, e.data, e.len, k->pk);
	fork_vector("truncated", MYCEL_ETRUNC, proof, plen - 1, k->pk);
	fork_vector("truncated-at-3", MYCEL_ETRUNC, proof, 3, k->pk);
	fork_vector("empty", MYCEL_ETRUNC, proof, 0, k->pk);
	RESET();
	mycel_enc_array(&e, 3);
	tmp[0] = 0xcc;
	tmp[1] = 0x01;
	mycel_buf_put(&e, tmp, 2);
	mycel_buf_put(&e, proof + 2, plen - 2);
	fork_vector("version-uint8-noncanonical", MYCEL_ENONCANON, e.data, e.len, k->pk);
	RESET();
	mycel_enc_array(&e, 3);
	mycel_enc_uint(&e, 1);
	mycel_enc_bin(&e, lo->raw, lo->len);
	mycel_buf_put(&e, lo->raw, lo->len); /* entry_b not wrapped in a bin */
	fork_vector("entry-not-bin", MYCEL_EFORMAT, e.data, e.len, k->pk);
	RESET();
	mycel_enc_array(&e, 3);
	mycel_enc_uint(&e, 1);
	mycel_enc_bin(&e, ents[1].raw, ents[1].len - 1);
	mycel_enc_bin(&e, a2.raw, a2.len);
	fork_vector("inner-entry-truncated", MYCEL_ETRUNC, e.data, e.len, k->pk);

	mycel_buf_fini(&e);
	mycel_buf_fini(&t);
	for (size_t i = 0; i < NVEC; i++)
		mycel_key_free(keys[i]);
	mycel_key_free(next_key);
#undef RESET
#undef WITH_FIELD
#undef KIND
#undef PROOF
}

/* ---- charters ------------------------------------------------------------- */

/* A charter body written key by key, so that any part can be bent. */
typedef struct cmember {
	const char *name;
	size_t name_len; /* 0: strlen */
	const uint8_t *key;
	size_t key_len;    /* 0: 32 */
	const char *extra; /* an extra key (sorted last), or NULL */
	bool no_name, swap;
} cmember;

typedef struct cpolicy {
	const char *id, *severity, *expr, *message;
	size_t sev_len; /* 0: strlen */
	const char *extra;
	bool no_expr;
} cpolicy;

typedef struct cspec {
	const char *mesh;
	uint64_t version, threshold;
	cmember members[8];
	size_t nm;
	cmember domains[8];
	size_t nd;
	cpolicy policies[4];
	size_t np;
	bool params_kv;       /* params = {"retention_days": 30} */
	const char *omit;     /* top-level key to leave out */
	const char *extra;    /* extra top-level key, written in sorted place */
	bool swap;            /* write "members" before "domains" */
	bool dup_key;         /* write "domains" twice */
	const char *override; /* top-level key whose value is replaced by override_val */
	const uint8_t *override_val;
	size_t override_len;
	bool params_array, policies_map;
} cspec;

static void enc_pairs(mycel_buf *b, const cmember *m, size_t n, const char *keyname)
{
	mycel_enc_array(b, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		uint32_t cnt = 2 - (m[i].no_name ? 1 : 0) + (m[i].extra ? 1 : 0);
		mycel_enc_map(b, cnt);
		if (m[i].swap) {
			mycel_enc_cstr(b, "name");
			mycel_enc_str(b, m[i].name,
			              m[i].name_len ? m[i].name_len : strlen(m[i].name));
		}
		mycel_enc_cstr(b, keyname);
		mycel_enc_bin(b, m[i].key, m[i].key_len ? m[i].key_len : 32);
		if (!m[i].no_name && !m[i].swap) {
			mycel_enc_cstr(b, "name");
			mycel_enc_str(b, m[i].name,
			              m[i].name_len ? m[i].name_len : strlen(m[i].name));
		}
		if (m[i].extra != NULL) {
			mycel_enc_cstr(b, m[i].extra);
			mycel_enc_nil(b);
		}
	}
}

static void enc_policies(mycel_buf *b, const cpolicy *p, size_t n)
{
	mycel_enc_array(b, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		uint32_t cnt = 4 - (p[i].no_expr ? 1 : 0) + (p[i].extra ? 1 : 0);
		mycel_enc_map(b, cnt);
		if (!p[i].no_expr) {
			mycel_enc_cstr(b, "expr");
			mycel_enc_cstr(b, p[i].expr);
		}
		mycel_enc_cstr(b, "id");
		mycel_enc_cstr(b, p[i].id);
		mycel_enc_cstr(b, "message");
		mycel_enc_cstr(b, p[i].message);
		mycel_enc_cstr(b, "severity");
		mycel_enc_str(b, p[i].severity,
		              p[i].sev_len ? p[i].sev_len : strlen(p[i].severity));
		if (p[i].extra != NULL) {
			mycel_enc_cstr(b, p[i].extra);
			mycel_enc_nil(b);
		}
	}
}

static void enc_top_value(mycel_buf *b, const cspec *s, const char *key)
{
	if (s->override != NULL && strcmp(key, s->override) == 0) {
		mycel_buf_put(b, s->override_val, s->override_len);
		return;
	}
	if (strcmp(key, "domains") == 0) {
		enc_pairs(b, s->domains, s->nd, "feed");
	} else if (strcmp(key, "members") == 0) {
		enc_pairs(b, s->members, s->nm, "key");
	} else if (strcmp(key, "mesh") == 0) {
		mycel_enc_cstr(b, s->mesh);
	} else if (strcmp(key, "params") == 0) {
		if (s->params_array) {
			mycel_enc_array(b, 0);
		} else if (s->params_kv) {
			mycel_enc_map(b, 1);
			mycel_enc_cstr(b, "retention_days");
			mycel_enc_uint(b, 30);
		} else {
			mycel_enc_map(b, 0);
		}
	} else if (strcmp(key, "policies") == 0) {
		if (s->policies_map)
			mycel_enc_map(b, 0);
		else
			enc_policies(b, s->policies, s->np);
	} else if (strcmp(key, "threshold") == 0) {
		mycel_enc_uint(b, s->threshold);
	} else if (strcmp(key, "version") == 0) {
		mycel_enc_uint(b, s->version);
	} else {
		mycel_enc_nil(b);
	}
}

static void charter_body(const cspec *s, mycel_buf *b)
{
	static const char *const std[] = {"domains",  "members",   "mesh",   "params",
	                                  "policies", "threshold", "version"};
	const char *keys[10];
	size_t n = 0;
	for (size_t i = 0; i < 7; i++)
		if (s->omit == NULL || strcmp(s->omit, std[i]) != 0)
			keys[n++] = std[i];
	if (s->extra != NULL) {
		size_t at = 0;
		while (at < n && strcmp(keys[at], s->extra) < 0)
			at++;
		memmove(&keys[at + 1], &keys[at], (n - at) * sizeof(*keys));
		keys[at] = s->extra;
		n++;
	}
	if (s->dup_key) { /* "domains" twice */
		memmove(&keys[1], &keys[0], n * sizeof(*keys));
		n++;
	}
	if (s->swap) {
		const char *t = keys[0];
		keys[0] = keys[1];
		keys[1] = t;
	}
	mycel_enc_map(b, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		mycel_enc_cstr(b, keys[i]);
		enc_top_value(b, s, keys[i]);
	}
	if (b->err != 0)
		die("charter body", b->err);
}

static int key_cmp(const void *a, const void *b)
{
	const mycel_key *const *x = a, *const *y = b;
	return memcmp((*x)->pk, (*y)->pk, MYCEL_PK_LEN);
}

/* [charter (bin), [[key, sig] ...]] with signatures by signers, sorted unless told otherwise. */
typedef struct fspec {
	bool unsorted, duplicate, short_sig, sig_triple, trailing;
} fspec;

static void charter_file(const uint8_t *body, size_t blen, mycel_key **signers, size_t ns,
                         const fspec *f, mycel_buf *b)
{
	static const char ctx[] = "mycel/charter/v1";
	mycel_key *sorted[8];
	uint8_t sigs[8][64];
	memcpy(sorted, signers, ns * sizeof(*signers));
	qsort(sorted, ns, sizeof(*sorted), key_cmp);
	if (f->unsorted && ns >= 2) {
		mycel_key *t = sorted[0];
		sorted[0] = sorted[1];
		sorted[1] = t;
	}
	uint8_t *m = malloc(sizeof(ctx) + blen);
	if (m == NULL)
		die("malloc", MYCEL_ENOMEM);
	memcpy(m, ctx, sizeof(ctx));
	memcpy(m + sizeof(ctx), body, blen);
	for (size_t i = 0; i < ns; i++)
		crypto_sign_detached(sigs[i], NULL, m, sizeof(ctx) + blen, sorted[i]->sk);
	free(m);
	size_t total = ns + (f->duplicate ? 1 : 0);
	mycel_enc_array(b, 2);
	mycel_enc_bin(b, body, blen);
	mycel_enc_array(b, (uint32_t)total);
	for (size_t i = 0; i < ns; i++) {
		size_t reps = f->duplicate && i == 0 ? 2 : 1;
		for (size_t r = 0; r < reps; r++) {
			mycel_enc_array(b, f->sig_triple && i == 0 ? 3 : 2);
			mycel_enc_bin(b, sorted[i]->pk, 32);
			mycel_enc_bin(b, sigs[i], f->short_sig && i == 0 ? 63 : 64);
			if (f->sig_triple && i == 0)
				mycel_enc_nil(b);
		}
	}
	if (f->trailing)
		mycel_buf_put(b, "", 1);
	if (b->err != 0)
		die("charter file", b->err);
}

static void invalid_charter(const char *name, int want, const uint8_t *p, size_t n)
{
	mycel_charter *c = NULL;
	char why[256] = "";
	char file[256];
	int rv = mycel_charter_decode(p, n, &c, why, sizeof(why));
	if (rv != want) {
		fprintf(stderr,
		        "gen-vectors: invalid charter %s: decode gives %s (%s), expected %s\n",
		        name, mycel_errname(rv), why, mycel_errname(want));
		failures++;
	}
	if (rv == 0)
		mycel_charter_free(c);
	if (out != NULL) {
		char *h = malloc(2 * n + 1);
		mycel_hex(p, n, h);
		fprintf(out, "invalid %s %s %s\n", name, mycel_errname(want), h);
		free(h);
	}
	snprintf(file, sizeof(file), "invalid-%s", name);
	corpus_file(file, p, n);
}

/* Members and domains of the golden charters. */
static const char *const member_names[] = {"alice", "bob", "carol", "dave"};
static const uint8_t member_seed[] = {0xa1, 0xb0, 0xca, 0xda}; /* seed = 32 times this byte */
static const char *const domain_names[] = {"orders", "payments", "shipping"};
static const uint8_t domain_seed[] = {0x01, 0x02, 0x03};

static void gen_charters(void)
{
	mycel_key *mk[4], *dk[3];
	uint8_t seed[MYCEL_SEED_LEN];
	char why[256];
	int rv;

	for (size_t i = 0; i < 4; i++) {
		memset(seed, member_seed[i], sizeof(seed));
		mk[i] = key_of(seed);
	}
	for (size_t i = 0; i < 3; i++) {
		memset(seed, domain_seed[i], sizeof(seed));
		dk[i] = key_of(seed);
	}
	if (out != NULL)
		fprintf(
		    out,
		    "# Charters (DESIGN.md §4, include/mycel/charter.h): golden vectors.\n"
		    "# Generated by tests/gen_vectors.c; checked by tests/test_charter.c.\n"
		    "#\n"
		    "# A vector is a block of `key value` lines. `member NAME SEED PK` and\n"
		    "# `domain NAME SEED FEED` list members and domains in the order they are\n"
		    "# added (seeds are the Ed25519 seeds of the member keys and domain feeds);\n"
		    "# `signer NAME` signs with that member's key. charter is the canonical\n"
		    "# charter map, file the charter file [charter (bin), signatures], digest\n"
		    "# BLAKE2b-256(charter) (for version 1, the mesh id). `follows NAME` says the\n"
		    "# charter passes mycel_charter_verify_next after vector NAME.\n"
		    "#\n"
		    "# `invalid NAME ERRNAME HEX`: mycel_charter_decode(HEX) must return "
		    "ERRNAME.\n");

	/* Two golden charters: genesis (alice, bob, carol; 2 of 3; orders and payments; signed
	 * by alice and bob) and v2 (adds dave and shipping, 3 of 4; signed by alice, bob, dave). */
	mycel_charter *cs[2];
	mycel_buf files[2];
	for (int v = 0; v < 2; v++) {
		size_t nmem = v == 0 ? 3 : 4, ndom = v == 0 ? 2 : 3;
		size_t signers[3] = {0, 1, 3};
		size_t nsig = v == 0 ? 2 : 3;
		uint32_t thr = v == 0 ? 2 : 3;
		if ((rv = mycel_charter_new("acme-mesh", (uint64_t)v + 1, thr, &cs[v])) != 0)
			die("charter new", rv);
		for (size_t i = 0; i < nmem; i++)
			if ((rv = mycel_charter_add_member(cs[v], member_names[i], mk[i]->pk)) != 0)
				die("add member", rv);
		for (size_t i = 0; i < ndom; i++)
			if ((rv = mycel_charter_add_domain(cs[v], domain_names[i], dk[i]->pk)) != 0)
				die("add domain", rv);
		for (size_t i = 0; i < nsig; i++)
			if ((rv = mycel_charter_sign(cs[v], mk[signers[i]], why, sizeof(why))) != 0)
				die("charter sign", rv);
		mycel_buf_init(&files[v], MYCEL_CHARTER_MAX);
		if ((rv = mycel_charter_encode(cs[v], &files[v])) != 0)
			die("charter encode", rv);
		uint8_t digest[32];
		if ((rv = mycel_charter_digest(cs[v], digest)) != 0)
			die("charter digest", rv);
		/* The charter bytes are the bin inside the file: [bin8/16 header...]. */
		mycel_rd r;
		uint32_t cnt;
		const uint8_t *body;
		size_t blen;
		mycel_rd_init(&r, files[v].data, files[v].len);
		if (mycel_rd_array(&r, &cnt) != 0 || mycel_rd_bin(&r, &body, &blen) != 0)
			die("charter file shape", MYCEL_EFORMAT);
		if (out != NULL) {
			fprintf(
			    out, "\n# %s\nname %s\nmesh acme-mesh\nversion %d\nthreshold %u\n",
			    v == 0
			        ? "genesis: alice, bob, carol; 2 of 3; orders and payments; "
			          "signed by alice and bob"
			        : "v2: adds dave and shipping; 3 of 4; signed by alice, bob, dave",
			    v == 0 ? "genesis" : "v2", v + 1, thr);
			for (size_t i = 0; i < nmem; i++) {
				char sh[65], ph[65];
				memset(seed, member_seed[i], sizeof(seed));
				mycel_hex(seed, 32, sh);
				mycel_hex(mk[i]->pk, 32, ph);
				fprintf(out, "member %s %s %s\n", member_names[i], sh, ph);
			}
			for (size_t i = 0; i < ndom; i++) {
				char sh[65], ph[65];
				memset(seed, domain_seed[i], sizeof(seed));
				mycel_hex(seed, 32, sh);
				mycel_hex(dk[i]->pk, 32, ph);
				fprintf(out, "domain %s %s %s\n", domain_names[i], sh, ph);
			}
			for (size_t i = 0; i < nsig; i++)
				fprintf(out, "signer %s\n", member_names[signers[i]]);
			put_hex("charter", body, blen);
			put_hex("file", files[v].data, files[v].len);
			put_hex("digest", digest, 32);
			if (v == 1)
				fprintf(out, "follows genesis\n");
		}
		corpus_file(v == 0 ? "valid-genesis" : "valid-v2", files[v].data, files[v].len);
	}
	if (mycel_charter_verify_genesis(cs[0], why, sizeof(why)) != 0 ||
	    mycel_charter_verify_next(cs[0], cs[1], why, sizeof(why)) != 0)
		die("golden charters do not verify", MYCEL_ECHARTER);

	/*
	 * v3 (PROTOCOL.md §3.4): v2 with the payments key declared compromised after seq 5, its
	 * successor the key of seed 04..04; signed by alice, bob and dave. mycel_charter_next of
	 * the decoded v2, so this also pins the next-version builder's bytes.
	 */
	{
		mycel_charter *dv2 = NULL, *v3 = NULL;
		mycel_key *succ;
		mycel_buf f3;
		uint8_t digest[32];
		size_t signers[3] = {0, 1, 3};
		memset(seed, 0x04, sizeof(seed));
		succ = key_of(seed);
		if ((rv = mycel_charter_decode(files[1].data, files[1].len, &dv2, why, sizeof(why))) != 0 ||
		    (rv = mycel_charter_next(dv2, &v3)) != 0 ||
		    (rv = mycel_charter_compromise(v3, "payments", 5, succ->pk)) != 0)
			die("charter v3", rv);
		for (size_t i = 0; i < 3; i++)
			if ((rv = mycel_charter_sign(v3, mk[signers[i]], why, sizeof(why))) != 0)
				die("charter v3 sign", rv);
		if (mycel_charter_verify_next(cs[1], v3, why, sizeof(why)) != 0)
			die("golden v3 does not follow v2", MYCEL_ECHARTER);
		mycel_buf_init(&f3, MYCEL_CHARTER_MAX);
		if ((rv = mycel_charter_encode(v3, &f3)) != 0 ||
		    (rv = mycel_charter_digest(v3, digest)) != 0)
			die("charter v3 encode", rv);
		mycel_rd r;
		uint32_t cnt;
		const uint8_t *body;
		size_t blen;
		mycel_rd_init(&r, f3.data, f3.len);
		if (mycel_rd_array(&r, &cnt) != 0 || mycel_rd_bin(&r, &body, &blen) != 0)
			die("charter file shape", MYCEL_EFORMAT);
		if (out != NULL) {
			char sh[65], ph[65], ch[65];
			fprintf(out,
			        "\n# v3: v2 with the payments key compromised after seq 5 (successor: seed "
			        "04..04);\n# signed by alice, bob, dave. `domain` lines give the domains as "
			        "bound in v3;\n# `compromised SEED FEED SEQ SUCCESSOR`: the compromised "
			        "feed (from its seed), its cut, its successor.\n"
			        "name v3\nmesh acme-mesh\nversion 3\nthreshold 3\n");
			for (size_t i = 0; i < 4; i++) {
				memset(seed, member_seed[i], sizeof(seed));
				mycel_hex(seed, 32, sh);
				mycel_hex(mk[i]->pk, 32, ph);
				fprintf(out, "member %s %s %s\n", member_names[i], sh, ph);
			}
			for (size_t i = 0; i < 3; i++) {
				const mycel_key *k = i == 1 ? succ : dk[i];
				memset(seed, i == 1 ? 0x04 : domain_seed[i], sizeof(seed));
				mycel_hex(seed, 32, sh);
				mycel_hex(k->pk, 32, ph);
				fprintf(out, "domain %s %s %s\n", domain_names[i], sh, ph);
			}
			memset(seed, domain_seed[1], sizeof(seed));
			mycel_hex(seed, 32, sh);
			mycel_hex(dk[1]->pk, 32, ph);
			mycel_hex(succ->pk, 32, ch);
			fprintf(out, "compromised %s %s 5 %s\n", sh, ph, ch);
			for (size_t i = 0; i < 3; i++)
				fprintf(out, "signer %s\n", member_names[signers[i]]);
			put_hex("charter", body, blen);
			put_hex("file", f3.data, f3.len);
			put_hex("digest", digest, 32);
			fprintf(out, "follows v2\n");
		}
		corpus_file("valid-v3-compromised", f3.data, f3.len);
		mycel_buf_fini(&f3);
		mycel_charter_free(v3);
		mycel_charter_free(dv2);
		mycel_key_free(succ);
	}

	/* ---- invalid charters: each the genesis with one flaw ---- */
	if (out != NULL)
		fprintf(out, "\n# Invalid charter files: each is the genesis with one flaw.\n");
	cspec base;
	memset(&base, 0, sizeof(base));
	base.mesh = "acme-mesh";
	base.version = 1;
	base.threshold = 2;
	base.nm = 3;
	for (size_t i = 0; i < 3; i++)
		base.members[i] = (cmember){.name = member_names[i], .key = mk[i]->pk};
	base.nd = 2;
	for (size_t i = 0; i < 2; i++)
		base.domains[i] = (cmember){.name = domain_names[i], .key = dk[i]->pk};
	mycel_key *ab[2] = {mk[0], mk[1]};
	static const fspec plain = {0};
	mycel_buf body, file;
	mycel_buf_init(&body, MYCEL_CHARTER_MAX);
	mycel_buf_init(&file, 2 * MYCEL_CHARTER_MAX);

	/* Check that the hand-built base reproduces the golden file exactly. */
	charter_body(&base, &body);
	charter_file(body.data, body.len, ab, 2, &plain, &file);
	if (file.len != files[0].len || memcmp(file.data, files[0].data, file.len) != 0)
		die("hand-built genesis differs from the library's", MYCEL_ECHARTER);

	/* A valid variant with policies and params, for the corpus and the test. */
	cspec pol = base;
	pol.np = 2;
	pol.policies[0] = (cpolicy){"owner-required",
	                            "deny",
	                            "has(contract.owner)",
	                            "every contract names its owner",
	                            0,
	                            NULL,
	                            false};
	pol.policies[1] = (cpolicy){
	    "description", "warn", "size(contract.description) > 0", "describe the contract", 0,
	    NULL,          false};
	pol.params_kv = true;
	mycel_buf_reset(&body);
	mycel_buf_reset(&file);
	charter_body(&pol, &body);
	charter_file(body.data, body.len, ab, 2, &plain, &file);
	{
		mycel_charter *c;
		if ((rv = mycel_charter_decode(file.data, file.len, &c, why, sizeof(why))) != 0)
			die(why, rv);
		if ((rv = mycel_charter_verify_genesis(c, why, sizeof(why))) != 0)
			die(why, rv);
		mycel_charter_free(c);
		if (out != NULL) {
			fprintf(out, "\n# A valid genesis with two policies and params "
			             "{retention_days: 30}\n# (members, domains and signers as in "
			             "genesis).\nname policies\n");
			put_hex("charter", body.data, body.len);
			put_hex("file", file.data, file.len);
			uint8_t d[32];
			crypto_generichash(d, 32, body.data, body.len, NULL, 0);
			put_hex("digest", d, 32);
			fprintf(out, "\n");
		}
		corpus_file("valid-policies", file.data, file.len);
	}

#define CASE(nm, want, ...)                                                                        \
	do {                                                                                       \
		cspec s = base;                                                                    \
		fspec fs = plain;                                                                  \
		mycel_key **sg = ab;                                                               \
		size_t nsg = 2;                                                                    \
		__VA_ARGS__;                                                                       \
		(void)fs;                                                                          \
		mycel_buf_reset(&body);                                                            \
		mycel_buf_reset(&file);                                                            \
		charter_body(&s, &body);                                                           \
		charter_file(body.data, body.len, sg, nsg, &fs, &file);                            \
		invalid_charter(nm, want, file.data, file.len);                                    \
	} while (0)

	/* Top level. */
	CASE("unknown-top-level-key", MYCEL_ECHARTER, s.extra = "admins");
	CASE("unknown-top-level-key-last", MYCEL_ECHARTER, s.extra = "zone");
	CASE("missing-mesh", MYCEL_ECHARTER, s.omit = "mesh");
	CASE("missing-params", MYCEL_ECHARTER, s.omit = "params");
	CASE("missing-policies", MYCEL_ECHARTER, s.omit = "policies");
	CASE("missing-threshold", MYCEL_ECHARTER, s.omit = "threshold");
	CASE("missing-version", MYCEL_ECHARTER, s.omit = "version");
	CASE("missing-members", MYCEL_ECHARTER, s.omit = "members");
	CASE("missing-domains", MYCEL_ECHARTER, s.omit = "domains");
	CASE("keys-out-of-order", MYCEL_EKEYORDER, s.swap = true);
	CASE("duplicate-key", MYCEL_EKEYORDER, s.dup_key = true);
	CASE("mesh-uppercase", MYCEL_ECHARTER, s.mesh = "Acme");
	CASE("mesh-leading-dash", MYCEL_ECHARTER, s.mesh = "-acme");
	CASE("mesh-trailing-dash", MYCEL_ECHARTER, s.mesh = "acme-");
	CASE("mesh-empty", MYCEL_ECHARTER, s.mesh = "");
	CASE("mesh-65-chars", MYCEL_ECHARTER,
	     s.mesh = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	CASE("mesh-underscore", MYCEL_ECHARTER, s.mesh = "acme_mesh");
	static const uint8_t nul_mesh[] = {0xa6, 'a', 'c', 'm', 'e', 0, 'x'};
	CASE("mesh-embedded-nul", MYCEL_ECHARTER,
	     (s.override = "mesh", s.override_val = nul_mesh, s.override_len = sizeof(nul_mesh)));
	static const uint8_t bin_mesh[] = {0xc4, 4, 'a', 'c', 'm', 'e'};
	CASE("mesh-as-bin", MYCEL_ECHARTER,
	     (s.override = "mesh", s.override_val = bin_mesh, s.override_len = sizeof(bin_mesh)));
	CASE("version-0", MYCEL_ECHARTER, s.version = 0);
	static const uint8_t neg[] = {0xff};
	CASE("version-negative", MYCEL_ECHARTER,
	     (s.override = "version", s.override_val = neg, s.override_len = 1));
	static const uint8_t cc01[] = {0xcc, 0x01};
	CASE("version-uint8-noncanonical", MYCEL_ENONCANON,
	     (s.override = "version", s.override_val = cc01, s.override_len = 2));
	CASE("threshold-0", MYCEL_ECHARTER, s.threshold = 0);
	CASE("threshold-4-of-3", MYCEL_ECHARTER, s.threshold = 4);
	CASE("threshold-256", MYCEL_ECHARTER, s.threshold = 256);
	CASE("threshold-2-pow-32", MYCEL_ECHARTER, s.threshold = 1ull << 32);
	CASE("no-members", MYCEL_ECHARTER, (s.nm = 0, s.threshold = 1));
	CASE("params-array", MYCEL_ECHARTER, s.params_array = true);
	CASE("policies-map", MYCEL_ECHARTER, s.policies_map = true);
	static const uint8_t members_map[] = {0x80};
	CASE("members-map", MYCEL_ECHARTER,
	     (s.override = "members", s.override_val = members_map, s.override_len = 1));
	static const uint8_t f32[] = {0xca, 0x3f, 0x80, 0, 0};
	CASE("float32-in-params", MYCEL_EFLOAT,
	     (s.override = "params", s.override_val = f32, s.override_len = sizeof(f32)));
	static const uint8_t arr1[] = {0x91, 0xc0};
	CASE("member-not-a-map", MYCEL_ECHARTER,
	     (s.override = "members", s.override_val = arr1, s.override_len = sizeof(arr1)));

	/* Members and domains. */
	CASE("member-name-uppercase", MYCEL_ECHARTER, s.members[1].name = "Bob");
	CASE("member-name-empty", MYCEL_ECHARTER, s.members[1].name = "",
	     s.members[1].name_len = 0);
	CASE("member-name-dot", MYCEL_ECHARTER, s.members[1].name = "bob.smith");
	CASE("member-name-embedded-nul", MYCEL_ECHARTER,
	     (s.members[1].name = "bob\0x", s.members[1].name_len = 5));
	CASE("member-key-31-bytes", MYCEL_ECHARTER, s.members[1].key_len = 31);
	CASE("member-missing-name", MYCEL_ECHARTER, s.members[1].no_name = true);
	CASE("member-extra-key", MYCEL_ECHARTER, s.members[1].extra = "role");
	CASE("member-keys-out-of-order", MYCEL_EKEYORDER, s.members[1].swap = true);
	CASE("duplicate-member-name", MYCEL_ECHARTER, s.members[2].name = "alice");
	CASE("duplicate-member-key", MYCEL_ECHARTER, s.members[2].key = mk[0]->pk);
	CASE("domain-name-bad", MYCEL_ECHARTER, s.domains[0].name = "Orders");
	CASE("domain-feed-31-bytes", MYCEL_ECHARTER, s.domains[0].key_len = 31);
	CASE("domain-extra-key", MYCEL_ECHARTER, s.domains[0].extra = "title");
	CASE("duplicate-domain-name", MYCEL_ECHARTER, s.domains[1].name = "orders");
	CASE("duplicate-domain-feed", MYCEL_ECHARTER, s.domains[1].key = dk[0]->pk);

	/* Policies. */
	cpolicy good = {
	    "owner-required", "deny", "has(contract.owner)", "name the owner", 0, NULL, false};
	CASE("policy-severity-block", MYCEL_ECHARTER,
	     (s.np = 1, s.policies[0] = good, s.policies[0].severity = "block"));
	CASE("policy-severity-embedded-nul", MYCEL_ECHARTER,
	     (s.np = 1, s.policies[0] = good, s.policies[0].severity = "deny\0x",
	      s.policies[0].sev_len = 6));
	CASE("policy-missing-expr", MYCEL_ECHARTER,
	     (s.np = 1, s.policies[0] = good, s.policies[0].no_expr = true));
	CASE("policy-unknown-key", MYCEL_ECHARTER,
	     (s.np = 1, s.policies[0] = good, s.policies[0].extra = "when"));
	CASE("policy-duplicate-id", MYCEL_ECHARTER,
	     (s.np = 2, s.policies[0] = good, s.policies[1] = good));
	static const uint8_t pol_nil[] = {0x91, 0xc0};
	CASE("policy-not-a-map", MYCEL_ECHARTER,
	     (s.override = "policies", s.override_val = pol_nil, s.override_len = 2));

	/* Signatures and the file around the charter. */
	CASE("signatures-unsorted", MYCEL_ECHARTER, fs.unsorted = true);
	CASE("signatures-duplicated", MYCEL_ECHARTER, fs.duplicate = true);
	CASE("signature-63-bytes", MYCEL_EFORMAT, fs.short_sig = true);
	CASE("signature-of-3", MYCEL_EFORMAT, fs.sig_triple = true);
	CASE("trailing-byte", MYCEL_ETRAILING, fs.trailing = true);

	mycel_buf_reset(&body);
	charter_body(&base, &body);
	mycel_buf_reset(&file);
	mycel_enc_array(&file, 3);
	mycel_enc_bin(&file, body.data, body.len);
	mycel_enc_array(&file, 0);
	mycel_enc_nil(&file);
	invalid_charter("file-array-of-3", MYCEL_EFORMAT, file.data, file.len);
	mycel_buf_reset(&file);
	mycel_enc_array(&file, 2);
	mycel_buf_put(&file, body.data, body.len); /* the map itself, not a bin */
	mycel_enc_array(&file, 0);
	invalid_charter("charter-not-bin", MYCEL_EFORMAT, file.data, file.len);
	mycel_buf_reset(&file);
	mycel_enc_array(&file, 2);
	mycel_enc_bin(&file, body.data, body.len);
	mycel_enc_nil(&file);
	invalid_charter("signatures-nil", MYCEL_EFORMAT, file.data, file.len);
	mycel_buf_reset(&file);
	mycel_enc_map(&file, 0);
	invalid_charter("file-is-a-map", MYCEL_EFORMAT, file.data, file.len);
	mycel_buf_reset(&file);
	mycel_enc_array(&file, 2);
	mycel_enc_bin(&file, (const uint8_t *)"\x93\x01\x02\x03", 4);
	mycel_enc_array(&file, 0);
	invalid_charter("charter-is-an-array", MYCEL_ECHARTER, file.data, file.len);
	/* The charter bytes cut short inside a well-formed bin. */
	mycel_buf_reset(&file);
	mycel_enc_array(&file, 2);
	mycel_enc_bin(&file, body.data, body.len - 1);
	mycel_enc_array(&file, 0);
	invalid_charter("charter-bytes-truncated", MYCEL_ETRUNC, file.data, file.len);
	/* A byte after the map, inside the charter bytes. */
	mycel_buf_put(&body, "\xc0", 1);
	mycel_buf_reset(&file);
	mycel_enc_array(&file, 2);
	mycel_enc_bin(&file, body.data, body.len);
	mycel_enc_array(&file, 0);
	invalid_charter("trailing-byte-in-charter", MYCEL_ETRAILING, file.data, file.len);
	/* Truncations of the golden genesis file. */
	invalid_charter("truncated-empty", MYCEL_ETRUNC, files[0].data, 0);
	invalid_charter("truncated-at-1", MYCEL_ETRUNC, files[0].data, 1);
	invalid_charter("truncated-at-4", MYCEL_ETRUNC, files[0].data, 4);
	invalid_charter("truncated-last-byte", MYCEL_ETRUNC, files[0].data, files[0].len - 1);
	/* Size: more than 1 MiB. */
	{
		uint8_t *big = calloc(1, MYCEL_CHARTER_MAX + 1);
		memcpy(big, files[0].data, files[0].len);
		mycel_charter *c;
		rv = mycel_charter_decode(big, MYCEL_CHARTER_MAX + 1, &c, NULL, 0);
		if (rv != MYCEL_ETOOBIG) {
			fprintf(stderr, "gen-vectors: 1 MiB + 1 gives %s\n", mycel_errname(rv));
			failures++;
		}
		free(big); /* not written out: the test builds it */
	}

	mycel_buf_fini(&body);
	mycel_buf_fini(&file);
	for (int v = 0; v < 2; v++) {
		mycel_buf_fini(&files[v]);
		mycel_charter_free(cs[v]);
	}
	for (size_t i = 0; i < 4; i++)
		mycel_key_free(mk[i]);
	for (size_t i = 0; i < 3; i++)
		mycel_key_free(dk[i]);
#undef CASE
}

/* ---- key rotation (PROTOCOL.md §5.4) ----------------------------------------------------- */

/* The key entry's body with its reverse signature, built here from the spec, not feedkey.c. */
static void key_body(const mycel_key *next, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
                     mycel_buf *msgb, mycel_buf *b)
{
	static const char ctx[] = "mycel/key/v1";
	uint8_t be[8], sig[MYCEL_SIG_LEN];
	for (int i = 7; i >= 0; i--)
		be[7 - i] = (uint8_t)(seq >> (8 * i));
	mycel_buf_put(msgb, ctx, sizeof(ctx)); /* with its NUL */
	mycel_buf_put(msgb, feed, MYCEL_PK_LEN);
	mycel_buf_put(msgb, be, 8);
	mycel_buf_put(msgb, next->pk, MYCEL_PK_LEN);
	crypto_sign_detached(sig, NULL, msgb->data, msgb->len, next->sk);
	mycel_enc_map(b, 2);
	mycel_enc_cstr(b, "next");
	mycel_enc_bin(b, next->pk, MYCEL_PK_LEN);
	mycel_enc_cstr(b, "sig");
	mycel_enc_bin(b, sig, MYCEL_SIG_LEN);
	if (msgb->err != 0 || b->err != 0)
		die("key body", MYCEL_ENOMEM);
}

static void put_entry(const char *name, const char *comment, const mycel_key *signer,
                      const mycel_header *h, const uint8_t *body, size_t n, mycel_entry *e)
{
	int rv = mycel_entry_sign(h, signer, e);
	if (rv != 0)
		die(name, rv);
	fprintf(out, "\n# %s\nentry_name %s\n", comment, name);
	put_hex("signer", signer->pk, MYCEL_PK_LEN);
	fprintf(out, "seq %llu\n", (unsigned long long)h->seq);
	if (h->has_prev)
		put_hex("prev", h->prev, MYCEL_HASH_LEN);
	else
		fprintf(out, "prev nil\n");
	fprintf(out, "ts_ms %llu\nkind %s\n", (unsigned long long)h->ts_ms, h->kind);
	put_hex("body", body, n);
	put_hex("id", e->id, MYCEL_HASH_LEN);
	put_hex("entry", e->raw, e->len);
}

static void gen_keys(void)
{
	uint8_t s0[MYCEL_SEED_LEN], s1[MYCEL_SEED_LEN];
	mycel_buf msg, body, bad;
	mycel_header h;
	mycel_entry g, k, after;
	static const uint8_t NOTE[] = {0xa1, 'x'};
	seed_fill(s0, 0x40, 1);
	seed_fill(s1, 0x60, 1);
	mycel_key *k0 = key_of(s0), *k1 = key_of(s1);
	mycel_buf_init(&msg, 1024);
	mycel_buf_init(&body, 1024);
	mycel_buf_init(&bad, 1024);
	key_body(k1, k0->pk, 2, &msg, &body);

	fprintf(
	    out,
	    "# Key rotation (PROTOCOL.md §5.4): golden vectors.\n"
	    "# Generated by tests/gen_vectors.c (gen-vectors key); checked by "
	    "tests/test_feedkey.c\n"
	    "# and tests/crosscheck.py.\n"
	    "#\n"
	    "# The feed of seed feed_seed rotates, at seq `seq`, to the key of seed next_seed.\n"
	    "# msg = \"mycel/key/v1\\0\" || feed || seq (8 bytes, big-endian) || next, sig is "
	    "next's\n"
	    "# Ed25519 signature over msg (the reverse signature) and body = {next, sig}, the key\n"
	    "# entry's body. Then three entries of the feed (entry_name blocks: signer's public "
	    "key,\n"
	    "# fields, body, id, entry bytes): its genesis and the key entry, signed by the "
	    "feed's\n"
	    "# key, and the entry after the key entry, signed by next.\n"
	    "#\n"
	    "# `invalid NAME ERRNAME HEX`: HEX as the body of the key entry at `seq` of this feed "
	    "is\n"
	    "# refused with ERRNAME (EFORMAT: not exactly {next: bin 32, sig: bin 64}; EBADSIG: "
	    "the\n"
	    "# reverse signature does not verify).\n\n");
	put_hex("feed_seed", s0, MYCEL_SEED_LEN);
	put_hex("feed", k0->pk, MYCEL_PK_LEN);
	put_hex("next_seed", s1, MYCEL_SEED_LEN);
	put_hex("next", k1->pk, MYCEL_PK_LEN);
	fprintf(out, "seq 2\n");
	put_hex("msg", msg.data, msg.len);
	put_hex("sig", body.data + body.len - MYCEL_SIG_LEN, MYCEL_SIG_LEN);
	put_hex("key_body", body.data, body.len);

	memset(&h, 0, sizeof(h));
	memcpy(h.feed, k0->pk, MYCEL_PK_LEN);
	h.seq = 1;
	h.ts_ms = 1700000200000ull;
	snprintf(h.kind, sizeof(h.kind), "note");
	mycel_body_hash(NOTE, sizeof(NOTE), h.body_hash);
	put_entry("genesis", "seq 1, signed by the feed's key", k0, &h, NOTE, sizeof(NOTE), &g);
	h.seq = 2;
	h.has_prev = true;
	memcpy(h.prev, g.id, MYCEL_HASH_LEN);
	h.ts_ms += 1;
	snprintf(h.kind, sizeof(h.kind), "key");
	mycel_body_hash(body.data, body.len, h.body_hash);
	put_entry("key", "seq 2, the key entry, signed by the feed's key", k0, &h, body.data,
	          body.len, &k);
	h.seq = 3;
	memcpy(h.prev, k.id, MYCEL_HASH_LEN);
	h.ts_ms += 1;
	snprintf(h.kind, sizeof(h.kind), "note");
	mycel_body_hash(NOTE, sizeof(NOTE), h.body_hash);
	put_entry("after", "seq 3, signed by the next key", k1, &h, NOTE, sizeof(NOTE), &after);
	fprintf(out, "\n");

	/* refusals */
	mycel_buf_reset(&bad);
	mycel_buf_put(&bad, body.data, body.len);
	bad.data[bad.len - 1] ^= 0x01;
	put_hex("invalid forged-sig EBADSIG", bad.data, bad.len);
	mycel_buf tmpm;
	mycel_buf_init(&tmpm, 1024);
	mycel_buf_reset(&bad);
	key_body(k1, k0->pk, 3, &tmpm, &bad); /* signed for another seq */
	put_hex("invalid other-seq EBADSIG", bad.data, bad.len);
	mycel_buf_reset(&tmpm);
	mycel_buf_reset(&bad);
	key_body(k1, k1->pk, 2, &tmpm, &bad); /* signed for another feed */
	put_hex("invalid other-feed EBADSIG", bad.data, bad.len);
	mycel_buf_reset(&bad);
	mycel_enc_map(&bad, 1);
	mycel_enc_cstr(&bad, "next");
	mycel_enc_bin(&bad, k1->pk, MYCEL_PK_LEN);
	put_hex("invalid no-sig EFORMAT", bad.data, bad.len);
	mycel_buf_reset(&bad);
	mycel_enc_map(&bad, 3);
	mycel_enc_cstr(&bad, "next");
	mycel_enc_bin(&bad, k1->pk, MYCEL_PK_LEN);
	mycel_enc_cstr(&bad, "sig");
	mycel_enc_bin(&bad, body.data + body.len - MYCEL_SIG_LEN, MYCEL_SIG_LEN);
	mycel_enc_cstr(&bad, "x");
	mycel_enc_nil(&bad);
	put_hex("invalid extra-field EFORMAT", bad.data, bad.len);
	mycel_buf_reset(&bad);
	mycel_enc_map(&bad, 2);
	mycel_enc_cstr(&bad, "next");
	mycel_enc_bin(&bad, k1->pk, 31);
	mycel_enc_cstr(&bad, "sig");
	mycel_enc_bin(&bad, body.data + body.len - MYCEL_SIG_LEN, MYCEL_SIG_LEN);
	put_hex("invalid short-next EFORMAT", bad.data, bad.len);

	mycel_buf_fini(&tmpm);
	mycel_buf_fini(&msg);
	mycel_buf_fini(&body);
	mycel_buf_fini(&bad);
	mycel_key_free(k0);
	mycel_key_free(k1);
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc == 2 && strcmp(argv[1], "entry") == 0) {
		out = stdout;
		gen_entries();
	} else if (argc == 2 && strcmp(argv[1], "key") == 0) {
		out = stdout;
		gen_keys();
	} else if (argc == 2 && strcmp(argv[1], "charter") == 0) {
		out = stdout;
		gen_charters();
	} else if (argc == 3 && strcmp(argv[1], "corpus") == 0) {
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s/entry", argv[2]);
		(void)mkdir(dir, 0755);
		corpus = dir;
		gen_entries();
		snprintf(dir, sizeof(dir), "%s/charter", argv[2]);
		(void)mkdir(dir, 0755);
		corpus = dir;
		gen_charters();
	} else {
		fprintf(stderr, "usage: gen-vectors entry|charter|key|corpus DIR\n");
		return 2;
	}
	return failures == 0 ? 0 : 1;
}
