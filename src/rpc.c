/*
 * rpc.c — RPC envelopes, status codes and mycel_rpc_serve (DESIGN.md §5).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mycel/error.h"
#include "mycel/rpc.h"
#include "mycel_proto.h"
#include "rpc_int.h"

const char *mycel_rpc_status_name(uint64_t status)
{
	switch (status) {
	case MYCEL_RPC_OK: return "OK";
	case MYCEL_RPC_CANCELLED: return "CANCELLED";
	case MYCEL_RPC_UNKNOWN: return "UNKNOWN";
	case MYCEL_RPC_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
	case MYCEL_RPC_DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
	case MYCEL_RPC_NOT_FOUND: return "NOT_FOUND";
	case MYCEL_RPC_ALREADY_EXISTS: return "ALREADY_EXISTS";
	case MYCEL_RPC_PERMISSION_DENIED: return "PERMISSION_DENIED";
	case MYCEL_RPC_RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
	case MYCEL_RPC_FAILED_PRECONDITION: return "FAILED_PRECONDITION";
	case MYCEL_RPC_UNIMPLEMENTED: return "UNIMPLEMENTED";
	case MYCEL_RPC_INTERNAL: return "INTERNAL";
	case MYCEL_RPC_UNAVAILABLE: return "UNAVAILABLE";
	case MYCEL_RPC_UNAUTHENTICATED: return "UNAUTHENTICATED";
	default: return "?";
	}
}

mycel_rpc_status mycel_rpc_status_of(int err)
{
	switch (err) {
	case 0: return MYCEL_RPC_OK;
	case MYCEL_EINVAL:
	case MYCEL_ETRUNC:
	case MYCEL_ETRAILING:
	case MYCEL_ENONCANON:
	case MYCEL_EDEPTH:
	case MYCEL_EUTF8:
	case MYCEL_EFLOAT:
	case MYCEL_EKEYORDER:
	case MYCEL_EKEYTYPE:
	case MYCEL_EUNSUPPORTED:
	case MYCEL_ETYPE:
	case MYCEL_EFORMAT:
	case MYCEL_EVERSION:
	case MYCEL_EBADSIG:
	case MYCEL_ECHAIN:
	case MYCEL_EHASH:
	case MYCEL_ETS:
	case MYCEL_ESCHEMA:
	case MYCEL_EEXPR:
	case MYCEL_EBUNDLE:
	case MYCEL_ECHARTER: return MYCEL_RPC_INVALID_ARGUMENT;
	case MYCEL_ENOMEM:
	case MYCEL_ETOOBIG: return MYCEL_RPC_RESOURCE_EXHAUSTED;
	case MYCEL_ENOTFOUND: return MYCEL_RPC_NOT_FOUND;
	case MYCEL_EEXIST: return MYCEL_RPC_ALREADY_EXISTS;
	case MYCEL_EPERM:
	case MYCEL_EADMIT:
	case MYCEL_ETHRESHOLD: return MYCEL_RPC_PERMISSION_DENIED;
	case MYCEL_EFORK:
	case MYCEL_EEVAL:
	case MYCEL_EBREAKING:
	case MYCEL_EREVOKED:
	case MYCEL_EPOLICY: return MYCEL_RPC_FAILED_PRECONDITION;
	case MYCEL_EBUSY: return MYCEL_RPC_UNAVAILABLE;
	case MYCEL_EIO:
	case MYCEL_ESTORE:
	case MYCEL_ECORRUPT:
	case MYCEL_EKEYFILE: return MYCEL_RPC_INTERNAL;
	default: return MYCEL_RPC_UNKNOWN;
	}
}

static void setwhy(char *why, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void setwhy(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;
	if (why == NULL || why_len == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
}

/* ---- envelopes -------------------------------------------------------------------- */

