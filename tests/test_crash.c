/*
 * test_crash.c — kill -9 during appends loses nothing acknowledged.
 *
 * Each round: the parent makes a fresh store whose charter admits the child's
 * key; a child process opens it and appends batches of 50 records, writing
 * the last acknowledged seq (8 bytes) to a pipe after each successful return
 * of mycel_store_append. The parent reads acks until it has seen a number of
 * them that varies per round, SIGKILLs the child and reaps it, drains the acks
 * that were already in the pipe, then reopens the store and checks: verify
 * finds no problem, the feed's head is at least the last acknowledged seq and
 * at most one batch beyond it, it ends on a batch boundary (a batch is one
 * transaction), and every entry 1..head and its body are readable.
 *
 * The parent synchronises only on pipe reads; the child's loop is bounded, and
 * an alarm in the child is a watchdog, not a synchronisation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mycel/charter.h"
#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/error.h"
#include "mycel/key.h"
#include "mycel/store.h"

#include "common.h"

#define ROUNDS 12
#define BATCH 50
#define MAX_BATCHES 400

/* A store in dir whose genesis charter admits domain "crash" = k, signed by gov. */
static void make_store(const char *dir, const mycel_key *gov, const mycel_key *k)
{
	static const char *const names[] = {"crash"};
	const mycel_key *const keys[] = {k};
	mycel_buf b;
	tc_genesis("crash-mesh", gov, names, keys, 1, &b, NULL);
	mycel_store_close(tc_store_new(dir, b.data, b.len));
	mycel_buf_fini(&b);
}

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *q = p;
	while (n > 0) {
		ssize_t w = write(fd, q, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads exactly 8 bytes: 1, or 0 at end of file (writer gone); -1 on error or a torn ack. */
static int read_ack(int fd, uint64_t *out)
{
	uint8_t b[8];
	size_t got = 0;
	while (got < sizeof(b)) {
		ssize_t r = read(fd, b + got, sizeof(b) - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return got == 0 ? 0 : -1;
		got += (size_t)r;
	}
	memcpy(out, b, sizeof(*out));
	return 1;
}

/* The child: appends batches until killed or MAX_BATCHES, acking each. Never returns. */
static void child(const char *dir, const mycel_key *k, int ack_fd)
{
	mycel_store *s = NULL;
	mycel_record recs[BATCH];
	mycel_buf bodies[BATCH];
	mycel_entry *out = calloc(BATCH, sizeof(*out));
	char why[256];

	alarm(120); /* watchdog only */
	if (out == NULL || mycel_store_open(dir, 0, &s, why, sizeof(why)) != 0)
		_exit(3);
	for (uint64_t batch = 0; batch < MAX_BATCHES; batch++) {
		for (size_t i = 0; i < BATCH; i++) {
			mycel_buf_init(&bodies[i], 256);
			mycel_enc_map(&bodies[i], 2);
			mycel_enc_cstr(&bodies[i], "batch");
			mycel_enc_uint(&bodies[i], batch);
			mycel_enc_cstr(&bodies[i], "i");
			mycel_enc_uint(&bodies[i], i);
			if (bodies[i].err != 0)
				_exit(4);
			recs[i].kind = "record";
			recs[i].body = bodies[i].data;
			recs[i].body_len = bodies[i].len;
		}
		int rv = mycel_store_append(s, k, k->pk, recs, BATCH, out);
		for (size_t i = 0; i < BATCH; i++)
			mycel_buf_fini(&bodies[i]);
		if (rv != 0)
			_exit(5);
		/* acknowledged: the append returned after its durable commit */
		uint64_t seq = out[BATCH - 1].h.seq;
		if (write_all(ack_fd, &seq, sizeof(seq)) != 0)
			_exit(6);
	}
	mycel_store_close(s);
	_exit(0);
}

typedef struct read_ctx {
	uint64_t n;
	bool ok;
} read_ctx;

static int count_cb(void *ctx, const mycel_entry *e, const uint8_t *body, size_t body_len)
{
	read_ctx *c = ctx;
	c->n++;
	if (e->h.seq != c->n || body == NULL || mycel_entry_check_body(e, body, body_len) != 0)
		c->ok = false;
	return 0;
}

static char g_dir[64]; /* the round's store, removed by teardown even after a failure */

static int teardown(void **state)
{
	(void)state;
	if (g_dir[0] != '\0')
		(void)tc_rm_rf(g_dir);
	g_dir[0] = '\0';
	return 0;
}

static void test_kill9(void **state)
{
	(void)state;
	mycel_key *gov = tc_seed_key(0x11), *k = tc_seed_key(0x22);
	size_t killed = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	for (int round = 0; round < ROUNDS; round++) {
		char *dir = g_dir;
		tc_tmpdir("crash", g_dir, sizeof(g_dir));
		make_store(dir, gov, k);

		int fds[2];
		assert_int_equal(pipe(fds), 0);
		fflush(NULL);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			child(dir, k, fds[1]);
		}
		close(fds[1]);

		/* read acks until this round's count, then kill the child mid-work */
		uint64_t want = 1 + (uint64_t)round * 3, acks = 0, last = 0, seq;
		bool increasing = true;
		int r = 0;
		while (acks < want && (r = read_ack(fds[0], &seq)) == 1) {
			increasing = increasing && seq > last; /* asserted once the child is gone */
			last = seq;
			acks++;
		}
		int killrc = kill(pid, SIGKILL);
		int status = 0;
		pid_t w;
		do
			w = waitpid(pid, &status, 0);
		while (w < 0 && errno == EINTR);
		assert_int_equal(w, pid);
		assert_int_equal(killrc, 0);
		assert_true(increasing);
		if (acks < want)
			fail_msg(
			    "round %d: the child stopped after %llu acks (read %d, status 0x%x)",
			    round, (unsigned long long)acks, r, status);
		bool was_killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
		if (!was_killed && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
			fail_msg("round %d: child status 0x%x", round, status);
		killed += was_killed;
		/* acks written before the kill are acknowledged too: drain them (EOF ends it) */
		while ((r = read_ack(fds[0], &seq)) == 1) {
			assert_true(seq > last);
			last = seq;
			acks++;
		}
		assert_int_equal(r, 0);
		close(fds[0]);

		/* the store after the crash */
		mycel_store *s = NULL;
		char why[256] = "";
		mycel_verify_stats st;
		assert_int_equal(mycel_store_open(dir, 0, &s, why, sizeof(why)), 0);
		assert_int_equal(mycel_store_verify(s, NULL, NULL, &st), 0);
		if (st.problems != 0)
			fail_msg("round %d: verify found %zu problem(s) after kill -9", round,
			         st.problems);
		uint64_t head = 0;
		assert_int_equal(mycel_store_head(s, k->pk, &head, NULL), 0);
		if (head < last)
			fail_msg("round %d: head %llu < last acknowledged seq %llu", round,
			         (unsigned long long)head, (unsigned long long)last);
		assert_true(head <= last + BATCH); /* at most the batch in flight */
		assert_int_equal(head % BATCH, 0); /* a batch is all or nothing */
		assert_int_equal(st.entries, head);
		read_ctx rc = {0, true};
		assert_int_equal(mycel_store_scan(s, k->pk, 1, count_cb, &rc), 0);
		assert_true(rc.ok);
		assert_int_equal(rc.n, head);
		for (uint64_t i = 1; i <= head; i++) {
			mycel_entry e;
			uint8_t *body = NULL;
			size_t blen = 0;
			assert_int_equal(mycel_store_get(s, k->pk, i, &e), 0);
			assert_int_equal(mycel_store_get_body(s, k->pk, i, &body, &blen), 0);
			assert_int_equal(mycel_entry_check_body(&e, body, blen), 0);
			free(body);
		}
		/* and the feed goes on from there */
		mycel_buf b;
		mycel_buf_init(&b, 64);
		mycel_enc_cstr(&b, "after");
		mycel_record rec = {"record", b.data, b.len};
		mycel_entry e;
		assert_int_equal(mycel_store_append(s, k, k->pk, &rec, 1, &e), 0);
		assert_int_equal(e.h.seq, head + 1);
		mycel_buf_fini(&b);
		mycel_store_close(s);

		print_message(
		    "round %2d: killed after %3llu acks read (%s), last acked seq %5llu, head "
		    "%5llu, verify clean, all entries readable\n",
		    round, (unsigned long long)want, was_killed ? "SIGKILL" : "child had finished",
		    (unsigned long long)last, (unsigned long long)head);
		assert_int_equal(tc_rm_rf(dir), 0);
		g_dir[0] = '\0';
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("%zu of %d rounds killed mid-run, in %.2f s\n", killed, ROUNDS,
	              (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	assert_true(killed >= 1);
	mycel_key_free(gov);
	mycel_key_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_kill9, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
