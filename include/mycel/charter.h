/*
 * mycel/charter.h — the mesh charter (proto/PROTOCOL.md §3).
 *
 * A charter is the canonical map
 *   {mesh, version, members: [{name, key}], threshold, domains: [{name, feed}],
 *    policies: [{id, severity, expr, message}], params: {...}}
 * and a charter file is the canonical encoding of [charter (bin), signatures],
 * signatures being [[key (bin 32), sig (bin 64)], ...] sorted by key, each an
 * Ed25519 signature over "mycel/charter/v1\0" ‖ charter bytes.
 *
 * An optional key `compromised: [{feed, seq, successor}]` (absent when empty)
 * declares feeds whose key is compromised: entries of feed up to seq stay
 * valid and belong to the domain whose feed in `domains` is successor; later
 * ones are refused (MYCEL_EREVOKED) everywhere.
 *
 * Version 1 (genesis) needs `threshold` valid signatures of its own members.
 * Version n+1 needs threshold(n) signatures of version n's members and
 * threshold(n+1) of its own. Every signature present must verify and belong
 * to a member of one of those versions. The mesh id is BLAKE2b-256 of the
 * genesis charter bytes.
 */
#ifndef MYCEL_CHARTER_H
#define MYCEL_CHARTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mycel/codec.h"
#include "mycel/key.h"

#define MYCEL_CHARTER_MAX (1u << 20) /* a charter file is at most 1 MiB */
#define MYCEL_NAME_MAX 64             /* member, domain and mesh names */
#define MYCEL_MEMBERS_MAX 255
#define MYCEL_DOMAINS_MAX 10000

typedef struct mycel_charter mycel_charter;

typedef struct mycel_charter_member {
	const char *name;
	uint8_t key[MYCEL_PK_LEN];
} mycel_charter_member;

typedef struct mycel_charter_domain {
	const char *name;
	uint8_t feed[MYCEL_PK_LEN];
} mycel_charter_domain;

/* A compromised feed: its entries up to seq stay valid; successor is the domain's feed now. */
typedef struct mycel_charter_cut {
	uint8_t feed[MYCEL_PK_LEN];
	uint64_t seq; /* the last valid seq (0: none is) */
	uint8_t successor[MYCEL_PK_LEN];
} mycel_charter_cut;

typedef struct mycel_charter_sig {
	uint8_t key[MYCEL_PK_LEN];
	uint8_t sig[MYCEL_SIG_LEN];
} mycel_charter_sig;

/* True if name is a valid domain, member or mesh name: 1..64 of [a-z0-9-], not starting or ending with '-'. */
bool mycel_name_valid(const char *name);

/* A new, empty, unsigned charter: no members, no domains, no policies, empty params. */
int mycel_charter_new(const char *mesh, uint64_t version, uint32_t threshold,
		      mycel_charter **out);

/* Frees a charter. Accepts NULL. */
void mycel_charter_free(mycel_charter *c);

/*
 * Builders, only for a charter without signatures (EBUSY otherwise): adding
 * changes the signed bytes. EINVAL for an invalid name, EEXIST for a name or
 * key already present.
 */
int mycel_charter_add_member(mycel_charter *c, const char *name, const uint8_t key[MYCEL_PK_LEN]);
int mycel_charter_add_domain(mycel_charter *c, const char *name, const uint8_t feed[MYCEL_PK_LEN]);

/*
 * Sets params[key] to the string value (replacing an earlier value), a builder like the
 * two above (EBUSY for a signed or decoded charter). EINVAL for an empty key, invalid
 * UTF-8, or a `compatibility` that names no mode (mycel/diff.h: mycel_compat_parse).
 */
int mycel_charter_set_param_str(mycel_charter *c, const char *key, const char *value);

/*
 * Adds key's signature over the charter bytes (replacing an earlier one of the
 * same key). The charter must be well formed (ECHARTER with a reason in why
 * otherwise). The signer need not be a member; verification decides.
 */
int mycel_charter_sign(mycel_charter *c, const mycel_key *key, char *why, size_t why_len);

/* Appends the charter file bytes ([charter, signatures]) to b. */
int mycel_charter_encode(const mycel_charter *c, mycel_buf *b);

/*
 * Strictly decodes a charter file from untrusted bytes: canonical encoding,
 * the exact shape above, no unknown keys, valid names, unique member names and
 * keys, unique domain names and feeds, 1 <= threshold <= members, policy
 * severities deny|warn, signatures sorted by key without duplicates, and an
 * optional non-empty `compromised` list of unique feeds that no domain binds,
 * each naming a successor that a domain binds.
 * Does not check signatures. On failure returns the code and writes a reason
 * naming the field into why (if not NULL).
 */
int mycel_charter_decode(const uint8_t *p, size_t n, mycel_charter **out, char *why,
			 size_t why_len);

/*
 * Genesis check: version 1, no compromised feed, every signature valid and by a member,
 * threshold reached.
 */
__attribute__((warn_unused_result)) int mycel_charter_verify_genesis(const mycel_charter *c,
								       char *why, size_t why_len);

