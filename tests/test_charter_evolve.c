/*
 * test_charter_evolve.c — charter evolution (PROTOCOL.md §3.4): the compromised list's strict
 * decoding, mycel_charter_next and the draft builders, the step rules of verify_next for
 * compromised feeds and for member and threshold changes (TUF: old threshold of the old
 * members AND new threshold of the new ones), merging signatures, and what a store does when
 * it adopts a version: a newly admitted feed's entries, refused before, are accepted; a removed
 * domain's documents leave the catalog while its entries stay and verify; a compromised feed
 * is cut (entries and fork proofs beyond the cut gone, head back, later entries refused with
 * EREVOKED); a removed domain admitted again is current again — each time with the catalog
 * identical to a rebuild from the feeds.
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

#include "common.h"
#include "mycel/catalog.h"
#include "mycel/charter.h"
#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/store.h"

enum { ALICE, BOB, CAROL, DAVE, NMEMBERS };
static const char *const mnames[NMEMBERS] = {"alice", "bob", "carol", "dave"};
static mycel_key *mk[NMEMBERS];
enum { SALES, MKT, SALES2, OTHER, NFEEDS };
static mycel_key *fk[NFEEDS];

#define M(x) (1u << (x))

static int setup_all(void **state)
{
	(void)state;
	for (int i = 0; i < NMEMBERS; i++)
		if ((mk[i] = tc_seed_key((uint8_t)(0x31 + i))) == NULL)
			return -1;
	for (int i = 0; i < NFEEDS; i++)
		if ((fk[i] = tc_seed_key((uint8_t)(0x51 + i))) == NULL)
			return -1;
	return 0;
}

static int teardown_all(void **state)
{
	(void)state;
	for (int i = 0; i < NMEMBERS; i++)
		mycel_key_free(mk[i]);
	for (int i = 0; i < NFEEDS; i++)
		mycel_key_free(fk[i]);
	return 0;
}

/* Genesis: alice, bob, carol, 2 of 3, domain sales; unsigned. */
static mycel_charter *genesis(void)
{
	mycel_charter *c;
	assert_int_equal(mycel_charter_new("acme", 1, 2, &c), 0);
	for (int i = ALICE; i <= CAROL; i++)
		assert_int_equal(mycel_charter_add_member(c, mnames[i], mk[i]->pk), 0);
	assert_int_equal(mycel_charter_add_domain(c, "sales", fk[SALES]->pk), 0);
	return c;
}

static void sign_by(mycel_charter *c, unsigned who)
{
	char why[256] = "";
	for (int i = 0; i < NMEMBERS; i++)
		if (who & M(i))
			assert_int_equal(mycel_charter_sign(c, mk[i], why, sizeof(why)), 0);
}

/* The file of c, decoded again (so its bytes are fixed, as a received charter's). */
static mycel_charter *reread(const mycel_charter *c, mycel_buf *file)
{
	mycel_charter *d = NULL;
	char why[256] = "";
	mycel_buf_init(file, MYCEL_CHARTER_MAX);
	assert_int_equal(mycel_charter_encode(c, file), 0);
	int rv = mycel_charter_decode(file->data, file->len, &d, why, sizeof(why));
	if (rv != 0)
		fail_msg("decode: %s: %s", mycel_errname(rv), why);
	return d;
}

static int step(const mycel_charter *prev, const mycel_charter *next, char *why, size_t n)
{
	why[0] = '\0';
	int rv = mycel_charter_verify_next(prev, next, why, n);
	if (rv != 0)
		assert_true(why[0] != '\0');
	return rv;
}

/* ---- the compromised list: shape and strict decoding ---------------------------------- */

/*
 * A charter file whose map is genesis's (sales bound to `bound`) plus a `compromised` value
 * written by fn (nothing when fn is NULL), wrapped as [bin, []].
 */
typedef void (*comp_fn)(mycel_buf *b);

static void hand_file(const uint8_t *bound, comp_fn fn, mycel_buf *out)
{
	mycel_buf b;
	mycel_buf_init(&b, MYCEL_CHARTER_MAX);
	mycel_enc_map(&b, fn != NULL ? 8 : 7);
	if (fn != NULL) {
		mycel_enc_cstr(&b, "compromised");
		fn(&b);
	}
	mycel_enc_cstr(&b, "domains");
	mycel_enc_array(&b, 1);
	mycel_enc_map(&b, 2);
	mycel_enc_cstr(&b, "feed");
	mycel_enc_bin(&b, bound, MYCEL_PK_LEN);
	mycel_enc_cstr(&b, "name");
	mycel_enc_cstr(&b, "sales");
	mycel_enc_cstr(&b, "members");
	mycel_enc_array(&b, 1);
	mycel_enc_map(&b, 2);
	mycel_enc_cstr(&b, "key");
	mycel_enc_bin(&b, mk[ALICE]->pk, MYCEL_PK_LEN);
	mycel_enc_cstr(&b, "name");
	mycel_enc_cstr(&b, "alice");
	mycel_enc_cstr(&b, "mesh");
	mycel_enc_cstr(&b, "acme");
	mycel_enc_cstr(&b, "params");
	mycel_enc_map(&b, 0);
	mycel_enc_cstr(&b, "policies");
	mycel_enc_array(&b, 0);
	mycel_enc_cstr(&b, "threshold");
	mycel_enc_uint(&b, 1);
	mycel_enc_cstr(&b, "version");
	mycel_enc_uint(&b, 2);
	assert_int_equal(b.err, 0);
	mycel_buf_init(out, MYCEL_CHARTER_MAX);
	mycel_enc_array(out, 2);
	mycel_enc_bin(out, b.data, b.len);
	mycel_enc_array(out, 0);
	assert_int_equal(out->err, 0);
	mycel_buf_fini(&b);
}

