/*
 * catalog_int.h — the catalog's private layout, shared by catalog.c (derivation:
 * apply, reindex, dump) and catalog_query.c (get, search, facets, lineage).
 *
 * Derived tables (named LMDB databases in the store's environment). A document
 * reference ("docref") is  domain ‖ 0 ‖ id ‖ 0 : prefix-free (ids hold no NUL),
 * so sorting docrefs bytewise sorts by domain, then id, and every posting list
 * below is kept in that order.
 *
 * | table        | flags    | key                                  | value / duplicates                          |
 * |--------------|----------|--------------------------------------|---------------------------------------------|
 * | cat_meta     |          | "format"                             | "1"                                         |
 * | cat_docs     |          | docref                               | [kind, status, version, name, snippet, denied] |
 * | cat_versions |          | docref ‖ version string              | status(1) feed(32) seq(8 BE) ts(8 BE) hash(32) denied(1) warned(1) |
 * | cat_fwd      |          | docref                               | [[facet key]..., [term, bits]..., [edge]...] |
 * | cat_terms    |          | term ‖ 0 [‖ docref]                  | posting list in blocks (catalog_postings.c) |
 * | cat_facets   |          | facet ‖ 0 ‖ value ‖ 0 [‖ docref]     | posting list in blocks (bits 0)             |
 * | cat_ids      |          | contract id ‖ 0 ‖ domain             | "" (contracts only: lineage resolution)     |
 * | cat_up       | DUPSORT  | node                                 | via ‖ node ‖ port name (what node is made from) |
 * | cat_down     | DUPSORT  | node                                 | via ‖ node ‖ port name (what is made from it)   |
 *
 * cat_docs/cat_fwd values are canonical MessagePack arrays. A lineage node is
 * 'p' ‖ docref for a product and 'c' ‖ contract id ‖ 0 for a contract reference
 * (contracts are referred to by id alone: which domain(s) hold it is resolved
 * at query time through cat_ids, so a reference resolves as soon as the contract
 * is published, whatever the order of arrival). via is 'i' (input port:
 * contract -> product) or 'o' (output port: product -> contract).
 *
 * cat_fwd is the forward image of what a document's current version put into
 * cat_terms, cat_facets, cat_up and cat_down, each list sorted bytewise: when
 * the current version (or its status) changes, the old and new images are
 * merged and only the differences are written. An edge in cat_fwd is
 * via ‖ contract id ‖ 0 ‖ port name.
 *
 * Nothing in a derived table depends on when or in which order across feeds
 * entries arrived: a document's rows depend only on its own feed's entries
 * (lifecycle entries act on their own domain only), so reindexing, replaying
 * feed after feed, rebuilds byte-identical tables.
 */
#ifndef MYCEL_CATALOG_INT_H
#define MYCEL_CATALOG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mycel/catalog.h"
#include "store_int.h"

#define MYCEL__CAT_FORMAT "3" /* of the derived tables; another value rebuilds them on open */
#define MYCEL__DOMAIN_MAX 64
#define MYCEL__DOCREF_MAX (MYCEL__DOMAIN_MAX + 1 + MYCEL_ID_MAX + 1)
#define MYCEL__NODE_MAX (1 + MYCEL__DOCREF_MAX)
#define MYCEL__TERM_MAX 64    /* bytes of one token */
#define MYCEL__EXACT_MAX 128  /* bytes of a normalised name or id (exact-match keys) */
#define MYCEL__LIST_MAX 160   /* a posting list's key: a term, an exact key, facet ‖ 0 ‖ value */
#define MYCEL__FACET_VALUE_MAX 127
#define MYCEL__PORT_MAX 127
#define MYCEL__VROW_LEN (1 + MYCEL_PK_LEN + 8 + 8 + MYCEL_HASH_LEN + 2)
#define MYCEL__EXACT_NAME 0x01 /* cat_terms key 0x01 ‖ normalised name: exact name matches */
#define MYCEL__EXACT_ID 0x02   /* cat_terms key 0x02 ‖ lowercased id: exact id matches */

/* Field bits of a posting (which fields of the document hold the term). */
enum {
	MYCEL__F_NAME = 0x01,
	MYCEL__F_ID = 0x02,
	MYCEL__F_TAG = 0x04,
	MYCEL__F_BIZ = 0x08,  /* businessName of a schema object or property */
	MYCEL__F_PROP = 0x10, /* name of a schema object or property */
	MYCEL__F_PORT = 0x20, /* name of an ODPS input or output port */
	MYCEL__F_DESC = 0x40,
	MYCEL__F_EXACT = 0x80, /* with NAME or ID: an exact-match key */
};

