/* Unit tests for media/negotiate: the answers Switchboard gives to the real offers
 * of tests/fixtures/sdp (Chromium, Firefox, aiortc) with echotest-like caps, and
 * the descriptions the peer builds its streams from. Every answer is written to
 * text and parsed again, so what is checked is what the browser would receive.
 * Hand-made offers cover the refusals (each with its SB_ERR_* code) and the caps
 * that narrow or reorder codecs. */
#include "media/negotiate.h"

#include <stdlib.h>
#include <string.h>

#include "core/session.h"
#include "media/codec.h"
#include "media/sdp.h"

#ifndef SB_SRCDIR
#define SB_SRCDIR "."
#endif

#define LOCAL_UFRAG "sbU1"
#define LOCAL_PWD "sbLocalIcePassword0123456"
#define LOCAL_FP                                                                              \
  "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:" \
  "CD:EF"
#define LOCAL_CNAME "sb-cname"
#define LOCAL_STREAM "sb-stream"

static char *local_candidates[] = {
  "candidate:1 1 udp 2130706431 192.0.2.10 40000 typ host",
  "candidate:2 1 udp 1694498815 198.51.100.7 40000 typ srflx raddr 192.0.2.10 rport 40000",
  NULL,
};

/* ---- helpers ------------------------------------------------------------ */

static char *load_fixture(const char *name, gsize *len) {
  const char *dir = g_getenv("SB_FIXTURES");
  char *path = dir ? g_build_filename(dir, "sdp", name, NULL)
                   : g_build_filename(SB_SRCDIR, "tests", "fixtures", "sdp", name, NULL);
  char *text = NULL;
  GError *err = NULL;
  if (!g_file_get_contents(path, &text, len, &err))
    g_error("cannot read fixture %s: %s", path, err->message);
  g_free(path);
  return text;
}

static sb_sdp *parse_ok(const char *text, size_t len) {
  sb_sdp *sdp = NULL;
  char *err = NULL;
  char *copy = g_memdup2(text, len);
  if (sb_sdp_parse(copy, len, &sdp, &err) != 0)
    g_error("SDP does not parse: %s\n%.*s", err, (int)len, text);
  g_free(copy);
  return sdp;
}

/* The caps of plugins/echotest. */
static sb_caps echo_caps(void) {
  return (sb_caps){
    .can_send = true,
    .can_recv = true,
    .keep_offer_order = true,
    .rtx = true,
    .remb = true,
  };
}

static sb_local_transport local_transport(sb_setup setup) {
  return (sb_local_transport){
    .ufrag = LOCAL_UFRAG,
    .pwd = LOCAL_PWD,
    .fingerprint = LOCAL_FP,
    .setup = setup,
    .candidates = local_candidates,
    .end_of_candidates = true,
    .cname = LOCAL_CNAME,
    .msid_stream = LOCAL_STREAM,
  };
}

typedef struct negotiated {
  sb_sdp *offer;
  sb_remote_transport rt;
  sb_setup setup;     /* ours, as the peer picks it from the offer */
  sb_sdp *answer;     /* the tree sb_negotiate_answer built */
  char *text;         /* written */
  sb_sdp *parsed;     /* the text parsed again: what the remote sees */
  GPtrArray *descs;
} negotiated;

/* Negotiates like media/peer.c: check, pick our DTLS role, answer, then write the
 * answer and parse it back. */
static void negotiate_text(negotiated *n, const char *text, size_t len, const sb_caps *caps) {
  memset(n, 0, sizeof *n);
  n->offer = parse_ok(text, len);
  char *msg = NULL;
  int rc = sb_negotiate_check_offer(n->offer, &n->rt, &msg);
  if (rc != 0)
    g_error("offer refused by the check (%d): %s", rc, msg);
  n->setup = sb_negotiate_answer_setup(n->rt.setup);
  sb_local_transport lt = local_transport(n->setup);
  rc = sb_negotiate_answer(n->offer, caps, &lt, &n->answer, &n->descs, &msg);
  if (rc != 0)
    g_error("offer refused (%d): %s", rc, msg);
  g_assert_null(msg);
  n->text = sb_sdp_write(n->answer);
  n->parsed = parse_ok(n->text, strlen(n->text));
  g_assert_cmpuint(n->descs->len, ==, n->offer->media->len);
}

static void negotiate_fixture(negotiated *n, const char *name, const sb_caps *caps) {
  gsize len;
  char *text = load_fixture(name, &len);
  negotiate_text(n, text, len, caps);
  g_free(text);
}

static void negotiated_clear(negotiated *n) {
  sb_sdp_free(n->offer);
  sb_sdp_free(n->answer);
  sb_sdp_free(n->parsed);
  g_free(n->text);
  if (n->descs)
    g_ptr_array_unref(n->descs);
  memset(n, 0, sizeof *n);
}

/* Expects refusal: returns the code; the outputs stay untouched, msg says why. */
static int negotiate_err(const char *text, const sb_caps *caps) {
  sb_sdp *offer = parse_ok(text, strlen(text));
  sb_local_transport lt = local_transport(SB_SETUP_PASSIVE);
  sb_sdp *answer = NULL;
  GPtrArray *descs = NULL;
  char *msg = NULL;
  int rc = sb_negotiate_answer(offer, caps, &lt, &answer, &descs, &msg);
  g_assert_cmpint(rc, !=, 0);
  g_assert_null(answer);
  g_assert_null(descs);
  g_assert_nonnull(msg);
  g_assert_cmpuint(strlen(msg), >, 0);
  g_test_message("refused with %d: %s", rc, msg);
  g_free(msg);
  /* The check alone gives the same code for transport problems. */
  sb_remote_transport rt;
  msg = NULL;
  int check = sb_negotiate_check_offer(offer, &rt, &msg);
  if (check != 0) {
    g_assert_cmpint(check, ==, rc);
    g_assert_nonnull(msg);
  }
  g_free(msg);
  sb_sdp_free(offer);
  return rc;
}

static const sb_sdp_media *media_at(const sb_sdp *sdp, guint i) {
  g_assert_cmpuint(i, <, sdp->media->len);
  return g_ptr_array_index(sdp->media, i);
}

static const sb_media_desc *desc_at(const negotiated *n, guint i) {
  g_assert_cmpuint(i, <, n->descs->len);
  return g_ptr_array_index(n->descs, i);
}

static bool has_fb(const sb_sdp_codec *c, const char *fb) {
  for (guint i = 0; c->rtcp_fb && i < c->rtcp_fb->len; i++)
    if (g_ascii_strcasecmp(g_ptr_array_index(c->rtcp_fb, i), fb) == 0)
      return true;
  return false;
}

static int apt_of(const sb_sdp_codec *c) {
  char v[16];
  if (c->fmtp == NULL || !sb_fmtp_get(c->fmtp, "apt", v, sizeof v))
    return -1;
  return atoi(v);
}

static bool is_rtx(const sb_sdp_codec *c) {
  return c->encoding && sb_codec_from_name(c->encoding) == SB_CODEC_RTX;
}

static bool kind_is_rtp(sb_media_kind k) { return k == SB_MEDIA_AUDIO || k == SB_MEDIA_VIDEO; }

static bool caps_accept(const sb_caps *caps, sb_media_kind kind, sb_codec_id id) {
  if (!sb_codec_is_media(id))
    return false;
  if (kind == SB_MEDIA_AUDIO ? !sb_codec_is_audio(id) : !sb_codec_is_video(id))
    return false;
  int n = kind == SB_MEDIA_AUDIO ? caps->audio_count : caps->video_count;
  const sb_codec_id *list = kind == SB_MEDIA_AUDIO ? caps->audio : caps->video;
  for (int i = 0; i < n; i++)
    if (list[i] == id)
      return true;
  return n == 0;
}

static sb_direction expected_direction(sb_direction offered, const sb_caps *caps) {
  bool they_send = offered == SB_DIR_SENDRECV || offered == SB_DIR_SENDONLY;
  bool they_recv = offered == SB_DIR_SENDRECV || offered == SB_DIR_RECVONLY;
  bool we_send = they_recv && caps->can_send, we_recv = they_send && caps->can_recv;
  return we_send && we_recv ? SB_DIR_SENDRECV
         : we_send          ? SB_DIR_SENDONLY
         : we_recv          ? SB_DIR_RECVONLY
                            : SB_DIR_INACTIVE;
}

