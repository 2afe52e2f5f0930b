/*
 * test_entry.c — signed entries (include/mycel/entry.h): the golden vectors of
 * proto/vectors/entry.txt recomputed from seeds and fields, strict decoding of
 * every named invalid entry, tamper resistance (every single-bit flip), chain
 * rules, body hashes and fork proofs. Runs from the source root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/key.h"

#define VECTORS "proto/vectors/entry.txt"
#define MAX_FIELDS 20
#define MAX_VECTORS 32
#define MAX_LINES 256

/* ---- the vector file ----------------------------------------------------- */

typedef struct field {
	char *key, *val;
} field;

typedef struct vector {
	field f[MAX_FIELDS];
	size_t n;
} vector;

typedef struct line3 {
	char *name, *err, *hex;
} line3;

typedef struct vfile {
	char *text;
	vector v[MAX_VECTORS];
	size_t nv;
	line3 invalid[MAX_LINES];
	size_t ninvalid;
	line3 fork[MAX_LINES];
	size_t nfork;
} vfile;

static vfile vf;

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	char *t = malloc((size_t)n + 1);
	assert_non_null(t);
	assert_int_equal(fread(t, 1, (size_t)n, f), (size_t)n);
	t[n] = '\0';
	fclose(f);
	return t;
}

static void split3(char *rest, line3 *l)
{
	l->name = strtok(rest, " ");
	l->err = strtok(NULL, " ");
	l->hex = strtok(NULL, " ");
	if (l->hex == NULL)
		l->hex = (char *)""; /* an empty input */
	assert_non_null(l->name);
	assert_non_null(l->err);
}

static int load_vectors(void **state)
{
	(void)state;
	vf.text = read_text(VECTORS);
	vector *cur = NULL;
	char *save = NULL;
	for (char *ln = strtok_r(vf.text, "\n", &save); ln != NULL;
	     ln = strtok_r(NULL, "\n", &save)) {
		/* strtok_r skips empty lines, so blocks are told apart by "name". */
		if (ln[0] == '#')
			continue;
		char *sp = strchr(ln, ' ');
		assert_non_null(sp);
		*sp = '\0';
		char *val = sp + 1;
		if (strcmp(ln, "invalid") == 0) {
			assert_true(vf.ninvalid < MAX_LINES);
			split3(val, &vf.invalid[vf.ninvalid++]);
			cur = NULL;
		} else if (strcmp(ln, "fork") == 0) {
			assert_true(vf.nfork < MAX_LINES);
			split3(val, &vf.fork[vf.nfork++]);
			cur = NULL;
		} else {
			if (strcmp(ln, "name") == 0) {
				assert_true(vf.nv < MAX_VECTORS);
				cur = &vf.v[vf.nv++];
			}
			assert_non_null(cur);
			assert_true(cur->n < MAX_FIELDS);
			cur->f[cur->n].key = ln;
			cur->f[cur->n].val = val;
			cur->n++;
		}
	}
	return 0;
}

static int free_vectors(void **state)
{
	(void)state;
	free(vf.text);
	memset(&vf, 0, sizeof(vf));
	return 0;
}

static const char *get(const vector *v, const char *key)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->f[i].key, key) == 0)
			return v->f[i].val;
	return NULL;
}

static const char *need(const vector *v, const char *key)
{
	const char *s = get(v, key);
	if (s == NULL)
		fail_msg("vector %s lacks %s", get(v, "name"), key);
	return s;
}

static const vector *find_vec(const char *name)
{
	for (size_t i = 0; i < vf.nv; i++)
		if (strcmp(get(&vf.v[i], "name"), name) == 0)
			return &vf.v[i];
	fail_msg("no vector %s", name);
	return NULL;
}

/* Decodes hex of any even length into a malloc'd buffer (never NULL). */
static uint8_t *unhex_alloc(const char *h, size_t *out_len)
{
	size_t n = strlen(h);
	assert_int_equal(n % 2, 0);
	uint8_t *p = malloc(n / 2 + 1);
	assert_non_null(p);
	char *tmp = malloc(n + 1);
	assert_non_null(tmp);
	memcpy(tmp, h, n + 1);
	assert_int_equal(mycel_unhex(tmp, p, n / 2), 0);
	free(tmp);
	*out_len = n / 2;
	return p;
}

static void unhex_fixed(const char *h, uint8_t *out, size_t n)
{
	assert_int_equal(mycel_unhex(h, out, n), 0);
}

static void assert_hex_equal(const char *hex, const uint8_t *p, size_t n)
{
	char *h = malloc(2 * n + 1);
	assert_non_null(h);
	mycel_hex(p, n, h);
	assert_string_equal(h, hex);
	free(h);
}

static uint64_t parse_u64(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	assert_true(*s != '\0' && *end == '\0');
	return (uint64_t)v;
}

static mycel_key *key_from_hex(const char *seed_hex)
{
	uint8_t seed[MYCEL_SEED_LEN];
	mycel_key *k;
	unhex_fixed(seed_hex, seed, sizeof(seed));
	assert_int_equal(mycel_key_from_seed(seed, &k), 0);
	return k;
}

static void decode_vec(const vector *v, mycel_entry *e)
{
	size_t n;
	uint8_t *raw = unhex_alloc(need(v, "entry"), &n);
	assert_int_equal(mycel_entry_decode(raw, n, e), 0);
	free(raw);
}

