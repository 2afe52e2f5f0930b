/*
 * writer.c — the node's one writer thread and its group commit (src/writer.h).
 */
#include "writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "catalog_int.h"
#include "mesh.h"
#include "mycel/error.h"
#include "mycel/transfer.h"

struct mycel__writer {
	mycel_rpc_ctx env;
	pthread_mutex_t mu;
	pthread_cond_t work;  /* the writer waits here for writes (or stop) */
	pthread_cond_t state; /* submitters and tests wait here: done, queued, room */
	mycel__write *head, *tail;
	size_t queued;
	bool hold, stopping, started, joined;
	pthread_t thread;
	mycel__writer_stats st;
};

/* Reports one new entry to the change hook. */
static void changed(const mycel_rpc_ctx *env, const mycel_entry *e, const char *id,
		    const char *version, const char *status)
{
	if (env->on_change == NULL)
		return;
	mycel_rpc_change ch = {env->domain, e, id ? id : "", version ? version : "", status};
	env->on_change(env->on_change_arg, &ch);
}

/* The frontier gets a feed's new head (keeping its forked state), or its forked state. */
static void frontier_note(const mycel_rpc_ctx *env, const mycel_entry *e, bool forked)
{
	mycel__head h;
	if (env->frontier == NULL)
		return;
	if (!mycel__frontier_get(env->frontier, e->h.feed, &h)) {
		memset(&h, 0, sizeof(h));
		memcpy(h.feed, e->h.feed, MYCEL_PK_LEN);
	}
	if (forked) {
		h.forked = true;
	} else if (e->h.seq > h.seq) {
		h.seq = e->h.seq;
		memcpy(h.head, e->id, MYCEL_HASH_LEN);
	}
	(void)mycel__frontier_update(env->frontier, &h); /* ENOMEM: the next open repairs it */
}

/* Tells the gossip engine about one committed entry or fork proof. */
static void committed(const mycel_rpc_ctx *env, const mycel_entry *e, const uint8_t *body,
		      size_t body_len, const char *from, uint64_t hops, const mycel_entry *other,
		      const uint8_t *other_body, size_t other_body_len)
{
	if (env->mesh_ops == NULL || env->mesh_ops->committed == NULL)
		return;
	mycel__committed c = {e, body, body_len, from, hops, other, other_body, other_body_len};
	env->mesh_ops->committed(env->mesh_arg, &c);
}

/* A published entry of this node: frontier and gossip hook (its body read back). */
static void published(const mycel_rpc_ctx *env, const mycel_entry *e)
{
	uint8_t *body = NULL;
	size_t body_len = 0;
	frontier_note(env, e, false);
	if (env->mesh_ops == NULL || env->mesh_ops->committed == NULL)
		return;
	if (mycel_store_get_body(env->store, e->h.feed, e->h.seq, &body, &body_len) != 0)
		return;
	committed(env, e, body, body_len, NULL, 0, NULL, NULL, 0);
	free(body);
}

static bool groupable(const mycel__write *w)
{
	return w->kind == MYCEL__WRITE_PUBLISH || w->kind == MYCEL__WRITE_LIFECYCLE;
}

