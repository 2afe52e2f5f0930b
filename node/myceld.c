/*
 * myceld — the mycel node (DESIGN.md §5-6): parses its arguments, logs in logfmt to
 * stderr, and runs the node (include/mycel/node.h) until SIGTERM or SIGINT.
 *
 *   myceld [--config FILE] [--data DIR] [--listen URL] [--admin URL] [--events URL]
 *          [--workers N] [--admin-workers N] [--peer URL]... [--log-level LEVEL]
 *          [--print-config]
 *
 * Settings come from the flags, then the configuration file (include/mycel/config.h),
 * then the defaults. --print-config prints the settings that would be used, as YAML, and
 * exits. When it serves, it prints `ready url=URL admin=URL` on stdout, with ` events=URL`
 * appended when the change stream is on (--events, off by default).
 * Exit codes: 0 stopped by a signal, 1 failure, 2 usage or configuration error.
 */
#include <getopt.h>
#include <stdbool.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "mycel/config.h"
#include "mycel/error.h"
#include "mycel/node.h"

static const char usage[] =
    "usage: myceld [--config FILE] [--data DIR] [--listen URL] [--admin URL] [--events URL]\n"
    "              [--workers N] [--admin-workers N] [--peer URL]...\n"
    "              [--log-level debug|info|warn|error] [--print-config]\n";

/* Lines below this level are not written. */
static mycel_node_level min_level = MYCEL_NODE_INFO;

