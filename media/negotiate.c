/* Switchboard — offer/answer for a server endpoint. */
#include "media/negotiate.h"

#include <string.h>

#include "core/session.h"
#include "core/util.h"

static const char *const ext_uris[SB_EXT_COUNT] = {
  [SB_EXT_MID] = "urn:ietf:params:rtp-hdrext:sdes:mid",
  [SB_EXT_ABS_SEND_TIME] = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
  [SB_EXT_TWCC] = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
  [SB_EXT_AUDIO_LEVEL] = "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
  [SB_EXT_VIDEO_ORIENTATION] = "urn:3gpp:video-orientation",
  [SB_EXT_RID] = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
  [SB_EXT_RRID] = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
};

const char *sb_ext_uri(sb_ext_kind k) { return (unsigned)k < SB_EXT_COUNT ? ext_uris[k] : NULL; }

sb_ext_kind sb_ext_from_uri(const char *uri) {
  for (int k = 0; k < SB_EXT_COUNT; k++)
    if (uri && strcmp(uri, ext_uris[k]) == 0)
      return (sb_ext_kind)k;
  return SB_EXT_COUNT;
}

const char *sb_media_kind_name(sb_media_kind k) {
  static const char *const names[] = { "audio", "video", "application", "other" };
  return (unsigned)k < G_N_ELEMENTS(names) ? names[k] : "other";
}

static sb_media_kind kind_of(const char *type) {
  if (g_strcmp0(type, "audio") == 0)
    return SB_MEDIA_AUDIO;
  if (g_strcmp0(type, "video") == 0)
    return SB_MEDIA_VIDEO;
  if (g_strcmp0(type, "application") == 0)
    return SB_MEDIA_APPLICATION;
  return SB_MEDIA_OTHER;
}

static bool is_rtp_proto(const char *proto) {
  /* JSEP §5.1.2 (RFC 9429): WebRTC media uses a SAVPF profile over DTLS. */
  return proto && strstr(proto, "RTP/SAVPF") != NULL;
}

static bool is_sctp_proto(const char *proto) {
  return proto && (strcmp(proto, "UDP/DTLS/SCTP") == 0 || strcmp(proto, "DTLS/SCTP") == 0 ||
                   strcmp(proto, "TCP/DTLS/SCTP") == 0);
}

sb_setup sb_negotiate_answer_setup(sb_setup offered) {
  return offered == SB_SETUP_PASSIVE ? SB_SETUP_ACTIVE : SB_SETUP_PASSIVE;
}

static const sb_sdp_media *media_by_mid(const sb_sdp *sdp, const char *mid, int *index) {
  for (guint i = 0; i < sdp->media->len; i++) {
    const sb_sdp_media *m = g_ptr_array_index(sdp->media, i);
    if (m->mid && mid && strcmp(m->mid, mid) == 0) {
      if (index)
        *index = (int)i;
      return m;
    }
  }
  return NULL;
}

static bool in_bundle(const sb_sdp_group *g, const char *mid) {
  if (g == NULL || mid == NULL)
    return false;
  for (guint i = 0; i < g->mids->len; i++)
    if (strcmp(g_ptr_array_index(g->mids, i), mid) == 0)
      return true;
  return false;
}

/* The ICE and DTLS parameters of the m-section a bundle uses (what = "offer" or
 * "answer", for the messages). */
