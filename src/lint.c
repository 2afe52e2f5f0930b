/* lint.c — identify ODCS/ODPS documents and validate them against the official schemas. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "mycel/doc.h"
#include "mycel/lint.h"
#include "mycel/schema.h"
#include "schemas.h"

#define SCHEMA_BASE "file:///mycel/schemas/"

static const struct {
	mycel_doc_kind kind;
	const char *kind_name;
	const char *api_version;
	const char *file;
} table[] = {
    {MYCEL_DOC_CONTRACT, "DataContract", "v3.0.0", "odcs-json-schema-v3.0.0.json"},
    {MYCEL_DOC_CONTRACT, "DataContract", "v3.0.1", "odcs-json-schema-v3.0.1.json"},
    {MYCEL_DOC_CONTRACT, "DataContract", "v3.0.2", "odcs-json-schema-v3.0.2.json"},
    {MYCEL_DOC_CONTRACT, "DataContract", "v3.1.0", "odcs-json-schema-v3.1.0.json"},
    {MYCEL_DOC_CONTRACT, "DataContract", "v3.2.0", "odcs-json-schema-v3.2.0.json"},
    {MYCEL_DOC_PRODUCT, "DataProduct", "v0.9.0", "odps-json-schema-v0.9.0.json"},
    {MYCEL_DOC_PRODUCT, "DataProduct", "v1.0.0", "odps-json-schema-v1.0.0.json"},
};
#define NTABLE (sizeof(table) / sizeof(table[0]))

/* The compiled schema set, built once and shared read-only by every thread. */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static mycel_schema *schemas;
static mycel_arena *schema_arena;
static int schemas_err;

static void load_schemas(void)
{
	char why[256];
	int rv = mycel_schema_new(&schemas);
	if (rv == 0)
		rv = mycel_arena_new((size_t)256 << 20, &schema_arena);
	for (const mycel__embedded *e = mycel__schemas; rv == 0 && e->name != NULL; e++) {
		mycel_value *doc;
		char uri[256];
		rv = mycel_doc_parse((const char *)e->data, e->len, NULL, schema_arena, &doc, NULL);
		snprintf(uri, sizeof(uri), SCHEMA_BASE "%s", e->name);
		if (rv == 0)
			rv = mycel_schema_add(schemas, uri, doc, why, sizeof(why));
	}
	schemas_err = rv;
}

const char *mycel_lint_supported(mycel_doc_kind kind)
{
	return kind == MYCEL_DOC_PRODUCT ? "v0.9.0, v1.0.0"
					 : "v3.0.0, v3.0.1, v3.0.2, v3.1.0, v3.2.0";
}

static const char *str_field(const mycel_value *doc, const char *key)
{
	const mycel_value *v = mycel_value_get(doc, key);
	return v != NULL && v->type == MYCEL_T_STR ? v->v.s.ptr : NULL;
}

