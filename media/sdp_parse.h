/* Switchboard — what the SDP parser's two files share (media/sdp.c: lines and
 * lexing; media/sdp_attr.c: a= attributes). Not for use outside the parser. */
#ifndef SB_MEDIA_SDP_PARSE_H
#define SB_MEDIA_SDP_PARSE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/sdp.h"

/* RFC 4585 §4.2 feedback values are a type and a short parameter ("nack pli",
 * "trr-int 100"); the cap bounds what one a=rtcp-fb:* line costs per codec. */
#define RTCP_FB_MAX_LEN 256

typedef struct parser {
  sb_sdp *sdp;
  sb_sdp_media *m;          /* current m-section, NULL in the session part */
  unsigned line;            /* 1-based number of the line being parsed, 0 after */
  char *error;
  bool seen_v;
  bool seen_o;
  bool m_dir_set;           /* the current m-section has its own direction */
  sb_direction session_dir; /* RFC 8866 §6.7: session-level default */
  bool session_eoc;
  sb_sdp_media *session;    /* holds session-level a=extmap lines */
  size_t expanded;          /* bytes added by fan-out, see the file comment */
} parser;

/* Records "line N: message" and returns -1. */
int sdp_fail(parser *p, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* The same, quoting the offending token (t, n bytes). */
int sdp_fail_tok(parser *p, const char *t, size_t n, const char *fmt, ...) G_GNUC_PRINTF(4, 5);
bool sdp_is_ws(char c);
const char *sdp_skip_ws(const char *s);
/* The next whitespace-delimited token of *s: its start in *tok, its length returned. */
size_t sdp_token(const char **s, const char **tok);
bool sdp_parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out);
bool sdp_tok_is(const char *t, size_t n, const char *word);
bool sdp_parse_direction(const char *t, size_t n, sb_direction *d);
/* False (with the error set) when a list already holds SB_SDP_MAX_ITEMS. */
bool sdp_room(parser *p, guint len, const char *what);
int sdp_set_token(parser *p, char **dst, const char *v, const char *attr);
void sdp_set_text(char **dst, const char *v);
/* One a= line (media/sdp_attr.c). */
int sdp_line_a(parser *p, const char *v);

#endif
