/*
 * gossip_peers.c — the gossip engine's peers table (src/gossip.h, gossip_int.h): options,
 * backoff and jitter, URLs, states and their transitions, the choice of peers for rounds
 * and pushes, rejects and the ignore period, persistence of admin peers, peers learnt from
 * domain profiles, and the mesh ops the handlers call (all but `committed`, in gossip.c).
 * Locking as gossip.c says: g->mu guards everything here and is held only briefly.
 */
#include "gossip_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mycel/charter.h"
#include "mycel/codec.h"
#include "mycel/error.h"
#include "mycel/profile.h"
#include "mycel/store.h"
#include "mycel_proto.h"
#include "store_int.h"

/* ---- small helpers -------------------------------------------------------------------- */

uint64_t mycel__gp_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t mycel__gp_now(const mycel__gossip *g)
{
	return g->env.clock != NULL ? g->env.clock(g->env.clock_arg) : mycel__gp_wall_ms();
}

/* xorshift64*: a uniform double in [0, 1); under g->mu. */
double mycel__gp_rnd(mycel__gossip *g)
{
	uint64_t x = g->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	g->rng = x;
	return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53;
}

void mycel__gp_why(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;
	if (why == NULL || why_len == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
}

/* s as a logfmt quoted value (quotes, backslashes and control bytes escaped), cut to cap. */
const char *mycel__gp_q(const char *s, char *out, size_t cap)
{
	size_t j = 0;
	out[j++] = '"';
	for (; s != NULL && *s != '\0' && j + 6 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[j++] = '\\';
			out[j++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			j += (size_t)snprintf(out + j, cap - j, "\\x%02x", c);
		} else {
			out[j++] = (char)c;
		}
	}
	out[j++] = '"';
	out[j] = '\0';
	return out;
}

void mycel__gp_log(mycel__gossip *g, mycel_node_level lv, const char *fmt, ...)
{
	char line[1536];
	va_list ap;
	if (g->env.log == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	g->env.log(g->env.log_ctx, lv, line);
}

/* The first 8 bytes of p as 16 hex digits. */
const char *mycel__gp_hex8(const uint8_t *p, char out[17])
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < 8; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[16] = '\0';
	return out;
}

const char *mycel__peer_state_name(mycel__peer_state s)
{
	static const char *const n[] = {"alive", "suspect", "dead", "ignored"};
	return (unsigned)s < 4 ? n[s] : "?";
}

const char *mycel__peer_source_name(mycel__peer_source s)
{
	static const char *const n[] = {"seed", "admin", "domain", "inbound"};
	return (unsigned)s < 4 ? n[s] : "?";
}

/* ---- options ---------------------------------------------------------------------------- */

typedef struct opt_range {
	const char *name;
	size_t off;
	bool u64;
	uint64_t min, max;
} opt_range;

#define OPT(f, mn, mx)                                                                             \
	{                                                                                          \
#f, offsetof(mycel_gossip_opts, f), false, mn, mx                                  \
	}
static const opt_range opt_ranges[] = {
    OPT(interval_ms, 10, 3600000),
    OPT(fanout, 1, 64),
    OPT(max_hops, 1, 255),
    OPT(batch_entries, 1, 1000),
    {"batch_bytes", offsetof(mycel_gossip_opts, batch_bytes), true, 4096, 16u << 20},
    OPT(rpc_timeout_ms, 10, 600000),
    OPT(backoff_max_ms, 100, 86400000),
    OPT(reject_limit, 1, 1000000),
    OPT(ignore_ms, 1000, 86400000),
    OPT(verify_threads, 0, MYCEL_GOSSIP_VERIFY_THREADS_MAX),
};
#undef OPT

int mycel_gossip_opts_check(const mycel_gossip_opts *o, char *why, size_t why_len)
{
	if (o == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(opt_ranges) / sizeof(opt_ranges[0]); i++) {
		const opt_range *r = &opt_ranges[i];
		const char *p = (const char *)o + r->off;
		uint64_t v = r->u64 ? *(const uint64_t *)(const void *)p
		                    : *(const unsigned *)(const void *)p;
		if (v != 0 && (v < r->min || v > r->max)) {
			mycel__gp_why(why, why_len, "gossip %s must be from %llu to %llu, not %llu",
			              r->name, (unsigned long long)r->min,
			              (unsigned long long)r->max, (unsigned long long)v);
			return MYCEL_EINVAL;
		}
	}
	return 0;
}

void mycel_gossip_opts_resolve(const mycel_gossip_opts *o, mycel_gossip_opts *out)
{
	mycel_gossip_opts r;
	memset(&r, 0, sizeof(r));
	if (o != NULL)
		r = *o;
	if (r.interval_ms == 0)
		r.interval_ms = MYCEL_GOSSIP_INTERVAL_MS_DEFAULT;
	if (r.fanout == 0)
		r.fanout = MYCEL_GOSSIP_FANOUT_DEFAULT;
	if (r.max_hops == 0)
		r.max_hops = MYCEL_GOSSIP_MAX_HOPS_DEFAULT;
	if (r.batch_entries == 0)
		r.batch_entries = MYCEL_GOSSIP_BATCH_ENTRIES_DEFAULT;
	if (r.batch_bytes == 0)
		r.batch_bytes = MYCEL_GOSSIP_BATCH_BYTES_DEFAULT;
	if (r.rpc_timeout_ms == 0)
		r.rpc_timeout_ms = MYCEL_GOSSIP_RPC_TIMEOUT_MS_DEFAULT;
	if (r.backoff_max_ms == 0)
		r.backoff_max_ms = MYCEL_GOSSIP_BACKOFF_MAX_MS_DEFAULT;
	if (r.reject_limit == 0)
		r.reject_limit = MYCEL_GOSSIP_REJECT_LIMIT_DEFAULT;
	if (r.ignore_ms == 0)
		r.ignore_ms = MYCEL_GOSSIP_IGNORE_MS_DEFAULT;
	if (r.verify_threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		r.verify_threads = n < 1 ? 1u
		                   : n > (long)MYCEL_GOSSIP_VERIFY_THREADS_MAX
		                       ? MYCEL_GOSSIP_VERIFY_THREADS_MAX
		                       : (unsigned)n;
	}
	*out = r;
}

/* ---- timing ------------------------------------------------------------------------------ */

uint64_t mycel__gossip_backoff(uint64_t interval_ms, uint64_t backoff_max_ms, uint64_t failures,
                               double r)
{
	uint64_t d = interval_ms;
	for (uint64_t i = 0; i < failures && d < backoff_max_ms; i++)
		d *= 2;
	if (d > backoff_max_ms)
		d = backoff_max_ms;
	if (r < 0)
		r = 0;
	if (r >= 1)
		r = 0.999999;
	uint64_t v = (uint64_t)((double)d * (0.5 + r));
	return v > 0 ? v : 1;
}

uint64_t mycel__gossip_jitter(uint64_t interval_ms, double r)
{
	if (r < 0)
		r = 0;
	if (r >= 1)
		r = 0.999999;
	uint64_t v = (uint64_t)((double)interval_ms * (0.75 + r / 2));
	return v > 0 ? v : 1;
}

/* ---- peers table ------------------------------------------------------------------------- */

static bool url_ok(const char *u)
{
	static const char *const schemes[] = {"tcp://", "tcp4://", "tcp6://", "ipc://"};
	size_t n = u != NULL ? strlen(u) : 0;
	if (n == 0 || n > MYCEL_NODE_URL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)u[i] <= 0x20 || u[i] == 0x7f)
			return false;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t l = strlen(schemes[i]);
		if (n > l && strncmp(u, schemes[i], l) == 0)
			return true;
	}
	return false;
}

