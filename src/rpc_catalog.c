/*
 * rpc_catalog.c — the handlers of service mycel.v1.Catalog over the store.
 *
 * Each handler turns the decoded request into a catalog call and copies the result into
 * the reply message, in the request's arena. Replies that carry catalog data carry the
 * publishing entries and their bodies as stored (Entry messages), so a client can verify
 * them itself.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/transfer.h"
#include "mycel/catalog.h"
#include "mycel/charter.h"
#include "mycel/error.h"
#include "mycel/rpc.h"
#include "mycel/store.h"
#include "mycel_proto.h"
#include "rpc_int.h"

#define LIST_LIMIT_DEFAULT 100
#define LIST_LIMIT_MAX 1000
#define HISTORY_MAX 1000
#define LINEAGE_DEPTH_DEFAULT 8

static mycel_rpc_status fail(mycel_rpc_status st, char *why, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static mycel_rpc_status fail(mycel_rpc_status st, char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return st;
}

static mycel_rpc_status fail_err(int rv, char *why, size_t why_len, const char *what)
{
	return fail(mycel_rpc_status_of(rv), why, why_len, "%s: %s", what, mycel_strerror(rv));
}

/* A decoded string field as a C string: NULL if absent; EINVAL if it holds a NUL byte. */
static int cstr(const char *p, size_t len, const char **out)
{
	*out = NULL;
	if (p == NULL)
		return 0;
	if (memchr(p, '\0', len) != NULL)
		return MYCEL_EINVAL;
	*out = p;
	return 0;
}

static int required(const char *p, size_t len, const char *name, const char **out, char *why,
		    size_t why_len)
{
	if (cstr(p, len, out) != 0) {
		(void)snprintf(why, why_len, "%s contains a NUL byte", name);
		return -1;
	}
	if (*out == NULL || **out == '\0') {
		(void)snprintf(why, why_len, "%s is required", name);
		return -1;
	}
	return 0;
}

static char *adup(mycel_arena *a, const char *s)
{
	return mycel_arena_strdup(a, s ? s : "", s ? strlen(s) : 0);
}

/*
 * A document's free text (name, description) for a reply field bounded to max bytes (the
 * IDL's default string bound): copied whole when it fits, else cut at a UTF-8 character
 * boundary and ended with "…", so a long description never makes the whole reply fail. The
 * full text is in the entry's body, which the reply carries as stored.
 */
#define TEXT_MAX 65536u
static char *atext(mycel_arena *a, const char *s, size_t *out_len)
{
	size_t n = s ? strlen(s) : 0;
	if (n <= TEXT_MAX) {
		*out_len = n;
		return mycel_arena_strdup(a, s ? s : "", n);
	}
	size_t cut = TEXT_MAX - 3; /* room for the ellipsis */
	while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
		cut--; /* never split a character */
	char *p = mycel_arena_alloc(a, cut + 4);
	if (p == NULL)
		return NULL;
	memcpy(p, s, cut);
	memcpy(p + cut, "\xE2\x80\xA6", 4); /* "…" and the NUL */
	*out_len = cut + 3;
	return p;
}

static uint8_t *amem(mycel_arena *a, const void *p, size_t n)
{
	uint8_t *q = mycel_arena_alloc(a, n ? n : 1);
	if (q != NULL && n > 0)
		memcpy(q, p, n);
	return q;
}

static void *azalloc(mycel_arena *a, size_t n, size_t size)
{
	if (n == 0)
		return NULL;
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	void *p = mycel_arena_alloc(a, n * size);
	if (p != NULL)
		memset(p, 0, n * size);
	return p;
}

static int fill_version(mycel_arena *a, const mycel_doc_version *v, mycel_msg_DocVersion *out)
{
	out->version = adup(a, v->version);
	out->version_len = strlen(v->version);
	out->has_status = true;
	out->status = (uint64_t)v->status;
	out->feed = amem(a, v->feed, MYCEL_PK_LEN);
	out->feed_len = MYCEL_PK_LEN;
	out->has_seq = true;
	out->seq = v->seq;
	out->has_ts_ms = true;
	out->ts_ms = v->ts_ms;
	out->body_hash = amem(a, v->body_hash, MYCEL_HASH_LEN);
	out->body_hash_len = MYCEL_HASH_LEN;
	out->has_denied = v->denied > 0;
	out->denied = v->denied;
	out->has_warned = v->warned > 0;
	out->warned = v->warned;
	return out->version && out->feed && out->body_hash ? 0 : MYCEL_ENOMEM;
}

