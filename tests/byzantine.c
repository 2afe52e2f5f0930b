/*
 * byzantine.c — a byzantine peer against a mesh of honest myceld processes (issue 5).
 *
 * Three honest nodes (domains d00-d02) gossip; this program holds the key of domain d03 (the
 * charter admits it, no node serves it) and a key the charter does not admit, crafts entries
 * by hand (mycel/entry.h) and sends them to node d00 as Mesh/Push requests over tcp, with
 * raw garbage frames besides. Each kind of bad input must be refused with the right counts
 * and reason and change nothing; a genuine fork (two valid entries at one seq) must be stored
 * as a proof and shown forked on every honest node after gossip; after enough rejects the
 * peer is ignored; and the honest nodes keep converging and answering Get.
 *
 * argv[1] is the daemon. Skipped (and says so) while the daemon takes no `gossip:` section
 * or answers Push with UNIMPLEMENTED.
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

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <sodium.h>

#include "mycel/client.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/rpc.h"
#include "mycel/store.h"

#include "mesh_harness.h"

static const char *myceld_path;
static const char *mycel_path; /* the CLI, for what a person sees of the fork */

/*
 * Runs `mycel ARGS` (through the shell, stdout and stderr together) and fails unless its
 * output holds want; returns its exit status.
 */
static int cli_shows(const char *args, const char *want)
{
	char cmd[2048], out[16384];
	snprintf(cmd, sizeof(cmd), "'%s' %s 2>&1", mycel_path, args);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	size_t n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	int st = pclose(f);
	if (strstr(out, want) == NULL)
		fail_msg("mycel %s: the output lacks \"%s\":\n%s", args, want, out);
	return st;
}
static mh_mesh *M;

/* The address the byzantine peer claims in Push.from (nothing listens there). */
#define BYZ_FROM "tcp://127.0.0.1:9"
/* Rejects after which the honest nodes ignore a peer (written in their configuration). */
#define REJECT_LIMIT 20

