/*
 * node.c — the node (include/mycel/node.h): lock file, store, two nng rep0 sockets and
 * the worker threads that move request bytes to mycel_rpc_serve and reply bytes back.
 */
#include "mycel/node.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/reqrep0/rep.h>

#include "mycel/codec.h"
#include "mycel/domain.h"
#include "mycel/error.h"
#include "mycel/rpc.h"
#include "client_int.h"
#include "gossip.h"
#include "mesh.h"
#include "writer.h"

/* Room for nng's request header on top of the largest request envelope. */
#define NODE_RECV_SLACK 256u
/* How long a worker waits for a reply to leave before giving up on it (ms). */
#define NODE_SEND_TIMEOUT 10000
/*
 * The same on the public socket, where a reply waits only while the client's previous
 * reply is still being written: a client that does not read for this long is dropped
 * (its pipe closed, which also frees every worker queued behind it), so a slow or hostile
 * reader holds workers for at most this long instead of starving everyone else.
 */
#define NODE_PUBLIC_SEND_TIMEOUT 2000

typedef struct node_worker {
	struct mycel_node *n;
	nng_ctx ctx;
	nng_aio *aio;
	bool admin;
	bool has_ctx;
	bool started;
	/*
	 * Per worker, so that workers never contend with each other on the receive path:
	 * mu guards receiving and stop, which only the worker and mycel_node_stop touch.
	 */
	pthread_mutex_t mu;
	bool mu_init;
	bool receiving; /* waiting in recv, under mu */
	bool stop;      /* the node stops: receive no more, under mu */
	pthread_t thread;
	mycel_buf reply;
} node_worker;

struct mycel_node {
	mycel_store *store;
	mycel_domain dom;
	bool has_dom;
	mycel_key *key;          /* the domain's signing key (domain directories only) */
	pthread_mutex_t writer;  /* one writer at a time (Admin methods) */
	bool writer_init;
	mycel__writer *wq;       /* the writer thread, from mycel_node_start */
	mycel_gossip_opts gossip_opts;
	mycel__gossip *gossip;   /* the gossip engine, from mycel_node_start (NULL: off) */
	mycel__frontier *frontier; /* every feed's head, for the Mesh handlers and gossip */
	char **peers;            /* copies of opts.peers */
	size_t n_peers;
	mycel_rpc_ctx rpc;
	int lock_fd;
	char *pid_path;
	char *admin_path; /* the ipc socket file, or NULL */
	char url[MYCEL_NODE_URL_MAX + 32];
	char admin_url[MYCEL_NODE_URL_MAX + 32];
	char events_url[MYCEL_NODE_URL_MAX + 32];
	nng_socket pub, adm, ev;
	bool pub_open, adm_open, ev_open;
	node_worker *w;
	size_t n_w;
	unsigned n_admin_w;
	pthread_mutex_t mu;
	bool stopping;
	bool running;
	mycel_node_log_fn log;
	void *log_ctx;
	unsigned close_wait_ms; /* 0: unbounded */
	size_t stalled;         /* sockets the last stop left to the exit */
};