static int transport_of(const sb_sdp *sdp, const sb_sdp_media *tagged, const char *what,
                        sb_remote_transport *rt, char **msg) {
  rt->ufrag = sb_sdp_media_ice_ufrag(sdp, tagged);
  rt->pwd = sb_sdp_media_ice_pwd(sdp, tagged);
  if (rt->ufrag == NULL || rt->pwd == NULL || !*rt->ufrag || !*rt->pwd) {
    *msg = g_strdup_printf("the %s has no ICE credentials (a=ice-ufrag and a=ice-pwd)", what);
    return SB_ERR_SDP_NO_ICE;
  }
  /* RFC 8839 §5.4: ufrag 4..256 and pwd 22..256 ice-chars. */
  if (strlen(rt->ufrag) < 4 || strlen(rt->ufrag) > 256 || strlen(rt->pwd) < 22 ||
      strlen(rt->pwd) > 256) {
    *msg = g_strdup_printf("the %s's ICE credentials have the wrong length (RFC 8839 §5.4)", what);
    return SB_ERR_SDP_NO_ICE;
  }
  rt->fingerprint = sb_sdp_media_fingerprint(sdp, tagged, &rt->fingerprint_hash);
  if (rt->fingerprint == NULL || rt->fingerprint_hash == NULL) {
    *msg = g_strdup_printf("the %s has no DTLS fingerprint (a=fingerprint)", what);
    return SB_ERR_SDP_NO_FINGERPRINT;
  }
  static const char *const hashes[] = { "sha-1", "sha-224", "sha-256", "sha-384", "sha-512" };
  bool known = false;
  for (size_t i = 0; i < G_N_ELEMENTS(hashes) && !known; i++)
    known = g_ascii_strcasecmp(rt->fingerprint_hash, hashes[i]) == 0;
  if (!known) {
    *msg = g_strdup_printf("the %s's fingerprint hash '%s' is not supported", what, rt->fingerprint_hash);
    return SB_ERR_SDP_NO_FINGERPRINT;
  }
  rt->setup = sb_sdp_media_setup(sdp, tagged);
  if (rt->setup == SB_SETUP_HOLDCONN) {
    *msg = g_strdup("a=setup:holdconn is not supported");
    return SB_ERR_SDP_UNSUPPORTED;
  }
  rt->candidates = tagged->candidates;
  rt->end_of_candidates = tagged->end_of_candidates;
  return 0;
}

int sb_negotiate_check_offer(const sb_sdp *offer, sb_remote_transport *rt, char **msg) {
  memset(rt, 0, sizeof *rt);
  if (offer->media->len == 0) {
    *msg = g_strdup("the offer has no m-section");
    return SB_ERR_SDP_UNSUPPORTED;
  }
  const sb_sdp_group *bundle = sb_sdp_bundle_group(offer);
  const sb_sdp_media *tagged = NULL;
  rt->tagged_index = 0;
  if (bundle && bundle->mids->len > 0) {
    for (guint i = 0; i < bundle->mids->len; i++)
      if (media_by_mid(offer, g_ptr_array_index(bundle->mids, i), NULL) == NULL) {
        *msg = g_strdup("the BUNDLE group names a mid that no m-section has");
        return SB_ERR_SDP_INVALID;
      }
    /* RFC 9143 §7.2.1: the first mid of the group is the offerer's tagged m-section. */
    tagged = media_by_mid(offer, g_ptr_array_index(bundle->mids, 0), &rt->tagged_index);
  } else {
    int live = 0;
    for (guint i = 0; i < offer->media->len; i++) {
      const sb_sdp_media *m = g_ptr_array_index(offer->media, i);
      if (m->port != 0)
        live++;
    }
    if (live > 1) {
      *msg = g_strdup("an offer with several m-sections must BUNDLE them (a=group:BUNDLE)");
      return SB_ERR_SDP_UNSUPPORTED;
    }
    tagged = g_ptr_array_index(offer->media, 0);
  }
  return transport_of(offer, tagged, "offer", rt, msg);
}

static bool caps_allow(const sb_caps *caps, sb_media_kind kind, sb_codec_id id, int *rank) {
  const sb_codec_id *list = kind == SB_MEDIA_AUDIO ? caps->audio : caps->video;
  int n = kind == SB_MEDIA_AUDIO ? caps->audio_count : caps->video_count;
  if (!sb_codec_is_media(id))
    return false;
  if (kind == SB_MEDIA_AUDIO ? !sb_codec_is_audio(id) : !sb_codec_is_video(id))
    return false;
  if (n == 0) {
    *rank = 0;
    return true;
  }
  for (int i = 0; i < n; i++)
    if (list[i] == id) {
      *rank = i;
      return true;
    }
  return false;
}

static bool has_fb(const sb_sdp_codec *c, const char *fb) {
  for (guint i = 0; c->rtcp_fb && i < c->rtcp_fb->len; i++)
    if (g_ascii_strcasecmp(g_ptr_array_index(c->rtcp_fb, i), fb) == 0)
      return true;
  return false;
}

