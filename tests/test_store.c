/*
 * test_store.c — the LMDB store: appends, charters, ingest, forks, persistence,
 * verification, and the tamper test (every byte of every stored value of the
 * signed tables is flipped once; verify must name the place each time).
 *
 * Every test works in its own mkdtemp directory under /tmp, removed afterwards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mycel/charter.h"
#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/store.h"

#include "common.h"

/* ---- fixture ------------------------------------------------------------------ */

typedef struct fx {
	char dir[64];   /* the store of the test */
	char dir2[64];  /* a second store, for ingest */
	mycel_store *s; /* open store in dir, or NULL */
	mycel_key *gov1, *gov2, *a, *b, *c;
	mycel_buf genesis; /* v1: members gov1, gov2 (threshold 1); domains alpha=a, beta=b */
	mycel_buf v2;      /* v2: the same plus gamma=c, signed by gov1 */
} fx;

/* A charter file: members gov1 and gov2, threshold 1, domains alpha and beta (and gamma). */
static void charter_file(const fx *f, const char *mesh, uint64_t version, bool with_c,
                         mycel_key *const *signers, size_t nsig, mycel_buf *out)
{
	mycel_charter *c = NULL;
	char why[256] = "";
	assert_int_equal(mycel_charter_new(mesh, version, 1, &c), 0);
	assert_int_equal(mycel_charter_add_member(c, "gov1", f->gov1->pk), 0);
	assert_int_equal(mycel_charter_add_member(c, "gov2", f->gov2->pk), 0);
	assert_int_equal(mycel_charter_add_domain(c, "alpha", f->a->pk), 0);
	assert_int_equal(mycel_charter_add_domain(c, "beta", f->b->pk), 0);
	if (with_c)
		assert_int_equal(mycel_charter_add_domain(c, "gamma", f->c->pk), 0);
	for (size_t i = 0; i < nsig; i++)
		assert_int_equal(mycel_charter_sign(c, signers[i], why, sizeof(why)), 0);
	mycel_buf_init(out, MYCEL_CHARTER_MAX);
	assert_int_equal(mycel_charter_encode(c, out), 0);
	mycel_charter_free(c);
}

static mycel_store *open_store(const char *dir, unsigned flags)
{
	mycel_store *s = NULL;
	char why[256] = "";
	int rv = mycel_store_open(dir, flags, &s, why, sizeof(why));
	if (rv != 0)
		fail_msg("open %s: %s (%s)", dir, mycel_errname(rv), why);
	return s;
}

/* A new store in dir holding the genesis charter. */
static mycel_store *new_store(const fx *f, const char *dir)
{
	return tc_store_new(dir, f->genesis.data, f->genesis.len);
}

static int group_setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->gov1 = tc_seed_key(0x01);
	f->gov2 = tc_seed_key(0x02);
	f->a = tc_seed_key(0xa1);
	f->b = tc_seed_key(0xb2);
	f->c = tc_seed_key(0xc3);
	charter_file(f, "acme", 1, false, &f->gov1, 1, &f->genesis);
	charter_file(f, "acme", 2, true, &f->gov1, 1, &f->v2);
	*state = f;
	return 0;
}

static int group_teardown(void **state)
{
	fx *f = *state;
	mycel_buf_fini(&f->genesis);
	mycel_buf_fini(&f->v2);
	mycel_key_free(f->gov1);
	mycel_key_free(f->gov2);
	mycel_key_free(f->a);
	mycel_key_free(f->b);
	mycel_key_free(f->c);
	free(f);
	return 0;
}

static int setup(void **state)
{
	fx *f = *state;
	tc_tmpdir("store", f->dir, sizeof(f->dir));
	f->dir2[0] = '\0';
	f->s = new_store(f, f->dir);
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	mycel_store_close(f->s);
	f->s = NULL;
	(void)tc_rm_rf(f->dir);
	(void)tc_rm_rf(f->dir2);
	f->dir[0] = f->dir2[0] = '\0';
	return 0;
}

/* ---- helpers ---------------------------------------------------------------------- */

/* A small canonical body: {"n": n, "tag": tag}. */
static void body_of(mycel_buf *b, const char *tag, uint64_t n)
{
	mycel_buf_init(b, 4096);
	mycel_enc_map(b, 2);
	mycel_enc_cstr(b, "n");
	mycel_enc_uint(b, n);
	mycel_enc_cstr(b, "tag");
	mycel_enc_cstr(b, tag);
	assert_int_equal(b->err, 0);
}

/* Appends n records of kind "domain" with bodies {"n": first+i, "tag": tag}. */
static int append_n(mycel_store *s, const mycel_key *k, const char *tag, uint64_t first, size_t n,
                    mycel_entry *out)
{
	mycel_buf bodies[64];
	mycel_record recs[64];
	assert_true(n <= 64);
	for (size_t i = 0; i < n; i++) {
		body_of(&bodies[i], tag, first + i);
		recs[i].kind = "domain";
		recs[i].body = bodies[i].data;
		recs[i].body_len = bodies[i].len;
	}
	int rv = mycel_store_append(s, k, k->pk, recs, n, out);
	for (size_t i = 0; i < n; i++)
		mycel_buf_fini(&bodies[i]);
	return rv;
}

typedef struct problem_copy {
	const char *what; /* string literals in verify.c */
	bool has_feed;
	uint8_t feed[MYCEL_PK_LEN];
	uint64_t seq;
	int code;
	char message[160];
} problem_copy;

typedef struct problems {
	size_t n;
	problem_copy p[256];
} problems;

static void collect(void *ctx, const mycel_problem *p)
{
	problems *ps = ctx;
	if (ps->n < sizeof(ps->p) / sizeof(ps->p[0])) {
		problem_copy *c = &ps->p[ps->n];
		c->what = p->what;
		c->has_feed = p->has_feed;
		memcpy(c->feed, p->feed, MYCEL_PK_LEN);
		c->seq = p->seq;
		c->code = p->code;
		snprintf(c->message, sizeof(c->message), "%s", p->message);
	}
	ps->n++;
}

static void print_problems(const problems *ps)
{
	for (size_t i = 0; i < ps->n && i < sizeof(ps->p) / sizeof(ps->p[0]); i++) {
		char hex[2 * MYCEL_PK_LEN + 1] = "-";
		if (ps->p[i].has_feed)
			mycel_hex(ps->p[i].feed, 4, hex);
		print_message("  problem %-7s feed %s seq %llu %s: %s\n", ps->p[i].what, hex,
		              (unsigned long long)ps->p[i].seq, mycel_errname(ps->p[i].code),
		              ps->p[i].message);
	}
}

/* Runs verify; asserts it is clean; returns the stats. */
static mycel_verify_stats verify_clean(mycel_store *s)
{
	problems *ps = calloc(1, sizeof(*ps));
	mycel_verify_stats st;
	assert_non_null(ps);
	assert_int_equal(mycel_store_verify(s, collect, ps, &st), 0);
	if (ps->n != 0 || st.problems != 0) {
		print_problems(ps);
		free(ps);
		fail_msg("verify reported %zu problem(s) on a good store", st.problems);
	}
	free(ps);
	return st;
}

static uint64_t head_seq(mycel_store *s, const uint8_t feed[MYCEL_PK_LEN])
{
	uint64_t seq = 0;
	int rv = mycel_store_head(s, feed, &seq, NULL);
	if (rv == MYCEL_ENOTFOUND)
		return 0;
	assert_int_equal(rv, 0);
	return seq;
}

/* A hand-made entry of feed k at seq with prev, ts and body, signed by signer. */
static void sign_entry(const mycel_key *feed_key, const mycel_key *signer, uint64_t seq,
                       const uint8_t *prev, uint64_t ts, const uint8_t *body, size_t body_len,
                       mycel_entry *out)
{
	mycel_header h;
	memset(&h, 0, sizeof(h));
	memcpy(h.feed, feed_key->pk, MYCEL_PK_LEN);
	h.seq = seq;
	h.has_prev = prev != NULL;
	if (prev != NULL)
		memcpy(h.prev, prev, MYCEL_HASH_LEN);
	h.ts_ms = ts;
	snprintf(h.kind, sizeof(h.kind), "domain");
	mycel_body_hash(body, body_len, h.body_hash);
	assert_int_equal(mycel_entry_sign(&h, signer, out), 0);
}

/* ---- scan / feeds callbacks ----------------------------------------------------------- */

typedef struct scan_ctx {
	size_t n;
	uint64_t seqs[64];
	uint8_t ids[64][MYCEL_HASH_LEN];
	size_t body_lens[64];
	bool bodies_match;
	int stop_after; /* return 99 after this many calls; 0 = never */
} scan_ctx;

static int scan_cb(void *ctx, const mycel_entry *e, const uint8_t *body, size_t body_len)
{
	scan_ctx *c = ctx;
	if (c->n < 64) {
		c->seqs[c->n] = e->h.seq;
		memcpy(c->ids[c->n], e->id, MYCEL_HASH_LEN);
		c->body_lens[c->n] = body_len;
	}
	if (body == NULL || mycel_entry_check_body(e, body, body_len) != 0)
		c->bodies_match = false;
	c->n++;
	if (c->stop_after > 0 && c->n == (size_t)c->stop_after)
		return 99;
	return 0;
}

typedef struct feeds_ctx {
	size_t n;
	uint8_t feeds[8][MYCEL_PK_LEN];
	uint64_t seqs[8];
	uint8_t ids[8][MYCEL_HASH_LEN];
} feeds_ctx;