static void logf_(mycel_node *n, mycel_node_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void logf_(mycel_node *n, mycel_node_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	if (n->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n->log(n->log_ctx, level, line);
}

/* s as a logfmt quoted value (control bytes and quotes escaped), cut to fit out. */
static const char *q(const char *s, char *out, size_t cap)
{
	size_t j = 0;
	out[j++] = '"';
	for (; *s != '\0' && j + 6 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[j++] = '\\';
			out[j++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			j += (size_t)snprintf(out + j, cap - j, "\\x%02x", c);
		} else {
			out[j++] = (char)c;
		}
	}
	out[j++] = '"';
	out[j] = '\0';
	return out;
}

static void set_why(char *why, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_why(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;
	if (why == NULL || why_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
}

static char *dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *dup_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0)
		return NULL;
	char *s = malloc((size_t)len + 1);
	if (s == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)len + 1, fmt, ap);
	va_end(ap);
	return s;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- lock file ------------------------------------------------------------------------ */

static int take_lock(mycel_node *n, const char *dir, char *why, size_t why_len)
{
	n->pid_path = dup_printf("%s/%s", dir, MYCEL_NODE_PID_FILE);
	if (n->pid_path == NULL)
		return MYCEL_ENOMEM;
	int fd = open(n->pid_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		set_why(why, why_len, "%s: %s", n->pid_path, strerror(errno));
		return MYCEL_EIO;
	}
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	if (fcntl(fd, F_SETLK, &fl) != 0) {
		int e = errno;
		if (e == EAGAIN || e == EACCES) {
			char buf[32] = "";
			ssize_t r = pread(fd, buf, sizeof(buf) - 1, 0);
			buf[r > 0 ? r : 0] = '\0';
			buf[strcspn(buf, "\r\n")] = '\0';
			struct flock who = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
			long pid = 0;
			if (fcntl(fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK)
				pid = (long)who.l_pid;
			else
				pid = strtol(buf, NULL, 10);
			set_why(why, why_len,
				"%s is already served by another myceld (pid %ld, lock file %s)", dir,
				pid, n->pid_path);
			close(fd);
			free(n->pid_path);
			n->pid_path = NULL; /* not ours: never remove it */
			return MYCEL_EBUSY;
		}
		set_why(why, why_len, "%s: cannot lock: %s", n->pid_path, strerror(e));
		close(fd);
		return MYCEL_EIO;
	}
	char pid[32];
	int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != (ssize_t)len) {
		set_why(why, why_len, "%s: %s", n->pid_path, strerror(errno));
		(void)unlink(n->pid_path);
		close(fd);
		return MYCEL_EIO;
	}
	n->lock_fd = fd;
	return 0;
}

static void drop_lock(mycel_node *n)
{
	if (n->lock_fd >= 0) {
		(void)unlink(n->pid_path); /* while still holding the lock */
		close(n->lock_fd);
		n->lock_fd = -1;
	}
	free(n->pid_path);
	n->pid_path = NULL;
}

/* ---- store ---------------------------------------------------------------------------- */

static int open_store(mycel_node *n, const char *dir, char *why, size_t why_len)
{
	char path[4096];
	const char *store_path = dir;
	snprintf(path, sizeof(path), "%s/%s", dir, MYCEL_CONFIG_FILE);
	if (access(path, F_OK) == 0) {
		int rv = mycel_domain_load(dir, &n->dom, why, why_len);
		if (rv != 0)
			return rv;
		n->has_dom = true;
		store_path = n->dom.store_path;
		/* without its key the node still serves; the Admin writes are refused */
		rv = mycel_key_load(n->dom.key_path, &n->key);
		if (rv != 0) {
			char qa[1024];
			n->key = NULL;
			logf_(n, MYCEL_NODE_WARN,
			      "msg=\"no domain key: admin writes refused\" key=%s err=\"%s\"",
			      q(n->dom.key_path, qa, sizeof(qa)), mycel_strerror(rv));
		}
	} else {
		snprintf(path, sizeof(path), "%s/data.mdb", dir);
		if (access(path, F_OK) != 0) {
			set_why(why, why_len,
				"%s is neither a domain directory nor a store (run `mycel init --dir "
				"%s --domain NAME`)",
				dir, dir);
			return MYCEL_ENOTFOUND;
		}
	}
	int rv = mycel_store_open(store_path, 0, &n->store, why, why_len);
	if (rv != 0 && why != NULL && why_len > 0 && why[0] == '\0')
		set_why(why, why_len, "%s: %s", store_path, mycel_strerror(rv));
	return rv;
}

/* ---- sockets -------------------------------------------------------------------------- */

static int listen_on(mycel_node *n, nng_socket *s, bool *is_open, const char *url, bool admin,
		     char *why, size_t why_len)
{
	nng_listener l;
	int rv = nng_rep0_open(s);
	if (rv != 0) {
		set_why(why, why_len, "rep0 socket: %s", nng_strerror(rv));
		return MYCEL_EIO;
	}
	*is_open = true;
	if ((rv = nng_socket_set_size(*s, NNG_OPT_RECVMAXSZ,
				      MYCEL_RPC_REQUEST_MAX + NODE_RECV_SLACK)) != 0 ||
	    (rv = nng_listener_create(&l, *s, url)) != 0) {
		set_why(why, why_len, "%s: %s", url, nng_strerror(rv));
		return rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP ? MYCEL_EINVAL : MYCEL_EIO;
	}
	if (admin && (rv = nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, 0600)) != 0) {
		set_why(why, why_len, "%s: cannot set permissions: %s", url, nng_strerror(rv));
		return MYCEL_EIO;
	}
	if ((rv = nng_listener_start(l, 0)) != 0) {
		set_why(why, why_len, "%s: cannot listen: %s", url, nng_strerror(rv));
		return MYCEL_EIO;
	}
	if (!admin && strncmp(url, "tcp", 3) == 0) {
		int port = 0;
		if (nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port) == 0) {
			/* tcp://HOST:PORT — replace the port with the one bound */
			const char *colon = strrchr(url, ':');
			int host_len = (int)(colon - url);
			snprintf(n->url, sizeof(n->url), "%.*s:%d", host_len, url, port);
		}
	}
	return 0;
}