static bool dir_sends(sb_direction d) { return d == SB_DIR_SENDRECV || d == SB_DIR_SENDONLY; }
static bool dir_recvs(sb_direction d) { return d == SB_DIR_SENDRECV || d == SB_DIR_RECVONLY; }

/* The payload types of an answered m-section, in m-line order, as "96 97 ...". */
static char *pt_list(const sb_sdp_media *m) {
  GString *s = g_string_new("");
  for (guint i = 0; i < m->codecs->len; i++) {
    const sb_sdp_codec *c = g_ptr_array_index(m->codecs, i);
    g_string_append_printf(s, "%s%d", i ? " " : "", c->pt);
  }
  return g_string_free(s, FALSE);
}

static void assert_fmts(const sb_sdp_media *m, const char *expect) {
  GString *s = g_string_new("");
  for (guint i = 0; i < m->fmts->len; i++)
    g_string_append_printf(s, "%s%s", i ? " " : "", (const char *)g_ptr_array_index(m->fmts, i));
  g_assert_cmpstr(s->str, ==, expect);
  g_string_free(s, TRUE);
}

/* The answered payload types, in order, and the m= line listing the same. */
static void assert_pts(const negotiated *n, guint index, const char *expect) {
  const sb_sdp_media *m = media_at(n->parsed, index);
  char *got = pt_list(m);
  g_assert_cmpstr(got, ==, expect);
  g_free(got);
  assert_fmts(m, expect);
}

static const sb_sdp_ssrc_group *find_group(const sb_sdp_media *m, const char *semantics) {
  for (guint i = 0; i < m->ssrc_groups->len; i++) {
    const sb_sdp_ssrc_group *g = g_ptr_array_index(m->ssrc_groups, i);
    if (strcmp(g->semantics, semantics) == 0)
      return g;
  }
  return NULL;
}

static void assert_remote_ssrcs(const sb_media_desc *d, const uint32_t (*expect)[2], int count) {
  g_assert_cmpint(d->remote_ssrc_count, ==, count);
  for (int i = 0; i < count; i++) {
    g_assert_cmpuint(d->remote_ssrcs[i].ssrc, ==, expect[i][0]);
    g_assert_cmpuint(d->remote_ssrcs[i].rtx_ssrc, ==, expect[i][1]);
  }
}

/* Checks on one answered RTP m-section against its offer. */
static void check_rtp_section(const negotiated *n, guint i, const sb_caps *caps,
                              const char *ext_uri_by_id[256]) {
  const sb_sdp_media *om = media_at(n->offer, i), *am = media_at(n->parsed, i);
  const sb_media_desc *d = desc_at(n, i);

  g_assert_true(am->rtcp_mux);
  g_assert_cmpstr(am->proto, ==, om->proto);
  g_assert_cmpint(am->rtcp_rsize, ==, om->rtcp_rsize);
  g_assert_cmpint(d->rtcp_rsize, ==, om->rtcp_rsize);
  sb_direction dir = expected_direction(om->direction, caps);
  g_assert_cmpint(d->dir, ==, dir);
  g_assert_cmpint(am->direction, ==, dir);

  /* Codecs: each answered one was offered, with the same name and rate. */
  int media_codecs = 0, rtx_codecs = 0;
  for (guint k = 0; k < am->codecs->len; k++) {
    const sb_sdp_codec *ac = g_ptr_array_index(am->codecs, k);
    const sb_sdp_codec *oc = sb_sdp_media_codec(om, ac->pt);
    g_assert_nonnull(oc);
    g_assert_nonnull(ac->encoding);
    g_assert_cmpint(g_ascii_strcasecmp(ac->encoding, oc->encoding), ==, 0);
    g_assert_cmpuint(ac->clock_rate, ==, oc->clock_rate);
    g_assert_false(has_fb(ac, "transport-cc") && !caps->twcc);
    if (is_rtx(ac)) {
      /* RTX: offered with the same apt, which names an answered media codec. */
      rtx_codecs++;
      g_assert_true(caps->rtx);
      int apt = apt_of(ac);
      g_assert_cmpint(apt, ==, apt_of(oc));
      const sb_sdp_codec *media = sb_sdp_media_codec(am, apt);
      g_assert_nonnull(media);
      g_assert_false(is_rtx(media));
      const sb_codec_desc *cd = sb_media_desc_codec(d, (uint8_t)apt);
      g_assert_nonnull(cd);
      g_assert_cmpuint(cd->rtx_pt, ==, ac->pt);
      g_assert_true(sb_media_desc_codec_for_rtx(d, (uint8_t)ac->pt) == cd);
      continue;
    }
    media_codecs++;
    sb_codec_id id = sb_codec_from_name(ac->encoding);
    g_assert_true(caps_accept(caps, d->kind, id));
    const sb_codec_desc *cd = sb_media_desc_codec(d, (uint8_t)ac->pt);
    g_assert_nonnull(cd);
    g_assert_cmpint(cd->codec, ==, id);
    g_assert_cmpuint(cd->clock_rate, ==, oc->clock_rate);
    g_assert_cmpstr(cd->fmtp, ==, oc->fmtp ? oc->fmtp : "");
    g_assert_cmpstr(ac->fmtp, ==, oc->fmtp);
    /* Feedback: nack, pli and fir as offered; remb and transport-cc per caps. */
    static const char *const plain[] = { "nack", "nack pli", "ccm fir" };
    for (guint f = 0; f < G_N_ELEMENTS(plain); f++)
      g_assert_cmpint(has_fb(ac, plain[f]), ==, has_fb(oc, plain[f]));
    g_assert_cmpint(has_fb(ac, "goog-remb"), ==, caps->remb && has_fb(oc, "goog-remb"));
    g_assert_cmpint(has_fb(ac, "transport-cc"), ==, caps->twcc && has_fb(oc, "transport-cc"));
    g_assert_cmpint(cd->fb_nack, ==, has_fb(oc, "nack"));
    g_assert_cmpint(cd->fb_pli, ==, has_fb(oc, "nack pli"));
    g_assert_cmpint(cd->fb_fir, ==, has_fb(oc, "ccm fir"));
    g_assert_cmpint(cd->fb_remb, ==, caps->remb && has_fb(oc, "goog-remb"));
    g_assert_cmpint(cd->fb_twcc, ==, caps->twcc && has_fb(oc, "transport-cc"));
    if (cd->rtx_pt == 0) {
      /* No RTX answered: none was offered for it, or RTX is off. */
      for (guint r = 0; caps->rtx && r < om->codecs->len; r++) {
        const sb_sdp_codec *orc = g_ptr_array_index(om->codecs, r);
        g_assert_false(is_rtx(orc) && apt_of(orc) == ac->pt);
      }
    }
  }
  g_assert_cmpint(media_codecs, ==, d->codec_count);
  g_assert_cmpuint(am->codecs->len, ==, (guint)(media_codecs + rtx_codecs));
  /* Every offered codec the caps accept is answered. */
  for (guint k = 0; k < om->codecs->len; k++) {
    const sb_sdp_codec *oc = g_ptr_array_index(om->codecs, k);
    if (oc->encoding && caps_accept(caps, d->kind, sb_codec_from_name(oc->encoding)))
      g_assert_nonnull(sb_sdp_media_codec(am, oc->pt));
  }

  /* Header extensions: known ones, the offer's ids, one URI per id in the bundle. */
  uint8_t seen[SB_EXT_COUNT] = { 0 };
  for (guint k = 0; k < am->extmaps->len; k++) {
    const sb_sdp_extmap *e = g_ptr_array_index(am->extmaps, k);
    sb_ext_kind kind = sb_ext_from_uri(e->uri);
    g_assert_cmpint(kind, !=, SB_EXT_COUNT);
    g_assert_false(kind == SB_EXT_TWCC && !caps->twcc);
    const sb_sdp_extmap *oe = sb_sdp_media_extmap_by_uri(om, e->uri);
    g_assert_nonnull(oe);
    g_assert_cmpint(oe->id, ==, e->id);
    g_assert_cmpint(d->ext_ids[kind], ==, e->id);
    seen[kind] = (uint8_t)e->id;
    g_assert_cmpint(e->id, >, 0);
    g_assert_cmpint(e->id, <, 256);
    if (ext_uri_by_id[e->id] && strcmp(ext_uri_by_id[e->id], e->uri) != 0)
      g_error("extension id %d answered for %s and %s", e->id, ext_uri_by_id[e->id], e->uri);
    ext_uri_by_id[e->id] = e->uri;
  }
  for (int k = 0; k < SB_EXT_COUNT; k++)
    g_assert_cmpint(d->ext_ids[k], ==, seen[k]);

  /* Our sources: only where we send; RTX SSRC when RTX was negotiated. */
  bool any_rtx = false;
  for (int k = 0; k < d->codec_count; k++)
    any_rtx |= d->codecs[k].rtx_pt != 0;
  if (dir_sends(dir)) {
    g_assert_cmpuint(d->local_ssrc, !=, 0);
    g_assert_cmpstr(sb_sdp_media_ssrc_attr(am, d->local_ssrc, "cname"), ==, LOCAL_CNAME);
    g_assert_nonnull(am->msid);
    g_assert_true(g_str_has_prefix(am->msid, LOCAL_STREAM " "));
    if (any_rtx) {
      g_assert_cmpuint(d->local_rtx_ssrc, !=, 0);
      g_assert_cmpuint(d->local_rtx_ssrc, !=, d->local_ssrc);
      g_assert_cmpstr(sb_sdp_media_ssrc_attr(am, d->local_rtx_ssrc, "cname"), ==, LOCAL_CNAME);
      const sb_sdp_ssrc_group *fid = find_group(am, "FID");
      g_assert_nonnull(fid);
      g_assert_cmpuint(fid->ssrcs->len, ==, 2);
      g_assert_cmpuint(g_array_index(fid->ssrcs, uint32_t, 0), ==, d->local_ssrc);
      g_assert_cmpuint(g_array_index(fid->ssrcs, uint32_t, 1), ==, d->local_rtx_ssrc);
    } else {
      g_assert_cmpuint(d->local_rtx_ssrc, ==, 0);
      g_assert_null(find_group(am, "FID"));
    }
  } else {
    g_assert_cmpuint(d->local_ssrc, ==, 0);
    g_assert_cmpuint(d->local_rtx_ssrc, ==, 0);
    g_assert_cmpuint(am->ssrcs->len, ==, 0);
    g_assert_cmpuint(am->ssrc_groups->len, ==, 0);
  }
  if (!dir_recvs(dir))
    g_assert_cmpint(d->remote_ssrc_count, ==, 0);
}

