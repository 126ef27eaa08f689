/* Small helpers every file may use: scope-bound cleanup and array sizes. */
#pragma once

#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p) { free(*(void **)p); }
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}
#define _cleanup_close_ _cleanup_(closep)

/* Hands ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p)                                  \
	({                                           \
		__typeof__(p) taken_ = (p);          \
		(p) = NULL;                          \
		taken_;                              \
	})
#define TAKE_FD(fd)                                  \
	({                                           \
		int taken_ = (fd);                   \
		(fd) = -1;                           \
		taken_;                              \
	})

/* Grows *items (of *count elements) by one zeroed element; returns it or NULL. */
void *array_append(void *items_ptr, size_t *count, size_t size);
