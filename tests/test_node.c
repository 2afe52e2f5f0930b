/*
 * test_node.c — myceld end to end (include/mycel/node.h, include/mycel/client.h).
 *
 * A domain directory (mkdtemp, removed at the end) for domain alpha holds one contract;
 * the built myceld (argv[1]) serves it on tcp://127.0.0.1:0 and its admin ipc socket.
 * Over the sockets: Catalog/Get returns the document with an entry that verifies,
 * Catalog/Status works, garbage gets INVALID_ARGUMENT and the connection lives on, an
 * unknown method gets UNIMPLEMENTED, an Admin method over tcp PERMISSION_DENIED; the
 * admin socket has mode 0600; a Publish over the admin socket is found by a Catalog/Get
 * over tcp; `mycel watch` (argv[2]) on the node's change stream (--events) prints a JSON
 * line for an Admin write and exits after --count 1; a second myceld on the same directory fails; SIGTERM
 * stops the node cleanly (exit 0, pid file and socket removed). Every process started
 * is ended by its pid.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "mycel/client.h"
#include "mycel/codec.h"
#include "mycel/domain.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/rpc.h"
#include "mycel/store.h"
#include "mycel_proto.h"

#include "common.h"

#define CAT "mycel.v1.Catalog/"
#define WAIT_MS 10000

static const char *myceld_path;
static const char *mycel_path;

typedef struct fx {
	char base[64];
	char dir[96];
	char log[96]; /* the daemon's stderr */
	uint8_t feed[MYCEL_PK_LEN];
	pid_t pid; /* the daemon, 0 once reaped */
	pid_t watch; /* mycel watch, 0 once reaped */
	char url[256];
	char admin[256];
	char events[256];
	mycel_client *c;
} fx;

static fx *F;

/*
 * Starts myceld with args (NULL-terminated, after argv[0]); its stdout and stderr pipes,
 * or with log set its stderr goes to that file instead (*err_fd is then -1).
 */
