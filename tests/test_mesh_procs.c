/*
 * test_mesh_procs.c — meshes of real myceld processes on loopback (tests/mesh_harness.h):
 * the harness itself, then the gossip scenarios of issue 5 (3 nodes, 16 nodes, partition and
 * heal, restart and late joiner). argv[1] is the daemon.
 *
 * Every wait is on a condition polled over tcp (Status) with a deadline that only bounds it;
 * the time each scenario took to converge is printed, never asserted beyond the deadline.
 * The gossip scenarios are skipped (and say so) while the daemon refuses a `gossip:`
 * configuration section, i.e. before the engine exists.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mycel/client.h"
#include "mycel/error.h"
#include "mycel/rpc.h"
#include "mycel/store.h"

#include "mesh_harness.h"

static const char *myceld_path;
static mh_mesh *M;       /* the running test's mesh, ended by the teardown whatever happens */
static mh_mesh *M2;      /* a second mesh, for test_other_mesh */
static uint64_t t_start; /* when the running test began (mh_now_ms) */
static bool failed;      /* an MH_OK failed in the running test */

/* Fails the test with the harness's message when rv is not 0. */
#define MH_OK(expr)                                                                                \
	do {                                                                                       \
		int rv_ = (expr);                                                                  \
		if (rv_ != 0) {                                                                    \
			failed = true;                                                             \
			fail_msg("%s: %s: %s", #expr, mycel_errname(rv_), M->err);                 \
		}                                                                                  \
	} while (0)

static void mesh(size_t n, unsigned interval_ms)
{
	char why[2048];
	int rv = mh_mesh_new(myceld_path, n, interval_ms, &M, why, sizeof(why));
	if (rv != 0)
		fail_msg("mesh of %zu: %s", n, why);
}

static int teardown(void **state)
{
	(void)state;
	/* The files of a mesh are kept when asked: $MESH_KEEP always, $MESH_KEEP_FAILED after
	 * a harness failure (for the nodes' logs). */
	bool keep = failed && getenv("MESH_KEEP_FAILED") != NULL;
	mh_mesh_free(M, keep);
	mh_mesh_free(M2, keep);
	failed = false;
	M = M2 = NULL;
	mh_kill_all();
	print_message("(scenario with setup and teardown: %llu ms)\n",
	              (unsigned long long)(mh_now_ms() - t_start));
	return 0;
}

static int setup(void **state)
{
	(void)state;
	t_start = mh_now_ms();
	return 0;
}

/* The daemon gossips: it takes a gossip: section and node 0 (running) serves Digest and Push. */
static bool need_gossip(void)
{
	if (!M->gossip) {
		print_message("myceld takes no gossip: section yet: scenario skipped\n");
		return false;
	}
	if (!mh_serves(M, 0, "mycel.v1.Mesh/Digest") || !mh_serves(M, 0, "mycel.v1.Mesh/Push")) {
		print_message("myceld does not serve Mesh/Digest and Mesh/Push yet: scenario "
		              "skipped\n");
		return false;
	}
	return true;
}

/* The view of node i, failing the test if Status cannot be read. */
static mh_view view(size_t i, const uint8_t *feed)
{
	mh_view v;
	MH_OK(mh_view_of(M, i, feed, &v));
	return v;
}

/* Get domain/id on node i over tcp, every entry verified against the pinned charter. */
static void get_verified(size_t i, size_t dom, const char *id, const char *version)
{
	mycel_client *c = NULL;
	mycel_arena *a = NULL;
	mycel_result res;
	mycel_msg_GetRequest g;
	mycel_msg_GetReply r;
	assert_int_equal(mycel_client_open(M->nodes[i].url, &c), 0);
	mycel_client_set_timeout(c, 5000u * mh_scale());
	assert_int_equal(mycel_arena_new(8u << 20, &a), 0);
	int rv = mycel_client_fetch_charter(c, M->mesh_id, &res);
	if (rv != 0 || res.status != MYCEL_RPC_OK)
		fail_msg("node %s: charter: %s %s", M->nodes[i].name, mycel_errname(rv),
		         res.message);
	memset(&g, 0, sizeof(g));
	g.domain = M->nodes[dom].name;
	g.domain_len = strlen(g.domain);
	g.id = id;
	g.id_len = strlen(id);
	rv = mycel_client_get(c, &g, a, &res, &r);
	if (rv != 0 || res.status != MYCEL_RPC_OK)
		fail_msg("node %s: Get %s/%s: %s %s %s", M->nodes[i].name, g.domain, id,
		         mycel_errname(rv), mycel_rpc_status_name(res.status), res.message);
	assert_true(r.n_entries >= 1);
	assert_true(r.shown < r.n_versions);
	assert_string_equal(r.versions[r.shown].version, version);
	mycel_arena_free(a);
	mycel_client_close(c);
}

/* ---- the harness itself, against today's daemon --------------------------------------- */

static void test_harness(void **state)
{
	(void)state;
	mesh(3, 150);
	size_t s0[] = {0}, s01[] = {0, 1};
	MH_OK(mh_start(M, 0, NULL, 0));
	MH_OK(mh_start(M, 1, s0, 1));
	MH_OK(mh_start(M, 2, s01, 2));
	for (size_t i = 0; i < 3; i++) {
		mycel_arena *a = NULL;
		mycel_msg_StatusReply r;
		assert_int_equal(mycel_arena_new(1u << 20, &a), 0);
		MH_OK(mh_status(M, i, a, &r));
		/* Every node serves the mesh's one charter. */
		assert_int_equal(r.mesh_id_len, MYCEL_HASH_LEN);
		assert_memory_equal(r.mesh_id, M->mesh_id, MYCEL_HASH_LEN);
		assert_int_equal(r.charter_version, 1);
		assert_true(r.peers >= i); /* its seeds, and peers learned since */
		mycel_arena_free(a);
	}
	uint64_t seq = 0, seq2 = 0;
	MH_OK(mh_publish(M, 1, "orders", "1.0.0", &seq));
	MH_OK(mh_publish(M, 1, "orders", "1.1.0", &seq2));
	assert_int_equal(seq2, seq + 1);
	size_t one[] = {1};
	MH_OK(mh_wait_seq(M, one, 1, M->nodes[1].feed, seq2, 2000, NULL));
	assert_int_equal(view(1, M->nodes[1].feed).seq, seq2);
	get_verified(1, 1, "orders", "1.1.0");
	/* A wait whose condition never holds ends at its deadline with the reason. */
	uint64_t t0 = mh_now_ms();
	assert_int_equal(mh_wait_seq(M, one, 1, M->nodes[1].feed, seq2 + 5, 300, NULL),
	                 MYCEL_EBUSY);
	assert_true(mh_now_ms() - t0 >= 300u * mh_scale());
	assert_non_null(strstr(M->err, "does not hold seq"));
	/* A clean stop exits 0; a restart keeps the address and what was published. */
	char url[MH_URL_MAX];
	snprintf(url, sizeof(url), "%s", M->nodes[1].url);
	MH_OK(mh_stop(M, 1));
	assert_int_equal(M->nodes[1].pid, 0);
	MH_OK(mh_start(M, 1, s0, 1));
	assert_string_equal(M->nodes[1].url, url);
	assert_int_equal(view(1, M->nodes[1].feed).seq, seq2);
	/* A frozen node is thawed by mh_stop and still exits cleanly. */
	MH_OK(mh_freeze(M, 2, true));
	MH_OK(mh_stop(M, 2));
	/* A crashed node restarts with everything acknowledged. */
	mh_kill(M, 1);
	MH_OK(mh_start(M, 1, s0, 1));
	assert_int_equal(view(1, M->nodes[1].feed).seq, seq2);
	for (size_t i = 0; i < 3; i++)
		MH_OK(mh_stop(M, i));
}

/* ---- gossip scenarios ------------------------------------------------------------------ */

/*
 * Starts nodes lo..hi-1 of a group whose first node is first (first <= lo): node i is
 * seeded with i-1 and one earlier node of the group, so the group's graph is connected.
 */
static void start_group(size_t first, size_t lo, size_t hi)
{
	for (size_t i = lo; i < hi; i++) {
		size_t seeds[2], k = 0;
		if (i > first)
			seeds[k++] = i - 1;
		if (i > first + 1) {
			size_t r = first + (i * 7 + 3) % (i - first);
			if (r != i - 1)
				seeds[k++] = r;
		}
		MH_OK(mh_start(M, i, seeds, k));
	}
}

static void start_chain(size_t lo, size_t hi)
{
	start_group(lo, lo, hi);
}

static uint64_t entries_of(size_t i)
{
	return view(i, NULL).entries;
}

/* A publish on one of three nodes appears, verified, on the other two. */
static void test_three(void **state)
{
	(void)state;
	mesh(3, 150);
	start_chain(0, 3);
	if (!need_gossip())
		skip();
	uint64_t seq = 0, ms = 0;
	MH_OK(mh_publish(M, 2, "shipments", "1.0.0", &seq));
	MH_OK(mh_wait_seq(M, NULL, 0, M->nodes[2].feed, seq, 10000, &ms));
	print_message("3 nodes: a publish reached every node in %llu ms\n", (unsigned long long)ms);
	for (size_t i = 0; i < 3; i++)
		get_verified(i, 2, "shipments", "1.0.0");
	MH_OK(mh_wait_converged(M, NULL, 0, entries_of(2), 10000, NULL));
	for (size_t i = 0; i < 3; i++)
		MH_OK(mh_stop(M, i));
}

typedef struct pub_job {
	size_t node;
	int rv;
	char err[512];
} pub_job;

static void *publisher(void *arg)
{
	pub_job *j = arg;
	for (unsigned k = 0; k < 3 && j->rv == 0; k++) {
		char id[32];
		snprintf(id, sizeof(id), "set-%u", k);
		j->rv = mh_publish(M, j->node, id, "1.0.0", NULL);
	}
	return NULL;
}

/* Sixteen nodes converge after publishes on several nodes at the same time. */
static void test_sixteen(void **state)
{
	(void)state;
	mesh(16, 150);
	start_chain(0, 1);
	if (!need_gossip())
		skip();
	start_group(0, 1, 16);
	uint64_t base = entries_of(0), ms = 0;
	MH_OK(mh_wait_converged(M, NULL, 0, base, 20000, NULL));
	/* Five nodes publish three contracts each, concurrently. */
	pub_job jobs[5];
	pthread_t th[5];
	const size_t at[5] = {0, 3, 7, 11, 15};
	uint64_t t0 = mh_now_ms();
	for (size_t j = 0; j < 5; j++) {
		jobs[j] = (pub_job){.node = at[j]};
		assert_int_equal(pthread_create(&th[j], NULL, publisher, &jobs[j]), 0);
	}
	for (size_t j = 0; j < 5; j++)
		pthread_join(th[j], NULL);
	for (size_t j = 0; j < 5; j++)
		if (jobs[j].rv != 0)
			fail_msg("publish on node %zu: %s", at[j], mycel_errname(jobs[j].rv));
	MH_OK(mh_wait_converged(M, NULL, 0, base + 15, 30000, &ms));
	print_message("16 nodes: 15 publishes on 5 nodes converged everywhere %llu ms after the "
	              "first (%llu ms of waiting)\n",
	              (unsigned long long)(mh_now_ms() - t0), (unsigned long long)ms);
	for (size_t i = 0; i < 16; i++) {
		for (size_t j = 0; j < 5; j++)
			assert_true(view(i, M->nodes[at[j]].feed).seq >= 3);
		assert_int_equal(entries_of(i), base + 15);
	}
	get_verified(8, 15, "set-2", "1.0.0");
	for (size_t i = 0; i < 16; i++)
		MH_OK(mh_stop(M, i));
}

/*
 * Sixteen nodes with eager push off: anti-entropy rounds alone bring every node the
 * publishes of several nodes.
 */
static void test_sixteen_rounds(void **state)
{
	(void)state;
	mesh(16, 150);
	MH_OK(mh_configure(M, "  push: false\n"));
	start_chain(0, 1);
	if (!need_gossip())
		skip();
	start_group(0, 1, 16);
	uint64_t base = entries_of(0), ms = 0;
	MH_OK(mh_wait_converged(M, NULL, 0, base, 20000, NULL));
	const size_t at[] = {2, 9, 14};
	uint64_t t0 = mh_now_ms();
	for (size_t j = 0; j < 3; j++)
		MH_OK(mh_publish(M, at[j], "rounds", "1.0.0", NULL));
	MH_OK(mh_wait_converged(M, NULL, 0, base + 3, 30000, &ms));
	print_message("16 nodes, push off: 3 publishes converged everywhere in %llu ms "
	              "(interval 150 ms)\n",
	              (unsigned long long)(mh_now_ms() - t0));
	for (size_t i = 0; i < 16; i++)
		assert_int_equal(entries_of(i), base + 3);
	for (size_t i = 0; i < 16; i++)
		MH_OK(mh_stop(M, i));
}

/*
 * Partition and heal. Side B (nodes 3-5) is stopped and restarted on fresh addresses, seeded
 * only among themselves: A (0-2) keeps dialing B's old addresses, which refuse connections,
 * and B knows none of A's (seed peers come from the command line; inbound peers are not
 * kept across restarts). Both halves run and publish; the test checks that neither sees the
 * other's new entries, then heals with one Admin/PeersAdd and waits for everything.
 *
 * Why not SIGSTOP: requests already queued in a frozen node's sockets are served when it
 * resumes, so a frozen half would still receive the other's data at thaw time (the partition
 * could not be checked), and a frozen half cannot publish.
 */
static void test_partition(void **state)
{
	(void)state;
	mesh(6, 150);
	start_chain(0, 6);
	if (!need_gossip())
		skip();
	uint64_t base = entries_of(0), ms = 0;
	MH_OK(mh_wait_converged(M, NULL, 0, base, 15000, NULL));
	char old[6][MH_URL_MAX];
	for (size_t i = 3; i < 6; i++) {
		snprintf(old[i], sizeof(old[i]), "%s", M->nodes[i].url);
		MH_OK(mh_stop(M, i));
	}
	for (size_t i = 3; i < 6; i++)
		M->nodes[i].url[0] = '\0'; /* a fresh address */
	start_chain(3, 6);
	for (size_t i = 3; i < 6; i++)
		for (size_t j = 3; j < 6; j++)
			if (strcmp(M->nodes[i].url, old[j]) == 0)
				fail_msg("port reuse: %s got %s, an old address of side B",
				         M->nodes[i].name, M->nodes[i].url);
	const size_t A[] = {0, 1, 2}, B[] = {3, 4, 5};
	MH_OK(mh_publish(M, 0, "left", "1.0.0", NULL));
	MH_OK(mh_publish(M, 1, "left", "1.0.0", NULL));
	MH_OK(mh_publish(M, 4, "right", "1.0.0", NULL));
	MH_OK(mh_publish(M, 5, "right", "1.0.0", NULL));
	MH_OK(mh_publish(M, 5, "right", "2.0.0", NULL));
	MH_OK(mh_wait_converged(M, A, 3, base + 2, 15000, NULL));
	MH_OK(mh_wait_converged(M, B, 3, base + 3, 15000, NULL));
	/* The partition held: each side has only its own new entries. */
	assert_int_equal(entries_of(0), base + 2);
	assert_int_equal(entries_of(3), base + 3);
	assert_int_equal(view(3, M->nodes[0].feed).seq, 0);
	assert_int_equal(view(0, M->nodes[5].feed).seq, 0);
	/* Heal: one link. */
	uint64_t t0 = mh_now_ms();
	MH_OK(mh_peer(M, 4, M->nodes[1].url, true));
	MH_OK(mh_wait_converged(M, NULL, 0, base + 5, 20000, &ms));
	print_message("partition healed: 6 nodes converged %llu ms after one link was added\n",
	              (unsigned long long)(mh_now_ms() - t0));
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(entries_of(i), base + 5);
		assert_int_equal(view(i, M->nodes[5].feed).seq, 2);
		assert_true(view(i, M->nodes[0].feed).seq >= 1);
		assert_true(view(i, M->nodes[1].feed).seq >= 1);
		assert_true(view(i, M->nodes[4].feed).seq >= 1);
	}
	get_verified(0, 5, "right", "2.0.0");
	get_verified(5, 0, "left", "1.0.0");
	for (size_t i = 0; i < 6; i++)
		MH_OK(mh_stop(M, i));
}

