/*
 * rpc_admin.c — the handlers of service mycel.v1.Admin (served on the ipc socket only).
 *
 * Publish parses and lints every document of the request (YAML or JSON text) and publishes
 * them together into the domain's feed with one mycel_publish call: one transaction, all or
 * none. Deprecate and Retire append a lifecycle entry with mycel_publish_lifecycle; Reindex
 * rebuilds the catalog. Every write is handed to the node's writer thread (ctx->wq:
 * group commit, src/writer.h), or without one made here under the context's writer mutex,
 * so one writer at a time. Peers (Admin/Peers, and Mesh/Peers, which this table also
 * serves on the public socket) lists the seed peers the node was given.
 *
 * A refused request's message lists every refused document's findings, one per line, as
 * `file:line:col: /pointer: message`; file is the document's path, or `<document N>`
 * (N counted from 1) when the request gave none.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mycel/catalog.h"
#include "mycel/diag.h"
#include "mycel/diff.h"
#include "mycel/doc.h"
#include "mycel/error.h"
#include "mycel/lint.h"
#include "mycel/publish.h"
#include "mycel/rpc.h"
#include "mycel_proto.h"
#include "feedkey.h"
#include "mesh.h"
#include "rpc_int.h"
#include "util.h"
#include "writer.h"

/* An append refused with EPERM: the node's key is not the one that signs its feed now. */
#define NOT_SIGNER                                                                          \
	"this node's key does not sign its domain's feed now (the feed's key was rotated "    \
	"to another key: see `mycel log`, kind key)"

static mycel_rpc_status afail(mycel_rpc_status st, char *why, size_t why_len, const char *fmt,
			      ...) __attribute__((format(printf, 4, 5)));
static mycel_rpc_status afail(mycel_rpc_status st, char *why, size_t why_len, const char *fmt,
			      ...)
{
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return st;
}

static mycel_rpc_status no_key(const mycel_rpc_ctx *c, char *why, size_t why_len)
{
	if (c->key != NULL && c->domain != NULL && c->domain[0] != '\0')
		return MYCEL_RPC_OK;
	return afail(MYCEL_RPC_FAILED_PRECONDITION, why, why_len, "this node has no domain key");
}

/*
 * Executes one prepared write: through the node's writer thread when there is one (it may
 * commit it together with other requests' writes), else here under the writer mutex.
 * Returns w->rv; EBUSY (w->why set) when the node is stopping.
 */
static int run_write(const mycel_rpc_ctx *c, mycel__write *w)
{
	if (c->wq != NULL)
		return mycel__writer_submit(c->wq, w);
	if (c->writer != NULL)
		pthread_mutex_lock(c->writer);
	mycel__write_exec(c, &w, 1, NULL);
	if (c->writer != NULL)
		pthread_mutex_unlock(c->writer);
	return w->rv;
}

/* A decoded string field: NULL when absent or empty; -1 (why set) when it holds a NUL. */
static int field(const char *p, size_t len, const char *name, const char **out, char *why,
		 size_t why_len)
{
	*out = NULL;
	if (p == NULL || len == 0)
		return 0;
	if (memchr(p, '\0', len) != NULL) {
		(void)snprintf(why, why_len, "%s contains a NUL byte", name);
		return -1;
	}
	*out = p;
	return 0;
}

static uint8_t *amem(mycel_arena *a, const void *p, size_t n)
{
	uint8_t *q = mycel_arena_alloc(a, n ? n : 1);
	if (q != NULL && n > 0)
		memcpy(q, p, n);
	return q;
}

/* An Entry message for e, with its body read back from the store. */
static int entry_msg(mycel_store *s, mycel_arena *a, const mycel_entry *e, mycel_msg_Entry **out)
{
	uint8_t *body = NULL;
	size_t body_len = 0;
	mycel_msg_Entry *m = mycel_arena_alloc(a, sizeof(*m));
	if (m == NULL)
		return MYCEL_ENOMEM;
	memset(m, 0, sizeof(*m));
	int rv = mycel_store_get_body(s, e->h.feed, e->h.seq, &body, &body_len);
	if (rv != 0)
		return rv;
	m->entry = amem(a, e->raw, e->len);
	m->entry_len = e->len;
	m->body = amem(a, body, body_len);
	m->body_len = body_len;
	free(body);
	if (m->entry == NULL || m->body == NULL)
		return MYCEL_ENOMEM;
	*out = m;
	return 0;
}

