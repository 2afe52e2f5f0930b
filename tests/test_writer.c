/*
 * test_writer.c — the node's write path (include/mycel/node.h, src/writer.h), in process.
 *
 * A domain directory for domain alpha (mkdtemp, removed at the end) is served by a node
 * opened in this process with 8 admin workers and two seed peers. Publishers are threads,
 * each with its own client on the admin ipc socket. The writer is held (test hook) until
 * the k requests of a test are queued, so they are committed as one group, without sleeps:
 *  - 8 concurrent publishers of distinct documents all succeed in ONE commit; every
 *    document is Get-able, seqs are dense without gaps, mycel_store_verify finds nothing;
 *  - two requests with the same id and version and other content in one group: exactly one
 *    wins, the other gets ALREADY_EXISTS naming the conflict; a third, valid request of the
 *    same group is published (a refusal does not sink its neighbours);
 *  - a multi-document request with one conflicting document in a group: all of its
 *    documents are refused, the other requests' published;
 *  - Admin/Peers, Mesh/Peers and Status report the seed peers;
 *  - stopping the node with writes queued: they complete and are acknowledged, and a
 *    client's later request gets no success.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mycel/catalog.h"
#include "mycel/diag.h"
#include "mycel/doc.h"
#include "mycel/lint.h"
#include "mycel/publish.h"
#include "mycel/client.h"
#include "mycel/codec.h"
#include "mycel/domain.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/node.h"
#include "mycel/rpc.h"
#include "mycel/store.h"
#include "mycel_proto.h"
#include "writer.h"

#define WAIT_MS 20000
#define NPUB 8

static const char *const seed_peers[] = {"tcp://127.0.0.1:7401", "tcp://[::1]:7402"};

typedef struct fx {
	char base[64];
	char dir[96];
	uint8_t feed[MYCEL_PK_LEN];
	mycel_node *n;
} fx;

static fx *F;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int group_setup(void **state)
{
	char why[512] = "";
	mycel_domain dom;
	mycel_key *k = NULL;
	F = calloc(1, sizeof(*F));
	assert_non_null(F);
	snprintf(F->base, sizeof(F->base), "/tmp/mycel-writer-XXXXXX");
	assert_non_null(mkdtemp(F->base));
	snprintf(F->dir, sizeof(F->dir), "%s/d", F->base);
	mycel_domain_opts o = {.dir = F->dir, .name = "alpha", .mesh = "acme"};
	if (mycel_domain_init(&o, why, sizeof(why)) != 0)
		fail_msg("domain init: %s", why);
	assert_int_equal(mycel_domain_load(F->dir, &dom, why, sizeof(why)), 0);
	assert_int_equal(mycel_key_load(dom.key_path, &k), 0);
	memcpy(F->feed, k->pk, MYCEL_PK_LEN);
	mycel_key_free(k);
	mycel_domain_fini(&dom);

	mycel_node_opts no = {.data = F->dir,
			      .listen = "tcp://127.0.0.1:0",
			      .workers = 2,
			      .admin_workers = NPUB,
			      .peers = seed_peers,
			      .n_peers = 2};
	if (mycel_node_open(&no, &F->n, why, sizeof(why)) != 0)
		fail_msg("node open: %s", why);
	assert_int_equal(mycel_node_start(F->n), 0);
	*state = F;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	mycel_node_close(F->n);
	(void)nftw(F->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(F);
	F = NULL;
	return 0;
}

/* The head seq of the domain's feed (0 when empty). */
static uint64_t head_seq(void)
{
	uint64_t seq = 0;
	uint8_t id[MYCEL_HASH_LEN];
	int rv = mycel_store_head(mycel_node_store(F->n), F->feed, &seq, id);
	if (rv == MYCEL_ENOTFOUND)
		return 0;
	assert_int_equal(rv, 0);
	return seq;
}

