/*
 * fuzz-bundle.c — the audit bundle decoder and verifier (PROTOCOL.md §11) on untrusted
 * bytes. Every input is either refused with a known code and a message that starts with
 * "bundle: " (and no report), or accepted with a report that keeps the promises of
 * mycel/bundle.h: a contract or product subject with at least one version, counts that
 * add up, the owning feed's head at or after the subject's first entry. Inputs are capped
 * at 1 MiB to keep runs fast; the 256 MiB limit itself is a unit test.
 */
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
	if ((strcmp(r->kind, "contract") != 0 && strcmp(r->kind, "product") != 0) ||
	    r->n_versions == 0 || r->since_seq == 0 || r->head_seq < r->since_seq ||
	    r->charters == 0 || r->charter_version != r->charters || r->admitted_since == 0 ||
	    r->admitted_since > r->charter_version || r->feeds == 0 || r->entries < r->head_seq ||
	    r->bodies > r->entries || r->owner_forks > r->forks)
		die("report breaks its promises", rv, why);
	for (size_t i = 0; i < r->n_versions; i++)
		if (r->versions[i].version[0] == '\0' || r->versions[i].seq < r->since_seq ||
		    (r->versions[i].status != MYCEL_BUNDLE_ACTIVE) !=
		        (r->versions[i].status_seq != 0))
			die("version breaks its promises", rv, why);
	mycel_bundle_report_free(r);
	return 0;
}