/*
 * Step check: next = prev + 1, same mesh, both thresholds reached, every signature valid,
 * and for compromised feeds: a cut never moves between versions, only a feed that prev binds
 * to a domain (or lists as compromised) is declared compromised, and no compromised feed is
 * bound to a domain again (ECHARTER with the field in why).
 */
__attribute__((warn_unused_result)) int mycel_charter_verify_next(const mycel_charter *prev,
								    const mycel_charter *next,
								    char *why, size_t why_len);

const char *mycel_charter_mesh(const mycel_charter *c);
uint64_t mycel_charter_version(const mycel_charter *c);
uint32_t mycel_charter_threshold(const mycel_charter *c);
size_t mycel_charter_member_count(const mycel_charter *c);
const mycel_charter_member *mycel_charter_member_at(const mycel_charter *c, size_t i);
size_t mycel_charter_domain_count(const mycel_charter *c);
const mycel_charter_domain *mycel_charter_domain_at(const mycel_charter *c, size_t i);
size_t mycel_charter_sig_count(const mycel_charter *c);
const mycel_charter_sig *mycel_charter_sig_at(const mycel_charter *c, size_t i);
/* The policies array and params map as decoded (empty for a new charter). */
const mycel_value *mycel_charter_policies(const mycel_charter *c);
const mycel_value *mycel_charter_params(const mycel_charter *c);

/* The domain that feed belongs to, or NULL if the charter does not admit it. */
const mycel_charter_domain *mycel_charter_find_feed(const mycel_charter *c,
						    const uint8_t feed[MYCEL_PK_LEN]);

/* The domain named name, or NULL. */
const mycel_charter_domain *mycel_charter_find_domain(const mycel_charter *c, const char *name);

/* BLAKE2b-256 of the charter bytes: for the genesis version, the mesh id. */
int mycel_charter_digest(const mycel_charter *c, uint8_t out[32]);

/* ---- evolution (PROTOCOL.md §3.4) ---------------------------------------------------------- */

/*
 * A new unsigned draft of version prev+1 with prev's mesh, members, threshold, domains,
 * compromised feeds, policies and params, and no signatures: the builders below (and
 * add_member, add_domain) then change it. *out is the caller's (mycel_charter_free).
 * ENOMEM, EINVAL (prev's version is the largest integer).
 */
int mycel_charter_next(const mycel_charter *prev, mycel_charter **out);

/*
 * Draft builders (EBUSY on a signed or decoded charter, ENOTFOUND for an unknown name or id).
 * remove_domain also drops the compromised feeds whose successor was the domain's feed.
 * set_threshold: EINVAL outside 1..255 (against the members it is checked when signing).
 * set_policy replaces the policy with that id, or appends it; severity is "deny" or "warn"
 * (EINVAL otherwise, or for an empty id); the expression must compile (mycel/cel.h;
 * MYCEL_EEXPR otherwise: mycel_cel_compile says where), as the decoder requires.
 */
int mycel_charter_remove_member(mycel_charter *c, const char *name);
int mycel_charter_remove_domain(mycel_charter *c, const char *name);
int mycel_charter_set_threshold(mycel_charter *c, uint32_t threshold);
int mycel_charter_set_policy(mycel_charter *c, const char *id, const char *severity,
			     const char *expr, const char *message);
int mycel_charter_remove_policy(mycel_charter *c, const char *id);

/*
 * Declares the key of domain's feed compromised after seq: adds {feed, seq, successor} to
 * the compromised list, binds the domain to successor, and makes earlier compromised feeds of
 * the domain name successor too. ENOTFOUND (no such domain), EEXIST (successor is already a
 * domain's feed or a compromised one), EBUSY, ENOMEM.
 */
int mycel_charter_compromise(mycel_charter *c, const char *domain, uint64_t seq,
			     const uint8_t successor[MYCEL_PK_LEN]);

size_t mycel_charter_compromised_count(const mycel_charter *c);
const mycel_charter_cut *mycel_charter_compromised_at(const mycel_charter *c, size_t i);
/* The compromised entry of feed, or NULL. */
const mycel_charter_cut *mycel_charter_find_compromised(const mycel_charter *c,
							       const uint8_t feed[MYCEL_PK_LEN]);

/*
 * Whether the charter admits the entry of feed at seq: 0 and the domain it belongs to (the
 * feed's own, or for a compromised feed with seq <= its cut the successor's) in *out_domain
 * if not NULL; MYCEL_EREVOKED for a compromised feed beyond its cut; MYCEL_EADMIT otherwise.
 */
int mycel_charter_admits(const mycel_charter *c, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
			 const mycel_charter_domain **out_domain);

/*
 * Adds to dst the signatures of src that dst lacks (dst keeps its own for a key in both).
 * Both must hold the same charter bytes (decoded, or signed): ECHARTER with why otherwise.
 */
int mycel_charter_merge(mycel_charter *dst, const mycel_charter *src, char *why, size_t why_len);

/* True if signature i verifies over the charter bytes (whoever's key it is). */
__attribute__((warn_unused_result)) bool mycel_charter_sig_valid(const mycel_charter *c, size_t i);

/* The member whose key is key, or NULL. */
const mycel_charter_member *mycel_charter_find_member(const mycel_charter *c,
						      const uint8_t key[MYCEL_PK_LEN]);

#endif
