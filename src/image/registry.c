/*
 * registry.c - a client for the OCI distribution (registry v2) API over
 * libcurl: manifests and blobs for one repository, with the anonymous
 * bearer-token flow (401 + WWW-Authenticate: Bearer realm/service/scope).
 * Every byte from the registry is hostile: bodies are size-bounded, blobs
 * are hashed while they stream to disk and must match their descriptor, and
 * a transfer that stalls longer than the timeout is aborted.
 * Not for: deciding what to fetch (store.c) or credentials (anonymous only).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core/util.h"
#include "image/image-internal.h"
#include "image/sha256.h"

#define TOKEN_MAX (1u << 20)
#define ERRBODY_MAX (64u << 10)
#define DEFAULT_TIMEOUT_S 30
#define PROGRESS_INTERVAL_MS 100

struct reg_client {
	CURL *curl;
	char *base;		/* "https://host:port" */
	char *repo;
	char *auth;		/* "Authorization: Bearer ..." once we have a token */
	int plain_ok;		/* plain HTTP allowed (loopback or insecure) */
	int loopback;
	int timeout_s;
	void (*progress)(const char *what, uint64_t done, uint64_t total, void *arg);
	void *progress_arg;
	char errbuf[CURL_ERROR_SIZE];
};

/* One response: headers of the final hop and a body sink (memory or file). */
struct http_resp {
	long status;
	char *www_auth;
	char *content_type;
	char *digest_header;
	/* memory sink (also used for error bodies) */
	char *buf;
	size_t len, max;
	int overflow;
	/* file sink: only a 200 body goes there */
	int fd;
	struct sha256_ctx sha;
	uint64_t written, limit;
	int io_errno;
	/* progress */
	struct reg_client *c;
	const char *label;
	uint64_t total;
	int64_t last_report;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void
reg_curl_global_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void
resp_reset(struct http_resp *r)
{
	r->status = 0;
	free(r->www_auth);
	free(r->content_type);
	free(r->digest_header);
	r->www_auth = r->content_type = r->digest_header = NULL;
	r->len = 0;
	r->overflow = 0;
	if (r->buf != NULL)
		r->buf[0] = '\0';
	r->written = 0;
	r->io_errno = 0;
	sha256_init(&r->sha);
}

static void
resp_free(struct http_resp *r)
{
	free(r->www_auth);
	free(r->content_type);
	free(r->digest_header);
	free(r->buf);
	memset(r, 0, sizeof *r);
	r->fd = -1;
}

static char *
header_value(const char *line, size_t len, const char *name)
{
	size_t nlen = strlen(name);
	const char *v, *end;

	if (len <= nlen || strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
		return NULL;
	v = line + nlen + 1;
	end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return xstrndup(v, (size_t)(end - v));
}

static size_t
reg_header_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_resp *r = arg;
	size_t len = size * nmemb;
	char *v;

	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* a new response (redirect hop, 100-continue): forget the old headers */
		const char *sp = memchr(data, ' ', len);

		free(r->www_auth);
		free(r->content_type);
		free(r->digest_header);
		r->www_auth = r->content_type = r->digest_header = NULL;
		r->status = sp != NULL ? strtol(sp + 1, NULL, 10) : 0;
		return len;
	}
	if ((v = header_value(data, len, "WWW-Authenticate")) != NULL) {
		if (r->www_auth == NULL || strncasecmp(v, "Bearer", 6) == 0) {
			free(r->www_auth);
			r->www_auth = v;
		} else {
			free(v);
		}
	} else if ((v = header_value(data, len, "Content-Type")) != NULL) {
		free(r->content_type);
		r->content_type = v;
	} else if ((v = header_value(data, len, "Docker-Content-Digest")) != NULL) {
		free(r->digest_header);
		r->digest_header = v;
	}
	return len;
}

