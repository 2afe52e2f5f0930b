/*
 * fuzz-diff.c — mycel_diff_contracts on two untrusted documents. The input is OLD and NEW
 * separated by the first NUL byte (no NUL: NEW is OLD); each is YAML with small limits (32 KiB,
 * 50 000 values), read after the two lines "kind: DataContract" and "id: f" so that most
 * inputs reach the comparison. Whatever the documents hold, the diff must succeed, keep every
 * promise of diff.h (rules from the table, a sentence, a pointer on at least one side, both
 * valid UTF-8 however they were cut, the breaking flag and count agreeing with the mode, the
 * list within its bound), and find no
 * change between a document and itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/codec.h"
#include "mycel/diff.h"
#include "mycel/doc.h"
#include "mycel/error.h"

#define HALF_MAX ((size_t)32 << 10)
#define ARENA_LIMIT ((size_t)64 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, int rv)
{
	fprintf(stderr, "fuzz-diff: %s (%s)\n", what, mycel_errname(rv));
	abort();
}

/* Parses the header and n bytes of p; NULL when it does not parse (that is fine). */
static mycel_value *parse(const uint8_t *p, size_t n, mycel_arena *a)
{
	static const char head[] = "kind: DataContract\nid: f\n";
	static const mycel_doc_limits lim = {HALF_MAX + sizeof(head), 50000, 5000, 0};
	char *text = malloc(sizeof(head) + n);
	mycel_value *v = NULL;
	if (text == NULL)
		return NULL;
	memcpy(text, head, sizeof(head) - 1);
	memcpy(text + sizeof(head) - 1, p, n);
	if (mycel_doc_parse(text, sizeof(head) - 1 + n, &lim, a, &v, NULL) != 0)
		v = NULL;
	free(text);
	return v;
}

static const char *str(const mycel_value *doc, const char *key)
{
	const mycel_value *v = mycel_value_get(doc, key);
	return v != NULL && v->type == MYCEL_T_STR ? v->v.s.ptr : NULL;
}

/* Both are maps of kind DataContract with the same string id (a continued `id: f` line
 * can make the ids differ). */
static bool same_contract(const mycel_value *o, const mycel_value *n)
{
	const char *ko = str(o, "kind"), *kn = str(n, "kind"), *io = str(o, "id"), *in = str(n, "id");
	return ko != NULL && kn != NULL && io != NULL && in != NULL &&
	       strcmp(ko, "DataContract") == 0 && strcmp(kn, "DataContract") == 0 &&
	       strcmp(io, in) == 0;
}

static void check(const mycel_value *o, const mycel_value *n, mycel_compat mode, bool same)
{
	size_t n_rules, breaking = 0;
	const mycel_diff_rule *rules = mycel_diff_rules(&n_rules);
	mycel_diff d;
	char why[256];
	mycel_diff_init(&d, mode, 64);
	int rv = mycel_diff_contracts(o, n, why, sizeof(why), &d);
	if (rv == MYCEL_EINVAL) { /* only when a side is not a contract map, or the ids differ */
		if (same_contract(o, n))
			die("EINVAL for two versions of one contract", rv);
		if (d.len != 0 || why[0] == '\0')
			die("EINVAL with changes, or without a reason", rv);
		mycel_diff_fini(&d);
		return;
	}
	if (rv != 0 && rv != MYCEL_ENOMEM)
		die("unexpected code", rv);
	if (d.len > d.max)
		die("more changes than max", 0);
	for (size_t i = 0; i < d.len; i++) {
		const mycel_change *c = &d.items[i];
		bool known = false;
		for (size_t k = 0; k < n_rules; k++)
			if (c->rule == rules[k].id && c->breaks == rules[k].breaks)
				known = true;
		if (!known)
			die("a rule (or its directions) not from the table", 0);
		if (c->message == NULL || c->message[0] == '\0')
			die("a change without a sentence", 0);
		if (c->old_pointer == NULL && c->new_pointer == NULL)
			die("a change without a place", 0);
		if (!mycel_utf8_valid((const uint8_t *)c->message, strlen(c->message)) ||
		    (c->old_pointer != NULL &&
		     !mycel_utf8_valid((const uint8_t *)c->old_pointer, strlen(c->old_pointer))) ||
		    (c->new_pointer != NULL &&
		     !mycel_utf8_valid((const uint8_t *)c->new_pointer, strlen(c->new_pointer))))
			die("a sentence or pointer that is not UTF-8 (cut in a sequence)", 0);
		if (c->breaking != ((c->breaks & mycel_compat_mask(mode)) != 0))
			die("breaking flag disagrees with the mode", 0);
		breaking += c->breaking;
	}
	if (d.n_breaking < breaking || (d.dropped == 0 && d.n_breaking != breaking))
		die("breaking count", 0);
	if (rv == 0 && same && d.len + d.dropped != 0)
		die("a document differs from itself", 0);
	mycel_diff_fini(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mycel_arena *a = NULL;
	const uint8_t *nul = memchr(data, 0, size);
	size_t n1 = nul ? (size_t)(nul - data) : size;
	const uint8_t *p2 = nul ? nul + 1 : data;
	size_t n2 = nul ? size - n1 - 1 : size;
	if (n1 > HALF_MAX || n2 > HALF_MAX)
		return 0;
	if (mycel_arena_new(ARENA_LIMIT, &a) != 0)
		return 0;
	mycel_value *o = parse(data, n1, a), *n = parse(p2, n2, a);
	if (o != NULL) {
		check(o, o, MYCEL_COMPAT_FULL, true);
		if (n != NULL) {
			check(o, n, MYCEL_COMPAT_BACKWARD, false);
			check(n, o, MYCEL_COMPAT_FORWARD, false);
		}
	}
	mycel_arena_free(a);
	return 0;
}