/* A listen address on every interface: host 0.0.0.0, [::], * or none. */
static bool wildcard_host(const char *u)
{
	const char *h = strstr(u, "://");
	if (h == NULL)
		return false;
	h += 3;
	return strncmp(h, "0.0.0.0:", 8) == 0 || strncmp(h, "[::]:", 5) == 0 ||
	       strncmp(h, "*:", 2) == 0 || h[0] == ':';
}

/* The URL this node announces as `from`: its own, unless it names no host a peer can dial. */
const char *mycel__gp_announce(const mycel__gossip *g)
{
	const char *self = g->env.ctx != NULL ? g->env.ctx->self_url : NULL;
	return self != NULL && !wildcard_host(self) ? self : NULL;
}

bool mycel__gp_is_self(const mycel__gossip *g, const char *url)
{
	const char *self = g->env.ctx != NULL ? g->env.ctx->self_url : NULL;
	return self != NULL && strcmp(self, url) == 0;
}

/* The peer with url (removed ones too), under g->mu. */
static peer *find(mycel__gossip *g, const char *url)
{
	for (size_t i = 0; url != NULL && i < g->n_peers; i++)
		if (strcmp(g->peers[i]->url, url) == 0)
			return g->peers[i];
	return NULL;
}

bool mycel__gp_gone(const mycel__gossip *g, const char *url)
{
	for (size_t i = 0; url != NULL && i < g->n_gone; i++)
		if (strcmp(g->gone[i], url) == 0)
			return true;
	return false;
}

