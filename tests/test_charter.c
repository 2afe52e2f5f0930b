/*
 * test_charter.c — the mesh charter (include/mycel/charter.h): build, sign,
 * encode and decode round trips, genesis and step verification with their
 * thresholds, strict decoding (the named invalid files of
 * proto/vectors/charter.txt and hand-built ones), lookups, the digest, a
 * tamper test over every byte of a signed file, and the golden charters
 * rebuilt byte for byte. Runs from the source root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mycel/charter.h"
#include "mycel/codec.h"
#include "mycel/error.h"
#include "mycel/key.h"

#define VECTORS "proto/vectors/charter.txt"
#define MAX_FIELDS 24
#define MAX_VECTORS 8
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

static struct {
	char *text;
	vector v[MAX_VECTORS];
	size_t nv;
	line3 invalid[MAX_LINES];
	size_t ninvalid;
} vf;

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

static int load_vectors(void)
{
	vf.text = read_text(VECTORS);
	vector *cur = NULL;
	char *save = NULL;
	for (char *ln = strtok_r(vf.text, "\n", &save); ln != NULL;
	     ln = strtok_r(NULL, "\n", &save)) {
		if (ln[0] == '#')
			continue;
		char *sp = strchr(ln, ' ');
		assert_non_null(sp);
		*sp = '\0';
		char *val = sp + 1;
		if (strcmp(ln, "invalid") == 0) {
			assert_true(vf.ninvalid < MAX_LINES);
			line3 *l = &vf.invalid[vf.ninvalid++];
			char *s2 = NULL;
			l->name = strtok_r(val, " ", &s2);
			l->err = strtok_r(NULL, " ", &s2);
			l->hex = strtok_r(NULL, " ", &s2);
			if (l->hex == NULL)
				l->hex = (char *)"";
			assert_non_null(l->err);
			cur = NULL;
			continue;
		}
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

static uint8_t *unhex_alloc(const char *h, size_t *out_len)
{
	size_t n = strlen(h);
	assert_int_equal(n % 2, 0);
	uint8_t *p = malloc(n / 2 + 1);
	assert_non_null(p);
	assert_int_equal(mycel_unhex(h, p, n / 2), 0);
	*out_len = n / 2;
	return p;
}

static void assert_hex_equal(const char *hex, const uint8_t *p, size_t n)
{
	char *h = malloc(2 * n + 1);
	assert_non_null(h);
	mycel_hex(p, n, h);
	assert_string_equal(h, hex);
	free(h);
}

/* ---- keys ------------------------------------------------------------------ */

enum { ALICE, BOB, CAROL, DAVE, ERIN, FRANK, MALLORY, NKEYS };
static const char *const names[NKEYS] = {"alice", "bob",   "carol",  "dave",
                                         "erin",  "frank", "mallory"};
static mycel_key *keys[NKEYS];
static mycel_key *feeds[3];

static int setup_all(void **state)
{
	(void)state;
	uint8_t seed[32];
	for (int i = 0; i < NKEYS; i++) {
		memset(seed, 0x10 + i, sizeof(seed));
		if (mycel_key_from_seed(seed, &keys[i]) != 0)
			return -1;
	}
	for (int i = 0; i < 3; i++) {
		memset(seed, 0xf0 + i, sizeof(seed));
		if (mycel_key_from_seed(seed, &feeds[i]) != 0)
			return -1;
	}
	return load_vectors();
}

static int teardown_all(void **state)
{
	(void)state;
	for (int i = 0; i < NKEYS; i++)
		mycel_key_free(keys[i]);
	for (int i = 0; i < 3; i++)
		mycel_key_free(feeds[i]);
	free(vf.text);
	return 0;
}

/* A charter of the given members (a bitmask of keys), threshold, domains 0..nd-1. */
static mycel_charter *build(const char *mesh, uint64_t version, uint32_t thr, unsigned members,
                            int nd)
{
	mycel_charter *c;
	static const char *const dn[] = {"orders", "payments", "shipping"};
	assert_int_equal(mycel_charter_new(mesh, version, thr, &c), 0);
	for (int i = 0; i < NKEYS; i++)
		if (members & (1u << i))
			assert_int_equal(mycel_charter_add_member(c, names[i], keys[i]->pk), 0);
	for (int i = 0; i < nd; i++)
		assert_int_equal(mycel_charter_add_domain(c, dn[i], feeds[i]->pk), 0);
	return c;
}

static void sign_by(mycel_charter *c, unsigned signers)
{
	char why[256];
	for (int i = 0; i < NKEYS; i++)
		if (signers & (1u << i))
			assert_int_equal(mycel_charter_sign(c, keys[i], why, sizeof(why)), 0);
}

#define M(x) (1u << (x))

/* Encodes c, decodes the file, and checks the file re-encodes identically. */
static mycel_charter *through_file(const mycel_charter *c, mycel_buf *file)
{
	mycel_charter *d;
	char why[256] = "";
	mycel_buf again;
	mycel_buf_init(file, MYCEL_CHARTER_MAX);
	assert_int_equal(mycel_charter_encode(c, file), 0);
	int rv = mycel_charter_decode(file->data, file->len, &d, why, sizeof(why));
	if (rv != 0)
		fail_msg("decode: %s: %s", mycel_errname(rv), why);
	mycel_buf_init(&again, MYCEL_CHARTER_MAX);
	assert_int_equal(mycel_charter_encode(d, &again), 0);
	assert_int_equal(again.len, file->len);
	assert_memory_equal(again.data, file->data, file->len);
	mycel_buf_fini(&again);
	return d;
}

static int verify_genesis(const mycel_charter *c)
{
	char why[256] = "";
	int rv = mycel_charter_verify_genesis(c, why, sizeof(why));
	if (rv != 0)
		assert_true(why[0] != '\0'); /* every refusal says why */
	return rv;
}

static int verify_next(const mycel_charter *p, const mycel_charter *n)
{
	char why[256] = "";
	int rv = mycel_charter_verify_next(p, n, why, sizeof(why));
	if (rv != 0)
		assert_true(why[0] != '\0');
	return rv;
}

/* ---- build, sign, encode, decode ------------------------------------------ */