static char *adup(mycel_arena *a, const char *s, size_t *len)
{
	*len = s ? strlen(s) : 0;
	return mycel_arena_strdup(a, s ? s : "", *len);
}

/* ---- Publish ---------------------------------------------------------------------- */

/* Publishes the linted items in one transaction (all or none) and reports each new entry. */
static int publish_write(const mycel_rpc_ctx *c, const mycel_msg_PublishRequest *rq,
			 mycel_publish_item *it, size_t n, mycel__write *w)
{
	memset(w, 0, sizeof(*w));
	w->kind = MYCEL__WRITE_PUBLISH;
	w->items = it;
	w->n_items = n;
	for (size_t i = 0; i < rq->n_documents; i++)
		w->bytes += rq->documents[i].document_len;
	return run_write(c, w);
}

/* One document of a Publish request, as the handler works on it. */
typedef struct pub_doc {
	const char *file; /* its path, or "<document N>" */
	mycel_diags d;
	mycel_diags w;    /* violated warn policies */
	int rv;           /* parse or lint result */
	bool parsed;
} pub_doc;

/* The violated warn policies of one document, as reply strings "line:col: /ptr: message". */
static int warn_strings(mycel_arena *a, const mycel_diags *w, mycel_msg_Published *o)
{
	size_t n = w->len < 256 ? w->len : 256;
	if (n == 0)
		return 0;
	mycel_str *s = mycel_arena_alloc(a, n * sizeof(*s));
	if (s == NULL)
		return MYCEL_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const mycel_finding *f = &w->items[i];
		char line[1200];
		(void)snprintf(line, sizeof(line), "%u:%u: %s: %s", (unsigned)f->line,
			       (unsigned)f->col, f->pointer[0] ? f->pointer : "/", f->message);
		if ((s[i].ptr = adup(a, line, &s[i].len)) == NULL)
			return MYCEL_ENOMEM;
	}
	o->warnings = s;
	o->n_warnings = n;
	return 0;
}

/* Appends to why (at off) the findings of one document, each line `file:line:col: /ptr: msg`. */
static size_t put_doc(char *why, size_t why_len, size_t off, const char *head, const pub_doc *pd)
{
	if (off + 1 >= why_len)
		return off;
	int k = snprintf(why + off, why_len - off, "%s%s", off > 0 ? "\n" : "", head);
	if (k < 0 || (size_t)k >= why_len - off) {
		why[off] = '\0';
		return off;
	}
	off += (size_t)k;
	size_t shown = 0;
	for (size_t i = 0; i < pd->d.len && off + 1 < why_len; i++) {
		const mycel_finding *f = &pd->d.items[i];
		k = snprintf(why + off, why_len - off, "\n%s:%u:%u: %s: %s", pd->file,
			     (unsigned)f->line, (unsigned)f->col, f->pointer[0] ? f->pointer : "/",
			     f->message);
		if (k < 0 || (size_t)k >= why_len - off) {
			why[off] = '\0';
			break;
		}
		off += (size_t)k;
		shown++;
	}
	size_t more = pd->d.len - shown + pd->d.dropped;
	if (more > 0 && off + 1 < why_len) {
		k = snprintf(why + off, why_len - off, "\n(%zu more)", more);
		if (k > 0 && (size_t)k < why_len - off)
			off += (size_t)k;
		else
			why[off] = '\0';
	}
	return off;
}

static mycel_rpc_status parse_status(int rv)
{
	return rv == MYCEL_ENOMEM || rv == MYCEL_ETOOBIG ? MYCEL_RPC_RESOURCE_EXHAUSTED
							 : MYCEL_RPC_INVALID_ARGUMENT;
}

/*
 * Publish: every document is parsed and linted here (on the serving thread); then all of
 * them go through one mycel_publish call (mycel_rpc_write), one transaction: all or none.
 * A refusal reports every refused document's findings, so the user sees all at once.
 */