/* Runs w[0..n-1], publishes and lifecycle changes, in one mycel_publish_groups call. */
static void exec_groups(const mycel_rpc_ctx *env, mycel__write **w, size_t n, size_t *commits)
{
	mycel_publish_group groups[MYCEL__WRITER_BATCH];
	mycel_lifecycle_item lc[MYCEL__WRITER_BATCH];
	size_t c = 0;
	for (size_t i = 0; i < n; i++) {
		groups[i] = (mycel_publish_group){w[i]->items, w[i]->n_items, 0, NULL};
		if (w[i]->kind == MYCEL__WRITE_LIFECYCLE) {
			memset(&lc[i], 0, sizeof(lc[i]));
			lc[i].id = w[i]->id;
			lc[i].version = w[i]->version;
			lc[i].reason = w[i]->reason;
			lc[i].status = w[i]->status;
			groups[i] = (mycel_publish_group){NULL, 0, 0, &lc[i]};
		}
	}
	int rv = mycel_publish_groups(env->store, env->key, env->domain, groups, n, &c);
	*commits += c;
	for (size_t i = 0; i < n; i++) {
		w[i]->rv = rv != 0 ? rv : groups[i].result;
		if (groups[i].change != NULL) {
			w[i]->entry = lc[i].entry;
			(void)snprintf(w[i]->why, sizeof(w[i]->why), "%s",
				       w[i]->rv == 0	  ? ""
				       : lc[i].why[0] ? lc[i].why
						      : mycel_strerror(w[i]->rv));
		}
	}
	/* entries were appended in group order, then item order: that is feed order */
	for (size_t i = 0; i < n; i++) {
		if (w[i]->rv != 0)
			continue;
		if (w[i]->kind == MYCEL__WRITE_LIFECYCLE) {
			changed(env, &w[i]->entry, w[i]->id, w[i]->version,
				mycel_doc_status_name(w[i]->status));
			published(env, &w[i]->entry);
			continue;
		}
		for (size_t k = 0; k < w[i]->n_items; k++) {
			const mycel_publish_item *it = &w[i]->items[k];
			if (!it->unchanged) {
				changed(env, &it->entry, it->info.id, it->info.version, "published");
				published(env, &it->entry);
			}
		}
	}
}

/* A body's string field as a C string in out (n bytes); "" when absent or not a string. */
static void body_field(const uint8_t *body, size_t len, const char *key, char *out, size_t n)
{
	const char *s;
	size_t sl;
	out[0] = '\0';
	if (body != NULL && mycel__body_str(body, len, key, &s, &sl) && sl < n &&
	    memchr(s, 0, sl) == NULL) {
		memcpy(out, s, sl);
		out[sl] = '\0';
	}
}

/* The change stream learns an ingested document entry (contract, product, lifecycle). */
static void ingested_change(const mycel_rpc_ctx *env, const mycel_entry *e, const uint8_t *body,
			    size_t len)
{
	char id[256], version[64], status[16];
	bool lc = strcmp(e->h.kind, "lifecycle") == 0;
	if (env->on_change == NULL ||
	    (!lc && strcmp(e->h.kind, "contract") != 0 && strcmp(e->h.kind, "product") != 0))
		return;
	body_field(body, len, "id", id, sizeof(id));
	body_field(body, len, "version", version, sizeof(version));
	if (lc)
		body_field(body, len, "status", status, sizeof(status));
	const mycel_charter *ch = mycel_store_charter(env->store);
	const mycel_charter_domain *dom = NULL;
	if (ch != NULL)
		(void)mycel_charter_admits(ch, e->h.feed, e->h.seq, &dom);
	mycel_rpc_change c = {dom != NULL ? dom->name : "", e, id, version,
			      lc ? status : "published"};
	env->on_change(env->on_change_arg, &c);
}

