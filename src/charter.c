/* charter.c — the mesh charter: build, sign, encode, strict decode, threshold checks. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mycel/charter.h"
#include "mycel/cel.h"
#include "mycel/policy.h"
#include "mycel/diff.h"
#include "mycel/entry.h"
#include "util.h"

static const char CHARTER_CTX[] = "mycel/charter/v1"; /* NUL included */

struct mycel_charter {
	mycel_arena *arena;
	const char *mesh;
	uint64_t version;
	uint32_t threshold;
	mycel_charter_member *members;
	size_t n_members, cap_members;
	mycel_charter_domain *domains;
	size_t n_domains, cap_domains;
	mycel_charter_cut *comps;
	size_t n_comps, cap_comps;
	const mycel_value *policies;
	const mycel_value *params;
	mycel_charter_sig *sigs;
	size_t n_sigs;
	uint8_t *bytes; /* canonical charter bytes, once fixed (decoded or signed) */
	size_t bytes_len;
};

static const mycel_value empty_array = {.type = MYCEL_T_ARRAY};
static const mycel_value empty_map = {.type = MYCEL_T_MAP};


bool mycel_name_valid(const char *name)
{
	size_t n = strnlen(name, MYCEL_NAME_MAX + 1);
	if (n == 0 || n > MYCEL_NAME_MAX || name[0] == '-' || name[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

static int charter_alloc(mycel_charter **out)
{
	mycel_charter *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return MYCEL_ENOMEM;
	if (mycel_arena_new(16u * MYCEL_CHARTER_MAX, &c->arena) != 0) {
		free(c);
		return MYCEL_ENOMEM;
	}
	c->policies = &empty_array;
	c->params = &empty_map;
	*out = c;
	return 0;
}

int mycel_charter_new(const char *mesh, uint64_t version, uint32_t threshold,
		      mycel_charter **out)
{
	mycel_charter *c;
	if (!mycel_name_valid(mesh) || version == 0 || threshold == 0)
		return MYCEL_EINVAL;
	int rv = charter_alloc(&c);
	if (rv != 0)
		return rv;
	c->mesh = mycel_arena_strdup(c->arena, mesh, strlen(mesh));
	if (c->mesh == NULL) {
		mycel_charter_free(c);
		return MYCEL_ENOMEM;
	}
	c->version = version;
	c->threshold = threshold;
	*out = c;
	return 0;
}

void mycel_charter_free(mycel_charter *c)
{
	if (c == NULL)
		return;
	free(c->members);
	free(c->domains);
	free(c->comps);
	free(c->sigs);
	free(c->bytes);
	mycel_arena_free(c->arena);
	free(c);
}

int mycel_charter_add_member(mycel_charter *c, const char *name, const uint8_t key[MYCEL_PK_LEN])
{
	if (c->n_sigs > 0 || c->bytes != NULL)
		return MYCEL_EBUSY;
	if (!mycel_name_valid(name))
		return MYCEL_EINVAL;
	if (c->n_members >= MYCEL_MEMBERS_MAX)
		return MYCEL_ETOOBIG;
	for (size_t i = 0; i < c->n_members; i++)
		if (strcmp(c->members[i].name, name) == 0 ||
		    memcmp(c->members[i].key, key, MYCEL_PK_LEN) == 0)
			return MYCEL_EEXIST;
	if (c->n_members == c->cap_members) {
		size_t cap = c->cap_members ? 2 * c->cap_members : 4;
		void *p = realloc(c->members, cap * sizeof(*c->members));
		if (p == NULL)
			return MYCEL_ENOMEM;
		c->members = p;
		c->cap_members = cap;
	}
	const char *nm = mycel_arena_strdup(c->arena, name, strlen(name));
	if (nm == NULL)
		return MYCEL_ENOMEM;
	c->members[c->n_members].name = nm;
	memcpy(c->members[c->n_members].key, key, MYCEL_PK_LEN);
	c->n_members++;
	return 0;
}

int mycel_charter_add_domain(mycel_charter *c, const char *name, const uint8_t feed[MYCEL_PK_LEN])
{
	if (c->n_sigs > 0 || c->bytes != NULL)
		return MYCEL_EBUSY;
	if (!mycel_name_valid(name))
		return MYCEL_EINVAL;
	if (c->n_domains >= MYCEL_DOMAINS_MAX)
		return MYCEL_ETOOBIG;
	for (size_t i = 0; i < c->n_domains; i++)
		if (strcmp(c->domains[i].name, name) == 0 ||
		    memcmp(c->domains[i].feed, feed, MYCEL_PK_LEN) == 0)
			return MYCEL_EEXIST;
	if (c->n_domains == c->cap_domains) {
		size_t cap = c->cap_domains ? 2 * c->cap_domains : 4;
		void *p = realloc(c->domains, cap * sizeof(*c->domains));
		if (p == NULL)
			return MYCEL_ENOMEM;
		c->domains = p;
		c->cap_domains = cap;
	}
	const char *nm = mycel_arena_strdup(c->arena, name, strlen(name));
	if (nm == NULL)
		return MYCEL_ENOMEM;
	c->domains[c->n_domains].name = nm;
	memcpy(c->domains[c->n_domains].feed, feed, MYCEL_PK_LEN);
	c->n_domains++;
	return 0;
}

/* ---- encoding ------------------------------------------------------------- */

static void enc_key(mycel_buf *b, const char *k)
{
	mycel_enc_cstr(b, k);
}

/*
 * The charter map, keys in bytewise order: [compromised] domains members mesh params policies
 * threshold version. compromised is absent when empty, so charters without it keep their bytes.
 */
static int encode_body(const mycel_charter *c, mycel_buf *b)
{
	mycel_enc_map(b, c->n_comps > 0 ? 8 : 7);
	if (c->n_comps > 0) {
		enc_key(b, "compromised");
		mycel_enc_array(b, (uint32_t)c->n_comps);
		for (size_t i = 0; i < c->n_comps; i++) {
			mycel_enc_map(b, 3);
			enc_key(b, "feed");
			mycel_enc_bin(b, c->comps[i].feed, MYCEL_PK_LEN);
			enc_key(b, "seq");
			mycel_enc_uint(b, c->comps[i].seq);
			enc_key(b, "successor");
			mycel_enc_bin(b, c->comps[i].successor, MYCEL_PK_LEN);
		}
	}
	enc_key(b, "domains");
	mycel_enc_array(b, (uint32_t)c->n_domains);
	for (size_t i = 0; i < c->n_domains; i++) {
		mycel_enc_map(b, 2);
		enc_key(b, "feed");
		mycel_enc_bin(b, c->domains[i].feed, MYCEL_PK_LEN);
		enc_key(b, "name");
		mycel_enc_cstr(b, c->domains[i].name);
	}
	enc_key(b, "members");
	mycel_enc_array(b, (uint32_t)c->n_members);
	for (size_t i = 0; i < c->n_members; i++) {
		mycel_enc_map(b, 2);
		enc_key(b, "key");
		mycel_enc_bin(b, c->members[i].key, MYCEL_PK_LEN);
		enc_key(b, "name");
		mycel_enc_cstr(b, c->members[i].name);
	}
	enc_key(b, "mesh");
	mycel_enc_cstr(b, c->mesh);
	enc_key(b, "params");
	if (b->err == 0)
		(void)mycel_value_encode(c->params, b);
	enc_key(b, "policies");
	if (b->err == 0)
		(void)mycel_value_encode(c->policies, b);
	enc_key(b, "threshold");
	mycel_enc_uint(b, c->threshold);
	enc_key(b, "version");
	mycel_enc_uint(b, c->version);
	return b->err;
}

/* Fixes the charter bytes (from the fields) if they are not fixed yet. */
static int fix_bytes(mycel_charter *c)
{
	if (c->bytes != NULL)
		return 0;
	mycel_buf b;
	mycel_buf_init(&b, MYCEL_CHARTER_MAX);
	int rv = encode_body(c, &b);
	if (rv != 0) {
		mycel_buf_fini(&b);
		return rv;
	}
	c->bytes = b.data;
	c->bytes_len = b.len;
	return 0;
}

static int well_formed(const mycel_charter *c, char *why, size_t why_len)
{
	if (c->n_members == 0)
		return mycel__fail(MYCEL_ECHARTER, why, why_len, "/members: a charter needs at least one member");
	if (c->threshold < 1 || c->threshold > c->n_members)
		return mycel__fail(MYCEL_ECHARTER, why, why_len,
			    "/threshold: %u is not between 1 and the %zu members", c->threshold,
			    c->n_members);
	for (size_t i = 0; i < c->n_comps; i++) {
		const mycel_charter_cut *k = &c->comps[i];
		if (mycel_charter_find_feed(c, k->feed) != NULL)
			return mycel__fail(MYCEL_ECHARTER, why, why_len,
					   "/compromised/%zu/feed: still bound to a domain in /domains", i);
		if (mycel_charter_find_feed(c, k->successor) == NULL)
			return mycel__fail(MYCEL_ECHARTER, why, why_len,
					   "/compromised/%zu/successor: not the feed of a domain in /domains",
					   i);
	}
	return 0;
}

static uint8_t *sign_buffer(const mycel_charter *c, size_t *len)
{
	*len = sizeof(CHARTER_CTX) + c->bytes_len;
	uint8_t *m = malloc(*len);
	if (m != NULL) {
		memcpy(m, CHARTER_CTX, sizeof(CHARTER_CTX));
		memcpy(m + sizeof(CHARTER_CTX), c->bytes, c->bytes_len);
	}
	return m;
}

int mycel_charter_sign(mycel_charter *c, const mycel_key *key, char *why, size_t why_len)
{
	int rv = well_formed(c, why, why_len);
	if (rv != 0)
		return rv;
	if (mycel__sodium_init() != 0)
		return MYCEL_ENOMEM;
	if ((rv = fix_bytes(c)) != 0)
		return mycel__fail(rv, why, why_len, "cannot encode the charter: %s", mycel_strerror(rv));
	size_t mlen;
	uint8_t *m = sign_buffer(c, &mlen);
	if (m == NULL)
		return MYCEL_ENOMEM;
	mycel_charter_sig s;
	memcpy(s.key, key->pk, MYCEL_PK_LEN);
	crypto_sign_detached(s.sig, NULL, m, mlen, key->sk);
	free(m);

	size_t pos = 0;
	while (pos < c->n_sigs && memcmp(c->sigs[pos].key, s.key, MYCEL_PK_LEN) < 0)
		pos++;
	if (pos < c->n_sigs && memcmp(c->sigs[pos].key, s.key, MYCEL_PK_LEN) == 0) {
		c->sigs[pos] = s;
		return 0;
	}
	void *p = realloc(c->sigs, (c->n_sigs + 1) * sizeof(*c->sigs));
	if (p == NULL)
		return MYCEL_ENOMEM;
	c->sigs = p;
	memmove(&c->sigs[pos + 1], &c->sigs[pos], (c->n_sigs - pos) * sizeof(*c->sigs));
	c->sigs[pos] = s;
	c->n_sigs++;
	return 0;
}

/*
 * The charter bytes: the fixed ones, or for an unsigned draft a fresh encoding
 * in tmp (fixing them here would make the builders refuse an unsigned charter).
 */
static int current_bytes(const mycel_charter *c, mycel_buf *tmp, const uint8_t **p, size_t *n)
{
	mycel_buf_init(tmp, MYCEL_CHARTER_MAX);
	if (c->bytes != NULL) {
		*p = c->bytes;
		*n = c->bytes_len;
		return 0;
	}
	int rv = encode_body(c, tmp);
	if (rv != 0) {
		mycel_buf_fini(tmp);
		return rv;
	}
	*p = tmp->data;
	*n = tmp->len;
	return 0;
}

int mycel_charter_encode(const mycel_charter *c, mycel_buf *b)
{
	mycel_buf tmp;
	const uint8_t *body;
	size_t blen;
	int rv = current_bytes(c, &tmp, &body, &blen);
	if (rv != 0)
		return rv;
	mycel_enc_array(b, 2);
	mycel_enc_bin(b, body, blen);
	mycel_buf_fini(&tmp);
	mycel_enc_array(b, (uint32_t)c->n_sigs);
	for (size_t i = 0; i < c->n_sigs; i++) {
		mycel_enc_array(b, 2);
		mycel_enc_bin(b, c->sigs[i].key, MYCEL_PK_LEN);
		mycel_enc_bin(b, c->sigs[i].sig, MYCEL_SIG_LEN);
	}
	return b->err;
}

/* ---- decoding ------------------------------------------------------------- */

static bool only_keys(const mycel_value *m, const char *const *keys, size_t nkeys,
		      const char **bad)
{
	for (size_t i = 0; i < m->v.m.len; i++) {
		bool ok = false;
		for (size_t k = 0; k < nkeys; k++)
			if (strcmp(m->v.m.items[i].key, keys[k]) == 0)
				ok = true;
		if (!ok) {
			*bad = m->v.m.items[i].key;
			return false;
		}
	}
	return true;
}

static const mycel_value *get_typed(const mycel_value *m, const char *key, mycel_type t)
{
	const mycel_value *v = mycel_value_get(m, key);
	return v != NULL && v->type == t ? v : NULL;
}

/* Reads {<keyname>: bin32, name: str} entries of members or domains. */
static int decode_pairs(const mycel_value *arr, const char *field, const char *keyname,
			size_t max, mycel_charter *c, bool members, char *why, size_t why_len)
{
	static const char *const mkeys[] = {"key", "name"};
	static const char *const dkeys[] = {"feed", "name"};
	if (arr->v.a.len > max)
		return mycel__fail(MYCEL_ECHARTER, why, why_len, "/%s: more than %zu entries", field, max);
	for (size_t i = 0; i < arr->v.a.len; i++) {
		const mycel_value *m = &arr->v.a.items[i];
		const char *bad = NULL;
		if (m->type != MYCEL_T_MAP)
			return mycel__fail(MYCEL_ECHARTER, why, why_len, "/%s/%zu: not a map", field, i);
		if (!only_keys(m, members ? mkeys : dkeys, 2, &bad))
			return mycel__fail(MYCEL_ECHARTER, why, why_len, "/%s/%zu: unknown key \"%s\"",
				    field, i, bad);
		const mycel_value *k = get_typed(m, keyname, MYCEL_T_BIN);
		const mycel_value *n = get_typed(m, "name", MYCEL_T_STR);
		if (k == NULL || k->v.s.len != MYCEL_PK_LEN)
			return mycel__fail(MYCEL_ECHARTER, why, why_len, "/%s/%zu/%s: not a 32-byte bin",
				    field, i, keyname);
		if (n == NULL || strlen(n->v.s.ptr) != n->v.s.len || !mycel_name_valid(n->v.s.ptr))
			return mycel__fail(MYCEL_ECHARTER, why, why_len,
				    "/%s/%zu/name: not a valid name ([a-z0-9-], 1 to 64)", field, i);
		int rv = members ? mycel_charter_add_member(c, n->v.s.ptr, (const uint8_t *)k->v.s.ptr)
				 : mycel_charter_add_domain(c, n->v.s.ptr, (const uint8_t *)k->v.s.ptr);
		if (rv == MYCEL_EEXIST)
			return mycel__fail(MYCEL_ECHARTER, why, why_len,
				    "/%s/%zu: name or %s repeats an earlier entry", field, i, keyname);
		if (rv != 0)
			return mycel__fail(rv, why, why_len, "/%s/%zu: %s", field, i, mycel_strerror(rv));
	}
	return 0;
}

static int decode_policies(const mycel_value *arr, char *why, size_t why_len)
{
	static const char *const pkeys[] = {"expr", "id", "message", "severity"};
	if (arr->v.a.len > MYCEL_POLICIES_MAX)
		return mycel__fail(MYCEL_ECHARTER, why, why_len, "/policies: %zu policies, at most %d",
				   arr->v.a.len, MYCEL_POLICIES_MAX);
	for (size_t i = 0; i < arr->v.a.len; i++) {
		const mycel_value *p = &arr->v.a.items[i];
		const char *bad = NULL;
		if (p->type != MYCEL_T_MAP)
			return mycel__fail(MYCEL_ECHARTER, why, why_len, "/policies/%zu: not a map", i);
		if (!only_keys(p, pkeys, 4, &bad))
			return mycel__fail(MYCEL_ECHARTER, why, why_len,
				    "/policies/%zu: unknown key \"%s\"", i, bad);
		for (size_t k = 0; k < 4; k++)
			if (get_typed(p, pkeys[k], MYCEL_T_STR) == NULL)
				return mycel__fail(MYCEL_ECHARTER, why, why_len,
					    "/policies/%zu/%s: missing or not a string", i, pkeys[k]);
		const mycel_value *sev = mycel_value_get(p, "severity");
		if (sev->v.s.len != 4 ||
		    (strcmp(sev->v.s.ptr, "deny") != 0 && strcmp(sev->v.s.ptr, "warn") != 0))
			return mycel__fail(MYCEL_ECHARTER, why, why_len,
				    "/policies/%zu/severity: must be \"deny\" or \"warn\"", i);
		const char *id = mycel_value_get(p, "id")->v.s.ptr;
		for (size_t j = 0; j < i; j++)
			if (strcmp(mycel_value_get(&arr->v.a.items[j], "id")->v.s.ptr, id) == 0)
				return mycel__fail(MYCEL_ECHARTER, why, why_len,
					    "/policies/%zu/id: \"%s\" is used twice", i, id);
		/* a node that could not enforce a policy must not accept the charter */
		const mycel_value *ex = mycel_value_get(p, "expr");
		mycel_cel *e = NULL;
		mycel_cel_err err;
		memset(&err, 0, sizeof(err));
		int rv = mycel_cel_compile(ex->v.s.ptr, ex->v.s.len, &e, &err);
		mycel_cel_free(e);
		if (rv != 0)
			return mycel__fail(MYCEL_ECHARTER, why, why_len,
				    "/policies/%zu/expr: policy %s: %u:%u: %s", i, id, err.line,
				    err.col, err.msg[0] ? err.msg : mycel_strerror(rv));
	}
	return 0;
}

/* Reads the optional compromised array: [{feed: bin 32, seq: uint, successor: bin 32}, ...]. */
static int decode_compromised(const mycel_value *arr, mycel_charter *c, char *why, size_t why_len)
{
	static const char *const ckeys[] = {"feed", "seq", "successor"};
	if (arr->v.a.len == 0)
		return mycel__fail(MYCEL_ECHARTER, why, why_len,
				   "/compromised: empty (the key is absent when nothing is compromised)");
	if (arr->v.a.len > MYCEL_DOMAINS_MAX)
		return mycel__fail(MYCEL_ECHARTER, why, why_len, "/compromised: more than %d entries",
				   MYCEL_DOMAINS_MAX);
	if ((c->comps = calloc(arr->v.a.len, sizeof(*c->comps))) == NULL)
		return MYCEL_ENOMEM;
	c->cap_comps = arr->v.a.len;
	for (size_t i = 0; i < arr->v.a.len; i++) {
		const mycel_value *m = &arr->v.a.items[i];
		const char *bad = NULL;
		if (m->type != MYCEL_T_MAP)
			return mycel__fail(MYCEL_ECHARTER, why, why_len, "/compromised/%zu: not a map", i);
		if (!only_keys(m, ckeys, 3, &bad))
			return mycel__fail(MYCEL_ECHARTER, why, why_len,
					   "/compromised/%zu: unknown key \"%s\"", i, bad);
		const mycel_value *f = get_typed(m, "feed", MYCEL_T_BIN);
		const mycel_value *q = get_typed(m, "seq", MYCEL_T_UINT);
		const mycel_value *su = get_typed(m, "successor", MYCEL_T_BIN);
		if (f == NULL || f->v.s.len != MYCEL_PK_LEN)
			return mycel__fail(MYCEL_ECHARTER, why, why_len,
					   "/compromised/%zu/feed: not a 32-byte bin", i);
		if (q == NULL)
			return mycel__fail(MYCEL_ECHARTER, why, why_len,
					   "/compromised/%zu/seq: missing or not an unsigned integer", i);
		if (su == NULL || su->v.s.len != MYCEL_PK_LEN)
			return mycel__fail(MYCEL_ECHARTER, why, why_len,
					   "/compromised/%zu/successor: not a 32-byte bin", i);
		for (size_t j = 0; j < i; j++)
			if (memcmp(c->comps[j].feed, f->v.s.ptr, MYCEL_PK_LEN) == 0)
				return mycel__fail(MYCEL_ECHARTER, why, why_len,
						   "/compromised/%zu/feed: listed twice", i);
		memcpy(c->comps[i].feed, f->v.s.ptr, MYCEL_PK_LEN);
		c->comps[i].seq = q->v.u;
		memcpy(c->comps[i].successor, su->v.s.ptr, MYCEL_PK_LEN);
		c->n_comps = i + 1;
	}
	return 0;
}

static int decode_body(mycel_charter *c, const uint8_t *p, size_t n, char *why, size_t why_len)
{
	static const char *const keys[] = {"domains", "members", "mesh", "params",
					   "policies", "threshold", "version", "compromised"};
	mycel_value *root;
	mycel_decode_err de = {0, 0};
	const char *bad = NULL;
	int rv = mycel_value_decode(p, n, MYCEL_CHARTER_MAX, c->arena, &root, &de);
	if (rv != 0)
		return mycel__fail(rv, why, why_len, "charter bytes, offset %zu: %s", de.offset,
			    mycel_strerror(rv));
	if (root->type != MYCEL_T_MAP)
		return mycel__fail(MYCEL_ECHARTER, why, why_len, "charter: not a map");
	if (!only_keys(root, keys, 8, &bad))
		return mycel__fail(MYCEL_ECHARTER, why, why_len, "/%s: unknown charter field", bad);
	for (size_t k = 0; k < 7; k++)
		if (mycel_value_get(root, keys[k]) == NULL)
			return mycel__fail(MYCEL_ECHARTER, why, why_len, "/%s: missing", keys[k]);
	const mycel_value *mesh = get_typed(root, "mesh", MYCEL_T_STR);
	if (mesh == NULL || strlen(mesh->v.s.ptr) != mesh->v.s.len || !mycel_name_valid(mesh->v.s.ptr))
		return mycel__fail(MYCEL_ECHARTER, why, why_len, "/mesh: not a valid name");
	c->mesh = mesh->v.s.ptr;
	const mycel_value *ver = get_typed(root, "version", MYCEL_T_UINT);
	if (ver == NULL || ver->v.u == 0)
		return mycel__fail(MYCEL_ECHARTER, why, why_len, "/version: not an integer >= 1");
	c->version = ver->v.u;
	const mycel_value *thr = get_typed(root, "threshold", MYCEL_T_UINT);
	if (thr == NULL || thr->v.u == 0 || thr->v.u > MYCEL_MEMBERS_MAX)
		return mycel__fail(MYCEL_ECHARTER, why, why_len, "/threshold: not an integer from 1 to 255");
	c->threshold = (uint32_t)thr->v.u;
	const mycel_value *members = get_typed(root, "members", MYCEL_T_ARRAY);
	const mycel_value *domains = get_typed(root, "domains", MYCEL_T_ARRAY);
	const mycel_value *policies = get_typed(root, "policies", MYCEL_T_ARRAY);
	const mycel_value *params = get_typed(root, "params", MYCEL_T_MAP);
	if (members == NULL || domains == NULL || policies == NULL || params == NULL)
		return mycel__fail(MYCEL_ECHARTER, why, why_len,
			    "members, domains and policies must be arrays, params a map");
	if ((rv = decode_pairs(members, "members", "key", MYCEL_MEMBERS_MAX, c, true, why,
			       why_len)) != 0)
		return rv;
	if ((rv = decode_pairs(domains, "domains", "feed", MYCEL_DOMAINS_MAX, c, false, why,
			       why_len)) != 0)
		return rv;
	if ((rv = decode_policies(policies, why, why_len)) != 0)
		return rv;
	const mycel_value *comp = mycel_value_get(root, "compromised");
	if (comp != NULL && comp->type != MYCEL_T_ARRAY)
		return mycel__fail(MYCEL_ECHARTER, why, why_len, "/compromised: not an array");
	if (comp != NULL && (rv = decode_compromised(comp, c, why, why_len)) != 0)
		return rv;
	c->policies = policies;
	c->params = params;
	/* the parameters libmycel enforces must be valid: a node that cannot enforce one refuses it */
	char pw[256];
	mycel_compat mode;
	if (mycel_compat_from_params(params, &mode, pw, sizeof(pw)) != 0)
		return mycel__fail(MYCEL_ECHARTER, why, why_len, "/params/compatibility: %s", pw);
	return well_formed(c, why, why_len);
}

/* The reader's ETYPE means "not the layout's type here": a format error. */
static int layout(int rv)
{
	return rv == MYCEL_ETYPE ? MYCEL_EFORMAT : rv;
}

int mycel_charter_decode(const uint8_t *p, size_t n, mycel_charter **out, char *why,
			 size_t why_len)
{
	mycel_charter *c = NULL;
	mycel_rd r;
	uint32_t cnt, nsig;
	const uint8_t *body;
	size_t blen;
	int rv;

	if (n > MYCEL_CHARTER_MAX)
		return mycel__fail(MYCEL_ETOOBIG, why, why_len, "charter file larger than 1 MiB");
	/* A value of the wrong type where the layout wants another is a format error (as for entries). */
	mycel_rd_init(&r, p, n);
	if ((rv = layout(mycel_rd_array(&r, &cnt))) != 0 || cnt != 2)
		return mycel__fail(rv ? rv : MYCEL_EFORMAT, why, why_len,
			    "charter file, offset %zu: not [charter, signatures]", mycel_rd_offset(&r));
	if ((rv = layout(mycel_rd_bin(&r, &body, &blen))) != 0)
		return mycel__fail(rv, why, why_len, "charter file, offset %zu: charter is not a bin: %s",
			    mycel_rd_offset(&r), mycel_strerror(rv));
	if ((rv = layout(mycel_rd_array(&r, &nsig))) != 0)
		return mycel__fail(rv, why, why_len, "charter file, offset %zu: signatures: %s",
			    mycel_rd_offset(&r), mycel_strerror(rv));
	if (nsig > MYCEL_MEMBERS_MAX * 2)
		return mycel__fail(MYCEL_ECHARTER, why, why_len, "charter file: too many signatures");
	if ((rv = charter_alloc(&c)) != 0)
		return rv;
	if (nsig > 0 && (c->sigs = calloc(nsig, sizeof(*c->sigs))) == NULL) {
		rv = MYCEL_ENOMEM;
		goto fail;
	}
	for (uint32_t i = 0; i < nsig; i++) {
		uint32_t two;
		const uint8_t *k, *s;
		size_t off = mycel_rd_offset(&r);
		if ((rv = layout(mycel_rd_array(&r, &two))) != 0 || two != 2 ||
		    (rv = layout(mycel_rd_bin_n(&r, &k, MYCEL_PK_LEN))) != 0 ||
		    (rv = layout(mycel_rd_bin_n(&r, &s, MYCEL_SIG_LEN))) != 0) {
			rv = mycel__fail(rv ? rv : MYCEL_EFORMAT, why, why_len,
				  "charter file, offset %zu: signature %u is not [key(32), sig(64)]",
				  off, i);
			goto fail;
		}
		if (i > 0 && memcmp(c->sigs[i - 1].key, k, MYCEL_PK_LEN) >= 0) {
			rv = mycel__fail(MYCEL_ECHARTER, why, why_len,
				  "charter file: signature %u is not sorted after the previous key", i);
			goto fail;
		}
		memcpy(c->sigs[i].key, k, MYCEL_PK_LEN);
		memcpy(c->sigs[i].sig, s, MYCEL_SIG_LEN);
		c->n_sigs = i + 1;
	}
	if ((rv = mycel_rd_end(&r)) != 0) {
		rv = mycel__fail(rv, why, why_len, "charter file, offset %zu: trailing bytes",
			  mycel_rd_offset(&r));
		goto fail;
	}
	size_t keep = c->n_sigs;
	c->n_sigs = 0; /* the builders refuse signed charters */
	rv = decode_body(c, body, blen, why, why_len);
	c->n_sigs = keep;
	if (rv != 0)
		goto fail;
	if ((c->bytes = malloc(blen ? blen : 1)) == NULL) {
		rv = MYCEL_ENOMEM;
		goto fail;
	}
	memcpy(c->bytes, body, blen);
	c->bytes_len = blen;
	*out = c;
	return 0;
fail:
	mycel_charter_free(c);
	return rv;
}

/* ---- verification ----------------------------------------------------------- */

static bool is_member(const mycel_charter *c, const uint8_t key[MYCEL_PK_LEN])
{
	for (size_t i = 0; i < c->n_members; i++)
		if (memcmp(c->members[i].key, key, MYCEL_PK_LEN) == 0)
			return true;
	return false;
}

/*
 * Checks every signature of c against c's bytes; each must verify and be by a
 * member of a or (if not NULL) b. Counts valid signatures by members of a and b.
 */
static int check_sigs(const mycel_charter *c, const mycel_charter *a, const mycel_charter *b,
		      size_t *na, size_t *nb, char *why, size_t why_len)
{
	char hex[2 * MYCEL_PK_LEN + 1];
	size_t mlen;
	*na = *nb = 0;
	if (mycel__sodium_init() != 0 || c->bytes == NULL)
		return MYCEL_ENOMEM;
	uint8_t *m = sign_buffer(c, &mlen);
	if (m == NULL)
		return MYCEL_ENOMEM;
	for (size_t i = 0; i < c->n_sigs; i++) {
		const mycel_charter_sig *s = &c->sigs[i];
		bool in_a = is_member(a, s->key), in_b = b != NULL && is_member(b, s->key);
		mycel_hex(s->key, MYCEL_PK_LEN, hex);
		if (!in_a && !in_b) {
			free(m);
			return mycel__fail(MYCEL_ECHARTER, why, why_len,
				    "charter v%llu: signature %zu by %s, who is not a member",
				    (unsigned long long)c->version, i, hex);
		}
		if (crypto_sign_verify_detached(s->sig, m, mlen, s->key) != 0) {
			free(m);
			return mycel__fail(MYCEL_EBADSIG, why, why_len,
				    "charter v%llu: signature %zu by %s does not verify",
				    (unsigned long long)c->version, i, hex);
		}
		*na += in_a;
		*nb += in_b;
	}
	free(m);
	return 0;
}

int mycel_charter_verify_genesis(const mycel_charter *c, char *why, size_t why_len)
{
	size_t na, nb;
	if (c->version != 1)
		return mycel__fail(MYCEL_ECHARTER, why, why_len, "genesis charter has version %llu, not 1",
			    (unsigned long long)c->version);
	if (c->n_comps > 0)
		return mycel__fail(MYCEL_ECHARTER, why, why_len,
				   "genesis charter declares compromised feeds: only a later version can");
	if (c->bytes == NULL)
		return mycel__fail(MYCEL_ETHRESHOLD, why, why_len, "charter v1 is not signed");
	int rv = check_sigs(c, c, NULL, &na, &nb, why, why_len);
	if (rv != 0)
		return rv;
	if (na < c->threshold)
		return mycel__fail(MYCEL_ETHRESHOLD, why, why_len,
			    "charter v1: %zu valid member signature(s), threshold is %u", na,
			    c->threshold);
	return 0;
}

/*
 * The rules of a step for compromised feeds: a cut never moves, only a feed that prev binds to
 * a domain (or already lists as compromised) can be declared compromised, and a compromised
 * feed is never bound to a domain again.
 */
static int check_evolution(const mycel_charter *prev, const mycel_charter *next, char *why,
			   size_t why_len)
{
	char hex[2 * MYCEL_PK_LEN + 1];
	unsigned long long v = (unsigned long long)next->version;
	for (size_t i = 0; i < next->n_comps; i++) {
		const mycel_charter_cut *k = &next->comps[i];
		const mycel_charter_cut *was = mycel_charter_find_compromised(prev, k->feed);
		mycel_hex(k->feed, MYCEL_PK_LEN, hex);
		if (was != NULL && was->seq != k->seq)
			return mycel__fail(MYCEL_ECHARTER, why, why_len,
					   "charter v%llu: /compromised/%zu moves the cut of feed %.16s… "
					   "from seq %llu to %llu (a cut never moves)",
					   v, i, hex, (unsigned long long)was->seq,
					   (unsigned long long)k->seq);
		if (was == NULL && mycel_charter_find_feed(prev, k->feed) == NULL)
			return mycel__fail(MYCEL_ECHARTER, why, why_len,
					   "charter v%llu: /compromised/%zu: feed %.16s… is not bound to "
					   "a domain in v%llu",
					   v, i, hex, (unsigned long long)prev->version);
	}
	for (size_t i = 0; i < next->n_domains; i++)
		if (mycel_charter_find_compromised(prev, next->domains[i].feed) != NULL)
			return mycel__fail(MYCEL_ECHARTER, why, why_len,
					   "charter v%llu: /domains/%zu (%s) binds a feed that v%llu "
					   "declared compromised",
					   v, i, next->domains[i].name,
					   (unsigned long long)prev->version);
	return 0;
}

int mycel_charter_verify_next(const mycel_charter *prev, const mycel_charter *next, char *why,
			      size_t why_len)
{
	size_t na, nb;
	if (next->version != prev->version + 1)
		return mycel__fail(MYCEL_ECHARTER, why, why_len,
			    "charter v%llu cannot follow v%llu: versions step by one",
			    (unsigned long long)next->version, (unsigned long long)prev->version);
	if (strcmp(prev->mesh, next->mesh) != 0)
		return mycel__fail(MYCEL_ECHARTER, why, why_len, "charter v%llu names mesh \"%s\", not \"%s\"",
			    (unsigned long long)next->version, next->mesh, prev->mesh);
	int rv = check_evolution(prev, next, why, why_len);
	if (rv != 0)
		return rv;
	if (next->bytes == NULL)
		return mycel__fail(MYCEL_ETHRESHOLD, why, why_len, "charter v%llu is not signed",
			    (unsigned long long)next->version);
	rv = check_sigs(next, prev, next, &na, &nb, why, why_len);
	if (rv != 0)
		return rv;
	if (na < prev->threshold)
		return mycel__fail(MYCEL_ETHRESHOLD, why, why_len,
			    "charter v%llu: %zu signature(s) of v%llu's members, threshold is %u",
			    (unsigned long long)next->version, na,
			    (unsigned long long)prev->version, prev->threshold);
	if (nb < next->threshold)
		return mycel__fail(MYCEL_ETHRESHOLD, why, why_len,
			    "charter v%llu: %zu signature(s) of its own members, threshold is %u",
			    (unsigned long long)next->version, nb, next->threshold);
	return 0;
}

/* ---- accessors ---------------------------------------------------------------- */

const char *mycel_charter_mesh(const mycel_charter *c) { return c->mesh; }
uint64_t mycel_charter_version(const mycel_charter *c) { return c->version; }
uint32_t mycel_charter_threshold(const mycel_charter *c) { return c->threshold; }
size_t mycel_charter_member_count(const mycel_charter *c) { return c->n_members; }
size_t mycel_charter_domain_count(const mycel_charter *c) { return c->n_domains; }
size_t mycel_charter_sig_count(const mycel_charter *c) { return c->n_sigs; }
const mycel_value *mycel_charter_policies(const mycel_charter *c) { return c->policies; }
const mycel_value *mycel_charter_params(const mycel_charter *c) { return c->params; }

const mycel_charter_member *mycel_charter_member_at(const mycel_charter *c, size_t i)
{
	return i < c->n_members ? &c->members[i] : NULL;
}

const mycel_charter_domain *mycel_charter_domain_at(const mycel_charter *c, size_t i)
{
	return i < c->n_domains ? &c->domains[i] : NULL;
}

const mycel_charter_sig *mycel_charter_sig_at(const mycel_charter *c, size_t i)
{
	return i < c->n_sigs ? &c->sigs[i] : NULL;
}

const mycel_charter_domain *mycel_charter_find_feed(const mycel_charter *c,
						    const uint8_t feed[MYCEL_PK_LEN])
{
	for (size_t i = 0; i < c->n_domains; i++)
		if (memcmp(c->domains[i].feed, feed, MYCEL_PK_LEN) == 0)
			return &c->domains[i];
	return NULL;
}

const mycel_charter_domain *mycel_charter_find_domain(const mycel_charter *c, const char *name)
{
	for (size_t i = 0; i < c->n_domains; i++)
		if (strcmp(c->domains[i].name, name) == 0)
			return &c->domains[i];
	return NULL;
}

int mycel_charter_digest(const mycel_charter *c, uint8_t out[32])
{
	mycel_buf tmp;
	const uint8_t *body;
	size_t blen;
	int rv = current_bytes(c, &tmp, &body, &blen);
	if (rv != 0)
		return rv;
	crypto_generichash(out, 32, body, blen, NULL, 0);
	mycel_buf_fini(&tmp);
	return 0;
}

/* ---- evolution: the next version, its builders, compromised feeds ------------------------ */

int mycel_charter_next(const mycel_charter *prev, mycel_charter **out)
{
	mycel_charter *c = NULL;
	mycel_buf tmp;
	const uint8_t *body;
	size_t blen;
	char why[64];
	if (prev->version == UINT64_MAX)
		return MYCEL_EINVAL;
	int rv = current_bytes(prev, &tmp, &body, &blen);
	if (rv != 0)
		return rv;
	if ((rv = charter_alloc(&c)) == 0)
		rv = decode_body(c, body, blen, why, sizeof(why));
	mycel_buf_fini(&tmp);
	if (rv != 0) {
		mycel_charter_free(c);
		return rv == MYCEL_ENOMEM ? rv : MYCEL_ECHARTER;
	}
	c->version = prev->version + 1;
	*out = c;
	return 0;
}

static bool draft(const mycel_charter *c)
{
	return c->n_sigs == 0 && c->bytes == NULL;
}

int mycel_charter_remove_member(mycel_charter *c, const char *name)
{
	if (!draft(c))
		return MYCEL_EBUSY;
	for (size_t i = 0; i < c->n_members; i++)
		if (strcmp(c->members[i].name, name) == 0) {
			memmove(&c->members[i], &c->members[i + 1],
				(c->n_members - i - 1) * sizeof(*c->members));
			c->n_members--;
			return 0;
		}
	return MYCEL_ENOTFOUND;
}

int mycel_charter_remove_domain(mycel_charter *c, const char *name)
{
	if (!draft(c))
		return MYCEL_EBUSY;
	for (size_t i = 0; i < c->n_domains; i++)
		if (strcmp(c->domains[i].name, name) == 0) {
			/* a compromised feed whose successor this was is no longer admitted either */
			for (size_t k = 0; k < c->n_comps;)
				if (memcmp(c->comps[k].successor, c->domains[i].feed, MYCEL_PK_LEN) == 0) {
					memmove(&c->comps[k], &c->comps[k + 1],
						(c->n_comps - k - 1) * sizeof(*c->comps));
					c->n_comps--;
				} else {
					k++;
				}
			memmove(&c->domains[i], &c->domains[i + 1],
				(c->n_domains - i - 1) * sizeof(*c->domains));
			c->n_domains--;
			return 0;
		}
	return MYCEL_ENOTFOUND;
}

int mycel_charter_set_threshold(mycel_charter *c, uint32_t threshold)
{
	if (!draft(c))
		return MYCEL_EBUSY;
	if (threshold == 0 || threshold > MYCEL_MEMBERS_MAX)
		return MYCEL_EINVAL;
	c->threshold = threshold;
	return 0;
}

static bool policy_has_id(const mycel_value *p, const char *id)
{
	const mycel_value *v = mycel_value_get(p, "id");
	return v != NULL && v->type == MYCEL_T_STR && strcmp(v->v.s.ptr, id) == 0;
}

/* A copy of the policies array with room for one more item, in the charter's arena. */
static mycel_value *policies_copy(mycel_charter *c, size_t extra)
{
	const mycel_value *old = c->policies;
	mycel_value *arr = mycel_arena_alloc(c->arena, sizeof(*arr));
	if (arr == NULL)
		return NULL;
	*arr = *old;
	size_t n = old->v.a.len + extra;
	arr->v.a.items = n ? mycel_arena_alloc(c->arena, n * sizeof(mycel_value)) : NULL;
	if (n && arr->v.a.items == NULL)
		return NULL;
	if (old->v.a.len > 0)
		memcpy(arr->v.a.items, old->v.a.items, old->v.a.len * sizeof(mycel_value));
	return arr;
}

static bool set_str(mycel_charter *c, mycel_member *m, const char *key, const char *val)
{
	m->key = key;
	m->key_len = strlen(key);
	m->val.type = MYCEL_T_STR;
	m->val.line = m->val.col = 0;
	m->val.v.s.len = strlen(val);
	m->val.v.s.ptr = mycel_arena_strdup(c->arena, val, m->val.v.s.len);
	return m->val.v.s.ptr != NULL;
}

int mycel_charter_set_policy(mycel_charter *c, const char *id, const char *severity,
			     const char *expr, const char *message)
{
	if (!draft(c))
		return MYCEL_EBUSY;
	if (id == NULL || id[0] == '\0' || expr == NULL || message == NULL || severity == NULL ||
	    (strcmp(severity, "deny") != 0 && strcmp(severity, "warn") != 0))
		return MYCEL_EINVAL;
	mycel_cel *e = NULL;
	int rv = mycel_cel_compile(expr, strlen(expr), &e, NULL);
	mycel_cel_free(e);
	if (rv != 0)
		return rv == MYCEL_ENOMEM ? rv : MYCEL_EEXPR;
	mycel_value *arr = policies_copy(c, 1);
	mycel_member *items = mycel_arena_alloc(c->arena, 4 * sizeof(*items));
	if (arr == NULL || items == NULL)
		return MYCEL_ENOMEM;
	/* keys in bytewise order, as a decoded map has them */
	if (!set_str(c, &items[0], "expr", expr) || !set_str(c, &items[1], "id", id) ||
	    !set_str(c, &items[2], "message", message) ||
	    !set_str(c, &items[3], "severity", severity))
		return MYCEL_ENOMEM;
	mycel_value pol = {.type = MYCEL_T_MAP};
	pol.v.m.items = items;
	pol.v.m.len = 4;
	size_t at = arr->v.a.len;
	for (size_t i = 0; i < arr->v.a.len; i++)
		if (policy_has_id(&arr->v.a.items[i], id))
			at = i;
	arr->v.a.items[at] = pol;
	if (at == arr->v.a.len)
		arr->v.a.len++;
	c->policies = arr;
	return 0;
}

int mycel_charter_remove_policy(mycel_charter *c, const char *id)
{
	if (!draft(c))
		return MYCEL_EBUSY;
	for (size_t i = 0; i < c->policies->v.a.len; i++)
		if (policy_has_id(&c->policies->v.a.items[i], id)) {
			mycel_value *arr = policies_copy(c, 0);
			if (arr == NULL)
				return MYCEL_ENOMEM;
			memmove(&arr->v.a.items[i], &arr->v.a.items[i + 1],
				(arr->v.a.len - i - 1) * sizeof(mycel_value));
			arr->v.a.len--;
			c->policies = arr;
			return 0;
		}
	return MYCEL_ENOTFOUND;
}

int mycel_charter_compromise(mycel_charter *c, const char *domain, uint64_t seq,
			     const uint8_t successor[MYCEL_PK_LEN])
{
	if (!draft(c))
		return MYCEL_EBUSY;
	mycel_charter_domain *d = NULL;
	for (size_t i = 0; i < c->n_domains; i++)
		if (strcmp(c->domains[i].name, domain) == 0)
			d = &c->domains[i];
	if (d == NULL)
		return MYCEL_ENOTFOUND;
	if (mycel_charter_find_feed(c, successor) != NULL ||
	    mycel_charter_find_compromised(c, successor) != NULL)
		return MYCEL_EEXIST;
	if (c->n_comps >= MYCEL_DOMAINS_MAX)
		return MYCEL_ETOOBIG;
	if (c->n_comps == c->cap_comps) {
		size_t cap = c->cap_comps ? 2 * c->cap_comps : 4;
		void *p = realloc(c->comps, cap * sizeof(*c->comps));
		if (p == NULL)
			return MYCEL_ENOMEM;
		c->comps = p;
		c->cap_comps = cap;
	}
	/* feeds compromised earlier in this domain now name the new successor */
	for (size_t i = 0; i < c->n_comps; i++)
		if (memcmp(c->comps[i].successor, d->feed, MYCEL_PK_LEN) == 0)
			memcpy(c->comps[i].successor, successor, MYCEL_PK_LEN);
	mycel_charter_cut *k = &c->comps[c->n_comps++];
	memcpy(k->feed, d->feed, MYCEL_PK_LEN);
	k->seq = seq;
	memcpy(k->successor, successor, MYCEL_PK_LEN);
	memcpy(d->feed, successor, MYCEL_PK_LEN);
	return 0;
}

size_t mycel_charter_compromised_count(const mycel_charter *c)
{
	return c->n_comps;
}

const mycel_charter_cut *mycel_charter_compromised_at(const mycel_charter *c, size_t i)
{
	return i < c->n_comps ? &c->comps[i] : NULL;
}

const mycel_charter_cut *mycel_charter_find_compromised(const mycel_charter *c,
							       const uint8_t feed[MYCEL_PK_LEN])
{
	for (size_t i = 0; i < c->n_comps; i++)
		if (memcmp(c->comps[i].feed, feed, MYCEL_PK_LEN) == 0)
			return &c->comps[i];
	return NULL;
}

int mycel_charter_admits(const mycel_charter *c, const uint8_t feed[MYCEL_PK_LEN], uint64_t seq,
			 const mycel_charter_domain **out_domain)
{
	const mycel_charter_domain *d = mycel_charter_find_feed(c, feed);
	if (d == NULL) {
		const mycel_charter_cut *k = mycel_charter_find_compromised(c, feed);
		if (k == NULL)
			return MYCEL_EADMIT;
		if (seq > k->seq)
			return MYCEL_EREVOKED;
		d = mycel_charter_find_feed(c, k->successor);
		if (d == NULL)
			return MYCEL_EADMIT; /* not well formed: decode refuses it */
	}
	if (out_domain != NULL)
		*out_domain = d;
	return 0;
}

/* ---- signatures: merge, check one ------------------------------------------------------------ */

int mycel_charter_merge(mycel_charter *dst, const mycel_charter *src, char *why, size_t why_len)
{
	if (dst->bytes == NULL || src->bytes == NULL)
		return mycel__fail(MYCEL_EINVAL, why, why_len, "only decoded or signed charters merge");
	if (dst->bytes_len != src->bytes_len || memcmp(dst->bytes, src->bytes, dst->bytes_len) != 0)
		return mycel__fail(MYCEL_ECHARTER, why, why_len,
				   "not the same charter: v%llu and v%llu differ in their signed bytes "
				   "(signatures merge only on copies of the same version)",
				   (unsigned long long)dst->version, (unsigned long long)src->version);
	size_t extra = 0;
	for (size_t i = 0; i < src->n_sigs; i++) {
		bool have = false;
		for (size_t j = 0; j < dst->n_sigs; j++)
			if (memcmp(dst->sigs[j].key, src->sigs[i].key, MYCEL_PK_LEN) == 0)
				have = true;
		extra += !have;
	}
	if (extra == 0)
		return 0;
	if (dst->n_sigs + extra > 2 * MYCEL_MEMBERS_MAX)
		return mycel__fail(MYCEL_ETOOBIG, why, why_len, "more than %d signatures",
				   2 * MYCEL_MEMBERS_MAX);
	mycel_charter_sig *all = calloc(dst->n_sigs + extra, sizeof(*all));
	if (all == NULL)
		return MYCEL_ENOMEM;
	/* merge two key-sorted lists; a key in both keeps dst's signature */
	size_t i = 0, j = 0, n = 0;
	while (i < dst->n_sigs || j < src->n_sigs) {
		int cmp = i == dst->n_sigs   ? 1
			  : j == src->n_sigs ? -1
					     : memcmp(dst->sigs[i].key, src->sigs[j].key, MYCEL_PK_LEN);
		if (cmp <= 0) {
			all[n++] = dst->sigs[i++];
			if (cmp == 0)
				j++;
		} else {
			all[n++] = src->sigs[j++];
		}
	}
	free(dst->sigs);
	dst->sigs = all;
	dst->n_sigs = n;
	return 0;
}

bool mycel_charter_sig_valid(const mycel_charter *c, size_t i)
{
	size_t mlen;
	mycel_buf tmp;
	const uint8_t *body;
	size_t blen;
	if (i >= c->n_sigs || mycel__sodium_init() != 0)
		return false;
	if (current_bytes(c, &tmp, &body, &blen) != 0)
		return false;
	mlen = sizeof(CHARTER_CTX) + blen;
	uint8_t *m = malloc(mlen);
	bool ok = false;
	if (m != NULL) {
		memcpy(m, CHARTER_CTX, sizeof(CHARTER_CTX));
		memcpy(m + sizeof(CHARTER_CTX), body, blen);
		ok = crypto_sign_verify_detached(c->sigs[i].sig, m, mlen, c->sigs[i].key) == 0;
		free(m);
	}
	mycel_buf_fini(&tmp);
	return ok;
}

const mycel_charter_member *mycel_charter_find_member(const mycel_charter *c,
						      const uint8_t key[MYCEL_PK_LEN])
{
	for (size_t i = 0; i < c->n_members; i++)
		if (memcmp(c->members[i].key, key, MYCEL_PK_LEN) == 0)
			return &c->members[i];
	return NULL;
}
int mycel_charter_set_param_str(mycel_charter *c, const char *key, const char *value)
{
	mycel_compat mode;
	if (c->n_sigs > 0 || c->bytes != NULL)
		return MYCEL_EBUSY;
	if (key == NULL || value == NULL || key[0] == '\0' ||
	    !mycel_utf8_valid((const uint8_t *)key, strlen(key)) ||
	    !mycel_utf8_valid((const uint8_t *)value, strlen(value)) ||
	    (strcmp(key, "compatibility") == 0 && mycel_compat_parse(value, &mode) != 0))
		return MYCEL_EINVAL;
	/* a new map in the arena: the old members, key replaced or added */
	const mycel_value *old = c->params;
	size_t n = old->v.m.len + 1;
	mycel_member *m = mycel_arena_alloc(c->arena, n * sizeof(*m));
	char *k = mycel_arena_strdup(c->arena, key, strlen(key));
	char *v = mycel_arena_strdup(c->arena, value, strlen(value));
	mycel_value *map = mycel_arena_alloc(c->arena, sizeof(*map));
	if (m == NULL || k == NULL || v == NULL || map == NULL)
		return MYCEL_ENOMEM;
	size_t j = 0;
	for (size_t i = 0; i < old->v.m.len; i++)
		if (strcmp(old->v.m.items[i].key, key) != 0)
			m[j++] = old->v.m.items[i];
	memset(&m[j], 0, sizeof(m[j]));
	m[j].key = k;
	m[j].key_len = strlen(k);
	m[j].val.type = MYCEL_T_STR;
	m[j].val.v.s.ptr = v;
	m[j].val.v.s.len = strlen(v);
	memset(map, 0, sizeof(*map));
	map->type = MYCEL_T_MAP;
	map->v.m.items = m;
	map->v.m.len = j + 1;
	c->params = map;
	return 0;
}
