/* profile.c — domain profiles, the body of `domain` entries. */
#include <stdio.h>
#include <string.h>

#include "mycel/profile.h"

static bool str_ok(const char *s)
{
	return s != NULL && strlen(s) <= MYCEL_PROFILE_STR_MAX;
}

int mycel_profile_encode(const mycel_profile *p, mycel_buf *b)
{
	const char *title = p->title ? p->title : "";
	const char *desc = p->description ? p->description : "";
	if (!str_ok(title) || !str_ok(desc) || p->n_contacts > MYCEL_PROFILE_LIST_MAX ||
	    p->n_nodes > MYCEL_PROFILE_LIST_MAX)
		return MYCEL_EINVAL;
	for (size_t i = 0; i < p->n_contacts; i++)
		if (!str_ok(p->contacts[i]))
			return MYCEL_EINVAL;
	for (size_t i = 0; i < p->n_nodes; i++)
		if (!str_ok(p->nodes[i]))
			return MYCEL_EINVAL;
	/* keys in bytewise order: contacts description nodes title */
	mycel_enc_map(b, 4);
	mycel_enc_cstr(b, "contacts");
	mycel_enc_array(b, (uint32_t)p->n_contacts);
	for (size_t i = 0; i < p->n_contacts; i++)
		mycel_enc_cstr(b, p->contacts[i]);
	mycel_enc_cstr(b, "description");
	mycel_enc_cstr(b, desc);
	mycel_enc_cstr(b, "nodes");
	mycel_enc_array(b, (uint32_t)p->n_nodes);
	for (size_t i = 0; i < p->n_nodes; i++)
		mycel_enc_cstr(b, p->nodes[i]);
	mycel_enc_cstr(b, "title");
	mycel_enc_cstr(b, title);
	return b->err;
}

static int bad(char *why, size_t why_len, const char *field)
{
	if (why != NULL && why_len > 0)
		snprintf(why, why_len, "domain profile: /%s is missing or has the wrong type", field);
	return MYCEL_EFORMAT;
}

static int list(const mycel_value *root, const char *field, const char **out, size_t *n,
		char *why, size_t why_len)
{
	const mycel_value *v = mycel_value_get(root, field);
	if (v == NULL || v->type != MYCEL_T_ARRAY || v->v.a.len > MYCEL_PROFILE_LIST_MAX)
		return bad(why, why_len, field);
	for (size_t i = 0; i < v->v.a.len; i++) {
		if (v->v.a.items[i].type != MYCEL_T_STR)
			return bad(why, why_len, field);
		out[i] = v->v.a.items[i].v.s.ptr;
	}
	*n = v->v.a.len;
	return 0;
}

int mycel_profile_decode(const uint8_t *body, size_t n, mycel_arena *a, mycel_profile *out,
			 char *why, size_t why_len)
{
	mycel_value *root;
	mycel_profile p;
	memset(&p, 0, sizeof(p));
	int rv = mycel_value_decode(body, n, 1u << 20, a, &root, NULL);
	if (rv != 0) {
		if (why != NULL && why_len > 0)
			snprintf(why, why_len, "domain profile: %s", mycel_strerror(rv));
		return rv;
	}
	if (root->type != MYCEL_T_MAP || root->v.m.len != 4)
		return bad(why, why_len, "");
	const mycel_value *t = mycel_value_get(root, "title");
	const mycel_value *d = mycel_value_get(root, "description");
	if (t == NULL || t->type != MYCEL_T_STR)
		return bad(why, why_len, "title");
	if (d == NULL || d->type != MYCEL_T_STR)
		return bad(why, why_len, "description");
	p.title = t->v.s.ptr;
	p.description = d->v.s.ptr;
	if ((rv = list(root, "contacts", p.contacts, &p.n_contacts, why, why_len)) != 0 ||
	    (rv = list(root, "nodes", p.nodes, &p.n_nodes, why, why_len)) != 0)
		return rv;
	*out = p;
	return 0;
}
