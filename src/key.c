/* key.c — Ed25519 key pairs in guarded memory, and key files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "mycel/error.h"
#include "mycel/key.h"
#include "util.h"

#define KEYFILE_TAG "mycel-secret-key-v1 "

static int key_alloc(mycel_key **out)
{
	if (mycel__sodium_init() != 0)
		return MYCEL_ENOMEM;
	mycel_key *k = sodium_malloc(sizeof(*k));
	if (k == NULL)
		return MYCEL_ENOMEM;
	*out = k;
	return 0;
}

int mycel_key_generate(mycel_key **out)
{
	mycel_key *k;
	int rv = key_alloc(&k);
	if (rv != 0)
		return rv;
	crypto_sign_keypair(k->pk, k->sk);
	*out = k;
	return 0;
}

int mycel_key_from_seed(const uint8_t seed[MYCEL_SEED_LEN], mycel_key **out)
{
	mycel_key *k;
	int rv = key_alloc(&k);
	if (rv != 0)
		return rv;
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	*out = k;
	return 0;
}

void mycel_key_free(mycel_key *key)
{
	if (key != NULL)
		sodium_free(key); /* sodium_free wipes before releasing */
}

void mycel_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mycel_unhex(const char *hex, uint8_t *out, size_t n)
{
	if (strlen(hex) != 2 * n)
		return MYCEL_EINVAL;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return MYCEL_EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int mycel_key_save(const mycel_key *key, const char *path)
{
	char tmp[4096];
	char line[sizeof(KEYFILE_TAG) + 2 * MYCEL_SEED_LEN + 2];
	int rv = MYCEL_EIO;
	int fd = -1;

	if (strlen(path) + 16 >= sizeof(tmp))
		return MYCEL_EINVAL;
	if (access(path, F_OK) == 0)
		return MYCEL_EEXIST;
	/* A fresh temporary name beside the target (mode 0600 from creation on). */
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return MYCEL_EIO;
	memcpy(line, KEYFILE_TAG, sizeof(KEYFILE_TAG) - 1);
	mycel_hex(key->sk, MYCEL_SEED_LEN, line + sizeof(KEYFILE_TAG) - 1);
	size_t len = strlen(line);
	line[len++] = '\n';
	if (fchmod(fd, 0600) != 0 || mycel__write_all(fd, line, len) != 0 || fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	/* link() refuses to replace a file that appeared meanwhile; rename() would not. */
	if (link(tmp, path) != 0) {
		rv = errno == EEXIST ? MYCEL_EEXIST : MYCEL_EIO;
		goto fail;
	}
	unlink(tmp);
	mycel__fsync_dir(path);
	sodium_memzero(line, sizeof(line));
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	sodium_memzero(line, sizeof(line));
	return rv;
}

int mycel_key_load(const char *path, mycel_key **out)
{
	char line[sizeof(KEYFILE_TAG) + 2 * MYCEL_SEED_LEN + 4];
	uint8_t seed[MYCEL_SEED_LEN];
	struct stat st;
	int rv = MYCEL_EKEYFILE;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? MYCEL_ENOTFOUND : MYCEL_EKEYFILE;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		close(fd);
		return MYCEL_EKEYFILE;
	}
	ssize_t n = read(fd, line, sizeof(line) - 1);
	close(fd);
	if (n < 0)
		goto done;
	line[n] = '\0';
	size_t len = (size_t)n;
	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	if (len != sizeof(KEYFILE_TAG) - 1 + 2 * MYCEL_SEED_LEN ||
	    memcmp(line, KEYFILE_TAG, sizeof(KEYFILE_TAG) - 1) != 0)
		goto done;
	if (mycel_unhex(line + sizeof(KEYFILE_TAG) - 1, seed, sizeof(seed)) != 0)
		goto done;
	rv = mycel_key_from_seed(seed, out);
done:
	sodium_memzero(line, sizeof(line));
	sodium_memzero(seed, sizeof(seed));
	return rv;
}
