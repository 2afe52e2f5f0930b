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

#endif
