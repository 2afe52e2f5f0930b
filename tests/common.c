/*
 * tests/common.c — the fixtures the unit tests share (tests/common.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mycel/charter.h"
#include "mycel/codec.h"
#include "mycel/domain.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/store.h"

#include "common.h"

void tc_tmpdir(const char *tag, char *dir, size_t n)
{
	int k = snprintf(dir, n, "/tmp/mycel-%s-XXXXXX", tag);
	assert_true(k > 0 && (size_t)k < n);
	if (mkdtemp(dir) == NULL)
		fail_msg("mkdtemp %s failed", dir);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int tc_rm_rf(const char *dir)
{
	if (dir[0] == '\0')
		return 0;
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

mycel_key *tc_seed_key(uint8_t fill)
{
	uint8_t seed[MYCEL_SEED_LEN];
	mycel_key *k = NULL;
	memset(seed, fill, sizeof(seed));
	assert_int_equal(mycel_key_from_seed(seed, &k), 0);
	return k;
}

void tc_genesis(const char *mesh, const mycel_key *gov, const char *const *names,
                const mycel_key *const *keys, size_t n, mycel_buf *out_file, uint8_t *out_mesh_id)
{
	mycel_charter *c = NULL;
	char why[256] = "";
	assert_int_equal(mycel_charter_new(mesh, 1, 1, &c), 0);
	assert_int_equal(mycel_charter_add_member(c, "gov", gov->pk), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(mycel_charter_add_domain(c, names[i], keys[i]->pk), 0);
	assert_int_equal(mycel_charter_sign(c, gov, why, sizeof(why)), 0);
	if (out_mesh_id != NULL)
		assert_int_equal(mycel_charter_digest(c, out_mesh_id), 0);
	mycel_buf_init(out_file, MYCEL_CHARTER_MAX);
	assert_int_equal(mycel_charter_encode(c, out_file), 0);
	mycel_charter_free(c);
}

mycel_store *tc_store_new(const char *dir, const uint8_t *p, size_t n)
{
	mycel_store *s = NULL;
	char why[256] = "";
	int rv = mycel_store_open(dir, MYCEL_STORE_CREATE, &s, why, sizeof(why));
	if (rv != 0)
		fail_msg("open %s: %s (%s)", dir, mycel_errname(rv), why);
	rv = mycel_store_add_charter(s, p, n, why, sizeof(why));
	if (rv != 0)
		fail_msg("charter: %s (%s)", mycel_errname(rv), why);
	return s;
}

mycel_key *tc_domain_dir(const char *dir, const char *name, const char *mesh, char *out_store,
                         size_t n)
{
	char why[512] = "";
	mycel_domain dom;
	mycel_key *k = NULL;
	mycel_domain_opts o = {.dir = dir, .name = name, .mesh = mesh};
	if (mycel_domain_init(&o, why, sizeof(why)) != 0)
		fail_msg("domain init: %s", why);
	assert_int_equal(mycel_domain_load(dir, &dom, why, sizeof(why)), 0);
	assert_int_equal(mycel_key_load(dom.key_path, &k), 0);
	if (out_store != NULL) {
		int w = snprintf(out_store, n, "%s", dom.store_path);
		assert_true(w > 0 && (size_t)w < n);
	}
	mycel_domain_fini(&dom);
	return k;
}

void tc_put_contract(mycel_store *s, const mycel_key *k, const char *id, const char *version,
                     const char *name, const char *purpose)
{
	mycel_buf b;
	mycel_buf_init(&b, MYCEL_BODY_MAX);
	mycel_enc_map(&b, purpose != NULL ? 7 : 6);
	mycel_enc_cstr(&b, "apiVersion");
	mycel_enc_cstr(&b, "v3.0.2");
	if (purpose != NULL) {
		mycel_enc_cstr(&b, "description");
		mycel_enc_map(&b, 1);
		mycel_enc_cstr(&b, "purpose");
		mycel_enc_cstr(&b, purpose);
	}
	mycel_enc_cstr(&b, "id");
	mycel_enc_cstr(&b, id);
	mycel_enc_cstr(&b, "kind");
	mycel_enc_cstr(&b, "DataContract");
	mycel_enc_cstr(&b, "name");
	mycel_enc_cstr(&b, name);
	mycel_enc_cstr(&b, "status");
	mycel_enc_cstr(&b, "active");
	mycel_enc_cstr(&b, "version");
	mycel_enc_cstr(&b, version);
	assert_int_equal(b.err, 0);
	mycel_record rec = {"contract", b.data, b.len};
	assert_int_equal(mycel_store_append(s, k, k->pk, &rec, 1, NULL), 0);
	mycel_buf_fini(&b);
}

uint64_t tc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

size_t tc_read_line(int fd, char *buf, size_t cap, int ms)
{
	size_t len = 0;
	uint64_t end = mono_ms() + (uint64_t)ms;
	buf[0] = '\0';
	while (len + 1 < cap && memchr(buf, '\n', len) == NULL) {
		uint64_t now = mono_ms();
		if (now >= end)
			break;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, (int)(end - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		ssize_t got = read(fd, buf + len, cap - 1 - len);
		if (got <= 0)
			break;
		len += (size_t)got;
		buf[len] = '\0';
	}
	return len;
}

void tc_dump_file(const char *path)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return;
	fprintf(stderr, "---- %s\n", path);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	fclose(f);
}

int tc_wait_exit(pid_t pid, int ms, const char *log)
{
	int st = 0;
	for (uint64_t end = mono_ms() + (uint64_t)ms;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return st;
		assert_int_equal(r, 0);
		if (mono_ms() >= end) {
			kill(pid, SIGKILL);
			(void)waitpid(pid, &st, 0);
			if (log != NULL)
				tc_dump_file(log);
			fail_msg("process %ld did not exit within %d ms", (long)pid, ms);
		}
		struct timespec d = {0, 10 * 1000000L};
		nanosleep(&d, NULL);
	}
}