/* The entry at (feed, seq) and its body, as stored. */
/*
 * An Entry message for (feed, seq): the entry from the store, and the body given
 * (known_body, when the caller already read it) or read from the store.
 */
static int fill_entry_with(mycel_store *s, mycel_arena *a, const uint8_t feed[MYCEL_PK_LEN],
			   uint64_t seq, const uint8_t *known_body, size_t known_len,
			   mycel_msg_Entry *out)
{
	mycel_entry e;
	uint8_t *body = NULL;
	size_t body_len = 0;
	int rv = mycel_store_get(s, feed, seq, &e);
	if (rv != 0)
		return rv;
	if (known_body == NULL && (rv = mycel_store_get_body(s, feed, seq, &body, &body_len)) != 0)
		return rv;
	out->entry = amem(a, e.raw, e.len);
	out->entry_len = e.len;
	out->body = known_body != NULL ? amem(a, known_body, known_len) : amem(a, body, body_len);
	out->body_len = known_body != NULL ? known_len : body_len;
	free(body);
	return out->entry && out->body ? 0 : MYCEL_ENOMEM;
}

static int fill_entry(mycel_store *s, mycel_arena *a, const uint8_t feed[MYCEL_PK_LEN],
		      uint64_t seq, mycel_msg_Entry *out)
{
	return fill_entry_with(s, a, feed, seq, NULL, 0, out);
}

static int fill_hit(mycel_store *s, mycel_arena *a, const mycel_search_hit *h,
		    mycel_msg_SearchHit *out)
{
	mycel_transfer_info t;
	if (h->kind == MYCEL_DOC_PRODUCT && mycel_catalog_transfer(s, h->domain, h->id, &t) == 0 &&
	    t.transferred) {
		out->transferred_to = adup(a, t.to);
		out->transferred_to_len = strlen(t.to);
		if (out->transferred_to == NULL)
			return MYCEL_ENOMEM;
	}
	out->has_kind = true;
	out->kind = (uint64_t)h->kind;
	out->domain = adup(a, h->domain);
	out->domain_len = strlen(h->domain);
	out->id = adup(a, h->id);
	out->id_len = strlen(h->id);
	out->version = adup(a, h->version);
	out->version_len = strlen(h->version);
	out->has_status = true;
	out->status = (uint64_t)h->status;
	out->name = atext(a, h->name, &out->name_len);
	out->snippet = adup(a, h->snippet);
	out->snippet_len = h->snippet ? strlen(h->snippet) : 0;
	out->has_score = true;
	out->score = h->score;
	out->matched = adup(a, h->matched);
	out->matched_len = h->matched ? strlen(h->matched) : 0;
	out->has_denied = h->denied > 0;
	out->denied = h->denied;
	return out->domain && out->id && out->version && out->name && out->snippet && out->matched
		       ? 0
		       : MYCEL_ENOMEM;
}

/* ---- Get -------------------------------------------------------------------------- */

/* NOT_FOUND: not published, or its domain was removed by a charter version (history kept). */
static mycel_rpc_status not_found(mycel_store *s, const char *domain, const char *id,
				  const char *version, char *why, size_t why_len)
{
	uint64_t removed;
	if (mycel_store_domain_removed(s, domain, &removed) == 0)
		return fail(MYCEL_RPC_NOT_FOUND, why, why_len,
			    "%s/%s: domain %s was removed in charter version %llu (its history "
			    "stays in the feeds, its documents are no longer current)",
			    domain, id, domain, (unsigned long long)removed);
	return fail(MYCEL_RPC_NOT_FOUND, why, why_len, "%s/%s%s%s is not published", domain, id,
		    version ? " version " : "", version ? version : "");
}

