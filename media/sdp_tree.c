/* Switchboard — the SDP tree: constructors, destructors, lookups and the effective
 * (media-level else session-level) transport attributes. */
#include "media/sdp.h"

#include <string.h>

/* ---- freeing ----------------------------------------------------------- */

static void extmap_free(gpointer p) {
  sb_sdp_extmap *e = p;
  g_free(e->uri);
  g_free(e->attrs);
  g_free(e);
}

static void ssrc_free(gpointer p) {
  sb_sdp_ssrc *s = p;
  g_free(s->attr);
  g_free(s->value);
  g_free(s);
}

static void ssrc_group_free(gpointer p) {
  sb_sdp_ssrc_group *g = p;
  g_free(g->semantics);
  if (g->ssrcs)
    g_array_unref(g->ssrcs);
  g_free(g);
}

static void rid_free(gpointer p) {
  sb_sdp_rid *r = p;
  g_free(r->id);
  g_free(r->params);
  g_free(r);
}

static void group_free(gpointer p) {
  sb_sdp_group *g = p;
  g_free(g->semantics);
  if (g->mids)
    g_ptr_array_unref(g->mids);
  g_free(g);
}

static void codec_free_cb(gpointer p) { sb_sdp_codec_free(p); }
static void media_free_cb(gpointer p) { sb_sdp_media_free(p); }

static void unref(GPtrArray *a) {
  if (a)
    g_ptr_array_unref(a);
}

void sb_sdp_codec_free(sb_sdp_codec *c) {
  if (c == NULL)
    return;
  g_free(c->encoding);
  g_free(c->fmtp);
  unref(c->rtcp_fb);
  g_free(c);
}

void sb_sdp_media_free(sb_sdp_media *m) {
  if (m == NULL)
    return;
  g_free(m->type);
  g_free(m->proto);
  unref(m->fmts);
  g_free(m->conn_addr);
  g_free(m->mid);
  g_free(m->ice_ufrag);
  g_free(m->ice_pwd);
  g_free(m->fingerprint_hash);
  g_free(m->fingerprint);
  unref(m->codecs);
  unref(m->extmaps);
  unref(m->ssrcs);
  unref(m->ssrc_groups);
  g_free(m->msid);
  unref(m->rids);
  g_free(m->simulcast);
  unref(m->candidates);
  g_free(m);
}

void sb_sdp_free(sb_sdp *sdp) {
  if (sdp == NULL)
    return;
  g_free(sdp->origin_user);
  g_free(sdp->origin_addr);
  g_free(sdp->session_name);
  g_free(sdp->conn_addr);
  unref(sdp->groups);
  g_free(sdp->msid_semantic);
  g_free(sdp->ice_ufrag);
  g_free(sdp->ice_pwd);
  g_free(sdp->fingerprint_hash);
  g_free(sdp->fingerprint);
  unref(sdp->media);
  g_free(sdp);
}

/* ---- constructors ------------------------------------------------------ */

sb_sdp *sb_sdp_new(void) {
  sb_sdp *sdp = g_new0(sb_sdp, 1);
  sdp->groups = g_ptr_array_new_with_free_func(group_free);
  sdp->media = g_ptr_array_new_with_free_func(media_free_cb);
  sdp->origin_user = g_strdup("-");
  /* RFC 9429 §5.2.1: 63 random bits, the top bit clear. */
  sdp->session_id = (((uint64_t)g_random_int() << 32) | g_random_int()) & INT64_MAX;
  sdp->origin_addr = g_strdup("0.0.0.0");
  sdp->session_name = g_strdup("-");
  return sdp;
}

sb_sdp_media *sb_sdp_media_new(const char *type) {
  sb_sdp_media *m = g_new0(sb_sdp_media, 1);
  m->type = g_strdup(type ? type : "audio");
  /* RFC 9429 §5.2.1: port 9 ("discard") until ICE has a default candidate. */
  m->port = 9;
  m->proto = g_strdup(g_strcmp0(type, "application") == 0 ? "UDP/DTLS/SCTP"
                                                          : "UDP/TLS/RTP/SAVPF");
  m->fmts = g_ptr_array_new_with_free_func(g_free);
  m->codecs = g_ptr_array_new_with_free_func(codec_free_cb);
  m->extmaps = g_ptr_array_new_with_free_func(extmap_free);
  m->ssrcs = g_ptr_array_new_with_free_func(ssrc_free);
  m->ssrc_groups = g_ptr_array_new_with_free_func(ssrc_group_free);
  m->rids = g_ptr_array_new_with_free_func(rid_free);
  m->candidates = g_ptr_array_new_with_free_func(g_free);
  return m;
}

