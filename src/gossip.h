/*
 * gossip.h — the gossip engine (internal; DESIGN.md §5, proto/PROTOCOL.md §10, src/mesh.h);
 * implemented in gossip.c (exchanges, rounds, push) and gossip_peers.c (the peers table).
 *
 * One engine per node. It keeps the peers table (state, source, backoff, counters), runs
 * anti-entropy rounds on a thread (every interval_ms, jittered ±25 %: `fanout` peers, each
 * exchange on its own thread, every call bounded by rpc_timeout_ms; a round does not wait
 * for the exchanges of earlier rounds, and at most `fanout` run at once), and pushes newly
 * committed entries to `fanout` live peers from a bounded queue on a second thread. The
 * Mesh handlers and the writer reach it through mycel__gossip_ops (src/mesh.h) with the
 * engine as their arg.
 *
 * Peers come from the node's seeds ("seed"), Admin/PeersAdd ("admin", persisted in the
 * store's meta table under "gossip_peers"), the `nodes` of signed domain profiles
 * ("domain") and the `from` URL of inbound Digest/Push ("inbound"). A node never adds its
 * own URL. At most MYCEL_NODE_PEERS_MAX peers are held; more are refused.
 */
#ifndef MYCEL_GOSSIP_H
#define MYCEL_GOSSIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh.h"
#include "mycel/node.h"
#include "mycel/rpc.h"

typedef enum mycel__peer_state {
	MYCEL__PEER_ALIVE,   /* the last call succeeded (or none was made yet) */
	MYCEL__PEER_SUSPECT, /* 1 or 2 consecutive failures */
	MYCEL__PEER_DEAD,    /* 3 or more: tried only when its backoff is due */
	MYCEL__PEER_IGNORED, /* too many rejects in a minute: nothing taken from it for ignore_ms */
} mycel__peer_state;

typedef enum mycel__peer_source {
	MYCEL__SRC_SEED,
	MYCEL__SRC_ADMIN,
	MYCEL__SRC_DOMAIN,
	MYCEL__SRC_INBOUND,
} mycel__peer_source;

/* "alive", "suspect", "dead", "ignored" / "seed", "admin", "domain", "inbound". */
const char *mycel__peer_state_name(mycel__peer_state s);
const char *mycel__peer_source_name(mycel__peer_source s);

/* A peer as the table holds it (a copy, for tests and the peers listing). */
typedef struct mycel__peer_info {
	char url[MYCEL_NODE_URL_MAX + 1];
	mycel__peer_state state; /* IGNORED while ignored, whatever the call state */
	mycel__peer_source source;
	uint64_t failures, last_seen_ms, next_try_ms, ignored_until_ms;
	uint64_t entries_in, entries_out, rejects, lag, bytes_in, bytes_out;
	uint64_t calls; /* requests sent to it, failed ones included */
	char last_error[256];
} mycel__peer_info;

typedef struct mycel__gossip mycel__gossip;

typedef struct mycel__gossip_env {
	mycel_rpc_ctx *ctx;    /* the node's serving context (store, writer, frontier); borrowed */
	mycel_node_log_fn log; /* may be NULL */
	void *log_ctx;
	/* Time in unix ms for peer states and backoff (NULL: the wall clock); for tests. */
	uint64_t (*clock)(void *arg);
	void *clock_arg;
	uint64_t seed; /* of the engine's random choices; 0: from the system */
} mycel__gossip_env;

/*
 * Creates an engine over env (copied) with options o (checked; defaults filled in) and the
 * seed peers; loads the admin peers persisted in the store. Nothing runs until
 * mycel__gossip_start. EINVAL (why says which option or peer), ENOMEM.
 */
int mycel__gossip_new(const mycel_gossip_opts *o, const mycel__gossip_env *env,
                      const char *const *seeds, size_t n_seeds, mycel__gossip **out, char *why,
                      size_t why_len);

/* The callbacks for ctx->mesh_ops, with the engine as ctx->mesh_arg. */
extern const mycel__mesh_ops mycel__gossip_ops;

/* Starts the round and push threads. EIO when a thread cannot be started (none run). */
int mycel__gossip_start(mycel__gossip *g);

/*
 * Stops the threads: no new call is started; calls in flight are aborted at once (their
 * peers' states are left as they were), so a stop never waits for a deadline; then every
 * thread is joined. Idempotent.
 */
void mycel__gossip_stop(mycel__gossip *g);

/*
 * Closes the peers' clients of a stopped engine. With a monotonic ms deadline: all at once,
 * waiting for them until the deadline at most (a close that does not finish is left behind
 * and logged; see client_int.h). With UINT64_MAX: one after the other, each as long as it
 * takes. Returns how many were left behind. The next start dials afresh. Accepts NULL.
 */
