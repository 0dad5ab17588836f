/* Switchboard — SRTP contexts. */
#include "media/srtp.h"

#include <openssl/srtp.h>
#include <string.h>

size_t sb_srtp_key_len(sb_srtp_profile p) {
  return p == SB_SRTP_NONE ? 0 : 16;
}

size_t sb_srtp_salt_len(sb_srtp_profile p) {
  switch (p) {
  case SB_SRTP_AES128_CM_SHA1_80: return 14; /* RFC 3711 §8.2: 112-bit salt */
  case SB_SRTP_AEAD_AES_128_GCM: return 12;  /* RFC 7714 §12: 96-bit salt */
  default: return 0;
  }
}

const char *sb_srtp_profile_name(sb_srtp_profile p) {
  switch (p) {
  case SB_SRTP_AES128_CM_SHA1_80: return "SRTP_AES128_CM_SHA1_80";
  case SB_SRTP_AEAD_AES_128_GCM: return "SRTP_AEAD_AES_128_GCM";
  default: return "none";
  }
}

sb_srtp_profile sb_srtp_profile_from_openssl(unsigned long id) {
  switch (id) {
  case SRTP_AES128_CM_SHA1_80: return SB_SRTP_AES128_CM_SHA1_80;
  case SRTP_AEAD_AES_128_GCM: return SB_SRTP_AEAD_AES_128_GCM;
  default: return SB_SRTP_NONE;
  }
}

int sb_srtp_global_init(void) { return srtp_init() == srtp_err_status_ok ? 0 : -1; }
void sb_srtp_global_cleanup(void) { srtp_shutdown(); }

static void policy_for(srtp_policy_t *pol, sb_srtp_profile profile, const uint8_t *key_salt,
                       bool inbound, unsigned replay_window) {
  memset(pol, 0, sizeof *pol);
  if (profile == SB_SRTP_AEAD_AES_128_GCM) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol->rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol->rtcp);
  } else {
    srtp_crypto_policy_set_rtp_default(&pol->rtp);   /* AES-CM-128 + HMAC-SHA1-80 */
    srtp_crypto_policy_set_rtcp_default(&pol->rtcp);
  }
  pol->ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
  pol->key = (unsigned char *)key_salt;
  pol->window_size = replay_window;
  /* A NACK is answered by sending the same sequence number again. */
  pol->allow_repeat_tx = inbound ? 0 : 1;
  pol->next = NULL;
}

int sb_srtp_init(sb_srtp *s, sb_srtp_profile profile, const uint8_t *local_key_salt,
                 const uint8_t *remote_key_salt, unsigned replay_window) {
  memset(s, 0, sizeof *s);
  if (profile == SB_SRTP_NONE)
    return -1;
  if (replay_window < 64)
    replay_window = 64;
  srtp_policy_t pol;
  policy_for(&pol, profile, remote_key_salt, true, replay_window);
  if (srtp_create(&s->in, &pol) != srtp_err_status_ok) {
    s->in = NULL;
    return -1;
  }
  policy_for(&pol, profile, local_key_salt, false, replay_window);
  if (srtp_create(&s->out, &pol) != srtp_err_status_ok) {
    srtp_dealloc(s->in);
    s->in = s->out = NULL;
    return -1;
  }
  s->profile = profile;
  return 0;
}

void sb_srtp_free(sb_srtp *s) {
  if (s->in)
    srtp_dealloc(s->in);
  if (s->out)
    srtp_dealloc(s->out);
  memset(s, 0, sizeof *s);
}

int sb_srtp_protect_rtp(sb_srtp *s, uint8_t *buf, int *len) {
  return (int)srtp_protect(s->out, buf, len);
}
int sb_srtp_unprotect_rtp(sb_srtp *s, uint8_t *buf, int *len) {
  return (int)srtp_unprotect(s->in, buf, len);
}
int sb_srtp_protect_rtcp(sb_srtp *s, uint8_t *buf, int *len) {
  return (int)srtp_protect_rtcp(s->out, buf, len);
}
int sb_srtp_unprotect_rtcp(sb_srtp *s, uint8_t *buf, int *len) {
  return (int)srtp_unprotect_rtcp(s->in, buf, len);
}
