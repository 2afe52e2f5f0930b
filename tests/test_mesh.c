/*
 * test_mesh.c — the gossip half that answers peers (src/mesh.h): the frontier and its
 * digests against proto/vectors/frontier.txt (computed independently with Python's
 * hashlib), and the Mesh handlers over the in-process RPC.
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

#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/charter.h"
#include "mycel/rpc.h"
#include "mycel/store.h"
#include "mesh.h"
#include "mycel_proto.h"
#include "writer.h"

#include "common.h"

#define FRONTIER_VECTORS "proto/vectors/frontier.txt"

/* ---- frontier vectors ----------------------------------------------------------------- */

typedef struct fvec {
	char name[32];
	uint8_t digest[MYCEL_HASH_LEN];
	mycel__head heads[8];
	size_t n;
} fvec;

static void unhex(const char *s, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(s), 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* Reads the frontier records of the vector file; bucket records go to bk (name, b, digest). */
typedef struct bvec {
	char name[32];
	unsigned b;
	uint8_t digest[MYCEL_HASH_LEN];
} bvec;

static void load_frontier_vectors(fvec *fv, size_t *nf, bvec *bv, size_t *nb)
{
	FILE *f = fopen(FRONTIER_VECTORS, "r");
	char line[4096];
	*nf = *nb = 0;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *save = NULL, *tok;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		tok = strtok_r(line, " ", &save);
		if (strcmp(tok, "frontier") == 0) {
			fvec *v = &fv[(*nf)++];
			memset(v, 0, sizeof(*v));
			snprintf(v->name, sizeof(v->name), "%s", strtok_r(NULL, " ", &save));
			unhex(strtok_r(NULL, " ", &save), v->digest, MYCEL_HASH_LEN);
			while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
				char feed[65], head[65];
				unsigned long long seq;
				int forked;
				mycel__head *h = &v->heads[v->n++];
				assert_int_equal(sscanf(tok, "%64[0-9a-f],%llu,%64[0-9a-f],%d",
				                        feed, &seq, head, &forked),
				                 4);
				unhex(feed, h->feed, MYCEL_PK_LEN);
				unhex(head, h->head, MYCEL_HASH_LEN);
				h->seq = seq;
				h->forked = forked != 0;
			}
		} else {
			bvec *b = &bv[(*nb)++];
			assert_string_equal(tok, "bucket");
			snprintf(b->name, sizeof(b->name), "%s", strtok_r(NULL, " ", &save));
			b->b = (unsigned)atoi(strtok_r(NULL, " ", &save));
			unhex(strtok_r(NULL, " ", &save), b->digest, MYCEL_HASH_LEN);
		}
	}
	fclose(f);
	assert_true(*nf >= 3);
	assert_true(*nb >= 3);
}

/* A store of a one-domain mesh in a fresh directory (dir, n bytes); k: the domain's key. */
static mycel_store *fresh_store(char *dir, size_t n, mycel_key **out_k)
{
	mycel_key *gov = tc_seed_key(0x01), *k = tc_seed_key(0x02);
	const char *names[] = {"alpha"};
	const mycel_key *keys[] = {k};
	mycel_buf cf;
	tc_tmpdir("mesh", dir, n);
	tc_genesis("acme", gov, names, keys, 1, &cf, NULL);
	mycel_store *s = tc_store_new(dir, cf.data, cf.len);
	mycel_buf_fini(&cf);
	mycel_key_free(gov);
	if (out_k != NULL)
		*out_k = k;
	else
		mycel_key_free(k);
	return s;
}

static void test_frontier_vectors(void **state)
{
	fvec fv[8];
	bvec bv[16];
	size_t nf, nb, feeds;
	char dir[64];
	uint8_t d[MYCEL_HASH_LEN];
	static uint8_t buckets[MYCEL__FRONTIER_BUCKETS][MYCEL_HASH_LEN];
	(void)state;

	load_frontier_vectors(fv, &nf, bv, &nb);
	mycel_store *s = fresh_store(dir, sizeof(dir), NULL);
	for (size_t i = 0; i < nf; i++) {
		mycel__frontier *f;
		assert_int_equal(mycel__frontier_open(s, &f), 0);
		mycel__frontier_digest(f, d, &feeds);
		assert_int_equal(feeds, 0);
		if (strcmp(fv[i].name, "empty") == 0)
			assert_memory_equal(d, fv[i].digest, MYCEL_HASH_LEN);
		/* inserted in reverse order: the frontier sorts by feed */
		for (size_t k = fv[i].n; k-- > 0;)
			assert_int_equal(mycel__frontier_update(f, &fv[i].heads[k]), 0);
		mycel__frontier_digest(f, d, &feeds);
		assert_int_equal(feeds, fv[i].n);
		assert_memory_equal(d, fv[i].digest, MYCEL_HASH_LEN);
		mycel__frontier_buckets(f, buckets);
		for (size_t b = 0; b < nb; b++)
			if (strcmp(bv[b].name, fv[i].name) == 0)
				assert_memory_equal(buckets[bv[b].b], bv[b].digest, MYCEL_HASH_LEN);
		/* every head, sorted by feed */
		mycel__head *h;
		size_t n;
		assert_int_equal(mycel__frontier_heads(f, NULL, 0, &h, &n), 0);
		assert_int_equal(n, fv[i].n);
		for (size_t k = 0; k < n; k++)
			assert_memory_equal(&h[k], &fv[i].heads[k], sizeof(h[k]));
		free(h);
		mycel__frontier_free(f);
	}
	mycel_store_close(s);
	tc_rm_rf(dir);
}

static void test_frontier_updates(void **state)
{
	fvec fv[8];
	bvec bv[16];
	size_t nf, nb, n;
	char dir[64];
	uint8_t d0[MYCEL_HASH_LEN], d1[MYCEL_HASH_LEN];
	static uint8_t b0[MYCEL__FRONTIER_BUCKETS][MYCEL_HASH_LEN],
	    b1[MYCEL__FRONTIER_BUCKETS][MYCEL_HASH_LEN];
	mycel__frontier *f;
	mycel__head *h, got;
	(void)state;

	load_frontier_vectors(fv, &nf, bv, &nb);
	const fvec *three = NULL;
	for (size_t i = 0; i < nf; i++)
		if (strcmp(fv[i].name, "three") == 0)
			three = &fv[i];
	assert_non_null(three);
	mycel_store *s = fresh_store(dir, sizeof(dir), NULL);
	assert_int_equal(mycel__frontier_open(s, &f), 0);
	for (size_t k = 0; k < three->n; k++)
		assert_int_equal(mycel__frontier_update(f, &three->heads[k]), 0);
	mycel__frontier_digest(f, d0, NULL);
	mycel__frontier_buckets(f, b0);

	/* a new head changes the digest and its bucket only; going back restores both */
	mycel__head moved = three->heads[0];
	moved.seq++;
	assert_int_equal(mycel__frontier_update(f, &moved), 0);
	mycel__frontier_digest(f, d1, &n);
	assert_int_equal(n, three->n);
	assert_memory_not_equal(d0, d1, MYCEL_HASH_LEN);
	mycel__frontier_buckets(f, b1);
	for (unsigned b = 0; b < MYCEL__FRONTIER_BUCKETS; b++) {
		if (b == moved.feed[0])
			assert_memory_not_equal(b0[b], b1[b], MYCEL_HASH_LEN);
		else
			assert_memory_equal(b0[b], b1[b], MYCEL_HASH_LEN);
	}
	assert_true(mycel__frontier_get(f, moved.feed, &got));
	assert_int_equal(got.seq, moved.seq);
	assert_int_equal(mycel__frontier_update(f, &three->heads[0]), 0);
	mycel__frontier_digest(f, d1, NULL);
	assert_memory_equal(d0, d1, MYCEL_HASH_LEN);

	/* heads of chosen buckets only; a bucket number over 255 is refused */
	uint64_t want[] = {three->heads[2].feed[0], 17};
	assert_int_equal(mycel__frontier_heads(f, want, 2, &h, &n), 0);
	assert_int_equal(n, 1);
	assert_memory_equal(h[0].feed, three->heads[2].feed, MYCEL_PK_LEN);
	free(h);
	uint64_t bad[] = {3, 256};
	assert_int_equal(mycel__frontier_heads(f, bad, 2, &h, &n), MYCEL_EINVAL);
	uint8_t unknown[MYCEL_PK_LEN] = {0x77};
	assert_false(mycel__frontier_get(f, unknown, &got));
	mycel__frontier_free(f);
	mycel_store_close(s);
	tc_rm_rf(dir);
}