/* One client call on url; status, message and reply body (caller frees both). */
static uint64_t call(const char *url, const char *method, const mycel_buf *b, char **msg,
		     uint8_t **body, size_t *len)
{
	mycel_client *c = NULL;
	uint64_t st = 99;
	assert_int_equal(b->err, 0);
	assert_int_equal(mycel_client_open(url, &c), 0);
	assert_int_equal(mycel_client_call(c, method, now_ms() + WAIT_MS, b->data, b->len, &st, msg,
					   body, len),
			 0);
	mycel_client_close(c);
	return st;
}

/* A publisher: one Publish request of n documents, run on its own thread. */
typedef struct pub {
	const char *docs[4];
	size_t n;
	const char *deprecate; /* when set: Deprecate version 1.0.0 of this id instead */
	pthread_t t;
	/* results */
	int call_rv;
	uint64_t status;
	char *msg;
	uint8_t *body;
	size_t len;
} pub;

/* Runs on a publisher thread: no cmocka assertions here, only results. */
static void *pub_main(void *arg)
{
	pub *p = arg;
	mycel_msg_PublishRequest rq;
	mycel_msg_PublishDoc d[4];
	mycel_buf b;
	mycel_client *c = NULL;
	memset(&rq, 0, sizeof(rq));
	memset(d, 0, sizeof(d));
	for (size_t i = 0; i < p->n; i++) {
		d[i].document = (const uint8_t *)p->docs[i];
		d[i].document_len = strlen(p->docs[i]);
	}
	rq.documents = d;
	rq.n_documents = p->n;
	mycel_buf_init(&b, 1 << 20);
	const char *method = "mycel.v1.Admin/Publish";
	if (p->deprecate != NULL) {
		mycel_msg_ChangeStatusRequest cs;
		memset(&cs, 0, sizeof(cs));
		cs.id = p->deprecate;
		cs.id_len = strlen(cs.id);
		cs.version = "1.0.0";
		cs.version_len = 5;
		method = "mycel.v1.Admin/Deprecate";
		p->call_rv = mycel_msg_ChangeStatusRequest_encode(&cs, &b);
	} else {
		p->call_rv = mycel_msg_PublishRequest_encode(&rq, &b);
	}
	if (p->call_rv == 0)
		p->call_rv = mycel_client_open(mycel_node_admin_url(F->n), &c);
	if (p->call_rv == 0)
		p->call_rv = mycel_client_call(c, method, now_ms() + WAIT_MS, b.data, b.len,
					       &p->status, &p->msg, &p->body, &p->len);
	mycel_client_close(c);
	mycel_buf_fini(&b);
	return NULL;
}

static void pub_start(pub *p)
{
	p->status = 99;
	assert_int_equal(pthread_create(&p->t, NULL, pub_main, p), 0);
}

static void pub_join(pub *p)
{
	assert_int_equal(pthread_join(p->t, NULL), 0);
	assert_int_equal(p->call_rv, 0);
}

static void pub_fini(pub *p)
{
	free(p->msg);
	free(p->body);
	p->msg = NULL;
	p->body = NULL;
}

/* A minimal valid contract of domain alpha. */
static char *contract(const char *id, const char *version, const char *name)
{
	char *s = malloc(512);
	assert_non_null(s);
	snprintf(s, 512,
		 "apiVersion: v3.0.2\nkind: DataContract\nid: %s\nname: %s\nversion: %s\n"
		 "status: active\ndomain: alpha\n",
		 id, name, version);
	return s;
}

/* Holds the writer, starts the k publishers, waits until all k are queued, releases. */
static void run_group(pub *p, size_t k)
{
	mycel_node_hold_writes(F->n, true);
	for (size_t i = 0; i < k; i++)
		pub_start(&p[i]);
	int rv = mycel_node_wait_queued(F->n, k, WAIT_MS);
	mycel_node_hold_writes(F->n, false);
	for (size_t i = 0; i < k; i++)
		pub_join(&p[i]);
	if (rv != 0)
		fail_msg("%zu writes were not queued within %d ms", k, WAIT_MS);
}