static mycel_rpc_status h_get(mycel_store *s, mycel_arena *a, const void *vreq, void *vrep,
			      char *why, size_t why_len)
{
	const mycel_msg_GetRequest *rq = vreq;
	mycel_msg_GetReply *rp = vrep;
	const char *domain, *id, *version;
	mycel_catalog_doc d;
	int rv;

	if (required(rq->domain, rq->domain_len, "domain", &domain, why, why_len) != 0 ||
	    required(rq->id, rq->id_len, "id", &id, why, why_len) != 0)
		return MYCEL_RPC_INVALID_ARGUMENT;
	if (cstr(rq->version, rq->version_len, &version) != 0)
		return fail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len, "version contains a NUL byte");
	memset(&d, 0, sizeof(d));
	mycel_transfer_info t;
	if ((rv = mycel_catalog_transfer(s, domain, id, &t)) != 0 && rv != MYCEL_EINVAL)
		return fail_err(rv, why, why_len, "get");
	if (rv != 0)
		memset(&t, 0, sizeof(t));
	rv = mycel_catalog_get(s, domain, id, version, &d);
	if (rv == MYCEL_ENOTFOUND && t.received && version == NULL)
		return fail(MYCEL_RPC_NOT_FOUND, why, why_len,
			    "%s/%s was transferred to %s from %s (%s/%s, offer seq %llu, accepted at "
			    "seq %llu); %s has not published a version of it yet",
			    domain, id, domain, t.from, t.from, id, (unsigned long long)t.from_offer_seq,
			    (unsigned long long)t.from_accept_seq, domain);
	if (rv == MYCEL_ENOTFOUND)
		return not_found(s, domain, id, version, why, why_len);
	if (rv != 0)
		return fail_err(rv, why, why_len, "get");

	mycel_msg_DocVersion *vs = azalloc(a, d.n_versions, sizeof(*vs));
	mycel_msg_Entry *en = azalloc(a, 1, sizeof(*en));
	rv = (vs == NULL && d.n_versions > 0) || en == NULL ? MYCEL_ENOMEM : 0;
	for (size_t i = 0; rv == 0 && i < d.n_versions; i++)
		rv = fill_version(a, &d.versions[i], &vs[i]);
	if (rv == 0 && d.shown < d.n_versions)
		/* mycel_catalog_get already copied the shown version's body: no second read */
		rv = fill_entry_with(s, a, d.versions[d.shown].feed, d.versions[d.shown].seq,
				     d.body, d.body_len, en);
	if (rv == 0) {
		rp->has_kind = true;
		rp->kind = (uint64_t)d.kind;
		rp->domain = adup(a, d.domain);
		rp->domain_len = strlen(d.domain);
		rp->id = adup(a, d.id);
		rp->id_len = strlen(d.id);
		rp->entries = en;
		rp->n_entries = d.shown < d.n_versions ? 1 : 0;
		rp->versions = vs;
		rp->n_versions = d.n_versions;
		rp->has_current = true;
		rp->current = d.current;
		rp->has_shown = true;
		rp->shown = d.shown;
		rp->name = atext(a, d.name, &rp->name_len);
		rp->description = atext(a, d.description, &rp->description_len);
		if (!rp->domain || !rp->id || !rp->name || !rp->description)
			rv = MYCEL_ENOMEM;
		/* a product handed on: where it went, or where it came from (PROTOCOL.md §5.5) */
		if (rv == 0 && t.transferred) {
			rp->transferred_to = adup(a, t.to);
			rp->transferred_to_len = strlen(t.to);
			rp->has_transfer_offer_seq = rp->has_transfer_accept_seq = true;
			rp->transfer_offer_seq = t.offer_seq;
			rp->transfer_accept_seq = t.accept_seq;
			if (rp->transferred_to == NULL)
				rv = MYCEL_ENOMEM;
		}
		if (rv == 0 && t.received) {
			rp->transferred_from = adup(a, t.from);
			rp->transferred_from_len = strlen(t.from);
			if (rp->transferred_from == NULL)
				rv = MYCEL_ENOMEM;
		}
	}
	mycel_catalog_doc_fini(&d);
	return rv == 0 ? MYCEL_RPC_OK : fail_err(rv, why, why_len, "get");
}

/* ---- Search ----------------------------------------------------------------------- */

