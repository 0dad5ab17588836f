/* Unit tests for media/dcep (DCEP messages, the SCTP packet check) and media/sctp:
 * two real usrsctp associations on one worker, a DTLS client side and a server
 * side, whose packets travel through in-memory queues the test pumps. They open
 * channels both ways, exchange ordered, unordered and large messages, close
 * channels from either side, and take malformed packets and DCEP messages. */
#include <glib.h>
#include <string.h>

#include "core/worker.h"
#include "media/dcep.h"
#include "media/sctp_internal.h"

/* ---- DCEP and packet structure ---------------------------------------------- */

static void test_dcep_roundtrip(void) {
  sb_dcep_open o = { .channel_type = SB_DC_PARTIAL_RELIABLE_REXMIT | SB_DC_UNORDERED,
                     .priority = 256, .reliability = 7,
                     .label = (const uint8_t *)"chat", .label_len = 4,
                     .protocol = (const uint8_t *)"json", .protocol_len = 4 };
  uint8_t buf[64];
  int n = sb_dcep_write_open(buf, sizeof buf, &o);
  g_assert_cmpint(n, ==, 20);
  g_assert_cmpint(sb_dcep_type(buf, (size_t)n), ==, SB_DCEP_OPEN);
  sb_dcep_open p;
  g_assert_cmpint(sb_dcep_parse_open(buf, (size_t)n, &p), ==, SB_DCEP_OK);
  g_assert_cmpint(p.channel_type, ==, o.channel_type);
  g_assert_cmpint(p.priority, ==, 256);
  g_assert_cmpuint(p.reliability, ==, 7);
  g_assert_cmpint(p.label_len, ==, 4);
  g_assert_true(memcmp(p.label, "chat", 4) == 0);
  g_assert_true(memcmp(p.protocol, "json", 4) == 0);
  g_assert_cmpint(sb_dcep_write_open(buf, 19, &o), ==, SB_DCEP_ERR_SPACE);
  g_assert_cmpint(sb_dcep_write_ack(buf, sizeof buf), ==, 1);
  g_assert_cmpint(buf[0], ==, SB_DCEP_ACK);
  g_assert_cmpint(sb_dcep_write_ack(buf, 0), ==, SB_DCEP_ERR_SPACE);
}

static void test_dcep_malformed(void) {
  uint8_t buf[64] = { SB_DCEP_OPEN, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 'a', 'b' };
  sb_dcep_open p;
  g_assert_cmpint(sb_dcep_parse_open(buf, 14, &p), ==, SB_DCEP_OK);
  g_assert_cmpint(sb_dcep_type(buf, 0), <, 0);
  for (size_t len = 0; len < 12; len++)   /* every truncation of the header */
    g_assert_cmpint(sb_dcep_parse_open(buf, len, &p), ==, SB_DCEP_ERR_SHORT);
  g_assert_cmpint(sb_dcep_parse_open(buf, 13, &p), ==, SB_DCEP_ERR_LENGTH); /* label cut */
  g_assert_cmpint(sb_dcep_parse_open(buf, 15, &p), ==, SB_DCEP_ERR_LENGTH); /* trailing byte */
  buf[9] = 0xff;                                                            /* label too long */
  buf[8] = 0xff;
  g_assert_cmpint(sb_dcep_parse_open(buf, 14, &p), ==, SB_DCEP_ERR_LENGTH);
  buf[8] = 0;
  buf[9] = 2;
  buf[10] = 0xff;                                                           /* protocol too */
  g_assert_cmpint(sb_dcep_parse_open(buf, 14, &p), ==, SB_DCEP_ERR_LENGTH);
  buf[10] = 0;
  buf[1] = 0x03;                                                            /* channel type */
  g_assert_cmpint(sb_dcep_parse_open(buf, 14, &p), ==, SB_DCEP_ERR_TYPE);
  buf[1] = 0x7f;
  g_assert_cmpint(sb_dcep_parse_open(buf, 14, &p), ==, SB_DCEP_ERR_TYPE);
  buf[1] = 0x82;
  g_assert_cmpint(sb_dcep_parse_open(buf, 14, &p), ==, SB_DCEP_OK);
  buf[0] = SB_DCEP_ACK;                                                     /* not an OPEN */
  g_assert_cmpint(sb_dcep_parse_open(buf, 14, &p), ==, SB_DCEP_ERR_TYPE);
}

