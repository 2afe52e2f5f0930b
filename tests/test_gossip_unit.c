/*
 * test_gossip_unit.c — the gossip engine (src/gossip.c): backoff and jitter bounds, peer
 * state transitions on an injected clock, the choice of peers for a round, the push
 * queue's bound, the mesh ops the handlers call, persistence of admin peers; then three
 * and eight in-process nodes on tcp://127.0.0.1:0 that converge after a publish.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "mycel/charter.h"
#include "mycel/client.h"
#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/node.h"
#include "mycel/profile.h"
#include "mycel/rpc.h"
#include "mycel/store.h"
#include "mycel_proto.h"
#include "gossip.h"
#include "mesh.h"

#include "common.h"

#define WAIT_MS 20000u
#define SELF "tcp://127.0.0.1:1"

/* ---- fixtures: a store, a context, an injected clock, a log capture -------------------- */

static uint64_t fake_now;
static uint64_t fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_buf[1 << 16];
static size_t log_len;

static void log_capture(void *ctx, mycel_node_level lv, const char *line)
{
	(void)ctx;
	(void)lv;
	pthread_mutex_lock(&log_mu);
	size_t n = strlen(line);
	if (log_len + n + 2 < sizeof(log_buf)) {
		memcpy(log_buf + log_len, line, n);
		log_len += n;
		log_buf[log_len++] = '\n';
		log_buf[log_len] = '\0';
	}
	pthread_mutex_unlock(&log_mu);
}

static void log_reset(void)
{
	pthread_mutex_lock(&log_mu);
	log_len = 0;
	log_buf[0] = '\0';
	pthread_mutex_unlock(&log_mu);
}

