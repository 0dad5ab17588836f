/* Switchboard — a peer's offer/answer: answering a remote offer (echo, publishers,
 * WHIP/WHEP), or making offers and applying the remote's answers (subscriber
 * PeerConnections, renegotiated as tracks come and go). */
#include <string.h>

#include "core/log.h"
#include "core/session.h"
#include "core/util.h"
#include "media/peer_internal.h"
#include "media/sdp.h"

static sb_sdp *parse_sdp(const char *text, size_t len, const char *what, int *rc, char **msg) {
  sb_sdp *sdp = NULL;
  char *perr = NULL;
  if (sb_sdp_parse(text, len, &sdp, &perr) != 0) {
    *msg = g_strdup_printf("the SDP %s does not parse: %s", what, perr ? perr : "?");
    g_free(perr);
    *rc = SB_ERR_SDP_INVALID;
    return NULL;
  }
  return sdp;
}

/* A remote offer, parsed and its transport checked; NULL with *rc and *msg set. */
static sb_sdp *parse_offer(const char *text, size_t len, sb_remote_transport *rt, int *rc,
                           char **msg) {
  sb_sdp *offer = parse_sdp(text, len, "offer", rc, msg);
  if (offer && (*rc = sb_negotiate_check_offer(offer, rt, msg)) != 0) {
    sb_sdp_free(offer);
    return NULL;
  }
  return offer;
}

/* Our local candidates so far, remembered so that they are not trickled again. */
static char **local_candidates(sb_peer *p) {
  char **cands = sb_ice_local_candidates(p->ice);
  for (char **c = cands; *c; c++)
    g_hash_table_add(p->described_cands, g_strdup(*c));
  return cands;
}

static int add_remote_candidates(sb_peer *p, const sb_remote_transport *rt) {
  int added = 0;
  for (guint i = 0; rt->candidates && i < rt->candidates->len; i++)
    if (sb_ice_add_remote_candidate(p->ice, g_ptr_array_index(rt->candidates, i)) == 0)
      added++;
  if (rt->end_of_candidates)
    sb_ice_remote_gathering_done(p->ice);
  return added;
}

int sb_peer_accept_offer(sb_peer *p, const char *offer_text, size_t len, const sb_caps *caps,
                         char **answer, char **msg) {
  g_return_val_if_fail(sb_worker_is_current(p->worker), SB_ERR_INTERNAL);
  if (p->descs != NULL || p->offerer) {
    *msg = g_strdup("this PeerConnection already has a remote description");
    return SB_ERR_BUSY;
  }
  int rc = 0;
  sb_remote_transport rt;
  sb_sdp *offer = parse_offer(offer_text, len, &rt, &rc, msg);
  if (offer == NULL)
    return rc;
  if (sb_peer_ice_start(p, false) != 0) {
    *msg = g_strdup("the server has no usable network address for ICE");
    sb_sdp_free(offer);
    return SB_ERR_MEDIA;
  }
  char **cands = local_candidates(p);
  sb_setup our_setup = sb_negotiate_answer_setup(rt.setup);
  char msid[24];
  g_snprintf(msid, sizeof msid, "sb-%.12s", p->cname);
  sb_local_transport lt = {
    .ufrag = sb_ice_local_ufrag(p->ice),
    .pwd = sb_ice_local_pwd(p->ice),
    .fingerprint = sb_dtls_local_fingerprint(),
    .setup = our_setup,
    .candidates = cands,
    /* With host candidates only, gathering is already over: say so in the answer
     * (otherwise the end comes later as a trickle notification). */
    .end_of_candidates = sb_ice_is_gathered(p->ice),
    .cname = p->cname,
    .msid_stream = msid,
  };
  sb_sdp *ans = NULL;
  rc = sb_negotiate_answer(offer, caps, &lt, &ans, &p->descs, msg);
  g_strfreev(cands);
  if (rc != 0) {
    sb_sdp_free(offer);
    return rc;
  }
  /* The tagged m-section of the offer may be rejected; trickle under the first
   * accepted one, where the answer put the candidates. */
  p->tagged_index = rt.tagged_index;
  for (guint i = 0; i < p->descs->len; i++) {
    const sb_media_desc *d = g_ptr_array_index(p->descs, i);
    if (d->accepted) {
      p->tagged_index = (int)i;
      break;
    }
  }
  sb_peer_setup_streams(p);
  sb_ice_set_remote_credentials(p->ice, rt.ufrag, rt.pwd);
  p->remote_ufrag = g_strdup(rt.ufrag);
  int added = add_remote_candidates(p, &rt);
  sb_peer_dtls_start(p, our_setup == SB_SETUP_ACTIVE, rt.fingerprint_hash, rt.fingerprint);
  *answer = sb_sdp_write(ans);
  p->answer = g_strdup(*answer);
  sb_sdp_free(ans);
  sb_sdp_free(offer);
  p->described = true;
  sb_peer_tick_start(p);
  sb_verbose("%s: offer accepted (%u m-sections, %d remote candidates, DTLS %s)", p->name,
             p->descs->len, added, our_setup == SB_SETUP_ACTIVE ? "client" : "server");
  return 0;
}

