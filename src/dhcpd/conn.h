/* A caller's connection: one request line in, one answer line out (docs/dhcp-rpc.md).
 * Counted references: whoever waits to answer a caller (a lease being acquired) holds
 * one, so a caller that hangs up meanwhile leaves nothing dangling. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cni/error.h"
#include "dhcpd/loop.h"

struct conn;
/* The request is in: answer it now or later with conn_reply. */
typedef void (*conn_request_fn)(void *ctx, struct conn *conn, json_t *request);

/* Takes `fd` (non-blocking) and starts reading; one reference, the caller's. */
struct conn *conn_new(struct loop *loop, int fd, conn_request_fn on_request, void *ctx);
struct conn *conn_ref(struct conn *conn);
void conn_unref(struct conn *conn);
/* Stops reading and writing and closes the socket; the memory goes with the last
 * reference. */
void conn_close(struct conn *conn);

/* Who called (SO_PEERCRED), as the server found it: root may ask anything, a member
 * of the socket's group less (docs/security.md). */
void conn_set_caller(struct conn *conn, uid_t uid);
bool conn_caller_is_root(const struct conn *conn);

/* Sends `response` (its reference is taken) and ends the call; a no-op once the call
 * has ended (answered, or the caller hung up). */
void conn_reply(struct conn *conn, json_t *response);
void conn_reply_error(struct conn *conn, const struct cni_error *err);
/* When its request was in (loop_now_ms): how long the answer took. */
uint64_t conn_requested_at(const struct conn *conn);
/* The answer has left, or the caller hung up: nothing more happens on it. */
bool conn_finished(const struct conn *conn);
/* When a caller that stalls (sending its request, or taking its answer) is hung up
 * on; UINT64_MAX while its answer is being worked on. */
uint64_t conn_deadline(const struct conn *conn);
/* Past its deadline: finished. */
void conn_expire(struct conn *conn, uint64_t now);