/* Forgets url from the removed addresses; true if it was there. Under g->mu. */
static bool gone_del(mycel__gossip *g, const char *url)
{
	for (size_t i = 0; i < g->n_gone; i++)
		if (strcmp(g->gone[i], url) == 0) {
			memmove(&g->gone[i], &g->gone[i + 1], (g->n_gone - i - 1) * URLCAP);
			g->n_gone--;
			return true;
		}
	return false;
}

/* Remembers url as removed (the oldest is forgotten beyond REMOVED_MAX). Under g->mu. */
static int gone_add(mycel__gossip *g, const char *url)
{
	if (mycel__gp_gone(g, url))
		return 0;
	if (g->gone == NULL && (g->gone = calloc(REMOVED_MAX, URLCAP)) == NULL)
		return MYCEL_ENOMEM;
	if (g->n_gone == REMOVED_MAX) {
		memmove(&g->gone[0], &g->gone[1], (REMOVED_MAX - 1) * URLCAP);
		g->n_gone--;
	}
	snprintf(g->gone[g->n_gone++], URLCAP, "%s", url);
	return 0;
}

peer *mycel__gp_find(mycel__gossip *g, const char *url)
{
	peer *p = find(g, url);
	return p != NULL && !p->removed ? p : NULL;
}

int mycel__gossip_url_check(const char *url, char *why, size_t why_len)
{
	if (!url_ok(url)) {
		mycel__gp_why(why, why_len,
		              "\"%.*s\" is not a tcp:// or ipc:// URL of at most %u bytes", 64,
		              url != NULL ? url : "", MYCEL_NODE_URL_MAX);
		return MYCEL_EINVAL;
	}
	if (wildcard_host(url)) {
		mycel__gp_why(why, why_len,
		              "%s names no host (a listen address on every interface)", url);
		return MYCEL_EINVAL;
	}
	return 0;
}

/* Adds (or revives) a peer under g->mu; *out the row. EINVAL, ETOOBIG, ENOMEM. */
int mycel__gp_add(mycel__gossip *g, const char *url, mycel__peer_source src, char *why,
                  size_t why_len, peer **out)
{
	int rv = mycel__gossip_url_check(url, why, why_len);
	if (rv != 0)
		return rv;
	if (mycel__gp_is_self(g, url)) {
		mycel__gp_why(why, why_len, "%s is this node's own URL", url);
		return MYCEL_EINVAL;
	}
	if (src == MYCEL__SRC_DOMAIN || src == MYCEL__SRC_INBOUND) {
		if (mycel__gp_gone(g, url)) {
			mycel__gp_why(why, why_len, "%s was removed from this node's peers", url);
			return MYCEL_ENOTFOUND;
		}
	} else {
		(void)gone_del(g, url); /* an operator's add or the configuration brings it back */
	}
	peer *p = find(g, url);
	if (p != NULL) {
		if (p->removed) {
			p->removed = false;
			p->source = src;
		} else if (src == MYCEL__SRC_ADMIN || src == MYCEL__SRC_SEED) {
			p->source = src; /* a peer someone vouches for outranks a learnt one */
		}
		*out = p;
		return 0;
	}
	size_t live = 0;
	for (size_t i = 0; i < g->n_peers; i++)
		live += !g->peers[i]->removed;
	if (live >= MYCEL_NODE_PEERS_MAX) {
		mycel__gp_why(why, why_len, "the peers table is full (%u peers)",
		              MYCEL_NODE_PEERS_MAX);
		return MYCEL_ETOOBIG;
	}
	/* reuse a removed row before growing */
	for (size_t i = 0; i < g->n_peers && p == NULL; i++)
		if (g->peers[i]->removed && g->peers[i]->busy == 0 && g->peers[i]->client == NULL)
			p = g->peers[i];
	if (p == NULL) {
		if (g->n_peers == g->cap_peers) {
			if (g->n_peers >= 2u * MYCEL_NODE_PEERS_MAX) {
				mycel__gp_why(why, why_len, "the peers table is full");
				return MYCEL_ETOOBIG;
			}
			size_t cap = g->cap_peers ? g->cap_peers * 2 : 16;
			peer **np = realloc(g->peers, cap * sizeof(*np));
			if (np == NULL)
				return MYCEL_ENOMEM;
			g->peers = np;
			g->cap_peers = cap;
		}
		if ((p = calloc(1, sizeof(*p))) == NULL)
			return MYCEL_ENOMEM;
		g->peers[g->n_peers++] = p;
	} else {
		memset(p, 0, sizeof(*p));
	}
	snprintf(p->url, sizeof(p->url), "%s", url);
	p->source = src;
	p->state = MYCEL__PEER_ALIVE;
	*out = p;
	return 0;
}

