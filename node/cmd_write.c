/*
 * mycel commands that write, through a node's admin socket or to a domain directory:
 * publish, deprecate, retire, reindex.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/catalog.h"
#include "mycel/client.h"
#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/publish.h"
#include "mycel/rpc.h"
#include "mycel/store.h"

#include "cli_common.h"

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

/*
 * Opens the target of a write by cmd (what: "publishing", "a key rotation", ...) and the
 * arena for its reply: a node, or a domain directory (a bare store has no key to write
 * with). On failure says why, closes what it opened and returns the exit code.
 */
static int open_writer(const common *co, const char *cmd, const char *what, target *t,
		       mycel_arena **out_a)
{
	int rv = open_target(co, cmd, true, t);
	if (rv != 0)
		return rv;
	mycel_arena *a = reply_arena();
	if (a == NULL)
		rv = die(EXIT_FAIL, "out of memory");
	else if (t->direct && !t->o.has_dom)
		rv = die(EXIT_FAIL, "%s is a bare store: %s needs a domain directory", t->label, what);
	if (rv != 0) {
		mycel_arena_free(a);
		close_target(t);
		return rv;
	}
	*out_a = a;
	return 0;
}

int cmd_publish(int argc, char **argv)
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
	mycel_arena *a = NULL;
	int rv = open_writer(&co, "publish", "publishing", &t, &a);
	if (rv != 0)
		return rv;
	mycel_msg_PublishDoc *docs = calloc(n, sizeof(*docs));
	uint8_t **bufs = calloc(n, sizeof(*bufs));
	if (docs == NULL || bufs == NULL) {
		rv = die(EXIT_FAIL, "out of memory");
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
			if (d->n_warnings > 0) {
				printf(",\"warnings\":[");
				for (size_t w = 0; w < d->n_warnings; w++) {
					printf("%s", w ? "," : "");
					json_str(stdout, d->warnings[w].ptr);
				}
				printf("]");
			}
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
		for (size_t w = 0; w < d->n_warnings; w++) {
			printf("%swarning%s  %s:", c_red(), c_off(), file);
			safe_str(stdout, d->warnings[w].ptr);
			putchar('\n');
		}
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
	mycel_arena *a = NULL;
	int rv = open_writer(&co, cmd, "publishing", &t, &a);
	if (rv != 0)
		return rv;
	mycel_msg_StatusReply st;
	mycel_msg_ChangeStatusReply rp;
	mycel_result res;
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

int cmd_deprecate(int argc, char **argv)
{
	return cmd_lifecycle(argc, argv, MYCEL_STATUS_DEPRECATED);
}

int cmd_retire(int argc, char **argv)
{
	return cmd_lifecycle(argc, argv, MYCEL_STATUS_RETIRED);
}


int cmd_reindex(int argc, char **argv)
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

/* mycel key rotate: a key entry in the domain's feed, then the next key signs it */
int cmd_key(int argc, char **argv)
{
	static const struct option opts[] = {COMMON_OPTS, {NULL, 0, NULL, 0}};
	static const char use[] = "usage: mycel key rotate " COMMON_USAGE;
	common co = {0};
	int c, k;
	if (argc < 2 || strcmp(argv[1], "rotate") != 0)
		return usage_error("key", "%s", use);
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((k = common_opt(c, "key rotate", &co)) != 1)
			return k != 0 ? k : usage_error("key", "%s", use);
	}
	if (optind != argc)
		return usage_error("key", "%s", use);
	target t;
	mycel_arena *a = NULL;
	int rv = open_writer(&co, "key rotate", "a key rotation", &t, &a);
	if (rv != 0)
		return rv;
	mycel_msg_KeyRotateReply rp;
	mycel_result res;
	mycel_entry e;
	rv = mycel_client_key_rotate(t.c, a, &res, &rp);
	if (rv != 0 || res.status != MYCEL_RPC_OK) {
		rv = call_failed("key rotate", rv, &res);
		goto out;
	}
	if (mycel_entry_decode(rp.entry->entry, rp.entry->entry_len, &e) != 0) {
		rv = die(EXIT_FAIL, "key rotate: the reply carries no entry");
		goto out;
	}
	char feed[2 * MYCEL_PK_LEN + 1], next[2 * MYCEL_PK_LEN + 1];
	mycel_hex(e.h.feed, MYCEL_PK_LEN, feed);
	mycel_hex(rp.next_key, MYCEL_PK_LEN, next);
	const char *dom = charter_domain(t.c, e.h.feed, MYCEL_PK_LEN);
	if (co.json) {
		printf("{\"domain\":");
		json_str(stdout, dom != NULL ? dom : "");
		printf(",\"feed\":\"%s\",\"seq\":%llu,\"next_key\":\"%s\",\"old_key_file\":",
		       feed, (unsigned long long)e.h.seq, next);
		json_str(stdout, S(rp.old_key_file));
		printf("}\n");
	} else {
		printf("rotated   %s (feed %.16s…): key entry seq %llu\n", dom != NULL ? dom : "?",
		       feed, (unsigned long long)e.h.seq);
		printf("next key  %s\n", next);
		printf("old key   ");
		safe_str(stdout, S(rp.old_key_file));
		printf(" (kept, mode 0600)\n");
	}
	rv = 0;
out:
	mycel_arena_free(a);
	close_target(&t);
	return rv;
}

