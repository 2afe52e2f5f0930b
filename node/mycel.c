/*
 * mycel — the command-line tool. Thin over libmycel: parse arguments, call the
 * library, print. Exit codes: 0 success, 1 the operation failed or found
 * problems, 2 usage error.
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

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "mycel/catalog.h"
#include "mycel/charter.h"
#include "mycel/client.h"
#include "mycel/codec.h"
#include "mycel/domain.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/lint.h"
#include "mycel/node.h"
#include "mycel/profile.h"
#include "mycel/publish.h"
#include "mycel/rpc.h"
#include "mycel/store.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define MYCEL_VERSION "0.1.0"

static const char *prog = "mycel";
static bool color;

static const char *c_red(void) { return color ? "\033[31m" : ""; }
static const char *c_green(void) { return color ? "\033[32m" : ""; }
static const char *c_dim(void) { return color ? "\033[2m" : ""; }
static const char *c_bold(void) { return color ? "\033[1m" : ""; }
static const char *c_off(void) { return color ? "\033[0m" : ""; }

static int die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int die(int code, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout); /* what was printed before the error comes first */
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s %s: ", prog, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see `%s help`)\n", prog);
	return EXIT_USAGE;
}

/* Prints s as a JSON string (with quotes). */
static void json_str(FILE *f, const char *s)
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
static void safe_str(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

static void iso_time(uint64_t ms, char *out, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + k, n - k, ".%03uZ", (unsigned)(ms % 1000));
}

/* ---- opening a store from --data ------------------------------------------------ */

typedef struct opened {
	mycel_domain dom; /* set if DIR is a domain directory */
	bool has_dom;
	mycel_store *store;
	const char *store_path;
} opened;

static const char *default_data(void)
{
	const char *e = getenv("MYCEL_DATA");
	return e != NULL && *e ? e : ".mycel";
}

/* DIR may be a domain directory (config.yaml) or a bare store (data.mdb). */
static int open_data(const char *dir, bool readonly, opened *o)
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

static void close_data(opened *o)
{
	mycel_store_close(o->store);
	if (o->has_dom)
		mycel_domain_fini(&o->dom);
}

/* Opens --data as a domain directory with its key, for commands that write. */
static int open_domain(const char *data, opened *o, mycel_key **key)
{
	int rv = open_data(data, false, o);
	if (rv != 0)
		return rv;
	if (!o->has_dom) {
		close_data(o);
		return die(EXIT_FAIL, "%s is a bare store: publishing needs a domain directory", data);
	}
	if ((rv = mycel_key_load(o->dom.key_path, key)) != 0) {
		close_data(o);
		return die(EXIT_FAIL, "%s: %s", o->dom.key_path, mycel_strerror(rv));
	}
	return 0;
}

/* ---- the target of a command: a node, or a store served in-process ------------------ */

/*
 * Every catalog command builds RPC requests and formats RPC replies, whether it talks to
 * a node or to a store it opened itself (an in-process client serving the same handlers
 * as the node's admin socket), so both print the same. Target resolution: --node URL >
 * --data DIR > $MYCEL_NODE > the default directory ($MYCEL_DATA or ./.mycel): through
 * its admin socket when a myceld holds its lock file, else directly.
 */
enum {
	O_DATA = 1000,
	O_NODE,
	O_JSON,
	O_TIMEOUT,
	O_NOVERIFY,
	O_MESHID,
};

#define COMMON_OPTS                                                                         \
	{"data", required_argument, NULL, O_DATA}, {"node", required_argument, NULL, O_NODE},    \
	    {"json", no_argument, NULL, O_JSON}, {"timeout", required_argument, NULL, O_TIMEOUT}, \
	    {"no-verify", no_argument, NULL, O_NOVERIFY},                                        \
	    {"mesh-id", required_argument, NULL, O_MESHID}

#define COMMON_USAGE "[--node URL | --data DIR] [--json] [--timeout MS] [--mesh-id HEX] [--no-verify]"

typedef struct common {
	const char *data; /* --data */
	const char *node; /* --node */
	bool json;
	uint64_t timeout_ms;
	bool no_verify;
	bool has_mesh_id;
	uint8_t mesh_id[MYCEL_HASH_LEN];
} common;

/* Handles one common option: 1 if c was one, 0 if not, EXIT_USAGE after a usage error. */
static int common_opt(int c, const char *cmd, common *co)
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

typedef struct target {
	mycel_client *c;
	bool direct;   /* a store opened here */
	opened o;      /* direct */
	mycel_key *key; /* direct, domain directory */
	mycel_rpc_ctx ctx;
	char label[4200]; /* the store's path or the node's URL, for messages */
	bool verify;
} target;

/* True when a process holds the lock of DIR/myceld.pid (a myceld serves DIR). */
static bool node_running(const char *dir)
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

static void close_target(target *t)
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
static int open_target(const common *co, const char *cmd, bool write, target *t)
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
	if (t->o.has_dom) {
		/* the key serves the writes; a reader without access to it still reads */
		if ((rv = mycel_key_load(t->o.dom.key_path, &t->key)) != 0 && write) {
			close_data(&t->o);
			return die(EXIT_FAIL, "%s: %s", t->o.dom.key_path, mycel_strerror(rv));
		}
		if (rv == 0) {
			t->ctx.key = t->key;
			t->ctx.domain = t->o.dom.name;
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
static void safe_lines(FILE *f, const char *s)
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
static int call_failed(const char *cmd, int rv, const mycel_result *r)
{
	fflush(stdout);
	fprintf(stderr, "%s: %s: ", prog, cmd);
	if (rv != 0) {
		safe_lines(stderr, r->message[0] ? r->message : mycel_strerror(rv));
	} else {
		fprintf(stderr, "%s: ", mycel_rpc_status_name(r->status));
		safe_lines(stderr, r->message);
	}
	fputc('\n', stderr);
	return EXIT_FAIL;
}

/* A decoded message string ("" when absent). */
static const char *S(const char *p)
{
	return p != NULL ? p : "";
}

/* The domain the client's charter names for key, or NULL. */
static const char *charter_domain(const mycel_client *c, const uint8_t *key, size_t len)
{
	const mycel_charter *ch = mycel_client_charter(c);
	if (ch == NULL || key == NULL || len != MYCEL_PK_LEN)
		return NULL;
	const mycel_charter_domain *d = mycel_charter_find_feed(ch, key);
	return d != NULL ? d->name : NULL;
}

/* A fresh arena for one reply. */
static mycel_arena *reply_arena(void)
{
	mycel_arena *a = NULL;
	return mycel_arena_new((size_t)1 << 30, &a) == 0 ? a : NULL;
}

/* The name the charter gives feed, or "feed:" and the first 16 hex digits. */
static void feed_label(const mycel_charter *c, const uint8_t feed[MYCEL_PK_LEN], char *out, size_t n)
{
	const mycel_charter_domain *d = c ? mycel_charter_find_feed(c, feed) : NULL;
	if (d != NULL) {
		snprintf(out, n, "%s", d->name);
	} else {
		char hex[2 * MYCEL_PK_LEN + 1];
		mycel_hex(feed, MYCEL_PK_LEN, hex);
		snprintf(out, n, "feed:%.16s", hex);
	}
}

/* ---- keygen ------------------------------------------------------------------------- */

static int cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *out = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (c == 'o')
			out = optarg;
		else
			return usage_error("keygen", "usage: mycel keygen --out FILE");
	}
	if (out == NULL || optind != argc)
		return usage_error("keygen", "usage: mycel keygen --out FILE");
	mycel_key *k;
	int rv = mycel_key_generate(&k);
	if (rv == 0)
		rv = mycel_key_save(k, out);
	if (rv != 0) {
		mycel_key_free(k);
		return die(EXIT_FAIL, "%s: %s", out, mycel_strerror(rv));
	}
	char hex[2 * MYCEL_PK_LEN + 1];
	mycel_hex(k->pk, MYCEL_PK_LEN, hex);
	mycel_key_free(k);
	printf("%s\n", hex);
	return 0;
}

/* ---- init ---------------------------------------------------------------------------- */

static int print_domain_summary(const char *dir, bool json)
{
	opened o;
	int rv = open_data(dir, true, &o);
	if (rv != 0)
		return rv;
	const mycel_charter *c = mycel_store_charter(o.store);
	const mycel_charter_domain *d = mycel_charter_find_domain(c, o.dom.name);
	uint8_t mid[MYCEL_HASH_LEN];
	char feed[2 * MYCEL_PK_LEN + 1], mesh[2 * MYCEL_HASH_LEN + 1];
	(void)mycel_store_mesh_id(o.store, mid);
	mycel_hex(d->feed, MYCEL_PK_LEN, feed);
	mycel_hex(mid, MYCEL_HASH_LEN, mesh);
	if (json) {
		printf("{\"dir\":");
		json_str(stdout, dir);
		printf(",\"domain\":");
		json_str(stdout, o.dom.name);
		printf(",\"feed\":\"%s\",\"mesh\":", feed);
		json_str(stdout, mycel_charter_mesh(c));
		printf(",\"mesh_id\":\"%s\",\"charter_version\":%llu}\n", mesh,
		       (unsigned long long)mycel_charter_version(c));
	} else {
		printf("%sdomain%s   %s\n", c_bold(), c_off(), o.dom.name);
		printf("feed     %s\n", feed);
		printf("mesh     %s (charter v%llu, id %.16s…)\n", mycel_charter_mesh(c),
		       (unsigned long long)mycel_charter_version(c), mesh);
		printf("dir      %s  (key.secret, charter.mcc, store/, config.yaml)\n", dir);
	}
	close_data(&o);
	return 0;
}

static int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
					     {"data", required_argument, NULL, 'd'},
					     {"domain", required_argument, NULL, 'n'},
					     {"key", required_argument, NULL, 'k'},
					     {"charter", required_argument, NULL, 'c'},
					     {"mesh", required_argument, NULL, 'm'},
					     {"json", no_argument, NULL, 'j'},
					     {NULL, 0, NULL, 0}};
	static const char use[] =
	    "usage: mycel init [--dir DIR] --domain NAME [--key FILE] [--charter FILE] [--mesh NAME]";
	mycel_domain_opts o = {default_data(), NULL, NULL, NULL, NULL};
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': o.dir = optarg; break;
		case 'n': o.name = optarg; break;
		case 'k': o.key_file = optarg; break;
		case 'c': o.charter_file = optarg; break;
		case 'm': o.mesh = optarg; break;
		case 'j': json = true; break;
		default: return usage_error("init", "%s", use);
		}
	}
	if (o.name == NULL || optind != argc)
		return usage_error("init", "%s", use);
	if (o.charter_file != NULL && o.mesh != NULL)
		return usage_error("init", "--mesh names a new mesh; it cannot go with --charter");
	char why[512] = "";
	int rv = mycel_domain_init(&o, why, sizeof(why));
	if (rv != 0)
		return die(EXIT_FAIL, "init: %s", why[0] ? why : mycel_strerror(rv));
	return print_domain_summary(o.dir, json);
}

/* ---- charter ------------------------------------------------------------------------------ */

static int parse_binding(const char *arg, char *name, size_t name_len, uint8_t key[MYCEL_PK_LEN])
{
	const char *eq = strchr(arg, '=');
	if (eq == NULL || (size_t)(eq - arg) >= name_len)
		return -1;
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	return mycel_unhex(eq + 1, key, MYCEL_PK_LEN) == 0 ? 0 : -1;
}

static int read_charter(const char *path, uint8_t **p, size_t *n, mycel_charter **out)
{
	char why[512] = "";
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return die(EXIT_FAIL, "%s: cannot open", path);
	uint8_t *buf = malloc(MYCEL_CHARTER_MAX + 1);
	size_t got = buf ? fread(buf, 1, MYCEL_CHARTER_MAX + 1, f) : 0;
	fclose(f);
	if (buf == NULL)
		return die(EXIT_FAIL, "out of memory");
	int rv = mycel_charter_decode(buf, got, out, why, sizeof(why));
	if (rv != 0) {
		free(buf);
		return die(EXIT_FAIL, "%s: %s", path, why[0] ? why : mycel_strerror(rv));
	}
	if (p != NULL) {
		*p = buf;
		*n = got;
	} else {
		free(buf);
	}
	return 0;
}