/* After an ingest commit: frontier, change stream and gossip hook for what is new. */
static void ingest_report(const mycel_rpc_ctx *env, const mycel__write *w)
{
	const mycel_ingest_group *g = &w->ingest;
	for (size_t i = 0; g->states != NULL && i < g->n; i++) {
		const mycel_blob *b = &g->items[i];
		mycel_entry e, other;
		if (g->states[i] != MYCEL_INGEST_NEW && g->states[i] != MYCEL_INGEST_FORK)
			continue;
		if (mycel_entry_decode(b->entry, b->entry_len, &e) != 0)
			continue;
		if (g->states[i] == MYCEL_INGEST_NEW) {
			frontier_note(env, &e, false);
			ingested_change(env, &e, b->body, b->body_len);
			committed(env, &e, b->body, b->body_len, w->from, w->hops, NULL, NULL, 0);
			continue;
		}
		/* a conflict found here: the proof is this entry and the one stored */
		frontier_note(env, &e, true);
		if (mycel_store_get(env->store, e.h.feed, e.h.seq, &other) != 0)
			continue;
		uint8_t *ob = NULL;
		size_t obl = 0;
		if (mycel_store_get_body(env->store, e.h.feed, e.h.seq, &ob, &obl) != 0)
			ob = NULL, obl = 0;
		committed(env, &e, b->body, b->body_len, w->from, w->hops, &other, ob, obl);
		free(ob);
	}
	for (size_t i = 0; g->fork_states != NULL && i < g->n_forks; i++) {
		const mycel_fork_pair *p = &g->forks[i];
		mycel_entry a, b;
		if (!g->fork_states[i] || mycel_entry_decode(p->a.entry, p->a.entry_len, &a) != 0 ||
		    mycel_entry_decode(p->b.entry, p->b.entry_len, &b) != 0)
			continue;
		frontier_note(env, &a, true);
		committed(env, &a, p->a.body, p->a.body_len, w->from, w->hops, &b, p->b.body,
			  p->b.body_len);
	}
}

/* Runs w[0..n-1], all ingests, in one mycel_store_ingest_groups transaction. */
static void exec_ingests(const mycel_rpc_ctx *env, mycel__write **w, size_t n, size_t *commits)
{
	mycel_ingest_group g[MYCEL__WRITER_BATCH];
	bool wrote = false;
	for (size_t i = 0; i < n; i++)
		g[i] = w[i]->ingest;
	int rv = mycel_store_ingest_groups(env->store, g, n);
	for (size_t i = 0; i < n; i++) {
		w[i]->ingest = g[i];
		w[i]->rv = rv;
		if (rv != 0)
			(void)snprintf(w[i]->why, sizeof(w[i]->why), "%s", g[i].why);
		wrote = wrote || g[i].accepted > 0 || g[i].forks_stored > 0;
	}
	if (rv != 0)
		return;
	if (wrote)
		(*commits)++;
	for (size_t i = 0; i < n; i++)
		ingest_report(env, w[i]);
}

void mycel__write_exec(const mycel_rpc_ctx *env, mycel__write **w, size_t n, size_t *out_commits)
{
	size_t commits = 0;
	for (size_t i = 0; i < n;) {
		mycel__write *x = w[i];
		if (x->kind == MYCEL__WRITE_INGEST) {
			size_t j = i;
			while (j < n && j - i < MYCEL__WRITER_BATCH && w[j]->kind == MYCEL__WRITE_INGEST)
				j++;
			exec_ingests(env, w + i, j - i, &commits);
			i = j;
			continue;
		}
		if (x->kind == MYCEL__WRITE_CHARTER) {
			/* needs no domain key; its effects (cuts, catalog) commit with it */
			x->rv = mycel_store_add_charter(env->store, x->charter, x->charter_len,
							x->why, sizeof(x->why));
			if (x->rv == 0) {
				commits++;
				if (env->frontier != NULL)
					(void)mycel__frontier_reload(env->frontier, env->store);
			}
			i++;
			continue;
		}
		if (env->key == NULL || env->domain == NULL) {
			x->rv = MYCEL_EPERM;
			(void)snprintf(x->why, sizeof(x->why), "this node has no domain key");
			i++;
			continue;
		}
		if (groupable(x)) {
			size_t j = i;
			while (j < n && j - i < MYCEL__WRITER_BATCH && groupable(w[j]))
				j++;
			exec_groups(env, w + i, j - i, &commits);
			i = j;
			continue;
		}
		if (x->kind == MYCEL__WRITE_KEY_ROTATE) {
			const mycel_charter *ch = mycel_store_charter(env->store);
			const mycel_charter_domain *d =
			    ch != NULL ? mycel_charter_find_domain(ch, env->domain) : NULL;
			x->rv = d == NULL || x->next_key == NULL
				    ? MYCEL_EADMIT
				    : mycel_store_rotate(env->store, env->key, d->feed, x->next_key,
							 &x->entry);
			if (x->rv == 0) {
				/* only the writer signs: switching here is atomic with the commit */
				mycel_key tmp, *cur = (mycel_key *)(uintptr_t)env->key;
				memcpy(&tmp, cur, sizeof(tmp));
				memcpy(cur, x->next_key, sizeof(tmp));
				memcpy(x->next_key, &tmp, sizeof(tmp));
				sodium_memzero(&tmp, sizeof(tmp));
				commits++;
				published(env, &x->entry);
			} else {
				(void)snprintf(x->why, sizeof(x->why), "key rotation: %s",
					       x->rv == MYCEL_EPERM
						   ? "this node's key does not sign its feed now"
						   : mycel_strerror(x->rv));
			}
		} else if (x->kind == MYCEL__WRITE_TRANSFER) {
			x->rv = x->accept ? mycel_transfer_accept(env->store, env->key, env->domain, x->peer,
								  x->id, &x->entry, x->why, sizeof(x->why))
					  : mycel_transfer_offer(env->store, env->key, env->domain, x->id,
								 x->peer, &x->entry, x->why, sizeof(x->why));
			if (x->rv == 0) {
				commits++;
				published(env, &x->entry);
			}
		} else if (x->kind == MYCEL__WRITE_REINDEX) {
			x->rv = mycel_store_reindex(env->store);
			if (x->rv == 0)
				commits++;
			else
				(void)snprintf(x->why, sizeof(x->why), "reindex: %s",
					       mycel_strerror(x->rv));
		} else {
			x->rv = MYCEL_EINVAL;
			(void)snprintf(x->why, sizeof(x->why), "unknown write");
		}
		i++;
	}
	if (out_commits != NULL)
		*out_commits = commits;
}