static mycel_rpc_status h_search(mycel_store *s, mycel_arena *a, const void *vreq, void *vrep,
				 char *why, size_t why_len)
{
	const mycel_msg_SearchRequest *rq = vreq;
	mycel_msg_SearchReply *rp = vrep;
	mycel_search_query q;
	mycel_search_result res;
	int rv;

	memset(&q, 0, sizeof(q));
	if (cstr(rq->text, rq->text_len, &q.text) != 0 ||
	    cstr(rq->domain, rq->domain_len, &q.domain) != 0 ||
	    cstr(rq->classification, rq->classification_len, &q.classification) != 0 ||
	    cstr(rq->server_type, rq->server_type_len, &q.server_type) != 0)
		return fail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len, "a string contains a NUL byte");
	if (rq->has_kind && rq->kind > 2)
		return fail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len, "unknown kind %llu",
			    (unsigned long long)rq->kind);
	q.kind = rq->has_kind ? (int)rq->kind : 0;
	if (rq->has_status && (rq->status < -2 || rq->status > 2))
		return fail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len, "unknown status %lld",
			    (long long)rq->status);
	q.status = rq->has_status ? (int)rq->status : MYCEL_STATUS_VISIBLE;
	if (rq->n_tags > MYCEL_SEARCH_TAGS_MAX)
		return fail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "more than %d tags",
			    MYCEL_SEARCH_TAGS_MAX);
	for (size_t i = 0; i < rq->n_tags; i++)
		if (cstr(rq->tags[i].ptr, rq->tags[i].len, &q.tags[i]) != 0 || q.tags[i] == NULL)
			return fail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len, "bad tag %zu", i);
	q.n_tags = rq->n_tags;
	if (rq->has_limit && (rq->limit == 0 || rq->limit > 1000))
		return fail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len, "limit must be 1..1000");
	q.limit = rq->has_limit ? (size_t)rq->limit : 0;
	if (rq->has_offset && rq->offset > 1000000000u)
		return fail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len, "offset too large");
	q.offset = rq->has_offset ? (size_t)rq->offset : 0;
	q.noncompliant = rq->has_noncompliant && rq->noncompliant;

	memset(&res, 0, sizeof(res));
	rv = mycel_catalog_search(s, &q, &res);
	if (rv != 0)
		return fail_err(rv, why, why_len, "search");
	mycel_msg_SearchHit *hits = azalloc(a, res.n, sizeof(*hits));
	rv = hits == NULL && res.n > 0 ? MYCEL_ENOMEM : 0;
	for (size_t i = 0; rv == 0 && i < res.n; i++)
		rv = fill_hit(s, a, &res.hits[i], &hits[i]);
	rp->hits = hits;
	rp->n_hits = res.n;
	rp->has_total = true;
	rp->total = res.total;
	rp->has_total_exact = true;
	rp->total_exact = res.total_exact;
	mycel_search_result_fini(&res);
	if (rv != 0)
		return fail_err(rv, why, why_len, "search");

	if (rq->has_facets && rq->facets) {
		mycel_facet_count *fc = NULL;
		size_t nf = 0;
		rv = mycel_catalog_facets(s, &q, &fc, &nf);
		if (rv != 0)
			return fail_err(rv, why, why_len, "facets");
		mycel_msg_FacetCount *out = azalloc(a, nf, sizeof(*out));
		rv = out == NULL && nf > 0 ? MYCEL_ENOMEM : 0;
		for (size_t i = 0; rv == 0 && i < nf; i++) {
			out[i].facet = adup(a, fc[i].facet);
			out[i].facet_len = strlen(fc[i].facet);
			out[i].value = adup(a, fc[i].value);
			out[i].value_len = strlen(fc[i].value);
			out[i].has_count = true;
			out[i].count = fc[i].count;
			if (!out[i].facet || !out[i].value)
				rv = MYCEL_ENOMEM;
		}
		free(fc);
		if (rv != 0)
			return fail_err(rv, why, why_len, "facets");
		rp->facets = out;
		rp->n_facets = nf;
	}
	return MYCEL_RPC_OK;
}

/* ---- List ------------------------------------------------------------------------- */

/*
 * The documents of a domain (of any status), ordered by id, a page at a time. The cursor
 * `after`/`next` is the decimal offset of the page's first document.
 */
