/*
 * mycel/catalog.h — the catalog derived from the feeds: documents and their
 * versions, lifecycle status, a search index, facets and lineage.
 *
 * The feeds are the source of truth. Every table here is derived from the
 * `contract`, `product` and `lifecycle` entries of admitted feeds, updated in
 * the same LMDB transaction as the entry that changes it (so the catalog never
 * disagrees with the store), and rebuilt from scratch by mycel_store_reindex
 * with byte-identical results.
 *
 * Identity: a document is (domain, id) where domain is the name the charter
 * binds to the publishing feed and id is the document's `id` field; each
 * published `version` (semver) of it is immutable.
 *
 * Entry bodies (PROTOCOL.md §5):
 *  - contract: the canonical encoding of the ODCS document as written;
 *  - product:  the canonical encoding of the ODPS document as written;
 *  - lifecycle: {id: str, kind: "contract"|"product", status: "deprecated"|"retired",
 *                version: str, reason: str}.
 */
#ifndef MYCEL_CATALOG_H
#define MYCEL_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/store.h"

#define MYCEL_ID_MAX 256      /* document ids, bytes */
#define MYCEL_VERSION_MAX 64  /* version strings, bytes */

typedef enum mycel_doc_kind {
	MYCEL_DOC_CONTRACT = 1, /* ODCS, kind: DataContract; entry kind "contract" */
	MYCEL_DOC_PRODUCT = 2,  /* ODPS, kind: DataProduct; entry kind "product" */
} mycel_doc_kind;

typedef enum mycel_doc_status {
	MYCEL_STATUS_ACTIVE = 0,
	MYCEL_STATUS_DEPRECATED = 1,
	MYCEL_STATUS_RETIRED = 2,
} mycel_doc_status;

/* "contract"/"product", "active"/"deprecated"/"retired". */
const char *mycel_doc_kind_name(mycel_doc_kind k);
const char *mycel_doc_status_name(mycel_doc_status s);

/* True if v is a semantic version (semver.org 2.0.0: MAJOR.MINOR.PATCH[-pre][+build]). */
bool mycel_semver_valid(const char *v);

/* Compares two valid semvers by semver precedence (build metadata ignored): <0, 0, >0. */
int mycel_semver_cmp(const char *a, const char *b);

/* One published version of a document. */
typedef struct mycel_doc_version {
	char version[MYCEL_VERSION_MAX + 1];
	mycel_doc_status status;
	uint8_t feed[MYCEL_PK_LEN]; /* the entry that published it */
	uint64_t seq;
	uint64_t ts_ms;
	uint8_t body_hash[MYCEL_HASH_LEN];
	unsigned denied; /* deny policies of the charter it violates (at most 255; mycel/policy.h) */
	unsigned warned; /* warn policies it violates */
} mycel_doc_version;

/* A document as the catalog knows it. Free with mycel_catalog_doc_fini. */
typedef struct mycel_catalog_doc {
	mycel_doc_kind kind;
	char domain[65];
	char id[MYCEL_ID_MAX + 1];
	char *name;        /* the current version's `name` (or ""), malloc'd */
	char *description; /* its description text (ODCS description.purpose, ODPS description.purpose, or a plain string), malloc'd, maybe "" */
	size_t current;    /* index in versions of the current version: the highest semver not retired (else the highest) */
	mycel_doc_version *versions; /* sorted by semver precedence, ascending; malloc'd */
	size_t n_versions;
	uint8_t *body; /* canonical body of the requested (or current) version, malloc'd */
	size_t body_len;
	size_t shown;  /* index in versions of the version body belongs to */
} mycel_catalog_doc;

void mycel_catalog_doc_fini(mycel_catalog_doc *d);

/*
 * Reads document (domain, id): every version with its status and the body of
 * `version` (NULL for the current one). ENOTFOUND if the document, or that
 * version, is not published.
 */
int mycel_catalog_get(mycel_store *s, const char *domain, const char *id, const char *version,
		      mycel_catalog_doc *out);

/*
 * Looks up one version without reading its body: 0 and *out, or ENOTFOUND.
 * (Publishing uses it to refuse a version that exists with other content.)
 */
int mycel_catalog_version(mycel_store *s, const char *domain, const char *id, const char *version,
			  mycel_doc_version *out);

/* ---- search ------------------------------------------------------------------------ */

#define MYCEL_SEARCH_TAGS_MAX 8
#define MYCEL_STATUS_ANY (-1)
#define MYCEL_STATUS_VISIBLE (-2) /* the usual default of a search: retired documents hidden */

typedef struct mycel_search_query {
	const char *text;   /* free text (words ANDed, case-insensitive, prefix match on the last word), or NULL */
	const char *domain; /* facets: each NULL for any */
	int kind;           /* 0 any, or a mycel_doc_kind */
	int status;         /* MYCEL_STATUS_VISIBLE (active and deprecated: retired hidden), MYCEL_STATUS_ANY, or one mycel_doc_status */
	const char *tags[MYCEL_SEARCH_TAGS_MAX]; /* all must be present */
	size_t n_tags;
	const char *classification; /* a schema property classification present in a contract */
	const char *server_type;    /* a servers[].type present in a contract */
	size_t limit;  /* most hits returned (default 20, at most 1000) */
	size_t offset; /* for paging */
	bool noncompliant; /* also documents whose current version violates a deny policy (hidden by default) */
} mycel_search_query;

