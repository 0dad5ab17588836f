/* Switchboard — utilities. */
#include "core/util.h"

#include <errno.h>
#include <glib.h>
#include <sys/random.h>

int64_t sb_now_us(void) { return g_get_monotonic_time(); }
int64_t sb_wall_us(void) { return g_get_real_time(); }

void sb_random_bytes(void *buf, size_t len) {
  uint8_t *p = buf;
  while (len > 0) {
    ssize_t n = getrandom(p, len, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      g_error("getrandom failed: %s", g_strerror(errno));
    }
    p += n;
    len -= (size_t)n;
  }
}

uint32_t sb_random_u32(void) {
  uint32_t v;
  sb_random_bytes(&v, sizeof v);
  return v;
}

void sb_random_id(char *buf, size_t len) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  uint8_t raw[64];
  size_t done = 0;
  while (done < len) {
    size_t n = MIN(len - done, sizeof raw);
    sb_random_bytes(raw, n);
    for (size_t i = 0; i < n; i++) {
      /* 62 symbols: reject 248..255 so every symbol is equally likely. */
      if (raw[i] >= 248)
        continue;
      buf[done++] = alphabet[raw[i] % 62];
    }
  }
  buf[len] = '\0';
}
