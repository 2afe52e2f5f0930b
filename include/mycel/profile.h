/*
 * mycel/profile.h — the body of `domain` entries (PROTOCOL.md §5.1).
 *
 * A domain profile is the canonical map
 *   {title: str, description: str, contacts: [str], nodes: [str]}
 * (all four keys present; strings may be empty). The latest `domain` entry of
 * a feed is the domain's current profile.
 */
#ifndef MYCEL_PROFILE_H
#define MYCEL_PROFILE_H

#include <stddef.h>

#include "mycel/codec.h"

#define MYCEL_PROFILE_LIST_MAX 32 /* contacts and nodes each */
#define MYCEL_PROFILE_STR_MAX 1024

typedef struct mycel_profile {
	const char *title;
	const char *description;
	const char *contacts[MYCEL_PROFILE_LIST_MAX];
	size_t n_contacts;
	const char *nodes[MYCEL_PROFILE_LIST_MAX];
	size_t n_nodes;
} mycel_profile;

/* Appends the canonical body of p to b. EINVAL for over-long strings or lists, EUTF8. */
int mycel_profile_encode(const mycel_profile *p, mycel_buf *b);

/*
 * Strictly decodes a profile body; strings point into arena a. EFORMAT with
 * the offending field in why for a wrong shape.
 */
int mycel_profile_decode(const uint8_t *body, size_t n, mycel_arena *a, mycel_profile *out,
			 char *why, size_t why_len);

#endif