static mycel_key *k0; /* the key of seed 000102..1f: genesis, second, third, forks */

static int setup_all(void **state)
{
	load_vectors(state);
	k0 = key_from_hex(need(find_vec("genesis"), "seed"));
	return 0;
}

static int teardown_all(void **state)
{
	mycel_key_free(k0);
	k0 = NULL;
	return free_vectors(state);
}

/* ---- golden vectors ------------------------------------------------------ */

static void check_valid_vector(const vector *v)
{
	mycel_key *k = key_from_hex(need(v, "seed"));
	mycel_header h;
	mycel_entry e, d;
	size_t blen;

	assert_hex_equal(need(v, "pk"), k->pk, MYCEL_PK_LEN);

	/* Recompute from the fields. */
	memset(&h, 0, sizeof(h));
	unhex_fixed(need(v, "feed"), h.feed, MYCEL_PK_LEN);
	h.seq = parse_u64(need(v, "seq"));
	const char *prev = need(v, "prev");
	h.has_prev = strcmp(prev, "nil") != 0;
	if (h.has_prev)
		unhex_fixed(prev, h.prev, MYCEL_HASH_LEN);
	h.ts_ms = parse_u64(need(v, "ts_ms"));
	const char *kind = need(v, "kind");
	assert_true(strlen(kind) <= MYCEL_KIND_MAX);
	strcpy(h.kind, kind);
	assert_true(mycel_kind_valid(h.kind));

	/* The body is canonical MessagePack, and its hash is body_hash. */
	uint8_t *body = unhex_alloc(need(v, "body"), &blen);
	mycel_arena *a;
	mycel_value *val;
	assert_int_equal(mycel_arena_new(1 << 16, &a), 0);
	assert_int_equal(mycel_value_decode(body, blen, 1 << 16, a, &val, NULL), 0);
	mycel_arena_free(a);
	mycel_body_hash(body, blen, h.body_hash);
	assert_hex_equal(need(v, "body_hash"), h.body_hash, MYCEL_HASH_LEN);

	assert_int_equal(mycel_entry_sign(&h, k, &e), 0);
	assert_hex_equal(need(v, "header"), e.raw + e.header_off, e.header_len);
	assert_hex_equal(need(v, "id"), e.id, MYCEL_HASH_LEN);
	assert_hex_equal(need(v, "sig"), e.sig, MYCEL_SIG_LEN);
	assert_hex_equal(need(v, "entry"), e.raw, e.len);
	assert_true(e.len <= MYCEL_ENTRY_MAX);
	assert_true(e.header_len <= MYCEL_HEADER_MAX);

	/* Decode the stored entry and check every field. */
	memset(&d, 0x5a, sizeof(d));
	decode_vec(v, &d);
	assert_memory_equal(d.h.feed, h.feed, MYCEL_PK_LEN);
	assert_true(d.h.seq == h.seq);
	assert_int_equal(d.h.has_prev, h.has_prev);
	if (h.has_prev)
		assert_memory_equal(d.h.prev, h.prev, MYCEL_HASH_LEN);
	assert_true(d.h.ts_ms == h.ts_ms);
	assert_string_equal(d.h.kind, h.kind);
	assert_memory_equal(d.h.body_hash, h.body_hash, MYCEL_HASH_LEN);
	assert_hex_equal(need(v, "id"), d.id, MYCEL_HASH_LEN);
	assert_hex_equal(need(v, "sig"), d.sig, MYCEL_SIG_LEN);
	assert_hex_equal(need(v, "entry"), d.raw, d.len);
	assert_hex_equal(need(v, "header"), d.raw + d.header_off, d.header_len);
	assert_int_equal(d.header_off, e.header_off);
	assert_int_equal(d.header_len, e.header_len);

	/* Signature, body, chain. */
	assert_int_equal(mycel_entry_verify(&d, k->pk), 0);
	assert_int_equal(mycel_entry_check_body(&d, body, blen), 0);
	if (memcmp(h.feed, k->pk, MYCEL_PK_LEN) != 0)
		assert_int_equal(mycel_entry_verify(&d, h.feed), MYCEL_EBADSIG);
	if (h.seq == 1)
		assert_int_equal(mycel_entry_follows(NULL, &d), 0);
	else
		assert_int_equal(mycel_entry_follows(NULL, &d), MYCEL_ECHAIN);
	const char *after = get(v, "follows");
	if (after != NULL) {
		mycel_entry p;
		decode_vec(find_vec(after), &p);
		assert_int_equal(mycel_entry_follows(&p, &d), 0);
		assert_int_equal(mycel_entry_follows(&d, &p), MYCEL_ECHAIN);
	}
	free(body);
	mycel_key_free(k);
}

