/*
 * mycel commands that read the catalog of a node or of a store served in-process, with the
 * same output: log, verify, status, peers, get, search, lineage.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "mycel/catalog.h"
#include "mycel/charter.h"
#include "mycel/client.h"
#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/publish.h"
#include "mycel/rpc.h"
#include "mycel/store.h"

#include "cli_common.h"

/* The name the charter gives feed, or "feed:" and the first 16 hex digits. */
static void feed_label(const mycel_charter *c, const uint8_t feed[MYCEL_PK_LEN], char *out, size_t n)
{
	const mycel_charter_domain *d = NULL;
	if (c != NULL && mycel_charter_admits(c, feed, 0, &d) == 0) {
		snprintf(out, n, "%s", d->name);
	} else {
		char hex[2 * MYCEL_PK_LEN + 1];
		mycel_hex(feed, MYCEL_PK_LEN, hex);
		snprintf(out, n, "feed:%.16s", hex);
	}
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

int cmd_log(int argc, char **argv)
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
	mycel_feedkey fk; /* the key that signs the next entry (key rotation) */
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
	if (x->fk.seq + 1 != seq) /* after an entry that did not decode: the last key known */
		x->fk.seq = seq - 1;
	int rv = mycel_client_verify_entry_key(x->v->charter, m, NULL, x->fk.key, why, sizeof(why),
					       NULL);
	if (rv != 0)
		audit_problem(x, rv == MYCEL_EHASH ? "body" : "entry", seq, rv, why);
	else if ((rv = mycel_feedkey_step(&x->fk, e, m->body, m->body_len, false)) != 0)
		audit_problem(x, "entry", seq, rv,
			      rv == MYCEL_EBADSIG ? "key entry: the next key's signature does not "
						    "verify: the chain of keys is broken here"
						  : "key entry: the body is not {next, sig}: the chain "
						    "of keys is broken here");
	x->fk.seq = seq;
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
	vs.forks = st.has_forks ? (size_t)st.forks : 0;
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
		mycel_feedkey_init(&x.fk, h->feed);
		vs.feeds++;
		if (mycel_charter_admits(v.charter, h->feed, 0, NULL) != 0)
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
		if (vs.forks > 0)
			printf("%sforked%s: %zu feed position(s) hold two signed entries (equivocation)\n",
			       c_red(), c_off(), vs.forks);
		if (vs.problems == 0)
			printf("%sOK%s: every signature, chain link, body hash, timestamp and charter "
			       "step verifies\n",
			       c_green(), c_off());
		else
			printf("%s%zu problem(s)%s\n", c_red(), vs.problems, c_off());
	}
	return vs.problems ? EXIT_FAIL : 0;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {COMMON_OPTS, {NULL, 0, NULL, 0}};
	static const char use[] = "usage: mycel verify [BUNDLE] " COMMON_USAGE;
	common co = {0};
	int c, k;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((k = common_opt(c, "verify", &co)) != 1)
			return k != 0 ? k : usage_error("verify", "%s", use);
	}
	if (optind == argc - 1) {
		/* a bundle: checked offline, from its bytes alone */
		if (co.data != NULL || co.node != NULL)
			return usage_error("verify", "a bundle is verified offline: --data and --node "
						     "do not apply to BUNDLE");
		return verify_bundle_file(argv[optind], co.json);
	}
	if (optind != argc)
		return usage_error("verify", "%s", use);
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

/* The frontier digest the node reports (PROTOCOL.md §10), in hex; "" if it sent none. */
static void frontier_digest(const mycel_msg_StatusReply *st, char out[2 * MYCEL_HASH_LEN + 1])
{
	out[0] = '\0';
	if (st->frontier_digest != NULL && st->frontier_digest_len == MYCEL_HASH_LEN)
		mycel_hex(st->frontier_digest, MYCEL_HASH_LEN, out);
}

/* One peer as a JSON object (the fields README.md documents). */
static void peer_json(const mycel_msg_Peer *p)
{
	printf("{\"addr\":");
	json_str(stdout, S(p->addr));
	printf(",\"domain\":");
	json_str(stdout, S(p->domain));
	printf(",\"state\":");
	json_str(stdout, p->state ? p->state : "");
	printf(",\"source\":");
	json_str(stdout, p->source ? p->source : "");
	printf(",\"live\":%s,\"failures\":%llu,\"last_seen_ms\":%llu,\"next_try_ms\":%llu",
	       p->live ? "true" : "false", (unsigned long long)p->failures,
	       (unsigned long long)p->last_seen_ms, (unsigned long long)p->next_try_ms);
	printf(",\"entries_in\":%llu,\"entries_out\":%llu,\"rejects\":%llu,\"lag\":%llu",
	       (unsigned long long)p->entries_in, (unsigned long long)p->entries_out,
	       (unsigned long long)p->rejects, (unsigned long long)p->lag);
	printf(",\"bytes_in\":%llu,\"bytes_out\":%llu,\"calls\":%llu,\"last_error\":",
	       (unsigned long long)p->bytes_in, (unsigned long long)p->bytes_out,
	       (unsigned long long)p->calls);
	json_str(stdout, S(p->last_error));
	putchar('}');
}

