/* Switchboard — SDP a= attributes (RFC 8866 §6, and the WebRTC ones listed in
 * media/sdp.h), one handler each, dispatched by name from sdp_line_a. */
#include <string.h>

#include "media/sdp.h"
#include "media/sdp_parse.h"

static int attr_group(parser *p, const char *v) {
  const char *t;
  size_t n = sdp_token(&v, &t);
  if (n == 0)
    return sdp_fail(p, "a=group needs semantics");
  if (!sdp_room(p, p->sdp->groups->len, "a=group lines"))
    return -1;
  sb_sdp_group *g = g_new0(sb_sdp_group, 1);
  g->semantics = g_strndup(t, n);
  g->mids = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(p->sdp->groups, g);
  while ((n = sdp_token(&v, &t)) > 0) {
    if (!sdp_room(p, g->mids->len, "mids in one a=group"))
      return -1;
    g_ptr_array_add(g->mids, g_strndup(t, n));
  }
  return 0;
}

static int attr_msid_semantic(parser *p, const char *v) {
  sdp_set_text(&p->sdp->msid_semantic, v);
  return 0;
}

static int attr_allow_mixed(parser *p, const char *v) {
  (void)v;
  if (p->m)
    p->m->extmap_allow_mixed = true;
  else
    p->sdp->extmap_allow_mixed = true;
  return 0;
}

static int attr_ice_ufrag(parser *p, const char *v) {
  return sdp_set_token(p, p->m ? &p->m->ice_ufrag : &p->sdp->ice_ufrag, v, "ice-ufrag");
}

static int attr_ice_pwd(parser *p, const char *v) {
  return sdp_set_token(p, p->m ? &p->m->ice_pwd : &p->sdp->ice_pwd, v, "ice-pwd");
}

static int attr_ice_lite(parser *p, const char *v) {
  (void)v;
  p->sdp->ice_lite = true;
  return 0;
}

/* RFC 8839 §5.6: a space-separated list of options. Browsers put it at media
 * level, Firefox at session level; either way trickle applies to the session. */
static int attr_ice_options(parser *p, const char *v) {
  const char *t;
  size_t n;
  while ((n = sdp_token(&v, &t)) > 0)
    if (sdp_tok_is(t, n, "trickle"))
      p->sdp->ice_trickle = true;
  return 0;
}

/* RFC 8122 §5: a=fingerprint:<hash-func> <2UHEX *(":" 2UHEX)>. Several may be
 * given; the first is kept. */
static int attr_fingerprint(parser *p, const char *v) {
  static const struct { const char *hash; size_t bytes; } sizes[] = {
      {"sha-1", 20}, {"sha-224", 28}, {"sha-256", 32}, {"sha-384", 48},
      {"sha-512", 64}, {"md5", 16}, {"md2", 16}};
  const char *h, *f;
  size_t nh = sdp_token(&v, &h), nf = sdp_token(&v, &f);
  if (nf == 0 || *sdp_skip_ws(v))
    return sdp_fail(p, "bad a=fingerprint, expected \"<hash> <XX:XX:...>\"");
  for (size_t i = 0; i < nh; i++)
    if (!g_ascii_isalnum(h[i]) && h[i] != '-')
      return sdp_fail_tok(p, h, nh, "bad a=fingerprint hash function");
  if ((nf + 1) % 3 != 0)
    return sdp_fail_tok(p, f, nf, "a=fingerprint is not colon-separated hex bytes");
  for (size_t i = 0; i < nf; i++)
    if (i % 3 == 2 ? f[i] != ':' : !g_ascii_isxdigit(f[i]))
      return sdp_fail_tok(p, f, nf, "a=fingerprint is not colon-separated hex bytes");
  char *hash = g_ascii_strdown(h, (gssize)nh);
  for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
    if (strcmp(hash, sizes[i].hash) == 0 && (nf + 1) / 3 != sizes[i].bytes) {
      sdp_fail(p, "a=fingerprint %s needs %zu bytes, not %zu", hash, sizes[i].bytes,
           (nf + 1) / 3);
      g_free(hash);
      return -1;
    }
  }
  char **dh = p->m ? &p->m->fingerprint_hash : &p->sdp->fingerprint_hash;
  char **df = p->m ? &p->m->fingerprint : &p->sdp->fingerprint;
  if (*df) {
    g_free(hash);
    return 0;
  }
  *dh = hash;
  *df = g_ascii_strup(f, (gssize)nf);
  return 0;
}

