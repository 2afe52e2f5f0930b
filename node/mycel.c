/*
 * mycel — the command-line tool. Thin over libmycel: parse arguments, call the
 * library, print. Exit codes: 0 success, 1 the operation failed or found
 * problems, 2 usage error.
 */
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
#include "mycel/codec.h"
#include "mycel/domain.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/lint.h"
#include "mycel/profile.h"
#include "mycel/publish.h"
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

/* The name the charter gives feed, or "feed:" and the first 16 hex digits. */
static void feed_label(const mycel_store *s, const uint8_t feed[MYCEL_PK_LEN], char *out, size_t n)
{
	const mycel_charter *c = mycel_store_charter(s);
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

/* ---- log ------------------------------------------------------------------------------------ */

typedef struct log_ctx {
	bool json;
	const char *label;
	size_t n;
} log_ctx;

static int log_entry(void *ctx, const mycel_entry *e, const uint8_t *body, size_t body_len)
{
	log_ctx *l = ctx;
	char ts[40], id[2 * MYCEL_HASH_LEN + 1], bh[2 * MYCEL_HASH_LEN + 1];
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
	(void)body;
	return 0;
}

typedef struct feeds_ctx {
	mycel_store *s;
	bool json;
	const char *only; /* domain name filter or NULL */
	size_t shown;
	int rv;
} feeds_ctx;

static int log_feed(void *ctx, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
		    const uint8_t id[MYCEL_HASH_LEN])
{
	feeds_ctx *f = ctx;
	char label[80], hex[2 * MYCEL_PK_LEN + 1];
	(void)id;
	feed_label(f->s, feed, label, sizeof(label));
	if (f->only != NULL && strcmp(f->only, label) != 0)
		return 0;
	f->shown++;
	mycel_hex(feed, MYCEL_PK_LEN, hex);
	if (!f->json) {
		printf("%s%s%s  %sfeed %s%s  %llu entr%s\n", c_bold(), label, c_off(), c_dim(), hex,
		       c_off(), (unsigned long long)seq, seq == 1 ? "y" : "ies");
		printf("  %s%5s  %-24s  %-10s %-17s  %s%s\n", c_dim(), "seq", "time (UTC)", "kind", "id",
		       "body", c_off());
	}
	log_ctx l = {f->json, label, 0};
	int rv = mycel_store_scan(f->s, feed, 1, log_entry, &l);
	if (rv != 0)
		f->rv = rv;
	return 0;
}

static int cmd_log(int argc, char **argv)
{
	static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
					     {"json", no_argument, NULL, 'j'},
					     {NULL, 0, NULL, 0}};
	const char *data = default_data();
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			data = optarg;
		else if (c == 'j')
			json = true;
		else
			return usage_error("log", "usage: mycel log [DOMAIN] [--data DIR] [--json]");
	}
	if (argc - optind > 1)
		return usage_error("log", "usage: mycel log [DOMAIN] [--data DIR] [--json]");
	opened o;
	int rv = open_data(data, true, &o);
	if (rv != 0)
		return rv;
	feeds_ctx f = {o.store, json, optind < argc ? argv[optind] : NULL, 0, 0};
	rv = mycel_store_feeds(o.store, log_feed, &f);
	if (rv == 0)
		rv = f.rv;
	if (rv != 0)
		rv = die(EXIT_FAIL, "%s: %s (run `mycel verify`)", o.store_path, mycel_strerror(rv));
	else if (f.only != NULL && f.shown == 0)
		rv = die(EXIT_FAIL, "no feed of domain \"%s\" in %s", f.only, o.store_path);
	else if (f.shown == 0 && !json)
		printf("%s holds no entries yet\n", o.store_path);
	close_data(&o);
	return rv;
}

/* ---- verify ------------------------------------------------------------------------------------- */

typedef struct verify_ctx {
	mycel_store *s;
	bool json;
} verify_ctx;