static size_t
reg_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_resp *r = arg;
	size_t len = size * nmemb;

	if (r->fd >= 0 && r->status == 200) {
		size_t off = 0;

		if (r->written + len > r->limit) {
			r->overflow = 1;
			return 0;
		}
		sha256_update(&r->sha, data, len);
		while (off < len) {
			ssize_t n = write(r->fd, data + off, len - off);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				r->io_errno = errno;
				return 0;
			}
			off += (size_t)n;
		}
		r->written += len;
		return len;
	}
	if (r->len + len > r->max) {
		r->overflow = 1;
		return 0;
	}
	if (r->buf == NULL)
		r->buf = xmalloc(r->max + 1);
	memcpy(r->buf + r->len, data, len);
	r->len += len;
	r->buf[r->len] = '\0';
	return len;
}

static int
reg_xferinfo_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct http_resp *r = arg;
	int64_t now;

	if (r->c->progress == NULL || r->label == NULL || r->status != 200)
		return 0;
	/* the final report comes from reg_get_blob once the digest is checked */
	if (r->total > 0 && (uint64_t)dlnow >= r->total)
		return 0;
	now = now_ms();
	if (now - r->last_report < PROGRESS_INTERVAL_MS)
		return 0;
	r->last_report = now;
	r->c->progress(r->label, (uint64_t)(dlnow > 0 ? dlnow : 0),
		       r->total ? r->total : (uint64_t)(dltotal > 0 ? dltotal : 0), r->c->progress_arg);
	return 0;
}

int
reg_client_new(const struct image_ref *ref, const struct image_pull_opts *opts,
	       struct reg_client **out, struct berr *err)
{
	struct reg_client *c;

	*out = NULL;
	pthread_once(&curl_once, reg_curl_global_init);
	if (curl_init_rc != CURLE_OK)
		return berr_set(err, EIO, "initialising libcurl: %s", curl_easy_strerror(curl_init_rc));
	c = xcalloc(1, sizeof *c);
	c->curl = curl_easy_init();
	if (c->curl == NULL) {
		free(c);
		return berr_set(err, ENOMEM, "initialising libcurl: out of memory");
	}
	c->loopback = image_registry_is_loopback(ref->registry);
	c->plain_ok = c->loopback || (opts != NULL && opts->insecure_http);
	c->base = xasprintf("%s://%s", c->plain_ok ? "http" : "https",
			    image_registry_endpoint(ref->registry));
	c->repo = xstrdup(ref->repo);
	c->timeout_s = opts != NULL && opts->timeout_s > 0 ? opts->timeout_s : DEFAULT_TIMEOUT_S;
	if (opts != NULL) {
		c->progress = opts->progress;
		c->progress_arg = opts->arg;
	}
	*out = c;
	return 0;
}

void
reg_client_free(struct reg_client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	free(c->base);
	free(c->repo);
	free(c->auth);
	free(c);
}

/* One GET of url into r, no auth retry. */
static int
reg_perform(struct reg_client *c, const char *url, const char *accept, struct http_resp *r,
	    struct berr *err)
{
	struct curl_slist *hdrs = NULL;
	CURLcode rc;
	char *h;

