/* sb-load — a WebRTC load agent on Switchboard's own media stack, for benchmarks.
 *
 * It speaks no signaling itself: a controller (bench/run_bench.py) drives it with
 * one JSON object per line on stdin and reads one JSON object per line on stdout,
 * so the same agent can load any server whose signaling the controller speaks.
 *
 *   {"cmd":"publisher", "video_kbps":1000, "fps":30, "packet_size":1100, "keyint":60,
 *    "pace":2.5, "rtx":false}               -> {"id":1, "offer":"v=0..."}
 *   {"cmd":"answer", "id":1, "sdp":"..."}   -> {"ok":true}    (the server's answer)
 *   {"cmd":"subscriber", "offer":"..."}     -> {"id":2, "answer":"v=0..."}
 *   {"cmd":"candidate", "id":2, "candidate":"candidate:..." | null}  -> {"ok":true}
 *   {"cmd":"start"} / {"cmd":"stop"}        publishers start/stop sending
 *   {"cmd":"stats"}                         -> counters since the last reset
 *   {"cmd":"reset"}                         clears the receive counters
 *   {"cmd":"close", "id":2}                 closes one peer
 *   {"cmd":"quit"}
 * Every reply carries "req" when the command had one, "error" on failure. Events
 * arrive unasked: {"event":"state","id":2,"state":"connected"} and
 * {"event":"candidate","id":2,"candidate":"..."|null,"mid":"0","mline":0}.
 *
 * Media: a publisher sends one VP8-shaped video stream (packet_size-byte RTP
 * packets, a VP8 payload descriptor with a 15-bit PictureID, a frame tag whose P
 * bit marks every keyint-th frame and the frame after a PLI/FIR as a keyframe with
 * the 0x9d012a start code, the marker bit on each frame's last packet; a frame's
 * packets paced at "pace" times the video bitrate, 0 = one burst) and one
 * Opus-sized audio stream (50 packets/s). Every payload ends with a 16-byte trailer:
 * "SBLD", a per-stream sequence number and the monotonic send time (ns). A
 * subscriber reads the trailer of every packet it receives: loss from the trailer
 * sequence numbers, one-way delay from the send time (same host, same clock) to the
 * moment libnice handed the datagram over, in a log-linear histogram (1 us steps up
 * to 1 ms, then 64 steps per power of two).
 *
 * Peers run on the media workers (-w, default 2), like the server's. Options:
 *   -w N                 media worker threads
 *   -o section.key=val   media settings as for switchboard (media.addresses, ports)
 *   -l level             log level on stderr (default warn) */
#include <errno.h>
#include <glib.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/module.h"
#include "core/util.h"
#include "core/worker.h"
#include "media/codec.h"
#include "media/media.h"
#include "media/negotiate.h"
#include "media/peer.h"
#include "media/pktbuf.h"
#include "media/rtp.h"

#define TRAILER_LEN 16
static const uint8_t trailer_magic[4] = { 'S', 'B', 'L', 'D' };

#define VIDEO_PT 96
#define VIDEO_RTX_PT 97
#define AUDIO_PT 111
#define AUDIO_PAYLOAD 100           /* bytes of an "Opus" packet (~40 kbit/s) */

/* --- delay histogram: microseconds, exact below 1024, then 64 steps per octave --- */

#define HIST_LINEAR 1024
#define HIST_SUB 64
#define HIST_OCTAVES 20             /* up to 2^30 us */
#define HIST_BUCKETS (HIST_LINEAR + HIST_OCTAVES * HIST_SUB)

typedef struct hist {
  uint32_t b[HIST_BUCKETS];
  uint64_t count;
  uint64_t max_us;
  double sum_us;
} hist;

static int hist_bucket(uint64_t us) {
  if (us < HIST_LINEAR)
    return (int)us;
  int e = 63 - __builtin_clzll(us); /* >= 10 */
  if (e - 10 >= HIST_OCTAVES)
    return HIST_BUCKETS - 1;
  int sub = (int)((us >> (e - 6)) & (HIST_SUB - 1));
  return HIST_LINEAR + (e - 10) * HIST_SUB + sub;
}

/* The lower bound of a bucket, in microseconds. */
static double hist_value(int b) {
  if (b < HIST_LINEAR)
    return b;
  int e = (b - HIST_LINEAR) / HIST_SUB + 10;
  int sub = (b - HIST_LINEAR) % HIST_SUB;
  return (double)((uint64_t)(HIST_SUB + sub) << (e - 6));
}

static void hist_add(hist *h, int64_t us) {
  if (us < 0)
    us = 0;
  h->b[hist_bucket((uint64_t)us)]++;
  h->count++;
  h->sum_us += (double)us;
  if ((uint64_t)us > h->max_us)
    h->max_us = (uint64_t)us;
}

