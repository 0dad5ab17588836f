/* Switchboard — SDP writer: the tree back to text, CRLF line endings (RFC 8866 §5),
 * lines in the order JSEP implementations emit them (RFC 9429 §5.2.1).
 *
 * What the parser accepted, the writer writes so that parsing it again gives the
 * same tree; the fuzz target checks exactly that. Fields the parser never leaves
 * empty are still checked for NULL here, because trees are also built by hand. */
#include "media/sdp.h"

#include <inttypes.h>
#include <string.h>

/* Appends s minus control characters: a string field must not be able to end its
 * line and inject lines of its own (a plugin may copy user input into a tree). */
static void put(GString *o, const char *s) {
  if (s == NULL)
    return;
  while (*s) {
    size_t n = 0;
    while (s[n] && ((unsigned char)s[n] >= 0x20 || s[n] == '\t') && s[n] != 0x7f)
      n++;
    g_string_append_len(o, s, (gssize)n);
    s += n;
    if (*s)
      s++;
  }
}

static void eol(GString *o) { g_string_append(o, "\r\n"); }

/* "a=NAME:VALUE" or, when value is NULL, "a=NAME". */
static void attr(GString *o, const char *name, const char *value) {
  g_string_append(o, "a=");
  g_string_append(o, name);
  if (value) {
    g_string_append_c(o, ':');
    put(o, value);
  }
  eol(o);
}

/* RFC 8866 §5.7: the address type follows from the address. */
static const char *addrtype(const char *addr) {
  return addr && strchr(addr, ':') ? "IP6" : "IP4";
}

static void write_transport(GString *o, const char *ufrag, const char *pwd,
                            const char *fp_hash, const char *fp, sb_setup setup) {
  if (ufrag)
    attr(o, "ice-ufrag", ufrag);
  if (pwd)
    attr(o, "ice-pwd", pwd);
  if (fp) {
    g_string_append(o, "a=fingerprint:");
    put(o, fp_hash ? fp_hash : "sha-256");
    g_string_append_c(o, ' ');
    put(o, fp);
    eol(o);
  }
  if (sb_setup_str(setup))
    attr(o, "setup", sb_setup_str(setup));
}

static void write_session(GString *o, const sb_sdp *sdp) {
  const char *addr = sdp->origin_addr ? sdp->origin_addr : "0.0.0.0";
  g_string_append(o, "v=0\r\no=");
  put(o, sdp->origin_user ? sdp->origin_user : "-");
  g_string_append_printf(o, " %" PRIu64 " %" PRIu64 " IN %s ", sdp->session_id,
                         sdp->session_version, addrtype(addr));
  put(o, addr);
  g_string_append(o, "\r\ns=");
  put(o, sdp->session_name && *sdp->session_name ? sdp->session_name : "-");
  eol(o);
  if (sdp->conn_addr) {
    g_string_append_printf(o, "c=IN %s ", addrtype(sdp->conn_addr));
    put(o, sdp->conn_addr);
    eol(o);
  }
  g_string_append(o, "t=0 0\r\n");
  for (guint i = 0; sdp->groups && i < sdp->groups->len; i++) {
    const sb_sdp_group *g = g_ptr_array_index(sdp->groups, i);
    if (g->semantics == NULL)
      continue;
    g_string_append(o, "a=group:");
    put(o, g->semantics);
    for (guint j = 0; g->mids && j < g->mids->len; j++) {
      g_string_append_c(o, ' ');
      put(o, g_ptr_array_index(g->mids, j));
    }
    eol(o);
  }
  if (sdp->extmap_allow_mixed)
    attr(o, "extmap-allow-mixed", NULL);
  if (sdp->msid_semantic)
    attr(o, "msid-semantic", sdp->msid_semantic);
  if (sdp->ice_lite)
    attr(o, "ice-lite", NULL);
  if (sdp->ice_trickle)
    attr(o, "ice-options", "trickle");
  write_transport(o, sdp->ice_ufrag, sdp->ice_pwd, sdp->fingerprint_hash,
                  sdp->fingerprint, sdp->setup);
}

/* The m-line's formats: an RTP m-line's come from its codecs, so that code which
 * drops or adds a codec need not edit fmts too. With neither, a placeholder keeps
 * the line valid (RFC 8866 §5.14 requires at least one format). */
static void write_fmts(GString *o, const sb_sdp_media *m) {
  if (sb_sdp_media_is_rtp(m) && m->codecs && m->codecs->len > 0) {
    for (guint i = 0; i < m->codecs->len; i++)
      g_string_append_printf(o, " %d",
                             ((const sb_sdp_codec *)g_ptr_array_index(m->codecs, i))->pt);
  } else if (m->fmts && m->fmts->len > 0) {
    for (guint i = 0; i < m->fmts->len; i++) {
      g_string_append_c(o, ' ');
      put(o, g_ptr_array_index(m->fmts, i));
    }
  } else if (m->sctpmap) {
    g_string_append_printf(o, " %u", m->sctp_port ? m->sctp_port : 5000);
  } else if (sb_sdp_media_is_rtp(m)) {
    g_string_append(o, " 0");
  } else {
    g_string_append(o, " webrtc-datachannel"); /* RFC 8841 §4.1 */
  }
}

static void write_codec(GString *o, const sb_sdp_codec *c) {
  if (c->encoding) {
    g_string_append_printf(o, "a=rtpmap:%d ", c->pt);
    put(o, c->encoding);
    g_string_append_printf(o, "/%u", c->clock_rate);
    if (c->channels)
      g_string_append_printf(o, "/%u", c->channels);
    eol(o);
  }
  for (guint i = 0; c->rtcp_fb && i < c->rtcp_fb->len; i++) {
    g_string_append_printf(o, "a=rtcp-fb:%d ", c->pt);
    put(o, g_ptr_array_index(c->rtcp_fb, i));
    eol(o);
  }
  if (c->fmtp) {
    g_string_append_printf(o, "a=fmtp:%d ", c->pt);
    put(o, c->fmtp);
    eol(o);
  }
}