bool mycel__gp_ignored_at(const peer *p, uint64_t now)
{
	return p->ignored_until > now;
}

static mycel__peer_state shown_state(const peer *p, uint64_t now)
{
	return mycel__gp_ignored_at(p, now) ? MYCEL__PEER_IGNORED : p->state;
}

static void info_of(const peer *p, uint64_t now, mycel__peer_info *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->url, sizeof(o->url), "%s", p->url);
	o->state = shown_state(p, now);
	o->source = p->source;
	o->failures = p->failures;
	o->last_seen_ms = p->last_seen;
	o->next_try_ms = p->next_try;
	o->ignored_until_ms = p->ignored_until;
	o->entries_in = p->in;
	o->entries_out = p->out;
	o->rejects = p->rejects;
	o->lag = p->lag;
	o->bytes_in = p->bytes_in;
	o->bytes_out = p->bytes_out;
	o->calls = p->calls;
	snprintf(o->last_error, sizeof(o->last_error), "%s", p->last_error);
}

/* Outcome of a call under g->mu; logs a state change. */
void mycel__gp_outcome(mycel__gossip *g, peer *p, bool ok, const char *err)
{
	uint64_t now = mycel__gp_now(g);
	mycel__peer_state before = p->state;
	if (ok) {
		p->failures = 0;
		p->state = MYCEL__PEER_ALIVE;
		p->last_seen = now;
		p->next_try = 0;
		p->last_error[0] = '\0';
	} else {
		p->failures++;
		p->state = p->failures >= DEAD_AFTER ? MYCEL__PEER_DEAD : MYCEL__PEER_SUSPECT;
		p->next_try = now + mycel__gossip_backoff(g->o.interval_ms, g->o.backoff_max_ms,
		                                          p->failures, mycel__gp_rnd(g));
		snprintf(p->last_error, sizeof(p->last_error), "%s", err != NULL ? err : "failed");
	}
	if (before != p->state) {
		char qa[URLCAP + 64];
		mycel__gp_log(g, p->state == MYCEL__PEER_ALIVE ? MYCEL_NODE_INFO : MYCEL_NODE_WARN,
		              "msg=\"peer state\" peer=%s from=%s to=%s",
		              mycel__gp_q(p->url, qa, sizeof(qa)), mycel__peer_state_name(before),
		              mycel__peer_state_name(p->state));
	}
}

void mycel__gossip_outcome(mycel__gossip *g, const char *url, bool ok, const char *err)
{
	pthread_mutex_lock(&g->mu);
	peer *p = mycel__gp_find(g, url);
	if (p != NULL)
		mycel__gp_outcome(g, p, ok, err);
	pthread_mutex_unlock(&g->mu);
}

static bool eligible(const peer *p, uint64_t now)
{
	if (p->removed || p->busy > 0 || mycel__gp_ignored_at(p, now))
		return false;
	return p->state != MYCEL__PEER_DEAD || p->next_try <= now;
}

/* Picks under g->mu; marks the chosen busy when mark is set. */
size_t mycel__gp_pick(mycel__gossip *g, size_t max, peer **out, bool mark)
{
	uint64_t now = mycel__gp_now(g);
	size_t n = 0;
	/* pending gaps first */
	for (size_t i = 0; i < g->n_peers && n < max; i++) {
		peer *p = g->peers[i];
		if (p->gap && eligible(p, now)) {
			p->gap = false;
			out[n++] = p;
		}
	}
	/*
	 * then dead peers whose retry is due, the earliest first, in at most half of the picks
	 * (at least one): each retry happens when its backoff says, yet probes of a mass of
	 * dead peers never crowd the live ones out of a round
	 */
	size_t probes = max / 2 > 0 ? max / 2 : 1;
	for (size_t k = 0; k < probes && n < max; k++) {
		peer *best = NULL;
		for (size_t i = 0; i < g->n_peers; i++) {
			peer *p = g->peers[i];
			bool already = false;
			for (size_t j = 0; j < n && !already; j++)
				already = out[j] == p;
			if (already || p->state != MYCEL__PEER_DEAD || !eligible(p, now))
				continue;
			if (best == NULL || p->next_try < best->next_try)
				best = p;
		}
		if (best == NULL)
			break;
		out[n++] = best;
	}
	/* then a uniform sample of the other eligible peers (reservoir) */
	size_t seen = 0, base = n;
	for (size_t i = 0; i < g->n_peers; i++) {
		peer *p = g->peers[i];
		bool already = false;
		for (size_t j = 0; j < base && !already; j++)
			already = out[j] == p;
		if (already || !eligible(p, now))
			continue;
		seen++;
		if (n < max) {
			out[n++] = p;
		} else if (max > base) {
			size_t k = (size_t)(mycel__gp_rnd(g) * (double)seen);
			if (k < max - base)
				out[base + k] = p;
		}
	}
	if (mark)
		for (size_t i = 0; i < n; i++)
			out[i]->busy++;
	return n;
}

