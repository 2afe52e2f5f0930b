/*
 * mycel/diag.h — findings collected for a person to read, all at once.
 *
 * A finding has the place it concerns (line and column in the source text,
 * 1-based, 0 if unknown; a JSON pointer into the document, "" for the root)
 * and a sentence. Lists are bounded: past `max` findings, further ones are
 * counted in `dropped` instead of stored.
 */
#ifndef MYCEL_DIAG_H
#define MYCEL_DIAG_H

#include <stddef.h>
#include <stdint.h>

typedef struct mycel_finding {
	uint32_t line;
	uint32_t col;
	char *pointer; /* JSON pointer ("/schema/0/name"), never NULL */
	char *message; /* never NULL */
} mycel_finding;

typedef struct mycel_diags {
	mycel_finding *items;
	size_t len;
	size_t cap;
	size_t max;     /* most findings kept (default 1000) */
	size_t dropped; /* findings past max */
} mycel_diags;

/* An empty list keeping at most max findings (0 means the default, 1000). */
void mycel_diags_init(mycel_diags *d, size_t max);

/* Frees every finding. Accepts NULL. */
void mycel_diags_fini(mycel_diags *d);

/* Removes every finding, keeping the list usable. */
void mycel_diags_clear(mycel_diags *d);

/* Adds one finding (pointer may be NULL for ""). Returns 0 or MYCEL_ENOMEM. */
int mycel_diags_add(mycel_diags *d, uint32_t line, uint32_t col, const char *pointer,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Appends "/" and the escaped token (~ as ~0, / as ~1) of key to a pointer buffer of size n. */
void mycel_pointer_push(char *ptr, size_t n, const char *key, size_t key_len);

#endif
