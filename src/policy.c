/* policy.c — a charter's policies compiled once, evaluated as the quality gate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/error.h"
#include "mycel/policy.h"

typedef struct policy {
	char *id;
	char *message;
	mycel_severity severity;
	mycel_cel *expr;
	bool for_contract, for_product;
	bool previous; /* names `previous` */
} policy;

struct mycel_policies {
	policy *items;
	size_t len;
};

static char *dup_str(const mycel_value *v)
{
	if (v == NULL || v->type != MYCEL_T_STR)
		return NULL;
	char *s = malloc(v->v.s.len + 1);
	if (s != NULL) {
		memcpy(s, v->v.s.ptr, v->v.s.len);
		s[v->v.s.len] = 0;
	}
	return s;
}

void mycel_policies_free(mycel_policies *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->len; i++) {
		free(p->items[i].id);
		free(p->items[i].message);
		mycel_cel_free(p->items[i].expr);
	}
	free(p->items);
	free(p);
}

size_t mycel_policies_count(const mycel_policies *p)
{
	return p == NULL ? 0 : p->len;
}

bool mycel_policies_use_previous(const mycel_policies *p, mycel_doc_kind kind)
{
	for (size_t i = 0; p != NULL && i < p->len; i++)
		if (p->items[i].previous &&
		    (kind == MYCEL_DOC_PRODUCT ? p->items[i].for_product : p->items[i].for_contract))
			return true;
	return false;
}

/* Which kinds a compiled expression applies to (and whether it reads `previous`), from the variables it names. */
static void applies_to(policy *pl)
{
	const char *names[16];
	size_t n = mycel_cel_free_vars(pl->expr, names, 16);
	bool c = false, p = false;
	for (size_t i = 0; i < n && i < 16; i++) {
		if (strcmp(names[i], "contract") == 0)
			c = true;
		else if (strcmp(names[i], "product") == 0)
			p = true;
		else if (strcmp(names[i], "previous") == 0)
			pl->previous = true;
	}
	pl->for_contract = c || !p;
	pl->for_product = p || !c;
}

int mycel_policies_compile(const mycel_value *arr, mycel_policies **out, mycel_diags *d)
{
	mycel_policies *p;
	int rv = 0, bad = 0;

	if (out == NULL)
		return MYCEL_EINVAL;
	if (arr != NULL && arr->type != MYCEL_T_ARRAY) {
		if (d != NULL)
			mycel_diags_add(d, 0, 0, "/policies", "policies must be an array");
		return MYCEL_EFORMAT;
	}
	size_t n = arr == NULL ? 0 : arr->v.a.len;
	if (n > MYCEL_POLICIES_MAX) {
		if (d != NULL)
			mycel_diags_add(d, 0, 0, "/policies", "%zu policies; at most %d are allowed", n,
					MYCEL_POLICIES_MAX);
		return MYCEL_ETOOBIG;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return MYCEL_ENOMEM;
	if (n > 0 && (p->items = calloc(n, sizeof(*p->items))) == NULL) {
		free(p);
		return MYCEL_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const mycel_value *m = &arr->v.a.items[i];
		const mycel_value *id = mycel_value_get(m, "id"), *ex = mycel_value_get(m, "expr");
		const mycel_value *msg = mycel_value_get(m, "message"), *sev = mycel_value_get(m, "severity");
		char ptr[64];
		snprintf(ptr, sizeof(ptr), "/policies/%zu", i);
		if (id == NULL || id->type != MYCEL_T_STR || ex == NULL || ex->type != MYCEL_T_STR ||
		    msg == NULL || msg->type != MYCEL_T_STR || sev == NULL || sev->type != MYCEL_T_STR ||
		    (strcmp(sev->v.s.ptr, "deny") != 0 && strcmp(sev->v.s.ptr, "warn") != 0)) {
			if (d != NULL)
				mycel_diags_add(d, m->line, m->col, ptr,
						"a policy needs string id, expr and message, and severity "
						"deny or warn");
			rv = rv ? rv : MYCEL_EFORMAT;
			bad++;
			continue;
		}
		policy *pl = &p->items[p->len];
		mycel_cel_err err;
		memset(&err, 0, sizeof(err));
		int cr = mycel_cel_compile(ex->v.s.ptr, ex->v.s.len, &pl->expr, &err);
		if (cr != 0) {
			if (d != NULL) {
				snprintf(ptr, sizeof(ptr), "/policies/%zu/expr", i);
				mycel_diags_add(d, ex->line, ex->col, ptr,
						"policy %s: expression %u:%u: %s", id->v.s.ptr, err.line,
						err.col, err.msg[0] ? err.msg : mycel_strerror(cr));
			}
			rv = rv ? rv : cr;
			bad++;
			continue;
		}
		pl->id = dup_str(id);
		pl->message = dup_str(msg);
		pl->severity = strcmp(sev->v.s.ptr, "deny") == 0 ? MYCEL_SEVERITY_DENY
								 : MYCEL_SEVERITY_WARN;
		p->len++;
		if (pl->id == NULL || pl->message == NULL) {
			rv = MYCEL_ENOMEM;
			break;
		}
		applies_to(pl);
	}
	if (rv != 0 || bad > 0) {
		mycel_policies_free(p);
		return rv ? rv : MYCEL_EEXPR;
	}
	*out = p;
	return 0;
}

void mycel_policy_report_fini(mycel_policy_report *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->len; i++) {
		free(r->items[i].detail);
		free(r->items[i].pointer);
	}
	free(r->items);
	memset(r, 0, sizeof(*r));
}

