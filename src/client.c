/*
 * client.c — the RPC client's transports (include/mycel/client.h): one req0 socket with
 * one nng context per call and the receive timeout taken from the call's deadline, or
 * in-process serving with mycel_rpc_serve_ctx. Typed calls are in client_calls.c,
 * verification in client_verify.c.
 */
#include "mycel/client.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "client_int.h"
#include "mycel/codec.h"
#include "mycel/error.h"
#include "mycel/node.h"
#include "mycel/rpc.h"
#include "mycel/store.h"

uint64_t mycel__client_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#define now_ms mycel__client_now_ms

static int client_open(const char *url, bool lazy, mycel_client **out)
{
	if (url == NULL || out == NULL)
		return MYCEL_EINVAL;
	mycel_client *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return MYCEL_ENOMEM;
	c->verify = true;
	if ((c->url = strdup(url)) == NULL) {
		free(c);
		return MYCEL_ENOMEM;
	}
	pthread_mutex_init(&c->keys_mu, NULL);
	int rv = nng_req0_open(&c->s);
	if (rv != 0) {
		pthread_mutex_destroy(&c->keys_mu);
		free(c->url);
		free(c);
		return rv == NNG_ENOMEM ? MYCEL_ENOMEM : MYCEL_EIO;
	}
	/* Never resend on our own: an Admin call is not idempotent; the deadline bounds it. */
	if ((rv = nng_socket_set_ms(c->s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE)) != 0 ||
	    (rv = nng_socket_set_size(c->s, NNG_OPT_RECVMAXSZ, MYCEL_CLIENT_REPLY_MAX)) != 0 ||
	    (lazy && (rv = nng_socket_set_ms(c->s, NNG_OPT_RECONNMINT, 100)) != 0) ||
	    (lazy && (rv = nng_socket_set_ms(c->s, NNG_OPT_RECONNMAXT, 5000)) != 0) ||
	    (rv = nng_dial(c->s, url, NULL, lazy ? NNG_FLAG_NONBLOCK : 0)) != 0) {
		nng_close(c->s);
		pthread_mutex_destroy(&c->keys_mu);
		free(c->url);
		free(c);
		switch (rv) {
		case NNG_ENOMEM:
			return MYCEL_ENOMEM;
		case NNG_EADDRINVAL:
		case NNG_ENOTSUP:
		case NNG_EINVAL:
			return MYCEL_EINVAL;
		default:
			return MYCEL_EIO;
		}
	}
	*out = c;
	return 0;
}

int mycel_client_open(const char *url, mycel_client **out)
{
	return client_open(url, false, out);
}

int mycel_client_open_lazy(const char *url, mycel_client **out)
{
	return client_open(url, true, out);
}

int mycel_client_open_local(const mycel_rpc_ctx *ctx, mycel_client **out)
{
	if (ctx == NULL || ctx->store == NULL || out == NULL)
		return MYCEL_EINVAL;
	mycel_client *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return MYCEL_ENOMEM;
	c->local = true;
	c->ctx = ctx;
	c->verify = true;
	if ((c->url = strdup("local")) == NULL) {
		free(c);
		return MYCEL_ENOMEM;
	}
	pthread_mutex_init(&c->keys_mu, NULL);
	const mycel_charter *ch = mycel_store_charter(ctx->store);
	if (ch != NULL) {
		/* the client's own copy: the store may move on to a newer version */
		mycel_buf b;
		mycel_buf_init(&b, MYCEL_CHARTER_MAX);
		int rv = mycel_charter_encode(ch, &b);
		if (rv == 0)
			rv = mycel_charter_decode(b.data, b.len, &c->charter, NULL, 0);
		mycel_buf_fini(&b);
		if (rv != 0) {
			pthread_mutex_destroy(&c->keys_mu);
			free(c->url);
			free(c);
			return rv;
		}
	}
	*out = c;
	return 0;
}

void mycel_client_close(mycel_client *c)
{
	if (c == NULL)
		return;
	if (!c->local)
		nng_close(c->s);
	mycel_charter_free(c->charter);
	free(c->feeds);
	pthread_mutex_destroy(&c->keys_mu);
	free(c->url);
	free(c);
}

const char *mycel_client_url(const mycel_client *c)
{
	return c != NULL ? c->url : "";
}

void mycel_client_set_timeout(mycel_client *c, uint64_t ms)
{
	if (c != NULL)
		c->timeout_ms = ms;
}

void mycel_client_set_verify(mycel_client *c, bool on)
{
	if (c != NULL)
		c->verify = on;
}

const mycel_charter *mycel_client_charter(const mycel_client *c)
{
	return c != NULL ? c->charter : NULL;
}

/* Decodes a reply envelope into malloc'd outputs (untouched on failure). */
static int take_reply(const uint8_t *p, size_t n, uint64_t *out_status, char **out_message,
		      uint8_t **out_body, size_t *out_body_len)
{
	mycel_rpc_reply rep;
	char why[256] = "";
	int rv = mycel_rpc_reply_decode(p, n, MYCEL_CLIENT_REPLY_MAX, &rep, why, sizeof(why));
	if (rv != 0)
		return rv;
	char *msg = malloc(rep.message_len + 1);
	uint8_t *body = NULL;
	if (msg != NULL && rep.has_body) {
		body = malloc(rep.body_len ? rep.body_len : 1);
		if (body != NULL && rep.body_len > 0)
			memcpy(body, rep.body, rep.body_len);
	}
	if (msg == NULL || (rep.has_body && body == NULL)) {
		free(msg);
		free(body);
		return MYCEL_ENOMEM;
	}
	if (rep.message_len > 0)
		memcpy(msg, rep.message, rep.message_len);
	msg[rep.message_len] = '\0';
	*out_status = rep.status;
	*out_message = msg;
	*out_body = body;
	*out_body_len = rep.has_body ? rep.body_len : 0;
	return 0;
}

