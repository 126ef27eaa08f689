/* The floor's program: the least a plugin or a daemon can be.
 *
 *   floor                  exits 0 at once: the trivial program a plugin run is
 *                          compared with (any other arguments: the same)
 *   floor spawn N          runs `floor` N times (fork, exec, wait), prints the
 *                          median wall time of one run and the mean CPU time of
 *                          the child, in ns: "wall_ns cpu_ns"
 *   floor idle SOCKET      a daemon that does nothing: listens on a unix socket
 *                          and blocks; its resident memory is the idle floor
 *
 * Built static (gcc -O2 -static) like the plugins it stands in for.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long children_cpu_ns(void)
{
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

static int spawn(int n)
{
	if (n < 1 || n > 100000)
		return 2;
	long long *wall = calloc((size_t)n, sizeof *wall);
	if (!wall)
		return 1;
	char self[4096];
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
	if (len < 0)
		return 1;
	self[len] = '\0';
	long long cpu_before = children_cpu_ns();
	for (int i = 0; i < n; i++) {
		long long start = now_ns();
		pid_t pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			char *argv[] = {self, NULL};
			execv(self, argv);
			_exit(127);
		}
		int status;
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			return 1;
		wall[i] = now_ns() - start;
	}
	long long cpu = (children_cpu_ns() - cpu_before) / n;
	qsort(wall, (size_t)n, sizeof *wall, cmp_ll);
	printf("%lld %lld\n", wall[n / 2], cpu);
	free(wall);
	return 0;
}

static int idle(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof addr.sun_path)
		return 2;
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 16) < 0)
		return 1;
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "spawn") == 0)
		return spawn(atoi(argv[2]));
	if (argc == 3 && strcmp(argv[1], "idle") == 0)
		return idle(argv[2]);
	return 0;
}
