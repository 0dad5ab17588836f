/* Switchboard — SDP parser (RFC 8866 §5): lines and lexing; the a= attributes are in
 * media/sdp_attr.c. The tree's constructors and lookups are
 * in media/sdp_tree.c, the writer in media/sdp_write.c.
 *
 * The parser copies one line at a time into a bounded, NUL-terminated buffer and
 * tokenizes it there, so the input itself is never read past len and never needs a
 * terminator. Every list it fills is capped at SB_SDP_MAX_ITEMS, and the two
 * places where one line fans out into many entries (a=rtcp-fb:* and session-level
 * a=extmap) are charged against a byte budget, so a hostile offer costs at most a
 * small multiple of its own size. */
#include "media/sdp.h"
#include "media/sdp_parse.h"

#include <stdarg.h>
#include <string.h>


/* ---- lexing ------------------------------------------------------------ */

int sdp_fail(parser *p, const char *fmt, ...) {
  if (p->error)
    return -1;
  va_list ap;
  va_start(ap, fmt);
  char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  if (p->line) {
    p->error = g_strdup_printf("line %u: %s", p->line, msg);
    g_free(msg);
  } else {
    p->error = msg;
  }
  return -1;
}

/* Fails quoting at most 40 bytes of the offending text t, non-printable bytes shown
 * as '?', so the message stays short and is safe to put into JSON. */
int sdp_fail_tok(parser *p, const char *t, size_t n, const char *fmt, ...) {
  char q[41];
  size_t k = MIN(n, sizeof q - 1);
  for (size_t i = 0; i < k; i++)
    q[i] = g_ascii_isprint(t[i]) ? t[i] : '?';
  q[k] = '\0';
  va_list ap;
  va_start(ap, fmt);
  char *what = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  sdp_fail(p, "%s: \"%s%s\"", what, q, n > k ? "..." : "");
  g_free(what);
  return -1;
}

bool sdp_is_ws(char c) { return c == ' ' || c == '\t'; }

const char *sdp_skip_ws(const char *s) {
  while (sdp_is_ws(*s))
    s++;
  return s;
}

/* Takes the next whitespace-separated token from *s; returns its length, 0 at the
 * end of the line. */
size_t sdp_token(const char **s, const char **tok) {
  const char *b = sdp_skip_ws(*s), *e = b;
  while (*e && !sdp_is_ws(*e))
    e++;
  *tok = b;
  *s = e;
  return (size_t)(e - b);
}