static void count_problem(void *ctx, const mycel_problem *p)
{
	size_t *n = ctx;
	(*n)++;
	print_error("problem: %s seq %llu: %s\n", p->what, (unsigned long long)p->seq, p->message);
}

/* ---- tests -------------------------------------------------------------------------- */

static void test_group_commit(void **state)
{
	(void)state;
	pub p[NPUB];
	char *docs[NPUB];
	mycel_node_write_stats s0, s1;
	uint64_t base = head_seq();
	bool seen[NPUB] = {false};
	memset(p, 0, sizeof(p));
	for (int i = 0; i < NPUB; i++) {
		char id[32];
		snprintf(id, sizeof(id), "doc-%d", i);
		docs[i] = contract(id, "1.0.0", "Doc");
		p[i].docs[0] = docs[i];
		p[i].n = 1;
	}
	mycel_node_write_stats_get(F->n, &s0);
	run_group(p, NPUB);
	mycel_node_write_stats_get(F->n, &s1);

	mycel_arena *ar = NULL;
	assert_int_equal(mycel_arena_new(16u << 20, &ar), 0);
	for (int i = 0; i < NPUB; i++) {
		mycel_msg_PublishReply r;
		char why[256] = "";
		if (p[i].status != MYCEL_RPC_OK)
			fail_msg("publisher %d: %s: %s", i, mycel_rpc_status_name(p[i].status),
				 p[i].msg ? p[i].msg : "");
		if (mycel_msg_PublishReply_decode(p[i].body, p[i].len, ar, &r, why, sizeof(why)) != 0)
			fail_msg("PublishReply: %s", why);
		assert_int_equal(r.n_documents, 1);
		assert_int_equal(r.n_entries, 1);
		assert_true(r.documents[0].has_seq);
		uint64_t seq = r.documents[0].seq;
		assert_true(seq > base && seq <= base + NPUB);
		assert_false(seen[seq - base - 1]); /* dense: each seq once */
		seen[seq - base - 1] = true;
		mycel_entry e;
		assert_int_equal(mycel_entry_decode(r.entries[0].entry, r.entries[0].entry_len, &e), 0);
		assert_int_equal(mycel_entry_verify(&e, F->feed), 0);
		assert_int_equal(e.h.seq, seq);
		pub_fini(&p[i]);
	}
	mycel_arena_free(ar);
	assert_int_equal(head_seq(), base + NPUB);

	/* one batch, one commit, for the 8 requests */
	assert_int_equal(s1.requests - s0.requests, NPUB);
	assert_int_equal(s1.commits - s0.commits, 1);
	assert_true(s1.max_batch >= NPUB);
	assert_int_equal(s1.queued, 0);

	/* every document Get-able over the public socket */
	for (int i = 0; i < NPUB; i++) {
		mycel_msg_GetRequest g;
		mycel_buf b;
		char id[32], *msg = NULL;
		uint8_t *body = NULL;
		size_t len = 0;
		snprintf(id, sizeof(id), "doc-%d", i);
		memset(&g, 0, sizeof(g));
		g.domain = "alpha";
		g.domain_len = 5;
		g.id = id;
		g.id_len = strlen(id);
		mycel_buf_init(&b, 1 << 16);
		assert_int_equal(mycel_msg_GetRequest_encode(&g, &b), 0);
		assert_int_equal(call(mycel_node_url(F->n), "mycel.v1.Catalog/Get", &b, &msg, &body,
				      &len),
				 MYCEL_RPC_OK);
		mycel_buf_fini(&b);
		free(msg);
		free(body);
		free(docs[i]);
	}
	/* and the store verifies */
	size_t problems = 0;
	mycel_verify_stats vs;
	assert_int_equal(mycel_store_verify(mycel_node_store(F->n), count_problem, &problems, &vs), 0);
	assert_int_equal(problems, 0);
	assert_int_equal(vs.problems, 0);
}

