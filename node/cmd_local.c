/*
 * mycel commands on files and stores of this machine (--node does not apply): keygen, init,
 * profile, lint, pull (charter: node/cmd_charter.c).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mycel/charter.h"
#include "mycel/codec.h"
#include "mycel/domain.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/lint.h"
#include "mycel/policy.h"
#include "mycel/profile.h"
#include "mycel/store.h"

#include "cli_common.h"
#include "util.h"

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
	/* a key rotation that a crash interrupted: finish it (or undo it) first */
	bool done = false;
	char why[512] = "";
	rv = mycel_domain_key_recover(&o->dom, o->store, &done, why, sizeof(why));
	if (rv != 0 && rv != MYCEL_ENOTFOUND) {
		close_data(o);
		return die(EXIT_FAIL, "%s: an interrupted key rotation: %s", data, why);
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
	    "usage: mycel init [--dir DIR] --domain NAME [--key FILE] [--charter FILE...] [--mesh NAME]\n"
	    "  (--charter repeated: the genesis, then the later versions of its chain in order)";
	mycel_domain_opts o = {default_data(), NULL, NULL, NULL, NULL, NULL, 0};
	const char *later[64];
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': o.dir = optarg; break;
		case 'n': o.name = optarg; break;
		case 'k': o.key_file = optarg; break;
		case 'c':
			if (o.charter_file == NULL) {
				o.charter_file = optarg;
			} else {
				if (o.n_later == sizeof(later) / sizeof(later[0]))
					return usage_error("init", "at most 64 later charter versions");
				later[o.n_later++] = optarg;
			}
			break;
		case 'm': o.mesh = optarg; break;
		case 'j': json = true; break;
		default: return usage_error("init", "%s", use);
		}
	}
	if (o.name == NULL || optind != argc)
		return usage_error("init", "%s", use);
	if (o.charter_file != NULL && o.mesh != NULL)
		return usage_error("init", "--mesh names a new mesh; it cannot go with --charter");
	o.later_charters = later;
	char why[512] = "";
	int rv = mycel_domain_init(&o, why, sizeof(why));
	if (rv != 0)
		return die(EXIT_FAIL, "init: %s", why[0] ? why : mycel_strerror(rv));
	return print_domain_summary(o.dir, json);
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
	/* the domain's feed: its genesis key, which signs it until a key rotation */
	const mycel_charter *ch = mycel_store_charter(o.store);
	const mycel_charter_domain *dom = ch != NULL ? mycel_charter_find_domain(ch, o.dom.name) : NULL;
	const uint8_t *feed = dom != NULL ? dom->feed : key->pk;
	/* Start from the current profile, so each flag changes only its field. */
	if ((rv = mycel_store_scan(o.store, feed, 1, find_profile, &lp)) != 0 ||
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
	if ((rv = mycel_store_append(o.store, key, feed, &rec, 1, &e)) != 0) {
		rv = die(EXIT_FAIL, "publish to %s: %s", o.dom.name,
			 rv == MYCEL_EPERM ? "its key file does not hold the key that signs the feed "
					     "now (the feed's key was rotated to another key)"
					   : mycel_strerror(rv));
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

/*
 * The policies lint runs: those of the charter file given, else those of the charter in
 * force in the domain directory's store (when there is one: --data DIR, or ./.mycel), else
 * none (*out NULL). Exits through die on an unreadable or invalid charter.
 */
static int lint_policies(const char *file, const char *dir, bool dir_given, mycel_policies **out)
{
	uint8_t *buf = NULL;
	size_t n = 0;
	mycel_charter *ch = NULL;
	char why[512] = "";
	int rv;
	*out = NULL;
	if (file == NULL) {
		char path[4096];
		opened o;
		snprintf(path, sizeof(path), "%s/config.yaml", dir);
		if (!dir_given && access(path, F_OK) != 0)
			return 0; /* no domain directory here: schema checks only */
		if ((rv = open_data(dir, true, &o)) != 0)
			return rv;
		const mycel_charter *cur = mycel_store_charter(o.store);
		rv = cur == NULL ? 0 : mycel_policies_compile(mycel_charter_policies(cur), out, NULL);
		close_data(&o);
		if (rv != 0)
			return die(EXIT_FAIL, "lint: %s: the charter's policies: %s", dir,
				   mycel_strerror(rv));
		return 0;
	}
	rv = mycel__read_file(file, MYCEL_CHARTER_MAX, &buf, &n);
	if (rv != 0)
		return die(EXIT_FAIL, "lint: %s: %s", file, mycel_strerror(rv));
	rv = mycel_charter_decode(buf, n, &ch, why, sizeof(why));
	free(buf);
	if (rv != 0)
		return die(EXIT_FAIL, "lint: %s: %s", file, why[0] ? why : mycel_strerror(rv));
	rv = mycel_policies_compile(mycel_charter_policies(ch), out, NULL);
	mycel_charter_free(ch);
	if (rv != 0)
		return die(EXIT_FAIL, "lint: %s: the charter's policies: %s", file, mycel_strerror(rv));
	return 0;
}

int cmd_lint(int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
					     {"charter", required_argument, NULL, 'c'},
					     {"data", required_argument, NULL, 'd'},
					     {"domain", required_argument, NULL, 'D'},
					     {NULL, 0, NULL, 0}};
	static const char use[] =
	    "usage: mycel lint FILE... [--charter FILE | --data DIR] [--domain NAME] [--json]";
	bool json = false;
	const char *charter = NULL, *dir = default_data(), *domain = NULL;
	bool dir_given = false;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'c')
			charter = optarg;
		else if (c == 'd') {
			dir = optarg;
			dir_given = true;
		} else if (c == 'D')
			domain = optarg;
		else
			return usage_error("lint", "%s", use);
	}
	if (optind >= argc)
		return usage_error("lint", "%s", use);
	mycel_policies *pol = NULL;
	int prv = lint_policies(charter, dir, dir_given, &pol);
	if (prv != 0)
		return prv;
	size_t bad = 0, files = 0;
	if (json)
		printf("{\"files\":[");
	for (int i = optind; i < argc; i++, files++) {
		mycel_arena *a;
		mycel_diags d, notes, warns;
		mycel_value *doc;
		mycel_docinfo info;
		if (mycel_arena_new((size_t)1 << 30, &a) != 0)
			return die(EXIT_FAIL, "out of memory");
		mycel_diags_init(&d, 0);
		mycel_diags_init(&notes, 0);
		mycel_diags_init(&warns, 0);
		int rv = mycel_lint_file(argv[i], a, &doc, &info, &d);
		if (rv == 0 && info.kind != 0)
			(void)mycel_lint_publishable(doc, &info, info.domain ? info.domain : "", &notes);
		if (rv == 0 && info.kind != 0 && pol != NULL) {
			/* the charter's policies: a deny is a finding, a warning a note */
			mycel_policy_report r;
			mycel_policy_input in = {info.kind, doc, NULL,
						 domain ? domain : info.domain ? info.domain : "",
						 (int64_t)mycel__now_ms()};
			if (mycel_policies_eval(pol, &in, &r) != 0) {
				mycel_diags_add(&d, 0, 0, "", "the charter's policies cannot be evaluated");
				rv = MYCEL_ENOMEM;
			} else {
				(void)mycel_policy_report_diags(&r, MYCEL_SEVERITY_DENY, &d);
				(void)mycel_policy_report_diags(&r, MYCEL_SEVERITY_WARN, &warns);
				if (r.denied > 0)
					rv = MYCEL_EPOLICY;
				mycel_policy_report_fini(&r);
			}
		}
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
			printf(",\"warnings\":");
			json_findings(&warns);
			printf("}");
		} else {
			print_findings(argv[i], &d);
			for (size_t k = 0; k < warns.len; k++)
				printf("%s:%u:%u: warning: %s: %s\n", argv[i], warns.items[k].line,
				       warns.items[k].col, warns.items[k].pointer[0] ? warns.items[k].pointer : "/",
				       warns.items[k].message);
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
		mycel_diags_fini(&warns);
		mycel_arena_free(a);
	}
	mycel_policies_free(pol);
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
