// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * metrics.c - the metrics file (metrics.h): the Prometheus form of stats_out.h into a
 * temporary file beside PATH (mode 0644: counters, no secrets), renamed over PATH.
 * Called by live.c's housekeeper under the exec lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "metrics.h"

int metrics_write(const char *path, void (*produce)(struct stats_out *o, void *arg),
		  void *arg)
{
	struct stats_out o;
	char *tmp = NULL;
	FILE *f;
	int fd, err = 0;

	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		free(tmp);
		return err;
	}
	stats_out_init(&o, f, STATS_PROM);
	produce(&o, arg);
	err = stats_out_finish(&o);
	if (fflush(f) || ferror(f))
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	free(tmp);
	return err;
}
