/*
 * mycel commands on files and stores of this machine (--node does not apply): keygen, init,
 * charter init|sign|show, profile, lint, pull.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mycel/charter.h"
#include "mycel/codec.h"
#include "mycel/diff.h"
#include "mycel/domain.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/lint.h"
#include "mycel/profile.h"
#include "mycel/store.h"

#include "cli_common.h"

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

/* ---- keygen ------------------------------------------------------------------------- */

int cmd_keygen(int argc, char **argv)
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

int cmd_init(int argc, char **argv)
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
					     {"compatibility", required_argument, NULL, 'c'},
					     {NULL, 0, NULL, 0}};
	static const char use[] = "usage: mycel charter init --mesh NAME --member NAME=PUBKEY... "
				  "--threshold K [--domain NAME=PUBKEY...] [--compatibility MODE] "
				  "--out FILE";
	const char *mesh = NULL, *out = NULL, *compat = NULL;
	char *members[MYCEL_MEMBERS_MAX], *domains[256];
	size_t nm = 0, nd = 0;
	long threshold = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm': mesh = optarg; break;
		case 'o': out = optarg; break;
		case 'c': compat = optarg; break;
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
	/* params.compatibility: the contract compatibility mode publishes enforce (docs/contracts.md) */
	if (compat != NULL && mycel_charter_set_param_str(ch, "compatibility", compat) != 0) {
		mycel_charter_free(ch);
		return usage_error("charter init", "--compatibility \"%s\" is not one of BACKWARD, "
				   "BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, "
				   "FULL_TRANSITIVE, NONE", compat);
	}
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
		mycel_compat cm = MYCEL_COMPAT_BACKWARD;
		(void)mycel_compat_from_params(mycel_charter_params(ch), &cm, NULL, 0);
		printf(",\"compatibility\":\"%s\"", mycel_compat_name(cm));
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
	mycel_compat cm = MYCEL_COMPAT_BACKWARD;
	(void)mycel_compat_from_params(mycel_charter_params(ch), &cm, NULL, 0);
	printf("contracts  %s compatibility%s\n", mycel_compat_name(cm),
	       mycel_value_get(mycel_charter_params(ch), "compatibility") ? "" : " (the default)");
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

int cmd_charter(int argc, char **argv)
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

int cmd_profile(int argc, char **argv)
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

int cmd_lint(int argc, char **argv)
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


int cmd_pull(int argc, char **argv)
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