#define MH_OK(expr)                                                                                \
	do {                                                                                       \
		int rv_ = (expr);                                                                  \
		if (rv_ != 0)                                                                      \
			fail_msg("%s: %s: %s", #expr, mycel_errname(rv_), M->err);                 \
	} while (0)

/* One crafted entry with its body. */
typedef struct byz_entry {
	mycel_entry e;
	uint8_t body[1024];
	size_t body_len;
} byz_entry;

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A contract body (canonical map, keys in bytewise order) of domain dom. */
static void make_body(const char *dom, const char *id, const char *version, const char *purpose,
                      byz_entry *out)
{
	mycel_buf b;
	mycel_buf_init_fixed(&b, out->body, sizeof(out->body));
	mycel_enc_map(&b, 8);
	mycel_enc_cstr(&b, "apiVersion");
	mycel_enc_cstr(&b, "v3.0.2");
	mycel_enc_cstr(&b, "description");
	mycel_enc_map(&b, 1);
	mycel_enc_cstr(&b, "purpose");
	mycel_enc_cstr(&b, purpose);
	mycel_enc_cstr(&b, "domain");
	mycel_enc_cstr(&b, dom);
	mycel_enc_cstr(&b, "id");
	mycel_enc_cstr(&b, id);
	mycel_enc_cstr(&b, "kind");
	mycel_enc_cstr(&b, "DataContract");
	mycel_enc_cstr(&b, "name");
	mycel_enc_cstr(&b, id);
	mycel_enc_cstr(&b, "status");
	mycel_enc_cstr(&b, "active");
	mycel_enc_cstr(&b, "version");
	mycel_enc_cstr(&b, version);
	assert_int_equal(b.err, 0);
	out->body_len = b.len;
}

/* Signs entry seq of k's feed after prev (NULL for seq 1) with a contract body. */
static void make_entry(const mycel_key *k, uint64_t seq, const mycel_entry *prev, uint64_t ts,
                       const char *dom, const char *id, const char *version, const char *purpose,
                       byz_entry *out)
{
	mycel_header h;
	memset(&h, 0, sizeof(h));
	memset(out, 0, sizeof(*out));
	make_body(dom, id, version, purpose, out);
	memcpy(h.feed, k->pk, MYCEL_PK_LEN);
	h.seq = seq;
	h.has_prev = prev != NULL;
	if (prev != NULL)
		memcpy(h.prev, prev->id, MYCEL_HASH_LEN);
	h.ts_ms = ts;
	snprintf(h.kind, sizeof(h.kind), "contract");
	mycel_body_hash(out->body, out->body_len, h.body_hash);
	assert_int_equal(mycel_entry_sign(&h, k, &out->e), 0);
}

/* Every entry the byzantine peer sends, crafted once. */
typedef struct kit {
	byz_entry e1, e2, e3; /* a genuine chain of d03 */
	byz_entry forged;     /* e3 with its signature's last byte flipped */
	byz_entry broken;     /* seq 3 whose prev is not e2's id */
	byz_entry wrongbody;  /* e3 with a body that is not the one it signs */
	byz_entry backwards;  /* seq 3 with a timestamp a minute before e2's */
	byz_entry outsider;   /* seq 1 of a feed the charter does not admit */
	byz_entry junk;       /* e3 with its first bytes overwritten: no entry */
	byz_entry fork2;      /* another valid seq 2 of d03: a fork with e2 */
	byz_entry e4;         /* a valid seq 4 after e3: a gap where e3 is missing */
} kit;

static void craft(kit *k, const mycel_key *bk, const mycel_key *outsider, uint64_t ts)
{
	make_entry(bk, 1, NULL, ts, "d03", "byz", "1.0.0", "genuine", &k->e1);
	make_entry(bk, 2, &k->e1.e, ts + 1, "d03", "byz", "1.1.0", "genuine", &k->e2);
	make_entry(bk, 3, &k->e2.e, ts + 2, "d03", "byz", "1.2.0", "genuine", &k->e3);
	k->forged = k->e3;
	k->forged.e.raw[k->forged.e.len - 1] ^= 0x01;
	mycel_entry fake = k->e2.e;
	fake.id[0] ^= 0xff;
	make_entry(bk, 3, &fake, ts + 2, "d03", "byz", "1.2.0", "broken", &k->broken);
	k->wrongbody = k->e3;
	k->wrongbody.body[k->wrongbody.body_len - 1] ^= 0x01;
	make_entry(bk, 3, &k->e2.e, ts - 60000, "d03", "byz", "1.2.0", "backwards", &k->backwards);
	make_entry(outsider, 1, NULL, ts, "d03", "byz", "9.0.0", "outsider", &k->outsider);
	k->junk = k->e3;
	memset(k->junk.e.raw, 0xc1, 16);
	make_entry(bk, 2, &k->e1.e, ts + 1, "d03", "byz", "1.1.0", "the other history", &k->fork2);
	make_entry(bk, 4, &k->e3.e, ts + 3, "d03", "byz", "1.3.0", "genuine", &k->e4);
}

/* The kit: static, too large for a stack under sanitizers. */
static kit K;

/* A Push reply and what came with it. */
typedef struct push_out {
	uint64_t status;
	char message[1024];
	uint64_t accepted, known, refused;
	bool gap;
	char reason[1100];
} push_out;

/* Sends the encoded PushRequest body req to node 0 and decodes the reply. */
static void push_raw(const uint8_t *req, size_t n, push_out *out)
{
	mycel_client *c = NULL;
	char *msg = NULL;
	uint8_t *body = NULL;
	size_t len = 0;
	memset(out, 0, sizeof(*out));
	assert_int_equal(mycel_client_open(M->nodes[0].url, &c), 0);
	assert_int_equal(mycel_client_call(c, "mycel.v1.Mesh/Push", wall_ms() + 10000u * mh_scale(),
	                                   req, n, &out->status, &msg, &body, &len),
	                 0);
	snprintf(out->message, sizeof(out->message), "%s", msg ? msg : "");
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
		out->gap = r.has_gap && r.gap;
		snprintf(out->reason, sizeof(out->reason), "%s", r.reason ? r.reason : "");
		mycel_arena_free(a);
	}
	free(msg);
	free(body);
	mycel_client_close(c);
}