static int write_charter(const char *path, const mycel_charter *c, bool excl)
{
	mycel_buf b;
	mycel_buf_init(&b, MYCEL_CHARTER_MAX);
	int rv = mycel_charter_encode(c, &b);
	if (rv != 0) {
		mycel_buf_fini(&b);
		return die(EXIT_FAIL, "%s: %s", path, mycel_strerror(rv));
	}
	if (excl && access(path, F_OK) == 0) {
		mycel_buf_fini(&b);
		return die(EXIT_FAIL, "%s already exists; choose another --out", path);
	}
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "wb");
	bool ok = f != NULL && fwrite(b.data, 1, b.len, f) == b.len;
	if (f != NULL && (fflush(f) != 0 || fsync(fileno(f)) != 0))
		ok = false;
	if (f != NULL && fclose(f) != 0)
		ok = false;
	mycel_buf_fini(&b);
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return die(EXIT_FAIL, "%s: cannot write", path);
	}
	return 0;
}

static int charter_init(int argc, char **argv)
{
	static const struct option opts[] = {{"mesh", required_argument, NULL, 'm'},
					     {"member", required_argument, NULL, 'M'},
					     {"threshold", required_argument, NULL, 't'},
					     {"domain", required_argument, NULL, 'd'},
					     {"out", required_argument, NULL, 'o'},
					     {NULL, 0, NULL, 0}};
	static const char use[] = "usage: mycel charter init --mesh NAME --member NAME=PUBKEY... "
				  "--threshold K [--domain NAME=PUBKEY...] --out FILE";
	const char *mesh = NULL, *out = NULL;
	char *members[MYCEL_MEMBERS_MAX], *domains[256];
	size_t nm = 0, nd = 0;
	long threshold = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm': mesh = optarg; break;
		case 'o': out = optarg; break;
		case 't': {
			char *end;
			threshold = strtol(optarg, &end, 10);
			if (*end != '\0' || threshold < 1 || threshold > MYCEL_MEMBERS_MAX)
				return usage_error("charter init", "--threshold must be 1 to 255");
			break;
		}
		case 'M':
			if (nm == MYCEL_MEMBERS_MAX)
				return usage_error("charter init", "too many members");
			members[nm++] = optarg;
			break;
		case 'd':
			if (nd == 256)
				return usage_error("charter init", "too many domains (add more later)");
			domains[nd++] = optarg;
			break;
		default: return usage_error("charter init", "%s", use);
		}
	}
	if (mesh == NULL || out == NULL || nm == 0 || threshold == 0 || optind != argc)
		return usage_error("charter init", "%s", use);
	if (!mycel_name_valid(mesh))
		return usage_error("charter init", "mesh name \"%s\" is not valid ([a-z0-9-], 1 to 64)", mesh);
	if ((size_t)threshold > nm)
		return usage_error("charter init", "threshold %ld is more than the %zu members", threshold, nm);
	mycel_charter *ch;
	if (mycel_charter_new(mesh, 1, (uint32_t)threshold, &ch) != 0)
		return die(EXIT_FAIL, "out of memory");
	for (size_t i = 0; i < nm + nd; i++) {
		char name[MYCEL_NAME_MAX + 2];
		uint8_t key[MYCEL_PK_LEN];
		bool is_member = i < nm;
		const char *arg = is_member ? members[i] : domains[i - nm];
		if (parse_binding(arg, name, sizeof(name), key) != 0) {
			mycel_charter_free(ch);
			return usage_error("charter init", "\"%s\": expected NAME=PUBKEY (64 hex digits)", arg);
		}
		int rv = is_member ? mycel_charter_add_member(ch, name, key)
				   : mycel_charter_add_domain(ch, name, key);
		if (rv != 0) {
			mycel_charter_free(ch);
			return usage_error("charter init", "%s \"%s\": %s", is_member ? "member" : "domain", name,
					   rv == MYCEL_EEXIST ? "name or key given twice"
							      : rv == MYCEL_EINVAL ? "not a valid name ([a-z0-9-], 1 to 64)"
										   : mycel_strerror(rv));
		}
	}
	int rv = write_charter(out, ch, true);
	if (rv == 0)
		printf("wrote %s: mesh %s, charter v1, %zu member(s), threshold %ld, %zu domain(s), "
		       "0 signatures\nnext: each member runs `mycel charter sign %s --key KEYFILE`\n",
		       out, mesh, nm, threshold, nd, out);
	mycel_charter_free(ch);
	return rv;
}

static int charter_sign(int argc, char **argv)
{
	static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
					     {NULL, 0, NULL, 0}};
	const char *keyfile = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'k')
			keyfile = optarg;
		else
			return usage_error("charter sign", "usage: mycel charter sign FILE --key KEYFILE");
	}
	if (keyfile == NULL || optind != argc - 1)
		return usage_error("charter sign", "usage: mycel charter sign FILE --key KEYFILE");
	const char *path = argv[optind];
	mycel_charter *ch;
	int rv = read_charter(path, NULL, NULL, &ch);
	if (rv != 0)
		return rv;
	mycel_key *k;
	if ((rv = mycel_key_load(keyfile, &k)) != 0) {
		mycel_charter_free(ch);
		return die(EXIT_FAIL, "%s: %s", keyfile, mycel_strerror(rv));
	}
	bool member = false;
	for (size_t i = 0; i < mycel_charter_member_count(ch); i++)
		if (memcmp(mycel_charter_member_at(ch, i)->key, k->pk, MYCEL_PK_LEN) == 0)
			member = true;
	char why[256] = "";
	if (!member && mycel_charter_version(ch) == 1) {
		mycel_key_free(k);
		mycel_charter_free(ch);
		return die(EXIT_FAIL, "%s: the key of %s is not a member of this charter", path, keyfile);
	}
	rv = mycel_charter_sign(ch, k, why, sizeof(why));
	mycel_key_free(k);
	if (rv == 0)
		rv = write_charter(path, ch, false);
	else
		rv = die(EXIT_FAIL, "%s: %s", path, why[0] ? why : mycel_strerror(rv));
	if (rv == 0) {
		size_t n = mycel_charter_sig_count(ch);
		int vr = mycel_charter_version(ch) == 1 ? mycel_charter_verify_genesis(ch, why, sizeof(why)) : MYCEL_ETHRESHOLD;
		printf("signed %s: %zu signature(s), threshold %u%s\n", path, n,
		       mycel_charter_threshold(ch), vr == 0 ? " (reached: the charter is valid)" : "");
	}
	mycel_charter_free(ch);
	return rv;
}

static void show_charter(const mycel_charter *ch, const uint8_t *mesh_id, bool json)
{
	char hex[2 * MYCEL_HASH_LEN + 1], why[256] = "";
	uint8_t dig[MYCEL_HASH_LEN];
	int valid = mycel_charter_version(ch) == 1 ? mycel_charter_verify_genesis(ch, why, sizeof(why)) : 1;
	(void)mycel_charter_digest(ch, dig);
	if (json) {
		printf("{\"mesh\":");
		json_str(stdout, mycel_charter_mesh(ch));
		printf(",\"version\":%llu,\"threshold\":%u",
		       (unsigned long long)mycel_charter_version(ch), mycel_charter_threshold(ch));
		mycel_hex(dig, MYCEL_HASH_LEN, hex);
		printf(",\"digest\":\"%s\"", hex);
		if (mesh_id != NULL) {
			mycel_hex(mesh_id, MYCEL_HASH_LEN, hex);
			printf(",\"mesh_id\":\"%s\"", hex);
		}
		printf(",\"members\":[");
		for (size_t i = 0; i < mycel_charter_member_count(ch); i++) {
			const mycel_charter_member *m = mycel_charter_member_at(ch, i);
			mycel_hex(m->key, MYCEL_PK_LEN, hex);
			printf("%s{\"name\":", i ? "," : "");
			json_str(stdout, m->name);
			printf(",\"key\":\"%s\"}", hex);
		}
		printf("],\"domains\":[");
		for (size_t i = 0; i < mycel_charter_domain_count(ch); i++) {
			const mycel_charter_domain *d = mycel_charter_domain_at(ch, i);
			mycel_hex(d->feed, MYCEL_PK_LEN, hex);
			printf("%s{\"name\":", i ? "," : "");
			json_str(stdout, d->name);
			printf(",\"feed\":\"%s\"}", hex);
		}
		printf("],\"signatures\":[");
		for (size_t i = 0; i < mycel_charter_sig_count(ch); i++) {
			mycel_hex(mycel_charter_sig_at(ch, i)->key, MYCEL_PK_LEN, hex);
			printf("%s\"%s\"", i ? "," : "", hex);
		}
		printf("],\"policies\":%zu", mycel_charter_policies(ch)->v.a.len);
		if (mycel_charter_version(ch) == 1)
			printf(",\"valid\":%s", valid == 0 ? "true" : "false");
		printf("}\n");
		return;
	}
	printf("%smesh%s       %s\n", c_bold(), c_off(), mycel_charter_mesh(ch));
	printf("version    %llu\n", (unsigned long long)mycel_charter_version(ch));
	mycel_hex(dig, MYCEL_HASH_LEN, hex);
	printf("digest     %s\n", hex);
	if (mesh_id != NULL) {
		mycel_hex(mesh_id, MYCEL_HASH_LEN, hex);
		printf("mesh id    %s\n", hex);
	}
	printf("threshold  %u of %zu members\n", mycel_charter_threshold(ch),
	       mycel_charter_member_count(ch));
	printf("members\n");
	for (size_t i = 0; i < mycel_charter_member_count(ch); i++) {
		const mycel_charter_member *m = mycel_charter_member_at(ch, i);
		bool signed_ = false;
		for (size_t j = 0; j < mycel_charter_sig_count(ch); j++)
			if (memcmp(mycel_charter_sig_at(ch, j)->key, m->key, MYCEL_PK_LEN) == 0)
				signed_ = true;
		mycel_hex(m->key, MYCEL_PK_LEN, hex);
		printf("  %-20s %s  %s\n", m->name, hex, signed_ ? "signed" : "-");
	}
	printf("domains\n");
	for (size_t i = 0; i < mycel_charter_domain_count(ch); i++) {
		const mycel_charter_domain *d = mycel_charter_domain_at(ch, i);
		mycel_hex(d->feed, MYCEL_PK_LEN, hex);
		printf("  %-20s %s\n", d->name, hex);
	}
	printf("policies   %zu\n", mycel_charter_policies(ch)->v.a.len);
	if (mycel_charter_version(ch) == 1)
		printf("status     %s%s%s\n", valid == 0 ? c_green() : c_red(),
		       valid == 0 ? "valid (threshold reached)" : why, c_off());
}

static int charter_show(int argc, char **argv)
{
	static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
					     {"json", no_argument, NULL, 'j'},
					     {NULL, 0, NULL, 0}};
	const char *data = NULL;
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			data = optarg;
		else if (c == 'j')
			json = true;
		else
			return usage_error("charter show", "usage: mycel charter show [FILE | --data DIR] [--json]");
	}
	if (optind == argc - 1 && data == NULL) {
		mycel_charter *ch;
		int rv = read_charter(argv[optind], NULL, NULL, &ch);
		if (rv != 0)
			return rv;
		show_charter(ch, NULL, json);
		mycel_charter_free(ch);
		return 0;
	}
	if (optind != argc)
		return usage_error("charter show", "usage: mycel charter show [FILE | --data DIR] [--json]");
	opened o;
	int rv = open_data(data ? data : default_data(), true, &o);
	if (rv != 0)
		return rv;
	const mycel_charter *ch = mycel_store_charter(o.store);
	uint8_t mid[MYCEL_HASH_LEN];
	if (ch == NULL)
		rv = die(EXIT_FAIL, "%s holds no charter", o.store_path);
	else
		show_charter(ch, mycel_store_mesh_id(o.store, mid) == 0 ? mid : NULL, json);
	close_data(&o);
	return rv;
}

