/*
 * test_faults.c — myceld under bad input and faults (issue 4, "Bad input and faults").
 *
 * The real myceld (argv[1]) serves a domain directory (mkdtemp, removed at the end) on
 * tcp://127.0.0.1:0 and its admin ipc socket. The cases:
 *   - raw TCP clients (BSD sockets) speaking nng's SP-over-TCP framing: garbage instead of the
 *     handshake, a frame claiming 1 GiB, a truncated frame that stalls, 200 silent connections,
 *     and a client that pipelines big requests and never reads its replies; each time the
 *     node drops the bad pipe or ignores it, its memory stays small, and other clients are
 *     answered promptly;
 *   - through nng: an unknown method, wrong field types, an expired deadline, oversize
 *     envelopes, every Admin method over tcp (refused, nothing written);
 *   - the admin socket refuses another uid (as root: a child that setuid(65534)s and dials);
 *   - kill -9 during a publish storm over the admin socket, several rounds: the restarted node
 *     (on the stale pid file) serves, `mycel verify` (argv[2]) passes and every acknowledged
 *     publish is there with its seq; and SIGTERM during a storm: exit 0, nothing acknowledged lost.
 * After every case a fresh client's Catalog/Get still succeeds. Every process started is
 * ended by its pid; nothing sleeps to wait for an event (ready lines, pipes, condition
 * variables and polls with deadlines instead).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "mycel/client.h"
#include "mycel/codec.h"
#include "mycel/domain.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/rpc.h"
#include "mycel/store.h"
#include "mycel_proto.h"

#include "common.h"

#define CAT "mycel.v1.Catalog/"
#define ADM "mycel.v1.Admin/"
#define WAIT_MS 10000
/* How long a well-behaved client may wait for an answer while another client misbehaves. */
#define PROMPT_MS 3000
/* Bytes of the big document's description (its Get replies are a little larger). */
#define BIG_DOC_BYTES (1536u * 1024u)
/*
 * Most the node's resident memory may grow while a client misbehaves (kB). Under ASan the
 * node (built the same way) keeps freed blocks in a quarantine, up to 256 MiB by default.
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MYCEL_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(MYCEL_TEST_ASAN)
#define RSS_SLACK_KB (160u * 1024u)
#else
#define RSS_SLACK_KB (64u * 1024u)
#endif
#define NODE_WORKERS "2"

static const char *myceld_path;
static const char *mycel_path;
static const char *self_path;

typedef struct node_proc {
	pid_t pid; /* 0 once reaped */
	char url[256];
	char admin[256];
} node_proc;

typedef struct fx {
	char base[64];
	char dir[96];   /* the served domain directory */
	char storm[96]; /* the publish storm's domain directory */
	char log[96];   /* the daemons' stderr */
	node_proc node;
	node_proc storm_node;
} fx;

static fx *F;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* ---- processes ------------------------------------------------------------------------ */