/* Pushes es[0..n) (and forks) from BYZ_FROM to node 0. */
static void push(const byz_entry *const *es, size_t n, const mycel_msg_ForkProof *forks,
                 size_t n_forks, push_out *out)
{
	mycel_msg_Entry items[64];
	mycel_msg_PushRequest rq;
	mycel_buf b;
	assert_true(n <= 64);
	for (size_t i = 0; i < n; i++)
		items[i] = (mycel_msg_Entry){.entry = es[i]->e.raw,
		                             .entry_len = es[i]->e.len,
		                             .body = es[i]->body,
		                             .body_len = es[i]->body_len};
	memset(&rq, 0, sizeof(rq));
	rq.entries = n ? items : NULL;
	rq.n_entries = n;
	rq.has_hops = true;
	rq.forks = forks;
	rq.n_forks = n_forks;
	rq.from = BYZ_FROM;
	rq.from_len = strlen(BYZ_FROM);
	mycel_buf_init(&b, 8u << 20);
	assert_int_equal(mycel_msg_PushRequest_encode(&rq, &b), 0);
	push_raw(b.data, b.len, out);
	mycel_buf_fini(&b);
}

/* A refusal of exactly one entry, for code, and nothing accepted. */
static void expect_refused(const push_out *o, int code, const char *what)
{
	if (o->status != MYCEL_RPC_OK)
		fail_msg("%s: Push answered %s: %s", what, mycel_rpc_status_name(o->status),
		         o->message);
	if (o->accepted != 0 || o->refused != 1 || o->known != 0)
		fail_msg("%s: accepted %llu known %llu refused %llu (want 0/0/1), reason %s", what,
		         (unsigned long long)o->accepted, (unsigned long long)o->known,
		         (unsigned long long)o->refused, o->reason);
	if (strstr(o->reason, mycel_errname(code)) == NULL &&
	    strstr(o->reason, mycel_strerror(code)) == NULL)
		fail_msg("%s: reason \"%s\" does not say %s", what, o->reason, mycel_errname(code));
}

/* Node i's Status (arena a). */
static void status(size_t i, mycel_arena *a, mycel_msg_StatusReply *r)
{
	MH_OK(mh_status(M, i, a, r));
}

/* The byzantine peer's row in node i's peers table: its state and rejects (false: none). */
static bool byz_peer(size_t i, char *state, size_t cap, uint64_t *rejects)
{
	mycel_arena *a = NULL;
	mycel_msg_StatusReply r;
	bool found = false;
	assert_int_equal(mycel_arena_new(8u << 20, &a), 0);
	status(i, a, &r);
	for (size_t k = 0; k < r.n_peer_list; k++) {
		const mycel_msg_Peer *p = &r.peer_list[k];
		if (p->addr != NULL && strcmp(p->addr, BYZ_FROM) == 0) {
			snprintf(state, cap, "%s", p->state ? p->state : "");
			*rejects = p->rejects;
			found = true;
		}
	}
	mycel_arena_free(a);
	return found;
}

/* True when node i's Status shows feed as forked (forks >= 1 and listed). */
static bool shows_forked(size_t i, const uint8_t feed[MYCEL_PK_LEN])
{
	mycel_arena *a = NULL;
	mycel_msg_StatusReply r;
	bool listed = false, head = false;
	assert_int_equal(mycel_arena_new(8u << 20, &a), 0);
	status(i, a, &r);
	for (size_t k = 0; k < r.n_forked_feeds; k++)
		if (r.forked_feeds[k].len == MYCEL_PK_LEN &&
		    memcmp(r.forked_feeds[k].ptr, feed, MYCEL_PK_LEN) == 0)
			listed = true;
	for (size_t k = 0; k < r.n_heads; k++)
		if (r.heads[k].feed_len == MYCEL_PK_LEN &&
		    memcmp(r.heads[k].feed, feed, MYCEL_PK_LEN) == 0)
			head = r.heads[k].has_forked && r.heads[k].forked;
	bool yes = r.has_forks && r.forks >= 1 && listed && head;
	mycel_arena_free(a);
	return yes;
}

/* Get dom/id on node i over tcp, verified against the pinned charter; *forked from the reply. */
static void get_verified(size_t i, size_t dom, const char *id, const char *version, bool *forked)
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
	assert_true(r.shown < r.n_versions);
	assert_string_equal(r.versions[r.shown].version, version);
	if (forked != NULL)
		*forked = r.has_forked && r.forked;
	mycel_arena_free(a);
	mycel_client_close(c);
}

