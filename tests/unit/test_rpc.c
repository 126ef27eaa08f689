/* The RPC client: an answer of megabytes (DHCP.List of ten thousand leases) is taken
 * whole; one past the bound is refused with the bound named. */
#include <limits.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "helpers.h"

#include "dhcp/rpc.h"

struct server {
	int listen_fd;
	size_t entries; /* in the answer's list */
	const char *raw; /* or this, sent as it is */
};

static void send_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		data += n;
		len -= (size_t)n;
	}
}

static void *serve_once(void *arg)
{
	struct server *s = arg;
	int fd = accept(s->listen_fd, NULL, NULL);
	char buf[4096];

	if (fd < 0)
		return NULL;
	while (recv(fd, buf, sizeof(buf), 0) > 0) /* the request, until the caller's shutdown */
		;
	if (s->raw) {
		send_all(fd, s->raw, strlen(s->raw));
	} else {
		json_t *list = json_array();
		for (size_t i = 0; i < s->entries; i++)
			json_array_append_new(list, json_pack("{s:s,s:I}", "containerID",
							      "0123456789abcdef0123456789abcdef0123456789abcdef", "n",
							      (json_int_t)i));
		json_t *answer = json_pack("{s:o}", "result", list);
		char *text = json_dumps(answer, JSON_COMPACT);
		send_all(fd, text, strlen(text));
		send_all(fd, "\n", 1);
		free(text);
		json_decref(answer);
	}
	close(fd);
	return NULL;
}

static char *start(struct server *s, pthread_t *thread)
{
	char *dir = temp_dir();
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/d.sock", dir);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->listen_fd >= 0);
	assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(s->listen_fd, 1), 0);
	assert_int_equal(pthread_create(thread, NULL, serve_once, s), 0);
	return dir;
}

static void a_list_of_megabytes_arrives_whole(void **state)
{
	struct server s = { .entries = 60000 };
	struct cni_error err = { 0 };
	json_t *params = json_object(), *result = NULL;
	pthread_t thread;
	char path[PATH_MAX];
	(void)state;

	char *dir = start(&s, &thread);
	snprintf(path, sizeof(path), "%s/d.sock", dir);
	assert_int_equal(rpc_call(path, "DHCP.List", params, 10000, &result, &err), 0);
	assert_int_equal(json_array_size(result), s.entries);
	pthread_join(thread, NULL);
	json_decref(result);
	json_decref(params);
	close(s.listen_fd);
	temp_dir_remove(dir);
}

static void an_answer_that_never_ends_is_cut_at_the_bound(void **state)
{
	struct server s = { .raw = NULL };
	struct cni_error err = { 0 };
	json_t *params = json_object(), *result = NULL;
	pthread_t thread;
	char path[PATH_MAX];
	size_t len = RPC_ANSWER_MAX + 16;
	char *huge = malloc(len + 1);
	(void)state;

	assert_non_null(huge);
	memset(huge, 'x', len);
	huge[len] = '\0';
	s.raw = huge;
	char *dir = start(&s, &thread);
	snprintf(path, sizeof(path), "%s/d.sock", dir);
	assert_int_equal(rpc_call(path, "DHCP.List", params, 30000, &result, &err), -1);
	assert_contains(err.msg, "larger than");
	assert_null(result);
	shutdown(s.listen_fd, SHUT_RDWR);
	pthread_join(thread, NULL);
	json_decref(params);
	close(s.listen_fd);
	free(huge);
	temp_dir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_list_of_megabytes_arrives_whole),
		cmocka_unit_test(an_answer_that_never_ends_is_cut_at_the_bound),
	};
	return cmocka_run_group_tests_name("rpc", tests, NULL, NULL);
}