static void test_vectors_valid(void **state)
{
	(void)state;
	assert_true(vf.nv >= 8);
	for (size_t i = 0; i < vf.nv; i++)
		check_valid_vector(&vf.v[i]);

	/* The cases the file must cover. */
	const vector *g = find_vec("genesis"), *s = find_vec("second");
	assert_string_equal(need(g, "seed"),
	                    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	assert_string_equal(need(g, "seq"), "1");
	assert_string_equal(need(g, "prev"), "nil");
	assert_string_equal(need(g, "pk"), need(g, "feed"));
	assert_string_equal(need(s, "seq"), "2");
	assert_string_equal(need(s, "prev"), need(g, "id"));
	const vector *w = find_vec("wide");
	assert_int_equal(strlen(need(w, "kind")), MYCEL_KIND_MAX);
	assert_true(parse_u64(need(w, "seq")) > UINT32_MAX);
	assert_true(parse_u64(need(w, "ts_ms")) > UINT32_MAX);
	const vector *m = find_vec("max");
	assert_int_equal(strlen(need(m, "header")), 2 * 156);
	assert_int_equal(strlen(need(m, "entry")), 2 * 225);
	assert_int_equal(strlen(need(find_vec("min"), "header")), 2 * 75);
	/* Same header, two signers: same id, different signatures. */
	const vector *ra = find_vec("rotated-a"), *rb = find_vec("rotated-b");
	assert_string_equal(need(ra, "header"), need(rb, "header"));
	assert_string_equal(need(ra, "id"), need(rb, "id"));
	assert_string_not_equal(need(ra, "seed"), need(rb, "seed"));
	assert_string_not_equal(need(ra, "sig"), need(rb, "sig"));
	assert_string_not_equal(need(ra, "entry"), need(rb, "entry"));
}

/*
 * The genesis header checked field by field against DESIGN.md §3, independently
 * of the encoder: [1, feed, seq, prev, ts_ms, kind, body_hash].
 */
static void test_genesis_header_layout(void **state)
{
	(void)state;
	const vector *g = find_vec("genesis");
	size_t n;
	uint8_t *hdr = unhex_alloc(need(g, "header"), &n);
	uint8_t feed[32], bh[32];
	unhex_fixed(need(g, "feed"), feed, 32);
	unhex_fixed(need(g, "body_hash"), bh, 32);
	assert_int_equal(n, 1 + 1 + 34 + 1 + 1 + 9 + 7 + 34);
	assert_int_equal(hdr[0], 0x97); /* fixarray of 7 */
	assert_int_equal(hdr[1], 0x01); /* version 1 */
	assert_int_equal(hdr[2], 0xc4); /* bin8 of 32: feed */
	assert_int_equal(hdr[3], 32);
	assert_memory_equal(hdr + 4, feed, 32);
	assert_int_equal(hdr[36], 0x01); /* seq 1 */
	assert_int_equal(hdr[37], 0xc0); /* prev nil */
	static const uint8_t ts[] = {0xcf, 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00};
	assert_memory_equal(hdr + 38, ts, 9); /* uint64 1700000000000 */
	static const uint8_t kind[] = {0xa6, 'd', 'o', 'm', 'a', 'i', 'n'};
	assert_memory_equal(hdr + 47, kind, 7);
	assert_int_equal(hdr[54], 0xc4);
	assert_int_equal(hdr[55], 32);
	assert_memory_equal(hdr + 56, bh, 32);

	/* And the entry around it: [bin8 header, bin8 sig]. */
	size_t en;
	uint8_t *ent = unhex_alloc(need(g, "entry"), &en);
	uint8_t sig[64];
	unhex_fixed(need(g, "sig"), sig, 64);
	assert_int_equal(en, 3 + n + 2 + 64);
	assert_int_equal(ent[0], 0x92);
	assert_int_equal(ent[1], 0xc4);
	assert_int_equal(ent[2], n);
	assert_memory_equal(ent + 3, hdr, n);
	assert_int_equal(ent[3 + n], 0xc4);
	assert_int_equal(ent[4 + n], 64);
	assert_memory_equal(ent + 5 + n, sig, 64);
	free(ent);
	free(hdr);
}

static void test_vectors_invalid(void **state)
{
	(void)state;
	static const char *const required[] = {
	    "array-of-1",
	    "array-of-3",
	    "header-not-bin",
	    "sig-63-bytes",
	    "version-2",
	    "seq-0",
	    "prev-nil-at-seq-2",
	    "prev-at-seq-1",
	    "feed-31-bytes",
	    "kind-uppercase",
	    "kind-empty",
	    "kind-33-chars",
	    "seq-uint16-noncanonical",
	    "trailing-byte-after-entry",
	    "trailing-byte-in-header",
	    "too-big-257-bytes",
	    "truncated-empty",
	    "truncated-at-1",
	    "truncated-after-header",
	    "truncated-last-byte",
	    "kind-embedded-nul",
	};
	assert_true(vf.ninvalid >= 60);
	for (size_t r = 0; r < sizeof(required) / sizeof(required[0]); r++) {
		bool found = false;
		for (size_t i = 0; i < vf.ninvalid; i++)
			found = found || strcmp(vf.invalid[i].name, required[r]) == 0;
		if (!found)
			fail_msg("no invalid vector %s", required[r]);
	}
	for (size_t i = 0; i < vf.ninvalid; i++) {
		const line3 *l = &vf.invalid[i];
		size_t n;
		uint8_t *p = unhex_alloc(l->hex, &n);
		mycel_entry e, untouched;
		memset(&e, 0xa5, sizeof(e));
		memcpy(&untouched, &e, sizeof(e));
		int want = mycel_errcode(l->err);
		assert_true(want < 0);
		int rv = mycel_entry_decode(n ? p : NULL, n, &e);
		if (rv != want)
			fail_msg("invalid %s: got %s, want %s", l->name, mycel_errname(rv), l->err);
		assert_memory_equal(&e, &untouched, sizeof(e));
		free(p);
	}
}

static void test_vectors_fork(void **state)
{
	(void)state;
	size_t valid = 0;
	assert_true(vf.nfork >= 10);
	for (size_t i = 0; i < vf.nfork; i++) {
		const line3 *l = &vf.fork[i];
		size_t n;
		uint8_t *p = unhex_alloc(l->hex, &n);
		mycel_entry a, b, ua;
		memset(&a, 0xa5, sizeof(a));
		memcpy(&ua, &a, sizeof(a));
		b = a;
		int want = strcmp(l->err, "OK") == 0 ? 0 : mycel_errcode(l->err);
		assert_true(want <= 0);
		int rv = mycel_fork_verify(n ? p : NULL, n, k0->pk, &a, &b);
		if (rv != want)
			fail_msg("fork %s: got %s, want %s", l->name, mycel_errname(rv), l->err);
		if (rv == 0) {
			valid++;
			assert_memory_equal(a.h.feed, b.h.feed, MYCEL_PK_LEN);
			assert_true(a.h.seq == b.h.seq);
			assert_true(memcmp(a.id, b.id, MYCEL_HASH_LEN) < 0);
		} else {
			assert_memory_equal(&a, &ua, sizeof(a));
			assert_memory_equal(&b, &ua, sizeof(b));
		}
		free(p);
	}
	assert_int_equal(valid, 1);
}

/* ---- sign, decode, verify ------------------------------------------------ */

static void make_header(mycel_header *h, const mycel_key *k, uint64_t seq, const uint8_t *prev,
                        uint64_t ts, const char *kind, const char *body)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->feed, k->pk, MYCEL_PK_LEN);
	h->seq = seq;
	h->has_prev = prev != NULL;
	if (prev != NULL)
		memcpy(h->prev, prev, MYCEL_HASH_LEN);
	h->ts_ms = ts;
	snprintf(h->kind, sizeof(h->kind), "%s", kind);
	mycel_body_hash((const uint8_t *)body, strlen(body), h->body_hash);
}

