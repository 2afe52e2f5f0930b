/*
 * rpc_admin.c — the handlers of service mycel.v1.Admin (served on the ipc socket only).
 *
 * Publish parses and lints one document (YAML or JSON text) and publishes it into the
 * domain's feed with mycel_publish; Deprecate and Retire append a lifecycle entry with
 * mycel_publish_lifecycle; Reindex rebuilds the catalog. Every write is made under the
 * context's writer mutex, so one writer at a time. Peers has no handler (UNIMPLEMENTED).
 *
 * A refused document's findings are the reply message, one per line, as
 * `file:line:col: /pointer: message`.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mycel/catalog.h"
#include "mycel/diag.h"
#include "mycel/doc.h"
#include "mycel/error.h"
#include "mycel/lint.h"
#include "mycel/publish.h"
#include "mycel/rpc.h"
#include "mycel_proto.h"
#include "rpc_int.h"

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

static void lock(const mycel_rpc_ctx *c)
{
	if (c->writer != NULL)
		pthread_mutex_lock(c->writer);
}

static void unlock(const mycel_rpc_ctx *c)
{
	if (c->writer != NULL)
		pthread_mutex_unlock(c->writer);
}

/* Reports one successful write to the context's change hook (under the writer mutex). */
static void changed(const mycel_rpc_ctx *c, const mycel_entry *e, const char *id,
		    const char *version, const char *status)
{
	if (c->on_change == NULL)
		return;
	mycel_rpc_change ch = {c->domain, e, id ? id : "", version ? version : "", status};
	c->on_change(c->on_change_arg, &ch);
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

/* why = head, then one line per finding (cut at why_len; the rest counted). */
static void put_findings(char *why, size_t why_len, const char *head, const char *file,
			 const mycel_diags *d)
{
	size_t off = 0, shown = 0;
	int k = snprintf(why, why_len, "%s", head);
	if (k < 0)
		return;
	off = (size_t)k < why_len ? (size_t)k : why_len;
	for (size_t i = 0; i < d->len && off + 1 < why_len; i++) {
		const mycel_finding *f = &d->items[i];
		size_t before = off;
		k = snprintf(why + off, why_len - off, "\n%s:%u:%u: %s: %s", file, (unsigned)f->line,
			     (unsigned)f->col, f->pointer[0] ? f->pointer : "/", f->message);
		if (k < 0 || (size_t)k >= why_len - off) {
			why[before] = '\0';
			off = before;
			break;
		}
		off += (size_t)k;
		shown++;
	}
	size_t more = d->len - shown + d->dropped;
	if (more > 0 && off + 1 < why_len)
		(void)snprintf(why + off, why_len - off, "\n(%zu more)", more);
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

static mycel_rpc_status h_publish(const mycel_rpc_ctx *c, mycel_arena *a, const void *vreq,
				  void *vrep, char *why, size_t why_len)
{
	const mycel_msg_PublishRequest *rq = vreq;
	mycel_msg_PublishReply *rp = vrep;
	const char *file;
	mycel_value *doc = NULL;
	mycel_diags d;
	mycel_rpc_status st;
	int rv;

	if ((st = no_key(c, why, why_len)) != MYCEL_RPC_OK)
		return st;
	if (field(rq->path, rq->path_len, "path", &file, why, why_len) != 0)
		return MYCEL_RPC_INVALID_ARGUMENT;
	if (file == NULL)
		file = "<document>";
	if (rq->document == NULL || rq->document_len == 0)
		return afail(MYCEL_RPC_INVALID_ARGUMENT, why, why_len, "%s: document is required",
			     file);

	mycel_diags_init(&d, 0);
	rv = mycel_doc_parse((const char *)rq->document, rq->document_len, NULL, a, &doc, &d);
	if (rv != 0) {
		char head[512];
		(void)snprintf(head, sizeof(head), "%s: the document does not parse (%s)", file,
			       mycel_strerror(rv));
		put_findings(why, why_len, head, file, &d);
		mycel_diags_fini(&d);
		return rv == MYCEL_ENOMEM ? MYCEL_RPC_RESOURCE_EXHAUSTED
		       : rv == MYCEL_ETOOBIG ? MYCEL_RPC_RESOURCE_EXHAUSTED
					     : MYCEL_RPC_INVALID_ARGUMENT;
	}

	mycel_publish_item *it = mycel_arena_alloc(a, sizeof(*it));
	if (it == NULL) {
		mycel_diags_fini(&d);
		return afail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
	}
	memset(it, 0, sizeof(*it));
	it->doc = doc;
	it->diags = &d;
	rv = mycel_lint_value(doc, &it->info, &d);
	if (rv == 0 && rq->dry_run)
		rv = mycel_lint_publishable(doc, &it->info, c->domain, &d);
	if (rv != 0) {
		char head[512];
		(void)snprintf(head, sizeof(head), "%s: the document is not valid (%zu finding%s)",
			       file, d.len + d.dropped, d.len + d.dropped == 1 ? "" : "s");
		put_findings(why, why_len, head, file, &d);
		mycel_diags_fini(&d);
		return rv == MYCEL_ENOMEM ? MYCEL_RPC_RESOURCE_EXHAUSTED : MYCEL_RPC_INVALID_ARGUMENT;
	}
	if (!rq->dry_run) {
		lock(c);
		rv = mycel_publish(c->store, c->key, c->domain, it, 1);
		if (rv == 0 && !it->unchanged)
			changed(c, &it->entry, it->info.id, it->info.version, "published");
		unlock(c);
	}
	if (rv != 0) {
		char head[512];
		st = rv == MYCEL_EINVAL ? MYCEL_RPC_INVALID_ARGUMENT
		     : rv == MYCEL_EEXIST ? MYCEL_RPC_ALREADY_EXISTS
					  : mycel_rpc_status_of(rv);
		(void)snprintf(head, sizeof(head), "%s: not published: %s", file,
			       rv == MYCEL_EINVAL	? "it breaks the publishing rules"
			       : rv == MYCEL_EEXIST ? "it conflicts with what is published"
						    : mycel_strerror(rv));
		put_findings(why, why_len, head, file, &d);
		mycel_diags_fini(&d);
		return st;
	}
	mycel_diags_fini(&d);

	rp->domain = adup(a, c->domain, &rp->domain_len);
	rp->id = adup(a, it->info.id, &rp->id_len);
	rp->version = adup(a, it->info.version, &rp->version_len);
	rp->has_kind = true;
	rp->kind = (uint64_t)it->info.kind;
	if (rp->domain == NULL || rp->id == NULL || rp->version == NULL)
		return afail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
	if (rq->dry_run)
		return MYCEL_RPC_OK;
	if (it->unchanged) {
		rp->has_unchanged = true;
		rp->unchanged = true;
		return MYCEL_RPC_OK;
	}
	mycel_msg_Entry *en = NULL;
	if ((rv = entry_msg(c->store, a, &it->entry, &en)) != 0)
		return afail(mycel_rpc_status_of(rv), why, why_len,
			     "published, but the entry cannot be read back: %s", mycel_strerror(rv));
	rp->entries = en;
	rp->n_entries = 1;
	rp->has_seq = true;
	rp->seq = it->entry.h.seq;
	return MYCEL_RPC_OK;
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

	mycel_entry *e = mycel_arena_alloc(a, sizeof(*e));
	if (e == NULL)
		return afail(MYCEL_RPC_RESOURCE_EXHAUSTED, why, why_len, "out of memory");
	memset(e, 0, sizeof(*e));
	lock(c);
	int rv = mycel_publish_lifecycle(c->store, c->key, c->domain, id, version, status,
					 reason ? reason : "", e, why, why_len);
	if (rv == 0)
		changed(c, e, id, version, mycel_doc_status_name(status));
	unlock(c);
	if (rv != 0)
		return mycel_rpc_status_of(rv);
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
	(void)a;
	(void)vreq;

	if ((st = no_key(c, why, why_len)) != MYCEL_RPC_OK)
		return st;

	uint64_t t0 = mono_ms();
	lock(c);
	int rv = mycel_store_reindex(c->store);
	unlock(c);
	if (rv != 0)
		return afail(mycel_rpc_status_of(rv), why, why_len, "reindex: %s",
			     mycel_strerror(rv));
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

/* ---- table ------------------------------------------------------------------------ */

static const struct {
	const char *name;
	mycel_rpc_admin_handler h;
} handlers[] = {
	{"mycel.v1.Admin/Publish", h_publish},
	{"mycel.v1.Admin/Deprecate", h_deprecate},
	{"mycel.v1.Admin/Retire", h_retire},
	{"mycel.v1.Admin/Reindex", h_reindex},
};

mycel_rpc_admin_handler mycel_rpc_admin_handler_of(const mycel_method *m)
{
	for (size_t i = 0; m != NULL && i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (strcmp(handlers[i].name, m->name) == 0)
			return handlers[i].h;
	return NULL;
}
