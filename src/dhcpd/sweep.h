/* Pods deleted without a DEL: their network namespace file is gone, or holds another
 * namespace now. Their leases are released through the master. The kernel says when
 * a file goes from a directory it is asked to watch (inotify): the leases of a
 * namespace file of that name are checked then, at once, whatever the number of
 * leases. Namespaces no event reports (a /proc/PID/ns/net path, a full event queue)
 * are caught by a scan that looks at a bounded number of leases a second, every
 * lease at least once a minute. */
#pragma once

#include <stdint.h>

#include "dhcpd/leases.h"
#include "dhcpd/loop.h"

struct watched_dir;

struct sweep {
	struct leases *leases;
	struct loop *loop;
	struct loop_source events; /* inotify; fd -1 when the kernel gives none */
	struct watched_dir *dirs;  /* the directories of the leases' namespace files */
	uint64_t at;               /* the next step of the scan */
};

/* Watches the namespace directory of every lease `t` gets from now on: call it before
 * the saved leases are restored. */
void sweep_init(struct sweep *s, struct leases *t, struct loop *loop, uint64_t now);
void sweep_close(struct sweep *s);
/* UINT64_MAX while there is no lease to check. */
uint64_t sweep_deadline(const struct sweep *s);
void sweep_run(struct sweep *s, uint64_t now);