static void test_group_conflict(void **state)
{
	(void)state;
	pub p[3];
	char *a = contract("clash", "1.0.0", "Alpha");
	char *b = contract("clash", "1.0.0", "Beta");
	char *c = contract("bystander", "1.0.0", "Bystander");
	mycel_node_write_stats s0, s1;
	uint64_t base = head_seq();
	memset(p, 0, sizeof(p));
	p[0].docs[0] = a;
	p[1].docs[0] = b;
	p[2].docs[0] = c;
	p[0].n = p[1].n = p[2].n = 1;
	mycel_node_write_stats_get(F->n, &s0);
	run_group(p, 3);
	mycel_node_write_stats_get(F->n, &s1);
	assert_int_equal(s1.commits - s0.commits, 1);

	int ok = -1, lost = -1;
	for (int i = 0; i < 2; i++) {
		if (p[i].status == MYCEL_RPC_OK)
			ok = ok < 0 ? i : 99;
		else if (p[i].status == MYCEL_RPC_ALREADY_EXISTS)
			lost = i;
		else
			fail_msg("publisher %d: %s: %s", i, mycel_rpc_status_name(p[i].status),
				 p[i].msg ? p[i].msg : "");
	}
	assert_true(ok == 0 || ok == 1); /* exactly one winner */
	assert_int_equal(lost, 1 - ok);
	assert_non_null(strstr(p[lost].msg, "clash version 1.0.0"));
	assert_non_null(strstr(p[lost].msg, "other content"));
	assert_non_null(strstr(p[lost].msg, "<document 1>:"));
	if (p[2].status != MYCEL_RPC_OK)
		fail_msg("bystander: %s: %s", mycel_rpc_status_name(p[2].status), p[2].msg);
	assert_int_equal(head_seq(), base + 2);

	/* what is stored is the winner's */
	mycel_catalog_doc d;
	memset(&d, 0, sizeof(d));
	assert_int_equal(mycel_catalog_get(mycel_node_store(F->n), "alpha", "clash", NULL, &d), 0);
	assert_string_equal(d.name, ok == 0 ? "Alpha" : "Beta");
	mycel_catalog_doc_fini(&d);
	for (int i = 0; i < 3; i++)
		pub_fini(&p[i]);
	free(a);
	free(b);
	free(c);
}

/* A request of two documents, one of which conflicts with an earlier request of its group. */
static void test_group_request_atomic(void **state)
{
	(void)state;
	pub p[2];
	char *first = contract("shared", "2.0.0", "First");
	char *other = contract("shared", "2.0.0", "Other");
	char *mine = contract("mine", "1.0.0", "Mine");
	uint64_t base = head_seq();
	memset(p, 0, sizeof(p));
	p[0].docs[0] = first;
	p[0].n = 1;
	p[1].docs[0] = mine;
	p[1].docs[1] = other;
	p[1].n = 2;
	/* p[0] is queued first, so p[1] meets its document in the group */
	mycel_node_hold_writes(F->n, true);
	pub_start(&p[0]);
	assert_int_equal(mycel_node_wait_queued(F->n, 1, WAIT_MS), 0);
	pub_start(&p[1]);
	assert_int_equal(mycel_node_wait_queued(F->n, 2, WAIT_MS), 0);
	mycel_node_hold_writes(F->n, false);
	pub_join(&p[0]);
	pub_join(&p[1]);
	assert_int_equal(p[0].status, MYCEL_RPC_OK);
	assert_int_equal(p[1].status, MYCEL_RPC_ALREADY_EXISTS);
	assert_non_null(strstr(p[1].msg, "<document 2>:"));
	assert_non_null(strstr(p[1].msg, "by another request"));
	assert_int_equal(head_seq(), base + 1);
	mycel_doc_version v;
	assert_int_equal(mycel_catalog_version(mycel_node_store(F->n), "alpha", "mine", "1.0.0", &v),
			 MYCEL_ENOTFOUND);
	for (int i = 0; i < 2; i++)
		pub_fini(&p[i]);
	free(first);
	free(other);
	free(mine);
}

