/*
 * diff_check.c — the publishing rule on top of diff.c (mycel/diff.h): semver's major bump,
 * the comparison with the earlier versions a mode selects, and the check a publish makes
 * against the versions in the store under the charter's params.compatibility.
 */
#include <stdlib.h>
#include <string.h>

#include "mycel/catalog.h"
#include "mycel/charter.h"
#include "mycel/diff.h"
#include "mycel/error.h"

static const char *str_of(const mycel_value *v, const char *key)
{
	const mycel_value *s = v != NULL ? mycel_value_get(v, key) : NULL;
	return s != NULL && s->type == MYCEL_T_STR ? s->v.s.ptr : NULL;
}

/* Reads and decodes the stored body of one version of (domain, id) into a. */
static int load_version(mycel_store *s, const char *domain, const char *id, const char *version,
			mycel_arena *a, const mycel_value **out)
{
	mycel_catalog_doc doc;
	mycel_value *v = NULL;
	memset(&doc, 0, sizeof(doc));
	int rv = mycel_catalog_get(s, domain, id, version, &doc);
	if (rv == 0)
		rv = mycel_value_decode(doc.body, doc.body_len, doc.body_len, a, &v, NULL);
	mycel_catalog_doc_fini(&doc);
	if (rv == 0)
		*out = v;
	return rv;
}

/* ---- semver and the publishing rule ------------------------------------------------------- */

/* MAJOR and MINOR of a valid semver. */
static void semver_mm(const char *v, unsigned long long *major, unsigned long long *minor)
{
	char *end;
	*major = strtoull(v, &end, 10);
	*minor = *end == '.' ? strtoull(end + 1, NULL, 10) : 0;
}

bool mycel_semver_major_bump(const char *old_version, const char *new_version)
{
	unsigned long long om, on, nm, nn;
	if (old_version == NULL || new_version == NULL || !mycel_semver_valid(old_version) ||
	    !mycel_semver_valid(new_version))
		return false;
	semver_mm(old_version, &om, &on);
	semver_mm(new_version, &nm, &nn);
	if (nm != om)
		return nm > om;
	return om == 0 && nn > on;
}

/* True if d already holds a finding with this pointer and rule (transitive modes repeat them). */
static bool seen(const mycel_diags *d, size_t from, const char *ptr, const char *rule)
{
	size_t rl = strlen(rule);
	for (size_t i = from; i < d->len; i++)
		if (strcmp(d->items[i].pointer, ptr) == 0 &&
		    strncmp(d->items[i].message, rule, rl) == 0 && d->items[i].message[rl] == ':')
			return true;
	return false;
}

int mycel_diff_check_evolution(const mycel_value *new_doc, const mycel_value *const *earlier,
			       size_t n, mycel_compat mode, mycel_diags *d)
{
	char why[300];
	const char *nv = str_of(new_doc, "version");
	const mycel_value *nvv = new_doc != NULL ? mycel_value_get(new_doc, "version") : NULL;
	size_t first = d->len;
	int rv = 0;
	if (mode == MYCEL_COMPAT_NONE || n == 0)
		return 0;
	if (nv == NULL || !mycel_semver_valid(nv)) {
		mycel_diags_add(d, nvv ? nvv->line : 0, nvv ? nvv->col : 0, "/version",
				"the version must be a semantic version to compare it with earlier ones");
		return MYCEL_EINVAL;
	}
	/* the versions to compare with: all (transitive), or the highest */
	size_t latest = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		const char *ov = str_of(earlier[i], "version");
		if (ov == NULL || !mycel_semver_valid(ov)) {
			mycel_diags_add(d, 0, 0, "/version",
					"an earlier version of this contract has no semantic version");
			return MYCEL_EINVAL;
		}
		if (latest == SIZE_MAX ||
		    mycel_semver_cmp(ov, str_of(earlier[latest], "version")) > 0)
			latest = i;
	}
	for (size_t i = 0; i < n && rv != MYCEL_ENOMEM; i++) {
		if (!mycel_compat_transitive(mode) && i != latest)
			continue;
		const char *ov = str_of(earlier[i], "version");
		if (mycel_semver_major_bump(ov, nv))
			continue;
		mycel_diff diff;
		mycel_diff_init(&diff, mode, 0);
		int r = mycel_diff_contracts(earlier[i], new_doc, why, sizeof(why), &diff);
		if (r == MYCEL_EINVAL) {
			mycel_diags_add(d, new_doc ? new_doc->line : 0, new_doc ? new_doc->col : 0, "",
					"cannot compare with version %s: %s", ov, why);
			rv = r;
		} else if (r != 0) {
			rv = r;
		}
		for (size_t k = 0; r == 0 && k < diff.len; k++) {
			const mycel_change *ch = &diff.items[k];
			const char *ptr = ch->new_pointer ? ch->new_pointer : ch->old_pointer;
			if (!ch->breaking || seen(d, first, ptr ? ptr : "", ch->rule))
				continue;
			if (mycel_diags_add(d, ch->new_line, ch->new_col, ptr, "%s: %s (breaking under %s "
					    "against version %s; %s needs a new major version)",
					    ch->rule, ch->message, mycel_compat_name(mode), ov,
					    nv) != 0) {
				rv = MYCEL_ENOMEM;
				break;
			}
			if (rv == 0)
				rv = MYCEL_EBREAKING;
		}
		if (r == 0 && diff.dropped > 0 && diff.n_breaking > diff.len && rv == 0)
			rv = MYCEL_EBREAKING; /* the breaking ones past the list's bound */
		mycel_diff_fini(&diff);
	}
	return rv;
}

