/*
 * mycel/bundle.h — audit bundles (proto/PROTOCOL.md §11).
 *
 * An audit bundle is one self-contained file that proves, offline, who owns a document
 * (DOMAIN/ID), since when, under which charter, and its version history: the charter chain
 * from genesis, every entry of the subject's feed from seq 1 to its head (bodies only where
 * they can concern the subject), the feeds of the domains its transfers name (offers and
 * acceptances, PROTOCOL.md §5.5, followed from domain to domain), and the fork proofs held
 * for those feeds. It is the canonical MessagePack value
 *
 *   ["mycel-bundle", 1, {charters: [bin...], feeds: [{bodies: [bin|nil...], entries:
 *    [bin...], feed: bin 32}...], forks: [bin...], subject: {domain, id, kind}}, digest]
 *
 * with digest = BLAKE2b-256("mycel/bundle/v1\0" ‖ the map's bytes). Building reads a store
 * (or, through the builder, any source of charters and entries); verifying needs nothing
 * but the bundle's bytes.
 */
#ifndef MYCEL_BUNDLE_H
#define MYCEL_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mycel/charter.h"
#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/key.h"
#include "mycel/store.h"

#define MYCEL_BUNDLE_MAX ((size_t)256 << 20)       /* a bundle is at most 256 MiB */
#define MYCEL_BUNDLE_CHARTERS_MAX 4096             /* charter versions in one bundle */
#define MYCEL_BUNDLE_FEEDS_MAX 16                  /* feeds in one bundle */
#define MYCEL_BUNDLE_ENTRIES_MAX ((size_t)1 << 20) /* entries of all its feeds together */
#define MYCEL_BUNDLE_FORKS_MAX 1024                /* fork proofs in one bundle */
#define MYCEL_BUNDLE_ID_MAX 256                    /* a document id, in bytes */

/* ---- building ------------------------------------------------------------------------- */

typedef struct mycel_bundle_builder mycel_bundle_builder;

/*
 * A builder for the bundle of document (domain, id). Nothing is checked until
 * mycel_bundle_builder_finish. EINVAL for an invalid domain name or an id that is empty or
 * over MYCEL_BUNDLE_ID_MAX bytes, ENOMEM.
 */
int mycel_bundle_builder_new(const char *domain, const char *id, mycel_bundle_builder **out);

/* Frees a builder and everything it holds. Accepts NULL. */
void mycel_bundle_builder_free(mycel_bundle_builder *b);

/*
 * Adds the next charter file (they come in version order, from genesis), copied. EFORMAT
 * or the decoder's code when it does not decode, EINVAL when it is not the next version
 * (why says so), ETOOBIG past the limits.
 */
int mycel_bundle_builder_add_charter(mycel_bundle_builder *b, const uint8_t *p, size_t n, char *why,
                                     size_t why_len);

/*
 * Starts the next feed; the entries added after it belong to it. The first feed is the
 * subject's feed (the one the latest charter binds to the subject's domain). EEXIST for a
 * feed already added, ETOOBIG beyond MYCEL_BUNDLE_FEEDS_MAX.
 */
int mycel_bundle_builder_add_feed(mycel_bundle_builder *b, const uint8_t feed[MYCEL_PK_LEN]);

/*
 * Adds the current feed's next entry (seq 1 first, then in order) and its body (may be
 * NULL when not at hand: then the bundle cannot carry it). The entry is copied; the body
 * is copied only when the bundle needs it (§11.3). EINVAL without a current feed, the
 * entry decoder's code, EINVAL for an entry of another feed or out of order, ETOOBIG
 * beyond the limits.
 */
int mycel_bundle_builder_add_entry(mycel_bundle_builder *b, const uint8_t *entry, size_t n,
                                   const uint8_t *body, size_t body_len);

/* Adds a fork proof (PROTOCOL.md §4) of one of the feeds, copied. ETOOBIG, EFORMAT. */
int mycel_bundle_builder_add_fork(mycel_bundle_builder *b, const uint8_t *p, size_t n);

/*
 * Encodes the bundle into out (appended). The subject's kind is that of its first
 * contract or product entry in the subject's feed (product when that feed first holds an
 * acceptance of id); bodies of the other document kind are left out. ENOTFOUND (why says
 * so) when the subject's feed holds no document named id nor an acceptance of one,
 * EINVAL without charters or feeds, ENOMEM, ETOOBIG. The builder is left as it was.
 */
int mycel_bundle_builder_finish(mycel_bundle_builder *b, mycel_buf *out, char *why, size_t why_len);

/*
 * The domain that a `transfer` entry's body (PROTOCOL.md §5.5) names about product id: the
 * `to` of an offer of id or the `from` of an acceptance of id, copied NUL-terminated into
 * out_domain. The builders follow these names (through the charter) to the feeds that
 * decide who owns id. 0; ENOTFOUND when body is NULL, not a well-formed offer or acceptance,
 * or about another id (out_domain untouched).
 */
int mycel_bundle_transfer_peer(const uint8_t *body, size_t n, const char *id,
                               char out_domain[MYCEL_NAME_MAX + 1]);