/* How many logged lines contain needle. */
static size_t logged(const char *needle)
{
	size_t k = 0;
	pthread_mutex_lock(&log_mu);
	for (const char *p = log_buf; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		k++;
	pthread_mutex_unlock(&log_mu);
	return k;
}

typedef struct fx {
	char dir[128];
	mycel_store *s;
	mycel_key *k;
	mycel_rpc_ctx ctx;
	mycel__gossip *g;
} fx;

static void fx_open(fx *f, const mycel_gossip_opts *o, const char *const *seeds, size_t n)
{
	char why[256] = "";
	mycel__gossip_env env = {
	    .ctx = &f->ctx, .log = log_capture, .clock = fake_clock, .seed = 12345};
	memset(&f->ctx, 0, sizeof(f->ctx));
	f->ctx.store = f->s;
	f->ctx.self_url = SELF;
	if (mycel__gossip_new(o, &env, seeds, n, &f->g, why, sizeof(why)) != 0)
		fail_msg("gossip new: %s", why);
}

static void fx_setup(fx *f, const mycel_gossip_opts *o, const char *const *seeds, size_t n)
{
	memset(f, 0, sizeof(*f));
	tc_tmpdir("gossip", f->dir, sizeof(f->dir));
	mycel_key *gov = tc_seed_key(1);
	f->k = tc_seed_key(2);
	const char *names[] = {"sales"};
	const mycel_key *keys[] = {f->k};
	mycel_buf ch;
	tc_genesis("acme", gov, names, keys, 1, &ch, NULL);
	char sd[160];
	snprintf(sd, sizeof(sd), "%s/s", f->dir);
	f->s = tc_store_new(sd, ch.data, ch.len);
	mycel_buf_fini(&ch);
	mycel_key_free(gov);
	fake_now = 1000000;
	log_reset();
	fx_open(f, o, seeds, n);
}

static void fx_teardown(fx *f)
{
	mycel__gossip_free(f->g);
	mycel_store_close(f->s);
	mycel_key_free(f->k);
	(void)tc_rm_rf(f->dir);
}

/* ---- backoff and jitter -------------------------------------------------------------------- */

static void test_backoff_jitter_bounds(void **state)
{
	(void)state;
	/* min(interval × 2^failures, max) × [0.5, 1.5) */
	for (uint64_t fails = 0; fails < 70; fails++) {
		uint64_t base = 1000;
		for (uint64_t i = 0; i < fails && base < 60000; i++)
			base *= 2;
		if (base > 60000)
			base = 60000;
		uint64_t lo = mycel__gossip_backoff(1000, 60000, fails, 0.0);
		uint64_t hi = mycel__gossip_backoff(1000, 60000, fails, 0.999999);
		assert_int_equal(lo, base / 2);
		assert_true(hi < base + base / 2 && hi >= base + base / 2 - 1);
		for (double r = 0; r < 1; r += 0.0625) {
			uint64_t v = mycel__gossip_backoff(1000, 60000, fails, r);
			assert_true(v >= lo && v <= hi);
		}
	}
	assert_true(mycel__gossip_backoff(1000, 60000, 1000000, 0.5) == 60000);
	assert_true(mycel__gossip_backoff(1, 1, 0, 0.0) >= 1); /* never 0 */
	/* ±25 % */
	assert_int_equal(mycel__gossip_jitter(1000, 0.0), 750);
	assert_int_equal(mycel__gossip_jitter(1000, 0.5), 1000);
	assert_true(mycel__gossip_jitter(1000, 0.999999) <= 1250);
	assert_true(mycel__gossip_jitter(1000, 0.999999) >= 1249);
}

/* ---- states
 * -------------------------------------------------------------------------------------- */

static void test_state_transitions(void **state)
{
	(void)state;
	fx f;
	static const char *const seeds[] = {"tcp://127.0.0.1:9"};
	mycel_gossip_opts o = {.interval_ms = 1000, .backoff_max_ms = 8000};
	fx_setup(&f, &o, seeds, 1);
	mycel__peer_info pi;
	assert_int_equal(mycel__gossip_peer(f.g, seeds[0], &pi), 0);
	assert_int_equal(pi.state, MYCEL__PEER_ALIVE);
	assert_int_equal(pi.source, MYCEL__SRC_SEED);

	static const mycel__peer_state expect[] = {MYCEL__PEER_SUSPECT, MYCEL__PEER_SUSPECT,
	                                           MYCEL__PEER_DEAD, MYCEL__PEER_DEAD,
	                                           MYCEL__PEER_DEAD};
	for (uint64_t i = 0; i < 5; i++) {
		mycel__gossip_outcome(f.g, seeds[0], false, "connection refused");
		assert_int_equal(mycel__gossip_peer(f.g, seeds[0], &pi), 0);
		assert_int_equal(pi.state, expect[i]);
		assert_int_equal(pi.failures, i + 1);
		assert_string_equal(pi.last_error, "connection refused");
		uint64_t base = 1000u << (i + 1);
		if (base > 8000)
			base = 8000;
		assert_true(pi.next_try_ms >= fake_now + base / 2);
		assert_true(pi.next_try_ms < fake_now + base + base / 2);
	}
	assert_int_equal(
	    logged("msg=\"peer state\" peer=\"tcp://127.0.0.1:9\" from=alive to=suspect"), 1);
	assert_int_equal(logged("from=suspect to=dead"), 1);
	fake_now += 5;
	mycel__gossip_outcome(f.g, seeds[0], true, NULL);
	assert_int_equal(mycel__gossip_peer(f.g, seeds[0], &pi), 0);
	assert_int_equal(pi.state, MYCEL__PEER_ALIVE);
	assert_int_equal(pi.failures, 0);
	assert_int_equal(pi.last_seen_ms, fake_now);
	assert_string_equal(pi.last_error, "");
	assert_int_equal(logged("from=dead to=alive"), 1);
	fx_teardown(&f);
}

/* ---- selection
 * ---------------------------------------------------------------------------------------- */

static void test_pick(void **state)
{
	(void)state;
	fx f;
	static const char *const seeds[] = {"tcp://127.0.0.1:11", "tcp://127.0.0.1:12",
	                                    "tcp://127.0.0.1:13", "tcp://127.0.0.1:14",
	                                    "tcp://127.0.0.1:15", "tcp://127.0.0.1:16"};
	mycel_gossip_opts o = {.interval_ms = 1000, .reject_limit = 2, .ignore_ms = 100000};
	fx_setup(&f, &o, seeds, 6);
	/* 11 alive; 12 suspect; 13 dead, not due; 14 dead, due; 15 ignored; 16 removed */
	mycel__gossip_outcome(f.g, seeds[1], false, "x");
	for (int i = 0; i < 3; i++)
		mycel__gossip_outcome(f.g, seeds[2], false, "x");
	for (int i = 0; i < 3; i++)
		mycel__gossip_outcome(f.g, seeds[3], false, "x");
	for (int i = 0; i < 3; i++)
		mycel__gossip_ops.rejected(f.g, seeds[4], MYCEL_EBADSIG, "feed 01… seq 1: bad sig");
	assert_int_equal(mycel__gossip_remove(f.g, seeds[5], NULL, 0), 0);
	mycel__peer_info p13, p14;
	assert_int_equal(mycel__gossip_peer(f.g, seeds[2], &p13), 0);
	assert_int_equal(mycel__gossip_peer(f.g, seeds[3], &p14), 0);
	/* one dead peer due, the other not: the clock at the earlier retry time */
	uint64_t t = p13.next_try_ms < p14.next_try_ms ? p13.next_try_ms : p14.next_try_ms;
	const char *due = p13.next_try_ms < p14.next_try_ms ? seeds[2] : seeds[3];
	const char *not_due = due == seeds[2] ? seeds[3] : seeds[2];
	fake_now = t;

	char out[64][MYCEL_NODE_URL_MAX + 1];
	size_t n = mycel__gossip_pick(f.g, 64, out);
	assert_int_equal(n, 3);
	bool got[3] = {false, false, false};
	for (size_t i = 0; i < n; i++) {
		got[0] |= strcmp(out[i], seeds[0]) == 0;
		got[1] |= strcmp(out[i], seeds[1]) == 0;
		got[2] |= strcmp(out[i], due) == 0;
		assert_string_not_equal(out[i], not_due);
		assert_string_not_equal(out[i], seeds[4]);
		assert_string_not_equal(out[i], seeds[5]);
	}
	assert_true(got[0] && got[1] && got[2]);
	/*
	 * fanout 2, many rounds: never the ignored, removed or not-due ones; the due dead peer
	 * first (a retry happens when its backoff says), the other pick uniform among the rest
	 */
	size_t hits[3] = {0, 0, 0};
	for (int r = 0; r < 600; r++) {
		assert_int_equal(mycel__gossip_pick(f.g, 2, out), 2);
		assert_string_equal(out[0], due);
		for (int k = 0; k < 2; k++) {
			assert_string_not_equal(out[k], not_due);
			assert_string_not_equal(out[k], seeds[4]);
			assert_string_not_equal(out[k], seeds[5]);
		}
		hits[0] += strcmp(out[1], seeds[0]) == 0;
		hits[1] += strcmp(out[1], seeds[1]) == 0;
		hits[2] += strcmp(out[1], due) == 0;
	}
	assert_true(hits[0] > 200 && hits[1] > 200); /* uniform: about 300 each */
	assert_int_equal(hits[2], 0);
	/* a pending gap is chosen first */
	mycel__gossip_ops.gap(f.g, seeds[1]);
	assert_int_equal(mycel__gossip_pick(f.g, 1, out), 1);
	assert_string_equal(out[0], seeds[1]);
	/* once the ignore period is over, the peer is chosen again */
	fake_now += 100001;
	mycel__peer_info pi;
	assert_int_equal(mycel__gossip_peer(f.g, seeds[4], &pi), 0);
	assert_int_equal(pi.state, MYCEL__PEER_ALIVE);
	n = mycel__gossip_pick(f.g, 64, out);
	bool ign = false;
	for (size_t i = 0; i < n; i++)
		ign |= strcmp(out[i], seeds[4]) == 0;
	assert_true(ign);
	fx_teardown(&f);
}

/* ---- push queue
 * ------------------------------------------------------------------------------------------ */

static void commit_kind(fx *f, uint64_t seq, const char *kind, const uint8_t *body, size_t n)
{
	mycel_header h;
	mycel_entry e;
	memset(&h, 0, sizeof(h));
	memcpy(h.feed, f->k->pk, MYCEL_PK_LEN);
	h.seq = seq;
	h.has_prev = seq > 1;
	h.ts_ms = 1000 + seq;
	snprintf(h.kind, sizeof(h.kind), "%s", kind);
	mycel_body_hash(body, n, h.body_hash);
	assert_int_equal(mycel_entry_sign(&h, f->k, &e), 0);
	mycel__committed c = {.entry = &e, .body = body, .body_len = n};
	mycel__gossip_ops.committed(f->g, &c);
}

static void commit_one(fx *f, uint64_t seq, const uint8_t *body, size_t n)
{
	mycel_header h;
	mycel_entry e;
	memset(&h, 0, sizeof(h));
	memcpy(h.feed, f->k->pk, MYCEL_PK_LEN);
	h.seq = seq;
	h.has_prev = seq > 1;
	h.ts_ms = 1000 + seq;
	snprintf(h.kind, sizeof(h.kind), "contract");
	mycel_body_hash(body, n, h.body_hash);
	assert_int_equal(mycel_entry_sign(&h, f->k, &e), 0);
	mycel__committed c = {.entry = &e, .body = body, .body_len = n};
	mycel__gossip_ops.committed(f->g, &c);
}

static void test_push_queue_overflow(void **state)
{
	(void)state;
	fx f;
	fx_setup(&f, NULL, NULL, 0);
	uint8_t small[16] = {0};
	mycel__gossip_stats st;
	/* the engine is not started: nothing takes from the queue */
	for (uint64_t i = 1; i <= MYCEL__GOSSIP_QUEUE_MAX + 10; i++)
		commit_one(&f, i, small, sizeof(small));
	mycel__gossip_stats_get(f.g, &st);
	assert_int_equal(st.push_queued, MYCEL__GOSSIP_QUEUE_MAX);
	assert_int_equal(st.push_dropped, 10);
	fx_teardown(&f);

	/* the byte bound: 1 MiB bodies, at most 64 MiB kept */
	fx_setup(&f, NULL, NULL, 0);
	size_t big = (size_t)1 << 20;
	uint8_t *b = calloc(1, big);
	assert_non_null(b);
	for (uint64_t i = 1; i <= 100; i++)
		commit_one(&f, i, b, big);
	mycel__gossip_stats_get(f.g, &st);
	assert_true(st.push_queued < 64 && st.push_queued >= 60);
	assert_int_equal(st.push_queued + st.push_dropped, 100);
	free(b);
	fx_teardown(&f);

	/* entries of a bulk pull (more to come) are not pushed on; the rest of a pull is */
	fx_setup(&f, NULL, NULL, 0);
	{
		mycel_header h;
		mycel_entry e;
		memset(&h, 0, sizeof(h));
		memcpy(h.feed, f.k->pk, MYCEL_PK_LEN);
		h.seq = 1;
		h.ts_ms = 1001;
		snprintf(h.kind, sizeof(h.kind), "contract");
		mycel_body_hash(small, sizeof(small), h.body_hash);
		assert_int_equal(mycel_entry_sign(&h, f.k, &e), 0);
		mycel__committed c = {.entry = &e,
		                      .body = small,
		                      .body_len = sizeof(small),
		                      .from = "tcp://127.0.0.1:40",
		                      .hops = MYCEL__HOPS_NO_FORWARD};
		mycel__gossip_ops.committed(f.g, &c);
		mycel__gossip_stats_get(f.g, &st);
		assert_int_equal(st.push_queued, 0);
		c.hops = 0;
		mycel__gossip_ops.committed(f.g, &c);
		mycel__gossip_stats_get(f.g, &st);
		assert_int_equal(st.push_queued, 1);
	}
	fx_teardown(&f);

	/* push off: nothing is queued */
	mycel_gossip_opts o = {.no_push = true};
	fx_setup(&f, &o, NULL, 0);
	commit_one(&f, 1, small, sizeof(small));
	mycel__gossip_stats_get(f.g, &st);
	assert_int_equal(st.push_queued, 0);
	assert_int_equal(st.push_dropped, 0);
	fx_teardown(&f);
}

/* ---- ops
 * ------------------------------------------------------------------------------------------------
 */

static void test_ops(void **state)
{
	(void)state;
	fx f;
	mycel_gossip_opts o = {.reject_limit = 3, .ignore_ms = 10000};
	fx_setup(&f, &o, NULL, 0);
	const mycel__mesh_ops *ops = &mycel__gossip_ops;
	char why[256];

	/* inbound learning; never ourselves; bad URLs ignored */
	ops->peer_seen(f.g, "tcp://127.0.0.1:21");
	ops->peer_seen(f.g, SELF);
	ops->peer_seen(f.g, "http://x");
	ops->peer_seen(f.g, "tcp://");
	assert_int_equal(mycel__gossip_n_peers(f.g), 1);
	mycel__peer_info pi;
	assert_int_equal(mycel__gossip_peer(f.g, "tcp://127.0.0.1:21", &pi), 0);
	assert_int_equal(pi.source, MYCEL__SRC_INBOUND);
	assert_int_equal(logged("msg=\"peer learnt\" peer=\"tcp://127.0.0.1:21\" source=inbound"),
	                 1);

	/* admin add: clear refusals */
	assert_int_equal(ops->peer_add(f.g, SELF, why, sizeof(why)), MYCEL_EINVAL);
	assert_non_null(strstr(why, "own URL"));
	assert_int_equal(ops->peer_add(f.g, "udp://1.2.3.4:5", why, sizeof(why)), MYCEL_EINVAL);
	assert_non_null(strstr(why, "not a tcp:// or ipc:// URL"));
	assert_int_equal(ops->peer_add(f.g, "tcp://0.0.0.0:7401", why, sizeof(why)), MYCEL_EINVAL);
	assert_non_null(strstr(why, "names no host"));
	ops->peer_seen(f.g, "tcp://[::]:7401");
	assert_int_equal(mycel__gossip_peer(f.g, "tcp://[::]:7401", &pi), MYCEL_ENOTFOUND);
	assert_int_equal(ops->peer_add(f.g, "tcp://127.0.0.1:22", why, sizeof(why)), 0);
	/* an admin add of a learnt peer makes it an admin peer */
	assert_int_equal(ops->peer_add(f.g, "tcp://127.0.0.1:21", why, sizeof(why)), 0);
	assert_int_equal(mycel__gossip_peer(f.g, "tcp://127.0.0.1:21", &pi), 0);
	assert_int_equal(pi.source, MYCEL__SRC_ADMIN);
	assert_int_equal(ops->peer_remove(f.g, "tcp://127.0.0.1:99", why, sizeof(why)),
	                 MYCEL_ENOTFOUND);
	assert_non_null(strstr(why, "not a peer"));

	/* rejects: counted, logged once per reason, ignored past the limit */
	for (int i = 0; i < 3; i++)
		ops->rejected(f.g, "tcp://127.0.0.1:22", MYCEL_EBADSIG,
		              "feed 0a… seq 4: bad signature");
	assert_false(ops->ignored(f.g, "tcp://127.0.0.1:22"));
	ops->rejected(f.g, "tcp://127.0.0.1:22", MYCEL_EHASH, "feed 0a… seq 5: body hash");
	assert_true(ops->ignored(f.g, "tcp://127.0.0.1:22"));
	assert_false(ops->ignored(f.g, "tcp://127.0.0.1:21"));
	assert_int_equal(logged("msg=\"rejected\" peer=\"tcp://127.0.0.1:22\" err=EBADSIG"), 1);
	assert_int_equal(logged("msg=\"rejected\" peer=\"tcp://127.0.0.1:22\" err=EHASH"), 1);
	assert_int_equal(logged("to=ignored"), 1);
	fake_now += 10001;
	assert_false(ops->ignored(f.g, "tcp://127.0.0.1:22"));
	/* rejects spread over more than a minute do not add up */
	for (int i = 0; i < 3; i++) {
		ops->rejected(f.g, "tcp://127.0.0.1:21", MYCEL_EBADSIG, "x");
		fake_now += 30001;
	}
	ops->rejected(f.g, "tcp://127.0.0.1:21", MYCEL_EBADSIG, "x");
	assert_false(ops->ignored(f.g, "tcp://127.0.0.1:21"));

	/* the table as the handlers report it */
	mycel_arena *a = NULL;
	assert_int_equal(mycel_arena_new(1 << 20, &a), 0);
	void *vp = NULL;
	size_t n = 0;
	mycel__gossip_outcome(f.g, "tcp://127.0.0.1:22", false, "connection refused");
	assert_int_equal(ops->peers(f.g, a, &vp, &n), 0);
	assert_int_equal(n, 2);
	const mycel_msg_Peer *ps = vp;
	bool seen22 = false;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(ps[i].addr, "tcp://127.0.0.1:22") != 0)
			continue;
		seen22 = true;
		assert_string_equal(ps[i].state, "suspect");
		assert_string_equal(ps[i].source, "admin");
		assert_int_equal(ps[i].rejects, 4);
		assert_int_equal(ps[i].failures, 1);
		assert_false(ps[i].live); /* live: the last call succeeded */
		assert_string_equal(ps[i].last_error, "connection refused");
		assert_true(ps[i].has_next_try_ms && ps[i].next_try_ms > fake_now);
	}
	assert_true(seen22);
	mycel__gossip_outcome(f.g, "tcp://127.0.0.1:22", true, NULL);
	assert_int_equal(ops->peers(f.g, a, &vp, &n), 0);
	ps = vp;
	for (size_t i = 0; i < n; i++)
		if (strcmp(ps[i].addr, "tcp://127.0.0.1:22") == 0)
			assert_true(ps[i].live && strcmp(ps[i].state, "alive") == 0 &&
			            ps[i].last_seen_ms == fake_now && ps[i].last_error == NULL);
	mycel_arena_free(a);

	/* a gap asks for an exchange with the pusher, learning it if needed */
	ops->gap(f.g, "tcp://127.0.0.1:23");
	assert_int_equal(mycel__gossip_peer(f.g, "tcp://127.0.0.1:23", &pi), 0);
	char out[4][MYCEL_NODE_URL_MAX + 1];
	assert_int_equal(mycel__gossip_pick(f.g, 1, out), 1);
	assert_string_equal(out[0], "tcp://127.0.0.1:23");

	/* a signed domain profile names its nodes: they become peers (source "domain") */
	mycel_profile pr = {.title = "Sales",
	                    .description = "",
	                    .nodes = {"tcp://127.0.0.1:31", SELF, "not a url"},
	                    .n_nodes = 3};
	mycel_buf pb;
	mycel_buf_init(&pb, 1 << 16);
	assert_int_equal(mycel_profile_encode(&pr, &pb), 0);
	commit_kind(&f, 1, "domain", pb.data, pb.len);
	mycel_buf_fini(&pb);
	assert_int_equal(mycel__gossip_peer(f.g, "tcp://127.0.0.1:31", &pi), 0);
	assert_int_equal(pi.source, MYCEL__SRC_DOMAIN);
	assert_int_equal(mycel__gossip_peer(f.g, SELF, &pi), MYCEL_ENOTFOUND);
	assert_int_equal(logged("peer=\"tcp://127.0.0.1:31\" source=domain"), 1);
	{
		mycel_arena *da = NULL;
		void *dv = NULL;
		size_t dn = 0;
		assert_int_equal(mycel_arena_new(1 << 20, &da), 0);
		assert_int_equal(ops->peers(f.g, da, &dv, &dn), 0);
		bool found = false;
		for (size_t i = 0; i < dn; i++) {
			const mycel_msg_Peer *dp = &((const mycel_msg_Peer *)dv)[i];
			if (strcmp(dp->addr, "tcp://127.0.0.1:31") == 0) {
				found = true;
				assert_string_equal(dp->domain, "sales"); /* the profile's feed's */
				assert_string_equal(dp->source, "domain");
			}
		}
		assert_true(found);
		mycel_arena_free(da);
	}
	assert_int_equal(ops->peer_remove(f.g, "tcp://127.0.0.1:31", why, sizeof(why)), 0);

	/*
	 * A removed address stays removed: the signed profile again, the peer's own calls
	 * (`from`) and a push's gap do not bring it back, also after a restart of the engine;
	 * an admin add does.
	 */
	mycel_buf_init(&pb, 1 << 16);
	assert_int_equal(mycel_profile_encode(&pr, &pb), 0);
	commit_kind(&f, 2, "domain", pb.data, pb.len);
	ops->peer_seen(f.g, "tcp://127.0.0.1:31");
	ops->gap(f.g, "tcp://127.0.0.1:31");
	assert_int_equal(mycel__gossip_peer(f.g, "tcp://127.0.0.1:31", &pi), MYCEL_ENOTFOUND);
	mycel__gossip_free(f.g);
	f.g = NULL;
	fx_open(&f, &o, NULL, 0);
	commit_kind(&f, 3, "domain", pb.data, pb.len);
	ops->peer_seen(f.g, "tcp://127.0.0.1:31");
	assert_int_equal(mycel__gossip_peer(f.g, "tcp://127.0.0.1:31", &pi), MYCEL_ENOTFOUND);
	assert_int_equal(ops->peer_add(f.g, "tcp://127.0.0.1:31", why, sizeof(why)), 0);
	assert_int_equal(mycel__gossip_peer(f.g, "tcp://127.0.0.1:31", &pi), 0);
	assert_int_equal(pi.source, MYCEL__SRC_ADMIN);
	assert_int_equal(ops->peer_remove(f.g, "tcp://127.0.0.1:31", why, sizeof(why)), 0);
	/* an address never removed is learnt from the same profile */
	mycel_profile pr2 = {.title = "Sales", .description = "", .nodes = {"tcp://127.0.0.1:32"},
	                     .n_nodes = 1};
	mycel_buf_fini(&pb);
	mycel_buf_init(&pb, 1 << 16);
	assert_int_equal(mycel_profile_encode(&pr2, &pb), 0);
	commit_kind(&f, 4, "domain", pb.data, pb.len);
	mycel_buf_fini(&pb);
	assert_int_equal(mycel__gossip_peer(f.g, "tcp://127.0.0.1:32", &pi), 0);
	assert_int_equal(pi.source, MYCEL__SRC_DOMAIN);
	assert_int_equal(ops->peer_remove(f.g, "tcp://127.0.0.1:32", why, sizeof(why)), 0);

	/* admin peers survive a restart of the engine; others do not; removal too */
	mycel__gossip_free(f.g);
	f.g = NULL;
	fx_open(&f, &o, NULL, 0);
	assert_int_equal(mycel__gossip_n_peers(f.g), 2);
	assert_int_equal(mycel__gossip_peer(f.g, "tcp://127.0.0.1:22", &pi), 0);
	assert_int_equal(pi.source, MYCEL__SRC_ADMIN);
	assert_int_equal(pi.rejects, 0);
	assert_int_equal(mycel__gossip_peer(f.g, "tcp://127.0.0.1:23", &pi), MYCEL_ENOTFOUND);
	assert_int_equal(ops->peer_remove(f.g, "tcp://127.0.0.1:22", why, sizeof(why)), 0);
	mycel__gossip_free(f.g);
	f.g = NULL;
	fx_open(&f, &o, NULL, 0);
	assert_int_equal(mycel__gossip_n_peers(f.g), 1);
	assert_int_equal(mycel__gossip_peer(f.g, "tcp://127.0.0.1:22", &pi), MYCEL_ENOTFOUND);
	fx_teardown(&f);
}

