/*
 * test_client.c — the libmycel client (include/mycel/client.h) and the Mesh Charter and
 * Pull handlers (src/rpc_mesh.c).
 *
 * A store (mkdtemp, removed at the end) of a mesh "acme" admitting domains alpha, beta
 * and sales holds three alpha contracts and one beta product. The typed calls work over
 * the in-process transport and over a real node (mycel_node_open on tcp://127.0.0.1:0,
 * serving a copy of the store); the charter is fetched trust-on-first-use or pinned by
 * mesh id. A fake node (an nng rep0 socket on tcp://127.0.0.1:0, in a thread) answers
 * Get with forged replies: a tampered signature, an entry of a feed the charter does not
 * admit, a body that does not match its hash, a valid entry of another document, an
 * entry claimed for another domain; each is refused with an error naming it, and accepted
 * only with verification turned off. Pull returns feed ranges in order within its bounds
 * and says `more` when cut; Charter honours `have`. Publish and Deprecate over the local
 * transport return entries the client verified.
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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "mycel/charter.h"
#include "mycel/client.h"
#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/node.h"
#include "mycel/rpc.h"
#include "mycel/store.h"
#include "mycel_proto.h"

#include "common.h"

typedef struct fx {
	char dir[64];      /* the test's temp directory */
	char store[96];    /* the store the local client serves */
	char nodedir[96];  /* the copy the node serves */
	mycel_key *gov, *a, *b, *sales, *rogue;
	uint8_t *charter;  /* the charter file bytes */
	size_t charter_len;
	uint8_t mesh_id[MYCEL_HASH_LEN];
	mycel_store *s;
	mycel_rpc_ctx ctx;
	mycel_client *local;
	mycel_arena *ar;
	/* the fake node */
	nng_socket fake;
	char fake_url[128];
	pthread_t fake_thread;
	pthread_mutex_t mu;
	uint8_t *fake_reply; /* the reply envelope it sends to every request */
	size_t fake_reply_len;
} fx;

static fx *F;

/*
 * The fake node: answers every request with F->fake_reply until the socket closes, but a
 * Mesh/Pull (a client learning a feed's key entries, PROTOCOL.md §5.4) with an empty
 * PullReply: the feeds of these tests were never rotated.
 */
static void *fake_main(void *arg)
{
	static const char pull[] = "mycel.v1.Mesh/Pull";
	static const uint8_t empty_pull[] = {0x94, 0x01, 0x00, 0xa0, 0xc4, 0x01, 0x90};
	(void)arg;
	for (;;) {
		nng_msg *m = NULL;
		if (nng_recvmsg(F->fake, &m, 0) != 0)
			return NULL;
		bool is_pull = memmem(nng_msg_body(m), nng_msg_len(m), pull, sizeof(pull) - 1) != NULL;
		pthread_mutex_lock(&F->mu);
		nng_msg_clear(m);
		int rv = is_pull ? nng_msg_append(m, empty_pull, sizeof(empty_pull))
				 : nng_msg_append(m, F->fake_reply, F->fake_reply_len);
		pthread_mutex_unlock(&F->mu);
		if (rv != 0 || nng_sendmsg(F->fake, m, 0) != 0)
			nng_msg_free(m);
	}
}

