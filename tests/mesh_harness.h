/*
 * tests/mesh_harness.h — a mesh of real myceld processes on loopback, for the multi-process
 * tests (tests/test_mesh_procs.c, tests/byzantine.c).
 *
 * mh_mesh_new makes the files of a mesh of n domains: one genesis charter (signed by a
 * governance key of its own) admitting domains d00..d(n-1), and one domain directory per
 * domain holding its key, the charter, its store and a myceld configuration file
 * (listen tcp://127.0.0.1:0, the admin socket in the directory, a `gossip:` section with a
 * short interval when the daemon accepts one). Nothing runs until mh_start.
 *
 * Processes: mh_start forks the daemon (its stdout a pipe, its stderr the node's log file)
 * and reads its `ready url=... admin=...` line, with a deadline. Every started pid is kept
 * in a process-wide table; mh_stop ends one (SIGCONT if frozen, SIGTERM, SIGKILL after a
 * bound), mh_mesh_free ends every node of a mesh and mh_kill_all (registered with atexit by
 * mh_mesh_new) every process still running, so nothing outlives a failed assertion; and each
 * daemon gets SIGKILL from the kernel when the test process dies (PR_SET_PDEATHSIG), so
 * nothing outlives a test killed by its timeout either.
 *
 * Waiting: every wait polls a condition (Status over tcp) at a short interval until it holds
 * or a deadline passes; the deadline only bounds the wait. Deadlines given to the harness are
 * multiplied by mh_scale() (larger under sanitizers or with $MESH_SCALE).
 *
 * Functions return 0 or a negative MYCEL_E... code and leave a sentence in m->err; they never
 * print and never abort, so a test can report m->err with its own assertion.
 */
#ifndef MYCEL_TESTS_MESH_HARNESS_H
#define MYCEL_TESTS_MESH_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mycel/client.h"
#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/key.h"

#define MH_PATH_MAX 512
#define MH_URL_MAX 600

typedef struct mh_node {
	char name[16];              /* domain name: d00, d01, ... */
	char dir[MH_PATH_MAX];      /* domain directory */
	char config[MH_PATH_MAX];   /* myceld configuration file */
	char log[MH_PATH_MAX];      /* myceld's stderr, appended across restarts */
	char url[MH_URL_MAX];       /* public URL read from the ready line ("" before a start) */
	char admin[MH_URL_MAX];     /* admin URL read from the ready line */
	pid_t pid;                  /* running process, 0 when none */
	bool frozen;                /* stopped with SIGSTOP */
	uint8_t feed[MYCEL_PK_LEN]; /* the domain's feed (public key) */
	mycel_client *pub;          /* Status client over tcp (opened lazily) */
	unsigned starts;            /* how many times it was started */
} mh_node;

typedef struct mh_mesh {
	char base[256];     /* temporary directory holding everything */
	const char *myceld; /* the daemon's path */
	size_t n;           /* domains (and nodes) */
	mh_node *nodes;
	mycel_key **keys; /* each domain's secret key (nodes[i] publishes with keys[i]) */
	mycel_key *gov;   /* the charter's one member */
	uint8_t mesh_id[MYCEL_HASH_LEN];
	char charter[MH_PATH_MAX]; /* genesis charter file */
	unsigned interval_ms;      /* gossip interval written in the configuration */
	bool gossip;               /* the daemon accepts the `gossip:` configuration section */
	char gossip_extra[512];    /* more `gossip:` settings (mh_configure) */
	/* gossip settings of the configuration files (0: fanout 3, rpc_timeout_ms 1000,
	 * backoff_max_ms 5 × interval); set them before mh_configure, which rewrites the files */
	unsigned fanout, rpc_timeout_ms, backoff_max_ms;
	char err[2048];            /* what the last failing call could not do */
} mh_mesh;

/* Deadline multiplier: $MESH_SCALE if set (1..50), else 4 under ASan, else 1. */
unsigned mh_scale(void);

/* Monotonic clock in milliseconds. */
uint64_t mh_now_ms(void);

/*
 * Creates the files of a mesh of n domains (1..100) under a new /tmp/mycel-mesh-XXXXXX and
 * probes whether myceld accepts a `gossip:` section (myceld --print-config). interval_ms is
 * the gossip interval for the configuration files. *out is freed with mh_mesh_free.
 * EINVAL, ENOMEM, EIO (with a message in why, which may be NULL).
 */
int mh_mesh_new(const char *myceld, size_t n, unsigned interval_ms, mh_mesh **out, char *why,
                size_t why_len);

/* Ends every running node of m (mh_stop), frees m and removes its directory unless
 * $MESH_KEEP is set or keep is true (kept to read the logs after a failure). Accepts NULL. */
void mh_mesh_free(mh_mesh *m, bool keep);

/*
 * Starts node i with seed peers seeds[0..k) (nodes that must be running: their URLs go to
 * --peer) and waits for its ready line (10 s × scale). A node started before restarts on
 * the URL it had (a node keeps its address across restarts); clear nodes[i].url for a fresh
 * one. EBUSY if it runs, EIO with the log's last lines in m->err if it does not become ready.
 * Call it from the thread that outlives the node (the test's main thread): the node is
 * killed when that thread ends.
 */
int mh_start(mh_mesh *m, size_t i, const size_t *seeds, size_t k);

/*
 * Starts the nodes which[0..k) at once, each with the same seed peers seeds[0..n_seeds)
 * (a shared seed list; a node skips its own URL): every daemon is forked first, then every
 * ready line is read (10 s × scale in all). The first error is returned (m->err says it);
 * nodes that became ready keep running.
 */