/* RFC 4588 §8.6: an rtx payload type names its media payload type in apt=. */
static int rtx_apt(const sb_sdp_codec *c) {
  char v[16];
  if (c->fmtp == NULL || !sb_fmtp_get(c->fmtp, "apt", v, sizeof v))
    return -1;
  char *end = NULL;
  long apt = strtol(v, &end, 10);
  return (end != v && *end == '\0' && apt >= 0 && apt <= 127) ? (int)apt : -1;
}

typedef struct ranked {
  const sb_sdp_codec *c;
  int rank;
  int order;
} ranked;

static int ranked_cmp(const void *a, const void *b) {
  const ranked *x = a, *y = b;
  return x->rank != y->rank ? x->rank - y->rank : x->order - y->order;
}

/* Fills d->codecs with the accepted media codecs and their RTX. */
static void pick_codecs(const sb_sdp_media *m, const sb_caps *caps, sb_media_desc *d) {
  ranked picks[SB_MAX_CODECS];
  int n = 0;
  for (guint i = 0; i < m->codecs->len && n < SB_MAX_CODECS; i++) {
    const sb_sdp_codec *c = g_ptr_array_index(m->codecs, i);
    int rank;
    if (c->encoding == NULL || !caps_allow(caps, d->kind, sb_codec_from_name(c->encoding), &rank))
      continue;
    picks[n].c = c;
    picks[n].rank = caps->keep_offer_order ? 0 : rank;
    picks[n].order = (int)i;
    n++;
  }
  qsort(picks, (size_t)n, sizeof picks[0], ranked_cmp);
  for (int i = 0; i < n; i++) {
    const sb_sdp_codec *c = picks[i].c;
    sb_codec_desc *cd = &d->codecs[d->codec_count++];
    memset(cd, 0, sizeof *cd);
    cd->pt = (uint8_t)c->pt;
    cd->codec = sb_codec_from_name(c->encoding);
    cd->clock_rate = c->clock_rate;
    cd->channels = (uint8_t)(c->channels ? c->channels : 1);
    if (c->fmtp)
      g_strlcpy(cd->fmtp, c->fmtp, sizeof cd->fmtp);
    cd->fb_nack = has_fb(c, "nack");
    cd->fb_pli = has_fb(c, "nack pli");
    cd->fb_fir = has_fb(c, "ccm fir");
    cd->fb_remb = caps->remb && has_fb(c, "goog-remb");
    cd->fb_twcc = caps->twcc && has_fb(c, "transport-cc");
  }
  if (!caps->rtx)
    return;
  for (guint i = 0; i < m->codecs->len; i++) {
    const sb_sdp_codec *c = g_ptr_array_index(m->codecs, i);
    if (c->encoding == NULL || sb_codec_from_name(c->encoding) != SB_CODEC_RTX)
      continue;
    int apt = rtx_apt(c);
    for (int k = 0; k < d->codec_count && apt >= 0; k++)
      if (d->codecs[k].pt == apt && d->codecs[k].rtx_pt == 0)
        d->codecs[k].rtx_pt = (uint8_t)c->pt;
  }
}

/* Header extensions: the ones we know, with the offer's ids. Ids must be unique
 * across a BUNDLE group (RFC 8843 §9.2): a clash (aiortc 1.4 offers id 2 twice)
 * keeps the first and drops the other, so the remote never sees an ambiguous id. */
static void pick_extensions(const sb_sdp_media *m, const sb_caps *caps, sb_media_desc *d,
                            const char *used[256]) {
  for (guint i = 0; i < m->extmaps->len; i++) {
    const sb_sdp_extmap *e = g_ptr_array_index(m->extmaps, i);
    sb_ext_kind k = sb_ext_from_uri(e->uri);
    if (k == SB_EXT_COUNT || e->id <= 0 || e->id > 255)
      continue;
    if (k == SB_EXT_TWCC && !caps->twcc)
      continue;
    if ((k == SB_EXT_AUDIO_LEVEL && d->kind != SB_MEDIA_AUDIO) ||
        (k == SB_EXT_VIDEO_ORIENTATION && d->kind != SB_MEDIA_VIDEO))
      continue;
    if (used[e->id] && strcmp(used[e->id], e->uri) != 0)
      continue;
    used[e->id] = e->uri;
    d->ext_ids[k] = (uint8_t)e->id;
  }
}