static void hist_merge(hist *into, const hist *h) {
  for (int i = 0; i < HIST_BUCKETS; i++)
    into->b[i] += h->b[i];
  into->count += h->count;
  into->sum_us += h->sum_us;
  if (h->max_us > into->max_us)
    into->max_us = h->max_us;
}

static double hist_quantile(const hist *h, double q) {
  if (h->count == 0)
    return -1;
  uint64_t rank = (uint64_t)(q * (double)(h->count - 1)) + 1, seen = 0;
  for (int i = 0; i < HIST_BUCKETS; i++) {
    seen += h->b[i];
    if (seen >= rank)
      return hist_value(i);
  }
  return (double)h->max_us;
}

static json_t *hist_json(const hist *h) {
  return json_pack("{s:I, s:f, s:f, s:f, s:f, s:I}", "count", (json_int_t)h->count, "p50_us",
                   hist_quantile(h, 0.50), "p90_us", hist_quantile(h, 0.90), "p99_us",
                   hist_quantile(h, 0.99), "mean_us", h->count ? h->sum_us / (double)h->count : -1.0,
                   "max_us", (json_int_t)h->max_us);
}

/* --- agents --- */

typedef struct rx_stream {
  uint64_t packets;           /* with a valid trailer */
  uint64_t bytes;
  uint64_t foreign;           /* without one (not ours: e.g. a server's probe) */
  uint64_t keyframes;
  bool started;
  uint32_t first_seq;         /* trailer sequence numbers seen in this window */
  uint32_t max_seq;
} rx_stream;

typedef struct agent {
  int id;
  bool publisher;
  sb_worker *worker;
  sb_peer *peer;
  char state[16];

  /* publisher */
  int video_pps_frame;        /* packets per video frame */
  int packet_size;
  int fps;
  int keyint;
  bool rtx;
  sb_offer_section secs[2];
  bool sending;
  GSource *timer;
  uint32_t vssrc, assrc;
  uint16_t vseq, aseq;
  uint32_t vts, ats;
  uint32_t vtrail_seq, atrail_seq;
  uint16_t picture_id;
  uint64_t frame_no;
  int64_t next_video_ns, next_audio_ns;   /* when the next packet is due */
  int64_t frame_start_ns;     /* when the current (or next) video frame started */
  int64_t pace_ns;            /* between the packets of a frame */
  int frame_pkt;              /* packets of the current frame sent so far */
  bool frame_key;
  bool force_key;
  uint64_t sent_video, sent_audio, send_errors, keyframes_sent, keyframe_requests;

  /* subscriber: [0] audio, [1] video */
  rx_stream rx[2];
  hist delay;
  hist delay_kind[2];
} agent;

static GHashTable *agents;    /* id -> agent*, main thread only */
static int next_id = 1;
static GMutex out_lock;
static GMainLoop *main_loop;
static int n_workers = 2;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One JSON object per line on stdout; any thread. Takes the reference. */
static void emit(json_t *j) {
  char *s = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  if (s == NULL)
    return;
  g_mutex_lock(&out_lock);
  fputs(s, stdout);
  fputc('\n', stdout);
  fflush(stdout);
  g_mutex_unlock(&out_lock);
  free(s);
}

/* --- peer callbacks (worker) --- */

static void on_state(sb_peer *p, sb_peer_state state, const char *reason, void *ud) {
  agent *a = ud;
  g_strlcpy(a->state, sb_peer_state_name(state), sizeof a->state);
  json_t *e = json_pack("{s:s, s:i, s:s}", "event", "state", "id", a->id, "state", a->state);
  if (reason)
    json_object_set_new(e, "reason", json_string(reason));
  emit(e);
  if (state == SB_PEER_FAILED || state == SB_PEER_CLOSED) {
    a->sending = false;
    sb_peer_close(p);
  }
}

