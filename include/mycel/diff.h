/*
 * mycel/diff.h — how a data contract changed between two versions, and whether
 * the change is allowed (DESIGN §4 "Data contracts evolve safely").
 *
 * mycel_diff_contracts compares two ODCS documents (v3.0.x to v3.2.0, as read
 * by mycel_doc_parse or decoded from a stored body) and lists every change:
 * schema objects and properties are matched by `name` (nested `properties`,
 * `items` and `map` key/value recursively), quality rules by `id`, else
 * `name`, else content, SLA properties by (property, element, driver),
 * servers by `server`. Each change has a stable rule id (`property-removed`,
 * `required-added`, ...), a sentence, where it is in OLD and/or NEW (JSON
 * pointer, and line:col when the document was read from text), and the
 * directions it breaks:
 *
 *   MYCEL_BREAKS_BACKWARD  data written under OLD may not conform to NEW
 *                          (a reader that moved to NEW cannot read old data):
 *                          a constraint added or tightened;
 *   MYCEL_BREAKS_FORWARD   data written under NEW may break a reader of OLD:
 *                          a constraint loosened or a column taken away.
 *
 * A compatibility mode (the Confluent Schema Registry's names) decides which
 * directions count: BACKWARD (the default for data contracts) counts the
 * first, FORWARD the second, FULL both, NONE neither; the _TRANSITIVE modes
 * count the same directions against every earlier version instead of the
 * latest one. Rules about promises rather than data shape (classification
 * lowered or removed, an SLA weakened or removed) break both directions, so
 * every mode but NONE counts them. docs/contracts.md has the table of every
 * rule and mode.
 *
 * A breaking change is allowed only with a new major version
 * (mycel_semver_major_bump); mycel_diff_check_evolution applies both rules and
 * is what publishing uses.
 */
#ifndef MYCEL_DIFF_H
#define MYCEL_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mycel/codec.h"
#include "mycel/diag.h"
#include "mycel/store.h"

typedef enum mycel_compat {
	MYCEL_COMPAT_BACKWARD = 0, /* the default */
	MYCEL_COMPAT_BACKWARD_TRANSITIVE,
	MYCEL_COMPAT_FORWARD,
	MYCEL_COMPAT_FORWARD_TRANSITIVE,
	MYCEL_COMPAT_FULL,
	MYCEL_COMPAT_FULL_TRANSITIVE,
	MYCEL_COMPAT_NONE,
} mycel_compat;

#define MYCEL_BREAKS_BACKWARD 1u
#define MYCEL_BREAKS_FORWARD 2u

/*
 * Parses a mode name ("BACKWARD", "full_transitive", ...; case-insensitive) into
 * *out. Returns 0, or MYCEL_EINVAL for any other string (*out untouched).
 */
int mycel_compat_parse(const char *s, mycel_compat *out);

/* The mode's canonical name ("BACKWARD_TRANSITIVE"); "?" for a value out of range. */
const char *mycel_compat_name(mycel_compat m);

/* The MYCEL_BREAKS_* directions mode m counts as breaking (0 for NONE). */
unsigned mycel_compat_mask(mycel_compat m);

/* True for the _TRANSITIVE modes: compare with every earlier version, not only the latest. */
bool mycel_compat_transitive(mycel_compat m);

/*
 * The mode a charter's params map sets with `compatibility` (a string, see
 * mycel_compat_parse); BACKWARD when params is NULL, not a map, or has no
 * `compatibility`. Returns 0, or MYCEL_EINVAL with a reason in why (if not
 * NULL) when `compatibility` is not a string or names no mode.
 */
int mycel_compat_from_params(const mycel_value *params, mycel_compat *out, char *why,
			     size_t why_len);

/* One change between OLD and NEW. Strings are malloc'd and owned by the mycel_diff. */
typedef struct mycel_change {
	const char *rule;  /* stable kebab-case id, static ("property-removed") */
	unsigned breaks;   /* MYCEL_BREAKS_* directions this change breaks; 0: never breaking */
	bool breaking;     /* breaks & mycel_compat_mask(mode of the diff) */
	char *old_pointer; /* JSON pointer in OLD, NULL when the change has no place there (added) */
	uint32_t old_line, old_col; /* where in OLD's text (0 when unknown) */
	char *new_pointer; /* JSON pointer in NEW, NULL when it has no place there (removed) */
	uint32_t new_line, new_col; /* where in NEW's text; for a removal, the container in NEW */
	char *message;     /* one sentence naming the element ("orders.email"), never NULL */
} mycel_change;

