/* feedkey.c — key rotation: key entry bodies and the signing-key step function (feedkey.h). */
#include "feedkey.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "mycel/error.h"
#include "mycel/store.h"
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

void mycel_feedkey_init(mycel_feedkey *fk, const uint8_t feed[MYCEL_PK_LEN])
{
	mycel__feedkey_init(fk, feed);
}

int mycel_feedkey_step(mycel_feedkey *fk, const mycel_entry *e, const uint8_t *body, size_t n,
                       bool check_sig)
{
	return mycel__feedkey_step(fk, e, body, n, check_sig);
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

/* ---- the key file across a rotation ---------------------------------------------------- */

#define PATH_MAX_LEN 4096

static int next_path(const char *key_path, char *out, size_t n)
{
	int k = snprintf(out, n, "%s.next", key_path);
	return k > 0 && (size_t)k < n ? 0 : MYCEL_EINVAL;
}

int mycel__keyfile_prepare(const char *key_path, const mycel_key *next, char *why, size_t why_len)
{
	char np[PATH_MAX_LEN];
	if (next_path(key_path, np, sizeof(np)) != 0)
		return mycel__fail(MYCEL_EINVAL, why, why_len, "%s: path too long", key_path);
	(void)unlink(np); /* a stale one, from a rotation that never committed */
	int rv = mycel_key_save(next, np);
	if (rv != 0)
		return mycel__fail(rv, why, why_len, "%s: %s", np, mycel_strerror(rv));
	return 0;
}

int mycel__keyfile_commit(const char *key_path, char *out_old, size_t old_len, char *why,
                          size_t why_len)
{
	char np[PATH_MAX_LEN], op[PATH_MAX_LEN];
	struct stat st;
	if (next_path(key_path, np, sizeof(np)) != 0)
		return mycel__fail(MYCEL_EINVAL, why, why_len, "%s: path too long", key_path);
	for (unsigned i = 1;; i++) {
		if (i > 100000)
			return mycel__fail(MYCEL_EIO, why, why_len,
			                   "%s: no free name for the old key", key_path);
		int k = snprintf(op, sizeof(op), "%s.%u.old", key_path, i);
		if (k <= 0 || (size_t)k >= sizeof(op))
			return mycel__fail(MYCEL_EINVAL, why, why_len, "%s: path too long",
			                   key_path);
		if (lstat(op, &st) != 0 && errno == ENOENT)
			break;
	}
	if (link(key_path, op) != 0)
		return mycel__fail(MYCEL_EIO, why, why_len, "keeping the old key as %s: %s", op,
		                   strerror(errno));
	if (rename(np, key_path) != 0)
		return mycel__fail(MYCEL_EIO, why, why_len, "installing %s as %s: %s", np, key_path,
		                   strerror(errno));
	mycel__fsync_dir(key_path);
	if (out_old != NULL && old_len > 0)
		(void)snprintf(out_old, old_len, "%s", op);
	return 0;
}

void mycel__keyfile_abandon(const char *key_path)
{
	char np[PATH_MAX_LEN];
	if (next_path(key_path, np, sizeof(np)) == 0)
		(void)unlink(np);
}

int mycel__keyfile_recover(const char *key_path, mycel_store *s, const uint8_t feed[MYCEL_PK_LEN],
                           bool *out_done, char *why, size_t why_len)
{
	char np[PATH_MAX_LEN];
	mycel_key *next = NULL;
	uint8_t signer[MYCEL_PK_LEN], id[MYCEL_HASH_LEN];
	uint64_t head = 0;
	struct stat st;
	int rv;
	*out_done = false;
	if (next_path(key_path, np, sizeof(np)) != 0 || lstat(np, &st) != 0)
		return 0;
	if ((rv = mycel_key_load(np, &next)) != 0) {
		mycel__keyfile_abandon(key_path); /* half-written: the rotation never committed */
		return 0;
	}
	rv = mycel_store_head(s, feed, &head, id);
	if (rv == MYCEL_ENOTFOUND)
		rv = 0;
	if (rv == 0)
		rv = mycel_store_feed_key(s, feed, head + 1, signer);
	if (rv != 0) {
		mycel_key_free(next);
		return mycel__fail(rv, why, why_len, "%s: %s", np, mycel_strerror(rv));
	}
	bool committed = sodium_memcmp(signer, next->pk, MYCEL_PK_LEN) == 0;
	mycel_key_free(next);
	if (!committed) {
		mycel__keyfile_abandon(key_path);
		return 0;
	}
	if ((rv = mycel__keyfile_commit(key_path, NULL, 0, why, why_len)) != 0)
		return rv;
	*out_done = true;
	return 0;
}
