/*
 * test_charter_procs.c — charter evolution across a mesh of real myceld processes on loopback
 * (tests/mesh_harness.h; PROTOCOL.md §3.4). argv[1] is the daemon.
 *
 * Three nodes (of four) run the harness's genesis (one governance member, domains d00..d02). A
 * domain "fresh" (not admitted) has entries made in a store of the test's own: pushed to a node
 * they are refused. Version 2 (admitting fresh) is applied on ONE node through Admin/CharterPut;
 * every node adopts it by gossip, and fresh's entries, pushed to that one node, then reach
 * every node — including the node that refused them before. Version 3 declares fresh's key
 * compromised after seq 2: applied on another node, every node adopts it, drops seq 3 and
 * refuses entries beyond the cut (EREVOKED) when they are pushed to it. Version 4 removes
 * fresh: every node stops serving its document (NOT_FOUND naming version 4). A fourth node
 * started then from the genesis adopts v2..v4 from its peers, never holds fresh's entries and
 * still converges with the others (Status heads and gossip frontier digests). Clients pinned
 * to the mesh id check each node's later charter along its chain from genesis.
 *
 * Every wait polls Status over tcp with a deadline that only bounds it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "mycel/charter.h"
#include "mycel/client.h"
#include "mycel/error.h"
#include "mycel/rpc.h"
#include "mycel/store.h"

#include "mesh_harness.h"

static const char *myceld_path;
static mh_mesh *M;
static size_t live; /* nodes 0..live-1 run */
static char local_dir[256];

#define MH_OK(expr)                                                                                \
	do {                                                                                       \
		int rv_ = (expr);                                                                  \
		if (rv_ != 0)                                                                      \
			fail_msg("%s: %s: %s", #expr, mycel_errname(rv_), M->err);                 \
	} while (0)

static int teardown(void **state)
{
	(void)state;
	live = 0;
	mh_mesh_free(M, false);
	M = NULL;
	mh_kill_all();
	if (local_dir[0] != '\0')
		(void)tc_rm_rf(local_dir);
	local_dir[0] = '\0';
	return 0;
}

/* The charter file of version v of the harness's mesh (v1 read from its file). */
typedef struct chain {
	mycel_charter *c[5];
	mycel_buf f[5];
} chain;

static void read_file(const char *path, mycel_buf *out)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	mycel_buf_init(out, MYCEL_CHARTER_MAX);
	uint8_t tmp[4096];
	size_t k;
	while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0)
		mycel_buf_put(out, tmp, k);
	fclose(f);
	assert_int_equal(out->err, 0);
}

/* The next version of ch->c[v-1] changed by fn, signed by the governance key, decoded again. */
static void next_version(chain *ch, int v, void (*fn)(mycel_charter *, void *), void *arg)
{
	mycel_charter *n = NULL;
	char why[256] = "";
	assert_int_equal(mycel_charter_next(ch->c[v - 1], &n), 0);
	fn(n, arg);
	assert_int_equal(mycel_charter_sign(n, M->gov, why, sizeof(why)), 0);
	mycel_buf_init(&ch->f[v], MYCEL_CHARTER_MAX);
	assert_int_equal(mycel_charter_encode(n, &ch->f[v]), 0);
	mycel_charter_free(n);
	assert_int_equal(
	    mycel_charter_decode(ch->f[v].data, ch->f[v].len, &ch->c[v], why, sizeof(why)), 0);
	assert_int_equal(mycel_charter_verify_next(ch->c[v - 1], ch->c[v], why, sizeof(why)), 0);
}

static void admit_fresh(mycel_charter *n, void *arg)
{
	const mycel_key *k = arg;
	assert_int_equal(mycel_charter_add_domain(n, "fresh", k->pk), 0);
}

static void remove_fresh(mycel_charter *n, void *arg)
{
	(void)arg;
	assert_int_equal(mycel_charter_remove_domain(n, "fresh"), 0);
}