typedef struct mycel_search_hit {
	mycel_doc_kind kind;
	char domain[65];
	char id[MYCEL_ID_MAX + 1];
	char version[MYCEL_VERSION_MAX + 1]; /* current version */
	mycel_doc_status status;
	char *name;    /* malloc'd */
	char *snippet; /* malloc'd: a short description, at most ~160 bytes */
	double score;
	const char *matched; /* best field that matched: "name", "id", "tag", "business name", "property", "description", or "" for facet-only queries */
	unsigned denied;     /* deny policies its current version violates (shown only with noncompliant) */
} mycel_search_hit;

typedef struct mycel_search_result {
	mycel_search_hit *hits;
	size_t n;
	size_t total; /* all matches, before offset/limit (a lower bound if !total_exact) */
	bool total_exact; /* false: a broad prefix stopped counting once the page was settled */
} mycel_search_result;

/*
 * Ranked search over the current version of every document: exact name or id
 * matches first, then matches in tags, business names and schema property
 * names, then descriptions; ties by domain then id. Facets filter. When the
 * last word is a short prefix that expands to many terms and postings, the
 * search stops once no later document can enter the requested page: the hits
 * are the same, total is then a lower bound and total_exact false. Returns 0
 * with possibly no hits; EINVAL for more than 32 words, an unknown kind or
 * status, or (with text) offset + limit beyond 10 000; ETOOBIG when the query
 * would read more than about 4 million postings (a very short prefix on a
 * large catalog: add a word or a facet).
 */
int mycel_catalog_search(mycel_store *s, const mycel_search_query *q, mycel_search_result *out);

void mycel_search_result_fini(mycel_search_result *r);

/* Counts per facet value over the current documents matching q (q->text and facets applied). */
typedef struct mycel_facet_count {
	char facet[16]; /* "domain", "kind", "status", "tag", "classification", "server" */
	char value[128];
	size_t count;
} mycel_facet_count;

int mycel_catalog_facets(mycel_store *s, const mycel_search_query *q, mycel_facet_count **out,
			 size_t *n);

/* ---- lineage ------------------------------------------------------------------------- */

typedef enum mycel_lineage_dir {
	MYCEL_LINEAGE_UP = 1,   /* what this document is made from */
	MYCEL_LINEAGE_DOWN = 2, /* what is made from it */
} mycel_lineage_dir;

/*
 * Lineage edges come from ODPS ports of current product versions:
 *   inputPorts[].contractId  C  gives  contract C --(input)--> product P
 *   outputPorts[].contractId C  gives  product P --(output)--> contract C
 * A contractId resolves to the contracts with that id in any domain: to one
 * (resolved), to none (dangling), or to several domains (ambiguous); the
 * latter two are kept and shown, never dropped.
 */
typedef struct mycel_lineage_node {
	int depth;           /* 0 for the start */
	int parent;          /* index of the node it was reached from, -1 for the start */
	mycel_doc_kind kind; /* of this node (a dangling or ambiguous node: MYCEL_DOC_CONTRACT) */
	char domain[65];     /* "" for dangling/ambiguous references */
	char id[MYCEL_ID_MAX + 1];
	char *name;          /* malloc'd, "" if unknown */
	const char *via;     /* "input" or "output": the port kind of the edge from the parent */
	char port[128];      /* the port's name */
	bool dangling;       /* no published contract has this id */
	bool ambiguous;      /* contracts with this id exist in several domains */
	char **candidates;   /* ambiguous: "domain/id" of each, malloc'd */
	size_t n_candidates;
	bool repeated;       /* already shown above (a diamond or a cycle): not expanded again */
} mycel_lineage_node;

typedef struct mycel_lineage {
	mycel_lineage_node *nodes; /* depth-first order, start first */
	size_t n;
} mycel_lineage;

/* Walks lineage from (domain, id) in one direction up to depth levels (1..32). ENOTFOUND if the start is unknown. */
int mycel_catalog_lineage(mycel_store *s, const char *domain, const char *id, mycel_lineage_dir dir,
			  int depth, mycel_lineage *out);

void mycel_lineage_fini(mycel_lineage *l);

/* ---- maintenance ---------------------------------------------------------------------- */

/*
 * Drops every derived table and rebuilds it from the feeds in one transaction.
 * The result is byte-identical to the tables built incrementally.
 */
int mycel_store_reindex(mycel_store *s);

/*
 * Calls fn for every key and value of every derived table, in a fixed order
 * (tests compare an incrementally built catalog with a reindexed one).
 */
typedef int (*mycel_dump_fn)(void *ctx, const char *table, const void *key, size_t key_len,
			     const void *val, size_t val_len);
int mycel_catalog_dump(mycel_store *s, mycel_dump_fn fn, void *ctx);

#endif