static int feeds_cb(void *ctx, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
                    const uint8_t id[MYCEL_HASH_LEN])
{
	feeds_ctx *c = ctx;
	if (c->n < 8) {
		memcpy(c->feeds[c->n], feed, MYCEL_PK_LEN);
		c->seqs[c->n] = seq;
		memcpy(c->ids[c->n], id, MYCEL_HASH_LEN);
	}
	c->n++;
	return 0;
}

/* ---- appends --------------------------------------------------------------------------- */

static void test_append_batches(void **state)
{
	fx *f = *state;
	mycel_entry e[8];
	uint64_t before = tc_now_ms();

	assert_int_equal(mycel_store_head(f->s, f->a->pk, NULL, NULL), MYCEL_ENOTFOUND);
	assert_int_equal(append_n(f->s, f->a, "a", 1, 3, e), 0);
	assert_int_equal(append_n(f->s, f->a, "a", 4, 2, e + 3), 0);
	uint64_t after = tc_now_ms();

	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(e[i].h.seq, i + 1);
		assert_memory_equal(e[i].h.feed, f->a->pk, MYCEL_PK_LEN);
		assert_string_equal(e[i].h.kind, "domain");
		assert_int_equal(mycel_entry_verify(&e[i], f->a->pk), 0);
		if (i == 0) {
			assert_false(e[i].h.has_prev);
			assert_true(e[i].h.ts_ms >= before && e[i].h.ts_ms <= after);
		} else {
			/* the chain: prev names the entry before; ts never decreases */
			assert_true(e[i].h.has_prev);
			assert_memory_equal(e[i].h.prev, e[i - 1].id, MYCEL_HASH_LEN);
			assert_true(e[i].h.ts_ms >= e[i - 1].h.ts_ms);
			assert_int_equal(mycel_entry_follows(&e[i - 1], &e[i]), 0);
		}
	}

	/* head */
	uint64_t seq = 0;
	uint8_t id[MYCEL_HASH_LEN];
	assert_int_equal(mycel_store_head(f->s, f->a->pk, &seq, id), 0);
	assert_int_equal(seq, 5);
	assert_memory_equal(id, e[4].id, MYCEL_HASH_LEN);

	/* get: the stored bytes are the signed entry */
	for (uint64_t i = 1; i <= 5; i++) {
		mycel_entry g;
		assert_int_equal(mycel_store_get(f->s, f->a->pk, i, &g), 0);
		assert_int_equal(g.len, e[i - 1].len);
		assert_memory_equal(g.raw, e[i - 1].raw, g.len);
		assert_memory_equal(g.id, e[i - 1].id, MYCEL_HASH_LEN);
	}
	mycel_entry g;
	assert_int_equal(mycel_store_get(f->s, f->a->pk, 6, &g), MYCEL_ENOTFOUND);
	assert_int_equal(mycel_store_get(f->s, f->a->pk, 0, &g), MYCEL_ENOTFOUND);
	assert_int_equal(mycel_store_get(f->s, f->b->pk, 1, &g), MYCEL_ENOTFOUND);

	/* get_body */
	mycel_buf want;
	body_of(&want, "a", 3);
	uint8_t *body = NULL;
	size_t blen = 0;
	assert_int_equal(mycel_store_get_body(f->s, f->a->pk, 3, &body, &blen), 0);
	assert_int_equal(blen, want.len);
	assert_memory_equal(body, want.data, blen);
	free(body);
	mycel_buf_fini(&want);
	body = NULL;
	assert_int_equal(mycel_store_get_body(f->s, f->a->pk, 99, &body, &blen), MYCEL_ENOTFOUND);
	assert_null(body);

	/* scan: all, from the middle, past the end, and stopping early */
	scan_ctx sc = {.bodies_match = true};
	assert_int_equal(mycel_store_scan(f->s, f->a->pk, 1, scan_cb, &sc), 0);
	assert_int_equal(sc.n, 5);
	assert_true(sc.bodies_match);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(sc.seqs[i], i + 1);
		assert_memory_equal(sc.ids[i], e[i].id, MYCEL_HASH_LEN);
	}
	memset(&sc, 0, sizeof(sc));
	sc.bodies_match = true;
	assert_int_equal(mycel_store_scan(f->s, f->a->pk, 4, scan_cb, &sc), 0);
	assert_int_equal(sc.n, 2);
	assert_int_equal(sc.seqs[0], 4);
	assert_int_equal(sc.seqs[1], 5);
	memset(&sc, 0, sizeof(sc));
	assert_int_equal(mycel_store_scan(f->s, f->a->pk, 6, scan_cb, &sc), 0);
	assert_int_equal(sc.n, 0);
	memset(&sc, 0, sizeof(sc));
	sc.stop_after = 2;
	assert_int_equal(mycel_store_scan(f->s, f->a->pk, 1, scan_cb, &sc), 99);
	assert_int_equal(sc.n, 2);
	memset(&sc, 0, sizeof(sc));
	assert_int_equal(mycel_store_scan(f->s, f->b->pk, 1, scan_cb, &sc), 0);
	assert_int_equal(sc.n, 0);

	/* a second feed, then feeds in feed order with their heads */
	mycel_entry eb[2];
	assert_int_equal(append_n(f->s, f->b, "b", 1, 2, eb), 0);
	assert_int_equal(eb[0].h.seq, 1);
	assert_int_equal(eb[1].h.seq, 2);
	feeds_ctx fc;
	memset(&fc, 0, sizeof(fc));
	assert_int_equal(mycel_store_feeds(f->s, feeds_cb, &fc), 0);
	assert_int_equal(fc.n, 2);
	assert_true(memcmp(fc.feeds[0], fc.feeds[1], MYCEL_PK_LEN) < 0);
	for (size_t i = 0; i < 2; i++) {
		bool is_a = memcmp(fc.feeds[i], f->a->pk, MYCEL_PK_LEN) == 0;
		assert_true(is_a || memcmp(fc.feeds[i], f->b->pk, MYCEL_PK_LEN) == 0);
		assert_int_equal(fc.seqs[i], is_a ? 5 : 2);
		assert_memory_equal(fc.ids[i], is_a ? e[4].id : eb[1].id, MYCEL_HASH_LEN);
	}

	/* appending with out == NULL works too */
	assert_int_equal(append_n(f->s, f->b, "b", 3, 1, NULL), 0);
	assert_int_equal(head_seq(f->s, f->b->pk), 3);

	mycel_verify_stats st = verify_clean(f->s);
	assert_int_equal(st.charters, 1);
	assert_int_equal(st.feeds, 2);
	assert_int_equal(st.entries, 8);
	assert_int_equal(st.bodies, 8);
	assert_int_equal(st.forks, 0);
}

static void test_append_refusals(void **state)
{
	fx *f = *state;
	mycel_buf good;
	body_of(&good, "x", 1);
	mycel_record ok = {"domain", good.data, good.len};
	mycel_entry out[2];
	mycel_verify_stats st;

	/* a feed the charter does not admit */
	assert_int_equal(mycel_store_append(f->s, f->c, f->c->pk, &ok, 1, out), MYCEL_EADMIT);
	/* an admitted feed with another key */
	assert_int_equal(mycel_store_append(f->s, f->b, f->a->pk, &ok, 1, out), MYCEL_EPERM);
	assert_int_equal(mycel_store_append(f->s, f->gov1, f->a->pk, &ok, 1, out), MYCEL_EPERM);

	/* bad kinds */
	char long_kind[MYCEL_KIND_MAX + 2];
	memset(long_kind, 'k', sizeof(long_kind) - 1);
	long_kind[sizeof(long_kind) - 1] = '\0';
	const char *bad_kinds[] = {NULL, "", "Domain", "9lives", "a-b", "a b", "_x", long_kind};
	for (size_t i = 0; i < sizeof(bad_kinds) / sizeof(bad_kinds[0]); i++) {
		mycel_record r = {bad_kinds[i], good.data, good.len};
		assert_int_equal(mycel_store_append(f->s, f->a, f->a->pk, &r, 1, out),
		                 MYCEL_EINVAL);
	}
	long_kind[MYCEL_KIND_MAX] = '\0'; /* exactly 32 is fine */
	mycel_record r32 = {long_kind, good.data, good.len};

	/* bodies that are not one canonical value */
	static const uint8_t noncanon_uint[] = {0xcc, 0x05}; /* 5 as uint8 */
	static const uint8_t trailing[] = {0x01, 0x02};      /* two values */
	static const uint8_t unsorted[] = {0x82, 0xa1, 'b', 0x01, 0xa1, 'a', 0x02};
	static const uint8_t truncated[] = {0x92, 0x01};
	static const uint8_t float32[] = {0xca, 0x3f, 0x80, 0x00, 0x00};
	static const uint8_t badutf8[] = {0xa2, 0xc3, 0x28};
	struct {
		const uint8_t *p;
		size_t n;
		int code;
	} bad_bodies[] = {
	    {noncanon_uint, sizeof(noncanon_uint), MYCEL_ENONCANON},
	    {trailing, sizeof(trailing), MYCEL_ETRAILING},
	    {unsorted, sizeof(unsorted), MYCEL_EKEYORDER},
	    {truncated, sizeof(truncated), MYCEL_ETRUNC},
	    {float32, sizeof(float32), MYCEL_EFLOAT},
	    {badutf8, sizeof(badutf8), MYCEL_EUTF8},
	    {trailing, 0, MYCEL_ETRUNC}, /* empty */
	};
	for (size_t i = 0; i < sizeof(bad_bodies) / sizeof(bad_bodies[0]); i++) {
		/* a good record first: the whole batch must be refused */
		mycel_record two[2] = {ok, {"domain", bad_bodies[i].p, bad_bodies[i].n}};
		int rv = mycel_store_append(f->s, f->a, f->a->pk, two, 2, out);
		if (rv != bad_bodies[i].code)
			fail_msg("bad body %zu: got %s, want %s", i, mycel_errname(rv),
			         mycel_errname(bad_bodies[i].code));
	}
	/* too big */
	uint8_t *big = calloc(1, (size_t)MYCEL_BODY_MAX + 1);
	assert_non_null(big);
	mycel_record rbig = {"domain", big, (size_t)MYCEL_BODY_MAX + 1};
	assert_int_equal(mycel_store_append(f->s, f->a, f->a->pk, &rbig, 1, out), MYCEL_ETOOBIG);
	free(big);
	/* a batch with a good record then a bad kind */
	mycel_record mixed[2] = {ok, {"BAD", good.data, good.len}};
	assert_int_equal(mycel_store_append(f->s, f->a, f->a->pk, mixed, 2, out), MYCEL_EINVAL);

	/* nothing was written by any refused call */
	assert_int_equal(mycel_store_head(f->s, f->a->pk, NULL, NULL), MYCEL_ENOTFOUND);
	assert_int_equal(mycel_store_head(f->s, f->c->pk, NULL, NULL), MYCEL_ENOTFOUND);
	st = verify_clean(f->s);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.bodies, 0);

	/* the same feed then appends normally, from seq 1 */
	assert_int_equal(mycel_store_append(f->s, f->a, f->a->pk, &r32, 1, out), 0);
	assert_int_equal(out[0].h.seq, 1);
	assert_string_equal(out[0].h.kind, long_kind);
	/* and a refusal after that leaves the head alone */
	assert_int_equal(mycel_store_append(f->s, f->b, f->a->pk, &ok, 1, out), MYCEL_EPERM);
	assert_int_equal(head_seq(f->s, f->a->pk), 1);
	st = verify_clean(f->s);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.bodies, 1);
	mycel_buf_fini(&good);
}