static pid_t spawn_exe(const char *exe, const char *const *args, const char *log, int *out_fd,
		       int *err_fd)
{
	int o[2], e[2];
	const char *argv[16];
	size_t k = 0;
	argv[k++] = exe;
	for (; args[k - 1] != NULL && k < 15; k++)
		argv[k] = args[k - 1];
	argv[k] = NULL;
	assert_int_equal(pipe2(o, O_CLOEXEC), 0);
	assert_int_equal(pipe2(e, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(o[1], 1);
		if (log != NULL) {
			int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
			if (fd < 0)
				_exit(126);
			dup2(fd, 2);
		} else {
			dup2(e[1], 2);
		}
		execv(exe, (char *const *)argv);
		_exit(127);
	}
	close(o[1]);
	close(e[1]);
	*out_fd = o[0];
	*err_fd = e[0];
	if (log != NULL) {
		close(e[0]);
		*err_fd = -1;
	}
	return pid;
}

static pid_t spawn(const char *const *args, const char *log, int *out_fd, int *err_fd)
{
	return spawn_exe(myceld_path, args, log, out_fd, err_fd);
}


/* Copies the daemon's log to stderr (on failure). */
static void dump_log(void)
{
	tc_dump_file(F->log);
}


static int group_setup(void **state)
{
	char why[512] = "", store[4200];
	mycel_store *s = NULL;
	F = calloc(1, sizeof(*F));
	assert_non_null(F);
	tc_tmpdir("node", F->base, sizeof(F->base));
	snprintf(F->dir, sizeof(F->dir), "%s/d", F->base);
	snprintf(F->log, sizeof(F->log), "%s/myceld.log", F->base);
	mycel_key *k = tc_domain_dir(F->dir, "alpha", "acme", store, sizeof(store));
	assert_int_equal(mycel_store_open(store, 0, &s, why, sizeof(why)), 0);
	tc_put_contract(s, k, "orders", "1.0.0", "Orders", "all the orders of the shop");
	memcpy(F->feed, k->pk, MYCEL_PK_LEN);
	mycel_store_close(s);
	mycel_key_free(k);
	*state = F;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	mycel_client_close(F->c);
	if (F->watch > 0) {
		kill(F->watch, SIGKILL);
		(void)waitpid(F->watch, NULL, 0);
	}
	if (F->pid > 0) {
		kill(F->pid, SIGKILL);
		(void)waitpid(F->pid, NULL, 0);
	}
	(void)tc_rm_rf(F->base);
	free(F);
	F = NULL;
	return 0;
}

/* Calls method with body; returns the status, reply body in *body (caller frees). */
static uint64_t call(const char *method, const uint8_t *req, size_t n, uint8_t **body,
		     size_t *body_len)
{
	uint64_t st = 99;
	char *msg = NULL;
	uint8_t *b = NULL;
	size_t blen = 0;
	assert_int_equal(
	    mycel_client_call(F->c, method, tc_now_ms() + WAIT_MS, req, n, &st, &msg, &b, &blen), 0);
	assert_non_null(msg);
	if (st != MYCEL_RPC_OK)
		assert_true(strlen(msg) > 0);
	free(msg);
	if (body != NULL) {
		*body = b;
		*body_len = blen;
	} else {
		free(b);
	}
	return st;
}

/* ---- tests -------------------------------------------------------------------------- */

static void test_start(void **state)
{
	(void)state;
	char line[1024];
	int out, err;
	const char *args[] = {"--data",	 F->dir, "--listen", "tcp://127.0.0.1:0",
			      "--events", "tcp://127.0.0.1:0", "--workers", "3",
			      "--admin-workers", "2", "--peer", "tcp://127.0.0.1:9", NULL};
	F->pid = spawn(args, F->log, &out, &err);
	size_t n = tc_read_line(out, line, sizeof(line), WAIT_MS);
	close(out);
	if (n == 0 || strncmp(line, "ready url=", 10) != 0) {
		dump_log();
		fail_msg("no ready line from myceld within %d ms: %s", WAIT_MS, line);
	}
	assert_int_equal(sscanf(line, "ready url=%255s admin=%255s events=%255s", F->url, F->admin,
				F->events),
			 3);
	assert_true(strncmp(F->events, "tcp://127.0.0.1:", 16) == 0);
	assert_true(strcmp(F->events, "tcp://127.0.0.1:0") != 0);
	assert_true(strncmp(F->url, "tcp://127.0.0.1:", 16) == 0);
	assert_true(strcmp(F->url, "tcp://127.0.0.1:0") != 0);
	char want[256];
	snprintf(want, sizeof(want), "ipc://%s/admin.sock", F->dir);
	assert_string_equal(F->admin, want);
	assert_int_equal(mycel_client_open(F->url, &F->c), 0);
}

static void test_get(void **state)
{
	(void)state;
	mycel_msg_GetRequest g;
	mycel_msg_GetReply r;
	mycel_buf b;
	mycel_arena *ar;
	uint8_t *body;
	size_t len;
	char why[256] = "";
	memset(&g, 0, sizeof(g));
	g.domain = "alpha";
	g.domain_len = 5;
	g.id = "orders";
	g.id_len = 6;
	mycel_buf_init(&b, 1 << 16);
	assert_int_equal(mycel_msg_GetRequest_encode(&g, &b), 0);
	assert_int_equal(call(CAT "Get", b.data, b.len, &body, &len), MYCEL_RPC_OK);
	mycel_buf_fini(&b);
	assert_non_null(body);
	assert_int_equal(mycel_arena_new(16u << 20, &ar), 0);
	if (mycel_msg_GetReply_decode(body, len, ar, &r, why, sizeof(why)) != 0)
		fail_msg("GetReply: %s", why);
	assert_string_equal(r.domain, "alpha");
	assert_string_equal(r.id, "orders");
	assert_string_equal(r.name, "Orders");
	assert_int_equal(r.n_versions, 1);
	assert_string_equal(r.versions[0].version, "1.0.0");
	assert_int_equal(r.n_entries, 1);
	mycel_entry e;
	assert_int_equal(mycel_entry_decode(r.entries[0].entry, r.entries[0].entry_len, &e), 0);
	assert_int_equal(mycel_entry_verify(&e, F->feed), 0);
	assert_int_equal(mycel_entry_check_body(&e, r.entries[0].body, r.entries[0].body_len), 0);
	assert_memory_equal(e.h.feed, F->feed, MYCEL_PK_LEN);
	mycel_arena_free(ar);
	free(body);

	/* an unknown document */
	g.id = "nope";
	g.id_len = 4;
	mycel_buf_init(&b, 1 << 16);
	assert_int_equal(mycel_msg_GetRequest_encode(&g, &b), 0);
	assert_int_equal(call(CAT "Get", b.data, b.len, NULL, NULL), MYCEL_RPC_NOT_FOUND);
	mycel_buf_fini(&b);
}

static void test_status(void **state)
{
	(void)state;
	mycel_msg_StatusRequest q;
	mycel_msg_StatusReply r;
	mycel_buf b;
	mycel_arena *ar;
	uint8_t *body;
	size_t len;
	char why[256] = "";
	memset(&q, 0, sizeof(q));
	mycel_buf_init(&b, 1 << 10);
	assert_int_equal(mycel_msg_StatusRequest_encode(&q, &b), 0);
	assert_int_equal(call(CAT "Status", b.data, b.len, &body, &len), MYCEL_RPC_OK);
	mycel_buf_fini(&b);
	assert_int_equal(mycel_arena_new(16u << 20, &ar), 0);
	if (mycel_msg_StatusReply_decode(body, len, ar, &r, why, sizeof(why)) != 0)
		fail_msg("StatusReply: %s", why);
	assert_non_null(r.node);
	assert_non_null(strstr(r.node, MYCEL_RPC_NODE_VERSION));
	assert_true(r.has_feeds && r.feeds >= 1);
	assert_true(r.n_heads >= 1);
	assert_true(r.has_peers && r.peers == 1); /* the --peer given */
	mycel_arena_free(ar);
	free(body);
}

/* Sends raw bytes on a fresh req0 socket; returns the reply's status. */
static uint64_t raw_call(nng_socket s, const void *p, size_t n)
{
	mycel_rpc_reply rep;
	char why[256] = "";
	void *buf = NULL;
	size_t len = 0;
	assert_int_equal(nng_send(s, (void *)(uintptr_t)p, n, 0), 0);
	assert_int_equal(nng_recv(s, &buf, &len, NNG_FLAG_ALLOC), 0);
	if (mycel_rpc_reply_decode(buf, len, len, &rep, why, sizeof(why)) != 0)
		fail_msg("reply: %s", why);
	uint64_t st = rep.status;
	if (st != MYCEL_RPC_OK)
		assert_true(rep.message_len > 0);
	nng_free(buf, len);
	return st;
}

static void test_garbage(void **state)
{
	(void)state;
	nng_socket s;
	assert_int_equal(nng_req0_open(&s), 0);
	assert_int_equal(nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, WAIT_MS), 0);
	assert_int_equal(nng_dial(s, F->url, NULL, 0), 0);
	assert_int_equal(raw_call(s, "hello world", 11), MYCEL_RPC_INVALID_ARGUMENT);
	assert_int_equal(raw_call(s, "\xc1", 1), MYCEL_RPC_INVALID_ARGUMENT);
	assert_int_equal(raw_call(s, "", 0), MYCEL_RPC_INVALID_ARGUMENT);
	/* the same connection still serves a good request */
	mycel_rpc_request r;
	mycel_buf b;
	memset(&r, 0, sizeof(r));
	r.method = CAT "Status";
	r.method_len = strlen(r.method);
	static const uint8_t empty[] = {0x90};
	r.body = empty;
	r.body_len = sizeof(empty);
	mycel_buf_init(&b, 1 << 10);
	assert_int_equal(mycel_rpc_request_encode(&r, &b), 0);
	assert_int_equal(raw_call(s, b.data, b.len), MYCEL_RPC_OK);
	mycel_buf_fini(&b);
	nng_close(s);
	/* and so does the client's */
	assert_int_equal(call(CAT "Status", empty, sizeof(empty), NULL, NULL), MYCEL_RPC_OK);
}