static void on_candidate(sb_peer *p, const char *c, const char *mid, int mline, void *ud) {
  agent *a = ud;
  emit(json_pack("{s:s, s:i, s:s?, s:s?, s:i}", "event", "candidate", "id", a->id, "candidate", c,
                 "mid", mid, "mline", mline));
}

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static void on_rtp(sb_peer *p, sb_stream_in *in, sb_pktbuf *pkt, const sb_rtp_view *v, void *ud) {
  agent *a = ud;
  int k = in->kind == SB_MEDIA_VIDEO ? 1 : 0;
  rx_stream *r = &a->rx[k];
  const uint8_t *pl = pkt->data + v->header_len;
  if (v->payload_len < TRAILER_LEN ||
      memcmp(pl + v->payload_len - TRAILER_LEN, trailer_magic, 4) != 0) {
    r->foreign++;
    return;
  }
  const uint8_t *t = pl + v->payload_len - TRAILER_LEN;
  uint32_t seq = rd32(t + 4);
  int64_t sent = (int64_t)((uint64_t)rd32(t + 8) << 32 | rd32(t + 12));
  /* pkt->arrival_us: when libnice handed the datagram over (g_get_monotonic_time,
   * CLOCK_MONOTONIC like now_ns), before our own SRTP work. */
  int64_t delay_us = pkt->arrival_us - sent / 1000;
  if (!r->started) {
    r->started = true;
    r->first_seq = r->max_seq = seq;
  } else if ((int32_t)(seq - r->max_seq) > 0) {
    r->max_seq = seq;
  } else if ((int32_t)(seq - r->first_seq) < 0) {
    r->first_seq = seq; /* reordered across the window start */
  }
  r->packets++;
  r->bytes += pkt->len;
  if (k == 1 && sb_codec_is_keyframe(SB_CODEC_VP8, pl, v->payload_len))
    r->keyframes++;
  hist_add(&a->delay, delay_us);
  hist_add(&a->delay_kind[k], delay_us);
}

static void on_keyframe_request(sb_peer *p, sb_stream_out *out, void *ud) {
  agent *a = ud;
  if (out->kind == SB_MEDIA_VIDEO) {
    a->force_key = true;
    a->keyframe_requests++;
  }
}

static const sb_peer_handler handler = {
  .on_state = on_state,
  .on_candidate = on_candidate,
  .on_rtp = on_rtp,
  .on_keyframe_request = on_keyframe_request,
};

/* --- the publisher's media (worker) --- */

static void put_trailer(uint8_t *end, uint32_t seq, int64_t t) {
  uint8_t *p = end - TRAILER_LEN;
  memcpy(p, trailer_magic, 4);
  wr32(p + 4, seq);
  wr32(p + 8, (uint32_t)((uint64_t)t >> 32));
  wr32(p + 12, (uint32_t)t);
}