/* domain ‖ 0 ‖ id ‖ 0 into out; its length, or 0 if domain or id is empty, too long or holds a NUL. */
size_t mycel__docref(uint8_t out[MYCEL__DOCREF_MAX], const char *domain, size_t domain_len,
		     const char *id, size_t id_len);

/* Splits a docref into NUL-terminated domain and id; false if it is malformed. */
bool mycel__docref_split(const uint8_t *p, size_t n, char domain[MYCEL__DOMAIN_MAX + 1],
			 char id[MYCEL_ID_MAX + 1]);

/* Length of the docref at the start of p (through its second NUL), or 0. */
size_t mycel__docref_len(const uint8_t *p, size_t n);

/*
 * Tokeniser shared by indexing and queries: ASCII letters and digits are
 * lowercased and kept, bytes >= 0x80 (UTF-8 multibyte sequences) are kept as
 * they are, every other byte separates; tokens of one character are dropped
 * and tokens are cut to MYCEL__TERM_MAX bytes at a character boundary.
 * fn gets each token; a non-zero return stops and is returned.
 */
typedef int (*mycel__tok_fn)(void *ctx, const uint8_t *tok, size_t n);
int mycel__tokenize(const char *s, size_t n, mycel__tok_fn fn, void *ctx);

/*
 * The tokens of s, one-character ones included, joined by single spaces: at
 * most MYCEL__EXACT_MAX bytes (whole tokens); its length. Exact names compare so.
 */
size_t mycel__normalize(const char *s, size_t n, uint8_t out[MYCEL__EXACT_MAX]);

/* s without surrounding ASCII whitespace, ASCII lowercased: its length, 0 if empty or too long. Exact ids compare so. */
size_t mycel__exact_id(const char *s, size_t n, uint8_t out[MYCEL__EXACT_MAX]);

/* Facet values are matched case-insensitively: ASCII lowercased. false if empty, too long or holding NUL. */
bool mycel__facet_key(const char *facet, const char *value, size_t value_len, uint8_t *out,
		      size_t *out_len);

/* A cat_docs record, pointing into the value it was decoded from. */
typedef struct mycel__docrec {
	mycel_doc_kind kind;
	mycel_doc_status status;
	const char *version;
	size_t version_len;
	const char *name;
	size_t name_len;
	const char *snippet;
	size_t snippet_len;
	unsigned denied; /* deny policies the current version violates (capped at 255) */
} mycel__docrec;

int mycel__docrec_decode(const void *p, size_t n, mycel__docrec *out);

/* Decodes a cat_versions value (MYCEL__VROW_LEN bytes) into out (version left as is). */
int mycel__vrow_decode(const void *p, size_t n, mycel_doc_version *out);

/*
 * From a document body: its `name` and description text (description.purpose,
 * or description itself when it is a string), pointing into body; empty when
 * absent. EFORMAT if body is not a map.
 */
int mycel__body_texts(const uint8_t *body, size_t n, const char **name, size_t *name_len,
		      const char **desc, size_t *desc_len);

/* Read helpers: a read transaction, the docref of (domain, id) (0 if invalid), its cat_docs record. */
int mycel__cat_begin_read(mycel_store *s, MDB_txn **txn);
size_t mycel__cat_ref(uint8_t ref[MYCEL__DOCREF_MAX], const char *domain, const char *id);
int mycel__cat_docrec(mycel_store *s, MDB_txn *txn, const uint8_t *ref, size_t rn,
		      mycel__docrec *out);

/* n bytes into a NUL-terminated buffer of cap bytes, cut to fit. */
void mycel__copy_cstr(char *dst, size_t cap, const char *s, size_t n);

/* FNV-1a, 32 bits (hash tables and block boundaries; not for untrusted collisions). */
uint32_t mycel__fnv1a(const uint8_t *p, size_t n);

/* malloc'd NUL-terminated copy of n bytes (NULL on ENOMEM). */
char *mycel__strndup(const char *s, size_t n);

/* Bytewise comparison, a shorter prefix first: <0, 0, >0. */
int mycel__bytes_cmp(const void *a, size_t an, const void *b, size_t bn);