/*
 * Get domain/id on node i over tcp with a client pinned to the mesh id: the node's charter
 * (a later version) is checked along its chain from the genesis. want: OK, or NOT_FOUND with
 * a message holding not_found.
 */
static void get_on(size_t i, const char *domain, const char *id, const char *not_found)
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
	g.domain = domain;
	g.domain_len = strlen(domain);
	g.id = id;
	g.id_len = strlen(id);
	rv = mycel_client_get(c, &g, a, &res, &r);
	assert_int_equal(rv, 0);
	if (not_found == NULL && res.status != MYCEL_RPC_OK)
		fail_msg("node %s: Get %s/%s: %s %s", M->nodes[i].name, domain, id,
		         mycel_rpc_status_name(res.status), res.message);
	if (not_found != NULL &&
	    (res.status != MYCEL_RPC_NOT_FOUND || strstr(res.message, not_found) == NULL))
		fail_msg("node %s: Get %s/%s: %s \"%s\", expected NOT_FOUND saying \"%s\"",
		         M->nodes[i].name, domain, id, mycel_rpc_status_name(res.status),
		         res.message, not_found);
	mycel_arena_free(a);
	mycel_client_close(c);
}

static void compromise_fresh(mycel_charter *n, void *arg)
{
	const mycel_key *k = arg;
	assert_int_equal(mycel_charter_compromise(n, "fresh", 2, k->pk), 0);
}

/* Entries of one feed, with bodies, read from a store. */
typedef struct held {
	mycel_entry e[4];
	uint8_t *body[4];
	size_t body_len[4];
	size_t n;
} held;

static int hold_fn(void *ctx, const mycel_entry *e, const uint8_t *body, size_t body_len)
{
	held *h = ctx;
	assert_true(h->n < 4);
	h->e[h->n] = *e;
	h->body[h->n] = malloc(body_len);
	assert_non_null(h->body[h->n]);
	memcpy(h->body[h->n], body, body_len);
	h->body_len[h->n] = body_len;
	h->n++;
	return 0;
}

typedef struct push_out {
	uint64_t status, accepted, known, refused;
	char reason[512];
} push_out;

/* Pushes h's entries [from, to) to node i as Mesh/Push. */
static void push(size_t i, const held *h, size_t from, size_t to, push_out *out)
{
	mycel_msg_Entry items[4];
	mycel_msg_PushRequest rq;
	mycel_buf b;
	mycel_client *c = NULL;
	char *msg = NULL;
	uint8_t *body = NULL;
	size_t len = 0;
	for (size_t k = from; k < to; k++)
		items[k - from] = (mycel_msg_Entry){.entry = h->e[k].raw,
		                                    .entry_len = h->e[k].len,
		                                    .body = h->body[k],
		                                    .body_len = h->body_len[k]};
	memset(&rq, 0, sizeof(rq));
	rq.entries = items;
	rq.n_entries = to - from;
	rq.has_hops = true; /* no from: the nodes must not learn the test as a peer */
	mycel_buf_init(&b, 8u << 20);
	assert_int_equal(mycel_msg_PushRequest_encode(&rq, &b), 0);
	memset(out, 0, sizeof(*out));
	assert_int_equal(mycel_client_open(M->nodes[i].url, &c), 0);
	assert_int_equal(mycel_client_call(c, "mycel.v1.Mesh/Push",
	                                   tc_now_ms() + 10000u * mh_scale(), b.data, b.len,
	                                   &out->status, &msg, &body, &len),
	                 0);
	if (out->status == MYCEL_RPC_OK) {
		mycel_arena *a = NULL;
		mycel_msg_PushReply r;
		char why[256] = "";
		assert_int_equal(mycel_arena_new(1u << 20, &a), 0);
		if (mycel_msg_PushReply_decode(body, len, a, &r, why, sizeof(why)) != 0)
			fail_msg("Push reply does not decode: %s", why);
		out->accepted = r.accepted;
		out->known = r.known;
		out->refused = r.refused;
		snprintf(out->reason, sizeof(out->reason), "%s", r.reason ? r.reason : "");
		mycel_arena_free(a);
	} else {
		snprintf(out->reason, sizeof(out->reason), "%s", msg ? msg : "");
	}
	free(msg);
	free(body);
	mycel_client_close(c);
	mycel_buf_fini(&b);
}

