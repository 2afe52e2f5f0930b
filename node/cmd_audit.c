/*
 * mycel audit DOMAIN/ID --out FILE: writes the audit bundle of a document (PROTOCOL.md §11),
 * from a store (--data) or through a node's Mesh service (--node); and `mycel verify FILE`,
 * which checks a bundle offline and prints what it proves.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mycel/bundle.h"
#include "mycel/charter.h"
#include "mycel/client.h"
#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/rpc.h"

#include "cli_common.h"

/* ---- through a node ------------------------------------------------------------------------- */

/* Now plus the call timeout (--timeout MS, or the client's default), in unix ms. */
static uint64_t deadline_ms(uint64_t timeout_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u +
	       (timeout_ms ? timeout_ms : MYCEL_CLIENT_TIMEOUT_DEFAULT_MS);
}

/* Every charter file from genesis, with Mesh/Charter{version}; the latest decoded in *out. */
static int node_charters(target *t, uint64_t timeout_ms, mycel_bundle_builder *b,
                         mycel_charter **out)
{
	uint64_t have = 0;
	mycel_charter *latest = NULL;
	for (;;) {
		mycel_msg_CharterRequest rq = {.has_version = true, .version = have};
		mycel_msg_CharterReply rp;
		mycel_buf q;
		uint64_t status = 0;
		char *msg = NULL;
		uint8_t *body = NULL;
		size_t body_len = 0;
		char why[512] = "";
		mycel_buf_init(&q, 1024);
		int rv = mycel_msg_CharterRequest_encode(&rq, &q);
		if (rv == 0)
			rv = mycel_client_call(t->c, "mycel.v1.Mesh/Charter",
			                       deadline_ms(timeout_ms), q.data, q.len, &status,
			                       &msg, &body, &body_len);
		mycel_buf_fini(&q);
		if (rv != 0) {
			mycel_charter_free(latest);
			return die(EXIT_FAIL, "audit: %s: Mesh/Charter: %s", t->label,
			           mycel_strerror(rv));
		}
		if (status != MYCEL_RPC_OK) {
			int code = die(EXIT_FAIL, "audit: %s: Mesh/Charter: %s: %s", t->label,
			               mycel_rpc_status_name(status), msg ? msg : "");
			free(msg);
			free(body);
			mycel_charter_free(latest);
			return code;
		}
		free(msg);
		mycel_arena *a = reply_arena();
		rv = a == NULL
		         ? MYCEL_ENOMEM
		         : mycel_msg_CharterReply_decode(body ? body : (const uint8_t *)"\x90",
		                                         body ? body_len : 1, a, &rp, why,
		                                         sizeof(why));
		free(body);
		if (rv != 0) {
			mycel_arena_free(a);
			mycel_charter_free(latest);
			return die(EXIT_FAIL, "audit: %s: Mesh/Charter reply: %s %s", t->label,
			           mycel_strerror(rv), why);
		}
		for (size_t i = 0; i < rp.n_newer && rv == 0; i++) {
			rv = mycel_bundle_builder_add_charter(b, rp.newer[i].ptr, rp.newer[i].len,
			                                      why, sizeof(why));
			if (rv == 0) {
				mycel_charter_free(latest);
				latest = NULL;
				rv = mycel_charter_decode(rp.newer[i].ptr, rp.newer[i].len, &latest,
				                          why, sizeof(why));
			}
		}
		size_t got = rp.n_newer;
		mycel_arena_free(a);
		if (rv != 0) {
			mycel_charter_free(latest);
			return die(EXIT_FAIL, "audit: %s: charter version %llu: %s", t->label,
			           (unsigned long long)have + 1, why);
		}
		if (got == 0)
			break;
		have += got;
	}
	if (latest == NULL)
		return die(EXIT_FAIL, "audit: %s sent no charter", t->label);
	*out = latest;
	return 0;
}

typedef struct feedlist {
	uint8_t feed[MYCEL_BUNDLE_FEEDS_MAX][MYCEL_PK_LEN];
	size_t n;
	const mycel_charter *latest; /* resolves the domains transfers name */
	const char *id;
} feedlist;