/* The same, inline, eight bytes at a time (docrefs are compared in every inner loop of a query). */
static inline uint64_t mycel__load_be64(const uint8_t *p)
{
	return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 |
	       (uint64_t)p[3] << 32 | (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
	       (uint64_t)p[6] << 8 | (uint64_t)p[7];
}

static inline int mycel__ref_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	size_t n = an < bn ? an : bn, i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t x = mycel__load_be64(a + i), y = mycel__load_be64(b + i);
		if (x != y)
			return x < y ? -1 : 1;
	}
	if (i < n && n >= 8) {
		/* the last eight bytes: those before i are equal */
		uint64_t x = mycel__load_be64(a + n - 8), y = mycel__load_be64(b + n - 8);
		if (x != y)
			return x < y ? -1 : 1;
		i = n;
	}
	for (; i < n; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return (an > bn) - (an < bn);
}

/*
 * The same for a and b whose first `from` bytes are known to be equal (0:
 * nothing known), and the length of their common prefix into *lcp. (From a
 * shared prefix the difference is usually within a few bytes: the tail is
 * compared byte by byte.)
 */
static inline int mycel__ref_cmp_lcp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
                                     size_t from, size_t *lcp)
{
	size_t n = an < bn ? an : bn, i = from;
	for (; i + 8 <= n; i += 8) {
		uint64_t x = mycel__load_be64(a + i), y = mycel__load_be64(b + i);
		if (x != y) {
			*lcp = i + (size_t)__builtin_clzll(x ^ y) / 8;
			return x < y ? -1 : 1;
		}
	}
	for (; i < n; i++)
		if (a[i] != b[i]) {
			*lcp = i;
			return a[i] < b[i] ? -1 : 1;
		}
	*lcp = n;
	return (an > bn) - (an < bn);
}

/* ---- catalog_index.c: what one document contributes ---- */

/* True if body is a canonical map. */
bool mycel__body_is_map(const uint8_t *body, size_t n);

/* The string member key of a map body, pointing into body; false if absent or not a string. */
bool mycel__body_str(const uint8_t *body, size_t n, const char *key, const char **s, size_t *len);

/*
 * Indexes the current version (body) of document (domain, id): appends its
 * forward image to fwd and its cat_docs record to rec. Terms: name, id,
 * tags, schema object and property names and business names (nested
 * properties and items, 8 levels), port names, description texts; at most
 * 4096 distinct terms, fields taken in that order. Facets: domain, kind,
 * status, tag, classification, server, and policy=noncompliant when denied > 0
 * (the deny policies the version violates). Edges: input and output ports with a
 * contractId. ENOMEM, ETOOBIG.
 */
int mycel__index_document(const uint8_t *body, size_t n, mycel_doc_kind kind, const char *domain,
			  const char *id, size_t id_len, mycel_doc_status status, const char *version,
			  unsigned denied, mycel_buf *fwd, mycel_buf *rec);

/* A reader over one list of a forward image. */
enum { MYCEL__FWD_FACETS = 0, MYCEL__FWD_TERMS = 1, MYCEL__FWD_EDGES = 2 };
typedef struct mycel__flist {
	mycel_rd r;
	uint32_t left;
	bool pairs;
} mycel__flist;

/* ---- catalog_postings.c: posting lists in blocks, write plans ---- */

/* Changes collected in phase 1 of an apply and executed, without allocating, in phase 2. */
typedef struct mycel__plan {
	mycel_buf b;
	size_t n;
} mycel__plan;

void mycel__plan_init(mycel__plan *pl);
void mycel__plan_fini(mycel__plan *pl);

/* A put ('P') or a delete ('D': of duplicate v of a DUPSORT table if vn > 0, else of the key). */
void mycel__plan_add(mycel__plan *pl, char op, MDB_dbi dbi, const void *k, size_t kn, const void *v,
		     size_t vn);

/* Executes the plan in order; pl->b.err if building it failed (then nothing is written). */
int mycel__plan_exec(MDB_txn *txn, const mycel__plan *pl);

/*
 * Posting changes are not written when a document is applied: each is
 * appended to the store's pending buffer (s->cat.pend) and mycel__pend_flush
 * merges them into their lists, each list once and each run of blocks once,
 * just before the transaction commits (mycel__catalog_flush). Nothing applied
 * reads postings, so the buffered state is never needed before then.
 */

/* Records that (ref, bits) joins list (term, or facet ‖ 0 ‖ value) of table dbi, or leaves it if del (pend->err on failure). */
void mycel__pend_add(mycel_buf *pend, MDB_dbi dbi, const uint8_t *list, size_t ln,
		     const uint8_t *ref, size_t rn, uint8_t bits, bool del);

