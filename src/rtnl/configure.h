/* Puts a CNI result on an interface: addresses, link up, routes (what the reference's
 * ipam.ConfigureIface does), and checks that they are still there (CHECK). */
#pragma once

#include "cni/error.h"
#include "cni/result.h"
#include "rtnl/link.h"

/* Sets `link` up; explains a MAC address clash (EADDRINUSE). */
int configure_link_up(struct nl_sock *sk, const struct link_info *link, const char *where, struct cni_error *err);

/* `sk` and `netns` are the container's; `where` names the namespace in messages. */
int configure_interface(struct nl_sock *sk, int netns, const struct link_info *link, const struct cni_result *result,
			const char *where, struct cni_error *err);

/* Every address of `result` listed for interface `result_index` is on `link` with its
 * prefix route, and every route of `result` is present. */
int check_interface_config(struct nl_sock *sk, const struct link_info *link, const struct cni_result *result,
			   int result_index, struct cni_error *err);