int mycel_rpc_request_encode(const mycel_rpc_request *r, mycel_buf *b)
{
	if (b->err != 0)
		return b->err;
	if ((r->method == NULL && r->method_len > 0) || (r->body == NULL && r->body_len > 0) ||
	    r->n_meta > MYCEL_RPC_META_MAX)
		return MYCEL_EINVAL;
	if (r->method_len > MYCEL_RPC_METHOD_MAX || r->body_len > MYCEL_RPC_REQUEST_MAX)
		return MYCEL_ETOOBIG;
	for (size_t i = 0; i < r->n_meta; i++) {
		const mycel_rpc_meta *m = &r->meta[i];
		if ((m->key == NULL && m->key_len > 0) || (m->value == NULL && m->value_len > 0))
			return MYCEL_EINVAL;
		if (m->key_len > MYCEL_RPC_META_KEY_MAX || m->value_len > MYCEL_RPC_META_VALUE_MAX)
			return MYCEL_ETOOBIG;
		if (i > 0) {
			const mycel_rpc_meta *p = &r->meta[i - 1];
			size_t k = p->key_len < m->key_len ? p->key_len : m->key_len;
			int c = k ? memcmp(p->key, m->key, k) : 0;
			if (c > 0 || (c == 0 && p->key_len >= m->key_len))
				return MYCEL_EKEYORDER;
		}
	}
	mycel_enc_array(b, 5);
	mycel_enc_uint(b, MYCEL_RPC_VERSION);
	mycel_enc_str(b, r->method ? r->method : "", r->method_len);
	mycel_enc_uint(b, r->deadline_ms);
	mycel_enc_map(b, (uint32_t)r->n_meta);
	for (size_t i = 0; i < r->n_meta; i++) {
		mycel_enc_str(b, r->meta[i].key ? r->meta[i].key : "", r->meta[i].key_len);
		mycel_enc_str(b, r->meta[i].value ? r->meta[i].value : "", r->meta[i].value_len);
	}
	mycel_enc_bin(b, r->body ? r->body : (const uint8_t *)"", r->body_len);
	return b->err;
}

/* Reads the array header and the version common to both envelopes. */
static int rd_head(mycel_rd *r, const uint8_t *p, size_t n, size_t max_len, const char *what,
		   char *why, size_t why_len)
{
	uint32_t count;
	uint64_t version;
	int rv;
	if (n > max_len) {
		setwhy(why, why_len, "%s of %zu bytes exceeds the limit of %zu", what, n, max_len);
		return MYCEL_ETOOBIG;
	}
	mycel_rd_init(r, p, n);
	if ((rv = mycel_rd_array(r, &count)) != 0) {
		setwhy(why, why_len, "%s: not an array (%s)", what, mycel_strerror(rv));
		return rv;
	}
	if (count < 1) {
		setwhy(why, why_len, "%s: empty array", what);
		return MYCEL_EFORMAT;
	}
	if ((rv = mycel_rd_uint(r, &version)) != 0) {
		setwhy(why, why_len, "%s: version: %s", what, mycel_strerror(rv));
		return rv;
	}
	if (version != MYCEL_RPC_VERSION) {
		setwhy(why, why_len, "%s: unsupported version %llu (this node speaks 1)", what,
		       (unsigned long long)version);
		return MYCEL_EVERSION;
	}
	if (count != 5 && count != 4) {
		setwhy(why, why_len, "%s: array of %u elements", what, (unsigned)count);
		return MYCEL_EFORMAT;
	}
	return (int)count;
}

#define FAIL(field, rv)                                                                        \
	do {                                                                                   \
		setwhy(why, why_len, "request: %s at byte %zu: %s", field, mycel_rd_offset(&r),   \
		       mycel_strerror(rv));                                                    \
		return rv;                                                                     \
	} while (0)