static void collect_remote_ssrcs(const sb_sdp_media *m, sb_media_desc *d) {
  /* FID groups pair a media SSRC with its RTX SSRC (RFC 4588 §8.2 via RFC 5576). */
  for (guint i = 0; i < m->ssrcs->len; i++) {
    const sb_sdp_ssrc *s = g_ptr_array_index(m->ssrcs, i);
    bool known = false, is_rtx = false;
    for (int k = 0; k < d->remote_ssrc_count; k++)
      if (d->remote_ssrcs[k].ssrc == s->ssrc || d->remote_ssrcs[k].rtx_ssrc == s->ssrc)
        known = true;
    for (guint g = 0; g < m->ssrc_groups->len && !known; g++) {
      const sb_sdp_ssrc_group *grp = g_ptr_array_index(m->ssrc_groups, g);
      if (strcmp(grp->semantics, "FID") == 0 && grp->ssrcs->len >= 2 &&
          g_array_index(grp->ssrcs, uint32_t, 1) == s->ssrc)
        is_rtx = true;
    }
    if (known || is_rtx || d->remote_ssrc_count >= SB_MAX_REMOTE_SSRCS)
      continue;
    sb_remote_ssrc *r = &d->remote_ssrcs[d->remote_ssrc_count++];
    r->ssrc = s->ssrc;
    r->rtx_ssrc = 0;
    for (guint g = 0; g < m->ssrc_groups->len; g++) {
      const sb_sdp_ssrc_group *grp = g_ptr_array_index(m->ssrc_groups, g);
      if (strcmp(grp->semantics, "FID") == 0 && grp->ssrcs->len >= 2 &&
          g_array_index(grp->ssrcs, uint32_t, 0) == s->ssrc)
        r->rtx_ssrc = g_array_index(grp->ssrcs, uint32_t, 1);
    }
  }
}

static uint32_t fresh_ssrc(GPtrArray *descs, uint32_t avoid) {
  for (;;) {
    uint32_t s = sb_random_u32();
    bool clash = s == 0 || s == avoid;
    for (guint i = 0; i < descs->len && !clash; i++) {
      const sb_media_desc *d = g_ptr_array_index(descs, i);
      clash = d->local_ssrc == s || d->local_rtx_ssrc == s;
      for (int k = 0; k < d->remote_ssrc_count && !clash; k++)
        clash = d->remote_ssrcs[k].ssrc == s || d->remote_ssrcs[k].rtx_ssrc == s;
    }
    if (!clash)
      return s;
  }
}

static void add_transport(sb_sdp_media *a, const sb_local_transport *lt) {
  a->ice_ufrag = g_strdup(lt->ufrag);
  a->ice_pwd = g_strdup(lt->pwd);
  a->fingerprint_hash = g_strdup("sha-256");
  a->fingerprint = g_strdup(lt->fingerprint);
  a->setup = lt->setup;
  a->rtcp_mux = true;
}

static void add_codecs(sb_sdp_media *a, const sb_media_desc *d) {
  for (int i = 0; i < d->codec_count; i++) {
    const sb_codec_desc *cd = &d->codecs[i];
    sb_sdp_codec *c = sb_sdp_codec_new(cd->pt, sb_codec_name(cd->codec), cd->clock_rate,
                                       cd->codec == SB_CODEC_OPUS ? cd->channels : 0);
    if (cd->fmtp[0])
      c->fmtp = g_strdup(cd->fmtp);
    if (cd->fb_remb)
      g_ptr_array_add(c->rtcp_fb, g_strdup("goog-remb"));
    if (cd->fb_twcc)
      g_ptr_array_add(c->rtcp_fb, g_strdup("transport-cc"));
    if (cd->fb_fir)
      g_ptr_array_add(c->rtcp_fb, g_strdup("ccm fir"));
    if (cd->fb_nack)
      g_ptr_array_add(c->rtcp_fb, g_strdup("nack"));
    if (cd->fb_pli)
      g_ptr_array_add(c->rtcp_fb, g_strdup("nack pli"));
    g_ptr_array_add(a->codecs, c);
    g_ptr_array_add(a->fmts, g_strdup_printf("%u", cd->pt));
  }
  for (int i = 0; i < d->codec_count; i++) {
    const sb_codec_desc *cd = &d->codecs[i];
    if (cd->rtx_pt == 0)
      continue;
    sb_sdp_codec *c = sb_sdp_codec_new(cd->rtx_pt, "rtx", cd->clock_rate, 0);
    c->fmtp = g_strdup_printf("apt=%u", cd->pt);
    g_ptr_array_add(a->codecs, c);
    g_ptr_array_add(a->fmts, g_strdup_printf("%u", cd->rtx_pt));
  }
}

