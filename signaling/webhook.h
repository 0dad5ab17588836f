/* Switchboard — the webhook: every lifecycle event (core/events.h) POSTed as JSON
 * to a configured URL ([webhook] url; empty = off).
 *
 * Deliveries go one at a time in seq order from a thread of their own, with
 * blocking GIO sockets bounded by [webhook] timeout, so neither the main loop nor
 * a media worker ever waits on the receiver. A failed delivery is retried with
 * exponential backoff before any later event is sent, up to [webhook] retries
 * times; then it is dropped and counted. Waiting events sit in a bounded queue
 * ([webhook] queue_size): when it is full the oldest is dropped and counted. At
 * shutdown the queue is flushed for at most [webhook] flush_timeout seconds.
 * docs/API.md "Webhooks" is the receiver's side of this. */
#ifndef SB_SIGNALING_WEBHOOK_H
#define SB_SIGNALING_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "sha256=<64 hex digits>": HMAC-SHA256 of body under secret, the value of the
 * X-Switchboard-Signature header. g_free the result. */
char *sb_webhook_signature(const char *secret, const char *body, size_t len);

/* The status code of an HTTP/1.x status line at the start of buf ("HTTP/1.1 204
 * No Content\r\n…"), or -1 when buf does not start with one. */
int sb_webhook_parse_status(const char *buf, size_t len);

/* Whether a delivery that got this HTTP status should be tried again: 408, 425,
 * 429 and 5xx are worth retrying; any other non-2xx answer is final. */
bool sb_webhook_status_retryable(int status);

/* Whether an event of this type is sent, given the configured list (NULL or
 * empty: every type). An entry "room.*" matches every type starting "room.". */
bool sb_webhook_type_wanted(char *const *filter, const char *type);

/* Splits "http://host[:port]/path" (or https) into the authority "host[:port]"
 * (what the Host header and the connection take) and the path with its query
 * ("/" when none; a fragment is dropped). False for another scheme, userinfo,
 * an empty host, or spaces and control characters. g_free the strings. */
bool sb_webhook_parse_url(const char *url, char **authority, char **path, bool *tls);

/* Milliseconds to wait before retry number attempt (1, 2, …): base_ms doubled
 * for each further retry, at most SB_WEBHOOK_MAX_BACKOFF_MS. */
#define SB_WEBHOOK_MAX_BACKOFF_MS 30000
int64_t sb_webhook_backoff_ms(int base_ms, int attempt);

typedef struct sb_webhook_config {
  const char *url;           /* where to POST */
  const char *secret;        /* HMAC key of X-Switchboard-Signature; NULL or "": unsigned */
  int timeout_s;             /* connect, write and read, each */
  int retries;               /* further attempts after the first */
  int backoff_ms;            /* before the first retry; doubles */
  int queue_size;            /* events waiting at most; then the oldest is dropped */
  int flush_timeout_ms;      /* at shutdown, for what is still queued */
  char *const *events;       /* types to send (sb_webhook_type_wanted), NULL: all */
} sb_webhook_config;

typedef struct sb_webhook sb_webhook;

/* Starts the delivery thread; NULL with *error (g_free it) for a bad URL, or
 * https without TLS support in GIO. The configuration is copied. */
sb_webhook *sb_webhook_new(const sb_webhook_config *cfg, char **error);
/* Queues one event: type for the filter and X-Switchboard-Event, seq for
 * X-Switchboard-Delivery, body the JSON text (copied). Any thread; never waits
 * on the network. */
void sb_webhook_enqueue(sb_webhook *wh, const char *type, uint64_t seq, const char *body);
/* Delivers what is queued for at most flush_timeout_ms (what remains is dropped
 * and counted), stops the thread and frees. */
void sb_webhook_free(sb_webhook *wh);

#endif
