/*
 * mycel/rpc.h — the transport-independent RPC layer (DESIGN.md §5, PROTOCOL.md §9).
 *
 * A request is the canonical MessagePack array
 *   [1, method (str), deadline_ms (uint: absolute unix ms, 0 = none), metadata (map of str), body (bin)]
 * and a reply
 *   [1, status (uint), message (str), body (bin or nil)]
 * where body is the encoded request or reply message of the method (mycel_proto.h) and
 * status one of gRPC's codes. mycel_rpc_serve turns any request bytes into reply bytes;
 * the daemon only moves those bytes over its sockets.
 */
#ifndef MYCEL_RPC_H
#define MYCEL_RPC_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/key.h"
#include "mycel/store.h"

#define MYCEL_RPC_VERSION 1

/* The software version Status reports ("mycel 0.1.0"); keep in step with meson.build. */
#define MYCEL_RPC_NODE_VERSION "0.1.0"

/* gRPC status codes. */
typedef enum mycel_rpc_status {
	MYCEL_RPC_OK = 0,
	MYCEL_RPC_CANCELLED = 1,
	MYCEL_RPC_UNKNOWN = 2,
	MYCEL_RPC_INVALID_ARGUMENT = 3,
	MYCEL_RPC_DEADLINE_EXCEEDED = 4,
	MYCEL_RPC_NOT_FOUND = 5,
	MYCEL_RPC_ALREADY_EXISTS = 6,
	MYCEL_RPC_PERMISSION_DENIED = 7,
	MYCEL_RPC_RESOURCE_EXHAUSTED = 8,
	MYCEL_RPC_FAILED_PRECONDITION = 9,
	MYCEL_RPC_UNIMPLEMENTED = 12,
	MYCEL_RPC_INTERNAL = 13,
	MYCEL_RPC_UNAVAILABLE = 14,
	MYCEL_RPC_UNAUTHENTICATED = 16,
} mycel_rpc_status;

/* "OK", "INVALID_ARGUMENT", ...; "?" for a code not listed above. */
const char *mycel_rpc_status_name(uint64_t status);

/* The status for a libmycel result (0 or a MYCEL_E... code); UNKNOWN for codes it does not know. */
mycel_rpc_status mycel_rpc_status_of(int err);

/* Largest request mycel_rpc_serve accepts: a body of MYCEL_BODY_MAX plus room for the rest. */
#define MYCEL_RPC_REQUEST_MAX ((size_t)(9u << 20))
/* Most metadata pairs in a request, and the bounds on their keys and values (bytes). */
#define MYCEL_RPC_META_MAX 32
#define MYCEL_RPC_META_KEY_MAX 64
#define MYCEL_RPC_META_VALUE_MAX 4096
#define MYCEL_RPC_METHOD_MAX 256
#define MYCEL_RPC_MESSAGE_MAX 4096

/* A metadata pair; after decoding both point into the request bytes (not NUL-terminated). */
typedef struct mycel_rpc_meta {
	const char *key;
	size_t key_len;
	const char *value;
	size_t value_len;
} mycel_rpc_meta;

typedef struct mycel_rpc_request {
	const char *method; /* not NUL-terminated after decoding */
	size_t method_len;
	uint64_t deadline_ms;
	mycel_rpc_meta meta[MYCEL_RPC_META_MAX]; /* keys in strictly increasing bytewise order */
	size_t n_meta;
	const uint8_t *body;
	size_t body_len;
} mycel_rpc_request;

typedef struct mycel_rpc_reply {
	uint64_t status;
	const char *message; /* not NUL-terminated after decoding */
	size_t message_len;
	bool has_body;       /* false: body was nil */
	const uint8_t *body;
	size_t body_len;
} mycel_rpc_reply;

/*
 * Appends the canonical request envelope to b. EINVAL for a NULL pointer with a
 * non-zero length or too many metadata pairs, EKEYORDER if the metadata keys are
 * not strictly increasing, ETOOBIG for a part over its bound; the writers' codes.
 */
int mycel_rpc_request_encode(const mycel_rpc_request *r, mycel_buf *b);

/*
 * Decodes exactly one canonical request envelope of n bytes (n at most max_len, else
 * ETOOBIG) into *out, pointing into p. EVERSION for a version other than 1, ETYPE /
 * EFORMAT for a wrong shape, ETOOBIG for a part over its bound, EKEYORDER for metadata
 * keys out of order, and the reader's codes (ETRUNC, ETRAILING, ENONCANON, EUTF8, ...).
 * On failure writes a one-line reason to why (if why_len > 0).
 */
