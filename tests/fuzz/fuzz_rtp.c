/* libFuzzer target for media/rtp: parse, iterate extensions, remap ids, and RTX
 * wrap/unwrap, checking that every result describes bytes inside the input and
 * that wrapping then unwrapping gives back the packet. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond) {
  if (!cond)
    abort();
}

/* Iterates every element, checks it lies in the extension block, and returns the
 * iterator's final error. */
static int walk_extensions(const uint8_t *buf, const sb_rtp_view *v, size_t *count) {
  sb_rtp_ext_iter it;
  sb_rtp_ext e;
  *count = 0;
  sb_rtp_ext_iter_init(&it, buf, v);
  while (sb_rtp_ext_next(&it, &e)) {
    check(e.offset >= v->ext_offset);
    check(e.data >= buf + e.offset && e.data + e.len <= buf + v->ext_offset + v->ext_len);
    check(e.id != 0);
    if (v->ext_profile == SB_RTP_EXT_ONE_BYTE)
      check(e.id <= 14 && e.len >= 1 && e.len <= 16);
    sb_rtp_ext found;
    check(sb_rtp_ext_find(buf, v, e.id, &found));
    check(found.id == e.id && found.offset <= e.offset);
    (*count)++;
  }
  return it.error;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sb_rtp_view v;
  if (sb_rtp_parse(data, size, &v) != SB_RTP_OK)
    return 0;
  check(v.version == 2);
  check((size_t)v.header_len + v.payload_len + v.padding_len == size);
  check((size_t)v.ext_offset + v.ext_len <= v.header_len);
  check(v.padding == (v.padding_len > 0));

  size_t n_before;
  int ext_err = walk_extensions(data, &v, &n_before);

  /* Remap on a copy with a map drawn from the input itself. */
  uint8_t *copy = malloc(size);
  memcpy(copy, data, size);
  uint8_t map[256];
  for (size_t i = 0; i < 256; i++)
    map[i] = data[i % size] ^ (uint8_t)i;
  int rc = sb_rtp_ext_remap(copy, &v, map);
  check(rc == ext_err);
  if (rc == SB_RTP_OK) {
    /* Only extension bytes change, and the result still iterates cleanly. */
    check(memcmp(copy, data, v.ext_offset) == 0);
    check(memcmp(copy + v.header_len, data + v.header_len, size - v.header_len) == 0);
    sb_rtp_view v2;
    check(sb_rtp_parse(copy, size, &v2) == SB_RTP_OK);
    size_t n_after;
    check(walk_extensions(copy, &v2, &n_after) == SB_RTP_OK);
    check(n_after <= n_before);
  } else {
    check(memcmp(copy, data, size) == 0);
  }

  /* Unwrap on a copy, as if this were an RTX packet. */
  memcpy(copy, data, size);
  sb_rtp_view rv = v;
  int n = sb_rtp_rtx_unwrap(copy, &rv, 96, 0x01020304);
  if (v.payload_len >= 2) {
    check(n == (int)(v.header_len + v.payload_len - 2));
    sb_rtp_view back;
    check(sb_rtp_parse(copy, (size_t)n, &back) == SB_RTP_OK);
    check(back.seq == (uint16_t)((data[v.header_len] << 8) | data[v.header_len + 1]));
    check(back.payload_len == rv.payload_len && back.header_len == rv.header_len);
  } else {
    check(n == SB_RTP_ERR_SHORT);
  }
  free(copy);

  /* Wrap into an exact-size buffer, then unwrap: the original without padding. */
  size_t cap = (size_t)v.header_len + 2 + v.payload_len;
  uint8_t *rtx = malloc(cap);
  check(sb_rtp_rtx_wrap(data, &v, rtx, cap - 1, 97, 5, 6) == SB_RTP_ERR_SPACE);
  n = sb_rtp_rtx_wrap(data, &v, rtx, cap, 97, 5, 6);
  if (cap <= UINT16_MAX) {
    check(n == (int)cap);
    sb_rtp_view w;
    check(sb_rtp_parse(rtx, cap, &w) == SB_RTP_OK);
    check(w.pt == 97 && w.seq == 6 && w.ssrc == 5 && w.payload_len == v.payload_len + 2);
    check(sb_rtp_rtx_unwrap(rtx, &w, v.pt, v.ssrc) == (int)(cap - 2));
    check(rtx[0] == (data[0] & ~0x20));
    check(memcmp(rtx + 1, data + 1, cap - 3) == 0);
  } else {
    check(n == SB_RTP_ERR_SPACE);
  }
  free(rtx);
  return 0;
}