/* A store without any charter admits nothing. */
static void test_append_without_charter(void **state)
{
	fx *f = *state;
	char dir[64];
	tc_tmpdir("store", dir, sizeof(dir));
	mycel_store *s = open_store(dir, MYCEL_STORE_CREATE);
	uint8_t mid[MYCEL_HASH_LEN];
	assert_null(mycel_store_charter(s));
	assert_int_equal(mycel_store_mesh_id(s, mid), MYCEL_ENOTFOUND);
	assert_int_equal(append_n(s, f->a, "a", 1, 1, NULL), MYCEL_EADMIT);
	mycel_store_close(s);
	(void)tc_rm_rf(dir);
}

static void test_open_errors(void **state)
{
	fx *f = *state;
	char dir[64], path[128];
	mycel_store *s = NULL;
	tc_tmpdir("store", dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/none", dir);
	char why[256] = "";
	assert_int_equal(mycel_store_open(path, 0, &s, why, sizeof(why)), MYCEL_ENOTFOUND);
	assert_null(s);
	assert_true(strlen(why) > 0);
	assert_int_equal(mycel_store_open(path, MYCEL_STORE_READONLY, &s, why, sizeof(why)),
	                 MYCEL_ENOTFOUND);
	/* an existing directory that holds no store: not found either, and left empty */
	assert_int_equal(mycel_store_open(dir, 0, &s, why, sizeof(why)), MYCEL_ENOTFOUND);
	assert_int_equal(mycel_store_open(dir, MYCEL_STORE_READONLY, &s, why, sizeof(why)),
	                 MYCEL_ENOTFOUND);
	assert_null(s);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_int_not_equal(access(path, F_OK), 0);
	/* a file is not a store */
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(mycel_store_open(path, MYCEL_STORE_CREATE, &s, why, sizeof(why)),
	                 MYCEL_EINVAL);
	(void)tc_rm_rf(dir);

	/* a read-only handle reads but does not write */
	assert_int_equal(append_n(f->s, f->a, "a", 1, 2, NULL), 0);
	mycel_store_close(f->s);
	f->s = open_store(f->dir, MYCEL_STORE_READONLY);
	assert_int_equal(head_seq(f->s, f->a->pk), 2);
	assert_int_not_equal(append_n(f->s, f->a, "a", 3, 1, NULL), 0);
	assert_int_equal(head_seq(f->s, f->a->pk), 2);
	verify_clean(f->s);
}

/* ---- charters ------------------------------------------------------------------------------ */

static void test_charters(void **state)
{
	fx *f = *state;
	char dir[64], why[256];
	uint8_t mid[MYCEL_HASH_LEN], want[MYCEL_HASH_LEN];
	mycel_charter *g = NULL;
	tc_tmpdir("store", dir, sizeof(dir));
	mycel_store *s = open_store(dir, MYCEL_STORE_CREATE);

	/* only a genesis first */
	why[0] = '\0';
	assert_int_not_equal(mycel_store_add_charter(s, f->v2.data, f->v2.len, why, sizeof(why)),
	                     0);
	print_message("  v2 before genesis: %s\n", why);
	mycel_buf unsigned_g;
	charter_file(f, "acme", 1, false, NULL, 0, &unsigned_g);
	assert_int_equal(
	    mycel_store_add_charter(s, unsigned_g.data, unsigned_g.len, why, sizeof(why)),
	    MYCEL_ETHRESHOLD);
	mycel_buf_fini(&unsigned_g);
	mycel_buf by_outsider; /* signed only by a non-member */
	charter_file(f, "acme", 1, false, &f->a, 1, &by_outsider);
	assert_int_not_equal(
	    mycel_store_add_charter(s, by_outsider.data, by_outsider.len, why, sizeof(why)), 0);
	mycel_buf_fini(&by_outsider);
	static const uint8_t junk[] = {0x92, 0xc4, 0x01, 0x00, 0x90};
	assert_int_not_equal(mycel_store_add_charter(s, junk, sizeof(junk), why, sizeof(why)), 0);
	assert_null(mycel_store_charter(s));
	assert_int_equal(mycel_store_mesh_id(s, mid), MYCEL_ENOTFOUND);

	/* the genesis, which fixes the mesh id */
	assert_int_equal(
	    mycel_store_add_charter(s, f->genesis.data, f->genesis.len, why, sizeof(why)), 0);
	assert_non_null(mycel_store_charter(s));
	assert_int_equal(mycel_charter_version(mycel_store_charter(s)), 1);
	assert_int_equal(mycel_charter_decode(f->genesis.data, f->genesis.len, &g, NULL, 0), 0);
	assert_int_equal(mycel_charter_digest(g, want), 0);
	assert_int_equal(mycel_store_mesh_id(s, mid), 0);
	assert_memory_equal(mid, want, MYCEL_HASH_LEN);

	/* the same version with the same charter bytes: fine, even signed by more members */
	assert_int_equal(
	    mycel_store_add_charter(s, f->genesis.data, f->genesis.len, why, sizeof(why)), 0);
	mycel_buf both;
	mycel_key *signers[2] = {f->gov1, f->gov2};
	charter_file(f, "acme", 1, false, signers, 2, &both);
	assert_int_equal(mycel_store_add_charter(s, both.data, both.len, why, sizeof(why)), 0);
	mycel_buf_fini(&both);
	/* the same version with different bytes: refused */
	mycel_buf other;
	charter_file(f, "acme", 1, true, &f->gov1, 1, &other);
	why[0] = '\0';
	assert_int_equal(mycel_store_add_charter(s, other.data, other.len, why, sizeof(why)),
	                 MYCEL_ECHARTER);
	print_message("  other v1: %s\n", why);
	mycel_buf_fini(&other);
	assert_null(mycel_charter_find_feed(mycel_store_charter(s), f->c->pk));

	/* wrong versions: v3 (skips one), v2 of another mesh, v2 not signed by a v1 member */
	mycel_buf v3;
	charter_file(f, "acme", 3, true, &f->gov1, 1, &v3);
	why[0] = '\0';
	assert_int_equal(mycel_store_add_charter(s, v3.data, v3.len, why, sizeof(why)),
	                 MYCEL_ECHARTER);
	print_message("  v3 after v1: %s\n", why);
	mycel_buf_fini(&v3);
	mycel_buf v2other;
	charter_file(f, "other", 2, true, &f->gov1, 1, &v2other);
	assert_int_equal(mycel_store_add_charter(s, v2other.data, v2other.len, why, sizeof(why)),
	                 MYCEL_ECHARTER);
	mycel_buf_fini(&v2other);
	mycel_buf v2bad;
	charter_file(f, "acme", 2, true, &f->c, 1, &v2bad); /* signed by a non-member */
	assert_int_equal(mycel_store_add_charter(s, v2bad.data, v2bad.len, why, sizeof(why)),
	                 MYCEL_ECHARTER);
	mycel_buf_fini(&v2bad);
	assert_int_equal(mycel_charter_version(mycel_store_charter(s)), 1);
	assert_int_equal(append_n(s, f->c, "c", 1, 1, NULL), MYCEL_EADMIT);

	/* a v2 that verifies is adopted: gamma is admitted from now on */
	assert_int_equal(mycel_store_add_charter(s, f->v2.data, f->v2.len, why, sizeof(why)), 0);
	assert_int_equal(mycel_charter_version(mycel_store_charter(s)), 2);
	assert_non_null(mycel_charter_find_feed(mycel_store_charter(s), f->c->pk));
	assert_int_equal(append_n(s, f->c, "c", 1, 2, NULL), 0);
	assert_int_equal(mycel_store_add_charter(s, f->v2.data, f->v2.len, why, sizeof(why)), 0);
	/* the genesis can no longer be added; the mesh id did not change */
	assert_int_not_equal(
	    mycel_store_add_charter(s, f->genesis.data, f->genesis.len, why, sizeof(why)), 0);
	assert_int_equal(mycel_store_mesh_id(s, mid), 0);
	assert_memory_equal(mid, want, MYCEL_HASH_LEN);
	mycel_verify_stats st = verify_clean(s);
	assert_int_equal(st.charters, 2);

	/* persisted: version 2 in force after reopening, genesis signatures kept as first stored */
	mycel_store_close(s);
	s = open_store(dir, 0);
	assert_int_equal(mycel_charter_version(mycel_store_charter(s)), 2);
	assert_int_equal(mycel_store_mesh_id(s, mid), 0);
	assert_memory_equal(mid, want, MYCEL_HASH_LEN);
	assert_int_equal(head_seq(s, f->c->pk), 2);
	st = verify_clean(s);
	assert_int_equal(st.charters, 2);
	assert_int_equal(st.entries, 2);
	mycel_store_close(s);

	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint8_t vk[8] = {0, 0, 0, 0, 0, 0, 0, 1};
	MDB_val k = {8, vk}, v;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "charters", 0, &dbi), 0);
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	assert_int_equal(v.mv_size, f->genesis.len);
	assert_memory_equal(v.mv_data, f->genesis.data, f->genesis.len);
	mdb_txn_abort(txn);
	mdb_env_close(env);

	mycel_charter_free(g);
	(void)tc_rm_rf(dir);
}

