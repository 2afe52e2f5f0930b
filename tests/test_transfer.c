/*
 * test_transfer.c — product transfers (PROTOCOL.md §5.5, include/mycel/transfer.h): the
 * offer and acceptance and every refusal of the publisher (accept without an offer, by a
 * third domain, an offer of a product one does not own, a double accept, the giver
 * publishing after the transfer); that the catalog's view does not depend on the order the
 * two feeds arrive in, and that reindex rebuilds it byte for byte; that malformed transfer
 * entries and acceptances by other domains change nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/catalog.h"
#include "mycel/codec.h"
#include "mycel/error.h"
#include "mycel/publish.h"
#include "mycel/store.h"
#include "mycel/transfer.h"

#include "common.h"

typedef struct fixture {
	char dir[64];
	mycel_key *gov, *sales, *cust, *fin;
	mycel_buf charter;
	mycel_store *ss, *sc, *sf; /* the stores of sales, customers and finance */
	int n_extra;
} fixture;

static mycel_store *store_at(fixture *f, const char *name)
{
	char d[128];
	snprintf(d, sizeof(d), "%s/%s", f->dir, name);
	return tc_store_new(d, f->charter.data, f->charter.len);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	static const char *const names[] = {"sales", "customers", "finance"};
	assert_non_null(f);
	tc_tmpdir("test-transfer", f->dir, sizeof(f->dir));
	f->gov = tc_seed_key(0x01);
	f->sales = tc_seed_key(0x51);
	f->cust = tc_seed_key(0xc1);
	f->fin = tc_seed_key(0xf1);
	const mycel_key *const keys[] = {f->sales, f->cust, f->fin};
	tc_genesis("acme", f->gov, names, keys, 3, &f->charter, NULL);
	f->ss = store_at(f, "sales");
	f->sc = store_at(f, "customers");
	f->sf = store_at(f, "finance");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	mycel_store_close(f->ss);
	mycel_store_close(f->sc);
	mycel_store_close(f->sf);
	(void)tc_rm_rf(f->dir);
	mycel_buf_fini(&f->charter);
	mycel_key_free(f->gov);
	mycel_key_free(f->sales);
	mycel_key_free(f->cust);
	mycel_key_free(f->fin);
	free(f);
	return 0;
}

/* Appends a product {id, name, version} to k's feed in s. */
static void put_product(mycel_store *s, const mycel_key *k, const char *id, const char *version)
{
	mycel_buf b;
	mycel_buf_init(&b, 1 << 16);
	mycel_enc_map(&b, 3);
	mycel_enc_cstr(&b, "id");
	mycel_enc_cstr(&b, id);
	mycel_enc_cstr(&b, "name");
	mycel_enc_cstr(&b, "A product");
	mycel_enc_cstr(&b, "version");
	mycel_enc_cstr(&b, version);
	assert_int_equal(b.err, 0);
	mycel_record r = {"product", b.data, b.len};
	assert_int_equal(mycel_store_append(s, k, k->pk, &r, 1, NULL), 0);
	mycel_buf_fini(&b);
}

/* Appends a raw transfer entry with body b to k's feed in s (what a faulty node could sign). */
static void put_raw(mycel_store *s, const mycel_key *k, const mycel_buf *b, mycel_entry *out)
{
	mycel_record r = {"transfer", b->data, b->len};
	assert_int_equal(mycel_store_append(s, k, k->pk, &r, 1, out), 0);
}

/* Copies into dst what src holds (verified ingest). */
static void copy(mycel_store *dst, mycel_store *src)
{
	mycel_pull_stats st;
	char why[256] = "";
	int rv = mycel_store_pull(dst, src, &st, why, sizeof(why));
	if (rv != 0)
		fail_msg("pull: %s: %s", mycel_errname(rv), why);
}

static mycel_transfer_info info(mycel_store *s, const char *domain, const char *id)
{
	mycel_transfer_info t;
	assert_int_equal(mycel_catalog_transfer(s, domain, id, &t), 0);
	return t;
}