/* Queues the feed of the domain an offer or acceptance of the subject names. */
static void note_peer(feedlist *l, const uint8_t *body, size_t body_len)
{
	char name[MYCEL_NAME_MAX + 1];
	if (mycel_bundle_transfer_peer(body, body_len, l->id, name) != 0)
		return;
	const mycel_charter_domain *d = mycel_charter_find_domain(l->latest, name);
	if (d == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		if (memcmp(l->feed[i], d->feed, MYCEL_PK_LEN) == 0)
			return;
	if (l->n < MYCEL_BUNDLE_FEEDS_MAX)
		memcpy(l->feed[l->n++], d->feed, MYCEL_PK_LEN);
}

/* Pulls feed 1..head into the builder; the feeds its transfers name are queued in more. */
static int node_feed(target *t, mycel_bundle_builder *b, const uint8_t feed[MYCEL_PK_LEN],
                     uint64_t head, feedlist *more)
{
	char hex[2 * MYCEL_PK_LEN + 1];
	int rv = mycel_bundle_builder_add_feed(b, feed);
	mycel_hex(feed, MYCEL_PK_LEN, hex);
	if (rv != 0)
		return die(EXIT_FAIL, "audit: feed %.16s…: %s", hex, mycel_strerror(rv));
	for (uint64_t from = 1; from <= head;) {
		mycel_arena *a = reply_arena();
		if (a == NULL)
			return die(EXIT_FAIL, "out of memory");
		mycel_msg_FeedRange r = {.feed = feed,
		                         .feed_len = MYCEL_PK_LEN,
		                         .has_from_seq = true,
		                         .from_seq = from,
		                         .has_to_seq = true,
		                         .to_seq = head};
		mycel_msg_PullRequest rq = {.ranges = &r, .n_ranges = 1};
		mycel_msg_PullReply rp;
		mycel_result res;
		rv = mycel_client_pull(t->c, &rq, a, &res, &rp);
		if (rv != 0 || res.status != MYCEL_RPC_OK) {
			mycel_arena_free(a);
			return call_failed("audit", rv, &res);
		}
		if (rp.n_entries == 0) {
			mycel_arena_free(a);
			return die(EXIT_FAIL,
			           "audit: %s sent no entries of feed %.16s… from seq %llu",
			           t->label, hex, (unsigned long long)from);
		}
		for (size_t i = 0; i < rp.n_entries; i++, from++) {
			const mycel_msg_Entry *m = &rp.entries[i];
			rv = m->entry == NULL
			         ? MYCEL_EFORMAT
			         : mycel_bundle_builder_add_entry(b, m->entry, m->entry_len,
			                                          m->body, m->body_len);
			if (rv != 0) {
				mycel_arena_free(a);
				return die(EXIT_FAIL, "audit: %s: feed %.16s… seq %llu: %s",
				           t->label, hex, (unsigned long long)from,
				           mycel_strerror(rv));
			}
			mycel_entry e;
			if (m->body != NULL &&
			    mycel_entry_decode(m->entry, m->entry_len, &e) == 0 &&
			    strcmp(e.h.kind, "transfer") == 0)
				note_peer(more, m->body, m->body_len);
		}
		mycel_arena_free(a);
	}
	return 0;
}

/* The fork proofs the node holds for the bundle's feeds. */
static int node_forks(target *t, mycel_bundle_builder *b, const feedlist *feeds)
{
	mycel_bytes ff[MYCEL_BUNDLE_FEEDS_MAX];
	for (size_t i = 0; i < feeds->n; i++)
		ff[i] = (mycel_bytes){feeds->feed[i], MYCEL_PK_LEN};
	mycel_arena *a = reply_arena();
	if (a == NULL)
		return die(EXIT_FAIL, "out of memory");
	mycel_msg_PullRequest rq = {.fork_feeds = ff, .n_fork_feeds = feeds->n};
	mycel_msg_PullReply rp;
	mycel_result res;
	int rv = mycel_client_pull(t->c, &rq, a, &res, &rp);
	if (rv != 0 || res.status != MYCEL_RPC_OK) {
		mycel_arena_free(a);
		return call_failed("audit", rv, &res);
	}
	for (size_t i = 0; i < rp.n_forks && rv == 0; i++) {
		mycel_entry ea, eb;
		uint8_t proof[MYCEL_FORK_MAX];
		size_t n = 0;
		const mycel_msg_ForkProof *f = &rp.forks[i];
		if (f->a == NULL || f->b == NULL || f->a->entry == NULL || f->b->entry == NULL ||
		    mycel_entry_decode(f->a->entry, f->a->entry_len, &ea) != 0 ||
		    mycel_entry_decode(f->b->entry, f->b->entry_len, &eb) != 0 ||
		    mycel_fork_encode(&ea, &eb, proof, &n) != 0)
			rv = MYCEL_EFORMAT;
		else
			rv = mycel_bundle_builder_add_fork(b, proof, n);
	}
	mycel_arena_free(a);
	if (rv != 0)
		return die(EXIT_FAIL, "audit: %s: a fork proof: %s", t->label, mycel_strerror(rv));
	return 0;
}

static int build_from_node(target *t, uint64_t timeout_ms, const char *domain, const char *id,
                           mycel_buf *out)
{
	mycel_bundle_builder *b = NULL;
	mycel_charter *latest = NULL;
	mycel_arena *a = NULL;
	mycel_msg_StatusReply st;
	feedlist feeds = {.n = 0, .id = id};
	char why[512] = "";
	int rv = mycel_bundle_builder_new(domain, id, &b);
	if (rv != 0)
		return usage_error("audit", "\"%s\" is not a valid DOMAIN/ID", id);
	if ((rv = node_charters(t, timeout_ms, b, &latest)) != 0)
		goto out;
	const mycel_charter_domain *d = mycel_charter_find_domain(latest, domain);
	if (d == NULL) {
		rv = die(EXIT_FAIL, "audit: charter version %llu of %s admits no domain \"%s\"",
		         (unsigned long long)mycel_charter_version(latest), t->label, domain);
		goto out;
	}
	if ((a = reply_arena()) == NULL) {
		rv = die(EXIT_FAIL, "out of memory");
		goto out;
	}
	if ((rv = target_status(t, "audit", a, &st)) != 0)
		goto out;
	feeds.latest = latest;
	memcpy(feeds.feed[feeds.n++], d->feed, MYCEL_PK_LEN);
	for (size_t k = 0; k < feeds.n; k++) {
		uint64_t head = 0;
		for (size_t i = 0; i < st.n_heads; i++)
			if (st.heads[i].feed != NULL && st.heads[i].feed_len == MYCEL_PK_LEN &&
			    memcmp(st.heads[i].feed, feeds.feed[k], MYCEL_PK_LEN) == 0)
				head = st.heads[i].seq;
		if (head == 0 && k == 0) {
			rv = die(EXIT_FAIL, "audit: %s holds no entry of domain %s", t->label,
			         domain);
			goto out;
		}
		if (head == 0) { /* a feed a transfer names that the node does not hold */
			memmove(feeds.feed[k], feeds.feed[k + 1], (feeds.n - k - 1) * MYCEL_PK_LEN);
			feeds.n--;
			k--;
			continue;
		}
		if ((rv = node_feed(t, b, feeds.feed[k], head, &feeds)) != 0)
			goto out;
	}
	if ((rv = node_forks(t, b, &feeds)) != 0)
		goto out;
	if ((rv = mycel_bundle_builder_finish(b, out, why, sizeof(why))) != 0)
		rv = die(EXIT_FAIL, "audit: %s", why);
out:
	mycel_arena_free(a);
	mycel_charter_free(latest);
	mycel_bundle_builder_free(b);
	return rv;
}

/* ---- audit ---------------------------------------------------------------------------------- */

/* Writes p to path through a temporary file and a rename; 0 or -1 with errno. */
static int write_file(const char *path, const uint8_t *p, size_t n)
{
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "wb");
	if (f == NULL)
		return -1;
	bool ok = fwrite(p, 1, n, f) == n;
	ok = fflush(f) == 0 && ok;
	ok = fsync(fileno(f)) == 0 && ok;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}