/*
 * The fork proof node i gives for feed (Mesh/Pull fork_feeds): it must be a proof anyone can
 * check (both entries signed by the feed's key, same seq, other ids) of exactly a and b.
 */
static void check_fork_proof(size_t i, const uint8_t feed[MYCEL_PK_LEN], const byz_entry *a,
                             const byz_entry *b)
{
	mycel_client *c = NULL;
	mycel_arena *ar = NULL;
	mycel_msg_PullRequest rq;
	mycel_msg_PullReply r;
	mycel_bytes ff = {feed, MYCEL_PK_LEN};
	mycel_buf req;
	uint64_t st = 99;
	char *msg = NULL;
	uint8_t *body = NULL;
	size_t len = 0;
	char why[256] = "";
	memset(&rq, 0, sizeof(rq));
	rq.fork_feeds = &ff;
	rq.n_fork_feeds = 1;
	mycel_buf_init(&req, 1 << 16);
	assert_int_equal(mycel_msg_PullRequest_encode(&rq, &req), 0);
	assert_int_equal(mycel_client_open(M->nodes[i].url, &c), 0);
	assert_int_equal(mycel_client_call(c, "mycel.v1.Mesh/Pull", wall_ms() + 10000u * mh_scale(),
	                                   req.data, req.len, &st, &msg, &body, &len),
	                 0);
	if (st != MYCEL_RPC_OK)
		fail_msg("node %s: Pull fork_feeds: %s: %s", M->nodes[i].name,
		         mycel_rpc_status_name(st), msg ? msg : "");
	assert_int_equal(mycel_arena_new(1u << 20, &ar), 0);
	if (mycel_msg_PullReply_decode(body, len, ar, &r, why, sizeof(why)) != 0)
		fail_msg("node %s: Pull reply: %s", M->nodes[i].name, why);
	if (r.n_forks != 1 || r.forks[0].a == NULL || r.forks[0].b == NULL)
		fail_msg("node %s: %zu fork proofs for the feed, want 1", M->nodes[i].name,
		         r.n_forks);
	mycel_entry x, y;
	assert_int_equal(mycel_entry_decode(r.forks[0].a->entry, r.forks[0].a->entry_len, &x), 0);
	assert_int_equal(mycel_entry_decode(r.forks[0].b->entry, r.forks[0].b->entry_len, &y), 0);
	uint8_t proof[MYCEL_FORK_MAX];
	size_t plen = 0;
	assert_int_equal(mycel_fork_encode(&x, &y, proof, &plen), 0);
	assert_int_equal(mycel_fork_verify(proof, plen, feed, NULL, NULL), 0);
	bool ab = memcmp(x.id, a->e.id, MYCEL_HASH_LEN) == 0 &&
	          memcmp(y.id, b->e.id, MYCEL_HASH_LEN) == 0;
	bool ba = memcmp(x.id, b->e.id, MYCEL_HASH_LEN) == 0 &&
	          memcmp(y.id, a->e.id, MYCEL_HASH_LEN) == 0;
	assert_true(ab || ba);
	mycel_arena_free(ar);
	free(msg);
	free(body);
	mycel_buf_fini(&req);
	mycel_client_close(c);
}

/* Search on node i finds dom/id and shows it forked (or not). */
static void search_forked(size_t i, const char *dom, const char *id, bool want)
{
	mycel_client *c = NULL;
	mycel_arena *a = NULL;
	mycel_result res;
	mycel_msg_SearchRequest rq;
	mycel_msg_SearchReply r;
	memset(&rq, 0, sizeof(rq));
	rq.text = id;
	rq.text_len = strlen(id);
	rq.domain = dom;
	rq.domain_len = strlen(dom);
	assert_int_equal(mycel_client_open(M->nodes[i].url, &c), 0);
	mycel_client_set_timeout(c, 5000u * mh_scale());
	assert_int_equal(mycel_arena_new(8u << 20, &a), 0);
	int rv = mycel_client_fetch_charter(c, M->mesh_id, &res);
	assert_true(rv == 0 && res.status == MYCEL_RPC_OK);
	rv = mycel_client_search(c, &rq, a, &res, &r);
	if (rv != 0 || res.status != MYCEL_RPC_OK)
		fail_msg("node %s: Search %s: %s %s", M->nodes[i].name, id, mycel_errname(rv),
		         res.message);
	bool found = false;
	for (size_t k = 0; k < r.n_hits; k++)
		if (r.hits[k].id != NULL && strcmp(r.hits[k].id, id) == 0) {
			found = true;
			assert_int_equal(r.hits[k].has_forked && r.hits[k].forked, want);
		}
	if (!found)
		fail_msg("node %s: Search %s: no hit", M->nodes[i].name, id);
	mycel_arena_free(a);
	mycel_client_close(c);
}

