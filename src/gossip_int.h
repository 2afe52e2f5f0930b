/*
 * gossip_int.h — what the two halves of the gossip engine share (internal): the engine's
 * state and the peers-table helpers of gossip_peers.c that gossip.c (calls, exchanges,
 * rounds, push) uses. Functions named _locked in their comment expect g->mu held.
 */
#ifndef MYCEL_GOSSIP_INT_H
#define MYCEL_GOSSIP_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gossip.h"
#include "mycel/client.h"
#include "mycel/entry.h"

#define URLCAP (MYCEL_NODE_URL_MAX + 1)
/* Arena of one call's decoded reply: the largest Pull reply plus its bookkeeping. */
#define CALL_ARENA_MAX ((size_t)64u << 20)
/* The meta key under which admin peers are persisted (a canonical array of str). */
#define META_PEERS "gossip_peers"
/* The meta key of the addresses an operator removed (a canonical array of str). */
#define META_REMOVED "gossip_removed"
/* Most removed addresses remembered (the oldest is forgotten first). */
#define REMOVED_MAX 1024u
/* How long a retry of a dead peer waits for its old client's socket to close. */
#define GOSSIP_CLOSE_WAIT_MS 1000u
/* Failures before a peer is dead. */
#define DEAD_AFTER 3u
/* The reject window. */
#define REJECT_WINDOW_MS 60000u
/* Most concurrent exchanges of one round. */
#define ROUND_MAX 64u
/* The `from` of pulled batches that are not pushed on (see pull()). */
/* Most feeds an exchange handles (bounds its range lists). */
#define FEEDS_CAP ((size_t)1u << 20)
/* Re-announce our URL in Digest every this many exchanges with a peer. */
#define FROM_EVERY 32u

typedef struct peer {
	char url[URLCAP];
	mycel__peer_source source;
	mycel__peer_state state; /* ALIVE, SUSPECT or DEAD (IGNORED is derived) */
	bool removed;
	bool gap; /* an exchange is wanted soon */
	bool other_mesh_logged;
	unsigned busy; /* exchanges running */
	uint64_t failures, last_seen, next_try, ignored_until, win_start, win_count;
	uint64_t in, out, rejects, lag, bytes_in, bytes_out;
	uint64_t calls; /* requests sent to it, failed ones included */
	uint64_t logged_codes; /* rejected codes already logged (bit -code & 63) */
	uint64_t exchanges;    /* with this peer, for FROM_EVERY */
	char last_error[256];
	char domain[65]; /* the domain whose signed profile names it, or "" */
	mycel_client *client;
} peer;

typedef struct qitem {
	struct qitem *next;
	size_t size;
	char *from;
	uint64_t hops; /* pushes it travelled to reach us (0: published here or pulled) */
	uint8_t entry[MYCEL_ENTRY_MAX];
	size_t entry_len;
	uint8_t *body; /* NULL: none */
	size_t body_len;
	bool fork;
	uint8_t other[MYCEL_ENTRY_MAX];
	size_t other_len;
	uint8_t *other_body;
	size_t other_body_len;
} qitem;

typedef struct queue {
	qitem *head, *tail;
	size_t n, bytes;
} queue;

struct mycel__gossip {
	mycel_gossip_opts o;
	mycel__gossip_env env;
	pthread_mutex_t mu;
	pthread_mutex_t persist_mu;
	pthread_cond_t round_cv;
	pthread_cond_t push_cv;
	peer **peers;
	size_t n_peers, cap_peers;
	/* addresses removed by an operator: not relearnt from domain profiles or inbound calls
	 * until added again (admin) or named by the configuration (seed); persisted */
	char (*gone)[URLCAP];
	size_t n_gone;
	uint64_t rng;
	bool stopping, kick, hold_push;
	bool round_started, push_started;
	pthread_t round_thread, push_thread;
	queue q;  /* entries */
	queue fq; /* fork proofs, sent first */
	mycel__gossip_stats st;
};

/* Unix ms now (the wall clock); the engine's clock (env.clock or the wall clock). */
uint64_t mycel__gp_wall_ms(void);
uint64_t mycel__gp_now(const mycel__gossip *g);

/* A uniform double in [0, 1) from the engine's generator; g->mu held. */
double mycel__gp_rnd(mycel__gossip *g);

/* printf into why (nothing when why is NULL or why_len 0). */
void mycel__gp_why(char *why, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* s as a logfmt quoted value in out (cap bytes), escaped; returns out. */
const char *mycel__gp_q(const char *s, char *out, size_t cap);

/* One log line through the node's log function (if any). */
void mycel__gp_log(mycel__gossip *g, mycel_node_level lv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The first 8 bytes of p as 16 hex digits in out; returns out. */
const char *mycel__gp_hex8(const uint8_t *p, char out[17]);

/* The URL this node announces as `from`, or NULL when it names no host. */
const char *mycel__gp_announce(const mycel__gossip *g);

/* True when url is this node's own. */
bool mycel__gp_is_self(const mycel__gossip *g, const char *url);

/* The peer with url that is not removed, or NULL; g->mu held. */
peer *mycel__gp_find(mycel__gossip *g, const char *url);

/* Adds (or revives) a peer; *out its row. EINVAL, ETOOBIG, ENOMEM; g->mu held. */
int mycel__gp_add(mycel__gossip *g, const char *url, mycel__peer_source src, char *why,
                  size_t why_len, peer **out);

/* True while p is ignored at time now. */
bool mycel__gp_ignored_at(const peer *p, uint64_t now);

/* Records a call's outcome (state, backoff, last error; logs changes); g->mu held. */
void mycel__gp_outcome(mycel__gossip *g, peer *p, bool ok, const char *err);

/* Counts a reject from p, logs it once per code, ignores p past the limit; g->mu held. */
void mycel__gp_rejected(mycel__gossip *g, peer *p, int code, const char *why);

/* Chooses up to max peers for a round (see mycel__gossip_pick); mark: busy++; g->mu held. */
size_t mycel__gp_pick(mycel__gossip *g, size_t max, peer **out, bool mark);

/* Up to max live peers to push to, not `except`, each busy++; g->mu held. */
size_t mycel__gp_targets(mycel__gossip *g, size_t max, const char *except, peer **out);

/* busy-- for each of ps (takes g->mu). */
void mycel__gp_release(mycel__gossip *g, peer **ps, size_t n);

/* True when url was removed by an operator and not added again; g->mu held. */
bool mycel__gp_gone(const mycel__gossip *g, const char *url);

/* Loads the admin peers and removed addresses persisted in the store; g->mu held. */
void mycel__gp_load(mycel__gossip *g);

/* Learns the peers a domain profile body of feed names (source "domain"; takes g->mu). */
void mycel__gp_learn_profile(mycel__gossip *g, const uint8_t *feed, const uint8_t *body, size_t n);

/* The commit hook (mesh ops `committed`), in gossip.c. */
void mycel__gp_committed(void *arg, const mycel__committed *c);

#endif