/* Fills the outputs with a status the client made up itself. */
static int local_status(uint64_t status, const char *message, uint64_t *out_status,
			char **out_message, uint8_t **out_body, size_t *out_body_len)
{
	char *m = strdup(message);
	if (m == NULL)
		return MYCEL_ENOMEM;
	*out_status = status;
	*out_message = m;
	*out_body = NULL;
	*out_body_len = 0;
	return 0;
}

int mycel_client_call(mycel_client *c, const char *method, uint64_t deadline_ms,
		      const uint8_t *req, size_t n, uint64_t *out_status, char **out_message,
		      uint8_t **out_body, size_t *out_body_len)
{
	if (c == NULL || method == NULL || (req == NULL && n > 0) || out_status == NULL ||
	    out_message == NULL || out_body == NULL || out_body_len == NULL)
		return MYCEL_EINVAL;
	size_t mlen = strlen(method);
	if (mlen > MYCEL_RPC_METHOD_MAX)
		return MYCEL_EINVAL;

	nng_duration timeout = NNG_DURATION_INFINITE;
	if (deadline_ms != 0) {
		uint64_t now = now_ms();
		if (deadline_ms <= now)
			return local_status(MYCEL_RPC_DEADLINE_EXCEEDED, "deadline exceeded",
					    out_status, out_message, out_body, out_body_len);
		uint64_t left = deadline_ms - now;
		timeout = left > (uint64_t)INT32_MAX ? INT32_MAX : (nng_duration)left;
	}

	mycel_rpc_request r;
	memset(&r, 0, sizeof(r));
	r.method = method;
	r.method_len = mlen;
	r.deadline_ms = deadline_ms;
	r.body = req;
	r.body_len = n;
	mycel_buf b;
	mycel_buf_init(&b, MYCEL_RPC_REQUEST_MAX);
	int rv = mycel_rpc_request_encode(&r, &b);
	if (rv != 0) {
		mycel_buf_fini(&b);
		return rv;
	}
	if (c->local) {
		mycel_buf rep;
		/* the node's bound on replies, so a local call answers as a node would */
		mycel_buf_init(&rep, MYCEL_NODE_REPLY_MAX);
		rv = mycel_rpc_serve_ctx(c->ctx, b.data, b.len, true, now_ms(), &rep);
		if (rv == 0)
			rv = take_reply(rep.data, rep.len, out_status, out_message, out_body,
					out_body_len);
		mycel_buf_fini(&rep);
		mycel_buf_fini(&b);
		return rv;
	}

	nng_ctx ctx;
	nng_aio *aio = NULL;
	nng_msg *m = NULL;
	int e = nng_aio_alloc(&aio, NULL, NULL);
	if (e != 0) {
		mycel_buf_fini(&b);
		return MYCEL_ENOMEM;
	}
	if ((e = nng_ctx_open(&ctx, c->s)) != 0) {
		nng_aio_free(aio);
		mycel_buf_fini(&b);
		return local_status(MYCEL_RPC_UNAVAILABLE, nng_strerror(e), out_status,
				    out_message, out_body, out_body_len);
	}
	if ((e = nng_msg_alloc(&m, b.len)) != 0) {
		rv = MYCEL_ENOMEM;
		goto done;
	}
	memcpy(nng_msg_body(m), b.data, b.len);
	nng_aio_set_timeout(aio, timeout);
	nng_aio_set_msg(aio, m);
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	if ((e = nng_aio_result(aio)) != 0) {
		nng_msg_free(m);
		rv = local_status(e == NNG_ETIMEDOUT ? MYCEL_RPC_DEADLINE_EXCEEDED
						     : MYCEL_RPC_UNAVAILABLE,
				  nng_strerror(e), out_status, out_message, out_body, out_body_len);
		goto done;
	}
	/* The send timeout already used part of the budget: recompute it. */
	if (deadline_ms != 0) {
		uint64_t now = now_ms();
		timeout = deadline_ms <= now ? 1
			  : deadline_ms - now > (uint64_t)INT32_MAX
			      ? INT32_MAX
			      : (nng_duration)(deadline_ms - now);
	}
	nng_aio_set_timeout(aio, timeout);
	nng_ctx_recv(ctx, aio);
	nng_aio_wait(aio);
	if ((e = nng_aio_result(aio)) != 0) {
		rv = local_status(e == NNG_ETIMEDOUT ? MYCEL_RPC_DEADLINE_EXCEEDED
						     : MYCEL_RPC_UNAVAILABLE,
				  nng_strerror(e), out_status, out_message, out_body, out_body_len);
		goto done;
	}
	m = nng_aio_get_msg(aio);
	rv = take_reply(nng_msg_body(m), nng_msg_len(m), out_status, out_message, out_body,
			out_body_len);
	nng_msg_free(m);
done:
	nng_ctx_close(ctx);
	nng_aio_free(aio);
	mycel_buf_fini(&b);
	return rv;
}
