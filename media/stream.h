/* Switchboard — the RTP streams of a peer.
 *
 * An inbound stream is one SSRC the remote sends us (with its RTX SSRC): receive
 * statistics, NACK generation, keyframe-request throttling, and what its last SR
 * said (for our RR's LSR/DLSR). An outbound stream is one SSRC we send: it turns
 * source packets into its own numbering (rewriter), payload types and header
 * extension ids (maps), keeps what it sent for retransmission, and holds send
 * statistics and what the remote's RRs report about it.
 *
 * Streams belong to their peer and live on its worker. Plugins may read any
 * field and keep a pointer of their own in plugin_data. */
#ifndef SB_MEDIA_STREAM_H
#define SB_MEDIA_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "media/codec.h"
#include "media/nack.h"
#include "media/negotiate.h"
#include "media/rewrite.h"
#include "media/rtx_buffer.h"
#include "media/stats.h"

/* Minimum spacing of keyframe requests for one stream (a burst of subscribers
 * joining asks for one keyframe, not one each). */
#define SB_KEYFRAME_REQUEST_INTERVAL_US 300000

typedef struct sb_stream_in {
  int media_index;           /* m-section */
  sb_media_kind kind;
  uint32_t ssrc;
  uint32_t rtx_ssrc;         /* 0 when unknown */
  uint8_t pt;                /* payload type of the newest packet */
  sb_codec_id codec;         /* its codec */
  sb_recv_stats stats;
  sb_nack_gen nack;
  bool nack_enabled;         /* the remote accepts NACK for this stream's codec */
  bool pli_enabled;
  bool fir_enabled;
  uint8_t fir_seq;           /* RFC 5104 §4.3.1.1 command sequence number */
  int64_t last_keyframe_request_us;
  bool keyframe_pending;     /* a request held back by the throttle, sent by the tick */
  uint32_t last_sr_ntp_mid;  /* middle 32 bits of the last SR's NTP time, 0 before any */
  int64_t last_sr_recv_us;   /* monotonic arrival time of that SR */
  void *plugin_data;
} sb_stream_in;

typedef struct sb_stream_out {
  int media_index;
  sb_media_kind kind;
  uint32_t ssrc;
  uint32_t rtx_ssrc;         /* 0 when RTX is not negotiated */
  uint16_t rtx_seq;          /* the RTX stream's own sequence numbers */
  uint8_t pt_map[128];       /* source payload type -> ours; 0xFF = not sendable */
  uint8_t rtx_pt[128];       /* our payload type -> its RTX payload type, 0 = none */
  uint8_t ext_map[256];      /* source extension id -> ours; 0 = strip */
  bool ext_identity;         /* ext_map is the identity on every id: skip the rewrite */
  bool nack_enabled;         /* we answer NACKs for this stream */
  sb_codec_id codec;         /* codec of the newest packet sent */
  uint8_t last_pt;           /* its payload type (0xFF before any) */
  sb_rewriter rewriter;
  sb_rtx_buffer rtx;
  sb_send_stats stats;
  uint64_t payload_bytes;    /* for the SR octet count (RFC 3550 §6.4.1) */
  void *plugin_data;
} sb_stream_out;

/* Set-up from a negotiated m-section (used by the peer). */
void sb_stream_in_init(sb_stream_in *in, const sb_media_desc *d, uint32_t ssrc, uint32_t rtx_ssrc);
void sb_stream_in_set_codec(sb_stream_in *in, const sb_media_desc *d, uint8_t pt);
void sb_stream_out_init(sb_stream_out *out, const sb_media_desc *d, uint16_t rtx_buffer_packets);
void sb_stream_out_clear(sb_stream_out *out);
/* After a renegotiation of its m-section: RTX payload types and NACK support as
 * d now says; SSRCs, numbering and maps stay. */
void sb_stream_out_update(sb_stream_out *out, const sb_media_desc *d, uint16_t rtx_buffer_packets);

/* Payload type mapping for an outbound stream: packets of src_pt go out as dst_pt. */
void sb_stream_out_map_pt(sb_stream_out *out, uint8_t src_pt, uint8_t dst_pt);
/* Header extension mapping: source id -> our id (0 strips it). */
void sb_stream_out_map_ext(sb_stream_out *out, uint8_t src_id, uint8_t dst_id);
/* Identity payload type and extension maps for what d negotiated (echo). */
void sb_stream_out_map_identity(sb_stream_out *out, const sb_media_desc *d);

#endif