static void test_sctp_packet_check(void) {
  uint8_t pkt[64] = { 0 };
  /* header + one 4-byte chunk (COOKIE ACK) */
  pkt[12] = 11;
  pkt[15] = 4;
  g_assert_true(sb_sctp_packet_valid(pkt, 16));
  g_assert_false(sb_sctp_packet_valid(pkt, 12));    /* no chunk */
  g_assert_false(sb_sctp_packet_valid(pkt, 15));    /* chunk header cut */
  g_assert_false(sb_sctp_packet_valid(pkt, 0));
  g_assert_false(sb_sctp_packet_valid(pkt, 18));    /* 2 bytes that are no chunk */
  pkt[15] = 3;                                       /* length under 4 */
  g_assert_false(sb_sctp_packet_valid(pkt, 16));
  pkt[15] = 0;
  g_assert_false(sb_sctp_packet_valid(pkt, 16));
  pkt[15] = 40;                                      /* longer than the packet */
  g_assert_false(sb_sctp_packet_valid(pkt, 32));
  /* DATA chunk of 17 bytes (padded to 20) followed by a 4-byte chunk */
  pkt[12] = 0;
  pkt[14] = 0;
  pkt[15] = 17;
  pkt[32] = 11;
  pkt[35] = 4;
  g_assert_true(sb_sctp_packet_valid(pkt, 36));
  g_assert_true(sb_sctp_packet_valid(pkt, 29));    /* last chunk's padding cut */
  g_assert_false(sb_sctp_packet_valid(pkt, 28));   /* the chunk itself cut */
  g_assert_false(sb_sctp_packet_valid(pkt, 34));   /* second chunk cut */
}

/* ---- two associations back to back ------------------------------------------ */

typedef struct end {
  sb_sctp *s;
  struct end *other;
  GQueue out;                 /* packets on their way to the other end */
  bool drop_next;             /* lose the next packet (loss while sending) */
  bool connected;
  int opened;                 /* channel_open callbacks */
  int opened_id;
  char opened_label[64];
  int closed_channels;
  int last_closed;
  GPtrArray *msgs;            /* of GBytes, with a leading 'b'/'t' byte */
} end;

typedef struct pair {
  end a, b;                   /* a: DTLS client (even ids), b: server (odd ids) */
  sb_worker *w;
  GSource *pump;
} pair;

static void on_send(void *ud, const uint8_t *buf, size_t len) {
  end *e = ud;
  g_queue_push_tail(&e->out, g_bytes_new(buf, len));
}
static void on_connected(void *ud) { ((end *)ud)->connected = true; }
static void on_open(void *ud, const sb_dc_info *ch) {
  end *e = ud;
  e->opened++;
  e->opened_id = ch->id;
  g_strlcpy(e->opened_label, ch->label, sizeof e->opened_label);
}
static void on_message(void *ud, uint16_t id, bool binary, const uint8_t *buf, size_t len) {
  (void)id;
  end *e = ud;
  uint8_t *copy = g_malloc(len + 1);
  copy[0] = binary ? 'b' : 't';
  memcpy(copy + 1, buf, len);
  g_ptr_array_add(e->msgs, g_bytes_new_take(copy, len + 1));
}
static void on_channel_closed(void *ud, uint16_t id) {
  end *e = ud;
  e->closed_channels++;
  e->last_closed = id;
}
static void on_closed(void *ud, const char *why) {
  (void)why;
  ((end *)ud)->connected = false;
}

static const sb_sctp_callbacks cbs = {
  .send = on_send, .connected = on_connected, .channel_open = on_open, .message = on_message,
  .channel_closed = on_channel_closed, .closed = on_closed,
};

static void pump_end(end *e) {
  GBytes *b;
  while ((b = g_queue_pop_head(&e->out)) != NULL) {
    gsize n;
    const uint8_t *d = g_bytes_get_data(b, &n);
    if (e->drop_next)
      e->drop_next = false;
    else if (e->other->s)
      sb_sctp_input(e->other->s, d, n);
    g_bytes_unref(b);
  }
}

