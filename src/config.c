/*
 * config.c — a node's configuration file (include/mycel/config.h).
 *
 * The text is parsed into a value tree by mycel/doc.h; each known key is then checked for
 * its type and range, and every problem becomes one finding at the value's line and column,
 * so a user sees all of them in one run. Nothing is returned unless the whole file is valid.
 */
#include "mycel/config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mycel/codec.h"
#include "mycel/doc.h"
#include "mycel/error.h"
#include "util.h"

#define CONFIG_ARENA_MAX ((size_t)(16u << 20))

static const char *const known_keys[] = {
    "data", "listen", "admin", "events", "workers", "admin_workers", "log_level", "peers", "gossip",
};
#define N_KNOWN (sizeof(known_keys) / sizeof(known_keys[0]))

/* The integer keys of the gossip section, their ranges and where they go. */
typedef struct gossip_key {
	const char *name;
	uint64_t min, max;
} gossip_key;

static const gossip_key gossip_keys[] = {
    {"interval_ms", 10, 3600000},   {"fanout", 1, 64},
    {"max_hops", 1, 255},           {"batch_entries", 1, 1000},
    {"batch_bytes", 4096, 16u << 20}, {"rpc_timeout_ms", 10, 600000},
    {"backoff_max_ms", 100, 86400000}, {"reject_limit", 1, 1000000},
    {"ignore_ms", 1000, 86400000},  {"verify_threads", 0, MYCEL_GOSSIP_VERIFY_THREADS_MAX},
};
#define N_GOSSIP (sizeof(gossip_keys) / sizeof(gossip_keys[0]))
static const char *const gossip_names[] = {
    "interval_ms", "fanout", "max_hops", "batch_entries", "batch_bytes", "rpc_timeout_ms",
    "backoff_max_ms", "reject_limit", "ignore_ms", "verify_threads", "push", "enabled",
};
#define N_GOSSIP_NAMES (sizeof(gossip_names) / sizeof(gossip_names[0]))

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int mycel_node_level_parse(const char *s, mycel_node_level *out)
{
	for (size_t i = 0; s != NULL && i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0) {
			*out = (mycel_node_level)i;
			return 0;
		}
	return MYCEL_EINVAL;
}

/* Levenshtein distance of two short strings, capped: anything over 3 is reported as 4. */
static unsigned distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[32];
	if (la >= 31 || lb >= 31)
		return 4;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb] > 3 ? 4 : row[lb];
}

/* The key of names[0..n) nearest to key, or NULL when none is within 2 edits. */
static const char *nearest_of(const char *key, const char *const *names, size_t n)
{
	const char *best = NULL;
	unsigned bd = 3;
	for (size_t i = 0; i < n; i++) {
		unsigned d = distance(key, names[i]);
		if (d < bd) {
			bd = d;
			best = names[i];
		}
	}
	return best;
}

static const char *nearest(const char *key) { return nearest_of(key, known_keys, N_KNOWN); }

typedef struct checker {
	mycel_diags *d;
	const char *base_dir;
	int err; /* ENOMEM once an allocation failed */
	bool bad; /* a finding was added */
} checker;