/* Admin/CharterPut of file f on node i (over its admin socket); the node's version after. */
static uint64_t charter_put(size_t i, const mycel_buf *f)
{
	mycel_client *c = NULL;
	mycel_arena *a = NULL;
	mycel_result res;
	mycel_msg_CharterPutRequest rq;
	mycel_msg_CharterPutReply rp;
	assert_int_equal(mycel_client_open(M->nodes[i].admin, &c), 0);
	mycel_client_set_timeout(c, 10000u * mh_scale());
	assert_int_equal(mycel_arena_new(1u << 20, &a), 0);
	memset(&rq, 0, sizeof(rq));
	rq.charter = f->data;
	rq.charter_len = f->len;
	int rv = mycel_client_charter_put(c, &rq, a, &res, &rp);
	if (rv != 0 || res.status != MYCEL_RPC_OK)
		fail_msg("node %s: CharterPut: %s %s %s", M->nodes[i].name, mycel_errname(rv),
		         mycel_rpc_status_name(res.status), res.message);
	uint64_t v = rp.version;
	mycel_arena_free(a);
	mycel_client_close(c);
	return v;
}

/* Node i's charter version (Status). */
static uint64_t charter_version(size_t i)
{
	mycel_arena *a = NULL;
	mycel_msg_StatusReply st;
	assert_int_equal(mycel_arena_new(8u << 20, &a), 0);
	MH_OK(mh_status(M, i, a, &st));
	uint64_t v = st.charter_version;
	mycel_arena_free(a);
	return v;
}

/*
 * Waits (polling every 50 ms, at most deadline_ms × scale) until every node runs charter
 * version v and holds feed up to exactly seq.
 */