static void test_offer_accept(void **state)
{
	fixture *f = *state;
	char why[512];
	mycel_entry offer, acc;

	put_product(f->ss, f->sales, "perf", "1.0.0");
	tc_put_contract(f->ss, f->sales, "orders", "1.0.0", "Orders", NULL);
	/* refusals of the offer: nothing written */
	assert_int_equal(
	    mycel_transfer_offer(f->ss, f->sales, "sales", "perf", "sales", NULL, why, sizeof(why)),
	    MYCEL_EINVAL);
	assert_int_equal(mycel_transfer_offer(f->ss, f->sales, "sales", "perf", "nobody", NULL, why,
	                                      sizeof(why)),
	                 MYCEL_EINVAL);
	assert_non_null(strstr(why, "admits no domain nobody"));
	assert_int_equal(mycel_transfer_offer(f->ss, f->sales, "sales", "orders", "customers", NULL,
	                                      why, sizeof(why)),
	                 MYCEL_EINVAL);
	assert_non_null(strstr(why, "contract"));
	assert_int_equal(mycel_transfer_offer(f->ss, f->sales, "sales", "nope", "customers", NULL,
	                                      why, sizeof(why)),
	                 MYCEL_ENOTFOUND);
	assert_non_null(strstr(why, "not a product of sales"));
	/* the wrong key (customers' key on sales' feed) */
	assert_int_equal(mycel_transfer_offer(f->ss, f->cust, "sales", "perf", "customers", NULL,
	                                      why, sizeof(why)),
	                 MYCEL_EPERM);
	uint64_t head = 0;
	uint8_t id[MYCEL_HASH_LEN];
	assert_int_equal(mycel_store_head(f->ss, f->sales->pk, &head, id), 0);
	assert_int_equal(head, 2);

	assert_int_equal(mycel_transfer_offer(f->ss, f->sales, "sales", "perf", "customers", &offer,
	                                      why, sizeof(why)),
	                 0);
	assert_string_equal(offer.h.kind, "transfer");
	mycel_transfer_info t = info(f->ss, "sales", "perf");
	assert_false(t.transferred);
	assert_true(t.pending);
	assert_string_equal(t.pending_to, "customers");
	assert_int_equal(t.pending_seq, 3);
	assert_int_equal(mycel_transfer_offer(f->ss, f->sales, "sales", "perf", "customers", NULL,
	                                      why, sizeof(why)),
	                 MYCEL_EEXIST);

	/* accept without the offer held: refused */
	assert_int_equal(mycel_transfer_accept(f->sc, f->cust, "customers", "sales", "perf", NULL,
	                                       why, sizeof(why)),
	                 MYCEL_ENOTFOUND);
	assert_non_null(strstr(why, "pull sales's feed first"));
	copy(f->sc, f->ss);
	copy(f->sf, f->ss);
	/* by a third domain: refused */
	assert_int_equal(mycel_transfer_accept(f->sf, f->fin, "finance", "sales", "perf", NULL, why,
	                                       sizeof(why)),
	                 MYCEL_ENOTFOUND);
	assert_non_null(strstr(why, "offered to customers, not to finance"));
	/* of one's own product */
	assert_int_equal(mycel_transfer_accept(f->ss, f->sales, "sales", "sales", "perf", NULL, why,
	                                       sizeof(why)),
	                 MYCEL_EINVAL);
	assert_int_equal(mycel_transfer_accept(f->sc, f->cust, "customers", "sales", "perf", &acc,
	                                       why, sizeof(why)),
	                 0);
	/* twice */
	assert_int_equal(mycel_transfer_accept(f->sc, f->cust, "customers", "sales", "perf", NULL,
	                                       why, sizeof(why)),
	                 MYCEL_EEXIST);

	t = info(f->sc, "sales", "perf");
	assert_true(t.transferred);
	assert_string_equal(t.to, "customers");
	assert_int_equal(t.offer_seq, offer.h.seq);
	assert_int_equal(t.accept_seq, acc.h.seq);
	assert_memory_equal(t.offer_id, offer.id, MYCEL_HASH_LEN);
	t = info(f->sc, "customers", "perf");
	assert_true(t.received);
	assert_string_equal(t.from, "sales");

	/* the giver learns it: it may no longer offer it again or change its statuses */
	copy(f->ss, f->sc);
	assert_true(info(f->ss, "sales", "perf").transferred);
	assert_int_equal(mycel_transfer_offer(f->ss, f->sales, "sales", "perf", "finance", NULL,
	                                      why, sizeof(why)),
	                 MYCEL_EPERM);
	assert_non_null(strstr(why, "was transferred to customers"));
	assert_int_equal(mycel_publish_lifecycle(f->ss, f->sales, "sales", "perf", "1.0.0",
	                                         MYCEL_STATUS_DEPRECATED, "no", NULL, why,
	                                         sizeof(why)),
	                 MYCEL_EPERM);
	assert_non_null(strstr(why, "transferred to customers"));
	/* the receiver owns it: it may hand it on */
	assert_int_equal(mycel_transfer_offer(f->sc, f->cust, "customers", "perf", "finance", NULL,
	                                      why, sizeof(why)),
	                 0);
	/* history stays verifiable everywhere */
	mycel_verify_stats st;
	assert_int_equal(mycel_store_verify(f->ss, NULL, NULL, &st), 0);
	assert_int_equal(st.problems, 0);
	assert_int_equal(mycel_store_verify(f->sc, NULL, NULL, &st), 0);
	assert_int_equal(st.problems, 0);
}