int mycel_lint_value(const mycel_value *doc, mycel_docinfo *info, mycel_diags *d)
{
	char uri[256];
	memset(info, 0, sizeof(*info));
	if (doc->type != MYCEL_T_MAP) {
		mycel_diags_add(d, doc->line, doc->col, "",
				"a data contract or data product must be a map, not a %s",
				mycel_type_name(doc->type));
		return MYCEL_EFORMAT;
	}
	info->kind_name = str_field(doc, "kind");
	info->api_version = str_field(doc, "apiVersion");
	info->id = str_field(doc, "id");
	info->version = str_field(doc, "version");
	info->name = str_field(doc, "name");
	info->domain = str_field(doc, "domain");
	const mycel_value *kv = mycel_value_get(doc, "kind");
	const mycel_value *av = mycel_value_get(doc, "apiVersion");
	if (info->kind_name != NULL && strcmp(info->kind_name, "DataContract") == 0)
		info->kind = MYCEL_DOC_CONTRACT;
	else if (info->kind_name != NULL && strcmp(info->kind_name, "DataProduct") == 0)
		info->kind = MYCEL_DOC_PRODUCT;
	if (info->kind == 0) {
		mycel_diags_add(d, kv ? kv->line : doc->line, kv ? kv->col : doc->col, "/kind",
				"kind %s%s%s is not supported: use DataContract (ODCS %s) or "
				"DataProduct (ODPS %s)",
				info->kind_name ? "\"" : "", info->kind_name ? info->kind_name : "is missing and",
				info->kind_name ? "\"" : "", mycel_lint_supported(MYCEL_DOC_CONTRACT),
				mycel_lint_supported(MYCEL_DOC_PRODUCT));
		return MYCEL_EFORMAT;
	}
	size_t i;
	for (i = 0; i < NTABLE; i++)
		if (table[i].kind == info->kind && info->api_version != NULL &&
		    strcmp(table[i].api_version, info->api_version) == 0)
			break;
	if (i == NTABLE) {
		mycel_diags_add(d, av ? av->line : doc->line, av ? av->col : doc->col, "/apiVersion",
				"apiVersion %s%s%s of %s is not supported: supported versions are %s",
				info->api_version ? "\"" : "",
				info->api_version ? info->api_version : "is missing and",
				info->api_version ? "\"" : "", info->kind_name,
				mycel_lint_supported(info->kind));
		return MYCEL_EFORMAT;
	}
	pthread_once(&once, load_schemas);
	if (schemas_err != 0) {
		mycel_diags_add(d, 0, 0, "", "the built-in schemas failed to load: %s",
				mycel_strerror(schemas_err));
		return schemas_err;
	}
	bool valid = false;
	char why[256] = "";
	snprintf(uri, sizeof(uri), SCHEMA_BASE "%s", table[i].file);
	int rv = mycel_schema_validate(schemas, uri, doc, &valid, d, why, sizeof(why));
	if (rv != 0) {
		mycel_diags_add(d, doc->line, doc->col, "", "validation stopped: %s",
				why[0] ? why : mycel_strerror(rv));
		return rv;
	}
	return valid ? 0 : MYCEL_ESCHEMA;
}

int mycel_lint_file(const char *path, mycel_arena *a, mycel_value **out_doc, mycel_docinfo *info,
		    mycel_diags *d)
{
	mycel_value *doc = NULL;
	memset(info, 0, sizeof(*info));
	*out_doc = NULL;
	int rv = mycel_doc_load(path, NULL, a, &doc, d);
	if (rv != 0)
		return rv;
	*out_doc = doc;
	return mycel_lint_value(doc, info, d);
}

int mycel_lint_publishable(const mycel_value *doc, const mycel_docinfo *info,
			   const char *publisher_domain, mycel_diags *d)
{
	int rv = 0;
	const mycel_value *id = mycel_value_get(doc, "id");
	const mycel_value *ver = mycel_value_get(doc, "version");
	const mycel_value *dom = mycel_value_get(doc, "domain");
	if (info->id == NULL || id->v.s.len == 0 || id->v.s.len > MYCEL_ID_MAX ||
	    strlen(info->id) != id->v.s.len) {
		mycel_diags_add(d, id ? id->line : doc->line, id ? id->col : doc->col, "/id",
				"a published document needs an `id`: a string of 1 to %d bytes",
				MYCEL_ID_MAX);
		rv = MYCEL_EINVAL;
	}
	if (info->version == NULL || !mycel_semver_valid(info->version)) {
		mycel_diags_add(d, ver ? ver->line : doc->line, ver ? ver->col : doc->col, "/version",
				"a published document needs a semantic `version` (MAJOR.MINOR.PATCH, "
				"e.g. 1.0.0)%s%s%s",
				info->version ? "; got \"" : "", info->version ? info->version : "",
				info->version ? "\"" : "");
		rv = MYCEL_EINVAL;
	}
	if (dom != NULL && (info->domain == NULL || strcmp(info->domain, publisher_domain) != 0)) {
		mycel_diags_add(d, dom->line, dom->col, "/domain",
				"the document names domain \"%s\", but it is published by domain "
				"\"%s\": a domain publishes only its own documents",
				info->domain ? info->domain : "?", publisher_domain);
		rv = MYCEL_EINVAL;
	}
	return rv;
}
