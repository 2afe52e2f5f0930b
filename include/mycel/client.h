/*
 * mycel/client.h — the libmycel client (DESIGN.md §5): calls a node's RPC, with a deadline,
 * and checks every catalog entry a reply carries against the mesh's charter before the
 * caller sees it.
 *
 * Two transports, one behaviour: a client opened with mycel_client_open talks to a node
 * over nng req0 (tcp:// or ipc://); one opened with mycel_client_open_local serves each
 * call in-process with mycel_rpc_serve_ctx on a store the caller opened (as the admin
 * socket does), so a program that formats replies prints the same whether it reads a node
 * or a store directly.
 *
 * Raw calls: mycel_client_call sends encoded bytes and returns the status and the reply
 * bytes. Transport failures are reported the way gRPC clients report them, as a status
 * (UNAVAILABLE, DEADLINE_EXCEEDED), so a caller handles one kind of outcome per call.
 *
 * Typed calls (mycel_client_get, ...): encode the generated request message
 * (mycel_proto.h), call with the client's timeout, decode the reply message into the
 * caller's arena (strings and lists of *out point into it), and, unless verification is
 * off, verify it (below). Each returns:
 *   0 with res->status == MYCEL_RPC_OK: *out holds the verified reply;
 *   0 with another res->status: the node's (or the transport's) status, res->message
 *     saying why; *out is untouched;
 *   a negative MYCEL_E... code: the call could not be made (EINVAL, ENOMEM), or the reply
 *     does not decode (its decoder's code) or fails verification (EFORMAT, EBADSIG,
 *     EHASH, EADMIT, ECHARTER, ...); res->message names what failed (for an entry: its
 *     domain, feed, seq and the reason); *out must not be used.
 *
 * Verification (on by default). The client holds a charter: the store's when the client
 * is local, one given with mycel_client_set_charter, or one fetched with
 * mycel_client_fetch_charter (Mesh/Charter, optionally pinned by mesh id). Every Entry
 * of a Get, History, Publish, Deprecate, Retire or Pull reply is checked: strict entry
 * decoding; the feed admitted by the charter, under the domain the reply claims; the
 * Ed25519 signature by the key that signs the feed at that seq (PROTOCOL.md §5.4: the client
 * learns a feed's key entries with Mesh/Pull key_feeds and checks them as a chain from
 * genesis, once per feed, again when an entry does not verify); the body present and matching the body hash;
 * and, for documents and lifecycle entries, that the body is the one the reply says (id,
 * version, domain, kind). Turning it off (mycel_client_set_verify(c, false)) makes the
 * client trust the node blindly: unsafe, for debugging only.
 *
 * A client may be used from several threads at once for raw calls; the typed calls and
 * the setters must not race with each other.
 */
#ifndef MYCEL_CLIENT_H
#define MYCEL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mycel/charter.h"
#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/rpc.h"
#include "mycel_proto.h" /* generated from proto/mycel.idl: the request and reply structs */

typedef struct mycel_client mycel_client;

/* Largest reply envelope a client accepts. */
#define MYCEL_CLIENT_REPLY_MAX ((size_t)(40u << 20))
/* Timeout of a typed call unless mycel_client_set_timeout says otherwise. */
#define MYCEL_CLIENT_TIMEOUT_DEFAULT_MS 10000u

/*
 * Connects to url (tcp://HOST:PORT or ipc://PATH). EINVAL for a URL nng does not accept,
 * EIO when the node cannot be reached (connection refused, no such socket file). nng
 * redials on its own if the connection drops later. The client holds no charter yet.
 */
int mycel_client_open(const char *url, mycel_client **out);

/*
 * Like mycel_client_open, but returns at once: nng dials in the background and redials
 * (every 100 ms at first, backing off to 5 s), and each call waits for the connection
 * within its own deadline (DEADLINE_EXCEEDED when no node answers in time, whether the
 * address refuses, drops or never completes the handshake). For long-lived callers such as
 * the gossip engine, which must never block longer than a call's deadline. EINVAL for a URL
 * nng does not accept, ENOMEM, EIO.
 */
int mycel_client_open_lazy(const char *url, mycel_client **out);

