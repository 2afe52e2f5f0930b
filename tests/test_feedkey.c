/*
 * test_feedkey.c — key rotation (PROTOCOL.md §5.4, src/feedkey.h): a dual-signed key entry
 * moves a feed to its next key; later entries signed by the old key are refused; a key entry
 * without a valid reverse signature breaks the chain; two rotations; fork proofs across a
 * rotation; what the store, ingest and mycel_store_verify make of each.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedkey.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/store.h"

#include "common.h"

typedef struct fixture {
	char dir[64], d1[128], d2[128];
	mycel_key *gov, *k0, *k1, *k2;
	mycel_buf charter;
	mycel_store *s1, *s2; /* the feed's own store, and one it is copied into */
} fixture;

static const uint8_t BODY[] = {0xa1, 'x'}; /* "x" */

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	static const char *const names[] = {"sales"};
	assert_non_null(f);
	tc_tmpdir("test-feedkey", f->dir, sizeof(f->dir));
	f->gov = tc_seed_key(0x01);
	f->k0 = tc_seed_key(0x10);
	f->k1 = tc_seed_key(0x11);
	f->k2 = tc_seed_key(0x12);
	const mycel_key *const keys[] = {f->k0};
	tc_genesis("acme", f->gov, names, keys, 1, &f->charter, NULL);
	snprintf(f->d1, sizeof(f->d1), "%s/s1", f->dir);
	snprintf(f->d2, sizeof(f->d2), "%s/s2", f->dir);
	f->s1 = tc_store_new(f->d1, f->charter.data, f->charter.len);
	f->s2 = tc_store_new(f->d2, f->charter.data, f->charter.len);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	mycel_store_close(f->s1);
	mycel_store_close(f->s2);
	(void)tc_rm_rf(f->dir);
	mycel_buf_fini(&f->charter);
	mycel_key_free(f->gov);
	mycel_key_free(f->k0);
	mycel_key_free(f->k1);
	mycel_key_free(f->k2);
	free(f);
	return 0;
}

static const uint8_t *feed_of(const fixture *f)
{
	return f->k0->pk; /* the genesis key names the feed */
}

/* Appends one "note" entry to the feed in s, signed by k: the store's code. */
static int note(mycel_store *s, const fixture *f, const mycel_key *k, mycel_entry *out)
{
	mycel_record r = {"note", BODY, sizeof(BODY)};
	return mycel_store_append(s, k, feed_of(f), &r, 1, out);
}

/* An entry following prev (NULL: genesis) with kind and body, signed by k. */
static void make(const fixture *f, const mycel_entry *prev, const char *kind, const uint8_t *body,
                 size_t n, const mycel_key *k, mycel_entry *out)
{
	mycel_header h;
	memset(&h, 0, sizeof(h));
	memcpy(h.feed, feed_of(f), MYCEL_PK_LEN);
	h.seq = prev != NULL ? prev->h.seq + 1 : 1;
	h.has_prev = prev != NULL;
	if (prev != NULL)
		memcpy(h.prev, prev->id, MYCEL_HASH_LEN);
	h.ts_ms = 1700000000000ull + h.seq;
	snprintf(h.kind, sizeof(h.kind), "%s", kind);
	mycel_body_hash(body, n, h.body_hash);
	assert_int_equal(mycel_entry_sign(&h, k, out), 0);
}

static int ingest(mycel_store *s, const mycel_entry *e, const uint8_t *body, size_t n)
{
	mycel_blob b = {e->raw, e->len, body, n};
	mycel_ingest_result r;
	return mycel_store_ingest(s, &b, 1, &r);
}

static size_t problems(mycel_store *s)
{
	mycel_verify_stats st;
	assert_int_equal(mycel_store_verify(s, NULL, NULL, &st), 0);
	return st.problems;
}

/* Copies every entry of the feed from s1 into s2 through the verified ingest. */
static int copy(fixture *f)
{
	mycel_pull_stats st;
	char why[256] = "";
	return mycel_store_pull(f->s2, f->s1, &st, why, sizeof(why));
}

