/*
 * mycel/transfer.h — handing a data product to another domain (proto/PROTOCOL.md §5.5).
 *
 * The giving domain appends an offer to its feed (kind `transfer`,
 * {action: "offer", id, kind: "product", to}); the receiving domain appends an acceptance
 * to its own ({action: "accept", from, id, offer: the offer's entry id, seq: its seq}).
 * The product is transferred once both are held: from then on the receiver publishes its
 * next versions (as receiver/id), the giver can no longer publish or change the status of
 * giver/id, and giver/id says where it went. The versions the giver published stay in its
 * feed, signed by it, and stay verifiable.
 *
 * Whether a product is transferred is a pure function of the two feeds' entries, whatever
 * the order they arrive in: the catalog keeps one row per offer and per acceptance
 * (cat_xfer, rebuilt by mycel reindex) and joins them when asked. Of several offers of
 * one product, the first (lowest seq) that its addressee accepted counts.
 */
#ifndef MYCEL_TRANSFER_H
#define MYCEL_TRANSFER_H

#include <stdbool.h>
#include <stdint.h>

#include "mycel/entry.h"
#include "mycel/key.h"
#include "mycel/store.h"

#define MYCEL_DOMAIN_NAME_MAX 64

/* What the catalog knows of transfers of domain/id, out of it and into it. */
typedef struct mycel_transfer_info {
	/* out: accepted by its addressee */
	bool transferred;
	char to[MYCEL_DOMAIN_NAME_MAX + 1];
	uint64_t offer_seq;  /* of the offer, in the giver's feed */
	uint64_t accept_seq; /* of the acceptance, in the receiver's feed */
	uint8_t offer_id[MYCEL_HASH_LEN];
	/* out: the last offer not accepted (yet), when not transferred */
	bool pending;
	char pending_to[MYCEL_DOMAIN_NAME_MAX + 1];
	uint64_t pending_seq;
	uint8_t pending_id[MYCEL_HASH_LEN];
	/* in: domain/id was received from `from` (its offer and this domain's acceptance) */
	bool received;
	char from[MYCEL_DOMAIN_NAME_MAX + 1];
	uint64_t from_offer_seq, from_accept_seq;
} mycel_transfer_info;

/*
 * Fills *out for domain/id from the catalog (everything false when nothing is known).
 * 0, EINVAL for an empty or oversized name, or the store's codes.
 */
int mycel_catalog_transfer(mycel_store *s, const char *domain, const char *id,
                           mycel_transfer_info *out);

/*
 * Appends an offer of product domain/id to domain `to`, signed by key (the key that signs
 * domain's feed now). Refused, nothing written, with why: EINVAL (to is not another
 * admitted domain, or id is a contract), ENOTFOUND (domain does not own a product id: never
 * published it nor received it), EPERM (already transferred), EEXIST (an offer is pending),
 * and mycel_store_append's codes. On success fills *out if not NULL.
 */
int mycel_transfer_offer(mycel_store *s, const mycel_key *key, const char *domain, const char *id,
                         const char *to, mycel_entry *out, char *why, size_t why_len);

/*
 * Appends domain's acceptance of the offer of from/id, signed by key. Refused, nothing
 * written, with why: EINVAL (from is not another admitted domain), ENOTFOUND (no offer of
 * from/id to domain is held: pull from's feed first), EEXIST (already accepted by domain),
 * EPERM (transferred to another domain), and mycel_store_append's codes.
 */
int mycel_transfer_accept(mycel_store *s, const mycel_key *key, const char *domain,
                          const char *from, const char *id, mycel_entry *out, char *why,
                          size_t why_len);

#endif
