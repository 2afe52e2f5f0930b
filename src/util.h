/* util.h — small private helpers shared by libmycel's modules. */
#ifndef MYCEL_UTIL_H
#define MYCEL_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Writes a printf-style reason into why (if not NULL) and returns code. */
int mycel__fail(int code, char *why, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* sodium_init() once, thread-safely; 0 or -1. */
int mycel__sodium_init(void);

/* Writes all n bytes to fd, retrying on EINTR; 0 or -1. */
int mycel__write_all(int fd, const void *p, size_t n);

/* fsyncs the directory holding path, so a new name in it is durable. */
void mycel__fsync_dir(const char *path);

/* Reads a whole file of at most max bytes into malloc'd memory. ENOTFOUND, ETOOBIG, EIO. */
int mycel__read_file(const char *path, size_t max, uint8_t **out, size_t *out_len);

/* Writes a whole file atomically (temp file, fsync, rename, fsync dir), mode as given. */
int mycel__write_file(const char *path, const void *p, size_t n, unsigned mode);

/* Milliseconds since the Unix epoch (wall clock). */
uint64_t mycel__now_ms(void);

/* Big-endian 64-bit store and load. */
static inline void mycel__be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static inline uint64_t mycel__get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

#endif
