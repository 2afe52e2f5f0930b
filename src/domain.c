/* domain.c — domain directories: init and config. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "mycel/domain.h"
#include "feedkey.h"
#include "util.h"


static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static int mkdirs(const char *dir)
{
	char tmp[4096];
	if (strlen(dir) >= sizeof(tmp))
		return -1;
	strcpy(tmp, dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int make_charter(const mycel_domain_opts *o, const mycel_key *key, mycel_buf *out,
			char *why, size_t why_len)
{
	char mesh[MYCEL_NAME_MAX + 1];
	mycel_charter *c;
	if (o->mesh != NULL)
		snprintf(mesh, sizeof(mesh), "%s", o->mesh);
	else if (strlen(o->name) + 5 <= MYCEL_NAME_MAX)
		snprintf(mesh, sizeof(mesh), "%s-mesh", o->name);
	else
		snprintf(mesh, sizeof(mesh), "%s", o->name);
	if (!mycel_name_valid(mesh))
		return mycel__fail(MYCEL_EINVAL, why, why_len,
			    "mesh name \"%s\" is not valid ([a-z0-9-], 1 to 64)", mesh);
	int rv = mycel_charter_new(mesh, 1, 1, &c);
	if (rv == 0)
		rv = mycel_charter_add_member(c, o->name, key->pk);
	if (rv == 0)
		rv = mycel_charter_add_domain(c, o->name, key->pk);
	if (rv == 0)
		rv = mycel_charter_sign(c, key, why, why_len);
	if (rv == 0)
		rv = mycel_charter_encode(c, out);
	mycel_charter_free(c);
	return rv;
}

static int load_charter(const mycel_domain_opts *o, const mycel_key *key, mycel_buf *out,
			char *why, size_t why_len)
{
	uint8_t *p;
	size_t n;
	mycel_charter *c;
	char hex[2 * MYCEL_PK_LEN + 1];
	int rv = mycel__read_file(o->charter_file, MYCEL_CHARTER_MAX, &p, &n);
	if (rv != 0)
		return mycel__fail(rv, why, why_len, "%s: %s", o->charter_file, mycel_strerror(rv));
	char w[256];
	rv = mycel_charter_decode(p, n, &c, w, sizeof(w));
	if (rv == 0)
		rv = mycel_charter_verify_genesis(c, w, sizeof(w));
	if (rv != 0) {
		free(p);
		mycel_charter_free(c);
		return mycel__fail(rv, why, why_len, "%s: %s", o->charter_file, w);
	}
	/* the later versions of the chain, each verified against the one before */
	const char *last_file = o->charter_file;
	for (size_t i = 0; i < o->n_later; i++) {
		uint8_t *q;
		size_t qn;
		mycel_charter *next = NULL;
		last_file = o->later_charters[i];
		rv = mycel__read_file(last_file, MYCEL_CHARTER_MAX, &q, &qn);
		if (rv != 0) {
			free(p);
			mycel_charter_free(c);
			return mycel__fail(rv, why, why_len, "%s: %s", last_file, mycel_strerror(rv));
		}
		rv = mycel_charter_decode(q, qn, &next, w, sizeof(w));
		free(q);
		if (rv == 0)
			rv = mycel_charter_verify_next(c, next, w, sizeof(w));
		mycel_charter_free(c);
		c = next;
		if (rv != 0) {
			free(p);
			mycel_charter_free(c);
			return mycel__fail(rv, why, why_len, "%s: %s", last_file, w);
		}
	}
	const mycel_charter_domain *d = mycel_charter_find_domain(c, o->name);
	mycel_hex(key->pk, MYCEL_PK_LEN, hex);
	if (d == NULL || memcmp(d->feed, key->pk, MYCEL_PK_LEN) != 0) {
		rv = mycel__fail(MYCEL_EADMIT, why, why_len,
			  "%s does not admit domain \"%s\" with key %s; the governance group must "
			  "add --domain %s=%s",
			  last_file, o->name, hex, o->name, hex);
	} else {
		mycel_buf_put(out, p, n);
		rv = out->err;
	}
	free(p);
	mycel_charter_free(c);
	return rv;
}