/*
 * Merges the pending changes into the posting lists (for each docref of a
 * list, the last change wins), rewriting the runs of blocks they touch and
 * each list's count: the bytes are those that applying them one by one gives.
 * Writes as it goes: on failure the transaction must be aborted. ENOMEM, or
 * an LMDB error; pend->err if building the buffer failed.
 */
int mycel__pend_flush(MDB_txn *txn, const mycel_buf *pend);

/* A decoder over one block. */
typedef struct mycel__bdec {
	const uint8_t *p, *end;
	uint8_t ref[MYCEL__DOCREF_MAX]; /* the current docref */
	size_t rn;
	uint8_t bits;
} mycel__bdec;

void mycel__bdec_init(mycel__bdec *d, const void *p, size_t n);
/* The general case of mycel__bdec_next: any varint, near the block's end, a damaged block. */
bool mycel__bdec_next_slow(mycel__bdec *d);

/*
 * The usual posting (one-byte varints, a suffix of at most 16 bytes) decoded
 * inline into d->ref/d->rn/d->bits, its shared prefix length to *pl; false
 * (nothing done) for any other, or at the block's end. The suffix is copied
 * as 16 fixed bytes when the block holds them (the bytes after rn are not
 * part of ref).
 */
static inline bool mycel__bdec_fast(mycel__bdec *d, size_t *pl)
{
	_Static_assert(MYCEL__DOCREF_MAX >= 0x80 + 16, "a one-byte prefix and 16 bytes fit in ref");
	const uint8_t *p = d->p;
	ptrdiff_t left = d->end - p;
	if (left < 3 || p[0] >= 0x80 || p[0] > d->rn || p[1] > 16 || left < 3 + p[1])
		return false;
	size_t l = p[0], sl = p[1];
	if (left >= 18)
		memcpy(d->ref + l, p + 2, 16);
	else
		memcpy(d->ref + l, p + 2, sl);
	d->rn = l + sl;
	d->bits = p[2 + sl];
	d->p = p + 3 + sl;
	*pl = l;
	return true;
}

/* Decodes the next posting into d->ref/d->rn/d->bits; false at the block's end (or damage). */
static inline bool mycel__bdec_next(mycel__bdec *d)
{
	size_t pl;
	return mycel__bdec_fast(d, &pl) || mycel__bdec_next_slow(d);
}

/*
 * A cursor over one posting list, in docref order; its current posting is
 * d.ref/d.rn/d.bits. The LMDB cursor is one block ahead of the decoder: the
 * next block of the list (nk/nv, valid while the read transaction is) is
 * fetched when a block is entered, so that a seek can pass whole blocks by
 * their first docref without decoding them.
 */
typedef struct mycel__pcur {
	MDB_cursor *c;
	uint8_t key[MYCEL__LIST_MAX + 1]; /* list ‖ 0 */
	size_t kn;
	mycel__bdec d;
	bool end;
	bool has_next; /* nk/nv: the list's next block */
	MDB_val nk, nv;
	size_t *budget; /* postings the query may still decode, or NULL: ETOOBIG when spent */
	size_t ndec;    /* postings decoded, not yet charged to *budget (charged block by block) */
} mycel__pcur;

/* Opens a cursor on list; *count its postings (0: the list is empty, the cursor at its end). */
int mycel__pcur_open(MDB_txn *txn, MDB_dbi dbi, const uint8_t *list, size_t ln, size_t *budget,
		     mycel__pcur *pc, size_t *count);
void mycel__pcur_close(mycel__pcur *pc);
int mycel__pcur_first(mycel__pcur *pc);
/* mycel__pcur_next past the end of a block. */
int mycel__pcur_next_block(mycel__pcur *pc);

/* Moves to the next posting (pc->end after the last); ETOOBIG when the budget is spent. */
static inline int mycel__pcur_next(mycel__pcur *pc)
{
	if (pc->end)
		return 0;
	if (!mycel__bdec_next(&pc->d))
		return mycel__pcur_next_block(pc);
	pc->ndec++;
	return 0;
}

/* mycel__pcur_seek_from past its first postings. */
int mycel__pcur_seek_far(mycel__pcur *pc, const uint8_t *ref, size_t rn, size_t m, int *out_cmp,
                         size_t *out_lcp);

