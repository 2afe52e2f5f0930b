/* entry.c — signed entries, chain rules and fork proofs. */
#include <string.h>

#include <sodium.h>

#include "mycel/codec.h"
#include "mycel/entry.h"
#include "util.h"

static const char SIG_CTX[] = "mycel/entry/v1"; /* the NUL is part of the context */
static const char ID_CTX[] = "mycel/id/v1";

bool mycel_kind_valid(const char *kind)
{
	size_t n = strnlen(kind, MYCEL_KIND_MAX + 1);
	if (n == 0 || n > MYCEL_KIND_MAX || kind[0] < 'a' || kind[0] > 'z')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = kind[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

void mycel_body_hash(const uint8_t *body, size_t n, uint8_t out[MYCEL_HASH_LEN])
{
	crypto_generichash(out, MYCEL_HASH_LEN, body, n, NULL, 0);
}

static void header_id(const uint8_t *hdr, size_t n, uint8_t out[MYCEL_HASH_LEN])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, MYCEL_HASH_LEN);
	crypto_generichash_update(&st, (const uint8_t *)ID_CTX, sizeof(ID_CTX));
	crypto_generichash_update(&st, hdr, n);
	crypto_generichash_final(&st, out, MYCEL_HASH_LEN);
}

static bool header_wellformed(const mycel_header *h)
{
	if (h->seq == 0 || h->has_prev != (h->seq > 1))
		return false;
	return mycel_kind_valid(h->kind);
}

int mycel_entry_sign(const mycel_header *h, const mycel_key *key, mycel_entry *out)
{
	uint8_t hdr[MYCEL_HEADER_MAX];
	uint8_t msg[sizeof(SIG_CTX) + MYCEL_HEADER_MAX];
	mycel_buf b;

	if (!header_wellformed(h))
		return MYCEL_EINVAL;
	if (mycel__sodium_init() != 0)
		return MYCEL_ENOMEM;

	/* The header, then the entry around it, in a stack buffer: no allocation. */
	mycel_buf_init_fixed(&b, hdr, sizeof(hdr));
	mycel_enc_array(&b, 7);
	mycel_enc_uint(&b, 1);
	mycel_enc_bin(&b, h->feed, MYCEL_PK_LEN);
	mycel_enc_uint(&b, h->seq);
	if (h->has_prev)
		mycel_enc_bin(&b, h->prev, MYCEL_HASH_LEN);
	else
		mycel_enc_nil(&b);
	mycel_enc_uint(&b, h->ts_ms);
	mycel_enc_cstr(&b, h->kind);
	mycel_enc_bin(&b, h->body_hash, MYCEL_HASH_LEN);
	if (b.err != 0)
		return b.err;
	size_t hlen = b.len;

	memcpy(msg, SIG_CTX, sizeof(SIG_CTX));
	memcpy(msg + sizeof(SIG_CTX), hdr, hlen);
	crypto_sign_detached(out->sig, NULL, msg, sizeof(SIG_CTX) + hlen, key->sk);

	mycel_buf e;
	mycel_buf_init_fixed(&e, out->raw, sizeof(out->raw));
	mycel_enc_array(&e, 2);
	mycel_enc_bin(&e, hdr, hlen);
	mycel_enc_bin(&e, out->sig, MYCEL_SIG_LEN);
	if (e.err != 0)
		return e.err;
	out->len = e.len;
	out->header_len = hlen;
	out->header_off = 1 + 2; /* fixarray, then bin8 header of the header */
	out->h = *h;
	header_id(hdr, hlen, out->id);
	return 0;
}