/* ---- ingest -------------------------------------------------------------------------------- */

typedef struct held {
	size_t n;
	uint8_t entry[32][MYCEL_ENTRY_MAX];
	size_t entry_len[32];
	uint8_t body[32][256];
	size_t body_len[32];
} held;

static int hold_cb(void *ctx, const mycel_entry *e, const uint8_t *body, size_t body_len)
{
	held *h = ctx;
	assert_true(h->n < 32 && body != NULL && body_len <= 256);
	memcpy(h->entry[h->n], e->raw, e->len);
	h->entry_len[h->n] = e->len;
	memcpy(h->body[h->n], body, body_len);
	h->body_len[h->n] = body_len;
	h->n++;
	return 0;
}

static mycel_blob blob_of(const held *h, size_t i)
{
	mycel_blob b = {h->entry[i], h->entry_len[i], h->body[i], h->body_len[i]};
	return b;
}

static int ingest1(mycel_store *s, const mycel_entry *e, const uint8_t *body, size_t body_len,
                   mycel_ingest_result *r)
{
	mycel_blob b = {e->raw, e->len, body, body_len};
	return mycel_store_ingest(s, &b, 1, r);
}

static void test_ingest(void **state)
{
	fx *f = *state;
	mycel_ingest_result r;
	held *h = calloc(1, sizeof(*h));
	assert_non_null(h);

	/* a second store of the same mesh produces entries */
	tc_tmpdir("store", f->dir2, sizeof(f->dir2));
	mycel_store *t = new_store(f, f->dir2);
	assert_int_equal(append_n(t, f->a, "a", 1, 3, NULL), 0);
	assert_int_equal(append_n(t, f->a, "a", 4, 2, NULL), 0);
	assert_int_equal(append_n(t, f->b, "b", 1, 3, NULL), 0);
	assert_int_equal(mycel_store_scan(t, f->a->pk, 1, hold_cb, h), 0);
	assert_int_equal(mycel_store_scan(t, f->b->pk, 1, hold_cb, h), 0);
	assert_int_equal(h->n, 8);

	/* all of them ingest into the first store */
	mycel_blob items[32];
	for (size_t i = 0; i < h->n; i++)
		items[i] = blob_of(h, i);
	assert_int_equal(mycel_store_ingest(f->s, items, 8, &r), 0);
	assert_int_equal(r.accepted, 8);
	assert_int_equal(r.duplicate, 0);
	assert_int_equal(r.failed_at, 8);
	assert_int_equal(r.code, 0);
	assert_false(r.fork_stored);
	uint8_t id1[MYCEL_HASH_LEN], id2[MYCEL_HASH_LEN];
	uint64_t s1, s2;
	assert_int_equal(mycel_store_head(f->s, f->a->pk, &s1, id1), 0);
	assert_int_equal(mycel_store_head(t, f->a->pk, &s2, id2), 0);
	assert_int_equal(s1, 5);
	assert_int_equal(s2, 5);
	assert_memory_equal(id1, id2, MYCEL_HASH_LEN);
	assert_int_equal(head_seq(f->s, f->b->pk), 3);

	/* again: all duplicates, nothing new */
	assert_int_equal(mycel_store_ingest(f->s, items, 8, &r), 0);
	assert_int_equal(r.accepted, 0);
	assert_int_equal(r.duplicate, 8);
	assert_int_equal(r.failed_at, 8);

	/* duplicates mixed with one new entry */
	mycel_entry e6[1];
	assert_int_equal(append_n(t, f->a, "a", 6, 1, e6), 0);
	mycel_buf b6;
	body_of(&b6, "a", 6);
	items[5].entry = e6[0].raw;
	items[5].entry_len = e6[0].len;
	items[5].body = b6.data;
	items[5].body_len = b6.len;
	/* first bad variants of that new entry; none may change anything */
	{
		mycel_entry bad = e6[0];
		bad.raw[bad.len - 1] ^= 0x01; /* last byte of the signature */
		assert_int_equal(ingest1(f->s, &bad, b6.data, b6.len, &r), MYCEL_EBADSIG);
		assert_int_equal(r.accepted, 0);
		assert_int_equal(r.failed_at, 0);
		assert_int_equal(r.code, MYCEL_EBADSIG);
		/* signed by the wrong key */
		mycel_entry wrong;
		sign_entry(f->a, f->b, 6, id1, e6[0].h.ts_ms, b6.data, b6.len, &wrong);
		assert_int_equal(ingest1(f->s, &wrong, b6.data, b6.len, &r), MYCEL_EBADSIG);
		/* body that does not match its hash */
		mycel_buf b7;
		body_of(&b7, "a", 7);
		assert_int_equal(ingest1(f->s, &e6[0], b7.data, b7.len, &r), MYCEL_EHASH);
		mycel_buf_fini(&b7);
		/* truncated entry bytes */
		mycel_blob tr = {e6[0].raw, e6[0].len - 1, b6.data, b6.len};
		assert_int_equal(mycel_store_ingest(f->s, &tr, 1, &r), MYCEL_ETRUNC);
		assert_int_equal(head_seq(f->s, f->a->pk), 5);
	}
	assert_int_equal(mycel_store_ingest(f->s, items, 8, &r), 0);
	assert_int_equal(r.accepted, 1);
	assert_int_equal(r.duplicate, 7);
	assert_int_equal(head_seq(f->s, f->a->pk), 6);

	/* broken chains: seq 8 without 7; a seq 7 whose prev is not entry 6; a second genesis */
	mycel_entry e78[2];
	assert_int_equal(append_n(t, f->a, "a", 7, 2, e78), 0);
	mycel_buf b7, b8;
	body_of(&b7, "a", 7);
	body_of(&b8, "a", 8);
	assert_int_equal(ingest1(f->s, &e78[1], b8.data, b8.len, &r), MYCEL_ECHAIN);
	assert_int_equal(r.accepted, 0);
	uint8_t wrong_prev[MYCEL_HASH_LEN];
	memset(wrong_prev, 0x55, sizeof(wrong_prev));
	mycel_entry x;
	sign_entry(f->a, f->a, 7, wrong_prev, e78[0].h.ts_ms, b7.data, b7.len, &x);
	assert_int_equal(ingest1(f->s, &x, b7.data, b7.len, &r), MYCEL_ECHAIN);
	/* ts going backwards, correctly chained and signed */
	mycel_entry head6;
	assert_int_equal(mycel_store_get(f->s, f->a->pk, 6, &head6), 0);
	sign_entry(f->a, f->a, 7, head6.id, head6.h.ts_ms - 1, b7.data, b7.len, &x);
	assert_int_equal(ingest1(f->s, &x, b7.data, b7.len, &r), MYCEL_ETS);
	assert_int_equal(r.failed_at, 0);
	/* a non-canonical body whose hash the entry does carry */
	static const uint8_t noncanon[] = {0xcc, 0x05};
	sign_entry(f->a, f->a, 7, head6.id, head6.h.ts_ms, noncanon, sizeof(noncanon), &x);
	assert_int_equal(ingest1(f->s, &x, noncanon, sizeof(noncanon), &r), MYCEL_ENONCANON);
	/* a feed the charter does not admit, correctly signed */
	sign_entry(f->c, f->c, 1, NULL, tc_now_ms(), b7.data, b7.len, &x);
	assert_int_equal(ingest1(f->s, &x, b7.data, b7.len, &r), MYCEL_EADMIT);
	assert_int_equal(mycel_store_head(f->s, f->c->pk, NULL, NULL), MYCEL_ENOTFOUND);
	assert_int_equal(head_seq(f->s, f->a->pk), 6);

	/* processing stops at the first refusal; what came before is committed */
	mycel_entry bad8 = e78[1];
	bad8.raw[bad8.len - 1] ^= 0x80;
	mycel_blob two[2] = {{e78[0].raw, e78[0].len, b7.data, b7.len},
	                     {bad8.raw, bad8.len, b8.data, b8.len}};
	assert_int_equal(mycel_store_ingest(f->s, two, 2, &r), MYCEL_EBADSIG);
	assert_int_equal(r.accepted, 1);
	assert_int_equal(r.failed_at, 1);
	assert_int_equal(r.code, MYCEL_EBADSIG);
	assert_int_equal(head_seq(f->s, f->a->pk), 7);
	assert_int_equal(ingest1(f->s, &e78[1], b8.data, b8.len, &r), 0);
	assert_int_equal(r.accepted, 1);

	/* both stores now hold the same feeds */
	assert_int_equal(mycel_store_head(f->s, f->a->pk, &s1, id1), 0);
	assert_int_equal(mycel_store_head(t, f->a->pk, &s2, id2), 0);
	assert_int_equal(s1, 8);
	assert_int_equal(s2, 8);
	assert_memory_equal(id1, id2, MYCEL_HASH_LEN);
	mycel_verify_stats st = verify_clean(f->s);
	assert_int_equal(st.entries, 11);
	assert_int_equal(st.bodies, 11);
	verify_clean(t);

	/* persisted */
	mycel_store_close(f->s);
	f->s = open_store(f->dir, 0);
	assert_int_equal(head_seq(f->s, f->a->pk), 8);
	assert_int_equal(head_seq(f->s, f->b->pk), 3);
	verify_clean(f->s);

	mycel_buf_fini(&b6);
	mycel_buf_fini(&b7);
	mycel_buf_fini(&b8);
	mycel_store_close(t);
	free(h);
}