static void test_sign_roundtrip(void **state)
{
	(void)state;
	mycel_key *k, *other;
	assert_int_equal(mycel_key_generate(&k), 0);
	assert_int_equal(mycel_key_generate(&other), 0);
	static const uint64_t seqs[] = {
	    1,         2, 127, 128, 255, 256, 65535, 65536, UINT32_MAX, (uint64_t)UINT32_MAX + 1,
	    UINT64_MAX};
	uint8_t prev[32];
	memset(prev, 0x11, sizeof(prev));
	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		mycel_header h;
		mycel_entry e, d, d2;
		make_header(&h, k, seqs[i], seqs[i] > 1 ? prev : NULL, seqs[i] ^ 0x5555, "product",
		            "{}");
		assert_int_equal(mycel_entry_sign(&h, k, &e), 0);
		assert_int_equal(mycel_entry_verify(&e, k->pk), 0);
		assert_int_equal(mycel_entry_verify(&e, other->pk), MYCEL_EBADSIG);
		assert_int_equal(mycel_entry_decode(e.raw, e.len, &d), 0);
		assert_memory_equal(d.h.feed, h.feed, MYCEL_PK_LEN);
		assert_true(d.h.seq == h.seq);
		assert_int_equal(d.h.has_prev, h.has_prev);
		assert_memory_equal(d.h.prev, h.has_prev ? h.prev : (const uint8_t[32]){0}, 32);
		assert_true(d.h.ts_ms == h.ts_ms);
		assert_string_equal(d.h.kind, h.kind);
		assert_memory_equal(d.h.body_hash, h.body_hash, MYCEL_HASH_LEN);
		assert_memory_equal(d.id, e.id, MYCEL_HASH_LEN);
		assert_memory_equal(d.sig, e.sig, MYCEL_SIG_LEN);
		assert_int_equal(d.len, e.len);
		assert_memory_equal(d.raw, e.raw, e.len);
		assert_int_equal(mycel_entry_verify(&d, k->pk), 0);
		/* Decoding is a function of the bytes. */
		assert_int_equal(mycel_entry_decode(d.raw, d.len, &d2), 0);
		assert_memory_equal(d2.id, d.id, MYCEL_HASH_LEN);
		/* Every prefix is truncated, and a byte more is trailing. */
		for (size_t n = 0; n < e.len; n++)
			assert_int_equal(mycel_entry_decode(e.raw, n, &d2), MYCEL_ETRUNC);
		uint8_t more[MYCEL_ENTRY_MAX + 1];
		memcpy(more, e.raw, e.len);
		more[e.len] = 0xc0;
		assert_int_equal(mycel_entry_decode(more, e.len + 1, &d2),
		                 e.len + 1 > MYCEL_ENTRY_MAX ? MYCEL_ETOOBIG : MYCEL_ETRAILING);
	}
	/* Every kind length from 1 to 32. */
	for (size_t len = 1; len <= MYCEL_KIND_MAX; len++) {
		char kind[MYCEL_KIND_MAX + 1];
		memset(kind, 'k', len);
		kind[len] = '\0';
		mycel_header h;
		mycel_entry e, d;
		make_header(&h, k, 1, NULL, 0, kind, "x");
		assert_int_equal(mycel_entry_sign(&h, k, &e), 0);
		assert_int_equal(mycel_entry_decode(e.raw, e.len, &d), 0);
		assert_string_equal(d.h.kind, kind);
		assert_int_equal(mycel_entry_verify(&d, k->pk), 0);
	}
	/* Signing does not require the feed's own key (rotation), verification decides. */
	mycel_header h;
	mycel_entry e;
	make_header(&h, k, 3, prev, 9, "key", "");
	assert_int_equal(mycel_entry_sign(&h, other, &e), 0);
	assert_int_equal(mycel_entry_verify(&e, other->pk), 0);
	assert_int_equal(mycel_entry_verify(&e, k->pk), MYCEL_EBADSIG);
	mycel_key_free(k);
	mycel_key_free(other);
}

