#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "install/files.h"
#include "install/sources.h"

static int open_source(const char *path, const char *what, const char *check)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		fprintf(stderr, "cni-install: cannot open %s %s: %s; check %s\n", what, path, strerror(errno), check);
	return fd;
}

static void nothing_open(struct sources *s)
{
	s->conf = -1;
	for (int i = 0; i < INSTALL_PLUGIN_COUNT; i++)
		s->bin[i] = -1;
}

void sources_close(struct sources *s)
{
	for (int i = 0; i < INSTALL_PLUGIN_COUNT; i++)
		if (s->bin[i] >= 0)
			close(s->bin[i]);
	if (s->conf >= 0)
		close(s->conf);
	nothing_open(s);
}

int sources_open(const struct install_options *o, struct sources *s)
{
	nothing_open(s);
	for (int i = 0; i < INSTALL_PLUGIN_COUNT; i++) {
		if (o->skip[i])
			continue;
		if (!file_join(s->bin_path[i], o->bin_source, install_plugins[i]) ||
		    (s->bin[i] = open_source(s->bin_path[i], "the plugin", "--bin-source")) < 0)
			goto fail;
	}
	if (o->conf_source && (s->conf = open_source(o->conf_source, "the network configuration",
						     "--conf-source and the volume it is on")) < 0)
		goto fail;
	return 0;
fail:
	sources_close(s);
	return -1;
}