static mycel_rpc_status h_list(mycel_store *s, mycel_arena *a, const void *vreq, void *vrep,
			       char *why, size_t why_len)
{
	const mycel_msg_ListRequest *rq = vreq;
	mycel_msg_ListReply *rp = vrep;
	mycel_search_query q;
	mycel_search_result res;
	const char *domain;
	size_t offset = 0;
	int rv;

	if (required(rq->domain, rq->domain_len, "domain", &domain, why, why_len) != 0)
		return MYCEL_RPC_INVALID_ARGUMENT;
	if (rq->has_kind && rq->kind > 2)
		return fail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len, "unknown kind %llu",
			    (unsigned long long)rq->kind);
	if (rq->after != NULL) {
		if (rq->after_len == 0 || rq->after_len > 9)
			return fail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len, "bad cursor");
		for (size_t i = 0; i < rq->after_len; i++) {
			if (rq->after[i] < '0' || rq->after[i] > '9')
				return fail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len, "bad cursor");
			offset = offset * 10 + (size_t)(rq->after[i] - '0');
		}
	}
	if (rq->has_limit && (rq->limit == 0 || rq->limit > LIST_LIMIT_MAX))
		return fail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len, "limit must be 1..%d",
			    LIST_LIMIT_MAX);
	memset(&q, 0, sizeof(q));
	q.domain = domain;
	q.kind = rq->has_kind ? (int)rq->kind : 0;
	q.status = MYCEL_STATUS_ANY;
	q.limit = rq->has_limit ? (size_t)rq->limit : LIST_LIMIT_DEFAULT;
	q.offset = offset;
	memset(&res, 0, sizeof(res));
	rv = mycel_catalog_search(s, &q, &res);
	if (rv != 0)
		return fail_err(rv, why, why_len, "list");
	mycel_msg_SearchHit *docs = azalloc(a, res.n, sizeof(*docs));
	rv = docs == NULL && res.n > 0 ? MYCEL_ENOMEM : 0;
	for (size_t i = 0; rv == 0 && i < res.n; i++)
		rv = fill_hit(s, a, &res.hits[i], &docs[i]);
	rp->docs = docs;
	rp->n_docs = res.n;
	if (rv == 0 && res.n > 0 && offset + res.n < res.total) {
		char next[32];
		int len = snprintf(next, sizeof(next), "%zu", offset + res.n);
		rp->next = mycel_arena_strdup(a, next, (size_t)len);
		rp->next_len = (size_t)len;
		if (rp->next == NULL)
			rv = MYCEL_ENOMEM;
	}
	mycel_search_result_fini(&res);
	return rv == 0 ? MYCEL_RPC_OK : fail_err(rv, why, why_len, "list");
}

/* ---- Lineage ---------------------------------------------------------------------- */

