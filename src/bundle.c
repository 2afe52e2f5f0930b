/*
 * bundle.c — building audit bundles (PROTOCOL.md §11): the builder that gathers charters,
 * entries, bodies and fork proofs from any source and encodes the bundle, and
 * mycel_bundle_build, which feeds it from a store. Verification is in bundle_verify.c.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mycel/bundle.h"
#include "mycel/charter.h"
#include "mycel/codec.h"
#include "mycel/error.h"
#include "bundle_int.h"
#include "catalog_int.h"
#include "util.h"

/* ---- shared with the verifier ------------------------------------------------------------- */

bool mycel__bundle_body_needed(const char *kind, const char *subject_kind)
{
	static const char *const always[] = {"lifecycle", "domain", "key", "transfer"};
	if (subject_kind != NULL && strcmp(kind, subject_kind) == 0)
		return true;
	for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		if (strcmp(kind, always[i]) == 0)
			return true;
	return false;
}

bool mycel__bundle_body_str(const uint8_t *body, size_t n, const char *key, const char **s,
                            size_t *len)
{
	mycel_rd r;
	uint32_t count;
	size_t kn = strlen(key);
	if (body == NULL)
		return false;
	mycel_rd_init(&r, body, n);
	if (mycel_rd_map(&r, &count) != 0)
		return false;
	for (uint32_t i = 0; i < count; i++) {
		const char *k;
		size_t kl;
		mycel_type t;
		if (mycel_rd_str(&r, &k, &kl) != 0)
			return false;
		if (kl == kn && memcmp(k, key, kn) == 0) {
			if (mycel_rd_peek(&r, &t) != 0 || t != MYCEL_T_STR)
				return false;
			return mycel_rd_str(&r, s, len) == 0;
		}
		if (mycel_rd_skip(&r, 1) != 0)
			return false;
	}
	return false;
}

bool mycel__bundle_doc_version(const uint8_t *body, size_t n, const char *id, size_t id_len,
                               const char **ver, size_t *vn)
{
	const char *s;
	size_t sn;
	return mycel__bundle_body_str(body, n, "id", &s, &sn) && sn == id_len &&
	       memcmp(s, id, sn) == 0 && mycel__bundle_body_str(body, n, "version", ver, vn) &&
	       *vn >= 1 && *vn <= 64 && memchr(*ver, 0, *vn) == NULL;
}

void mycel__bundle_digest(const uint8_t *content, size_t n, uint8_t out[MYCEL_HASH_LEN])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, MYCEL_HASH_LEN);
	crypto_generichash_update(&st, (const uint8_t *)MYCEL__BUNDLE_CTX,
	                          sizeof(MYCEL__BUNDLE_CTX));
	crypto_generichash_update(&st, content, n);
	crypto_generichash_final(&st, out, MYCEL_HASH_LEN);
}

int mycel_bundle_transfer_peer(const uint8_t *body, size_t n, const char *id,
                               char out_domain[MYCEL_NAME_MAX + 1])
{
	mycel__xfer x;
	if (body == NULL || id == NULL || out_domain == NULL ||
	    mycel__transfer_body_read(body, n, &x) != 0 || x.id_len != strlen(id) ||
	    memcmp(x.id, id, x.id_len) != 0 || x.peer_len > MYCEL_NAME_MAX)
		return MYCEL_ENOTFOUND;
	memcpy(out_domain, x.peer, x.peer_len);
	out_domain[x.peer_len] = '\0';
	return 0;
}

/* ---- the builder ------------------------------------------------------------------------- */

typedef struct bentry {
	uint8_t raw[MYCEL_ENTRY_MAX];
	uint16_t len;
	char kind[MYCEL_KIND_MAX + 1];
	uint64_t seq;
	uint8_t *body; /* NULL: not carried */
	size_t body_len;
	bool body_missing; /* the source had no body for it */
} bentry;

typedef struct bfeed {
	uint8_t feed[MYCEL_PK_LEN];
	bentry *e;
	size_t n, cap;
	mycel_entry last; /* the last entry added, to check the order */
} bfeed;

typedef struct blob {
	uint8_t *p;
	size_t n;
} blob;

