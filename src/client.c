/*
 * client.c — the RPC client's transports (include/mycel/client.h): one req0 socket with
 * one nng context per call and the receive timeout taken from the call's deadline, or
 * in-process serving with mycel_rpc_serve_ctx. Typed calls are in client_calls.c,
 * verification in client_verify.c.
 */
#include "mycel/client.h"

#include <pthread.h>
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
	pthread_mutex_init(&c->mu, NULL);
	/* Never resend on our own: an Admin call is not idempotent; the deadline bounds it. */
	if ((rv = nng_socket_set_ms(c->s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE)) != 0 ||
	    (rv = nng_socket_set_size(c->s, NNG_OPT_RECVMAXSZ, MYCEL_CLIENT_REPLY_MAX)) != 0 ||
	    (lazy && (rv = nng_socket_set_ms(c->s, NNG_OPT_RECONNMINT, 100)) != 0) ||
	    (lazy && (rv = nng_socket_set_ms(c->s, NNG_OPT_RECONNMAXT, 5000)) != 0) ||
	    (rv = nng_dial(c->s, url, NULL, lazy ? NNG_FLAG_NONBLOCK : 0)) != 0) {
		nng_close(c->s);
		pthread_mutex_destroy(&c->mu);
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

/* Frees what c holds but its socket (closed, or being closed, by the caller). */
static void client_free(mycel_client *c)
{
	if (!c->local)
		pthread_mutex_destroy(&c->mu);
	mycel_charter_free(c->charter);
	free(c->feeds);
	pthread_mutex_destroy(&c->keys_mu);
	free(c->url);
	free(c);
}

void mycel_client_close(mycel_client *c)
{
	if (c == NULL)
		return;
	if (!c->local)
		nng_close(c->s);
	client_free(c);
}

struct mycel__closer {
	nng_socket s;
	pthread_t t;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	unsigned refs; /* the thread and the waiter, under mu */
};

uint64_t mycel__mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void closer_unref(mycel__closer *c)
{
	pthread_mutex_lock(&c->mu);
	bool last = --c->refs == 0;
	pthread_mutex_unlock(&c->mu);
	if (last) {
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		free(c);
	}
}

static void *closer_main(void *arg)
{
	mycel__closer *c = arg;
	nng_close(c->s);
	pthread_mutex_lock(&c->mu);
	c->done = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	closer_unref(c);
	return NULL;
}

mycel__closer *mycel__close_start(nng_socket s)
{
	mycel__closer *c = calloc(1, sizeof(*c));
	pthread_condattr_t ca;
	if (c == NULL) {
		nng_close(s);
		return NULL;
	}
	c->s = s;
	c->refs = 2;
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&c->t, NULL, closer_main, c) != 0) {
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		free(c);
		nng_close(s);
		return NULL;
	}
	return c;
}

bool mycel__close_wait(mycel__closer *c, uint64_t deadline_ms)
{
	if (c == NULL)
		return true;
	struct timespec ts = {(time_t)(deadline_ms / 1000u), (long)(deadline_ms % 1000u) * 1000000L};
	pthread_mutex_lock(&c->mu);
	while (!c->done) {
		if (deadline_ms == UINT64_MAX)
			pthread_cond_wait(&c->cv, &c->mu);
		else if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) != 0)
			break;
	}
	bool done = c->done;
	pthread_mutex_unlock(&c->mu);
	if (done)
		pthread_join(c->t, NULL);
	else
		pthread_detach(c->t);
	closer_unref(c);
	return done;
}

mycel__closer *mycel__client_close_start(mycel_client *c)
{
	if (c == NULL)
		return NULL;
	if (c->local) {
		mycel_client_close(c);
		return NULL;
	}
	mycel__closer *k = mycel__close_start(c->s);
	client_free(c);
	return k;
}

const char *mycel_client_url(const mycel_client *c)
{
	return c != NULL ? c->url : "";
}

void mycel__client_abort(mycel_client *c)
{
	if (c == NULL || c->local)
		return;
	pthread_mutex_lock(&c->mu);
	c->aborted = true;
	for (mycel__inflight *f = c->inflight; f != NULL; f = f->next)
		nng_aio_cancel(f->aio);
	pthread_mutex_unlock(&c->mu);
}

/*
 * Starts send (true) or receive on ctx with aio unless c was aborted: under c->mu, so an
 * abort either sees the operation in c->inflight or the operation sees the abort.
 */
static bool start_op(mycel_client *c, nng_ctx ctx, nng_aio *aio, bool send)
{
	pthread_mutex_lock(&c->mu);
	bool go = !c->aborted;
	if (go) {
		if (send)
			nng_ctx_send(ctx, aio);
		else
			nng_ctx_recv(ctx, aio);
	}
	pthread_mutex_unlock(&c->mu);
	return go;
}

static void inflight_del(mycel_client *c, mycel__inflight *f)
{
	pthread_mutex_lock(&c->mu);
	for (mycel__inflight **pp = &c->inflight; *pp != NULL; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	pthread_mutex_unlock(&c->mu);
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
	mycel__inflight fl;
	bool listed = false;
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
	pthread_mutex_lock(&c->mu);
	fl.aio = aio;
	fl.next = c->inflight;
	c->inflight = &fl;
	listed = true;
	pthread_mutex_unlock(&c->mu);
	if (!start_op(c, ctx, aio, true)) {
		nng_msg_free(m);
		rv = local_status(MYCEL_RPC_UNAVAILABLE, "aborted", out_status, out_message,
				  out_body, out_body_len);
		goto done;
	}
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
	if (!start_op(c, ctx, aio, false)) {
		rv = local_status(MYCEL_RPC_UNAVAILABLE, "aborted", out_status, out_message,
				  out_body, out_body_len);
		goto done;
	}
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
	if (listed)
		inflight_del(c, &fl);
	nng_ctx_close(ctx);
	nng_aio_free(aio);
	mycel_buf_fini(&b);
	return rv;
}
