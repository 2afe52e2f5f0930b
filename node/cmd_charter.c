/*
 * mycel charter: prepare, co-sign and adopt charter versions offline (PROTOCOL.md §3,
 * docs/governance.md). init writes an unsigned genesis; admit, remove, compromise,
 * set-policy and members write the unsigned version n+1 of a charter file; sign adds one
 * member's signature in place; merge joins the signatures of copies of one version; show
 * says who signed and which threshold is met or missing (against --prev for a version > 1);
 * apply hands a fully signed next version to a store or a running node.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mycel/cel.h"
#include "mycel/charter.h"
#include "mycel/client.h"
#include "mycel/codec.h"
#include "mycel/diff.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/node.h"
#include "mycel/store.h"

#include "cli_common.h"

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
	static const struct option opts[] = {
	    {"mesh", required_argument, NULL, 'm'},      {"member", required_argument, NULL, 'M'},
	    {"threshold", required_argument, NULL, 't'}, {"domain", required_argument, NULL, 'd'},
	    {"out", required_argument, NULL, 'o'},       {"compatibility", required_argument, NULL, 'c'},
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
		case 'm':
			mesh = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'c':
			compat = optarg;
			break;
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
				return usage_error("charter init",
				                   "too many domains (add more later)");
			domains[nd++] = optarg;
			break;
		default:
			return usage_error("charter init", "%s", use);
		}
	}
	if (mesh == NULL || out == NULL || nm == 0 || threshold == 0 || optind != argc)
		return usage_error("charter init", "%s", use);
	if (!mycel_name_valid(mesh))
		return usage_error("charter init",
		                   "mesh name \"%s\" is not valid ([a-z0-9-], 1 to 64)", mesh);
	if ((size_t)threshold > nm)
		return usage_error("charter init", "threshold %ld is more than the %zu members",
		                   threshold, nm);
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
			return usage_error("charter init",
			                   "\"%s\": expected NAME=PUBKEY (64 hex digits)", arg);
		}
		int rv = is_member ? mycel_charter_add_member(ch, name, key)
		                   : mycel_charter_add_domain(ch, name, key);
		if (rv != 0) {
			mycel_charter_free(ch);
			return usage_error(
			    "charter init", "%s \"%s\": %s", is_member ? "member" : "domain", name,
			    rv == MYCEL_EEXIST   ? "name or key given twice"
			    : rv == MYCEL_EINVAL ? "not a valid name ([a-z0-9-], 1 to 64)"
			                         : mycel_strerror(rv));
		}
	}
	int rv = write_charter(out, ch, true);
	if (rv == 0)
		printf(
		    "wrote %s: mesh %s, charter v1, %zu member(s), threshold %ld, %zu domain(s), "
		    "0 signatures\nnext: each member runs `mycel charter sign %s --key KEYFILE`\n",
		    out, mesh, nm, threshold, nd, out);
	mycel_charter_free(ch);
	return rv;
}

static int charter_sign(int argc, char **argv)
{
	static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
	                                     {NULL, 0, NULL, 0}};
	static const char use[] = "usage: mycel charter sign FILE --key KEYFILE";
	const char *keyfile = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'k')
			keyfile = optarg;
		else
			return usage_error("charter sign", "%s", use);
	}
	if (keyfile == NULL || optind != argc - 1)
		return usage_error("charter sign", "%s", use);
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
	char why[256] = "";
	/* a version > 1 may be signed by a member of the version before it only */
	if (mycel_charter_find_member(ch, k->pk) == NULL && mycel_charter_version(ch) == 1) {
		mycel_key_free(k);
		mycel_charter_free(ch);
		return die(EXIT_FAIL, "%s: the key of %s is not a member of this charter", path,
		           keyfile);
	}
	rv = mycel_charter_sign(ch, k, why, sizeof(why));
	mycel_key_free(k);
	if (rv == 0)
		rv = write_charter(path, ch, false);
	else
		rv = die(EXIT_FAIL, "%s: %s", path, why[0] ? why : mycel_strerror(rv));
	if (rv == 0) {
		size_t n = mycel_charter_sig_count(ch);
		uint64_t v = mycel_charter_version(ch);
		int vr =
		    v == 1 ? mycel_charter_verify_genesis(ch, why, sizeof(why)) : MYCEL_ETHRESHOLD;
		printf("signed %s (v%llu): %zu signature(s), threshold %u%s\n", path,
		       (unsigned long long)v, n, mycel_charter_threshold(ch),
		       vr == 0 ? " (reached: the charter is valid)"
		       : v > 1 ? "; `mycel charter show FILE --prev PREVFILE` tells what is missing"
		               : "");
	}
	mycel_charter_free(ch);
	return rv;
}