struct mycel_bundle_builder {
	char domain[MYCEL_NAME_MAX + 1];
	char id[MYCEL_BUNDLE_ID_MAX + 1];
	char kind[16];       /* the subject's kind once its first entry is seen, else "" */
	bool has_version[2]; /* some feed publishes a version of id: [0] contract, [1] product */
	blob *charters;
	size_t n_charters;
	uint64_t charter_version;
	bfeed feeds[MYCEL_BUNDLE_FEEDS_MAX];
	size_t n_feeds;
	blob *forks;
	size_t n_forks;
	size_t entries; /* of all feeds */
	size_t bytes;   /* roughly what the bundle will take */
};

int mycel_bundle_builder_new(const char *domain, const char *id, mycel_bundle_builder **out)
{
	if (domain == NULL || id == NULL || out == NULL || !mycel_name_valid(domain) ||
	    id[0] == '\0' || strlen(id) > MYCEL_BUNDLE_ID_MAX)
		return MYCEL_EINVAL;
	mycel_bundle_builder *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return MYCEL_ENOMEM;
	snprintf(b->domain, sizeof(b->domain), "%s", domain);
	snprintf(b->id, sizeof(b->id), "%s", id);
	*out = b;
	return 0;
}

void mycel_bundle_builder_free(mycel_bundle_builder *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n_charters; i++)
		free(b->charters[i].p);
	free(b->charters);
	for (size_t i = 0; i < b->n_feeds; i++) {
		for (size_t j = 0; j < b->feeds[i].n; j++)
			free(b->feeds[i].e[j].body);
		free(b->feeds[i].e);
	}
	for (size_t i = 0; i < b->n_forks; i++)
		free(b->forks[i].p);
	free(b->forks);
	free(b);
}

/* Room for n more bytes of the bundle. */
static int room(mycel_bundle_builder *b, size_t n)
{
	if (n > MYCEL_BUNDLE_MAX - b->bytes)
		return MYCEL_ETOOBIG;
	b->bytes += n + 8;
	return 0;
}

static int add_blob(blob **arr, size_t *count, size_t max, const uint8_t *p, size_t n)
{
	if (*count >= max)
		return MYCEL_ETOOBIG;
	blob *na = realloc(*arr, (*count + 1) * sizeof(**arr));
	if (na == NULL)
		return MYCEL_ENOMEM;
	*arr = na;
	uint8_t *c = malloc(n ? n : 1);
	if (c == NULL)
		return MYCEL_ENOMEM;
	memcpy(c, p, n);
	na[*count] = (blob){c, n};
	(*count)++;
	return 0;
}

int mycel_bundle_builder_add_charter(mycel_bundle_builder *b, const uint8_t *p, size_t n, char *why,
                                     size_t why_len)
{
	mycel_charter *c = NULL;
	if (b == NULL || p == NULL)
		return MYCEL_EINVAL;
	int rv = mycel_charter_decode(p, n, &c, why, why_len);
	if (rv != 0)
		return rv;
	uint64_t v = mycel_charter_version(c);
	mycel_charter_free(c);
	if (v != b->charter_version + 1)
		return mycel__fail(MYCEL_EINVAL, why, why_len,
		                   "charter version %llu given where version %llu comes next",
		                   (unsigned long long)v,
		                   (unsigned long long)b->charter_version + 1);
	if (b->n_charters >= MYCEL_BUNDLE_CHARTERS_MAX || (rv = room(b, n)) != 0)
		return mycel__fail(MYCEL_ETOOBIG, why, why_len, "too many charter versions");
	if ((rv = add_blob(&b->charters, &b->n_charters, MYCEL_BUNDLE_CHARTERS_MAX, p, n)) != 0)
		return mycel__fail(rv, why, why_len, "%s", mycel_strerror(rv));
	b->charter_version = v;
	return 0;
}

int mycel_bundle_builder_add_feed(mycel_bundle_builder *b, const uint8_t feed[MYCEL_PK_LEN])
{
	if (b == NULL || feed == NULL)
		return MYCEL_EINVAL;
	for (size_t i = 0; i < b->n_feeds; i++)
		if (memcmp(b->feeds[i].feed, feed, MYCEL_PK_LEN) == 0)
			return MYCEL_EEXIST;
	if (b->n_feeds >= MYCEL_BUNDLE_FEEDS_MAX)
		return MYCEL_ETOOBIG;
	bfeed *f = &b->feeds[b->n_feeds++];
	memset(f, 0, sizeof(*f));
	memcpy(f->feed, feed, MYCEL_PK_LEN);
	return 0;
}