/*
 * Restart and late joiner: node 2 is stopped cleanly and node 3 crashes (SIGKILL) while the
 * others publish; both restart on their addresses, and node 4, never started before, joins
 * with one seed: all catch up completely.
 */
static void test_restart_late(void **state)
{
	(void)state;
	mesh(5, 150);
	start_chain(0, 4);
	if (!need_gossip())
		skip();
	MH_OK(mh_publish(M, 2, "early", "1.0.0", NULL));
	uint64_t base = entries_of(2), ms = 0;
	const size_t live[] = {0, 1, 2, 3};
	MH_OK(mh_wait_converged(M, live, 4, base, 15000, NULL));
	MH_OK(mh_stop(M, 2));
	mh_kill(M, 3);
	for (unsigned k = 0; k < 4; k++) {
		char id[32];
		snprintf(id, sizeof(id), "while-down-%u", k);
		MH_OK(mh_publish(M, k % 2, id, "1.0.0", NULL));
	}
	const size_t up[] = {0, 1};
	MH_OK(mh_wait_converged(M, up, 2, base + 4, 15000, NULL));
	uint64_t t0 = mh_now_ms();
	size_t s0[] = {0}, s1[] = {1};
	MH_OK(mh_start(M, 2, s0, 1));
	MH_OK(mh_start(M, 3, s1, 1));
	MH_OK(mh_start(M, 4, s0, 1)); /* the late joiner: an empty store */
	MH_OK(mh_wait_converged(M, NULL, 0, base + 4, 20000, &ms));
	print_message("restart + late joiner: 5 nodes converged %llu ms after the restarts\n",
	              (unsigned long long)(mh_now_ms() - t0));
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(entries_of(i), base + 4);
		assert_int_equal(view(i, M->nodes[0].feed).seq, 2);
		assert_int_equal(view(i, M->nodes[1].feed).seq, 2);
	}
	get_verified(4, 2, "early", "1.0.0");
	get_verified(3, 1, "while-down-3", "1.0.0");
	for (size_t i = 0; i < 5; i++)
		MH_OK(mh_stop(M, i));
}

