/*
 * mycel/schema.h — JSON Schema validation, draft 2019-09.
 *
 * A mycel_schema is a set of schema resources (documents) identified by
 * URI, against which instances (mycel_value trees, usually read from YAML
 * or JSON with mycel/doc.h) are validated. Keywords: type, properties,
 * patternProperties, additionalProperties, unevaluatedProperties, required,
 * dependentRequired, dependentSchemas, propertyNames, minProperties,
 * maxProperties, enum, const, pattern (PCRE2, with match limits), items,
 * additionalItems, unevaluatedItems, contains, minContains, maxContains,
 * $ref, $defs, definitions, $id, $anchor, $recursiveRef, $recursiveAnchor,
 * allOf, anyOf, oneOf, not, if/then/else, minItems, maxItems, uniqueItems,
 * minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf,
 * minLength, maxLength (in code points); annotations (title, description,
 * default, examples, format, $comment, deprecated, readOnly, writeOnly,
 * $schema, $vocabulary, content*) are accepted and not asserted.
 *
 * Values compare as JSON does: 1 and 1.0 are equal numbers, and a float
 * with no fractional part is an "integer".
 */
#ifndef MYCEL_SCHEMA_H
#define MYCEL_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "mycel/codec.h"
#include "mycel/diag.h"

typedef struct mycel_schema mycel_schema;

/* An empty schema set. */
int mycel_schema_new(mycel_schema **out);

/* Frees the set (not the documents it references). Accepts NULL. */
void mycel_schema_free(mycel_schema *s);

/*
 * Adds a schema document under uri (its $id, if any, takes precedence as its
 * base URI; embedded $id and $anchor are indexed too). The document must stay
 * alive, unchanged, as long as s. Errors: EINVAL for a document that is not a
 * schema (why says where), ENOMEM; an invalid pattern is EINVAL naming it.
 */
int mycel_schema_add(mycel_schema *s, const char *uri, const mycel_value *doc, char *why,
		     size_t why_len);

/*
 * Validates instance against the schema at uri (a URI added before, with an
 * optional #fragment). Every failed assertion becomes a finding in out (if
 * not NULL) with the instance's JSON pointer, the instance value's line and
 * column, and a sentence such as `"strng" is not one of "string", "date"`;
 * assertions under anyOf/oneOf/not branches are summarised, not listed one by
 * one. Sets *out_valid. Returns 0, ENOTFOUND for an unknown uri or an
 * unresolvable $ref (why says which), ETOOBIG when evaluation exceeds its
 * budget (deep recursion, pattern match limits).
 */
int mycel_schema_validate(const mycel_schema *s, const char *uri, const mycel_value *instance,
			  bool *out_valid, mycel_diags *out, char *why, size_t why_len);

#endif