static int cmd_charter(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("charter", "usage: mycel charter init|sign|show ...");
	const char *sub = argv[1];
	argc--;
	argv++;
	if (strcmp(sub, "init") == 0)
		return charter_init(argc, argv);
	if (strcmp(sub, "sign") == 0)
		return charter_sign(argc, argv);
	if (strcmp(sub, "show") == 0)
		return charter_show(argc, argv);
	return usage_error("charter", "unknown subcommand \"%s\" (init, sign, show)", sub);
}

/* ---- profile -------------------------------------------------------------------------------- */

typedef struct last_profile {
	uint8_t *body;
	size_t len;
} last_profile;

static int find_profile(void *ctx, const mycel_entry *e, const uint8_t *body, size_t n)
{
	last_profile *lp = ctx;
	if (strcmp(e->h.kind, "domain") != 0 || body == NULL)
		return 0;
	free(lp->body);
	lp->body = malloc(n ? n : 1);
	if (lp->body == NULL)
		return MYCEL_ENOMEM;
	memcpy(lp->body, body, n);
	lp->len = n;
	return 0;
}

static int cmd_profile(int argc, char **argv)
{
	static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
					     {"title", required_argument, NULL, 't'},
					     {"description", required_argument, NULL, 'D'},
					     {"contact", required_argument, NULL, 'c'},
					     {"node", required_argument, NULL, 'n'},
					     {"json", no_argument, NULL, 'j'},
					     {NULL, 0, NULL, 0}};
	static const char use[] = "usage: mycel profile [--data DIR] [--title T] [--description D] "
				  "[--contact C]... [--node URL]...";
	mycel_profile p;
	const char *data = default_data();
	const char *title = NULL, *desc = NULL, *contacts[MYCEL_PROFILE_LIST_MAX], *nodes[MYCEL_PROFILE_LIST_MAX];
	size_t nc = 0, nn = 0;
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 't': title = optarg; break;
		case 'D': desc = optarg; break;
		case 'j': json = true; break;
		case 'c':
			if (nc == MYCEL_PROFILE_LIST_MAX)
				return usage_error("profile", "at most %d contacts", MYCEL_PROFILE_LIST_MAX);
			contacts[nc++] = optarg;
			break;
		case 'n':
			if (nn == MYCEL_PROFILE_LIST_MAX)
				return usage_error("profile", "at most %d nodes", MYCEL_PROFILE_LIST_MAX);
			nodes[nn++] = optarg;
			break;
		default: return usage_error("profile", "%s", use);
		}
	}
	if (optind != argc)
		return usage_error("profile", "%s", use);
	opened o;
	mycel_key *key = NULL;
	int rv = open_domain(data, &o, &key);
	if (rv != 0)
		return rv;
	mycel_arena *arena = NULL;
	last_profile lp = {NULL, 0};
	mycel_buf body;
	char why[256] = "";
	mycel_buf_init(&body, MYCEL_BODY_MAX);
	memset(&p, 0, sizeof(p));
	/* Start from the current profile, so each flag changes only its field. */
	if ((rv = mycel_store_scan(o.store, key->pk, 1, find_profile, &lp)) != 0 ||
	    (rv = mycel_arena_new(1u << 22, &arena)) != 0) {
		rv = die(EXIT_FAIL, "%s: %s", o.store_path, mycel_strerror(rv));
		goto out;
	}
	if (lp.body != NULL && (rv = mycel_profile_decode(lp.body, lp.len, arena, &p, why, sizeof(why))) != 0) {
		rv = die(EXIT_FAIL, "current %s", why);
		goto out;
	}
	if (title)
		p.title = title;
	if (desc)
		p.description = desc;
	if (nc) {
		memcpy(p.contacts, contacts, nc * sizeof(*contacts));
		p.n_contacts = nc;
	}
	if (nn) {
		memcpy(p.nodes, nodes, nn * sizeof(*nodes));
		p.n_nodes = nn;
	}
	if ((rv = mycel_profile_encode(&p, &body)) != 0) {
		rv = die(EXIT_FAIL, "profile: %s (strings are at most %d bytes of UTF-8)",
			 mycel_strerror(rv), MYCEL_PROFILE_STR_MAX);
		goto out;
	}
	mycel_record rec = {"domain", body.data, body.len};
	mycel_entry e;
	if ((rv = mycel_store_append(o.store, key, key->pk, &rec, 1, &e)) != 0) {
		rv = die(EXIT_FAIL, "publish to %s: %s", o.dom.name, mycel_strerror(rv));
		goto out;
	}
	char id[2 * MYCEL_HASH_LEN + 1];
	mycel_hex(e.id, MYCEL_HASH_LEN, id);
	if (json)
		printf("{\"domain\":\"%s\",\"seq\":%llu,\"kind\":\"domain\",\"id\":\"%s\"}\n", o.dom.name,
		       (unsigned long long)e.h.seq, id);
	else
		printf("published %s seq %llu  domain profile  id %.16s…\n", o.dom.name,
		       (unsigned long long)e.h.seq, id);
out:
	free(lp.body);
	mycel_arena_free(arena);
	mycel_buf_fini(&body);
	mycel_key_free(key);
	close_data(&o);
	return rv;
}

/* ---- reading feeds through Status and Mesh Pull --------------------------------------------- */

/* Called for each entry of a feed, in order; e is decoded (verified unless --no-verify). */
typedef int (*entry_fn)(void *ctx, const mycel_entry *e, const mycel_msg_Entry *m);

/*
 * Pulls feed's entries 1..head in batches, calling fn for each. Entries that do not decode
 * end the walk with EFORMAT (unless fn is the auditor's, which sees raw messages: then e
 * is NULL for those). Returns 0, fn's code, or a failed call's exit code (printed).
 */
static int walk_feed(target *t, const char *cmd, const uint8_t feed[MYCEL_PK_LEN], uint64_t head,
		     bool raw, entry_fn fn, void *ctx)
{
	uint64_t from = 1;
	int rv = 0;
	while (from <= head && rv == 0) {
		mycel_arena *a = reply_arena();
		if (a == NULL)
			return die(EXIT_FAIL, "out of memory");
		mycel_msg_FeedRange r = {.feed = feed, .feed_len = MYCEL_PK_LEN, .has_from_seq = true,
					 .from_seq = from, .has_to_seq = true, .to_seq = head};
		mycel_msg_PullRequest rq = {.ranges = &r, .n_ranges = 1};
		mycel_msg_PullReply rp;
		mycel_result res;
		rv = mycel_client_pull(t->c, &rq, a, &res, &rp);
		if (rv != 0 || res.status != MYCEL_RPC_OK) {
			mycel_arena_free(a);
			return call_failed(cmd, rv, &res);
		}
		if (rp.n_entries == 0) {
			mycel_arena_free(a);
			char hex[2 * MYCEL_PK_LEN + 1];
			mycel_hex(feed, MYCEL_PK_LEN, hex);
			return die(EXIT_FAIL, "%s: %s sent no entries of feed %.16s… from seq %llu, below its head %llu",
				   cmd, t->label, hex, (unsigned long long)from, (unsigned long long)head);
		}
		for (size_t i = 0; i < rp.n_entries && rv == 0; i++) {
			mycel_entry e;
			int dr = rp.entries[i].entry != NULL
				     ? mycel_entry_decode(rp.entries[i].entry, rp.entries[i].entry_len, &e)
				     : MYCEL_EFORMAT;
			if (dr != 0 && !raw) {
				rv = die(EXIT_FAIL, "%s: an entry from %s does not decode: %s", cmd, t->label,
					 mycel_strerror(dr));
				break;
			}
			rv = fn(ctx, dr == 0 ? &e : NULL, &rp.entries[i]);
			from = dr == 0 && e.h.seq >= from ? e.h.seq + 1 : from + 1;
		}
		mycel_arena_free(a);
	}
	return rv;
}

/* The Status of the target, in a (for the heads). */
static int target_status(target *t, const char *cmd, mycel_arena *a, mycel_msg_StatusReply *st)
{
	mycel_result res;
	int rv = mycel_client_status(t->c, a, &res, st);
	if (rv != 0 || res.status != MYCEL_RPC_OK)
		return call_failed(cmd, rv, &res);
	return 0;
}

/* ---- log ------------------------------------------------------------------------------------ */

typedef struct log_ctx {
	bool json;
	const char *label;
	size_t n;
} log_ctx;

static int log_entry(void *ctx, const mycel_entry *e, const mycel_msg_Entry *m)
{
	log_ctx *l = ctx;
	char ts[40], id[2 * MYCEL_HASH_LEN + 1], bh[2 * MYCEL_HASH_LEN + 1];
	size_t body_len = m->body_len;
	iso_time(e->h.ts_ms, ts, sizeof(ts));
	mycel_hex(e->id, MYCEL_HASH_LEN, id);
	mycel_hex(e->h.body_hash, MYCEL_HASH_LEN, bh);
	l->n++;
	if (l->json) {
		char feed[2 * MYCEL_PK_LEN + 1];
		mycel_hex(e->h.feed, MYCEL_PK_LEN, feed);
		printf("{\"domain\":");
		json_str(stdout, l->label);
		printf(",\"feed\":\"%s\",\"seq\":%llu,\"ts_ms\":%llu,\"kind\":\"%s\",\"id\":\"%s\","
		       "\"body_hash\":\"%s\",\"body_len\":%zu}\n",
		       feed, (unsigned long long)e->h.seq, (unsigned long long)e->h.ts_ms, e->h.kind,
		       id, bh, body_len);
		return 0;
	}
	printf("  %5llu  %s  %-10s %.16s…  %zu B\n", (unsigned long long)e->h.seq, ts, e->h.kind, id,
	       body_len);
	return 0;
}

static int cmd_log(int argc, char **argv)
{
	static const struct option opts[] = {COMMON_OPTS, {NULL, 0, NULL, 0}};
	static const char use[] = "usage: mycel log [DOMAIN] " COMMON_USAGE;
	common co = {0};
	int c, k;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((k = common_opt(c, "log", &co)) != 1)
			return k != 0 ? k : usage_error("log", "%s", use);
	}
	if (argc - optind > 1)
		return usage_error("log", "%s", use);
	const char *only = optind < argc ? argv[optind] : NULL;
	target t;
	int rv = open_target(&co, "log", false, &t);
	if (rv != 0)
		return rv;
	mycel_arena *a = reply_arena();
	mycel_msg_StatusReply st;
	size_t shown = 0;
	if (a == NULL) {
		rv = die(EXIT_FAIL, "out of memory");
		goto out;
	}
	if ((rv = target_status(&t, "log", a, &st)) != 0)
		goto out;
	for (size_t i = 0; i < st.n_heads && rv == 0; i++) {
		const mycel_msg_FeedHead *h = &st.heads[i];
		char label[80], hex[2 * MYCEL_PK_LEN + 1];
		if (h->feed == NULL || h->feed_len != MYCEL_PK_LEN) {
			rv = die(EXIT_FAIL, "log: %s sent a malformed feed head", t.label);
			break;
		}
		feed_label(mycel_client_charter(t.c), h->feed, label, sizeof(label));
		if (only != NULL && strcmp(only, label) != 0)
			continue;
		shown++;
		mycel_hex(h->feed, MYCEL_PK_LEN, hex);
		if (!co.json) {
			printf("%s%s%s  %sfeed %s%s  %llu entr%s\n", c_bold(), label, c_off(), c_dim(), hex,
			       c_off(), (unsigned long long)h->seq, h->seq == 1 ? "y" : "ies");
			printf("  %s%5s  %-24s  %-10s %-17s  %s%s\n", c_dim(), "seq", "time (UTC)", "kind", "id",
			       "body", c_off());
		}
		log_ctx l = {co.json, label, 0};
		rv = walk_feed(&t, "log", h->feed, h->seq, false, log_entry, &l);
	}
	if (rv != 0)
		goto out;
	if (only != NULL && shown == 0)
		rv = die(EXIT_FAIL, "log: no feed of domain \"%s\"", only);
	else if (shown == 0 && !co.json)
		printf("%s holds no entries yet\n", t.label);
out:
	mycel_arena_free(a);
	close_target(&t);
	return rv;
}

/* ---- verify ------------------------------------------------------------------------------------- */

typedef struct verify_ctx {
	const mycel_charter *charter;
	bool json;
} verify_ctx;