static void on_problem(void *ctx, const mycel_problem *p)
{
	verify_ctx *v = ctx;
	char label[80] = "", hex[2 * MYCEL_PK_LEN + 1] = "";
	if (p->has_feed) {
		feed_label(v->s, p->feed, label, sizeof(label));
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

static int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
					     {"json", no_argument, NULL, 'j'},
					     {NULL, 0, NULL, 0}};
	const char *data = default_data();
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			data = optarg;
		else if (c == 'j')
			json = true;
		else
			return usage_error("verify", "usage: mycel verify [--data DIR] [--json]");
	}
	if (optind != argc)
		return usage_error("verify", "usage: mycel verify [--data DIR] [--json] "
					     "(audit bundles come with `mycel audit`)");
	opened o;
	int rv = open_data(data, true, &o);
	if (rv != 0)
		return rv;
	verify_ctx v = {o.store, json};
	mycel_verify_stats st;
	rv = mycel_store_verify(o.store, on_problem, &v, &st);
	if (rv != 0) {
		close_data(&o);
		return die(EXIT_FAIL, "verify %s: %s", o.store_path, mycel_strerror(rv));
	}
	if (json) {
		printf("{\"store\":");
		json_str(stdout, o.store_path);
		printf(",\"charters\":%zu,\"feeds\":%zu,\"entries\":%zu,\"bodies\":%zu,\"forks\":%zu,"
		       "\"problems\":%zu,\"ok\":%s}\n",
		       st.charters, st.feeds, st.entries, st.bodies, st.forks, st.problems,
		       st.problems ? "false" : "true");
	} else {
		printf("%s: %zu charter version(s), %zu feed(s), %zu entries, %zu bodies, %zu fork "
		       "proof(s)\n",
		       o.store_path, st.charters, st.feeds, st.entries, st.bodies, st.forks);
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
	close_data(&o);
	return st.problems ? EXIT_FAIL : 0;
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

static int cmd_publish(int argc, char **argv)
{
	static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
					     {"json", no_argument, NULL, 'j'},
					     {NULL, 0, NULL, 0}};
	const char *data = default_data();
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			data = optarg;
		else if (c == 'j')
			json = true;
		else
			return usage_error("publish", "usage: mycel publish FILE... [--data DIR] [--json]");
	}
	if (optind >= argc)
		return usage_error("publish", "usage: mycel publish FILE... [--data DIR] [--json]");
	size_t n = (size_t)(argc - optind);
	opened o;
	mycel_key *key = NULL;
	int rv = open_domain(data, &o, &key);
	if (rv != 0)
		return rv;
	mycel_arena *a = NULL;
	mycel_publish_item *items = calloc(n, sizeof(*items));
	mycel_diags *diags = calloc(n, sizeof(*diags));
	size_t bad = 0;
	if (items == NULL || diags == NULL || mycel_arena_new((size_t)2 << 30, &a) != 0) {
		rv = die(EXIT_FAIL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		mycel_value *doc;
		mycel_diags_init(&diags[i], 0);
		items[i].diags = &diags[i];
		if (mycel_lint_file(argv[optind + i], a, &doc, &items[i].info, &diags[i]) != 0)
			bad++;
		items[i].doc = doc;
	}
	if (bad == 0)
		rv = mycel_publish(o.store, key, o.dom.name, items, n);
	for (size_t i = 0; i < n; i++)
		print_findings(argv[optind + i], &diags[i]);
	if (bad > 0 || rv != 0) {
		rv = die(EXIT_FAIL, "publish refused: %s; nothing was published",
			 bad ? "fix the findings above" : mycel_strerror(rv));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const mycel_publish_item *it = &items[i];
		const char *kind = mycel_doc_kind_name(it->info.kind);
		if (json) {
			printf("{\"file\":");
			json_str(stdout, argv[optind + i]);
			printf(",\"kind\":\"%s\",\"domain\":", kind);
			json_str(stdout, o.dom.name);
			printf(",\"id\":");
			json_str(stdout, it->info.id);
			printf(",\"version\":");
			json_str(stdout, it->info.version);
			if (it->unchanged)
				printf(",\"unchanged\":true}\n");
			else
				printf(",\"seq\":%llu}\n", (unsigned long long)it->entry.h.seq);
		} else if (it->unchanged) {
			printf("unchanged  %s/%s %s (%s: this version is already published)\n", o.dom.name,
			       it->info.id, it->info.version, kind);
		} else {
			printf("published  %s/%s %s (%s, seq %llu)\n", o.dom.name, it->info.id,
			       it->info.version, kind, (unsigned long long)it->entry.h.seq);
		}
	}
	rv = 0;
out:
	for (size_t i = 0; diags != NULL && i < n; i++)
		mycel_diags_fini(&diags[i]);
	free(diags);
	free(items);
	mycel_arena_free(a);
	mycel_key_free(key);
	close_data(&o);
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
	static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
					     {"version", required_argument, NULL, 'v'},
					     {"reason", required_argument, NULL, 'r'},
					     {NULL, 0, NULL, 0}};
	const char *cmd = mycel_doc_status_name(status);
	const char *data = default_data(), *version = NULL, *reason = "";
	char use[160];
	snprintf(use, sizeof(use), "usage: mycel %s DOMAIN/ID --version V [--reason TEXT] [--data DIR]",
		 status == MYCEL_STATUS_DEPRECATED ? "deprecate" : "retire");
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			data = optarg;
		else if (c == 'v')
			version = optarg;
		else if (c == 'r')
			reason = optarg;
		else
			return usage_error(cmd, "%s", use);
	}
	char domain[65];
	const char *id;
	if (optind != argc - 1 || version == NULL || split_ref(argv[optind], domain, sizeof(domain), &id) != 0)
		return usage_error(cmd, "%s", use);
	opened o;
	mycel_key *key = NULL;
	int rv = open_domain(data, &o, &key);
	if (rv != 0)
		return rv;
	char why[512] = "";
	mycel_entry e;
	if (strcmp(domain, o.dom.name) != 0) {
		rv = die(EXIT_FAIL, "%s belongs to domain %s; only its owner can change its status (this is %s)",
			 argv[optind], domain, o.dom.name);
	} else if ((rv = mycel_publish_lifecycle(o.store, key, domain, id, version, status, reason, &e, why,
						 sizeof(why))) != 0) {
		rv = die(EXIT_FAIL, "%s: %s", cmd, why);
	} else {
		printf("%s %s %s (lifecycle, seq %llu)\n", cmd, argv[optind], version,
		       (unsigned long long)e.h.seq);
	}
	mycel_key_free(key);
	close_data(&o);
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
	static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
					     {"version", required_argument, NULL, 'v'},
					     {"json", no_argument, NULL, 'j'},
					     {"doc", no_argument, NULL, 'D'},
					     {NULL, 0, NULL, 0}};
	static const char use[] = "usage: mycel get DOMAIN/ID [--version V] [--doc] [--data DIR] [--json]";
	const char *data = default_data(), *version = NULL;
	bool json = false, show_doc = false;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			data = optarg;
		else if (c == 'v')
			version = optarg;
		else if (c == 'j')
			json = true;
		else if (c == 'D')
			show_doc = true;
		else
			return usage_error("get", "%s", use);
	}
	char domain[65];
	const char *id;
	if (optind != argc - 1 || split_ref(argv[optind], domain, sizeof(domain), &id) != 0)
		return usage_error("get", "%s", use);
	opened o;
	int rv = open_data(data, true, &o);
	if (rv != 0)
		return rv;
	mycel_catalog_doc doc;
	memset(&doc, 0, sizeof(doc));
	mycel_arena *a = NULL;
	mycel_buf out;
	mycel_buf_init(&out, (size_t)64 << 20);
	rv = mycel_catalog_get(o.store, domain, id, version, &doc);
	if (rv != 0) {
		rv = die(EXIT_FAIL, "%s%s%s: %s", argv[optind], version ? " version " : "", version ? version : "",
			 rv == MYCEL_ENOTFOUND ? "not published" : mycel_strerror(rv));
		goto out;
	}
	/* Check what is shown: the entry's signature and the body against its hash. */
	const mycel_doc_version *sv = &doc.versions[doc.shown];
	mycel_entry e;
	const char *check = "verified";
	int vr = mycel_store_get(o.store, sv->feed, sv->seq, &e);
	if (vr != 0 || mycel_entry_verify(&e, sv->feed) != 0 ||
	    mycel_entry_check_body(&e, doc.body, doc.body_len) != 0)
		check = "FAILED (run mycel verify)";
	mycel_value *tree = NULL;
	if (mycel_arena_new((size_t)1 << 30, &a) != 0 ||
	    mycel_value_decode(doc.body, doc.body_len, MYCEL_BODY_MAX, a, &tree, NULL) != 0 ||
	    mycel_value_render(tree, &out) != 0) {
		rv = die(EXIT_FAIL, "%s: the stored body does not decode (run mycel verify)", argv[optind]);
		goto out;
	}
	char feed[2 * MYCEL_PK_LEN + 1], ts[40];
	mycel_hex(sv->feed, MYCEL_PK_LEN, feed);
	if (json) {
		printf("{\"kind\":\"%s\",\"domain\":", mycel_doc_kind_name(doc.kind));
		json_str(stdout, doc.domain);
		printf(",\"id\":");
		json_str(stdout, doc.id);
		printf(",\"name\":");
		json_str(stdout, doc.name);
		printf(",\"owner\":{\"domain\":");
		json_str(stdout, doc.domain);
		printf(",\"feed\":\"%s\"},\"version\":", feed);
		json_str(stdout, sv->version);
		printf(",\"current\":");
		json_str(stdout, doc.versions[doc.current].version);
		printf(",\"signature\":\"%s\",\"versions\":[", strcmp(check, "verified") == 0 ? "verified" : "failed");
		for (size_t i = 0; i < doc.n_versions; i++) {
			printf("%s{\"version\":", i ? "," : "");
			json_str(stdout, doc.versions[i].version);
			printf(",\"status\":\"%s\",\"seq\":%llu,\"ts_ms\":%llu}",
			       mycel_doc_status_name(doc.versions[i].status),
			       (unsigned long long)doc.versions[i].seq,
			       (unsigned long long)doc.versions[i].ts_ms);
		}
		printf("],\"document\":%s}\n", (const char *)out.data);
		goto out;
	}
	printf("%s%s/%s%s  %s (%s)\n", c_bold(), doc.domain, doc.id, c_off(), doc.name[0] ? doc.name : "-",
	       mycel_doc_kind_name(doc.kind));
	printf("owner      domain %s, feed %s\n", doc.domain, feed);
	printf("shown      version %s, %s, seq %llu\n", sv->version, mycel_doc_status_name(sv->status),
	       (unsigned long long)sv->seq);
	printf("signature  %s%s%s (entry signature and body hash)\n",
	       strcmp(check, "verified") == 0 ? c_green() : c_red(), check, c_off());
	if (doc.description && doc.description[0]) {
		printf("about      ");
		safe_str(stdout, doc.description);
		putchar('\n');
	}
	printf("versions\n");
	for (size_t i = 0; i < doc.n_versions; i++) {
		iso_time(doc.versions[i].ts_ms, ts, sizeof(ts));
		printf("  %-12s %-10s seq %-6llu %s%s\n", doc.versions[i].version,
		       mycel_doc_status_name(doc.versions[i].status), (unsigned long long)doc.versions[i].seq,
		       ts, i == doc.current ? "  (current)" : "");
	}
	if (show_doc)
		printf("document\n%s\n", (const char *)out.data);
