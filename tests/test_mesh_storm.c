/*
 * test_mesh_storm.c — gossip under restarts, with real myceld processes on loopback
 * (tests/mesh_harness.h; issue 5): a mass restart of 16 nodes (convergence, no storm of
 * requests or bytes), half of the mesh down for a while (calls to the down peers follow the
 * backoff; they are contacted again within its cap once back), `mycel peers remove` (the
 * node stops contacting the peer and does not relearn it), and how long a node takes to
 * stop on SIGTERM (16 at once; one with a gossip call to a frozen peer in flight). argv[1] is the
 * daemon, argv[2] the CLI.
 *
 * Every bound asserted here is derived from the gossip settings written in the nodes'
 * configuration (interval, fanout, rpc_timeout_ms, backoff_max_ms) and the engine's
 * documented rules (docs/myceld.md "Gossip"); counters are read from Status (per peer:
 * calls, bytes_out, last_seen_ms). Restarted nodes keep their addresses: a daemon's listen
 * address is in its configuration, and its peers' seed lists name it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mycel/client.h"
#include "mycel/error.h"
#include "mycel/rpc.h"

#include "mesh_harness.h"

static const char *myceld_path, *mycel_path;
static mh_mesh *M;
static bool failed;

/* How long a node may take from SIGTERM to its exit (× scale): the stop must not wait for
 * gossip calls in flight (they are aborted), only for requests being served. */
#define STOP_BOUND_MS 2000u
/* Calls of one anti-entropy exchange whose difference fits in one batch each way: Digest,
 * the narrowing Digest, one Pull, one Push (PROTOCOL.md §10). */
#define X_SYNC 4u