static mycel_rpc_status h_publish(const mycel_rpc_ctx *c, mycel_arena *a, const void *vreq,
				  void *vrep, char *why, size_t why_len)
{
	const mycel_msg_PublishRequest *rq = vreq;
	mycel_msg_PublishReply *rp = vrep;
	mycel_rpc_status st;
	size_t n = rq->n_documents, bad = 0;
	pub_doc *pd = NULL;
	mycel_publish_item *it = NULL;
	int rv = 0;

	if ((st = no_key(c, why, why_len)) != MYCEL_RPC_OK)
		return st;
	if (n == 0)
		return afail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len,
			     "documents: at least one document is required");
	pd = mycel_arena_alloc(a, n * sizeof(*pd));
	it = mycel_arena_alloc(a, n * sizeof(*it));
	if (pd == NULL || it == NULL)
		return afail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
	memset(pd, 0, n * sizeof(*pd));
	memset(it, 0, n * sizeof(*it));
	for (size_t i = 0; i < n; i++) {
		mycel_diags_init(&pd[i].d, 0);
		mycel_diags_init(&pd[i].w, 256);
	}

	/* names first, so that every message can use them */
	for (size_t i = 0; i < n; i++) {
		const mycel_msg_PublishDoc *doc = &rq->documents[i];
		if (field(doc->path, doc->path_len, "path", &pd[i].file, why, why_len) != 0) {
			char tmp[64];
			(void)snprintf(tmp, sizeof(tmp), "document %zu: ", i + 1);
			size_t tl = strlen(tmp), wl = strnlen(why, why_len - 1);
			if (tl + wl < why_len) {
				memmove(why + tl, why, wl + 1);
				memcpy(why, tmp, tl);
			}
			st = MYCEL_RPC_INVALID_ARGUMENT;
			goto out;
		}
		if (pd[i].file == NULL) {
			char name[48];
			(void)snprintf(name, sizeof(name), "<document %zu>", i + 1);
			pd[i].file = mycel_arena_strdup(a, name, strlen(name));
			if (pd[i].file == NULL) {
				st = afail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
				goto out;
			}
		}
	}
	/* parse and lint every document; collect every finding */
	for (size_t i = 0; i < n; i++) {
		const mycel_msg_PublishDoc *doc = &rq->documents[i];
		mycel_value *v = NULL;
		if (doc->document == NULL || doc->document_len == 0) {
			mycel_diags_add(&pd[i].d, 1, 1, "", "the document is empty");
			pd[i].rv = MYCEL_EINVAL;
			bad++;
			continue;
		}
		pd[i].rv = mycel_doc_parse((const char *)doc->document, doc->document_len, NULL, a,
					   &v, &pd[i].d);
		if (pd[i].rv != 0) {
			bad++;
			continue;
		}
		pd[i].parsed = true;
		it[i].doc = v;
		it[i].diags = &pd[i].d;
		it[i].warnings = &pd[i].w;
		pd[i].rv = mycel_lint_value(v, &it[i].info, &pd[i].d);
		if (pd[i].rv == 0 && rq->dry_run)
			pd[i].rv = mycel_lint_publishable(v, &it[i].info, c->domain, &pd[i].d);
		if (pd[i].rv == 0 && rq->dry_run && it[i].info.kind == MYCEL_DOC_CONTRACT)
			pd[i].rv = mycel_diff_check_published(c->store, c->domain, v, NULL, 0, &pd[i].d);
		if (pd[i].rv == 0 && rq->dry_run)
			pd[i].rv = mycel_publish_gate(c->store, c->domain, v, &it[i].info,
						      mycel__now_ms(), &pd[i].d, &pd[i].w);
		if (pd[i].rv != 0)
			bad++;
	}
	if (bad > 0) {
		size_t off = 0;
		int worst = 0;
		bool all_breaking = true; /* a dry run refused only for breaking changes */
		st = MYCEL_RPC_INVALID_ARGUMENT;
		for (size_t i = 0; i < n; i++) {
			char head[4400];
			if (pd[i].rv == 0)
				continue;
			if (worst == 0 || parse_status(pd[i].rv) == MYCEL_RPC_RESOURCE_EXHAUSTED)
				worst = pd[i].rv;
			if (pd[i].rv != MYCEL_EBREAKING)
				all_breaking = false;
			if (!pd[i].parsed)
				(void)snprintf(head, sizeof(head),
					       "%s: document %zu of %zu does not parse (%s)", pd[i].file,
					       i + 1, n, mycel_strerror(pd[i].rv));
			else if (pd[i].rv == MYCEL_EBREAKING)
				(void)snprintf(head, sizeof(head),
					       "%s: document %zu of %zu makes breaking changes without "
					       "a new major version (%zu finding%s)",
					       pd[i].file, i + 1, n, pd[i].d.len + pd[i].d.dropped,
					       pd[i].d.len + pd[i].d.dropped == 1 ? "" : "s");
			else
				(void)snprintf(head, sizeof(head),
					       "%s: document %zu of %zu is not valid (%zu finding%s)",
					       pd[i].file, i + 1, n, pd[i].d.len + pd[i].d.dropped,
					       pd[i].d.len + pd[i].d.dropped == 1 ? "" : "s");
			off = put_doc(why, why_len, off, head, &pd[i]);
		}
		if (worst == MYCEL_ENOMEM || worst == MYCEL_ETOOBIG)
			st = MYCEL_RPC_RESOURCE_EXHAUSTED;
		else if (all_breaking) /* a dry run, as the publish would answer */
			st = mycel_rpc_status_of(MYCEL_EBREAKING);
		if (!rq->dry_run && off + 1 < why_len)
			(void)snprintf(why + off, why_len - off, "\nnothing was published");
		goto out;
	}

	if (!rq->dry_run) {
		mycel__write *w = mycel_arena_alloc(a, sizeof(*w));
		if (w == NULL) {
			st = afail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
			goto out;
		}
		rv = publish_write(c, rq, it, n, w);
		if (rv == MYCEL_EBUSY) {
			st = afail(MYCEL_RPC_UNAVAILABLE, why, why_len, "%s", w->why);
			goto out;
		}
		if (rv != 0) {
			size_t off = 0;
			st = rv == MYCEL_EINVAL ? MYCEL_RPC_INVALID_ARGUMENT
			     : rv == MYCEL_EEXIST ? MYCEL_RPC_ALREADY_EXISTS
						  : mycel_rpc_status_of(rv);
			for (size_t i = 0; i < n; i++) {
				char head[4400];
				if (pd[i].d.len + pd[i].d.dropped == 0)
					continue;
				(void)snprintf(head, sizeof(head), "%s: document %zu of %zu: %s",
					       pd[i].file, i + 1, n,
					       rv == MYCEL_EEXIST
						   ? "it conflicts with what is published"
					       : rv == MYCEL_EPOLICY || rv == MYCEL_EEXPR
						   ? "it violates the charter's policies"
					       : rv == MYCEL_EBREAKING
						   ? "it makes breaking changes without a new major "
						     "version"
						   : "it breaks the publishing rules");
				off = put_doc(why, why_len, off, head, &pd[i]);
			}
			const char *what = rv == MYCEL_EINVAL ? "a document breaks the publishing rules"
					   : rv == MYCEL_EEXIST
					       ? "a document conflicts with what is published"
					   : rv == MYCEL_EPOLICY
					       ? "a document violates a deny policy of the charter"
					   : rv == MYCEL_EBREAKING
					       ? "a contract makes breaking changes without a new major "
						 "version (bump the major version, or see docs/contracts.md)"
					   : rv == MYCEL_EPERM ? NOT_SIGNER
							       : mycel_strerror(rv);
			if (off + 1 < why_len)
				(void)snprintf(why + off, why_len - off,
					       "%snot published: %s; nothing was published",
					       off > 0 ? "\n" : "", what);
			goto out;
		}
	}

	/* the reply: one Published per document, then the new entries in feed order */
	mycel_msg_Published *out = mycel_arena_alloc(a, n * sizeof(*out));
	mycel_msg_Entry *ents = mycel_arena_alloc(a, n * sizeof(*ents));
	if (out == NULL || ents == NULL) {
		st = afail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
		goto out;
	}
	memset(out, 0, n * sizeof(*out));
	size_t ne = 0;
	for (size_t i = 0; i < n; i++) {
		mycel_msg_Published *o = &out[i];
		const mycel_msg_PublishDoc *doc = &rq->documents[i];
		if (doc->path != NULL) {
			o->path = doc->path;
			o->path_len = doc->path_len;
		}
		o->domain = adup(a, c->domain, &o->domain_len);
		o->id = adup(a, it[i].info.id, &o->id_len);
		o->version = adup(a, it[i].info.version, &o->version_len);
		o->has_kind = true;
		o->kind = (uint64_t)it[i].info.kind;
		if (o->domain == NULL || o->id == NULL || o->version == NULL ||
		    warn_strings(a, &pd[i].w, o) != 0) {
			st = afail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
			goto out;
		}
		if (rq->dry_run)
			continue;
		o->has_unchanged = true;
		o->unchanged = it[i].unchanged;
		if (it[i].unchanged)
			continue;
		o->has_seq = true;
		o->seq = it[i].entry.h.seq;
	}
	/* items append in request order, so their seqs ascend with the index */
	for (size_t i = 0; !rq->dry_run && i < n; i++) {
		mycel_msg_Entry *en = NULL;
		if (it[i].unchanged)
			continue;
		if ((rv = entry_msg(c->store, a, &it[i].entry, &en)) != 0) {
			st = afail(mycel_rpc_status_of(rv), why, why_len,
				   "published, but the entry cannot be read back: %s",
				   mycel_strerror(rv));
			goto out;
		}
		ents[ne++] = *en;
	}
	rp->documents = out;
	rp->n_documents = n;
	rp->entries = ne > 0 ? ents : NULL;
	rp->n_entries = ne;
	st = MYCEL_RPC_OK;