/*
 * Moves to the first posting whose docref is >= ref (never backwards) when
 * the current docref is < ref and m is the length of their common prefix;
 * *out_cmp how it compares with ref (0: equal, > 0: after it; 1 at the end),
 * *out_lcp the length of their common prefix. ETOOBIG when the budget is
 * spent.
 *
 * Inline for the usual seek of a leapfrog, a few postings on in the same
 * block. Each posting shares pl bytes with the one before it (the longest
 * common prefix: the encoder takes it so) and comes after it. With m the
 * length of the common prefix of the previous docref (< ref) and ref, a
 * posting with pl > m is still < ref (it holds the previous docref's byte m,
 * below ref's) and one with pl < m is > ref (its byte pl is above the
 * previous one's, which is ref's): only pl == m needs a comparison, from
 * byte m on. So a posting passed costs its decoding, not a comparison.
 */
static inline __attribute__((always_inline)) int
mycel__pcur_seek_from(mycel__pcur *pc, const uint8_t *ref, size_t rn, size_t m, int *out_cmp,
                      size_t *out_lcp)
{
	mycel__bdec *d = &pc->d;
	size_t lcp;
	int c;
	for (int i = 0; i < 4; i++) {
		size_t pl;
		if (!mycel__bdec_fast(d, &pl))
			break;
		pc->ndec++;
		if (pl > m)
			continue;
		if (pl < m) {
			*out_cmp = 1;
			*out_lcp = pl;
			return 0;
		}
		if ((c = mycel__ref_cmp_lcp(d->ref, d->rn, ref, rn, m, &lcp)) >= 0) {
			*out_cmp = c;
			*out_lcp = lcp;
			return 0;
		}
		m = lcp;
	}
	return mycel__pcur_seek_far(pc, ref, rn, m, out_cmp, out_lcp);
}

/* The same from any current docref (at or after ref: no move); *out_lcp 0 at the end. */
static inline __attribute__((always_inline)) int
mycel__pcur_seek(mycel__pcur *pc, const uint8_t *ref, size_t rn, int *out_cmp, size_t *out_lcp)
{
	size_t m;
	int c;
	*out_lcp = 0;
	if (pc->end) {
		*out_cmp = 1;
		return 0;
	}
	if ((c = mycel__ref_cmp_lcp(pc->d.ref, pc->d.rn, ref, rn, 0, &m)) >= 0) {
		*out_cmp = c;
		*out_lcp = m;
		return 0;
	}
	return mycel__pcur_seek_from(pc, ref, rn, m, out_cmp, out_lcp);
}

/* Positions the three lists of a forward image (all empty for n == 0 or a damaged image). */
void mycel__fwd_open(const uint8_t *p, size_t n, mycel__flist out[3]);

/* Positions one list (MYCEL__FWD_...), reading past only the lists before it. */
void mycel__fwd_list(const uint8_t *p, size_t n, int which, mycel__flist *out);

/* The next item of a list (bits: 0 for facets and edges); false at the end. */
bool mycel__fwd_next(mycel__flist *l, const uint8_t **p, size_t *n, uint8_t *bits);

/*
 * Applies a `transfer` entry (PROTOCOL.md §5.5) to cat_xfer inside txn (src/transfer.c):
 * rows derived from this entry alone; an unusable body changes nothing. 0 or an LMDB error.
 */
int mycel__transfer_apply(mycel_store *s, MDB_txn *txn, const mycel_entry *e, const uint8_t *body,
			  size_t body_len, const char *domain);

/*
 * Strictly reads a `transfer` body (PROTOCOL.md §5.5): 0 for a well-formed offer or
 * acceptance (*out_accept says which; may be NULL), EFORMAT for anything else.
 */
int mycel__transfer_body_check(const uint8_t *p, size_t n, bool *out_accept);

/* A `transfer` body as mycel__transfer_body_read reads it; pointers into the body. */
typedef struct mycel__xfer {
	bool accept;
	const char *id, *peer; /* peer: `to` of an offer, `from` of an acceptance */
	size_t id_len, peer_len;
	const uint8_t *offer; /* acceptance: the offer's entry id (32 bytes) */
	uint64_t seq;         /* acceptance: the offer's seq */
} mycel__xfer;

/*
 * Strictly reads a `transfer` body (PROTOCOL.md §5.5), the reading the catalog and the
 * audit bundle share: 0 and *out for a well-formed offer or acceptance (its pointers point
 * into p), EFORMAT for anything else (*out untouched).
 */
int mycel__transfer_body_read(const uint8_t *p, size_t n, mycel__xfer *out);

#endif
