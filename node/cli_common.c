/*
 * What the commands of the mycel CLI share (node/cli_common.h): output helpers, opening a
 * store from --data, the common options and the target of a catalog command.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mycel/charter.h"
#include "mycel/client.h"
#include "mycel/codec.h"
#include "mycel/domain.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/node.h"
#include "mycel/rpc.h"
#include "mycel/store.h"

#include "cli_common.h"

const char *const cli_prog = "mycel";
bool cli_color;

int die(int code, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout); /* what was printed before the error comes first */
	fprintf(stderr, "%s: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s %s: ", cli_prog, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see `%s help`)\n", cli_prog);
	return EXIT_USAGE;
}

/* Prints s as a JSON string (with quotes). */
void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* Prints untrusted text for a terminal: control characters escaped. */
void safe_str(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

void iso_time(uint64_t ms, char *out, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + k, n - k, ".%03uZ", (unsigned)(ms % 1000));
}

/* ---- opening a store from --data ------------------------------------------------ */

const char *default_data(void)
{
	const char *e = getenv("MYCEL_DATA");
	return e != NULL && *e ? e : ".mycel";
}

/* DIR may be a domain directory (config.yaml) or a bare store (data.mdb). */
int open_data(const char *dir, bool readonly, opened *o)
{
	char why[512] = "";
	char path[4096];
	memset(o, 0, sizeof(*o));
	snprintf(path, sizeof(path), "%s/%s", dir, MYCEL_CONFIG_FILE);
	if (access(path, F_OK) == 0) {
		int rv = mycel_domain_load(dir, &o->dom, why, sizeof(why));
		if (rv != 0)
			return die(EXIT_FAIL, "%s", why);
		o->has_dom = true;
		o->store_path = o->dom.store_path;
	} else {
		snprintf(path, sizeof(path), "%s/data.mdb", dir);
		if (access(path, F_OK) != 0)
			return die(EXIT_FAIL,
				   "%s is neither a domain directory nor a store (run `mycel init "
				   "--dir %s --domain NAME`, or pass --data DIR)",
				   dir, dir);
		o->store_path = dir;
	}
	int rv = mycel_store_open(o->store_path, readonly ? MYCEL_STORE_READONLY : 0, &o->store, why,
				  sizeof(why));
	if (rv != 0) {
		if (o->has_dom)
			mycel_domain_fini(&o->dom);
		return die(EXIT_FAIL, "%s", why[0] ? why : mycel_strerror(rv));
	}
	return 0;
}

void close_data(opened *o)
{
	mycel_store_close(o->store);
	if (o->has_dom)
		mycel_domain_fini(&o->dom);
}


/* ---- the target of a command: a node, or a store served in-process ------------------ */

/*
 * Every catalog command builds RPC requests and formats RPC replies, whether it talks to
 * a node or to a store it opened itself (an in-process client serving the same handlers
 * as the node's admin socket), so both print the same. Target resolution: --node URL >
 * --data DIR > $MYCEL_NODE > the default directory ($MYCEL_DATA or ./.mycel): through
 * its admin socket when a myceld holds its lock file, else directly.
 */

/* Handles one common option: 1 if c was one, 0 if not, EXIT_USAGE after a usage error. */
int common_opt(int c, const char *cmd, common *co)
{
	char *end;
	switch (c) {
	case O_DATA: co->data = optarg; return 1;
	case O_NODE: co->node = optarg; return 1;
	case O_JSON: co->json = true; return 1;
	case O_NOVERIFY: co->no_verify = true; return 1;
	case O_TIMEOUT: {
		unsigned long long v = strtoull(optarg, &end, 10);
		if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' || v == 0 || v > 86400000ull) {
			usage_error(cmd, "--timeout is a number of milliseconds, 1 to 86400000");
			return EXIT_USAGE;
		}
		co->timeout_ms = v;
		return 1;
	}
	case O_MESHID:
		if (mycel_unhex(optarg, co->mesh_id, MYCEL_HASH_LEN) != 0) {
			usage_error(cmd, "--mesh-id is 64 hex digits (as `mycel status` shows it)");
			return EXIT_USAGE;
		}
		co->has_mesh_id = true;
		return 1;
	default: return 0;
	}
}

