/*
 * What the commands of the mycel CLI share: output helpers, opening a store from --data,
 * the options every catalog command takes and the target they resolve to (a node, or a
 * store served in-process). Private to node/: the library API is include/mycel.
 *
 * Conventions: functions that fail print why (through die or usage_error) and return the
 * exit code, EXIT_FAIL or EXIT_USAGE; 0 is success.
 */
#ifndef MYCEL_NODE_CLI_COMMON_H
#define MYCEL_NODE_CLI_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mycel/client.h"
#include "mycel/domain.h"
#include "mycel/key.h"
#include "mycel/rpc.h"
#include "mycel/store.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define MYCEL_VERSION "0.1.0"

/* The program's name in messages ("mycel"). */
extern const char *const cli_prog;
/* Colours on: stdout is a terminal and NO_COLOR is unset (set by main). */
extern bool cli_color;

static inline const char *c_red(void) { return cli_color ? "\033[31m" : ""; }
static inline const char *c_green(void) { return cli_color ? "\033[32m" : ""; }
static inline const char *c_dim(void) { return cli_color ? "\033[2m" : ""; }
static inline const char *c_bold(void) { return cli_color ? "\033[1m" : ""; }
static inline const char *c_off(void) { return cli_color ? "\033[0m" : ""; }

/* A decoded message string ("" when absent). */
static inline const char *S(const char *p)
{
	return p != NULL ? p : "";
}

/* Prints `mycel: MESSAGE` to stderr, after flushing stdout; returns code. */
int die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints `mycel CMD: MESSAGE` and a pointer to `mycel help` to stderr; returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints s as a JSON string (with quotes). */
void json_str(FILE *f, const char *s);

/* Prints untrusted text for a terminal: control characters escaped. */
void safe_str(FILE *f, const char *s);

/* Prints an untrusted message for a terminal: control characters but newlines escaped. */
void safe_lines(FILE *f, const char *s);

/* Formats ms since the epoch as UTC ISO 8601 with milliseconds into out (n bytes). */
void iso_time(uint64_t ms, char *out, size_t n);

/* ---- opening a store from --data ------------------------------------------------ */

typedef struct opened {
	mycel_domain dom; /* set if DIR is a domain directory */
	bool has_dom;
	mycel_store *store;
	const char *store_path;
} opened;

/* $MYCEL_DATA, or ".mycel". */
const char *default_data(void);

/*
 * Opens DIR, a domain directory (config.yaml) or a bare store (data.mdb), into o. On
 * failure prints why and returns the exit code; o needs no close_data then.
 */
int open_data(const char *dir, bool readonly, opened *o);

/* Closes what open_data opened. */
void close_data(opened *o);

/* ---- the target of a command: a node, or a store served in-process ------------------ */

/* The long options every catalog command takes (getopt_long values). */
enum {
	O_DATA = 1000,
	O_NODE,
	O_JSON,
	O_TIMEOUT,
	O_NOVERIFY,
	O_MESHID,
};

#define COMMON_OPTS                                                                         \
	{"data", required_argument, NULL, O_DATA}, {"node", required_argument, NULL, O_NODE},    \
	    {"json", no_argument, NULL, O_JSON}, {"timeout", required_argument, NULL, O_TIMEOUT}, \
	    {"no-verify", no_argument, NULL, O_NOVERIFY},                                        \
	    {"mesh-id", required_argument, NULL, O_MESHID}

#define COMMON_USAGE "[--node URL | --data DIR] [--json] [--timeout MS] [--mesh-id HEX] [--no-verify]"

typedef struct common {
	const char *data; /* --data */
	const char *node; /* --node */
	bool json;
	uint64_t timeout_ms;
	bool no_verify;
	bool has_mesh_id;
	uint8_t mesh_id[MYCEL_HASH_LEN];
} common;

/* Handles one common option: 1 if c was one, 0 if not, EXIT_USAGE after a usage error. */
int common_opt(int c, const char *cmd, common *co);

typedef struct target {
	mycel_client *c;
	bool direct;   /* a store opened here */
	opened o;      /* direct */
	mycel_key *key; /* direct, domain directory */
	mycel_rpc_ctx ctx;
	char label[4200]; /* the store's path or the node's URL, for messages */
	bool verify;
} target;

/*
 * Opens the target of cmd: --node URL > --data DIR > $MYCEL_NODE > the default directory
 * (through its admin socket while a myceld holds its lock file, else directly). write: the
 * store is opened for writing (direct mode), for the Admin methods. On failure prints why
 * and returns the exit code; t needs no close_target then.
 */
int open_target(const common *co, const char *cmd, bool write, target *t);

/* Closes what open_target opened and clears t. */
void close_target(target *t);

/*
 * The failure of a typed call: `mycel: CMD: STATUS_NAME: message` for a status, or
 * `mycel: CMD: reply refused: ...` for a reply that failed verification. Returns 1.
 */
int call_failed(const char *cmd, int rv, const mycel_result *r);

/* True when a process holds the lock of DIR/myceld.pid (a myceld serves DIR). */
bool node_running(const char *dir);

/* The domain the client's charter names for key, or NULL. */
const char *charter_domain(const mycel_client *c, const uint8_t *key, size_t len);

/* A fresh arena for one reply (NULL when out of memory). */
mycel_arena *reply_arena(void);

/* The Status of the target, in a (for the heads); on failure prints why, returns 1. */
int target_status(target *t, const char *cmd, mycel_arena *a, mycel_msg_StatusReply *st);

/* DOMAIN/ID into its parts: domain (dn bytes) and *id pointing into ref; -1 if malformed. */
int split_ref(const char *ref, char *domain, size_t dn, const char **id);

/* ---- the commands: (argc, argv) from the command's name on; return the exit code ---- */

/* node/cmd_local.c: files and stores on this machine */
int cmd_keygen(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_charter(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_lint(int argc, char **argv);
int cmd_pull(int argc, char **argv);

/* node/cmd_catalog.c: reading the catalog of a node or store */
int cmd_log(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_peers(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_lineage(int argc, char **argv);

/* node/cmd_audit.c: audit bundles; verify_bundle_file is `mycel verify FILE` */
int cmd_audit(int argc, char **argv);
int verify_bundle_file(const char *path, bool json);

/* node/cmd_write.c: writing through a node or to a domain directory */
int cmd_publish(int argc, char **argv);
int cmd_deprecate(int argc, char **argv);
int cmd_retire(int argc, char **argv);
int cmd_reindex(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_transfer(int argc, char **argv);
int cmd_accept(int argc, char **argv);

/* node/cmd_watch.c: a node's change events */
int cmd_watch(int argc, char **argv);

/* node/cmd_diff.c: how a contract changed between two files */
int cmd_diff(int argc, char **argv);

#endif