static void finding(checker *k, const mycel_value *v, const char *ptr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void finding(checker *k, const mycel_value *v, const char *ptr, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	k->bad = true;
	if (k->d != NULL && mycel_diags_add(k->d, v ? v->line : 0, v ? v->col : 0, ptr, "%s", msg) != 0)
		k->err = MYCEL_ENOMEM;
}

static char *dup_n(checker *k, const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p == NULL) {
		k->err = MYCEL_ENOMEM;
		return NULL;
	}
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* base_dir/rel (rel as is when it is absolute or there is no base_dir). */
static char *join(checker *k, const char *rel)
{
	if (rel[0] == '/' || k->base_dir == NULL)
		return dup_n(k, rel, strlen(rel));
	size_t nb = strlen(k->base_dir), nr = strlen(rel);
	char *p = malloc(nb + 1 + nr + 1);
	if (p == NULL) {
		k->err = MYCEL_ENOMEM;
		return NULL;
	}
	memcpy(p, k->base_dir, nb);
	p[nb] = '/';
	memcpy(p + nb + 1, rel, nr + 1);
	return p;
}

/* A non-empty string without NUL bytes, or NULL with a finding. */
static const char *string_of(checker *k, const mycel_value *v, const char *ptr)
{
	if (v->type != MYCEL_T_STR) {
		finding(k, v, ptr, "must be a string, not %s", mycel_type_name(v->type));
		return NULL;
	}
	if (v->v.s.len == 0 || memchr(v->v.s.ptr, '\0', v->v.s.len) != NULL) {
		finding(k, v, ptr, "must be a non-empty string without NUL bytes");
		return NULL;
	}
	return v->v.s.ptr;
}

static bool has_prefix(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

/* A URL of one of the schemes in `schemes` (NULL-terminated), within the length bound. */
static const char *url_of(checker *k, const mycel_value *v, const char *ptr,
			  const char *const *schemes, const char *what)
{
	const char *s = string_of(k, v, ptr);
	if (s == NULL)
		return NULL;
	if (strlen(s) > MYCEL_NODE_URL_MAX) {
		finding(k, v, ptr, "URL is longer than %u bytes", MYCEL_NODE_URL_MAX);
		return NULL;
	}
	for (size_t i = 0; schemes[i] != NULL; i++)
		if (has_prefix(s, schemes[i]) && s[strlen(schemes[i])] != '\0')
			return s;
	finding(k, v, ptr, "\"%s\" is not %s", s, what);
	return NULL;
}

static unsigned count_of(checker *k, const mycel_value *v, const char *ptr)
{
	if (v->type != MYCEL_T_UINT || v->v.u < 1 || v->v.u > MYCEL_NODE_WORKERS_MAX) {
		finding(k, v, ptr, "must be an integer from 1 to %u", MYCEL_NODE_WORKERS_MAX);
		return 0;
	}
	return (unsigned)v->v.u;
}

static const char *const public_schemes[] = {"tcp://", "tcp4://", "tcp6://", "ipc://", NULL};
static const char *const ipc_schemes[] = {"ipc://", NULL};
static const char *const tcp_schemes[] = {"tcp://", "tcp4://", "tcp6://", NULL};

static void check_peers(checker *k, const mycel_value *v, mycel_node_config *c)
{
	if (v->type != MYCEL_T_ARRAY) {
		finding(k, v, "/peers", "must be a list of tcp:// URLs, not %s",
			mycel_type_name(v->type));
		return;
	}
	if (v->v.a.len > MYCEL_CONFIG_PEERS_MAX) {
		finding(k, v, "/peers", "lists %zu peers; at most %u are allowed", v->v.a.len,
			MYCEL_CONFIG_PEERS_MAX);
		return;
	}
	if (v->v.a.len == 0)
		return;
	c->peers = calloc(v->v.a.len, sizeof(*c->peers));
	if (c->peers == NULL) {
		k->err = MYCEL_ENOMEM;
		return;
	}
	for (size_t i = 0; i < v->v.a.len; i++) {
		const mycel_value *p = &v->v.a.items[i];
		char ptr[32];
		(void)snprintf(ptr, sizeof(ptr), "/peers/%zu", i);
		const char *u = url_of(k, p, ptr, tcp_schemes, "a tcp:// URL");
		if (u == NULL)
			continue;
		const char *host = strstr(u, "://") + 3;
		if (strncmp(host, "0.0.0.0:", 8) == 0 || strncmp(host, "[::]:", 5) == 0 ||
		    strncmp(host, "*:", 2) == 0 || host[0] == ':') {
			finding(k, p, ptr,
				"peer \"%s\" names no host (0.0.0.0, [::] and * are listen addresses)",
				u);
			continue;
		}
		bool dup = false;
		for (size_t j = 0; j < c->n_peers && !dup; j++)
			dup = strcmp(c->peers[j], u) == 0;
		if (dup) {
			finding(k, p, ptr, "peer \"%s\" is listed twice", u);
			continue;
		}
		if ((c->peers[c->n_peers] = dup_n(k, u, strlen(u))) != NULL)
			c->n_peers++;
	}
}

/* The gossip section: a map of the keys above, each checked for its type and range. */
static void check_gossip(checker *k, const mycel_value *v, mycel_gossip_opts *g)
{
	if (v->type != MYCEL_T_MAP) {
		finding(k, v, "/gossip", "must be a map of gossip settings, not %s",
			mycel_type_name(v->type));
		return;
	}
	for (size_t i = 0; i < v->v.m.len; i++) {
		const mycel_member *m = &v->v.m.items[i];
		const mycel_value *x = &m->val;
		char ptr[300] = "/gossip";
		mycel_pointer_push(ptr, sizeof(ptr), m->key, m->key_len);
		if (strcmp(m->key, "push") == 0 || strcmp(m->key, "enabled") == 0) {
			if (x->type != MYCEL_T_BOOL) {
				finding(k, x, ptr, "must be true or false, not %s",
					mycel_type_name(x->type));
				continue;
			}
			if (m->key[0] == 'p')
				g->no_push = !x->v.b;
			else
				g->off = !x->v.b;
			continue;
		}
		const gossip_key *gk = NULL;
		for (size_t j = 0; j < N_GOSSIP && gk == NULL; j++)
			if (strcmp(m->key, gossip_keys[j].name) == 0)
				gk = &gossip_keys[j];
		if (gk == NULL) {
			const char *near = nearest_of(m->key, gossip_names, N_GOSSIP_NAMES);
			if (near != NULL)
				finding(k, x, ptr,
					"unknown gossip key \"%s\" (did you mean \"%s\"?)", m->key,
					near);
			else
				finding(k, x, ptr, "unknown gossip key \"%s\"", m->key);
			continue;
		}
		if (x->type != MYCEL_T_UINT || x->v.u < gk->min || x->v.u > gk->max) {
			finding(k, x, ptr, "must be an integer from %llu to %llu",
				(unsigned long long)gk->min, (unsigned long long)gk->max);
			continue;
		}
		uint64_t u = x->v.u;
		switch (gk - gossip_keys) {
		case 0: g->interval_ms = (unsigned)u; break;
		case 1: g->fanout = (unsigned)u; break;
		case 2: g->max_hops = (unsigned)u; break;
		case 3: g->batch_entries = (unsigned)u; break;
		case 4: g->batch_bytes = u; break;
		case 5: g->rpc_timeout_ms = (unsigned)u; break;
		case 6: g->backoff_max_ms = (unsigned)u; break;
		case 7: g->reject_limit = (unsigned)u; break;
		case 8: g->ignore_ms = (unsigned)u; break;
		default: g->verify_threads = (unsigned)u; break;
		}
	}
}

static void check_member(checker *k, const mycel_member *m, mycel_node_config *c)
{
	const mycel_value *v = &m->val;
	char ptr[300];
	ptr[0] = '\0';
	mycel_pointer_push(ptr, sizeof(ptr), m->key, m->key_len);
	const char *s;

	if (strcmp(m->key, "data") == 0) {
		if ((s = string_of(k, v, ptr)) != NULL)
			c->data = join(k, s);
	} else if (strcmp(m->key, "listen") == 0) {
		if ((s = url_of(k, v, ptr, public_schemes, "a tcp:// or ipc:// URL")) != NULL)
			c->listen = dup_n(k, s, strlen(s));
	} else if (strcmp(m->key, "admin") == 0) {
		if ((s = url_of(k, v, ptr, ipc_schemes, "an ipc:// URL (the admin socket is local only)")) != NULL) {
			if (s[6] == '/' || k->base_dir == NULL) {
				c->admin = dup_n(k, s, strlen(s));
			} else {
				char *path = join(k, s + 6);
				if (path != NULL) {
					size_t n = strlen(path);
					if ((c->admin = malloc(n + 7)) == NULL)
						k->err = MYCEL_ENOMEM;
					else
						(void)snprintf(c->admin, n + 7, "ipc://%s", path);
					free(path);
				}
			}
		}
	} else if (strcmp(m->key, "events") == 0) {
		if ((s = url_of(k, v, ptr, tcp_schemes, "a tcp:// URL")) != NULL)
			c->events = dup_n(k, s, strlen(s));
	} else if (strcmp(m->key, "workers") == 0) {
		c->workers = count_of(k, v, ptr);
	} else if (strcmp(m->key, "admin_workers") == 0) {
		c->admin_workers = count_of(k, v, ptr);
	} else if (strcmp(m->key, "log_level") == 0) {
		mycel_node_level lv;
		if ((s = string_of(k, v, ptr)) == NULL)
			return;
		if (mycel_node_level_parse(s, &lv) != 0)
			finding(k, v, ptr, "\"%s\" is not a log level (debug, info, warn, error)", s);
		else
			c->log_level = (int)lv;
	} else if (strcmp(m->key, "peers") == 0) {
		check_peers(k, v, c);
	} else if (strcmp(m->key, "gossip") == 0) {
		check_gossip(k, v, &c->gossip);
	} else {
		const char *near = nearest(m->key);
		if (near != NULL)
			finding(k, v, ptr, "unknown key \"%s\" (did you mean \"%s\"?)", m->key, near);
		else
			finding(k, v, ptr, "unknown key \"%s\"", m->key);
	}
}

void mycel_node_config_fini(mycel_node_config *c)
{
	if (c == NULL)
		return;
	free(c->data);
	free(c->listen);
	free(c->admin);
	free(c->events);
	for (size_t i = 0; i < c->n_peers; i++)
		free(c->peers[i]);
	free(c->peers);
	memset(c, 0, sizeof(*c));
	c->log_level = -1;
}

static int check(const mycel_value *root, const char *base_dir, mycel_node_config *out,
		 mycel_diags *d)
{
	checker k = {d, base_dir, 0, false};
	mycel_node_config c;
	memset(&c, 0, sizeof(c));
	c.log_level = -1;

	if (root->type == MYCEL_T_NIL) {
		/* `~` or `null`: nothing set. */
	} else if (root->type != MYCEL_T_MAP) {
		finding(&k, root, "", "the configuration must be a map of settings, not %s",
			mycel_type_name(root->type));
	} else {
		for (size_t i = 0; i < root->v.m.len && k.err == 0; i++)
			check_member(&k, &root->v.m.items[i], &c);
	}
	if (k.err != 0 || k.bad) {
		mycel_node_config_fini(&c);
		return k.err != 0 ? k.err : MYCEL_EFORMAT;
	}
	*out = c;
	return 0;
}

/* True when the text holds nothing but blanks and # comments. */
static bool blank(const char *t, size_t n)
{
	bool comment = false;
	for (size_t i = 0; i < n; i++) {
		if (t[i] == '\n')
			comment = false;
		else if (t[i] == '#' && !comment)
			comment = true;
		else if (!comment && t[i] != ' ' && t[i] != '\t' && t[i] != '\r')
			return false;
	}
	return true;
}

int mycel_node_config_parse(const char *text, size_t n, const char *base_dir,
			    mycel_node_config *out, mycel_diags *d)
{
	mycel_doc_limits lim = {MYCEL_CONFIG_BYTES_MAX, 100000, 10000, 32};
	mycel_arena *a = NULL;
	mycel_value *root = NULL;
	int rv;

	if (text == NULL || out == NULL)
		return MYCEL_EINVAL;
	if (n > MYCEL_CONFIG_BYTES_MAX) {
		if (d != NULL)
			(void)mycel_diags_add(d, 0, 0, NULL, "the file is larger than %zu bytes",
					      MYCEL_CONFIG_BYTES_MAX);
		return MYCEL_ETOOBIG;
	}
	if (blank(text, n)) {
		/* An empty file: every setting comes from flags and defaults. */
		memset(out, 0, sizeof(*out));
		out->log_level = -1;
		return 0;
	}
	if ((rv = mycel_arena_new(CONFIG_ARENA_MAX, &a)) != 0)
		return rv;
	if ((rv = mycel_doc_parse(text, n, &lim, a, &root, d)) == 0)
		rv = check(root, base_dir, out, d);
	mycel_arena_free(a);
	return rv;
}

int mycel_node_config_load(const char *path, mycel_node_config *out, mycel_diags *d)
{
	uint8_t *text = NULL;
	size_t n = 0;
	char dir[PATH_MAX], abs[PATH_MAX];
	int rv;

	if (path == NULL || out == NULL)
		return MYCEL_EINVAL;
	rv = mycel__read_file(path, MYCEL_CONFIG_BYTES_MAX, &text, &n);
	if (rv != 0) {
		if (d != NULL)
			(void)mycel_diags_add(d, 0, 0, NULL, "%s",
					      rv == MYCEL_ENOTFOUND ? "no such file"
					      : rv == MYCEL_ETOOBIG ? "the file is larger than 1 MiB"
								    : "cannot read the file");
		return rv;
	}
	/* The directory the file is in, made absolute so a daemon's paths do not depend on
	 * where it was started from. */
	size_t len = strlen(path);
	if (len >= sizeof(dir)) {
		free(text);
		return MYCEL_EINVAL;
	}
	memcpy(dir, path, len + 1);
	char *slash = strrchr(dir, '/');
	if (slash == NULL)
		(void)snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (realpath(dir, abs) == NULL) {
		free(text);
		return MYCEL_EIO;
	}
	rv = mycel_node_config_parse((const char *)text, n, abs, out, d);
	free(text);
	return rv;
}