static void log_line(void *ctx, mycel_node_level level, const char *line)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	struct timespec ts;
	struct tm tm;
	char when[32];
	(void)ctx;
	if (level < min_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "ts=%s.%03ldZ level=%s %s\n", when, ts.tv_nsec / 1000000L,
		names[(unsigned)level < 4 ? (unsigned)level : 3], line);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"log-level", required_argument, NULL, 'L'},
					     {"print-config", no_argument, NULL, 'P'},
					     {"data", required_argument, NULL, 'd'},
					     {"listen", required_argument, NULL, 'l'},
					     {"admin", required_argument, NULL, 'a'},
					     {"events", required_argument, NULL, 'e'},
					     {"workers", required_argument, NULL, 'w'},
					     {"admin-workers", required_argument, NULL, 'W'},
					     {"peer", required_argument, NULL, 'p'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	/* a daemon exits: a socket that nng cannot close within a second is left to the exit */
	mycel_node_opts o = {.log = log_line, .close_wait_ms = 1000};
	const char *config = NULL;
	int level = -1;
	bool print = false;
	static const char *peers[MYCEL_NODE_PEERS_MAX];
	int c;
	while ((c = getopt_long(argc, argv, "c:d:l:a:e:w:W:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'L': {
			mycel_node_level lv;
			if (mycel_node_level_parse(optarg, &lv) != 0) {
				fprintf(stderr, "myceld: --log-level must be debug, info, warn or error\n%s",
					usage);
				return 2;
			}
			level = (int)lv;
			break;
		}
		case 'P':
			print = true;
			break;
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
	if (optind != argc) {
		fputs(usage, stderr);
		return 2;
	}

	/* The file fills in what the flags left unset. */
	mycel_node_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.log_level = -1;
	if (config != NULL) {
		mycel_diags d;
		mycel_diags_init(&d, 0);
		int rv = mycel_node_config_load(config, &cfg, &d);
		if (rv != 0) {
			for (size_t i = 0; i < d.len; i++)
				fprintf(stderr, "myceld: %s:%u:%u: %s: %s\n", config,
					(unsigned)d.items[i].line, (unsigned)d.items[i].col,
					d.items[i].pointer[0] ? d.items[i].pointer : "/",
					d.items[i].message);
			if (d.dropped > 0)
				fprintf(stderr, "myceld: %s: (%zu more)\n", config, d.dropped);
			if (d.len == 0)
				fprintf(stderr, "myceld: %s: %s\n", config, mycel_strerror(rv));
			mycel_diags_fini(&d);
			return 2;
		}
		mycel_diags_fini(&d);
		if (o.data == NULL)
			o.data = cfg.data;
		if (o.listen == NULL)
			o.listen = cfg.listen;
		if (o.admin == NULL)
			o.admin = cfg.admin;
		if (o.events == NULL)
			o.events = cfg.events;
		if (o.workers == 0)
			o.workers = cfg.workers;
		if (o.admin_workers == 0)
			o.admin_workers = cfg.admin_workers;
		if (o.n_peers == 0 && cfg.n_peers > 0) { /* --peer replaces the file's list */
			o.peers = (const char *const *)cfg.peers;
			o.n_peers = cfg.n_peers;
		}
		if (level < 0)
			level = cfg.log_level;
		o.gossip = cfg.gossip; /* no flags for these */
	}
	if (level >= 0)
		min_level = (mycel_node_level)level;
	if (o.data == NULL) {
		fprintf(stderr, "myceld: no data directory: give --data DIR or `data:` in --config\n%s",
			usage);
		mycel_node_config_fini(&cfg);
		return 2;
	}
	if (print) {
		static const char *const names[] = {"debug", "info", "warn", "error"};
		printf("data: %s\n", o.data);
		printf("listen: %s\n", o.listen ? o.listen : MYCEL_NODE_LISTEN_DEFAULT);
		if (o.admin != NULL)
			printf("admin: %s\n", o.admin);
		else
			printf("admin: ipc://%s/%s\n", o.data, MYCEL_NODE_ADMIN_SOCK);
		if (o.events != NULL)
			printf("events: %s\n", o.events);
		printf("workers: %u\n", o.workers ? o.workers : MYCEL_NODE_WORKERS_DEFAULT);
		printf("admin_workers: %u\n",
		       o.admin_workers ? o.admin_workers : MYCEL_NODE_ADMIN_WORKERS_DEFAULT);
		printf("log_level: %s\n", names[min_level]);
		printf("peers:%s\n", o.n_peers == 0 ? " []" : "");
		for (size_t i = 0; i < o.n_peers; i++)
			printf("  - %s\n", o.peers[i]);
		mycel_gossip_opts g;
		char gwhy[256];
		if (mycel_gossip_opts_check(&o.gossip, gwhy, sizeof(gwhy)) != 0) {
			fprintf(stderr, "myceld: gossip: %s\n", gwhy);
			mycel_node_config_fini(&cfg);
			return 2;
		}
		mycel_gossip_opts_resolve(&o.gossip, &g);
		printf("gossip:\n");
		printf("  enabled: %s\n", g.off ? "false" : "true");
		printf("  interval_ms: %u\n", g.interval_ms);
		printf("  fanout: %u\n", g.fanout);
		printf("  push: %s\n", g.no_push ? "false" : "true");
		printf("  max_hops: %u\n", g.max_hops);
		printf("  batch_entries: %u\n", g.batch_entries);
		printf("  batch_bytes: %llu\n", (unsigned long long)g.batch_bytes);
		printf("  rpc_timeout_ms: %u\n", g.rpc_timeout_ms);
		printf("  backoff_max_ms: %u\n", g.backoff_max_ms);
		printf("  reject_limit: %u\n", g.reject_limit);
		printf("  ignore_ms: %u\n", g.ignore_ms);
		printf("  verify_threads: %u\n", g.verify_threads);
		mycel_node_config_fini(&cfg);
		return 0;
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
		mycel_node_config_fini(&cfg);
		return 1;
	}
	if ((rv = mycel_node_start(n)) != 0) {
		fprintf(stderr, "myceld: cannot start workers: %s\n", mycel_strerror(rv));
		mycel_node_close(n);
		mycel_node_config_fini(&cfg);
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
	mycel_node_stop(n); /* everything acknowledged is durable once this returns */
	size_t stalled = mycel_node_stalled(n);
	mycel_node_close(n);
	mycel_node_config_fini(&cfg);
	if (stalled > 0) {
		/*
		 * a socket nng could not close in time (nanomsg/nng#1498) is still nng's: end
		 * without exit handlers rather than tear down what its threads hold
		 */
		fflush(NULL);
		_exit(0);
	}
	return 0;
}
