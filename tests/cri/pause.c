/* The pod sandbox's only process, as Kubernetes' pause image has: it holds the
 * pod's namespaces and does nothing else. Built static at test time
 * (tests/cri/oci_image.py) and packed as the private containerd's sandbox_image,
 * since there is no registry to pull one from.
 *
 * PID 1 of its PID namespace: SIGINT and SIGTERM end it (the kernel ignores
 * signals PID 1 has no handler for), and it reaps any child reparented to it. */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig)
{
	(void)sig;
	_exit(0);
}

static void reap(int sig)
{
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int main(void)
{
	struct sigaction stop = { .sa_handler = quit };
	struct sigaction child = { .sa_handler = reap, .sa_flags = SA_NOCLDSTOP | SA_RESTART };

	if (sigaction(SIGINT, &stop, NULL) || sigaction(SIGTERM, &stop, NULL) ||
	    sigaction(SIGCHLD, &child, NULL))
		return 1;
	for (;;)
		pause();
}
