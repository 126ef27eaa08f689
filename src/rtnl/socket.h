/* rtnetlink sockets bound to a network namespace, and requests that report the
 * kernel's exact errno (libnl folds errnos into its own coarser codes). */
#pragma once

#include <netlink/msg.h>
#include <netlink/netlink.h>

/* A NETLINK_ROUTE socket for `netns` (an fd; -1 = the current namespace). A netlink
 * socket stays bound to the namespace it was created in. NULL with errno set on failure. */
struct nl_sock *nl_route_socket(int netns);

static inline void nl_socket_freep(struct nl_sock **sk)
{
	if (*sk)
		nl_socket_free(*sk);
}
#define _cleanup_nl_sock_ __attribute__((cleanup(nl_socket_freep)))

static inline void nlmsg_freep(struct nl_msg **msg)
{
	if (*msg)
		nlmsg_free(*msg);
}
#define _cleanup_nlmsg_ __attribute__((cleanup(nlmsg_freep)))

/* Sends `msg`, waits for the kernel's answer; 0 or -errno. Does not free msg. */
int nl_transact(struct nl_sock *sk, struct nl_msg *msg);

/* libnl's -NLE_* as the nearest -errno, for messages. */
int nl_errno(int nl_error);
