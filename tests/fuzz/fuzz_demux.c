/* libFuzzer target for media/demux: classification never reads past len and
 * agrees with RFC 7983's first-byte ranges and the documented minimum lengths. */
#include <stdint.h>
#include <stdlib.h>

#include "media/demux.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond) {
  if (!cond)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sb_pkt_class c = sb_demux_classify(data, size);
  check(sb_pkt_class_name(c) != NULL);
  if (size == 0) {
    check(c == SB_PKT_UNKNOWN);
    return 0;
  }
  uint8_t b = data[0];
  switch (c) {
  case SB_PKT_STUN:
    check(b <= 3 && size >= 20);
    break;
  case SB_PKT_ZRTP:
    check(b >= 16 && b <= 19 && size >= 12);
    break;
  case SB_PKT_DTLS:
    check(b >= 20 && b <= 63 && size >= 13);
    break;
  case SB_PKT_TURN_CHANNEL:
    check(b >= 64 && b <= 79 && size >= 4);
    break;
  case SB_PKT_RTP:
    check(b >= 128 && b <= 191 && size >= 12 && (data[1] < 192 || data[1] > 223));
    break;
  case SB_PKT_RTCP:
    check(b >= 128 && b <= 191 && size >= 8 && data[1] >= 192 && data[1] <= 223);
    break;
  case SB_PKT_UNKNOWN:
    break;
  }
  return 0;
}
