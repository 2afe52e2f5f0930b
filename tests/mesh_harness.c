/*
 * tests/mesh_harness.c — a mesh of real myceld processes on loopback (mesh_harness.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ftw.h>
#include <sodium.h>

#include "mycel/charter.h"
#include "mycel/domain.h"
#include "mycel/error.h"
#include "mycel/rpc.h"

#include "mesh_harness.h"

#define MH_PIDS_MAX 256
/* How long a node may take to stop on SIGTERM (× scale): generous, for a loaded machine. */
#define MH_STOP_MS 20000u

/* Every process a mesh started and did not reap yet (for mh_kill_all). */
static pid_t live_pids[MH_PIDS_MAX];
static bool atexit_done;

static void pid_add(pid_t p)
{
	for (size_t i = 0; i < MH_PIDS_MAX; i++)
		if (live_pids[i] == 0) {
			live_pids[i] = p;
			return;
		}
}

static void pid_del(pid_t p)
{
	for (size_t i = 0; i < MH_PIDS_MAX; i++)
		if (live_pids[i] == p)
			live_pids[i] = 0;
}

void mh_kill_all(void)
{
	for (size_t i = 0; i < MH_PIDS_MAX; i++)
		if (live_pids[i] > 0) {
			kill(live_pids[i], SIGKILL);
			(void)waitpid(live_pids[i], NULL, 0);
			live_pids[i] = 0;
		}
}

static int fail(mh_mesh *m, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(mh_mesh *m, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->err, sizeof(m->err), fmt, ap);
	va_end(ap);
	return code;
}

unsigned mh_scale(void)
{
	const char *s = getenv("MESH_SCALE");
	if (s != NULL) {
		long v = strtol(s, NULL, 10);
		if (v >= 1 && v <= 50)
			return (unsigned)v;
	}
#if defined(__SANITIZE_ADDRESS__)
	return 4;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	return 4;
#endif
#endif
	return 1;
}

uint64_t mh_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The wall clock (deadlines sent in requests are absolute unix ms). */
static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void nap_ms(unsigned ms)
{
	struct timespec d = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
	while (nanosleep(&d, &d) != 0 && errno == EINTR)
		;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return MYCEL_EIO;
	size_t n = strlen(text);
	bool ok = fwrite(text, 1, n, f) == n;
	if (fclose(f) != 0)
		ok = false;
	return ok ? 0 : MYCEL_EIO;
}