/* The failures node i counts for peer url (Status peer_list); false if it has no such peer. */
static bool peer_failures(mh_mesh *m, size_t i, const char *url, uint64_t *out)
{
	mycel_arena *a = NULL;
	mycel_msg_StatusReply r;
	bool found = false;
	assert_int_equal(mycel_arena_new(8u << 20, &a), 0);
	if (mh_status(m, i, a, &r) != 0)
		fail_msg("%s", m->err);
	for (size_t k = 0; k < r.n_peer_list; k++)
		if (r.peer_list[k].addr != NULL && strcmp(r.peer_list[k].addr, url) == 0) {
			*out = r.peer_list[k].failures;
			found = true;
		}
	mycel_arena_free(a);
	return found;
}

/*
 * The state node i gives peer url in its Status peer_list, followed by its failures and
 * last error ("" if it has no such peer).
 */
static void peer_state(size_t i, const char *url, char *out, size_t cap)
{
	mycel_arena *a = NULL;
	mycel_msg_StatusReply r;
	out[0] = '\0';
	assert_int_equal(mycel_arena_new(8u << 20, &a), 0);
	MH_OK(mh_status(M, i, a, &r));
	for (size_t k = 0; k < r.n_peer_list; k++)
		if (r.peer_list[k].addr != NULL && strcmp(r.peer_list[k].addr, url) == 0)
			snprintf(out, cap, "%s (%s, failures %llu, last error \"%s\")",
			         r.peer_list[k].state ? r.peer_list[k].state : "?",
			         r.peer_list[k].last_seen_ms > 0 ? "contacted" : "never contacted",
			         (unsigned long long)r.peer_list[k].failures,
			         r.peer_list[k].last_error ? r.peer_list[k].last_error : "");
	mycel_arena_free(a);
}