size_t mycel__gossip_pick(mycel__gossip *g, size_t max, char (*out)[MYCEL_NODE_URL_MAX + 1])
{
	peer *sel[ROUND_MAX];
	if (max > ROUND_MAX)
		max = ROUND_MAX;
	pthread_mutex_lock(&g->mu);
	size_t n = mycel__gp_pick(g, max, sel, false);
	for (size_t i = 0; i < n; i++)
		snprintf(out[i], URLCAP, "%s", sel[i]->url);
	pthread_mutex_unlock(&g->mu);
	return n;
}

/* Live peers to push to: alive or suspect, not ignored, not `except`. Under g->mu. */
size_t mycel__gp_targets(mycel__gossip *g, size_t max, const char *except, peer **out)
{
	uint64_t now = mycel__gp_now(g);
	size_t n = 0, seen = 0;
	for (size_t i = 0; i < g->n_peers; i++) {
		peer *p = g->peers[i];
		if (p->removed || mycel__gp_ignored_at(p, now) || p->state == MYCEL__PEER_DEAD)
			continue;
		if (except != NULL && strcmp(p->url, except) == 0)
			continue;
		seen++;
		if (n < max) {
			out[n++] = p;
		} else {
			size_t k = (size_t)(mycel__gp_rnd(g) * (double)seen);
			if (k < max)
				out[k] = p;
		}
	}
	for (size_t i = 0; i < n; i++)
		out[i]->busy++;
	return n;
}

void mycel__gp_release(mycel__gossip *g, peer **ps, size_t n)
{
	pthread_mutex_lock(&g->mu);
	for (size_t i = 0; i < n; i++)
		if (ps[i]->busy > 0)
			ps[i]->busy--;
	pthread_mutex_unlock(&g->mu);
}

/* ---- persistence of admin peers --------------------------------------------------------- */

static int persist(mycel__gossip *g)
{
	mycel_store *s = g->env.ctx != NULL ? g->env.ctx->store : NULL;
	if (s == NULL)
		return 0;
	pthread_mutex_lock(&g->persist_mu);
	mycel_buf b;
	mycel_buf_init(&b, (size_t)MYCEL_NODE_PEERS_MAX * (URLCAP + 8));
	pthread_mutex_lock(&g->mu);
	uint32_t n = 0;
	for (size_t i = 0; i < g->n_peers; i++)
		n += !g->peers[i]->removed && g->peers[i]->source == MYCEL__SRC_ADMIN;
	mycel_enc_array(&b, n);
	for (size_t i = 0; i < g->n_peers; i++)
		if (!g->peers[i]->removed && g->peers[i]->source == MYCEL__SRC_ADMIN)
			mycel_enc_cstr(&b, g->peers[i]->url);
	pthread_mutex_unlock(&g->mu);
	int rv = b.err != 0 ? b.err : mycel__store_meta_put(s, META_PEERS, b.data, b.len);
	mycel_buf_fini(&b);
	if (rv == 0) {
		mycel_buf_init(&b, (size_t)REMOVED_MAX * (URLCAP + 8));
		pthread_mutex_lock(&g->mu);
		mycel_enc_array(&b, (uint32_t)g->n_gone);
		for (size_t i = 0; i < g->n_gone; i++)
			mycel_enc_cstr(&b, g->gone[i]);
		pthread_mutex_unlock(&g->mu);
		rv = b.err != 0 ? b.err : mycel__store_meta_put(s, META_REMOVED, b.data, b.len);
		mycel_buf_fini(&b);
	}
	pthread_mutex_unlock(&g->persist_mu);
	return rv;
}

/* Loads the removed addresses; a seed of the configuration is not one. Under g->mu. */
static void load_gone(mycel__gossip *g, mycel_store *s)
{
	uint8_t *p = NULL;
	size_t n = 0;
	mycel_arena *a = NULL;
	mycel_value *root = NULL;
	if (mycel__store_meta_get(s, META_REMOVED, &p, &n) != 0)
		return;
	if (mycel_arena_new((size_t)4u << 20, &a) == 0 &&
	    mycel_value_decode(p, n, (size_t)4u << 20, a, &root, NULL) == 0 &&
	    root->type == MYCEL_T_ARRAY) {
		for (size_t i = 0; i < root->v.a.len; i++) {
			const mycel_value *v = &root->v.a.items[i];
			if (v->type != MYCEL_T_STR ||
			    mycel__gossip_url_check(v->v.s.ptr, NULL, 0) != 0)
				continue;
			const peer *sp = mycel__gp_find(g, v->v.s.ptr);
			if (sp != NULL && sp->source == MYCEL__SRC_SEED)
				continue;
			(void)gone_add(g, v->v.s.ptr);
		}
	}
	mycel_arena_free(a);
	free(p);
}

