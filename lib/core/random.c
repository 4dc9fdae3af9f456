/* random.c - cryptographic random bytes from the kernel. */
#include <errno.h>
#include <sys/random.h>

#include "core/core.h"

/* Fills buf with len random bytes; PINGOO_ERR_IO if the kernel refuses. */
enum pingoo_err
pingoo_random(void *buf, size_t len)
{
	unsigned char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return PINGOO_ERR_IO;
		}
		p += n;
		len -= (size_t)n;
	}
	return PINGOO_OK;
}
