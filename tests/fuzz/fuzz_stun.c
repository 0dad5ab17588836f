/* libFuzzer target for STUN as it reaches us from the network. Switchboard does
 * not parse STUN itself: media/ice.c hands every datagram to libnice, whose ICE
 * agent runs it through these entry points of its STUN library (Debian's
 * libnice-dev, <stun/...>), in this order, before any of our code sees a packet:
 *   stun_message_validate_buffer_length   is it a whole STUN message?
 *   stun_agent_validate                   attributes known, FINGERPRINT, and
 *                                         MESSAGE-INTEGRITY (short-term credentials,
 *                                         a validater that maps USERNAME to a password)
 *   stun_usage_ice_conncheck_priority / _use_candidate, stun_message_find*
 *                                         reading a connectivity check
 *   stun_usage_ice_conncheck_create_reply the answer to a check (or its error)
 *   stun_usage_ice_conncheck_process      reading a response's mapped address
 * The agent is set up as ours is (RFC 5245 compatibility: RFC 5389 STUN,
 * short-term credentials, FINGERPRINT). What this covers: crashes and memory
 * errors in that parsing on arbitrary datagrams (ASan's interceptors and the
 * checks below). What it does not: libnice is not built with coverage, so the
 * search is guided only by what reaches our side, and libnice's own state
 * machine (conncheck lists, timers) is not driven. Seeds: tests/fuzz/corpus/stun
 * (a binding request with and without credentials, a success response, an error). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond) {
  if (!cond)
    abort();
}

/* What libnice's agent knows (agent.c known_attributes, RFC 5389/5245). */
static const uint16_t known_attributes[] = {
  STUN_ATTRIBUTE_MAPPED_ADDRESS, STUN_ATTRIBUTE_USERNAME, STUN_ATTRIBUTE_MESSAGE_INTEGRITY,
  STUN_ATTRIBUTE_ERROR_CODE, STUN_ATTRIBUTE_UNKNOWN_ATTRIBUTES, STUN_ATTRIBUTE_REALM,
  STUN_ATTRIBUTE_NONCE, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, STUN_ATTRIBUTE_PRIORITY,
  STUN_ATTRIBUTE_USE_CANDIDATE, STUN_ATTRIBUTE_ICE_CONTROLLED, STUN_ATTRIBUTE_ICE_CONTROLLING,
  STUN_ATTRIBUTE_FINGERPRINT, STUN_ATTRIBUTE_SOFTWARE, 0,
};

static uint8_t username[] = "srvufrag:cliufrag";
static uint8_t password[] = "serverpasswordserverpass";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int len = stun_message_validate_buffer_length(data, size, true);
  if (len <= 0)
    return 0;
  check((size_t)len <= size);

  StunAgent agent;
  stun_agent_init(&agent, known_attributes, STUN_COMPATIBILITY_RFC5389,
                  STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
  StunDefaultValidaterData creds[] = {
    { username, sizeof username - 1, password, sizeof password - 1 },
    { NULL, 0, NULL, 0 },
  };
  /* A copy of exactly the message: the library may not read past it, and the
   * fuzzer's input stays untouched whatever the library does to its buffer. */
  uint8_t *buf = malloc((size_t)len);
  memcpy(buf, data, (size_t)len);
  StunMessage msg;
  StunValidationStatus st = stun_agent_validate(&agent, &msg, buf, (size_t)len, stun_agent_default_validater, creds);
  if (st == STUN_VALIDATION_NOT_STUN || st == STUN_VALIDATION_INCOMPLETE_STUN) {
    free(buf);
    return 0;
  }
  check(stun_message_length(&msg) <= (size_t)len);

  /* Read it as the agent reads a check or a response. */
  uint16_t alen = 0;
  const void *u = stun_message_find(&msg, STUN_ATTRIBUTE_USERNAME, &alen);
  check(u == NULL || (const uint8_t *)u + alen <= buf + len);
  char text[256];
  stun_message_find_string(&msg, STUN_ATTRIBUTE_SOFTWARE, text, sizeof text);
  uint32_t v32;
  uint64_t v64;
  int code;
  stun_message_find32(&msg, STUN_ATTRIBUTE_PRIORITY, &v32);
  stun_message_find64(&msg, STUN_ATTRIBUTE_ICE_CONTROLLING, &v64);
  stun_message_find64(&msg, STUN_ATTRIBUTE_ICE_CONTROLLED, &v64);
  stun_message_find_error(&msg, &code);
  (void)stun_usage_ice_conncheck_priority(&msg);
  (void)stun_usage_ice_conncheck_use_candidate(&msg);
  struct sockaddr_storage addr;
  socklen_t addrlen = sizeof addr;
  stun_message_find_xor_addr(&msg, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, &addr, &addrlen);

  if (stun_message_get_class(&msg) == STUN_REQUEST && st == STUN_VALIDATION_SUCCESS) {
    /* Answer it as a controlled agent answers a check from 127.0.0.1:5000. */
    struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = htons(5000) };
    src.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    memcpy(&ss, &src, sizeof src);
    uint8_t out[1500];
    size_t out_len = sizeof out;
    StunMessage reply;
    bool control = false;
    stun_usage_ice_conncheck_create_reply(&agent, &msg, &reply, out, &out_len, &ss, sizeof src, &control,
                                          0x1234567890abcdefULL, STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
    check(out_len <= sizeof out);
  } else if (stun_message_get_class(&msg) == STUN_RESPONSE || stun_message_get_class(&msg) == STUN_ERROR) {
    addrlen = sizeof addr;
    stun_usage_ice_conncheck_process(&msg, &addr, &addrlen, STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
    check(addrlen <= sizeof addr);
  }
  free(buf);
  return 0;
}