int mycel_diff_check_published(mycel_store *s, const char *domain, const mycel_value *doc,
			       const mycel_value *const *pending, size_t n_pending, mycel_diags *d)
{
	const mycel_charter *ch = s != NULL ? mycel_store_charter(s) : NULL;
	const char *id = str_of(doc, "id"), *version = str_of(doc, "version");
	const mycel_value **earlier = NULL;
	mycel_arena *a = NULL;
	mycel_catalog_doc cur;
	mycel_compat mode;
	char why[300];
	size_t n = 0;
	int rv;

	memset(&cur, 0, sizeof(cur));
	if (s == NULL || domain == NULL || d == NULL || (pending == NULL && n_pending > 0))
		return MYCEL_EINVAL;
	if (mycel_compat_from_params(ch != NULL ? mycel_charter_params(ch) : NULL, &mode, why,
				     sizeof(why)) != 0) {
		mycel_diags_add(d, doc != NULL ? doc->line : 0, doc != NULL ? doc->col : 0, "",
				"cannot check the contract's evolution: %s", why);
		return MYCEL_ECHARTER;
	}
	if (mode == MYCEL_COMPAT_NONE || id == NULL || version == NULL || !mycel_semver_valid(version))
		return 0; /* nothing to check, or the publishing rules refuse it already */
	rv = mycel_catalog_get(s, domain, id, NULL, &cur);
	if (rv != 0 && rv != MYCEL_ENOTFOUND)
		goto fail;
	if (rv == MYCEL_ENOTFOUND)
		cur.n_versions = 0;
	earlier = calloc(cur.n_versions + n_pending + 1, sizeof(*earlier));
	if (earlier == NULL || mycel_arena_new((size_t)1 << 31, &a) != 0) {
		rv = MYCEL_ENOMEM;
		goto fail;
	}
	/* versions ascending: the highest below doc's is the last one that qualifies */
	size_t top = SIZE_MAX;
	for (size_t k = 0; k < cur.n_versions; k++) {
		const mycel_doc_version *v = &cur.versions[k];
		if (v->status == MYCEL_STATUS_RETIRED || !mycel_semver_valid(v->version) ||
		    mycel_semver_cmp(v->version, version) >= 0)
			continue;
		top = k;
		if (!mycel_compat_transitive(mode))
			continue;
		if ((rv = load_version(s, domain, id, v->version, a, &earlier[n])) != 0)
			goto fail;
		n++;
	}
	if (!mycel_compat_transitive(mode) && top != SIZE_MAX) {
		if ((rv = load_version(s, domain, id, cur.versions[top].version, a, &earlier[n])) != 0)
			goto fail;
		n++;
	}
	for (size_t j = 0; j < n_pending; j++) {
		const char *pid = str_of(pending[j], "id"), *pv = str_of(pending[j], "version");
		const char *kind = str_of(pending[j], "kind");
		if (pid != NULL && pv != NULL && kind != NULL && strcmp(kind, "DataContract") == 0 &&
		    strcmp(pid, id) == 0 && mycel_semver_valid(pv) && mycel_semver_cmp(pv, version) < 0)
			earlier[n++] = pending[j];
	}
	rv = mycel_diff_check_evolution(doc, earlier, n, mode, d);
fail:
	mycel_arena_free(a);
	free(earlier);
	mycel_catalog_doc_fini(&cur);
	return rv;
}