/*
 * Waits (bounded) until node i gives peer url the state want ("alive (contacted": alive after
 * a successful exchange, not merely added).
 */
static void wait_peer_state(size_t i, const char *url, const char *want, unsigned ms)
{
	char st[512];
	uint64_t end = mh_now_ms() + (uint64_t)ms * mh_scale();
	for (;;) {
		peer_state(i, url, st, sizeof(st));
		if (strncmp(st, want, strlen(want)) == 0 &&
		    (st[strlen(want)] == ' ' || strchr(want, ' ') != NULL))
			return;
		if (mh_now_ms() >= end)
			fail_msg("node %s: peer %s is \"%s\", not \"%s\", after %u ms",
			         M->nodes[i].name, url, st, want, ms * mh_scale());
		struct timespec d = {0, 50 * 1000000L};
		nanosleep(&d, NULL);
	}
}

/*
 * Liveness: a node frozen (SIGSTOP) long enough is marked dead by its peers, which keep
 * working; thawed, it catches up and is alive again for them (its backoff is bounded by
 * backoff_max_ms, 750 ms here).
 */
static void test_freeze(void **state)
{
	(void)state;
	mesh(4, 150);
	start_chain(0, 1);
	if (!need_gossip())
		skip();
	start_group(0, 1, 4);
	MH_OK(mh_peer(M, 0, M->nodes[3].url, true));
	uint64_t base = entries_of(0), ms = 0;
	MH_OK(mh_wait_converged(M, NULL, 0, base, 15000, NULL));
	/* Node 0 has exchanged with node 3 (so it holds a connection to it) before the freeze. */
	wait_peer_state(0, M->nodes[3].url, "alive (contacted", 10000);
	MH_OK(mh_freeze(M, 3, true));
	uint64_t tf = mh_now_ms();
	wait_peer_state(0, M->nodes[3].url, "dead", 20000);
	print_message("frozen node marked dead by node 0 after %llu ms (rpc_timeout_ms 1000)\n",
	              (unsigned long long)(mh_now_ms() - tf));
	MH_OK(mh_publish(M, 0, "while-frozen", "1.0.0", NULL));
	MH_OK(mh_publish(M, 1, "while-frozen", "1.0.0", NULL));
	const size_t up[] = {0, 1, 2};
	MH_OK(mh_wait_converged(M, up, 3, base + 2, 15000, NULL));
	uint64_t t0 = mh_now_ms();
	MH_OK(mh_freeze(M, 3, false));
	MH_OK(mh_wait_converged(M, NULL, 0, base + 2, 15000, &ms));
	wait_peer_state(0, M->nodes[3].url, "alive (contacted", 10000);
	print_message("thawed node caught up and was alive again for node 0 within %llu ms\n",
	              (unsigned long long)(mh_now_ms() - t0));
	for (size_t i = 0; i < 4; i++)
		MH_OK(mh_stop(M, i));
}

