/*
 * http.c - HTTP POST with libcurl, for berth.http_post and
 * berth.http_post_async (the webhook plugin).  A synchronous POST blocks
 * its caller up to its timeout; an asynchronous one goes into a bounded
 * queue served in order by one worker thread, so an event handler never
 * waits for a slow or dead endpoint: when the queue is full the POST is
 * dropped and counted.  Bounded: a timeout, http/https only, a 1 MiB cap
 * on the response kept and on a queued body.
 * Not for: the Podman plugin (it has its own client).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "core/util.h"
#include "script/script-int.h"

#define HTTP_RESPONSE_MAX (1u << 20)
#define HTTP_QUEUE_BODY_MAX (1u << 20)
#define HTTP_QUEUE_BYTES_MAX (8u << 20)

struct http_buf {
	char *data;
	size_t len;
};

static size_t
http_collect(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct http_buf *b = arg;
	size_t n = size * nmemb, keep = n;

	if (b->len + keep > HTTP_RESPONSE_MAX)
		keep = HTTP_RESPONSE_MAX - b->len;
	if (keep > 0) {
		b->data = xrealloc(b->data, b->len + keep + 1);
		memcpy(b->data + b->len, ptr, keep);
		b->len += keep;
		b->data[b->len] = '\0';
	}
	return n;
}

static int
http_check_request(const char *url, const char *content_type, struct berr *err)
{
	if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
		return berr_set(err, BERR_INVALID, "POST to `%s': only http:// and https:// URLs", url);
	if (strpbrk(content_type, "\r\n") != NULL)
		return berr_set(err, BERR_INVALID, "content type contains a line break");
	return 0;
}

/* curl_global_init is not thread-safe: only the thread that runs Lua calls
 * this, before it starts the worker. */
static int
http_global_init(struct berr *err)
{
	static int curl_ready;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
			return berr_set(err, BERR_INVALID, "initialising libcurl failed");
		curl_ready = 1;
	}
	return 0;
}

/* One POST on a fresh handle.  progress (may be NULL) can abort it. */
static int
http_perform(const char *url, const char *body, size_t len, const char *content_type,
	     long timeout_ms, curl_xferinfo_callback progress, long *status, char **response,
	     struct berr *err)
{
	struct http_buf b = { 0 };
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	char *ctype_hdr;
	CURL *c;
	CURLcode rc;

	c = curl_easy_init();
	if (c == NULL)
		return berr_set(err, BERR_INVALID, "initialising libcurl failed");
	ctype_hdr = xasprintf("Content-Type: %s", content_type);
	hdrs = curl_slist_append(hdrs, ctype_hdr);
	free(ctype_hdr);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "berth/" PACKAGE_VERSION);
	if (progress != NULL) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		berr_set(err, BERR_REMOTE, "POST to `%s': %s", url,
			 errbuf[0] ? errbuf : curl_easy_strerror(rc));
		curl_slist_free_all(hdrs);
		curl_easy_cleanup(c);
		free(b.data);
		return -1;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	if (response != NULL)
		*response = b.data;
	else
		free(b.data);
	return 0;
}

int
script_http_post(const char *url, const char *body, size_t len, const char *content_type,
		 long timeout_ms, long *status, char **response, struct berr *err)
{
	if (http_check_request(url, content_type, err) < 0 || http_global_init(err) < 0)
		return -1;
	return http_perform(url, body, len, content_type, timeout_ms, NULL, status, response, err);
}

/* ---- the queue of asynchronous POSTs ---- */

struct http_job {
	struct http_job *next;
	char *url;
	char *content_type;
	char *body;
	size_t len;
	long timeout_ms;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t work;		/* the worker waits for jobs */
	pthread_cond_t idle;		/* script_http_shutdown waits for the drain */
	struct http_job *head, *tail;
	size_t njobs, nbytes;
	int started, stopping, busy;
	pthread_t thread;
	unsigned long sent, failed, dropped;
	long last_status;
	char last_error[256];
} http_queue = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.work = PTHREAD_COND_INITIALIZER,
	.idle = PTHREAD_COND_INITIALIZER,
};

/* Set when berth exits and will not wait any longer: the POST in flight
 * stops at its next progress call (libcurl makes one at least every
 * second, more often while data moves). */
static atomic_int http_abort;

static void
http_job_free(struct http_job *j)
{
	if (j == NULL)
		return;
	free(j->url);
	free(j->content_type);
	free(j->body);
	free(j);
}

static int
http_progress_abort(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		    curl_off_t ulnow)
{
	(void)arg, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return atomic_load(&http_abort) ? 1 : 0;
}