static void on_problem(void *ctx, const mycel_problem *p)
{
	verify_ctx *v = ctx;
	char label[80] = "", hex[2 * MYCEL_PK_LEN + 1] = "";
	if (p->has_feed) {
		feed_label(v->charter, p->feed, label, sizeof(label));
		mycel_hex(p->feed, MYCEL_PK_LEN, hex);
	}
	if (v->json) {
		printf("{\"problem\":\"%s\",\"code\":\"%s\"", p->what, mycel_errname(p->code));
		if (p->has_feed) {
			printf(",\"domain\":");
			json_str(stdout, label);
			printf(",\"feed\":\"%s\",\"seq\":%llu", hex, (unsigned long long)p->seq);
		}
		printf(",\"message\":");
		json_str(stdout, p->message);
		printf("}\n");
		return;
	}
	printf("%sFAIL%s %-7s ", c_red(), c_off(), p->what);
	if (p->has_feed)
		printf("%s (feed %.16s…) seq %llu: ", label, hex, (unsigned long long)p->seq);
	safe_str(stdout, p->message);
	printf(" [%s]\n", mycel_errname(p->code));
}

/* The auditor: checks a node's feeds from outside, entry by entry. */
typedef struct audit_ctx {
	verify_ctx *v;
	mycel_verify_stats *st;
	const uint8_t *feed;
	mycel_entry prev;
	bool has_prev;
	uint64_t next_seq;
} audit_ctx;

static void audit_problem(audit_ctx *x, const char *what, uint64_t seq, int code, const char *msg)
{
	mycel_problem p = {what, true, {0}, seq, code, msg};
	memcpy(p.feed, x->feed, MYCEL_PK_LEN);
	on_problem(x->v, &p);
	x->st->problems++;
}

static int audit_entry(void *ctx, const mycel_entry *e, const mycel_msg_Entry *m)
{
	audit_ctx *x = ctx;
	char why[512] = "";
	uint64_t seq = x->next_seq++;
	x->st->entries++;
	if (m->body != NULL)
		x->st->bodies++;
	if (e == NULL) {
		audit_problem(x, "entry", seq, MYCEL_EFORMAT, "the entry does not decode");
		x->has_prev = false;
		return 0;
	}
	if (memcmp(e->h.feed, x->feed, MYCEL_PK_LEN) != 0 || e->h.seq != seq) {
		audit_problem(x, "entry", seq, MYCEL_ECHAIN, "the node sent another entry than asked for");
		x->has_prev = false;
		return 0;
	}
	int rv = mycel_client_verify_entry(x->v->charter, m, NULL, why, sizeof(why), NULL);
	if (rv != 0)
		audit_problem(x, rv == MYCEL_EHASH ? "body" : "entry", seq, rv, why);
	rv = mycel_entry_follows(x->has_prev ? &x->prev : NULL, e);
	if (rv != 0 && (x->has_prev || seq == 1))
		audit_problem(x, "entry", seq, rv, rv == MYCEL_ETS ? "the timestamp goes backwards"
								: "the entry does not follow the one before");
	x->prev = *e;
	x->has_prev = true;
	return 0;
}

/* verify --node: every feed of the node pulled and checked here, against the charter. */
static int verify_node(target *t, bool json)
{
	mycel_arena *a = reply_arena();
	mycel_msg_StatusReply st;
	mycel_verify_stats vs;
	verify_ctx v = {mycel_client_charter(t->c), json};
	int rv;
	memset(&vs, 0, sizeof(vs));
	if (a == NULL)
		return die(EXIT_FAIL, "out of memory");
	if (v.charter == NULL) {
		mycel_arena_free(a);
		return die(EXIT_FAIL, "verify: no charter to verify %s against (drop --no-verify)", t->label);
	}
	if ((rv = target_status(t, "verify", a, &st)) != 0) {
		mycel_arena_free(a);
		return rv;
	}
	vs.charters = st.has_charter_version ? (size_t)st.charter_version : 0;
	mycel_client_set_verify(t->c, false); /* each entry is checked below, one by one */
	for (size_t i = 0; i < st.n_heads && rv == 0; i++) {
		const mycel_msg_FeedHead *h = &st.heads[i];
		if (h->feed == NULL || h->feed_len != MYCEL_PK_LEN) {
			rv = die(EXIT_FAIL, "verify: %s sent a malformed feed head", t->label);
			break;
		}
		audit_ctx x;
		memset(&x, 0, sizeof(x));
		x.v = &v;
		x.st = &vs;
		x.feed = h->feed;
		x.next_seq = 1;
		vs.feeds++;
		if (mycel_charter_find_feed(v.charter, h->feed) == NULL)
			audit_problem(&x, "entry", 0, MYCEL_EADMIT, "the charter does not admit this feed");
		if ((rv = walk_feed(t, "verify", h->feed, h->seq, true, audit_entry, &x)) != 0)
			break;
		if (!x.has_prev || x.prev.h.seq != h->seq || h->head == NULL ||
		    h->head_len != MYCEL_HASH_LEN || memcmp(x.prev.id, h->head, MYCEL_HASH_LEN) != 0)
			audit_problem(&x, "head", h->seq, MYCEL_ECORRUPT,
				      "the feed's head is not its last entry");
	}
	mycel_arena_free(a);
	if (rv != 0)
		return rv;
	if (json) {
		printf("{\"store\":");
		json_str(stdout, t->label);
		printf(",\"charters\":%zu,\"feeds\":%zu,\"entries\":%zu,\"bodies\":%zu,\"forks\":%zu,"
		       "\"problems\":%zu,\"ok\":%s}\n",
		       vs.charters, vs.feeds, vs.entries, vs.bodies, vs.forks, vs.problems,
		       vs.problems ? "false" : "true");
	} else {
		printf("%s: %zu charter version(s), %zu feed(s), %zu entries, %zu bodies, %zu fork "
		       "proof(s)\n",
		       t->label, vs.charters, vs.feeds, vs.entries, vs.bodies, vs.forks);
		if (vs.problems == 0)
			printf("%sOK%s: every signature, chain link, body hash, timestamp and charter "
			       "step verifies\n",
			       c_green(), c_off());
		else
			printf("%s%zu problem(s)%s\n", c_red(), vs.problems, c_off());
	}
	return vs.problems ? EXIT_FAIL : 0;
}

static int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {COMMON_OPTS, {NULL, 0, NULL, 0}};
	static const char use[] = "usage: mycel verify " COMMON_USAGE;
	common co = {0};
	int c, k;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((k = common_opt(c, "verify", &co)) != 1)
			return k != 0 ? k : usage_error("verify", "%s", use);
	}
	if (optind != argc)
		return usage_error("verify", "%s (audit bundles come with `mycel audit`)", use);
	bool json = co.json;
	target t;
	int rv = open_target(&co, "verify", false, &t);
	if (rv != 0)
		return rv;
	if (!t.direct) {
		rv = verify_node(&t, json);
		close_target(&t);
		return rv;
	}
	/* a store at hand: the full check, including what only the store holds */
	opened *o = &t.o;
	verify_ctx v = {mycel_store_charter(o->store), json};
	mycel_verify_stats st;
	rv = mycel_store_verify(o->store, on_problem, &v, &st);
	if (rv != 0) {
		close_target(&t);
		return die(EXIT_FAIL, "verify %s: %s", o->store_path, mycel_strerror(rv));
	}
	if (json) {
		printf("{\"store\":");
		json_str(stdout, o->store_path);
		printf(",\"charters\":%zu,\"feeds\":%zu,\"entries\":%zu,\"bodies\":%zu,\"forks\":%zu,"
		       "\"problems\":%zu,\"ok\":%s}\n",
		       st.charters, st.feeds, st.entries, st.bodies, st.forks, st.problems,
		       st.problems ? "false" : "true");
	} else {
		printf("%s: %zu charter version(s), %zu feed(s), %zu entries, %zu bodies, %zu fork "
		       "proof(s)\n",
		       o->store_path, st.charters, st.feeds, st.entries, st.bodies, st.forks);
		if (st.forks > 0)
			printf("%sforked%s: %zu feed position(s) hold two signed entries (equivocation)\n",
			       c_red(), c_off(), st.forks);
		if (st.problems == 0)
			printf("%sOK%s: every signature, chain link, body hash, timestamp and charter "
			       "step verifies\n",
			       c_green(), c_off());
		else
			printf("%s%zu problem(s)%s\n", c_red(), st.problems, c_off());
	}
	close_target(&t);
	return st.problems ? EXIT_FAIL : 0;
}

/* ---- status, peers ------------------------------------------------------------------------------ */

static int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {COMMON_OPTS, {NULL, 0, NULL, 0}};
	static const char use[] = "usage: mycel status " COMMON_USAGE;
	common co = {0};
	int c, k;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((k = common_opt(c, "status", &co)) != 1)
			return k != 0 ? k : usage_error("status", "%s", use);
	}
	if (optind != argc)
		return usage_error("status", "%s", use);
	target t;
	int rv = open_target(&co, "status", false, &t);
	if (rv != 0)
		return rv;
	mycel_arena *a = reply_arena();
	mycel_msg_StatusReply st;
	if (a == NULL) {
		close_target(&t);
		return die(EXIT_FAIL, "out of memory");
	}
	if ((rv = target_status(&t, "status", a, &st)) != 0)
		goto out;
	const mycel_charter *ch = mycel_client_charter(t.c);
	const char *domain = charter_domain(t.c, st.node_key, st.node_key_len);
	char mesh_id[2 * MYCEL_HASH_LEN + 1] = "", key[2 * MYCEL_PK_LEN + 1] = "";
	if (st.mesh_id != NULL && st.mesh_id_len == MYCEL_HASH_LEN)
		mycel_hex(st.mesh_id, MYCEL_HASH_LEN, mesh_id);
	if (st.node_key != NULL && st.node_key_len == MYCEL_PK_LEN)
		mycel_hex(st.node_key, MYCEL_PK_LEN, key);
	if (co.json) {
		printf("{\"node\":");
		json_str(stdout, S(st.node));
		if (key[0]) {
			printf(",\"node_key\":\"%s\",\"domain\":", key);
			if (domain)
				json_str(stdout, domain);
			else
				printf("null");
		}
		if (ch != NULL) {
			printf(",\"mesh\":");
			json_str(stdout, mycel_charter_mesh(ch));
		}
		if (mesh_id[0])
			printf(",\"mesh_id\":\"%s\"", mesh_id);
		if (st.has_charter_version)
			printf(",\"charter_version\":%llu", (unsigned long long)st.charter_version);
		printf(",\"feeds\":%llu,\"entries\":%llu,\"documents\":%llu",
		       (unsigned long long)st.feeds, (unsigned long long)st.entries,
		       (unsigned long long)st.documents);
		if (st.has_peers && !t.direct)
			printf(",\"peers\":%llu", (unsigned long long)st.peers);
		if (st.has_uptime_ms)
			printf(",\"uptime_ms\":%llu", (unsigned long long)st.uptime_ms);
		printf("}\n");
		goto out;
	}
	printf("node       ");
	safe_str(stdout, S(st.node));
	putchar('\n');
	if (key[0]) {
		printf("domain     %s (key %.16s…)\n", domain ? domain : "? (not in the charter)", key);
	}
	if (ch != NULL)
		printf("mesh       %s (charter v%llu)\n", mycel_charter_mesh(ch),
		       (unsigned long long)st.charter_version);
	if (mesh_id[0])
		printf("mesh id    %s\n", mesh_id);
	printf("feeds      %llu\n", (unsigned long long)st.feeds);
	printf("entries    %llu\n", (unsigned long long)st.entries);
	printf("documents  %llu\n", (unsigned long long)st.documents);
	if (st.has_peers && !t.direct) /* a store read directly knows no peers */
		printf("peers      %llu\n", (unsigned long long)st.peers);
	if (st.has_uptime_ms)
		printf("uptime     %llus\n", (unsigned long long)(st.uptime_ms / 1000u));
out:
	mycel_arena_free(a);
	close_target(&t);
	return rv;
}

