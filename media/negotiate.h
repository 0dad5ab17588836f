/* Switchboard — offer/answer (RFC 3264, JSEP RFC 9429) for a server endpoint.
 *
 * sb_negotiate_answer checks a remote offer, picks what Switchboard and the
 * plugin accept (codecs, RTX, feedback, header extensions, directions), and
 * produces both the SDP answer and a description of every m-section that the
 * peer uses to set up its streams. Nothing here touches the network: the local
 * ICE and DTLS parameters come in as arguments. */
#ifndef SB_MEDIA_NEGOTIATE_H
#define SB_MEDIA_NEGOTIATE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "media/codec.h"
#include "media/sdp.h"

#define SB_MAX_CODECS 16          /* payload types kept per m-section */
#define SB_MAX_REMOTE_SSRCS 8     /* sending SSRCs of the remote per m-section */
#define SB_MAX_MESSAGE_SIZE 262144 /* a=max-message-size we announce (data channels) */

typedef enum {
  SB_MEDIA_AUDIO = 0,
  SB_MEDIA_VIDEO,
  SB_MEDIA_APPLICATION,
  SB_MEDIA_OTHER,
} sb_media_kind;

const char *sb_media_kind_name(sb_media_kind k);

/* RTP header extensions Switchboard understands (RFC 8285 URIs). */
typedef enum {
  SB_EXT_MID = 0,            /* urn:ietf:params:rtp-hdrext:sdes:mid (RFC 8843 §15.2) */
  SB_EXT_ABS_SEND_TIME,      /* http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time */
  SB_EXT_TWCC,               /* transport-wide-cc-extensions-01 */
  SB_EXT_AUDIO_LEVEL,        /* urn:ietf:params:rtp-hdrext:ssrc-audio-level (RFC 6464) */
  SB_EXT_VIDEO_ORIENTATION,  /* urn:3gpp:video-orientation */
  SB_EXT_RID,                /* urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id (RFC 8852) */
  SB_EXT_RRID,               /* urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id */
  SB_EXT_COUNT,
} sb_ext_kind;

const char *sb_ext_uri(sb_ext_kind k);
/* SB_EXT_COUNT when the URI is not one of ours. */
sb_ext_kind sb_ext_from_uri(const char *uri);

/* One negotiated payload type. */
typedef struct sb_codec_desc {
  uint8_t pt;
  sb_codec_id codec;
  uint32_t clock_rate;
  uint8_t channels;
  char fmtp[256];            /* as answered, "" when none */
  uint8_t rtx_pt;            /* its RTX payload type (RFC 4588), 0 when none */
  bool fb_nack;              /* a=rtcp-fb: nack */
  bool fb_pli;               /* nack pli */
  bool fb_fir;               /* ccm fir */
  bool fb_remb;              /* goog-remb */
  bool fb_twcc;              /* transport-cc */
} sb_codec_desc;

/* A sending source of the remote, from a=ssrc and a=ssrc-group:FID. */
typedef struct sb_remote_ssrc {
  uint32_t ssrc;
  uint32_t rtx_ssrc;         /* 0 when none */
} sb_remote_ssrc;

/* The outcome of negotiation for one m-section. */
typedef struct sb_media_desc {
  int index;                 /* position in the SDP */
  char mid[32];
  sb_media_kind kind;
  bool accepted;             /* false: rejected (port 0) */
  sb_direction dir;          /* our direction, as written in the answer */
  bool rtcp_rsize;
  int codec_count;
  sb_codec_desc codecs[SB_MAX_CODECS];
  uint8_t ext_ids[SB_EXT_COUNT];  /* negotiated id, 0 when not negotiated */
  int remote_ssrc_count;
  sb_remote_ssrc remote_ssrcs[SB_MAX_REMOTE_SSRCS];
  uint32_t local_ssrc;       /* our media SSRC when we send, else 0 */
  uint32_t local_rtx_ssrc;   /* our RTX SSRC when we send and RTX is negotiated */
  unsigned sctp_port;        /* application m-section */
  unsigned max_message_size;
} sb_media_desc;