static int charter_merge(int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
	                                     {NULL, 0, NULL, 0}};
	static const char use[] = "usage: mycel charter merge FILE FILE... --out OUT";
	const char *out = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'o')
			out = optarg;
		else
			return usage_error("charter merge", "%s", use);
	}
	if (out == NULL || argc - optind < 2)
		return usage_error("charter merge", "%s", use);
	mycel_charter *dst = NULL;
	int rv = read_charter(argv[optind], NULL, NULL, &dst);
	for (int i = optind + 1; rv == 0 && i < argc; i++) {
		mycel_charter *src;
		char why[512] = "";
		if ((rv = read_charter(argv[i], NULL, NULL, &src)) != 0)
			break;
		if ((rv = mycel_charter_merge(dst, src, why, sizeof(why))) != 0)
			rv = die(EXIT_FAIL, "%s and %s: %s", argv[optind], argv[i],
			         why[0] ? why : mycel_strerror(rv));
		mycel_charter_free(src);
	}
	if (rv == 0)
		rv = write_charter(out, dst, false);
	if (rv == 0)
		printf("wrote %s: charter v%llu with %zu signature(s) merged from %d file(s)\n",
		       out, (unsigned long long)mycel_charter_version(dst),
		       mycel_charter_sig_count(dst), argc - optind);
	mycel_charter_free(dst);
	return rv;
}

/* ---- show: content, signers, thresholds ------------------------------------------------ */

/* Who of c's members signed sig-holder h with a valid signature. */
typedef struct tally {
	const mycel_charter *of; /* whose members */
	size_t have;
	bool signed_[MYCEL_MEMBERS_MAX];
} tally;

static void count(tally *t, const mycel_charter *of, const mycel_charter *h)
{
	memset(t, 0, sizeof(*t));
	t->of = of;
	for (size_t i = 0; i < mycel_charter_member_count(of); i++) {
		const mycel_charter_member *m = mycel_charter_member_at(of, i);
		for (size_t j = 0; j < mycel_charter_sig_count(h); j++)
			if (memcmp(mycel_charter_sig_at(h, j)->key, m->key, MYCEL_PK_LEN) == 0 &&
			    mycel_charter_sig_valid(h, j)) {
				t->signed_[i] = true;
				t->have++;
			}
	}
}

/* "needs 1 more signature of version 1's members (has alice; needs 2 of alice, bob, carol)" */
static void needs(FILE *f, const tally *t)
{
	uint32_t thr = mycel_charter_threshold(t->of);
	size_t n = mycel_charter_member_count(t->of);
	fprintf(f, "needs %zu more signature%s of version %llu's members (has ",
	        (size_t)thr - t->have, thr - t->have == 1 ? "" : "s",
	        (unsigned long long)mycel_charter_version(t->of));
	bool any = false;
	for (size_t i = 0; i < n; i++)
		if (t->signed_[i]) {
			fprintf(f, "%s%s", any ? ", " : "",
			        mycel_charter_member_at(t->of, i)->name);
			any = true;
		}
	fprintf(f, "%s; needs %u of ", any ? "" : "none", thr);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : "", mycel_charter_member_at(t->of, i)->name);
	fprintf(f, ")");
}

static bool met(const tally *t)
{
	return t->have >= mycel_charter_threshold(t->of);
}

/*
 * The signatures of ch in the order a reader expects: by ch's members in their order, then
 * prev's other members, then keys of neither; order[] gets signature indexes.
 */
static size_t signer_order(const mycel_charter *ch, const mycel_charter *prev, size_t *order)
{
	size_t n = 0, ns = mycel_charter_sig_count(ch);
	const mycel_charter *of[2] = {ch, prev};
	for (int pass = 0; pass < 2 && of[pass] != NULL; pass++)
		for (size_t i = 0; i < mycel_charter_member_count(of[pass]); i++) {
			const uint8_t *mk = mycel_charter_member_at(of[pass], i)->key;
			if (pass == 1 && mycel_charter_find_member(ch, mk) != NULL)
				continue; /* listed with ch's members */
			for (size_t j = 0; j < ns; j++)
				if (memcmp(mycel_charter_sig_at(ch, j)->key, mk, MYCEL_PK_LEN) == 0)
					order[n++] = j;
		}
	for (size_t j = 0; j < ns; j++) {
		const uint8_t *k = mycel_charter_sig_at(ch, j)->key;
		if (mycel_charter_find_member(ch, k) == NULL &&
		    (prev == NULL || mycel_charter_find_member(prev, k) == NULL))
			order[n++] = j;
	}
	return n;
}

/* The name of the signer of signature j: a member of ch or of prev, or its key's first hex digits.
 */
static void signer_name(const mycel_charter *ch, const mycel_charter *prev, size_t j, char *out,
                        size_t n)
{
	const uint8_t *k = mycel_charter_sig_at(ch, j)->key;
	const mycel_charter_member *m = mycel_charter_find_member(ch, k);
	if (m == NULL && prev != NULL)
		m = mycel_charter_find_member(prev, k);
	if (m != NULL) {
		snprintf(out, n, "%s", m->name);
	} else {
		char hex[2 * MYCEL_PK_LEN + 1];
		mycel_hex(k, MYCEL_PK_LEN, hex);
		snprintf(out, n, "key:%.16s (not a member)", hex);
	}
}

static void json_hex(const char *key, const uint8_t *p, size_t n)
{
	char hex[2 * 64 + 1];
	mycel_hex(p, n, hex);
	printf(",\"%s\":\"%s\"", key, hex);
}

