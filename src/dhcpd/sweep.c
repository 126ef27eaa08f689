#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "dhcpd/log.h"
#include "dhcpd/sweep.h"

#define SCAN_STEP_MS 1000
#define SCAN_CYCLE_STEPS 60 /* every lease looked at within a minute */
#define SCAN_STEP_MIN 16

struct watched_dir {
	struct watched_dir *next;
	int wd; /* -1: the kernel cannot watch it (/proc), the scan alone covers it */
	char path[];
};

static void check(struct lease_slot *slot, void *ctx)
{
	uint64_t now = *(const uint64_t *)ctx;

	/* An ADD still waiting for its lease is the pod's runtime at work. */
	if (slot->ended || slot->n_waiters || lease_pod_gone(slot->lease) || lease_pod_present(slot->lease))
		return;
	lease_lose_pod(slot->lease);
	lease_release(slot->lease, now, "its pod network namespace is gone");
}

static void on_events(struct loop_source *source, uint32_t events)
{
	struct sweep *s = source->data;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	uint64_t now = loop_now_ms();
	ssize_t n;
	(void)events;

	while ((n = read(source->fd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			if (ev->len) {
				log_debug("namespace file %s removed: checking the leases of pods in it", ev->name);
				leases_each_in_netns_named(s->leases, ev->name, check, &now);
			}
			if (ev->mask & IN_IGNORED) /* the directory went: watch it again when it is back */
				for (struct watched_dir *d = s->dirs; d; d = d->next)
					if (d->wd == ev->wd)
						d->wd = -2;
			if (ev->mask & IN_Q_OVERFLOW)
				log_warning("too many namespace file events at once: the scan catches the rest");
			p += sizeof(*ev) + ev->len;
		}
}

/* The kernel reports nothing for /proc (a /proc/PID/ns/net path): not asked. */
static int watch(const struct sweep *s, const char *dir)
{
	struct statfs fs;

	if (s->events.fd < 0 || (statfs(dir, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC))
		return -1;
	return inotify_add_watch(s->events.fd, dir, IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR);
}

/* The directory of the lease's namespace file, watched from now on (a handful of
 * directories: the runtimes' netns directories). */
static void watch_dir_of(struct sweep *s, const struct lease *lease)
{
	const char *path = lease_spec(lease)->netns_path, *slash = strrchr(path, '/');
	size_t len = slash && slash != path ? (size_t)(slash - path) : 1;
	struct watched_dir *d;

	for (d = s->dirs; d; d = d->next)
		if (strlen(d->path) == len && strncmp(d->path, path, len) == 0)
			break;
	if (d && d->wd != -2)
		return;
	if (!d) {
		if (!(d = malloc(sizeof(*d) + len + 1)))
			return;
		memcpy(d->path, path, len);
		d->path[len] = '\0';
		d->next = s->dirs;
		s->dirs = d;
	}
	d->wd = watch(s, d->path);
}

static void on_added(void *ctx, struct lease_slot *slot)
{
	watch_dir_of(ctx, slot->lease);
}

void sweep_init(struct sweep *s, struct leases *t, struct loop *loop, uint64_t now)
{
	*s = (struct sweep){ .leases = t, .loop = loop, .at = now + SCAN_STEP_MS };
	s->events = (struct loop_source){ .handler = on_events, .data = s };
	s->events.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->events.fd >= 0 && loop_add(loop, &s->events, EPOLLIN) < 0) {
		close(s->events.fd);
		s->events.fd = -1;
	}
	if (s->events.fd < 0)
		log_warning("no inotify (%s): pods deleted without a DEL are found by the scan, within a minute",
			    strerror(errno));
	leases_on_add(t, on_added, s);
}

void sweep_close(struct sweep *s)
{
	while (s->dirs) {
		struct watched_dir *d = s->dirs;
		s->dirs = d->next;
		free(d);
	}
	if (s->events.fd >= 0) {
		loop_remove(s->loop, &s->events);
		close(s->events.fd);
	}
}

uint64_t sweep_deadline(const struct sweep *s)
{
	return s->leases->count ? s->at : UINT64_MAX;
}

void sweep_run(struct sweep *s, uint64_t now)
{
	size_t count = s->leases->count, n = count / SCAN_CYCLE_STEPS + 1;

	if (now < sweep_deadline(s))
		return;
	if (n < SCAN_STEP_MIN)
		n = SCAN_STEP_MIN;
	for (size_t i = 0; i < n && i < count; i++) {
		struct lease_slot *slot = leases_scan_next(s->leases);
		if (!slot)
			break;
		watch_dir_of(s, slot->lease);
		check(slot, &now);
	}
	s->at = now + SCAN_STEP_MS;
}