/* A frontier opened on a store holds its feeds' heads. */
static void test_frontier_open_store(void **state)
{
	char dir[64];
	mycel_key *k;
	mycel__frontier *f;
	mycel__head h;
	uint64_t seq;
	uint8_t id[MYCEL_HASH_LEN], d[MYCEL_HASH_LEN], want[MYCEL_HASH_LEN];
	size_t n;
	(void)state;

	mycel_store *s = fresh_store(dir, sizeof(dir), &k);
	tc_put_contract(s, k, "orders", "1.0.0", "Orders", NULL);
	tc_put_contract(s, k, "orders", "1.1.0", "Orders", NULL);
	assert_int_equal(mycel_store_head(s, k->pk, &seq, id), 0);
	assert_int_equal(mycel__frontier_open(s, &f), 0);
	assert_true(mycel__frontier_get(f, k->pk, &h));
	assert_int_equal(h.seq, 2);
	assert_int_equal(seq, 2);
	assert_memory_equal(h.head, id, MYCEL_HASH_LEN);
	assert_false(h.forked);
	mycel__frontier_digest(f, d, &n);
	assert_int_equal(n, 1);
	/* the same head in a frontier built by hand gives the same digest */
	mycel__frontier *g;
	mycel_store *s2;
	char dir2[64];
	s2 = fresh_store(dir2, sizeof(dir2), NULL);
	assert_int_equal(mycel__frontier_open(s2, &g), 0);
	assert_int_equal(mycel__frontier_update(g, &h), 0);
	mycel__frontier_digest(g, want, NULL);
	assert_memory_equal(d, want, MYCEL_HASH_LEN);
	mycel__frontier_free(g);
	mycel_store_close(s2);
	tc_rm_rf(dir2);
	mycel__frontier_free(f);
	mycel_store_close(s);
	mycel_key_free(k);
	tc_rm_rf(dir);
}

/* ---- the Mesh handlers over the in-process RPC ------------------------------------------ */

#define NOW_MS 1700000000000ull
#define SELF_URL "tcp://127.0.0.1:7999"
#define PEER_URL "tcp://127.0.0.1:7001"
#define BAD_URL "tcp://127.0.0.1:7666"

/* What the handlers told the (fake) gossip engine. */
typedef struct rec_ops {
	pthread_mutex_t mu;
	size_t committed, committed_forks, seen, rejected, gaps, adds, removes;
	int last_code;
	char last_seen[128], last_reject_peer[128], last_gap[128], last_from[128];
	char peers[4][128];
	size_t n_peers;
	size_t changes;
	char change_id[64], change_version[32], change_status[16], change_domain[16];
} rec_ops;

static void ro_committed(void *arg, const mycel__committed *c)
{
	rec_ops *r = arg;
	pthread_mutex_lock(&r->mu);
	if (c->fork_other != NULL)
		r->committed_forks++;
	else
		r->committed++;
	snprintf(r->last_from, sizeof(r->last_from), "%s", c->from ? c->from : "(null)");
	pthread_mutex_unlock(&r->mu);
}

static void ro_seen(void *arg, const char *url)
{
	rec_ops *r = arg;
	pthread_mutex_lock(&r->mu);
	r->seen++;
	snprintf(r->last_seen, sizeof(r->last_seen), "%s", url);
	pthread_mutex_unlock(&r->mu);
}

static void ro_rejected(void *arg, const char *peer, int code, const char *why)
{
	rec_ops *r = arg;
	(void)why;
	pthread_mutex_lock(&r->mu);
	r->rejected++;
	r->last_code = code;
	snprintf(r->last_reject_peer, sizeof(r->last_reject_peer), "%s", peer);
	pthread_mutex_unlock(&r->mu);
}

static void ro_gap(void *arg, const char *peer)
{
	rec_ops *r = arg;
	pthread_mutex_lock(&r->mu);
	r->gaps++;
	snprintf(r->last_gap, sizeof(r->last_gap), "%s", peer);
	pthread_mutex_unlock(&r->mu);
}

static bool ro_ignored(void *arg, const char *peer)
{
	(void)arg;
	return strcmp(peer, BAD_URL) == 0;
}

static int ro_peers(void *arg, mycel_arena *a, void **out, size_t *out_n)
{
	rec_ops *r = arg;
	pthread_mutex_lock(&r->mu);
	mycel_msg_Peer *p = mycel_arena_alloc(a, (r->n_peers + 1) * sizeof(*p));
	assert_non_null(p);
	memset(p, 0, (r->n_peers + 1) * sizeof(*p));
	for (size_t i = 0; i < r->n_peers; i++) {
		p[i].addr = r->peers[i]; /* lives as long as the fixture */
		p[i].addr_len = strlen(r->peers[i]);
		p[i].state = "alive";
		p[i].state_len = 5;
	}
	*out = p;
	*out_n = r->n_peers;
	pthread_mutex_unlock(&r->mu);
	return 0;
}

static int ro_add(void *arg, const char *url, char *why, size_t why_len)
{
	rec_ops *r = arg;
	if (strcmp(url, SELF_URL) == 0) {
		snprintf(why, why_len, "that is this node's own URL");
		return MYCEL_EINVAL;
	}
	pthread_mutex_lock(&r->mu);
	r->adds++;
	if (r->n_peers < 4)
		snprintf(r->peers[r->n_peers++], 128, "%s", url);
	pthread_mutex_unlock(&r->mu);
	return 0;
}

static int ro_remove(void *arg, const char *url, char *why, size_t why_len)
{
	rec_ops *r = arg;
	int rv = MYCEL_ENOTFOUND;
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < r->n_peers; i++) {
		if (strcmp(r->peers[i], url) == 0) {
			memmove(r->peers[i], r->peers[i + 1], (r->n_peers - i - 1) * 128);
			r->n_peers--;
			r->removes++;
			rv = 0;
			break;
		}
	}
	pthread_mutex_unlock(&r->mu);
	if (rv != 0)
		snprintf(why, why_len, "no peer %s", url);
	return rv;
}

static const mycel__mesh_ops OPS = {ro_committed, ro_seen,  ro_rejected, ro_gap,
                                    ro_ignored,   ro_peers, ro_add,      ro_remove};

static void on_change(void *arg, const mycel_rpc_change *ch)
{
	rec_ops *r = arg;
	pthread_mutex_lock(&r->mu);
	r->changes++;
	snprintf(r->change_id, sizeof(r->change_id), "%s", ch->id);
	snprintf(r->change_version, sizeof(r->change_version), "%s", ch->version);
	snprintf(r->change_status, sizeof(r->change_status), "%s", ch->status);
	snprintf(r->change_domain, sizeof(r->change_domain), "%s", ch->domain);
	pthread_mutex_unlock(&r->mu);
}