/* Decimal digits only (no sign, no spaces, unlike strtoul), at most max. */
bool sdp_parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out) {
  if (n == 0)
    return false;
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (!g_ascii_isdigit(s[i]))
      return false;
    unsigned d = (unsigned)(s[i] - '0');
    if (d > max || v > (max - d) / 10)
      return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

bool sdp_tok_is(const char *t, size_t n, const char *word) {
  return strlen(word) == n && memcmp(t, word, n) == 0;
}

bool sdp_parse_direction(const char *t, size_t n, sb_direction *d) {
  for (int i = SB_DIR_SENDRECV; i <= SB_DIR_INACTIVE; i++) {
    if (sdp_tok_is(t, n, sb_direction_str((sb_direction)i))) {
      *d = (sb_direction)i;
      return true;
    }
  }
  return false;
}

bool sdp_room(parser *p, guint len, const char *what) {
  if (len < SB_SDP_MAX_ITEMS)
    return true;
  sdp_fail(p, "more than %d %s", SB_SDP_MAX_ITEMS, what);
  return false;
}

/* Sets *dst to the single token in v, which must be all there is. */
int sdp_set_token(parser *p, char **dst, const char *v, const char *attr) {
  const char *t;
  size_t n = sdp_token(&v, &t);
  if (n == 0)
    return sdp_fail(p, "a=%s needs a value", attr);
  if (*sdp_skip_ws(v))
    return sdp_fail_tok(p, t, strlen(t), "a=%s takes one token", attr);
  g_free(*dst);
  *dst = g_strndup(t, n);
  return 0;
}

/* Sets *dst to the rest of the line unless it is empty. */
void sdp_set_text(char **dst, const char *v) {
  if (*v == '\0')
    return;
  g_free(*dst);
  *dst = g_strdup(v);
}

/* ---- session and m= lines ---------------------------------------------- */

/* RFC 8866 §5.2: o=<username> <sess-id> <sess-version> <nettype> <addrtype> <addr> */
static int line_o(parser *p, const char *v) {
  const char *t[6];
  size_t n[6];
  uint64_t id, ver;
  if (p->seen_o)
    return sdp_fail(p, "more than one o= line");
  for (int i = 0; i < 6; i++)
    n[i] = sdp_token(&v, &t[i]);
  if (n[5] == 0 || *sdp_skip_ws(v) || !sdp_parse_uint(t[1], n[1], UINT64_MAX, &id) ||
      !sdp_parse_uint(t[2], n[2], UINT64_MAX, &ver) || !sdp_tok_is(t[3], n[3], "IN") ||
      !(sdp_tok_is(t[4], n[4], "IP4") || sdp_tok_is(t[4], n[4], "IP6")))
    return sdp_fail(p, "bad o= line, expected \"o=<user> <sess-id> <sess-version> IN "
                   "IP4|IP6 <address>\"");
  p->seen_o = true;
  g_free(p->sdp->origin_user);
  p->sdp->origin_user = g_strndup(t[0], n[0]);
  p->sdp->session_id = id;
  p->sdp->session_version = ver;
  g_free(p->sdp->origin_addr);
  p->sdp->origin_addr = g_strndup(t[5], n[5]);
  return 0;
}

/* RFC 8866 §5.7: c=<nettype> <addrtype> <connection-address> */
static int line_c(parser *p, const char *v) {
  const char *t[3];
  size_t n[3];
  for (int i = 0; i < 3; i++)
    n[i] = sdp_token(&v, &t[i]);
  if (n[2] == 0 || *sdp_skip_ws(v) || !sdp_tok_is(t[0], n[0], "IN") ||
      !(sdp_tok_is(t[1], n[1], "IP4") || sdp_tok_is(t[1], n[1], "IP6")))
    return sdp_fail(p, "bad c= line, expected \"c=IN IP4|IP6 <address>\"");
  char **dst = p->m ? &p->m->conn_addr : &p->sdp->conn_addr;
  g_free(*dst);
  *dst = g_strndup(t[2], n[2]);
  return 0;
}

/* Closes the current m-section: session-level defaults apply where it had no value
 * of its own (RFC 8866 §6.7 for direction, RFC 8285 §8 for extmap). */
static int end_media(parser *p) {
  sb_sdp_media *m = p->m;
  if (m == NULL)
    return 0;
  p->m = NULL;
  if (!p->m_dir_set)
    m->direction = p->session_dir;
  if (p->session_eoc)
    m->end_of_candidates = true;
  if (!sb_sdp_media_is_rtp(m))
    return 0;
  for (guint i = 0; i < p->session->extmaps->len; i++) {
    const sb_sdp_extmap *s = g_ptr_array_index(p->session->extmaps, i);
    bool mapped = false;
    for (guint j = 0; j < m->extmaps->len && !mapped; j++)
      mapped = ((sb_sdp_extmap *)g_ptr_array_index(m->extmaps, j))->id == s->id;
    if (mapped)
      continue;
    /* Ids are unique 1..255 in both lists, so the union stays under the cap. */
    p->expanded += strlen(s->uri) + (s->attrs ? strlen(s->attrs) : 0) + 24;
    if (p->expanded > SB_SDP_MAX_LEN)
      return sdp_fail(p, "session-level a=extmap lines expand the SDP beyond %d bytes",
                  SB_SDP_MAX_LEN);
    sb_sdp_extmap *e = g_new0(sb_sdp_extmap, 1);
    e->id = s->id;
    e->dir = s->dir;
    e->uri = g_strdup(s->uri);
    e->attrs = g_strdup(s->attrs);
    g_ptr_array_add(m->extmaps, e);
  }
  return 0;
}

/* RFC 8866 §5.14: m=<media> <port>[/<number of ports>] <proto> <fmt> ... */
static int line_m(parser *p, const char *v) {
  const char *type, *port, *proto, *t;
  size_t ntype, nport, nproto, n;
  uint64_t x;
  if (end_media(p) < 0)
    return -1;
  if (p->sdp->media->len >= SB_SDP_MAX_MEDIA)
    return sdp_fail(p, "more than %d m= sections", SB_SDP_MAX_MEDIA);
  ntype = sdp_token(&v, &type);
  nport = sdp_token(&v, &port);
  nproto = sdp_token(&v, &proto);
  if (nproto == 0)
    return sdp_fail(p, "bad m= line, expected \"m=<media> <port> <proto> <fmt> ...\"");
  /* The "/<number of ports>" form is legal but unused by WebRTC; it is checked
   * and dropped. */
  const char *slash = memchr(port, '/', nport);
  size_t plen = slash ? (size_t)(slash - port) : nport;
  uint64_t portnum, count;
  if (!sdp_parse_uint(port, plen, 65535, &portnum) ||
      (slash && !sdp_parse_uint(slash + 1, nport - plen - 1, 65535, &count)))
    return sdp_fail_tok(p, port, nport, "m= port is not a number in 0..65535");

  sb_sdp_media *m = sb_sdp_media_new(NULL);
  g_ptr_array_add(p->sdp->media, m);
  p->m = m;
  p->m_dir_set = false;
  g_free(m->type);
  m->type = g_strndup(type, ntype);
  m->port = (unsigned)portnum;
  g_free(m->proto);
  m->proto = g_strndup(proto, nproto);
  bool rtp = sb_sdp_media_is_rtp(m);
  while ((n = sdp_token(&v, &t)) > 0) {
    if (!sdp_room(p, m->fmts->len, "formats on the m= line"))
      return -1;
    if (rtp) {
      /* RFC 3551 §3: RTP formats are payload type numbers, 7 bits. */
      if (!sdp_parse_uint(t, n, 127, &x))
        return sdp_fail_tok(p, t, n, "m= payload type is not a number in 0..127");
      if (sb_sdp_media_codec(m, (int)x))
        return sdp_fail(p, "payload type %d listed twice on the m= line", (int)x);
      g_ptr_array_add(m->codecs, sb_sdp_codec_new((int)x, NULL, 0, 0));
    }
    g_ptr_array_add(m->fmts, g_strndup(t, n));
  }
  if (m->fmts->len == 0)
    return sdp_fail(p, "m= line has no formats");
  return 0;
}

/* ---- a= attributes ----------------------------------------------------- */

/* One line: at most SB_SDP_MAX_LINE bytes, NUL-terminated, no control characters,
 * trailing whitespace removed, not empty. */
static int parse_line(parser *p, const char *s, size_t n) {
  if (!p->seen_v) {
    /* RFC 8866 §5.1 */
    if (strcmp(s, "v=0") != 0)
      return sdp_fail(p, "SDP must start with \"v=0\"");
    p->seen_v = true;
    return 0;
  }
  if (n < 2 || s[1] != '=' || !g_ascii_islower(s[0]))
    return sdp_fail_tok(p, s, n, "expected <type>=<value>");
  const char *v = s + 2;
  switch (s[0]) {
  case 'v':
    return sdp_fail(p, "more than one v= line");
  case 'o':
  case 's':
  case 't':
    if (p->m)
      return sdp_fail(p, "%c= line inside an m= section", s[0]);
    if (s[0] == 'o')
      return line_o(p, v);
    if (s[0] == 's')
      sdp_set_text(&p->sdp->session_name, v);
    return 0;
  case 'c':
    return line_c(p, v);
  case 'm':
    return line_m(p, v);
  case 'a':
    return sdp_line_a(p, v);
  default:
    /* i=, u=, e=, p=, b=, z=, k=, r=: nothing an SFU acts on. */
    return 0;
  }
}

int sb_sdp_parse(const char *text, size_t len, sb_sdp **out, char **error) {
  parser p = {0};
  char buf[SB_SDP_MAX_LINE + 1];
  if (error)
    *error = NULL;
  if (out == NULL)
    return -1;
  *out = NULL;
  if (text == NULL)
    len = 0;
  if (len > SB_SDP_MAX_LEN) {
    if (error)
      *error = g_strdup_printf("SDP is %zu bytes, more than the %d allowed", len,
                               SB_SDP_MAX_LEN);
    return -1;
  }
  /* The defaults of sb_sdp_new are overwritten by o=; s= is optional and reads as
   * "-" when absent. */
  p.sdp = sb_sdp_new();
  p.session = sb_sdp_media_new(NULL);

  for (size_t pos = 0; pos < len && p.error == NULL;) {
    const char *start = text + pos;
    const char *nl = memchr(start, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - start) : len - pos;
    pos += n + (nl ? 1 : 0);
    p.line++;
    if (n > 0 && start[n - 1] == '\r')
      n--;
    if (n > SB_SDP_MAX_LINE) {
      sdp_fail(&p, "line longer than %d bytes", SB_SDP_MAX_LINE);
      break;
    }
    memcpy(buf, start, n);
    while (n > 0 && sdp_is_ws(buf[n - 1]))
      n--;
    buf[n] = '\0';
    for (size_t i = 0; i < n && p.error == NULL; i++) {
      unsigned char c = (unsigned char)buf[i];
      if (c == 0)
        sdp_fail(&p, "NUL byte inside the line");
      else if ((c < 0x20 && c != '\t') || c == 0x7f)
        sdp_fail(&p, "control character 0x%02x inside the line", c);
    }
    if (p.error == NULL && n > 0)
      parse_line(&p, buf, n);
  }
  if (p.error == NULL)
    end_media(&p);
  p.line = 0;
  if (p.error == NULL && !p.seen_v)
    sdp_fail(&p, "empty SDP");
  if (p.error == NULL && !p.seen_o)
    sdp_fail(&p, "no o= line");
  sb_sdp_media_free(p.session);

  if (p.error) {
    sb_sdp_free(p.sdp);
    if (error)
      *error = p.error;
    else
      g_free(p.error);
    return -1;
  }
  *out = p.sdp;
  return 0;
}
