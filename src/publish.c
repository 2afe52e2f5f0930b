/* publish.c — documents and lifecycle changes into a domain's feed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/diff.h"
#include "mycel/publish.h"
#include "mycel/transfer.h"
#include "store_int.h"

#include "util.h"

static const char *entry_kind(mycel_doc_kind k)
{
	return k == MYCEL_DOC_PRODUCT ? "product" : "contract";
}

/*
 * A document version written by a group accepted earlier in the same mycel_publish_groups
 * call: published (hash of its body), or given a status by a lifecycle change.
 */
typedef struct accepted {
	const char *id, *version;
	mycel_doc_kind kind;
	bool lifecycle;          /* a status change, not a publish */
	mycel_doc_status status; /* the version's status after it */
	uint8_t hash[MYCEL_HASH_LEN];
	const mycel_value *doc;  /* the document published (NULL for a lifecycle change) */
} accepted;

/*
 * Checks item i of group g against the rules, the group's earlier items, the store, and the
 * documents of the groups accepted before it (acc[0..n_acc-1]); encodes its body into body.
 * Sets it->unchanged. Returns 0 or the item's refusal, with a finding in its diags.
 */
static int check_item(mycel_store *s, const char *domain, mycel_publish_group *g, size_t i,
		      mycel_buf *body, const accepted *acc, size_t n_acc)
{
	mycel_publish_item *it = &g->items[i];
	int rv = mycel_lint_publishable(it->doc, &it->info, domain, it->diags);
	uint8_t h[MYCEL_HASH_LEN];
	it->unchanged = false;
	memset(&it->entry, 0, sizeof(it->entry));
	if (rv == 0 && (rv = mycel_value_encode(it->doc, body)) != 0)
		mycel_diags_add(it->diags, it->doc->line, it->doc->col, "",
				"the document cannot be encoded canonically: %s", mycel_strerror(rv));
	if (rv != 0)
		return rv;
	const mycel_value *vv = mycel_value_get(it->doc, "version");
	uint32_t vl = vv ? vv->line : it->doc->line, vc = vv ? vv->col : it->doc->col;
	/* the same (id, version) twice in one group */
	for (size_t j = 0; j < i; j++)
		if (g->items[j].info.id && g->items[j].info.version &&
		    strcmp(g->items[j].info.id, it->info.id) == 0 &&
		    strcmp(g->items[j].info.version, it->info.version) == 0) {
			mycel_diags_add(it->diags, vl, vc, "/version",
					"%s version %s is given twice in this publish", it->info.id,
					it->info.version);
			return MYCEL_EEXIST;
		}
	mycel_body_hash(body->data, body->len, h);

	/* a product handed to another domain is published by it now (PROTOCOL.md §5.5) */
	mycel_transfer_info t;
	if (it->info.kind == MYCEL_DOC_PRODUCT &&
	    (rv = mycel_catalog_transfer(s, domain, it->info.id, &t)) == 0 && t.transferred) {
		mycel_diags_add(it->diags, it->doc->line, it->doc->col, "/id",
				"%s/%s was transferred to %s (offer seq %llu, accepted at %s seq %llu): "
				"%s publishes its next versions",
				domain, it->info.id, t.to, (unsigned long long)t.offer_seq, t.to,
				(unsigned long long)t.accept_seq, t.to);
		return MYCEL_EINVAL;
	}
	if (rv != 0)
		return rv;

	mycel_catalog_doc cur;
	memset(&cur, 0, sizeof(cur));
	int gr = mycel_catalog_get(s, domain, it->info.id, NULL, &cur);
	mycel_doc_kind cur_kind = cur.kind;
	mycel_catalog_doc_fini(&cur);
	if (gr == 0 && cur_kind != it->info.kind) {
		mycel_diags_add(it->diags, it->doc->line, it->doc->col, "/id",
				"%s/%s is already published as a %s; a %s needs another id", domain,
				it->info.id, mycel_doc_kind_name(cur_kind),
				mycel_doc_kind_name(it->info.kind));
		return MYCEL_EEXIST;
	}
	if (gr != 0 && gr != MYCEL_ENOTFOUND)
		return gr;
	mycel_doc_version v;
	gr = mycel_catalog_version(s, domain, it->info.id, it->info.version, &v);
	if (gr == 0) {
		if (memcmp(h, v.body_hash, MYCEL_HASH_LEN) == 0) {
			it->unchanged = true;
			return 0;
		}
		mycel_diags_add(it->diags, vl, vc, "/version",
				"%s/%s version %s is already published with other content; published "
				"versions are immutable: bump the version",
				domain, it->info.id, it->info.version);
		return MYCEL_EEXIST;
	}
	if (gr != MYCEL_ENOTFOUND)
		return gr;
	/* what the requests committed together with this one, before it, publish */
	for (size_t k = 0; k < n_acc; k++) {
		if (strcmp(acc[k].id, it->info.id) != 0)
			continue;
		if (acc[k].lifecycle) /* of a version already stored: the store checks covered it */
			continue;
		if (acc[k].kind != it->info.kind) {
			mycel_diags_add(it->diags, it->doc->line, it->doc->col, "/id",
					"%s/%s is being published as a %s by another request; a %s "
					"needs another id",
					domain, it->info.id, mycel_doc_kind_name(acc[k].kind),
					mycel_doc_kind_name(it->info.kind));
			return MYCEL_EEXIST;
		}
		if (strcmp(acc[k].version, it->info.version) != 0)
			continue;
		if (memcmp(acc[k].hash, h, MYCEL_HASH_LEN) == 0) {
			it->unchanged = true;
			return 0;
		}
		mycel_diags_add(it->diags, vl, vc, "/version",
				"%s/%s version %s is being published with other content by another "
				"request; published versions are immutable: bump the version",
				domain, it->info.id, it->info.version);
		return MYCEL_EEXIST;
	}
	/*
	 * A new contract version: no breaking change without a new major version (diff.h),
	 * against the stored versions and the lower ones of this group and of the groups
	 * accepted before it (not yet stored).
	 */
	if (it->info.kind == MYCEL_DOC_CONTRACT) {
		const mycel_value **pending = malloc((g->n + n_acc + 1) * sizeof(*pending));
		size_t np = 0;
		if (pending == NULL)
			return MYCEL_ENOMEM;
		for (size_t j = 0; j < g->n; j++)
			if (j != i && g->items[j].info.kind == MYCEL_DOC_CONTRACT &&
			    g->items[j].info.id != NULL && strcmp(g->items[j].info.id, it->info.id) == 0)
				pending[np++] = g->items[j].doc;
		for (size_t k = 0; k < n_acc; k++)
			if (acc[k].doc != NULL && acc[k].kind == MYCEL_DOC_CONTRACT &&
			    strcmp(acc[k].id, it->info.id) == 0)
				pending[np++] = acc[k].doc;
		rv = mycel_diff_check_published(s, domain, it->doc, pending, np, it->diags);
		free(pending);
		if (rv != 0 && rv != MYCEL_EBREAKING)
			return rv;
	}
	/* the quality gate: its findings join the breaking changes', all shown at once */
	int qr = mycel_publish_gate(s, domain, it->doc, &it->info, mycel__now_ms(), it->diags,
				    it->warnings);
	return rv != 0 ? rv : qr;
}