int cmd_audit(int argc, char **argv)
{
	enum { O_OUT = 2000 };
	static const struct option opts[] = {
	    COMMON_OPTS, {"out", required_argument, NULL, O_OUT}, {NULL, 0, NULL, 0}};
	static const char use[] = "usage: mycel audit DOMAIN/ID --out FILE " COMMON_USAGE;
	common co = {0};
	const char *outp = NULL;
	int c, k;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == O_OUT) {
			outp = optarg;
			continue;
		}
		if ((k = common_opt(c, "audit", &co)) != 1)
			return k != 0 ? k : usage_error("audit", "%s", use);
	}
	if (optind != argc - 1 || outp == NULL || *outp == '\0')
		return usage_error("audit", "%s", use);
	char domain[MYCEL_NAME_MAX + 2];
	const char *id;
	if (split_ref(argv[optind], domain, sizeof(domain), &id) != 0 ||
	    !mycel_name_valid(domain) || strlen(id) > MYCEL_BUNDLE_ID_MAX)
		return usage_error("audit", "\"%s\" is not DOMAIN/ID", argv[optind]);
	target t;
	int rv = open_target(&co, "audit", false, &t);
	if (rv != 0)
		return rv;
	mycel_buf b;
	mycel_bundle_report *r = NULL;
	char why[512] = "";
	mycel_buf_init(&b, MYCEL_BUNDLE_MAX + 64);
	if (t.direct) {
		rv = mycel_bundle_build(t.o.store, domain, id, &b, why, sizeof(why));
		if (rv != 0) {
			rv = die(EXIT_FAIL, "audit %s: %s", argv[optind], why);
			goto out;
		}
	} else if ((rv = build_from_node(&t, co.timeout_ms, domain, id, &b)) != 0) {
		goto out;
	}
	/* what is written must verify, as the auditor will check it */
	if ((rv = mycel_bundle_verify(b.data, b.len, &r, why, sizeof(why))) != 0) {
		rv = die(EXIT_FAIL, "audit %s: the bundle from %s does not verify: %s",
		         argv[optind], t.label, why);
		goto out;
	}
	if (co.has_mesh_id && memcmp(co.mesh_id, r->mesh_id, MYCEL_HASH_LEN) != 0) {
		rv = die(EXIT_FAIL, "audit %s: %s belongs to another mesh than --mesh-id",
		         argv[optind], t.label);
		goto out;
	}
	if (write_file(outp, b.data, b.len) != 0) {
		rv = die(EXIT_FAIL, "audit: %s: %s", outp, strerror(errno));
		goto out;
	}
	if (co.json) {
		printf("{\"out\":");
		json_str(stdout, outp);
		printf(",\"domain\":");
		json_str(stdout, r->domain);
		printf(",\"id\":");
		json_str(stdout, r->id);
		printf(
		    ",\"kind\":\"%s\",\"bytes\":%zu,\"feeds\":%zu,\"entries\":%zu,\"bodies\":%zu,"
		    "\"charters\":%zu,\"forks\":%zu}\n",
		    r->kind, b.len, r->feeds, r->entries, r->bodies, r->charters, r->forks);
	} else {
		printf("%s: audit bundle of %s/", outp, r->domain);
		safe_str(stdout, r->id);
		printf(
		    " (%s): %zu charter version(s), %zu feed(s), %zu entries, %zu bodies, %zu fork "
		    "proof(s), %zu bytes\n",
		    r->kind, r->charters, r->feeds, r->entries, r->bodies, r->forks, b.len);
	}
	rv = 0;