void mycel__gp_load(mycel__gossip *g)
{
	mycel_store *s = g->env.ctx != NULL ? g->env.ctx->store : NULL;
	uint8_t *p = NULL;
	size_t n = 0;
	mycel_arena *a = NULL;
	mycel_value *root = NULL;
	if (s == NULL)
		return;
	load_gone(g, s);
	if (mycel__store_meta_get(s, META_PEERS, &p, &n) != 0)
		return;
	if (mycel_arena_new((size_t)4u << 20, &a) == 0 &&
	    mycel_value_decode(p, n, (size_t)4u << 20, a, &root, NULL) == 0 &&
	    root->type == MYCEL_T_ARRAY) {
		for (size_t i = 0; i < root->v.a.len; i++) {
			const mycel_value *v = &root->v.a.items[i];
			peer *pp;
			if (v->type == MYCEL_T_STR &&
			    mycel__gp_add(g, v->v.s.ptr, MYCEL__SRC_ADMIN, NULL, 0, &pp) != 0) {
				char qa[URLCAP + 64];
				mycel__gp_log(g, MYCEL_NODE_WARN,
				              "msg=\"stored peer skipped\" peer=%s",
				              mycel__gp_q(v->v.s.ptr, qa, sizeof(qa)));
			}
		}
	}
	mycel_arena_free(a);
	free(p);
}

/* ---- public table operations ------------------------------------------------------------- */

int mycel__gossip_add(mycel__gossip *g, const char *url, mycel__peer_source source, char *why,
                      size_t why_len)
{
	peer *p;
	pthread_mutex_lock(&g->mu);
	int rv = mycel__gp_add(g, url, source, why, why_len, &p);
	if (rv == 0 && source == MYCEL__SRC_ADMIN)
		p->source = MYCEL__SRC_ADMIN;
	pthread_cond_broadcast(&g->round_cv);
	pthread_mutex_unlock(&g->mu);
	if (rv == 0 && source == MYCEL__SRC_ADMIN && (rv = persist(g)) != 0)
		mycel__gp_why(why, why_len, "the peer is added but not saved: %s",
		              mycel_strerror(rv));
	return rv;
}

int mycel__gossip_remove(mycel__gossip *g, const char *url, char *why, size_t why_len)
{
	pthread_mutex_lock(&g->mu);
	peer *p = url != NULL ? mycel__gp_find(g, url) : NULL;
	if (p == NULL) {
		pthread_mutex_unlock(&g->mu);
		mycel__gp_why(why, why_len, "%.*s is not a peer of this node", 512, url ? url : "");
		return MYCEL_ENOTFOUND;
	}
	p->removed = true;
	p->gap = false;
	int rv = gone_add(g, p->url);
	pthread_mutex_unlock(&g->mu);
	if (rv == 0)
		rv = persist(g);
	if (rv != 0)
		mycel__gp_why(why, why_len, "the peer is removed but the store still lists it: %s",
		              mycel_strerror(rv));
	return rv;
}

int mycel__gossip_peer(mycel__gossip *g, const char *url, mycel__peer_info *out)
{
	pthread_mutex_lock(&g->mu);
	peer *p = mycel__gp_find(g, url);
	if (p != NULL)
		info_of(p, mycel__gp_now(g), out);
	pthread_mutex_unlock(&g->mu);
	return p != NULL ? 0 : MYCEL_ENOTFOUND;
}

size_t mycel__gossip_n_peers(mycel__gossip *g)
{
	size_t n = 0;
	pthread_mutex_lock(&g->mu);
	for (size_t i = 0; i < g->n_peers; i++)
		n += !g->peers[i]->removed;
	pthread_mutex_unlock(&g->mu);
	return n;
}

void mycel__gossip_stats_get(mycel__gossip *g, mycel__gossip_stats *out)
{
	pthread_mutex_lock(&g->mu);
	*out = g->st;
	out->push_queued = g->q.n;
	pthread_mutex_unlock(&g->mu);
}

void mycel__gossip_hold_push(mycel__gossip *g, bool hold)
{
	pthread_mutex_lock(&g->mu);
	g->hold_push = hold;
	pthread_cond_broadcast(&g->push_cv);
	pthread_mutex_unlock(&g->mu);
}