out:
	for (size_t i = 0; i < n; i++) {
		mycel_diags_fini(&pd[i].d);
		mycel_diags_fini(&pd[i].w);
	}
	return st;
}


/* ---- Deprecate, Retire -------------------------------------------------------------- */

static mycel_rpc_status change_status(const mycel_rpc_ctx *c, mycel_arena *a, const void *vreq,
				      void *vrep, mycel_doc_status status, char *why,
				      size_t why_len)
{
	const mycel_msg_ChangeStatusRequest *rq = vreq;
	mycel_msg_ChangeStatusReply *rp = vrep;
	const char *id, *version, *reason;
	mycel_rpc_status st;

	if ((st = no_key(c, why, why_len)) != MYCEL_RPC_OK)
		return st;
	if (field(rq->id, rq->id_len, "id", &id, why, why_len) != 0 ||
	    field(rq->version, rq->version_len, "version", &version, why, why_len) != 0 ||
	    field(rq->reason, rq->reason_len, "reason", &reason, why, why_len) != 0)
		return MYCEL_RPC_INVALID_ARGUMENT;
	if (id == NULL)
		return afail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len, "id is required");
	if (version == NULL)
		return afail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len, "version is required");

	mycel__write *w = mycel_arena_alloc(a, sizeof(*w));
	if (w == NULL)
		return afail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
	memset(w, 0, sizeof(*w));
	w->kind = MYCEL__WRITE_LIFECYCLE;
	w->id = id;
	w->version = version;
	w->reason = reason;
	w->status = status;
	int rv = run_write(c, w);
	if (rv != 0) {
		(void)snprintf(why, why_len, "%s",
			       rv == MYCEL_EPERM && strncmp(w->why, "append:", 7) == 0 ? NOT_SIGNER
			       : w->why[0]						   ? w->why
									   : mycel_strerror(rv));
		return mycel_rpc_status_of(rv);
	}
	const mycel_entry *e = &w->entry;
	mycel_msg_Entry *en = NULL;
	if ((rv = entry_msg(c->store, a, e, &en)) != 0)
		return afail(mycel_rpc_status_of(rv), why, why_len,
			     "appended, but the entry cannot be read back: %s", mycel_strerror(rv));
	rp->entry = en;
	return MYCEL_RPC_OK;
}

