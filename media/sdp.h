/* Switchboard — SDP (RFC 8866) parse and write, with the WebRTC attributes of
 * JSEP (RFC 9429): unified plan, BUNDLE (RFC 9143), rtcp-mux, mid, rtpmap/fmtp/
 * rtcp-fb, extmap (RFC 8285), ssrc/ssrc-group/msid, rid/simulcast, setup and
 * fingerprint (RFC 8122), ICE (RFC 8839) credentials and candidates, and the data
 * channel m-line in both its current (sctp-port) and old (sctpmap) forms.
 *
 * The parser builds an owned tree (sb_sdp) from untrusted text; every field is
 * bounds-checked and malformed input yields an error message, never a crash.
 * The writer turns the same tree back into text (CRLF line endings). Plugins and
 * negotiation code edit the tree; nobody concatenates SDP strings by hand.
 *
 * Ownership: a tree owns everything in it. Strings are g_malloc'd; every list is
 * a GPtrArray (or GArray) created with a free function, so elements added by hand
 * must be g_new0'd structs holding g_strdup'd strings (or made with the _new
 * constructors below). */
#ifndef SB_MEDIA_SDP_H
#define SB_MEDIA_SDP_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Upper bounds that keep a hostile SDP from costing unbounded memory. */
#define SB_SDP_MAX_LEN        (256 * 1024) /* whole text */
#define SB_SDP_MAX_LINE       4096         /* one line */
#define SB_SDP_MAX_MEDIA      64           /* m-sections */
#define SB_SDP_MAX_ITEMS      256          /* codecs, candidates, ssrcs... per list */

typedef enum {
  SB_DIR_SENDRECV = 0,
  SB_DIR_SENDONLY,
  SB_DIR_RECVONLY,
  SB_DIR_INACTIVE,
} sb_direction;

typedef enum {
  SB_SETUP_NONE = 0, /* attribute absent */
  SB_SETUP_ACTPASS,
  SB_SETUP_ACTIVE,
  SB_SETUP_PASSIVE,
  SB_SETUP_HOLDCONN,
} sb_setup;

/* One payload type of an m-line: a=rtpmap + a=fmtp + a=rtcp-fb joined. */
typedef struct sb_sdp_codec {
  int pt;               /* 0..127 */
  char *encoding;       /* "opus", "VP8", "rtx"; NULL for a static pt without rtpmap */
  unsigned clock_rate;  /* 0 when unknown */
  unsigned channels;    /* 0 when absent (means 1) */
  char *fmtp;           /* parameters after "a=fmtp:PT ", or NULL */
  GPtrArray *rtcp_fb;   /* of char*: "nack", "nack pli", "ccm fir", "goog-remb", "transport-cc" */
} sb_sdp_codec;

/* a=extmap:ID[/DIR] URI [ATTRS] */
typedef struct sb_sdp_extmap {
  int id;               /* 1..255 */
  sb_direction dir;     /* SENDRECV when no direction was given */
  char *uri;
  char *attrs;          /* extension attributes after the URI (RFC 8285 §8), or NULL */
} sb_sdp_extmap;

/* a=ssrc:SSRC ATTR[:VALUE] */
typedef struct sb_sdp_ssrc {
  uint32_t ssrc;
  char *attr;           /* "cname", "msid", ... */
  char *value;          /* may be NULL */
} sb_sdp_ssrc;

/* a=ssrc-group:SEMANTICS SSRC... */
typedef struct sb_sdp_ssrc_group {
  char *semantics;      /* "FID", "SIM", "FEC-FR" */
  GArray *ssrcs;        /* of uint32_t */
} sb_sdp_ssrc_group;

/* a=rid:ID send|recv [params] (RFC 8851) */
typedef struct sb_sdp_rid {
  char *id;
  bool send;            /* true for "send", false for "recv" */
  char *params;         /* may be NULL */
} sb_sdp_rid;

/* a=group:SEMANTICS MID... */
typedef struct sb_sdp_group {
  char *semantics;      /* "BUNDLE", "LS" */
  GPtrArray *mids;      /* of char* */
} sb_sdp_group;

typedef struct sb_sdp_media {
  char *type;           /* "audio", "video", "application", or other token */
  unsigned port;        /* 0 means rejected/disabled */
  char *proto;          /* "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP", "DTLS/SCTP" */
  GPtrArray *fmts;      /* of char*: the m-line's format tokens, in order. The writer
                         * takes an RTP m-line's formats from codecs when there are
                         * any, so editing codecs is enough. */
  char *conn_addr;      /* c= address, or NULL */

  char *mid;            /* a=mid, or NULL */
  sb_direction direction; /* SENDRECV when absent; a session-level direction
                           * attribute is applied to m-sections without their own */
  bool rtcp_mux;
  bool rtcp_rsize;
  bool bundle_only;
  bool end_of_candidates; /* also set by a session-level a=end-of-candidates */
  bool extmap_allow_mixed; /* media-level a=extmap-allow-mixed (RFC 8285 §6), as
                            * Firefox sends it; see sb_sdp_media_extmap_allow_mixed */

  char *ice_ufrag;      /* media-level, or NULL (see sb_sdp_media_ice_ufrag) */
  char *ice_pwd;
  char *fingerprint_hash; /* "sha-256", lower case; the first a=fingerprint wins */
  char *fingerprint;      /* "AB:CD:..." upper case hex */
  sb_setup setup;

  GPtrArray *codecs;    /* of sb_sdp_codec*, in m-line format order (RTP m-lines) */
  GPtrArray *extmaps;   /* of sb_sdp_extmap*; session-level a=extmap lines are copied
                         * into every RTP m-section that does not map the same id */
  GPtrArray *ssrcs;     /* of sb_sdp_ssrc* */
  GPtrArray *ssrc_groups; /* of sb_sdp_ssrc_group* */
  char *msid;           /* first a=msid value ("stream track"), or NULL */
  GPtrArray *rids;      /* of sb_sdp_rid* */
  char *simulcast;      /* a=simulcast value, or NULL */
  GPtrArray *candidates;/* of char*: "candidate:..." (without "a=") */

  unsigned sctp_port;   /* a=sctp-port, or the sctpmap port; 0 when absent */
  bool sctpmap;         /* true when the old a=sctpmap form was used */
  unsigned max_message_size; /* a=max-message-size, 0 when absent (so a peer's
                              * explicit 0, "no limit" in RFC 8841 §6, reads as
                              * absent: the 64 KiB default) */
} sb_sdp_media;