static uint64_t wait_all(uint64_t v, const uint8_t *feed, uint64_t seq, uint64_t deadline_ms)
{
	uint64_t t0 = mh_now_ms(), end = t0 + deadline_ms * mh_scale();
	for (;;) {
		bool all = true;
		char state[512] = "";
		size_t off = 0;
		for (size_t i = 0; i < live; i++) {
			mh_view w;
			uint64_t cv = charter_version(i);
			MH_OK(mh_view_of(M, i, feed, &w));
			if (cv != v || w.seq != seq)
				all = false;
			int k = snprintf(state + off, sizeof(state) - off, " %s: v%llu seq %llu;",
			                 M->nodes[i].name, (unsigned long long)cv,
			                 (unsigned long long)w.seq);
			if (k > 0 && (size_t)k < sizeof(state) - off)
				off += (size_t)k;
		}
		if (all)
			return mh_now_ms() - t0;
		if (mh_now_ms() > end)
			fail_msg("not every node reached charter v%llu and seq %llu in time:%s",
			         (unsigned long long)v, (unsigned long long)seq, state);
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

static void test_evolution(void **state)
{
	(void)state;
	char why[2048] = "";
	if (mh_mesh_new(myceld_path, 4, 150, &M, why, sizeof(why)) != 0)
		fail_msg("mesh: %s", why);
	size_t s1[] = {0}, s2[] = {1, 0}, first3[] = {0, 1, 2};
	MH_OK(mh_start(M, 0, NULL, 0));
	MH_OK(mh_start(M, 1, s1, 1));
	MH_OK(mh_start(M, 2, s2, 2));
	live = 3; /* d03 joins late */
	if (!M->gossip || !mh_serves(M, 0, "mycel.v1.Mesh/Push") ||
	    !mh_serves(M, 0, "mycel.v1.Admin/CharterPut")) {
		print_message("myceld does not gossip or take CharterPut: skipped\n");
		skip();
	}

	/* the chain: v1 (the harness's), v2 admits fresh, v3 cuts fresh after seq 2 */
	chain ch;
	memset(&ch, 0, sizeof(ch));
	mycel_key *fresh = tc_seed_key(0x77), *fresh2 = tc_seed_key(0x78);
	read_file(M->charter, &ch.f[1]);
	assert_int_equal(mycel_charter_decode(ch.f[1].data, ch.f[1].len, &ch.c[1], NULL, 0), 0);
	next_version(&ch, 2, admit_fresh, fresh);
	next_version(&ch, 3, compromise_fresh, fresh2);
	next_version(&ch, 4, remove_fresh, NULL);

	/* fresh's three entries, made in a store of the test's own that holds v1 and v2 */
	tc_tmpdir("charter-procs", local_dir, sizeof(local_dir));
	mycel_store *l = tc_store_new(local_dir, ch.f[1].data, ch.f[1].len);
	assert_int_equal(mycel_store_add_charter(l, ch.f[2].data, ch.f[2].len, why, sizeof(why)),
	                 0);
	tc_put_contract(l, fresh, "beans", "1.0.0", "Beans", "every bean");
	tc_put_contract(l, fresh, "beans", "1.1.0", "Beans", "every bean, sorted");
	tc_put_contract(l, fresh, "beans", "2.0.0", "Beans", "every bean, v2");
	held h;
	memset(&h, 0, sizeof(h));
	assert_int_equal(mycel_store_scan(l, fresh->pk, 1, hold_fn, &h), 0);
	assert_int_equal(h.n, 3);
	mycel_store_close(l);

	/* under v1 node 1 refuses them: not admitted */
	push_out o;
	push(1, &h, 0, 3, &o);
	assert_int_equal(o.status, MYCEL_RPC_OK);
	assert_int_equal(o.accepted, 0);
	assert_int_equal(o.refused, 3);
	if (strstr(o.reason, "not admitted") == NULL)
		fail_msg("the refusal does not say the feed is not admitted: %s", o.reason);

	/* v2 on node 0 only; then fresh's entries pushed to node 0 reach every node */
	assert_int_equal(charter_put(0, &ch.f[2]), 2);
	push(0, &h, 0, 3, &o);
	assert_int_equal(o.status, MYCEL_RPC_OK);
	assert_int_equal(o.accepted, 3);
	uint64_t ms = wait_all(2, fresh->pk, 3, 20000);
	print_message("v2 applied on d00: every node adopted it and holds fresh's 3 entries in "
	              "%llu ms\n",
	              (unsigned long long)ms);

	/* v3 (fresh compromised after seq 2) on node 2: every node adopts it and cuts seq 3 */
	assert_int_equal(charter_put(2, &ch.f[3]), 3);
	ms = wait_all(3, fresh->pk, 2, 20000);
	print_message(
	    "v3 applied on d02: every node adopted it and cut fresh at seq 2 in %llu ms\n",
	    (unsigned long long)ms);
	/* every node refuses what lies beyond the cut, and keeps what lies before it */
	for (size_t i = 0; i < live; i++) {
		push(i, &h, 2, 3, &o);
		assert_int_equal(o.status, MYCEL_RPC_OK);
		assert_int_equal(o.accepted, 0);
		assert_int_equal(o.refused, 1);
		if (strstr(o.reason, "compromised") == NULL)
			fail_msg("node %s: the refusal does not name the compromise: %s",
			         M->nodes[i].name, o.reason);
		push(i, &h, 0, 2, &o);
		assert_int_equal(o.known, 2);
		assert_int_equal(o.refused, 0);
	}
	/* and a gossip round later nobody holds seq 3 again */
	mh_view before;
	MH_OK(mh_view_of(M, 0, fresh->pk, &before));
	MH_OK(mh_wait_converged(M, first3, 3, before.entries, 10000, NULL));
	for (size_t i = 0; i < live; i++) {
		mh_view w;
		MH_OK(mh_view_of(M, i, fresh->pk, &w));
		assert_int_equal(w.seq, 2);
	}

	/* clients pinned to the mesh id follow the chain: fresh's document is current at v3 */
	for (size_t i = 0; i < live; i++)
		get_on(i, "fresh", "beans", NULL);

	/*
	 * v4 removes fresh (on node 1): every node stops serving it (its head leaves Status and
	 * the frontier; the entries stay held), and the frontiers converge
	 */
	assert_int_equal(charter_put(1, &ch.f[4]), 4);
	ms = wait_all(4, fresh->pk, 0, 20000);
	print_message("v4 (fresh removed) applied on d01: every node adopted it in %llu ms\n",
	              (unsigned long long)ms);
	for (size_t i = 0; i < live; i++)
		get_on(i, "fresh", "beans", "removed in charter version 4");
	MH_OK(mh_publish(M, 0, "plates", "1.0.0", NULL));
	MH_OK(mh_wait_converged(M, first3, 3, before.entries + 1, 10000, NULL));
	for (size_t i = 0; i < live; i++)
		get_on(i, M->nodes[0].name, "plates", NULL);

	/*
	 * A late joiner (d03, from the genesis alone) adopts v2..v4 from its peers in one
	 * exchange: it never holds fresh's entries, and still converges with the nodes that do
	 */
	size_t s3[] = {2};
	MH_OK(mh_start(M, 3, s3, 1));
	live = 4;
	ms = wait_all(4, fresh->pk, 0, 20000);
	MH_OK(mh_wait_converged(M, NULL, 0, 0, 10000, NULL));
	print_message("a late joiner adopted v4 and converged in %llu ms\n",
	              (unsigned long long)ms);
	/* the gossip frontiers too (a removed feed is in none of them): their digests agree */
	uint64_t end = mh_now_ms() + 10000u * mh_scale();
	for (;;) {
		uint8_t d[4][MYCEL_HASH_LEN];
		bool same = true;
		for (size_t i = 0; i < live; i++) {
			mycel_arena *a = NULL;
			mycel_msg_StatusReply st;
			assert_int_equal(mycel_arena_new(8u << 20, &a), 0);
			MH_OK(mh_status(M, i, a, &st));
			assert_true(st.frontier_digest != NULL &&
			            st.frontier_digest_len == MYCEL_HASH_LEN);
			memcpy(d[i], st.frontier_digest, MYCEL_HASH_LEN);
			mycel_arena_free(a);
			same = same && memcmp(d[i], d[0], MYCEL_HASH_LEN) == 0;
		}
		if (same)
			break;
		if (mh_now_ms() > end)
			fail_msg("the nodes' frontier digests still differ after the removal");
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
	mh_view w0, w3;
	MH_OK(mh_view_of(M, 0, NULL, &w0));
	MH_OK(mh_view_of(M, 3, NULL, &w3));
	assert_int_equal(w3.entries + 2, w0.entries); /* fresh's two entries: only on the others */
	get_on(3, M->nodes[0].name, "plates", NULL);
	get_on(3, "fresh", "beans", "removed in charter version 4");

	for (size_t i = 0; i < live; i++)
		MH_OK(mh_stop(M, i));
	for (size_t k = 0; k < h.n; k++)
		free(h.body[k]);
	for (int v = 1; v < 5; v++) {
		mycel_charter_free(ch.c[v]);
		mycel_buf_fini(&ch.f[v]);
	}
	mycel_key_free(fresh2);
	mycel_key_free(fresh);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH/TO/myceld\n", argv[0]);
		return 2;
	}
	myceld_path = argv[1];
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_evolution, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