/*
 * Two nodes of different meshes told of each other refuse each other: each logs "other mesh"
 * once for that peer however often it retries, and nothing crosses.
 */
static void test_other_mesh(void **state)
{
	(void)state;
	char why[2048];
	mesh(1, 150);
	MH_OK(mh_start(M, 0, NULL, 0));
	if (!need_gossip())
		skip();
	if (mh_mesh_new(myceld_path, 1, 150, &M2, why, sizeof(why)) != 0)
		fail_msg("second mesh: %s", why);
	if (mh_start(M2, 0, NULL, 0) != 0)
		fail_msg("%s", M2->err);
	MH_OK(mh_publish(M, 0, "ours", "1.0.0", NULL));
	if (mh_publish(M2, 0, "theirs", "1.0.0", NULL) != 0)
		fail_msg("%s", M2->err);
	MH_OK(mh_peer(M, 0, M2->nodes[0].url, true));
	if (mh_peer(M2, 0, M->nodes[0].url, true) != 0)
		fail_msg("%s", M2->err);
	/* Wait until each has failed with the other at least three times. */
	uint64_t end = mh_now_ms() + 15000u * mh_scale(), f1 = 0, f2 = 0;
	for (;;) {
		bool a = peer_failures(M, 0, M2->nodes[0].url, &f1);
		bool b = peer_failures(M2, 0, M->nodes[0].url, &f2);
		if (a && b && f1 >= 3 && f2 >= 3)
			break;
		if (mh_now_ms() >= end)
			fail_msg("failures with the other mesh's node: %llu and %llu after %u ms",
			         (unsigned long long)f1, (unsigned long long)f2,
			         15000u * mh_scale());
		struct timespec d = {0, 50 * 1000000L};
		nanosleep(&d, NULL);
	}
	assert_int_equal(mh_log_count(M, 0, "msg=\"other mesh\"", M2->nodes[0].url), 1);
	assert_int_equal(mh_log_count(M2, 0, "msg=\"other mesh\"", M->nodes[0].url), 1);
	mh_view v;
	MH_OK(mh_view_of(M, 0, M2->nodes[0].feed, &v));
	assert_int_equal(v.seq, 0);
	assert_int_equal(v.feeds, 1);
	if (mh_view_of(M2, 0, M->nodes[0].feed, &v) != 0)
		fail_msg("%s", M2->err);
	assert_int_equal(v.seq, 0);
	assert_int_equal(v.feeds, 1);
	MH_OK(mh_stop(M, 0));
	if (mh_stop(M2, 0) != 0)
		fail_msg("%s", M2->err);
}

