#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "dhcpd/lease/lease.h"
#include "dhcpd/log.h"
#include "dhcpd/metrics.h"
#include "dhcpd/metrics_http.h"
#include "util/macro.h"
#include "util/version.h"

/* A request is a line and a few headers; a scraper that sends more, or holds a
 * connection longer, is not a Prometheus. */
#define REQUEST_MAX 4096
#define SCRAPES_MAX 16
#define SCRAPE_TIMEOUT_MS 10000

struct scrape {
	struct metrics_http *http;
	struct loop_source src;
	struct scrape *next;
	uint64_t started;
	char request[REQUEST_MAX];
	size_t request_len;
	char *answer; /* the whole HTTP response */
	size_t answer_len, answer_sent;
};

/* ---- the address ---- */

union listen_addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_un un;
};

static int parse_address(const char *text, union listen_addr *out, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(text, ':');
	char *end;

	*out = (union listen_addr){ 0 };
	if (text[0] == '/') {
		if (strlen(text) >= sizeof(out->un.sun_path))
			return -EINVAL;
		out->un.sun_family = AF_UNIX;
		strcpy(out->un.sun_path, text);
		*len = sizeof(out->un);
		return 0;
	}
	if (!colon || (size_t)(colon - text) >= sizeof(host))
		return -EINVAL;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end || port == 0 || port > 65535)
		return -EINVAL;
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	size_t host_len = strlen(host);
	if (host[0] == '[' && host_len > 2 && host[host_len - 1] == ']') {
		host[host_len - 1] = '\0';
		out->in6.sin6_family = AF_INET6;
		out->in6.sin6_port = htons((uint16_t)port);
		*len = sizeof(out->in6);
		return inet_pton(AF_INET6, host + 1, &out->in6.sin6_addr) == 1 ? 0 : -EINVAL;
	}
	out->in.sin_family = AF_INET;
	out->in.sin_port = htons((uint16_t)port);
	*len = sizeof(out->in);
	return inet_pton(AF_INET, host, &out->in.sin_addr) == 1 ? 0 : -EINVAL;
}

int metrics_http_check_address(const char *address, char *why, size_t why_len)
{
	union listen_addr addr;
	socklen_t len;

	if (parse_address(address, &addr, &len) == 0)
		return 0;
	snprintf(why, why_len, "\"%s\" is neither ADDRESS:PORT (127.0.0.1:9153, [::1]:9153, 0.0.0.0:9153) nor an "
			       "absolute path of a unix socket",
		 address);
	return -EINVAL;
}

/* ---- what a scrape reads ---- */

static void write_leases(FILE *out, const struct leases *t)
{
	size_t by_state[DHCP_STATE_REBINDING + 1] = { 0 };

	for (const struct lease_slot *slot = t->slots; slot; slot = slot->next)
		if (!slot->ended)
			by_state[lease_state(slot->lease)]++;
	fputs("# HELP cni_dhcp_leases Leases the daemon holds, by the state of their DHCP client.\n"
	      "# TYPE cni_dhcp_leases gauge\n",
	      out);
	for (size_t s = 0; s < ARRAY_SIZE(by_state); s++)
		fprintf(out, "cni_dhcp_leases{state=\"%s\"} %zu\n", dhcp_client_state_name((enum dhcp_client_state)s),
			by_state[s]);
}

static size_t open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	size_t n = 0;

	for (struct dirent *e; d && (e = readdir(d));)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n ? n - 1 : 0; /* not the directory's own */
}

static unsigned long long resident_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "re");
	unsigned long long size = 0, resident = 0;

	if (f && fscanf(f, "%llu %llu", &size, &resident) != 2)
		resident = 0;
	if (f)
		fclose(f);
	return resident * (unsigned long long)sysconf(_SC_PAGESIZE);
}

static void write_process(FILE *out)
{
	struct mallinfo2 heap = mallinfo2();

	fprintf(out,
		"# HELP process_open_fds Number of open file descriptors.\n# TYPE process_open_fds gauge\n"
		"process_open_fds %zu\n"
		"# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
		"# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %llu\n"
		"# HELP cni_dhcp_heap_bytes Heap in use by the daemon (what its leases cost).\n"
		"# TYPE cni_dhcp_heap_bytes gauge\ncni_dhcp_heap_bytes %zu\n"
		"# HELP cni_dhcp_build_info The daemon's release.\n# TYPE cni_dhcp_build_info gauge\n"
		"cni_dhcp_build_info{version=\"%s\"} 1\n",
		open_fds(), resident_bytes(), heap.uordblks + heap.hblkhd, cnt_version);
}