/* mycel transfer DOMAIN/ID --to DOMAIN, mycel accept DOMAIN/ID (PROTOCOL.md §5.5) */
static int cmd_xfer(int argc, char **argv, bool accept)
{
	static const struct option opts[] = {COMMON_OPTS,
					     {"to", required_argument, NULL, 't'},
					     {NULL, 0, NULL, 0}};
	const char *cmd = accept ? "accept" : "transfer";
	const char *use = accept ? "usage: mycel accept DOMAIN/ID " COMMON_USAGE
				 : "usage: mycel transfer DOMAIN/ID --to DOMAIN " COMMON_USAGE;
	const char *to = NULL;
	common co = {0};
	int c, k;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((k = common_opt(c, cmd, &co)) != 0) {
			if (k != 1)
				return k;
		} else if (c == 't' && !accept) {
			to = optarg;
		} else {
			return usage_error(cmd, "%s", use);
		}
	}
	char domain[65];
	const char *id;
	if (optind != argc - 1 || (!accept && to == NULL) ||
	    split_ref(argv[optind], domain, sizeof(domain), &id) != 0)
		return usage_error(cmd, "%s", use);
	target t;
	mycel_arena *a = NULL;
	int rv = open_writer(&co, cmd, "a transfer", &t, &a);
	if (rv != 0)
		return rv;
	mycel_msg_StatusReply st;
	mycel_msg_TransferReply rp;
	mycel_result res;
	mycel_entry e;
	if ((rv = target_status(&t, cmd, a, &st)) != 0)
		goto out;
	const char *mine = charter_domain(t.c, st.node_key, st.node_key_len);
	if (!accept && mine != NULL && strcmp(mine, domain) != 0) {
		rv = die(EXIT_FAIL,
			 "%s belongs to domain %s; only its owner can offer it (this is %s)",
			 argv[optind], domain, mine);
		goto out;
	}
	if (accept) {
		mycel_msg_AcceptRequest rq = {.from = domain, .from_len = strlen(domain), .id = id,
					      .id_len = strlen(id)};
		rv = mycel_client_accept(t.c, &rq, a, &res, &rp);
	} else {
		mycel_msg_TransferRequest rq = {.id = id, .id_len = strlen(id), .to = to,
						.to_len = strlen(to)};
		rv = mycel_client_transfer(t.c, &rq, a, &res, &rp);
	}
	if (rv != 0 || res.status != MYCEL_RPC_OK) {
		rv = call_failed(cmd, rv, &res);
		goto out;
	}
	if (rp.entry == NULL || mycel_entry_decode(rp.entry->entry, rp.entry->entry_len, &e) != 0) {
		rv = die(EXIT_FAIL, "%s: the reply carries no entry", cmd);
		goto out;
	}
	if (co.json) {
		printf("{\"action\":\"%s\",\"domain\":", accept ? "accept" : "offer");
		json_str(stdout, domain);
		printf(",\"id\":");
		json_str(stdout, id);
		printf(",\"%s\":", accept ? "by" : "to");
		json_str(stdout, accept ? (mine != NULL ? mine : "") : to);
		printf(",\"seq\":%llu}\n", (unsigned long long)e.h.seq);
	} else if (accept) {
		printf("accepted  %s/%s: %s owns it now and publishes its next versions as %s/%s "
		       "(transfer, seq %llu)\n",
		       domain, id, mine != NULL ? mine : "this domain", mine != NULL ? mine : "?", id,
		       (unsigned long long)e.h.seq);
	} else {
		printf("offered   %s/%s to %s (transfer, seq %llu); it moves when %s accepts it "
		       "(mycel accept %s/%s)\n",
		       domain, id, to, (unsigned long long)e.h.seq, to, domain, id);
	}
	rv = 0;
out:
	mycel_arena_free(a);
	close_target(&t);
	return rv;
}

int cmd_transfer(int argc, char **argv)
{
	return cmd_xfer(argc, argv, false);
}

int cmd_accept(int argc, char **argv)
{
	return cmd_xfer(argc, argv, true);
}