static mycel_rpc_status h_deprecate(const mycel_rpc_ctx *c, mycel_arena *a, const void *vreq,
				    void *vrep, char *why, size_t why_len)
{
	return change_status(c, a, vreq, vrep, MYCEL_STATUS_DEPRECATED, why, why_len);
}

static mycel_rpc_status h_retire(const mycel_rpc_ctx *c, mycel_arena *a, const void *vreq,
				 void *vrep, char *why, size_t why_len)
{
	return change_status(c, a, vreq, vrep, MYCEL_STATUS_RETIRED, why, why_len);
}

/* ---- Reindex ------------------------------------------------------------------------ */

static uint64_t mono_ms(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static mycel_rpc_status h_reindex(const mycel_rpc_ctx *c, mycel_arena *a, const void *vreq,
				  void *vrep, char *why, size_t why_len)
{
	mycel_msg_ReindexReply *rp = vrep;
	mycel_search_query q;
	mycel_search_result res;
	mycel_rpc_status st;
	(void)vreq;

	if ((st = no_key(c, why, why_len)) != MYCEL_RPC_OK)
		return st;

	uint64_t t0 = mono_ms();
	mycel__write *w = mycel_arena_alloc(a, sizeof(*w));
	if (w == NULL)
		return afail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
	memset(w, 0, sizeof(*w));
	w->kind = MYCEL__WRITE_REINDEX;
	int rv = run_write(c, w);
	if (rv != 0)
		return afail(mycel_rpc_status_of(rv), why, why_len, "%s",
			     w->why[0] ? w->why : mycel_strerror(rv));
	rp->has_elapsed_ms = true;
	rp->elapsed_ms = mono_ms() - t0;

	memset(&q, 0, sizeof(q));
	memset(&res, 0, sizeof(res));
	q.status = MYCEL_STATUS_ANY;
	q.limit = 1;
	rv = mycel_catalog_search(c->store, &q, &res);
	if (rv != 0)
		return afail(mycel_rpc_status_of(rv), why, why_len, "reindex: documents: %s",
			     mycel_strerror(rv));
	rp->has_documents = true;
	rp->documents = res.total;
	mycel_search_result_fini(&res);
	return MYCEL_RPC_OK;
}

/* ---- CharterPut --------------------------------------------------------------------- */

/*
 * Adopts a fully signed next charter version (or the current one again: nothing changes)
 * through the writer; peers fetch it in their next exchange (Mesh/Charter). Needs no domain
 * key. A charter that does not decode or verify is INVALID_ARGUMENT or PERMISSION_DENIED with
 * the reason; nothing changes then.
 */
static mycel_rpc_status h_charter_put(const mycel_rpc_ctx *c, mycel_arena *a, const void *vreq,
				      void *vrep, char *why, size_t why_len)
{
	const mycel_msg_CharterPutRequest *rq = vreq;
	mycel_msg_CharterPutReply *rp = vrep;
	if (rq->charter == NULL || rq->charter_len == 0)
		return afail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len, "charter is required");
	mycel__write *w = mycel_arena_alloc(a, sizeof(*w));
	if (w == NULL)
		return afail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
	memset(w, 0, sizeof(*w));
	w->kind = MYCEL__WRITE_CHARTER;
	w->charter = rq->charter;
	w->charter_len = rq->charter_len;
	int rv = run_write(c, w);
	if (rv != 0)
		return afail(mycel_rpc_status_of(rv), why, why_len, "charter: %s",
			     w->why[0] ? w->why : mycel_strerror(rv));
	const mycel_charter *ch = mycel_store_charter(c->store);
	rp->has_version = true;
	rp->version = ch != NULL ? mycel_charter_version(ch) : 0;
	return MYCEL_RPC_OK;
}