static void test_sign_refuses(void **state)
{
	(void)state;
	mycel_header h;
	mycel_entry e;
	uint8_t prev[32] = {1};
	make_header(&h, k0, 0, NULL, 0, "domain", "");
	assert_int_equal(mycel_entry_sign(&h, k0, &e), MYCEL_EINVAL); /* seq 0 */
	make_header(&h, k0, 1, prev, 0, "domain", "");
	assert_int_equal(mycel_entry_sign(&h, k0, &e), MYCEL_EINVAL); /* prev at seq 1 */
	make_header(&h, k0, 2, NULL, 0, "domain", "");
	assert_int_equal(mycel_entry_sign(&h, k0, &e), MYCEL_EINVAL); /* no prev at seq 2 */
	static const char *const bad[] = {"", "Domain", "1x", "_x", "a-b", "a b", "a.b", "é"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		make_header(&h, k0, 1, NULL, 0, "x", "");
		snprintf(h.kind, sizeof(h.kind), "%s", bad[i]);
		assert_int_equal(mycel_entry_sign(&h, k0, &e), MYCEL_EINVAL);
	}
	/* A kind filling all 33 bytes without a terminator is 33 characters: refused. */
	make_header(&h, k0, 1, NULL, 0, "x", "");
	memset(h.kind, 'a', sizeof(h.kind));
	assert_int_equal(mycel_entry_sign(&h, k0, &e), MYCEL_EINVAL);
}

static void test_kind_valid(void **state)
{
	(void)state;
	static const char *const good[] = {
	    "a", "domain", "product", "key", "a_b", "z9", "abcdefghijklmnopqrstuvwxyz_01234"};
	static const char *const bad[] = {"",
	                                  "A",
	                                  "Domain",
	                                  "0abc",
	                                  "_a",
	                                  "a-b",
	                                  "a b",
	                                  "a\t",
	                                  "ü",
	                                  "a.b",
	                                  "abcdefghijklmnopqrstuvwxyz_012345"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(mycel_kind_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(mycel_kind_valid(bad[i]));
}

/* Every single-bit flip of a signed entry either fails to decode or fails to verify. */
static void flip_all(const mycel_entry *e, const uint8_t pk[MYCEL_PK_LEN], size_t *decoded)
{
	uint8_t buf[MYCEL_ENTRY_MAX];
	for (size_t i = 0; i < e->len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			mycel_entry d;
			memcpy(buf, e->raw, e->len);
			buf[i] ^= (uint8_t)(1u << bit);
			if (mycel_entry_decode(buf, e->len, &d) != 0)
				continue;
			(*decoded)++;
			if (mycel_entry_verify(&d, pk) == 0)
				fail_msg("flip of bit %d of byte %zu decodes and verifies", bit, i);
			/* A flip inside the header changes the id; one in the sig does not. */
			if (i < e->header_off + e->header_len)
				assert_memory_not_equal(d.id, e->id, MYCEL_HASH_LEN);
		}
	}
}

static void test_bitflips(void **state)
{
	(void)state;
	static const char *const names[] = {"genesis", "second", "wide", "max", "min", "rotated-b"};
	size_t decoded = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const vector *v = find_vec(names[i]);
		mycel_entry e;
		uint8_t pk[32];
		decode_vec(v, &e);
		unhex_fixed(need(v, "pk"), pk, 32);
		assert_int_equal(mycel_entry_verify(&e, pk), 0);
		flip_all(&e, pk, &decoded);
	}
	/* Many flips (feed, prev, hashes, sig bits) still decode: they must all fail to verify. */
	assert_true(decoded > 1000);
}

/* ---- chain rules --------------------------------------------------------- */