int mycel_domain_init(const mycel_domain_opts *o, char *why, size_t why_len)
{
	mycel_key *key = NULL;
	mycel_store *st = NULL;
	mycel_buf ch;
	char *cfg = NULL, *keyp = NULL, *chp = NULL, *stp = NULL;
	bool made_dir = false, made_key = false, made_charter = false, made_store = false;
	int rv;

	if (!mycel_name_valid(o->name))
		return mycel__fail(MYCEL_EINVAL, why, why_len,
			    "domain name \"%s\" is not valid: use 1 to 64 of a-z, 0-9 and '-'", o->name);
	mycel_buf_init(&ch, MYCEL_CHARTER_MAX);
	cfg = join(o->dir, MYCEL_CONFIG_FILE);
	keyp = join(o->dir, "key.secret");
	chp = join(o->dir, "charter.mcc");
	stp = join(o->dir, "store");
	if (cfg == NULL || keyp == NULL || chp == NULL || stp == NULL) {
		rv = MYCEL_ENOMEM;
		goto out;
	}
	if (access(cfg, F_OK) == 0) {
		rv = mycel__fail(MYCEL_EEXIST, why, why_len, "%s is already a domain directory", o->dir);
		goto out;
	}
	made_dir = access(o->dir, F_OK) != 0;
	if (mkdirs(o->dir) != 0) {
		rv = mycel__fail(MYCEL_EIO, why, why_len, "%s: %s", o->dir, strerror(errno));
		goto out;
	}
	rv = o->key_file != NULL ? mycel_key_load(o->key_file, &key) : mycel_key_generate(&key);
	if (rv != 0) {
		mycel__fail(rv, why, why_len, "%s: %s", o->key_file ? o->key_file : "key", mycel_strerror(rv));
		goto out;
	}
	if ((rv = mycel_key_save(key, keyp)) != 0) {
		mycel__fail(rv, why, why_len, "%s: %s", keyp, mycel_strerror(rv));
		goto out;
	}
	made_key = true;
	rv = o->charter_file != NULL ? load_charter(o, key, &ch, why, why_len)
				     : make_charter(o, key, &ch, why, why_len);
	if (rv != 0)
		goto out;
	if ((rv = mycel__write_file(chp, ch.data, ch.len, 0644)) != 0) {
		mycel__fail(rv, why, why_len, "%s: %s", chp, mycel_strerror(rv));
		goto out;
	}
	made_charter = true;
	bool had_store = access(stp, F_OK) == 0;
	if ((rv = mycel_store_open(stp, MYCEL_STORE_CREATE, &st, why, why_len)) != 0)
		goto out;
	made_store = !had_store; /* only what this call created is removed on failure */
	if ((rv = mycel_store_add_charter(st, ch.data, ch.len, why, why_len)) != 0)
		goto out;
	for (size_t i = 0; i < o->n_later; i++) {
		uint8_t *q;
		size_t qn;
		if ((rv = mycel__read_file(o->later_charters[i], MYCEL_CHARTER_MAX, &q, &qn)) != 0) {
			mycel__fail(rv, why, why_len, "%s: %s", o->later_charters[i],
				    mycel_strerror(rv));
			goto out;
		}
		rv = mycel_store_add_charter(st, q, qn, why, why_len);
		free(q);
		if (rv != 0)
			goto out;
	}
	char text[1024];
	int tn = snprintf(text, sizeof(text),
			  "# mycel domain directory, written by `mycel init`\n"
			  "domain: %s\nkey: key.secret\ncharter: charter.mcc\nstore: store\n",
			  o->name);
	if ((rv = mycel__write_file(cfg, text, (size_t)tn, 0644)) != 0)
		mycel__fail(rv, why, why_len, "%s: %s", cfg, mycel_strerror(rv));
out:
	mycel_store_close(st);
	if (rv != 0) {
		if (made_key)
			unlink(keyp);
		if (made_charter)
			unlink(chp);
		if (made_store) {
			char *a = join(stp, "data.mdb"), *b = join(stp, "lock.mdb");
			if (a != NULL)
				unlink(a);
			if (b != NULL)
				unlink(b);
			free(a);
			free(b);
			rmdir(stp);
		}
		if (made_dir)
			rmdir(o->dir); /* only if empty: nothing of anyone else's is removed */
	}
	mycel_key_free(key);
	mycel_buf_fini(&ch);
	free(cfg);
	free(keyp);
	free(chp);
	free(stp);
	return rv;
}

/* ---- config.yaml ------------------------------------------------------------- */

void mycel_domain_fini(mycel_domain *d)
{
	if (d == NULL)
		return;
	free(d->dir);
	free(d->name);
	free(d->key_path);
	free(d->charter_path);
	free(d->store_path);
	memset(d, 0, sizeof(*d));
}

