/* bundle_int.h — what the audit bundle's builder (bundle.c) and verifier (bundle_verify.c) share.
 */
#ifndef MYCEL_BUNDLE_INT_H
#define MYCEL_BUNDLE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mycel/bundle.h"

#define MYCEL__BUNDLE_MAGIC "mycel-bundle"
#define MYCEL__BUNDLE_CTX "mycel/bundle/v1" /* digest context, hashed with its NUL */

/*
 * True when the body of an entry of kind `kind` must travel in the bundle of a subject of
 * kind subject_kind (PROTOCOL.md §11.3): the subject's own kind, lifecycle, domain, key and
 * transfer entries; everything else may concern no subject's history.
 */
bool mycel__bundle_body_needed(const char *kind, const char *subject_kind);

/*
 * The string value of top-level key in the canonical map body (which must be a map):
 * true with *s, *len pointing into body; false if body is not a map, lacks the key or
 * its value is not a string.
 */
bool mycel__bundle_body_str(const uint8_t *body, size_t n, const char *key, const char **s,
                            size_t *len);

/*
 * True when body (of an entry of the subject's kind) publishes a version of document id:
 * its `id` is id and its `version` a string of 1 to 64 bytes without NUL (*ver, *vn point
 * into body). The builder and the verifier decide with this one rule.
 */
bool mycel__bundle_doc_version(const uint8_t *body, size_t n, const char *id, size_t id_len,
                               const char **ver, size_t *vn);

/* digest = BLAKE2b-256("mycel/bundle/v1\0" ‖ content). */
void mycel__bundle_digest(const uint8_t *content, size_t n, uint8_t out[MYCEL_HASH_LEN]);

#endif