static mycel_rpc_status h_lineage(mycel_store *s, mycel_arena *a, const void *vreq, void *vrep,
				  char *why, size_t why_len)
{
	const mycel_msg_LineageRequest *rq = vreq;
	mycel_msg_LineageReply *rp = vrep;
	const char *domain, *id;
	mycel_lineage l;
	int rv;

	if (required(rq->domain, rq->domain_len, "domain", &domain, why, why_len) != 0 ||
	    required(rq->id, rq->id_len, "id", &id, why, why_len) != 0)
		return MYCEL_RPC_INVALID_ARGUMENT;
	if (!rq->has_direction || (rq->direction != 1 && rq->direction != 2))
		return fail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len,
			    "direction must be 1 (up) or 2 (down)");
	if (rq->has_depth && (rq->depth < 1 || rq->depth > 32))
		return fail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len, "depth must be 1..32");
	memset(&l, 0, sizeof(l));
	rv = mycel_catalog_lineage(s, domain, id, (mycel_lineage_dir)rq->direction,
				   rq->has_depth ? (int)rq->depth : LINEAGE_DEPTH_DEFAULT, &l);
	if (rv == MYCEL_ENOTFOUND)
		return not_found(s, domain, id, NULL, why, why_len);
	if (rv != 0)
		return fail_err(rv, why, why_len, "lineage");
	mycel_msg_LineageNode *nodes = azalloc(a, l.n, sizeof(*nodes));
	rv = nodes == NULL && l.n > 0 ? MYCEL_ENOMEM : 0;
	for (size_t i = 0; rv == 0 && i < l.n; i++) {
		const mycel_lineage_node *n = &l.nodes[i];
		mycel_msg_LineageNode *o = &nodes[i];
		o->has_depth = true;
		o->depth = n->depth;
		o->has_parent = true;
		o->parent = n->parent;
		o->has_kind = true;
		o->kind = (uint64_t)n->kind;
		o->domain = adup(a, n->domain);
		o->domain_len = strlen(n->domain);
		o->id = adup(a, n->id);
		o->id_len = strlen(n->id);
		o->name = atext(a, n->name, &o->name_len);
		if (n->via != NULL) {
			o->via = adup(a, n->via);
			o->via_len = strlen(n->via);
		}
		if (n->port[0] != '\0') {
			o->port = adup(a, n->port);
			o->port_len = strlen(n->port);
		}
		o->has_dangling = true;
		o->dangling = n->dangling;
		o->has_ambiguous = true;
		o->ambiguous = n->ambiguous;
		o->has_already_shown = true;
		o->already_shown = n->repeated;
		if (!o->domain || !o->id || !o->name || (n->via && !o->via) ||
		    (n->port[0] && !o->port))
			rv = MYCEL_ENOMEM;
		if (rv == 0 && n->n_candidates > 0) {
			mycel_str *c = azalloc(a, n->n_candidates, sizeof(*c));
			if (c == NULL)
				rv = MYCEL_ENOMEM;
			for (size_t j = 0; rv == 0 && j < n->n_candidates; j++) {
				c[j].ptr = adup(a, n->candidates[j]);
				c[j].len = strlen(n->candidates[j]);
				if (c[j].ptr == NULL)
					rv = MYCEL_ENOMEM;
			}
			o->candidates = c;
			o->n_candidates = n->n_candidates;
		}
	}
	rp->nodes = nodes;
	rp->n_nodes = l.n;
	mycel_lineage_fini(&l);
	return rv == 0 ? MYCEL_RPC_OK : fail_err(rv, why, why_len, "lineage");
}

/* ---- History ---------------------------------------------------------------------- */

/*
 * The versions of a document (ascending semver precedence) with the entry that published
 * each, and its body; with limit, only the newest limit versions.
 */
static mycel_rpc_status h_history(mycel_store *s, mycel_arena *a, const void *vreq, void *vrep,
				  char *why, size_t why_len)
{
	const mycel_msg_HistoryRequest *rq = vreq;
	mycel_msg_HistoryReply *rp = vrep;
	const char *domain, *id;
	mycel_catalog_doc d;
	int rv;

	if (required(rq->domain, rq->domain_len, "domain", &domain, why, why_len) != 0 ||
	    required(rq->id, rq->id_len, "id", &id, why, why_len) != 0)
		return MYCEL_RPC_INVALID_ARGUMENT;
	if (rq->has_limit && (rq->limit == 0 || rq->limit > HISTORY_MAX))
		return fail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len, "limit must be 1..%d",
			    HISTORY_MAX);
	memset(&d, 0, sizeof(d));
	rv = mycel_catalog_get(s, domain, id, NULL, &d);
	if (rv == MYCEL_ENOTFOUND)
		return not_found(s, domain, id, NULL, why, why_len);
	if (rv != 0)
		return fail_err(rv, why, why_len, "history");
	size_t limit = rq->has_limit ? (size_t)rq->limit : HISTORY_MAX;
	size_t first = d.n_versions > limit ? d.n_versions - limit : 0;
	size_t n = d.n_versions - first;
	mycel_msg_DocVersion *vs = azalloc(a, n, sizeof(*vs));
	mycel_msg_Entry *en = azalloc(a, n, sizeof(*en));
	rv = n > 0 && (vs == NULL || en == NULL) ? MYCEL_ENOMEM : 0;
	for (size_t i = 0; rv == 0 && i < n; i++) {
		const mycel_doc_version *v = &d.versions[first + i];
		rv = fill_version(a, v, &vs[i]);
		if (rv == 0)
			rv = fill_entry(s, a, v->feed, v->seq, &en[i]);
	}
	mycel_catalog_doc_fini(&d);
	if (rv != 0)
		return fail_err(rv, why, why_len, "history");
	rp->versions = vs;
	rp->n_versions = n;
	rp->entries = en;
	rp->n_entries = n;
	return MYCEL_RPC_OK;
}

/* ---- Status ----------------------------------------------------------------------- */