/* Parses and lints text into item it (findings into d). */
static void prepare(mycel_arena *a, const char *text, mycel_diags *d, mycel_publish_item *it)
{
	mycel_value *v = NULL;
	memset(it, 0, sizeof(*it));
	mycel_diags_init(d, 0);
	assert_int_equal(mycel_doc_parse(text, strlen(text), NULL, a, &v, d), 0);
	it->doc = v;
	it->diags = d;
	assert_int_equal(mycel_lint_value(v, &it->info, d), 0);
}

/*
 * mycel_publish_groups directly: four groups in one call. The second repeats the first's
 * document (unchanged, no entry), the third gives it other content (EEXIST, its other
 * document not published), the fourth is independent; one commit for all.
 */
static void test_publish_groups(void **state)
{
	(void)state;
	char why[512] = "";
	mycel_domain dom;
	mycel_key *k = NULL;
	mycel_arena *a = NULL;
	mycel_store *st = mycel_node_store(F->n);
	char *x1 = contract("grp-x", "1.0.0", "X"), *x1b = contract("grp-x", "1.0.0", "X");
	char *x2 = contract("grp-x", "1.0.0", "Other"), *y = contract("grp-y", "1.0.0", "Y");
	char *z = contract("grp-z", "1.0.0", "Z");
	mycel_publish_item it[5];
	mycel_diags d[5];
	uint64_t base = head_seq();
	size_t commits = 99;
	assert_int_equal(mycel_domain_load(F->dir, &dom, why, sizeof(why)), 0);
	assert_int_equal(mycel_key_load(dom.key_path, &k), 0);
	assert_int_equal(mycel_arena_new(16u << 20, &a), 0);
	prepare(a, x1, &d[0], &it[0]);
	prepare(a, x1b, &d[1], &it[1]);
	prepare(a, y, &d[2], &it[2]);
	prepare(a, x2, &d[3], &it[3]);
	prepare(a, z, &d[4], &it[4]);
	mycel_publish_group g[4] = {
	    {&it[0], 1, -1, NULL}, {&it[1], 1, -1, NULL}, {&it[2], 2, -1, NULL}, {&it[4], 1, -1, NULL}};
	assert_int_equal(mycel_publish_groups(st, k, "alpha", g, 4, &commits), 0);
	assert_int_equal(g[0].result, 0);
	assert_int_equal(g[1].result, 0);
	assert_int_equal(g[2].result, MYCEL_EEXIST);
	assert_int_equal(g[3].result, 0);
	assert_int_equal(commits, 1);
	assert_false(it[0].unchanged);
	assert_true(it[1].unchanged);
	assert_int_equal(it[0].entry.h.seq, base + 1);
	assert_int_equal(it[4].entry.h.seq, base + 2);
	assert_int_equal(head_seq(), base + 2);
	assert_int_equal(d[3].len, 1);
	assert_non_null(strstr(d[3].items[0].message, "by another request"));
	mycel_doc_version v;
	assert_int_equal(mycel_catalog_version(st, "alpha", "grp-y", "1.0.0", &v), MYCEL_ENOTFOUND);
	/* nothing new: no transaction at all */
	mycel_publish_group again = {&it[0], 1, -1, NULL};
	assert_int_equal(mycel_publish_groups(st, k, "alpha", &again, 1, &commits), 0);
	assert_int_equal(again.result, 0);
	assert_true(it[0].unchanged);
	assert_int_equal(commits, 0);
	assert_int_equal(mycel_publish_groups(NULL, k, "alpha", &again, 1, NULL), MYCEL_EINVAL);

	/* lifecycle changes among them, checked against what the groups before them wrote */
	char *w = contract("grp-w", "1.0.0", "W");
	mycel_publish_item wi;
	mycel_diags wd;
	mycel_lifecycle_item lc[5] = {
	    {.id = "grp-w", .version = "1.0.0", .status = MYCEL_STATUS_DEPRECATED},
	    {.id = "grp-w", .version = "1.0.0", .status = MYCEL_STATUS_DEPRECATED},
	    {.id = "grp-w", .version = "1.0.0", .status = MYCEL_STATUS_RETIRED, .reason = "gone"},
	    {.id = "grp-nope", .version = "1.0.0", .status = MYCEL_STATUS_DEPRECATED},
	    {.id = "grp-w", .version = "1.0.0", .status = MYCEL_STATUS_DEPRECATED},
	};
	prepare(a, w, &wd, &wi);
	mycel_publish_group lg[6] = {{&wi, 1, -1, NULL},    {NULL, 0, -1, &lc[0]},
				     {NULL, 0, -1, &lc[1]}, {NULL, 0, -1, &lc[2]},
				     {NULL, 0, -1, &lc[3]}, {NULL, 0, -1, &lc[4]}};
	base = head_seq();
	assert_int_equal(mycel_publish_groups(st, k, "alpha", lg, 6, &commits), 0);
	assert_int_equal(commits, 1);
	assert_int_equal(lg[0].result, 0);
	assert_int_equal(lg[1].result, 0);
	assert_int_equal(lg[2].result, MYCEL_EEXIST);
	assert_non_null(strstr(lc[1].why, "already deprecated"));
	assert_int_equal(lg[3].result, 0);
	assert_int_equal(lg[4].result, MYCEL_ENOTFOUND);
	assert_non_null(strstr(lc[3].why, "grp-nope version 1.0.0 is not published"));
	assert_int_equal(lg[5].result, MYCEL_EINVAL);
	assert_non_null(strstr(lc[4].why, "retired"));
	assert_int_equal(wi.entry.h.seq, base + 1);
	assert_int_equal(lc[0].entry.h.seq, base + 2);
	assert_int_equal(lc[2].entry.h.seq, base + 3);
	assert_int_equal(head_seq(), base + 3);
	assert_int_equal(mycel_catalog_version(st, "alpha", "grp-w", "1.0.0", &v), 0);
	assert_int_equal(v.status, MYCEL_STATUS_RETIRED);
	mycel_diags_fini(&wd);
	free(w);
	for (int i = 0; i < 5; i++)
		mycel_diags_fini(&d[i]);
	mycel_arena_free(a);
	mycel_key_free(k);
	mycel_domain_fini(&dom);
	free(x1);
	free(x1b);
	free(x2);
	free(y);
	free(z);
}

