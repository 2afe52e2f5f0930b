/*
 * test_key.c — Ed25519 keys and key files (include/mycel/key.h): deterministic
 * derivation from a seed, the key file format and its 0600 rule, refusals of
 * malformed, missing and over-permissive files, and mycel_hex/mycel_unhex.
 * Every file lives in a fresh mkdtemp directory that is removed afterwards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mycel/error.h"
#include "mycel/key.h"

#include "common.h"

#define TAG "mycel-secret-key-v1 "

typedef struct tmpdir {
	char path[64];
} tmpdir;

static int setup_dir(void **state)
{
	tmpdir *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return -1;
	tc_tmpdir("test-key", d->path, sizeof(d->path));
	*state = d;
	return 0;
}

/* Removes the directory and everything in it. */
static int teardown_dir(void **state)
{
	tmpdir *d = *state;
	int rv = tc_rm_rf(d->path);
	free(d);
	return rv;
}

static void path_in(void **state, const char *name, char *out, size_t n)
{
	tmpdir *d = *state;
	snprintf(out, n, "%s/%s", d->path, name);
}

static void write_file(const char *path, const void *p, size_t n, mode_t mode)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static size_t count_files(void **state)
{
	tmpdir *d = *state;
	DIR *dir = opendir(d->path);
	size_t n = 0;
	struct dirent *de;
	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/* RFC 8032 §7.1, test 1. */
static const char *const RFC_SEED =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char *const RFC_PK =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

static mycel_key *rfc_key(void)
{
	uint8_t seed[32];
	mycel_key *k;
	assert_int_equal(mycel_unhex(RFC_SEED, seed, 32), 0);
	assert_int_equal(mycel_key_from_seed(seed, &k), 0);
	return k;
}

/* ---- keys ------------------------------------------------------------------- */

static void test_from_seed(void **state)
{
	(void)state;
	mycel_key *a = rfc_key(), *b = rfc_key();
	char hex[65];
	mycel_hex(a->pk, 32, hex);
	assert_string_equal(hex, RFC_PK);
	assert_memory_equal(a->pk, b->pk, 32);
	assert_memory_equal(a->sk, b->sk, 64);
	/* libsodium's secret key is seed ‖ public key. */
	mycel_hex(a->sk, 32, hex);
	assert_string_equal(hex, RFC_SEED);
	assert_memory_equal(a->sk + 32, a->pk, 32);
	/* Another seed, another key. */
	uint8_t seed[32] = {0};
	mycel_key *z;
	assert_int_equal(mycel_key_from_seed(seed, &z), 0);
	assert_memory_not_equal(z->pk, a->pk, 32);
	mycel_hex(z->pk, 32, hex);
	assert_string_equal(hex,
	                    "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29");
	mycel_key_free(a);
	mycel_key_free(b);
	mycel_key_free(z);
	mycel_key_free(NULL);
}

static void test_generate(void **state)
{
	(void)state;
	mycel_key *a, *b;
	assert_int_equal(mycel_key_generate(&a), 0);
	assert_int_equal(mycel_key_generate(&b), 0);
	assert_memory_not_equal(a->pk, b->pk, 32);
	assert_memory_equal(a->sk + 32, a->pk, 32);
	/* The public key is derived from the seed half of sk. */
	mycel_key *c;
	assert_int_equal(mycel_key_from_seed(a->sk, &c), 0);
	assert_memory_equal(c->pk, a->pk, 32);
	mycel_key_free(a);
	mycel_key_free(b);
	mycel_key_free(c);
}

/* ---- key files -------------------------------------------------------------- */

static void test_save_load_roundtrip(void **state)
{
	char path[256], buf[256];
	struct stat st;
	mycel_key *k, *l;
	path_in(state, "domain.key", path, sizeof(path));

	assert_int_equal(mycel_key_generate(&k), 0);
	assert_int_equal(mycel_key_save(k, path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(count_files(state), 1); /* no temporary file left behind */
	assert_int_equal(mycel_key_load(path, &l), 0);
	assert_memory_equal(l->pk, k->pk, 32);
	assert_memory_equal(l->sk, k->sk, 64);
	mycel_key_free(k);
	mycel_key_free(l);

	/* The exact file format: one line, the tag, the seed in lowercase hex. */
	path_in(state, "rfc.key", path, sizeof(path));
	k = rfc_key();
	assert_int_equal(mycel_key_save(k, path), 0);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char want[128];
	snprintf(want, sizeof(want), "%s%s\n", TAG, RFC_SEED);
	assert_string_equal(buf, want);
	assert_int_equal(mycel_key_load(path, &l), 0);
	assert_memory_equal(l->pk, k->pk, 32);
	mycel_key_free(l);

	/* Owner-only modes other than 0600 are private too. */
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(mycel_key_load(path, &l), 0);
	mycel_key_free(l);
	assert_int_equal(chmod(path, 0700), 0);
	assert_int_equal(mycel_key_load(path, &l), 0);
	mycel_key_free(l);
	mycel_key_free(k);
}

static void test_save_refuses_overwrite(void **state)
{
	char path[256], buf[64];
	mycel_key *k;
	path_in(state, "exists.key", path, sizeof(path));
	write_file(path, "precious", 8, 0600);
	assert_int_equal(mycel_key_generate(&k), 0);
	assert_int_equal(mycel_key_save(k, path), MYCEL_EEXIST);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(n, 8);
	assert_memory_equal(buf, "precious", 8);
	assert_int_equal(count_files(state), 1);

	/* A second save of a fresh path works once, then refuses. */
	path_in(state, "twice.key", path, sizeof(path));
	assert_int_equal(mycel_key_save(k, path), 0);
	assert_int_equal(mycel_key_save(k, path), MYCEL_EEXIST);
	assert_int_equal(count_files(state), 2);

	/* A directory that does not exist: an I/O error, nothing created. */
	path_in(state, "no/such/dir.key", path, sizeof(path));
	assert_int_equal(mycel_key_save(k, path), MYCEL_EIO);
	assert_int_equal(count_files(state), 2);
	mycel_key_free(k);
}

static void test_load_refuses_modes(void **state)
{
	static const mode_t modes[] = {0640, 0644, 0604, 0660, 0606, 0610, 0601, 0666, 0777};
	char path[256];
	mycel_key *k, *l = NULL;
	path_in(state, "open.key", path, sizeof(path));
	k = rfc_key();
	assert_int_equal(mycel_key_save(k, path), 0);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_int_equal(chmod(path, modes[i]), 0);
		assert_int_equal(mycel_key_load(path, &l), MYCEL_EKEYFILE);
		assert_null(l);
	}
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(mycel_key_load(path, &l), 0);
	mycel_key_free(l);
	mycel_key_free(k);
}

static void test_load_malformed(void **state)
{
	static const struct {
		const char *name;
		const char *text;
	} cases[] = {
	    {"empty", ""},
	    {"newline-only", "\n"},
	    {"bad-tag", "mycel-secret-key-v2 "
	                "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\n"},
	    {"no-space", "mycel-secret-key-v1"
	                 "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\n"},
	    {"two-spaces", "mycel-secret-key-v1  "
	                   "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\n"},
	    {"tag-only", "mycel-secret-key-v1 \n"},
	    {"short-hex", "mycel-secret-key-v1 "
	                  "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f6\n"},
	    {"short-hex-by-2", "mycel-secret-key-v1 "
	                       "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f\n"},
	    {"long-hex", "mycel-secret-key-v1 "
	                 "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f6000\n"},
	    {"non-hex", "mycel-secret-key-v1 "
	                "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7fzz\n"},
	    {"space-in-hex", "mycel-secret-key-v1 "
	                     "9d61b19deffd5a60ba844af492ec2cc4 449c5697b326919703bac031cae7f60\n"},
	    {"extra-bytes", "mycel-secret-key-v1 "
	                    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\nx"},
	    {"extra-line", "mycel-secret-key-v1 "
	                   "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\n\n"},
	    {"crlf", "mycel-secret-key-v1 "
	             "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\r\n"},
	    {"leading-space", " mycel-secret-key-v1 "
	                      "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\n"},
	    {"trailing-space",
	     "mycel-secret-key-v1 "
	     "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60 \n"},
	    {"two-keys", "mycel-secret-key-v1 "
	                 "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\n"
	                 "mycel-secret-key-v1 "
	                 "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60\n"},
	};
	char path[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mycel_key *l = NULL;
		path_in(state, cases[i].name, path, sizeof(path));
		write_file(path, cases[i].text, strlen(cases[i].text), 0600);
		int rv = mycel_key_load(path, &l);
		if (rv != MYCEL_EKEYFILE)
			fail_msg("%s: got %s", cases[i].name, mycel_errname(rv));
		assert_null(l);
	}
	/* A NUL byte in place of a hex digit. */
	char nul[128];
	int n = snprintf(nul, sizeof(nul), "%s%s\n", TAG, RFC_SEED);
	nul[30] = '\0';
	path_in(state, "nul", path, sizeof(path));
	write_file(path, nul, (size_t)n, 0600);
	mycel_key *l = NULL;
	assert_int_equal(mycel_key_load(path, &l), MYCEL_EKEYFILE);
	/* The well-formed control case loads, so the refusals above are about form. */
	path_in(state, "good", path, sizeof(path));
	n = snprintf(nul, sizeof(nul), "%s%s\n", TAG, RFC_SEED);
	write_file(path, nul, (size_t)n, 0600);
	assert_int_equal(mycel_key_load(path, &l), 0);
	char hex[65];
	mycel_hex(l->pk, 32, hex);
	assert_string_equal(hex, RFC_PK);
	mycel_key_free(l);
	/* A directory is not a key file. */
	path_in(state, "adir", path, sizeof(path));
	assert_int_equal(mkdir(path, 0700), 0);
	l = NULL;
	assert_int_equal(mycel_key_load(path, &l), MYCEL_EKEYFILE);
	assert_null(l);
}

static void test_load_missing(void **state)
{
	char path[256];
	mycel_key *l = NULL;
	path_in(state, "absent.key", path, sizeof(path));
	assert_int_equal(mycel_key_load(path, &l), MYCEL_ENOTFOUND);
	assert_null(l);
}

/* ---- hex ------------------------------------------------------------------ */

static void test_hex(void **state)
{
	(void)state;
	char out[2 * 256 + 1];
	uint8_t all[256], back[256];
	memset(out, 'x', sizeof(out));
	for (size_t i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	mycel_hex(all, 0, out);
	assert_string_equal(out, "");
	mycel_hex((const uint8_t *)"\x00\xff\x0a\xa0", 4, out);
	assert_string_equal(out, "00ff0aa0");
	mycel_hex(all, 256, out);
	assert_int_equal(strlen(out), 512);
	assert_memory_equal(out, "000102", 6);
	assert_memory_equal(out + 506, "fdfeff", 6);
	for (size_t i = 0; i < 512; i++)
		assert_true((out[i] >= '0' && out[i] <= '9') || (out[i] >= 'a' && out[i] <= 'f'));
	assert_int_equal(mycel_unhex(out, back, 256), 0);
	assert_memory_equal(back, all, 256);
}

static void test_unhex(void **state)
{
	(void)state;
	uint8_t b[4];
	assert_int_equal(mycel_unhex("", b, 0), 0);
	assert_int_equal(mycel_unhex("00", b, 0), MYCEL_EINVAL);
	assert_int_equal(mycel_unhex("", b, 1), MYCEL_EINVAL);
	assert_int_equal(mycel_unhex("0", b, 1), MYCEL_EINVAL);
	assert_int_equal(mycel_unhex("000", b, 1), MYCEL_EINVAL);
	assert_int_equal(mycel_unhex("0000", b, 1), MYCEL_EINVAL);
	assert_int_equal(mycel_unhex("deadbeef", b, 4), 0);
	assert_memory_equal(b, "\xde\xad\xbe\xef", 4);
	assert_int_equal(mycel_unhex("DEADBEEF", b, 4), 0); /* hex digits of either case */
	assert_memory_equal(b, "\xde\xad\xbe\xef", 4);
	assert_int_equal(mycel_unhex("deadbee", b, 4), MYCEL_EINVAL);
	assert_int_equal(mycel_unhex("deadbeef0", b, 4), MYCEL_EINVAL);
	static const char *const bad[] = {"0g", "g0", "0x", " 0", "0 ", "-1",   "+1",
	                                  "0:", "/0", "@0", "`0", "0G", "\3770"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(mycel_unhex(bad[i], b, 1), MYCEL_EINVAL);
	/* Every byte value through both case forms. */
	for (unsigned v = 0; v < 256; v++) {
		char lo[3], up[3];
		snprintf(lo, sizeof(lo), "%02x", v);
		snprintf(up, sizeof(up), "%02X", v);
		assert_int_equal(mycel_unhex(lo, b, 1), 0);
		assert_int_equal(b[0], v);
		assert_int_equal(mycel_unhex(up, b, 1), 0);
		assert_int_equal(b[0], v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_from_seed),
	    cmocka_unit_test(test_generate),
	    cmocka_unit_test_setup_teardown(test_save_load_roundtrip, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_save_refuses_overwrite, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_load_refuses_modes, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_load_malformed, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_load_missing, setup_dir, teardown_dir),
	    cmocka_unit_test(test_hex),
	    cmocka_unit_test(test_unhex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