/* ---- KeyRotate (PROTOCOL.md §5.4) -------------------------------------------------- */

/* One rotation at a time: the key files are not the writer's. */
static pthread_mutex_t rotate_mu = PTHREAD_MUTEX_INITIALIZER;

/*
 * A fresh key is written beside the key file (key.secret.next) before the writer commits
 * the key entry signed by the current key, and switches the node's signing key with the
 * commit; then the old key file is kept as key.secret.N.old and the next one takes its
 * name. A crash in between is finished (or undone) by mycel__keyfile_recover at startup.
 */
static mycel_rpc_status h_key_rotate(const mycel_rpc_ctx *c, mycel_arena *a, const void *vreq,
				     void *vrep, char *why, size_t why_len)
{
	mycel_msg_KeyRotateReply *rp = vrep;
	mycel_key *next = NULL;
	mycel_rpc_status st;
	char w2[512] = "", old[4200] = "";
	(void)vreq;

	if ((st = no_key(c, why, why_len)) != MYCEL_RPC_OK)
		return st;
	if (c->key_path == NULL)
		return afail(MYCEL_RPC_FAILED_PRECONDITION, why, why_len,
			     "this node has no key file to rotate");
	mycel__write *w = mycel_arena_alloc(a, sizeof(*w));
	uint8_t *pk = mycel_arena_alloc(a, MYCEL_PK_LEN);
	char *oldp = NULL;
	if (w == NULL || pk == NULL)
		return afail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
	memset(w, 0, sizeof(*w));
	pthread_mutex_lock(&rotate_mu);
	int rv = mycel_key_generate(&next);
	if (rv == 0)
		memcpy(pk, next->pk, MYCEL_PK_LEN);
	if (rv == 0 && (rv = mycel__keyfile_prepare(c->key_path, next, w2, sizeof(w2))) != 0) {
		st = afail(mycel_rpc_status_of(rv), why, why_len, "key rotation: %s", w2);
		goto out;
	}
	if (rv != 0) {
		st = afail(mycel_rpc_status_of(rv), why, why_len, "key rotation: %s",
			   mycel_strerror(rv));
		goto out;
	}
	w->kind = MYCEL__WRITE_KEY_ROTATE;
	w->next_key = next;
	if ((rv = run_write(c, w)) != 0) {
		mycel__keyfile_abandon(c->key_path);
		st = afail(mycel_rpc_status_of(rv), why, why_len, "%s",
			   w->why[0] ? w->why : mycel_strerror(rv));
		goto out;
	}
	/* committed: the node signs with the next key now, whatever happens to the files */
	if ((rv = mycel__keyfile_commit(c->key_path, old, sizeof(old), w2, sizeof(w2))) != 0) {
		st = afail(MYCEL_RPC_INTERNAL, why, why_len,
			   "the key entry is committed (seq %llu) but the key file was not replaced: "
			   "%s; the node finishes it when it starts",
			   (unsigned long long)w->entry.h.seq, w2);
		goto out;
	}
	mycel_msg_Entry *en = NULL;
	if ((rv = entry_msg(c->store, a, &w->entry, &en)) != 0) {
		st = afail(mycel_rpc_status_of(rv), why, why_len, "key rotation: %s",
			   mycel_strerror(rv));
		goto out;
	}
	oldp = mycel_arena_strdup(a, old, strlen(old));
	rp->entry = en;
	rp->next_key = pk;
	rp->next_key_len = MYCEL_PK_LEN;
	rp->old_key_file = oldp;
	rp->old_key_file_len = oldp != NULL ? strlen(oldp) : 0;
	st = MYCEL_RPC_OK;
out:
	pthread_mutex_unlock(&rotate_mu);
	mycel_key_free(next); /* after the switch: the old key, wiped */
	return st;
}