/* What the plugin accepts from the remote. */
typedef struct sb_caps {
  bool can_send;             /* we may send media to the remote */
  bool can_recv;             /* we take media from the remote */
  /* Codecs accepted per kind, most preferred first; empty = every media codec
   * Switchboard knows. */
  int audio_count;
  sb_codec_id audio[8];
  int video_count;
  sb_codec_id video[8];
  bool keep_offer_order;     /* answer in the offer's codec order (echo) */
  bool rtx;                  /* accept RTX */
  bool remb;                 /* accept goog-remb */
  bool twcc;                 /* accept transport-cc and its extension */
  bool data;                 /* accept a data channel m-section */
} sb_caps;

/* Our transport parameters for the answer. */
typedef struct sb_local_transport {
  const char *ufrag;
  const char *pwd;
  const char *fingerprint;   /* sha-256, "AB:CD:..." */
  sb_setup setup;            /* ACTIVE or PASSIVE */
  char **candidates;         /* "candidate:..." strings, may be NULL */
  bool end_of_candidates;
  const char *cname;         /* RTCP CNAME of our streams */
  const char *msid_stream;   /* a=msid stream id of our tracks (answers) */
  uint64_t session_id;       /* o= of our offers: the same id ... */
  uint64_t session_version;  /* ... and a version that grows with each (RFC 3264 §8) */
} sb_local_transport;

/* The transport of an offer: the BUNDLE-tagged m-section's ICE and DTLS values. */
typedef struct sb_remote_transport {
  int tagged_index;          /* the m-section whose transport the bundle uses */
  const char *ufrag;
  const char *pwd;
  const char *fingerprint_hash;
  const char *fingerprint;
  sb_setup setup;
  GPtrArray *candidates;     /* of char*, borrowed from the offer */
  bool end_of_candidates;
} sb_remote_transport;

/* Checks that an offer can be answered: parses nothing, only inspects. On
 * failure returns an SB_ERR_* code (core/session.h) and a message for the user. */
int sb_negotiate_check_offer(const sb_sdp *offer, sb_remote_transport *rt, char **msg);

/* Our DTLS role for an offer's a=setup (RFC 5763 §5: we answer passive unless the
 * offerer insists on being passive). */
sb_setup sb_negotiate_answer_setup(sb_setup offered);

/* Builds the answer. Returns 0, or an SB_ERR_* code with *msg set. On success
 * *answer is a new tree and *descs a new array of sb_media_desc* (free with
 * g_ptr_array_unref), one per offered m-section. */
int sb_negotiate_answer(const sb_sdp *offer, const sb_caps *caps, const sb_local_transport *lt,
                        sb_sdp **answer, GPtrArray **descs, char **msg);

/* One m-section of an offer the server makes (a subscriber PeerConnection). The
 * caller keeps the list across renegotiations: existing sections keep their index,
 * mid and SSRCs, new ones are appended (JSEP RFC 9429 §5.2.2). */
typedef struct sb_offer_section {
  sb_media_kind kind;
  char mid[32];
  sb_direction dir;          /* SENDONLY, or INACTIVE for a section without a track */
  int codec_count;
  sb_codec_desc codecs[SB_MAX_CODECS]; /* what we offer: pt, codec, fmtp, rtx_pt, feedback */
  uint8_t ext_ids[SB_EXT_COUNT];       /* extension ids to offer, 0 = not offered */
  uint32_t ssrc;
  uint32_t rtx_ssrc;         /* 0 when no codec has RTX */
  char msid[128];            /* "stream-id track-id" (RFC 8830); "" = no source lines */
} sb_offer_section;

/* Builds an offer for the sections (lt->setup should be ACTPASS). */
sb_sdp *sb_negotiate_offer(const sb_offer_section *sections, int n, const sb_local_transport *lt);

/* Checks the remote answer to such an offer and describes what it accepted: one
 * sb_media_desc per section in *descs (free with g_ptr_array_unref) and the
 * answer's transport in *rt (strings borrowed from answer). Returns 0 or an
 * SB_ERR_* code with *msg set. */
int sb_negotiate_apply_answer(const sb_sdp *answer, const sb_offer_section *sections, int n,
                              GPtrArray **descs, sb_remote_transport *rt, char **msg);

/* The codec of payload type pt in a description, or NULL. */
const sb_codec_desc *sb_media_desc_codec(const sb_media_desc *d, uint8_t pt);
/* The codec whose RTX payload type is rtx_pt, or NULL. */
const sb_codec_desc *sb_media_desc_codec_for_rtx(const sb_media_desc *d, uint8_t rtx_pt);

#endif