static gboolean pump(gpointer data) {
  pair *p = data;
  pump_end(&p->a);
  pump_end(&p->b);
  return G_SOURCE_CONTINUE;
}

static void pair_start(void *data) {
  pair *p = data;
  p->a.s = sb_sctp_new(true, 5000, 1 << 20, "test-a", &cbs, &p->a);
  p->b.s = sb_sctp_new(false, 5000, 0, "test-b", &cbs, &p->b);
  g_assert_nonnull(p->a.s);
  g_assert_nonnull(p->b.s);
  g_assert_cmpint(sb_sctp_start(p->a.s), ==, 0);
  g_assert_cmpint(sb_sctp_start(p->b.s), ==, 0);
  p->pump = g_timeout_source_new(1);
  g_source_set_callback(p->pump, pump, p, NULL);
  g_source_attach(p->pump, sb_worker_context(p->w));
}

static void end_clear(end *e) {
  GBytes *b;
  while ((b = g_queue_pop_head(&e->out)) != NULL)
    g_bytes_unref(b);
}

static void pair_stop(void *data) {
  pair *p = data;
  g_source_destroy(p->pump);
  g_source_unref(p->pump);
  sb_sctp_free(p->a.s);
  sb_sctp_free(p->b.s);
  p->a.s = p->b.s = NULL;
  end_clear(&p->a);
  end_clear(&p->b);
}

/* Runs fn on the worker. */
static void on_worker(pair *p, void (*fn)(void *), void *data) {
  sb_worker_call_sync(p->w, fn, data);
  (void)p;
}

typedef struct probe {
  pair *p;
  bool (*cond)(pair *p);
  bool result;
} probe;

static void probe_run(void *data) {
  probe *pr = data;
  pr->result = pr->cond(pr->p);
}

/* Waits (bounded) until cond holds on the worker. */
static bool wait_for(pair *p, bool (*cond)(pair *p), int timeout_ms) {
  probe pr = { .p = p, .cond = cond };
  for (int waited = 0; waited <= timeout_ms; waited += 10) {
    on_worker(p, probe_run, &pr);
    if (pr.result)
      return true;
    g_usleep(10000);
  }
  return false;
}

static bool both_connected(pair *p) { return p->a.connected && p->b.connected; }

static pair *pair_new(void) {
  pair *p = g_new0(pair, 1);
  p->w = sb_worker_get(0);
  p->a.other = &p->b;
  p->b.other = &p->a;
  p->a.msgs = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
  p->b.msgs = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
  on_worker(p, pair_start, p);
  g_assert_true(wait_for(p, both_connected, 10000));
  return p;
}

static void pair_free(pair *p) {
  on_worker(p, pair_stop, p);
  g_ptr_array_unref(p->a.msgs);
  g_ptr_array_unref(p->b.msgs);
  g_free(p);
}

/* ---- the scenarios, each a function run on the worker ------------------------ */

typedef struct op {
  pair *p;
  int id;
  uint8_t type;
  int rc;
  size_t size;
  int count;
} op;

static void op_open(void *data) {
  op *o = data;
  o->id = sb_sctp_channel_open(o->p->a.s, "chat", "json", o->type, 0, 0);
}

static size_t msg_size(int i) { return i == 500 ? 200 * 1024 : (size_t)(i % 97) + (i % 3 == 0 ? 0 : 1); }

static void fill(uint8_t *buf, size_t n, int i) {
  for (size_t k = 0; k < n; k++)
    buf[k] = (uint8_t)('a' + (i + k) % 26);
}

/* a sends count messages, alternating text and binary, one of 200 KiB. */
static void op_send_many(void *data) {
  op *o = data;
  uint8_t *buf = g_malloc(200 * 1024);
  for (int i = 0; i < o->count; i++) {
    size_t n = msg_size(i);
    fill(buf, n, i);
    o->rc |= sb_sctp_send(o->p->a.s, (uint16_t)o->id, i % 2 == 1, buf, n);
  }
  g_free(buf);
}