static void add_ssrc_attr(sb_sdp_media *a, uint32_t ssrc, const char *attr, const char *value) {
  sb_sdp_ssrc *s = g_new0(sb_sdp_ssrc, 1);
  s->ssrc = ssrc;
  s->attr = g_strdup(attr);
  s->value = g_strdup(value);
  g_ptr_array_add(a->ssrcs, s);
}

/* a=msid, a=ssrc and a=ssrc-group:FID lines so the remote maps our packets to a
 * track (RFC 8830, RFC 5576, RFC 4588 §8.2). */
static void add_source_lines(sb_sdp_media *a, uint32_t ssrc, uint32_t rtx_ssrc, const char *cname,
                             const char *msid) {
  a->msid = g_strdup(msid);
  if (rtx_ssrc) {
    sb_sdp_ssrc_group *g = g_new0(sb_sdp_ssrc_group, 1);
    g->semantics = g_strdup("FID");
    g->ssrcs = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    g_array_append_val(g->ssrcs, ssrc);
    g_array_append_val(g->ssrcs, rtx_ssrc);
    g_ptr_array_add(a->ssrc_groups, g);
  }
  uint32_t ssrcs[2] = { ssrc, rtx_ssrc };
  for (int i = 0; i < 2 && ssrcs[i]; i++) {
    add_ssrc_attr(a, ssrcs[i], "cname", cname);
    add_ssrc_attr(a, ssrcs[i], "msid", msid);
  }
}

static void add_local_source(sb_sdp_media *a, const sb_media_desc *d, const sb_local_transport *lt) {
  char *msid = g_strdup_printf("%s %s-%s", lt->msid_stream, sb_media_kind_name(d->kind), d->mid);
  add_source_lines(a, d->local_ssrc, d->local_rtx_ssrc, lt->cname, msid);
  g_free(msid);
}

static void add_extmaps(sb_sdp_media *a, const uint8_t ext_ids[SB_EXT_COUNT]) {
  for (int k = 0; k < SB_EXT_COUNT; k++) {
    if (ext_ids[k] == 0)
      continue;
    sb_sdp_extmap *e = g_new0(sb_sdp_extmap, 1);
    e->id = ext_ids[k];
    e->uri = g_strdup(ext_uris[k]);
    e->dir = SB_DIR_SENDRECV;
    g_ptr_array_add(a->extmaps, e);
  }
}

static sb_direction direction_for(sb_direction offered, const sb_caps *caps) {
  bool remote_sends = offered == SB_DIR_SENDRECV || offered == SB_DIR_SENDONLY;
  bool remote_recvs = offered == SB_DIR_SENDRECV || offered == SB_DIR_RECVONLY;
  bool we_recv = remote_sends && caps->can_recv;
  bool we_send = remote_recvs && caps->can_send;
  if (we_send && we_recv)
    return SB_DIR_SENDRECV;
  if (we_send)
    return SB_DIR_SENDONLY;
  if (we_recv)
    return SB_DIR_RECVONLY;
  return SB_DIR_INACTIVE;
}

static void reject_media(sb_sdp_media *a, const sb_sdp_media *m) {
  a->port = 0;
  for (guint i = 0; i < m->fmts->len; i++)
    g_ptr_array_add(a->fmts, g_strdup(g_ptr_array_index(m->fmts, i)));
  a->direction = SB_DIR_INACTIVE;
}

