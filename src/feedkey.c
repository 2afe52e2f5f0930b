/* feedkey.c — key rotation: key entry bodies and the signing-key step function (feedkey.h). */
#include "feedkey.h"

#include <string.h>

#include <sodium.h>

#include "mycel/error.h"
#include "util.h"

static const char KEY_CTX[] = "mycel/key/v1"; /* the NUL is part of the context */

#define KEY_MSG_LEN (sizeof(KEY_CTX) + MYCEL_PK_LEN + 8 + MYCEL_PK_LEN)

static void key_msg(const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
		    const uint8_t next[MYCEL_PK_LEN], uint8_t out[KEY_MSG_LEN])
{
	memcpy(out, KEY_CTX, sizeof(KEY_CTX));
	memcpy(out + sizeof(KEY_CTX), feed, MYCEL_PK_LEN);
	mycel__be64(out + sizeof(KEY_CTX) + MYCEL_PK_LEN, seq);
	memcpy(out + sizeof(KEY_CTX) + MYCEL_PK_LEN + 8, next, MYCEL_PK_LEN);
}

int mycel__feedkey_body(const uint8_t feed[MYCEL_PK_LEN], uint64_t seq, const mycel_key *next,
			uint8_t out[MYCEL__KEY_BODY_LEN])
{
	uint8_t msg[KEY_MSG_LEN], sig[MYCEL_SIG_LEN];
	mycel_buf b;
	if (mycel__sodium_init() != 0)
		return MYCEL_ENOMEM;
	key_msg(feed, seq, next->pk, msg);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), next->sk);
	mycel_buf_init_fixed(&b, out, MYCEL__KEY_BODY_LEN);
	mycel_enc_map(&b, 2); /* keys in bytewise order */
	mycel_enc_cstr(&b, "next");
	mycel_enc_bin(&b, next->pk, MYCEL_PK_LEN);
	mycel_enc_cstr(&b, "sig");
	mycel_enc_bin(&b, sig, MYCEL_SIG_LEN);
	sodium_memzero(msg, sizeof(msg));
	return b.len == MYCEL__KEY_BODY_LEN && b.err == 0 ? 0 : MYCEL_EINVAL;
}

int mycel__feedkey_body_check(const uint8_t feed[MYCEL_PK_LEN], uint64_t seq, const uint8_t *body,
			      size_t n, uint8_t out_next[MYCEL_PK_LEN])
{
	static const uint8_t head[] = {0x82, 0xa4, 'n', 'e', 'x', 't', 0xc4, MYCEL_PK_LEN};
	static const uint8_t mid[] = {0xa3, 's', 'i', 'g', 0xc4, MYCEL_SIG_LEN};
	uint8_t msg[KEY_MSG_LEN];
	/* the one canonical encoding of {next: bin 32, sig: bin 64}, byte for byte */
	if (body == NULL || n != MYCEL__KEY_BODY_LEN || memcmp(body, head, sizeof(head)) != 0 ||
	    memcmp(body + sizeof(head) + MYCEL_PK_LEN, mid, sizeof(mid)) != 0)
		return MYCEL_EFORMAT;
	const uint8_t *next = body + sizeof(head);
	const uint8_t *sig = next + MYCEL_PK_LEN + sizeof(mid);
	if (mycel__sodium_init() != 0)
		return MYCEL_ENOMEM;
	key_msg(feed, seq, next, msg);
	if (crypto_sign_verify_detached(sig, msg, sizeof(msg), next) != 0)
		return MYCEL_EBADSIG;
	if (out_next != NULL)
		memcpy(out_next, next, MYCEL_PK_LEN);
	return 0;
}

bool mycel__feedkey_is_key(const mycel_entry *e)
{
	return strcmp(e->h.kind, MYCEL__KEY_KIND) == 0;
}

void mycel__feedkey_init(mycel__feedkey *fk, const uint8_t feed[MYCEL_PK_LEN])
{
	memset(fk, 0, sizeof(*fk));
	memcpy(fk->feed, feed, MYCEL_PK_LEN);
	memcpy(fk->key, feed, MYCEL_PK_LEN);
}

int mycel__feedkey_step(mycel__feedkey *fk, const mycel_entry *e, const uint8_t *body, size_t n,
			bool check_sig)
{
	uint8_t next[MYCEL_PK_LEN];
	int rv;
	if (memcmp(e->h.feed, fk->feed, MYCEL_PK_LEN) != 0 || e->h.seq != fk->seq + 1)
		return MYCEL_ECHAIN;
	if (check_sig && (rv = mycel_entry_verify(e, fk->key)) != 0)
		return rv;
	if (mycel__feedkey_is_key(e)) {
		if ((rv = mycel__feedkey_body_check(fk->feed, e->h.seq, body, n, next)) != 0)
			return rv;
		memcpy(fk->key, next, MYCEL_PK_LEN);
		fk->since = e->h.seq;
		fk->rotations++;
	}
	fk->seq = e->h.seq;
	return 0;
}