static void cut_entry(mycel_buf *b, const uint8_t *feed, uint64_t seq, const uint8_t *succ)
{
	mycel_enc_map(b, 3);
	mycel_enc_cstr(b, "feed");
	mycel_enc_bin(b, feed, MYCEL_PK_LEN);
	mycel_enc_cstr(b, "seq");
	mycel_enc_uint(b, seq);
	mycel_enc_cstr(b, "successor");
	mycel_enc_bin(b, succ, MYCEL_PK_LEN);
}

static void c_valid(mycel_buf *b)
{
	mycel_enc_array(b, 1);
	cut_entry(b, fk[SALES]->pk, 7, fk[SALES2]->pk);
}
static void c_empty(mycel_buf *b)
{
	mycel_enc_array(b, 0);
}
static void c_map(mycel_buf *b)
{
	mycel_enc_map(b, 0);
}
static void c_twice(mycel_buf *b)
{
	mycel_enc_array(b, 2);
	cut_entry(b, fk[SALES]->pk, 7, fk[SALES2]->pk);
	cut_entry(b, fk[SALES]->pk, 7, fk[SALES2]->pk);
}
static void c_still_bound(mycel_buf *b)
{
	mycel_enc_array(b, 1);
	cut_entry(b, fk[SALES2]->pk, 7, fk[SALES2]->pk);
}
static void c_no_successor_domain(mycel_buf *b)
{
	mycel_enc_array(b, 1);
	cut_entry(b, fk[SALES]->pk, 7, fk[OTHER]->pk);
}
static void c_extra_key(mycel_buf *b)
{
	mycel_enc_array(b, 1);
	mycel_enc_map(b, 4);
	mycel_enc_cstr(b, "feed");
	mycel_enc_bin(b, fk[SALES]->pk, MYCEL_PK_LEN);
	mycel_enc_cstr(b, "reason");
	mycel_enc_cstr(b, "lost laptop");
	mycel_enc_cstr(b, "seq");
	mycel_enc_uint(b, 7);
	mycel_enc_cstr(b, "successor");
	mycel_enc_bin(b, fk[SALES2]->pk, MYCEL_PK_LEN);
}
static void c_seq_negative(mycel_buf *b)
{
	mycel_enc_array(b, 1);
	mycel_enc_map(b, 3);
	mycel_enc_cstr(b, "feed");
	mycel_enc_bin(b, fk[SALES]->pk, MYCEL_PK_LEN);
	mycel_enc_cstr(b, "seq");
	mycel_enc_int(b, -1);
	mycel_enc_cstr(b, "successor");
	mycel_enc_bin(b, fk[SALES2]->pk, MYCEL_PK_LEN);
}
static void c_short_feed(mycel_buf *b)
{
	mycel_enc_array(b, 1);
	mycel_enc_map(b, 3);
	mycel_enc_cstr(b, "feed");
	mycel_enc_bin(b, fk[SALES]->pk, 31);
	mycel_enc_cstr(b, "seq");
	mycel_enc_uint(b, 7);
	mycel_enc_cstr(b, "successor");
	mycel_enc_bin(b, fk[SALES2]->pk, MYCEL_PK_LEN);
}