/* RFC 4145 §4 */
static int attr_setup(parser *p, const char *v) {
  const char *t;
  size_t n = sdp_token(&v, &t);
  for (int i = SB_SETUP_ACTPASS; i <= SB_SETUP_HOLDCONN; i++) {
    if (sdp_tok_is(t, n, sb_setup_str((sb_setup)i)) && *sdp_skip_ws(v) == '\0') {
      *(p->m ? &p->m->setup : &p->sdp->setup) = (sb_setup)i;
      return 0;
    }
  }
  return sdp_fail_tok(p, t, strlen(t), "a=setup is not actpass, active, passive or holdconn");
}

/* RFC 5888 §4: the mid identifies the m-section; BUNDLE (RFC 9143) demultiplexes
 * on it, so it must be unique in the description. */
static int attr_mid(parser *p, const char *v) {
  if (p->m->mid)
    return sdp_fail(p, "more than one a=mid in one m= section");
  if (sdp_set_token(p, &p->m->mid, v, "mid") < 0)
    return -1;
  for (guint i = 0; i + 1 < p->sdp->media->len; i++) {
    const sb_sdp_media *o = g_ptr_array_index(p->sdp->media, i);
    if (g_strcmp0(o->mid, p->m->mid) == 0)
      return sdp_fail_tok(p, p->m->mid, strlen(p->m->mid),
                      "a=mid is already used by another m= section");
  }
  return 0;
}

static int attr_rtcp_mux(parser *p, const char *v) {
  (void)v;
  p->m->rtcp_mux = true;
  return 0;
}

static int attr_rtcp_rsize(parser *p, const char *v) {
  (void)v;
  p->m->rtcp_rsize = true;
  return 0;
}

static int attr_bundle_only(parser *p, const char *v) {
  (void)v;
  p->m->bundle_only = true;
  return 0;
}

/* RFC 8838 §8.2: allowed at session level, meaning every m-section. */
static int attr_eoc(parser *p, const char *v) {
  (void)v;
  if (p->m)
    p->m->end_of_candidates = true;
  else
    p->session_eoc = true;
  return 0;
}

static int attr_candidate(parser *p, const char *v) {
  if (*v == '\0')
    return sdp_fail(p, "empty a=candidate");
  if (!sdp_room(p, p->m->candidates->len, "candidates in one m= section"))
    return -1;
  g_ptr_array_add(p->m->candidates, g_strconcat("candidate:", v, NULL));
  return 0;
}

/* The payload type that starts a=rtpmap, a=fmtp and a=rtcp-fb. */
static int take_pt(parser *p, const char **v, const char *attr, int *pt) {
  const char *t;
  size_t n = sdp_token(v, &t);
  uint64_t x;
  if (!sdp_parse_uint(t, n, 127, &x))
    return sdp_fail_tok(p, t, n, "a=%s payload type is not a number in 0..127", attr);
  *pt = (int)x;
  return 0;
}

/* RFC 8866 §6.6: a=rtpmap:<pt> <encoding name>/<clock rate>[/<parameters>] */
static int attr_rtpmap(parser *p, const char *v) {
  int pt;
  const char *t;
  uint64_t clock, ch = 0;
  if (take_pt(p, &v, "rtpmap", &pt) < 0)
    return -1;
  size_t n = sdp_token(&v, &t);
  if (n == 0 || *sdp_skip_ws(v))
    return sdp_fail(p, "bad a=rtpmap, expected \"<pt> <encoding>/<clock rate>[/<channels>]\"");
  const char *end = t + n, *s1 = memchr(t, '/', n);
  if (s1 == NULL || s1 == t)
    return sdp_fail_tok(p, t, n, "a=rtpmap needs <encoding>/<clock rate>");
  const char *s2 = memchr(s1 + 1, '/', (size_t)(end - s1 - 1));
  if (!sdp_parse_uint(s1 + 1, (size_t)((s2 ? s2 : end) - s1 - 1), UINT32_MAX, &clock) ||
      clock == 0)
    return sdp_fail_tok(p, t, n, "a=rtpmap clock rate is not a positive number");
  if (s2 && (!sdp_parse_uint(s2 + 1, (size_t)(end - s2 - 1), 255, &ch) || ch == 0))
    return sdp_fail_tok(p, t, n, "a=rtpmap channels is not a number in 1..255");
  sb_sdp_codec *c = sb_sdp_media_codec(p->m, pt);
  if (c == NULL)
    return 0;
  g_free(c->encoding);
  c->encoding = g_strndup(t, (size_t)(s1 - t));
  c->clock_rate = (unsigned)clock;
  c->channels = (unsigned)ch;
  return 0;
}

