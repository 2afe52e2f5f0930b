/*
 * test_mesh.c — the gossip half that answers peers (src/mesh.h): the frontier and its
 * digests against proto/vectors/frontier.txt (computed independently with Python's
 * hashlib), and the Mesh handlers over the in-process RPC.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/store.h"
#include "mesh.h"

#include "common.h"

#define FRONTIER_VECTORS "proto/vectors/frontier.txt"

/* ---- frontier vectors ----------------------------------------------------------------- */

typedef struct fvec {
	char name[32];
	uint8_t digest[MYCEL_HASH_LEN];
	mycel__head heads[8];
	size_t n;
} fvec;

static void unhex(const char *s, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(s), 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* Reads the frontier records of the vector file; bucket records go to bk (name, b, digest). */
typedef struct bvec {
	char name[32];
	unsigned b;
	uint8_t digest[MYCEL_HASH_LEN];
} bvec;

static void load_frontier_vectors(fvec *fv, size_t *nf, bvec *bv, size_t *nb)
{
	FILE *f = fopen(FRONTIER_VECTORS, "r");
	char line[4096];
	*nf = *nb = 0;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *save = NULL, *tok;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		tok = strtok_r(line, " ", &save);
		if (strcmp(tok, "frontier") == 0) {
			fvec *v = &fv[(*nf)++];
			memset(v, 0, sizeof(*v));
			snprintf(v->name, sizeof(v->name), "%s", strtok_r(NULL, " ", &save));
			unhex(strtok_r(NULL, " ", &save), v->digest, MYCEL_HASH_LEN);
			while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
				char feed[65], head[65];
				unsigned long long seq;
				int forked;
				mycel__head *h = &v->heads[v->n++];
				assert_int_equal(sscanf(tok, "%64[0-9a-f],%llu,%64[0-9a-f],%d", feed, &seq,
							head, &forked),
						 4);
				unhex(feed, h->feed, MYCEL_PK_LEN);
				unhex(head, h->head, MYCEL_HASH_LEN);
				h->seq = seq;
				h->forked = forked != 0;
			}
		} else {
			bvec *b = &bv[(*nb)++];
			assert_string_equal(tok, "bucket");
			snprintf(b->name, sizeof(b->name), "%s", strtok_r(NULL, " ", &save));
			b->b = (unsigned)atoi(strtok_r(NULL, " ", &save));
			unhex(strtok_r(NULL, " ", &save), b->digest, MYCEL_HASH_LEN);
		}
	}
	fclose(f);
	assert_true(*nf >= 3);
	assert_true(*nb >= 3);
}

/* A store of a one-domain mesh in a fresh directory (dir, n bytes); k: the domain's key. */
static mycel_store *fresh_store(char *dir, size_t n, mycel_key **out_k)
{
	mycel_key *gov = tc_seed_key(0x01), *k = tc_seed_key(0x02);
	const char *names[] = {"alpha"};
	const mycel_key *keys[] = {k};
	mycel_buf cf;
	tc_tmpdir("mesh", dir, n);
	tc_genesis("acme", gov, names, keys, 1, &cf, NULL);
	mycel_store *s = tc_store_new(dir, cf.data, cf.len);
	mycel_buf_fini(&cf);
	mycel_key_free(gov);
	if (out_k != NULL)
		*out_k = k;
	else
		mycel_key_free(k);
	return s;
}

static void test_frontier_vectors(void **state)
{
	fvec fv[8];
	bvec bv[16];
	size_t nf, nb, feeds;
	char dir[64];
	uint8_t d[MYCEL_HASH_LEN];
	static uint8_t buckets[MYCEL__FRONTIER_BUCKETS][MYCEL_HASH_LEN];
	(void)state;

	load_frontier_vectors(fv, &nf, bv, &nb);
	mycel_store *s = fresh_store(dir, sizeof(dir), NULL);
	for (size_t i = 0; i < nf; i++) {
		mycel__frontier *f;
		assert_int_equal(mycel__frontier_open(s, &f), 0);
		mycel__frontier_digest(f, d, &feeds);
		assert_int_equal(feeds, 0);
		if (strcmp(fv[i].name, "empty") == 0)
			assert_memory_equal(d, fv[i].digest, MYCEL_HASH_LEN);
		/* inserted in reverse order: the frontier sorts by feed */
		for (size_t k = fv[i].n; k-- > 0;)
			assert_int_equal(mycel__frontier_update(f, &fv[i].heads[k]), 0);
		mycel__frontier_digest(f, d, &feeds);
		assert_int_equal(feeds, fv[i].n);
		assert_memory_equal(d, fv[i].digest, MYCEL_HASH_LEN);
		mycel__frontier_buckets(f, buckets);
		for (size_t b = 0; b < nb; b++)
			if (strcmp(bv[b].name, fv[i].name) == 0)
				assert_memory_equal(buckets[bv[b].b], bv[b].digest, MYCEL_HASH_LEN);
		/* every head, sorted by feed */
		mycel__head *h;
		size_t n;
		assert_int_equal(mycel__frontier_heads(f, NULL, 0, &h, &n), 0);
		assert_int_equal(n, fv[i].n);
		for (size_t k = 0; k < n; k++)
			assert_memory_equal(&h[k], &fv[i].heads[k], sizeof(h[k]));
		free(h);
		mycel__frontier_free(f);
	}
	mycel_store_close(s);
	tc_rm_rf(dir);
}