static void test_methods(void **state)
{
	(void)state;
	static const uint8_t empty[] = {0x90};
	assert_int_equal(call(CAT "Nope", empty, sizeof(empty), NULL, NULL),
			 MYCEL_RPC_UNIMPLEMENTED);
	assert_int_equal(call("mycel.v1.Admin/Reindex", empty, sizeof(empty), NULL, NULL),
			 MYCEL_RPC_PERMISSION_DENIED);
	/* an expired deadline is caught by the client before sending */
	uint64_t st = 0;
	char *msg = NULL;
	uint8_t *body = NULL;
	size_t len = 0;
	assert_int_equal(mycel_client_call(F->c, CAT "Status", 1, empty, sizeof(empty), &st, &msg,
					   &body, &len),
			 0);
	assert_int_equal(st, MYCEL_RPC_DEADLINE_EXCEEDED);
	assert_null(body);
	free(msg);
}

static void test_admin_socket(void **state)
{
	(void)state;
	struct stat st;
	char path[256];
	snprintf(path, sizeof(path), "%s/admin.sock", F->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	/* the admin socket serves Admin methods and Catalog ones */
	mycel_client *a = NULL;
	uint64_t s = 99;
	char *msg = NULL;
	uint8_t *body = NULL;
	size_t len = 0;
	static const uint8_t empty[] = {0x90};
	assert_int_equal(mycel_client_open(F->admin, &a), 0);
	assert_int_equal(mycel_client_call(a, "mycel.v1.Admin/Reindex", tc_now_ms() + WAIT_MS, empty,
					   sizeof(empty), &s, &msg, &body, &len),
			 0);
	assert_int_not_equal(s, MYCEL_RPC_PERMISSION_DENIED);
	free(msg);
	free(body);
	assert_int_equal(mycel_client_call(a, CAT "Status", tc_now_ms() + WAIT_MS, empty,
					   sizeof(empty), &s, &msg, &body, &len),
			 0);
	assert_int_equal(s, MYCEL_RPC_OK);
	free(msg);
	free(body);
	mycel_client_close(a);
}

/* Publish over the admin socket, then Catalog/Get over tcp finds the document. */
static void test_publish(void **state)
{
	(void)state;
	static const char doc[] = "apiVersion: v3.0.2\n"
				  "kind: DataContract\n"
				  "id: invoices\n"
				  "name: Invoices\n"
				  "version: 1.0.0\n"
				  "status: active\n"
				  "domain: alpha\n"
				  "description:\n"
				  "  purpose: every invoice sent\n";
	mycel_msg_PublishRequest p;
	mycel_msg_PublishDoc pd;
	mycel_msg_PublishReply pr;
	mycel_msg_GetRequest g;
	mycel_msg_GetReply r;
	mycel_client *a = NULL;
	mycel_arena *ar = NULL;
	mycel_buf b;
	uint64_t st = 99;
	char *msg = NULL;
	uint8_t *body = NULL;
	size_t len = 0;
	char why[256] = "";

	memset(&p, 0, sizeof(p));
	memset(&pd, 0, sizeof(pd));
	pd.document = (const uint8_t *)doc;
	pd.document_len = strlen(doc);
	pd.path = "invoices.yaml";
	pd.path_len = strlen(pd.path);
	p.documents = &pd;
	p.n_documents = 1;
	mycel_buf_init(&b, 1 << 16);
	assert_int_equal(mycel_msg_PublishRequest_encode(&p, &b), 0);
	assert_int_equal(mycel_client_open(F->admin, &a), 0);
	assert_int_equal(mycel_client_call(a, "mycel.v1.Admin/Publish", tc_now_ms() + WAIT_MS, b.data,
					   b.len, &st, &msg, &body, &len),
			 0);
	mycel_buf_fini(&b);
	if (st != MYCEL_RPC_OK)
		fail_msg("Publish: %s: %s", mycel_rpc_status_name(st), msg ? msg : "");
	free(msg);
	mycel_client_close(a);
	assert_int_equal(mycel_arena_new(16u << 20, &ar), 0);
	if (mycel_msg_PublishReply_decode(body, len, ar, &pr, why, sizeof(why)) != 0)
		fail_msg("PublishReply: %s", why);
	assert_int_equal(pr.n_documents, 1);
	assert_string_equal(pr.documents[0].domain, "alpha");
	assert_string_equal(pr.documents[0].id, "invoices");
	assert_string_equal(pr.documents[0].path, "invoices.yaml");
	assert_int_equal(pr.n_entries, 1);
	assert_int_equal(pr.documents[0].seq, 2); /* after the contract of the setup */
	free(body);

	memset(&g, 0, sizeof(g));
	g.domain = "alpha";
	g.domain_len = 5;
	g.id = "invoices";
	g.id_len = 8;
	mycel_buf_init(&b, 1 << 16);
	assert_int_equal(mycel_msg_GetRequest_encode(&g, &b), 0);
	assert_int_equal(call(CAT "Get", b.data, b.len, &body, &len), MYCEL_RPC_OK);
	mycel_buf_fini(&b);
	if (mycel_msg_GetReply_decode(body, len, ar, &r, why, sizeof(why)) != 0)
		fail_msg("GetReply: %s", why);
	assert_string_equal(r.name, "Invoices");
	assert_int_equal(r.n_versions, 1);
	assert_string_equal(r.versions[0].version, "1.0.0");
	assert_int_equal(r.n_entries, 1);
	mycel_entry e;
	assert_int_equal(mycel_entry_decode(r.entries[0].entry, r.entries[0].entry_len, &e), 0);
	assert_int_equal(mycel_entry_verify(&e, F->feed), 0);
	assert_int_equal(mycel_entry_check_body(&e, r.entries[0].body, r.entries[0].body_len), 0);
	mycel_arena_free(ar);
	free(body);
}

/* Calls an Admin method over the admin socket; fails the test unless it succeeds. */
static void admin_call(const char *method, const mycel_buf *b)
{
	mycel_client *a = NULL;
	uint64_t st = 99;
	char *msg = NULL;
	uint8_t *body = NULL;
	size_t len = 0;
	assert_int_equal(b->err, 0);
	assert_int_equal(mycel_client_open(F->admin, &a), 0);
	assert_int_equal(
	    mycel_client_call(a, method, tc_now_ms() + WAIT_MS, b->data, b->len, &st, &msg, &body, &len),
	    0);
	mycel_client_close(a);
	if (st != MYCEL_RPC_OK)
		fail_msg("%s: %s: %s", method, mycel_rpc_status_name(st), msg ? msg : "");
	free(msg);
	free(body);
}

/* Attempt i of writing something about document shipments: publish 1.0.i/2, or deprecate it. */
static void shipments_write(int i)
{
	char doc[512], version[32];
	mycel_buf b;
	snprintf(version, sizeof(version), "1.0.%d", i / 2);
	mycel_buf_init(&b, 1 << 16);
	if (i % 2 == 0) {
		mycel_msg_PublishRequest p;
		mycel_msg_PublishDoc pd;
		snprintf(doc, sizeof(doc),
			 "apiVersion: v3.0.2\nkind: DataContract\nid: shipments\nname: Shipments\n"
			 "version: %s\nstatus: active\ndomain: alpha\n"
			 "description:\n  purpose: every parcel sent\n",
			 version);
		memset(&p, 0, sizeof(p));
		memset(&pd, 0, sizeof(pd));
		pd.document = (const uint8_t *)doc;
		pd.document_len = strlen(doc);
		p.documents = &pd;
		p.n_documents = 1;
		assert_int_equal(mycel_msg_PublishRequest_encode(&p, &b), 0);
		admin_call("mycel.v1.Admin/Publish", &b);
	} else {
		mycel_msg_ChangeStatusRequest c;
		memset(&c, 0, sizeof(c));
		c.id = "shipments";
		c.id_len = strlen(c.id);
		c.version = version;
		c.version_len = strlen(version);
		assert_int_equal(mycel_msg_ChangeStatusRequest_encode(&c, &b), 0);
		admin_call("mycel.v1.Admin/Deprecate", &b);
	}
	mycel_buf_fini(&b);
}

static void test_watch(void **state)
{
	(void)state;
	char line[2048];
	int out, err;
	const char *args[] = {"watch", "--node", F->events, "--count", "1", "--json",
			      "--timeout", "60", NULL};
	F->watch = spawn_exe(mycel_path, args, NULL, &out, &err);
	size_t n = tc_read_line(err, line, sizeof(line), WAIT_MS);
	if (n == 0 || strncmp(line, "watching ", 9) != 0)
		fail_msg("no `watching` line from mycel watch within %d ms: %s", WAIT_MS, line);
	/* a sub0 subscription may take a moment to reach the node: write until one arrives */
	n = 0;
	for (int i = 0; i < 5 && n == 0; i++) {
		shipments_write(i);
		n = tc_read_line(out, line, sizeof(line), 2000);
	}
	if (n == 0 || strchr(line, '\n') == NULL)
		fail_msg("mycel watch printed no event: %s", line);
	if (strstr(line, "\"domain\":\"alpha\"") == NULL ||
	    strstr(line, "\"id\":\"shipments\"") == NULL || line[0] != '{')
		fail_msg("unexpected event line: %s", line);
	assert_non_null(strstr(line, "\"kind\":\""));
	int st = tc_wait_exit(F->watch, WAIT_MS, F->log);
	F->watch = 0;
	close(out);
	close(err);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_second_daemon(void **state)
{
	(void)state;
	char line[2048];
	int out, err;
	const char *args[] = {"--data", F->dir, "--listen", "tcp://127.0.0.1:0", NULL};
	pid_t pid = spawn(args, NULL, &out, &err);
	size_t n = tc_read_line(err, line, sizeof(line), WAIT_MS);
	int st = tc_wait_exit(pid, WAIT_MS, F->log);
	close(out);
	close(err);
	assert_true(WIFEXITED(st));
	assert_int_not_equal(WEXITSTATUS(st), 0);
	assert_true(n > 0);
	if (strstr(line, "already served") == NULL)
		fail_msg("unexpected message: %s", line);
	/* the first one's lock file is untouched and it still serves */
	char path[256];
	snprintf(path, sizeof(path), "%s/myceld.pid", F->dir);
	assert_int_equal(access(path, F_OK), 0);
	static const uint8_t empty[] = {0x90};
	assert_int_equal(call(CAT "Status", empty, sizeof(empty), NULL, NULL), MYCEL_RPC_OK);
}

static void test_stop(void **state)
{
	(void)state;
	char path[256];
	mycel_client_close(F->c);
	F->c = NULL;
	assert_int_equal(kill(F->pid, SIGTERM), 0);
	int st = tc_wait_exit(F->pid, WAIT_MS, F->log);
	F->pid = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		dump_log();
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	snprintf(path, sizeof(path), "%s/myceld.pid", F->dir);
	assert_int_not_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/admin.sock", F->dir);
	assert_int_not_equal(access(path, F_OK), 0);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: test-node PATH-TO-MYCELD PATH-TO-MYCEL\n");
		return 2;
	}
	myceld_path = argv[1];
	mycel_path = argv[2];
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_start),	  cmocka_unit_test(test_get),
	    cmocka_unit_test(test_status),	  cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_methods),	  cmocka_unit_test(test_admin_socket),
	    cmocka_unit_test(test_publish),	  cmocka_unit_test(test_watch),
	    cmocka_unit_test(test_second_daemon), cmocka_unit_test(test_stop),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
