/* map.c - memory shared by a host's worker processes: mapped before the
 * supervisor forks, so every child sees the same pages. */
#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shm/shm.h"

void *
pingoo_shm_map(size_t len)
{
	void *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void
pingoo_shm_prefault(const void *base, size_t len)
{
	const volatile unsigned char *p = base;
	size_t i, page = (size_t)sysconf(_SC_PAGESIZE);

	for (i = 0; i < len; i += page)
		(void)p[i];
}