/* ---- forks ---------------------------------------------------------------------------------- */

static void test_fork(void **state)
{
	fx *f = *state;
	mycel_entry e[3], forged;
	mycel_ingest_result r;
	size_t nforks = 99;

	assert_int_equal(append_n(f->s, f->a, "a", 1, 3, e), 0);
	assert_int_equal(append_n(f->s, f->b, "b", 1, 1, NULL), 0);
	assert_int_equal(mycel_store_fork_count(f->s, &nforks), 0);
	assert_int_equal(nforks, 0);

	/* the feed's own key signs a second, different entry at seq 2 */
	mycel_buf other;
	body_of(&other, "equivocation", 2);
	sign_entry(f->a, f->a, 2, e[0].id, e[1].h.ts_ms, other.data, other.len, &forged);
	assert_memory_not_equal(forged.id, e[1].id, MYCEL_HASH_LEN);
	assert_int_equal(ingest1(f->s, &forged, other.data, other.len, &r), MYCEL_EFORK);
	assert_int_equal(r.code, MYCEL_EFORK);
	assert_int_equal(r.failed_at, 0);
	assert_int_equal(r.accepted, 0);
	assert_true(r.fork_stored);
	assert_int_equal(mycel_store_fork_count(f->s, &nforks), 0);
	assert_int_equal(nforks, 1);
	/* the stored entry is unchanged */
	mycel_entry g;
	assert_int_equal(mycel_store_get(f->s, f->a->pk, 2, &g), 0);
	assert_memory_equal(g.id, e[1].id, MYCEL_HASH_LEN);

	/* the same proof again: refused, not stored twice */
	assert_int_equal(ingest1(f->s, &forged, other.data, other.len, &r), MYCEL_EFORK);
	assert_false(r.fork_stored);
	assert_int_equal(mycel_store_fork_count(f->s, &nforks), 0);
	assert_int_equal(nforks, 1);

	/* the forked feed takes no more entries, appended or ingested; other feeds do */
	assert_int_equal(append_n(f->s, f->a, "a", 4, 1, NULL), MYCEL_EFORK);
	mycel_buf b4;
	body_of(&b4, "a", 4);
	mycel_entry e4;
	sign_entry(f->a, f->a, 4, e[2].id, e[2].h.ts_ms, b4.data, b4.len, &e4);
	assert_int_equal(ingest1(f->s, &e4, b4.data, b4.len, &r), MYCEL_EFORK);
	assert_int_equal(head_seq(f->s, f->a->pk), 3);
	assert_int_equal(append_n(f->s, f->b, "b", 2, 1, NULL), 0);

	/* verify accepts the proof: a fork is a fact, not a defect of the store */
	mycel_verify_stats st = verify_clean(f->s);
	assert_int_equal(st.forks, 1);

	/* the proof itself, read from LMDB, verifies and holds both entries */
	mycel_store_close(f->s);
	f->s = NULL;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, f->dir, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "forks", 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
	assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_FIRST), 0);
	assert_int_equal(k.mv_size, MYCEL_PK_LEN + 8);
	assert_memory_equal(k.mv_data, f->a->pk, MYCEL_PK_LEN);
	assert_int_equal(((const uint8_t *)k.mv_data)[MYCEL_PK_LEN + 7], 2);
	mycel_entry pa, pb;
	assert_int_equal(mycel_fork_verify(v.mv_data, v.mv_size, f->a->pk, &pa, &pb), 0);
	assert_int_equal(mycel_fork_verify(v.mv_data, v.mv_size, f->b->pk, NULL, NULL),
	                 MYCEL_EBADSIG);
	const uint8_t *lo = memcmp(e[1].id, forged.id, MYCEL_HASH_LEN) < 0 ? e[1].id : forged.id;
	const uint8_t *hi = lo == e[1].id ? forged.id : e[1].id;
	assert_memory_equal(pa.id, lo, MYCEL_HASH_LEN);
	assert_memory_equal(pb.id, hi, MYCEL_HASH_LEN);
	assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_NEXT), MDB_NOTFOUND);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	mdb_env_close(env);

	/* after reopening: still forked, still refusing */
	f->s = open_store(f->dir, 0);
	assert_int_equal(mycel_store_fork_count(f->s, &nforks), 0);
	assert_int_equal(nforks, 1);
	assert_int_equal(append_n(f->s, f->a, "a", 4, 1, NULL), MYCEL_EFORK);
	assert_int_equal(head_seq(f->s, f->a->pk), 3);
	assert_int_equal(head_seq(f->s, f->b->pk), 2);
	st = verify_clean(f->s);
	assert_int_equal(st.forks, 1);
	assert_int_equal(st.entries, 5);

	mycel_buf_fini(&other);
	mycel_buf_fini(&b4);
}

/* ---- group ingest (the node's writer) ---------------------------------------------------- */

static void test_ingest_groups(void **state)
{
	fx *f = *state;
	held *h = calloc(1, sizeof(*h));
	assert_non_null(h);

	/* a second store of the same mesh: a 1..5, b 1..5 */
	tc_tmpdir("store", f->dir2, sizeof(f->dir2));
	mycel_store *t = new_store(f, f->dir2);
	assert_int_equal(append_n(t, f->a, "a", 1, 5, NULL), 0);
	assert_int_equal(append_n(t, f->b, "b", 1, 5, NULL), 0);
	assert_int_equal(mycel_store_scan(t, f->a->pk, 1, hold_cb, h), 0); /* 0..4 */
	assert_int_equal(mycel_store_scan(t, f->b->pk, 1, hold_cb, h), 0); /* 5..9 */
	assert_int_equal(h->n, 10);
	mycel_blob a[5], b[5];
	for (size_t i = 0; i < 5; i++) {
		a[i] = blob_of(h, i);
		b[i] = blob_of(h, 5 + i);
	}
	/* a4 with a broken signature */
	uint8_t bad4[MYCEL_ENTRY_MAX];
	memcpy(bad4, a[3].entry, a[3].entry_len);
	bad4[a[3].entry_len - 1] ^= 0x01;
	mycel_blob a4bad = a[3];
	a4bad.entry = bad4;
	/* c1: a feed the charter does not admit */
	mycel_buf bc;
	mycel_entry c1;
	body_of(&bc, "c", 1);
	sign_entry(f->c, f->c, 1, NULL, tc_now_ms(), bc.data, bc.len, &c1);

	/* group 0: a1..a3, a4 forged, a5, b1..b3: feed a stops at a4, feed b goes on */
	mycel_blob g0[] = {a[0], a[1], a[2], a4bad, a[4], b[0], b[1], b[2]};
	/* group 1: the real a4 and a5, after group 0's a3 in the same transaction */
	mycel_blob g1[] = {a[3], a[4]};
	/* group 2: the unadmitted feed */
	mycel_blob g2[] = {{c1.raw, c1.len, bc.data, bc.len}};
	/* group 3: b5 without b4: a gap, not a refusal */
	mycel_blob g3[] = {b[4]};
	uint8_t st0[8], st1[2], st2[1], st3[1];
	mycel_ingest_group g[4];
	memset(g, 0, sizeof(g));
	g[0] = (mycel_ingest_group){.items = g0, .n = 8, .states = st0};
	g[1] = (mycel_ingest_group){.items = g1, .n = 2, .states = st1};
	g[2] = (mycel_ingest_group){.items = g2, .n = 1, .states = st2};
	g[3] = (mycel_ingest_group){.items = g3, .n = 1, .states = st3};
	assert_int_equal(mycel_store_ingest_groups(f->s, g, 4), 0);

	assert_int_equal(g[0].accepted, 6);
	assert_int_equal(g[0].refused, 2);
	assert_int_equal(g[0].code, MYCEL_EBADSIG);
	assert_int_equal(g[0].failed_at, 3);
	assert_non_null(strstr(g[0].why, "seq 4: signature does not verify"));
	assert_false(g[0].gap);
	static const uint8_t want0[] = {MYCEL_INGEST_NEW,     MYCEL_INGEST_NEW, MYCEL_INGEST_NEW,
					MYCEL_INGEST_REFUSED, MYCEL_INGEST_REFUSED,
					MYCEL_INGEST_NEW,     MYCEL_INGEST_NEW, MYCEL_INGEST_NEW};
	assert_memory_equal(st0, want0, 8);
	assert_int_equal(g[1].accepted, 2);
	assert_int_equal(g[1].code, 0);
	assert_string_equal(g[1].why, "");
	assert_int_equal(st1[0], MYCEL_INGEST_NEW);
	assert_int_equal(g[2].accepted, 0);
	assert_int_equal(g[2].refused, 1);
	assert_int_equal(g[2].code, MYCEL_EADMIT);
	assert_int_equal(st2[0], MYCEL_INGEST_REFUSED);
	assert_int_equal(g[3].refused, 1);
	assert_true(g[3].gap);
	assert_int_equal(g[3].code, 0);
	assert_int_equal(head_seq(f->s, f->a->pk), 5);
	assert_int_equal(head_seq(f->s, f->b->pk), 3);
	assert_int_equal(mycel_store_head(f->s, f->c->pk, NULL, NULL), MYCEL_ENOTFOUND);

	/* again, with b4 pre-verified by the caller: duplicates known, b4 and b5 stored */
	mycel_blob g4[] = {a[0], b[3], b[4]};
	uint8_t st4[3];
	g[0] = (mycel_ingest_group){.items = g4, .n = 3, .states = st4, .verified = true};
	assert_int_equal(mycel_store_ingest_groups(f->s, g, 1), 0);
	assert_int_equal(g[0].duplicate, 1);
	assert_int_equal(g[0].accepted, 2);
	assert_int_equal(st4[0], MYCEL_INGEST_KNOWN);
	assert_int_equal(head_seq(f->s, f->b->pk), 5);
	mycel_verify_stats vs = verify_clean(f->s);
	assert_int_equal(vs.entries, 10);
	assert_int_equal(vs.forks, 0);

	mycel_store_close(t);
	mycel_buf_fini(&bc);
	free(h);
}