static void show_charter(const mycel_charter *ch, const mycel_charter *prev, const uint8_t *mesh_id,
                         bool stored, bool json)
{
	char hex[2 * MYCEL_HASH_LEN + 1], why[512] = "", name[96];
	uint8_t dig[MYCEL_HASH_LEN];
	uint64_t ver = mycel_charter_version(ch);
	int valid;
	if (prev != NULL)
		valid = mycel_charter_verify_next(prev, ch, why, sizeof(why));
	else if (ver == 1)
		valid = mycel_charter_verify_genesis(ch, why, sizeof(why));
	else if (stored)
		valid = 0; /* verified against the chain when the store adopted it */
	else {
		valid = MYCEL_ECHARTER;
		snprintf(why, sizeof(why),
		         "version %llu is checked against the version before it: give --prev FILE",
		         (unsigned long long)ver);
	}
	tally own, old;
	size_t order[2 * MYCEL_MEMBERS_MAX];
	size_t n_order = signer_order(ch, prev, order);
	count(&own, ch, ch);
	if (prev != NULL)
		count(&old, prev, ch);
	(void)mycel_charter_digest(ch, dig);
	if (json) {
		printf("{\"mesh\":");
		json_str(stdout, mycel_charter_mesh(ch));
		printf(",\"version\":%llu,\"threshold\":%u", (unsigned long long)ver,
		       mycel_charter_threshold(ch));
		json_hex("digest", dig, MYCEL_HASH_LEN);
		if (mesh_id != NULL)
			json_hex("mesh_id", mesh_id, MYCEL_HASH_LEN);
		printf(",\"members\":[");
		for (size_t i = 0; i < mycel_charter_member_count(ch); i++) {
			const mycel_charter_member *m = mycel_charter_member_at(ch, i);
			mycel_hex(m->key, MYCEL_PK_LEN, hex);
			printf("%s{\"name\":", i ? "," : "");
			json_str(stdout, m->name);
			printf(",\"key\":\"%s\",\"signed\":%s}", hex,
			       own.signed_[i] ? "true" : "false");
		}
		printf("],\"domains\":[");
		for (size_t i = 0; i < mycel_charter_domain_count(ch); i++) {
			const mycel_charter_domain *d = mycel_charter_domain_at(ch, i);
			mycel_hex(d->feed, MYCEL_PK_LEN, hex);
			printf("%s{\"name\":", i ? "," : "");
			json_str(stdout, d->name);
			printf(",\"feed\":\"%s\"}", hex);
		}
		printf("],\"compromised\":[");
		for (size_t i = 0; i < mycel_charter_compromised_count(ch); i++) {
			const mycel_charter_cut *k = mycel_charter_compromised_at(ch, i);
			printf("%s{\"seq\":%llu", i ? "," : "", (unsigned long long)k->seq);
			json_hex("feed", k->feed, MYCEL_PK_LEN);
			json_hex("successor", k->successor, MYCEL_PK_LEN);
			printf("}");
		}
		printf("],\"signatures\":[");
		for (size_t i = 0; i < mycel_charter_sig_count(ch); i++) {
			mycel_hex(mycel_charter_sig_at(ch, i)->key, MYCEL_PK_LEN, hex);
			printf("%s\"%s\"", i ? "," : "", hex);
		}
		printf("],\"signers\":[");
		for (size_t i = 0; i < n_order; i++) {
			signer_name(ch, prev, order[i], name, sizeof(name));
			printf("%s", i ? "," : "");
			json_str(stdout, name);
		}
		printf("],\"policies\":%zu", mycel_charter_policies(ch)->v.a.len);
		mycel_compat cm = MYCEL_COMPAT_BACKWARD;
		(void)mycel_compat_from_params(mycel_charter_params(ch), &cm, NULL, 0);
		printf(",\"compatibility\":\"%s\"", mycel_compat_name(cm));
		printf(",\"own_signatures\":%zu", own.have);
		if (prev != NULL)
			printf(
			    ",\"prev_version\":%llu,\"prev_signatures\":%zu,\"prev_threshold\":%u",
			    (unsigned long long)mycel_charter_version(prev), old.have,
			    mycel_charter_threshold(prev));
		printf(",\"valid\":%s", valid == 0 ? "true" : "false");
		if (valid != 0) {
			printf(",\"why\":");
			json_str(stdout, why);
		}
		printf("}\n");
		return;
	}
	printf("%smesh%s       %s\n", c_bold(), c_off(), mycel_charter_mesh(ch));
	printf("version    %llu\n", (unsigned long long)ver);
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
		mycel_hex(m->key, MYCEL_PK_LEN, hex);
		printf("  %-20s %s  %s\n", m->name, hex, own.signed_[i] ? "signed" : "-");
	}
	printf("domains\n");
	for (size_t i = 0; i < mycel_charter_domain_count(ch); i++) {
		const mycel_charter_domain *d = mycel_charter_domain_at(ch, i);
		mycel_hex(d->feed, MYCEL_PK_LEN, hex);
		printf("  %-20s %s\n", d->name, hex);
	}
	if (mycel_charter_compromised_count(ch) > 0) {
		printf("compromised\n");
		for (size_t i = 0; i < mycel_charter_compromised_count(ch); i++) {
			const mycel_charter_cut *k = mycel_charter_compromised_at(ch, i);
			const mycel_charter_domain *d = mycel_charter_find_feed(ch, k->successor);
			char sh[2 * MYCEL_PK_LEN + 1];
			mycel_hex(k->feed, MYCEL_PK_LEN, hex);
			mycel_hex(k->successor, MYCEL_PK_LEN, sh);
			printf("  feed %.16s…  valid up to seq %llu, then %s (feed %.16s…)\n", hex,
			       (unsigned long long)k->seq, d != NULL ? d->name : "?", sh);
		}
	}
	printf("policies   %zu\n", mycel_charter_policies(ch)->v.a.len);
	for (size_t i = 0; i < mycel_charter_policies(ch)->v.a.len; i++) {
		const mycel_value *p = &mycel_charter_policies(ch)->v.a.items[i];
		const mycel_value *id = mycel_value_get(p, "id"),
		                  *sev = mycel_value_get(p, "severity");
		printf("  %-20s %s\n", id ? id->v.s.ptr : "?", sev ? sev->v.s.ptr : "?");
	}
	/* after the policy list, which belongs under "policies" */
	mycel_compat cm = MYCEL_COMPAT_BACKWARD;
	(void)mycel_compat_from_params(mycel_charter_params(ch), &cm, NULL, 0);
	printf("contracts  %s compatibility%s\n", mycel_compat_name(cm),
	       mycel_value_get(mycel_charter_params(ch), "compatibility") ? "" : " (the default)");
	printf("signed by  ");
	for (size_t i = 0; i < n_order; i++) {
		signer_name(ch, prev, order[i], name, sizeof(name));
		printf("%s%s", i ? ", " : "", name);
	}
	printf("%s\n", mycel_charter_sig_count(ch) == 0 ? "nobody yet" : "");
	if (prev != NULL) {
		printf("v%-4llu      %zu of %u signatures of its %zu members%s\n",
		       (unsigned long long)mycel_charter_version(prev), old.have,
		       mycel_charter_threshold(prev), mycel_charter_member_count(prev),
		       met(&old) ? " (met)" : "");
		printf("v%-4llu      %zu of %u signatures of its %zu members%s\n",
		       (unsigned long long)ver, own.have, mycel_charter_threshold(ch),
		       mycel_charter_member_count(ch), met(&own) ? " (met)" : "");
	}
	printf("status     %s", valid == 0 ? c_green() : c_red());
	if (valid == 0 && prev != NULL)
		printf("valid (both thresholds reached: a valid step from v%llu)",
		       (unsigned long long)mycel_charter_version(prev));
	else if (valid == 0 && ver > 1)
		printf("valid (in force: the store verified its chain from the genesis)");
	else if (valid == 0)
		printf("valid (threshold reached)");
	if (valid != 0 && valid != MYCEL_ETHRESHOLD)
		printf("%s", why);
	if (valid == MYCEL_ETHRESHOLD) {
		/* the first threshold missing, in the words a member needs */
		if (prev != NULL && !met(&old))
			needs(stdout, &old);
		else if (!met(&own))
			needs(stdout, &own);
		else
			printf("%s", why);
		printf(" [%s]", why);
	}
	printf("%s\n", c_off());
}

