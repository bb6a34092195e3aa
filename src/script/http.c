/*
 * http.c - one HTTP POST with libcurl, for berth.http_post (the webhook
 * plugin).  Bounded: a timeout, http/https only, a 1 MiB cap on the
 * response kept.  Not for: the Podman plugin (it has its own client).
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "core/util.h"
#include "script/script-int.h"

#define HTTP_RESPONSE_MAX (1u << 20)

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

int
script_http_post(const char *url, const char *body, size_t len, const char *content_type,
		 long timeout_ms, long *status, char **response, struct berr *err)
{
	static int curl_ready;
	struct http_buf b = { 0 };
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	char *ctype_hdr;
	CURL *c;
	CURLcode rc;

	if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
		return berr_set(err, BERR_INVALID, "POST to `%s': only http:// and https:// URLs", url);
	if (strpbrk(content_type, "\r\n") != NULL)
		return berr_set(err, BERR_INVALID, "content type contains a line break");
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
			return berr_set(err, BERR_INVALID, "initialising libcurl failed");
		curl_ready = 1;
	}
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
	*response = b.data;
	return 0;
}