/*
 * Key rotation over gossip (PROTOCOL.md §5.4): node 1 rotates its domain key and publishes
 * with the next key, before and after a restart; every node accepts the key entry and the
 * entries signed by the next key, a client verifies them on each node, and every store
 * verifies from genesis once the nodes are stopped.
 */
static void test_key_rotation(void **state)
{
	(void)state;
	mesh(3, 150);
	start_chain(0, 3);
	if (!need_gossip())
		skip();
	uint64_t s1 = 0, sk = 0, s2 = 0, s3 = 0, ms = 0;
	uint8_t next[MYCEL_PK_LEN];
	MH_OK(mh_publish(M, 1, "before", "1.0.0", &s1));
	MH_OK(mh_wait_seq(M, NULL, 0, M->nodes[1].feed, s1, 10000, NULL));
	MH_OK(mh_rotate(M, 1, &sk, next));
	assert_int_equal(sk, s1 + 1);
	assert_memory_not_equal(next, M->nodes[1].feed, MYCEL_PK_LEN);
	MH_OK(mh_publish(M, 1, "after", "1.0.0", &s2));
	assert_int_equal(s2, sk + 1);
	MH_OK(mh_wait_seq(M, NULL, 0, M->nodes[1].feed, s2, 10000, &ms));
	print_message("key rotation: the key entry and a publish after it reached every node in "
	              "%llu ms\n",
	              (unsigned long long)ms);
	for (size_t i = 0; i < 3; i++) {
		get_verified(i, 1, "after", "1.0.0");
		get_verified(i, 1, "before", "1.0.0");
	}
	/* the node keeps signing with the next key after a restart (its key file was replaced) */
	MH_OK(mh_stop(M, 1));
	size_t seeds[] = {0};
	MH_OK(mh_start(M, 1, seeds, 1));
	MH_OK(mh_publish(M, 1, "restarted", "1.0.0", &s3));
	MH_OK(mh_wait_seq(M, NULL, 0, M->nodes[1].feed, s3, 10000, NULL));
	MH_OK(mh_wait_converged(M, NULL, 0, entries_of(1), 10000, NULL));
	for (size_t i = 0; i < 3; i++)
		MH_OK(mh_stop(M, i));
	/* mycel verify on every node's store: every signature under the key of its seq */
	for (size_t i = 0; i < 3; i++) {
		char dir[MH_PATH_MAX + 8], why[256] = "";
		mycel_store *s = NULL;
		mycel_verify_stats st;
		uint8_t k[MYCEL_PK_LEN];
		snprintf(dir, sizeof(dir), "%s/store", M->nodes[i].dir);
		assert_int_equal(mycel_store_open(dir, MYCEL_STORE_READONLY, &s, why, sizeof(why)),
		                 0);
		assert_int_equal(mycel_store_verify(s, NULL, NULL, &st), 0);
		assert_int_equal(st.problems, 0);
		assert_int_equal(mycel_store_feed_key(s, M->nodes[1].feed, s3 + 1, k), 0);
		assert_memory_equal(k, next, MYCEL_PK_LEN);
		mycel_store_close(s);
	}
}

