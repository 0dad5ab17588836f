/* Switchboard — the media module: process-wide set-up of the WebRTC stack
 * (libsrtp, the DTLS certificate, ICE settings from [media]) and the
 * per-worker packet pools. */
#ifndef SB_MEDIA_MEDIA_H
#define SB_MEDIA_MEDIA_H

#include <stdint.h>

#include "media/ice.h"
#include "media/pktbuf.h"

typedef struct sb_media_settings {
  sb_ice_config ice;
  int64_t connect_timeout_us;     /* a peer not connected by then fails */
  int64_t consent_timeout_us;     /* a connected peer silent this long fails (RFC 7675) */
  uint16_t rtx_buffer_video;      /* packets kept for NACKs per outbound video stream */
  uint16_t rtx_buffer_audio;
  unsigned replay_window;         /* SRTP replay window (packets) */
} sb_media_settings;

/* Valid once the module started. */
const sb_media_settings *sb_media_get_settings(void);
/* The packet pool of the calling worker thread (created on first use). */
sb_pktpool *sb_media_pool(void);

/* Live peers, for status (any thread). */
int sb_media_peer_count(void);
void sb_media_peer_count_add(int delta);

#endif