int sb_negotiate_answer(const sb_sdp *offer, const sb_caps *caps, const sb_local_transport *lt,
                        sb_sdp **answer_out, GPtrArray **descs_out, char **msg) {
  sb_remote_transport rt;
  int rc = sb_negotiate_check_offer(offer, &rt, msg);
  if (rc != 0)
    return rc;
  const sb_sdp_group *bundle = sb_sdp_bundle_group(offer);
  GPtrArray *descs = g_ptr_array_new_with_free_func(g_free);
  sb_sdp *ans = sb_sdp_new(); /* o=- <random id> ... IN IP4 0.0.0.0, s=- */
  ans->session_version = 2;
  ans->msid_semantic = g_strdup("WMS *");
  ans->extmap_allow_mixed = offer->extmap_allow_mixed;
  ans->ice_trickle = true;
  sb_sdp_group *ans_bundle = NULL;
  if (bundle) {
    ans_bundle = g_new0(sb_sdp_group, 1);
    ans_bundle->semantics = g_strdup("BUNDLE");
    ans_bundle->mids = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(ans->groups, ans_bundle);
  }

  const char *used_ext[256] = { 0 };
  int accepted = 0;
  bool candidates_written = false;
  for (guint i = 0; i < offer->media->len; i++) {
    const sb_sdp_media *m = g_ptr_array_index(offer->media, i);
    sb_media_desc *d = g_new0(sb_media_desc, 1);
    g_ptr_array_add(descs, d);
    d->index = (int)i;
    d->kind = kind_of(m->type);
    if (m->mid)
      g_strlcpy(d->mid, m->mid, sizeof d->mid);
    else
      g_snprintf(d->mid, sizeof d->mid, "%u", i);

    sb_sdp_media *a = sb_sdp_media_new(m->type);
    g_free(a->proto);
    a->proto = g_strdup(m->proto);
    a->mid = g_strdup(d->mid);
    a->conn_addr = g_strdup("0.0.0.0");
    g_ptr_array_add(ans->media, a);

    bool usable = m->port != 0 && (bundle == NULL || in_bundle(bundle, m->mid));
    if (usable && (d->kind == SB_MEDIA_AUDIO || d->kind == SB_MEDIA_VIDEO) && is_rtp_proto(m->proto) &&
        m->rtcp_mux) {
      pick_codecs(m, caps, d);
      d->dir = direction_for(m->direction, caps);
      usable = d->codec_count > 0;
    } else if (usable && d->kind == SB_MEDIA_APPLICATION && is_sctp_proto(m->proto) && caps->data) {
      d->sctp_port = m->sctp_port ? m->sctp_port : 5000;
      d->max_message_size = m->max_message_size;
      d->dir = SB_DIR_SENDRECV;
    } else {
      usable = false;
    }
    if (!usable) {
      d->accepted = false;
      reject_media(a, m);
      continue;
    }
    d->accepted = true;
    accepted++;
    a->port = 9; /* RFC 8840 §4.1.1: the ICE candidates carry the real addresses */
    add_transport(a, lt);
    a->direction = d->dir;
    if (ans_bundle)
      g_ptr_array_add(ans_bundle->mids, g_strdup(d->mid));
    if (d->kind == SB_MEDIA_APPLICATION) {
      for (guint k = 0; k < m->fmts->len; k++)
        g_ptr_array_add(a->fmts, g_strdup(g_ptr_array_index(m->fmts, k)));
      a->sctp_port = d->sctp_port;
      a->sctpmap = m->sctpmap;
      a->rtcp_mux = false;
      /* What we accept (RFC 8841 §6); d keeps what the remote accepts. */
      a->max_message_size = SB_MAX_MESSAGE_SIZE;
    } else {
      d->rtcp_rsize = m->rtcp_rsize;
      a->rtcp_rsize = m->rtcp_rsize;
      pick_extensions(m, caps, d, used_ext);
      add_extmaps(a, d->ext_ids);
      if (d->dir == SB_DIR_SENDRECV || d->dir == SB_DIR_RECVONLY)
        collect_remote_ssrcs(m, d);
      add_codecs(a, d);
      if (d->dir == SB_DIR_SENDRECV || d->dir == SB_DIR_SENDONLY) {
        d->local_ssrc = fresh_ssrc(descs, 0);
        bool any_rtx = false;
        for (int k = 0; k < d->codec_count; k++)
          any_rtx |= d->codecs[k].rtx_pt != 0;
        if (any_rtx)
          d->local_rtx_ssrc = fresh_ssrc(descs, d->local_ssrc);
        add_local_source(a, d, lt);
      }
    }
    /* With BUNDLE the candidates belong to the first accepted m-section (RFC 8843 §7.1.1). */
    if (!candidates_written) {
      for (char **c = lt->candidates; c && *c; c++)
        g_ptr_array_add(a->candidates, g_strdup(*c));
      a->end_of_candidates = lt->end_of_candidates;
      candidates_written = true;
    }
  }
  if (accepted == 0) {
    *msg = g_strdup("nothing in the offer can be accepted (no supported codec, or no DTLS-SRTP "
                    "m-section with rtcp-mux)");
    sb_sdp_free(ans);
    g_ptr_array_unref(descs);
    return SB_ERR_SDP_UNSUPPORTED;
  }
  *answer_out = ans;
  *descs_out = descs;
  return 0;
}