/*
 * A client that serves every call in-process with mycel_rpc_serve_ctx(ctx, ..., admin
 * socket: true, ...). ctx and what it points to are borrowed and must outlive the client.
 * The client's charter is the store's current one (if any), so verification works at once.
 * EINVAL for a NULL ctx or store, ENOMEM.
 */
int mycel_client_open_local(const mycel_rpc_ctx *ctx, mycel_client **out);

/* Closes the client; calls in progress fail. Accepts NULL. */
void mycel_client_close(mycel_client *c);

/* The URL the client talks to, or "local" for an in-process client. Owned by the client. */
const char *mycel_client_url(const mycel_client *c);

/* Timeout of each typed call in ms (0: the default). */
void mycel_client_set_timeout(mycel_client *c, uint64_t ms);

/* Turns verification of replies on (the default) or off (unsafe: trusts the node). */
void mycel_client_set_verify(mycel_client *c, bool on);

/*
 * Sets the charter replies are verified against, from charter file bytes: it must decode
 * and, for version 1, verify as a genesis (threshold reached); mesh_id (may be NULL) pins
 * it: a version-1 charter whose digest is not mesh_id is refused (EPERM). A later version
 * cannot be checked without the chain from genesis and is refused when mesh_id is given
 * (ECHARTER). On failure the client's charter is unchanged and why says what failed.
 */
int mycel_client_set_charter(mycel_client *c, const uint8_t *p, size_t n,
			     const uint8_t *mesh_id, char *why, size_t why_len);

/* How a typed call ended when it returns 0: the node's (or the transport's) status. */
typedef struct mycel_result {
	uint64_t status;                         /* gRPC status (mycel_rpc_status) */
	char message[MYCEL_RPC_MESSAGE_MAX + 1]; /* NUL-terminated; "" when OK */
} mycel_result;

/*
 * Fetches the node's current charter (Mesh/Charter) and sets it as mycel_client_set_charter
 * does; with mesh_id NULL it is trusted on first use. A version > 1 is checked along its
 * chain, fetched from the node too: a genesis (of mesh_id when given), then each step
 * (mycel_charter_verify_next), ending at the charter sent. Returns as the typed calls do;
 * the negative code and res->message when the charter is refused.
 */
int mycel_client_fetch_charter(mycel_client *c, const uint8_t *mesh_id, mycel_result *res);

/* The client's charter (owned by the client; NULL if it has none). */
const mycel_charter *mycel_client_charter(const mycel_client *c);

/*
 * Calls method ("mycel.v1.Catalog/Get") with the encoded request message req[0..n-1],
 * waiting until deadline_ms (absolute unix ms; 0: no deadline, which is also sent).
 * Returns 0 when the call ended with a status, in *out_status: the node's, or
 * DEADLINE_EXCEEDED when no reply came in time, or UNAVAILABLE when the request could
 * not be sent. *out_message (NUL-terminated, "" if none) and *out_body (NULL if the reply
 * had none) are malloc'd and the caller frees them. Returns EINVAL for bad arguments
 * or a method over MYCEL_RPC_METHOD_MAX, ENOMEM, or the decoder's code for a reply that
 * is not a valid envelope; outputs are left untouched then. Nothing is verified.
 */
int mycel_client_call(mycel_client *c, const char *method, uint64_t deadline_ms,
		      const uint8_t *req, size_t n, uint64_t *out_status, char **out_message,
		      uint8_t **out_body, size_t *out_body_len);

/*
 * Typed calls: see the contract at the top. Entries are verified for Get (the shown
 * version's entry is of (domain, id, version) of the reply), History (each entry is its
 * version's), Publish (each is the published document's), Deprecate/Retire (a lifecycle
 * entry of rq's id and version) and Pull (each entry admitted and signed; within one
 * reply, consecutive entries of a feed chain).
 */
int mycel_client_get(mycel_client *c, const mycel_msg_GetRequest *rq, mycel_arena *a,
		     mycel_result *res, mycel_msg_GetReply *out);
int mycel_client_search(mycel_client *c, const mycel_msg_SearchRequest *rq, mycel_arena *a,
			mycel_result *res, mycel_msg_SearchReply *out);
int mycel_client_list(mycel_client *c, const mycel_msg_ListRequest *rq, mycel_arena *a,
		      mycel_result *res, mycel_msg_ListReply *out);