/* Checks every answer must pass, whatever the offer and caps. */
static void check_answer(const negotiated *n, const sb_caps *caps) {
  const sb_sdp *offer = n->offer, *ans = n->parsed;
  g_assert_cmpuint(ans->media->len, ==, offer->media->len);
  const sb_sdp_group *obundle = sb_sdp_bundle_group(offer);
  const sb_sdp_group *abundle = sb_sdp_bundle_group(ans);
  g_assert_true((obundle == NULL) == (abundle == NULL));
  const char *ext_uri_by_id[256] = { 0 };
  guint accepted = 0;
  GArray *ssrcs = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  for (guint i = 0; i < offer->media->len; i++) {
    const sb_sdp_media *om = media_at(offer, i), *am = media_at(ans, i);
    const sb_media_desc *d = desc_at(n, i);
    /* Same m-lines, same order, same mids. */
    g_assert_cmpstr(am->type, ==, om->type);
    g_assert_cmpstr(am->mid, ==, om->mid);
    g_assert_cmpstr(d->mid, ==, om->mid);
    g_assert_cmpint(d->index, ==, (int)i);
    g_assert_cmpstr(sb_media_kind_name(d->kind), ==, om->type);
    g_assert_cmpint(d->accepted, ==, am->port != 0);
    if (!d->accepted) {
      g_assert_cmpuint(am->port, ==, 0);
      g_assert_cmpuint(am->candidates->len, ==, 0);
      g_assert_cmpuint(d->local_ssrc, ==, 0);
      continue;
    }
    /* In the answer's BUNDLE group, in order. */
    if (abundle) {
      g_assert_cmpuint(accepted, <, abundle->mids->len);
      g_assert_cmpstr(g_ptr_array_index(abundle->mids, accepted), ==, om->mid);
    }
    /* Our transport. */
    g_assert_cmpstr(sb_sdp_media_ice_ufrag(ans, am), ==, LOCAL_UFRAG);
    g_assert_cmpstr(sb_sdp_media_ice_pwd(ans, am), ==, LOCAL_PWD);
    const char *hash = NULL;
    g_assert_cmpstr(sb_sdp_media_fingerprint(ans, am, &hash), ==, LOCAL_FP);
    g_assert_cmpstr(hash, ==, "sha-256");
    g_assert_cmpint(sb_sdp_media_setup(ans, am), ==, n->setup);
    /* Candidates only in the first accepted m-section. */
    if (accepted == 0) {
      g_assert_cmpuint(am->candidates->len, ==, 2);
      g_assert_cmpstr(g_ptr_array_index(am->candidates, 0), ==, local_candidates[0]);
      g_assert_cmpstr(g_ptr_array_index(am->candidates, 1), ==, local_candidates[1]);
      g_assert_true(am->end_of_candidates);
    } else {
      g_assert_cmpuint(am->candidates->len, ==, 0);
    }
    accepted++;
    if (kind_is_rtp(d->kind)) {
      check_rtp_section(n, i, caps, ext_uri_by_id);
      uint32_t local[2] = { d->local_ssrc, d->local_rtx_ssrc };
      for (int k = 0; k < 2; k++)
        if (local[k])
          g_array_append_val(ssrcs, local[k]);
    } else {
      g_assert_cmpint(d->kind, ==, SB_MEDIA_APPLICATION);
      g_assert_true(caps->data);
      g_assert_cmpuint(d->sctp_port, ==, om->sctp_port ? om->sctp_port : 5000);
      g_assert_cmpuint(am->sctp_port, ==, d->sctp_port);
      g_assert_cmpint(am->sctpmap, ==, om->sctpmap);
      g_assert_cmpstr(am->proto, ==, om->proto);
      g_assert_cmpuint(d->local_ssrc, ==, 0);
      g_assert_cmpuint(d->codec_count, ==, 0);
    }
  }
  g_assert_cmpuint(accepted, >, 0);
  if (abundle)
    g_assert_cmpuint(abundle->mids->len, ==, accepted);
  /* Our SSRCs are distinct, and distinct from every SSRC of the remote. */
  for (guint a = 0; a < ssrcs->len; a++) {
    uint32_t s = g_array_index(ssrcs, uint32_t, a);
    for (guint b = a + 1; b < ssrcs->len; b++)
      g_assert_cmpuint(s, !=, g_array_index(ssrcs, uint32_t, b));
    for (guint i = 0; i < offer->media->len; i++) {
      const sb_sdp_media *om = media_at(offer, i);
      for (guint k = 0; k < om->ssrcs->len; k++)
        g_assert_cmpuint(s, !=, ((const sb_sdp_ssrc *)g_ptr_array_index(om->ssrcs, k))->ssrc);
    }
  }
  g_array_unref(ssrcs);
}

static const char *const fixture_names[] = {
  "chromium-sendrecv-av-data.sdp", "chromium-recvonly-av.sdp", "chromium-sendonly-simulcast.sdp",
  "firefox-153-sendrecv-av-data.sdp", "aiortc-1.4-sendrecv-av-data.sdp",
};

/* ---- transport of the real offers -------------------------------------------- */

static void test_negotiate_check_offer_reads_tagged_transport(void) {
  static const struct {
    const char *ufrag, *pwd, *fp_prefix;
    guint candidates;
    bool eoc;
  } want[] = {
    { "nOp8", "AFpRIcie0CsiULMjy8vpETlw", "96:C2:96:CE", 2, false },
    { "rt/S", "EGm5j8HHJ5WEDWkTGSXQlWhv", "CC:DD:1A:FB", 2, false },
    { "j/Dj", "FWwuZLbVu7b2nP8CeGBSRWbg", "DF:21:C8:98", 2, false },
    /* Firefox: the fingerprint is at session level. */
    { "9d493825", "86f278738cabdc61ae8ef5f99b7859b1", "EF:FA:AA:EC", 4, true },
    /* aiortc: each m-section has its own credentials; the tagged (mid 0) one counts. */
    { "Jcip", "OY33n6TRTUkheujshzqPv7", "9A:C0:86:30", 2, true },
  };
  for (guint f = 0; f < G_N_ELEMENTS(fixture_names); f++) {
    gsize len;
    char *text = load_fixture(fixture_names[f], &len);
    sb_sdp *offer = parse_ok(text, len);
    sb_remote_transport rt;
    char *msg = NULL;
    g_assert_cmpint(sb_negotiate_check_offer(offer, &rt, &msg), ==, 0);
    g_assert_null(msg);
    g_assert_cmpint(rt.tagged_index, ==, 0);
    g_assert_cmpstr(rt.ufrag, ==, want[f].ufrag);
    g_assert_cmpstr(rt.pwd, ==, want[f].pwd);
    g_assert_cmpstr(rt.fingerprint_hash, ==, "sha-256");
    g_assert_true(g_str_has_prefix(rt.fingerprint, want[f].fp_prefix));
    g_assert_cmpuint(strlen(rt.fingerprint), ==, 32 * 3 - 1);
    g_assert_cmpint(rt.setup, ==, SB_SETUP_ACTPASS);
    g_assert_nonnull(rt.candidates);
    g_assert_cmpuint(rt.candidates->len, ==, want[f].candidates);
    g_assert_cmpint(rt.end_of_candidates, ==, want[f].eoc);
    sb_sdp_free(offer);
    g_free(text);
  }
}

