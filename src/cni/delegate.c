#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "delegate.h"
#include "json.h"
#include "util/macro.h"

extern char **environ;

#define OUTPUT_MAX (4u << 20)

char *cni_find_plugin(const char *type, const char *cni_path, struct cni_error *err)
{
	char candidate[PATH_MAX];
	struct stat st;

	for (const char *dir = cni_path; dir && *dir;) {
		size_t len = strcspn(dir, ":");
		if (len > 0 && snprintf(candidate, sizeof(candidate), "%.*s/%s", (int)len, dir, type) < (int)sizeof(candidate) &&
		    stat(candidate, &st) == 0 && S_ISREG(st.st_mode) && access(candidate, X_OK) == 0)
			return strdup(candidate);
		dir += len + (dir[len] == ':');
	}
	cni_error_set(err, CNI_ERR_IPAM, "IPAM plugin \"%s\" not found in CNI_PATH %s", type, cni_path ? cni_path : "(unset)");
	cni_error_details(err, "check ipam.type in the network configuration and that the plugin is installed, executable, "
			       "in one of those directories");
	return NULL;
}

/* This environment with CNI_COMMAND set to `command` (DEL after a failed ADD). */
static char **child_environment(enum cni_command command)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + 2, sizeof(char *));
	if (!env)
		return NULL;
	size_t out = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "CNI_COMMAND=", 12) != 0)
			env[out++] = environ[i];
	static char command_var[32];
	snprintf(command_var, sizeof(command_var), "CNI_COMMAND=%s", cni_command_name(command));
	env[out] = command_var;
	return env;
}

struct child {
	pid_t pid;
	int in_fd;  /* its stdin, we write */
	int out_fd; /* its stdout, we read */
};

static int spawn(char *path, char **env, struct child *child, struct cni_error *err)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	sigset_t sigpipe;
	char *argv[] = { path, NULL };
	int r;

	/* Our end of its stdin must not block: a plugin echoing a large stdin fills its stdout,
	 * which exchange() can drain only between writes. Its end stays blocking. */
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || fcntl(in[1], F_SETFL, O_NONBLOCK) < 0) {
		r = errno;
		goto fail;
	}
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
	/* exchange() ignores SIGPIPE in this process; the plugin starts with the default, as a
	 * runtime would start it. */
	posix_spawnattr_init(&attr);
	sigemptyset(&sigpipe);
	sigaddset(&sigpipe, SIGPIPE);
	posix_spawnattr_setsigdefault(&attr, &sigpipe);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
	r = posix_spawn(&child->pid, path, &actions, &attr, argv, env);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&actions);
	if (r != 0)
		goto fail;
	close(in[0]);
	close(out[1]);
	child->in_fd = in[1];
	child->out_fd = out[0];
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		closep(&in[i]);
		closep(&out[i]);
	}
	cni_error_set(err, CNI_ERR_IPAM, "cannot run IPAM plugin %s: %s", path, strerror(r));
	return -1;
}

struct buffer {
	char *data;
	size_t len;
	size_t cap;
};

static void write_some(struct child *child, const char *input, size_t input_len, size_t *written)
{
	ssize_t n = write(child->in_fd, input + *written, input_len - *written);

	if (n > 0)
		*written += (size_t)n;
	/* Done, or the plugin closed its stdin without reading: either way stop feeding. A full
	 * pipe (EAGAIN) waits for the next POLLOUT. */
	if ((n < 0 && errno != EAGAIN && errno != EINTR) || *written == input_len)
		closep(&child->in_fd);
}

static void read_some(struct child *child, struct buffer *out)
{
	if (out->cap - out->len < 2 && out->cap < OUTPUT_MAX) {
		char *grown = realloc(out->data, out->cap * 2);
		if (grown) {
			out->data = grown;
			out->cap *= 2;
		}
	}
	/* Keep one byte for the terminating NUL; past OUTPUT_MAX the rest is not read. */
	ssize_t n = out->cap - out->len > 1 ? read(child->out_fd, out->data + out->len, out->cap - out->len - 1) : 0;
	if (n <= 0)
		closep(&child->out_fd);
	else
		out->len += (size_t)n;
	out->data[out->len] = '\0';
}