int mycel_publish_gate(mycel_store *s, const char *domain, const mycel_value *doc,
		       const mycel_docinfo *info, uint64_t now_ms, mycel_diags *d, mycel_diags *warn)
{
	const mycel_policies *pol;
	mycel_catalog_doc cur;
	mycel_arena *a = NULL;
	mycel_value *prev = NULL;
	mycel_policy_report r;
	int rv;

	if (s == NULL || domain == NULL || doc == NULL || info == NULL || d == NULL ||
	    now_ms > (uint64_t)INT64_MAX / 1000000)
		return MYCEL_EINVAL;
	if ((rv = mycel__store_policies(s, &pol)) != 0) {
		mycel_diags_add(d, 0, 0, "", "the charter's policies do not compile (%s): nothing "
				"can be published until the charter is fixed", mycel_strerror(rv));
		return MYCEL_EEXPR;
	}
	if (mycel_policies_count(pol) == 0)
		return 0;
	/* previous: the highest version below this one */
	memset(&cur, 0, sizeof(cur));
	rv = info->id == NULL || !mycel_policies_use_previous(pol, info->kind)
		 ? MYCEL_ENOTFOUND
		 : mycel_catalog_get(s, domain, info->id, NULL, &cur);
	if (rv != 0 && rv != MYCEL_ENOTFOUND)
		return rv;
	if (rv == 0 && info->version != NULL) {
		size_t best = SIZE_MAX;
		for (size_t i = 0; i < cur.n_versions; i++)
			if (mycel_semver_cmp(cur.versions[i].version, info->version) < 0)
				best = i; /* versions ascend */
		mycel_catalog_doc pd;
		memset(&pd, 0, sizeof(pd));
		if (best != SIZE_MAX &&
		    (rv = mycel_catalog_get(s, domain, info->id, cur.versions[best].version, &pd)) == 0 &&
		    (rv = mycel_arena_new(4 * (size_t)MYCEL_BODY_MAX, &a)) == 0 &&
		    mycel_value_decode(pd.body, pd.body_len, MYCEL_BODY_MAX, a, &prev, NULL) != 0)
			prev = NULL;
		mycel_catalog_doc_fini(&pd);
	}
	mycel_catalog_doc_fini(&cur);
	if (rv != 0 && rv != MYCEL_ENOTFOUND)
		goto done;
	mycel_policy_input in = {info->kind, doc, prev, domain, (int64_t)now_ms};
	if ((rv = mycel_policies_eval(pol, &in, &r)) != 0)
		goto done;
	if ((rv = mycel_policy_report_diags(&r, MYCEL_SEVERITY_DENY, d)) == 0)
		rv = mycel_policy_report_diags(&r, MYCEL_SEVERITY_WARN, warn != NULL ? warn : d);
	if (rv == 0 && r.denied > 0)
		rv = MYCEL_EPOLICY;
	mycel_policy_report_fini(&r);
done:
	mycel_arena_free(a);
	return rv;
}