static int want_count;
static bool b_has_all(pair *p) { return (int)p->b.msgs->len >= want_count; }

static void check_message(GBytes *b, int i) {
  gsize n;
  const uint8_t *d = g_bytes_get_data(b, &n);
  g_assert_cmpuint(n - 1, ==, msg_size(i));
  g_assert_cmpint(d[0], ==, i % 2 == 1 ? 'b' : 't');
  uint8_t *want = g_malloc(msg_size(i) + 1);
  fill(want, msg_size(i), i);
  g_assert_true(memcmp(d + 1, want, n - 1) == 0);
  g_free(want);
}

static void test_ordered_exchange(void) {
  pair *p = pair_new();
  op o = { .p = p, .type = SB_DC_RELIABLE };
  on_worker(p, op_open, &o);
  g_assert_cmpint(o.id, ==, 0);   /* the DTLS client's first even stream */
  o.count = 1000;
  on_worker(p, op_send_many, &o);
  g_assert_cmpint(o.rc, ==, 0);
  want_count = 1000;
  g_assert_true(wait_for(p, b_has_all, 20000));
  g_assert_cmpint(p->b.opened, ==, 1);
  g_assert_cmpstr(p->b.opened_label, ==, "chat");
  g_assert_cmpuint(p->b.msgs->len, ==, 1000);
  for (int i = 0; i < 1000; i++)   /* in order, none lost or doubled */
    check_message(g_ptr_array_index(p->b.msgs, (guint)i), i);
  sb_sctp_stats st;
  sb_sctp_get_stats(p->b.s, &st);
  g_assert_cmpuint(st.messages_in, ==, 1000);
  g_assert_cmpuint(st.malformed_packets, ==, 0);
  pair_free(p);
  g_assert_cmpint(sb_sctp_live_count(), ==, 0);
}

static int unordered_index(GBytes *b) {
  /* The i of a message: sizes repeat, so use content: first byte 'a' + i % 26 and size. */
  gsize n;
  const uint8_t *d = g_bytes_get_data(b, &n);
  for (int i = 0; i < 200; i++)
    if (msg_size(i) == n - 1 && (n == 1 || d[1] == (uint8_t)('a' + i % 26)) &&
        d[0] == (i % 2 == 1 ? 'b' : 't'))
      return i;
  return -1;
}

static void test_unordered_complete(void) {
  pair *p = pair_new();
  op o = { .p = p, .type = SB_DC_RELIABLE | SB_DC_UNORDERED, .count = 200 };
  on_worker(p, op_open, &o);
  on_worker(p, op_send_many, &o);
  g_assert_cmpint(o.rc, ==, 0);
  want_count = 200;
  g_assert_true(wait_for(p, b_has_all, 20000));
  g_assert_cmpuint(p->b.msgs->len, ==, 200);
  /* Every message arrived whole (the set of sizes and kinds matches). */
  int seen_types[2] = { 0, 0 };
  for (guint i = 0; i < p->b.msgs->len; i++) {
    gsize n;
    const uint8_t *d = g_bytes_get_data(g_ptr_array_index(p->b.msgs, i), &n);
    seen_types[d[0] == 'b']++;
    g_assert_cmpint(unordered_index(g_ptr_array_index(p->b.msgs, i)), >=, 0);
  }
  g_assert_cmpint(seen_types[0], ==, 100);
  g_assert_cmpint(seen_types[1], ==, 100);
  pair_free(p);
}

/* b answers on the channel a opened; then a closes, or b closes. */
static void op_reply(void *data) {
  op *o = data;
  o->rc = sb_sctp_send(o->p->b.s, (uint16_t)o->p->b.opened_id, false, (const uint8_t *)"pong", 4);
}
static void op_close_a(void *data) {
  op *o = data;
  sb_sctp_channel_close(o->p->a.s, (uint16_t)o->id);
}
static void op_close_b(void *data) {
  op *o = data;
  sb_sctp_channel_close(o->p->b.s, (uint16_t)o->p->b.opened_id);
}
static bool a_has_one(pair *p) { return p->a.msgs->len >= 1; }
static bool both_saw_close(pair *p) {
  return p->a.closed_channels >= 1 && p->b.closed_channels >= 1;
}
static void op_send_after_close(void *data) {
  op *o = data;
  o->rc = sb_sctp_send(o->p->a.s, (uint16_t)o->id, false, (const uint8_t *)"late", 4);
}

