/* Switchboard — SRTP/SRTCP contexts (libsrtp 2) keyed from DTLS-SRTP (RFC 5764).
 *
 * One sb_srtp per peer: an inbound session (ssrc_any_inbound, the remote's keys)
 * and an outbound one (ssrc_any_outbound, ours, allow_repeat_tx so a NACKed
 * packet can be sent again with its sequence number). */
#ifndef SB_MEDIA_SRTP_H
#define SB_MEDIA_SRTP_H

#include <srtp2/srtp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
  SB_SRTP_NONE = 0,
  SB_SRTP_AES128_CM_SHA1_80,   /* RFC 5764 §4.1.2 SRTP_AES128_CM_HMAC_SHA1_80 */
  SB_SRTP_AEAD_AES_128_GCM,    /* RFC 7714 §14.2 */
} sb_srtp_profile;

/* Key and salt lengths of a profile (bytes). */
size_t sb_srtp_key_len(sb_srtp_profile p);
size_t sb_srtp_salt_len(sb_srtp_profile p);
const char *sb_srtp_profile_name(sb_srtp_profile p);
/* OpenSSL's SRTP_PROTECTION_PROFILE id to ours (NONE when unsupported). */
sb_srtp_profile sb_srtp_profile_from_openssl(unsigned long id);

/* Bytes srtp_protect may add to a packet: every send buffer keeps this headroom. */
#define SB_SRTP_TRAILER SRTP_MAX_TRAILER_LEN

typedef struct sb_srtp {
  srtp_t in;
  srtp_t out;
  sb_srtp_profile profile;
} sb_srtp;

/* Once per process. */
int sb_srtp_global_init(void);
void sb_srtp_global_cleanup(void);

/* local/remote are key || salt as laid out for the profile. Returns 0 or -1. */
int sb_srtp_init(sb_srtp *s, sb_srtp_profile profile, const uint8_t *local_key_salt,
                 const uint8_t *remote_key_salt, unsigned replay_window);
void sb_srtp_free(sb_srtp *s);
static inline bool sb_srtp_ready(const sb_srtp *s) { return s->in != NULL; }

/* In place. *len is updated. protect needs SB_SRTP_TRAILER bytes of room after
 * *len. Each returns 0 or a libsrtp error status (> 0). */
int sb_srtp_protect_rtp(sb_srtp *s, uint8_t *buf, int *len);
int sb_srtp_unprotect_rtp(sb_srtp *s, uint8_t *buf, int *len);
int sb_srtp_protect_rtcp(sb_srtp *s, uint8_t *buf, int *len);
int sb_srtp_unprotect_rtcp(sb_srtp *s, uint8_t *buf, int *len);

#endif
