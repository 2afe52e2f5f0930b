/*
 * mycel/publish.h — publishing documents and lifecycle changes into a domain's feed.
 *
 * A publish lints each document (schema, then the publishing rules of
 * mycel/lint.h), refuses a (domain, id, version) that is already published
 * with other content ("bump the version"), skips one published with the same
 * content, and appends the rest as `contract` / `product` entries whose body
 * is the canonical encoding of the document as written — all of them in one
 * durable transaction, or none.
 */
#ifndef MYCEL_PUBLISH_H
#define MYCEL_PUBLISH_H

#include <stdbool.h>

#include "mycel/catalog.h"
#include "mycel/diag.h"
#include "mycel/key.h"
#include "mycel/lint.h"
#include "mycel/store.h"

typedef struct mycel_publish_item {
	const mycel_value *doc; /* the parsed document */
	mycel_docinfo info;     /* from mycel_lint_value */
	mycel_diags *diags;     /* where this item's findings go */
	mycel_diags *warnings;  /* where violated warn policies go (NULL: to diags) */
	/* results */
	bool unchanged; /* this version was already published with the same content */
	mycel_entry entry; /* the new entry (when not unchanged) */
} mycel_publish_item;

/*
 * The quality gate (mycel/policy.h): runs the store's charter policies on a document that
 * domain is about to publish, with `previous` the highest version of the same document
 * below it in the store (or null) and `now` = now_ms. Each violated deny policy is a
 * finding in d; each violated warn policy one in warn (if not NULL; d otherwise), with
 * the document location it concerns. Returns 0 (no deny violated), MYCEL_EPOLICY (at
 * least one), MYCEL_EEXPR when the charter's policies do not compile (fail closed, one
 * finding), or ENOMEM / the store's codes.
 */
int mycel_publish_gate(mycel_store *s, const char *domain, const mycel_value *doc,
		       const mycel_docinfo *info, uint64_t now_ms, mycel_diags *d, mycel_diags *warn);

/*
 * Publishes n linted documents into the feed of key, whose domain name is
 * domain. Each item's findings go to its own diags. Returns 0 (every item
 * published or unchanged), or the first refusal: EINVAL (publishing rules),
 * EEXIST (a version published with other content, or the id used by the other
 * kind), EBREAKING (a new contract version with breaking changes against an
 * earlier one and no new major version, under the charter's
 * params.compatibility: mycel_diff_check_published, one finding per change),
 * ECHARTER (that parameter names no mode), EPOLICY / EEXPR (the quality gate,
 * mycel_publish_gate), ENOMEM/ETOOBIG (encoding), or the store's codes; nothing
 * is appended unless all items pass.
 */
int mycel_publish(mycel_store *s, const mycel_key *key, const char *domain, mycel_publish_item *items,
		  size_t n);

/* A lifecycle change (see mycel_publish_lifecycle) to make as a group of its own. */
typedef struct mycel_lifecycle_item {
	const char *id, *version, *reason; /* reason may be NULL */
	mycel_doc_status status;           /* deprecated or retired */
	/* results */
	mycel_entry entry; /* the lifecycle entry appended */
	char why[512];     /* why it was refused */
} mycel_lifecycle_item;

/*
 * One request's write: its documents, published all or none, or (change not NULL) one
 * lifecycle change; beside other requests' groups.
 */
typedef struct mycel_publish_group {
	mycel_publish_item *items;
	size_t n;
	int result; /* set by mycel_publish_groups: 0, or this group's refusal */
	mycel_lifecycle_item *change; /* when not NULL, this group is that change (items unused) */
} mycel_publish_group;

/*
 * Publishes several independent groups (e.g. the documents of several concurrent requests)
 * into the feed of key in ONE durable transaction (one fsync): the group commit of the
 * node's writer. Each group is all or none on its own and is checked as mycel_publish
 * checks its items, against the store AND against the groups accepted before it in this
 * call, in order: a document already given by an earlier group with the same content is
 * unchanged, with other content (or the same id as the other kind) refused with EEXIST.
 * A refused group sets its result (EINVAL, EEXIST, ...; findings in its items' diags) and
 * does not affect the others. A lifecycle group is checked as mycel_publish_lifecycle
 * checks, against the store and the versions published or changed by the groups before it
 * (its refusal in change->why). Entries are appended in group order, then item order. If the
 * combined transaction fails (not one group's fault: ENOMEM, a full map, ...), every
 * accepted group is retried alone in its own transaction, so a bad one cannot sink the
 * others; a group whose own transaction fails gets that error. *out_commits (if not NULL)
 * receives the number of transactions committed (0 when nothing was new). Returns 0 once
 * every group's result is set, or EINVAL (a NULL argument) / ENOMEM with no result set
 * and nothing written.
 */
int mycel_publish_groups(mycel_store *s, const mycel_key *key, const char *domain,
			 mycel_publish_group *groups, size_t n, size_t *out_commits);

/*
 * Appends a `lifecycle` entry marking version `version` of the domain's
 * document id as deprecated or retired (status), with a reason (may be "").
 * ENOTFOUND if the domain has not published that version; EINVAL for a
 * status change backwards (retired to deprecated) or an unknown status;
 * why says which.
 */
int mycel_publish_lifecycle(mycel_store *s, const mycel_key *key, const char *domain,
			    const char *id, const char *version, mycel_doc_status status,
			    const char *reason, mycel_entry *out, char *why, size_t why_len);

#endif