/*
 * A publish, a deprecation of what it publishes and another publish, queued in that order,
 * commit together in feed order; a second deprecation of the same version in the group is
 * ALREADY_EXISTS and sinks nobody.
 */
static void test_group_lifecycle(void **state)
{
	(void)state;
	pub p[4];
	char *life = contract("life", "1.0.0", "Life");
	char *other = contract("life-other", "1.0.0", "Other");
	mycel_node_write_stats s0, s1;
	uint64_t base = head_seq();
	memset(p, 0, sizeof(p));
	p[0].docs[0] = life;
	p[0].n = 1;
	p[1].deprecate = "life";
	p[2].deprecate = "life";
	p[3].docs[0] = other;
	p[3].n = 1;
	mycel_node_write_stats_get(F->n, &s0);
	mycel_node_hold_writes(F->n, true);
	for (size_t i = 0; i < 4; i++) { /* one at a time: the queue order is the test's */
		pub_start(&p[i]);
		assert_int_equal(mycel_node_wait_queued(F->n, i + 1, WAIT_MS), 0);
	}
	mycel_node_hold_writes(F->n, false);
	for (size_t i = 0; i < 4; i++)
		pub_join(&p[i]);
	mycel_node_write_stats_get(F->n, &s1);
	assert_int_equal(s1.commits - s0.commits, 1);
	for (size_t i = 0; i < 4; i++)
		if (i != 2 && p[i].status != MYCEL_RPC_OK)
			fail_msg("write %zu: %s: %s", i, mycel_rpc_status_name(p[i].status), p[i].msg);
	assert_int_equal(p[2].status, MYCEL_RPC_ALREADY_EXISTS);
	assert_non_null(strstr(p[2].msg, "already deprecated"));
	assert_int_equal(head_seq(), base + 3);

	mycel_arena *ar = NULL;
	mycel_msg_ChangeStatusReply cr;
	mycel_entry e;
	char why[256] = "";
	assert_int_equal(mycel_arena_new(1u << 20, &ar), 0);
	assert_int_equal(mycel_msg_ChangeStatusReply_decode(p[1].body, p[1].len, ar, &cr, why,
							    sizeof(why)),
			 0);
	assert_non_null(cr.entry);
	assert_int_equal(mycel_entry_decode(cr.entry->entry, cr.entry->entry_len, &e), 0);
	assert_int_equal(e.h.seq, base + 2); /* right after the publish it deprecates */
	assert_string_equal(e.h.kind, "lifecycle");
	mycel_arena_free(ar);
	mycel_doc_version v;
	assert_int_equal(mycel_catalog_version(mycel_node_store(F->n), "alpha", "life", "1.0.0", &v),
			 0);
	assert_int_equal(v.status, MYCEL_STATUS_DEPRECATED);
	for (int i = 0; i < 4; i++)
		pub_fini(&p[i]);
	free(life);
	free(other);
}