out:
	mycel_bundle_report_free(r);
	mycel_buf_fini(&b);
	close_target(&t);
	return rv;
}

/* ---- verify FILE ---------------------------------------------------------------------------- */

static void print_ts(FILE *f, uint64_t ms)
{
	char ts[40];
	iso_time(ms, ts, sizeof(ts));
	fputs(ts, f);
}

static void print_json(const char *path, size_t size, const mycel_bundle_report *r)
{
	char hex[2 * MYCEL_HASH_LEN + 1], mid[2 * MYCEL_HASH_LEN + 1], ts[40];
	mycel_hex(r->owner_feed, MYCEL_PK_LEN, hex);
	mycel_hex(r->mesh_id, MYCEL_HASH_LEN, mid);
	printf("{\"bundle\":");
	json_str(stdout, path);
	printf(",\"bytes\":%zu,\"ok\":true,\"domain\":", size);
	json_str(stdout, r->domain);
	printf(",\"id\":");
	json_str(stdout, r->id);
	iso_time(r->since_ts_ms, ts, sizeof(ts));
	printf(",\"kind\":\"%s\",\"owner\":", r->kind);
	json_str(stdout, r->owner);
	printf(",\"owner_feed\":\"%s\",\"since_seq\":%llu,\"since_ts_ms\":%llu,"
	       "\"since\":\"%s\",\"mesh\":",
	       hex, (unsigned long long)r->since_seq, (unsigned long long)r->since_ts_ms, ts);
	json_str(stdout, r->mesh);
	printf(",\"mesh_id\":\"%s\",\"charter_version\":%llu,\"admitted_since\":%llu,"
	       "\"head_seq\":%llu,\"head_ts_ms\":%llu,\"versions\":[",
	       mid, (unsigned long long)r->charter_version, (unsigned long long)r->admitted_since,
	       (unsigned long long)r->head_seq, (unsigned long long)r->head_ts_ms);
	for (size_t i = 0; i < r->n_versions; i++) {
		const mycel_bundle_version *v = &r->versions[i];
		printf("%s{\"domain\":", i ? "," : "");
		json_str(stdout, v->domain);
		printf(",\"version\":");
		json_str(stdout, v->version);
		printf(",\"status\":\"%s\",\"seq\":%llu,\"ts_ms\":%llu",
		       mycel_bundle_status_name(v->status), (unsigned long long)v->seq,
		       (unsigned long long)v->ts_ms);
		if (v->status_seq)
			printf(",\"status_seq\":%llu,\"status_ts_ms\":%llu",
			       (unsigned long long)v->status_seq,
			       (unsigned long long)v->status_ts_ms);
		printf("}");
	}
	printf("],\"transfers\":[");
	for (size_t i = 0; i < r->n_transfers; i++) {
		const mycel_bundle_transfer *x = &r->transfers[i];
		printf("%s{\"from\":", i ? "," : "");
		json_str(stdout, x->from);
		printf(",\"to\":");
		json_str(stdout, x->to);
		printf(",\"offer_seq\":%llu,\"offer_ts_ms\":%llu,\"accept_seq\":%llu,"
		       "\"accept_ts_ms\":%llu}",
		       (unsigned long long)x->offer_seq, (unsigned long long)x->offer_ts_ms,
		       (unsigned long long)x->accept_seq, (unsigned long long)x->accept_ts_ms);
	}
	printf("]");
	if (r->pending) {
		printf(",\"pending\":{\"to\":");
		json_str(stdout, r->pending_to);
		printf(",\"offer_seq\":%llu,\"offer_ts_ms\":%llu,\"feed_in_bundle\":%s}",
		       (unsigned long long)r->pending_seq, (unsigned long long)r->pending_ts_ms,
		       r->pending_feed_held ? "true" : "false");
	}
	printf(",\"key_events\":%zu,\"charters\":%zu,\"feeds\":%zu,\"entries\":%zu,\"bodies\":%zu,"
	       "\"forks\":%zu,\"owner_forks\":%zu}\n",
	       r->keys, r->charters, r->feeds, r->entries, r->bodies, r->forks, r->owner_forks);
}