static void rtp_header(uint8_t *b, bool marker, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc) {
  b[0] = 0x80;
  b[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
  b[2] = (uint8_t)(seq >> 8);
  b[3] = (uint8_t)seq;
  wr32(b + 4, ts);
  wr32(b + 8, ssrc);
}

static void send_packet(agent *a, sb_stream_out *out, sb_pktbuf *pkt) {
  sb_rtp_view v;
  if (sb_rtp_parse(pkt->data, pkt->len, &v) != SB_RTP_OK ||
      sb_peer_send_rtp(a->peer, out, pkt, &v) != 0)
    a->send_errors++;
}

/* Sends the next packet of the current video frame (starting a frame when none is
 * under way). Returns true when that packet ended the frame. */
static bool send_video_packet(agent *a, sb_stream_out *out) {
  if (a->frame_pkt == 0) {
    a->frame_key = a->force_key || a->keyint <= 1 || a->frame_no % (uint64_t)a->keyint == 0;
    a->force_key = false;
    a->picture_id = (uint16_t)((a->picture_id + 1) & 0x7FFF);
  }
  int i = a->frame_pkt, n = a->video_pps_frame;
  int size = a->packet_size;
  sb_pktbuf *pkt = sb_pktbuf_get(sb_media_pool());
  uint8_t *b = pkt->data;
  rtp_header(b, i == n - 1, VIDEO_PT, a->vseq++, a->vts, a->vssrc);
  uint8_t *pl = b + SB_RTP_HEADER_LEN;
  /* RFC 7741 §4.2: X=1, S on the first packet, PID 0; I=1 with a 15-bit PictureID. */
  pl[0] = (uint8_t)(0x80 | (i == 0 ? 0x10 : 0));
  pl[1] = 0x80;
  pl[2] = (uint8_t)(0x80 | (a->picture_id >> 8));
  pl[3] = (uint8_t)a->picture_id;
  int plen = size - SB_RTP_HEADER_LEN;
  memset(pl + 4, 0x5A, (size_t)(plen - 4));
  if (i == 0) {
    /* RFC 6386 §9.1 frame tag: P (0 = key frame), version 0, show_frame,
     * first partition size; a key frame adds the start code and 640x480. */
    uint32_t part = (uint32_t)(plen - 4) & 0x7FFFF;
    uint32_t tag = (a->frame_key ? 0u : 1u) | (1u << 4) | (part << 5);
    pl[4] = (uint8_t)tag;
    pl[5] = (uint8_t)(tag >> 8);
    pl[6] = (uint8_t)(tag >> 16);
    if (a->frame_key) {
      static const uint8_t kf[7] = { 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01 };
      memcpy(pl + 7, kf, sizeof kf);
    }
  }
  pkt->len = (uint16_t)size;
  put_trailer(b + size, a->vtrail_seq++, now_ns());
  send_packet(a, out, pkt);
  sb_pktbuf_unref(pkt);
  a->sent_video++;
  if (++a->frame_pkt < n)
    return false;
  if (a->frame_key)
    a->keyframes_sent++;
  a->frame_pkt = 0;
  a->frame_no++;
  a->vts += 90000u / (uint32_t)a->fps;
  return true;
}

static void send_audio(agent *a, sb_stream_out *out) {
  sb_pktbuf *pkt = sb_pktbuf_get(sb_media_pool());
  uint8_t *b = pkt->data;
  rtp_header(b, false, AUDIO_PT, a->aseq++, a->ats, a->assrc);
  memset(b + SB_RTP_HEADER_LEN, 0x33, AUDIO_PAYLOAD);
  b[SB_RTP_HEADER_LEN] = 0x78; /* an Opus TOC byte: CELT FB 20 ms */
  int len = SB_RTP_HEADER_LEN + AUDIO_PAYLOAD;
  pkt->len = (uint16_t)len;
  put_trailer(b + len, a->atrail_seq++, now_ns());
  send_packet(a, out, pkt);
  sb_pktbuf_unref(pkt);
  a->sent_audio++;
  a->ats += 960;
}

static void arm_timer(agent *a);

static gboolean media_tick(gpointer data) {
  agent *a = data;
  g_source_unref(a->timer);
  a->timer = NULL;
  if (!a->sending || sb_peer_get_state(a->peer) != SB_PEER_CONNECTED)
    return G_SOURCE_REMOVE;
  int64_t now = now_ns();
  int64_t frame_ns = 1000000000LL / a->fps;
  sb_stream_out *vout = NULL, *aout = NULL;
  for (int i = 0; i < sb_peer_media_count(a->peer); i++) {
    sb_stream_out *o = sb_peer_stream_out(a->peer, i);
    if (o && o->kind == SB_MEDIA_VIDEO && !vout)
      vout = o;
    else if (o && o->kind == SB_MEDIA_AUDIO && !aout)
      aout = o;
  }
  /* A frame's packets go out pace_ns apart (0: in one burst); frames start every
   * frame_ns. Catch up at most a few frames after a stall, then resynchronise. */
  for (int k = 0; k < 4 * a->video_pps_frame && vout && now >= a->next_video_ns; k++) {
    if (send_video_packet(a, vout)) {
      a->frame_start_ns += frame_ns;
      if (now - a->frame_start_ns > 4 * frame_ns)
        a->frame_start_ns = now;
      a->next_video_ns = a->frame_start_ns;
    } else {
      a->next_video_ns += a->pace_ns;
    }
  }
  for (int k = 0; k < 4 && aout && now >= a->next_audio_ns; k++) {
    send_audio(a, aout);
    a->next_audio_ns += 20000000;
  }
  if (now - a->next_audio_ns > 80000000)
    a->next_audio_ns = now + 20000000;
  arm_timer(a);
  return G_SOURCE_REMOVE;
}

static void arm_timer(agent *a) {
  int64_t next = MIN(a->next_video_ns, a->next_audio_ns);
  int64_t wait = next - now_ns();
  guint ms = wait <= 0 ? 0 : (guint)((wait + 999999) / 1000000);
  a->timer = g_timeout_source_new(ms);
  g_source_set_priority(a->timer, G_PRIORITY_HIGH);
  g_source_set_callback(a->timer, media_tick, a, NULL);
  g_source_attach(a->timer, sb_worker_context(a->worker));
}

/* --- commands (run on the agent's worker through sb_worker_call_sync) --- */

typedef struct job {
  agent *a;
  json_t *cmd;
  json_t *reply;
} job;

static void job_fail(job *j, const char *msg) {
  json_object_set_new(j->reply, "error", json_string(msg));
}

static void do_publisher(void *data) {
  job *j = data;
  agent *a = j->a;
  a->peer = sb_peer_new("publisher", &handler, a);
  a->vssrc = sb_random_u32() | 1;
  a->assrc = sb_random_u32() | 1;
  a->vseq = (uint16_t)sb_random_u32();
  a->aseq = (uint16_t)sb_random_u32();
  a->vts = sb_random_u32();
  a->ats = sb_random_u32();

  sb_offer_section *v = &a->secs[0], *s = &a->secs[1];
  memset(a->secs, 0, sizeof a->secs);
  v->kind = SB_MEDIA_VIDEO;
  g_strlcpy(v->mid, "0", sizeof v->mid);
  v->dir = SB_DIR_SENDONLY;
  v->codec_count = 1;
  v->codecs[0] = (sb_codec_desc){ .pt = VIDEO_PT, .codec = SB_CODEC_VP8, .clock_rate = 90000,
                                  .rtx_pt = a->rtx ? VIDEO_RTX_PT : 0, .fb_nack = true,
                                  .fb_pli = true, .fb_fir = true, .fb_remb = true };
  v->ssrc = a->vssrc;
  v->rtx_ssrc = a->rtx ? (sb_random_u32() | 1) : 0;
  g_snprintf(v->msid, sizeof v->msid, "sbload sbload-video");

  s->kind = SB_MEDIA_AUDIO;
  g_strlcpy(s->mid, "1", sizeof s->mid);
  s->dir = SB_DIR_SENDONLY;
  s->codec_count = 1;
  s->codecs[0] = (sb_codec_desc){ .pt = AUDIO_PT, .codec = SB_CODEC_OPUS, .clock_rate = 48000,
                                  .channels = 2 };
  g_strlcpy(s->codecs[0].fmtp, "minptime=10;useinbandfec=1", sizeof s->codecs[0].fmtp);
  s->ssrc = a->assrc;
  g_snprintf(s->msid, sizeof s->msid, "sbload sbload-audio");

  char *offer = NULL, *msg = NULL;
  if (sb_peer_create_offer(a->peer, a->secs, 2, &offer, &msg) != 0) {
    job_fail(j, msg ? msg : "offer failed");
    g_free(msg);
    return;
  }
  json_object_set_new(j->reply, "offer", json_string(offer));
  g_free(offer);
}

static void do_answer(void *data) {
  job *j = data;
  const char *sdp = json_string_value(json_object_get(j->cmd, "sdp"));
  char *msg = NULL;
  if (sdp == NULL) {
    job_fail(j, "sdp missing");
  } else if (sb_peer_accept_answer(j->a->peer, sdp, strlen(sdp), &msg) != 0) {
    job_fail(j, msg ? msg : "answer refused");
    g_free(msg);
  } else {
    /* The outbound streams exist once the answer is applied: our packets keep
     * their payload types (and carry no header extensions). */
    sb_peer *p = j->a->peer;
    for (int i = 0; i < sb_peer_media_count(p); i++) {
      sb_stream_out *out = sb_peer_stream_out(p, i);
      if (out)
        sb_stream_out_map_identity(out, sb_peer_media(p, i));
    }
    json_object_set_new(j->reply, "ok", json_true());
  }
}

static void do_subscriber(void *data) {
  job *j = data;
  agent *a = j->a;
  const char *sdp = json_string_value(json_object_get(j->cmd, "offer"));
  char name[32];
  g_snprintf(name, sizeof name, "subscriber %d", a->id);
  a->peer = sb_peer_new(name, &handler, a);
  sb_caps caps = { .can_recv = true, .rtx = true };
  caps.audio[caps.audio_count++] = SB_CODEC_OPUS;
  caps.video[caps.video_count++] = SB_CODEC_VP8;
  char *answer = NULL, *msg = NULL;
  if (sdp == NULL) {
    job_fail(j, "offer missing");
  } else if (sb_peer_accept_offer(a->peer, sdp, strlen(sdp), &caps, &answer, &msg) != 0) {
    job_fail(j, msg ? msg : "offer refused");
    g_free(msg);
  } else {
    json_object_set_new(j->reply, "answer", json_string(answer));
    g_free(answer);
  }
}

static void do_candidate(void *data) {
  job *j = data;
  json_t *c = json_object_get(j->cmd, "candidate");
  char *msg = NULL;
  if (sb_peer_add_remote_candidate(j->a->peer, json_is_string(c) ? json_string_value(c) : NULL,
                                   &msg) != 0) {
    job_fail(j, msg ? msg : "candidate refused");
    g_free(msg);
  } else {
    json_object_set_new(j->reply, "ok", json_true());
  }
}

static void do_close(void *data) {
  job *j = data;
  agent *a = j->a;
  a->sending = false;
  if (a->timer) {
    g_source_destroy(a->timer);
    g_source_unref(a->timer);
    a->timer = NULL;
  }
  if (a->peer) {
    sb_peer_close(a->peer);
    sb_peer_unref(a->peer);
    a->peer = NULL;
  }
}

/* Per-worker passes over every agent. */
typedef struct pass {
  sb_worker *w;
  void (*fn)(agent *a, struct pass *ps);
  bool start;
  /* stats */
  json_t *subs;
  json_t *pubs;
  hist all, kind[2];
  uint64_t packets[2], lost[2], bytes[2], foreign, keyframes, drops_srtp, drops_other;
  int connected, total;
} pass;

static void each_on_worker(void *data) {
  pass *ps = data;
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, agents);
  while (g_hash_table_iter_next(&it, NULL, &v)) {
    agent *a = v;
    if (a->worker == ps->w && a->peer)
      ps->fn(a, ps);
  }
}