/* The changes found, in document order. Bounded: past max, changes are only counted. */
typedef struct mycel_diff {
	mycel_change *items;
	size_t len;
	size_t cap;
	size_t max;        /* most changes kept (0 at init: 10 000) */
	size_t dropped;    /* changes past max */
	size_t n_breaking; /* breaking changes, dropped ones included */
	mycel_compat mode;
} mycel_diff;

/* An empty list whose changes are judged under mode, keeping at most max (0: 10 000). */
void mycel_diff_init(mycel_diff *d, mycel_compat mode, size_t max);

/* Frees every change. Accepts NULL. */
void mycel_diff_fini(mycel_diff *d);

/*
 * Compares two ODCS contracts (`kind: DataContract`, any supported
 * apiVersion) and appends every change to out, judged under out->mode. Both
 * must be maps with kind DataContract and the same string `id`: otherwise
 * returns MYCEL_EINVAL with a reason naming OLD or NEW in why (if not NULL)
 * and appends nothing. MYCEL_ENOMEM when memory runs out (out then holds the
 * changes found so far). Documents are not validated against their schema
 * here (mycel_lint_value does that); fields of unexpected types are compared
 * as opaque values.
 */
int mycel_diff_contracts(const mycel_value *old_doc, const mycel_value *new_doc, char *why,
			 size_t why_len, mycel_diff *out);

/*
 * True when new_version may carry breaking changes relative to old_version:
 * both valid semvers and NEW's major is greater than OLD's, or, while both
 * majors are 0 (initial development, semver §4), NEW's minor is greater than
 * OLD's (0.3.0 may break 0.2.5; 0.2.6 may not). False otherwise.
 */
bool mycel_semver_major_bump(const char *old_version, const char *new_version);

/*
 * The publishing rule: compares new_doc with each earlier version in
 * earlier[0..n-1] that mode selects — under a _TRANSITIVE mode every one, else
 * only the one with the highest semver `version` — and adds one finding to d
 * for each breaking change against a version that new_doc's `version` does
 * not bump the major of (mycel_semver_major_bump). A finding's pointer and
 * line:col are those in NEW, or for a removal the pointer in the earlier
 * version and the line:col of the container in NEW; its message starts with
 * the rule id and names the earlier version. Returns 0 (nothing refused; also
 * for mode NONE or n == 0), MYCEL_EBREAKING (findings in d), MYCEL_EINVAL
 * (a document is not a contract, ids differ, or a version is not semver;
 * a finding says which) or MYCEL_ENOMEM.
 */
int mycel_diff_check_evolution(const mycel_value *new_doc, const mycel_value *const *earlier,
			       size_t n, mycel_compat mode, mycel_diags *d);

/*
 * The check a publish makes before signing a contract (DESIGN §4): the mode is the
 * store's charter's params.compatibility (BACKWARD without one; NONE turns the check
 * off); the earlier versions are those of (domain, `id` of doc) published in s whose
 * semver is lower than doc's `version` and that are not retired, plus those of
 * pending[0..n-1] (documents published together with doc, not yet stored) that are
 * contracts with the same id and a lower version. Then mycel_diff_check_evolution. Returns 0, MYCEL_EBREAKING (a
 * finding per breaking change in d), MYCEL_ECHARTER (the charter's
 * params.compatibility is not a mode; a finding says so), MYCEL_EINVAL,
 * MYCEL_ENOMEM, or the store's codes. Only reads the store.
 */
int mycel_diff_check_published(mycel_store *s, const char *domain, const mycel_value *doc,
			       const mycel_value *const *pending, size_t n_pending, mycel_diags *d);

/* One rule of the table: its id, the directions it breaks, and what it means. */
typedef struct mycel_diff_rule {
	const char *id;
	unsigned breaks;
	const char *summary;
} mycel_diff_rule;

/* The rule table (for documentation and tests): *out_n rules, in a fixed order. */
const mycel_diff_rule *mycel_diff_rules(size_t *out_n);

#endif