/* True when a process holds the lock of DIR/myceld.pid (a myceld serves DIR). */
bool node_running(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, MYCEL_NODE_PID_FILE);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct flock fl;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	bool held = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
	close(fd);
	return held;
}

/* Reads a charter file into the client as its trust anchor. */
static int anchor_from_file(target *t, const char *path, const common *co, const char *cmd)
{
	uint8_t *buf = malloc(MYCEL_CHARTER_MAX + 1);
	if (buf == NULL)
		return die(EXIT_FAIL, "out of memory");
	FILE *f = fopen(path, "rb");
	size_t got = f ? fread(buf, 1, MYCEL_CHARTER_MAX + 1, f) : 0;
	if (f != NULL)
		fclose(f);
	char why[512] = "";
	int rv = f == NULL ? MYCEL_EIO
			   : mycel_client_set_charter(t->c, buf, got,
						      co->has_mesh_id ? co->mesh_id : NULL, why,
						      sizeof(why));
	free(buf);
	if (rv != 0)
		return die(EXIT_FAIL, "%s: %s: %s", cmd, path, why[0] ? why : "cannot read");
	return 0;
}

void close_target(target *t)
{
	mycel_client_close(t->c);
	if (t->direct) {
		mycel_key_free(t->key);
		close_data(&t->o);
	}
	memset(t, 0, sizeof(*t));
}

/*
 * Opens the target of cmd. write: the store is opened for writing (direct mode), for the
 * Admin methods. On failure prints why and returns the exit code.
 */
int open_target(const common *co, const char *cmd, bool write, target *t)
{
	const char *url = co->node, *dir = co->data, *anchor_dir = NULL;
	char ipc[4200];
	int rv;
	memset(t, 0, sizeof(*t));
	t->verify = !co->no_verify;
	if (url == NULL && dir == NULL) {
		const char *env = getenv("MYCEL_NODE");
		if (env != NULL && *env)
			url = env;
		else if (node_running(default_data())) {
			snprintf(ipc, sizeof(ipc), "ipc://%s/%s", default_data(), MYCEL_NODE_ADMIN_SOCK);
			url = ipc;
			anchor_dir = default_data();
		} else {
			dir = default_data();
		}
	}
	if (url != NULL) {
		snprintf(t->label, sizeof(t->label), "%s", url);
		if ((rv = mycel_client_open(url, &t->c)) != 0)
			return die(rv == MYCEL_EINVAL ? EXIT_USAGE : EXIT_FAIL,
				   "%s: %s: %s", cmd, url,
				   rv == MYCEL_EINVAL ? "not a node URL (tcp://HOST:PORT or ipc://PATH)"
						      : "no node answers there");
		mycel_client_set_timeout(t->c, co->timeout_ms);
		mycel_client_set_verify(t->c, t->verify);
		char path[4200];
		if (anchor_dir != NULL) {
			snprintf(path, sizeof(path), "%s/charter.mcc", anchor_dir);
			if (access(path, F_OK) == 0) {
				if ((rv = anchor_from_file(t, path, co, cmd)) != 0) {
					close_target(t);
					return rv;
				}
				/*
				 * The directory's charter.mcc is the genesis: the node's later
				 * version is taken only along its chain from it (pinned to its id).
				 */
				uint8_t mid[MYCEL_HASH_LEN];
				const mycel_charter *ac = mycel_client_charter(t->c);
				mycel_result res;
				if (t->verify && ac != NULL && mycel_charter_version(ac) == 1 &&
				    mycel_charter_digest(ac, mid) == 0 &&
				    ((rv = mycel_client_fetch_charter(t->c, mid, &res)) != 0 ||
				     res.status != MYCEL_RPC_OK)) {
					int code = die(EXIT_FAIL, "%s: %s: %s", cmd, url,
						       res.message[0] ? res.message : mycel_strerror(rv));
					close_target(t);
					return code;
				}
				return 0;
			}
		}
		mycel_result res;
		rv = mycel_client_fetch_charter(t->c, co->has_mesh_id ? co->mesh_id : NULL, &res);
		if ((rv != 0 || res.status != MYCEL_RPC_OK) && t->verify) {
			int code = rv != 0 ? die(EXIT_FAIL, "%s: %s", cmd, res.message)
					   : die(EXIT_FAIL, "%s: %s: %s: %s", cmd, url,
						 mycel_rpc_status_name(res.status), res.message);
			close_target(t);
			return code;
		}
		return 0;
	}
	t->direct = true;
	if ((rv = open_data(dir, !write, &t->o)) != 0)
		return rv;
	snprintf(t->label, sizeof(t->label), "%s", t->o.store_path);
	if (t->o.has_dom && write) {
		/* a key rotation that a crash interrupted: finish it (or undo it) first */
		bool done = false;
		char w2[512] = "";
		int kr = mycel_domain_key_recover(&t->o.dom, t->o.store, &done, w2, sizeof(w2));
		if (kr != 0 && kr != MYCEL_ENOTFOUND) {
			close_data(&t->o);
			return die(EXIT_FAIL, "%s: an interrupted key rotation: %s", cmd, w2);
		}
	}
	if (t->o.has_dom) {
		/* the key serves the writes; a reader without access to it still reads */
		if ((rv = mycel_key_load(t->o.dom.key_path, &t->key)) != 0 && write) {
			close_data(&t->o);
			return die(EXIT_FAIL, "%s: %s", t->o.dom.key_path, mycel_strerror(rv));
		}
		if (rv == 0) {
			t->ctx.key = t->key;
			t->ctx.domain = t->o.dom.name;
			t->ctx.key_path = t->o.dom.key_path;
		}
	}
	t->ctx.store = t->o.store;
	if ((rv = mycel_client_open_local(&t->ctx, &t->c)) != 0) {
		mycel_key_free(t->key);
		close_data(&t->o);
		return die(EXIT_FAIL, "%s: %s", cmd, mycel_strerror(rv));
	}
	t->direct = true;
	mycel_client_set_verify(t->c, t->verify);
	return 0;
}