/* Options out of range are refused before anything starts. */
static void test_bad_options(void **state)
{
	(void)state;
	fx f;
	fx_setup(&f, NULL, NULL, 0);
	mycel__gossip *g = NULL;
	mycel__gossip_env env = {.ctx = &f.ctx};
	char why[256] = "";
	mycel_gossip_opts o = {.interval_ms = 5};
	assert_int_equal(mycel__gossip_new(&o, &env, NULL, 0, &g, why, sizeof(why)), MYCEL_EINVAL);
	assert_non_null(strstr(why, "interval_ms"));
	assert_null(g);
	static const char *const bad[] = {"tcp://127.0.0.1:1", "ftp://x"};
	/* our own URL in the seeds is skipped; a bad seed is refused */
	assert_int_equal(mycel__gossip_new(NULL, &env, bad, 2, &g, why, sizeof(why)), MYCEL_EINVAL);
	assert_null(g);
	assert_int_equal(mycel__gossip_new(NULL, &env, bad, 1, &g, why, sizeof(why)), 0);
	assert_int_equal(mycel__gossip_n_peers(g), 0);
	mycel__gossip_free(g);
	/* a node is refused a seed it could never dial, before anything is opened */
	static const char *const wild[] = {"tcp://10.0.0.2:7401", "tcp://0.0.0.0:7401"};
	mycel_node_opts no = {.data = f.dir, .peers = wild, .n_peers = 2};
	mycel_node *n = NULL;
	assert_int_equal(mycel_node_open(&no, &n, why, sizeof(why)), MYCEL_EINVAL);
	assert_null(n);
	assert_non_null(strstr(why, "--peer 2: tcp://0.0.0.0:7401 names no host"));
	mycel_gossip_opts wide = {.fanout = 100};
	mycel_node_opts nb = {.data = f.dir, .gossip = wide};
	assert_int_equal(mycel_node_open(&nb, &n, why, sizeof(why)), MYCEL_EINVAL);
	assert_non_null(strstr(why, "fanout"));
	fx_teardown(&f);
}