static int cmd_peers(int argc, char **argv)
{
	static const struct option opts[] = {COMMON_OPTS, {NULL, 0, NULL, 0}};
	static const char use[] = "usage: mycel peers " COMMON_USAGE;
	common co = {0};
	int c, k;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((k = common_opt(c, "peers", &co)) != 1)
			return k != 0 ? k : usage_error("peers", "%s", use);
	}
	if (optind != argc)
		return usage_error("peers", "%s", use);
	target t;
	int rv = open_target(&co, "peers", false, &t);
	if (rv != 0)
		return rv;
	if (t.direct) {
		rv = die(EXIT_FAIL,
			 "peers: %s is a store read directly: its peers are known only to the node "
			 "serving it (run myceld, then `mycel peers --node URL`)",
			 t.label);
		close_target(&t);
		return rv;
	}
	mycel_arena *a = reply_arena();
	mycel_msg_PeersReply r;
	mycel_result res;
	rv = a == NULL ? MYCEL_ENOMEM : mycel_client_peers(t.c, a, &res, &r);
	if (a == NULL) {
		rv = die(EXIT_FAIL, "out of memory");
		goto out;
	}
	if (rv != 0 || res.status != MYCEL_RPC_OK) {
		rv = call_failed("peers", rv, &res);
		goto out;
	}
	if (!co.json && r.n_peers == 0)
		printf("%s knows no peers yet\n", t.label);
	else if (!co.json)
		printf("%s%-40s %-20s %-5s %-8s %s%s\n", c_dim(), "address", "domain", "live",
		       "failures", "last seen (UTC)", c_off());
	for (size_t i = 0; i < r.n_peers; i++) {
		const mycel_msg_Peer *p = &r.peers[i];
		char when[40] = "-";
		if (p->has_last_seen_ms)
			iso_time(p->last_seen_ms, when, sizeof(when));
		if (co.json) {
			printf("{\"addr\":");
			json_str(stdout, S(p->addr));
			printf(",\"domain\":");
			json_str(stdout, S(p->domain));
			printf(",\"live\":%s,\"failures\":%llu,\"last_seen_ms\":%llu}\n",
			       p->live ? "true" : "false", (unsigned long long)p->failures,
			       (unsigned long long)p->last_seen_ms);
			continue;
		}
		safe_str(stdout, S(p->addr));
		printf("%*s ", p->addr_len < 40 ? (int)(40 - p->addr_len) : 0, "");
		safe_str(stdout, S(p->domain));
		printf("%*s %-5s %-8llu %s\n", p->domain_len < 20 ? (int)(20 - p->domain_len) : 0, "",
		       p->live ? "yes" : "no", (unsigned long long)p->failures, when);
	}
	rv = 0;
out:
	mycel_arena_free(a);
	close_target(&t);
	return rv;
}

/* ---- lint and publish ------------------------------------------------------------------------ */

static void print_findings(const char *file, const mycel_diags *d)
{
	for (size_t i = 0; i < d->len; i++) {
		const mycel_finding *f = &d->items[i];
		/* the document itself (pointer "") is shown as "/" */
		printf("%s:%u:%u: %s: ", file, f->line, f->col, f->pointer[0] ? f->pointer : "/");
		safe_str(stdout, f->message);
		putchar('\n');
	}
	if (d->dropped)
		printf("%s: ... and %zu more finding(s)\n", file, d->dropped);
}

static void json_findings(const mycel_diags *d)
{
	printf("[");
	for (size_t i = 0; i < d->len; i++) {
		const mycel_finding *f = &d->items[i];
		printf("%s{\"line\":%u,\"col\":%u,\"pointer\":", i ? "," : "", f->line, f->col);
		json_str(stdout, f->pointer);
		printf(",\"message\":");
		json_str(stdout, f->message);
		printf("}");
	}
	printf("]");
}

static int cmd_lint(int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else
			return usage_error("lint", "usage: mycel lint FILE... [--json]");
	}
	if (optind >= argc)
		return usage_error("lint", "usage: mycel lint FILE... [--json]");
	size_t bad = 0, files = 0;
	if (json)
		printf("{\"files\":[");
	for (int i = optind; i < argc; i++, files++) {
		mycel_arena *a;
		mycel_diags d, notes;
		mycel_value *doc;
		mycel_docinfo info;
		if (mycel_arena_new((size_t)1 << 30, &a) != 0)
			return die(EXIT_FAIL, "out of memory");
		mycel_diags_init(&d, 0);
		mycel_diags_init(&notes, 0);
		int rv = mycel_lint_file(argv[i], a, &doc, &info, &d);
		if (rv == 0 && info.kind != 0)
			(void)mycel_lint_publishable(doc, &info, info.domain ? info.domain : "", &notes);
		bad += rv != 0;
		if (json) {
			printf("%s{\"file\":", i > optind ? "," : "");
			json_str(stdout, argv[i]);
			printf(",\"valid\":%s,\"kind\":", rv == 0 ? "true" : "false");
			json_str(stdout, info.kind_name ? info.kind_name : "");
			printf(",\"apiVersion\":");
			json_str(stdout, info.api_version ? info.api_version : "");
			printf(",\"findings\":");
			json_findings(&d);
			printf(",\"notes\":");
			json_findings(&notes);
			printf("}");
		} else {
			print_findings(argv[i], &d);
			if (rv == 0) {
				printf("%s: %svalid%s %s %s%s%s\n", argv[i], c_green(), c_off(),
				       info.kind_name, info.api_version, notes.len ? "; note: " : "",
				       notes.len ? "it cannot be published as it is:" : "");
				for (size_t k = 0; k < notes.len; k++)
					printf("%s:%u:%u: note: %s: %s\n", argv[i], notes.items[k].line,
					       notes.items[k].col, notes.items[k].pointer,
					       notes.items[k].message);
			} else {
				printf("%s: %sinvalid%s (%zu finding%s)\n", argv[i], c_red(), c_off(),
				       d.len + d.dropped, d.len + d.dropped == 1 ? "" : "s");
			}
		}
		mycel_diags_fini(&d);
		mycel_diags_fini(&notes);
		mycel_arena_free(a);
	}
	if (json)
		printf("],\"valid\":%zu,\"invalid\":%zu}\n", files - bad, bad);
	else if (files > 1)
		printf("%zu file(s): %zu valid, %zu invalid\n", files, files - bad, bad);
	return bad ? EXIT_FAIL : 0;
}

/* Reads a whole file of at most max bytes into malloc'd memory. */
static int read_file(const char *path, size_t max, uint8_t **out, size_t *out_len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return MYCEL_EIO;
	uint8_t *buf = malloc(max + 1);
	size_t got = buf ? fread(buf, 1, max + 1, f) : 0;
	bool err = ferror(f) != 0;
	fclose(f);
	if (buf == NULL)
		return MYCEL_ENOMEM;
	if (err || got > max) {
		free(buf);
		return err ? MYCEL_EIO : MYCEL_ETOOBIG;
	}
	*out = buf;
	*out_len = got;
	return 0;
}

static int cmd_publish(int argc, char **argv)
{
	static const struct option opts[] = {COMMON_OPTS,
					     {"dry-run", no_argument, NULL, 'n'},
					     {NULL, 0, NULL, 0}};
	static const char use[] = "usage: mycel publish FILE... [--dry-run] " COMMON_USAGE;
	common co = {0};
	bool dry = false;
	int c, k;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((k = common_opt(c, "publish", &co)) != 0) {
			if (k != 1)
				return k;
		} else if (c == 'n') {
			dry = true;
		} else {
			return usage_error("publish", "%s", use);
		}
	}
	if (optind >= argc)
		return usage_error("publish", "%s", use);
	size_t n = (size_t)(argc - optind);
	if (n > 1000)
		return usage_error("publish", "at most 1000 files in one publish");
	target t;
	int rv = open_target(&co, "publish", true, &t);
	if (rv != 0)
		return rv;
	mycel_arena *a = NULL;
	mycel_msg_PublishDoc *docs = calloc(n, sizeof(*docs));
	uint8_t **bufs = calloc(n, sizeof(*bufs));
	if (docs == NULL || bufs == NULL || (a = reply_arena()) == NULL) {
		rv = die(EXIT_FAIL, "out of memory");
		goto out;
	}
	if (t.direct && !t.o.has_dom) {
		rv = die(EXIT_FAIL, "%s is a bare store: publishing needs a domain directory", t.label);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *path = argv[optind + i];
		size_t len = 0;
		int fr = read_file(path, MYCEL_BODY_MAX, &bufs[i], &len);
		if (fr != 0) {
			rv = die(EXIT_FAIL, "%s: %s; nothing was published", path,
				 fr == MYCEL_ETOOBIG ? "larger than 8 MiB" : "cannot read the file");
			goto out;
		}
		docs[i].document = bufs[i];
		docs[i].document_len = len;
		docs[i].path = path;
		docs[i].path_len = strlen(path);
	}
	mycel_msg_PublishRequest rq = {.documents = docs, .n_documents = n, .has_dry_run = dry,
				       .dry_run = dry};
	mycel_msg_PublishReply rp;
	mycel_result res;
	rv = mycel_client_publish(t.c, &rq, a, &res, &rp);
	if (rv != 0 || res.status != MYCEL_RPC_OK) {
		rv = call_failed("publish", rv, &res);
		goto out;
	}
	for (size_t i = 0; i < n && i < rp.n_documents; i++) {
		const mycel_msg_Published *d = &rp.documents[i];
		const char *kind = mycel_doc_kind_name((mycel_doc_kind)d->kind);
		const char *file = argv[optind + i];
		if (co.json) {
			printf("{\"file\":");
			json_str(stdout, file);
			printf(",\"kind\":\"%s\",\"domain\":", kind);
			json_str(stdout, S(d->domain));
			printf(",\"id\":");
			json_str(stdout, S(d->id));
			printf(",\"version\":");
			json_str(stdout, S(d->version));
			if (dry)
				printf(",\"dry_run\":true}\n");
			else if (d->unchanged)
				printf(",\"unchanged\":true}\n");
			else
				printf(",\"seq\":%llu}\n", (unsigned long long)d->seq);
			continue;
		}
		printf("%s  ", dry ? "valid    " : d->unchanged ? "unchanged" : "published");
		safe_str(stdout, S(d->domain));
		putchar('/');
		safe_str(stdout, S(d->id));
		putchar(' ');
		safe_str(stdout, S(d->version));
		if (dry)
			printf(" (%s: publishable; dry run, nothing published)\n", kind);
		else if (d->unchanged)
			printf(" (%s: this version is already published)\n", kind);
		else
			printf(" (%s, seq %llu)\n", kind, (unsigned long long)d->seq);
	}
	rv = 0;
out:
	for (size_t i = 0; bufs != NULL && i < n; i++)
		free(bufs[i]);
	free(bufs);
	free(docs);
	mycel_arena_free(a);
	close_target(&t);
	return rv;
}

/* DOMAIN/ID into its parts. */
static int split_ref(const char *ref, char *domain, size_t dn, const char **id)
{
	const char *slash = strchr(ref, '/');
	if (slash == NULL || slash == ref || slash[1] == '\0' || (size_t)(slash - ref) >= dn)
		return -1;
	memcpy(domain, ref, (size_t)(slash - ref));
	domain[slash - ref] = '\0';
	*id = slash + 1;
	return 0;
}

