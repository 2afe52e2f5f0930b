/*
 * bench-node: the node's three figures of DESIGN §8 / issue 4, each beside a peer measured
 * in the same run.
 *
 *   bench-node [--quick] [--docs N] [--only get|search|publish]
 *
 * The node runs in this process (mycel_node_open on tcp://127.0.0.1:0 with the default
 * workers); the clients are threads of this process too, each with its own connection
 * (mycel_client), so node and peer share the same cores the same way.
 *
 * 1. get: Catalog/Get by id (random ids of the loaded documents) from 8 client threads
 *    for a fixed time, beside a bare nng rep0 echo server with as many worker contexts as
 *    the node, driven by the same 8 client threads through the same client code, with
 *    requests of the mean size of the Get requests and replies of the mean size of the Get
 *    replies (both measured first). Rounds alternate node / echo; each figure is the median.
 * 2. search: p50/p99 latency per query shape (the shapes and documents of bench-catalog)
 *    over N (default 100 000) documents with 8 concurrent clients, beside one client alone
 *    and the 5 ms limit of DESIGN §8.
 * 3. publish: Admin/Publish over the admin ipc socket of a node serving a domain
 *    directory, one document per request, acknowledged only when durable: p50/p99 latency
 *    of sequential publishes, and the rate of 8 concurrent publishers (each its own
 *    documents), beside the raw Ed25519 sign rate (crypto_sign_detached, 200 bytes, one
 *    thread).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "mycel/catalog.h"
#include "mycel/client.h"
#include "mycel/doc.h"
#include "mycel/domain.h"
#include "mycel/error.h"
#include "mycel/lint.h"
#include "mycel/node.h"
#include "mycel/rpc.h"
#include "mycel/store.h"
#include "mycel_proto.h"

#include "bench_docs.h"

#define CLIENTS 8
#define CALL_MS 30000 /* deadline of every call */

#define GET_METHOD "mycel.v1.Catalog/Get"
#define SEARCH_METHOD "mycel.v1.Catalog/Search"
#define PUBLISH_METHOD "mycel.v1.Admin/Publish"

static void figure(const char *name, double value, const char *unit, const char *vs, double ratio,
                   const char *limit)
{
	printf("figure %s %.6g %s vs %s ratio %.3f (limit %s)\n", name, value, unit, vs, ratio,
	       limit);
}

static void die(const char *what, const char *detail) __attribute__((noreturn));
static void die(const char *what, const char *detail)
{
	printf("bench-node: %s: %s\n", what, detail);
	exit(1);
}

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A per-thread xorshift (the shared one in bench_docs is for the main thread only). */
static uint64_t xs(uint64_t *st)
{
	uint64_t x = *st;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *st = x;
}

/* One call that must succeed with OK; the reply body is returned (caller frees). */
static uint8_t *call_ok(mycel_client *c, const char *method, const uint8_t *req, size_t n,
                        size_t *out_len)
{
	uint64_t st = 0;
	char *msg = NULL;
	uint8_t *body = NULL;
	size_t len = 0;
	int rv = mycel_client_call(c, method, wall_ms() + CALL_MS, req, n, &st, &msg, &body, &len);
	if (rv != 0)
		die(method, mycel_strerror(rv));
	if (st != MYCEL_RPC_OK) {
		printf("bench-node: %s: %s: %s\n", method, mycel_rpc_status_name(st), msg);
		exit(1);
	}
	free(msg);
	*out_len = len;
	return body;
}

/* The size of the request envelope a client sends for a body of n bytes. */
static size_t request_envelope_len(const char *method, size_t n)
{
	static const uint8_t zero[1];
	uint8_t *body = calloc(1, n ? n : 1);
	mycel_rpc_request r;
	mycel_buf b;
	memset(&r, 0, sizeof(r));
	r.method = method;
	r.method_len = strlen(method);
	r.deadline_ms = wall_ms() + CALL_MS;
	r.body = n ? body : zero;
	r.body_len = n;
	mycel_buf_init(&b, MYCEL_RPC_REQUEST_MAX);
	if (body == NULL || mycel_rpc_request_encode(&r, &b) != 0)
		die("request envelope", "cannot encode");
	size_t len = b.len;
	mycel_buf_fini(&b);
	free(body);
	return len;
}