static int charter_show(int argc, char **argv)
{
	static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
	                                     {"prev", required_argument, NULL, 'p'},
	                                     {"json", no_argument, NULL, 'j'},
	                                     {NULL, 0, NULL, 0}};
	static const char use[] =
	    "usage: mycel charter show [FILE [--prev PREVFILE] | --data DIR] [--json]";
	const char *data = NULL, *prevfile = NULL;
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			data = optarg;
		else if (c == 'p')
			prevfile = optarg;
		else if (c == 'j')
			json = true;
		else
			return usage_error("charter show", "%s", use);
	}
	if (optind == argc - 1 && data == NULL) {
		mycel_charter *ch, *prev = NULL;
		int rv = read_charter(argv[optind], NULL, NULL, &ch);
		if (rv != 0)
			return rv;
		if (prevfile != NULL && (rv = read_charter(prevfile, NULL, NULL, &prev)) != 0) {
			mycel_charter_free(ch);
			return rv;
		}
		show_charter(ch, prev, NULL, false, json);
		mycel_charter_free(prev);
		mycel_charter_free(ch);
		return 0;
	}
	if (optind != argc || prevfile != NULL)
		return usage_error("charter show", "%s", use);
	opened o;
	int rv = open_data(data ? data : default_data(), true, &o);
	if (rv != 0)
		return rv;
	const mycel_charter *ch = mycel_store_charter(o.store);
	uint8_t mid[MYCEL_HASH_LEN];
	if (ch == NULL)
		rv = die(EXIT_FAIL, "%s holds no charter", o.store_path);
	else
		show_charter(ch, NULL, mycel_store_mesh_id(o.store, mid) == 0 ? mid : NULL, true,
		             json);
	close_data(&o);
	return rv;
}

/* ---- admit, remove, compromise, set-policy, members: the unsigned version n+1 ---------- */

#define CHANGES_MAX 256

typedef struct change_opts {
	const char *domains[CHANGES_MAX], *add_members[CHANGES_MAX], *remove_members[CHANGES_MAX];
	size_t nd, nadd, nrm;
	const char *seq, *successor, *id, *severity, *expr, *message, *remove, *threshold, *out;
} change_opts;