static void test_follows(void **state)
{
	(void)state;
	mycel_key *other;
	assert_int_equal(mycel_key_generate(&other), 0);
	mycel_header h;
	mycel_entry g, s2, s3, x;

	make_header(&h, k0, 1, NULL, 1000, "domain", "a");
	assert_int_equal(mycel_entry_sign(&h, k0, &g), 0);
	make_header(&h, k0, 2, g.id, 1000, "product", "b"); /* equal ts is fine */
	assert_int_equal(mycel_entry_sign(&h, k0, &s2), 0);
	make_header(&h, k0, 3, s2.id, 2000, "product", "c");
	assert_int_equal(mycel_entry_sign(&h, k0, &s3), 0);

	/* Genesis rules. */
	assert_int_equal(mycel_entry_follows(NULL, &g), 0);
	assert_int_equal(mycel_entry_follows(NULL, &s2), MYCEL_ECHAIN);
	assert_int_equal(mycel_entry_follows(&g, &g), MYCEL_ECHAIN); /* a second genesis */
	/* The chain. */
	assert_int_equal(mycel_entry_follows(&g, &s2), 0);
	assert_int_equal(mycel_entry_follows(&s2, &s3), 0);
	/* Wrong seq: seq 3 directly after genesis, with genesis as prev. */
	make_header(&h, k0, 3, g.id, 1000, "product", "c");
	assert_int_equal(mycel_entry_sign(&h, k0, &x), 0);
	assert_int_equal(mycel_entry_follows(&g, &x), MYCEL_ECHAIN);
	assert_int_equal(mycel_entry_follows(&g, &s3), MYCEL_ECHAIN);
	assert_int_equal(mycel_entry_follows(&s3, &s2), MYCEL_ECHAIN);
	/* Wrong prev: seq 2 whose prev is not the genesis id. */
	uint8_t wrong[32];
	memcpy(wrong, g.id, 32);
	wrong[31] ^= 1;
	make_header(&h, k0, 2, wrong, 1000, "product", "b");
	assert_int_equal(mycel_entry_sign(&h, k0, &x), 0);
	assert_int_equal(mycel_entry_follows(&g, &x), MYCEL_ECHAIN);
	/* Other feed: seq 2 of another key chained to our genesis id. */
	make_header(&h, other, 2, g.id, 1000, "product", "b");
	assert_int_equal(mycel_entry_sign(&h, other, &x), 0);
	assert_int_equal(mycel_entry_follows(&g, &x), MYCEL_ECHAIN);
	/* Timestamps never decrease. */
	make_header(&h, k0, 3, s2.id, 999, "product", "c");
	assert_int_equal(mycel_entry_sign(&h, k0, &x), 0);
	assert_int_equal(mycel_entry_follows(&s2, &x), MYCEL_ETS);
	make_header(&h, k0, 3, s2.id, 0, "product", "c");
	assert_int_equal(mycel_entry_sign(&h, k0, &x), 0);
	assert_int_equal(mycel_entry_follows(&s2, &x), MYCEL_ETS);
	make_header(&h, k0, 3, s2.id, UINT64_MAX, "product", "c");
	assert_int_equal(mycel_entry_sign(&h, k0, &x), 0);
	assert_int_equal(mycel_entry_follows(&s2, &x), 0);
	/* A chain error is reported before a timestamp error. */
	make_header(&h, k0, 3, wrong, 0, "product", "c");
	assert_int_equal(mycel_entry_sign(&h, k0, &x), 0);
	assert_int_equal(mycel_entry_follows(&s2, &x), MYCEL_ECHAIN);
	mycel_key_free(other);
}

static void test_check_body(void **state)
{
	(void)state;
	mycel_header h;
	mycel_entry e;
	const char *body = "\x81\xa5title\xa6Orders";
	make_header(&h, k0, 1, NULL, 1, "domain", body);
	assert_int_equal(mycel_entry_sign(&h, k0, &e), 0);
	size_t n = strlen(body);
	assert_int_equal(mycel_entry_check_body(&e, (const uint8_t *)body, n), 0);
	assert_int_equal(mycel_entry_check_body(&e, (const uint8_t *)body, n - 1), MYCEL_EHASH);
	assert_int_equal(mycel_entry_check_body(&e, (const uint8_t *)body, 0), MYCEL_EHASH);
	uint8_t copy[32];
	memcpy(copy, body, n);
	for (size_t i = 0; i < n; i++) {
		copy[i] ^= 0x20;
		assert_int_equal(mycel_entry_check_body(&e, copy, n), MYCEL_EHASH);
		copy[i] ^= 0x20;
	}
	/* The empty body has a hash too. */
	make_header(&h, k0, 1, NULL, 1, "domain", "");
	assert_int_equal(mycel_entry_sign(&h, k0, &e), 0);
	assert_int_equal(mycel_entry_check_body(&e, (const uint8_t *)"", 0), 0);
	assert_int_equal(mycel_entry_check_body(&e, (const uint8_t *)"\xc0", 1), MYCEL_EHASH);
	/* A known answer: BLAKE2b-256 of the empty string. */
	uint8_t bh[32];
	mycel_body_hash(NULL, 0, bh);
	assert_hex_equal("0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8", bh,
	                 32);
}

/* ---- fork proofs --------------------------------------------------------- */

static void build_proof(mycel_buf *b, uint64_t ver, const mycel_entry *x, const mycel_entry *y)
{
	mycel_buf_reset(b);
	mycel_enc_array(b, 3);
	mycel_enc_uint(b, ver);
	mycel_enc_bin(b, x->raw, x->len);
	mycel_enc_bin(b, y->raw, y->len);
	assert_int_equal(b->err, 0);
}