/* A reply envelope (OK, no message) whose body is n bytes; into b. */
static void reply_envelope(size_t n, mycel_buf *b)
{
	uint8_t *body = calloc(1, n ? n : 1);
	mycel_rpc_reply r;
	memset(&r, 0, sizeof(r));
	r.status = MYCEL_RPC_OK;
	r.message = "";
	r.has_body = true;
	r.body = body;
	r.body_len = n;
	if (body == NULL || mycel_rpc_reply_encode(&r, b) != 0)
		die("reply envelope", "cannot encode");
	free(body);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

static void rm_tree(const char *dir)
{
	if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		printf("bench-node: could not remove all of %s\n", dir);
}

/* The temporary directories made so far; whatever is left of them goes at exit (die too). */
static char tmp_dirs[2][128];

static void rm_tmp_dirs(void)
{
	for (size_t i = 0; i < sizeof(tmp_dirs) / sizeof(tmp_dirs[0]); i++)
		if (tmp_dirs[i][0] != '\0' && access(tmp_dirs[i], F_OK) == 0)
			rm_tree(tmp_dirs[i]);
}

static void make_tmp_dir(char *tmpl, size_t slot)
{
	if (mkdtemp(tmpl) == NULL)
		die("mkdtemp", strerror(errno));
	snprintf(tmp_dirs[slot], sizeof(tmp_dirs[slot]), "%s", tmpl);
}

static mycel_node *open_node(const char *data)
{
	mycel_node_opts o;
	mycel_node *n = NULL;
	char why[512] = "";
	memset(&o, 0, sizeof(o));
	o.data = data;
	o.listen = "tcp://127.0.0.1:0";
	int rv = mycel_node_open(&o, &n, why, sizeof(why));
	if (rv != 0)
		die("node", why[0] ? why : mycel_strerror(rv));
	if ((rv = mycel_node_start(n)) != 0)
		die("node start", mycel_strerror(rv));
	return n;
}

/* ---- clients: 8 threads, started together ------------------------------------------ */

typedef struct run run;

typedef struct client {
	run *r;
	int idx;
	mycel_client *c;
	pthread_t thread;
	uint64_t rng;
	size_t calls;
	size_t failed;
	double t_end;
} client;

struct run {
	const char *url;
	const char *method;
	size_t nclients;
	pthread_barrier_t start;
	double t0;
	double stop_at;         /* time-bound runs: stop at this bench_now() */
	void (*body)(client *); /* what a client does */
	/* get */
	uint8_t **reqs; /* encoded request bodies to pick from */
	size_t *req_len;
	size_t nreqs;
	const uint8_t *fixed; /* or one fixed body (echo) */
	size_t fixed_len;
	/* search and publish: a shared queue of requests, a latency slot each */
	atomic_size_t next;
	double *lat;
	atomic_size_t reply_bytes; /* sum of the reply bodies received */
	char err[512];
	atomic_bool failed;
};

/* Marks the run failed; the first failure's reason is kept. */
static void fail_run(run *r, const char *what, const char *msg)
{
	bool was = false;
	if (atomic_compare_exchange_strong(&r->failed, &was, true))
		snprintf(r->err, sizeof(r->err), "%s: %s", what, msg);
}

/* One call; false (run marked failed) unless it ended OK. */
static bool one_call(client *cl, const uint8_t *req, size_t n)
{
	uint64_t st = 0;
	char *msg = NULL;
	uint8_t *body = NULL;
	size_t len = 0;
	int rv = mycel_client_call(cl->c, cl->r->method, wall_ms() + CALL_MS, req, n, &st, &msg,
	                           &body, &len);
	if (rv != 0) {
		fail_run(cl->r, "client", mycel_strerror(rv));
		return false;
	}
	bool ok = st == MYCEL_RPC_OK;
	atomic_fetch_add(&cl->r->reply_bytes, len);
	if (!ok)
		fail_run(cl->r, mycel_rpc_status_name(st), msg);
	free(msg);
	free(body);
	return ok;
}

/* Time-bound: random request (or the fixed one) until stop_at. */
static void body_timed(client *cl)
{
	run *r = cl->r;
	while (bench_now() < r->stop_at && !atomic_load(&r->failed)) {
		const uint8_t *req = r->fixed;
		size_t n = r->fixed_len;
		if (req == NULL) {
			size_t i = (size_t)(xs(&cl->rng) % r->nreqs);
			req = r->reqs[i];
			n = r->req_len[i];
		}
		if (!one_call(cl, req, n))
			break;
		cl->calls++;
	}
}

/* Count-bound: take requests from the shared queue, record each latency. */
static void body_queue(client *cl)
{
	run *r = cl->r;
	for (;;) {
		size_t i = atomic_fetch_add(&r->next, 1);
		if (i >= r->nreqs || atomic_load(&r->failed))
			break;
		double a = bench_now();
		if (!one_call(cl, r->fixed ? r->fixed : r->reqs[i],
		              r->fixed ? r->fixed_len : r->req_len[i]))
			break;
		r->lat[i] = bench_now() - a;
		cl->calls++;
	}
}

static void *client_main(void *arg)
{
	client *cl = arg;
	pthread_barrier_wait(&cl->r->start);
	cl->r->body(cl);
	cl->t_end = bench_now();
	return NULL;
}

/* CPU seconds (user + system) this process has used. */
static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/*
 * Runs r->nclients clients (each its own connection, opened before the start) and returns
 * the calls per second over the whole run (from the common start to the last client's end);
 * *out_per_cpu (unless NULL) gets the calls per CPU-second this process used meanwhile
 * (node or echo, and the clients), which other load on the machine does not change.
 */
static double run_clients(run *r, double seconds, double *out_per_cpu)
{
	client cl[CLIENTS];
	size_t nc = r->nclients;
	memset(cl, 0, sizeof(cl));
	atomic_store(&r->failed, false);
	atomic_store(&r->next, 0);
	atomic_store(&r->reply_bytes, 0);
	r->err[0] = '\0';
	for (size_t i = 0; i < nc; i++) {
		cl[i].r = r;
		cl[i].idx = (int)i;
		cl[i].rng = 0x2545f4914f6cdd1dull * (i + 1);
		int rv = mycel_client_open(r->url, &cl[i].c);
		if (rv != 0)
			die(r->url, mycel_strerror(rv));
	}
	pthread_barrier_init(&r->start, NULL, (unsigned)nc + 1);
	for (size_t i = 0; i < nc; i++)
		if (pthread_create(&cl[i].thread, NULL, client_main, &cl[i]) != 0)
			die("client thread", "cannot start");
	r->t0 = bench_now();
	r->stop_at = r->t0 + seconds;
	pthread_barrier_wait(&r->start);
	double cpu0 = cpu_s();
	r->t0 = bench_now();
	r->stop_at = r->t0 + seconds;
	double end = r->t0;
	size_t calls = 0;
	for (size_t i = 0; i < nc; i++) {
		pthread_join(cl[i].thread, NULL);
		mycel_client_close(cl[i].c);
		calls += cl[i].calls;
		if (cl[i].t_end > end)
			end = cl[i].t_end;
	}
	double cpu = cpu_s() - cpu0;
	pthread_barrier_destroy(&r->start);
	if (atomic_load(&r->failed))
		die(r->method, r->err);
	if (out_per_cpu != NULL)
		*out_per_cpu = cpu > 0 ? (double)calls / cpu : 0;
	return end > r->t0 ? (double)calls / (end - r->t0) : 0;
}

/* The median of v[0..n-1] (the mean of the middle two when n is even); sorts v. */
static double mid(double *v, size_t n)
{
	bench_median(v, n);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- the bare echo server -------------------------------------------------------------- */

typedef struct echo_worker {
	struct echo *e;
	nng_ctx ctx;
	nng_aio *aio;
	pthread_t thread;
} echo_worker;

typedef struct echo {
	nng_socket s;
	char url[128];
	const uint8_t *reply;
	size_t reply_len;
	echo_worker w[MYCEL_NODE_WORKERS_MAX];
	size_t n_w;
} echo;

/* What a node worker does around mycel_rpc_serve, without it: receive, free, reply. */
static void *echo_main(void *arg)
{
	echo_worker *w = arg;
	for (;;) {
		nng_ctx_recv(w->ctx, w->aio);
		nng_aio_wait(w->aio);
		if (nng_aio_result(w->aio) != 0)
			break;
		nng_msg_free(nng_aio_get_msg(w->aio));
		nng_msg *m;
		if (nng_msg_alloc(&m, w->e->reply_len) != 0)
			break;
		memcpy(nng_msg_body(m), w->e->reply, w->e->reply_len);
		nng_aio_set_msg(w->aio, m);
		nng_ctx_send(w->ctx, w->aio);
		nng_aio_wait(w->aio);
		if (nng_aio_result(w->aio) != 0) {
			nng_msg_free(m);
			break;
		}
	}
	return NULL;
}

static void echo_start(echo *e, size_t workers, const uint8_t *reply, size_t reply_len)
{
	nng_listener l;
	int port = 0, rv;
	memset(e, 0, sizeof(*e));
	e->reply = reply;
	e->reply_len = reply_len;
	e->n_w = workers;
	if ((rv = nng_rep0_open(&e->s)) != 0 ||
	    (rv = nng_socket_set_size(e->s, NNG_OPT_RECVMAXSZ, MYCEL_RPC_REQUEST_MAX + 256)) != 0 ||
	    (rv = nng_listener_create(&l, e->s, "tcp://127.0.0.1:0")) != 0 ||
	    (rv = nng_listener_start(l, 0)) != 0 ||
	    (rv = nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port)) != 0)
		die("echo server", nng_strerror(rv));
	snprintf(e->url, sizeof(e->url), "tcp://127.0.0.1:%d", port);
	for (size_t i = 0; i < workers; i++) {
		echo_worker *w = &e->w[i];
		w->e = e;
		if ((rv = nng_aio_alloc(&w->aio, NULL, NULL)) != 0 ||
		    (rv = nng_ctx_open(&w->ctx, e->s)) != 0)
			die("echo server", nng_strerror(rv));
		if (pthread_create(&w->thread, NULL, echo_main, w) != 0)
			die("echo server", "cannot start a worker");
	}
}

/* Closing the socket fails every context's pending receive with NNG_ECLOSED. */
static void echo_stop(echo *e)
{
	nng_close(e->s);
	for (size_t i = 0; i < e->n_w; i++) {
		pthread_join(e->w[i].thread, NULL);
		nng_aio_free(e->w[i].aio);
	}
}

/* ---- 1. get ------------------------------------------------------------------------------ */

static void bench_get(const char *url, mycel_store *store, const bench_doc_ref *refs, size_t ndocs,
                      bool quick)
{
	size_t nreq = ndocs;
	uint8_t **reqs = calloc(nreq, sizeof(*reqs));
	size_t *lens = calloc(nreq, sizeof(*lens));
	if (reqs == NULL || lens == NULL)
		die("get", "out of memory");
	size_t req_bytes = 0;
	for (size_t i = 0; i < nreq; i++) {
		mycel_msg_GetRequest g;
		mycel_buf b;
		memset(&g, 0, sizeof(g));
		g.domain = refs[i].domain;
		g.domain_len = strlen(refs[i].domain);
		g.id = refs[i].id;
		g.id_len = strlen(refs[i].id);
		mycel_buf_init(&b, 1024);
		if (mycel_msg_GetRequest_encode(&g, &b) != 0)
			die("get", "cannot encode a GetRequest");
		reqs[i] = b.data; /* taken over from the buffer */
		lens[i] = b.len;
		req_bytes += b.len;
	}

	/* The mean sizes, and that every sampled Get returns the document asked for. */
	mycel_client *c;
	int rv = mycel_client_open(url, &c);
	if (rv != 0)
		die(url, mycel_strerror(rv));
	size_t sample = quick ? 300 : 2000, reply_bytes = 0, reply_env = 0, req_env = 0;
	uint64_t st = 0x1234567ull;
	mycel_arena *a;
	mycel_arena_new((size_t)64 << 20, &a);
	for (size_t k = 0; k < sample; k++) {
		size_t i = (size_t)(xs(&st) % nreq), len;
		uint8_t *body = call_ok(c, GET_METHOD, reqs[i], lens[i], &len);
		mycel_msg_GetReply r;
		char why[256] = "";
		if (mycel_msg_GetReply_decode(body, len, a, &r, why, sizeof(why)) != 0)
			die("GetReply", why);
		if (r.id == NULL || strcmp(r.id, refs[i].id) != 0 || r.n_entries != 1)
			die("get", "the reply is not the document asked for");
		mycel_buf b;
		mycel_buf_init(&b, MYCEL_NODE_REPLY_MAX);
		reply_envelope(len, &b);
		reply_env += b.len;
		mycel_buf_fini(&b);
		reply_bytes += len;
		req_env += request_envelope_len(GET_METHOD, lens[i]);
		free(body);
	}
	mycel_arena_free(a);
	mycel_client_close(c);
	size_t mean_req = (req_bytes + nreq / 2) / nreq;
	size_t mean_reply = (reply_bytes + sample / 2) / sample;
	printf(
	    "\nget by id: %d client threads over tcp loopback, random ids of the %zu documents\n",
	    CLIENTS, ndocs);
	printf("  mean request %zu bytes (envelope %zu), mean reply %zu bytes (envelope %zu), over "
	       "%zu "
	       "Gets\n",
	       mean_req, (req_env + sample / 2) / sample, mean_reply,
	       (reply_env + sample / 2) / sample, sample);

	/* The echo's request body and reply envelope, of the mean sizes. */
	uint8_t *fixed = calloc(1, mean_req);
	mycel_buf echo_reply;
	mycel_buf_init(&echo_reply, MYCEL_NODE_REPLY_MAX);
	reply_envelope(mean_reply, &echo_reply);
	printf("  echo: request envelope %zu bytes, reply envelope %zu bytes, %u worker contexts "
	       "(the node's default)\n",
	       request_envelope_len(GET_METHOD, mean_req), echo_reply.len,
	       MYCEL_NODE_WORKERS_DEFAULT);

	/*
	 * The node's own work per Get: mycel_rpc_serve on the request envelope, one thread.
	 * The first pass Gets every document once, as a node that has served for a while
	 * has (the store was just written, its map is not yet resident); the second is timed.
	 */
	for (int pass = 0; pass < 2; pass++) {
		size_t ns = pass == 0 ? nreq : quick ? 2000 : 20000;
		mycel_buf env, rep;
		mycel_buf_init(&env, MYCEL_RPC_REQUEST_MAX);
		mycel_buf_init(&rep, MYCEL_NODE_REPLY_MAX);
		double t0 = bench_now();
		for (size_t k = 0; k < ns; k++) {
			size_t i = pass == 0 ? k : (size_t)(xs(&st) % nreq);
			mycel_rpc_request rq;
			memset(&rq, 0, sizeof(rq));
			rq.method = GET_METHOD;
			rq.method_len = strlen(GET_METHOD);
			rq.deadline_ms = wall_ms() + CALL_MS;
			rq.body = reqs[i];
			rq.body_len = lens[i];
			mycel_buf_reset(&env);
			if (mycel_rpc_request_encode(&rq, &env) != 0 ||
			    mycel_rpc_serve(store, env.data, env.len, false, wall_ms(), &rep) != 0)
				die("get", "mycel_rpc_serve failed");
		}
		double us = (bench_now() - t0) / (double)ns * 1e6;
		if (pass == 0)
			printf("  warm-up: every document once, %.1f us per Get\n", us);
		else
			printf("  the node's own work per Get (mycel_rpc_serve in this thread, no "
			       "network): "
			       "%.1f us\n",
			       us);
		mycel_buf_fini(&env);
		mycel_buf_fini(&rep);
	}

	int rounds = quick ? 2 : 5;
	double secs = quick ? 0.7 : 2.0;
	double node_rates[5], echo_rates[5], node_cpu[5], echo_cpu[5];
	run r;
	memset(&r, 0, sizeof(r));
	r.method = GET_METHOD;
	r.nclients = CLIENTS;
	r.body = body_timed;
	for (int k = 0; k < rounds; k++) {
		r.url = url;
		r.reqs = reqs;
		r.req_len = lens;
		r.nreqs = nreq;
		r.fixed = NULL;
		node_rates[k] = run_clients(&r, secs, &node_cpu[k]);
		echo e;
		echo_start(&e, MYCEL_NODE_WORKERS_DEFAULT, echo_reply.data, echo_reply.len);
		r.url = e.url;
		r.fixed = fixed;
		r.fixed_len = mean_req;
		echo_rates[k] = run_clients(&r, secs, &echo_cpu[k]);
		echo_stop(&e);
		printf("  round %d: node %8.0f Gets/s (%6.0f per CPU-s)   echo %8.0f calls/s "
		       "(%6.0f per "
		       "CPU-s)   %.3f\n",
		       k + 1, node_rates[k], node_cpu[k], echo_rates[k], echo_cpu[k],
		       node_rates[k] / echo_rates[k]);
	}
	double node = mid(node_rates, (size_t)rounds), ech = mid(echo_rates, (size_t)rounds);
	double nodec = mid(node_cpu, (size_t)rounds), echc = mid(echo_cpu, (size_t)rounds);
	printf(
	    "  median of %d rounds of %.1f s: node %.0f Gets/s, echo %.0f calls/s; per CPU-second "
	    "of this process: node %.0f, echo %.0f\n",
	    rounds, secs, node, ech, nodec, echc);
	figure("get_rate", node, "calls/s", "nng_echo", node / ech, "0.8 (DESIGN §8)");
	figure("get_echo_rate", ech, "calls/s", "nng_echo", 1.0, "-");
	figure("get_per_cpu_s", nodec, "calls/cpu-s", "nng_echo", nodec / echc, "-");
	mycel_buf_fini(&echo_reply);
	free(fixed);
	for (size_t i = 0; i < nreq; i++)
		free(reqs[i]);
	free(reqs);
	free(lens);
}

/* ---- 2. search ----------------------------------------------------------------------------- */

/*
 * The total the node reports for the encoded query req, which must be the total
 * mycel_catalog_search gives for q on the node's store (same documents, same answer).
 */
static uint64_t search_total_checked(mycel_client *c, mycel_store *s, const bench_query *bq,
                                     const uint8_t *req, size_t n)
{
	size_t len;
	uint8_t *body = call_ok(c, SEARCH_METHOD, req, n, &len);
	mycel_arena *a;
	mycel_msg_SearchReply rp;
	char why[256] = "";
	mycel_arena_new((size_t)64 << 20, &a);
	if (mycel_msg_SearchReply_decode(body, len, a, &rp, why, sizeof(why)) != 0)
		die("SearchReply", why);
	mycel_search_query q;
	mycel_search_result res;
	memset(&q, 0, sizeof(q));
	q.status = MYCEL_STATUS_VISIBLE;
	q.text = bq->text[0] != '\0' ? bq->text : NULL;
	q.domain = bq->domain;
	if (bq->tag != NULL) {
		q.tags[0] = bq->tag;
		q.n_tags = 1;
	}
	int rv = mycel_catalog_search(s, &q, &res);
	if (rv != 0)
		die("search in process", mycel_strerror(rv));
	uint64_t total = rp.has_total ? rp.total : 0;
	bool same = total == res.total && rp.n_hits == res.n;
	for (size_t i = 0; same && i < res.n; i++)
		same = rp.hits[i].id != NULL && strcmp(rp.hits[i].id, res.hits[i].id) == 0 &&
		       rp.hits[i].domain != NULL &&
		       strcmp(rp.hits[i].domain, res.hits[i].domain) == 0;
	if (!same) {
		printf("bench-node: search \"%s\" domain %s tag %s: the node's answer (%llu "
		       "hits) is not the library's (%llu)\n",
		       bq->text, bq->domain ? bq->domain : "-", bq->tag ? bq->tag : "-",
		       (unsigned long long)total, (unsigned long long)res.total);
		exit(1);
	}
	mycel_search_result_fini(&res);
	mycel_arena_free(a);
	free(body);
	return total;
}

static void bench_search(const char *url, mycel_store *store, size_t ndocs, bool quick)
{
	size_t nq = quick ? 400 : 4000, nq1 = quick ? 200 : 1000, ncheck = quick ? 50 : 200;
	uint8_t **reqs = calloc(nq, sizeof(*reqs));
	size_t *lens = calloc(nq, sizeof(*lens));
	double *lat = calloc(nq, sizeof(*lat));
	bench_query *bqs = calloc(nq, sizeof(*bqs));
	mycel_client *check;
	if (reqs == NULL || lens == NULL || lat == NULL || bqs == NULL)
		die("search", "out of memory");
	int crv = mycel_client_open(url, &check);
	if (crv != 0)
		die(url, mycel_strerror(crv));
	printf(
	    "\nsearch over %zu documents (the documents and query shapes of bench-catalog), over "
	    "tcp loopback:\n%d concurrent clients, beside one client alone\n",
	    ndocs, CLIENTS);
	printf("  %-22s %10s %10s %10s %10s %9s %10s\n", "query", "p50 (us)", "p99 (us)", "1: p50",
	       "1: p99", "p99 / 1", "hits(avg)");
	double worst = 0, worst1 = 0;
	const char *worst_name = "";
	size_t req_bytes = 0, reply_bytes = 0, calls = 0;
	run r;
	memset(&r, 0, sizeof(r));
	r.url = url;
	r.method = SEARCH_METHOD;
	r.body = body_queue;
	r.lat = lat;
	r.reqs = reqs;
	r.req_len = lens;
	for (size_t sh = 0; sh < BENCH_NSHAPES; sh++) {
		for (size_t q = 0; q < nq; q++) {
			bench_query *bq = &bqs[q];
			mycel_msg_SearchRequest s;
			mycel_str tag;
			mycel_buf b;
			bench_gen_query(bench_shapes[sh].shape, ndocs, bq);
			memset(&s, 0, sizeof(s));
			if (bq->text[0] != '\0') {
				s.text = bq->text;
				s.text_len = strlen(bq->text);
			}
			if (bq->domain != NULL) {
				s.domain = bq->domain;
				s.domain_len = strlen(bq->domain);
			}
			if (bq->tag != NULL) {
				tag.ptr = bq->tag;
				tag.len = strlen(bq->tag);
				s.tags = &tag;
				s.n_tags = 1;
			}
			mycel_buf_init(&b, 4096);
			if (mycel_msg_SearchRequest_encode(&s, &b) != 0)
				die("search", "cannot encode a SearchRequest");
			reqs[q] = b.data;
			lens[q] = b.len;
		}
		/* 8 clients share the nq queries */
		r.nclients = CLIENTS;
		r.nreqs = nq;
		run_clients(&r, 0, NULL);
		reply_bytes += atomic_load(&r.reply_bytes);
		calls += nq;
		for (size_t q = 0; q < nq; q++)
			req_bytes += lens[q];
		double p50 = bench_pct(lat, nq, 0.50) * 1e6, p99 = bench_pct(lat, nq, 0.99) * 1e6;
		/* one client: the first nq1 of the same queries */
		r.nclients = 1;
		r.nreqs = nq1;
		run_clients(&r, 0, NULL);
		double p50_1 = bench_pct(lat, nq1, 0.50) * 1e6,
		       p99_1 = bench_pct(lat, nq1, 0.99) * 1e6;
		/* the answers are the library's: the first ncheck queries, not timed */
		double hits = 0;
		for (size_t q = 0; q < ncheck && q < nq; q++)
			hits +=
			    (double)search_total_checked(check, store, &bqs[q], reqs[q], lens[q]);
		printf("  %-22s %10.1f %10.1f %10.1f %10.1f %9.2f %10.1f\n", bench_shapes[sh].name,
		       p50, p99, p50_1, p99_1, p99 / p99_1,
		       hits / (double)(ncheck < nq ? ncheck : nq));
		if (p99 > worst) {
			worst = p99;
			worst_name = bench_shapes[sh].name;
		}
		if (p99_1 > worst1)
			worst1 = p99_1;
		for (size_t q = 0; q < nq; q++)
			free(reqs[q]);
	}
	printf("  worst p99 with %d clients: %.2f ms (%s); worst p99 of one client: %.2f ms\n",
	       CLIENTS, worst / 1000, worst_name, worst1 / 1000);

	/*
	 * The transport's own tail on this machine: the bare echo, the same 8 clients, as many
	 * requests, of the mean Search request and reply sizes.
	 */
	size_t mean_req = (req_bytes + calls / 2) / calls,
	       mean_reply = (reply_bytes + calls / 2) / calls;
	uint8_t *fixed = calloc(1, mean_req ? mean_req : 1);
	mycel_buf echo_reply;
	mycel_buf_init(&echo_reply, MYCEL_NODE_REPLY_MAX);
	reply_envelope(mean_reply, &echo_reply);
	echo e;
	echo_start(&e, MYCEL_NODE_WORKERS_DEFAULT, echo_reply.data, echo_reply.len);
	r.url = e.url;
	r.fixed = fixed;
	r.fixed_len = mean_req;
	r.nclients = CLIENTS;
	r.nreqs = nq;
	run_clients(&r, 0, NULL);
	echo_stop(&e);
	double ep50 = bench_pct(lat, nq, 0.50) * 1e6, ep99 = bench_pct(lat, nq, 0.99) * 1e6;
	printf(
	    "  bare nng echo, %d clients, request %zu / reply %zu bytes (the mean Search sizes): "
	    "p50 %.1f us, p99 %.1f us\n",
	    CLIENTS, mean_req, mean_reply, ep50, ep99);
	mycel_buf_fini(&echo_reply);
	free(fixed);
	figure("search_p99_worst_8_clients", worst / 1000, "ms", "limit_5ms", worst / 1000 / 5.0,
	       "1.0 (DESIGN §8)");
	figure("search_p99_worst_1_client", worst1 / 1000, "ms", "limit_5ms", worst1 / 1000 / 5.0,
	       "1.0 (DESIGN §8)");
	figure("search_p99_8_vs_1", worst / 1000, "ms", "one_client", worst / worst1, "-");
	figure("search_p99_8_vs_echo", worst / 1000, "ms", "nng_echo_p99", worst / ep99, "-");
	mycel_client_close(check);
	free(bqs);
	free(reqs);
	free(lens);
	free(lat);
}

/* ---- 3. publish ----------------------------------------------------------------------------- */

static double raw_sign_rate(void)
{
	unsigned char pk[32], sk[64], sig[64], msg[200];
	crypto_sign_keypair(pk, sk);
	randombytes_buf(msg, sizeof(msg));
	double rates[5];
	for (int r = 0; r < 5; r++) {
		double t0 = bench_now();
		for (int i = 0; i < 2000; i++)
			crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
		rates[r] = 2000 / (bench_now() - t0);
	}
	sodium_memzero(sk, sizeof(sk));
	return bench_median(rates, 5);
}

/*
 * n PublishRequests of per documents each: distinct generated contracts of domain "sales"
 * (numbered from first), as JSON text. *lint_s (unless NULL) gets the time parsing and
 * linting all but the first of them took here (what a node does to each before signing),
 * one thread.
 */
static void publish_requests(size_t first, size_t n, size_t per, uint8_t **reqs, size_t *lens,
                             size_t *doc_bytes, double *lint_s)
{
	mycel_arena *a;
	mycel_buf *json = calloc(per, sizeof(*json));
	mycel_msg_PublishDoc *pd = calloc(per, sizeof(*pd));
	char(*path)[64] = calloc(per, sizeof(*path));
	if (json == NULL || pd == NULL || path == NULL)
		die("publish", "out of memory");
	if (lint_s != NULL)
		*lint_s = 0;
	mycel_arena_new((size_t)1 << 30, &a);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < per; k++) {
			size_t no = first + i * per + k;
			mycel_buf canon;
			mycel_value *v;
			mycel_buf_init(&canon, 1 << 20);
			mycel_buf_init(&json[k], 1 << 20);
			bench_gen_contract(&canon, no, "sales", "1.0.0", NULL);
			if (mycel_value_decode(canon.data, canon.len, 1 << 20, a, &v, NULL) != 0 ||
			    mycel_value_render(v, &json[k]) != 0)
				die("publish", "cannot render a generated contract as JSON");
			mycel_buf_fini(&canon);
			if (lint_s != NULL) {
				mycel_arena *la;
				mycel_value *doc;
				mycel_diags d;
				mycel_docinfo info;
				mycel_arena_new((size_t)1 << 30, &la);
				mycel_diags_init(&d, 0);
				double t0 = bench_now();
				if (mycel_doc_parse((const char *)json[k].data, json[k].len, NULL,
				                    la, &doc, &d) != 0 ||
				    mycel_lint_value(doc, &info, &d) != 0)
					die("publish", "a generated contract is not valid");
				if (no != first) /* the first one also loads the schemas */
					*lint_s += bench_now() - t0;
				mycel_diags_fini(&d);
				mycel_arena_free(la);
			}
			snprintf(path[k], sizeof(path[k]), "bench-%zu.json", no);
			memset(&pd[k], 0, sizeof(pd[k]));
			pd[k].document = json[k].data;
			pd[k].document_len = json[k].len;
			pd[k].path = path[k];
			pd[k].path_len = strlen(path[k]);
			*doc_bytes += json[k].len;
		}
		mycel_msg_PublishRequest p;
		mycel_buf b;
		memset(&p, 0, sizeof(p));
		p.documents = pd;
		p.n_documents = per;
		mycel_buf_init(&b, MYCEL_RPC_REQUEST_MAX);
		if (mycel_msg_PublishRequest_encode(&p, &b) != 0)
			die("publish", "cannot encode a PublishRequest");
		reqs[i] = b.data;
		lens[i] = b.len;
		for (size_t k = 0; k < per; k++)
			mycel_buf_fini(&json[k]);
	}
	mycel_arena_free(a);
	free(json);
	free(pd);
	free(path);
}