static void *
http_worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&http_queue.lock);
	for (;;) {
		struct http_job *j;
		struct berr err = { 0 };
		long status = 0;
		int r;

		while (http_queue.head == NULL && !http_queue.stopping)
			pthread_cond_wait(&http_queue.work, &http_queue.lock);
		if (http_queue.head == NULL)
			break;
		j = http_queue.head;
		http_queue.head = j->next;
		if (http_queue.head == NULL)
			http_queue.tail = NULL;
		http_queue.njobs--;
		http_queue.nbytes -= j->len;
		http_queue.busy = 1;
		pthread_mutex_unlock(&http_queue.lock);

		r = http_perform(j->url, j->body, j->len, j->content_type, j->timeout_ms,
				 http_progress_abort, &status, NULL, &err);

		pthread_mutex_lock(&http_queue.lock);
		http_queue.busy = 0;
		if (r == 0)
			http_queue.last_status = status;
		if (r == 0 && status < 300) {
			http_queue.sent++;
		} else {
			http_queue.failed++;
			if (r == 0)
				snprintf(http_queue.last_error, sizeof http_queue.last_error,
					 "POST to `%.200s': HTTP status %ld", j->url, status);
			else
				strlcpy_b(http_queue.last_error, err.msg, sizeof http_queue.last_error);
		}
		http_job_free(j);
		if (http_queue.head == NULL)
			pthread_cond_broadcast(&http_queue.idle);
	}
	pthread_mutex_unlock(&http_queue.lock);
	return NULL;
}

/* Called with the lock held.  The worker blocks every signal: SIGINT and
 * the others belong to the thread that runs Lua and the event loop. */
static int
http_worker_start(struct berr *err)
{
	sigset_t all, saved;
	int r;

	if (http_queue.started)
		return 0;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	r = pthread_create(&http_queue.thread, NULL, http_worker, NULL);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (r != 0) {
		errno = r;
		return berr_errno(err, "starting the HTTP worker thread");
	}
	http_queue.started = 1;
	return 0;
}

int
script_http_post_async(const char *url, const char *body, size_t len, const char *content_type,
		       long timeout_ms, struct berr *err)
{
	struct http_job *j;

	if (http_check_request(url, content_type, err) < 0 || http_global_init(err) < 0)
		return -1;
	if (len > HTTP_QUEUE_BODY_MAX)
		return berr_set(err, BERR_INVALID, "POST to `%s': a queued body is at most %u bytes",
				url, HTTP_QUEUE_BODY_MAX);
	pthread_mutex_lock(&http_queue.lock);
	if (http_queue.stopping) {
		pthread_mutex_unlock(&http_queue.lock);
		return berr_set(err, BERR_STATE, "POST to `%s': berth is exiting", url);
	}
	if (http_queue.njobs >= SCRIPT_HTTP_QUEUE_MAX ||
	    http_queue.nbytes + len > HTTP_QUEUE_BYTES_MAX) {
		unsigned long dropped = ++http_queue.dropped;

		pthread_mutex_unlock(&http_queue.lock);
		return berr_set(err, BERR_STATE,
				"POST to `%s' dropped: %zu POSTs are waiting already (%lu dropped so far)",
				url, (size_t)SCRIPT_HTTP_QUEUE_MAX, dropped);
	}
	if (http_worker_start(err) < 0) {
		pthread_mutex_unlock(&http_queue.lock);
		return -1;
	}
	j = xcalloc(1, sizeof *j);
	j->url = xstrdup(url);
	j->content_type = xstrdup(content_type);
	j->body = xmalloc(len + 1);
	memcpy(j->body, body, len);
	j->body[len] = '\0';
	j->len = len;
	j->timeout_ms = timeout_ms;
	if (http_queue.tail != NULL)
		http_queue.tail->next = j;
	else
		http_queue.head = j;
	http_queue.tail = j;
	http_queue.njobs++;
	http_queue.nbytes += len;
	pthread_cond_signal(&http_queue.work);
	pthread_mutex_unlock(&http_queue.lock);
	return 0;
}

void
script_http_stats(struct script_http_stats *st)
{
	pthread_mutex_lock(&http_queue.lock);
	st->queued = http_queue.njobs + (size_t)http_queue.busy;
	st->sent = http_queue.sent;
	st->failed = http_queue.failed;
	st->dropped = http_queue.dropped;
	st->last_status = http_queue.last_status;
	strlcpy_b(st->last_error, http_queue.last_error, sizeof st->last_error);
	pthread_mutex_unlock(&http_queue.lock);
}

void
script_http_shutdown(long drain_ms)
{
	struct timespec until;
	struct http_job *j;

	pthread_mutex_lock(&http_queue.lock);
	if (!http_queue.started) {
		pthread_mutex_unlock(&http_queue.lock);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += drain_ms / 1000;
	until.tv_nsec += (drain_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while ((http_queue.head != NULL || http_queue.busy) &&
	       pthread_cond_timedwait(&http_queue.idle, &http_queue.lock, &until) == 0)
		;
	/* What is still waiting is dropped; the POST in flight is aborted. */
	while ((j = http_queue.head) != NULL) {
		http_queue.head = j->next;
		http_queue.dropped++;
		http_job_free(j);
	}
	http_queue.tail = NULL;
	http_queue.njobs = 0;
	http_queue.nbytes = 0;
	http_queue.stopping = 1;
	atomic_store(&http_abort, 1);
	pthread_cond_signal(&http_queue.work);
	pthread_mutex_unlock(&http_queue.lock);
	pthread_join(http_queue.thread, NULL);
	pthread_mutex_lock(&http_queue.lock);
	http_queue.started = 0;
	pthread_mutex_unlock(&http_queue.lock);
}
