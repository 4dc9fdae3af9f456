/* test-file.c - whole files into memory, and the limit that refuses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "../tap.h"

int
main(void)
{
	char path[] = "/tmp/pingoo-test-file-XXXXXX", *buf;
	size_t len = 99;
	FILE *f;
	int fd;

	if ((fd = mkstemp(path)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		printf("1..0 # SKIP no temporary file\n");
		return 0;
	}
	fputs("0123456789", f);
	fclose(f);
	buf = pingoo_slurp(path, 10, &len);
	ok(buf != NULL && len == 10 && strcmp(buf, "0123456789") == 0,
	    "a file of exactly max bytes is read whole and NUL-terminated");
	free(buf);
	errno = 0;
	ok(pingoo_slurp(path, 9, &len) == NULL && errno == EFBIG,
	    "a file one byte past max is refused with EFBIG, not cut");
	unlink(path);
	errno = 0;
	ok(pingoo_slurp(path, 10, &len) == NULL && errno == ENOENT,
	    "a missing file says ENOENT");
	return tap_done();
}
