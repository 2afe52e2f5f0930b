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

#include "mycel/error.h"

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
			continue;
		}
		for (size_t k = 0; k < w[i]->n_items; k++) {
			const mycel_publish_item *it = &w[i]->items[k];
			if (!it->unchanged)
				changed(env, &it->entry, it->info.id, it->info.version, "published");
		}
	}
}

void mycel__write_exec(const mycel_rpc_ctx *env, mycel__write **w, size_t n, size_t *out_commits)
{
	size_t commits = 0;
	for (size_t i = 0; i < n;) {
		mycel__write *x = w[i];
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
		if (x->kind == MYCEL__WRITE_REINDEX) {
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