typedef struct heads_ctx {
	const mycel_charter *ch; /* heads only of feeds it admits (a removed domain's are held, not shown) */
	mycel_arena *a;
	mycel_msg_FeedHead *heads;
	size_t n, cap;
	uint64_t entries;
	int err;
} heads_ctx;

static int head_cb(void *vctx, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
		   const uint8_t id[MYCEL_HASH_LEN])
{
	heads_ctx *c = vctx;
	if (c->ch != NULL && mycel_charter_admits(c->ch, feed, seq, NULL) != 0) {
		c->entries += seq; /* held all the same */
		return 0;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		if (cap > 100000)
			return MYCEL_ETOOBIG;
		mycel_msg_FeedHead *h = azalloc(c->a, cap, sizeof(*h));
		if (h == NULL)
			return MYCEL_ENOMEM;
		if (c->n > 0)
			memcpy(h, c->heads, c->n * sizeof(*h));
		c->heads = h;
		c->cap = cap;
	}
	mycel_msg_FeedHead *h = &c->heads[c->n++];
	h->feed = amem(c->a, feed, MYCEL_PK_LEN);
	h->feed_len = MYCEL_PK_LEN;
	h->has_seq = true;
	h->seq = seq;
	h->head = amem(c->a, id, MYCEL_HASH_LEN);
	h->head_len = MYCEL_HASH_LEN;
	c->entries += seq; /* seqs start at 1 */
	return h->feed && h->head ? 0 : MYCEL_ENOMEM;
}

static mycel_rpc_status h_status(mycel_store *s, mycel_arena *a, const void *vreq, void *vrep,
				 char *why, size_t why_len)
{
	mycel_msg_StatusReply *rp = vrep;
	const mycel_charter *c = mycel_store_charter(s);
	uint8_t hash[MYCEL_HASH_LEN];
	heads_ctx hc;
	int rv;
	(void)vreq;

	rp->node = "mycel " MYCEL_RPC_NODE_VERSION;
	rp->node_len = strlen(rp->node);
	if (c != NULL) {
		if (mycel_store_mesh_id(s, hash) == 0) {
			rp->mesh_id = amem(a, hash, sizeof(hash));
			rp->mesh_id_len = sizeof(hash);
		}
		if (mycel_charter_digest(c, hash) == 0) {
			rp->charter_hash = amem(a, hash, sizeof(hash));
			rp->charter_hash_len = sizeof(hash);
		}
		rp->has_charter_version = true;
		rp->charter_version = mycel_charter_version(c);
	}
	memset(&hc, 0, sizeof(hc));
	hc.a = a;
	hc.ch = c;
	rv = mycel_store_feeds(s, head_cb, &hc);
	if (rv != 0)
		return fail_err(rv, why, why_len, "status: feeds");
	rp->heads = hc.heads;
	rp->n_heads = hc.n;
	rp->has_feeds = true;
	rp->feeds = hc.n;
	rp->has_entries = true;
	rp->entries = hc.entries;

	mycel_search_query q;
	mycel_search_result res;
	memset(&q, 0, sizeof(q));
	memset(&res, 0, sizeof(res));
	q.status = MYCEL_STATUS_ANY;
	q.limit = 1;
	rv = mycel_catalog_search(s, &q, &res);
	if (rv != 0)
		return fail_err(rv, why, why_len, "status: documents");
	rp->has_documents = true;
	rp->documents = res.total;
	mycel_search_result_fini(&res);
	return MYCEL_RPC_OK;
}

/* ---- table ------------------------------------------------------------------------ */

static const struct {
	const char *name;
	mycel_rpc_handler h;
} handlers[] = {
	{"mycel.v1.Catalog/Get", h_get},
	{"mycel.v1.Catalog/Search", h_search},
	{"mycel.v1.Catalog/List", h_list},
	{"mycel.v1.Catalog/Lineage", h_lineage},
	{"mycel.v1.Catalog/History", h_history},
	{"mycel.v1.Catalog/Status", h_status},
};

mycel_rpc_handler mycel_rpc_catalog_handler(const mycel_method *m)
{
	for (size_t i = 0; m != NULL && i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (strcmp(handlers[i].name, m->name) == 0)
			return handlers[i].h;
	return NULL;
}