/* The value a JSON pointer names in doc (~0 and ~1 unescaped), or NULL. */
static const mycel_value *at_pointer(const mycel_value *doc, const char *ptr)
{
	const mycel_value *v = doc;
	const char *p = ptr;
	char tok[256];
	while (v != NULL && *p == '/') {
		size_t n = 0;
		for (p++; *p != 0 && *p != '/'; p++) {
			char c = *p;
			if (c == '~' && (p[1] == '0' || p[1] == '1'))
				c = *++p == '0' ? '~' : '/';
			if (n + 1 >= sizeof(tok))
				return NULL;
			tok[n++] = c;
		}
		tok[n] = 0;
		if (v->type == MYCEL_T_MAP) {
			const mycel_value *next = NULL;
			for (size_t i = 0; i < v->v.m.len; i++)
				if (v->v.m.items[i].key_len == n &&
				    memcmp(v->v.m.items[i].key, tok, n) == 0)
					next = &v->v.m.items[i].val;
			v = next;
		} else if (v->type == MYCEL_T_ARRAY) {
			char *end;
			unsigned long k = strtoul(tok, &end, 10);
			v = (n > 0 && *end == 0 && k < v->v.a.len) ? &v->v.a.items[k] : NULL;
		} else {
			v = NULL;
		}
	}
	return v;
}

static int add_violation(mycel_policy_report *r, size_t cap, const policy *pl, const char *detail,
			 const char *pointer, const mycel_value *doc)
{
	if (r->len >= cap)
		return MYCEL_ENOMEM;
	mycel_violation *v = &r->items[r->len];
	memset(v, 0, sizeof(*v));
	v->id = pl->id;
	v->severity = pl->severity;
	v->message = pl->message;
	v->detail = strdup(detail);
	v->pointer = strdup(pointer);
	if (v->detail == NULL || v->pointer == NULL) {
		free(v->detail);
		free(v->pointer);
		return MYCEL_ENOMEM;
	}
	/* the value concerned, else the document itself */
	const mycel_value *at = pointer[0] ? at_pointer(doc, pointer) : NULL;
	v->line = at != NULL ? at->line : doc->line;
	v->col = at != NULL ? at->col : doc->col;
	r->len++;
	if (pl->severity == MYCEL_SEVERITY_DENY)
		r->denied++;
	else
		r->warned++;
	return 0;
}

/* Deny violations first, then warnings, each group in charter order (a stable partition). */
static int partition(mycel_policy_report *r)
{
	if (r->denied == 0 || r->warned == 0)
		return 0;
	mycel_violation *tmp = malloc(r->len * sizeof(*tmp));
	if (tmp == NULL)
		return MYCEL_ENOMEM;
	size_t k = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < r->len; i++)
			if ((r->items[i].severity == MYCEL_SEVERITY_DENY) == (pass == 0))
				tmp[k++] = r->items[i];
	memcpy(r->items, tmp, r->len * sizeof(*tmp));
	free(tmp);
	return 0;
}

int mycel_policies_eval(const mycel_policies *p, const mycel_policy_input *in,
			mycel_policy_report *out)
{
	if (in == NULL || out == NULL || in->doc == NULL ||
	    (in->kind != MYCEL_DOC_CONTRACT && in->kind != MYCEL_DOC_PRODUCT) || in->now_ms < 0 ||
	    in->now_ms > INT64_MAX / 1000000)
		return MYCEL_EINVAL;
	memset(out, 0, sizeof(*out));
	out->now_ms = in->now_ms;
	if (p == NULL || p->len == 0)
		return 0;
	if ((out->items = calloc(p->len, sizeof(*out->items))) == NULL)
		return MYCEL_ENOMEM;

	mycel_value dom;
	memset(&dom, 0, sizeof(dom));
	dom.type = MYCEL_T_STR;
	dom.v.s.ptr = in->domain != NULL ? in->domain : "";
	dom.v.s.len = strlen(dom.v.s.ptr);
	bool contract = in->kind == MYCEL_DOC_CONTRACT;
	mycel_cel_var vars[3] = {
	    {contract ? "contract" : "product", in->doc},
	    {"previous", in->previous},
	    {"domain", &dom},
	};
	mycel_cel_env env = {vars, 3, true, in->now_ms * 1000000, 0};

	int rv = 0;
	for (size_t i = 0; i < p->len && rv == 0; i++) {
		const policy *pl = &p->items[i];
		if (!(contract ? pl->for_contract : pl->for_product))
			continue;
		bool ok = false;
		uint64_t cost = 0;
		mycel_cel_err err;
		memset(&err, 0, sizeof(err));
		out->evaluated++;
		int er = mycel_cel_eval_bool(pl->expr, &env, &ok, &cost, &err);
		out->cost += cost;
		if (er == MYCEL_ENOMEM) {
			rv = er;
		} else if (er != 0) {
			char detail[320];
			snprintf(detail, sizeof(detail), "expression %u:%u: %s", err.line, err.col,
				 err.msg[0] ? err.msg : mycel_strerror(er));
			rv = add_violation(out, p->len, pl, detail, err.pointer, in->doc);
		} else if (!ok) {
			rv = add_violation(out, p->len, pl, "", err.pointer, in->doc);
		}
	}
	if (rv == 0)
		rv = partition(out);
	if (rv != 0)
		mycel_policy_report_fini(out);
	return rv;
}

int mycel_policy_report_diags(const mycel_policy_report *r, mycel_severity severity,
			      mycel_diags *d)
{
	for (size_t i = 0; r != NULL && i < r->len; i++) {
		const mycel_violation *v = &r->items[i];
		if (v->severity != severity)
			continue;
		int rv = mycel_diags_add(d, v->line, v->col, v->pointer, "policy %s (%s): %s%s%s", v->id,
					 severity == MYCEL_SEVERITY_DENY ? "deny" : "warn", v->message,
					 v->detail[0] ? " — " : "", v->detail);
		if (rv != 0)
			return rv;
	}
	return 0;
}
