/*
 * fuzz-bundle.c — the audit bundle decoder and verifier (PROTOCOL.md §11) on untrusted
 * bytes. Every input is either refused with a known code and a message that starts with
 * "bundle: " (and no report), or accepted with a report that keeps the promises of
 * mycel/bundle.h: a contract or product subject with at least one version, counts that
 * add up, the subject's feed's head at or after the subject's first entry when nothing was
 * transferred, and otherwise a chain of transfers ending at the owner, since its acceptance. Inputs are capped
 * at 1 MiB to keep runs fast; the 256 MiB limit itself is a unit test.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/bundle.h"
#include "mycel/error.h"

#define MAX_INPUT ((size_t)1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, int rv, const char *why)
{
	fprintf(stderr, "fuzz-bundle: %s (%s) %s\n", what, mycel_errname(rv), why);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mycel_bundle_report *r = NULL;
	char why[512] = "";
	if (size > MAX_INPUT)
		return 0;
	int rv = mycel_bundle_verify(data, size, &r, why, sizeof(why));
	if (rv > 0 || strcmp(mycel_errname(rv), "E?") == 0)
		die("unknown code", rv, why);
	if (rv != 0) {
		if (r != NULL)
			die("report set on failure", rv, why);
		if (rv != MYCEL_ENOMEM && strncmp(why, "bundle: ", 8) != 0)
			die("refusal without a message naming where", rv, why);
		return 0;
	}
	if (r == NULL)
		die("no report on success", rv, why);
	bool moved = r->n_transfers > 0;
	if ((strcmp(r->kind, "contract") != 0 && strcmp(r->kind, "product") != 0) ||
	    r->n_versions == 0 || r->since_seq == 0 || (!moved && r->head_seq < r->since_seq) ||
	    r->charters == 0 || r->charter_version != r->charters || r->admitted_since == 0 ||
	    r->admitted_since > r->charter_version || r->feeds == 0 || r->entries < r->head_seq ||
	    r->bodies > r->entries || r->owner_forks > r->forks || r->owner[0] == '\0' ||
	    (!moved && strcmp(r->owner, r->domain) != 0) || r->n_transfers >= r->feeds ||
	    (moved && strcmp(r->kind, "product") != 0) ||
	    (r->pending && (r->pending_to[0] == '\0' || r->pending_seq == 0)))
		die("report breaks its promises", rv, why);
	/* transfers: a chain from owner to owner that ends at the owner, since its acceptance */
	for (size_t i = 0; i < r->n_transfers; i++) {
		const mycel_bundle_transfer *t = &r->transfers[i];
		if (strcmp(t->from, t->to) == 0 || t->offer_seq == 0 || t->accept_seq == 0 ||
		    (i > 0 && strcmp(r->transfers[i - 1].to, t->from) != 0))
			die("transfer breaks its promises", rv, why);
	}
	if (moved && (strcmp(r->transfers[r->n_transfers - 1].to, r->owner) != 0 ||
	              r->since_seq != r->transfers[r->n_transfers - 1].accept_seq))
		die("the owner is not the last receiver", rv, why);
	for (size_t i = 0; i < r->n_versions; i++)
		if (r->versions[i].version[0] == '\0' || r->versions[i].domain[0] == '\0' ||
		    (!moved && (r->versions[i].seq < r->since_seq ||
		                strcmp(r->versions[i].domain, r->domain) != 0)) ||
		    (r->versions[i].status != MYCEL_BUNDLE_ACTIVE) !=
		        (r->versions[i].status_seq != 0))
			die("version breaks its promises", rv, why);
	mycel_bundle_report_free(r);
	return 0;
}