/* Collects a catalog dump into a buffer, to compare two catalogs byte for byte. */
static int dump_cb(void *ctx, const char *table, const void *k, size_t kn, const void *v, size_t vn)
{
	mycel_buf *b = ctx;
	mycel_buf_put(b, table, strlen(table) + 1);
	mycel_enc_bin(b, k, kn);
	mycel_enc_bin(b, v, vn);
	return b->err;
}

static void dump(mycel_store *s, mycel_buf *b)
{
	mycel_buf_init(b, 1u << 26);
	assert_int_equal(mycel_catalog_dump(s, dump_cb, b), 0);
	assert_int_equal(b->err, 0);
}

static void test_order_independent(void **state)
{
	fixture *f = *state;
	char why[512];
	mycel_entry offer;
	put_product(f->ss, f->sales, "perf", "1.0.0");
	assert_int_equal(mycel_transfer_offer(f->ss, f->sales, "sales", "perf", "customers", &offer,
	                                      why, sizeof(why)),
	                 0);
	copy(f->sc, f->ss);
	assert_int_equal(mycel_transfer_accept(f->sc, f->cust, "customers", "sales", "perf", NULL,
	                                       why, sizeof(why)),
	                 0);
	put_product(f->sc, f->cust, "perf", "1.1.0");

	/* one observer gets sales' feed first, the other customers' first */
	mycel_store *a = store_at(f, "obs-a"), *b = store_at(f, "obs-b");
	copy(a, f->ss); /* the offer */
	assert_true(info(a, "sales", "perf").pending);
	copy(a, f->sc);
	/* b: the acceptance first (a pull of sc carries both feeds: take only customers') */
	{
		/* customers' feed alone, re-ingested from sc */
		uint64_t head = 0;
		uint8_t id[MYCEL_HASH_LEN];
		assert_int_equal(mycel_store_head(f->sc, f->cust->pk, &head, id), 0);
		for (uint64_t q = 1; q <= head; q++) {
			mycel_entry e;
			uint8_t *body = NULL;
			size_t bl = 0;
			assert_int_equal(mycel_store_get(f->sc, f->cust->pk, q, &e), 0);
			assert_int_equal(mycel_store_get_body(f->sc, f->cust->pk, q, &body, &bl),
			                 0);
			mycel_blob one = {e.raw, e.len, body, bl};
			mycel_ingest_result r;
			assert_int_equal(mycel_store_ingest(b, &one, 1, &r), 0);
			free(body);
		}
	}
	mycel_transfer_info t = info(b, "sales", "perf");
	assert_false(t.transferred); /* the offer is not held yet */
	assert_false(info(b, "customers", "perf").received);
	copy(b, f->ss);
	t = info(b, "sales", "perf");
	assert_true(t.transferred);
	assert_string_equal(t.to, "customers");
	assert_true(info(b, "customers", "perf").received);

	mycel_buf da, db, dr;
	dump(a, &da);
	dump(b, &db);
	assert_int_equal(da.len, db.len);
	assert_memory_equal(da.data, db.data, da.len);
	assert_int_equal(mycel_store_reindex(b), 0);
	dump(b, &dr);
	assert_int_equal(dr.len, da.len);
	assert_memory_equal(dr.data, da.data, da.len);
	mycel_buf_fini(&da);
	mycel_buf_fini(&db);
	mycel_buf_fini(&dr);
	mycel_store_close(a);
	mycel_store_close(b);
}

