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
	/* results */
	bool unchanged; /* this version was already published with the same content */
	mycel_entry entry; /* the new entry (when not unchanged) */
} mycel_publish_item;

/*
 * Publishes n linted documents into the feed of key, whose domain name is
 * domain. Each item's findings go to its own diags. Returns 0 (every item
 * published or unchanged), or the first refusal: EINVAL (publishing rules),
 * EEXIST (a version published with other content, or the id used by the other
 * kind), ENOMEM/ETOOBIG (encoding), or the store's codes; nothing is appended
 * unless all items pass.
 */
int mycel_publish(mycel_store *s, const mycel_key *key, const char *domain, mycel_publish_item *items,
		  size_t n);

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