static void test_peers(void **state)
{
	(void)state;
	mycel_msg_Empty e;
	mycel_msg_PeersReply pr;
	mycel_msg_StatusReply sr;
	mycel_arena *ar = NULL;
	mycel_buf b;
	char why[256] = "";
	memset(&e, 0, sizeof(e));
	mycel_buf_init(&b, 64);
	assert_int_equal(mycel_msg_Empty_encode(&e, &b), 0);
	assert_int_equal(mycel_arena_new(1u << 20, &ar), 0);
	const char *urls[] = {mycel_node_admin_url(F->n), mycel_node_url(F->n)};
	const char *methods[] = {"mycel.v1.Admin/Peers", "mycel.v1.Mesh/Peers"};
	for (int i = 0; i < 2; i++) {
		char *msg = NULL;
		uint8_t *body = NULL;
		size_t len = 0;
		assert_int_equal(call(urls[i], methods[i], &b, &msg, &body, &len), MYCEL_RPC_OK);
		memset(&pr, 0, sizeof(pr));
		assert_int_equal(mycel_msg_PeersReply_decode(body, len, ar, &pr, why, sizeof(why)), 0);
		assert_int_equal(pr.n_peers, 2);
		assert_string_equal(pr.peers[0].addr, seed_peers[0]);
		assert_string_equal(pr.peers[1].addr, seed_peers[1]);
		assert_false(pr.peers[0].live);
		free(msg);
		free(body);
	}
	char *msg = NULL;
	uint8_t *body = NULL;
	size_t len = 0;
	mycel_buf_reset(&b);
	mycel_enc_array(&b, 0);
	assert_int_equal(call(mycel_node_url(F->n), "mycel.v1.Catalog/Status", &b, &msg, &body, &len),
			 MYCEL_RPC_OK);
	assert_int_equal(mycel_msg_StatusReply_decode(body, len, ar, &sr, why, sizeof(why)), 0);
	assert_true(sr.has_peers);
	assert_int_equal(sr.peers, 2);
	free(msg);
	free(body);
	mycel_arena_free(ar);
	mycel_buf_fini(&b);
}

