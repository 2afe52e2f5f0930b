/*
 * fuzz-charter.c — the strict charter-file decoder on untrusted bytes. A file
 * that decodes must encode back to exactly the input (one encoding per
 * charter), decode again to the same digest, and satisfy every invariant the
 * decoder promises (valid unique names, unique keys and feeds, 1 <= threshold
 * <= members, signatures sorted by key); verification must return a known
 * code and a reason. Inputs are capped at 64 KiB to keep runs fast; the 1 MiB
 * limit itself is a unit test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/charter.h"
#include "mycel/codec.h"
#include "mycel/error.h"

#define MAX_INPUT ((size_t)64 << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, int rv)
{
	fprintf(stderr, "fuzz-charter: %s (%s)\n", what, mycel_errname(rv));
	abort();
}

static void check_code(const char *what, int rv, const char *why)
{
	if (rv > 0 || strcmp(mycel_errname(rv), "E?") == 0)
		die(what, rv);
	if (rv != 0 && rv != MYCEL_ENOMEM && why[0] == '\0')
		die("refusal without a reason", rv);
}

static void check_charter(const mycel_charter *c, const uint8_t *data, size_t size)
{
	mycel_buf b;
	mycel_charter *d;
	uint8_t d1[32], d2[32];
	char why[256];
	int rv;

	mycel_buf_init(&b, MYCEL_CHARTER_MAX);
	if ((rv = mycel_charter_encode(c, &b)) != 0)
		die("decoded charter does not encode", rv);
	if (b.len != size || memcmp(b.data, data, size) != 0)
		die("re-encoded charter differs from the input", 0);
	if ((rv = mycel_charter_decode(b.data, b.len, &d, why, sizeof(why))) != 0)
		die("re-encoded charter does not decode", rv);
	if (mycel_charter_digest(c, d1) != 0 || mycel_charter_digest(d, d2) != 0 ||
	    memcmp(d1, d2, 32) != 0)
		die("digest differs after a round trip", 0);
	mycel_charter_free(d);
	mycel_buf_fini(&b);

	/* Invariants. */
	size_t nm = mycel_charter_member_count(c), nd = mycel_charter_domain_count(c);
	uint32_t thr = mycel_charter_threshold(c);
	if (!mycel_name_valid(mycel_charter_mesh(c)) || mycel_charter_version(c) == 0)
		die("mesh or version", 0);
	if (nm == 0 || nm > MYCEL_MEMBERS_MAX || thr < 1 || thr > nm)
		die("members or threshold", 0);
	for (size_t i = 0; i < nm; i++) {
		const mycel_charter_member *m = mycel_charter_member_at(c, i);
		if (!mycel_name_valid(m->name))
			die("member name", 0);
		for (size_t j = 0; j < i; j++) {
			const mycel_charter_member *o = mycel_charter_member_at(c, j);
			if (strcmp(o->name, m->name) == 0 || memcmp(o->key, m->key, 32) == 0)
				die("duplicate member", 0);
		}
	}
	for (size_t i = 0; i < nd; i++) {
		const mycel_charter_domain *dm = mycel_charter_domain_at(c, i);
		if (!mycel_name_valid(dm->name))
			die("domain name", 0);
		if (mycel_charter_find_feed(c, dm->feed) != dm ||
		    mycel_charter_find_domain(c, dm->name) != dm)
			die("lookup does not find the domain (duplicate?)", 0);
	}
	for (size_t i = 1; i < mycel_charter_sig_count(c); i++)
		if (memcmp(mycel_charter_sig_at(c, i - 1)->key, mycel_charter_sig_at(c, i)->key,
		           32) >= 0)
			die("signatures not sorted", 0);
	const mycel_value *pol = mycel_charter_policies(c);
	if (pol->type != MYCEL_T_ARRAY || mycel_charter_params(c)->type != MYCEL_T_MAP)
		die("policies or params type", 0);
	for (size_t i = 0; i < pol->v.a.len; i++) {
		const mycel_value *sev = mycel_value_get(&pol->v.a.items[i], "severity");
		if (sev == NULL || sev->type != MYCEL_T_STR || sev->v.s.len != 4 ||
		    (memcmp(sev->v.s.ptr, "deny", 4) != 0 && memcmp(sev->v.s.ptr, "warn", 4) != 0))
			die("policy severity is not deny or warn", 0);
	}

	/* Compromised feeds: unbound, their successor bound, admitted up to the cut only. */
	for (size_t i = 0; i < mycel_charter_compromised_count(c); i++) {
		const mycel_charter_cut *k = mycel_charter_compromised_at(c, i);
		const mycel_charter_domain *dm = NULL;
		if (mycel_charter_find_feed(c, k->feed) != NULL ||
		    mycel_charter_find_feed(c, k->successor) == NULL ||
		    mycel_charter_find_compromised(c, k->feed) != k)
			die("compromised list invariants", 0);
		if (mycel_charter_admits(c, k->feed, k->seq, &dm) != 0 ||
		    dm != mycel_charter_find_feed(c, k->successor) ||
		    (k->seq < UINT64_MAX &&
		     mycel_charter_admits(c, k->feed, k->seq + 1, NULL) != MYCEL_EREVOKED))
			die("admission around a cut", 0);
	}

	/* The next version: one more, no signatures, the same content, a valid encoding. */
	mycel_charter *n = NULL;
	rv = mycel_charter_next(c, &n);
	if (rv == 0) {
		mycel_charter *e = NULL;
		if (mycel_charter_version(n) != mycel_charter_version(c) + 1 ||
		    mycel_charter_sig_count(n) != 0 || mycel_charter_domain_count(n) != nd ||
		    mycel_charter_member_count(n) != nm ||
		    mycel_charter_compromised_count(n) != mycel_charter_compromised_count(c))
			die("next version differs", 0);
		mycel_buf_init(&b, MYCEL_CHARTER_MAX);
		if ((rv = mycel_charter_encode(n, &b)) != 0 ||
		    (rv = mycel_charter_decode(b.data, b.len, &e, why, sizeof(why))) != 0)
			die("next version does not round-trip", rv);
		mycel_charter_free(e);
		mycel_buf_fini(&b);
		mycel_charter_free(n);
	} else if (rv != MYCEL_EINVAL && rv != MYCEL_ENOMEM) {
		die("charter_next", rv);
	}

	/* Verification: a known code, with a reason when it refuses. */
	why[0] = '\0';
	rv = mycel_charter_verify_genesis(c, why, sizeof(why));
	check_code("verify_genesis", rv, why);
	if (rv == 0 && (mycel_charter_version(c) != 1 || mycel_charter_sig_count(c) < thr))
		die("genesis verified without its rules", 0);
	why[0] = '\0';
	rv = mycel_charter_verify_next(c, c, why, sizeof(why));
	if (rv != MYCEL_ECHARTER)
		die("a charter follows itself", rv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mycel_charter *c = NULL;
	char why[256] = "";
	if (size > MAX_INPUT)
		return 0;
	int rv = mycel_charter_decode(data, size, &c, why, sizeof(why));
	check_code("charter_decode", rv, why);
	if (rv == 0) {
		check_charter(c, data, size);
		mycel_charter_free(c);
	} else if (c != NULL) {
		die("output set on failure", rv);
	}
	return 0;
}