static void test_negotiate_answer_setup_is_passive_unless_offer_is_passive(void) {
  /* RFC 5763 §5: the answerer is passive unless the offerer must be. */
  g_assert_cmpint(sb_negotiate_answer_setup(SB_SETUP_ACTPASS), ==, SB_SETUP_PASSIVE);
  g_assert_cmpint(sb_negotiate_answer_setup(SB_SETUP_ACTIVE), ==, SB_SETUP_PASSIVE);
  g_assert_cmpint(sb_negotiate_answer_setup(SB_SETUP_NONE), ==, SB_SETUP_PASSIVE);
  g_assert_cmpint(sb_negotiate_answer_setup(SB_SETUP_PASSIVE), ==, SB_SETUP_ACTIVE);
}

/* ---- answers to the real offers ------------------------------------------------ */

static void test_negotiate_every_fixture_answers_consistently(void) {
  sb_caps caps = echo_caps();
  for (guint f = 0; f < G_N_ELEMENTS(fixture_names); f++) {
    negotiated n;
    negotiate_fixture(&n, fixture_names[f], &caps);
    g_assert_cmpint(n.setup, ==, SB_SETUP_PASSIVE);
    check_answer(&n, &caps);
    /* ICE: trickle, and never ice-lite. */
    g_assert_true(n.parsed->ice_trickle);
    g_assert_false(n.parsed->ice_lite);
    negotiated_clear(&n);
  }
}

