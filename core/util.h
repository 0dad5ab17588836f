/* Switchboard — small shared utilities: clocks and randomness. */
#ifndef SB_CORE_UTIL_H
#define SB_CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic microseconds (for intervals, timers, jitter). */
int64_t sb_now_us(void);
/* Wall-clock microseconds since the Unix epoch (for NTP timestamps, logs). */
int64_t sb_wall_us(void);

/* Cryptographically random bytes (getrandom). Aborts if the kernel refuses. */
void sb_random_bytes(void *buf, size_t len);
uint32_t sb_random_u32(void);
/* A random string of len characters from [A-Za-z0-9], NUL-terminated (buf >= len+1). */
void sb_random_id(char *buf, size_t len);

#endif
