/*
 * client_verify.c — checks the entries a reply carries against the client's charter
 * (include/mycel/client.h), and sets the charter itself.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "client_int.h"
#include "mycel/catalog.h"
#include "mycel/client.h"
#include "mycel/codec.h"
#include "mycel/entry.h"
#include "mycel/error.h"

static int vfail(int code, char *why, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int vfail(int code, char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;
	if (why != NULL && why_len > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(why, why_len, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* A string member of map v equals want (want NULL: not checked). */
static bool member_is(const mycel_value *v, const char *key, const char *want)
{
	const mycel_value *m = mycel_value_get(v, key);
	return m != NULL && m->type == MYCEL_T_STR && strlen(want) == m->v.s.len &&
	       memcmp(m->v.s.ptr, want, m->v.s.len) == 0;
}

/* Checks that a document or lifecycle body is the one exp names. */
static int check_body_claims(const mycel_entry *e, const uint8_t *body, size_t n,
			     const mycel_entry_expect *exp, const char *where, char *why,
			     size_t why_len)
{
	bool doc = strcmp(e->h.kind, "contract") == 0 || strcmp(e->h.kind, "product") == 0;
	bool life = strcmp(e->h.kind, "lifecycle") == 0;
	if (!doc && !life)
		return 0;
	if (exp->id == NULL && exp->version == NULL && exp->domain == NULL)
		return 0;
	mycel_arena *a = NULL;
	mycel_value *v = NULL;
	int rv = mycel_arena_new(4 * n + (64u << 10), &a);
	if (rv != 0)
		return vfail(rv, why, why_len, "%s: %s", where, mycel_strerror(rv));
	rv = mycel_value_decode(body, n, MYCEL_BODY_MAX, a, &v, NULL);
	if (rv != 0) {
		mycel_arena_free(a);
		return vfail(rv, why, why_len, "%s: the body does not decode: %s", where,
			     mycel_strerror(rv));
	}
	if (v->type != MYCEL_T_MAP)
		rv = vfail(MYCEL_EFORMAT, why, why_len, "%s: the body is not a map", where);
	else if (exp->id != NULL && !member_is(v, "id", exp->id))
		rv = vfail(MYCEL_EFORMAT, why, why_len,
			   "%s: the body is not document id \"%s\" the reply claims", where,
			   exp->id);
	else if (exp->version != NULL && !member_is(v, "version", exp->version))
		rv = vfail(MYCEL_EFORMAT, why, why_len,
			   "%s: the body is not version \"%s\" the reply claims", where,
			   exp->version);
	else if (doc && exp->domain != NULL && mycel_value_get(v, "domain") != NULL &&
		 !member_is(v, "domain", exp->domain))
		rv = vfail(MYCEL_EFORMAT, why, why_len,
			   "%s: the body names another domain than \"%s\"", where, exp->domain);
	mycel_arena_free(a);
	return rv;
}

int mycel_client_verify_entry(const mycel_charter *ch, const mycel_msg_Entry *m,
			      const mycel_entry_expect *exp, char *why, size_t why_len,
			      mycel_entry *out_e)
{
	return mycel__client_verify_entry_key(ch, m, exp, NULL, why, why_len, out_e);
}