int mycel_client_lineage(mycel_client *c, const mycel_msg_LineageRequest *rq, mycel_arena *a,
			 mycel_result *res, mycel_msg_LineageReply *out);
int mycel_client_history(mycel_client *c, const mycel_msg_HistoryRequest *rq, mycel_arena *a,
			 mycel_result *res, mycel_msg_HistoryReply *out);
int mycel_client_status(mycel_client *c, mycel_arena *a, mycel_result *res,
			mycel_msg_StatusReply *out);
int mycel_client_publish(mycel_client *c, const mycel_msg_PublishRequest *rq, mycel_arena *a,
			 mycel_result *res, mycel_msg_PublishReply *out);
int mycel_client_deprecate(mycel_client *c, const mycel_msg_ChangeStatusRequest *rq,
			   mycel_arena *a, mycel_result *res, mycel_msg_ChangeStatusReply *out);
int mycel_client_retire(mycel_client *c, const mycel_msg_ChangeStatusRequest *rq,
			mycel_arena *a, mycel_result *res, mycel_msg_ChangeStatusReply *out);
/* Admin/CharterPut: a fully signed next charter version for the node to adopt. */
int mycel_client_charter_put(mycel_client *c, const mycel_msg_CharterPutRequest *rq,
			     mycel_arena *a, mycel_result *res, mycel_msg_CharterPutReply *out);
int mycel_client_reindex(mycel_client *c, mycel_arena *a, mycel_result *res,
			 mycel_msg_ReindexReply *out);
int mycel_client_peers(mycel_client *c, mycel_arena *a, mycel_result *res,
		       mycel_msg_PeersReply *out);
int mycel_client_pull(mycel_client *c, const mycel_msg_PullRequest *rq, mycel_arena *a,
		      mycel_result *res, mycel_msg_PullReply *out);
/*
 * Admin/KeyRotate (PROTOCOL.md §5.4): the node rotates its domain's signing key. The reply's
 * key entry is verified as any entry (signed by the key before it), and its body must name
 * next_key with next_key's reverse signature.
 */
int mycel_client_key_rotate(mycel_client *c, mycel_arena *a, mycel_result *res,
			    mycel_msg_KeyRotateReply *out);
/*
 * Admin/Transfer and Admin/Accept (PROTOCOL.md §5.5): an offer of one of the node's
 * domain's products to another domain, or its acceptance of an offer. The reply's transfer
 * entry is verified as any entry.
 */
int mycel_client_transfer(mycel_client *c, const mycel_msg_TransferRequest *rq, mycel_arena *a,
			  mycel_result *res, mycel_msg_TransferReply *out);
int mycel_client_accept(mycel_client *c, const mycel_msg_AcceptRequest *rq, mycel_arena *a,
			mycel_result *res, mycel_msg_TransferReply *out);

/*
 * What a verified entry is expected to be. Every field may be NULL / 0: not checked.
 * kind is the entry kind ("contract", "product", "lifecycle"); for lifecycle entries
 * id and version are those of the document whose status changes.
 */
typedef struct mycel_entry_expect {
	const char *domain;
	const char *kind;
	const char *id;
	const char *version;
} mycel_entry_expect;

/*
 * Verifies one Entry message against charter ch: decodes the entry strictly into *out_e
 * (may be NULL), finds the domain the charter admits its feed for, checks the signature
 * under the feed id (the genesis key: for an entry after a key rotation use
 * mycel_client_verify_entry_key with the key of its seq), the body and what exp expects. Returns 0 or the failing check's code, with why naming
 * the domain, feed, seq and reason. Used by the typed calls; public for tools that verify
 * bundles of entries themselves.
 */
/*
 * mycel_client_verify_entry with the signature checked under key, the key that signs the
 * entry's feed at its seq (PROTOCOL.md §5.4; e.g. from mycel_feedkey_step), instead of the
 * feed id; key NULL: the feed id.
 */
int mycel_client_verify_entry_key(const mycel_charter *ch, const mycel_msg_Entry *m,
				  const mycel_entry_expect *exp, const uint8_t *key, char *why,
				  size_t why_len, mycel_entry *out_e);
int mycel_client_verify_entry(const mycel_charter *ch, const mycel_msg_Entry *m,
			      const mycel_entry_expect *exp, char *why, size_t why_len,
			      mycel_entry *out_e);

#endif