/* Entries copied out of a store, to send. */
typedef struct ents {
	size_t n;
	uint8_t entry[64][MYCEL_ENTRY_MAX];
	size_t entry_len[64];
	uint8_t body[64][1024];
	size_t body_len[64];
} ents;

static int ents_cb(void *ctx, const mycel_entry *e, const uint8_t *body, size_t body_len)
{
	ents *x = ctx;
	assert_true(x->n < 64 && body_len <= 1024);
	memcpy(x->entry[x->n], e->raw, e->len);
	x->entry_len[x->n] = e->len;
	memcpy(x->body[x->n], body, body_len);
	x->body_len[x->n++] = body_len;
	return 0;
}

typedef struct mfx {
	char dir[64], src_dir[64];
	mycel_key *gov, *ka, *kb, *kc;
	mycel_buf charter;
	uint8_t mesh_id[MYCEL_HASH_LEN];
	mycel_store *s, *src; /* the node's store; a store of the same mesh entries come from */
	mycel__frontier *f;
	mycel__writer *w;
	mycel_rpc_ctx ctx;
	rec_ops ops;
	ents *a, *b; /* alpha's and beta's entries in src */
} mfx;

static mfx *M;

static int mesh_setup(void **state)
{
	const char *names[] = {"alpha", "beta"};
	(void)state;
	M = calloc(1, sizeof(*M));
	assert_non_null(M);
	M->gov = tc_seed_key(0x01);
	M->ka = tc_seed_key(0x0a);
	M->kb = tc_seed_key(0x0b);
	M->kc = tc_seed_key(0x0c);
	const mycel_key *keys[] = {M->ka, M->kb};
	tc_genesis("acme", M->gov, names, keys, 2, &M->charter, M->mesh_id);
	tc_tmpdir("mesh", M->dir, sizeof(M->dir));
	tc_tmpdir("mesh-src", M->src_dir, sizeof(M->src_dir));
	M->s = tc_store_new(M->dir, M->charter.data, M->charter.len);
	M->src = tc_store_new(M->src_dir, M->charter.data, M->charter.len);
	/* alpha: orders 1.0.0 .. 1.5.0 (6 entries); beta: 3 contracts */
	static const char *const v[] = {"1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0", "1.5.0"};
	for (size_t i = 0; i < 6; i++)
		tc_put_contract(M->src, M->ka, "orders", v[i], "Orders", NULL);
	tc_put_contract(M->src, M->kb, "payments", "1.0.0", "Payments", "pay");
	tc_put_contract(M->src, M->kb, "refunds", "1.0.0", "Refunds", NULL);
	tc_put_contract(M->src, M->kb, "ledger", "1.0.0", "Ledger", NULL);
	M->a = calloc(1, sizeof(ents));
	M->b = calloc(1, sizeof(ents));
	assert_non_null(M->a);
	assert_non_null(M->b);
	assert_int_equal(mycel_store_scan(M->src, M->ka->pk, 1, ents_cb, M->a), 0);
	assert_int_equal(mycel_store_scan(M->src, M->kb->pk, 1, ents_cb, M->b), 0);
	assert_int_equal(M->a->n, 6);
	assert_int_equal(M->b->n, 3);
	pthread_mutex_init(&M->ops.mu, NULL);
	assert_int_equal(mycel__frontier_open(M->s, &M->f), 0);
	M->ctx = (mycel_rpc_ctx){.store = M->s,
	                         .on_change = on_change,
	                         .on_change_arg = &M->ops,
	                         .frontier = M->f,
	                         .mesh_ops = &OPS,
	                         .mesh_arg = &M->ops,
	                         .self_url = SELF_URL};
	assert_int_equal(mycel__writer_start(&M->ctx, &M->w), 0);
	M->ctx.wq = M->w;
	return 0;
}

static int mesh_teardown(void **state)
{
	(void)state;
	mycel__writer_free(M->w);
	mycel__frontier_free(M->f);
	mycel_store_close(M->s);
	mycel_store_close(M->src);
	tc_rm_rf(M->dir);
	tc_rm_rf(M->src_dir);
	mycel_buf_fini(&M->charter);
	mycel_key_free(M->gov);
	mycel_key_free(M->ka);
	mycel_key_free(M->kb);
	mycel_key_free(M->kc);
	pthread_mutex_destroy(&M->ops.mu);
	free(M->a);
	free(M->b);
	free(M);
	return 0;
}

/*
 * Serves method with request req (encoded with the method's encoder) through
 * mycel_rpc_serve_ctx on the admin socket; decodes an OK reply into out (allocated in a).
 * Returns the status; msg gets the reply's message.
 */
static uint64_t rpc(const mycel_rpc_ctx *ctx, const char *method, const void *req, mycel_arena *a,
                    void *out, char *msg, size_t msg_len)
{
	const mycel_method *m = mycel_method_find(method, strlen(method));
	mycel_buf body, env, reply;
	mycel_rpc_request rq;
	mycel_rpc_reply rp;
	char why[256];
	assert_non_null(m);
	mycel_buf_init(&body, MYCEL_RPC_REQUEST_MAX);
	mycel_buf_init(&env, MYCEL_RPC_REQUEST_MAX + 1024);
	mycel_buf_init(&reply, 64u << 20);
	assert_int_equal(m->request_encode(req, &body), 0);
	memset(&rq, 0, sizeof(rq));
	rq.method = method;
	rq.method_len = strlen(method);
	rq.body = body.data;
	rq.body_len = body.len;
	assert_int_equal(mycel_rpc_request_encode(&rq, &env), 0);
	assert_int_equal(mycel_rpc_serve_ctx(ctx, env.data, env.len, true, NOW_MS, &reply), 0);
	assert_int_equal(
	    mycel_rpc_reply_decode(reply.data, reply.len, reply.len, &rp, why, sizeof(why)), 0);
	snprintf(msg, msg_len, "%.*s", (int)rp.message_len, rp.message ? rp.message : "");
	if (rp.status == MYCEL_RPC_OK) {
		assert_true(rp.has_body);
		memset(out, 0, m->reply->size);
		if (m->reply_decode(rp.body, rp.body_len, a, out, why, sizeof(why)) != 0)
			fail_msg("%s reply: %s", method, why);
	}
	mycel_buf_fini(&body);
	mycel_buf_fini(&env);
	mycel_buf_fini(&reply);
	return rp.status;
}

static void set_entry(mycel_msg_Entry *m, const ents *x, size_t i)
{
	m->entry = x->entry[i];
	m->entry_len = x->entry_len[i];
	m->body = x->body[i];
	m->body_len = x->body_len[i];
}

/* Pushes entries e[0..n) from `from`; returns the status, the reply in *out. */
static uint64_t push(const mycel_msg_Entry *e, size_t n, const char *from, mycel_arena *a,
                     mycel_msg_PushReply *out, char *msg, size_t msg_len)
{
	mycel_msg_PushRequest rq;
	memset(&rq, 0, sizeof(rq));
	rq.entries = e;
	rq.n_entries = n;
	if (from != NULL) {
		rq.from = from;
		rq.from_len = strlen(from);
	}
	return rpc(&M->ctx, "mycel.v1.Mesh/Push", &rq, a, out, msg, msg_len);
}

