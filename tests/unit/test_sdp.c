/* Unit tests for media/sdp: the real browser offers in tests/fixtures/sdp parse to
 * the right trees, write back to text that parses to the same tree, hand-built
 * trees write valid SDP, and malformed or hostile input fails with a message that
 * names the line, never a crash. */
#include "media/sdp.h"

#include <string.h>

#ifndef SB_SRCDIR
#define SB_SRCDIR "."
#endif

#define HEAD "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"

static const char *const fixtures[] = {
    "chromium-sendrecv-av-data.sdp", "chromium-recvonly-av.sdp",
    "chromium-sendonly-simulcast.sdp", "firefox-153-sendrecv-av-data.sdp",
    "aiortc-1.4-sendrecv-av-data.sdp",
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

/* Parses from a heap copy of exactly len bytes, so AddressSanitizer catches any
 * read past the end or any reliance on a terminating NUL. */
static int parse_exact(const char *text, size_t len, sb_sdp **out, char **err) {
  char *copy = len ? g_memdup2(text, len) : NULL;
  int rc = sb_sdp_parse(copy, len, out, err);
  g_free(copy);
  return rc;
}

static sb_sdp *parse_ok(const char *text, size_t len) {
  sb_sdp *sdp = NULL;
  char *err = NULL;
  if (parse_exact(text, len, &sdp, &err) != 0)
    g_error("parse failed: %s", err);
  g_assert_null(err);
  g_assert_nonnull(sdp);
  return sdp;
}

static sb_sdp *parse_fixture(const char *name) {
  gsize len;
  char *text = load_fixture(name, &len);
  sb_sdp *sdp = parse_ok(text, len);
  g_free(text);
  return sdp;
}

/* Expects failure; returns the message for the caller to check and free. */
static char *parse_err(const char *text, size_t len) {
  sb_sdp *sdp = NULL;
  char *err = NULL;
  g_assert_cmpint(parse_exact(text, len, &sdp, &err), ==, -1);
  g_assert_null(sdp);
  g_assert_nonnull(err);
  return err;
}

static void assert_rejected(const char *text, const char *expect) {
  char *err = parse_err(text, strlen(text));
  if (strstr(err, expect) == NULL)
    g_error("error \"%s\" does not contain \"%s\"", err, expect);
  g_free(err);
}

static sb_sdp_media *media(const sb_sdp *sdp, guint i) {
  g_assert_cmpuint(i, <, sdp->media->len);
  return g_ptr_array_index(sdp->media, i);
}

static sb_sdp_codec *codec_at(const sb_sdp_media *m, guint i) {
  g_assert_cmpuint(i, <, m->codecs->len);
  return g_ptr_array_index(m->codecs, i);
}

static const sb_sdp_extmap *extmap_at(const sb_sdp_media *m, guint i) {
  g_assert_cmpuint(i, <, m->extmaps->len);
  return g_ptr_array_index(m->extmaps, i);
}

static const char *str_at(const GPtrArray *a, guint i) {
  g_assert_cmpuint(i, <, a->len);
  return g_ptr_array_index(a, i);
}

static void assert_strs_equal(const GPtrArray *a, const GPtrArray *b) {
  g_assert_cmpuint(a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    g_assert_cmpstr(g_ptr_array_index(a, i), ==, g_ptr_array_index(b, i));
}

static void assert_media_equal(const sb_sdp_media *a, const sb_sdp_media *b) {
  g_assert_cmpstr(a->type, ==, b->type);
  g_assert_cmpuint(a->port, ==, b->port);
  g_assert_cmpstr(a->proto, ==, b->proto);
  assert_strs_equal(a->fmts, b->fmts);
  g_assert_cmpstr(a->conn_addr, ==, b->conn_addr);
  g_assert_cmpstr(a->mid, ==, b->mid);
  g_assert_cmpint(a->direction, ==, b->direction);
  g_assert_cmpint(a->rtcp_mux, ==, b->rtcp_mux);
  g_assert_cmpint(a->rtcp_rsize, ==, b->rtcp_rsize);
  g_assert_cmpint(a->bundle_only, ==, b->bundle_only);
  g_assert_cmpint(a->end_of_candidates, ==, b->end_of_candidates);
  g_assert_cmpint(a->extmap_allow_mixed, ==, b->extmap_allow_mixed);
  g_assert_cmpstr(a->ice_ufrag, ==, b->ice_ufrag);
  g_assert_cmpstr(a->ice_pwd, ==, b->ice_pwd);
  g_assert_cmpstr(a->fingerprint_hash, ==, b->fingerprint_hash);
  g_assert_cmpstr(a->fingerprint, ==, b->fingerprint);
  g_assert_cmpint(a->setup, ==, b->setup);
  g_assert_cmpuint(a->codecs->len, ==, b->codecs->len);
  for (guint i = 0; i < a->codecs->len; i++) {
    const sb_sdp_codec *x = codec_at(a, i), *y = codec_at(b, i);
    g_assert_cmpint(x->pt, ==, y->pt);
    g_assert_cmpstr(x->encoding, ==, y->encoding);
    g_assert_cmpuint(x->clock_rate, ==, y->clock_rate);
    g_assert_cmpuint(x->channels, ==, y->channels);
    g_assert_cmpstr(x->fmtp, ==, y->fmtp);
    assert_strs_equal(x->rtcp_fb, y->rtcp_fb);
  }
  g_assert_cmpuint(a->extmaps->len, ==, b->extmaps->len);
  for (guint i = 0; i < a->extmaps->len; i++) {
    const sb_sdp_extmap *x = extmap_at(a, i), *y = extmap_at(b, i);
    g_assert_cmpint(x->id, ==, y->id);
    g_assert_cmpint(x->dir, ==, y->dir);
    g_assert_cmpstr(x->uri, ==, y->uri);
    g_assert_cmpstr(x->attrs, ==, y->attrs);
  }
  g_assert_cmpuint(a->ssrcs->len, ==, b->ssrcs->len);
  for (guint i = 0; i < a->ssrcs->len; i++) {
    const sb_sdp_ssrc *x = g_ptr_array_index(a->ssrcs, i), *y = g_ptr_array_index(b->ssrcs, i);
    g_assert_cmpuint(x->ssrc, ==, y->ssrc);
    g_assert_cmpstr(x->attr, ==, y->attr);
    g_assert_cmpstr(x->value, ==, y->value);
  }
  g_assert_cmpuint(a->ssrc_groups->len, ==, b->ssrc_groups->len);
  for (guint i = 0; i < a->ssrc_groups->len; i++) {
    const sb_sdp_ssrc_group *x = g_ptr_array_index(a->ssrc_groups, i);
    const sb_sdp_ssrc_group *y = g_ptr_array_index(b->ssrc_groups, i);
    g_assert_cmpstr(x->semantics, ==, y->semantics);
    g_assert_cmpmem(x->ssrcs->data, x->ssrcs->len * 4, y->ssrcs->data, y->ssrcs->len * 4);
  }
  g_assert_cmpstr(a->msid, ==, b->msid);
  g_assert_cmpuint(a->rids->len, ==, b->rids->len);
  for (guint i = 0; i < a->rids->len; i++) {
    const sb_sdp_rid *x = g_ptr_array_index(a->rids, i), *y = g_ptr_array_index(b->rids, i);
    g_assert_cmpstr(x->id, ==, y->id);
    g_assert_cmpint(x->send, ==, y->send);
    g_assert_cmpstr(x->params, ==, y->params);
  }
  g_assert_cmpstr(a->simulcast, ==, b->simulcast);
  assert_strs_equal(a->candidates, b->candidates);
  g_assert_cmpuint(a->sctp_port, ==, b->sctp_port);
  g_assert_cmpint(a->sctpmap, ==, b->sctpmap);
  g_assert_cmpuint(a->max_message_size, ==, b->max_message_size);
}

static void assert_sdp_equal(const sb_sdp *a, const sb_sdp *b) {
  g_assert_cmpstr(a->origin_user, ==, b->origin_user);
  g_assert_cmpuint(a->session_id, ==, b->session_id);
  g_assert_cmpuint(a->session_version, ==, b->session_version);
  g_assert_cmpstr(a->origin_addr, ==, b->origin_addr);
  g_assert_cmpstr(a->session_name, ==, b->session_name);
  g_assert_cmpstr(a->conn_addr, ==, b->conn_addr);
  g_assert_cmpuint(a->groups->len, ==, b->groups->len);
  for (guint i = 0; i < a->groups->len; i++) {
    const sb_sdp_group *x = g_ptr_array_index(a->groups, i), *y = g_ptr_array_index(b->groups, i);
    g_assert_cmpstr(x->semantics, ==, y->semantics);
    assert_strs_equal(x->mids, y->mids);
  }
  g_assert_cmpstr(a->msid_semantic, ==, b->msid_semantic);
  g_assert_cmpint(a->extmap_allow_mixed, ==, b->extmap_allow_mixed);
  g_assert_cmpstr(a->ice_ufrag, ==, b->ice_ufrag);
  g_assert_cmpstr(a->ice_pwd, ==, b->ice_pwd);
  g_assert_cmpint(a->ice_lite, ==, b->ice_lite);
  g_assert_cmpint(a->ice_trickle, ==, b->ice_trickle);
  g_assert_cmpstr(a->fingerprint_hash, ==, b->fingerprint_hash);
  g_assert_cmpstr(a->fingerprint, ==, b->fingerprint);
  g_assert_cmpint(a->setup, ==, b->setup);
  g_assert_cmpuint(a->media->len, ==, b->media->len);
  for (guint i = 0; i < a->media->len; i++)
    assert_media_equal(media(a, i), media(b, i));
}

/* Every line of written SDP ends in CRLF and no bare LF or CR appears. */
static void assert_crlf_only(const char *text) {
  size_t n = strlen(text);
  g_assert_cmpuint(n, >=, 2);
  g_assert_cmpmem(text + n - 2, 2, "\r\n", 2);
  for (size_t i = 0; i < n; i++) {
    if (text[i] == '\n')
      g_assert_cmpint(i > 0 && text[i - 1] == '\r', ==, 1);
    if (text[i] == '\r')
      g_assert_cmpint(text[i + 1], ==, '\n');
  }
}

/* If parsing succeeds, the tree must write, and the text must parse again to the
 * same text. Used on every mutation of the fixtures. */
static void check_write_reparse(const char *text, size_t len) {
  sb_sdp *sdp = NULL, *again = NULL;
  char *err = NULL;
  if (parse_exact(text, len, &sdp, &err) != 0) {
    g_assert_nonnull(err);
    g_assert_cmpuint(strlen(err), >, 0);
    g_free(err);
    return;
  }
  char *out = sb_sdp_write(sdp);
  if (sb_sdp_parse(out, strlen(out), &again, &err) != 0)
    g_error("written SDP does not parse: %s\n%s", err, out);
  char *out2 = sb_sdp_write(again);
  g_assert_cmpstr(out, ==, out2);
  g_free(out);
  g_free(out2);
  sb_sdp_free(sdp);
  sb_sdp_free(again);
}

/* ---- the fixtures ------------------------------------------------------- */

static void test_parse_chromium_sendrecv_offer(void) {
  sb_sdp *sdp = parse_fixture("chromium-sendrecv-av-data.sdp");
  g_assert_cmpstr(sdp->origin_user, ==, "-");
  g_assert_cmpuint(sdp->session_id, ==, G_GUINT64_CONSTANT(5681965897158052251));
  g_assert_cmpuint(sdp->session_version, ==, 2);
  g_assert_cmpstr(sdp->origin_addr, ==, "127.0.0.1");
  g_assert_cmpstr(sdp->session_name, ==, "-");
  g_assert_true(sdp->extmap_allow_mixed);
  g_assert_true(sdp->ice_trickle);
  g_assert_false(sdp->ice_lite);
  g_assert_cmpstr(sdp->msid_semantic, ==, "WMS 1298b69c-c007-4818-9cff-976efee96b27");
  g_assert_null(sdp->ice_ufrag);
  g_assert_null(sdp->fingerprint);

  const sb_sdp_group *bundle = sb_sdp_bundle_group(sdp);
  g_assert_nonnull(bundle);
  g_assert_cmpuint(bundle->mids->len, ==, 3);
  g_assert_cmpstr(str_at(bundle->mids, 0), ==, "0");
  g_assert_cmpstr(str_at(bundle->mids, 2), ==, "2");

  g_assert_cmpuint(sdp->media->len, ==, 3);
  sb_sdp_media *a = media(sdp, 0), *v = media(sdp, 1), *d = media(sdp, 2);

  g_assert_cmpstr(a->type, ==, "audio");
  g_assert_cmpuint(a->port, ==, 47250);
  g_assert_cmpstr(a->proto, ==, "UDP/TLS/RTP/SAVPF");
  g_assert_cmpstr(a->conn_addr, ==, "127.0.0.1");
  g_assert_cmpstr(a->mid, ==, "0");
  g_assert_cmpint(a->direction, ==, SB_DIR_SENDRECV);
  g_assert_true(a->rtcp_mux);
  g_assert_true(a->rtcp_rsize);
  g_assert_false(a->end_of_candidates);
  g_assert_cmpstr(a->ice_ufrag, ==, "nOp8");
  g_assert_cmpstr(a->ice_pwd, ==, "AFpRIcie0CsiULMjy8vpETlw");
  g_assert_cmpstr(a->fingerprint_hash, ==, "sha-256");
  g_assert_true(g_str_has_prefix(a->fingerprint, "96:C2:96:CE:"));
  g_assert_cmpint(a->setup, ==, SB_SETUP_ACTPASS);
  g_assert_cmpuint(a->codecs->len, ==, 8);
  static const int audio_pts[] = {111, 63, 9, 0, 8, 13, 110, 126};
  for (guint i = 0; i < G_N_ELEMENTS(audio_pts); i++)
    g_assert_cmpint(codec_at(a, i)->pt, ==, audio_pts[i]);
  sb_sdp_codec *opus = sb_sdp_media_codec(a, 111);
  g_assert_cmpstr(opus->encoding, ==, "opus");
  g_assert_cmpuint(opus->clock_rate, ==, 48000);
  g_assert_cmpuint(opus->channels, ==, 2);
  g_assert_cmpstr(opus->fmtp, ==, "minptime=10;useinbandfec=1");
  g_assert_cmpuint(opus->rtcp_fb->len, ==, 1);
  g_assert_cmpstr(str_at(opus->rtcp_fb, 0), ==, "transport-cc");
  g_assert_cmpstr(sb_sdp_media_codec(a, 63)->fmtp, ==, "111/111");
  g_assert_cmpuint(sb_sdp_media_codec(a, 0)->channels, ==, 0);
  g_assert_cmpuint(a->extmaps->len, ==, 4);
  g_assert_cmpint(sb_sdp_media_extmap_by_uri(a, "urn:ietf:params:rtp-hdrext:sdes:mid")->id, ==, 4);
  g_assert_cmpuint(a->candidates->len, ==, 2);
  g_assert_true(g_str_has_prefix(str_at(a->candidates, 0), "candidate:3114941324 1 udp "));
  g_assert_cmpstr(a->msid, ==,
                  "1298b69c-c007-4818-9cff-976efee96b27 ac1de370-3ad3-4b9b-8383-8c850a4c12b9");
  g_assert_cmpuint(a->ssrcs->len, ==, 2);
  g_assert_cmpstr(sb_sdp_media_ssrc_attr(a, 1158016063, "cname"), ==, "TplhjA4NZXfv+Sho");

  g_assert_cmpstr(v->type, ==, "video");
  g_assert_cmpuint(v->codecs->len, ==, 23);
  g_assert_cmpuint(v->fmts->len, ==, 23);
  g_assert_cmpuint(v->extmaps->len, ==, 11);
  g_assert_cmpint(extmap_at(v, 0)->id, ==, 14);
  sb_sdp_codec *vp8 = sb_sdp_media_codec(v, 96);
  g_assert_cmpstr(vp8->encoding, ==, "VP8");
  g_assert_cmpuint(vp8->clock_rate, ==, 90000);
  g_assert_cmpuint(vp8->rtcp_fb->len, ==, 5);
  g_assert_cmpstr(str_at(vp8->rtcp_fb, 4), ==, "nack pli");
  g_assert_cmpstr(sb_sdp_media_codec(v, 97)->fmtp, ==, "apt=96");
  g_assert_cmpuint(v->ssrc_groups->len, ==, 1);
  const sb_sdp_ssrc_group *fid = g_ptr_array_index(v->ssrc_groups, 0);
  g_assert_cmpstr(fid->semantics, ==, "FID");
  g_assert_cmpuint(fid->ssrcs->len, ==, 2);
  g_assert_cmpuint(g_array_index(fid->ssrcs, uint32_t, 0), ==, 602579745u);
  g_assert_cmpuint(g_array_index(fid->ssrcs, uint32_t, 1), ==, 3832539338u);
  g_assert_cmpuint(v->ssrcs->len, ==, 4);
  g_assert_cmpuint(v->rids->len, ==, 0);
  g_assert_null(v->simulcast);

  g_assert_cmpstr(d->type, ==, "application");
  g_assert_cmpstr(d->proto, ==, "UDP/DTLS/SCTP");
  g_assert_false(sb_sdp_media_is_rtp(d));
  g_assert_cmpuint(d->fmts->len, ==, 1);
  g_assert_cmpstr(str_at(d->fmts, 0), ==, "webrtc-datachannel");
  g_assert_cmpuint(d->codecs->len, ==, 0);
  g_assert_cmpuint(d->sctp_port, ==, 5000);
  g_assert_false(d->sctpmap);
  g_assert_cmpuint(d->max_message_size, ==, 262144);
  g_assert_cmpstr(d->mid, ==, "2");
  sb_sdp_free(sdp);
}

static void test_parse_chromium_recvonly_offer(void) {
  sb_sdp *sdp = parse_fixture("chromium-recvonly-av.sdp");
  g_assert_cmpuint(sdp->media->len, ==, 2);
  g_assert_cmpstr(sdp->msid_semantic, ==, "WMS");
  for (guint i = 0; i < 2; i++) {
    sb_sdp_media *m = media(sdp, i);
    g_assert_cmpint(m->direction, ==, SB_DIR_RECVONLY);
    g_assert_null(m->msid);
    g_assert_cmpuint(m->ssrcs->len, ==, 0);
    g_assert_cmpuint(m->candidates->len, ==, 2);
  }
  sb_sdp_media *v = media(sdp, 1);
  g_assert_cmpuint(v->codecs->len, ==, 34);
  g_assert_cmpuint(v->extmaps->len, ==, 11);
  sb_sdp_codec *av1 = sb_sdp_media_codec(v, 45);
  g_assert_cmpstr(av1->encoding, ==, "AV1");
  g_assert_cmpstr(av1->fmtp, ==, "level-idx=5;profile=0;tier=0");
  g_assert_cmpstr(sb_sdp_media_codec(v, 49)->encoding, ==, "flexfec-03");
  g_assert_cmpint(codec_at(v, 33)->pt, ==, 49);
  sb_sdp_free(sdp);
}

static void test_parse_chromium_simulcast_offer(void) {
  sb_sdp *sdp = parse_fixture("chromium-sendonly-simulcast.sdp");
  g_assert_cmpuint(sdp->media->len, ==, 2);
  sb_sdp_media *a = media(sdp, 0), *v = media(sdp, 1);
  g_assert_cmpint(a->direction, ==, SB_DIR_SENDONLY);
  g_assert_cmpint(v->direction, ==, SB_DIR_SENDONLY);
  g_assert_cmpuint(a->ssrcs->len, ==, 2);
  g_assert_cmpstr(sb_sdp_media_ssrc_attr(a, 1381182158, "msid"), ==,
                  "- ac1de370-3ad3-4b9b-8383-8c850a4c12b9");
  g_assert_cmpstr(v->msid, ==, "- b9b7e140-7f5c-49b3-ac8c-a37876711db2");
  g_assert_cmpuint(v->ssrcs->len, ==, 0);
  g_assert_cmpuint(v->ssrc_groups->len, ==, 0);
  g_assert_cmpuint(v->extmaps->len, ==, 13);
  g_assert_cmpint(sb_sdp_media_extmap_by_uri(
                      v, "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id")->id, ==, 10);
  g_assert_cmpuint(v->rids->len, ==, 3);
  static const char *const rids[] = {"q", "h", "f"};
  for (guint i = 0; i < 3; i++) {
    const sb_sdp_rid *r = g_ptr_array_index(v->rids, i);
    g_assert_cmpstr(r->id, ==, rids[i]);
    g_assert_true(r->send);
    g_assert_null(r->params);
  }
  g_assert_cmpstr(v->simulcast, ==, "send q;h;f");
  g_assert_cmpuint(v->codecs->len, ==, 23);
  sb_sdp_free(sdp);
}

static void test_parse_firefox_session_level_fingerprint(void) {
  sb_sdp *sdp = parse_fixture("firefox-153-sendrecv-av-data.sdp");
  g_assert_cmpstr(sdp->origin_user, ==, "mozilla...THIS_IS_SDPARTA-99.0");
  g_assert_cmpuint(sdp->session_id, ==, G_GUINT64_CONSTANT(8337344902718210542));
  g_assert_cmpuint(sdp->session_version, ==, 0);
  g_assert_cmpstr(sdp->fingerprint_hash, ==, "sha-256");
  g_assert_true(g_str_has_prefix(sdp->fingerprint, "EF:FA:AA:EC:"));
  g_assert_true(sdp->ice_trickle);
  g_assert_false(sdp->extmap_allow_mixed);
  g_assert_cmpstr(sdp->msid_semantic, ==, "WMS *");
  g_assert_nonnull(sb_sdp_bundle_group(sdp));
  g_assert_cmpuint(sdp->media->len, ==, 3);
  for (guint i = 0; i < 3; i++) {
    sb_sdp_media *m = media(sdp, i);
    const char *hash = NULL;
    g_assert_null(m->fingerprint);
    g_assert_true(sb_sdp_media_fingerprint(sdp, m, &hash) == sdp->fingerprint);
    g_assert_cmpstr(hash, ==, "sha-256");
    g_assert_cmpstr(sb_sdp_media_ice_ufrag(sdp, m), ==, "9d493825");
    g_assert_cmpstr(sb_sdp_media_ice_pwd(sdp, m), ==, "86f278738cabdc61ae8ef5f99b7859b1");
    g_assert_cmpint(sb_sdp_media_setup(sdp, m), ==, SB_SETUP_ACTPASS);
    g_assert_cmpint(m->direction, ==, SB_DIR_SENDRECV);
    g_assert_true(m->end_of_candidates);
  }
  sb_sdp_media *a = media(sdp, 0), *v = media(sdp, 1), *d = media(sdp, 2);
  g_assert_true(a->extmap_allow_mixed);
  g_assert_true(sb_sdp_media_extmap_allow_mixed(sdp, a));
  g_assert_false(d->extmap_allow_mixed);
  g_assert_cmpuint(a->candidates->len, ==, 4);
  g_assert_cmpuint(a->extmaps->len, ==, 4);
  g_assert_cmpint(extmap_at(a, 1)->id, ==, 2);
  g_assert_cmpint(extmap_at(a, 1)->dir, ==, SB_DIR_RECVONLY);
  g_assert_cmpstr(extmap_at(a, 1)->uri, ==, "urn:ietf:params:rtp-hdrext:csrc-audio-level");
  g_assert_cmpuint(a->codecs->len, ==, 5);
  g_assert_cmpuint(sb_sdp_media_codec(a, 9)->channels, ==, 1);
  g_assert_cmpstr(sb_sdp_media_codec(a, 101)->fmtp, ==, "0-15");
  g_assert_cmpstr(sb_sdp_media_codec(a, 109)->fmtp, ==,
                  "maxplaybackrate=48000;stereo=1;useinbandfec=1");
  g_assert_cmpuint(sb_sdp_media_codec(a, 8)->rtcp_fb->len, ==, 1);
  g_assert_cmpuint(sb_sdp_media_codec(a, 101)->rtcp_fb->len, ==, 0);
  g_assert_cmpuint(v->codecs->len, ==, 9);
  g_assert_cmpuint(sb_sdp_media_codec(v, 120)->rtcp_fb->len, ==, 5);
  g_assert_cmpstr(sb_sdp_media_codec(v, 119)->fmtp, ==, "apt=122");
  g_assert_cmpuint(v->ssrc_groups->len, ==, 1);
  g_assert_cmpuint(v->ssrcs->len, ==, 2);
  g_assert_cmpint(extmap_at(v, 3)->dir, ==, SB_DIR_RECVONLY);
  g_assert_cmpuint(d->sctp_port, ==, 5000);
  g_assert_false(d->sctpmap);
  g_assert_cmpuint(d->max_message_size, ==, 1073741823);
  g_assert_cmpuint(d->candidates->len, ==, 2);
  sb_sdp_free(sdp);
}

static void test_parse_aiortc_old_sctpmap_and_per_mline_ice(void) {
  sb_sdp *sdp = parse_fixture("aiortc-1.4-sendrecv-av-data.sdp");
  g_assert_cmpuint(sdp->media->len, ==, 3);
  g_assert_null(sdp->ice_ufrag);
  g_assert_false(sdp->ice_trickle);
  g_assert_cmpstr(sdp->msid_semantic, ==, "WMS *");
  static const char *const ufrags[] = {"Jcip", "ms1K", "veqH"};
  for (guint i = 0; i < 3; i++) {
    sb_sdp_media *m = media(sdp, i);
    g_assert_cmpstr(m->ice_ufrag, ==, ufrags[i]);
    g_assert_cmpstr(sb_sdp_media_ice_ufrag(sdp, m), ==, ufrags[i]);
    g_assert_cmpstr(m->conn_addr, ==, "192.0.2.2");
    g_assert_true(m->end_of_candidates);
    g_assert_cmpuint(m->candidates->len, ==, 2);
  }
  sb_sdp_media *a = media(sdp, 0), *v = media(sdp, 1), *d = media(sdp, 2);
  /* aiortc maps id 2 to a different extension in each m-section; that is the
   * negotiator's problem (RFC 9143 §7.2.2), the parser keeps both. */
  g_assert_cmpstr(extmap_at(a, 1)->uri, ==, "urn:ietf:params:rtp-hdrext:ssrc-audio-level");
  g_assert_cmpint(extmap_at(a, 1)->id, ==, 2);
  g_assert_cmpstr(extmap_at(v, 1)->uri, ==,
                  "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time");
  g_assert_cmpint(extmap_at(v, 1)->id, ==, 2);
  g_assert_cmpuint(a->codecs->len, ==, 3);
  g_assert_cmpstr(sb_sdp_media_codec(a, 0)->encoding, ==, "PCMU");
  g_assert_cmpstr(sb_sdp_media_codec(a, 8)->encoding, ==, "PCMA");
  g_assert_false(a->rtcp_rsize);
  g_assert_cmpuint(v->codecs->len, ==, 6);
  g_assert_cmpuint(v->ssrc_groups->len, ==, 1);
  g_assert_cmpuint(v->ssrcs->len, ==, 2);
  g_assert_cmpstr(d->proto, ==, "DTLS/SCTP");
  g_assert_cmpstr(str_at(d->fmts, 0), ==, "5000");
  g_assert_cmpuint(d->codecs->len, ==, 0);
  g_assert_true(d->sctpmap);
  g_assert_cmpuint(d->sctp_port, ==, 5000);
  g_assert_cmpuint(d->max_message_size, ==, 65536);
  sb_sdp_free(sdp);
}

static void test_parse_accepts_lf_line_endings(void) {
  for (guint f = 0; f < G_N_ELEMENTS(fixtures); f++) {
    gsize len;
    char *crlf = load_fixture(fixtures[f], &len);
    char **lines = g_strsplit(crlf, "\r\n", -1);
    char *lf = g_strjoinv("\n", lines);
    g_assert_null(strchr(lf, '\r'));
    sb_sdp *a = parse_ok(crlf, len), *b = parse_ok(lf, strlen(lf));
    assert_sdp_equal(a, b);
    sb_sdp_free(a);
    sb_sdp_free(b);
    g_strfreev(lines);
    g_free(lf);
    g_free(crlf);
  }
}

static void test_parse_reads_only_len_bytes(void) {
  /* No terminator and the last line without its line ending: still whole. */
  const char *text = HEAD "m=audio 9 RTP/AVP 0\r\na=mid:audio";
  sb_sdp *sdp = parse_ok(text, strlen(text));
  g_assert_cmpstr(media(sdp, 0)->mid, ==, "audio");
  sb_sdp_free(sdp);
  /* The length, not a NUL, ends the text: the tail is never looked at. */
  const char *longer = HEAD "m=audio 9 RTP/AVP 0\r\na=mid:audioGARBAGE";
  sdp = parse_ok(longer, strlen(longer) - strlen("GARBAGE"));
  g_assert_cmpstr(media(sdp, 0)->mid, ==, "audio");
  sb_sdp_free(sdp);
}

static void test_parse_static_payload_types_without_rtpmap(void) {
  const char *text = HEAD "m=audio 9 RTP/AVP 0 8 96\r\n"
                          "a=rtpmap:96 opus/48000/2\r\n"
                          "a=rtpmap:97 rtx/48000\r\n"
                          "a=fmtp:97 apt=96\r\n"
                          "a=rtcp-fb:97 nack\r\n";
  sb_sdp *sdp = parse_ok(text, strlen(text));
  sb_sdp_media *m = media(sdp, 0);
  g_assert_cmpuint(m->codecs->len, ==, 3);
  g_assert_cmpint(codec_at(m, 0)->pt, ==, 0);
  g_assert_null(codec_at(m, 0)->encoding);
  g_assert_cmpuint(codec_at(m, 0)->clock_rate, ==, 0);
  g_assert_null(codec_at(m, 1)->encoding);
  g_assert_cmpstr(codec_at(m, 2)->encoding, ==, "opus");
  g_assert_null(sb_sdp_media_codec(m, 97));
  g_assert_null(m->conn_addr);
  sb_sdp_free(sdp);
}

static void test_parse_rtcp_fb_wildcard_applies_to_every_pt(void) {
  const char *text = HEAD "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"
                          "a=rtpmap:96 VP8/90000\r\n"
                          "a=rtpmap:97 rtx/90000\r\n"
                          "a=rtcp-fb:96 nack\r\n"
                          "a=rtcp-fb:* nack\r\n"
                          "a=rtcp-fb:* ccm fir\r\n";
  sb_sdp *sdp = parse_ok(text, strlen(text));
  sb_sdp_codec *vp8 = sb_sdp_media_codec(media(sdp, 0), 96);
  sb_sdp_codec *rtx = sb_sdp_media_codec(media(sdp, 0), 97);
  g_assert_cmpuint(vp8->rtcp_fb->len, ==, 2); /* "nack" once, not twice */
  g_assert_cmpstr(str_at(vp8->rtcp_fb, 0), ==, "nack");
  g_assert_cmpstr(str_at(vp8->rtcp_fb, 1), ==, "ccm fir");
  g_assert_cmpuint(rtx->rtcp_fb->len, ==, 2);
  sb_sdp_free(sdp);
}

static void test_parse_session_level_defaults_apply_to_media(void) {
  const char *text = HEAD "a=recvonly\r\n"
                          "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
                          "a=extmap:5/sendonly urn:x vad=on\r\n"
                          "a=ice-ufrag:sess\r\na=ice-pwd:sessionpasswordsessionpw\r\n"
                          "a=setup:passive\r\na=ice-lite\r\na=end-of-candidates\r\n"
                          "m=audio 9 RTP/AVP 0\r\n"
                          "a=extmap:5 urn:own\r\n"
                          "a=ice-ufrag:mine\r\n"
                          "m=video 9 RTP/AVP 96\r\n"
                          "a=inactive\r\na=setup:active\r\n"
                          "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
  sb_sdp *sdp = parse_ok(text, strlen(text));
  sb_sdp_media *a = media(sdp, 0), *v = media(sdp, 1), *d = media(sdp, 2);
  g_assert_true(sdp->ice_lite);
  g_assert_cmpint(a->direction, ==, SB_DIR_RECVONLY);
  g_assert_cmpint(v->direction, ==, SB_DIR_INACTIVE);
  g_assert_cmpint(d->direction, ==, SB_DIR_RECVONLY);
  g_assert_true(a->end_of_candidates && v->end_of_candidates && d->end_of_candidates);
  /* The m-section's own id 5 wins; the session's id 3 is added. */
  g_assert_cmpuint(a->extmaps->len, ==, 2);
  g_assert_cmpstr(extmap_at(a, 0)->uri, ==, "urn:own");
  g_assert_cmpint(extmap_at(a, 1)->id, ==, 3);
  g_assert_cmpuint(v->extmaps->len, ==, 2);
  g_assert_cmpint(extmap_at(v, 1)->dir, ==, SB_DIR_SENDONLY);
  g_assert_cmpstr(extmap_at(v, 1)->attrs, ==, "vad=on");
  g_assert_cmpuint(d->extmaps->len, ==, 0);
  g_assert_cmpstr(sb_sdp_media_ice_ufrag(sdp, a), ==, "mine");
  g_assert_cmpstr(sb_sdp_media_ice_ufrag(sdp, v), ==, "sess");
  g_assert_cmpstr(sb_sdp_media_ice_pwd(sdp, a), ==, "sessionpasswordsessionpw");
  g_assert_cmpint(sb_sdp_media_setup(sdp, a), ==, SB_SETUP_PASSIVE);
  g_assert_cmpint(sb_sdp_media_setup(sdp, v), ==, SB_SETUP_ACTIVE);
  sb_sdp_free(sdp);
}

static void test_parse_tolerates_whitespace_and_blank_lines(void) {
  const char *text = "v=0  \n\no=- 1 2 IN IP6 ::1\t\r\n\r\ns=  \r\n"
                     "a=msid-semantic:   WMS  \r\n"
                     "m=audio  9  RTP/AVP   0   8 \r\n"
                     "a=mid:  a  \r\na=fingerprint:SHA-256 ab:cd:EF:01:23:45:67:89:ab:cd:"
                     "ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89\r\n"
                     "a=unknown-attribute:whatever\r\nb=AS:30\r\n\r\n";
  sb_sdp *sdp = parse_ok(text, strlen(text));
  g_assert_cmpstr(sdp->origin_addr, ==, "::1");
  g_assert_cmpstr(sdp->msid_semantic, ==, "WMS");
  g_assert_cmpstr(media(sdp, 0)->mid, ==, "a");
  g_assert_cmpuint(media(sdp, 0)->codecs->len, ==, 2);
  g_assert_cmpstr(media(sdp, 0)->fingerprint_hash, ==, "sha-256");
  g_assert_true(g_str_has_prefix(media(sdp, 0)->fingerprint, "AB:CD:EF:01:"));
  char *out = sb_sdp_write(sdp);
  g_assert_nonnull(strstr(out, "o=- 1 2 IN IP6 ::1\r\n"));
  g_assert_nonnull(strstr(out, "\r\ns=-\r\n"));
  g_free(out);
  sb_sdp_free(sdp);
}

static void test_parse_error_pointer_may_be_null(void) {
  sb_sdp *sdp = NULL;
  g_assert_cmpint(sb_sdp_parse("x", 1, &sdp, NULL), ==, -1);
  g_assert_null(sdp);
  g_assert_cmpint(sb_sdp_parse(HEAD, strlen(HEAD), &sdp, NULL), ==, 0);
  g_assert_cmpuint(sdp->media->len, ==, 0);
  sb_sdp_free(sdp);
}

/* ---- round trip ---------------------------------------------------------- */

static void test_roundtrip_fixture(gconstpointer data) {
  const char *name = data;
  sb_sdp *sdp = parse_fixture(name);
  char *out = sb_sdp_write(sdp);
  assert_crlf_only(out);
  g_assert_true(g_str_has_prefix(out, "v=0\r\no="));
  sb_sdp *again = parse_ok(out, strlen(out));
  assert_sdp_equal(sdp, again);
  char *out2 = sb_sdp_write(again);
  g_assert_cmpstr(out, ==, out2);
  g_free(out);
  g_free(out2);
  sb_sdp_free(sdp);
  sb_sdp_free(again);
}

/* ---- writing ------------------------------------------------------------- */

static void test_write_hand_built_offer(void) {
  sb_sdp *sdp = sb_sdp_new();
  g_assert_cmpuint(sdp->session_id, <=, (guint64)G_MAXINT64);
  sdp->session_id = 42;
  sdp->session_version = 3;
  sdp->ice_lite = true;
  sdp->ice_ufrag = g_strdup("sfuF");
  sdp->ice_pwd = g_strdup("sfupasswordsfupassword");
  sdp->fingerprint_hash = g_strdup("sha-256");
  sdp->fingerprint = g_strdup("AA:BB");
  sdp->setup = SB_SETUP_PASSIVE;
  sdp->msid_semantic = g_strdup("WMS *");
  sb_sdp_group *g = g_new0(sb_sdp_group, 1);
  g->semantics = g_strdup("BUNDLE");
  g->mids = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(g->mids, g_strdup("0"));
  g_ptr_array_add(g->mids, g_strdup("1"));
  g_ptr_array_add(sdp->groups, g);

  sb_sdp_media *v = sb_sdp_media_new("video");
  v->mid = g_strdup("0");
  v->direction = SB_DIR_SENDONLY;
  v->rtcp_mux = true;
  v->msid = g_strdup("s t");
  sb_sdp_codec *vp8 = sb_sdp_codec_new(96, "VP8", 90000, 0);
  g_ptr_array_add(vp8->rtcp_fb, g_strdup("nack"));
  g_ptr_array_add(vp8->rtcp_fb, g_strdup("nack pli"));
  sb_sdp_codec *rtx = sb_sdp_codec_new(97, "rtx", 90000, 0);
  rtx->fmtp = g_strdup("apt=96");
  g_ptr_array_add(v->codecs, vp8);
  g_ptr_array_add(v->codecs, rtx);
  sb_sdp_extmap *e = g_new0(sb_sdp_extmap, 1);
  e->id = 4;
  e->dir = SB_DIR_RECVONLY;
  e->uri = g_strdup("urn:ietf:params:rtp-hdrext:sdes:mid");
  g_ptr_array_add(v->extmaps, e);
  sb_sdp_ssrc_group *fid = g_new0(sb_sdp_ssrc_group, 1);
  fid->semantics = g_strdup("FID");
  fid->ssrcs = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  uint32_t ssrcs[] = {1, 4294967295u};
  g_array_append_vals(fid->ssrcs, ssrcs, 2);
  g_ptr_array_add(v->ssrc_groups, fid);
  sb_sdp_ssrc *s = g_new0(sb_sdp_ssrc, 1);
  s->ssrc = 4294967295u;
  s->attr = g_strdup("cname");
  s->value = g_strdup("x");
  g_ptr_array_add(v->ssrcs, s);
  g_ptr_array_add(v->candidates, g_strdup("candidate:1 1 udp 1 192.0.2.1 5000 typ host"));
  g_ptr_array_add(v->candidates, g_strdup("2 1 udp 1 192.0.2.1 5001 typ host"));
  v->end_of_candidates = true;
  g_ptr_array_add(sdp->media, v);

  sb_sdp_media *d = sb_sdp_media_new("application");
  d->mid = g_strdup("1");
  d->sctp_port = 5000;
  d->max_message_size = 262144;
  g_ptr_array_add(sdp->media, d);

  char *out = sb_sdp_write(sdp);
  assert_crlf_only(out);
  static const char *const expected =
      "v=0\r\no=- 42 3 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
      "a=group:BUNDLE 0 1\r\na=msid-semantic:WMS *\r\na=ice-lite\r\n"
      "a=ice-ufrag:sfuF\r\na=ice-pwd:sfupasswordsfupassword\r\n"
      "a=fingerprint:sha-256 AA:BB\r\na=setup:passive\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
      "a=extmap:4/recvonly urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
      "a=sendonly\r\na=msid:s t\r\na=rtcp-mux\r\n"
      "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n"
      "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
      "a=ssrc-group:FID 1 4294967295\r\na=ssrc:4294967295 cname:x\r\n"
      "a=candidate:1 1 udp 1 192.0.2.1 5000 typ host\r\n"
      "a=candidate:2 1 udp 1 192.0.2.1 5001 typ host\r\na=end-of-candidates\r\n"
      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
      "a=mid:1\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n";
  g_assert_cmpstr(out, ==, expected);
  sb_sdp *back = NULL;
  char *err = NULL;
  /* The hand-built fingerprint is deliberately short: the writer writes what it is
   * given, the parser checks it. */
  g_assert_cmpint(sb_sdp_parse(out, strlen(out), &back, &err), ==, -1);
  g_assert_nonnull(strstr(err, "sha-256 needs 32 bytes"));
  g_free(err);
  g_free(sdp->fingerprint);
  sdp->fingerprint = g_strdup("AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:"
                              "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99");
  g_free(out);
  out = sb_sdp_write(sdp);
  back = parse_ok(out, strlen(out));
  char *out2 = sb_sdp_write(back);
  g_assert_cmpstr(out, ==, out2);
  g_assert_cmpint(media(back, 0)->direction, ==, SB_DIR_SENDONLY);
  g_assert_cmpstr(str_at(media(back, 0)->candidates, 1), ==,
                  "candidate:2 1 udp 1 192.0.2.1 5001 typ host");
  g_assert_cmpstr(str_at(media(back, 0)->fmts, 1), ==, "97");
  g_assert_cmpstr(media(back, 1)->conn_addr, ==, "0.0.0.0");
  g_free(out);
  g_free(out2);
  sb_sdp_free(back);
  sb_sdp_free(sdp);
}

static void test_write_old_sctpmap_form(void) {
  sb_sdp *sdp = sb_sdp_new();
  sb_sdp_media *d = sb_sdp_media_new("application");
  g_free(d->proto);
  d->proto = g_strdup("DTLS/SCTP");
  d->sctpmap = true;
  d->sctp_port = 5000;
  g_ptr_array_add(sdp->media, d);
  char *out = sb_sdp_write(sdp);
  g_assert_nonnull(strstr(out, "m=application 9 DTLS/SCTP 5000\r\n"));
  g_assert_nonnull(strstr(out, "a=sctpmap:5000 webrtc-datachannel 65535\r\n"));
  g_assert_null(strstr(out, "a=sctp-port"));
  g_assert_null(strstr(out, "a=max-message-size"));
  sb_sdp *back = parse_ok(out, strlen(out));
  g_assert_true(media(back, 0)->sctpmap);
  g_assert_cmpuint(media(back, 0)->sctp_port, ==, 5000);
  g_free(out);
  sb_sdp_free(back);
  sb_sdp_free(sdp);
}

static void test_write_m_line_follows_codec_list(void) {
  sb_sdp *sdp = parse_fixture("chromium-sendrecv-av-data.sdp");
  sb_sdp_media *a = media(sdp, 0);
  /* Keep opus only: the negotiator edits codecs, not fmts. */
  g_ptr_array_remove_range(a->codecs, 1, a->codecs->len - 1);
  char *out = sb_sdp_write(sdp);
  g_assert_nonnull(strstr(out, "m=audio 47250 UDP/TLS/RTP/SAVPF 111\r\n"));
  g_assert_null(strstr(out, "a=rtpmap:63"));
  sb_sdp *back = parse_ok(out, strlen(out));
  g_assert_cmpuint(media(back, 0)->codecs->len, ==, 1);
  g_free(out);
  sb_sdp_free(back);
  sb_sdp_free(sdp);
}

static void test_write_session_connection_replaces_media_default(void) {
  const char *text = HEAD "c=IN IP4 192.0.2.9\r\nm=audio 9 RTP/AVP 0\r\n";
  sb_sdp *sdp = parse_ok(text, strlen(text));
  char *out = sb_sdp_write(sdp);
  g_assert_nonnull(strstr(out, "s=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n"));
  g_assert_null(strstr(out, "0.0.0.0"));
  g_free(out);
  sb_sdp_free(sdp);
}

static void test_write_drops_control_characters(void) {
  sb_sdp *sdp = sb_sdp_new();
  sb_sdp_media *m = sb_sdp_media_new("audio");
  m->mid = g_strdup("0\r\na=ice-lite");
  g_ptr_array_add(m->codecs, sb_sdp_codec_new(0, "PCMU", 8000, 0));
  g_ptr_array_add(sdp->media, m);
  char *out = sb_sdp_write(sdp);
  assert_crlf_only(out);
  g_assert_nonnull(strstr(out, "a=mid:0a=ice-lite\r\n"));
  sb_sdp *back = parse_ok(out, strlen(out));
  g_assert_false(back->ice_lite);
  g_free(out);
  sb_sdp_free(back);
  sb_sdp_free(sdp);
}

/* ---- helpers of the header ------------------------------------------------ */

static void test_direction_and_setup_tokens(void) {
  g_assert_cmpint(sb_direction_reverse(SB_DIR_SENDONLY), ==, SB_DIR_RECVONLY);
  g_assert_cmpint(sb_direction_reverse(SB_DIR_RECVONLY), ==, SB_DIR_SENDONLY);
  g_assert_cmpint(sb_direction_reverse(SB_DIR_SENDRECV), ==, SB_DIR_SENDRECV);
  g_assert_cmpint(sb_direction_reverse(SB_DIR_INACTIVE), ==, SB_DIR_INACTIVE);
  g_assert_cmpstr(sb_direction_str(SB_DIR_SENDRECV), ==, "sendrecv");
  g_assert_cmpstr(sb_direction_str(SB_DIR_SENDONLY), ==, "sendonly");
  g_assert_cmpstr(sb_direction_str(SB_DIR_RECVONLY), ==, "recvonly");
  g_assert_cmpstr(sb_direction_str(SB_DIR_INACTIVE), ==, "inactive");
  g_assert_null(sb_setup_str(SB_SETUP_NONE));
  g_assert_cmpstr(sb_setup_str(SB_SETUP_ACTPASS), ==, "actpass");
  g_assert_cmpstr(sb_setup_str(SB_SETUP_ACTIVE), ==, "active");
  g_assert_cmpstr(sb_setup_str(SB_SETUP_PASSIVE), ==, "passive");
  g_assert_cmpstr(sb_setup_str(SB_SETUP_HOLDCONN), ==, "holdconn");
}

static void test_lookups_miss_cleanly(void) {
  sb_sdp *sdp = parse_fixture("chromium-recvonly-av.sdp");
  sb_sdp_media *a = media(sdp, 0);
  g_assert_null(sb_sdp_media_codec(a, 127));
  g_assert_null(sb_sdp_media_extmap_by_uri(a, "urn:nothing"));
  g_assert_null(sb_sdp_media_ssrc_attr(a, 1, "cname"));
  g_assert_cmpint(sb_sdp_media_setup(NULL, NULL), ==, SB_SETUP_NONE);
  g_assert_null(sb_sdp_media_ice_ufrag(NULL, NULL));
  g_assert_null(sb_sdp_media_fingerprint(sdp, NULL, NULL));
  sb_sdp_free(sdp);
  sdp = sb_sdp_new();
  g_assert_null(sb_sdp_bundle_group(sdp));
  sb_sdp_free(sdp);
}

/* ---- malformed input ------------------------------------------------------ */

static void test_reject_empty(void) {
  assert_rejected("", "empty SDP");
  assert_rejected("\r\n\r\n", "empty SDP");
  char *err = NULL;
  sb_sdp *sdp = NULL;
  g_assert_cmpint(sb_sdp_parse(NULL, 0, &sdp, &err), ==, -1);
  g_assert_cmpstr(err, ==, "empty SDP");
  g_free(err);
}

static void test_reject_missing_version(void) {
  assert_rejected("o=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n", "line 1: SDP must start with \"v=0\"");
  assert_rejected("v=1\r\no=- 1 2 IN IP4 127.0.0.1\r\n", "line 1:");
  assert_rejected(HEAD "v=0\r\n", "line 5: more than one v= line");
}

static void test_reject_missing_or_bad_origin(void) {
  assert_rejected("v=0\r\ns=-\r\nt=0 0\r\n", "no o= line");
  assert_rejected("v=0\r\no=- x 2 IN IP4 127.0.0.1\r\n", "line 2: bad o= line");
  assert_rejected("v=0\r\no=- 1 2 IN IP4\r\n", "line 2: bad o= line");
  assert_rejected("v=0\r\no=- 18446744073709551616 2 IN IP4 1.2.3.4\r\n", "line 2: bad o=");
  assert_rejected(HEAD "o=- 1 2 IN IP4 127.0.0.1\r\n", "line 5: more than one o= line");
  assert_rejected(HEAD "m=audio 9 RTP/AVP 0\r\no=- 1 2 IN IP4 1.2.3.4\r\n",
                  "line 6: o= line inside an m= section");
}

static void test_reject_truncated_line(void) {
  assert_rejected(HEAD "m=aud", "line 5: bad m= line");
  assert_rejected(HEAD "m=audio 9 RTP/AVP", "line 5: m= line has no formats");
  assert_rejected(HEAD "m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/", "line 6: a=rtpmap clock rate");
  assert_rejected(HEAD "m=audio 9 RTP/AVP 0\r\na=fingerprint:sha-256 AB:C",
                  "line 6: a=fingerprint is not colon-separated hex");
}

static void test_reject_bad_m_line(void) {
  assert_rejected(HEAD "m=audio nine RTP/AVP 0\r\n", "line 5: m= port is not a number");
  assert_rejected(HEAD "m=audio 65536 RTP/AVP 0\r\n", "line 5: m= port");
  assert_rejected(HEAD "m=audio -1 RTP/AVP 0\r\n", "line 5: m= port");
  assert_rejected(HEAD "m=audio 9 RTP/AVP\r\n", "line 5: m= line has no formats");
  assert_rejected(HEAD "m=audio 9\r\n", "line 5: bad m= line");
  assert_rejected(HEAD "m=audio 9 RTP/AVP 200\r\n",
                  "line 5: m= payload type is not a number in 0..127: \"200\"");
  assert_rejected(HEAD "m=audio 9 RTP/AVP opus\r\n", "line 5: m= payload type");
  assert_rejected(HEAD "m=audio 9 RTP/AVP 0 0\r\n", "payload type 0 listed twice");
  /* Port ranges are legal RFC 8866 and parse; the count is dropped. */
  const char *range = HEAD "m=audio 9/2 RTP/AVP 0\r\n";
  sb_sdp *sdp = parse_ok(range, strlen(range));
  g_assert_cmpuint(media(sdp, 0)->port, ==, 9);
  sb_sdp_free(sdp);
}

static void test_reject_bad_payload_types_in_attributes(void) {
  assert_rejected(HEAD "m=audio 9 RTP/AVP 0\r\na=rtpmap:200 x/8000\r\n",
                  "line 6: a=rtpmap payload type is not a number in 0..127");
  assert_rejected(HEAD "m=audio 9 RTP/AVP 0\r\na=fmtp:-1 x\r\n", "line 6: a=fmtp payload type");
  assert_rejected(HEAD "m=audio 9 RTP/AVP 0\r\na=rtcp-fb:x nack\r\n", "line 6: a=rtcp-fb");
  assert_rejected(HEAD "m=audio 9 RTP/AVP 0\r\na=rtcp-fb:0\r\n", "needs a feedback type");
}

static void test_reject_rtpmap_without_slash(void) {
  assert_rejected(HEAD "m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n",
                  "line 6: a=rtpmap needs <encoding>/<clock rate>: \"PCMU\"");
  assert_rejected(HEAD "m=audio 9 RTP/AVP 0\r\na=rtpmap:0 /8000\r\n", "line 6: a=rtpmap needs");
  assert_rejected(HEAD "m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/0\r\n", "clock rate");
  assert_rejected(HEAD "m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000/x\r\n", "channels");
  assert_rejected(HEAD "m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000 x\r\n", "bad a=rtpmap");
}

static void test_reject_bad_extmap(void) {
  assert_rejected(HEAD "m=audio 9 RTP/AVP 0\r\na=extmap:0 urn:x\r\n",
                  "line 6: a=extmap id is not a number in 1..255: \"0\"");
  assert_rejected(HEAD "m=audio 9 RTP/AVP 0\r\na=extmap:256 urn:x\r\n", "a=extmap id");
  assert_rejected(HEAD "m=audio 9 RTP/AVP 0\r\na=extmap:1/sideways urn:x\r\n",
                  "a=extmap direction");
  assert_rejected(HEAD "m=audio 9 RTP/AVP 0\r\na=extmap:1\r\n", "a=extmap needs a URI");
  assert_rejected(HEAD "m=audio 9 RTP/AVP 0\r\na=extmap:1 urn:x\r\na=extmap:1 urn:y\r\n",
                  "line 7: a=extmap id 1 is mapped twice");
  /* 15 is reserved only in the one-byte form; 255 is a valid two-byte id. */
  const char *ok = HEAD "m=audio 9 RTP/AVP 0\r\na=extmap:15 urn:x\r\na=extmap:255 urn:y\r\n";
  sb_sdp *sdp = parse_ok(ok, strlen(ok));
  g_assert_cmpint(extmap_at(media(sdp, 0), 1)->id, ==, 255);
  sb_sdp_free(sdp);
}

static void test_reject_bad_fingerprint(void) {
  const char *m = HEAD "m=audio 9 RTP/AVP 0\r\n";
  char *t = g_strconcat(m, "a=fingerprint:sha-256 GG:00\r\n", NULL);
  assert_rejected(t, "line 6: a=fingerprint is not colon-separated hex bytes: \"GG:00\"");
  g_free(t);
  assert_rejected(HEAD "a=fingerprint:sha-256 AB-CD\r\n", "line 5: a=fingerprint");
  assert_rejected(HEAD "a=fingerprint:sha-256 ABC:D\r\n", "line 5: a=fingerprint");
  assert_rejected(HEAD "a=fingerprint:sha-256 AB:CD:\r\n", "line 5: a=fingerprint");
  assert_rejected(HEAD "a=fingerprint:sha-256\r\n", "line 5: bad a=fingerprint");
  assert_rejected(HEAD "a=fingerprint:sha-1 AB:CD\r\n",
                  "a=fingerprint sha-1 needs 20 bytes, not 2");
  assert_rejected(HEAD "a=fingerprint:sha_256 AB:CD\r\n", "hash function");
}

static void test_reject_bad_values(void) {
  const char *m = HEAD "m=audio 9 RTP/AVP 0\r\n";
  static const struct { const char *line, *expect; } cases[] = {
      {"a=ssrc:4294967296 cname:x", "a=ssrc id is not a 32-bit number"},
      {"a=ssrc:1", "a=ssrc needs an attribute"},
      {"a=ssrc:1 two words", "a=ssrc attribute name contains a space"},
      {"a=ssrc-group:FID 1 x", "a=ssrc-group id"},
      {"a=setup:maybe", "a=setup is not actpass"},
      {"a=mid:", "a=mid needs a value"},
      {"a=mid:a b", "a=mid takes one token"},
      {"a=rid:q sideways", "a=rid direction must be send or recv"},
      {"a=rid:q! send", "a=rid id has characters"},
      {"a=sctp-port:65536", "a=sctp-port port is not a number"},
      {"a=sctpmap:x webrtc-datachannel", "a=sctpmap port"},
      {"a=sctpmap:5000", "a=sctpmap needs an application name"},
      {"a=max-message-size:-1", "a=max-message-size"},
      {"a=candidate:", "empty a=candidate"},
      {"c=IN IP4", "bad c= line"},
      {"c=ATM NSAP 47.0", "bad c= line"},
      {"s=x", "s= line inside an m= section"},
      {"=x", "expected <type>=<value>"},
      {"A=x", "expected <type>=<value>"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    char *t = g_strconcat(m, cases[i].line, "\r\n", NULL);
    char *expect = g_strdup_printf("line 6: %s", cases[i].expect);
    assert_rejected(t, expect);
    g_free(expect);
    g_free(t);
  }
}

static void test_reject_duplicate_mid(void) {
  assert_rejected(HEAD "m=audio 9 RTP/AVP 0\r\na=mid:0\r\nm=video 9 RTP/AVP 96\r\na=mid:0\r\n",
                  "line 8: a=mid is already used by another m= section: \"0\"");
  assert_rejected(HEAD "m=audio 9 RTP/AVP 0\r\na=mid:0\r\na=mid:1\r\n",
                  "line 7: more than one a=mid");
}

static void test_reject_huge_line(void) {
  GString *s = g_string_new(HEAD "m=audio 9 RTP/AVP 0\r\na=fmtp:0 ");
  for (int i = 0; i < SB_SDP_MAX_LINE; i++)
    g_string_append_c(s, 'x');
  g_string_append(s, "\r\n");
  assert_rejected(s->str, "line 6: line longer than 4096 bytes");
  /* A line of exactly the maximum is fine. */
  g_string_truncate(s, strlen(HEAD "m=audio 9 RTP/AVP 0\r\n") + SB_SDP_MAX_LINE);
  sb_sdp *sdp = parse_ok(s->str, s->len);
  g_assert_cmpuint(strlen(codec_at(media(sdp, 0), 0)->fmtp), ==, SB_SDP_MAX_LINE - 9);
  sb_sdp_free(sdp);
  g_string_free(s, TRUE);
}

static void test_reject_oversized_sdp(void) {
  size_t len = SB_SDP_MAX_LEN + 1;
  char *big = g_malloc(len);
  memset(big, '\n', len);
  memcpy(big, HEAD, strlen(HEAD));
  char *err = parse_err(big, len);
  g_assert_nonnull(strstr(err, "more than the 262144 allowed"));
  g_free(err);
  g_free(big);
}

static void test_reject_too_many_m_lines(void) {
  GString *s = g_string_new(HEAD);
  for (int i = 0; i < SB_SDP_MAX_MEDIA; i++)
    g_string_append(s, "m=audio 9 RTP/AVP 0\r\n");
  sb_sdp *sdp = parse_ok(s->str, s->len);
  g_assert_cmpuint(sdp->media->len, ==, SB_SDP_MAX_MEDIA);
  sb_sdp_free(sdp);
  g_string_append(s, "m=audio 9 RTP/AVP 0\r\n");
  assert_rejected(s->str, "line 69: more than 64 m= sections");
  g_string_free(s, TRUE);
}

static void test_reject_too_many_list_items(void) {
  GString *s = g_string_new(HEAD "m=audio 9 RTP/AVP 0\r\n");
  for (int i = 0; i <= SB_SDP_MAX_ITEMS; i++)
    g_string_append_printf(s, "a=candidate:%d 1 udp 1 192.0.2.1 %d typ host\r\n", i, i);
  assert_rejected(s->str, "line 262: more than 256 candidates in one m= section");
  g_string_assign(s, HEAD "m=application 9 X");
  for (int i = 0; i <= SB_SDP_MAX_ITEMS; i++)
    g_string_append(s, " f");
  assert_rejected(s->str, "line 5: more than 256 formats on the m= line");
  g_string_assign(s, HEAD "m=audio 9 RTP/AVP 0\r\n");
  for (int i = 0; i <= SB_SDP_MAX_ITEMS; i++)
    g_string_append_printf(s, "a=rtcp-fb:* fb%d\r\n", i);
  assert_rejected(s->str, "line 262: more than 256 a=rtcp-fb values for one payload type");
  g_string_free(s, TRUE);
}

static void test_reject_rtcp_fb_wildcard_blowup(void) {
  /* 128 payload types times distinct long wildcard lines: each line costs its
   * length per codec, and the total is capped at SB_SDP_MAX_LEN. */
  GString *s = g_string_new(HEAD "m=video 9 RTP/AVP");
  for (int pt = 0; pt < 128; pt++)
    g_string_append_printf(s, " %d", pt);
  g_string_append(s, "\r\n");
  for (int i = 0; i < 20; i++) {
    g_string_append_printf(s, "a=rtcp-fb:* x%d ", i);
    for (int k = 0; k < 200; k++)
      g_string_append_c(s, 'p');
    g_string_append(s, "\r\n");
  }
  assert_rejected(s->str, "a=rtcp-fb:* lines expand the SDP beyond 262144 bytes");
  g_string_free(s, TRUE);
}

static void test_reject_nul_and_control_bytes(void) {
  static const char with_nul[] = HEAD "m=audio 9 RTP/AVP 0\r\na=mid:a\0b\r\n";
  char *err = parse_err(with_nul, sizeof with_nul - 1);
  g_assert_cmpstr(err, ==, "line 6: NUL byte inside the line");
  g_free(err);
  assert_rejected(HEAD "m=audio 9 RTP/AVP 0\r\na=mid:a\rb\r\n",
                  "line 6: control character 0x0d inside the line");
  assert_rejected(HEAD "s=\x1b[31m\r\n", "line 5: control character 0x1b");
}

/* ---- robustness ------------------------------------------------------------ */

static void test_every_truncation_of_every_fixture(void) {
  for (guint f = 0; f < G_N_ELEMENTS(fixtures); f++) {
    gsize len;
    char *text = load_fixture(fixtures[f], &len);
    for (gsize n = 0; n <= len; n++)
      check_write_reparse(text, n);
    g_free(text);
  }
}

static void test_random_byte_mutations_of_every_fixture(void) {
  static const char alphabet[] = " \t\r\n:/=*-0123456789aAmvoc\xff";
  GRand *rand = g_rand_new_with_seed(20240521);
  for (guint f = 0; f < G_N_ELEMENTS(fixtures); f++) {
    gsize len;
    char *text = load_fixture(fixtures[f], &len);
    for (int round = 0; round < 1500; round++) {
      char *copy = g_memdup2(text, len);
      int edits = g_rand_int_range(rand, 1, 4);
      for (int e = 0; e < edits; e++)
        copy[g_rand_int_range(rand, 0, (gint32)len)] =
            alphabet[g_rand_int_range(rand, 0, (gint32)sizeof alphabet - 1)];
      check_write_reparse(copy, len);
      g_free(copy);
    }
    g_free(text);
  }
  g_rand_free(rand);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sdp/parse/chromium-sendrecv-offer", test_parse_chromium_sendrecv_offer);
  g_test_add_func("/sdp/parse/chromium-recvonly-offer", test_parse_chromium_recvonly_offer);
  g_test_add_func("/sdp/parse/chromium-simulcast-offer", test_parse_chromium_simulcast_offer);
  g_test_add_func("/sdp/parse/firefox-session-level-fingerprint",
                  test_parse_firefox_session_level_fingerprint);
  g_test_add_func("/sdp/parse/aiortc-old-sctpmap-and-per-mline-ice",
                  test_parse_aiortc_old_sctpmap_and_per_mline_ice);
  g_test_add_func("/sdp/parse/accepts-lf-line-endings", test_parse_accepts_lf_line_endings);
  g_test_add_func("/sdp/parse/reads-only-len-bytes", test_parse_reads_only_len_bytes);
  g_test_add_func("/sdp/parse/static-payload-types-without-rtpmap",
                  test_parse_static_payload_types_without_rtpmap);
  g_test_add_func("/sdp/parse/rtcp-fb-wildcard-applies-to-every-pt",
                  test_parse_rtcp_fb_wildcard_applies_to_every_pt);
  g_test_add_func("/sdp/parse/session-level-defaults-apply-to-media",
                  test_parse_session_level_defaults_apply_to_media);
  g_test_add_func("/sdp/parse/tolerates-whitespace-and-blank-lines",
                  test_parse_tolerates_whitespace_and_blank_lines);
  g_test_add_func("/sdp/parse/error-pointer-may-be-null", test_parse_error_pointer_may_be_null);
  for (guint i = 0; i < G_N_ELEMENTS(fixtures); i++) {
    char *path = g_strdup_printf("/sdp/roundtrip/%.*s", (int)(strlen(fixtures[i]) - 4),
                                 fixtures[i]);
    g_test_add_data_func(path, fixtures[i], test_roundtrip_fixture);
    g_free(path);
  }
  g_test_add_func("/sdp/write/hand-built-offer", test_write_hand_built_offer);
  g_test_add_func("/sdp/write/old-sctpmap-form", test_write_old_sctpmap_form);
  g_test_add_func("/sdp/write/m-line-follows-codec-list", test_write_m_line_follows_codec_list);
  g_test_add_func("/sdp/write/session-connection-replaces-media-default",
                  test_write_session_connection_replaces_media_default);
  g_test_add_func("/sdp/write/drops-control-characters", test_write_drops_control_characters);
  g_test_add_func("/sdp/helpers/direction-and-setup-tokens", test_direction_and_setup_tokens);
  g_test_add_func("/sdp/helpers/lookups-miss-cleanly", test_lookups_miss_cleanly);
  g_test_add_func("/sdp/reject/empty", test_reject_empty);
  g_test_add_func("/sdp/reject/missing-version", test_reject_missing_version);
  g_test_add_func("/sdp/reject/missing-or-bad-origin", test_reject_missing_or_bad_origin);
  g_test_add_func("/sdp/reject/truncated-line", test_reject_truncated_line);
  g_test_add_func("/sdp/reject/bad-m-line", test_reject_bad_m_line);
  g_test_add_func("/sdp/reject/bad-payload-types-in-attributes",
                  test_reject_bad_payload_types_in_attributes);
  g_test_add_func("/sdp/reject/rtpmap-without-slash", test_reject_rtpmap_without_slash);
  g_test_add_func("/sdp/reject/bad-extmap", test_reject_bad_extmap);
  g_test_add_func("/sdp/reject/bad-fingerprint", test_reject_bad_fingerprint);
  g_test_add_func("/sdp/reject/bad-values", test_reject_bad_values);
  g_test_add_func("/sdp/reject/duplicate-mid", test_reject_duplicate_mid);
  g_test_add_func("/sdp/reject/huge-line", test_reject_huge_line);
  g_test_add_func("/sdp/reject/oversized-sdp", test_reject_oversized_sdp);
  g_test_add_func("/sdp/reject/too-many-m-lines", test_reject_too_many_m_lines);
  g_test_add_func("/sdp/reject/too-many-list-items", test_reject_too_many_list_items);
  g_test_add_func("/sdp/reject/rtcp-fb-wildcard-blowup", test_reject_rtcp_fb_wildcard_blowup);
  g_test_add_func("/sdp/reject/nul-and-control-bytes", test_reject_nul_and_control_bytes);
  g_test_add_func("/sdp/robust/every-truncation-of-every-fixture",
                  test_every_truncation_of_every_fixture);
  g_test_add_func("/sdp/robust/random-byte-mutations-of-every-fixture",
                  test_random_byte_mutations_of_every_fixture);
  return g_test_run();
}