static int decode_header(const uint8_t *p, size_t n, mycel_header *h)
{
	mycel_rd r;
	uint32_t cnt;
	uint64_t ver;
	const uint8_t *bin;
	const char *kind;
	size_t klen;
	mycel_type t;
	int rv;

	mycel_rd_init(&r, p, n);
	if ((rv = mycel_rd_array(&r, &cnt)) != 0)
		return rv == MYCEL_ETYPE ? MYCEL_EFORMAT : rv;
	if (cnt != 7)
		return MYCEL_EFORMAT;
	if ((rv = mycel_rd_uint(&r, &ver)) != 0)
		return rv == MYCEL_ETYPE ? MYCEL_EFORMAT : rv;
	if (ver != 1)
		return MYCEL_EVERSION;
	if ((rv = mycel_rd_bin_n(&r, &bin, MYCEL_PK_LEN)) != 0)
		return rv == MYCEL_ETYPE ? MYCEL_EFORMAT : rv;
	memcpy(h->feed, bin, MYCEL_PK_LEN);
	if ((rv = mycel_rd_uint(&r, &h->seq)) != 0)
		return rv == MYCEL_ETYPE ? MYCEL_EFORMAT : rv;
	if ((rv = mycel_rd_peek(&r, &t)) != 0)
		return rv;
	if (t == MYCEL_T_NIL) {
		(void)mycel_rd_nil(&r);
		h->has_prev = false;
		memset(h->prev, 0, sizeof(h->prev));
	} else {
		if ((rv = mycel_rd_bin_n(&r, &bin, MYCEL_HASH_LEN)) != 0)
			return rv == MYCEL_ETYPE ? MYCEL_EFORMAT : rv;
		h->has_prev = true;
		memcpy(h->prev, bin, MYCEL_HASH_LEN);
	}
	if ((rv = mycel_rd_uint(&r, &h->ts_ms)) != 0)
		return rv == MYCEL_ETYPE ? MYCEL_EFORMAT : rv;
	if ((rv = mycel_rd_str(&r, &kind, &klen)) != 0)
		return rv == MYCEL_ETYPE ? MYCEL_EFORMAT : rv;
	/* A NUL inside the kind would hide the bytes after it from every check. */
	if (klen == 0 || klen > MYCEL_KIND_MAX || memchr(kind, '\0', klen) != NULL)
		return MYCEL_EFORMAT;
	memcpy(h->kind, kind, klen);
	h->kind[klen] = '\0';
	if ((rv = mycel_rd_bin_n(&r, &bin, MYCEL_HASH_LEN)) != 0)
		return rv == MYCEL_ETYPE ? MYCEL_EFORMAT : rv;
	memcpy(h->body_hash, bin, MYCEL_HASH_LEN);
	if ((rv = mycel_rd_end(&r)) != 0)
		return rv;
	if (!header_wellformed(h))
		return MYCEL_EFORMAT;
	return 0;
}

int mycel_entry_decode(const uint8_t *p, size_t n, mycel_entry *out)
{
	mycel_rd r;
	uint32_t cnt;
	const uint8_t *hdr, *sig;
	size_t hlen;
	mycel_header h;
	int rv;

	if (n > MYCEL_ENTRY_MAX)
		return MYCEL_ETOOBIG;
	mycel_rd_init(&r, p, n);
	if ((rv = mycel_rd_array(&r, &cnt)) != 0)
		return rv == MYCEL_ETYPE ? MYCEL_EFORMAT : rv;
	if (cnt != 2)
		return MYCEL_EFORMAT;
	if ((rv = mycel_rd_bin(&r, &hdr, &hlen)) != 0)
		return rv == MYCEL_ETYPE ? MYCEL_EFORMAT : rv;
	if (hlen > MYCEL_HEADER_MAX)
		return MYCEL_EFORMAT;
	size_t hoff = (size_t)(hdr - p);
	if ((rv = mycel_rd_bin_n(&r, &sig, MYCEL_SIG_LEN)) != 0)
		return rv == MYCEL_ETYPE ? MYCEL_EFORMAT : rv;
	if ((rv = mycel_rd_end(&r)) != 0)
		return rv;
	if ((rv = decode_header(hdr, hlen, &h)) != 0)
		return rv;
	if (mycel__sodium_init() != 0)
		return MYCEL_ENOMEM;
	out->h = h;
	memcpy(out->sig, sig, MYCEL_SIG_LEN);
	memcpy(out->raw, p, n);
	out->len = n;
	out->header_off = hoff;
	out->header_len = hlen;
	header_id(hdr, hlen, out->id);
	return 0;
}

int mycel_entry_verify(const mycel_entry *e, const uint8_t pk[MYCEL_PK_LEN])
{
	uint8_t msg[sizeof(SIG_CTX) + MYCEL_HEADER_MAX];
	/* The fields are public: never read outside raw, whoever filled them. */
	if (e->header_len > MYCEL_HEADER_MAX || e->len > MYCEL_ENTRY_MAX ||
	    e->header_len > e->len || e->header_off > e->len - e->header_len)
		return MYCEL_EBADSIG;
	memcpy(msg, SIG_CTX, sizeof(SIG_CTX));
	memcpy(msg + sizeof(SIG_CTX), e->raw + e->header_off, e->header_len);
	if (crypto_sign_verify_detached(e->sig, msg, sizeof(SIG_CTX) + e->header_len, pk) != 0)
		return MYCEL_EBADSIG;
	return 0;
}