/* RFC 8866 §6.15: a=fmtp:<pt> <format specific parameters> */
static int attr_fmtp(parser *p, const char *v) {
  int pt;
  if (take_pt(p, &v, "fmtp", &pt) < 0)
    return -1;
  sb_sdp_codec *c = sb_sdp_media_codec(p->m, pt);
  if (c)
    sdp_set_text(&c->fmtp, sdp_skip_ws(v));
  return 0;
}

static int add_fb(parser *p, sb_sdp_codec *c, const char *fb) {
  for (guint i = 0; i < c->rtcp_fb->len; i++)
    if (strcmp(g_ptr_array_index(c->rtcp_fb, i), fb) == 0)
      return 0;
  if (!sdp_room(p, c->rtcp_fb->len, "a=rtcp-fb values for one payload type"))
    return -1;
  g_ptr_array_add(c->rtcp_fb, g_strdup(fb));
  return 0;
}

/* RFC 4585 §4.2: a=rtcp-fb:<pt>|* <type> [<param>]; "*" means every payload type
 * of the m-line. */
static int attr_rtcp_fb(parser *p, const char *v) {
  int pt = -1;
  const char *s = sdp_skip_ws(v);
  if (s[0] == '*' && (s[1] == '\0' || sdp_is_ws(s[1])))
    v = s + 1;
  else if (take_pt(p, &v, "rtcp-fb", &pt) < 0)
    return -1;
  const char *fb = sdp_skip_ws(v);
  size_t n = strlen(fb);
  if (n == 0)
    return sdp_fail(p, "a=rtcp-fb needs a feedback type");
  if (n > RTCP_FB_MAX_LEN)
    return sdp_fail(p, "a=rtcp-fb value longer than %d bytes", RTCP_FB_MAX_LEN);
  if (pt >= 0) {
    sb_sdp_codec *c = sb_sdp_media_codec(p->m, pt);
    return c ? add_fb(p, c, fb) : 0;
  }
  p->expanded += (n + 24) * p->m->codecs->len;
  if (p->expanded > SB_SDP_MAX_LEN)
    return sdp_fail(p, "a=rtcp-fb:* lines expand the SDP beyond %d bytes", SB_SDP_MAX_LEN);
  for (guint i = 0; i < p->m->codecs->len; i++)
    if (add_fb(p, g_ptr_array_index(p->m->codecs, i), fb) < 0)
      return -1;
  return 0;
}

/* RFC 8285 §8: a=extmap:<id>[/<direction>] <URI> [<extension attributes>] */
static int attr_extmap(parser *p, const char *v) {
  const char *t, *uri;
  uint64_t id;
  sb_direction dir = SB_DIR_SENDRECV;
  size_t n = sdp_token(&v, &t);
  const char *slash = memchr(t, '/', n);
  size_t nid = slash ? (size_t)(slash - t) : n;
  if (!sdp_parse_uint(t, nid, 255, &id) || id == 0)
    return sdp_fail_tok(p, t, n, "a=extmap id is not a number in 1..255");
  if (slash && !sdp_parse_direction(slash + 1, n - nid - 1, &dir))
    return sdp_fail_tok(p, t, n, "a=extmap direction is not a direction");
  size_t nuri = sdp_token(&v, &uri);
  if (nuri == 0)
    return sdp_fail(p, "a=extmap needs a URI");
  GPtrArray *list = (p->m ? p->m : p->session)->extmaps;
  for (guint i = 0; i < list->len; i++)
    if (((sb_sdp_extmap *)g_ptr_array_index(list, i))->id == (int)id)
      return sdp_fail(p, "a=extmap id %d is mapped twice", (int)id);
  sb_sdp_extmap *e = g_new0(sb_sdp_extmap, 1);
  e->id = (int)id;
  e->dir = dir;
  e->uri = g_strndup(uri, nuri);
  sdp_set_text(&e->attrs, sdp_skip_ws(v));
  g_ptr_array_add(list, e);
  return 0;
}