/*
 * Builds the bundle of document domain/id from store s into out (appended): every charter
 * version it holds, the feed the current charter binds to domain, from seq 1 to its head,
 * then, transitively, the feed of each domain an offer or acceptance of id in a feed of the
 * bundle names (mycel_bundle_transfer_peer, resolved through the current charter) that s
 * holds, up to MYCEL_BUNDLE_FEEDS_MAX feeds, and the fork proofs s holds for those feeds.
 * ENOTFOUND when the charter has no domain of that name or the feed no such document, the
 * store's and the builder's codes otherwise; why says what.
 */
int mycel_bundle_build(mycel_store *s, const char *domain, const char *id, mycel_buf *out,
                       char *why, size_t why_len);

/* ---- verifying ------------------------------------------------------------------------ */

typedef enum mycel_bundle_status {
	MYCEL_BUNDLE_ACTIVE = 0,
	MYCEL_BUNDLE_DEPRECATED = 1,
	MYCEL_BUNDLE_RETIRED = 2,
} mycel_bundle_status;

/* One published version of the subject, as the feed of the domain that published it tells. */
typedef struct mycel_bundle_version {
	char domain[MYCEL_NAME_MAX + 1]; /* the owner that published it */
	char version[65];
	uint64_t seq, ts_ms;               /* the entry that published it, in domain's feed */
	mycel_bundle_status status;        /* after every lifecycle entry of domain's feed */
	uint64_t status_seq, status_ts_ms; /* the lifecycle entry that set it (0 when active) */
} mycel_bundle_version;

/* One transfer of the subject (PROTOCOL.md §5.5), proven by the offer and the acceptance. */
typedef struct mycel_bundle_transfer {
	char from[MYCEL_NAME_MAX + 1], to[MYCEL_NAME_MAX + 1];
	uint64_t offer_seq, offer_ts_ms;   /* the offer, in from's feed */
	uint64_t accept_seq, accept_ts_ms; /* the acceptance that counts, in to's feed */
} mycel_bundle_transfer;

/* What a valid bundle proves. Strings are NUL-terminated and came from signed bytes. */
typedef struct mycel_bundle_report {
	char domain[MYCEL_NAME_MAX + 1]; /* the subject: domain/id */
	char id[MYCEL_BUNDLE_ID_MAX + 1];
	char kind[16]; /* "contract" or "product" */
	char mesh[MYCEL_NAME_MAX + 1];
	uint8_t mesh_id[MYCEL_HASH_LEN];
	uint64_t charter_version;       /* the latest charter of the bundle */
	uint64_t admitted_since;        /* the first version from which on every charter binds the
	                                   subject's domain to feeds[0] */
	char owner[MYCEL_NAME_MAX + 1]; /* the last receiver of the transfers, else the domain
	                                   where the product's history starts */
	uint8_t owner_feed[MYCEL_PK_LEN];
	uint64_t since_seq, since_ts_ms; /* in the owner's feed: the acceptance of the last
	                                    transfer, else the first entry publishing the subject */
	uint64_t head_seq, head_ts_ms;   /* feeds[0]'s last entry in the bundle */
	size_t charters, feeds, entries, bodies, forks, keys;
	size_t owner_forks; /* fork proofs of feeds[0]: its history is not unique */
	size_t n_versions;
	mycel_bundle_version *versions; /* each owner's, owners in the order they held it */
	size_t n_transfers;
	mycel_bundle_transfer *transfers; /* in the order they happened */
	/* an offer by the owner that the bundle shows no acceptance of: the owner shown is the
	   giver, as far as the bundle proves */
	bool pending;
	bool pending_feed_held; /* whether the addressee's feed is in the bundle (up to its head) */
	char pending_to[MYCEL_NAME_MAX + 1];
	uint64_t pending_seq, pending_ts_ms; /* the offer, in the owner's feed */
} mycel_bundle_report;

/*
 * Verifies the n bytes at p as an audit bundle, offline: strict decoding (canonical,
 * exact layout, no unknown key, counts within the limits), the charter chain from genesis
 * (each step verified against the one before), the subject's domain bound to the first
 * feed by the latest charter, every feed admitted by it, each feed's entries from seq 1
 * (decoding, seq, prev, ts order, signature by the key that signs the feed at that seq),
 * every body present (hash, canonical, size) and present wherever it may concern the
 * subject, every fork proof, and the digest; then who owns the subject, by PROTOCOL.md
 * §5.5's rule over the bundle's feeds (§11.4: no transfer is claimed without its offer and
 * acceptance both in the bundle). On success *out (the caller frees it with
 * mycel_bundle_report_free) says what the bundle proves. On failure returns the code
 * (ETOOBIG, the decoder's, EVERSION, EBUNDLE for a wrong layout or a missing body, the
 * charter's, the entry's: EBADSIG, ECHAIN, ETS, EHASH, EADMIT, ...), why names where
 * ("bundle: feeds[0].entries[17]: signature does not verify (feed ab12…, seq 18)",
 * "bundle: byte 4711: ...") and *out is untouched.
 */
int mycel_bundle_verify(const uint8_t *p, size_t n, mycel_bundle_report **out, char *why,
                        size_t why_len);

/* Frees a report. Accepts NULL. */
void mycel_bundle_report_free(mycel_bundle_report *r);

/* "active", "deprecated" or "retired". */
const char *mycel_bundle_status_name(mycel_bundle_status s);

#endif