typedef struct forks_seen {
	size_t n;
	uint64_t seq[8];
	uint8_t feed[8][MYCEL_PK_LEN];
	uint8_t proof[8][MYCEL_FORK_MAX];
	size_t len[8];
} forks_seen;

static int forks_cb(void *ctx, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
		    const uint8_t *proof, size_t proof_len)
{
	forks_seen *fs = ctx;
	assert_true(fs->n < 8 && proof_len <= MYCEL_FORK_MAX);
	fs->seq[fs->n] = seq;
	memcpy(fs->feed[fs->n], feed, MYCEL_PK_LEN);
	memcpy(fs->proof[fs->n], proof, proof_len);
	fs->len[fs->n++] = proof_len;
	return 0;
}

/* A fork proof received on its own is stored when both entries verify, holding neither. */
static void test_fork_proof_alone(void **state)
{
	fx *f = *state;
	mycel_entry e[2], forged, c1, c1b;
	mycel_buf other, bc;
	size_t nforks = 9;
	forks_seen *fs = calloc(1, sizeof(*fs));
	assert_non_null(fs);

	tc_tmpdir("store", f->dir2, sizeof(f->dir2));
	mycel_store *t = new_store(f, f->dir2);
	assert_int_equal(append_n(t, f->a, "a", 1, 2, e), 0);
	body_of(&other, "equivocation", 2);
	sign_entry(f->a, f->a, 2, e[0].id, e[1].h.ts_ms, other.data, other.len, &forged);
	body_of(&bc, "c", 1);
	sign_entry(f->c, f->c, 1, NULL, 1000, bc.data, bc.len, &c1);
	sign_entry(f->c, f->c, 1, NULL, 1001, bc.data, bc.len, &c1b);
	uint8_t badsig[MYCEL_ENTRY_MAX];
	memcpy(badsig, forged.raw, forged.len);
	badsig[forged.len - 1] ^= 0x01;

	/* refused proofs: one entry twice, two seqs, a broken signature, an unadmitted feed */
	mycel_fork_pair bad[] = {
	    {{e[1].raw, e[1].len, NULL, 0}, {e[1].raw, e[1].len, NULL, 0}},
	    {{e[0].raw, e[0].len, NULL, 0}, {forged.raw, forged.len, NULL, 0}},
	    {{e[1].raw, e[1].len, NULL, 0}, {badsig, forged.len, NULL, 0}},
	    {{c1.raw, c1.len, NULL, 0}, {c1b.raw, c1b.len, NULL, 0}},
	};
	static const int want[] = {MYCEL_EINVAL, MYCEL_EINVAL, MYCEL_EBADSIG, MYCEL_EADMIT};
	for (size_t i = 0; i < 4; i++) {
		uint8_t fst = 9;
		mycel_ingest_group g = {.forks = &bad[i], .n_forks = 1, .fork_states = &fst};
		assert_int_equal(mycel_store_ingest_groups(f->s, &g, 1), 0);
		assert_int_equal(g.code, want[i]);
		assert_int_equal(g.failed_at, 0);
		assert_int_equal(g.forks_stored, 0);
		assert_int_equal(fst, 0);
		assert_non_null(strstr(g.why, "fork proof 0"));
		assert_int_equal(mycel_store_fork_count(f->s, &nforks), 0);
		assert_int_equal(nforks, 0);
	}

	/* a valid proof is stored although the store holds nothing of feed a */
	mycel_fork_pair ok = {{forged.raw, forged.len, other.data, other.len},
			      {e[1].raw, e[1].len, NULL, 0}};
	uint8_t fst = 0;
	mycel_ingest_group g = {.forks = &ok, .n_forks = 1, .fork_states = &fst};
	assert_int_equal(mycel_store_ingest_groups(f->s, &g, 1), 0);
	assert_int_equal(g.code, 0);
	assert_int_equal(g.forks_stored, 1);
	assert_int_equal(fst, 1);
	assert_int_equal(mycel_store_fork_count(f->s, &nforks), 0);
	assert_int_equal(nforks, 1);
	assert_int_equal(mycel_store_forks(f->s, f->a->pk, forks_cb, fs), 0);
	assert_int_equal(fs->n, 1);
	assert_int_equal(fs->seq[0], 2);
	assert_memory_equal(fs->feed[0], f->a->pk, MYCEL_PK_LEN);
	assert_int_equal(mycel_fork_verify(fs->proof[0], fs->len[0], f->a->pk, NULL, NULL), 0);
	/* none for feed b; every feed's when NULL */
	fs->n = 0;
	assert_int_equal(mycel_store_forks(f->s, f->b->pk, forks_cb, fs), 0);
	assert_int_equal(fs->n, 0);
	assert_int_equal(mycel_store_forks(f->s, NULL, forks_cb, fs), 0);
	assert_int_equal(fs->n, 1);

	/* the same proof again: not stored twice; the feed now refuses entries */
	assert_int_equal(mycel_store_ingest_groups(f->s, &g, 1), 0);
	assert_int_equal(g.forks_stored, 0);
	assert_int_equal(g.code, 0);
	mycel_blob a1 = {e[0].raw, e[0].len, NULL, 0};
	uint8_t *b1;
	size_t b1_len;
	assert_int_equal(mycel_store_get_body(t, f->a->pk, 1, &b1, &b1_len), 0);
	a1.body = b1;
	a1.body_len = b1_len;
	mycel_ingest_group ga = {.items = &a1, .n = 1};
	assert_int_equal(mycel_store_ingest_groups(f->s, &ga, 1), 0);
	assert_int_equal(ga.code, MYCEL_EFORK);
	assert_int_equal(head_seq(f->s, f->a->pk), 0);
	mycel_verify_stats vs = verify_clean(f->s);
	assert_int_equal(vs.forks, 1);

	free(b1);
	mycel_store_close(t);
	mycel_buf_fini(&other);
	mycel_buf_fini(&bc);
	free(fs);
}

/* ---- persistence ------------------------------------------------------------------------ */