int mycel_rpc_request_decode(const uint8_t *p, size_t n, size_t max_len, mycel_rpc_request *out,
			     char *why, size_t why_len)
{
	mycel_rd r;
	uint32_t nmeta;
	int rv = rd_head(&r, p, n, max_len, "request", why, why_len);
	memset(out, 0, sizeof(*out));
	if (rv < 0)
		return rv;
	if (rv != 5) {
		setwhy(why, why_len, "request: array of %d elements, not 5", rv);
		return MYCEL_EFORMAT;
	}
	if ((rv = mycel_rd_str(&r, &out->method, &out->method_len)) != 0)
		FAIL("method", rv);
	if (out->method_len > MYCEL_RPC_METHOD_MAX)
		FAIL("method", MYCEL_ETOOBIG);
	if ((rv = mycel_rd_uint(&r, &out->deadline_ms)) != 0)
		FAIL("deadline_ms", rv);
	if ((rv = mycel_rd_map(&r, &nmeta)) != 0)
		FAIL("metadata", rv);
	if (nmeta > MYCEL_RPC_META_MAX)
		FAIL("metadata", MYCEL_ETOOBIG);
	for (uint32_t i = 0; i < nmeta; i++) {
		mycel_rpc_meta *m = &out->meta[i];
		if ((rv = mycel_rd_str(&r, &m->key, &m->key_len)) != 0)
			FAIL("metadata key", rv == MYCEL_ETYPE ? MYCEL_EKEYTYPE : rv);
		if (m->key_len > MYCEL_RPC_META_KEY_MAX)
			FAIL("metadata key", MYCEL_ETOOBIG);
		if (i > 0) {
			const mycel_rpc_meta *q = &out->meta[i - 1];
			size_t k = q->key_len < m->key_len ? q->key_len : m->key_len;
			int c = k ? memcmp(q->key, m->key, k) : 0;
			if (c > 0 || (c == 0 && q->key_len >= m->key_len))
				FAIL("metadata key", MYCEL_EKEYORDER);
		}
		if ((rv = mycel_rd_str(&r, &m->value, &m->value_len)) != 0)
			FAIL("metadata value", rv);
		if (m->value_len > MYCEL_RPC_META_VALUE_MAX)
			FAIL("metadata value", MYCEL_ETOOBIG);
		out->n_meta = i + 1;
	}
	if ((rv = mycel_rd_bin(&r, &out->body, &out->body_len)) != 0)
		FAIL("body", rv);
	if ((rv = mycel_rd_end(&r)) != 0)
		FAIL("end", rv);
	return 0;
}

#undef FAIL

int mycel_rpc_reply_encode(const mycel_rpc_reply *r, mycel_buf *b)
{
	if (b->err != 0)
		return b->err;
	if ((r->message == NULL && r->message_len > 0) || (r->body == NULL && r->body_len > 0))
		return MYCEL_EINVAL;
	if (r->message_len > MYCEL_RPC_MESSAGE_MAX)
		return MYCEL_ETOOBIG;
	mycel_enc_array(b, 4);
	mycel_enc_uint(b, MYCEL_RPC_VERSION);
	mycel_enc_uint(b, r->status);
	mycel_enc_str(b, r->message ? r->message : "", r->message_len);
	if (r->has_body)
		mycel_enc_bin(b, r->body ? r->body : (const uint8_t *)"", r->body_len);
	else
		mycel_enc_nil(b);
	return b->err;
}

#define FAIL(field, rv)                                                                        \
	do {                                                                                   \
		setwhy(why, why_len, "reply: %s at byte %zu: %s", field, mycel_rd_offset(&r),     \
		       mycel_strerror(rv));                                                    \
		return rv;                                                                     \
	} while (0)