/* The response, or NULL when out of memory. */
static char *respond(const struct scrape *s, size_t *len)
{
	char *body = NULL, *answer = NULL;
	size_t body_len = 0;
	bool found = strncmp(s->request, "GET /metrics ", 13) == 0 || strncmp(s->request, "GET / ", 6) == 0;
	FILE *out = open_memstream(&body, &body_len);

	if (!out)
		return NULL;
	if (found) {
		write_leases(out, s->http->leases);
		metrics_write(out);
		write_process(out);
	} else {
		fputs("only GET /metrics is served here\n", out);
	}
	if (fclose(out) != 0) {
		free(body);
		return NULL;
	}
	int n = asprintf(&answer,
			 "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 found ? "200 OK" : "404 Not Found", body_len, body);
	free(body);
	*len = n < 0 ? 0 : (size_t)n;
	return n < 0 ? NULL : answer;
}

/* ---- connections ---- */

static void scrape_close(struct scrape *s)
{
	struct metrics_http *h = s->http;

	for (struct scrape **p = &h->scrapes; *p; p = &(*p)->next) {
		if (*p == s) {
			*p = s->next;
			break;
		}
	}
	h->n_scrapes--;
	loop_remove(h->loop, &s->src);
	close(s->src.fd);
	free(s->answer);
	free(s);
}

static void send_answer(struct scrape *s)
{
	while (s->answer_sent < s->answer_len) {
		ssize_t n = send(s->src.fd, s->answer + s->answer_sent, s->answer_len - s->answer_sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN) {
			loop_modify(s->http->loop, &s->src, EPOLLOUT);
			return;
		}
		if (n <= 0)
			break;
		s->answer_sent += (size_t)n;
	}
	scrape_close(s);
}

static bool request_complete(const struct scrape *s)
{
	return memmem(s->request, s->request_len, "\r\n\r\n", 4) || memmem(s->request, s->request_len, "\n\n", 2);
}

static void on_scrape(struct loop_source *source, uint32_t events)
{
	struct scrape *s = source->data;

	if (s->answer) {
		send_answer(s);
		return;
	}
	ssize_t n = recv(s->src.fd, s->request + s->request_len, sizeof(s->request) - 1 - s->request_len,
			 MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN && !(events & (EPOLLHUP | EPOLLERR)))
		return;
	if (n <= 0 || (s->request_len += (size_t)n) == sizeof(s->request) - 1) {
		scrape_close(s);
		return;
	}
	s->request[s->request_len] = '\0';
	if (!request_complete(s))
		return;
	if (!(s->answer = respond(s, &s->answer_len))) {
		scrape_close(s);
		return;
	}
	send_answer(s);
}

/* Scrapers that stalled give their place to new ones; past SCRAPES_MAX the newest is
 * turned away. */
static void drop_stalled(struct metrics_http *h, uint64_t now)
{
	struct scrape *s = h->scrapes;

	while (s) {
		struct scrape *next = s->next;
		if (now - s->started > SCRAPE_TIMEOUT_MS)
			scrape_close(s);
		s = next;
	}
}

static void on_listener(struct loop_source *source, uint32_t events)
{
	struct metrics_http *h = source->data;
	(void)events;

	int fd = accept4(h->listener.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	drop_stalled(h, loop_now_ms());
	struct scrape *s = h->n_scrapes < SCRAPES_MAX ? calloc(1, sizeof(*s)) : NULL;
	if (!s) {
		close(fd);
		return;
	}
	*s = (struct scrape){
		.http = h,
		.src = { .fd = fd, .handler = on_scrape, .data = s },
		.started = loop_now_ms(),
	};
	if (loop_add(h->loop, &s->src, EPOLLIN) < 0) {
		close(fd);
		free(s);
		return;
	}
	s->next = h->scrapes;
	h->scrapes = s;
	h->n_scrapes++;
}

/* A socket file left by an earlier run; nothing else at the path is touched (bind
 * then says why it cannot listen there). */
static void remove_stale_socket(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
}

int metrics_http_start(struct metrics_http *h, struct loop *loop, const struct leases *leases, const char *address)
{
	union listen_addr addr;
	socklen_t len;
	int one = 1;

	*h = (struct metrics_http){ .loop = loop, .leases = leases, .listener = { .fd = -1 } };
	if (parse_address(address, &addr, &len) < 0)
		return -EINVAL;
	int fd = socket(addr.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (addr.sa.sa_family == AF_UNIX)
		remove_stale_socket(addr.un.sun_path);
	else
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	h->listener = (struct loop_source){ .fd = fd, .handler = on_listener, .data = h };
	if (bind(fd, &addr.sa, len) < 0 || listen(fd, SCRAPES_MAX) < 0 ||
	    loop_add(loop, &h->listener, EPOLLIN) < 0) {
		int r = -errno;
		close(fd);
		h->listener.fd = -1;
		return r;
	}
	return 0;
}

void metrics_http_stop(struct metrics_http *h)
{
	while (h->scrapes)
		scrape_close(h->scrapes);
	if (h->listener.fd >= 0) {
		loop_remove(h->loop, &h->listener);
		close(h->listener.fd);
		h->listener.fd = -1;
	}
}