	resp_reset(r);
	if (r->fd >= 0 && (ftruncate(r->fd, 0) < 0 || lseek(r->fd, 0, SEEK_SET) < 0))
		return berr_errno(err, "truncating download file");
	r->c = c;
	curl_easy_reset(c->curl);
	c->errbuf[0] = '\0';
	if (accept != NULL) {
		h = xasprintf("Accept: %s", accept);
		hdrs = curl_slist_append(hdrs, h);
		free(h);
	}
	if (c->auth != NULL)
		hdrs = curl_slist_append(hdrs, c->auth);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, c->plain_ok ? "http,https" : "https");
	curl_easy_setopt(c->curl, CURLOPT_REDIR_PROTOCOLS_STR, c->plain_ok ? "http,https" : "https");
	curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c->curl, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, (long)c->timeout_s);
	curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_TIME, (long)c->timeout_s);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "berth/" PACKAGE_VERSION);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, reg_header_cb);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, reg_write_cb);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, reg_xferinfo_cb);
	curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, r);
	curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
	if (c->loopback)
		curl_easy_setopt(c->curl, CURLOPT_NOPROXY, "*");
	rc = curl_easy_perform(c->curl);
	curl_slist_free_all(hdrs);
	if (rc == CURLE_OK)
		return 0;
	if (rc == CURLE_WRITE_ERROR && r->overflow)
		return berr_set(err, EFBIG, "GET %s: response larger than allowed (%llu bytes)", url,
				(unsigned long long)(r->fd >= 0 && r->status == 200 ? r->limit : r->max));
	if (rc == CURLE_WRITE_ERROR && r->io_errno != 0) {
		errno = r->io_errno;
		return berr_errno(err, "GET %s: writing download", url);
	}
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return berr_set(err, BERR_TIMEOUT, "GET %s: transfer stalled (no data for %d s): %s", url,
				c->timeout_s, c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
	return berr_set(err, rc == CURLE_COULDNT_CONNECT ? ECONNREFUSED : EIO, "GET %s: %s", url,
			c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
}

/* Parse `Bearer realm="...",service="...",scope="..."` into its fields. */
static int
parse_bearer_challenge(const char *h, char **realm, char **service, char **scope)
{
	const char *p = h;

	*realm = *service = *scope = NULL;
	if (strncasecmp(p, "Bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
		return -1;
	p += 6;
	for (;;) {
		const char *key;
		size_t klen;
		char *val;
		size_t vlen = 0;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		key = p;
		while (isalnum((unsigned char)*p) || *p == '_' || *p == '-')
			p++;
		klen = (size_t)(p - key);
		if (klen == 0 || *p != '=')
			goto bad;
		p++;
		val = xmalloc(strlen(p) + 1);
		if (*p == '"') {
			p++;
			while (*p != '"') {
				if (*p == '\0') {
					free(val);
					goto bad;
				}
				if (*p == '\\' && p[1] != '\0')
					p++;
				val[vlen++] = *p++;
			}
			p++;
		} else {
			while (*p != '\0' && *p != ',' && *p != ' ')
				val[vlen++] = *p++;
		}
		val[vlen] = '\0';
		if (klen == 5 && strncasecmp(key, "realm", 5) == 0 && *realm == NULL)
			*realm = val;
		else if (klen == 7 && strncasecmp(key, "service", 7) == 0 && *service == NULL)
			*service = val;
		else if (klen == 5 && strncasecmp(key, "scope", 5) == 0 && *scope == NULL)
			*scope = val;
		else
			free(val);
	}
	if (*realm == NULL)
		goto bad;
	return 0;
bad:
	free(*realm);
	free(*service);
	free(*scope);
	*realm = *service = *scope = NULL;
	return -1;
}

/* Anonymous token from the realm the registry named. */
static int
reg_fetch_token(struct reg_client *c, const char *challenge, struct berr *err)
{
	char *realm, *service, *scope, *url, *esc_service = NULL, *esc_scope = NULL, *def_scope;
	struct http_resp tr;
	json_object *o, *t;
	const char *token = NULL;
	int ret = -1;

	if (parse_bearer_challenge(challenge, &realm, &service, &scope) < 0)
		return berr_set(err, BERR_PROTO, "registry sent a malformed WWW-Authenticate header");
	if (strncmp(realm, "https://", 8) != 0 && !(c->plain_ok && strncmp(realm, "http://", 7) == 0)) {
		berr_set(err, BERR_PROTO, "registry named a token service `%s' that is not HTTPS", realm);
		goto out;
	}
	def_scope = xasprintf("repository:%s:pull", c->repo);
	if (service != NULL)
		esc_service = curl_easy_escape(c->curl, service, 0);
	esc_scope = curl_easy_escape(c->curl, scope != NULL ? scope : def_scope, 0);
	free(def_scope);
	url = xasprintf("%s%s%s%s&scope=%s", realm, strchr(realm, '?') ? "&" : "?",
			esc_service ? "service=" : "", esc_service ? esc_service : "",
			esc_scope ? esc_scope : "");
	memset(&tr, 0, sizeof tr);
	tr.fd = -1;
	tr.max = TOKEN_MAX;
	free(c->auth);
	c->auth = NULL;
	if (reg_perform(c, url, "application/json", &tr, err) < 0) {
		berr_wrap(err, "getting a registry token");
		goto out_resp;
	}
	if (tr.status != 200) {
		berr_set(err, EACCES, "getting a registry token from %s: HTTP %ld", realm, tr.status);
		goto out_resp;
	}
	o = image_json_parse(tr.buf ? tr.buf : "", tr.len);
	if (o != NULL && ((json_object_object_get_ex(o, "token", &t) && json_object_is_type(t, json_type_string)) ||
			  (json_object_object_get_ex(o, "access_token", &t) && json_object_is_type(t, json_type_string))))
		token = json_object_get_string(t);
	if (token == NULL || *token == '\0' || strlen(token) > 64 * 1024 || strpbrk(token, "\r\n") != NULL) {
		berr_set(err, BERR_PROTO, "token service %s sent no usable token", realm);
	} else {
		c->auth = xasprintf("Authorization: Bearer %s", token);
		ret = 0;
	}
	json_object_put(o);
out_resp:
	resp_free(&tr);
	free(url);
out:
	curl_free(esc_service);
	curl_free(esc_scope);
	free(realm);
	free(service);
	free(scope);
	return ret;
}

/* Short text from a registry error body ({"errors":[{"code","message"}]}). */
static char *
registry_error_text(const struct http_resp *r)
{
	json_object *o, *errs, *e0, *m;
	char *s = NULL;

	if (r->buf == NULL || r->len == 0)
		return NULL;
	o = image_json_parse(r->buf, r->len);
	if (o != NULL && json_object_object_get_ex(o, "errors", &errs) &&
	    json_object_is_type(errs, json_type_array) && json_object_array_length(errs) > 0 &&
	    (e0 = json_object_array_get_idx(errs, 0)) != NULL &&
	    json_object_object_get_ex(e0, "message", &m) && json_object_is_type(m, json_type_string)) {
		const char *t = json_object_get_string(m);
		size_t i, n = strlen(t) > 200 ? 200 : strlen(t);

		s = xstrndup(t, n);
		for (i = 0; i < n; i++)
			if (!isprint((unsigned char)s[i]))
				s[i] = '?';
	}
	json_object_put(o);
	return s;
}

/* GET with the bearer-token dance: on a 401 carrying a Bearer challenge,
 * fetch a token once and retry.  Fails unless the final status is 200. */
static int
reg_get(struct reg_client *c, const char *url, const char *accept, struct http_resp *r,
	const char *what, struct berr *err)
{
	int tried_token = 0;
	char *detail;

	for (;;) {
		if (reg_perform(c, url, accept, r, err) < 0)
			return -1;
		if (r->status == 401 && !tried_token && r->www_auth != NULL &&
		    strncasecmp(r->www_auth, "Bearer", 6) == 0) {
			char *challenge = xstrdup(r->www_auth);
			int rc = reg_fetch_token(c, challenge, err);

			free(challenge);
			if (rc < 0)
				return -1;
			tried_token = 1;
			continue;
		}
		break;
	}
	if (r->status == 200)
		return 0;
	detail = registry_error_text(r);
	if (r->status == 404)
		berr_set(err, BERR_NOTFOUND, "%s: not found in the registry%s%s", what,
			 detail ? ": " : "", detail ? detail : "");
	else if (r->status == 401 || r->status == 403)
		berr_set(err, EACCES, "%s: access denied (HTTP %ld; only anonymous pulls are supported)%s%s",
			 what, r->status, detail ? ": " : "", detail ? detail : "");
	else
		berr_set(err, BERR_REMOTE, "%s: registry answered HTTP %ld%s%s", what, r->status,
			 detail ? ": " : "", detail ? detail : "");
	free(detail);
	return -1;
}

int
reg_get_manifest(struct reg_client *c, const char *reference, char **body, size_t *len,
		 char **media_type, char **digest_header, struct berr *err)
{
	static const char accept[] = MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " MT_DOCKER_LIST ", "
		MT_DOCKER_MANIFEST;
	struct http_resp r;
	char *url, *what;
	int ret = -1;

	*body = NULL;
	*len = 0;
	*media_type = *digest_header = NULL;
	memset(&r, 0, sizeof r);
	r.fd = -1;
	r.max = IMAGE_MANIFEST_MAX;
	url = xasprintf("%s/v2/%s/manifests/%s", c->base, c->repo, reference);
	what = xasprintf("manifest %s:%s", c->repo, reference);
	if (reg_get(c, url, accept, &r, what, err) == 0) {
		*body = r.buf ? r.buf : xstrdup("");
		*len = r.len;
		r.buf = NULL;
		if (r.content_type != NULL) {
			/* drop parameters ("; charset=utf-8") */
			r.content_type[strcspn(r.content_type, "; ")] = '\0';
			*media_type = r.content_type;
			r.content_type = NULL;
		}
		*digest_header = r.digest_header;
		r.digest_header = NULL;
		ret = 0;
	} else if (err->code == EFBIG) {
		berr_set(err, EFBIG, "%s: larger than %u bytes", what, IMAGE_MANIFEST_MAX);
	}
	free(url);
	free(what);
	resp_free(&r);
	return ret;
}

int
reg_get_blob(struct reg_client *c, const char *digest, int64_t size, const char *path,
	     const char *label, struct berr *err)
{
	struct http_resp r;
	char *url = NULL, hex[SHA256_HEX_LEN + 1];
	int ret = -1;

	if (!image_digest_valid(digest))
		return berr_set(err, BERR_INVALID, "unsupported blob digest `%.80s'", digest);
	if (size < 0)
		return berr_set(err, BERR_INVALID, "blob %s: negative size", digest);
	memset(&r, 0, sizeof r);
	r.max = ERRBODY_MAX;
	r.limit = (uint64_t)size;
	r.total = (uint64_t)size;
	r.label = label;
	r.fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (r.fd < 0)
		return berr_errno(err, "creating `%s'", path);
	url = xasprintf("%s/v2/%s/blobs/%s", c->base, c->repo, digest);
	if (c->progress != NULL)
		c->progress(label, 0, (uint64_t)size, c->progress_arg);
	if (reg_get(c, url, NULL, &r, label, err) < 0) {
		if (err->code == EFBIG && r.status == 200)
			berr_set(err, BERR_INVALID, "blob %s: registry sent more than the %lld bytes its descriptor says",
				 digest, (long long)size);
		goto out;
	}
	if (r.written != (uint64_t)size) {
		berr_set(err, BERR_INVALID, "blob %s: got %llu bytes, descriptor says %lld", digest,
			 (unsigned long long)r.written, (long long)size);
		goto out;
	}
	sha256_final_hex(&r.sha, hex);
	if (strcmp(hex, digest + 7) != 0) {
		berr_set(err, BERR_INVALID, "blob %s: content has digest sha256:%s (corrupted or tampered)",
			 digest, hex);
		goto out;
	}
	if (fsync(r.fd) < 0) {
		berr_errno(err, "syncing `%s'", path);
		goto out;
	}
	if (c->progress != NULL)
		c->progress(label, (uint64_t)size, (uint64_t)size, c->progress_arg);
	ret = 0;
out:
	if (close(r.fd) < 0 && ret == 0)
		ret = berr_errno(err, "closing `%s'", path);
	r.fd = -1;
	if (ret < 0)
		unlink(path);
	free(url);
	resp_free(&r);
	return ret;
}