size_t mycel__gossip_close_clients(mycel__gossip *g, uint64_t deadline_ms);

/* Stops the engine if needed, closes its clients, frees it. Accepts NULL. */
void mycel__gossip_free(mycel__gossip *g);

/*
 * Adds a peer (source as given; an existing peer keeps its counters, and an admin add of a
 * known peer makes it an admin peer). 0; EINVAL for a URL that is not tcp:// / ipc://, is
 * too long or is this node's own; ETOOBIG when the table is full. Admin peers are
 * persisted in the store.
 */
int mycel__gossip_add(mycel__gossip *g, const char *url, mycel__peer_source source, char *why,
                      size_t why_len);

/*
 * Whether url can be a peer: a tcp:// (tcp4, tcp6) or ipc:// URL of at most
 * MYCEL_NODE_URL_MAX bytes without blanks or control bytes, naming a host (not 0.0.0.0,
 * [::], * or none). 0, or EINVAL with why.
 */
int mycel__gossip_url_check(const char *url, char *why, size_t why_len);

/*
 * Removes a peer: 0, or ENOTFOUND. Its address is remembered as removed (in the store, so
 * across restarts; the REMOVED_MAX latest): it is not relearnt from domain profiles or
 * inbound calls until an admin add brings it back, or the configuration names it as a seed.
 * An admin peer is removed from the store's admin peers too.
 */
int mycel__gossip_remove(mycel__gossip *g, const char *url, char *why, size_t why_len);

/* Copies peer url's row into *out: 0, or ENOTFOUND. */
int mycel__gossip_peer(mycel__gossip *g, const char *url, mycel__peer_info *out);

/* The number of peers in the table. */
size_t mycel__gossip_n_peers(mycel__gossip *g);

/* ---- the pieces, exposed for tests ------------------------------------------------------ */

/*
 * Retry delay after `failures` consecutive failures: min(interval × 2^failures, backoff_max)
 * × (0.5 + r), r in [0, 1) (the random factor). Never 0.
 */
uint64_t mycel__gossip_backoff(uint64_t interval_ms, uint64_t backoff_max_ms, uint64_t failures,
                               double r);

/* interval × (0.75 + r / 2), r in [0, 1): the ±25 % jitter of every period. */
uint64_t mycel__gossip_jitter(uint64_t interval_ms, double r);

/* Records the outcome of a call to url at the engine's clock (state transitions, backoff). */
void mycel__gossip_outcome(mycel__gossip *g, const char *url, bool ok, const char *err);

/*
 * Chooses up to max peers for a round at the engine's clock: alive and suspect ones, dead
 * ones whose retry is due, never ignored ones, nor one whose exchange is running; peers
 * with a pending gap first, then due dead ones (the earliest due first, in at most half of
 * the picks, at least one), then the others at random. Writes their URLs to out[i] (each
 * MYCEL_NODE_URL_MAX + 1 bytes) and returns how many.
 */
size_t mycel__gossip_pick(mycel__gossip *g, size_t max, char (*out)[MYCEL_NODE_URL_MAX + 1]);

/* Counters of the engine. */
typedef struct mycel__gossip_stats {
	uint64_t rounds;       /* rounds run */
	uint64_t exchanges;    /* exchanges completed (any outcome) */
	uint64_t exchanges_ok; /* of which successful */
	uint64_t pulled;       /* entries accepted from pulls */
	uint64_t pushed;       /* entries accepted by peers from pushes and push-pull */
	uint64_t push_queued;  /* entries waiting in the push queue now */
	uint64_t push_dropped; /* entries dropped from a full push queue (oldest first) */
	uint64_t push_batches; /* batches the pusher took and finished sending */
	uint64_t bytes_out,
	    bytes_in; /* request and reply bytes on the wire (envelopes + nng framing) */
} mycel__gossip_stats;

void mycel__gossip_stats_get(mycel__gossip *g, mycel__gossip_stats *out);

/* Most entries and bytes the push queue holds before it drops the oldest. */
#define MYCEL__GOSSIP_QUEUE_MAX 4096u
#define MYCEL__GOSSIP_QUEUE_BYTES ((size_t)64u << 20)

/*
 * Runs one exchange with url now, on the calling thread (the peer need not be in the
 * table: it is added as "admin" is not, i.e. it must be known). *out_bytes (may be NULL)
 * gets the bytes sent and received by it. 0 when the exchange succeeded, or a code.
 */
int mycel__gossip_exchange(mycel__gossip *g, const char *url, uint64_t *out_bytes);

/* The engine of a node (src/node.c), or NULL when gossip is off or not started. */
struct mycel__gossip *mycel__node_gossip(const mycel_node *n);

/* Test hook: the pusher takes nothing from its queue while held. */
void mycel__gossip_hold_push(mycel__gossip *g, bool hold);

#endif