static void run_pass(pass *ps) {
  for (int i = 0; i < sb_worker_count(); i++) {
    ps->w = sb_worker_get(i);
    sb_worker_call_sync(ps->w, each_on_worker, ps);
  }
}

static void start_one(agent *a, pass *ps) {
  if (!a->publisher)
    return;
  if (ps->start && !a->sending) {
    a->sending = true;
    a->force_key = true;
    int64_t now = now_ns();
    a->next_video_ns = now;
    a->frame_start_ns = now;
    a->frame_pkt = 0;
    a->next_audio_ns = now;
    if (!a->timer)
      arm_timer(a);
  } else if (!ps->start) {
    a->sending = false;
  }
}

static void reset_one(agent *a, pass *ps) {
  memset(a->rx, 0, sizeof a->rx);
  memset(&a->delay, 0, sizeof a->delay);
  memset(a->delay_kind, 0, sizeof a->delay_kind);
  a->sent_video = a->sent_audio = a->send_errors = a->keyframes_sent = a->keyframe_requests = 0;
}

/* The SRTP profile DTLS chose, "" before it connected. */
static json_t *srtp_profile(sb_peer *p) {
  json_t *st = sb_peer_stats_json(p);
  json_t *v = json_object_get(st, "srtp_profile");
  json_t *r = json_string(json_is_string(v) ? json_string_value(v) : "");
  json_decref(st);
  return r;
}

