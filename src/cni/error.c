#include <stdio.h>
#include <string.h>

#include "error.h"

int cni_error_set(struct cni_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	err->dropping = err->code != CNI_OK;
	if (err->dropping)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	err->details[0] = '\0';
	return -1;
}

void cni_error_details(struct cni_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err->dropping)
		return;
	va_start(ap, fmt);
	vsnprintf(err->details, sizeof(err->details), fmt, ap);
	va_end(ap);
}

void cni_error_prefix(struct cni_error *err, const char *fmt, ...)
{
	char prefix[CNI_MSG_MAX], old[CNI_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
}

void cni_error_clear(struct cni_error *err)
{
	err->code = CNI_OK;
	err->msg[0] = '\0';
	err->details[0] = '\0';
	err->dropping = false;
}