/* RFC 5576 §4.1: a=ssrc:<ssrc-id> <attribute>[:<value>] */
static int attr_ssrc(parser *p, const char *v) {
  const char *t;
  uint64_t ssrc;
  size_t n = sdp_token(&v, &t);
  if (!sdp_parse_uint(t, n, UINT32_MAX, &ssrc))
    return sdp_fail_tok(p, t, n, "a=ssrc id is not a 32-bit number");
  const char *a = sdp_skip_ws(v), *colon = strchr(a, ':');
  size_t na = colon ? (size_t)(colon - a) : strlen(a);
  if (na == 0)
    return sdp_fail(p, "a=ssrc needs an attribute");
  for (size_t i = 0; i < na; i++)
    if (sdp_is_ws(a[i]))
      return sdp_fail_tok(p, a, na, "a=ssrc attribute name contains a space");
  if (!sdp_room(p, p->m->ssrcs->len, "a=ssrc lines in one m= section"))
    return -1;
  sb_sdp_ssrc *s = g_new0(sb_sdp_ssrc, 1);
  s->ssrc = (uint32_t)ssrc;
  s->attr = g_strndup(a, na);
  s->value = colon ? g_strdup(colon + 1) : NULL;
  g_ptr_array_add(p->m->ssrcs, s);
  return 0;
}

/* RFC 5576 §4.2: a=ssrc-group:<semantics> <ssrc-id> ... */
static int attr_ssrc_group(parser *p, const char *v) {
  const char *t;
  uint64_t x;
  size_t n = sdp_token(&v, &t);
  if (n == 0)
    return sdp_fail(p, "a=ssrc-group needs semantics");
  if (!sdp_room(p, p->m->ssrc_groups->len, "a=ssrc-group lines in one m= section"))
    return -1;
  sb_sdp_ssrc_group *g = g_new0(sb_sdp_ssrc_group, 1);
  g->semantics = g_strndup(t, n);
  g->ssrcs = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  g_ptr_array_add(p->m->ssrc_groups, g);
  while ((n = sdp_token(&v, &t)) > 0) {
    if (!sdp_parse_uint(t, n, UINT32_MAX, &x))
      return sdp_fail_tok(p, t, n, "a=ssrc-group id is not a 32-bit number");
    if (!sdp_room(p, g->ssrcs->len, "ssrcs in one a=ssrc-group"))
      return -1;
    uint32_t ssrc = (uint32_t)x;
    g_array_append_val(g->ssrcs, ssrc);
  }
  return 0;
}

/* RFC 8830 §2 allows several a=msid; one track per m-section is all JSEP sends. */
static int attr_msid(parser *p, const char *v) {
  if (p->m->msid == NULL)
    sdp_set_text(&p->m->msid, v);
  return 0;
}

/* RFC 8851 §10: a=rid:<rid-id> send|recv [<params>], rid-id = 1*(ALPHA / DIGIT /
 * "-" / "_") */
static int attr_rid(parser *p, const char *v) {
  const char *id, *dir;
  size_t nid = sdp_token(&v, &id), ndir = sdp_token(&v, &dir);
  if (nid == 0)
    return sdp_fail(p, "a=rid needs an id");
  for (size_t i = 0; i < nid; i++)
    if (!g_ascii_isalnum(id[i]) && id[i] != '-' && id[i] != '_')
      return sdp_fail_tok(p, id, nid, "a=rid id has characters other than letters, "
                                  "digits, - and _");
  if (!sdp_tok_is(dir, ndir, "send") && !sdp_tok_is(dir, ndir, "recv"))
    return sdp_fail(p, "a=rid direction must be send or recv");
  if (!sdp_room(p, p->m->rids->len, "a=rid lines in one m= section"))
    return -1;
  sb_sdp_rid *r = g_new0(sb_sdp_rid, 1);
  r->id = g_strndup(id, nid);
  r->send = dir[0] == 's';
  sdp_set_text(&r->params, sdp_skip_ws(v));
  g_ptr_array_add(p->m->rids, r);
  return 0;
}

static int attr_simulcast(parser *p, const char *v) {
  sdp_set_text(&p->m->simulcast, v);
  return 0;
}

static int take_port(parser *p, const char **v, const char *attr, unsigned *out) {
  const char *t;
  uint64_t x;
  size_t n = sdp_token(v, &t);
  if (!sdp_parse_uint(t, n, 65535, &x))
    return sdp_fail_tok(p, t, n, "a=%s port is not a number in 0..65535", attr);
  *out = (unsigned)x;
  return 0;
}

/* RFC 8841 §5.1 */
static int attr_sctp_port(parser *p, const char *v) {
  return take_port(p, &v, "sctp-port", &p->m->sctp_port);
}

