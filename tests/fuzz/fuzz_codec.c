/* libFuzzer target for media/codec: the first byte picks a codec, the rest is an
 * RTP payload for keyframe detection; the same bytes, NUL-terminated, are an fmtp
 * string and an encoding name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond) {
  if (!cond)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  sb_codec_id id = (sb_codec_id)(data[0] % (SB_CODEC_FLEXFEC + 1));
  /* libFuzzer's buffer is exactly size bytes, so any over-read is caught. */
  bool key = sb_codec_is_keyframe(id, data + 1, size - 1);
  check(!key || sb_codec_is_video(id));
  check(!key || size > 1);

  char *s = malloc(size);
  memcpy(s, data + 1, size - 1);
  s[size - 1] = '\0';
  static const char *const keys[] = {"apt", "profile-level-id", "packetization-mode",
                                     "minptime", "a", ""};
  char out[16];
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    memset(out, 'x', sizeof out);
    if (sb_fmtp_get(s, keys[i], out, sizeof out))
      check(memchr(out, '\0', sizeof out) != NULL);
    (void)sb_fmtp_get(s, keys[i], out, 1);
    (void)sb_fmtp_get(s, keys[i], NULL, 0);
  }
  /* The input's own first token as the key takes the matching path. */
  size_t klen = strcspn(s, "=;");
  char *key_str = malloc(klen + 1);
  memcpy(key_str, s, klen);
  key_str[klen] = '\0';
  (void)sb_fmtp_get(s, key_str, out, sizeof out);
  free(key_str);

  sb_codec_id named = sb_codec_from_name(s);
  if (named != SB_CODEC_UNKNOWN)
    check(sb_codec_from_name(sb_codec_name(named)) == named);
  free(s);
  return 0;
}