sb_sdp_codec *sb_sdp_codec_new(int pt, const char *encoding, unsigned clock_rate,
                               unsigned channels) {
  sb_sdp_codec *c = g_new0(sb_sdp_codec, 1);
  c->pt = pt;
  c->encoding = g_strdup(encoding);
  c->clock_rate = clock_rate;
  c->channels = channels;
  c->rtcp_fb = g_ptr_array_new_with_free_func(g_free);
  return c;
}

/* ---- lookups ----------------------------------------------------------- */

bool sb_sdp_media_is_rtp(const sb_sdp_media *m) {
  return m && m->proto && strstr(m->proto, "RTP/") != NULL;
}

sb_sdp_codec *sb_sdp_media_codec(const sb_sdp_media *m, int pt) {
  for (guint i = 0; m && m->codecs && i < m->codecs->len; i++) {
    sb_sdp_codec *c = g_ptr_array_index(m->codecs, i);
    if (c->pt == pt)
      return c;
  }
  return NULL;
}

const sb_sdp_extmap *sb_sdp_media_extmap_by_uri(const sb_sdp_media *m, const char *uri) {
  for (guint i = 0; m && m->extmaps && uri && i < m->extmaps->len; i++) {
    const sb_sdp_extmap *e = g_ptr_array_index(m->extmaps, i);
    if (g_strcmp0(e->uri, uri) == 0)
      return e;
  }
  return NULL;
}

const char *sb_sdp_media_ssrc_attr(const sb_sdp_media *m, uint32_t ssrc, const char *attr) {
  for (guint i = 0; m && m->ssrcs && attr && i < m->ssrcs->len; i++) {
    const sb_sdp_ssrc *s = g_ptr_array_index(m->ssrcs, i);
    if (s->ssrc == ssrc && g_strcmp0(s->attr, attr) == 0)
      return s->value;
  }
  return NULL;
}

const sb_sdp_group *sb_sdp_bundle_group(const sb_sdp *sdp) {
  for (guint i = 0; sdp && sdp->groups && i < sdp->groups->len; i++) {
    const sb_sdp_group *g = g_ptr_array_index(sdp->groups, i);
    if (g->semantics && g_ascii_strcasecmp(g->semantics, "BUNDLE") == 0)
      return g;
  }
  return NULL;
}

const char *sb_sdp_media_ice_ufrag(const sb_sdp *sdp, const sb_sdp_media *m) {
  if (m && m->ice_ufrag)
    return m->ice_ufrag;
  return sdp ? sdp->ice_ufrag : NULL;
}

const char *sb_sdp_media_ice_pwd(const sb_sdp *sdp, const sb_sdp_media *m) {
  if (m && m->ice_pwd)
    return m->ice_pwd;
  return sdp ? sdp->ice_pwd : NULL;
}

const char *sb_sdp_media_fingerprint(const sb_sdp *sdp, const sb_sdp_media *m,
                                     const char **hash) {
  const char *fp = NULL, *h = NULL;
  if (m && m->fingerprint) {
    fp = m->fingerprint;
    h = m->fingerprint_hash;
  } else if (sdp) {
    fp = sdp->fingerprint;
    h = sdp->fingerprint_hash;
  }
  if (hash)
    *hash = h;
  return fp;
}

sb_setup sb_sdp_media_setup(const sb_sdp *sdp, const sb_sdp_media *m) {
  if (m && m->setup != SB_SETUP_NONE)
    return m->setup;
  return sdp ? sdp->setup : SB_SETUP_NONE;
}

bool sb_sdp_media_extmap_allow_mixed(const sb_sdp *sdp, const sb_sdp_media *m) {
  return (m && m->extmap_allow_mixed) || (sdp && sdp->extmap_allow_mixed);
}

static const char *const dir_names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
static const char *const setup_names[] = {NULL, "actpass", "active", "passive", "holdconn"};

const char *sb_direction_str(sb_direction d) {
  return (unsigned)d < G_N_ELEMENTS(dir_names) ? dir_names[d] : dir_names[0];
}

const char *sb_setup_str(sb_setup s) {
  return (unsigned)s < G_N_ELEMENTS(setup_names) ? setup_names[s] : NULL;
}

sb_direction sb_direction_reverse(sb_direction d) {
  if (d == SB_DIR_SENDONLY)
    return SB_DIR_RECVONLY;
  if (d == SB_DIR_RECVONLY)
    return SB_DIR_SENDONLY;
  return d;
}