static uint64_t head_of(const uint8_t *feed)
{
	uint64_t seq = 0;
	int rv = mycel_store_head(M->s, feed, &seq, NULL);
	if (rv == MYCEL_ENOTFOUND)
		return 0;
	assert_int_equal(rv, 0);
	return seq;
}

static void no_problem(void *ctx, const mycel_problem *p)
{
	(void)ctx;
	fail_msg("verify: %s seq %llu: %s", p->what, (unsigned long long)p->seq, p->message);
}

static mycel_arena *arena(void)
{
	mycel_arena *a = NULL;
	assert_int_equal(mycel_arena_new(256u << 20, &a), 0);
	return a;
}

/* Push: accepted, known, refusals with counts and reasons, a gap; nothing bad stored. */
static void test_push(void **state)
{
	mycel_arena *a = arena();
	mycel_msg_PushReply r;
	mycel_msg_Entry e[8];
	char msg[512];
	(void)state;

	/* alpha 1..3: accepted, reported to the change stream and the gossip engine */
	for (size_t i = 0; i < 3; i++)
		set_entry(&e[i], M->a, i);
	assert_int_equal(push(e, 3, PEER_URL, a, &r, msg, sizeof(msg)), MYCEL_RPC_OK);
	assert_int_equal(r.accepted, 3);
	assert_int_equal(r.known, 0);
	assert_int_equal(r.refused, 0);
	assert_false(r.gap);
	assert_null(r.reason);
	assert_int_equal(head_of(M->ka->pk), 3);
	assert_int_equal(M->ops.committed, 3);
	assert_string_equal(M->ops.last_from, PEER_URL);
	assert_int_equal(M->ops.changes, 3);
	assert_string_equal(M->ops.change_id, "orders");
	assert_string_equal(M->ops.change_version, "1.2.0");
	assert_string_equal(M->ops.change_status, "published");
	assert_string_equal(M->ops.change_domain, "alpha");
	assert_int_equal(M->ops.seen, 1);
	assert_string_equal(M->ops.last_seen, PEER_URL);
	mycel__head h;
	assert_true(mycel__frontier_get(M->f, M->ka->pk, &h));
	assert_int_equal(h.seq, 3);

	/* the same again: known, nothing new */
	assert_int_equal(push(e, 3, PEER_URL, a, &r, msg, sizeof(msg)), MYCEL_RPC_OK);
	assert_int_equal(r.accepted, 0);
	assert_int_equal(r.known, 3);
	assert_int_equal(M->ops.committed, 3);

	/* refusals: each stops its feed, is counted and reported, and stores nothing */
	uint8_t bad[MYCEL_ENTRY_MAX];
	mycel_entry x;
	mycel_buf body;
	struct {
		const char *what, *reason;
		int code;
	} cases[] = {
	    {"forged signature", "signature does not verify", MYCEL_EBADSIG},
	    {"bad body hash", "body does not match", MYCEL_EHASH},
	    {"broken chain", "chain link broken", MYCEL_ECHAIN},
	    {"unadmitted feed", "not admitted", MYCEL_EADMIT},
	};
	for (size_t c = 0; c < 4; c++) {
		size_t rej = M->ops.rejected;
		memset(e, 0, sizeof(e));
		set_entry(&e[0], M->a, 3); /* seq 4 */
		set_entry(&e[1], M->a, 4); /* seq 5: after the refusal, refused too */
		set_entry(&e[2], M->b, 0); /* beta 1: another feed, accepted the first time */
		if (c == 0) {
			memcpy(bad, M->a->entry[3], M->a->entry_len[3]);
			bad[M->a->entry_len[3] - 1] ^= 0x01;
			e[0].entry = bad;
		} else if (c == 1) {
			e[0].body = M->a->body[4];
			e[0].body_len = M->a->body_len[4];
		} else {
			mycel_header hd;
			const mycel_key *k = c == 2 ? M->ka : M->kc;
			memset(&hd, 0, sizeof(hd));
			memcpy(hd.feed, k->pk, MYCEL_PK_LEN);
			hd.seq = c == 2 ? 4 : 1;
			hd.has_prev = c == 2;
			memset(hd.prev, 0x55, MYCEL_HASH_LEN); /* not alpha 3's id */
			hd.ts_ms = tc_now_ms();
			snprintf(hd.kind, sizeof(hd.kind), "contract");
			mycel_buf_init(&body, 64);
			mycel_enc_map(&body, 0);
			mycel_body_hash(body.data, body.len, hd.body_hash);
			assert_int_equal(mycel_entry_sign(&hd, k, &x), 0);
			e[0] = (mycel_msg_Entry){x.raw, x.len, body.data, body.len};
		}
		if (c == 3) /* the unadmitted feed's entry, then beta 1 */
			e[1] = e[2];
		assert_int_equal(push(e, c == 3 ? 2 : 3, PEER_URL, a, &r, msg, sizeof(msg)),
		                 MYCEL_RPC_OK);
		if (r.reason == NULL || strstr(r.reason, cases[c].reason) == NULL)
			fail_msg("%s: reason \"%s\"", cases[c].what, r.reason ? r.reason : "");
		assert_int_equal(r.accepted + r.known, 1);
		assert_int_equal(r.refused, c == 3 ? 1 : 2);
		assert_false(r.gap);
		assert_int_equal(M->ops.rejected, rej + 1);
		assert_int_equal(M->ops.last_code, cases[c].code);
		assert_string_equal(M->ops.last_reject_peer, PEER_URL);
		assert_int_equal(head_of(M->ka->pk), 3);
		assert_int_equal(head_of(M->kc->pk), 0);
		if (c >= 2)
			mycel_buf_fini(&body);
	}
	assert_int_equal(head_of(M->kb->pk), 1);

	/* a gap (beta 3 without 2): not a refusal; the engine is asked to pull from the pusher */
	size_t rej = M->ops.rejected;
	set_entry(&e[0], M->b, 2);
	assert_int_equal(push(e, 1, PEER_URL, a, &r, msg, sizeof(msg)), MYCEL_RPC_OK);
	assert_true(r.gap);
	assert_int_equal(r.accepted, 0);
	assert_null(r.reason);
	assert_int_equal(M->ops.rejected, rej);
	assert_int_equal(M->ops.gaps, 1);
	assert_string_equal(M->ops.last_gap, PEER_URL);
	assert_int_equal(head_of(M->kb->pk), 1);

	/* an ignored peer: refused before anything is looked at */
	set_entry(&e[0], M->b, 1);
	assert_int_equal(push(e, 1, BAD_URL, a, &r, msg, sizeof(msg)),
	                 MYCEL_RPC_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(msg, "ignored"));
	assert_int_equal(head_of(M->kb->pk), 1);

	/* an entry without entry bytes, and a batch over 1000 entries: refused whole */
	mycel_msg_Entry empty = {NULL, 0, NULL, 0};
	assert_int_equal(push(&empty, 1, PEER_URL, a, &r, msg, sizeof(msg)),
	                 MYCEL_RPC_INVALID_ARGUMENT);
	assert_non_null(strstr(msg, "entries 0"));
	{
		/* PushRequest [entries: 1001 × Entry [bin 1]], built by hand (encoders refuse it)
		 */
		mycel_buf big, env, reply;
		mycel_rpc_request rq;
		mycel_rpc_reply rp;
		char why[256];
		mycel_buf_init(&big, 1 << 20);
		mycel_enc_array(&big, 1);
		mycel_enc_array(&big, 1001);
		for (size_t i = 0; i < 1001; i++) {
			static const uint8_t one[] = {0};
			mycel_enc_array(&big, 1);
			mycel_enc_bin(&big, one, 1);
		}
		assert_int_equal(big.err, 0);
		memset(&rq, 0, sizeof(rq));
		rq.method = "mycel.v1.Mesh/Push";
		rq.method_len = strlen(rq.method);
		rq.body = big.data;
		rq.body_len = big.len;
		mycel_buf_init(&env, 2 << 20);
		mycel_buf_init(&reply, 1 << 20);
		assert_int_equal(mycel_rpc_request_encode(&rq, &env), 0);
		assert_int_equal(
		    mycel_rpc_serve_ctx(&M->ctx, env.data, env.len, false, NOW_MS, &reply), 0);
		assert_int_equal(
		    mycel_rpc_reply_decode(reply.data, reply.len, reply.len, &rp, why, sizeof(why)),
		    0);
		assert_int_equal(rp.status, MYCEL_RPC_RESOURCE_EXHAUSTED);
		mycel_buf_fini(&big);
		mycel_buf_fini(&env);
		mycel_buf_fini(&reply);
	}
	assert_int_equal(head_of(M->kb->pk), 1);
	mycel_verify_stats vs;
	assert_int_equal(mycel_store_verify(M->s, no_problem, NULL, &vs), 0);
	assert_int_equal(vs.problems, 0);
	assert_int_equal(vs.entries, 4);
	mycel_arena_free(a);
}