int mycel_bundle_builder_add_entry(mycel_bundle_builder *b, const uint8_t *entry, size_t n,
                                   const uint8_t *body, size_t body_len)
{
	mycel_entry e;
	if (b == NULL || entry == NULL || b->n_feeds == 0)
		return MYCEL_EINVAL;
	bfeed *f = &b->feeds[b->n_feeds - 1];
	int rv = mycel_entry_decode(entry, n, &e);
	if (rv != 0)
		return rv;
	if (memcmp(e.h.feed, f->feed, MYCEL_PK_LEN) != 0 || e.h.seq != f->n + 1)
		return MYCEL_EINVAL;
	if (b->entries >= MYCEL_BUNDLE_ENTRIES_MAX || room(b, n) != 0)
		return MYCEL_ETOOBIG;
	if (f->n == f->cap) {
		size_t nc = f->cap ? f->cap * 2 : 64;
		bentry *ne = realloc(f->e, nc * sizeof(*ne));
		if (ne == NULL)
			return MYCEL_ENOMEM;
		f->e = ne;
		f->cap = nc;
	}
	bentry *x = &f->e[f->n];
	memset(x, 0, sizeof(*x));
	memcpy(x->raw, entry, n);
	x->len = (uint16_t)n;
	x->seq = e.h.seq;
	memcpy(x->kind, e.h.kind, sizeof(x->kind));
	/* until the subject's kind is known, bodies of both document kinds are kept */
	bool keep =
	    mycel__bundle_body_needed(e.h.kind, "contract") || strcmp(e.h.kind, "product") == 0;
	if (keep && body == NULL)
		x->body_missing = true;
	if (keep && body != NULL) {
		if (room(b, body_len) != 0)
			return MYCEL_ETOOBIG;
		if ((x->body = malloc(body_len ? body_len : 1)) == NULL)
			return MYCEL_ENOMEM;
		memcpy(x->body, body, body_len);
		x->body_len = body_len;
	}
	if (body != NULL &&
	    (strcmp(e.h.kind, "contract") == 0 || strcmp(e.h.kind, "product") == 0)) {
		const char *ver;
		size_t vn;
		if (mycel__bundle_doc_version(body, body_len, b->id, strlen(b->id), &ver, &vn)) {
			b->has_version[e.h.kind[0] == 'p'] = true;
			if (b->n_feeds == 1 && b->kind[0] == '\0')
				snprintf(b->kind, sizeof(b->kind), "%s",
				         e.h.kind[0] == 'c' ? "contract" : "product");
		}
	}
	if (b->n_feeds == 1 && b->kind[0] == '\0' && strcmp(e.h.kind, "transfer") == 0) {
		mycel__xfer t; /* received before publishing a version of its own */
		if (mycel__transfer_body_read(body, body_len, &t) == 0 && t.accept &&
		    t.id_len == strlen(b->id) && memcmp(t.id, b->id, t.id_len) == 0)
			snprintf(b->kind, sizeof(b->kind), "product");
	}
	f->n++;
	b->entries++;
	f->last = e;
	return 0;
}

int mycel_bundle_builder_add_fork(mycel_bundle_builder *b, const uint8_t *p, size_t n)
{
	if (b == NULL || p == NULL)
		return MYCEL_EINVAL;
	if (n > MYCEL_FORK_MAX)
		return MYCEL_EFORMAT;
	if (room(b, n) != 0)
		return MYCEL_ETOOBIG;
	return add_blob(&b->forks, &b->n_forks, MYCEL_BUNDLE_FORKS_MAX, p, n);
}