/* The canonical body of a lifecycle entry: {id, kind, reason, status, version}. */
static int lifecycle_body(const mycel_lifecycle_item *c, mycel_doc_kind kind, mycel_buf *b)
{
	mycel_enc_map(b, 5); /* keys in canonical order */
	mycel_enc_cstr(b, "id");
	mycel_enc_cstr(b, c->id);
	mycel_enc_cstr(b, "kind");
	mycel_enc_cstr(b, mycel_doc_kind_name(kind));
	mycel_enc_cstr(b, "reason");
	mycel_enc_cstr(b, c->reason ? c->reason : "");
	mycel_enc_cstr(b, "status");
	mycel_enc_cstr(b, mycel_doc_status_name(c->status));
	mycel_enc_cstr(b, "version");
	mycel_enc_cstr(b, c->version);
	return b->err;
}

/*
 * Checks lifecycle change c against the store and the groups accepted before it
 * (acc[0..n_acc-1], the latest write of a version wins), encodes its body into body and
 * fills *out (the version's kind and new status). Returns 0 or the refusal, with c->why.
 */
static int check_lifecycle(mycel_store *s, const char *domain, mycel_lifecycle_item *c,
			   mycel_buf *body, const accepted *acc, size_t n_acc, accepted *out)
{
	mycel_doc_kind kind = MYCEL_DOC_CONTRACT;
	mycel_doc_status now = MYCEL_STATUS_ACTIVE;
	bool found = false;
	c->why[0] = '\0';
	memset(&c->entry, 0, sizeof(c->entry));
	if (c->id == NULL || c->version == NULL)
		return mycel__fail(MYCEL_EINVAL, c->why, sizeof(c->why), "id and version are required");
	if (c->status != MYCEL_STATUS_DEPRECATED && c->status != MYCEL_STATUS_RETIRED)
		return mycel__fail(MYCEL_EINVAL, c->why, sizeof(c->why),
				   "status must be deprecated or retired");
	for (size_t k = n_acc; k-- > 0 && !found;)
		if (strcmp(acc[k].id, c->id) == 0 && strcmp(acc[k].version, c->version) == 0) {
			kind = acc[k].kind;
			now = acc[k].status;
			found = true;
		}
	if (!found) {
		mycel_catalog_doc doc;
		memset(&doc, 0, sizeof(doc));
		int rv = mycel_catalog_get(s, domain, c->id, c->version, &doc);
		if (rv == 0) {
			now = doc.versions[doc.shown].status;
			kind = doc.kind;
		}
		mycel_catalog_doc_fini(&doc);
		if (rv == MYCEL_ENOTFOUND)
			return mycel__fail(rv, c->why, sizeof(c->why), "%s/%s version %s is not published",
					   domain, c->id, c->version);
		if (rv != 0)
			return mycel__fail(rv, c->why, sizeof(c->why), "%s/%s: %s", domain, c->id,
					   mycel_strerror(rv));
	}
	mycel_transfer_info t;
	int tr = mycel_catalog_transfer(s, domain, c->id, &t);
	if (tr != 0)
		return mycel__fail(tr, c->why, sizeof(c->why), "%s/%s: %s", domain, c->id,
				   mycel_strerror(tr));
	if (t.transferred)
		return mycel__fail(MYCEL_EPERM, c->why, sizeof(c->why),
				   "%s/%s was transferred to %s (offer seq %llu): its statuses are %s's "
				   "to change now",
				   domain, c->id, t.to, (unsigned long long)t.offer_seq, t.to);
	if (now == c->status)
		return mycel__fail(MYCEL_EEXIST, c->why, sizeof(c->why), "%s/%s version %s is already %s",
				   domain, c->id, c->version, mycel_doc_status_name(c->status));
	if (now == MYCEL_STATUS_RETIRED)
		return mycel__fail(MYCEL_EINVAL, c->why, sizeof(c->why),
				   "%s/%s version %s is retired; it cannot become %s again", domain,
				   c->id, c->version, mycel_doc_status_name(c->status));
	int rv = lifecycle_body(c, kind, body);
	if (rv != 0)
		return mycel__fail(rv, c->why, sizeof(c->why), "reason or id: %s", mycel_strerror(rv));
	*out = (accepted){.id = c->id, .version = c->version, .kind = kind, .lifecycle = true,
			  .status = c->status};
	return 0;
}