static void close_scenario(bool from_a) {
  pair *p = pair_new();
  op o = { .p = p, .type = SB_DC_RELIABLE, .count = 3 };
  on_worker(p, op_open, &o);
  on_worker(p, op_send_many, &o);
  want_count = 3;
  g_assert_true(wait_for(p, b_has_all, 5000));
  on_worker(p, op_reply, &o);
  g_assert_cmpint(o.rc, ==, 0);
  g_assert_true(wait_for(p, a_has_one, 5000));
  on_worker(p, from_a ? op_close_a : op_close_b, &o);
  g_assert_true(wait_for(p, both_saw_close, 5000));
  g_assert_cmpint(p->a.last_closed, ==, o.id);
  g_assert_cmpint(p->b.last_closed, ==, o.id);
  on_worker(p, op_send_after_close, &o);
  g_assert_cmpint(o.rc, ==, -1);
  /* The stream id is free again and the association still works. */
  on_worker(p, op_open, &o);
  g_assert_cmpint(o.id, ==, 0);
  o.count = 5;
  on_worker(p, op_send_many, &o);
  want_count = 8;
  g_assert_true(wait_for(p, b_has_all, 5000));
  pair_free(p);
}

static void test_close_from_opener(void) { close_scenario(true); }
static void test_close_from_remote(void) { close_scenario(false); }