int mycel_bundle_builder_finish(mycel_bundle_builder *b, mycel_buf *out, char *why, size_t why_len)
{
	if (b == NULL || out == NULL)
		return MYCEL_EINVAL;
	if (b->n_charters == 0)
		return mycel__fail(MYCEL_EINVAL, why, why_len, "no charter was given");
	if (b->n_feeds == 0)
		return mycel__fail(MYCEL_EINVAL, why, why_len, "no feed was given");
	if (b->kind[0] == '\0')
		return mycel__fail(
		    MYCEL_ENOTFOUND, why, why_len,
		    "the feed of domain %s holds no contract or product with id \"%s\"", b->domain,
		    b->id);
	if (!b->has_version[strcmp(b->kind, "product") == 0])
		return mycel__fail(
		    MYCEL_ENOTFOUND, why, why_len,
		    "domain %s accepted product \"%s\", but no feed at hand publishes "
		    "a version of it (the giver's feed is needed)",
		    b->domain, b->id);
	for (size_t i = 0; i < b->n_feeds; i++)
		for (size_t j = 0; j < b->feeds[i].n; j++) {
			const bentry *x = &b->feeds[i].e[j];
			if (x->body_missing && mycel__bundle_body_needed(x->kind, b->kind)) {
				char hex[2 * MYCEL_PK_LEN + 1];
				mycel_hex(b->feeds[i].feed, MYCEL_PK_LEN, hex);
				return mycel__fail(
				    MYCEL_ENOTFOUND, why, why_len,
				    "feed %.16s… seq %llu: the body of this %s entry is "
				    "needed but missing",
				    hex, (unsigned long long)x->seq, x->kind);
			}
		}

	size_t start = out->len;
	mycel_enc_array(out, 4);
	mycel_enc_cstr(out, MYCEL__BUNDLE_MAGIC);
	mycel_enc_uint(out, 1);
	size_t content = out->len;
	mycel_enc_map(out, 4);
	mycel_enc_cstr(out, "charters");
	mycel_enc_array(out, (uint32_t)b->n_charters);
	for (size_t i = 0; i < b->n_charters; i++)
		mycel_enc_bin(out, b->charters[i].p, b->charters[i].n);
	mycel_enc_cstr(out, "feeds");
	mycel_enc_array(out, (uint32_t)b->n_feeds);
	for (size_t i = 0; i < b->n_feeds; i++) {
		const bfeed *f = &b->feeds[i];
		mycel_enc_map(out, 3);
		mycel_enc_cstr(out, "bodies");
		mycel_enc_array(out, (uint32_t)f->n);
		for (size_t j = 0; j < f->n; j++) {
			const bentry *x = &f->e[j];
			if (x->body != NULL && mycel__bundle_body_needed(x->kind, b->kind))
				mycel_enc_bin(out, x->body, x->body_len);
			else
				mycel_enc_nil(out);
		}
		mycel_enc_cstr(out, "entries");
		mycel_enc_array(out, (uint32_t)f->n);
		for (size_t j = 0; j < f->n; j++)
			mycel_enc_bin(out, f->e[j].raw, f->e[j].len);
		mycel_enc_cstr(out, "feed");
		mycel_enc_bin(out, f->feed, MYCEL_PK_LEN);
	}
	mycel_enc_cstr(out, "forks");
	mycel_enc_array(out, (uint32_t)b->n_forks);
	for (size_t i = 0; i < b->n_forks; i++)
		mycel_enc_bin(out, b->forks[i].p, b->forks[i].n);
	mycel_enc_cstr(out, "subject");
	mycel_enc_map(out, 3);
	mycel_enc_cstr(out, "domain");
	mycel_enc_cstr(out, b->domain);
	mycel_enc_cstr(out, "id");
	mycel_enc_cstr(out, b->id);
	mycel_enc_cstr(out, "kind");
	mycel_enc_cstr(out, b->kind);
	if (out->err == 0) {
		uint8_t dig[MYCEL_HASH_LEN];
		mycel__bundle_digest(out->data + content, out->len - content, dig);
		mycel_enc_bin(out, dig, sizeof(dig));
	}
	if (out->err == 0 && out->len - start > MYCEL_BUNDLE_MAX)
		out->err = MYCEL_ETOOBIG;
	if (out->err != 0) {
		int rv = out->err;
		out->len = start;
		return mycel__fail(rv, why, why_len, "the bundle does not encode: %s",
		                   mycel_strerror(rv));
	}
	return 0;
}

/* ---- from a store ---------------------------------------------------------------------------- */

typedef struct sctx {
	mycel_bundle_builder *b;
	mycel_store *s;
	const mycel_charter *ch; /* the charter in force: names of domains to feeds */
	uint8_t feeds[MYCEL_BUNDLE_FEEDS_MAX][MYCEL_PK_LEN]; /* to add, in order */
	size_t n_feeds;
	int rv;
	uint64_t seq; /* where it failed */
} sctx;

/* Queues the feed of the domain a transfer entry names, when s holds it (and room is left). */
static void note_peer(sctx *x, const uint8_t *body, size_t body_len)
{
	char name[MYCEL_NAME_MAX + 1];
	uint8_t id[MYCEL_HASH_LEN];
	uint64_t seq;
	if (mycel_bundle_transfer_peer(body, body_len, x->b->id, name) != 0)
		return;
	const mycel_charter_domain *d = mycel_charter_find_domain(x->ch, name);
	if (d == NULL)
		return; /* not admitted now: the verifier would refuse its feed */
	for (size_t i = 0; i < x->n_feeds; i++)
		if (memcmp(x->feeds[i], d->feed, MYCEL_PK_LEN) == 0)
			return;
	if (x->n_feeds >= MYCEL_BUNDLE_FEEDS_MAX || mycel_store_head(x->s, d->feed, &seq, id) != 0)
		return; /* not held here (or too many): the bundle goes without it */
	memcpy(x->feeds[x->n_feeds++], d->feed, MYCEL_PK_LEN);
}