static void test_reopen(void **state)
{
	fx *f = *state;
	mycel_entry ea[4], eb[2];
	char why[256];
	uint8_t mid1[MYCEL_HASH_LEN], mid2[MYCEL_HASH_LEN];

	assert_int_equal(append_n(f->s, f->a, "a", 1, 4, ea), 0);
	assert_int_equal(append_n(f->s, f->b, "b", 1, 2, eb), 0);
	assert_int_equal(mycel_store_add_charter(f->s, f->v2.data, f->v2.len, why, sizeof(why)), 0);
	assert_int_equal(append_n(f->s, f->c, "c", 1, 1, NULL), 0);
	assert_int_equal(mycel_store_mesh_id(f->s, mid1), 0);
	mycel_verify_stats st1 = verify_clean(f->s);
	mycel_store_close(f->s);

	f->s = open_store(f->dir, 0);
	assert_int_equal(mycel_charter_version(mycel_store_charter(f->s)), 2);
	assert_int_equal(mycel_store_mesh_id(f->s, mid2), 0);
	assert_memory_equal(mid1, mid2, MYCEL_HASH_LEN);
	uint8_t id[MYCEL_HASH_LEN];
	uint64_t seq;
	assert_int_equal(mycel_store_head(f->s, f->a->pk, &seq, id), 0);
	assert_int_equal(seq, 4);
	assert_memory_equal(id, ea[3].id, MYCEL_HASH_LEN);
	assert_int_equal(head_seq(f->s, f->b->pk), 2);
	assert_int_equal(head_seq(f->s, f->c->pk), 1);
	for (uint64_t i = 1; i <= 4; i++) {
		mycel_entry g;
		uint8_t *body = NULL;
		size_t blen;
		assert_int_equal(mycel_store_get(f->s, f->a->pk, i, &g), 0);
		assert_memory_equal(g.raw, ea[i - 1].raw, g.len);
		assert_int_equal(mycel_store_get_body(f->s, f->a->pk, i, &body, &blen), 0);
		assert_int_equal(mycel_entry_check_body(&g, body, blen), 0);
		free(body);
	}
	mycel_verify_stats st2 = verify_clean(f->s);
	assert_int_equal(st2.charters, 2);
	assert_int_equal(st2.feeds, 3);
	assert_int_equal(st2.entries, 7);
	assert_int_equal(st2.bodies, 7);
	assert_int_equal(st1.entries, st2.entries);

	/* the chain continues where it stopped */
	mycel_entry e5[1];
	assert_int_equal(append_n(f->s, f->a, "a", 5, 1, e5), 0);
	assert_int_equal(e5[0].h.seq, 5);
	assert_memory_equal(e5[0].h.prev, ea[3].id, MYCEL_HASH_LEN);
	assert_true(e5[0].h.ts_ms >= ea[3].h.ts_ms);
	verify_clean(f->s);
}

/* ---- the tamper test ---------------------------------------------------------------- */

typedef struct rec {
	uint8_t *k;
	size_t kn;
	uint8_t *v;
	size_t vn;
} rec;

static MDB_env *raw_env(const char *dir, unsigned flags)
{
	MDB_env *env;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	/* the test's own writes need no durability; the store reopens the same file */
	assert_int_equal(mdb_env_open(env, dir, flags | MDB_NOSYNC, 0600), 0);
	return env;
}

static size_t raw_read_all(const char *dir, const char *db, rec *out, size_t max)
{
	MDB_env *env = raw_env(dir, MDB_RDONLY);
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	size_t n = 0;
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
	for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		assert_true(n < max);
		out[n].kn = k.mv_size;
		out[n].vn = v.mv_size;
		out[n].k = malloc(k.mv_size);
		out[n].v = malloc(v.mv_size);
		assert_non_null(out[n].k);
		assert_non_null(out[n].v);
		memcpy(out[n].k, k.mv_data, k.mv_size);
		memcpy(out[n].v, v.mv_data, v.mv_size);
		n++;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return n;
}

static void raw_put(const char *dir, const char *db, const rec *r, const uint8_t *val)
{
	MDB_env *env = raw_env(dir, 0);
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {r->kn, r->k}, v = {r->vn, (void *)val};
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Where verify must point for a flip in one record. */
typedef struct expect {
	const char *what; /* required problem kind, or NULL for any */
	bool want_feed;
	uint8_t feed[MYCEL_PK_LEN];
	bool want_seq;
	uint64_t seq;
} expect;

static bool names(const problems *ps, const expect *x)
{
	for (size_t i = 0; i < ps->n && i < sizeof(ps->p) / sizeof(ps->p[0]); i++) {
		const problem_copy *p = &ps->p[i];
		if (x->what != NULL && strcmp(p->what, x->what) != 0)
			continue;
		if (x->want_feed && (!p->has_feed || memcmp(p->feed, x->feed, MYCEL_PK_LEN) != 0))
			continue;
		if (x->want_seq && p->seq != x->seq)
			continue;
		return true;
	}
	return false;
}

/* The store's directory opened read-only, as `mycel verify` does, and verified. */
static void verify_dir(const char *dir, problems *ps)
{
	mycel_store *s = NULL;
	char why[256] = "";
	mycel_verify_stats st;
	memset(ps, 0, sizeof(*ps));
	int rv = mycel_store_open(dir, MYCEL_STORE_READONLY, &s, why, sizeof(why));
	if (rv != 0)
		fail_msg("a tampered store must still open for verification: %s (%s)",
		         mycel_errname(rv), why);
	assert_int_equal(mycel_store_verify(s, collect, ps, &st), 0);
	assert_int_equal(st.problems, ps->n);
	mycel_store_close(s);
}

typedef struct body_ref {
	uint8_t hash[MYCEL_HASH_LEN];
	uint8_t feed[MYCEL_PK_LEN];
	uint64_t seq;
} body_ref;

/* Flips every byte of every value of db with mask; returns the number of flips checked. */
static size_t tamper_db(const char *dir, const char *db, uint8_t mask, const body_ref *refs,
                        size_t nrefs, problems *ps)
{
	rec recs[64];
	size_t n = raw_read_all(dir, db, recs, 64), flips = 0;
	assert_true(n > 0);
	for (size_t r = 0; r < n; r++) {
		expect x;
		memset(&x, 0, sizeof(x));
		if (strcmp(db, "entries") == 0 || strcmp(db, "bodies") == 0) {
			/* key: feed ‖ be64 seq (a body is stored under its entry's key) */
			assert_int_equal(recs[r].kn, MYCEL_PK_LEN + 8);
			x.want_feed = x.want_seq = true;
			memcpy(x.feed, recs[r].k, MYCEL_PK_LEN);
			for (size_t i = 0; i < 8; i++)
				x.seq = x.seq << 8 | recs[r].k[MYCEL_PK_LEN + i];
		} else if (strcmp(db, "charters") == 0) {
			x.what = "charter";
		} else if (strcmp(db, "heads") == 0) {
			x.what = "head";
			x.want_feed = true;
			memcpy(x.feed, recs[r].k, MYCEL_PK_LEN);
		}
		uint8_t *val = malloc(recs[r].vn);
		assert_non_null(val);
		for (size_t i = 0; i < recs[r].vn; i++) {
			memcpy(val, recs[r].v, recs[r].vn);
			val[i] ^= mask;
			raw_put(dir, db, &recs[r], val);
			verify_dir(dir, ps);
			if (ps->n == 0 || !names(ps, &x)) {
				print_problems(ps);
				fail_msg("%s record %zu byte %zu ^ 0x%02x: %zu problem(s), none "
				         "names the "
				         "right place",
				         db, r, i, mask, ps->n);
			}
			raw_put(dir, db, &recs[r], recs[r].v);
			verify_dir(dir, ps);
			if (ps->n != 0) {
				print_problems(ps);
				fail_msg("%s record %zu byte %zu: restored, yet %zu problem(s)", db,
				         r, i, ps->n);
			}
			flips++;
		}
		free(val);
	}
	for (size_t r = 0; r < n; r++) {
		free(recs[r].k);
		free(recs[r].v);
	}
	return flips;
}

/* Replaces key r->k by nk (same value) in one txn; false if nk is taken (nothing changed). */
static bool raw_rekey(const char *dir, const char *db, const uint8_t *ok, const uint8_t *nk,
                      size_t kn, const uint8_t *val, size_t vn)
{
	MDB_env *env = raw_env(dir, 0);
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {kn, (void *)ok}, k2 = {kn, (void *)nk}, v = {vn, (void *)val};
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
	int rc = mdb_put(txn, dbi, &k2, &v, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST) {
		mdb_txn_abort(txn);
		mdb_env_close(env);
		return false;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	return true;
}

/* Flips every byte of every key of db; verify must report at least one problem each time. */
static size_t tamper_keys(const char *dir, const char *db, problems *ps, size_t *skipped)
{
	rec recs[64];
	size_t n = raw_read_all(dir, db, recs, 64), flips = 0;
	assert_true(n > 0);
	*skipped = 0;
	for (size_t r = 0; r < n; r++) {
		uint8_t *nk = malloc(recs[r].kn);
		assert_non_null(nk);
		for (size_t i = 0; i < recs[r].kn; i++) {
			memcpy(nk, recs[r].k, recs[r].kn);
			nk[i] ^= 0x01;
			if (!raw_rekey(dir, db, recs[r].k, nk, recs[r].kn, recs[r].v, recs[r].vn)) {
				(*skipped)++; /* the flipped key is another stored record's */
				continue;
			}
			verify_dir(dir, ps);
			if (ps->n == 0)
				fail_msg("%s record %zu key byte %zu ^ 0x01: verify found nothing",
				         db, r, i);
			assert_true(
			    raw_rekey(dir, db, nk, recs[r].k, recs[r].kn, recs[r].v, recs[r].vn));
			verify_dir(dir, ps);
			if (ps->n != 0) {
				print_problems(ps);
				fail_msg("%s record %zu key byte %zu: restored, yet %zu problem(s)",
				         db, r, i, ps->n);
			}
			flips++;
		}
		free(nk);
	}
	for (size_t r = 0; r < n; r++) {
		free(recs[r].k);
		free(recs[r].v);
	}
	return flips;
}

static int ref_cb(void *ctx, const mycel_entry *e, const uint8_t *body, size_t body_len)
{
	body_ref **p = ctx;
	(void)body;
	(void)body_len;
	memcpy((*p)->hash, e->h.body_hash, MYCEL_HASH_LEN);
	memcpy((*p)->feed, e->h.feed, MYCEL_PK_LEN);
	(*p)->seq = e->h.seq;
	(*p)++;
	return 0;
}

static void test_tamper(void **state)
{
	fx *f = *state;
	body_ref refs[6], *rp = refs;
	struct timespec t0, t1;

	assert_int_equal(append_n(f->s, f->a, "a", 1, 3, NULL), 0);
	assert_int_equal(append_n(f->s, f->b, "b", 1, 3, NULL), 0);
	assert_int_equal(mycel_store_scan(f->s, f->a->pk, 1, ref_cb, &rp), 0);
	assert_int_equal(mycel_store_scan(f->s, f->b->pk, 1, ref_cb, &rp), 0);
	assert_int_equal(rp - refs, 6);
	mycel_verify_stats st = verify_clean(f->s);
	assert_int_equal(st.entries, 6);
	assert_int_equal(st.bodies, 6); /* distinct bodies: each flip hits one entry */
	mycel_store_close(f->s);
	f->s = NULL;

	problems *ps = calloc(1, sizeof(*ps));
	assert_non_null(ps);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	static const struct {
		const char *db;
		uint8_t mask;
	} runs[] = {{"entries", 0x01},  {"entries", 0x80}, {"bodies", 0x01},
	            {"charters", 0x01}, {"heads", 0x01}};
	size_t total = 0;
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		size_t n = tamper_db(f->dir, runs[i].db, runs[i].mask, refs, 6, ps);
		print_message(
		    "tamper: %-8s ^ 0x%02x: %zu byte flips, each detected and named, each "
		    "restored clean\n",
		    runs[i].db, runs[i].mask, n);
		total += n;
	}
	static const char *const keyed[] = {"entries", "bodies", "charters", "heads"};
	for (size_t i = 0; i < sizeof(keyed) / sizeof(keyed[0]); i++) {
		size_t skipped, n = tamper_keys(f->dir, keyed[i], ps, &skipped);
		print_message(
		    "tamper: %-8s keys ^ 0x01: %zu key byte flips detected%s\n", keyed[i], n,
		    skipped ? " (some skipped: the flipped key was another record's)" : "");
		total += n;
	}

	/* a stray body, stored where there is no entry */
	{
		rec stray;
		uint8_t k[MYCEL_PK_LEN + 8] = {0}, v[1] = {0xc0};
		memcpy(k, f->a->pk, MYCEL_PK_LEN);
		k[MYCEL_PK_LEN + 7] = 9;
		stray.k = k;
		stray.kn = sizeof(k);
		stray.v = v;
		stray.vn = sizeof(v);
		raw_put(f->dir, "bodies", &stray, v);
		verify_dir(f->dir, ps);
		expect x = {"body", true, {0}, true, 9};
		memcpy(x.feed, f->a->pk, MYCEL_PK_LEN);
		if (!names(ps, &x)) {
			print_problems(ps);
			fail_msg("a stray body at alpha seq 9 is not reported");
		}
		MDB_env *env = raw_env(f->dir, 0);
		MDB_txn *txn;
		MDB_dbi dbi;
		MDB_val mk = {sizeof(k), k};
		assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
		assert_int_equal(mdb_dbi_open(txn, "bodies", 0, &dbi), 0);
		assert_int_equal(mdb_del(txn, dbi, &mk, NULL), 0);
		assert_int_equal(mdb_txn_commit(txn), 0);
		mdb_env_close(env);
		verify_dir(f->dir, ps);
		assert_int_equal(ps->n, 0);
		print_message("tamper: a stray body is reported as \"body\" at alpha seq 9\n");
	}

	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("tamper: %zu flips in %.2f s\n", total,
	              (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	free(ps);
	f->s = open_store(f->dir, 0);
	verify_clean(f->s);
}

/* ---- a damaged charter record ------------------------------------------------------- */

/* Writes value byte i of charter version 1 XOR mask (the store must be closed). */
static void flip_charter_byte(const char *dir, size_t i, uint8_t mask)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint8_t vk[8] = {0, 0, 0, 0, 0, 0, 0, 1};
	MDB_val k = {8, vk}, v;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "charters", 0, &dbi), 0);
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	uint8_t *copy = malloc(v.mv_size);
	assert_non_null(copy);
	memcpy(copy, v.mv_data, v.mv_size);
	assert_true(i < v.mv_size);
	copy[i] ^= mask;
	v.mv_data = copy;
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	free(copy);
}