static const char change_use[] =
    "usage: mycel charter admit FILE --domain NAME=PUBKEY... --out NEXT\n"
    "       mycel charter remove FILE --domain NAME... --out NEXT\n"
    "       mycel charter compromise FILE --domain NAME --seq N --successor PUBKEY --out NEXT\n"
    "       mycel charter set-policy FILE (--id ID --severity deny|warn --expr EXPR --message MSG "
    "| --remove ID) --out NEXT\n"
    "       mycel charter members FILE [--add-member NAME=PUBKEY]... [--remove-member NAME]... "
    "[--threshold K] --out NEXT\n"
    "  (every one of them also takes --add-member, --remove-member and --threshold)";

static int push(const char **arr, size_t *n, const char *v, const char *sub)
{
	if (*n == CHANGES_MAX)
		return usage_error(sub, "at most %d of one option", CHANGES_MAX);
	arr[(*n)++] = v;
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (s == NULL || s[0] < '0' || s[0] > '9')
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* Applies the options of sub to the draft next; exit code, with the problem said. */
static int apply_changes(const char *cmd, const char *sub, const change_opts *o, const char *file,
                         mycel_charter *next)
{
	char name[MYCEL_NAME_MAX + 2];
	uint8_t key[MYCEL_PK_LEN];
	int rv;
	for (size_t i = 0; i < o->nd; i++) {
		const char *arg = o->domains[i];
		if (strcmp(sub, "admit") == 0) {
			if (parse_binding(arg, name, sizeof(name), key) != 0)
				return usage_error(
				    cmd, "--domain \"%s\": expected NAME=PUBKEY (64 hex digits)",
				    arg);
			rv = mycel_charter_add_domain(next, name, key);
			if (rv == MYCEL_EINVAL)
				return usage_error(
				    cmd, "domain \"%s\": not a valid name ([a-z0-9-], 1 to 64)",
				    name);
			if (rv == 0 && mycel_charter_find_compromised(next, key) != NULL)
				rv = MYCEL_EEXIST;
			if (rv == MYCEL_EEXIST)
				return die(EXIT_FAIL,
				           "%s: domain \"%s\": %s already has this name, this "
				           "feed, or declared the feed compromised",
				           cmd, name, file);
		} else if (strcmp(sub, "remove") == 0) {
			rv = mycel_charter_remove_domain(next, arg);
			if (rv == MYCEL_ENOTFOUND)
				return die(EXIT_FAIL, "%s: %s admits no domain \"%s\"", cmd, file,
				           arg);
		} else { /* compromise */
			uint64_t seq;
			if (parse_u64(o->seq, &seq) != 0)
				return usage_error(
				    cmd, "--seq \"%s\": expected the last valid seq (0 or more)",
				    o->seq ? o->seq : "");
			if (o->successor == NULL ||
			    mycel_unhex(o->successor, key, MYCEL_PK_LEN) != 0)
				return usage_error(cmd, "--successor: expected the new feed's "
				                        "public key (64 hex digits)");
			rv = mycel_charter_compromise(next, arg, seq, key);
			if (rv == MYCEL_ENOTFOUND)
				return die(EXIT_FAIL, "%s: %s admits no domain \"%s\"", cmd, file,
				           arg);
			if (rv == MYCEL_EEXIST)
				return die(EXIT_FAIL,
				           "%s: the successor %.16s… is already a feed of %s "
				           "(a domain's, or a compromised one)",
				           cmd, o->successor, file);
		}
		if (rv != 0)
			return die(EXIT_FAIL, "%s: %s", cmd, mycel_strerror(rv));
	}
	if (o->remove != NULL) {
		rv = mycel_charter_remove_policy(next, o->remove);
		if (rv == MYCEL_ENOTFOUND)
			return die(EXIT_FAIL, "%s: %s has no policy \"%s\"", cmd, file, o->remove);
		if (rv != 0)
			return die(EXIT_FAIL, "%s: %s", cmd, mycel_strerror(rv));
	}
	if (o->id != NULL) {
		/*
		 * The expression must compile (every node refuses a charter whose policy does
		 * not) and select only fields the document schema can have (a typo would make
		 * the policy fail on every document): both refused here, with where.
		 */
		mycel_cel *e = NULL;
		mycel_cel_err err;
		mycel_diags d;
		memset(&err, 0, sizeof(err));
		rv = mycel_cel_compile(o->expr, strlen(o->expr), &e, &err);
		if (rv != 0)
			return die(EXIT_FAIL, "%s: policy %s: --expr %u:%u: %s", cmd, o->id, err.line,
				   err.col, err.msg[0] ? err.msg : mycel_strerror(rv));
		mycel_diags_init(&d, 16);
		rv = mycel_cel_check(e, &d);
		mycel_cel_free(e);
		if (rv == MYCEL_EEXPR) {
			for (size_t k = 0; k < d.len; k++)
				fprintf(stderr, "%s: %s: policy %s: --expr %u:%u: %s\n", cli_prog, cmd,
					o->id, d.items[k].line, d.items[k].col, d.items[k].message);
			mycel_diags_fini(&d);
			return die(EXIT_FAIL, "%s: policy %s not set: its expression selects fields "
				   "the document schema cannot have", cmd, o->id);
		}
		mycel_diags_fini(&d);
		if (rv != 0)
			return die(EXIT_FAIL, "%s: %s", cmd, mycel_strerror(rv));
		rv = mycel_charter_set_policy(next, o->id, o->severity, o->expr, o->message);
		if (rv == MYCEL_EINVAL)
			return usage_error(cmd, "--severity must be deny or warn, --id not empty");
		if (rv != 0)
			return die(EXIT_FAIL, "%s: %s", cmd, mycel_strerror(rv));
	}
	for (size_t i = 0; i < o->nrm; i++) {
		rv = mycel_charter_remove_member(next, o->remove_members[i]);
		if (rv == MYCEL_ENOTFOUND)
			return die(EXIT_FAIL, "%s: %s has no member \"%s\"", cmd, file,
			           o->remove_members[i]);
		if (rv != 0)
			return die(EXIT_FAIL, "%s: %s", cmd, mycel_strerror(rv));
	}
	for (size_t i = 0; i < o->nadd; i++) {
		const char *arg = o->add_members[i];
		if (parse_binding(arg, name, sizeof(name), key) != 0)
			return usage_error(
			    cmd, "--add-member \"%s\": expected NAME=PUBKEY (64 hex digits)", arg);
		rv = mycel_charter_add_member(next, name, key);
		if (rv == MYCEL_EINVAL)
			return usage_error(
			    cmd, "member \"%s\": not a valid name ([a-z0-9-], 1 to 64)", name);
		if (rv == MYCEL_EEXIST)
			return die(EXIT_FAIL,
			           "%s: member \"%s\": the name or key is already a member", cmd,
			           name);
		if (rv != 0)
			return die(EXIT_FAIL, "%s: %s", cmd, mycel_strerror(rv));
	}
	if (o->threshold != NULL) {
		uint64_t k;
		if (parse_u64(o->threshold, &k) != 0 || k < 1 || k > MYCEL_MEMBERS_MAX)
			return usage_error(cmd, "--threshold must be 1 to 255");
		if ((rv = mycel_charter_set_threshold(next, (uint32_t)k)) != 0)
			return die(EXIT_FAIL, "%s: %s", cmd, mycel_strerror(rv));
	}
	return 0;
}

/* A policy's string field, or "" (the decoder checked that every field is a string). */
static const char *policy_str(const mycel_value *p, const char *key)
{
	const mycel_value *v = mycel_value_get(p, key);
	return v != NULL && v->type == MYCEL_T_STR ? v->v.s.ptr : "";
}

static const mycel_value *policy_by_id(const mycel_value *arr, const char *id)
{
	for (size_t i = 0; i < arr->v.a.len; i++)
		if (strcmp(policy_str(&arr->v.a.items[i], "id"), id) == 0)
			return &arr->v.a.items[i];
	return NULL;
}

static bool same_policy(const mycel_value *a, const mycel_value *b)
{
	static const char *const keys[] = {"expr", "message", "severity"};
	for (size_t k = 0; k < 3; k++)
		if (strcmp(policy_str(a, keys[k]), policy_str(b, keys[k])) != 0)
			return false;
	return true;
}

/* What changed from prev to next, one line each. */
static void print_diff(const mycel_charter *prev, const mycel_charter *next)
{
	for (size_t i = 0; i < mycel_charter_member_count(next); i++) {
		const mycel_charter_member *m = mycel_charter_member_at(next, i);
		if (mycel_charter_find_member(prev, m->key) == NULL)
			printf("  + member %s\n", m->name);
	}
	for (size_t i = 0; i < mycel_charter_member_count(prev); i++) {
		const mycel_charter_member *m = mycel_charter_member_at(prev, i);
		if (mycel_charter_find_member(next, m->key) == NULL)
			printf("  - member %s\n", m->name);
	}
	if (mycel_charter_threshold(prev) != mycel_charter_threshold(next))
		printf("  threshold %u -> %u\n", mycel_charter_threshold(prev),
		       mycel_charter_threshold(next));
	for (size_t i = 0; i < mycel_charter_domain_count(next); i++) {
		const mycel_charter_domain *d = mycel_charter_domain_at(next, i);
		const mycel_charter_domain *was = mycel_charter_find_domain(prev, d->name);
		if (was == NULL)
			printf("  + domain %s\n", d->name);
		else if (memcmp(was->feed, d->feed, MYCEL_PK_LEN) != 0) {
			const mycel_charter_cut *k =
			    mycel_charter_find_compromised(next, was->feed);
			printf("  ! domain %s: feed compromised after seq %llu, successor named\n",
			       d->name, k ? (unsigned long long)k->seq : 0ULL);
		}
	}
	for (size_t i = 0; i < mycel_charter_domain_count(prev); i++) {
		const mycel_charter_domain *d = mycel_charter_domain_at(prev, i);
		if (mycel_charter_find_domain(next, d->name) == NULL)
			printf("  - domain %s\n", d->name);
	}
	const mycel_value *pa = mycel_charter_policies(prev), *pb = mycel_charter_policies(next);
	for (size_t i = 0; i < pb->v.a.len; i++) {
		const mycel_value *p = policy_by_id(pa, policy_str(&pb->v.a.items[i], "id"));
		const char *id = policy_str(&pb->v.a.items[i], "id");
		if (p == NULL)
			printf("  + policy %s\n", id);
		else if (!same_policy(p, &pb->v.a.items[i]))
			printf("  ~ policy %s\n", id);
	}
	for (size_t i = 0; i < pa->v.a.len; i++) {
		const char *id = policy_str(&pa->v.a.items[i], "id");
		if (policy_by_id(pb, id) == NULL)
			printf("  - policy %s\n", id);
	}
	if (pa->v.a.len != pb->v.a.len)
		printf("  policies %zu -> %zu\n", pa->v.a.len, pb->v.a.len);
}

static int charter_change(const char *sub, int argc, char **argv)
{
	static const struct option opts[] = {{"domain", required_argument, NULL, 'd'},
	                                     {"seq", required_argument, NULL, 's'},
	                                     {"successor", required_argument, NULL, 'S'},
	                                     {"id", required_argument, NULL, 'i'},
	                                     {"severity", required_argument, NULL, 'v'},
	                                     {"expr", required_argument, NULL, 'e'},
	                                     {"message", required_argument, NULL, 'm'},
	                                     {"remove", required_argument, NULL, 'r'},
	                                     {"add-member", required_argument, NULL, 'a'},
	                                     {"remove-member", required_argument, NULL, 'R'},
	                                     {"threshold", required_argument, NULL, 't'},
	                                     {"out", required_argument, NULL, 'o'},
	                                     {NULL, 0, NULL, 0}};
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "charter %s", sub);
	change_opts o;
	memset(&o, 0, sizeof(o));
	int c, rv = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			rv = push(o.domains, &o.nd, optarg, cmd);
			break;
		case 'a':
			rv = push(o.add_members, &o.nadd, optarg, cmd);
			break;
		case 'R':
			rv = push(o.remove_members, &o.nrm, optarg, cmd);
			break;
		case 's':
			o.seq = optarg;
			break;
		case 'S':
			o.successor = optarg;
			break;
		case 'i':
			o.id = optarg;
			break;
		case 'v':
			o.severity = optarg;
			break;
		case 'e':
			o.expr = optarg;
			break;
		case 'm':
			o.message = optarg;
			break;
		case 'r':
			o.remove = optarg;
			break;
		case 't':
			o.threshold = optarg;
			break;
		case 'o':
			o.out = optarg;
			break;
		default:
			return usage_error(cmd, "%s", change_use);
		}
		if (rv != 0)
			return rv;
	}
	bool admit = strcmp(sub, "admit") == 0, remove = strcmp(sub, "remove") == 0;
	bool comp = strcmp(sub, "compromise") == 0, pol = strcmp(sub, "set-policy") == 0;
	bool members = o.nadd + o.nrm > 0 || o.threshold != NULL;
	bool policy_set = o.id || o.severity || o.expr || o.message;
	if (o.out == NULL || optind != argc - 1)
		return usage_error(cmd, "%s", change_use);
	if ((admit || remove) && o.nd == 0)
		return usage_error(cmd, "give at least one --domain");
	if (comp && (o.nd != 1 || o.seq == NULL || o.successor == NULL))
		return usage_error(cmd, "give one --domain, --seq and --successor");
	if (!admit && !remove && !comp && o.nd > 0)
		return usage_error(cmd, "--domain belongs to admit, remove or compromise");
	if (!comp && (o.seq || o.successor))
		return usage_error(cmd, "--seq and --successor belong to compromise");
	if (pol && !(o.remove != NULL) == !policy_set)
		return usage_error(
		    cmd, "give either --id, --severity, --expr and --message, or --remove ID");
	if (pol && policy_set && !(o.id && o.severity && o.expr && o.message))
		return usage_error(cmd, "--id, --severity, --expr and --message go together");
	if (!pol && (policy_set || o.remove))
		return usage_error(
		    cmd, "--id, --severity, --expr, --message and --remove belong to set-policy");
	if (strcmp(sub, "members") == 0 && !members)
		return usage_error(cmd, "give --add-member, --remove-member or --threshold");

	const char *file = argv[optind];
	mycel_charter *prev = NULL, *next = NULL;
	if ((rv = read_charter(file, NULL, NULL, &prev)) != 0)
		return rv;
	if ((rv = mycel_charter_next(prev, &next)) != 0) {
		mycel_charter_free(prev);
		return die(EXIT_FAIL, "%s: %s", file, mycel_strerror(rv));
	}
	rv = apply_changes(cmd, sub, &o, file, next);
	if (rv == 0) {
		/* the draft must decode as a charter (threshold within the members, ...) */
		mycel_buf b;
		mycel_charter *chk = NULL;
		char why[512] = "";
		mycel_buf_init(&b, MYCEL_CHARTER_MAX);
		int er = mycel_charter_encode(next, &b);
		if (er == 0)
			er = mycel_charter_decode(b.data, b.len, &chk, why, sizeof(why));
		mycel_buf_fini(&b);
		mycel_charter_free(chk);
		if (er != 0)
			rv = die(EXIT_FAIL, "%s: version %llu would not be a valid charter: %s",
			         cmd, (unsigned long long)mycel_charter_version(next),
			         why[0] ? why : mycel_strerror(er));
	}
	if (rv == 0)
		rv = write_charter(o.out, next, true);
	if (rv == 0) {
		printf("wrote %s: charter v%llu of mesh %s, unsigned, from %s (v%llu):\n", o.out,
		       (unsigned long long)mycel_charter_version(next), mycel_charter_mesh(next),
		       file, (unsigned long long)mycel_charter_version(prev));
		print_diff(prev, next);
		printf(
		    "next: %u of v%llu's members and %u of v%llu's sign it, each with "
		    "`mycel charter sign %s --key KEYFILE` (copies merge: `mycel charter merge`)\n",
		    mycel_charter_threshold(prev), (unsigned long long)mycel_charter_version(prev),
		    mycel_charter_threshold(next), (unsigned long long)mycel_charter_version(next),
		    o.out);
	}
	mycel_charter_free(next);
	mycel_charter_free(prev);
	return rv;
}