int mycel_publish_groups(mycel_store *s, const mycel_key *key, const char *domain,
			 mycel_publish_group *groups, size_t n, size_t *out_commits)
{
	size_t total = 0, nrec = 0, n_acc = 0, n_ok = 0, commits = 0;
	mycel_buf *bodies = NULL;
	mycel_record *recs = NULL;
	mycel_entry *entries = NULL;
	mycel_entry **which = NULL; /* where each record's entry goes */
	accepted *acc = NULL;
	int rv = 0;

	if (s == NULL || key == NULL || domain == NULL || (groups == NULL && n > 0))
		return MYCEL_EINVAL;
	for (size_t g = 0; g < n; g++) {
		if (groups[g].change == NULL && groups[g].items == NULL && groups[g].n > 0)
			return MYCEL_EINVAL;
		total += groups[g].change != NULL ? 1 : groups[g].n;
	}
	bodies = calloc(total ? total : 1, sizeof(*bodies));
	recs = calloc(total ? total : 1, sizeof(*recs));
	entries = calloc(total ? total : 1, sizeof(*entries));
	which = calloc(total ? total : 1, sizeof(*which));
	acc = calloc(total ? total : 1, sizeof(*acc));
	if (bodies == NULL || recs == NULL || entries == NULL || which == NULL || acc == NULL) {
		rv = MYCEL_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < total; i++)
		mycel_buf_init(&bodies[i], MYCEL_BODY_MAX);

	/* check each group against the store and the groups accepted before it */
	size_t base = 0;
	for (size_t g = 0; g < n; g++) {
		mycel_publish_group *gr = &groups[g];
		size_t first_rec = nrec, first_acc = n_acc;
		gr->result = 0;
		if (gr->change != NULL) {
			gr->result = check_lifecycle(s, domain, gr->change, &bodies[base], acc, n_acc,
						     &acc[n_acc]);
			if (gr->result == 0) {
				recs[nrec] = (mycel_record){"lifecycle", bodies[base].data,
							    bodies[base].len};
				which[nrec++] = &gr->change->entry;
				n_acc++;
				n_ok++;
			}
			base++;
			continue;
		}
		for (size_t i = 0; i < gr->n; i++) {
			int r = check_item(s, domain, gr, i, &bodies[base + i], acc, first_acc);
			if (r != 0) {
				if (gr->result == 0)
					gr->result = r;
				continue;
			}
			if (gr->result != 0 || gr->items[i].unchanged)
				continue;
			mycel_publish_item *it = &gr->items[i];
			recs[nrec] = (mycel_record){entry_kind(it->info.kind), bodies[base + i].data,
						    bodies[base + i].len};
			which[nrec++] = &it->entry;
			acc[n_acc].id = it->info.id;
			acc[n_acc].version = it->info.version;
			acc[n_acc].kind = it->info.kind;
			acc[n_acc].lifecycle = false;
			acc[n_acc].status = MYCEL_STATUS_ACTIVE;
			acc[n_acc].doc = it->doc;
			mycel_body_hash(bodies[base + i].data, bodies[base + i].len, acc[n_acc].hash);
			n_acc++;
		}
		if (gr->result != 0) { /* the group is refused: none of its documents count */
			nrec = first_rec;
			n_acc = first_acc;
		} else {
			n_ok++;
		}
		base += gr->n;
	}
	if (nrec == 0)
		goto out;
	/* one transaction for every accepted group, entries in group and item order */
	/* the domain's feed (its genesis key); key must be the one that signs it now */
	const mycel_charter *ch = mycel_store_charter(s);
	const mycel_charter_domain *dom = ch != NULL ? mycel_charter_find_domain(ch, domain) : NULL;
	const uint8_t *feed = dom != NULL ? dom->feed : key->pk;
	/* a key whose own feed the charter declared compromised is refused for that (EREVOKED) */
	if (ch != NULL && mycel_charter_find_compromised(ch, key->pk) != NULL)
		feed = key->pk;
	int r = mycel_store_append(s, key, feed, recs, nrec, entries);
	if (r == 0) {
		commits = 1;
		for (size_t k = 0; k < nrec; k++)
			*which[k] = entries[k];
		goto out;
	}
	if (n_ok == 1) {
		for (size_t g = 0; g < n; g++)
			if (groups[g].result == 0) {
				groups[g].result = r;
				if (groups[g].change != NULL)
					mycel__fail(r, groups[g].change->why,
						    sizeof(groups[g].change->why), "append: %s",
						    mycel_strerror(r));
			}
		goto out;
	}
	/* the transaction failed as a whole: each accepted group again, alone */
	for (size_t g = 0; g < n; g++) {
		size_t c = 0;
		if (groups[g].result != 0)
			continue;
		int e = mycel_publish_groups(s, key, domain, &groups[g], 1, &c);
		if (e != 0)
			groups[g].result = e;
		commits += c;
	}
out:
	for (size_t i = 0; bodies != NULL && i < total; i++)
		mycel_buf_fini(&bodies[i]);
	free(bodies);
	free(recs);
	free(entries);
	free(which);
	free(acc);
	if (out_commits != NULL)
		*out_commits = commits;
	return rv;
}

int mycel_publish(mycel_store *s, const mycel_key *key, const char *domain, mycel_publish_item *items,
		  size_t n)
{
	mycel_publish_group g = {items, n, 0, NULL};
	int rv = mycel_publish_groups(s, key, domain, &g, 1, NULL);
	return rv != 0 ? rv : g.result;
}

int mycel_publish_lifecycle(mycel_store *s, const mycel_key *key, const char *domain,
			    const char *id, const char *version, mycel_doc_status status,
			    const char *reason, mycel_entry *out, char *why, size_t why_len)
{
	mycel_lifecycle_item c;
	memset(&c, 0, sizeof(c));
	c.id = id;
	c.version = version;
	c.reason = reason;
	c.status = status;
	mycel_publish_group g = {NULL, 0, 0, &c};
	int rv = mycel_publish_groups(s, key, domain, &g, 1, NULL);
	if (rv == 0)
		rv = g.result;
	if (rv != 0) {
		if (why != NULL && why_len > 0)
			snprintf(why, why_len, "%s", c.why[0] ? c.why : mycel_strerror(rv));
		return rv;
	}
	if (out != NULL)
		*out = c.entry;
	return 0;
}
