/*
 * client_int.h — the client's state, shared by client.c (transports), client_calls.c
 * (typed calls) and client_verify.c (verification). Internal.
 */
#ifndef MYCEL_CLIENT_INT_H
#define MYCEL_CLIENT_INT_H

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
	/* what the client has verified of rotated feeds' key chains (client_calls.c) */
	pthread_mutex_t keys_mu;
	struct mycel__client_feed *feeds; /* owned, n_feeds of them */
	size_t n_feeds;
};

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