int mycel_rpc_reply_decode(const uint8_t *p, size_t n, size_t max_len, mycel_rpc_reply *out,
			   char *why, size_t why_len)
{
	mycel_rd r;
	mycel_type t;
	int rv = rd_head(&r, p, n, max_len, "reply", why, why_len);
	memset(out, 0, sizeof(*out));
	if (rv < 0)
		return rv;
	if (rv != 4) {
		setwhy(why, why_len, "reply: array of %d elements, not 4", rv);
		return MYCEL_EFORMAT;
	}
	if ((rv = mycel_rd_uint(&r, &out->status)) != 0)
		FAIL("status", rv);
	if ((rv = mycel_rd_str(&r, &out->message, &out->message_len)) != 0)
		FAIL("message", rv);
	if (out->message_len > MYCEL_RPC_MESSAGE_MAX)
		FAIL("message", MYCEL_ETOOBIG);
	if ((rv = mycel_rd_peek(&r, &t)) != 0)
		FAIL("body", rv);
	if (t == MYCEL_T_NIL) {
		if ((rv = mycel_rd_nil(&r)) != 0)
			FAIL("body", rv);
	} else {
		if ((rv = mycel_rd_bin(&r, &out->body, &out->body_len)) != 0)
			FAIL("body", rv);
		out->has_body = true;
	}
	if ((rv = mycel_rd_end(&r)) != 0)
		FAIL("end", rv);
	return 0;
}

#undef FAIL

/* ---- serving ---------------------------------------------------------------------- */

int mycel_rpc_reply_error(mycel_buf *b, mycel_rpc_status status, const char *message)
{
	mycel_rpc_reply r = {0};
	size_t len = message ? strlen(message) : 0;
	if (len > MYCEL_RPC_MESSAGE_MAX)
		len = MYCEL_RPC_MESSAGE_MAX;
	/* never cut a UTF-8 sequence in two */
	while (len > 0 && !mycel_utf8_valid((const uint8_t *)message, len))
		len--;
	r.status = (uint64_t)status;
	r.message = message;
	r.message_len = len;
	return mycel_rpc_reply_encode(&r, b);
}