static void test_decode_compromised(void **state)
{
	(void)state;
	struct {
		const char *what;
		comp_fn fn;
		int want;
		const char *why_has;
	} cases[] = {
	    {"valid", c_valid, 0, NULL},
	    {"empty list (absent when empty)", c_empty, MYCEL_ECHARTER, "/compromised: empty"},
	    {"not an array", c_map, MYCEL_ECHARTER, "/compromised: not an array"},
	    {"a feed twice", c_twice, MYCEL_ECHARTER, "/compromised/1/feed: listed twice"},
	    {"a feed still bound to a domain", c_still_bound, MYCEL_ECHARTER,
	     "/compromised/0/feed: still bound"},
	    {"a successor that is no domain's feed", c_no_successor_domain, MYCEL_ECHARTER,
	     "/compromised/0/successor"},
	    {"an unknown key", c_extra_key, MYCEL_ECHARTER, "unknown key \"reason\""},
	    {"a negative seq", c_seq_negative, MYCEL_ECHARTER, "/compromised/0/seq"},
	    {"a 31-byte feed", c_short_feed, MYCEL_ECHARTER, "/compromised/0/feed"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mycel_buf f;
		mycel_charter *c = NULL;
		char why[256] = "";
		hand_file(fk[SALES2]->pk, cases[i].fn, &f);
		int rv = mycel_charter_decode(f.data, f.len, &c, why, sizeof(why));
		if (rv != cases[i].want)
			fail_msg("%s: got %s (%s), want %s", cases[i].what, mycel_errname(rv), why,
			         mycel_errname(cases[i].want));
		if (cases[i].why_has != NULL && strstr(why, cases[i].why_has) == NULL)
			fail_msg("%s: the reason \"%s\" does not say \"%s\"", cases[i].what, why,
			         cases[i].why_has);
		if (rv == 0) {
			/* accessors, and the bytes re-encode identically (canonical) */
			assert_int_equal(mycel_charter_compromised_count(c), 1);
			const mycel_charter_cut *k = mycel_charter_compromised_at(c, 0);
			assert_memory_equal(k->feed, fk[SALES]->pk, MYCEL_PK_LEN);
			assert_int_equal(k->seq, 7);
			assert_memory_equal(k->successor, fk[SALES2]->pk, MYCEL_PK_LEN);
			assert_null(mycel_charter_compromised_at(c, 1));
			assert_ptr_equal(mycel_charter_find_compromised(c, fk[SALES]->pk), k);
			assert_null(mycel_charter_find_compromised(c, fk[SALES2]->pk));
			mycel_buf again;
			mycel_buf_init(&again, MYCEL_CHARTER_MAX);
			assert_int_equal(mycel_charter_encode(c, &again), 0);
			assert_int_equal(again.len, f.len);
			assert_memory_equal(again.data, f.data, f.len);
			mycel_buf_fini(&again);
			/* admission: up to the cut under the successor's domain, then EREVOKED */
			const mycel_charter_domain *d = NULL;
			assert_int_equal(mycel_charter_admits(c, fk[SALES]->pk, 7, &d), 0);
			assert_string_equal(d->name, "sales");
			assert_memory_equal(d->feed, fk[SALES2]->pk, MYCEL_PK_LEN);
			assert_int_equal(mycel_charter_admits(c, fk[SALES]->pk, 8, NULL),
			                 MYCEL_EREVOKED);
			assert_int_equal(mycel_charter_admits(c, fk[SALES2]->pk, 1000, NULL), 0);
			assert_int_equal(mycel_charter_admits(c, fk[OTHER]->pk, 1, NULL),
			                 MYCEL_EADMIT);
		}
		mycel_charter_free(c);
		mycel_buf_fini(&f);
	}
	/* Without the key the charter's bytes are what they always were (7 keys). */
	mycel_buf f;
	mycel_charter *c = NULL;
	hand_file(fk[SALES]->pk, NULL, &f);
	assert_int_equal(mycel_charter_decode(f.data, f.len, &c, NULL, 0), 0);
	assert_int_equal(mycel_charter_compromised_count(c), 0);
	mycel_charter_free(c);
	mycel_buf_fini(&f);
}

/* ---- the next version and its builders -------------------------------------------------- */

static void test_next_and_builders(void **state)
{
	(void)state;
	mycel_buf f1, f2, f3;
	char why[256];
	mycel_charter *g = genesis();
	assert_int_equal(mycel_charter_set_policy(g, "owner", "deny", "has(contract.owner)",
	                                          "every contract names an owner"),
	                 0);
	sign_by(g, M(ALICE) | M(BOB));
	mycel_charter *v1 = reread(g, &f1);

	mycel_charter *n = NULL;
	assert_int_equal(mycel_charter_next(v1, &n), 0);
	assert_int_equal(mycel_charter_version(n), 2);
	assert_int_equal(mycel_charter_sig_count(n), 0);
	assert_string_equal(mycel_charter_mesh(n), "acme");
	assert_int_equal(mycel_charter_threshold(n), 2);
	assert_int_equal(mycel_charter_member_count(n), 3);
	assert_int_equal(mycel_charter_domain_count(n), 1);
	assert_int_equal(mycel_charter_policies(n)->v.a.len, 1);
	/* a signed charter is no draft */
	assert_int_equal(mycel_charter_remove_domain(v1, "sales"), MYCEL_EBUSY);
	assert_int_equal(mycel_charter_set_threshold(v1, 1), MYCEL_EBUSY);
	/* unchanged but the version, the next version is not a valid step until it is signed */
	assert_int_equal(step(v1, n, why, sizeof(why)), MYCEL_ETHRESHOLD);

	/* builders: their refusals */
	assert_int_equal(mycel_charter_remove_domain(n, "nope"), MYCEL_ENOTFOUND);
	assert_int_equal(mycel_charter_remove_member(n, "nope"), MYCEL_ENOTFOUND);
	assert_int_equal(mycel_charter_remove_policy(n, "nope"), MYCEL_ENOTFOUND);
	assert_int_equal(mycel_charter_set_threshold(n, 0), MYCEL_EINVAL);
	assert_int_equal(mycel_charter_set_policy(n, "x", "block", "true", "m"), MYCEL_EINVAL);
	assert_int_equal(mycel_charter_compromise(n, "nope", 1, fk[SALES2]->pk), MYCEL_ENOTFOUND);
	assert_int_equal(mycel_charter_compromise(n, "sales", 1, fk[SALES]->pk), MYCEL_EEXIST);

	/* members, threshold, a domain, a policy replaced and one added */
	assert_int_equal(mycel_charter_add_member(n, "dave", mk[DAVE]->pk), 0);
	assert_int_equal(mycel_charter_remove_member(n, "carol"), 0);
	assert_int_equal(mycel_charter_set_threshold(n, 3), 0);
	assert_int_equal(mycel_charter_add_domain(n, "marketing", fk[MKT]->pk), 0);
	assert_int_equal(mycel_charter_set_policy(n, "owner", "warn", "has(contract.owner)",
	                                          "should name an owner"),
	                 0);
	assert_int_equal(
	    mycel_charter_set_policy(n, "tags", "deny", "size(contract.tags) > 0", "tagged"), 0);
	sign_by(n, M(ALICE) | M(BOB) | M(DAVE));
	mycel_charter *v2 = reread(n, &f2);
	assert_int_equal(step(v1, v2, why, sizeof(why)), 0);
	assert_int_equal(mycel_charter_member_count(v2), 3);
	assert_null(mycel_charter_find_member(v2, mk[CAROL]->pk));
	assert_non_null(mycel_charter_find_member(v2, mk[DAVE]->pk));
	const mycel_value *pol = mycel_charter_policies(v2);
	assert_int_equal(pol->v.a.len, 2);
	assert_string_equal(mycel_value_get(&pol->v.a.items[0], "severity")->v.s.ptr, "warn");
	assert_string_equal(mycel_value_get(&pol->v.a.items[1], "id")->v.s.ptr, "tags");

	/* v3: carol's signature (a member of neither) is refused; the policy removed */
	mycel_charter *n3 = NULL;
	assert_int_equal(mycel_charter_next(v2, &n3), 0);
	assert_int_equal(mycel_charter_remove_policy(n3, "owner"), 0);
	assert_int_equal(mycel_charter_policies(n3)->v.a.len, 1);
	sign_by(n3, M(ALICE) | M(BOB) | M(DAVE) | M(CAROL));
	mycel_charter *v3 = reread(n3, &f3);
	assert_int_equal(step(v2, v3, why, sizeof(why)), MYCEL_ECHARTER);
	assert_non_null(strstr(why, "not a member"));

	mycel_charter_free(v3);
	mycel_charter_free(n3);
	mycel_buf_fini(&f3);
	mycel_charter_free(v2);
	mycel_charter_free(n);
	mycel_buf_fini(&f2);
	mycel_charter_free(v1);
	mycel_charter_free(g);
	mycel_buf_fini(&f1);
}

/* TUF: the old threshold of the old members AND the new threshold of the new members. */
static void test_member_changes(void **state)
{
	(void)state;
	mycel_buf f1, f2;
	char why[256];
	mycel_charter *g = genesis();
	sign_by(g, M(ALICE) | M(BOB));
	mycel_charter *v1 = reread(g, &f1);
	struct {
		const char *what;
		const char *add; /* a member added (dave), or NULL */
		const char *rm;  /* a member removed, or NULL */
		uint32_t thr;
		unsigned signers;
		int want;
		const char *why_has;
	} cases[] = {
	    {"dave added, 3 of 4: alice bob dave", "dave", NULL, 3, M(ALICE) | M(BOB) | M(DAVE), 0,
	     NULL},
	    {"dave added, 3 of 4: only alice bob", "dave", NULL, 3, M(ALICE) | M(BOB),
	     MYCEL_ETHRESHOLD, "of its own members, threshold is 3"},
	    {"dave added: dave and alice (v1 needs 2 of its own)", "dave", NULL, 2,
	     M(ALICE) | M(DAVE), MYCEL_ETHRESHOLD, "of v1's members, threshold is 2"},
	    {"carol removed, 2 of 2: carol and alice sign", NULL, "carol", 2, M(ALICE) | M(CAROL),
	     MYCEL_ETHRESHOLD, "of its own members"},
	    {"carol removed, 2 of 2: alice bob sign", NULL, "carol", 2, M(ALICE) | M(BOB), 0, NULL},
	    {"carol removed, 1 of 2: carol alone", NULL, "carol", 1, M(CAROL), MYCEL_ETHRESHOLD,
	     "of v1's members"},
	    {"threshold 3 of 3 needs carol too", NULL, NULL, 3, M(ALICE) | M(BOB), MYCEL_ETHRESHOLD,
	     "threshold is 3"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mycel_charter *n = NULL;
		assert_int_equal(mycel_charter_next(v1, &n), 0);
		if (cases[i].add != NULL)
			assert_int_equal(mycel_charter_add_member(n, cases[i].add, mk[DAVE]->pk),
			                 0);
		if (cases[i].rm != NULL)
			assert_int_equal(mycel_charter_remove_member(n, cases[i].rm), 0);
		assert_int_equal(mycel_charter_set_threshold(n, cases[i].thr), 0);
		sign_by(n, cases[i].signers);
		mycel_charter *v2 = reread(n, &f2);
		int rv = step(v1, v2, why, sizeof(why));
		if (rv != cases[i].want)
			fail_msg("%s: got %s (%s), want %s", cases[i].what, mycel_errname(rv), why,
			         mycel_errname(cases[i].want));
		if (cases[i].why_has != NULL && strstr(why, cases[i].why_has) == NULL)
			fail_msg("%s: \"%s\" does not say \"%s\"", cases[i].what, why,
			         cases[i].why_has);
		mycel_charter_free(v2);
		mycel_charter_free(n);
		mycel_buf_fini(&f2);
	}
	/* a threshold above the members cannot be signed */
	mycel_charter *n = NULL;
	assert_int_equal(mycel_charter_next(v1, &n), 0);
	assert_int_equal(mycel_charter_set_threshold(n, 4), 0);
	assert_int_equal(mycel_charter_sign(n, mk[ALICE], why, sizeof(why)), MYCEL_ECHARTER);
	assert_non_null(strstr(why, "/threshold"));
	mycel_charter_free(n);
	mycel_charter_free(v1);
	mycel_charter_free(g);
	mycel_buf_fini(&f1);
}

/* The step rules for compromised feeds. */
static void test_compromise_rules(void **state)
{
	(void)state;
	mycel_buf f1, f2, f3, fg;
	char why[256];
	mycel_charter *g = genesis();
	sign_by(g, M(ALICE) | M(BOB));
	mycel_charter *v1 = reread(g, &f1);

	/* v2 declares sales compromised after seq 5; the domain now names SALES2 */
	mycel_charter *n2 = NULL;
	assert_int_equal(mycel_charter_next(v1, &n2), 0);
	assert_int_equal(mycel_charter_compromise(n2, "sales", 5, fk[SALES2]->pk), 0);
	assert_memory_equal(mycel_charter_find_domain(n2, "sales")->feed, fk[SALES2]->pk,
	                    MYCEL_PK_LEN);
	sign_by(n2, M(ALICE) | M(BOB));
	mycel_charter *v2 = reread(n2, &f2);
	assert_int_equal(step(v1, v2, why, sizeof(why)), 0);

	/* a genesis cannot declare compromised feeds */
	mycel_charter *gc = NULL;
	assert_int_equal(mycel_charter_new("acme", 1, 1, &gc), 0);
	assert_int_equal(mycel_charter_add_member(gc, "alice", mk[ALICE]->pk), 0);
	assert_int_equal(mycel_charter_add_domain(gc, "sales", fk[SALES]->pk), 0);
	assert_int_equal(mycel_charter_compromise(gc, "sales", 1, fk[SALES2]->pk), 0);
	sign_by(gc, M(ALICE));
	mycel_charter *g2 = reread(gc, &fg);
	assert_int_equal(mycel_charter_verify_genesis(g2, why, sizeof(why)), MYCEL_ECHARTER);
	assert_non_null(strstr(why, "genesis"));

	/* v3 from v2: the same compromise carried over is fine, the successor compromised too */
	mycel_charter *n3 = NULL;
	assert_int_equal(mycel_charter_next(v2, &n3), 0);
	assert_int_equal(mycel_charter_compromise(n3, "sales", 2, fk[OTHER]->pk), 0);
	/* both cuts now name the domain's feed: OTHER */
	assert_int_equal(mycel_charter_compromised_count(n3), 2);
	for (size_t i = 0; i < 2; i++)
		assert_memory_equal(mycel_charter_compromised_at(n3, i)->successor, fk[OTHER]->pk,
		                    MYCEL_PK_LEN);
	sign_by(n3, M(ALICE) | M(BOB));
	mycel_charter *v3 = reread(n3, &f3);
	assert_int_equal(step(v2, v3, why, sizeof(why)), 0);
	mycel_charter_free(v3);
	mycel_buf_fini(&f3);

	/* a cut that moves: v3 from v2 with SALES's seq 6 (built by hand from v2's pieces) */
	struct {
		const char *what;
		uint64_t seq;
		bool readmit;
		const char *why_has;
	} bad[] = {
	    {"the cut moves", 6, false, "a cut never moves"},
	    {"the compromised feed admitted again", 5, true, "declared compromised"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mycel_charter *c = NULL;
		assert_int_equal(mycel_charter_new("acme", 3, 2, &c), 0);
		for (int m = ALICE; m <= CAROL; m++)
			assert_int_equal(mycel_charter_add_member(c, mnames[m], mk[m]->pk), 0);
		assert_int_equal(mycel_charter_add_domain(c, "sales", fk[SALES]->pk), 0);
		if (bad[i].readmit) {
			/* sales bound to its compromised feed again, the cut dropped */
		} else {
			assert_int_equal(
			    mycel_charter_compromise(c, "sales", bad[i].seq, fk[SALES2]->pk), 0);
		}
		sign_by(c, M(ALICE) | M(BOB));
		mycel_charter *v = reread(c, &f3);
		assert_int_equal(step(v2, v, why, sizeof(why)), MYCEL_ECHARTER);
		if (strstr(why, bad[i].why_has) == NULL)
			fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].what, why,
			         bad[i].why_has);
		mycel_charter_free(v);
		mycel_charter_free(c);
		mycel_buf_fini(&f3);
	}
	/* compromising a feed v1 never bound: v2' with a cut of MKT (a domain only of v2') */
	mycel_charter *c = NULL;
	assert_int_equal(mycel_charter_next(v1, &c), 0);
	assert_int_equal(mycel_charter_add_domain(c, "marketing", fk[MKT]->pk), 0);
	assert_int_equal(mycel_charter_compromise(c, "marketing", 0, fk[OTHER]->pk), 0);
	sign_by(c, M(ALICE) | M(BOB));
	mycel_charter *v = reread(c, &f3);
	assert_int_equal(step(v1, v, why, sizeof(why)), MYCEL_ECHARTER);
	assert_non_null(strstr(why, "not bound to a domain in v1"));
	mycel_charter_free(v);
	mycel_charter_free(c);
	mycel_buf_fini(&f3);

	/* removing the successor's domain drops the cut too (the old feed is no longer admitted) */
	mycel_charter *r = NULL;
	assert_int_equal(mycel_charter_next(v2, &r), 0);
	assert_int_equal(mycel_charter_remove_domain(r, "sales"), 0);
	assert_int_equal(mycel_charter_compromised_count(r), 0);
	assert_int_equal(mycel_charter_admits(r, fk[SALES]->pk, 1, NULL), MYCEL_EADMIT);
	mycel_charter_free(r);

	mycel_charter_free(n3);
	mycel_charter_free(g2);
	mycel_charter_free(gc);
	mycel_buf_fini(&fg);
	mycel_charter_free(v2);
	mycel_charter_free(n2);
	mycel_buf_fini(&f2);
	mycel_charter_free(v1);
	mycel_charter_free(g);
	mycel_buf_fini(&f1);
}

/* Members sign copies of one version on their own machines; the signatures merge. */
static void test_merge(void **state)
{
	(void)state;
	mycel_buf f1, fa, fb, fx;
	char why[256];
	mycel_charter *g = genesis();
	sign_by(g, M(ALICE) | M(BOB));
	mycel_charter *v1 = reread(g, &f1);
	mycel_charter *n = NULL;
	assert_int_equal(mycel_charter_next(v1, &n), 0);
	assert_int_equal(mycel_charter_add_domain(n, "marketing", fk[MKT]->pk), 0);
	mycel_charter *draft = reread(n, &fa); /* the file sent to every member */
	mycel_buf_fini(&fa);

	mycel_buf d;
	mycel_buf_init(&d, MYCEL_CHARTER_MAX);
	assert_int_equal(mycel_charter_encode(draft, &d), 0);
	mycel_charter *ca = NULL, *cb = NULL;
	assert_int_equal(mycel_charter_decode(d.data, d.len, &ca, NULL, 0), 0);
	assert_int_equal(mycel_charter_decode(d.data, d.len, &cb, NULL, 0), 0);
	sign_by(ca, M(CAROL)); /* carol signs her copy */
	sign_by(cb, M(BOB));   /* bob his */
	assert_int_equal(step(v1, ca, why, sizeof(why)), MYCEL_ETHRESHOLD);
	assert_int_equal(mycel_charter_merge(ca, cb, why, sizeof(why)), 0);
	assert_int_equal(mycel_charter_sig_count(ca), 2);
	for (size_t i = 0; i < 2; i++)
		assert_true(mycel_charter_sig_valid(ca, i));
	/* sorted by key, as the file format wants: the merged file decodes */
	mycel_charter *m = reread(ca, &fb);
	assert_int_equal(step(v1, m, why, sizeof(why)), 0);
	/* merging again changes nothing */
	assert_int_equal(mycel_charter_merge(m, cb, why, sizeof(why)), 0);
	assert_int_equal(mycel_charter_sig_count(m), 2);

	/* a copy of another charter: refused, dst unchanged */
	mycel_charter *o = NULL;
	assert_int_equal(mycel_charter_next(v1, &o), 0);
	assert_int_equal(mycel_charter_add_domain(o, "marketing", fk[OTHER]->pk), 0);
	sign_by(o, M(ALICE));
	mycel_charter *ox = reread(o, &fx);
	assert_int_equal(mycel_charter_merge(m, ox, why, sizeof(why)), MYCEL_ECHARTER);
	assert_non_null(strstr(why, "not the same charter"));
	assert_int_equal(mycel_charter_sig_count(m), 2);
	/* a signature that does not verify is seen as such */
	mycel_buf t;
	mycel_buf_init(&t, MYCEL_CHARTER_MAX);
	assert_int_equal(mycel_charter_encode(m, &t), 0);
	t.data[t.len - 1] ^= 1;
	mycel_charter *bad = NULL;
	assert_int_equal(mycel_charter_decode(t.data, t.len, &bad, NULL, 0), 0);
	assert_false(mycel_charter_sig_valid(bad, 1));
	assert_true(mycel_charter_sig_valid(bad, 0));
	assert_false(mycel_charter_sig_valid(bad, 2));
	mycel_charter_free(bad);
	mycel_buf_fini(&t);

	mycel_charter_free(ox);
	mycel_charter_free(o);
	mycel_buf_fini(&fx);
	mycel_charter_free(m);
	mycel_buf_fini(&fb);
	mycel_charter_free(ca);
	mycel_charter_free(cb);
	mycel_buf_fini(&d);
	mycel_charter_free(draft);
	mycel_charter_free(n);
	mycel_charter_free(v1);
	mycel_charter_free(g);
	mycel_buf_fini(&f1);
}

/* ---- a store adopting versions ----------------------------------------------------------- */

/* Every row of the derived tables, hashed in order. */
static int dump_row(void *ctx, const char *table, const void *k, size_t kn, const void *v,
                    size_t vn)
{
	crypto_generichash_state *st = ctx;
	uint64_t len[2] = {kn, vn};
	crypto_generichash_update(st, (const uint8_t *)table, strlen(table) + 1);
	crypto_generichash_update(st, (const uint8_t *)len, sizeof(len));
	crypto_generichash_update(st, k, kn);
	crypto_generichash_update(st, v, vn);
	return 0;
}

static void catalog_digest(mycel_store *s, uint8_t out[32])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	assert_int_equal(mycel_catalog_dump(s, dump_row, &st), 0);
	crypto_generichash_final(&st, out, 32);
}