static void write_rtp(GString *o, const sb_sdp_media *m) {
  for (guint i = 0; m->codecs && i < m->codecs->len; i++)
    write_codec(o, g_ptr_array_index(m->codecs, i));
  for (guint i = 0; m->ssrc_groups && i < m->ssrc_groups->len; i++) {
    const sb_sdp_ssrc_group *g = g_ptr_array_index(m->ssrc_groups, i);
    if (g->semantics == NULL)
      continue;
    g_string_append(o, "a=ssrc-group:");
    put(o, g->semantics);
    for (guint j = 0; g->ssrcs && j < g->ssrcs->len; j++)
      g_string_append_printf(o, " %" PRIu32, g_array_index(g->ssrcs, uint32_t, j));
    eol(o);
  }
  for (guint i = 0; m->ssrcs && i < m->ssrcs->len; i++) {
    const sb_sdp_ssrc *s = g_ptr_array_index(m->ssrcs, i);
    if (s->attr == NULL)
      continue;
    g_string_append_printf(o, "a=ssrc:%" PRIu32 " ", s->ssrc);
    put(o, s->attr);
    if (s->value) {
      g_string_append_c(o, ':');
      put(o, s->value);
    }
    eol(o);
  }
  for (guint i = 0; m->rids && i < m->rids->len; i++) {
    const sb_sdp_rid *r = g_ptr_array_index(m->rids, i);
    if (r->id == NULL)
      continue;
    g_string_append(o, "a=rid:");
    put(o, r->id);
    g_string_append(o, r->send ? " send" : " recv");
    if (r->params) {
      g_string_append_c(o, ' ');
      put(o, r->params);
    }
    eol(o);
  }
  if (m->simulcast)
    attr(o, "simulcast", m->simulcast);
}

static void write_media(GString *o, const sb_sdp *sdp, const sb_sdp_media *m) {
  bool rtp = sb_sdp_media_is_rtp(m);
  const char *proto = m->proto ? m->proto
                      : g_strcmp0(m->type, "application") == 0 ? "UDP/DTLS/SCTP"
                                                               : "UDP/TLS/RTP/SAVPF";
  g_string_append(o, "m=");
  put(o, m->type ? m->type : "audio");
  g_string_append_printf(o, " %u ", m->port);
  put(o, proto);
  write_fmts(o, m);
  eol(o);
  /* RFC 8866 §5.7: every m-section needs a c= unless the session has one. */
  if (m->conn_addr || sdp->conn_addr == NULL) {
    const char *addr = m->conn_addr ? m->conn_addr : "0.0.0.0";
    g_string_append_printf(o, "c=IN %s ", addrtype(addr));
    put(o, addr);
    eol(o);
  }
  write_transport(o, m->ice_ufrag, m->ice_pwd, m->fingerprint_hash, m->fingerprint,
                  m->setup);
  if (m->mid)
    attr(o, "mid", m->mid);
  if (m->bundle_only)
    attr(o, "bundle-only", NULL);
  for (guint i = 0; m->extmaps && i < m->extmaps->len; i++) {
    const sb_sdp_extmap *e = g_ptr_array_index(m->extmaps, i);
    if (e->uri == NULL)
      continue;
    g_string_append_printf(o, "a=extmap:%d", e->id);
    if (e->dir != SB_DIR_SENDRECV)
      g_string_append_printf(o, "/%s", sb_direction_str(e->dir));
    g_string_append_c(o, ' ');
    put(o, e->uri);
    if (e->attrs) {
      g_string_append_c(o, ' ');
      put(o, e->attrs);
    }
    eol(o);
  }
  if (m->extmap_allow_mixed)
    attr(o, "extmap-allow-mixed", NULL);
  if (rtp)   /* a data channel section has no direction (RFC 8841) */
    attr(o, sb_direction_str(m->direction), NULL);
  if (m->msid)
    attr(o, "msid", m->msid);
  if (m->rtcp_mux)
    attr(o, "rtcp-mux", NULL);
  if (m->rtcp_rsize)
    attr(o, "rtcp-rsize", NULL);
  if (rtp)
    write_rtp(o, m);
  if (m->sctpmap) {
    /* The pre-RFC 8841 form that older stacks (aiortc 1.4) still send. */
    g_string_append_printf(o, "a=sctpmap:%u webrtc-datachannel %u\r\n", m->sctp_port,
                           m->max_message_size ? m->max_message_size : 65535);
  } else if (m->sctp_port) {
    g_string_append_printf(o, "a=sctp-port:%u\r\n", m->sctp_port);
  }
  if (m->max_message_size)
    g_string_append_printf(o, "a=max-message-size:%u\r\n", m->max_message_size);
  for (guint i = 0; m->candidates && i < m->candidates->len; i++) {
    const char *c = g_ptr_array_index(m->candidates, i);
    if (c == NULL)
      continue;
    g_string_append(o, g_str_has_prefix(c, "candidate:") ? "a=" : "a=candidate:");
    put(o, c);
    eol(o);
  }
  if (m->end_of_candidates)
    attr(o, "end-of-candidates", NULL);
}

char *sb_sdp_write(const sb_sdp *sdp) {
  g_return_val_if_fail(sdp != NULL, NULL);
  GString *o = g_string_sized_new(4096);
  write_session(o, sdp);
  for (guint i = 0; sdp->media && i < sdp->media->len; i++)
    write_media(o, sdp, g_ptr_array_index(sdp->media, i));
  return g_string_free(o, FALSE);
}