static int cmd_lifecycle(int argc, char **argv, mycel_doc_status status)
{
	static const struct option opts[] = {COMMON_OPTS,
					     {"version", required_argument, NULL, 'v'},
					     {"reason", required_argument, NULL, 'r'},
					     {NULL, 0, NULL, 0}};
	const char *cmd = status == MYCEL_STATUS_DEPRECATED ? "deprecate" : "retire";
	const char *done = mycel_doc_status_name(status);
	const char *version = NULL, *reason = "";
	common co = {0};
	char use[200];
	snprintf(use, sizeof(use), "usage: mycel %s DOMAIN/ID --version V [--reason TEXT] " COMMON_USAGE,
		 cmd);
	int c, k;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((k = common_opt(c, cmd, &co)) != 0) {
			if (k != 1)
				return k;
		} else if (c == 'v') {
			version = optarg;
		} else if (c == 'r') {
			reason = optarg;
		} else {
			return usage_error(cmd, "%s", use);
		}
	}
	char domain[65];
	const char *id;
	if (optind != argc - 1 || version == NULL || split_ref(argv[optind], domain, sizeof(domain), &id) != 0)
		return usage_error(cmd, "%s", use);
	target t;
	int rv = open_target(&co, cmd, true, &t);
	if (rv != 0)
		return rv;
	mycel_arena *a = reply_arena();
	mycel_msg_StatusReply st;
	mycel_msg_ChangeStatusReply rp;
	mycel_result res;
	if (a == NULL) {
		rv = die(EXIT_FAIL, "out of memory");
		goto out;
	}
	if (t.direct && !t.o.has_dom) {
		rv = die(EXIT_FAIL, "%s is a bare store: publishing needs a domain directory", t.label);
		goto out;
	}
	/* the node changes statuses in its own domain's feed only: say so before writing */
	if ((rv = target_status(&t, cmd, a, &st)) != 0)
		goto out;
	const char *mine = charter_domain(t.c, st.node_key, st.node_key_len);
	if (mine != NULL && strcmp(mine, domain) != 0) {
		rv = die(EXIT_FAIL, "%s belongs to domain %s; only its owner can change its status (this is %s)",
			 argv[optind], domain, mine);
		goto out;
	}
	mycel_msg_ChangeStatusRequest rq = {.id = id, .id_len = strlen(id), .version = version,
					    .version_len = strlen(version), .reason = reason,
					    .reason_len = strlen(reason)};
	rv = status == MYCEL_STATUS_DEPRECATED ? mycel_client_deprecate(t.c, &rq, a, &res, &rp)
					       : mycel_client_retire(t.c, &rq, a, &res, &rp);
	if (rv != 0 || res.status != MYCEL_RPC_OK) {
		rv = call_failed(cmd, rv, &res);
		goto out;
	}
	mycel_entry e;
	if (rp.entry == NULL || rp.entry->entry == NULL ||
	    mycel_entry_decode(rp.entry->entry, rp.entry->entry_len, &e) != 0) {
		rv = die(EXIT_FAIL, "%s: the reply carries no entry", cmd);
		goto out;
	}
	if (co.json) {
		printf("{\"status\":\"%s\",\"domain\":", done);
		json_str(stdout, domain);
		printf(",\"id\":");
		json_str(stdout, id);
		printf(",\"version\":");
		json_str(stdout, version);
		printf(",\"seq\":%llu}\n", (unsigned long long)e.h.seq);
	} else {
		printf("%s %s %s (lifecycle, seq %llu)\n", done, argv[optind], version,
		       (unsigned long long)e.h.seq);
	}
out:
	mycel_arena_free(a);
	close_target(&t);
	return rv;
}

static int cmd_deprecate(int argc, char **argv)
{
	return cmd_lifecycle(argc, argv, MYCEL_STATUS_DEPRECATED);
}

static int cmd_retire(int argc, char **argv)
{
	return cmd_lifecycle(argc, argv, MYCEL_STATUS_RETIRED);
}

/* ---- get, search, lineage, reindex ------------------------------------------------------------------ */

static int cmd_get(int argc, char **argv)
{
	static const struct option opts[] = {COMMON_OPTS,
					     {"version", required_argument, NULL, 'v'},
					     {"doc", no_argument, NULL, 'D'},
					     {NULL, 0, NULL, 0}};
	static const char use[] = "usage: mycel get DOMAIN/ID [--version V] [--doc] " COMMON_USAGE;
	const char *version = NULL;
	common co = {0};
	bool show_doc = false;
	int c, k;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((k = common_opt(c, "get", &co)) != 0) {
			if (k != 1)
				return k;
		} else if (c == 'v') {
			version = optarg;
		} else if (c == 'D') {
			show_doc = true;
		} else {
			return usage_error("get", "%s", use);
		}
	}
	char domain[65];
	const char *id;
	if (optind != argc - 1 || split_ref(argv[optind], domain, sizeof(domain), &id) != 0)
		return usage_error("get", "%s", use);
	target t;
	int rv = open_target(&co, "get", false, &t);
	if (rv != 0)
		return rv;
	bool json = co.json;
	mycel_arena *a = reply_arena();
	mycel_buf out;
	mycel_buf_init(&out, (size_t)64 << 20);
	mycel_msg_GetRequest rq = {.domain = domain, .domain_len = strlen(domain), .id = id,
				   .id_len = strlen(id), .version = version,
				   .version_len = version ? strlen(version) : 0};
	mycel_msg_GetReply doc;
	mycel_result res;
	if (a == NULL) {
		rv = die(EXIT_FAIL, "out of memory");
		goto out;
	}
	rv = mycel_client_get(t.c, &rq, a, &res, &doc);
	if (rv != 0 || res.status != MYCEL_RPC_OK) {
		rv = call_failed("get", rv, &res);
		goto out;
	}
	if (doc.n_entries != 1 || !doc.has_shown || doc.shown >= doc.n_versions ||
	    doc.current >= doc.n_versions) {
		rv = die(EXIT_FAIL, "get: the reply carries no version to show");
		goto out;
	}
	const mycel_msg_DocVersion *sv = &doc.versions[doc.shown];
	/* verified by the client: the entry's signature, its body and that it is this version */
	const char *check = t.verify ? "verified (entry signature and body hash)"
				     : "not checked (--no-verify: the node is trusted)";
	mycel_value *tree = NULL;
	if (mycel_value_decode(doc.entries[0].body, doc.entries[0].body_len, MYCEL_BODY_MAX, a,
			       &tree, NULL) != 0 ||
	    mycel_value_render(tree, &out) != 0) {
		rv = die(EXIT_FAIL, "%s: the stored body does not decode (run mycel verify)", argv[optind]);
		goto out;
	}
	const char *kind = mycel_doc_kind_name((mycel_doc_kind)doc.kind);
	char feed[2 * MYCEL_PK_LEN + 1] = "", ts[40];
	if (sv->feed != NULL && sv->feed_len == MYCEL_PK_LEN)
		mycel_hex(sv->feed, MYCEL_PK_LEN, feed);
	if (json) {
		printf("{\"kind\":\"%s\",\"domain\":", kind);
		json_str(stdout, S(doc.domain));
		printf(",\"id\":");
		json_str(stdout, S(doc.id));
		printf(",\"name\":");
		json_str(stdout, S(doc.name));
		printf(",\"owner\":{\"domain\":");
		json_str(stdout, S(doc.domain));
		printf(",\"feed\":\"%s\"},\"version\":", feed);
		json_str(stdout, S(sv->version));
		printf(",\"current\":");
		json_str(stdout, S(doc.versions[doc.current].version));
		printf(",\"signature\":\"%s\",\"versions\":[", t.verify ? "verified" : "unchecked");
		for (size_t i = 0; i < doc.n_versions; i++) {
			printf("%s{\"version\":", i ? "," : "");
			json_str(stdout, S(doc.versions[i].version));
			printf(",\"status\":\"%s\",\"seq\":%llu,\"ts_ms\":%llu}",
			       mycel_doc_status_name((mycel_doc_status)doc.versions[i].status),
			       (unsigned long long)doc.versions[i].seq,
			       (unsigned long long)doc.versions[i].ts_ms);
		}
		printf("],\"document\":%s}\n", (const char *)out.data);
		goto out;
	}
	printf("%s", c_bold());
	safe_str(stdout, S(doc.domain));
	putchar('/');
	safe_str(stdout, S(doc.id));
	printf("%s  ", c_off());
	safe_str(stdout, doc.name && doc.name[0] ? doc.name : "-");
	printf(" (%s)\n", kind);
	printf("owner      domain %s, feed %s\n", S(doc.domain), feed);
	printf("shown      version %s, %s, seq %llu\n", S(sv->version),
	       mycel_doc_status_name((mycel_doc_status)sv->status), (unsigned long long)sv->seq);
	printf("signature  %s%s%s\n", t.verify ? c_green() : c_red(), check, c_off());
	if (doc.description && doc.description[0]) {
		printf("about      ");
		safe_str(stdout, doc.description);
		putchar('\n');
	}
	printf("versions\n");
	for (size_t i = 0; i < doc.n_versions; i++) {
		iso_time(doc.versions[i].ts_ms, ts, sizeof(ts));
		printf("  %-12s %-10s seq %-6llu %s%s\n", S(doc.versions[i].version),
		       mycel_doc_status_name((mycel_doc_status)doc.versions[i].status),
		       (unsigned long long)doc.versions[i].seq, ts,
		       i == doc.current ? "  (current)" : "");
	}
	if (show_doc)
		printf("document\n%s\n", (const char *)out.data);
out:
	mycel_buf_fini(&out);
	mycel_arena_free(a);
	close_target(&t);
	return rv;
}

static int cmd_search(int argc, char **argv)
{
	static const struct option opts[] = {
	    COMMON_OPTS,
	    {"domain", required_argument, NULL, 'D'},
	    {"kind", required_argument, NULL, 'k'},     {"status", required_argument, NULL, 's'},
	    {"tag", required_argument, NULL, 't'},      {"classification", required_argument, NULL, 'c'},
	    {"server", required_argument, NULL, 'S'},   {"limit", required_argument, NULL, 'l'},
	    {"all", no_argument, NULL, 'a'},
	    {"facets", no_argument, NULL, 'F'},         {NULL, 0, NULL, 0}};
	static const char use[] =
	    "usage: mycel search [QUERY] [--domain D] [--kind contract|product] [--status S] [--tag T]... "
	    "[--classification C] [--server TYPE] [--limit N] [--all] [--facets] " COMMON_USAGE;
	mycel_msg_SearchRequest q;
	mycel_str tags[MYCEL_SEARCH_TAGS_MAX];
	memset(&q, 0, sizeof(q));
	q.has_status = true;
	q.status = MYCEL_STATUS_VISIBLE;
	common co = {0};
	int c, k;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((k = common_opt(c, "search", &co)) != 0) {
			if (k != 1)
				return k;
			continue;
		}
		switch (c) {
		case 'D': q.domain = optarg; q.domain_len = strlen(optarg); break;
		case 'a': q.status = MYCEL_STATUS_ANY; break;
		case 'F': q.has_facets = true; q.facets = true; break;
		case 'c': q.classification = optarg; q.classification_len = strlen(optarg); break;
		case 'S': q.server_type = optarg; q.server_type_len = strlen(optarg); break;
		case 'k':
			q.has_kind = true;
			if (strcmp(optarg, "contract") == 0)
				q.kind = MYCEL_DOC_CONTRACT;
			else if (strcmp(optarg, "product") == 0)
				q.kind = MYCEL_DOC_PRODUCT;
			else
				return usage_error("search", "--kind is contract or product");
			break;
		case 's':
			if (strcmp(optarg, "active") == 0)
				q.status = MYCEL_STATUS_ACTIVE;
			else if (strcmp(optarg, "deprecated") == 0)
				q.status = MYCEL_STATUS_DEPRECATED;
			else if (strcmp(optarg, "retired") == 0)
				q.status = MYCEL_STATUS_RETIRED;
			else
				return usage_error("search", "--status is active, deprecated or retired");
			break;
		case 't':
			if (q.n_tags == MYCEL_SEARCH_TAGS_MAX)
				return usage_error("search", "at most %d tags", MYCEL_SEARCH_TAGS_MAX);
			tags[q.n_tags].ptr = optarg;
			tags[q.n_tags++].len = strlen(optarg);
			q.tags = tags;
			break;
		case 'l': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 1000)
				return usage_error("search", "--limit is 1 to 1000");
			q.has_limit = true;
			q.limit = (uint64_t)v;
			break;
		}
		default: return usage_error("search", "%s", use);
		}
	}
	if (argc - optind > 1)
		return usage_error("search", "quote a query of several words: mycel search \"orders daily\"");
	if (optind < argc) {
		q.text = argv[optind];
		q.text_len = strlen(argv[optind]);
	}
	bool json = co.json;
	target t;
	int rv = open_target(&co, "search", false, &t);
	if (rv != 0)
		return rv;
	mycel_arena *a = reply_arena();
	mycel_msg_SearchReply r;
	mycel_result res;
	if (a == NULL) {
		close_target(&t);
		return die(EXIT_FAIL, "out of memory");
	}
	rv = mycel_client_search(t.c, &q, a, &res, &r);
	if (rv != 0 || res.status != MYCEL_RPC_OK) {
		rv = call_failed("search", rv, &res);
		goto out;
	}
	if (!json && r.n_hits > 0)
		printf("%s%-8s %-40s %-10s %-10s %-11s %s%s\n", c_dim(), "kind", "domain/id", "version", "status",
		       "matched", "name", c_off());
	for (size_t i = 0; i < r.n_hits; i++) {
		const mycel_msg_SearchHit *h = &r.hits[i];
		const char *kind = mycel_doc_kind_name((mycel_doc_kind)h->kind);
		const char *st = mycel_doc_status_name((mycel_doc_status)h->status);
		if (json) {
			printf("{\"kind\":\"%s\",\"domain\":", kind);
			json_str(stdout, S(h->domain));
			printf(",\"id\":");
			json_str(stdout, S(h->id));
			printf(",\"version\":");
			json_str(stdout, S(h->version));
			printf(",\"status\":\"%s\",\"name\":", st);
			json_str(stdout, S(h->name));
			printf(",\"matched\":");
			json_str(stdout, S(h->matched));
			printf(",\"score\":%.3f,\"snippet\":", h->score);
			json_str(stdout, S(h->snippet));
			printf("}\n");
			continue;
		}
		char ref[400];
		snprintf(ref, sizeof(ref), "%s/%s", S(h->domain), S(h->id));
		printf("%-8s ", kind);
		safe_str(stdout, ref);
		printf("%*s %-10s %-10s %-11s ", strlen(ref) < 40 ? (int)(40 - strlen(ref)) : 0, "",
		       S(h->version), st, S(h->matched));
		safe_str(stdout, S(h->name));
		putchar('\n');
	}
	if (!json)
		printf("%s%zu of %s%llu match(es)%s\n", c_dim(), r.n_hits, r.total_exact ? "" : "at least ",
		       (unsigned long long)r.total, c_off());
	for (size_t i = 0; i < r.n_facets; i++) {
		const mycel_msg_FacetCount *fc = &r.facets[i];
		if (json) {
			printf("{\"facet\":");
			json_str(stdout, S(fc->facet));
			printf(",\"value\":");
			json_str(stdout, S(fc->value));
			printf(",\"count\":%llu}\n", (unsigned long long)fc->count);
		} else {
			if (i == 0 || strcmp(S(fc->facet), S(r.facets[i - 1].facet)) != 0) {
				printf("%s  ", i ? "\n" : "facets\n");
				safe_str(stdout, S(fc->facet));
				printf("%*s", (int)(fc->facet_len < 15 ? 15 - fc->facet_len : 0), "");
			}
			printf(" ");
			safe_str(stdout, S(fc->value));
			printf(" (%llu)", (unsigned long long)fc->count);
		}
	}
	if (!json && r.n_facets > 0)
		printf("\n");
	rv = 0;