int mycel__client_verify_entry_key(const mycel_charter *ch, const mycel_msg_Entry *m,
				   const mycel_entry_expect *exp, const uint8_t *key, char *why,
				   size_t why_len, mycel_entry *out_e)
{
	static const mycel_entry_expect none = {NULL, NULL, NULL, NULL};
	mycel_entry e;
	char hex[2 * MYCEL_PK_LEN + 1], where[256];
	int rv;

	if (exp == NULL)
		exp = &none;
	if (ch == NULL)
		return vfail(MYCEL_ECHARTER, why, why_len,
			     "no charter to verify the reply against");
	if (m == NULL || m->entry == NULL)
		return vfail(MYCEL_EFORMAT, why, why_len, "the reply carries no entry");
	if ((rv = mycel_entry_decode(m->entry, m->entry_len, &e)) != 0)
		return vfail(rv, why, why_len, "an entry of the reply does not decode: %s",
			     mycel_strerror(rv));
	mycel_hex(e.h.feed, MYCEL_PK_LEN, hex);
	const mycel_charter_domain *d = NULL;
	int adm = mycel_charter_admits(ch, e.h.feed, e.h.seq, &d);
	(void)snprintf(where, sizeof(where), "entry of %s%s (feed %.16s…) seq %llu",
		       d != NULL ? "domain " : "an unadmitted feed",
		       d != NULL ? d->name : "", hex, (unsigned long long)e.h.seq);
	if (adm == MYCEL_EREVOKED)
		return vfail(adm, why, why_len,
			     "%s: beyond the cut of a feed the charter (v%llu) declares compromised",
			     where, (unsigned long long)mycel_charter_version(ch));
	if (d == NULL)
		return vfail(MYCEL_EADMIT, why, why_len,
			     "%s: the charter (mesh %s, v%llu) admits no domain with this feed",
			     where, mycel_charter_mesh(ch),
			     (unsigned long long)mycel_charter_version(ch));
	if (exp->domain != NULL && strcmp(exp->domain, d->name) != 0)
		return vfail(MYCEL_EADMIT, why, why_len,
			     "%s: the reply says domain %s, but the charter admits this feed for "
			     "domain %s",
			     where, exp->domain, d->name);
	if (mycel_entry_verify(&e, key != NULL ? key : e.h.feed) != 0)
		return vfail(MYCEL_EBADSIG, why, why_len,
			     "%s: the signature does not verify under the key that signs the feed "
			     "at this seq",
			     where);
	if (m->body == NULL)
		return vfail(MYCEL_EHASH, why, why_len, "%s: the reply carries no body", where);
	if (mycel_entry_check_body(&e, m->body, m->body_len) != 0)
		return vfail(MYCEL_EHASH, why, why_len,
			     "%s: the body does not match the entry's body hash", where);
	if (exp->kind != NULL && strcmp(exp->kind, e.h.kind) != 0)
		return vfail(MYCEL_EFORMAT, why, why_len,
			     "%s: a %s entry, where the reply claims a %s", where, e.h.kind,
			     exp->kind);
	if ((rv = check_body_claims(&e, m->body, m->body_len, exp, where, why, why_len)) != 0)
		return rv;
	if (out_e != NULL)
		*out_e = e;
	return 0;
}

int mycel_client_set_charter(mycel_client *c, const uint8_t *p, size_t n,
			     const uint8_t *mesh_id, char *why, size_t why_len)
{
	mycel_charter *ch = NULL;
	uint8_t dig[MYCEL_HASH_LEN];
	char w[256] = "";
	int rv;

	if (c == NULL || (p == NULL && n > 0))
		return vfail(MYCEL_EINVAL, why, why_len, "invalid argument");
	if ((rv = mycel_charter_decode(p, n, &ch, w, sizeof(w))) != 0)
		return vfail(rv, why, why_len, "the charter does not decode: %s",
			     w[0] ? w : mycel_strerror(rv));
	if (mycel_charter_version(ch) == 1) {
		if ((rv = mycel_charter_verify_genesis(ch, w, sizeof(w))) != 0) {
			mycel_charter_free(ch);
			return vfail(rv, why, why_len, "the charter does not verify: %s",
				     w[0] ? w : mycel_strerror(rv));
		}
		if (mesh_id != NULL) {
			if ((rv = mycel_charter_digest(ch, dig)) != 0 ||
			    sodium_memcmp(dig, mesh_id, MYCEL_HASH_LEN) != 0) {
				char got[2 * MYCEL_HASH_LEN + 1], want[2 * MYCEL_HASH_LEN + 1];
				mycel_hex(dig, MYCEL_HASH_LEN, got);
				mycel_hex(mesh_id, MYCEL_HASH_LEN, want);
				mycel_charter_free(ch);
				return vfail(MYCEL_EPERM, why, why_len,
					     "the charter is of mesh id %.16s…, not the pinned %.16s…",
					     got, want);
			}
		}
	} else if (mesh_id != NULL) {
		mycel_charter_free(ch);
		return vfail(MYCEL_ECHARTER, why, why_len,
			     "charter version %llu cannot be checked against a mesh id without "
			     "the charter chain from genesis",
			     (unsigned long long)mycel_charter_version(ch));
	}
	mycel_charter_free(c->charter);
	c->charter = ch;
	return 0;
}

int mycel_client_verify_entry_key(const mycel_charter *ch, const mycel_msg_Entry *m,
				  const mycel_entry_expect *exp, const uint8_t *key, char *why,
				  size_t why_len, mycel_entry *out_e)
{
	return mycel__client_verify_entry_key(ch, m, exp, key, why, why_len, out_e);
}
