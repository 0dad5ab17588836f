/* libFuzzer target for media/dcep: the input is a DCEP message (parsed, and an
 * OPEN written back must equal it) and an SCTP packet for the structural check
 * (a packet it accepts must have chunks that tile it). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/dcep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond) {
  if (!cond)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sb_dcep_open o;
  if (sb_dcep_parse_open(data, size, &o) == SB_DCEP_OK) {
    check(sb_dcep_channel_type_valid(o.channel_type));
    check((size_t)12 + o.label_len + o.protocol_len == size);
    uint8_t *out = malloc(size);
    check(sb_dcep_write_open(out, size, &o) == (int)size);
    check(memcmp(out, data, size) == 0);
    free(out);
  }
  (void)sb_dcep_type(data, size);
  if (sb_sctp_packet_valid(data, size)) {
    size_t pos = 12;
    while (pos < size) {
      size_t clen = (size_t)data[pos + 2] << 8 | data[pos + 3];
      check(clen >= 4 && clen <= size - pos);
      pos += (clen + 3) & ~(size_t)3;
    }
  }
  return 0;
}