static void test_fork(void **state)
{
	(void)state;
	mycel_key *other;
	assert_int_equal(mycel_key_generate(&other), 0);
	mycel_header h;
	mycel_entry g, a, b, s3, of, bad, oa, ob;
	uint8_t p1[MYCEL_FORK_MAX], p2[MYCEL_FORK_MAX];
	size_t n1, n2;
	mycel_buf buf;
	mycel_buf_init(&buf, 4096);

	make_header(&h, k0, 1, NULL, 1, "domain", "g");
	assert_int_equal(mycel_entry_sign(&h, k0, &g), 0);
	make_header(&h, k0, 2, g.id, 2, "product", "a");
	assert_int_equal(mycel_entry_sign(&h, k0, &a), 0);
	make_header(&h, k0, 2, g.id, 2, "product", "b");
	assert_int_equal(mycel_entry_sign(&h, k0, &b), 0);
	make_header(&h, k0, 3, a.id, 3, "product", "c");
	assert_int_equal(mycel_entry_sign(&h, k0, &s3), 0);
	make_header(&h, other, 2, g.id, 2, "product", "a");
	assert_int_equal(mycel_entry_sign(&h, other, &of), 0);
	make_header(&h, k0, 2, g.id, 2, "product", "z");
	assert_int_equal(mycel_entry_sign(&h, other, &bad), 0); /* wrong key */

	/* Encoding orders the pair by id, whichever way it is given. */
	assert_int_equal(mycel_fork_encode(&a, &b, p1, &n1), 0);
	assert_int_equal(mycel_fork_encode(&b, &a, p2, &n2), 0);
	assert_int_equal(n1, n2);
	assert_memory_equal(p1, p2, n1);
	const mycel_entry *lo = memcmp(a.id, b.id, 32) < 0 ? &a : &b;
	const mycel_entry *hi = lo == &a ? &b : &a;
	build_proof(&buf, 1, lo, hi);
	assert_int_equal(buf.len, n1);
	assert_memory_equal(buf.data, p1, n1);
	assert_true(n1 <= MYCEL_FORK_MAX);

	/* Verification. */
	assert_int_equal(mycel_fork_verify(p1, n1, k0->pk, &oa, &ob), 0);
	assert_memory_equal(oa.id, lo->id, 32);
	assert_memory_equal(ob.id, hi->id, 32);
	assert_int_equal(mycel_fork_verify(p1, n1, k0->pk, NULL, NULL), 0);
	assert_int_equal(mycel_fork_verify(p1, n1, other->pk, NULL, NULL), MYCEL_EBADSIG);

	/* Encoding refuses pairs that do not conflict. */
	assert_int_equal(mycel_fork_encode(&a, &a, p2, &n2), MYCEL_EINVAL);
	assert_int_equal(mycel_fork_encode(&a, &s3, p2, &n2), MYCEL_EINVAL);
	assert_int_equal(mycel_fork_encode(&a, &of, p2, &n2), MYCEL_EINVAL);
	assert_int_equal(mycel_fork_encode(&g, &s3, p2, &n2), MYCEL_EINVAL);

	/* Verification refuses proofs that do not prove a fork. */
	build_proof(&buf, 1, &a, &a);
	assert_int_equal(mycel_fork_verify(buf.data, buf.len, k0->pk, NULL, NULL), MYCEL_EFORMAT);
	build_proof(&buf, 1, hi, lo);
	assert_int_equal(mycel_fork_verify(buf.data, buf.len, k0->pk, NULL, NULL), MYCEL_EFORMAT);
	const mycel_entry *x = memcmp(a.id, s3.id, 32) < 0 ? &a : &s3;
	build_proof(&buf, 1, x, x == &a ? &s3 : &a);
	assert_int_equal(mycel_fork_verify(buf.data, buf.len, k0->pk, NULL, NULL), MYCEL_EFORMAT);
	x = memcmp(a.id, of.id, 32) < 0 ? &a : &of;
	build_proof(&buf, 1, x, x == &a ? &of : &a);
	assert_int_equal(mycel_fork_verify(buf.data, buf.len, k0->pk, NULL, NULL), MYCEL_EFORMAT);
	x = memcmp(a.id, bad.id, 32) < 0 ? &a : &bad;
	build_proof(&buf, 1, x, x == &a ? &bad : &a);
	assert_int_equal(mycel_fork_verify(buf.data, buf.len, k0->pk, NULL, NULL), MYCEL_EBADSIG);
	build_proof(&buf, 2, lo, hi);
	assert_int_equal(mycel_fork_verify(buf.data, buf.len, k0->pk, NULL, NULL), MYCEL_EVERSION);

	/* Form: truncation at every length, a trailing byte, non-canonical headers. */
	for (size_t n = 0; n < n1; n++) {
		int rv = mycel_fork_verify(p1, n, k0->pk, NULL, NULL);
		if (rv == 0)
			fail_msg("proof truncated to %zu bytes verifies", n);
		assert_int_equal(rv, MYCEL_ETRUNC);
	}
	memcpy(p2, p1, n1);
	p2[n1] = 0xc0;
	assert_int_equal(mycel_fork_verify(p2, n1 + 1, k0->pk, NULL, NULL), MYCEL_ETRAILING);
	mycel_buf_reset(&buf);
	mycel_buf_put(&buf, "\xdc\x00\x03", 3); /* array16 for a fixarray */
	mycel_buf_put(&buf, p1 + 1, n1 - 1);
	assert_int_equal(mycel_fork_verify(buf.data, buf.len, k0->pk, NULL, NULL), MYCEL_ENONCANON);
	mycel_buf_reset(&buf);
	mycel_enc_array(&buf, 3);
	mycel_buf_put(&buf, "\xcc\x01", 2); /* uint8 for version 1 */
	mycel_buf_put(&buf, p1 + 2, n1 - 2);
	assert_int_equal(mycel_fork_verify(buf.data, buf.len, k0->pk, NULL, NULL), MYCEL_ENONCANON);
	mycel_buf_reset(&buf);
	mycel_enc_array(&buf, 3);
	mycel_enc_uint(&buf, 1);
	mycel_buf_put(&buf, "\xc5\x00", 2); /* bin16 for a bin8 */
	mycel_buf_put(&buf, p1 + 3, n1 - 3);
	assert_int_equal(mycel_fork_verify(buf.data, buf.len, k0->pk, NULL, NULL), MYCEL_ENONCANON);
	mycel_buf_reset(&buf);
	mycel_enc_array(&buf, 2);
	mycel_enc_uint(&buf, 1);
	mycel_enc_bin(&buf, lo->raw, lo->len);
	assert_int_equal(mycel_fork_verify(buf.data, buf.len, k0->pk, NULL, NULL), MYCEL_EFORMAT);
	uint8_t big[MYCEL_FORK_MAX + 1];
	memset(big, 0, sizeof(big));
	memcpy(big, p1, n1);
	assert_int_equal(mycel_fork_verify(big, sizeof(big), k0->pk, NULL, NULL), MYCEL_ETOOBIG);
	/* Every single-bit flip of the proof fails. */
	for (size_t i = 0; i < n1; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(p2, p1, n1);
			p2[i] ^= (uint8_t)(1u << bit);
			if (mycel_fork_verify(p2, n1, k0->pk, NULL, NULL) == 0)
				fail_msg("proof with bit %d of byte %zu flipped verifies", bit, i);
		}
	}
	/* Outputs are untouched on failure. */
	memset(&oa, 0x77, sizeof(oa));
	mycel_entry keep = oa;
	build_proof(&buf, 1, hi, lo);
	assert_int_not_equal(mycel_fork_verify(buf.data, buf.len, k0->pk, &oa, NULL), 0);
	assert_memory_equal(&oa, &keep, sizeof(oa));

	/* A fork of the "max" vector: the largest entries fit MYCEL_FORK_MAX. */
	mycel_key *km = key_from_hex(need(find_vec("max"), "seed"));
	mycel_entry m1, m2;
	decode_vec(find_vec("max"), &m1);
	h = m1.h;
	h.body_hash[0] ^= 1;
	assert_int_equal(mycel_entry_sign(&h, km, &m2), 0);
	assert_int_equal(mycel_fork_encode(&m1, &m2, p2, &n2), 0);
	assert_int_equal(mycel_fork_verify(p2, n2, km->pk, NULL, NULL), 0);
	mycel_key_free(km);
	mycel_buf_fini(&buf);
	mycel_key_free(other);
}