/* The peers table as text: address, state, source, last contact, in/out, rejects, lag, error. */
static void peer_table(const mycel_msg_Peer *ps, size_t n)
{
	printf("%s%-32s %-8s %-8s %-20s %8s %8s %7s %6s %s%s\n", c_dim(), "address", "state",
	       "source", "last contact (UTC)", "in", "out", "rejects", "lag", "last error",
	       c_off());
	for (size_t i = 0; i < n; i++) {
		const mycel_msg_Peer *p = &ps[i];
		char when[40] = "-";
		if (p->has_last_seen_ms && p->last_seen_ms != 0)
			iso_time(p->last_seen_ms, when, sizeof(when));
		safe_str(stdout, S(p->addr));
		printf("%*s ", p->addr_len < 32 ? (int)(32 - p->addr_len) : 0, "");
		printf("%-8s %-8s %-20s %8llu %8llu %7llu %6llu ", p->state ? p->state : "-",
		       p->source ? p->source : "-", when, (unsigned long long)p->entries_in,
		       (unsigned long long)p->entries_out, (unsigned long long)p->rejects,
		       (unsigned long long)p->lag);
		safe_str(stdout, p->last_error && p->last_error[0] ? p->last_error : "-");
		putchar('\n');
	}
}

int cmd_status(int argc, char **argv)
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
		if (st.has_forks && st.forks > 0) {
			printf(",\"forks\":%llu,\"forked_feeds\":[", (unsigned long long)st.forks);
			for (size_t i = 0; i < st.n_forked_feeds; i++) {
				char fl[80];
				feed_label(ch, st.forked_feeds[i].ptr, fl, sizeof(fl));
				printf("%s", i ? "," : "");
				json_str(stdout, fl);
			}
			printf("]");
		}
		if (st.has_peers && !t.direct)
			printf(",\"peers\":%llu", (unsigned long long)st.peers);
		if (st.has_uptime_ms)
			printf(",\"uptime_ms\":%llu", (unsigned long long)st.uptime_ms);
		if (st.has_frontier_feeds)
			printf(",\"frontier_feeds\":%llu", (unsigned long long)st.frontier_feeds);
		char fd[2 * MYCEL_HASH_LEN + 1];
		frontier_digest(&st, fd);
		printf(",\"frontier_digest\":\"%s\"", fd);
		/* absent: no peers (and always on a store read directly) */
		if (st.n_peer_list > 0) {
			printf(",\"peer_list\":[");
			for (size_t i = 0; i < st.n_peer_list; i++) {
				if (i > 0)
					putchar(',');
				peer_json(&st.peer_list[i]);
			}
			putchar(']');
		}
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
	if (st.has_forks && st.forks > 0) {
		printf("%sforks%s      %llu fork proof(s), forked feed(s):", c_red(), c_off(),
		       (unsigned long long)st.forks);
		for (size_t i = 0; i < st.n_forked_feeds; i++) {
			char fl[80];
			feed_label(ch, st.forked_feeds[i].ptr, fl, sizeof(fl));
			printf(" %s", fl);
		}
		putchar('\n');
	}
	if (st.has_peers && !t.direct) /* a store read directly knows no peers */
		printf("peers      %llu\n", (unsigned long long)st.peers);
	if (st.has_uptime_ms)
		printf("uptime     %llus\n", (unsigned long long)(st.uptime_ms / 1000u));
	char fd[2 * MYCEL_HASH_LEN + 1];
	frontier_digest(&st, fd);
	if (st.has_frontier_feeds)
		printf("frontier   %llu feeds, digest %.16s…\n", (unsigned long long)st.frontier_feeds,
		       fd);
	else
		printf("frontier   digest %.16s…\n", fd);
	if (st.n_peer_list > 0) {
		putchar('\n');
		peer_table(st.peer_list, st.n_peer_list);
	}
out:
	mycel_arena_free(a);
	close_target(&t);
	return rv;
}

