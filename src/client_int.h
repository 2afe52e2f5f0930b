/*
 * client_int.h — the client's state, shared by client.c (transports), client_calls.c
 * (typed calls) and client_verify.c (verification). Internal.
 */
#ifndef MYCEL_CLIENT_INT_H
#define MYCEL_CLIENT_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <nng/nng.h>

#include "mycel/charter.h"
#include "mycel/client.h"
#include "mycel/rpc.h"

struct mycel_client {
	bool local;                /* served in-process through ctx, not over nng */
	nng_socket s;              /* !local */
	const mycel_rpc_ctx *ctx;  /* local: borrowed */
	char *url;                 /* or "local" */
	uint64_t timeout_ms;       /* 0: MYCEL_CLIENT_TIMEOUT_DEFAULT_MS */
	bool verify;
	mycel_charter *charter;    /* owned; NULL: none yet */
	/* calls waiting on the network, for mycel__client_abort (nng only) */
	pthread_mutex_t mu;
	bool aborted;                   /* under mu: every call fails at once */
	struct mycel__inflight *inflight; /* under mu */
};

/* One call's aio while it sends or waits for its reply (on the calling thread's stack). */
typedef struct mycel__inflight {
	nng_aio *aio;
	struct mycel__inflight *next;
} mycel__inflight;

/*
 * Ends every call of c that waits on the network (their status: UNAVAILABLE, "aborted") and
 * makes every later call fail the same way at once, without sending. For an owner that
 * stops (the gossip engine) and must not wait for deadlines; the client is still closed
 * with mycel_client_close. Thread-safe; accepts NULL and local clients (nothing to do).
 */
void mycel__client_abort(mycel_client *c);

/* Wall-clock unix ms. */
uint64_t mycel__client_now_ms(void);

#endif