/* Digest: another mesh, equal, small (every head), large (buckets), narrowed. */
static void test_digest(void **state)
{
	mycel_arena *a = arena();
	mycel_msg_DigestRequest rq;
	mycel_msg_DigestReply r;
	uint8_t dig[MYCEL_HASH_LEN], chd[MYCEL_HASH_LEN], other[MYCEL_HASH_LEN];
	char msg[512];
	size_t feeds;
	mycel_msg_Entry e[6];
	mycel_msg_PushReply pr;
	(void)state;

	for (size_t i = 0; i < 6; i++)
		set_entry(&e[i], M->a, i);
	assert_int_equal(push(e, 6, PEER_URL, a, &pr, msg, sizeof(msg)), MYCEL_RPC_OK);
	assert_int_equal(pr.accepted, 6);
	mycel__frontier_digest(M->f, dig, &feeds);
	assert_int_equal(feeds, 1);
	assert_int_equal(mycel_charter_digest(mycel_store_charter(M->s), chd), 0);

	/* another mesh: refused, naming both ids */
	memset(&rq, 0, sizeof(rq));
	memset(other, 0xee, sizeof(other));
	rq.mesh_id = other;
	rq.mesh_id_len = MYCEL_HASH_LEN;
	rq.digest = dig;
	rq.digest_len = MYCEL_HASH_LEN;
	rq.charter_hash = chd;
	rq.charter_hash_len = MYCEL_HASH_LEN;
	rq.from = PEER_URL;
	rq.from_len = strlen(PEER_URL);
	assert_int_equal(rpc(&M->ctx, "mycel.v1.Mesh/Digest", &rq, a, &r, msg, sizeof(msg)),
	                 MYCEL_RPC_FAILED_PRECONDITION);
	assert_non_null(strstr(msg, "mesh id eeeeeeeeeeeeeeee… is not this mesh's"));
	size_t seen = M->ops.seen;

	/* equal: {equal} and nothing else; the caller's URL is learnt */
	rq.mesh_id = M->mesh_id;
	assert_int_equal(rpc(&M->ctx, "mycel.v1.Mesh/Digest", &rq, a, &r, msg, sizeof(msg)),
	                 MYCEL_RPC_OK);
	assert_true(r.equal);
	assert_int_equal(r.n_heads, 0);
	assert_int_equal(r.n_buckets, 0);
	assert_null(r.charter_hash);
	assert_int_equal(M->ops.seen, seen + 1);
	/* our own URL is not learnt */
	rq.from = SELF_URL;
	rq.from_len = strlen(SELF_URL);
	assert_int_equal(rpc(&M->ctx, "mycel.v1.Mesh/Digest", &rq, a, &r, msg, sizeof(msg)),
	                 MYCEL_RPC_OK);
	assert_int_equal(M->ops.seen, seen + 1);

	/* same frontier, other charter: not equal; our charter's digest and version */
	uint8_t chd2[MYCEL_HASH_LEN];
	memcpy(chd2, chd, sizeof(chd2));
	chd2[0] ^= 1;
	rq.charter_hash = chd2;
	assert_int_equal(rpc(&M->ctx, "mycel.v1.Mesh/Digest", &rq, a, &r, msg, sizeof(msg)),
	                 MYCEL_RPC_OK);
	assert_false(r.equal);
	assert_int_equal(r.charter_hash_len, MYCEL_HASH_LEN);
	assert_memory_equal(r.charter_hash, chd, MYCEL_HASH_LEN);
	assert_int_equal(r.charter_version, 1);
	rq.charter_hash = chd;

	/* different frontier, small: every head */
	uint8_t dig2[MYCEL_HASH_LEN];
	memcpy(dig2, dig, sizeof(dig2));
	dig2[5] ^= 1;
	rq.digest = dig2;
	assert_int_equal(rpc(&M->ctx, "mycel.v1.Mesh/Digest", &rq, a, &r, msg, sizeof(msg)),
	                 MYCEL_RPC_OK);
	assert_false(r.equal);
	assert_int_equal(r.n_buckets, 0);
	assert_int_equal(r.n_heads, 1);
	uint64_t seq;
	uint8_t id[MYCEL_HASH_LEN];
	assert_int_equal(mycel_store_head(M->s, M->ka->pk, &seq, id), 0);
	assert_memory_equal(r.heads[0].feed, M->ka->pk, MYCEL_PK_LEN);
	assert_int_equal(r.heads[0].seq, 6);
	assert_memory_equal(r.heads[0].head, id, MYCEL_HASH_LEN);
	assert_false(r.heads[0].forked);

	/* large (100 more feeds in the frontier): the 256 bucket digests, then narrowed */
	for (unsigned i = 0; i < 100; i++) {
		mycel__head h;
		memset(&h, 0, sizeof(h));
		h.feed[0] = (uint8_t)(i * 7);
		h.feed[1] = (uint8_t)i;
		h.seq = i + 1;
		memset(h.head, (int)i, MYCEL_HASH_LEN);
		assert_int_equal(mycel__frontier_update(M->f, &h), 0);
	}
	static uint8_t bk[MYCEL__FRONTIER_BUCKETS][MYCEL_HASH_LEN];
	mycel__frontier_buckets(M->f, bk);
	assert_int_equal(rpc(&M->ctx, "mycel.v1.Mesh/Digest", &rq, a, &r, msg, sizeof(msg)),
	                 MYCEL_RPC_OK);
	assert_false(r.equal);
	assert_int_equal(r.n_heads, 0);
	assert_int_equal(r.n_buckets, MYCEL__FRONTIER_BUCKETS);
	for (size_t b = 0; b < MYCEL__FRONTIER_BUCKETS; b++) {
		assert_int_equal(r.buckets[b].len, MYCEL_HASH_LEN);
		assert_memory_equal(r.buckets[b].ptr, bk[b], MYCEL_HASH_LEN);
	}
	uint64_t want[] = {M->ka->pk[0], 7};
	rq.buckets = want;
	rq.n_buckets = 2;
	assert_int_equal(rpc(&M->ctx, "mycel.v1.Mesh/Digest", &rq, a, &r, msg, sizeof(msg)),
	                 MYCEL_RPC_OK);
	mycel__head *hh;
	size_t nh;
	assert_int_equal(mycel__frontier_heads(M->f, want, 2, &hh, &nh), 0);
	assert_true(nh >= 2);
	assert_int_equal(r.n_heads, nh);
	for (size_t i = 0; i < nh; i++) {
		assert_memory_equal(r.heads[i].feed, hh[i].feed, MYCEL_PK_LEN);
		assert_int_equal(r.heads[i].seq, hh[i].seq);
		assert_true(r.heads[i].feed[0] == want[0] || r.heads[i].feed[0] == 7);
	}
	free(hh);
	uint64_t bad[] = {256};
	rq.buckets = bad;
	rq.n_buckets = 1;
	assert_int_equal(rpc(&M->ctx, "mycel.v1.Mesh/Digest", &rq, a, &r, msg, sizeof(msg)),
	                 MYCEL_RPC_INVALID_ARGUMENT);
	assert_non_null(strstr(msg, "bucket 256"));
	mycel_arena_free(a);
}

