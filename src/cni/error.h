/* CNI errors: the code and message a plugin prints on stdout when it fails. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>

/* Error codes from SPEC.md "Error" section; 100 and up are ours. */
enum cni_code {
	CNI_OK = 0,
	CNI_ERR_INCOMPATIBLE_VERSION = 1,
	CNI_ERR_UNSUPPORTED_FIELD = 2,
	CNI_ERR_UNKNOWN_CONTAINER = 3,
	CNI_ERR_INVALID_ENV = 4,
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6,
	CNI_ERR_INVALID_CONFIG = 7,
	CNI_ERR_TRY_AGAIN = 11,
	CNI_ERR_NOT_AVAILABLE = 50,
	CNI_ERR_LIMITED_CONNECTIVITY = 51,
	/* plugin-specific */
	CNI_ERR_NETLINK = 100,    /* the kernel refused a link, address or route change */
	CNI_ERR_NETNS = 101,      /* the container's network namespace cannot be entered */
	CNI_ERR_IPAM = 102,       /* the IPAM plugin could not be run or gave no usable result */
	CNI_ERR_CHECK_FAILED = 103, /* CHECK found the container's network not as ADD left it */
	CNI_ERR_DHCP = 104,       /* no lease could be had from the DHCP server */
	CNI_ERR_DAEMON = 105,     /* the dhcp daemon cannot be reached or refused the call */
	CNI_ERR_NOT_IMPLEMENTED = 106,
};

#define CNI_MSG_MAX 512
#define CNI_DETAILS_MAX 1024

struct cni_error {
	int code;
	char msg[CNI_MSG_MAX];
	char details[CNI_DETAILS_MAX];
	/* The last cni_error_set was dropped (an error was already recorded): the details that
	 * follow it describe the dropped error, not the recorded one, so they are dropped too. */
	bool dropping;
};

/* Records the first error only: later calls keep what caused the failure. Returns -1. */
__attribute__((format(printf, 3, 4)))
int cni_error_set(struct cni_error *err, int code, const char *fmt, ...);

__attribute__((format(printf, 2, 3)))
void cni_error_details(struct cni_error *err, const char *fmt, ...);

/* Puts context in front of an already recorded message: "delegating to IPAM: <msg>". */
__attribute__((format(printf, 2, 3)))
void cni_error_prefix(struct cni_error *err, const char *fmt, ...);

void cni_error_clear(struct cni_error *err);