/* Last: stops the node while two writes wait in the held queue. */
static void test_stop_with_queued_writes(void **state)
{
	(void)state;
	pub p[2];
	char *x = contract("late-x", "1.0.0", "X");
	char *y = contract("late-y", "1.0.0", "Y");
	uint64_t base = head_seq();
	memset(p, 0, sizeof(p));
	p[0].docs[0] = x;
	p[1].docs[0] = y;
	p[0].n = p[1].n = 1;
	mycel_node_hold_writes(F->n, true);
	pub_start(&p[0]);
	pub_start(&p[1]);
	int rv = mycel_node_wait_queued(F->n, 2, WAIT_MS);
	mycel_node_stop(F->n); /* releases the hold: the queued writes complete first */
	pub_join(&p[0]);
	pub_join(&p[1]);
	assert_int_equal(rv, 0);
	for (int i = 0; i < 2; i++) {
		if (p[i].status != MYCEL_RPC_OK)
			fail_msg("queued write %d: %s: %s", i, mycel_rpc_status_name(p[i].status),
				 p[i].msg ? p[i].msg : "");
		pub_fini(&p[i]);
	}
	assert_int_equal(head_seq(), base + 2);
	/* the node no longer serves: a new request gets no success */
	mycel_client *c = NULL;
	uint64_t st = 99;
	char *msg = NULL;
	uint8_t *body = NULL;
	size_t len = 0;
	static const uint8_t empty[] = {0x90};
	if (mycel_client_open(mycel_node_url(F->n), &c) == 0) {
		int crv = mycel_client_call(c, "mycel.v1.Catalog/Status", now_ms() + 500, empty,
					    sizeof(empty), &st, &msg, &body, &len);
		assert_true(crv != 0 || st != MYCEL_RPC_OK);
		free(msg);
		free(body);
		mycel_client_close(c);
	}
	free(x);
	free(y);
}

/* After the writer stopped, a write is answered UNAVAILABLE and changes nothing. */
static void test_unavailable_after_stop(void **state)
{
	(void)state;
	char why[512] = "";
	mycel_domain dom;
	mycel_key *k = NULL;
	mycel__writer *q = NULL;
	assert_int_equal(mycel_domain_load(F->dir, &dom, why, sizeof(why)), 0);
	assert_int_equal(mycel_key_load(dom.key_path, &k), 0);
	mycel_rpc_ctx c = {.store = mycel_node_store(F->n), .key = k, .domain = "alpha"};
	assert_int_equal(mycel__writer_start(&c, &q), 0);
	mycel__writer_stop(q);
	c.wq = q;

	char *doc = contract("too-late", "1.0.0", "Too late");
	mycel_msg_PublishRequest rq;
	mycel_msg_PublishDoc d;
	mycel_rpc_request r;
	mycel_rpc_reply rep;
	mycel_buf body, env, out;
	uint64_t base = head_seq();
	memset(&rq, 0, sizeof(rq));
	memset(&d, 0, sizeof(d));
	memset(&r, 0, sizeof(r));
	d.document = (const uint8_t *)doc;
	d.document_len = strlen(doc);
	rq.documents = &d;
	rq.n_documents = 1;
	mycel_buf_init(&body, 1 << 20);
	mycel_buf_init(&env, 1 << 20);
	mycel_buf_init(&out, 1 << 20);
	assert_int_equal(mycel_msg_PublishRequest_encode(&rq, &body), 0);
	r.method = "mycel.v1.Admin/Publish";
	r.method_len = strlen(r.method);
	r.body = body.data;
	r.body_len = body.len;
	assert_int_equal(mycel_rpc_request_encode(&r, &env), 0);
	assert_int_equal(mycel_rpc_serve_ctx(&c, env.data, env.len, true, now_ms(), &out), 0);
	assert_int_equal(mycel_rpc_reply_decode(out.data, out.len, out.len, &rep, why, sizeof(why)),
			 0);
	assert_int_equal(rep.status, MYCEL_RPC_UNAVAILABLE);
	assert_non_null(memmem(rep.message, rep.message_len, "stopping", 8));
	assert_int_equal(head_seq(), base);
	mycel_buf_fini(&out);
	mycel_buf_fini(&env);
	mycel_buf_fini(&body);
	free(doc);
	mycel__writer_free(q);
	mycel_key_free(k);
	mycel_domain_fini(&dom);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_group_commit),
	    cmocka_unit_test(test_group_conflict),
	    cmocka_unit_test(test_group_request_atomic),
	    cmocka_unit_test(test_publish_groups),
	    cmocka_unit_test(test_group_lifecycle),
	    cmocka_unit_test(test_peers),
	    cmocka_unit_test(test_stop_with_queued_writes),
	    cmocka_unit_test(test_unavailable_after_stop),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