/* Median time of a 4 KiB write + fdatasync of a file in dir (what one durable commit waits for). */
static double fdatasync_ms(const char *dir)
{
	char path[256], block[4096];
	double t[21];
	snprintf(path, sizeof(path), "%s/fsync-probe", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die(path, strerror(errno));
	memset(block, 'x', sizeof(block));
	for (int i = 0; i < 21; i++) {
		double a = bench_now();
		if (pwrite(fd, block, sizeof(block), (off_t)i * (off_t)sizeof(block)) !=
		        (ssize_t)sizeof(block) ||
		    fdatasync(fd) != 0)
			die(path, strerror(errno));
		t[i] = (bench_now() - a) * 1e3;
	}
	close(fd);
	unlink(path);
	return bench_median(t, 21);
}

static void bench_publish(bool quick)
{
	char base[] = "/tmp/mycel-bench-node-pub-XXXXXX", dir[128], why[512] = "";
	make_tmp_dir(base, 1);
	snprintf(dir, sizeof(dir), "%s/d", base);
	mycel_domain_opts o = {.dir = dir, .name = "sales", .mesh = "bench"};
	int rv = mycel_domain_init(&o, why, sizeof(why));
	if (rv != 0)
		die("domain init", why);
	mycel_node *n = open_node(dir);
	const char *admin = mycel_node_admin_url(n);

	double sign = raw_sign_rate();
	size_t nseq = quick ? 40 : 300, per = quick ? 10 : 100, nstream = per * CLIENTS;
	size_t total = nseq + nstream, doc_bytes = 0;
	uint8_t **reqs = calloc(total, sizeof(*reqs));
	size_t *lens = calloc(total, sizeof(*lens));
	double *lat = calloc(total, sizeof(*lat));
	if (reqs == NULL || lens == NULL || lat == NULL)
		die("publish", "out of memory");
	double lint_s;
	publish_requests(0, total, 1, reqs, lens, &doc_bytes, &lint_s);
	double sync_ms = fdatasync_ms(dir);
	printf("\npublish over the admin socket (%s), one generated ODCS contract (JSON, %zu bytes "
	       "on average) per request, durable when acknowledged\n",
	       admin, doc_bytes / total);
	printf(
	    "  raw Ed25519 sign (200 bytes, one thread): %.0f/s; parse + lint of one of these "
	    "documents here: %.0f us; a 4 KiB write + fdatasync in the domain directory: %.2f ms\n",
	    sign, lint_s / (double)(total > 1 ? total - 1 : 1) * 1e6, sync_ms);

	run r;
	memset(&r, 0, sizeof(r));
	r.url = admin;
	r.method = PUBLISH_METHOD;
	r.body = body_queue;
	r.lat = lat;
	r.reqs = reqs;
	r.req_len = lens;
	r.nreqs = nseq;
	r.nclients = 1;
	double seq_rate = run_clients(&r, 0, NULL);
	double p50 = bench_pct(lat, nseq, 0.50) * 1e3, p99 = bench_pct(lat, nseq, 0.99) * 1e3;
	printf("  sequential, one client: %zu publishes, p50 %.2f ms, p99 %.2f ms, %.0f docs/s\n",
	       nseq, p50, p99, seq_rate);

	r.reqs = reqs + nseq;
	r.req_len = lens + nseq;
	r.lat = lat + nseq;
	r.nreqs = nstream;
	r.nclients = CLIENTS;
	double stream = run_clients(&r, 0, NULL);
	double sp50 = bench_pct(lat + nseq, nstream, 0.50) * 1e3;
	double sp99 = bench_pct(lat + nseq, nstream, 0.99) * 1e3;
	printf(
	    "  stream, %d concurrent publishers: %zu publishes, %.0f docs/s (p50 %.2f ms, p99 %.2f "
	    "ms)\n",
	    CLIENTS, nstream, stream, sp50, sp99);

	/* the same 8 publishers, each request carrying bper documents (one transaction each) */
	size_t bper = quick ? 20 : 100, nb = (quick ? 1 : 5) * CLIENTS;
	uint8_t **breqs = calloc(nb, sizeof(*breqs));
	size_t *blens = calloc(nb, sizeof(*blens));
	double *blat = calloc(nb, sizeof(*blat));
	size_t bbytes = 0;
	if (breqs == NULL || blens == NULL || blat == NULL)
		die("publish", "out of memory");
	publish_requests(total, nb, bper, breqs, blens, &bbytes, NULL);
	r.reqs = breqs;
	r.req_len = blens;
	r.lat = blat;
	r.nreqs = nb;
	r.nclients = CLIENTS;
	double batched = run_clients(&r, 0, NULL) * (double)bper;
	printf("  stream, %d concurrent publishers, %zu documents per request: %zu publishes, %.0f "
	       "docs/s (request p50 %.1f ms)\n",
	       CLIENTS, bper, nb * bper, batched, bench_pct(blat, nb, 0.5) * 1e3);
	for (size_t i = 0; i < nb; i++)
		free(breqs[i]);
	free(breqs);
	free(blens);
	free(blat);
	total += nb * bper;

	/* Every acknowledged publish is in the feed: the node's store holds all of them. */
	mycel_node_close(n);
	mycel_domain dom;
	mycel_store *s = NULL;
	if (mycel_domain_load(dir, &dom, why, sizeof(why)) != 0 ||
	    mycel_store_open(dom.store_path, 0, &s, why, sizeof(why)) != 0)
		die("store", why);
	mycel_search_query q;
	mycel_search_result res;
	memset(&q, 0, sizeof(q));
	q.status = MYCEL_STATUS_ANY;
	q.limit = 1;
	if ((rv = mycel_catalog_search(s, &q, &res)) != 0)
		die("count", mycel_strerror(rv));
	if (res.total != total) {
		printf("bench-node: %zu publishes acknowledged but %zu documents in the catalog\n",
		       total, (size_t)res.total);
		exit(1);
	}
	mycel_search_result_fini(&res);
	mycel_store_close(s);
	mycel_domain_fini(&dom);

	double lat_sign_ms = 1e3 / sign;
	figure("publish_p50", p50, "ms", "raw_sign_time", p50 / lat_sign_ms, "-");
	figure("publish_p99", p99, "ms", "raw_sign_time", p99 / lat_sign_ms, "-");
	figure("publish_sequential", seq_rate, "docs/s", "raw_sign", seq_rate / sign,
	       "0.8 (DESIGN §8)");
	figure("publish_stream_8", stream, "docs/s", "raw_sign", stream / sign, "0.8 (DESIGN §8)");
	char bname[64];
	snprintf(bname, sizeof(bname), "publish_stream_8x%zu", bper);
	figure(bname, batched, "docs/s", "raw_sign", batched / sign, "0.8 (DESIGN §8)");
	for (size_t i = 0; i < nseq + nstream; i++)
		free(reqs[i]);
	free(reqs);
	free(lens);
	free(lat);
	rm_tree(base);
}

/* ---- main ---------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	bool quick = false;
	size_t ndocs = 100000;
	const char *only = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			quick = true;
		else if (strcmp(argv[i], "--docs") == 0 && i + 1 < argc)
			ndocs = (size_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
			only = argv[++i];
		else {
			fprintf(
			    stderr,
			    "usage: bench-node [--quick] [--docs N] [--only get|search|publish]\n");
			return 2;
		}
	}
	if (quick && ndocs == 100000)
		ndocs = 5000;
	if (ndocs == 0) {
		fprintf(stderr, "bench-node: --docs must be at least 1\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	atexit(rm_tmp_dirs);
	char threads[160];
	snprintf(threads, sizeof(threads),
	         "node in this process (%u workers, %u admin workers), %d client threads, tcp "
	         "loopback",
	         MYCEL_NODE_WORKERS_DEFAULT, MYCEL_NODE_ADMIN_WORKERS_DEFAULT, CLIENTS);
	bench_machine(threads);

	bool get = only == NULL || strcmp(only, "get") == 0;
	bool search = only == NULL || strcmp(only, "search") == 0;
	bool publish = only == NULL || strcmp(only, "publish") == 0;
	if (get || search) {
		char dir[] = "/tmp/mycel-bench-node-XXXXXX";
		mycel_key *keys[BENCH_NDOMAINS];
		make_tmp_dir(dir, 0);
		rmdir(dir);
		mycel_store *s = bench_make_store(dir, keys);
		bench_templates t;
		bench_load_templates(&t);
		bench_doc_ref *refs = calloc(ndocs, sizeof(*refs));
		if (refs == NULL)
			die("load", "out of memory");
		double t0 = bench_now();
		size_t bytes = bench_load_docs(s, keys, &t, ndocs, refs);
		printf(
		    "\nstore: %zu documents (%s), %.1f MB of canonical bodies, loaded in %.1f s\n",
		    ndocs, t.n > 0 ? "copies of the valid corpus examples" : "synthetic contracts",
		    (double)bytes / 1e6, bench_now() - t0);
		mycel_arena_free(t.a);
		mycel_store_close(s);
		for (int i = 0; i < BENCH_NDOMAINS; i++)
			mycel_key_free(keys[i]);
		mycel_node *n = open_node(dir);
		printf("node: %s\n", mycel_node_url(n));
		if (get)
			bench_get(mycel_node_url(n), mycel_node_store(n), refs, ndocs, quick);
		if (search)
			bench_search(mycel_node_url(n), mycel_node_store(n), ndocs, quick);
		mycel_node_close(n);
		free(refs);
		rm_tree(dir);
	}
	if (publish)
		bench_publish(quick);
	return 0;
}