/* ---- rejects ------------------------------------------------------------------------------ */

void mycel__gp_rejected(mycel__gossip *g, peer *p, int code, const char *why)
{
	uint64_t now = mycel__gp_now(g);
	char qa[URLCAP + 64], qb[600];
	p->rejects++;
	if (p->win_start == 0 || now - p->win_start >= REJECT_WINDOW_MS) {
		p->win_start = now;
		p->win_count = 0;
	}
	p->win_count++;
	uint64_t bit = (uint64_t)1 << ((unsigned)(-code) & 63u);
	if ((p->logged_codes & bit) == 0) {
		p->logged_codes |= bit;
		mycel__gp_log(g, MYCEL_NODE_WARN, "msg=\"rejected\" peer=%s err=%s why=%s",
		              mycel__gp_q(p->url, qa, sizeof(qa)), mycel_errname(code),
		              mycel__gp_q(why, qb, sizeof(qb)));
	}
	if (!mycel__gp_ignored_at(p, now) && p->win_count > g->o.reject_limit) {
		p->ignored_until = now + g->o.ignore_ms;
		mycel__gp_log(
		    g, MYCEL_NODE_WARN,
		    "msg=\"peer state\" peer=%s from=%s to=ignored rejects=%llu ignore_ms=%u",
		    mycel__gp_q(p->url, qa, sizeof(qa)), mycel__peer_state_name(p->state),
		    (unsigned long long)p->win_count, g->o.ignore_ms);
	}
}

/* ---- domain profiles ------------------------------------------------------------------ */

/* The charter's name of feed's domain into out ("" when not admitted). */
static void domain_of(mycel__gossip *g, const uint8_t *feed, char out[65])
{
	const mycel_charter *ch = mycel_store_charter(g->env.ctx->store);
	const mycel_charter_domain *d = NULL;
	if (ch != NULL)
		(void)mycel_charter_admits(ch, feed, 0, &d);
	snprintf(out, 65, "%s", d != NULL ? d->name : "");
}

void mycel__gp_learn_profile(mycel__gossip *g, const uint8_t *feed, const uint8_t *body, size_t n)
{
	mycel_arena *a = NULL;
	mycel_profile pr;
	char dom[65];
	if (mycel_arena_new((size_t)2u << 20, &a) != 0)
		return;
	domain_of(g, feed, dom);
	if (mycel_profile_decode(body, n, a, &pr, NULL, 0) == 0) {
		pthread_mutex_lock(&g->mu);
		for (size_t i = 0; i < pr.n_nodes; i++) {
			peer *p = mycel__gp_find(g, pr.nodes[i]);
			if (p != NULL) {
				snprintf(p->domain, sizeof(p->domain), "%s", dom);
				continue;
			}
			if (mycel__gp_add(g, pr.nodes[i], MYCEL__SRC_DOMAIN, NULL, 0, &p) == 0) {
				snprintf(p->domain, sizeof(p->domain), "%s", dom);
				char qa[URLCAP + 64];
				mycel__gp_log(g, MYCEL_NODE_INFO,
				              "msg=\"peer learnt\" peer=%s source=domain",
				              mycel__gp_q(p->url, qa, sizeof(qa)));
			}
		}
		pthread_mutex_unlock(&g->mu);
	}
	mycel_arena_free(a);
}

/* ---- mesh ops (committed is in gossip.c) ------------------------------------------------- */

static void op_peer_seen(void *arg, const char *url)
{
	mycel__gossip *g = arg;
	peer *p;
	pthread_mutex_lock(&g->mu);
	if (url != NULL && mycel__gp_find(g, url) == NULL &&
	    mycel__gp_add(g, url, MYCEL__SRC_INBOUND, NULL, 0, &p) == 0) {
		char qa[URLCAP + 64];
		mycel__gp_log(g, MYCEL_NODE_INFO, "msg=\"peer learnt\" peer=%s source=inbound",
		              mycel__gp_q(p->url, qa, sizeof(qa)));
	}
	pthread_mutex_unlock(&g->mu);
}

static void op_rejected(void *arg, const char *url, int code, const char *why)
{
	mycel__gossip *g = arg;
	pthread_mutex_lock(&g->mu);
	peer *p = mycel__gp_find(g, url);
	if (p != NULL) {
		mycel__gp_rejected(g, p, code, why);
	} else {
		char qa[URLCAP + 64], qb[600];
		mycel__gp_log(g, MYCEL_NODE_WARN, "msg=\"rejected\" peer=%s err=%s why=%s",
		              mycel__gp_q(url, qa, sizeof(qa)), mycel_errname(code),
		              mycel__gp_q(why, qb, sizeof(qb)));
	}
	pthread_mutex_unlock(&g->mu);
}

