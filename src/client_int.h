/*
 * client_int.h — the client's state, shared by client.c (transports), client_calls.c
 * (typed calls) and client_verify.c (verification). Internal.
 */
#ifndef MYCEL_CLIENT_INT_H
#define MYCEL_CLIENT_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <pthread.h>

#include <nng/nng.h>

#include "feedkey.h"

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
	/* what the client has verified of rotated feeds' key chains (client_calls.c) */
	pthread_mutex_t keys_mu;
	struct mycel__client_feed *feeds; /* owned, n_feeds of them */
	size_t n_feeds;
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

/*
 * Closing nng sockets with a bound on the wait. nng 1.5 (Debian's) can hang in nng_close
 * for good when a dialer or listener is creating a pipe at that moment (a peer that
 * reconnects while we stop; nanomsg/nng#1498, fixed in later releases). A closer runs
 * nng_close on a thread of its own; mycel__close_wait waits for it until a deadline and
 * otherwise leaves it behind (it touches nothing but its own state), so the caller can
 * go on and the process exit.
 */
typedef struct mycel__closer mycel__closer;

/* Starts closing s; NULL when no thread could be started (then s is closed here, unbounded). */
mycel__closer *mycel__close_start(nng_socket s);

/* Waits for c until the monotonic ms deadline (UINT64_MAX: no deadline); true when the
 * close finished. Frees c (or leaves it to its thread). Accepts NULL (true). */
bool mycel__close_wait(mycel__closer *c, uint64_t deadline_ms);

/* Monotonic ms (for mycel__close_wait's deadline). */
uint64_t mycel__mono_ms(void);

/*
 * Like mycel_client_close, with the socket's close bounded as above: starts it and returns
 * its closer (NULL when it finished or c was NULL or local); the client is freed either way.
 */
mycel__closer *mycel__client_close_start(mycel_client *c);

/* Most feeds, and most rotations per feed, whose key chain a client remembers. */
#define MYCEL__CLIENT_FEEDS_MAX 4096u
#define MYCEL__CLIENT_ROTATIONS_MAX 64u

/* One feed's key entries as the client verified them, in seq order. */
typedef struct mycel__client_feed {
	uint8_t feed[MYCEL_PK_LEN];
	bool fetched;
	size_t n_rot;
	uint64_t rot_seq[MYCEL__CLIENT_ROTATIONS_MAX];              /* seq of each key entry */
	uint8_t rot_id[MYCEL__CLIENT_ROTATIONS_MAX][MYCEL_HASH_LEN]; /* its entry id */
	uint8_t rot_key[MYCEL__CLIENT_ROTATIONS_MAX][MYCEL_PK_LEN];  /* its next key */
} mycel__client_feed;

/*
 * mycel_client_verify_entry, with the entry's signature checked under key (the key that
 * signs its feed at its seq) instead of the feed id; key NULL: the feed id.
 */
int mycel__client_verify_entry_key(const mycel_charter *ch, const mycel_msg_Entry *m,
				   const mycel_entry_expect *exp, const uint8_t *key, char *why,
				   size_t why_len, mycel_entry *out_e);

/* Wall-clock unix ms. */
uint64_t mycel__client_now_ms(void);

#endif