/* ---- Transfer, Accept (PROTOCOL.md §5.5) ------------------------------------------- */

static mycel_rpc_status transfer_write(const mycel_rpc_ctx *c, mycel_arena *a, bool accept,
				       const char *id, size_t id_len, const char *peer,
				       size_t peer_len, mycel_msg_TransferReply *rp, char *why,
				       size_t why_len)
{
	const char *idc, *pc;
	mycel_rpc_status st;
	if ((st = no_key(c, why, why_len)) != MYCEL_RPC_OK)
		return st;
	if (field(id, id_len, "id", &idc, why, why_len) != 0 ||
	    field(peer, peer_len, accept ? "from" : "to", &pc, why, why_len) != 0)
		return MYCEL_RPC_INVALID_ARGUMENT;
	if (idc == NULL || pc == NULL)
		return afail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len, "id and %s are required",
			     accept ? "from" : "to");
	mycel__write *w = mycel_arena_alloc(a, sizeof(*w));
	if (w == NULL)
		return afail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
	memset(w, 0, sizeof(*w));
	w->kind = MYCEL__WRITE_TRANSFER;
	w->id = idc;
	w->peer = pc;
	w->accept = accept;
	int rv = run_write(c, w);
	if (rv != 0)
		return afail(rv == MYCEL_ENOTFOUND ? MYCEL_RPC_NOT_FOUND
			     : rv == MYCEL_EEXIST  ? MYCEL_RPC_ALREADY_EXISTS
			     : rv == MYCEL_EPERM   ? MYCEL_RPC_PERMISSION_DENIED
			     : rv == MYCEL_EINVAL  ? MYCEL_RPC_INVALID_ARGUMENT
						   : mycel_rpc_status_of(rv),
			     why, why_len, "%s", w->why[0] ? w->why : mycel_strerror(rv));
	mycel_msg_Entry *en = NULL;
	if ((rv = entry_msg(c->store, a, &w->entry, &en)) != 0)
		return afail(mycel_rpc_status_of(rv), why, why_len, "transfer: %s", mycel_strerror(rv));
	rp->entry = en;
	return MYCEL_RPC_OK;
}