typedef struct sb_sdp {
  char *origin_user;    /* o= username */
  uint64_t session_id;
  uint64_t session_version;
  char *origin_addr;    /* o= unicast address */
  char *session_name;   /* s= */
  char *conn_addr;      /* session-level c= address, or NULL */

  GPtrArray *groups;    /* of sb_sdp_group* */
  char *msid_semantic;  /* a=msid-semantic value, or NULL */
  bool extmap_allow_mixed;

  char *ice_ufrag;      /* session-level, or NULL */
  char *ice_pwd;
  bool ice_lite;
  bool ice_trickle;     /* an a=ice-options at session or any media level contains
                         * "trickle"; written once, at session level */
  char *fingerprint_hash;
  char *fingerprint;
  sb_setup setup;

  GPtrArray *media;     /* of sb_sdp_media* */
} sb_sdp;

/* Parses SDP text (CRLF or LF line endings; text need not be NUL-terminated). On
 * success returns 0 and stores a new tree in *out. On failure returns -1 and, if
 * error is not NULL, stores a newly allocated message naming the line ("line 7:
 * bad m= line"). Input beyond one of the SB_SDP_MAX_* limits is refused. Unknown
 * attributes, and those an SFU has no use for (a=rtcp, a=rtcp-xr, b=, i=...), are
 * ignored and not written back. */
int sb_sdp_parse(const char *text, size_t len, sb_sdp **out, char **error);

/* Writes the tree as SDP text with CRLF endings. Returns a g_malloc'd string.
 * Absent fields get JSEP (RFC 9429 §5.2.1) defaults: "o=- ... IN IP4 0.0.0.0",
 * "s=-", "c=IN IP4 0.0.0.0" when neither session nor m-section has a c= address.
 * Control characters in string fields are dropped, so no field can start a line of
 * its own. */
char *sb_sdp_write(const sb_sdp *sdp);

/* Empty trees for building an SDP by hand; free with sb_sdp_free. sb_sdp_new picks
 * a random 63-bit session id (RFC 9429 §5.2.1) and version 0; sb_sdp_media_new
 * sets port 9 and proto "UDP/DTLS/SCTP" for "application", "UDP/TLS/RTP/SAVPF"
 * otherwise, and creates every list empty. */
sb_sdp *sb_sdp_new(void);
sb_sdp_media *sb_sdp_media_new(const char *type);
sb_sdp_codec *sb_sdp_codec_new(int pt, const char *encoding, unsigned clock_rate, unsigned channels);
void sb_sdp_free(sb_sdp *sdp);
void sb_sdp_media_free(sb_sdp_media *m);
void sb_sdp_codec_free(sb_sdp_codec *c);

/* Lookups. */
bool sb_sdp_media_is_rtp(const sb_sdp_media *m); /* proto carries RTP ("RTP/" in it) */
sb_sdp_codec *sb_sdp_media_codec(const sb_sdp_media *m, int pt);
const sb_sdp_extmap *sb_sdp_media_extmap_by_uri(const sb_sdp_media *m, const char *uri);
const char *sb_sdp_media_ssrc_attr(const sb_sdp_media *m, uint32_t ssrc, const char *attr);
const sb_sdp_group *sb_sdp_bundle_group(const sb_sdp *sdp); /* first BUNDLE group, or NULL */

/* Effective transport attributes: the media-level value, else the session-level one. */
const char *sb_sdp_media_ice_ufrag(const sb_sdp *sdp, const sb_sdp_media *m);
const char *sb_sdp_media_ice_pwd(const sb_sdp *sdp, const sb_sdp_media *m);
const char *sb_sdp_media_fingerprint(const sb_sdp *sdp, const sb_sdp_media *m, const char **hash);
sb_setup sb_sdp_media_setup(const sb_sdp *sdp, const sb_sdp_media *m);
bool sb_sdp_media_extmap_allow_mixed(const sb_sdp *sdp, const sb_sdp_media *m);

/* Tokens as they appear in SDP ("sendrecv", "actpass"); NULL for SB_SETUP_NONE. */
const char *sb_direction_str(sb_direction d);
const char *sb_setup_str(sb_setup s);
/* The direction seen from the other side: sendonly <-> recvonly. */
sb_direction sb_direction_reverse(sb_direction d);

#endif