out:
	mycel_buf_fini(&out);
	mycel_arena_free(a);
	mycel_catalog_doc_fini(&doc);
	close_data(&o);
	return rv;
}

static int cmd_search(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"data", required_argument, NULL, 'd'},     {"domain", required_argument, NULL, 'D'},
	    {"kind", required_argument, NULL, 'k'},     {"status", required_argument, NULL, 's'},
	    {"tag", required_argument, NULL, 't'},      {"classification", required_argument, NULL, 'c'},
	    {"server", required_argument, NULL, 'S'},   {"limit", required_argument, NULL, 'l'},
	    {"all", no_argument, NULL, 'a'},            {"json", no_argument, NULL, 'j'},
	    {"facets", no_argument, NULL, 'F'},         {NULL, 0, NULL, 0}};
	static const char use[] =
	    "usage: mycel search [QUERY] [--domain D] [--kind contract|product] [--status S] [--tag T]... "
	    "[--classification C] [--server TYPE] [--limit N] [--all] [--facets] [--json]";
	bool facets = false;
	mycel_search_query q;
	memset(&q, 0, sizeof(q));
	q.status = MYCEL_STATUS_VISIBLE;
	const char *data = default_data();
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'D': q.domain = optarg; break;
		case 'j': json = true; break;
		case 'a': q.status = MYCEL_STATUS_ANY; break;
		case 'F': facets = true; break;
		case 'c': q.classification = optarg; break;
		case 'S': q.server_type = optarg; break;
		case 'k':
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
			q.tags[q.n_tags++] = optarg;
			break;
		case 'l': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 1000)
				return usage_error("search", "--limit is 1 to 1000");
			q.limit = (size_t)v;
			break;
		}
		default: return usage_error("search", "%s", use);
		}
	}
	if (argc - optind > 1)
		return usage_error("search", "quote a query of several words: mycel search \"orders daily\"");
	if (optind < argc)
		q.text = argv[optind];
	opened o;
	int rv = open_data(data, true, &o);
	if (rv != 0)
		return rv;
	mycel_search_result r;
	memset(&r, 0, sizeof(r));
	if ((rv = mycel_catalog_search(o.store, &q, &r)) != 0) {
		close_data(&o);
		return die(EXIT_FAIL, "search: %s", mycel_strerror(rv));
	}
	if (!json && r.n > 0)
		printf("%s%-8s %-40s %-10s %-10s %-11s %s%s\n", c_dim(), "kind", "domain/id", "version", "status",
		       "matched", "name", c_off());
	for (size_t i = 0; i < r.n; i++) {
		const mycel_search_hit *h = &r.hits[i];
		if (json) {
			printf("{\"kind\":\"%s\",\"domain\":", mycel_doc_kind_name(h->kind));
			json_str(stdout, h->domain);
			printf(",\"id\":");
			json_str(stdout, h->id);
			printf(",\"version\":");
			json_str(stdout, h->version);
			printf(",\"status\":\"%s\",\"name\":", mycel_doc_status_name(h->status));
			json_str(stdout, h->name);
			printf(",\"matched\":\"%s\",\"score\":%.3f,\"snippet\":", h->matched, h->score);
			json_str(stdout, h->snippet);
			printf("}\n");
			continue;
		}
		char ref[400];
		snprintf(ref, sizeof(ref), "%s/%s", h->domain, h->id);
		printf("%-8s %-40s %-10s %-10s %-11s ", mycel_doc_kind_name(h->kind), ref, h->version,
		       mycel_doc_status_name(h->status), h->matched);
		safe_str(stdout, h->name);
		putchar('\n');
	}
	if (!json)
		printf("%s%zu of %s%zu match(es)%s\n", c_dim(), r.n, r.total_exact ? "" : "at least ",
		       r.total, c_off());
	mycel_search_result_fini(&r);
	mycel_facet_count *fc = NULL;
	size_t nf = 0;
	if (facets && (rv = mycel_catalog_facets(o.store, &q, &fc, &nf)) != 0) {
		close_data(&o);
		return die(EXIT_FAIL, "facets: %s", mycel_strerror(rv));
	}
	for (size_t i = 0; i < nf; i++) {
		if (json) {
			printf("{\"facet\":\"%s\",\"value\":", fc[i].facet);
			json_str(stdout, fc[i].value);
			printf(",\"count\":%zu}\n", fc[i].count);
		} else {
			if (i == 0 || strcmp(fc[i].facet, fc[i - 1].facet) != 0)
				printf("%s  %-15s", i ? "\n" : "facets\n", fc[i].facet);
			printf(" ");
			safe_str(stdout, fc[i].value);
			printf(" (%zu)", fc[i].count);
		}
	}
	if (!json && nf > 0)
		printf("\n");
	free(fc);
	close_data(&o);
	return 0;
}