static void print_human(const char *path, size_t size, const mycel_bundle_report *r)
{
	char hex[2 * MYCEL_HASH_LEN + 1], mid[2 * MYCEL_HASH_LEN + 1];
	mycel_hex(r->owner_feed, MYCEL_PK_LEN, hex);
	mycel_hex(r->mesh_id, MYCEL_HASH_LEN, mid);
	printf("%-13s ", "bundle");
	safe_str(stdout, path);
	printf(" (%zu bytes)\n", size);
	printf("%-13s %s%s/", "subject", c_bold(), r->domain);
	safe_str(stdout, r->id);
	printf("%s (%s)\n", c_off(), r->kind);
	printf("%-13s %s, feed %s\n", "owner", r->owner, hex);
	printf("%-13s ", "owned since");
	print_ts(stdout, r->since_ts_ms);
	if (r->n_transfers > 0)
		printf(" (seq %llu of the feed of %s: its acceptance of the transfer from %s)\n",
		       (unsigned long long)r->since_seq, r->owner,
		       r->transfers[r->n_transfers - 1].from);
	else
		printf(" (seq %llu: the first version)\n", (unsigned long long)r->since_seq);
	printf("%-13s %zu\n", "transfers", r->n_transfers);
	for (size_t i = 0; i < r->n_transfers; i++) {
		const mycel_bundle_transfer *x = &r->transfers[i];
		printf("%-13s %s -> %s: offered at seq %llu (", "", x->from, x->to,
		       (unsigned long long)x->offer_seq);
		print_ts(stdout, x->offer_ts_ms);
		printf("), accepted at seq %llu (", (unsigned long long)x->accept_seq);
		print_ts(stdout, x->accept_ts_ms);
		printf(")\n");
	}
	if (r->pending) {
		printf("%-13s offered by %s to %s at seq %llu (", "pending", r->owner,
		       r->pending_to, (unsigned long long)r->pending_seq);
		print_ts(stdout, r->pending_ts_ms);
		printf("), acceptance not in the bundle (%s): the owner shown is the giver, as far "
		       "as the bundle proves\n",
		       r->pending_feed_held ? "not in its feed up to the head the bundle holds"
		                            : "its feed is not in the bundle");
	}
	printf("%-13s version %llu of mesh %s (mesh id %s)\n", "charter",
	       (unsigned long long)r->charter_version, r->mesh, mid);
	printf("%-13s since charter version %llu\n", "admitted",
	       (unsigned long long)r->admitted_since);
	printf("%-13s seq %llu of the feed of %s, ", "feed head", (unsigned long long)r->head_seq,
	       r->domain);
	print_ts(stdout, r->head_ts_ms);
	printf(" (the bundle shows nothing after it)\n");
	printf("%-13s %s%-12s %-16s %-10s %6s  %-24s  %s%s\n", "versions", c_dim(), "domain",
	       "version", "status", "seq", "published (UTC)", "status set", c_off());
	for (size_t i = 0; i < r->n_versions; i++) {
		const mycel_bundle_version *v = &r->versions[i];
		printf("%-13s %-12s ", "", v->domain);
		safe_str(stdout, v->version);
		int pad = 16 - (int)strlen(v->version);
		printf("%*s %-10s %6llu  ", pad > 0 ? pad : 0, "",
		       mycel_bundle_status_name(v->status), (unsigned long long)v->seq);
		print_ts(stdout, v->ts_ms);
		if (v->status_seq) {
			printf("  seq %llu, ", (unsigned long long)v->status_seq);
			print_ts(stdout, v->status_ts_ms);
		}
		printf("\n");
	}
	printf("%-13s %zu\n", "key events", r->keys);
	printf("%-13s %zu charter version(s), %zu feed(s), %zu entries, %zu bodies, %zu fork "
	       "proof(s), digest\n",
	       "checked", r->charters, r->feeds, r->entries, r->bodies, r->forks);
	if (r->owner_forks > 0)
		printf("%sforked%s: the owning feed signed two entries at %zu position(s) "
		       "(equivocation): its history is not unique\n",
		       c_red(), c_off(), r->owner_forks);
	printf("%sOK%s: every signature, chain link, body hash, timestamp and charter step "
	       "verifies\n",
	       c_green(), c_off());
}