static mycel_rpc_status h_transfer(const mycel_rpc_ctx *c, mycel_arena *a, const void *vreq,
				   void *vrep, char *why, size_t why_len)
{
	const mycel_msg_TransferRequest *rq = vreq;
	return transfer_write(c, a, false, rq->id, rq->id_len, rq->to, rq->to_len, vrep, why,
			      why_len);
}

static mycel_rpc_status h_accept(const mycel_rpc_ctx *c, mycel_arena *a, const void *vreq,
				 void *vrep, char *why, size_t why_len)
{
	const mycel_msg_AcceptRequest *rq = vreq;
	return transfer_write(c, a, true, rq->id, rq->id_len, rq->from, rq->from_len, vrep, why,
			      why_len);
}

/* ---- Peers (Admin/Peers on the admin socket, Mesh/Peers on both) ------------------- */

/*
 * The peers the node knows. Until gossip exists these are only the seed URLs it was given
 * (mycel_node_opts.peers): each with its addr, and nothing learnt about it yet — no
 * node_key or domain, last_seen_ms 0, failures 0, live false. Served without a domain key.
 */
static mycel_rpc_status h_peers(const mycel_rpc_ctx *c, mycel_arena *a, const void *vreq,
				void *vrep, char *why, size_t why_len)
{
	mycel_msg_PeersReply *rp = vrep;
	(void)vreq;
	if (c->mesh_ops != NULL && c->mesh_ops->peers != NULL) /* the gossip engine's table */
		return mycel__rpc_peers(c, a, rp, why, why_len);
	if (c->n_peers == 0)
		return MYCEL_RPC_OK;
	mycel_msg_Peer *p = mycel_arena_alloc(a, c->n_peers * sizeof(*p));
	if (p == NULL)
		return afail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
	memset(p, 0, c->n_peers * sizeof(*p));
	for (size_t i = 0; i < c->n_peers; i++) {
		p[i].addr = adup(a, c->peers[i], &p[i].addr_len);
		if (p[i].addr == NULL)
			return afail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
		p[i].has_last_seen_ms = true;
		p[i].has_failures = true;
		p[i].has_live = true;
	}
	rp->peers = p;
	rp->n_peers = c->n_peers;
	return MYCEL_RPC_OK;
}

/* ---- table ------------------------------------------------------------------------ */

static const struct {
	const char *name;
	mycel_rpc_admin_handler h;
} handlers[] = {
	{"mycel.v1.Admin/Publish", h_publish},
	{"mycel.v1.Admin/Deprecate", h_deprecate},
	{"mycel.v1.Admin/Retire", h_retire},
	{"mycel.v1.Admin/Reindex", h_reindex},
	{"mycel.v1.Admin/CharterPut", h_charter_put},
	{"mycel.v1.Admin/KeyRotate", h_key_rotate},
	{"mycel.v1.Admin/Transfer", h_transfer},
	{"mycel.v1.Admin/Accept", h_accept},
	{"mycel.v1.Admin/Peers", h_peers},
	{"mycel.v1.Mesh/Peers", h_peers},
};

mycel_rpc_admin_handler mycel_rpc_admin_handler_of(const mycel_method *m)
{
	for (size_t i = 0; m != NULL && i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (strcmp(handlers[i].name, m->name) == 0)
			return handlers[i].h;
	return NULL;
}