static int cmd_lineage(int argc, char **argv)
{
	static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
					     {"up", no_argument, NULL, 'u'},
					     {"down", no_argument, NULL, 'D'},
					     {"depth", required_argument, NULL, 'n'},
					     {"json", no_argument, NULL, 'j'},
					     {NULL, 0, NULL, 0}};
	static const char use[] = "usage: mycel lineage DOMAIN/ID [--up|--down] [--depth N] [--data DIR] [--json]";
	const char *data = default_data();
	mycel_lineage_dir dir = MYCEL_LINEAGE_UP;
	int depth = 3;
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'u': dir = MYCEL_LINEAGE_UP; break;
		case 'D': dir = MYCEL_LINEAGE_DOWN; break;
		case 'j': json = true; break;
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
	opened o;
	int rv = open_data(data, true, &o);
	if (rv != 0)
		return rv;
	mycel_lineage l;
	memset(&l, 0, sizeof(l));
	if ((rv = mycel_catalog_lineage(o.store, domain, id, dir, depth, &l)) != 0) {
		close_data(&o);
		return die(EXIT_FAIL, "%s: %s", argv[optind], rv == MYCEL_ENOTFOUND ? "not published" : mycel_strerror(rv));
	}
	/* last[i]: node i is the last child of its parent (for the tree's connectors) */
	bool *last = calloc(l.n ? l.n : 1, sizeof(*last));
	if (last == NULL) {
		mycel_lineage_fini(&l);
		close_data(&o);
		return die(EXIT_FAIL, "out of memory");
	}
	for (size_t i = 0; i < l.n; i++) {
		last[i] = true;
		for (size_t j = i + 1; j < l.n && l.nodes[j].depth >= l.nodes[i].depth; j++)
			if (l.nodes[j].parent == l.nodes[i].parent) {
				last[i] = false;
				break;
			}
	}
	for (size_t i = 0; i < l.n; i++) {
		const mycel_lineage_node *nd = &l.nodes[i];
		if (json) {
			printf("{\"depth\":%d,\"parent\":%d,\"kind\":\"%s\",\"domain\":", nd->depth, nd->parent,
			       mycel_doc_kind_name(nd->kind));
			json_str(stdout, nd->domain);
			printf(",\"id\":");
			json_str(stdout, nd->id);
			printf(",\"name\":");
			json_str(stdout, nd->name ? nd->name : "");
			printf(",\"via\":\"%s\",\"port\":", nd->via ? nd->via : "");
			json_str(stdout, nd->port);
			printf(",\"dangling\":%s,\"ambiguous\":%s,\"repeated\":%s}\n", nd->dangling ? "true" : "false",
			       nd->ambiguous ? "true" : "false", nd->repeated ? "true" : "false");
			continue;
		}
		/* connectors: one column per ancestor level, then this node's own */
		char prefix[32 * 8] = "";
		int anc[33], na = 0;
		for (int p = nd->parent; p > 0 && na < 32; p = l.nodes[p].parent)
			anc[na++] = p;
		for (int k = na - 1; k >= 0; k--)
			strcat(prefix, last[anc[k]] ? "   " : "│  ");
		if (nd->depth > 0)
			printf("%s%s", prefix, last[i] ? "└─ " : "├─ ");
		if (nd->dangling) {
			printf("%s? %s%s  no published contract has this id (dangling)", c_red(), nd->id, c_off());
		} else if (nd->ambiguous) {
			printf("%s? %s%s  ambiguous, published by", c_red(), nd->id, c_off());
			for (size_t k = 0; k < nd->n_candidates; k++)
				printf(" %s", nd->candidates[k]);
		} else {
			printf("%s%s/%s%s  %s", nd->depth ? "" : c_bold(), nd->domain, nd->id, nd->depth ? "" : c_off(),
			       mycel_doc_kind_name(nd->kind));
			if (nd->name && nd->name[0]) {
				printf("  ");
				safe_str(stdout, nd->name);
			}
		}
		if (nd->depth > 0)
			printf("  %s(%s port %s)%s", c_dim(), nd->via ? nd->via : "", nd->port, c_off());
		printf("%s\n", nd->repeated ? "  [shown above]" : "");
	}
	free(last);
	mycel_lineage_fini(&l);
	close_data(&o);
	return 0;
}