#define MH_OK(expr)                                                                                \
	do {                                                                                       \
		int rv_ = (expr);                                                                  \
		if (rv_ != 0) {                                                                    \
			failed = true;                                                             \
			fail_msg("%s: %s: %s", #expr, mycel_errname(rv_), M->err);                 \
		}                                                                                  \
	} while (0)

static int teardown(void **state)
{
	(void)state;
	mh_mesh_free(M, failed && getenv("MESH_KEEP_FAILED") != NULL);
	M = NULL;
	failed = false;
	mh_kill_all();
	return 0;
}

static void mesh(size_t n, unsigned interval_ms, unsigned fanout, unsigned rpc_timeout_ms,
                 unsigned backoff_max_ms)
{
	char why[2048];
	int rv = mh_mesh_new(myceld_path, n, interval_ms, &M, why, sizeof(why));
	if (rv != 0)
		fail_msg("mesh of %zu: %s", n, why);
	M->fanout = fanout;
	M->rpc_timeout_ms = rpc_timeout_ms;
	M->backoff_max_ms = backoff_max_ms;
	MH_OK(mh_configure(M, ""));
}

/* A stop of several nodes at once took at most the bound (the logs are kept otherwise). */
static void check_stop(uint64_t stop_ms)
{
	if (stop_ms > STOP_BOUND_MS * mh_scale()) {
		failed = true;
		fail_msg("a node took %llu ms to exit after SIGTERM (at most %u)",
		         (unsigned long long)stop_ms, STOP_BOUND_MS * mh_scale());
	}
}

static bool need_gossip(void)
{
	if (!M->gossip || !mh_serves(M, 0, "mycel.v1.Mesh/Digest")) {
		print_message("myceld does not gossip: scenario skipped\n");
		return false;
	}
	return true;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void nap_ms(unsigned ms)
{
	struct timespec d = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
	while (nanosleep(&d, &d) != 0 && errno == EINTR)
		;
}

/* Node i seeded with i-1 and one earlier node, so the group's graph is connected. */
static void start_group(size_t lo, size_t hi)
{
	for (size_t i = lo; i < hi; i++) {
		size_t seeds[2], k = 0;
		if (i > 0)
			seeds[k++] = i - 1;
		if (i > 1) {
			size_t r = (i * 7 + 3) % i;
			if (r != i - 1)
				seeds[k++] = r;
		}
		MH_OK(mh_start(M, i, seeds, k));
	}
}

static uint64_t entries_of(size_t i)
{
	mh_view v;
	MH_OK(mh_view_of(M, i, NULL, &v));
	return v.entries;
}

/* What node i's Status says of its gossip: totals over its peers, and one peer's row. */
typedef struct gview {
	uint64_t at_ms;            /* monotonic, when Status was read */
	uint64_t calls, bytes_out; /* summed over the peers listed */
	size_t n_peers;
	bool has_peer; /* the peer asked for is listed */
	uint64_t p_calls, p_last_seen, p_failures;
	char p_state[16], p_source[16];
} gview;

static gview gview_of(size_t i, const char *url)
{
	mycel_arena *a = NULL;
	mycel_msg_StatusReply r;
	gview g;
	memset(&g, 0, sizeof(g));
	assert_int_equal(mycel_arena_new(16u << 20, &a), 0);
	MH_OK(mh_status(M, i, a, &r));
	g.at_ms = mh_now_ms();
	g.n_peers = r.n_peer_list;
	for (size_t k = 0; k < r.n_peer_list; k++) {
		const mycel_msg_Peer *p = &r.peer_list[k];
		g.calls += p->calls;
		g.bytes_out += p->bytes_out;
		if (url != NULL && p->addr != NULL && strcmp(p->addr, url) == 0) {
			g.has_peer = true;
			g.p_calls = p->calls;
			g.p_last_seen = p->last_seen_ms;
			g.p_failures = p->failures;
			snprintf(g.p_state, sizeof(g.p_state), "%s", p->state ? p->state : "");
			snprintf(g.p_source, sizeof(g.p_source), "%s", p->source ? p->source : "");
		}
	}
	mycel_arena_free(a);
	return g;
}

/* Prints node i's peers table (for a failure's diagnosis). */
static void print_peers(size_t i)
{
	mycel_arena *a = NULL;
	mycel_msg_StatusReply r;
	if (mycel_arena_new(16u << 20, &a) != 0 || mh_status(M, i, a, &r) != 0) {
		mycel_arena_free(a);
		return;
	}
	for (size_t k = 0; k < r.n_peer_list; k++) {
		const mycel_msg_Peer *p = &r.peer_list[k];
		print_message("  %s peer %s: %s %s calls %llu bytes_out %llu entries_out %llu "
		              "failures %llu last_error \"%s\"\n",
		              M->nodes[i].name, p->addr ? p->addr : "?", p->state ? p->state : "?",
		              p->source ? p->source : "?", (unsigned long long)p->calls,
		              (unsigned long long)p->bytes_out, (unsigned long long)p->entries_out,
		              (unsigned long long)p->failures, p->last_error ? p->last_error : "");
	}
	mycel_arena_free(a);
}

/* Most rounds a node starts in ms: one per interval × 0.75 (the shortest jittered period),
 * and one at each end of the window. */
static uint64_t rounds_max(uint64_t ms)
{
	return ms * 4 / (3u * M->interval_ms) + 2;
}

/*
 * The bytes of the largest Digest request a node in sync sends: the envelope around a
 * DigestRequest carrying its frontier digest, mesh id, charter hash and version, its feed
 * count and its URL as `from`, plus nng's 12 bytes (4 of request id, 8 of tcp length).
 */
static uint64_t digest_bytes_max(size_t i, uint64_t feeds)
{
	static const uint8_t h[MYCEL_HASH_LEN];
	mycel_msg_DigestRequest rq;
	memset(&rq, 0, sizeof(rq));
	rq.digest = rq.mesh_id = rq.charter_hash = h;
	rq.digest_len = rq.mesh_id_len = rq.charter_hash_len = MYCEL_HASH_LEN;
	rq.has_charter_version = true;
	rq.charter_version = UINT32_MAX;
	rq.has_feeds = true;
	rq.feeds = feeds;
	rq.from = M->nodes[i].url;
	rq.from_len = strlen(rq.from);
	mycel_buf b, e;
	mycel_buf_init(&b, 1 << 16);
	mycel_buf_init(&e, 1 << 16);
	assert_int_equal(mycel_msg_DigestRequest_encode(&rq, &b), 0);
	mycel_rpc_request r;
	memset(&r, 0, sizeof(r));
	r.method = "mycel.v1.Mesh/Digest";
	r.method_len = strlen(r.method);
	r.deadline_ms = UINT64_MAX;
	r.body = b.data;
	r.body_len = b.len;
	assert_int_equal(mycel_rpc_request_encode(&r, &e), 0);
	uint64_t n = e.len + 12;
	mycel_buf_fini(&b);
	mycel_buf_fini(&e);
	return n;
}

/*
 * Whether node i (of a mesh of n feeds) was in sync between snapshots a and b: at most
 * fanout calls per round, each at most a Digest request. Else false, with why.
 */
static bool in_sync(const gview *a, const gview *b, size_t i, size_t n, char *why, size_t cap)
{
	uint64_t w = b->at_ms - a->at_ms;
	uint64_t calls = b->calls - a->calls, bytes = b->bytes_out - a->bytes_out;
	uint64_t max_calls = (uint64_t)M->fanout * rounds_max(w);
	uint64_t max_bytes = calls * digest_bytes_max(i, n);
	if (calls <= max_calls && bytes <= max_bytes)
		return true;
	snprintf(why, cap,
	         "node %s in sync for %llu ms: %llu calls (at most %llu), %llu bytes out "
	         "(at most %llu)",
	         M->nodes[i].name, (unsigned long long)w, (unsigned long long)calls,
	         (unsigned long long)max_calls, (unsigned long long)bytes,
	         (unsigned long long)max_bytes);
	return false;
}

/* The peers a push goes to in a mesh of `peers` peers (docs/myceld.md, `fanout`). */
static uint64_t push_fanout(size_t peers)
{
	uint64_t k = (uint64_t)ceil(log((double)peers + 1.0)) + 2;
	return k > M->fanout ? k : M->fanout;
}

/*
 * The most calls one node makes to one peer that never answers within a window of w ms
 * (docs/myceld.md): while suspect (failures 1 and 2) it may be retried every round, at
 * least 0.75 × interval apart; once dead (3 or more) the retry after failure f waits at
 * least 0.5 × min(interval × 2^f, backoff_max). One more for the window's edges.
 */
static uint64_t attempts_max(uint64_t w)
{
	uint64_t I = M->interval_ms, cap = M->backoff_max_ms, t = 0, n = 1;
	for (uint64_t f = 1;; f++) {
		uint64_t gap = f < 3 ? I * 3 / 4 : (f < 40 && (I << f) < cap ? I << f : cap) / 2;
		if (t + gap > w)
			break;
		t += gap;
		n++;
	}
	return n + 1;
}

static void all_nodes(size_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = i;
}

/*
 * Mass restart. Sixteen nodes converge; all are stopped at once (each exits within the
 * stop bound); all are restarted at once, every one with the same seed list (all sixteen),
 * and four publish as soon as they are up. Every node converges, and:
 *  - from the restart to convergence, a node makes at most fanout × rounds × X_SYNC exchange
 *    calls plus one push per new entry to each push target;
 *  - in a window after convergence, a node makes at most fanout Digest calls per round,
 *    each at most the size of a Digest request (the whole cost of a round in sync).
 */
static void test_mass_restart(void **state)
{
	(void)state;
	enum { N = 16 };
	mesh(N, 100, 3, 1000, 500);
	MH_OK(mh_start(M, 0, NULL, 0));
	if (!need_gossip())
		skip();
	start_group(1, N);
	size_t all[N];
	all_nodes(all, N);
	const size_t pubs[] = {1, 5, 9, 13};
	for (size_t j = 0; j < 4; j++) {
		uint64_t seq = 0;
		MH_OK(mh_publish(M, pubs[j], "before", "1.0.0", &seq));
		MH_OK(mh_wait_seq(M, NULL, 0, M->nodes[pubs[j]].feed, seq, 20000, NULL));
	}
	MH_OK(mh_wait_converged(M, NULL, 0, 0, 20000, NULL));
	uint64_t base = entries_of(0), ms = 0;

	uint64_t stop_ms = 0;
	MH_OK(mh_stop_all(M, all, N, &stop_ms));
	print_message("16 nodes stopped at once: the slowest exited %llu ms after SIGTERM\n",
	              (unsigned long long)stop_ms);
	check_stop(stop_ms);

	uint64_t t0 = mh_now_ms();
	MH_OK(mh_start_all(M, all, N, all, N));
	uint64_t t_up = mh_now_ms();
	for (size_t j = 0; j < 4; j++)
		MH_OK(mh_publish(M, pubs[j], "after", "1.0.0", NULL));
	MH_OK(mh_wait_converged(M, NULL, 0, base + 4, 20000, &ms));
	uint64_t t_conv = mh_now_ms();
	print_message("mass restart: 16 nodes up in %llu ms, converged (4 new entries) %llu ms "
	              "after the last was ready\n",
	              (unsigned long long)(t_up - t0), (unsigned long long)(t_conv - t_up));
	for (size_t i = 0; i < N; i++)
		assert_int_equal(entries_of(i), base + 4);

	/*
	 * Pushes of the new entries may still be on their way after every store holds them (a
	 * node that pulled an entry pushes it on; each push waits for the receiver's commit):
	 * wait (bounded) until a window of 5 intervals is in sync on every node, then check the
	 * whole time since the restart, and a window of 20 intervals.
	 */
	gview g1[N], g2[N];
	char why[512];
	uint64_t end = mh_now_ms() + 10000u * mh_scale();
	for (;;) {
		for (size_t i = 0; i < N; i++)
			g1[i] = gview_of(i, NULL);
		nap_ms(5 * M->interval_ms);
		for (size_t i = 0; i < N; i++)
			g2[i] = gview_of(i, NULL);
		bool ok = true;
		for (size_t i = 0; i < N && ok; i++)
			ok = in_sync(&g1[i], &g2[i], i, N, why, sizeof(why));
		if (ok)
			break;
		if (mh_now_ms() >= end)
			fail_msg("not quiet %llu ms after convergence: %s",
			         (unsigned long long)(mh_now_ms() - t_conv), why);
	}
	uint64_t t_quiet = mh_now_ms();
	uint64_t worst_calls = 0;
	for (size_t i = 0; i < N; i++) {
		/* the counters started with each process, after t0 */
		uint64_t bound = (uint64_t)M->fanout * rounds_max(g2[i].at_ms - t0) * X_SYNC +
		                 4 * push_fanout(g2[i].n_peers);
		if (g2[i].calls > bound)
			fail_msg(
			    "node %s made %llu calls in the %llu ms after the restart; at most "
			    "%llu expected",
			    M->nodes[i].name, (unsigned long long)g2[i].calls,
			    (unsigned long long)(g2[i].at_ms - t0), (unsigned long long)bound);
		worst_calls = g2[i].calls > worst_calls ? g2[i].calls : worst_calls;
	}
	print_message("restart: quiet %llu ms after convergence; at most %llu calls by one node "
	              "in the %llu ms since the restart (interval %u ms, fanout %u)\n",
	              (unsigned long long)(t_quiet - t_conv), (unsigned long long)worst_calls,
	              (unsigned long long)(t_quiet - t0), M->interval_ms, M->fanout);

	/* In sync: a window of 20 intervals. */
	for (size_t i = 0; i < N; i++)
		g1[i] = gview_of(i, NULL);
	nap_ms(20 * M->interval_ms);
	for (size_t i = 0; i < N; i++)
		g2[i] = gview_of(i, NULL);
	MH_OK(mh_wait_converged(M, NULL, 0, base + 4, 1, NULL)); /* still equal */
	uint64_t sum_calls = 0, sum_bytes = 0, sum_rounds = 0;
	for (size_t i = 0; i < N; i++) {
		if (!in_sync(&g1[i], &g2[i], i, N, why, sizeof(why))) {
			print_peers(i);
			fail_msg("%s", why);
		}
		assert_true(g2[i].calls > g1[i].calls); /* the rounds go on */
		sum_calls += g2[i].calls - g1[i].calls;
		sum_bytes += g2[i].bytes_out - g1[i].bytes_out;
		sum_rounds += (g2[i].at_ms - g1[i].at_ms) / M->interval_ms;
	}
	print_message("in sync after the restart: %.2f calls per node per interval (fanout %u), "
	              "%.0f bytes per call\n",
	              (double)sum_calls / (double)sum_rounds, M->fanout,
	              (double)sum_bytes / (double)sum_calls);
	MH_OK(mh_stop_all(M, all, N, &stop_ms));
	check_stop(stop_ms);
}

/*
 * Half down. Sixteen nodes converge and stop; nodes 0-7 restart (seeded with all sixteen)
 * while 8-15 stay down for 32 intervals: each of 0-7 makes at most attempts_max(window)
 * calls to each down peer. Then 8-15 restart: every node of 0-7 contacts each of them again
 * (a successful call) within the longest backoff (1.5 × backoff_max) plus a round and a call.
 */
static void test_half_down(void **state)
{
	(void)state;
	enum { N = 16, H = 8 };
	mesh(N, 100, 8, 100, 1600);
	MH_OK(mh_start(M, 0, NULL, 0));
	if (!need_gossip())
		skip();
	start_group(1, N);
	size_t all[N], lo[H], hi[H];
	all_nodes(all, N);
	for (size_t j = 0; j < H; j++) {
		lo[j] = j;
		hi[j] = H + j;
	}
	uint64_t base = entries_of(0), stop_ms = 0;
	MH_OK(mh_wait_converged(M, NULL, 0, base, 20000, NULL));
	MH_OK(mh_stop_all(M, all, N, &stop_ms));
	check_stop(stop_ms);

	uint64_t t0 = mh_now_ms();
	MH_OK(mh_start_all(M, lo, H, all, N));
	uint64_t window = 32u * M->interval_ms;
	MH_OK(mh_wait_converged(M, lo, H, base, 10000, NULL));
	uint64_t now = mh_now_ms();
	if (now < t0 + window)
		nap_ms((unsigned)(t0 + window - now));
	uint64_t worst = 0, fewest = UINT64_MAX, bound = 0, over = 0;
	for (size_t i = 0; i < H; i++)
		for (size_t j = 0; j < H; j++) {
			gview g = gview_of(i, M->nodes[hi[j]].url);
			if (!g.has_peer)
				fail_msg("node %s does not list its seed %s", M->nodes[i].name,
				         M->nodes[hi[j]].url);
			uint64_t b = attempts_max(g.at_ms - t0);
			if (g.p_calls > b)
				over++;
			bound = b > bound ? b : bound;
			worst = g.p_calls > worst ? g.p_calls : worst;
			fewest = g.p_calls < fewest ? g.p_calls : fewest;
		}
	if (over > 0)
		fail_msg("%llu of %u (node, down peer) pairs over the backoff's bound: up to %llu "
		         "calls in %llu ms, at most %llu (interval %u ms, backoff_max %u ms)",
		         (unsigned long long)over, H * H, (unsigned long long)worst,
		         (unsigned long long)window, (unsigned long long)bound, M->interval_ms,
		         M->backoff_max_ms);
	print_message("half down for %llu ms: %llu-%llu calls per down peer (bound %llu; "
	              "log2(window / interval) = %.1f)\n",
	              (unsigned long long)window, (unsigned long long)fewest,
	              (unsigned long long)worst, (unsigned long long)bound,
	              log2((double)window / M->interval_ms));
	assert_true(fewest >= 1); /* down peers are tried, not forgotten */

	/* Back: each is contacted again within the longest backoff, a round and a call. */
	uint64_t t_back = wall_ms(), m_back = mh_now_ms();
	MH_OK(mh_start_all(M, hi, H, all, N));
	/*
	 * From the last ready line: a failing call in flight then (rpc_timeout_ms), the longest
	 * pending backoff (1.5 × backoff_max), the rounds until its turn among the due retries
	 * (at most fanout / 2 per round, each round at most 1.25 × interval), the call itself,
	 * and the 50 ms polling twice.
	 */
	uint64_t ready = mh_now_ms() - m_back;
	uint64_t per_round = M->fanout / 2 > 0 ? M->fanout / 2 : 1;
	uint64_t limit = ready + M->rpc_timeout_ms + M->backoff_max_ms * 3 / 2 +
	                 (H + per_round - 1) / per_round * M->interval_ms * 5 / 4 +
	                 M->rpc_timeout_ms + 100;
	uint64_t slowest = 0;
	bool seen[H][H];
	memset(seen, 0, sizeof(seen));
	for (size_t left = H * H; left > 0;) {
		left = 0;
		for (size_t i = 0; i < H; i++)
			for (size_t j = 0; j < H; j++) {
				if (seen[i][j])
					continue;
				gview g = gview_of(i, M->nodes[hi[j]].url);
				if (g.has_peer && g.p_last_seen >= t_back) {
					seen[i][j] = true;
					uint64_t took = g.at_ms - m_back;
					slowest = took > slowest ? took : slowest;
				} else {
					left++;
				}
			}
		if (left > 0 && mh_now_ms() - m_back > limit * mh_scale())
			fail_msg("%zu (node, returned peer) pairs without a successful call %llu "
			         "ms after the restart (limit %llu ms)",
			         left, (unsigned long long)(mh_now_ms() - m_back),
			         (unsigned long long)(limit * mh_scale()));
		if (left > 0)
			nap_ms(50);
	}
	print_message("the 8 returned nodes were contacted by all 8 others within %llu ms "
	              "(limit %llu: ready %llu + 1.5 x backoff_max + rounds + calls)\n",
	              (unsigned long long)slowest, (unsigned long long)limit,
	              (unsigned long long)ready);
	MH_OK(mh_publish(M, 12, "back", "1.0.0", NULL));
	MH_OK(mh_wait_converged(M, NULL, 0, base + 1, 20000, NULL));
	MH_OK(mh_stop_all(M, all, N, &stop_ms));
	print_message("16 nodes stopped at once: the slowest exited %llu ms after SIGTERM\n",
	              (unsigned long long)stop_ms);
	check_stop(stop_ms);
}

/* Runs `mycel profile --data DIR --node URL` (the domain's signed profile names url). */
static void profile_names(size_t i, const char *url)
{
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, 1);
		execl(mycel_path, mycel_path, "profile", "--data", M->nodes[i].dir, "--node", url,
		      (char *)NULL);
		_exit(127);
	}
	int st = 0;
	uint64_t end = mh_now_ms() + 10000u * mh_scale();
	for (;;) {
		pid_t r = waitpid(p, &st, WNOHANG);
		if (r == p)
			break;
		if (r < 0 || mh_now_ms() >= end) {
			kill(p, SIGKILL);
			(void)waitpid(p, NULL, 0);
			fail_msg("mycel profile did not finish");
		}
		nap_ms(10);
	}
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/*
 * mycel peers remove. Three nodes; node 0 removes node 1: Status no longer lists it and node
 * 0 stops calling it (its counter, kept with the removed row, has not grown when the peer is
 * added back), though node 1 still calls node 0 (serving is not contacting). A signed domain
 * profile naming node 1's address reaches node 0 and does not bring it back, nor do node 1's
 * calls after a restart (they announce its URL): a removed address stays removed until it
 * is added again — which works, and survives node 0's restart.
 */
static void test_peers_remove(void **state)
{
	(void)state;
	mesh(3, 100, 3, 1000, 500);
	MH_OK(mh_start(M, 0, NULL, 0));
	if (!need_gossip())
		skip();
	size_t s0[] = {0}, s01[] = {0, 1};
	MH_OK(mh_start(M, 1, s0, 1));
	MH_OK(mh_start(M, 2, s01, 2)); /* node 0 learns nodes 1 and 2 from their calls */
	const char *u1 = M->nodes[1].url;
	uint64_t base = entries_of(0);
	MH_OK(mh_wait_converged(M, NULL, 0, base, 10000, NULL));
	/* node 0 calls node 1 (learnt: node 1 is seeded with node 0) */
	uint64_t end = mh_now_ms() + 10000u * mh_scale();
	gview g = gview_of(0, u1);
	while (!(g.has_peer && g.p_calls >= 3 && g.p_last_seen > 0)) {
		if (mh_now_ms() >= end)
			fail_msg("node 0 does not call node 1 (listed %d, %llu calls)", g.has_peer,
			         (unsigned long long)g.p_calls);
		nap_ms(50);
		g = gview_of(0, u1);
	}
	uint64_t calls_before = g.p_calls, t_snap = g.at_ms;
	MH_OK(mh_peer(M, 0, u1, false));
	uint64_t t_removed = mh_now_ms();
	g = gview_of(0, u1);
	assert_false(g.has_peer);
	/* Node 1's signed profile (written while it is stopped) names its address; node 1
	 * brings it to node 0 by push-pull, node 2 by its rounds. */
	MH_OK(mh_stop(M, 1));
	profile_names(1, u1);
	MH_OK(mh_start(M, 1, s0, 1)); /* calls node 0 at once, announcing its URL */
	mh_view v1;
	MH_OK(mh_view_of(M, 1, M->nodes[1].feed, &v1));
	MH_OK(mh_wait_seq(M, NULL, 0, M->nodes[1].feed, v1.seq, 10000, NULL));
	nap_ms(20 * M->interval_ms); /* 20 more rounds for node 1 to call and node 0 to learn */
	g = gview_of(0, u1);
	if (g.has_peer)
		fail_msg("node 0 relearnt removed peer %s (source %s)", u1, g.p_source);
	/* Added again: listed, contacted, as an admin peer. */
	uint64_t t_add = wall_ms();
	MH_OK(mh_peer(M, 0, u1, true));
	g = gview_of(0, u1);
	assert_true(g.has_peer);
	assert_string_equal(g.p_source, "admin");
	/*
	 * Calls made while removed: at most the exchange in flight at the removal (X_SYNC
	 * calls) and a push, those of the rounds between the snapshot and the removal, and one
	 * round between the add and this Status.
	 */
	uint64_t grew = g.p_calls - calls_before, removed_ms = g.at_ms - t_removed;
	uint64_t max_grew = X_SYNC + 1 + rounds_max(t_removed - t_snap) + 1;
	if (grew > max_grew)
		fail_msg("node 0 called removed peer %s %llu times in %llu ms (at most %llu)", u1,
		         (unsigned long long)grew, (unsigned long long)removed_ms,
		         (unsigned long long)max_grew);
	end = mh_now_ms() + 10000u * mh_scale();
	while (!(g.p_last_seen >= t_add)) {
		if (mh_now_ms() >= end)
			fail_msg("node 0 does not call node 1 again after the add");
		nap_ms(50);
		g = gview_of(0, u1);
	}
	print_message("peers remove: %llu calls to the removed peer in the %llu ms it was "
	              "removed (at most %llu); contacted again after the add\n",
	              (unsigned long long)grew, (unsigned long long)removed_ms,
	              (unsigned long long)max_grew);
	MH_OK(mh_publish(M, 1, "after-add", "1.0.0", NULL));
	MH_OK(mh_wait_converged(M, NULL, 0, base + 2, 10000, NULL));
	/* Node 0 restarts: the admin peer is kept; node 2, removed, stays removed. */
	g = gview_of(0, M->nodes[2].url);
	assert_true(g.has_peer);
	assert_string_equal(g.p_source, "inbound");
	MH_OK(mh_peer(M, 0, M->nodes[2].url, false));
	MH_OK(mh_stop(M, 0));
	MH_OK(mh_start(M, 0, NULL, 0));
	nap_ms(10 * M->interval_ms);
	g = gview_of(0, u1);
	assert_true(g.has_peer);
	assert_string_equal(g.p_source, "admin");
	g = gview_of(0, M->nodes[2].url);
	assert_false(g.has_peer);
	for (size_t i = 0; i < 3; i++)
		MH_OK(mh_stop(M, i));
}

/*
 * A stop does not wait for gossip calls in flight. Three nodes with rpc_timeout_ms 30000;
 * node 2 is frozen (SIGSTOP: it takes connections and requests and never answers), so after
 * a round node 0 and node 1 each have an exchange with it in flight for 30 s. Each still
 * exits within the stop bound after SIGTERM, cleanly.
 */
static void test_stop_in_flight(void **state)
{
	(void)state;
	mesh(3, 100, 3, 30000, 500);
	MH_OK(mh_start(M, 0, NULL, 0));
	if (!need_gossip())
		skip();
	size_t s0[] = {0}, s01[] = {0, 1};
	MH_OK(mh_start(M, 1, s0, 1));
	MH_OK(mh_start(M, 2, s01, 2));
	MH_OK(mh_wait_converged(M, NULL, 0, entries_of(0), 10000, NULL));
	/* both call node 2 (a successful call each) before it freezes */
	uint64_t end = mh_now_ms() + 10000u * mh_scale();
	for (size_t i = 0; i < 2; i++) {
		gview g = gview_of(i, M->nodes[2].url);
		while (!(g.has_peer && g.p_last_seen > 0)) {
			if (mh_now_ms() >= end)
				fail_msg("node %s does not call node 2", M->nodes[i].name);
			nap_ms(50);
			g = gview_of(i, M->nodes[2].url);
		}
	}
	uint64_t calls[2];
	MH_OK(mh_freeze(M, 2, true));
	for (size_t i = 0; i < 2; i++)
		calls[i] = gview_of(i, M->nodes[2].url).p_calls;
	/* every round picks every idle peer (2 peers, fanout 3): after 3 periods, at most
	 * 3 × 1.25 intervals, a call to node 2 is in flight and none has returned since */
	nap_ms(3 * M->interval_ms * 5 / 4);
	for (size_t i = 0; i < 2; i++) {
		gview g = gview_of(i, M->nodes[2].url);
		assert_true(g.p_calls <=
		            calls[i] + 1); /* one may have been under way at the freeze */
		uint64_t t0 = mh_now_ms();
		MH_OK(mh_stop(M, i));
		uint64_t took = mh_now_ms() - t0;
		print_message("node %s stopped %llu ms after SIGTERM with a call to a frozen peer "
		              "in flight (rpc_timeout_ms %u)\n",
		              M->nodes[i].name, (unsigned long long)took, M->rpc_timeout_ms);
		check_stop(took);
	}
	MH_OK(mh_stop(M, 2));
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s MYCELD MYCEL\n", argv[0]);
		return 2;
	}
	myceld_path = argv[1];
	mycel_path = argv[2];
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_mass_restart, teardown),
	    cmocka_unit_test_teardown(test_half_down, teardown),
	    cmocka_unit_test_teardown(test_peers_remove, teardown),
	    cmocka_unit_test_teardown(test_stop_in_flight, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