/* Runs argv to completion (stdout and stderr to /dev/null), bounded: its exit status or -1. */
static int run_status(char *const *argv, unsigned ms)
{
	pid_t p = fork();
	if (p < 0)
		return -1;
	if (p == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	uint64_t end = mh_now_ms() + ms;
	int st = 0;
	for (;;) {
		pid_t r = waitpid(p, &st, WNOHANG);
		if (r == p)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		if (r < 0 || mh_now_ms() >= end) {
			kill(p, SIGKILL);
			(void)waitpid(p, NULL, 0);
			return -1;
		}
		nap_ms(10);
	}
}

/* The configuration file of node i: its domain directory, ports, and gossip settings. */
static int write_config(mh_mesh *m, size_t i, const char *listen, const char *path, bool gossip)
{
	char text[2048];
	int w = snprintf(text, sizeof(text),
	                 "data: %s\nlisten: %s\nadmin: ipc://%s/admin.sock\nworkers: 2\n"
	                 "admin_workers: 1\nlog_level: info\n",
	                 m->nodes[i].dir, listen, m->nodes[i].dir);
	if (w < 0 || (size_t)w >= sizeof(text))
		return MYCEL_ETOOBIG;
	if (gossip) {
		/* Short interval and backoff so that a healed node is retried within a second. */
		int g = snprintf(text + w, sizeof(text) - (size_t)w,
		                 "gossip:\n  interval_ms: %u\n  fanout: %u\n  rpc_timeout_ms: %u\n"
		                 "  backoff_max_ms: %u\n",
		                 m->interval_ms, m->fanout ? m->fanout : 3u,
		                 m->rpc_timeout_ms ? m->rpc_timeout_ms : 1000u,
		                 m->backoff_max_ms ? m->backoff_max_ms : m->interval_ms * 5);
		if (g < 0 || (size_t)g >= sizeof(text) - (size_t)w)
			return MYCEL_ETOOBIG;
		w += g;
		g = snprintf(text + w, sizeof(text) - (size_t)w, "%s", m->gossip_extra);
		if (g < 0 || (size_t)g >= sizeof(text) - (size_t)w)
			return MYCEL_ETOOBIG;
	}
	return write_file(path, text);
}

int mh_mesh_new(const char *myceld, size_t n, unsigned interval_ms, mh_mesh **out, char *why,
                size_t why_len)
{
	mh_mesh *m = NULL;
	mycel_charter *c = NULL;
	mycel_buf file;
	int rv = MYCEL_ENOMEM;
	mycel_buf_init(&file, MYCEL_CHARTER_MAX);
	if (why != NULL && why_len > 0)
		why[0] = '\0';
	if (n == 0 || n > 100 || myceld == NULL || out == NULL)
		return MYCEL_EINVAL;
	if (!atexit_done) {
		atexit(mh_kill_all);
		atexit_done = true;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		goto fail;
	m->nodes = calloc(n, sizeof(*m->nodes));
	m->keys = calloc(n, sizeof(*m->keys));
	if (m->nodes == NULL || m->keys == NULL)
		goto fail;
	m->n = n;
	m->myceld = myceld;
	m->interval_ms = interval_ms ? interval_ms : 150;
	snprintf(m->base, sizeof(m->base), "/tmp/mycel-mesh-XXXXXX");
	if (mkdtemp(m->base) == NULL) {
		rv = fail(m, MYCEL_EIO, "mkdtemp: %s", strerror(errno));
		m->base[0] = '\0';
		goto fail;
	}
	if ((rv = mycel_key_generate(&m->gov)) != 0)
		goto fail;
	if ((rv = mycel_charter_new("meshtest", 1, 1, &c)) != 0 ||
	    (rv = mycel_charter_add_member(c, "gov", m->gov->pk)) != 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		mh_node *nd = &m->nodes[i];
		snprintf(nd->name, sizeof(nd->name), "d%02zu", i);
		if ((rv = mycel_key_generate(&m->keys[i])) != 0)
			goto fail;
		memcpy(nd->feed, m->keys[i]->pk, MYCEL_PK_LEN);
		if ((rv = mycel_charter_add_domain(c, nd->name, nd->feed)) != 0)
			goto fail;
	}
	if ((rv = mycel_charter_sign(c, m->gov, m->err, sizeof(m->err))) != 0 ||
	    (rv = mycel_charter_digest(c, m->mesh_id)) != 0 ||
	    (rv = mycel_charter_encode(c, &file)) != 0)
		goto fail;
	snprintf(m->charter, sizeof(m->charter), "%s/charter.mcc", m->base);
	{
		FILE *f = fopen(m->charter, "wb");
		if (f == NULL || fwrite(file.data, 1, file.len, f) != file.len) {
			if (f != NULL)
				fclose(f);
			rv = fail(m, MYCEL_EIO, "cannot write %s", m->charter);
			goto fail;
		}
		if (fclose(f) != 0) {
			rv = fail(m, MYCEL_EIO, "cannot write %s", m->charter);
			goto fail;
		}
	}
	for (size_t i = 0; i < n; i++) {
		mh_node *nd = &m->nodes[i];
		char key[MH_PATH_MAX];
		snprintf(nd->dir, sizeof(nd->dir), "%s/%s", m->base, nd->name);
		snprintf(nd->config, sizeof(nd->config), "%s/%s.yaml", m->base, nd->name);
		snprintf(nd->log, sizeof(nd->log), "%s/%s.log", m->base, nd->name);
		snprintf(key, sizeof(key), "%s/%s.key", m->base, nd->name);
		if ((rv = mycel_key_save(m->keys[i], key)) != 0) {
			fail(m, rv, "cannot save %s", key);
			goto fail;
		}
		mycel_domain_opts o = {
		    .dir = nd->dir, .name = nd->name, .key_file = key, .charter_file = m->charter};
		if ((rv = mycel_domain_init(&o, m->err, sizeof(m->err))) != 0)
			goto fail;
	}
	/* Does this myceld take a gossip: section? Its configuration loader refuses unknown keys.
	 */
	{
		char probe[MH_PATH_MAX];
		snprintf(probe, sizeof(probe), "%s/probe.yaml", m->base);
		if ((rv = write_config(m, 0, "tcp://127.0.0.1:0", probe, true)) != 0)
			goto fail;
		char *argv[] = {(char *)myceld, "--config", probe, "--print-config", NULL};
		m->gossip = run_status(argv, 10000 * mh_scale()) == 0;
		unlink(probe);
	}
	for (size_t i = 0; i < n; i++)
		if ((rv = write_config(m, i, "tcp://127.0.0.1:0", m->nodes[i].config, m->gossip)) !=
		    0)
			goto fail;
	mycel_charter_free(c);
	mycel_buf_fini(&file);
	*out = m;
	return 0;
fail:
	if (why != NULL && why_len > 0 && m != NULL)
		snprintf(why, why_len, "%s: %s", mycel_errname(rv), m->err);
	mycel_charter_free(c);
	mycel_buf_fini(&file);
	mh_mesh_free(m, false);
	return rv;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void mh_mesh_free(mh_mesh *m, bool keep)
{
	if (m == NULL)
		return;
	for (size_t i = 0; m->nodes != NULL && i < m->n; i++) {
		(void)mh_stop(m, i);
		mycel_client_close(m->nodes[i].pub);
	}
	for (size_t i = 0; m->keys != NULL && i < m->n; i++)
		mycel_key_free(m->keys[i]);
	mycel_key_free(m->gov);
	if (m->base[0] != '\0') {
		if (keep || getenv("MESH_KEEP") != NULL)
			fprintf(stderr, "mesh files kept in %s\n", m->base);
		else
			(void)nftw(m->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	}
	free(m->nodes);
	free(m->keys);
	free(m);
}

int mh_configure(mh_mesh *m, const char *lines)
{
	if (strlen(lines) >= sizeof(m->gossip_extra))
		return fail(m, MYCEL_ETOOBIG, "gossip settings too long");
	snprintf(m->gossip_extra, sizeof(m->gossip_extra), "%s", lines);
	for (size_t i = 0; i < m->n; i++) {
		int rv = write_config(m, i, "tcp://127.0.0.1:0", m->nodes[i].config, m->gossip);
		if (rv != 0)
			return fail(m, rv, "cannot write %s", m->nodes[i].config);
	}
	return 0;
}

size_t mh_log_count(const mh_mesh *m, size_t i, const char *s1, const char *s2)
{
	char line[4096];
	size_t k = 0;
	FILE *f = fopen(m->nodes[i].log, "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, s1) != NULL && (s2 == NULL || strstr(line, s2) != NULL))
			k++;
	fclose(f);
	return k;
}

void mh_log_tail(const mh_mesh *m, size_t i, char *buf, size_t cap)
{
	buf[0] = '\0';
	FILE *f = fopen(m->nodes[i].log, "r");
	if (f == NULL || cap < 2)
		goto done;
	if (fseek(f, 0, SEEK_END) == 0) {
		long sz = ftell(f);
		long from = sz > (long)cap - 1 ? sz - ((long)cap - 1) : 0;
		if (fseek(f, from, SEEK_SET) == 0) {
			size_t got = fread(buf, 1, cap - 1, f);
			buf[got] = '\0';
		}
	}
done:
	if (f != NULL)
		fclose(f);
}

bool mh_log_has(const mh_mesh *m, size_t i, const char *s)
{
	char line[4096];
	bool found = false;
	FILE *f = fopen(m->nodes[i].log, "r");
	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, s) != NULL;
	fclose(f);
	return found;
}

static void forget_client(mh_node *nd);
static void stacks(mh_mesh *m, size_t i);

/* Reads fd until a newline, EOF or end (monotonic ms); NUL-terminated. */
static size_t read_line(int fd, char *buf, size_t cap, uint64_t end)
{
	size_t len = 0;
	buf[0] = '\0';
	while (len + 1 < cap && memchr(buf, '\n', len) == NULL) {
		uint64_t now = mh_now_ms();
		if (now >= end)
			break;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, (int)(end - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		ssize_t got = read(fd, buf + len, cap - 1 - len);
		if (got <= 0)
			break;
		len += (size_t)got;
		buf[len] = '\0';
	}
	return len;
}

/*
 * Forks node i's daemon with seed peers seeds[0..k) (their URLs), its stdout a pipe whose
 * read end goes to *out_fd. EBUSY, EINVAL, EIO.
 */
static int spawn(mh_mesh *m, size_t i, const size_t *seeds, size_t k, int *out_fd)
{
	if (i >= m->n)
		return fail(m, MYCEL_EINVAL, "no node %zu", i);
	mh_node *nd = &m->nodes[i];
	if (nd->pid > 0)
		return fail(m, MYCEL_EBUSY, "node %s runs already", nd->name);
	const char *argv[8 + 2 * 100];
	size_t a = 0;
	char listen[MH_URL_MAX + 16];
	argv[a++] = m->myceld;
	argv[a++] = "--config";
	argv[a++] = nd->config;
	if (nd->url[0] != '\0') { /* a restart keeps its address */
		snprintf(listen, sizeof(listen), "%s", nd->url);
		argv[a++] = "--listen";
		argv[a++] = listen;
	}
	for (size_t s = 0; s < k && s < 100; s++) {
		if (seeds[s] >= m->n || m->nodes[seeds[s]].url[0] == '\0')
			return fail(m, MYCEL_EINVAL, "seed %zu of %s has no URL", seeds[s],
			            nd->name);
		argv[a++] = "--peer";
		argv[a++] = m->nodes[seeds[s]].url;
	}
	argv[a] = NULL;
	int o[2];
	if (pipe2(o, O_CLOEXEC) != 0)
		return fail(m, MYCEL_EIO, "pipe: %s", strerror(errno));
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		close(o[0]);
		close(o[1]);
		return fail(m, MYCEL_EIO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		/* Die with the test, even when it is killed (a meson timeout). */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
			_exit(125);
		int fd = open(nd->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd < 0)
			_exit(126);
		dup2(o[1], 1);
		dup2(fd, 2);
		execv(m->myceld, (char *const *)argv);
		_exit(127);
	}
	close(o[1]);
	nd->pid = pid;
	nd->frozen = false;
	pid_add(pid);
	*out_fd = o[0];
	return 0;
}

/* Reads node i's ready line from fd (closed here) by the monotonic ms end. EIO. */
static int ready(mh_mesh *m, size_t i, int fd, uint64_t end)
{
	mh_node *nd = &m->nodes[i];
	char line[2048];
	size_t got = read_line(fd, line, sizeof(line), end);
	close(fd);
	char url[MH_URL_MAX], admin[MH_URL_MAX];
	if (got == 0 || sscanf(line, "ready url=%599s admin=%599s", url, admin) != 2) {
		char tail[1024];
		(void)mh_stop(m, i);
		mh_log_tail(m, i, tail, sizeof(tail));
		return fail(m, MYCEL_EIO, "node %s did not become ready (%s); log: %s", nd->name,
		            got ? line : "no ready line", tail);
	}
	snprintf(nd->url, sizeof(nd->url), "%s", url);
	snprintf(nd->admin, sizeof(nd->admin), "%s", admin);
	nd->starts++;
	return 0;
}

int mh_start(mh_mesh *m, size_t i, const size_t *seeds, size_t k)
{
	int fd = -1;
	int rv = spawn(m, i, seeds, k, &fd);
	if (rv != 0)
		return rv;
	return ready(m, i, fd, mh_now_ms() + 10000u * mh_scale());
}

int mh_start_all(mh_mesh *m, const size_t *which, size_t k, const size_t *seeds, size_t n_seeds)
{
	int fds[MH_PIDS_MAX];
	size_t started = 0;
	int rv = 0;
	if (k > MH_PIDS_MAX)
		return fail(m, MYCEL_EINVAL, "%zu nodes at once: at most %u", k, MH_PIDS_MAX);
	for (; started < k; started++)
		if ((rv = spawn(m, which[started], seeds, n_seeds, &fds[started])) != 0)
			break;
	uint64_t end = mh_now_ms() + 10000u * mh_scale();
	for (size_t j = 0; j < started; j++) {
		int r = ready(m, which[j], fds[j], end);
		if (rv == 0)
			rv = r;
	}
	return rv;
}

int mh_stop_all(mh_mesh *m, const size_t *which, size_t k, uint64_t *out_max_ms)
{
	uint64_t t0[MH_PIDS_MAX], worst = 0;
	int rv = 0;
	bool done[MH_PIDS_MAX];
	if (k > MH_PIDS_MAX)
		return fail(m, MYCEL_EINVAL, "%zu nodes at once: at most %u", k, MH_PIDS_MAX);
	for (size_t j = 0; j < k; j++) {
		mh_node *nd = &m->nodes[which[j]];
		done[j] = nd->pid <= 0;
		if (done[j])
			continue;
		if (nd->frozen)
			kill(nd->pid, SIGCONT);
		nd->frozen = false;
		t0[j] = mh_now_ms();
		kill(nd->pid, SIGTERM);
	}
	uint64_t end = mh_now_ms() + MH_STOP_MS * mh_scale();
	for (size_t left = k;;) {
		left = 0;
		for (size_t j = 0; j < k; j++) {
			mh_node *nd = &m->nodes[which[j]];
			int st = 0;
			if (done[j])
				continue;
			pid_t r = waitpid(nd->pid, &st, WNOHANG);
			if (r == 0) {
				left++;
				continue;
			}
			uint64_t took = mh_now_ms() - t0[j];
			worst = took > worst ? took : worst;
			done[j] = true;
			pid_del(nd->pid);
			nd->pid = 0;
			forget_client(nd);
			if (r > 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0) && rv == 0)
				rv = fail(m, MYCEL_EIO, "node %s ended with %s %d", nd->name,
				          WIFEXITED(st) ? "status" : "signal",
				          WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		}
		if (left == 0)
			break;
		if (mh_now_ms() >= end) {
			for (size_t j = 0; j < k; j++)
				if (!done[j]) {
					size_t i = which[j];
					stacks(m, i);
					if (rv == 0)
						rv = fail(
						    m, MYCEL_EIO,
						    "node %s did not stop on SIGTERM within %u ms",
						    m->nodes[i].name, MH_STOP_MS * mh_scale());
					mh_kill(m, i);
				}
			worst = MH_STOP_MS * mh_scale();
			break;
		}
		nap_ms(5);
	}
	if (out_max_ms != NULL)
		*out_max_ms = worst;
	return rv;
}

/* Closes the node's Status client: its connection ended with the process. */
static void forget_client(mh_node *nd)
{
	mycel_client_close(nd->pub);
	nd->pub = NULL;
}

/*
 * Appends every thread's stack of running node i to its log (gdb, when installed, bounded to
 * 30 s), so that a node that does not stop can be diagnosed from the log.
 */
static void stacks(mh_mesh *m, size_t i)
{
	static const char gdb[] = "/usr/bin/gdb";
	char pid[32];
	if (access(gdb, X_OK) != 0)
		return;
	snprintf(pid, sizeof(pid), "%ld", (long)m->nodes[i].pid);
	pid_t p = fork();
	if (p < 0)
		return;
	if (p == 0) {
		int fd = open(m->nodes[i].log, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (fd < 0)
			_exit(126);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(gdb, gdb, "-batch", "-p", pid, "-ex", "thread apply all bt", (char *)NULL);
		_exit(127);
	}
	uint64_t end = mh_now_ms() + 30000;
	for (;;) {
		pid_t r = waitpid(p, NULL, WNOHANG);
		if (r == p || r < 0)
			return;
		if (mh_now_ms() >= end) {
			kill(p, SIGKILL);
			(void)waitpid(p, NULL, 0);
			return;
		}
		nap_ms(20);
	}
}

int mh_stop(mh_mesh *m, size_t i)
{
	mh_node *nd = &m->nodes[i];
	int st = 0;
	if (nd->pid <= 0)
		return 0;
	if (nd->frozen)
		kill(nd->pid, SIGCONT);
	nd->frozen = false;
	kill(nd->pid, SIGTERM);
	uint64_t end = mh_now_ms() + MH_STOP_MS * mh_scale();
	bool killed = false;
	for (;;) {
		pid_t r = waitpid(nd->pid, &st, WNOHANG);
		if (r == nd->pid || r < 0)
			break;
		if (mh_now_ms() >= end) {
			stacks(m, i);
			kill(nd->pid, SIGKILL);
			(void)waitpid(nd->pid, &st, 0);
			killed = true;
			break;
		}
		nap_ms(10);
	}
	pid_del(nd->pid);
	nd->pid = 0;
	forget_client(nd);
	if (killed)
		return fail(m, MYCEL_EIO, "node %s did not stop on SIGTERM within %u ms", nd->name,
		            MH_STOP_MS * mh_scale());
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return fail(m, MYCEL_EIO, "node %s ended with %s %d", nd->name,
		            WIFEXITED(st) ? "status" : "signal",
		            WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return 0;
}

void mh_kill(mh_mesh *m, size_t i)
{
	mh_node *nd = &m->nodes[i];
	if (nd->pid <= 0)
		return;
	kill(nd->pid, SIGKILL);
	(void)waitpid(nd->pid, NULL, 0);
	pid_del(nd->pid);
	nd->pid = 0;
	nd->frozen = false;
	forget_client(nd);
}

int mh_freeze(mh_mesh *m, size_t i, bool on)
{
	mh_node *nd = &m->nodes[i];
	if (nd->pid <= 0)
		return fail(m, MYCEL_EINVAL, "node %s is not running", nd->name);
	if (kill(nd->pid, on ? SIGSTOP : SIGCONT) != 0)
		return fail(m, MYCEL_EIO, "kill %s: %s", nd->name, strerror(errno));
	nd->frozen = on;
	return 0;
}

/* One call to node i's admin socket; the reply body in *out_body (malloc'd; may be NULL). */
static int admin_call(mh_mesh *m, size_t i, const char *method, const mycel_buf *req,
                      uint64_t *out_status, uint8_t **out_body, size_t *out_len)
{
	mycel_client *c = NULL;
	char *msg = NULL;
	int rv = mycel_client_open(m->nodes[i].admin, &c);
	if (rv != 0)
		return fail(m, rv, "node %s: cannot open %s", m->nodes[i].name, m->nodes[i].admin);
	rv = mycel_client_call(c, method, wall_ms() + 10000u * mh_scale(), req->data, req->len,
	                       out_status, &msg, out_body, out_len);
	if (rv != 0)
		fail(m, rv, "node %s: %s: call failed", m->nodes[i].name, method);
	else if (*out_status != MYCEL_RPC_OK)
		fail(m, 0, "node %s: %s: %s: %s", m->nodes[i].name, method,
		     mycel_rpc_status_name(*out_status), msg ? msg : "");
	free(msg);
	mycel_client_close(c);
	return rv;
}

/* Publishes doc (YAML text) on node i through its admin socket; its entry's seq to *out_seq. */
static int publish_text(mh_mesh *m, size_t i, const char *doc, const char *id,
                        const char *version, uint64_t *out_seq);

int mh_publish_product(mh_mesh *m, size_t i, const char *id, const char *version,
                       uint64_t *out_seq)
{
	char doc[1024];
	snprintf(doc, sizeof(doc),
	         "apiVersion: v1.0.0\nkind: DataProduct\nid: %s\nname: %s\nversion: %s\n"
	         "status: active\ndomain: %s\n",
	         id, id, version, m->nodes[i].name);
	return publish_text(m, i, doc, id, version, out_seq);
}

int mh_publish(mh_mesh *m, size_t i, const char *id, const char *version, uint64_t *out_seq)
{
	char doc[1024];
	snprintf(doc, sizeof(doc),
	         "apiVersion: v3.0.2\nkind: DataContract\nid: %s\nname: %s\nversion: %s\n"
	         "status: active\ndomain: %s\ndescription:\n  purpose: mesh test data of %s\n",
	         id, id, version, m->nodes[i].name, m->nodes[i].name);
	return publish_text(m, i, doc, id, version, out_seq);
}

static int publish_text(mh_mesh *m, size_t i, const char *doc, const char *id,
                        const char *version, uint64_t *out_seq)
{
	mycel_msg_PublishRequest p;
	mycel_msg_PublishDoc pd;
	mycel_msg_PublishReply pr;
	mycel_arena *a = NULL;
	mycel_buf b;
	uint64_t st = 0;
	uint8_t *body = NULL;
	size_t len = 0;
	int rv;
	memset(&p, 0, sizeof(p));
	memset(&pd, 0, sizeof(pd));
	pd.document = (const uint8_t *)doc;
	pd.document_len = strlen(doc);
	p.documents = &pd;
	p.n_documents = 1;
	mycel_buf_init(&b, 1 << 16);
	if ((rv = mycel_msg_PublishRequest_encode(&p, &b)) != 0)
		goto fail;
	if ((rv = admin_call(m, i, "mycel.v1.Admin/Publish", &b, &st, &body, &len)) != 0)
		goto fail;
	if (st != MYCEL_RPC_OK) {
		rv = MYCEL_EIO;
		goto fail;
	}
	if ((rv = mycel_arena_new(1 << 20, &a)) != 0)
		goto fail;
	if ((rv = mycel_msg_PublishReply_decode(body, len, a, &pr, m->err, sizeof(m->err))) != 0)
		goto fail;
	if (pr.n_documents != 1 || !pr.documents[0].has_seq) {
		rv = fail(m, MYCEL_EFORMAT, "node %s: publish of %s %s made no entry",
		          m->nodes[i].name, id, version);
		goto fail;
	}
	if (out_seq != NULL)
		*out_seq = pr.documents[0].seq;
fail:
	mycel_arena_free(a);
	free(body);
	mycel_buf_fini(&b);
	return rv;
}

int mh_transfer(mh_mesh *m, size_t i, const char *id, const char *peer, bool accept,
                uint64_t *out_seq)
{
	mycel_msg_TransferReply tr;
	mycel_arena *a = NULL;
	mycel_buf b;
	mycel_entry e;
	uint64_t st = 0;
	uint8_t *body = NULL;
	size_t len = 0;
	int rv;
	mycel_buf_init(&b, 4096);
	if (accept) {
		mycel_msg_AcceptRequest rq = {.from = peer, .from_len = strlen(peer), .id = id,
		                              .id_len = strlen(id)};
		rv = mycel_msg_AcceptRequest_encode(&rq, &b);
	} else {
		mycel_msg_TransferRequest rq = {.id = id, .id_len = strlen(id), .to = peer,
		                                .to_len = strlen(peer)};
		rv = mycel_msg_TransferRequest_encode(&rq, &b);
	}
	if (rv != 0)
		goto fail;
	if ((rv = admin_call(m, i, accept ? "mycel.v1.Admin/Accept" : "mycel.v1.Admin/Transfer", &b,
	                     &st, &body, &len)) != 0)
		goto fail;
	if (st != MYCEL_RPC_OK) {
		rv = MYCEL_EIO;
		goto fail;
	}
	if ((rv = mycel_arena_new(1 << 20, &a)) != 0)
		goto fail;
	if ((rv = mycel_msg_TransferReply_decode(body, len, a, &tr, m->err, sizeof(m->err))) != 0)
		goto fail;
	if (tr.entry == NULL || tr.entry->entry == NULL ||
	    mycel_entry_decode(tr.entry->entry, tr.entry->entry_len, &e) != 0) {
		rv = fail(m, MYCEL_EFORMAT, "node %s: the transfer's reply has no entry",
		          m->nodes[i].name);
		goto fail;
	}
	if (out_seq != NULL)
		*out_seq = e.h.seq;
fail:
	mycel_arena_free(a);
	free(body);
	mycel_buf_fini(&b);
	return rv;
}

int mh_rotate(mh_mesh *m, size_t i, uint64_t *out_seq, uint8_t out_next[MYCEL_PK_LEN])
{
	mycel_msg_KeyRotateReply kr;
	mycel_arena *a = NULL;
	mycel_buf b;
	mycel_entry e;
	uint64_t st = 0;
	uint8_t *body = NULL;
	size_t len = 0;
	int rv;
	mycel_buf_init(&b, 16);
	mycel_enc_array(&b, 0); /* Empty */
	if ((rv = admin_call(m, i, "mycel.v1.Admin/KeyRotate", &b, &st, &body, &len)) != 0)
		goto fail;
	if (st != MYCEL_RPC_OK) {
		rv = MYCEL_EIO;
		goto fail;
	}
	if ((rv = mycel_arena_new(1 << 20, &a)) != 0)
		goto fail;
	if ((rv = mycel_msg_KeyRotateReply_decode(body, len, a, &kr, m->err, sizeof(m->err))) != 0)
		goto fail;
	if (kr.entry == NULL || kr.entry->entry == NULL || kr.next_key_len != MYCEL_PK_LEN ||
	    mycel_entry_decode(kr.entry->entry, kr.entry->entry_len, &e) != 0) {
		rv = fail(m, MYCEL_EFORMAT, "node %s: the key rotation's reply has no key entry",
		          m->nodes[i].name);
		goto fail;
	}
	if (out_seq != NULL)
		*out_seq = e.h.seq;
	if (out_next != NULL)
		memcpy(out_next, kr.next_key, MYCEL_PK_LEN);
fail:
	mycel_arena_free(a);
	free(body);
	mycel_buf_fini(&b);
	return rv;
}

int mh_peer(mh_mesh *m, size_t i, const char *url, bool add)
{
	mycel_msg_PeerRequest rq = {.addr = url, .addr_len = strlen(url)};
	mycel_buf b;
	uint64_t st = 0;
	uint8_t *body = NULL;
	size_t len = 0;
	mycel_buf_init(&b, 4096);
	int rv = mycel_msg_PeerRequest_encode(&rq, &b);
	if (rv == 0)
		rv =
		    admin_call(m, i, add ? "mycel.v1.Admin/PeersAdd" : "mycel.v1.Admin/PeersRemove",
		               &b, &st, &body, &len);
	free(body);
	mycel_buf_fini(&b);
	if (rv == 0 && st == MYCEL_RPC_UNIMPLEMENTED)
		return MYCEL_ENOTFOUND;
	if (rv == 0 && st != MYCEL_RPC_OK)
		return MYCEL_EIO;
	return rv;
}

bool mh_serves(mh_mesh *m, size_t i, const char *method)
{
	mycel_client *c = NULL;
	char *msg = NULL;
	uint8_t *body = NULL;
	size_t len = 0;
	uint64_t st = MYCEL_RPC_UNIMPLEMENTED;
	static const uint8_t empty[] = {0x90}; /* a message with no field set */
	if (mycel_client_open(m->nodes[i].url, &c) != 0)
		return false;
	int rv = mycel_client_call(c, method, wall_ms() + 5000u * mh_scale(), empty, sizeof(empty),
	                           &st, &msg, &body, &len);
	free(msg);
	free(body);
	mycel_client_close(c);
	return rv == 0 && st != MYCEL_RPC_UNIMPLEMENTED && st != MYCEL_RPC_UNAVAILABLE &&
	       st != MYCEL_RPC_DEADLINE_EXCEEDED;
}

int mh_status(mh_mesh *m, size_t i, mycel_arena *a, mycel_msg_StatusReply *out)
{
	mh_node *nd = &m->nodes[i];
	mycel_result res;
	int rv;
	if (nd->url[0] == '\0')
		return fail(m, MYCEL_EINVAL, "node %s was never started", nd->name);
	if (nd->pub == NULL) {
		if ((rv = mycel_client_open(nd->url, &nd->pub)) != 0)
			return fail(m, rv, "node %s: cannot open %s", nd->name, nd->url);
		mycel_client_set_timeout(nd->pub, 2000u * mh_scale());
	}
	rv = mycel_client_status(nd->pub, a, &res, out);
	if (rv != 0)
		return fail(m, rv, "node %s: Status: %s", nd->name, res.message);
	if (res.status != MYCEL_RPC_OK)
		return fail(m, MYCEL_EIO, "node %s: Status: %s: %s", nd->name,
		            mycel_rpc_status_name(res.status), res.message);
	return 0;
}

int mh_view_of(mh_mesh *m, size_t i, const uint8_t *feed, mh_view *out)
{
	mycel_arena *a = NULL;
	mycel_msg_StatusReply r;
	int rv = mycel_arena_new(64u << 20, &a);
	if (rv != 0)
		return rv;
	if ((rv = mh_status(m, i, a, &r)) != 0)
		goto fail;
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, MYCEL_HASH_LEN);
	memset(out, 0, sizeof(*out));
	for (size_t k = 0; k < r.n_heads; k++) {
		const mycel_msg_FeedHead *fh = &r.heads[k];
		uint8_t seq[8];
		for (int j = 0; j < 8; j++)
			seq[j] = (uint8_t)(fh->seq >> (56 - 8 * j));
		crypto_generichash_update(&h, fh->feed, fh->feed_len);
		crypto_generichash_update(&h, seq, sizeof(seq));
		crypto_generichash_update(&h, fh->head, fh->head_len);
		uint8_t forked = fh->has_forked && fh->forked;
		crypto_generichash_update(&h, &forked, 1);
		if (feed != NULL && fh->feed_len == MYCEL_PK_LEN &&
		    memcmp(fh->feed, feed, MYCEL_PK_LEN) == 0)
			out->seq = fh->seq;
	}
	crypto_generichash_final(&h, out->digest, MYCEL_HASH_LEN);
	out->feeds = r.n_heads;
	out->entries = r.entries;
	out->forks = r.has_forks ? r.forks : 0;
fail:
	mycel_arena_free(a);
	return rv;
}

/* Which node the k-th of a wait is. */
static size_t pick(const size_t *which, size_t k)
{
	return which != NULL ? which[k] : k;
}

int mh_wait_converged(mh_mesh *m, const size_t *which, size_t k, uint64_t min_entries,
                      uint64_t deadline_ms, uint64_t *out_ms)
{
	uint64_t t0 = mh_now_ms(), end = t0 + deadline_ms * mh_scale();
	size_t cnt = which != NULL ? k : m->n;
	mh_view v0, v;
	for (;;) {
		bool ok = true;
		int rv = 0;
		for (size_t j = 0; ok && j < cnt; j++) {
			rv = mh_view_of(m, pick(which, j), NULL, j == 0 ? &v0 : &v);
			if (rv != 0)
				ok = false;
			else if (j == 0)
				ok = v0.entries >= min_entries;
			else
				ok = memcmp(v.digest, v0.digest, MYCEL_HASH_LEN) == 0;
		}
		if (ok) {
			if (out_ms != NULL)
				*out_ms = mh_now_ms() - t0;
			return 0;
		}
		if (mh_now_ms() >= end)
			break;
		nap_ms(50);
	}
	/* Say where each node stands. */
	size_t w = (size_t)snprintf(
	    m->err, sizeof(m->err), "not converged within %llu ms (want >= %llu entries):",
	    (unsigned long long)(deadline_ms * mh_scale()), (unsigned long long)min_entries);
	for (size_t j = 0; j < cnt && w < sizeof(m->err); j++) {
		char e[2048];
		size_t i = pick(which, j);
		memcpy(e, m->err, sizeof(e));
		if (mh_view_of(m, i, NULL, &v) == 0)
			w += (size_t)snprintf(e + w, sizeof(e) - w, " %s=%llu/%02x%02x",
			                      m->nodes[i].name, (unsigned long long)v.entries,
			                      v.digest[0], v.digest[1]);
		else
			w += (size_t)snprintf(e + w, sizeof(e) - w, " %s=?", m->nodes[i].name);
		memcpy(m->err, e, sizeof(e));
	}
	return MYCEL_EBUSY;
}

int mh_wait_seq(mh_mesh *m, const size_t *which, size_t k, const uint8_t feed[MYCEL_PK_LEN],
                uint64_t seq, uint64_t deadline_ms, uint64_t *out_ms)
{
	uint64_t t0 = mh_now_ms(), end = t0 + deadline_ms * mh_scale();
	size_t cnt = which != NULL ? k : m->n;
	mh_view v;
	size_t lag = 0;
	for (;;) {
		bool ok = true;
		for (size_t j = 0; ok && j < cnt; j++) {
			ok = mh_view_of(m, pick(which, j), feed, &v) == 0 && v.seq >= seq;
			if (!ok)
				lag = pick(which, j);
		}
		if (ok) {
			if (out_ms != NULL)
				*out_ms = mh_now_ms() - t0;
			return 0;
		}
		if (mh_now_ms() >= end)
			break;
		nap_ms(50);
	}
	return fail(m, MYCEL_EBUSY, "node %s does not hold seq %llu of the feed within %llu ms",
	            m->nodes[lag].name, (unsigned long long)seq,
	            (unsigned long long)(deadline_ms * mh_scale()));
}
