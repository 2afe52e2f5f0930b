/*
 * mycel/doc.h — reading YAML and JSON documents into value trees.
 *
 * YAML is read with libyaml under YAML 1.2 core-schema typing: plain
 * scalars `null`/`Null`/`NULL`/`~`/empty are null, `true|True|TRUE|false|
 * False|FALSE` are booleans, `[-+]?[0-9]+`, `0o[0-7]+` and `0x[0-9a-fA-F]+`
 * are integers, `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` are
 * floats; everything else, and every quoted scalar, is a string (so
 * `2020-01-01`, `yes` and `on` stay strings). The tags !!str, !!int,
 * !!float, !!bool and !!null are honoured. JSON is read the same way (JSON
 * is YAML 1.2), including its escaped surrogate pairs ("\uD83D\uDCA9", which
 * libyaml alone refuses: JSON text has them rewritten before parsing, and
 * columns after such a pair on its line are 2 less than in the text). Every
 * value keeps the line and column where it starts.
 *
 * Refused, each with a finding naming line and column: duplicate keys,
 * keys that are not scalars, .inf/.nan (they have no canonical encoding),
 * integers outside [-2^63, 2^64), more than one document, alias expansion
 * beyond the budget (no "billion laughs"), input or node count beyond the
 * limits, nesting deeper than 32, invalid UTF-8, and YAML syntax errors.
 */
#ifndef MYCEL_DOC_H
#define MYCEL_DOC_H

#include <stddef.h>

#include "mycel/codec.h"
#include "mycel/diag.h"

typedef struct mycel_doc_limits {
	size_t max_bytes;  /* input size (default 16 MiB) */
	size_t max_nodes;  /* values produced, aliases expanded included (default 4 M) */
	size_t max_alias;  /* values produced by alias expansion (default 100 000) */
	unsigned max_depth; /* nesting (default and at most 32) */
} mycel_doc_limits;

/*
 * Parses n bytes of YAML or JSON text into a tree allocated in a. limits may
 * be NULL for the defaults. On failure returns EFORMAT (syntax or typing
 * problems; findings in d), ETOOBIG (a limit; a finding in d) or ENOMEM, and
 * *out is untouched. Map members keep the document's order (use
 * mycel_value_encode for the canonical, sorted form).
 */
int mycel_doc_parse(const char *text, size_t n, const mycel_doc_limits *limits, mycel_arena *a,
		    mycel_value **out, mycel_diags *d);

/* Reads a whole file and parses it (ENOTFOUND, EIO, and the codes above). */
int mycel_doc_load(const char *path, const mycel_doc_limits *limits, mycel_arena *a,
		   mycel_value **out, mycel_diags *d);

#endif