static void test_roundtrip(void **state)
{
	(void)state;
	mycel_charter *c = build("acme", 1, 2, M(ALICE) | M(BOB) | M(CAROL), 3);
	sign_by(c, M(CAROL) | M(ALICE));
	assert_int_equal(mycel_charter_sig_count(c), 2);
	mycel_buf file;
	mycel_charter *d = through_file(c, &file);

	assert_string_equal(mycel_charter_mesh(d), "acme");
	assert_true(mycel_charter_version(d) == 1);
	assert_int_equal(mycel_charter_threshold(d), 2);
	/* Members and domains keep their order. */
	assert_int_equal(mycel_charter_member_count(d), 3);
	for (size_t i = 0; i < 3; i++) {
		const mycel_charter_member *m = mycel_charter_member_at(d, i);
		assert_non_null(m);
		assert_string_equal(m->name, names[i]);
		assert_memory_equal(m->key, keys[i]->pk, 32);
	}
	assert_null(mycel_charter_member_at(d, 3));
	assert_int_equal(mycel_charter_domain_count(d), 3);
	assert_string_equal(mycel_charter_domain_at(d, 0)->name, "orders");
	assert_string_equal(mycel_charter_domain_at(d, 2)->name, "shipping");
	assert_memory_equal(mycel_charter_domain_at(d, 1)->feed, feeds[1]->pk, 32);
	assert_null(mycel_charter_domain_at(d, 3));
	/* Signatures are sorted by key, whatever the order of signing. */
	assert_int_equal(mycel_charter_sig_count(d), 2);
	const mycel_charter_sig *s0 = mycel_charter_sig_at(d, 0), *s1 = mycel_charter_sig_at(d, 1);
	assert_true(memcmp(s0->key, s1->key, 32) < 0);
	assert_null(mycel_charter_sig_at(d, 2));
	/* A new charter has an empty policies array and params map. */
	assert_int_equal(mycel_charter_policies(d)->type, MYCEL_T_ARRAY);
	assert_int_equal(mycel_charter_policies(d)->v.a.len, 0);
	assert_int_equal(mycel_charter_params(d)->type, MYCEL_T_MAP);
	assert_int_equal(mycel_charter_params(d)->v.m.len, 0);
	assert_int_equal(verify_genesis(c), 0);
	assert_int_equal(verify_genesis(d), 0);
	/* Decoding accepts a NULL or tiny why buffer. */
	mycel_charter *e;
	assert_int_equal(mycel_charter_decode(file.data, file.len, &e, NULL, 0), 0);
	mycel_charter_free(e);
	char tiny[1];
	assert_int_equal(mycel_charter_decode(file.data, 3, &e, tiny, 1), MYCEL_ETRUNC);
	assert_int_equal(tiny[0], '\0');

	mycel_buf_fini(&file);
	mycel_charter_free(c);
	mycel_charter_free(d);
	mycel_charter_free(NULL);
}

static void test_builders(void **state)
{
	(void)state;
	mycel_charter *c = NULL;
	char why[256];
	assert_int_equal(mycel_charter_new("Acme", 1, 1, &c), MYCEL_EINVAL);
	assert_int_equal(mycel_charter_new("", 1, 1, &c), MYCEL_EINVAL);
	assert_int_equal(mycel_charter_new("-acme", 1, 1, &c), MYCEL_EINVAL);
	assert_int_equal(mycel_charter_new("acme", 0, 1, &c), MYCEL_EINVAL);
	assert_int_equal(mycel_charter_new("acme", 1, 0, &c), MYCEL_EINVAL);
	assert_null(c);

	assert_int_equal(mycel_charter_new("acme", 1, 2, &c), 0);
	/* Not well formed yet: no members, then fewer members than the threshold. */
	why[0] = '\0';
	assert_int_equal(mycel_charter_sign(c, keys[ALICE], why, sizeof(why)), MYCEL_ECHARTER);
	assert_true(why[0] != '\0');
	assert_int_equal(mycel_charter_add_member(c, "alice", keys[ALICE]->pk), 0);
	assert_int_equal(mycel_charter_sign(c, keys[ALICE], why, sizeof(why)), MYCEL_ECHARTER);
	assert_int_equal(mycel_charter_add_member(c, "Bob", keys[BOB]->pk), MYCEL_EINVAL);
	assert_int_equal(mycel_charter_add_member(c, "bob-", keys[BOB]->pk), MYCEL_EINVAL);
	assert_int_equal(mycel_charter_add_member(c, "alice", keys[BOB]->pk), MYCEL_EEXIST);
	assert_int_equal(mycel_charter_add_member(c, "bob", keys[ALICE]->pk), MYCEL_EEXIST);
	assert_int_equal(mycel_charter_add_member(c, "bob", keys[BOB]->pk), 0);
	assert_int_equal(mycel_charter_add_domain(c, "orders", feeds[0]->pk), 0);
	assert_int_equal(mycel_charter_add_domain(c, "orders", feeds[1]->pk), MYCEL_EEXIST);
	assert_int_equal(mycel_charter_add_domain(c, "payments", feeds[0]->pk), MYCEL_EEXIST);
	assert_int_equal(mycel_charter_add_domain(c, "pay_ments", feeds[1]->pk), MYCEL_EINVAL);
	/* A domain feed may equal a member key: they are different roles. */
	assert_int_equal(mycel_charter_add_domain(c, "governance", keys[ALICE]->pk), 0);

	/* Digest and encode of an unsigned draft do not freeze it. */
	uint8_t d1[32], d2[32];
	mycel_buf b;
	mycel_buf_init(&b, MYCEL_CHARTER_MAX);
	assert_int_equal(mycel_charter_digest(c, d1), 0);
	assert_int_equal(mycel_charter_encode(c, &b), 0);
	assert_int_equal(mycel_charter_add_domain(c, "payments", feeds[1]->pk), 0);
	assert_int_equal(mycel_charter_digest(c, d2), 0);
	assert_memory_not_equal(d1, d2, 32);
	mycel_buf_fini(&b);

	/* Signing twice with one key replaces the signature; after signing, builders refuse. */
	assert_int_equal(mycel_charter_sign(c, keys[ALICE], why, sizeof(why)), 0);
	assert_int_equal(mycel_charter_sign(c, keys[ALICE], why, sizeof(why)), 0);
	assert_int_equal(mycel_charter_sig_count(c), 1);
	assert_int_equal(mycel_charter_add_member(c, "carol", keys[CAROL]->pk), MYCEL_EBUSY);
	assert_int_equal(mycel_charter_add_domain(c, "shipping", feeds[2]->pk), MYCEL_EBUSY);
	/* The digest covers the charter bytes only, not the signatures. */
	assert_int_equal(mycel_charter_digest(c, d1), 0);
	assert_memory_equal(d1, d2, 32);
	/* Any key may sign; verification decides. */
	assert_int_equal(mycel_charter_sign(c, keys[MALLORY], why, sizeof(why)), 0);
	assert_int_equal(mycel_charter_sig_count(c), 2);
	mycel_charter_free(c);

	/* Limits. */
	assert_int_equal(mycel_charter_new("big", 1, 1, &c), 0);
	for (int i = 0; i < MYCEL_MEMBERS_MAX; i++) {
		char nm[16];
		uint8_t k[32] = {0};
		snprintf(nm, sizeof(nm), "m%d", i);
		k[0] = (uint8_t)i;
		k[1] = (uint8_t)(i >> 8);
		assert_int_equal(mycel_charter_add_member(c, nm, k), 0);
	}
	uint8_t k[32];
	memset(k, 0xee, sizeof(k));
	assert_int_equal(mycel_charter_add_member(c, "one-too-many", k), MYCEL_ETOOBIG);
	mycel_charter_free(c);
}