/* A fork pushed: the proof is stored, the feed shows forked everywhere; Pull fork_feeds. */
static void test_fork(void **state)
{
	mycel_arena *a = arena();
	mycel_msg_PushReply r;
	mycel_msg_Entry e[3];
	char msg[512];
	mycel_entry forged, first;
	(void)state;

	for (size_t i = 0; i < 3; i++)
		set_entry(&e[i], M->a, i);
	assert_int_equal(push(e, 3, PEER_URL, a, &r, msg, sizeof(msg)), MYCEL_RPC_OK);
	assert_int_equal(r.accepted, 3);
	/* alpha's key signs another seq 2 */
	assert_int_equal(mycel_entry_decode(M->a->entry[0], M->a->entry_len[0], &first), 0);
	mycel_header hd;
	memset(&hd, 0, sizeof(hd));
	memcpy(hd.feed, M->ka->pk, MYCEL_PK_LEN);
	hd.seq = 2;
	hd.has_prev = true;
	memcpy(hd.prev, first.id, MYCEL_HASH_LEN);
	hd.ts_ms = first.h.ts_ms + 3600000; /* same body, another time: another id */
	snprintf(hd.kind, sizeof(hd.kind), "contract");
	mycel_body_hash(M->a->body[1], M->a->body_len[1], hd.body_hash);
	assert_int_equal(mycel_entry_sign(&hd, M->ka, &forged), 0);
	mycel_msg_Entry fe = {forged.raw, forged.len, M->a->body[1], M->a->body_len[1]};
	size_t rej = M->ops.rejected;
	assert_int_equal(push(&fe, 1, PEER_URL, a, &r, msg, sizeof(msg)), MYCEL_RPC_OK);
	assert_int_equal(r.refused, 1);
	assert_non_null(r.reason);
	assert_non_null(strstr(r.reason, "fork"));
	assert_int_equal(M->ops.rejected, rej); /* the feed's owner equivocated, not the peer */
	assert_int_equal(M->ops.committed_forks, 1);
	size_t nf;
	assert_int_equal(mycel_store_fork_count(M->s, &nf), 0);
	assert_int_equal(nf, 1);
	mycel__head h;
	assert_true(mycel__frontier_get(M->f, M->ka->pk, &h));
	assert_true(h.forked);
	assert_int_equal(h.seq, 3);

	/* Get, Search and Status say so */
	mycel_msg_GetRequest g = {.domain = "alpha", .domain_len = 5, .id = "orders", .id_len = 6};
	mycel_msg_GetReply gr;
	assert_int_equal(rpc(&M->ctx, "mycel.v1.Catalog/Get", &g, a, &gr, msg, sizeof(msg)),
	                 MYCEL_RPC_OK);
	assert_true(gr.forked);
	mycel_msg_SearchRequest sq = {.text = "orders", .text_len = 6};
	mycel_msg_SearchReply sr;
	assert_int_equal(rpc(&M->ctx, "mycel.v1.Catalog/Search", &sq, a, &sr, msg, sizeof(msg)),
	                 MYCEL_RPC_OK);
	assert_true(sr.n_hits >= 1);
	assert_true(sr.hits[0].forked);
	mycel_msg_StatusRequest st0;
	mycel_msg_StatusReply st;
	memset(&st0, 0, sizeof(st0));
	assert_int_equal(rpc(&M->ctx, "mycel.v1.Catalog/Status", &st0, a, &st, msg, sizeof(msg)),
	                 MYCEL_RPC_OK);
	assert_int_equal(st.forks, 1);
	assert_int_equal(st.n_forked_feeds, 1);
	assert_memory_equal(st.forked_feeds[0].ptr, M->ka->pk, MYCEL_PK_LEN);
	assert_int_equal(st.frontier_feeds, 1);
	assert_int_equal(st.n_heads, 1);
	assert_true(st.heads[0].forked);

	/* a beta document is not forked */
	set_entry(&e[0], M->b, 0);
	assert_int_equal(push(e, 1, PEER_URL, a, &r, msg, sizeof(msg)), MYCEL_RPC_OK);
	mycel_msg_GetRequest g2 = {
	    .domain = "beta", .domain_len = 4, .id = "payments", .id_len = 8};
	assert_int_equal(rpc(&M->ctx, "mycel.v1.Catalog/Get", &g2, a, &gr, msg, sizeof(msg)),
	                 MYCEL_RPC_OK);
	assert_false(gr.forked);

	/* Pull fork_feeds: the proof's two entries */
	mycel_bytes ff = {M->ka->pk, MYCEL_PK_LEN};
	mycel_msg_PullRequest pq;
	mycel_msg_PullReply pr;
	memset(&pq, 0, sizeof(pq));
	pq.fork_feeds = &ff;
	pq.n_fork_feeds = 1;
	assert_int_equal(rpc(&M->ctx, "mycel.v1.Mesh/Pull", &pq, a, &pr, msg, sizeof(msg)),
	                 MYCEL_RPC_OK);
	assert_int_equal(pr.n_entries, 0);
	assert_int_equal(pr.n_forks, 1);
	mycel_entry pa, pb;
	assert_int_equal(mycel_entry_decode(pr.forks[0].a->entry, pr.forks[0].a->entry_len, &pa),
	                 0);
	assert_int_equal(mycel_entry_decode(pr.forks[0].b->entry, pr.forks[0].b->entry_len, &pb),
	                 0);
	assert_int_equal(pa.h.seq, 2);
	assert_int_equal(pb.h.seq, 2);
	assert_true(memcmp(pa.id, forged.id, MYCEL_HASH_LEN) == 0 ||
	            memcmp(pb.id, forged.id, MYCEL_HASH_LEN) == 0);

	/* that proof pushed on its own to a node holding nothing of alpha: stored there too */
	char dir2[64];
	tc_tmpdir("mesh2", dir2, sizeof(dir2));
	mycel_store *s2 = tc_store_new(dir2, M->charter.data, M->charter.len);
	mycel_rpc_ctx c2 = {.store = s2};
	mycel_msg_PushRequest fq;
	memset(&fq, 0, sizeof(fq));
	fq.forks = pr.forks;
	fq.n_forks = 1;
	assert_int_equal(rpc(&c2, "mycel.v1.Mesh/Push", &fq, a, &r, msg, sizeof(msg)),
	                 MYCEL_RPC_OK);
	assert_int_equal(r.refused, 0);
	assert_null(r.reason);
	assert_int_equal(mycel_store_fork_count(s2, &nf), 0);
	assert_int_equal(nf, 1);
	assert_int_equal(rpc(&c2, "mycel.v1.Catalog/Status", &st0, a, &st, msg, sizeof(msg)),
	                 MYCEL_RPC_OK);
	assert_int_equal(st.forks, 1);
	assert_int_equal(st.n_forked_feeds, 1);
	/* a proof whose second entry is forged: refused, nothing stored */
	mycel_store_close(s2);
	tc_rm_rf(dir2);
	tc_tmpdir("mesh2", dir2, sizeof(dir2));
	s2 = tc_store_new(dir2, M->charter.data, M->charter.len);
	c2.store = s2;
	uint8_t badb[MYCEL_ENTRY_MAX];
	mycel_msg_ForkProof fp = *pr.forks;
	mycel_msg_Entry eb = *fp.b;
	memcpy(badb, eb.entry, eb.entry_len);
	badb[eb.entry_len - 1] ^= 1;
	eb.entry = badb;
	fp.b = &eb;
	fq.forks = &fp;
	assert_int_equal(rpc(&c2, "mycel.v1.Mesh/Push", &fq, a, &r, msg, sizeof(msg)),
	                 MYCEL_RPC_OK);
	assert_non_null(r.reason);
	assert_non_null(strstr(r.reason, "signature"));
	assert_int_equal(mycel_store_fork_count(s2, &nf), 0);
	assert_int_equal(nf, 0);
	mycel_store_close(s2);
	tc_rm_rf(dir2);
	mycel_arena_free(a);
}

