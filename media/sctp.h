/* Switchboard — WebRTC data channels: SCTP (usrsctp, AF_CONN) over a DTLS
 * association, with DCEP (RFC 8832) to open channels and stream resets to close
 * them (RFC 8831 §6.7).
 *
 * One sb_sctp per PeerConnection, owned by the peer's worker: every function
 * below runs there, and every callback is delivered there from a queued job,
 * never from inside usrsctp (whose timer thread and input path only queue).
 * usrsctp's global state is set up once, on first use.
 *
 * Messages are whole: partial deliveries are reassembled per stream up to the
 * negotiated max-message-size (larger ones are dropped and counted); what cannot
 * be handed to usrsctp at once waits in a bounded per-association send queue that
 * drains as usrsctp frees send space. Each inbound SCTP packet is checked
 * structurally (sb_sctp_packet_valid) before usrsctp sees it. */
#ifndef SB_MEDIA_SCTP_H
#define SB_MEDIA_SCTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/worker.h"
#include "media/dcep.h"

#define SB_SCTP_MAX_MESSAGE_DEFAULT 262144
#define SB_SCTP_STREAMS 1024           /* streams we offer each way; ids are below this */
#define SB_SCTP_SEND_QUEUE_MAX (16u << 20) /* bytes waiting per association */

typedef struct sb_sctp sb_sctp;

/* A channel as opened by either side. label and protocol are NUL-terminated. */
typedef struct sb_dc_info {
  uint16_t id;                 /* SCTP stream id */
  uint8_t type;                /* SB_DC_* (RFC 8832 channel type, 0x80 = unordered) */
  uint32_t reliability;        /* maxRetransmits or maxPacketLifeTime (ms), by type */
  uint16_t priority;
  const char *label;
  const char *protocol;
  bool remote;                 /* opened by the remote */
} sb_dc_info;

typedef struct sb_sctp_callbacks {
  /* An SCTP packet for the DTLS association. Called on the worker only. */
  void (*send)(void *ud, const uint8_t *buf, size_t len);
  /* The association is up (channels opened before this are announced now). */
  void (*connected)(void *ud);
  /* The remote opened a channel (we have acknowledged it). */
  void (*channel_open)(void *ud, const sb_dc_info *ch);
  /* A whole message. */
  void (*message)(void *ud, uint16_t id, bool binary, const uint8_t *buf, size_t len);
  /* A channel is closed (by either side, or with the association). */
  void (*channel_closed)(void *ud, uint16_t id);
  /* The association is gone (abort, lost, shutdown). */
  void (*closed)(void *ud, const char *why);
} sb_sctp_callbacks;

typedef struct sb_sctp_stats {
  uint64_t packets_in, packets_out;
  uint64_t malformed_packets;  /* failed the structural check: dropped before usrsctp */
  uint64_t malformed_dcep;     /* bad DCEP message, or OPEN on a stream in use */
  uint64_t unknown_channel;    /* data on a stream with no open channel */
  uint64_t oversized;          /* inbound messages over max-message-size */
  uint64_t messages_in, messages_out, bytes_in, bytes_out;
  uint64_t send_dropped;       /* refused: queue full, too big, or usrsctp error */
  uint64_t queued_bytes;       /* waiting for send space now */
  int channels;
} sb_sctp_stats;

/* Sets up usrsctp once per process (thread-safe). Returns 0 or -1. */
int sb_sctp_global_init(void);
/* At exit, after every association is freed: stops usrsctp's thread. */
void sb_sctp_global_cleanup(void);

/* dtls_client picks the stream ids we use for channels we open (RFC 8832 §6:
 * even for the DTLS client, odd for the server). port is a=sctp-port (both
 * ends use the same here). max_message is what the remote accepts (0: default). */
sb_sctp *sb_sctp_new(bool dtls_client, uint16_t port, uint32_t max_message, const char *name,
                     const sb_sctp_callbacks *cb, void *ud);
/* Connects (SCTP INIT); call once DTLS is up. Returns 0 or -1. */
int sb_sctp_start(sb_sctp *s);
/* One SCTP packet out of DTLS. */
void sb_sctp_input(sb_sctp *s, const uint8_t *buf, size_t len);
/* Aborts the association without callbacks and frees (any thread's jobs still
 * queued for it find it gone). */
void sb_sctp_free(sb_sctp *s);
bool sb_sctp_is_connected(const sb_sctp *s);

/* Opens a channel from our side (DCEP OPEN). Messages may be sent at once: they go
 * ordered until the remote acknowledges. Returns the stream id or -1. */
int sb_sctp_channel_open(sb_sctp *s, const char *label, const char *protocol, uint8_t type,
                         uint32_t reliability, uint16_t priority);
/* Sends one message. Returns 0, or -1 when the channel is unknown or closing, the
 * message is over the remote's max-message-size, or the send queue is full. */
int sb_sctp_send(sb_sctp *s, uint16_t id, bool binary, const uint8_t *buf, size_t len);
/* Closes a channel (outgoing stream reset); channel_closed follows once the remote
 * has reset its side too. */
void sb_sctp_channel_close(sb_sctp *s, uint16_t id);
/* The channel's description, or NULL when no such channel is open. */
const sb_dc_info *sb_sctp_channel(sb_sctp *s, uint16_t id);
void sb_sctp_get_stats(const sb_sctp *s, sb_sctp_stats *out);
/* The remote's max-message-size: larger messages are refused by sb_sctp_send. */
size_t sb_sctp_max_message(const sb_sctp *s);

/* Associations alive in the process (for leak checks and metrics). */
int sb_sctp_live_count(void);

#endif