/* Sends raw bytes as one nng request to node 0; whatever comes back (or not) within 2 s. */
static void send_frame(const uint8_t *p, size_t n)
{
	nng_socket s;
	assert_int_equal(nng_req0_open(&s), 0);
	assert_int_equal(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 2000), 0);
	assert_int_equal(nng_dial(s, M->nodes[0].url, NULL, 0), 0);
	assert_int_equal(nng_send(s, (void *)p, n, 0), 0);
	char *buf = NULL;
	size_t sz = 0;
	int rv = nng_recv(s, &buf, &sz, NNG_FLAG_ALLOC);
	if (rv == 0) {
		/* A reply must be an error envelope, never OK. */
		mycel_rpc_reply r;
		char why[128];
		if (mycel_rpc_reply_decode((const uint8_t *)buf, sz, sz, &r, why, sizeof(why)) == 0)
			assert_int_not_equal(r.status, MYCEL_RPC_OK);
		nng_free(buf, sz);
	}
	nng_close(s);
}

static void on_problem(void *ctx, const mycel_problem *p)
{
	print_error("store of %s: %s seq %llu: %s: %s\n", (const char *)ctx, p->what,
	            (unsigned long long)p->seq, mycel_errname(p->code), p->message);
}

static int teardown(void **state)
{
	(void)state;
	mh_mesh_free(M, false);
	M = NULL;
	mh_kill_all();
	return 0;
}

/*
 * The crafted entries themselves, checked offline: ingested into a store of the same mesh
 * (domain d03's, which no node serves), each bad one is refused with the code the node must
 * report, and the fork is stored as a proof. So a failure of test_byzantine is the node's.
 */
static void test_crafted(void **state)
{
	(void)state;
	char why[2048];
	if (mh_mesh_new(myceld_path, 4, 150, &M, why, sizeof(why)) != 0)
		fail_msg("mesh: %s", why);
	mycel_key *outsider = NULL;
	assert_int_equal(mycel_key_generate(&outsider), 0);
	craft(&K, M->keys[3], outsider, wall_ms());
	mycel_key_free(outsider);
	char dir[MH_PATH_MAX + 8];
	snprintf(dir, sizeof(dir), "%s/store", M->nodes[3].dir);
	mycel_store *s = NULL;
	if (mycel_store_open(dir, 0, &s, why, sizeof(why)) != 0)
		fail_msg("open %s: %s", dir, why);
	mycel_ingest_result res;
	mycel_blob b[2];
	const byz_entry *good[] = {&K.e1, &K.e2};
	for (size_t i = 0; i < 2; i++)
		b[i] =
		    (mycel_blob){good[i]->e.raw, good[i]->e.len, good[i]->body, good[i]->body_len};
	assert_int_equal(mycel_store_ingest(s, b, 2, &res), 0);
	assert_int_equal(res.accepted, 2);
	const struct {
		const byz_entry *e;
		int code;
	} bad[] = {{&K.forged, MYCEL_EBADSIG},  {&K.broken, MYCEL_ECHAIN},
	           {&K.wrongbody, MYCEL_EHASH}, {&K.backwards, MYCEL_ETS},
	           {&K.outsider, MYCEL_EADMIT}, {&K.fork2, MYCEL_EFORK}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b[0] = (mycel_blob){bad[i].e->e.raw, bad[i].e->e.len, bad[i].e->body,
		                    bad[i].e->body_len};
		int rv = mycel_store_ingest(s, b, 1, &res);
		if (rv != bad[i].code)
			fail_msg("crafted entry %zu: %s, want %s", i, mycel_errname(rv),
			         mycel_errname(bad[i].code));
	}
	assert_true(res.fork_stored);
	mycel_entry e;
	assert_int_not_equal(mycel_entry_decode(K.junk.e.raw, K.junk.e.len, &e), 0);
	size_t forks = 0;
	assert_int_equal(mycel_store_fork_count(s, &forks), 0);
	assert_int_equal(forks, 1);
	uint64_t seq = 0;
	uint8_t id[MYCEL_HASH_LEN];
	assert_int_equal(mycel_store_head(s, K.e1.e.h.feed, &seq, id), 0);
	assert_int_equal(seq, 2);
	assert_memory_equal(id, K.e2.e.id, MYCEL_HASH_LEN);
	mycel_store_close(s);
}