static int scan_entry(void *ctx, const mycel_entry *e, const uint8_t *body, size_t body_len)
{
	sctx *x = ctx;
	x->seq = e->h.seq;
	int rv = mycel_bundle_builder_add_entry(x->b, e->raw, e->len, body, body_len);
	if (rv != 0)
		return x->rv = rv;
	if (strcmp(e->h.kind, "transfer") == 0)
		note_peer(x, body, body_len);
	return 0;
}

static int scan_fork(void *ctx, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
                     const uint8_t *proof, size_t proof_len)
{
	sctx *x = ctx;
	(void)feed;
	x->seq = seq;
	int rv = mycel_bundle_builder_add_fork(x->b, proof, proof_len);
	return rv != 0 ? (x->rv = rv) : 0;
}

static int add_store_feed(sctx *x, const uint8_t feed[MYCEL_PK_LEN], char *why, size_t why_len)
{
	char hex[2 * MYCEL_PK_LEN + 1];
	int rv = mycel_bundle_builder_add_feed(x->b, feed);
	mycel_hex(feed, MYCEL_PK_LEN, hex);
	if (rv != 0)
		return mycel__fail(rv, why, why_len, "feed %.16s…: %s", hex, mycel_strerror(rv));
	x->rv = 0;
	rv = mycel_store_scan(x->s, feed, 1, scan_entry, x);
	if (rv != 0)
		return mycel__fail(rv, why, why_len, "feed %.16s… seq %llu: %s", hex,
		                   (unsigned long long)x->seq, mycel_strerror(rv));
	x->rv = 0;
	rv = mycel_store_forks(x->s, feed, scan_fork, x);
	if (rv != 0)
		return mycel__fail(rv, why, why_len, "feed %.16s…: fork proof of seq %llu: %s", hex,
		                   (unsigned long long)x->seq, mycel_strerror(rv));
	return 0;
}

int mycel_bundle_build(mycel_store *s, const char *domain, const char *id, mycel_buf *out,
                       char *why, size_t why_len)
{
	sctx x;
	int rv;
	if (s == NULL || domain == NULL || id == NULL || out == NULL)
		return MYCEL_EINVAL;
	memset(&x, 0, sizeof(x));
	x.s = s;
	const mycel_charter *ch = mycel_store_charter(s);
	if (ch == NULL)
		return mycel__fail(MYCEL_ENOTFOUND, why, why_len, "the store holds no charter");
	const mycel_charter_domain *d = mycel_charter_find_domain(ch, domain);
	if (d == NULL)
		return mycel__fail(MYCEL_ENOTFOUND, why, why_len,
		                   "charter version %llu admits no domain named \"%s\"",
		                   (unsigned long long)mycel_charter_version(ch), domain);
	if ((rv = mycel_bundle_builder_new(domain, id, &x.b)) != 0)
		return mycel__fail(rv, why, why_len, "invalid document id \"%s\"", id);
	uint64_t last = mycel_charter_version(ch);
	for (uint64_t v = 1; v <= last; v++) {
		uint8_t *p = NULL;
		size_t n = 0;
		char w[256] = "";
		if ((rv = mycel_store_charter_file(s, v, &p, &n)) == 0)
			rv = mycel_bundle_builder_add_charter(x.b, p, n, w, sizeof(w));
		free(p);
		if (rv != 0) {
			mycel__fail(rv, why, why_len, "charter version %llu: %s",
			            (unsigned long long)v, w[0] ? w : mycel_strerror(rv));
			goto fail;
		}
	}
	/* the subject's feed, then the feeds its transfers name, breadth first */
	x.ch = ch;
	memcpy(x.feeds[x.n_feeds++], d->feed, MYCEL_PK_LEN);
	for (size_t i = 0; i < x.n_feeds; i++)
		if ((rv = add_store_feed(&x, x.feeds[i], why, why_len)) != 0)
			goto fail;
	rv = mycel_bundle_builder_finish(x.b, out, why, why_len);
fail:
	mycel_bundle_builder_free(x.b);
	return rv;
}
