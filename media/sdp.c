/* Switchboard — SDP parser (RFC 8866 §5). The tree's constructors and lookups are
 * in media/sdp_tree.c, the writer in media/sdp_write.c.
 *
 * The parser copies one line at a time into a bounded, NUL-terminated buffer and
 * tokenizes it there, so the input itself is never read past len and never needs a
 * terminator. Every list it fills is capped at SB_SDP_MAX_ITEMS, and the two
 * places where one line fans out into many entries (a=rtcp-fb:* and session-level
 * a=extmap) are charged against a byte budget, so a hostile offer costs at most a
 * small multiple of its own size. */
#include "media/sdp.h"

#include <stdarg.h>
#include <string.h>

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

/* ---- lexing ------------------------------------------------------------ */

static int fail(parser *p, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static int fail(parser *p, const char *fmt, ...) {
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

static int fail_tok(parser *p, const char *t, size_t n, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

/* Fails quoting at most 40 bytes of the offending text t, non-printable bytes shown
 * as '?', so the message stays short and is safe to put into JSON. */
static int fail_tok(parser *p, const char *t, size_t n, const char *fmt, ...) {
  char q[41];
  size_t k = MIN(n, sizeof q - 1);
  for (size_t i = 0; i < k; i++)
    q[i] = g_ascii_isprint(t[i]) ? t[i] : '?';
  q[k] = '\0';
  va_list ap;
  va_start(ap, fmt);
  char *what = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  fail(p, "%s: \"%s%s\"", what, q, n > k ? "..." : "");
  g_free(what);
  return -1;
}

static bool is_ws(char c) { return c == ' ' || c == '\t'; }

static const char *skip_ws(const char *s) {
  while (is_ws(*s))
    s++;
  return s;
}

/* Takes the next whitespace-separated token from *s; returns its length, 0 at the
 * end of the line. */
static size_t token(const char **s, const char **tok) {
  const char *b = skip_ws(*s), *e = b;
  while (*e && !is_ws(*e))
    e++;
  *tok = b;
  *s = e;
  return (size_t)(e - b);
}

/* Decimal digits only (no sign, no spaces, unlike strtoul), at most max. */
static bool parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out) {
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

static bool tok_is(const char *t, size_t n, const char *word) {
  return strlen(word) == n && memcmp(t, word, n) == 0;
}

static bool parse_direction(const char *t, size_t n, sb_direction *d) {
  for (int i = SB_DIR_SENDRECV; i <= SB_DIR_INACTIVE; i++) {
    if (tok_is(t, n, sb_direction_str((sb_direction)i))) {
      *d = (sb_direction)i;
      return true;
    }
  }
  return false;
}

static bool room(parser *p, guint len, const char *what) {
  if (len < SB_SDP_MAX_ITEMS)
    return true;
  fail(p, "more than %d %s", SB_SDP_MAX_ITEMS, what);
  return false;
}

/* Sets *dst to the single token in v, which must be all there is. */
static int set_token(parser *p, char **dst, const char *v, const char *attr) {
  const char *t;
  size_t n = token(&v, &t);
  if (n == 0)
    return fail(p, "a=%s needs a value", attr);
  if (*skip_ws(v))
    return fail_tok(p, t, strlen(t), "a=%s takes one token", attr);
  g_free(*dst);
  *dst = g_strndup(t, n);
  return 0;
}

/* Sets *dst to the rest of the line unless it is empty. */
static void set_text(char **dst, const char *v) {
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
    return fail(p, "more than one o= line");
  for (int i = 0; i < 6; i++)
    n[i] = token(&v, &t[i]);
  if (n[5] == 0 || *skip_ws(v) || !parse_uint(t[1], n[1], UINT64_MAX, &id) ||
      !parse_uint(t[2], n[2], UINT64_MAX, &ver) || !tok_is(t[3], n[3], "IN") ||
      !(tok_is(t[4], n[4], "IP4") || tok_is(t[4], n[4], "IP6")))
    return fail(p, "bad o= line, expected \"o=<user> <sess-id> <sess-version> IN "
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
    n[i] = token(&v, &t[i]);
  if (n[2] == 0 || *skip_ws(v) || !tok_is(t[0], n[0], "IN") ||
      !(tok_is(t[1], n[1], "IP4") || tok_is(t[1], n[1], "IP6")))
    return fail(p, "bad c= line, expected \"c=IN IP4|IP6 <address>\"");
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
      return fail(p, "session-level a=extmap lines expand the SDP beyond %d bytes",
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
    return fail(p, "more than %d m= sections", SB_SDP_MAX_MEDIA);
  ntype = token(&v, &type);
  nport = token(&v, &port);
  nproto = token(&v, &proto);
  if (nproto == 0)
    return fail(p, "bad m= line, expected \"m=<media> <port> <proto> <fmt> ...\"");
  /* The "/<number of ports>" form is legal but unused by WebRTC; it is checked
   * and dropped. */
  const char *slash = memchr(port, '/', nport);
  size_t plen = slash ? (size_t)(slash - port) : nport;
  uint64_t portnum, count;
  if (!parse_uint(port, plen, 65535, &portnum) ||
      (slash && !parse_uint(slash + 1, nport - plen - 1, 65535, &count)))
    return fail_tok(p, port, nport, "m= port is not a number in 0..65535");

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
  while ((n = token(&v, &t)) > 0) {
    if (!room(p, m->fmts->len, "formats on the m= line"))
      return -1;
    if (rtp) {
      /* RFC 3551 §3: RTP formats are payload type numbers, 7 bits. */
      if (!parse_uint(t, n, 127, &x))
        return fail_tok(p, t, n, "m= payload type is not a number in 0..127");
      if (sb_sdp_media_codec(m, (int)x))
        return fail(p, "payload type %d listed twice on the m= line", (int)x);
      g_ptr_array_add(m->codecs, sb_sdp_codec_new((int)x, NULL, 0, 0));
    }
    g_ptr_array_add(m->fmts, g_strndup(t, n));
  }
  if (m->fmts->len == 0)
    return fail(p, "m= line has no formats");
  return 0;
}

/* ---- a= attributes ----------------------------------------------------- */

static int attr_group(parser *p, const char *v) {
  const char *t;
  size_t n = token(&v, &t);
  if (n == 0)
    return fail(p, "a=group needs semantics");
  if (!room(p, p->sdp->groups->len, "a=group lines"))
    return -1;
  sb_sdp_group *g = g_new0(sb_sdp_group, 1);
  g->semantics = g_strndup(t, n);
  g->mids = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(p->sdp->groups, g);
  while ((n = token(&v, &t)) > 0) {
    if (!room(p, g->mids->len, "mids in one a=group"))
      return -1;
    g_ptr_array_add(g->mids, g_strndup(t, n));
  }
  return 0;
}

static int attr_msid_semantic(parser *p, const char *v) {
  set_text(&p->sdp->msid_semantic, v);
  return 0;
}

static int attr_allow_mixed(parser *p, const char *v) {
  (void)v;
  if (p->m)
    p->m->extmap_allow_mixed = true;
  else
    p->sdp->extmap_allow_mixed = true;
  return 0;
}

static int attr_ice_ufrag(parser *p, const char *v) {
  return set_token(p, p->m ? &p->m->ice_ufrag : &p->sdp->ice_ufrag, v, "ice-ufrag");
}

static int attr_ice_pwd(parser *p, const char *v) {
  return set_token(p, p->m ? &p->m->ice_pwd : &p->sdp->ice_pwd, v, "ice-pwd");
}

static int attr_ice_lite(parser *p, const char *v) {
  (void)v;
  p->sdp->ice_lite = true;
  return 0;
}

/* RFC 8839 §5.6: a space-separated list of options. Browsers put it at media
 * level, Firefox at session level; either way trickle applies to the session. */
static int attr_ice_options(parser *p, const char *v) {
  const char *t;
  size_t n;
  while ((n = token(&v, &t)) > 0)
    if (tok_is(t, n, "trickle"))
      p->sdp->ice_trickle = true;
  return 0;
}

/* RFC 8122 §5: a=fingerprint:<hash-func> <2UHEX *(":" 2UHEX)>. Several may be
 * given; the first is kept. */
static int attr_fingerprint(parser *p, const char *v) {
  static const struct { const char *hash; size_t bytes; } sizes[] = {
      {"sha-1", 20}, {"sha-224", 28}, {"sha-256", 32}, {"sha-384", 48},
      {"sha-512", 64}, {"md5", 16}, {"md2", 16}};
  const char *h, *f;
  size_t nh = token(&v, &h), nf = token(&v, &f);
  if (nf == 0 || *skip_ws(v))
    return fail(p, "bad a=fingerprint, expected \"<hash> <XX:XX:...>\"");
  for (size_t i = 0; i < nh; i++)
    if (!g_ascii_isalnum(h[i]) && h[i] != '-')
      return fail_tok(p, h, nh, "bad a=fingerprint hash function");
  if ((nf + 1) % 3 != 0)
    return fail_tok(p, f, nf, "a=fingerprint is not colon-separated hex bytes");
  for (size_t i = 0; i < nf; i++)
    if (i % 3 == 2 ? f[i] != ':' : !g_ascii_isxdigit(f[i]))
      return fail_tok(p, f, nf, "a=fingerprint is not colon-separated hex bytes");
  char *hash = g_ascii_strdown(h, (gssize)nh);
  for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
    if (strcmp(hash, sizes[i].hash) == 0 && (nf + 1) / 3 != sizes[i].bytes) {
      fail(p, "a=fingerprint %s needs %zu bytes, not %zu", hash, sizes[i].bytes,
           (nf + 1) / 3);
      g_free(hash);
      return -1;
    }
  }
  char **dh = p->m ? &p->m->fingerprint_hash : &p->sdp->fingerprint_hash;
  char **df = p->m ? &p->m->fingerprint : &p->sdp->fingerprint;
  if (*df) {
    g_free(hash);
    return 0;
  }
  *dh = hash;
  *df = g_ascii_strup(f, (gssize)nf);
  return 0;
}

/* RFC 4145 §4 */
static int attr_setup(parser *p, const char *v) {
  const char *t;
  size_t n = token(&v, &t);
  for (int i = SB_SETUP_ACTPASS; i <= SB_SETUP_HOLDCONN; i++) {
    if (tok_is(t, n, sb_setup_str((sb_setup)i)) && *skip_ws(v) == '\0') {
      *(p->m ? &p->m->setup : &p->sdp->setup) = (sb_setup)i;
      return 0;
    }
  }
  return fail_tok(p, t, strlen(t), "a=setup is not actpass, active, passive or holdconn");
}

/* RFC 5888 §4: the mid identifies the m-section; BUNDLE (RFC 9143) demultiplexes
 * on it, so it must be unique in the description. */
static int attr_mid(parser *p, const char *v) {
  if (p->m->mid)
    return fail(p, "more than one a=mid in one m= section");
  if (set_token(p, &p->m->mid, v, "mid") < 0)
    return -1;
  for (guint i = 0; i + 1 < p->sdp->media->len; i++) {
    const sb_sdp_media *o = g_ptr_array_index(p->sdp->media, i);
    if (g_strcmp0(o->mid, p->m->mid) == 0)
      return fail_tok(p, p->m->mid, strlen(p->m->mid),
                      "a=mid is already used by another m= section");
  }
  return 0;
}

static int attr_rtcp_mux(parser *p, const char *v) {
  (void)v;
  p->m->rtcp_mux = true;
  return 0;
}

static int attr_rtcp_rsize(parser *p, const char *v) {
  (void)v;
  p->m->rtcp_rsize = true;
  return 0;
}

static int attr_bundle_only(parser *p, const char *v) {
  (void)v;
  p->m->bundle_only = true;
  return 0;
}

/* RFC 8838 §8.2: allowed at session level, meaning every m-section. */
static int attr_eoc(parser *p, const char *v) {
  (void)v;
  if (p->m)
    p->m->end_of_candidates = true;
  else
    p->session_eoc = true;
  return 0;
}

static int attr_candidate(parser *p, const char *v) {
  if (*v == '\0')
    return fail(p, "empty a=candidate");
  if (!room(p, p->m->candidates->len, "candidates in one m= section"))
    return -1;
  g_ptr_array_add(p->m->candidates, g_strconcat("candidate:", v, NULL));
  return 0;
}

/* The payload type that starts a=rtpmap, a=fmtp and a=rtcp-fb. */
static int take_pt(parser *p, const char **v, const char *attr, int *pt) {
  const char *t;
  size_t n = token(v, &t);
  uint64_t x;
  if (!parse_uint(t, n, 127, &x))
    return fail_tok(p, t, n, "a=%s payload type is not a number in 0..127", attr);
  *pt = (int)x;
  return 0;
}

/* RFC 8866 §6.6: a=rtpmap:<pt> <encoding name>/<clock rate>[/<parameters>] */
static int attr_rtpmap(parser *p, const char *v) {
  int pt;
  const char *t;
  uint64_t clock, ch = 0;
  if (take_pt(p, &v, "rtpmap", &pt) < 0)
    return -1;
  size_t n = token(&v, &t);
  if (n == 0 || *skip_ws(v))
    return fail(p, "bad a=rtpmap, expected \"<pt> <encoding>/<clock rate>[/<channels>]\"");
  const char *end = t + n, *s1 = memchr(t, '/', n);
  if (s1 == NULL || s1 == t)
    return fail_tok(p, t, n, "a=rtpmap needs <encoding>/<clock rate>");
  const char *s2 = memchr(s1 + 1, '/', (size_t)(end - s1 - 1));
  if (!parse_uint(s1 + 1, (size_t)((s2 ? s2 : end) - s1 - 1), UINT32_MAX, &clock) ||
      clock == 0)
    return fail_tok(p, t, n, "a=rtpmap clock rate is not a positive number");
  if (s2 && (!parse_uint(s2 + 1, (size_t)(end - s2 - 1), 255, &ch) || ch == 0))
    return fail_tok(p, t, n, "a=rtpmap channels is not a number in 1..255");
  sb_sdp_codec *c = sb_sdp_media_codec(p->m, pt);
  if (c == NULL)
    return 0;
  g_free(c->encoding);
  c->encoding = g_strndup(t, (size_t)(s1 - t));
  c->clock_rate = (unsigned)clock;
  c->channels = (unsigned)ch;
  return 0;
}

/* RFC 8866 §6.15: a=fmtp:<pt> <format specific parameters> */
static int attr_fmtp(parser *p, const char *v) {
  int pt;
  if (take_pt(p, &v, "fmtp", &pt) < 0)
    return -1;
  sb_sdp_codec *c = sb_sdp_media_codec(p->m, pt);
  if (c)
    set_text(&c->fmtp, skip_ws(v));
  return 0;
}

static int add_fb(parser *p, sb_sdp_codec *c, const char *fb) {
  for (guint i = 0; i < c->rtcp_fb->len; i++)
    if (strcmp(g_ptr_array_index(c->rtcp_fb, i), fb) == 0)
      return 0;
  if (!room(p, c->rtcp_fb->len, "a=rtcp-fb values for one payload type"))
    return -1;
  g_ptr_array_add(c->rtcp_fb, g_strdup(fb));
  return 0;
}

/* RFC 4585 §4.2: a=rtcp-fb:<pt>|* <type> [<param>]; "*" means every payload type
 * of the m-line. */
static int attr_rtcp_fb(parser *p, const char *v) {
  int pt = -1;
  const char *s = skip_ws(v);
  if (s[0] == '*' && (s[1] == '\0' || is_ws(s[1])))
    v = s + 1;
  else if (take_pt(p, &v, "rtcp-fb", &pt) < 0)
    return -1;
  const char *fb = skip_ws(v);
  size_t n = strlen(fb);
  if (n == 0)
    return fail(p, "a=rtcp-fb needs a feedback type");
  if (n > RTCP_FB_MAX_LEN)
    return fail(p, "a=rtcp-fb value longer than %d bytes", RTCP_FB_MAX_LEN);
  if (pt >= 0) {
    sb_sdp_codec *c = sb_sdp_media_codec(p->m, pt);
    return c ? add_fb(p, c, fb) : 0;
  }
  p->expanded += (n + 24) * p->m->codecs->len;
  if (p->expanded > SB_SDP_MAX_LEN)
    return fail(p, "a=rtcp-fb:* lines expand the SDP beyond %d bytes", SB_SDP_MAX_LEN);
  for (guint i = 0; i < p->m->codecs->len; i++)
    if (add_fb(p, g_ptr_array_index(p->m->codecs, i), fb) < 0)
      return -1;
  return 0;
}

/* RFC 8285 §8: a=extmap:<id>[/<direction>] <URI> [<extension attributes>] */
static int attr_extmap(parser *p, const char *v) {
  const char *t, *uri;
  uint64_t id;
  sb_direction dir = SB_DIR_SENDRECV;
  size_t n = token(&v, &t);
  const char *slash = memchr(t, '/', n);
  size_t nid = slash ? (size_t)(slash - t) : n;
  if (!parse_uint(t, nid, 255, &id) || id == 0)
    return fail_tok(p, t, n, "a=extmap id is not a number in 1..255");
  if (slash && !parse_direction(slash + 1, n - nid - 1, &dir))
    return fail_tok(p, t, n, "a=extmap direction is not a direction");
  size_t nuri = token(&v, &uri);
  if (nuri == 0)
    return fail(p, "a=extmap needs a URI");
  GPtrArray *list = (p->m ? p->m : p->session)->extmaps;
  for (guint i = 0; i < list->len; i++)
    if (((sb_sdp_extmap *)g_ptr_array_index(list, i))->id == (int)id)
      return fail(p, "a=extmap id %d is mapped twice", (int)id);
  sb_sdp_extmap *e = g_new0(sb_sdp_extmap, 1);
  e->id = (int)id;
  e->dir = dir;
  e->uri = g_strndup(uri, nuri);
  set_text(&e->attrs, skip_ws(v));
  g_ptr_array_add(list, e);
  return 0;
}

/* RFC 5576 §4.1: a=ssrc:<ssrc-id> <attribute>[:<value>] */
static int attr_ssrc(parser *p, const char *v) {
  const char *t;
  uint64_t ssrc;
  size_t n = token(&v, &t);
  if (!parse_uint(t, n, UINT32_MAX, &ssrc))
    return fail_tok(p, t, n, "a=ssrc id is not a 32-bit number");
  const char *a = skip_ws(v), *colon = strchr(a, ':');
  size_t na = colon ? (size_t)(colon - a) : strlen(a);
  if (na == 0)
    return fail(p, "a=ssrc needs an attribute");
  for (size_t i = 0; i < na; i++)
    if (is_ws(a[i]))
      return fail_tok(p, a, na, "a=ssrc attribute name contains a space");
  if (!room(p, p->m->ssrcs->len, "a=ssrc lines in one m= section"))
    return -1;
  sb_sdp_ssrc *s = g_new0(sb_sdp_ssrc, 1);
  s->ssrc = (uint32_t)ssrc;
  s->attr = g_strndup(a, na);
  s->value = colon ? g_strdup(colon + 1) : NULL;
  g_ptr_array_add(p->m->ssrcs, s);
  return 0;
}

/* RFC 5576 §4.2: a=ssrc-group:<semantics> <ssrc-id> ... */
static int attr_ssrc_group(parser *p, const char *v) {
  const char *t;
  uint64_t x;
  size_t n = token(&v, &t);
  if (n == 0)
    return fail(p, "a=ssrc-group needs semantics");
  if (!room(p, p->m->ssrc_groups->len, "a=ssrc-group lines in one m= section"))
    return -1;
  sb_sdp_ssrc_group *g = g_new0(sb_sdp_ssrc_group, 1);
  g->semantics = g_strndup(t, n);
  g->ssrcs = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  g_ptr_array_add(p->m->ssrc_groups, g);
  while ((n = token(&v, &t)) > 0) {
    if (!parse_uint(t, n, UINT32_MAX, &x))
      return fail_tok(p, t, n, "a=ssrc-group id is not a 32-bit number");
    if (!room(p, g->ssrcs->len, "ssrcs in one a=ssrc-group"))
      return -1;
    uint32_t ssrc = (uint32_t)x;
    g_array_append_val(g->ssrcs, ssrc);
  }
  return 0;
}

/* RFC 8830 §2 allows several a=msid; one track per m-section is all JSEP sends. */
static int attr_msid(parser *p, const char *v) {
  if (p->m->msid == NULL)
    set_text(&p->m->msid, v);
  return 0;
}

/* RFC 8851 §10: a=rid:<rid-id> send|recv [<params>], rid-id = 1*(ALPHA / DIGIT /
 * "-" / "_") */
static int attr_rid(parser *p, const char *v) {
  const char *id, *dir;
  size_t nid = token(&v, &id), ndir = token(&v, &dir);
  if (nid == 0)
    return fail(p, "a=rid needs an id");
  for (size_t i = 0; i < nid; i++)
    if (!g_ascii_isalnum(id[i]) && id[i] != '-' && id[i] != '_')
      return fail_tok(p, id, nid, "a=rid id has characters other than letters, "
                                  "digits, - and _");
  if (!tok_is(dir, ndir, "send") && !tok_is(dir, ndir, "recv"))
    return fail(p, "a=rid direction must be send or recv");
  if (!room(p, p->m->rids->len, "a=rid lines in one m= section"))
    return -1;
  sb_sdp_rid *r = g_new0(sb_sdp_rid, 1);
  r->id = g_strndup(id, nid);
  r->send = dir[0] == 's';
  set_text(&r->params, skip_ws(v));
  g_ptr_array_add(p->m->rids, r);
  return 0;
}

static int attr_simulcast(parser *p, const char *v) {
  set_text(&p->m->simulcast, v);
  return 0;
}

static int take_port(parser *p, const char **v, const char *attr, unsigned *out) {
  const char *t;
  uint64_t x;
  size_t n = token(v, &t);
  if (!parse_uint(t, n, 65535, &x))
    return fail_tok(p, t, n, "a=%s port is not a number in 0..65535", attr);
  *out = (unsigned)x;
  return 0;
}

/* RFC 8841 §5.1 */
static int attr_sctp_port(parser *p, const char *v) {
  return take_port(p, &v, "sctp-port", &p->m->sctp_port);
}

/* draft-ietf-mmusic-sctp-sdp-05 §5: a=sctpmap:<port> <app> [<streams or max size>].
 * The last number meant different things across drafts, so it is not kept;
 * a=max-message-size is the one that counts. */
static int attr_sctpmap(parser *p, const char *v) {
  const char *app;
  if (take_port(p, &v, "sctpmap", &p->m->sctp_port) < 0)
    return -1;
  if (token(&v, &app) == 0)
    return fail(p, "a=sctpmap needs an application name");
  p->m->sctpmap = true;
  return 0;
}

/* RFC 8841 §6 */
static int attr_max_message_size(parser *p, const char *v) {
  const char *t;
  uint64_t x;
  size_t n = token(&v, &t);
  if (!parse_uint(t, n, UINT32_MAX, &x))
    return fail_tok(p, t, n, "a=max-message-size is not a 32-bit number");
  p->m->max_message_size = (unsigned)x;
  return 0;
}

enum { ANY_LEVEL = 0, SESSION_ONLY = 1, MEDIA_ONLY = 2, RTP_ONLY = 3 };

static const struct {
  const char *name;
  int (*fn)(parser *p, const char *v);
  int scope;
} attrs[] = {
    {"group", attr_group, SESSION_ONLY},
    {"msid-semantic", attr_msid_semantic, SESSION_ONLY},
    {"extmap-allow-mixed", attr_allow_mixed, ANY_LEVEL},
    {"ice-ufrag", attr_ice_ufrag, ANY_LEVEL},
    {"ice-pwd", attr_ice_pwd, ANY_LEVEL},
    {"ice-lite", attr_ice_lite, SESSION_ONLY},
    {"ice-options", attr_ice_options, ANY_LEVEL},
    {"fingerprint", attr_fingerprint, ANY_LEVEL},
    {"setup", attr_setup, ANY_LEVEL},
    {"mid", attr_mid, MEDIA_ONLY},
    {"rtcp-mux", attr_rtcp_mux, MEDIA_ONLY},
    {"rtcp-rsize", attr_rtcp_rsize, MEDIA_ONLY},
    {"bundle-only", attr_bundle_only, MEDIA_ONLY},
    {"end-of-candidates", attr_eoc, ANY_LEVEL},
    {"candidate", attr_candidate, MEDIA_ONLY},
    {"rtpmap", attr_rtpmap, RTP_ONLY},
    {"fmtp", attr_fmtp, RTP_ONLY},
    {"rtcp-fb", attr_rtcp_fb, RTP_ONLY},
    {"extmap", attr_extmap, ANY_LEVEL},
    {"ssrc", attr_ssrc, MEDIA_ONLY},
    {"ssrc-group", attr_ssrc_group, MEDIA_ONLY},
    {"msid", attr_msid, MEDIA_ONLY},
    {"rid", attr_rid, MEDIA_ONLY},
    {"simulcast", attr_simulcast, MEDIA_ONLY},
    {"sctp-port", attr_sctp_port, MEDIA_ONLY},
    {"sctpmap", attr_sctpmap, MEDIA_ONLY},
    {"max-message-size", attr_max_message_size, MEDIA_ONLY},
};

/* RFC 8866 §5.13: a=<attribute> or a=<attribute>:<value>. An attribute used at a
 * level where it means nothing is ignored like an unknown one. */
static int line_a(parser *p, const char *v) {
  const char *colon = strchr(v, ':');
  size_t n = colon ? (size_t)(colon - v) : strlen(v);
  const char *value = colon ? skip_ws(colon + 1) : "";
  sb_direction d;
  if (parse_direction(v, n, &d)) {
    if (p->m) {
      p->m->direction = d;
      p->m_dir_set = true;
    } else {
      p->session_dir = d;
    }
    return 0;
  }
  for (guint i = 0; i < G_N_ELEMENTS(attrs); i++) {
    if (!tok_is(v, n, attrs[i].name))
      continue;
    if ((attrs[i].scope == SESSION_ONLY && p->m) ||
        (attrs[i].scope >= MEDIA_ONLY && p->m == NULL) ||
        (attrs[i].scope == RTP_ONLY && !sb_sdp_media_is_rtp(p->m)))
      return 0;
    return attrs[i].fn(p, value);
  }
  return 0;
}

/* One line: at most SB_SDP_MAX_LINE bytes, NUL-terminated, no control characters,
 * trailing whitespace removed, not empty. */
static int parse_line(parser *p, const char *s, size_t n) {
  if (!p->seen_v) {
    /* RFC 8866 §5.1 */
    if (strcmp(s, "v=0") != 0)
      return fail(p, "SDP must start with \"v=0\"");
    p->seen_v = true;
    return 0;
  }
  if (n < 2 || s[1] != '=' || !g_ascii_islower(s[0]))
    return fail_tok(p, s, n, "expected <type>=<value>");
  const char *v = s + 2;
  switch (s[0]) {
  case 'v':
    return fail(p, "more than one v= line");
  case 'o':
  case 's':
  case 't':
    if (p->m)
      return fail(p, "%c= line inside an m= section", s[0]);
    if (s[0] == 'o')
      return line_o(p, v);
    if (s[0] == 's')
      set_text(&p->sdp->session_name, v);
    return 0;
  case 'c':
    return line_c(p, v);
  case 'm':
    return line_m(p, v);
  case 'a':
    return line_a(p, v);
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
      fail(&p, "line longer than %d bytes", SB_SDP_MAX_LINE);
      break;
    }
    memcpy(buf, start, n);
    while (n > 0 && is_ws(buf[n - 1]))
      n--;
    buf[n] = '\0';
    for (size_t i = 0; i < n && p.error == NULL; i++) {
      unsigned char c = (unsigned char)buf[i];
      if (c == 0)
        fail(&p, "NUL byte inside the line");
      else if ((c < 0x20 && c != '\t') || c == 0x7f)
        fail(&p, "control character 0x%02x inside the line", c);
    }
    if (p.error == NULL && n > 0)
      parse_line(&p, buf, n);
  }
  if (p.error == NULL)
    end_media(&p);
  p.line = 0;
  if (p.error == NULL && !p.seen_v)
    fail(&p, "empty SDP");
  if (p.error == NULL && !p.seen_o)
    fail(&p, "no o= line");
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