int mycel__write_charter(const mycel_rpc_ctx *env, const uint8_t *p, size_t n, char *why,
			 size_t why_len)
{
	mycel__write *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return MYCEL_ENOMEM;
	w->kind = MYCEL__WRITE_CHARTER;
	w->charter = p;
	w->charter_len = n;
	if (env->wq != NULL) {
		(void)mycel__writer_submit(env->wq, w);
	} else {
		if (env->writer != NULL)
			pthread_mutex_lock(env->writer);
		mycel__write_exec(env, &w, 1, NULL);
		if (env->writer != NULL)
			pthread_mutex_unlock(env->writer);
	}
	int rv = w->rv;
	if (why != NULL && why_len > 0)
		(void)snprintf(why, why_len, "%s", w->why);
	free(w);
	return rv;
}

static void *writer_main(void *arg)
{
	mycel__writer *q = arg;
	mycel__write *batch[MYCEL__WRITER_BATCH];
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->stopping && (q->head == NULL || q->hold))
			pthread_cond_wait(&q->work, &q->mu);
		if (q->head == NULL) /* stopping, and nothing left */
			break;
		size_t n = 0, docs = 0, bytes = 0;
		while (q->head != NULL && n < MYCEL__WRITER_BATCH) {
			mycel__write *x = q->head;
			if (n > 0 && (docs + x->n_items > MYCEL__WRITER_BATCH_DOCS ||
				      bytes + x->bytes > MYCEL__WRITER_BATCH_BYTES))
				break;
			q->head = x->next;
			if (q->head == NULL)
				q->tail = NULL;
			x->next = NULL;
			docs += x->n_items;
			bytes += x->bytes;
			batch[n++] = x;
		}
		q->queued -= n;
		pthread_cond_broadcast(&q->state); /* room in the queue */
		pthread_mutex_unlock(&q->mu);

		size_t commits = 0;
		mycel__write_exec(&q->env, batch, n, &commits);

		pthread_mutex_lock(&q->mu);
		q->st.requests += n;
		q->st.commits += commits;
		q->st.batches++;
		if (n > q->st.max_batch)
			q->st.max_batch = n;
		for (size_t i = 0; i < n; i++)
			batch[i]->done = true;
		pthread_cond_broadcast(&q->state);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