/*
 * A peer that takes requests and never answers: a round's exchange with it is in flight
 * when the engine stops; stop aborts the call and returns long before the call's deadline,
 * with every thread joined, and the aborted call is not held against the peer.
 */
static void test_stop_while_hung(void **state)
{
	(void)state;
	nng_socket rep;
	nng_listener l;
	assert_int_equal(nng_rep0_open(&rep), 0);
	assert_int_equal(nng_listener_create(&l, rep, "tcp://127.0.0.1:0"), 0);
	assert_int_equal(nng_listener_start(l, 0), 0);
	int port = 0;
	assert_int_equal(nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port), 0);
	char url[64];
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);

	fx f;
	static const char *seeds[1];
	seeds[0] = url;
	mycel_gossip_opts o = {.interval_ms = 10, .rpc_timeout_ms = 30000};
	fx_setup(&f, &o, seeds, 1);
	assert_int_equal(mycel__gossip_start(f.g), 0);
	/* wait (bounded) for the engine's Digest to arrive: the exchange is now in flight */
	assert_int_equal(nng_socket_set_ms(rep, NNG_OPT_RECVTIMEO, (nng_duration)WAIT_MS), 0);
	nng_msg *m = NULL;
	assert_int_equal(nng_recvmsg(rep, &m, 0), 0);
	assert_non_null(memmem(nng_msg_body(m), nng_msg_len(m), "Mesh/Digest", 11));
	nng_msg_free(m);
	uint64_t t0 = tc_now_ms();
	mycel__gossip_stop(f.g);
	uint64_t took = tc_now_ms() - t0;
	printf("# stop with an exchange in flight (rpc_timeout_ms 30000) took %llu ms\n",
	       (unsigned long long)took);
	assert_true(took < 2000); /* the call was aborted, not waited for */
	mycel__gossip_stats st;
	mycel__gossip_stats_get(f.g, &st);
	assert_true(st.exchanges >= 1);
	assert_int_equal(st.exchanges_ok, 0);
	mycel__peer_info pi;
	assert_int_equal(mycel__gossip_peer(f.g, url, &pi), 0);
	assert_int_equal(pi.failures, 0);
	assert_int_equal(pi.state, MYCEL__PEER_ALIVE);
	/* stop is idempotent; free after stop */
	mycel__gossip_stop(f.g);
	fx_teardown(&f);
	nng_close(rep);
}