/* Resets b and writes an error reply into it. */
static int fail_reply(mycel_buf *b, mycel_rpc_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_reply(mycel_buf *b, mycel_rpc_status status, const char *fmt, ...)
{
	char msg[MYCEL_RPC_MESSAGE_MAX + 1];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mycel_buf_reset(b);
	return mycel_rpc_reply_error(b, status, msg);
}

int mycel_rpc_serve(mycel_store *s, const uint8_t *req, size_t n, bool admin_socket,
		    uint64_t now_ms, mycel_buf *reply)
{
	mycel_rpc_ctx ctx = {.store = s};
	return mycel_rpc_serve_ctx(&ctx, req, n, admin_socket, now_ms, reply);
}

int mycel_rpc_serve_ctx(const mycel_rpc_ctx *ctx, const uint8_t *req, size_t n, bool admin_socket,
			uint64_t now_ms, mycel_buf *reply)
{
	mycel_store *s = ctx->store;
	mycel_rpc_request rq;
	char why[MYCEL_RPC_MESSAGE_MAX + 1] = "";
	int rv;

	mycel_buf_reset(reply);
	rv = mycel_rpc_request_decode(req, n, MYCEL_RPC_REQUEST_MAX, &rq, why, sizeof(why));
	if (rv != 0)
		return fail_reply(reply, mycel_rpc_status_of(rv), "%s", why);

	const mycel_method *m = mycel_method_find(rq.method, rq.method_len);
	if (m == NULL) {
		/* the method string is valid UTF-8 of at most 256 bytes */
		return fail_reply(reply, MYCEL_RPC_UNIMPLEMENTED, "unknown method \"%.*s\"",
				  (int)rq.method_len, rq.method);
	}
	if (m->admin_only && !admin_socket)
		return fail_reply(reply, MYCEL_RPC_PERMISSION_DENIED,
				  "%s is served on the admin socket only", m->name);
	if (rq.deadline_ms != 0 && rq.deadline_ms <= now_ms)
		return fail_reply(reply, MYCEL_RPC_DEADLINE_EXCEEDED,
				  "deadline %llu passed (now %llu)",
				  (unsigned long long)rq.deadline_ms, (unsigned long long)now_ms);
	mycel_rpc_handler h = mycel_rpc_catalog_handler(m);
	mycel_rpc_admin_handler ah = mycel_rpc_admin_handler_of(m); /* handlers that need ctx */
	if (h == NULL && ah == NULL)
		ah = mycel_rpc_mesh_handler_of(m);
	if (h == NULL && ah == NULL)
		return fail_reply(reply, MYCEL_RPC_UNIMPLEMENTED, "%s is not implemented yet",
				  m->name);

	/* decoded strings and lists are copies: bounded by a few times the body */
	mycel_arena *a = NULL;
	if (mycel_arena_new(4 * rq.body_len + (96u << 20), &a) != 0)
		return fail_reply(reply, MYCEL_RPC_RESOURCE_EXHAUSTED, "out of memory");
	void *in = mycel_arena_alloc(a, m->request->size);
	void *out = mycel_arena_alloc(a, m->reply->size);
	if (in == NULL || out == NULL) {
		mycel_arena_free(a);
		return fail_reply(reply, MYCEL_RPC_RESOURCE_EXHAUSTED, "out of memory");
	}
	memset(in, 0, m->request->size);
	memset(out, 0, m->reply->size);
	rv = m->request_decode(rq.body, rq.body_len, a, in, why, sizeof(why));
	if (rv != 0) {
		mycel_arena_free(a);
		return fail_reply(reply,
				  rv == MYCEL_ETOOBIG || rv == MYCEL_ENOMEM
					  ? MYCEL_RPC_RESOURCE_EXHAUSTED
					  : MYCEL_RPC_INVALID_ARGUMENT,
				  "%s", why[0] ? why : mycel_strerror(rv));
	}
	why[0] = '\0';
	mycel_rpc_status st = ah != NULL ? ah(ctx, a, in, out, why, sizeof(why))
					 : h(s, a, in, out, why, sizeof(why));
	if (st != MYCEL_RPC_OK) {
		mycel_arena_free(a);
		return fail_reply(reply, st, "%s", why[0] ? why : mycel_rpc_status_name(st));
	}
	if (m->reply == &mycel_msg_StatusReply_desc) {
		/* what only the serving context knows: peers, the node's key and its uptime */
		mycel_msg_StatusReply *sr = out;
		sr->has_peers = true;
		sr->peers = ctx->n_peers;
		if (ctx->key != NULL && sr->node_key == NULL) {
			/* the domain's feed (its genesis key), which a key rotation does not change */
			const mycel_charter *ch =
			    ctx->store != NULL ? mycel_store_charter(ctx->store) : NULL;
			const mycel_charter_domain *d =
			    ch != NULL && ctx->domain != NULL ? mycel_charter_find_domain(ch, ctx->domain)
							      : NULL;
			sr->node_key = d != NULL ? d->feed : ctx->key->pk;
			sr->node_key_len = MYCEL_PK_LEN;
		}
		if (ctx->started_ms != 0 && now_ms >= ctx->started_ms) {
			sr->has_uptime_ms = true;
			sr->uptime_ms = now_ms - ctx->started_ms;
		}
	}
	mycel__rpc_mesh_decorate(ctx, m, a, out);

	mycel_buf body;
	mycel_buf_init(&body, reply->limit);
	rv = m->reply_encode(out, &body);
	mycel_arena_free(a);
	if (rv == 0) {
		mycel_rpc_reply r = {.status = MYCEL_RPC_OK, .has_body = true,
				     .body = body.data, .body_len = body.len};
		rv = mycel_rpc_reply_encode(&r, reply);
	}
	mycel_buf_fini(&body);
	if (rv != 0)
		return fail_reply(reply,
				  rv == MYCEL_ETOOBIG || rv == MYCEL_ENOMEM
					  ? MYCEL_RPC_RESOURCE_EXHAUSTED
					  : MYCEL_RPC_INTERNAL,
				  "%s: cannot encode the reply: %s", m->name, mycel_strerror(rv));
	return 0;
}
