/*
 * mycel/lint.h — identifying and validating ODCS and ODPS documents.
 *
 * A document's `kind` and `apiVersion` choose one of the official JSON
 * Schemas compiled into libmycel (src/schemas/): DataContract with v3.0.0,
 * v3.0.1, v3.0.2, v3.1.0 or v3.2.0 (ODCS); DataProduct with v0.9.0 or
 * v1.0.0 (ODPS). The verdict is exactly that of a draft 2019-09 validator on
 * the document read with YAML 1.2 core-schema typing; every finding names the
 * line, column and JSON pointer it concerns.
 */
#ifndef MYCEL_LINT_H
#define MYCEL_LINT_H

#include <stdbool.h>

#include "mycel/catalog.h"
#include "mycel/codec.h"
#include "mycel/diag.h"

/* What identifies a document; strings point into the document's tree (NULL when absent or not a string). */
typedef struct mycel_docinfo {
	mycel_doc_kind kind; /* 0 when kind is unknown */
	const char *kind_name;   /* the `kind` field as written */
	const char *api_version;
	const char *id;
	const char *version;
	const char *name;
	const char *domain;
} mycel_docinfo;

/* The supported versions for a kind, as one line ("v3.0.0, v3.0.1, ..."). */
const char *mycel_lint_supported(mycel_doc_kind kind);

/*
 * Identifies doc and validates it against its schema. Returns 0 when valid,
 * MYCEL_ESCHEMA with the findings in d when not, MYCEL_EFORMAT with one
 * finding when the kind or apiVersion has no schema (the finding names the
 * supported ones). info is filled in either case.
 */
int mycel_lint_value(const mycel_value *doc, mycel_docinfo *info, mycel_diags *d);

/*
 * Reads a YAML or JSON file and lints it (mycel_doc_load, then
 * mycel_lint_value). *out_doc is the tree in a (NULL when it did not parse).
 */
int mycel_lint_file(const char *path, mycel_arena *a, mycel_value **out_doc, mycel_docinfo *info,
		    mycel_diags *d);

/*
 * The further rules a document must meet to be published (DESIGN §2): a
 * string `id` of 1 to 256 bytes, a semver `version`, and a `domain` field, if
 * present, equal to publisher_domain. Each broken rule is a finding in d.
 * Returns 0 or MYCEL_EINVAL.
 */
int mycel_lint_publishable(const mycel_value *doc, const mycel_docinfo *info,
			   const char *publisher_domain, mycel_diags *d);

#endif