/* ---- in-process nodes
 * ------------------------------------------------------------------------------------ */

typedef struct mesh {
	char base[128];
	size_t n;
	mycel_node *nodes[8];
	uint8_t feed[MYCEL_PK_LEN];
} mesh;

static void mesh_open(mesh *m, size_t n, const mycel_gossip_opts *go)
{
	char why[512] = "", dir[256];
	memset(m, 0, sizeof(*m));
	m->n = n;
	tc_tmpdir("gossip-mesh", m->base, sizeof(m->base));
	/* node 0 serves the domain "sales"; the others bare stores of the same mesh */
	snprintf(dir, sizeof(dir), "%s/n0", m->base);
	mycel_key *k = tc_domain_dir(dir, "sales", "acme", NULL, 0);
	memcpy(m->feed, k->pk, MYCEL_PK_LEN);
	mycel_key_free(k);
	mycel_node_opts o = {.data = dir,
	                     .listen = "tcp://127.0.0.1:0",
	                     .workers = 2,
	                     .admin_workers = 1,
	                     .gossip = *go};
	if (mycel_node_open(&o, &m->nodes[0], why, sizeof(why)) != 0)
		fail_msg("node 0: %s", why);
	mycel_buf ch;
	mycel_buf_init(&ch, MYCEL_CHARTER_MAX);
	assert_int_equal(
	    mycel_charter_encode(mycel_store_charter(mycel_node_store(m->nodes[0])), &ch), 0);
	for (size_t i = 1; i < n; i++) {
		snprintf(dir, sizeof(dir), "%s/n%zu", m->base, i);
		mycel_store_close(tc_store_new(dir, ch.data, ch.len));
		o.data = dir;
		if (mycel_node_open(&o, &m->nodes[i], why, sizeof(why)) != 0)
			fail_msg("node %zu: %s", i, why);
	}
	mycel_buf_fini(&ch);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(mycel_node_start(m->nodes[i]), 0);
	/* a ring through the admin ops; the rest is learnt from inbound Digest/Push */
	for (size_t i = 0; i < n; i++) {
		mycel__gossip *g = mycel__node_gossip(m->nodes[i]);
		assert_non_null(g);
		const char *next = mycel_node_url(m->nodes[(i + 1) % n]);
		assert_int_equal(mycel__gossip_ops.peer_add(g, next, why, sizeof(why)), 0);
	}
}

static void mesh_close(mesh *m)
{
	for (size_t i = 0; i < m->n; i++)
		mycel_node_close(m->nodes[i]);
	(void)tc_rm_rf(m->base);
}

static uint64_t head_of(mycel_node *n, const uint8_t *feed)
{
	uint64_t seq = 0;
	uint8_t id[MYCEL_HASH_LEN];
	return mycel_store_head(mycel_node_store(n), feed, &seq, id) == 0 ? seq : 0;
}

/* Publishes one contract version on node 0 through its admin socket. */
static void publish(mesh *m, const char *id, const char *version)
{
	char doc[512];
	snprintf(doc, sizeof(doc),
	         "apiVersion: v3.0.2\nkind: DataContract\nid: %s\nname: %s\nversion: %s\n"
	         "status: active\ndomain: sales\n",
	         id, id, version);
	mycel_msg_PublishDoc d = {.document = (const uint8_t *)doc, .document_len = strlen(doc)};
	mycel_msg_PublishRequest rq = {.documents = &d, .n_documents = 1};
	mycel_buf b;
	mycel_buf_init(&b, 1 << 16);
	assert_int_equal(mycel_msg_PublishRequest_encode(&rq, &b), 0);
	mycel_client *c = NULL;
	assert_int_equal(mycel_client_open(mycel_node_admin_url(m->nodes[0]), &c), 0);
	uint64_t st = 99;
	char *msg = NULL;
	uint8_t *body = NULL;
	size_t len = 0;
	assert_int_equal(mycel_client_call(c, "mycel.v1.Admin/Publish", tc_now_ms() + WAIT_MS,
	                                   b.data, b.len, &st, &msg, &body, &len),
	                 0);
	if (st != MYCEL_RPC_OK)
		fail_msg("publish: %s", msg);
	free(msg);
	free(body);
	mycel_client_close(c);
	mycel_buf_fini(&b);
}

