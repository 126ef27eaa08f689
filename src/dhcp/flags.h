/* Command-line flags the Go way, as the reference's daemon takes them: -name value,
 * -name=value, --name value; a boolean flag stands alone or says =true. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct flag_reader {
	int argc;
	char **argv;
	int i;
	const char *command; /* "dhcp daemon": how errors begin */
	char name[64];       /* the flag without dashes */
	const char *value;   /* from "=value", or NULL */
};

/* Reads argv[1..]: starts after the command name. */
void flag_reader_init(struct flag_reader *r, int argc, char **argv, const char *command);
/* Advances to the next flag; false at the end. An argument that is not a flag comes
 * back whole as its name, to be reported as unknown. */
bool flag_next(struct flag_reader *r);
bool flag_is(const struct flag_reader *r, const char *name);
/* The flag's value (=value, or the next argument); NULL, with the error printed,
 * when there is none. */
const char *flag_value(struct flag_reader *r);
/* -flag, -flag=true, -flag=1 */
bool flag_bool(const struct flag_reader *r);
/* A positive Go duration ("10s", "1m30s") within the flag's bound: 1h for -timeout
 * and -resendmax (retransmission waits), 24h for -resendtimeout and any other
 * (DURATION_MAX_*); -1, with the error printed, otherwise. */
int flag_duration(struct flag_reader *r, int64_t *ms);