/* Feeds stdin and drains stdout together, so neither side can block the other. */
static int exchange(struct child *child, const char *input, size_t input_len, struct buffer *out)
{
	size_t written = 0;

	*out = (struct buffer){ .data = calloc(1, 4096), .cap = 4096 };
	if (!out->data)
		return -ENOMEM;
	signal(SIGPIPE, SIG_IGN);
	if (input_len == 0)
		closep(&child->in_fd);
	while (child->out_fd >= 0) {
		struct pollfd fds[2] = { { .fd = child->out_fd, .events = POLLIN },
					 { .fd = child->in_fd, .events = POLLOUT } };
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (fds[1].revents)
			write_some(child, input, input_len, &written);
		if (fds[0].revents)
			read_some(child, out);
	}
	closep(&child->in_fd);
	return 0;
}

static int wait_child(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

/* A failed plugin prints {"code","msg","details"} on stdout: pass it on. */
static int relay_failure(const char *type, int status, const char *output, struct cni_error *err)
{
	json_auto_t *obj = json_loads(output, 0, NULL);
	json_t *code = json_object_get(obj, "code"), *msg = json_object_get(obj, "msg");

	if (json_is_integer(code) && json_is_string(msg) && json_integer_value(code) > 0) {
		cni_error_set(err, (int)json_integer_value(code), "IPAM plugin %s: %s", type, json_string_value(msg));
		json_t *details = json_object_get(obj, "details");
		if (json_is_string(details))
			cni_error_details(err, "%s", json_string_value(details));
	} else if (WIFSIGNALED(status)) {
		cni_error_set(err, CNI_ERR_IPAM, "IPAM plugin %s was killed by signal %d", type, WTERMSIG(status));
	} else {
		cni_error_set(err, CNI_ERR_IPAM, "IPAM plugin %s exited with status %d and printed no CNI error", type,
			      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		cni_error_details(err, "its stderr, above, may say why");
	}
	return -1;
}

static int parse_add_result(const struct cni_call *call, const char *output, struct cni_result *result,
			    struct cni_error *err)
{
	json_error_t jerr;
	json_auto_t *obj = json_loads(output, 0, &jerr);

	if (!obj) {
		cni_error_set(err, CNI_ERR_IPAM, "IPAM plugin %s printed a result that is not JSON: %s at line %d, column %d",
			      call->conf.ipam_type, jerr.text, jerr.line, jerr.column);
		return -1;
	}
	if (cni_result_parse(obj, call->conf.version, result, err) < 0) {
		cni_error_prefix(err, "IPAM plugin %s result", call->conf.ipam_type);
		return -1;
	}
	return 0;
}

int cni_ipam_exec(const struct cni_call *call, enum cni_command command, struct cni_result *result,
		  struct cni_error *err)
{
	const char *type = call->conf.ipam_type;
	_cleanup_free_ char *path = cni_find_plugin(type, call->env.path, err);
	_cleanup_free_ char **env = NULL;
	struct child child = { .in_fd = -1, .out_fd = -1 };
	struct buffer output = { 0 };

	if (!path)
		return -1;
	env = child_environment(command);
	if (!env)
		return cni_error_set(err, CNI_ERR_IO, "out of memory running IPAM plugin %s", type);
	if (spawn(path, env, &child, err) < 0)
		return -1;
	int r = exchange(&child, call->conf.raw, call->conf.raw_len, &output);
	closep(&child.in_fd);
	closep(&child.out_fd);
	int status = wait_child(child.pid);
	if (r < 0 || status < 0)
		r = cni_error_set(err, CNI_ERR_IO, "lost IPAM plugin %s while running %s", type, cni_command_name(command));
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		r = relay_failure(type, status, output.data, err);
	else if (command == CNI_CMD_ADD)
		r = parse_add_result(call, output.data, result, err);
	free(output.data);
	return r;
}