static void stats_one(agent *a, pass *ps) {
  if (a->publisher) {
    json_array_append_new(ps->pubs,
        json_pack("{s:i, s:s, s:I, s:I, s:I, s:I, s:I}", "id", a->id, "state", a->state,
                  "sent_video", (json_int_t)a->sent_video, "sent_audio", (json_int_t)a->sent_audio,
                  "send_errors", (json_int_t)a->send_errors, "keyframes",
                  (json_int_t)a->keyframes_sent, "keyframe_requests",
                  (json_int_t)a->keyframe_requests));
    json_object_set_new(json_array_get(ps->pubs, json_array_size(ps->pubs) - 1), "srtp",
                        srtp_profile(a->peer));
    return;
  }
  ps->total++;
  if (sb_peer_get_state(a->peer) == SB_PEER_CONNECTED)
    ps->connected++;
  uint64_t lost[2] = { 0, 0 };
  for (int k = 0; k < 2; k++) {
    const rx_stream *r = &a->rx[k];
    if (r->started) {
      uint64_t expected = (uint64_t)(r->max_seq - r->first_seq) + 1;
      lost[k] = expected > r->packets ? expected - r->packets : 0;
    }
    ps->packets[k] += r->packets;
    ps->bytes[k] += r->bytes;
    ps->lost[k] += lost[k];
    ps->foreign += r->foreign;
    hist_merge(&ps->kind[k], &a->delay_kind[k]);
  }
  ps->keyframes += a->rx[1].keyframes;
  hist_merge(&ps->all, &a->delay);
  const sb_peer_drops *d = sb_peer_get_drops(a->peer);
  ps->drops_srtp += d->srtp_failed;
  ps->drops_other += d->not_connected + d->malformed_rtp + d->malformed_rtcp + d->unknown_ssrc +
                     d->unknown_pt + d->oversized + d->unknown_class;
  json_array_append_new(ps->subs,
      json_pack("{s:i, s:s, s:I, s:I, s:I, s:I, s:I, s:f, s:f}", "id", a->id, "state", a->state,
                "video", (json_int_t)a->rx[1].packets, "audio", (json_int_t)a->rx[0].packets,
                "video_lost", (json_int_t)lost[1], "audio_lost", (json_int_t)lost[0],
                "keyframes", (json_int_t)a->rx[1].keyframes, "p50_us",
                hist_quantile(&a->delay, 0.5), "p99_us", hist_quantile(&a->delay, 0.99)));
  json_object_set_new(json_array_get(ps->subs, json_array_size(ps->subs) - 1), "srtp",
                      srtp_profile(a->peer));
}

/* --- the command loop (main thread) --- */

static agent *agent_new(bool publisher) {
  agent *a = g_new0(agent, 1);
  a->id = next_id++;
  a->publisher = publisher;
  a->worker = sb_worker_pick();
  g_strlcpy(a->state, "new", sizeof a->state);
  g_hash_table_insert(agents, GINT_TO_POINTER(a->id), a);
  return a;
}

static void agent_drop(agent *a) {
  job j = { .a = a };
  sb_worker_call_sync(a->worker, do_close, &j);
  g_hash_table_remove(agents, GINT_TO_POINTER(a->id));
}

static void agent_free(gpointer data) { g_free(data); }

static int json_int_or(json_t *o, const char *key, int def, int min, int max) {
  json_t *v = json_object_get(o, key);
  if (!json_is_integer(v))
    return def;
  json_int_t x = json_integer_value(v);
  return x < min ? min : x > max ? max : (int)x;
}