int mycel_entry_follows(const mycel_entry *prev, const mycel_entry *e)
{
	if (prev == NULL)
		return e->h.seq == 1 && !e->h.has_prev ? 0 : MYCEL_ECHAIN;
	if (memcmp(prev->h.feed, e->h.feed, MYCEL_PK_LEN) != 0 || e->h.seq != prev->h.seq + 1 ||
	    !e->h.has_prev || memcmp(e->h.prev, prev->id, MYCEL_HASH_LEN) != 0)
		return MYCEL_ECHAIN;
	if (e->h.ts_ms < prev->h.ts_ms)
		return MYCEL_ETS;
	return 0;
}

int mycel_entry_check_body(const mycel_entry *e, const uint8_t *body, size_t n)
{
	uint8_t h[MYCEL_HASH_LEN];
	mycel_body_hash(body, n, h);
	return sodium_memcmp(h, e->h.body_hash, MYCEL_HASH_LEN) == 0 ? 0 : MYCEL_EHASH;
}

int mycel_fork_encode(const mycel_entry *a, const mycel_entry *b, uint8_t *out, size_t *out_len)
{
	if (memcmp(a->h.feed, b->h.feed, MYCEL_PK_LEN) != 0 || a->h.seq != b->h.seq)
		return MYCEL_EINVAL;
	int c = memcmp(a->id, b->id, MYCEL_HASH_LEN);
	if (c == 0)
		return MYCEL_EINVAL;
	if (c > 0) {
		const mycel_entry *t = a;
		a = b;
		b = t;
	}
	mycel_buf buf;
	mycel_buf_init_fixed(&buf, out, MYCEL_FORK_MAX);
	mycel_enc_array(&buf, 3);
	mycel_enc_uint(&buf, 1);
	mycel_enc_bin(&buf, a->raw, a->len);
	mycel_enc_bin(&buf, b->raw, b->len);
	if (buf.err != 0)
		return buf.err;
	*out_len = buf.len;
	return 0;
}

int mycel_fork_verify(const uint8_t *p, size_t n, const uint8_t pk[MYCEL_PK_LEN],
		      mycel_entry *out_a, mycel_entry *out_b)
{
	mycel_rd r;
	uint32_t cnt;
	uint64_t ver;
	const uint8_t *ra, *rb;
	size_t la, lb;
	mycel_entry a, b;
	int rv;

	if (n > MYCEL_FORK_MAX)
		return MYCEL_ETOOBIG;
	mycel_rd_init(&r, p, n);
	if ((rv = mycel_rd_array(&r, &cnt)) != 0)
		return rv == MYCEL_ETYPE ? MYCEL_EFORMAT : rv;
	if (cnt != 3)
		return MYCEL_EFORMAT;
	if ((rv = mycel_rd_uint(&r, &ver)) != 0)
		return rv == MYCEL_ETYPE ? MYCEL_EFORMAT : rv;
	if (ver != 1)
		return MYCEL_EVERSION;
	if ((rv = mycel_rd_bin(&r, &ra, &la)) != 0 || (rv = mycel_rd_bin(&r, &rb, &lb)) != 0)
		return rv == MYCEL_ETYPE ? MYCEL_EFORMAT : rv;
	if ((rv = mycel_rd_end(&r)) != 0)
		return rv;
	if ((rv = mycel_entry_decode(ra, la, &a)) != 0 || (rv = mycel_entry_decode(rb, lb, &b)) != 0)
		return rv;
	if (memcmp(a.h.feed, b.h.feed, MYCEL_PK_LEN) != 0 || a.h.seq != b.h.seq ||
	    memcmp(a.id, b.id, MYCEL_HASH_LEN) >= 0)
		return MYCEL_EFORMAT;
	if ((rv = mycel_entry_verify(&a, pk)) != 0 || (rv = mycel_entry_verify(&b, pk)) != 0)
		return rv;
	if (out_a != NULL)
		*out_a = a;
	if (out_b != NULL)
		*out_b = b;
	return 0;
}