static void op_gap(void *arg, const char *url)
{
	mycel__gossip *g = arg;
	peer *p = NULL;
	pthread_mutex_lock(&g->mu);
	if (url != NULL && (p = mycel__gp_find(g, url)) == NULL &&
	    mycel__gp_add(g, url, MYCEL__SRC_INBOUND, NULL, 0, &p) != 0)
		p = NULL;
	if (p != NULL) {
		p->gap = true;
		g->kick = true;
		pthread_cond_broadcast(&g->round_cv);
	}
	pthread_mutex_unlock(&g->mu);
}

static bool op_ignored(void *arg, const char *url)
{
	mycel__gossip *g = arg;
	pthread_mutex_lock(&g->mu);
	peer *p = mycel__gp_find(g, url);
	bool r = p != NULL && mycel__gp_ignored_at(p, mycel__gp_now(g));
	pthread_mutex_unlock(&g->mu);
	return r;
}

static const char *adup(mycel_arena *a, const char *s, size_t *len)
{
	size_t n = strlen(s);
	char *p = mycel_arena_strdup(a, s, n);
	*len = p != NULL ? n : 0;
	return p;
}

static int op_peers(void *arg, mycel_arena *a, void **out_peers, size_t *out_n)
{
	mycel__gossip *g = arg;
	int rv = 0;
	pthread_mutex_lock(&g->mu);
	uint64_t now = mycel__gp_now(g);
	size_t n = 0;
	for (size_t i = 0; i < g->n_peers; i++)
		n += !g->peers[i]->removed;
	mycel_msg_Peer *ps = n ? mycel_arena_alloc(a, n * sizeof(*ps)) : NULL;
	if (n > 0 && ps == NULL) {
		rv = MYCEL_ENOMEM;
		goto done;
	}
	size_t k = 0;
	for (size_t i = 0; i < g->n_peers; i++) {
		const peer *p = g->peers[i];
		if (p->removed)
			continue;
		mycel_msg_Peer *m = &ps[k++];
		memset(m, 0, sizeof(*m));
		mycel__peer_state s = shown_state(p, now);
		m->addr = adup(a, p->url, &m->addr_len);
		m->state = adup(a, mycel__peer_state_name(s), &m->state_len);
		m->source = adup(a, mycel__peer_source_name(p->source), &m->source_len);
		if (p->domain[0] != '\0' &&
		    (m->domain = adup(a, p->domain, &m->domain_len)) == NULL) {
			rv = MYCEL_ENOMEM;
			goto done;
		}
		if (m->addr == NULL || m->state == NULL || m->source == NULL) {
			rv = MYCEL_ENOMEM;
			goto done;
		}
		if (p->last_error[0] != '\0' &&
		    (m->last_error = adup(a, p->last_error, &m->last_error_len)) == NULL) {
			rv = MYCEL_ENOMEM;
			goto done;
		}
		m->has_last_seen_ms = p->last_seen != 0;
		m->last_seen_ms = p->last_seen;
		m->has_failures = true;
		m->failures = p->failures;
		m->has_live = true;
		m->live = s == MYCEL__PEER_ALIVE && p->last_seen != 0; /* the last call succeeded */
		m->has_entries_in = true;
		m->entries_in = p->in;
		m->has_entries_out = true;
		m->entries_out = p->out;
		m->has_rejects = true;
		m->rejects = p->rejects;
		m->has_lag = true;
		m->lag = p->lag;
		m->has_bytes_in = true;
		m->bytes_in = p->bytes_in;
		m->has_bytes_out = true;
		m->bytes_out = p->bytes_out;
		m->has_calls = true;
		m->calls = p->calls;
		m->has_next_try_ms = p->next_try != 0;
		m->next_try_ms = p->next_try;
	}
	*out_peers = ps;
	*out_n = k;
done:
	pthread_mutex_unlock(&g->mu);
	return rv;
}

static int op_peer_add(void *arg, const char *url, char *why, size_t why_len)
{
	return mycel__gossip_add(arg, url, MYCEL__SRC_ADMIN, why, why_len);
}

static int op_peer_remove(void *arg, const char *url, char *why, size_t why_len)
{
	return mycel__gossip_remove(arg, url, why, why_len);
}

const mycel__mesh_ops mycel__gossip_ops = {
    .committed = mycel__gp_committed,
    .peer_seen = op_peer_seen,
    .rejected = op_rejected,
    .gap = op_gap,
    .ignored = op_ignored,
    .peers = op_peers,
    .peer_add = op_peer_add,
    .peer_remove = op_peer_remove,
};