static void test_raw_entries(void **state)
{
	fixture *f = *state;
	char why[512];
	mycel_entry offer, e;
	mycel_buf b;
	put_product(f->ss, f->sales, "perf", "1.0.0");
	assert_int_equal(mycel_transfer_offer(f->ss, f->sales, "sales", "perf", "customers", &offer,
	                                      why, sizeof(why)),
	                 0);
	/* finance signs an acceptance of the offer made to customers: it counts for nothing */
	mycel_buf_init(&b, 4096);
	mycel_enc_map(&b, 5);
	mycel_enc_cstr(&b, "action");
	mycel_enc_cstr(&b, "accept");
	mycel_enc_cstr(&b, "from");
	mycel_enc_cstr(&b, "sales");
	mycel_enc_cstr(&b, "id");
	mycel_enc_cstr(&b, "perf");
	mycel_enc_cstr(&b, "offer");
	mycel_enc_bin(&b, offer.id, MYCEL_HASH_LEN);
	mycel_enc_cstr(&b, "seq");
	mycel_enc_uint(&b, offer.h.seq);
	copy(f->sf, f->ss);
	put_raw(f->sf, f->fin, &b, &e);
	assert_false(info(f->sf, "sales", "perf").transferred);
	assert_false(info(f->sf, "finance", "perf").received);
	/* customers' acceptance with a wrong id does not count either; twice, the lowest seq */
	copy(f->sc, f->ss);
	mycel_buf bad;
	mycel_buf_init(&bad, 4096);
	mycel_enc_map(&bad, 5);
	mycel_enc_cstr(&bad, "action");
	mycel_enc_cstr(&bad, "accept");
	mycel_enc_cstr(&bad, "from");
	mycel_enc_cstr(&bad, "sales");
	mycel_enc_cstr(&bad, "id");
	mycel_enc_cstr(&bad, "other");
	mycel_enc_cstr(&bad, "offer");
	mycel_enc_bin(&bad, offer.id, MYCEL_HASH_LEN);
	mycel_enc_cstr(&bad, "seq");
	mycel_enc_uint(&bad, offer.h.seq);
	put_raw(f->sc, f->cust, &bad, NULL);
	assert_false(info(f->sc, "sales", "perf").transferred);
	mycel_buf_fini(&bad);
	/* malformed offers (a contract kind, an extra key) are no offers */
	mycel_buf_init(&bad, 4096);
	mycel_enc_map(&bad, 4);
	mycel_enc_cstr(&bad, "action");
	mycel_enc_cstr(&bad, "offer");
	mycel_enc_cstr(&bad, "id");
	mycel_enc_cstr(&bad, "other");
	mycel_enc_cstr(&bad, "kind");
	mycel_enc_cstr(&bad, "contract");
	mycel_enc_cstr(&bad, "to");
	mycel_enc_cstr(&bad, "customers");
	put_product(f->ss, f->sales, "other", "1.0.0");
	put_raw(f->ss, f->sales, &bad, NULL);
	assert_false(info(f->ss, "sales", "other").pending);
	mycel_buf_fini(&bad);
	mycel_buf_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_offer_accept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_order_independent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_raw_entries, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