static void test_byzantine(void **state)
{
	(void)state;
	char why[2048];
	if (mh_mesh_new(myceld_path, 4, 150, &M, why, sizeof(why)) != 0)
		fail_msg("mesh: %s", why);
	if (!M->gossip) {
		print_message("myceld takes no gossip: section yet: skipped\n");
		skip();
	}
	char extra[128];
	snprintf(extra, sizeof(extra), "  reject_limit: %d\n", REJECT_LIMIT);
	MH_OK(mh_configure(M, extra));
	size_t s0[] = {0}, s01[] = {0, 1};
	MH_OK(mh_start(M, 0, NULL, 0));
	MH_OK(mh_start(M, 1, s0, 1));
	MH_OK(mh_start(M, 2, s01, 2));
	const size_t honest[] = {0, 1, 2};
	MH_OK(mh_publish(M, 1, "honest", "1.0.0", NULL));

	const mycel_key *bk = M->keys[3]; /* d03: admitted, served by nobody but us */
	const uint8_t *bfeed = bk->pk;
	mycel_key *outsider = NULL;
	assert_int_equal(mycel_key_generate(&outsider), 0);
	craft(&K, bk, outsider, wall_ms());
	push_out o;

	/* Genuine entries of an admitted feed are accepted and spread. */
	const byz_entry *good[] = {&K.e1, &K.e2};
	push(good, 2, NULL, 0, &o);
	if (o.status == MYCEL_RPC_UNIMPLEMENTED) {
		print_message("myceld does not serve Mesh/Push yet: skipped\n");
		mycel_key_free(outsider);
		skip();
	}
	assert_int_equal(o.status, MYCEL_RPC_OK);
	assert_int_equal(o.accepted, 2);
	assert_int_equal(o.refused, 0);
	MH_OK(mh_wait_seq(M, honest, 3, bfeed, 2, 10000, NULL));

	/* Replays: known, not refused, not counted as rejects. */
	push(good, 2, NULL, 0, &o);
	assert_int_equal(o.status, MYCEL_RPC_OK);
	assert_int_equal(o.accepted, 0);
	assert_int_equal(o.known, 2);
	assert_int_equal(o.refused, 0);
	char st[32] = "";
	uint64_t rejects = 0;
	if (byz_peer(0, st, sizeof(st), &rejects))
		assert_int_equal(rejects, 0);

	/* A gap (seq 4 while the head is 2) is no offence: said in the reply, not a reject. */
	const byz_entry *gap[] = {&K.e4};
	push(gap, 1, NULL, 0, &o);
	assert_int_equal(o.status, MYCEL_RPC_OK);
	assert_int_equal(o.accepted, 0);
	assert_true(o.gap);
	if (byz_peer(0, st, sizeof(st), &rejects))
		assert_int_equal(rejects, 0);

	/* A forged signature. */
	const byz_entry *one[] = {&K.forged};
	push(one, 1, NULL, 0, &o);
	expect_refused(&o, MYCEL_EBADSIG, "forged signature");

	/* A broken chain: seq 3 whose prev is not seq 2's id. */
	one[0] = &K.broken;
	push(one, 1, NULL, 0, &o);
	expect_refused(&o, MYCEL_ECHAIN, "broken chain");

	/* A body that is not the one the entry signs. */
	one[0] = &K.wrongbody;
	push(one, 1, NULL, 0, &o);
	expect_refused(&o, MYCEL_EHASH, "body hash");

	/* A timestamp going backwards along the feed. */
	one[0] = &K.backwards;
	push(one, 1, NULL, 0, &o);
	expect_refused(&o, MYCEL_ETS, "timestamp");

	/* A feed the charter does not admit. */
	one[0] = &K.outsider;
	push(one, 1, NULL, 0, &o);
	expect_refused(&o, MYCEL_EADMIT, "feed not admitted");

	/* Entry bytes that are not an entry. */
	one[0] = &K.junk;
	push(one, 1, NULL, 0, &o);
	if (o.status == MYCEL_RPC_OK)
		assert_true(o.refused == 1 && o.accepted == 0);
	else
		assert_int_equal(o.status, MYCEL_RPC_INVALID_ARGUMENT);

	/* Oversized: 1001 entries (over the message's bound), and a body over 8 MiB. */
	{
		mycel_buf b;
		mycel_buf_init(&b, 16u << 20);
		mycel_enc_array(&b, 1);
		mycel_enc_array(&b, 1001);
		for (int i = 0; i < 1001; i++) {
			mycel_enc_array(&b, 2);
			mycel_enc_bin(&b, K.e1.e.raw, K.e1.e.len);
			mycel_enc_bin(&b, K.e1.body, K.e1.body_len);
		}
		assert_int_equal(b.err, 0);
		push_raw(b.data, b.len, &o);
		assert_int_equal(o.status, MYCEL_RPC_RESOURCE_EXHAUSTED);
		b.len = 0;
		size_t huge = (8u << 20) + 1; /* over Entry.body's bound, under the request's */
		uint8_t *z = calloc(1, huge);
		assert_non_null(z);
		mycel_enc_array(&b, 1);
		mycel_enc_array(&b, 1);
		mycel_enc_array(&b, 2);
		mycel_enc_bin(&b, K.e3.e.raw, K.e3.e.len);
		mycel_enc_bin(&b, z, huge);
		free(z);
		assert_int_equal(b.err, 0);
		push_raw(b.data, b.len, &o);
		assert_int_equal(o.status, MYCEL_RPC_RESOURCE_EXHAUSTED);
		mycel_buf_fini(&b);
	}

	/* Garbage: a Push body that is no message, and frames that are no envelope. */
	{
		uint8_t junk[512];
		randombytes_buf(junk, sizeof(junk));
		junk[0] = 0x93; /* an array, so that decoding goes past the first byte, */
		junk[1] = 0xc1; /* then the byte MessagePack never uses */
		push_raw(junk, sizeof(junk), &o);
		assert_int_equal(o.status, MYCEL_RPC_INVALID_ARGUMENT);
		send_frame(junk, sizeof(junk));
		send_frame(junk, 1);
		mycel_rpc_request rq = {.method = "mycel.v1.Mesh/Push",
		                        .method_len = 18,
		                        .deadline_ms = wall_ms() + 5000};
		mycel_buf b;
		mycel_buf_init(&b, 1 << 16);
		assert_int_equal(mycel_rpc_request_encode(&rq, &b), 0);
		send_frame(b.data, b.len / 2); /* truncated */
		mycel_buf_fini(&b);
	}

	/* Nothing of it was stored: every honest node still holds seq 2 of the feed only. */
	for (size_t i = 0; i < 3; i++) {
		mh_view v;
		MH_OK(mh_view_of(M, i, bfeed, &v));
		assert_int_equal(v.seq, 2);
		MH_OK(mh_view_of(M, i, outsider->pk, &v));
		assert_int_equal(v.seq, 0);
	}
	/* Counted and logged once per reason. */
	assert_true(byz_peer(0, st, sizeof(st), &rejects));
	assert_true(rejects >= 5);
	assert_string_not_equal(st, "ignored");
	assert_int_equal(mh_log_count(M, 0, "msg=\"rejected\"", "EBADSIG"), 1);

	/* A genuine fork: another valid seq 2. */
	const byz_entry *f[] = {&K.fork2};
	push(f, 1, NULL, 0, &o);
	assert_int_equal(o.status, MYCEL_RPC_OK);
	assert_int_equal(o.accepted, 0);
	uint64_t t0 = mh_now_ms(), end = t0 + 15000u * mh_scale();
	for (size_t i = 0; i < 3; i++)
		while (!shows_forked(i, bfeed)) {
			if (mh_now_ms() >= end)
				fail_msg("node %s does not show d03 forked within %u ms",
				         M->nodes[i].name, 15000u * mh_scale());
			struct timespec d = {0, 50 * 1000000L};
			nanosleep(&d, NULL);
		}
	print_message("fork proof on every honest node %llu ms after the push\n",
	              (unsigned long long)(mh_now_ms() - t0));
	for (size_t i = 0; i < 3; i++) {
		bool forked = false;
		get_verified(i, 3, "byz", "1.1.0", &forked);
		assert_true(forked);
		search_forked(i, "d03", "byz", true);
		check_fork_proof(i, bfeed, &K.e2, &K.fork2);
	}
	search_forked(0, "d01", "honest", false);
	/* What a person sees on every node: mycel get, search, status and verify say "forked". */
	for (size_t i = 0; i < 3; i++) {
		char args[MH_URL_MAX + 64];
		snprintf(args, sizeof(args), "get --node %s d03/byz", M->nodes[i].url);
		assert_int_equal(cli_shows(args, "FORKED"), 0);
		snprintf(args, sizeof(args), "search --node %s byz", M->nodes[i].url);
		assert_int_equal(cli_shows(args, "FORKED"), 0);
		snprintf(args, sizeof(args), "status --node %s", M->nodes[i].url);
		assert_int_equal(cli_shows(args, "forks"), 0);
		snprintf(args, sizeof(args), "verify --node %s", M->nodes[i].url);
		(void)cli_shows(args, "1 fork proof(s)");
	}

	/* Keep sending forged entries: the peer ends up ignored, even for valid input. */
	one[0] = &K.forged;
	bool ignored = false;
	for (int k = 0; k < 4 * REJECT_LIMIT && !ignored; k++) {
		push(one, 1, NULL, 0, &o);
		ignored = o.status == MYCEL_RPC_RESOURCE_EXHAUSTED;
	}
	assert_true(ignored);
	push(good, 2, NULL, 0, &o);
	assert_int_equal(o.status, MYCEL_RPC_RESOURCE_EXHAUSTED);
	assert_true(byz_peer(0, st, sizeof(st), &rejects));
	assert_string_equal(st, "ignored");
	assert_true(rejects > REJECT_LIMIT);
	assert_int_equal(mh_log_count(M, 0, "msg=\"rejected\"", "EBADSIG"), 1);

	/* The honest nodes still converge and serve. */
	MH_OK(mh_publish(M, 2, "after", "1.0.0", NULL));
	MH_OK(mh_wait_seq(M, honest, 3, M->nodes[2].feed, 1, 10000, NULL));
	mh_view v0;
	MH_OK(mh_view_of(M, 2, NULL, &v0));
	MH_OK(mh_wait_converged(M, honest, 3, v0.entries, 10000, NULL));
	for (size_t i = 0; i < 3; i++) {
		get_verified(i, 2, "after", "1.0.0", NULL);
		get_verified(i, 1, "honest", "1.0.0", NULL);
	}
	mycel_key_free(outsider);
	for (size_t i = 0; i < 3; i++)
		MH_OK(mh_stop(M, i));
	/* Each honest store verifies completely (what `mycel verify` runs), fork proof included. */
	for (size_t i = 0; i < 3; i++) {
		char dir[MH_PATH_MAX + 8];
		mycel_store *s = NULL;
		mycel_verify_stats vs;
		snprintf(dir, sizeof(dir), "%s/store", M->nodes[i].dir);
		if (mycel_store_open(dir, 0, &s, why, sizeof(why)) != 0)
			fail_msg("open %s: %s", dir, why);
		assert_int_equal(mycel_store_verify(s, on_problem, M->nodes[i].name, &vs), 0);
		assert_int_equal(vs.problems, 0);
		assert_int_equal(vs.forks, 1);
		uint64_t seq = 0;
		uint8_t id[MYCEL_HASH_LEN];
		assert_int_equal(mycel_store_head(s, bfeed, &seq, id), 0);
		assert_int_equal(seq, 2);
		mycel_store_close(s);
	}
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s MYCELD MYCEL\n", argv[0]);
		return 2;
	}
	myceld_path = argv[1];
	mycel_path = argv[2];
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_crafted, teardown),
	    cmocka_unit_test_teardown(test_byzantine, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