static void test_names(void **state)
{
	(void)state;
	static const char *const good[] = {
	    "a",         "acme",
	    "acme-mesh", "a1",
	    "1a",        "0",
	    "a-b-c",     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	static const char *const bad[] = {
	    "",  "-",   "-a",  "a-",
	    "A", "a_b", "a b", "a.b",
	    "ä", "a/b", "a\n", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(mycel_name_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(mycel_name_valid(bad[i]));
}

/* ---- verification ----------------------------------------------------------- */

static void test_verify_genesis(void **state)
{
	(void)state;
	mycel_buf f;
	mycel_charter *c, *d;

	/* 1 of 1. */
	c = build("acme", 1, 1, M(ALICE), 1);
	assert_int_equal(verify_genesis(c), MYCEL_ETHRESHOLD); /* not signed */
	sign_by(c, M(ALICE));
	d = through_file(c, &f);
	assert_int_equal(verify_genesis(d), 0);
	mycel_buf_fini(&f);
	mycel_charter_free(d);
	mycel_charter_free(c);

	/* 2 of 3: reached by two and by three signatures, not by one or none. */
	static const unsigned ok[] = {M(ALICE) | M(BOB), M(BOB) | M(CAROL), M(ALICE) | M(CAROL),
	                              M(ALICE) | M(BOB) | M(CAROL)};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		c = build("acme", 1, 2, M(ALICE) | M(BOB) | M(CAROL), 2);
		sign_by(c, ok[i]);
		d = through_file(c, &f);
		assert_int_equal(verify_genesis(d), 0);
		mycel_buf_fini(&f);
		mycel_charter_free(d);
		mycel_charter_free(c);
	}
	static const unsigned few[] = {M(ALICE), M(BOB), M(CAROL)};
	for (size_t i = 0; i < sizeof(few) / sizeof(few[0]); i++) {
		c = build("acme", 1, 2, M(ALICE) | M(BOB) | M(CAROL), 2);
		sign_by(c, few[i]);
		d = through_file(c, &f);
		assert_int_equal(verify_genesis(d), MYCEL_ETHRESHOLD);
		mycel_buf_fini(&f);
		mycel_charter_free(d);
		mycel_charter_free(c);
	}
	/* No signatures at all, in a file. */
	c = build("acme", 1, 2, M(ALICE) | M(BOB) | M(CAROL), 2);
	mycel_buf_init(&f, MYCEL_CHARTER_MAX);
	assert_int_equal(mycel_charter_encode(c, &f), 0);
	assert_int_equal(mycel_charter_decode(f.data, f.len, &d, NULL, 0), 0);
	assert_int_equal(mycel_charter_sig_count(d), 0);
	assert_int_equal(verify_genesis(d), MYCEL_ETHRESHOLD);
	mycel_buf_fini(&f);
	mycel_charter_free(d);
	mycel_charter_free(c);

	/* A signature by a non-member, even beside a reached threshold. */
	c = build("acme", 1, 2, M(ALICE) | M(BOB) | M(CAROL), 2);
	sign_by(c, M(ALICE) | M(BOB) | M(MALLORY));
	d = through_file(c, &f);
	assert_int_equal(verify_genesis(d), MYCEL_ECHARTER);
	mycel_buf_fini(&f);
	mycel_charter_free(d);
	mycel_charter_free(c);

	/* A corrupted signature (the last byte of the last one). */
	c = build("acme", 1, 2, M(ALICE) | M(BOB) | M(CAROL), 2);
	sign_by(c, M(ALICE) | M(BOB) | M(CAROL));
	mycel_buf_init(&f, MYCEL_CHARTER_MAX);
	assert_int_equal(mycel_charter_encode(c, &f), 0);
	f.data[f.len - 1] ^= 0x40;
	assert_int_equal(mycel_charter_decode(f.data, f.len, &d, NULL, 0), 0);
	assert_int_equal(verify_genesis(d), MYCEL_EBADSIG);
	mycel_buf_fini(&f);
	mycel_charter_free(d);
	mycel_charter_free(c);

	/* Version 2 is not a genesis. */
	c = build("acme", 2, 1, M(ALICE), 0);
	sign_by(c, M(ALICE));
	assert_int_equal(verify_genesis(c), MYCEL_ECHARTER);
	mycel_charter_free(c);
}

static void test_verify_next(void **state)
{
	(void)state;
	mycel_buf f1, f2;
	mycel_charter *c1 = build("acme", 1, 2, M(ALICE) | M(BOB) | M(CAROL), 2);
	sign_by(c1, M(ALICE) | M(BOB));
	mycel_charter *v1 = through_file(c1, &f1);
	assert_int_equal(verify_genesis(v1), 0);

	struct {
		const char *what;
		const char *mesh;
		uint64_t version;
		uint32_t thr;
		unsigned members, signers;
		int want;
	} cases[] = {
	    {"old and new thresholds reached", "acme", 2, 2, M(ALICE) | M(BOB) | M(DAVE),
	     M(ALICE) | M(BOB), 0},
	    {"old members sign, new member too", "acme", 2, 2, M(ALICE) | M(DAVE) | M(ERIN),
	     M(ALICE) | M(CAROL) | M(DAVE), 0},
	    {"complete rotation", "acme", 2, 2, M(DAVE) | M(ERIN) | M(FRANK),
	     M(ALICE) | M(BOB) | M(DAVE) | M(ERIN), 0},
	    {"old threshold missing", "acme", 2, 2, M(DAVE) | M(ERIN) | M(FRANK),
	     M(ALICE) | M(DAVE) | M(ERIN), MYCEL_ETHRESHOLD},
	    {"old threshold missing, new reached by the same keys", "acme", 2, 2,
	     M(ALICE) | M(DAVE) | M(ERIN), M(DAVE) | M(ERIN), MYCEL_ETHRESHOLD},
	    {"new threshold missing", "acme", 2, 3, M(ALICE) | M(BOB) | M(DAVE) | M(ERIN),
	     M(ALICE) | M(BOB), MYCEL_ETHRESHOLD},
	    {"new threshold missing after rotation", "acme", 2, 2, M(DAVE) | M(ERIN) | M(FRANK),
	     M(ALICE) | M(BOB) | M(DAVE), MYCEL_ETHRESHOLD},
	    {"a signer of neither version", "acme", 2, 2, M(ALICE) | M(BOB) | M(DAVE),
	     M(ALICE) | M(BOB) | M(MALLORY), MYCEL_ECHARTER},
	    {"version skip", "acme", 3, 2, M(ALICE) | M(BOB) | M(CAROL), M(ALICE) | M(BOB),
	     MYCEL_ECHARTER},
	    {"same version", "acme", 1, 2, M(ALICE) | M(BOB) | M(CAROL), M(ALICE) | M(BOB),
	     MYCEL_ECHARTER},
	    {"mesh rename", "acme-two", 2, 2, M(ALICE) | M(BOB) | M(CAROL), M(ALICE) | M(BOB),
	     MYCEL_ECHARTER},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mycel_charter *c2 =
		    build(cases[i].mesh, cases[i].version, cases[i].thr, cases[i].members, 3);
		sign_by(c2, cases[i].signers);
		mycel_charter *v2 = through_file(c2, &f2);
		int rv = verify_next(v1, v2);
		if (rv != cases[i].want)
			fail_msg("%s: got %s, want %s", cases[i].what, mycel_errname(rv),
			         mycel_errname(cases[i].want));
		/* A step is never a genesis. */
		if (cases[i].version != 1)
			assert_int_equal(verify_genesis(v2), MYCEL_ECHARTER);
		mycel_buf_fini(&f2);
		mycel_charter_free(v2);
		mycel_charter_free(c2);
	}

	/* A corrupted signature in the next version. */
	mycel_charter *c2 = build("acme", 2, 2, M(ALICE) | M(BOB) | M(CAROL), 3);
	sign_by(c2, M(ALICE) | M(BOB) | M(CAROL));
	mycel_buf_init(&f2, MYCEL_CHARTER_MAX);
	assert_int_equal(mycel_charter_encode(c2, &f2), 0);
	f2.data[f2.len - 10] ^= 0x01;
	mycel_charter *v2;
	assert_int_equal(mycel_charter_decode(f2.data, f2.len, &v2, NULL, 0), 0);
	assert_int_equal(verify_next(v1, v2), MYCEL_EBADSIG);
	mycel_charter_free(v2);
	/* An unsigned next version. */
	mycel_charter *c3 = build("acme", 2, 2, M(ALICE) | M(BOB) | M(CAROL), 3);
	assert_int_equal(verify_next(v1, c3), MYCEL_ETHRESHOLD);
	/* A chain of three: v3 follows v2 under v2's members. */
	mycel_charter *u2 = build("acme", 2, 1, M(DAVE), 1);
	sign_by(u2, M(ALICE) | M(BOB) | M(DAVE));
	assert_int_equal(verify_next(v1, u2), 0);
	mycel_charter *u3 = build("acme", 3, 1, M(ERIN), 1);
	sign_by(u3, M(DAVE) | M(ERIN));
	assert_int_equal(verify_next(u2, u3), 0);
	assert_int_not_equal(verify_next(v1, u3), 0);
	mycel_charter *u3b = build("acme", 3, 1, M(ERIN), 1);
	sign_by(u3b, M(ALICE) | M(BOB) | M(ERIN)); /* v1's members have no say over v3 */
	assert_int_equal(verify_next(u2, u3b), MYCEL_ECHARTER);

	mycel_charter_free(u3b);
	mycel_charter_free(u3);
	mycel_charter_free(u2);
	mycel_charter_free(c3);
	mycel_charter_free(c2);
	mycel_buf_fini(&f2);
	mycel_buf_fini(&f1);
	mycel_charter_free(v1);
	mycel_charter_free(c1);
}

/* ---- strict decoding ------------------------------------------------------ */

static void test_vectors_invalid(void **state)
{
	(void)state;
	static const char *const required[] = {
	    "unknown-top-level-key",
	    "missing-mesh",
	    "missing-threshold",
	    "mesh-uppercase",
	    "member-name-uppercase",
	    "duplicate-member-name",
	    "duplicate-member-key",
	    "duplicate-domain-name",
	    "duplicate-domain-feed",
	    "threshold-0",
	    "threshold-4-of-3",
	    "signatures-unsorted",
	    "signatures-duplicated",
	    "trailing-byte",
	    "keys-out-of-order",
	    "policy-severity-block",
	    "policy-severity-embedded-nul",
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
		uint8_t *exact = malloc(n ? n : 1); /* exact size, for ASan */
		memcpy(exact, p, n);
		mycel_charter *sentinel = (mycel_charter *)&vf, *c = sentinel;
		char why[256] = "";
		int want = mycel_errcode(l->err);
		assert_true(want < 0);
		int rv = mycel_charter_decode(exact, n, &c, why, sizeof(why));
		if (rv != want)
			fail_msg("invalid %s: got %s (%s), want %s", l->name, mycel_errname(rv),
			         why, l->err);
		assert_ptr_equal(c, sentinel);
		assert_true(why[0] != '\0');
		free(exact);
		free(p);
	}
}

/* Hand-built charter bytes: keys written in the given order, each value by name. */
typedef struct hand {
	const char *const *keys;
	size_t nkeys;
	uint64_t threshold;
	const char *member_names[4];
	int member_keys[4];
	size_t nm;
	const char *domain_names[3];
	int domain_feeds[3];
	size_t nd;
} hand;

static void hand_body(const hand *h, mycel_buf *b)
{
	mycel_enc_map(b, (uint32_t)h->nkeys);
	for (size_t i = 0; i < h->nkeys; i++) {
		const char *k = h->keys[i];
		mycel_enc_cstr(b, k);
		if (strcmp(k, "domains") == 0) {
			mycel_enc_array(b, (uint32_t)h->nd);
			for (size_t j = 0; j < h->nd; j++) {
				mycel_enc_map(b, 2);
				mycel_enc_cstr(b, "feed");
				mycel_enc_bin(b, feeds[h->domain_feeds[j]]->pk, 32);
				mycel_enc_cstr(b, "name");
				mycel_enc_cstr(b, h->domain_names[j]);
			}
		} else if (strcmp(k, "members") == 0) {
			mycel_enc_array(b, (uint32_t)h->nm);
			for (size_t j = 0; j < h->nm; j++) {
				mycel_enc_map(b, 2);
				mycel_enc_cstr(b, "key");
				mycel_enc_bin(b, keys[h->member_keys[j]]->pk, 32);
				mycel_enc_cstr(b, "name");
				mycel_enc_cstr(b, h->member_names[j]);
			}
		} else if (strcmp(k, "mesh") == 0) {
			mycel_enc_cstr(b, "acme");
		} else if (strcmp(k, "params") == 0) {
			mycel_enc_map(b, 0);
		} else if (strcmp(k, "policies") == 0) {
			mycel_enc_array(b, 0);
		} else if (strcmp(k, "threshold") == 0) {
			mycel_enc_uint(b, h->threshold);
		} else if (strcmp(k, "version") == 0) {
			mycel_enc_uint(b, 1);
		} else {
			mycel_enc_cstr(b, "surprise");
		}
	}
	assert_int_equal(b->err, 0);
}

/* Decodes the file [bin(body), sigs] made from h, with the given signers (sorted or not). */
static int hand_decode(const hand *h, const int *signers, size_t ns, bool trailing, char *why)
{
	static const char ctx[] = "mycel/charter/v1";
	mycel_buf body, file;
	mycel_buf_init(&body, MYCEL_CHARTER_MAX);
	mycel_buf_init(&file, MYCEL_CHARTER_MAX);
	hand_body(h, &body);
	uint8_t *m = malloc(sizeof(ctx) + body.len);
	memcpy(m, ctx, sizeof(ctx));
	memcpy(m + sizeof(ctx), body.data, body.len);
	mycel_enc_array(&file, 2);
	mycel_enc_bin(&file, body.data, body.len);
	mycel_enc_array(&file, (uint32_t)ns);
	for (size_t i = 0; i < ns; i++) {
		uint8_t sig[64];
		crypto_sign_detached(sig, NULL, m, sizeof(ctx) + body.len, keys[signers[i]]->sk);
		mycel_enc_array(&file, 2);
		mycel_enc_bin(&file, keys[signers[i]]->pk, 32);
		mycel_enc_bin(&file, sig, 64);
	}
	if (trailing)
		mycel_buf_put(&file, "\xc0", 1);
	free(m);
	mycel_charter *c = NULL;
	why[0] = '\0';
	int rv = mycel_charter_decode(file.data, file.len, &c, why, 256);
	if (rv == 0) {
		if (ns > 0) {
			int vr = mycel_charter_verify_genesis(c, why, 256);
			assert_true(vr == 0 || vr == MYCEL_ETHRESHOLD);
		}
		mycel_charter_free(c);
	}
	mycel_buf_fini(&file);
	mycel_buf_fini(&body);
	return rv;
}

static void test_decode_by_hand(void **state)
{
	(void)state;
	static const char *const canon[] = {"domains",  "members",   "mesh",   "params",
	                                    "policies", "threshold", "version"};
	static const char *const swapped[] = {"members",  "domains",   "mesh",   "params",
	                                      "policies", "threshold", "version"};
	static const char *const unknown[] = {"domains",  "members",   "mesh",    "params",
	                                      "policies", "threshold", "version", "zebra"};
	static const char *const missing[] = {"domains", "members",  "mesh",
	                                      "params",  "policies", "version"};
	static const char *const dup[] = {"domains", "members",  "members",   "mesh",
	                                  "params",  "policies", "threshold", "version"};
	hand h = {
	    canon,  7, 2, {"alice", "bob", "carol"}, {ALICE, BOB, CAROL}, 3, {"orders", "payments"},
	    {0, 1}, 2};
	char why[256];
	/* Signers sorted by key. */
	int s[2] = {ALICE, BOB};
	if (memcmp(keys[ALICE]->pk, keys[BOB]->pk, 32) > 0) {
		s[0] = BOB;
		s[1] = ALICE;
	}
	int rs[2] = {s[1], s[0]};
	int dd[2] = {s[0], s[0]};

	assert_int_equal(hand_decode(&h, s, 2, false, why), 0); /* the control case */
	assert_int_equal(hand_decode(&h, NULL, 0, false, why), 0);
	assert_int_equal(hand_decode(&h, rs, 2, false, why), MYCEL_ECHARTER);
	assert_int_equal(hand_decode(&h, dd, 2, false, why), MYCEL_ECHARTER);
	assert_int_equal(hand_decode(&h, s, 2, true, why), MYCEL_ETRAILING);

	hand x = h;
	x.keys = swapped;
	assert_int_equal(hand_decode(&x, s, 2, false, why), MYCEL_EKEYORDER);
	x.keys = dup;
	x.nkeys = 8;
	assert_int_equal(hand_decode(&x, s, 2, false, why), MYCEL_EKEYORDER);
	x.keys = unknown;
	assert_int_equal(hand_decode(&x, s, 2, false, why), MYCEL_ECHARTER);
	assert_non_null(strstr(why, "zebra"));
	x.keys = missing;
	x.nkeys = 6;
	assert_int_equal(hand_decode(&x, s, 2, false, why), MYCEL_ECHARTER);
	assert_non_null(strstr(why, "threshold"));

	x = h;
	x.threshold = 0;
	assert_int_equal(hand_decode(&x, s, 2, false, why), MYCEL_ECHARTER);
	x.threshold = 4;
	assert_int_equal(hand_decode(&x, s, 2, false, why), MYCEL_ECHARTER);
	x.threshold = 3;
	assert_int_equal(hand_decode(&x, s, 2, false, why), 0); /* decodes; verify: ETHRESHOLD */

	static const char *const badnames[] = {
	    "Alice",
	    "al ice",
	    "",
	    "-alice",
	    "alice-",
	    "al_ice",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	for (size_t i = 0; i < sizeof(badnames) / sizeof(badnames[0]); i++) {
		x = h;
		x.member_names[0] = badnames[i];
		assert_int_equal(hand_decode(&x, s, 2, false, why), MYCEL_ECHARTER);
		x = h;
		x.domain_names[1] = badnames[i];
		assert_int_equal(hand_decode(&x, s, 2, false, why), MYCEL_ECHARTER);
	}
	x = h;
	x.member_names[2] = "bob";
	assert_int_equal(hand_decode(&x, s, 2, false, why), MYCEL_ECHARTER);
	x = h;
	x.member_keys[2] = ALICE;
	assert_int_equal(hand_decode(&x, s, 2, false, why), MYCEL_ECHARTER);
	x = h;
	x.domain_names[1] = "orders";
	assert_int_equal(hand_decode(&x, s, 2, false, why), MYCEL_ECHARTER);
	x = h;
	x.domain_feeds[1] = 0;
	assert_int_equal(hand_decode(&x, s, 2, false, why), MYCEL_ECHARTER);
}

static void test_decode_limits(void **state)
{
	(void)state;
	mycel_charter *c = NULL;
	char why[256];
	/* Larger than 1 MiB. */
	uint8_t *big = calloc(1, MYCEL_CHARTER_MAX + 1);
	assert_non_null(big);
	assert_int_equal(mycel_charter_decode(big, MYCEL_CHARTER_MAX + 1, &c, why, sizeof(why)),
	                 MYCEL_ETOOBIG);
	free(big);
	/* More signatures than two versions' members could give. */
	mycel_buf f;
	mycel_buf_init(&f, MYCEL_CHARTER_MAX);
	mycel_enc_array(&f, 2);
	mycel_enc_bin(&f, (const uint8_t *)"\x80", 1);
	mycel_enc_array(&f, 2 * MYCEL_MEMBERS_MAX + 1);
	for (int i = 0; i < 2 * MYCEL_MEMBERS_MAX + 1; i++) {
		uint8_t k[32] = {0}, s[64] = {0};
		k[0] = (uint8_t)(i >> 8);
		k[1] = (uint8_t)i;
		mycel_enc_array(&f, 2);
		mycel_enc_bin(&f, k, 32);
		mycel_enc_bin(&f, s, 64);
	}
	assert_int_equal(mycel_charter_decode(f.data, f.len, &c, why, sizeof(why)), MYCEL_ECHARTER);
	/* A count far beyond the bytes present is refused before any allocation. */
	mycel_buf_reset(&f);
	mycel_enc_array(&f, 2);
	mycel_enc_bin(&f, (const uint8_t *)"\x80", 1);
	mycel_buf_put(&f, "\xdd\xff\xff\xff\xff", 5);
	assert_int_not_equal(mycel_charter_decode(f.data, f.len, &c, why, sizeof(why)), 0);
	assert_null(c);
	mycel_buf_fini(&f);

	/* A large valid charter: 255 members, 2000 domains, 255 signatures needed for 255 of 255.
	 */
	assert_int_equal(mycel_charter_new("large", 1, 3, &c), 0);
	mycel_key *mk[MYCEL_MEMBERS_MAX];
	for (int i = 0; i < MYCEL_MEMBERS_MAX; i++) {
		uint8_t seed[32] = {0};
		char nm[16];
		seed[0] = (uint8_t)i;
		seed[1] = 0x77;
		assert_int_equal(mycel_key_from_seed(seed, &mk[i]), 0);
		snprintf(nm, sizeof(nm), "member-%d", i);
		assert_int_equal(mycel_charter_add_member(c, nm, mk[i]->pk), 0);
	}
	for (int i = 0; i < 2000; i++) {
		uint8_t feed[32] = {0};
		char nm[16];
		feed[0] = (uint8_t)(i >> 8);
		feed[1] = (uint8_t)i;
		snprintf(nm, sizeof(nm), "domain-%d", i);
		assert_int_equal(mycel_charter_add_domain(c, nm, feed), 0);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(mycel_charter_sign(c, mk[i * 50], why, sizeof(why)), 0);
	mycel_charter *d = through_file(c, &f);
	assert_int_equal(mycel_charter_member_count(d), MYCEL_MEMBERS_MAX);
	assert_int_equal(mycel_charter_domain_count(d), 2000);
	assert_int_equal(verify_genesis(d), 0);
	uint8_t feed[32] = {0};
	feed[0] = 1999 >> 8;
	feed[1] = 1999 & 0xff;
	assert_string_equal(mycel_charter_find_feed(d, feed)->name, "domain-1999");
	mycel_buf_fini(&f);
	mycel_charter_free(d);
	mycel_charter_free(c);
	for (int i = 0; i < MYCEL_MEMBERS_MAX; i++)
		mycel_key_free(mk[i]);
}

/* ---- lookups and digest --------------------------------------------------- */

static void test_find(void **state)
{
	(void)state;
	mycel_buf f;
	mycel_charter *c = build("acme", 1, 1, M(ALICE), 3);
	sign_by(c, M(ALICE));
	mycel_charter *d = through_file(c, &f);
	static const char *const dn[] = {"orders", "payments", "shipping"};
	for (int pass = 0; pass < 2; pass++) {
		const mycel_charter *x = pass ? d : c;
		for (int i = 0; i < 3; i++) {
			const mycel_charter_domain *dom = mycel_charter_find_feed(x, feeds[i]->pk);
			assert_non_null(dom);
			assert_string_equal(dom->name, dn[i]);
			assert_ptr_equal(mycel_charter_find_domain(x, dn[i]), dom);
		}
		assert_null(mycel_charter_find_feed(x, keys[ALICE]->pk)); /* a member, no domain */
		uint8_t near[32];
		memcpy(near, feeds[0]->pk, 32);
		near[31] ^= 1;
		assert_null(mycel_charter_find_feed(x, near));
		assert_null(mycel_charter_find_domain(x, "order"));
		assert_null(mycel_charter_find_domain(x, "orders2"));
		assert_null(mycel_charter_find_domain(x, "Orders"));
		assert_null(mycel_charter_find_domain(x, ""));
	}
	mycel_charter *empty = build("acme", 1, 1, M(ALICE), 0);
	assert_null(mycel_charter_find_feed(empty, feeds[0]->pk));
	assert_null(mycel_charter_find_domain(empty, "orders"));
	mycel_charter_free(empty);
	mycel_buf_fini(&f);
	mycel_charter_free(d);
	mycel_charter_free(c);
}

static void test_digest(void **state)
{
	(void)state;
	uint8_t a[32], b[32], c2[32], d2[32], h[32];
	mycel_buf f;
	mycel_charter *x = build("acme", 1, 2, M(ALICE) | M(BOB) | M(CAROL), 2);
	mycel_charter *y = build("acme", 1, 2, M(ALICE) | M(BOB) | M(CAROL), 2);
	assert_int_equal(mycel_charter_digest(x, a), 0);
	assert_int_equal(mycel_charter_digest(x, b), 0);
	assert_memory_equal(a, b, 32); /* stable */
	assert_int_equal(mycel_charter_digest(y, b), 0);
	assert_memory_equal(a, b, 32); /* independent of the object */
	sign_by(x, M(ALICE));
	assert_int_equal(mycel_charter_digest(x, b), 0);
	assert_memory_equal(a, b, 32); /* signatures apart */
	sign_by(x, M(BOB) | M(CAROL));
	mycel_charter *d = through_file(x, &f);
	assert_int_equal(mycel_charter_digest(d, c2), 0);
	assert_memory_equal(a, c2, 32); /* the decoded file has the same id */
	/* The digest is BLAKE2b-256 of the bin inside the file. */
	mycel_rd r;
	uint32_t cnt;
	const uint8_t *body;
	size_t blen;
	mycel_rd_init(&r, f.data, f.len);
	assert_int_equal(mycel_rd_array(&r, &cnt), 0);
	assert_int_equal(mycel_rd_bin(&r, &body, &blen), 0);
	crypto_generichash(h, 32, body, blen, NULL, 0);
	assert_memory_equal(h, a, 32);
	/* Any change of content changes it. */
	mycel_charter *z = build("acme", 1, 2, M(ALICE) | M(BOB) | M(CAROL), 3);
	assert_int_equal(mycel_charter_digest(z, d2), 0);
	assert_memory_not_equal(a, d2, 32);
	mycel_charter_free(z);
	z = build("acme", 1, 1, M(ALICE) | M(BOB) | M(CAROL), 2);
	assert_int_equal(mycel_charter_digest(z, d2), 0);
	assert_memory_not_equal(a, d2, 32);
	mycel_charter_free(z);
	mycel_buf_fini(&f);
	mycel_charter_free(d);
	mycel_charter_free(x);
	mycel_charter_free(y);
}

/* Every byte of a signed 2-of-3 file, changed: the result never decodes and verifies. */
static void test_tamper(void **state)
{
	(void)state;
	mycel_buf f;
	mycel_charter *c = build("acme", 1, 2, M(ALICE) | M(BOB) | M(CAROL), 2);
	sign_by(c, M(ALICE) | M(BOB));
	mycel_charter *d = through_file(c, &f);
	assert_int_equal(verify_genesis(d), 0);
	mycel_charter_free(d);
	uint8_t *copy = malloc(f.len);
	size_t decoded = 0;
	for (int bit = 0; bit < 8; bit++) {
		for (size_t i = 0; i < f.len; i++) {
			memcpy(copy, f.data, f.len);
			copy[i] ^= (uint8_t)(1u << bit);
			mycel_charter *t;
			if (mycel_charter_decode(copy, f.len, &t, NULL, 0) != 0)
				continue;
			decoded++;
			if (mycel_charter_verify_genesis(t, NULL, 0) == 0)
				fail_msg("bit %d of byte %zu flipped: decodes and verifies", bit,
				         i);
			mycel_charter_free(t);
		}
	}
	assert_true(decoded > 0);
	free(copy);
	mycel_buf_fini(&f);
	mycel_charter_free(c);
}

/* ---- golden vectors ----------------------------------------------------- */

static mycel_key *key_hex(const char *seed_hex)
{
	uint8_t seed[32];
	mycel_key *k;
	assert_int_equal(mycel_unhex(seed_hex, seed, 32), 0);
	assert_int_equal(mycel_key_from_seed(seed, &k), 0);
	return k;
}

/* Rebuilds a golden charter from its fields; returns it and (via out) its file. */
static mycel_charter *rebuild(const vector *v)
{
	mycel_charter *c;
	mycel_key *mk[8];
	const char *mn[8];
	size_t nm = 0;
	assert_int_equal(mycel_charter_new(need(v, "mesh"), strtoull(need(v, "version"), NULL, 10),
	                                   (uint32_t)strtoul(need(v, "threshold"), NULL, 10), &c),
	                 0);
	for (size_t i = 0; i < v->n; i++) {
		char name[80], seed[80], pk[80];
		if (strcmp(v->f[i].key, "member") == 0) {
			assert_int_equal(sscanf(v->f[i].val, "%79s %79s %79s", name, seed, pk), 3);
			mycel_key *k = key_hex(seed);
			assert_hex_equal(pk, k->pk, 32);
			assert_int_equal(mycel_charter_add_member(c, name, k->pk), 0);
			assert_true(nm < 8);
			mk[nm] = k;
			mn[nm] = strstr(v->f[i].val, name); /* name is the value's first word */
			nm++;
		} else if (strcmp(v->f[i].key, "domain") == 0) {
			assert_int_equal(sscanf(v->f[i].val, "%79s %79s %79s", name, seed, pk), 3);
			mycel_key *k = key_hex(seed);
			assert_hex_equal(pk, k->pk, 32);
			/*
			 * A domain whose feed succeeds a compromised one is first bound to that
			 * feed, then declared compromised (PROTOCOL.md §3.4): the builders' way.
			 */
			const char *cv = get(v, "compromised");
			char cseed[80], cfeed[80], csucc[80];
			unsigned long long cseq = 0;
			mycel_key *old = NULL;
			if (cv != NULL) {
				assert_int_equal(sscanf(cv, "%79s %79s %llu %79s", cseed, cfeed, &cseq, csucc),
						 4);
				if (strcmp(csucc, pk) == 0) {
					old = key_hex(cseed);
					assert_hex_equal(cfeed, old->pk, 32);
				}
			}
			assert_int_equal(mycel_charter_add_domain(c, name, old ? old->pk : k->pk), 0);
			if (old != NULL)
				assert_int_equal(mycel_charter_compromise(c, name, cseq, k->pk), 0);
			mycel_key_free(old);
			mycel_key_free(k);
		}
	}
	for (size_t i = 0; i < v->n; i++) {
		if (strcmp(v->f[i].key, "signer") != 0)
			continue;
		bool found = false;
		for (size_t j = 0; j < nm; j++) {
			size_t len = strlen(v->f[i].val);
			if (strncmp(mn[j], v->f[i].val, len) == 0 && mn[j][len] == ' ') {
				char why[256];
				assert_int_equal(mycel_charter_sign(c, mk[j], why, sizeof(why)), 0);
				found = true;
			}
		}
		assert_true(found);
	}
	for (size_t j = 0; j < nm; j++)
		mycel_key_free(mk[j]);
	return c;
}

static void test_vectors_golden(void **state)
{
	(void)state;
	assert_true(vf.nv >= 2);
	const vector *g = find_vec("genesis");
	/* The vector the file must hold: alice, bob, carol; 2 of 3; two domains; alice and bob. */
	assert_string_equal(need(g, "version"), "1");
	assert_string_equal(need(g, "threshold"), "2");
	for (size_t i = 0; i < vf.nv; i++) {
		const vector *v = &vf.v[i];
		if (get(v, "mesh") == NULL)
			continue; /* a vector given by its bytes only */
		mycel_charter *c = rebuild(v);
		mycel_buf f;
		uint8_t dg[32];
		mycel_buf_init(&f, MYCEL_CHARTER_MAX);
		assert_int_equal(mycel_charter_encode(c, &f), 0);
		assert_hex_equal(need(v, "file"), f.data, f.len);
		assert_int_equal(mycel_charter_digest(c, dg), 0);
		assert_hex_equal(need(v, "digest"), dg, 32);
		mycel_buf_fini(&f);
		mycel_charter *d = through_file(c, &f);
		mycel_buf_fini(&f);
		const char *prev = get(v, "follows");
		if (prev == NULL) {
			assert_int_equal(verify_genesis(d), 0);
		} else {
			mycel_charter *p = rebuild(find_vec(prev));
			assert_int_equal(verify_next(p, d), 0);
			mycel_charter_free(p);
		}
		mycel_charter_free(d);
		mycel_charter_free(c);
	}
	/* Every vector: file decodes, re-encodes, holds the charter bytes, digest matches. */
	for (size_t i = 0; i < vf.nv; i++) {
		const vector *v = &vf.v[i];
		size_t fn, cn;
		uint8_t *file = unhex_alloc(need(v, "file"), &fn);
		uint8_t *body = unhex_alloc(need(v, "charter"), &cn);
		mycel_charter *d;
		uint8_t dg[32], h[32];
		assert_int_equal(mycel_charter_decode(file, fn, &d, NULL, 0), 0);
		mycel_buf again;
		mycel_buf_init(&again, MYCEL_CHARTER_MAX);
		assert_int_equal(mycel_charter_encode(d, &again), 0);
		assert_int_equal(again.len, fn);
		assert_memory_equal(again.data, file, fn);
		mycel_buf_fini(&again);
		assert_non_null(memmem(file, fn, body, cn));
		crypto_generichash(h, 32, body, cn, NULL, 0);
		assert_hex_equal(need(v, "digest"), h, 32);
		assert_int_equal(mycel_charter_digest(d, dg), 0);
		assert_memory_equal(dg, h, 32);
		if (strcmp(need(v, "name"), "policies") == 0) {
			assert_int_equal(verify_genesis(d), 0);
			const mycel_value *pol = mycel_charter_policies(d);
			assert_int_equal(pol->type, MYCEL_T_ARRAY);
			assert_int_equal(pol->v.a.len, 2);
			const mycel_value *sev = mycel_value_get(&pol->v.a.items[0], "severity");
			assert_non_null(sev);
			assert_string_equal(sev->v.s.ptr, "deny");
			const mycel_value *ret =
			    mycel_value_get(mycel_charter_params(d), "retention_days");
			assert_non_null(ret);
			assert_true(ret->type == MYCEL_T_UINT && ret->v.u == 30);
		}
		mycel_charter_free(d);
		free(body);
		free(file);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),      cmocka_unit_test(test_builders),
	    cmocka_unit_test(test_names),          cmocka_unit_test(test_verify_genesis),
	    cmocka_unit_test(test_verify_next),    cmocka_unit_test(test_vectors_invalid),
	    cmocka_unit_test(test_decode_by_hand), cmocka_unit_test(test_decode_limits),
	    cmocka_unit_test(test_find),           cmocka_unit_test(test_digest),
	    cmocka_unit_test(test_tamper),         cmocka_unit_test(test_vectors_golden),
	};
	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