/* The catalog after the incremental path equals a rebuild from the feeds (DESIGN §3). */
static void assert_same_as_reindex(mycel_store *s)
{
	uint8_t before[32], after[32];
	catalog_digest(s, before);
	assert_int_equal(mycel_store_reindex(s), 0);
	catalog_digest(s, after);
	assert_memory_equal(before, after, 32);
}

static size_t verify_problems(mycel_store *s)
{
	mycel_verify_stats st;
	assert_int_equal(mycel_store_verify(s, NULL, NULL, &st), 0);
	return st.problems;
}

static void add_charter(mycel_store *s, const mycel_buf *f, int want)
{
	char why[512] = "";
	int rv = mycel_store_add_charter(s, f->data, f->len, why, sizeof(why));
	if (rv != want)
		fail_msg("add_charter: got %s (%s), want %s", mycel_errname(rv), why,
		         mycel_errname(want));
}

/* The raw entries (and bodies) of feed in s from seq from on. */
typedef struct held {
	uint8_t entry[8][MYCEL_ENTRY_MAX];
	size_t entry_len[8];
	uint8_t *body[8];
	size_t body_len[8];
	size_t n;
} held;

static int hold_fn(void *ctx, const mycel_entry *e, const uint8_t *body, size_t body_len)
{
	held *h = ctx;
	assert_true(h->n < 8);
	memcpy(h->entry[h->n], e->raw, e->len);
	h->entry_len[h->n] = e->len;
	h->body[h->n] = malloc(body_len);
	assert_non_null(h->body[h->n]);
	memcpy(h->body[h->n], body, body_len);
	h->body_len[h->n] = body_len;
	h->n++;
	return 0;
}