/*
 * Waits (bounded: WAIT_MS) until every node holds seq of node 0's feed; returns the ms it
 * took. Polls the stores every 2 ms: the condition is the outcome itself, not a guess.
 */
static uint64_t wait_converged(mesh *m, uint64_t seq)
{
	uint64_t t0 = tc_now_ms();
	for (;;) {
		size_t ok = 0;
		for (size_t i = 0; i < m->n; i++)
			ok += head_of(m->nodes[i], m->feed) >= seq;
		if (ok == m->n)
			return tc_now_ms() - t0;
		if (tc_now_ms() - t0 > WAIT_MS)
			fail_msg("only %zu of %zu nodes hold seq %llu after %u ms", ok, m->n,
			         (unsigned long long)seq, WAIT_MS);
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
	}
}

static void run_mesh(size_t n, bool push, const char *label)
{
	mesh m;
	mycel_gossip_opts go = {
	    .interval_ms = 200, .fanout = 2, .rpc_timeout_ms = 2000, .no_push = !push};
	mesh_open(&m, n, &go);
	uint64_t rounds0 = 0;
	for (size_t i = 0; i < n; i++) {
		mycel__gossip_stats st;
		mycel__gossip_stats_get(mycel__node_gossip(m.nodes[i]), &st);
		rounds0 += st.rounds;
	}
	publish(&m, "orders", "1.0.0");
	assert_int_equal(head_of(m.nodes[0], m.feed), 1);
	uint64_t ms = wait_converged(&m, 1);
	uint64_t rounds = 0;
	for (size_t i = 0; i < n; i++) {
		mycel__gossip_stats st;
		mycel__gossip_stats_get(mycel__node_gossip(m.nodes[i]), &st);
		rounds += st.rounds;
	}
	/* node 0's rounds since the publish, and ms: the figures the report quotes */
	printf("# %s: %zu nodes, push %s: converged in %llu ms, %.1f rounds per node\n", label, n,
	       push ? "on" : "off", (unsigned long long)ms, (double)(rounds - rounds0) / (double)n);

	/* a second version: the others follow again, whatever the first left in flight */
	publish(&m, "orders", "1.1.0");
	(void)wait_converged(&m, 2);

	/* in sync: one Digest round trip is the whole cost */
	uint64_t bytes = 0;
	mycel__gossip *g0 = mycel__node_gossip(m.nodes[0]);
	const char *u1 = mycel_node_url(m.nodes[1]);
	/* a second exchange: the first one after a while re-announces our URL */
	assert_int_equal(mycel__gossip_exchange(g0, u1, &bytes), 0);
	assert_int_equal(mycel__gossip_exchange(g0, u1, &bytes), 0);
	printf("# %s: in sync, one exchange costs %llu bytes (request + reply)\n", label,
	       (unsigned long long)bytes);
	assert_true(bytes > 0 && bytes <= 200);
	mycel__peer_info pi;
	assert_int_equal(mycel__gossip_peer(g0, u1, &pi), 0);
	assert_int_equal(pi.state, MYCEL__PEER_ALIVE);
	mesh_close(&m);
}

static void test_three_nodes(void **state)
{
	(void)state;
	run_mesh(3, true, "three");
}

static void test_three_nodes_no_push(void **state)
{
	(void)state;
	run_mesh(3, false, "three-anti-entropy");
}

static void test_eight_nodes(void **state)
{
	(void)state;
	run_mesh(8, true, "eight");
}

static void test_eight_nodes_no_push(void **state)
{
	(void)state;
	run_mesh(8, false, "eight-anti-entropy");
}

/*
 * A push that does not follow the receiver's head (a gap) makes the receiver pull from the
 * pusher at once: no rounds run here (interval one hour), so only the gap can do it.
 */