int sb_peer_create_offer(sb_peer *p, const sb_offer_section *sections, int n, char **offer,
                         char **msg) {
  g_return_val_if_fail(sb_worker_is_current(p->worker), SB_ERR_INTERNAL);
  if (p->closed) {
    *msg = g_strdup("the PeerConnection is closed");
    return SB_ERR_NO_PEER;
  }
  if (p->descs != NULL && !p->offerer) {
    *msg = g_strdup("this PeerConnection answers the remote's offers; it cannot offer");
    return SB_ERR_BUSY;
  }
  if (p->offer != NULL) {
    *msg = g_strdup("an offer is already outstanding");
    return SB_ERR_BUSY;
  }
  if (n < sb_peer_media_count(p) || n <= 0) {
    *msg = g_strdup("an offer keeps every m-section it had (JSEP §5.2.2)");
    return SB_ERR_INTERNAL;
  }
  if (p->ice == NULL) {
    p->offerer = true;
    p->session_id = ((uint64_t)sb_random_u32() << 31) ^ sb_random_u32();
    if (sb_peer_ice_start(p, true) != 0) {
      *msg = g_strdup("the server has no usable network address for ICE");
      return SB_ERR_MEDIA;
    }
  }
  char **cands = local_candidates(p);
  sb_local_transport lt = {
    .ufrag = sb_ice_local_ufrag(p->ice),
    .pwd = sb_ice_local_pwd(p->ice),
    .fingerprint = sb_dtls_local_fingerprint(),
    /* RFC 5763 §5: the offerer says actpass, in re-offers too. */
    .setup = SB_SETUP_ACTPASS,
    .candidates = cands,
    .end_of_candidates = sb_ice_is_gathered(p->ice),
    .cname = p->cname,
    .session_id = p->session_id,
    .session_version = ++p->session_version,
  };
  sb_sdp *sdp = sb_negotiate_offer(sections, n, &lt);
  g_strfreev(cands);
  *offer = sb_sdp_write(sdp);
  sb_sdp_free(sdp);
  p->offer = g_memdup2(sections, sizeof sections[0] * (size_t)n);
  p->offer_count = n;
  p->described = true;
  return 0;
}