/* Charter `newer`: every charter file after the caller's version, in order. */
static void test_charter_newer(void **state)
{
	mycel_arena *a = arena();
	mycel_msg_CharterRequest rq;
	mycel_msg_CharterReply r;
	char msg[512], why[256];
	mycel_buf v2, v3;
	(void)state;

	for (uint64_t v = 2; v <= 3; v++) {
		mycel_charter *c = NULL;
		mycel_buf *out = v == 2 ? &v2 : &v3;
		assert_int_equal(mycel_charter_new("acme", v, 1, &c), 0);
		assert_int_equal(mycel_charter_add_member(c, "gov", M->gov->pk), 0);
		assert_int_equal(mycel_charter_add_domain(c, "alpha", M->ka->pk), 0);
		assert_int_equal(mycel_charter_add_domain(c, "beta", M->kb->pk), 0);
		if (v == 3)
			assert_int_equal(mycel_charter_add_domain(c, "gamma", M->kc->pk), 0);
		assert_int_equal(mycel_charter_sign(c, M->gov, why, sizeof(why)), 0);
		mycel_buf_init(out, MYCEL_CHARTER_MAX);
		assert_int_equal(mycel_charter_encode(c, out), 0);
		mycel_charter_free(c);
		if (mycel_store_add_charter(M->s, out->data, out->len, why, sizeof(why)) != 0)
			fail_msg("charter v%llu: %s", (unsigned long long)v, why);
	}
	memset(&rq, 0, sizeof(rq));
	rq.has_version = true;
	rq.version = 1;
	assert_int_equal(rpc(&M->ctx, "mycel.v1.Mesh/Charter", &rq, a, &r, msg, sizeof(msg)),
	                 MYCEL_RPC_OK);
	assert_int_equal(r.n_newer, 2);
	assert_int_equal(r.newer[0].len, v2.len);
	assert_memory_equal(r.newer[0].ptr, v2.data, v2.len);
	assert_int_equal(r.newer[1].len, v3.len);
	assert_memory_equal(r.newer[1].ptr, v3.data, v3.len);
	assert_non_null(r.charter); /* the current one too */
	rq.version = 3;
	assert_int_equal(rpc(&M->ctx, "mycel.v1.Mesh/Charter", &rq, a, &r, msg, sizeof(msg)),
	                 MYCEL_RPC_OK);
	assert_int_equal(r.n_newer, 0);
	rq.has_version = false;
	assert_int_equal(rpc(&M->ctx, "mycel.v1.Mesh/Charter", &rq, a, &r, msg, sizeof(msg)),
	                 MYCEL_RPC_OK);
	assert_int_equal(r.n_newer, 0);
	mycel_buf_fini(&v2);
	mycel_buf_fini(&v3);
	mycel_arena_free(a);
}

/* Admin PeersAdd/PeersRemove/Peers go through the gossip engine; without it: refused. */
static void test_peers(void **state)
{
	mycel_arena *a = arena();
	mycel_msg_PeerRequest rq = {.addr = PEER_URL, .addr_len = strlen(PEER_URL)};
	mycel_msg_PeersReply r;
	mycel_msg_Empty e;
	char msg[512];
	(void)state;

	assert_int_equal(rpc(&M->ctx, "mycel.v1.Admin/PeersAdd", &rq, a, &r, msg, sizeof(msg)),
	                 MYCEL_RPC_OK);
	assert_int_equal(r.n_peers, 1);
	assert_string_equal(r.peers[0].addr, PEER_URL);
	memset(&e, 0, sizeof(e));
	assert_int_equal(rpc(&M->ctx, "mycel.v1.Admin/Peers", &e, a, &r, msg, sizeof(msg)),
	                 MYCEL_RPC_OK);
	assert_int_equal(r.n_peers, 1);
	assert_string_equal(r.peers[0].state, "alive");
	mycel_msg_PeerRequest self = {.addr = SELF_URL, .addr_len = strlen(SELF_URL)};
	assert_int_equal(rpc(&M->ctx, "mycel.v1.Admin/PeersAdd", &self, a, &r, msg, sizeof(msg)),
	                 MYCEL_RPC_INVALID_ARGUMENT);
	assert_non_null(strstr(msg, "own URL"));
	assert_int_equal(rpc(&M->ctx, "mycel.v1.Admin/PeersRemove", &rq, a, &r, msg, sizeof(msg)),
	                 MYCEL_RPC_OK);
	assert_int_equal(r.n_peers, 0);
	assert_int_equal(rpc(&M->ctx, "mycel.v1.Admin/PeersRemove", &rq, a, &r, msg, sizeof(msg)),
	                 MYCEL_RPC_NOT_FOUND);
	mycel_msg_StatusRequest sq;
	mycel_msg_StatusReply st;
	memset(&sq, 0, sizeof(sq));
	assert_int_equal(rpc(&M->ctx, "mycel.v1.Admin/PeersAdd", &rq, a, &r, msg, sizeof(msg)),
	                 MYCEL_RPC_OK);
	assert_int_equal(rpc(&M->ctx, "mycel.v1.Catalog/Status", &sq, a, &st, msg, sizeof(msg)),
	                 MYCEL_RPC_OK);
	assert_int_equal(st.n_peer_list, 1);
	assert_string_equal(st.peer_list[0].addr, PEER_URL);

	mycel_rpc_ctx bare = {.store = M->s};
	assert_int_equal(rpc(&bare, "mycel.v1.Admin/PeersAdd", &rq, a, &r, msg, sizeof(msg)),
	                 MYCEL_RPC_FAILED_PRECONDITION);
	assert_string_equal(msg, "this node runs without gossip");
	mycel_arena_free(a);
}

/* ---- two concurrent pushes: one transaction, independent outcomes ---------------------- */

typedef struct pusher {
	mycel_msg_Entry e[8];
	size_t n;
	uint64_t status;
	mycel_msg_PushReply r;
	mycel_arena *a;
	char msg[256];
} pusher;

static void *push_main(void *arg)
{
	pusher *p = arg;
	p->status = push(p->e, p->n, PEER_URL, p->a, &p->r, p->msg, sizeof(p->msg));
	return NULL;
}

