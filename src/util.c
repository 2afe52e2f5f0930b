/* util.c — private helpers: files, time, one-time libsodium initialisation. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "mycel/error.h"
#include "util.h"

int mycel__fail(int code, char *why, size_t why_len, const char *fmt, ...)
{
	if (why != NULL && why_len > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, why_len, fmt, ap);
		va_end(ap);
	}
	return code;
}

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_rv;

static void do_sodium_init(void)
{
	sodium_rv = sodium_init() < 0 ? -1 : 0;
}

int mycel__sodium_init(void)
{
	pthread_once(&sodium_once, do_sodium_init);
	return sodium_rv;
}

int mycel__write_all(int fd, const void *p, size_t n)
{
	const uint8_t *c = p;
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

void mycel__fsync_dir(const char *path)
{
	char tmp[4096];
	if (strlen(path) >= sizeof(tmp))
		return;
	strcpy(tmp, path);
	int fd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int mycel__read_file(const char *path, size_t max, uint8_t **out, size_t *out_len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? MYCEL_ENOTFOUND : MYCEL_EIO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return MYCEL_EIO;
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return MYCEL_ETOOBIG;
	}
	size_t n = (size_t)st.st_size;
	uint8_t *buf = malloc(n ? n : 1);
	if (buf == NULL) {
		close(fd);
		return MYCEL_ENOMEM;
	}
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got != n) {
		free(buf);
		return MYCEL_EIO;
	}
	*out = buf;
	*out_len = n;
	return 0;
}

int mycel__write_file(const char *path, const void *p, size_t n, unsigned mode)
{
	char tmp[4096];
	if (strlen(path) + 24 >= sizeof(tmp))
		return MYCEL_EINVAL;
	snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
	if (fd < 0)
		return MYCEL_EIO;
	if (mycel__write_all(fd, p, n) != 0 || fsync(fd) != 0) {
		close(fd);
		unlink(tmp);
		return MYCEL_EIO;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return MYCEL_EIO;
	}
	mycel__fsync_dir(path);
	return 0;
}

uint64_t mycel__now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
