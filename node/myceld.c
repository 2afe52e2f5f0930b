/*
 * myceld — the mycel node (DESIGN.md §5-6): parses its arguments, logs in logfmt to
 * stderr, and runs the node (include/mycel/node.h) until SIGTERM or SIGINT.
 *
 *   myceld --data DIR [--listen URL] [--admin URL] [--events URL] [--workers N]
 *          [--admin-workers N] [--peer URL]...
 *
 * When it serves, it prints `ready url=URL admin=URL` on stdout, with ` events=URL`
 * appended when the change stream is on (--events, off by default).
 * Exit codes: 0 stopped by a signal, 1 failure, 2 usage error.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mycel/error.h"
#include "mycel/node.h"

static const char usage[] =
    "usage: myceld --data DIR [--listen URL] [--admin URL] [--events URL] [--workers N]\n"
    "              [--admin-workers N] [--peer URL]...\n";

static void log_line(void *ctx, mycel_node_level level, const char *line)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	struct timespec ts;
	struct tm tm;
	char when[32];
	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "ts=%s.%03ldZ level=%s %s\n", when, ts.tv_nsec / 1000000L,
		names[(unsigned)level < 4 ? (unsigned)level : 3], line);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
					     {"listen", required_argument, NULL, 'l'},
					     {"admin", required_argument, NULL, 'a'},
					     {"events", required_argument, NULL, 'e'},
					     {"workers", required_argument, NULL, 'w'},
					     {"admin-workers", required_argument, NULL, 'W'},
					     {"peer", required_argument, NULL, 'p'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	mycel_node_opts o = {.log = log_line};
	static const char *peers[MYCEL_NODE_PEERS_MAX];
	int c;
	while ((c = getopt_long(argc, argv, "d:l:a:e:w:W:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.data = optarg;
			break;
		case 'l':
			o.listen = optarg;
			break;
		case 'a':
			o.admin = optarg;
			break;
		case 'e':
			o.events = optarg;
			break;
		case 'w': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end != '\0' || v < 1 || v > (long)MYCEL_NODE_WORKERS_MAX) {
				fprintf(stderr, "myceld: --workers must be 1..%u\n%s",
					MYCEL_NODE_WORKERS_MAX, usage);
				return 2;
			}
			o.workers = (unsigned)v;
			break;
		}
		case 'W': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end != '\0' || v < 1 || v > (long)MYCEL_NODE_WORKERS_MAX) {
				fprintf(stderr, "myceld: --admin-workers must be 1..%u\n%s",
					MYCEL_NODE_WORKERS_MAX, usage);
				return 2;
			}
			o.admin_workers = (unsigned)v;
			break;
		}
		case 'p':
			if (o.n_peers >= MYCEL_NODE_PEERS_MAX) {
				fprintf(stderr, "myceld: at most %u --peer\n", MYCEL_NODE_PEERS_MAX);
				return 2;
			}
			peers[o.n_peers++] = optarg;
			o.peers = peers;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (o.data == NULL || optind != argc) {
		fputs(usage, stderr);
		return 2;
	}

	/* Signals go to sigwait below, never to a worker or an nng thread. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	char why[1024] = "";
	mycel_node *n = NULL;
	int rv = mycel_node_open(&o, &n, why, sizeof(why));
	if (rv != 0) {
		fprintf(stderr, "myceld: %s\n", why[0] ? why : mycel_strerror(rv));
		return 1;
	}
	if ((rv = mycel_node_start(n)) != 0) {
		fprintf(stderr, "myceld: cannot start workers: %s\n", mycel_strerror(rv));
		mycel_node_close(n);
		return 1;
	}
	const char *ev = mycel_node_events_url(n);
	printf("ready url=%s admin=%s%s%s\n", mycel_node_url(n), mycel_node_admin_url(n),
	       ev != NULL ? " events=" : "", ev != NULL ? ev : "");
	fflush(stdout);

	int sig = 0;
	sigwait(&set, &sig);
	log_line(NULL, MYCEL_NODE_INFO,
		 sig == SIGTERM ? "msg=\"stopping\" signal=TERM" : "msg=\"stopping\" signal=INT");
	mycel_node_close(n);
	return 0;
}
