/*
 * mycel/node.h — the node: serves a domain directory (or a bare store) over nng
 * (DESIGN.md §5). myceld is a thin program around these functions.
 *
 * A node takes an exclusive lock file DIR/myceld.pid (fcntl, its pid inside), opens the
 * store read-write, and serves the RPC layer (mycel/rpc.h) on two nng rep0 sockets: the
 * public one (tcp) and the admin one (ipc only, socket file mode 0600). Each socket is
 * served by worker threads (opts.workers and opts.admin_workers), each with its own nng
 * context, receiving and replying synchronously; nothing runs inside an nng callback.
 *
 * Writes (Admin Publish, Deprecate, Retire, Reindex): the admin workers parse and lint the
 * documents in parallel, then hand the prepared write to the node's ONE writer thread
 * through a bounded queue and wait. The writer takes everything queued (up to 64 requests,
 * 2048 documents and 64 MiB of document text) and commits all the publishes and lifecycle
 * changes among them in ONE LMDB transaction (one fsync: group commit), in queue order; a
 * reindex gets its own transaction. Each request stays atomic on its own: one request's
 * refusal (rules, a version published with other content, a conflict with another
 * request of the same group — then the later one gets ALREADY_EXISTS) never fails
 * another. A request is answered only after its commit returned: an acknowledged write is
 * durable. On stop, writes already queued complete and are answered; later ones get
 * UNAVAILABLE.
 *
 * Change stream (optional, opts.events): an nng pub0 socket on which the node publishes
 * one message per new entry after each successful Admin write (Publish, Deprecate,
 * Retire), in feed order (the writer thread sends them after each commit). Each message is the
 * canonical MessagePack encoding of a map with exactly these keys:
 *   domain:  str     the domain whose feed received the entry
 *   feed:    bin 32  the feed's public key
 *   seq:     uint    the new entry's sequence number in that feed
 *   kind:    str     the entry kind: "contract", "product" or "lifecycle"
 *   id:      str     the document's id
 *   version: str     the document's version
 *   status:  str     "published" (contract/product), "deprecated" or "retired" (lifecycle)
 * Publishing never blocks the writer: pub0 drops messages for subscribers that do not keep
 * up (and when there are none), which is the right semantics for a notification stream —
 * the feed itself stays the source of truth, and a subscriber that missed events pulls.
 */
#ifndef MYCEL_NODE_H
#define MYCEL_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mycel/store.h"

#define MYCEL_NODE_LISTEN_DEFAULT "tcp://127.0.0.1:7401"
#define MYCEL_NODE_PID_FILE "myceld.pid"
#define MYCEL_NODE_ADMIN_SOCK "admin.sock"
#define MYCEL_NODE_WORKERS_DEFAULT 4u
#define MYCEL_NODE_WORKERS_MAX 256u
#define MYCEL_NODE_ADMIN_WORKERS_DEFAULT 4u
/* Most peer URLs a node is given. */
#define MYCEL_NODE_PEERS_MAX 4096u
/* Largest reply a worker builds; larger ones become RESOURCE_EXHAUSTED replies. */
#define MYCEL_NODE_REPLY_MAX ((size_t)(32u << 20))
/* Longest URL accepted (an ipc path must also fit a sockaddr_un). */
#define MYCEL_NODE_URL_MAX 512u

typedef enum mycel_node_level {
	MYCEL_NODE_DEBUG,
	MYCEL_NODE_INFO,
	MYCEL_NODE_WARN,
	MYCEL_NODE_ERROR,
} mycel_node_level;

/*
 * Log sink: line holds logfmt pairs without ts and level (`msg="listening" url=...`),
 * values quoted and escaped. Called from any thread; it must not block for long.
 */
typedef void (*mycel_node_log_fn)(void *ctx, mycel_node_level level, const char *line);

/*
 * The gossip engine's settings (DESIGN.md §5; the `gossip:` section of a configuration file).
 * A zero field takes the default beside it; a field outside its range makes
 * mycel_node_open fail with EINVAL.
 */
#define MYCEL_GOSSIP_INTERVAL_MS_DEFAULT 1000u   /* 10..3600000: round period, jittered ±25 % */
#define MYCEL_GOSSIP_FANOUT_DEFAULT 3u           /* 1..64: peers per round and per push */
#define MYCEL_GOSSIP_MAX_HOPS_DEFAULT 16u        /* 1..255: a push is not forwarded past it */
#define MYCEL_GOSSIP_BATCH_ENTRIES_DEFAULT 1000u /* 1..1000: entries per Pull or Push message */
#define MYCEL_GOSSIP_BATCH_BYTES_DEFAULT ((uint64_t)4u << 20) /* 4096..16 MiB per message */
#define MYCEL_GOSSIP_RPC_TIMEOUT_MS_DEFAULT 2000u /* 10..600000: deadline of every call */
#define MYCEL_GOSSIP_BACKOFF_MAX_MS_DEFAULT 60000u /* 100..86400000: longest retry delay */
#define MYCEL_GOSSIP_REJECT_LIMIT_DEFAULT 50u    /* 1..1000000 rejects a minute before ignoring */
#define MYCEL_GOSSIP_IGNORE_MS_DEFAULT 300000u   /* 1000..86400000: how long a peer is ignored */
#define MYCEL_GOSSIP_VERIFY_THREADS_MAX 256u     /* verify_threads 0: the number of CPUs */