int mh_start_all(mh_mesh *m, const size_t *which, size_t k, const size_t *seeds,
                 size_t n_seeds);

/*
 * Stops the nodes which[0..k) at once: SIGTERM to every one first, then each is waited for
 * by its pid (SIGKILL to those still running after 20 s × scale, with their stacks in their
 * logs). *out_max_ms (may be NULL) gets the longest time from a node's SIGTERM to its exit.
 * 0 when every node exited with status 0, else EIO (m->err names the first that did not).
 */
int mh_stop_all(mh_mesh *m, const size_t *which, size_t k, uint64_t *out_max_ms);

/*
 * Stops node i: SIGCONT if frozen, SIGTERM, then SIGKILL after 20 s × scale. 0 when it
 * exited with status 0 after SIGTERM, EIO otherwise (m->err says how it ended), 0 if it was
 * not running.
 */
int mh_stop(mh_mesh *m, size_t i);

/* SIGKILL node i (a crash) and reaps it. */
void mh_kill(mh_mesh *m, size_t i);

/* SIGSTOP (on) or SIGCONT (off) node i. EINVAL if it is not running. */
int mh_freeze(mh_mesh *m, size_t i, bool on);

/* Ends every process any mesh started that still runs (SIGKILL), for atexit and teardowns. */
void mh_kill_all(void);

/*
 * Publishes on node i, through its admin socket, the contract id at version (domain d..,
 * a short description). Its new entry's seq goes to *out_seq (may be NULL).
 */
int mh_publish(mh_mesh *m, size_t i, const char *id, const char *version, uint64_t *out_seq);

/* mh_publish of a product (ODPS v1.0.0) instead of a contract. */
int mh_publish_product(mh_mesh *m, size_t i, const char *id, const char *version,
                       uint64_t *out_seq);

/*
 * On node i, through its admin socket: offers its product id to domain peer (accept false,
 * Admin/Transfer) or accepts peer's offer of id (accept true, Admin/Accept). The entry's seq
 * goes to *out_seq (may be NULL). EIO with the node's answer in m->err when it refuses.
 */
int mh_transfer(mh_mesh *m, size_t i, const char *id, const char *peer, bool accept,
                uint64_t *out_seq);

/*
 * Rotates node i's domain key through its admin socket (Admin/KeyRotate, PROTOCOL.md §5.4):
 * the key entry's seq goes to *out_seq and the next key to out_next (either may be NULL).
 */
int mh_rotate(mh_mesh *m, size_t i, uint64_t *out_seq, uint8_t out_next[MYCEL_PK_LEN]);

/*
 * Adds (add true) or removes url in node i's peers over its admin socket
 * (Admin/PeersAdd, Admin/PeersRemove). ENOTFOUND when the daemon has no such method.
 */
int mh_peer(mh_mesh *m, size_t i, const char *url, bool add);

/*
 * True when running node i serves method on its public socket (a call with an empty request
 * gets any answer but UNIMPLEMENTED), e.g. "mycel.v1.Mesh/Digest".
 */
bool mh_serves(mh_mesh *m, size_t i, const char *method);

/* Node i's Status over tcp into *out (strings and lists in a). */
int mh_status(mh_mesh *m, size_t i, mycel_arena *a, mycel_msg_StatusReply *out);

/*
 * A digest of node i's frontier as Status reports it (every feed's seq and head), its
 * number of entries and the seq it holds of feed (0 when none; feed may be NULL).
 */
typedef struct mh_view {
	uint8_t digest[MYCEL_HASH_LEN];
	uint64_t feeds;
	uint64_t entries;
	uint64_t seq;   /* of the feed asked for */
	uint64_t forks; /* Status forks, when the daemon reports them */
} mh_view;
int mh_view_of(mh_mesh *m, size_t i, const uint8_t *feed, mh_view *out);

/*
 * Waits until the nodes which[0..k) (every node when which is NULL: k is then ignored) all
 * report the same frontier (every feed's seq, head and forked flag) with at least min_entries
 * entries, polling every 50 ms, for at most deadline_ms × scale. 0 and the time it took in *out_ms;
 * ETIMEDOUT with the nodes' views in m->err. (Here and below, EBUSY means the deadline passed.)
 */
int mh_wait_converged(mh_mesh *m, const size_t *which, size_t k, uint64_t min_entries,
                      uint64_t deadline_ms, uint64_t *out_ms);

/* Waits until every node of which[0..k) (all when NULL) holds feed up to seq at least. */
int mh_wait_seq(mh_mesh *m, const size_t *which, size_t k, const uint8_t feed[MYCEL_PK_LEN],
                uint64_t seq, uint64_t deadline_ms, uint64_t *out_ms);

/*
 * Adds lines (each "  key: value\n", indented under `gossip:`) to every node's configuration
 * file, e.g. "  reject_limit: 20\n"; nothing when the daemon takes no gossip section. Nodes
 * read it when they next start.
 */
int mh_configure(mh_mesh *m, const char *lines);

/* How many lines of node i's log contain s1 and (unless NULL) s2. */
size_t mh_log_count(const mh_mesh *m, size_t i, const char *s1, const char *s2);

/* Copies the last lines of node i's log (at most cap-1 bytes) into buf. */
void mh_log_tail(const mh_mesh *m, size_t i, char *buf, size_t cap);

/* True if node i's log contains s. */
bool mh_log_has(const mh_mesh *m, size_t i, const char *s);

#endif
