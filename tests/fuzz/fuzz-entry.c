/*
 * fuzz-entry.c — the strict entry decoder and fork-proof checker on untrusted
 * bytes. Whatever decodes must be exactly the canonical form of what was
 * decoded: the header re-encoded from the decoded fields, wrapped again with the
 * signature, gives back the input byte for byte, and the id is the hash of the
 * header. Every input is also tried as a fork proof under a fixed key (the key
 * of seed 000102..1f, which signs the fork proofs of the seed corpus); a proof
 * that verifies must re-encode to itself through mycel_fork_encode.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The public key of seed 000102..1f (proto/vectors/entry.txt, "genesis"). */
static const uint8_t FORK_PK[32] = {
    0x03, 0xa1, 0x07, 0xbf, 0xf3, 0xce, 0x10, 0xbe, 0x1d, 0x70, 0xdd, 0x18, 0xe7, 0x4b, 0xc0, 0x99,
    0x67, 0xe4, 0xd6, 0x30, 0x9b, 0xa5, 0x0d, 0x5f, 0x1d, 0xdc, 0x86, 0x64, 0x12, 0x55, 0x31, 0xb8};

static void die(const char *what, int rv)
{
	fprintf(stderr, "fuzz-entry: %s (%s)\n", what, mycel_errname(rv));
	abort();
}

static void check_code(const char *what, int rv)
{
	if (rv > 0 || strcmp(mycel_errname(rv), "E?") == 0)
		die(what, rv);
}

static void check_entry(const mycel_entry *e, const uint8_t *data, size_t size)
{
	uint8_t hdr[MYCEL_HEADER_MAX], raw[MYCEL_ENTRY_MAX], id[MYCEL_HASH_LEN];
	mycel_buf b;
	mycel_entry again;
	int rv;

	if (e->len != size || memcmp(e->raw, data, size) != 0)
		die("raw bytes differ from the input", 0);
	if (e->header_len > MYCEL_HEADER_MAX || e->header_off + e->header_len > e->len)
		die("header outside the entry", 0);
	if (e->h.seq == 0 || e->h.has_prev != (e->h.seq > 1) || !mycel_kind_valid(e->h.kind))
		die("decoded header is not well formed", 0);

	/* The header, re-encoded from the decoded fields, is the signed header. */
	mycel_buf_init(&b, sizeof(hdr));
	b.data = hdr;
	b.cap = sizeof(hdr);
	mycel_enc_array(&b, 7);
	mycel_enc_uint(&b, 1);
	mycel_enc_bin(&b, e->h.feed, MYCEL_PK_LEN);
	mycel_enc_uint(&b, e->h.seq);
	if (e->h.has_prev)
		mycel_enc_bin(&b, e->h.prev, MYCEL_HASH_LEN);
	else
		mycel_enc_nil(&b);
	mycel_enc_uint(&b, e->h.ts_ms);
	mycel_enc_cstr(&b, e->h.kind);
	mycel_enc_bin(&b, e->h.body_hash, MYCEL_HASH_LEN);
	if (b.err != 0)
		die("header does not re-encode", b.err);
	if (b.len != e->header_len || memcmp(hdr, e->raw + e->header_off, b.len) != 0)
		die("re-encoded header differs", 0);

	/* And the entry around it. */
	size_t hlen = b.len;
	mycel_buf_init(&b, sizeof(raw));
	b.data = raw;
	b.cap = sizeof(raw);
	mycel_enc_array(&b, 2);
	mycel_enc_bin(&b, hdr, hlen);
	mycel_enc_bin(&b, e->sig, MYCEL_SIG_LEN);
	if (b.err != 0 || b.len != size || memcmp(raw, data, size) != 0)
		die("re-encoded entry differs", b.err);

	/* id = BLAKE2b-256("mycel/id/v1\0" || header). */
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, sizeof(id));
	crypto_generichash_update(&st, (const uint8_t *)"mycel/id/v1", 12);
	crypto_generichash_update(&st, hdr, hlen);
	crypto_generichash_final(&st, id, sizeof(id));
	if (memcmp(id, e->id, sizeof(id)) != 0)
		die("id is not the hash of the header", 0);

	/* Decoding is a function of the bytes. */
	if ((rv = mycel_entry_decode(e->raw, e->len, &again)) != 0)
		die("raw bytes do not decode again", rv);
	if (memcmp(again.id, e->id, sizeof(id)) != 0 || memcmp(again.sig, e->sig, 64) != 0 ||
	    again.h.seq != e->h.seq || again.h.ts_ms != e->h.ts_ms ||
	    strcmp(again.h.kind, e->h.kind) != 0)
		die("second decode differs", 0);

	/* The rest of the API on a decoded entry. */
	rv = mycel_entry_verify(e, e->h.feed);
	if (rv != 0 && rv != MYCEL_EBADSIG)
		die("verify", rv);
	rv = mycel_entry_follows(NULL, e);
	if (rv != (e->h.seq == 1 ? 0 : MYCEL_ECHAIN))
		die("genesis rule", rv);
	rv = mycel_entry_follows(e, e);
	if (rv != MYCEL_ECHAIN)
		die("an entry follows itself", rv);
	rv = mycel_entry_check_body(e, data, size);
	if (rv != 0 && rv != MYCEL_EHASH)
		die("check_body", rv);
}

static void check_fork(const uint8_t *data, size_t size)
{
	mycel_entry a, b;
	uint8_t out[MYCEL_FORK_MAX];
	size_t n;
	int rv = mycel_fork_verify(data, size, FORK_PK, &a, &b);
	check_code("fork_verify", rv);
	if (rv != 0)
		return;
	if (memcmp(a.h.feed, b.h.feed, MYCEL_PK_LEN) != 0 || a.h.seq != b.h.seq ||
	    memcmp(a.id, b.id, MYCEL_HASH_LEN) >= 0)
		die("accepted proof does not prove a fork", 0);
	if (mycel_entry_verify(&a, FORK_PK) != 0 || mycel_entry_verify(&b, FORK_PK) != 0)
		die("accepted proof holds a bad signature", 0);
	if ((rv = mycel_fork_encode(&b, &a, out, &n)) != 0)
		die("accepted proof does not re-encode", rv);
	if (n != size || memcmp(out, data, size) != 0)
		die("re-encoded proof differs", 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mycel_entry e;
	int rv = mycel_entry_decode(data, size, &e);
	check_code("entry_decode", rv);
	if (rv == 0)
		check_entry(&e, data, size);
	check_fork(data, size);
	return 0;
}
