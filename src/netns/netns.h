/* Network namespaces: open one by path and do work inside it. */
#pragma once

/* Opens a namespace file (/run/netns/X, /proc/PID/ns/net); -errno on failure, -EINVAL
 * when the path is not a network namespace (e.g. a file whose namespace mount is gone). */
int netns_open(const char *path);
/* The namespace this thread is in now. */
int netns_open_current(void);

/* Switches this thread to `target` and returns an fd of where it was (pass it to
 * netns_leave), or -errno. */
int netns_enter(int target);
/* Switches back and closes `saved`. Failing to get back is fatal: continuing in the
 * wrong namespace would change the wrong network. */
void netns_leave(int saved);

/* Writes `value` to /proc/sys/<key> as seen from inside `netns` (/proc/sys/net is
 * per namespace of the opener). */
int netns_sysctl_write(int netns, const char *key, const char *value);
