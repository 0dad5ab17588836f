/* Unit tests for signaling/webhook: the pure helpers (signature, status line,
 * what is retried, the type filter, URL and backoff), and delivery against a
 * receiver on 127.0.0.1 in this process: events arrive in order, one that got a
 * 500 is sent again (same delivery id, next attempt) before the next, the body
 * is signed, a full queue drops its oldest, and shutdown is bounded. */
#include <gio/gio.h>
#include <string.h>

#include "core/metrics.h"
#include "signaling/webhook.h"

/* ---- pure helpers -------------------------------------------------------- */

static void test_webhook_signature_is_hmac_sha256_hex(void) {
  /* The HMAC-SHA256 example of RFC 4231-style tests found everywhere. */
  const char *body = "The quick brown fox jumps over the lazy dog";
  char *sig = sb_webhook_signature("key", body, strlen(body));
  g_assert_cmpstr(sig, ==, "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
  g_free(sig);
}

static int status_of(const char *s) { return sb_webhook_parse_status(s, strlen(s)); }

static void test_webhook_status_line_parses(void) {
  g_assert_cmpint(status_of("HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n"), ==, 204);
  g_assert_cmpint(status_of("HTTP/1.0 500 Internal Server Error\r\n"), ==, 500);
  g_assert_cmpint(status_of("HTTP/1.1 200"), ==, 200);
  g_assert_cmpint(status_of("HTTP/1.1 429\r\n"), ==, 429);
  g_assert_cmpint(status_of("HTTP/2 200 OK\r\n"), ==, -1);
  g_assert_cmpint(status_of("HTTP/1.1 20x OK\r\n"), ==, -1);
  g_assert_cmpint(status_of("HTTP/1.1 2000 OK\r\n"), ==, -1);
  g_assert_cmpint(status_of("HTTP/1.1 2"), ==, -1);
  g_assert_cmpint(status_of("ICY 200 OK\r\n"), ==, -1);
  g_assert_cmpint(status_of(""), ==, -1);
  g_assert_cmpint(sb_webhook_parse_status("HTTP/1.1 503 x", 11), ==, -1);
}

static void test_webhook_retries_only_transient_statuses(void) {
  static const int yes[] = { 408, 425, 429, 500, 502, 503, 504, 599 };
  static const int no[] = { 200, 204, 301, 400, 401, 403, 404, 410, 413, 422, 600 };
  for (size_t i = 0; i < G_N_ELEMENTS(yes); i++)
    g_assert_true(sb_webhook_status_retryable(yes[i]));
  for (size_t i = 0; i < G_N_ELEMENTS(no); i++)
    g_assert_false(sb_webhook_status_retryable(no[i]));
}

static void test_webhook_type_filter_matches_exact_and_prefix(void) {
  char *rooms[] = { "room.*", "participant.joined", NULL };
  char *all[] = { "*", NULL };
  char *empty[] = { NULL };
  g_assert_true(sb_webhook_type_wanted(NULL, "track.published"));
  g_assert_true(sb_webhook_type_wanted(empty, "track.published"));
  g_assert_true(sb_webhook_type_wanted(all, "track.published"));
  g_assert_true(sb_webhook_type_wanted(rooms, "room.created"));
  g_assert_true(sb_webhook_type_wanted(rooms, "room.closed"));
  g_assert_true(sb_webhook_type_wanted(rooms, "participant.joined"));
  g_assert_false(sb_webhook_type_wanted(rooms, "participant.left"));
  g_assert_false(sb_webhook_type_wanted(rooms, "roomy.created"));
  g_assert_false(sb_webhook_type_wanted(rooms, "room"));
}

static void assert_url(const char *url, const char *authority, const char *path, bool tls) {
  char *a = NULL, *p = NULL;
  bool t = !tls;
  g_assert_true(sb_webhook_parse_url(url, &a, &p, &t));
  g_assert_cmpstr(a, ==, authority);
  g_assert_cmpstr(p, ==, path);
  g_assert_true(t == tls);
  g_free(a);
  g_free(p);
}

static void test_webhook_url_splits_authority_and_path(void) {
  assert_url("http://127.0.0.1:8080/hooks/sb", "127.0.0.1:8080", "/hooks/sb", false);
  assert_url("https://example.com", "example.com", "/", true);
  assert_url("HTTP://h/p?x=1#frag", "h", "/p?x=1", false);
  assert_url("http://h?x=1", "h", "/?x=1", false);
  assert_url("http://[::1]:9000/", "[::1]:9000", "/", false);
  char *a = NULL, *p = NULL;
  bool t;
  g_assert_false(sb_webhook_parse_url("ftp://h/", &a, &p, &t));
  g_assert_false(sb_webhook_parse_url("http:///path", &a, &p, &t));
  g_assert_false(sb_webhook_parse_url("http://user:pw@h/", &a, &p, &t));
  g_assert_false(sb_webhook_parse_url("http://h/a b", &a, &p, &t));
  g_assert_false(sb_webhook_parse_url("http://h/\r\nX: y", &a, &p, &t));
  g_assert_false(sb_webhook_parse_url(NULL, &a, &p, &t));
  g_assert_null(a);
  g_assert_null(p);
}

static void test_webhook_backoff_doubles_up_to_the_cap(void) {
  g_assert_cmpint(sb_webhook_backoff_ms(500, 1), ==, 500);
  g_assert_cmpint(sb_webhook_backoff_ms(500, 2), ==, 1000);
  g_assert_cmpint(sb_webhook_backoff_ms(500, 4), ==, 4000);
  g_assert_cmpint(sb_webhook_backoff_ms(500, 7), ==, SB_WEBHOOK_MAX_BACKOFF_MS);
  g_assert_cmpint(sb_webhook_backoff_ms(500, 1000), ==, SB_WEBHOOK_MAX_BACKOFF_MS);
  g_assert_cmpint(sb_webhook_backoff_ms(0, 1), ==, 1);
}

/* ---- a receiver ---------------------------------------------------------- */

typedef struct receiver {
  GSocket *listener;
  int port;
  GThread *thread;
  GMutex lock;
  GPtrArray *requests;       /* full request texts, in arrival order */
  int fail_first;            /* answer 500 to this many requests */
  bool stop;
} receiver;

static char *read_request(GSocket *s) {
  GString *req = g_string_new(NULL);
  char buf[4096];
  for (;;) {
    gssize n = g_socket_receive(s, buf, sizeof buf, NULL, NULL);
    if (n <= 0)
      break;
    g_string_append_len(req, buf, n);
    const char *end = strstr(req->str, "\r\n\r\n");
    const char *cl = strstr(req->str, "Content-Length: ");
    if (end && cl && req->len >= (gsize)(end + 4 - req->str) + strtoul(cl + 16, NULL, 10))
      break;
  }
  return g_string_free(req, FALSE);
}

static gpointer receiver_main(gpointer data) {
  receiver *r = data;
  for (;;) {
    GSocket *c = g_socket_accept(r->listener, NULL, NULL);
    if (c == NULL)
      break;
    char *req = read_request(c);
    g_mutex_lock(&r->lock);
    bool stop = r->stop;
    bool fail = r->fail_first > 0;
    if (fail)
      r->fail_first--;
    if (!stop)
      g_ptr_array_add(r->requests, req);
    else
      g_free(req);
    g_mutex_unlock(&r->lock);
    const char *answer = fail ? "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"
                              : "HTTP/1.1 204 No Content\r\n\r\n";
    g_socket_send(c, answer, strlen(answer), NULL, NULL);
    g_socket_close(c, NULL);
    g_object_unref(c);
    if (stop)
      break;
  }
  return NULL;
}

static receiver *receiver_start(int fail_first) {
  receiver *r = g_new0(receiver, 1);
  r->listener = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new(lo, 0);
  g_assert_true(g_socket_bind(r->listener, addr, TRUE, NULL));
  g_assert_true(g_socket_listen(r->listener, NULL));
  GSocketAddress *bound = g_socket_get_local_address(r->listener, NULL);
  r->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  g_object_unref(bound);
  g_object_unref(addr);
  g_object_unref(lo);
  g_mutex_init(&r->lock);
  r->requests = g_ptr_array_new_with_free_func(g_free);
  r->fail_first = fail_first;
  r->thread = g_thread_new("receiver", receiver_main, r);
  return r;
}

static guint receiver_count(receiver *r) {
  g_mutex_lock(&r->lock);
  guint n = r->requests->len;
  g_mutex_unlock(&r->lock);
  return n;
}

static void receiver_stop(receiver *r) {
  g_mutex_lock(&r->lock);
  r->stop = true;
  g_mutex_unlock(&r->lock);
  /* Wake the accept with one last connection. */
  GSocketClient *c = g_socket_client_new();
  char *host = g_strdup_printf("127.0.0.1:%d", r->port);
  GSocketConnection *conn = g_socket_client_connect_to_host(c, host, 0, NULL, NULL);
  if (conn)
    g_object_unref(conn);     /* closes it: the receiver reads EOF */
  g_thread_join(r->thread);
  g_object_unref(c);
  g_free(host);
  g_object_unref(r->listener);
  g_ptr_array_unref(r->requests);
  g_mutex_clear(&r->lock);
  g_free(r);
}

static const char *header_of(const char *req, const char *name, char *out, size_t cap) {
  char *key = g_strdup_printf("\r\n%s: ", name);
  const char *p = strstr(req, key);
  g_free(key);
  if (p == NULL)
    return NULL;
  p += strlen(name) + 4;
  size_t n = strcspn(p, "\r");
  g_strlcpy(out, p, MIN(n + 1, cap));
  return out;
}

static bool wait_for(receiver *r, guint n, int ms) {
  for (int i = 0; i < ms / 10 && receiver_count(r) < n; i++)
    g_usleep(10000);
  return receiver_count(r) >= n;
}

/* ---- delivery ------------------------------------------------------------ */

static void test_webhook_retries_a_500_and_keeps_order(void) {
  receiver *r = receiver_start(1);
  char *url = g_strdup_printf("http://127.0.0.1:%d/hook", r->port);
  sb_webhook_config cfg = { .url = url, .secret = "s3cret", .timeout_s = 5, .retries = 3,
                            .backoff_ms = 50, .queue_size = 10, .flush_timeout_ms = 2000 };
  char *error = NULL;
  sb_webhook *wh = sb_webhook_new(&cfg, &error);
  g_assert_null(error);
  const char *bodies[] = { "{\"type\":\"a.one\",\"seq\":1}", "{\"type\":\"a.two\",\"seq\":2}",
                           "{\"type\":\"a.three\",\"seq\":3}" };
  for (int i = 0; i < 3; i++)
    sb_webhook_enqueue(wh, i == 0 ? "a.one" : i == 1 ? "a.two" : "a.three", (uint64_t)i + 1, bodies[i]);
  g_assert_true(wait_for(r, 4, 5000));
  sb_webhook_free(wh);
  /* 500 for the first, then the first again, then the others in order. */
  static const char *const expect_delivery[] = { "1", "1", "2", "3" };
  static const char *const expect_attempt[] = { "1", "2", "1", "1" };
  static const int expect_body[] = { 0, 0, 1, 2 };
  g_assert_cmpuint(r->requests->len, ==, 4);
  for (guint i = 0; i < 4; i++) {
    const char *req = g_ptr_array_index(r->requests, i);
    char v[128];
    g_assert_true(g_str_has_prefix(req, "POST /hook HTTP/1.1\r\n"));
    g_assert_cmpstr(header_of(req, "X-Switchboard-Delivery", v, sizeof v), ==, expect_delivery[i]);
    g_assert_cmpstr(header_of(req, "X-Switchboard-Attempt", v, sizeof v), ==, expect_attempt[i]);
    g_assert_cmpstr(header_of(req, "Content-Type", v, sizeof v), ==, "application/json");
    const char *body = strstr(req, "\r\n\r\n") + 4;
    g_assert_cmpstr(body, ==, bodies[expect_body[i]]);
    char *sig = sb_webhook_signature("s3cret", body, strlen(body));
    g_assert_cmpstr(header_of(req, "X-Switchboard-Signature", v, sizeof v), ==, sig);
    g_free(sig);
  }
  g_assert_cmpint(sb_metrics_lookup("switchboard_webhook_retries"), >=, 1);
  receiver_stop(r);
  g_free(url);
}

static void test_webhook_filter_skips_unwanted_types(void) {
  receiver *r = receiver_start(0);
  char *url = g_strdup_printf("http://127.0.0.1:%d/", r->port);
  char *events[] = { "room.*", NULL };
  sb_webhook_config cfg = { .url = url, .timeout_s = 5, .retries = 0, .backoff_ms = 10,
                            .queue_size = 10, .flush_timeout_ms = 2000, .events = events };
  char *error = NULL;
  sb_webhook *wh = sb_webhook_new(&cfg, &error);
  sb_webhook_enqueue(wh, "participant.joined", 1, "{}");
  sb_webhook_enqueue(wh, "room.created", 2, "{}");
  sb_webhook_free(wh);        /* flushes */
  g_assert_cmpuint(r->requests->len, ==, 1);
  char v[64];
  g_assert_cmpstr(header_of(g_ptr_array_index(r->requests, 0), "X-Switchboard-Event", v, sizeof v), ==,
                  "room.created");
  g_assert_null(header_of(g_ptr_array_index(r->requests, 0), "X-Switchboard-Signature", v, sizeof v));
  receiver_stop(r);
  g_free(url);
}

static void test_webhook_full_queue_drops_oldest_and_shutdown_is_bounded(void) {
  /* A port nobody listens on: every attempt fails at once, then waits 10 s. */
  GSocket *s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new(lo, 0);
  g_assert_true(g_socket_bind(s, addr, TRUE, NULL));
  GSocketAddress *bound = g_socket_get_local_address(s, NULL);
  int port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  char *url = g_strdup_printf("http://127.0.0.1:%d/", port);
  int64_t full_before = sb_metrics_lookup_series("switchboard_webhook_dropped", "queue_full");
  int64_t shut_before = sb_metrics_lookup_series("switchboard_webhook_dropped", "shutdown");
  sb_webhook_config cfg = { .url = url, .timeout_s = 5, .retries = 5, .backoff_ms = 10000,
                            .queue_size = 2, .flush_timeout_ms = 300 };
  char *error = NULL;
  sb_webhook *wh = sb_webhook_new(&cfg, &error);
  for (int i = 1; i <= 6; i++)
    sb_webhook_enqueue(wh, "room.created", (uint64_t)i, "{}");
  g_usleep(100000);
  int64_t t0 = g_get_monotonic_time();
  sb_webhook_free(wh);
  int64_t took = g_get_monotonic_time() - t0;
  g_assert_cmpint(took, <, 2 * G_USEC_PER_SEC);
  int64_t full = sb_metrics_lookup_series("switchboard_webhook_dropped", "queue_full") - full_before;
  int64_t shut = sb_metrics_lookup_series("switchboard_webhook_dropped", "shutdown") - shut_before;
  /* 6 events: at most 2 wait and 1 is in flight; all 6 are accounted for. */
  g_assert_cmpint(full, >=, 3);
  g_assert_cmpint(full + shut, ==, 6);
  g_free(url);
  g_object_unref(bound);
  g_object_unref(addr);
  g_object_unref(lo);
  g_object_unref(s);
}

static void test_webhook_bad_url_is_refused(void) {
  sb_webhook_config cfg = { .url = "gopher://x/", .queue_size = 1 };
  char *error = NULL;
  g_assert_null(sb_webhook_new(&cfg, &error));
  g_assert_nonnull(strstr(error, "gopher://x/"));
  g_free(error);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/webhook/signature-is-hmac-sha256-hex", test_webhook_signature_is_hmac_sha256_hex);
  g_test_add_func("/webhook/status-line-parses", test_webhook_status_line_parses);
  g_test_add_func("/webhook/retries-only-transient-statuses",
                  test_webhook_retries_only_transient_statuses);
  g_test_add_func("/webhook/type-filter-matches-exact-and-prefix",
                  test_webhook_type_filter_matches_exact_and_prefix);
  g_test_add_func("/webhook/url-splits-authority-and-path", test_webhook_url_splits_authority_and_path);
  g_test_add_func("/webhook/backoff-doubles-up-to-the-cap", test_webhook_backoff_doubles_up_to_the_cap);
  g_test_add_func("/webhook/retries-a-500-and-keeps-order", test_webhook_retries_a_500_and_keeps_order);
  g_test_add_func("/webhook/filter-skips-unwanted-types", test_webhook_filter_skips_unwanted_types);
  g_test_add_func("/webhook/full-queue-drops-oldest-and-shutdown-is-bounded",
                  test_webhook_full_queue_drops_oldest_and_shutdown_is_bounded);
  g_test_add_func("/webhook/bad-url-is-refused", test_webhook_bad_url_is_refused);
  return g_test_run();
}