int verify_bundle_file(const char *path, bool json)
{
	struct stat sb;
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	mycel_bundle_report *r = NULL;
	char why[512] = "";
	int rv;
	if (f == NULL)
		return die(EXIT_FAIL, "verify: %s: %s", path, strerror(errno));
	if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		fclose(f);
		return die(EXIT_FAIL, "verify: %s: not a regular file", path);
	}
	size_t n = (size_t)sb.st_size;
	if ((uint64_t)sb.st_size > MYCEL_BUNDLE_MAX) {
		rv = MYCEL_ETOOBIG;
		snprintf(why, sizeof(why), "bundle: %llu bytes, over the limit of %zu",
		         (unsigned long long)sb.st_size, MYCEL_BUNDLE_MAX);
	} else if ((p = malloc(n ? n : 1)) == NULL) {
		fclose(f);
		return die(EXIT_FAIL, "verify: %s: out of memory", path);
	} else if (fread(p, 1, n, f) != n) {
		fclose(f);
		free(p);
		return die(EXIT_FAIL, "verify: %s: cannot read it", path);
	} else {
		rv = mycel_bundle_verify(p, n, &r, why, sizeof(why));
	}
	fclose(f);
	if (rv != 0) {
		if (json) {
			printf("{\"bundle\":");
			json_str(stdout, path);
			printf(",\"ok\":false,\"code\":\"%s\",\"message\":", mycel_errname(rv));
			json_str(stdout, why);
			printf("}\n");
		} else {
			printf("%sFAIL%s ", c_red(), c_off());
			safe_str(stdout, path);
			printf(": ");
			safe_str(stdout, why);
			printf(" [%s]\n", mycel_errname(rv));
		}
		free(p);
		return EXIT_FAIL;
	}
	if (json)
		print_json(path, n, r);
	else
		print_human(path, n, r);
	mycel_bundle_report_free(r);
	free(p);
	return 0;
}
