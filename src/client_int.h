/*
 * client_int.h — the client's state, shared by client.c (transports), client_calls.c
 * (typed calls) and client_verify.c (verification). Internal.
 */
#ifndef MYCEL_CLIENT_INT_H
#define MYCEL_CLIENT_INT_H

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
};

/* Wall-clock unix ms. */
uint64_t mycel__client_now_ms(void);

#endif