/* draft-ietf-mmusic-sctp-sdp-05 §5: a=sctpmap:<port> <app> [<streams or max size>].
 * The last number meant different things across drafts, so it is not kept;
 * a=max-message-size is the one that counts. */
static int attr_sctpmap(parser *p, const char *v) {
  const char *app;
  if (take_port(p, &v, "sctpmap", &p->m->sctp_port) < 0)
    return -1;
  if (sdp_token(&v, &app) == 0)
    return sdp_fail(p, "a=sctpmap needs an application name");
  p->m->sctpmap = true;
  return 0;
}

/* RFC 8841 §6 */
static int attr_max_message_size(parser *p, const char *v) {
  const char *t;
  uint64_t x;
  size_t n = sdp_token(&v, &t);
  if (!sdp_parse_uint(t, n, UINT32_MAX, &x))
    return sdp_fail_tok(p, t, n, "a=max-message-size is not a 32-bit number");
  p->m->max_message_size = (unsigned)x;
  return 0;
}

enum { ANY_LEVEL = 0, SESSION_ONLY = 1, MEDIA_ONLY = 2, RTP_ONLY = 3 };

static const struct {
  const char *name;
  int (*fn)(parser *p, const char *v);
  int scope;
} attrs[] = {
    {"group", attr_group, SESSION_ONLY},
    {"msid-semantic", attr_msid_semantic, SESSION_ONLY},
    {"extmap-allow-mixed", attr_allow_mixed, ANY_LEVEL},
    {"ice-ufrag", attr_ice_ufrag, ANY_LEVEL},
    {"ice-pwd", attr_ice_pwd, ANY_LEVEL},
    {"ice-lite", attr_ice_lite, SESSION_ONLY},
    {"ice-options", attr_ice_options, ANY_LEVEL},
    {"fingerprint", attr_fingerprint, ANY_LEVEL},
    {"setup", attr_setup, ANY_LEVEL},
    {"mid", attr_mid, MEDIA_ONLY},
    {"rtcp-mux", attr_rtcp_mux, MEDIA_ONLY},
    {"rtcp-rsize", attr_rtcp_rsize, MEDIA_ONLY},
    {"bundle-only", attr_bundle_only, MEDIA_ONLY},
    {"end-of-candidates", attr_eoc, ANY_LEVEL},
    {"candidate", attr_candidate, MEDIA_ONLY},
    {"rtpmap", attr_rtpmap, RTP_ONLY},
    {"fmtp", attr_fmtp, RTP_ONLY},
    {"rtcp-fb", attr_rtcp_fb, RTP_ONLY},
    {"extmap", attr_extmap, ANY_LEVEL},
    {"ssrc", attr_ssrc, MEDIA_ONLY},
    {"ssrc-group", attr_ssrc_group, MEDIA_ONLY},
    {"msid", attr_msid, MEDIA_ONLY},
    {"rid", attr_rid, MEDIA_ONLY},
    {"simulcast", attr_simulcast, MEDIA_ONLY},
    {"sctp-port", attr_sctp_port, MEDIA_ONLY},
    {"sctpmap", attr_sctpmap, MEDIA_ONLY},
    {"max-message-size", attr_max_message_size, MEDIA_ONLY},
};

/* RFC 8866 §5.13: a=<attribute> or a=<attribute>:<value>. An attribute used at a
 * level where it means nothing is ignored like an unknown one. */
int sdp_line_a(parser *p, const char *v) {
  const char *colon = strchr(v, ':');
  size_t n = colon ? (size_t)(colon - v) : strlen(v);
  const char *value = colon ? sdp_skip_ws(colon + 1) : "";
  sb_direction d;
  if (sdp_parse_direction(v, n, &d)) {
    if (p->m) {
      p->m->direction = d;
      p->m_dir_set = true;
    } else {
      p->session_dir = d;
    }
    return 0;
  }
  for (guint i = 0; i < G_N_ELEMENTS(attrs); i++) {
    if (!sdp_tok_is(v, n, attrs[i].name))
      continue;
    if ((attrs[i].scope == SESSION_ONLY && p->m) ||
        (attrs[i].scope >= MEDIA_ONLY && p->m == NULL) ||
        (attrs[i].scope == RTP_ONLY && !sb_sdp_media_is_rtp(p->m)))
      return 0;
    return attrs[i].fn(p, value);
  }
  return 0;
}