/* Admin/PeersAdd or PeersRemove through the node's admin socket; prints the outcome. */
static int peers_change(target *t, bool add, const char *url, bool json)
{
	const char *cmd = add ? "peers add" : "peers remove";
	const char *method = add ? "mycel.v1.Admin/PeersAdd" : "mycel.v1.Admin/PeersRemove";
	mycel_msg_PeerRequest rq = {.addr = url, .addr_len = strlen(url)};
	mycel_buf b;
	mycel_buf_init(&b, 4096);
	int rv = mycel_msg_PeerRequest_encode(&rq, &b);
	if (rv != 0) {
		mycel_buf_fini(&b);
		return die(EXIT_USAGE, "%s: %s: %s", cmd, url, mycel_strerror(rv));
	}
	uint64_t status = 0;
	char *msg = NULL;
	uint8_t *body = NULL;
	size_t body_len = 0;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t deadline = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u +
			    MYCEL_CLIENT_TIMEOUT_DEFAULT_MS;
	rv = mycel_client_call(t->c, method, deadline, b.data, b.len, &status, &msg, &body,
			       &body_len);
	mycel_buf_fini(&b);
	if (rv != 0)
		return die(EXIT_FAIL, "%s: %s: %s", cmd, t->label, mycel_strerror(rv));
	if (status != MYCEL_RPC_OK) {
		rv = die(EXIT_FAIL, "%s: %s: %s", cmd, mycel_rpc_status_name(status),
			 msg[0] ? msg : "refused");
		goto out;
	}
	if (json)
		printf("{\"%s\":", add ? "added" : "removed");
	else
		printf("%s ", add ? "added" : "removed");
	if (json) {
		json_str(stdout, url);
		printf("}\n");
	} else {
		safe_str(stdout, url);
		putchar('\n');
	}
	rv = 0;
out:
	free(msg);
	free(body);
	return rv;
}

int cmd_peers(int argc, char **argv)
{
	static const struct option opts[] = {COMMON_OPTS, {NULL, 0, NULL, 0}};
	static const char use[] = "usage: mycel peers [add URL | remove URL] " COMMON_USAGE;
	common co = {0};
	int c, k;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((k = common_opt(c, "peers", &co)) != 1)
			return k != 0 ? k : usage_error("peers", "%s", use);
	}
	const char *action = NULL, *url = NULL;
	if (optind < argc) {
		action = argv[optind];
		if ((strcmp(action, "add") != 0 && strcmp(action, "remove") != 0) ||
		    optind + 2 != argc)
			return usage_error("peers", "%s", use);
		url = argv[optind + 1];
	}
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
	if (action != NULL) {
		rv = peers_change(&t, action[0] == 'a', url, co.json);
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
		peer_table(r.peers, r.n_peers);
	for (size_t i = 0; co.json && i < r.n_peers; i++) {
		peer_json(&r.peers[i]);
		putchar('\n');
	}
	rv = 0;
out:
	mycel_arena_free(a);
	close_target(&t);
	return rv;
}

/* ---- get, search, lineage, reindex ------------------------------------------------------------------ */

/*
 * The seqs at which the target holds fork proofs of feed (Mesh Pull fork_feeds), into
 * seqs (at most max); the count, 0 when none or the target cannot say.
 */
static size_t fork_seqs(target *t, const uint8_t *feed, uint64_t *seqs, size_t max)
{
	mycel_arena *a = reply_arena();
	mycel_bytes ff = {feed, MYCEL_PK_LEN};
	mycel_msg_PullRequest rq = {.fork_feeds = &ff, .n_fork_feeds = 1};
	mycel_msg_PullReply rp;
	mycel_result res;
	size_t n = 0;
	if (a == NULL)
		return 0;
	if (mycel_client_pull(t->c, &rq, a, &res, &rp) == 0 && res.status == MYCEL_RPC_OK) {
		for (size_t i = 0; i < rp.n_forks && n < max; i++) {
			mycel_entry e;
			if (rp.forks[i].a != NULL &&
			    mycel_entry_decode(rp.forks[i].a->entry, rp.forks[i].a->entry_len, &e) == 0 &&
			    memcmp(e.h.feed, feed, MYCEL_PK_LEN) == 0)
				seqs[n++] = e.h.seq;
		}
	}
	mycel_arena_free(a);
	return n;
}