int sb_peer_accept_answer(sb_peer *p, const char *answer_text, size_t len, char **msg) {
  g_return_val_if_fail(sb_worker_is_current(p->worker), SB_ERR_INTERNAL);
  if (p->offer == NULL || p->closed) {
    *msg = g_strdup("no offer is outstanding on this PeerConnection");
    return SB_ERR_NO_OFFER;
  }
  int rc = 0;
  sb_sdp *ans = parse_sdp(answer_text, len, "answer", &rc, msg);
  if (ans == NULL)
    return rc;
  sb_remote_transport rt;
  GPtrArray *descs = NULL;
  rc = sb_negotiate_apply_answer(ans, p->offer, p->offer_count, &descs, &rt, msg);
  bool restart = rc == 0 && p->remote_ufrag && strcmp(p->remote_ufrag, rt.ufrag) != 0;
  if (restart && !p->ice_restarting) {
    *msg = g_strdup("the answer changes the ICE credentials, but the offer was no ICE restart");
    rc = SB_ERR_SDP_INVALID;
  }
  if (rc != 0) {
    if (descs)
      g_ptr_array_unref(descs);
    sb_sdp_free(ans);
    return rc;
  }
  bool first = p->descs == NULL;
  if (p->descs)
    g_ptr_array_unref(p->descs);
  p->descs = descs;
  g_clear_pointer(&p->offer, g_free);
  p->offer_count = 0;
  p->tagged_index = rt.tagged_index;
  sb_peer_setup_streams(p);
  if (restart || (p->ice_restarting && !first)) {
    sb_ice_set_remote_credentials(p->ice, rt.ufrag, rt.pwd);
    g_free(p->remote_ufrag);
    p->remote_ufrag = g_strdup(rt.ufrag);
    sb_info("%s: ICE restart answered (remote ufrag %s)", p->name, rt.ufrag);
  }
  p->ice_restarting = false;
  if (first) {
    sb_ice_set_remote_credentials(p->ice, rt.ufrag, rt.pwd);
    p->remote_ufrag = g_strdup(rt.ufrag);
    /* The answerer chose: active means it is the DTLS client (RFC 5763 §5). */
    bool client = rt.setup == SB_SETUP_PASSIVE;
    sb_peer_dtls_start(p, client, rt.fingerprint_hash, rt.fingerprint);
    sb_peer_tick_start(p);
  }
  int added = add_remote_candidates(p, &rt);
  sb_verbose("%s: answer applied (%u m-sections, %d remote candidates)", p->name, p->descs->len, added);
  sb_sdp_free(ans);
  return 0;
}

bool sb_peer_offer_pending(const sb_peer *p) { return p->offer != NULL; }

int sb_peer_restart_ice(sb_peer *p, char **msg) {
  g_return_val_if_fail(sb_worker_is_current(p->worker), SB_ERR_INTERNAL);
  if (p->closed || p->ice == NULL || !p->offerer) {
    *msg = g_strdup(p->offerer || p->closed || p->ice == NULL
                        ? "the PeerConnection is not negotiated yet"
                        : "the remote offers on this PeerConnection: it restarts ICE with an offer");
    return SB_ERR_NO_PEER;
  }
  if (p->offer != NULL) {
    *msg = g_strdup("an offer is already outstanding");
    return SB_ERR_BUSY;
  }
  if (sb_ice_restart(p->ice) != 0) {
    *msg = g_strdup("ICE restart failed");
    return SB_ERR_MEDIA;
  }
  p->ice_restarting = true;
  return 0;
}

/* Our last answer (ans, parsed; freed here) again, under the new ICE credentials
 * and with today's candidates. */
static char *restarted_answer(sb_peer *p, sb_sdp *ans) {
  char **cands = local_candidates(p);
  bool first = true;
  ans->session_version++;
  g_free(ans->ice_ufrag);
  ans->ice_ufrag = NULL;
  g_free(ans->ice_pwd);
  ans->ice_pwd = NULL;
  for (guint i = 0; i < ans->media->len; i++) {
    sb_sdp_media *m = g_ptr_array_index(ans->media, i);
    if (m->port == 0)
      continue;
    g_free(m->ice_ufrag);
    g_free(m->ice_pwd);
    m->ice_ufrag = g_strdup(sb_ice_local_ufrag(p->ice));
    m->ice_pwd = g_strdup(sb_ice_local_pwd(p->ice));
    g_ptr_array_set_size(m->candidates, 0);
    m->end_of_candidates = false;
    if (first) {
      for (char **c = cands; *c; c++)
        g_ptr_array_add(m->candidates, g_strdup(*c));
      m->end_of_candidates = sb_ice_is_gathered(p->ice);
      first = false;
    }
  }
  g_strfreev(cands);
  char *text = sb_sdp_write(ans);
  sb_sdp_free(ans);
  return text;
}

