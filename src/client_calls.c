/*
 * client_calls.c — typed calls of the client (include/mycel/client.h): encode the request
 * message, call with the client's timeout, decode the reply into the caller's arena and
 * verify the entries it carries before the caller sees them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_int.h"
#include "mycel/catalog.h"
#include "mycel/client.h"
#include "mycel/error.h"
#include "mycel_proto.h"

/* Checks a decoded reply; rq is the request. Returns 0 or a code with why. */
typedef int (*check_fn)(mycel_client *c, const void *rq, const void *rp, char *why,
			size_t why_len);

static void setmsg(mycel_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void setmsg(mycel_result *res, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
}

static int typed(mycel_client *c, const char *method, const void *rq, mycel_arena *a,
		 check_fn check, mycel_result *res, void *out)
{
	if (c == NULL || a == NULL || res == NULL || out == NULL)
		return MYCEL_EINVAL;
	res->status = MYCEL_RPC_UNKNOWN;
	res->message[0] = '\0';
	const mycel_method *m = mycel_method_find(method, strlen(method));
	if (m == NULL) {
		setmsg(res, "%s: no such method", method);
		return MYCEL_EINVAL;
	}
	/* Empty requests: a zeroed struct of the request's type */
	void *zero = NULL;
	if (rq == NULL) {
		if ((zero = mycel_arena_alloc(a, m->request->size)) == NULL) {
			setmsg(res, "out of memory");
			return MYCEL_ENOMEM;
		}
		memset(zero, 0, m->request->size);
		rq = zero;
	}
	mycel_buf b;
	mycel_buf_init(&b, MYCEL_RPC_REQUEST_MAX);
	int rv = m->request_encode(rq, &b);
	if (rv != 0) {
		mycel_buf_fini(&b);
		setmsg(res, "%s: the request does not encode: %s", method, mycel_strerror(rv));
		return rv;
	}
	uint64_t timeout = c->timeout_ms ? c->timeout_ms : MYCEL_CLIENT_TIMEOUT_DEFAULT_MS;
	uint64_t status = 0;
	char *msg = NULL;
	uint8_t *body = NULL;
	size_t body_len = 0;
	rv = mycel_client_call(c, method, mycel__client_now_ms() + timeout, b.data, b.len, &status,
			       &msg, &body, &body_len);
	mycel_buf_fini(&b);
	if (rv != 0) {
		setmsg(res, "%s to %s: %s", method, c->url,
		       rv == MYCEL_ETOOBIG ? "the request or its reply exceeds a size limit"
		       : rv == MYCEL_ENOMEM ? "out of memory"
					    : "the reply is not a valid envelope");
		return rv;
	}
	res->status = status;
	if (status != MYCEL_RPC_OK) {
		setmsg(res, "%s", msg[0] ? msg : mycel_rpc_status_name(status));
		rv = 0;
		goto done;
	}
	void *tmp = mycel_arena_alloc(a, m->reply->size);
	if (tmp == NULL) {
		setmsg(res, "out of memory");
		rv = MYCEL_ENOMEM;
		goto done;
	}
	memset(tmp, 0, m->reply->size);
	if (body == NULL) {
		setmsg(res, "%s: an OK reply without a body", method);
		rv = MYCEL_EFORMAT;
		goto done;
	}
	char why[MYCEL_RPC_MESSAGE_MAX] = "";
	if ((rv = m->reply_decode(body, body_len, a, tmp, why, sizeof(why))) != 0) {
		setmsg(res, "%s: the reply does not decode: %s", method,
		       why[0] ? why : mycel_strerror(rv));
		goto done;
	}
	if (c->verify && check != NULL && (rv = check(c, rq, tmp, why, sizeof(why))) != 0) {
		setmsg(res, "reply refused: %s [%s]", why, mycel_errname(rv));
		goto done;
	}
	memcpy(out, tmp, m->reply->size);
	rv = 0;
done:
	free(msg);
	free(body);
	return rv;
}

/* ---- key chains of rotated feeds (PROTOCOL.md §5.4) --------------------------------- */

/* The client's record of feed, made if missing; NULL when out of memory. */
static mycel__client_feed *feed_slot(mycel_client *c, const uint8_t feed[MYCEL_PK_LEN], bool *made)
{
	*made = false;
	for (size_t i = 0; i < c->n_feeds; i++)
		if (memcmp(c->feeds[i].feed, feed, MYCEL_PK_LEN) == 0)
			return &c->feeds[i];
	if (c->feeds == NULL) {
		c->feeds = calloc(MYCEL__CLIENT_FEEDS_MAX, sizeof(*c->feeds));
		if (c->feeds == NULL)
			return NULL;
	}
	if (c->n_feeds == MYCEL__CLIENT_FEEDS_MAX)
		c->n_feeds = 0; /* bounded: forget everything and fetch again when needed */
	mycel__client_feed *f = &c->feeds[c->n_feeds++];
	memset(f, 0, sizeof(*f));
	memcpy(f->feed, feed, MYCEL_PK_LEN);
	*made = true;
	return f;
}

static int typed(mycel_client *c, const char *method, const void *rq, mycel_arena *a,
		 check_fn check, mycel_result *res, void *out);

/*
 * Fetches feed's key entries (Mesh/Pull key_feeds) into f, checking them as a chain from
 * genesis: seqs increasing, each signed by the key before it, its body matching its hash
 * and carrying the next key's reverse signature. On failure f is left empty.
 */
static int feed_fetch(mycel_client *c, mycel__client_feed *f, char *why, size_t why_len)
{
	char hex[2 * MYCEL_PK_LEN + 1];
	mycel_arena *a = NULL;
	mycel_bytes kf = {f->feed, MYCEL_PK_LEN};
	mycel_msg_PullRequest rq = {.key_feeds = &kf, .n_key_feeds = 1};
	mycel_msg_PullReply rp;
	mycel_result res;
	uint8_t key[MYCEL_PK_LEN];
	uint64_t last = 0;
	int rv;

	mycel_hex(f->feed, MYCEL_PK_LEN, hex);
	f->n_rot = 0;
	if ((rv = mycel_arena_new(4u << 20, &a)) != 0)
		return rv;
	rv = typed(c, "mycel.v1.Mesh/Pull", &rq, a, NULL, &res, &rp);
	if (rv == 0 && res.status != MYCEL_RPC_OK)
		rv = MYCEL_EIO;
	if (rv != 0) {
		(void)snprintf(why, why_len, "feed %.16s…: fetching its key entries: %s", hex,
			       res.message[0] ? res.message : mycel_strerror(rv));
		goto out;
	}
	memcpy(key, f->feed, MYCEL_PK_LEN);
	for (size_t i = 0; i < rp.n_key_entries; i++) {
		const mycel_msg_Entry *m = &rp.key_entries[i];
		mycel_entry e;
		rv = m->entry != NULL ? mycel_entry_decode(m->entry, m->entry_len, &e) : MYCEL_EFORMAT;
		if (rv == 0 && (memcmp(e.h.feed, f->feed, MYCEL_PK_LEN) != 0 || e.h.seq <= last ||
				!mycel__feedkey_is_key(&e)))
			rv = MYCEL_EFORMAT;
		if (rv == 0 && i == MYCEL__CLIENT_ROTATIONS_MAX)
			rv = MYCEL_ETOOBIG;
		if (rv == 0)
			rv = mycel_entry_verify(&e, key);
		if (rv == 0)
			rv = m->body != NULL ? mycel_entry_check_body(&e, m->body, m->body_len)
					     : MYCEL_EHASH;
		if (rv == 0)
			rv = mycel__feedkey_body_check(f->feed, e.h.seq, m->body, m->body_len, key);
		if (rv != 0) {
			(void)snprintf(why, why_len,
				       "feed %.16s… key entry %zu (seq %llu): %s: the chain of keys "
				       "does not verify",
				       hex, i, rv == MYCEL_EFORMAT ? 0ULL : (unsigned long long)e.h.seq,
				       mycel_strerror(rv));
			f->n_rot = 0;
			goto out;
		}
		f->rot_seq[f->n_rot] = e.h.seq;
		memcpy(f->rot_id[f->n_rot], e.id, MYCEL_HASH_LEN);
		memcpy(f->rot_key[f->n_rot++], key, MYCEL_PK_LEN);
		last = e.h.seq;
	}
	f->fetched = true;
out:
	mycel_arena_free(a);
	return rv;
}

/*
 * Checks that m's entry is signed by the key that signs its feed at its seq, as the feed's
 * key entries prove it (fetched once per feed, and again when a newer rotation may explain
 * a signature that does not verify); then mycel_client_verify_entry's other checks.
 */
static int verify_one(mycel_client *c, const mycel_msg_Entry *m, const mycel_entry_expect *exp,
		      char *why, size_t why_len, mycel_entry *out_e)
{
	mycel_entry e;
	uint8_t key[MYCEL_PK_LEN];
	bool made;
	/* what does not decode, is not admitted, or is a feed's first entry: no key to learn */
	if (c->charter == NULL || m == NULL || m->entry == NULL ||
	    mycel_entry_decode(m->entry, m->entry_len, &e) != 0 ||
	    mycel_charter_find_feed(c->charter, e.h.feed) == NULL || e.h.seq == 1)
		return mycel_client_verify_entry(c->charter, m, exp, why, why_len, out_e);
	pthread_mutex_lock(&c->keys_mu);
	mycel__client_feed *f = feed_slot(c, e.h.feed, &made);
	int rv = f == NULL ? MYCEL_ENOMEM : 0;
	for (int round = 0; rv == 0 && round < 2; round++) {
		if (!f->fetched || round == 1) {
			if ((rv = feed_fetch(c, f, why, why_len)) != 0)
				break;
		}
		memcpy(key, e.h.feed, MYCEL_PK_LEN);
		bool other = false;
		for (size_t i = 0; i < f->n_rot && f->rot_seq[i] <= e.h.seq; i++) {
			if (f->rot_seq[i] < e.h.seq)
				memcpy(key, f->rot_key[i], MYCEL_PK_LEN);
			else if (memcmp(f->rot_id[i], e.id, MYCEL_HASH_LEN) != 0)
				other = true; /* that seq holds a key entry, not this one */
		}
		if (!other && mycel_entry_verify(&e, key) == 0)
			break;
		if (round == 1 || made) {
			/* not signed by the key proven for this seq: refused just below */
			if (other) {
				char hex[2 * MYCEL_PK_LEN + 1];
				mycel_hex(e.h.feed, MYCEL_PK_LEN, hex);
				(void)snprintf(why, why_len,
					       "entry of feed %.16s… seq %llu: the feed's key entry at "
					       "this seq is another entry",
					       hex, (unsigned long long)e.h.seq);
				rv = MYCEL_EBADSIG;
			}
			break;
		}
	}
	pthread_mutex_unlock(&c->keys_mu);
	if (rv != 0)
		return rv;
	return mycel__client_verify_entry_key(c->charter, m, exp, key, why, why_len, out_e);
}

static const char *kind_entry(uint64_t kind)
{
	return kind == MYCEL_DOC_CONTRACT ? "contract" : kind == MYCEL_DOC_PRODUCT ? "product" : NULL;
}

static bool same(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static int check_get(mycel_client *c, const void *vrq, const void *vrp, char *why,
		     size_t why_len)
{
	const mycel_msg_GetRequest *rq = vrq;
	const mycel_msg_GetReply *rp = vrp;
	if (rp->domain == NULL || rp->id == NULL ||
	    !same(rp->domain, rp->domain_len, rq->domain, rq->domain_len) ||
	    !same(rp->id, rp->id_len, rq->id, rq->id_len)) {
		(void)snprintf(why, why_len, "the reply is about another document than %.*s/%.*s",
			       (int)rq->domain_len, rq->domain ? rq->domain : "",
			       (int)rq->id_len, rq->id ? rq->id : "");
		return MYCEL_EFORMAT;
	}
	if (rp->n_entries != 1 || !rp->has_shown || rp->shown >= rp->n_versions ||
	    !rp->has_current || rp->current >= rp->n_versions) {
		(void)snprintf(why, why_len,
			       "the reply does not carry exactly the shown version's entry");
		return MYCEL_EFORMAT;
	}
	const mycel_msg_DocVersion *v = &rp->versions[rp->shown];
	if (rq->version != NULL && !same(v->version, v->version_len, rq->version, rq->version_len)) {
		(void)snprintf(why, why_len, "the reply shows version %s, not the %s asked for",
			       v->version ? v->version : "?", rq->version);
		return MYCEL_EFORMAT;
	}
	/* decoded strings are NUL-terminated */
	mycel_entry_expect exp = {rp->domain, kind_entry(rp->kind), rp->id, v->version};
	if (exp.kind == NULL) {
		(void)snprintf(why, why_len, "unknown document kind %llu",
			       (unsigned long long)rp->kind);
		return MYCEL_EFORMAT;
	}
	mycel_entry e;
	int rv = verify_one(c, &rp->entries[0], &exp, why, why_len, &e);
	if (rv != 0)
		return rv;
	if (v->feed == NULL || v->feed_len != MYCEL_PK_LEN ||
	    memcmp(v->feed, e.h.feed, MYCEL_PK_LEN) != 0 || v->seq != e.h.seq) {
		(void)snprintf(why, why_len,
			       "the entry carried is not the one that published version %s",
			       v->version ? v->version : "?");
		return MYCEL_EFORMAT;
	}
	return 0;
}

static int check_history(mycel_client *c, const void *vrq, const void *vrp, char *why,
			 size_t why_len)
{
	const mycel_msg_HistoryRequest *rq = vrq;
	const mycel_msg_HistoryReply *rp = vrp;
	if (rp->n_entries != rp->n_versions) {
		(void)snprintf(why, why_len, "%zu versions but %zu entries", rp->n_versions,
			       rp->n_entries);
		return MYCEL_EFORMAT;
	}
	for (size_t i = 0; i < rp->n_entries; i++) {
		mycel_entry_expect exp = {rq->domain, NULL, rq->id, rp->versions[i].version};
		mycel_entry e;
		int rv = verify_one(c, &rp->entries[i], &exp, why, why_len,
						   &e);
		if (rv != 0)
			return rv;
		if (strcmp(e.h.kind, "contract") != 0 && strcmp(e.h.kind, "product") != 0) {
			(void)snprintf(why, why_len, "version %zu: a %s entry, not a document", i,
				       e.h.kind);
			return MYCEL_EFORMAT;
		}
	}
	return 0;
}

static int check_publish(mycel_client *c, const void *vrq, const void *vrp, char *why,
			 size_t why_len)
{
	const mycel_msg_PublishRequest *rq = vrq;
	const mycel_msg_PublishReply *rp = vrp;
	size_t with_entry = 0;
	if (rp->n_documents != rq->n_documents) {
		(void)snprintf(why, why_len, "%zu documents published for %zu sent", rp->n_documents,
			       rq->n_documents);
		return MYCEL_EFORMAT;
	}
	for (size_t i = 0; i < rp->n_documents; i++)
		if (rp->documents[i].has_seq && !rp->documents[i].unchanged)
			with_entry++;
	if (with_entry != rp->n_entries) {
		(void)snprintf(why, why_len, "%zu new entries for %zu changed documents",
			       rp->n_entries, with_entry);
		return MYCEL_EFORMAT;
	}
	mycel_entry prev;
	for (size_t i = 0; i < rp->n_entries; i++) {
		mycel_entry e;
		int rv = mycel_entry_decode(rp->entries[i].entry ? rp->entries[i].entry
								 : (const uint8_t *)"",
					    rp->entries[i].entry_len, &e);
		if (rv != 0) {
			(void)snprintf(why, why_len, "entry %zu does not decode: %s", i,
				       mycel_strerror(rv));
			return rv;
		}
		/* the document this entry publishes, by its seq */
		const mycel_msg_Published *d = NULL;
		for (size_t k = 0; k < rp->n_documents && d == NULL; k++)
			if (rp->documents[k].has_seq && !rp->documents[k].unchanged &&
			    rp->documents[k].seq == e.h.seq)
				d = &rp->documents[k];
		if (d == NULL) {
			(void)snprintf(why, why_len, "entry seq %llu publishes none of the documents",
				       (unsigned long long)e.h.seq);
			return MYCEL_EFORMAT;
		}
		mycel_entry_expect exp = {d->domain, kind_entry(d->kind), d->id, d->version};
		if (exp.domain == NULL || exp.kind == NULL || exp.id == NULL || exp.version == NULL) {
			(void)snprintf(why, why_len, "a published document lacks its domain, kind, id or version");
			return MYCEL_EFORMAT;
		}
		if ((rv = verify_one(c, &rp->entries[i], &exp, why, why_len,
						    NULL)) != 0)
			return rv;
		if (i > 0 && (rv = mycel_entry_follows(&prev, &e)) != 0) {
			(void)snprintf(why, why_len, "entry seq %llu does not follow seq %llu: %s",
				       (unsigned long long)e.h.seq, (unsigned long long)prev.h.seq,
				       mycel_strerror(rv));
			return rv;
		}
		prev = e;
	}
	return 0;
}

static int check_status_change(mycel_client *c, const void *vrq, const void *vrp,
			       char *why, size_t why_len)
{
	const mycel_msg_ChangeStatusRequest *rq = vrq;
	const mycel_msg_ChangeStatusReply *rp = vrp;
	mycel_entry_expect exp = {NULL, "lifecycle", rq->id, rq->version};
	if (rp->entry == NULL) {
		(void)snprintf(why, why_len, "the reply carries no entry");
		return MYCEL_EFORMAT;
	}
	return verify_one(c, rp->entry, &exp, why, why_len, NULL);
}

static int check_pull(mycel_client *c, const void *vrq, const void *vrp, char *why,
		      size_t why_len)
{
	const mycel_msg_PullRequest *rq = vrq;
	const mycel_msg_PullReply *rp = vrp;
	mycel_entry prev;
	bool has_prev = false;
	for (size_t i = 0; i < rp->n_entries; i++) {
		mycel_entry e;
		int rv = verify_one(c, &rp->entries[i], NULL, why, why_len,
						   &e);
		if (rv != 0)
			return rv;
		bool asked = false;
		for (size_t k = 0; k < rq->n_ranges && !asked; k++) {
			const mycel_msg_FeedRange *r = &rq->ranges[k];
			asked = r->feed != NULL && r->feed_len == MYCEL_PK_LEN &&
				memcmp(r->feed, e.h.feed, MYCEL_PK_LEN) == 0 &&
				e.h.seq >= (r->has_from_seq ? r->from_seq : 1) &&
				(!r->has_to_seq || e.h.seq <= r->to_seq);
		}
		if (!asked) {
			char hex[2 * MYCEL_PK_LEN + 1];
			mycel_hex(e.h.feed, MYCEL_PK_LEN, hex);
			(void)snprintf(why, why_len,
				       "entry of feed %.16s… seq %llu: not in the ranges asked for",
				       hex, (unsigned long long)e.h.seq);
			return MYCEL_EFORMAT;
		}
		if (has_prev && memcmp(prev.h.feed, e.h.feed, MYCEL_PK_LEN) == 0 &&
		    (rv = mycel_entry_follows(&prev, &e)) != 0) {
			char hex[2 * MYCEL_PK_LEN + 1];
			mycel_hex(e.h.feed, MYCEL_PK_LEN, hex);
			(void)snprintf(why, why_len,
				       "entry of feed %.16s… seq %llu does not follow seq %llu: %s",
				       hex, (unsigned long long)e.h.seq,
				       (unsigned long long)prev.h.seq, mycel_strerror(rv));
			return rv;
		}
		prev = e;
		has_prev = true;
	}
	return 0;
}

int mycel_client_get(mycel_client *c, const mycel_msg_GetRequest *rq, mycel_arena *a,
		     mycel_result *res, mycel_msg_GetReply *out)
{
	if (rq == NULL)
		return MYCEL_EINVAL;
	return typed(c, "mycel.v1.Catalog/Get", rq, a, check_get, res, out);
}

int mycel_client_search(mycel_client *c, const mycel_msg_SearchRequest *rq, mycel_arena *a,
			mycel_result *res, mycel_msg_SearchReply *out)
{
	if (rq == NULL)
		return MYCEL_EINVAL;
	return typed(c, "mycel.v1.Catalog/Search", rq, a, NULL, res, out);
}

int mycel_client_list(mycel_client *c, const mycel_msg_ListRequest *rq, mycel_arena *a,
		      mycel_result *res, mycel_msg_ListReply *out)
{
	if (rq == NULL)
		return MYCEL_EINVAL;
	return typed(c, "mycel.v1.Catalog/List", rq, a, NULL, res, out);
}

int mycel_client_lineage(mycel_client *c, const mycel_msg_LineageRequest *rq, mycel_arena *a,
			 mycel_result *res, mycel_msg_LineageReply *out)
{
	if (rq == NULL)
		return MYCEL_EINVAL;
	return typed(c, "mycel.v1.Catalog/Lineage", rq, a, NULL, res, out);
}

int mycel_client_history(mycel_client *c, const mycel_msg_HistoryRequest *rq, mycel_arena *a,
			 mycel_result *res, mycel_msg_HistoryReply *out)
{
	if (rq == NULL)
		return MYCEL_EINVAL;
	return typed(c, "mycel.v1.Catalog/History", rq, a, check_history, res, out);
}

int mycel_client_status(mycel_client *c, mycel_arena *a, mycel_result *res,
			mycel_msg_StatusReply *out)
{
	return typed(c, "mycel.v1.Catalog/Status", NULL, a, NULL, res, out);
}

int mycel_client_publish(mycel_client *c, const mycel_msg_PublishRequest *rq, mycel_arena *a,
			 mycel_result *res, mycel_msg_PublishReply *out)
{
	if (rq == NULL)
		return MYCEL_EINVAL;
	return typed(c, "mycel.v1.Admin/Publish", rq, a, check_publish, res, out);
}

int mycel_client_deprecate(mycel_client *c, const mycel_msg_ChangeStatusRequest *rq,
			   mycel_arena *a, mycel_result *res, mycel_msg_ChangeStatusReply *out)
{
	if (rq == NULL)
		return MYCEL_EINVAL;
	return typed(c, "mycel.v1.Admin/Deprecate", rq, a, check_status_change, res, out);
}

int mycel_client_retire(mycel_client *c, const mycel_msg_ChangeStatusRequest *rq,
			mycel_arena *a, mycel_result *res, mycel_msg_ChangeStatusReply *out)
{
	if (rq == NULL)
		return MYCEL_EINVAL;
	return typed(c, "mycel.v1.Admin/Retire", rq, a, check_status_change, res, out);
}

int mycel_client_charter_put(mycel_client *c, const mycel_msg_CharterPutRequest *rq,
			     mycel_arena *a, mycel_result *res, mycel_msg_CharterPutReply *out)
{
	return typed(c, "mycel.v1.Admin/CharterPut", rq, a, NULL, res, out);
}

int mycel_client_reindex(mycel_client *c, mycel_arena *a, mycel_result *res,
			 mycel_msg_ReindexReply *out)
{
	return typed(c, "mycel.v1.Admin/Reindex", NULL, a, NULL, res, out);
}

int mycel_client_peers(mycel_client *c, mycel_arena *a, mycel_result *res,
		       mycel_msg_PeersReply *out)
{
	return typed(c, "mycel.v1.Admin/Peers", NULL, a, NULL, res, out);
}

int mycel_client_pull(mycel_client *c, const mycel_msg_PullRequest *rq, mycel_arena *a,
		      mycel_result *res, mycel_msg_PullReply *out)
{
	if (rq == NULL)
		return MYCEL_EINVAL;
	return typed(c, "mycel.v1.Mesh/Pull", rq, a, check_pull, res, out);
}

/*
 * A charter of version > 1 is checked along its chain: every version from genesis on is
 * asked for (Mesh/Charter from version 0, 64 per reply), the genesis must be of the pinned
 * mesh id (when one is given), each step must verify against the one before (PROTOCOL.md
 * §3.3), and the last must be the charter the node sent. 0, or a code with res's message.
 */
static int check_chain(mycel_client *c, const uint8_t *p, size_t n, const uint8_t *mesh_id,
		       mycel_result *res)
{
	mycel_charter *want = NULL, *prev = NULL;
	char why[512] = "";
	int rv = mycel_charter_decode(p, n, &want, why, sizeof(why));
	if (rv != 0) {
		setmsg(res, "charter of %s refused: %s", c->url, why);
		return rv;
	}
	uint64_t top = mycel_charter_version(want), have = 0;
	while (rv == 0 && have < top) {
		mycel_arena *a = NULL;
		mycel_msg_CharterRequest rq;
		mycel_msg_CharterReply rp;
		if ((rv = mycel_arena_new((size_t)80 << 20, &a)) != 0)
			break;
		memset(&rq, 0, sizeof(rq));
		rq.has_version = true;
		rq.version = have;
		rv = typed(c, "mycel.v1.Mesh/Charter", &rq, a, NULL, res, &rp);
		if (rv == 0 && res->status != MYCEL_RPC_OK)
			rv = MYCEL_EIO;
		if (rv == 0 && rp.n_newer == 0) {
			setmsg(res, "charter of %s refused: the node sent no chain after v%llu", c->url,
			       (unsigned long long)have);
			rv = MYCEL_ECHARTER;
		}
		for (size_t i = 0; rv == 0 && i < rp.n_newer && have < top; i++) {
			mycel_charter *ch = NULL;
			rv = mycel_charter_decode(rp.newer[i].ptr, rp.newer[i].len, &ch, why, sizeof(why));
			if (rv == 0 && prev == NULL) {
				rv = mycel_charter_verify_genesis(ch, why, sizeof(why));
				uint8_t dig[MYCEL_HASH_LEN];
				if (rv == 0 && mesh_id != NULL &&
				    (mycel_charter_digest(ch, dig) != 0 ||
				     memcmp(dig, mesh_id, MYCEL_HASH_LEN) != 0)) {
					snprintf(why, sizeof(why), "its genesis is not of the pinned mesh id");
					rv = MYCEL_EPERM;
				}
			} else if (rv == 0) {
				rv = mycel_charter_verify_next(prev, ch, why, sizeof(why));
			}
			if (rv != 0)
				setmsg(res, "charter of %s refused: v%llu: %s", c->url,
				       (unsigned long long)have + 1, why);
			mycel_charter_free(prev);
			prev = ch;
			have++;
		}
		mycel_arena_free(a);
	}
	uint8_t da[MYCEL_HASH_LEN], db[MYCEL_HASH_LEN];
	if (rv == 0 && (prev == NULL || mycel_charter_digest(prev, da) != 0 ||
			mycel_charter_digest(want, db) != 0 || memcmp(da, db, sizeof(da)) != 0)) {
		setmsg(res, "charter of %s refused: its chain does not end at the charter it sent",
		       c->url);
		rv = MYCEL_ECHARTER;
	}
	mycel_charter_free(prev);
	mycel_charter_free(want);
	return rv;
}

int mycel_client_fetch_charter(mycel_client *c, const uint8_t *mesh_id, mycel_result *res)
{
	mycel_arena *a = NULL;
	mycel_msg_CharterRequest rq;
	mycel_msg_CharterReply rp;
	uint8_t dig[MYCEL_HASH_LEN];
	if (c == NULL || res == NULL)
		return MYCEL_EINVAL;
	int rv = mycel_arena_new((size_t)64 << 20, &a);
	if (rv != 0)
		return rv;
	memset(&rq, 0, sizeof(rq));
	memset(&rp, 0, sizeof(rp));
	if (c->charter != NULL && mycel_charter_digest(c->charter, dig) == 0) {
		rq.have = dig;
		rq.have_len = sizeof(dig);
	}
	rv = typed(c, "mycel.v1.Mesh/Charter", &rq, a, NULL, res, &rp);
	if (rv == 0 && res->status == MYCEL_RPC_OK) {
		if (rp.charter == NULL && c->charter == NULL) {
			setmsg(res, "the node sent no charter");
			rv = MYCEL_ECHARTER;
		} else if (rp.charter != NULL) {
			char why[512] = "";
			mycel_charter *probe = NULL;
			bool later = mycel_charter_decode(rp.charter, rp.charter_len, &probe, NULL, 0) == 0 &&
				     mycel_charter_version(probe) > 1;
			mycel_charter_free(probe);
			/* a later version: its chain is checked here, then it is the anchor */
			rv = later ? check_chain(c, rp.charter, rp.charter_len, mesh_id, res) : 0;
			if (later && rv != 0) {
				mycel_arena_free(a);
				return rv;
			}
			rv = mycel_client_set_charter(c, rp.charter, rp.charter_len,
						      later ? NULL : mesh_id, why, sizeof(why));
			if (rv != 0)
				setmsg(res, "charter of %s refused: %s", c->url, why);
		} else if (mesh_id != NULL && mycel_charter_version(c->charter) == 1 &&
			   memcmp(dig, mesh_id, MYCEL_HASH_LEN) != 0) {
			setmsg(res, "the charter held is not of the pinned mesh id");
			rv = MYCEL_EPERM;
		}
	}
	mycel_arena_free(a);
	return rv;
}

static int check_key_rotate(mycel_client *c, const void *vrq, const void *vrp, char *why,
			    size_t why_len)
{
	const mycel_msg_KeyRotateReply *rp = vrp;
	mycel_entry_expect exp = {NULL, MYCEL__KEY_KIND, NULL, NULL};
	mycel_entry e;
	uint8_t next[MYCEL_PK_LEN];
	(void)vrq;
	if (rp->entry == NULL || rp->next_key == NULL || rp->next_key_len != MYCEL_PK_LEN) {
		(void)snprintf(why, why_len, "the reply carries no key entry or next key");
		return MYCEL_EFORMAT;
	}
	int rv = verify_one(c, rp->entry, &exp, why, why_len, &e);
	if (rv != 0)
		return rv;
	if ((rv = mycel__feedkey_body_check(e.h.feed, e.h.seq, rp->entry->body, rp->entry->body_len,
					    next)) != 0 ||
	    memcmp(next, rp->next_key, MYCEL_PK_LEN) != 0) {
		(void)snprintf(why, why_len,
			       "the key entry (seq %llu) does not carry the next key's reverse "
			       "signature over the next key the reply names",
			       (unsigned long long)e.h.seq);
		return rv != 0 ? rv : MYCEL_EFORMAT;
	}
	return 0;
}

int mycel_client_key_rotate(mycel_client *c, mycel_arena *a, mycel_result *res,
			    mycel_msg_KeyRotateReply *out)
{
	return typed(c, "mycel.v1.Admin/KeyRotate", NULL, a, check_key_rotate, res, out);
}

static int check_transfer(mycel_client *c, const void *vrq, const void *vrp, char *why,
			  size_t why_len)
{
	const mycel_msg_TransferReply *rp = vrp;
	mycel_entry_expect exp = {NULL, "transfer", NULL, NULL};
	(void)vrq;
	if (rp->entry == NULL) {
		(void)snprintf(why, why_len, "the reply carries no transfer entry");
		return MYCEL_EFORMAT;
	}
	return verify_one(c, rp->entry, &exp, why, why_len, NULL);
}

int mycel_client_transfer(mycel_client *c, const mycel_msg_TransferRequest *rq, mycel_arena *a,
			  mycel_result *res, mycel_msg_TransferReply *out)
{
	if (rq == NULL)
		return MYCEL_EINVAL;
	return typed(c, "mycel.v1.Admin/Transfer", rq, a, check_transfer, res, out);
}

int mycel_client_accept(mycel_client *c, const mycel_msg_AcceptRequest *rq, mycel_arena *a,
			mycel_result *res, mycel_msg_TransferReply *out)
{
	if (rq == NULL)
		return MYCEL_EINVAL;
	return typed(c, "mycel.v1.Admin/Accept", rq, a, check_transfer, res, out);
}