/* The change-stream socket: pub0, listening on url; events_url gets the bound port. */
static int listen_events(mycel_node *n, const char *url, char *why, size_t why_len)
{
	nng_listener l;
	int rv = nng_pub0_open(&n->ev);
	if (rv != 0) {
		set_why(why, why_len, "pub0 socket: %s", nng_strerror(rv));
		return MYCEL_EIO;
	}
	n->ev_open = true;
	if ((rv = nng_listener_create(&l, n->ev, url)) != 0) {
		set_why(why, why_len, "--events %s: %s", url, nng_strerror(rv));
		return rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP ? MYCEL_EINVAL : MYCEL_EIO;
	}
	if ((rv = nng_listener_start(l, 0)) != 0) {
		set_why(why, why_len, "--events %s: cannot listen: %s", url, nng_strerror(rv));
		return MYCEL_EIO;
	}
	snprintf(n->events_url, sizeof(n->events_url), "%s", url);
	int port = 0;
	if (nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port) == 0) {
		const char *colon = strrchr(url, ':');
		int host_len = (int)(colon - url);
		snprintf(n->events_url, sizeof(n->events_url), "%.*s:%d", host_len, url, port);
	}
	return 0;
}

/* The rpc change hook: one canonical event map on the pub0 socket; never blocks. */
static void on_change(void *arg, const mycel_rpc_change *ch)
{
	mycel_node *n = arg;
	uint8_t mem[1024];
	mycel_buf b;
	if (!n->ev_open)
		return;
	mycel_buf_init_fixed(&b, mem, sizeof(mem));
	mycel_enc_map(&b, 7); /* keys in bytewise order */
	mycel_enc_cstr(&b, "domain");
	mycel_enc_cstr(&b, ch->domain);
	mycel_enc_cstr(&b, "feed");
	mycel_enc_bin(&b, ch->entry->h.feed, sizeof(ch->entry->h.feed));
	mycel_enc_cstr(&b, "id");
	mycel_enc_cstr(&b, ch->id);
	mycel_enc_cstr(&b, "kind");
	mycel_enc_cstr(&b, ch->entry->h.kind);
	mycel_enc_cstr(&b, "seq");
	mycel_enc_uint(&b, ch->entry->h.seq);
	mycel_enc_cstr(&b, "status");
	mycel_enc_cstr(&b, ch->status);
	mycel_enc_cstr(&b, "version");
	mycel_enc_cstr(&b, ch->version);
	if (b.err != 0) {
		logf_(n, MYCEL_NODE_WARN, "msg=\"change event not built\" err=\"%s\"",
		      mycel_strerror(b.err));
		return;
	}
	/* pub0 never waits for subscribers: a slow one just misses messages */
	int rv = nng_send(n->ev, b.data, b.len, NNG_FLAG_NONBLOCK);
	if (rv != 0)
		logf_(n, MYCEL_NODE_WARN, "msg=\"change event dropped\" err=\"%s\"",
		      nng_strerror(rv));
}

/* ---- workers -------------------------------------------------------------------------- */