int sb_peer_restart_ice_answer(sb_peer *p, const char *offer_text, size_t len, char **answer,
                               char **msg) {
  g_return_val_if_fail(sb_worker_is_current(p->worker), SB_ERR_INTERNAL);
  if (p->closed || p->offerer || p->answer == NULL || p->ice == NULL) {
    *msg = g_strdup("no negotiated PeerConnection answers offers here");
    return SB_ERR_NO_PEER;
  }
  int rc = 0;
  sb_remote_transport rt;
  sb_sdp *offer = parse_offer(offer_text, len, &rt, &rc, msg);
  if (offer == NULL)
    return rc;
  if ((int)offer->media->len != sb_peer_media_count(p)) {
    *msg = g_strdup_printf("an ICE restart offer keeps the %d m-sections; this one has %u",
                           sb_peer_media_count(p), offer->media->len);
    rc = SB_ERR_SDP_UNSUPPORTED;
  }
  if (rc == 0 && g_strcmp0(rt.ufrag, p->remote_ufrag) == 0) {
    *msg = g_strdup("the offer keeps the ICE credentials: it is no ICE restart (other "
                    "renegotiations are not supported on this PeerConnection)");
    rc = SB_ERR_SDP_UNSUPPORTED;
  }
  /* Our previous answer, checked before anything changes. */
  sb_sdp *previous = NULL;
  char *perr = NULL;
  if (rc == 0 && sb_sdp_parse(p->answer, strlen(p->answer), &previous, &perr) != 0) {
    *msg = g_strdup_printf("our previous answer does not parse: %s", perr ? perr : "?");
    rc = SB_ERR_INTERNAL;
  }
  g_free(perr);
  if (rc == 0 && sb_ice_restart(p->ice) != 0) {
    *msg = g_strdup("ICE restart failed");
    rc = SB_ERR_MEDIA;
  }
  char *text = rc == 0 ? restarted_answer(p, previous) : NULL;
  if (rc != 0) {
    sb_sdp_free(previous);
    sb_sdp_free(offer);
    return rc;
  }
  sb_ice_set_remote_credentials(p->ice, rt.ufrag, rt.pwd);
  g_free(p->remote_ufrag);
  p->remote_ufrag = g_strdup(rt.ufrag);
  int added = add_remote_candidates(p, &rt);
  sb_sdp_free(offer);
  g_free(p->answer);
  p->answer = g_strdup(text);
  *answer = text;
  sb_info("%s: ICE restart (remote ufrag %s, %d remote candidates)", p->name, rt.ufrag, added);
  return 0;
}

int sb_peer_add_remote_candidate(sb_peer *p, const char *candidate, char **msg) {
  if (p->ice == NULL || p->closed) {
    *msg = g_strdup("the PeerConnection has no remote description yet");
    return SB_ERR_NO_PEER;
  }
  if (candidate == NULL || *candidate == '\0') {
    sb_ice_remote_gathering_done(p->ice);
    return 0;
  }
  int rc = sb_ice_add_remote_candidate(p->ice, candidate);
  if (rc < 0) {
    *msg = g_strdup_printf("the candidate does not parse: %.120s", candidate);
    return SB_ERR_CANDIDATE;
  }
  if (rc > 0)
    sb_debug("%s: skipped remote candidate %s", p->name, candidate);
  return 0;
}