out:
	mycel_arena_free(a);
	close_target(&t);
	return rv;
}

static int cmd_lineage(int argc, char **argv)
{
	static const struct option opts[] = {COMMON_OPTS,
					     {"up", no_argument, NULL, 'u'},
					     {"down", no_argument, NULL, 'D'},
					     {"depth", required_argument, NULL, 'n'},
					     {NULL, 0, NULL, 0}};
	static const char use[] =
	    "usage: mycel lineage DOMAIN/ID [--up|--down] [--depth N] " COMMON_USAGE;
	mycel_lineage_dir dir = MYCEL_LINEAGE_UP;
	int depth = 3;
	common co = {0};
	int c, k;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((k = common_opt(c, "lineage", &co)) != 0) {
			if (k != 1)
				return k;
			continue;
		}
		switch (c) {
		case 'u': dir = MYCEL_LINEAGE_UP; break;
		case 'D': dir = MYCEL_LINEAGE_DOWN; break;
		case 'n': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 32)
				return usage_error("lineage", "--depth is 1 to 32");
			depth = (int)v;
			break;
		}
		default: return usage_error("lineage", "%s", use);
		}
	}
	char domain[65];
	const char *id;
	if (optind != argc - 1 || split_ref(argv[optind], domain, sizeof(domain), &id) != 0)
		return usage_error("lineage", "%s", use);
	bool json = co.json;
	target t;
	int rv = open_target(&co, "lineage", false, &t);
	if (rv != 0)
		return rv;
	mycel_arena *a = reply_arena();
	mycel_msg_LineageRequest rq = {.domain = domain, .domain_len = strlen(domain), .id = id,
				       .id_len = strlen(id), .has_direction = true,
				       .direction = (uint64_t)dir, .has_depth = true, .depth = depth};
	mycel_msg_LineageReply l;
	mycel_result res;
	bool *last = NULL;
	if (a == NULL) {
		close_target(&t);
		return die(EXIT_FAIL, "out of memory");
	}
	rv = mycel_client_lineage(t.c, &rq, a, &res, &l);
	if (rv != 0 || res.status != MYCEL_RPC_OK) {
		rv = call_failed("lineage", rv, &res);
		goto out;
	}
	/* a node's parent comes before it; anything else is a malformed reply */
	for (size_t i = 0; i < l.n_nodes; i++)
		if (l.nodes[i].depth < 0 || l.nodes[i].depth > 32 ||
		    (i == 0 ? l.nodes[i].parent != -1
			    : (l.nodes[i].parent < 0 || (size_t)l.nodes[i].parent >= i))) {
			rv = die(EXIT_FAIL, "lineage: the reply is not a tree (node %zu)", i);
			goto out;
		}
	/* last[i]: node i is the last child of its parent (for the tree's connectors) */
	last = calloc(l.n_nodes ? l.n_nodes : 1, sizeof(*last));
	if (last == NULL) {
		rv = die(EXIT_FAIL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < l.n_nodes; i++) {
		last[i] = true;
		for (size_t j = i + 1; j < l.n_nodes && l.nodes[j].depth >= l.nodes[i].depth; j++)
			if (l.nodes[j].parent == l.nodes[i].parent) {
				last[i] = false;
				break;
			}
	}
	for (size_t i = 0; i < l.n_nodes; i++) {
		const mycel_msg_LineageNode *nd = &l.nodes[i];
		const char *kind = mycel_doc_kind_name((mycel_doc_kind)nd->kind);
		if (json) {
			printf("{\"depth\":%d,\"parent\":%d,\"kind\":\"%s\",\"domain\":", (int)nd->depth,
			       (int)nd->parent, kind);
			json_str(stdout, S(nd->domain));
			printf(",\"id\":");
			json_str(stdout, S(nd->id));
			printf(",\"name\":");
			json_str(stdout, S(nd->name));
			printf(",\"via\":");
			json_str(stdout, S(nd->via));
			printf(",\"port\":");
			json_str(stdout, S(nd->port));
			printf(",\"dangling\":%s,\"ambiguous\":%s,\"repeated\":%s}\n", nd->dangling ? "true" : "false",
			       nd->ambiguous ? "true" : "false", nd->already_shown ? "true" : "false");
			continue;
		}
		/* connectors: one column per ancestor level, then this node's own */
		char prefix[32 * 8] = "";
		int anc[33], na = 0;
		for (int64_t p = nd->parent; p > 0 && na < 32; p = l.nodes[p].parent)
			anc[na++] = (int)p;
		for (int q = na - 1; q >= 0; q--)
			strcat(prefix, last[anc[q]] ? "   " : "│  ");
		if (nd->depth > 0)
			printf("%s%s", prefix, last[i] ? "└─ " : "├─ ");
		if (nd->dangling) {
			printf("%s? ", c_red());
			safe_str(stdout, S(nd->id));
			printf("%s  no published contract has this id (dangling)", c_off());
		} else if (nd->ambiguous) {
			printf("%s? ", c_red());
			safe_str(stdout, S(nd->id));
			printf("%s  ambiguous, published by", c_off());
			for (size_t q = 0; q < nd->n_candidates; q++) {
				putchar(' ');
				safe_str(stdout, S(nd->candidates[q].ptr));
			}
		} else {
			printf("%s", nd->depth ? "" : c_bold());
			safe_str(stdout, S(nd->domain));
			putchar('/');
			safe_str(stdout, S(nd->id));
			printf("%s  %s", nd->depth ? "" : c_off(), kind);
			if (nd->name && nd->name[0]) {
				printf("  ");
				safe_str(stdout, nd->name);
			}
		}
		if (nd->depth > 0) {
			printf("  %s(%s port ", c_dim(), S(nd->via));
			safe_str(stdout, S(nd->port));
			printf(")%s", c_off());
		}
		printf("%s\n", nd->already_shown ? "  [shown above]" : "");
	}
	rv = 0;
out:
	free(last);
	mycel_arena_free(a);
	close_target(&t);
	return rv;
}

static int cmd_reindex(int argc, char **argv)
{
	static const struct option opts[] = {COMMON_OPTS, {NULL, 0, NULL, 0}};
	static const char use[] = "usage: mycel reindex " COMMON_USAGE;
	common co = {0};
	int c, k;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((k = common_opt(c, "reindex", &co)) != 1)
			return k != 0 ? k : usage_error("reindex", "%s", use);
	}
	if (optind != argc)
		return usage_error("reindex", "%s", use);
	target t;
	int rv = open_target(&co, "reindex", true, &t);
	if (rv != 0)
		return rv;
	if (t.direct && !t.o.has_dom) {
		/* a bare store has no domain key to serve Admin methods with: rebuild it here */
		if ((rv = mycel_store_reindex(t.o.store)) != 0)
			rv = die(EXIT_FAIL, "reindex %s: %s", t.label, mycel_strerror(rv));
	} else {
		mycel_arena *a = reply_arena();
		mycel_msg_ReindexReply r;
		mycel_result res;
		rv = a == NULL ? MYCEL_ENOMEM : mycel_client_reindex(t.c, a, &res, &r);
		if (a == NULL)
			rv = die(EXIT_FAIL, "out of memory");
		else if (rv != 0 || res.status != MYCEL_RPC_OK)
			rv = call_failed("reindex", rv, &res);
		mycel_arena_free(a);
	}
	if (rv == 0) {
		if (co.json) {
			printf("{\"reindexed\":");
			json_str(stdout, t.label);
			printf("}\n");
		} else {
			printf("reindexed %s: every derived table rebuilt from the feeds\n", t.label);
		}
	}
	close_target(&t);
	return rv;
}

static int cmd_pull(int argc, char **argv)
{
	static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
					     {"from", required_argument, NULL, 'f'},
					     {"json", no_argument, NULL, 'j'},
					     {NULL, 0, NULL, 0}};
	static const char use[] = "usage: mycel pull --from DIR [--data DIR] [--json]";
	const char *data = default_data(), *from = NULL;
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			data = optarg;
		else if (c == 'f')
			from = optarg;
		else if (c == 'j')
			json = true;
		else
			return usage_error("pull", "%s", use);
	}
	if (from == NULL || optind != argc)
		return usage_error("pull", "%s", use);
	opened dst, src;
	int rv = open_data(data, false, &dst);
	if (rv != 0)
		return rv;
	if ((rv = open_data(from, true, &src)) != 0) {
		close_data(&dst);
		return rv;
	}
	mycel_pull_stats st;
	char why[512] = "";
	rv = mycel_store_pull(dst.store, src.store, &st, why, sizeof(why));
	if (json)
		printf("{\"charters\":%zu,\"feeds\":%zu,\"accepted\":%zu,\"duplicate\":%zu,\"ok\":%s}\n",
		       st.charters, st.feeds, st.accepted, st.duplicate, rv == 0 ? "true" : "false");
	else
		printf("pulled from %s: %zu charter version(s), %zu feed(s), %zu new entries verified and "
		       "stored, %zu already held\n",
		       from, st.charters, st.feeds, st.accepted, st.duplicate);
	if (rv != 0)
		rv = die(EXIT_FAIL, "pull stopped: %s", why[0] ? why : mycel_strerror(rv));
	close_data(&src);
	close_data(&dst);
	return rv;
}

/* ---- watch ------------------------------------------------------------------------------------- */

typedef struct watch_event {
	const char *domain, *kind, *id, *version, *status;
	const uint8_t *feed;
	uint64_t seq;
} watch_event;