static void test_gap_pulls(void **state)
{
	(void)state;
	mesh m;
	char why[512] = "";
	mycel_gossip_opts go = {.interval_ms = 3600000};
	mesh_open(&m, 2, &go); /* a ring of two: 0 knows 1, 1 knows 0 */
	mycel__gossip *g0 = mycel__node_gossip(m.nodes[0]);
	/* node 0 forgets node 1 while it publishes version 1: nothing is pushed */
	const char *u1 = mycel_node_url(m.nodes[1]);
	assert_int_equal(mycel__gossip_remove(g0, u1, why, sizeof(why)), 0);
	publish(&m, "orders", "1.0.0");
	/* wait (bounded) until the pusher has dealt with it: no target then */
	uint64_t t0 = tc_now_ms();
	for (mycel__gossip_stats st = {0}; st.push_batches == 0;) {
		mycel__gossip_stats_get(g0, &st);
		if (tc_now_ms() - t0 > WAIT_MS)
			fail_msg("the pusher did not take the entry");
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	assert_int_equal(head_of(m.nodes[1], m.feed), 0);
	/* back as a peer: version 2 is pushed alone, node 1 sees the gap and pulls both */
	assert_int_equal(mycel__gossip_add(g0, u1, MYCEL__SRC_ADMIN, why, sizeof(why)), 0);
	publish(&m, "orders", "1.1.0");
	uint64_t ms = wait_converged(&m, 2);
	printf("# gap: a push over a gap was repaired by a pull in %llu ms\n",
	       (unsigned long long)ms);
	/* the engine counts a pull just after the commit the store already shows: wait for it */
	mycel__gossip_stats s1;
	uint64_t t1 = tc_now_ms();
	for (;;) {
		mycel__gossip_stats_get(mycel__node_gossip(m.nodes[1]), &s1);
		if (s1.pulled >= 1)
			break;
		if (tc_now_ms() - t1 > WAIT_MS)
			fail_msg("node 1 holds the entries but counted no pull after %u ms", WAIT_MS);
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	assert_int_equal(s1.rounds, 1); /* the round the gap asked for */
	mesh_close(&m);
}

/* Publishes n contract ids (t0000, t0001, ...) on node 0 in one Publish: n entries. */
static void publish_many(mesh *m, size_t n)
{
	enum { DOC_CAP = 160 };
	char *docs = malloc(n * DOC_CAP);
	mycel_msg_PublishDoc *d = calloc(n, sizeof(*d));
	assert_non_null(docs);
	assert_non_null(d);
	for (size_t i = 0; i < n; i++) {
		char *doc = docs + i * DOC_CAP;
		int len = snprintf(doc, DOC_CAP,
		                   "apiVersion: v3.0.2\nkind: DataContract\nid: t%04zu\nname: t%04zu\n"
		                   "version: 1.0.0\nstatus: active\ndomain: sales\n",
		                   i, i);
		assert_true(len > 0 && len < DOC_CAP);
		d[i].document = (const uint8_t *)doc;
		d[i].document_len = (size_t)len;
	}
	mycel_msg_PublishRequest rq = {.documents = d, .n_documents = n};
	mycel_buf b;
	mycel_buf_init(&b, (size_t)1 << 20);
	assert_int_equal(mycel_msg_PublishRequest_encode(&rq, &b), 0);
	mycel_client *c = NULL;
	assert_int_equal(mycel_client_open(mycel_node_admin_url(m->nodes[0]), &c), 0);
	uint64_t st = 99;
	char *msg = NULL;
	uint8_t *body = NULL;
	size_t len = 0;
	assert_int_equal(mycel_client_call(c, "mycel.v1.Admin/Publish", tc_now_ms() + WAIT_MS,
	                                   b.data, b.len, &st, &msg, &body, &len),
	                 0);
	if (st != MYCEL_RPC_OK)
		fail_msg("publish: %s", msg);
	free(msg);
	free(body);
	mycel_client_close(c);
	mycel_buf_fini(&b);
	free(d);
	free(docs);
}

/*
 * A pull of many batches (two fetched and verified ahead of the one committed) brings every
 * entry, in order, each counted once: 400 entries in batches of 64, by one exchange (no
 * rounds, no push).
 */
static void test_pull_many_batches(void **state)
{
	(void)state;
	mesh m;
	mycel_gossip_opts go = {
	    .interval_ms = 3600000, .no_push = true, .batch_entries = 64, .verify_threads = 2};
	mesh_open(&m, 2, &go);
	publish_many(&m, 400);
	assert_int_equal(head_of(m.nodes[0], m.feed), 400);
	assert_int_equal(head_of(m.nodes[1], m.feed), 0);
	mycel__gossip *g1 = mycel__node_gossip(m.nodes[1]);
	uint64_t bytes = 0;
	assert_int_equal(mycel__gossip_exchange(g1, mycel_node_url(m.nodes[0]), &bytes), 0);
	assert_int_equal(head_of(m.nodes[1], m.feed), 400);
	mycel__gossip_stats st;
	mycel__gossip_stats_get(g1, &st);
	assert_int_equal(st.pulled, 400);
	/* the same head on both: the chain came whole */
	uint64_t s0 = 0, s1 = 0;
	uint8_t h0[MYCEL_HASH_LEN], h1[MYCEL_HASH_LEN];
	assert_int_equal(mycel_store_head(mycel_node_store(m.nodes[0]), m.feed, &s0, h0), 0);
	assert_int_equal(mycel_store_head(mycel_node_store(m.nodes[1]), m.feed, &s1, h1), 0);
	assert_int_equal(s0, s1);
	assert_memory_equal(h0, h1, MYCEL_HASH_LEN);
	mesh_close(&m);
}

/* Node logs of the in-process meshes, for the checks on what nodes log. */
static void node_log(void *ctx, mycel_node_level lv, const char *line)
{
	log_capture(ctx, lv, line);
}

/* A node of another mesh is refused, and that is logged once per peer. */
static void test_other_mesh(void **state)
{
	(void)state;
	mesh m;
	char why[512] = "", dir[256];
	mycel_gossip_opts go = {.interval_ms = 3600000}; /* rounds only when asked */
	mesh_open(&m, 2, &go);
	snprintf(dir, sizeof(dir), "%s/other", m.base);
	mycel_key_free(tc_domain_dir(dir, "sales", "other", NULL, 0));
	mycel_node_opts o = {.data = dir,
	                     .listen = "tcp://127.0.0.1:0",
	                     .workers = 1,
	                     .admin_workers = 1,
	                     .gossip = go};
	mycel_node *other = NULL;
	if (mycel_node_open(&o, &other, why, sizeof(why)) != 0)
		fail_msg("other: %s", why);
	assert_int_equal(mycel_node_start(other), 0);
	mycel_node_close(m.nodes[0]);
	/* node 0 again, logging */
	log_reset();
	snprintf(dir, sizeof(dir), "%s/n0", m.base);
	mycel_node_opts o0 = {.data = dir,
	                      .listen = "tcp://127.0.0.1:0",
	                      .workers = 1,
	                      .admin_workers = 1,
	                      .gossip = go,
	                      .log = node_log};
	if (mycel_node_open(&o0, &m.nodes[0], why, sizeof(why)) != 0)
		fail_msg("node 0: %s", why);
	assert_int_equal(mycel_node_start(m.nodes[0]), 0);
	mycel__gossip *g0 = mycel__node_gossip(m.nodes[0]);
	const char *ou = mycel_node_url(other);
	assert_int_equal(mycel__gossip_ops.peer_add(g0, ou, why, sizeof(why)), 0);
	assert_true(mycel__gossip_exchange(g0, ou, NULL) != 0);
	assert_true(mycel__gossip_exchange(g0, ou, NULL) != 0);
	assert_int_equal(logged("msg=\"other mesh\""), 1);
	mycel__peer_info pi;
	assert_int_equal(mycel__gossip_peer(g0, ou, &pi), 0);
	assert_int_equal(pi.state, MYCEL__PEER_SUSPECT);
	assert_non_null(strstr(pi.last_error, "FAILED_PRECONDITION"));
	/* and nothing of the other mesh came in */
	size_t forks = 0;
	assert_int_equal(mycel_store_fork_count(mycel_node_store(m.nodes[0]), &forks), 0);
	mycel_node_close(other);
	mesh_close(&m);
}

static int count_feed(void *ctx, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
                      const uint8_t *head)
{
	(void)feed;
	(void)seq;
	(void)head;
	(*(size_t *)ctx)++;
	return 0;
}

static size_t feeds_of(mycel_node *n)
{
	size_t k = 0;
	assert_int_equal(mycel_store_feeds(mycel_node_store(n), count_feed, &k), 0);
	return k;
}

#define BIG_FEEDS 80u

/*
 * Three bare stores of one mesh of 80 domains: node 0 holds 70 feeds, node 1 the other 10
 * (two entries each) and the charter's version 2, node 2 nothing. Frontiers over 64 feeds
 * are compared by buckets; each pulls what it lacks and pushes what the other lacks; the
 * newer charter is adopted everywhere. Then a forged second entry at seq 1 of one feed,
 * pushed to node 2, makes every node hold the fork proof.
 */
static void test_large_frontier_charter_fork(void **state)
{
	(void)state;
	char base[128], dir[256], why[512] = "";
	tc_tmpdir("gossip-big", base, sizeof(base));
	mycel_key *gov = tc_seed_key(1);
	mycel_key *keys[BIG_FEEDS];
	char names[BIG_FEEDS][8];
	const char *np[BIG_FEEDS];
	for (size_t i = 0; i < BIG_FEEDS; i++) {
		keys[i] = tc_seed_key((uint8_t)(10 + i));
		snprintf(names[i], sizeof(names[i]), "d%zu", i);
		np[i] = names[i];
	}
	mycel_buf ch;
	tc_genesis("acme", gov, np, (const mycel_key *const *)keys, BIG_FEEDS, &ch, NULL);
	/* version 2: one more member, signed by gov (threshold 1) */
	mycel_charter *c1 = NULL, *c2 = NULL;
	assert_int_equal(mycel_charter_decode(ch.data, ch.len, &c1, why, sizeof(why)), 0);
	assert_int_equal(mycel_charter_new("acme", 2, 1, &c2), 0);
	assert_int_equal(mycel_charter_add_member(c2, "gov", gov->pk), 0);
	mycel_key *gov2 = tc_seed_key(2);
	assert_int_equal(mycel_charter_add_member(c2, "gov2", gov2->pk), 0);
	for (size_t i = 0; i < BIG_FEEDS; i++)
		assert_int_equal(mycel_charter_add_domain(c2, names[i], keys[i]->pk), 0);
	assert_int_equal(mycel_charter_sign(c2, gov, why, sizeof(why)), 0);
	mycel_buf ch2;
	mycel_buf_init(&ch2, MYCEL_CHARTER_MAX);
	assert_int_equal(mycel_charter_encode(c2, &ch2), 0);
	mycel_charter_free(c1);
	mycel_charter_free(c2);
	mycel_key_free(gov2);

	mycel_node *nodes[3];
	mycel_gossip_opts go = {.interval_ms = 100, .fanout = 2};
	for (size_t i = 0; i < 3; i++) {
		snprintf(dir, sizeof(dir), "%s/n%zu", base, i);
		mycel_store *s = tc_store_new(dir, ch.data, ch.len);
		if (i == 0)
			for (size_t k = 0; k < 70; k++)
				tc_put_contract(s, keys[k], "orders", "1.0.0", "Orders", NULL);
		if (i == 1) {
			for (size_t k = 70; k < BIG_FEEDS; k++) {
				tc_put_contract(s, keys[k], "orders", "1.0.0", "Orders", NULL);
				tc_put_contract(s, keys[k], "orders", "1.1.0", "Orders", NULL);
			}
			assert_int_equal(
			    mycel_store_add_charter(s, ch2.data, ch2.len, why, sizeof(why)), 0);
		}
		mycel_store_close(s);
		mycel_node_opts o = {.data = dir,
		                     .listen = "tcp://127.0.0.1:0",
		                     .workers = 2,
		                     .admin_workers = 1,
		                     .gossip = go};
		if (mycel_node_open(&o, &nodes[i], why, sizeof(why)) != 0)
			fail_msg("node %zu: %s", i, why);
	}
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(mycel_node_start(nodes[i]), 0);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(mycel__gossip_ops.peer_add(mycel__node_gossip(nodes[i]),
		                                            mycel_node_url(nodes[(i + 1) % 3]), why,
		                                            sizeof(why)),
		                 0);
	uint64_t t0 = tc_now_ms();
	for (;;) {
		size_t ok = 0;
		for (size_t i = 0; i < 3; i++) {
			const mycel_charter *c = mycel_store_charter(mycel_node_store(nodes[i]));
			ok += feeds_of(nodes[i]) == BIG_FEEDS &&
			      head_of(nodes[i], keys[BIG_FEEDS - 1]->pk) == 2 && c != NULL &&
			      mycel_charter_version(c) == 2;
		}
		if (ok == 3)
			break;
		if (tc_now_ms() - t0 > WAIT_MS)
			fail_msg("only %zu of 3 nodes hold %u feeds and charter v2", ok, BIG_FEEDS);
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
	}
	printf("# big: 3 nodes, %u feeds over 64 (buckets), charter v2: converged in %llu ms\n",
	       BIG_FEEDS, (unsigned long long)(tc_now_ms() - t0));

	/* a fork: another entry at seq 1 of feed d5, pushed to node 2 alone */
	mycel_buf body;
	mycel_buf_init(&body, 1 << 16);
	mycel_enc_map(&body, 6);
	mycel_enc_cstr(&body, "apiVersion");
	mycel_enc_cstr(&body, "v3.0.2");
	mycel_enc_cstr(&body, "id");
	mycel_enc_cstr(&body, "orders");
	mycel_enc_cstr(&body, "kind");
	mycel_enc_cstr(&body, "DataContract");
	mycel_enc_cstr(&body, "name");
	mycel_enc_cstr(&body, "Forged");
	mycel_enc_cstr(&body, "status");
	mycel_enc_cstr(&body, "active");
	mycel_enc_cstr(&body, "version");
	mycel_enc_cstr(&body, "1.0.0");
	assert_int_equal(body.err, 0);
	mycel_header h;
	memset(&h, 0, sizeof(h));
	memcpy(h.feed, keys[5]->pk, MYCEL_PK_LEN);
	h.seq = 1;
	h.ts_ms = tc_now_ms();
	snprintf(h.kind, sizeof(h.kind), "contract");
	mycel_body_hash(body.data, body.len, h.body_hash);
	mycel_entry e;
	assert_int_equal(mycel_entry_sign(&h, keys[5], &e), 0);
	mycel_msg_Entry me = {
	    .entry = e.raw, .entry_len = e.len, .body = body.data, .body_len = body.len};
	mycel_msg_PushRequest pr = {.entries = &me, .n_entries = 1, .has_hops = true, .hops = 0};
	mycel_buf rq;
	mycel_buf_init(&rq, 1 << 20);
	assert_int_equal(mycel_msg_PushRequest_encode(&pr, &rq), 0);
	mycel_client *cl = NULL;
	assert_int_equal(mycel_client_open(mycel_node_url(nodes[2]), &cl), 0);
	uint64_t st = 99;
	char *msg = NULL;
	uint8_t *rb = NULL;
	size_t rl = 0;
	assert_int_equal(mycel_client_call(cl, "mycel.v1.Mesh/Push", tc_now_ms() + WAIT_MS, rq.data,
	                                   rq.len, &st, &msg, &rb, &rl),
	                 0);
	assert_int_equal(st, MYCEL_RPC_OK);
	free(msg);
	free(rb);
	mycel_client_close(cl);
	mycel_buf_fini(&rq);
	mycel_buf_fini(&body);
	t0 = tc_now_ms();
	for (;;) {
		size_t ok = 0;
		for (size_t i = 0; i < 3; i++) {
			size_t k = 0;
			assert_int_equal(mycel_store_fork_count(mycel_node_store(nodes[i]), &k), 0);
			ok += k >= 1;
		}
		if (ok == 3)
			break;
		if (tc_now_ms() - t0 > WAIT_MS)
			fail_msg("only %zu of 3 nodes hold the fork proof", ok);
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
	}
	printf("# big: a fork proof reached 3 nodes in %llu ms\n",
	       (unsigned long long)(tc_now_ms() - t0));

	for (size_t i = 0; i < 3; i++)
		mycel_node_close(nodes[i]);
	for (size_t i = 0; i < BIG_FEEDS; i++)
		mycel_key_free(keys[i]);
	mycel_key_free(gov);
	mycel_buf_fini(&ch);
	mycel_buf_fini(&ch2);
	(void)tc_rm_rf(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backoff_jitter_bounds),
	    cmocka_unit_test(test_state_transitions),
	    cmocka_unit_test(test_pick),
	    cmocka_unit_test(test_push_queue_overflow),
	    cmocka_unit_test(test_ops),
	    cmocka_unit_test(test_bad_options),
	    cmocka_unit_test(test_stop_while_hung),
	    cmocka_unit_test(test_three_nodes),
	    cmocka_unit_test(test_three_nodes_no_push),
	    cmocka_unit_test(test_eight_nodes),
	    cmocka_unit_test(test_eight_nodes_no_push),
	    cmocka_unit_test(test_other_mesh),
	    cmocka_unit_test(test_gap_pulls),
	    cmocka_unit_test(test_pull_many_batches),
	    cmocka_unit_test(test_large_frontier_charter_fork),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