/*
 * A charter record that no longer decodes: a writable open refuses the store
 * (nothing could be admitted safely); a read-only open, as `mycel verify`
 * does, succeeds so that verify reports the charter and every entry it can
 * no longer admit.
 */
static void test_damaged_charter(void **state)
{
	fx *f = *state;
	char why[256] = "";
	mycel_store *s = NULL;
	assert_int_equal(append_n(f->s, f->a, "a", 1, 2, NULL), 0);
	mycel_store_close(f->s);
	f->s = NULL;
	flip_charter_byte(f->dir, 0, 0x01); /* the array header: [charter, sigs] no more */

	assert_int_not_equal(mycel_store_open(f->dir, 0, &s, why, sizeof(why)), 0);
	assert_null(s);
	print_message("  writable open: %s\n", why);

	f->s = open_store(f->dir, MYCEL_STORE_READONLY);
	assert_null(mycel_store_charter(f->s));
	problems *ps = calloc(1, sizeof(*ps));
	mycel_verify_stats st;
	assert_non_null(ps);
	assert_int_equal(mycel_store_verify(f->s, collect, ps, &st), 0);
	assert_true(st.problems >= 1);
	expect x = {"charter", false, {0}, false, 0};
	assert_true(names(ps, &x));
	expect y = {"entry", true, {0}, true, 2};
	memcpy(y.feed, f->a->pk, MYCEL_PK_LEN);
	assert_true(names(ps, &y)); /* not admitted without a valid charter */
	print_problems(ps);
	free(ps);
	mycel_store_close(f->s);

	flip_charter_byte(f->dir, 0, 0x01); /* repaired */
	f->s = open_store(f->dir, 0);
	verify_clean(f->s);
}

/* ---- concurrency -------------------------------------------------------------------------- */

typedef struct race {
	mycel_store *s;
	const mycel_blob *items;
	size_t n;
	atomic_bool done;
	size_t rounds;
	int err;
} race;

static void *ingest_loop(void *arg)
{
	race *r = arg;
	mycel_ingest_result res;
	/* bounded: stops when the charter thread is done, or after many rounds */
	for (r->rounds = 0; !atomic_load(&r->done) && r->rounds < 2000000; r->rounds++) {
		int rv = mycel_store_ingest(r->s, r->items, r->n, &res);
		if (rv != 0 || res.duplicate != r->n) {
			r->err = rv != 0 ? rv : -1000;
			break;
		}
	}
	return NULL;
}

/*
 * Ingest and charter updates from two threads at once (the store is documented
 * as usable from several threads). Both take the store's charter lock and the
 * LMDB write lock; they must take them in the same order or they deadlock.
 * The alarm is only a watchdog: if the two threads deadlock, the test dies
 * instead of hanging until meson's timeout.
 */
static void test_threads_ingest_and_charters(void **state)
{
	fx *f = *state;
	enum { NVERS = 60 };
	mycel_buf *vers = calloc(NVERS, sizeof(*vers));
	held *h = calloc(1, sizeof(*h));
	mycel_blob items[4];
	race r;
	pthread_t th;
	char why[256] = "";

	assert_non_null(vers);
	assert_non_null(h);
	for (size_t i = 0; i < NVERS; i++)
		charter_file(f, "acme", 2 + i, true, &f->gov1, 1, &vers[i]);
	assert_int_equal(append_n(f->s, f->a, "a", 1, 4, NULL), 0);
	assert_int_equal(mycel_store_scan(f->s, f->a->pk, 1, hold_cb, h), 0);
	for (size_t i = 0; i < 4; i++)
		items[i] = blob_of(h, i);

	memset(&r, 0, sizeof(r));
	r.s = f->s;
	r.items = items;
	r.n = 4;
	atomic_init(&r.done, false);
	alarm(60);
	assert_int_equal(pthread_create(&th, NULL, ingest_loop, &r), 0);
	for (size_t i = 0; i < NVERS; i++) {
		int rv = mycel_store_add_charter(f->s, vers[i].data, vers[i].len, why, sizeof(why));
		if (rv != 0)
			fail_msg("charter v%zu: %s (%s)", i + 2, mycel_errname(rv), why);
	}
	atomic_store(&r.done, true);
	assert_int_equal(pthread_join(th, NULL), 0);
	alarm(0);
	assert_int_equal(r.err, 0);
	print_message("  %d charter versions added while %zu ingest rounds ran\n", NVERS, r.rounds);
	assert_int_equal(mycel_charter_version(mycel_store_charter(f->s)), 1 + NVERS);
	mycel_verify_stats st = verify_clean(f->s);
	assert_int_equal(st.charters, 1 + NVERS);
	for (size_t i = 0; i < NVERS; i++)
		mycel_buf_fini(&vers[i]);
	free(vers);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_append_batches, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_append_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_append_without_charter, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_charters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ingest, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fork, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ingest_groups, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fork_proof_alone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_charter, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_threads_ingest_and_charters, setup, teardown),
	};
	const char *only = getenv("MYCEL_TEST_FILTER"); /* e.g. "test_fork" or "*threads*" */
	if (only != NULL && *only != '\0')
		cmocka_set_test_filter(only);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
