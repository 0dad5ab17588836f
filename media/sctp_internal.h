/* Switchboard — what sctp.c (association, usrsctp glue) and sctp_channel.c (DCEP,
 * channels, send queue) share. Not for other files. */
#ifndef SB_MEDIA_SCTP_INTERNAL_H
#define SB_MEDIA_SCTP_INTERNAL_H

#include <glib.h>
#include <usrsctp.h>

#include "media/sctp.h"

#define SB_SCTP_MTU 1188                  /* SB_DTLS_MTU less DTLS record overhead */
#define SB_SCTP_SOCKET_BUFFER (1 << 20)   /* usrsctp send and receive buffers */
#define SB_SCTP_SEND_THRESHOLD (256 * 1024) /* send_cb fires with this much free */

typedef struct sb_channel {
  sb_dc_info info;            /* label/protocol point at the strings below */
  char *label;
  char *protocol;
  bool acked;                 /* ours: the remote sent DATA_CHANNEL_ACK */
  bool closing;               /* no more sends: a reset is pending or done */
  bool reset_out;             /* our outgoing stream is reset */
  bool reset_in;              /* the remote reset its outgoing stream */
} sb_channel;

typedef struct sb_partial {
  GByteArray *buf;
  uint16_t ssn;               /* the message's stream sequence number */
  uint32_t tsn;               /* and its first TSN (unordered messages all have SSN 0) */
  bool over;                  /* past the limit: dropping the rest of this message */
} sb_partial;

struct sb_sctp {
  gint refs;
  guint id;                   /* usrsctp's address and ulp_info: callbacks find us by it */
  sb_worker *worker;
  char *name;
  sb_sctp_callbacks cb;
  void *ud;
  struct socket *sock;
  bool dtls_client;
  uint16_t port;
  uint32_t max_message;       /* the remote's max-message-size */
  uint16_t next_stream;
  uint16_t out_streams;       /* negotiated outbound streams */
  bool started, connected, lost, closed;

  GHashTable *channels;       /* stream id -> sb_channel* */
  GHashTable *partials;       /* stream id -> sb_partial* */
  GQueue sendq;               /* of sb_out_msg*, waiting for send space or COMM_UP */
  size_t queued;              /* bytes in sendq */
  GArray *pending_resets;     /* uint16_t stream ids whose reset usrsctp refused for now */
  GSource *timer;             /* retries pending resets */
  int reset_failures;         /* refused or failed reset requests in a row */

  GMutex lock;                /* guards events and drain_scheduled */
  GQueue events;              /* from usrsctp's callbacks, for the worker */
  bool drain_scheduled;

  sb_sctp_stats st;
};

sb_sctp *sb_sctp_ref(sb_sctp *s);
void sb_sctp_unref(sb_sctp *s);

/* sctp_channel.c */
/* A whole inbound message on stream sid with payload protocol ppid. */
void sb_sctp_deliver(sb_sctp *s, uint16_t sid, uint32_t ppid, const uint8_t *buf, size_t len);
void sb_sctp_on_stream_reset(sb_sctp *s, const struct sctp_stream_reset_event *ev, size_t len);
/* Hands queued messages to usrsctp while it takes them. */
void sb_sctp_flush(sb_sctp *s);
void sb_sctp_sendq_clear(sb_sctp *s);
/* Resets the outgoing streams of closing channels whose queued data is out. */
void sb_sctp_try_resets(sb_sctp *s);

#endif