static int group_setup(void **state)
{
	static const char *const names[] = {"alpha", "beta", "sales"};
	mycel_buf cb;
	char why[256] = "";
	F = calloc(1, sizeof(*F));
	assert_non_null(F);
	F->gov = tc_seed_key(0x01);
	F->a = tc_seed_key(0xa1);
	F->b = tc_seed_key(0xb2);
	F->sales = tc_seed_key(0x5a);
	F->rogue = tc_seed_key(0x66);
	const mycel_key *const keys[] = {F->a, F->b, F->sales};
	tc_genesis("acme", F->gov, names, keys, 3, &cb, F->mesh_id);
	F->charter = malloc(cb.len);
	assert_non_null(F->charter);
	memcpy(F->charter, cb.data, cb.len);
	F->charter_len = cb.len;
	mycel_buf_fini(&cb);

	tc_tmpdir("client", F->dir, sizeof(F->dir));
	snprintf(F->store, sizeof(F->store), "%s/store", F->dir);
	snprintf(F->nodedir, sizeof(F->nodedir), "%s/node", F->dir);
	F->s = tc_store_new(F->store, F->charter, F->charter_len);
	tc_put_contract(F->s, F->a, "orders", "1.0.0", "orders", NULL);
	tc_put_contract(F->s, F->a, "orders", "1.1.0", "orders", NULL);
	tc_put_contract(F->s, F->a, "customers", "1.0.0", "customers", NULL);
	tc_put_contract(F->s, F->b, "ledger", "1.0.0", "ledger", NULL);

	/* the node's copy, made as a peer would receive it */
	mycel_pull_stats ps;
	mycel_store *copy = tc_store_new(F->nodedir, F->charter, F->charter_len);
	assert_int_equal(mycel_store_pull(copy, F->s, &ps, why, sizeof(why)), 0);
	assert_int_equal(ps.accepted, 4);
	mycel_store_close(copy);

	F->ctx.store = F->s;
	F->ctx.key = F->a;
	F->ctx.domain = "alpha";
	assert_int_equal(mycel_client_open_local(&F->ctx, &F->local), 0);

	/* the fake node */
	nng_listener l;
	char *url = NULL;
	pthread_mutex_init(&F->mu, NULL);
	assert_int_equal(nng_rep0_open(&F->fake), 0);
	assert_int_equal(nng_listen(F->fake, "tcp://127.0.0.1:0", &l, 0), 0);
	assert_int_equal(nng_listener_get_string(l, NNG_OPT_URL, &url), 0);
	snprintf(F->fake_url, sizeof(F->fake_url), "%s", url);
	nng_strfree(url);
	assert_int_equal(pthread_create(&F->fake_thread, NULL, fake_main, NULL), 0);
	*state = F;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	nng_close(F->fake);
	pthread_join(F->fake_thread, NULL);
	pthread_mutex_destroy(&F->mu);
	free(F->fake_reply);
	mycel_client_close(F->local);
	mycel_store_close(F->s);
	(void)tc_rm_rf(F->dir);
	mycel_key_free(F->gov);
	mycel_key_free(F->a);
	mycel_key_free(F->b);
	mycel_key_free(F->sales);
	mycel_key_free(F->rogue);
	free(F->charter);
	free(F);
	F = NULL;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(mycel_arena_new(64u << 20, &F->ar), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mycel_arena_free(F->ar);
	F->ar = NULL;
	return 0;
}

static mycel_msg_GetRequest get_rq(const char *domain, const char *id, const char *version)
{
	mycel_msg_GetRequest rq;
	memset(&rq, 0, sizeof(rq));
	rq.domain = domain;
	rq.domain_len = strlen(domain);
	rq.id = id;
	rq.id_len = strlen(id);
	rq.version = version;
	rq.version_len = version ? strlen(version) : 0;
	return rq;
}

/* The typed calls a catalog reader uses, against client c holding the acme charter. */
static void check_reads(mycel_client *c)
{
	mycel_result res;
	mycel_msg_GetReply g;
	mycel_msg_GetRequest rq = get_rq("alpha", "orders", NULL);

	assert_int_equal(mycel_client_get(c, &rq, F->ar, &res, &g), 0);
	assert_int_equal(res.status, MYCEL_RPC_OK);
	assert_int_equal(g.n_versions, 2);
	assert_string_equal(g.versions[g.shown].version, "1.1.0");
	assert_int_equal(g.n_entries, 1);

	rq = get_rq("alpha", "orders", "1.0.0");
	assert_int_equal(mycel_client_get(c, &rq, F->ar, &res, &g), 0);
	assert_int_equal(res.status, MYCEL_RPC_OK);
	assert_string_equal(g.versions[g.shown].version, "1.0.0");

	rq = get_rq("alpha", "nothing", NULL);
	assert_int_equal(mycel_client_get(c, &rq, F->ar, &res, &g), 0);
	assert_int_equal(res.status, MYCEL_RPC_NOT_FOUND);
	assert_non_null(strstr(res.message, "alpha/nothing is not published"));

	mycel_msg_SearchRequest sq;
	mycel_msg_SearchReply sr;
	memset(&sq, 0, sizeof(sq));
	sq.text = "orders";
	sq.text_len = 6;
	assert_int_equal(mycel_client_search(c, &sq, F->ar, &res, &sr), 0);
	assert_int_equal(res.status, MYCEL_RPC_OK);
	assert_int_equal(sr.n_hits, 1);
	assert_string_equal(sr.hits[0].id, "orders");

	mycel_msg_HistoryRequest hq;
	mycel_msg_HistoryReply hr;
	memset(&hq, 0, sizeof(hq));
	hq.domain = "alpha";
	hq.domain_len = 5;
	hq.id = "orders";
	hq.id_len = 6;
	assert_int_equal(mycel_client_history(c, &hq, F->ar, &res, &hr), 0);
	assert_int_equal(res.status, MYCEL_RPC_OK);
	assert_int_equal(hr.n_entries, 2);

	mycel_msg_ListRequest lq;
	mycel_msg_ListReply lr;
	memset(&lq, 0, sizeof(lq));
	lq.domain = "alpha";
	lq.domain_len = 5;
	assert_int_equal(mycel_client_list(c, &lq, F->ar, &res, &lr), 0);
	assert_int_equal(res.status, MYCEL_RPC_OK);
	assert_int_equal(lr.n_docs, 2);

	mycel_msg_LineageRequest nq;
	mycel_msg_LineageReply nr;
	memset(&nq, 0, sizeof(nq));
	nq.domain = "alpha";
	nq.domain_len = 5;
	nq.id = "orders";
	nq.id_len = 6;
	nq.has_direction = true;
	nq.direction = 2;
	assert_int_equal(mycel_client_lineage(c, &nq, F->ar, &res, &nr), 0);
	assert_int_equal(res.status, MYCEL_RPC_OK);
	assert_int_equal(nr.n_nodes, 1);

	mycel_msg_StatusReply st;
	assert_int_equal(mycel_client_status(c, F->ar, &res, &st), 0);
	assert_int_equal(res.status, MYCEL_RPC_OK);
	assert_int_equal(st.feeds, 2);
	assert_int_equal(st.n_heads, 2);
	assert_true(st.mesh_id != NULL && memcmp(st.mesh_id, F->mesh_id, MYCEL_HASH_LEN) == 0);
}

/* ---- local transport ------------------------------------------------------------------ */

static void test_local(void **state)
{
	(void)state;
	mycel_result res;
	mycel_msg_StatusReply st;
	assert_string_equal(mycel_client_url(F->local), "local");
	assert_non_null(mycel_client_charter(F->local));
	check_reads(F->local);
	/* the serving context's key is the node key Status reports */
	assert_int_equal(mycel_client_status(F->local, F->ar, &res, &st), 0);
	assert_int_equal(st.node_key_len, MYCEL_PK_LEN);
	assert_memory_equal(st.node_key, F->a->pk, MYCEL_PK_LEN);
	assert_false(st.has_uptime_ms); /* a store read directly has no uptime */

	/* a deadline already passed: DEADLINE_EXCEEDED as a status, nothing served */
	uint64_t status = 0;
	char *msg = NULL;
	uint8_t *body = NULL;
	size_t len = 0;
	assert_int_equal(mycel_client_call(F->local, "mycel.v1.Catalog/Status", 1,
					   (const uint8_t *)"\x90", 1, &status, &msg, &body, &len),
			 0);
	assert_int_equal(status, MYCEL_RPC_DEADLINE_EXCEEDED);
	free(msg);
	free(body);
}

/* ---- a real node ---------------------------------------------------------------------- */

static void test_node(void **state)
{
	(void)state;
	mycel_node_opts o;
	mycel_node *n = NULL;
	mycel_client *c = NULL;
	mycel_result res;
	char why[256] = "";
	uint8_t wrong[MYCEL_HASH_LEN];

	memset(&o, 0, sizeof(o));
	o.data = F->nodedir;
	o.listen = "tcp://127.0.0.1:0";
	assert_int_equal(mycel_node_open(&o, &n, why, sizeof(why)), 0);
	assert_int_equal(mycel_node_start(n), 0);

	assert_int_equal(mycel_client_open(mycel_node_url(n), &c), 0);
	assert_null(mycel_client_charter(c));
	/* without a charter nothing can be verified: the call is refused, naming why */
	mycel_msg_GetRequest rq = get_rq("alpha", "orders", NULL);
	mycel_msg_GetReply g;
	int rv = mycel_client_get(c, &rq, F->ar, &res, &g);
	assert_int_equal(rv, MYCEL_ECHARTER);
	assert_non_null(strstr(res.message, "no charter"));

	/* pinned to another mesh: refused */
	memcpy(wrong, F->mesh_id, sizeof(wrong));
	wrong[0] ^= 1;
	rv = mycel_client_fetch_charter(c, wrong, &res);
	assert_int_equal(rv, MYCEL_EPERM);
	assert_non_null(strstr(res.message, "pinned"));
	assert_null(mycel_client_charter(c));
	/* pinned to its own mesh id: accepted */
	assert_int_equal(mycel_client_fetch_charter(c, F->mesh_id, &res), 0);
	assert_int_equal(res.status, MYCEL_RPC_OK);
	assert_non_null(mycel_client_charter(c));
	/* fetched again: `have` matches, nothing is sent and the charter stays */
	assert_int_equal(mycel_client_fetch_charter(c, NULL, &res), 0);
	assert_non_null(mycel_client_charter(c));

	check_reads(c);

	/* Admin methods are refused on the public socket, as a status */
	mycel_msg_ReindexReply rr;
	assert_int_equal(mycel_client_reindex(c, F->ar, &res, &rr), 0);
	assert_int_equal(res.status, MYCEL_RPC_PERMISSION_DENIED);
	mycel_client_close(c);

	/* trust on first use, then the same reads */
	assert_int_equal(mycel_client_open(mycel_node_url(n), &c), 0);
	assert_int_equal(mycel_client_fetch_charter(c, NULL, &res), 0);
	check_reads(c);
	mycel_client_close(c);
	mycel_node_close(n);

	/* nobody there: a status, not a crash */
	assert_int_equal(mycel_client_open("tcp://127.0.0.1:1", &c), MYCEL_EIO);
}

/* ---- forged replies --------------------------------------------------------------------- */

/* A genuine GetReply of domain/id from the local store, decoded into F->ar. */
static void genuine_get(const char *domain, const char *id, mycel_msg_GetReply *out)
{
	mycel_result res;
	mycel_msg_GetRequest rq = get_rq(domain, id, NULL);
	assert_int_equal(mycel_client_get(F->local, &rq, F->ar, &res, out), 0);
	assert_int_equal(res.status, MYCEL_RPC_OK);
}

/* Makes the fake node answer with rp (status OK). */
static void fake_answer(const mycel_msg_GetReply *rp)
{
	mycel_buf body, env;
	mycel_buf_init(&body, 1u << 20);
	mycel_buf_init(&env, 1u << 20);
	assert_int_equal(mycel_msg_GetReply_encode(rp, &body), 0);
	mycel_rpc_reply r = {.status = MYCEL_RPC_OK, .has_body = true, .body = body.data,
			     .body_len = body.len};
	assert_int_equal(mycel_rpc_reply_encode(&r, &env), 0);
	pthread_mutex_lock(&F->mu);
	free(F->fake_reply);
	F->fake_reply = malloc(env.len);
	assert_non_null(F->fake_reply);
	memcpy(F->fake_reply, env.data, env.len);
	F->fake_reply_len = env.len;
	pthread_mutex_unlock(&F->mu);
	mycel_buf_fini(&body);
	mycel_buf_fini(&env);
}

/* Asks the fake node for alpha/orders: the reply must be refused with code and text. */
static void expect_refused(mycel_client *c, int code, const char *text)
{
	mycel_result res;
	mycel_msg_GetReply g;
	mycel_msg_GetRequest rq = get_rq("alpha", "orders", NULL);
	int rv = mycel_client_get(c, &rq, F->ar, &res, &g);
	if (rv != code || strstr(res.message, text) == NULL)
		fail_msg("expected %s and \"%s\", got %s: %s", mycel_errname(code), text,
			 mycel_errname(rv), res.message);
	assert_int_equal(res.status, MYCEL_RPC_OK); /* the node said OK; the client refused */
	/* turned off, the same reply is accepted: the flag really turns checking off */
	mycel_client_set_verify(c, false);
	assert_int_equal(mycel_client_get(c, &rq, F->ar, &res, &g), 0);
	mycel_client_set_verify(c, true);
}

static void test_forged(void **state)
{
	(void)state;
	mycel_client *c = NULL;
	char why[256] = "";
	mycel_msg_GetReply good, other;
	genuine_get("alpha", "orders", &good);
	genuine_get("alpha", "customers", &other);

	assert_int_equal(mycel_client_open(F->fake_url, &c), 0);
	assert_int_equal(mycel_client_set_charter(c, F->charter, F->charter_len, F->mesh_id, why,
						  sizeof(why)),
			 0);

	/* the genuine reply passes */
	fake_answer(&good);
	mycel_result res;
	mycel_msg_GetReply g;
	mycel_msg_GetRequest rq = get_rq("alpha", "orders", NULL);
	assert_int_equal(mycel_client_get(c, &rq, F->ar, &res, &g), 0);
	assert_int_equal(res.status, MYCEL_RPC_OK);

	/* a tampered signature */
	mycel_msg_GetReply f = good;
	mycel_msg_Entry en = good.entries[0];
	uint8_t raw[MYCEL_ENTRY_MAX];
	memcpy(raw, en.entry, en.entry_len);
	raw[en.entry_len - 5] ^= 0x01; /* inside the signature, the last field */
	en.entry = raw;
	f.entries = &en;
	fake_answer(&f);
	expect_refused(c, MYCEL_EBADSIG, "entry of domain alpha (feed ");
	expect_refused(c, MYCEL_EBADSIG, "seq 2: the signature does not verify");

	/* a body that does not match the entry's hash */
	uint8_t *body = malloc(good.entries[0].body_len);
	assert_non_null(body);
	memcpy(body, good.entries[0].body, good.entries[0].body_len);
	body[good.entries[0].body_len - 1] ^= 0x01;
	en = good.entries[0];
	en.body = body;
	f = good;
	f.entries = &en;
	fake_answer(&f);
	expect_refused(c, MYCEL_EHASH, "seq 2: the body does not match the entry's body hash");
	free(body);

	/* a valid entry of another document than the one asked for */
	f = good;
	f.entries = other.entries;
	fake_answer(&f);
	expect_refused(c, MYCEL_EFORMAT, "the body is not document id \"orders\"");

	/* an entry of a feed the charter does not admit, signed by its own key */
	mycel_header h;
	mycel_entry e;
	memset(&h, 0, sizeof(h));
	memcpy(h.feed, F->rogue->pk, MYCEL_PK_LEN);
	h.seq = 2;
	h.has_prev = true;
	h.ts_ms = 1;
	snprintf(h.kind, sizeof(h.kind), "contract");
	mycel_body_hash(good.entries[0].body, good.entries[0].body_len, h.body_hash);
	assert_int_equal(mycel_entry_sign(&h, F->rogue, &e), 0);
	en = good.entries[0];
	en.entry = e.raw;
	en.entry_len = e.len;
	f = good;
	f.entries = &en;
	fake_answer(&f);
	expect_refused(c, MYCEL_EADMIT, "an unadmitted feed");

	/* alpha's genuine entry, claimed for domain beta (and asked for as beta) */
	f = good;
	f.domain = "beta";
	f.domain_len = 4;
	fake_answer(&f);
	mycel_msg_GetRequest brq = get_rq("beta", "orders", NULL);
	int rv = mycel_client_get(c, &brq, F->ar, &res, &g);
	assert_int_equal(rv, MYCEL_EADMIT);
	assert_non_null(strstr(res.message, "admits this feed for domain alpha"));

	/* an OK reply whose body is not a GetReply */
	pthread_mutex_lock(&F->mu);
	free(F->fake_reply);
	F->fake_reply = malloc(16);
	assert_non_null(F->fake_reply);
	memcpy(F->fake_reply, "\x94\x01\x00\xa0\xc4\x01\xc1", 7); /* body: the byte 0xc1 */
	F->fake_reply_len = 7;
	pthread_mutex_unlock(&F->mu);
	rv = mycel_client_get(c, &rq, F->ar, &res, &g);
	assert_true(rv < 0);
	assert_non_null(strstr(res.message, "the reply does not decode"));

	/* a reply about another document than asked for */
	fake_answer(&other);
	expect_refused(c, MYCEL_EFORMAT, "another document than alpha/orders");
	mycel_client_close(c);
}

/* ---- Mesh Pull and Charter ------------------------------------------------------------------ */

static uint64_t pull(const mycel_msg_FeedRange *r, size_t n, uint64_t max_entries,
		     uint64_t max_bytes, mycel_msg_PullReply *out)
{
	mycel_result res;
	mycel_msg_PullRequest rq;
	memset(&rq, 0, sizeof(rq));
	rq.ranges = r;
	rq.n_ranges = n;
	rq.has_max_entries = max_entries != 0;
	rq.max_entries = max_entries;
	rq.has_max_bytes = max_bytes != 0;
	rq.max_bytes = max_bytes;
	memset(out, 0, sizeof(*out));
	int rv = mycel_client_pull(F->local, &rq, F->ar, &res, out);
	if (rv != 0)
		fail_msg("pull: %s", res.message);
	return res.status;
}

static uint64_t seq_of(const mycel_msg_Entry *m, const uint8_t *feed)
{
	mycel_entry e;
	assert_int_equal(mycel_entry_decode(m->entry, m->entry_len, &e), 0);
	assert_memory_equal(e.h.feed, feed, MYCEL_PK_LEN);
	return e.h.seq;
}

static void test_pull(void **state)
{
	(void)state;
	mycel_msg_PullReply rp;
	mycel_msg_FeedRange r[2];
	memset(r, 0, sizeof(r));
	r[0].feed = F->a->pk;
	r[0].feed_len = MYCEL_PK_LEN;

	/* a whole feed, in order */
	assert_int_equal(pull(r, 1, 0, 0, &rp), MYCEL_RPC_OK);
	assert_int_equal(rp.n_entries, 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(seq_of(&rp.entries[i], F->a->pk), i + 1);
	assert_false(rp.more);

	/* max_entries cuts, and says so */
	assert_int_equal(pull(r, 1, 2, 0, &rp), MYCEL_RPC_OK);
	assert_int_equal(rp.n_entries, 2);
	assert_true(rp.more);

	/* max_bytes below one entry: still one entry, so a caller always progresses */
	assert_int_equal(pull(r, 1, 0, 1, &rp), MYCEL_RPC_OK);
	assert_int_equal(rp.n_entries, 1);
	assert_true(rp.more);

	/* two ranges: alpha 2..3 then beta, in the order asked */
	r[0].has_from_seq = true;
	r[0].from_seq = 2;
	r[0].has_to_seq = true;
	r[0].to_seq = 3;
	r[1].feed = F->b->pk;
	r[1].feed_len = MYCEL_PK_LEN;
	assert_int_equal(pull(r, 2, 0, 0, &rp), MYCEL_RPC_OK);
	assert_int_equal(rp.n_entries, 3);
	assert_int_equal(seq_of(&rp.entries[0], F->a->pk), 2);
	assert_int_equal(seq_of(&rp.entries[1], F->a->pk), 3);
	assert_int_equal(seq_of(&rp.entries[2], F->b->pk), 1);
	assert_false(rp.more);

	/* to_seq bounds a range */
	r[0].to_seq = 2;
	assert_int_equal(pull(r, 1, 0, 0, &rp), MYCEL_RPC_OK);
	assert_int_equal(rp.n_entries, 1);

	/* a feed the node does not hold: nothing */
	mycel_msg_FeedRange u = {.feed = F->rogue->pk, .feed_len = MYCEL_PK_LEN};
	assert_int_equal(pull(&u, 1, 0, 0, &rp), MYCEL_RPC_OK);
	assert_int_equal(rp.n_entries, 0);
	assert_false(rp.more);

	/* bad ranges and bounds */
	mycel_msg_FeedRange bad = {.feed = F->a->pk, .feed_len = MYCEL_PK_LEN,
				   .has_from_seq = true, .from_seq = 0};
	assert_int_equal(pull(&bad, 1, 0, 0, &rp), MYCEL_RPC_INVALID_ARGUMENT);
	bad.from_seq = 3;
	bad.has_to_seq = true;
	bad.to_seq = 2;
	assert_int_equal(pull(&bad, 1, 0, 0, &rp), MYCEL_RPC_INVALID_ARGUMENT);
	bad = (mycel_msg_FeedRange){.feed = F->a->pk, .feed_len = 31};
	assert_int_equal(pull(&bad, 1, 0, 0, &rp), MYCEL_RPC_INVALID_ARGUMENT);
	mycel_result res;
	mycel_msg_PullRequest rq = {.ranges = r, .n_ranges = 1, .has_max_entries = true,
				    .max_entries = 0};
	assert_int_equal(mycel_client_pull(F->local, &rq, F->ar, &res, &rp), 0);
	assert_int_equal(res.status, MYCEL_RPC_INVALID_ARGUMENT);
}

/* Calls Mesh/Charter raw (no verification involved) with have (NULL: absent). */
static uint64_t charter_call(const uint8_t *have, size_t have_len, mycel_msg_CharterReply *out)
{
	mycel_msg_CharterRequest rq = {.have = have, .have_len = have_len};
	mycel_buf b;
	uint64_t status = 0;
	char *msg = NULL;
	uint8_t *body = NULL;
	size_t len = 0;
	char why[256] = "";
	mycel_buf_init(&b, 1024);
	assert_int_equal(mycel_msg_CharterRequest_encode(&rq, &b), 0);
	assert_int_equal(mycel_client_call(F->local, "mycel.v1.Mesh/Charter", 0, b.data, b.len,
					   &status, &msg, &body, &len),
			 0);
	memset(out, 0, sizeof(*out));
	if (status == MYCEL_RPC_OK &&
	    mycel_msg_CharterReply_decode(body, len, F->ar, out, why, sizeof(why)) != 0)
		fail_msg("CharterReply: %s", why);
	mycel_buf_fini(&b);
	free(msg);
	free(body);
	return status;
}

static void test_charter(void **state)
{
	(void)state;
	mycel_msg_CharterReply rp;
	uint8_t other[MYCEL_HASH_LEN];
	assert_int_equal(charter_call(NULL, 0, &rp), MYCEL_RPC_OK);
	assert_int_equal(rp.charter_len, F->charter_len);
	assert_memory_equal(rp.charter, F->charter, F->charter_len);
	/* the caller holds the current one: nothing sent */
	assert_int_equal(charter_call(F->mesh_id, MYCEL_HASH_LEN, &rp), MYCEL_RPC_OK);
	assert_null(rp.charter);
	/* another one: the current one sent */
	memset(other, 7, sizeof(other));
	assert_int_equal(charter_call(other, sizeof(other), &rp), MYCEL_RPC_OK);
	assert_int_equal(rp.charter_len, F->charter_len);
	/* a `have` that is no digest */
	assert_int_equal(charter_call(other, 5, &rp), MYCEL_RPC_INVALID_ARGUMENT);

	/* set_charter: garbage, and an unsigned genesis, are refused and change nothing */
	char why[256] = "";
	const mycel_charter *before = mycel_client_charter(F->local);
	assert_int_not_equal(mycel_client_set_charter(F->local, (const uint8_t *)"\x92\x01", 2,
						      NULL, why, sizeof(why)),
			     0);
	assert_non_null(strstr(why, "does not decode"));
	mycel_charter *c = NULL;
	mycel_buf b;
	assert_int_equal(mycel_charter_new("acme", 1, 1, &c), 0);
	assert_int_equal(mycel_charter_add_member(c, "gov", F->gov->pk), 0);
	mycel_buf_init(&b, MYCEL_CHARTER_MAX);
	assert_int_equal(mycel_charter_encode(c, &b), 0);
	mycel_charter_free(c);
	assert_int_equal(mycel_client_set_charter(F->local, b.data, b.len, NULL, why, sizeof(why)),
			 MYCEL_ETHRESHOLD);
	mycel_buf_fini(&b);
	assert_ptr_equal(mycel_client_charter(F->local), before);
}

/* ---- writes over the local transport ------------------------------------------------------- */

static void test_publish(void **state)
{
	(void)state;
	mycel_rpc_ctx ctx = {.store = F->s, .key = F->sales, .domain = "sales"};
	mycel_client *c = NULL;
	mycel_result res;
	assert_int_equal(mycel_client_open_local(&ctx, &c), 0);

	static const char *const paths[] = {"examples/mesh/sales/contracts/orders.odcs.yaml",
					    "examples/mesh/sales/contracts/returns.odcs.yaml"};
	mycel_msg_PublishDoc docs[2];
	char *texts[2];
	memset(docs, 0, sizeof(docs));
	for (size_t i = 0; i < 2; i++) {
		FILE *f = fopen(paths[i], "rb");
		assert_non_null(f);
		texts[i] = malloc(1 << 20);
		assert_non_null(texts[i]);
		docs[i].document = (const uint8_t *)texts[i];
		docs[i].document_len = fread(texts[i], 1, 1 << 20, f);
		fclose(f);
		docs[i].path = paths[i];
		docs[i].path_len = strlen(paths[i]);
	}
	mycel_msg_PublishRequest rq = {.documents = docs, .n_documents = 2};
	mycel_msg_PublishReply rp;
	assert_int_equal(mycel_client_publish(c, &rq, F->ar, &res, &rp), 0);
	if (res.status != MYCEL_RPC_OK)
		fail_msg("publish: %s", res.message);
	assert_int_equal(rp.n_documents, 2);
	assert_int_equal(rp.n_entries, 2);
	assert_string_equal(rp.documents[0].id, "sales-orders");
	assert_int_equal(rp.documents[0].seq, 1);
	assert_int_equal(rp.documents[1].seq, 2);

	/* again: unchanged, no entries */
	assert_int_equal(mycel_client_publish(c, &rq, F->ar, &res, &rp), 0);
	assert_int_equal(res.status, MYCEL_RPC_OK);
	assert_true(rp.documents[0].unchanged);
	assert_int_equal(rp.n_entries, 0);

	/* a lifecycle entry, verified as the one of the version asked for */
	mycel_msg_ChangeStatusRequest cr = {.id = "sales-orders", .id_len = 12,
					    .version = "2.1.0", .version_len = 5};
	mycel_msg_ChangeStatusReply cp;
	assert_int_equal(mycel_client_deprecate(c, &cr, F->ar, &res, &cp), 0);
	if (res.status != MYCEL_RPC_OK)
		fail_msg("deprecate: %s", res.message);
	assert_non_null(cp.entry);
	/* a refused change is a status with the reason */
	assert_int_equal(mycel_client_deprecate(c, &cr, F->ar, &res, &cp), 0);
	assert_int_not_equal(res.status, MYCEL_RPC_OK);
	assert_true(res.message[0] != '\0');
	for (size_t i = 0; i < 2; i++)
		free(texts[i]);
	mycel_client_close(c);
}

/*
 * A lazy client never blocks longer than a call's deadline on an address that accepts tcp
 * connections but never completes nng's handshake (a hung or frozen process): open returns at
 * once and a call ends with DEADLINE_EXCEEDED near its deadline. (A plain open would wait for
 * nng's handshake timeout instead.)
 */
static void test_lazy_silent_peer(void **state)
{
	(void)state;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(l >= 0);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 16), 0); /* the kernel completes tcp handshakes; nobody reads */
	socklen_t sl = sizeof(sa);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &sl), 0);
	char url[64];
	(void)snprintf(url, sizeof(url), "tcp://127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));

	uint64_t t0 = tc_now_ms();
	mycel_client *c = NULL;
	assert_int_equal(mycel_client_open_lazy(url, &c), 0);
	assert_true(tc_now_ms() - t0 < 1000);

	mycel_buf b;
	mycel_buf_init(&b, 1024);
	mycel_msg_StatusRequest rq;
	memset(&rq, 0, sizeof(rq));
	assert_int_equal(mycel_msg_StatusRequest_encode(&rq, &b), 0);
	uint64_t st = 0, t1 = tc_now_ms();
	char *msg = NULL;
	uint8_t *body = NULL;
	size_t body_len = 0;
	assert_int_equal(mycel_client_call(c, "mycel.v1.Catalog/Status", t1 + 300, b.data, b.len,
					   &st, &msg, &body, &body_len),
			 0);
	uint64_t took = tc_now_ms() - t1;
	assert_int_equal(st, MYCEL_RPC_DEADLINE_EXCEEDED);
	assert_true(took >= 250 && took < 3000);
	free(msg);
	free(body);
	mycel_buf_fini(&b);
	mycel_client_close(c);
	close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lazy_silent_peer),
	    cmocka_unit_test_setup_teardown(test_local, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_node, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pull, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_charter, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_publish, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
