/* libFuzzer target for media/sdp: parse untrusted bytes; whatever parses must
 * write back to text that parses again and writes to the same text, so the writer
 * can never emit an SDP our own parser (or a peer) would refuse.
 * Seeds: tests/fuzz/corpus/sdp (the real offers of tests/fixtures/sdp). */
#include "media/sdp.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sb_sdp *sdp = NULL, *again = NULL;
  char *err = NULL;
  if (sb_sdp_parse((const char *)data, size, &sdp, &err) != 0) {
    if (err == NULL || sdp != NULL)
      abort();
    g_free(err);
    return 0;
  }
  char *text = sb_sdp_write(sdp);
  size_t len = strlen(text);
  /* Defaults the writer adds (a c= and a direction per m-section) can push an
   * input just under SB_SDP_MAX_LEN over it; only then may the re-parse fail. */
  if (sb_sdp_parse(text, len, &again, &err) != 0) {
    if (len <= SB_SDP_MAX_LEN)
      abort();
    g_free(err);
  } else {
    char *text2 = sb_sdp_write(again);
    if (strcmp(text, text2) != 0)
      abort();
    g_free(text2);
  }
  g_free(text);
  sb_sdp_free(again);
  sb_sdp_free(sdp);
  return 0;
}