int mycel_rpc_request_decode(const uint8_t *p, size_t n, size_t max_len, mycel_rpc_request *out,
			     char *why, size_t why_len);

/* Appends the canonical reply envelope to b (body nil unless has_body). */
int mycel_rpc_reply_encode(const mycel_rpc_reply *r, mycel_buf *b);

/* Decodes exactly one canonical reply envelope, as mycel_rpc_request_decode does. */
int mycel_rpc_reply_decode(const uint8_t *p, size_t n, size_t max_len, mycel_rpc_reply *out,
			   char *why, size_t why_len);

/*
 * Serves one request: decodes the envelope (garbage, truncation, a wrong version:
 * INVALID_ARGUMENT; over MYCEL_RPC_REQUEST_MAX: RESOURCE_EXHAUSTED), finds the method
 * (unknown: UNIMPLEMENTED; an Admin method when !admin_socket: PERMISSION_DENIED), checks
 * the deadline against now_ms (deadline_ms != 0 and <= now_ms: DEADLINE_EXCEEDED), decodes
 * the request message (INVALID_ARGUMENT or RESOURCE_EXHAUSTED with the decoder's reason),
 * calls the method's handler (none yet: UNIMPLEMENTED) and encodes its reply.
 *
 * reply must be initialised by the caller (mycel_buf_init); it is reset and receives
 * exactly one reply envelope. A reply message that does not fit reply->limit becomes a
 * RESOURCE_EXHAUSTED reply. Returns 0 whenever a reply envelope was written (whatever its
 * status), or ENOMEM / ETOOBIG if not even an error reply fits.
 */
int mycel_rpc_serve(mycel_store *s, const uint8_t *req, size_t n, bool admin_socket,
		    uint64_t now_ms, mycel_buf *reply);

/*
 * What serving may use beyond the store: the domain's name and signing key, for the Admin
 * methods that write into its feed (Publish, Deprecate, Retire), and the mutex every write
 * (those and Reindex) is made under, so one writer at a time. key and domain may be NULL
 * (a bare store: those Admin methods reply FAILED_PRECONDITION); writer may be NULL when
 * the caller serves from one thread.
 */
/*
 * One successful Admin write, reported to mycel_rpc_ctx.on_change after its commit, by the
 * one thread that writes (the writer thread, or the caller holding the writer mutex), so
 * changes are reported in feed order: the new entry, the document's id and version, and
 * its status after the write ("published", "deprecated", "retired"). Everything is only
 * valid during the call.
 */
typedef struct mycel_rpc_change {
	const char *domain;
	const mycel_entry *entry;
	const char *id;
	const char *version;
	const char *status;
} mycel_rpc_change;

typedef void (*mycel_rpc_change_fn)(void *arg, const mycel_rpc_change *ch);

typedef struct mycel_rpc_ctx {
	mycel_store *store;
	const mycel_key *key;
	const char *domain;
	pthread_mutex_t *writer;
	mycel_rpc_change_fn on_change; /* may be NULL; must not block (called by the writer) */
	void *on_change_arg;
	/*
	 * The node's writer thread (internal, src/writer.h), or NULL: when set, the Admin
	 * writes are handed to it (group commit) instead of being made under writer.
	 */
	struct mycel__writer *wq;
	/* Peer URLs the node was given (seeds), reported by Admin/Peers and Mesh/Peers. */
	const char *const *peers;
	size_t n_peers;
	uint64_t started_ms; /* unix ms the node started serving; 0: unknown (Status omits uptime) */
	/*
	 * Gossip (internal, src/mesh.h): the frontier the Mesh handlers answer Digest from (NULL:
	 * computed from the store on each call), and the engine's callbacks (NULL: no gossip).
	 */
	struct mycel__frontier *frontier;
	const struct mycel__mesh_ops *mesh_ops;
	void *mesh_arg;
	const char *self_url; /* this node's public URL (never added as its own peer) */
	/*
	 * The file of key (a domain directory's key.secret), for Admin/KeyRotate: NULL, no
	 * rotation. A rotation switches *key to the next key in place (the writer's doing).
	 */
	const char *key_path;
} mycel_rpc_ctx;

/* mycel_rpc_serve with a context; mycel_rpc_serve(s, ...) is this with {s, NULL, NULL, NULL}. */
int mycel_rpc_serve_ctx(const mycel_rpc_ctx *ctx, const uint8_t *req, size_t n, bool admin_socket,
			uint64_t now_ms, mycel_buf *reply);

/* Appends an error reply envelope (nil body) with a message cut to MYCEL_RPC_MESSAGE_MAX. */
int mycel_rpc_reply_error(mycel_buf *b, mycel_rpc_status status, const char *message);

#endif