static void test_rotate_and_publish(void **state)
{
	fixture *f = *state;
	uint8_t k[MYCEL_PK_LEN];
	mycel_entry e, key1, key2;

	assert_int_equal(note(f->s1, f, f->k0, &e), 0);
	/* only the key that signs the feed now may rotate it */
	assert_int_equal(mycel_store_rotate(f->s1, f->k1, feed_of(f), f->k2, NULL), MYCEL_EPERM);
	assert_int_equal(mycel_store_rotate(f->s1, f->k0, feed_of(f), f->k0, NULL), MYCEL_EINVAL);
	assert_int_equal(mycel_store_rotate(f->s1, f->k0, feed_of(f), f->k1, &key1), 0);
	assert_int_equal(key1.h.seq, 2);
	assert_string_equal(key1.h.kind, "key");
	assert_int_equal(mycel_entry_verify(&key1, f->k0->pk), 0); /* signed by the old key */

	/* after the rotation the old key may not append; the next key does */
	assert_int_equal(note(f->s1, f, f->k0, NULL), MYCEL_EPERM);
	assert_int_equal(note(f->s1, f, f->k1, &e), 0);
	assert_int_equal(e.h.seq, 3);
	assert_int_equal(mycel_entry_verify(&e, f->k1->pk), 0);
	/* a key entry is made only by mycel_store_rotate */
	mycel_record r = {"key", BODY, sizeof(BODY)};
	assert_int_equal(mycel_store_append(f->s1, f->k1, feed_of(f), &r, 1, NULL), MYCEL_EINVAL);

	/* twice */
	assert_int_equal(mycel_store_rotate(f->s1, f->k1, feed_of(f), f->k2, &key2), 0);
	assert_int_equal(note(f->s1, f, f->k1, NULL), MYCEL_EPERM);
	assert_int_equal(note(f->s1, f, f->k2, &e), 0);
	assert_int_equal(e.h.seq, 5);

	/* which key signs which seq */
	const struct {
		uint64_t seq;
		const mycel_key *key;
	} want[] = {{1, f->k0}, {2, f->k0}, {3, f->k1}, {4, f->k1}, {5, f->k2}, {6, f->k2}};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(mycel_store_feed_key(f->s1, feed_of(f), want[i].seq, k), 0);
		assert_memory_equal(k, want[i].key->pk, MYCEL_PK_LEN);
	}
	uint64_t seqs[8];
	size_t n = 0;
	assert_int_equal(mycel_store_key_seqs(f->s1, feed_of(f), seqs, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(seqs[0], 2);
	assert_int_equal(seqs[1], 4);

	/* history stays verifiable, here and in a store that ingests it all */
	assert_int_equal(problems(f->s1), 0);
	assert_int_equal(copy(f), 0);
	assert_int_equal(problems(f->s2), 0);
	assert_int_equal(mycel_store_feed_key(f->s2, feed_of(f), 6, k), 0);
	assert_memory_equal(k, f->k2->pk, MYCEL_PK_LEN);

	/* the step function agrees, entry by entry from genesis */
	mycel__feedkey fk;
	mycel__feedkey_init(&fk, feed_of(f));
	for (uint64_t s = 1; s <= 5; s++) {
		uint8_t *body = NULL;
		size_t bl = 0;
		assert_int_equal(mycel_store_get(f->s2, feed_of(f), s, &e), 0);
		assert_int_equal(mycel_store_get_body(f->s2, feed_of(f), s, &body, &bl), 0);
		assert_int_equal(mycel__feedkey_step(&fk, &e, body, bl, true), 0);
		free(body);
	}
	assert_memory_equal(fk.key, f->k2->pk, MYCEL_PK_LEN);
	assert_int_equal(fk.rotations, 2);
	assert_int_equal(fk.since, 4);
}

static void test_reverse_signature(void **state)
{
	fixture *f = *state;
	uint8_t body[MYCEL__KEY_BODY_LEN], bad[MYCEL__KEY_BODY_LEN];
	mycel_entry g, k, later;

	make(f, NULL, "note", BODY, sizeof(BODY), f->k0, &g);
	assert_int_equal(ingest(f->s2, &g, BODY, sizeof(BODY)), 0);
	assert_int_equal(mycel__feedkey_body(feed_of(f), 2, f->k1, body), 0);
	assert_int_equal(mycel__feedkey_body_check(feed_of(f), 2, body, sizeof(body), NULL), 0);

	/* forged: the reverse signature does not verify (one bit of it flipped) */
	memcpy(bad, body, sizeof(bad));
	bad[sizeof(bad) - 1] ^= 1;
	assert_int_equal(mycel__feedkey_body_check(feed_of(f), 2, bad, sizeof(bad), NULL),
	                 MYCEL_EBADSIG);
	make(f, &g, "key", bad, sizeof(bad), f->k0, &k);
	assert_int_equal(ingest(f->s2, &k, bad, sizeof(bad)), MYCEL_EBADSIG);

	/* signed by next over another seq: not this entry's agreement */
	uint8_t other[MYCEL__KEY_BODY_LEN];
	assert_int_equal(mycel__feedkey_body(feed_of(f), 3, f->k1, other), 0);
	make(f, &g, "key", other, sizeof(other), f->k0, &k);
	assert_int_equal(ingest(f->s2, &k, other, sizeof(other)), MYCEL_EBADSIG);

	/* missing: a body that is not {next, sig} */
	static const uint8_t only_next_hdr[] = {0x81, 0xa4, 'n', 'e', 'x', 't', 0xc4, 0x20};
	uint8_t only_next[sizeof(only_next_hdr) + MYCEL_PK_LEN];
	memcpy(only_next, only_next_hdr, sizeof(only_next_hdr));
	memcpy(only_next + sizeof(only_next_hdr), f->k1->pk, MYCEL_PK_LEN);
	make(f, &g, "key", only_next, sizeof(only_next), f->k0, &k);
	assert_int_equal(ingest(f->s2, &k, only_next, sizeof(only_next)), MYCEL_EFORMAT);

	/* a valid key entry, but signed by the next key rather than the current one */
	make(f, &g, "key", body, sizeof(body), f->k1, &k);
	assert_int_equal(ingest(f->s2, &k, body, sizeof(body)), MYCEL_EBADSIG);

	/* nothing of the refusals was stored: the feed still ends at seq 1, key k0 */
	uint64_t head = 0;
	uint8_t id[MYCEL_HASH_LEN], key[MYCEL_PK_LEN];
	assert_int_equal(mycel_store_head(f->s2, feed_of(f), &head, id), 0);
	assert_int_equal(head, 1);
	assert_int_equal(mycel_store_feed_key(f->s2, feed_of(f), 2, key), 0);
	assert_memory_equal(key, f->k0->pk, MYCEL_PK_LEN);

	/* the genuine one: then the old key is refused at seq 3, the next key accepted */
	make(f, &g, "key", body, sizeof(body), f->k0, &k);
	assert_int_equal(ingest(f->s2, &k, body, sizeof(body)), 0);
	make(f, &k, "note", BODY, sizeof(BODY), f->k0, &later);
	assert_int_equal(ingest(f->s2, &later, BODY, sizeof(BODY)), MYCEL_EBADSIG);
	make(f, &k, "note", BODY, sizeof(BODY), f->k1, &later);
	assert_int_equal(ingest(f->s2, &later, BODY, sizeof(BODY)), 0);
	assert_int_equal(problems(f->s2), 0);
}

static void test_fork_across_rotation(void **state)
{
	fixture *f = *state;
	uint8_t body[MYCEL__KEY_BODY_LEN];
	static const uint8_t OTHER[] = {0xa1, 'y'};
	mycel_entry g, k, a, b, old;
	size_t forks = 0;

	make(f, NULL, "note", BODY, sizeof(BODY), f->k0, &g);
	assert_int_equal(mycel__feedkey_body(feed_of(f), 2, f->k1, body), 0);
	make(f, &g, "key", body, sizeof(body), f->k0, &k);
	make(f, &k, "note", BODY, sizeof(BODY), f->k1, &a);
	assert_int_equal(ingest(f->s2, &g, BODY, sizeof(BODY)), 0);
	assert_int_equal(ingest(f->s2, &k, body, sizeof(body)), 0);
	assert_int_equal(ingest(f->s2, &a, BODY, sizeof(BODY)), 0);

	/* the retired key signing another seq 3 is no equivocation: refused, no proof */
	make(f, &k, "note", OTHER, sizeof(OTHER), f->k0, &old);
	assert_int_equal(ingest(f->s2, &old, OTHER, sizeof(OTHER)), MYCEL_EBADSIG);
	assert_int_equal(mycel_store_fork_count(f->s2, &forks), 0);
	assert_int_equal(forks, 0);

	/* the current key signing another seq 3 is: the proof is stored and verifies */
	make(f, &k, "note", OTHER, sizeof(OTHER), f->k1, &b);
	assert_int_equal(ingest(f->s2, &b, OTHER, sizeof(OTHER)), MYCEL_EFORK);
	assert_int_equal(mycel_store_fork_count(f->s2, &forks), 0);
	assert_int_equal(forks, 1);
	uint8_t proof[MYCEL_FORK_MAX];
	size_t plen = 0;
	assert_int_equal(mycel_fork_encode(&a, &b, proof, &plen), 0);
	assert_int_equal(mycel_fork_verify(proof, plen, f->k1->pk, NULL, NULL), 0);
	assert_int_equal(mycel_fork_verify(proof, plen, feed_of(f), NULL, NULL), MYCEL_EBADSIG);
	assert_int_equal(problems(f->s2), 0);

	/* a received proof at seq 3 made with the retired key is refused */
	static const uint8_t THIRD[] = {0xa1, 'z'};
	mycel_entry old2;
	make(f, &k, "note", THIRD, sizeof(THIRD), f->k0, &old2);
	mycel_fork_pair p = {{old.raw, old.len, NULL, 0}, {old2.raw, old2.len, NULL, 0}};
	mycel_ingest_group grp;
	memset(&grp, 0, sizeof(grp));
	grp.forks = &p;
	grp.n_forks = 1;
	assert_int_equal(mycel_store_ingest_groups(f->s2, &grp, 1), 0);
	assert_int_not_equal(grp.code, 0);
	assert_int_equal(grp.forks_stored, 0);
}

/* ---- proto/vectors/key.txt --------------------------------------------------------------- */

/* Parses "label HEX" into out (at most cap bytes); the byte count. */
static size_t unhex_line(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strcspn(hex, " \n");
	assert_true(n % 2 == 0 && n / 2 <= cap);
	char tmp[1024];
	assert_true(n < sizeof(tmp));
	memcpy(tmp, hex, n);
	tmp[n] = '\0';
	assert_int_equal(mycel_unhex(tmp, out, n / 2), 0);
	return n / 2;
}

static void test_vectors(void **state)
{
	(void)state;
	FILE *fp = fopen("proto/vectors/key.txt", "r");
	assert_non_null(fp);
	char line[2048];
	uint8_t feed_seed[32], next_seed[32], feed[32], next[32], body[256], buf[512];
	size_t body_len = 0, n_invalid = 0, n_entries = 0;
	uint64_t seq = 0;
	mycel__feedkey fk;
	mycel_entry e;
	uint8_t ebody[256];
	size_t ebody_len = 0;
	uint8_t signer[32];
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *sp = strchr(line, ' ');
		if (line[0] == '#' || sp == NULL)
			continue;
		*sp = '\0';
		const char *v = sp + 1;
		if (strcmp(line, "feed_seed") == 0)
			unhex_line(v, feed_seed, 32);
		else if (strcmp(line, "next_seed") == 0)
			unhex_line(v, next_seed, 32);
		else if (strcmp(line, "feed") == 0)
			unhex_line(v, feed, 32);
		else if (strcmp(line, "next") == 0)
			unhex_line(v, next, 32);
		else if (strcmp(line, "seq") == 0 && n_entries == 0 && seq == 0)
			seq = strtoull(v, NULL, 10);
		else if (strcmp(line, "key_body") == 0) {
			body_len = unhex_line(v, body, sizeof(body));
			/* this implementation makes the same bytes from the two seeds */
			mycel_key *k0 = NULL, *k1 = NULL;
			uint8_t mine[MYCEL__KEY_BODY_LEN];
			assert_int_equal(mycel_key_from_seed(feed_seed, &k0), 0);
			assert_int_equal(mycel_key_from_seed(next_seed, &k1), 0);
			assert_memory_equal(k0->pk, feed, 32);
			assert_memory_equal(k1->pk, next, 32);
			assert_int_equal(mycel__feedkey_body(feed, seq, k1, mine), 0);
			assert_int_equal(body_len, sizeof(mine));
			assert_memory_equal(mine, body, body_len);
			uint8_t got[32];
			assert_int_equal(mycel__feedkey_body_check(feed, seq, body, body_len, got),
			                 0);
			assert_memory_equal(got, next, 32);
			mycel_key_free(k0);
			mycel_key_free(k1);
			mycel__feedkey_init(&fk, feed);
		} else if (strcmp(line, "signer") == 0) {
			unhex_line(v, signer, 32);
		} else if (strcmp(line, "body") == 0) {
			ebody_len = unhex_line(v, ebody, sizeof(ebody));
		} else if (strcmp(line, "entry") == 0) {
			size_t n = unhex_line(v, buf, sizeof(buf));
			assert_int_equal(mycel_entry_decode(buf, n, &e), 0);
			/* the step function: each entry under the key that signs its seq */
			assert_memory_equal(fk.key, signer, 32);
			const uint8_t *b = mycel__feedkey_is_key(&e) ? body : ebody;
			size_t bl = mycel__feedkey_is_key(&e) ? body_len : ebody_len;
			assert_int_equal(mycel_entry_check_body(&e, b, bl), 0);
			assert_int_equal(mycel__feedkey_step(&fk, &e, b, bl, true), 0);
			if (e.h.seq > seq) /* after the rotation: not valid under the feed id */
				assert_int_equal(mycel_entry_verify(&e, feed), MYCEL_EBADSIG);
			n_entries++;
		} else if (strcmp(line, "invalid") == 0) {
			char name[64], err[32], hex[1024];
			assert_int_equal(sscanf(v, "%63s %31s %1023s", name, err, hex), 3);
			size_t n = unhex_line(hex, buf, sizeof(buf));
			int rv = mycel__feedkey_body_check(feed, seq, buf, n, NULL);
			if (strcmp(mycel_errname(rv), err) != 0)
				fail_msg("invalid %s: got %s, vector says %s", name,
				         mycel_errname(rv), err);
			n_invalid++;
		}
	}
	fclose(fp);
	assert_int_equal(n_entries, 3);
	assert_true(n_invalid >= 5);
	assert_memory_equal(fk.key, next, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rotate_and_publish, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reverse_signature, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fork_across_rotation, setup, teardown),
	    cmocka_unit_test(test_vectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