static json_t *rusage_json(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return json_pack("{s:f, s:f, s:I}", "utime_s",
                   (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6, "stime_s",
                   (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6, "maxrss_kb",
                   (json_int_t)ru.ru_maxrss);
}

static json_t *stats_reply(void) {
  pass *ps = g_new0(pass, 1); /* histograms are large: not on the stack */
  ps->fn = stats_one;
  ps->subs = json_array();
  ps->pubs = json_array();
  run_pass(ps);
  uint64_t packets = ps->packets[0] + ps->packets[1], lost = ps->lost[0] + ps->lost[1];
  json_t *r = json_pack(
      "{s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o}",
      "subscribers", ps->total, "connected", ps->connected, "packets", (json_int_t)packets,
      "video_packets", (json_int_t)ps->packets[1], "audio_packets", (json_int_t)ps->packets[0],
      "bytes", (json_int_t)(ps->bytes[0] + ps->bytes[1]), "lost", (json_int_t)lost,
      "video_lost", (json_int_t)ps->lost[1], "foreign", (json_int_t)ps->foreign, "keyframes",
      (json_int_t)ps->keyframes, "drops_srtp", (json_int_t)ps->drops_srtp, "drops_other",
      (json_int_t)ps->drops_other, "delay", hist_json(&ps->all), "delay_video",
      hist_json(&ps->kind[1]), "delay_audio", hist_json(&ps->kind[0]), "per_subscriber", ps->subs,
      "publishers", ps->pubs, "rusage", rusage_json());
  g_free(ps);
  return r;
}

static json_t *handle(json_t *cmd, bool *quit) {
  json_t *reply = json_object();
  json_t *req = json_object_get(cmd, "req");
  if (req)
    json_object_set(reply, "req", req);
  const char *name = json_string_value(json_object_get(cmd, "cmd"));
  if (name == NULL) {
    json_object_set_new(reply, "error", json_string("no cmd"));
    return reply;
  }
  agent *a = NULL;
  json_t *idv = json_object_get(cmd, "id");
  if (json_is_integer(idv))
    a = g_hash_table_lookup(agents, GINT_TO_POINTER((int)json_integer_value(idv)));
  job j = { .cmd = cmd, .reply = reply };

  if (strcmp(name, "publisher") == 0) {
    a = agent_new(true);
    int kbps = json_int_or(cmd, "video_kbps", 1000, 50, 50000);
    a->fps = json_int_or(cmd, "fps", 30, 1, 120);
    a->packet_size = json_int_or(cmd, "packet_size", 1100, 200, 1200);
    a->keyint = json_int_or(cmd, "keyint", 60, 1, 100000);
    a->rtx = json_is_true(json_object_get(cmd, "rtx"));
    int per_frame = (int)((kbps * 1000.0 / 8 / a->fps) / a->packet_size + 0.5);
    a->video_pps_frame = per_frame < 1 ? 1 : per_frame;
    /* Like WebRTC's pacer: a frame's packets leave at pace x the video bitrate
     * (default 2.5), so 4 packets of 1100 bytes at 1 Mbit/s are 3.5 ms apart;
     * 0 sends each frame in one burst. */
    json_t *pace = json_object_get(cmd, "pace");
    double factor = json_is_number(pace) ? json_number_value(pace) : 2.5;
    a->pace_ns = factor > 0 ? (int64_t)(a->packet_size * 8 * 1e9 / (factor * kbps * 1000.0)) : 0;
    j.a = a;
    sb_worker_call_sync(a->worker, do_publisher, &j);
    json_object_set_new(reply, "id", json_integer(a->id));
    json_object_set_new(reply, "video_pps", json_integer(a->video_pps_frame * a->fps));
    json_object_set_new(reply, "pace_us", json_integer(a->pace_ns / 1000));
    if (json_object_get(reply, "error"))
      agent_drop(a);
  } else if (strcmp(name, "subscriber") == 0) {
    a = agent_new(false);
    j.a = a;
    sb_worker_call_sync(a->worker, do_subscriber, &j);
    json_object_set_new(reply, "id", json_integer(a->id));
    if (json_object_get(reply, "error"))
      agent_drop(a);
  } else if (strcmp(name, "answer") == 0 || strcmp(name, "candidate") == 0) {
    if (a == NULL || a->peer == NULL) {
      json_object_set_new(reply, "error", json_string("no such id"));
    } else {
      j.a = a;
      sb_worker_call_sync(a->worker, name[0] == 'a' ? do_answer : do_candidate, &j);
    }
  } else if (strcmp(name, "close") == 0) {
    if (a == NULL) {
      json_object_set_new(reply, "error", json_string("no such id"));
    } else {
      agent_drop(a);
      json_object_set_new(reply, "ok", json_true());
    }
  } else if (strcmp(name, "start") == 0 || strcmp(name, "stop") == 0) {
    pass ps = { .fn = start_one, .start = name[2] == 'a' };
    run_pass(&ps);
    json_object_set_new(reply, "ok", json_true());
  } else if (strcmp(name, "reset") == 0) {
    pass ps = { .fn = reset_one };
    run_pass(&ps);
    json_object_set_new(reply, "ok", json_true());
  } else if (strcmp(name, "stats") == 0) {
    json_t *s = stats_reply();
    json_object_update(reply, s);
    json_decref(s);
  } else if (strcmp(name, "quit") == 0) {
    *quit = true;
    json_object_set_new(reply, "ok", json_true());
  } else {
    json_object_set_new(reply, "error", json_string("unknown cmd"));
  }
  return reply;
}

static gboolean on_stdin(GIOChannel *ch, GIOCondition cond, gpointer data) {
  char *line = NULL;
  gsize len = 0;
  GError *err = NULL;
  GIOStatus st = g_io_channel_read_line(ch, &line, &len, NULL, &err);
  if (st == G_IO_STATUS_AGAIN)
    return G_SOURCE_CONTINUE;
  if (st != G_IO_STATUS_NORMAL) {
    if (err)
      g_error_free(err);
    g_free(line);
    g_main_loop_quit(main_loop);
    return G_SOURCE_REMOVE;
  }
  g_strstrip(line);
  bool quit = false;
  if (*line) {
    json_error_t jerr;
    json_t *cmd = json_loads(line, 0, &jerr);
    if (!json_is_object(cmd)) {
      emit(json_pack("{s:s}", "error", jerr.text));
    } else {
      emit(handle(cmd, &quit));
    }
    json_decref(cmd);
  }
  g_free(line);
  if (quit) {
    g_main_loop_quit(main_loop);
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static void close_all(void) {
  GList *ids = g_hash_table_get_values(agents);
  for (GList *l = ids; l; l = l->next) {
    agent *a = l->data;
    job j = { .a = a };
    sb_worker_call_sync(a->worker, do_close, &j);
  }
  g_list_free(ids);
}

int main(int argc, char **argv) {
  char **overrides = NULL;
  char *level = NULL;
  GOptionEntry entries[] = {
    { "workers", 'w', 0, G_OPTION_ARG_INT, &n_workers, "Media worker threads (default 2)", "N" },
    { "option", 'o', 0, G_OPTION_ARG_STRING_ARRAY, &overrides,
      "Media setting, as for switchboard (repeatable)", "SECTION.KEY=VALUE" },
    { "log-level", 'l', 0, G_OPTION_ARG_STRING, &level, "Log level on stderr (default warn)", "LEVEL" },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  GOptionContext *octx = g_option_context_new("- WebRTC load agent driven by JSON lines on stdin");
  g_option_context_add_main_entries(octx, entries, NULL);
  GError *err = NULL;
  if (!g_option_context_parse(octx, &argc, &argv, &err)) {
    fprintf(stderr, "sb-load: %s\n", err->message);
    g_error_free(err);
    g_option_context_free(octx);
    return 2;
  }
  g_option_context_free(octx);
  int lv = sb_log_level_parse(level ? level : "warn");
  sb_log_init(lv < 0 ? SB_LOG_WARN : (sb_log_level)lv, false);
  sb_config *cfg = sb_config_new();
  for (char **o = overrides; o && *o; o++) {
    char *cerr = NULL;
    if (!sb_config_set_override(cfg, *o, &cerr)) {
      fprintf(stderr, "sb-load: %s\n", cerr);
      g_free(cerr);
      sb_config_free(cfg);
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  agents = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, agent_free);
  main_loop = g_main_loop_new(NULL, FALSE);
  sb_workers_start(n_workers);
  if (sb_modules_start(cfg) != 0) {
    sb_workers_stop();
    sb_config_free(cfg);
    return 1;
  }
  GIOChannel *ch = g_io_channel_unix_new(STDIN_FILENO);
  g_io_channel_set_encoding(ch, NULL, NULL);
  /* The watch removes itself on quit or end of input. */
  g_io_add_watch(ch, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, NULL);
  emit(json_pack("{s:s, s:i, s:i}", "event", "ready", "pid", (int)getpid(), "workers",
                 sb_worker_count()));
  g_main_loop_run(main_loop);
  g_io_channel_unref(ch);
  close_all();
  sb_modules_stop();
  sb_workers_stop();
  g_hash_table_destroy(agents);
  g_main_loop_unref(main_loop);
  sb_config_free(cfg);
  g_strfreev(overrides);
  g_free(level);
  return 0;
}