/* Verification never reads outside raw, whatever the public fields say. */
static void test_verify_bad_struct(void **state)
{
	(void)state;
	mycel_entry e, x;
	decode_vec(find_vec("genesis"), &e);
	assert_int_equal(mycel_entry_verify(&e, k0->pk), 0);
	x = e;
	x.header_off = MYCEL_ENTRY_MAX - 10;
	assert_int_equal(mycel_entry_verify(&x, k0->pk), MYCEL_EBADSIG);
	x = e;
	x.header_off = SIZE_MAX - 4;
	assert_int_equal(mycel_entry_verify(&x, k0->pk), MYCEL_EBADSIG);
	x = e;
	x.header_len = MYCEL_HEADER_MAX + 1;
	assert_int_equal(mycel_entry_verify(&x, k0->pk), MYCEL_EBADSIG);
	x = e;
	x.len = MYCEL_ENTRY_MAX + 1;
	assert_int_equal(mycel_entry_verify(&x, k0->pk), MYCEL_EBADSIG);
	x = e;
	x.len = e.header_len - 1;
	assert_int_equal(mycel_entry_verify(&x, k0->pk), MYCEL_EBADSIG);
	x = e;
	x.header_off = 2; /* the header shifted by one byte */
	assert_int_equal(mycel_entry_verify(&x, k0->pk), MYCEL_EBADSIG);
}

/* Decoding never reads outside the given bytes (run under ASan: a heap copy of exact size). */
static void test_decode_exact_buffers(void **state)
{
	(void)state;
	for (size_t i = 0; i < vf.ninvalid; i++) {
		size_t n;
		uint8_t *p = unhex_alloc(vf.invalid[i].hex, &n);
		uint8_t *q = malloc(n ? n : 1);
		memcpy(q, p, n);
		mycel_entry e;
		(void)mycel_entry_decode(q, n, &e);
		uint8_t pk[32] = {0};
		assert_int_not_equal(mycel_fork_verify(q, n, pk, NULL, NULL), 0);
		free(q);
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors_valid),
	    cmocka_unit_test(test_genesis_header_layout),
	    cmocka_unit_test(test_vectors_invalid),
	    cmocka_unit_test(test_vectors_fork),
	    cmocka_unit_test(test_sign_roundtrip),
	    cmocka_unit_test(test_sign_refuses),
	    cmocka_unit_test(test_kind_valid),
	    cmocka_unit_test(test_bitflips),
	    cmocka_unit_test(test_follows),
	    cmocka_unit_test(test_check_body),
	    cmocka_unit_test(test_fork),
	    cmocka_unit_test(test_verify_bad_struct),
	    cmocka_unit_test(test_decode_exact_buffers),
	};
	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