/* A string member of m, or NULL when absent or not a string. */
static const char *ev_str(const mycel_value *m, const char *key)
{
	const mycel_value *v = mycel_value_get(m, key);
	return v != NULL && v->type == MYCEL_T_STR ? v->v.s.ptr : NULL;
}

/* Strictly decodes one change event (include/mycel/node.h); EFORMAT for a wrong shape. */
static int decode_event(const uint8_t *p, size_t n, mycel_arena *a, watch_event *ev)
{
	mycel_value *v = NULL;
	int rv = mycel_value_decode(p, n, 4096, a, &v, NULL);
	if (rv != 0)
		return rv;
	if (v->type != MYCEL_T_MAP || v->v.m.len != 7)
		return MYCEL_EFORMAT;
	const mycel_value *feed = mycel_value_get(v, "feed");
	const mycel_value *seq = mycel_value_get(v, "seq");
	ev->domain = ev_str(v, "domain");
	ev->kind = ev_str(v, "kind");
	ev->id = ev_str(v, "id");
	ev->version = ev_str(v, "version");
	ev->status = ev_str(v, "status");
	if (ev->domain == NULL || ev->kind == NULL || ev->id == NULL || ev->version == NULL ||
	    ev->status == NULL || feed == NULL || feed->type != MYCEL_T_BIN ||
	    feed->v.s.len != MYCEL_PK_LEN || seq == NULL || seq->type != MYCEL_T_UINT)
		return MYCEL_EFORMAT;
	ev->feed = (const uint8_t *)feed->v.s.ptr;
	ev->seq = seq->v.u;
	return 0;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void print_event(const watch_event *ev, bool json)
{
	char when[40], feed[2 * MYCEL_PK_LEN + 1];
	iso_time(wall_ms(), when, sizeof(when));
	if (json) {
		mycel_hex(ev->feed, MYCEL_PK_LEN, feed);
		printf("{\"received\":\"%s\",\"domain\":", when);
		json_str(stdout, ev->domain);
		printf(",\"feed\":\"%s\",\"seq\":%llu,\"kind\":", feed, (unsigned long long)ev->seq);
		json_str(stdout, ev->kind);
		fputs(",\"id\":", stdout);
		json_str(stdout, ev->id);
		fputs(",\"version\":", stdout);
		json_str(stdout, ev->version);
		fputs(",\"status\":", stdout);
		json_str(stdout, ev->status);
		fputs("}\n", stdout);
	} else {
		printf("%s  ", when);
		safe_str(stdout, ev->domain);
		fputc('/', stdout);
		safe_str(stdout, ev->id);
		fputc(' ', stdout);
		safe_str(stdout, ev->version);
		fputs("  ", stdout);
		safe_str(stdout, ev->kind);
		fputs("  ", stdout);
		safe_str(stdout, ev->status);
		printf(" (seq %llu)\n", (unsigned long long)ev->seq);
	}
	fflush(stdout);
}

static int cmd_watch(int argc, char **argv)
{
	static const struct option opts[] = {{"node", required_argument, NULL, 'n'},
					     {"domain", required_argument, NULL, 'D'},
					     {"kind", required_argument, NULL, 'k'},
					     {"count", required_argument, NULL, 'c'},
					     {"timeout", required_argument, NULL, 't'},
					     {"json", no_argument, NULL, 'j'},
					     {NULL, 0, NULL, 0}};
	static const char use[] = "usage: mycel watch --node URL [--domain D] [--kind K] "
				  "[--count N] [--timeout SECONDS] [--json]";
	const char *url = NULL, *domain = NULL, *kind = NULL;
	unsigned long long count = 0, timeout = 0;
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end = NULL;
		if (c == 'n') {
			url = optarg;
		} else if (c == 'D') {
			domain = optarg;
		} else if (c == 'k') {
			kind = optarg;
		} else if (c == 'j') {
			json = true;
		} else if (c == 'c' || c == 't') {
			unsigned long long v = strtoull(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' || v == 0 ||
			    (c == 't' && v > 86400u * 365u))
				return usage_error("watch", "--%s must be a positive integer\n%s",
						   c == 'c' ? "count" : "timeout", use);
			if (c == 'c')
				count = v;
			else
				timeout = v;
		} else {
			return usage_error("watch", "%s", use);
		}
	}
	if (url == NULL || optind != argc)
		return usage_error("watch", "%s", use);

	nng_socket sock;
	int rv = nng_sub0_open(&sock);
	if (rv != 0)
		return die(EXIT_FAIL, "sub0 socket: %s", nng_strerror(rv));
	if ((rv = nng_socket_set(sock, NNG_OPT_SUB_SUBSCRIBE, "", 0)) != 0 ||
	    (rv = nng_socket_set_size(sock, NNG_OPT_RECVMAXSZ, 4096)) != 0 ||
	    (timeout > 0 &&
	     (rv = nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, (nng_duration)(timeout * 1000u))) != 0)) {
		nng_close(sock);
		return die(EXIT_FAIL, "sub0 socket: %s", nng_strerror(rv));
	}
	/* NNG_FLAG_NONBLOCK: keep redialing in the background if the node is not up yet */
	if ((rv = nng_dial(sock, url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		nng_close(sock);
		return die(rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP ? EXIT_USAGE : EXIT_FAIL, "%s: %s",
			   url, nng_strerror(rv));
	}
	fprintf(stderr, "watching %s\n", url);
	fflush(stderr);

	mycel_arena *a = NULL;
	unsigned long long seen = 0;
	int ret = 0;
	while (count == 0 || seen < count) {
		void *msg = NULL;
		size_t len = 0;
		rv = nng_recv(sock, &msg, &len, NNG_FLAG_ALLOC);
		if (rv == NNG_ETIMEDOUT)
			break; /* no event for --timeout seconds: done */
		if (rv != 0) {
			ret = die(EXIT_FAIL, "%s: %s", url, nng_strerror(rv));
			break;
		}
		watch_event ev;
		mycel_arena_free(a);
		a = NULL;
		rv = mycel_arena_new(64u << 10, &a);
		if (rv == 0)
			rv = decode_event(msg, len, a, &ev);
		nng_free(msg, len);
		if (rv == MYCEL_ENOMEM) {
			ret = die(EXIT_FAIL, "out of memory");
			break;
		}
		if (rv != 0) {
			fprintf(stderr, "%s: ignoring a malformed event: %s\n", prog, mycel_strerror(rv));
			continue;
		}
		if ((domain != NULL && strcmp(domain, ev.domain) != 0) ||
		    (kind != NULL && strcmp(kind, ev.kind) != 0))
			continue;
		print_event(&ev, json);
		seen++;
	}
	mycel_arena_free(a);
	nng_close(sock);
	return ret;
}

/* ---- main --------------------------------------------------------------------------------------- */

static void help(FILE *f)
{
	fprintf(f,
		"mycel %s — a federated data-mesh catalog\n"
		"\n"
		"usage: mycel COMMAND [OPTIONS]\n"
		"\n"
		"Catalog commands (on a node or directly on a store, with the same output):\n"
		"  publish FILE... [--dry-run]       lint, sign and store contracts and products\n"
		"                                    (several files: one request, all or none)\n"
		"  deprecate|retire DOMAIN/ID --version V [--reason TEXT]\n"
		"                                    change a published version's status\n"
		"  get DOMAIN/ID [--version V] [--doc]\n"
		"                                    a document: owner, versions, status, signature\n"
		"  search [QUERY] [--domain D] [--kind K] [--status S] [--tag T]... [--classification C]\n"
		"         [--server TYPE] [--limit N] [--all] [--facets]\n"
		"                                    ranked search over the mesh's catalog\n"
		"  lineage DOMAIN/ID [--up|--down] [--depth N]\n"
		"                                    what a document is made from, or what it feeds\n"
		"  log [DOMAIN]                      list the feeds and their entries\n"
		"  verify                            check every signature, chain link, body hash,\n"
		"                                    timestamp and charter step; exit 1 on any failure\n"
		"                                    (on a node: every feed pulled and checked here)\n"
		"  status                            node, mesh id, charter, feeds, entries, documents,\n"
		"                                    peers and uptime (the last two from a node only)\n"
		"  peers                             the peers a node knows (a node only)\n"
		"  reindex                           rebuild the catalog from the feeds\n"
		"\n"
		"  Where they run: --node URL (tcp://HOST:PORT, or ipc://DIR/admin.sock for publish,\n"
		"  deprecate, retire, reindex and peers) > --data DIR > $MYCEL_NODE > the default\n"
		"  directory ($MYCEL_DATA or ./.mycel): through its admin socket while a myceld\n"
		"  serves it, else directly. --data always reads the store directly.\n"
		"  Every entry a node returns is verified against the charter (the directory's\n"
		"  charter.mcc, or fetched from the node: pin it with --mesh-id HEX as `mycel status`\n"
		"  prints it, else it is trusted on first use). --no-verify trusts the node blindly\n"
		"  (unsafe). --timeout MS bounds each call (default 10000). --json: machine output.\n"
		"  Errors from a node: mycel: COMMAND: STATUS: message.\n"
		"\n", MYCEL_VERSION);
	fprintf(f,
		"Local commands (files and stores on this machine; --node does not apply):\n"
		"  keygen --out FILE                 create a secret key (mode 0600); prints the public key\n"
		"  init [--dir DIR] --domain NAME [--key FILE] [--charter FILE] [--mesh NAME]\n"
		"                                    create a domain directory (default ./.mycel)\n"
		"  charter init --mesh NAME --member NAME=PUBKEY... --threshold K\n"
		"               [--domain NAME=PUBKEY...] --out FILE\n"
		"                                    write a new, unsigned genesis charter\n"
		"  charter sign FILE --key KEYFILE   add one member's signature, in place\n"
		"  charter show [FILE | --data DIR]  show a charter file or a store's charter\n"
		"  profile [--data DIR] [--title T] [--description D] [--contact C]... [--node URL]...\n"
		"                                    publish the domain's profile (a `domain` entry);\n"
		"                                    here --node lists the domain's node addresses\n"
		"  lint FILE... [--json]             check ODCS/ODPS documents against their official\n"
		"                                    schema: file:line:col: /pointer: message\n"
		"  pull --from DIR [--data DIR]      copy what another local store holds, verifying\n"
		"                                    every entry as if it came from a peer\n"
		"\n"
		"Node commands:\n"
		"  watch --node URL [--domain D] [--kind K] [--count N] [--timeout SECONDS]\n"
		"                                    print a node's change events (myceld --events)\n"
		"  version                           print the version\n"
		"\n"
		"Exit codes: 0 success, 1 failure, 2 usage.\n");
}

int main(int argc, char **argv)
{
	color = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
	if (argc < 2) {
		help(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	argc--;
	argv++;
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		help(stdout);
		return 0;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("mycel %s\n", MYCEL_VERSION);
		return 0;
	}
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {{"keygen", cmd_keygen},   {"init", cmd_init}, {"charter", cmd_charter},
		    {"profile", cmd_profile}, {"log", cmd_log},   {"verify", cmd_verify},
		    {"lint", cmd_lint},       {"publish", cmd_publish}, {"deprecate", cmd_deprecate},
		    {"retire", cmd_retire},   {"get", cmd_get},   {"search", cmd_search},
		    {"lineage", cmd_lineage}, {"reindex", cmd_reindex}, {"pull", cmd_pull},
		    {"watch", cmd_watch},     {"status", cmd_status}, {"peers", cmd_peers}};
	/* commands that work on local files only: --node has no meaning there; say so */
	static const char *const local_only[] = {"keygen", "init", "charter", "lint", "pull"};
	for (size_t i = 0; i < sizeof(local_only) / sizeof(local_only[0]); i++) {
		if (strcmp(cmd, local_only[i]) != 0)
			continue;
		for (int j = 1; j < argc; j++)
			if (strcmp(argv[j], "--node") == 0 || strncmp(argv[j], "--node=", 7) == 0)
				return usage_error(cmd, "works on local files only: --node does not apply");
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmd, cmds[i].name) == 0)
			return cmds[i].fn(argc, argv);
	return usage_error(cmd, "unknown command");
}