static void test_concurrent_push(void **state)
{
	pusher p[2];
	pthread_t t[2];
	uint8_t bad[MYCEL_ENTRY_MAX];
	mycel__writer_stats s0, s1;
	(void)state;

	memset(p, 0, sizeof(p));
	/* alpha 1..4 valid; beta 1, 2 and a forged 3 */
	for (size_t i = 0; i < 4; i++)
		set_entry(&p[0].e[i], M->a, i);
	p[0].n = 4;
	for (size_t i = 0; i < 3; i++)
		set_entry(&p[1].e[i], M->b, i);
	memcpy(bad, M->b->entry[2], M->b->entry_len[2]);
	bad[M->b->entry_len[2] - 1] ^= 0x01;
	p[1].e[2].entry = bad;
	p[1].n = 3;
	mycel__writer_stats_get(M->w, &s0);
	mycel__writer_hold(M->w, true);
	for (size_t i = 0; i < 2; i++) {
		p[i].a = arena();
		assert_int_equal(pthread_create(&t[i], NULL, push_main, &p[i]), 0);
	}
	assert_int_equal(mycel__writer_wait_queued(M->w, 2, 20000), 0);
	mycel__writer_hold(M->w, false);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	mycel__writer_stats_get(M->w, &s1);
	assert_int_equal(s1.commits - s0.commits, 1);
	assert_int_equal(s1.requests - s0.requests, 2);
	assert_int_equal(p[0].status, MYCEL_RPC_OK);
	assert_int_equal(p[0].r.accepted, 4);
	assert_null(p[0].r.reason);
	assert_int_equal(p[1].status, MYCEL_RPC_OK);
	assert_int_equal(p[1].r.accepted, 2);
	assert_int_equal(p[1].r.refused, 1);
	assert_non_null(strstr(p[1].r.reason, "seq 3: signature does not verify"));
	assert_int_equal(head_of(M->ka->pk), 4);
	assert_int_equal(head_of(M->kb->pk), 2);
	for (size_t i = 0; i < 2; i++)
		mycel_arena_free(p[i].a);
}

typedef struct big {
	size_t n;
	uint8_t (*entry)[MYCEL_ENTRY_MAX];
	size_t *entry_len;
	uint8_t (*body)[256];
	size_t *body_len;
} big;

static int big_cb(void *ctx, const mycel_entry *e, const uint8_t *body, size_t body_len)
{
	big *x = ctx;
	assert_true(x->n < 400 && body_len <= 256);
	memcpy(x->entry[x->n], e->raw, e->len);
	x->entry_len[x->n] = e->len;
	memcpy(x->body[x->n], body, body_len);
	x->body_len[x->n++] = body_len;
	return 0;
}

/* A large batch is verified on several threads; a forged entry still stops its feed there. */
static void test_ingest_threads(void **state)
{
	big x = {0, calloc(400, MYCEL_ENTRY_MAX), calloc(400, sizeof(size_t)), calloc(400, 256),
	         calloc(400, sizeof(size_t))};
	mycel_blob *b = calloc(400, sizeof(*b));
	mycel__ingest_result r;
	(void)state;
	assert_non_null(x.entry);
	assert_non_null(b);
	for (size_t i = 0; i < 300; i++) {
		mycel_buf body;
		mycel_buf_init(&body, 64);
		mycel_enc_map(&body, 1);
		mycel_enc_cstr(&body, "n");
		mycel_enc_uint(&body, i);
		mycel_record rec = {"domain", body.data, body.len};
		assert_int_equal(mycel_store_append(M->src, M->kb, M->kb->pk, &rec, 1, NULL), 0);
		mycel_buf_fini(&body);
	}
	assert_int_equal(mycel_store_scan(M->src, M->kb->pk, 1, big_cb, &x), 0);
	assert_int_equal(x.n, 303);
	for (size_t i = 0; i < x.n; i++)
		b[i] = (mycel_blob){x.entry[i], x.entry_len[i], x.body[i], x.body_len[i]};
	uint8_t forged[MYCEL_ENTRY_MAX];
	memcpy(forged, x.entry[150], x.entry_len[150]);
	forged[x.entry_len[150] - 1] ^= 0x01;
	b[150].entry = forged;
	assert_int_equal(mycel__ingest(&M->ctx, b, x.n, NULL, 0, PEER_URL, 4, &r), 0);
	assert_int_equal(r.accepted, 150);
	assert_int_equal(r.refused, 153);
	assert_int_equal(r.code, MYCEL_EBADSIG);
	assert_non_null(strstr(r.why, "seq 151: signature does not verify"));
	assert_int_equal(head_of(M->kb->pk), 150);
	b[150].entry = x.entry[150];
	assert_int_equal(mycel__ingest(&M->ctx, b, x.n, NULL, 0, PEER_URL, 4, &r), 0);
	assert_int_equal(r.known, 150);
	assert_int_equal(r.accepted, 153);
	assert_int_equal(r.code, 0);
	assert_int_equal(head_of(M->kb->pk), 303);
	free(x.entry);
	free(x.entry_len);
	free(x.body);
	free(x.body_len);
	free(b);
}

/* A publish here (Admin) reaches the frontier and the gossip engine too, from NULL. */
static void test_publish_hook(void **state)
{
	mycel_arena *a = arena();
	static const char doc[] = "apiVersion: v3.0.2\nkind: DataContract\nid: invoices\n"
	                          "name: Invoices\nversion: 1.0.0\nstatus: active\ndomain: alpha\n";
	mycel_msg_PublishDoc d = {.document = (const uint8_t *)doc,
	                          .document_len = sizeof(doc) - 1};
	mycel_msg_PublishRequest rq = {.documents = &d, .n_documents = 1};
	mycel_msg_PublishReply r;
	char msg[512];
	mycel__head h;
	(void)state;

	/* the writer copies its context at start: restart it with alpha's key */
	mycel__writer_free(M->w);
	M->ctx.wq = NULL;
	M->ctx.key = M->ka;
	M->ctx.domain = "alpha";
	assert_int_equal(mycel__writer_start(&M->ctx, &M->w), 0);
	M->ctx.wq = M->w;
	assert_int_equal(rpc(&M->ctx, "mycel.v1.Admin/Publish", &rq, a, &r, msg, sizeof(msg)),
	                 MYCEL_RPC_OK);
	assert_int_equal(r.n_entries, 1);
	assert_int_equal(M->ops.committed, 1);
	assert_string_equal(M->ops.last_from, "(null)");
	assert_true(mycel__frontier_get(M->f, M->ka->pk, &h));
	assert_int_equal(h.seq, 1);
	mycel_entry e;
	assert_int_equal(mycel_entry_decode(r.entries[0].entry, r.entries[0].entry_len, &e), 0);
	assert_memory_equal(h.head, e.id, MYCEL_HASH_LEN);
	mycel_arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_frontier_vectors),
	    cmocka_unit_test(test_frontier_updates),
	    cmocka_unit_test(test_frontier_open_store),
	    cmocka_unit_test_setup_teardown(test_push, mesh_setup, mesh_teardown),
	    cmocka_unit_test_setup_teardown(test_digest, mesh_setup, mesh_teardown),
	    cmocka_unit_test_setup_teardown(test_fork, mesh_setup, mesh_teardown),
	    cmocka_unit_test_setup_teardown(test_charter_newer, mesh_setup, mesh_teardown),
	    cmocka_unit_test_setup_teardown(test_peers, mesh_setup, mesh_teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_push, mesh_setup, mesh_teardown),
	    cmocka_unit_test_setup_teardown(test_publish_hook, mesh_setup, mesh_teardown),
	    cmocka_unit_test_setup_teardown(test_ingest_threads, mesh_setup, mesh_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