typedef struct mycel_gossip_opts {
	bool off;                /* no gossip engine (peers are only listed) */
	bool no_push;            /* anti-entropy rounds only, no eager push */
	unsigned interval_ms;
	unsigned fanout;
	unsigned max_hops;
	unsigned batch_entries;
	uint64_t batch_bytes;
	unsigned rpc_timeout_ms;
	unsigned backoff_max_ms;
	unsigned reject_limit;
	unsigned ignore_ms;
	unsigned verify_threads;
} mycel_gossip_opts;

/*
 * Checks o's ranges (zero fields are defaults): 0, or EINVAL with why naming the field.
 * mycel_gossip_opts_resolve fills the defaults into a copy.
 */
int mycel_gossip_opts_check(const mycel_gossip_opts *o, char *why, size_t why_len);
void mycel_gossip_opts_resolve(const mycel_gossip_opts *o, mycel_gossip_opts *out);

typedef struct mycel_node_opts {
	const char *data;     /* domain directory or bare store (required) */
	const char *listen;   /* public URL; NULL: MYCEL_NODE_LISTEN_DEFAULT */
	const char *admin;    /* admin URL, ipc:// only; NULL: ipc://DATA/admin.sock */
	const char *events;   /* change-stream pub0 URL (tcp://); NULL: no change stream */
	unsigned workers;     /* public-socket workers; 0: MYCEL_NODE_WORKERS_DEFAULT */
	unsigned admin_workers; /* admin-socket workers; 0: MYCEL_NODE_ADMIN_WORKERS_DEFAULT */
	mycel_node_log_fn log; /* may be NULL */
	void *log_ctx;
	/*
	 * Peer URLs (seeds from the configuration; copied, at most MYCEL_NODE_PEERS_MAX, each
	 * at most MYCEL_NODE_URL_MAX bytes): the gossip engine's first peers (source "seed").
	 */
	const char *const *peers;
	size_t n_peers;
	mycel_gossip_opts gossip; /* zero: the defaults */
	/*
	 * How long mycel_node_stop waits for the node's sockets and its gossip clients to
	 * close, in ms. nng 1.5 can hang in a socket's close when a peer reconnects at that
	 * moment (nanomsg/nng#1498); a program that must exit (myceld) sets a bound: the sockets
	 * then close at once, each on a thread of its own, and one that has not closed by then
	 * is left to the exit (logged). 0: they close one after the other on the stopping
	 * thread, each as long as it takes, so nothing is left behind (an in-process node;
	 * many closes at once from many threads wedged nng 1.5 itself).
	 */
	unsigned close_wait_ms;
} mycel_node_opts;

typedef struct mycel_node mycel_node;

/*
 * Opens the node: takes the lock file (EBUSY if another process holds it, why names its
 * pid), opens the store read-write, and listens on both sockets. Nothing is served until
 * mycel_node_start. On failure everything acquired is released and why says what failed
 * (EINVAL for bad options, ENOTFOUND when data is neither a domain directory nor a store,
 * EIO for socket and file errors, the store's codes).
 */
int mycel_node_open(const mycel_node_opts *o, mycel_node **out, char *why, size_t why_len);

/*
 * Starts the writer thread and the worker threads. ENOMEM / EIO if they cannot all be
 * started (none then run).
 */
int mycel_node_start(mycel_node *n);

/* The public URL actually bound (port 0 resolved), and the admin URL. Owned by the node. */
const char *mycel_node_url(const mycel_node *n);
const char *mycel_node_admin_url(const mycel_node *n);

/* The change-stream URL actually bound (port 0 resolved), or NULL when there is none. */
const char *mycel_node_events_url(const mycel_node *n);

/* The node's store, owned by the node. */
mycel_store *mycel_node_store(const mycel_node *n);

/*
 * Stops serving: gossip calls in flight are aborted, workers waiting for a request stop at
 * once, workers handling one send their reply first (their queued writes complete); then
 * joins them, stops the writer and closes the sockets (waiting at most close_wait_ms for
 * them, when set). Idempotent.
 */
void mycel_node_stop(mycel_node *n);

/*
 * How many sockets mycel_node_stop left closing when close_wait_ms ran out (0 with
 * close_wait_ms 0). nng's threads still hold them: a program should then end without
 * exit handlers (_exit), as myceld does, rather than tear down what nng still uses.
 */
size_t mycel_node_stalled(const mycel_node *n);

/* The writer's counters (see the file comment), for monitoring and tests. */
typedef struct mycel_node_write_stats {
	uint64_t requests;  /* writes executed by the writer thread */
	uint64_t commits;   /* write transactions it committed */
	uint64_t batches;   /* batches it took from the queue */
	uint64_t max_batch; /* most requests in one batch */
	uint64_t queued;    /* writes waiting now */
} mycel_node_write_stats;

/* Fills *out (all zero before mycel_node_start). */
void mycel_node_write_stats_get(const mycel_node *n, mycel_node_write_stats *out);

/*
 * Test hooks: while writes are held the writer takes nothing from its queue (the requests
 * wait), so a test can line up k concurrent writes and watch them commit together; stop
 * releases the hold. mycel_node_wait_queued waits until at least k writes are queued: 0,
 * or EBUSY after timeout_ms; EINVAL before mycel_node_start.
 */
void mycel_node_hold_writes(mycel_node *n, bool hold);
int mycel_node_wait_queued(mycel_node *n, size_t k, unsigned timeout_ms);

/* Stops the node if running, closes the store, removes the lock file. Accepts NULL. */
void mycel_node_close(mycel_node *n);

#endif
