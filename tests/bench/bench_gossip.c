/*
 * bench-gossip: the three gossip figures of DESIGN §8 / issue 5, each beside a peer or a
 * limit measured in the same run.
 *
 *   bench-gossip [--quick] [--nodes N] [--samples S] [--entries E] [--no-serf]
 *                [--only convergence|idle|cold] [--myceld PATH] [--workers W]
 *
 * 1. Convergence. N (default 64) myceld processes on 127.0.0.1 (ephemeral ports, read back
 *    from each daemon's `ready` line), gossip interval 200 ms, fanout 3, one public and one
 *    admin worker and one verify thread each, every node with a change stream (`events:`).
 *    Node 0 serves the domain "sales"; the others are stores of the same mesh. Peers: a
 *    ring plus two random peers each (Admin/PeersAdd); the rest is learnt from inbound
 *    calls. The benchmark subscribes to all N change streams and timestamps each node's
 *    event for the entry (an event is sent after the node's durable commit of the entry
 *    it verified), so "every node holds it" is measured without polling. S (default 20)
 *    contracts are published on node 0 one after another, each once the previous one is
 *    everywhere; time 0 is just before the Admin/Publish call (so lint, sign and the
 *    origin's commit count against mycel).
 *    Beside it: N Serf agents (`serf agent -profile=lan`: memberlist's LAN profile, gossip
 *    interval 200 ms to 3 nodes — Serf has no flag for the interval itself), each joining
 *    agent 0 and two earlier agents, each with a user-event handler that writes
 *    "EVENT NODE $(date +%s%N)" to one FIFO the benchmark reads. S user events
 *    (`serf event -coalesce=false`) are fired at agent 0, each once the previous one is
 *    everywhere; time 0 is when the `serf event` command returned (the origin agent has
 *    the event), which favours Serf. Figures: p50/p99 over the S entries of the time until
 *    the LAST node has it, in ms and in gossip intervals ("rounds").
 * 2. Idle cost. A store of E (default 100 000) entries in 8 feeds, copied to 3 nodes run
 *    in this process (same interval and fanout), all in sync: bytes on the wire (request
 *    and reply envelopes with nng framing, as the engine counts them) per exchange with
 *    one peer, i.e. per peer per round, over a few seconds; limit 200.
 * 3. Cold sync. A node with an empty store pulls the E entries from one holding them
 *    (both in this process; one exchange started at once, verify_threads = CPUs), 3 times
 *    (fresh node each time): entries per second beside the raw Ed25519 verify rate
 *    (crypto_sign_verify_detached, 150-byte messages) measured just before and just after
 *    each sync, of one thread times the CPUs and of as many threads run in parallel; limit
 *    0.8; medians. The machine is shared, so also entries per CPU-second of the process
 *    (both nodes) beside verifies per CPU-second of one thread, which other load does not
 *    change.
 *
 * Every process started here is ended by its pid (atexit, and SIGINT/SIGTERM/SIGHUP
 * handlers); children die with the benchmark (PR_SET_PDEATHSIG). Every wait is bounded.
 * Temporary files live in a mkdtemp directory under /tmp, removed at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "mycel/charter.h"
#include "mycel/client.h"
#include "mycel/codec.h"
#include "mycel/domain.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/node.h"
#include "mycel/rpc.h"
#include "mycel/store.h"
#include "gossip.h"
#include "mesh.h"
#include "mycel_proto.h"

#include "bench_docs.h"

#define INTERVAL_MS 200u
#define FANOUT 3u
#define MAXN 256u
#define MAXPROC (2u * MAXN + 16u)
#define WAIT_ENTRY_MS 30000u /* longest wait for one entry to be everywhere */
#define WAIT_READY_MS 30000u /* longest wait for a process's ready line */
#define CALL_MS 30000u
#define NFEEDS 8u

/* Public workers of each myceld of the convergence mesh (--workers). */
static unsigned node_workers = 1;

static void die(const char *what, const char *detail) __attribute__((noreturn));

static void figure(const char *name, double value, const char *unit, const char *vs, double ratio,
                   const char *limit)
{
	printf("figure %s %.6g %s vs %s ratio %.3f (limit %s)\n", name, value, unit, vs, ratio,
	       limit);
	fflush(stdout);
}

static uint64_t real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_ms(void)
{
	return real_ns() / 1000000u;
}

static void pause_ms(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- processes: every one is recorded and ended by its pid ------------------------------- */

static pid_t procs[MAXPROC];
static volatile sig_atomic_t nprocs;
static char base_dir[160];

static void on_signal(int sig)
{
	for (sig_atomic_t i = 0; i < nprocs; i++)
		if (procs[i] > 0)
			kill(procs[i], SIGKILL);
	_exit(128 + sig);
}

/* Ends the process pid (SIGTERM, then SIGKILL after grace_ms) and reaps it. */
static void end_pid(pid_t pid, unsigned grace_ms)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (unsigned waited = 0;; waited += 5) {
		pid_t r = waitpid(pid, NULL, WNOHANG);
		if (r == pid || (r < 0 && errno == ECHILD))
			return;
		if (waited >= grace_ms)
			break;
		pause_ms(5);
	}
	kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
}