/* ---- apply: a fully signed next version to a store or a node ----------------------------- */

static int charter_apply(int argc, char **argv)
{
	static const struct option opts[] = {COMMON_OPTS, {NULL, 0, NULL, 0}};
	static const char use[] = "usage: mycel charter apply FILE " COMMON_USAGE;
	common co = {0};
	int c, k;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((k = common_opt(c, "charter apply", &co)) != 1)
			return k != 0 ? k : usage_error("charter apply", "%s", use);
	}
	if (optind != argc - 1)
		return usage_error("charter apply", "%s", use);
	const char *file = argv[optind];
	uint8_t *bytes = NULL;
	size_t n = 0;
	mycel_charter *ch;
	int rv = read_charter(file, &bytes, &n, &ch);
	if (rv != 0)
		return rv;
	uint64_t ver = mycel_charter_version(ch);
	mycel_charter_free(ch);
	/* a directory a myceld serves: through its admin socket, so the node adopts it at once */
	char ipc[4200];
	if (co.node == NULL && co.data != NULL && node_running(co.data)) {
		snprintf(ipc, sizeof(ipc), "ipc://%s/%s", co.data, MYCEL_NODE_ADMIN_SOCK);
		co.node = ipc;
	}
	target t;
	if ((rv = open_target(&co, "charter apply", true, &t)) != 0) {
		free(bytes);
		return rv;
	}
	uint64_t now = 0;
	if (t.direct) {
		char why[512] = "";
		if ((rv = mycel_store_add_charter(t.o.store, bytes, n, why, sizeof(why))) != 0)
			rv = die(EXIT_FAIL, "charter apply: %s: %s (nothing changed)", file,
			         why[0] ? why : mycel_strerror(rv));
		else
			now = mycel_charter_version(mycel_store_charter(t.o.store));
	} else {
		mycel_arena *a = reply_arena();
		mycel_msg_CharterPutRequest rq;
		mycel_msg_CharterPutReply rp;
		mycel_result res;
		memset(&rq, 0, sizeof(rq));
		rq.charter = bytes;
		rq.charter_len = n;
		rv = a == NULL ? MYCEL_ENOMEM : mycel_client_charter_put(t.c, &rq, a, &res, &rp);
		if (a == NULL)
			rv = die(EXIT_FAIL, "out of memory");
		else if (rv != 0 || res.status != MYCEL_RPC_OK)
			rv = call_failed("charter apply", rv, &res);
		else
			now = rp.version;
		mycel_arena_free(a);
	}
	if (rv == 0) {
		if (co.json)
			printf("{\"applied\":%llu,\"version\":%llu}\n", (unsigned long long)ver,
			       (unsigned long long)now);
		else
			printf("%s: charter v%llu in force (from %s); peers adopt it in their next "
			       "exchange\n",
			       t.label, (unsigned long long)now, file);
	}
	close_target(&t);
	free(bytes);
	return rv;
}

int cmd_charter(int argc, char **argv)
{
	static const char subs[] =
	    "init, sign, merge, show, admit, remove, compromise, set-policy, "
	    "members, apply";
	if (argc < 2)
		return usage_error("charter", "usage: mycel charter SUBCOMMAND ... (%s)", subs);
	const char *sub = argv[1];
	argc--;
	argv++;
	if (strcmp(sub, "init") == 0)
		return charter_init(argc, argv);
	if (strcmp(sub, "sign") == 0)
		return charter_sign(argc, argv);
	if (strcmp(sub, "merge") == 0)
		return charter_merge(argc, argv);
	if (strcmp(sub, "show") == 0)
		return charter_show(argc, argv);
	if (strcmp(sub, "apply") == 0)
		return charter_apply(argc, argv);
	if (strcmp(sub, "admit") == 0 || strcmp(sub, "remove") == 0 ||
	    strcmp(sub, "compromise") == 0 || strcmp(sub, "set-policy") == 0 ||
	    strcmp(sub, "members") == 0)
		return charter_change(sub, argc, argv);
	return usage_error("charter", "unknown subcommand \"%s\" (%s)", sub, subs);
}
