/*
 * rpc_int.h — the handlers behind mycel_rpc_serve (internal).
 */
#ifndef MYCEL_RPC_INT_H
#define MYCEL_RPC_INT_H

#include <stddef.h>

#include "mycel/codec.h"
#include "mycel/rpc.h"
#include "mycel/store.h"
#include "mycel_proto.h"

/*
 * A handler reads the decoded request req and fills *reply (the method's reply struct,
 * zeroed, allocated in a); everything it points to must live in a. Returns MYCEL_RPC_OK
 * or another status with a message in why.
 */
typedef mycel_rpc_status (*mycel_rpc_handler)(mycel_store *s, mycel_arena *a, const void *req,
					      void *reply, char *why, size_t why_len);

/* The handler of method m ("mycel.v1.Catalog/Get"), or NULL if it has none yet. */
mycel_rpc_handler mycel_rpc_catalog_handler(const mycel_method *m);

/* An Admin handler: as above, with the serving context (never NULL; ctx->store set). */
typedef mycel_rpc_status (*mycel_rpc_admin_handler)(const mycel_rpc_ctx *ctx, mycel_arena *a,
						    const void *req, void *reply, char *why,
						    size_t why_len);

/*
 * The context handler of method m: the Admin methods ("mycel.v1.Admin/Publish") and the
 * others that need the serving context (Mesh/Peers); NULL if it has none.
 */
mycel_rpc_admin_handler mycel_rpc_admin_handler_of(const mycel_method *m);

/* Mesh Pull bounds: entries per reply, and bytes (entries + bodies) by default and at most. */
#define MYCEL_PULL_ENTRIES_CAP 1000u
#define MYCEL_PULL_BYTES_DEFAULT ((uint64_t)4u << 20)
#define MYCEL_PULL_BYTES_CAP ((uint64_t)16u << 20)

/*
 * The handler of method m in rpc_mesh.c (Mesh Charter, Pull, Digest, Push; Admin PeersAdd,
 * PeersRemove), or NULL.
 */
mycel_rpc_admin_handler mycel_rpc_mesh_handler_of(const mycel_method *m);

/* Most charter files one Charter reply carries in `newer`. */
#define MYCEL_CHARTER_NEWER_MAX 64u

/*
 * What a successful reply gains from gossip and forks (rpc_mesh.c): Status the frontier
 * size, fork proofs, forked feeds, forked heads and the peers table (through the gossip
 * engine's ops); Get, Search and List the forked flag of the feeds shown.
 */
void mycel__rpc_mesh_decorate(const mycel_rpc_ctx *c, const mycel_method *m, mycel_arena *a,
			      void *reply);

/* The gossip engine's peers table into rp; FAILED_PRECONDITION without gossip. */
mycel_rpc_status mycel__rpc_peers(const mycel_rpc_ctx *c, mycel_arena *a,
				  mycel_msg_PeersReply *rp, char *why, size_t why_len);

#endif