/* Starts exe with args (NULL-terminated, after argv[0]); stdout to *out_fd, stderr to log. */
static pid_t spawn(const char *exe, const char *const *args, const char *log, int *out_fd)
{
	int o[2];
	const char *argv[16];
	size_t k = 0;
	argv[k++] = exe;
	for (; args[k - 1] != NULL && k < 15; k++)
		argv[k] = args[k - 1];
	argv[k] = NULL;
	assert_int_equal(pipe2(o, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(o[1], 1);
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd < 0)
			_exit(126);
		dup2(fd, 2);
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	close(o[1]);
	*out_fd = o[0];
	return pid;
}


/* Copies the daemons' log to stderr (on failure). */
static void dump_log(void)
{
	tc_dump_file(F->log);
}

/* How many times needle occurs in the daemons' log. */
static size_t log_count(const char *needle)
{
	char line[4096];
	size_t n = 0;
	FILE *f = fopen(F->log, "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	return n;
}


/* Starts myceld on dir and waits for its ready line. */
static void node_start(const char *dir, node_proc *p)
{
	char line[1024];
	int out;
	const char *args[] = {"--data",    dir, "--listen", "tcp://127.0.0.1:0",
			      "--workers", NODE_WORKERS, NULL};
	p->pid = spawn(myceld_path, args, F->log, &out);
	size_t n = tc_read_line(out, line, sizeof(line), WAIT_MS);
	close(out);
	if (n == 0 || strncmp(line, "ready url=", 10) != 0) {
		dump_log();
		fail_msg("no ready line from myceld within %d ms: %s", WAIT_MS, line);
	}
	assert_int_equal(sscanf(line, "ready url=%255s admin=%255s", p->url, p->admin), 2);
	assert_true(strncmp(p->url, "tcp://127.0.0.1:", 16) == 0);
}

/* Sends sig to the node and waits for it to exit; its wait status. */
static int node_signal(node_proc *p, int sig)
{
	assert_true(p->pid > 0);
	assert_int_equal(kill(p->pid, sig), 0);
	int st = tc_wait_exit(p->pid, WAIT_MS, F->log);
	p->pid = 0;
	return st;
}

/* The node's resident set size in kB, from /proc/PID/status. */
static long node_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	assert_true(kb > 0);
	return kb;
}

/* ---- documents ------------------------------------------------------------------------ */

/*
 * A contract stored straight into the store (the node is not running yet), with a custom
 * property of blob_len bytes (0: none): a big body that Get returns whole.
 */
static void put_contract(mycel_store *s, mycel_key *k, const char *id, size_t blob_len)
{
	mycel_buf b;
	char *blob = malloc(blob_len + 1);
	assert_non_null(blob);
	for (size_t i = 0; i < blob_len; i++)
		blob[i] = (i % 7 == 6) ? ' ' : (char)('a' + (char)(i % 26));
	blob[blob_len] = '\0';
	mycel_buf_init(&b, 1u << 24);
	mycel_enc_map(&b, blob_len > 0 ? 8 : 7); /* keys in bytewise order */
	mycel_enc_cstr(&b, "apiVersion");
	mycel_enc_cstr(&b, "v3.0.2");
	if (blob_len > 0) {
		mycel_enc_cstr(&b, "customProperties");
		mycel_enc_array(&b, 1);
		mycel_enc_map(&b, 2);
		mycel_enc_cstr(&b, "property");
		mycel_enc_cstr(&b, "blob");
		mycel_enc_cstr(&b, "value");
		mycel_enc_cstr(&b, blob);
	}
	mycel_enc_cstr(&b, "description");
	mycel_enc_map(&b, 1);
	mycel_enc_cstr(&b, "purpose");
	mycel_enc_cstr(&b, "all the orders of the shop");
	mycel_enc_cstr(&b, "id");
	mycel_enc_cstr(&b, id);
	mycel_enc_cstr(&b, "kind");
	mycel_enc_cstr(&b, "DataContract");
	mycel_enc_cstr(&b, "name");
	mycel_enc_cstr(&b, id);
	mycel_enc_cstr(&b, "status");
	mycel_enc_cstr(&b, "active");
	mycel_enc_cstr(&b, "version");
	mycel_enc_cstr(&b, "1.0.0");
	assert_int_equal(b.err, 0);
	mycel_record rec = {"contract", b.data, b.len};
	assert_int_equal(mycel_store_append(s, k, k->pk, &rec, 1, NULL), 0);
	mycel_buf_fini(&b);
	free(blob);
}

static void make_domain(const char *dir, bool with_docs)
{
	char why[512] = "";
	mycel_domain dom;
	mycel_store *s = NULL;
	mycel_key *k = NULL;
	mycel_domain_opts o = {.dir = dir, .name = "alpha", .mesh = "acme"};
	if (mycel_domain_init(&o, why, sizeof(why)) != 0)
		fail_msg("domain init: %s", why);
	if (!with_docs)
		return;
	assert_int_equal(mycel_domain_load(dir, &dom, why, sizeof(why)), 0);
	assert_int_equal(mycel_key_load(dom.key_path, &k), 0);
	assert_int_equal(mycel_store_open(dom.store_path, 0, &s, why, sizeof(why)), 0);
	put_contract(s, k, "orders", 0);
	put_contract(s, k, "big", BIG_DOC_BYTES);
	mycel_store_close(s);
	mycel_key_free(k);
	mycel_domain_fini(&dom);
}

static int group_setup(void **state)
{
	F = calloc(1, sizeof(*F));
	assert_non_null(F);
	snprintf(F->base, sizeof(F->base), "/tmp/mycel-faults-XXXXXX");
	assert_non_null(mkdtemp(F->base));
	snprintf(F->dir, sizeof(F->dir), "%s/d", F->base);
	snprintf(F->storm, sizeof(F->storm), "%s/storm", F->base);
	snprintf(F->log, sizeof(F->log), "%s/myceld.log", F->base);
	make_domain(F->dir, true);
	node_start(F->dir, &F->node);
	*state = F;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (F->node.pid > 0) {
		kill(F->node.pid, SIGKILL);
		(void)waitpid(F->node.pid, NULL, 0);
	}
	if (F->storm_node.pid > 0) {
		kill(F->storm_node.pid, SIGKILL);
		(void)waitpid(F->storm_node.pid, NULL, 0);
	}
	(void)nftw(F->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(F);
	F = NULL;
	return 0;
}

/* ---- calls ---------------------------------------------------------------------------- */

/* A Catalog/Get request body for alpha/id. */
static void get_body(const char *id, mycel_buf *b)
{
	mycel_msg_GetRequest g;
	memset(&g, 0, sizeof(g));
	g.domain = "alpha";
	g.domain_len = 5;
	g.id = id;
	g.id_len = strlen(id);
	mycel_buf_init(b, 1u << 12);
	assert_int_equal(mycel_msg_GetRequest_encode(&g, b), 0);
}

/* A request envelope for method with body (deadline_ms 0: none). */
static void envelope(const char *method, uint64_t deadline_ms, const uint8_t *body, size_t n,
		     mycel_buf *b)
{
	mycel_rpc_request r;
	memset(&r, 0, sizeof(r));
	r.method = method;
	r.method_len = strlen(method);
	r.deadline_ms = deadline_ms;
	r.body = body;
	r.body_len = n;
	mycel_buf_init(b, MYCEL_RPC_REQUEST_MAX);
	assert_int_equal(mycel_rpc_request_encode(&r, b), 0);
}

/* Calls method on url with a fresh client; the status, message in msg (cut to cap). */
static uint64_t call_on(const char *url, const char *method, const uint8_t *req, size_t n,
			int deadline_ms, char *msg, size_t cap, uint8_t **body, size_t *body_len)
{
	mycel_client *c = NULL;
	uint64_t st = 99;
	char *m = NULL;
	uint8_t *b = NULL;
	size_t blen = 0;
	assert_int_equal(mycel_client_open(url, &c), 0);
	assert_int_equal(mycel_client_call(c, method, now_ms() + (uint64_t)deadline_ms, req, n,
					   &st, &m, &b, &blen),
			 0);
	mycel_client_close(c);
	assert_non_null(m);
	if (msg != NULL)
		snprintf(msg, cap, "%s", m);
	free(m);
	if (body != NULL) {
		*body = b;
		*body_len = blen;
	} else {
		free(b);
	}
	return st;
}

/* A fresh client's Catalog/Get of alpha/orders succeeds within ms; its duration. */
static uint64_t get_ok_within(const char *why, int ms)
{
	mycel_buf b;
	char msg[512];
	get_body("orders", &b);
	uint64_t t0 = mono_ms();
	uint64_t st =
	    call_on(F->node.url, CAT "Get", b.data, b.len, ms, msg, sizeof(msg), NULL, NULL);
	uint64_t took = mono_ms() - t0;
	mycel_buf_fini(&b);
	if (st != MYCEL_RPC_OK) {
		dump_log();
		fail_msg("%s: Get from a fresh client: %s: %s (after %llu ms)", why,
			 mycel_rpc_status_name(st), msg, (unsigned long long)took);
	}
	return took;
}

static uint64_t get_ok(const char *why) { return get_ok_within(why, PROMPT_MS); }

/* The entry count the node reports in Catalog/Status. */
static uint64_t status_entries(void)
{
	static const uint8_t empty[] = {0x90};
	mycel_msg_StatusReply r;
	mycel_arena *ar = NULL;
	uint8_t *body = NULL;
	size_t len = 0;
	char why[256] = "";
	assert_int_equal(call_on(F->node.url, CAT "Status", empty, sizeof(empty), WAIT_MS, NULL, 0,
				 &body, &len),
			 MYCEL_RPC_OK);
	assert_int_equal(mycel_arena_new(1u << 20, &ar), 0);
	if (mycel_msg_StatusReply_decode(body, len, ar, &r, why, sizeof(why)) != 0)
		fail_msg("StatusReply: %s", why);
	assert_true(r.has_entries);
	uint64_t n = r.entries;
	mycel_arena_free(ar);
	free(body);
	return n;
}

/* ---- raw SP over TCP ------------------------------------------------------------------- */

/* nng's TCP transport: 0x00 'S' 'P' 0x00, the 16-bit protocol id, two reserved zero bytes. */
#define SP_REQ0 0x30
#define SP_REP0 0x31

/* A blocking TCP connection to url (tcp://127.0.0.1:PORT); rcvbuf > 0 sets SO_RCVBUF first. */
static int tcp_open(const char *url, int rcvbuf)
{
	const char *colon = strrchr(url, ':');
	assert_non_null(colon);
	int port = atoi(colon + 1);
	assert_true(port > 0 && port < 65536);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (rcvbuf > 0)
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		fail_msg("connect %s: %s", url, strerror(errno));
	return fd;
}

/* Writes all of p or fails the test (the node must take small writes at once). */
static void write_all(int fd, const void *p, size_t n)
{
	const uint8_t *c = p;
	uint64_t end = mono_ms() + WAIT_MS;
	while (n > 0) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			c += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			fail_msg("send: %s", strerror(errno));
		struct pollfd pf = {.fd = fd, .events = POLLOUT};
		uint64_t now = mono_ms();
		if (now >= end)
			fail_msg("send: the node did not take %zu bytes within %d ms", n, WAIT_MS);
		(void)poll(&pf, 1, (int)(end - now));
	}
}

/* Reads exactly n bytes within ms; false on EOF, error or time out. */
static bool read_exact(int fd, void *p, size_t n, int ms)
{
	uint8_t *c = p;
	uint64_t end = mono_ms() + (uint64_t)ms;
	while (n > 0) {
		uint64_t now = mono_ms();
		if (now >= end)
			return false;
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		int r = poll(&pf, 1, (int)(end - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		ssize_t got = recv(fd, c, n, 0);
		if (got <= 0)
			return false;
		c += got;
		n -= (size_t)got;
	}
	return true;
}

/* Sends the req0 handshake and checks the node's rep0 one. */
static void sp_hello(int fd)
{
	const uint8_t hello[8] = {0, 'S', 'P', 0, 0, SP_REQ0, 0, 0};
	const uint8_t want[8] = {0, 'S', 'P', 0, 0, SP_REP0, 0, 0};
	uint8_t got[8];
	write_all(fd, hello, sizeof(hello));
	assert_true(read_exact(fd, got, sizeof(got), WAIT_MS));
	assert_memory_equal(got, want, sizeof(want));
}

static void be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* One SP message: 64-bit length, the req0 request id (top bit set), then the envelope. */
static void sp_send(int fd, uint32_t id, const uint8_t *body, size_t n)
{
	uint8_t *m = malloc(12 + n);
	assert_non_null(m);
	be64(m, 4 + (uint64_t)n);
	id |= 0x80000000u;
	m[8] = (uint8_t)(id >> 24);
	m[9] = (uint8_t)(id >> 16);
	m[10] = (uint8_t)(id >> 8);
	m[11] = (uint8_t)id;
	if (n > 0)
		memcpy(m + 12, body, n);
	write_all(fd, m, 12 + n);
	free(m);
}

/* Receives one SP reply within ms: its request id and the reply envelope's status. */
static uint64_t sp_recv_status(int fd, uint32_t *out_id, int ms)
{
	uint8_t hdr[12];
	assert_true(read_exact(fd, hdr, sizeof(hdr), ms));
	uint64_t len = 0;
	for (int i = 0; i < 8; i++)
		len = len << 8 | hdr[i];
	assert_true(len >= 4 && len < ((uint64_t)64 << 20));
	*out_id = (uint32_t)hdr[8] << 24 | (uint32_t)hdr[9] << 16 | (uint32_t)hdr[10] << 8 | hdr[11];
	size_t n = (size_t)len - 4;
	uint8_t *b = malloc(n ? n : 1);
	assert_non_null(b);
	assert_true(read_exact(fd, b, n, ms));
	mycel_rpc_reply rep;
	char why[256] = "";
	if (mycel_rpc_reply_decode(b, n, n, &rep, why, sizeof(why)) != 0)
		fail_msg("reply over raw tcp: %s", why);
	uint64_t st = rep.status;
	free(b);
	return st;
}

/*
 * Waits up to ms for the node to drop the connection: reads (and discards) whatever comes
 * until EOF or a reset. True if dropped; *drained counts the bytes read.
 */
static bool wait_dropped(int fd, int ms, size_t *drained)
{
	static uint8_t sink[1 << 16];
	uint64_t end = mono_ms() + (uint64_t)ms;
	*drained = 0;
	for (;;) {
		uint64_t now = mono_ms();
		if (now >= end)
			return false;
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		int r = poll(&pf, 1, (int)(end - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return false;
		ssize_t got = recv(fd, sink, sizeof(sink), 0);
		if (got == 0 || (got < 0 && errno == ECONNRESET))
			return true;
		if (got < 0)
			fail_msg("recv: %s", strerror(errno));
		*drained += (size_t)got;
	}
}

/* True once the node closed the connection (FIN or reset), without reading anything. */
static bool peer_gone(int fd)
{
	struct pollfd pf = {.fd = fd, .events = POLLRDHUP};
	return poll(&pf, 1, 0) == 1 && (pf.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

/* ---- 1. raw TCP clients ---------------------------------------------------------------- */

/* The raw framing is right: a valid request over a raw connection is answered. */
static void test_raw_ok(void **state)
{
	(void)state;
	mycel_buf g, e;
	uint32_t id = 0;
	int fd = tcp_open(F->node.url, 0);
	sp_hello(fd);
	get_body("orders", &g);
	envelope(CAT "Get", 0, g.data, g.len, &e);
	sp_send(fd, 7, e.data, e.len);
	assert_int_equal(sp_recv_status(fd, &id, WAIT_MS), MYCEL_RPC_OK);
	assert_int_equal(id, 0x80000007u);
	/* and garbage in a well-framed message gets a status on the same connection */
	sp_send(fd, 8, (const uint8_t *)"\xc1garbage", 8);
	assert_int_equal(sp_recv_status(fd, &id, WAIT_MS), MYCEL_RPC_INVALID_ARGUMENT);
	assert_int_equal(id, 0x80000008u);
	sp_send(fd, 9, e.data, e.len);
	assert_int_equal(sp_recv_status(fd, &id, WAIT_MS), MYCEL_RPC_OK);
	mycel_buf_fini(&g);
	mycel_buf_fini(&e);
	close(fd);
}

static void test_raw_garbage_handshake(void **state)
{
	(void)state;
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	size_t drained = 0;
	int fd = tcp_open(F->node.url, 0);
	write_all(fd, http, sizeof(http) - 1);
	if (!wait_dropped(fd, WAIT_MS, &drained))
		fail_msg("the node kept a connection that sent garbage instead of the handshake");
	assert_true(drained <= 8); /* at most the node's own handshake */
	close(fd);
	/* the wrong protocol (pub0 = 0x20) in a well-formed header is refused the same way */
	const uint8_t pub0[8] = {0, 'S', 'P', 0, 0, 0x20, 0, 0};
	fd = tcp_open(F->node.url, 0);
	write_all(fd, pub0, sizeof(pub0));
	if (!wait_dropped(fd, WAIT_MS, &drained))
		fail_msg("the node kept a connection that announced the wrong protocol");
	close(fd);
	get_ok("after a garbage handshake");
}

static void test_raw_huge_frame(void **state)
{
	(void)state;
	uint8_t hdr[8 + 16];
	size_t drained = 0;
	long before = node_rss_kb(F->node.pid);
	int fd = tcp_open(F->node.url, 0);
	sp_hello(fd);
	be64(hdr, (uint64_t)1 << 30); /* 1 GiB claimed */
	memset(hdr + 8, 0x80, 16);
	write_all(fd, hdr, sizeof(hdr));
	if (!wait_dropped(fd, WAIT_MS, &drained))
		fail_msg("the node waits for the rest of a frame claiming 1 GiB");
	assert_int_equal(drained, 0);
	close(fd);
	long after = node_rss_kb(F->node.pid);
	print_message("     VmRSS %ld kB before, %ld kB after a 1 GiB frame header\n", before,
		      after);
	assert_true(after - before < (long)RSS_SLACK_KB);
	get_ok("after a 1 GiB frame");
}

/* A client that sends part of a frame and stalls does not hold up anyone else. */
static void test_raw_truncated(void **state)
{
	(void)state;
	uint8_t hdr[8 + 10];
	int fd = tcp_open(F->node.url, 0);
	sp_hello(fd);
	be64(hdr, 1000);
	memset(hdr + 8, 0x80, 10);
	write_all(fd, hdr, sizeof(hdr));
	uint64_t worst = 0;
	for (int i = 0; i < 20; i++) {
		uint64_t t = get_ok("while a truncated frame stalls");
		worst = t > worst ? t : worst;
	}
	print_message("     slowest of 20 Gets beside a stalled frame: %llu ms\n",
		      (unsigned long long)worst);
	/* the stalled connection itself is still open (nothing to answer yet) */
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&pf, 1, 0), 0);
	close(fd);
	get_ok("after a truncated frame");
}

#define IDLE_CONNS 200

/* 200 connections that never send a byte (and 50 that stop after the handshake). */
static void test_raw_idle_connections(void **state)
{
	(void)state;
	int fds[IDLE_CONNS + 50];
	long before = node_rss_kb(F->node.pid);
	for (int i = 0; i < IDLE_CONNS; i++)
		fds[i] = tcp_open(F->node.url, 0);
	for (int i = IDLE_CONNS; i < IDLE_CONNS + 50; i++) {
		fds[i] = tcp_open(F->node.url, 0);
		sp_hello(fds[i]);
	}
	uint64_t worst = 0;
	for (int i = 0; i < 20; i++) {
		uint64_t t = get_ok("beside 250 idle connections");
		worst = t > worst ? t : worst;
	}
	long after = node_rss_kb(F->node.pid);
	print_message("     slowest of 20 Gets beside 250 idle connections: %llu ms; VmRSS %ld -> "
		      "%ld kB\n",
		      (unsigned long long)worst, before, after);
	assert_true(after - before < (long)RSS_SLACK_KB);
	for (int i = 0; i < IDLE_CONNS + 50; i++)
		close(fds[i]);
	get_ok("after 250 idle connections");
}

#define SLOW_REQUESTS 200
/* How long the node waits for a client to take a reply before dropping it (node.c)... */
#define SLOW_DROP_MS 2000
/* ...and what it logs then. */
#define SLOW_DROP_LOG "msg=\"slow client dropped\""

/*
 * A client that pipelines 200 Gets of a 1.5 MiB document and never reads: the node keeps
 * answering others (held up at most while it waits, SLOW_DROP_MS, for the slow client to
 * take a reply), its memory stays bounded, and the slow connection is dropped.
 */
static void test_raw_slow_reader(void **state)
{
	(void)state;
	mycel_buf g, e;
	size_t drained = 0;
	size_t drops = log_count(SLOW_DROP_LOG);
	long before = node_rss_kb(F->node.pid);
	int fd = tcp_open(F->node.url, 4096);
	sp_hello(fd);
	get_body("big", &g);
	envelope(CAT "Get", 0, g.data, g.len, &e);
	for (uint32_t i = 0; i < SLOW_REQUESTS; i++)
		sp_send(fd, i + 1, e.data, e.len);
	mycel_buf_fini(&g);
	mycel_buf_fini(&e);

	/* others are answered all along, until the node gives up on the client that does not read */
	uint64_t worst = 0, t0 = mono_ms(), end = t0 + 3 * WAIT_MS;
	long peak = before;
	int gets = 0;
	while (!peer_gone(fd)) {
		if (mono_ms() > end) {
			dump_log();
			fail_msg("the node did not drop a client that reads nothing within %d ms",
				 3 * WAIT_MS);
		}
		uint64_t t = get_ok_within("while a client does not read its replies",
					   SLOW_DROP_MS + PROMPT_MS);
		worst = t > worst ? t : worst;
		gets++;
		long rss = node_rss_kb(F->node.pid);
		peak = rss > peak ? rss : peak;
	}
	uint64_t took = mono_ms() - t0;
	bool dropped = wait_dropped(fd, WAIT_MS, &drained);
	assert_true(log_count(SLOW_DROP_LOG) > drops); /* and says so */
	print_message("     %d Gets beside a slow reader, the slowest %llu ms; the slow reader "
		      "dropped after %llu ms and %zu bytes of replies; VmRSS %ld -> %ld kB\n",
		      gets, (unsigned long long)worst, (unsigned long long)took, drained, before,
		      peak);
	assert_true(dropped);
	assert_true(drained < (size_t)SLOW_REQUESTS * BIG_DOC_BYTES / 2);
	assert_true(peak - before < (long)RSS_SLACK_KB);
	close(fd);
	get_ok("after a slow reader");
}

#define SLOW_CLIENTS 4

/*
 * Several slow readers at once (more than the node has workers): each can hold the workers
 * for up to SLOW_DROP_MS before it is dropped, so others wait at most about
 * SLOW_CLIENTS / workers * SLOW_DROP_MS; every slow reader is dropped.
 */
static void test_raw_slow_readers(void **state)
{
	(void)state;
	mycel_buf g, e;
	int fds[SLOW_CLIENTS];
	size_t drops = log_count(SLOW_DROP_LOG);
	int budget = SLOW_CLIENTS / atoi(NODE_WORKERS) * SLOW_DROP_MS + PROMPT_MS;
	get_body("big", &g);
	envelope(CAT "Get", 0, g.data, g.len, &e);
	for (int c = 0; c < SLOW_CLIENTS; c++) {
		fds[c] = tcp_open(F->node.url, 4096);
		sp_hello(fds[c]);
		for (uint32_t i = 0; i < SLOW_REQUESTS / SLOW_CLIENTS; i++)
			sp_send(fds[c], i + 1, e.data, e.len);
	}
	mycel_buf_fini(&g);
	mycel_buf_fini(&e);
	uint64_t worst = 0, t0 = mono_ms(), end = t0 + 6 * WAIT_MS;
	int gets = 0;
	for (;;) {
		int gone = 0;
		for (int c = 0; c < SLOW_CLIENTS; c++)
			gone += peer_gone(fds[c]) ? 1 : 0;
		if (gone == SLOW_CLIENTS)
			break;
		if (mono_ms() > end) {
			dump_log();
			fail_msg("the node dropped %d of %d slow readers within %d ms", gone,
				 SLOW_CLIENTS, 6 * WAIT_MS);
		}
		uint64_t t = get_ok_within("while several clients do not read", budget);
		worst = t > worst ? t : worst;
		gets++;
	}
	uint64_t took = mono_ms() - t0;
	for (int c = 0; c < SLOW_CLIENTS; c++) {
		size_t drained = 0;
		assert_true(wait_dropped(fds[c], WAIT_MS, &drained));
		close(fds[c]);
	}
	assert_true(log_count(SLOW_DROP_LOG) >= drops + SLOW_CLIENTS);
	print_message("     %d Gets beside %d slow readers (%s workers), the slowest %llu ms; all "
		      "dropped after %llu ms\n",
		      gets, SLOW_CLIENTS, NODE_WORKERS, (unsigned long long)worst,
		      (unsigned long long)took);
	get_ok("after several slow readers");
}

/* ---- 2. through nng -------------------------------------------------------------------- */

static void test_unknown_method(void **state)
{
	(void)state;
	static const uint8_t empty[] = {0x90};
	char msg[512];
	assert_int_equal(call_on(F->node.url, CAT "Nope", empty, sizeof(empty), WAIT_MS, msg,
				 sizeof(msg), NULL, NULL),
			 MYCEL_RPC_UNIMPLEMENTED);
	assert_non_null(strstr(msg, "Nope"));
	assert_int_equal(call_on(F->node.url, "no/such/thing", empty, sizeof(empty), WAIT_MS, msg,
				 sizeof(msg), NULL, NULL),
			 MYCEL_RPC_UNIMPLEMENTED);
	get_ok("after an unknown method");
}

static void test_wrong_types(void **state)
{
	(void)state;
	char msg[512];
	/* GetRequest [5, "orders"]: domain is a uint, not a string */
	static const uint8_t get_uint_domain[] = {0x92, 0x05, 0xa6, 'o', 'r', 'd', 'e', 'r', 's'};
	assert_int_equal(call_on(F->node.url, CAT "Get", get_uint_domain, sizeof(get_uint_domain),
				 WAIT_MS, msg, sizeof(msg), NULL, NULL),
			 MYCEL_RPC_INVALID_ARGUMENT);
	if (strstr(msg, "domain") == NULL)
		fail_msg("the message does not name the field: %s", msg);
	/* SearchRequest with tags (field 5) a string instead of a list */
	static const uint8_t search_tags_str[] = {0x95, 0xc0, 0xc0, 0xc0, 0xc0, 0xa1, 'x'};
	assert_int_equal(call_on(F->node.url, CAT "Search", search_tags_str,
				 sizeof(search_tags_str), WAIT_MS, msg, sizeof(msg), NULL, NULL),
			 MYCEL_RPC_INVALID_ARGUMENT);
	if (strstr(msg, "tags") == NULL)
		fail_msg("the message does not name the field: %s", msg);
	/* the body is a map, not a message array */
	static const uint8_t map_body[] = {0x81, 0xa1, 'a', 0x01};
	assert_int_equal(call_on(F->node.url, CAT "Get", map_body, sizeof(map_body), WAIT_MS, msg,
				 sizeof(msg), NULL, NULL),
			 MYCEL_RPC_INVALID_ARGUMENT);
	get_ok("after wrong field types");
}

/* A raw req0 socket on the node's public URL; a request over it returns the status. */
static uint64_t req0_call(const void *p, size_t n)
{
	nng_socket s;
	void *buf = NULL;
	size_t len = 0;
	mycel_rpc_reply rep;
	char why[256] = "";
	assert_int_equal(nng_req0_open(&s), 0);
	assert_int_equal(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, WAIT_MS), 0);
	assert_int_equal(nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, WAIT_MS), 0);
	assert_int_equal(nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 1u << 20), 0);
	assert_int_equal(nng_dial(s, F->node.url, NULL, 0), 0);
	assert_int_equal(nng_send(s, (void *)(uintptr_t)p, n, 0), 0);
	assert_int_equal(nng_recv(s, &buf, &len, NNG_FLAG_ALLOC), 0);
	if (mycel_rpc_reply_decode(buf, len, len, &rep, why, sizeof(why)) != 0)
		fail_msg("reply: %s", why);
	uint64_t st = rep.status;
	nng_free(buf, len);
	nng_close(s);
	return st;
}

static void test_expired_deadline(void **state)
{
	(void)state;
	mycel_buf g, e;
	get_body("orders", &g);
	/* a deadline long past, and one a moment ago: the node refuses both without serving */
	envelope(CAT "Get", 1, g.data, g.len, &e);
	assert_int_equal(req0_call(e.data, e.len), MYCEL_RPC_DEADLINE_EXCEEDED);
	mycel_buf_fini(&e);
	envelope(CAT "Get", now_ms() - 1, g.data, g.len, &e);
	assert_int_equal(req0_call(e.data, e.len), MYCEL_RPC_DEADLINE_EXCEEDED);
	mycel_buf_fini(&e);
	/* a deadline in the future is served */
	envelope(CAT "Get", now_ms() + WAIT_MS, g.data, g.len, &e);
	assert_int_equal(req0_call(e.data, e.len), MYCEL_RPC_OK);
	mycel_buf_fini(&e);
	mycel_buf_fini(&g);
	get_ok("after an expired deadline");
}

/* An envelope for Catalog/Get whose body is a bin of body_len bytes (total about body_len). */
static uint8_t *big_envelope(size_t body_len, size_t *out_len)
{
	static const char method[] = CAT "Get";
	size_t mlen = sizeof(method) - 1;
	size_t n = 1 + 1 + 1 + mlen + 1 + 1 + 5 + body_len;
	uint8_t *p = calloc(1, n), *c = p;
	assert_non_null(p);
	*c++ = 0x95; /* [1, method, 0, {}, bin] */
	*c++ = 0x01;
	*c++ = (uint8_t)(0xa0 | mlen);
	memcpy(c, method, mlen);
	c += mlen;
	*c++ = 0x00;
	*c++ = 0x80;
	*c++ = 0xc6;
	*c++ = (uint8_t)(body_len >> 24);
	*c++ = (uint8_t)(body_len >> 16);
	*c++ = (uint8_t)(body_len >> 8);
	*c++ = (uint8_t)body_len;
	*out_len = n;
	return p;
}

static void test_oversize(void **state)
{
	(void)state;
	size_t n = 0;
	/* just over MYCEL_RPC_REQUEST_MAX, within what the socket takes: RESOURCE_EXHAUSTED */
	uint8_t *p = big_envelope(MYCEL_RPC_REQUEST_MAX, &n);
	assert_true(n > MYCEL_RPC_REQUEST_MAX);
	assert_int_equal(req0_call(p, n), MYCEL_RPC_RESOURCE_EXHAUSTED);
	free(p);
	/* the client refuses to send one */
	mycel_client *c = NULL;
	uint64_t st = 99;
	char *msg = NULL;
	uint8_t *body = NULL;
	size_t blen = 0;
	p = calloc(1, MYCEL_RPC_REQUEST_MAX);
	assert_non_null(p);
	assert_int_equal(mycel_client_open(F->node.url, &c), 0);
	assert_true(mycel_client_call(c, CAT "Get", now_ms() + WAIT_MS, p, MYCEL_RPC_REQUEST_MAX,
				      &st, &msg, &body, &blen) < 0);
	assert_int_equal(st, 99);
	mycel_client_close(c);
	free(p);

	/*
	 * 16 MiB: over the socket's receive limit (MYCEL_RPC_REQUEST_MAX + 256). Sent with the raw
	 * framing, so that every wait is the test's own: the node drops the connection on reading
	 * the frame's length, answers nothing, and does not wait for the rest.
	 */
	p = big_envelope(16u << 20, &n);
	uint8_t hdr[12];
	size_t drained = 0;
	int fd = tcp_open(F->node.url, 0);
	sp_hello(fd);
	be64(hdr, 4 + (uint64_t)n);
	memcpy(hdr + 8, "\x80\x00\x00\x01", 4);
	write_all(fd, hdr, sizeof(hdr));
	(void)send(fd, p, 1u << 16, MSG_NOSIGNAL | MSG_DONTWAIT); /* the node may be gone already */
	if (!wait_dropped(fd, WAIT_MS, &drained))
		fail_msg("the node kept a connection whose frame claims %zu bytes", n + 4);
	assert_int_equal(drained, 0);
	close(fd);
	free(p);
	get_ok("after oversize envelopes");
}

static void test_admin_over_tcp(void **state)
{
	(void)state;
	static const char doc[] = "apiVersion: v3.0.2\nkind: DataContract\nid: sneaky\n"
				  "name: Sneaky\nversion: 1.0.0\nstatus: active\ndomain: alpha\n"
				  "description:\n  purpose: must never be published over tcp\n";
	static const uint8_t empty[] = {0x90};
	mycel_msg_PublishRequest p;
	mycel_msg_PublishDoc d;
	mycel_msg_ChangeStatusRequest cs;
	mycel_buf pb, cb;
	char msg[512];
	uint64_t before = status_entries();

	memset(&d, 0, sizeof(d));
	d.document = (const uint8_t *)doc;
	d.document_len = strlen(doc);
	memset(&p, 0, sizeof(p));
	p.documents = &d;
	p.n_documents = 1;
	mycel_buf_init(&pb, 1u << 16);
	assert_int_equal(mycel_msg_PublishRequest_encode(&p, &pb), 0);
	memset(&cs, 0, sizeof(cs));
	cs.id = "orders";
	cs.id_len = 6;
	cs.version = "1.0.0";
	cs.version_len = 5;
	mycel_buf_init(&cb, 1u << 12);
	assert_int_equal(mycel_msg_ChangeStatusRequest_encode(&cs, &cb), 0);

	/* every method of service Admin in the method table, with a valid body where it takes one */
	size_t n_admin = 0;
	for (size_t i = 0; i < mycel_n_methods; i++) {
		const mycel_method *m = &mycel_methods[i];
		const uint8_t *body = empty;
		size_t len = sizeof(empty);
		if (!m->admin_only)
			continue;
		assert_string_equal(m->service, "mycel.v1.Admin");
		if (strcmp(m->method, "Publish") == 0) {
			body = pb.data;
			len = pb.len;
		} else if (strcmp(m->method, "Deprecate") == 0 || strcmp(m->method, "Retire") == 0) {
			body = cb.data;
			len = cb.len;
		}
		uint64_t st =
		    call_on(F->node.url, m->name, body, len, WAIT_MS, msg, sizeof(msg), NULL, NULL);
		if (st != MYCEL_RPC_PERMISSION_DENIED)
			fail_msg("%s over tcp: %s: %s", m->name, mycel_rpc_status_name(st), msg);
		n_admin++;
	}
	assert_true(n_admin >= 5); /* Publish, Deprecate, Retire, Reindex, Peers at least */
	mycel_buf_fini(&pb);
	mycel_buf_fini(&cb);
	assert_int_equal(status_entries(), before);
	/* nothing was published or changed */
	mycel_buf g;
	get_body("sneaky", &g);
	assert_int_equal(call_on(F->node.url, CAT "Get", g.data, g.len, WAIT_MS, NULL, 0, NULL, NULL),
			 MYCEL_RPC_NOT_FOUND);
	mycel_buf_fini(&g);
	get_ok("after Admin methods over tcp");
}

/* ---- 3. the admin socket and other users ----------------------------------------------- */

/* Run as `test-faults --dial URL` by a child that dropped to another uid: exit 0 if refused. */
static int dial_helper(const char *url)
{
	nng_socket s;
	if (nng_req0_open(&s) != 0)
		return 3;
	int rv = nng_dial(s, url, NULL, 0);
	nng_close(s);
	if (rv == 0)
		return 1; /* connected: the socket let us in */
	fprintf(stderr, "dial %s as uid %ld: %s\n", url, (long)getuid(), nng_strerror(rv));
	return rv == NNG_EPERM || rv == NNG_ECONNREFUSED ? 0 : 2;
}

static void test_admin_other_user(void **state)
{
	(void)state;
	struct stat st;
	char path[256];
	snprintf(path, sizeof(path), "%s/admin.sock", F->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	if (geteuid() != 0) {
		print_message("     SKIP: not root, cannot dial the admin socket as another uid "
			      "(mode 0600 checked)\n");
		skip();
	}
	/* let uid 65534 reach the socket file, so only its own mode can refuse it */
	assert_int_equal(chmod(F->base, 0711), 0);
	assert_int_equal(chmod(F->dir, 0711), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
			_exit(4);
		if (stat(path, &st) != 0) /* the path must be reachable */
			_exit(5);
		execl(self_path, self_path, "--dial", F->node.admin, (char *)NULL);
		_exit(127);
	}
	int ws = tc_wait_exit(pid, WAIT_MS, F->log);
	assert_int_equal(chmod(F->dir, 0700), 0);
	assert_int_equal(chmod(F->base, 0700), 0);
	assert_true(WIFEXITED(ws));
	if (WEXITSTATUS(ws) == 1)
		fail_msg("uid 65534 connected to the admin socket %s", F->node.admin);
	if (WEXITSTATUS(ws) != 0)
		fail_msg("the dial helper failed (exit %d)", WEXITSTATUS(ws));
	/* root still can */
	static const uint8_t empty[] = {0x90};
	assert_int_equal(call_on(F->node.admin, CAT "Status", empty, sizeof(empty), WAIT_MS, NULL,
				 0, NULL, NULL),
			 MYCEL_RPC_OK);
	get_ok("after another user's dial");
}

/* ---- 4. kill -9 during a publish storm ------------------------------------------------- */

#define STORM_THREADS 4
#define STORM_ACKS_MAX 4096
#define STORM_CALL_MS 3000

typedef struct ack {
	char id[48];
	uint64_t seq;
} ack;

typedef struct storm {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const char *admin;
	int round;
	bool stop;
	ack acks[STORM_ACKS_MAX];
	size_t n_acks;
	size_t round_acks;
	char error[512]; /* the first unexpected failure */
} storm;

/* The Publish request body for one storm document. */
static void storm_request(const char *id, mycel_buf *b)
{
	char doc[512];
	mycel_msg_PublishRequest p;
	mycel_msg_PublishDoc d;
	snprintf(doc, sizeof(doc),
		 "apiVersion: v3.0.2\nkind: DataContract\nid: %s\nname: %s\nversion: 1.0.0\n"
		 "status: active\ndomain: alpha\ndescription:\n  purpose: storm document %s\n",
		 id, id, id);
	memset(&d, 0, sizeof(d));
	d.document = (const uint8_t *)doc;
	d.document_len = strlen(doc);
	d.path = id;
	d.path_len = strlen(id);
	memset(&p, 0, sizeof(p));
	p.documents = &d;
	p.n_documents = 1;
	mycel_buf_init(b, 1u << 16);
	assert_int_equal(mycel_msg_PublishRequest_encode(&p, b), 0);
}

/* The acknowledged (id, seq) of a Publish reply; false (why set) if it does not say. */
static bool storm_ack(const uint8_t *body, size_t len, ack *out, char *why, size_t cap)
{
	mycel_msg_PublishReply r;
	mycel_arena *ar = NULL;
	bool ok = false;
	if (mycel_arena_new(1u << 20, &ar) != 0) {
		snprintf(why, cap, "no memory");
		return false;
	}
	if (mycel_msg_PublishReply_decode(body, len, ar, &r, why, cap) != 0)
		goto done;
	if (r.n_documents != 1 || r.n_entries != 1) {
		snprintf(why, cap, "PublishReply with %zu documents and %zu entries", r.n_documents,
			 r.n_entries);
		goto done;
	}
	const mycel_msg_Published *d = &r.documents[0];
	if (d->id == NULL || !d->has_seq || d->unchanged || d->version == NULL ||
	    strcmp(d->version, "1.0.0") != 0) {
		snprintf(why, cap, "Published without id, version 1.0.0 and seq");
		goto done;
	}
	snprintf(out->id, sizeof(out->id), "%s", d->id);
	out->seq = d->seq;
	ok = true;
done:
	mycel_arena_free(ar);
	return ok;
}

typedef struct storm_arg {
	storm *s;
	int t;
} storm_arg;

static void *storm_thread(void *arg)
{
	storm_arg *a = arg;
	storm *s = a->s;
	mycel_client *c = NULL;
	if (mycel_client_open(s->admin, &c) != 0) {
		pthread_mutex_lock(&s->mu);
		snprintf(s->error, sizeof(s->error), "cannot open %s", s->admin);
		s->stop = true;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		return NULL;
	}
	for (int i = 0;; i++) {
		char id[48], why[256] = "";
		mycel_buf b;
		uint64_t st = 99;
		char *msg = NULL;
		uint8_t *body = NULL;
		size_t len = 0;
		pthread_mutex_lock(&s->mu);
		bool stop = s->stop;
		pthread_mutex_unlock(&s->mu);
		if (stop)
			break;
		snprintf(id, sizeof(id), "storm-r%d-t%d-%d", s->round, a->t, i);
		storm_request(id, &b);
		int rv = mycel_client_call(c, ADM "Publish", now_ms() + STORM_CALL_MS, b.data,
					   b.len, &st, &msg, &body, &len);
		mycel_buf_fini(&b);
		ack k;
		bool acked = rv == 0 && st == MYCEL_RPC_OK && storm_ack(body, len, &k, why, sizeof(why));
		pthread_mutex_lock(&s->mu);
		if (acked && s->n_acks < STORM_ACKS_MAX) {
			if (strcmp(k.id, id) != 0)
				snprintf(s->error, sizeof(s->error), "published %s, acknowledged %s",
					 id, k.id);
			s->acks[s->n_acks++] = k;
			s->round_acks++;
			pthread_cond_broadcast(&s->cv);
		}
		/* before the node is stopped a publish succeeds, or (a loaded machine) times out */
		bool timed_out = rv == 0 && st == MYCEL_RPC_DEADLINE_EXCEEDED;
		bool stopped = s->stop;
		if (!acked && !stopped && !timed_out && s->error[0] == '\0')
			snprintf(s->error, sizeof(s->error), "publish %s: rv %d, %s: %s%s", id, rv,
				 mycel_rpc_status_name(st), msg ? msg : "", why);
		pthread_mutex_unlock(&s->mu);
		free(msg);
		free(body);
		if (!acked && (stopped || !timed_out))
			break; /* the node is gone, or the test failed */
	}
	mycel_client_close(c);
	return NULL;
}

/* Checks the domain directory with `mycel verify --data DIR`: exit 0. */
static void storm_verify(void)
{
	char out[1024];
	int fd;
	const char *args[] = {"verify", "--data", F->storm, NULL};
	pid_t pid = spawn(mycel_path, args, F->log, &fd);
	size_t n = tc_read_line(fd, out, sizeof(out), WAIT_MS);
	int st = tc_wait_exit(pid, WAIT_MS, F->log);
	close(fd);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		dump_log();
		fail_msg("mycel verify --data %s failed (status %d): %.*s", F->storm, st, (int)n,
			 out);
	}
}

/* Every acknowledged publish is Get-able from the (restarted) node with its seq. */
static void storm_check(storm *s)
{
	mycel_client *c = NULL;
	assert_int_equal(mycel_client_open(F->storm_node.url, &c), 0);
	for (size_t i = 0; i < s->n_acks; i++) {
		mycel_buf g;
		mycel_msg_GetReply r;
		uint64_t st = 99;
		char *msg = NULL, why[256] = "";
		uint8_t *body = NULL;
		size_t len = 0;
		get_body(s->acks[i].id, &g);
		assert_int_equal(mycel_client_call(c, CAT "Get", now_ms() + WAIT_MS, g.data, g.len,
						   &st, &msg, &body, &len),
				 0);
		mycel_buf_fini(&g);
		if (st != MYCEL_RPC_OK)
			fail_msg("acknowledged %s (seq %llu) is lost: %s: %s", s->acks[i].id,
				 (unsigned long long)s->acks[i].seq, mycel_rpc_status_name(st), msg);
		free(msg);
		mycel_arena *ar = NULL;
		assert_int_equal(mycel_arena_new(1u << 20, &ar), 0);
		if (mycel_msg_GetReply_decode(body, len, ar, &r, why, sizeof(why)) != 0)
			fail_msg("GetReply: %s", why);
		assert_int_equal(r.n_versions, 1);
		assert_string_equal(r.versions[0].version, "1.0.0");
		assert_true(r.versions[0].has_seq);
		if (r.versions[0].seq != s->acks[i].seq)
			fail_msg("%s: acknowledged seq %llu, stored seq %llu", s->acks[i].id,
				 (unsigned long long)s->acks[i].seq,
				 (unsigned long long)r.versions[0].seq);
		mycel_arena_free(ar);
		free(body);
	}
	mycel_client_close(c);
}

/* One round: a storm, sig after `kill_after` acknowledgements, restart, verify, check. */
static void storm_round(storm *s, int round, size_t kill_after, int sig)
{
	pthread_t th[STORM_THREADS];
	storm_arg args[STORM_THREADS];
	char pid_path[160];
	snprintf(pid_path, sizeof(pid_path), "%s/myceld.pid", F->storm);
	node_start(F->storm, &F->storm_node);
	s->admin = F->storm_node.admin;
	s->round = round;
	s->stop = false;
	s->round_acks = 0;
	for (int t = 0; t < STORM_THREADS; t++) {
		args[t].s = s;
		args[t].t = t;
		assert_int_equal(pthread_create(&th[t], NULL, storm_thread, &args[t]), 0);
	}
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 60;
	pthread_mutex_lock(&s->mu);
	while (s->round_acks < kill_after && s->error[0] == '\0')
		if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT)
			break;
	size_t at_kill = s->round_acks;
	s->stop = true;
	pthread_mutex_unlock(&s->mu);
	int st = node_signal(&F->storm_node, sig);
	for (int t = 0; t < STORM_THREADS; t++)
		pthread_join(th[t], NULL);
	if (s->error[0] != '\0') {
		dump_log();
		fail_msg("round %d: %s", round, s->error);
	}
	if (at_kill < kill_after)
		fail_msg("round %d: only %zu of %zu publishes acknowledged within 60 s", round,
			 at_kill, kill_after);
	if (sig == SIGKILL) {
		assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		/* the dead node's pid file is still there; the restart must not mind it */
		assert_int_equal(access(pid_path, F_OK), 0);
	} else {
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			dump_log();
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
		assert_int_not_equal(access(pid_path, F_OK), 0);
	}
	print_message("     round %d: %s after %zu acks (%zu acknowledged in the round, %zu in "
		      "all)\n",
		      round, sig == SIGKILL ? "SIGKILL" : "SIGTERM", kill_after, s->round_acks,
		      s->n_acks);
	node_start(F->storm, &F->storm_node);
	storm_verify();
	storm_check(s);
	assert_int_equal(node_signal(&F->storm_node, SIGTERM), 0);
}

static void test_kill_during_storm(void **state)
{
	(void)state;
	static const size_t kill_after[] = {20, 57, 113, 5, 80};
	storm *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	make_domain(F->storm, false);
	int round = 0;
	for (size_t i = 0; i < sizeof(kill_after) / sizeof(kill_after[0]); i++)
		storm_round(s, round++, kill_after[i], SIGKILL);
	storm_round(s, round++, 40, SIGTERM);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
	get_ok("after the publish storms");
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--dial") == 0)
		return dial_helper(argv[2]);
	if (argc < 3) {
		fprintf(stderr, "usage: test-faults PATH-TO-MYCELD PATH-TO-MYCEL\n");
		return 2;
	}
	myceld_path = argv[1];
	mycel_path = argv[2];
	self_path = "/proc/self/exe";
	static char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		self_path = self;
	}
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_raw_ok),
	    cmocka_unit_test(test_raw_garbage_handshake),
	    cmocka_unit_test(test_raw_huge_frame),
	    cmocka_unit_test(test_raw_truncated),
	    cmocka_unit_test(test_raw_idle_connections),
	    cmocka_unit_test(test_raw_slow_reader),
	    cmocka_unit_test(test_raw_slow_readers),
	    cmocka_unit_test(test_unknown_method),
	    cmocka_unit_test(test_wrong_types),
	    cmocka_unit_test(test_expired_deadline),
	    cmocka_unit_test(test_oversize),
	    cmocka_unit_test(test_admin_over_tcp),
	    cmocka_unit_test(test_admin_other_user),
	    cmocka_unit_test(test_kill_during_storm),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