static void test_frontier_updates(void **state)
{
	fvec fv[8];
	bvec bv[16];
	size_t nf, nb, n;
	char dir[64];
	uint8_t d0[MYCEL_HASH_LEN], d1[MYCEL_HASH_LEN];
	static uint8_t b0[MYCEL__FRONTIER_BUCKETS][MYCEL_HASH_LEN],
	    b1[MYCEL__FRONTIER_BUCKETS][MYCEL_HASH_LEN];
	mycel__frontier *f;
	mycel__head *h, got;
	(void)state;

	load_frontier_vectors(fv, &nf, bv, &nb);
	const fvec *three = NULL;
	for (size_t i = 0; i < nf; i++)
		if (strcmp(fv[i].name, "three") == 0)
			three = &fv[i];
	assert_non_null(three);
	mycel_store *s = fresh_store(dir, sizeof(dir), NULL);
	assert_int_equal(mycel__frontier_open(s, &f), 0);
	for (size_t k = 0; k < three->n; k++)
		assert_int_equal(mycel__frontier_update(f, &three->heads[k]), 0);
	mycel__frontier_digest(f, d0, NULL);
	mycel__frontier_buckets(f, b0);

	/* a new head changes the digest and its bucket only; going back restores both */
	mycel__head moved = three->heads[0];
	moved.seq++;
	assert_int_equal(mycel__frontier_update(f, &moved), 0);
	mycel__frontier_digest(f, d1, &n);
	assert_int_equal(n, three->n);
	assert_memory_not_equal(d0, d1, MYCEL_HASH_LEN);
	mycel__frontier_buckets(f, b1);
	for (unsigned b = 0; b < MYCEL__FRONTIER_BUCKETS; b++) {
		if (b == moved.feed[0])
			assert_memory_not_equal(b0[b], b1[b], MYCEL_HASH_LEN);
		else
			assert_memory_equal(b0[b], b1[b], MYCEL_HASH_LEN);
	}
	assert_true(mycel__frontier_get(f, moved.feed, &got));
	assert_int_equal(got.seq, moved.seq);
	assert_int_equal(mycel__frontier_update(f, &three->heads[0]), 0);
	mycel__frontier_digest(f, d1, NULL);
	assert_memory_equal(d0, d1, MYCEL_HASH_LEN);

	/* heads of chosen buckets only; a bucket number over 255 is refused */
	uint64_t want[] = {three->heads[2].feed[0], 17};
	assert_int_equal(mycel__frontier_heads(f, want, 2, &h, &n), 0);
	assert_int_equal(n, 1);
	assert_memory_equal(h[0].feed, three->heads[2].feed, MYCEL_PK_LEN);
	free(h);
	uint64_t bad[] = {3, 256};
	assert_int_equal(mycel__frontier_heads(f, bad, 2, &h, &n), MYCEL_EINVAL);
	uint8_t unknown[MYCEL_PK_LEN] = {0x77};
	assert_false(mycel__frontier_get(f, unknown, &got));
	mycel__frontier_free(f);
	mycel_store_close(s);
	tc_rm_rf(dir);
}

/* A frontier opened on a store holds its feeds' heads. */
static void test_frontier_open_store(void **state)
{
	char dir[64];
	mycel_key *k;
	mycel__frontier *f;
	mycel__head h;
	uint64_t seq;
	uint8_t id[MYCEL_HASH_LEN], d[MYCEL_HASH_LEN], want[MYCEL_HASH_LEN];
	size_t n;
	(void)state;

	mycel_store *s = fresh_store(dir, sizeof(dir), &k);
	tc_put_contract(s, k, "orders", "1.0.0", "Orders", NULL);
	tc_put_contract(s, k, "orders", "1.1.0", "Orders", NULL);
	assert_int_equal(mycel_store_head(s, k->pk, &seq, id), 0);
	assert_int_equal(mycel__frontier_open(s, &f), 0);
	assert_true(mycel__frontier_get(f, k->pk, &h));
	assert_int_equal(h.seq, 2);
	assert_int_equal(seq, 2);
	assert_memory_equal(h.head, id, MYCEL_HASH_LEN);
	assert_false(h.forked);
	mycel__frontier_digest(f, d, &n);
	assert_int_equal(n, 1);
	/* the same head in a frontier built by hand gives the same digest */
	mycel__frontier *g;
	mycel_store *s2;
	char dir2[64];
	s2 = fresh_store(dir2, sizeof(dir2), NULL);
	assert_int_equal(mycel__frontier_open(s2, &g), 0);
	assert_int_equal(mycel__frontier_update(g, &h), 0);
	mycel__frontier_digest(g, want, NULL);
	assert_memory_equal(d, want, MYCEL_HASH_LEN);
	mycel__frontier_free(g);
	mycel_store_close(s2);
	tc_rm_rf(dir2);
	mycel__frontier_free(f);
	mycel_store_close(s);
	mycel_key_free(k);
	tc_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frontier_vectors),
		cmocka_unit_test(test_frontier_updates),
		cmocka_unit_test(test_frontier_open_store),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