static void hold(mycel_store *s, const uint8_t *feed, uint64_t from, held *h)
{
	memset(h, 0, sizeof(*h));
	assert_int_equal(mycel_store_scan(s, feed, from, hold_fn, h), 0);
}

static void unhold(held *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->body[i]);
}

static int ingest(mycel_store *s, const held *h, size_t i)
{
	mycel_blob b = {h->entry[i], h->entry_len[i], h->body[i], h->body_len[i]};
	mycel_ingest_result r;
	return mycel_store_ingest(s, &b, 1, &r);
}

static size_t search_count(mycel_store *s, const char *domain)
{
	mycel_search_query q;
	mycel_search_result res;
	memset(&q, 0, sizeof(q));
	q.domain = domain;
	q.status = MYCEL_STATUS_ANY;
	assert_int_equal(mycel_catalog_search(s, &q, &res), 0);
	size_t n = res.total;
	mycel_search_result_fini(&res);
	return n;
}

static void test_store_adopts(void **state)
{
	(void)state;
	char da[256], db[256];
	mycel_buf f1, f2, f3, f4;
	tc_tmpdir("evolve-a", da, sizeof(da));
	tc_tmpdir("evolve-b", db, sizeof(db));

	/* v1: sales; v2: + marketing; v3: - marketing; v4: sales compromised after seq 2 */
	mycel_charter *g = genesis();
	sign_by(g, M(ALICE) | M(BOB));
	mycel_charter *v1 = reread(g, &f1);
	mycel_charter *n2 = NULL, *n3 = NULL, *n4 = NULL;
	assert_int_equal(mycel_charter_next(v1, &n2), 0);
	assert_int_equal(mycel_charter_add_domain(n2, "marketing", fk[MKT]->pk), 0);
	sign_by(n2, M(ALICE) | M(CAROL));
	mycel_charter *v2 = reread(n2, &f2);
	assert_int_equal(mycel_charter_next(v2, &n3), 0);
	assert_int_equal(mycel_charter_remove_domain(n3, "marketing"), 0);
	sign_by(n3, M(BOB) | M(CAROL));
	mycel_charter *v3 = reread(n3, &f3);
	assert_int_equal(mycel_charter_next(v3, &n4), 0);
	assert_int_equal(mycel_charter_compromise(n4, "sales", 2, fk[SALES2]->pk), 0);
	sign_by(n4, M(ALICE) | M(BOB));
	mycel_charter *v4 = reread(n4, &f4);

	mycel_store *a = tc_store_new(da, f1.data, f1.len); /* the node under test */
	mycel_store *b = tc_store_new(db, f1.data, f1.len); /* marketing's own store */
	add_charter(b, &f2, 0);
	tc_put_contract(a, fk[SALES], "orders", "1.0.0", "Orders", "every order");
	tc_put_contract(a, fk[SALES], "orders", "1.1.0", "Orders", "every order, with lines");
	tc_put_contract(a, fk[SALES], "orders", "2.0.0", "Orders", "every order, v2");
	tc_put_contract(b, fk[MKT], "campaigns", "1.0.0", "Campaigns", "the calendar");
	held mkt, sales;
	hold(b, fk[MKT]->pk, 1, &mkt);
	hold(a, fk[SALES]->pk, 1, &sales);
	assert_int_equal(sales.n, 3);

	/* v1: marketing's entry is refused (not admitted), nothing stored */
	assert_int_equal(ingest(a, &mkt, 0), MYCEL_EADMIT);
	assert_int_equal(search_count(a, "marketing"), 0);
	/* a version that does not verify changes nothing: v3 cannot follow v1 */
	add_charter(a, &f3, MYCEL_ECHARTER);
	assert_int_equal(mycel_charter_version(mycel_store_charter(a)), 1);

	/* v2 adopted: the same entry is now accepted and enters the catalog */
	add_charter(a, &f2, 0);
	assert_int_equal(ingest(a, &mkt, 0), 0);
	assert_int_equal(search_count(a, "marketing"), 1);
	assert_int_equal(verify_problems(a), 0);
	assert_same_as_reindex(a);

	/* v3 removes marketing: its document leaves the catalog, its entry stays and verifies */
	add_charter(a, &f3, 0);
	assert_int_equal(search_count(a, "marketing"), 0);
	mycel_catalog_doc doc;
	memset(&doc, 0, sizeof(doc));
	assert_int_equal(mycel_catalog_get(a, "marketing", "campaigns", NULL, &doc),
	                 MYCEL_ENOTFOUND);
	uint64_t removed = 0, hseq = 0;
	uint8_t hid[MYCEL_HASH_LEN];
	assert_int_equal(mycel_store_domain_removed(a, "marketing", &removed), 0);
	assert_int_equal(removed, 3);
	assert_int_equal(mycel_store_domain_removed(a, "sales", &removed), MYCEL_ENOTFOUND);
	assert_int_equal(mycel_store_domain_removed(a, "never", &removed), MYCEL_ENOTFOUND);
	assert_int_equal(mycel_store_head(a, fk[MKT]->pk, &hseq, hid), 0);
	assert_int_equal(hseq, 1);
	assert_int_equal(verify_problems(a), 0);
	assert_same_as_reindex(a);
	/* and its later entries are refused */
	tc_put_contract(b, fk[MKT], "campaigns", "1.1.0", "Campaigns", "the calendar, v1.1");
	held mkt2;
	hold(b, fk[MKT]->pk, 2, &mkt2);
	assert_int_equal(ingest(a, &mkt2, 0), MYCEL_EADMIT);

	/* a fork of sales at seq 3, stored before the compromise is declared */
	mycel_header hd;
	mycel_entry e2, fork3;
	assert_int_equal(mycel_entry_decode(sales.entry[1], sales.entry_len[1], &e2), 0);
	memset(&hd, 0, sizeof(hd));
	memcpy(hd.feed, fk[SALES]->pk, MYCEL_PK_LEN);
	hd.seq = 3;
	hd.has_prev = true;
	memcpy(hd.prev, e2.id, MYCEL_HASH_LEN);
	hd.ts_ms = e2.h.ts_ms + 1;
	snprintf(hd.kind, sizeof(hd.kind), "contract");
	mycel_body_hash(sales.body[0], sales.body_len[0], hd.body_hash);
	assert_int_equal(mycel_entry_sign(&hd, fk[SALES], &fork3), 0);
	mycel_blob fb = {fork3.raw, fork3.len, sales.body[0], sales.body_len[0]};
	mycel_ingest_result r;
	assert_int_equal(mycel_store_ingest(a, &fb, 1, &r), MYCEL_EFORK);
	size_t forks = 0;
	assert_int_equal(mycel_store_fork_count(a, &forks), 0);
	assert_int_equal(forks, 1);

	/* v4: sales compromised after seq 2, successor SALES2 */
	add_charter(a, &f4, 0);
	assert_int_equal(mycel_store_head(a, fk[SALES]->pk, &hseq, hid), 0);
	assert_int_equal(hseq, 2);
	mycel_entry got;
	assert_int_equal(mycel_store_get(a, fk[SALES]->pk, 3, &got), MYCEL_ENOTFOUND);
	assert_int_equal(mycel_store_fork_count(a, &forks), 0);
	assert_int_equal(forks, 0); /* the proof beyond the cut went with it */
	/* the document is current at its last version up to the cut */
	memset(&doc, 0, sizeof(doc));
	assert_int_equal(mycel_catalog_get(a, "sales", "orders", NULL, &doc), 0);
	assert_int_equal(doc.n_versions, 2);
	assert_string_equal(doc.versions[doc.current].version, "1.1.0");
	mycel_catalog_doc_fini(&doc);
	/* beyond the cut: refused, whether it was held before or is a fork */
	assert_int_equal(ingest(a, &sales, 2), MYCEL_EREVOKED);
	assert_int_equal(mycel_store_ingest(a, &fb, 1, &r), MYCEL_EREVOKED);
	assert_int_equal(mycel_store_fork_count(a, &forks), 0);
	assert_int_equal(forks, 0);
	/* up to the cut: still held, duplicates are fine */
	assert_int_equal(ingest(a, &sales, 1), 0);
	/* the compromised key publishes nothing more; the successor does, as sales */
	mycel_buf body;
	mycel_buf_init(&body, 64);
	mycel_enc_map(&body, 0);
	mycel_record rec = {"domain", body.data, body.len};
	assert_int_equal(mycel_store_append(a, fk[SALES], fk[SALES]->pk, &rec, 1, NULL),
	                 MYCEL_EREVOKED);
	mycel_buf_fini(&body);
	tc_put_contract(a, fk[SALES2], "orders", "3.0.0", "Orders", "every order, v3");
	memset(&doc, 0, sizeof(doc));
	assert_int_equal(mycel_catalog_get(a, "sales", "orders", NULL, &doc), 0);
	assert_int_equal(doc.n_versions, 3);
	assert_string_equal(doc.versions[doc.current].version, "3.0.0");
	mycel_catalog_doc_fini(&doc);
	assert_int_equal(verify_problems(a), 0);
	assert_same_as_reindex(a);

	/* v5 admits marketing again (same feed): its document is current again, its entries flow */
	mycel_buf f5;
	mycel_charter *n5 = NULL;
	assert_int_equal(mycel_charter_next(v4, &n5), 0);
	assert_int_equal(mycel_charter_add_domain(n5, "marketing", fk[MKT]->pk), 0);
	sign_by(n5, M(BOB) | M(CAROL));
	mycel_charter *v5 = reread(n5, &f5);
	add_charter(a, &f5, 0);
	assert_int_equal(search_count(a, "marketing"), 1);
	assert_int_equal(mycel_store_domain_removed(a, "marketing", &removed), MYCEL_ENOTFOUND);
	assert_int_equal(ingest(a, &mkt2, 0), 0);
	memset(&doc, 0, sizeof(doc));
	assert_int_equal(mycel_catalog_get(a, "marketing", "campaigns", NULL, &doc), 0);
	assert_string_equal(doc.versions[doc.current].version, "1.1.0");
	mycel_catalog_doc_fini(&doc);
	assert_int_equal(verify_problems(a), 0);
	assert_same_as_reindex(a);
	mycel_charter_free(v5);
	mycel_charter_free(n5);
	mycel_buf_fini(&f5);

	/* the store reopened: the same charter, cut and catalog */
	mycel_store_close(a);
	char why[256] = "";
	assert_int_equal(mycel_store_open(da, 0, &a, why, sizeof(why)), 0);
	assert_int_equal(mycel_charter_version(mycel_store_charter(a)), 5);
	assert_int_equal(ingest(a, &sales, 2), MYCEL_EREVOKED);
	assert_int_equal(verify_problems(a), 0);
	assert_same_as_reindex(a);

	unhold(&mkt2);
	unhold(&mkt);
	unhold(&sales);
	mycel_store_close(b);
	mycel_store_close(a);
	mycel_charter_free(v4);
	mycel_charter_free(n4);
	mycel_charter_free(v3);
	mycel_charter_free(n3);
	mycel_charter_free(v2);
	mycel_charter_free(n2);
	mycel_charter_free(v1);
	mycel_charter_free(g);
	mycel_buf_fini(&f4);
	mycel_buf_fini(&f3);
	mycel_buf_fini(&f2);
	mycel_buf_fini(&f1);
	assert_int_equal(tc_rm_rf(da), 0);
	assert_int_equal(tc_rm_rf(db), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_compromised),
	    cmocka_unit_test(test_next_and_builders),
	    cmocka_unit_test(test_member_changes),
	    cmocka_unit_test(test_compromise_rules),
	    cmocka_unit_test(test_merge),
	    cmocka_unit_test(test_store_adopts),
	};
	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