/* Prints an untrusted message for a terminal: control characters but newlines escaped. */
void safe_lines(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

/*
 * The failure of a typed call: `mycel: CMD: STATUS_NAME: message` for a status, or
 * `mycel: CMD: reply refused: ...` for a reply that failed verification. Returns 1.
 */
int call_failed(const char *cmd, int rv, const mycel_result *r)
{
	fflush(stdout);
	fprintf(stderr, "%s: %s: ", cli_prog, cmd);
	if (rv != 0) {
		safe_lines(stderr, r->message[0] ? r->message : mycel_strerror(rv));
	} else {
		fprintf(stderr, "%s: ", mycel_rpc_status_name(r->status));
		safe_lines(stderr, r->message);
	}
	fputc('\n', stderr);
	return EXIT_FAIL;
}



/* The domain the client's charter names for key, or NULL. */
const char *charter_domain(const mycel_client *c, const uint8_t *key, size_t len)
{
	const mycel_charter *ch = mycel_client_charter(c);
	if (ch == NULL || key == NULL || len != MYCEL_PK_LEN)
		return NULL;
	const mycel_charter_domain *d = NULL; /* a compromised feed's: its successor's */
	return mycel_charter_admits(ch, key, 0, &d) == 0 ? d->name : NULL;
}

/* A fresh arena for one reply. */
mycel_arena *reply_arena(void)
{
	mycel_arena *a = NULL;
	return mycel_arena_new((size_t)1 << 30, &a) == 0 ? a : NULL;
}


/* The Status of the target, in a (for the heads). */
int target_status(target *t, const char *cmd, mycel_arena *a, mycel_msg_StatusReply *st)
{
	mycel_result res;
	int rv = mycel_client_status(t->c, a, &res, st);
	if (rv != 0 || res.status != MYCEL_RPC_OK)
		return call_failed(cmd, rv, &res);
	return 0;
}

/* DOMAIN/ID into its parts. */
int split_ref(const char *ref, char *domain, size_t dn, const char **id)
{
	const char *slash = strchr(ref, '/');
	if (slash == NULL || slash == ref || slash[1] == '\0' || (size_t)(slash - ref) >= dn)
		return -1;
	memcpy(domain, ref, (size_t)(slash - ref));
	domain[slash - ref] = '\0';
	*id = slash + 1;
	return 0;
}
