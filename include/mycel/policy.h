/*
 * mycel/policy.h — the charter's policies as code, run as a quality gate
 * (DESIGN §4, docs/policies.md).
 *
 * A charter policy is {id, severity: deny|warn, expr, message}. expr is a
 * CEL-subset expression (mycel/cel.h) that must be true for a compliant
 * document. It sees the variables
 *   contract | product   the document (a contract's policies see `contract`,
 *                        a product's `product`)
 *   previous             the version of the same document current before
 *                        this one in the publishing feed, or null
 *   domain               the publishing domain's name
 *   now                  a timestamp fixed once per evaluation: the wall
 *                        clock for lint and publish, the entry's ts_ms when
 *                        a node evaluates an entry it holds, so every node
 *                        computes the same verdict
 * A policy applies to contracts when its expression names `contract`, to
 * products when it names `product`, and to both when it names neither.
 * Evaluation fails closed: an expression that errs (a missing field, an
 * overflow, the cost budget) or yields something other than a bool is a
 * violation, reported with the error.
 */
#ifndef MYCEL_POLICY_H
#define MYCEL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mycel/catalog.h"
#include "mycel/cel.h"
#include "mycel/codec.h"
#include "mycel/diag.h"

#define MYCEL_POLICIES_MAX 256 /* policies in one charter */

typedef struct mycel_policies mycel_policies; /* a charter's policies, compiled */

typedef enum mycel_severity {
	MYCEL_SEVERITY_DENY = 1,
	MYCEL_SEVERITY_WARN = 2,
} mycel_severity;

/* One policy that a document does not meet. Strings are owned by the report. */
typedef struct mycel_violation {
	const char *id;
	mycel_severity severity;
	const char *message; /* the policy's message */
	char *detail;        /* "" when the expression was false; else the evaluation error */
	char *pointer;       /* JSON pointer of the document value concerned, or "" */
	uint32_t line, col;  /* of that value (else of the document) in its source; 0 if unknown */
} mycel_violation;

/* What one evaluation of every applicable policy found. */
typedef struct mycel_policy_report {
	mycel_violation *items; /* deny violations first, then warnings, each in charter order */
	size_t len;
	size_t denied; /* violations of deny policies */
	size_t warned; /* violations of warn policies */
	size_t evaluated; /* policies that applied to the document */
	uint64_t cost;    /* CEL cost units spent */
	int64_t now_ms;   /* the `now` the policies saw */
} mycel_policy_report;

/*
 * Compiles a charter's policies array (mycel_charter_policies: an array of
 * {expr, id, message, severity} maps). A NULL or empty array gives an empty
 * set. On failure returns MYCEL_EEXPR (or ENOMEM, ETOOBIG, EFORMAT) with a
 * finding in d (if not NULL) for every policy that does not compile, at
 * pointer /policies/N/expr, the message naming the policy id and the line and
 * column in its expression; *out is left untouched.
 */
int mycel_policies_compile(const mycel_value *policies, mycel_policies **out, mycel_diags *d);

/* Frees a compiled set. Accepts NULL. */
void mycel_policies_free(mycel_policies *p);

/* Number of policies in the set. */
size_t mycel_policies_count(const mycel_policies *p);

/*
 * True when a policy of the set that applies to kind refers to `previous`: a caller may
 * skip reading the version before when none does (it is then never looked at).
 */
bool mycel_policies_use_previous(const mycel_policies *p, mycel_doc_kind kind);

/* The input of one evaluation. */
typedef struct mycel_policy_input {
	mycel_doc_kind kind;         /* contract or product */
	const mycel_value *doc;      /* the document */
	const mycel_value *previous; /* the version before, or NULL */
	const char *domain;          /* the publishing domain */
	int64_t now_ms;              /* milliseconds since the epoch */
} mycel_policy_input;

/*
 * Evaluates every policy of p that applies to in->kind, in charter order, and
 * fills *out (zeroed first; release with mycel_policy_report_fini). p may be
 * NULL (no policies). Returns 0 whatever the verdict, EINVAL for a bad
 * input, ENOMEM.
 */
int mycel_policies_eval(const mycel_policies *p, const mycel_policy_input *in,
			mycel_policy_report *out);

/* Frees what a report holds. Accepts NULL and a zeroed report. */
void mycel_policy_report_fini(mycel_policy_report *r);

/*
 * Adds one finding to d per violation of the given severity: at the value's
 * line, column and pointer, "policy ID (deny): MESSAGE" followed by the
 * evaluation error when there is one. Returns 0 or ENOMEM.
 */
int mycel_policy_report_diags(const mycel_policy_report *r, mycel_severity severity,
			      mycel_diags *d);

#endif