/* --- offers the server makes --- */

sb_sdp *sb_negotiate_offer(const sb_offer_section *sec, int n, const sb_local_transport *lt) {
  sb_sdp *o = sb_sdp_new();
  if (lt->session_id)
    o->session_id = lt->session_id;
  o->session_version = lt->session_version;
  o->msid_semantic = g_strdup("WMS *");
  o->ice_trickle = true;
  sb_sdp_group *bundle = g_new0(sb_sdp_group, 1);
  bundle->semantics = g_strdup("BUNDLE");
  bundle->mids = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(o->groups, bundle);
  for (int i = 0; i < n; i++) {
    const sb_offer_section *x = &sec[i];
    sb_sdp_media *a = sb_sdp_media_new(sb_media_kind_name(x->kind));
    a->port = 9;
    a->conn_addr = g_strdup("0.0.0.0");
    a->mid = g_strdup(x->mid);
    add_transport(a, lt);
    a->direction = x->dir;
    a->rtcp_rsize = true;
    if (x->kind == SB_MEDIA_APPLICATION) {
      /* RFC 8841: a data channel section; SCTP runs over the bundle's DTLS. */
      a->rtcp_mux = false;
      a->rtcp_rsize = false;
      g_ptr_array_add(a->fmts, g_strdup("webrtc-datachannel"));
      a->sctp_port = 5000;
      a->max_message_size = SB_MAX_MESSAGE_SIZE;
    }
    add_extmaps(a, x->ext_ids);
    sb_media_desc d = { .kind = x->kind, .codec_count = x->codec_count };
    memcpy(d.codecs, x->codecs, sizeof(x->codecs[0]) * (size_t)x->codec_count);
    add_codecs(a, &d);
    /* Inactive sections keep their source lines too: a section reused later for
     * another track keeps its SSRC, and Chromium renders nothing for an SSRC that
     * disappeared from and came back to the SDP (as its own offers do, the track
     * of an inactive section is "-"). */
    if (x->msid[0])
      add_source_lines(a, x->ssrc, x->rtx_ssrc, lt->cname, x->msid);
    if (i == 0) {
      for (char **c = lt->candidates; c && *c; c++)
        g_ptr_array_add(a->candidates, g_strdup(*c));
      a->end_of_candidates = lt->end_of_candidates;
    }
    g_ptr_array_add(bundle->mids, g_strdup(x->mid));
    g_ptr_array_add(o->media, a);
  }
  return o;
}

static const sb_sdp_codec *answer_codec(const sb_sdp_media *m, uint8_t pt) {
  return m->codecs ? sb_sdp_media_codec(m, pt) : NULL;
}

/* What the answer kept of one offered section (RFC 3264 §6: the answer lists a
 * subset of the offered payload types; feedback and extensions only where both
 * sides have them). */