/* Garbage before usrsctp, bad DCEP, data on no channel, an oversized message. */
static void op_inject(void *data) {
  op *o = data;
  sb_sctp *b = o->p->b.s;
  static const uint8_t junk[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 0, 0, 3 };
  sb_sctp_input(b, junk, sizeof junk);               /* chunk length 3 */
  sb_sctp_input(b, junk, 7);                          /* shorter than a header */
  static const uint8_t bad_open[] = { SB_DCEP_OPEN, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 'x' };
  sb_sctp_deliver(b, 2, SB_PPID_DCEP, bad_open, sizeof bad_open);  /* label overruns */
  static const uint8_t used_open[] = { SB_DCEP_OPEN, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
  sb_sctp_deliver(b, (uint16_t)o->id, SB_PPID_DCEP, used_open, sizeof used_open); /* in use */
  static const uint8_t ack_none[] = { SB_DCEP_ACK };
  sb_sctp_deliver(b, 1, SB_PPID_DCEP, ack_none, 1);   /* ACK for nothing */
  static const uint8_t unknown[] = { 0x09 };
  sb_sctp_deliver(b, 4, SB_PPID_DCEP, unknown, 1);
  sb_sctp_deliver(b, 40, SB_PPID_STRING, (const uint8_t *)"hi", 2); /* no channel */
  /* Over b's 256 KiB limit: a may send it (it believes b takes 1 MiB). */
  uint8_t *big = g_malloc0(300 * 1024);
  o->rc = sb_sctp_send(o->p->a.s, (uint16_t)o->id, true, big, 300 * 1024);
  g_free(big);
}

static void test_malformed_input(void) {
  pair *p = pair_new();
  op o = { .p = p, .type = SB_DC_RELIABLE, .count = 2 };
  on_worker(p, op_open, &o);
  on_worker(p, op_send_many, &o);
  want_count = 2;
  g_assert_true(wait_for(p, b_has_all, 5000));
  on_worker(p, op_inject, &o);
  g_assert_cmpint(o.rc, ==, 0);
  o.count = 4;   /* the association and the channel go on */
  on_worker(p, op_send_many, &o);
  want_count = 6;
  g_assert_true(wait_for(p, b_has_all, 10000));
  g_assert_cmpuint(p->b.msgs->len, ==, 6);
  sb_sctp_stats st;
  sb_sctp_get_stats(p->b.s, &st);
  g_assert_cmpuint(st.malformed_packets, ==, 2);
  g_assert_cmpuint(st.malformed_dcep, ==, 4);
  g_assert_cmpuint(st.unknown_channel, ==, 1);
  g_assert_cmpuint(st.oversized, ==, 1);
  g_assert_cmpint(p->b.opened, ==, 1);
  pair_free(p);
}

/* b (the DTLS server) opens a channel: odd id, a sees it. */
static void op_open_b(void *data) {
  op *o = data;
  o->id = sb_sctp_channel_open(o->p->b.s, "from-b", "", SB_DC_PARTIAL_RELIABLE_REXMIT, 3, 0);
  o->rc = sb_sctp_send(o->p->b.s, (uint16_t)o->id, false, (const uint8_t *)"", 0);
}
static bool a_opened(pair *p) { return p->a.opened == 1 && p->a.msgs->len == 1; }

static void test_open_from_server(void) {
  pair *p = pair_new();
  op o = { .p = p };
  on_worker(p, op_open_b, &o);
  g_assert_cmpint(o.id, ==, 1);
  g_assert_cmpint(o.rc, ==, 0);
  g_assert_true(wait_for(p, a_opened, 5000));
  g_assert_cmpstr(p->a.opened_label, ==, "from-b");
  gsize n;
  const uint8_t *d = g_bytes_get_data(g_ptr_array_index(p->a.msgs, 0), &n);
  g_assert_cmpuint(n, ==, 1);   /* an empty text message */
  g_assert_cmpint(d[0], ==, 't');
  pair_free(p);
}

/* A client that takes the stream parity from its ICE role (aiortc as the
 * controlling offerer and DTLS client opens on odd streams): b accepts the OPEN,
 * and b's own channels take the other parity. */
static void op_open_wrong_parity(void *data) {
  op *o = data;
  o->p->a.s->dtls_client = false;   /* a allocates odd ids, as aiortc does */
  o->p->a.s->next_stream = 1;
  o->id = sb_sctp_channel_open(o->p->a.s, "aiortc", "", SB_DC_RELIABLE, 0, 0);
  o->rc = sb_sctp_send(o->p->a.s, (uint16_t)o->id, false, (const uint8_t *)"x", 1);
}
static bool b_opened_one(pair *p) { return p->b.opened == 1 && p->b.msgs->len == 1; }

static void test_open_wrong_parity(void) {
  pair *p = pair_new();
  op o = { .p = p };
  on_worker(p, op_open_wrong_parity, &o);
  g_assert_cmpint(o.id, ==, 1);
  g_assert_cmpint(o.rc, ==, 0);
  g_assert_true(wait_for(p, b_opened_one, 5000));
  g_assert_cmpint(p->b.opened_id, ==, 1);
  g_assert_cmpstr(p->b.opened_label, ==, "aiortc");
  op ob = { .p = p };
  on_worker(p, op_open_b, &ob);
  g_assert_cmpint(ob.id, ==, 0);    /* b leaves the remote's parity to the remote */
  g_assert_true(wait_for(p, a_opened, 5000));
  sb_sctp_stats st;
  sb_sctp_get_stats(p->b.s, &st);
  g_assert_cmpuint(st.malformed_dcep, ==, 0);
  pair_free(p);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  sb_workers_start(1);
  g_test_add_func("/dcep/roundtrip", test_dcep_roundtrip);
  g_test_add_func("/dcep/malformed", test_dcep_malformed);
  g_test_add_func("/sctp/packet-check", test_sctp_packet_check);
  g_test_add_func("/sctp/ordered-exchange", test_ordered_exchange);
  g_test_add_func("/sctp/unordered-complete", test_unordered_complete);
  g_test_add_func("/sctp/close-from-opener", test_close_from_opener);
  g_test_add_func("/sctp/close-from-remote", test_close_from_remote);
  g_test_add_func("/sctp/malformed-input", test_malformed_input);
  g_test_add_func("/sctp/open-from-server", test_open_from_server);
  g_test_add_func("/sctp/open-wrong-parity", test_open_wrong_parity);
  int rc = g_test_run();
  sb_workers_stop();
  sb_sctp_global_cleanup();
  return rc;
}