/* Receives one request on w's context; false when the node stops or the socket closed. */
static bool worker_recv(node_worker *w, nng_msg **out)
{
	mycel_node *n = w->n;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		if (w->stop) {
			pthread_mutex_unlock(&w->mu);
			return false;
		}
		nng_ctx_recv(w->ctx, w->aio);
		w->receiving = true;
		pthread_mutex_unlock(&w->mu);
		nng_aio_wait(w->aio);
		pthread_mutex_lock(&w->mu);
		w->receiving = false;
		pthread_mutex_unlock(&w->mu);
		int rv = nng_aio_result(w->aio);
		if (rv == 0) {
			*out = nng_aio_get_msg(w->aio);
			return true;
		}
		if (rv == NNG_ECLOSED)
			return false;
		if (rv != NNG_ECANCELED)
			logf_(n, MYCEL_NODE_WARN, "msg=\"receive failed\" err=\"%s\" admin=%s",
			      nng_strerror(rv), w->admin ? "true" : "false");
	}
}

/* Sends w->reply on w's context; p is the pipe the request came from. */
static void worker_reply(node_worker *w, nng_pipe p)
{
	mycel_node *n = w->n;
	nng_msg *m;
	int rv = nng_msg_alloc(&m, w->reply.len);
	if (rv != 0) {
		logf_(n, MYCEL_NODE_ERROR, "msg=\"reply dropped\" err=\"%s\"", nng_strerror(rv));
		return;
	}
	if (w->reply.len > 0)
		memcpy(nng_msg_body(m), w->reply.data, w->reply.len);
	nng_aio_set_msg(w->aio, m);
	nng_aio_set_timeout(w->aio, w->admin ? NODE_SEND_TIMEOUT : NODE_PUBLIC_SEND_TIMEOUT);
	nng_ctx_send(w->ctx, w->aio);
	nng_aio_wait(w->aio);
	nng_aio_set_timeout(w->aio, NNG_DURATION_INFINITE);
	if ((rv = nng_aio_result(w->aio)) != 0) {
		nng_msg_free(nng_aio_get_msg(w->aio));
		if (rv == NNG_ETIMEDOUT && !w->admin) {
			char peer[64] = "?";
			nng_sockaddr sa;
			if (nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) == 0 &&
			    sa.s_family == NNG_AF_INET) {
				const uint8_t *a = (const uint8_t *)&sa.s_in.sa_addr;
				const uint8_t *port = (const uint8_t *)&sa.s_in.sa_port;
				snprintf(peer, sizeof(peer), "%u.%u.%u.%u:%u", a[0], a[1], a[2],
					 a[3], (unsigned)port[0] << 8 | port[1]);
			}
			/* logged before the close, so whoever sees the close finds the line */
			logf_(n, MYCEL_NODE_WARN,
			      "msg=\"slow client dropped\" peer=%s pipe=%d waited_ms=%d", peer,
			      nng_pipe_id(p), NODE_PUBLIC_SEND_TIMEOUT);
			nng_pipe_close(p);
		} else if (rv != NNG_ECLOSED) {
			logf_(n, MYCEL_NODE_WARN, "msg=\"reply not sent\" err=\"%s\"",
			      nng_strerror(rv));
		}
	}
}

static void *worker_main(void *arg)
{
	node_worker *w = arg;
	mycel_node *n = w->n;
	nng_msg *m;
	while (worker_recv(w, &m)) {
		int rv = mycel_rpc_serve_ctx(&n->rpc, nng_msg_body(m), nng_msg_len(m), w->admin,
					     now_ms(), &w->reply);
		nng_pipe p = nng_msg_get_pipe(m);
		nng_msg_free(m);
		if (rv != 0) {
			logf_(n, MYCEL_NODE_ERROR, "msg=\"no reply\" err=\"%s\"",
			      mycel_strerror(rv));
			continue;
		}
		worker_reply(w, p);
	}
	return NULL;
}

/* ---- public --------------------------------------------------------------------------- */

