/*
 * mycel watch: prints a node's change events (myceld --events), optionally filtered.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "mycel/codec.h"
#include "mycel/error.h"
#include "mycel/node.h"

#include "cli_common.h"

/* ---- watch ------------------------------------------------------------------------------------- */

typedef struct watch_event {
	const char *domain, *kind, *id, *version, *status;
	const uint8_t *feed;
	uint64_t seq;
} watch_event;

/* A string member of m, or NULL when absent or not a string. */
static const char *ev_str(const mycel_value *m, const char *key)
{
	const mycel_value *v = mycel_value_get(m, key);
	return v != NULL && v->type == MYCEL_T_STR ? v->v.s.ptr : NULL;
}

/* Strictly decodes one change event (include/mycel/node.h); EFORMAT for a wrong shape. */
static int decode_event(const uint8_t *p, size_t n, mycel_arena *a, watch_event *ev)
{
	mycel_value *v = NULL;
	int rv = mycel_value_decode(p, n, 4096, a, &v, NULL);
	if (rv != 0)
		return rv;
	if (v->type != MYCEL_T_MAP || v->v.m.len != 7)
		return MYCEL_EFORMAT;
	const mycel_value *feed = mycel_value_get(v, "feed");
	const mycel_value *seq = mycel_value_get(v, "seq");
	ev->domain = ev_str(v, "domain");
	ev->kind = ev_str(v, "kind");
	ev->id = ev_str(v, "id");
	ev->version = ev_str(v, "version");
	ev->status = ev_str(v, "status");
	if (ev->domain == NULL || ev->kind == NULL || ev->id == NULL || ev->version == NULL ||
	    ev->status == NULL || feed == NULL || feed->type != MYCEL_T_BIN ||
	    feed->v.s.len != MYCEL_PK_LEN || seq == NULL || seq->type != MYCEL_T_UINT)
		return MYCEL_EFORMAT;
	ev->feed = (const uint8_t *)feed->v.s.ptr;
	ev->seq = seq->v.u;
	return 0;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void print_event(const watch_event *ev, bool json)
{
	char when[40], feed[2 * MYCEL_PK_LEN + 1];
	iso_time(wall_ms(), when, sizeof(when));
	if (json) {
		mycel_hex(ev->feed, MYCEL_PK_LEN, feed);
		printf("{\"received\":\"%s\",\"domain\":", when);
		json_str(stdout, ev->domain);
		printf(",\"feed\":\"%s\",\"seq\":%llu,\"kind\":", feed, (unsigned long long)ev->seq);
		json_str(stdout, ev->kind);
		fputs(",\"id\":", stdout);
		json_str(stdout, ev->id);
		fputs(",\"version\":", stdout);
		json_str(stdout, ev->version);
		fputs(",\"status\":", stdout);
		json_str(stdout, ev->status);
		fputs("}\n", stdout);
	} else {
		printf("%s  ", when);
		safe_str(stdout, ev->domain);
		fputc('/', stdout);
		safe_str(stdout, ev->id);
		fputc(' ', stdout);
		safe_str(stdout, ev->version);
		fputs("  ", stdout);
		safe_str(stdout, ev->kind);
		fputs("  ", stdout);
		safe_str(stdout, ev->status);
		printf(" (seq %llu)\n", (unsigned long long)ev->seq);
	}
	fflush(stdout);
}

int cmd_watch(int argc, char **argv)
{
	static const struct option opts[] = {{"node", required_argument, NULL, 'n'},
					     {"domain", required_argument, NULL, 'D'},
					     {"kind", required_argument, NULL, 'k'},
					     {"count", required_argument, NULL, 'c'},
					     {"timeout", required_argument, NULL, 't'},
					     {"json", no_argument, NULL, 'j'},
					     {NULL, 0, NULL, 0}};
	static const char use[] = "usage: mycel watch --node URL [--domain D] [--kind K] "
				  "[--count N] [--timeout SECONDS] [--json]";
	const char *url = NULL, *domain = NULL, *kind = NULL;
	unsigned long long count = 0, timeout = 0;
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end = NULL;
		if (c == 'n') {
			url = optarg;
		} else if (c == 'D') {
			domain = optarg;
		} else if (c == 'k') {
			kind = optarg;
		} else if (c == 'j') {
			json = true;
		} else if (c == 'c' || c == 't') {
			unsigned long long v = strtoull(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' || v == 0 ||
			    (c == 't' && v > 86400u * 365u))
				return usage_error("watch", "--%s must be a positive integer\n%s",
						   c == 'c' ? "count" : "timeout", use);
			if (c == 'c')
				count = v;
			else
				timeout = v;
		} else {
			return usage_error("watch", "%s", use);
		}
	}
	if (url == NULL || optind != argc)
		return usage_error("watch", "%s", use);

	nng_socket sock;
	int rv = nng_sub0_open(&sock);
	if (rv != 0)
		return die(EXIT_FAIL, "sub0 socket: %s", nng_strerror(rv));
	if ((rv = nng_socket_set(sock, NNG_OPT_SUB_SUBSCRIBE, "", 0)) != 0 ||
	    (rv = nng_socket_set_size(sock, NNG_OPT_RECVMAXSZ, 4096)) != 0 ||
	    (timeout > 0 &&
	     (rv = nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, (nng_duration)(timeout * 1000u))) != 0)) {
		nng_close(sock);
		return die(EXIT_FAIL, "sub0 socket: %s", nng_strerror(rv));
	}
	/* NNG_FLAG_NONBLOCK: keep redialing in the background if the node is not up yet */
	if ((rv = nng_dial(sock, url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		nng_close(sock);
		return die(rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP ? EXIT_USAGE : EXIT_FAIL, "%s: %s",
			   url, nng_strerror(rv));
	}
	fprintf(stderr, "watching %s\n", url);
	fflush(stderr);

	mycel_arena *a = NULL;
	unsigned long long seen = 0;
	int ret = 0;
	while (count == 0 || seen < count) {
		void *msg = NULL;
		size_t len = 0;
		rv = nng_recv(sock, &msg, &len, NNG_FLAG_ALLOC);
		if (rv == NNG_ETIMEDOUT)
			break; /* no event for --timeout seconds: done */
		if (rv != 0) {
			ret = die(EXIT_FAIL, "%s: %s", url, nng_strerror(rv));
			break;
		}
		watch_event ev;
		mycel_arena_free(a);
		a = NULL;
		rv = mycel_arena_new(64u << 10, &a);
		if (rv == 0)
			rv = decode_event(msg, len, a, &ev);
		nng_free(msg, len);
		if (rv == MYCEL_ENOMEM) {
			ret = die(EXIT_FAIL, "out of memory");
			break;
		}
		if (rv != 0) {
			fprintf(stderr, "%s: ignoring a malformed event: %s\n", cli_prog, mycel_strerror(rv));
			continue;
		}
		if ((domain != NULL && strcmp(domain, ev.domain) != 0) ||
		    (kind != NULL && strcmp(kind, ev.kind) != 0))
			continue;
		print_event(&ev, json);
		seen++;
	}
	mycel_arena_free(a);
	nng_close(sock);
	return ret;
}