/* Ends every recorded process still running: SIGTERM to all first, then reaps each. */
static void end_all(void)
{
	for (sig_atomic_t i = 0; i < nprocs; i++)
		if (procs[i] > 0)
			kill(procs[i], SIGTERM);
	for (sig_atomic_t i = 0; i < nprocs; i++) {
		end_pid(procs[i], 5000);
		procs[i] = 0;
	}
	nprocs = 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

static void cleanup(void)
{
	end_all();
	if (base_dir[0] != '\0')
		(void)nftw(base_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void die(const char *what, const char *detail)
{
	printf("bench-gossip: %s: %s\n", what, detail);
	fflush(stdout);
	exit(1);
}

/*
 * Starts argv[0] (a path) with stdin from /dev/null, stderr to the file log (appended) and
 * stdout to a pipe whose read end goes to *out_fd, or to log too when out_fd is NULL; the
 * child is killed when this process dies.
 */
static pid_t spawn(char *const argv[], const char *log, int *out_fd)
{
	int p[2];
	if (nprocs >= (sig_atomic_t)MAXPROC)
		die("spawn", "too many processes");
	if (pipe2(p, O_CLOEXEC) != 0)
		die("pipe", strerror(errno));
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		die("fork", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		int in = open("/dev/null", O_RDONLY);
		int err = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (in < 0 || err < 0 || dup2(in, 0) < 0 ||
		    dup2(out_fd != NULL ? p[1] : err, 1) < 0 || dup2(err, 2) < 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	procs[nprocs] = pid;
	nprocs = nprocs + 1;
	if (out_fd != NULL)
		*out_fd = p[0];
	else
		close(p[0]);
	return pid;
}

/* A process ended and reaped here is no longer one to end at exit. */
static void forget(pid_t pid)
{
	for (sig_atomic_t i = 0; i < nprocs; i++)
		if (procs[i] == pid)
			procs[i] = 0;
}

/*
 * Reads fd until a whole line starting with prefix has come (into line, NUL-terminated,
 * without the newline): 0, or -1 on end of file or after timeout_ms.
 */
static int read_line(int fd, const char *prefix, char *line, size_t cap, unsigned timeout_ms)
{
	size_t len = 0;
	uint64_t end = wall_ms() + timeout_ms;
	for (;;) {
		char *nl;
		while ((nl = memchr(line, '\n', len)) != NULL) {
			*nl = '\0';
			if (strncmp(line, prefix, strlen(prefix)) == 0)
				return 0;
			size_t used = (size_t)(nl + 1 - line);
			memmove(line, nl + 1, len - used);
			len -= used;
		}
		if (len + 1 >= cap)
			len = 0; /* a line too long for us is not the one */
		uint64_t now = wall_ms();
		if (now >= end)
			return -1;
		struct pollfd pf = {fd, POLLIN, 0};
		int r = poll(&pf, 1, (int)(end - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		ssize_t got = read(fd, line + len, cap - 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		len += (size_t)got;
	}
}

/*
 * Runs argv to its end (bounded by timeout_ms, then killed), its stdout into out (cap
 * bytes, NUL-terminated); stderr to log. Returns the exit status, or -1.
 */
static int run_capture(char *const argv[], const char *log, char *out, size_t cap,
                       unsigned timeout_ms)
{
	int fd;
	pid_t pid = spawn(argv, log, &fd);
	size_t len = 0;
	uint64_t end = wall_ms() + timeout_ms;
	out[0] = '\0';
	for (;;) {
		uint64_t now = wall_ms();
		if (now >= end)
			break;
		struct pollfd pf = {fd, POLLIN, 0};
		int r = poll(&pf, 1, (int)(end - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		char tmp[4096];
		ssize_t got = read(fd, tmp, sizeof(tmp));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		size_t k = (size_t)got < cap - 1 - len ? (size_t)got : cap - 1 - len;
		memcpy(out + len, tmp, k);
		len += k;
		out[len] = '\0';
	}
	close(fd);
	int st = -1;
	if (wall_ms() >= end) {
		end_pid(pid, 0);
	} else if (waitpid(pid, &st, 0) != pid) {
		st = -1;
	}
	forget(pid);
	return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Writes text to path (mode 0700 when exec, else 0600). */
static void write_file(const char *path, const char *text, bool exec)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, exec ? 0700 : 0600);
	size_t n = strlen(text);
	if (fd < 0 || write(fd, text, n) != (ssize_t)n || close(fd) != 0)
		die(path, strerror(errno));
}

/* Copies the file src to dst. */
static void copy_file(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (in < 0 || out < 0)
		die("copy", strerror(errno));
	static char buf[1 << 20];
	for (;;) {
		ssize_t r = read(in, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("copy", strerror(errno));
		if (r == 0)
			break;
		if (write(out, buf, (size_t)r) != r)
			die("copy", strerror(errno));
	}
	close(in);
	if (close(out) != 0)
		die("copy", strerror(errno));
}

/* A port free for both TCP and UDP on 127.0.0.1 now, not one of taken[0..n). */
static int free_port(const int *taken, size_t n)
{
	for (int attempt = 0; attempt < 200; attempt++) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		socklen_t al = sizeof(a);
		int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (t < 0 || bind(t, (struct sockaddr *)&a, sizeof(a)) != 0 ||
		    getsockname(t, (struct sockaddr *)&a, &al) != 0) {
			if (t >= 0)
				close(t);
			continue;
		}
		int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		bool ok = u >= 0 && bind(u, (struct sockaddr *)&a, sizeof(a)) == 0;
		if (u >= 0)
			close(u);
		close(t);
		int port = ntohs(a.sin_port);
		for (size_t i = 0; i < n; i++)
			ok = ok && taken[i] != port;
		if (ok)
			return port;
	}
	die("ports", "no free port on 127.0.0.1");
}

/* Prints "  label: v0 v1 ..." sorted, one decimal (ms). */
static void print_sorted(const char *label, const double *v, size_t n)
{
	double *tmp = malloc(n * sizeof(*v));
	if (tmp == NULL)
		die("print", "out of memory");
	memcpy(tmp, v, n * sizeof(*v));
	bench_median(tmp, n); /* sorts */
	printf("  %s:", label);
	for (size_t i = 0; i < n; i++)
		printf(" %.1f", tmp[i]);
	printf("\n");
	free(tmp);
}

/* Percentile p of v[0..n) (v itself is left in its order). */
static double pct(const double *v, size_t n, double p)
{
	double *tmp = malloc(n * sizeof(*v));
	if (tmp == NULL)
		die("percentile", "out of memory");
	memcpy(tmp, v, n * sizeof(*v));
	double r = bench_pct(tmp, n, p);
	free(tmp);
	return r;
}

static void load_avg(char *out, size_t cap)
{
	double l[3] = {0, 0, 0};
	if (getloadavg(l, 3) != 3)
		snprintf(out, cap, "?");
	else
		snprintf(out, cap, "%.2f %.2f %.2f", l[0], l[1], l[2]);
}

/* ---- 1a. the mycel mesh: N myceld processes ------------------------------------------------ */

typedef struct mnode {
	pid_t pid;
	int out_fd;
	char url[MYCEL_NODE_URL_MAX + 1];
	char admin[MYCEL_NODE_URL_MAX + 1];
	char events[MYCEL_NODE_URL_MAX + 1];
	nng_socket sub;
	nng_aio *aio;
	size_t idx;
} mnode;

#define MAXSEQ 256u

typedef struct mesh {
	size_t n;
	mnode *nodes;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t seen[MAXN][MAXSEQ]; /* realtime ns when node i reported seq s; 0: not yet */
	size_t count[MAXSEQ];        /* nodes that reported seq s */
	uint64_t events;             /* event messages received */
} mesh;

static mesh M;

/* The value of key "seq" in a change event (canonical MessagePack map), or 0. */
static uint64_t event_seq(const uint8_t *p, size_t n)
{
	static const uint8_t key[] = {0xa3, 's', 'e', 'q'};
	for (size_t i = 0; i + sizeof(key) < n; i++) {
		if (memcmp(p + i, key, sizeof(key)) != 0)
			continue;
		const uint8_t *v = p + i + sizeof(key);
		size_t left = n - i - sizeof(key);
		if (v[0] < 0x80)
			return v[0];
		size_t w = v[0] == 0xcc   ? 1
		           : v[0] == 0xcd ? 2
		           : v[0] == 0xce ? 4
		           : v[0] == 0xcf ? 8
		                          : 0;
		if (w == 0 || left < 1 + w)
			return 0;
		uint64_t x = 0;
		for (size_t k = 0; k < w; k++)
			x = x << 8 | v[1 + k];
		return x;
	}
	return 0;
}

/* nng callback of node i's subscription: timestamps the event; never blocks for long. */
static void on_event(void *arg)
{
	mnode *nd = arg;
	if (nng_aio_result(nd->aio) != 0)
		return; /* closed */
	uint64_t t = real_ns();
	nng_msg *m = nng_aio_get_msg(nd->aio);
	uint64_t seq = event_seq(nng_msg_body(m), nng_msg_len(m));
	nng_msg_free(m);
	pthread_mutex_lock(&M.mu);
	M.events++;
	if (seq > 0 && seq < MAXSEQ && M.seen[nd->idx][seq] == 0) {
		M.seen[nd->idx][seq] = t;
		if (++M.count[seq] == M.n)
			pthread_cond_broadcast(&M.cv);
	}
	pthread_mutex_unlock(&M.mu);
	nng_recv_aio(nd->sub, nd->aio);
}

/* Waits until every node reported seq: 0, or -1 after timeout_ms (count to *out_have). */
static int wait_everywhere(uint64_t seq, unsigned timeout_ms, size_t *out_have)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(timeout_ms / 1000);
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	int rv = 0;
	pthread_mutex_lock(&M.mu);
	while (M.count[seq] < M.n && rv == 0)
		rv = pthread_cond_timedwait(&M.cv, &M.mu, &ts);
	size_t have = M.count[seq];
	pthread_mutex_unlock(&M.mu);
	if (out_have != NULL)
		*out_have = have;
	return have == M.n ? 0 : -1;
}

/* One Admin or Mesh call that must end OK; the reply body is freed. */
static void call_ok(const char *url, const char *method, const mycel_buf *req)
{
	mycel_client *c = NULL;
	uint64_t st = 0;
	char *msg = NULL;
	uint8_t *body = NULL;
	size_t len = 0;
	int rv = mycel_client_open(url, &c);
	if (rv == 0)
		rv = mycel_client_call(c, method, wall_ms() + CALL_MS, req->data, req->len, &st,
		                       &msg, &body, &len);
	mycel_client_close(c);
	if (rv != 0)
		die(method, mycel_strerror(rv));
	if (st != MYCEL_RPC_OK) {
		printf("bench-gossip: %s at %s: %s: %s\n", method, url, mycel_rpc_status_name(st),
		       msg ? msg : "");
		exit(1);
	}
	free(msg);
	free(body);
}

static void peers_add(const char *admin, const char *peer)
{
	mycel_msg_PeerRequest rq;
	mycel_buf b;
	memset(&rq, 0, sizeof(rq));
	rq.addr = peer;
	rq.addr_len = strlen(peer);
	mycel_buf_init(&b, 4096);
	if (mycel_msg_PeerRequest_encode(&rq, &b) != 0)
		die("PeersAdd", "cannot encode");
	call_ok(admin, "mycel.v1.Admin/PeersAdd", &b);
	mycel_buf_fini(&b);
}

/* Publishes contract bench-K version 1.0.0 on node 0 (admin socket); durable when it returns. */
static void publish(size_t k)
{
	char doc[512];
	snprintf(doc, sizeof(doc),
	         "apiVersion: v3.0.2\nkind: DataContract\nid: bench-%zu\nname: bench %zu\n"
	         "version: 1.0.0\nstatus: active\ndomain: sales\n",
	         k, k);
	mycel_msg_PublishDoc d;
	memset(&d, 0, sizeof(d));
	d.document = (const uint8_t *)doc;
	d.document_len = strlen(doc);
	mycel_msg_PublishRequest rq;
	memset(&rq, 0, sizeof(rq));
	rq.documents = &d;
	rq.n_documents = 1;
	mycel_buf b;
	mycel_buf_init(&b, 1 << 16);
	if (mycel_msg_PublishRequest_encode(&rq, &b) != 0)
		die("publish", "cannot encode");
	call_ok(M.nodes[0].admin, "mycel.v1.Admin/Publish", &b);
	mycel_buf_fini(&b);
}

/* Copies the value of " key=" in line into out (up to a space). */
static void field(const char *line, const char *key, char *out, size_t cap)
{
	const char *p = strstr(line, key);
	out[0] = '\0';
	if (p == NULL)
		return;
	p += strlen(key);
	size_t n = strcspn(p, " ");
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* Starts the N nodes and subscribes to their change streams; returns when all serve. */
static void mesh_start(size_t n, const char *myceld)
{
	char dir[300], why[512] = "", cfg[400], log[400], text[2048];
	M.n = n;
	M.nodes = calloc(n, sizeof(*M.nodes));
	if (M.nodes == NULL)
		die("mesh", "out of memory");
	pthread_mutex_init(&M.mu, NULL);
	pthread_cond_init(&M.cv, NULL);
	/* node 0: the domain directory of "sales" (its own key, a charter admitting it) */
	snprintf(dir, sizeof(dir), "%s/m0", base_dir);
	mycel_domain_opts o = {.dir = dir, .name = "sales", .mesh = "bench"};
	if (mycel_domain_init(&o, why, sizeof(why)) != 0)
		die("domain init", why);
	mycel_domain dom;
	mycel_store *s = NULL;
	if (mycel_domain_load(dir, &dom, why, sizeof(why)) != 0 ||
	    mycel_store_open(dom.store_path, 0, &s, why, sizeof(why)) != 0)
		die("domain", why);
	mycel_buf ch;
	mycel_buf_init(&ch, MYCEL_CHARTER_MAX);
	if (mycel_charter_encode(mycel_store_charter(s), &ch) != 0)
		die("charter", "cannot encode");
	mycel_store_close(s);
	mycel_domain_fini(&dom);
	for (size_t i = 0; i < n; i++) {
		snprintf(dir, sizeof(dir), "%s/m%zu", base_dir, i);
		if (i > 0) {
			if (mycel_store_open(dir, MYCEL_STORE_CREATE, &s, why, sizeof(why)) != 0 ||
			    mycel_store_add_charter(s, ch.data, ch.len, why, sizeof(why)) != 0)
				die("store", why);
			mycel_store_close(s);
		}
		snprintf(cfg, sizeof(cfg), "%s/m%zu.yaml", base_dir, i);
		snprintf(text, sizeof(text),
		         "data: %s\nlisten: tcp://127.0.0.1:0\nevents: tcp://127.0.0.1:0\n"
		         "workers: %u\nadmin_workers: 1\nlog_level: warn\n"
		         "gossip:\n  interval_ms: %u\n  fanout: %u\n  verify_threads: 1\n",
		         dir, node_workers, INTERVAL_MS, FANOUT);
		write_file(cfg, text, false);
		snprintf(log, sizeof(log), "%s/m%zu.log", base_dir, i);
		char *argv[] = {(char *)myceld, "--config", cfg, NULL};
		M.nodes[i].idx = i;
		M.nodes[i].pid = spawn(argv, log, &M.nodes[i].out_fd);
	}
	mycel_buf_fini(&ch);
	for (size_t i = 0; i < n; i++) {
		mnode *nd = &M.nodes[i];
		char line[2048];
		if (read_line(nd->out_fd, "ready ", line, sizeof(line), WAIT_READY_MS) != 0) {
			snprintf(log, sizeof(log),
			         "node %zu (pid %d) did not say ready; see its log", i,
			         (int)nd->pid);
			die("myceld", log);
		}
		field(line, " url=", nd->url, sizeof(nd->url));
		field(line, " admin=", nd->admin, sizeof(nd->admin));
		field(line, " events=", nd->events, sizeof(nd->events));
		int rv;
		if ((rv = nng_sub0_open(&nd->sub)) != 0 ||
		    (rv = nng_socket_set(nd->sub, NNG_OPT_SUB_SUBSCRIBE, "", 0)) != 0 ||
		    (rv = nng_aio_alloc(&nd->aio, on_event, nd)) != 0 ||
		    (rv = nng_dial(nd->sub, nd->events, NULL, 0)) != 0)
			die(nd->events, nng_strerror(rv));
		nng_recv_aio(nd->sub, nd->aio);
	}
	/* a ring and two random peers each; the rest comes from inbound calls */
	for (size_t i = 0; i < n && n > 1; i++) {
		peers_add(M.nodes[i].admin, M.nodes[(i + 1) % n].url);
		for (int k = 0; k < 2 && n > 3; k++) {
			size_t j = (size_t)(bench_rand() % n);
			if (j != i && j != (i + 1) % n)
				peers_add(M.nodes[i].admin, M.nodes[j].url);
		}
	}
}

static void mesh_stop(void)
{
	/*
	 * nng_aio_stop first: it waits for a callback in progress and makes the receive that
	 * callback re-arms fail at once, so the close and the free below never wait on it
	 * (closing first races with the callback re-arming; one ASan smoke run hung after the
	 * convergence figure, where this teardown runs, and did not recur in 26 more runs).
	 */
	for (size_t i = 0; i < M.n; i++)
		nng_aio_stop(M.nodes[i].aio);
	for (size_t i = 0; i < M.n; i++) {
		nng_close(M.nodes[i].sub);
		nng_aio_free(M.nodes[i].aio);
	}
	for (size_t i = 0; i < M.n; i++)
		kill(M.nodes[i].pid, SIGTERM);
	for (size_t i = 0; i < M.n; i++) {
		end_pid(M.nodes[i].pid, 10000);
		forget(M.nodes[i].pid);
		close(M.nodes[i].out_fd);
	}
	free(M.nodes);
	M.nodes = NULL;
}

/*
 * The mycel side of 1: out[k] = ms from just before publish k until the last node's event;
 * per_node gets every node's delay of every sample (n × samples). An entry some node did not
 * report within WAIT_ENTRY_MS counts as that long (and in *missed).
 */
static void mesh_run(size_t samples, double *out, double *per_node, double *ack_ms, size_t *missed)
{
	size_t seq = 0, have = 0;
	/* warm-up: entries until one reaches every subscriber (streams connected, peers learnt) */
	for (int w = 0;; w++) {
		publish(seq++);
		if (wait_everywhere(seq, WAIT_ENTRY_MS, &have) == 0 && w >= 2)
			break;
		if (w >= 6) {
			char m[128];
			snprintf(m, sizeof(m), "warm-up entry %zu reached %zu of %zu nodes", seq,
			         have, M.n);
			die("mesh", m);
		}
	}
	for (size_t k = 0; k < samples; k++) {
		uint64_t t0 = real_ns();
		publish(seq++);
		ack_ms[k] = (double)(real_ns() - t0) / 1e6;
		if (wait_everywhere(seq, WAIT_ENTRY_MS, &have) != 0) {
			printf("  mycel: entry %zu reached %zu of %zu nodes in %u ms: counted as "
			       "%u ms\n",
			       seq, have, M.n, WAIT_ENTRY_MS, WAIT_ENTRY_MS);
			(*missed)++;
			out[k] = WAIT_ENTRY_MS;
			for (size_t i = 0; i < M.n; i++)
				per_node[k * M.n + i] = WAIT_ENTRY_MS;
			continue;
		}
		uint64_t last = 0;
		pthread_mutex_lock(&M.mu);
		for (size_t i = 0; i < M.n; i++) {
			uint64_t t = M.seen[i][seq];
			if (t > last)
				last = t;
			per_node[k * M.n + i] = t > t0 ? (double)(t - t0) / 1e6 : 0;
		}
		pthread_mutex_unlock(&M.mu);
		out[k] = (double)(last - t0) / 1e6;
	}
}

/* ---- 1b. Serf: N agents -------------------------------------------------------------------- */

typedef struct serf_agent {
	pid_t pid;
	int port, rpc;
	char bind[64], rpc_addr[64];
} serf_agent;

/* Waits until something accepts TCP connections on 127.0.0.1:port (bounded). */
static int wait_listening(int port, pid_t pid, unsigned timeout_ms)
{
	uint64_t end = wall_ms() + timeout_ms;
	while (wall_ms() < end) {
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			forget(pid);
			return -1;
		}
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int ok = s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
		if (s >= 0)
			close(s);
		if (ok)
			return 0;
		pause_ms(10);
	}
	return -1;
}

/* Lines of `serf members -status=alive` at agent a, or -1. */
static int serf_alive(const char *serf, const serf_agent *a)
{
	char out[1 << 16], log[400], rpc[96];
	snprintf(log, sizeof(log), "%s/serf-cmd.log", base_dir);
	snprintf(rpc, sizeof(rpc), "-rpc-addr=%s", a->rpc_addr);
	char *argv[] = {(char *)serf, "members", rpc, "-status=alive", NULL};
	if (run_capture(argv, log, out, sizeof(out), 10000) != 0)
		return -1;
	int lines = 0;
	for (const char *p = out; *p; p++)
		lines += *p == '\n';
	return lines;
}

/* Reads "EVENT NODE NS" lines from the FIFO until n distinct nodes sent name; 0 or -1. */
static int serf_wait(int fifo, const char *name, size_t n, uint64_t *ts, unsigned timeout_ms,
                     size_t *out_have)
{
	static char buf[1 << 16];
	static size_t len;
	size_t have = 0;
	for (size_t i = 0; i < n; i++)
		ts[i] = 0;
	uint64_t end = wall_ms() + timeout_ms;
	for (;;) {
		char *nl;
		while ((nl = memchr(buf, '\n', len)) != NULL) {
			*nl = '\0';
			char ev[64], node[64];
			unsigned long long t;
			unsigned idx;
			if (sscanf(buf, "%63s %63s %llu", ev, node, &t) == 3 &&
			    strcmp(ev, name) == 0 && sscanf(node, "s%u", &idx) == 1 && idx < n &&
			    ts[idx] == 0) {
				ts[idx] = (uint64_t)t;
				have++;
			}
			size_t used = (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len - used);
			len -= used;
		}
		*out_have = have;
		if (have == n)
			return 0;
		if (len + 1 >= sizeof(buf))
			len = 0;
		uint64_t now = wall_ms();
		if (now >= end)
			return -1;
		struct pollfd pf = {fifo, POLLIN, 0};
		int r = poll(&pf, 1, (int)(end - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		ssize_t got = read(fifo, buf + len, sizeof(buf) - 1 - len);
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got <= 0)
			return -1;
		len += (size_t)got;
	}
}

/* Fires user event name at agent a; 0 when `serf event` succeeded. */
static int serf_fire(const char *serf, const serf_agent *a, const char *name)
{
	char out[4096], log[400], rpc[96];
	snprintf(log, sizeof(log), "%s/serf-cmd.log", base_dir);
	snprintf(rpc, sizeof(rpc), "-rpc-addr=%s", a->rpc_addr);
	char *argv[] = {(char *)serf, "event", "-coalesce=false", rpc, (char *)name, "x", NULL};
	return run_capture(argv, log, out, sizeof(out), 10000);
}

/*
 * The Serf side of 1: out[k] = ms from the return of `serf event` until the last agent's
 * handler ran (WAIT_ENTRY_MS for an event some agent never ran in that time, counted in
 * *missed); *handler_ms gets the median cost of the handler itself here (sh + date).
 */
static void serf_run(const char *serf, size_t n, size_t samples, double *out, double *fire_ms,
                     double *handler_ms, size_t *missed)
{
	char fifo_path[300], script[300], text[1024], log[300];
	snprintf(fifo_path, sizeof(fifo_path), "%s/serf.fifo", base_dir);
	snprintf(script, sizeof(script), "%s/serf-handler.sh", base_dir);
	if (mkfifo(fifo_path, 0600) != 0)
		die("mkfifo", strerror(errno));
	int fifo = open(fifo_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fifo < 0)
		die("fifo", strerror(errno));
	/* one write of a short line is atomic on a FIFO (PIPE_BUF) */
	snprintf(text, sizeof(text),
	         "#!/bin/sh\necho \"$SERF_USER_EVENT $SERF_SELF_NAME $(date +%%s%%N)\" > %s\n",
	         fifo_path);
	write_file(script, text, true);

	/* what the handler alone costs: from fork to its timestamp, here, 10 times */
	double h[10];
	for (int r = 0; r < 10; r++) {
		char cmd[64] = "date +%s%N", outb[128];
		char *argv[] = {"/bin/sh", "-c", cmd, NULL};
		snprintf(log, sizeof(log), "%s/serf-cmd.log", base_dir);
		uint64_t t0 = real_ns();
		if (run_capture(argv, log, outb, sizeof(outb), 5000) != 0)
			die("sh", "date failed");
		h[r] = (double)(strtoull(outb, NULL, 10) - t0) / 1e6;
	}
	*handler_ms = bench_median(h, 10);

	serf_agent *ag = calloc(n, sizeof(*ag));
	int *taken = calloc(2 * n, sizeof(int));
	if (ag == NULL || taken == NULL)
		die("serf", "out of memory");
	size_t nt = 0;
	for (size_t i = 0; i < n; i++) {
		ag[i].port = free_port(taken, nt);
		taken[nt++] = ag[i].port;
		ag[i].rpc = free_port(taken, nt);
		taken[nt++] = ag[i].rpc;
		snprintf(ag[i].bind, sizeof(ag[i].bind), "127.0.0.1:%d", ag[i].port);
		snprintf(ag[i].rpc_addr, sizeof(ag[i].rpc_addr), "127.0.0.1:%d", ag[i].rpc);
		char a_node[32], a_bind[96], a_rpc[96], a_handler[400], joins[3][96];
		snprintf(a_node, sizeof(a_node), "-node=s%zu", i);
		snprintf(a_bind, sizeof(a_bind), "-bind=%s", ag[i].bind);
		snprintf(a_rpc, sizeof(a_rpc), "-rpc-addr=%s", ag[i].rpc_addr);
		snprintf(a_handler, sizeof(a_handler), "-event-handler=user=%s", script);
		char *argv[16] = {(char *)serf,   "agent",           a_node,   a_bind, a_rpc,
		                  "-profile=lan", "-log-level=warn", a_handler};
		size_t ac = 8;
		/* join agent 0, the one before and a random earlier one */
		size_t js[3] = {0, i ? i - 1 : 0, i ? (size_t)(bench_rand() % i) : 0};
		for (size_t k = 0; k < 3 && i > 0; k++) {
			bool dup = false;
			for (size_t q = 0; q < k; q++)
				dup = dup || js[q] == js[k];
			if (dup)
				continue;
			snprintf(joins[k], sizeof(joins[k]), "-join=%s", ag[js[k]].bind);
			argv[ac++] = joins[k];
		}
		argv[ac] = NULL;
		snprintf(log, sizeof(log), "%s/s%zu.log", base_dir, i);
		ag[i].pid = spawn(argv, log, NULL);
		if (wait_listening(ag[i].rpc, ag[i].pid, WAIT_READY_MS) != 0) {
			snprintf(text, sizeof(text), "agent %zu (pid %d) did not start; see %s", i,
			         (int)ag[i].pid, log);
			die("serf", text);
		}
	}
	/* every agent alive as seen from the first and the last */
	uint64_t end = wall_ms() + 60000;
	for (;;) {
		int a = serf_alive(serf, &ag[0]), b = serf_alive(serf, &ag[n - 1]);
		if (a == (int)n && b == (int)n)
			break;
		if (wall_ms() > end) {
			snprintf(text, sizeof(text), "after 60 s, %d and %d of %zu agents alive", a,
			         b, n);
			die("serf", text);
		}
		pause_ms(200);
	}
	uint64_t *ts = calloc(n, sizeof(*ts));
	size_t have = 0;
	if (ts == NULL)
		die("serf", "out of memory");
	for (int w = 0;; w++) {
		char name[32];
		snprintf(name, sizeof(name), "w%d", w);
		if (serf_fire(serf, &ag[0], name) != 0)
			die("serf event", "failed");
		if (serf_wait(fifo, name, n, ts, WAIT_ENTRY_MS, &have) == 0 && w >= 1)
			break;
		if (w >= 5) {
			snprintf(text, sizeof(text), "warm-up event reached %zu of %zu agents",
			         have, n);
			die("serf", text);
		}
	}
	for (size_t k = 0; k < samples; k++) {
		char name[32];
		snprintf(name, sizeof(name), "e%zu", k);
		uint64_t a = real_ns();
		if (serf_fire(serf, &ag[0], name) != 0)
			die("serf event", "failed");
		uint64_t t0 = real_ns();
		fire_ms[k] = (double)(t0 - a) / 1e6;
		if (serf_wait(fifo, name, n, ts, WAIT_ENTRY_MS, &have) != 0) {
			/* a delivery Serf lost (its push-pull repairs it, every 30 s): counted as
			 * the longest wait, and said */
			printf("  serf: event %s reached %zu of %zu agents in %u ms: counted as %u "
			       "ms\n",
			       name, have, n, WAIT_ENTRY_MS, WAIT_ENTRY_MS);
			(*missed)++;
			out[k] = WAIT_ENTRY_MS;
			continue;
		}
		uint64_t last = 0;
		for (size_t i = 0; i < n; i++)
			if (ts[i] > last)
				last = ts[i];
		out[k] = last > t0 ? (double)(last - t0) / 1e6 : 0;
	}
	for (size_t i = 0; i < n; i++)
		kill(ag[i].pid, SIGTERM);
	for (size_t i = 0; i < n; i++) {
		end_pid(ag[i].pid, 10000);
		forget(ag[i].pid);
	}
	close(fifo);
	free(ts);
	free(ag);
	free(taken);
}

static void bench_convergence(size_t n, size_t samples, const char *myceld, const char *serf)
{
	double *mc = calloc(samples, sizeof(double)), *ack = calloc(samples, sizeof(double));
	double *per = calloc(samples * n, sizeof(double));
	double *sf = calloc(samples, sizeof(double)), *fire = calloc(samples, sizeof(double));
	char la[64];
	if (mc == NULL || ack == NULL || per == NULL || sf == NULL || fire == NULL)
		die("convergence", "out of memory");
	load_avg(la, sizeof(la));
	printf("\nconvergence: %zu nodes on 127.0.0.1, gossip interval %u ms, fanout %u, %zu "
	       "entries (load average %s)\n",
	       n, INTERVAL_MS, FANOUT, samples, la);
	fflush(stdout);
	double t0 = bench_now();
	mesh_start(n, myceld);
	printf("  mycel: %zu myceld started and peered in %.1f s (workers %u, admin_workers 1, "
	       "verify_threads 1, events on)\n",
	       n, bench_now() - t0, node_workers);
	size_t m_missed = 0, s_missed = 0;
	mesh_run(samples, mc, per, ack, &m_missed);
	mesh_stop();
	double p50 = pct(mc, samples, 0.5), p99 = pct(mc, samples, 0.99);
	printf("  mycel: every node holds the entry (its change event, after its durable commit):"
	       " p50 %.1f ms (%.2f rounds), p99 %.1f ms (%.2f rounds); one node's delay: p50 %.1f "
	       "ms, p99 %.1f ms; the publish itself (ack on node 0): p50 %.1f ms\n",
	       p50, p50 / INTERVAL_MS, p99, p99 / INTERVAL_MS, pct(per, samples * n, 0.5),
	       pct(per, samples * n, 0.99), pct(ack, samples, 0.5));
	print_sorted("mycel, ms until the last node, each entry", mc, samples);
	if (m_missed > 0)
		printf("  mycel: %zu of %zu entries did not reach every node within %u ms\n",
		       m_missed, samples, WAIT_ENTRY_MS);
	fflush(stdout);
	if (serf == NULL) {
		printf("  serf: not run (--no-serf, or no serf program: apt-get install serf)\n");
		figure("convergence_mycel_p99", p99, "ms", "interval", p99 / INTERVAL_MS, "-");
	} else {
		double handler = 0;
		load_avg(la, sizeof(la));
		t0 = bench_now();
		serf_run(serf, n, samples, sf, fire, &handler, &s_missed);
		double s50 = pct(sf, samples, 0.5), s99 = pct(sf, samples, 0.99);
		printf("  serf: %zu agents (-profile=lan: gossip interval 200 ms, 3 nodes), run in "
		       "%.1f "
		       "s (load average %s at start)\n",
		       n, bench_now() - t0, la);
		printf(
		    "  serf: every agent ran its handler: p50 %.1f ms (%.2f rounds), p99 %.1f ms "
		    "(%.2f rounds); `serf event` took p50 %.1f ms before time 0; the handler "
		    "itself "
		    "(sh + date) costs %.1f ms here\n",
		    s50, s50 / INTERVAL_MS, s99, s99 / INTERVAL_MS, pct(fire, samples, 0.5),
		    handler);
		print_sorted("serf, ms until the last agent, each event", sf, samples);
		if (s_missed > 0)
			printf("  serf: %zu of %zu events did not reach every agent within %u ms\n",
			       s_missed, samples, WAIT_ENTRY_MS);
		figure("convergence_mycel_p99", p99, "ms", "serf_p50", s50 / p99,
		       ">= 5 (DESIGN §8)");
		figure("convergence_mycel_p50", p50, "ms", "serf_p50", s50 / p50, "-");
	}
	free(mc);
	free(ack);
	free(per);
	free(sf);
	free(fire);
}

/* ---- 2 and 3: a store of E entries, nodes in this process ---------------------------------- */

/* A charter of mesh "bench" admitting NFEEDS domains d0.. (keys k), signed by gov; to out. */
static void make_charter(const mycel_key *gov, mycel_key *const *k, mycel_buf *out)
{
	mycel_charter *c = NULL;
	char why[256] = "", name[16];
	int rv = mycel_charter_new("bench", 1, 1, &c);
	if (rv == 0)
		rv = mycel_charter_add_member(c, "gov", gov->pk);
	for (unsigned i = 0; i < NFEEDS && rv == 0; i++) {
		snprintf(name, sizeof(name), "d%u", i);
		rv = mycel_charter_add_domain(c, name, k[i]->pk);
	}
	if (rv == 0)
		rv = mycel_charter_sign(c, gov, why, sizeof(why));
	mycel_buf_init(out, MYCEL_CHARTER_MAX);
	if (rv == 0)
		rv = mycel_charter_encode(c, out);
	mycel_charter_free(c);
	if (rv != 0)
		die("charter", why[0] ? why : mycel_strerror(rv));
}

static mycel_store *new_store(const char *dir, const mycel_buf *ch)
{
	mycel_store *s = NULL;
	char why[256] = "";
	if (mycel_store_open(dir, MYCEL_STORE_CREATE, &s, why, sizeof(why)) != 0 ||
	    mycel_store_add_charter(s, ch->data, ch->len, why, sizeof(why)) != 0)
		die(dir, why);
	return s;
}

/* The store at base/src: total small entries (kind "bench") spread over the NFEEDS feeds. */
static void build_store(size_t total, mycel_buf *ch)
{
	char dir[300];
	mycel_key *gov = NULL, *k[NFEEDS];
	if (mycel_key_generate(&gov) != 0)
		die("key", "cannot generate");
	for (unsigned i = 0; i < NFEEDS; i++)
		if (mycel_key_generate(&k[i]) != 0)
			die("key", "cannot generate");
	make_charter(gov, k, ch);
	snprintf(dir, sizeof(dir), "%s/src", base_dir);
	mycel_store *s = new_store(dir, ch);
	enum { B = 1000 };
	static mycel_buf bodies[B];
	static mycel_record recs[B];
	for (size_t done = 0, f = 0; done < total; f = (f + 1) % NFEEDS) {
		size_t n = total - done < B ? total - done : B;
		for (size_t j = 0; j < n; j++) {
			mycel_buf_init(&bodies[j], 64);
			mycel_enc_map(&bodies[j], 1);
			mycel_enc_cstr(&bodies[j], "n");
			mycel_enc_uint(&bodies[j], done + j);
			recs[j] = (mycel_record){"bench", bodies[j].data, bodies[j].len};
		}
		int rv = mycel_store_append(s, k[f], k[f]->pk, recs, n, NULL);
		for (size_t j = 0; j < n; j++)
			mycel_buf_fini(&bodies[j]);
		if (rv != 0)
			die("append", mycel_strerror(rv));
		done += n;
	}
	mycel_store_close(s);
	mycel_key_free(gov);
	for (unsigned i = 0; i < NFEEDS; i++)
		mycel_key_free(k[i]);
}

/* A copy of base/src in base/name (the data file; LMDB makes its lock file). */
static void copy_store(const char *name, char *dir, size_t cap)
{
	char src[300], dst[400];
	snprintf(dir, cap, "%s/%s", base_dir, name);
	if (mkdir(dir, 0700) != 0)
		die(dir, strerror(errno));
	snprintf(src, sizeof(src), "%s/src/data.mdb", base_dir);
	snprintf(dst, sizeof(dst), "%s/data.mdb", dir);
	copy_file(src, dst);
}

static mycel_node *node_in(const char *dir, unsigned interval_ms, unsigned verify_threads)
{
	mycel_node_opts o;
	mycel_node *n = NULL;
	char why[512] = "";
	memset(&o, 0, sizeof(o));
	o.data = dir;
	o.listen = "tcp://127.0.0.1:0";
	o.workers = 2;
	o.admin_workers = 1;
	o.gossip.interval_ms = interval_ms;
	o.gossip.fanout = FANOUT;
	o.gossip.verify_threads = verify_threads;
	if (mycel_node_open(&o, &n, why, sizeof(why)) != 0)
		die("node", why);
	if (mycel_node_start(n) != 0)
		die("node", "cannot start");
	return n;
}

static void add_peer(mycel_node *n, const char *url)
{
	char why[256] = "";
	mycel__gossip *g = mycel__node_gossip(n);
	if (g == NULL || mycel__gossip_ops.peer_add(g, url, why, sizeof(why)) != 0)
		die("peer add", why);
}

static int sum_cb(void *ctx, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq, const uint8_t *head)
{
	(void)feed;
	(void)head;
	*(uint64_t *)ctx += seq;
	return 0;
}

static uint64_t entries_of(mycel_node *n)
{
	uint64_t sum = 0;
	if (mycel_store_feeds(mycel_node_store(n), sum_cb, &sum) != 0)
		die("store", "cannot list feeds");
	return sum;
}

#define IDLE_NODES 3u

static void bench_idle(size_t total, bool quick)
{
	char dir[300], name[16], la[64];
	mycel_node *nd[IDLE_NODES];
	for (unsigned i = 0; i < IDLE_NODES; i++) {
		snprintf(name, sizeof(name), "idle%u", i);
		copy_store(name, dir, sizeof(dir));
		nd[i] = node_in(dir, INTERVAL_MS, 1);
	}
	for (unsigned i = 0; i < IDLE_NODES; i++)
		add_peer(nd[i], mycel_node_url(nd[(i + 1) % IDLE_NODES]));
	/* warm-up: every node has had a few successful exchanges (peers learnt both ways) */
	uint64_t end = wall_ms() + 30000;
	for (;;) {
		unsigned ok = 0;
		for (unsigned i = 0; i < IDLE_NODES; i++) {
			mycel__gossip_stats st;
			mycel__gossip_stats_get(mycel__node_gossip(nd[i]), &st);
			ok += st.exchanges_ok >= 6;
		}
		if (ok == IDLE_NODES)
			break;
		if (wall_ms() > end)
			die("idle", "the nodes did not exchange within 30 s");
		pause_ms(50);
	}
	mycel__gossip_stats a[IDLE_NODES], b[IDLE_NODES];
	for (unsigned i = 0; i < IDLE_NODES; i++)
		mycel__gossip_stats_get(mycel__node_gossip(nd[i]), &a[i]);
	double t0 = bench_now();
	pause_ms(quick ? 2000 : 6000); /* the measurement window */
	double secs = bench_now() - t0;
	uint64_t bytes = 0, xs = 0, xs_ok = 0, rounds = 0, pulled = 0, pushed = 0;
	for (unsigned i = 0; i < IDLE_NODES; i++) {
		mycel__gossip_stats_get(mycel__node_gossip(nd[i]), &b[i]);
		bytes += (b[i].bytes_in + b[i].bytes_out) - (a[i].bytes_in + a[i].bytes_out);
		xs += b[i].exchanges - a[i].exchanges;
		xs_ok += b[i].exchanges_ok - a[i].exchanges_ok;
		rounds += b[i].rounds - a[i].rounds;
		pulled += b[i].pulled - a[i].pulled;
		pushed += b[i].pushed - a[i].pushed;
	}
	/* the peer table's counters, as `mycel status --json` shows them (peer_list) */
	uint64_t peer_bytes = 0;
	for (unsigned i = 0; i < IDLE_NODES; i++)
		for (unsigned j = 0; j < IDLE_NODES; j++) {
			mycel__peer_info pi;
			if (i != j && mycel__gossip_peer(mycel__node_gossip(nd[i]),
			                                 mycel_node_url(nd[j]), &pi) == 0)
				peer_bytes += pi.bytes_in + pi.bytes_out;
		}
	uint64_t all_xs = 0;
	for (unsigned i = 0; i < IDLE_NODES; i++)
		all_xs += b[i].exchanges;
	for (unsigned i = 0; i < IDLE_NODES; i++)
		mycel_node_close(nd[i]);
	if (xs == 0)
		die("idle", "no exchange in the window");
	double per = (double)bytes / (double)xs;
	load_avg(la, sizeof(la));
	printf("\nidle cost: %u nodes in this process, each holding the same %zu entries in %u "
	       "feeds, interval %u ms, fanout %u (load average %s)\n",
	       IDLE_NODES, total, NFEEDS, INTERVAL_MS, FANOUT, la);
	printf("  %.1f s: %llu rounds, %llu exchanges (%llu successful), %llu bytes; entries "
	       "pulled %llu, pushed %llu (in sync: 0)\n",
	       secs, (unsigned long long)rounds, (unsigned long long)xs, (unsigned long long)xs_ok,
	       (unsigned long long)bytes, (unsigned long long)pulled, (unsigned long long)pushed);
	printf(
	    "  bytes per peer per round (one exchange with one peer): %.1f; from the peer tables "
	    "since start: %.1f (%llu bytes, %llu exchanges)\n",
	    per, all_xs ? (double)peer_bytes / (double)all_xs : 0, (unsigned long long)peer_bytes,
	    (unsigned long long)all_xs);
	figure("idle_bytes_per_peer_round", per, "bytes", "limit_200", per / 200.0,
	       "1.0 (DESIGN §8)");
}

typedef struct vjob {
	double secs, rate;
	double cpu_rate; /* verifies per CPU-second of the thread (other load does not change it) */
	pthread_barrier_t *go;
} vjob;

static double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *verify_main(void *arg)
{
	vjob *j = arg;
	unsigned char pk[32], sk[64], msg[64][150], sig[64][64];
	crypto_sign_keypair(pk, sk);
	for (size_t i = 0; i < 64; i++) {
		randombytes_buf(msg[i], sizeof(msg[i]));
		crypto_sign_detached(sig[i], NULL, msg[i], sizeof(msg[i]), sk);
	}
	sodium_memzero(sk, sizeof(sk));
	if (j->go != NULL)
		pthread_barrier_wait(j->go);
	size_t n = 0;
	double t0 = bench_now(), c0 = thread_cpu_s(), t;
	do {
		for (size_t i = 0; i < 64; i++)
			if (crypto_sign_verify_detached(sig[i], msg[i], sizeof(msg[i]), pk) != 0)
				return NULL;
		n += 64;
	} while ((t = bench_now() - t0) < j->secs);
	double c = thread_cpu_s() - c0;
	j->rate = (double)n / t;
	j->cpu_rate = c > 0 ? (double)n / c : 0;
	return NULL;
}

/*
 * Raw verify: one thread (median of 3; *per_cpu: its verifies per CPU-second), and T
 * threads at once (their sum).
 */
static void raw_verify(unsigned T, double secs, double *one, double *par, double *per_cpu)
{
	double r[3], rc[3];
	for (int i = 0; i < 3; i++) {
		vjob j = {secs, 0, 0, NULL};
		verify_main(&j);
		r[i] = j.rate;
		rc[i] = j.cpu_rate;
	}
	*one = bench_median(r, 3);
	*per_cpu = bench_median(rc, 3);
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, T);
	vjob *js = calloc(T, sizeof(*js));
	pthread_t *ts = calloc(T, sizeof(*ts));
	if (js == NULL || ts == NULL)
		die("verify", "out of memory");
	for (unsigned i = 0; i < T; i++) {
		js[i] = (vjob){secs, 0, 0, &go};
		if (pthread_create(&ts[i], NULL, verify_main, &js[i]) != 0)
			die("verify", "cannot start a thread");
	}
	*par = 0;
	for (unsigned i = 0; i < T; i++) {
		pthread_join(ts[i], NULL);
		*par += js[i].rate;
	}
	pthread_barrier_destroy(&go);
	free(js);
	free(ts);
}

/* CPU seconds (user + system) of this process so far, every thread. */
static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

#define COLD_REPS_MAX 5

/*
 * reps cold syncs, each into a fresh node from the same source node, each between two
 * raw verify measurements (the machine is shared: its spare cores change by the second,
 * so each sync is compared with the raw rate measured around it).
 */
static void bench_cold(size_t total, const mycel_buf *ch, bool quick)
{
	char dir[300], la[64];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned T = cpus > 1 ? (unsigned)cpus : 1;
	size_t reps = quick ? 1 : 3;
	double secs_v = quick ? 0.2 : 0.5;
	double r_cores[COLD_REPS_MAX], r_par[COLD_REPS_MAX], r_cpu[COLD_REPS_MAX];
	double rates[COLD_REPS_MAX], ones[COLD_REPS_MAX], pars[COLD_REPS_MAX];
	uint64_t bytes = 0;
	copy_store("cold-src", dir, sizeof(dir));
	/* rounds far apart: the one exchange started below is the whole sync */
	mycel_node *src = node_in(dir, 3600000, 0);
	load_avg(la, sizeof(la));
	for (size_t r = 0; r < reps; r++) {
		double one_b, par_b, one_a, par_a, pc_b, pc_a;
		snprintf(dir, sizeof(dir), "%s/cold-dst%zu", base_dir, r);
		mycel_store_close(new_store(dir, ch));
		mycel_node *dst = node_in(dir, 3600000, 0);
		add_peer(dst, mycel_node_url(src));
		raw_verify(T, secs_v, &one_b, &par_b, &pc_b);
		double c0 = cpu_s(), t0 = bench_now();
		int rv =
		    mycel__gossip_exchange(mycel__node_gossip(dst), mycel_node_url(src), &bytes);
		double secs = bench_now() - t0, cpu = cpu_s() - c0;
		raw_verify(T, secs_v, &one_a, &par_a, &pc_a);
		uint64_t got = entries_of(dst);
		mycel_node_close(dst);
		if (rv != 0)
			die("cold sync", mycel_strerror(rv));
		if (got != total) {
			char m[128];
			snprintf(m, sizeof(m), "the new node holds %llu of %zu entries",
			         (unsigned long long)got, total);
			die("cold sync", m);
		}
		double one = (one_b + one_a) / 2, par = (par_b + par_a) / 2;
		rates[r] = (double)total / secs;
		ones[r] = one;
		pars[r] = par;
		r_cores[r] = rates[r] / (one * T);
		r_par[r] = rates[r] / par;
		/* entries per CPU-second (sink and source) vs verifies per CPU-second */
		r_cpu[r] = ((double)total / cpu) / ((pc_b + pc_a) / 2);
		printf(
		    "  sync %zu: %.2f s, %.0f entries/s, %.2f CPU-s; raw verify around it: %.0f/s "
		    "one thread, %.0f/s %u threads at once\n",
		    r + 1, secs, rates[r], cpu, one, par, T);
	}
	mycel_node_close(src);
	double rate = pct(rates, reps, 0.5);
	printf("\ncold sync: a new node pulls %zu entries in %u feeds from one node (both in this "
	       "process, verify_threads %u, batches of %u), %zu times (load average %s at start)\n",
	       total, NFEEDS, T, MYCEL_GOSSIP_BATCH_ENTRIES_DEFAULT, reps, la);
	printf("  median %.0f entries/s, %.1f MB on the wire each; raw Ed25519 verify: %.0f/s on "
	       "one thread (x %u = %.0f/s), %.0f/s with %u threads at once (medians)\n",
	       rate, (double)bytes / 1e6, pct(ones, reps, 0.5), T, pct(ones, reps, 0.5) * T,
	       pct(pars, reps, 0.5), T);
	figure("cold_sync", rate, "entries/s", "raw_verify_x_cores", pct(r_cores, reps, 0.5),
	       "0.8 (DESIGN §8)");
	figure("cold_sync_vs_parallel", rate, "entries/s", "raw_verify_parallel",
	       pct(r_par, reps, 0.5), "0.8 (DESIGN §8)");
	figure("cold_sync_per_cpu", rate, "entries/s", "raw_verify_per_cpu_s",
	       pct(r_cpu, reps, 0.5),
	       "- (load-independent: entries per CPU-second of both nodes / verifies per "
	       "CPU-second)");
}

/* ---- main ------------------------------------------------------------------------------------ */

/* The myceld beside this program in the build tree: DIR/../../node/myceld. */
static void default_myceld(char *out, size_t cap)
{
	char self[400];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	out[0] = '\0';
	if (n <= 0)
		return;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (slash != NULL)
		*slash = '\0';
	snprintf(out, cap, "%s/../../node/myceld", self);
}

static const char *find_serf(void)
{
	static const char *const where[] = {"/usr/bin/serf", "/usr/local/bin/serf"};
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++)
		if (access(where[i], X_OK) == 0)
			return where[i];
	return NULL;
}

int main(int argc, char **argv)
{
	bool quick = false, no_serf = false;
	size_t n = 0, samples = 0, total = 0;
	const char *only = NULL, *myceld = NULL;
	char myceld_buf[512];
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			quick = true;
		else if (strcmp(argv[i], "--no-serf") == 0)
			no_serf = true;
		else if (strcmp(argv[i], "--nodes") == 0 && i + 1 < argc)
			n = (size_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--samples") == 0 && i + 1 < argc)
			samples = (size_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--entries") == 0 && i + 1 < argc)
			total = (size_t)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
			only = argv[++i];
		else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
			node_workers = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--myceld") == 0 && i + 1 < argc)
			myceld = argv[++i];
		else {
			fprintf(stderr, "usage: bench-gossip [--quick] [--nodes N] [--samples S] "
			                "[--entries E] [--no-serf] [--only convergence|idle|cold] "
			                "[--myceld PATH] [--workers W]\n");
			return 2;
		}
	}
	if (n == 0)
		n = quick ? 8 : 64;
	if (samples == 0)
		samples = quick ? 5 : 20;
	if (total == 0)
		total = quick ? 2000 : 100000;
	if (n < 2 || n > MAXN || samples + 8 >= MAXSEQ || total < NFEEDS || node_workers < 1 ||
	    node_workers > 256) {
		fprintf(
		    stderr,
		    "bench-gossip: --nodes 2..%u, --samples below %u, --entries >= %u, --workers "
		    "1..256\n",
		    MAXN, MAXSEQ - 8, NFEEDS);
		return 2;
	}
	if (myceld == NULL) {
		default_myceld(myceld_buf, sizeof(myceld_buf));
		myceld = myceld_buf;
	}
	bool conv = only == NULL || strcmp(only, "convergence") == 0;
	bool idle = only == NULL || strcmp(only, "idle") == 0;
	bool cold = only == NULL || strcmp(only, "cold") == 0;
	if (conv && access(myceld, X_OK) != 0) {
		fprintf(stderr, "bench-gossip: no myceld at %s (--myceld PATH)\n", myceld);
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	snprintf(base_dir, sizeof(base_dir), "/tmp/mycel-bench-gossip-XXXXXX");
	if (mkdtemp(base_dir) == NULL) {
		base_dir[0] = '\0';
		die("mkdtemp", strerror(errno));
	}
	atexit(cleanup);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	bench_machine("myceld processes and serf agents on 127.0.0.1; idle and cold-sync nodes in "
	              "this process");
	const char *serf = no_serf ? NULL : find_serf();
	if (conv)
		bench_convergence(n, samples, myceld, serf);
	if (idle || cold) {
		mycel_buf ch;
		double t0 = bench_now();
		build_store(total, &ch);
		printf("\nstore: %zu entries in %u feeds, built in %.1f s\n", total, NFEEDS,
		       bench_now() - t0);
		if (idle)
			bench_idle(total, quick);
		if (cold)
			bench_cold(total, &ch, quick);
		mycel_buf_fini(&ch);
	}
	return 0;
}
