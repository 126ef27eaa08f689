#include <stdint.h>
#include <string.h>

#include "macro.h"

void *array_append(void *items_ptr, size_t *count, size_t size)
{
	void **items = items_ptr;

	if (*count >= SIZE_MAX / size - 1)
		return NULL;
	char *grown = realloc(*items, (*count + 1) * size);
	if (!grown)
		return NULL;
	*items = grown;
	char *slot = grown + *count * size;
	memset(slot, 0, size);
	(*count)++;
	return slot;
}