int mycel_node_open(const mycel_node_opts *o, mycel_node **out, char *why, size_t why_len)
{
	char qa[MYCEL_NODE_URL_MAX + 64], qb[MYCEL_NODE_URL_MAX + 64];
	if (why != NULL && why_len > 0)
		why[0] = '\0';
	if (o == NULL || out == NULL || o->data == NULL || o->data[0] == '\0') {
		set_why(why, why_len, "no data directory given");
		return MYCEL_EINVAL;
	}
	const char *listen = o->listen ? o->listen : MYCEL_NODE_LISTEN_DEFAULT;
	unsigned workers = o->workers ? o->workers : MYCEL_NODE_WORKERS_DEFAULT;
	unsigned admin_workers =
	    o->admin_workers ? o->admin_workers : MYCEL_NODE_ADMIN_WORKERS_DEFAULT;
	if (workers > MYCEL_NODE_WORKERS_MAX || admin_workers > MYCEL_NODE_WORKERS_MAX) {
		set_why(why, why_len, "at most %u workers", MYCEL_NODE_WORKERS_MAX);
		return MYCEL_EINVAL;
	}
	if (o->n_peers > MYCEL_NODE_PEERS_MAX || (o->n_peers > 0 && o->peers == NULL)) {
		set_why(why, why_len, "at most %u peers", MYCEL_NODE_PEERS_MAX);
		return MYCEL_EINVAL;
	}
	for (size_t i = 0; i < o->n_peers; i++) {
		if (o->peers[i] == NULL || o->peers[i][0] == '\0' ||
		    strlen(o->peers[i]) > MYCEL_NODE_URL_MAX) {
			set_why(why, why_len, "--peer %zu: empty, or longer than %u bytes", i + 1,
				MYCEL_NODE_URL_MAX);
			return MYCEL_EINVAL;
		}
	}
	if (strlen(listen) > MYCEL_NODE_URL_MAX ||
	    (o->admin != NULL && strlen(o->admin) > MYCEL_NODE_URL_MAX) ||
	    strlen(o->data) > MYCEL_NODE_URL_MAX - 32) {
		set_why(why, why_len, "URL or path too long (at most %u bytes)", MYCEL_NODE_URL_MAX);
		return MYCEL_EINVAL;
	}
	if (o->admin != NULL && strncmp(o->admin, "ipc://", 6) != 0) {
		set_why(why, why_len, "--admin %s: the admin socket must be an ipc:// URL",
			o->admin);
		return MYCEL_EINVAL;
	}
	if (o->events != NULL &&
	    (strlen(o->events) > MYCEL_NODE_URL_MAX || strncmp(o->events, "tcp", 3) != 0)) {
		set_why(why, why_len, "--events %s: expected a tcp:// URL", o->events);
		return MYCEL_EINVAL;
	}
	if (mycel_gossip_opts_check(&o->gossip, why, why_len) != 0)
		return MYCEL_EINVAL;
	for (size_t i = 0; i < o->n_peers && !o->gossip.off; i++) {
		char pw[600];
		if (mycel__gossip_url_check(o->peers[i], pw, sizeof(pw)) != 0) {
			set_why(why, why_len, "--peer %zu: %s", i + 1, pw);
			return MYCEL_EINVAL;
		}
	}
	if (strncmp(listen, "tcp", 3) != 0 && strncmp(listen, "ipc://", 6) != 0 &&
	    strncmp(listen, "tls+tcp", 7) != 0) {
		set_why(why, why_len, "--listen %s: expected a tcp:// URL", listen);
		return MYCEL_EINVAL;
	}

	mycel_node *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return MYCEL_ENOMEM;
	n->lock_fd = -1;
	n->log = o->log;
	n->log_ctx = o->log_ctx;
	n->close_wait_ms = o->close_wait_ms;
	n->gossip_opts = o->gossip;
	if (pthread_mutex_init(&n->mu, NULL) != 0) {
		free(n);
		return MYCEL_ENOMEM;
	}
	int rv;
	if ((rv = take_lock(n, o->data, why, why_len)) != 0)
		goto fail;
	if ((rv = open_store(n, o->data, why, why_len)) != 0)
		goto fail;
	if (n->has_dom) {
		/* a key rotation that a crash interrupted: finish it (or undo it) before serving */
		bool done = false;
		char w2[512] = "", qk[1024];
		int kr = mycel_domain_key_recover(&n->dom, n->store, &done, w2, sizeof(w2));
		if (kr != 0 && kr != MYCEL_ENOTFOUND)
			logf_(n, MYCEL_NODE_WARN, "msg=\"key rotation not finished\" err=\"%s\"", w2);
		if (done) {
			mycel_key_free(n->key);
			n->key = NULL;
			if (mycel_key_load(n->dom.key_path, &n->key) != 0)
				n->key = NULL;
			logf_(n, MYCEL_NODE_INFO, "msg=\"finished an interrupted key rotation\" key=%s",
			      q(n->dom.key_path, qk, sizeof(qk)));
		}
	}
	if (pthread_mutex_init(&n->writer, NULL) != 0) {
		rv = MYCEL_ENOMEM;
		goto fail;
	}
	n->writer_init = true;
	n->rpc.store = n->store;
	n->rpc.key = n->key;
	n->rpc.key_path = n->has_dom && n->key != NULL ? n->dom.key_path : NULL;
	n->rpc.domain = n->has_dom && n->key != NULL ? n->dom.name : NULL;
	n->rpc.writer = &n->writer;
	if (o->n_peers > 0) {
		n->peers = calloc(o->n_peers, sizeof(*n->peers));
		if (n->peers == NULL) {
			rv = MYCEL_ENOMEM;
			goto fail;
		}
		for (size_t i = 0; i < o->n_peers; i++, n->n_peers++)
			if ((n->peers[i] = strdup(o->peers[i])) == NULL) {
				rv = MYCEL_ENOMEM;
				goto fail;
			}
	}
	n->rpc.peers = (const char *const *)n->peers;
	n->rpc.n_peers = n->n_peers;

	snprintf(n->url, sizeof(n->url), "%s", listen);
	if (o->admin != NULL)
		snprintf(n->admin_url, sizeof(n->admin_url), "%s", o->admin);
	else
		snprintf(n->admin_url, sizeof(n->admin_url), "ipc://%s/%s", o->data,
			 MYCEL_NODE_ADMIN_SOCK);
	/* We hold the lock: a socket file left by a daemon that died is stale. */
	n->admin_path = strdup(n->admin_url + 6);
	if (n->admin_path == NULL) {
		rv = MYCEL_ENOMEM;
		goto fail;
	}
	struct stat st;
	if (lstat(n->admin_path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(n->admin_path);

	if ((rv = listen_on(n, &n->pub, &n->pub_open, listen, false, why, why_len)) != 0 ||
	    (rv = listen_on(n, &n->adm, &n->adm_open, n->admin_url, true, why, why_len)) != 0)
		goto fail;
	if (o->events != NULL) {
		if ((rv = listen_events(n, o->events, why, why_len)) != 0)
			goto fail;
		n->rpc.on_change = on_change;
		n->rpc.on_change_arg = n;
	}
	if ((rv = mycel__frontier_open(n->store, &n->frontier)) != 0) {
		set_why(why, why_len, "frontier: %s", mycel_strerror(rv));
		goto fail;
	}
	n->rpc.frontier = n->frontier;

	n->n_admin_w = admin_workers;
	n->n_w = (size_t)workers + admin_workers; /* the last admin_workers serve the admin socket */
	n->w = calloc(n->n_w, sizeof(*n->w));
	if (n->w == NULL) {
		rv = MYCEL_ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n->n_w; i++) {
		node_worker *w = &n->w[i];
		w->n = n;
		w->admin = i >= (size_t)workers;
		mycel_buf_init(&w->reply, MYCEL_NODE_REPLY_MAX);
		if (pthread_mutex_init(&w->mu, NULL) != 0) {
			rv = MYCEL_ENOMEM;
			goto fail;
		}
		w->mu_init = true;
		int e = nng_aio_alloc(&w->aio, NULL, NULL);
		if (e == 0 && (e = nng_ctx_open(&w->ctx, w->admin ? n->adm : n->pub)) == 0)
			w->has_ctx = true;
		if (e != 0) {
			set_why(why, why_len, "worker context: %s", nng_strerror(e));
			rv = e == NNG_ENOMEM ? MYCEL_ENOMEM : MYCEL_EIO;
			goto fail;
		}
	}
	logf_(n, MYCEL_NODE_INFO, "msg=\"store open\" data=%s domain=%s",
	      q(o->data, qa, sizeof(qa)), q(n->has_dom ? n->dom.name : "", qb, sizeof(qb)));
	logf_(n, MYCEL_NODE_INFO, "msg=\"listening\" url=%s", q(n->url, qa, sizeof(qa)));
	logf_(n, MYCEL_NODE_INFO, "msg=\"listening\" admin=%s", q(n->admin_url, qa, sizeof(qa)));
	if (n->ev_open)
		logf_(n, MYCEL_NODE_INFO, "msg=\"listening\" events=%s",
		      q(n->events_url, qa, sizeof(qa)));
	*out = n;
	return 0;
fail:
	mycel_node_close(n);
	return rv;
}

int mycel_node_start(mycel_node *n)
{
	if (n == NULL || n->running || n->wq != NULL)
		return MYCEL_EINVAL;
	int rv;
	if (!n->gossip_opts.off) {
		/* the engine's hooks go into the context before the writer copies it */
		mycel__gossip_env env = {.ctx = &n->rpc, .log = n->log, .log_ctx = n->log_ctx};
		char why[256] = "";
		n->rpc.self_url = n->url;
		rv = mycel__gossip_new(&n->gossip_opts, &env, (const char *const *)n->peers,
				       n->n_peers, &n->gossip, why, sizeof(why));
		if (rv != 0) {
			char qa[300];
			logf_(n, MYCEL_NODE_ERROR, "msg=\"gossip not started\" err=%s",
			      q(why[0] ? why : mycel_strerror(rv), qa, sizeof(qa)));
			return rv;
		}
		n->rpc.mesh_ops = &mycel__gossip_ops;
		n->rpc.mesh_arg = n->gossip;
	}
	rv = mycel__writer_start(&n->rpc, &n->wq);
	if (rv != 0)
		goto fail_gossip;
	n->rpc.wq = n->wq; /* before the workers start: they read it */
	struct timespec now;
	(void)clock_gettime(CLOCK_REALTIME, &now);
	n->rpc.started_ms = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
	for (size_t i = 0; i < n->n_w; i++) {
		if (pthread_create(&n->w[i].thread, NULL, worker_main, &n->w[i]) != 0) {
			n->running = true;
			mycel_node_stop(n);
			return MYCEL_EIO;
		}
		n->w[i].started = true;
	}
	if (n->gossip != NULL && (rv = mycel__gossip_start(n->gossip)) != 0) {
		n->running = true;
		mycel_node_stop(n);
		return rv;
	}
	n->running = true;
	logf_(n, MYCEL_NODE_INFO,
	      "msg=\"serving\" workers=%zu admin_workers=%zu peers=%zu gossip=%s",
	      n->n_w - (size_t)n->n_admin_w, (size_t)n->n_admin_w, n->n_peers,
	      n->gossip != NULL ? "on" : "off");
	return 0;
fail_gossip:
	n->rpc.mesh_ops = NULL;
	n->rpc.mesh_arg = NULL;
	mycel__gossip_free(n->gossip);
	n->gossip = NULL;
	return rv;
}

struct mycel__gossip *mycel__node_gossip(const mycel_node *n) { return n->gossip; }

const char *mycel_node_url(const mycel_node *n) { return n->url; }

const char *mycel_node_admin_url(const mycel_node *n) { return n->admin_url; }

const char *mycel_node_events_url(const mycel_node *n)
{
	return n->events_url[0] != '\0' ? n->events_url : NULL;
}

mycel_store *mycel_node_store(const mycel_node *n) { return n->store; }

void mycel_node_write_stats_get(const mycel_node *n, mycel_node_write_stats *out)
{
	mycel__writer_stats st;
	memset(out, 0, sizeof(*out));
	if (n == NULL || n->wq == NULL)
		return;
	mycel__writer_stats_get(n->wq, &st);
	out->requests = st.requests;
	out->commits = st.commits;
	out->batches = st.batches;
	out->max_batch = st.max_batch;
	out->queued = st.queued;
}

void mycel_node_hold_writes(mycel_node *n, bool hold)
{
	if (n != NULL && n->wq != NULL)
		mycel__writer_hold(n->wq, hold);
}

int mycel_node_wait_queued(mycel_node *n, size_t k, unsigned timeout_ms)
{
	if (n == NULL || n->wq == NULL)
		return MYCEL_EINVAL;
	return mycel__writer_wait_queued(n->wq, k, timeout_ms);
}

void mycel_node_stop(mycel_node *n)
{
	if (n == NULL)
		return;
	/* gossip first: its calls in flight are aborted and nothing new is pushed */
	mycel__gossip_stop(n->gossip);
	pthread_mutex_lock(&n->mu);
	n->stopping = true;
	for (size_t i = 0; i < n->n_w; i++) {
		node_worker *w = &n->w[i];
		if (!w->mu_init)
			continue;
		pthread_mutex_lock(&w->mu);
		w->stop = true;
		if (w->receiving)
			nng_aio_cancel(w->aio);
		pthread_mutex_unlock(&w->mu);
	}
	pthread_mutex_unlock(&n->mu);
	/* workers waiting for the writer must get their answer before they can be joined */
	if (n->wq != NULL)
		mycel__writer_hold(n->wq, false);
	for (size_t i = 0; i < n->n_w; i++) {
		if (n->w[i].started) {
			pthread_join(n->w[i].thread, NULL);
			n->w[i].started = false;
		}
	}
	/* no worker submits any more: what the writer still holds completes, then it ends */
	mycel__writer_stop(n->wq);
	for (size_t i = 0; i < n->n_w; i++) {
		node_worker *w = &n->w[i];
		if (w->has_ctx) {
			nng_ctx_close(w->ctx);
			w->has_ctx = false;
		}
		if (w->aio != NULL) {
			nng_aio_free(w->aio);
			w->aio = NULL;
		}
	}
	/*
	 * The sockets close at once, within close_wait_ms if set (client_int.h: nng 1.5 can
	 * hang for good when a peer reconnects at that moment); one that has not finished by
	 * then is left behind.
	 * The events socket closes after the workers: no write reports a change any more.
	 */
	mycel__closer *k[3] = {NULL, NULL, NULL};
	static const char *const names[3] = {"public", "events", "admin"};
	uint64_t end = n->close_wait_ms ? mycel__mono_ms() + n->close_wait_ms : UINT64_MAX;
	if (n->close_wait_ms == 0) {
		/* in-process: one after the other, every socket closed before we return */
		if (n->pub_open)
			nng_close(n->pub);
		if (n->ev_open)
			nng_close(n->ev);
		if (n->adm_open)
			nng_close(n->adm);
	} else {
		if (n->pub_open)
			k[0] = mycel__close_start(n->pub);
		if (n->ev_open)
			k[1] = mycel__close_start(n->ev);
		if (n->adm_open)
			k[2] = mycel__close_start(n->adm);
	}
	n->stalled += mycel__gossip_close_clients(n->gossip, end); /* the same second */
	for (size_t i = 0; i < 3; i++)
		if (!mycel__close_wait(k[i], end)) {
			n->stalled++;
			logf_(n, MYCEL_NODE_WARN,
			      "msg=\"socket close stalled\" socket=%s", names[i]);
		}
	if (n->adm_open && n->admin_path != NULL)
		(void)unlink(n->admin_path);
	n->pub_open = n->ev_open = n->adm_open = false;
	if (n->running)
		logf_(n, MYCEL_NODE_INFO, "msg=\"stopped\"");
	n->running = false;
}

size_t mycel_node_stalled(const mycel_node *n)
{
	return n != NULL ? n->stalled : 0;
}

void mycel_node_close(mycel_node *n)
{
	if (n == NULL)
		return;
	mycel_node_stop(n);
	for (size_t i = 0; i < n->n_w; i++) {
		mycel_buf_fini(&n->w[i].reply);
		if (n->w[i].mu_init)
			pthread_mutex_destroy(&n->w[i].mu);
	}
	free(n->w);
	mycel__writer_free(n->wq);
	mycel__gossip_free(n->gossip); /* after the writer: its commit hook points here */
	mycel__frontier_free(n->frontier);
	for (size_t i = 0; i < n->n_peers; i++)
		free(n->peers[i]);
	free(n->peers);
	mycel_store_close(n->store);
	mycel_key_free(n->key);
	if (n->writer_init)
		pthread_mutex_destroy(&n->writer);
	if (n->has_dom)
		mycel_domain_fini(&n->dom);
	drop_lock(n);
	free(n->admin_path);
	pthread_mutex_destroy(&n->mu);
	free(n);
}