static void test_negotiate_chromium_sendrecv_echo_answer(void) {
  sb_caps caps = echo_caps();
  negotiated n;
  negotiate_fixture(&n, "chromium-sendrecv-av-data.sdp", &caps);
  check_answer(&n, &caps);
  const sb_sdp_group *g = sb_sdp_bundle_group(n.parsed);
  g_assert_cmpuint(g->mids->len, ==, 2);
  g_assert_cmpstr(g_ptr_array_index(g->mids, 0), ==, "0");
  g_assert_cmpstr(g_ptr_array_index(g->mids, 1), ==, "1");

  const sb_media_desc *audio = desc_at(&n, 0), *video = desc_at(&n, 1), *data = desc_at(&n, 2);
  g_assert_cmpint(audio->kind, ==, SB_MEDIA_AUDIO);
  g_assert_cmpint(video->kind, ==, SB_MEDIA_VIDEO);
  g_assert_cmpint(data->kind, ==, SB_MEDIA_APPLICATION);
  g_assert_cmpint(audio->dir, ==, SB_DIR_SENDRECV);
  g_assert_cmpint(video->dir, ==, SB_DIR_SENDRECV);
  g_assert_true(audio->accepted && video->accepted);
  /* Opus, G.722, PCMU, PCMA, telephone-event in the offer's order; no red, no CN. */
  assert_pts(&n, 0, "111 9 0 8 110 126");
  /* Every video codec with its RTX; red, its RTX and ulpfec dropped. */
  assert_pts(&n, 1, "96 102 104 108 114 116 39 45 98 100 97 103 107 109 115 117 40 46 99 101");
  g_assert_cmpuint(sb_media_desc_codec(video, 96)->rtx_pt, ==, 97);
  g_assert_cmpuint(sb_media_desc_codec(video, 100)->rtx_pt, ==, 101);
  g_assert_null(sb_media_desc_codec(video, 118));
  g_assert_null(sb_media_desc_codec(video, 120));
  g_assert_null(sb_media_desc_codec_for_rtx(video, 119));
  /* Opus offered transport-cc only: with twcc off it keeps no feedback at all. */
  const sb_codec_desc *opus = sb_media_desc_codec(audio, 111);
  g_assert_cmpint(opus->codec, ==, SB_CODEC_OPUS);
  g_assert_cmpuint(opus->clock_rate, ==, 48000);
  g_assert_cmpuint(opus->channels, ==, 2);
  g_assert_cmpstr(opus->fmtp, ==, "minptime=10;useinbandfec=1");
  g_assert_false(opus->fb_twcc || opus->fb_nack || opus->fb_remb);
  g_assert_cmpuint(sb_sdp_media_codec(media_at(n.parsed, 0), 111)->rtcp_fb->len, ==, 0);
  const sb_codec_desc *vp8 = sb_media_desc_codec(video, 96);
  g_assert_true(vp8->fb_nack && vp8->fb_pli && vp8->fb_fir && vp8->fb_remb);
  g_assert_false(vp8->fb_twcc);
  const sb_sdp_codec *avp8 = sb_sdp_media_codec(media_at(n.parsed, 1), 96);
  g_assert_true(has_fb(avp8, "goog-remb") && has_fb(avp8, "nack") && has_fb(avp8, "nack pli") &&
                has_fb(avp8, "ccm fir"));
  g_assert_false(has_fb(avp8, "transport-cc"));
  /* Extensions: the offer's ids, without transport-cc. */
  g_assert_cmpint(audio->ext_ids[SB_EXT_AUDIO_LEVEL], ==, 1);
  g_assert_cmpint(audio->ext_ids[SB_EXT_ABS_SEND_TIME], ==, 2);
  g_assert_cmpint(audio->ext_ids[SB_EXT_TWCC], ==, 0);
  g_assert_cmpint(audio->ext_ids[SB_EXT_MID], ==, 4);
  g_assert_cmpint(audio->ext_ids[SB_EXT_VIDEO_ORIENTATION], ==, 0);
  g_assert_cmpint(video->ext_ids[SB_EXT_ABS_SEND_TIME], ==, 2);
  g_assert_cmpint(video->ext_ids[SB_EXT_VIDEO_ORIENTATION], ==, 13);
  g_assert_cmpint(video->ext_ids[SB_EXT_MID], ==, 4);
  g_assert_cmpint(video->ext_ids[SB_EXT_RID], ==, 10);
  g_assert_cmpint(video->ext_ids[SB_EXT_RRID], ==, 11);
  g_assert_cmpint(video->ext_ids[SB_EXT_AUDIO_LEVEL], ==, 0);
  g_assert_null(sb_sdp_media_extmap_by_uri(media_at(n.parsed, 1), sb_ext_uri(SB_EXT_TWCC)));
  /* Remote sources, with the FID pairing. */
  assert_remote_ssrcs(audio, (const uint32_t[][2]){ { 1158016063u, 0 } }, 1);
  assert_remote_ssrcs(video, (const uint32_t[][2]){ { 602579745u, 3832539338u } }, 1);
  /* Local sources: audio without RTX, video with. */
  g_assert_cmpuint(audio->local_ssrc, !=, 0);
  g_assert_cmpuint(audio->local_rtx_ssrc, ==, 0);
  g_assert_cmpuint(video->local_ssrc, !=, 0);
  g_assert_cmpuint(video->local_rtx_ssrc, !=, 0);
  /* The data channel is refused: port 0, no BUNDLE membership, no transport. */
  g_assert_false(data->accepted);
  const sb_sdp_media *adata = media_at(n.parsed, 2);
  g_assert_cmpuint(adata->port, ==, 0);
  g_assert_cmpstr(adata->mid, ==, "2");
  g_assert_cmpuint(adata->sctp_port, ==, 0);
  g_assert_null(adata->ice_ufrag);
  g_assert_null(adata->fingerprint);
  g_assert_nonnull(strstr(n.text, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n"));
  g_assert_cmpint(n.parsed->extmap_allow_mixed, ==, TRUE);
  negotiated_clear(&n);
}

static void test_negotiate_chromium_recvonly_gets_sendonly_answer(void) {
  sb_caps caps = echo_caps();
  negotiated n;
  negotiate_fixture(&n, "chromium-recvonly-av.sdp", &caps);
  check_answer(&n, &caps);
  for (guint i = 0; i < 2; i++) {
    const sb_media_desc *d = desc_at(&n, i);
    g_assert_true(d->accepted);
    g_assert_cmpint(d->dir, ==, SB_DIR_SENDONLY);
    g_assert_cmpint(media_at(n.parsed, i)->direction, ==, SB_DIR_SENDONLY);
    g_assert_cmpint(d->remote_ssrc_count, ==, 0);
    g_assert_cmpuint(d->local_ssrc, !=, 0);
  }
  g_assert_cmpuint(desc_at(&n, 0)->local_rtx_ssrc, ==, 0);
  g_assert_cmpuint(desc_at(&n, 1)->local_rtx_ssrc, !=, 0);
  assert_pts(&n, 0, "111 9 0 8 110 126");
  /* 15 media codecs (VP8, four VP9, eight H264, two AV1), each with its RTX. */
  assert_pts(&n, 1,
             "96 98 100 35 37 102 104 108 114 116 39 41 43 45 47 "
             "97 99 101 36 38 103 107 109 115 117 40 42 44 46 48");
  g_assert_cmpint(desc_at(&n, 1)->codec_count, ==, 15);
  /* No flexfec, even though it offered goog-remb. */
  g_assert_null(sb_media_desc_codec(desc_at(&n, 1), 49));
  negotiated_clear(&n);
}

static void test_negotiate_chromium_simulcast_gets_recvonly_answer(void) {
  sb_caps caps = echo_caps();
  negotiated n;
  negotiate_fixture(&n, "chromium-sendonly-simulcast.sdp", &caps);
  check_answer(&n, &caps);
  const sb_media_desc *audio = desc_at(&n, 0), *video = desc_at(&n, 1);
  g_assert_cmpint(audio->dir, ==, SB_DIR_RECVONLY);
  g_assert_cmpint(video->dir, ==, SB_DIR_RECVONLY);
  /* We send nothing: no SSRC of ours anywhere. */
  g_assert_cmpuint(audio->local_ssrc, ==, 0);
  g_assert_cmpuint(video->local_ssrc, ==, 0);
  g_assert_cmpuint(video->local_rtx_ssrc, ==, 0);
  g_assert_null(media_at(n.parsed, 1)->msid);
  assert_remote_ssrcs(audio, (const uint32_t[][2]){ { 1381182158u, 0 } }, 1);
  /* Simulcast layers come by rid, not a=ssrc. */
  g_assert_cmpint(video->remote_ssrc_count, ==, 0);
  g_assert_cmpint(video->ext_ids[SB_EXT_RID], ==, 10);
  g_assert_cmpint(video->ext_ids[SB_EXT_RRID], ==, 11);
  g_assert_cmpint(video->ext_ids[SB_EXT_MID], ==, 4);
  assert_pts(&n, 1, "96 102 104 108 114 116 39 45 98 100 97 103 107 109 115 117 40 46 99 101");
  negotiated_clear(&n);
}

static void test_negotiate_firefox_echo_answer(void) {
  sb_caps caps = echo_caps();
  negotiated n;
  negotiate_fixture(&n, "firefox-153-sendrecv-av-data.sdp", &caps);
  check_answer(&n, &caps);
  const sb_media_desc *audio = desc_at(&n, 0), *video = desc_at(&n, 1);
  assert_pts(&n, 0, "109 9 0 8 101");
  /* VP8, VP9, AV1 and their RTX (fmtp-only apt lines); red and ulpfec dropped. */
  assert_pts(&n, 1, "120 121 99 124 125 100");
  g_assert_cmpuint(sb_media_desc_codec(video, 120)->rtx_pt, ==, 124);
  g_assert_cmpuint(sb_media_desc_codec(video, 121)->rtx_pt, ==, 125);
  g_assert_cmpuint(sb_media_desc_codec(video, 99)->rtx_pt, ==, 100);
  g_assert_null(sb_media_desc_codec_for_rtx(video, 119));
  g_assert_cmpuint(sb_media_desc_codec(audio, 9)->channels, ==, 1);
  g_assert_cmpint(audio->ext_ids[SB_EXT_AUDIO_LEVEL], ==, 1);
  g_assert_cmpint(audio->ext_ids[SB_EXT_MID], ==, 3);
  g_assert_cmpint(audio->ext_ids[SB_EXT_TWCC], ==, 0);
  g_assert_cmpint(video->ext_ids[SB_EXT_MID], ==, 3);
  g_assert_cmpint(video->ext_ids[SB_EXT_ABS_SEND_TIME], ==, 4);
  assert_remote_ssrcs(audio, (const uint32_t[][2]){ { 1551973929u, 0 } }, 1);
  /* The a=ssrc lines come before the a=ssrc-group: the pairing still holds. */
  assert_remote_ssrcs(video, (const uint32_t[][2]){ { 1712086703u, 3592304554u } }, 1);
  g_assert_false(desc_at(&n, 2)->accepted);
  negotiated_clear(&n);
}

static void test_negotiate_aiortc_duplicate_extmap_id_answered_once(void) {
  sb_caps caps = echo_caps();
  negotiated n;
  negotiate_fixture(&n, "aiortc-1.4-sendrecv-av-data.sdp", &caps);
  check_answer(&n, &caps);
  const sb_media_desc *audio = desc_at(&n, 0), *video = desc_at(&n, 1);
  /* aiortc maps id 2 to audio-level on audio and abs-send-time on video: within
   * one BUNDLE group the id may mean one thing only (RFC 8843 §9.2). */
  g_assert_cmpint(audio->ext_ids[SB_EXT_AUDIO_LEVEL], ==, 2);
  g_assert_cmpint(audio->ext_ids[SB_EXT_MID], ==, 1);
  g_assert_cmpint(video->ext_ids[SB_EXT_MID], ==, 1);
  g_assert_cmpint(video->ext_ids[SB_EXT_ABS_SEND_TIME], ==, 0);
  const sb_sdp_media *av = media_at(n.parsed, 1);
  for (guint i = 0; i < av->extmaps->len; i++)
    g_assert_cmpint(((const sb_sdp_extmap *)g_ptr_array_index(av->extmaps, i))->id, !=, 2);
  g_assert_null(sb_sdp_media_extmap_by_uri(av, sb_ext_uri(SB_EXT_ABS_SEND_TIME)));
  assert_pts(&n, 0, "96 0 8");
  assert_pts(&n, 1, "97 99 101 98 100 102");
  g_assert_cmpstr(sb_media_desc_codec(video, 99)->fmtp, ==,
                  "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f");
  assert_remote_ssrcs(audio, (const uint32_t[][2]){ { 417490403u, 0 } }, 1);
  assert_remote_ssrcs(video, (const uint32_t[][2]){ { 2730170414u, 2682275016u } }, 1);
  /* The old-style data m-line is refused too. */
  g_assert_false(desc_at(&n, 2)->accepted);
  g_assert_cmpuint(media_at(n.parsed, 2)->port, ==, 0);
  negotiated_clear(&n);
}

static void test_negotiate_data_channel_accepted_when_caps_allow(void) {
  sb_caps caps = echo_caps();
  caps.data = true;
  static const struct { const char *fixture; const char *proto; bool sctpmap; unsigned mms; } want[] = {
    { "chromium-sendrecv-av-data.sdp", "UDP/DTLS/SCTP", false, 262144 },
    { "firefox-153-sendrecv-av-data.sdp", "UDP/DTLS/SCTP", false, 1073741823 },
    { "aiortc-1.4-sendrecv-av-data.sdp", "DTLS/SCTP", true, 65536 },
  };
  for (guint f = 0; f < G_N_ELEMENTS(want); f++) {
    negotiated n;
    negotiate_fixture(&n, want[f].fixture, &caps);
    check_answer(&n, &caps);
    const sb_media_desc *d = desc_at(&n, 2);
    g_assert_true(d->accepted);
    g_assert_cmpint(d->kind, ==, SB_MEDIA_APPLICATION);
    g_assert_cmpuint(d->sctp_port, ==, 5000);
    g_assert_cmpuint(d->max_message_size, ==, want[f].mms);
    const sb_sdp_media *am = media_at(n.parsed, 2);
    g_assert_cmpuint(am->port, !=, 0);
    g_assert_cmpstr(am->proto, ==, want[f].proto);
    g_assert_cmpint(am->sctpmap, ==, want[f].sctpmap);
    g_assert_cmpuint(am->sctp_port, ==, 5000);
    g_assert_cmpuint(sb_sdp_bundle_group(n.parsed)->mids->len, ==, 3);
    /* Still one set of candidates, on the first m-section. */
    g_assert_cmpuint(am->candidates->len, ==, 0);
    negotiated_clear(&n);
  }
}

/* ---- caps ------------------------------------------------------------------ */

static void test_negotiate_twcc_kept_when_caps_allow(void) {
  sb_caps caps = echo_caps();
  caps.twcc = true;
  negotiated n;
  negotiate_fixture(&n, "chromium-sendrecv-av-data.sdp", &caps);
  check_answer(&n, &caps);
  g_assert_cmpint(desc_at(&n, 0)->ext_ids[SB_EXT_TWCC], ==, 3);
  g_assert_cmpint(desc_at(&n, 1)->ext_ids[SB_EXT_TWCC], ==, 3);
  g_assert_true(sb_media_desc_codec(desc_at(&n, 1), 96)->fb_twcc);
  g_assert_true(has_fb(sb_sdp_media_codec(media_at(n.parsed, 0), 111), "transport-cc"));
  negotiated_clear(&n);
}

static void test_negotiate_without_rtx_or_remb(void) {
  sb_caps caps = echo_caps();
  caps.rtx = false;
  caps.remb = false;
  negotiated n;
  negotiate_fixture(&n, "chromium-sendrecv-av-data.sdp", &caps);
  check_answer(&n, &caps);
  const sb_media_desc *video = desc_at(&n, 1);
  assert_pts(&n, 1, "96 102 104 108 114 116 39 45 98 100");
  for (int i = 0; i < video->codec_count; i++) {
    g_assert_cmpuint(video->codecs[i].rtx_pt, ==, 0);
    g_assert_false(video->codecs[i].fb_remb);
    g_assert_true(video->codecs[i].fb_nack);
  }
  g_assert_cmpuint(video->local_ssrc, !=, 0);
  g_assert_cmpuint(video->local_rtx_ssrc, ==, 0);
  g_assert_null(strstr(n.text, "goog-remb"));
  g_assert_null(strstr(n.text, "rtx/"));
  negotiated_clear(&n);
}

static void test_negotiate_caps_restrict_video_to_vp8(void) {
  sb_caps caps = echo_caps();
  caps.video_count = 1;
  caps.video[0] = SB_CODEC_VP8;
  caps.audio_count = 1;
  caps.audio[0] = SB_CODEC_OPUS;
  for (guint f = 0; f < G_N_ELEMENTS(fixture_names); f++) {
    negotiated n;
    negotiate_fixture(&n, fixture_names[f], &caps);
    check_answer(&n, &caps);
    for (guint i = 0; i < n.descs->len; i++) {
      const sb_media_desc *d = desc_at(&n, i);
      if (!kind_is_rtp(d->kind))
        continue;
      g_assert_cmpint(d->codec_count, ==, 1);
      g_assert_cmpint(d->codecs[0].codec, ==, d->kind == SB_MEDIA_VIDEO ? SB_CODEC_VP8 : SB_CODEC_OPUS);
      /* VP8 keeps its RTX. */
      if (d->kind == SB_MEDIA_VIDEO)
        g_assert_cmpuint(d->codecs[0].rtx_pt, !=, 0);
      g_assert_cmpuint(media_at(n.parsed, i)->codecs->len, ==, d->kind == SB_MEDIA_VIDEO ? 2 : 1);
    }
    negotiated_clear(&n);
  }
}

static void test_negotiate_caps_order_is_preference_when_not_keeping_offer_order(void) {
  sb_caps caps = echo_caps();
  caps.keep_offer_order = false;
  caps.video_count = 3;
  caps.video[0] = SB_CODEC_H264;
  caps.video[1] = SB_CODEC_VP8;
  caps.video[2] = SB_CODEC_AV1;
  caps.audio_count = 2;
  caps.audio[0] = SB_CODEC_PCMU;
  caps.audio[1] = SB_CODEC_OPUS;
  negotiated n;
  negotiate_fixture(&n, "chromium-sendrecv-av-data.sdp", &caps);
  check_answer(&n, &caps);
  /* H264 first (its variants in offer order), then VP8, then AV1; no VP9. */
  assert_pts(&n, 1, "102 104 108 114 116 39 96 45 103 107 109 115 117 40 97 46");
  assert_pts(&n, 0, "0 111");
  g_assert_cmpint(desc_at(&n, 1)->codecs[0].codec, ==, SB_CODEC_H264);
  negotiated_clear(&n);

  /* The same caps with keep_offer_order answer in the offer's order. */
  caps.keep_offer_order = true;
  negotiate_fixture(&n, "chromium-sendrecv-av-data.sdp", &caps);
  check_answer(&n, &caps);
  assert_pts(&n, 1, "96 102 104 108 114 116 39 45 97 103 107 109 115 117 40 46");
  assert_pts(&n, 0, "111 0");
  negotiated_clear(&n);

  /* Firefox lists VP8 first; the preference still puts AV1 before VP9 when asked. */
  caps.keep_offer_order = false;
  caps.video_count = 2;
  caps.video[0] = SB_CODEC_AV1;
  caps.video[1] = SB_CODEC_VP9;
  negotiate_fixture(&n, "firefox-153-sendrecv-av-data.sdp", &caps);
  check_answer(&n, &caps);
  assert_pts(&n, 1, "99 121 100 125");
  negotiated_clear(&n);
}

static void test_negotiate_receive_only_plugin_sends_nothing(void) {
  sb_caps caps = echo_caps();
  caps.can_send = false;
  negotiated n;
  negotiate_fixture(&n, "chromium-sendrecv-av-data.sdp", &caps);
  check_answer(&n, &caps);
  for (guint i = 0; i < 2; i++) {
    g_assert_cmpint(desc_at(&n, i)->dir, ==, SB_DIR_RECVONLY);
    g_assert_cmpuint(desc_at(&n, i)->local_ssrc, ==, 0);
  }
  g_assert_cmpint(desc_at(&n, 1)->remote_ssrc_count, ==, 1);
  negotiated_clear(&n);

  /* A send-only plugin takes nothing in: no remote SSRCs collected. */
  caps = echo_caps();
  caps.can_recv = false;
  negotiate_fixture(&n, "chromium-sendrecv-av-data.sdp", &caps);
  check_answer(&n, &caps);
  for (guint i = 0; i < 2; i++) {
    g_assert_cmpint(desc_at(&n, i)->dir, ==, SB_DIR_SENDONLY);
    g_assert_cmpint(desc_at(&n, i)->remote_ssrc_count, ==, 0);
    g_assert_cmpuint(desc_at(&n, i)->local_ssrc, !=, 0);
  }
  negotiated_clear(&n);

  /* Neither way: inactive, but still accepted (the transport comes up). */
  caps.can_send = false;
  negotiate_fixture(&n, "chromium-recvonly-av.sdp", &caps);
  check_answer(&n, &caps);
  g_assert_cmpint(desc_at(&n, 0)->dir, ==, SB_DIR_INACTIVE);
  g_assert_true(desc_at(&n, 0)->accepted);
  negotiated_clear(&n);
}

/* ---- hand-made offers ------------------------------------------------------- */

#define FP32                                                                                  \
  "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:" \
  "88:99"

#define AUDIO_SECTION(mid)                        \
  "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n"         \
  "c=IN IP4 0.0.0.0\r\n"                          \
  "a=mid:" mid "\r\n"                             \
  "a=ice-ufrag:abcd\r\n"                          \
  "a=ice-pwd:0123456789abcdefghijkl\r\n"          \
  "a=fingerprint:sha-256 " FP32 "\r\n"            \
  "a=setup:actpass\r\n"                           \
  "a=sendrecv\r\n"                                \
  "a=rtcp-mux\r\n"                                \
  "a=rtpmap:111 opus/48000/2\r\n"                 \
  "a=rtpmap:0 PCMU/8000\r\n"

#define VIDEO_SECTION(mid)                        \
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"         \
  "c=IN IP4 0.0.0.0\r\n"                          \
  "a=mid:" mid "\r\n"                             \
  "a=ice-ufrag:abcd\r\n"                          \
  "a=ice-pwd:0123456789abcdefghijkl\r\n"          \
  "a=fingerprint:sha-256 " FP32 "\r\n"            \
  "a=setup:actpass\r\n"                           \
  "a=sendrecv\r\n"                                \
  "a=rtcp-mux\r\n"                                \
  "a=rtpmap:96 VP8/90000\r\n"                     \
  "a=rtcp-fb:96 nack\r\n"                         \
  "a=rtpmap:97 rtx/90000\r\n"                     \
  "a=fmtp:97 apt=96\r\n"

#define SESSION "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"

static const char base_offer[] =
    SESSION "a=group:BUNDLE a v\r\n" AUDIO_SECTION("a") VIDEO_SECTION("v");

/* base_offer with every `from` replaced by `to`. */
static char *offer_with(const char *from, const char *to) {
  GString *s = g_string_new(base_offer);
  guint n = g_string_replace(s, from, to, 0);
  if (n == 0)
    g_error("'%s' is not in the base offer", from);
  return g_string_free(s, FALSE);
}

static void assert_refused(const char *from, const char *to, int code) {
  char *text = offer_with(from, to);
  sb_caps caps = echo_caps();
  int rc = negotiate_err(text, &caps);
  if (rc != code)
    g_error("offer with '%s' -> '%s' refused with %d, expected %d", from, to, rc, code);
  g_free(text);
}

static void test_negotiate_base_offer_is_answered(void) {
  sb_caps caps = echo_caps();
  negotiated n;
  negotiate_text(&n, base_offer, strlen(base_offer), &caps);
  check_answer(&n, &caps);
  assert_pts(&n, 0, "111 0");
  assert_pts(&n, 1, "96 97");
  negotiated_clear(&n);
}

static void test_negotiate_offer_without_ice_credentials_is_refused(void) {
  assert_refused("a=ice-ufrag:abcd\r\n", "", SB_ERR_SDP_NO_ICE);
  assert_refused("a=ice-pwd:0123456789abcdefghijkl\r\n", "", SB_ERR_SDP_NO_ICE);
}

static void test_negotiate_ice_credentials_of_wrong_length_are_refused(void) {
  /* RFC 8839 §5.4: ufrag at least 4 characters, pwd at least 22. */
  assert_refused("a=ice-ufrag:abcd", "a=ice-ufrag:abc", SB_ERR_SDP_NO_ICE);
  assert_refused("a=ice-pwd:0123456789abcdefghijkl", "a=ice-pwd:0123456789abcdefghijk",
                 SB_ERR_SDP_NO_ICE);
  char *longer = g_strnfill(257, 'u');
  char *attr = g_strdup_printf("a=ice-ufrag:%s", longer);
  assert_refused("a=ice-ufrag:abcd", attr, SB_ERR_SDP_NO_ICE);
  g_free(attr);
  g_free(longer);
}

static void test_negotiate_offer_without_fingerprint_is_refused(void) {
  assert_refused("a=fingerprint:sha-256 " FP32 "\r\n", "", SB_ERR_SDP_NO_FINGERPRINT);
}

static void test_negotiate_unsupported_fingerprint_hash_is_refused(void) {
  assert_refused("a=fingerprint:sha-256 " FP32,
                 "a=fingerprint:md5 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
                 SB_ERR_SDP_NO_FINGERPRINT);
  assert_refused("a=fingerprint:sha-256", "a=fingerprint:sha3-256", SB_ERR_SDP_NO_FINGERPRINT);
}

static void test_negotiate_other_fingerprint_hashes_are_accepted(void) {
  static const struct { const char *hash; int bytes; } hashes[] = {
    { "sha-1", 20 }, { "sha-224", 28 }, { "sha-384", 48 }, { "sha-512", 64 }, { "SHA-256", 32 },
  };
  for (guint i = 0; i < G_N_ELEMENTS(hashes); i++) {
    GString *fp = g_string_new("");
    for (int b = 0; b < hashes[i].bytes; b++)
      g_string_append_printf(fp, "%s%02X", b ? ":" : "", b);
    char *attr = g_strdup_printf("a=fingerprint:%s %s", hashes[i].hash, fp->str);
    char *text = offer_with("a=fingerprint:sha-256 " FP32, attr);
    sb_sdp *offer = parse_ok(text, strlen(text));
    sb_remote_transport rt;
    char *msg = NULL;
    g_assert_cmpint(sb_negotiate_check_offer(offer, &rt, &msg), ==, 0);
    g_assert_cmpstr(rt.fingerprint, ==, fp->str);
    sb_sdp_free(offer);
    g_free(text);
    g_free(attr);
    g_string_free(fp, TRUE);
  }
}

static void test_negotiate_live_m_sections_without_bundle_are_refused(void) {
  assert_refused("a=group:BUNDLE a v\r\n", "", SB_ERR_SDP_UNSUPPORTED);
}

static void test_negotiate_single_m_section_without_bundle_is_answered(void) {
  static const char text[] = SESSION VIDEO_SECTION("v");
  sb_caps caps = echo_caps();
  negotiated n;
  negotiate_text(&n, text, strlen(text), &caps);
  check_answer(&n, &caps);
  g_assert_null(sb_sdp_bundle_group(n.parsed));
  g_assert_true(desc_at(&n, 0)->accepted);
  negotiated_clear(&n);

  /* A disabled m-section does not count as live. */
  static const char two[] = SESSION VIDEO_SECTION("v") "m=audio 0 UDP/TLS/RTP/SAVPF 0\r\n"
                                                        "a=mid:a\r\n";
  negotiate_text(&n, two, strlen(two), &caps);
  check_answer(&n, &caps);
  g_assert_true(desc_at(&n, 0)->accepted);
  g_assert_false(desc_at(&n, 1)->accepted);
  negotiated_clear(&n);
}

static void test_negotiate_m_section_outside_bundle_is_rejected(void) {
  char *text = offer_with("a=group:BUNDLE a v", "a=group:BUNDLE a");
  sb_caps caps = echo_caps();
  negotiated n;
  negotiate_text(&n, text, strlen(text), &caps);
  check_answer(&n, &caps);
  g_assert_true(desc_at(&n, 0)->accepted);
  g_assert_false(desc_at(&n, 1)->accepted);
  g_assert_cmpuint(media_at(n.parsed, 1)->port, ==, 0);
  negotiated_clear(&n);
  g_free(text);
}

static void test_negotiate_no_common_codec_is_refused(void) {
  sb_caps caps = echo_caps();
  caps.audio_count = 1;
  caps.audio[0] = SB_CODEC_G722;
  caps.video_count = 1;
  caps.video[0] = SB_CODEC_H264;
  g_assert_cmpint(negotiate_err(base_offer, &caps), ==, SB_ERR_SDP_UNSUPPORTED);

  /* Codecs Switchboard does not know at all. */
  static const char unknown[] = SESSION
      "m=audio 9 UDP/TLS/RTP/SAVPF 18 13\r\n"
      "a=mid:a\r\n"
      "a=ice-ufrag:abcd\r\n"
      "a=ice-pwd:0123456789abcdefghijkl\r\n"
      "a=fingerprint:sha-256 " FP32 "\r\n"
      "a=setup:actpass\r\n"
      "a=rtcp-mux\r\n"
      "a=rtpmap:18 G729/8000\r\n"
      "a=rtpmap:13 CN/8000\r\n";
  caps = echo_caps();
  g_assert_cmpint(negotiate_err(unknown, &caps), ==, SB_ERR_SDP_UNSUPPORTED);

  /* Only one kind left without a codec: that m-section alone is rejected. */
  caps.video_count = 1;
  caps.video[0] = SB_CODEC_H264;
  negotiated n;
  negotiate_text(&n, base_offer, strlen(base_offer), &caps);
  check_answer(&n, &caps);
  g_assert_true(desc_at(&n, 0)->accepted);
  g_assert_false(desc_at(&n, 1)->accepted);
  negotiated_clear(&n);
}

static void test_negotiate_offer_without_rtcp_mux_is_refused(void) {
  /* JSEP requires rtcp-mux support; without it nothing is acceptable. */
  assert_refused("a=rtcp-mux\r\n", "", SB_ERR_SDP_UNSUPPORTED);
}

static void test_negotiate_setup_holdconn_is_refused(void) {
  assert_refused("a=setup:actpass", "a=setup:holdconn", SB_ERR_SDP_UNSUPPORTED);
}

static void test_negotiate_bundle_naming_unknown_mid_is_refused(void) {
  assert_refused("a=group:BUNDLE a v", "a=group:BUNDLE x a v", SB_ERR_SDP_INVALID);
  assert_refused("a=group:BUNDLE a v", "a=group:BUNDLE a v x", SB_ERR_SDP_INVALID);
}

static void test_negotiate_passive_offer_gets_active_answer(void) {
  sb_caps caps = echo_caps();
  char *text = offer_with("a=setup:actpass", "a=setup:passive");
  negotiated n;
  negotiate_text(&n, text, strlen(text), &caps);
  g_assert_cmpint(n.rt.setup, ==, SB_SETUP_PASSIVE);
  g_assert_cmpint(n.setup, ==, SB_SETUP_ACTIVE);
  check_answer(&n, &caps);
  g_assert_cmpint(media_at(n.parsed, 0)->setup, ==, SB_SETUP_ACTIVE);
  g_assert_nonnull(strstr(n.text, "a=setup:active\r\n"));
  negotiated_clear(&n);
  g_free(text);

  text = offer_with("a=setup:actpass", "a=setup:active");
  negotiate_text(&n, text, strlen(text), &caps);
  g_assert_cmpint(n.setup, ==, SB_SETUP_PASSIVE);
  check_answer(&n, &caps);
  g_assert_nonnull(strstr(n.text, "a=setup:passive\r\n"));
  negotiated_clear(&n);
  g_free(text);
}

static void test_negotiate_answer_without_local_candidates(void) {
  gsize len;
  char *text = load_fixture("chromium-sendrecv-av-data.sdp", &len);
  sb_sdp *offer = parse_ok(text, len);
  sb_caps caps = echo_caps();
  sb_local_transport lt = local_transport(SB_SETUP_PASSIVE);
  lt.candidates = NULL;
  lt.end_of_candidates = false;
  sb_sdp *answer = NULL;
  GPtrArray *descs = NULL;
  char *msg = NULL;
  g_assert_cmpint(sb_negotiate_answer(offer, &caps, &lt, &answer, &descs, &msg), ==, 0);
  for (guint i = 0; i < answer->media->len; i++)
    g_assert_cmpuint(media_at(answer, i)->candidates->len, ==, 0);
  g_ptr_array_unref(descs);
  sb_sdp_free(answer);
  sb_sdp_free(offer);
  g_free(text);
}

static void test_negotiate_fresh_local_ssrcs_each_time(void) {
  sb_caps caps = echo_caps();
  negotiated a, b;
  negotiate_fixture(&a, "chromium-sendrecv-av-data.sdp", &caps);
  negotiate_fixture(&b, "chromium-sendrecv-av-data.sdp", &caps);
  /* Random SSRCs (RFC 3550 §8): two answers do not share them. */
  g_assert_cmpuint(desc_at(&a, 1)->local_ssrc, !=, desc_at(&b, 1)->local_ssrc);
  negotiated_clear(&a);
  negotiated_clear(&b);
}

static void test_negotiate_extension_uris_round_trip(void) {
  for (int k = 0; k < SB_EXT_COUNT; k++) {
    const char *uri = sb_ext_uri((sb_ext_kind)k);
    g_assert_nonnull(uri);
    g_assert_cmpint(sb_ext_from_uri(uri), ==, k);
  }
  g_assert_null(sb_ext_uri(SB_EXT_COUNT));
  g_assert_cmpint(sb_ext_from_uri("urn:ietf:params:rtp-hdrext:toffset"), ==, SB_EXT_COUNT);
  g_assert_cmpint(sb_ext_from_uri(NULL), ==, SB_EXT_COUNT);
  g_assert_cmpstr(sb_media_kind_name(SB_MEDIA_VIDEO), ==, "video");
  g_assert_cmpstr(sb_media_kind_name((sb_media_kind)42), ==, "other");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/negotiate/check-offer/reads-tagged-transport",
                  test_negotiate_check_offer_reads_tagged_transport);
  g_test_add_func("/negotiate/setup/passive-unless-offer-is-passive",
                  test_negotiate_answer_setup_is_passive_unless_offer_is_passive);
  g_test_add_func("/negotiate/fixtures/every-fixture-answers-consistently",
                  test_negotiate_every_fixture_answers_consistently);
  g_test_add_func("/negotiate/fixtures/chromium-sendrecv-echo-answer",
                  test_negotiate_chromium_sendrecv_echo_answer);
  g_test_add_func("/negotiate/fixtures/chromium-recvonly-gets-sendonly-answer",
                  test_negotiate_chromium_recvonly_gets_sendonly_answer);
  g_test_add_func("/negotiate/fixtures/chromium-simulcast-gets-recvonly-answer",
                  test_negotiate_chromium_simulcast_gets_recvonly_answer);
  g_test_add_func("/negotiate/fixtures/firefox-echo-answer", test_negotiate_firefox_echo_answer);
  g_test_add_func("/negotiate/fixtures/aiortc-duplicate-extmap-id-answered-once",
                  test_negotiate_aiortc_duplicate_extmap_id_answered_once);
  g_test_add_func("/negotiate/fixtures/data-channel-accepted-when-caps-allow",
                  test_negotiate_data_channel_accepted_when_caps_allow);
  g_test_add_func("/negotiate/caps/twcc-kept-when-allowed", test_negotiate_twcc_kept_when_caps_allow);
  g_test_add_func("/negotiate/caps/without-rtx-or-remb", test_negotiate_without_rtx_or_remb);
  g_test_add_func("/negotiate/caps/restrict-video-to-vp8", test_negotiate_caps_restrict_video_to_vp8);
  g_test_add_func("/negotiate/caps/order-is-preference-unless-keeping-offer-order",
                  test_negotiate_caps_order_is_preference_when_not_keeping_offer_order);
  g_test_add_func("/negotiate/caps/receive-only-plugin-sends-nothing",
                  test_negotiate_receive_only_plugin_sends_nothing);
  g_test_add_func("/negotiate/offer/base-offer-is-answered", test_negotiate_base_offer_is_answered);
  g_test_add_func("/negotiate/offer/no-ice-credentials-refused",
                  test_negotiate_offer_without_ice_credentials_is_refused);
  g_test_add_func("/negotiate/offer/ice-credentials-of-wrong-length-refused",
                  test_negotiate_ice_credentials_of_wrong_length_are_refused);
  g_test_add_func("/negotiate/offer/no-fingerprint-refused",
                  test_negotiate_offer_without_fingerprint_is_refused);
  g_test_add_func("/negotiate/offer/unsupported-fingerprint-hash-refused",
                  test_negotiate_unsupported_fingerprint_hash_is_refused);
  g_test_add_func("/negotiate/offer/other-fingerprint-hashes-accepted",
                  test_negotiate_other_fingerprint_hashes_are_accepted);
  g_test_add_func("/negotiate/offer/live-m-sections-without-bundle-refused",
                  test_negotiate_live_m_sections_without_bundle_are_refused);
  g_test_add_func("/negotiate/offer/single-m-section-without-bundle-answered",
                  test_negotiate_single_m_section_without_bundle_is_answered);
  g_test_add_func("/negotiate/offer/m-section-outside-bundle-rejected",
                  test_negotiate_m_section_outside_bundle_is_rejected);
  g_test_add_func("/negotiate/offer/no-common-codec-refused", test_negotiate_no_common_codec_is_refused);
  g_test_add_func("/negotiate/offer/no-rtcp-mux-refused", test_negotiate_offer_without_rtcp_mux_is_refused);
  g_test_add_func("/negotiate/offer/setup-holdconn-refused", test_negotiate_setup_holdconn_is_refused);
  g_test_add_func("/negotiate/offer/bundle-naming-unknown-mid-refused",
                  test_negotiate_bundle_naming_unknown_mid_is_refused);
  g_test_add_func("/negotiate/offer/passive-offer-gets-active-answer",
                  test_negotiate_passive_offer_gets_active_answer);
  g_test_add_func("/negotiate/answer/without-local-candidates",
                  test_negotiate_answer_without_local_candidates);
  g_test_add_func("/negotiate/answer/fresh-local-ssrcs-each-time",
                  test_negotiate_fresh_local_ssrcs_each_time);
  g_test_add_func("/negotiate/extension-uris-round-trip", test_negotiate_extension_uris_round_trip);
  return g_test_run();
}