static int cmd_reindex(int argc, char **argv)
{
	static const struct option opts[] = {{"data", required_argument, NULL, 'd'}, {NULL, 0, NULL, 0}};
	const char *data = default_data();
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			data = optarg;
		else
			return usage_error("reindex", "usage: mycel reindex [--data DIR]");
	}
	if (optind != argc)
		return usage_error("reindex", "usage: mycel reindex [--data DIR]");
	opened o;
	int rv = open_data(data, false, &o);
	if (rv != 0)
		return rv;
	if ((rv = mycel_store_reindex(o.store)) != 0)
		rv = die(EXIT_FAIL, "reindex %s: %s", o.store_path, mycel_strerror(rv));
	else
		printf("reindexed %s: every derived table rebuilt from the feeds\n", o.store_path);
	close_data(&o);
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
		"  keygen --out FILE                 create a secret key (mode 0600); prints the public key\n"
		"  init [--dir DIR] --domain NAME [--key FILE] [--charter FILE] [--mesh NAME]\n"
		"                                    create a domain directory (default ./.mycel)\n"
		"  charter init --mesh NAME --member NAME=PUBKEY... --threshold K\n"
		"               [--domain NAME=PUBKEY...] --out FILE\n"
		"                                    write a new, unsigned genesis charter\n"
		"  charter sign FILE --key KEYFILE   add one member's signature, in place\n"
		"  charter show [FILE | --data DIR]  show a charter file or a store's charter\n"
		"  profile [--title T] [--description D] [--contact C]... [--node URL]...\n"
		"                                    publish the domain's profile (a `domain` entry)\n"
		"  lint FILE... [--json]             check ODCS/ODPS documents against their official\n"
		"                                    schema: file:line:col: /pointer: message\n"
		"  publish FILE...                   lint, sign and store contracts and products\n"
		"  deprecate|retire DOMAIN/ID --version V [--reason TEXT]\n"
		"                                    change a published version's status\n"
		"  get DOMAIN/ID [--version V] [--doc]\n"
		"                                    a document: owner, versions, status, signature\n"
		"  search [QUERY] [--domain D] [--kind K] [--status S] [--tag T]... [--all] [--facets]\n"
		"                                    ranked search over the mesh's catalog\n"
		"  lineage DOMAIN/ID [--up|--down] [--depth N]\n"
		"                                    what a document is made from, or what it feeds\n"
		"  watch --node URL [--domain D] [--kind K] [--count N] [--timeout SECONDS]\n"
		"                                    print a node's change events (myceld --events)\n"
		"  reindex                           rebuild the catalog from the feeds\n"
		"  pull --from DIR                   copy what another local store holds, verifying\n"
		"                                    every entry as if it came from a peer\n"
		"  log [DOMAIN]                      list a store's feeds and entries\n"
		"  verify                            check every signature, chain link, body hash,\n"
		"                                    timestamp and charter step; exit 1 on any failure\n"
		"  version                           print the version\n"
		"\n"
		"Common options: --data DIR (a domain directory or a store; default $MYCEL_DATA or\n"
		"./.mycel), --json (machine output). Exit codes: 0 success, 1 failure, 2 usage.\n",
		MYCEL_VERSION);
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
		    {"watch", cmd_watch}};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmd, cmds[i].name) == 0)
			return cmds[i].fn(argc, argv);
	return usage_error(cmd, "unknown command");
}
