#include <errno.h>
#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/socket.h>

#include "rtnl/socket.h"
#include "netns/netns.h"

struct nl_sock *nl_route_socket(int netns)
{
	int saved = -1, r;
	struct nl_sock *sk = nl_socket_alloc();

	if (!sk) {
		errno = ENOMEM;
		return NULL;
	}
	if (netns >= 0 && (saved = netns_enter(netns)) < 0) {
		nl_socket_free(sk);
		errno = -saved;
		return NULL;
	}
	r = nl_connect(sk, NETLINK_ROUTE);
	if (saved >= 0)
		netns_leave(saved);
	if (r < 0) {
		nl_socket_free(sk);
		errno = -nl_errno(r);
		return NULL;
	}
	return sk;
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	(void)nla;
	*(int *)arg = e->error;
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	(void)msg;
	*(int *)arg = 0;
	return NL_STOP;
}

int nl_transact(struct nl_sock *sk, struct nl_msg *msg)
{
	int result = -EPROTO, r;
	/* nl_socket_get_cb() takes a reference: drop it once cloned, or the socket's
	 * callbacks outlive nl_socket_free(). */
	struct nl_cb *sk_cb = nl_socket_get_cb(sk);
	struct nl_cb *cb = sk_cb ? nl_cb_clone(sk_cb) : NULL;

	nl_cb_put(sk_cb);
	if (!cb)
		return -ENOMEM;
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &result);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &result);
	r = nl_send_auto(sk, msg);
	if (r >= 0)
		r = nl_recvmsgs(sk, cb);
	nl_cb_put(cb);
	/* The error callback stops the receive loop with libnl's own code; the
	 * kernel's errno is what it recorded. */
	return r < 0 && result == -EPROTO ? nl_errno(r) : result;
}

int nl_errno(int nl_error)
{
	switch (nl_error < 0 ? -nl_error : nl_error) {
	case NLE_SUCCESS: return 0;
	case NLE_NOMEM: return -ENOMEM;
	case NLE_PERM: return -EPERM;
	case NLE_EXIST: return -EEXIST;
	case NLE_INVAL: return -EINVAL;
	case NLE_RANGE: return -ERANGE;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case NLE_OBJ_NOTFOUND: return -ENOENT;
	case NLE_NODEV: return -ENODEV;
	case NLE_BUSY: return -EBUSY;
	case NLE_AF_NOSUPPORT: return -EAFNOSUPPORT;
	case NLE_NOADDR: return -EADDRNOTAVAIL;
	default: return -EIO;
	}
}
