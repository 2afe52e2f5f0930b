/*
 * fuzz-bundle-build.c — the audit bundle builder and verifier agree. The input is a
 * canonical MessagePack array of [kind, body] pairs; each becomes the next entry of
 * domain sales's feed (signed with a fixed key, under a fixed genesis charter), and the
 * bundle of sales/orders is built from them. Whatever the kinds and bodies (lifecycle
 * entries naming unknown versions, versions published twice, bodies that are not maps),
 * a bundle the builder makes must verify, report the feed it was made from, and stop
 * verifying when one byte of it changes. Inputs are capped at 64 KiB.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/bundle.h"
#include "mycel/charter.h"
#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/key.h"

#define MAX_INPUT ((size_t)64 << 10)
#define MAX_ENTRIES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mycel_key *gov, *sales;
static mycel_buf genesis;

static void die(const char *what, int rv, const char *why)
{
	fprintf(stderr, "fuzz-bundle-build: %s (%s) %s\n", what, mycel_errname(rv), why);
	abort();
}

static void init(void)
{
	uint8_t seed[MYCEL_SEED_LEN];
	mycel_charter *c = NULL;
	char why[256] = "";
	memset(seed, 0x01, sizeof(seed));
	if (mycel_key_from_seed(seed, &gov) != 0)
		die("key", 0, "");
	memset(seed, 0xa1, sizeof(seed));
	if (mycel_key_from_seed(seed, &sales) != 0)
		die("key", 0, "");
	mycel_buf_init(&genesis, MYCEL_CHARTER_MAX);
	if (mycel_charter_new("acme", 1, 1, &c) != 0 ||
	    mycel_charter_add_member(c, "gov", gov->pk) != 0 ||
	    mycel_charter_add_domain(c, "sales", sales->pk) != 0 ||
	    mycel_charter_sign(c, gov, why, sizeof(why)) != 0 ||
	    mycel_charter_encode(c, &genesis) != 0)
		die("genesis", 0, why);
	mycel_charter_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	mycel_arena *a = NULL;
	mycel_value *v = NULL;
	mycel_bundle_builder *b = NULL;
	mycel_buf out, body;
	mycel_entry prev, e;
	size_t n = 0;
	char why[512] = "";
	int rv;
	if (!ready) {
		init();
		ready = true;
	}
	if (size > MAX_INPUT || mycel_arena_new(16 * MAX_INPUT + 4096, &a) != 0)
		return 0;
	if (mycel_value_decode(data, size, MAX_INPUT, a, &v, NULL) != 0 ||
	    v->type != MYCEL_T_ARRAY) {
		mycel_arena_free(a);
		return 0;
	}
	mycel_buf_init(&out, MYCEL_BUNDLE_MAX);
	mycel_buf_init(&body, MAX_INPUT);
	if (mycel_bundle_builder_new("sales", "orders", &b) != 0 ||
	    mycel_bundle_builder_add_charter(b, genesis.data, genesis.len, why, sizeof(why)) != 0 ||
	    mycel_bundle_builder_add_feed(b, sales->pk) != 0)
		die("builder", 0, why);
	for (size_t i = 0; i < v->v.a.len && n < MAX_ENTRIES; i++) {
		const mycel_value *it = &v->v.a.items[i];
		if (it->type != MYCEL_T_ARRAY || it->v.a.len != 2 ||
		    it->v.a.items[0].type != MYCEL_T_STR ||
		    !mycel_kind_valid(it->v.a.items[0].v.s.ptr))
			continue;
		/* a `key` entry is valid only with its next key's reverse signature (PROTOCOL.md
		 * §5.4): one with any other body breaks the feed, so no store makes it */
		if (strcmp(it->v.a.items[0].v.s.ptr, "key") == 0)
			continue;
		mycel_header h;
		memset(&h, 0, sizeof(h));
		memcpy(h.feed, sales->pk, MYCEL_PK_LEN);
		h.seq = n + 1;
		h.has_prev = n > 0;
		if (n > 0)
			memcpy(h.prev, prev.id, MYCEL_HASH_LEN);
		h.ts_ms = 1700000000000u + 1000u * n;
		snprintf(h.kind, sizeof(h.kind), "%s", it->v.a.items[0].v.s.ptr);
		mycel_buf_reset(&body);
		if (mycel_value_encode(&it->v.a.items[1], &body) != 0)
			continue;
		mycel_body_hash(body.data, body.len, h.body_hash);
		if ((rv = mycel_entry_sign(&h, sales, &e)) != 0)
			die("sign", rv, "");
		if ((rv = mycel_bundle_builder_add_entry(b, e.raw, e.len, body.data, body.len)) !=
		    0)
			die("add_entry of a valid entry", rv, "");
		prev = e;
		n++;
	}
	rv = mycel_bundle_builder_finish(b, &out, why, sizeof(why));
	if (rv != 0 && rv != MYCEL_ENOTFOUND)
		die("finish", rv, why);
	if (rv == 0) {
		mycel_bundle_report *r = NULL;
		rv = mycel_bundle_verify(out.data, out.len, &r, why, sizeof(why));
		if (rv != 0)
			die("a bundle the builder made does not verify", rv, why);
		if (strcmp(r->domain, "sales") != 0 || strcmp(r->id, "orders") != 0 ||
		    r->entries != n || r->head_seq != n || r->n_versions == 0 ||
		    r->charter_version != 1 || memcmp(r->owner_feed, sales->pk, MYCEL_PK_LEN) != 0)
			die("the report is not of the feed the bundle was made from", 0, "");
		mycel_bundle_report_free(r);
		size_t at = size % out.len;
		out.data[at] ^= 0x20;
		r = NULL;
		rv = mycel_bundle_verify(out.data, out.len, &r, why, sizeof(why));
		if (rv == 0 || r != NULL || strncmp(why, "bundle: ", 8) != 0)
			die("a bundle with a byte changed verifies", rv, why);
	}
	mycel_bundle_builder_free(b);
	mycel_buf_fini(&body);
	mycel_buf_fini(&out);
	mycel_arena_free(a);
	return 0;
}