/*
 * A product transfer over gossip (PROTOCOL.md §5.5): node 1 offers a product to domain d02,
 * node 2 accepts once gossip brought it the offer, every node then says where the product
 * went, node 1 can no longer publish it, and d02 publishes its next version.
 */
static void test_transfer(void **state)
{
	(void)state;
	mesh(3, 150);
	start_chain(0, 3);
	if (!need_gossip())
		skip();
	uint64_t s1 = 0, so = 0, sa = 0, s2 = 0;
	MH_OK(mh_publish_product(M, 1, "perf", "1.0.0", &s1));
	MH_OK(mh_transfer(M, 1, "perf", M->nodes[2].name, false, &so));
	MH_OK(mh_wait_seq(M, NULL, 0, M->nodes[1].feed, so, 10000, NULL));
	MH_OK(mh_transfer(M, 2, "perf", M->nodes[1].name, true, &sa));
	MH_OK(mh_wait_seq(M, NULL, 0, M->nodes[2].feed, sa, 10000, NULL));
	for (size_t i = 0; i < 3; i++) {
		mycel_client *c = NULL;
		mycel_arena *a = NULL;
		mycel_result res;
		mycel_msg_GetReply r;
		mycel_msg_GetRequest g = {.domain = M->nodes[1].name, .domain_len = 3, .id = "perf",
		                          .id_len = 4};
		assert_int_equal(mycel_client_open(M->nodes[i].url, &c), 0);
		mycel_client_set_timeout(c, 5000u * mh_scale());
		assert_int_equal(mycel_arena_new(8u << 20, &a), 0);
		assert_int_equal(mycel_client_fetch_charter(c, M->mesh_id, &res), 0);
		int rv = mycel_client_get(c, &g, a, &res, &r);
		if (rv != 0 || res.status != MYCEL_RPC_OK)
			fail_msg("node %s: Get: %s %s", M->nodes[i].name, mycel_errname(rv), res.message);
		if (r.transferred_to == NULL || strcmp(r.transferred_to, M->nodes[2].name) != 0 ||
		    r.transfer_offer_seq != so || r.transfer_accept_seq != sa)
			fail_msg("node %s: d01/perf is not shown as moved to d02", M->nodes[i].name);
		mycel_arena_free(a);
		mycel_client_close(c);
	}
	/* the giver's node learnt the acceptance by gossip: it refuses a new version */
	assert_int_not_equal(mh_publish_product(M, 1, "perf", "1.1.0", NULL), 0);
	assert_non_null(strstr(M->err, "was transferred to d02"));
	MH_OK(mh_publish_product(M, 2, "perf", "1.1.0", &s2));
	MH_OK(mh_wait_seq(M, NULL, 0, M->nodes[2].feed, s2, 10000, NULL));
	MH_OK(mh_wait_converged(M, NULL, 0, entries_of(2), 10000, NULL));
	for (size_t i = 0; i < 3; i++)
		MH_OK(mh_stop(M, i));
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s MYCELD\n", argv[0]);
		return 2;
	}
	myceld_path = argv[1];
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_harness, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_three, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sixteen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sixteen_rounds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_partition, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restart_late, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_freeze, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_mesh, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_rotation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transfer, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
