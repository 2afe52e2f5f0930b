/* publish.c — documents and lifecycle changes into a domain's feed. */
#include <stdlib.h>
#include <string.h>

#include "mycel/publish.h"
#include "util.h"

static const char *entry_kind(mycel_doc_kind k)
{
	return k == MYCEL_DOC_PRODUCT ? "product" : "contract";
}

int mycel_publish(mycel_store *s, const mycel_key *key, const char *domain, mycel_publish_item *items,
		  size_t n)
{
	mycel_buf *bodies = calloc(n ? n : 1, sizeof(*bodies));
	mycel_record *recs = calloc(n ? n : 1, sizeof(*recs));
	mycel_entry *entries = calloc(n ? n : 1, sizeof(*entries));
	size_t *which = calloc(n ? n : 1, sizeof(*which));
	size_t nrec = 0;
	int first = 0;

	if (bodies == NULL || recs == NULL || entries == NULL || which == NULL) {
		first = MYCEL_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		mycel_publish_item *it = &items[i];
		int rv = mycel_lint_publishable(it->doc, &it->info, domain, it->diags);
		it->unchanged = false;
		mycel_buf_init(&bodies[i], MYCEL_BODY_MAX);
		if (rv == 0 && (rv = mycel_value_encode(it->doc, &bodies[i])) != 0)
			mycel_diags_add(it->diags, it->doc->line, it->doc->col, "",
					"the document cannot be encoded canonically: %s", mycel_strerror(rv));
		/* the same (id, version) twice in one publish */
		for (size_t j = 0; rv == 0 && j < i; j++)
			if (items[j].info.id && items[j].info.version &&
			    strcmp(items[j].info.id, it->info.id) == 0 &&
			    strcmp(items[j].info.version, it->info.version) == 0) {
				mycel_diags_add(it->diags, it->doc->line, it->doc->col, "/version",
						"%s version %s is given twice in this publish", it->info.id,
						it->info.version);
				rv = MYCEL_EEXIST;
			}
		if (rv == 0) {
			mycel_catalog_doc cur;
			memset(&cur, 0, sizeof(cur));
			int g = mycel_catalog_get(s, domain, it->info.id, NULL, &cur);
			if (g == 0 && cur.kind != it->info.kind) {
				mycel_diags_add(it->diags, it->doc->line, it->doc->col, "/id",
						"%s/%s is already published as a %s; a %s needs another id",
						domain, it->info.id, mycel_doc_kind_name(cur.kind),
						mycel_doc_kind_name(it->info.kind));
				rv = MYCEL_EEXIST;
			}
			mycel_catalog_doc_fini(&cur);
		}
		if (rv == 0) {
			mycel_doc_version v;
			int g = mycel_catalog_version(s, domain, it->info.id, it->info.version, &v);
			if (g == 0) {
				uint8_t h[MYCEL_HASH_LEN];
				mycel_body_hash(bodies[i].data, bodies[i].len, h);
				const mycel_value *vv = mycel_value_get(it->doc, "version");
				if (memcmp(h, v.body_hash, MYCEL_HASH_LEN) == 0) {
					it->unchanged = true;
				} else {
					mycel_diags_add(it->diags, vv->line, vv->col, "/version",
							"%s/%s version %s is already published with other "
							"content; published versions are immutable: bump the "
							"version",
							domain, it->info.id, it->info.version);
					rv = MYCEL_EEXIST;
				}
			} else if (g != MYCEL_ENOTFOUND) {
				rv = g;
			}
		}
		if (rv != 0) {
			if (first == 0)
				first = rv;
			continue;
		}
		if (!it->unchanged) {
			recs[nrec] = (mycel_record){entry_kind(it->info.kind), bodies[i].data, bodies[i].len};
			which[nrec++] = i;
		}
	}
	if (first == 0 && nrec > 0) {
		first = mycel_store_append(s, key, key->pk, recs, nrec, entries);
		for (size_t r = 0; first == 0 && r < nrec; r++)
			items[which[r]].entry = entries[r];
	}
out:
	for (size_t i = 0; bodies != NULL && i < n; i++)
		mycel_buf_fini(&bodies[i]);
	free(bodies);
	free(recs);
	free(entries);
	free(which);
	return first;
}

int mycel_publish_lifecycle(mycel_store *s, const mycel_key *key, const char *domain,
			    const char *id, const char *version, mycel_doc_status status,
			    const char *reason, mycel_entry *out, char *why, size_t why_len)
{
	mycel_catalog_doc doc;
	memset(&doc, 0, sizeof(doc));
	if (status != MYCEL_STATUS_DEPRECATED && status != MYCEL_STATUS_RETIRED)
		return mycel__fail(MYCEL_EINVAL, why, why_len, "status must be deprecated or retired");
	int rv = mycel_catalog_get(s, domain, id, version, &doc);
	if (rv == MYCEL_ENOTFOUND) {
		mycel_catalog_doc_fini(&doc);
		return mycel__fail(rv, why, why_len, "%s/%s version %s is not published", domain, id,
				   version);
	}
	if (rv != 0) {
		mycel_catalog_doc_fini(&doc);
		return mycel__fail(rv, why, why_len, "%s/%s: %s", domain, id, mycel_strerror(rv));
	}
	mycel_doc_status now = doc.versions[doc.shown].status;
	mycel_doc_kind kind = doc.kind;
	mycel_catalog_doc_fini(&doc);
	if (now == status)
		return mycel__fail(MYCEL_EEXIST, why, why_len, "%s/%s version %s is already %s", domain,
				   id, version, mycel_doc_status_name(status));
	if (now == MYCEL_STATUS_RETIRED)
		return mycel__fail(MYCEL_EINVAL, why, why_len,
				   "%s/%s version %s is retired; it cannot become %s again", domain, id,
				   version, mycel_doc_status_name(status));
	/* {id, kind, reason, status, version} in canonical key order */
	mycel_buf b;
	mycel_buf_init(&b, 64 * 1024);
	mycel_enc_map(&b, 5);
	mycel_enc_cstr(&b, "id");
	mycel_enc_cstr(&b, id);
	mycel_enc_cstr(&b, "kind");
	mycel_enc_cstr(&b, mycel_doc_kind_name(kind));
	mycel_enc_cstr(&b, "reason");
	mycel_enc_cstr(&b, reason ? reason : "");
	mycel_enc_cstr(&b, "status");
	mycel_enc_cstr(&b, mycel_doc_status_name(status));
	mycel_enc_cstr(&b, "version");
	mycel_enc_cstr(&b, version);
	if ((rv = b.err) == 0) {
		mycel_record rec = {"lifecycle", b.data, b.len};
		rv = mycel_store_append(s, key, key->pk, &rec, 1, out);
		if (rv != 0)
			mycel__fail(rv, why, why_len, "append: %s", mycel_strerror(rv));
	} else {
		mycel__fail(rv, why, why_len, "reason or id: %s", mycel_strerror(rv));
	}
	mycel_buf_fini(&b);
	return rv;
}
