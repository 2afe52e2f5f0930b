/*
 * feedkey.h — which key signs a feed at a seq: key rotation (proto/PROTOCOL.md §5.4).
 * Internal to libmycel, shared by the store, verify, ingest, the client and audit bundles.
 *
 * A feed is named by its genesis public key, which signs its entries until the feed's first
 * `key` entry. A `key` entry at seq S is signed by the key current at S; its body is the
 * canonical map {next: bin 32, sig: bin 64} where sig is next's Ed25519 signature over
 *   "mycel/key/v1\0" ‖ feed (32) ‖ S (8 bytes, big-endian) ‖ next (32)
 * (the reverse signature: both keys agree). Entries S+1 and later are signed by next, until
 * the next `key` entry. A `key` entry whose body is malformed or whose reverse signature does
 * not verify is invalid: the feed's chain is broken at that seq.
 *
 * The key that signs seq S is therefore a pure function of the feed's entries 1..S-1; the
 * step function below computes it entry by entry from genesis, and the store keeps the
 * result of each valid key entry in its `keys` table (src/store_int.h) for O(log n) lookups.
 */
#ifndef MYCEL_FEEDKEY_H
#define MYCEL_FEEDKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/key.h"

#define MYCEL__KEY_KIND "key"
/* The canonical body of a key entry: 82 a4"next" c4 20 <32> a3"sig" c4 40 <64>. */
#define MYCEL__KEY_BODY_LEN (1 + 5 + 2 + MYCEL_PK_LEN + 4 + 2 + MYCEL_SIG_LEN)

/*
 * Writes the body of the key entry that will be seq `seq` of feed, naming next, signed by
 * next (the reverse signature), into out (MYCEL__KEY_BODY_LEN bytes). ENOMEM if libsodium
 * cannot start.
 */
int mycel__feedkey_body(const uint8_t feed[MYCEL_PK_LEN], uint64_t seq, const mycel_key *next,
                        uint8_t out[MYCEL__KEY_BODY_LEN]);

/*
 * Checks the body of a key entry at (feed, seq): exactly the canonical map {next, sig}
 * (EFORMAT otherwise) whose sig verifies under next over the string above (EBADSIG).
 * On success copies next into out_next (may be NULL). Pure: needs no store.
 */
__attribute__((warn_unused_result)) int mycel__feedkey_body_check(const uint8_t feed[MYCEL_PK_LEN],
                                                                  uint64_t seq, const uint8_t *body,
                                                                  size_t n,
                                                                  uint8_t out_next[MYCEL_PK_LEN]);

/* True when e is a key entry (kind "key"). */
bool mycel__feedkey_is_key(const mycel_entry *e);

/*
 * The step function: the signing key of one feed while walking its entries from genesis.
 * init sets key = feed and seq = 0 (no entry seen). step takes the next entry e (seq + 1 of
 * the same feed, else ECHAIN) with its body: with check_sig it first verifies e's signature
 * under key (EBADSIG); for a key entry it checks the body (mycel__feedkey_body_check's
 * codes) and then key = next. On any error the state is unchanged, so a caller may report
 * and go on with the key it had. After step(e), key is the key that signs e.seq + 1.
 */
typedef mycel_feedkey mycel__feedkey; /* include/mycel/entry.h; mycel_feedkey_* call these */

void mycel__feedkey_init(mycel__feedkey *fk, const uint8_t feed[MYCEL_PK_LEN]);
__attribute__((warn_unused_result)) int mycel__feedkey_step(mycel__feedkey *fk,
                                                            const mycel_entry *e,
                                                            const uint8_t *body, size_t n,
                                                            bool check_sig);

/*
 * The domain directory's key file across a rotation (crash-safe, every file 0600):
 *   prepare  writes next to "<key_path>.next" (replacing a stale one) and syncs it, BEFORE the
 *            key entry is committed, so a crash never loses the key the feed now needs;
 *   commit   after the commit: hard-links key_path to "<key_path>.N.old" (the first free N
 *            from 1; out_old gets that path) and renames the .next file over key_path;
 *   abandon  after a failed commit: removes the .next file;
 *   recover  at startup: a .next file left by a crash is committed when its key is the one
 *            that signs feed now in store (out_done true), else removed.
 * Errors: EIO with why naming the file, the key loader's codes.
 */
struct mycel_store;
int mycel__keyfile_prepare(const char *key_path, const mycel_key *next, char *why, size_t why_len);
int mycel__keyfile_commit(const char *key_path, char *out_old, size_t old_len, char *why,
                          size_t why_len);
void mycel__keyfile_abandon(const char *key_path);
int mycel__keyfile_recover(const char *key_path, struct mycel_store *s,
                           const uint8_t feed[MYCEL_PK_LEN], bool *out_done, char *why,
                           size_t why_len);

#endif