static void apply_section(const sb_offer_section *x, const sb_sdp_media *m, sb_media_desc *d) {
  d->accepted = m->port != 0;
  if (!d->accepted)
    return;
  if (x->kind == SB_MEDIA_APPLICATION) {
    d->accepted = m->sctp_port != 0 || m->sctpmap;
    d->sctp_port = m->sctp_port ? m->sctp_port : 5000;
    d->max_message_size = m->max_message_size;
    d->dir = SB_DIR_SENDRECV;
    return;
  }
  bool remote_recvs = m->direction == SB_DIR_RECVONLY || m->direction == SB_DIR_SENDRECV;
  bool we_send = x->dir == SB_DIR_SENDONLY || x->dir == SB_DIR_SENDRECV;
  d->dir = remote_recvs && we_send ? SB_DIR_SENDONLY : SB_DIR_INACTIVE;
  d->rtcp_rsize = m->rtcp_rsize;
  for (int k = 0; k < x->codec_count; k++) {
    const sb_codec_desc *c = &x->codecs[k];
    const sb_sdp_codec *ac = answer_codec(m, c->pt);
    if (ac == NULL)
      continue;
    sb_codec_desc *cd = &d->codecs[d->codec_count++];
    *cd = *c;
    cd->fb_nack = c->fb_nack && has_fb(ac, "nack");
    cd->fb_pli = c->fb_pli && has_fb(ac, "nack pli");
    cd->fb_fir = c->fb_fir && has_fb(ac, "ccm fir");
    cd->fb_remb = c->fb_remb && has_fb(ac, "goog-remb");
    cd->fb_twcc = c->fb_twcc && has_fb(ac, "transport-cc");
    if (c->rtx_pt && answer_codec(m, c->rtx_pt) == NULL)
      cd->rtx_pt = 0;
  }
  if (d->codec_count == 0) {
    d->accepted = false;
    return;
  }
  for (int k = 0; k < SB_EXT_COUNT; k++) {
    if (x->ext_ids[k] == 0)
      continue;
    const sb_sdp_extmap *e = sb_sdp_media_extmap_by_uri(m, ext_uris[k]);
    if (e && e->id == x->ext_ids[k])
      d->ext_ids[k] = x->ext_ids[k];
  }
  if (d->dir == SB_DIR_SENDONLY) {
    d->local_ssrc = x->ssrc;
    for (int k = 0; k < d->codec_count; k++)
      if (d->codecs[k].rtx_pt)
        d->local_rtx_ssrc = x->rtx_ssrc;
  }
}

int sb_negotiate_apply_answer(const sb_sdp *answer, const sb_offer_section *sec, int n,
                              GPtrArray **descs_out, sb_remote_transport *rt, char **msg) {
  memset(rt, 0, sizeof *rt);
  if ((int)answer->media->len != n) {
    *msg = g_strdup_printf("the answer has %u m-sections; the offer had %d", answer->media->len, n);
    return SB_ERR_SDP_INVALID;
  }
  const sb_sdp_media *tagged = NULL;
  for (int i = 0; i < n; i++) {
    const sb_sdp_media *m = g_ptr_array_index(answer->media, i);
    if (m->mid && strcmp(m->mid, sec[i].mid) != 0) {
      *msg = g_strdup_printf("m-section %d of the answer has mid '%s'; the offer's is '%s'", i,
                             m->mid, sec[i].mid);
      return SB_ERR_SDP_INVALID;
    }
    if (tagged == NULL && m->port != 0) {
      tagged = m;
      rt->tagged_index = i;
    }
  }
  if (tagged == NULL) {
    *msg = g_strdup("the answer rejects every m-section");
    return SB_ERR_SDP_UNSUPPORTED;
  }
  int rc = transport_of(answer, tagged, "answer", rt, msg);
  if (rc != 0)
    return rc;
  if (rt->setup == SB_SETUP_ACTPASS) {
    *msg = g_strdup("an answer must say a=setup:active or passive (RFC 5763 §5)");
    return SB_ERR_SDP_INVALID;
  }
  GPtrArray *descs = g_ptr_array_new_with_free_func(g_free);
  for (int i = 0; i < n; i++) {
    sb_media_desc *d = g_new0(sb_media_desc, 1);
    d->index = i;
    d->kind = sec[i].kind;
    g_strlcpy(d->mid, sec[i].mid, sizeof d->mid);
    apply_section(&sec[i], g_ptr_array_index(answer->media, i), d);
    g_ptr_array_add(descs, d);
  }
  *descs_out = descs;
  return 0;
}

const sb_codec_desc *sb_media_desc_codec(const sb_media_desc *d, uint8_t pt) {
  for (int i = 0; i < d->codec_count; i++)
    if (d->codecs[i].pt == pt)
      return &d->codecs[i];
  return NULL;
}

const sb_codec_desc *sb_media_desc_codec_for_rtx(const sb_media_desc *d, uint8_t rtx_pt) {
  for (int i = 0; i < d->codec_count; i++)
    if (d->codecs[i].rtx_pt != 0 && d->codecs[i].rtx_pt == rtx_pt)
      return &d->codecs[i];
  return NULL;
}
