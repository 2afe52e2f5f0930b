/*
 * mycel/key.h — Ed25519 signing keys and key files.
 *
 * A secret key lives in memory allocated with sodium_malloc (guard pages,
 * locked where the system allows) and is wiped when freed. A key file holds
 * one line, "mycel-secret-key-v1 <64 hex digits of the 32-byte seed>", and
 * must have mode 0600 (no group or other bits): mycel_key_load refuses any
 * other mode. The public key is derived from the seed.
 */
#ifndef MYCEL_KEY_H
#define MYCEL_KEY_H

#include <stddef.h>
#include <stdint.h>

#define MYCEL_PK_LEN 32
#define MYCEL_SK_LEN 64
#define MYCEL_SEED_LEN 32
#define MYCEL_SIG_LEN 64

typedef struct mycel_key {
	uint8_t pk[MYCEL_PK_LEN];
	uint8_t sk[MYCEL_SK_LEN]; /* libsodium's secret key: seed ‖ public key */
} mycel_key;

/* Creates a fresh random key pair in guarded memory. Free with mycel_key_free. */
int mycel_key_generate(mycel_key **out);

/* The key pair for a fixed 32-byte seed (golden vectors, tests). */
int mycel_key_from_seed(const uint8_t seed[MYCEL_SEED_LEN], mycel_key **out);

/*
 * Writes key to a new file at path with mode 0600; refuses (EEXIST) to replace
 * an existing file. The file is written to a temporary name, synced and renamed,
 * so a crash never leaves half a key. EIO on write failures.
 */
int mycel_key_save(const mycel_key *key, const char *path);

/*
 * Reads a key file. Refuses a file whose mode allows group or other access
 * (EKEYFILE), a malformed file (EKEYFILE), a missing file (ENOTFOUND).
 * All intermediate copies of the seed are wiped.
 */
int mycel_key_load(const char *path, mycel_key **out);

/* Wipes and frees a key. Accepts NULL. */
void mycel_key_free(mycel_key *key);

/* Lowercase hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void mycel_hex(const uint8_t *p, size_t n, char *out);

/* Parses exactly 2n hex digits (and nothing else) into out; EINVAL otherwise. */
int mycel_unhex(const char *hex, uint8_t *out, size_t n);

#endif