int mycel__writer_start(const mycel_rpc_ctx *env, mycel__writer **out)
{
	mycel__writer *q = calloc(1, sizeof(*q));
	if (q == NULL)
		return MYCEL_ENOMEM;
	q->env = *env;
	q->env.wq = NULL;
	if (pthread_mutex_init(&q->mu, NULL) != 0)
		goto fail_mu;
	if (pthread_cond_init(&q->work, NULL) != 0)
		goto fail_work;
	if (pthread_cond_init(&q->state, NULL) != 0)
		goto fail_state;
	if (pthread_create(&q->thread, NULL, writer_main, q) != 0) {
		pthread_cond_destroy(&q->state);
		pthread_cond_destroy(&q->work);
		pthread_mutex_destroy(&q->mu);
		free(q);
		return MYCEL_EIO;
	}
	q->started = true;
	*out = q;
	return 0;
fail_state:
	pthread_cond_destroy(&q->work);
fail_work:
	pthread_mutex_destroy(&q->mu);
fail_mu:
	free(q);
	return MYCEL_ENOMEM;
}

int mycel__writer_submit(mycel__writer *q, mycel__write *w)
{
	w->next = NULL;
	w->done = false;
	w->rv = 0;
	w->why[0] = '\0';
	pthread_mutex_lock(&q->mu);
	while (!q->stopping && q->queued >= MYCEL__WRITER_QUEUE_MAX)
		pthread_cond_wait(&q->state, &q->mu);
	if (q->stopping) {
		pthread_mutex_unlock(&q->mu);
		(void)snprintf(w->why, sizeof(w->why), "the node is stopping; nothing was written");
		w->rv = MYCEL_EBUSY;
		return w->rv;
	}
	if (q->tail != NULL)
		q->tail->next = w;
	else
		q->head = w;
	q->tail = w;
	q->queued++;
	pthread_cond_signal(&q->work);
	pthread_cond_broadcast(&q->state);
	while (!w->done)
		pthread_cond_wait(&q->state, &q->mu);
	pthread_mutex_unlock(&q->mu);
	return w->rv;
}

void mycel__writer_stop(mycel__writer *q)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	q->stopping = true;
	q->hold = false;
	pthread_cond_signal(&q->work);
	pthread_cond_broadcast(&q->state);
	bool join = q->started && !q->joined;
	q->joined = true;
	pthread_mutex_unlock(&q->mu);
	if (join)
		pthread_join(q->thread, NULL);
}

void mycel__writer_free(mycel__writer *q)
{
	if (q == NULL)
		return;
	mycel__writer_stop(q);
	pthread_cond_destroy(&q->state);
	pthread_cond_destroy(&q->work);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

void mycel__writer_hold(mycel__writer *q, bool hold)
{
	pthread_mutex_lock(&q->mu);
	q->hold = hold && !q->stopping;
	pthread_cond_signal(&q->work);
	pthread_mutex_unlock(&q->mu);
}

int mycel__writer_wait_queued(mycel__writer *q, size_t k, unsigned timeout_ms)
{
	struct timespec end;
	int rv = 0;
	clock_gettime(CLOCK_REALTIME, &end);
	end.tv_sec += (time_t)(timeout_ms / 1000u);
	end.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&q->mu);
	while (q->queued < k) {
		if (pthread_cond_timedwait(&q->state, &q->mu, &end) == ETIMEDOUT) {
			rv = q->queued >= k ? 0 : MYCEL_EBUSY;
			break;
		}
	}
	pthread_mutex_unlock(&q->mu);
	return rv;
}

void mycel__writer_stats_get(mycel__writer *q, mycel__writer_stats *out)
{
	pthread_mutex_lock(&q->mu);
	*out = q->st;
	out->queued = q->queued;
	pthread_mutex_unlock(&q->mu);
}
