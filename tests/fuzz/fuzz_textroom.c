/* libFuzzer target for plugins/textroom/protocol: the input is one data channel
 * message. A request that parses has the fields its type needs, a room name that
 * passes the check, and a response can be built for it; one that does not has a
 * message saying why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "core/session.h"
#include "plugins/textroom/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond) {
  if (!cond)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tr_request q;
  char *msg = NULL;
  int rc = tr_request_parse(data, size, 4096, &q, &msg);
  if (rc == 0) {
    check(msg == NULL);
    check(q.root != NULL);
    check(q.room == NULL || tr_room_name_valid(q.room));
    if (q.type == TR_REQ_JOIN)
      check(q.room != NULL);
    if (q.type == TR_REQ_MESSAGE)
      check(q.text != NULL && q.text[0] != '\0');
    if (q.type == TR_REQ_KICK)
      check(q.id != NULL);
  } else {
    check(msg != NULL && msg[0] != '\0');
    check(size > 4096 ? rc == SB_ERR_TOO_LARGE : rc != SB_ERR_TOO_LARGE);
  }
  json_t *reply = rc == 0 ? tr_success(q.transaction) : tr_error(q.transaction, rc, msg);
  char *text = json_dumps(reply, JSON_COMPACT);
  check(text != NULL);
  free(text);
  json_decref(reply);
  g_free(msg);
  tr_request_clear(&q);
  return 0;
}
