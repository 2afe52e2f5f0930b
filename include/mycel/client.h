/*
 * mycel/client.h — a minimal RPC client over nng req0 (DESIGN.md §5).
 *
 * One client may be used from several threads at once: each call runs on its own nng
 * context. Transport failures are reported the way gRPC clients report them, as a
 * status (UNAVAILABLE, DEADLINE_EXCEEDED) rather than as an error code, so that a caller
 * handles one kind of outcome per call.
 */
#ifndef MYCEL_CLIENT_H
#define MYCEL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

typedef struct mycel_client mycel_client;

/* Largest reply envelope a client accepts. */
#define MYCEL_CLIENT_REPLY_MAX ((size_t)(40u << 20))

/*
 * Connects to url (tcp://HOST:PORT or ipc://PATH). EINVAL for a URL nng does not accept,
 * EIO when the node cannot be reached (connection refused, no such socket file). nng
 * redials on its own if the connection drops later.
 */
int mycel_client_open(const char *url, mycel_client **out);

/* Closes the client; calls in progress fail. Accepts NULL. */
void mycel_client_close(mycel_client *c);

/*
 * Calls method ("mycel.v1.Catalog/Get") with the encoded request message req[0..n-1],
 * waiting until deadline_ms (absolute unix ms; 0: no deadline, which is also sent).
 * Returns 0 when the call ended with a status, in *out_status: the node's, or
 * DEADLINE_EXCEEDED when no reply came in time, or UNAVAILABLE when the request could
 * not be sent. *out_message (NUL-terminated, "" if none) and *out_body (NULL if the reply
 * had none) are malloc'd and the caller frees them. Returns EINVAL for bad arguments
 * or a method over MYCEL_RPC_METHOD_MAX, ENOMEM, or the decoder's code for a reply that
 * is not a valid envelope; outputs are left untouched then.
 */
int mycel_client_call(mycel_client *c, const char *method, uint64_t deadline_ms,
		      const uint8_t *req, size_t n, uint64_t *out_status, char **out_message,
		      uint8_t **out_body, size_t *out_body_len);

#endif