int cmd_get(int argc, char **argv)
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
	uint64_t fseq[8];
	size_t n_fseq = doc.forked && feed[0] ? fork_seqs(&t, sv->feed, fseq, 8) : 0;
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
			printf(",\"status\":\"%s\",\"seq\":%llu,\"ts_ms\":%llu,\"policy\":{\"denied\":%llu,"
			       "\"warned\":%llu}}",
			       mycel_doc_status_name((mycel_doc_status)doc.versions[i].status),
			       (unsigned long long)doc.versions[i].seq,
			       (unsigned long long)doc.versions[i].ts_ms,
			       (unsigned long long)doc.versions[i].denied,
			       (unsigned long long)doc.versions[i].warned);
		}
		printf("]");
		if (doc.transferred_to != NULL) {
			printf(",\"transferred_to\":");
			json_str(stdout, doc.transferred_to);
			printf(",\"transfer_offer_seq\":%llu,\"transfer_accept_seq\":%llu",
			       (unsigned long long)doc.transfer_offer_seq,
			       (unsigned long long)doc.transfer_accept_seq);
		}
		if (doc.transferred_from != NULL) {
			printf(",\"transferred_from\":");
			json_str(stdout, doc.transferred_from);
		}
		if (doc.forked) {
			printf(",\"forked\":true,\"fork_seqs\":[");
			for (size_t i = 0; i < n_fseq; i++)
				printf("%s%llu", i ? "," : "", (unsigned long long)fseq[i]);
			printf("]");
		}
		printf(",\"document\":%s}\n", (const char *)out.data);
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
	if (doc.transferred_to != NULL) {
		printf("moved      to domain ");
		safe_str(stdout, doc.transferred_to);
		printf(" (offer seq %llu, accepted at ", (unsigned long long)doc.transfer_offer_seq);
		safe_str(stdout, doc.transferred_to);
		printf(" seq %llu): ", (unsigned long long)doc.transfer_accept_seq);
		safe_str(stdout, doc.transferred_to);
		putchar('/');
		safe_str(stdout, S(doc.id));
		printf(" is where its next versions are published\n");
	}
	if (doc.transferred_from != NULL) {
		printf("received   from domain ");
		safe_str(stdout, doc.transferred_from);
		printf(" (its versions stay under ");
		safe_str(stdout, doc.transferred_from);
		putchar('/');
		safe_str(stdout, S(doc.id));
		printf(")\n");
	}
	if (doc.forked) {
		printf("%sFORKED%s     domain %s signed two different entries at seq", c_red(), c_off(),
		       S(doc.domain));
		for (size_t i = 0; i < n_fseq; i++)
			printf("%s %llu", i ? "," : "", (unsigned long long)fseq[i]);
		if (n_fseq == 0)
			printf(" (unknown)");
		printf(" of its feed: this node holds the proof; the feed takes no more entries\n");
	}
	if (doc.description && doc.description[0]) {
		printf("about      ");
		safe_str(stdout, doc.description);
		putchar('\n');
	}
	printf("versions\n");
	for (size_t i = 0; i < doc.n_versions; i++) {
		iso_time(doc.versions[i].ts_ms, ts, sizeof(ts));
		printf("  %-12s %-10s seq %-6llu %s%s", S(doc.versions[i].version),
		       mycel_doc_status_name((mycel_doc_status)doc.versions[i].status),
		       (unsigned long long)doc.versions[i].seq, ts,
		       i == doc.current ? "  (current)" : "");
		if (doc.versions[i].denied > 0)
			printf("  %sNONCOMPLIANT: violates %llu deny polic%s%s", c_red(),
			       (unsigned long long)doc.versions[i].denied,
			       doc.versions[i].denied == 1 ? "y" : "ies", c_off());
		if (doc.versions[i].warned > 0)
			printf("  %s%llu policy warning%s%s", c_dim(),
			       (unsigned long long)doc.versions[i].warned,
			       doc.versions[i].warned == 1 ? "" : "s", c_off());
		putchar('\n');
	}
	if (show_doc)
		printf("document\n%s\n", (const char *)out.data);
out:
	mycel_buf_fini(&out);
	mycel_arena_free(a);
	close_target(&t);
	return rv;
}

int cmd_search(int argc, char **argv)
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
		case 'a': /* every document: retired ones and those a deny policy flags too */
			q.status = MYCEL_STATUS_ANY;
			q.has_noncompliant = q.noncompliant = true;
			break;
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
			if (h->transferred_to != NULL) {
				printf(",\"transferred_to\":");
				json_str(stdout, h->transferred_to);
			}
			if (h->denied > 0)
				printf(",\"denied\":%llu", (unsigned long long)h->denied);
			printf("%s}\n", h->forked ? ",\"forked\":true" : "");
			continue;
		}
		char ref[400];
		snprintf(ref, sizeof(ref), "%s/%s", S(h->domain), S(h->id));
		printf("%-8s ", kind);
		safe_str(stdout, ref);
		printf("%*s %-10s %-10s %-11s ", strlen(ref) < 40 ? (int)(40 - strlen(ref)) : 0, "",
		       S(h->version), st, S(h->matched));
		safe_str(stdout, S(h->name));
		if (h->forked)
			printf("  %s[FORKED feed]%s", c_red(), c_off());
		if (h->transferred_to != NULL) {
			printf("  [moved to ");
			safe_str(stdout, h->transferred_to);
			putchar(']');
		}
		if (h->denied > 0)
			printf("  %s[violates %llu deny polic%s]%s", c_red(),
			       (unsigned long long)h->denied, h->denied == 1 ? "y" : "ies", c_off());

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

int cmd_lineage(int argc, char **argv)
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
