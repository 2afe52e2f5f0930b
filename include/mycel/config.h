/*
 * mycel/config.h — a node's configuration file (myceld --config FILE).
 *
 * The file is YAML (or JSON), read with mycel/doc.h, a map of these keys, all optional:
 *
 *   data: sales                     # domain directory or store; relative to the file's directory
 *   listen: tcp://127.0.0.1:7401    # public RPC (tcp:// or ipc://)
 *   admin: ipc:///run/mycel/admin.sock   # admin RPC, ipc:// only; relative ipc paths are
 *                                   #   resolved against the file's directory too
 *   events: tcp://127.0.0.1:7402    # change stream (pub0); absent: off
 *   workers: 4                      # public-socket workers, 1..MYCEL_NODE_WORKERS_MAX
 *   admin_workers: 4                # admin-socket workers, 1..MYCEL_NODE_WORKERS_MAX
 *   log_level: info                 # debug | info | warn | error
 *   peers:                          # seed peers (tcp:// URLs), at most MYCEL_CONFIG_PEERS_MAX
 *     - tcp://10.0.0.2:7401
 *   gossip:                         # the gossip engine (mycel_gossip_opts; ranges in node.h)
 *     enabled: true                 #   false: no engine, peers are only listed
 *     interval_ms: 1000             #   round period, jittered ±25 %
 *     fanout: 3                     #   peers per round and per push
 *     push: true                    #   eager push of new entries
 *     max_hops: 16
 *     batch_entries: 500            #   per Pull/Push message
 *     batch_bytes: 4194304
 *     rpc_timeout_ms: 2000
 *     backoff_max_ms: 60000
 *     reject_limit: 50              #   rejects a minute before a peer is ignored
 *     ignore_ms: 300000
 *     verify_threads: 0             #   0: the number of CPUs
 *
 * Anything else is refused: an unknown key (with the nearest known key suggested), a value
 * of the wrong type, a number out of range, a URL with another scheme or over
 * MYCEL_NODE_URL_MAX bytes, a duplicate peer. Every problem is a finding naming the line
 * and column of the value and its JSON pointer, all reported at once.
 *
 * Programs let flags override the file: a value given on the command line wins over the
 * file's, which wins over the built-in default.
 */
#ifndef MYCEL_CONFIG_H
#define MYCEL_CONFIG_H

#include <stddef.h>

#include "mycel/diag.h"
#include "mycel/node.h"

/* Most seed peers a configuration may list. */
#define MYCEL_CONFIG_PEERS_MAX 4096u
/* Largest configuration file read. */
#define MYCEL_CONFIG_BYTES_MAX ((size_t)(1u << 20))

typedef struct mycel_node_config {
	char *data;             /* NULL when absent; otherwise absolute or as written if base_dir is NULL */
	char *listen;           /* NULL when absent */
	char *admin;            /* NULL when absent */
	char *events;           /* NULL when absent */
	unsigned workers;       /* 0 when absent */
	unsigned admin_workers; /* 0 when absent */
	int log_level;          /* a mycel_node_level, or -1 when absent */
	char **peers;           /* n_peers URLs, in file order */
	size_t n_peers;
	mycel_gossip_opts gossip; /* zero fields when absent */
} mycel_node_config;

/*
 * Parses configuration text (n bytes). Relative `data` paths and relative ipc:// paths of
 * `admin` are joined to base_dir when it is not NULL. On success fills *out (the caller
 * finishes it with mycel_node_config_fini). On failure returns EFORMAT (findings in d),
 * ETOOBIG (text over MYCEL_CONFIG_BYTES_MAX or a parser limit) or ENOMEM, and *out is
 * untouched.
 */
int mycel_node_config_parse(const char *text, size_t n, const char *base_dir,
			    mycel_node_config *out, mycel_diags *d);

/*
 * Reads and parses the file at path, resolving relative paths against the file's own
 * directory. ENOTFOUND / EIO when it cannot be read, and the codes above.
 */
int mycel_node_config_load(const char *path, mycel_node_config *out, mycel_diags *d);

/* Frees what a configuration holds and zeroes it (log_level -1). Accepts NULL. */
void mycel_node_config_fini(mycel_node_config *c);

/* "debug", "info", "warn", "error" -> 0 and the level; EINVAL for anything else. */
int mycel_node_level_parse(const char *s, mycel_node_level *out);

#endif