int mycel_domain_load(const char *dir, mycel_domain *out, char *why, size_t why_len)
{
	yaml_parser_t yp;
	yaml_event_t ev;
	uint8_t *text = NULL;
	size_t n;
	mycel_domain d;
	char *key = NULL;
	int rv, depth = 0;
	bool done = false;

	memset(&d, 0, sizeof(d));
	char *cfg = join(dir, MYCEL_CONFIG_FILE);
	if (cfg == NULL)
		return MYCEL_ENOMEM;
	rv = mycel__read_file(cfg, MYCEL_CONFIG_MAX, &text, &n);
	if (rv != 0) {
		mycel__fail(rv, why, why_len, "%s: %s", cfg,
		     rv == MYCEL_ENOTFOUND ? "no domain directory here (run `mycel init`)"
					   : mycel_strerror(rv));
		free(cfg);
		return rv;
	}
	yaml_parser_initialize(&yp);
	yaml_parser_set_input_string(&yp, text, n);
	while (!done && rv == 0) {
		if (!yaml_parser_parse(&yp, &ev)) {
			rv = mycel__fail(MYCEL_EFORMAT, why, why_len, "%s:%zu:%zu: %s", cfg,
				  yp.problem_mark.line + 1, yp.problem_mark.column + 1,
				  yp.problem ? yp.problem : "YAML error");
			break;
		}
		size_t line = ev.start_mark.line + 1, col = ev.start_mark.column + 1;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_MAPPING_START_EVENT:
			if (++depth > 1)
				rv = mycel__fail(MYCEL_EFORMAT, why, why_len, "%s:%zu:%zu: nested maps are not allowed", cfg, line, col);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_ALIAS_EVENT:
			rv = mycel__fail(MYCEL_EFORMAT, why, why_len, "%s:%zu:%zu: expected a plain value", cfg, line, col);
			break;
		case YAML_SCALAR_EVENT: {
			const char *val = (const char *)ev.data.scalar.value;
			if (depth != 1) {
				rv = mycel__fail(MYCEL_EFORMAT, why, why_len, "%s:%zu:%zu: expected a map", cfg, line, col);
			} else if (key == NULL) {
				if ((key = strdup(val)) == NULL)
					rv = MYCEL_ENOMEM;
			} else {
				char **slot = NULL;
				if (strcmp(key, "domain") == 0)
					slot = &d.name;
				else if (strcmp(key, "key") == 0)
					slot = &d.key_path;
				else if (strcmp(key, "charter") == 0)
					slot = &d.charter_path;
				else if (strcmp(key, "store") == 0)
					slot = &d.store_path;
				if (slot == NULL)
					rv = mycel__fail(MYCEL_EFORMAT, why, why_len, "%s:%zu:%zu: unknown setting \"%s\"", cfg, line, col, key);
				else if (*slot != NULL)
					rv = mycel__fail(MYCEL_EFORMAT, why, why_len, "%s:%zu:%zu: \"%s\" is set twice", cfg, line, col, key);
				else if ((*slot = (slot == &d.name || val[0] == '/') ? strdup(val) : join(dir, val)) == NULL)
					rv = MYCEL_ENOMEM;
				free(key);
				key = NULL;
			}
			break;
		}
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&yp);
	free(text);
	free(key);
	if (rv == 0 && (d.name == NULL || d.key_path == NULL || d.charter_path == NULL || d.store_path == NULL))
		rv = mycel__fail(MYCEL_EFORMAT, why, why_len, "%s: needs domain, key, charter and store", cfg);
	if (rv == 0) {
		if (!mycel_name_valid(d.name))
			rv = mycel__fail(MYCEL_EFORMAT, why, why_len, "%s: domain \"%s\" is not a valid name", cfg, d.name);
		else if ((d.dir = strdup(dir)) == NULL)
			rv = MYCEL_ENOMEM;
	}
	free(cfg);
	if (rv != 0) {
		mycel_domain_fini(&d);
		return rv;
	}
	*out = d;
	return 0;
}

int mycel_domain_key_recover(const mycel_domain *d, mycel_store *s, bool *out_done, char *why,
			     size_t why_len)
{
	const mycel_charter *ch = mycel_store_charter(s);
	const mycel_charter_domain *cd = ch != NULL ? mycel_charter_find_domain(ch, d->name) : NULL;
	*out_done = false;
	if (cd == NULL)
		return mycel__fail(MYCEL_ENOTFOUND, why, why_len,
				   "the charter does not name domain %s", d->name);
	return mycel__keyfile_recover(d->key_path, s, cd->feed, out_done, why, why_len);
}
